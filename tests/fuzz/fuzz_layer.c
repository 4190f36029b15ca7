/* fuzz_layer: layer_index_one on an arbitrary layer blob (any compression
 * libarchive sniffs, then tar), written to a scratch file. A bogus diff_id
 * makes every complete read end in a diff_id mismatch: what matters is that
 * every input returns (0 or an error with a message), never crashes, leaks
 * or hangs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/layer_index.h"
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
	layer_entries_free(&l);
	return 0;
}

WH_FUZZ_MAIN(fuzz_layer)
