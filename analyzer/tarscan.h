/* tarscan: an index of the members of an uncompressed outer archive
 * (docker-archive, oci-archive), so blobs inside it can be read at random
 * offsets, in parallel, without extracting anything. */
#ifndef WH_TARSCAN_H
#define WH_TARSCAN_H

#include <stdint.h>
#include <stddef.h>
#include "analyzer/util.h"

struct tar_member {
	char *name;      /* normalized: no leading "/" or "./" */
	uint64_t offset; /* of the data in the archive */
	uint64_t size;
	char type;       /* '0' file, '5' dir, '2' symlink, '1' hard link */
	char *link;      /* link target for '1'/'2' */
};

struct tar_index {
	struct tar_member *m;
	size_t n;
	uint64_t archive_size;
};

/* Index the archive at path (a host file given by the user). */
int tarscan_open(const char *path, struct tar_index *ti, struct wh_error *err);
/* Find a member by name (leading "./" or "/" ignored; symlinks and hard
 * links to other members followed). NULL if absent. */
const struct tar_member *tarscan_find(const struct tar_index *ti, const char *name);
void tarscan_free(struct tar_index *ti);

#endif
