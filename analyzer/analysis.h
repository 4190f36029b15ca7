/* analysis: one call that opens an image, indexes its layers, merges them
 * and measures waste: the model every view (report, CI text, TUI) reads. */
#ifndef WH_ANALYSIS_H
#define WH_ANALYSIS_H

#include "analyzer/source.h"
#include "analyzer/layer_index.h"
#include "analyzer/tree.h"
#include "analyzer/waste.h"

struct analysis_opts {
	const char *platform;
	int jobs;                     /* 0: the number of cores */
	int tls_no_verify;            /* --tls-verify=false */
	struct index_progress progress;
};

struct analysis {
	struct wh_image img;
	struct wh_tree tree;  /* the final filesystem, children sorted by name */
	struct waste waste;
};

int analysis_run(const char *ref, const struct analysis_opts *opts, struct analysis *a, struct wh_error *err);
void analysis_free(struct analysis *a);

#endif
