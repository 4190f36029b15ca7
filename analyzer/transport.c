#include "analyzer/transport.h"
#include "analyzer/fetch.h"
#include "analyzer/tarscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* prefixes as typed (docker:// is "docker" then "//") */
static const char *const outputs[] = {"oci", "oci-archive", "docker-archive"};
static const char *const images[] = {"docker-archive", "oci-archive", "oci", "docker-daemon", "docker"};

#define OUTPUTS_TEXT "oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]"
#define IMAGES_TEXT                                                                                              \
	"docker-archive:PATH, oci-archive:PATH, oci:DIR, docker-daemon:NAME:TAG, docker://HOST/REPO, a path, or a " \
	"NAME[:TAG] the engine has"

/* The length of ref's "PREFIX" before a ':' (letters, digits, '.', '_', '-'), or 0. */
static size_t prefix_len(const char *ref)
{
	size_t n = strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	return n && ref[n] == ':' ? n : 0;
}

static int edits(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	int d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			/* a swap of two neighbours is one edit */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* The known prefix nearest to p (at most two edits), or NULL. */
static const char *nearest(const char *p, size_t n, const char *const *known, size_t nk)
{
	const char *best = NULL;
	int bd = 3;
	for (size_t i = 0; i < nk; i++) {
		int d = edits(p, n, known[i]);
		if (d < bd) {
			bd = d;
			best = known[i];
		}
	}
	return best;
}

static int known(const char *p, size_t n, const char *const *k, size_t nk)
{
	for (size_t i = 0; i < nk; i++)
		if (strlen(k[i]) == n && !strncmp(p, k[i], n))
			return 1;
	return 0;
}

static void suggestion(char *out, size_t len, const char *best)
{
	if (best)
		snprintf(out, len, " (did you mean %s%s?)", best, strcmp(best, "docker") ? ":" : "://");
	else
		out[0] = 0;
}

int transport_check_output(const char *ref, const char *what, struct wh_error *err)
{
	size_t n = prefix_len(ref);
	if (!n || known(ref, n, outputs, ARRAY_LEN(outputs)) || access(ref, F_OK) == 0)
		return 0;
	char s[64];
	suggestion(s, sizeof s, nearest(ref, n, outputs, ARRAY_LEN(outputs)));
	return wh_err(err, WH_EINPUT, "%s %s: unknown transport \"%.*s:\"%s; whittle writes " OUTPUTS_TEXT, what, ref,
	              (int)n, ref, s);
}

int transport_check_image(const char *ref, struct wh_error *err)
{
	size_t n = prefix_len(ref);
	struct stat st;
	if (!n || known(ref, n, images, ARRAY_LEN(images)) || stat(ref, &st) == 0 || fetch_is_engine_ref(ref))
		return 0;
	char s[64];
	suggestion(s, sizeof s, nearest(ref, n, images, ARRAY_LEN(images)));
	return wh_err(err, WH_EINPUT, "%s: unknown transport \"%.*s:\"%s, and no NAME[:TAG] for the engine; whittle "
	              "reads " IMAGES_TEXT, ref, (int)n, ref, s);
}

/* The archive of docker-archive:PATH[:...] / oci-archive:PATH[:...]: the
 * longest prefix of rest that is a file. */
static char *archive_of(const char *rest)
{
	char *p = xstrdup(rest);
	struct stat st;
	for (;;) {
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			return p;
		char *c = strrchr(p, ':');
		if (!c)
			break;
		*c = 0;
	}
	free(p);
	return NULL;
}

void transport_hint(const char *ref, char *out, size_t len)
{
	out[0] = 0;
	int docker = !strncmp(ref, "docker-archive:", 15), oci = !strncmp(ref, "oci-archive:", 12);
	if (docker || oci) {
		char *path = archive_of(ref + (docker ? 15 : 12));
		struct tar_index ti;
		struct wh_error e = {0};
		if (path && tarscan_open(path, &ti, &e) == 0) {
			int man = tarscan_find(&ti, "manifest.json") != NULL, idx = tarscan_find(&ti, "index.json") != NULL;
			tarscan_free(&ti);
			if (docker && idx && !man)
				snprintf(out, len, "%s is an OCI archive (index.json, no manifest.json): use oci-archive:%s", path,
				         path);
			else if (oci && man && !idx)
				snprintf(out, len, "%s is a docker archive (manifest.json, no index.json): use docker-archive:%s",
				         path, path);
		}
		free(path);
		return;
	}
	size_t n = prefix_len(ref);
	if (!n || known(ref, n, images, ARRAY_LEN(images)))
		return;
	const char *best = nearest(ref, n, images, ARRAY_LEN(images));
	if (best)
		snprintf(out, len, "\"%.*s:\" is no transport; did you mean %s%s?", (int)n, ref, best,
		         strcmp(best, "docker") ? ":" : "://");
}
