#include "analyzer/layer_index.h"
#include "analyzer/elf.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)
/* Memory grows with entries, not file bytes: what the index keeps of a
 * file's content is capped (and the report's image.truncated lists each
 * file a cap cut short). */
#define CONTENT_MAX (8u << 20)          /* an analysis file is captured whole up to this */
#define SCRIPT_MAX (32u << 10)          /* a "#!" script is captured whole up to this */
#define LAYER_CAPTURE_MAX (48u << 20)   /* all captured files of one layer */
#define SOURCE_CAPTURE_MAX (16u << 20)  /* all captured interpreter sources of one layer (their own budget) */
#define ELF_KEEP_MAX (48u << 20)        /* bytes elf_stream keeps of one ELF */
#define MAX_ENTRIES (50u * 1000 * 1000)

/* --- the pipeline: file span -> blob digest -> decompress -> diff_id -> tar */

struct pipe {
	const struct wh_layer *l;
	int fd;
	uint64_t pos, end;
	struct digest_ctx blob;
	struct digest_ctx diff;
	struct archive *raw; /* decompressor, NULL for plain tar */
	struct archive *tar;
	uint8_t *chunk;
	_Atomic uint64_t *progress;
	int io_error;
	int raw_error;
	char raw_msg[512];
};

static ssize_t file_read(struct pipe *p, const void **buf)
{
	if (p->pos >= p->end)
		return 0;
	size_t want = READ_CHUNK;
	if (p->end - p->pos < want)
		want = (size_t)(p->end - p->pos);
	ssize_t r;
	do
		r = pread(p->fd, p->chunk, want, (off_t)p->pos);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		p->io_error = r < 0 ? errno : EIO;
		return -1;
	}
	p->pos += (uint64_t)r;
	digest_update(&p->blob, p->chunk, (size_t)r);
	if (p->progress)
		atomic_fetch_add(p->progress, (uint64_t)r);
	*buf = p->chunk;
	return r;
}

static ssize_t raw_read_cb(struct archive *a, void *ctx, const void **buf)
{
	(void)a;
	return file_read(ctx, buf);
}

/* the tar reader pulls decompressed bytes and hashes them for the diff_id */
static ssize_t tar_read_cb(struct archive *a, void *ctx, const void **buf)
{
	(void)a;
	struct pipe *p = ctx;
	if (!p->raw) {
		ssize_t r = file_read(p, buf);
		if (r > 0)
			digest_update(&p->diff, *buf, (size_t)r);
		return r;
	}
	for (;;) {
		size_t size;
		int64_t off;
		int r = archive_read_data_block(p->raw, buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			p->raw_error = 1;
			snprintf(p->raw_msg, sizeof p->raw_msg, "%s", archive_error_string(p->raw) ?
			         archive_error_string(p->raw) : "decompression failed");
			return -1;
		}
		if (size == 0)
			continue;
		digest_update(&p->diff, *buf, size);
		return (ssize_t)size;
	}
}

static const char *sniff_compression(const uint8_t *b, size_t n)
{
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return "gzip";
	if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return "zstd";
	if (n >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h')
		return "bzip2";
	if (n >= 6 && b[0] == 0xfd && b[1] == '7' && b[2] == 'z' && b[3] == 'X' && b[4] == 'Z')
		return "xz";
	return "none";
}

static void pipe_close(struct pipe *p)
{
	if (p->tar)
		archive_read_free(p->tar);
	if (p->raw)
		archive_read_free(p->raw);
	if (p->fd >= 0)
		close(p->fd);
	digest_free(&p->blob);
	digest_free(&p->diff);
	free(p->chunk);
	p->tar = p->raw = NULL;
	p->fd = -1;
	p->chunk = NULL;
}

static int pipe_open(struct pipe *p, const struct wh_layer *l, _Atomic uint64_t *progress, const char **compression,
                     struct wh_error *err)
{
	memset(p, 0, sizeof *p);
	p->l = l;
	p->fd = open(l->blob.file, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0)
		return wh_err(err, WH_EINPUT, "layer blob %s: %s", l->blob.name, strerror(errno));
	p->pos = l->blob.offset;
	p->end = l->blob.offset + l->blob.length;
	p->progress = progress;
	p->chunk = xmalloc(READ_CHUNK);
	digest_init(&p->blob);
	digest_init(&p->diff);
	uint8_t magic[8] = {0};
	ssize_t m = pread(p->fd, magic, sizeof magic, (off_t)p->pos);
	const char *comp = sniff_compression(magic, m > 0 ? (size_t)m : 0);
	*compression = comp;
	if (strcmp(comp, "none") != 0) {
		p->raw = archive_read_new();
		if (!strcmp(comp, "gzip"))
			archive_read_support_filter_gzip(p->raw);
		else if (!strcmp(comp, "zstd"))
			archive_read_support_filter_zstd(p->raw);
		else if (!strcmp(comp, "bzip2"))
			archive_read_support_filter_bzip2(p->raw);
		else
			archive_read_support_filter_xz(p->raw);
		archive_read_support_format_raw(p->raw);
		if (archive_read_open(p->raw, p, NULL, raw_read_cb, NULL) != ARCHIVE_OK) {
			int rc = wh_err(err, WH_EINPUT, "layer blob %s: cannot decompress (%s): %s", l->blob.name, comp,
			                archive_error_string(p->raw));
			pipe_close(p);
			return rc;
		}
		struct archive_entry *e;
		if (archive_read_next_header(p->raw, &e) != ARCHIVE_OK) {
			int rc = wh_err(err, WH_EINPUT, "layer blob %s: cannot decompress (%s): %s", l->blob.name, comp,
			                archive_error_string(p->raw));
			pipe_close(p);
			return rc;
		}
	}
	p->tar = archive_read_new();
	archive_read_support_format_tar(p->tar);
	archive_read_support_format_empty(p->tar);
	if (archive_read_open(p->tar, p, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
		int rc = wh_err(err, WH_EINPUT, "layer blob %s: not a tar stream: %s", l->blob.name,
		                p->raw_error ? p->raw_msg : archive_error_string(p->tar));
		pipe_close(p);
		return rc;
	}
	return 0;
}

/* After the tar's end: read the rest of the stream (estargz keeps its
 * table of contents there, and it counts), then check both digests. */
static int pipe_finish(struct pipe *p, char diff_id[WH_DIGEST_LEN], char blob_digest[WH_DIGEST_LEN],
                       struct wh_error *err)
{
	const void *b;
	ssize_t r;
	while ((r = tar_read_cb(p->tar, p, &b)) > 0)
		;
	if (r < 0)
		return wh_err(err, WH_EINPUT, "layer blob %s: %s", p->l->blob.name,
		              p->raw_error ? p->raw_msg : strerror(p->io_error));
	/* bytes the decompressor did not need still belong to the blob */
	while ((r = file_read(p, &b)) > 0)
		;
	if (r < 0)
		return wh_err(err, WH_EINPUT, "layer blob %s: read error: %s", p->l->blob.name, strerror(p->io_error));
	digest_final(&p->diff, NULL, diff_id);
	digest_final(&p->blob, NULL, blob_digest);
	return 0;
}

static int check_digests(const struct wh_layer *l, const char *diff_id, const char *blob_digest, struct wh_error *err)
{
	if (l->verify_digest && strcmp(blob_digest, l->digest) != 0)
		return wh_err(err, WH_EINPUT, "layer blob %s: digest mismatch: expected %s, got %s", l->blob.name,
		              l->digest, blob_digest);
	if (strcmp(diff_id, l->diff_id) != 0)
		return wh_err(err, WH_EINPUT, "layer blob %s (layer %zu): diff_id mismatch: the config says %s, "
		              "the uncompressed stream is %s", l->blob.name, l->index, l->diff_id, diff_id);
	return 0;
}

/* --- what each entry keeps -------------------------------------------------- */

int layer_index_wants_content(const char *p)
{
	static const char *exact[] = {
		"etc/ld.so.conf", "etc/ld.so.cache", "etc/ld.so.preload", "etc/nsswitch.conf", "etc/passwd",
		"etc/group", "etc/os-release", "usr/lib/os-release", "etc/debian_version", "var/lib/dpkg/status",
		"var/lib/dpkg/diversions", "etc/host.conf", "etc/gai.conf", "etc/ssl/openssl.cnf",
		"usr/lib/ssl/openssl.cnf", "etc/alpine-release", "lib/apk/db/installed",
	};
	for (size_t i = 0; i < ARRAY_LEN(exact); i++)
		if (!strcmp(p, exact[i]))
			return 1;
	static const char *globs[] = {
		"etc/ld.so.conf.d/*", "var/lib/dpkg/info/*.list", "var/lib/dpkg/status.d/*",
		"*/gconv/gconv-modules", "*/gconv/gconv-modules.d/*", "etc/ld-musl-*.path",
		/* configuration that names files (config_refs.c) */
		"etc/apache2/*", "etc/httpd/*", "etc/mysql/*", "etc/my.cnf", "etc/my.cnf.d/*",
	};
	for (size_t i = 0; i < ARRAY_LEN(globs); i++)
		if (fnmatch(globs[i], p, 0) == 0)
			return 1;
	return 0;
}

/* An interpreter's source file outside the interpreters' own libraries
 * (an application's python, perl, ruby or node code, with or without a
 * "#!" line): captured, when small, for the dynamic imports reach looks
 * for. Never listed as read in part: it is not an analysis file. */
static int wants_source(const char *p)
{
	static const char *const ext[] = {"*.py", "*.pl", "*.pm", "*.rb", "*.js", "*.mjs", "*.cjs"};
	static const char *const libs[] = {"usr/lib/python*", "usr/local/lib/python*", "usr/lib64/python*",
	                                   "usr/share/perl*", "usr/lib/*/perl*", "usr/local/lib/*/perl*",
	                                   "usr/local/share/perl*", "usr/lib/ruby/*", "usr/local/lib/ruby/*",
	                                   "usr/lib/*/ruby/*", "var/lib/gems/*", "usr/share/nodejs/*",
	                                   "usr/lib/node_modules/*", "usr/local/lib/node_modules/*",
	                                   "*/node_modules/*", "*/site-packages/*", "*/dist-packages/*",
	                                   "usr/share/doc/*", "usr/include/*"};
	int src = 0;
	for (size_t i = 0; i < ARRAY_LEN(ext) && !src; i++)
		src = fnmatch(ext[i], p, FNM_PERIOD) == 0;
	for (size_t i = 0; i < ARRAY_LEN(libs) && src; i++)
		if (fnmatch(libs[i], p, 0) == 0)
			return 0;
	return src;
}

static uint8_t entry_type(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return WH_T_HARDLINK;
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR: return WH_T_DIR;
	case AE_IFLNK: return WH_T_SYMLINK;
	case AE_IFCHR: return WH_T_CHR;
	case AE_IFBLK: return WH_T_BLK;
	case AE_IFIFO: return WH_T_FIFO;
	case AE_IFSOCK: return WH_T_SOCK;
	default: return WH_T_REG;
	}
}

/* What one regular file's bytes leave behind: its hash, the ELF facts
 * (elf_stream: bounded, one pass), the "#!" line, and the whole content of
 * the files the analysis reads when it fits the caps. */
struct content {
	struct digest_ctx h;
	int want;            /* an analysis file */
	int source;          /* an interpreter's source (wants_source) */
	int is_elf, is_script; /* -1 until the first 4 bytes are seen */
	uint8_t head[4];
	size_t headn;
	struct buf keep;     /* captured bytes (at most cap) */
	size_t cap;          /* per-file capture cap */
	struct elf_stream es;
	uint64_t total;
};

static void content_decide(struct content *c, uint64_t size)
{
	c->is_elf = c->headn >= 4 && c->head[0] == 0x7f && c->head[1] == 'E' && c->head[2] == 'L' && c->head[3] == 'F';
	c->is_script = c->headn >= 2 && c->head[0] == '#' && c->head[1] == '!';
	c->cap = c->want ? CONTENT_MAX : SCRIPT_MAX;
	if (c->is_elf) {
		elf_stream_init(&c->es, size, ELF_KEEP_MAX);
		elf_stream_feed(&c->es, c->keep.data, c->keep.len); /* the bytes seen before deciding */
		c->keep.len = 0;
	}
}

static void content_take(struct content *c, const uint8_t *d, size_t n, uint64_t size)
{
	digest_update(&c->h, d, n);
	c->total += n;
	if (c->is_elf < 0) {
		size_t i = 0;
		while (c->headn < 4 && i < n)
			c->head[c->headn++] = d[i++];
		buf_append(&c->keep, d, i);
		d += i;
		n -= i;
		if (c->headn < 4)
			return;
		content_decide(c, size);
	}
	if (c->is_elf) {
		elf_stream_feed(&c->es, d, n);
	} else if (c->want || c->is_script || c->source) {
		size_t room = c->keep.len < c->cap ? c->cap - c->keep.len : 0;
		buf_append(&c->keep, d, n < room ? n : room);
	}
}

static void mark_truncated(struct wh_entry *we, struct wh_extra *x, uint64_t captured)
{
	we->flags |= WH_F_TRUNCATED;
	x->captured = captured;
}

/* layer_captured[0]: the analysis files and scripts captured in this
 * layer so far, [1]: the interpreter sources. */
static int read_content(struct pipe *p, struct wh_layer *l, struct wh_entry *we, uint64_t *layer_captured,
                        struct wh_error *err)
{
	struct content c = {.want = layer_index_wants_content(we->path), .source = wants_source(we->path),
	                    .is_elf = -1, .is_script = -1};
	digest_init(&c.h);
	for (;;) {
		const void *b;
		size_t size;
		int64_t off;
		int r = archive_read_data_block(p->tar, &b, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			digest_free(&c.h);
			buf_free(&c.keep);
			if (c.is_elf == 1)
				elf_stream_free(&c.es);
			return wh_err(err, WH_EINPUT, "layer blob %s: entry %s: %s", l->blob.name, we->path,
			              p->raw_error ? p->raw_msg : archive_error_string(p->tar));
		}
		/* sparse files: holes read as zeros */
		while ((uint64_t)off > c.total) {
			static const uint8_t zeros[4096];
			uint64_t gap = (uint64_t)off - c.total;
			content_take(&c, zeros, gap > sizeof zeros ? sizeof zeros : (size_t)gap, we->size);
		}
		content_take(&c, b, size, we->size);
	}
	if (c.is_elf < 0) /* short files: decide on what we have */
		content_decide(&c, we->size);
	uint8_t full[32];
	digest_final(&c.h, full, NULL);
	memcpy(we->hash, full, sizeof we->hash);

	struct wh_extra *x = NULL;
	int source_fits = c.source && !c.want && !c.is_script && !c.is_elf && c.total <= SCRIPT_MAX &&
	                  layer_captured[1] + c.total <= SOURCE_CAPTURE_MAX;
	if (c.is_elf || c.is_script || c.want || source_fits) {
		x = arena_alloc(&l->arena, sizeof *x);
		memset(x, 0, sizeof *x);
	}
	if (c.is_elf) {
		struct elf_info *info = xcalloc(1, sizeof *info);
		struct wh_error e2 = {0};
		int truncated = 0;
		uint64_t kept = c.es.kept;
		if (elf_stream_finish(&c.es, info, &truncated, &e2) == 0) {
			x->elf = info;
		} else {
			free(info);
			we->flags |= truncated ? WH_F_BIGELF : WH_F_BADELF;
			if (truncated)
				mark_truncated(we, x, kept);
		}
	}
	if (c.is_script && c.keep.len > 2) {
		const char *s = (const char *)c.keep.data + 2;
		size_t n = 0;
		while (2 + n < c.keep.len && s[n] != '\n' && n < 255)
			n++;
		x->shebang = arena_strndup(&l->arena, s, n);
	}
	if (!c.is_elf && (c.want || c.is_script)) {
		if (c.total <= c.cap && *layer_captured + c.total <= LAYER_CAPTURE_MAX) {
			x->content = arena_alloc(&l->arena, c.keep.len + 1);
			if (c.keep.len)
				memcpy(x->content, c.keep.data, c.keep.len);
			x->content[c.keep.len] = 0;
			x->content_len = c.keep.len;
			*layer_captured += c.total;
		} else {
			mark_truncated(we, x, 0);
		}
	} else if (source_fits) {
		x->content = arena_alloc(&l->arena, c.keep.len + 1);
		if (c.keep.len)
			memcpy(x->content, c.keep.data, c.keep.len);
		x->content[c.keep.len] = 0;
		x->content_len = c.keep.len;
		layer_captured[1] += c.total;
	}
	we->extra = x;
	buf_free(&c.keep);
	return 0;
}

/* Names a runtime reads otherwise than as they look: a directory component
 * named ".wh.*" (a writer's parent entry for it would be a whiteout), a
 * whiteout of "." or ".." (umoci refuses both). Returns 1 for aufs metadata
 * (".wh..wh.*" anywhere in the name: skipped), 0 for a plain name. */
static int check_wh_names(const struct wh_layer *l, const char *norm, const char *base, const char *name,
                          struct wh_error *err)
{
	if (!strncmp(base, ".wh..wh.", 8) && strcmp(base, ".wh..wh..opq") != 0)
		return 1;
	for (const char *p = norm; p < base; p = strchr(p, '/') + 1)
		if (!strncmp(p, ".wh..wh.", 8))
			return 1;
	for (const char *p = norm; p < base; p = strchr(p, '/') + 1)
		if (!strncmp(p, ".wh.", 4))
			return wh_err(err, WH_EINPUT, "layer blob %s: entry \"%s\" has a directory named \".wh.*\", "
			              "which is a whiteout to an image reader", l->blob.name, name);
	if (!strcmp(base, ".wh..") || !strcmp(base, ".wh..."))
		return wh_err(err, WH_EINPUT, "layer blob %s: whiteout \"%s\" names \"%s\", not an entry", l->blob.name,
		              name, base + 4);
	return 0;
}

int layer_index_one(struct wh_image *img, struct wh_layer *l, uint64_t *progress, struct wh_error *err)
{
	(void)img;
	struct pipe p;
	int rc = pipe_open(&p, l, (_Atomic uint64_t *)progress, &l->compression, err);
	if (rc < 0)
		return rc;
	arena_init(&l->arena);
	size_t cap = 0;
	l->n_entries = 0;
	l->size_bytes = 0;
	char norm[PATH_MAX];
	struct archive_entry *ae;
	size_t count = 0;
	uint64_t captured[2] = {0, 0};
	for (;;) {
		int r = archive_read_next_header(p.tar, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = wh_err(err, WH_EINPUT, "layer blob %s: corrupt tar after %zu entries%s%s: %s", l->blob.name,
			            count, l->n_entries ? " (last: " : "", l->n_entries ? l->entries[l->n_entries - 1].path : "",
			            p.raw_error ? p.raw_msg : archive_error_string(p.tar));
			if (l->n_entries)
				strncat(err->msg, ")", sizeof err->msg - strlen(err->msg) - 1);
			goto out;
		}
		count++;
		if (count > MAX_ENTRIES) {
			rc = wh_err(err, WH_EINPUT, "layer blob %s: more than %u entries", l->blob.name, MAX_ENTRIES);
			goto out;
		}
		const char *name = archive_entry_pathname(ae);
		if (!name || !*name) {
			rc = wh_err(err, WH_EINPUT, "layer blob %s: entry %zu has an empty name", l->blob.name, count);
			goto out;
		}
		struct wh_error e2 = {0};
		if (path_normalize(name, norm, sizeof norm, &e2) < 0) {
			rc = wh_err(err, WH_EINPUT, "layer blob %s: %s", l->blob.name, e2.msg);
			goto out;
		}
		if (!norm[0] && archive_entry_filetype(ae) != AE_IFDIR) {
			rc = wh_err(err, WH_EINPUT, "layer blob %s: entry \"%s\" names the root but is not a directory",
			            l->blob.name, name);
			goto out;
		}
		if (l->n_entries == cap) {
			cap = cap ? cap * 2 : 256;
			l->entries = xrealloc(l->entries, cap * sizeof *l->entries);
		}
		struct wh_entry *we = &l->entries[l->n_entries];
		memset(we, 0, sizeof *we);
		const char *base = strrchr(norm, '/');
		base = base ? base + 1 : norm;
		we->mtime = archive_entry_mtime(ae);
		we->mode = archive_entry_perm(ae);
		we->uid = (uint32_t)archive_entry_uid(ae);
		we->gid = (uint32_t)archive_entry_gid(ae);
		rc = check_wh_names(l, norm, base, name, err);
		if (rc > 0) { /* aufs metadata (.wh..wh.plnk and kin): not content */
			rc = 0;
			continue;
		}
		if (rc < 0)
			goto out;
		if (!strncmp(base, ".wh.", 4)) {
			size_t dl = (size_t)(base - norm);
			if (!strcmp(base, ".wh..wh..opq")) {
				we->type = WH_T_OPAQUE;
				we->path = arena_strndup(&l->arena, norm, dl ? dl - 1 : 0);
			} else {
				we->type = WH_T_WHITEOUT;
				char *wp = arena_alloc(&l->arena, strlen(norm) - 4 + 1);
				memcpy(wp, norm, dl);
				strcpy(wp + dl, base + 4);
				if (!base[4]) {
					rc = wh_err(err, WH_EINPUT, "layer blob %s: whiteout \"%s\" names nothing", l->blob.name,
					            name);
					goto out;
				}
				we->path = wp;
			}
			l->n_entries++;
			continue;
		}
		we->path = arena_strdup(&l->arena, norm);
		we->type = entry_type(ae);
		if (archive_entry_xattr_count(ae) > 0)
			we->flags |= WH_F_XATTR;
		if (we->type == WH_T_HARDLINK) {
			char tn[PATH_MAX];
			struct wh_error e3 = {0};
			if (path_normalize(archive_entry_hardlink(ae), tn, sizeof tn, &e3) < 0) {
				rc = wh_err(err, WH_EINPUT, "layer blob %s: hard link %s: %s", l->blob.name, norm, e3.msg);
				goto out;
			}
			we->link = arena_strdup(&l->arena, tn);
		} else if (we->type == WH_T_SYMLINK) {
			const char *t = archive_entry_symlink(ae);
			we->link = arena_strdup(&l->arena, t ? t : "");
		} else if (we->type == WH_T_REG) {
			we->size = (uint64_t)archive_entry_size(ae);
			l->size_bytes += we->size;
			rc = read_content(&p, l, we, captured, err);
			if (rc < 0)
				goto out;
		}
		l->n_entries++;
	}
	char diff_id[WH_DIGEST_LEN], blob_digest[WH_DIGEST_LEN];
	rc = pipe_finish(&p, diff_id, blob_digest, err);
	if (rc == 0) {
		if (!l->verify_digest)
			snprintf(l->digest, WH_DIGEST_LEN, "%s", blob_digest);
		rc = check_digests(l, diff_id, blob_digest, err);
	}
out:
	pipe_close(&p);
	if (rc == 0 && l->n_entries < cap)
		l->entries = xrealloc(l->entries, (l->n_entries ? l->n_entries : 1) * sizeof *l->entries);
	return rc;
}

void layer_entries_free(struct wh_layer *l)
{
	for (size_t i = 0; i < l->n_entries; i++)
		if (l->entries[i].extra && l->entries[i].extra->elf) {
			elf_info_free(l->entries[i].extra->elf);
			free(l->entries[i].extra->elf);
		}
	free(l->entries);
	l->entries = NULL;
	l->n_entries = 0;
	arena_free(&l->arena);
}

/* --- all layers, in parallel ---------------------------------------------------- */

struct pool {
	struct wh_image *img;
	_Atomic size_t next;
	_Atomic size_t done;
	_Atomic uint64_t bytes;
	_Atomic int stop;
	uint64_t total;
	struct wh_error *errs;
	int *rcs;
	const struct index_progress *prog;
	pthread_mutex_t lock;
	struct timespec last;
};

static void report_progress(struct pool *pl, int force)
{
	if (!pl->prog || !pl->prog->cb)
		return;
	pthread_mutex_lock(&pl->lock);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double dt = (double)(now.tv_sec - pl->last.tv_sec) + (double)(now.tv_nsec - pl->last.tv_nsec) / 1e9;
	if (force || dt >= 0.1) {
		pl->last = now;
		pl->prog->cb(pl->prog->ctx, atomic_load(&pl->done), pl->img->n_layers, atomic_load(&pl->bytes), pl->total);
	}
	pthread_mutex_unlock(&pl->lock);
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	for (;;) {
		if (atomic_load(&pl->stop))
			break;
		size_t i = atomic_fetch_add(&pl->next, 1);
		if (i >= pl->img->n_layers)
			break;
		pl->rcs[i] = layer_index_one(pl->img, &pl->img->layers[i], (uint64_t *)&pl->bytes, &pl->errs[i]);
		if (pl->rcs[i] < 0)
			atomic_store(&pl->stop, 1);
		atomic_fetch_add(&pl->done, 1);
		report_progress(pl, 1);
	}
	return NULL;
}

static void *ticker(void *arg)
{
	struct pool *pl = arg;
	while (atomic_load(&pl->done) < pl->img->n_layers && !atomic_load(&pl->stop)) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		report_progress(pl, 0);
	}
	return NULL;
}

int layer_index_all(struct wh_image *img, int jobs, const struct index_progress *prog, struct wh_error *err)
{
	if (jobs < 1)
		jobs = 1;
	if ((size_t)jobs > img->n_layers)
		jobs = img->n_layers ? (int)img->n_layers : 1;
	struct pool pl;
	memset(&pl, 0, sizeof pl);
	pl.img = img;
	pl.prog = prog;
	pl.errs = xcalloc(img->n_layers + 1, sizeof *pl.errs);
	pl.rcs = xcalloc(img->n_layers + 1, sizeof *pl.rcs);
	for (size_t i = 0; i < img->n_layers; i++)
		pl.total += img->layers[i].blob.length;
	pthread_mutex_init(&pl.lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &pl.last);
	pthread_t th[64], tick;
	int n = jobs > 64 ? 64 : jobs;
	int have_ticker = prog && prog->cb && pthread_create(&tick, NULL, ticker, &pl) == 0;
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, &pl) != 0)
			n = i;
	if (n == 0)
		worker(&pl);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (have_ticker) {
		atomic_store(&pl.stop, 1);
		pthread_join(tick, NULL);
	}
	int rc = 0;
	/* the first failing layer in order, whatever the thread timing */
	for (size_t i = 0; i < img->n_layers; i++)
		if (pl.rcs[i] < 0) {
			rc = pl.rcs[i];
			if (err && err->code == 0)
				*err = pl.errs[i];
			break;
		}
	if (rc == 0)
		report_progress(&pl, 1);
	pthread_mutex_destroy(&pl.lock);
	free(pl.errs);
	free(pl.rcs);
	return rc;
}

/* --- streaming again, for writers ------------------------------------------------- */

int layer_stream(const struct wh_layer *l, layer_visit_fn fn, void *ctx, struct wh_error *err)
{
	struct pipe p;
	const char *comp;
	int rc = pipe_open(&p, l, NULL, &comp, err);
	if (rc < 0)
		return rc;
	struct archive_entry *ae;
	char norm[PATH_MAX];
	for (;;) {
		int r = archive_read_next_header(p.tar, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = wh_err(err, WH_EINPUT, "layer blob %s: %s", l->blob.name,
			            p.raw_error ? p.raw_msg : archive_error_string(p.tar));
			goto out;
		}
		const char *name = archive_entry_pathname(ae);
		if (!name || path_normalize(name, norm, sizeof norm, err) < 0) {
			rc = wh_err(err, WH_EINPUT, "layer blob %s: bad entry name", l->blob.name);
			goto out;
		}
		rc = fn(ctx, p.tar, ae, norm);
		if (rc < 0)
			goto out;
	}
	char diff_id[WH_DIGEST_LEN], blob_digest[WH_DIGEST_LEN];
	rc = pipe_finish(&p, diff_id, blob_digest, err);
	if (rc == 0)
		rc = check_digests(l, diff_id, blob_digest, err);
out:
	pipe_close(&p);
	return rc;
}
