/* materialize: an image written by mkimage from this test's own SPEC is
 * materialized; every expected value (types, modes, owners, contents, link
 * targets) comes from the SPEC. Hostile entries (a symlink to /etc, an
 * absolute and a relative link to a fresh host directory, then files
 * written through each of them by a later layer) must leave nothing
 * outside the directory: the test looks for its unique marker name in the
 * host's /etc and in that fresh directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slimmer/materialize.h"
#include "testutil.h"

static int sh(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(const char *dir, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = th_vsh(dir, fmt, ap);
	va_end(ap);
	return r;
}

struct fix {
	char dir[256];       /* scratch */
	char host[300];      /* a fresh host directory an entry points at */
	char marker[64];     /* a name nothing else uses */
	struct analysis a;
	int have_a;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof f->dir, "%s/wh-mat.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->host, sizeof f->host, "%s/host", f->dir);
	if (mkdir(f->host, 0755) < 0)
		return -1;
	snprintf(f->marker, sizeof f->marker, "whittle-test-%ld-marker", (long)getpid());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char p[400];
	snprintf(p, sizeof p, "/etc/%s", f->marker);
	unlink(p); /* only if the test failed */
	if (f->have_a)
		analysis_free(&f->a);
	int rc = th_rm_rf(f->dir);
	free(f);
	return rc;
}

static void build(struct fix *f, const char *spec)
{
	char p[400];
	snprintf(p, sizeof p, "%s/spec", f->dir);
	FILE *s = fopen(p, "w");
	assert_non_null(s);
	fputs(spec, s);
	fclose(s);
	const char *mk = getenv("MKIMAGE");
	if (!mk)
		TH_SKIP("MKIMAGE is not set (run through meson test)");
	assert_int_equal(sh(f->dir, "'%s' spec img.tar", mk), 0);
	snprintf(p, sizeof p, "oci-archive:%s/img.tar", f->dir);
	struct wh_error err = {0};
	struct analysis_opts ao = {.jobs = 1};
	int rc = analysis_run(p, &ao, &f->a, &err);
	if (rc < 0)
		fail_msg("analysis_run: %s", err.msg);
	f->have_a = 1;
}

static void expect_file(const char *root, const char *path, mode_t type, mode_t mode, const char *content)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", root, path);
	struct stat st;
	if (lstat(p, &st) < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(st.st_mode & S_IFMT, type);
	assert_int_equal(st.st_mode & 07777, mode);
	if (content) {
		size_t n = 0;
		uint8_t *b = th_read_all(p, &n);
		assert_non_null(b);
		assert_int_equal(n, strlen(content));
		assert_memory_equal(b, content, n);
		free(b);
	}
}

static void expect_link(const char *root, const char *path, const char *target)
{
	char p[600], t[600];
	snprintf(p, sizeof p, "%s/%s", root, path);
	ssize_t n = readlink(p, t, sizeof t - 1);
	assert_true(n > 0);
	t[n] = 0;
	assert_string_equal(t, target);
}

static void test_tree_written(void **state)
{
	struct fix *f = *state;
	build(f, "layer\n"
	         "dir etc 0755 0 0\n"
	         "file etc/passwd 0644 0 0 root:x:0:0::/root:/bin/sh\\n\n"
	         "dir ro 0555 0 0\n"
	         "file ro/inner 0400 7 8 inner\n"
	         "file bin/tool 4755 0 0 #!/bin/sh\\necho hi\\n\n"
	         "hardlink bin/tool2 bin/tool\n"
	         "file secret 0000 0 0 zz\n"
	         "fifo run/fifo 0620\n"
	         "char dev/null 0666 1 3\n"
	         "symlink lib64 usr/lib\n"
	         "dir usr/lib 0755 0 0\n"
	         "layer\n"
	         "file etc/passwd 0600 0 0 changed\n");
	struct materialized m;
	struct wh_error err = {0};
	int root = getuid() == 0;
	struct mat_opts o = {.tmpdir = f->dir, .uid_base = root ? 100000 : -1, .gid_base = root ? 100000 : -1};
	int rc = materialize(&f->a, &o, &m, &err);
	if (rc < 0)
		fail_msg("materialize: %s", err.msg);
	struct stat st;
	assert_int_equal(stat(m.dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	expect_file(m.rootfs, "etc/passwd", S_IFREG, 0600, "changed");
	expect_file(m.rootfs, "ro", S_IFDIR, 0555, NULL);
	expect_file(m.rootfs, "ro/inner", S_IFREG, 0400, root ? "inner" : NULL);
	expect_file(m.rootfs, "bin/tool", S_IFREG, 04755, "#!/bin/sh\necho hi\n");
	expect_file(m.rootfs, "secret", S_IFREG, 0, NULL);
	expect_file(m.rootfs, "run/fifo", S_IFIFO, 0620, NULL);
	expect_link(m.rootfs, "lib64", "usr/lib");
	char p[600], q[600];
	struct stat a, b;
	snprintf(p, sizeof p, "%s/bin/tool", m.rootfs);
	snprintf(q, sizeof q, "%s/bin/tool2", m.rootfs);
	assert_int_equal(stat(p, &a), 0);
	assert_int_equal(stat(q, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino); /* one inode, as the hard link says */
	snprintf(p, sizeof p, "%s/dev/null", m.rootfs);
	assert_int_equal(lstat(p, &a), -1); /* no device nodes */
	if (root) {
		snprintf(p, sizeof p, "%s/ro/inner", m.rootfs);
		assert_int_equal(lstat(p, &a), 0);
		assert_int_equal(a.st_uid, 100007);
		assert_int_equal(a.st_gid, 100008);
		assert_int_equal(stat(m.dir, &a), 0);
		assert_int_equal(a.st_uid, 100000);
	}
	char *dir = strdup(m.dir);
	assert_int_equal(materialize_remove(&m, &err), 0);
	assert_int_equal(lstat(dir, &a), -1); /* read-only directories and all */
	assert_int_equal(errno, ENOENT);
	free(dir);
}

static void test_nothing_outside(void **state)
{
	struct fix *f = *state;
	char spec[2048];
	/* the relative link climbs far enough from rootfs/r to reach / on any host */
	snprintf(spec, sizeof spec,
	         "layer\n"
	         "symlink b /etc\n"
	         "symlink h %s\n"
	         "symlink r ../../../../../../../../../../../../../..%s\n"
	         "symlink d/deep ../../../../../../../../../../../../etc\n"
	         "layer\n"
	         "file b/%s 0644 0 0 via-b\n"
	         "file h/%s 0644 0 0 via-h\n"
	         "file r/%s 0644 0 0 via-r\n"
	         "file d/deep/%s 0644 0 0 via-deep\n",
	         f->host, f->host, f->marker, f->marker, f->marker, f->marker);
	build(f, spec);
	struct materialized m;
	struct wh_error err = {0};
	struct mat_opts o = {.tmpdir = f->dir, .uid_base = -1, .gid_base = -1};
	int rc = materialize(&f->a, &o, &m, &err);
	char p[600];
	snprintf(p, sizeof p, "/etc/%s", f->marker);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s/%s", f->host, f->marker);
	assert_int_equal(access(p, F_OK), -1);
	if (rc == 0) {
		/* what the model has, inside: every marker file is somewhere under rootfs */
		char cmd[800];
		snprintf(cmd, sizeof cmd, "test \"$(find '%s' -name '%s' -type f | wc -l)\" -ge 1", m.rootfs, f->marker);
		assert_int_equal(system(cmd), 0);
		materialize_remove(&m, &err);
	}
	snprintf(p, sizeof p, "/etc/%s", f->marker);
	assert_int_equal(access(p, F_OK), -1);
}

static void test_stale_removed(void **state)
{
	struct fix *f = *state;
	/* a directory left by a process that is gone (pid 2^22+1 does not exist), and one of ours */
	char gone[400], live[400];
	snprintf(gone, sizeof gone, "%s/" MAT_PREFIX "4194305.abcdef", f->dir);
	snprintf(live, sizeof live, "%s/" MAT_PREFIX "%ld.abcdef", f->dir, (long)getpid());
	assert_int_equal(mkdir(gone, 0700), 0);
	assert_int_equal(mkdir(live, 0700), 0);
	assert_int_equal(sh(gone, "mkdir -p a/b && chmod 0500 a && ln -s / up"), 0);
	mat_remove_stale(f->dir);
	assert_int_equal(access(gone, F_OK), -1);
	assert_int_equal(access(live, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tree_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_removed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
