/* elf: a bounds-checked ELF reader over an in-memory buffer.
 *
 * Reads what the reachability analysis needs from an executable or shared
 * object: class, machine, type, PT_INTERP, the dynamic section (DT_NEEDED,
 * DT_RPATH, DT_RUNPATH, DT_SONAME, DT_FLAGS, DT_FLAGS_1) and the undefined
 * dynamic symbols the run-time rules look for. 32- and 64-bit, either byte
 * order. Every read is checked against the buffer: any input, however
 * malformed or truncated, either parses or returns WH_EINPUT. */
#ifndef WH_ELF_H
#define WH_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/elf_strings.h"
#include "analyzer/util.h"

struct elf_info {
	uint8_t elf_class;     /* 1 = 32-bit, 2 = 64-bit (ELFCLASS*) */
	uint8_t data;          /* 1 = LSB, 2 = MSB (ELFDATA*) */
	uint8_t osabi;         /* EI_OSABI */
	uint16_t machine;      /* e_machine (EM_*) */
	uint16_t type;         /* e_type: ET_EXEC, ET_DYN, ET_REL... */
	char *interp;          /* PT_INTERP, or NULL */
	char **needed;         /* DT_NEEDED, in order */
	size_t n_needed;
	char *rpath, *runpath, *soname; /* DT_RPATH, DT_RUNPATH, DT_SONAME or NULL */
	uint64_t flags, flags_1;        /* DT_FLAGS, DT_FLAGS_1 (0 when absent) */
	uint32_t imports;      /* bitmask of ELF_IMP_* for UNDEFINED dynamic symbols */
	int is_pie;            /* ET_DYN with PT_INTERP or DF_1_PIE */
	int has_dynamic;       /* a PT_DYNAMIC segment was found */
	int imports_known;     /* the dynamic symbol table was found and read
	                          (0: imports is 0 because nothing could be read,
	                          e.g. no DT_HASH/DT_GNU_HASH and no section headers) */
	size_t n_dynsyms;      /* dynamic symbols read (including index 0) */
	/* absolute path strings in the read-only PT_LOAD segments
	 * (elf_strings.h), in file order; paths_truncated: more than
	 * ELF_PATHS_MAX distinct ones, the rest were not kept */
	char **paths;
	size_t n_paths;
	int paths_truncated;
};

enum {
	/* getpwnam getpwuid getpwent getgrnam getgrgid getgrent getspnam
	 * initgroups getgrouplist and their _r forms, getlogin... */
	ELF_IMP_NSS_USER = 1u << 0,
	/* getaddrinfo gethostbyname* gethostbyaddr* getnameinfo getservby*
	 * getprotoby* res_* ... */
	ELF_IMP_NSS_HOST = 1u << 1,
	ELF_IMP_ICONV = 1u << 2,          /* iconv_open */
	ELF_IMP_PTHREAD_CANCEL = 1u << 3, /* pthread_cancel pthread_exit */
	ELF_IMP_DLOPEN = 1u << 4,         /* dlopen dlmopen */
	ELF_IMP_LOCALE = 1u << 5,         /* setlocale newlocale */
	ELF_IMP_SHELL = 1u << 6,          /* system popen: they run /bin/sh -c */
};

/* Is this buffer an ELF file at all (the 4-byte magic)? */
int elf_is_elf(const uint8_t *buf, size_t len);

/* Parse the whole file's bytes. On a malformed file return WH_EINPUT with
 * a message (the caller prefixes the file name); out is then zeroed and
 * needs no elf_info_free. Strings (interpreter, needed, rpath, runpath,
 * soname) must be NUL-terminated inside their table and the buffer, else
 * the file is rejected. A file without PT_DYNAMIC (static binary, object)
 * parses to class/data/machine/type only. */
int elf_parse(const uint8_t *buf, size_t len, struct elf_info *out, struct wh_error *err);

void elf_info_free(struct elf_info *info);

/* For a streaming caller that does not want to buffer huge files: given the
 * first `len` bytes of a file of `size` bytes, how many leading bytes does
 * elf_parse need? Returns a value <= len when the prefix already holds
 * everything (parse buf with that many bytes), a value in (len, size] when
 * more must be read (read up to it and call again; each call only grows),
 * or size when unsure (e.g. a malformed file). Never reads past len. */
uint64_t elf_bytes_needed(const uint8_t *buf, size_t len, uint64_t size);

/* --- one forward pass over a stream ---------------------------------------------
 * A layer is a stream: the dynamic segment may lie after bytes already gone.
 * elf_stream keeps only the byte ranges the parse asks for, learning them
 * as the headers arrive (ELF header -> program headers -> PT_INTERP and
 * PT_DYNAMIC -> string, symbol and hash tables), plus the bytes between
 * the stream's position and the next range it needs (the tables that the
 * dynamic segment will point back to usually lie there), all within a cap.
 * When a range the parse needs was skipped or would pass the cap, the
 * parse stops: truncated is set and the facts are unknown. */
struct elf_span {
	uint64_t off, len;
	const uint8_t *data;
};
#define ELF_RO_MAX 8 /* read-only PT_LOAD segments scanned */
struct elf_stream {
	uint64_t size;      /* the file's size (from the tar header) */
	uint64_t pos;       /* bytes fed so far */
	uint64_t cap;       /* bytes kept at most */
	uint64_t kept;      /* bytes kept (the spans' lengths) */
	uint64_t spec_cap, spec; /* of those, kept ahead of need: at most, so far */
	struct elf_span *spans;
	size_t nspans;
	uint64_t want_end;  /* parse again when pos reaches this */
	int state;          /* 0 reading, 1 parsed (or malformed), 2 truncated */
	/* the path strings of the read-only PT_LOAD segments, scanned as they
	 * pass (the segments are known once the program headers are in) */
	struct elf_strscan scan;
	int ro_state;       /* 0 not known yet, 1 known, -1 never (malformed) */
	size_t nro;
	uint64_t ro_off[ELF_RO_MAX], ro_end[ELF_RO_MAX];
};
void elf_stream_init(struct elf_stream *s, uint64_t size, uint64_t cap);
/* The next n bytes of the file. */
void elf_stream_feed(struct elf_stream *s, const uint8_t *d, size_t n);
/* After the last byte: parse what was kept (as elf_parse). *truncated is
 * 1 when a cap or the stream's order kept a needed range out (then
 * WH_EINPUT and out zeroed). Frees the kept bytes. */
int elf_stream_finish(struct elf_stream *s, struct elf_info *out, int *truncated, struct wh_error *err);
void elf_stream_free(struct elf_stream *s);

/* Name for an e_machine value ("x86-64", "aarch64", "i386", ...) or NULL. */
const char *elf_machine_name(uint16_t machine);

#endif
