#include "analyzer/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int wh_err(struct wh_error *err, int code, const char *fmt, ...)
{
	if (err && err->code == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

void wh_err_prefix(struct wh_error *err, const char *fmt, ...)
{
	if (!err || err->code == 0)
		return;
	char pre[512], old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	size_t pl = strnlen(pre, sizeof pre);
	if (pl >= sizeof err->msg)
		pl = sizeof err->msg - 1;
	memcpy(err->msg, pre, pl);
	size_t ol = strnlen(old, sizeof old - 1);
	if (ol > sizeof err->msg - 1 - pl)
		ol = sizeof err->msg - 1 - pl;
	memcpy(err->msg + pl, old, ol);
	err->msg[pl + ol] = 0;
}

static void oom(void)
{
	fputs("whittle: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(8) unsigned char data[];
};

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->used_total = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = 256 * 1024 - sizeof *b;
		if (n > cap / 4) {
			/* big piece: own block, placed behind the current head */
			struct arena_block *big = xmalloc(sizeof *big + n);
			big->used = big->cap = n;
			if (b) {
				big->next = b->next;
				b->next = big;
			} else {
				big->next = NULL;
				a->head = big;
			}
			a->used_total += n;
			return big->data;
		}
		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	a->used_total += n;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
	a->used_total = 0;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0; /* always NUL-terminated for text use */
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void str_list_add(struct str_list *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

void str_list_free(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void fmt_size(char *out, size_t outlen, uint64_t bytes)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1000.0 && u + 1 < ARRAY_LEN(units)) {
		v /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, outlen, "%.1f %s", v, units[u]);
}

int pread_full(int fd, void *p, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)p + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

int read_host_file(const char *path, struct buf *out, size_t max, struct wh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wh_err(err, WH_EINPUT, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return wh_err(err, WH_EINPUT, "%s: is a directory", path);
	}
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return wh_err(err, WH_EINPUT, "%s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			close(fd);
			return wh_err(err, WH_EINPUT, "%s: larger than %zu bytes", path, max);
		}
		buf_append(out, tmp, (size_t)n);
	}
	close(fd);
	if (!out->data)
		buf_append(out, "", 0);
	return 0;
}

int path_normalize(const char *in, char *out, size_t outlen, struct wh_error *err)
{
	size_t o = 0;
	const char *p = in;
	if (outlen == 0)
		return wh_err(err, WH_EINPUT, "path buffer too small");
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 1 && s[0] == '.')
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (o == 0)
				return wh_err(err, WH_EINPUT,
				              "entry \"%s\": \"..\" climbs above the image root", in);
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the slash */
			continue;
		}
		if (o + (o ? 1 : 0) + n + 1 > outlen)
			return wh_err(err, WH_EINPUT, "entry \"%.200s...\": name longer than %zu bytes",
			              in, outlen - 1);
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = 0;
	return 0;
}

/* --- text that cannot drive a terminal (util_escape) ---------------------------- */

/* Length of the valid UTF-8 sequence at s (2-4), or 0 when it is not one
 * (overlong forms, surrogates and values past U+10FFFF are not). */
static size_t utf8_seq(const uint8_t *s)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t cp, min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp >= 0x80 && cp <= 0x9f) /* C1 controls: escaped byte by byte */
		return 0;
	return n;
}

/* The escaped form of the character at s into e (at most 9 bytes with the
 * NUL); returns how many input bytes it took. */
static size_t escape_one(const uint8_t *s, char e[9])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t c = s[0];
	if (c == '\\') {
		memcpy(e, "\\\\", 3);
		return 1;
	}
	if (c >= 0x20 && c < 0x7f) {
		e[0] = (char)c;
		e[1] = 0;
		return 1;
	}
	size_t n = c >= 0x80 ? utf8_seq(s) : 0;
	if (n) {
		memcpy(e, s, n);
		e[n] = 0;
		return n;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	e[4] = 0;
	return 1;
}

const char *util_escape(const char *s, char *out, size_t outlen)
{
	if (!outlen)
		return out;
	size_t need = 0; /* the whole escaped length */
	for (const uint8_t *p = (const uint8_t *)s; *p;) {
		char e[9];
		p += escape_one(p, e);
		need += strlen(e);
	}
	/* too long: whole escapes up to room for "...", then "..." */
	size_t room = need < outlen ? need : (outlen > 4 ? outlen - 4 : 0);
	size_t o = 0;
	for (const uint8_t *p = (const uint8_t *)s; *p;) {
		char e[9];
		size_t took = escape_one(p, e), el = strlen(e);
		if (o + el > room)
			break;
		memcpy(out + o, e, el);
		o += el;
		p += took;
	}
	if (need >= outlen)
		for (int i = 0; i < 3 && o + 1 < outlen; i++)
			out[o++] = '.';
	out[o] = 0;
	return out;
}

char *util_escape_dup(const char *s)
{
	size_t n = strlen(s) * 4 + 1;
	char *out = xmalloc(n);
	util_escape(s, out, n);
	return out;
}

void util_escape_fputs(const char *s, FILE *f)
{
	const uint8_t *p = (const uint8_t *)s;
	while (*p) {
		char e[9];
		p += escape_one(p, e);
		fputs(e, f);
	}
}

void util_escape_line(FILE *f, const char *prefix, const char *s)
{
	fputs(prefix, f);
	util_escape_fputs(s, f);
	fputc('\n', f);
}

/* a hex digit's value (either case), or -1 */
static int hexval(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *d = c ? strchr(digits, tolower((unsigned char)c)) : NULL;
	return d ? (int)(d - digits) : -1;
}

long util_unescape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return -1;
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c == '\\') {
			if (p[1] == '\\') {
				p++;
			} else if (p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
				c = (char)(hexval(p[2]) * 16 + hexval(p[3]));
				p += 3;
			} else {
				return -1;
			}
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return (long)o;
}
