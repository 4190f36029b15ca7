/* slim_image: the slimmed image as a whole. Config (the source's run
 * settings, one squashed layer, the source's history marked empty_layer
 * plus one entry for whittle, a label naming the source's config digest),
 * OCI manifest, and the output transports oci:DIR[:TAG],
 * oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG]. Stages: check
 * the destination (never inside the input, symlinks resolved; an existing
 * one only with --force), stage the layer, config and manifest as an OCI
 * layout in a temporary directory beside the destination (tmpfiles.h:
 * removed on error and by the signal handlers of cli/ and tui/), package
 * it as oci / oci-archive / docker-archive, read it back and verify it
 * with whittle's own reader, run the before_commit hook on it (the
 * probes' proof), commit (rename; or add to an existing oci: layout
 * through oci_layout, under its lock). JSON is compact with
 * sorted keys. */
#ifndef WH_SLIM_IMAGE_H
#define WH_SLIM_IMAGE_H

#include "slimmer/slim_plan.h"
#include "slimmer/slim_write.h"

#define SLIM_LABEL_SOURCE "org.whittle.source-image-id"

struct slim_image_opts {
	const char *output;        /* transport reference of the destination */
	const char *compression;   /* "gzip" | "zstd" | "none"; NULL: gzip for OCI, none for docker-archive */
	int force;                 /* replace an existing destination file */
	int jobs;                  /* threads for the verification read (never changes the output) */
	struct slim_progress progress; /* slim_write.h: re-reading, writing, packing, verifying */
	/* Run on the staged output once it is verified, before the commit
	 * stage (NULL: none; the proof of probe_verify.h): staged_ref is its
	 * transport reference. A negative return commits nothing (the staged
	 * output is removed) and is slim_image_write's. */
	int (*before_commit)(void *ctx, const char *staged_ref, struct wh_error *err);
	void *before_commit_ctx;
};

struct slim_result {
	char *output;                       /* the destination reference as written */
	char *format;                       /* "oci", "oci-archive", "docker-archive" */
	char manifest_digest[WH_DIGEST_LEN];
	char config_digest[WH_DIGEST_LEN];
	struct slim_layer layer;
	enum slim_compression compression;  /* of the layer */
	uint64_t visible_bytes;             /* regular-file bytes of the output (= plan kept_bytes) */
	uint64_t entries;                   /* entries of the output layer */
};

/* Write the plan as an image to o->output and verify it. Returns 0,
 * WH_EINPUT (bad destination or options), WH_EOUTPUT (writing or
 * verification failed). */
int slim_image_write(struct analysis *a, const struct slim_plan *p, const struct slim_image_opts *o,
                     struct slim_result *r, struct wh_error *err);
void slim_result_free(struct slim_result *r);

/* The default destination: "oci-archive:DIR/NAME-slim.tar" beside the
 * input (NAME = the input's file name without ".tar"); for an engine or
 * registry source, "oci-archive:NAME-slim.tar" in the current directory
 * (NAME = the repository's last component, or 12 hex of an ID). Caller frees. */
char *slim_default_output(const struct wh_image *img);

/* The config and manifest as written (for tests): JSON text, compact,
 * sorted keys. created: the source's, or SOURCE_DATE_EPOCH when have_sde. */
char *slim_config_json(const struct analysis *a, const struct slim_plan *p, const struct slim_layer *l,
                       int have_sde, int64_t sde);

#endif
