/* fetch: images that cannot be read in place -- an engine's export
 * (docker-daemon:, a bare NAME:TAG) and a registry (docker://) -- are
 * copied into a private spool directory (mkdtemp under $TMPDIR) and then
 * read by the ordinary readers: the engine's `docker save` stream becomes a
 * docker-archive file, a registry's manifests and blobs become an OCI
 * layout (written by oci_layout). The spool lives as long as the image
 * (image_free removes it); it is made by tmpfiles, so an interrupt removes
 * it too (tmpfiles_cleanup_signal) and a later run removes one a killed
 * run left.
 *
 * The files: fetch_ref.c (reference grammar), fetch_http.c (libcurl,
 * limits, WWW-Authenticate), fetch_engine.c, fetch_registry.c,
 * fetch_spool.c; fetch_internal.h is what they share.
 *
 * Limits against a registry or engine that misbehaves: a blob is read up
 * to its descriptor's size and no further ("blob larger than its
 * descriptor"); manifests, configs and token responses up to
 * FETCH_SMALL_MAX; a registry request that moves under
 * FETCH_LOW_SPEED_BYTES bytes/s for FETCH_LOW_SPEED_SECS seconds is
 * aborted (an engine's, under 1 byte/s for 120 s: it may think before
 * its export starts) (the environment
 * variable WHITTLE_LOW_SPEED=BYTES:SECONDS overrides both, for tests);
 * fetch_set_timeout sets an overall deadline for every request. */
#ifndef WH_FETCH_H
#define WH_FETCH_H

#include <stdint.h>

#include "analyzer/util.h"

#define FETCH_SMALL_MAX (4u << 20) /* the distribution spec's manifest limit */
#define FETCH_LOW_SPEED_BYTES 1024L
#define FETCH_LOW_SPEED_SECS 30L

/* An overall deadline, SECONDS from now, for every request that follows
 * (--timeout); 0: none (the default). */
void fetch_set_timeout(double seconds);

/* Engine: export NAME (NAME:TAG, NAME@DIGEST, sha256:ID or an ID) through
 * the Docker/Podman engine API on $DOCKER_HOST (default
 * unix:///var/run/docker.sock; tcp://HOST:PORT is plain HTTP) into a new
 * spool. *spool: the directory; *archive: the docker-archive in it. Both
 * are set (and the spool registered) as soon as the spool exists, so the
 * caller removes it with fetch_spool_remove also on error. */
int fetch_engine(const char *name, char **spool, char **archive, struct wh_error *err);

/* Does a bare argument (not an existing path) look like an engine image
 * reference? Yes for a reference fetch_ref_parse takes (NAME[:TAG][@DIGEST])
 * and for sha256:ID, sha256:ID-PREFIX and a 64-hex ID; no for what looks
 * like a path: a leading '/' or '.', a trailing '/', a name ending in
 * .tar, .tar.gz, .tgz, .tar.zst or .json. */
int fetch_is_engine_ref(const char *s);

/* The engine API path that exports NAME: "/images/NAME/get", NAME
 * percent-encoded (RFC 3986) but for its slashes. Free it. */
char *fetch_engine_path(const char *name);

/* An image reference split as the Docker reference grammar does
 * (github.com/distribution/reference, ParseNormalizedNamed): "ubuntu" is
 * docker.io, library/ubuntu, tag latest; the part before the first '/' is
 * a registry host when it is localhost, or has a '.', a ':' or an upper
 * case letter; index.docker.io is docker.io. */
struct fetch_ref {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* "library/ubuntu", "a/b" */
	char *tag;    /* the tag given; "latest" when neither tag nor digest is; else NULL */
	char *digest; /* "sha256:..." or NULL (only sha256 digests are taken) */
};
/* 0, or negative with err (may be NULL) saying "docker://S: what is wrong". */
int fetch_ref_parse(const char *s, struct fetch_ref *ref, struct wh_error *err);
void fetch_ref_free(struct fetch_ref *ref);

/* A WWW-Authenticate value (RFC 7235 2.1: a list of challenges, each a
 * scheme with auth-params, values a token or a quoted-string): 1 when it
 * has a Bearer challenge (RFC 6750 3) with a realm -- *realm set, *service
 * and *scope set when present, else NULL; all three to free --, 0 when
 * it has no Bearer challenge, -1 when the Bearer challenge has no realm
 * or the value is malformed (all three NULL then). Scheme and parameter
 * names are case-insensitive. */
int fetch_bearer_challenge(const char *h, char **realm, char **service, char **scope);

/* Registry (Docker Registry HTTP API v2, OCI distribution): REF is
 * "HOST/REPO[:TAG|@DIGEST]" (without "docker://"). The top manifest (an
 * image manifest or an index, written as-is) is fetched and verified, and
 * an OCI layout is started in a new spool: oci-layout and index.json
 * pointing at it. Every other blob (nested indexes and manifests, config,
 * layers) is fetched on demand with fetch_registry_blob, so only the
 * platform the reader picks is downloaded. tls_verify = 0 allows an
 * unverified certificate and plain HTTP. Anonymous token auth (a Bearer
 * challenge) is handled. *spool and *reg are set as in fetch_engine. */
struct fetch_registry;
int fetch_registry_open(const char *ref, int tls_verify, char **spool, struct fetch_registry **reg,
                        struct wh_error *err);
/* Fetch the blob DIGEST of the opened repository into the spool's layout
 * (blobs/sha256/HEX, by oci_layout; a layer streams to a part file, its
 * digest verified as it arrives, then renamed). SIZE: the
 * descriptor's size (-1: unknown); reading stops past it (an error naming
 * the blob). CAP: the most bytes this kind of blob may have (0: no cap;
 * FETCH_SMALL_MAX for manifests and configs); a larger SIZE is refused
 * unread. Manifests the fetched indexes list go through the manifests
 * endpoint, the rest through the blobs endpoint. */
int fetch_registry_blob(struct fetch_registry *reg, const char *digest, int64_t size, uint64_t cap,
                        struct wh_error *err);
void fetch_registry_free(struct fetch_registry *reg);

/* Remove a spool directory and everything in it, and unregister it. */
void fetch_spool_remove(const char *dir);

#endif
