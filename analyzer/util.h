/* util: allocation, errors and small helpers shared by every module. */
#ifndef WH_UTIL_H
#define WH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>

/* Exit codes of whittle (DESIGN.md). */
enum {
	WH_EXIT_OK = 0,
	WH_EXIT_RULE = 1,
	WH_EXIT_INPUT = 2,
	WH_EXIT_OUTPUT = 3,
	WH_EXIT_INTERRUPTED = 130,
};

/* Error codes a function returns (negative). */
enum {
	WH_EINPUT = -2,  /* the image or a user argument is bad */
	WH_EOUTPUT = -3, /* writing failed */
	WH_EINTR = -130,
};

struct wh_error {
	int code;        /* WH_E*; 0 = no error */
	char msg[1536];  /* what, which file/blob/entry, why */
};

/* Fill err (if not NULL and not already set) and return code. */
int wh_err(struct wh_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix an existing message with context ("blob X: "). */
void wh_err_prefix(struct wh_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Out of memory aborts. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A bump allocator: many small strings freed at once. */
struct arena {
	struct arena_block *head;
	size_t used_total;
};
void arena_init(struct arena *a);
void *arena_alloc(struct arena *a, size_t n); /* 8-byte aligned */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);

/* Growable byte buffer. */
struct buf {
	uint8_t *data;
	size_t len, cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_free(struct buf *b);

/* A list of strings (command-line values: --keep PATHs, --rule NAME=on|off...).
 * str_list_add copies s; str_list_free frees the copies and the array. A
 * list built elsewhere (strings not owned) is read the same way, and not
 * freed with str_list_free. */
struct str_list {
	char **v;
	size_t n;
};
void str_list_add(struct str_list *l, const char *s);
void str_list_free(struct str_list *l);

/* Human sizes: "1.2 MB" (SI, as dive prints). */
void fmt_size(char *out, size_t outlen, uint64_t bytes);

/* pread exactly n bytes at off (retrying short reads); -1 on error or EOF. */
int pread_full(int fd, void *p, size_t n, uint64_t off);

/* Read a whole file (host path, for CLI arguments only). */
int read_host_file(const char *path, struct buf *out, size_t max, struct wh_error *err);

/* Path helpers for paths inside an image (never the host). */
/* Normalize a tar entry name: drop leading "/" and "./", fold "//" and ".",
 * resolve ".."; error if ".." climbs above the root. Result has no leading
 * or trailing slash; the root is "". */
int path_normalize(const char *in, char *out, size_t outlen, struct wh_error *err);

/* --- text that cannot drive a terminal ---------------------------------------
 * Every text output (not JSON) prints names and lines from an image through
 * util_escape: a byte of C0 (0x00-0x1f), DEL, a C1 control (U+0080-U+009F,
 * whose UTF-8 bytes are both escaped) or a byte that is not part of valid
 * UTF-8 becomes \xHH (two lower-case hex digits), a backslash becomes \\,
 * everything else (printable ASCII, valid UTF-8) stays. util_unescape undoes
 * it exactly. */
/* Escape s into out (always NUL-terminated); a result that does not fit
 * ends in "..." at a character boundary. Returns out. */
const char *util_escape(const char *s, char *out, size_t outlen);
/* The escaped form of s, however long (free it). */
char *util_escape_dup(const char *s);
/* Write s escaped to f. */
void util_escape_fputs(const char *s, FILE *f);
/* Write prefix, s escaped and a newline to f (error messages that name
 * entries: util_escape_line(stderr, "whittle: ", err.msg)). */
void util_escape_line(FILE *f, const char *prefix, const char *s);
/* Undo util_escape: out gets at most strlen(in) + 1 bytes. Returns the
 * length, or -1 for a backslash not followed by \ or xHH (out is then
 * unspecified). A NUL decoded from \x00 ends the C string early. */
long util_unescape(const char *in, char *out, size_t outlen);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
