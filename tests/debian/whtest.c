/* whtest: a small program for whittle's Debian test image
 * (tests/build-debian-image.sh). It exercises the code glibc and friends
 * load at run time, the things a slimmed image must keep although no
 * DT_NEEDED names them:
 *   - getpwnam("root"): NSS, reads /etc/nsswitch.conf and /etc/passwd;
 *   - iconv_open("UTF-8", "IBM1047"): a gconv module (gconv/IBM1047.so,
 *     found through gconv/gconv-modules*);
 *   - pthread_cancel: glibc dlopens libgcc_s.so.1 to unwind the thread;
 *   - SHA-256 through libcrypto's EVP interface (libssl3).
 * Its output is deterministic; every line is "name: value".
 * Exit status: 0 when every check worked, 1 otherwise. */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static int failures;

static void fail(const char *what, const char *why)
{
	printf("%s: FAILED (%s)\n", what, why);
	failures++;
}

static void check_passwd(void)
{
	struct passwd *pw = getpwnam("root");
	if (!pw) {
		fail("getpwnam", errno ? strerror(errno) : "no such user");
		return;
	}
	printf("getpwnam: root home=%s uid=%u\n", pw->pw_dir, (unsigned)pw->pw_uid);
}

static void check_iconv(void)
{
	/* "WHITTLE" in EBCDIC (IBM1047) */
	char in[] = { (char)0xE6, (char)0xC8, (char)0xC9, (char)0xE3,
		      (char)0xE3, (char)0xD3, (char)0xC5 };
	char out[64];
	char *ip = in, *op = out;
	size_t il = sizeof in, ol = sizeof out - 1;
	iconv_t cd = iconv_open("UTF-8", "IBM1047");
	if (cd == (iconv_t)-1) {
		fail("iconv", strerror(errno));
		return;
	}
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
		fail("iconv", strerror(errno));
		iconv_close(cd);
		return;
	}
	*op = '\0';
	iconv_close(cd);
	printf("iconv: IBM1047 -> UTF-8 \"%s\"\n", out);
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause(); /* a cancellation point */
	return NULL;
}

static void check_cancel(void)
{
	pthread_t t;
	void *ret = NULL;
	int rc = pthread_create(&t, NULL, sleeper, NULL);
	if (rc) {
		fail("pthread_cancel", strerror(rc));
		return;
	}
	if ((rc = pthread_cancel(t)) || (rc = pthread_join(t, &ret))) {
		fail("pthread_cancel", strerror(rc));
		return;
	}
	if (ret != PTHREAD_CANCELED) {
		fail("pthread_cancel", "thread not cancelled");
		return;
	}
	printf("pthread_cancel: cancelled\n");
}

static void check_sha256(void)
{
	static const char msg[] = "whittle";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(msg, sizeof msg - 1, md, &len, EVP_sha256(), NULL)) {
		fail("sha256", "EVP_Digest failed");
		return;
	}
	printf("sha256: ");
	for (unsigned int i = 0; i < len; i++)
		printf("%02x", md[i]);
	printf("  \"%s\"\n", msg);
}

int main(void)
{
	check_passwd();
	check_iconv();
	check_cancel();
	check_sha256();
	printf("whtest: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
