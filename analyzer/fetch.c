/* fetch: copy an engine's image or a registry's blobs into a spool
 * directory that the ordinary readers open (see fetch.h). */
#include "fetch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "digest.h"

#define MANIFEST_MAX (4u << 20)
#define ERRBODY_MAX (64u << 10)

/* --- spools ------------------------------------------------------------------------ */

#define MAX_SPOOLS 8
static char spool_paths[MAX_SPOOLS][PATH_MAX];
static volatile sig_atomic_t spool_used[MAX_SPOOLS];

struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Remove NAME under DIRFD, recursively; only system calls, so that a
 * signal handler may use it. */
static void rm_at(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return;
	if (depth > 16)
		return;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	char b[4096] __attribute__((aligned(8)));
	for (;;) {
		long n = syscall(SYS_getdents64, fd, b, sizeof b);
		if (n <= 0)
			break;
		int removed = 0;
		for (long off = 0; off < n;) {
			struct dirent64_raw *d = (struct dirent64_raw *)(void *)(b + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
				continue;
			rm_at(fd, d->d_name, depth + 1);
			removed = 1;
		}
		if (removed)
			lseek(fd, 0, SEEK_SET); /* entries were removed under the cursor: read again */
	}
	close(fd);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void spool_rm(const char *dir)
{
	int e = errno;
	rm_at(AT_FDCWD, dir, 0);
	errno = e;
}

/* A signal that would end the process where it stands (SIGTERM, SIGHUP,
 * SIGPIPE from a closed report pipe) removes the spools first; only
 * signals nobody else handles are taken (cli and tui own SIGINT). */
static void on_fatal_signal(int sig)
{
	fetch_spool_cleanup_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void spool_guard_signals(void)
{
	static const int sigs[] = {SIGTERM, SIGHUP, SIGPIPE, SIGQUIT};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) {
			struct sigaction sa;
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = on_fatal_signal;
			sigemptyset(&sa.sa_mask);
			sigaction(sigs[i], &sa, NULL);
		}
	}
}

static int spool_new(char **out, struct wh_error *err)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	char *tpl = xasprintf("%s/whittle-spool.XXXXXX", tmp);
	if (strlen(tpl) >= PATH_MAX || !mkdtemp(tpl)) {
		int rc = wh_err(err, WH_EINPUT, "cannot make a spool directory in %s: %s (set TMPDIR)", tmp,
		                strerror(errno));
		free(tpl);
		return rc;
	}
	int slot = -1;
	for (int i = 0; i < MAX_SPOOLS; i++)
		if (!spool_used[i]) {
			slot = i;
			break;
		}
	if (slot < 0) {
		rmdir(tpl);
		free(tpl);
		return wh_err(err, WH_EINPUT, "more than %d images spooled at once", MAX_SPOOLS);
	}
	snprintf(spool_paths[slot], PATH_MAX, "%s", tpl);
	spool_used[slot] = 1;
	spool_guard_signals();
	*out = tpl;
	return 0;
}

void fetch_spool_remove(const char *dir)
{
	if (!dir)
		return;
	for (int i = 0; i < MAX_SPOOLS; i++)
		if (spool_used[i] && !strcmp(spool_paths[i], dir)) {
			spool_used[i] = 0;
			break;
		}
	spool_rm(dir);
}

void fetch_spool_cleanup_signal(void)
{
	for (int i = 0; i < MAX_SPOOLS; i++)
		if (spool_used[i]) {
			spool_used[i] = 0;
			spool_rm(spool_paths[i]);
		}
}

/* --- HTTP ---------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

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
	int write_errno;
	struct buf body;
	size_t body_max;
	int too_big;
};

static void http_reset(struct http *x)
{
	free(x->www_auth);
	free(x->content_type);
	free(x->docker_digest);
	x->www_auth = x->content_type = x->docker_digest = NULL;
	x->status = 0;
	buf_free(&x->body);
	memset(&x->body, 0, sizeof x->body);
	x->written = 0;
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

static CURL *http_handle(struct http *x)
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
	/* a stalled transfer (under 1 byte/s for 2 minutes) fails */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	x->h = h;
	x->fd = -1;
	return h;
}

/* One GET; the body goes to fd (when 200 and fd >= 0) or to x->body. */
static CURLcode http_get(struct http *x, const char *url, struct curl_slist *hdrs, int fd, int hash,
                         size_t body_max, char *errbuf)
{
	http_reset(x);
	x->fd = fd;
	x->hashing = hash;
	x->body_max = body_max;
	if (hash)
		digest_init(&x->dg);
	errbuf[0] = 0;
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode c = curl_easy_perform(x->h);
	long st = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
	x->status = st;
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, NULL);
	return c;
}

static void http_free(struct http *x)
{
	http_reset(x);
	if (x->h)
		curl_easy_cleanup(x->h);
	x->h = NULL;
}

static const char *curl_msg(CURLcode c, const char *errbuf)
{
	return errbuf && errbuf[0] ? errbuf : curl_easy_strerror(c);
}

/* The message of an error body: Docker engine {"message"}, registry {"errors":[{code,message}]}. */
static void body_message(struct http *x, char *out, size_t outlen)
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

/* --- references ---------------------------------------------------------------------- */

/* The Docker reference grammar (github.com/distribution/reference,
 * regexp.go and normalize.go):
 *   reference      := name [ ":" tag ] [ "@" digest ]
 *   name           := [domain "/"] path-component ["/" path-component]*
 *   domain         := host [":" port]; host := domain-name | "[" IPv6 "]"
 *   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component := [a-z0-9]+ ( ([._] | "__" | "-"+) [a-z0-9]+ )*
 *   tag            := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * and the name at most 255 characters. */
#define REF_NAME_MAX 255

static int lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int path_component_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		size_t a = i;
		while (i < n && lower_alnum(s[i]))
			i++;
		if (i == a)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return 0;
	}
}

static int domain_ok(const char *s, size_t n)
{
	size_t i = 0;
	if (n && s[0] == '[') {
		i = 1;
		while (i < n && (isxdigit((unsigned char)s[i]) || s[i] == ':'))
			i++;
		if (i == 1 || i >= n || s[i] != ']')
			return 0;
		i++;
	} else {
		for (;;) {
			size_t a = i;
			while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-'))
				i++;
			if (i == a || s[a] == '-' || s[i - 1] == '-')
				return 0;
			if (i < n && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return 1;
	if (s[i++] != ':')
		return 0;
	size_t p = i;
	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	return i > p && i == n;
}

static int tag_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 128 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

/* 64 lower-case hex digits: an image ID, never a name (normalize.go) */
static int is_identifier(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

void fetch_ref_free(struct fetch_ref *ref)
{
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof *ref);
}

int fetch_ref_parse(const char *s, struct fetch_ref *ref, struct wh_error *err)
{
	memset(ref, 0, sizeof *ref);
	const char *why = NULL;
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	size_t end = at ? (size_t)(at - s) : n; /* name[:tag] */
	if (at && !digest_valid(at + 1)) {
		int rc = wh_err(err, WH_EINPUT, "docker://%s: \"%s\" is not a sha256 digest", s, at + 1);
		return rc;
	}
	if (is_identifier(s, n))
		why = "a 64-hex image ID is not a repository name";
	/* the tag's ':' comes after the last '/', a port's before the first */
	const char *name = s, *tag = NULL;
	size_t name_end = end;
	for (size_t i = end; i-- > 0 && s[i] != '/';)
		if (s[i] == ':') {
			name_end = i;
			tag = s + i + 1;
			break;
		}
	/* splitDockerDomain: the part before the first '/' is a domain when it
	 * is localhost, has a '.' or ':', or has an upper-case letter; else
	 * the name is on Docker Hub, whose one-part names are library/NAME */
	const char *slash = memchr(s, '/', name_end);
	const char *path = s;
	if (slash) {
		size_t hl = (size_t)(slash - s);
		int dom = (hl == 9 && !strncmp(s, "localhost", 9)) || memchr(s, '.', hl) || memchr(s, ':', hl);
		for (size_t i = 0; i < hl && !dom; i++)
			dom = isupper((unsigned char)s[i]);
		if (dom) {
			ref->domain = xstrndup(s, hl);
			path = slash + 1;
			if (!domain_ok(s, hl) && !why)
				why = "not a registry host[:port]";
		}
	}
	if (!ref->domain || !strcmp(ref->domain, "index.docker.io")) {
		free(ref->domain);
		ref->domain = xstrdup("docker.io");
	}
	size_t pl = (size_t)(name + name_end - path);
	int hub = !strcmp(ref->domain, "docker.io") && !memchr(path, '/', pl);
	/* the limit is on the canonical name, DOMAIN/PATH (reference.go) */
	if (!why && strlen(ref->domain) + 1 + (hub ? 8 : 0) + pl > REF_NAME_MAX)
		why = "the name is longer than 255 characters";
	for (size_t i = 0; i < pl && !why; i++)
		if (isupper((unsigned char)path[i]))
			why = "the repository name must be lower case";
	for (size_t i = 0, c = 0; i <= pl && !why; i++)
		if (i == pl || path[i] == '/') {
			if (!path_component_ok(path + c, i - c))
				why = "not HOST/REPO[:TAG|@DIGEST]: a repository path component is empty or malformed";
			c = i + 1;
		}
	char *tg = tag ? xstrndup(tag, (size_t)(s + end - tag)) : NULL;
	if (!why && tg && !tag_ok(tg))
		why = "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'";
	if (why) {
		free(tg);
		fetch_ref_free(ref);
		return wh_err(err, WH_EINPUT, "docker://%s: %s", s, why);
	}
	ref->path = hub ? xasprintf("library/%.*s", (int)pl, path) : xstrndup(path, pl);
	ref->tag = tg ? tg : at ? NULL : xstrdup("latest");
	ref->digest = at ? xstrdup(at + 1) : NULL;
	return 0;
}

/* --- the engine ---------------------------------------------------------------------------- */

static int engine_name_ok(const char *s)
{
	if (!*s || strlen(s) > 512)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-/:@", *p))
			return 0;
	return 1;
}

int fetch_is_engine_ref(const char *s)
{
	if (!engine_name_ok(s) || s[0] == '/' || s[0] == '.')
		return 0;
	size_t n = strlen(s);
	static const char *const exts[] = {".tar", ".tar.gz", ".tgz", ".tar.zst", ".json"};
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		size_t el = strlen(exts[i]);
		if (n > el && !strcmp(s + n - el, exts[i]))
			return 0;
	}
	/* sha256:ID and a bare 64-hex ID name an image by its ID (the engine
	 * also takes a prefix of one: sha256:abc) */
	if (!strncmp(s, "sha256:", 7) && s[7] && strspn(s + 7, "0123456789abcdef") == n - 7)
		return 1;
	if (is_identifier(s, n))
		return 1;
	struct fetch_ref r;
	if (fetch_ref_parse(s, &r, NULL) < 0)
		return 0;
	fetch_ref_free(&r);
	return 1;
}

char *fetch_engine_path(const char *name)
{
	/* RFC 3986 2.3: unreserved characters stay, the rest is %XX (2.1:
	 * upper-case hex); '/' too stays: the engine routes /images/{name}/get
	 * with slashes in the name */
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = {0};
	buf_append(&b, "/images/", 8);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p)) {
			buf_append(&b, p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_append(&b, e, 3);
		}
	}
	buf_append(&b, "/get", 5);
	return (char *)b.data;
}

static int engine_endpoint(char **host_desc, char **sock, char **base, struct wh_error *err)
{
	const char *dh = getenv("DOCKER_HOST");
	if (!dh || !*dh)
		dh = "unix:///var/run/docker.sock";
	*host_desc = xstrdup(dh);
	*sock = NULL;
	if (!strncmp(dh, "unix://", 7)) {
		if (!dh[7])
			return wh_err(err, WH_EINPUT, "DOCKER_HOST=%s: no socket path", dh);
		*sock = xstrdup(dh + 7);
		*base = xstrdup("http://localhost");
		return 0;
	}
	if (!strncmp(dh, "tcp://", 6) || !strncmp(dh, "http://", 7)) {
		const char *hp = strstr(dh, "://") + 3;
		size_t n = strlen(hp);
		while (n && hp[n - 1] == '/')
			n--;
		*base = xasprintf("http://%.*s", (int)n, hp);
		return 0;
	}
	return wh_err(err, WH_EINPUT,
	              "DOCKER_HOST=%s: only unix:///PATH and tcp://HOST:PORT (plain HTTP) engines are supported", dh);
}

int fetch_engine(const char *name, char **spool, char **archive, struct wh_error *err)
{
	*spool = NULL;
	*archive = NULL;
	if (!engine_name_ok(name))
		return wh_err(err, WH_EINPUT, "docker-daemon:%s: not an image name or ID", name);
	char *desc = NULL, *sock = NULL, *base = NULL;
	struct http x;
	memset(&x, 0, sizeof x);
	int fd = -1, rc = engine_endpoint(&desc, &sock, &base, err);
	if (rc < 0)
		goto out;
	rc = spool_new(spool, err);
	if (rc < 0)
		goto out;
	*archive = xasprintf("%s/image.tar", *spool);
	fd = open(*archive, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = wh_err(err, WH_EINPUT, "%s: %s", *archive, strerror(errno));
		goto out;
	}
	if (!http_handle(&x)) {
		rc = wh_err(err, WH_EINPUT, "cannot start libcurl");
		goto out;
	}
	if (sock)
		curl_easy_setopt(x.h, CURLOPT_UNIX_SOCKET_PATH, sock);
	char *epath = fetch_engine_path(name);
	char *url = xasprintf("%s%s", base, epath);
	free(epath);
	char eb[CURL_ERROR_SIZE];
	CURLcode c = http_get(&x, url, NULL, fd, 0, 0, eb);
	free(url);
	if (x.write_errno) {
		rc = wh_err(err, WH_EINPUT, "docker-daemon:%s: writing the spool %s: %s", name, *archive,
		            strerror(x.write_errno));
	} else if (c != CURLE_OK && (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || !x.status)) {
		/* curl names "localhost port 80" for a socket: say what is wrong with the socket */
		struct stat st;
		const char *why = curl_msg(c, eb);
		if (sock && stat(sock, &st) != 0)
			why = "no such socket";
		else if (sock && !S_ISSOCK(st.st_mode))
			why = "not a socket";
		else if (sock)
			why = "connection refused (nothing listens on the socket, or no permission)";
		rc = wh_err(err, WH_EINPUT,
		            "cannot reach the engine at %s: %s (is Docker or Podman running there? DOCKER_HOST names "
		            "another)",
		            desc, why);
	} else if (c != CURLE_OK) {
		rc = wh_err(err, WH_EINPUT, "docker-daemon:%s: the engine at %s: %s", name, desc, curl_msg(c, eb));
	} else if (x.status != 200) {
		char m[512];
		body_message(&x, m, sizeof m);
		if (x.status == 404)
			rc = wh_err(err, WH_EINPUT, "docker-daemon:%s: no such image in the engine at %s%s%s%s", name,
			            desc, m[0] ? " (" : "", m, m[0] ? ")" : "");
		else
			rc = wh_err(err, WH_EINPUT, "docker-daemon:%s: the engine at %s answered HTTP %ld%s%s", name, desc,
			            x.status, m[0] ? ": " : "", m);
	} else if (fsync(fd) != 0 && errno != EINVAL) {
		rc = wh_err(err, WH_EINPUT, "%s: %s", *archive, strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
	http_free(&x);
	free(desc);
	free(sock);
	free(base);
	return rc;
}

/* --- the registry ----------------------------------------------------------------------- */

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
	int tls_verify;
	char **manifests; /* digests that indexes list: fetched through /manifests/ */
	size_t n_manifests;
};

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
	CURLcode c = http_get(&r->x, (char *)url.data, NULL, -1, 0, 1u << 20, eb);
	int rc = 0;
	if (c != CURLE_OK) {
		rc = wh_err(err, WH_EINPUT, "docker://%s: token service %s: %s", r->ref, realm, curl_msg(c, eb));
	} else if (r->x.status != 200) {
		char m[512];
		body_message(&r->x, m, sizeof m);
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
			return wh_err(err, WH_EINPUT, "docker://%s: %s is larger than %zu bytes", r->ref, path, body_max);
		if (c != CURLE_OK)
			return wh_err(err, WH_EINPUT, "docker://%s: %s%s: %s", r->ref, r->base, path, curl_msg(c, eb));
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
	body_message(&r->x, m, sizeof m);
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

static int write_small(const char *path, const void *p, size_t n, struct wh_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return wh_err(err, WH_EINPUT, "%s: %s", path, strerror(errno));
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, (const char *)p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : ENOSPC;
			close(fd);
			return wh_err(err, WH_EINPUT, "%s: %s", path, strerror(e));
		}
		done += (size_t)w;
	}
	if (close(fd) != 0)
		return wh_err(err, WH_EINPUT, "%s: %s", path, strerror(errno));
	return 0;
}

/* Fetch a manifest or index by REF (tag or digest) into memory, verified.
 * out_digest: its digest; out_mt: its media type. */
static int fetch_manifest(struct fetch_registry *r, const char *refpart, const char *want_digest,
                          char out_digest[WH_DIGEST_LEN], char **out_mt, struct wh_error *err)
{
	char *path = xasprintf("/v2/%s/manifests/%s", r->repo, refpart);
	int rc = registry_get(r, path, ACCEPT_MANIFESTS, -1, 0, MANIFEST_MAX, err);
	free(path);
	if (rc < 0)
		return rc;
	if (r->x.status == 404) {
		char m[512];
		body_message(&r->x, m, sizeof m);
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
			              r->ref, host, curl_msg(c, eb));
		if (i == 0 && tls_trouble)
			continue;
		return wh_err(err, WH_EINPUT, "docker://%s: cannot reach the registry %s: %s", r->ref, host,
		              curl_msg(c, eb));
	}
	return wh_err(err, WH_EINPUT, "docker://%s: cannot reach the registry %s over HTTPS or HTTP", r->ref, host);
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
	rc = spool_new(spool, err);
	if (rc < 0)
		goto out;
	char *p = xasprintf("%s/blobs/sha256", *spool);
	char *p1 = xasprintf("%s/blobs", *spool);
	if (mkdir(p1, 0700) != 0 || mkdir(p, 0700) != 0)
		rc = wh_err(err, WH_EINPUT, "%s: %s", p, strerror(errno));
	free(p1);
	free(p);
	if (rc < 0)
		goto out;
	char *bp = xasprintf("%s/blobs/sha256/%s", *spool, dg + 7);
	rc = write_small(bp, r->x.body.data, r->x.body.len, err);
	free(bp);
	if (rc < 0)
		goto out;
	json_t *index = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "mediaType",
	                          "application/vnd.oci.image.index.v1+json", "manifests", "mediaType", mt, "digest", dg,
	                          "size", (json_int_t)r->x.body.len, "annotations", "org.opencontainers.image.ref.name",
	                          refpart);
	char *txt = json_dumps(index, JSON_COMPACT);
	json_decref(index);
	char *ip = xasprintf("%s/index.json", *spool);
	rc = write_small(ip, txt, strlen(txt), err);
	free(ip);
	free(txt);
	if (rc == 0) {
		static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		char *lp = xasprintf("%s/oci-layout", *spool);
		rc = write_small(lp, layout, sizeof layout - 1, err);
		free(lp);
	}
out:
	free(refpart);
	free(mt);
	if (r->x.h)
		http_reset(&r->x);
	return rc;
}

int fetch_registry_blob(struct fetch_registry *r, const char *digest, const char *path, struct wh_error *err)
{
	if (!digest_valid(digest))
		return wh_err(err, WH_EINPUT, "docker://%s: malformed digest \"%s\"", r->ref, digest);
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
			rc = write_small(path, r->x.body.data, r->x.body.len, err);
		http_reset(&r->x);
		return rc;
	}
	char *part = xasprintf("%s.part", path);
	int fd = open(part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = wh_err(err, WH_EINPUT, "%s: %s", part, strerror(errno));
		free(part);
		return rc;
	}
	char *p = xasprintf("/v2/%s/blobs/%s", r->repo, digest);
	rc = registry_get(r, p, NULL, fd, 1, 0, err);
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
	if (rc == 0 && rename(part, path) != 0)
		rc = wh_err(err, WH_EINPUT, "%s: %s", path, strerror(errno));
	if (rc < 0)
		unlink(part);
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
