#include "slimmer/slim_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/oci_layout.h"
#include "analyzer/tmpfiles.h"

#define JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* --- destination ------------------------------------------------------------------ */

enum dest_kind { D_OCI, D_OCI_ARCHIVE, D_DOCKER_ARCHIVE };

struct dest {
	enum dest_kind kind;
	char *path;
	char *tag;   /* oci: ref.name annotation; docker-archive: NAME:TAG for RepoTags */
};

static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int parse_dest(const char *ref, struct dest *d, struct wh_error *err)
{
	memset(d, 0, sizeof *d);
	const char *rest;
	if (starts(ref, "oci:")) {
		d->kind = D_OCI;
		rest = ref + 4;
	} else if (starts(ref, "oci-archive:")) {
		d->kind = D_OCI_ARCHIVE;
		rest = ref + 12;
	} else if (starts(ref, "docker-archive:")) {
		d->kind = D_DOCKER_ARCHIVE;
		rest = ref + 15;
	} else if (strchr(ref, ':') && !strchr(ref, '/') && access(ref, F_OK) != 0) {
		return wh_err(err, WH_EINPUT, "--output %s: write oci:DIR[:TAG], oci-archive:FILE[:TAG] or "
		              "docker-archive:FILE[:NAME:TAG]", ref);
	} else {
		d->kind = D_OCI_ARCHIVE; /* a bare path */
		rest = ref;
	}
	const char *c = strchr(rest, ':');
	if (c && access(rest, F_OK) != 0) {
		d->path = xstrndup(rest, (size_t)(c - rest));
		if (c[1])
			d->tag = xstrdup(c + 1);
	} else {
		d->path = xstrdup(rest);
	}
	if (!d->path[0])
		return wh_err(err, WH_EINPUT, "--output %s: no path", ref);
	if (d->tag && d->kind == D_DOCKER_ARCHIVE && !strchr(d->tag, ':')) {
		char *t = xasprintf("%s:latest", d->tag);
		free(d->tag);
		d->tag = t;
	}
	if (d->tag && d->kind == D_DOCKER_ARCHIVE && strchr(d->tag, '@'))
		return wh_err(err, WH_EINPUT, "--output %s: docker-archive takes NAME:TAG, not a digest", ref);
	return 0;
}

static void dest_free(struct dest *d)
{
	free(d->path);
	free(d->tag);
}

/* An engine or registry source (spooled): NAME from the reference
 * ("docker://h/r/NAME:T", "docker-daemon:NAME:T", "sha256:ID" -> 12 hex). */
static char *spooled_name(const char *ref)
{
	const char *s = ref;
	if (!strncmp(s, "docker-daemon:", 14))
		s += 14;
	else if (!strncmp(s, "docker://", 9))
		s += 9;
	if (!strncmp(s, "sha256:", 7))
		return xstrndup(s + 7, 12);
	char *n = xstrndup(s, strcspn(s, "@"));
	char *base = strrchr(n, '/');
	base = base ? base + 1 : n;
	base[strcspn(base, ":")] = 0;
	char *out = xstrdup(*base ? base : "image");
	free(n);
	return out;
}

char *slim_default_output(const struct wh_image *img)
{
	if (img->spool) {
		/* the source is a temporary copy: write into the current directory */
		char *name = spooled_name(img->reference ? img->reference : "image");
		char *out = xasprintf("oci-archive:%s-slim.tar", name);
		free(name);
		return out;
	}
	char *p = xstrdup(img->path ? img->path : "image");
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	char *base = strrchr(p, '/');
	char *dir = base ? xstrndup(p, (size_t)(base - p) + 1) : xstrdup("");
	base = base ? base + 1 : p;
	size_t bl = strlen(base);
	if (bl > 4 && !strcmp(base + bl - 4, ".tar"))
		base[bl - 4] = 0;
	char *out = xasprintf("oci-archive:%s%s-slim.tar", dir, base);
	free(dir);
	free(p);
	return out;
}

/* --- small file helpers ------------------------------------------------------------ */

static const char *hex_of(const char *digest)
{
	return digest + 7; /* after "sha256:" */
}

/* --- JSON ------------------------------------------------------------------------------ */

static void fmt_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *slim_config_json(const struct analysis *a, const struct slim_plan *p, const struct slim_layer *l,
                       int have_sde, int64_t sde)
{
	const struct wh_image *img = &a->img;
	json_t *src = img->config;
	json_t *cfg = json_object();
	char created[32];
	const char *created_s = NULL;
	if (have_sde) {
		fmt_time(sde, created);
		created_s = created;
	} else if (json_is_string(json_object_get(src, "created"))) {
		created_s = json_string_value(json_object_get(src, "created"));
	}
	json_object_set_new(cfg, "architecture", json_string(img->architecture ? img->architecture : ""));
	json_object_set_new(cfg, "os", json_string(img->os ? img->os : ""));
	if (img->variant && *img->variant)
		json_object_set_new(cfg, "variant", json_string(img->variant));
	if (created_s)
		json_object_set_new(cfg, "created", json_string(created_s));
	json_t *cc = json_object();
	static const char *keep[] = {"Entrypoint", "Cmd", "Env", "WorkingDir", "User", "ExposedPorts", "Volumes",
	                             "StopSignal"};
	json_t *scc = json_object_get(src, "config");
	for (size_t i = 0; i < ARRAY_LEN(keep); i++) {
		json_t *v = json_object_get(scc, keep[i]);
		if (v && !json_is_null(v))
			json_object_set_new(cc, keep[i], json_deep_copy(v));
	}
	json_t *labels = json_object_get(scc, "Labels");
	labels = json_is_object(labels) ? json_deep_copy(labels) : json_object();
	json_object_set_new(labels, SLIM_LABEL_SOURCE, json_string(img->config_digest));
	json_object_set_new(cc, "Labels", labels);
	json_object_set_new(cfg, "config", cc);
	json_t *rootfs = json_object();
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_t *ids = json_array();
	json_array_append_new(ids, json_string(l->diff_id));
	json_object_set_new(rootfs, "diff_ids", ids);
	json_object_set_new(cfg, "rootfs", rootfs);
	json_t *hist = json_array();
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(src, "history"), i, h)
	{
		if (!json_is_object(h))
			continue;
		json_t *c = json_deep_copy(h);
		json_object_set_new(c, "empty_layer", json_true());
		json_array_append_new(hist, c);
	}
	json_t *mine = json_object();
	if (created_s)
		json_object_set_new(mine, "created", json_string(created_s));
	char kb[32], ib[32];
	fmt_size(kb, sizeof kb, p->kept_bytes);
	fmt_size(ib, sizeof ib, p->input_bytes);
	char *by = xasprintf("whittle %s: squashed %zu layers into one; kept %llu of %llu entries, %s of %s",
	                     WH_VERSION, img->n_layers, (unsigned long long)p->kept_entries,
	                     (unsigned long long)p->input_entries, kb, ib);
	json_object_set_new(mine, "created_by", json_string(by));
	free(by);
	json_object_set_new(mine, "comment", json_string("whittle"));
	json_array_append_new(hist, mine);
	json_object_set_new(cfg, "history", hist);
	char *s = json_dumps(cfg, JSON_FLAGS);
	json_decref(cfg);
	return s;
}

/* --- archives ------------------------------------------------------------------------------ */

struct member {
	char *name;      /* in the archive; a trailing "/" for directories */
	char *file;      /* host file holding the bytes, or NULL with data */
	const void *data;
	size_t len;
};

static int cmp_member(const void *x, const void *y)
{
	return strcmp(((const struct member *)x)->name, ((const struct member *)y)->name);
}

struct ar_ctx {
	struct wh_error err;
	int fd;
	struct slim_ticker *tick;
	uint64_t done, total; /* member bytes */
};

static la_ssize_t ar_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	struct ar_ctx *c = ctx;
	if (slim_write_all(c->fd, buf, n, "the output archive", &c->err) < 0)
		return -1;
	return (la_ssize_t)n;
}

static void ar_tick(struct ar_ctx *c, uint64_t n)
{
	c->done += n;
	slim_tick(c->tick, SLIM_PHASE_PACK, 0, 1, c->done, c->total);
}

/* An uncompressed tar of the members, sorted by name, mtime 0, root-owned. */
static int write_archive(const char *path, struct member *m, size_t n, struct slim_ticker *tick,
                         struct wh_error *err)
{
	qsort(m, n, sizeof *m, cmp_member);
	struct ar_ctx ctx = {.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), .tick = tick};
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		ctx.total += m[i].file ? (stat(m[i].file, &st) == 0 ? (uint64_t)st.st_size : 0) : m[i].len;
	}
	slim_tick(tick, SLIM_PHASE_PACK, 0, 1, 0, ctx.total);
	if (ctx.fd < 0)
		return wh_err(err, WH_EOUTPUT, "%s: %s", path, strerror(errno));
	struct archive *a = archive_write_new();
	int rc = 0;
	uint8_t *chunk = xmalloc(256 * 1024);
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &ctx, NULL, ar_write_cb, NULL) != ARCHIVE_OK) {
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	struct archive_entry *e = archive_entry_new();
	for (size_t i = 0; i < n && rc == 0; i++) {
		archive_entry_clear(e);
		archive_entry_copy_pathname(e, m[i].name);
		archive_entry_set_mtime(e, 0, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		size_t nl = strlen(m[i].name);
		int fd = -1;
		uint64_t size = m[i].len;
		if (m[i].name[nl - 1] == '/') {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			size = 0;
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			if (m[i].file) {
				struct stat st;
				fd = open(m[i].file, O_RDONLY | O_CLOEXEC);
				if (fd < 0 || fstat(fd, &st) != 0) {
					rc = wh_err(err, WH_EOUTPUT, "%s: %s", m[i].file, strerror(errno));
					if (fd >= 0)
						close(fd);
					break;
				}
				size = (uint64_t)st.st_size;
			}
			archive_entry_set_size(e, (la_int64_t)size);
		}
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			rc = ctx.err.code ? ctx.err.code : wh_err(err, WH_EOUTPUT, "%s: %s", path, archive_error_string(a));
			if (fd >= 0)
				close(fd);
			break;
		}
		if (fd >= 0) {
			uint64_t done = 0;
			while (done < size && rc == 0) {
				ssize_t r = read(fd, chunk, 256 * 1024);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					rc = wh_err(err, WH_EOUTPUT, "%s: %s", m[i].file, r < 0 ? strerror(errno) : "short read");
					break;
				}
				if (archive_write_data(a, chunk, (size_t)r) != r)
					rc = ctx.err.code ? ctx.err.code
					                  : wh_err(err, WH_EOUTPUT, "%s: %s", path, archive_error_string(a));
				done += (uint64_t)r;
				ar_tick(&ctx, (uint64_t)r);
			}
			close(fd);
		} else if (size && archive_write_data(a, m[i].data, size) != (la_ssize_t)size) {
			rc = ctx.err.code ? ctx.err.code : wh_err(err, WH_EOUTPUT, "%s: %s", path, archive_error_string(a));
		} else {
			ar_tick(&ctx, size);
		}
	}
	archive_entry_free(e);
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = ctx.err.code ? ctx.err.code : wh_err(err, WH_EOUTPUT, "%s: %s", path, archive_error_string(a));
out:
	archive_write_free(a);
	free(chunk);
	if (rc == 0 && fsync(ctx.fd) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: fsync: %s", path, strerror(errno));
	if (close(ctx.fd) != 0 && rc == 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", path, strerror(errno));
	if (rc < 0 && ctx.err.code && err && !err->code)
		*err = ctx.err;
	return rc;
}

/* --- verification ----------------------------------------------------------------------------- */

/* The read back runs on a thread of its own while the calling thread
 * reports its progress: the progress callback is always called on the
 * writing thread (the explorer draws from it). */
struct vread {
	struct wh_image *img;
	int jobs;
	int rc;
	struct wh_error err;
	_Atomic uint64_t bytes;
	_Atomic int finished;
};

static void vread_progress(void *ctx, size_t done, size_t n, uint64_t bytes, uint64_t total)
{
	(void)done;
	(void)n;
	(void)total;
	atomic_store(&((struct vread *)ctx)->bytes, bytes);
}

static void *vread_run(void *arg)
{
	struct vread *v = arg;
	struct index_progress ip = {.cb = vread_progress, .ctx = v};
	v->rc = layer_index_all(v->img, v->jobs, &ip, &v->err);
	atomic_store(&v->finished, 1);
	return NULL;
}

static int verify_index(struct wh_image *img, int jobs, struct slim_ticker *tick, struct wh_error *e2)
{
	if (!tick->p)
		return layer_index_all(img, jobs, NULL, e2);
	uint64_t total = 0;
	for (size_t i = 0; i < img->n_layers; i++)
		total += img->layers[i].blob.length;
	slim_tick(tick, SLIM_PHASE_VERIFY, 0, 1, 0, total);
	struct vread v = {.img = img, .jobs = jobs};
	atomic_init(&v.bytes, 0);
	atomic_init(&v.finished, 0);
	pthread_t th;
	if (pthread_create(&th, NULL, vread_run, &v) != 0)
		return layer_index_all(img, jobs, NULL, e2);
	while (!atomic_load(&v.finished)) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
		slim_tick(tick, SLIM_PHASE_VERIFY, 0, 1, atomic_load(&v.bytes), total);
	}
	pthread_join(th, NULL);
	if (v.rc < 0)
		*e2 = v.err;
	return v.rc;
}

static int verify(const char *ref, const struct slim_plan *p, const struct slim_result *r, int jobs,
                  struct slim_ticker *tick, struct wh_error *err)
{
	struct wh_image img;
	struct wh_error e2 = {0};
	int rc = image_open(ref, NULL, &img, &e2);
	if (rc < 0)
		return wh_err(err, WH_EOUTPUT, "verifying the output: %s", e2.msg);
	rc = verify_index(&img, jobs > 0 ? jobs : 1, tick, &e2);
	if (rc < 0) {
		rc = wh_err(err, WH_EOUTPUT, "verifying the output: %s", e2.msg);
		goto out;
	}
	if (strcmp(img.config_digest, r->config_digest) != 0) {
		rc = wh_err(err, WH_EOUTPUT, "verifying the output: config digest %s, written %s", img.config_digest,
		            r->config_digest);
		goto out;
	}
	if (img.n_layers != 1) {
		rc = wh_err(err, WH_EOUTPUT, "verifying the output: %zu layers, written 1", img.n_layers);
		goto out;
	}
	const struct wh_layer *l = &img.layers[0];
	if (strcmp(l->digest, r->layer.digest) || strcmp(l->diff_id, r->layer.diff_id)) {
		rc = wh_err(err, WH_EOUTPUT, "verifying the output: layer %s (diff_id %s), written %s (diff_id %s)",
		            l->digest, l->diff_id, r->layer.digest, r->layer.diff_id);
		goto out;
	}
	if (r->manifest_digest[0] && img.manifest_digest[0] && strcmp(img.manifest_digest, r->manifest_digest)) {
		rc = wh_err(err, WH_EOUTPUT, "verifying the output: manifest %s, written %s", img.manifest_digest,
		            r->manifest_digest);
		goto out;
	}
	if (l->n_entries != p->n) {
		rc = wh_err(err, WH_EOUTPUT, "verifying the output: %zu entries read back, %zu planned", l->n_entries,
		            p->n);
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct wh_entry *e = &l->entries[i];
		const struct slim_entry *se = &p->v[i];
		uint64_t size = se->type == WH_T_REG ? (se->content ? se->content_len : se->size) : 0;
		if (strcmp(e->path, se->path) || e->type != se->type || (e->type == WH_T_REG && e->size != size)) {
			rc = wh_err(err, WH_EOUTPUT, "verifying the output: entry %zu is /%s (type %d), planned /%s (type %d)",
			            i, e->path, e->type, se->path, se->type);
			goto out;
		}
	}
out:
	for (size_t i = 0; i < img.n_layers; i++)
		layer_entries_free(&img.layers[i]);
	image_free(&img);
	return rc;
}

/* --- the whole image, in stages ------------------------------------------------------------ */

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

struct stage {
	struct analysis *a;
	const struct slim_plan *p;
	const struct slim_image_opts *o;
	struct slim_result *r;
	struct dest d;
	enum slim_compression comp;
	int have_sde;
	int64_t sde;
	int add_to_layout, replace_empty_dir; /* oci: an existing layout, an empty directory */
	char *parent;  /* the destination's directory */
	char *tmp;     /* .whittle-tmp.XXXXXX in it (tmpfiles: locked, removed on any exit) */
	char *layout;  /* tmp/layout: the image as an OCI layout */
	char *cfg, *man;
	char man_digest[WH_DIGEST_LEN];
	json_t *desc;  /* the manifest's descriptor */
	char *archive; /* tmp/out.tar: the archive forms */
	struct slim_ticker tick;
};

static void stage_free(struct stage *s)
{
	tmpfiles_remove(s->tmp);
	free(s->tmp);
	free(s->parent);
	free(s->layout);
	free(s->cfg);
	free(s->man);
	free(s->archive);
	json_decref(s->desc);
	dest_free(&s->d);
}

static int stage_options(struct stage *s, struct wh_error *err)
{
	int rc = parse_dest(s->o->output, &s->d, err);
	if (rc < 0)
		return rc;
	const char *cname = s->o->compression ? s->o->compression : s->d.kind == D_DOCKER_ARCHIVE ? "none" : "gzip";
	if (slim_compression_parse(cname, &s->comp) < 0)
		return wh_err(err, WH_EINPUT, "--compression %s: gzip, zstd or none", cname);
	s->have_sde = slim_source_date_epoch(&s->sde, err);
	return s->have_sde < 0 ? s->have_sde : 0;
}

/* PATH as it will be written: its directory with every symlink resolved,
 * then its last component (a symlink there is replaced, not followed).
 * NULL when the directory does not exist. */
static char *resolved_dest(const char *path)
{
	char *c1 = xstrdup(path), *c2 = xstrdup(path);
	const char *dir = dirname(c1), *base = basename(c2);
	char *out = NULL;
	if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/")) {
		out = realpath(path, NULL);
	} else {
		char *rd = realpath(dir, NULL);
		if (rd)
			out = xasprintf("%s/%s", strcmp(rd, "/") ? rd : "", base);
		free(rd);
	}
	free(c1);
	free(c2);
	return out;
}

/* Never the input: not the input archive, not the input layout, not any
 * path under the input layout, after resolving symlinks (--force or not). */
static int check_not_input(const struct stage *s, struct wh_error *err)
{
	const struct wh_image *img = &s->a->img;
	if (!img->path || img->spool)
		return 0;
	if (same_file(s->d.path, img->path))
		return wh_err(err, WH_EOUTPUT, "%s: that is the input image; whittle never writes its input", s->d.path);
	char *in = realpath(img->path, NULL), *out = resolved_dest(s->d.path);
	int rc = 0;
	size_t n = in ? strlen(in) : 0;
	if (in && out && (!strcmp(in, out) || (!img->is_archive && !strncmp(out, in, n) && out[n] == '/')))
		rc = wh_err(err, WH_EOUTPUT,
		            "%s: inside the input image %s; whittle never writes into its input (--force or not)",
		            s->d.path, img->path);
	free(in);
	free(out);
	return rc;
}

/* Where: never the input; an existing destination only with --force (an
 * OCI layout is added to, which replaces nothing). */
static int check_destination(struct stage *s, struct wh_error *err)
{
	int rc = check_not_input(s, err);
	if (rc < 0)
		return rc;
	const struct dest *d = &s->d;
	struct stat st;
	int exists = lstat(d->path, &st) == 0;
	if (d->kind == D_OCI) {
		if (exists && !S_ISDIR(st.st_mode))
			return wh_err(err, WH_EOUTPUT, "%s: exists and is not a directory (oci: writes an OCI layout directory)",
			              d->path);
		if (exists && oci_layout_is(d->path))
			s->add_to_layout = 1;
		else if (exists && dir_is_empty(d->path))
			s->replace_empty_dir = 1;
		else if (exists)
			return wh_err(err, WH_EOUTPUT, "%s: a directory that is not an OCI layout and not empty; "
			              "whittle will not write into it", d->path);
	} else if (exists && S_ISDIR(st.st_mode)) {
		return wh_err(err, WH_EOUTPUT, "%s: is a directory; %s writes a file", d->path,
		              d->kind == D_OCI_ARCHIVE ? "oci-archive:" : "docker-archive:");
	} else if (exists && !s->o->force) {
		return wh_err(err, WH_EOUTPUT, "%s: exists; use --force to replace it", d->path);
	}
	return 0;
}

/* The temporary directory beside the destination, and a layout in it. */
static int stage_tmp(struct stage *s, struct wh_error *err)
{
	char *dcopy = xstrdup(s->d.path);
	s->parent = xstrdup(dirname(dcopy));
	free(dcopy);
	int rc = tmpfiles_mkdtemp(s->parent, TMPFILES_STAGE_PREFIX, WH_EOUTPUT, &s->tmp, err);
	if (rc < 0)
		return rc;
	s->layout = xasprintf("%s/layout", s->tmp);
	return oci_layout_create(s->layout, 0755, err);
}

/* The layer, written to tmp/layer, then a blob of the layout. */
static int stage_layer(struct stage *s, struct wh_error *err)
{
	char *layer_tmp = xasprintf("%s/layer", s->tmp);
	int fd = open(layer_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc = 0;
	if (fd < 0) {
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", layer_tmp, strerror(errno));
		free(layer_tmp);
		return rc;
	}
	struct slim_layer_opts lo = {.compression = s->comp, .clamp_mtime = s->have_sde, .sde = s->sde,
	                             .spool_dir = s->tmp, .progress = s->o->progress};
	rc = slim_write_layer(s->a, s->p, &lo, fd, &s->r->layer, err);
	if (rc == 0 && fsync(fd) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: fsync: %s", layer_tmp, strerror(errno));
	close(fd);
	if (rc == 0)
		rc = oci_layout_put_blob_file(s->layout, s->r->layer.digest, layer_tmp, err);
	free(layer_tmp);
	return rc;
}

/* Config, manifest and the layout's index.json. */
static int stage_config_manifest(struct stage *s, struct wh_error *err)
{
	struct slim_result *r = s->r;
	s->cfg = slim_config_json(s->a, s->p, &r->layer, s->have_sde, s->sde);
	digest_buf(s->cfg, strlen(s->cfg), r->config_digest);
	int rc = oci_layout_put_blob(s->layout, r->config_digest, s->cfg, strlen(s->cfg), err);
	if (rc < 0)
		return rc;
	json_t *mj = json_object();
	json_object_set_new(mj, "schemaVersion", json_integer(2));
	json_object_set_new(mj, "mediaType", json_string(OCI_MT_MANIFEST));
	json_object_set_new(mj, "config", oci_layout_descriptor(OCI_MT_CONFIG, r->config_digest, strlen(s->cfg)));
	json_t *ls = json_array();
	json_array_append_new(ls, oci_layout_descriptor(r->layer.media_type, r->layer.digest, r->layer.size));
	json_object_set_new(mj, "layers", ls);
	s->man = json_dumps(mj, JSON_FLAGS);
	json_decref(mj);
	digest_buf(s->man, strlen(s->man), s->man_digest);
	if ((rc = oci_layout_put_blob(s->layout, s->man_digest, s->man, strlen(s->man), err)) < 0)
		return rc;
	if (s->d.kind != D_DOCKER_ARCHIVE)
		snprintf(r->manifest_digest, sizeof r->manifest_digest, "%s", s->man_digest);
	s->desc = oci_layout_descriptor(OCI_MT_MANIFEST, s->man_digest, strlen(s->man));
	const char *tag = s->d.kind != D_DOCKER_ARCHIVE ? s->d.tag : NULL;
	rc = oci_layout_put_index(s->layout, s->desc, tag, err);
	/* a private layout needs no lock: a new oci: output has no lock file */
	char *lock = xasprintf("%s/%s", s->layout, OCI_LAYOUT_LOCK);
	unlink(lock);
	free(lock);
	char *sha = xasprintf("%s/blobs/sha256", s->layout);
	if (rc == 0)
		rc = oci_layout_fsync(sha, err);
	free(sha);
	return rc;
}

static char *blob_file(const char *layout, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", layout, hex_of(digest));
}

static int package_oci_archive(struct stage *s, struct wh_error *err)
{
	const struct slim_result *r = s->r;
	static const char layout_json[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char *lp = blob_file(s->layout, r->layer.digest);
	char *idx = oci_layout_index_text(s->desc, s->d.tag);
	char *mn[3] = {xasprintf("blobs/sha256/%s", hex_of(r->layer.digest)),
	               xasprintf("blobs/sha256/%s", hex_of(r->config_digest)),
	               xasprintf("blobs/sha256/%s", hex_of(s->man_digest))};
	struct member m[] = {
		{.name = "blobs/"}, {.name = "blobs/sha256/"},
		{.name = mn[0], .file = lp}, {.name = mn[1], .data = s->cfg, .len = strlen(s->cfg)},
		{.name = mn[2], .data = s->man, .len = strlen(s->man)},
		{.name = "index.json", .data = idx, .len = strlen(idx)},
		{.name = "oci-layout", .data = layout_json, .len = strlen(layout_json)},
	};
	int rc = write_archive(s->archive, m, ARRAY_LEN(m), &s->tick, err);
	for (int i = 0; i < 3; i++)
		free(mn[i]);
	free(idx);
	free(lp);
	return rc;
}

static int package_docker_archive(struct stage *s, struct wh_error *err)
{
	const struct slim_result *r = s->r;
	const char *ext = s->comp == SLIM_COMP_GZIP ? ".tar.gz" : s->comp == SLIM_COMP_ZSTD ? ".tar.zst" : ".tar";
	char *lp = blob_file(s->layout, r->layer.digest);
	char *cname = xasprintf("%s.json", hex_of(r->config_digest));
	char *lname = xasprintf("%s%s", hex_of(r->layer.digest), ext);
	json_t *dm = json_array(), *one = json_object(), *tags = json_array(), *lay = json_array();
	json_object_set_new(one, "Config", json_string(cname));
	if (s->d.tag)
		json_array_append_new(tags, json_string(s->d.tag));
	json_object_set_new(one, "RepoTags", tags);
	json_array_append_new(lay, json_string(lname));
	json_object_set_new(one, "Layers", lay);
	json_array_append_new(dm, one);
	char *dman = json_dumps(dm, JSON_FLAGS);
	json_decref(dm);
	struct member m[] = {
		{.name = cname, .data = s->cfg, .len = strlen(s->cfg)},
		{.name = lname, .file = lp},
		{.name = "manifest.json", .data = dman, .len = strlen(dman)},
	};
	int rc = write_archive(s->archive, m, ARRAY_LEN(m), &s->tick, err);
	free(cname);
	free(lname);
	free(dman);
	free(lp);
	return rc;
}

/* Package as the destination's form, read it back and compare, then the
 * caller's hook on the staged output (before anything is committed). */
static int package_and_verify(struct stage *s, struct wh_error *err)
{
	int rc = 0;
	char *ref;
	if (s->d.kind == D_OCI) {
		ref = xasprintf("oci:%s", s->layout);
	} else {
		s->archive = xasprintf("%s/out.tar", s->tmp);
		rc = s->d.kind == D_OCI_ARCHIVE ? package_oci_archive(s, err) : package_docker_archive(s, err);
		ref = xasprintf("%s:%s", s->d.kind == D_OCI_ARCHIVE ? "oci-archive" : "docker-archive", s->archive);
	}
	if (rc == 0)
		rc = verify(ref, s->p, s->r, s->o->jobs, &s->tick, err);
	if (rc == 0 && s->o->before_commit)
		rc = s->o->before_commit(s->o->before_commit_ctx, ref, err);
	free(ref);
	return rc;
}

/* Add the image to an existing layout: blobs first, then the index under
 * the layout's lock (oci_layout). */
static int commit_add_to_layout(struct stage *s, struct wh_error *err)
{
	const char *dg[3] = {s->r->layer.digest, s->r->config_digest, s->man_digest};
	char *dblobs = xasprintf("%s/blobs", s->d.path), *dsha = xasprintf("%s/blobs/sha256", s->d.path);
	mkdir(dblobs, 0755);
	mkdir(dsha, 0755);
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		char *from = blob_file(s->layout, dg[i]);
		rc = oci_layout_put_blob_file(s->d.path, dg[i], from, err);
		free(from);
	}
	if (rc == 0)
		rc = oci_layout_fsync(dsha, err);
	if (rc == 0)
		rc = oci_layout_put_index(s->d.path, s->desc, s->d.tag, err);
	free(dblobs);
	free(dsha);
	return rc;
}

static int commit(struct stage *s, struct wh_error *err)
{
	const struct dest *d = &s->d;
	int rc = 0;
	if (d->kind != D_OCI) {
		unsigned flags = s->o->force ? 0 : RENAME_NOREPLACE;
		if (renameat2(AT_FDCWD, s->archive, AT_FDCWD, d->path, flags) != 0)
			rc = wh_err(err, WH_EOUTPUT, "%s: %s%s", d->path, strerror(errno),
			            errno == EEXIST ? " (use --force to replace it)" : "");
	} else if (!s->add_to_layout) {
		if (s->replace_empty_dir)
			rmdir(d->path);
		if (renameat2(AT_FDCWD, s->layout, AT_FDCWD, d->path, RENAME_NOREPLACE) != 0) {
			/* another run made the layout meanwhile: add to it */
			if ((errno == EEXIST || errno == ENOTEMPTY) && oci_layout_is(d->path))
				rc = commit_add_to_layout(s, err);
			else
				rc = wh_err(err, WH_EOUTPUT, "%s: %s", d->path, strerror(errno));
		}
	} else {
		rc = commit_add_to_layout(s, err);
	}
	if (rc == 0)
		rc = oci_layout_fsync(s->parent, err);
	if (rc < 0)
		return rc;
	const char *kind = d->kind == D_OCI ? "oci" : d->kind == D_OCI_ARCHIVE ? "oci-archive" : "docker-archive";
	s->r->output = d->tag ? xasprintf("%s:%s:%s", kind, d->path, d->tag) : xasprintf("%s:%s", kind, d->path);
	return 0;
}

int slim_image_write(struct analysis *a, const struct slim_plan *p, const struct slim_image_opts *o,
                     struct slim_result *r, struct wh_error *err)
{
	memset(r, 0, sizeof *r);
	struct stage s = {.a = a, .p = p, .o = o, .r = r};
	slim_ticker_init(&s.tick, &o->progress);
	int rc = stage_options(&s, err);
	if (rc == 0)
		rc = check_destination(&s, err);
	if (rc == 0)
		rc = stage_tmp(&s, err);
	if (rc == 0)
		rc = stage_layer(&s, err);
	if (rc == 0)
		rc = stage_config_manifest(&s, err);
	if (rc == 0) {
		r->visible_bytes = p->kept_bytes;
		r->compression = s.comp;
		r->entries = p->n;
		rc = package_and_verify(&s, err);
	}
	if (rc == 0)
		rc = commit(&s, err);
	if (rc == 0)
		r->format = xstrdup(s.d.kind == D_OCI ? "oci" : s.d.kind == D_OCI_ARCHIVE ? "oci-archive" : "docker-archive");
	stage_free(&s);
	return rc;
}

void slim_result_free(struct slim_result *r)
{
	free(r->output);
	free(r->format);
	memset(r, 0, sizeof *r);
}
