/* tree_model: the file tree pane's rows, without drawing (no curses).
 * One layer's tree (per layer: the layer's changes against the stack
 * below, removed entries kept; aggregated: everything up to the layer),
 * each node's display change (a directory takes its children's), the
 * hidden kinds, the regex filter (ancestors of matches stay), the search
 * (matches marked, next / previous, revealing folded ones), the folds,
 * the sort (name, or size descending), and the cursor. The rows are the
 * visible nodes flattened in tree order; folding and unfolding update
 * them in place. The tree is the model's own, so it uses the nodes' mark
 * byte. file_tree.c draws it. */
#ifndef WH_TREE_MODEL_H
#define WH_TREE_MODEL_H

#include <regex.h>
#include <stddef.h>

#include "analyzer/tree.h"

struct tm_row {
	struct wh_node *n;
	uint32_t depth;      /* 0: a child of the root */
};

struct tree_model {
	struct wh_tree t;
	int built;
	size_t layer;
	int aggregated;

	int sort_size;       /* by size (descending) instead of by name */
	int hide[4];         /* by enum wh_change: unchanged, added, modified, removed */
	int fold_all;        /* directories collapsed unless toggled */

	struct tm_row *rows; /* the visible rows */
	size_t nrows, cap;
	size_t cur;          /* the cursor's row */

	regex_t filter;
	int has_filter;
	char filter_src[256];
	regex_t search;
	int has_search;
	char search_src[256];
	size_t match_no, n_matches; /* the cursor's match (1-based, 0: not on one), of how many */

	char msg[256];       /* a one-off note ("no match for /x/", "bad regex: ...") */
};

void tree_model_init(struct tree_model *m);
void tree_model_free(struct tree_model *m);

/* Is the model showing (layer, aggregated)? */
int tree_model_is(const struct tree_model *m, size_t layer, int aggregated);
/* Build the tree of layer `layer` (aggregated or per layer), keeping the
 * folds and the cursor by path (or the cursor's nearest ancestor that
 * exists there). Returns 0 or tree_build's error. */
int tree_model_show(struct tree_model *m, struct wh_image *img, size_t layer, int aggregated, struct wh_error *err);

/* Set ("" clears) the filter / the search (extended regexes on the
 * absolute path). A bad regex: -1 and m->msg says why. Setting a search
 * moves the cursor to the first match at or after it. */
int tree_model_set_filter(struct tree_model *m, const char *re);
int tree_model_set_search(struct tree_model *m, const char *re);
/* The next (dir 1) or previous (-1) match, wrapping, unfolding what hides it. */
void tree_model_search_next(struct tree_model *m, int dir);

void tree_model_toggle_sort(struct tree_model *m);
/* Hide or show the nodes of one kind (enum wh_change). */
void tree_model_toggle_hide(struct tree_model *m, int kind);
/* Collapse every directory, or expand every one when all are collapsed. */
void tree_model_toggle_fold_all(struct tree_model *m);

/* The cursor: move by delta rows (clamped); on a row. */
void tree_model_move(struct tree_model *m, long delta);
void tree_model_set_cursor(struct tree_model *m, size_t row);
/* Left: collapse the cursor's directory, or go to its parent. Right:
 * expand it. Fold: collapse or expand it. */
void tree_model_left(struct tree_model *m);
void tree_model_right(struct tree_model *m);
void tree_model_fold(struct tree_model *m);
/* The node under the cursor, or NULL. */
struct wh_node *tree_model_cursor(const struct tree_model *m);

/* For drawing a row: the node's display change (enum wh_change), whether
 * it is a collapsed directory, whether a later sibling is shown, whether
 * it matches the search. */
int tree_model_kind(const struct wh_node *n);
int tree_model_collapsed(const struct tree_model *m, const struct wh_node *n);
int tree_model_has_next_visible(const struct wh_node *n);
int tree_model_matches(const struct tree_model *m, const struct wh_node *n);

#endif
