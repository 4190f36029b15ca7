/* elf: parse ELF files that gcc builds at test time, hand-built ELF files of
 * every class and byte order, and mangled copies of both. Expected values
 * come from the flags the test passes to gcc, from the bytes the test lays
 * out itself, and from `readelf` when binutils is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "analyzer/elf.h"

static char tmpdir[] = "/tmp/whittle-test-elf-XXXXXX";
static int have_readelf;

/* ---- helpers ---- */

static void write_text(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define read_all th_read_all

/* Run a shell command in tmpdir; 0 on success. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = th_vsh(tmpdir, fmt, ap);
	va_end(ap);
	return r;
}

/* Build with gcc; fail the test if gcc fails. */
static void gcc(const char *args)
{
	int rc = sh("gcc %s 2>gcc.err", args);
	if (rc != 0)
		sh("cat gcc.err >&2");
	assert_int_equal(rc, 0);
}

static uint8_t *load(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	uint8_t *b = read_all(path, len);
	assert_non_null(b);
	return b;
}

static void parse_file(const char *name, struct elf_info *info)
{
	size_t len = 0;
	uint8_t *b = load(name, &len);
	struct wh_error err = {0};
	int rc = elf_parse(b, len, info, &err);
	if (rc)
		fprintf(stderr, "%s: %s\n", name, err.msg);
	assert_int_equal(rc, 0);
	free(b);
}

static uint16_t host_machine(void)
{
#if defined(__x86_64__)
	return EM_X86_64;
#elif defined(__aarch64__)
	return EM_AARCH64;
#elif defined(__i386__)
	return EM_386;
#else
	return 0; /* not checked */
#endif
}

/* readelf -dW: the bracketed value of every line whose tag is (TAG). */
static size_t readelf_dyn(const char *name, const char *tag, char out[][256], size_t max)
{
	char cmd[600], t[40];
	snprintf(cmd, sizeof cmd, "LC_ALL=C readelf -dW '%s/%s'", tmpdir, name);
	snprintf(t, sizeof t, "(%s)", tag);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	size_t n = 0;
	while (fgets(line, sizeof line, p)) {
		if (!strstr(line, t))
			continue;
		char *l = strchr(line, '['), *r = strrchr(line, ']');
		if (!l || !r || r < l || n >= max)
			continue;
		snprintf(out[n++], 256, "%.*s", (int)(r - l - 1), l + 1);
	}
	pclose(p);
	return n;
}

/* readelf --dyn-syms: the entry count of .dynsym, or -1. */
static long readelf_dynsym_count(const char *name)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "LC_ALL=C readelf -W --dyn-syms '%s/%s'", tmpdir, name);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	long n = -1;
	while (fgets(line, sizeof line, p)) {
		const char *s = strstr(line, "Symbol table '.dynsym' contains ");
		if (s)
			n = strtol(s + strlen("Symbol table '.dynsym' contains "), NULL, 10);
	}
	pclose(p);
	return n;
}

static void check_against_readelf(const char *name, const struct elf_info *info)
{
	if (!have_readelf)
		return;
	char v[64][256];
	size_t n = readelf_dyn(name, "NEEDED", v, 64);
	assert_int_equal(n, info->n_needed);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], info->needed[i]);
	n = readelf_dyn(name, "SONAME", v, 64);
	if (n)
		assert_string_equal(v[0], info->soname);
	else
		assert_null(info->soname);
	n = readelf_dyn(name, "RPATH", v, 64);
	if (n)
		assert_string_equal(v[0], info->rpath);
	else
		assert_null(info->rpath);
	n = readelf_dyn(name, "RUNPATH", v, 64);
	if (n)
		assert_string_equal(v[0], info->runpath);
	else
		assert_null(info->runpath);
	long syms = readelf_dynsym_count(name);
	if (syms >= 0 && info->imports_known)
		assert_int_equal((long)info->n_dynsyms, syms);
}

static int has_needed(const struct elf_info *info, const char *name)
{
	for (size_t i = 0; i < info->n_needed; i++)
		if (strcmp(info->needed[i], name) == 0)
			return 1;
	return 0;
}

/* ---- setup: build the files once ---- */

static const char *lib_c = "int foo(void) { return 42; }\n";
static const char *prog_user_c =
	"#include <pwd.h>\n#include <iconv.h>\n#include <pthread.h>\n#include <dlfcn.h>\n"
	"#include <stdio.h>\n"
	"int foo(void);\n"
	"int main(int argc, char **argv) {\n"
	"  (void)argv;\n"
	"  if (argc > 5) { getpwnam(\"root\"); iconv_open(\"a\", \"b\");\n"
	"    pthread_cancel(pthread_self()); dlopen(\"x\", 0); }\n"
	"  printf(\"%d\\n\", foo());\n"
	"  return 0; }\n";
static const char *prog_net_c =
	"#include <locale.h>\n#include <netdb.h>\n#include <stddef.h>\n"
	"int main(int argc, char **argv) {\n"
	"  (void)argv;\n"
	"  setlocale(6, \"\");\n"
	"  if (argc > 5) { struct addrinfo *r; getaddrinfo(\"h\", NULL, NULL, &r); }\n"
	"  return 0; }\n";

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	have_readelf = system("readelf --version >/dev/null 2>&1") == 0;
	write_text("foo.c", lib_c);
	write_text("user.c", prog_user_c);
	write_text("net.c", prog_net_c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return th_rm_rf(tmpdir);
}

/* ---- tests on gcc-built files ---- */

static void test_shared_runpath(void **state)
{
	(void)state;
	/* --no-as-needed: foo() uses nothing from libc, and Debian's gcc
	 * passes --as-needed */
	gcc("-shared -fPIC -Wl,-soname,libfoo.so.1 -Wl,-rpath,'$ORIGIN/../lib' "
	    "-Wl,--enable-new-dtags -o libfoo_runpath.so foo.c -Wl,--no-as-needed -lc");
	struct elf_info info;
	parse_file("libfoo_runpath.so", &info);
	assert_int_equal(info.elf_class, sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32);
	if (host_machine())
		assert_int_equal(info.machine, host_machine());
	assert_int_equal(info.data, ELFDATA2LSB);
	assert_int_equal(info.type, ET_DYN);
	assert_string_equal(info.soname, "libfoo.so.1");
	assert_string_equal(info.runpath, "$ORIGIN/../lib");
	assert_null(info.rpath);
	assert_null(info.interp);
	assert_int_equal(info.is_pie, 0);
	assert_true(has_needed(&info, "libc.so.6"));
	assert_true(info.has_dynamic);
	assert_true(info.imports_known);
	assert_int_equal(info.imports, 0);
	check_against_readelf("libfoo_runpath.so", &info);
	elf_info_free(&info);
}

static void test_shared_rpath_nodeflib(void **state)
{
	(void)state;
	/* GNU ld spells DF_1_NODEFLIB "-z nodefaultlib"; it ignores the
	 * Solaris spelling "-z nodeflib" with a warning */
	gcc("-shared -fPIC -Wl,-soname,libfoo.so.1 -Wl,-rpath,'$ORIGIN/../lib:/opt/x' "
	    "-Wl,--disable-new-dtags -Wl,-z,nodefaultlib -o libfoo_rpath.so foo.c");
	struct elf_info info;
	parse_file("libfoo_rpath.so", &info);
	assert_string_equal(info.rpath, "$ORIGIN/../lib:/opt/x");
	assert_null(info.runpath);
	assert_true(info.flags_1 & DF_1_NODEFLIB);
	check_against_readelf("libfoo_rpath.so", &info);
	elf_info_free(&info);

	gcc("-o net_nodeflib net.c -Wl,-z,nodefaultlib -Wl,-rpath,/opt/y -Wl,--disable-new-dtags");
	parse_file("net_nodeflib", &info);
	assert_true(info.flags_1 & DF_1_NODEFLIB);
	assert_string_equal(info.rpath, "/opt/y");
	check_against_readelf("net_nodeflib", &info);
	elf_info_free(&info);

	/* without -z nodeflib the bit is clear */
	parse_file("libfoo_runpath.so", &info);
	assert_false(info.flags_1 & DF_1_NODEFLIB);
	elf_info_free(&info);
}

static void test_pie_imports(void **state)
{
	(void)state;
	assert_int_equal(sh("ln -sf libfoo_runpath.so libfoo.so"), 0);
	/* glibc >= 2.34 has dlopen and pthread_* in libc; -ldl -lpthread are
	 * harmless stubs there and needed before */
	gcc("-fPIE -pie -Wl,--no-as-needed -o user user.c -L. -lfoo -ldl -lpthread "
	    "-Wl,-z,now");
	struct elf_info info;
	parse_file("user", &info);
	assert_int_equal(info.type, ET_DYN);
	assert_non_null(info.interp);
	assert_true(info.is_pie);
	assert_true(info.flags_1 & DF_1_PIE);
	assert_true(info.flags & DF_BIND_NOW);
	assert_string_equal(info.needed[0], "libfoo.so.1"); /* link order */
	assert_true(has_needed(&info, "libc.so.6"));
	assert_null(info.soname);
	assert_true(info.imports_known);
	uint32_t want = ELF_IMP_NSS_USER | ELF_IMP_ICONV | ELF_IMP_PTHREAD_CANCEL | ELF_IMP_DLOPEN;
	assert_int_equal(info.imports, want);
	check_against_readelf("user", &info);

	/* the interpreter readelf -l names (the program's own header, not the host's files) */
	if (have_readelf) {
		char cmd[600], line[1024], want[512] = "";
		snprintf(cmd, sizeof cmd, "LC_ALL=C readelf -lW '%s/user'", tmpdir);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		while (fgets(line, sizeof line, p)) {
			const char *s = strstr(line, "[Requesting program interpreter: ");
			if (s)
				snprintf(want, sizeof want, "%.*s", (int)strcspn(s + 33, "]"), s + 33);
		}
		pclose(p);
		assert_string_equal(info.interp, want);
	}
	elf_info_free(&info);

	gcc("-fPIE -pie -o net net.c");
	parse_file("net", &info);
	assert_int_equal(info.imports, ELF_IMP_NSS_HOST | ELF_IMP_LOCALE);
	check_against_readelf("net", &info);
	elf_info_free(&info);
}

static void test_no_pie(void **state)
{
	(void)state;
	gcc("-fno-PIE -no-pie -o net_nopie net.c");
	struct elf_info info;
	parse_file("net_nopie", &info);
	assert_int_equal(info.type, ET_EXEC);
	assert_non_null(info.interp);
	assert_false(info.is_pie);
	assert_int_equal(info.imports, ELF_IMP_NSS_HOST | ELF_IMP_LOCALE);
	check_against_readelf("net_nopie", &info);
	elf_info_free(&info);
}

static void test_static(void **state)
{
	(void)state;
	write_text("static.c", "int main(void) { return 0; }\n");
	if (sh("gcc -static -o static static.c 2>/dev/null") != 0) {
		fprintf(stderr, "no static libc: test_static skipped\n");
		TH_SKIP("gcc -static failed (no static libc)");
	}
	struct elf_info info;
	parse_file("static", &info);
	assert_int_equal(info.type, ET_EXEC);
	assert_null(info.interp);
	assert_int_equal(info.n_needed, 0);
	assert_false(info.has_dynamic);
	assert_false(info.is_pie);
	if (host_machine())
		assert_int_equal(info.machine, host_machine());
	elf_info_free(&info);
}

static void test_m32(void **state)
{
	(void)state;
	if (sh("gcc -m32 -shared -fPIC -Wl,-soname,libfoo32.so.1 -o libfoo32.so foo.c "
	       "2>/dev/null") != 0) {
		fprintf(stderr, "no gcc-multilib: 32-bit covered by hand-built files only\n");
		TH_SKIP("gcc -m32 failed (install gcc-multilib)");
	}
	struct elf_info info;
	parse_file("libfoo32.so", &info);
	assert_int_equal(info.elf_class, ELFCLASS32);
	assert_string_equal(info.soname, "libfoo32.so.1");
	check_against_readelf("libfoo32.so", &info);
	elf_info_free(&info);
}

/* ---- hand-built files: every class and byte order ---- */

struct out {
	uint8_t b[4096];
	int is64, be;
};

static void put(struct out *o, size_t off, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = o->be ? n - 1 - i : i;
		o->b[off + k] = (uint8_t)(v >> (8 * i));
	}
}

#define W(o) ((o)->is64 ? 8u : 4u)

/* Layout: ehdr | 3 phdrs (LOAD, INTERP, DYNAMIC) | interp | dynstr |
 * dynsym (5) | hash | dynamic. One PT_LOAD maps the file at VADDR. */
enum { VADDR = 0x10000 };
static size_t build_elf(struct out *o, int is64, int be, uint16_t machine)
{
	memset(o, 0, sizeof *o);
	o->is64 = is64;
	o->be = be;
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32, symsz = is64 ? 24 : 16,
	       dynsz = is64 ? 16 : 8;
	size_t phoff = ehsz, interp = phoff + 3 * phsz;
	const char interp_s[] = "/lib/ld-test.so.1";
	size_t dynstr = interp + sizeof interp_s;
	const char strs[] = "\0libneeded.so.2\0libother.so\0libme.so.3\0/run/path\0"
	                    "getaddrinfo\0setlocale\0dlopen\0iconv_open";
	size_t strsz = sizeof strs;
	/* string offsets */
	size_t s_needed = 1, s_other = 16, s_soname = 28, s_runpath = 39, s_gai = 49,
	       s_setlocale = 61, s_dlopen = 71, s_iconv = 78;
	size_t dynsym = (dynstr + strsz + 7) & ~(size_t)7;
	size_t hash = dynsym + 5 * symsz;
	size_t dynamic = (hash + 4 * (2 + 1 + 5) + 7) & ~(size_t)7;
	size_t ndyn = 11;
	size_t end = dynamic + ndyn * dynsz;

	memcpy(o->b, ELFMAG, SELFMAG);
	o->b[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	o->b[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	o->b[EI_VERSION] = EV_CURRENT;
	o->b[EI_OSABI] = ELFOSABI_SYSV;
	put(o, 16, ET_DYN, 2);
	put(o, 18, machine, 2);
	put(o, 20, EV_CURRENT, 4);
	if (is64) {
		put(o, 32, phoff, 8);
		put(o, 40, 0, 8);
		put(o, 52, ehsz, 2);
		put(o, 54, phsz, 2);
		put(o, 56, 3, 2);
		put(o, 58, 64, 2);
	} else {
		put(o, 28, phoff, 4);
		put(o, 32, 0, 4);
		put(o, 40, ehsz, 2);
		put(o, 42, phsz, 2);
		put(o, 44, 3, 2);
		put(o, 46, 40, 2);
	}
	/* program headers: type, offset, vaddr, filesz */
	uint64_t ph[3][4] = {{PT_LOAD, 0, VADDR, end},
	                     {PT_INTERP, interp, VADDR + interp, sizeof interp_s},
	                     {PT_DYNAMIC, dynamic, VADDR + dynamic, ndyn * dynsz}};
	for (int i = 0; i < 3; i++) {
		size_t b = phoff + i * phsz;
		put(o, b, ph[i][0], 4);
		if (is64) {
			put(o, b + 8, ph[i][1], 8);
			put(o, b + 16, ph[i][2], 8);
			put(o, b + 24, ph[i][2], 8);
			put(o, b + 32, ph[i][3], 8);
			put(o, b + 40, ph[i][3], 8);
		} else {
			put(o, b + 4, ph[i][1], 4);
			put(o, b + 8, ph[i][2], 4);
			put(o, b + 12, ph[i][2], 4);
			put(o, b + 16, ph[i][3], 4);
			put(o, b + 20, ph[i][3], 4);
		}
	}
	memcpy(o->b + interp, interp_s, sizeof interp_s);
	memcpy(o->b + dynstr, strs, strsz);
	/* symbols: null; getaddrinfo UND GLOBAL; setlocale UND WEAK;
	 * dlopen defined GLOBAL; iconv_open UND LOCAL (not an import) */
	struct { size_t name; unsigned bind; unsigned shndx; } syms[5] = {
		{0, 0, 0}, {s_gai, STB_GLOBAL, SHN_UNDEF}, {s_setlocale, STB_WEAK, SHN_UNDEF},
		{s_dlopen, STB_GLOBAL, 7}, {s_iconv, STB_LOCAL, SHN_UNDEF}};
	for (int i = 0; i < 5; i++) {
		size_t b = dynsym + i * symsz;
		put(o, b, syms[i].name, 4);
		unsigned info = (syms[i].bind << 4) | STT_FUNC;
		if (i == 0)
			info = 0;
		if (is64) {
			o->b[b + 4] = (uint8_t)info;
			put(o, b + 6, syms[i].shndx, 2);
		} else {
			o->b[b + 12] = (uint8_t)info;
			put(o, b + 14, syms[i].shndx, 2);
		}
	}
	/* DT_HASH: nbucket 1, nchain 5, bucket[0] = 1, chain = 0 2 3 4 0 */
	put(o, hash, 1, 4);
	put(o, hash + 4, 5, 4);
	put(o, hash + 8, 1, 4);
	uint32_t chain[5] = {0, 2, 3, 4, 0};
	for (int i = 0; i < 5; i++)
		put(o, hash + 12 + 4 * i, chain[i], 4);
	uint64_t dyn[11][2] = {
		{DT_NEEDED, s_needed}, {DT_NEEDED, s_other}, {DT_SONAME, s_soname},
		{DT_RUNPATH, s_runpath}, {DT_STRTAB, VADDR + dynstr}, {DT_STRSZ, strsz},
		{DT_SYMTAB, VADDR + dynsym}, {DT_SYMENT, symsz}, {DT_HASH, VADDR + hash},
		{DT_FLAGS_1, DF_1_PIE | DF_1_NOW}, {DT_NULL, 0}};
	for (size_t i = 0; i < ndyn; i++) {
		put(o, dynamic + i * dynsz, dyn[i][0], W(o));
		put(o, dynamic + i * dynsz + W(o), dyn[i][1], W(o));
	}
	assert_true(end <= sizeof o->b);
	return end;
}

static void check_built(const uint8_t *b, size_t len, int is64, int be, uint16_t machine)
{
	struct elf_info info;
	struct wh_error err = {0};
	int rc = elf_parse(b, len, &info, &err);
	if (rc)
		fprintf(stderr, "hand-built %d-bit %s: %s\n", is64 ? 64 : 32, be ? "BE" : "LE", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(info.elf_class, is64 ? ELFCLASS64 : ELFCLASS32);
	assert_int_equal(info.data, be ? ELFDATA2MSB : ELFDATA2LSB);
	assert_int_equal(info.machine, machine);
	assert_int_equal(info.type, ET_DYN);
	assert_string_equal(info.interp, "/lib/ld-test.so.1");
	assert_int_equal(info.n_needed, 2);
	assert_string_equal(info.needed[0], "libneeded.so.2");
	assert_string_equal(info.needed[1], "libother.so");
	assert_string_equal(info.soname, "libme.so.3");
	assert_string_equal(info.runpath, "/run/path");
	assert_null(info.rpath);
	assert_int_equal(info.flags_1, DF_1_PIE | DF_1_NOW);
	assert_true(info.is_pie);
	assert_true(info.imports_known);
	assert_int_equal(info.n_dynsyms, 5);
	assert_int_equal(info.imports, ELF_IMP_NSS_HOST | ELF_IMP_LOCALE);
	elf_info_free(&info);
}

static void test_hand_built(void **state)
{
	(void)state;
	struct out o;
	/* (not EM_S390 for 64-bit: s390x uses 8-byte DT_HASH words) */
	const uint16_t machines[2][2] = {{EM_386, EM_PPC}, {EM_X86_64, EM_PPC64}};
	for (int is64 = 0; is64 < 2; is64++)
		for (int be = 0; be < 2; be++) {
			size_t len = build_elf(&o, is64, be, machines[is64][be]);
			uint8_t *b = malloc(len); /* exact size: ASan sees any over-read */
			memcpy(b, o.b, len);
			check_built(b, len, is64, be, machines[is64][be]);
			free(b);
		}
}

static void test_hand_built_bad_strings(void **state)
{
	(void)state;
	struct out o;
	size_t len = build_elf(&o, 0, 1, EM_PPC);
	/* make DT_STRSZ one byte short so the last string (iconv_open, only a
	 * symbol name) is cut: the file still parses, the symbol is skipped */
	size_t dynamic = 0;
	for (size_t i = 0; i + 8 <= len; i += 4) /* find DT_STRSZ (tag 10) */
		if (o.b[i] == 0 && o.b[i + 1] == 0 && o.b[i + 2] == 0 && o.b[i + 3] == DT_STRSZ &&
		    i % 8 == 0 && i > 100) {
			dynamic = i;
			break;
		}
	assert_true(dynamic != 0);
	uint32_t strsz = (uint32_t)o.b[dynamic + 7];
	o.b[dynamic + 7] = (uint8_t)(strsz - 1);
	struct elf_info info;
	struct wh_error err = {0};
	assert_int_equal(elf_parse(o.b, len, &info, &err), 0);
	elf_info_free(&info);
	/* cut the string table inside the runpath (39..48): rejected */
	o.b[dynamic + 7] = 45;
	struct wh_error err2 = {0};
	int rc = elf_parse(o.b, len, &info, &err2);
	if (rc != WH_EINPUT)
		fprintf(stderr, "strsz %u at %zu: rc %d\n", strsz, dynamic, rc);
	assert_int_equal(rc, WH_EINPUT);
	assert_non_null(strstr(err2.msg, "DT_RUNPATH"));
	assert_null(info.needed);
}

/* ---- mangled input ---- */

static void parse_copy(const uint8_t *src, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	memcpy(b, src, n);
	struct elf_info info;
	struct wh_error err = {0};
	int rc = elf_parse(b, n, &info, &err);
	if (rc == 0)
		elf_info_free(&info);
	else {
		assert_int_equal(rc, WH_EINPUT);
		assert_true(err.msg[0] != '\0');
	}
	free(b);
}

static void test_prefixes(void **state)
{
	(void)state;
	const char *files[] = {"libfoo_runpath.so", "user"};
	for (size_t f = 0; f < ARRAY_LEN(files); f++) {
		size_t len = 0;
		uint8_t *b = load(files[f], &len);
		for (size_t n = 0; n <= len; n++)
			parse_copy(b, n);
		free(b);
	}
	struct out o;
	for (int is64 = 0; is64 < 2; is64++)
		for (int be = 0; be < 2; be++) {
			size_t len = build_elf(&o, is64, be, EM_MIPS);
			for (size_t n = 0; n <= len; n++)
				parse_copy(o.b, n);
		}
}

static void test_flips(void **state)
{
	(void)state;
	srand(12345);
	const char *files[] = {"libfoo_runpath.so", "user"};
	for (size_t f = 0; f < ARRAY_LEN(files); f++) {
		size_t len = 0;
		uint8_t *orig = load(files[f], &len);
		uint8_t *b = malloc(len);
		for (int it = 0; it < 3000; it++) {
			memcpy(b, orig, len);
			int flips = 1 + rand() % 8;
			for (int k = 0; k < flips; k++) {
				/* mostly where the headers and dynamic data live */
				size_t at = (rand() % 4) ? (size_t)rand() % (len < 4096 ? len : 4096)
				                         : (size_t)rand() % len;
				b[at] ^= (uint8_t)(1u << (rand() % 8));
			}
			parse_copy(b, len);
		}
		free(b);
		free(orig);
	}
	/* every bit of every byte of the small hand-built files */
	struct out o;
	for (int is64 = 0; is64 < 2; is64++)
		for (int be = 0; be < 2; be++) {
			size_t len = build_elf(&o, is64, be, EM_AARCH64);
			for (size_t at = 0; at < len; at++)
				for (int bit = 0; bit < 8; bit++) {
					o.b[at] ^= (uint8_t)(1u << bit);
					parse_copy(o.b, len);
					o.b[at] ^= (uint8_t)(1u << bit);
				}
			/* and 0xff bytes, which make huge counts and offsets */
			for (size_t at = 0; at < len; at++) {
				uint8_t keep = o.b[at];
				o.b[at] = 0xff;
				parse_copy(o.b, len);
				o.b[at] = keep;
			}
		}
	/* garbage after a valid magic */
	uint8_t g[512];
	for (int it = 0; it < 2000; it++) {
		for (size_t i = 0; i < sizeof g; i++)
			g[i] = (uint8_t)rand();
		memcpy(g, ELFMAG, SELFMAG);
		g[EI_CLASS] = (uint8_t)(1 + rand() % 2);
		g[EI_DATA] = (uint8_t)(1 + rand() % 2);
		parse_copy(g, (size_t)rand() % sizeof g);
	}
}

static void test_not_elf(void **state)
{
	(void)state;
	const uint8_t sh[] = "#!/bin/sh\necho hi\n";
	assert_false(elf_is_elf(sh, sizeof sh));
	assert_false(elf_is_elf((const uint8_t *)"\x7f" "EL", 3));
	assert_true(elf_is_elf((const uint8_t *)ELFMAG, SELFMAG));
	struct elf_info info;
	struct wh_error err = {0};
	assert_int_equal(elf_parse(sh, sizeof sh, &info, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "not an ELF"));
	struct wh_error err2 = {0};
	assert_int_equal(elf_parse(NULL, 0, &info, &err2), WH_EINPUT);
}

/* elf_bytes_needed: a streaming reader that reads only what it is asked
 * for ends with the same facts as a parse of the whole file. */
static void test_bytes_needed(void **state)
{
	(void)state;
	const char *files[] = {"libfoo_runpath.so", "user", "libfoo_rpath.so", "net"};
	for (size_t f = 0; f < ARRAY_LEN(files); f++) {
		size_t size;
		uint8_t *whole = load(files[f], &size);
		size_t have = 0;
		uint64_t need = elf_bytes_needed(whole, 0, size);
		int rounds = 0;
		while (need > have) {
			have = need;
			uint8_t *prefix = malloc(have);
			memcpy(prefix, whole, have);
			need = elf_bytes_needed(prefix, have, size);
			free(prefix);
			assert_true(++rounds < 100);
		}
		assert_true(have <= size);
		uint8_t *prefix = malloc(have);
		memcpy(prefix, whole, have);
		struct elf_info a, b;
		struct wh_error err = {0};
		assert_int_equal(elf_parse(prefix, have, &a, &err), 0);
		assert_int_equal(elf_parse(whole, size, &b, &err), 0);
		assert_int_equal(a.n_needed, b.n_needed);
		for (size_t i = 0; i < a.n_needed; i++)
			assert_string_equal(a.needed[i], b.needed[i]);
		assert_int_equal(a.imports, b.imports);
		assert_int_equal(a.flags_1, b.flags_1);
		assert_int_equal(!!a.runpath, !!b.runpath);
		assert_int_equal(!!a.rpath, !!b.rpath);
		assert_int_equal(!!a.interp, !!b.interp);
		fprintf(stderr, "%s: %zu of %zu bytes needed, %d rounds\n", files[f], have, size, rounds);
		elf_info_free(&a);
		elf_info_free(&b);
		free(prefix);
		free(whole);
	}
	/* not an ELF file: unsure, the whole size */
	uint8_t text[80];
	memset(text, 'x', sizeof text);
	memcpy(text, "#!/bin/sh\n", 10);
	assert_int_equal(elf_bytes_needed(text, sizeof text, 1000), 1000);
	assert_int_equal(elf_bytes_needed(NULL, 0, 10), 10);
}

/* elf_stream: fed in chunks of any size, one forward pass, it ends with the
 * facts of a parse of the whole file (or says it was truncated). */
static int stream_parse(const uint8_t *b, size_t n, uint64_t cap, unsigned seed, struct elf_info *out,
                        int *truncated, uint64_t *kept)
{
	struct elf_stream st;
	elf_stream_init(&st, n, cap);
	size_t o = 0;
	while (o < n) {
		seed = seed * 1103515245u + 12345u;
		size_t c = 1 + (seed >> 8) % (seed & 1 ? 7 : 70000);
		if (c > n - o)
			c = n - o;
		elf_stream_feed(&st, b + o, c);
		o += c;
	}
	if (kept)
		*kept = st.kept;
	struct wh_error err = {0};
	return elf_stream_finish(&st, out, truncated, &err);
}

static void same_facts(const struct elf_info *a, const struct elf_info *b)
{
	assert_int_equal(a->elf_class, b->elf_class);
	assert_int_equal(a->machine, b->machine);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->n_needed, b->n_needed);
	for (size_t i = 0; i < a->n_needed; i++)
		assert_string_equal(a->needed[i], b->needed[i]);
	assert_int_equal(!!a->interp, !!b->interp);
	if (a->interp)
		assert_string_equal(a->interp, b->interp);
	assert_int_equal(!!a->runpath, !!b->runpath);
	if (a->runpath)
		assert_string_equal(a->runpath, b->runpath);
	assert_int_equal(!!a->rpath, !!b->rpath);
	assert_int_equal(!!a->soname, !!b->soname);
	assert_int_equal(a->imports, b->imports);
	assert_int_equal(a->imports_known, b->imports_known);
	assert_int_equal(a->n_dynsyms, b->n_dynsyms);
	assert_int_equal(a->flags_1, b->flags_1);
	assert_int_equal(a->has_dynamic, b->has_dynamic);
	assert_int_equal(a->n_paths, b->n_paths);
	for (size_t i = 0; i < a->n_paths; i++)
		assert_string_equal(a->paths[i], b->paths[i]);
	assert_int_equal(a->paths_truncated, b->paths_truncated);
}

static int has_path(const struct elf_info *e, const char *p)
{
	for (size_t i = 0; i < e->n_paths; i++)
		if (!strcmp(e->paths[i], p))
			return 1;
	return 0;
}

/* Path strings of the read-only segments: the ones the program's source
 * holds as string literals, not those of writable data, not relative
 * ones; one distinct string past ELF_PATHS_MAX is left out and said so.
 * The stream finds the same strings as the whole-buffer parse. */
static void test_path_strings(void **state)
{
	(void)state;
	write_text("paths.c", "#include <stdio.h>\n"
	                      "char writable[] = \"/data/writable/buffer\";\n"
	                      "static const char *const names[] = {\"/etc/whtest/whtest.conf\", \"/usr/lib/whtest-core\",\n"
	                      "  \"relative/name\", \"/usr/share/whtest/templates\", \"not /a/path\", \"/%s/fmt\"};\n"
	                      "int main(int argc, char **argv) { (void)argv; writable[0] = 'x'; puts(writable);\n"
	                      "  puts(names[argc % 6]); return 0; }\n");
	gcc("-O0 -o paths paths.c");
	struct elf_info a;
	parse_file("paths", &a);
	assert_true(has_path(&a, "/etc/whtest/whtest.conf"));
	assert_true(has_path(&a, "/usr/lib/whtest-core"));
	assert_true(has_path(&a, "/usr/share/whtest/templates"));
	assert_false(has_path(&a, "/data/writable/buffer")); /* .data: writable */
	assert_false(has_path(&a, "relative/name"));
	assert_false(has_path(&a, "/a/path"));               /* inside another string */
	assert_false(has_path(&a, "/%s/fmt"));
	assert_int_equal(a.paths_truncated, 0);
	size_t size;
	uint8_t *whole = load("paths", &size);
	for (unsigned seed = 1; seed < 10; seed++) {
		struct elf_info b;
		int trunc = -1;
		assert_int_equal(stream_parse(whole, size, 64u << 20, seed, &b, &trunc, NULL), 0);
		same_facts(&a, &b);
		elf_info_free(&b);
	}
	free(whole);
	elf_info_free(&a);

	/* ELF_PATHS_MAX + 1 distinct strings */
	size_t cap = 64 * (ELF_PATHS_MAX + 8), l = 0;
	char *src = calloc(1, cap);
	assert_non_null(src);
	l += (size_t)snprintf(src + l, cap - l, "#include <stdio.h>\nstatic const char *const t[] = {\n");
	for (int i = 0; i <= ELF_PATHS_MAX; i++)
		l += (size_t)snprintf(src + l, cap - l, "\"/opt/many/file%05d\",\n", i);
	l += (size_t)snprintf(src + l, cap - l, "};\nint main(int c, char **v) { (void)v; puts(t[c]); return 0; }\n");
	write_text("manypaths.c", src);
	free(src);
	gcc("-O0 -o manypaths manypaths.c");
	parse_file("manypaths", &a);
	size_t mine = 0;
	for (size_t i = 0; i < a.n_paths; i++)
		mine += strncmp(a.paths[i], "/opt/many/file", 14) == 0;
	assert_int_equal(a.n_paths, ELF_PATHS_MAX);
	assert_true(mine >= ELF_PATHS_MAX - 2); /* the interpreter's path may come first */
	assert_int_equal(a.paths_truncated, 1);
	elf_info_free(&a);
}

static void test_stream(void **state)
{
	(void)state;
	/* a library whose symbol and string tables run past the first 4 KiB
	 * (the first range the stream keeps) into the bytes kept ahead */
	char *many = calloc(1, 64 * 1024);
	assert_non_null(many);
	size_t ml = 0;
	for (int i = 0; i < 400; i++)
		ml += (size_t)snprintf(many + ml, 64 * 1024 - ml, "int a_rather_long_exported_name_%03d(void) { return %d; }\n", i, i);
	write_text("many.c", many);
	free(many);
	gcc("-shared -fPIC -Wl,-soname,libmany.so.1 -o libmany.so many.c");
	const char *files[] = {"libfoo_runpath.so", "user", "libfoo_rpath.so", "net", "net_nopie", "libmany.so"};
	for (size_t f = 0; f < ARRAY_LEN(files); f++) {
		size_t size;
		uint8_t *whole = load(files[f], &size);
		struct elf_info a;
		struct wh_error err = {0};
		assert_int_equal(elf_parse(whole, size, &a, &err), 0);
		for (unsigned seed = 1; seed < 40; seed++) {
			struct elf_info b;
			int trunc = -1;
			uint64_t kept = 0;
			assert_int_equal(stream_parse(whole, size, 64u << 20, seed, &b, &trunc, &kept), 0);
			assert_int_equal(trunc, 0);
			same_facts(&a, &b);
			elf_info_free(&b);
		}
		elf_info_free(&a);
		free(whole);
	}
	/* a cap too small for the tables: truncated, never wrong facts */
	size_t size;
	uint8_t *whole = load("user", &size);
	struct elf_info b;
	int trunc = -1;
	assert_int_equal(stream_parse(whole, size, 200, 7, &b, &trunc, NULL), WH_EINPUT);
	assert_int_equal(trunc, 1);
	assert_int_equal(b.n_needed, 0);
	free(whole);
	/* not an ELF: malformed, not truncated */
	const uint8_t sh[] = "#!/bin/sh\necho hi\n";
	assert_int_equal(stream_parse(sh, sizeof sh, 1u << 20, 3, &b, &trunc, NULL), WH_EINPUT);
	assert_int_equal(trunc, 0);
}

/* the hand-built ELF of test_hand_built with every byte flipped in turn,
 * and random garbage: a stream agrees with the whole-buffer parse, or says
 * it was truncated */
static void test_stream_flips(void **state)
{
	(void)state;
	struct out o;
	for (int v = 0; v < 4; v++) {
		size_t n = build_elf(&o, v & 1, v >> 1, 62);
		for (size_t i = 0; i < n; i++) {
			uint8_t save = o.b[i];
			o.b[i] ^= (uint8_t)(1 + (i * 7) % 255);
			struct elf_info a, b;
			struct wh_error err = {0};
			int ra = elf_parse(o.b, n, &a, &err), trunc = 0;
			int rb = stream_parse(o.b, n, 1u << 20, (unsigned)i, &b, &trunc, NULL);
			if (!trunc) {
				assert_int_equal(ra, rb);
				if (ra == 0)
					same_facts(&a, &b);
			}
			elf_info_free(&a);
			elf_info_free(&b);
			o.b[i] = save;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_shared_runpath),
		cmocka_unit_test(test_shared_rpath_nodeflib),
		cmocka_unit_test(test_pie_imports),
		cmocka_unit_test(test_no_pie),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_m32),
		cmocka_unit_test(test_hand_built),
		cmocka_unit_test(test_hand_built_bad_strings),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_flips),
		cmocka_unit_test(test_bytes_needed),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_stream_flips),
		cmocka_unit_test(test_path_strings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
