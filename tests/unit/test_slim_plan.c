/* slim_plan: layers built by hand, merged with tree_build, a keep set
 * marked by path, and the plan compared with what the construction says
 * must be in the output: kept paths, their parents, the symlinks they
 * resolve through, hard-link sets with the smallest kept path carrying
 * the data, and the dpkg database without removed packages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/reach.h"
#include "slimmer/slim_plan.h"

#define MAXL 3
#define MAXE 64

struct fix {
	struct analysis a;
	struct wh_layer layers[MAXL];
	struct wh_entry ents[MAXL][MAXE];
	struct wh_extra extras[MAXL][MAXE];
	struct slim_plan p;
	int built, planned;
};

static struct fix *fix_new(size_t n_layers)
{
	struct fix *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->a.img.reference = "test:image";
	f->a.img.layers = f->layers;
	f->a.img.n_layers = n_layers;
	for (size_t i = 0; i < MAXL; i++) {
		f->layers[i].index = i;
		f->layers[i].entries = f->ents[i];
	}
	return f;
}

static void fix_free(struct fix *f)
{
	if (f->planned)
		slim_plan_free(&f->p);
	if (f->built)
		tree_free(&f->a.tree);
	free(f);
}

static struct wh_entry *add(struct fix *f, size_t layer, uint8_t type, const char *path)
{
	struct wh_layer *l = &f->layers[layer];
	assert_true(l->n_entries < MAXE);
	struct wh_entry *e = &f->ents[layer][l->n_entries++];
	memset(e, 0, sizeof *e);
	e->path = path;
	e->type = type;
	e->mode = type == WH_T_DIR ? 0750 : 0644;
	e->uid = 7;
	e->mtime = 1234;
	return e;
}

static struct wh_entry *file(struct fix *f, size_t layer, const char *path, const char *content)
{
	struct wh_entry *e = add(f, layer, WH_T_REG, path);
	e->size = strlen(content);
	memcpy(e->hash, content, e->size < sizeof e->hash ? e->size : sizeof e->hash);
	struct wh_extra *x = &f->extras[layer][e - f->ents[layer]];
	x->content = (uint8_t *)content;
	x->content_len = e->size;
	e->extra = x;
	return e;
}

static struct wh_entry *link_e(struct fix *f, size_t layer, uint8_t type, const char *path, const char *target)
{
	struct wh_entry *e = add(f, layer, type, path);
	e->link = target;
	return e;
}

static void build(struct fix *f)
{
	struct wh_error err = {0};
	assert_int_equal(tree_build(&f->a.tree, &f->a.img, f->a.img.n_layers - 1, 0, &err), 0);
	tree_sort_by_name(&f->a.tree);
	f->built = 1;
}

static void keep(struct fix *f, const char *path)
{
	struct wh_node *n = tree_lookup(&f->a.tree, path);
	if (!n)
		fail_msg("no node %s", path);
	n->mark |= SLIM_KEEP;
}

static void plan(struct fix *f, int keep_dpkg_db)
{
	struct wh_error err = {0};
	struct slim_plan_opts o = {.keep_dpkg_db = keep_dpkg_db};
	if (slim_plan_build(&f->a, &o, &f->p, &err) != 0)
		fail_msg("slim_plan_build: %s", err.msg);
	f->planned = 1;
}

/* the plan as "path:type[>link]" lines */
static const char *listing(struct fix *f)
{
	static char buf[8192];
	static const char tc[] = "fdlhcbpswo";
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < f->p.n; i++) {
		const struct slim_entry *e = &f->p.v[i];
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s:%c%s%s\n", e->path, tc[e->type], e->link ? ">" : "",
		                      e->link ? e->link : "");
	}
	return buf;
}

static void test_parents_with_metadata(void **state)
{
	(void)state;
	struct fix *f = fix_new(1);
	struct wh_entry *usr = add(f, 0, WH_T_DIR, "usr");
	usr->mode = 0711;
	usr->uid = 42;
	add(f, 0, WH_T_DIR, "usr/bin");
	file(f, 0, "usr/bin/a", "aaa");
	file(f, 0, "usr/bin/b", "bbbbb");
	file(f, 0, "opt/x/y", "y"); /* opt and opt/x: no layer lists them */
	file(f, 0, "a-c", "z");
	build(f);
	keep(f, "usr/bin/a");
	keep(f, "opt/x/y");
	keep(f, "a-c");
	plan(f, 0);
	/* byte order: "a-c" < "opt" < ...; "usr" < "usr/bin" */
	assert_string_equal(listing(f), "a-c:f\nopt:d\nopt/x:d\nopt/x/y:f\nusr:d\nusr/bin:d\nusr/bin/a:f\n");
	const struct slim_entry *u = slim_plan_find(&f->p, "/usr");
	assert_non_null(u);
	assert_ptr_equal(u->e, usr);
	assert_int_equal(u->why, SLIM_WHY_PARENT);
	assert_null(slim_plan_find(&f->p, "opt")->e); /* implicit: the writer's defaults */
	assert_int_equal(slim_plan_find(&f->p, "usr/bin/a")->why, SLIM_WHY_KEPT);
	assert_int_equal(f->p.kept_bytes, 3 + 1 + 1);
	assert_int_equal(f->p.input_bytes, 3 + 5 + 1 + 1);
	assert_int_equal(f->p.input_entries, 8); /* usr usr/bin a b opt opt/x y a-c */
	/* SLIM_OUT on exactly the planned nodes */
	assert_true(tree_lookup(&f->a.tree, "usr")->mark & SLIM_OUT);
	assert_false(tree_lookup(&f->a.tree, "usr/bin/b")->mark & SLIM_OUT);
	fix_free(f);
}

static void test_symlink_chains(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	add(f, 0, WH_T_DIR, "usr");
	add(f, 0, WH_T_DIR, "usr/lib");
	file(f, 0, "usr/lib/libx.so.1.2", "elf");
	link_e(f, 0, WH_T_SYMLINK, "usr/lib/libx.so.1", "libx.so.1.2");
	link_e(f, 0, WH_T_SYMLINK, "usr/lib/libx.so", "libx.so.1");
	link_e(f, 0, WH_T_SYMLINK, "lib", "usr/lib");
	add(f, 0, WH_T_DIR, "etc");
	link_e(f, 0, WH_T_SYMLINK, "etc/alt", "/lib/libx.so"); /* through the lib link */
	link_e(f, 0, WH_T_SYMLINK, "etc/dangling", "../nowhere/x");
	link_e(f, 0, WH_T_SYMLINK, "etc/loop1", "loop2");
	link_e(f, 0, WH_T_SYMLINK, "etc/loop2", "loop1");
	file(f, 1, "usr/bin/tool", "t");
	link_e(f, 1, WH_T_SYMLINK, "usr/bin/py", "py3");
	file(f, 1, "usr/bin/py3", "python");
	build(f);
	keep(f, "etc/alt");
	keep(f, "etc/dangling");
	keep(f, "etc/loop1");
	keep(f, "usr/bin/py"); /* its target is not kept: the link stays, the file goes */
	plan(f, 0);
	assert_string_equal(listing(f),
	                    "etc:d\n"
	                    "etc/alt:l>/lib/libx.so\n"
	                    "etc/dangling:l>../nowhere/x\n"
	                    "etc/loop1:l>loop2\n"
	                    "etc/loop2:l>loop1\n"
	                    "lib:l>usr/lib\n"
	                    "usr:d\n"
	                    "usr/bin:d\n"
	                    "usr/bin/py:l>py3\n"
	                    "usr/lib:d\n"
	                    "usr/lib/libx.so:l>libx.so.1\n"
	                    "usr/lib/libx.so.1:l>libx.so.1.2\n");
	assert_int_equal(slim_plan_find(&f->p, "lib")->why, SLIM_WHY_SYMLINK);
	assert_int_equal(slim_plan_find(&f->p, "usr/lib/libx.so.1")->why, SLIM_WHY_SYMLINK);
	assert_int_equal(f->p.kept_bytes, 0);
	fix_free(f);
}

static void test_hardlink_sets(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	add(f, 0, WH_T_DIR, "bin");
	struct wh_entry *z = file(f, 0, "bin/z", "zdata");
	link_e(f, 0, WH_T_HARDLINK, "bin/a", "bin/z");
	link_e(f, 0, WH_T_HARDLINK, "bin/m", "bin/z");
	struct wh_entry *q = file(f, 0, "bin/q", "qq");
	link_e(f, 0, WH_T_HARDLINK, "bin/r", "bin/q");
	/* layer 1 replaces bin/q: bin/r still holds layer 0's content */
	file(f, 1, "bin/q", "new q");
	build(f);
	keep(f, "bin/z");
	keep(f, "bin/m");
	keep(f, "bin/r");
	keep(f, "bin/q");
	plan(f, 0);
	assert_string_equal(listing(f), "bin:d\nbin/m:f\nbin/q:f\nbin/r:f\nbin/z:h>bin/m\n");
	const struct slim_entry *m = slim_plan_find(&f->p, "bin/m");
	assert_ptr_equal(m->data, z);
	assert_int_equal(m->layer, 0);
	assert_int_equal(m->size, 5);
	assert_ptr_equal(m->e, z); /* the inode's metadata */
	const struct slim_entry *r = slim_plan_find(&f->p, "bin/r");
	assert_ptr_equal(r->data, q); /* the old content, from layer 0 */
	assert_int_equal(r->layer, 0);
	const struct slim_entry *nq = slim_plan_find(&f->p, "bin/q");
	assert_int_equal(nq->layer, 1);
	assert_int_equal(nq->size, 5);
	assert_int_equal(f->p.kept_bytes, 5 + 2 + 5);
	fix_free(f);
}

static void test_hardlink_target_dropped(void **state)
{
	(void)state;
	struct fix *f = fix_new(1);
	struct wh_entry *z = file(f, 0, "z", "zdata");
	link_e(f, 0, WH_T_HARDLINK, "a", "z");
	build(f);
	keep(f, "a");
	plan(f, 0);
	assert_string_equal(listing(f), "a:f\n");
	assert_ptr_equal(slim_plan_find(&f->p, "a")->data, z);
	fix_free(f);
}

static const char status_text[] =
	"Package: foo\nStatus: install ok installed\nArchitecture: amd64\nDescription: foo\n multi-line\n\n"
	"Package: bar\nStatus: install ok installed\nArchitecture: amd64\n\n"
	"Package: meta\nStatus: install ok installed\nArchitecture: all\n\n"
	"Package: lib\nStatus: install ok installed\nArchitecture: amd64\n\n";

static struct fix *dpkg_fix(void)
{
	struct fix *f = fix_new(1);
	file(f, 0, "var/lib/dpkg/status", status_text);
	file(f, 0, "var/lib/dpkg/info/foo.list", "/.\n/usr\n/usr/bin\n/usr/bin/foo\n");
	file(f, 0, "var/lib/dpkg/info/foo.md5sums", "x  usr/bin/foo\n");
	file(f, 0, "var/lib/dpkg/info/bar.list", "/.\n/usr\n/usr/bin\n/usr/bin/bar\n/usr/share/bar/data\n");
	file(f, 0, "var/lib/dpkg/info/bar.md5sums", "y  usr/bin/bar\n");
	file(f, 0, "var/lib/dpkg/info/bar.postinst", "#!/bin/sh\n");
	file(f, 0, "var/lib/dpkg/info/bar-extra.list", "/usr/bin/foo\n"); /* not bar's */
	file(f, 0, "var/lib/dpkg/info/meta.list", "/.\n/usr\n"); /* only directories: nothing to remove */
	file(f, 0, "var/lib/dpkg/info/lib:amd64.list", "/lib/libq.so\n"); /* through a symlinked /lib */
	file(f, 0, "usr/bin/foo", "foo!");
	file(f, 0, "usr/bin/bar", "bar!!");
	file(f, 0, "usr/share/bar/data", "123");
	link_e(f, 0, WH_T_SYMLINK, "lib", "usr/lib");
	file(f, 0, "usr/lib/libq.so", "q");
	build(f);
	return f;
}

static int keep_all_but(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	const char *const *drop = ctx;
	char p[512];
	tree_path(n, p, sizeof p);
	n->mark |= SLIM_KEEP;
	for (size_t i = 0; drop[i]; i++)
		if (!strcmp(p, drop[i]))
			n->mark &= (uint8_t)~SLIM_KEEP;
	return 0;
}

static void test_dpkg_reduced(void **state)
{
	(void)state;
	struct fix *f = dpkg_fix();
	const char *drop[] = {"/usr/bin/bar", "/usr/share/bar/data", "/usr/lib/libq.so", NULL};
	tree_walk(f->a.tree.root, keep_all_but, (void *)drop);
	plan(f, 0);
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/info/bar.list"));
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/info/bar.md5sums"));
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/info/bar.postinst"));
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/info/lib:amd64.list"));
	assert_non_null(slim_plan_find(&f->p, "var/lib/dpkg/info/bar-extra.list"));
	assert_non_null(slim_plan_find(&f->p, "var/lib/dpkg/info/foo.list"));
	assert_non_null(slim_plan_find(&f->p, "var/lib/dpkg/info/foo.md5sums"));
	assert_non_null(slim_plan_find(&f->p, "var/lib/dpkg/info/meta.list"));
	assert_false(tree_lookup(&f->a.tree, "var/lib/dpkg/info/bar.list")->mark & SLIM_OUT);
	const struct slim_entry *st = slim_plan_find(&f->p, "var/lib/dpkg/status");
	assert_non_null(st->content);
	const char *want = "Package: foo\nStatus: install ok installed\nArchitecture: amd64\nDescription: foo\n multi-line\n\n"
	                   "Package: meta\nStatus: install ok installed\nArchitecture: all\n\n";
	assert_int_equal(st->content_len, strlen(want));
	assert_memory_equal(st->content, want, strlen(want));
	assert_int_equal(st->size, strlen(want));
	assert_int_equal(f->p.n_removed_pkgs, 2);
	assert_string_equal(f->p.removed_pkgs[0].name, "bar"); /* 5 + 3 bytes */
	assert_int_equal(f->p.removed_pkgs[0].size, 8);
	assert_string_equal(f->p.removed_pkgs[1].name, "lib:amd64");
	fix_free(f);

	/* --keep-dpkg-db: untouched */
	f = dpkg_fix();
	tree_walk(f->a.tree.root, keep_all_but, (void *)drop);
	plan(f, 1);
	assert_non_null(slim_plan_find(&f->p, "var/lib/dpkg/info/bar.list"));
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/status")->content);
	assert_int_equal(f->p.n_removed_pkgs, 0);
	fix_free(f);

	/* everything kept: nothing removed */
	f = dpkg_fix();
	slim_mark_all(&f->a.tree);
	plan(f, 0);
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/status")->content);
	assert_int_equal(f->p.n, f->p.input_entries);
	fix_free(f);
}

/* slim_keep_from_reach: of var/lib/dpkg/info, what dpkg-query and the
 * scanners read (lists, md5sums, conffiles, format), all of it when dpkg
 * is kept or with SLIM_KEEP_DPKG_DB; SLIM_DROP_PYCACHE leaves out the
 * bytecode caches of kept sources only. */
static int slim_keep_of(struct fix *f, const char *path)
{
	struct wh_node *n = tree_lookup(&f->a.tree, path);
	if (!n)
		fail_msg("no node %s", path);
	return (n->mark & SLIM_KEEP) != 0;
}

static void keep_from(struct fix *f, const char *const *paths, unsigned flags)
{
	struct reach_item items[8];
	struct reach r = {0};
	for (size_t i = 0; paths[i]; i++)
		items[r.n_items++] = (struct reach_item){.node = tree_lookup(&f->a.tree, paths[i])};
	r.items = items;
	slim_keep_from_reach(&f->a, &r, flags);
}

static void test_keep_from_reach(void **state)
{
	(void)state;
	struct fix *f = fix_new(1);
	file(f, 0, "var/lib/dpkg/status", status_text);
	file(f, 0, "var/lib/dpkg/info/format", "1\n");
#define INFO "var/lib/dpkg/info/foo."
	static const char *const info[] = {INFO "list",     INFO "md5sums", INFO "conffiles", INFO "postinst",
	                                   INFO "prerm",    INFO "templates", INFO "config", INFO "symbols",
	                                   INFO "shlibs",   INFO "triggers"};
#undef INFO
	for (size_t i = 0; i < sizeof info / sizeof *info; i++)
		file(f, 0, info[i], "x\n"); /* the entry keeps the pointer */
	file(f, 0, "usr/bin/foo", "foo!");
	file(f, 0, "usr/bin/dpkg", "dpkg");
	file(f, 0, "py/m.py", "import n\n");
	file(f, 0, "py/__pycache__/m.cpython-311.pyc", "pyc");
	file(f, 0, "py/__pycache__/m.cpython-311.opt-1.pyc", "pyc");
	file(f, 0, "py/__pycache__/n.cpython-311.pyc", "pyc"); /* no n.py */
	file(f, 0, "py/__pycache__/x.pyc", "pyc");             /* no TAG */
	file(f, 0, "py/x.py", "");
	build(f);
	const char *const kept[] = {"usr/bin/foo", "py/m.py", "py/x.py", "py/__pycache__/m.cpython-311.pyc",
	                            "py/__pycache__/m.cpython-311.opt-1.pyc", "py/__pycache__/n.cpython-311.pyc",
	                            "py/__pycache__/x.pyc", NULL};
	keep_from(f, kept, 0);
	assert_true(slim_keep_of(f, "var/lib/dpkg/status"));
	for (size_t i = 0; i < sizeof info / sizeof *info; i++)
		assert_int_equal(slim_keep_of(f, info[i]), i < 3);
	assert_true(slim_keep_of(f, "var/lib/dpkg/info/format"));
	assert_false(slim_keep_of(f, "usr/bin/dpkg"));
	assert_true(slim_keep_of(f, "py/__pycache__/m.cpython-311.pyc"));

	/* dpkg kept: all of info; SLIM_DROP_PYCACHE */
	const char *const with_dpkg[] = {"usr/bin/foo", "usr/bin/dpkg", "py/m.py", "py/x.py",
	                                 "py/__pycache__/m.cpython-311.pyc", "py/__pycache__/m.cpython-311.opt-1.pyc",
	                                 "py/__pycache__/n.cpython-311.pyc", "py/__pycache__/x.pyc"};
	const char *kept2[9];
	memcpy(kept2, with_dpkg, sizeof with_dpkg);
	kept2[8] = NULL;
	keep_from(f, kept2, SLIM_DROP_PYCACHE);
	for (size_t i = 0; i < sizeof info / sizeof *info; i++)
		assert_true(slim_keep_of(f, info[i]));
	assert_true(slim_keep_of(f, "py/m.py"));
	assert_false(slim_keep_of(f, "py/__pycache__/m.cpython-311.pyc"));
	assert_false(slim_keep_of(f, "py/__pycache__/m.cpython-311.opt-1.pyc"));
	assert_true(slim_keep_of(f, "py/__pycache__/n.cpython-311.pyc"));
	assert_true(slim_keep_of(f, "py/__pycache__/x.pyc"));

	/* SLIM_KEEP_DPKG_DB: all of var/lib/dpkg without dpkg */
	keep_from(f, kept, SLIM_KEEP_DPKG_DB);
	assert_true(slim_keep_of(f, "var/lib/dpkg/info/foo.postinst"));
	assert_true(slim_keep_of(f, "var/lib/dpkg/info/foo.symbols"));
	fix_free(f);
}

/* Issue 11 item 4: the merged-/usr links /lib and /bin, which many packages
 * list, keep no package installed; a symlink only one package lists (the
 * entrypoint) keeps its package. */
static void test_dpkg_own_paths(void **state)
{
	(void)state;
	struct fix *f = fix_new(1);
	file(f, 0, "var/lib/dpkg/status",
	     "Package: apt\nStatus: install ok installed\nArchitecture: amd64\n\n"
	     "Package: dpkg\nStatus: install ok installed\nArchitecture: amd64\n\n"
	     "Package: alias\nStatus: install ok installed\nArchitecture: all\n\n"
	     "Package: app\nStatus: install ok installed\nArchitecture: all\n\n");
	file(f, 0, "var/lib/dpkg/info/apt.list", "/.\n/lib\n/lib/libapt.so\n");
	file(f, 0, "var/lib/dpkg/info/dpkg.list", "/.\n/lib\n/bin\n/bin/dpkg\n");
	file(f, 0, "var/lib/dpkg/info/alias.list", "/.\n/usr\n/usr/bin\n/usr/bin/entry\n");
	file(f, 0, "var/lib/dpkg/info/app.list", "/.\n/bin\n/usr/bin/realbin\n"); /* /bin: dpkg and app list it */
	link_e(f, 0, WH_T_SYMLINK, "lib", "usr/lib");
	link_e(f, 0, WH_T_SYMLINK, "bin", "usr/bin");
	file(f, 0, "usr/lib/libapt.so", "apt");
	file(f, 0, "usr/bin/dpkg", "dpkg");
	file(f, 0, "usr/bin/realbin", "r");
	link_e(f, 0, WH_T_SYMLINK, "usr/bin/entry", "realbin");
	build(f);
	/* the entrypoint link and the links a path was reached through */
	keep(f, "usr/bin/entry");
	keep(f, "lib");
	keep(f, "bin");
	keep(f, "var/lib/dpkg/status");
	tree_walk(tree_lookup(&f->a.tree, "var/lib/dpkg/info"), keep_all_but, (void *)(const char *[]){NULL});
	plan(f, 0);
	const struct slim_entry *st = slim_plan_find(&f->p, "var/lib/dpkg/status");
	assert_non_null(st->content);
	assert_string_equal((const char *)st->content, "Package: alias\nStatus: install ok installed\nArchitecture: all\n\n");
	assert_non_null(slim_plan_find(&f->p, "var/lib/dpkg/info/alias.list"));
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/info/apt.list"));
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/info/dpkg.list"));
	assert_null(slim_plan_find(&f->p, "var/lib/dpkg/info/app.list"));
	assert_int_equal(f->p.n_removed_pkgs, 3);
	assert_string_equal(f->p.removed_pkgs[0].name, "dpkg"); /* 4 bytes */
	assert_string_equal(f->p.removed_pkgs[1].name, "apt");  /* 3 */
	assert_string_equal(f->p.removed_pkgs[2].name, "app");  /* 1 */
	fix_free(f);
}

static void test_empty_keep_set(void **state)
{
	(void)state;
	struct fix *f = fix_new(1);
	file(f, 0, "a/b", "x");
	build(f);
	plan(f, 0);
	assert_int_equal(f->p.n, 0);
	assert_int_equal(f->p.kept_bytes, 0);
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parents_with_metadata),
		cmocka_unit_test(test_symlink_chains),
		cmocka_unit_test(test_hardlink_sets),
		cmocka_unit_test(test_hardlink_target_dropped),
		cmocka_unit_test(test_dpkg_reduced),
		cmocka_unit_test(test_dpkg_own_paths),
		cmocka_unit_test(test_keep_from_reach),
		cmocka_unit_test(test_empty_keep_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
