/* tree: layers built by hand (struct wh_layer with wh_entry arrays) merged
 * with tree_build. Every expected value follows from the construction:
 *   added    = entries whose path was not in the tree below the layer;
 *   modified = entries whose path was there with another type, content
 *              (hash or size), mode, owner or link target;
 *   removed  = nodes gone after the layer, descendants included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/tree.h"

#define MAXL 6
#define MAXE 64

struct fix {
	struct wh_image img;
	struct wh_layer layers[MAXL];
	struct wh_entry ents[MAXL][MAXE];
	struct wh_tree t;
	int built;
};

static struct fix *fix_new(size_t n_layers)
{
	struct fix *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->img.reference = "test:image";
	f->img.layers = f->layers;
	f->img.n_layers = n_layers;
	for (size_t i = 0; i < MAXL; i++) {
		f->layers[i].index = i;
		f->layers[i].entries = f->ents[i];
	}
	return f;
}

static void fix_free(struct fix *f)
{
	if (f->built)
		tree_free(&f->t);
	for (size_t i = 0; i < MAXL; i++) /* tree_build keeps resolved paths there */
		arena_free(&f->layers[i].arena);
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
	e->mode = type == WH_T_DIR ? 0755 : 0644;
	return e;
}

/* content: its length is the size, its first bytes the hash */
static struct wh_entry *file(struct fix *f, size_t layer, const char *path, const char *content)
{
	struct wh_entry *e = add(f, layer, WH_T_REG, path);
	e->size = strlen(content);
	memset(e->hash, 0, sizeof e->hash);
	memcpy(e->hash, content, e->size < sizeof e->hash ? e->size : sizeof e->hash);
	f->layers[layer].size_bytes += e->size;
	return e;
}

static struct wh_entry *dir(struct fix *f, size_t layer, const char *path)
{
	return add(f, layer, WH_T_DIR, path);
}

static struct wh_entry *link_e(struct fix *f, size_t layer, uint8_t type, const char *path, const char *target)
{
	struct wh_entry *e = add(f, layer, type, path);
	e->link = target;
	if (type == WH_T_SYMLINK)
		e->mode = 0777;
	return e;
}

static struct wh_entry *whiteout(struct fix *f, size_t layer, const char *path)
{
	return add(f, layer, WH_T_WHITEOUT, path);
}

static struct wh_entry *opaque(struct fix *f, size_t layer, const char *path)
{
	return add(f, layer, WH_T_OPAQUE, path);
}

static void build(struct fix *f, size_t upto, int keep_removed)
{
	struct wh_error err = {0};
	if (f->built)
		tree_free(&f->t);
	assert_int_equal(tree_build(&f->t, &f->img, upto, keep_removed, &err), 0);
	f->built = 1;
}

/* The tree as "path:type" lines in name order, for comparison. */
struct listing {
	char text[8192];
	size_t len;
};

static int list_fn(void *ctx, struct wh_node *n, int depth)
{
	struct listing *li = ctx;
	if (depth == 0)
		return 0;
	char p[1024];
	tree_path(n, p, sizeof p);
	static const char tc[] = "fdlhcbpswo";
	li->len += (size_t)snprintf(li->text + li->len, sizeof li->text - li->len, "%s:%c\n", p, tc[n->type]);
	return 0;
}

static const char *listing(struct fix *f)
{
	static struct listing li;
	li.len = 0;
	li.text[0] = 0;
	tree_sort_by_name(&f->t);
	tree_walk(f->t.root, list_fn, &li);
	return li.text;
}

static void counts(const struct fix *f, size_t layer, uint64_t a, uint64_t m, uint64_t r)
{
	const struct wh_layer *l = &f->layers[layer];
	if (l->added != a || l->modified != m || l->removed != r)
		fail_msg("layer %zu: added/modified/removed %llu/%llu/%llu, want %llu/%llu/%llu", layer,
		         (unsigned long long)l->added, (unsigned long long)l->modified, (unsigned long long)l->removed,
		         (unsigned long long)a, (unsigned long long)m, (unsigned long long)r);
}

static struct wh_node *must(struct fix *f, const char *path)
{
	struct wh_node *n = tree_lookup(&f->t, path);
	if (!n)
		fail_msg("%s is missing from the tree", path);
	return n;
}

/* --- .wh.NAME ------------------------------------------------------------------ */

static void base_layer(struct fix *f)
{
	dir(f, 0, "etc");
	file(f, 0, "etc/a", "hello");
	dir(f, 0, "d");
	file(f, 0, "d/x", "xx");
	file(f, 0, "d/y", "yyy");
	dir(f, 0, "d/sub");
	file(f, 0, "d/sub/z", "z");
}

static void test_whiteout_file_and_dir(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	base_layer(f);
	whiteout(f, 1, "etc/a");
	struct wh_entry *wd = whiteout(f, 1, "d");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/etc:d\n");
	assert_int_equal(f->t.n_nodes, 1);
	assert_null(tree_lookup(&f->t, "d/x"));
	assert_int_equal(f->t.root->size, 0);
	assert_int_equal(f->t.root->nfiles, 1);
	counts(f, 0, 7, 0, 0);
	counts(f, 1, 0, 0, 6); /* etc/a; d, d/x, d/y, d/sub, d/sub/z */
	/* dive's size of a directory whiteout: the bytes it removes */
	assert_int_equal(wd->size, 2 + 3 + 1);
	fix_free(f);
}

static void test_whiteout_of_absent_path(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	file(f, 0, "a", "1");
	whiteout(f, 1, "nothing");
	whiteout(f, 1, "no/such/dir");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/a:f\n");
	counts(f, 1, 0, 0, 0);
	fix_free(f);
}

/* --- .wh..wh..opq ----------------------------------------------------------------- */

static void opaque_case(int marker_last)
{
	struct fix *f = fix_new(2);
	dir(f, 0, "o");
	file(f, 0, "o/a", "aaa");
	file(f, 0, "o/b", "bbbb");
	dir(f, 0, "o/s");
	file(f, 0, "o/s/c", "c");
	file(f, 0, "keep", "k");
	if (!marker_last)
		opaque(f, 1, "o");
	file(f, 1, "o/a", "AAAAA"); /* re-added, other content: modified */
	file(f, 1, "o/n", "new");   /* added */
	if (marker_last)
		opaque(f, 1, "o");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/keep:f\n/o:d\n/o/a:f\n/o/n:f\n");
	assert_int_equal(must(f, "o/a")->e->size, 5);
	assert_int_equal(must(f, "o")->size, 5 + 3);
	assert_int_equal(f->t.root->size, 5 + 3 + 1);
	counts(f, 0, 6, 0, 0);
	counts(f, 1, 1, 1, 3); /* o/n; o/a; o/b, o/s, o/s/c */
	fix_free(f);
}

static void test_opaque_marker_first(void **state)
{
	(void)state;
	opaque_case(0);
}

static void test_opaque_marker_last(void **state)
{
	(void)state;
	opaque_case(1);
}

/* The layer's counts do not depend on where the tar puts a directory:
 * before its children, after them, or nowhere. */
static void readd_order_case(int how, int use_opaque)
{
	struct fix *f = fix_new(2);
	dir(f, 0, "o");
	dir(f, 0, "o/s");
	file(f, 0, "o/s/old", "old");
	if (use_opaque)
		opaque(f, 1, "o");
	else
		whiteout(f, 1, "o/s");
	if (how == 0)
		dir(f, 1, "o/s");
	file(f, 1, "o/s/new", "new");
	if (how == 1)
		dir(f, 1, "o/s");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/o:d\n/o/s:d\n/o/s/new:f\n");
	/* o/s: the same directory again (or not listed): neither added nor modified */
	counts(f, 1, 1, 0, 1);
	fix_free(f);
}

static void test_readd_dir_before_children(void **state)
{
	(void)state;
	readd_order_case(0, 1);
	readd_order_case(0, 0);
}

static void test_readd_dir_after_children(void **state)
{
	(void)state;
	readd_order_case(1, 1);
	readd_order_case(1, 0);
}

static void test_readd_dir_implicit(void **state)
{
	(void)state;
	readd_order_case(2, 1);
	readd_order_case(2, 0);
}

static void test_opaque_hides_only_lower(void **state)
{
	(void)state;
	/* three layers: the opaque marker of layer 2 hides layers 0 and 1 */
	struct fix *f = fix_new(3);
	dir(f, 0, "o");
	file(f, 0, "o/zero", "0");
	file(f, 1, "o/one", "1");
	file(f, 2, "o/two", "2");
	opaque(f, 2, "o");
	dir(f, 2, "o"); /* the directory itself, listed again, unchanged */
	build(f, 2, 0);
	assert_string_equal(listing(f), "/o:d\n/o/two:f\n");
	counts(f, 1, 1, 0, 0);
	counts(f, 2, 1, 0, 2);
	fix_free(f);
}

static void test_opaque_root(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	file(f, 0, "a", "a");
	dir(f, 0, "d");
	file(f, 0, "d/b", "b");
	opaque(f, 1, "");
	file(f, 1, "c", "c");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/c:f\n");
	counts(f, 1, 1, 0, 3);
	fix_free(f);
}

/* --- type changes ------------------------------------------------------------------ */

static void test_file_replaces_dir(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	dir(f, 0, "a");
	file(f, 0, "a/x", "x");
	dir(f, 0, "a/sub");
	file(f, 0, "a/sub/y", "yy");
	file(f, 1, "a", "now a file");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/a:f\n");
	assert_int_equal(must(f, "a")->type, WH_T_REG);
	assert_null(must(f, "a")->child);
	assert_int_equal(f->t.root->size, 10);
	counts(f, 1, 0, 1, 3); /* a; a/x, a/sub, a/sub/y */
	fix_free(f);
}

static void test_dir_replaces_file(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	file(f, 0, "b", "a file");
	dir(f, 1, "b");
	file(f, 1, "b/z", "zz");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/b:d\n/b/z:f\n");
	assert_int_equal(must(f, "b")->size, 2);
	counts(f, 1, 1, 1, 0);
	fix_free(f);
}

static void test_dir_replaces_file_implicitly(void **state)
{
	(void)state;
	/* no directory entry: the child's path makes b a directory */
	struct fix *f = fix_new(2);
	file(f, 0, "b", "a file");
	file(f, 1, "b/z", "zz");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/b:d\n/b/z:f\n");
	assert_null(must(f, "b")->e);
	assert_int_equal(f->t.root->size, 2);
	fix_free(f);
}

static void test_symlink_replaces_dir(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	dir(f, 0, "lib");
	file(f, 0, "lib/libc.so", "ELF");
	dir(f, 0, "usr");
	dir(f, 0, "usr/lib");
	link_e(f, 1, WH_T_SYMLINK, "lib", "usr/lib");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/lib:l\n/usr:d\n/usr/lib:d\n");
	assert_string_equal(must(f, "lib")->e->link, "usr/lib");
	counts(f, 1, 0, 1, 1);
	fix_free(f);
}

/* --- whiteout and re-add in one layer ---------------------------------------------- */

static void test_whiteout_and_readd_same_layer(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	file(f, 0, "w", "old");
	file(f, 0, "same", "same");
	dir(f, 0, "v");
	file(f, 0, "v/1", "1");
	/* layer 1: whiteouts before and after the re-added entries */
	whiteout(f, 1, "w");
	file(f, 1, "w", "new!");
	file(f, 1, "same", "same"); /* identical: neither added nor modified */
	whiteout(f, 1, "same");
	whiteout(f, 1, "v");
	dir(f, 1, "v");
	file(f, 1, "v/2", "2");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/same:f\n/v:d\n/v/2:f\n/w:f\n");
	assert_int_equal(must(f, "w")->e->size, 4);
	assert_int_equal(must(f, "w")->layer, 1);
	counts(f, 1, 1, 1, 1); /* v/2; w; v/1 */
	fix_free(f);
}

static void test_same_path_twice_in_layer(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	file(f, 0, "p", "one");
	file(f, 1, "p", "two!");
	file(f, 1, "p", "three");
	file(f, 1, "q", "q");
	file(f, 1, "q", "qq");
	build(f, 1, 0);
	assert_int_equal(must(f, "p")->e->size, 5);
	assert_int_equal(must(f, "q")->e->size, 2);
	counts(f, 1, 1, 1, 0);
	fix_free(f);
}

/* --- metadata changes ------------------------------------------------------------------ */

static void test_modified_kinds(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	file(f, 0, "mode", "m");
	file(f, 0, "uid", "u");
	file(f, 0, "gid", "g");
	file(f, 0, "hash", "abc");
	file(f, 0, "size", "abc");
	file(f, 0, "mtime", "t");
	link_e(f, 0, WH_T_SYMLINK, "sl", "a");
	dir(f, 0, "dmode");
	dir(f, 0, "dsame");
	file(f, 1, "mode", "m")->mode = 0755;
	file(f, 1, "uid", "u")->uid = 1000;
	file(f, 1, "gid", "g")->gid = 1000;
	file(f, 1, "hash", "xyz");
	file(f, 1, "size", "abcd");
	file(f, 1, "mtime", "t")->mtime = 12345; /* mtime alone is not a change */
	link_e(f, 1, WH_T_SYMLINK, "sl", "b");
	dir(f, 1, "dmode")->mode = 0700;
	dir(f, 1, "dsame");
	build(f, 1, 0);
	counts(f, 1, 0, 7, 0);
	assert_int_equal(tree_change_at(must(f, "mode"), 1), WH_C_MODIFIED);
	assert_int_equal(tree_change_at(must(f, "mtime"), 1), WH_C_NONE);
	assert_int_equal(tree_change_at(must(f, "dsame"), 1), WH_C_NONE);
	fix_free(f);
}

/* --- links ------------------------------------------------------------------------------- */

static void test_links(void **state)
{
	(void)state;
	struct fix *f = fix_new(1);
	dir(f, 0, "h");
	file(f, 0, "h/t", "target");
	link_e(f, 0, WH_T_HARDLINK, "h/l", "h/t");
	link_e(f, 0, WH_T_SYMLINK, "h/s", "t");
	link_e(f, 0, WH_T_SYMLINK, "passwd", "/etc/passwd");
	link_e(f, 0, WH_T_SYMLINK, "up", "../../../../etc");
	build(f, 0, 0);
	assert_string_equal(listing(f), "/h:d\n/h/l:h\n/h/s:l\n/h/t:f\n/passwd:l\n/up:l\n");
	assert_string_equal(must(f, "h/l")->e->link, "h/t");
	assert_string_equal(must(f, "passwd")->e->link, "/etc/passwd");
	/* links are not followed and count no bytes */
	assert_null(tree_lookup(&f->t, "passwd/x"));
	assert_null(tree_lookup(&f->t, "up/passwd"));
	assert_int_equal(f->t.root->size, 6);
	counts(f, 0, 6, 0, 0);

	/* layer 1: retarget the symlink, remove the hard link's target */
	f->img.n_layers = 2;
	link_e(f, 1, WH_T_SYMLINK, "h/s", "other");
	whiteout(f, 1, "h/t");
	link_e(f, 1, WH_T_HARDLINK, "h/l", "h/t"); /* unchanged */
	build(f, 1, 0);
	assert_string_equal(listing(f), "/h:d\n/h/l:h\n/h/s:l\n/passwd:l\n/up:l\n");
	assert_string_equal(must(f, "h/s")->e->link, "other");
	counts(f, 1, 0, 1, 1);
	fix_free(f);
}

/* --- implicit parents ----------------------------------------------------------------------- */

static void test_implicit_parents(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	file(f, 0, "a/b/c/f", "ffff");
	dir(f, 1, "a/b");
	file(f, 1, "a/b/g", "g");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/a:d\n/a/b:d\n/a/b/c:d\n/a/b/c/f:f\n/a/b/g:f\n");
	assert_int_equal(f->t.n_nodes, 5);
	assert_null(must(f, "a")->e);
	assert_null(must(f, "a/b/c")->e);
	assert_non_null(must(f, "a/b")->e);
	assert_int_equal(must(f, "a")->type, WH_T_DIR);
	assert_int_equal(must(f, "a")->size, 5);
	assert_int_equal(must(f, "a")->nfiles, 4);
	assert_int_equal(f->t.root->nfiles, 5);
	counts(f, 0, 1, 0, 0); /* directories no layer lists are not entries */
	counts(f, 1, 1, 0, 0); /* a/b: listed now, was implicit, not new, not changed */
	fix_free(f);
}

/* --- the per-layer view ------------------------------------------------------------------------ */

static void test_keep_removed_view(void **state)
{
	(void)state;
	struct fix *f = fix_new(3);
	base_layer(f);
	whiteout(f, 1, "etc/a");
	whiteout(f, 1, "d");
	file(f, 1, "etc/b", "b");
	file(f, 2, "etc/c", "c");
	/* the full build stores the counts */
	build(f, 2, 0);
	counts(f, 1, 1, 0, 6);
	counts(f, 2, 1, 0, 0);
	/* the view of layer 1 keeps what layer 1 removed, marked, and leaves the counts alone */
	f->layers[1].added = 99;
	build(f, 1, 1);
	assert_int_equal(f->layers[1].added, 99);
	const char *removed[] = {"etc/a", "d", "d/x", "d/y", "d/sub", "d/sub/z"};
	for (size_t i = 0; i < ARRAY_LEN(removed); i++) {
		struct wh_node *n = must(f, removed[i]);
		assert_int_equal(tree_change_at(n, 1), WH_C_REMOVED);
		assert_int_equal(tree_change_at(n, 0), WH_C_NONE);
	}
	assert_int_equal(tree_change_at(must(f, "etc/b"), 1), WH_C_ADDED);
	assert_true(must(f, "etc/b")->in_layer);
	assert_false(must(f, "etc")->in_layer);
	assert_null(tree_lookup(&f->t, "etc/c"));
	/* removed nodes count no bytes */
	assert_int_equal(f->t.root->size, 1);
	/* the view of layer 0: everything added there */
	build(f, 0, 1);
	assert_int_equal(tree_change_at(must(f, "d/sub/z"), 0), WH_C_ADDED);
	assert_int_equal(f->t.root->size, 5 + 2 + 3 + 1);
	fix_free(f);
}

static void test_many_nodes(void **state)
{
	(void)state;
	/* enough nodes to grow the hash several times; names stay findable */
	enum { N = 20000 };
	struct wh_layer l[2];
	memset(l, 0, sizeof l);
	struct wh_entry *e0 = calloc(N, sizeof *e0), *e1 = calloc(N / 2, sizeof *e1);
	char (*names)[32] = calloc(N, 32);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], 32, "d%d/f%d", i % 97, i);
		e0[i].path = names[i];
		e0[i].type = WH_T_REG;
		e0[i].size = 1;
	}
	for (int i = 0; i < N / 2; i++) {
		e1[i].path = names[2 * i];
		e1[i].type = WH_T_WHITEOUT;
	}
	l[0].entries = e0;
	l[0].n_entries = N;
	l[1].index = 1;
	l[1].entries = e1;
	l[1].n_entries = N / 2;
	struct wh_image img = {.reference = "many", .layers = l, .n_layers = 2};
	struct wh_tree t;
	struct wh_error err = {0};
	assert_int_equal(tree_build(&t, &img, 1, 0, &err), 0);
	assert_int_equal(t.n_nodes, 97 + N / 2);
	assert_int_equal(t.root->size, N / 2);
	assert_null(tree_lookup(&t, names[0]));
	assert_non_null(tree_lookup(&t, names[1]));
	assert_int_equal(l[1].removed, N / 2);
	tree_free(&t);
	free(e0);
	free(e1);
	free(names);
}

/* Written through a symlink (as umoci and the runtimes unpack): a lower
 * layer's b -> /etc, then b/passwd, lands in /etc; relative links resolve
 * inside the root (never above it); a link and a file below it in one
 * layer; whiteouts and opaque markers through a link; a target that does
 * not exist is made; a loop is an error naming the entry. Every figure
 * uses the resolved path; the tar name stays in tar_name. */
static void test_write_through_symlinks(void **state)
{
	(void)state;
	struct fix *f = fix_new(2);
	dir(f, 0, "etc");
	file(f, 0, "etc/passwd", "old");
	file(f, 0, "etc/group", "g");
	dir(f, 0, "etc/skel");
	file(f, 0, "etc/skel/.profile", "p");
	link_e(f, 0, WH_T_SYMLINK, "b", "/etc");
	dir(f, 0, "x");
	dir(f, 0, "x/y");
	link_e(f, 0, WH_T_SYMLINK, "x/y/c", "../../../..");
	link_e(f, 0, WH_T_SYMLINK, "n", "/newdir/sub");
	struct wh_entry *pw = file(f, 1, "b/passwd", "new!");
	struct wh_entry *ho = file(f, 1, "x/y/c/etc/hosts", "h");
	link_e(f, 1, WH_T_SYMLINK, "d", "etc");
	struct wh_entry *sh = file(f, 1, "d/shadow", "s");
	struct wh_entry *nf = file(f, 1, "n/f", "f");
	struct wh_entry *wg = whiteout(f, 1, "b/group");
	opaque(f, 1, "b/skel");
	build(f, 1, 0);
	assert_string_equal(listing(f), "/b:l\n/d:l\n/etc:d\n/etc/hosts:f\n/etc/passwd:f\n/etc/shadow:f\n/etc/skel:d\n"
	                                "/n:l\n/newdir:d\n/newdir/sub:d\n/newdir/sub/f:f\n/x:d\n/x/y:d\n/x/y/c:l\n");
	assert_ptr_equal(must(f, "etc/passwd")->e, pw);
	assert_int_equal(must(f, "etc/passwd")->e->size, 4);
	assert_string_equal(pw->path, "etc/passwd");
	assert_string_equal(pw->tar_name, "b/passwd");
	assert_string_equal(entry_tar_name(pw), "b/passwd");
	assert_string_equal(ho->path, "etc/hosts");
	assert_string_equal(ho->tar_name, "x/y/c/etc/hosts");
	assert_string_equal(sh->path, "etc/shadow");
	assert_string_equal(nf->path, "newdir/sub/f");
	assert_string_equal(wg->path, "etc/group");
	assert_string_equal(wg->tar_name, "b/group");
	assert_null(must(f, "etc/skel")->child); /* the opaque marker through b */
	/* not relocated: its tar name is its path */
	assert_null(must(f, "x/y/c")->e->tar_name);
	assert_string_equal(entry_tar_name(must(f, "x/y/c")->e), "x/y/c");
	/* layer 1: entries hosts, shadow, f, d added (newdir and newdir/sub no
	 * entry lists), passwd modified; group and .profile removed */
	counts(f, 1, 4, 1, 2);
	/* built again (a per-layer view): the same tree, paths stay resolved */
	build(f, 1, 0);
	assert_ptr_equal(must(f, "etc/passwd")->e, pw);
	assert_string_equal(pw->tar_name, "b/passwd");
	fix_free(f);

	/* a loop: an error naming the entry */
	f = fix_new(2);
	link_e(f, 0, WH_T_SYMLINK, "l1", "l2");
	link_e(f, 0, WH_T_SYMLINK, "l2", "/l1");
	file(f, 1, "l1/f", "x");
	struct wh_error err = {0};
	struct wh_tree t;
	assert_int_equal(tree_build(&t, &f->img, 1, 0, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "\"l1/f\""));
	tree_free(&t);
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whiteout_file_and_dir),
		cmocka_unit_test(test_whiteout_of_absent_path),
		cmocka_unit_test(test_opaque_marker_first),
		cmocka_unit_test(test_opaque_marker_last),
		cmocka_unit_test(test_readd_dir_before_children),
		cmocka_unit_test(test_readd_dir_after_children),
		cmocka_unit_test(test_readd_dir_implicit),
		cmocka_unit_test(test_opaque_hides_only_lower),
		cmocka_unit_test(test_opaque_root),
		cmocka_unit_test(test_file_replaces_dir),
		cmocka_unit_test(test_dir_replaces_file),
		cmocka_unit_test(test_dir_replaces_file_implicitly),
		cmocka_unit_test(test_symlink_replaces_dir),
		cmocka_unit_test(test_whiteout_and_readd_same_layer),
		cmocka_unit_test(test_same_path_twice_in_layer),
		cmocka_unit_test(test_modified_kinds),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_implicit_parents),
		cmocka_unit_test(test_keep_removed_view),
		cmocka_unit_test(test_many_nodes),
		cmocka_unit_test(test_write_through_symlinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
