/* layer_index: read each layer once, as a stream (blob -> decompress ->
 * tar), verify its digest and diff_id, and record its entries with what
 * later analysis needs. Layers may be read in parallel; results do not
 * depend on the number of jobs. */
#ifndef WH_LAYER_INDEX_H
#define WH_LAYER_INDEX_H

#include "analyzer/source.h"

struct index_progress {
	/* called from worker threads, serialized by the indexer, at most ~10/s */
	void (*cb)(void *ctx, size_t layers_done, size_t n_layers, uint64_t bytes_done, uint64_t bytes_total);
	void *ctx;
};

int layer_index_all(struct wh_image *img, int jobs, const struct index_progress *prog, struct wh_error *err);
/* Index one layer (used by layer_index_all and the tests). */
int layer_index_one(struct wh_image *img, struct wh_layer *l, uint64_t *bytes_done_atomic, struct wh_error *err);
void layer_entries_free(struct wh_layer *l);

/* Which files have their whole content kept during the index pass. */
int layer_index_wants_content(const char *path);

/* Stream a layer's tar again (e.g. for writing), verifying digests; the
 * callback sees each entry and may read its data with archive_read_data. */
struct archive;
struct archive_entry;
typedef int (*layer_visit_fn)(void *ctx, struct archive *a, struct archive_entry *e, const char *norm_path);
int layer_stream(const struct wh_layer *l, layer_visit_fn fn, void *ctx, struct wh_error *err);

#endif
