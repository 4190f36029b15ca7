/* digest: SHA-256 helpers over OpenSSL's EVP interface. */
#ifndef WH_DIGEST_H
#define WH_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* "sha256:" + 64 hex + NUL */
#define WH_DIGEST_LEN 72

struct digest_ctx {
	void *md; /* EVP_MD_CTX */
};

void digest_init(struct digest_ctx *d);
void digest_update(struct digest_ctx *d, const void *p, size_t n);
/* Finish: raw 32 bytes and/or the "sha256:hex" string (either may be NULL). */
void digest_final(struct digest_ctx *d, uint8_t raw[32], char out[WH_DIGEST_LEN]);
void digest_free(struct digest_ctx *d);
/* One shot. */
void digest_buf(const void *p, size_t n, char out[WH_DIGEST_LEN]);
/* Is s a well-formed "sha256:<64 lowercase hex>"? */
int digest_valid(const char *s);

#endif
