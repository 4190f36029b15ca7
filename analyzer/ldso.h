/* ldso: the image's dynamic loader configuration, read from bytes.
 *
 * glibc's /etc/ld.so.cache, /etc/ld.so.conf (with include globs, matched
 * against the image through a callback), the trusted default directories,
 * RPATH/RUNPATH token expansion and the glibc-hwcaps subdirectories. Nothing
 * here looks at the host's filesystem. What glibc does and where that was
 * checked is noted in ldso.c. */
#ifndef WH_LDSO_H
#define WH_LDSO_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/util.h"

/* ld.so.cache entry flags (glibc's FLAG_* in sysdeps/generic/ldconfig.h):
 * the low byte is the library type, the high byte the ABI. */
enum {
	LDSO_FLAG_TYPE_MASK = 0x00ff,
	LDSO_FLAG_ELF = 0x0001,       /* "ELF" in ldconfig -p */
	LDSO_FLAG_ELF_LIBC5 = 0x0002,
	LDSO_FLAG_ELF_LIBC6 = 0x0003, /* "libc6" */
	LDSO_FLAG_REQUIRED_MASK = 0xff00,
	LDSO_FLAG_SPARC_LIB64 = 0x0100,
	LDSO_FLAG_IA64_LIB64 = 0x0200,
	LDSO_FLAG_X8664_LIB64 = 0x0300,
	LDSO_FLAG_S390_LIB64 = 0x0400,
	LDSO_FLAG_POWERPC_LIB64 = 0x0500,
	LDSO_FLAG_MIPS64_LIBN32 = 0x0600,
	LDSO_FLAG_MIPS64_LIBN64 = 0x0700,
	LDSO_FLAG_X8664_LIBX32 = 0x0800,
	LDSO_FLAG_ARM_LIBHF = 0x0900,
	LDSO_FLAG_AARCH64_LIB64 = 0x0a00,
	LDSO_FLAG_ARM_LIBSF = 0x0b00,
	LDSO_FLAG_RISCV_FLOAT_ABI_SOFT = 0x0f00,
	LDSO_FLAG_RISCV_FLOAT_ABI_DOUBLE = 0x1000,
	LDSO_FLAG_LARCH_FLOAT_ABI_SOFT = 0x1100,
	LDSO_FLAG_LARCH_FLOAT_ABI_DOUBLE = 0x1200,
};

enum {
	LDSO_CACHE_OLD = 1,    /* "ld.so-1.7.0" only (glibc < 2.2 era) */
	LDSO_CACHE_NEW = 2,    /* "glibc-ld.so.cache1.1" only (glibc >= 2.32 default) */
	LDSO_CACHE_COMPAT = 3, /* old header + entries, the new format appended */
};

/* Bit 62 of hwcap: the entry lives in a glibc-hwcaps subdirectory whose
 * name is hwcaps_subdir (glibc's DL_CACHE_HWCAP_EXTENSION). */
#define LDSO_HWCAP_EXTENSION (1ull << 62)

struct ldso_cache_entry {
	const char *key;           /* soname */
	const char *value;         /* path */
	int32_t flags;             /* LDSO_FLAG_* */
	uint32_t osversion;        /* 0 in the old format */
	uint64_t hwcap;            /* 0 in the old format */
	const char *hwcaps_subdir; /* "x86-64-v3" for glibc-hwcaps entries, else NULL */
};

struct ldso_cache {
	struct ldso_cache_entry *entries; /* in cache order */
	size_t n;
	int format;                       /* LDSO_CACHE_* */
	struct arena strings;
};

/* Parse /etc/ld.so.cache bytes. Either byte order (the new header records
 * it; the old format is sniffed). Any string offset outside the file or an
 * unterminated string makes the cache WH_EINPUT. */
int ldso_cache_parse(const uint8_t *buf, size_t len, struct ldso_cache *out, struct wh_error *err);
void ldso_cache_free(struct ldso_cache *c);

/* Would the ld.so for this ELF machine/class accept a cache entry with
 * these flags? (glibc's _dl_cache_check_flags for that arch; ARM accepts
 * both float ABIs since e_machine cannot tell them apart.) */
int ldso_cache_flags_ok(int32_t flags, uint16_t machine, uint8_t elf_class);

/* The path ld.so takes from the cache for soname on a baseline CPU: the
 * first entry (in cache order) with the name (compared as glibc does,
 * numbers numerically) and acceptable flags, skipping glibc-hwcaps and
 * legacy-hwcap entries. NULL if none. */
const char *ldso_cache_lookup(const struct ldso_cache *c, const char *soname,
                              uint16_t machine, uint8_t elf_class);
/* Every path ld.so could take from the cache for soname on some CPU:
 * acceptable entries in cache order, glibc-hwcaps ones included. Fills up
 * to max paths and returns how many there are (may exceed max). */
size_t ldso_cache_lookup_all(const struct ldso_cache *c, const char *soname,
                             uint16_t machine, uint8_t elf_class,
                             const char **paths, size_t max);
/* glibc's _dl_cache_libcmp: 0 when equal, digit runs compared as numbers. */
int ldso_cache_libcmp(const char *a, const char *b);

/* The image, seen through callbacks. Paths are absolute image paths
 * ("/etc/ld.so.conf.d"). read_file returns 0 and the bytes (owned by the
 * callee, valid until the parse returns) or -1 if there is no such file.
 * list_dir returns 0 and a malloc'd array of malloc'd entry names (no "."
 * or "..", any order) that the caller frees, or -1 if not a directory. */
struct ldso_fs {
	void *ctx;
	int (*read_file)(void *ctx, const char *path, const uint8_t **data, size_t *len);
	int (*list_dir)(void *ctx, const char *dir, char ***names, size_t *n);
};

struct ldso_dirs {
	char **dirs; /* in search order, duplicates dropped */
	size_t n;
};

#define LDSO_CONF_MAX_DEPTH 16

/* Parse ld.so.conf at path (usually "/etc/ld.so.conf") as ldconfig does:
 * '#' starts a comment anywhere; "include PATTERN..." (patterns split on
 * blanks, relative ones taken relative to the including file's directory,
 * matched against the image through fs->list_dir, each pattern's matches
 * sorted by strcmp as glob(3) under LC_COLLATE=C) is followed to
 * LDSO_CONF_MAX_DEPTH levels; "hwcap ..." lines are ignored; any other line
 * is ONE directory (ldconfig in glibc 2.34-2.36 does not split a line on
 * ':' ',' or blanks)
 * with a "=libc6"-style type suffix, trailing blanks and trailing slashes
 * removed. A missing top file gives an empty list. Directories are not
 * checked for existence (ldconfig drops ones it cannot stat). Deeper
 * nesting than the limit (an include loop) is WH_EINPUT. */
int ldso_conf_parse(const struct ldso_fs *fs, const char *path, struct ldso_dirs *out,
                    struct wh_error *err);
void ldso_dirs_free(struct ldso_dirs *d);

/* Layout of the glibc in the image (its slibdir/libdir). */
enum {
	LDSO_LAYOUT_MULTIARCH = 0, /* Debian, Ubuntu: /lib/<triplet> */
	LDSO_LAYOUT_LIB64 = 1,     /* upstream default, Fedora, RHEL, SUSE: /lib64 on 64-bit */
};

/* The trusted directories ld.so searches last (after LD_LIBRARY_PATH,
 * RUNPATH and ld.so.cache; unless DF_1_NODEFLIB), in order. Static strings;
 * *n gets the count (0 for an unknown machine). */
const char *const *ldso_default_dirs(uint16_t machine, uint8_t elf_class, int layout, size_t *n);

/* Expand $ORIGIN, $LIB and $PLATFORM (also ${...}) in one RPATH/RUNPATH
 * element into every candidate a glibc for this arch could produce
 * ($LIB: "lib/x86_64-linux-gnu" on Debian, "lib64" upstream, "lib";
 * $PLATFORM: "x86_64", "haswell", "xeon_phi" on x86-64...). origin is the
 * image directory of the object holding the RPATH/RUNPATH (for the main
 * program, the directory of its symlink-resolved path); if it is NULL and
 * the element uses $ORIGIN there are no candidates (glibc drops the
 * element). Unknown $NAMEs are kept literally. The results are not
 * normalized ("/usr/bin/../lib"). *out is malloc'd; free with
 * ldso_strv_free. Returns 0, or WH_EINPUT for an element that would expand
 * to more than 256 candidates. */
int ldso_expand_tokens(const char *elem, const char *origin, uint16_t machine, uint8_t elf_class,
                       char ***out, size_t *n, struct wh_error *err);
void ldso_strv_free(char **v, size_t n);

/* The glibc-hwcaps subdirectory names glibc >= 2.33 tries inside every
 * library directory ("DIR/glibc-hwcaps/NAME/lib.so"), highest first, before
 * DIR itself. Static strings; *n = 0 where the arch has none. */
const char *const *ldso_hwcaps_subdirs(uint16_t machine, uint8_t elf_class, size_t *n);

#endif
