#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/util.h"

static void norm_ok(const char *in, const char *want)
{
	char out[4096];
	struct wh_error err = {0};
	assert_int_equal(path_normalize(in, out, sizeof out, &err), 0);
	assert_string_equal(out, want);
}

static void test_normalize(void **state)
{
	(void)state;
	norm_ok("/usr/bin/ls", "usr/bin/ls");
	norm_ok("./etc/", "etc");
	norm_ok("a//b/./c", "a/b/c");
	norm_ok("a/b/../c", "a/c");
	norm_ok("./", "");
	norm_ok("/", "");
	norm_ok("a/..", "");
}

static void test_normalize_climb(void **state)
{
	(void)state;
	char out[64];
	struct wh_error err = {0};
	assert_int_equal(path_normalize("a/../../etc/passwd", out, sizeof out, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "a/../../etc/passwd"));
	struct wh_error err2 = {0};
	assert_int_equal(path_normalize("../x", out, sizeof out, &err2), WH_EINPUT);
}

static void test_normalize_long(void **state)
{
	(void)state;
	char in[200];
	memset(in, 'a', sizeof in - 1);
	in[sizeof in - 1] = 0;
	char out[100];
	struct wh_error err = {0};
	assert_int_equal(path_normalize(in, out, sizeof out, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "longer"));
}

static void test_arena(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a);
	char *first = arena_strdup(&a, "hello");
	for (int i = 0; i < 100000; i++)
		assert_non_null(arena_alloc(&a, 17));
	void *big = arena_alloc(&a, 1 << 20);
	memset(big, 1, 1 << 20);
	assert_string_equal(first, "hello");
	assert_int_equal((uintptr_t)arena_alloc(&a, 3) % 8, 0);
	arena_free(&a);
}

static void test_fmt_size(void **state)
{
	(void)state;
	char s[32];
	fmt_size(s, sizeof s, 999);
	assert_string_equal(s, "999 B");
	fmt_size(s, sizeof s, 1500);
	assert_string_equal(s, "1.5 kB");
	fmt_size(s, sizeof s, 2300000);
	assert_string_equal(s, "2.3 MB");
}

static void test_str_list(void **state)
{
	(void)state;
	struct str_list l = {0};
	char arg[] = "/usr/bin/*";
	str_list_add(&l, arg);
	str_list_add(&l, "nss=off");
	arg[0] = 'X'; /* the list holds copies */
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "/usr/bin/*");
	assert_string_equal(l.v[1], "nss=off");
	str_list_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	str_list_free(&l); /* freeing an empty list is fine */
}

/* --- util_escape ------------------------------------------------------------- */

static void esc_is(const char *in, const char *want)
{
	char out[256];
	assert_string_equal(util_escape(in, out, sizeof out), want);
	char *d = util_escape_dup(in);
	assert_string_equal(d, want);
	free(d);
}

/* each byte class, with the expected text written out by hand */
static void test_escape_classes(void **state)
{
	(void)state;
	esc_is("usr/bin/ls", "usr/bin/ls");                    /* printable ASCII stays */
	esc_is("a b~", "a b~");
	esc_is("a\\b", "a\\\\b");                              /* backslash doubled */
	esc_is("\x1b[31mred", "\\x1b[31mred");                 /* ESC (CSI) */
	esc_is("\x1b]0;title\x07", "\\x1b]0;title\\x07");       /* OSC ... BEL */
	esc_is("a\rb\nc\td", "a\\x0db\\x0ac\\x09d");            /* CR LF TAB */
	esc_is("\x01\x1f", "\\x01\\x1f");                      /* C0 edges */
	esc_is("del\x7f", "del\\x7f");                         /* DEL */
	esc_is("\x9b" "31m", "\\x9b31m");                      /* a raw C1 byte: not UTF-8 */
	esc_is("\xc2\x9b" "1m", "\\xc2\\x9b1m");               /* C1 CSI encoded as UTF-8 */
	esc_is("\xc2\x80\xc2\x9f", "\\xc2\\x80\\xc2\\x9f");       /* C1 range edges */
	esc_is("\xc2\xa0" "caf\xc3\xa9", "\xc2\xa0" "caf\xc3\xa9"); /* U+00A0, e-acute stay */
	esc_is("\xe2\x82\xac\xf0\x9f\x98\x80", "\xe2\x82\xac\xf0\x9f\x98\x80"); /* 3 and 4 bytes */
	esc_is("\xff\xfe", "\\xff\\xfe");                      /* never UTF-8 */
	esc_is("\xc3", "\\xc3");                               /* truncated sequence */
	esc_is("\xc3(", "\\xc3(");
	esc_is("\xc0\xaf", "\\xc0\\xaf");                      /* overlong "/" */
	esc_is("\xe0\x80\xaf", "\\xe0\\x80\\xaf");              /* overlong, 3 bytes */
	esc_is("\xed\xa0\x80", "\\xed\\xa0\\x80");              /* a surrogate */
	esc_is("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");      /* past U+10FFFF */
	esc_is("\\x41", "\\\\x41");                            /* a literal \x41 stays apart from A */
}

static void test_escape_truncates(void **state)
{
	(void)state;
	char out[10];
	assert_string_equal(util_escape("abcdefghijkl", out, sizeof out), "abcdef...");
	/* never cut inside an escape or a UTF-8 character */
	assert_string_equal(util_escape("abcd\x1b" "efgh", out, sizeof out), "abcd...");
	assert_string_equal(util_escape("abcd\xc3\xa9\xc3\xa9xx", out, sizeof out), "abcd\xc3\xa9...");
	assert_string_equal(util_escape("abcdefghi", out, sizeof out), "abcdefghi"); /* fits exactly */
}

/* every byte value alone and in pairs, and a run of random bytes: the
 * escaped text holds only printable ASCII or valid non-C1 UTF-8, and
 * unescaping gives back the input */
static void round_trip(const char *in)
{
	char *e = util_escape_dup(in);
	for (const unsigned char *p = (const unsigned char *)e; *p; p++) {
		assert_true(*p >= 0x20 && *p != 0x7f);
		if (*p == 0xc2)
			assert_false(p[1] >= 0x80 && p[1] <= 0x9f);
	}
	char back[1024];
	long n = util_unescape(e, back, sizeof back);
	assert_int_equal(n, (long)strlen(in));
	assert_memory_equal(back, in, strlen(in) + 1);
	free(e);
}

static void test_escape_round_trip(void **state)
{
	(void)state;
	char s[3] = {0};
	for (int a = 1; a < 256; a++) {
		s[0] = (char)a;
		s[1] = 0;
		round_trip(s);
		for (int b = 1; b < 256; b++) {
			s[1] = (char)b;
			round_trip(s);
		}
	}
	uint32_t x = 12345;
	char r[400];
	for (int k = 0; k < 2000; k++) {
		size_t n = 1 + k % 300;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			r[i] = (char)(1 + (x >> 16) % 255);
		}
		r[n] = 0;
		round_trip(r);
	}
}

static void test_unescape_rejects(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(util_unescape("a\\", out, sizeof out), -1);
	assert_int_equal(util_unescape("a\\n", out, sizeof out), -1);
	assert_int_equal(util_unescape("\\x4", out, sizeof out), -1);
	assert_int_equal(util_unescape("\\xzz", out, sizeof out), -1);
	assert_int_equal(util_unescape("abc", out, 3), -1); /* no room */
	assert_int_equal(util_unescape("\\x41\\\\\\x1b", out, sizeof out), 3);
	assert_string_equal(out, "A\\\x1b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_climb),
		cmocka_unit_test(test_normalize_long),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_fmt_size),
		cmocka_unit_test(test_str_list),
		cmocka_unit_test(test_escape_classes),
		cmocka_unit_test(test_escape_truncates),
		cmocka_unit_test(test_escape_round_trip),
		cmocka_unit_test(test_unescape_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
