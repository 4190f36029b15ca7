/* ldso: the image's dynamic loader configuration, read from bytes.
 *
 * Sources checked (glibc 2.34-2.36 source and Debian 12's glibc 2.36):
 *  - cache format and lookup: glibc elf/dl-cache.c and sysdeps/generic/
 *    dl-cache.h. With the new format present (alone, or appended to the old
 *    one) ld.so uses only the new entries; their string offsets count from
 *    the new header. Old-only caches count from the end of the old entries.
 *    Entries are sorted by name; glibc-hwcaps entries come first among
 *    equal names, and ld.so takes the best glibc-hwcaps entry the CPU
 *    supports, else the first acceptable plain entry.
 *  - accepted flags: sysdeps/unix/sysv/linux/x86_64/dl-cache.h (exactly
 *    0x0303), .../aarch64/dl-cache.h (exactly 0x0a03), generic (1 or 3,
 *    i386 among others: ldconfig -p shows "ELF" = 1 for ld-linux.so.2).
 *  - ld.so.conf: glibc elf/ldconfig.c parse_conf/add_dir_1: one directory a
 *    line, no splitting on ':' ',' or blanks (only "include" splits its
 *    patterns on blanks); '#' anywhere starts a comment; "=TYPE" suffix,
 *    trailing blanks and trailing slashes dropped; glob results in C order.
 *  - default directories: Debian 12's `ld.so --help` lists the system
 *    search path /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib,
 *    /usr/lib, and NOT /lib64 or /usr/lib64 (Debian configures
 *    slibdir=/lib/$(DEB_HOST_MULTIARCH), libdir=/usr/lib/$(DEB_HOST_MULTIARCH)
 *    in debian/rules.d/build.mk; upstream builds the list from slibdir and
 *    libdir, which are /lib64 and /usr/lib64 on 64-bit upstream layouts).
 *  - $LIB: on Debian 12 x86-64, LD_DEBUG=libs shows RUNPATH "/opt/$LIB"
 *    searched as "/opt/lib/x86_64-linux-gnu"; upstream it is the last
 *    component of slibdir ("lib64" or "lib"). $PLATFORM was "x86_64";
 *    glibc <= 2.36 may also report "haswell" or "xeon_phi" on Intel CPUs.
 *  - glibc-hwcaps: sysdeps/x86_64/dl-hwcaps-subdirs.c
 *    "x86-64-v4:x86-64-v3:x86-64-v2"; powerpc64le "power10:power9"; s390x
 *    "z16:z15:z14:z13" (z16 from 2.36); aarch64 has none upstream in 2.36
 *    (a vendor fork adds "atomics", not Debian's). */
#include "analyzer/ldso.h"

#include <ctype.h>
#include <elf.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* ---- ld.so.cache ---- */

#define OLD_MAGIC "ld.so-1.7.0"
#define NEW_MAGIC "glibc-ld.so.cache1.1"
enum {
	OLD_HDR = 16,   /* magic[11], pad, nlibs */
	OLD_ENT = 12,   /* flags, key, value */
	NEW_HDR = 48,   /* magic+version[20], nlibs, len_strings, flags, pad[3], ext_offset, unused[3] */
	NEW_ENT = 24,   /* flags, key, value, osversion, hwcap(8) */
	EXT_MAGIC = 0xeaa42174u,
	EXT_TAG_HWCAPS = 1,
};

static uint64_t get_n(const uint8_t *p, size_t n, int be)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[be ? i : n - 1 - i];
	return v;
}

/* A NUL-terminated string at base+off inside buf[0, len). */
static const char *cache_str(const uint8_t *buf, size_t len, size_t base, uint64_t off)
{
	if (base > len || off >= len - base)
		return NULL;
	const uint8_t *p = buf + base + off;
	if (!memchr(p, 0, len - base - off))
		return NULL;
	return (const char *)p;
}

static int plausible(size_t len, size_t hdr, uint64_t nlibs, size_t ent, size_t at)
{
	if (at > len || len - at < hdr)
		return 0;
	return (len - at - hdr) / ent >= nlibs;
}

/* Parse the new-format part at buf+at. */
static int parse_new(const uint8_t *buf, size_t len, size_t at, struct ldso_cache *c,
                     struct wh_error *err)
{
	const uint8_t *h = buf + at;
	int endian = h[28] & 3;
	int be;
	if (endian == 2)
		be = 0;
	else if (endian == 3)
		be = 1;
	else if (endian == 0) { /* written before glibc 2.33: sniff */
		be = !plausible(len, NEW_HDR, get_n(h + 20, 4, 0), NEW_ENT, at);
	} else
		return wh_err(err, WH_EINPUT, "ld.so.cache: invalid byte-order flag in the header");
	uint64_t nlibs = get_n(h + 20, 4, be);
	if (!plausible(len, NEW_HDR, nlibs, NEW_ENT, at))
		return wh_err(err, WH_EINPUT, "ld.so.cache: %llu entries do not fit in %zu bytes",
		              (unsigned long long)nlibs, len);

	/* glibc-hwcaps names from the extension directory, if any. Unlike
	 * the entries' strings, the extension offsets count from the start of
	 * the file (they differ in the compat format; glibc's
	 * cache_extension_load and glibc_hwcaps_compare use the file start). */
	uint64_t ext = get_n(h + 32, 4, be);
	const uint8_t *hw = NULL;
	uint64_t n_hw = 0;
	if (ext != 0 && ext <= len && len - ext >= 8 && get_n(buf + ext, 4, be) == EXT_MAGIC) {
		uint64_t count = get_n(buf + ext + 4, 4, be);
		if (count > (len - ext - 8) / 16)
			return wh_err(err, WH_EINPUT, "ld.so.cache: extension directory is truncated");
		for (uint64_t i = 0; i < count; i++) {
			const uint8_t *s = buf + ext + 8 + i * 16;
			if (get_n(s, 4, be) != EXT_TAG_HWCAPS)
				continue;
			uint64_t off = get_n(s + 8, 4, be), size = get_n(s + 12, 4, be);
			if (off > len || size > len - off)
				return wh_err(err, WH_EINPUT,
				              "ld.so.cache: glibc-hwcaps section lies outside the file");
			hw = buf + off;
			n_hw = size / 4;
		}
	}

	c->entries = xcalloc(nlibs ? nlibs : 1, sizeof *c->entries);
	for (uint64_t i = 0; i < nlibs; i++) {
		const uint8_t *e = h + NEW_HDR + i * NEW_ENT;
		struct ldso_cache_entry *ce = &c->entries[i];
		ce->flags = (int32_t)(uint32_t)get_n(e, 4, be);
		const char *k = cache_str(buf, len, at, get_n(e + 4, 4, be));
		const char *v = cache_str(buf, len, at, get_n(e + 8, 4, be));
		if (!k || !v)
			return wh_err(err, WH_EINPUT,
			              "ld.so.cache: entry %llu has a string outside the file",
			              (unsigned long long)i);
		ce->key = arena_strdup(&c->strings, k);
		ce->value = arena_strdup(&c->strings, v);
		ce->osversion = (uint32_t)get_n(e + 12, 4, be);
		ce->hwcap = get_n(e + 16, 8, be);
		if (ce->hwcap & LDSO_HWCAP_EXTENSION) {
			uint32_t idx = (uint32_t)ce->hwcap;
			const char *name = NULL;
			if (hw && idx < n_hw)
				name = cache_str(buf, len, 0, get_n(hw + 4 * (size_t)idx, 4, be));
			if (!name)
				return wh_err(err, WH_EINPUT,
				              "ld.so.cache: entry %llu names a missing glibc-hwcaps "
				              "subdirectory", (unsigned long long)i);
			ce->hwcaps_subdir = arena_strdup(&c->strings, name);
		}
		c->n++;
	}
	return 0;
}

int ldso_cache_parse(const uint8_t *buf, size_t len, struct ldso_cache *out, struct wh_error *err)
{
	memset(out, 0, sizeof *out);
	arena_init(&out->strings);
	int rc;
	if (buf && len >= NEW_HDR && memcmp(buf, NEW_MAGIC, 20) == 0) {
		out->format = LDSO_CACHE_NEW;
		rc = parse_new(buf, len, 0, out, err);
	} else if (buf && len >= OLD_HDR && memcmp(buf, OLD_MAGIC, 11) == 0) {
		/* The old header does not say its byte order: take the one whose
		 * entry count fits. */
		int be = 0;
		uint64_t nlibs = get_n(buf + 12, 4, 0);
		if (!plausible(len, OLD_HDR, nlibs, OLD_ENT, 0)) {
			be = 1;
			nlibs = get_n(buf + 12, 4, 1);
		}
		if (!plausible(len, OLD_HDR, nlibs, OLD_ENT, 0)) {
			rc = wh_err(err, WH_EINPUT, "ld.so.cache: old-format entry count does not fit");
			goto done;
		}
		size_t end = OLD_HDR + (size_t)nlibs * OLD_ENT;
		/* The new format follows, aligned as struct cache_file_new:
		 * 8 on most arches, 4 where uint64_t is 4-aligned (i386). */
		size_t at8 = (end + 7) & ~(size_t)7, at4 = (end + 3) & ~(size_t)3;
		size_t at = 0;
		if (at8 <= len && len - at8 >= NEW_HDR && memcmp(buf + at8, NEW_MAGIC, 20) == 0)
			at = at8;
		else if (at4 <= len && len - at4 >= NEW_HDR && memcmp(buf + at4, NEW_MAGIC, 20) == 0)
			at = at4;
		if (at) {
			out->format = LDSO_CACHE_COMPAT;
			rc = parse_new(buf, len, at, out, err);
			goto done;
		}
		out->format = LDSO_CACHE_OLD;
		out->entries = xcalloc(nlibs ? nlibs : 1, sizeof *out->entries);
		rc = 0;
		for (uint64_t i = 0; i < nlibs; i++) {
			const uint8_t *e = buf + OLD_HDR + i * OLD_ENT;
			const char *k = cache_str(buf, len, end, get_n(e + 4, 4, be));
			const char *v = cache_str(buf, len, end, get_n(e + 8, 4, be));
			if (!k || !v) {
				rc = wh_err(err, WH_EINPUT,
				            "ld.so.cache: entry %llu has a string outside the file",
				            (unsigned long long)i);
				break;
			}
			struct ldso_cache_entry *ce = &out->entries[out->n++];
			ce->flags = (int32_t)(uint32_t)get_n(e, 4, be);
			ce->key = arena_strdup(&out->strings, k);
			ce->value = arena_strdup(&out->strings, v);
		}
	} else {
		rc = wh_err(err, WH_EINPUT, "not an ld.so.cache (unknown magic)");
	}
done:
	if (rc)
		ldso_cache_free(out);
	return rc;
}

void ldso_cache_free(struct ldso_cache *c)
{
	if (!c)
		return;
	free(c->entries);
	arena_free(&c->strings);
	memset(c, 0, sizeof *c);
	arena_init(&c->strings);
}

int ldso_cache_flags_ok(int32_t flags, uint16_t machine, uint8_t elf_class)
{
	int is64 = elf_class == ELFCLASS64;
	switch (machine) {
	case EM_X86_64:
		return flags == (is64 ? (LDSO_FLAG_X8664_LIB64 | LDSO_FLAG_ELF_LIBC6)
		                      : (LDSO_FLAG_X8664_LIBX32 | LDSO_FLAG_ELF_LIBC6));
	case EM_AARCH64:
		if (is64)
			return flags == (LDSO_FLAG_AARCH64_LIB64 | LDSO_FLAG_ELF_LIBC6);
		break;
	case EM_ARM:
		return flags == (LDSO_FLAG_ARM_LIBHF | LDSO_FLAG_ELF_LIBC6) ||
		       flags == (LDSO_FLAG_ARM_LIBSF | LDSO_FLAG_ELF_LIBC6) ||
		       flags == LDSO_FLAG_ELF_LIBC6;
	case EM_PPC64:
		return flags == (LDSO_FLAG_POWERPC_LIB64 | LDSO_FLAG_ELF_LIBC6);
	case EM_S390:
		if (is64)
			return flags == (LDSO_FLAG_S390_LIB64 | LDSO_FLAG_ELF_LIBC6);
		break;
	case EM_RISCV:
		if (is64)
			return flags == (LDSO_FLAG_RISCV_FLOAT_ABI_DOUBLE | LDSO_FLAG_ELF_LIBC6) ||
			       flags == (LDSO_FLAG_RISCV_FLOAT_ABI_SOFT | LDSO_FLAG_ELF_LIBC6);
		break;
	case EM_LOONGARCH:
		return flags == (LDSO_FLAG_LARCH_FLOAT_ABI_DOUBLE | LDSO_FLAG_ELF_LIBC6) ||
		       flags == (LDSO_FLAG_LARCH_FLOAT_ABI_SOFT | LDSO_FLAG_ELF_LIBC6);
	case EM_MIPS:
		/* n32/n64/o32 and NaN variants: any libc6 or plain ELF entry */
		return (flags & LDSO_FLAG_TYPE_MASK) == LDSO_FLAG_ELF_LIBC6 ||
		       flags == LDSO_FLAG_ELF;
	default:
		break;
	}
	/* glibc's generic _dl_cache_check_flags (i386 among others) */
	return flags == LDSO_FLAG_ELF || flags == LDSO_FLAG_ELF_LIBC6;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int ldso_cache_libcmp(const char *p1, const char *p2)
{
	while (*p1 != '\0') {
		if (is_digit(*p1)) {
			if (!is_digit(*p2))
				return 1;
			/* compare the digit runs as numbers, without overflow */
			while (*p1 == '0' && is_digit(p1[1]))
				p1++;
			while (*p2 == '0' && is_digit(p2[1]))
				p2++;
			size_t n1 = 0, n2 = 0;
			while (is_digit(p1[n1]))
				n1++;
			while (is_digit(p2[n2]))
				n2++;
			if (n1 != n2)
				return n1 < n2 ? -1 : 1;
			int c = memcmp(p1, p2, n1);
			if (c)
				return c;
			p1 += n1;
			p2 += n2;
		} else if (is_digit(*p2)) {
			return -1;
		} else if (*p1 != *p2) {
			return (unsigned char)*p1 - (unsigned char)*p2;
		} else {
			p1++;
			p2++;
		}
	}
	return -(int)(unsigned char)*p2;
}

/* Default cache flags of each ld.so: an entry with exactly these ends an
 * old-format search. */
static int default_id(uint16_t machine, uint8_t elf_class)
{
	int is64 = elf_class == ELFCLASS64;
	switch (machine) {
	case EM_X86_64: return is64 ? 0x0303 : 0x0803;
	case EM_AARCH64: return 0x0a03;
	case EM_PPC64: return 0x0503;
	case EM_S390: return is64 ? 0x0403 : 3;
	default: return LDSO_FLAG_ELF_LIBC6;
	}
}

const char *ldso_cache_lookup(const struct ldso_cache *c, const char *soname,
                              uint16_t machine, uint8_t elf_class)
{
	const char *best = NULL;
	for (size_t i = 0; i < c->n; i++) {
		const struct ldso_cache_entry *e = &c->entries[i];
		if (ldso_cache_libcmp(soname, e->key) != 0)
			continue;
		if (!ldso_cache_flags_ok(e->flags, machine, elf_class))
			continue;
		/* glibc-hwcaps and legacy hwcap entries need a CPU feature;
		 * the TLS bit (63) is always satisfied. */
		if (e->hwcaps_subdir || (e->hwcap & ~(1ull << 63)) != 0)
			continue;
		if (c->format != LDSO_CACHE_OLD)
			return e->value;
		/* old format: later entries replace earlier ones until one has
		 * the default flags (glibc's search_cache) */
		best = e->value;
		if (e->flags == default_id(machine, elf_class))
			break;
	}
	return best;
}

size_t ldso_cache_lookup_all(const struct ldso_cache *c, const char *soname,
                             uint16_t machine, uint8_t elf_class,
                             const char **paths, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct ldso_cache_entry *e = &c->entries[i];
		if (ldso_cache_libcmp(soname, e->key) != 0 ||
		    !ldso_cache_flags_ok(e->flags, machine, elf_class))
			continue;
		if (n < max)
			paths[n] = e->value;
		n++;
	}
	return n;
}

/* ---- ld.so.conf ---- */

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_push(struct strv *s, char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = str;
}

void ldso_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* glob(3) over the image: every path matching the absolute pattern,
 * sorted. A pattern without wildcards yields itself (the caller's
 * read_file decides whether it exists). */
static void glob_image(const struct ldso_fs *fs, const char *pattern, struct strv *res)
{
	struct strv cur = {0};
	strv_push(&cur, xstrdup(""));
	char *pat = xstrdup(pattern);
	char *save = NULL;
	for (char *comp = strtok_r(pat, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		struct strv next = {0};
		for (size_t i = 0; i < cur.n; i++) {
			if (!has_magic(comp)) {
				strv_push(&next, xasprintf("%s/%s", cur.v[i], comp));
				continue;
			}
			char **names = NULL;
			size_t nn = 0;
			const char *dir = cur.v[i][0] ? cur.v[i] : "/";
			if (!fs->list_dir || fs->list_dir(fs->ctx, dir, &names, &nn) != 0)
				continue;
			for (size_t k = 0; k < nn; k++) {
				if (strcmp(names[k], ".") && strcmp(names[k], "..") &&
				    fnmatch(comp, names[k], FNM_PERIOD) == 0)
					strv_push(&next, xasprintf("%s/%s", cur.v[i], names[k]));
			}
			ldso_strv_free(names, nn);
		}
		ldso_strv_free(cur.v, cur.n);
		cur = next;
	}
	free(pat);
	if (cur.n > 1)
		qsort(cur.v, cur.n, sizeof *cur.v, cmp_str);
	for (size_t i = 0; i < cur.n; i++) {
		if (cur.v[i][0] == '\0') { /* the pattern was "/" */
			free(cur.v[i]);
			cur.v[i] = xstrdup("/");
		}
		strv_push(res, cur.v[i]);
	}
	free(cur.v);
}

static void add_dir(struct strv *dirs, const char *line)
{
	char *p = xstrdup(line);
	char *eq = strchr(p, '=');
	if (eq)
		*eq = '\0';
	size_t i = strlen(p);
	while (i > 0 && isspace((unsigned char)p[i - 1]))
		p[--i] = '\0';
	while (i > 0 && p[i - 1] == '/')
		p[--i] = '\0';
	if (i == 0) {
		free(p);
		return;
	}
	for (size_t k = 0; k < dirs->n; k++)
		if (strcmp(dirs->v[k], p) == 0) {
			free(p);
			return;
		}
	strv_push(dirs, p);
}

static int parse_conf(const struct ldso_fs *fs, const char *filename, int depth,
                      struct strv *dirs, struct wh_error *err)
{
	if (depth > LDSO_CONF_MAX_DEPTH)
		return wh_err(err, WH_EINPUT,
		              "%s: ld.so.conf includes nest deeper than %d levels (an include loop?)",
		              filename, LDSO_CONF_MAX_DEPTH);
	const uint8_t *data;
	size_t len;
	if (!fs->read_file || fs->read_file(fs->ctx, filename, &data, &len) != 0)
		return 0; /* ldconfig ignores a file it cannot open */
	/* copy: the callee's bytes may be reused by nested read_file calls */
	char *text = xmalloc(len + 1);
	memcpy(text, data, len);
	text[len] = '\0';
	int rc = 0;
	char *save = NULL;
	char *end = text + len;
	for (char *line = text, *next; line && rc == 0; line = next) {
		next = memchr(line, '\n', (size_t)(end - line));
		if (next)
			*next++ = '\0';
		/* an embedded NUL ends the line, as with getline + C strings */
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *cp = line;
		while (isspace((unsigned char)*cp))
			cp++;
		if (*cp == '\0')
			continue;
		if (strncmp(cp, "include", 7) == 0 && (cp[7] == ' ' || cp[7] == '\t')) {
			cp += 8;
			for (char *pat = strtok_r(cp, " \t", &save); pat && rc == 0;
			     pat = strtok_r(NULL, " \t", &save)) {
				char *full;
				const char *slash = strrchr(filename, '/');
				if (pat[0] != '/' && slash)
					full = xasprintf("%.*s/%s", (int)(slash - filename), filename, pat);
				else if (pat[0] != '/')
					full = xasprintf("/%s", pat);
				else
					full = xstrdup(pat);
				struct strv files = {0};
				glob_image(fs, full, &files);
				for (size_t i = 0; i < files.n && rc == 0; i++)
					rc = parse_conf(fs, files.v[i], depth + 1, dirs, err);
				ldso_strv_free(files.v, files.n);
				free(full);
			}
		} else if (strncasecmp(cp, "hwcap", 5) == 0 && (cp[5] == ' ' || cp[5] == '\t')) {
			continue; /* ignored by ldconfig since glibc 2.37, obsolete before */
		} else {
			add_dir(dirs, cp);
		}
	}
	free(text);
	return rc;
}

int ldso_conf_parse(const struct ldso_fs *fs, const char *path, struct ldso_dirs *out,
                    struct wh_error *err)
{
	struct strv dirs = {0};
	int rc = parse_conf(fs, path, 0, &dirs, err);
	if (rc) {
		ldso_strv_free(dirs.v, dirs.n);
		out->dirs = NULL;
		out->n = 0;
		return rc;
	}
	out->dirs = dirs.v;
	out->n = dirs.n;
	return 0;
}

void ldso_dirs_free(struct ldso_dirs *d)
{
	if (!d)
		return;
	ldso_strv_free(d->dirs, d->n);
	d->dirs = NULL;
	d->n = 0;
}

/* ---- default directories, tokens, hwcaps ---- */

struct arch_info {
	uint16_t machine;
	uint8_t elf_class;
	const char *const *multiarch_dirs; /* Debian */
	const char *const *lib_tokens;     /* $LIB candidates */
	const char *const *platforms;      /* $PLATFORM candidates */
	const char *const *hwcaps;         /* glibc-hwcaps subdirectories */
};

#define LIST(...) (const char *const[]){__VA_ARGS__, NULL}

static const struct arch_info arches[] = {
	{EM_X86_64, ELFCLASS64,
	 LIST("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"),
	 LIST("lib/x86_64-linux-gnu", "lib64", "lib"),
	 LIST("x86_64", "haswell", "xeon_phi"),
	 LIST("x86-64-v4", "x86-64-v3", "x86-64-v2")},
	{EM_X86_64, ELFCLASS32, /* x32 */
	 LIST("/lib/x86_64-linux-gnux32", "/usr/lib/x86_64-linux-gnux32", "/lib", "/usr/lib"),
	 LIST("lib/x86_64-linux-gnux32", "libx32", "lib"),
	 LIST("x86_64", "haswell", "xeon_phi"),
	 LIST("x86-64-v4", "x86-64-v3", "x86-64-v2")},
	{EM_386, ELFCLASS32,
	 LIST("/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu", "/lib", "/usr/lib"),
	 LIST("lib/i386-linux-gnu", "lib", "lib32"),
	 LIST("i686", "i586", "i486", "i386"),
	 NULL},
	{EM_AARCH64, ELFCLASS64,
	 LIST("/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib"),
	 LIST("lib/aarch64-linux-gnu", "lib64", "lib"),
	 LIST("aarch64"),
	 NULL},
	{EM_ARM, ELFCLASS32,
	 LIST("/lib/arm-linux-gnueabihf", "/usr/lib/arm-linux-gnueabihf",
	      "/lib/arm-linux-gnueabi", "/usr/lib/arm-linux-gnueabi", "/lib", "/usr/lib"),
	 LIST("lib/arm-linux-gnueabihf", "lib/arm-linux-gnueabi", "lib"),
	 LIST("v7l", "v8l", "v6l", "v5l"),
	 NULL},
	{EM_PPC64, ELFCLASS64,
	 LIST("/lib/powerpc64le-linux-gnu", "/usr/lib/powerpc64le-linux-gnu", "/lib", "/usr/lib"),
	 LIST("lib/powerpc64le-linux-gnu", "lib64", "lib"),
	 LIST("power10", "power9", "power8"),
	 LIST("power10", "power9")},
	{EM_S390, ELFCLASS64,
	 LIST("/lib/s390x-linux-gnu", "/usr/lib/s390x-linux-gnu", "/lib", "/usr/lib"),
	 LIST("lib/s390x-linux-gnu", "lib64", "lib"),
	 LIST("z16", "z15", "z14", "z13", "zEC12", "z196"),
	 LIST("z16", "z15", "z14", "z13")},
	{EM_RISCV, ELFCLASS64,
	 LIST("/lib/riscv64-linux-gnu", "/usr/lib/riscv64-linux-gnu", "/lib", "/usr/lib"),
	 LIST("lib/riscv64-linux-gnu", "lib64/lp64d", "lib64", "lib"),
	 LIST("riscv64"),
	 NULL},
};

static const struct arch_info *arch_find(uint16_t machine, uint8_t elf_class)
{
	for (size_t i = 0; i < ARRAY_LEN(arches); i++)
		if (arches[i].machine == machine && arches[i].elf_class == elf_class)
			return &arches[i];
	return NULL;
}

static size_t list_len(const char *const *l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	return n;
}

const char *const *ldso_default_dirs(uint16_t machine, uint8_t elf_class, int layout, size_t *n)
{
	static const char *const lib64[] = {"/lib64", "/usr/lib64", NULL};
	static const char *const lib[] = {"/lib", "/usr/lib", NULL};
	static const char *const libx32[] = {"/libx32", "/usr/libx32", NULL};
	const struct arch_info *a = arch_find(machine, elf_class);
	const char *const *r;
	if (layout == LDSO_LAYOUT_MULTIARCH)
		r = a ? a->multiarch_dirs : NULL;
	else if (machine == EM_X86_64 && elf_class == ELFCLASS32)
		r = libx32;
	else
		r = elf_class == ELFCLASS64 ? lib64 : lib;
	*n = list_len(r);
	return r;
}

const char *const *ldso_hwcaps_subdirs(uint16_t machine, uint8_t elf_class, size_t *n)
{
	const struct arch_info *a = arch_find(machine, elf_class);
	*n = a ? list_len(a->hwcaps) : 0;
	return a ? a->hwcaps : NULL;
}

/* Is elem[i] the start of a DST named name ($NAME or ${NAME})? Returns its
 * length including '$' and braces, or 0 (glibc's is_dst). */
static size_t dst_len(const char *s, const char *name)
{
	size_t n = strlen(name);
	if (s[0] != '$')
		return 0;
	if (s[1] == '{')
		return strncmp(s + 2, name, n) == 0 && s[2 + n] == '}' ? n + 3 : 0;
	if (strncmp(s + 1, name, n) != 0)
		return 0;
	char c = s[1 + n];
	return isalnum((unsigned char)c) || c == '_' ? 0 : n + 1;
}

#define MAX_CANDIDATES 256

int ldso_expand_tokens(const char *elem, const char *origin, uint16_t machine, uint8_t elf_class,
                       char ***out, size_t *n, struct wh_error *err)
{
	const struct arch_info *a = arch_find(machine, elf_class);
	static const char *const lib_fallback64[] = {"lib64", "lib", NULL};
	static const char *const lib_fallback32[] = {"lib", NULL};
	struct strv cur = {0};
	strv_push(&cur, xstrdup(""));
	*out = NULL;
	*n = 0;
	const char *s = elem;
	while (*s) {
		const char *const *alts = NULL;
		const char *origin_alt[2] = {origin, NULL};
		size_t tl = 0;
		if ((tl = dst_len(s, "ORIGIN"))) {
			if (!origin) { /* glibc drops the element */
				ldso_strv_free(cur.v, cur.n);
				*out = xcalloc(1, sizeof **out);
				return 0;
			}
			alts = origin_alt;
		} else if ((tl = dst_len(s, "LIB"))) {
			alts = a ? a->lib_tokens
			         : (elf_class == ELFCLASS64 ? lib_fallback64 : lib_fallback32);
		} else if ((tl = dst_len(s, "PLATFORM"))) {
			alts = a ? a->platforms : NULL;
			if (!alts) /* unknown arch: keep the token */
				tl = 0;
		}
		if (!alts) {
			/* a literal run up to the next '$' (or a lone '$') */
			size_t lit = tl ? tl : 1;
			while (s[lit] && s[lit] != '$')
				lit++;
			for (size_t i = 0; i < cur.n; i++) {
				char *t = xasprintf("%s%.*s", cur.v[i], (int)lit, s);
				free(cur.v[i]);
				cur.v[i] = t;
			}
			s += lit;
			continue;
		}
		size_t na = list_len(alts);
		if (cur.n * na > MAX_CANDIDATES) {
			ldso_strv_free(cur.v, cur.n);
			return wh_err(err, WH_EINPUT, "RPATH element \"%s\" expands to more than %d paths",
			              elem, MAX_CANDIDATES);
		}
		struct strv next = {0};
		for (size_t i = 0; i < cur.n; i++)
			for (size_t k = 0; k < na; k++)
				strv_push(&next, xasprintf("%s%s", cur.v[i], alts[k]));
		ldso_strv_free(cur.v, cur.n);
		cur = next;
		s += tl;
	}
	*out = cur.v;
	*n = cur.n;
	return 0;
}
