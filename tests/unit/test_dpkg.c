/* dpkg: the package database read from a tree built by hand.
 *
 * The synthetic tests write status, list and diversion texts here and
 * expect what follows from them (dpkg's rules: lists name paths as the
 * package wrote them, merged-/usr links in between; a diverted path of a
 * package other than the diverter lives at the diversion's target).
 * The scale test is test_dpkg_scale.c; the fixture is dpkg_fixture.h. */
#include "tests/unit/dpkg_fixture.h"

static const char *owner_of(struct fix *f, const char *path)
{
	const struct dpkg_pkg *p = dpkg_owner_path(&f->db, path);
	return p ? p->name : "(none)";
}

static struct wh_node *node(struct fix *f, const char *path)
{
	struct wh_node *n = tree_lookup(&f->t, path);
	if (!n)
		fail_msg("%s is not in the tree", path);
	return n;
}

/* ---- the synthetic database ---- */

#define P_COREUTILS                                                                                    \
	"Package: coreutils\n"                                                                         \
	"Essential: yes\n"                                                                             \
	"Status: install ok installed\n"                                                               \
	"Priority: required\n"                                                                         \
	"Architecture: amd64\n"                                                                        \
	"Multi-Arch: foreign\n"                                                                        \
	"Version: 9.1-1\n"                                                                             \
	"Description: GNU core utilities\n"                                                            \
	" This package contains the basic file, shell and text manipulation\n"                        \
	" utilities.\n"                                                                                \
	"\n"
#define P_LIBFOO_AMD64                                                                                 \
	"Package: libfoo\n"                                                                            \
	"Status: install ok installed\n"                                                               \
	"Architecture: amd64\n"                                                                        \
	"Multi-Arch: same\n"                                                                           \
	"Version: 1.2-3\n"                                                                             \
	"\n"
#define P_LIBFOO_I386                                                                                  \
	"Package: libfoo\n"                                                                            \
	"Status: install ok installed\n"                                                               \
	"Architecture: i386\n"                                                                         \
	"Multi-Arch: same\n"                                                                           \
	"Version: 1.2-3\n"                                                                             \
	"\n"
#define P_OLD                                                                                          \
	"Package: oldpkg\n"                                                                            \
	"Status: deinstall ok config-files\n"                                                          \
	"Architecture: all\n"                                                                          \
	"Version: 0.1\n"                                                                               \
	"Conffiles:\n"                                                                                 \
	" /etc/oldpkg.conf 0123456789abcdef0123456789abcdef\n"                                         \
	"\n"
#define P_ORIGINAL                                                                                     \
	"Package: original\n"                                                                          \
	"Status: install ok half-configured\n"                                                         \
	"Architecture: amd64\n"                                                                        \
	"Version: 2\n"                                                                                 \
	"\n"
#define P_WRAPPER                                                                                      \
	"Package: wrapper\n"                                                                           \
	"Status: install ok installed\n"                                                               \
	"Architecture: all\n"                                                                          \
	"Version: 3\n"                                                                                 \
	"\n"
#define P_FOO                                                                                          \
	"Package: foo\n"                                                                               \
	"Status: install ok installed\n"                                                               \
	"Architecture: all\n"                                                                          \
	"Version: 4\n"                                                                                 \
	"\n"

static void synthetic_image(struct fix *f)
{
	/* merged /usr */
	sym(f, "bin", "usr/bin");
	sym(f, "lib", "usr/lib");
	sym(f, "lib64", "usr/lib64");
	dir(f, "usr");
	dir(f, "usr/bin");
	dir(f, "usr/lib");
	dir(f, "usr/lib/x86_64-linux-gnu");
	dir(f, "usr/lib/i386-linux-gnu");
	dir(f, "usr/lib64");
	reg(f, "usr/bin/ls", 1000);
	reg(f, "usr/bin/cat", 500);
	sym(f, "usr/bin/dir", "ls");       /* a listed symlink: owned as a link */
	reg(f, "usr/bin/tool", 7);         /* wrapper's, diverting original's */
	reg(f, "usr/bin/tool.original", 30);
	reg(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1.2", 4000);
	sym(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1.2");
	reg(f, "usr/lib/i386-linux-gnu/libfoo.so.1.2", 3000);
	sym(f, "usr/lib/i386-linux-gnu/libfoo.so.1", "libfoo.so.1.2");
	reg(f, "usr/share/doc/libfoo/copyright", 20); /* shared by both architectures */
	reg(f, "usr/share/doc/coreutils/copyright", 10);
	reg(f, "etc/foo.conf", 3);         /* the admin's, diverted locally */
	reg(f, "etc/foo.conf.dist", 5);    /* foo's */
	reg(f, "etc/unowned", 9);
	/* a loop a list goes through */
	sym(f, "loop", "loop2");
	sym(f, "loop2", "loop");

	textz(f, "var/lib/dpkg/status",
	      P_COREUTILS P_LIBFOO_AMD64 P_LIBFOO_I386 P_OLD P_ORIGINAL P_WRAPPER P_FOO);
	textz(f, "var/lib/dpkg/info/coreutils.list",
	      "/.\n/bin\n/bin/ls\n/bin/cat\n/bin/dir\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/coreutils\n"
	      "/usr/share/doc/coreutils/copyright\n/bin/gone\n/loop/x\n");
	textz(f, "var/lib/dpkg/info/libfoo:amd64.list",
	      "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libfoo.so.1.2\n"
	      "/lib/x86_64-linux-gnu/libfoo.so.1\n/usr/share/doc/libfoo/copyright\n");
	textz(f, "var/lib/dpkg/info/libfoo:i386.list",
	      "/.\n/usr/lib/i386-linux-gnu/libfoo.so.1.2\n/usr/lib/i386-linux-gnu/libfoo.so.1\n"
	      "/usr/share/doc/libfoo/copyright\n");
	textz(f, "var/lib/dpkg/info/original.list", "/.\n/usr/bin/tool\n");
	textz(f, "var/lib/dpkg/info/wrapper.list", "/.\n/usr/bin/tool\n");
	textz(f, "var/lib/dpkg/info/foo.list", "/.\n/etc/foo.conf\n");
	/* a list dpkg left behind for a package not in status */
	textz(f, "var/lib/dpkg/info/ghost.list", "/.\n/etc/unowned\n");
	textz(f, "var/lib/dpkg/diversions",
	      "/usr/bin/tool\n/usr/bin/tool.original\nwrapper\n/etc/foo.conf\n/etc/foo.conf.dist\n:\n");
}

static void test_packages(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	synthetic_image(f);
	build_ok(f);
	const struct dpkg_db *db = &f->db;
	assert_ptr_equal(db->tree, &f->t); /* the tree that outlives the db, no copy */
	assert_true(db->found);
	assert_int_equal(db->n_pkgs, 7);
	assert_int_equal(db->n_diversions, 2);
	const char *names[] = {"coreutils", "libfoo", "libfoo", "oldpkg", "original", "wrapper", "foo"};
	const char *arch[] = {"amd64", "amd64", "i386", "all", "amd64", "all", "all"};
	const char *state_[] = {"installed", "installed", "installed", "config-files", "half-configured", "installed",
	                        "installed"};
	for (size_t i = 0; i < 7; i++) {
		assert_string_equal(db->pkgs[i].name, names[i]);
		assert_string_equal(db->pkgs[i].arch, arch[i]);
		assert_string_equal(db->pkgs[i].state, state_[i]);
		assert_string_equal(db->pkgs[i].source, "var/lib/dpkg/status");
	}
	assert_string_equal(db->pkgs[0].version, "9.1-1");
	assert_true(db->pkgs[0].installed && db->pkgs[0].present);
	assert_false(db->pkgs[3].installed || db->pkgs[3].present);
	assert_false(db->pkgs[4].installed);
	assert_true(db->pkgs[4].present);

	assert_ptr_equal(dpkg_find(db, "coreutils"), &db->pkgs[0]);
	assert_ptr_equal(dpkg_find(db, "libfoo"), &db->pkgs[1]); /* first by architecture */
	assert_ptr_equal(dpkg_find(db, "libfoo:i386"), &db->pkgs[2]);
	assert_ptr_equal(dpkg_find(db, "libfoo:amd64"), &db->pkgs[1]);
	assert_null(dpkg_find(db, "libfoo:arm64"));
	assert_ptr_equal(dpkg_find(db, "oldpkg"), &db->pkgs[3]);
	assert_null(dpkg_find(db, "ghost"));
	assert_null(dpkg_find(db, "core"));
	assert_null(dpkg_find(db, "coreutilsx"));

	assert_string_equal(db->pkgs[0].list, "var/lib/dpkg/info/coreutils.list");
	assert_string_equal(db->pkgs[2].list, "var/lib/dpkg/info/libfoo:i386.list");
	assert_null(db->pkgs[3].list);
	fix_free(f);
}

static void test_owners_merged_usr(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	synthetic_image(f);
	build_ok(f);
	const struct dpkg_db *db = &f->db;
	/* listed as /bin/ls, found behind bin -> usr/bin; both paths name it */
	assert_string_equal(owner_of(f, "/bin/ls"), "coreutils");
	assert_string_equal(owner_of(f, "/usr/bin/ls"), "coreutils");
	assert_string_equal(owner_of(f, "usr/bin/cat"), "coreutils");
	assert_string_equal(dpkg_owner(db, node(f, "usr/bin/ls")), "coreutils");
	/* a listed symlink is owned as the link, not as its target */
	assert_string_equal(dpkg_owner(db, node(f, "usr/bin/dir")), "coreutils");
	/* the /bin link itself: coreutils lists /bin */
	assert_string_equal(dpkg_owner(db, node(f, "bin")), "coreutils");
	assert_string_equal(owner_of(f, "/lib/x86_64-linux-gnu/libfoo.so.1"), "libfoo");
	assert_string_equal(dpkg_owner_pkg(db, node(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1.2"))->arch, "amd64");
	assert_string_equal(dpkg_owner_pkg(db, node(f, "usr/lib/i386-linux-gnu/libfoo.so.1.2"))->arch, "i386");
	/* shared by both architectures */
	const struct dpkg_pkg *own[4];
	assert_int_equal(dpkg_owners(db, node(f, "usr/share/doc/libfoo/copyright"), own, 4), 2);
	assert_ptr_equal(own[0], &db->pkgs[1]);
	assert_ptr_equal(own[1], &db->pkgs[2]);
	assert_int_equal(dpkg_owners(db, node(f, "usr/share/doc/libfoo/copyright"), own, 1), 2);
	/* nobody's: a file no list names, a list of no package, the root */
	assert_null(dpkg_owner(db, node(f, "etc/unowned")));
	assert_null(dpkg_owner(db, f->t.root));
	assert_null(dpkg_owner_path(db, "/no/such/file"));
	assert_null(dpkg_owner_path(db, "/loop/x"));

	/* coreutils: 10 paths listed ("/." not counted); gone and /loop/x are
	 * not in the tree; bin (link), usr/bin/{ls,cat,dir}, usr, usr/share,
	 * usr/share/doc, usr/share/doc/coreutils, copyright are */
	const struct dpkg_pkg *cu = &db->pkgs[0];
	assert_int_equal(cu->n_listed, 11);
	assert_int_equal(cu->n_files, 9);
	assert_int_equal(cu->n_nondir, 5);
	assert_int_equal(cu->size_bytes, 1000 + 500 + 10);
	size_t n;
	struct wh_node *const *files = dpkg_package_files(db, cu, &n);
	assert_int_equal(n, 9);
	assert_ptr_equal(files[0], node(f, "bin"));
	assert_ptr_equal(files[1], node(f, "usr/bin/ls"));
	assert_ptr_equal(files[8], node(f, "usr/share/doc/coreutils/copyright"));
	assert_int_equal(db->pkgs[1].size_bytes, 4000 + 20);
	assert_int_equal(db->pkgs[2].size_bytes, 3000 + 20);
	/* "/lib" resolves to the lib link; "/lib/x86_64-linux-gnu" to the real directory */
	assert_int_equal(db->pkgs[1].n_files, 5);
	assert_int_equal(db->pkgs[1].n_nondir, 4);
	assert_int_equal(db->pkgs[3].n_files, 0);

	/* reach's hooks: non-directories, as absolute paths of the final tree */
	const char *const *paths;
	assert_int_equal(dpkg_reach_files_of(&f->db, "coreutils", &paths), 5);
	assert_string_equal(paths[0], "/bin");
	assert_string_equal(paths[1], "/usr/bin/ls");
	assert_string_equal(paths[2], "/usr/bin/cat");
	assert_string_equal(paths[3], "/usr/bin/dir");
	assert_string_equal(paths[4], "/usr/share/doc/coreutils/copyright");
	assert_int_equal(dpkg_reach_files_of(&f->db, "libfoo:i386", &paths), 3);
	assert_string_equal(paths[0], "/usr/lib/i386-linux-gnu/libfoo.so.1.2");
	assert_int_equal(dpkg_reach_files_of(&f->db, "oldpkg", &paths), 0);
	assert_int_equal(dpkg_reach_files_of(&f->db, "nosuch", &paths), -1);
	assert_string_equal(dpkg_reach_owner_of(&f->db, "/bin/cat"), "coreutils");
	assert_null(dpkg_reach_owner_of(&f->db, "/etc/unowned"));
	fix_free(f);
}

static void test_diversions(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	synthetic_image(f);
	build_ok(f);
	const struct dpkg_db *db = &f->db;
	/* wrapper diverts /usr/bin/tool: original's tool lives at tool.original */
	assert_string_equal(owner_of(f, "/usr/bin/tool"), "wrapper");
	assert_string_equal(owner_of(f, "/usr/bin/tool.original"), "original");
	assert_string_equal(owner_of(f, "/bin/tool.original"), "original");
	const struct dpkg_pkg *own[4];
	assert_int_equal(dpkg_owners(db, node(f, "usr/bin/tool"), own, 4), 1);
	assert_int_equal(dpkg_find(db, "original")->size_bytes, 30);
	assert_int_equal(dpkg_find(db, "wrapper")->size_bytes, 7);
	/* a local diversion: foo's file is the .dist one, the admin's is nobody's */
	assert_string_equal(owner_of(f, "/etc/foo.conf.dist"), "foo");
	assert_null(dpkg_owner_path(db, "/etc/foo.conf"));
	assert_int_equal(dpkg_find(db, "foo")->size_bytes, 5);

	/* the file without the diversions of packages not kept; local ones stay */
	const char *whole = "/usr/bin/tool\n/usr/bin/tool.original\nwrapper\n/etc/foo.conf\n/etc/foo.conf.dist\n:\n";
	size_t len = 0;
	char *d = dpkg_diversions_filtered(db, keep_all, NULL, &len);
	assert_string_equal(d, whole);
	assert_int_equal(len, strlen(whole));
	free(d);
	d = dpkg_diversions_filtered(db, keep_set, (const char *[]){"original", "foo", NULL}, &len);
	assert_string_equal(d, "/etc/foo.conf\n/etc/foo.conf.dist\n:\n");
	assert_int_equal(len, strlen("/etc/foo.conf\n/etc/foo.conf.dist\n:\n"));
	free(d);
	fix_free(f);

	/* no diversions file: NULL */
	f = fix_new();
	textz(f, "var/lib/dpkg/status", P_FOO);
	build_ok(f);
	len = 9;
	assert_null(dpkg_diversions_filtered(&f->db, keep_all, NULL, &len));
	assert_int_equal(len, 0);
	fix_free(f);
}

static void test_db_files(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	synthetic_image(f);
	build_ok(f);
	const struct dpkg_db *db = &f->db;
	assert_ptr_equal(dpkg_db_file_package(db, "/var/lib/dpkg/info/libfoo:i386.list"), &db->pkgs[2]);
	assert_ptr_equal(dpkg_db_file_package(db, "var/lib/dpkg/info/libfoo:amd64.md5sums"), &db->pkgs[1]);
	assert_ptr_equal(dpkg_db_file_package(db, "var/lib/dpkg/info/coreutils.postinst"), &db->pkgs[0]);
	assert_null(dpkg_db_file_package(db, "var/lib/dpkg/info/ghost.list"));
	assert_null(dpkg_db_file_package(db, "var/lib/dpkg/info/format"));
	assert_null(dpkg_db_file_package(db, "var/lib/dpkg/status"));
	assert_null(dpkg_db_file_package(db, "usr/bin/ls"));
	fix_free(f);
}

static void test_status_filtered(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	synthetic_image(f);
	build_ok(f);
	size_t len = 0;
	const char *all[] = {"coreutils", "libfoo", "oldpkg", "original", "wrapper", "foo", NULL};
	char *s = dpkg_status_filtered(&f->db, keep_set, all, &len);
	const char *whole = P_COREUTILS P_LIBFOO_AMD64 P_LIBFOO_I386 P_OLD P_ORIGINAL P_WRAPPER P_FOO;
	assert_int_equal(len, strlen(whole));
	assert_memory_equal(s, whole, len);
	free(s);

	const char *some[] = {"coreutils", "wrapper", NULL};
	s = dpkg_status_filtered(&f->db, keep_set, some, &len);
	assert_string_equal(s, P_COREUTILS P_WRAPPER);
	assert_int_equal(len, strlen(P_COREUTILS P_WRAPPER));
	free(s);

	const char *none[] = {NULL};
	s = dpkg_status_filtered(&f->db, keep_set, none, &len);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
	fix_free(f);
}

/* Bytes before the first paragraph, several blank lines, a last paragraph
 * without its blank line: kept as they were. */
static void test_status_filtered_layout(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	textz(f, "var/lib/dpkg/status",
	      "\n\nPackage: a\nStatus: install ok installed\n\n \n\nPackage: b\nStatus: install ok installed\n\n"
	      "Package: c\nStatus: install ok installed\nDescription: x\n more");
	build_ok(f);
	assert_int_equal(f->db.n_pkgs, 3);
	size_t len = 0;
	const char *ac[] = {"a", "c", NULL};
	char *s = dpkg_status_filtered(&f->db, keep_set, ac, &len);
	assert_string_equal(s, "\n\nPackage: a\nStatus: install ok installed\n\n \n\n"
	                       "Package: c\nStatus: install ok installed\nDescription: x\n more");
	free(s);
	const char *b[] = {"b", NULL};
	s = dpkg_status_filtered(&f->db, keep_set, b, &len);
	assert_string_equal(s, "\n\nPackage: b\nStatus: install ok installed\n\n");
	free(s);
	fix_free(f);
}

static void test_no_dpkg(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	reg(f, "etc/alpine-release", 7);
	reg(f, "bin/busybox", 100);
	build_ok(f);
	assert_false(f->db.found);
	assert_int_equal(f->db.n_pkgs, 0);
	assert_null(dpkg_find(&f->db, "busybox"));
	assert_null(dpkg_owner_path(&f->db, "/bin/busybox"));
	size_t len = 99;
	assert_null(dpkg_status_filtered(&f->db, keep_set, (const char *[]){NULL}, &len));
	assert_int_equal(len, 0);
	fix_free(f);
}

static void test_distroless_status_d(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	dir(f, "var/lib/dpkg/status.d");
	textz(f, "var/lib/dpkg/status.d/base",
	      "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMaintainer: x\n");
	textz(f, "var/lib/dpkg/status.d/base.md5sums",
	      "0123456789abcdef0123456789abcdef  etc/debian_version\n"
	      "0123456789abcdef0123456789abcdef  usr/share/doc/base-files/copyright\n");
	textz(f, "var/lib/dpkg/status.d/libc6", "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n");
	reg(f, "etc/debian_version", 5);
	reg(f, "usr/share/doc/base-files/copyright", 1234);
	build_ok(f);
	const struct dpkg_db *db = &f->db;
	assert_true(db->found);
	assert_int_equal(db->n_pkgs, 2);
	const struct dpkg_pkg *b = dpkg_find(db, "base-files");
	assert_non_null(b);
	assert_string_equal(b->source, "var/lib/dpkg/status.d/base");
	assert_string_equal(b->list, "var/lib/dpkg/status.d/base.md5sums");
	assert_string_equal(b->state, "installed");
	assert_true(b->installed);
	assert_int_equal(b->size_bytes, 5 + 1234);
	assert_string_equal(owner_of(f, "/etc/debian_version"), "base-files");
	assert_null(dpkg_find(db, "libc6")->list);
	assert_ptr_equal(dpkg_db_file_package(db, "var/lib/dpkg/status.d/libc6"), dpkg_find(db, "libc6"));
	assert_ptr_equal(dpkg_db_file_package(db, "var/lib/dpkg/status.d/base.md5sums"), b);
	size_t len = 0;
	assert_null(dpkg_status_filtered(db, keep_set, (const char *[]){NULL}, &len));
	fix_free(f);
}

/* ---- malformed input: an error naming the file and line, never a crash ---- */

static void expect_error(const char *path, const char *content, size_t len, const char *want1, const char *want2)
{
	struct fix *f = fix_new();
	if (strcmp(path, "var/lib/dpkg/status"))
		textz(f, "var/lib/dpkg/status", P_COREUTILS);
	text(f, path, content, len);
	struct wh_error err = {0};
	int rc = build(f, &err);
	if (rc != WH_EINPUT)
		fail_msg("%s: rc %d, want WH_EINPUT (%s)", path, rc, err.msg);
	if (!strstr(err.msg, want1) || !strstr(err.msg, want2))
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg, want1, want2);
	fix_free(f);
}

static void test_malformed(void **state)
{
	(void)state;
	const char *st = "var/lib/dpkg/status";
#define E(c, a, b) expect_error(st, c, strlen(c), a, b)
	E("Status: install ok installed\nVersion: 1\n", "/var/lib/dpkg/status line 1", "without a Package field");
	E(P_COREUTILS "Package: x\nStatus: install ok installed\njunk here\n", "/var/lib/dpkg/status line 14",
	  "not a \"Field: value\" line: \"junk here\"");
	E(P_COREUTILS " orphan continuation\n", "/var/lib/dpkg/status line 12", "continuation line outside");
	E("Package: x\nStatus: install installed\n", "/var/lib/dpkg/status line 2", "is not \"WANT FLAG STATE\"");
	E("Package: x\nVersion: 1\n", "/var/lib/dpkg/status line 1", "package x has no Status field");
	E("Package:\nStatus: install ok installed\n", "line 1", "without a Package field");
	E("Package: a b\nStatus: install ok installed\n", "line 1", "bad package name");
	E("Package: x\nPackage: y\nStatus: install ok installed\n", "line 2", "Package given twice");
	E(": value\n", "line 1", "not a \"Field: value\" line");
	E("Package x\n", "line 1", "not a \"Field: value\" line");
	expect_error(st, "Package: x\nStatus: install ok \0installed\n", 38, "line 2", "a NUL byte");
#undef E
	expect_error("var/lib/dpkg/diversions", "/a\n/b\n", 6, "/var/lib/dpkg/diversions", "not a multiple of 3");
	expect_error("var/lib/dpkg/diversions", "/a\nb\npkg\n", 9, "/var/lib/dpkg/diversions line 2",
	             "not an absolute path");
	expect_error("var/lib/dpkg/diversions", "/../../a\n/b\npkg\n", 16, "/var/lib/dpkg/diversions line 1",
	             "climbs above");
	expect_error("var/lib/dpkg/info/coreutils.list", "/.\nbin/ls\n", 10,
	             "/var/lib/dpkg/info/coreutils.list line 2", "not an absolute path");
	expect_error("var/lib/dpkg/info/coreutils.list", "/.\n/../../etc\n", 13,
	             "/var/lib/dpkg/info/coreutils.list line 2", "climbs above");

	/* a status that is a directory; a status whose content was not captured */
	struct fix *f = fix_new();
	dir(f, "var/lib/dpkg/status");
	struct wh_error err = {0};
	assert_int_equal(build(f, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "/var/lib/dpkg/status: not a regular file"));
	fix_free(f);
	f = fix_new();
	reg(f, "var/lib/dpkg/status", 20u << 20);
	memset(&err, 0, sizeof err);
	assert_int_equal(build(f, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "/var/lib/dpkg/status: its content was not captured"));
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packages),
		cmocka_unit_test(test_owners_merged_usr),
		cmocka_unit_test(test_diversions),
		cmocka_unit_test(test_db_files),
		cmocka_unit_test(test_status_filtered),
		cmocka_unit_test(test_status_filtered_layout),
		cmocka_unit_test(test_no_dpkg),
		cmocka_unit_test(test_distroless_status_d),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
