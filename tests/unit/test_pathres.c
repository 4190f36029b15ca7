/* pathres: resolution inside hand-built trees. Every expected node follows
 * from the tree the test lays out (what a chroot of it would resolve). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/pathres.h"

#define MAXE 128

struct fix {
	struct wh_image img;
	struct wh_layer layer;
	struct wh_entry ents[MAXE];
	char names[MAXE][64];
	struct wh_tree t;
};

static struct wh_entry *add(struct fix *f, uint8_t type, const char *path, const char *link)
{
	assert_true(f->layer.n_entries < MAXE);
	struct wh_entry *e = &f->ents[f->layer.n_entries++];
	memset(e, 0, sizeof *e);
	e->path = path;
	e->link = link;
	e->type = type;
	e->mode = type == WH_T_DIR ? 0755 : 0644;
	return e;
}

static void build(struct fix *f)
{
	f->img.layers = &f->layer;
	f->img.n_layers = 1;
	f->layer.entries = f->ents;
	struct wh_error err = {0};
	assert_int_equal(tree_build(&f->t, &f->img, 0, 0, &err), 0);
}

static struct fix *merged_usr(void)
{
	struct fix *f = calloc(1, sizeof *f);
	add(f, WH_T_DIR, "usr", NULL);
	add(f, WH_T_DIR, "usr/bin", NULL);
	add(f, WH_T_DIR, "usr/lib", NULL);
	add(f, WH_T_DIR, "usr/lib/x86_64-linux-gnu", NULL);
	add(f, WH_T_REG, "usr/lib/x86_64-linux-gnu/libc.so.6", NULL);
	add(f, WH_T_SYMLINK, "bin", "usr/bin");
	add(f, WH_T_SYMLINK, "lib", "usr/lib");
	add(f, WH_T_SYMLINK, "lib64", "/usr/lib64");
	add(f, WH_T_DIR, "usr/lib64", NULL);
	add(f, WH_T_SYMLINK, "usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
	add(f, WH_T_REG, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", NULL);
	add(f, WH_T_REG, "usr/bin/dash", NULL);
	add(f, WH_T_SYMLINK, "usr/bin/sh", "dash");
	/* alternatives: /usr/bin/editor -> /etc/alternatives/editor -> /usr/bin/dash */
	add(f, WH_T_DIR, "etc", NULL);
	add(f, WH_T_DIR, "etc/alternatives", NULL);
	add(f, WH_T_SYMLINK, "etc/alternatives/editor", "/bin/dash");
	add(f, WH_T_SYMLINK, "usr/bin/editor", "/etc/alternatives/editor");
	/* a link that climbs far above the root */
	add(f, WH_T_SYMLINK, "usr/bin/up", "../../../../../../etc");
	add(f, WH_T_SYMLINK, "etc/dangling", "/nowhere/x");
	add(f, WH_T_REG, "etc/file", NULL);
	add(f, WH_T_HARDLINK, "etc/hard", "usr/bin/dash");
	/* loops */
	add(f, WH_T_SYMLINK, "loop1", "loop2");
	add(f, WH_T_SYMLINK, "loop2", "/loop1");
	add(f, WH_T_SYMLINK, "self", "self");
	build(f);
	return f;
}

static void fix_free(struct fix *f)
{
	tree_free(&f->t);
	free(f);
}

static void expect(struct fix *f, const char *path, int flags, const char *want, size_t nlinks)
{
	struct pathres r;
	struct wh_error err = {0};
	int rc = pathres_resolve(&f->t, NULL, path, flags, &r, &err);
	if (rc)
		fprintf(stderr, "%s: %s\n", path, err.msg);
	assert_int_equal(rc, 0);
	if (!want) {
		assert_null(r.node);
	} else {
		assert_non_null(r.node);
		char p[512];
		tree_path(r.node, p, sizeof p);
		assert_string_equal(p, want);
	}
	assert_int_equal(r.n_links, nlinks);
	pathres_free(&r);
}

static void test_merged_usr(void **state)
{
	(void)state;
	struct fix *f = merged_usr();
	expect(f, "/bin/dash", PATHRES_FOLLOW, "/usr/bin/dash", 1);
	expect(f, "/bin/sh", PATHRES_FOLLOW, "/usr/bin/dash", 2);
	expect(f, "/bin/sh", 0, "/usr/bin/sh", 1); /* last component kept as the link */
	expect(f, "/lib64/ld-linux-x86-64.so.2", PATHRES_FOLLOW, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 2);
	expect(f, "/lib/x86_64-linux-gnu/libc.so.6", PATHRES_FOLLOW, "/usr/lib/x86_64-linux-gnu/libc.so.6", 1);
	expect(f, "usr/bin/../lib", PATHRES_FOLLOW, "/usr/lib", 0);
	/* ".." after a link is physical: /bin/.. is /usr, not / */
	expect(f, "/bin/../lib64", PATHRES_FOLLOW, "/usr/lib64", 1);
	expect(f, "/../../../etc/file", PATHRES_FOLLOW, "/etc/file", 0);
	expect(f, "/usr/bin/up/file", PATHRES_FOLLOW, "/etc/file", 1);
	expect(f, "/usr/bin/editor", PATHRES_FOLLOW, "/usr/bin/dash", 3);
	expect(f, "/etc/dangling", PATHRES_FOLLOW, NULL, 1);
	expect(f, "/etc/dangling", 0, "/etc/dangling", 0);
	expect(f, "/etc/file/x", PATHRES_FOLLOW, NULL, 0);
	expect(f, "/nope", PATHRES_FOLLOW, NULL, 0);
	expect(f, "/", PATHRES_FOLLOW, "/", 0);
	fix_free(f);
}

static void test_links_in_order(void **state)
{
	(void)state;
	struct fix *f = merged_usr();
	struct pathres r;
	struct wh_error err = {0};
	assert_int_equal(pathres_resolve(&f->t, NULL, "/usr/bin/editor", PATHRES_FOLLOW, &r, &err), 0);
	assert_int_equal(r.n_links, 3);
	char p[256];
	const char *want[] = {"/usr/bin/editor", "/etc/alternatives/editor", "/bin"};
	for (size_t i = 0; i < 3; i++) {
		tree_path(r.links[i], p, sizeof p);
		assert_string_equal(p, want[i]);
	}
	pathres_free(&r);
	/* relative to a base directory */
	struct wh_node *etc = tree_lookup(&f->t, "etc");
	assert_int_equal(pathres_resolve(&f->t, etc, "alternatives/editor", PATHRES_FOLLOW, &r, &err), 0);
	tree_path(r.node, p, sizeof p);
	assert_string_equal(p, "/usr/bin/dash");
	pathres_free(&r);
	fix_free(f);
}

static void test_loops(void **state)
{
	(void)state;
	struct fix *f = merged_usr();
	struct pathres r;
	struct wh_error err = {0};
	assert_int_equal(pathres_resolve(&f->t, NULL, "/loop1", PATHRES_FOLLOW, &r, &err), WH_EINPUT);
	assert_null(r.node);
	assert_non_null(strstr(err.msg, "/loop1"));
	assert_non_null(strstr(err.msg, "40"));
	pathres_free(&r);
	memset(&err, 0, sizeof err);
	assert_int_equal(pathres_resolve(&f->t, NULL, "/self/x", 0, &r, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "/self"));
	pathres_free(&r);
	/* not following the last component: no loop */
	expect(f, "/loop1", 0, "/loop1", 0);
	/* pathres_node: the node alone, NULL for a loop, a miss or a file used as a directory */
	assert_null(pathres_node(&f->t, NULL, "/loop1", PATHRES_FOLLOW));
	assert_null(pathres_node(&f->t, NULL, "/self/x", 0));
	assert_null(pathres_node(&f->t, NULL, "/etc/file/x", 0));
	assert_null(pathres_node(&f->t, NULL, "/nope", 0));
	assert_ptr_equal(pathres_node(&f->t, NULL, "/loop1", 0), tree_lookup(&f->t, "loop1"));
	assert_ptr_equal(pathres_node(&f->t, NULL, "bin/sh", PATHRES_FOLLOW), tree_lookup(&f->t, "usr/bin/dash"));
	assert_ptr_equal(pathres_node(&f->t, tree_lookup(&f->t, "usr/bin"), "sh", 0), tree_lookup(&f->t, "usr/bin/sh"));
	fix_free(f);
}

/* A chain of exactly 40 links resolves; 41 is a loop error (Linux's MAXSYMLINKS). */
static void test_hop_limit(void **state)
{
	(void)state;
	for (int n = 40; n <= 41; n++) {
		struct fix *f = calloc(1, sizeof *f);
		add(f, WH_T_REG, "target", NULL);
		for (int i = 0; i < n; i++) {
			snprintf(f->names[i], sizeof f->names[i], "l%d", i);
			snprintf(f->names[64 + i], sizeof f->names[0], i + 1 < n ? "l%d" : "target", i + 1);
		}
		for (int i = 0; i < n; i++)
			add(f, WH_T_SYMLINK, f->names[i], f->names[64 + i]);
		build(f);
		struct pathres r;
		struct wh_error err = {0};
		int rc = pathres_resolve(&f->t, NULL, "/l0", PATHRES_FOLLOW, &r, &err);
		if (n == 40) {
			assert_int_equal(rc, 0);
			assert_non_null(r.node);
			assert_string_equal(r.node->name, "target");
			assert_int_equal(r.n_links, 40);
		} else {
			assert_int_equal(rc, WH_EINPUT);
		}
		pathres_free(&r);
		fix_free(f);
	}
}

static void test_hardlink_data(void **state)
{
	(void)state;
	struct fix *f = merged_usr();
	struct wh_node *h = tree_lookup(&f->t, "etc/hard");
	assert_non_null(h);
	struct wh_node *d = pathres_data_node(&f->t, h);
	assert_ptr_equal(d, tree_lookup(&f->t, "usr/bin/dash"));
	struct wh_node *reg = tree_lookup(&f->t, "etc/file");
	assert_ptr_equal(pathres_data_node(&f->t, reg), reg);
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merged_usr),
		cmocka_unit_test(test_links_in_order),
		cmocka_unit_test(test_loops),
		cmocka_unit_test(test_hop_limit),
		cmocka_unit_test(test_hardlink_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
