#include "tui/keys.h"
#include "tui/crt.h"

/* In the help's order; the key bar goes by bar_pos. */
const struct tui_key tui_keys[] = {
	/* everywhere */
	{KEYS('\t', CRT_K_BTAB), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_PANE_CYCLE, 12,
	 "Tab / Shift+Tab", "the layers or the file tree, in turn (as dive)", "Tab", "layers/tree"},
	{KEYS('I'), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_DETAILS, 16,
	 "I", "the image details (what it runs, waste, inefficient files); Tab leaves them", "I", "image"},
	{KEYS('/'), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_SEARCH, 13,
	 "/", "search the file tree (regex on the path); Enter keeps it", "/", "search"},
	{KEYS('n', 'N'), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_SEARCH_NEXT, 0,
	 "n / N", "next / previous search match (the rest stays shown)", NULL, NULL},
	{KEYS(CRT_CTRL('f')), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_FILTER, 14,
	 "Ctrl+F", "filter the file tree (regex; ancestors of matches stay)", "^F", "filter"},
	{KEYS(CRT_CTRL('b')), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_ATTRS, 16,
	 "Ctrl+B", "show or hide the attributes (mode, uid:gid, size)", "^B", "attrs"},
	{KEYS(CRT_CTRL('o')), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_SORT, 15,
	 "Ctrl+O", "sort the file tree by name or by size", "^O", "sort"},
	{KEYS(CRT_ESC), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, 0, KA_CLEAR, 0,
	 "Esc", "close this help or the input line; clear filter and search", NULL, NULL},
	{KEYS('?'), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, KF_OVER_PACKAGES, KA_HELP, 19,
	 "?", "this help", "?", "help"},
	{KEYS('q', CRT_CTRL('c')), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, KF_OVER_HELP | KF_OVER_PACKAGES, KA_QUIT, 20,
	 "q / Ctrl+C", "quit", "q", "quit"},
	{KEYS(CRT_K_MOUSE), PANE_ANY, KM_ALWAYS, KS_EVERYWHERE, KF_OVER_PACKAGES, KA_MOUSE, 0,
	 "mouse", "the wheel scrolls the pane under it; a click selects", NULL, NULL},

	/* the layers pane */
	{KEYS(CRT_K_UP, CRT_K_DOWN, 'k', 'j'), PANE_LAYERS, KM_ALWAYS, KS_LAYERS, 0, KA_PANE_KEY, 0,
	 "Up Down / k j", "previous / next layer", NULL, NULL},
	{KEYS(CRT_K_PGUP, CRT_K_PGDN, 'u', 'd', CRT_K_HOME, CRT_K_END), PANE_LAYERS, KM_ALWAYS, KS_LAYERS, 0,
	 KA_PANE_KEY, 0, "PgUp PgDn / u d", "a page up / down (Home, End: first, last)", NULL, NULL},
	{KEYS(CRT_CTRL('a')), PANE_LAYERS, KM_ALWAYS, KS_LAYERS, 0, KA_AGGREGATED, 1,
	 "Ctrl+A", "aggregated view: everything up to the selected layer", "^A", "aggregated"},
	{KEYS(CRT_CTRL('l')), PANE_LAYERS, KM_ALWAYS, KS_LAYERS, 0, KA_PER_LAYER, 2,
	 "Ctrl+L", "per-layer view: the selected layer's changes", "^L", "per layer"},

	/* the file tree pane */
	{KEYS(CRT_K_UP, CRT_K_DOWN, 'k', 'j'), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 0,
	 "Up Down / k j", "previous / next entry", NULL, NULL},
	{KEYS(CRT_K_PGUP, CRT_K_PGDN, 'u', 'd', CRT_K_HOME, CRT_K_END), PANE_TREE, KM_ALWAYS, KS_TREE, 0,
	 KA_PANE_KEY, 0, "PgUp PgDn / u d", "a page up / down (Home, End: first, last)", NULL, NULL},
	{KEYS(CRT_K_LEFT, 'h'), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 0,
	 "Left / h", "collapse the directory, or go to the parent", NULL, NULL},
	{KEYS(CRT_K_RIGHT, 'l'), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 0,
	 "Right / l", "expand the directory", NULL, NULL},
	{KEYS('\r', '\n', ' '), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 9,
	 "Enter / Space", "open or close the directory", "Enter", "fold"},
	{KEYS(0), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 0,
	 "Ctrl+Space", "collapse or expand all directories", NULL, NULL},
	{KEYS(CRT_CTRL('a')), PANE_TREE, KM_NOT_SLIM, KS_TREE, 0, KA_PANE_KEY, 10,
	 "Ctrl+A", "hide or show added entries", "^A^R^T^U", "hide"},
	{KEYS(CRT_CTRL('r')), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 0,
	 "Ctrl+R", "hide or show removed entries", NULL, NULL},
	{KEYS(CRT_CTRL('t')), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 0,
	 "Ctrl+T", "hide or show modified entries (dive's Ctrl+M is Enter)", NULL, NULL},
	{KEYS(CRT_CTRL('u')), PANE_TREE, KM_ALWAYS, KS_TREE, 0, KA_PANE_KEY, 0,
	 "Ctrl+U", "hide or show unmodified entries", NULL, NULL},
	{KEYS('i'), PANE_TREE, KM_NOT_SLIM, KS_TREE, 0, KA_INFO, 11,
	 "i", "the file type (libmagic); in the slim view: all about the entry (why, rule, package, type)", "i",
	 "type"},
	{KEYS('i'), PANE_TREE, KM_SLIM, KS_TREE, 0, KA_INFO, 11, NULL, NULL, "i", "why"},

	/* slimming (every pane) */
	{KEYS('s'), PANE_ANY, KM_NOT_SLIM, KS_SLIM, 0, KA_SLIM, 8,
	 "s", "slim view: what slimming keeps, and why", "s", "slim"},
	{KEYS('s'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_SLIM, 7, NULL, NULL, "s", "leave slim"},
	/* x works on the file tree; elsewhere it says so (the same action) */
	{KEYS('x'), PANE_TREE, KM_SLIM, KS_SLIM, 0, KA_KEEP_DROP, 3,
	 "x", "keep or drop the entry under the cursor", "x", "keep/drop"},
	{KEYS('x'), PANE_ANY, KM_ALWAYS, KS_SLIM, 0, KA_KEEP_DROP, 0, NULL, NULL, NULL, NULL},
	{KEYS('z'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_UNDO, 4,
	 "z", "undo the last keep or drop", "z", "undo"},
	{KEYS('p'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_PACKAGES, 5,
	 "p", "packages (dpkg) by size, with the bytes kept", "p", "packages"},
	{KEYS('w'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_WRITE, 6,
	 "w", "write the slimmed image (asks where; when probes ran, the proof first)", "w", "write"},
	{KEYS('r'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_PROBE, 6,
	 "r", "run a command of the image in a sandbox (as --probe): its output; what it touches is kept (P)", "r",
	 "probe"},
	{KEYS('R'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_FORGET_PROBE, 0,
	 "R", "forget the last probe: its keeps go (the other probes run again)", NULL, NULL},
	{KEYS('U'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_UNCERTAIN, 0,
	 "U", "the uncertain list, the data directories, the directories kept partly", NULL, NULL},
	{KEYS('e'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_ROOT, 17,
	 "e", "edit the entrypoint and cmd slimming starts from (Enter on \"\": the image's)", "e", "entrypoint"},
	{KEYS('K'), PANE_ANY, KM_SLIM, KS_SLIM, 0, KA_SAVE, 18,
	 "K", "save your keeps and drops as a --keep-from file", "K", "save"},
	{KEYS(CRT_KEY_NONE), PANE_ANY, KM_ALWAYS, KS_SLIM, 0, KA_NONE, 0,
	 "markers", "kept, partly kept, removable; K, D: your x; P: kept by a probe (r)", NULL, NULL},

	/* the packages overlay */
	{KEYS(CRT_K_UP, CRT_K_DOWN, 'k', 'j', CRT_K_PGUP, CRT_K_PGDN, 'u', 'd', CRT_K_HOME, CRT_K_END), PANE_PACKAGES,
	 KM_ALWAYS, KS_PACKAGES, 0, KA_OVERLAY_KEY, 0,
	 "Up Down / k j", "previous / next package (PgUp PgDn: a page)", NULL, NULL},
	{KEYS('x', 'z'), PANE_PACKAGES, KM_ALWAYS, KS_PACKAGES, 0, KA_OVERLAY_KEY, 0,
	 "x / z", "keep or drop the package / undo", NULL, NULL},
	{KEYS('p', CRT_ESC), PANE_PACKAGES, KM_ALWAYS, KS_PACKAGES, 0, KA_OVERLAY_KEY, 0,
	 "p / Esc", "close", NULL, NULL},

	/* the image details pane */
	{KEYS(CRT_K_UP, CRT_K_DOWN, 'k', 'j', CRT_K_PGUP, CRT_K_PGDN, 'u', 'd', CRT_K_HOME, CRT_K_END), PANE_IMAGE,
	 KM_ALWAYS, KS_IMAGE, 0, KA_PANE_KEY, 0,
	 "Up Down / k j", "scroll (PgUp PgDn / u d: a page)", NULL, NULL},
};

const size_t tui_n_keys = sizeof tui_keys / sizeof tui_keys[0];

const char *const tui_key_sections[KS_COUNT] = {
	[KS_EVERYWHERE] = "Everywhere",
	[KS_LAYERS] = "Layers pane",
	[KS_TREE] = "File tree pane",
	[KS_SLIM] = "Slimming",
	[KS_PACKAGES] = "Packages (p)",
	[KS_IMAGE] = "Image details pane",
	[KS_COLOURS] = "Colours: added green, modified yellow, removed red; a directory takes its children's.",
};

int keys_has(const struct tui_key *e, int k)
{
	for (int i = 0; i < KEYS_MAX && e->keys[i] != CRT_KEY_NONE; i++)
		if (e->keys[i] == k)
			return 1;
	return 0;
}

static const struct tui_key *find_in(int k, int pane, int flag)
{
	for (size_t i = 0; i < tui_n_keys; i++) {
		const struct tui_key *e = &tui_keys[i];
		if (e->action != KA_NONE && (flag ? (e->flags & flag) : e->pane == pane) && keys_has(e, k))
			return e;
	}
	return NULL;
}

const struct tui_key *keys_find(int k, int focus, int overlay)
{
	const struct tui_key *e;
	if (overlay == 1)
		return find_in(k, 0, KF_OVER_HELP);
	if (overlay == 2)
		return (e = find_in(k, PANE_PACKAGES, 0)) ? e : find_in(k, 0, KF_OVER_PACKAGES);
	return (e = find_in(k, PANE_ANY, 0)) ? e : find_in(k, focus, 0);
}
