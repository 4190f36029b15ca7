#include "slim_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define REF_NAME "org.opencontainers.image.ref.name"
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

static int fsync_path(const char *path, struct wh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wh_err(err, WH_EOUTPUT, "%s: %s", path, strerror(errno));
	int r = fsync(fd);
	int e = errno;
	close(fd);
	if (r != 0 && e != EINVAL)
		return wh_err(err, WH_EOUTPUT, "%s: fsync: %s", path, strerror(e));
	return 0;
}

static int write_file(const char *path, const void *data, size_t len, struct wh_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return wh_err(err, WH_EOUTPUT, "%s: %s", path, strerror(errno));
	int rc = slim_write_all(fd, data, len, path, err);
	if (rc == 0 && fsync(fd) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: fsync: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", path, strerror(errno));
	return rc;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

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

static json_t *descriptor(const char *mt, const char *digest, uint64_t size)
{
	json_t *d = json_object();
	json_object_set_new(d, "mediaType", json_string(mt));
	json_object_set_new(d, "digest", json_string(digest));
	json_object_set_new(d, "size", json_integer((json_int_t)size));
	return d;
}

/* --- signals ---------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	slim_interrupted = 1;
}

struct saved_sigs {
	struct sigaction old[3];
};
static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};

static void sigs_install(struct saved_sigs *s)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &s->old[i]);
}

static void sigs_restore(struct saved_sigs *s)
{
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &s->old[i], NULL);
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

/* --- the whole image ------------------------------------------------------------------------- */

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int is_oci_layout(const char *dir)
{
	char *a = xasprintf("%s/oci-layout", dir), *b = xasprintf("%s/index.json", dir);
	int r = access(a, F_OK) == 0 && access(b, F_OK) == 0;
	free(a);
	free(b);
	return r;
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

/* skopeo's rule (containers/image oci layout): a named entry takes the name
 * from any older entry that had it; an unnamed entry of the same digest is
 * replaced; otherwise the entry is appended. */
static void index_add(json_t *index, json_t *desc, const char *tag)
{
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms)) {
		ms = json_array();
		json_object_set_new(index, "manifests", ms);
	}
	size_t i;
	json_t *m;
	if (tag) {
		json_array_foreach(ms, i, m)
		{
			json_t *ann = json_object_get(m, "annotations");
			const char *n = json_string_value(json_object_get(ann, REF_NAME));
			if (n && !strcmp(n, tag)) {
				json_object_del(ann, REF_NAME);
				if (json_object_size(ann) == 0)
					json_object_del(m, "annotations");
				break;
			}
		}
	}
	const char *dg = json_string_value(json_object_get(desc, "digest"));
	json_array_foreach(ms, i, m)
	{
		const char *n = json_string_value(json_object_get(json_object_get(m, "annotations"), REF_NAME));
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (d && !strcmp(d, dg) && (!n || !*n)) {
			json_array_set(ms, i, desc);
			return;
		}
	}
	json_array_append(ms, desc);
}

int slim_image_write(struct analysis *a, const struct slim_plan *p, const struct slim_image_opts *o,
                     struct slim_result *r, struct wh_error *err)
{
	memset(r, 0, sizeof *r);
	struct dest d;
	int rc = parse_dest(o->output, &d, err);
	if (rc < 0) {
		dest_free(&d);
		return rc;
	}
	enum slim_compression comp;
	const char *cname = o->compression ? o->compression : d.kind == D_DOCKER_ARCHIVE ? "none" : "gzip";
	if (slim_compression_parse(cname, &comp) < 0) {
		dest_free(&d);
		return wh_err(err, WH_EINPUT, "--compression %s: gzip, zstd or none", cname);
	}
	int64_t sde = 0;
	int have_sde = slim_source_date_epoch(&sde, err);
	if (have_sde < 0) {
		dest_free(&d);
		return have_sde;
	}

	/* where: never the input; an existing destination only with --force
	 * (an OCI layout is added to, which replaces nothing) */
	struct stat st;
	int exists = lstat(d.path, &st) == 0;
	int add_to_layout = 0, replace_empty_dir = 0;
	if ((a->img.path && same_file(d.path, a->img.path))) {
		rc = wh_err(err, WH_EOUTPUT, "%s: that is the input image; whittle never writes its input", d.path);
		goto early;
	}
	if (d.kind == D_OCI) {
		if (exists && !S_ISDIR(st.st_mode)) {
			rc = wh_err(err, WH_EOUTPUT, "%s: exists and is not a directory (oci: writes an OCI layout directory)",
			            d.path);
			goto early;
		}
		if (exists && is_oci_layout(d.path))
			add_to_layout = 1;
		else if (exists && dir_is_empty(d.path))
			replace_empty_dir = 1;
		else if (exists) {
			rc = wh_err(err, WH_EOUTPUT, "%s: a directory that is not an OCI layout and not empty; "
			            "whittle will not write into it", d.path);
			goto early;
		}
	} else if (exists && S_ISDIR(st.st_mode)) {
		rc = wh_err(err, WH_EOUTPUT, "%s: is a directory; %s writes a file", d.path,
		            d.kind == D_OCI_ARCHIVE ? "oci-archive:" : "docker-archive:");
		goto early;
	} else if (exists && !o->force) {
		rc = wh_err(err, WH_EOUTPUT, "%s: exists; use --force to replace it", d.path);
		goto early;
	}

	/* the temporary directory beside the destination */
	char *dcopy = xstrdup(d.path);
	char *parent = xstrdup(dirname(dcopy));
	free(dcopy);
	char *tmp = xasprintf("%s/.whittle-tmp.XXXXXX", parent);
	if (!mkdtemp(tmp)) {
		rc = wh_err(err, WH_EOUTPUT, "%s: cannot create a temporary directory there: %s", parent, strerror(errno));
		free(tmp);
		free(parent);
		goto early;
	}
	struct saved_sigs ss;
	slim_interrupted = 0;
	sigs_install(&ss);

	char *layout = xasprintf("%s/layout", tmp);
	char *blobs = xasprintf("%s/blobs", layout);
	char *sha = xasprintf("%s/blobs/sha256", layout);
	char *layer_tmp = xasprintf("%s/layer", tmp);
	char *layer_path = NULL, *cfg_path = NULL, *man_path = NULL, *archive = NULL;
	char *cfg = NULL, *man = NULL, *idx = NULL, *dman = NULL;
	char **added = NULL;
	size_t n_added = 0;
	json_t *index = NULL;
	if (mkdir(layout, 0755) != 0 || mkdir(blobs, 0755) != 0 || mkdir(sha, 0755) != 0) {
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", layout, strerror(errno));
		goto out;
	}
	/* the layer */
	int fd = open(layer_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", layer_tmp, strerror(errno));
		goto out;
	}
	struct slim_layer_opts lo = {.compression = comp, .clamp_mtime = have_sde, .sde = sde, .spool_dir = tmp,
	                             .progress = o->progress};
	struct slim_ticker tick;
	slim_ticker_init(&tick, &o->progress);
	rc = slim_write_layer(a, p, &lo, fd, &r->layer, err);
	if (rc == 0 && fsync(fd) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: fsync: %s", layer_tmp, strerror(errno));
	close(fd);
	if (rc < 0)
		goto out;
	layer_path = xasprintf("%s/%s", sha, hex_of(r->layer.digest));
	if (rename(layer_tmp, layer_path) != 0) {
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", layer_path, strerror(errno));
		goto out;
	}
	/* config and manifest */
	cfg = slim_config_json(a, p, &r->layer, have_sde, sde);
	digest_buf(cfg, strlen(cfg), r->config_digest);
	cfg_path = xasprintf("%s/%s", sha, hex_of(r->config_digest));
	if ((rc = write_file(cfg_path, cfg, strlen(cfg), err)) < 0)
		goto out;
	json_t *mj = json_object();
	json_object_set_new(mj, "schemaVersion", json_integer(2));
	json_object_set_new(mj, "mediaType", json_string(MT_MANIFEST));
	json_object_set_new(mj, "config", descriptor(MT_CONFIG, r->config_digest, strlen(cfg)));
	json_t *ls = json_array();
	json_array_append_new(ls, descriptor(r->layer.media_type, r->layer.digest, r->layer.size));
	json_object_set_new(mj, "layers", ls);
	man = json_dumps(mj, JSON_FLAGS);
	json_decref(mj);
	char man_digest[WH_DIGEST_LEN];
	digest_buf(man, strlen(man), man_digest);
	man_path = xasprintf("%s/%s", sha, hex_of(man_digest));
	if ((rc = write_file(man_path, man, strlen(man), err)) < 0)
		goto out;
	if (d.kind != D_DOCKER_ARCHIVE)
		snprintf(r->manifest_digest, sizeof r->manifest_digest, "%s", man_digest);
	/* our own layout's index */
	json_t *desc = descriptor(MT_MANIFEST, man_digest, strlen(man));
	if (d.tag && d.kind != D_DOCKER_ARCHIVE) {
		json_t *ann = json_object();
		json_object_set_new(ann, REF_NAME, json_string(d.tag));
		json_object_set_new(desc, "annotations", ann);
	}
	index = json_object();
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(MT_INDEX));
	json_t *ms = json_array();
	json_array_append(ms, desc);
	json_object_set_new(index, "manifests", ms);
	idx = json_dumps(index, JSON_FLAGS);
	static const char layout_json[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char *ip = xasprintf("%s/index.json", layout), *lp = xasprintf("%s/oci-layout", layout);
	rc = write_file(ip, idx, strlen(idx), err);
	if (rc == 0)
		rc = write_file(lp, layout_json, strlen(layout_json), err);
	free(ip);
	free(lp);
	if (rc == 0)
		rc = fsync_path(sha, err);
	if (rc < 0) {
		json_decref(desc);
		goto out;
	}
	r->visible_bytes = p->kept_bytes;
	r->compression = comp;
	r->entries = p->n;
	r->format = xstrdup(d.kind == D_OCI ? "oci" : d.kind == D_OCI_ARCHIVE ? "oci-archive" : "docker-archive");

	/* the archive forms */
	char *verify_ref = NULL;
	if (d.kind == D_OCI_ARCHIVE) {
		archive = xasprintf("%s/out.tar", tmp);
		char *mn[3] = {xasprintf("blobs/sha256/%s", hex_of(r->layer.digest)),
		               xasprintf("blobs/sha256/%s", hex_of(r->config_digest)),
		               xasprintf("blobs/sha256/%s", hex_of(man_digest))};
		struct member m[] = {
			{.name = "blobs/"}, {.name = "blobs/sha256/"},
			{.name = mn[0], .file = layer_path}, {.name = mn[1], .data = cfg, .len = strlen(cfg)},
			{.name = mn[2], .data = man, .len = strlen(man)},
			{.name = "index.json", .data = idx, .len = strlen(idx)},
			{.name = "oci-layout", .data = layout_json, .len = strlen(layout_json)},
		};
		rc = write_archive(archive, m, ARRAY_LEN(m), &tick, err);
		for (int i = 0; i < 3; i++)
			free(mn[i]);
		verify_ref = xasprintf("oci-archive:%s", archive);
	} else if (d.kind == D_DOCKER_ARCHIVE) {
		archive = xasprintf("%s/out.tar", tmp);
		const char *ext = comp == SLIM_COMP_GZIP ? ".tar.gz" : comp == SLIM_COMP_ZSTD ? ".tar.zst" : ".tar";
		char *cname2 = xasprintf("%s.json", hex_of(r->config_digest));
		char *lname = xasprintf("%s%s", hex_of(r->layer.digest), ext);
		json_t *dm = json_array(), *one = json_object(), *tags = json_array(), *lay = json_array();
		json_object_set_new(one, "Config", json_string(cname2));
		if (d.tag)
			json_array_append_new(tags, json_string(d.tag));
		json_object_set_new(one, "RepoTags", tags);
		json_array_append_new(lay, json_string(lname));
		json_object_set_new(one, "Layers", lay);
		json_array_append_new(dm, one);
		dman = json_dumps(dm, JSON_FLAGS);
		json_decref(dm);
		struct member m[] = {
			{.name = cname2, .data = cfg, .len = strlen(cfg)},
			{.name = lname, .file = layer_path},
			{.name = "manifest.json", .data = dman, .len = strlen(dman)},
		};
		rc = write_archive(archive, m, ARRAY_LEN(m), &tick, err);
		free(cname2);
		free(lname);
		verify_ref = xasprintf("docker-archive:%s", archive);
	} else {
		verify_ref = xasprintf("oci:%s", layout);
	}
	if (rc == 0 && slim_interrupted)
		rc = wh_err(err, WH_EINTR, "interrupted");
	if (rc == 0)
		rc = verify(verify_ref, p, r, o->jobs, &tick, err);
	free(verify_ref);
	if (rc < 0) {
		json_decref(desc);
		goto out;
	}
	if (slim_interrupted) {
		json_decref(desc);
		rc = wh_err(err, WH_EINTR, "interrupted");
		goto out;
	}

	/* publish */
	if (d.kind != D_OCI) {
		unsigned flags = o->force ? 0 : RENAME_NOREPLACE;
		if (renameat2(AT_FDCWD, archive, AT_FDCWD, d.path, flags) != 0)
			rc = wh_err(err, WH_EOUTPUT, "%s: %s%s", d.path, strerror(errno),
			            errno == EEXIST ? " (use --force to replace it)" : "");
		json_decref(desc);
	} else if (!add_to_layout) {
		if (replace_empty_dir)
			rmdir(d.path);
		if (renameat2(AT_FDCWD, layout, AT_FDCWD, d.path, RENAME_NOREPLACE) != 0)
			rc = wh_err(err, WH_EOUTPUT, "%s: %s", d.path, strerror(errno));
		json_decref(desc);
	} else {
		/* add the blobs the layout lacks, then swap its index.json */
		char *dip = xasprintf("%s/index.json", d.path);
		json_error_t je;
		json_t *old = json_load_file(dip, 0, &je);
		if (!json_is_object(old)) {
			rc = wh_err(err, WH_EOUTPUT, "%s: not a JSON object (line %d: %s)", dip, je.line, je.text);
			json_decref(old);
			json_decref(desc);
			free(dip);
			goto out;
		}
		char *dsha = xasprintf("%s/blobs/sha256", d.path), *dblobs = xasprintf("%s/blobs", d.path);
		mkdir(dblobs, 0755);
		mkdir(dsha, 0755);
		const char *mine[3] = {layer_path, cfg_path, man_path};
		for (int i = 0; i < 3 && rc == 0; i++) {
			char *to = xasprintf("%s/%s", dsha, strrchr(mine[i], '/') + 1);
			if (access(to, F_OK) == 0) {
				free(to);
				continue;
			}
			if (rename(mine[i], to) != 0) {
				rc = wh_err(err, WH_EOUTPUT, "%s: %s", to, strerror(errno));
				free(to);
				break;
			}
			added = xrealloc(added, (n_added + 1) * sizeof *added);
			added[n_added++] = to;
		}
		if (rc == 0)
			rc = fsync_path(dsha, err);
		if (rc == 0) {
			index_add(old, desc, d.tag);
			char *text = json_dumps(old, JSON_FLAGS);
			char *tip = xasprintf("%s/index.json", tmp);
			rc = write_file(tip, text, strlen(text), err);
			if (rc == 0 && slim_interrupted)
				rc = wh_err(err, WH_EINTR, "interrupted");
			if (rc == 0 && rename(tip, dip) != 0)
				rc = wh_err(err, WH_EOUTPUT, "%s: %s", dip, strerror(errno));
			if (rc == 0) { /* committed: nothing to take back */
				for (size_t i = 0; i < n_added; i++)
					free(added[i]);
				n_added = 0;
			}
			free(tip);
			free(text);
		}
		json_decref(old);
		json_decref(desc);
		free(dip);
		free(dsha);
		free(dblobs);
	}
	if (rc == 0)
		rc = fsync_path(parent, err);
	if (rc == 0) {
		if (d.kind == D_OCI)
			r->output = d.tag ? xasprintf("oci:%s:%s", d.path, d.tag) : xasprintf("oci:%s", d.path);
		else if (d.kind == D_OCI_ARCHIVE)
			r->output = d.tag ? xasprintf("oci-archive:%s:%s", d.path, d.tag) : xasprintf("oci-archive:%s", d.path);
		else
			r->output = d.tag ? xasprintf("docker-archive:%s:%s", d.path, d.tag)
			                  : xasprintf("docker-archive:%s", d.path);
	}
out:
	for (size_t i = 0; i < n_added; i++) {
		unlink(added[i]);
		free(added[i]);
	}
	free(added);
	rm_rf(tmp);
	sigs_restore(&ss);
	if (rc == 0 && slim_interrupted)
		slim_interrupted = 0; /* too late to stop: the output is complete */
	free(tmp);
	free(parent);
	free(layout);
	free(blobs);
	free(sha);
	free(layer_tmp);
	free(layer_path);
	free(cfg_path);
	free(man_path);
	free(archive);
	free(cfg);
	free(man);
	free(idx);
	free(dman);
	json_decref(index);
	if (rc < 0) {
		free(r->format);
		r->format = NULL;
	}
early:
	dest_free(&d);
	return rc;
}

void slim_result_free(struct slim_result *r)
{
	free(r->output);
	free(r->format);
	memset(r, 0, sizeof *r);
}
