/* fetch_engine: an image exported by the Docker or Podman engine API
 * (GET /images/NAME/get) into a spool, read as a docker-archive. */
#include "analyzer/fetch_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if (fetch_ref_is_identifier(s, n))
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
	rc = fetch_spool_new(spool, err);
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
		const char *why = http_curl_msg(c, eb);
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
		rc = wh_err(err, WH_EINPUT, "docker-daemon:%s: the engine at %s: %s", name, desc, http_curl_msg(c, eb));
	} else if (x.status != 200) {
		char m[512];
		http_body_message(&x, m, sizeof m);
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
