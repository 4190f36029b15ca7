/* slim_write: the slimmed image's one layer. A tar of the plan's entries,
 * in plan (path) order, written reproducibly: pax_restricted (a pax header
 * only when an entry needs one), no atime or ctime, numeric owners with
 * empty names, whole-second mtimes (clamped to SOURCE_DATE_EPOCH when
 * given), xattrs and file capabilities from the source. File contents are
 * streamed again from the source layers (layer_stream, digests verified)
 * into an unlinked spool file, then written in path order; the blob digest
 * and the diff_id are computed while writing. */
#ifndef WH_SLIM_WRITE_H
#define WH_SLIM_WRITE_H

#include <signal.h>
#include <stdint.h>

#include "slim_plan.h"

/* Set (by a signal handler) to stop a write: every loop checks it and
 * returns WH_EINTR. slim_image_write installs such a handler itself. */
extern volatile sig_atomic_t slim_interrupted;

enum slim_compression { SLIM_COMP_NONE, SLIM_COMP_GZIP, SLIM_COMP_ZSTD };

#define SLIM_ZSTD_LEVEL 3

struct slim_layer_opts {
	enum slim_compression compression;
	int clamp_mtime;           /* clamp mtimes to sde */
	int64_t sde;               /* SOURCE_DATE_EPOCH */
	const char *spool_dir;     /* where the content spool lives (unlinked at once); "." when NULL */
};

struct slim_layer {
	char digest[WH_DIGEST_LEN];  /* sha256 of the blob as stored */
	char diff_id[WH_DIGEST_LEN]; /* sha256 of the uncompressed tar */
	uint64_t size;               /* blob bytes */
	uint64_t tar_size;           /* uncompressed tar bytes */
	const char *media_type;      /* OCI layer media type for the compression */
};

/* Parse "gzip", "zstd", "none". */
int slim_compression_parse(const char *s, enum slim_compression *out);
const char *slim_compression_name(enum slim_compression c);

/* Write the layer blob of plan p (built from a) to fd. */
int slim_write_layer(const struct analysis *a, const struct slim_plan *p, const struct slim_layer_opts *o, int fd,
                     struct slim_layer *out, struct wh_error *err);

/* The value of SOURCE_DATE_EPOCH: 1 and *out when set and valid, 0 when
 * unset, negative (WH_EINPUT) when set but not a number. */
int slim_source_date_epoch(int64_t *out, struct wh_error *err);

/* Write all of buf to fd (EINTR retried, slim_interrupted honoured). */
int slim_write_all(int fd, const void *buf, size_t n, const char *what, struct wh_error *err);

#endif
