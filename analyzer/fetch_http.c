/* fetch_http: one libcurl handle per fetch with a body sink (a file,
 * hashed and bounded, or memory, capped), the limits every request gets
 * (a low-speed limit and the overall --timeout deadline), error bodies
 * turned into messages, and the WWW-Authenticate grammar (fetch.h). */
#include "analyzer/fetch_internal.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* --- limits ------------------------------------------------------------------------- */

static double timeout_s;         /* --timeout; 0: none */
static struct timespec deadline; /* when it ends (CLOCK_MONOTONIC) */

void fetch_set_timeout(double seconds)
{
	timeout_s = seconds > 0 ? seconds : 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)timeout_s;
	deadline.tv_nsec += (long)((timeout_s - (double)(time_t)timeout_s) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
}

/* The milliseconds left before the deadline in *ms (0: no deadline);
 * -1 when it has passed. */
static int deadline_left(long *ms)
{
	*ms = 0;
	if (timeout_s <= 0)
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long left = (long long)(deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
	if (left <= 0)
		return -1;
	*ms = (long)left;
	return 0;
}

/* Under FETCH_LOW_SPEED_BYTES bytes/s for FETCH_LOW_SPEED_SECS s aborts a
 * registry request; WHITTLE_LOW_SPEED=BYTES:SECONDS overrides both (for
 * tests). */
static void low_speed(long *bytes, long *secs)
{
	*bytes = FETCH_LOW_SPEED_BYTES;
	*secs = FETCH_LOW_SPEED_SECS;
	const char *e = getenv("WHITTLE_LOW_SPEED");
	long b, s;
	char tail;
	if (e && sscanf(e, "%ld:%ld%c", &b, &s, &tail) == 2 && b > 0 && s > 0) {
		*bytes = b;
		*secs = s;
	}
}

void http_registry_limits(struct http *x)
{
	long bytes, secs;
	low_speed(&bytes, &secs);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, bytes);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, secs);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}


void http_reset(struct http *x)
{
	free(x->www_auth);
	free(x->content_type);
	free(x->docker_digest);
	x->www_auth = x->content_type = x->docker_digest = NULL;
	x->status = 0;
	buf_free(&x->body);
	memset(&x->body, 0, sizeof x->body);
	x->written = 0;
	x->over_max = 0;
	x->write_errno = 0;
	x->too_big = 0;
	digest_free(&x->dg);
}

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t nl = strlen(name);
	if (n <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct http *x = ctx;
	size_t len = size * n;
	char *v;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after a redirect or 100): forget the last one's headers */
		free(x->www_auth);
		free(x->content_type);
		free(x->docker_digest);
		x->www_auth = x->content_type = x->docker_digest = NULL;
	} else if ((v = header_value(p, len, "WWW-Authenticate"))) {
		free(x->www_auth);
		x->www_auth = v;
	} else if ((v = header_value(p, len, "Content-Type"))) {
		free(x->content_type);
		x->content_type = v;
	} else if ((v = header_value(p, len, "Docker-Content-Digest"))) {
		free(x->docker_digest);
		x->docker_digest = v;
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct http *x = ctx;
	size_t len = size * n;
	if (!x->status)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status == 200 && x->fd >= 0) {
		if (x->fd_limited && len > x->fd_max - x->written) {
			x->over_max = 1;
			return 0; /* abort the transfer: more than the descriptor said */
		}
		size_t done = 0;
		while (done < len) {
			ssize_t w = write(x->fd, p + done, len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				x->write_errno = w < 0 ? errno : ENOSPC;
				return 0; /* abort the transfer */
			}
			done += (size_t)w;
		}
		if (x->hashing)
			digest_update(&x->dg, p, len);
		x->written += len;
		return len;
	}
	size_t max = x->status == 200 ? x->body_max : ERRBODY_MAX;
	if (x->body.len + len > max) {
		x->too_big = 1;
		return x->status == 200 ? 0 : len; /* an error page is only cut */
	}
	buf_append(&x->body, p, len);
	return len;
}

CURL *http_handle(struct http *x)
{
	pthread_once(&curl_once, curl_init_once);
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "whittle/" WH_VERSION);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (under 1 byte/s for 2 minutes) fails; an engine
	 * may think that long before its export starts (registries: tighter,
	 * http_registry_limits) */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	x->h = h;
	x->fd = -1;
	return h;
}

CURLcode http_get(struct http *x, const char *url, struct curl_slist *hdrs, int fd, int hash,
                         size_t body_max, char *errbuf)
{
	http_reset(x);
	x->fd = fd;
	x->hashing = hash;
	x->body_max = body_max;
	if (hash)
		digest_init(&x->dg);
	errbuf[0] = 0;
	long left_ms = 0;
	if (deadline_left(&left_ms) < 0) {
		snprintf(errbuf, CURL_ERROR_SIZE, "the --timeout of %g s has passed", timeout_s);
		return CURLE_OPERATION_TIMEDOUT;
	}
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, left_ms);
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode c = curl_easy_perform(x->h);
	long st = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
	x->status = st;
	if (c == CURLE_OPERATION_TIMEDOUT && left_ms && deadline_left(&left_ms) < 0)
		snprintf(errbuf, CURL_ERROR_SIZE, "the --timeout of %g s has passed", timeout_s);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, NULL);
	return c;
}

void http_free(struct http *x)
{
	http_reset(x);
	if (x->h)
		curl_easy_cleanup(x->h);
	x->h = NULL;
}

const char *http_curl_msg(CURLcode c, const char *errbuf)
{
	return errbuf && errbuf[0] ? errbuf : curl_easy_strerror(c);
}

void http_body_message(struct http *x, char *out, size_t outlen)
{
	out[0] = 0;
	if (!x->body.len)
		return;
	json_t *j = json_loadb((const char *)x->body.data, x->body.len, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	if (m) {
		snprintf(out, outlen, "%s", m);
	} else if (e0) {
		const char *code = json_string_value(json_object_get(e0, "code"));
		const char *msg = json_string_value(json_object_get(e0, "message"));
		snprintf(out, outlen, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	} else {
		size_t n = x->body.len < 200 ? x->body.len : 200;
		size_t k = 0;
		for (size_t i = 0; i < n && k + 1 < outlen; i++) {
			char c = (char)x->body.data[i];
			out[k++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : (isprint((unsigned char)c) ? c : '?');
		}
		out[k] = 0;
		while (k && out[k - 1] == ' ')
			out[--k] = 0;
	}
	json_decref(j);
}

/* --- WWW-Authenticate ------------------------------------------------------------- */

/* RFC 7230 3.2.6: tchar */
static int tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int fetch_bearer_challenge(const char *h, char **realm, char **service, char **scope)
{
	*realm = *service = *scope = NULL;
	/* RFC 7235 2.1 (a list of challenges, RFC 7230 7 for the commas):
	 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
	 *   auth-param = token BWS "=" BWS ( token / quoted-string )
	 * A list element that is "token BWS =" and a value is a parameter of
	 * the current challenge; any other token starts a new challenge. */
	const char *p = h;
	int cur = -1, bearer_seen = 0, bad = 0;
	while (!bad) {
		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (!*p)
			break;
		const char *t = p;
		while (tchar(*p) || *p == '/') /* '/': token68 */
			p++;
		size_t tl = (size_t)(p - t);
		const char *q = skip_ows(p);
		if (!tl) {
			bad = 1;
			break;
		}
		if (*q == '=' && cur >= 0 && (*skip_ows(q + 1) == '"' || tchar(*skip_ows(q + 1)))) {
			/* an auth-param; names are case-insensitive, each once a challenge */
			q = skip_ows(q + 1);
			struct buf v = {0};
			if (*q == '"') {
				/* quoted-string, with quoted-pairs (RFC 7230 3.2.6) */
				for (q++; *q && *q != '"'; q++) {
					if (*q == '\\' && q[1])
						q++;
					buf_append(&v, q, 1);
				}
				if (*q != '"') {
					buf_free(&v);
					bad = 1;
					break;
				}
				q++;
			} else {
				const char *vs = q;
				while (tchar(*q))
					q++;
				buf_append(&v, vs, (size_t)(q - vs));
			}
			buf_append(&v, "", 1);
			char **slot = NULL;
			if (cur == 1 && tl == 5 && !strncasecmp(t, "realm", 5))
				slot = realm;
			else if (cur == 1 && tl == 7 && !strncasecmp(t, "service", 7))
				slot = service;
			else if (cur == 1 && tl == 5 && !strncasecmp(t, "scope", 5))
				slot = scope;
			if (slot && !*slot)
				*slot = (char *)v.data;
			else
				buf_free(&v);
			p = skip_ows(q);
			if (*p && *p != ',')
				bad = 1;
			continue;
		}
		if (cur >= 0 && (*q == '=' || !*q || *q == ',')) {
			/* token68 ("abc==") */
			while (*q == '=')
				q++;
			p = skip_ows(q);
			if (*p && *p != ',')
				bad = 1;
			continue;
		}
		/* a new challenge: the first Bearer one is ours */
		if (cur == 1)
			bearer_seen = 1;
		cur = !bearer_seen && tl == 6 && !strncasecmp(t, "Bearer", 6);
		p = q;
	}
	if (cur == 1)
		bearer_seen = 1;
	if (!bearer_seen) {
		free(*service);
		free(*scope);
		*service = *scope = NULL;
		return bad ? -1 : 0;
	}
	if (bad || !*realm || !**realm) {
		free(*realm);
		free(*service);
		free(*scope);
		*realm = *service = *scope = NULL;
		return -1;
	}
	return 1;
}

