/* elf: a bounds-checked ELF reader over an in-memory buffer. */
#include "analyzer/elf.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

/* The bytes the parser may read: spans of the file (the whole buffer, or
 * what a streaming reader kept). Every read goes through rd_ok(), which
 * checks [off, off+n) against one span, remembers the furthest byte asked
 * for (for elf_bytes_needed) and the first range it lacked (for
 * elf_stream). */
struct rd {
	const struct elf_span *spans;
	size_t nspans;
	uint64_t len;       /* the file's size: nothing lies past it */
	uint64_t avail;     /* bytes received so far (a stream), else len */
	int is64, be;
	uint16_t machine;
	uint64_t need;      /* max end of every range asked for */
	uint64_t short_end; /* end of the first range that fell past len, 0 if none */
	int missed;         /* a range inside the file was not held: */
	uint64_t miss_off, miss_end; /* the first one */
};

static const uint8_t *rd_ptr(const struct rd *r, uint64_t off, uint64_t n)
{
	for (size_t i = 0; i < r->nspans; i++) {
		const struct elf_span *sp = &r->spans[i];
		if (off >= sp->off && off - sp->off <= sp->len && n <= sp->len - (off - sp->off))
			return sp->data + (off - sp->off);
	}
	return NULL;
}

static int rd_ok(struct rd *r, uint64_t off, uint64_t n)
{
	uint64_t end = off + n;
	if (end < off) /* overflow: no file is that big */
		return 0;
	if (end > r->need)
		r->need = end;
	if (end > r->len) {
		if (!r->short_end)
			r->short_end = end;
		return 0;
	}
	if (n && (end > r->avail || !rd_ptr(r, off, n))) { /* an empty range needs no bytes */
		if (!r->missed) {
			r->missed = 1;
			r->miss_off = off;
			r->miss_end = end;
		}
		return 0;
	}
	return 1;
}

/* Read an n-byte (1, 2, 4, 8) unsigned integer at off; the range must have
 * been checked with rd_ok. */
static uint64_t rd_get(const struct rd *r, uint64_t off, size_t n)
{
	const uint8_t *p = rd_ptr(r, off, n);
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = r->be ? i : n - 1 - i;
		v = (v << 8) | p[k];
	}
	return v;
}

#define FSIZE(T, f) sizeof(((T *)0)->f)
/* A field of an ELF structure at base (class-dependent layout). */
#define FIELD(r, base, T32, T64, f) \
	((r)->is64 ? rd_get((r), (base) + offsetof(T64, f), FSIZE(T64, f)) \
	           : rd_get((r), (base) + offsetof(T32, f), FSIZE(T32, f)))
#define EH(r, f) FIELD(r, 0, Elf32_Ehdr, Elf64_Ehdr, f)
#define PH(r, b, f) FIELD(r, b, Elf32_Phdr, Elf64_Phdr, f)
#define SH(r, b, f) FIELD(r, b, Elf32_Shdr, Elf64_Shdr, f)
#define DY(r, b, f) FIELD(r, b, Elf32_Dyn, Elf64_Dyn, f)
#define SY(r, b, f) FIELD(r, b, Elf32_Sym, Elf64_Sym, f)
#define SZ(r, T) ((r)->is64 ? sizeof(Elf64_##T) : sizeof(Elf32_##T))

int elf_is_elf(const uint8_t *buf, size_t len)
{
	return buf && len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

/* Symbol names whose import sets a bit in elf_info.imports; sorted by name
 * (strcmp) for bsearch. */
struct imp_name {
	const char *name;
	uint32_t bit;
};
static const struct imp_name imp_names[] = {
	{"__res_init", ELF_IMP_NSS_HOST},
	{"__res_nquery", ELF_IMP_NSS_HOST},
	{"__res_nsearch", ELF_IMP_NSS_HOST},
	{"__res_query", ELF_IMP_NSS_HOST},
	{"__res_search", ELF_IMP_NSS_HOST},
	{"dlmopen", ELF_IMP_DLOPEN},
	{"dlopen", ELF_IMP_DLOPEN},
	{"endgrent", ELF_IMP_NSS_USER},
	{"endpwent", ELF_IMP_NSS_USER},
	{"endspent", ELF_IMP_NSS_USER},
	{"ether_hostton", ELF_IMP_NSS_HOST},
	{"ether_ntohost", ELF_IMP_NSS_HOST},
	{"getaddrinfo", ELF_IMP_NSS_HOST},
	{"getaddrinfo_a", ELF_IMP_NSS_HOST},
	{"getgrent", ELF_IMP_NSS_USER},
	{"getgrent_r", ELF_IMP_NSS_USER},
	{"getgrgid", ELF_IMP_NSS_USER},
	{"getgrgid_r", ELF_IMP_NSS_USER},
	{"getgrnam", ELF_IMP_NSS_USER},
	{"getgrnam_r", ELF_IMP_NSS_USER},
	{"getgrouplist", ELF_IMP_NSS_USER},
	{"gethostbyaddr", ELF_IMP_NSS_HOST},
	{"gethostbyaddr_r", ELF_IMP_NSS_HOST},
	{"gethostbyname", ELF_IMP_NSS_HOST},
	{"gethostbyname2", ELF_IMP_NSS_HOST},
	{"gethostbyname2_r", ELF_IMP_NSS_HOST},
	{"gethostbyname_r", ELF_IMP_NSS_HOST},
	{"gethostent", ELF_IMP_NSS_HOST},
	{"gethostent_r", ELF_IMP_NSS_HOST},
	{"getlogin", ELF_IMP_NSS_USER},
	{"getlogin_r", ELF_IMP_NSS_USER},
	{"getnameinfo", ELF_IMP_NSS_HOST},
	{"getnetbyaddr", ELF_IMP_NSS_HOST},
	{"getnetbyaddr_r", ELF_IMP_NSS_HOST},
	{"getnetbyname", ELF_IMP_NSS_HOST},
	{"getnetbyname_r", ELF_IMP_NSS_HOST},
	{"getnetgrent", ELF_IMP_NSS_USER},
	{"getnetgrent_r", ELF_IMP_NSS_USER},
	{"getprotobyname", ELF_IMP_NSS_HOST},
	{"getprotobyname_r", ELF_IMP_NSS_HOST},
	{"getprotobynumber", ELF_IMP_NSS_HOST},
	{"getprotobynumber_r", ELF_IMP_NSS_HOST},
	{"getprotoent", ELF_IMP_NSS_HOST},
	{"getprotoent_r", ELF_IMP_NSS_HOST},
	{"getpwent", ELF_IMP_NSS_USER},
	{"getpwent_r", ELF_IMP_NSS_USER},
	{"getpwnam", ELF_IMP_NSS_USER},
	{"getpwnam_r", ELF_IMP_NSS_USER},
	{"getpwuid", ELF_IMP_NSS_USER},
	{"getpwuid_r", ELF_IMP_NSS_USER},
	{"getservbyname", ELF_IMP_NSS_HOST},
	{"getservbyname_r", ELF_IMP_NSS_HOST},
	{"getservbyport", ELF_IMP_NSS_HOST},
	{"getservbyport_r", ELF_IMP_NSS_HOST},
	{"getservent", ELF_IMP_NSS_HOST},
	{"getservent_r", ELF_IMP_NSS_HOST},
	{"getspent", ELF_IMP_NSS_USER},
	{"getspent_r", ELF_IMP_NSS_USER},
	{"getspnam", ELF_IMP_NSS_USER},
	{"getspnam_r", ELF_IMP_NSS_USER},
	{"iconv_open", ELF_IMP_ICONV},
	{"initgroups", ELF_IMP_NSS_USER},
	{"innetgr", ELF_IMP_NSS_USER},
	{"newlocale", ELF_IMP_LOCALE},
	{"popen", ELF_IMP_SHELL},
	{"pthread_cancel", ELF_IMP_PTHREAD_CANCEL},
	{"pthread_exit", ELF_IMP_PTHREAD_CANCEL},
	{"setgrent", ELF_IMP_NSS_USER},
	{"setlocale", ELF_IMP_LOCALE},
	{"setnetgrent", ELF_IMP_NSS_USER},
	{"setpwent", ELF_IMP_NSS_USER},
	{"setspent", ELF_IMP_NSS_USER},
	{"system", ELF_IMP_SHELL},
};

static int imp_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct imp_name *)elem)->name);
}

static uint32_t imp_bits(const char *name)
{
	/* The resolver interface: res_init, res_query, res_nsearch, ...
	 * (glibc maps most to __res_* through symbol versions, but programs
	 * built against older headers import the plain names). */
	if (strncmp(name, "res_", 4) == 0 || strncmp(name, "__res_", 6) == 0 ||
	    strncmp(name, "ns_", 3) == 0 || strncmp(name, "__ns_", 5) == 0 ||
	    strncmp(name, "dn_", 3) == 0 || strncmp(name, "__dn_", 5) == 0)
		return ELF_IMP_NSS_HOST;
	const struct imp_name *m =
		bsearch(name, imp_names, ARRAY_LEN(imp_names), sizeof imp_names[0], imp_cmp);
	return m ? m->bit : 0;
}

/* Map a virtual address to a file offset through the PT_LOAD segments.
 * avail gets the number of file bytes from there to the end of the
 * segment's file image. */
static int vaddr_to_off(struct rd *r, uint64_t phoff, uint64_t phent, uint64_t phnum,
                        uint64_t addr, uint64_t *off, uint64_t *avail)
{
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t b = phoff + i * phent;
		if (PH(r, b, p_type) != PT_LOAD)
			continue;
		uint64_t va = PH(r, b, p_vaddr), fsz = PH(r, b, p_filesz), fo = PH(r, b, p_offset);
		if (addr >= va && addr - va < fsz) {
			*off = fo + (addr - va);
			*avail = fsz - (addr - va);
			if (*off < fo) /* overflow */
				return 0;
			return 1;
		}
	}
	return 0;
}

struct strtab {
	int present;
	uint64_t off, size;
	const uint8_t *p; /* its bytes (checked with rd_ok) */
};

/* A NUL-terminated string at index idx of the table, or NULL. */
static const char *str_at(struct rd *r, const struct strtab *st, uint64_t idx)
{
	(void)r;
	if (!st->present || idx >= st->size)
		return NULL;
	const uint8_t *p = st->p + idx;
	if (!memchr(p, 0, st->size - idx))
		return NULL;
	return (const char *)p;
}

static int get_str(struct rd *r, const struct strtab *st, uint64_t idx, const char *what,
                   char **out, struct wh_error *err)
{
	const char *s = str_at(r, st, idx);
	if (!s)
		return wh_err(err, WH_EINPUT,
		              "%s: string offset %llu is outside the dynamic string table "
		              "or not NUL-terminated", what, (unsigned long long)idx);
	*out = xstrdup(s);
	return 0;
}

/* Number of dynamic symbols from DT_GNU_HASH: one past the last symbol
 * reachable from the highest bucket's chain (ld, gold and lld put every
 * unhashed symbol before the hashed ones). Returns 1 when the table has no
 * hashed symbol at all and so cannot tell. */
static int gnu_hash_nsyms(struct rd *r, uint64_t off, uint64_t *nsyms, struct wh_error *err)
{
	if (!rd_ok(r, off, 16))
		return wh_err(err, WH_EINPUT, "DT_GNU_HASH table lies past the end of the file");
	uint64_t nbuckets = rd_get(r, off, 4), symoffset = rd_get(r, off + 4, 4);
	uint64_t bloom_size = rd_get(r, off + 8, 4);
	uint64_t word = r->is64 ? 8 : 4;
	uint64_t buckets = off + 16 + bloom_size * word;
	if (!rd_ok(r, buckets, nbuckets * 4))
		return wh_err(err, WH_EINPUT, "DT_GNU_HASH buckets lie past the end of the file");
	uint64_t chains = buckets + nbuckets * 4;
	uint64_t max = 0;
	for (uint64_t i = 0; i < nbuckets; i++) {
		uint64_t v = rd_get(r, buckets + i * 4, 4);
		if (v > max)
			max = v;
	}
	if (max == 0) {
		/* No hashed symbol: symoffset says nothing about how many
		 * unhashed (undefined) symbols precede it (ld writes 1). */
		*nsyms = 0;
		return 1;
	}
	if (max < symoffset)
		return wh_err(err, WH_EINPUT, "DT_GNU_HASH bucket %llu is below symoffset %llu",
		              (unsigned long long)max, (unsigned long long)symoffset);
	uint64_t idx = max;
	for (;;) {
		uint64_t at = chains + (idx - symoffset) * 4;
		if (!rd_ok(r, at, 4))
			return wh_err(err, WH_EINPUT, "DT_GNU_HASH chain runs past the end of the file");
		uint64_t h = rd_get(r, at, 4);
		idx++;
		if (h & 1)
			break;
	}
	*nsyms = idx;
	return 0;
}

/* The header fields the parse needs, after extended numbering. */
struct hdrs {
	uint64_t phoff, phent, phnum, shoff, shent, shnum;
};

/* The dynamic section's tags the parse reads (the first of each). */
struct dyn_tags {
	uint64_t strtab_addr, strsz, symtab_addr, syment, hash_addr, gnu_hash_addr, rpath, runpath, soname;
	int has_strtab, has_strsz, has_symtab, has_hash, has_gnu_hash, has_rpath, has_runpath, has_soname;
	uint64_t *needed;
	size_t n_needed, cap_needed;
};

/* e_ident, the ELF header and the program header table's bounds. */
static int parse_header(struct rd *r, struct elf_info *out, struct hdrs *h, struct wh_error *err)
{
	if (!rd_ok(r, 0, EI_NIDENT)) {
		if (r->len >= SELFMAG && rd_ptr(r, 0, SELFMAG) && !elf_is_elf(rd_ptr(r, 0, SELFMAG), SELFMAG))
			return wh_err(err, WH_EINPUT, "not an ELF file (bad magic)");
		return wh_err(err, WH_EINPUT, "truncated ELF header");
	}
	const uint8_t *buf = rd_ptr(r, 0, EI_NIDENT);
	if (!elf_is_elf(buf, EI_NIDENT))
		return wh_err(err, WH_EINPUT, "not an ELF file (bad magic)");
	out->elf_class = buf[EI_CLASS];
	out->data = buf[EI_DATA];
	out->osabi = buf[EI_OSABI];
	if (out->elf_class != ELFCLASS32 && out->elf_class != ELFCLASS64)
		return wh_err(err, WH_EINPUT, "unknown ELF class %u", out->elf_class);
	if (out->data != ELFDATA2LSB && out->data != ELFDATA2MSB)
		return wh_err(err, WH_EINPUT, "unknown ELF data encoding %u", out->data);
	r->is64 = out->elf_class == ELFCLASS64;
	r->be = out->data == ELFDATA2MSB;
	if (!rd_ok(r, 0, SZ(r, Ehdr)))
		return wh_err(err, WH_EINPUT, "truncated ELF header");
	out->type = (uint16_t)EH(r, e_type);
	out->machine = r->machine = (uint16_t)EH(r, e_machine);

	*h = (struct hdrs){EH(r, e_phoff), EH(r, e_phentsize), EH(r, e_phnum),
	                   EH(r, e_shoff), EH(r, e_shentsize), EH(r, e_shnum)};
	/* Extended numbering: the real counts live in section header 0. */
	if ((h->phnum == PN_XNUM || h->shnum == 0) && h->shoff != 0) {
		if (h->shent < SZ(r, Shdr))
			return wh_err(err, WH_EINPUT, "section header size %llu is too small", (unsigned long long)h->shent);
		if (!rd_ok(r, h->shoff, SZ(r, Shdr)))
			return wh_err(err, WH_EINPUT, "section header 0 lies past the end of the file");
		if (h->phnum == PN_XNUM)
			h->phnum = SH(r, h->shoff, sh_info);
		if (h->shnum == 0)
			h->shnum = SH(r, h->shoff, sh_size);
	}
	if (h->shnum > UINT32_MAX)
		return wh_err(err, WH_EINPUT, "section header count %llu is absurd", (unsigned long long)h->shnum);
	if (h->phnum > 0) {
		if (h->phent < SZ(r, Phdr))
			return wh_err(err, WH_EINPUT, "program header size %llu is too small", (unsigned long long)h->phent);
		if (!rd_ok(r, h->phoff, h->phnum * h->phent))
			return wh_err(err, WH_EINPUT, "program headers (%llu at offset %llu) lie past the end of the file",
			              (unsigned long long)h->phnum, (unsigned long long)h->phoff);
	}
	return 0;
}

/* PT_INTERP into out, the first PT_DYNAMIC's range into *off, *size
 * (returns 1 when there is one, 0 when not, or a negative error). */
static int parse_phdrs(struct rd *r, const struct hdrs *h, struct elf_info *out, uint64_t *off, uint64_t *size,
                       struct wh_error *err)
{
	int have_dyn = 0;
	for (uint64_t i = 0; i < h->phnum; i++) {
		uint64_t b = h->phoff + i * h->phent;
		uint64_t type = PH(r, b, p_type);
		if (type == PT_INTERP && !out->interp) {
			uint64_t o = PH(r, b, p_offset), n = PH(r, b, p_filesz);
			if (!rd_ok(r, o, n))
				return wh_err(err, WH_EINPUT, "PT_INTERP lies past the end of the file");
			const uint8_t *ip = rd_ptr(r, o, n);
			if (n == 0 || !memchr(ip, 0, n))
				return wh_err(err, WH_EINPUT, "PT_INTERP is not NUL-terminated");
			out->interp = xstrdup((const char *)ip);
		} else if (type == PT_DYNAMIC && !have_dyn) {
			have_dyn = 1;
			*off = PH(r, b, p_offset);
			*size = PH(r, b, p_filesz);
		}
	}
	return have_dyn;
}

static void set_first(int *has, uint64_t *v, uint64_t val)
{
	if (!*has) {
		*has = 1;
		*v = val;
	}
}

/* The dynamic section's tags, up to DT_NULL. */
static void read_dyn_tags(struct rd *r, uint64_t dyn_off, uint64_t ndyn, struct dyn_tags *d, struct elf_info *out)
{
	uint64_t dent = SZ(r, Dyn);
	for (uint64_t i = 0; i < ndyn; i++) {
		uint64_t b = dyn_off + i * dent;
		int64_t tag = (int64_t)DY(r, b, d_tag);
		uint64_t val = DY(r, b, d_un.d_val);
		if (!r->is64) /* sign-extend 32-bit tags */
			tag = (int32_t)(uint32_t)tag;
		if (tag == DT_NULL)
			break;
		switch (tag) {
		case DT_NEEDED:
			if (d->n_needed == d->cap_needed) {
				d->cap_needed = d->cap_needed ? d->cap_needed * 2 : 8;
				d->needed = xrealloc(d->needed, d->cap_needed * sizeof *d->needed);
			}
			d->needed[d->n_needed++] = val;
			break;
		case DT_STRTAB: set_first(&d->has_strtab, &d->strtab_addr, val); break;
		case DT_STRSZ: set_first(&d->has_strsz, &d->strsz, val); break;
		case DT_SYMTAB: set_first(&d->has_symtab, &d->symtab_addr, val); break;
		case DT_SYMENT: d->syment = val; break;
		case DT_HASH: set_first(&d->has_hash, &d->hash_addr, val); break;
		case DT_GNU_HASH: set_first(&d->has_gnu_hash, &d->gnu_hash_addr, val); break;
		case DT_RPATH: set_first(&d->has_rpath, &d->rpath, val); break;
		case DT_RUNPATH: set_first(&d->has_runpath, &d->runpath, val); break;
		case DT_SONAME: set_first(&d->has_soname, &d->soname, val); break;
		case DT_FLAGS: out->flags = val; break;
		case DT_FLAGS_1: out->flags_1 = val; break;
		default: break;
		}
	}
}

/* The dynamic string table, then DT_NEEDED, DT_RPATH, DT_RUNPATH and
 * DT_SONAME out of it. */
static int dyn_strings(struct rd *r, const struct hdrs *h, const struct dyn_tags *d, struct strtab *st,
                       struct elf_info *out, struct wh_error *err)
{
	if (d->has_strtab) {
		uint64_t avail;
		if (!vaddr_to_off(r, h->phoff, h->phent, h->phnum, d->strtab_addr, &st->off, &avail))
			return wh_err(err, WH_EINPUT, "DT_STRTAB address 0x%llx is not in any PT_LOAD segment",
			              (unsigned long long)d->strtab_addr);
		st->size = d->has_strsz ? d->strsz : avail;
		if (!rd_ok(r, st->off, st->size))
			return wh_err(err, WH_EINPUT, "dynamic string table (%llu bytes at offset %llu) lies past the end of the file",
			              (unsigned long long)st->size, (unsigned long long)st->off);
		st->p = rd_ptr(r, st->off, st->size);
		st->present = 1;
	} else if (d->n_needed || d->has_rpath || d->has_runpath || d->has_soname) {
		return wh_err(err, WH_EINPUT, "dynamic section has strings but no DT_STRTAB");
	}
	int rc = 0;
	out->needed = xcalloc(d->n_needed ? d->n_needed : 1, sizeof *out->needed);
	for (size_t i = 0; i < d->n_needed && rc == 0; i++) {
		rc = get_str(r, st, d->needed[i], "DT_NEEDED", &out->needed[i], err);
		if (rc == 0)
			out->n_needed++;
	}
	if (rc == 0 && d->has_rpath)
		rc = get_str(r, st, d->rpath, "DT_RPATH", &out->rpath, err);
	if (rc == 0 && d->has_runpath)
		rc = get_str(r, st, d->runpath, "DT_RUNPATH", &out->runpath, err);
	if (rc == 0 && d->has_soname)
		rc = get_str(r, st, d->soname, "DT_SONAME", &out->soname, err);
	return rc;
}

/* How many dynamic symbols there are: DT_HASH's count, else the GNU hash
 * table's, else the .dynsym section header's, else (sstrip'ed, empty GNU
 * hash) up to .dynstr, which ld puts right after .dynsym. *known 0: no
 * count anywhere. */
static int dyn_symbol_count(struct rd *r, const struct hdrs *h, const struct dyn_tags *d, const struct strtab *st,
                            uint64_t symoff, uint64_t syment, uint64_t *nsyms, int *known, struct wh_error *err)
{
	uint64_t avail, ho;
	*known = 0;
	*nsyms = 0;
	if (d->has_gnu_hash && !d->has_hash) {
		if (!vaddr_to_off(r, h->phoff, h->phent, h->phnum, d->gnu_hash_addr, &ho, &avail))
			return wh_err(err, WH_EINPUT, "DT_GNU_HASH address 0x%llx is not in any PT_LOAD segment",
			              (unsigned long long)d->gnu_hash_addr);
		int rc = gnu_hash_nsyms(r, ho, nsyms, err);
		if (rc < 0)
			return rc;
		*known = rc == 0;
	}
	if (d->has_hash) {
		/* s390x and alpha use 8-byte hash words */
		uint64_t w = (r->is64 && (r->machine == EM_S390 || r->machine == EM_ALPHA)) ? 8 : 4;
		if (!vaddr_to_off(r, h->phoff, h->phent, h->phnum, d->hash_addr, &ho, &avail))
			return wh_err(err, WH_EINPUT, "DT_HASH address 0x%llx is not in any PT_LOAD segment",
			              (unsigned long long)d->hash_addr);
		if (!rd_ok(r, ho, 2 * w))
			return wh_err(err, WH_EINPUT, "DT_HASH table lies past the end of the file");
		*nsyms = rd_get(r, ho + w, w);
		*known = 1;
	} else if (!*known && h->shoff != 0 && h->shnum > 0) {
		if (h->shent < SZ(r, Shdr))
			return wh_err(err, WH_EINPUT, "section header size %llu is too small", (unsigned long long)h->shent);
		if (!rd_ok(r, h->shoff, h->shnum * h->shent))
			return wh_err(err, WH_EINPUT, "section headers lie past the end of the file");
		for (uint64_t i = 0; i < h->shnum; i++) {
			uint64_t b = h->shoff + i * h->shent;
			if (SH(r, b, sh_type) != SHT_DYNSYM)
				continue;
			uint64_t es = SH(r, b, sh_entsize);
			if (es == 0)
				es = syment;
			*nsyms = SH(r, b, sh_size) / es;
			*known = 1;
			break;
		}
	}
	if (!*known && d->has_gnu_hash && st->off > symoff) {
		*nsyms = (st->off - symoff) / syment;
		if (!rd_ok(r, symoff, *nsyms * syment))
			*nsyms = 0;
		*known = *nsyms > 0;
	}
	return 0;
}

/* The undefined global and weak dynamic symbols the run-time rules look
 * for (out->imports). */
static int dyn_imports(struct rd *r, const struct hdrs *h, struct dyn_tags *d, const struct strtab *st,
                       struct elf_info *out, struct wh_error *err)
{
	uint64_t symoff, avail, nsyms;
	int known;
	if (!vaddr_to_off(r, h->phoff, h->phent, h->phnum, d->symtab_addr, &symoff, &avail))
		return wh_err(err, WH_EINPUT, "DT_SYMTAB address 0x%llx is not in any PT_LOAD segment",
		              (unsigned long long)d->symtab_addr);
	uint64_t syment = d->syment ? d->syment : SZ(r, Sym);
	if (syment < SZ(r, Sym) || syment > 4096)
		return wh_err(err, WH_EINPUT, "bad DT_SYMENT %llu", (unsigned long long)syment);
	int rc = dyn_symbol_count(r, h, d, st, symoff, syment, &nsyms, &known, err);
	if (rc < 0 || !known)
		return rc;
	if (nsyms > UINT32_MAX || !rd_ok(r, symoff, nsyms * syment))
		return wh_err(err, WH_EINPUT, "dynamic symbol table (%llu symbols at offset %llu) lies past the end of the file",
		              (unsigned long long)nsyms, (unsigned long long)symoff);
	for (uint64_t i = 1; i < nsyms; i++) {
		uint64_t b = symoff + i * syment;
		if (SY(r, b, st_shndx) != SHN_UNDEF)
			continue;
		unsigned bind = ELF64_ST_BIND((unsigned)SY(r, b, st_info));
		if (bind != STB_GLOBAL && bind != STB_WEAK)
			continue;
		uint64_t name = SY(r, b, st_name);
		if (name == 0)
			continue;
		const char *s = str_at(r, st, name);
		if (s) /* a bad name is skipped, not fatal */
			out->imports |= imp_bits(s);
	}
	out->imports_known = 1;
	out->n_dynsyms = (size_t)nsyms;
	return 0;
}

static int parse(struct rd *r, struct elf_info *out, struct wh_error *err)
{
	memset(out, 0, sizeof *out);
	struct hdrs h = {0};
	int rc = parse_header(r, out, &h, err);
	if (rc < 0)
		return rc;
	uint64_t dyn_off = 0, dyn_size = 0;
	rc = parse_phdrs(r, &h, out, &dyn_off, &dyn_size, err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		out->has_dynamic = 1;
		uint64_t dent = SZ(r, Dyn);
		uint64_t ndyn = dyn_size / dent;
		if (!rd_ok(r, dyn_off, ndyn * dent))
			return wh_err(err, WH_EINPUT, "dynamic segment lies past the end of the file");
		struct dyn_tags d = {0};
		read_dyn_tags(r, dyn_off, ndyn, &d, out);
		struct strtab st = {0};
		rc = dyn_strings(r, &h, &d, &st, out, err);
		if (rc == 0 && d.has_symtab && st.present)
			rc = dyn_imports(r, &h, &d, &st, out, err);
		free(d.needed);
		if (rc < 0)
			return rc;
	}
	out->is_pie = out->type == ET_DYN && (out->interp != NULL || (out->flags_1 & DF_1_PIE));
	return 0;
}

/* The file ranges of the read-only PT_LOAD segments (no PF_W), in file
 * order, at most ELF_RO_MAX; -1 when the headers are not (yet) readable. */
static int ro_ranges(const struct rd *r0, uint64_t *off, uint64_t *end)
{
	struct rd r = *r0;
	if (!rd_ok(&r, 0, EI_NIDENT))
		return -1;
	const uint8_t *id = rd_ptr(&r, 0, EI_NIDENT);
	if (!elf_is_elf(id, EI_NIDENT) || (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64))
		return -1;
	r.is64 = id[EI_CLASS] == ELFCLASS64;
	r.be = id[EI_DATA] == ELFDATA2MSB;
	if (!rd_ok(&r, 0, SZ(&r, Ehdr)))
		return -1;
	uint64_t phoff = EH(&r, e_phoff), phent = EH(&r, e_phentsize), phnum = EH(&r, e_phnum);
	if (phnum == 0)
		return 0;
	if (phent < SZ(&r, Phdr) || phnum > 4096 || !rd_ok(&r, phoff, phnum * phent))
		return -1;
	int n = 0;
	for (uint64_t i = 0; i < phnum && n < ELF_RO_MAX; i++) {
		uint64_t b = phoff + i * phent;
		if (PH(&r, b, p_type) != PT_LOAD || (PH(&r, b, p_flags) & PF_W))
			continue;
		uint64_t o = PH(&r, b, p_offset), fs = PH(&r, b, p_filesz);
		if (o + fs < o || o >= r.len)
			continue;
		int k = n++;
		while (k > 0 && off[k - 1] > o) { /* insertion sort by offset */
			off[k] = off[k - 1];
			end[k] = end[k - 1];
			k--;
		}
		off[k] = o;
		end[k] = o + fs < r.len ? o + fs : r.len;
	}
	return n;
}

static void take_paths(struct elf_strscan *sc, struct elf_info *out)
{
	out->paths = elf_strscan_take(sc, &out->n_paths, &out->paths_truncated);
}

int elf_parse(const uint8_t *buf, size_t len, struct elf_info *out, struct wh_error *err)
{
	struct elf_span sp = {.off = 0, .len = buf ? len : 0, .data = buf};
	struct rd r = {.spans = &sp, .nspans = 1, .len = sp.len, .avail = sp.len};
	int rc = parse(&r, out, err);
	if (rc) {
		elf_info_free(out);
		memset(out, 0, sizeof *out);
		return rc;
	}
	uint64_t ro[ELF_RO_MAX], re[ELF_RO_MAX];
	int n = ro_ranges(&r, ro, re);
	struct elf_strscan sc;
	elf_strscan_init(&sc, ELF_PATHS_MAX);
	for (int i = 0; i < n; i++) {
		uint64_t lo = i > 0 && re[i - 1] > ro[i] ? re[i - 1] : ro[i]; /* overlaps once */
		if (lo >= re[i])
			continue;
		elf_strscan_range(&sc);
		elf_strscan_feed(&sc, buf + lo, (size_t)(re[i] - lo));
	}
	take_paths(&sc, out);
	return 0;
}

void elf_info_free(struct elf_info *info)
{
	if (!info)
		return;
	free(info->interp);
	for (size_t i = 0; i < info->n_needed; i++)
		free(info->needed[i]);
	free(info->needed);
	free(info->rpath);
	free(info->runpath);
	free(info->soname);
	for (size_t i = 0; i < info->n_paths; i++)
		free(info->paths[i]);
	free(info->paths);
	info->paths = NULL;
	info->n_paths = 0;
	info->interp = info->rpath = info->runpath = info->soname = NULL;
	info->needed = NULL;
	info->n_needed = 0;
}

uint64_t elf_bytes_needed(const uint8_t *buf, size_t len, uint64_t size)
{
	if (len > size)
		len = (size_t)size;
	if (len < sizeof(Elf64_Ehdr))
		return size < sizeof(Elf64_Ehdr) ? size : sizeof(Elf64_Ehdr);
	struct elf_span sp = {.off = 0, .len = len, .data = buf};
	struct rd r = {.spans = &sp, .nspans = 1, .len = len, .avail = len};
	struct elf_info info;
	struct wh_error err = {0};
	int rc = parse(&r, &info, &err);
	elf_info_free(&info);
	if (rc == 0)
		return r.need < len ? r.need : len;
	/* Failed for want of bytes we have not seen yet: ask for them. */
	if (r.short_end > len && r.short_end <= size)
		return r.short_end;
	return size;
}

const char *elf_machine_name(uint16_t machine)
{
	switch (machine) {
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case EM_AARCH64: return "aarch64";
	case EM_ARM: return "arm";
	case EM_PPC: return "ppc";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390";
	case EM_RISCV: return "riscv";
	case EM_MIPS: return "mips";
	case EM_LOONGARCH: return "loongarch";
	default: return NULL;
	}
}

/* --- one forward pass over a stream ----------------------------------------------- */

void elf_stream_init(struct elf_stream *s, uint64_t size, uint64_t cap)
{
	memset(s, 0, sizeof *s);
	s->size = size;
	s->cap = cap;
	s->spec_cap = cap / 2;
	s->want_end = 0; /* parse at once: it asks for the ELF header */
	elf_strscan_init(&s->scan, ELF_PATHS_MAX);
}

void elf_stream_free(struct elf_stream *s)
{
	for (size_t i = 0; i < s->nspans; i++)
		free((void *)s->spans[i].data);
	free(s->spans);
	s->spans = NULL;
	s->nspans = 0;
	elf_strscan_free(&s->scan);
}

/* Keep [off, end) from now on; the part before pos must already be held
 * by one span (it is copied), else the range is lost. */
static int stream_keep(struct elf_stream *s, uint64_t off, uint64_t end)
{
	if (end > s->size)
		end = s->size;
	if (end <= off)
		return 0;
	/* a span still being filled that reaches off grows instead: a table
	 * across two spans would fit in neither */
	for (size_t i = 0; i < s->nspans; i++) {
		struct elf_span *sp = &s->spans[i];
		uint64_t sp_end = sp->off + sp->len;
		if (off < sp->off || off > sp_end || sp_end < s->pos)
			continue;
		if (end <= sp_end)
			return 0;
		if (end - sp_end > s->cap - s->kept)
			return -1;
		sp->data = xrealloc((void *)sp->data, (size_t)(end - sp->off));
		s->kept += end - sp_end;
		sp->len = end - sp->off;
		return 0;
	}
	if (end - off > s->cap - s->kept)
		return -1;
	uint8_t *d = xmalloc((size_t)(end - off));
	if (off < s->pos) {
		uint64_t have = (s->pos < end ? s->pos : end) - off;
		struct rd r = {.spans = s->spans, .nspans = s->nspans, .len = s->size, .avail = s->pos};
		const uint8_t *p = rd_ptr(&r, off, have);
		if (!p) {
			free(d);
			return -1;
		}
		memcpy(d, p, (size_t)have);
	}
	s->spans = xrealloc(s->spans, (s->nspans + 1) * sizeof *s->spans);
	s->spans[s->nspans++] = (struct elf_span){.off = off, .len = end - off, .data = d};
	s->kept += end - off;
	return 0;
}

#define STREAM_MIN_SPAN 4096

/* Parse what is kept; keep the first range it lacks, and what lies between
 * here and there (within spec_cap). */
static void stream_discover(struct elf_stream *s)
{
	while (s->state == 0) {
		struct rd r = {.spans = s->spans, .nspans = s->nspans, .len = s->size, .avail = s->pos};
		struct elf_info info;
		struct wh_error e = {0};
		int rc = parse(&r, &info, &e);
		elf_info_free(&info);
		if (rc == 0 || !r.missed) { /* parsed, or malformed whatever the bytes */
			s->state = 1;
			return;
		}
		uint64_t a = r.miss_off, b = r.miss_end;
		if (rd_ptr(&r, a, b - a)) { /* kept already, still coming */
			s->want_end = b;
			return;
		}
		if (a > s->pos && s->spec < s->spec_cap) {
			/* the bytes up to it: the tables the dynamic segment names */
			uint64_t g = a - s->pos;
			if (g > s->spec_cap - s->spec)
				g = s->spec_cap - s->spec;
			if (g > s->cap - s->kept)
				g = s->cap - s->kept;
			if (g && stream_keep(s, s->pos, s->pos + g) == 0)
				s->spec += g;
		}
		/* a little more than asked (a hash chain is read 4 bytes at a
		 * time): fewer spans and fewer parses, within the cap */
		uint64_t room = s->cap - s->kept;
		if (b - a < STREAM_MIN_SPAN && room > b - a)
			b = a + (room < STREAM_MIN_SPAN ? room : STREAM_MIN_SPAN);
		if (b > s->size)
			b = s->size;
		size_t before = s->nspans;
		if (stream_keep(s, a, b) < 0) {
			s->state = 2;
			return;
		}
		if (b > s->pos) {
			s->want_end = b;
			return;
		}
		if (s->nspans == before) { /* nothing more to keep: the parse fails as it is */
			s->state = 1;
			return;
		}
	}
}

/* The part of the bytes [pos, pos+n) inside read-only segments, to the
 * string scanner (bytes that passed before the headers were read are not
 * scanned: they are the headers). */
static void stream_scan(struct elf_stream *s, const uint8_t *d, size_t n)
{
	uint64_t a = s->pos, b = s->pos + n;
	for (size_t i = 0; i < s->nro; i++) {
		uint64_t lo = s->ro_off[i] > a ? s->ro_off[i] : a, hi = s->ro_end[i] < b ? s->ro_end[i] : b;
		if (i > 0 && s->ro_end[i - 1] > lo) /* overlapping segments: once */
			lo = s->ro_end[i - 1];
		if (lo >= hi)
			continue;
		if (lo == s->ro_off[i])
			elf_strscan_range(&s->scan);
		elf_strscan_feed(&s->scan, d + (lo - a), (size_t)(hi - lo));
	}
}

void elf_stream_feed(struct elf_stream *s, const uint8_t *d, size_t n)
{
	if (s->state == 0 && s->pos == 0 && s->nspans == 0)
		stream_discover(s);
	while (n) {
		size_t take = n;
		if (s->state == 0 && s->want_end > s->pos && s->want_end - s->pos < take)
			take = (size_t)(s->want_end - s->pos);
		for (size_t i = 0; i < s->nspans && s->state == 0; i++) {
			struct elf_span *sp = &s->spans[i];
			uint64_t lo = sp->off > s->pos ? sp->off : s->pos;
			uint64_t hi = sp->off + sp->len < s->pos + take ? sp->off + sp->len : s->pos + take;
			if (lo < hi)
				memcpy((uint8_t *)sp->data + (lo - sp->off), d + (lo - s->pos), (size_t)(hi - lo));
		}
		if (s->ro_state == 1)
			stream_scan(s, d, take);
		s->pos += take;
		d += take;
		n -= take;
		if (s->state == 0 && s->pos >= s->want_end)
			stream_discover(s);
		if (s->ro_state == 0) {
			struct rd r = {.spans = s->spans, .nspans = s->nspans, .len = s->size, .avail = s->pos};
			int k = ro_ranges(&r, s->ro_off, s->ro_end);
			if (k >= 0) {
				s->nro = (size_t)k;
				s->ro_state = 1;
				/* what passed with the headers: from the kept spans */
				for (size_t i = 0; i < s->nro && s->ro_off[i] < s->pos; i++) {
					uint64_t hi = s->ro_end[i] < s->pos ? s->ro_end[i] : s->pos;
					const uint8_t *b = rd_ptr(&r, s->ro_off[i], hi - s->ro_off[i]);
					if (b && (i == 0 || s->ro_end[i - 1] <= s->ro_off[i])) {
						elf_strscan_range(&s->scan);
						elf_strscan_feed(&s->scan, b, (size_t)(hi - s->ro_off[i]));
					}
				}
			} else if (s->state != 0) {
				s->ro_state = -1; /* the headers will not come */
			}
		}
	}
}

int elf_stream_finish(struct elf_stream *s, struct elf_info *out, int *truncated, struct wh_error *err)
{
	if (s->state == 0) /* every byte is in: whatever is still missing will not come */
		stream_discover(s);
	/* a file shorter than its header said: the parse sees zeros nowhere,
	 * only the bytes that came */
	struct rd r = {.spans = s->spans, .nspans = s->nspans, .len = s->pos < s->size ? s->pos : s->size};
	r.avail = r.len;
	*truncated = s->state == 2;
	int rc;
	if (*truncated) {
		memset(out, 0, sizeof *out);
		rc = wh_err(err, WH_EINPUT, "the parts the analysis reads (%llu bytes kept at most) lie beyond what "
		            "a forward read keeps", (unsigned long long)s->cap);
	} else {
		rc = parse(&r, out, err);
		if (rc) {
			elf_info_free(out);
			memset(out, 0, sizeof *out);
		} else {
			take_paths(&s->scan, out);
		}
	}
	elf_stream_free(s);
	return rc;
}
