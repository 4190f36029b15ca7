/* fetch_internal: what the fetch_*.c files share (not for other modules):
 * the HTTP sink, the spool, the size limits. */
#ifndef WH_FETCH_INTERNAL_H
#define WH_FETCH_INTERNAL_H

#include <stdint.h>
#include <curl/curl.h>
#include <jansson.h>

#include "analyzer/digest.h"
#include "analyzer/fetch.h"

#define ERRBODY_MAX (64u << 10)

struct http {
	CURL *h;
	/* this response */
	long status;
	char *www_auth, *content_type, *docker_digest;
	/* body sink: fd (status 200 only) with a digest, else memory */
	int fd;
	struct digest_ctx dg;
	int hashing;
	uint64_t written;
	int fd_limited;   /* fd sink: stop past fd_max bytes */
	uint64_t fd_max;
	int over_max;     /* the fd sink passed fd_max */
	int write_errno;
	struct buf body;
	size_t body_max;
	int too_big;      /* the memory sink passed body_max */
};

/* A handle with whittle's options (user agent, limits, protocols). */
CURL *http_handle(struct http *x);
/* A registry's tighter low-speed limit (fetch.h). */
void http_registry_limits(struct http *x);
/* One GET; the body goes to fd (when 200 and fd >= 0; hashed when hash)
 * or to x->body (at most body_max bytes of a 200 answer). The overall
 * deadline (fetch_set_timeout) and the low-speed limit apply; errbuf
 * (CURL_ERROR_SIZE) says why a transfer failed. */
CURLcode http_get(struct http *x, const char *url, struct curl_slist *hdrs, int fd, int hash, size_t body_max,
                  char *errbuf);
void http_reset(struct http *x);
void http_free(struct http *x);
const char *http_curl_msg(CURLcode c, const char *errbuf);
/* The message of an error body (engine {"message"}, registry {"errors"}). */
void http_body_message(struct http *x, char *out, size_t outlen);

/* 64 lower-case hex digits: an image ID, never a name. */
int fetch_ref_is_identifier(const char *s, size_t n);

/* A new spool directory in $TMPDIR (tmpfiles.h: locked, registered). */
int fetch_spool_new(char **out, struct wh_error *err);

#endif
