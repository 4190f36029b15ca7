#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_climb),
		cmocka_unit_test(test_normalize_long),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_fmt_size),
		cmocka_unit_test(test_str_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
