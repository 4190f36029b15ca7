/* fuzz_layer: layer_index_one on an arbitrary layer blob (any compression
 * libarchive sniffs, then tar), written to a scratch file. A bogus diff_id
 * makes every complete read end in a diff_id mismatch: what matters is that
 * every input returns (0 or an error with a message), never crashes, leaks
 * or hangs. The entries read are then merged (tree_build: symlinks written
 * through, whiteouts) and every path escaped and unescaped (util_escape
 * must give it back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/layer_index.h"
#include "analyzer/tree.h"
#include "fuzz.h"

int fuzz_layer(const uint8_t *data, size_t size)
{
	char path[512];
	snprintf(path, sizeof path, "%s/layer", fuzz_tmpdir());
	fuzz_write_file(path, data, size);

	struct wh_image img;
	struct wh_layer l;
	memset(&img, 0, sizeof img);
	memset(&l, 0, sizeof l);
	img.reference = "fuzz:layer";
	img.layers = &l;
	img.n_layers = 1;
	l.blob.file = path;
	l.blob.offset = 0;
	l.blob.length = size;
	snprintf(l.blob.name, sizeof l.blob.name, "fuzz-layer");
	snprintf(l.diff_id, sizeof l.diff_id, "sha256:%064d", 0);
	l.verify_digest = 0;
	uint64_t progress = 0;
	struct wh_error err = {0};
	int rc = layer_index_one(&img, &l, &progress, &err);
	fuzz_report("layer_index_one", rc, err.msg);
	if (rc < 0 && !err.msg[0])
		abort();
	for (size_t i = 0; i < l.n_entries; i++) {
		char *e = util_escape_dup(l.entries[i].path);
		size_t n = strlen(l.entries[i].path) + 1;
		char *back = malloc(n);
		if (!back || util_unescape(e, back, n) != (long)(n - 1) || memcmp(back, l.entries[i].path, n) != 0)
			abort(); /* the escaping must be reversible */
		free(back);
		free(e);
	}
	if (l.n_entries) {
		struct wh_tree t;
		struct wh_error e2 = {0};
		int trc = tree_build(&t, &img, 0, 0, &e2);
		fuzz_report("tree_build", trc, e2.msg);
		if (trc < 0 && !e2.msg[0])
			abort();
		if (trc == 0) {
			struct tree_truncated *tv;
			size_t tn = tree_truncated(&t, &tv);
			tree_truncated_free(tv, tn);
		}
		tree_free(&t);
	}
	layer_entries_free(&l);
	return 0;
}

WH_FUZZ_MAIN(fuzz_layer)
