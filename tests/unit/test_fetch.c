/* fetch: the pure logic of the engine and registry transports -- image
 * references, the Bearer challenge, which bare arguments go to the engine,
 * the engine's URL path. Expected values come from the Docker reference
 * grammar and its tests (github.com/distribution/reference: regexp.go,
 * normalize.go, normalize_test.go), RFC 7235 2.1 / RFC 7230 3.2.6 / RFC
 * 6750 3 for challenges, the Docker token spec's example challenge
 * (distribution docs/spec/auth/token.md) and RFC 3986 2.1/2.3 for
 * percent-encoding; none is copied from whittle's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/fetch.h"
#include "analyzer/source.h"

#define D63 "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"
#define D64 D63 "c"

/* parse S and compare with the expected split; tag/digest NULL = none */
static void ref_is(const char *s, const char *domain, const char *path, const char *tag, const char *digest)
{
	struct fetch_ref r;
	struct wh_error err = {0};
	int rc = fetch_ref_parse(s, &r, &err);
	if (rc != 0)
		fail_msg("%s: %s", s, err.msg);
	assert_string_equal(r.domain, domain);
	assert_string_equal(r.path, path);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	fetch_ref_free(&r);
}

static void ref_bad(const char *s)
{
	struct fetch_ref r;
	struct wh_error err = {0};
	int rc = fetch_ref_parse(s, &r, &err);
	if (rc == 0)
		fail_msg("%s: taken as %s / %s", s, r.domain, r.path);
	/* the message names the reference */
	char want[300];
	snprintf(want, sizeof want, "docker://%s: ", s);
	assert_non_null(strstr(err.msg, want));
	assert_null(r.domain);
	assert_null(r.path);
}

/* normalize.go: "ubuntu" -> "docker.io/library/ubuntu:latest" and the
 * splitDockerDomain cases of normalize_test.go TestNormalizedSplitHostname
 * and TestParseRepositoryInfo */
static void test_ref_hub_defaults(void **state)
{
	(void)state;
	ref_is("ubuntu", "docker.io", "library/ubuntu", "latest", NULL);
	ref_is("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", NULL);
	ref_is("foo", "docker.io", "library/foo", "latest", NULL);
	ref_is("docker.io/foo", "docker.io", "library/foo", "latest", NULL);
	ref_is("docker.io/library/foo", "docker.io", "library/foo", "latest", NULL);
	ref_is("docker.io/library/foo/bar", "docker.io", "library/foo/bar", "latest", NULL);
	ref_is("library/foo/bar", "docker.io", "library/foo/bar", "latest", NULL);
	ref_is("docker/migrator", "docker.io", "docker/migrator", "latest", NULL);
	ref_is("dmcgowan/myapp:latest", "docker.io", "dmcgowan/myapp", "latest", NULL);
	ref_is("store/foo/bar", "docker.io", "store/foo/bar", "latest", NULL);
	/* no '.', ':' or upper case: a namespace, not a host */
	ref_is("test_com/foo", "docker.io", "test_com/foo", "latest", NULL);
	ref_is("ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "latest", NULL);
	/* the legacy Hub name is the Hub (normalize.go legacyDefaultDomain) */
	ref_is("index.docker.io/debian", "docker.io", "library/debian", "latest", NULL);
	ref_is("index.docker.io/docker/docker", "docker.io", "docker/docker", "latest", NULL);
	/* 63 hex digits is a name; 64 is an ID (TestParseAnyReference) */
	ref_is(D63, "docker.io", "library/" D63, "latest", NULL);
	ref_is("docker.io/" D64, "docker.io", "library/" D64, "latest", NULL);
}

static void test_ref_hosts_and_ports(void **state)
{
	(void)state;
	ref_is("test.com/foo", "test.com", "foo", "latest", NULL);
	ref_is("test.com:8080/foo", "test.com:8080", "foo", "latest", NULL);
	ref_is("test-com:8080/foo", "test-com:8080", "foo", "latest", NULL);
	ref_is("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "latest", NULL);
	ref_is("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "latest", NULL);
	ref_is("example.com/privatebase", "example.com", "privatebase", "latest", NULL);
	ref_is("localhost/foo", "localhost", "foo", "latest", NULL);
	ref_is("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", "latest", NULL);
	/* port colon and tag colon in one reference */
	ref_is("localhost:5000/a/b:v1", "localhost:5000", "a/b", "v1", NULL);
	ref_is("localhost:5000/a/b@sha256:" D64, "localhost:5000", "a/b", NULL, "sha256:" D64);
	/* an upper-case first part is a host (normalize.go; TestParseRepositoryInfo "Foo/bar") */
	ref_is("Foo/bar", "Foo", "bar", "latest", NULL);
	ref_is("FOO/bar:x", "FOO", "bar", "x", NULL);
	/* without a '/', "host:port" is NAME:TAG (splitDockerDomain's fast path) */
	ref_is("localhost:5000", "docker.io", "library/localhost", "5000", NULL);
	ref_is("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", NULL);
}

static void test_ref_tags_and_digests(void **state)
{
	(void)state;
	ref_is("redis@sha256:" D64, "docker.io", "library/redis", NULL, "sha256:" D64);
	/* TestParseReferenceWithTagAndDigest: both kept; the digest is what is pulled */
	ref_is("busybox:latest@sha256:" D64, "docker.io", "library/busybox", "latest", "sha256:" D64);
	/* tag := [\w][\w.-]{0,127}: upper case and '_' first are fine */
	ref_is("a:V1.0_rc-2", "docker.io", "library/a", "V1.0_rc-2", NULL);
	ref_is("a:_x", "docker.io", "library/a", "_x", NULL);
	char tag128[140], ref[160];
	memset(tag128, 't', 128);
	tag128[128] = 0;
	snprintf(ref, sizeof ref, "a:%s", tag128);
	ref_is(ref, "docker.io", "library/a", tag128, NULL);
	snprintf(ref, sizeof ref, "a:%sx", tag128); /* 129 */
	ref_bad(ref);
	ref_bad("a:");
	ref_bad("a:-x");
	ref_bad("a:.x");
	ref_bad("a:b:c");
	ref_bad("a:b/c");
	/* digests: only sha256 with 64 lower-case hex digits */
	ref_bad("a@");
	ref_bad("a@sha256:");
	ref_bad("a@sha256:abc");
	ref_bad("a@sha256:" D64 "0");
	ref_bad("a@sha256:DBCC1C35AC38DF41FD2F5E4130B32FFDB93EBAE8B3DBE638C23575912276FC9C");
	ref_bad("a@sha512:" D64 D64);
	ref_bad("a@" D64);
	ref_bad("a@sha256:" D64 "@sha256:" D64);
}

/* normalize_test.go invalidRepoNames / invalidRepositoryNames */
static void test_ref_invalid_names(void **state)
{
	(void)state;
	ref_bad("");
	ref_bad("https://github.com/docker/docker");
	ref_bad("docker/Docker");
	ref_bad("docker.io/docker/Docker");
	ref_bad("Ubuntu");
	ref_bad("-docker");
	ref_bad("-docker/docker");
	ref_bad("-docker.io/docker/docker");
	ref_bad("docker///docker");
	ref_bad("docker.io/docker///docker");
	ref_bad("docker-/docker");
	ref_bad("____/____");
	ref_bad("_docker/_docker");
	ref_bad("dock..er/docker");
	ref_bad("dock_.er/docker");
	ref_bad("dock-.er/docker");
	ref_bad("docker/");
	ref_bad("docker.io/");
	ref_bad("localhost:5000/");
	ref_bad("/docker");
	ref_bad("host.com//x");
	ref_bad("[fc00::1]:5000");
	ref_bad("fc00::1:5000/debian");
	ref_bad("[fe80::1%eth0]:5000/debian");
	ref_bad("host.com:/x");
	ref_bad("host.com:50a/x");
	ref_bad("-host.com/x");
	ref_bad("host-.com/x");
	ref_bad("host..com/x");
	ref_bad(D64);
	ref_bad("a b");
	/* valid separators for contrast (TestValidateRemoteName) */
	ref_is("docker---rules/docker", "docker.io", "docker---rules/docker", "latest", NULL);
	ref_is("dock__er/docker", "docker.io", "dock__er/docker", "latest", NULL);
	ref_is("d/docker", "docker.io", "d/docker", "latest", NULL);
	/* the name (canonical DOMAIN/PATH) is at most 255 characters
	 * (reference.go NameTotalLengthMax): "example.com/" is 12 */
	char name[300];
	snprintf(name, sizeof name, "example.com/");
	memset(name + 12, 'a', 243);
	name[255] = 0;
	ref_is(name, "example.com", name + 12, "latest", NULL);
	name[255] = 'a';
	name[256] = 0;
	ref_bad(name);
	/* docker.io/library/ (18) counts for a one-part Hub name */
	char want[300];
	memset(name, 'b', 237);
	name[237] = 0;
	snprintf(want, sizeof want, "library/%s", name);
	ref_is(name, "docker.io", want, "latest", NULL);
	name[237] = 'b';
	name[238] = 0;
	ref_bad(name);
}

/* --- challenges --------------------------------------------------------- */

static void bearer_is(const char *h, const char *realm, const char *service, const char *scope)
{
	char *r = (char *)1, *sv = (char *)1, *sc = (char *)1;
	int rc = fetch_bearer_challenge(h, &r, &sv, &sc);
	if (rc != 1)
		fail_msg("%s: %d", h, rc);
	assert_string_equal(r, realm);
	if (service)
		assert_string_equal(sv, service);
	else
		assert_null(sv);
	if (scope)
		assert_string_equal(sc, scope);
	else
		assert_null(sc);
	free(r);
	free(sv);
	free(sc);
}

static void bearer_rc(const char *h, int want)
{
	char *r = (char *)1, *sv = (char *)1, *sc = (char *)1;
	int rc = fetch_bearer_challenge(h, &r, &sv, &sc);
	if (rc != want)
		fail_msg("%s: %d, wanted %d", h, rc, want);
	assert_null(r);
	assert_null(sv);
	assert_null(sc);
}

static void test_bearer_examples(void **state)
{
	(void)state;
	/* the Docker token spec's example: a comma inside the quoted scope */
	bearer_is("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	          "scope=\"repository:samalba/my-app:pull,push\"",
	          "https://auth.docker.io/token", "registry.docker.io", "repository:samalba/my-app:pull,push");
	/* RFC 6750 3: realm only; with error parameters after ", " */
	bearer_is("Bearer realm=\"example\"", "example", NULL, NULL);
	bearer_is("Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"",
	          "example", NULL, NULL);
	/* what a docker-registry with token auth sends: service after scope */
	bearer_is("Bearer realm=\"http://127.0.0.1:5001/auth\",scope=\"repository:a/b:pull\",service=\"reg\"",
	          "http://127.0.0.1:5001/auth", "reg", "repository:a/b:pull");
}

static void test_bearer_syntax(void **state)
{
	(void)state;
	/* RFC 7235 2.1: scheme and parameter names are case-insensitive;
	 * values are tokens or quoted-strings; BWS around '=' */
	bearer_is("bearer REALM=\"r\",Service=\"s\"", "r", "s", NULL);
	bearer_is("BEARER realm=r, service=s , scope=pull", "r", "s", "pull");
	bearer_is("Bearer realm = \"r\" ,  service= s", "r", "s", NULL);
	/* RFC 7230 3.2.6: quoted-pair */
	bearer_is("Bearer realm=\"a\\\"b\\\\c\"", "a\"b\\c", NULL, NULL);
	/* a key inside another's quoted value is no key */
	bearer_is("Bearer realm=\"https://a/t?service=fake,scope=fake\",service=\"real\"",
	          "https://a/t?service=fake,scope=fake", "real", NULL);
	bearer_is("Bearer realm=\"r\",xservice=\"no\",service_x=\"no\"", "r", NULL, NULL);
	/* each parameter once (RFC 7235 2.1); the first is taken */
	bearer_is("Bearer realm=\"first\",realm=\"second\"", "first", NULL, NULL);
	/* empty list elements (RFC 7230 7) */
	bearer_is(" , Bearer realm=\"r\",, ,service=\"s\",", "r", "s", NULL);
}

static void test_bearer_other_schemes(void **state)
{
	(void)state;
	bearer_rc("Basic realm=\"Registry Realm\"", 0);
	bearer_rc("Basic realm=\"Bearer realm=x\"", 0);
	bearer_rc("Negotiate", 0);
	bearer_rc("Newauth abc123==", 0);
	bearer_rc("BearerX realm=\"r\"", 0);
	bearer_rc("", 0);
	/* a list of challenges (RFC 7235 4.1): the Bearer one is found, its
	 * parameters only */
	bearer_is("Basic realm=\"basic\", Bearer realm=\"bearer\", service=\"s\"", "bearer", "s", NULL);
	bearer_is("Bearer realm=\"bearer\", Basic realm=\"basic\", service=\"basic-s\"", "bearer", NULL, NULL);
	bearer_is("Newauth abc==, Bearer realm=\"r\"", "r", NULL, NULL);
	/* a Bearer challenge without a realm, or malformed */
	bearer_rc("Bearer", -1);
	bearer_rc("Bearer service=\"s\"", -1);
	bearer_rc("Bearer realm=\"\"", -1);
	bearer_rc("Bearer realm=\"unterminated", -1);
	bearer_rc("Bearer realm=\"r\" junk", -1);
	bearer_rc("Bearer realm=", -1);
	/* ':' and '/' are no tchar: such a value must be quoted */
	bearer_rc("Bearer realm=https://a/token", -1);
}

/* --- the engine ---------------------------------------------------------- */

/* source.c sends a bare argument that is no existing file to the engine
 * only when fetch_is_engine_ref says so (the file check is source.c's, see
 * the next test): a reference by the grammar, not a path-like name */
static void test_engine_ref(void **state)
{
	(void)state;
	static const char *const yes[] = {
		"ubuntu",
		"ubuntu:22.04",
		"dive-test:latest",
		"localhost/dive-test:latest",
		"localhost:5000/a/b:v1",
		"localhost:5000/a/b@sha256:" D64,
		"registry.example.com/team/app:V1",
		"Foo/bar:1", /* an upper-case host */
		"some/dir/name", /* a path without a suffix reads as a name, as in dive */
		"sha256:" D64,
		"sha256:dbcc1c35", /* an ID prefix */
		D64,
		"dbcc1c35",
		"redis@sha256:" D64,
		"sha256:XYZ", /* by the grammar the repository "sha256", tag "XYZ" */
	};
	static const char *const no[] = {
		"",
		"/abs/image",
		"./image",
		"../image",
		".image",
		"image.tar",
		"dir/image.tar",
		"image.tar.gz",
		"image.tgz",
		"image.tar.zst",
		"index.json",
		"dir/",
		"a//b",
		"-image",
		"Ubuntu:latest",   /* upper-case repository */
		"localhost/Dive:1",
		"image:",          /* empty tag */
		"image:-x",
		"image@sha256:abc", /* not a digest */
		"image@",
		"a b",
		"a:b:c",
		"dir/file:name/x",
		"sha256:",
		"C:\\images\\x",
	};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!fetch_is_engine_ref(yes[i]))
			fail_msg("%s: not taken for the engine", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (fetch_is_engine_ref(no[i]))
			fail_msg("%s: taken for the engine", no[i]);
}

/* the bare argument through image_open: a name the engine rule turns
 * down is a missing file, one it takes goes to the engine (here: no
 * engine at DOCKER_HOST, so the message says so) */
static void test_engine_rule_in_image_open(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_fetch.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *cwd = getcwd(NULL, 0);
	assert_int_equal(chdir(dir), 0);
	setenv("DOCKER_HOST", "unix:///nonexistent/whittle-test.sock", 1);
	setenv("TMPDIR", dir, 1);
	struct wh_image img;
	struct wh_error err = {0};
	assert_true(image_open("missing.tar", NULL, &img, &err) < 0);
	assert_non_null(strstr(err.msg, "no such file"));
	image_free(&img);
	memset(&err, 0, sizeof err);
	assert_true(image_open("Upper:latest", NULL, &img, &err) < 0);
	assert_non_null(strstr(err.msg, "no such file"));
	image_free(&img);
	memset(&err, 0, sizeof err);
	assert_true(image_open("dive-test:latest", NULL, &img, &err) < 0);
	assert_non_null(strstr(err.msg, "/nonexistent/whittle-test.sock"));
	assert_non_null(strstr(err.msg, "no such socket"));
	image_free(&img);
	/* no spool is left in TMPDIR */
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
	assert_int_equal(rmdir(dir), 0);
	unsetenv("DOCKER_HOST");
	unsetenv("TMPDIR");
}

static void path_is(const char *name, const char *want)
{
	char *p = fetch_engine_path(name);
	assert_string_equal(p, want);
	free(p);
}

static void test_engine_path(void **state)
{
	(void)state;
	/* RFC 3986 2.3: ALPHA DIGIT - . _ ~ stay; 2.1: the rest %XX, upper
	 * hex; '/' stays for the engine's /images/{name}/get route */
	path_is("ubuntu", "/images/ubuntu/get");
	path_is("localhost/dive-test:latest", "/images/localhost/dive-test%3Alatest/get");
	path_is("localhost:5000/a/b@sha256:" D64, "/images/localhost%3A5000/a/b%40sha256%3A" D64 "/get");
	path_is("sha256:abc", "/images/sha256%3Aabc/get");
	path_is("A-b.c_d~e", "/images/A-b.c_d~e/get");
	path_is("a b?#%", "/images/a%20b%3F%23%25/get");
	path_is("\xc3\xa9", "/images/%C3%A9/get");
}

/* --timeout: once the deadline has passed, a request is not even tried
 * (port 9, discard, need not listen) and the message names the option */
static void test_timeout_passed(void **state)
{
	(void)state;
	fetch_set_timeout(0.001);
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	char *spool = NULL;
	struct fetch_registry *reg = NULL;
	struct wh_error err = {0};
	assert_true(fetch_registry_open("127.0.0.1:9/a/b:1", 0, &spool, &reg, &err) < 0);
	assert_non_null(strstr(err.msg, "the --timeout of 0.001 s has passed"));
	assert_non_null(strstr(err.msg, "docker://127.0.0.1:9/a/b:1"));
	assert_null(spool);
	fetch_registry_free(reg);
	fetch_set_timeout(0); /* none again */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_hub_defaults),
		cmocka_unit_test(test_ref_hosts_and_ports),
		cmocka_unit_test(test_ref_tags_and_digests),
		cmocka_unit_test(test_ref_invalid_names),
		cmocka_unit_test(test_bearer_examples),
		cmocka_unit_test(test_bearer_syntax),
		cmocka_unit_test(test_bearer_other_schemes),
		cmocka_unit_test(test_engine_ref),
		cmocka_unit_test(test_engine_rule_in_image_open),
		cmocka_unit_test(test_engine_path),
		cmocka_unit_test(test_timeout_passed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
