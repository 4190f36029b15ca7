/* oci_layout: the one writer of OCI image layout directories
 * (image-spec image-layout.md: oci-layout, index.json, blobs/sha256/HEX),
 * used by fetch's registry spool and by the slimmer's oci: output.
 *
 * - Blobs are content-addressed: a blob is written to a temporary file in
 *   blobs/sha256, fsynced and renamed to its name. A file that already has
 *   that name is hashed first: reused when its digest matches, replaced
 *   when it does not (a corrupt or truncated leftover is never trusted).
 * - index.json is changed only under an exclusive flock on the lock file
 *   OCI_LAYOUT_LOCK inside the layout: read again under the lock, the new
 *   descriptor added (replacing the one of the same tag), written to a
 *   temporary file, fsynced and renamed. Concurrent whittle runs writing
 *   tags into one layout therefore never lose one another's tags. The lock
 *   guards against other whittle runs only: skopeo, umoci and others do
 *   not take it.
 *
 * Errors are WH_EOUTPUT and name the file and why. JSON is written
 * compact with sorted keys. */
#ifndef WH_OCI_LAYOUT_H
#define WH_OCI_LAYOUT_H

#include <stddef.h>
#include <jansson.h>

#include "analyzer/util.h"

#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_REF_NAME "org.opencontainers.image.ref.name"
#define OCI_LAYOUT_LOCK ".whittle-index.lock"

/* Make DIR (mode MODE; it may exist and be empty), blobs/sha256 and the
 * oci-layout file. No index.json yet. */
int oci_layout_create(const char *dir, unsigned mode, struct wh_error *err);

/* Is DIR an OCI layout (oci-layout and index.json present)? */
int oci_layout_is(const char *dir);

/* A descriptor {mediaType, digest, size} (new reference). */
json_t *oci_layout_descriptor(const char *media_type, const char *digest, size_t size);

/* Put the bytes DATA (whose digest is DIGEST) as a blob. */
int oci_layout_put_blob(const char *dir, const char *digest, const void *data, size_t len, struct wh_error *err);

/* Put the file SRC (already written and fsynced, on DIR's file system,
 * its digest DIGEST) as a blob: renamed into place unless a matching blob
 * is there already (then SRC is left as it is). */
int oci_layout_put_blob_file(const char *dir, const char *digest, const char *src, struct wh_error *err);

/* Under the layout's lock: read index.json (a new index when there is
 * none), add DESC (tagged TAG when not NULL; skopeo's rule: the tag moves
 * from any older entry, an untagged entry of the same digest is
 * replaced), write it back by rename. DESC is not consumed. */
int oci_layout_put_index(const char *dir, json_t *desc, const char *tag, struct wh_error *err);

/* fsync a file or directory by its path (EINVAL, a file system that
 * cannot, is no error). */
int oci_layout_fsync(const char *path, struct wh_error *err);

/* The index text a new layout with DESC alone gets (as put_index writes
 * it); free it. */
char *oci_layout_index_text(json_t *desc, const char *tag);

#endif
