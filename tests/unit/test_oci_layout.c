/* oci_layout and tmpfiles: blobs hashed before reuse, index.json tags kept
 * across writers, the stale-temporary sweep's rules. Expected values come
 * from the test's own construction (sha256sum of the bytes it writes, the
 * tags it adds, the directories it makes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/digest.h"
#include "analyzer/oci_layout.h"
#include "analyzer/tmpfiles.h"
#include "tests/unit/testutil.h"

static char dir[256];

static int th_sh(const char *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = th_vsh(d, fmt, ap);
	va_end(ap);
	return r;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/wh-oci-layout.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return th_rm_rf(dir);
}

/* DIR/REL in one of four buffers (two may be arguments of one call) */
static char *path_in(const char *rel)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, rel);
	return p[k];
}

static void write_text(const char *rel, const char *text)
{
	FILE *f = fopen(path_in(rel), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_blob_corrupt_replaced(void **state)
{
	(void)state;
	struct wh_error err = {0};
	assert_int_equal(oci_layout_create(path_in("L"), 0755, &err), 0);
	/* sha256("hello\n"), as sha256sum prints it */
	const char *dg = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
	char rel[200];
	snprintf(rel, sizeof rel, "L/blobs/sha256/%s", dg + 7);
	write_text(rel, "corrupt");
	assert_int_equal(oci_layout_put_blob(path_in("L"), dg, "hello\n", 6, &err), 0);
	size_t n;
	uint8_t *b = th_read_all(path_in(rel), &n);
	assert_non_null(b);
	assert_int_equal(n, 6);
	assert_memory_equal(b, "hello\n", 6);
	free(b);
	/* a matching blob is reused: the source file stays where it is */
	write_text("src", "hello\n");
	assert_int_equal(oci_layout_put_blob_file(path_in("L"), dg, path_in("src"), &err), 0);
	assert_int_equal(access(path_in("src"), F_OK), 0);
	/* a corrupt one is replaced by the source */
	write_text(rel, "bad");
	assert_int_equal(oci_layout_put_blob_file(path_in("L"), dg, path_in("src"), &err), 0);
	assert_int_not_equal(access(path_in("src"), F_OK), 0);
	b = th_read_all(path_in(rel), &n);
	assert_int_equal(n, 6);
	free(b);
	/* a malformed digest is refused, naming it */
	assert_true(oci_layout_put_blob(path_in("L"), "sha256:xyz", "a", 1, &err) < 0);
	assert_non_null(strstr(err.msg, "sha256:xyz"));
}

static void test_index_tags(void **state)
{
	(void)state;
	struct wh_error err = {0};
	assert_int_equal(oci_layout_create(path_in("L"), 0755, &err), 0);
	const char *d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	const char *d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
	json_t *a = oci_layout_descriptor(OCI_MT_MANIFEST, d1, 10), *b = oci_layout_descriptor(OCI_MT_MANIFEST, d2, 20);
	assert_int_equal(oci_layout_put_index(path_in("L"), a, "one", &err), 0);
	assert_int_equal(oci_layout_put_index(path_in("L"), b, "two", &err), 0);
	assert_int_equal(oci_layout_put_index(path_in("L"), b, "one", &err), 0); /* the tag moves to d2 */
	json_error_t je;
	json_t *idx = json_load_file(path_in("L/index.json"), 0, &je);
	assert_non_null(idx);
	json_t *ms = json_object_get(idx, "manifests");
	assert_int_equal(json_array_size(ms), 3);
	/* in order: d1 untagged now, d2 "two", d2 "one" */
	const char *want_dg[3] = {d1, d2, d2}, *want_tag[3] = {NULL, "two", "one"};
	for (size_t i = 0; i < 3; i++) {
		json_t *m = json_array_get(ms, i);
		assert_string_equal(json_string_value(json_object_get(m, "digest")), want_dg[i]);
		const char *t = json_string_value(json_object_get(json_object_get(m, "annotations"), OCI_REF_NAME));
		if (want_tag[i])
			assert_string_equal(t, want_tag[i]);
		else
			assert_null(t);
	}
	assert_string_equal(json_string_value(json_object_get(idx, "mediaType")), OCI_MT_INDEX);
	json_decref(idx);
	/* the caller's descriptors are untouched */
	assert_null(json_object_get(a, "annotations"));
	json_decref(a);
	json_decref(b);
	/* a broken index.json is an error naming it, not replaced */
	write_text("L/index.json", "{broken");
	json_t *c = oci_layout_descriptor(OCI_MT_MANIFEST, d1, 10);
	assert_true(oci_layout_put_index(path_in("L"), c, "x", &err) < 0);
	assert_non_null(strstr(err.msg, "index.json"));
	json_decref(c);
	size_t n;
	uint8_t *t = th_read_all(path_in("L/index.json"), &n);
	assert_int_equal(n, 7);
	free(t);
}

static int exists(const char *rel)
{
	struct stat st;
	return lstat(path_in(rel), &st) == 0;
}

static void test_sweep_rules(void **state)
{
	(void)state;
	/* stale: a directory of the exact pattern, nobody's lock, ours */
	assert_int_equal(th_sh(dir, "mkdir -p .whittle-tmp.Stale1/sub && touch .whittle-tmp.Stale1/sub/f"), 0);
	/* left: wrong lengths, another prefix, a file, a symlink to a directory */
	assert_int_equal(th_sh(dir, "mkdir .whittle-tmp.abc .whittle-tmp.abcdefg whittle-spool.Other1 victim && "
	                            "touch victim/keep .whittle-tmp.File01 && ln -s victim .whittle-tmp.Link01"),
	                 0);
	/* left: one that is locked (a live run) */
	assert_int_equal(th_sh(dir, "mkdir .whittle-tmp.Live01"), 0);
	int fd = open(path_in(".whittle-tmp.Live01"), O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(tmpfiles_sweep(dir, TMPFILES_STAGE_PREFIX), 1);
	assert_false(exists(".whittle-tmp.Stale1"));
	const char *left[] = {".whittle-tmp.abc", ".whittle-tmp.abcdefg", "whittle-spool.Other1", ".whittle-tmp.File01",
	                      ".whittle-tmp.Link01", "victim/keep", ".whittle-tmp.Live01"};
	for (size_t i = 0; i < ARRAY_LEN(left); i++)
		assert_true(exists(left[i]));
	close(fd);
	/* the lock gone, it is stale */
	assert_int_equal(tmpfiles_sweep(dir, TMPFILES_STAGE_PREFIX), 1);
	assert_false(exists(".whittle-tmp.Live01"));
}

static void test_mkdtemp_registered(void **state)
{
	(void)state;
	struct wh_error err = {0};
	char *a = NULL, *b = NULL;
	assert_int_equal(tmpfiles_mkdtemp(dir, TMPFILES_SPOOL_PREFIX, WH_EINPUT, &a, &err), 0);
	assert_int_equal(tmpfiles_mkdtemp(dir, TMPFILES_SPOOL_PREFIX, WH_EINPUT, &b, &err), 0);
	/* a live temporary (this process holds its lock) survives a sweep */
	assert_int_equal(tmpfiles_sweep(dir, TMPFILES_SPOOL_PREFIX), 0);
	struct stat st;
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	char f[600];
	snprintf(f, sizeof f, "%s/x", a);
	FILE *o = fopen(f, "w");
	assert_non_null(o);
	fclose(o);
	tmpfiles_remove(a);
	assert_int_not_equal(stat(a, &st), 0);
	/* the signal-time cleanup removes what is left */
	tmpfiles_cleanup_signal();
	assert_int_not_equal(stat(b, &st), 0);
	tmpfiles_remove(b); /* no longer registered: nothing happens */
	free(a);
	free(b);
	/* a directory that does not exist: an error naming it */
	char *c = NULL;
	assert_true(tmpfiles_mkdtemp("/nonexistent-wh", TMPFILES_STAGE_PREFIX, WH_EOUTPUT, &c, &err) == WH_EOUTPUT);
	assert_non_null(strstr(err.msg, "/nonexistent-wh"));
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blob_corrupt_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdtemp_registered, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
