/* keys: the explorer's key table. The expected bindings are DESIGN.md's
 * "The UI's keys" (dive's keys, then whittle's own); the invariants are
 * the table's own promises: every row that does something is reachable,
 * no key does two things in one pane, every key bar entry has a label,
 * the help lists every key that does something. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "tui/crt.h"
#include "tui/keys.h"

static int action_of(int k, int pane, int overlay)
{
	const struct tui_key *e = keys_find(k, pane, overlay);
	return e ? e->action : -1;
}

static void test_design_bindings(void **state)
{
	(void)state;
	for (int p = 0; p < N_PANES; p++) {
		assert_int_equal(action_of('\t', p, 0), KA_PANE_CYCLE);
		assert_int_equal(action_of(CRT_K_BTAB, p, 0), KA_PANE_CYCLE);
		assert_int_equal(action_of(CRT_CTRL('f'), p, 0), KA_FILTER);
		assert_int_equal(action_of(CRT_ESC, p, 0), KA_CLEAR);
		assert_int_equal(action_of(CRT_CTRL('b'), p, 0), KA_ATTRS);
		assert_int_equal(action_of(CRT_CTRL('o'), p, 0), KA_SORT);
		assert_int_equal(action_of('/', p, 0), KA_SEARCH);
		assert_int_equal(action_of('n', p, 0), KA_SEARCH_NEXT);
		assert_int_equal(action_of('N', p, 0), KA_SEARCH_NEXT);
		assert_int_equal(action_of('s', p, 0), KA_SLIM);
		assert_int_equal(action_of('x', p, 0), KA_KEEP_DROP);
		assert_int_equal(action_of('p', p, 0), KA_PACKAGES);
		assert_int_equal(action_of('z', p, 0), KA_UNDO);
		assert_int_equal(action_of('w', p, 0), KA_WRITE);
		/* the slim view's probe prompt and the uncertain list (issues 15 and 12) */
		assert_int_equal(action_of('r', p, 0), KA_PROBE);
		assert_int_equal(action_of('U', p, 0), KA_UNCERTAIN);
		assert_int_equal(action_of('?', p, 0), KA_HELP);
		assert_int_equal(action_of('q', p, 0), KA_QUIT);
		assert_int_equal(action_of(CRT_CTRL('c'), p, 0), KA_QUIT);
		/* the image details have a key of their own (README), Tab only toggles layers / tree */
		assert_int_equal(action_of('I', p, 0), KA_DETAILS);
		/* arrows, hjkl's j and k, PgUp/PgDn and u/d move in every pane */
		static const int moves[] = {CRT_K_UP, CRT_K_DOWN, 'k', 'j', CRT_K_PGUP, CRT_K_PGDN, 'u', 'd'};
		for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
			assert_int_equal(action_of(moves[i], p, 0), KA_PANE_KEY);
	}
	/* ctrl+a / ctrl+l in the layer pane */
	assert_int_equal(action_of(CRT_CTRL('a'), PANE_LAYERS, 0), KA_AGGREGATED);
	assert_int_equal(action_of(CRT_CTRL('l'), PANE_LAYERS, 0), KA_PER_LAYER);
	/* the tree pane's own: h l, space, ctrl+space, ctrl+a/r/m/u */
	/* DESIGN: ctrl+m is Enter, which opens and closes a directory; hiding
	 * modified entries has a key of its own (README: ctrl+t) */
	static const int tree[] = {'h', 'l', CRT_K_LEFT, CRT_K_RIGHT, ' ', '\r', 0, CRT_CTRL('a'), CRT_CTRL('r'),
	                           CRT_CTRL('t'), CRT_CTRL('u')};
	for (size_t i = 0; i < sizeof tree / sizeof tree[0]; i++) {
		assert_int_equal(action_of(tree[i], PANE_TREE, 0), KA_PANE_KEY);
		assert_int_equal(action_of(tree[i], PANE_IMAGE, 0), -1);
	}
	assert_int_equal(action_of(CRT_CTRL('l'), PANE_TREE, 0), -1);
	/* Enter and Space are one row (fold), not the hiding of modified entries */
	const struct tui_key *enter = keys_find('\r', PANE_TREE, 0), *space = keys_find(' ', PANE_TREE, 0);
	assert_ptr_equal(enter, space);
	assert_ptr_not_equal(enter, keys_find(CRT_CTRL('t'), PANE_TREE, 0));
}

static void test_overlays(void **state)
{
	(void)state;
	/* over the help popup only quitting is a key of the table (the rest scrolls or closes it) */
	assert_int_equal(action_of('q', PANE_TREE, 1), KA_QUIT);
	assert_int_equal(action_of(CRT_CTRL('c'), PANE_TREE, 1), KA_QUIT);
	assert_int_equal(action_of('j', PANE_TREE, 1), -1);
	assert_int_equal(action_of('s', PANE_TREE, 1), -1);
	/* over the packages overlay: its keys, then quit, help and the mouse */
	static const int own[] = {CRT_K_UP, 'j', CRT_K_PGDN, 'u', CRT_K_HOME, 'x', 'z', 'p', CRT_ESC};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		assert_int_equal(action_of(own[i], PANE_LAYERS, 2), KA_OVERLAY_KEY);
	assert_int_equal(action_of('q', PANE_LAYERS, 2), KA_QUIT);
	assert_int_equal(action_of('?', PANE_LAYERS, 2), KA_HELP);
	assert_int_equal(action_of(CRT_K_MOUSE, PANE_LAYERS, 2), KA_MOUSE);
	assert_int_equal(action_of('s', PANE_LAYERS, 2), -1);
	assert_int_equal(action_of('\t', PANE_LAYERS, 2), -1);
}

static void test_table_invariants(void **state)
{
	(void)state;
	for (size_t i = 0; i < tui_n_keys; i++) {
		const struct tui_key *e = &tui_keys[i];
		int nkeys = 0;
		while (nkeys < KEYS_MAX && e->keys[nkeys] != CRT_KEY_NONE)
			nkeys++;
		assert_true(nkeys < KEYS_MAX); /* ended */
		if (e->bar_pos && (!e->bar_keys || !e->bar))
			fail_msg("row %zu (%s): on the key bar without a label", i, e->help_keys);
		if (e->action == KA_NONE) {
			assert_int_equal(nkeys, 0);
			assert_non_null(e->help);
			continue;
		}
		if (!nkeys)
			fail_msg("row %zu (%s) does something but has no key", i, e->help_keys);
		/* reachable: each of its keys reaches a row with its action where it works */
		int panes[N_PANES + 1], np = 0;
		if (e->pane == PANE_ANY)
			for (int p = 0; p < N_PANES; p++)
				panes[np++] = p;
		else
			panes[np++] = e->pane;
		for (int k = 0; k < nkeys; k++) {
			for (int p = 0; p < np; p++) {
				int overlay = e->pane == PANE_PACKAGES ? 2 : 0;
				int a = action_of(e->keys[k], panes[p], overlay);
				if (a != e->action)
					fail_msg("row %zu (%s): key %d in pane %d does action %d, not %d (no key does two "
					         "things in one pane)",
					         i, e->help_keys ? e->help_keys : "-", e->keys[k], panes[p], a, e->action);
			}
		}
	}
	/* every action that is bound is in the help under some row with the same action */
	for (size_t i = 0; i < tui_n_keys; i++) {
		int found = 0;
		for (size_t j = 0; j < tui_n_keys && !found; j++)
			found = tui_keys[j].action == tui_keys[i].action && tui_keys[j].help;
		if (!found)
			fail_msg("action %d is not in the help", tui_keys[i].action);
	}
	for (int s = 0; s < KS_COUNT; s++)
		assert_non_null(tui_key_sections[s]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_bindings),
		cmocka_unit_test(test_overlays),
		cmocka_unit_test(test_table_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
