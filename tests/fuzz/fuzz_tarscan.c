/* fuzz_tarscan: tarscan_open on an arbitrary outer archive, then lookups
 * (which follow symlinks and hard links between members). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/tarscan.h"
#include "fuzz.h"

int fuzz_tarscan(const uint8_t *data, size_t size)
{
	char path[512];
	snprintf(path, sizeof path, "%s/outer.tar", fuzz_tmpdir());
	fuzz_write_file(path, data, size);
	struct tar_index ti;
	struct wh_error err = {0};
	int rc = tarscan_open(path, &ti, &err);
	fuzz_report("tarscan_open", rc, err.msg);
	if (rc == 0) {
		for (size_t i = 0; i < ti.n; i++) {
			const struct tar_member *m = &ti.m[i];
			if (!m->name)
				abort();
			if (m->type == '0' && (m->offset > ti.archive_size || m->size > ti.archive_size - m->offset))
				abort(); /* a file member's data lies inside the archive */
			(void)tarscan_find(&ti, m->name);
		}
		(void)tarscan_find(&ti, "index.json");
		(void)tarscan_find(&ti, "manifest.json");
		(void)tarscan_find(&ti, "./blobs/sha256/x");
		tarscan_free(&ti);
	} else if (!err.msg[0]) {
		abort();
	}
	return 0;
}

WH_FUZZ_MAIN(fuzz_tarscan)
