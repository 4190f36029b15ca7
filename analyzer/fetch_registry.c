/* fetch_registry: an image in a registry (Docker Registry HTTP API v2,
 * OCI distribution) as an OCI layout in a spool, blobs on demand. */
#include "analyzer/fetch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/oci_layout.h"

static const char ACCEPT_MANIFESTS[] =
	"Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

struct fetch_registry {
	struct http x;
	char *ref;      /* as given, for messages: docker://REF */
	char *host;     /* as given (docker.io -> registry-1.docker.io) */
	char *repo;
	char *base;     /* SCHEME://HOST */
	char *token;    /* Bearer token, once one was needed */
	const char *spool; /* the layout blobs go to (the caller's string) */
	int cap_only;      /* this blob's limit is the cap: its descriptor gives no size */
	int tls_verify;
	char **manifests; /* digests that indexes list: fetched through /manifests/ */
	size_t n_manifests;
};

/* Answer a 401: Bearer -> ask the realm for an anonymous token. */
static int registry_auth(struct fetch_registry *r, const char *challenge, struct wh_error *err)
{
	char *realm, *service, *scope;
	int b = fetch_bearer_challenge(challenge, &realm, &service, &scope);
	if (b == 0)
		return wh_err(err, WH_EINPUT,
		              "docker://%s: the registry wants credentials (%.40s...), which whittle does not send; "
		              "copy the image with skopeo and open the copy",
		              r->ref, challenge);
	if (b < 0)
		return wh_err(err, WH_EINPUT, "docker://%s: a malformed Bearer challenge, or one without a realm: %.200s",
		              r->ref, challenge);
	if (!scope)
		scope = xasprintf("repository:%s:pull", r->repo);
	struct buf url = {0};
	buf_append(&url, realm, strlen(realm));
	char sep = strchr(realm, '?') ? '&' : '?';
	if (service) {
		char *e = curl_easy_escape(r->x.h, service, 0);
		char *q = xasprintf("%cservice=%s", sep, e);
		buf_append(&url, q, strlen(q));
		free(q);
		curl_free(e);
		sep = '&';
	}
	char *e = curl_easy_escape(r->x.h, scope, 0);
	char *q = xasprintf("%cscope=%s", sep, e);
	buf_append(&url, q, strlen(q));
	buf_append(&url, "", 1);
	free(q);
	curl_free(e);
	char eb[CURL_ERROR_SIZE];
	CURLcode c = http_get(&r->x, (char *)url.data, NULL, -1, 0, FETCH_SMALL_MAX, eb);
	int rc = 0;
	if (c != CURLE_OK && r->x.too_big) {
		rc = wh_err(err, WH_EINPUT,
		            "docker://%s: token service %s: the response is larger than %u MiB, the most whittle reads "
		            "for a token; stopped reading",
		            r->ref, realm, FETCH_SMALL_MAX >> 20);
	} else if (c != CURLE_OK) {
		rc = wh_err(err, WH_EINPUT, "docker://%s: token service %s: %s", r->ref, realm, http_curl_msg(c, eb));
	} else if (r->x.status != 200) {
		char m[512];
		http_body_message(&r->x, m, sizeof m);
		rc = wh_err(err, WH_EINPUT, "docker://%s: token service %s answered HTTP %ld%s%s", r->ref, realm,
		            r->x.status, m[0] ? ": " : "", m);
	} else {
		json_t *j = json_loadb((const char *)r->x.body.data, r->x.body.len, 0, NULL);
		const char *t = json_string_value(json_object_get(j, "token"));
		if (!t)
			t = json_string_value(json_object_get(j, "access_token"));
		if (!t || !*t)
			rc = wh_err(err, WH_EINPUT, "docker://%s: token service %s gave no token", r->ref, realm);
		else {
			free(r->token);
			r->token = xstrdup(t);
		}
		json_decref(j);
	}
	buf_free(&url);
	free(realm);
	free(service);
	free(scope);
	return rc;
}

/* GET PATH (after SCHEME://HOST) with auth; on 401 fetch a token once and retry. */
static int registry_get(struct fetch_registry *r, const char *path, const char *accept, int fd, int hash,
                        size_t body_max, struct wh_error *err)
{
	for (int attempt = 0;; attempt++) {
		struct curl_slist *h = NULL;
		if (accept)
			h = curl_slist_append(h, accept);
		char *auth = r->token ? xasprintf("Authorization: Bearer %s", r->token) : NULL;
		if (auth)
			h = curl_slist_append(h, auth);
		char *url = xasprintf("%s%s", r->base, path);
		if (fd >= 0 && (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)) {
			curl_slist_free_all(h);
			free(auth);
			free(url);
			return wh_err(err, WH_EINPUT, "docker://%s: spool: %s", r->ref, strerror(errno));
		}
		char eb[CURL_ERROR_SIZE];
		CURLcode c = http_get(&r->x, url, h, fd, hash, body_max, eb);
		curl_slist_free_all(h);
		free(auth);
		free(url);
		if (r->x.write_errno)
			return wh_err(err, WH_EINPUT, "docker://%s: writing the spool: %s", r->ref, strerror(r->x.write_errno));
		if (c != CURLE_OK && r->x.too_big)
			return wh_err(err, WH_EINPUT,
			              "docker://%s: %s: larger than %zu MiB, the most whittle reads for a manifest (the "
			              "distribution spec's limit); stopped reading",
			              r->ref, path, body_max >> 20);
		if (c != CURLE_OK && r->x.over_max && r->cap_only)
			return wh_err(err, WH_EINPUT,
			              "docker://%s: blob %s larger than %llu MiB, the most whittle reads for a manifest or "
			              "config (its descriptor gives no size); stopped reading there",
			              r->ref, strrchr(path, '/') + 1, (unsigned long long)(r->x.fd_max >> 20));
		if (c != CURLE_OK && r->x.over_max)
			return wh_err(err, WH_EINPUT,
			              "docker://%s: blob %s larger than its descriptor (%llu bytes); stopped reading there",
			              r->ref, strrchr(path, '/') + 1, (unsigned long long)r->x.fd_max);
		if (c != CURLE_OK)
			return wh_err(err, WH_EINPUT, "docker://%s: %s%s: %s", r->ref, r->base, path, http_curl_msg(c, eb));
		if (r->x.status == 401 && attempt == 0 && r->x.www_auth) {
			char *ch = xstrdup(r->x.www_auth);
			int rc = registry_auth(r, ch, err);
			free(ch);
			if (rc < 0)
				return rc;
			continue;
		}
		return 0;
	}
}

static int registry_status_error(struct fetch_registry *r, const char *what, struct wh_error *err)
{
	char m[512];
	http_body_message(&r->x, m, sizeof m);
	if (r->x.status == 401 || r->x.status == 403)
		return wh_err(err, WH_EINPUT, "docker://%s: %s: access denied (HTTP %ld%s%s); whittle pulls anonymously",
		              r->ref, what, r->x.status, m[0] ? ", " : "", m);
	return wh_err(err, WH_EINPUT, "docker://%s: %s: HTTP %ld%s%s", r->ref, what, r->x.status, m[0] ? ", " : "", m);
}

/* Is the body an index (OCI index or Docker manifest list)? */
static int is_index_body(json_t *j, const char *content_type)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	if (!mt)
		mt = content_type;
	if (mt && (strstr(mt, "application/vnd.oci.image.index.v1+json") ||
	           strstr(mt, "application/vnd.docker.distribution.manifest.list.v2+json")))
		return 1;
	return !mt && json_is_array(json_object_get(j, "manifests"));
}

static void note_manifests(struct fetch_registry *r, json_t *index)
{
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(index, "manifests"), i, d)
	{
		const char *dg = json_string_value(json_object_get(d, "digest"));
		if (!dg)
			continue;
		r->manifests = xrealloc(r->manifests, (r->n_manifests + 1) * sizeof *r->manifests);
		r->manifests[r->n_manifests++] = xstrdup(dg);
	}
}

/* Fetch a manifest or index by REF (tag or digest) into memory, verified.
 * out_digest: its digest; out_mt: its media type. */
static int fetch_manifest(struct fetch_registry *r, const char *refpart, const char *want_digest,
                          char out_digest[WH_DIGEST_LEN], char **out_mt, struct wh_error *err)
{
	char *path = xasprintf("/v2/%s/manifests/%s", r->repo, refpart);
	int rc = registry_get(r, path, ACCEPT_MANIFESTS, -1, 0, FETCH_SMALL_MAX, err);
	free(path);
	if (rc < 0)
		return rc;
	if (r->x.status == 404) {
		char m[512];
		http_body_message(&r->x, m, sizeof m);
		return wh_err(err, WH_EINPUT, "docker://%s: no manifest %s in %s on %s%s%s%s", r->ref, refpart, r->repo,
		              r->host, m[0] ? " (" : "", m, m[0] ? ")" : "");
	}
	if (r->x.status != 200)
		return registry_status_error(r, "manifest", err);
	digest_buf(r->x.body.data, r->x.body.len, out_digest);
	if (want_digest && strcmp(out_digest, want_digest))
		return wh_err(err, WH_EINPUT, "docker://%s: manifest %s: digest mismatch: got %s", r->ref, want_digest,
		              out_digest);
	if (!want_digest && r->x.docker_digest && digest_valid(r->x.docker_digest) &&
	    strcmp(r->x.docker_digest, out_digest))
		return wh_err(err, WH_EINPUT, "docker://%s: manifest digest mismatch: the registry says %s, got %s",
		              r->ref, r->x.docker_digest, out_digest);
	json_error_t je;
	json_t *j = json_loadb((const char *)r->x.body.data, r->x.body.len, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		return wh_err(err, WH_EINPUT, "docker://%s: manifest %s is not a JSON object", r->ref, out_digest);
	}
	json_t *sv = json_object_get(j, "schemaVersion");
	if (json_integer_value(sv) == 1) {
		json_decref(j);
		return wh_err(err, WH_EINPUT,
		              "docker://%s: a schema 1 manifest (deprecated, unsupported); push the image again with a "
		              "current client",
		              r->ref);
	}
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	int idx = is_index_body(j, r->x.content_type);
	if (!mt) {
		if (r->x.content_type && strstr(r->x.content_type, "application/vnd."))
			mt = r->x.content_type;
		else
			mt = idx ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json";
	}
	*out_mt = xstrndup(mt, strcspn(mt, "; "));
	if (idx)
		note_manifests(r, j);
	json_decref(j);
	return 0;
}

static int parse_registry_ref(struct fetch_registry *r, const char *ref, char **refpart, struct wh_error *err)
{
	struct fetch_ref fr;
	int rc = fetch_ref_parse(ref, &fr, err);
	if (rc < 0)
		return rc;
	/* NAME:TAG@DIGEST is pulled by the digest */
	*refpart = xstrdup(fr.digest ? fr.digest : fr.tag);
	r->host = fr.domain;
	r->repo = fr.path;
	free(fr.tag);
	free(fr.digest);
	return 0;
}

/* Find the scheme: https (verified unless tls_verify is 0); plain http
 * only when tls_verify is 0 and TLS cannot be spoken. */
static int registry_ping(struct fetch_registry *r, struct wh_error *err)
{
	const char *host = !strcmp(r->host, "docker.io") ? "registry-1.docker.io" : r->host;
	const char *schemes[2] = {"https", "http"};
	for (int i = 0; i < (r->tls_verify ? 1 : 2); i++) {
		free(r->base);
		r->base = xasprintf("%s://%s", schemes[i], host);
		char *url = xasprintf("%s/v2/", r->base);
		char eb[CURL_ERROR_SIZE];
		CURLcode c = http_get(&r->x, url, NULL, -1, 0, ERRBODY_MAX, eb);
		free(url);
		if (c == CURLE_OK) {
			if (r->x.status == 200 || r->x.status == 401)
				return 0;
			return wh_err(err, WH_EINPUT, "docker://%s: %s/v2/ answered HTTP %ld: not a registry (API v2)?",
			              r->ref, r->base, r->x.status);
		}
		int tls_trouble = c == CURLE_SSL_CONNECT_ERROR || c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR ||
		                  c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE ||
		                  c == CURLE_SSL_CERTPROBLEM || c == CURLE_GOT_NOTHING;
		if (i == 0 && tls_trouble && r->tls_verify)
			return wh_err(err, WH_EINPUT,
			              "docker://%s: no verified TLS connection to %s: %s; a registry that speaks plain HTTP "
			              "or has a certificate this host does not trust needs --tls-verify=false",
			              r->ref, host, http_curl_msg(c, eb));
		if (i == 0 && tls_trouble)
			continue;
		return wh_err(err, WH_EINPUT, "docker://%s: cannot reach the registry %s: %s", r->ref, host,
		              http_curl_msg(c, eb));
	}
	return wh_err(err, WH_EINPUT, "docker://%s: cannot reach the registry %s over HTTPS or HTTP", r->ref, host);
}

/* A spool that cannot be written is an image that cannot be read (exit 2). */
static int as_input(int rc, struct wh_error *err)
{
	if (rc < 0 && err)
		err->code = WH_EINPUT;
	return rc < 0 ? WH_EINPUT : 0;
}

/* The spool's OCI layout: the top manifest and an index naming it. */
static int spool_layout(const char *spool, const char *dg, const char *mt, const char *refpart,
                        const struct buf *body, struct wh_error *err)
{
	int rc = oci_layout_create(spool, 0700, err);
	if (rc == 0)
		rc = oci_layout_put_blob(spool, dg, body->data, body->len, err);
	if (rc == 0) {
		json_t *d = oci_layout_descriptor(mt, dg, body->len);
		rc = oci_layout_put_index(spool, d, refpart, err);
		json_decref(d);
	}
	return as_input(rc, err);
}

int fetch_registry_open(const char *ref, int tls_verify, char **spool, struct fetch_registry **reg,
                        struct wh_error *err)
{
	*spool = NULL;
	*reg = NULL;
	struct fetch_registry *r = xcalloc(1, sizeof *r);
	r->ref = xstrdup(ref);
	r->tls_verify = tls_verify;
	*reg = r;
	char *refpart = NULL, *mt = NULL;
	int rc = parse_registry_ref(r, ref, &refpart, err);
	if (rc < 0)
		goto out;
	if (!http_handle(&r->x)) {
		rc = wh_err(err, WH_EINPUT, "cannot start libcurl");
		goto out;
	}
	http_registry_limits(&r->x);
	curl_easy_setopt(r->x.h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(r->x.h, CURLOPT_MAXREDIRS, 10L);
	if (!tls_verify) {
		curl_easy_setopt(r->x.h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(r->x.h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = registry_ping(r, err);
	if (rc < 0)
		goto out;
	char dg[WH_DIGEST_LEN];
	rc = fetch_manifest(r, refpart, digest_valid(refpart) ? refpart : NULL, dg, &mt, err);
	if (rc < 0)
		goto out;
	rc = fetch_spool_new(spool, err);
	if (rc == 0)
		rc = spool_layout(*spool, dg, mt, refpart, &r->x.body, err);
	r->spool = *spool;
out:
	free(refpart);
	free(mt);
	if (r->x.h)
		http_reset(&r->x);
	return rc;
}

int fetch_registry_blob(struct fetch_registry *r, const char *digest, int64_t size, uint64_t cap,
                        struct wh_error *err)
{
	if (!digest_valid(digest))
		return wh_err(err, WH_EINPUT, "docker://%s: malformed digest \"%s\"", r->ref, digest);
	if (cap && size > 0 && (uint64_t)size > cap)
		return wh_err(err, WH_EINPUT,
		              "docker://%s: blob %s: its descriptor says %lld bytes, more than the %llu MiB whittle reads "
		              "for a manifest or config; not read",
		              r->ref, digest, (long long)size, (unsigned long long)(cap >> 20));
	int is_manifest = 0;
	for (size_t i = 0; i < r->n_manifests; i++)
		if (!strcmp(r->manifests[i], digest))
			is_manifest = 1;
	int rc;
	if (is_manifest) {
		char dg[WH_DIGEST_LEN];
		char *mt = NULL;
		rc = fetch_manifest(r, digest, digest, dg, &mt, err);
		free(mt);
		if (rc == 0)
			rc = as_input(oci_layout_put_blob(r->spool, digest, r->x.body.data, r->x.body.len, err), err);
		http_reset(&r->x);
		return rc;
	}
	char *part = xasprintf("%s/blobs/sha256/%s.part", r->spool, digest + 7);
	int fd = open(part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = wh_err(err, WH_EINPUT, "%s: %s", part, strerror(errno));
		free(part);
		return rc;
	}
	char *p = xasprintf("/v2/%s/blobs/%s", r->repo, digest);
	/* never more than the descriptor says (or the cap, when it says nothing) */
	r->x.fd_limited = size >= 0 || cap;
	r->x.fd_max = size >= 0 ? (uint64_t)size : cap;
	r->cap_only = size < 0;
	rc = registry_get(r, p, NULL, fd, 1, 0, err);
	r->x.fd_limited = 0;
	free(p);
	if (rc == 0 && r->x.status == 404)
		rc = wh_err(err, WH_EINPUT, "docker://%s: the registry has no blob %s in %s", r->ref, digest, r->repo);
	else if (rc == 0 && r->x.status != 200)
		rc = registry_status_error(r, digest, err);
	char got[WH_DIGEST_LEN] = "";
	if (r->x.dg.md)
		digest_final(&r->x.dg, NULL, got);
	if (rc == 0 && strcmp(got, digest))
		rc = wh_err(err, WH_EINPUT, "docker://%s: blob %s: digest mismatch: got %s (%llu bytes)", r->ref, digest,
		            got, (unsigned long long)r->x.written);
	if (close(fd) != 0 && rc == 0)
		rc = wh_err(err, WH_EINPUT, "%s: %s", part, strerror(errno));
	if (rc == 0)
		rc = as_input(oci_layout_put_blob_file(r->spool, digest, part, err), err);
	unlink(part); /* gone when renamed; else not wanted */
	free(part);
	http_reset(&r->x);
	return rc;
}

void fetch_registry_free(struct fetch_registry *r)
{
	if (!r)
		return;
	http_free(&r->x);
	free(r->ref);
	free(r->host);
	free(r->repo);
	free(r->base);
	free(r->token);
	for (size_t i = 0; i < r->n_manifests; i++)
		free(r->manifests[i]);
	free(r->manifests);
	free(r);
}
