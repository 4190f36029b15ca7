/* waste: where the space goes. dive's figures (efficiency, wasted bytes,
 * user wasted percent, inefficient files) computed as dive computes them,
 * and the exact ones dive does not give (reclaimable bytes, duplicates). */
#ifndef WH_WASTE_H
#define WH_WASTE_H

#include "analyzer/tree.h"

struct waste_file {
	char *path;         /* absolute */
	uint32_t count;     /* layers it appears in */
	uint64_t size;      /* cumulative bytes over those layers */
};

struct waste_dup {
	uint64_t size;        /* one copy */
	uint64_t wasted;      /* size * (copies - 1) */
	char **paths;         /* sorted */
	size_t n_paths;
};

struct waste {
	uint64_t size_bytes;        /* all layers: sum of regular file sizes */
	uint64_t visible_bytes;     /* the final filesystem */
	uint64_t reclaimable_bytes; /* size_bytes - visible_bytes */
	uint64_t file_count;        /* entries of the final filesystem */
	double efficiency;          /* dive's score */
	uint64_t wasted_bytes;      /* dive's */
	double user_wasted_percent; /* dive's, a ratio 0..1 */
	struct waste_file *files;   /* inefficient files, by size desc then path */
	size_t n_files;
	struct waste_dup *dups;     /* by wasted desc then first path */
	size_t n_dups;
};

/* Needs the final tree built with tree_build(.., last layer, keep_removed=0),
 * which also gives every directory whiteout its dive size. */
int waste_compute(const struct wh_image *img, const struct wh_tree *final, struct waste *w, struct wh_error *err);
void waste_free(struct waste *w);

#endif
