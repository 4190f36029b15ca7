/* fuzz_oci: image_open on an OCI layout whose JSON comes from the input.
 *
 * The input is three documents separated by "\n--\n": index.json, the
 * manifest, the config. The manifest and config are written as blobs named
 * by their real sha256, so a fuzzer that cannot compute digests still gets
 * past the digest checks: in index.json the text "@M" is replaced by the
 * manifest's digest ("sha256:<hex>"), in the manifest "@C" by the config's
 * digest, "@S" by its size and "@L" by the digest of a fixed 5-byte layer
 * blob the harness writes once ("layer"). Layers are not read (image_open
 * only checks that their blobs exist). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/digest.h"
#include "analyzer/source.h"
#include "fuzz.h"

#include <openssl/sha.h>

static void sha256_hex(const uint8_t *p, size_t n, char out[72])
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	SHA256(p, n, md);
	strcpy(out, "sha256:");
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* a copy of p with every "@K" replaced by val */
static uint8_t *subst(const uint8_t *p, size_t n, char k, const char *val, size_t *outn)
{
	size_t vl = strlen(val), cnt = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '@' && p[i + 1] == (uint8_t)k)
			cnt++;
	uint8_t *o = malloc(n + cnt * vl + 1), *w = o;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && p[i] == '@' && p[i + 1] == (uint8_t)k) {
			memcpy(w, val, vl);
			w += vl;
			i++;
		} else {
			*w++ = p[i];
		}
	}
	*outn = (size_t)(w - o);
	return o;
}

static void write_blob(const char *dir, const uint8_t *p, size_t n, char digest[72])
{
	sha256_hex(p, n, digest);
	char path[600];
	snprintf(path, sizeof path, "%s/blobs/sha256/%s", dir, digest + 7);
	fuzz_write_file(path, p, n);
}

static const char *layer_digest(void)
{
	static char d[72];
	if (!d[0])
		sha256_hex((const uint8_t *)"layer", 5, d);
	return d;
}

int fuzz_oci(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};
	size_t np = fuzz_split(data, size, "\n--\n", part, len, 3);
	for (size_t i = np; i < 3; i++)
		part[i] = (const uint8_t *)"", len[i] = 0;

	static char dir[512];
	static int made;
	if (!made) {
		char p[600];
		snprintf(dir, sizeof dir, "%s/oci", fuzz_tmpdir());
		mkdir(dir, 0755);
		snprintf(p, sizeof p, "%s/blobs", dir);
		mkdir(p, 0755);
		snprintf(p, sizeof p, "%s/blobs/sha256", dir);
		mkdir(p, 0755);
		snprintf(p, sizeof p, "%s/oci-layout", dir);
		const char *lay = "{\"imageLayoutVersion\":\"1.0.0\"}";
		fuzz_write_file(p, (const uint8_t *)lay, strlen(lay));
		char ldg[72];
		write_blob(dir, (const uint8_t *)"layer", 5, ldg);
		made = 1;
	}
	char cdg[72], mdg[72], csz[32];
	write_blob(dir, part[2], len[2], cdg);
	snprintf(csz, sizeof csz, "%zu", len[2]);
	size_t n1, n2, n3;
	uint8_t *m1 = subst(part[1], len[1], 'C', cdg, &n1);
	uint8_t *m2 = subst(m1, n1, 'S', csz, &n2);
	size_t n4;
	uint8_t *m3 = subst(m2, n2, 'L', layer_digest(), &n4);
	free(m2);
	m2 = m3;
	n2 = n4;
	write_blob(dir, m2, n2, mdg);
	uint8_t *ix = subst(part[0], len[0], 'M', mdg, &n3);
	char p[600];
	snprintf(p, sizeof p, "%s/index.json", dir);
	fuzz_write_file(p, ix, n3);

	char ref[600];
	snprintf(ref, sizeof ref, "oci:%s", dir);
	struct wh_image img;
	struct wh_error err = {0};
	struct wh_open_opts opts = {.platform = "linux/amd64"};
	int rc = image_open(ref, &opts, &img, &err);
	fuzz_report("image_open", rc, err.msg);
	if (rc == 0) {
		(void)image_config_str(&img, "User");
		(void)image_config_get(&img, "Env");
	} else if (!err.msg[0]) {
		abort();
	}
	image_free(&img);

	/* remove this input's blobs so the directory does not grow */
	snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, cdg + 7);
	remove(p);
	snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, mdg + 7);
	remove(p);
	free(m1);
	free(m2);
	free(ix);
	return 0;
}

WH_FUZZ_MAIN(fuzz_oci)
