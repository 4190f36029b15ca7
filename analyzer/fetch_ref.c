/* fetch_ref: the Docker reference grammar (fetch.h, fetch_ref_parse). */
#include "analyzer/fetch_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
int fetch_ref_is_identifier(const char *s, size_t n)
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
	if (fetch_ref_is_identifier(s, n))
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

