/* tarscan: index archives this test writes with libarchive (ustar, pax long
 * names, GNU long names) and check every member's name, offset and size
 * against what was written; truncated archives and bad checksums fail with
 * a message naming the place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "analyzer/tarscan.h"

struct member {
	const char *name;  /* as written */
	const char *want;  /* as tarscan should name it */
	char type;         /* '0' '5' '2' '1' */
	const char *data;  /* file content, or link target */
	size_t size;       /* for '0': content length (data repeated) */
};

static char tmpdir[] = "/tmp/test_tarscan.XXXXXX";

static char *tmp_path(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
	return p[k];
}

static void fill(char *buf, size_t size, const char *data)
{
	size_t dl = strlen(data);
	for (size_t i = 0; i < size; i++)
		buf[i] = data[i % dl];
}

static void write_tar(const char *path, int format, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_mtime(e, 0, 0);
		switch (m[i].type) {
		case '5':
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			break;
		case '2':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, m[i].data);
			break;
		case '1':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, m[i].data);
			break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)m[i].size);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].type == '0' && m[i].size) {
			char *buf = malloc(m[i].size);
			fill(buf, m[i].size, m[i].data);
			assert_int_equal(archive_write_data(a, buf, m[i].size), (la_ssize_t)m[i].size);
			free(buf);
		}
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void check_index(const char *path, const struct member *m, size_t n)
{
	struct tar_index ti;
	struct wh_error err = {0};
	if (tarscan_open(path, &ti, &err) < 0)
		fail_msg("tarscan_open %s: %s", path, err.msg);
	assert_int_equal(ti.n, n);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(ti.archive_size, (uint64_t)st.st_size);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++) {
		const struct tar_member *t = &ti.m[i];
		assert_string_equal(t->name, m[i].want);
		assert_int_equal(t->type, m[i].type);
		if (m[i].type == '0') {
			assert_int_equal(t->size, m[i].size);
			/* the data is where the index says */
			char *got = malloc(m[i].size + 1), *want = malloc(m[i].size + 1);
			assert_int_equal(pread(fd, got, m[i].size, (off_t)t->offset), (ssize_t)m[i].size);
			fill(want, m[i].size, m[i].data);
			assert_memory_equal(got, want, m[i].size);
			free(got);
			free(want);
		} else {
			assert_int_equal(t->size, 0);
		}
		if (m[i].type == '1' || m[i].type == '2')
			assert_string_equal(t->link, m[i].data);
		else
			assert_null(t->link);
		/* found by its name, with or without "./" or "/" */
		char alt[2048];
		snprintf(alt, sizeof alt, "./%s", m[i].want);
		if (m[i].type != '1' && m[i].type != '2') {
			assert_ptr_equal(tarscan_find(&ti, m[i].want), t);
			assert_ptr_equal(tarscan_find(&ti, alt), t);
		}
	}
	close(fd);
	tarscan_free(&ti);
}

static char long_a[300], long_b[300], long_dir[200], long_link[300], very_long[1100];

static void make_names(void)
{
	/* 250-byte names: too long for ustar's name field (100) and prefix split */
	memset(long_a, 'a', 250);
	memcpy(long_a, "blobs/", 6);
	long_a[250] = 0;
	memset(long_dir, 'd', 120);
	long_dir[120] = 0;
	snprintf(long_b, sizeof long_b, "%s/%s", long_dir, "file-in-a-long-directory.json");
	memset(long_link, 't', 150);
	long_link[150] = 0;
	/* longer than any fixed header buffer: 1000 bytes in 10 components */
	for (int i = 0; i < 10; i++) {
		memset(very_long + i * 100, 'a' + i, 99);
		very_long[i * 100 + 99] = '/';
	}
	very_long[999] = 0;
}

#define SPLIT "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp/" \
	"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"

static void test_ustar(void **state)
{
	(void)state;
	static const struct member m[] = {
		{"./manifest.json", "manifest.json", '0', "[{}]", 4},
		{"blobs/", "blobs", '5', NULL, 0},
		{"blobs/sha256/", "blobs/sha256", '5', NULL, 0},
		{"blobs/sha256/0123", "blobs/sha256/0123", '0', "0123456789", 1000},
		{"/abs/empty", "abs/empty", '0', "", 0},
		{"exact512", "exact512", '0', "x", 512},
		{"link", "link", '2', "blobs/sha256/0123", 0},
		{"hard", "hard", '1', "exact512", 0},
		/* ustar splits a 150-byte path into prefix and name */
		{SPLIT, SPLIT, '0', "split", 77},
	};
	char *p = tmp_path("ustar.tar");
	write_tar(p, ARCHIVE_FORMAT_TAR_USTAR, m, ARRAY_LEN(m));
	check_index(p, m, ARRAY_LEN(m));

	/* links are followed to the member they name */
	struct tar_index ti;
	struct wh_error err = {0};
	assert_int_equal(tarscan_open(p, &ti, &err), 0);
	const struct tar_member *blob = tarscan_find(&ti, "blobs/sha256/0123");
	assert_ptr_equal(tarscan_find(&ti, "link"), blob);
	assert_ptr_equal(tarscan_find(&ti, "hard"), tarscan_find(&ti, "exact512"));
	assert_null(tarscan_find(&ti, "missing"));
	assert_null(tarscan_find(&ti, "../manifest.json"));
	tarscan_free(&ti);
}

static void long_name_case(int format, const char *file)
{
	make_names();
	const struct member m[] = {
		{long_a, long_a, '0', "long a", 600},
		{long_dir, long_dir, '5', NULL, 0},
		{long_b, long_b, '0', "long b", 3},
		{"sym", "sym", '2', long_link, 0},
		{"short", "short", '0', "s", 1},
		{very_long, very_long, '0', "v", 5},
		{"after-very-long", "after-very-long", '0', "x", 1},
	};
	char *p = tmp_path(file);
	write_tar(p, format, m, ARRAY_LEN(m));
	check_index(p, m, ARRAY_LEN(m));
}

static void test_pax_long_names(void **state)
{
	(void)state;
	long_name_case(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, "pax.tar");
	long_name_case(ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, "pax-interchange.tar");
}

static void test_gnu_long_names(void **state)
{
	(void)state;
	long_name_case(ARCHIVE_FORMAT_TAR_GNUTAR, "gnu.tar");
}

static const struct member trunc_m[] = {
	{"first", "first", '0', "1", 700},
	{"second-member", "second-member", '0', "2", 2000},
	{"third", "third", '0', "3", 10},
};

static void expect_fail(const char *path, const char *needle)
{
	struct tar_index ti;
	struct wh_error err = {0};
	int rc = tarscan_open(path, &ti, &err);
	if (rc != WH_EINPUT)
		fail_msg("%s: tarscan_open returned %d, want WH_EINPUT", path, rc);
	if (!strstr(err.msg, needle))
		fail_msg("%s: message \"%s\" does not name \"%s\"", path, err.msg, needle);
	/* nothing left allocated on failure */
	assert_null(ti.m);
	assert_int_equal(ti.n, 0);
}

static void truncate_copy(const char *src, const char *dst, off_t len)
{
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(in >= 0 && out >= 0);
	char *buf = malloc((size_t)len + 1);
	assert_int_equal(pread(in, buf, (size_t)len, 0), len);
	assert_int_equal(write(out, buf, (size_t)len), len);
	free(buf);
	close(in);
	close(out);
}

static void test_truncated(void **state)
{
	(void)state;
	char *p = tmp_path("trunc-src.tar");
	write_tar(p, ARCHIVE_FORMAT_TAR_USTAR, trunc_m, ARRAY_LEN(trunc_m));
	/* layout: first header 0, data 512..1211, second header 1536, data 2048..4047 */
	char *t = tmp_path("trunc.tar");
	/* inside the second member's data: names it */
	truncate_copy(p, t, 3000);
	expect_fail(t, "second-member");
	/* inside the second member's header */
	truncate_copy(p, t, 1536 + 100);
	expect_fail(t, "truncated");
	/* inside the first member's data */
	truncate_copy(p, t, 600);
	expect_fail(t, "first");
	/* an empty file is no archive */
	truncate_copy(p, t, 0);
	expect_fail(t, "trunc.tar");
}

static void test_bad_checksum(void **state)
{
	(void)state;
	char *p = tmp_path("cksum.tar");
	write_tar(p, ARCHIVE_FORMAT_TAR_USTAR, trunc_m, ARRAY_LEN(trunc_m));
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	/* flip a byte of the second member's name: its checksum no longer holds */
	char c;
	assert_int_equal(pread(fd, &c, 1, 1536 + 3), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, 1536 + 3), 1);
	close(fd);
	expect_fail(p, "first"); /* the member after which the header is corrupt */
	expect_fail(p, "1536");

	/* garbage from the first byte */
	char *g = tmp_path("garbage.tar");
	fd = open(g, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char junk[2048];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 1);
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);
	expect_fail(g, "not a tar archive");
}

static void test_not_a_file(void **state)
{
	(void)state;
	expect_fail(tmpdir, "not a regular file");
	expect_fail(tmp_path("does-not-exist.tar"), "does-not-exist.tar");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return th_rm_rf(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ustar),
		cmocka_unit_test(test_pax_long_names),
		cmocka_unit_test(test_gnu_long_names),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_not_a_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
