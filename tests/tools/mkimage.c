/* mkimage: write container images for the tests, with libarchive.
 *
 * Every expected value of a test derives from the test's own construction:
 * the test describes its layers in a SPEC file and mkimage writes them, in
 * the layout a real tool writes (docker save, Docker 25+ save, kaniko's
 * tarball, an OCI image layout as a directory or a tar). Output is
 * byte-deterministic. See tests/tools/README.md for the SPEC grammar. */
#include "analyzer/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CREATED "1970-01-01T00:00:00Z"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"

enum comp { COMP_NONE, COMP_GZIP, COMP_ZSTD };
enum fmt { FMT_DOCKER_ARCHIVE, FMT_DOCKER25, FMT_KANIKO, FMT_OCI, FMT_OCI_ARCHIVE };
enum corrupt {
	CORRUPT_NONE,
	CORRUPT_BLOB_DIGEST,
	CORRUPT_DIFF_ID,
	CORRUPT_MISSING_BLOB,
	CORRUPT_LAYER_COUNT,
	CORRUPT_BAD_JSON,
	CORRUPT_TRUNCATE_LAYER,
	CORRUPT_BAD_GZIP,
};

static const char *const corrupt_names[] = {
	"none", "blob-digest", "diff-id", "missing-blob", "layer-count",
	"bad-json", "truncate-layer", "bad-gzip",
};

static const char *prog = "mkimage";

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---------------------------------------------------------------- digests */

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		die("sha256 failed");
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = 0;
}

/* ------------------------------------------------------------ the layers */

struct layer {
	char *created_by;       /* NULL: none */
	struct archive *a;      /* open while the SPEC fills it */
	struct buf tar;         /* the uncompressed layer */
	char **names;           /* normalized names written, for hardlink checks */
	size_t nnames;
	/* a few bytes of the first non-empty regular file, to find its data */
	unsigned char probe[32];
	size_t probe_len;
	/* results */
	struct buf blob;        /* what is stored (maybe compressed / corrupted) */
	char diff_id[72];       /* sha256:... */
	char digest[72];        /* sha256:... of blob as described */
	size_t size;            /* as described */
	enum comp comp;
};

struct history {
	char *created_by;
	bool empty_layer;
};

struct image {
	struct layer *layers;
	size_t nlayers;
	struct history *hist;
	size_t nhist;
};

static la_ssize_t buf_write_cb(struct archive *a, void *ud, const void *p, size_t n)
{
	(void)a;
	buf_append(ud, p, n);
	return (la_ssize_t)n;
}

static void ar_check(struct archive *a, int r, const char *what)
{
	if (r < ARCHIVE_OK)
		die("%s: %s", what, archive_error_string(a) ? archive_error_string(a) : "libarchive error");
}

static struct archive *tar_writer_to_buf(struct buf *b)
{
	struct archive *a = archive_write_new();
	ar_check(a, archive_write_set_format_pax_restricted(a), "tar format");
	ar_check(a, archive_write_set_bytes_in_last_block(a, 1), "tar block");
	ar_check(a, archive_write_open2(a, b, NULL, buf_write_cb, NULL, NULL), "tar open");
	return a;
}

/* Compress bytes with libarchive's filters (raw format, one entry). */
static void compress_bytes(enum comp c, const uint8_t *p, size_t n, struct buf *out)
{
	out->len = 0;
	if (c == COMP_NONE) {
		buf_append(out, p, n);
		return;
	}
	struct archive *a = archive_write_new();
	ar_check(a, archive_write_set_format_raw(a), "raw format");
	if (c == COMP_GZIP) {
		ar_check(a, archive_write_add_filter_gzip(a), "gzip filter");
		ar_check(a, archive_write_set_options(a, "gzip:!timestamp"), "gzip options");
	} else {
		ar_check(a, archive_write_add_filter_zstd(a), "zstd filter");
	}
	ar_check(a, archive_write_set_bytes_per_block(a, 0), "block size");
	ar_check(a, archive_write_open2(a, out, NULL, buf_write_cb, NULL, NULL), "compress open");
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "layer");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	ar_check(a, archive_write_header(a, e), "compress header");
	size_t off = 0;
	while (off < n) {
		size_t k = n - off > 1 << 20 ? 1 << 20 : n - off;
		la_ssize_t w = archive_write_data(a, p + off, k);
		if (w < 0)
			ar_check(a, (int)w, "compress data");
		off += (size_t)w;
	}
	archive_entry_free(e);
	ar_check(a, archive_write_close(a), "compress close");
	archive_write_free(a);
	if (out->len == 0)
		buf_append(out, "", 0);
}

/* ------------------------------------------------------------ SPEC parsing */

struct parser {
	const char *file;
	int line;
	struct image *img;
	int64_t mtime;
};

__attribute__((noreturn, format(printf, 2, 3))) static void spec_die(struct parser *ps, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die("%s:%d: %s", ps->file, ps->line, msg);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Next whitespace-delimited token, or NULL at the end of the line. */
static char *next_tok(const char **pp)
{
	const char *p = skip_ws(*pp);
	if (!*p)
		return NULL;
	const char *s = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	*pp = p;
	return xstrndup(s, (size_t)(p - s));
}

static char *need_tok(struct parser *ps, const char **pp, const char *what)
{
	char *t = next_tok(pp);
	if (!t)
		spec_die(ps, "missing %s", what);
	return t;
}

static void no_more(struct parser *ps, const char **pp)
{
	const char *p = skip_ws(*pp);
	if (*p)
		spec_die(ps, "unexpected \"%s\" at the end of the line", p);
}

/* The rest of the line, trailing blanks dropped. */
static char *rest_of_line(const char **pp)
{
	const char *p = skip_ws(*pp);
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*pp = p + strlen(p);
	return xstrndup(p, n);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One C escape at s (s[0] == '\\'); returns bytes consumed, value in *v. */
static size_t unescape1(struct parser *ps, const char *s, unsigned char *v)
{
	switch (s[1]) {
	case 'n': *v = '\n'; return 2;
	case 't': *v = '\t'; return 2;
	case 'r': *v = '\r'; return 2;
	case '0': *v = 0; return 2;
	case 'a': *v = '\a'; return 2;
	case 'b': *v = '\b'; return 2;
	case 'f': *v = '\f'; return 2;
	case 'v': *v = '\v'; return 2;
	case 'e': *v = 27; return 2;
	case '\\': *v = '\\'; return 2;
	case '"': *v = '"'; return 2;
	case '\'': *v = '\''; return 2;
	case 'x': {
		int h = hexval((unsigned char)s[2]), l = hexval((unsigned char)s[3]);
		if (h < 0 || l < 0)
			spec_die(ps, "\\x needs two hex digits");
		*v = (unsigned char)(h * 16 + l);
		return 4;
	}
	default:
		spec_die(ps, "unknown escape \\%c", s[1] ? s[1] : ' ');
	}
}

static uint64_t parse_u64(struct parser *ps, const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		spec_die(ps, "bad %s \"%s\"", what, s);
	return v;
}

/* "@N:C" with C one byte or a C escape; returns bytes consumed at s. */
static size_t parse_fill(struct parser *ps, const char *s, uint64_t *count, unsigned char *byte)
{
	const char *p = s + 1;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(p, &end, 10);
	if (errno || end == p || *end != ':')
		spec_die(ps, "bad @SIZE:BYTE \"%s\"", s);
	p = end + 1;
	if (!*p)
		spec_die(ps, "@SIZE: needs a BYTE");
	if (*p == '\\')
		p += unescape1(ps, p, byte);
	else
		*byte = (unsigned char)*p++;
	*count = n;
	return (size_t)(p - s);
}

/* Decode a name: C escapes, and "@LEN:CHAR" expands to LEN copies of CHAR. */
static char *decode_name(struct parser *ps, const char *s)
{
	struct buf b = {0};
	while (*s) {
		unsigned char v;
		if (*s == '\\') {
			s += unescape1(ps, s, &v);
			if (!v)
				spec_die(ps, "NUL in a name");
			buf_append(&b, &v, 1);
		} else if (*s == '@') {
			uint64_t n;
			s += parse_fill(ps, s, &n, &v);
			if (n > 1 << 20)
				spec_die(ps, "name fill too long");
			for (uint64_t i = 0; i < n; i++)
				buf_append(&b, &v, 1);
		} else {
			buf_append(&b, s++, 1);
		}
	}
	buf_append(&b, "", 0);
	return (char *)b.data;
}

static char *norm_path(struct parser *ps, const char *tok)
{
	char *raw = decode_name(ps, tok);
	char out[8192];
	struct wh_error err = {0};
	if (path_normalize(raw, out, sizeof out, &err) < 0)
		spec_die(ps, "%s", err.msg);
	if (!out[0])
		spec_die(ps, "path \"%s\" names the root", raw);
	free(raw);
	return xstrdup(out);
}

static unsigned parse_mode(struct parser *ps, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 8);
	if (errno || end == s || *end || v > 07777)
		spec_die(ps, "bad octal MODE \"%s\"", s);
	return (unsigned)v;
}

static struct layer *cur_layer(struct parser *ps)
{
	if (!ps->img->nlayers)
		spec_die(ps, "an entry before the first \"layer\" line");
	return &ps->img->layers[ps->img->nlayers - 1];
}

static void close_layer(struct layer *l)
{
	if (!l->a)
		return;
	ar_check(l->a, archive_write_close(l->a), "layer close");
	archive_write_free(l->a);
	l->a = NULL;
	if (!l->tar.data)
		buf_append(&l->tar, "", 0);
}

static struct archive_entry *new_entry(struct parser *ps, const char *name, unsigned type, unsigned perm)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, (time_t)ps->mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	return e;
}

static void put_entry(struct parser *ps, struct archive_entry *e, const char *normname)
{
	struct layer *l = cur_layer(ps);
	int r = archive_write_header(l->a, e);
	if (r < ARCHIVE_OK)
		spec_die(ps, "writing \"%s\": %s", archive_entry_pathname(e), archive_error_string(l->a));
	if (normname) {
		if ((l->nnames & (l->nnames - 1)) == 0) /* grow at powers of two: linear, not quadratic */
			l->names = xrealloc(l->names, (l->nnames ? 2 * l->nnames : 1) * sizeof *l->names);
		l->names[l->nnames++] = xstrdup(normname);
	}
}

static void put_data(struct parser *ps, const void *p, size_t n)
{
	struct layer *l = cur_layer(ps);
	const uint8_t *q = p;
	while (n) {
		la_ssize_t w = archive_write_data(l->a, q, n);
		if (w <= 0)
			spec_die(ps, "writing data: %s", archive_error_string(l->a));
		q += w;
		n -= (size_t)w;
	}
}

static void probe(struct layer *l, const uint8_t *p, size_t n)
{
	if (l->probe_len || !n)
		return;
	l->probe_len = n < sizeof l->probe ? n : sizeof l->probe;
	memcpy(l->probe, p, l->probe_len);
}

static void spec_layer(struct parser *ps, const char **pp)
{
	struct image *img = ps->img;
	if (img->nlayers)
		close_layer(&img->layers[img->nlayers - 1]);
	char *cb = rest_of_line(pp);
	img->layers = xrealloc(img->layers, (img->nlayers + 1) * sizeof *img->layers);
	struct layer *l = &img->layers[img->nlayers++];
	memset(l, 0, sizeof *l);
	l->created_by = cb[0] ? cb : (free(cb), NULL);
	l->a = tar_writer_to_buf(&l->tar);
	img->hist = xrealloc(img->hist, (img->nhist + 1) * sizeof *img->hist);
	img->hist[img->nhist++] = (struct history){l->created_by ? xstrdup(l->created_by) : NULL, false};
}

static void spec_history(struct parser *ps, const char **pp)
{
	struct image *img = ps->img;
	char *cb = rest_of_line(pp);
	img->hist = xrealloc(img->hist, (img->nhist + 1) * sizeof *img->hist);
	img->hist[img->nhist++] = (struct history){cb[0] ? cb : (free(cb), NULL), true};
}

static void spec_file(struct parser *ps, const char **pp)
{
	char *tok = need_tok(ps, pp, "PATH");
	char *path = norm_path(ps, tok);
	char *ms = need_tok(ps, pp, "MODE"), *us = need_tok(ps, pp, "UID"), *gs = need_tok(ps, pp, "GID");
	unsigned mode = parse_mode(ps, ms);
	uint64_t uid = parse_u64(ps, us, "UID"), gid = parse_u64(ps, gs, "GID");
	char *content = rest_of_line(pp);
	struct layer *l = cur_layer(ps);

	struct buf data = {0};
	uint64_t fill_n = 0;
	unsigned char fill_b = 0;
	bool fill = false;
	size_t cl = strlen(content);
	if (content[0] == '@' && content[1] >= '0' && content[1] <= '9') {
		size_t used = parse_fill(ps, content, &fill_n, &fill_b);
		if (content[used])
			spec_die(ps, "junk after @SIZE:BYTE");
		fill = true;
	} else if (content[0] == '<') {
		struct wh_error err = {0};
		if (read_host_file(content + 1, &data, SIZE_MAX / 2, &err) < 0)
			spec_die(ps, "%s", err.msg);
	} else {
		const char *s = content;
		size_t n = cl;
		if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
			s++;
			n -= 2;
		}
		const char *end = s + n;
		while (s < end) {
			unsigned char v;
			if (*s == '\\') {
				if (s + 1 >= end)
					spec_die(ps, "a lone \\ at the end of CONTENT");
				s += unescape1(ps, s, &v);
			} else {
				v = (unsigned char)*s++;
			}
			buf_append(&data, &v, 1);
		}
	}
	uint64_t size = fill ? fill_n : data.len;

	struct archive_entry *e = new_entry(ps, path, AE_IFREG, mode);
	archive_entry_set_uid(e, (la_int64_t)uid);
	archive_entry_set_gid(e, (la_int64_t)gid);
	archive_entry_set_size(e, (la_int64_t)size);
	put_entry(ps, e, path);
	archive_entry_free(e);
	if (fill) {
		uint8_t chunk[65536];
		memset(chunk, fill_b, sizeof chunk);
		probe(l, chunk, size < sizeof chunk ? (size_t)size : sizeof chunk);
		uint64_t left = size;
		while (left) {
			size_t k = left < sizeof chunk ? (size_t)left : sizeof chunk;
			put_data(ps, chunk, k);
			left -= k;
		}
	} else {
		probe(l, data.data, data.len);
		put_data(ps, data.data, data.len);
	}
	buf_free(&data);
	free(tok), free(path), free(ms), free(us), free(gs), free(content);
}

static void spec_dir(struct parser *ps, const char **pp)
{
	char *tok = need_tok(ps, pp, "PATH");
	char *path = norm_path(ps, tok);
	char *ms = need_tok(ps, pp, "MODE"), *us = need_tok(ps, pp, "UID"), *gs = need_tok(ps, pp, "GID");
	no_more(ps, pp);
	struct archive_entry *e = new_entry(ps, path, AE_IFDIR, parse_mode(ps, ms));
	archive_entry_set_uid(e, (la_int64_t)parse_u64(ps, us, "UID"));
	archive_entry_set_gid(e, (la_int64_t)parse_u64(ps, gs, "GID"));
	put_entry(ps, e, path);
	archive_entry_free(e);
	free(tok), free(path), free(ms), free(us), free(gs);
}

static void spec_symlink(struct parser *ps, const char **pp)
{
	char *tok = need_tok(ps, pp, "PATH"), *tt = need_tok(ps, pp, "TARGET");
	no_more(ps, pp);
	char *path = norm_path(ps, tok), *target = decode_name(ps, tt);
	struct archive_entry *e = new_entry(ps, path, AE_IFLNK, 0777);
	archive_entry_set_symlink(e, target);
	put_entry(ps, e, path);
	archive_entry_free(e);
	free(tok), free(tt), free(path), free(target);
}

static void spec_hardlink(struct parser *ps, const char **pp)
{
	char *tok = need_tok(ps, pp, "PATH"), *tt = need_tok(ps, pp, "TARGET");
	no_more(ps, pp);
	char *path = norm_path(ps, tok), *target = norm_path(ps, tt);
	struct layer *l = cur_layer(ps);
	bool found = false;
	for (size_t i = 0; i < l->nnames && !found; i++)
		found = strcmp(l->names[i], target) == 0;
	if (!found)
		spec_die(ps, "hardlink target \"%s\" is not an earlier entry of this layer "
		         "(use \"raw NAME h TARGET\" for a dangling one)", target);
	struct archive_entry *e = new_entry(ps, path, AE_IFREG, 0644);
	archive_entry_set_hardlink(e, target);
	archive_entry_set_size(e, 0);
	put_entry(ps, e, path);
	archive_entry_free(e);
	free(tok), free(tt), free(path), free(target);
}

static void put_empty_file(struct parser *ps, const char *name)
{
	struct archive_entry *e = new_entry(ps, name, AE_IFREG, 0644);
	archive_entry_set_size(e, 0);
	put_entry(ps, e, name);
	archive_entry_free(e);
}

static void spec_whiteout(struct parser *ps, const char **pp)
{
	char *tok = need_tok(ps, pp, "PATH");
	no_more(ps, pp);
	char *path = norm_path(ps, tok);
	char *slash = strrchr(path, '/');
	char *name = slash ? xasprintf("%.*s/.wh.%s", (int)(slash - path), path, slash + 1)
	                   : xasprintf(".wh.%s", path);
	put_empty_file(ps, name);
	free(tok), free(path), free(name);
}

static void spec_opaque(struct parser *ps, const char **pp)
{
	char *tok = need_tok(ps, pp, "DIR");
	no_more(ps, pp);
	char *raw = decode_name(ps, tok);
	char out[8192];
	struct wh_error err = {0};
	if (path_normalize(raw, out, sizeof out, &err) < 0)
		spec_die(ps, "%s", err.msg);
	char *name = out[0] ? xasprintf("%s/.wh..wh..opq", out) : xstrdup(".wh..wh..opq");
	put_empty_file(ps, name);
	free(tok), free(raw), free(name);
}

static void spec_raw(struct parser *ps, const char **pp)
{
	char *nt = need_tok(ps, pp, "NAME"), *tt = need_tok(ps, pp, "TYPE");
	char *name = decode_name(ps, nt);
	struct archive_entry *e = NULL;
	char *arg = NULL;
	if (!strcmp(tt, "f")) {
		arg = need_tok(ps, pp, "SIZE");
		uint64_t size = parse_u64(ps, arg, "SIZE");
		e = new_entry(ps, name, AE_IFREG, 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		put_entry(ps, e, NULL);
		uint8_t zero[4096] = {0};
		while (size) {
			size_t k = size < sizeof zero ? (size_t)size : sizeof zero;
			put_data(ps, zero, k);
			size -= k;
		}
	} else if (!strcmp(tt, "d")) {
		arg = next_tok(pp); /* SIZE, ignored */
		e = new_entry(ps, name, AE_IFDIR, 0755);
		put_entry(ps, e, NULL);
	} else if (!strcmp(tt, "l") || !strcmp(tt, "h")) {
		arg = need_tok(ps, pp, "TARGET");
		char *target = decode_name(ps, arg);
		if (tt[0] == 'l') {
			e = new_entry(ps, name, AE_IFLNK, 0777);
			archive_entry_set_symlink(e, target);
		} else {
			e = new_entry(ps, name, AE_IFREG, 0644);
			archive_entry_set_hardlink(e, target);
			archive_entry_set_size(e, 0);
		}
		put_entry(ps, e, NULL);
		free(target);
	} else {
		spec_die(ps, "raw TYPE must be f, d, l or h, not \"%s\"", tt);
	}
	no_more(ps, pp);
	archive_entry_free(e);
	free(nt), free(tt), free(name), free(arg);
}

static void spec_node(struct parser *ps, const char **pp, unsigned type)
{
	char *tok = need_tok(ps, pp, "PATH"), *ms = need_tok(ps, pp, "MODE");
	char *path = norm_path(ps, tok);
	struct archive_entry *e = new_entry(ps, path, type, parse_mode(ps, ms));
	if (type != AE_IFIFO) {
		char *ma = next_tok(pp), *mi = NULL;
		if (ma) {
			mi = need_tok(ps, pp, "MINOR");
			archive_entry_set_rdevmajor(e, (dev_t)parse_u64(ps, ma, "MAJOR"));
			archive_entry_set_rdevminor(e, (dev_t)parse_u64(ps, mi, "MINOR"));
		}
		free(ma), free(mi);
	}
	no_more(ps, pp);
	put_entry(ps, e, path);
	archive_entry_free(e);
	free(tok), free(ms), free(path);
}

static void parse_spec(const char *file, struct image *img)
{
	struct buf b = {0};
	struct wh_error err = {0};
	if (read_host_file(file, &b, 64 << 20, &err) < 0)
		die("%s", err.msg);
	struct parser ps = {.file = file, .img = img};
	/* split by hand: strtok would merge empty lines and lose line numbers */
	char *p = (char *)b.data;
	while (p && *p) {
		ps.line++;
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		size_t n = strlen(p);
		if (n && p[n - 1] == '\r')
			p[n - 1] = 0;
		const char *q = skip_ws(p);
		if (*q && *q != '#') {
			char *kw = next_tok(&q);
			if (!strcmp(kw, "layer"))
				spec_layer(&ps, &q);
			else if (!strcmp(kw, "history"))
				spec_history(&ps, &q);
			else if (!strcmp(kw, "file"))
				spec_file(&ps, &q);
			else if (!strcmp(kw, "dir"))
				spec_dir(&ps, &q);
			else if (!strcmp(kw, "symlink"))
				spec_symlink(&ps, &q);
			else if (!strcmp(kw, "hardlink"))
				spec_hardlink(&ps, &q);
			else if (!strcmp(kw, "whiteout"))
				spec_whiteout(&ps, &q);
			else if (!strcmp(kw, "opaque"))
				spec_opaque(&ps, &q);
			else if (!strcmp(kw, "raw"))
				spec_raw(&ps, &q);
			else if (!strcmp(kw, "char"))
				spec_node(&ps, &q, AE_IFCHR);
			else if (!strcmp(kw, "block"))
				spec_node(&ps, &q, AE_IFBLK);
			else if (!strcmp(kw, "fifo"))
				spec_node(&ps, &q, AE_IFIFO);
			else if (!strcmp(kw, "mtime")) {
				char *t = need_tok(&ps, &q, "N");
				char *end;
				errno = 0;
				long long v = strtoll(t, &end, 10);
				if (errno || end == t || *end)
					spec_die(&ps, "bad mtime \"%s\"", t);
				ps.mtime = v;
				no_more(&ps, &q);
				free(t);
			} else
				spec_die(&ps, "unknown keyword \"%s\"", kw);
			free(kw);
		}
		p = nl ? nl + 1 : NULL;
	}
	buf_free(&b);
	if (!img->nlayers)
		die("%s: no \"layer\" line: an image needs at least one layer", file);
	close_layer(&img->layers[img->nlayers - 1]);
}

/* ---------------------------------------------------------------- options */

struct opts {
	enum comp comp;
	bool comp_set;
	enum fmt fmt;
	const char *arch, *os, *user, *workdir;
	json_t *entrypoint, *cmd;
	char **tags;
	size_t ntags;
	char **env;
	size_t nenv;
	char **vol;
	size_t nvol;
	enum corrupt corrupt;
	size_t corrupt_layer;
	const char *add_to;
	bool platform_index;
	const char *spec, *output;
};

/* ------------------------------------------------------- blobs and layout */

struct ofile {
	char *name;
	struct buf data;
	bool dir;
};

struct out {
	struct ofile *f;
	size_t n;
};

static struct ofile *out_add(struct out *o, const char *name, const void *p, size_t n)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->f[i].name, name))
			return &o->f[i]; /* same content-addressed blob */
	o->f = xrealloc(o->f, (o->n + 1) * sizeof *o->f);
	struct ofile *f = &o->f[o->n++];
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	buf_append(&f->data, p, n);
	return f;
}

static void out_dir(struct out *o, const char *name)
{
	struct ofile *f = out_add(o, name, "", 0);
	f->dir = true;
}

static struct ofile *out_find(struct out *o, const char *name)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->f[i].name, name))
			return &o->f[i];
	return NULL;
}

static int ofile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ofile *)a)->name, ((const struct ofile *)b)->name);
}

static struct buf json_bytes(json_t *j, bool newline)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!s)
		die("json_dumps failed");
	struct buf b = {0};
	buf_append(&b, s, strlen(s));
	if (newline)
		buf_append(&b, "\n", 1);
	free(s);
	return b;
}

static const char *layer_media_type(enum comp c)
{
	switch (c) {
	case COMP_GZIP: return MT_OCI_LAYER "+gzip";
	case COMP_ZSTD: return MT_OCI_LAYER "+zstd";
	default: return MT_OCI_LAYER;
	}
}

/* Flip one byte of the blob without changing its length or, where it can
 * be helped, its readability: the error a reader meets is the digest. */
static void corrupt_blob_bytes(struct layer *l)
{
	/* find the data of the layer's first non-empty regular file */
	uint8_t *hit = NULL;
	if (l->probe_len && l->tar.len > 512)
		hit = memmem(l->tar.data + 512, l->tar.len - 512, l->probe, l->probe_len);
	if (l->comp == COMP_NONE) {
		if (hit)
			l->blob.data[hit - l->tar.data] ^= 1;
		else
			l->blob.data[l->blob.len - 1] ^= 1;
		return;
	}
	/* compressed: change a content byte and recompress, keeping the result
	 * if the length stays, so the stream still decompresses and both the
	 * blob digest and the diff_id mismatch (docker-archive and kaniko
	 * readers only check the diff_id) */
	if (hit) {
		size_t off = (size_t)(hit - l->tar.data);
		for (size_t i = 0; i < l->probe_len; i++) {
			for (int bit = 0; bit < 8; bit++) {
				struct buf tar = {0}, z = {0};
				buf_append(&tar, l->tar.data, l->tar.len);
				tar.data[off + i] ^= (uint8_t)(1u << bit);
				compress_bytes(l->comp, tar.data, tar.len, &z);
				bool ok = z.len == l->blob.len && memcmp(z.data, l->blob.data, z.len);
				if (ok)
					memcpy(l->blob.data, z.data, z.len);
				buf_free(&tar);
				buf_free(&z);
				if (ok)
					return;
			}
		}
	}
	if (l->comp == COMP_GZIP && l->blob.len > 10) {
		fprintf(stderr, "%s: warning: blob-digest: flipping the gzip MTIME field "
		        "(the diff_id still matches)\n", prog);
		l->blob.data[4] ^= 1; /* still valid gzip */
		return;
	}
	fprintf(stderr, "%s: warning: blob-digest: flipping the last byte of a zstd layer\n", prog);
	l->blob.data[l->blob.len - 1] ^= 1;
}

static void make_blobs(struct opts *o, struct image *img)
{
	for (size_t i = 0; i < img->nlayers; i++) {
		struct layer *l = &img->layers[i];
		char hex[65];
		l->comp = o->comp;
		sha256_hex(l->tar.data, l->tar.len, hex);
		snprintf(l->diff_id, sizeof l->diff_id, "sha256:%s", hex);
		compress_bytes(l->comp, l->tar.data, l->tar.len, &l->blob);
		bool target = i == o->corrupt_layer;
		if (target && o->corrupt == CORRUPT_BAD_GZIP) {
			static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
			size_t n = l->blob.len > 64 ? l->blob.len : 64;
			l->blob.len = 0;
			buf_append(&l->blob, hdr, sizeof hdr);
			for (size_t k = 0; k < n; k++) {
				uint8_t g = (uint8_t)(0xff - (k % 7));
				buf_append(&l->blob, &g, 1);
			}
			l->comp = COMP_GZIP;
		}
		if (target && o->corrupt == CORRUPT_TRUNCATE_LAYER) {
			l->blob.len /= 2;
			if (l->comp == COMP_NONE) {
				sha256_hex(l->blob.data, l->blob.len, hex);
				snprintf(l->diff_id, sizeof l->diff_id, "sha256:%s", hex);
			}
		}
		sha256_hex(l->blob.data, l->blob.len, hex);
		snprintf(l->digest, sizeof l->digest, "sha256:%s", hex);
		l->size = l->blob.len;
		if (target && o->corrupt == CORRUPT_BLOB_DIGEST)
			corrupt_blob_bytes(l);
	}
}

static json_t *str_array(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static struct buf make_config(struct opts *o, struct image *img)
{
	json_t *c = json_object();
	json_object_set_new(c, "architecture", json_string(o->arch));
	json_object_set_new(c, "created", json_string(CREATED));
	json_object_set_new(c, "os", json_string(o->os));
	json_t *cc = json_object();
	if (o->user)
		json_object_set_new(cc, "User", json_string(o->user));
	if (o->nenv)
		json_object_set_new(cc, "Env", str_array(o->env, o->nenv));
	if (o->nvol) {
		json_t *v = json_object();
		for (size_t i = 0; i < o->nvol; i++)
			json_object_set_new(v, o->vol[i], json_object());
		json_object_set_new(cc, "Volumes", v);
	}
	if (o->entrypoint)
		json_object_set(cc, "Entrypoint", o->entrypoint);
	if (o->cmd)
		json_object_set(cc, "Cmd", o->cmd);
	if (o->workdir)
		json_object_set_new(cc, "WorkingDir", json_string(o->workdir));
	json_object_set_new(c, "config", cc);
	json_t *rootfs = json_object();
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_t *ids = json_array();
	for (size_t i = 0; i < img->nlayers; i++) {
		char id[72];
		snprintf(id, sizeof id, "%s", img->layers[i].diff_id);
		if (o->corrupt == CORRUPT_DIFF_ID && i == o->corrupt_layer) {
			char *h = id + 7;
			h[0] = h[0] == '0' ? '1' : '0';
		}
		json_array_append_new(ids, json_string(id));
	}
	if (o->corrupt == CORRUPT_LAYER_COUNT) {
		char hex[65];
		sha256_hex("mkimage: a layer that is not there", 34, hex);
		json_array_append_new(ids, json_sprintf("sha256:%s", hex));
	}
	json_object_set_new(rootfs, "diff_ids", ids);
	json_object_set_new(c, "rootfs", rootfs);
	json_t *hist = json_array();
	for (size_t i = 0; i < img->nhist; i++) {
		json_t *h = json_object();
		json_object_set_new(h, "created", json_string(CREATED));
		if (img->hist[i].created_by)
			json_object_set_new(h, "created_by", json_string(img->hist[i].created_by));
		if (img->hist[i].empty_layer)
			json_object_set_new(h, "empty_layer", json_true());
		json_array_append_new(hist, h);
	}
	json_object_set_new(c, "history", hist);
	struct buf b = json_bytes(c, false);
	json_decref(c);
	return b;
}

static json_t *descriptor(const char *mt, const char *digest, size_t size)
{
	json_t *d = json_object();
	json_object_set_new(d, "mediaType", json_string(mt));
	json_object_set_new(d, "digest", json_string(digest));
	json_object_set_new(d, "size", json_integer((json_int_t)size));
	return d;
}

static json_t *platform(struct opts *o)
{
	json_t *p = json_object();
	json_object_set_new(p, "architecture", json_string(o->arch));
	json_object_set_new(p, "os", json_string(o->os));
	return p;
}

static void blob_digest(const struct buf *b, char out[72])
{
	char hex[65];
	sha256_hex(b->data, b->len, hex);
	snprintf(out, 72, "sha256:%s", hex);
}

static void add_blob(struct out *out, const char *digest, const struct buf *b)
{
	char *name = xasprintf("blobs/sha256/%s", digest + 7);
	out_add(out, name, b->data, b->len);
	free(name);
}

/* Layers as blobs/sha256/<hex>, and the layer the corruption drops. */
static void add_layer_blobs(struct opts *o, struct image *img, struct out *out)
{
	for (size_t i = 0; i < img->nlayers; i++) {
		if (o->corrupt == CORRUPT_MISSING_BLOB && i == o->corrupt_layer)
			continue;
		add_blob(out, img->layers[i].digest, &img->layers[i].blob);
	}
}

/* The OCI manifest; returns its bytes, config blob added to out. */
static struct buf make_oci_manifest(struct opts *o, struct image *img, struct out *out, char cfg_digest[72])
{
	struct buf cfg = make_config(o, img);
	blob_digest(&cfg, cfg_digest);
	add_blob(out, cfg_digest, &cfg);
	json_t *m = json_object();
	json_object_set_new(m, "schemaVersion", json_integer(2));
	json_object_set_new(m, "mediaType", json_string(MT_OCI_MANIFEST));
	json_object_set_new(m, "config", descriptor(MT_OCI_CONFIG, cfg_digest, cfg.len));
	json_t *ls = json_array();
	for (size_t i = 0; i < img->nlayers; i++) {
		struct layer *l = &img->layers[i];
		json_array_append_new(ls, descriptor(layer_media_type(l->comp), l->digest, l->size));
	}
	json_object_set_new(m, "layers", ls);
	struct buf b = json_bytes(m, false);
	json_decref(m);
	buf_free(&cfg);
	return b;
}

/* Split NAME:TAG (a bare NAME gets "latest"). */
static void split_tag(const char *t, char **name, char **tag)
{
	const char *slash = strrchr(t, '/');
	const char *colon = strrchr(slash ? slash : t, ':');
	if (colon) {
		*name = xstrndup(t, (size_t)(colon - t));
		*tag = xstrdup(colon + 1);
	} else {
		*name = xstrdup(t);
		*tag = xstrdup("latest");
	}
	if (!**name || !**tag)
		die("--tag \"%s\": needs NAME:TAG", t);
}

/* docker.io/library/NAME:TAG, as the engine names an image. */
static char *full_ref(const char *name, const char *tag)
{
	const char *slash = strchr(name, '/');
	if (!slash)
		return xasprintf("docker.io/library/%s:%s", name, tag);
	size_t n = (size_t)(slash - name);
	bool domain = memchr(name, '.', n) || memchr(name, ':', n) || (n == 9 && !strncmp(name, "localhost", 9));
	return domain ? xasprintf("%s:%s", name, tag) : xasprintf("docker.io/%s:%s", name, tag);
}

static void truncate_json(struct out *out, const char *name)
{
	struct ofile *f = out_find(out, name);
	if (f)
		f->data.len /= 2;
}

static json_t *repotags(struct opts *o)
{
	if (!o->ntags)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < o->ntags; i++) {
		char *n, *t;
		split_tag(o->tags[i], &n, &t);
		json_array_append_new(a, json_sprintf("%s:%s", n, t));
		free(n), free(t);
	}
	return a;
}

static void add_repositories(struct opts *o, struct out *out, const char *top)
{
	if (!o->ntags)
		return;
	json_t *r = json_object();
	for (size_t i = 0; i < o->ntags; i++) {
		char *n, *t;
		split_tag(o->tags[i], &n, &t);
		json_t *m = json_object_get(r, n);
		if (!m) {
			m = json_object();
			json_object_set_new(r, n, m);
		}
		json_object_set_new(m, t, json_string(top));
		free(n), free(t);
	}
	struct buf b = json_bytes(r, true);
	out_add(out, "repositories", b.data, b.len);
	buf_free(&b);
	json_decref(r);
}

/* Legacy `docker save`: <v1id>/{VERSION,json,layer.tar}, <cfghex>.json. */
static void layout_docker_archive(struct opts *o, struct image *img, struct out *out)
{
	struct buf cfg = make_config(o, img);
	char cfgd[72];
	blob_digest(&cfg, cfgd);
	char *cfgname = xasprintf("%s.json", cfgd + 7);
	out_add(out, cfgname, cfg.data, cfg.len);

	json_t *layers = json_array();
	char parent[65] = "", chain[72] = "";
	for (size_t i = 0; i < img->nlayers; i++) {
		struct layer *l = &img->layers[i];
		/* chain id as the engine computes it; the v1 id from it */
		if (i == 0) {
			snprintf(chain, sizeof chain, "%s", l->diff_id);
		} else {
			char *s = xasprintf("%s %s", chain, l->diff_id), hex[65];
			sha256_hex(s, strlen(s), hex);
			snprintf(chain, sizeof chain, "sha256:%s", hex);
			free(s);
		}
		char *seed = xasprintf("{\"created\":\"%s\",\"layer_id\":\"%s\",\"parent\":\"%s\"%s%s}",
		                       CREATED, chain, parent,
		                       i + 1 == img->nlayers ? ",\"config\":" : "",
		                       i + 1 == img->nlayers ? cfgd : "");
		char id[65];
		sha256_hex(seed, strlen(seed), id);
		free(seed);
		char *dn = xasprintf("%s/", id);
		out_dir(out, dn);
		char *vn = xasprintf("%s/VERSION", id);
		out_add(out, vn, "1.0", 3);
		json_t *v1 = json_object();
		json_object_set_new(v1, "id", json_string(id));
		if (parent[0])
			json_object_set_new(v1, "parent", json_string(parent));
		json_object_set_new(v1, "created", json_string(CREATED));
		json_object_set_new(v1, "os", json_string(o->os));
		if (i + 1 == img->nlayers)
			json_object_set_new(v1, "architecture", json_string(o->arch));
		struct buf vj = json_bytes(v1, false);
		char *jn = xasprintf("%s/json", id);
		out_add(out, jn, vj.data, vj.len);
		char *ln = xasprintf("%s/layer.tar", id);
		if (!(o->corrupt == CORRUPT_MISSING_BLOB && i == o->corrupt_layer))
			out_add(out, ln, l->blob.data, l->blob.len);
		json_array_append_new(layers, json_string(ln));
		snprintf(parent, sizeof parent, "%s", id);
		json_decref(v1);
		buf_free(&vj);
		free(dn), free(vn), free(jn), free(ln);
	}
	json_t *m = json_array(), *item = json_object();
	json_object_set_new(item, "Config", json_string(cfgname));
	json_object_set_new(item, "RepoTags", repotags(o));
	json_object_set_new(item, "Layers", layers);
	json_array_append_new(m, item);
	struct buf mb = json_bytes(m, true);
	out_add(out, "manifest.json", mb.data, mb.len);
	add_repositories(o, out, parent);
	if (o->corrupt == CORRUPT_BAD_JSON)
		truncate_json(out, "manifest.json");
	json_decref(m);
	buf_free(&mb);
	buf_free(&cfg);
	free(cfgname);
}

/* kaniko (go-containerregistry's tarball): sha256:<hex> config,
 * <hex-of-compressed>.tar.gz layers, manifest.json; written in that order. */
static void layout_kaniko(struct opts *o, struct image *img, struct out *out)
{
	struct buf cfg = make_config(o, img);
	char cfgd[72];
	blob_digest(&cfg, cfgd);
	out_add(out, cfgd, cfg.data, cfg.len);
	json_t *layers = json_array();
	for (size_t i = 0; i < img->nlayers; i++) {
		struct layer *l = &img->layers[i];
		char *ln = xasprintf("%s.tar.gz", l->digest + 7);
		if (!(o->corrupt == CORRUPT_MISSING_BLOB && i == o->corrupt_layer))
			out_add(out, ln, l->blob.data, l->blob.len);
		json_array_append_new(layers, json_string(ln));
		free(ln);
	}
	json_t *m = json_array(), *item = json_object();
	json_object_set_new(item, "Config", json_string(cfgd));
	json_object_set_new(item, "RepoTags", repotags(o));
	json_object_set_new(item, "Layers", layers);
	json_array_append_new(m, item);
	struct buf mb = json_bytes(m, false);
	out_add(out, "manifest.json", mb.data, mb.len);
	if (o->corrupt == CORRUPT_BAD_JSON)
		truncate_json(out, "manifest.json");
	json_decref(m);
	buf_free(&mb);
	buf_free(&cfg);
}

static const char oci_layout_json[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

/* Docker 25+ `docker save`: an OCI layout plus manifest.json and
 * repositories pointing into blobs/sha256. */
static void layout_docker25(struct opts *o, struct image *img, struct out *out)
{
	out_dir(out, "blobs/");
	out_dir(out, "blobs/sha256/");
	add_layer_blobs(o, img, out);
	char cfgd[72], md[72];
	struct buf man = make_oci_manifest(o, img, out, cfgd);
	blob_digest(&man, md);
	add_blob(out, md, &man);

	json_t *idx = json_object(), *mans = json_array();
	json_object_set_new(idx, "schemaVersion", json_integer(2));
	json_object_set_new(idx, "mediaType", json_string(MT_OCI_INDEX));
	json_t *repo_tags = json_array();
	for (size_t i = 0; i < o->ntags; i++) {
		char *n, *t;
		split_tag(o->tags[i], &n, &t);
		json_t *d = descriptor(MT_OCI_MANIFEST, md, man.len);
		json_t *an = json_object();
		char *ref = full_ref(n, t);
		json_object_set_new(an, "io.containerd.image.name", json_string(ref));
		json_object_set_new(an, "org.opencontainers.image.ref.name", json_string(t));
		json_object_set_new(d, "annotations", an);
		json_object_set_new(d, "platform", platform(o));
		json_array_append_new(mans, d);
		json_array_append_new(repo_tags, json_sprintf("%s:%s", n, t));
		free(ref), free(n), free(t);
	}
	if (!o->ntags) {
		json_t *d = descriptor(MT_OCI_MANIFEST, md, man.len);
		json_object_set_new(d, "platform", platform(o));
		json_array_append_new(mans, d);
	}
	json_object_set_new(idx, "manifests", mans);
	struct buf ib = json_bytes(idx, false);
	out_add(out, "index.json", ib.data, ib.len);
	out_add(out, "oci-layout", oci_layout_json, strlen(oci_layout_json));

	json_t *m = json_array(), *item = json_object();
	json_object_set_new(item, "Config", json_sprintf("blobs/sha256/%s", cfgd + 7));
	json_object_set_new(item, "RepoTags", o->ntags ? repo_tags : (json_decref(repo_tags), json_null()));
	json_t *layers = json_array();
	for (size_t i = 0; i < img->nlayers; i++)
		json_array_append_new(layers, json_sprintf("blobs/sha256/%s", img->layers[i].digest + 7));
	json_object_set_new(item, "Layers", layers);
	json_array_append_new(m, item);
	struct buf mb = json_bytes(m, true);
	out_add(out, "manifest.json", mb.data, mb.len);
	add_repositories(o, out, img->layers[img->nlayers - 1].diff_id + 7);
	if (o->corrupt == CORRUPT_BAD_JSON) {
		truncate_json(out, "manifest.json");
		truncate_json(out, "index.json");
	}
	json_decref(idx);
	json_decref(m);
	buf_free(&ib);
	buf_free(&mb);
	buf_free(&man);
}

/* The descriptors this image adds to index.json (one per tag). */
static void oci_index_entries(struct opts *o, struct image *img, struct out *out, json_t *mans)
{
	add_layer_blobs(o, img, out);
	char cfgd[72], md[72];
	struct buf man = make_oci_manifest(o, img, out, cfgd);
	blob_digest(&man, md);
	add_blob(out, md, &man);
	const char *mt = MT_OCI_MANIFEST;
	size_t size = man.len;
	char top[72];
	snprintf(top, sizeof top, "%s", md);
	if (o->platform_index) {
		json_t *ni = json_object(), *nm = json_array();
		json_object_set_new(ni, "schemaVersion", json_integer(2));
		json_object_set_new(ni, "mediaType", json_string(MT_OCI_INDEX));
		json_t *d = descriptor(MT_OCI_MANIFEST, md, man.len);
		json_object_set_new(d, "platform", platform(o));
		json_array_append_new(nm, d);
		json_object_set_new(ni, "manifests", nm);
		struct buf nb = json_bytes(ni, false);
		blob_digest(&nb, top);
		add_blob(out, top, &nb);
		mt = MT_OCI_INDEX;
		size = nb.len;
		buf_free(&nb);
		json_decref(ni);
	}
	for (size_t i = 0; i < o->ntags || (i == 0 && !o->ntags); i++) {
		json_t *d = descriptor(mt, top, size);
		if (o->ntags) {
			json_t *an = json_object();
			json_object_set_new(an, "org.opencontainers.image.ref.name", json_string(o->tags[i]));
			json_object_set_new(d, "annotations", an);
		}
		json_array_append_new(mans, d);
	}
	buf_free(&man);
}

static void layout_oci(struct opts *o, struct image *img, struct out *out)
{
	out_dir(out, "blobs/");
	out_dir(out, "blobs/sha256/");
	json_t *idx = json_object(), *mans = json_array();
	json_object_set_new(idx, "schemaVersion", json_integer(2));
	json_object_set_new(idx, "mediaType", json_string(MT_OCI_INDEX));
	oci_index_entries(o, img, out, mans);
	json_object_set_new(idx, "manifests", mans);
	struct buf ib = json_bytes(idx, false);
	out_add(out, "index.json", ib.data, ib.len);
	out_add(out, "oci-layout", oci_layout_json, strlen(oci_layout_json));
	if (o->corrupt == CORRUPT_BAD_JSON)
		truncate_json(out, "index.json");
	json_decref(idx);
	buf_free(&ib);
}

/* ------------------------------------------------------------- writing */

static void write_tar(const char *path, struct out *out)
{
	struct archive *a = archive_write_new();
	ar_check(a, archive_write_set_format_pax_restricted(a), "tar format");
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(a));
	ar_check(a, archive_write_set_bytes_in_last_block(a, 1), "tar block");
	for (size_t i = 0; i < out->n; i++) {
		struct ofile *f = &out->f[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, f->name);
		archive_entry_set_filetype(e, f->dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(e, f->dir ? 0755 : 0644);
		archive_entry_set_mtime(e, 0, 0);
		archive_entry_set_size(e, f->dir ? 0 : (la_int64_t)f->data.len);
		ar_check(a, archive_write_header(a, e), f->name);
		size_t off = 0;
		while (!f->dir && off < f->data.len) {
			la_ssize_t w = archive_write_data(a, f->data.data + off, f->data.len - off);
			if (w <= 0)
				die("%s: writing %s: %s", path, f->name, archive_error_string(a));
			off += (size_t)w;
		}
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(a));
	archive_write_free(a);
}

static void write_host_file(const char *path, const struct buf *b, bool keep_existing)
{
	if (keep_existing && access(path, F_OK) == 0)
		return;
	FILE *f = fopen(path, "wb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	if ((b->len && fwrite(b->data, 1, b->len, f) != b->len) || fclose(f) != 0)
		die("%s: write failed: %s", path, strerror(errno));
}

static void write_dir(const char *dir, struct out *out, bool existing)
{
	if (!existing && mkdir(dir, 0755) < 0)
		die("%s: %s", dir, errno == EEXIST ? "already exists (mkimage --format oci makes a new directory)"
		                                   : strerror(errno));
	for (size_t i = 0; i < out->n; i++) {
		struct ofile *f = &out->f[i];
		char *p = xasprintf("%s/%s", dir, f->name);
		if (f->dir) {
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				die("%s: %s", p, strerror(errno));
		} else {
			/* blobs are content-addressed: an existing one is the same */
			write_host_file(p, &f->data, strncmp(f->name, "blobs/", 6) == 0);
		}
		free(p);
	}
}

/* --add-to: this image joins an existing OCI layout's index.json. */
static void add_to_layout(struct opts *o, struct image *img)
{
	char *lp = xasprintf("%s/oci-layout", o->add_to);
	if (access(lp, F_OK) != 0)
		die("--add-to %s: not an OCI image layout (no oci-layout file)", o->add_to);
	free(lp);
	char *ip = xasprintf("%s/index.json", o->add_to);
	json_error_t je;
	json_t *idx = json_load_file(ip, 0, &je);
	if (!idx)
		die("%s: %s (line %d)", ip, je.text, je.line);
	json_t *mans = json_object_get(idx, "manifests");
	if (!json_is_array(mans))
		die("%s: no \"manifests\" array", ip);
	struct out out = {0};
	out_dir(&out, "blobs/");
	out_dir(&out, "blobs/sha256/");
	oci_index_entries(o, img, &out, mans);
	struct buf ib = json_bytes(idx, false);
	if (o->corrupt == CORRUPT_BAD_JSON)
		ib.len /= 2;
	write_dir(o->add_to, &out, true);
	write_host_file(ip, &ib, false);
	buf_free(&ib);
	json_decref(idx);
	free(ip);
	for (size_t i = 0; i < out.n; i++) {
		free(out.f[i].name);
		buf_free(&out.f[i].data);
	}
	free(out.f);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mkimage [OPTIONS] SPEC OUTPUT\n"
	        "       mkimage [OPTIONS] --add-to OCI_DIR SPEC\n"
	        "  --format docker-archive|docker25|kaniko|oci|oci-archive (default oci-archive)\n"
	        "  --compression none|gzip|zstd  (default: none for docker-archive and docker25,\n"
	        "                                 gzip for kaniko, oci and oci-archive)\n"
	        "  --arch ARCH (amd64)  --os OS (linux)\n"
	        "  --tag NAME:TAG|TAG   (repeatable)\n"
	        "  --entrypoint JSON-ARRAY  --cmd JSON-ARRAY  --env K=V (repeatable)  --volume PATH (repeatable)\n"
	        "  --user U  --workdir D\n"
	        "  --corrupt blob-digest|diff-id|missing-blob|layer-count|bad-json|\n"
	        "            truncate-layer|bad-gzip   --corrupt-layer N (default 0)\n"
	        "  --add-to OCI_DIR     add the image to an existing OCI layout (oci only)\n"
	        "  --platform-index     (alias --nested) index.json points to an image index\n"
	        "                       that holds the manifest with its platform (oci, oci-archive)\n"
	        "SPEC grammar: see tests/tools/README.md\n");
}

static json_t *parse_json_array(const char *opt, const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
	if (!j || !json_is_array(j))
		die("%s: not a JSON array: %s", opt, s);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v)
		if (!json_is_string(v))
			die("%s: array items must be strings: %s", opt, s);
	return j;
}

int main(int argc, char **argv)
{
	struct opts o = {.fmt = FMT_OCI_ARCHIVE, .arch = "amd64", .os = "linux"};
	enum { O_COMP = 256, O_FMT, O_ARCH, O_OS, O_TAG, O_EP, O_CMD, O_ENV, O_VOL, O_USER, O_WD,
	       O_CORRUPT, O_CLAYER, O_ADD, O_PIDX, O_HELP };
	static const struct option lo[] = {
		{"compression", required_argument, NULL, O_COMP},
		{"format", required_argument, NULL, O_FMT},
		{"arch", required_argument, NULL, O_ARCH},
		{"os", required_argument, NULL, O_OS},
		{"tag", required_argument, NULL, O_TAG},
		{"entrypoint", required_argument, NULL, O_EP},
		{"cmd", required_argument, NULL, O_CMD},
		{"env", required_argument, NULL, O_ENV},
		{"volume", required_argument, NULL, O_VOL},
		{"user", required_argument, NULL, O_USER},
		{"workdir", required_argument, NULL, O_WD},
		{"corrupt", required_argument, NULL, O_CORRUPT},
		{"corrupt-layer", required_argument, NULL, O_CLAYER},
		{"add-to", required_argument, NULL, O_ADD},
		{"platform-index", no_argument, NULL, O_PIDX},
		{"nested", no_argument, NULL, O_PIDX},
		{"help", no_argument, NULL, O_HELP},
		{0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_COMP:
			if (!strcmp(optarg, "none"))
				o.comp = COMP_NONE;
			else if (!strcmp(optarg, "gzip"))
				o.comp = COMP_GZIP;
			else if (!strcmp(optarg, "zstd"))
				o.comp = COMP_ZSTD;
			else
				die("--compression: none, gzip or zstd, not \"%s\"", optarg);
			o.comp_set = true;
			break;
		case O_FMT:
			if (!strcmp(optarg, "docker-archive"))
				o.fmt = FMT_DOCKER_ARCHIVE;
			else if (!strcmp(optarg, "docker25"))
				o.fmt = FMT_DOCKER25;
			else if (!strcmp(optarg, "kaniko"))
				o.fmt = FMT_KANIKO;
			else if (!strcmp(optarg, "oci"))
				o.fmt = FMT_OCI;
			else if (!strcmp(optarg, "oci-archive"))
				o.fmt = FMT_OCI_ARCHIVE;
			else
				die("--format: docker-archive, docker25, kaniko, oci or oci-archive, not \"%s\"", optarg);
			break;
		case O_ARCH: o.arch = optarg; break;
		case O_OS: o.os = optarg; break;
		case O_TAG:
			o.tags = xrealloc(o.tags, (o.ntags + 1) * sizeof *o.tags);
			o.tags[o.ntags++] = optarg;
			break;
		case O_EP: json_decref(o.entrypoint); o.entrypoint = parse_json_array("--entrypoint", optarg); break;
		case O_CMD: json_decref(o.cmd); o.cmd = parse_json_array("--cmd", optarg); break;
		case O_ENV:
			if (!strchr(optarg, '='))
				die("--env: K=V, not \"%s\"", optarg);
			o.env = xrealloc(o.env, (o.nenv + 1) * sizeof *o.env);
			o.env[o.nenv++] = optarg;
			break;
		case O_VOL:
			o.vol = xrealloc(o.vol, (o.nvol + 1) * sizeof *o.vol);
			o.vol[o.nvol++] = optarg;
			break;
		case O_USER: o.user = optarg; break;
		case O_WD: o.workdir = optarg; break;
		case O_CORRUPT: {
			size_t i;
			for (i = 1; i < ARRAY_LEN(corrupt_names); i++)
				if (!strcmp(optarg, corrupt_names[i]))
					break;
			if (i == ARRAY_LEN(corrupt_names))
				die("--corrupt: unknown kind \"%s\"", optarg);
			o.corrupt = (enum corrupt)i;
			break;
		}
		case O_CLAYER: {
			char *end;
			o.corrupt_layer = strtoul(optarg, &end, 10);
			if (end == optarg || *end)
				die("--corrupt-layer: a layer index, not \"%s\"", optarg);
			break;
		}
		case O_ADD: o.add_to = optarg; break;
		case O_PIDX: o.platform_index = true; break;
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	int need = o.add_to ? 1 : 2;
	if (argc - optind != need) {
		usage(stderr);
		return 2;
	}
	o.spec = argv[optind];
	o.output = o.add_to ? o.add_to : argv[optind + 1];
	if (o.add_to && o.fmt != FMT_OCI)
		die("--add-to works with --format oci only");
	if (o.platform_index && o.fmt != FMT_OCI && o.fmt != FMT_OCI_ARCHIVE)
		die("--platform-index works with --format oci or oci-archive only");
	if (!o.comp_set)
		o.comp = (o.fmt == FMT_DOCKER_ARCHIVE || o.fmt == FMT_DOCKER25) ? COMP_NONE : COMP_GZIP;

	struct image img = {0};
	parse_spec(o.spec, &img);
	if (o.corrupt != CORRUPT_NONE && o.corrupt_layer >= img.nlayers)
		die("--corrupt-layer %zu: the image has %zu layers", o.corrupt_layer, img.nlayers);
	make_blobs(&o, &img);

	if (o.add_to) {
		add_to_layout(&o, &img);
	} else {
		struct out out = {0};
		switch (o.fmt) {
		case FMT_DOCKER_ARCHIVE: layout_docker_archive(&o, &img, &out); break;
		case FMT_DOCKER25: layout_docker25(&o, &img, &out); break;
		case FMT_KANIKO: layout_kaniko(&o, &img, &out); break;
		case FMT_OCI:
		case FMT_OCI_ARCHIVE: layout_oci(&o, &img, &out); break;
		}
		/* the engine and skopeo write a directory walk: sorted names;
		 * go-containerregistry writes config, layers, manifest.json */
		if (o.fmt != FMT_KANIKO)
			qsort(out.f, out.n, sizeof *out.f, ofile_cmp);
		if (o.fmt == FMT_OCI)
			write_dir(o.output, &out, false);
		else
			write_tar(o.output, &out);
		for (size_t i = 0; i < out.n; i++) {
			free(out.f[i].name);
			buf_free(&out.f[i].data);
		}
		free(out.f);
	}

	for (size_t i = 0; i < img.nlayers; i++) {
		struct layer *l = &img.layers[i];
		free(l->created_by);
		buf_free(&l->tar);
		buf_free(&l->blob);
		for (size_t k = 0; k < l->nnames; k++)
			free(l->names[k]);
		free(l->names);
	}
	for (size_t i = 0; i < img.nhist; i++)
		free(img.hist[i].created_by);
	free(img.layers);
	free(img.hist);
	free(o.tags);
	free(o.env);
	free(o.vol);
	json_decref(o.entrypoint);
	json_decref(o.cmd);
	return 0;
}
