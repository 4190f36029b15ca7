#include "analyzer/digest.h"
#include "analyzer/util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

void digest_init(struct digest_ctx *d)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		fputs("whittle: OpenSSL could not start SHA-256\n", stderr);
		abort();
	}
	d->md = c;
}

void digest_update(struct digest_ctx *d, const void *p, size_t n)
{
	if (n)
		EVP_DigestUpdate((EVP_MD_CTX *)d->md, p, n);
}

void digest_final(struct digest_ctx *d, uint8_t raw[32], char out[WH_DIGEST_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex((EVP_MD_CTX *)d->md, md, &len);
	if (raw)
		memcpy(raw, md, 32);
	if (out) {
		static const char hex[] = "0123456789abcdef";
		memcpy(out, "sha256:", 7);
		for (int i = 0; i < 32; i++) {
			out[7 + 2 * i] = hex[md[i] >> 4];
			out[8 + 2 * i] = hex[md[i] & 15];
		}
		out[71] = 0;
	}
	digest_free(d);
}

void digest_free(struct digest_ctx *d)
{
	if (d->md)
		EVP_MD_CTX_free((EVP_MD_CTX *)d->md);
	d->md = NULL;
}

void digest_buf(const void *p, size_t n, char out[WH_DIGEST_LEN])
{
	struct digest_ctx d;
	digest_init(&d);
	digest_update(&d, p, n);
	digest_final(&d, NULL, out);
}

int digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71)
		return 0;
	for (int i = 7; i < 71; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
