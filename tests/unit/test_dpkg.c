/* dpkg: the package database read from a tree built by hand.
 *
 * The synthetic tests write status, list and diversion texts here and
 * expect what follows from them (dpkg's rules: lists name paths as the
 * package wrote them, merged-/usr links in between; a diverted path of a
 * package other than the diverter lives at the diversion's target).
 *
 * The scale test generates a database the size of a full Debian system
 * (975 packages, ~139,000 listed paths), checks every package and listed
 * path against what the generator built, and checks the generator against
 * dpkg-query (-W, -S) on the same database written as an admindir. Nothing
 * of the host's own database is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "analyzer/dpkg.h"

/* A pointer into a dead stack frame is an error here, not luck: the db
 * keeps the tree pointer it was loaded with, and this fixture once loaded
 * it from a copy of the tree on build()'s stack (issue 9: the scale test
 * crashed once the dpkg -S output overwrote that frame). */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1";
}
#endif

/* ---- a one-layer image built by hand ---- */

struct fix {
	struct wh_image img;
	struct wh_layer layer;
	struct wh_entry *ents;
	struct wh_extra *extras;
	size_t n, cap;
	struct wh_tree t;
	struct dpkg_db db;
	int built, loaded;
	struct arena strings;
};

static struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->img.reference = "test:dpkg";
	f->img.layers = &f->layer;
	f->img.n_layers = 1;
	arena_init(&f->strings);
	return f;
}

static void fix_free(struct fix *f)
{
	if (f->loaded)
		dpkg_free(&f->db);
	if (f->built)
		tree_free(&f->t);
	free(f->ents);
	free(f->extras);
	arena_free(&f->strings);
	free(f);
}

static struct wh_entry *add(struct fix *f, uint8_t type, const char *path)
{
	if (f->n == f->cap) {
		size_t old = f->cap;
		f->cap = f->cap ? f->cap * 2 : 64;
		f->ents = realloc(f->ents, f->cap * sizeof *f->ents);
		f->extras = realloc(f->extras, f->cap * sizeof *f->extras);
		assert_non_null(f->ents);
		assert_non_null(f->extras);
		/* an entry without captured content has a zeroed extra */
		memset(f->extras + old, 0, (f->cap - old) * sizeof *f->extras);
	}
	struct wh_entry *e = &f->ents[f->n++];
	memset(e, 0, sizeof *e);
	e->path = arena_strdup(&f->strings, path);
	e->type = type;
	e->mode = type == WH_T_DIR ? 0755 : 0644;
	return e;
}

/* a regular file of `size` bytes, no captured content */
static void reg(struct fix *f, const char *path, uint64_t size)
{
	add(f, WH_T_REG, path)->size = size;
}

static void dir(struct fix *f, const char *path)
{
	add(f, WH_T_DIR, path);
}

static void sym(struct fix *f, const char *path, const char *target)
{
	add(f, WH_T_SYMLINK, path)->link = arena_strdup(&f->strings, target);
}

/* a database file: its content captured, as the index pass does */
static void text(struct fix *f, const char *path, const char *content, size_t len)
{
	struct wh_entry *e = add(f, WH_T_REG, path);
	e->size = len; /* its extra, at the same index, is linked in build() */
	char *c = arena_alloc(&f->strings, len + 1);
	memcpy(c, content, len);
	c[len] = 0;
	f->extras[f->n - 1] = (struct wh_extra){.content = (uint8_t *)c, .content_len = len};
}

static void textz(struct fix *f, const char *path, const char *content)
{
	text(f, path, content, strlen(content));
}

static int build(struct fix *f, struct wh_error *err)
{
	/* entries and extras grew by realloc: point each entry at its extra now */
	for (size_t i = 0; i < f->n; i++)
		if (f->extras[i].content)
			f->ents[i].extra = &f->extras[i];
	f->layer.entries = f->ents;
	f->layer.n_entries = f->n;
	struct wh_error e2 = {0};
	assert_int_equal(tree_build(&f->t, &f->img, 0, 0, &e2), 0);
	tree_sort_by_name(&f->t);
	f->built = 1;
	/* the db keeps a pointer to the tree it was loaded from: f->t, which
	 * lives as long as the db (a copy on this frame's stack would dangle) */
	int rc = dpkg_load_tree(&f->t, &f->db, err);
	f->loaded = rc == 0;
	return rc;
}

static void build_ok(struct fix *f)
{
	struct wh_error err = {0};
	if (build(f, &err) != 0)
		fail_msg("dpkg_load: %s", err.msg);
}

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

static int keep_set(void *ctx, const struct dpkg_pkg *p)
{
	for (const char *const *k = ctx; *k; k++)
		if (!strcmp(*k, p->name))
			return 1;
	return 0;
}

static int keep_all(void *ctx, const struct dpkg_pkg *p)
{
	(void)ctx;
	(void)p;
	return 1;
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

/* ---- a generated database at the scale of a full Debian system ---- */

/* 940 packages in status (Multi-Arch: same pairs, config-files leftovers),
 * 24 in status.d (distroless, one paragraph a file, NAME.md5sums), each
 * status package listing ~140 paths: shared directories, merged-/usr paths
 * (/bin/x behind bin -> usr/bin, /lib/... behind lib -> usr/lib, the links
 * /bin and /lib themselves), library symlinks, a path listed under both
 * names, paths not on disk, diversions by a package and local ones. The
 * generator records what each package must own; dpkg-query on the same
 * database written as an admindir checks the generator's reading of it. */
#define G_NPKG 940
#define G_NSD 24
#define G_DIRS 4
#define G_PER_DIR 34

struct gpkg {
	char name[24], arch[8], list[48];
	int present;
	size_t n_listed, n_files, n_nondir;
	size_t n_shared;   /* of the non-directories: the links /bin and /lib, which many list */
	uint64_t size;
	struct buf text;   /* its list (or md5sums) */
	char sample[96];   /* a regular file it owns, as listed, for dpkg -S */
};

struct gown {
	uint32_t pkg;
	const char *listed, *canon; /* canon: the tree path of the node it owns */
};

struct gen {
	struct fix *f;
	struct gpkg p[G_NPKG + G_NPKG / 50 + G_NSD + 2]; /* twins: fewer than 1 in 50 */
	size_t n, n_status;
	struct buf status, divs;
	struct gown *own;
	size_t n_own, cap_own, listed_total;
	size_t n_divs;
	size_t n_usr, n_bin, n_lib; /* owners of the usr directory and the bin and lib links */
};

/* Package k lists `listed`; canon is the node it names in the tree ("" for
 * none), type its type, add: create that node (the first lister). A
 * repeated name of an owned node (dup) counts as listed only. */
static void g_list(struct gen *g, size_t k, const char *listed, const char *canon, uint8_t type, uint64_t size,
                   int add_node, int dup)
{
	struct gpkg *p = &g->p[k];
	buf_append(&p->text, listed, strlen(listed));
	buf_append(&p->text, "\n", 1);
	if (strcmp(listed, "/.")) { /* dpkg's "/." is not counted */
		p->n_listed++;
		g->listed_total++;
	}
	if (!*canon || dup)
		return;
	if (add_node) {
		if (type == WH_T_DIR)
			dir(g->f, canon);
		else if (type == WH_T_REG)
			reg(g->f, canon, size);
	}
	p->n_files++;
	if (type != WH_T_DIR)
		p->n_nondir++;
	if (type == WH_T_REG)
		p->size += size;
	if (g->n_own == g->cap_own) {
		g->cap_own = g->cap_own ? g->cap_own * 2 : 1 << 17;
		g->own = realloc(g->own, g->cap_own * sizeof *g->own);
		assert_non_null(g->own);
	}
	g->own[g->n_own++] = (struct gown){(uint32_t)k, arena_strdup(&g->f->strings, listed),
	                                   arena_strdup(&g->f->strings, canon)};
}

static size_t g_paragraph(struct gen *g, const char *name, const char *arch, int ma, int config_files, size_t i)
{
	size_t k = g->n++;
	struct gpkg *p = &g->p[k];
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->arch, sizeof p->arch, "%s", arch);
	p->present = !config_files;
	snprintf(p->list, sizeof p->list, "%s%s%s.list", name, ma ? ":" : "", ma ? arch : "");
	char *para = xasprintf("Package: %s\nStatus: %s\nPriority: optional\nMaintainer: Whittle Tests <t@example.org>\n"
	                       "Architecture: %s\n%sVersion: 1.%zu-%zu\nDescription: generated package %zu\n"
	                       " with a continuation line\n\n",
	                       name, config_files ? "deinstall ok config-files" : "install ok installed", arch,
	                       ma ? "Multi-Arch: same\n" : "", i, k, i);
	buf_append(&g->status, para, strlen(para));
	free(para);
	return k;
}

static void g_status_package(struct gen *g, size_t i, size_t diverter)
{
	char n[24], l[160], c[160];
	int ma = i % 50 == 7;
	snprintf(n, sizeof n, ma ? "libm%03zu" : "p%03zu", i);
	int cf = i % 97 == 3;
	size_t k = g_paragraph(g, n, ma || i % 4 ? "amd64" : "all", ma, cf, i);
	struct gpkg *p = &g->p[k];
	g_list(g, k, "/.", "", 0, 0, 0, 0);
	if (cf) { /* dpkg left its conffile: nobody's now */
		snprintf(l, sizeof l, "/etc/%s.conf", n);
		reg(g->f, l + 1, 3);
		g_list(g, k, l, "", 0, 0, 0, 0);
		g->listed_total -= p->n_listed; /* its list is not read */
		p->n_listed = 0;
		return;
	}
	g->n_usr++;
	g_list(g, k, "/usr", "usr", WH_T_DIR, 0, 0, 0);
	g_list(g, k, "/usr/share", "usr/share", WH_T_DIR, 0, 0, 0);
	g_list(g, k, "/usr/share/doc", "usr/share/doc", WH_T_DIR, 0, 0, 0);
	snprintf(l, sizeof l, "/usr/share/doc/%s", n);
	g_list(g, k, l, l + 1, WH_T_DIR, 0, 1, 0);
	snprintf(l, sizeof l, "/usr/share/doc/%s/copyright", n);
	g_list(g, k, l, l + 1, WH_T_REG, 100 + i, 1, 0);
	snprintf(l, sizeof l, "/usr/share/%s", n);
	g_list(g, k, l, l + 1, WH_T_DIR, 0, 1, 0);
	for (size_t d = 0; d < G_DIRS; d++) {
		snprintf(l, sizeof l, "/usr/share/%s/d%zu", n, d);
		g_list(g, k, l, l + 1, WH_T_DIR, 0, 1, 0);
		for (size_t j = 0; j < G_PER_DIR; j++) {
			snprintf(l, sizeof l, "/usr/share/%s/d%zu/f%zu", n, d, j);
			uint64_t size = (i * 7 + d * G_PER_DIR + j) % 4096 + 1;
			if (j == 0 && d == 0 && i % 90 == 4) {
				/* diverted by the diverter: this package's file is at .distrib */
				snprintf(c, sizeof c, "%s.distrib", l + 1);
				g_list(g, k, l, c, WH_T_REG, size, 1, 0);
				g_list(g, diverter, l, l + 1, WH_T_REG, 7, 1, 0);
				char *t = xasprintf("%s\n/%s\n%s\n", l, c, g->p[diverter].name);
				g->n_divs++;
				buf_append(&g->divs, t, strlen(t));
				free(t);
			} else if (j == 0 && d == 1 && i % 90 == 49) {
				/* diverted locally: the admin's file at the path is nobody's */
				snprintf(c, sizeof c, "%s.local", l + 1);
				g_list(g, k, l, c, WH_T_REG, size, 1, 0);
				reg(g->f, l + 1, 3);
				char *t = xasprintf("%s\n/%s\n:\n", l, c);
				g->n_divs++;
				buf_append(&g->divs, t, strlen(t));
				free(t);
			} else {
				g_list(g, k, l, l + 1, WH_T_REG, size, 1, 0);
				if (!p->sample[0])
					snprintf(p->sample, sizeof p->sample, "%s", l);
			}
		}
	}
	if (i % 7 == 5) {
		snprintf(l, sizeof l, "/usr/share/%s/gone", n);
		g_list(g, k, l, "", 0, 0, 0, 0);
	}
	if (i % 2 == 0 && !ma) { /* a program, listed under /bin */
		g->n_bin++;
		g_list(g, k, "/bin", "bin", WH_T_SYMLINK, 0, 0, 0);
		p->n_shared++;
		snprintf(l, sizeof l, "/bin/%s", n);
		snprintf(c, sizeof c, "usr/bin/%s", n);
		g_list(g, k, l, c, WH_T_REG, 5000 + i, 1, 0);
		if (i % 10 == 0) { /* and under its other name too */
			g_list(g, k, "/usr/bin", "usr/bin", WH_T_DIR, 0, 0, 0);
			snprintf(l, sizeof l, "/%s", c);
			g_list(g, k, l, c, WH_T_REG, 5000 + i, 0, 1);
		}
	}
	if (i % 3 == 0 || ma) { /* a library, listed under /lib */
		g->n_lib++;
		g_list(g, k, "/lib", "lib", WH_T_SYMLINK, 0, 0, 0);
		p->n_shared++;
		g_list(g, k, "/lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", WH_T_DIR, 0, 0, 0);
		snprintf(l, sizeof l, "/lib/x86_64-linux-gnu/lib%s.so.1.0", n);
		snprintf(c, sizeof c, "usr/lib/x86_64-linux-gnu/lib%s.so.1.0", n);
		g_list(g, k, l, c, WH_T_REG, 20000 + i, 1, 0);
		snprintf(l, sizeof l, "/lib/x86_64-linux-gnu/lib%s.so.1", n);
		snprintf(c, sizeof c, "usr/lib/x86_64-linux-gnu/lib%s.so.1", n);
		char t[64];
		snprintf(t, sizeof t, "lib%s.so.1.0", n);
		sym(g->f, c, t);
		g_list(g, k, l, c, WH_T_SYMLINK, 0, 0, 0);
	}
	if (ma && i % 100 == 7) { /* its i386 twin: shares the doc directory and copyright */
		size_t t = g_paragraph(g, n, "i386", 1, 0, i);
		g->n_usr++;
		g_list(g, t, "/.", "", 0, 0, 0, 0);
		g_list(g, t, "/usr", "usr", WH_T_DIR, 0, 0, 0);
		g_list(g, t, "/usr/share", "usr/share", WH_T_DIR, 0, 0, 0);
		g_list(g, t, "/usr/share/doc", "usr/share/doc", WH_T_DIR, 0, 0, 0);
		snprintf(l, sizeof l, "/usr/share/doc/%s", n);
		g_list(g, t, l, l + 1, WH_T_DIR, 0, 0, 0);
		snprintf(l, sizeof l, "/usr/share/doc/%s/copyright", n);
		g_list(g, t, l, l + 1, WH_T_REG, 100 + i, 0, 0);
		g_list(g, t, "/usr/lib", "usr/lib", WH_T_DIR, 0, 0, 0);
		g_list(g, t, "/usr/lib/i386-linux-gnu", "usr/lib/i386-linux-gnu", WH_T_DIR, 0, 0, 0);
		snprintf(l, sizeof l, "/usr/lib/i386-linux-gnu/lib%s.so.1.0", n);
		g_list(g, t, l, l + 1, WH_T_REG, 15000 + i, 1, 0);
		snprintf(g->p[t].sample, sizeof g->p[t].sample, "%s", l);
	}
}

static void g_status_d_package(struct gen *g, size_t s)
{
	char file[24], l[160], c[160];
	snprintf(file, sizeof file, "sd%02zu", s);
	size_t k = g->n++;
	struct gpkg *p = &g->p[k];
	/* the file is named for the package, except now and then (distroless's "base" holds base-files) */
	snprintf(p->name, sizeof p->name, s % 8 == 0 ? "%s-files" : "%s", file);
	snprintf(p->arch, sizeof p->arch, "amd64");
	snprintf(p->list, sizeof p->list, "%s.md5sums", file);
	p->present = 1;
	char *para = xasprintf("Package: %s\n%sVersion: 2.%zu\nArchitecture: amd64\nMaintainer: t\n", p->name,
	                       s % 3 == 0 ? "Status: install ok installed\n" : "", s);
	snprintf(l, sizeof l, "var/lib/dpkg/status.d/%s", file);
	textz(g->f, l, para);
	free(para);
	for (size_t j = 0; j < 20; j++) {
		snprintf(c, sizeof c, "usr/share/%s/f%zu", file, j);
		snprintf(l, sizeof l, "0123456789abcdef0123456789abcdef  %s", c);
		g_list(g, k, l, c, WH_T_REG, 300 + s * 20 + j, 1, 0);
	}
	snprintf(c, sizeof c, "usr/bin/%s", file);
	snprintf(l, sizeof l, "0123456789abcdef0123456789abcdef  bin/%s", file);
	g_list(g, k, l, c, WH_T_REG, 900 + s, 1, 0);
	snprintf(l, sizeof l, "var/lib/dpkg/status.d/%s.md5sums", file);
	text(g->f, l, (const char *)p->text.data, p->text.len);
}

static void generate(struct gen *g)
{
	struct fix *f = g->f;
	sym(f, "bin", "usr/bin");
	sym(f, "sbin", "usr/sbin");
	sym(f, "lib", "usr/lib");
	sym(f, "lib64", "usr/lib64");
	static const char *const dirs[] = {"usr", "usr/bin", "usr/sbin", "usr/lib", "usr/lib/x86_64-linux-gnu",
	                                   "usr/lib/i386-linux-gnu", "usr/lib64", "usr/share", "usr/share/doc",
	                                   "etc", "var/lib/dpkg/info", "var/lib/dpkg/status.d"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		dir(f, dirs[i]);
	/* the diverter is the last package in status; its paragraph and list come last */
	size_t diverter = ARRAY_LEN(g->p) - 1;
	snprintf(g->p[diverter].name, sizeof g->p[diverter].name, "zdivert");
	for (size_t i = 0; i < G_NPKG; i++)
		g_status_package(g, i, diverter);
	/* move the diverter's list into its place in status order */
	struct gpkg dv = g->p[diverter];
	memset(&g->p[diverter], 0, sizeof g->p[diverter]);
	size_t k = g_paragraph(g, "zdivert", "all", 0, 0, G_NPKG);
	g->p[k].text = dv.text;
	g->p[k].n_listed = dv.n_listed;
	g->p[k].n_files = dv.n_files;
	g->p[k].n_nondir = dv.n_nondir;
	g->p[k].size = dv.size;
	for (size_t o = 0; o < g->n_own; o++)
		if (g->own[o].pkg == diverter)
			g->own[o].pkg = (uint32_t)k;
	g->n_status = g->n;
	for (size_t s = 0; s < G_NSD; s++)
		g_status_d_package(g, s);
	textz(f, "var/lib/dpkg/status", (const char *)g->status.data);
	textz(f, "var/lib/dpkg/diversions", (const char *)g->divs.data);
	for (size_t i = 0; i < g->n_status; i++) {
		char path[96];
		snprintf(path, sizeof path, "var/lib/dpkg/info/%s", g->p[i].list);
		text(f, path, (const char *)g->p[i].text.data, g->p[i].text.len);
	}
	/* a list dpkg left behind for a package that is gone */
	textz(f, "var/lib/dpkg/info/gone.list", "/.\n/usr\n/usr/share/doc\n");
}

/* dpkg-query over the generated status, lists and diversions written as an admindir */
static char *g_admindir(struct gen *g, char *tmpl)
{
	assert_non_null(mkdtemp(tmpl));
	char *info = xasprintf("%s/info", tmpl);
	assert_int_equal(mkdir(info, 0755), 0);
	struct { const char *name; const void *data; size_t len; } w[3] = {
		{"status", g->status.data, g->status.len},
		{"diversions", g->divs.data, g->divs.len},
		{"info/format", "1\n", 2}, /* lists of Multi-Arch: same packages are NAME:ARCH.list */
	};
	for (size_t i = 0; i < g->n_status + 3; i++) {
		char *path = i < 3 ? xasprintf("%s/%s", tmpl, w[i].name) : xasprintf("%s/%s", info, g->p[i - 3].list);
		FILE *fp = fopen(path, "wb");
		assert_non_null(fp);
		const void *d = i < 3 ? w[i].data : g->p[i - 3].text.data;
		size_t len = i < 3 ? w[i].len : g->p[i - 3].text.len;
		assert_int_equal(fwrite(d, 1, len, fp), len);
		assert_int_equal(fclose(fp), 0);
		free(path);
	}
	free(info);
	return tmpl;
}

static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct buf b = {0};
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, p)) > 0)
		buf_append(&b, tmp, n);
	pclose(p);
	buf_append(&b, "", 1);
	return (char *)b.data;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a, b:i386" (dpkg -S) or the owners of a node, as sorted names without architecture */
static void sorted_names(char *out, size_t cap, char **names, size_t n)
{
	qsort(names, n, sizeof *names, cmp_str);
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", names[i]);
}

static void g_peer(struct gen *g)
{
	const struct dpkg_db *db = &g->f->db;
	if (system("command -v dpkg-query >/dev/null 2>&1") != 0)
		TH_SKIP("no dpkg-query");
	char tmpl[] = "/tmp/whittle-test-dpkg-XXXXXX";
	g_admindir(g, tmpl);
	/* the packages dpkg-query sees in status: the generator's, in order */
	char *cmd = xasprintf("dpkg-query --admindir=%s -W -f '${Package}:${Architecture} ${db:Status-Status}\\n' "
	                      "2>/dev/null", tmpl);
	char *q = run(cmd);
	free(cmd);
	size_t n = 0;
	char *save;
	for (char *l = strtok_r(q, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
		char *sp = strchr(l, ' ');
		assert_non_null(sp);
		*sp = 0;
		const struct dpkg_pkg *p = dpkg_find(db, l);
		if (!p)
			fail_msg("dpkg-query names %s; dpkg_find does not", l);
		assert_string_equal(p->state, sp + 1);
	}
	free(q);
	assert_int_equal(n, g->n_status);

	/* owners: a file of every 25th package, a shared directory, the links, a shared file */
	struct buf c = {0};
	char *head = xasprintf("dpkg-query --admindir=%s -S /usr/share/doc /bin /lib /usr/share/doc/libm007/copyright",
	                       tmpl);
	buf_append(&c, head, strlen(head));
	free(head);
	size_t asked = 4;
	for (size_t i = 0; i < g->n_status; i += 25)
		if (g->p[i].sample[0]) {
			buf_append(&c, " ", 1);
			buf_append(&c, g->p[i].sample, strlen(g->p[i].sample));
			asked++;
		}
	buf_append(&c, " 2>/dev/null", 13);
	q = run((const char *)c.data);
	buf_free(&c);
	size_t compared = 0;
	static char theirs[65536], mine[65536];
	static char *names[2048];
	static const struct dpkg_pkg *own[2048];
	for (char *l = strtok_r(q, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(l, ": /");
		assert_non_null(sep);
		*sep = 0;
		const char *path = sep + 2;
		size_t nn = 0;
		char *s2;
		for (char *tok = strtok_r(l, ", ", &s2); tok && nn < 2048; tok = strtok_r(NULL, ", ", &s2)) {
			char *colon = strchr(tok, ':');
			if (colon)
				*colon = 0;
			names[nn++] = tok;
		}
		sorted_names(theirs, sizeof theirs, names, nn);
		const struct dpkg_pkg *o = dpkg_owner_path(db, path);
		if (!o)
			fail_msg("dpkg -S: %s is %s's; dpkg_owner_path finds nobody", path, theirs);
		size_t no = dpkg_owners(db, tree_lookup(&g->f->t, path), own, 2048);
		assert_ptr_equal(own[0], o);
		for (size_t k = 0; k < no; k++)
			names[k] = (char *)own[k]->name;
		sorted_names(mine, sizeof mine, names, no);
		if (strcmp(mine, theirs))
			fail_msg("%s: dpkg -S says %.200s, dpkg_owners %.200s", path, theirs, mine);
		compared++;
	}
	free(q);
	assert_int_equal(compared, asked);
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf '%s'", tmpl);
	assert_int_equal(system(rm), 0);
}

static void test_generated_scale(void **state)
{
	(void)state;
	struct gen *g = calloc(1, sizeof *g);
	assert_non_null(g);
	g->f = fix_new();
	generate(g);
	size_t n_entries = g->f->n;
	build_ok(g->f);
	const struct dpkg_db *db = &g->f->db;
	print_message("generated: %zu packages (%zu in status.d), %zu listed paths, %zu tree entries\n", g->n,
	              g->n - g->n_status, g->listed_total, n_entries);
	assert_true(g->n >= 900);
	assert_true(g->listed_total >= 130000);
	assert_int_equal(db->n_pkgs, g->n);
	assert_int_equal(db->n_diversions, g->n_divs);
	assert_true(g->n_divs >= 20);

	/* each package: found by name:arch, in order, with what it was given */
	for (size_t k = 0; k < g->n; k++) {
		const struct gpkg *gp = &g->p[k];
		char spec[40];
		snprintf(spec, sizeof spec, "%s:%s", gp->name, gp->arch);
		const struct dpkg_pkg *p = dpkg_find(db, spec);
		if (p != &db->pkgs[k])
			fail_msg("%s: dpkg_find gives %p, not package %zu", spec, (const void *)p, k);
		if (p->present != gp->present || p->n_listed != gp->n_listed || p->n_files != gp->n_files ||
		    p->n_nondir != gp->n_nondir || p->size_bytes != gp->size)
			fail_msg("%s: present %d listed %zu files %zu nondir %zu bytes %llu; want %d %zu %zu %zu %llu", spec,
			         p->present, p->n_listed, p->n_files, p->n_nondir, (unsigned long long)p->size_bytes,
			         gp->present, gp->n_listed, gp->n_files, gp->n_nondir, (unsigned long long)gp->size);
	}
	/* every listed path names its node, and the package is among the node's owners */
	static const struct dpkg_pkg *own[2048];
	for (size_t o = 0; o < g->n_own; o++) {
		const struct gown *w = &g->own[o];
		const char *listed = w->listed;
		if (!strncmp(listed, "0123456789abcdef", 16))
			listed += 34; /* an md5sums line */
		struct wh_node *n = tree_lookup(&g->f->t, w->canon);
		assert_non_null(n);
		size_t no = dpkg_owners(db, n, own, 2048);
		int found = 0;
		for (size_t k = 0; k < no && k < 2048; k++)
			found |= own[k] == &db->pkgs[w->pkg];
		if (!found)
			fail_msg("%s (listed by %s as %s) is not its", w->canon, g->p[w->pkg].name, listed);
		if (!strstr(w->canon, ".distrib") && !strstr(w->canon, ".local") && !dpkg_owner_path(db, listed))
			fail_msg("dpkg_owner_path(%s) finds nobody", listed);
	}
	/* shared nodes: exactly their listers, in status order */
	const struct { const char *path; size_t want; } shared[] = {
		{"usr", g->n_usr}, {"bin", g->n_bin}, {"lib", g->n_lib}, {"usr/share/doc", g->n_usr},
	};
	for (size_t i = 0; i < ARRAY_LEN(shared); i++) {
		size_t no = dpkg_owners(db, tree_lookup(&g->f->t, shared[i].path), own, 2048);
		assert_int_equal(no, shared[i].want);
		for (size_t k = 1; k < no; k++)
			assert_true(own[k - 1] < own[k]);
	}
	/* own paths: files and symlinks one package lists; not the links /bin and /lib, listed by many */
	assert_false(dpkg_own_path(db, tree_lookup(&g->f->t, "bin")));
	assert_false(dpkg_own_path(db, tree_lookup(&g->f->t, "lib")));
	assert_false(dpkg_own_path(db, tree_lookup(&g->f->t, "usr/share/doc")));
	assert_true(dpkg_own_path(db, tree_lookup(&g->f->t, "usr/lib/x86_64-linux-gnu/libp000.so.1")));
	assert_true(dpkg_own_path(db, tree_lookup(&g->f->t, "usr/share/doc/libm007/copyright"))); /* a shared file */
	for (size_t k = 0; k < g->n; k++) {
		size_t mine, marked;
		dpkg_own_paths(db, &db->pkgs[k], 0xff, &mine, &marked);
		/* its files and its library link: its non-directories but the links /bin and /lib */
		assert_int_equal(mine, g->p[k].n_nondir - g->p[k].n_shared);
		assert_int_equal(marked, 0);
	}
	/* diverted: the diverter owns the path, the package the .distrib; a local diversion's path is nobody's */
	assert_string_equal(dpkg_owner_path(db, "/usr/share/p004/d0/f0")->name, "zdivert");
	assert_string_equal(dpkg_owner_path(db, "/usr/share/p004/d0/f0.distrib")->name, "p004");
	assert_null(dpkg_owner_path(db, "/usr/share/p049/d1/f0"));
	assert_string_equal(dpkg_owner_path(db, "/usr/share/p049/d1/f0.local")->name, "p049");
	assert_null(dpkg_owner_path(db, "/etc/p003.conf")); /* config-files */
	assert_null(dpkg_find(db, "gone"));
	assert_ptr_equal(dpkg_db_file_package(db, "var/lib/dpkg/status.d/sd08.md5sums"), dpkg_find(db, "sd08-files"));

	/* every paragraph kept: the status file back, byte for byte */
	size_t sl;
	char *s = dpkg_status_filtered(db, keep_all, NULL, &sl);
	assert_int_equal(sl, g->status.len);
	assert_memory_equal(s, g->status.data, sl);
	free(s);

	g_peer(g);

	for (size_t k = 0; k < ARRAY_LEN(g->p); k++)
		buf_free(&g->p[k].text);
	buf_free(&g->status);
	buf_free(&g->divs);
	free(g->own);
	fix_free(g->f);
	free(g);
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
		cmocka_unit_test(test_generated_scale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
