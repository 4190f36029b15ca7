#include "analyzer/analysis.h"

#include <string.h>
#include <unistd.h>

int analysis_run(const char *ref, const struct analysis_opts *opts, struct analysis *a, struct wh_error *err)
{
	memset(a, 0, sizeof *a);
	struct wh_open_opts oo = {.platform = opts ? opts->platform : NULL, .tls_no_verify = opts ? opts->tls_no_verify : 0};
	int rc = image_open(ref, &oo, &a->img, err);
	if (rc < 0)
		return rc;
	int jobs = opts && opts->jobs > 0 ? opts->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	rc = layer_index_all(&a->img, jobs, opts ? &opts->progress : NULL, err);
	if (rc == 0)
		rc = tree_build(&a->tree, &a->img, a->img.n_layers ? a->img.n_layers - 1 : 0, 0, err);
	if (rc == 0) {
		tree_sort_by_name(&a->tree);
		rc = waste_compute(&a->img, &a->tree, &a->waste, err);
	}
	if (rc < 0)
		analysis_free(a);
	return rc;
}

void analysis_free(struct analysis *a)
{
	waste_free(&a->waste);
	tree_free(&a->tree);
	for (size_t i = 0; i < a->img.n_layers; i++)
		layer_entries_free(&a->img.layers[i]);
	image_free(&a->img);
}
