/* fuzz: entry points shared by the libFuzzer targets (fuzz_NAME.c, built
 * with clang -fsanitize=fuzzer under -Dfuzz=true) and the regression replay
 * (replay.c, built in every build, run by meson test). Each fuzz_NAME()
 * feeds one input to the analyzer code that reads untrusted image bytes and
 * returns 0; a crash, sanitizer report or leak is the finding. */
#ifndef WH_FUZZ_H
#define WH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_elf(const uint8_t *data, size_t size);
int fuzz_ldso_cache(const uint8_t *data, size_t size);
int fuzz_ldso_conf(const uint8_t *data, size_t size);
int fuzz_dpkg(const uint8_t *data, size_t size);
int fuzz_layer(const uint8_t *data, size_t size);
int fuzz_tarscan(const uint8_t *data, size_t size);
int fuzz_oci(const uint8_t *data, size_t size);
int fuzz_scripts(const uint8_t *data, size_t size);

/* fuzz_util.c: a per-process scratch directory under $TMPDIR (made on first
 * use, removed at exit) and a helper writing bytes to a file in it. */
const char *fuzz_tmpdir(void);
int fuzz_write_file(const char *path, const uint8_t *data, size_t size);
/* With WH_FUZZ_VERBOSE set (the replay's -v), print what a call returned. */
void fuzz_report(const char *what, int rc, const char *msg);
/* Split data at each occurrence of sep (not kept) into at most max parts;
 * returns the number of parts (>= 1). */
size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **part, size_t *len,
                  size_t max);

/* A target file defines its LLVMFuzzerTestOneInput with this unless the
 * replay build (-DWH_FUZZ_REPLAY) links all targets into one program. */
#ifdef WH_FUZZ_REPLAY
#define WH_FUZZ_MAIN(fn)
#else
#define WH_FUZZ_MAIN(fn)                                                                               \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fn(data, size); }
#endif

#endif
