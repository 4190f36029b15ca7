/* trace + sandbox: commands run on dive's busybox-based
 * test-docker-image.tar (its Dockerfile: /root/saved.txt, /root/.data/ with
 * the project's scripts, /somefile.txt) materialized, in bubblewrap, traced.
 * Expected paths come from the commands this test runs: a relative path
 * resolved against the cwd the command chose, a path relative to a
 * directory descriptor, a child process's calls (fork followed), a listed
 * directory, a missing file (ENOENT), the executed program. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slimmer/materialize.h"
#include "slimmer/sandbox.h"
#include "slimmer/trace.h"
#include "testutil.h"

struct fix {
	struct analysis a;
	struct materialized m;
	struct sbx_config sc;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	materialize_remove(&f->m, NULL);
	if (f->a.img.layers)
		analysis_free(&f->a);
	free(f);
	return 0;
}

static void prepare(struct fix *f)
{
	const char *src = getenv("WH_FIXTURES");
	char img[1024];
	snprintf(img, sizeof img, "%s/test-docker-image.tar", src ? src : "");
	if (!src || access(img, R_OK) != 0)
		TH_SKIP("needs ../shared/fixtures/dive");
	if (system("command -v bwrap >/dev/null") != 0)
		TH_SKIP("needs bwrap (bubblewrap)");
	if (!trace_supported())
		TH_SKIP("the tracer supports x86_64 only");
	struct wh_error err = {0};
	struct analysis_opts ao = {.jobs = 1};
	if (analysis_run(img, &ao, &f->a, &err) < 0)
		fail_msg("analysis_run: %s", err.msg);
	int64_t base = getuid() == 0 ? sandbox_id_base() : -1;
	struct mat_opts mo = {.uid_base = base, .gid_base = base};
	if (materialize(&f->a, &mo, &f->m, &err) < 0)
		fail_msg("materialize: %s", err.msg);
	f->sc = (struct sbx_config){.rootfs = f->m.rootfs, .id_base = base, .timeout_s = 30, .grace_s = 1};
}

static unsigned flags_of(struct trace *t, const char *path)
{
	size_t n;
	const struct trace_path *v = trace_paths(t, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].path, path))
			return v[i].flags | 0x100;
	return 0;
}

static void test_paths_traced(void **state)
{
	struct fix *f = *state;
	prepare(f);
	char *argv[] = {"sh", "-c",
	                "cd /root && cat saved.txt >/dev/null; ls .data >/dev/null; cat /no-such-file 2>/dev/null; "
	                "test -e ../somefile.txt; exit 3",
	                NULL};
	struct trace *t = trace_new();
	f->sc.argv = argv;
	f->sc.trace = t;
	struct sbx_result r;
	struct wh_error err = {0};
	if (sandbox_run(&f->sc, &r, &err) < 0)
		fail_msg("sandbox_run: %s", err.msg);
	assert_int_equal(r.exit_status, 3);
	assert_false(r.timed_out);
	unsigned fl;
	fl = flags_of(t, "/root/saved.txt"); /* relative to the cwd, opened by a child (cat) */
	assert_true(fl & 0x100);
	assert_true(fl & TRACE_OK);
	assert_false(fl & TRACE_ENOENT);
	fl = flags_of(t, "/root/.data"); /* listed by ls */
	assert_true(fl & TRACE_LISTED);
	fl = flags_of(t, "/no-such-file");
	assert_true(fl & TRACE_ENOENT);
	fl = flags_of(t, "/somefile.txt"); /* "..", from the cwd */
	assert_true(fl & TRACE_OK);
	fl = flags_of(t, "/bin/cat"); /* busybox's applet, executed */
	assert_true(fl & TRACE_EXEC);
	/* bwrap's own setup is not recorded: nothing under the host's $TMPDIR path of the tree */
	size_t n;
	const struct trace_path *v = trace_paths(t, &n);
	for (size_t i = 0; i < n; i++)
		assert_null(strstr(v[i].path, MAT_PREFIX));
	sbx_result_free(&r);
	trace_free(t);
}

/* a trace that recorded nothing (a service that exited before its
 * --probe-exec ran): no paths, and qsort never sees its NULL array (UBSan
 * stopped there) */
static void test_empty_trace(void **state)
{
	(void)state;
	struct trace *t = trace_new();
	size_t n = 99;
	trace_paths(t, &n);
	assert_int_equal(n, 0);
	trace_free(t);
}

static void test_output_captured_and_capped(void **state)
{
	struct fix *f = *state;
	prepare(f);
	/* 2 MiB of "y\n" on stdout, a line on stderr */
	char *argv[] = {"sh", "-c", "yes | head -c 2097152; echo oops >&2", NULL};
	f->sc.argv = argv;
	struct sbx_result r;
	struct wh_error err = {0};
	if (sandbox_run(&f->sc, &r, &err) < 0)
		fail_msg("sandbox_run: %s", err.msg);
	assert_int_equal(r.exit_status, 0);
	assert_int_equal(r.out.len, SBX_CAP);
	assert_true(r.out_truncated);
	assert_memory_equal(r.out.data, "y\ny\n", 4);
	assert_int_equal(r.err.len, 5);
	assert_memory_equal(r.err.data, "oops\n", 5);
	sbx_result_free(&r);
}

static void test_env_workdir_user(void **state)
{
	struct fix *f = *state;
	prepare(f);
	char *env[] = {"FOO=bar baz", NULL};
	char *argv[] = {"sh", "-c", "echo \"$FOO|$(pwd)|$(id -u):$(id -g)|$(hostname)\"", NULL};
	f->sc.argv = argv;
	f->sc.env = env;
	f->sc.workdir = "/etc";
	f->sc.uid = 1234;
	f->sc.gid = 99;
	struct sbx_result r;
	struct wh_error err = {0};
	if (sandbox_run(&f->sc, &r, &err) < 0)
		fail_msg("sandbox_run: %s", err.msg);
	buf_append(&r.out, "", 1);
	assert_string_equal((const char *)r.out.data, "bar baz|/etc|1234:99|whittle-probe\n");
	sbx_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_trace),
		cmocka_unit_test_setup_teardown(test_paths_traced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_captured_and_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_workdir_user, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
