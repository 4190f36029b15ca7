/* materialize: the image's merged filesystem, as the model (tree.h) has it,
 * written to a fresh 0700 directory under $TMPDIR so a sandbox can run the
 * image's own programs. File contents, xattrs (file capabilities included)
 * are read again from the layers (layer_stream, digests verified); owners
 * are shifted by a base for a user namespace's mapping; modes, mtimes,
 * hard links, FIFOs; no device nodes or sockets (the sandbox brings its own
 * /dev). Nothing of the image can make whittle write outside the
 * directory: every parent is opened with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from the
 * root's descriptor, the last component with O_NOFOLLOW/O_EXCL, and the
 * image's symlinks are created last, after every file and directory.
 *
 * Layout: DIR (0700; owned by the uid/gid base when one is given, so the
 * namespace's root can traverse it) holds "rootfs", the image's "/". */
#ifndef WH_MATERIALIZE_H
#define WH_MATERIALIZE_H

#include <stdint.h>

#include "analyzer/analysis.h"

struct mat_opts {
	const char *tmpdir;   /* NULL: $TMPDIR, else /tmp */
	int64_t uid_base;     /* -1: keep whittle's own ids (no chown); else image uid + base */
	int64_t gid_base;
	volatile int *stop;   /* set (by a signal handler) to stop: WH_EINTR, nothing left behind */
};

struct mat_stats {
	uint64_t files, dirs, symlinks, hardlinks, fifos;
	uint64_t skipped;        /* devices, sockets, hard links without a target */
	uint64_t xattr_failed;   /* xattrs the host refused (e.g. security.* as an ordinary user) */
	uint64_t bytes;          /* regular-file bytes written */
};

struct materialized {
	char *dir;       /* the 0700 directory (host path); NULL once removed */
	char *rootfs;    /* dir/rootfs */
	struct mat_stats st;
};

#define MAT_PREFIX "whittle-probe."

/* Write a's merged tree. On error nothing is left behind. */
int materialize(const struct analysis *a, const struct mat_opts *o, struct materialized *m,
                struct wh_error *err);

/* Remove the directory (recursive unlinkat, no symlink followed, never
 * leaving its file system) and free m. Safe to call twice. */
int materialize_remove(struct materialized *m, struct wh_error *err);

/* Remove name under dirfd recursively: no symlink is followed, no mount
 * point crossed (st_dev checked), read-only directories made writable
 * first. 0 or WH_EOUTPUT. */
int mat_rm_tree(int dirfd, const char *name, struct wh_error *err);

/* Remove the MAT_PREFIX directories under tmpdir (NULL: $TMPDIR or /tmp)
 * whose creator (the pid in the name) is gone: what a kill -9 left. */
void mat_remove_stale(const char *tmpdir);

#endif
