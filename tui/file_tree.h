/* file_tree: the file tree pane: draws its model (tui/tree_model.h: one
 * layer's tree, built lazily and cached, the rows, folds, filter, search
 * and sort) with only the visible rows drawn, the columns, the details
 * line, and the slim view's markers; maps the pane's keys to the model. */
#ifndef WH_FILE_TREE_H
#define WH_FILE_TREE_H

#include <stddef.h>

#include "analyzer/tree.h"
#include "tui/crt.h"
#include "tui/tree_model.h"

struct slim_view;

struct file_tree {
	struct tree_model m;

	/* view options */
	int attrs;       /* ctrl+b: mode, uid:gid, size columns */
	size_t top;      /* the first row shown */
	int page;        /* rows shown by the last draw */
	int head;        /* lines above the rows (the slim view's uncertain list) in the last draw */

	int show_type;   /* i: the file type of the entry under the cursor */
	const struct wh_node *type_node;
	char type_text[512];

	/* s: the slim view (the final tree with what slimming keeps), or NULL */
	const struct slim_view *slim;
};

void file_tree_init(struct file_tree *ft);
void file_tree_free(struct file_tree *ft);
/* Build (or keep) the tree of layer `layer` (tree_model_show), the cursor
 * kept as far from the pane's top as it was. */
int file_tree_show(struct file_tree *ft, struct wh_image *img, size_t layer, int aggregated, struct wh_error *err);
void file_tree_draw(struct file_tree *ft, const struct wh_image *img, struct crt_rect r, int focused);
/* A key for the pane; returns 1 when it was one of the pane's. */
int file_tree_key(struct file_tree *ft, const struct wh_image *img, int key);
void file_tree_toggle_attrs(struct file_tree *ft);
/* Mouse: a click on screen row y of the pane last drawn in r, a wheel step. */
void file_tree_click(struct file_tree *ft, struct crt_rect r, int y);
void file_tree_scroll(struct file_tree *ft, int delta);

#endif
