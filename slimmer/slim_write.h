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

#include <stddef.h>
#include <stdint.h>

#include "slimmer/slim_plan.h"

enum slim_compression { SLIM_COMP_NONE, SLIM_COMP_GZIP, SLIM_COMP_ZSTD };

#define SLIM_ZSTD_LEVEL 3

/* Progress of a write, in the shape of the indexer's struct index_progress.
 * Phases, in order: SLIM_PHASE_READ (the source layers that hold kept
 * contents, xattrs or device numbers, read again: layer is the one being
 * read, 0-based, of the n_layers read again; bytes are regular-file bytes
 * of those layers' tars), SLIM_PHASE_WRITE (the output tar: bytes of file
 * content written, of all the plan's), SLIM_PHASE_PACK (oci-archive and
 * docker-archive only: the blobs copied into the archive), SLIM_PHASE_VERIFY
 * (the output read back: blob bytes). Outside READ, layer is 0 and n_layers
 * 1 (the one output layer). */
enum slim_phase { SLIM_PHASE_READ, SLIM_PHASE_WRITE, SLIM_PHASE_PACK, SLIM_PHASE_VERIFY };

struct slim_progress {
	/* called on the writing thread, at most ~10/s, and once at the start
	 * of each phase; cb NULL: no progress. Never changes the output. */
	void (*cb)(void *ctx, enum slim_phase phase, size_t layer, size_t n_layers, uint64_t bytes_done,
	           uint64_t bytes_total);
	void *ctx;
};

/* "re-reading layer 2/5", "writing the layer", "packing the archive",
 * "verifying" (layer shown 1-based). Returns buf. */
char *slim_phase_label(char *buf, size_t n, enum slim_phase phase, size_t layer, size_t n_layers);

/* The writers' rate limit: calls p->cb on a phase change at once, else at
 * most every 100 ms; bytes_done is clamped to bytes_total. */
struct slim_ticker {
	const struct slim_progress *p;
	int phase;                 /* -1 before the first call */
	int64_t last_ns;           /* CLOCK_MONOTONIC of the last call */
};
void slim_ticker_init(struct slim_ticker *t, const struct slim_progress *p);
void slim_tick(struct slim_ticker *t, enum slim_phase phase, size_t layer, size_t n_layers, uint64_t bytes_done,
               uint64_t bytes_total);

struct slim_layer_opts {
	enum slim_compression compression;
	int clamp_mtime;           /* clamp mtimes to sde */
	int64_t sde;               /* SOURCE_DATE_EPOCH */
	const char *spool_dir;     /* where the content spool lives (unlinked at once); "." when NULL */
	struct slim_progress progress; /* READ and WRITE phases */
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

/* Write all of buf to fd (EINTR retried). */
int slim_write_all(int fd, const void *buf, size_t n, const char *what, struct wh_error *err);

#endif
