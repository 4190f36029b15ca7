/* report: the whittle.report/v1 JSON document, built from the model. */
#include "cli/cli.h"
#include "analyzer/reach.h"

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
	struct tree_truncated *tv;
	size_t tn = tree_truncated(&a->tree, &tv);
	json_t *tr = json_array();
	for (size_t i = 0; i < tn; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "path", json_string(tv[i].path));
		json_object_set_new(f, "size_bytes", u64(tv[i].size));
		json_object_set_new(f, "captured_bytes", u64(tv[i].captured));
		json_array_append_new(tr, f);
	}
	tree_truncated_free(tv, tn);
	json_object_set_new(o, "truncated", tr);
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

/* ---- reach ---- */

struct kept_row {
	char *path;
	const struct reach_item *it;
};

static int cmp_kept(const void *a, const void *b)
{
	return strcmp(((const struct kept_row *)a)->path, ((const struct kept_row *)b)->path);
}

/* reach.uncertain, or reach.settled_by_probe (with the probe that settled each) */
static json_t *uncertain_json(const struct reach_uncertain *v, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_object(), *h = json_array();
		json_object_set_new(x, "path", json_string(v[i].path));
		json_object_set_new(x, "why", json_string(v[i].why));
		for (size_t k = 0; k < v[i].n_hint; k++)
			json_array_append_new(h, json_string(v[i].hint[k]));
		json_object_set_new(x, "hint", h);
		if (v[i].settled_by)
			json_object_set_new(x, "probe", json_string(v[i].settled_by));
		json_array_append_new(list, x);
	}
	return list;
}


json_t *report_reach(const struct reach *r, const struct slim_figures *fg, int files)
{
	json_t *o = json_object();
	json_t *roots = json_array();
	for (size_t i = 0; i < r->n_roots; i++)
		json_array_append_new(roots, json_string(r->roots[i]));
	json_object_set_new(o, "roots", roots);
	/* the written image's figures (as --auto and the explorer say them) */
	json_object_set_new(o, "kept_files", u64(fg ? fg->files : r->kept_files));
	json_object_set_new(o, "kept_bytes", u64(fg ? fg->bytes : r->kept_bytes));
	json_object_set_new(o, "removable_bytes",
	                    u64(fg ? (fg->input_bytes > fg->bytes ? fg->input_bytes - fg->bytes : 0) : r->removable_bytes));
	json_t *rules = json_array();
	for (size_t i = 0; i < sizeof r->rules / sizeof r->rules[0]; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "name", json_string(r->rules[i].name));
		json_object_set_new(x, "enabled", json_boolean(r->rules[i].enabled));
		json_object_set_new(x, "files", u64(r->rules[i].files));
		json_object_set_new(x, "bytes", u64(r->rules[i].bytes));
		json_array_append_new(rules, x);
	}
	json_object_set_new(o, "rules", rules);
	json_t *un = json_array();
	for (size_t i = 0; i < r->n_unresolved; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "path", json_string(r->unresolved[i].path));
		json_object_set_new(x, "needs", json_string(r->unresolved[i].needs));
		json_array_append_new(un, x);
	}
	json_object_set_new(o, "unresolved", un);
	json_t *lc = json_array();
	for (size_t i = 0; i < r->n_loads_code; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "path", json_string(r->loads_code[i]));
		json_array_append_new(lc, x);
	}
	json_object_set_new(o, "loads_code_at_run_time", lc);
	json_object_set_new(o, "uncertain", uncertain_json(r->uncertain, r->n_uncertain));
	json_object_set_new(o, "settled_by_probe", uncertain_json(r->settled, r->n_settled));
	json_t *dd = json_array();
	for (size_t i = 0; i < r->n_data_dirs; i++) {
		const struct reach_data_dir *d = &r->data_dirs[i];
		json_t *x = json_object();
		json_object_set_new(x, "path", json_string(d->path));
		json_object_set_new(x, "kind", json_string(d->kind));
		json_object_set_new(x, "kept", json_boolean(d->kept));
		json_object_set_new(x, "files", u64(d->files));
		json_object_set_new(x, "bytes", u64(d->bytes));
		json_object_set_new(x, "why", json_string(d->why));
		json_array_append_new(dd, x);
	}
	json_object_set_new(o, "data_dirs", dd);
	json_t *pd = json_array();
	for (size_t i = 0; i < r->n_partial_dirs; i++) {
		const struct reach_partial_dir *d = &r->partial_dirs[i];
		json_t *x = json_object();
		json_object_set_new(x, "path", json_string(d->path));
		json_object_set_new(x, "named_by", json_string(d->named_by));
		json_object_set_new(x, "kept_members", u64(d->kept));
		json_object_set_new(x, "dropped_members", u64(d->dropped));
		json_object_set_new(x, "dropped_bytes", u64(d->dropped_bytes));
		json_array_append_new(pd, x);
	}
	json_object_set_new(o, "partial_dirs", pd);
	json_t *ul = json_array();
	for (size_t i = 0; i < r->n_unneeded; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "path", json_string(r->unneeded[i].path));
		json_object_set_new(x, "size_bytes", u64(r->unneeded[i].size));
		json_object_set_new(x, "package", r->unneeded[i].package ? json_string(r->unneeded[i].package) : json_null());
		json_array_append_new(ul, x);
	}
	json_object_set_new(o, "unneeded_libraries", ul);
	json_t *pk = json_array();
	for (size_t i = 0; i < r->n_packages; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "name", json_string(r->packages[i].name));
		json_object_set_new(x, "size_bytes", u64(r->packages[i].size));
		json_object_set_new(x, "kept_bytes", u64(r->packages[i].kept));
		json_array_append_new(pk, x);
	}
	json_object_set_new(o, "packages", pk);
	/* packages nothing kept needs: none of their files stay, and no kept root is
	 * their symlink (the list above is by size already, so this keeps its order) */
	json_t *unused = json_array();
	for (size_t i = 0; i < r->n_packages; i++) {
		if (r->packages[i].used)
			continue;
		json_t *x = json_object();
		json_object_set_new(x, "name", json_string(r->packages[i].name));
		json_object_set_new(x, "size_bytes", u64(r->packages[i].size));
		json_array_append_new(unused, x);
	}
	json_object_set_new(o, "unused_packages", unused);
	if (files) {
		struct kept_row *rows = xcalloc(r->n_items + 1, sizeof *rows);
		char p[4096];
		for (size_t i = 0; i < r->n_items; i++) {
			tree_path(r->items[i].node, p, sizeof p);
			rows[i] = (struct kept_row){xstrdup(p), &r->items[i]};
		}
		qsort(rows, r->n_items, sizeof *rows, cmp_kept);
		json_t *kept = json_array();
		for (size_t i = 0; i < r->n_items; i++) {
			json_t *x = json_object();
			json_object_set_new(x, "path", json_string(rows[i].path));
			json_object_set_new(x, "rule", json_string(reach_rule_name(rows[i].it->rule)));
			if (rows[i].it->from) {
				tree_path(rows[i].it->from, p, sizeof p);
				json_object_set_new(x, "from", json_string(p));
			} else {
				json_object_set_new(x, "from", json_null());
			}
			json_array_append_new(kept, x);
			free(rows[i].path);
		}
		free(rows);
		json_object_set_new(o, "kept", kept);
	}
	return o;
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
	/* A device, FIFO or terminal (/dev/null, /dev/stdout, a pipe) is written
	 * in place: renaming a file over it would replace the device itself. */
	struct stat st;
	if (stat(dest, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			free(text);
			return wh_err(err, WH_EOUTPUT, "%s: is a directory", dest);
		}
		FILE *f = fopen(dest, "w");
		if (!f || fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF)
			rc = wh_err(err, WH_EOUTPUT, "%s: %s", dest, strerror(errno));
		if (f && fclose(f) != 0 && rc == 0)
			rc = wh_err(err, WH_EOUTPUT, "%s: %s", dest, strerror(errno));
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
