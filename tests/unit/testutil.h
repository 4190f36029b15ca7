/* Helpers the unit tests share: read a host file whole, run a shell
 * command in the test's scratch directory. Test code only. */
#ifndef WH_TESTUTIL_H
#define WH_TESTUTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, or NULL; the caller frees. */
static inline uint8_t *th_read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, r;
	uint8_t *b = malloc(cap);
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	*len = n;
	return b;
}

/* Run a printf-formatted shell command with `dir` as its working directory;
 * system()'s result. */
static inline int th_vsh(const char *dir, const char *fmt, va_list ap)
{
	char cmd[2048], full[2400];
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	snprintf(full, sizeof full, "cd '%s' && %s", dir, cmd);
	return system(full);
}

/* Remove a test's scratch directory; 0 on success (a cmocka teardown's result). */
static inline int th_rm_rf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A prerequisite of one test is missing: cmocka's skip() on a user's
 * clone, a failure under CI (CI=true), where nothing may skip. */
#define TH_SKIP(why)                                                              \
	do {                                                                      \
		const char *ci_ = getenv("CI");                                   \
		if (ci_ && !strcmp(ci_, "true"))                                  \
			fail_msg("CI=true and nothing may skip: %s", (why));      \
		fprintf(stderr, "skipped: %s\n", (why));                         \
		skip();                                                           \
	} while (0)

#endif
