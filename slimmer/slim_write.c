#include "slimmer/slim_write.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

int slim_compression_parse(const char *s, enum slim_compression *out)
{
	if (!s || !strcmp(s, "gzip"))
		*out = SLIM_COMP_GZIP;
	else if (!strcmp(s, "zstd"))
		*out = SLIM_COMP_ZSTD;
	else if (!strcmp(s, "none"))
		*out = SLIM_COMP_NONE;
	else
		return -1;
	return 0;
}

const char *slim_compression_name(enum slim_compression c)
{
	return c == SLIM_COMP_GZIP ? "gzip" : c == SLIM_COMP_ZSTD ? "zstd" : "none";
}

int slim_source_date_epoch(int64_t *out, struct wh_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return wh_err(err, WH_EINPUT, "SOURCE_DATE_EPOCH=\"%s\" is not a number of seconds", s);
	*out = (int64_t)v;
	return 1;
}

int slim_write_all(int fd, const void *buf, size_t n, const char *what, struct wh_error *err)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return wh_err(err, WH_EOUTPUT, "%s: %s", what, w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* --- progress ---------------------------------------------------------------------- */

char *slim_phase_label(char *buf, size_t n, enum slim_phase phase, size_t layer, size_t n_layers)
{
	switch (phase) {
	case SLIM_PHASE_READ: snprintf(buf, n, "re-reading layer %zu/%zu", layer + 1, n_layers); break;
	case SLIM_PHASE_WRITE: snprintf(buf, n, "writing the layer"); break;
	case SLIM_PHASE_PACK: snprintf(buf, n, "packing the archive"); break;
	default: snprintf(buf, n, "verifying"); break;
	}
	return buf;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void slim_ticker_init(struct slim_ticker *t, const struct slim_progress *p)
{
	t->p = p && p->cb ? p : NULL;
	t->phase = -1;
	t->last_ns = 0;
}

void slim_tick(struct slim_ticker *t, enum slim_phase phase, size_t layer, size_t n_layers, uint64_t bytes_done,
               uint64_t bytes_total)
{
	if (!t->p)
		return;
	int64_t now = now_ns();
	if ((int)phase == t->phase && now - t->last_ns < 100 * 1000 * 1000)
		return;
	t->phase = (int)phase;
	t->last_ns = now;
	t->p->cb(t->p->ctx, phase, layer, n_layers, bytes_done < bytes_total ? bytes_done : bytes_total, bytes_total);
}

/* --- what the source must give again ------------------------------------------- */

struct xattr {
	char *name;
	void *value;
	size_t size;
};

struct want {
	const struct wh_entry *e; /* the source entry */
	const char *path;         /* e->path */
	uint16_t layer;
	uint8_t need_data;        /* spool the content */
	uint8_t done;
	uint64_t off, len;        /* in the spool */
	dev_t rdev;
	struct xattr *xa;
	size_t n_xa;
};

struct spool {
	const struct analysis *a;
	struct want *w;        /* sorted by (layer, path) */
	size_t n;
	size_t lo, hi;         /* the current layer's range */
	int fd;
	uint64_t end;          /* bytes used */
	uint8_t *chunk;
	struct wh_error *err;
	const char *spool_name;
	/* progress: regular-file bytes of the layers read again */
	struct slim_ticker *tick;
	size_t layer_no, n_layers; /* the layer being read, of those read again */
	uint64_t base;             /* bytes of the layers read before this one */
	uint64_t pos;              /* of the entries of this layer behind us */
	uint64_t pending;          /* the current entry's size (its data not yet behind us) */
	uint64_t total;
};

static void spool_tick(struct spool *s, uint64_t within)
{
	slim_tick(s->tick, SLIM_PHASE_READ, s->layer_no, s->n_layers, s->base + s->pos + within, s->total);
}

static int cmp_want(const void *x, const void *y)
{
	const struct want *a = x, *b = y;
	if (a->layer != b->layer)
		return a->layer < b->layer ? -1 : 1;
	int c = strcmp(a->path, b->path);
	if (c)
		return c;
	return (uintptr_t)a->e < (uintptr_t)b->e ? -1 : (uintptr_t)a->e > (uintptr_t)b->e;
}

static void xattr_free(struct want *w)
{
	for (size_t i = 0; i < w->n_xa; i++) {
		free(w->xa[i].name);
		free(w->xa[i].value);
	}
	free(w->xa);
	w->xa = NULL;
	w->n_xa = 0;
}

static int cmp_xattr(const void *x, const void *y)
{
	return strcmp(((const struct xattr *)x)->name, ((const struct xattr *)y)->name);
}

static void take_meta(struct want *w, struct archive_entry *ae)
{
	xattr_free(w);
	w->rdev = archive_entry_rdev(ae);
	size_t n = (size_t)archive_entry_xattr_reset(ae);
	if (n) {
		w->xa = xcalloc(n, sizeof *w->xa);
		const char *name;
		const void *value;
		size_t size;
		while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK && w->n_xa < n) {
			struct xattr *x = &w->xa[w->n_xa++];
			x->name = xstrdup(name ? name : "");
			x->value = xmalloc(size ? size : 1);
			if (size)
				memcpy(x->value, value, size);
			x->size = size;
		}
		qsort(w->xa, w->n_xa, sizeof *w->xa, cmp_xattr);
	}
}

static int type_matches(const struct wh_entry *e, struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return e->type == WH_T_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFDIR: return e->type == WH_T_DIR;
	case AE_IFLNK: return e->type == WH_T_SYMLINK;
	case AE_IFCHR: return e->type == WH_T_CHR;
	case AE_IFBLK: return e->type == WH_T_BLK;
	case AE_IFIFO: return e->type == WH_T_FIFO;
	case AE_IFSOCK: return e->type == WH_T_SOCK;
	default: return e->type == WH_T_REG;
	}
}

/* copy the entry's data to the spool's end, hashing it */
static int spool_data(struct spool *s, struct archive *a, const char *path, uint64_t *len, uint8_t hash[16])
{
	struct digest_ctx h;
	digest_init(&h);
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		const void *b;
		size_t size;
		int64_t off;
		int r = archive_read_data_block(a, &b, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = wh_err(s->err, WH_EINPUT, "entry %s: %s", path, archive_error_string(a));
			break;
		}
		while ((uint64_t)off > total) { /* sparse holes read as zeros */
			static const uint8_t zeros[4096];
			size_t z = (uint64_t)off - total > sizeof zeros ? sizeof zeros : (size_t)((uint64_t)off - total);
			digest_update(&h, zeros, z);
			if ((rc = slim_write_all(s->fd, zeros, z, s->spool_name, s->err)) < 0)
				goto out;
			total += z;
		}
		digest_update(&h, b, size);
		if ((rc = slim_write_all(s->fd, b, size, s->spool_name, s->err)) < 0)
			goto out;
		total += size;
		spool_tick(s, total);
	}
out:;
	uint8_t full[32];
	digest_final(&h, full, NULL);
	digest_free(&h);
	memcpy(hash, full, 16);
	*len = total;
	return rc;
}

static int visit(void *ctx, struct archive *a, struct archive_entry *ae, const char *norm)
{
	struct spool *s = ctx;
	/* the entries before this one have been read past */
	s->pos += s->pending;
	s->pending = archive_entry_filetype(ae) == AE_IFREG && !archive_entry_hardlink(ae) && archive_entry_size(ae) > 0
	                 ? (uint64_t)archive_entry_size(ae)
	                 : 0;
	spool_tick(s, 0);
	/* the wants of this layer with this path */
	size_t lo = s->lo, hi = s->hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->w[mid].path, norm) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= s->hi || strcmp(s->w[lo].path, norm) != 0)
		return 0;
	size_t first = lo, last = lo;
	while (last < s->hi && !strcmp(s->w[last].path, norm))
		last++;
	int spooled = 0;
	uint64_t start = s->end, len = 0;
	uint8_t hash[16];
	for (size_t i = first; i < last; i++) {
		struct want *w = &s->w[i];
		if (!type_matches(w->e, ae))
			continue;
		if (!w->need_data) {
			take_meta(w, ae); /* the last listing of the path wins, as in the merge */
			w->done = 1;
			continue;
		}
		if (w->done)
			continue;
		if (!spooled) {
			if (lseek(s->fd, (off_t)start, SEEK_SET) < 0)
				return wh_err(s->err, WH_EOUTPUT, "%s: %s", s->spool_name, strerror(errno));
			int rc = spool_data(s, a, norm, &len, hash);
			if (rc < 0)
				return rc;
			spooled = 1;
		}
		if (len == w->e->size && !memcmp(hash, w->e->hash, sizeof hash)) {
			take_meta(w, ae);
			w->off = start;
			w->len = len;
			w->done = 1;
			s->end = start + len;
		}
	}
	return 0;
}

static int open_spool(const char *dir, struct wh_error *err)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char *t = xasprintf("%s/.whittle-spool.XXXXXX", dir);
	fd = mkstemp(t);
	if (fd >= 0)
		unlink(t);
	else
		wh_err(err, WH_EOUTPUT, "%s: cannot create a spool file: %s", dir, strerror(errno));
	free(t);
	return fd;
}

/* --- the output pipeline: tar -> diff_id -> compressor -> blob digest -> fd ------ */

struct out {
	int fd;
	struct digest_ctx diff, blob;
	struct archive *comp; /* raw-format compressor, NULL for "none" */
	uint64_t tar_size, blob_size;
	struct wh_error *err;
	int failed;
	struct slim_ticker *tick;
	uint64_t content_done, content_total; /* file content bytes written, of the plan's */
};

static la_ssize_t blob_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	struct out *o = ctx;
	if (slim_write_all(o->fd, buf, n, "layer blob", o->err) < 0) {
		o->failed = 1;
		return -1;
	}
	digest_update(&o->blob, buf, n);
	o->blob_size += n;
	return (la_ssize_t)n;
}

static la_ssize_t tar_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	struct out *o = ctx;
	digest_update(&o->diff, buf, n);
	o->tar_size += n;
	if (!o->comp)
		return blob_write_cb(a, ctx, buf, n);
	const uint8_t *p = buf;
	size_t left = n;
	while (left > 0) {
		la_ssize_t w = archive_write_data(o->comp, p, left);
		if (w <= 0) {
			if (!o->failed)
				wh_err(o->err, WH_EOUTPUT, "compressing the layer: %s", archive_error_string(o->comp));
			o->failed = 1;
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	return (la_ssize_t)n;
}

static int ar_fail(struct archive *a, struct out *o, const char *what)
{
	if (o->err && o->err->code)
		return o->err->code;
	return wh_err(o->err, WH_EOUTPUT, "writing the layer: %s: %s", what,
	              archive_error_string(a) ? archive_error_string(a) : "failed");
}

static int open_compressor(struct out *o, enum slim_compression c)
{
	struct archive *z = archive_write_new();
	o->comp = z;
	int r = archive_write_set_format_raw(z);
	if (r == ARCHIVE_OK)
		r = c == SLIM_COMP_GZIP ? archive_write_add_filter_gzip(z) : archive_write_add_filter_zstd(z);
	if (r == ARCHIVE_OK && c == SLIM_COMP_GZIP)
		r = archive_write_set_options(z, "gzip:!timestamp,gzip:compression-level=6");
	if (r == ARCHIVE_OK && c == SLIM_COMP_ZSTD) {
		char opt[64];
		snprintf(opt, sizeof opt, "zstd:compression-level=%d", SLIM_ZSTD_LEVEL);
		r = archive_write_set_options(z, opt);
		/* the same frames whatever --jobs: one thread, always */
		if (r == ARCHIVE_OK)
			r = archive_write_set_options(z, "zstd:threads=0");
		if (r == ARCHIVE_WARN) /* a libarchive without the option is single-threaded anyway */
			r = ARCHIVE_OK;
	}
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_per_block(z, 0);
	if (r == ARCHIVE_OK)
		r = archive_write_open(z, o, NULL, blob_write_cb, NULL);
	if (r != ARCHIVE_OK)
		return ar_fail(z, o, "compressor");
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "layer.tar");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	r = archive_write_header(z, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return ar_fail(z, o, "compressor");
	return 0;
}

static int write_body(struct archive *t, struct out *o, int spool_fd, const struct want *w, const uint8_t *content,
                      size_t content_len, uint8_t *chunk)
{
	if (content) {
		if (content_len && archive_write_data(t, content, content_len) != (la_ssize_t)content_len)
			return ar_fail(t, o, "data");
		o->content_done += content_len;
		return 0;
	}
	uint64_t pos = w->off, end = w->off + w->len;
	while (pos < end) {
		size_t want = end - pos > CHUNK ? CHUNK : (size_t)(end - pos);
		ssize_t r = pread(spool_fd, chunk, want, (off_t)pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return wh_err(o->err, WH_EOUTPUT, "reading the spool: %s", r < 0 ? strerror(errno) : "short read");
		la_ssize_t wr = archive_write_data(t, chunk, (size_t)r);
		if (wr != r)
			return ar_fail(t, o, "data");
		pos += (uint64_t)r;
		o->content_done += (uint64_t)r;
		slim_tick(o->tick, SLIM_PHASE_WRITE, 0, 1, o->content_done, o->content_total);
	}
	return 0;
}

/* What to read again: contents, xattrs, device numbers; sorted, one
 * want per source entry. */
static struct want *wants_of(const struct slim_plan *p, size_t *n)
{
	struct want *w = xcalloc(p->n ? p->n : 1, sizeof *w);
	size_t nw = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct slim_entry *se = &p->v[i];
		if (se->type == WH_T_REG && !se->content) {
			w[nw] = (struct want){.e = se->data, .path = entry_tar_name(se->data), .layer = se->layer, .need_data = 1};
			nw++;
		} else if (se->e && ((se->e->flags & WH_F_XATTR) || se->type == WH_T_CHR || se->type == WH_T_BLK)) {
			w[nw] = (struct want){.e = se->e, .path = entry_tar_name(se->e), .layer = se->node->layer};
			nw++;
		}
	}
	qsort(w, nw, sizeof *w, cmp_want);
	size_t u = 0;
	for (size_t i = 0; i < nw; i++) {
		if (u > 0 && w[u - 1].e == w[i].e) {
			w[u - 1].need_data |= w[i].need_data;
			continue;
		}
		w[u++] = w[i];
	}
	*n = u;
	return w;
}

/* Stream each layer that holds something wanted, once. */
static int read_again(struct spool *s, const struct wh_image *img, struct wh_error *err)
{
	struct want *w = s->w;
	size_t nw = s->n;
	for (size_t i = 0; i < nw;) {
		size_t j = i;
		while (j < nw && w[j].layer == w[i].layer)
			j++;
		s->lo = i;
		s->hi = j;
		const struct wh_layer *l = &img->layers[w[i].layer];
		s->pos = s->pending = 0;
		spool_tick(s, 0);
		int rc = layer_stream(l, visit, s, err);
		if (rc < 0) {
			if (rc != WH_EINTR)
				wh_err_prefix(err, "reading layer %u again: ", (unsigned)l->index);
			return rc;
		}
		for (size_t k = i; k < j; k++)
			if (!w[k].done)
				return wh_err(err, WH_EINPUT, "layer %u (%s): entry /%s is not there (or differs) when the "
				              "layer is read again", (unsigned)l->index, l->blob.name, w[k].path);
		s->base += l->size_bytes;
		s->layer_no++;
		i = j;
	}
	return 0;
}

/* The want read again for a planned entry, or NULL. */
static const struct want *want_of(const struct slim_entry *se, struct want *w, size_t nw)
{
	const struct wh_entry *src = se->type == WH_T_REG && !se->content ? se->data : se->e;
	if (!src)
		return NULL;
	struct want key = {.e = src, .path = entry_tar_name(src),
	                   .layer = se->type == WH_T_REG && !se->content ? se->layer : se->node->layer};
	return bsearch(&key, w, nw, sizeof *w, cmp_want);
}

/* The tar header of a planned entry. */
static void entry_header(struct archive_entry *ae, const struct slim_entry *se, const struct want *sw,
                         const struct slim_layer_opts *opt)
{
	archive_entry_clear(ae);
	int64_t mtime = se->e ? se->e->mtime : 0;
	if (opt->clamp_mtime && mtime > opt->sde)
		mtime = opt->sde;
	uint32_t perm = se->e ? se->e->mode & 07777 : 0755;
	if (se->type == WH_T_DIR) {
		char *d = xasprintf("%s/", se->path);
		archive_entry_copy_pathname(ae, d);
		free(d);
	} else {
		archive_entry_copy_pathname(ae, se->path);
	}
	archive_entry_set_uid(ae, se->e ? se->e->uid : 0);
	archive_entry_set_gid(ae, se->e ? se->e->gid : 0);
	archive_entry_set_mtime(ae, mtime, 0);
	switch (se->type) {
	case WH_T_DIR: archive_entry_set_filetype(ae, AE_IFDIR); break;
	case WH_T_SYMLINK:
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_copy_symlink(ae, se->link);
		break;
	case WH_T_HARDLINK:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_copy_hardlink(ae, se->link);
		break;
	case WH_T_CHR: archive_entry_set_filetype(ae, AE_IFCHR); break;
	case WH_T_BLK: archive_entry_set_filetype(ae, AE_IFBLK); break;
	case WH_T_FIFO: archive_entry_set_filetype(ae, AE_IFIFO); break;
	default:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_size(ae, (la_int64_t)(se->content ? se->content_len : se->size));
		break;
	}
	archive_entry_set_perm(ae, perm);
	if (sw) {
		if (se->type == WH_T_CHR || se->type == WH_T_BLK)
			archive_entry_set_rdev(ae, sw->rdev);
		for (size_t k = 0; k < sw->n_xa; k++)
			archive_entry_xattr_add_entry(ae, sw->xa[k].name, sw->xa[k].value, sw->xa[k].size);
	}
}

int slim_write_layer(const struct analysis *a, const struct slim_plan *p, const struct slim_layer_opts *opt, int fd,
                     struct slim_layer *res, struct wh_error *err)
{
	memset(res, 0, sizeof *res);
	const struct wh_image *img = &a->img;
	size_t nw;
	struct want *w = wants_of(p, &nw);

	struct slim_ticker tick;
	slim_ticker_init(&tick, &opt->progress);
	struct spool s = {.a = a, .w = w, .n = nw, .err = err, .fd = -1, .tick = &tick};
	for (size_t i = 0; i < nw; i++)
		if (i == 0 || w[i].layer != w[i - 1].layer) {
			s.n_layers++;
			s.total += img->layers[w[i].layer].size_bytes;
		}
	const char *dir = opt->spool_dir ? opt->spool_dir : ".";
	s.spool_name = "the content spool";
	int rc = 0;
	struct archive *t = NULL;
	struct out o = {.fd = fd, .err = err, .tick = &tick};
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].type == WH_T_REG)
			o.content_total += p->v[i].content ? p->v[i].content_len : p->v[i].size;
	digest_init(&o.diff);
	digest_init(&o.blob);
	uint8_t *chunk = NULL;
	s.fd = open_spool(dir, err);
	if (s.fd < 0) {
		rc = WH_EOUTPUT;
		goto out;
	}
	if ((rc = read_again(&s, img, err)) < 0)
		goto out;
	/* the tar, in plan order */
	if (opt->compression != SLIM_COMP_NONE && (rc = open_compressor(&o, opt->compression)) < 0)
		goto out;
	t = archive_write_new();
	if (archive_write_set_format_pax_restricted(t) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t, 1) != ARCHIVE_OK ||
	    archive_write_open(t, &o, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
		rc = ar_fail(t, &o, "tar");
		goto out;
	}
	chunk = xmalloc(CHUNK);
	slim_tick(&tick, SLIM_PHASE_WRITE, 0, 1, 0, o.content_total);
	struct archive_entry *ae = archive_entry_new();
	for (size_t i = 0; i < p->n; i++) {
		const struct slim_entry *se = &p->v[i];
		const struct want *sw = want_of(se, w, nw);
		entry_header(ae, se, sw, opt);
		if (archive_write_header(t, ae) < ARCHIVE_WARN) {
			rc = ar_fail(t, &o, se->path);
			break;
		}
		if (se->type == WH_T_REG && (rc = write_body(t, &o, s.fd, sw, se->content, se->content_len, chunk)) < 0)
			break;
		slim_tick(&tick, SLIM_PHASE_WRITE, 0, 1, o.content_done, o.content_total);
		if (se->type == WH_T_REG && !se->content && !sw) {
			rc = wh_err(err, WH_EOUTPUT, "internal: no content read for /%s", se->path);
			break;
		}
	}
	archive_entry_free(ae);
	if (rc < 0)
		goto out;
	if (archive_write_close(t) != ARCHIVE_OK || o.failed) {
		rc = ar_fail(t, &o, "tar end");
		goto out;
	}
	if (o.comp && (archive_write_close(o.comp) != ARCHIVE_OK || o.failed)) {
		rc = ar_fail(o.comp, &o, "compressor end");
		goto out;
	}
	digest_final(&o.diff, NULL, res->diff_id);
	digest_final(&o.blob, NULL, res->digest);
	res->size = o.blob_size;
	res->tar_size = o.tar_size;
	res->media_type = opt->compression == SLIM_COMP_GZIP   ? "application/vnd.oci.image.layer.v1.tar+gzip"
	                  : opt->compression == SLIM_COMP_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
	                                                       : "application/vnd.oci.image.layer.v1.tar";
out:
	if (t)
		archive_write_free(t);
	if (o.comp)
		archive_write_free(o.comp);
	digest_free(&o.diff);
	digest_free(&o.blob);
	free(chunk);
	if (s.fd >= 0)
		close(s.fd);
	for (size_t i = 0; i < nw; i++)
		xattr_free(&w[i]);
	free(w);
	return rc;
}
