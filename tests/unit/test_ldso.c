/* ldso: ld.so.cache files written by the host's ldconfig for roots built at
 * test time (a system-like root, and caches in every format), checked
 * against `ldconfig -p`; ld.so.conf trees in memory and the built root's,
 * checked against `ldconfig -r ROOT -v` (nothing of the host's own /etc); default directories, hwcaps and $TOKEN expansion
 * checked against the host's ld.so where it is the glibc it describes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "analyzer/ldso.h"

static char tmpdir[] = "/tmp/whittle-test-ldso-XXXXXX";

#define read_all th_read_all

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = th_vsh(tmpdir, fmt, ap);
	va_end(ap);
	return r;
}

static const char *ldconfig_bin(void)
{
	static const char *const c[] = {"/sbin/ldconfig", "/usr/sbin/ldconfig"};
	for (size_t i = 0; i < ARRAY_LEN(c); i++)
		if (access(c[i], X_OK) == 0)
			return c[i];
	return NULL;
}

/* ldconfig -p lines: key, flags text, value. */
struct pline {
	char key[256], flags[256], value[1024];
};

static size_t ldconfig_print(const char *cache, struct pline **out)
{
	const char *ldc = ldconfig_bin();
	assert_non_null(ldc);
	char cmd[1200];
	if (cache)
		snprintf(cmd, sizeof cmd, "LC_ALL=C %s -C '%s' -p", ldc, cache);
	else
		snprintf(cmd, sizeof cmd, "LC_ALL=C %s -p", ldc);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[2048];
	size_t n = 0, cap = 64;
	struct pline *v = malloc(cap * sizeof *v);
	while (fgets(line, sizeof line, p)) {
		if (line[0] != '\t')
			continue;
		char *open = strstr(line, " ("), *arrow = strstr(line, ") => ");
		if (!open || !arrow)
			continue;
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		snprintf(v[n].key, sizeof v[n].key, "%.*s", (int)(open - line - 1), line + 1);
		snprintf(v[n].flags, sizeof v[n].flags, "%.*s", (int)(arrow - open - 2), open + 2);
		char *val = arrow + 5;
		val[strcspn(val, "\n")] = '\0';
		snprintf(v[n].value, sizeof v[n].value, "%s", val);
		n++;
	}
	pclose(p);
	*out = v;
	return n;
}

/* The parsed cache lists what ldconfig -p lists, in the same order. */
static void check_against_ldconfig(const struct ldso_cache *c, const char *cache_path)
{
	struct pline *pl;
	size_t n = ldconfig_print(cache_path, &pl);
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(c->entries[i].key, pl[i].key);
		assert_string_equal(c->entries[i].value, pl[i].value);
		const char *hw = strstr(pl[i].flags, "hwcap: \"");
		if (hw) {
			char name[64];
			snprintf(name, sizeof name, "%.*s", (int)strcspn(hw + 8, "\""), hw + 8);
			assert_non_null(c->entries[i].hwcaps_subdir);
			assert_string_equal(c->entries[i].hwcaps_subdir, name);
		} else {
			assert_null(c->entries[i].hwcaps_subdir);
		}
		if (strncmp(pl[i].flags, "libc6,x86-64", 12) == 0)
			assert_int_equal(c->entries[i].flags, 0x0303);
		else if (strncmp(pl[i].flags, "libc6,AArch64", 13) == 0)
			assert_int_equal(c->entries[i].flags, 0x0a03);
		else if (strcmp(pl[i].flags, "libc6") == 0)
			assert_int_equal(c->entries[i].flags, 0x0003);
		else if (strcmp(pl[i].flags, "ELF") == 0)
			assert_int_equal(c->entries[i].flags, 0x0001);
	}
	free(pl);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return th_rm_rf(tmpdir);
}

/* ---- ld.so.cache ---- */

/* A system-like root built with the host's compiler and ldconfig (never
 * the host's own cache or configuration): libc.so.6 for x86-64 and i386
 * under merged /usr, eight more libraries, one in /usr/local/lib, an
 * ld.so.conf that includes conf.d, and the cache ldconfig -r writes for it.
 * Returns the cache's path (static), or NULL when no compiler or ldconfig. */
static const char *system_root(void)
{
	static char cache[600];
	if (cache[0])
		return cache;
	if (!ldconfig_bin() || sh("gcc --version >/dev/null 2>&1") != 0)
		return NULL;
	assert_int_equal(sh("mkdir -p sys/etc/ld.so.conf.d sys/usr/lib/x86_64-linux-gnu sys/usr/lib/i386-linux-gnu "
	                    "sys/usr/local/lib sys/opt/empty sys/var/cache/ldconfig && ln -s usr/lib sys/lib && "
	                    "printf '#include <stdio.h>\\nint f(void){return puts(\"x\");}\\n' > libc.c"),
	                 0);
	assert_int_equal(sh("gcc -shared -fPIC -Wl,-soname,libc.so.6 -o sys/usr/lib/x86_64-linux-gnu/libc.so.6 libc.c "
	                    "&& gcc -m32 -shared -fPIC -Wl,-soname,libc.so.6 -o sys/usr/lib/i386-linux-gnu/libc.so.6 "
	                    "libc.c 2>/dev/null"),
	                 0);
	for (int i = 1; i <= 8; i++)
		assert_int_equal(sh("gcc -shared -fPIC -Wl,-soname,libws%d.so.%d -o sys/usr/%s/libws%d.so.%d.0 libc.c", i,
		                    i, i == 8 ? "local/lib" : "lib/x86_64-linux-gnu", i, i),
		                 0);
	assert_int_equal(sh("printf 'include /etc/ld.so.conf.d/*.conf\\n' > sys/etc/ld.so.conf && "
	                    "printf '/usr/local/lib\\n' > sys/etc/ld.so.conf.d/libc.conf && "
	                    "printf '/lib/x86_64-linux-gnu\\n/usr/lib/x86_64-linux-gnu\\n' > "
	                    "sys/etc/ld.so.conf.d/x86_64-linux-gnu.conf && "
	                    "printf '/usr/lib/i386-linux-gnu\\n/opt/empty\\n/opt/none\\n' > sys/etc/ld.so.conf.d/zz.conf && "
	                    "%s -r \"$PWD/sys\" 2>/dev/null", ldconfig_bin()),
	                 0);
	snprintf(cache, sizeof cache, "%s/sys/etc/ld.so.cache", tmpdir);
	return cache;
}

static void test_system_cache(void **state)
{
	(void)state;
	const char *path = system_root();
	if (!path)
		TH_SKIP("no ldconfig or gcc");
	size_t len = 0;
	uint8_t *b = read_all(path, &len);
	assert_non_null(b);
	uint8_t *exact = malloc(len); /* exact size: ASan sees over-reads */
	memcpy(exact, b, len);
	free(b);
	struct ldso_cache c;
	struct wh_error err = {0};
	int rc = ldso_cache_parse(exact, len, &c, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_true(c.format == LDSO_CACHE_NEW || c.format == LDSO_CACHE_COMPAT);
	assert_int_equal(c.n, 10);
	check_against_ldconfig(&c, path);

	/* libc.so.6 for each ABI ldconfig -p shows agrees with the lookup */
	struct pline *pl;
	size_t n = ldconfig_print(path, &pl);
	int checked = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pl[i].key, "libc.so.6") != 0)
			continue;
		if (strcmp(pl[i].flags, "libc6,x86-64") == 0 && checked != 1 && checked != 3) {
			assert_string_equal(ldso_cache_lookup(&c, "libc.so.6", EM_X86_64, ELFCLASS64),
			                    pl[i].value);
			checked |= 1;
		} else if (strcmp(pl[i].flags, "libc6") == 0 && !(checked & 2)) {
			assert_string_equal(ldso_cache_lookup(&c, "libc.so.6", EM_386, ELFCLASS32),
			                    pl[i].value);
			checked |= 2;
		} else if (strcmp(pl[i].flags, "libc6,AArch64") == 0 && !(checked & 4)) {
			assert_string_equal(ldso_cache_lookup(&c, "libc.so.6", EM_AARCH64, ELFCLASS64),
			                    pl[i].value);
			checked |= 4;
		}
	}
	assert_int_equal(checked, 3); /* both ABIs the root has */
	free(pl);
	/* no aarch64 libc in an x86-64 host's cache and vice versa */
	if (checked == 1 || checked == 3)
		assert_null(ldso_cache_lookup(&c, "libc.so.6", EM_AARCH64, ELFCLASS64));
	assert_null(ldso_cache_lookup(&c, "libdoes-not-exist.so.9", EM_X86_64, ELFCLASS64));
	ldso_cache_free(&c);

	/* mangled copies: an error or a parse, never a bad read */
	srand(7);
	for (size_t cut = 0; cut <= len; cut += 1 + (size_t)rand() % 211) {
		uint8_t *p = malloc(cut ? cut : 1);
		memcpy(p, exact, cut);
		struct wh_error e = {0};
		if (ldso_cache_parse(p, cut, &c, &e) == 0)
			ldso_cache_free(&c);
		free(p);
	}
	for (int it = 0; it < 300; it++) {
		uint8_t *p = malloc(len);
		memcpy(p, exact, len);
		for (int k = 0; k < 4; k++) {
			size_t at = (rand() % 2) ? (size_t)rand() % 64 : (size_t)rand() % len;
			p[at] ^= (uint8_t)(1u << (rand() % 8));
		}
		struct wh_error e = {0};
		if (ldso_cache_parse(p, len, &c, &e) == 0)
			ldso_cache_free(&c);
		free(p);
	}
	free(exact);
}

/* Build caches in every format with the host's ldconfig in a private root:
 * /opt/l/libwq.so.1 plus a glibc-hwcaps/x86-64-v3 copy, and
 * /opt/m/libwq.so.10 (a different soname, for the numeric order). */
static void test_built_caches(void **state)
{
	(void)state;
	if (!ldconfig_bin() || sh("gcc --version >/dev/null 2>&1") != 0)
		TH_SKIP("no ldconfig or gcc");
	assert_int_equal(sh("mkdir -p root/etc root/opt/l/glibc-hwcaps/x86-64-v3 root/opt/m "
	                    "root/var/cache/ldconfig && printf 'int f(void){return 0;}\\n' > f.c"), 0);
	assert_int_equal(sh("gcc -shared -fPIC -Wl,-soname,libwq.so.1 -o root/opt/l/libwq.so.1 f.c "
	                    "&& cp root/opt/l/libwq.so.1 root/opt/l/glibc-hwcaps/x86-64-v3/ "
	                    "&& gcc -shared -fPIC -Wl,-soname,libwq.so.10 -o root/opt/m/libwq.so.10 f.c"),
	                 0);
	assert_int_equal(sh("printf '/opt/l\\n/opt/m\\n' > root/etc/ld.so.conf"), 0);
	const char *formats[] = {"old", "compat", "new"};
	const int want[] = {LDSO_CACHE_OLD, LDSO_CACHE_COMPAT, LDSO_CACHE_NEW};
	for (size_t f = 0; f < ARRAY_LEN(formats); f++) {
		assert_int_equal(sh("%s -r \"$PWD/root\" -c %s -C /etc/cache.%s -f /etc/ld.so.conf "
		                    "2>/dev/null", ldconfig_bin(), formats[f], formats[f]),
		                 0);
		char path[600];
		snprintf(path, sizeof path, "%s/root/etc/cache.%s", tmpdir, formats[f]);
		size_t len = 0;
		uint8_t *b = read_all(path, &len);
		assert_non_null(b);
		struct ldso_cache c;
		struct wh_error err = {0};
		int rc = ldso_cache_parse(b, len, &c, &err);
		if (rc)
			fprintf(stderr, "%s: %s\n", formats[f], err.msg);
		assert_int_equal(rc, 0);
		assert_int_equal(c.format, want[f]);
		check_against_ldconfig(&c, path);
#if defined(__x86_64__)
		const char *got = ldso_cache_lookup(&c, "libwq.so.1", EM_X86_64, ELFCLASS64);
		assert_non_null(got);
		if (c.format != LDSO_CACHE_OLD) {
			assert_string_equal(got, "/opt/l/libwq.so.1");
			const char *all[8];
			size_t n = ldso_cache_lookup_all(&c, "libwq.so.1", EM_X86_64, ELFCLASS64, all, 8);
			assert_int_equal(n, 2);
			assert_string_equal(all[0], "/opt/l/glibc-hwcaps/x86-64-v3/libwq.so.1");
			assert_string_equal(all[1], "/opt/l/libwq.so.1");
		}
		assert_string_equal(ldso_cache_lookup(&c, "libwq.so.10", EM_X86_64, ELFCLASS64),
		                    "/opt/m/libwq.so.10");
		assert_null(ldso_cache_lookup(&c, "libwq.so.1", EM_AARCH64, ELFCLASS64));
#endif
		ldso_cache_free(&c);

		/* every prefix and every bit flip of these small caches */
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *p = malloc(cut ? cut : 1);
			memcpy(p, b, cut);
			struct wh_error e = {0};
			if (ldso_cache_parse(p, cut, &c, &e) == 0)
				ldso_cache_free(&c);
			free(p);
		}
		uint8_t *p = malloc(len);
		memcpy(p, b, len);
		for (size_t at = 0; at < len; at++)
			for (int bit = 0; bit < 8; bit++) {
				p[at] ^= (uint8_t)(1u << bit);
				struct wh_error e = {0};
				if (ldso_cache_parse(p, len, &c, &e) == 0)
					ldso_cache_free(&c);
				p[at] ^= (uint8_t)(1u << bit);
			}
		free(p);
		free(b);
	}
}

static void test_libcmp_flags(void **state)
{
	(void)state;
	assert_int_equal(ldso_cache_libcmp("libfoo.so.1", "libfoo.so.1"), 0);
	assert_int_equal(ldso_cache_libcmp("libfoo.so.01", "libfoo.so.1"), 0);
	assert_true(ldso_cache_libcmp("libfoo.so.2", "libfoo.so.10") < 0);
	assert_true(ldso_cache_libcmp("libfoo.so.10", "libfoo.so.2") > 0);
	assert_true(ldso_cache_libcmp("libfoo.so", "libfoo.so.1") < 0);
	assert_true(ldso_cache_libcmp("libfoo.so.99999999999999999999", "libfoo.so.1") > 0);
	assert_true(ldso_cache_flags_ok(0x0303, EM_X86_64, ELFCLASS64));
	assert_false(ldso_cache_flags_ok(0x0003, EM_X86_64, ELFCLASS64));
	assert_false(ldso_cache_flags_ok(0x0a03, EM_X86_64, ELFCLASS64));
	assert_true(ldso_cache_flags_ok(0x0a03, EM_AARCH64, ELFCLASS64));
	assert_false(ldso_cache_flags_ok(0x0303, EM_AARCH64, ELFCLASS64));
	assert_true(ldso_cache_flags_ok(0x0003, EM_386, ELFCLASS32));
	assert_true(ldso_cache_flags_ok(0x0001, EM_386, ELFCLASS32));
	assert_false(ldso_cache_flags_ok(0x0303, EM_386, ELFCLASS32));
	struct ldso_cache c;
	struct wh_error err = {0};
	assert_int_equal(ldso_cache_parse((const uint8_t *)"garbage", 7, &c, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "ld.so.cache"));
}

/* ---- ld.so.conf through an in-memory image ---- */

struct mfile {
	const char *path, *text;
};
struct mfs {
	const struct mfile *files;
	size_t n;
};

static int m_read(void *ctx, const char *path, const uint8_t **data, size_t *len)
{
	const struct mfs *m = ctx;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->files[i].path, path) == 0) {
			*data = (const uint8_t *)m->files[i].text;
			*len = strlen(m->files[i].text);
			return 0;
		}
	return -1;
}

static int m_list(void *ctx, const char *dir, char ***names, size_t *n)
{
	const struct mfs *m = ctx;
	size_t dl = strlen(dir);
	if (dl == 1)
		dl = 0; /* "/" */
	char **v = calloc(m->n + 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		const char *p = m->files[i].path;
		if (strncmp(p, dir, dl) != 0 || p[dl] != '/')
			continue;
		const char *rest = p + dl + 1;
		size_t cl = strcspn(rest, "/");
		int dup = 0;
		for (size_t j = 0; j < k; j++)
			if (strlen(v[j]) == cl && strncmp(v[j], rest, cl) == 0)
				dup = 1;
		if (!dup)
			v[k++] = strndup(rest, cl);
	}
	if (k == 0) {
		free(v);
		return -1;
	}
	/* reverse order: the parser must sort */
	for (size_t i = 0; i < k / 2; i++) {
		char *t = v[i];
		v[i] = v[k - 1 - i];
		v[k - 1 - i] = t;
	}
	*names = v;
	*n = k;
	return 0;
}

static void conf_expect(const struct mfile *files, size_t nf, const char *const *want, size_t nw)
{
	struct mfs m = {files, nf};
	struct ldso_fs fs = {&m, m_read, m_list};
	struct ldso_dirs d;
	struct wh_error err = {0};
	int rc = ldso_conf_parse(&fs, "/etc/ld.so.conf", &d, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	if (d.n != nw)
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "got %s\n", d.dirs[i]);
	assert_int_equal(d.n, nw);
	for (size_t i = 0; i < nw; i++)
		assert_string_equal(d.dirs[i], want[i]);
	ldso_dirs_free(&d);
}

static void test_conf(void **state)
{
	(void)state;
	const struct mfile debian[] = {
		{"/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n\n"},
		{"/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
		 "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n"
		 "/usr/lib/x86_64-linux-gnu\n"},
		{"/etc/ld.so.conf.d/libc.conf", "# libc default configuration\n/usr/local/lib\n"},
		{"/etc/ld.so.conf.d/zz_i386-biarch-compat.conf", "/lib32\n/usr/lib32"},
		{"/etc/ld.so.conf.d/.hidden.conf", "/opt/hidden\n"},
		{"/etc/ld.so.conf.d/notes.txt", "/opt/txt\n"},
	};
	const char *const want_debian[] = {"/usr/local/lib", "/usr/local/lib/x86_64-linux-gnu",
	                                   "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	                                   "/lib32", "/usr/lib32"};
	conf_expect(debian, ARRAY_LEN(debian), want_debian, ARRAY_LEN(want_debian));

	const struct mfile odd[] = {
		{"/etc/ld.so.conf",
		 "  /opt/a/  # trailing slash, blanks, comment\n"
		 "/opt/b=libc6\n"
		 "hwcap 1 nosegneg\n"
		 "HWCAP 0 x\n"
		 "/opt/c:/opt/d\n"          /* one directory for ldconfig */
		 "\t include\tsub/*.conf  /etc/abs.conf\n"
		 "/opt/a\n"                 /* duplicate */
		 "#/opt/commented\n"
		 "/\n"                      /* only slashes: nothing */
		 "/opt/last"},
		{"/etc/sub/2.conf", "/opt/sub2\n"},
		{"/etc/sub/10.conf", "/opt/sub10\n"},
		{"/etc/abs.conf", "/opt/abs\n"},
	};
	const char *const want_odd[] = {"/opt/a", "/opt/b", "/opt/c:/opt/d", "/opt/sub10",
	                                "/opt/sub2", "/opt/abs", "/opt/last"};
	conf_expect(odd, ARRAY_LEN(odd), want_odd, ARRAY_LEN(want_odd));

	/* globs in a directory component */
	const struct mfile deep[] = {
		{"/etc/ld.so.conf", "include /etc/*/conf.d/*.conf\n"},
		{"/etc/b/conf.d/x.conf", "/opt/bx\n"},
		{"/etc/a/conf.d/y.conf", "/opt/ay\n"},
		{"/etc/a/other/z.conf", "/opt/no\n"},
	};
	const char *const want_deep[] = {"/opt/ay", "/opt/bx"};
	conf_expect(deep, ARRAY_LEN(deep), want_deep, ARRAY_LEN(want_deep));

	/* no ld.so.conf at all */
	conf_expect(deep + 1, 1, NULL, 0);
}

static void test_conf_loop(void **state)
{
	(void)state;
	const struct mfile loop[] = {
		{"/etc/ld.so.conf", "/opt/a\ninclude ld.so.conf\n"},
	};
	struct mfs m = {loop, 1};
	struct ldso_fs fs = {&m, m_read, m_list};
	struct ldso_dirs d;
	struct wh_error err = {0};
	assert_int_equal(ldso_conf_parse(&fs, "/etc/ld.so.conf", &d, &err), WH_EINPUT);
	assert_non_null(strstr(err.msg, "include"));
	assert_int_equal(d.n, 0);
}

/* The built root's configuration (system_root) through a directory-backed
 * fs (test only; the module never touches the host) agrees with what
 * `ldconfig -r ROOT -v` scans. */
struct hfs {
	char root[600];
	uint8_t *bufs[256];
	size_t n;
};

static int h_read(void *ctx, const char *path, const uint8_t **data, size_t *len)
{
	struct hfs *h = ctx;
	char full[1200];
	snprintf(full, sizeof full, "%s%s", h->root, path);
	uint8_t *b = read_all(full, len);
	if (!b || h->n == 256) {
		free(b);
		return -1;
	}
	h->bufs[h->n++] = b;
	*data = b;
	return 0;
}

static int h_list(void *ctx, const char *dir, char ***names, size_t *n)
{
	struct hfs *h = ctx;
	char full[1200];
	snprintf(full, sizeof full, "%s%s", h->root, dir);
	DIR *d = opendir(full);
	if (!d)
		return -1;
	size_t k = 0, cap = 16;
	char **v = malloc(cap * sizeof *v);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (k == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[k++] = strdup(e->d_name);
	}
	closedir(d);
	*names = v;
	*n = k;
	return 0;
}

static void test_system_conf(void **state)
{
	(void)state;
	if (!system_root())
		TH_SKIP("no ldconfig or gcc");
	static struct hfs h;
	snprintf(h.root, sizeof h.root, "%s/sys", tmpdir);
	struct ldso_fs fs = {&h, h_read, h_list};
	struct ldso_dirs d;
	struct wh_error err = {0};
	assert_int_equal(ldso_conf_parse(&fs, "/etc/ld.so.conf", &d, &err), 0);
	for (size_t i = 0; i < h.n; i++)
		free(h.bufs[i]);
	h.n = 0;
	/* the configuration as the test wrote it, conf.d in name order */
	const char *const want[] = {"/usr/local/lib", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	                            "/usr/lib/i386-linux-gnu", "/opt/empty", "/opt/none"};
	assert_int_equal(d.n, ARRAY_LEN(want));
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.dirs[i], want[i]);
	/* what ldconfig keeps: existing directories, one per inode */
	char kept[64][1024];
	size_t nk = 0;
	struct stat seen[64];
	for (size_t i = 0; i < d.n && nk < 64; i++) {
		struct stat st;
		char full[1200];
		snprintf(full, sizeof full, "%s%s", h.root, d.dirs[i]);
		if (stat(full, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		int dup = 0;
		for (size_t j = 0; j < nk; j++)
			if (seen[j].st_ino == st.st_ino && seen[j].st_dev == st.st_dev)
				dup = 1;
		if (dup)
			continue;
		seen[nk] = st;
		snprintf(kept[nk++], sizeof kept[0], "%s", d.dirs[i]);
	}
	ldso_dirs_free(&d);
	char cmd[1000];
	snprintf(cmd, sizeof cmd, "LC_ALL=C %s -r '%s' -v -N -X 2>/dev/null", ldconfig_bin(), h.root);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[2048];
	size_t ni = 0;
	while (fgets(line, sizeof line, p)) {
		if (line[0] == '\t' || !strstr(line, ": (from ") || strstr(line, "(from <builtin>") ||
		    strstr(line, "(hwcap:"))
			continue;
		*strstr(line, ": (from ") = '\0';
		assert_true(ni < nk);
		assert_string_equal(line, kept[ni]);
		ni++;
	}
	pclose(p);
	assert_int_equal(ni, nk);
}

/* ---- default directories, hwcaps, tokens ---- */

static int host_is_debian_x86_64(void)
{
#if defined(__x86_64__)
	return access("/lib64/ld-linux-x86-64.so.2", X_OK) == 0 &&
	       access("/lib/x86_64-linux-gnu", F_OK) == 0;
#else
	return 0;
#endif
}

/* Lines of `ld.so --help` under a heading, up to the next blank line. */
static size_t ldso_help_section(const char *heading, char out[][256], size_t max)
{
	FILE *p = popen("LC_ALL=C /lib64/ld-linux-x86-64.so.2 --help", "r");
	assert_non_null(p);
	char line[1024];
	size_t n = 0;
	int in = 0;
	while (fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!in) {
			in = strncmp(line, heading, strlen(heading)) == 0;
			continue;
		}
		if (line[0] == '\0')
			break;
		char *s = line;
		while (*s == ' ')
			s++;
		if (n < max)
			snprintf(out[n++], 256, "%.*s", (int)strcspn(s, " "), s);
	}
	pclose(p);
	return n;
}

static void test_default_dirs(void **state)
{
	(void)state;
	size_t n;
	const char *const *d = ldso_default_dirs(EM_X86_64, ELFCLASS64, LDSO_LAYOUT_MULTIARCH, &n);
	const char *const want[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib",
	                            "/usr/lib"};
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(d[i], want[i]);
	d = ldso_default_dirs(EM_AARCH64, ELFCLASS64, LDSO_LAYOUT_MULTIARCH, &n);
	assert_int_equal(n, 4);
	assert_string_equal(d[0], "/lib/aarch64-linux-gnu");
	d = ldso_default_dirs(EM_386, ELFCLASS32, LDSO_LAYOUT_MULTIARCH, &n);
	assert_int_equal(n, 4);
	assert_string_equal(d[1], "/usr/lib/i386-linux-gnu");
	d = ldso_default_dirs(EM_X86_64, ELFCLASS64, LDSO_LAYOUT_LIB64, &n);
	assert_int_equal(n, 2);
	assert_string_equal(d[0], "/lib64");
	assert_string_equal(d[1], "/usr/lib64");
	d = ldso_default_dirs(EM_386, ELFCLASS32, LDSO_LAYOUT_LIB64, &n);
	assert_string_equal(d[0], "/lib");

	/* the host's ld.so says the same, where it is Debian's x86-64 glibc */
	if (host_is_debian_x86_64()) {
		char got[16][256];
		size_t k = ldso_help_section("Shared library search path:", got, 16);
		/* first line is "(libraries located via /etc/ld.so.cache)" */
		assert_true(k >= 1);
		assert_int_equal(k - 1, ARRAY_LEN(want));
		for (size_t i = 0; i < ARRAY_LEN(want); i++)
			assert_string_equal(got[i + 1], want[i]);
	}
}

static void test_hwcaps(void **state)
{
	(void)state;
	size_t n;
	const char *const *h = ldso_hwcaps_subdirs(EM_X86_64, ELFCLASS64, &n);
	assert_int_equal(n, 3);
	assert_string_equal(h[0], "x86-64-v4");
	assert_string_equal(h[1], "x86-64-v3");
	assert_string_equal(h[2], "x86-64-v2");
	ldso_hwcaps_subdirs(EM_AARCH64, ELFCLASS64, &n);
	assert_int_equal(n, 0);
	ldso_hwcaps_subdirs(EM_386, ELFCLASS32, &n);
	assert_int_equal(n, 0);
	if (host_is_debian_x86_64()) {
		char got[16][256];
		size_t k = ldso_help_section("Subdirectories of glibc-hwcaps directories", got, 16);
		assert_int_equal(k, 3);
		for (size_t i = 0; i < k; i++)
			assert_string_equal(got[i], h[i]);
	}
}

static int contains(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void test_expand(void **state)
{
	(void)state;
	char **v;
	size_t n;
	struct wh_error err = {0};
	assert_int_equal(ldso_expand_tokens("$ORIGIN/../lib", "/usr/bin", EM_X86_64, ELFCLASS64,
	                                    &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "/usr/bin/../lib");
	ldso_strv_free(v, n);

	assert_int_equal(ldso_expand_tokens("${ORIGIN}/x:$ORIGINAL/$FOO", "/o", EM_X86_64,
	                                    ELFCLASS64, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "/o/x:$ORIGINAL/$FOO");
	ldso_strv_free(v, n);

	assert_int_equal(ldso_expand_tokens("/opt/$LIB/${PLATFORM}/", NULL, EM_X86_64, ELFCLASS64,
	                                    &v, &n, &err), 0);
	assert_int_equal(n, 9);
	assert_true(contains(v, n, "/opt/lib/x86_64-linux-gnu/x86_64/"));
	assert_true(contains(v, n, "/opt/lib64/haswell/"));
	assert_true(contains(v, n, "/opt/lib/xeon_phi/"));
	ldso_strv_free(v, n);

	assert_int_equal(ldso_expand_tokens("$ORIGIN/lib", NULL, EM_X86_64, ELFCLASS64,
	                                    &v, &n, &err), 0);
	assert_int_equal(n, 0);
	ldso_strv_free(v, n);

	assert_int_equal(ldso_expand_tokens("/p/$PLATFORM/$LIB", NULL, EM_AARCH64, ELFCLASS64,
	                                    &v, &n, &err), 0);
	assert_true(contains(v, n, "/p/aarch64/lib/aarch64-linux-gnu"));
	assert_true(contains(v, n, "/p/aarch64/lib64"));
	ldso_strv_free(v, n);

	assert_int_equal(ldso_expand_tokens("$", "/o", EM_386, ELFCLASS32, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "$");
	ldso_strv_free(v, n);

	/* a bomb of tokens is refused */
	struct wh_error err2 = {0};
	assert_int_equal(ldso_expand_tokens("$LIB$LIB$LIB$LIB$LIB$LIB", "/o", EM_X86_64, ELFCLASS64,
	                                    &v, &n, &err2), WH_EINPUT);

	/* the host's ld.so expands $LIB and $PLATFORM to one of ours */
	if (host_is_debian_x86_64() && sh("gcc --version >/dev/null 2>&1") == 0) {
		assert_int_equal(sh("printf 'int g(void){return 0;}\\n' > g.c && "
		                    "gcc -shared -fPIC -Wl,-soname,libwtok.so.1 -o libwtok.so.1 g.c && "
		                    "printf 'int g(void); int main(void){return g();}\\n' > m.c && "
		                    "gcc -o m m.c -L. -l:libwtok.so.1 "
		                    "-Wl,-rpath,'/nonexistent/$LIB/$PLATFORM' 2>/dev/null"), 0);
		char cmd[700];
		snprintf(cmd, sizeof cmd, "cd '%s' && LD_DEBUG=libs ./m 2>&1", tmpdir);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		char line[8192], path[1024] = "";
		while (fgets(line, sizeof line, p)) {
			char *s = strstr(line, "trying file=/nonexistent/");
			if (s && !strstr(s, "glibc-hwcaps") && !strstr(s, "/tls")) {
				snprintf(path, sizeof path, "%s", s + strlen("trying file="));
				path[strcspn(path, "\n")] = '\0';
			}
		}
		pclose(p);
		/* the last candidate tried is DIR/libwtok.so.1 itself */
		char *slash = strrchr(path, '/');
		assert_non_null(slash);
		*slash = '\0';
		assert_int_equal(ldso_expand_tokens("/nonexistent/$LIB/$PLATFORM", NULL, EM_X86_64,
		                                    ELFCLASS64, &v, &n, &err), 0);
		if (!contains(v, n, path))
			fprintf(stderr, "host ld.so searched %s\n", path);
		assert_true(contains(v, n, path));
		ldso_strv_free(v, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libcmp_flags),
		cmocka_unit_test(test_system_cache),
		cmocka_unit_test(test_built_caches),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_conf_loop),
		cmocka_unit_test(test_system_conf),
		cmocka_unit_test(test_default_dirs),
		cmocka_unit_test(test_hwcaps),
		cmocka_unit_test(test_expand),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
