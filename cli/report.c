/* report: the whittle.report/v1 JSON document, built from the model. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *image_section(const struct analysis *a)
{
	const struct wh_image *img = &a->img;
	const struct waste *w = &a->waste;
	json_t *o = json_object();
	json_object_set_new(o, "reference", json_string(img->reference));
	json_object_set_new(o, "format", json_string(img->format));
	json_object_set_new(o, "architecture", json_string(img->architecture));
	json_object_set_new(o, "os", json_string(img->os));
	json_object_set_new(o, "config_digest", json_string(img->config_digest));
	json_object_set_new(o, "size_bytes", u64(w->size_bytes));
	json_object_set_new(o, "visible_bytes", u64(w->visible_bytes));
	json_object_set_new(o, "reclaimable_bytes", u64(w->reclaimable_bytes));
	json_object_set_new(o, "efficiency", json_real(w->efficiency));
	json_object_set_new(o, "wasted_bytes", u64(w->wasted_bytes));
	json_object_set_new(o, "user_wasted_percent", json_real(w->user_wasted_percent));
	json_object_set_new(o, "file_count", u64(w->file_count));
	json_t *ineff = json_array();
	for (size_t i = 0; i < w->n_files; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "path", json_string(w->files[i].path));
		json_object_set_new(f, "count", u64(w->files[i].count));
		json_object_set_new(f, "size_bytes", u64(w->files[i].size));
		json_array_append_new(ineff, f);
	}
	json_object_set_new(o, "inefficient_files", ineff);
	json_t *dups = json_array();
	for (size_t i = 0; i < w->n_dups; i++) {
		json_t *d = json_object();
		json_object_set_new(d, "size_bytes", u64(w->dups[i].size));
		json_object_set_new(d, "wasted_bytes", u64(w->dups[i].wasted));
		json_t *ps = json_array();
		for (size_t k = 0; k < w->dups[i].n_paths; k++)
			json_array_append_new(ps, json_string(w->dups[i].paths[k]));
		json_object_set_new(d, "paths", ps);
		json_array_append_new(dups, d);
	}
	json_object_set_new(o, "duplicates", dups);
	return o;
}

static json_t *layers_section(const struct analysis *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->img.n_layers; i++) {
		const struct wh_layer *l = &a->img.layers[i];
		json_t *o = json_object();
		json_object_set_new(o, "index", u64(i));
		json_object_set_new(o, "digest", json_string(l->digest));
		json_object_set_new(o, "diff_id", json_string(l->diff_id));
		json_object_set_new(o, "command", json_string(l->command ? l->command : ""));
		json_object_set_new(o, "size_bytes", u64(l->size_bytes));
		json_object_set_new(o, "added", u64(l->added));
		json_object_set_new(o, "modified", u64(l->modified));
		json_object_set_new(o, "removed", u64(l->removed));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *report_build(const struct analysis *a, const struct cli_opts *o)
{
	(void)o;
	json_t *doc = json_object();
	json_object_set_new(doc, "schema", json_string("whittle.report/v1"));
	json_object_set_new(doc, "image", image_section(a));
	json_object_set_new(doc, "layers", layers_section(a));
	return doc;
}

/* Write to a temporary file beside dest, then rename: never a partial report. */
int report_write(json_t *doc, const char *dest, struct wh_error *err)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	if (!text)
		return wh_err(err, WH_EOUTPUT, "could not serialize the report");
	size_t n = strlen(text);
	int rc = 0;
	if (!strcmp(dest, "-")) {
		if (fwrite(text, 1, n, stdout) != n || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
			rc = wh_err(err, WH_EOUTPUT, "writing the report to standard output: %s", strerror(errno));
		free(text);
		return rc;
	}
	char *tmp = xasprintf("%s.tmp.XXXXXX", dest);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", dest, strerror(errno));
		goto out;
	}
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, text + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = wh_err(err, WH_EOUTPUT, "%s: %s", dest, strerror(errno));
			break;
		}
		done += (size_t)w;
	}
	if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", dest, strerror(errno));
	fchmod(fd, 0644);
	if (close(fd) != 0 && rc == 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", dest, strerror(errno));
	if (rc == 0 && rename(tmp, dest) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", dest, strerror(errno));
	if (rc != 0)
		unlink(tmp);
out:
	free(tmp);
	free(text);
	return rc;
}
