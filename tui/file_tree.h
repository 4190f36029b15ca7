/* file_tree: the file tree pane. Shows one layer's tree (per layer: the
 * layer's changes against the stack below; aggregated: everything up to
 * the layer), built lazily and cached, with only the visible rows drawn
 * from a flattened row index that collapse and expand update in place. */
#ifndef WH_FILE_TREE_H
#define WH_FILE_TREE_H

#include <regex.h>
#include <stddef.h>

#include "analyzer/tree.h"
#include "tui/crt.h"

struct slim_view;

struct ft_row {
	struct wh_node *n;
	uint32_t depth;
};

struct file_tree {
	struct wh_tree t;
	int built;
	size_t layer;
	int aggregated;

	/* view options */
	int sort_size;   /* ctrl+o: by size (descending) instead of by name */
	int attrs;       /* ctrl+b: mode, uid:gid, size columns */
	int hide[4];     /* by enum wh_change: unchanged, added, modified, removed */
	int fold_all;    /* ctrl+space: directories collapsed unless toggled */

	/* the flattened visible rows */
	struct ft_row *rows;
	size_t nrows, cap;
	size_t cur, top;
	int page;        /* rows shown by the last draw */

	regex_t filter;
	int has_filter;
	char filter_src[256];
	regex_t search;
	int has_search;
	char search_src[256];
	size_t match_no, n_matches; /* the cursor's match (1-based, 0: not on one) */

	int show_type;   /* i: the file type of the entry under the cursor */
	const struct wh_node *type_node;
	char type_text[512];
	char msg[256];   /* a one-off note (e.g. "no match") */

	/* s: the slim view (the final tree with what slimming keeps), or NULL */
	const struct slim_view *slim;
};

void file_tree_init(struct file_tree *ft);
void file_tree_free(struct file_tree *ft);
/* Is this tree the one shown for (layer, aggregated)? */
int file_tree_is(const struct file_tree *ft, size_t layer, int aggregated);
/* Build (or keep) the tree of layer `layer`; keeps folds and the cursor by path. */
int file_tree_show(struct file_tree *ft, struct wh_image *img, size_t layer, int aggregated, struct wh_error *err);
void file_tree_draw(struct file_tree *ft, const struct wh_image *img, struct crt_rect r, int focused);
/* A key for the pane; returns 1 when it was one of the pane's. */
int file_tree_key(struct file_tree *ft, const struct wh_image *img, int key);
/* Options that also come from other panes. */
void file_tree_toggle_sort(struct file_tree *ft);
void file_tree_toggle_attrs(struct file_tree *ft);
/* Set ("" clears) the regex filter; on a bad regex returns -1 with a message in ft->msg. */
int file_tree_set_filter(struct file_tree *ft, const char *re);
/* Set ("" clears) the search and jump to the first match at or after the cursor. */
int file_tree_set_search(struct file_tree *ft, const char *re);
/* Jump to the next (dir 1) or previous (-1) match, expanding what hides it. */
void file_tree_search_next(struct file_tree *ft, int dir);
/* The node under the cursor, or NULL. */
struct wh_node *file_tree_cursor(const struct file_tree *ft);
/* Mouse: a click on screen row y of the pane last drawn in r, a wheel step. */
void file_tree_click(struct file_tree *ft, struct crt_rect r, int y);
void file_tree_scroll(struct file_tree *ft, int delta);

#endif
