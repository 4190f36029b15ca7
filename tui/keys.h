/* keys: the explorer's keys as data. One table drives the dispatch
 * (tui.c), the key bar (tui.c) and the help popup (help.c); a man page
 * can be generated from it too. Each row: the key codes, where they work
 * (a pane, everywhere, or the packages overlay), when the key bar shows
 * them, the help section and line, the key bar's label, and the action
 * (an id: tui.c holds the functions). */
#ifndef WH_KEYS_H
#define WH_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* The focusable panes (the Tab order), and two places a key can work. */
enum tui_pane {
	PANE_LAYERS,
	PANE_TREE,
	PANE_IMAGE,
	N_PANES,
	PANE_ANY = N_PANES, /* every pane (the keys checked before the focused pane's) */
	PANE_PACKAGES,      /* the packages overlay, while it is open */
};

/* When the key bar shows a key (the dispatch does not look at it). */
enum key_mode { KM_ALWAYS, KM_SLIM, KM_NOT_SLIM };

/* The help popup's sections, in order. */
enum key_section { KS_EVERYWHERE, KS_LAYERS, KS_TREE, KS_SLIM, KS_PACKAGES, KS_IMAGE, KS_COLOURS, KS_COUNT };

enum key_action {
	KA_NONE,       /* documentation only */
	KA_QUIT,
	KA_PANE_CYCLE, /* Tab: next pane, Shift+Tab: previous */
	KA_HELP,
	KA_SEARCH,
	KA_SEARCH_NEXT,/* n: next match, N: previous */
	KA_FILTER,
	KA_ATTRS,
	KA_SORT,
	KA_CLEAR,      /* Esc: clear the filter and the search */
	KA_MOUSE,
	KA_SLIM,       /* s: the slim view on or off */
	KA_WRITE,
	KA_PACKAGES,   /* p: open the packages overlay */
	KA_UNDO,
	KA_KEEP_DROP,  /* x */
	KA_AGGREGATED,
	KA_PER_LAYER,
	KA_PANE_KEY,   /* the focused pane's own key (moves, folds, hides) */
	KA_OVERLAY_KEY,/* the packages overlay's own key */
	KA_ROOT,       /* e: edit the entrypoint and cmd slimming starts from */
	KA_SAVE,       /* K: save the keeps and drops as a --keep-from file */
	KA_INFO,       /* i: the file type; in the slim view the detail view */
	KA_DETAILS,    /* I: focus the image details */
	KA_PROBE,      /* r: run a probe typed at a prompt */
	KA_UNCERTAIN,  /* U: the uncertain list in full */
	KA_FORGET_PROBE, /* R: forget the last probe (the others run again) */
	KA_COUNT
};

/* flags */
enum {
	KF_OVER_HELP = 1,     /* also works over the help popup (quit) */
	KF_OVER_PACKAGES = 2, /* also works over the packages overlay */
};

#define KEYS_MAX 11
/* key codes (crt.h: a character, CRT_CTRL(c), CRT_K_*; Ctrl+Space is 0), ended by CRT_KEY_NONE */
#define KEYS(...) {__VA_ARGS__, CRT_KEY_NONE}

struct tui_key {
	int keys[KEYS_MAX];
	uint8_t pane;            /* enum tui_pane: where the keys work */
	uint8_t mode;            /* enum key_mode: when the key bar shows them */
	uint8_t section;         /* enum key_section */
	uint8_t flags;           /* KF_* */
	uint8_t action;          /* enum key_action */
	uint8_t bar_pos;         /* the key bar's order (1 first), 0: not on it */
	const char *help_keys;   /* the help line: the keys as a reader names them ("Ctrl+F"), */
	const char *help;        /* and what they do; NULL: not in the help */
	const char *bar_keys;    /* the key bar: "^F", */
	const char *bar;         /* "filter" */
};

extern const struct tui_key tui_keys[];
extern const size_t tui_n_keys;
/* Section headings (the last one a note without keys). */
extern const char *const tui_key_sections[KS_COUNT];

/* Does row e list key code k? */
int keys_has(const struct tui_key *e, int k);

/* The row that handles key k, or NULL (the key does nothing). overlay:
 * 0 none, 1 the help popup (then only KF_OVER_HELP rows), 2 the packages
 * overlay (its rows, then the KF_OVER_PACKAGES ones). Otherwise the rows
 * of every pane, then the focused pane's. */
const struct tui_key *keys_find(int k, int focus, int overlay);

#endif
