/* elf_strings: absolute path strings in an ELF file's read-only data,
 * found as the bytes pass (a few hundred bytes of state, never a section).
 *
 * A candidate is a NUL-terminated string that starts right after a NUL (or
 * at the start of a range), begins with '/' and a name character, and holds
 * only path characters ([A-Za-z0-9._+@~:,=-] and '/'), at most
 * ELF_PATH_LEN-1 bytes. Whether it names a file is for the caller (the
 * image's tree) to say. At most max distinct strings are kept; the rest
 * only set truncated. */
#ifndef WH_ELF_STRINGS_H
#define WH_ELF_STRINGS_H

#include <stddef.h>
#include <stdint.h>

#define ELF_PATH_LEN 256
#define ELF_PATHS_MAX 1024 /* distinct path strings kept of one file */

struct elf_strscan {
	char cur[ELF_PATH_LEN];
	size_t len;
	int state;     /* 0 after a NUL, 1 in a candidate, 2 in anything else */
	size_t max;
	char **paths;
	size_t n, cap;
	int truncated; /* a distinct candidate past max was seen */
};

void elf_strscan_init(struct elf_strscan *sc, size_t max);
/* A new range of the file starts (a string may start at its first byte). */
void elf_strscan_range(struct elf_strscan *sc);
/* The next n bytes of the current range. */
void elf_strscan_feed(struct elf_strscan *sc, const uint8_t *d, size_t n);
/* Hand the strings over (the caller frees each and the array). */
char **elf_strscan_take(struct elf_strscan *sc, size_t *n, int *truncated);
void elf_strscan_free(struct elf_strscan *sc);

#endif
