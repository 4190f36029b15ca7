/* tree_model: the file tree pane's rows, folds, filter, search and sort on
 * a two-layer image built here by hand. Each expected listing is written
 * from the construction below:
 *
 *   layer 0: /etc/ (passwd 6 B, hosts 1 B), /usr/bin/ (sh 10 B),
 *            /usr/lib/ (libc.so 20 B), /tmp/
 *   layer 1: /etc/hosts modified (2 B), /usr/bin/ls added (8 B),
 *            /tmp removed (whiteout), /opt/ added (app 3 B)
 *
 * A listing has one line a row: '>' on the cursor's row, the change
 * marker (' ' unchanged, '+' added, '~' modified, '-' removed; a directory
 * shows '~' when something beneath changed), two spaces a depth, the
 * name, '/' for a directory, " [folded]" for a collapsed one, " *" for a
 * search match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tree_model.h"

static const struct spec {
	int layer;
	uint8_t type;
	const char *path;
	const char *content; /* a regular file's bytes: its length is the size, its bytes the hash */
} image_spec[] = {
	{0, WH_T_DIR, "etc", NULL},
	{0, WH_T_REG, "etc/passwd", "root:x"},
	{0, WH_T_REG, "etc/hosts", "h"},
	{0, WH_T_DIR, "usr", NULL},
	{0, WH_T_DIR, "usr/bin", NULL},
	{0, WH_T_REG, "usr/bin/sh", "shshshshsh"},
	{0, WH_T_DIR, "usr/lib", NULL},
	{0, WH_T_REG, "usr/lib/libc.so", "cccccccccccccccccccc"},
	{0, WH_T_DIR, "tmp", NULL},
	{1, WH_T_REG, "etc/hosts", "hh"},
	{1, WH_T_REG, "usr/bin/ls", "lslslsls"},
	{1, WH_T_WHITEOUT, "tmp", NULL},
	{1, WH_T_DIR, "opt", NULL},
	{1, WH_T_REG, "opt/app", "app"},
};
#define N_SPEC (sizeof image_spec / sizeof image_spec[0])

struct fixture {
	struct wh_image img;
	struct wh_layer layers[2];
	struct wh_entry ents[N_SPEC];
	struct tree_model m;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->img.reference = "test:tree-model";
	f->img.layers = f->layers;
	f->img.n_layers = 2;
	for (size_t l = 0; l < 2; l++)
		f->layers[l].index = l;
	/* the entries of each layer are contiguous in image_spec */
	for (size_t i = 0; i < N_SPEC; i++) {
		const struct spec *s = &image_spec[i];
		struct wh_layer *l = &f->layers[s->layer];
		struct wh_entry *e = &f->ents[i];
		if (!l->entries)
			l->entries = e;
		l->n_entries++;
		e->path = s->path;
		e->type = s->type;
		e->mode = s->type == WH_T_DIR ? 0755 : 0644;
		if (s->content) {
			e->size = strlen(s->content);
			memcpy(e->hash, s->content, e->size < sizeof e->hash ? e->size : sizeof e->hash);
			l->size_bytes += e->size;
		}
	}
	tree_model_init(&f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tree_model_free(&f->m);
	free(f);
	return 0;
}

static struct tree_model *shown(void **state, size_t layer, int aggregated)
{
	struct fixture *f = *state;
	struct wh_error err = {0};
	assert_int_equal(tree_model_show(&f->m, &f->img, layer, aggregated, &err), 0);
	assert_true(tree_model_is(&f->m, layer, aggregated));
	return &f->m;
}

/* The rows as text (see the top of the file). */
static const char *listing(const struct tree_model *m)
{
	static char text[4096];
	size_t o = 0;
	text[0] = 0;
	for (size_t i = 0; i < m->nrows; i++) {
		const struct wh_node *n = m->rows[i].n;
		o += (size_t)snprintf(text + o, sizeof text - o, "%c%c%*s%s%s%s%s\n", i == m->cur ? '>' : ' ',
		                      " +~-"[tree_model_kind(n)], (int)(2 * m->rows[i].depth), "", n->name,
		                      n->type == WH_T_DIR ? "/" : "", tree_model_collapsed(m, n) ? " [folded]" : "",
		                      tree_model_matches(m, n) ? " *" : "");
	}
	return text;
}

/* The first rows of layer 1 aggregated, sorted by name, the cursor elsewhere. */
#define ETC_OPT " ~etc/\n ~  hosts\n    passwd\n +opt/\n +  app\n"

static void cursor_to_path(struct tree_model *m, const char *path)
{
	char p[256];
	for (size_t i = 0; i < m->nrows; i++) {
		tree_path(m->rows[i].n, p, sizeof p);
		if (!strcmp(p, path)) {
			tree_model_set_cursor(m, i);
			return;
		}
	}
	fail_msg("%s is not a row", path);
}

static void test_aggregated_rows(void **state)
{
	struct tree_model *m = shown(state, 1, 1);
	/* sorted by name; tmp is gone; layer 1's changes marked */
	assert_string_equal(listing(m), ">~etc/\n"
	                                " ~  hosts\n"
	                                "    passwd\n"
	                                " +opt/\n"
	                                " +  app\n"
	                                " ~usr/\n"
	                                " ~  bin/\n"
	                                " +    ls\n"
	                                "      sh\n"
	                                "    lib/\n"
	                                "      libc.so\n");
	/* layer 0 aggregated: nothing above layer 0 changed anything */
	m = shown(state, 0, 1);
	assert_string_equal(listing(m), "> etc/\n"
	                                "    hosts\n"
	                                "    passwd\n"
	                                "  tmp/\n"
	                                "  usr/\n"
	                                "    bin/\n"
	                                "      sh\n"
	                                "    lib/\n"
	                                "      libc.so\n");
}

static void test_per_layer_rows_and_hide(void **state)
{
	struct tree_model *m = shown(state, 1, 0);
	/* per layer: the removed directory stays, marked */
	assert_string_equal(listing(m), ">~etc/\n"
	                                " ~  hosts\n"
	                                "    passwd\n"
	                                " +opt/\n"
	                                " +  app\n"
	                                " -tmp/\n"
	                                " ~usr/\n"
	                                " ~  bin/\n"
	                                " +    ls\n"
	                                "      sh\n"
	                                "    lib/\n"
	                                "      libc.so\n");
	/* hide the unchanged: lib goes with its only file; the changed stay */
	tree_model_toggle_hide(m, WH_C_NONE);
	assert_string_equal(listing(m), ">~etc/\n"
	                                " ~  hosts\n"
	                                " +opt/\n"
	                                " +  app\n"
	                                " -tmp/\n"
	                                " ~usr/\n"
	                                " ~  bin/\n"
	                                " +    ls\n");
	/* and the added and the removed: what is left is what was modified */
	tree_model_toggle_hide(m, WH_C_ADDED);
	tree_model_toggle_hide(m, WH_C_REMOVED);
	assert_string_equal(listing(m), ">~etc/\n"
	                                " ~  hosts\n");
	tree_model_toggle_hide(m, WH_C_ADDED);
	tree_model_toggle_hide(m, WH_C_REMOVED);
	tree_model_toggle_hide(m, WH_C_NONE);
	assert_int_equal(m->nrows, 12);
}

static void test_folds_and_cursor(void **state)
{
	struct tree_model *m = shown(state, 1, 1);
	cursor_to_path(m, "/usr/bin");
	tree_model_fold(m);
	assert_string_equal(listing(m), ETC_OPT
	                                " ~usr/\n"
	                                ">~  bin/ [folded]\n"
	                                "    lib/\n"
	                                "      libc.so\n");
	/* left on a collapsed directory goes to its parent; left there folds it */
	tree_model_left(m);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr"));
	tree_model_left(m);
	assert_string_equal(listing(m), ETC_OPT
	                                ">~usr/ [folded]\n");
	/* right unfolds usr only: bin stays folded */
	tree_model_right(m);
	assert_string_equal(listing(m), ETC_OPT
	                                ">~usr/\n"
	                                " ~  bin/ [folded]\n"
	                                "    lib/\n"
	                                "      libc.so\n");
	/* moves clamp at both ends */
	tree_model_move(m, 100);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr/lib/libc.so"));
	tree_model_move(m, -100);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/etc"));
	/* fold all (something is open), then unfold all */
	tree_model_toggle_fold_all(m);
	assert_string_equal(listing(m), ">~etc/ [folded]\n"
	                                " +opt/ [folded]\n"
	                                " ~usr/ [folded]\n");
	tree_model_toggle_fold_all(m);
	assert_int_equal(m->nrows, 11);
}

static void test_show_keeps_folds_and_cursor(void **state)
{
	struct tree_model *m = shown(state, 1, 1);
	cursor_to_path(m, "/etc");
	tree_model_fold(m);
	cursor_to_path(m, "/usr/bin/sh");
	/* another layer: the fold of /etc and the cursor on /usr/bin/sh stay */
	m = shown(state, 0, 1);
	assert_string_equal(listing(m), "  etc/ [folded]\n"
	                                "  tmp/\n"
	                                "  usr/\n"
	                                "    bin/\n"
	                                ">     sh\n"
	                                "    lib/\n"
	                                "      libc.so\n");
	/* a cursor path the next tree lacks: its nearest ancestor there */
	m = shown(state, 1, 1);
	cursor_to_path(m, "/usr/bin/ls");
	m = shown(state, 0, 1);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr/bin"));
	cursor_to_path(m, "/usr/lib/libc.so");
	m = shown(state, 1, 0);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr/lib/libc.so"));
}

static void test_filter(void **state)
{
	struct tree_model *m = shown(state, 1, 1);
	/* the ancestors of matches stay, nothing else */
	assert_int_equal(tree_model_set_filter(m, "sh$"), 0);
	assert_string_equal(listing(m), ">~usr/\n"
	                                " ~  bin/\n"
	                                "      sh\n");
	/* a directory that matches shows with what it holds that is shown */
	assert_int_equal(tree_model_set_filter(m, "^/etc"), 0);
	assert_string_equal(listing(m), ">~etc/\n"
	                                " ~  hosts\n"
	                                "    passwd\n");
	assert_int_equal(tree_model_set_filter(m, "("), -1);
	assert_memory_equal(m->msg, "bad regex: ", 11);
	assert_int_equal(m->has_filter, 0);
	assert_int_equal(m->nrows, 11);
	assert_int_equal(tree_model_set_filter(m, "no such name"), 0);
	assert_int_equal(m->nrows, 0);
	assert_null(tree_model_cursor(m));
	assert_int_equal(tree_model_set_filter(m, ""), 0);
	assert_int_equal(m->nrows, 11);
}

static void test_search(void **state)
{
	struct tree_model *m = shown(state, 1, 1);
	/* "/l" is in /usr/bin/ls, /usr/lib and /usr/lib/libc.so */
	assert_int_equal(tree_model_set_search(m, "/l"), 0);
	assert_int_equal(m->n_matches, 3);
	assert_int_equal(m->match_no, 1);
	assert_string_equal(listing(m), ETC_OPT
	                                " ~usr/\n"
	                                " ~  bin/\n"
	                                ">+    ls *\n"
	                                "      sh\n"
	                                "    lib/ *\n"
	                                "      libc.so *\n");
	tree_model_search_next(m, 1);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr/lib"));
	assert_int_equal(m->match_no, 2);
	tree_model_search_next(m, 1);
	tree_model_search_next(m, 1);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr/bin/ls"));
	assert_int_equal(m->match_no, 1);
	assert_string_equal(m->msg, "search wrapped to the top");
	tree_model_search_next(m, -1);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr/lib/libc.so"));
	assert_string_equal(m->msg, "search wrapped to the bottom");
	/* a match inside a folded directory: the next one unfolds it */
	cursor_to_path(m, "/usr");
	tree_model_fold(m);
	assert_int_equal(m->nrows, 6);
	tree_model_search_next(m, 1);
	assert_ptr_equal(tree_model_cursor(m), tree_lookup(&m->t, "/usr/bin/ls"));
	assert_int_equal(m->nrows, 11);
	assert_int_equal(tree_model_set_search(m, "nothing here"), 0);
	assert_int_equal(m->n_matches, 0);
	assert_string_equal(m->msg, "no match for /nothing here/");
}

static void test_sort_by_size(void **state)
{
	struct tree_model *m = shown(state, 1, 1);
	/* directories by the bytes beneath: usr 38 (lib 20, bin 18), etc 8,
	 * opt 3; the cursor stays on /etc */
	tree_model_toggle_sort(m);
	assert_string_equal(listing(m), " ~usr/\n"
	                                "    lib/\n"
	                                "      libc.so\n"
	                                " ~  bin/\n"
	                                "      sh\n"
	                                " +    ls\n"
	                                ">~etc/\n"
	                                "    passwd\n"
	                                " ~  hosts\n"
	                                " +opt/\n"
	                                " +  app\n");
	tree_model_toggle_sort(m);
	assert_memory_equal(listing(m), ">~etc/\n ~  hosts\n", 17); /* by name again */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aggregated_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_layer_rows_and_hide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folds_and_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_keeps_folds_and_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sort_by_size, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
