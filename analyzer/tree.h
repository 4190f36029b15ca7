/* tree: layers merged with OCI whiteout semantics into one filesystem
 * tree, with each node's change against the layers below. */
#ifndef WH_TREE_H
#define WH_TREE_H

#include "analyzer/source.h"

enum wh_change {
	WH_C_NONE = 0,     /* present, unchanged by the last layer */
	WH_C_ADDED,
	WH_C_MODIFIED,     /* type, content, mode, owner or link target changed */
	WH_C_REMOVED,      /* only kept in a tree built with keep_removed */
};

/* 64 bytes. Leaner is possible: the name could be derived from e->path and
 * the three links packed as 32-bit indexes into a node array. */
struct wh_node {
	struct wh_node *parent, *child, *next;
	const struct wh_entry *e;  /* the top-most entry; NULL for a directory no layer lists */
	const char *name;          /* basename; "" for the root */
	uint64_t size;             /* regular file: its size; directory: the sum beneath */
	uint32_t nfiles;           /* directory: nodes beneath (all types) */
	uint16_t layer;            /* layer of e */
	uint16_t changed;          /* layer that last added, changed or removed it */
	uint8_t change;            /* enum wh_change, as of layer `changed` */
	uint8_t type;              /* enum wh_ftype (WH_T_DIR for implicit directories) */
	uint8_t in_layer;          /* listed by the last applied layer */
	uint8_t mark;              /* enum wh_mark on the analysis tree; free for a view's own tree */
};

/* Bits of wh_node.mark on an analysis's final tree, shared by reach (which
 * computes the keep set) and the slimmer (which reads it and marks what
 * goes out). A view that builds a tree of its own may use mark freely. */
enum wh_mark {
	WH_MARK_KEEP = 1,    /* in the keep set (reach_compute, or the CLI's choice) */
	WH_MARK_OUT = 0x80,  /* in the slimmed image (slim_plan_build's output) */
};

struct wh_tree {
	struct wh_node *root;
	size_t upto;           /* last layer applied */
	size_t n_nodes;        /* live nodes, the root excluded */
	struct arena arena;
	struct wh_node **slots; /* hash of (parent, name) */
	size_t nslots, used;
};

/* Apply layers 0..upto. keep_removed: nodes that layer `upto` removes stay
 * in the tree marked WH_C_REMOVED (for a per-layer view). When upto is the
 * last layer and keep_removed is 0, each layer's added/modified/removed
 * counts are stored in img->layers[]. */
int tree_build(struct wh_tree *t, struct wh_image *img, size_t upto, int keep_removed, struct wh_error *err);
void tree_free(struct wh_tree *t);

/* The change of n relative to layer `layer` (WH_C_NONE when unchanged there). */
static inline enum wh_change tree_change_at(const struct wh_node *n, size_t layer)
{
	return n->changed == layer ? (enum wh_change)n->change : WH_C_NONE;
}

/* Find a path without following symlinks ("" or "/" is the root). */
struct wh_node *tree_lookup(const struct wh_tree *t, const char *path);
/* Find a child by name. */
struct wh_node *tree_child(const struct wh_tree *t, const struct wh_node *dir, const char *name);
/* Absolute path of a node ("/usr/bin/ls"; "/" for the root). */
size_t tree_path(const struct wh_node *n, char *out, size_t len);

/* Sort every directory's children by name (byte order), or by any order (stable). */
void tree_sort_by_name(struct wh_tree *t);
void tree_sort(struct wh_tree *t, int (*cmp)(const struct wh_node *a, const struct wh_node *b));
/* Depth-first, parents before children, in child order. Return non-zero from fn to stop. */
int tree_walk(struct wh_node *root, int (*fn)(void *ctx, struct wh_node *n, int depth), void *ctx);

/* The visible files whose content a cap cut short (WH_F_TRUNCATED), by size
 * descending then path: the report's image.truncated. */
struct tree_truncated {
	char *path;        /* absolute */
	uint64_t size;     /* the file's size */
	uint64_t captured; /* the bytes the analysis kept */
};
size_t tree_truncated(const struct wh_tree *t, struct tree_truncated **out);
void tree_truncated_free(struct tree_truncated *v, size_t n);

#endif
