/* reach: the kept set over hand-built trees holding ELF files that gcc
 * builds here (tests/unit/test_elf.c does the same), and an ld.so.cache
 * written by the host's ldconfig -r. Expected values follow from glibc's
 * documented search order (ld.so(8)) applied to the layout each test
 * builds: which copy of a library the loader takes, what is unresolved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "analyzer/elf.h"
#include "analyzer/layer_index.h"
#include "analyzer/pathres.h"
#include "analyzer/reach.h"

static char tmpdir[] = "/tmp/whittle-test-reach-XXXXXX";
static int have_m32;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = th_vsh(tmpdir, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- fixture: one layer built by hand ---- */

#define MAXE 256
struct fix {
	struct analysis a;
	struct wh_layer layer;
	struct wh_entry ents[MAXE];
	char *strs[MAXE * 2];
	size_t nstrs;
	struct reach r;
	int computed;
};

static const char *keepstr(struct fix *f, char *s)
{
	f->strs[f->nstrs++] = s;
	return s;
}

static struct wh_entry *add(struct fix *f, uint8_t type, const char *path, const char *link, uint32_t mode)
{
	assert_true(f->layer.n_entries < MAXE);
	struct wh_entry *e = &f->ents[f->layer.n_entries++];
	memset(e, 0, sizeof *e);
	e->path = keepstr(f, strdup(path));
	e->link = link ? keepstr(f, strdup(link)) : NULL;
	e->type = type;
	e->mode = mode;
	return e;
}

static void dir(struct fix *f, const char *path)
{
	add(f, WH_T_DIR, path, NULL, 0755);
}

static void link_(struct fix *f, const char *path, const char *target)
{
	add(f, WH_T_SYMLINK, path, target, 0777);
}

/* A regular file with the facts the index pass records. */
static void file_bytes(struct fix *f, const char *path, const uint8_t *b, size_t n, uint32_t mode)
{
	struct wh_entry *e = add(f, WH_T_REG, path, NULL, mode);
	e->size = n;
	struct wh_extra *x = calloc(1, sizeof *x);
	if (elf_is_elf(b, n)) {
		x->elf = calloc(1, sizeof *x->elf);
		struct wh_error err = {0};
		assert_int_equal(elf_parse(b, n, x->elf, &err), 0);
	}
	if (n > 2 && b[0] == '#' && b[1] == '!') {
		size_t l = 0;
		while (2 + l < n && b[2 + l] != '\n')
			l++;
		x->shebang = strndup((const char *)b + 2, l);
	}
	if (!x->elf) {
		x->content = malloc(n + 1);
		memcpy(x->content, b, n);
		x->content[n] = 0;
		x->content_len = n;
	}
	e->extra = x;
}

static void text(struct fix *f, const char *path, const char *s, uint32_t mode)
{
	file_bytes(f, path, (const uint8_t *)s, strlen(s), mode);
}

/* A file built in tmpdir. */
static void host(struct fix *f, const char *path, const char *name, uint32_t mode)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	FILE *fp = fopen(p, "rb");
	assert_non_null(fp);
	uint8_t *b = malloc(4 << 20);
	size_t n = fread(b, 1, 4 << 20, fp);
	fclose(fp);
	file_bytes(f, path, b, n, mode);
	free(b);
}

static struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof *f);
	f->a.img.config = json_pack("{s:{}}", "config");
	return f;
}

static void config(struct fix *f, const char *key, json_t *v)
{
	json_object_set_new(json_object_get(f->a.img.config, "config"), key, v);
}

/* The usual base: merged /usr, the dynamic loader. */
static void base(struct fix *f)
{
	dir(f, "usr");
	dir(f, "usr/bin");
	dir(f, "usr/lib");
	dir(f, "usr/lib/x86_64-linux-gnu");
	dir(f, "usr/lib64");
	link_(f, "bin", "usr/bin");
	link_(f, "lib", "usr/lib");
	link_(f, "lib64", "usr/lib64");
	host(f, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "ldso.so", 0755);
	link_(f, "usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
}

static void compute(struct fix *f, const struct reach_opts *o)
{
	f->a.img.layers = &f->layer;
	f->a.img.n_layers = 1;
	f->layer.entries = f->ents;
	struct wh_error err = {0};
	assert_int_equal(tree_build(&f->a.tree, &f->a.img, 0, 0, &err), 0);
	tree_sort_by_name(&f->a.tree);
	int rc = reach_compute(&f->a, o, &f->r, &err);
	if (rc)
		fprintf(stderr, "reach: %s\n", err.msg);
	assert_int_equal(rc, 0);
	f->computed = 1;
}

static void fix_free(struct fix *f)
{
	if (f->computed) {
		reach_free(&f->r);
		tree_free(&f->a.tree);
	}
	for (size_t i = 0; i < f->layer.n_entries; i++) {
		struct wh_extra *x = f->ents[i].extra;
		if (!x)
			continue;
		if (x->elf) {
			elf_info_free(x->elf);
			free(x->elf);
		}
		free(x->shebang);
		free(x->content);
		free(x);
	}
	for (size_t i = 0; i < f->nstrs; i++)
		free(f->strs[i]);
	json_decref(f->a.img.config);
	free(f);
}

static int kept(struct fix *f, const char *path)
{
	struct pathres pr;
	struct wh_error err = {0};
	assert_int_equal(pathres_resolve(&f->a.tree, NULL, path, 0, &pr, &err), 0);
	if (!pr.node)
		fprintf(stderr, "no node %s\n", path);
	assert_non_null(pr.node);
	int k = (pr.node->mark & WH_MARK_KEEP) != 0;
	const struct reach_item *it = reach_find(&f->r, pr.node);
	assert_int_equal(k, it != NULL);
	pathres_free(&pr);
	return k;
}

/* The rule that kept path, and the node it came from. */
static void reason(struct fix *f, const char *path, const char *rule, const char *from)
{
	struct wh_node *n = tree_lookup(&f->a.tree, path);
	assert_non_null(n);
	const struct reach_item *it = reach_find(&f->r, n);
	assert_non_null(it);
	assert_string_equal(reach_rule_name(it->rule), rule);
	char p[512] = "";
	if (it->from)
		tree_path(it->from, p, sizeof p);
	assert_string_equal(p, from ? from : "");
}

static int unresolved_has(struct fix *f, const char *path, const char *needs_part)
{
	for (size_t i = 0; i < f->r.n_unresolved; i++)
		if (!strcmp(f->r.unresolved[i].path, path) && strstr(f->r.unresolved[i].needs, needs_part))
			return 1;
	return 0;
}

static void entry(struct fix *f, const char *prog)
{
	config(f, "Entrypoint", json_pack("[s]", prog));
}

/* ---- tests ---- */

static void test_rpath_inherited(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	dir(f, "opt");
	dir(f, "opt/a");
	host(f, "opt/a/libmid.so.1", "libmid.so", 0755);
	host(f, "opt/a/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/bin/prog", "prog_rpath", 0755);
	entry(f, "prog"); /* found on the default PATH, through /bin? no: /usr/bin comes first */
	compute(f, NULL);
	assert_int_equal(f->r.n_unresolved, 0);
	assert_true(kept(f, "/opt/a/libmid.so.1"));
	/* libmid has no RPATH: libfoo is found through the executable's */
	assert_true(kept(f, "/opt/a/libfoo.so.1"));
	reason(f, "opt/a/libfoo.so.1", "needed", "/opt/a/libmid.so.1");
	reason(f, "opt/a/libmid.so.1", "needed", "/usr/bin/prog");
	reason(f, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "interp", "/usr/bin/prog");
	assert_true(kept(f, "/lib64"));
	assert_true(kept(f, "/usr/lib64/ld-linux-x86-64.so.2"));
	reason(f, "usr/bin/prog", "entrypoint", NULL);
	/* the same chain as data: libfoo <- libmid <- prog, a root */
	struct reach_explanation x;
	struct wh_error err = {0};
	assert_int_equal(reach_explain(&f->r, &f->a, "/opt/a/libfoo.so.1", &x, &err), 0);
	assert_true(x.kept);
	assert_int_equal(x.n_steps, 3);
	assert_string_equal(x.steps[0].path, "/opt/a/libfoo.so.1");
	assert_string_equal(x.steps[0].rule, "needed");
	assert_string_equal(x.steps[0].from, "/opt/a/libmid.so.1");
	assert_string_equal(x.steps[1].path, "/opt/a/libmid.so.1");
	assert_string_equal(x.steps[1].from, "/usr/bin/prog");
	assert_string_equal(x.steps[2].path, "/usr/bin/prog");
	assert_string_equal(x.steps[2].rule, "entrypoint");
	assert_null(x.steps[2].from);
	assert_string_equal(x.steps[2].what, "Entrypoint");
	reach_explanation_free(&x);
	assert_int_equal(reach_explain(&f->r, &f->a, "/no/such", &x, &err), WH_EINPUT);
	fix_free(f);
}

static void test_runpath_not_inherited(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	dir(f, "opt");
	dir(f, "opt/a");
	host(f, "opt/a/libmid.so.1", "libmid.so", 0755);
	host(f, "opt/a/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/bin/prog", "prog_runpath", 0755);
	entry(f, "/usr/bin/prog");
	compute(f, NULL);
	assert_true(kept(f, "/opt/a/libmid.so.1"));
	assert_false(kept(f, "/opt/a/libfoo.so.1"));
	assert_true(unresolved_has(f, "/opt/a/libmid.so.1", "libfoo.so.1"));
	/* and it is named among the libraries nothing reaches */
	int listed = 0;
	for (size_t i = 0; i < f->r.n_unneeded; i++)
		listed |= !strcmp(f->r.unneeded[i].path, "/opt/a/libfoo.so.1");
	assert_true(listed);
	fix_free(f);
}

static void test_origin(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	dir(f, "app");
	dir(f, "app/bin");
	dir(f, "app/lib");
	host(f, "app/bin/prog", "prog_origin", 0755);
	host(f, "app/lib/libfoo.so.1", "libfoo.so", 0755);
	/* run through a link elsewhere: $ORIGIN is the real file's directory */
	link_(f, "usr/bin/p", "/app/bin/prog");
	dir(f, "usr/lib/app");
	host(f, "usr/lib/app/libfoo.so.1", "libfoo.so", 0755);
	entry(f, "p");
	compute(f, NULL);
	assert_int_equal(f->r.n_unresolved, 0);
	assert_true(kept(f, "/app/lib/libfoo.so.1"));
	assert_false(kept(f, "/usr/lib/app/libfoo.so.1"));
	assert_true(kept(f, "/usr/bin/p"));
	reason(f, "usr/bin/p", "link", "/app/bin/prog");
	fix_free(f);
}

static void test_wrong_class_first(void **state)
{
	(void)state;
	if (!have_m32)
		TH_SKIP("gcc -m32 failed (install gcc-multilib)");
	struct fix *f = fix_new();
	base(f);
	dir(f, "opt");
	dir(f, "opt/w");
	dir(f, "opt/r");
	host(f, "opt/w/libfoo.so.1", "libfoo32.so", 0755);
	host(f, "opt/r/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/bin/prog", "prog_wr", 0755); /* RPATH /opt/w:/opt/r */
	entry(f, "/usr/bin/prog");
	compute(f, NULL);
	assert_int_equal(f->r.n_unresolved, 0);
	assert_false(kept(f, "/opt/w/libfoo.so.1"));
	assert_true(kept(f, "/opt/r/libfoo.so.1"));
	fix_free(f);
}

static void test_hwcaps_and_defaults(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	dir(f, "usr/lib/x86_64-linux-gnu/glibc-hwcaps");
	dir(f, "usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3");
	dir(f, "usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v2");
	host(f, "usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/lib/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/bin/prog", "prog_plain", 0755);
	entry(f, "/usr/bin/prog");
	compute(f, NULL);
	assert_int_equal(f->r.n_unresolved, 0);
	/* a v3 CPU takes the hwcaps copy, a baseline CPU the plain one */
	assert_true(kept(f, "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so.1"));
	assert_true(kept(f, "/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
	/* a later default directory is never reached */
	assert_false(kept(f, "/usr/lib/libfoo.so.1"));
	fix_free(f);
}

static void test_nodeflib(void **state)
{
	(void)state;
	for (int nodeflib = 0; nodeflib <= 1; nodeflib++) {
		struct fix *f = fix_new();
		base(f);
		host(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so", 0755);
		host(f, "usr/bin/prog", nodeflib ? "prog_nodeflib" : "prog_plain", 0755);
		entry(f, "/usr/bin/prog");
		compute(f, NULL);
		assert_int_equal(kept(f, "/usr/lib/x86_64-linux-gnu/libfoo.so.1"), !nodeflib);
		assert_int_equal(unresolved_has(f, "/usr/bin/prog", "libfoo.so.1"), nodeflib);
		fix_free(f);
	}
}

/* The cache decides when there is one; without it, what ldconfig would
 * build from ld.so.conf (matching SONAMEs, not file names). */
static void test_cache_present_absent(void **state)
{
	(void)state;
	for (int with_cache = 0; with_cache <= 1; with_cache++) {
		struct fix *f = fix_new();
		base(f);
		dir(f, "etc");
		dir(f, "opt");
		dir(f, "opt/c");
		dir(f, "opt/d");
		host(f, "opt/c/libfoo.so.1", "libfoo.so", 0755);
		host(f, "opt/d/libfoo-real.so", "libfoo.so", 0755); /* SONAME libfoo.so.1 */
		text(f, "etc/ld.so.conf", "# comment\ninclude /etc/ld.so.conf.d/*.conf\n", 0644);
		dir(f, "etc/ld.so.conf.d");
		text(f, "etc/ld.so.conf.d/d.conf", "/opt/d\n", 0644);
		if (with_cache)
			host(f, "etc/ld.so.cache", "st/etc/ld.so.cache", 0644); /* ldconfig -r: /opt/c only */
		host(f, "usr/bin/prog", "prog_plain", 0755);
		entry(f, "/usr/bin/prog");
		compute(f, NULL);
		assert_int_equal(f->r.n_unresolved, 0);
		assert_int_equal(kept(f, "/opt/c/libfoo.so.1"), with_cache);
		assert_int_equal(kept(f, "/opt/d/libfoo-real.so"), !with_cache);
		/* found only through the cache: without it ld.so would not find it */
		if (with_cache)
			reason(f, "etc/ld.so.cache", "ld-cache", "/opt/c/libfoo.so.1");
		fix_free(f);
	}
}

/* A cache whose entry is in a default directory is not needed: without it
 * ld.so finds the same file there (ld.so(8)). */
static void test_cache_not_needed(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	dir(f, "etc");
	host(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so", 0755);
	host(f, "etc/ld.so.cache", "st2/etc/ld.so.cache", 0644); /* ldconfig -r: the default directory only */
	host(f, "usr/bin/prog", "prog_plain", 0755);
	entry(f, "/usr/bin/prog");
	compute(f, NULL);
	assert_int_equal(f->r.n_unresolved, 0);
	assert_true(kept(f, "/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
	assert_false(kept(f, "/etc/ld.so.cache"));
	fix_free(f);
}

static void test_scripts(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	host(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/bin/dash", "prog_plain", 0755);
	link_(f, "usr/bin/sh", "dash");
	host(f, "usr/bin/env", "prog_plain", 0755);
	host(f, "usr/bin/tool", "prog_plain", 0755);
	host(f, "usr/bin/other", "prog_plain", 0755);
	host(f, "usr/bin/never", "prog_plain", 0755);
	host(f, "usr/bin/python3.11", "prog_plain", 0755);
	link_(f, "usr/bin/python3", "python3.11");
	dir(f, "usr/lib/python3.11");
	dir(f, "usr/lib/python3.11/lib-dynload");
	text(f, "usr/lib/python3.11/os.py", "import sys\n", 0644);
	host(f, "usr/lib/python3.11/lib-dynload/_x.so", "libmid.so", 0644); /* needs libfoo.so.1 */
	dir(f, "usr/local");
	dir(f, "usr/local/bin");
	text(f, "usr/local/bin/app", "#!/usr/bin/env python3\nprint(1)\n", 0755);
	dir(f, "etc");
	text(f, "etc/app.conf", "x\n", 0644);
	text(f, "entry.sh",
	     "#!/bin/sh\n"
	     "set -e\n"
	     "log() { echo \"$@\" >&2; }\n"
	     "log starting\n"
	     "case \"$1\" in\n"
	     "  start|run) tool --config=/etc/app.conf ;;\n"
	     "  *) : ;;\n"
	     "esac\n"
	     "cat <<EOF >/dev/null\n"
	     "never at all\n"
	     "EOF\n"
	     "if [ -n \"$X\" ]; then other 2>&1 | missingcmd; fi\n"
	     "exec \"$@\"\n",
	     0755);
	entry(f, "/entry.sh");
	config(f, "Cmd", json_pack("[s]", "app"));
	compute(f, NULL);
	reason(f, "entry.sh", "entrypoint", NULL);
	reason(f, "usr/bin/dash", "shebang", "/entry.sh");
	reason(f, "usr/bin/tool", "script", "/entry.sh");
	reason(f, "etc/app.conf", "argument", "/usr/bin/tool");
	assert_true(kept(f, "/usr/bin/other"));
	assert_false(kept(f, "/usr/bin/never"));
	assert_true(unresolved_has(f, "/entry.sh", "missingcmd"));
	assert_false(unresolved_has(f, "/entry.sh", "\"log\""));
	assert_false(unresolved_has(f, "/entry.sh", "start"));
	/* exec "$@" runs Cmd: the python script, its interpreter via env */
	assert_true(kept(f, "/usr/local/bin/app"));
	reason(f, "usr/bin/env", "shebang", "/usr/local/bin/app");
	assert_true(kept(f, "/usr/bin/python3"));
	/* python rule: the stdlib, and lib-dynload modules' needs */
	reason(f, "usr/lib/python3.11", "python", "/usr/bin/python3.11");
	assert_true(kept(f, "/usr/lib/python3.11/os.py"));
	reason(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "needed", "/usr/bin/dash");
	fix_free(f);
}

static void test_shell_form(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	host(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/bin/dash", "prog_plain", 0755);
	link_(f, "usr/bin/sh", "dash");
	host(f, "usr/bin/a", "prog_plain", 0755);
	host(f, "usr/bin/b", "prog_plain", 0755);
	host(f, "usr/bin/c", "prog_plain", 0755);
	config(f, "Entrypoint", json_pack("[s,s,s]", "/bin/sh", "-c", "FOO=1 a && b | $HOME/x; exec c \"$@\" || nope"));
	compute(f, NULL);
	assert_true(kept(f, "/usr/bin/a"));
	assert_true(kept(f, "/usr/bin/b"));
	reason(f, "usr/bin/c", "shell", "/usr/bin/dash");
	assert_true(unresolved_has(f, "/usr/bin/dash", "nope"));
	assert_true(unresolved_has(f, "/usr/bin/dash", "$/x"));
	fix_free(f);
}

static void test_runtime_rules(void **state)
{
	(void)state;
	for (int nss_on = 0; nss_on <= 1; nss_on++) {
		struct fix *f = fix_new();
		base(f);
		host(f, "usr/lib/x86_64-linux-gnu/libc.so.6", "libfakec.so", 0755);
		host(f, "usr/lib/x86_64-linux-gnu/libnss_compat.so.2", "libfoo.so", 0755);
		host(f, "usr/lib/x86_64-linux-gnu/libnss_other.so.2", "libfoo.so", 0755);
		host(f, "usr/lib/x86_64-linux-gnu/libgcc_s.so.1", "libfoo.so", 0755);
		dir(f, "usr/lib/x86_64-linux-gnu/gconv");
		host(f, "usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", "libfoo.so", 0755);
		text(f, "usr/lib/x86_64-linux-gnu/gconv/gconv-modules", "module x y z 1\n", 0644);
		dir(f, "etc");
		text(f, "etc/nsswitch.conf", "passwd: files compat # x\nhosts: files [NOTFOUND=return] dns\n", 0644);
		text(f, "etc/hosts", "127.0.0.1 localhost\n", 0644);
		host(f, "usr/bin/prog", "prog_imports", 0755);
		entry(f, "/usr/bin/prog");
		char *rules[] = {"nss=off"};
		struct reach_opts o = {.rules = {rules, nss_on ? 0 : 1}};
		compute(f, &o);
		assert_int_equal(kept(f, "/usr/lib/x86_64-linux-gnu/libnss_compat.so.2"), nss_on);
		assert_int_equal(kept(f, "/etc/nsswitch.conf"), nss_on);
		assert_int_equal(kept(f, "/etc/hosts"), 1); /* always kept */
		assert_false(kept(f, "/usr/lib/x86_64-linux-gnu/libnss_other.so.2"));
		reason(f, "usr/lib/x86_64-linux-gnu/libgcc_s.so.1", "libgcc_s", "/usr/bin/prog");
		assert_true(kept(f, "/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"));
		assert_true(kept(f, "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules"));
		const struct reach_rule_stat *nss = &f->r.rules[R_NSS - REACH_RT_FIRST];
		assert_string_equal(nss->name, "nss");
		assert_int_equal(nss->enabled, nss_on);
		/* nsswitch.conf and libnss_compat; /etc/hosts is kept by "always" first */
		assert_int_equal(nss->files, nss_on ? 2 : 0);
		/* prog imports dlopen and no rule explains it */
		assert_int_equal(f->r.n_loads_code, 1);
		assert_string_equal(f->r.loads_code[0], "/usr/bin/prog");
		fix_free(f);
	}
}

static void test_user_lists(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	dir(f, "opt");
	dir(f, "opt/a");
	host(f, "opt/a/libmid.so.1", "libmid.so", 0755);
	host(f, "opt/a/libfoo.so.1", "libfoo.so", 0755);
	host(f, "usr/bin/prog", "prog_rpath", 0755);
	dir(f, "data");
	text(f, "data/x.txt", "x", 0644);
	text(f, "data/y.bin", "y", 0644);
	dir(f, "home");
	dir(f, "home/app");
	text(f, "home/app/.rc", "x", 0644);
	dir(f, "etc");
	text(f, "etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n", 0644);
	config(f, "User", json_string("app"));
	char kf[512];
	snprintf(kf, sizeof kf, "%s/keep.txt", tmpdir);
	FILE *fp = fopen(kf, "w");
	fputs("# comment\n+/data/*.txt\n-/data/y.bin\n", fp);
	fclose(fp);
	char *keep_from[] = {kf};
	char *keep_exe[] = {"prog"};
	char *drop[] = {"/opt/a/libfoo.so.1"};
	char *keep[] = {"/data/y.bin"};
	struct reach_opts o = {.keep_from = {keep_from, 1}, .keep_exe = {keep_exe, 1}, .drop = {drop, 1},
	                       .keep = {keep, 1}};
	compute(f, &o);
	reason(f, "usr/bin/prog", "keep-exe", NULL);
	reason(f, "data/x.txt", "keep-from", NULL);
	assert_false(kept(f, "/data/y.bin")); /* -PATH wins over --keep */
	assert_false(kept(f, "/opt/a/libfoo.so.1"));
	assert_true(unresolved_has(f, "/opt/a/libmid.so.1", "/opt/a/libfoo.so.1 (dropped by --drop"));
	/* the User's home: nothing the entrypoint runs names it: dropped whole */
	reason(f, "home/app", "data-dir", NULL);
	assert_false(kept(f, "/home/app/.rc"));
	/* a removable path says which --drop removed it */
	struct reach_explanation x;
	struct wh_error err = {0};
	assert_int_equal(reach_explain(&f->r, &f->a, "/opt/a/libfoo.so.1", &x, &err), 0);
	assert_false(x.kept);
	assert_int_equal(x.n_steps, 0);
	assert_string_equal(x.dropped_by, "/opt/a/libfoo.so.1");
	char lp[512];
	snprintf(lp, sizeof lp, "%s/libfoo.so", tmpdir);
	size_t llen = 0;
	free(th_read_all(lp, &llen));
	assert_int_equal(x.size, llen); /* the file gcc built */
	reach_explanation_free(&x);
	fix_free(f);
}

/* A --keep-from file is util_escape text (the explorer's K writes it so):
 * \xHH and \\ are decoded before the line is a glob, so a name with a
 * newline or ESC can be kept and dropped; a hand-written "\*" still
 * means a literal star. The names are the test's own. */
static void test_keep_from_escaped(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	base(f);
	dir(f, "data");
	text(f, "data/a\nb", "x", 0644);
	text(f, "data/e\x1b[1m", "x", 0644);
	text(f, "data/c*d", "x", 0644);
	text(f, "data/cxd", "x", 0644);
	text(f, "data/back\\slash", "x", 0644);
	char kf[512];
	snprintf(kf, sizeof kf, "%s/keep-esc.txt", tmpdir);
	FILE *fp = fopen(kf, "w");
	fputs("+/data/a\\x0ab\n+/data/e\\x1b[1m\n+/data/c\\*d\n+/data/back\\\\slash\n", fp);
	fclose(fp);
	char *keep_from[] = {kf};
	char *entry[] = {"/bin/true"};
	struct reach_opts o = {.keep_from = {keep_from, 1}, .entrypoint = {entry, 1}, .entrypoint_set = 1};
	compute(f, &o);
	assert_true(kept(f, "/data/a\nb"));
	assert_true(kept(f, "/data/e\x1b[1m"));
	assert_true(kept(f, "/data/c*d"));
	assert_false(kept(f, "/data/cxd")); /* \* is a literal star, not a glob */
	assert_true(kept(f, "/data/back\\slash"));
	fix_free(f);
}

/* Exec wrappers run programs: the word after env, xargs, timeout, nice,
 * find -exec ... is a program even when a shell has a builtin of that
 * name (env(1), xargs(1), timeout(1), nice(1), find(1): each execvp()s its
 * command). The shell's own builtins, and "command NAME", are not. */
static void test_wrappers(void **state)
{
	(void)state;
	static const char *const progs[] = {"dash", "env", "xargs", "timeout", "nice", "find", "echo", "kill",
	                                    "printf", "cat", "nohup", "setsid", "stdbuf", "ionice", "chrt",
	                                    "taskset", "flock", "true", "id", "ls", "head", "date", "sleep", "tee",
	                                    "pwd", "test", "gosu"};
	for (int builtins_only = 0; builtins_only <= 1; builtins_only++) {
		struct fix *f = fix_new();
		base(f);
		host(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so", 0755);
		for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
			char p[64];
			snprintf(p, sizeof p, "usr/bin/%s", progs[i]);
			host(f, p, "prog_plain", 0755);
		}
		link_(f, "usr/bin/sh", "dash");
		dir(f, "etc");
		const char *script =
			builtins_only
				? "echo a; command kill -l; printf x; pwd; test -n x; exec 3>&-"
				: "xargs echo; env echo hi; timeout 5 kill -l; nice printf x; "
				  "find /etc -name x -exec cat {} +; "
				  "nice -n 5 nohup setsid stdbuf -oL ionice -c 3 chrt 10 taskset 3 true; "
				  "env -i FOO=1 -u BAR id; flock -w 5 /tmp/l -c 'ls'; xargs -n 1 -I {} -P2 head; "
				  "find . -execdir date \\; -ok sleep 1 \\;; env -S 'tee x'; exec pwd; gosu app test";
		config(f, "Entrypoint", json_pack("[s,s,s]", "/bin/sh", "-c", script));
		compute(f, NULL);
		static const char *const run[] = {"echo", "kill", "printf", "cat", "true", "id", "ls",
		                                  "head", "date", "sleep", "tee", "pwd", "test"};
		for (size_t i = 0; i < sizeof run / sizeof run[0]; i++) {
			char p[64];
			snprintf(p, sizeof p, "/usr/bin/%s", run[i]);
			if (kept(f, p) != !builtins_only)
				fprintf(stderr, "%s: kept %d, want %d\n", p, kept(f, p), !builtins_only);
			assert_int_equal(kept(f, p), !builtins_only);
		}
		if (!builtins_only) {
			reason(f, "usr/bin/echo", "shell", "/usr/bin/dash");
			reason(f, "usr/bin/cat", "shell", "/usr/bin/dash");
			/* the wrappers' own arguments are no commands */
			assert_false(unresolved_has(f, "/usr/bin/dash", "\"5\""));
			assert_false(unresolved_has(f, "/usr/bin/dash", "\"app\""));
			assert_false(unresolved_has(f, "/usr/bin/dash", "\"{}\""));
			assert_false(unresolved_has(f, "/usr/bin/dash", "\"x\""));
		}
		assert_int_equal(f->r.n_unresolved, 0);
		fix_free(f);
	}
}

/* system(3) and popen(3) run "/bin/sh -c" (POSIX: the path /bin/sh as
 * written): a program importing either needs /bin/sh with every link on
 * the way; --keep-exe sh keeps /bin/sh too, not only the first PATH match. */
static void test_bin_sh(void **state)
{
	(void)state;
	for (int mode = 0; mode < 3; mode++) { /* 0: system(), 1: --rule sh=off, 2: --keep-exe sh */
		struct fix *f = fix_new();
		base(f);
		host(f, "usr/lib/x86_64-linux-gnu/libc.so.6", "libfakec.so", 0755);
		host(f, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so", 0755);
		host(f, "usr/bin/dash", "prog_plain", 0755);
		link_(f, "usr/bin/sh", "dash");
		host(f, "usr/bin/prog", mode == 2 ? "prog_plain" : "prog_system", 0755);
		entry(f, "/usr/bin/prog");
		char *rules[] = {"sh=off"};
		char *exe[] = {"sh"};
		struct reach_opts o = {0};
		if (mode == 1)
			o.rules = (struct str_list){rules, 1};
		if (mode == 2)
			o.keep_exe = (struct str_list){exe, 1};
		compute(f, &o);
		int want = mode != 1;
		assert_int_equal(kept(f, "/bin"), want);
		assert_int_equal(kept(f, "/usr/bin/sh"), want);
		assert_int_equal(kept(f, "/usr/bin/dash"), want);
		if (mode == 0) {
			reason(f, "usr/bin/dash", "sh", "/usr/bin/prog");
			reason(f, "bin", "link", "/usr/bin/dash");
			const struct reach_rule_stat *st = &f->r.rules[R_SH - REACH_RT_FIRST];
			assert_string_equal(st->name, "sh");
			assert_int_equal(st->enabled, 1);
		}
		if (mode == 2)
			reason(f, "usr/bin/dash", "keep-exe", NULL);
		assert_int_equal(f->r.n_unresolved, 0);
		fix_free(f);
	}
}

/* Absolute path strings inside a kept program (its .rodata, built here):
 * a file is kept, led to by the program; a directory under /etc/NAME
 * whole; another directory as a directory only; a path in a directory a
 * run-time rule owns is left to the rule, also when it is off; a path the
 * image lacks is nothing. */
static void test_named_paths(void **state)
{
	(void)state;
	for (int gconv_on = 0; gconv_on <= 1; gconv_on++) {
		struct fix *f = fix_new();
		base(f);
		dir(f, "etc");
		dir(f, "etc/whapp");
		dir(f, "etc/whapp/sub");
		text(f, "etc/whapp/whapp.conf", "x\n", 0644);
		text(f, "etc/whapp/sub/more.conf", "y\n", 0644);
		dir(f, "usr/lib/whapp-core");
		text(f, "usr/lib/whapp-core/a", "a\n", 0644);
		dir(f, "usr/libexec");
		dir(f, "usr/libexec/whapp");
		text(f, "usr/libexec/whapp/helper", "h\n", 0755);
		text(f, "usr/libexec/whapp/other", "o\n", 0755);
		dir(f, "usr/lib/x86_64-linux-gnu/gconv");
		host(f, "usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", "libfoo.so", 0755);
		host(f, "usr/bin/prog", "prog_named", 0755);
		text(f, "usr/README", "r\n", 0644); /* a member of /usr nothing keeps */
		entry(f, "/usr/bin/prog");
		char *rules[] = {"gconv=off"};
		struct reach_opts o = {.rules = {rules, gconv_on ? 0 : 1}};
		compute(f, &o);
		reason(f, "usr/libexec/whapp/helper", "named", "/usr/bin/prog");
		assert_false(kept(f, "/usr/libexec/whapp/other"));
		reason(f, "etc/whapp", "named", "/usr/bin/prog");
		assert_true(kept(f, "/etc/whapp/sub/more.conf"));
		assert_true(kept(f, "/etc/whapp/whapp.conf"));
		reason(f, "usr/lib/whapp-core", "named", "/usr/bin/prog");
		assert_false(kept(f, "/usr/lib/whapp-core/a"));
		/* the directories kept partly: whapp-core (named itself), not
		 * /etc/whapp (whole), /usr/libexec/whapp (a parent) nor /usr
		 * (named, but a system directory) */
		reason(f, "usr", "named", "/usr/bin/prog");
		assert_int_equal(f->r.n_partial_dirs, 1);
		assert_string_equal(f->r.partial_dirs[0].path, "/usr/lib/whapp-core");
		assert_string_equal(f->r.partial_dirs[0].named_by, "/usr/bin/prog");
		assert_int_equal(f->r.partial_dirs[0].kept, 0);
		assert_int_equal(f->r.partial_dirs[0].dropped, 1);
		assert_int_equal(f->r.partial_dirs[0].dropped_bytes, 2);
		assert_false(kept(f, "/usr/lib/x86_64-linux-gnu/gconv"));
		assert_false(kept(f, "/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"));
		fix_free(f);
	}
}

/* Programs that find their files by themselves (rules vcs, dbserver, jvm)
 * and configuration that names modules (apache's LoadModule in the .load
 * files apache2.conf includes, not in those it does not). */
/* The certs rule keeps a CA store for the TLS implementations that read
 * it: the system bundle for libssl, a JVM's keystore only with a JVM (also
 * not through /usr/lib/ssl/certs, Debian's link to /etc/ssl/certs). */
static void test_cert_stores(void **state)
{
	(void)state;
	for (int jvm = 0; jvm <= 1; jvm++) {
		struct fix *f = fix_new();
		base(f);
		host(f, "usr/bin/prog", "prog_plain", 0755);
		host(f, "usr/lib/x86_64-linux-gnu/libssl.so.3", "libfoo.so", 0755);
		dir(f, "usr/lib/jvm");
		dir(f, "usr/lib/jvm/lib");
		host(f, "usr/lib/jvm/lib/libjava.so", "libfoo.so", 0755);
		dir(f, "etc");
		dir(f, "etc/ssl");
		dir(f, "etc/ssl/certs");
		text(f, "etc/ssl/certs/ca-certificates.crt", "PEM\n", 0644);
		dir(f, "etc/ssl/certs/java");
		text(f, "etc/ssl/certs/java/cacerts", "JKS\n", 0644);
		dir(f, "usr/lib/ssl");
		link_(f, "usr/lib/ssl/certs", "../../../etc/ssl/certs");
		dir(f, "usr/share");
		dir(f, "usr/share/ca-certificates-java");
		text(f, "usr/share/ca-certificates-java/ca-certificates-java.jar", "jar\n", 0644);
		entry(f, "/usr/bin/prog");
		char *keep[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/jvm/lib/libjava.so"};
		struct reach_opts o = {.keep = {keep, jvm ? 2 : 1}};
		compute(f, &o);
		reason(f, "etc/ssl/certs/ca-certificates.crt", "certs", "/usr/lib/x86_64-linux-gnu/libssl.so.3");
		assert_true(kept(f, "/usr/lib/ssl/certs"));
		assert_int_equal(kept(f, "/etc/ssl/certs/java/cacerts"), jvm);
		assert_int_equal(kept(f, "/etc/ssl/certs/java"), jvm);
		assert_int_equal(kept(f, "/usr/share/ca-certificates-java/ca-certificates-java.jar"), jvm);
		if (jvm)
			reason(f, "etc/ssl/certs/java", "certs", "/usr/lib/jvm/lib/libjava.so");
		fix_free(f);
	}
}

static void test_program_rules(void **state)
{
	(void)state;
	for (int on = 0; on <= 1; on++) {
		struct fix *f = fix_new();
		base(f);
		dir(f, "usr/sbin");
		host(f, "usr/bin/git", "prog_plain", 0755);
		dir(f, "usr/lib/git-core");
		text(f, "usr/lib/git-core/git-upload-pack", "#!/bin/false\n", 0755);
		dir(f, "usr/share");
		dir(f, "usr/share/git-core");
		dir(f, "usr/share/git-core/templates");
		text(f, "usr/share/git-core/templates/description", "d\n", 0644);
		host(f, "usr/sbin/mariadbd", "prog_plain", 0755);
		dir(f, "usr/share/mysql");
		dir(f, "usr/share/mysql/charsets");
		text(f, "usr/share/mysql/charsets/Index.xml", "<x/>\n", 0644);
		dir(f, "usr/lib/jvm");
		dir(f, "usr/lib/jvm/jdk");
		dir(f, "usr/lib/jvm/jdk/bin");
		dir(f, "usr/lib/jvm/jdk/lib");
		dir(f, "usr/lib/jvm/jdk/lib/server");
		host(f, "usr/lib/jvm/jdk/bin/java", "prog_plain", 0755);
		text(f, "usr/lib/jvm/jdk/lib/jvm.cfg", "-server KNOWN\n", 0644);
		host(f, "usr/lib/jvm/jdk/lib/server/libjvm.so", "libfoo.so", 0755);
		host(f, "usr/lib/jvm/jdk/lib/libjava.so", "libfoo.so", 0755);
		link_(f, "usr/bin/java", "../lib/jvm/jdk/bin/java");
		dir(f, "etc");
		dir(f, "etc/apache2");
		text(f, "etc/apache2/apache2.conf", "IncludeOptional mods-enabled/*.load\n", 0644);
		dir(f, "etc/apache2/mods-available");
		dir(f, "etc/apache2/mods-enabled");
		text(f, "etc/apache2/mods-available/x.load", "LoadModule x_module /usr/lib/apache2/modules/mod_x.so\n",
		     0644);
		text(f, "etc/apache2/mods-available/y.load", "LoadModule y_module /usr/lib/apache2/modules/mod_y.so\n",
		     0644);
		link_(f, "etc/apache2/mods-enabled/x.load", "../mods-available/x.load");
		dir(f, "usr/lib/apache2");
		dir(f, "usr/lib/apache2/modules");
		host(f, "usr/lib/apache2/modules/mod_x.so", "libfoo.so", 0644);
		host(f, "usr/lib/apache2/modules/mod_y.so", "libfoo.so", 0644);
		config(f, "Entrypoint", json_pack("[s,s,s]", "/bin/sh", "-c", "git x; mariadbd; java -jar a.jar"));
		host(f, "usr/bin/dash", "prog_plain", 0755);
		link_(f, "usr/bin/sh", "dash");
		char *rules[] = {"vcs=off", "dbserver=off", "jvm=off"};
		char *keep[] = {"/etc/apache2"}; /* all of it: only what apache2.conf includes is read */
		struct reach_opts o = {.rules = {rules, on ? 0 : 3}, .keep = {keep, 1}};
		compute(f, &o);
		assert_true(kept(f, "/usr/lib/jvm/jdk/bin/java"));
		assert_int_equal(kept(f, "/usr/lib/git-core/git-upload-pack"), on);
		assert_int_equal(kept(f, "/usr/share/git-core/templates/description"), on);
		assert_int_equal(kept(f, "/usr/share/mysql/charsets/Index.xml"), on);
		assert_int_equal(kept(f, "/usr/lib/jvm/jdk/lib/server/libjvm.so"), on);
		assert_int_equal(kept(f, "/usr/lib/jvm/jdk/lib/libjava.so"), on);
		assert_int_equal(kept(f, "/usr/lib/jvm/jdk/lib/jvm.cfg"), on);
		if (on) {
			reason(f, "usr/lib/git-core", "vcs", "/usr/bin/git");
			reason(f, "usr/share/mysql", "dbserver", "/usr/sbin/mariadbd");
			reason(f, "usr/lib/jvm/jdk/lib", "jvm", "/usr/lib/jvm/jdk/bin/java");
			for (size_t i = 0; i < f->r.n_unneeded; i++)
				assert_null(strstr(f->r.unneeded[i].path, "/usr/lib/jvm/"));
		}
		reason(f, "usr/lib/apache2/modules/mod_x.so", "config", "/etc/apache2/mods-available/x.load");
		assert_false(kept(f, "/usr/lib/apache2/modules/mod_y.so"));
		fix_free(f);
	}
}

/* Honest doubt: a program that imports dlopen and names a directory of
 * libraries that are not kept is uncertain, its hint the directory; the
 * libraries are not "unneeded"; --keep of the hint clears it. */
static void test_uncertain(void **state)
{
	(void)state;
	for (int keep_it = 0; keep_it <= 1; keep_it++) {
		struct fix *f = fix_new();
		base(f);
		host(f, "usr/lib/x86_64-linux-gnu/libc.so.6", "libfakec.so", 0755);
		dir(f, "usr/lib/whplug");
		host(f, "usr/lib/whplug/plug.so", "libfoo.so", 0644);
		host(f, "usr/lib/x86_64-linux-gnu/libother.so.1", "libfoo.so", 0644);
		host(f, "usr/bin/prog", "prog_dlnamed", 0755);
		entry(f, "/usr/bin/prog");
		char *keep[] = {"/usr/lib/whplug"};
		struct reach_opts o = {.keep = {keep, keep_it ? 1 : 0}};
		compute(f, &o);
		assert_int_equal(kept(f, "/usr/lib/whplug/plug.so"), keep_it);
		assert_int_equal(f->r.n_uncertain, keep_it ? 0 : 1);
		if (!keep_it) {
			assert_string_equal(f->r.uncertain[0].path, "/usr/bin/prog");
			assert_int_equal(f->r.uncertain[0].n_hint, 1);
			assert_string_equal(f->r.uncertain[0].hint[0], "/usr/lib/whplug");
		}
		int other = 0;
		for (size_t i = 0; i < f->r.n_unneeded; i++) {
			assert_string_not_equal(f->r.unneeded[i].path, "/usr/lib/whplug/plug.so");
			other += !strcmp(f->r.unneeded[i].path, "/usr/lib/x86_64-linux-gnu/libother.so.1");
		}
		assert_int_equal(other, 1); /* the list still holds what no program may load */
		fix_free(f);
	}
}

/* The data directory fixture: user db, home /home/db holding a pre-made
 * "cluster", the entrypoint /entry.sh (script, a shell that is
 * prog_plain), and a program /usr/bin/prog. */
static struct fix *data_fix(const char *script)
{
	struct fix *f = fix_new();
	base(f);
	host(f, "usr/bin/prog", "prog_plain", 0755);
	host(f, "usr/bin/dash", "prog_plain", 0755);
	link_(f, "usr/bin/sh", "dash");
	dir(f, "etc");
	text(f, "etc/passwd", "root:x:0:0::/root:/bin/sh\ndb:x:1000:1000::/home/db:/bin/sh\n", 0644);
	dir(f, "home");
	dir(f, "home/db");
	text(f, "home/db/.profile", "umask 077\n", 0644);
	dir(f, "home/db/cluster");
	text(f, "home/db/cluster/PG_VERSION", "15\n", 0600);
	dir(f, "home/db/cluster/base");
	text(f, "home/db/cluster/base/1", "0123456789", 0600);
	text(f, "entry.sh", script, 0755);
	config(f, "User", json_string("db"));
	entry(f, "/entry.sh");
	return f;
}

static const struct reach_data_dir *data_dir(struct fix *f, const char *path)
{
	for (size_t i = 0; i < f->r.n_data_dirs; i++)
		if (!strcmp(f->r.data_dirs[i].path, path))
			return &f->r.data_dirs[i];
	fprintf(stderr, "no data dir %s\n", path);
	fail();
	return NULL;
}

/* A data directory is kept whole when the entrypoint may read it (a kept
 * script names it or a path inside, uses $HOME, the Env names it,
 * something inside is kept), else dropped whole: never in part. */
static void test_data_dirs_home(void **state)
{
	(void)state;
	static const struct {
		const char *script;
		const char *env;   /* K=V or NULL */
		const char *keep;  /* --keep or NULL */
		int kept;
		const char *why;   /* a part of the reason */
	} cases[] = {
		{"#!/bin/sh\nexec /usr/bin/prog\n", NULL, NULL, 0, "nothing the entrypoint runs names it"},
		{"#!/bin/sh\nPGDATA=/home/db/cluster\nexec /usr/bin/prog\n", NULL, NULL, 1, "/entry.sh names /home/db/cluster"},
		{"#!/bin/sh\nrm -rf \"$HOME/cluster\"\nexec /usr/bin/prog\n", NULL, NULL, 1, "/entry.sh uses $HOME"},
		{"#!/bin/sh\nexec /usr/bin/prog\n", "PGDATA=/home/db/cluster", NULL, 1, "Env PGDATA names /home/db/cluster"},
		{"#!/bin/sh\nexec /usr/bin/prog\n", NULL, "/home/db/.profile", 1, "/home/db/.profile is kept (keep"},
		/* a name that only starts like the home's is not the home */
		{"#!/bin/sh\nexec /usr/bin/prog /home/dbx\n", NULL, NULL, 0, "nothing the entrypoint runs names it"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fix *f = data_fix(cases[i].script);
		if (cases[i].env)
			config(f, "Env", json_pack("[s]", cases[i].env));
		char *keep[] = {(char *)cases[i].keep};
		struct reach_opts o = {.keep = {keep, cases[i].keep ? 1 : 0}};
		compute(f, &o);
		const struct reach_data_dir *d = data_dir(f, "/home/db");
		if (!strstr(d->why, cases[i].why))
			fprintf(stderr, "case %zu: why: %s\n", i, d->why);
		assert_non_null(strstr(d->why, cases[i].why));
		assert_int_equal(d->kept, cases[i].kept);
		assert_string_equal(d->kind, "User's home");
		assert_int_equal(d->files, 3);
		assert_int_equal(d->bytes, 10 + 3 + 10);
		/* whole or nothing: every member follows the directory */
		assert_true(kept(f, "/home/db")); /* the home exists, empty when dropped */
		assert_int_equal(kept(f, "/home/db/.profile"), cases[i].kept);
		assert_int_equal(kept(f, "/home/db/cluster"), cases[i].kept);
		assert_int_equal(kept(f, "/home/db/cluster/PG_VERSION"), cases[i].kept);
		assert_int_equal(kept(f, "/home/db/cluster/base/1"), cases[i].kept);
		if (!cases[i].kept)
			reason(f, "home/db", "data-dir", NULL);
		else if (!cases[i].keep)
			reason(f, "home/db/cluster/base/1", "data-dir", "/home/db/cluster/base");
		fix_free(f);
	}
}

/* A Volume nothing names is dropped whole (its directory stays); a mysql
 * configuration's datadir is kept whole, named by the configuration. */
static void test_data_dirs_volume_datadir(void **state)
{
	(void)state;
	for (int named = 0; named <= 1; named++) {
		struct fix *f = fix_new();
		base(f);
		host(f, "usr/bin/prog", "prog_plain", 0755);
		dir(f, "data");
		text(f, "data/seed.db", "seed", 0644);
		dir(f, "srv");
		dir(f, "srv/mysql");
		text(f, "srv/mysql/ibdata1", "12345678", 0660);
		dir(f, "etc");
		dir(f, "etc/mysql");
		text(f, "etc/mysql/my.cnf", "[mysqld]\ndatadir = /srv/mysql\n", 0644);
		entry(f, "/usr/bin/prog");
		config(f, "Volumes", json_pack("{s:{}}", "/data"));
		char *keep[] = {"/etc/mysql/my.cnf"};
		struct reach_opts o = {.keep = {keep, named ? 1 : 0}};
		compute(f, &o);
		const struct reach_data_dir *v = data_dir(f, "/data");
		assert_false(v->kept);
		assert_string_equal(v->kind, "Volume");
		assert_true(kept(f, "/data"));
		assert_false(kept(f, "/data/seed.db"));
		assert_int_equal(f->r.n_data_dirs, named ? 2 : 1);
		assert_int_equal(kept(f, "/srv/mysql/ibdata1"), named);
		if (named) {
			const struct reach_data_dir *m = data_dir(f, "/srv/mysql");
			assert_true(m->kept);
			assert_string_equal(m->kind, "datadir of /etc/mysql/my.cnf");
			assert_non_null(strstr(m->why, "/etc/mysql/my.cnf names it (datadir)"));
			reason(f, "srv/mysql", "data-dir", "/etc/mysql/my.cnf");
		}
		fix_free(f);
	}
}

/* An interpreter's script that imports a module by a computed name is
 * uncertain, its hint the interpreter's module directories and the
 * script's own; settled when they are kept whole (the rule on, or --keep)
 * and never listed for a literal import. */
static void test_uncertain_imports(void **state)
{
	(void)state;
	static const struct {
		const char *interp, *libdir, *script, *rule_off;
	} langs[] = {
		{"python3.11", "usr/lib/python3.11", "import importlib\nm = importlib.import_module(NAME)\n", "python=off"},
		{"node", "usr/lib/node_modules", "const fs = require('fs');\nconst m = require(NAME);\n", "node=off"},
		{"perl", "usr/share/perl5", "use strict;\nrequire NAME;\n", "perl=off"},
		{"ruby", "usr/lib/ruby", "require 'json'\nrequire NAME\n", "ruby=off"},
	};
	for (size_t l = 0; l < ARRAY_LEN(langs); l++)
		for (int c = 0; c < 4; c++) { /* 0 rule on, 1 rule off, 2 off + --keep, 3 off + a literal name */
			struct fix *f = fix_new();
			base(f);
			char p[256], body[512], lit[64];
			snprintf(p, sizeof p, "usr/bin/%s", langs[l].interp);
			host(f, p, "prog_plain", 0755);
			dir(f, "usr/lib/python3.11");
			dir(f, "usr/lib/node_modules");
			dir(f, "usr/share");
			dir(f, "usr/share/perl5");
			dir(f, "usr/lib/ruby");
			snprintf(p, sizeof p, "%s/mod.x", langs[l].libdir);
			text(f, p, "x\n", 0644);
			dir(f, "app");
			snprintf(lit, sizeof lit, "%s", l == 2 ? "Foo::Bar" : "'json'");
			char *t = strstr(langs[l].script, "NAME");
			snprintf(body, sizeof body, "#!/usr/bin/%s\n%.*s%s%s", langs[l].interp, (int)(t - langs[l].script),
			         langs[l].script, c == 3 ? lit : (l == 2 ? "$name" : "name"), t + 4);
			text(f, "app/run", body, 0755);
			entry(f, "/app/run");
			config(f, "WorkingDir", json_string("/app"));
			char *rules[] = {(char *)langs[l].rule_off};
			char keep0[128];
			snprintf(keep0, sizeof keep0, "/%s", langs[l].libdir);
			char *keep[] = {keep0};
			struct reach_opts o = {.rules = {rules, c ? 1 : 0}, .keep = {keep, c == 2 ? 1 : 0}};
			compute(f, &o);
			if ((int)f->r.n_uncertain != (c == 1))
				fprintf(stderr, "%s case %d: %zu uncertain\n", langs[l].interp, c, f->r.n_uncertain);
			assert_int_equal(f->r.n_uncertain, c == 1);
			if (c == 1) {
				const struct reach_uncertain *u = &f->r.uncertain[0];
				assert_string_equal(u->path, "/app/run");
				assert_non_null(strstr(u->why, "imports a module by a computed name at line 3"));
				assert_int_equal(u->n_hint, 2);
				assert_string_equal(u->hint[0], keep0);
				assert_string_equal(u->hint[1], "/app");
			}
			fix_free(f);
		}
}

/* A database server's built-in data directory (a directory under /var/lib
 * its strings name) is a data directory with the dbserver rule: kept
 * whole; without the rule it is a directory the program names, kept
 * partly (reach.partial_dirs). */
static void test_dbserver_datadir(void **state)
{
	(void)state;
	for (int on = 0; on <= 1; on++) {
		struct fix *f = fix_new();
		base(f);
		dir(f, "usr/sbin");
		host(f, "usr/sbin/mariadbd", "prog_dbnamed", 0755);
		dir(f, "var");
		dir(f, "var/lib");
		dir(f, "var/lib/mysql");
		text(f, "var/lib/mysql/ibdata1", "0123456789", 0660);
		dir(f, "var/lib/mysql/mysql");
		text(f, "var/lib/mysql/mysql/user.frm", "u", 0660);
		entry(f, "/usr/sbin/mariadbd");
		char *rules[] = {"dbserver=off"};
		struct reach_opts o = {.rules = {rules, on ? 0 : 1}};
		compute(f, &o);
		assert_int_equal(kept(f, "/var/lib/mysql/ibdata1"), on);
		assert_int_equal(kept(f, "/var/lib/mysql/mysql/user.frm"), on);
		assert_int_equal(f->r.n_data_dirs, on);
		assert_int_equal(f->r.n_partial_dirs, !on);
		if (on) {
			const struct reach_data_dir *d = data_dir(f, "/var/lib/mysql");
			assert_true(d->kept);
			assert_string_equal(d->kind, "datadir built into /usr/sbin/mariadbd");
			assert_int_equal(d->files, 2);
			assert_int_equal(d->bytes, 11);
			reason(f, "var/lib/mysql", "data-dir", "/usr/sbin/mariadbd");
		} else {
			assert_string_equal(f->r.partial_dirs[0].path, "/var/lib/mysql");
			assert_int_equal(f->r.partial_dirs[0].dropped, 2);
			assert_int_equal(f->r.partial_dirs[0].dropped_bytes, 11);
		}
		fix_free(f);
	}
}

/* What an interpreter reads through HOME (python's user site-packages)
 * keeps the home whole when that interpreter's rule fired. */
static void test_data_dirs_home_reads(void **state)
{
	(void)state;
	for (int on = 0; on <= 1; on++) {
		struct fix *f = data_fix("#!/usr/bin/python3.11\nimport x\n");
		host(f, "usr/bin/python3.11", "prog_plain", 0755);
		dir(f, "home/db/.local");
		dir(f, "home/db/.local/lib");
		dir(f, "home/db/.local/lib/python3.11");
		text(f, "home/db/.local/lib/python3.11/x.py", "y = 1\n", 0644);
		char *rules[] = {"python=off"};
		struct reach_opts o = {.rules = {rules, on ? 0 : 1}};
		compute(f, &o);
		const struct reach_data_dir *d = data_dir(f, "/home/db");
		assert_int_equal(d->kept, on);
		assert_int_equal(kept(f, "/home/db/.local/lib/python3.11/x.py"), on);
		assert_int_equal(kept(f, "/home/db/cluster/PG_VERSION"), on);
		if (on)
			assert_non_null(strstr(d->why, "python rule: the program reads /home/db/.local/lib/python3.11 "
			                                "(python's user site-packages) through HOME"));
		fix_free(f);
	}
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	FILE *fp;
	char p[512];
#define W(name, body)                                         \
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);         \
	fp = fopen(p, "w");                                   \
	fputs(body, fp);                                      \
	fclose(fp);
	W("foo.c", "int foo(void) { return 42; }\n");
	W("mid.c", "int foo(void);\nint mid(void) { return foo(); }\n");
	W("ldso.c", "int ldso_stub(void) { return 0; }\n");
	W("start.c", "int foo(void);\nvoid _start(void) { foo(); for (;;) ; }\n");
	W("startmid.c", "int mid(void);\nvoid _start(void) { mid(); for (;;) ; }\n");
	W("fakec.c", "int getpwnam(void){return 0;} int pthread_cancel(void){return 0;} int system(void){return 0;}\n"
	             "int iconv_open(void){return 0;} int dlopen(void){return 0;}\n");
	W("imports.c", "int getpwnam(void); int pthread_cancel(void); int iconv_open(void); int dlopen(void);\n"
	               "void _start(void) { getpwnam(); pthread_cancel(); iconv_open(); dlopen(); for (;;) ; }\n");
	W("system.c", "int system(const char *);\nvoid _start(void) { system(\"x\"); for (;;) ; }\n");
	W("named.c", "static const char *const n[] = {\"/etc/whapp\", \"/usr/lib/whapp-core\",\n"
	             "  \"/usr/libexec/whapp/helper\", \"/usr/lib/x86_64-linux-gnu/gconv\", \"/usr/share/none/x\",\n"
	             "  \"/usr\"};\n"
	             "const char *volatile sink;\n"
	             "void _start(void) { for (int i = 0; i < 6; i++) sink = n[i]; for (;;) ; }\n");
	W("dbnamed.c", "static const char *const d = \"/var/lib/mysql\";\n"
	               "const char *volatile sink;\nvoid _start(void) { sink = d; for (;;) ; }\n");
	W("dlnamed.c", "int dlopen(void);\nstatic const char *const d = \"/usr/lib/whplug\";\n"
	               "const char *volatile sink;\nvoid _start(void) { sink = d; dlopen(); for (;;) ; }\n");
#undef W
	const char *so = "gcc -shared -nostdlib -fPIC";
	const char *exe = "gcc -nostdlib -fPIE -pie -Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2";
	if (sh("%s -Wl,-soname,libfoo.so.1 foo.c -o libfoo.so 2>err && cp libfoo.so libfoo.so.1", so) ||
	    sh("%s -Wl,-soname,libmid.so.1 mid.c -L. -lfoo -o libmid.so 2>>err", so) ||
	    sh("%s -Wl,-soname,ld-linux-x86-64.so.2 ldso.c -o ldso.so 2>>err", so) ||
	    sh("%s -Wl,-soname,libc.so.6 fakec.c -o libfakec.so 2>>err", so) ||
	    sh("%s startmid.c -L. -lmid -Wl,-rpath-link,. -Wl,--disable-new-dtags,-rpath,/opt/a -o prog_rpath 2>>err",
	       exe) ||
	    sh("%s startmid.c -L. -lmid -Wl,-rpath-link,. -Wl,--enable-new-dtags,-rpath,/opt/a -o prog_runpath 2>>err",
	       exe) ||
	    sh("%s start.c -L. -lfoo -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' -o prog_origin 2>>err", exe) ||
	    sh("%s start.c -L. -lfoo -Wl,--disable-new-dtags,-rpath,/opt/w:/opt/r -o prog_wr 2>>err", exe) ||
	    sh("%s start.c -L. -lfoo -o prog_plain 2>>err", exe) ||
	    sh("%s start.c -L. -lfoo -Wl,-z,nodefaultlib -o prog_nodeflib 2>>err", exe) ||
	    sh("%s imports.c -L. -lfakec -o prog_imports 2>>err", exe) ||
	    sh("%s system.c -L. -lfakec -o prog_system 2>>err", exe) ||
	    sh("%s -O0 named.c -o prog_named 2>>err", exe) ||
	    sh("%s -O0 dlnamed.c -L. -lfakec -o prog_dlnamed 2>>err", exe) ||
	    sh("%s -O0 dbnamed.c -o prog_dbnamed 2>>err", exe)) {
		sh("cat err >&2");
		return -1;
	}
	have_m32 = sh("gcc -m32 -shared -nostdlib -fPIC -Wl,-soname,libfoo.so.1 foo.c -o libfoo32.so 2>/dev/null") == 0;
	/* a real ld.so.cache naming /opt/c/libfoo.so.1, written by ldconfig */
	if (sh("mkdir -p st/etc st/opt/c && cp libfoo.so st/opt/c/libfoo.so.1 && echo /opt/c >st/etc/ld.so.conf && "
	       "ldconfig -r st 2>>err") ||
	    sh("mkdir -p st2/etc st2/usr/lib/x86_64-linux-gnu && cp libfoo.so st2/usr/lib/x86_64-linux-gnu/libfoo.so.1 && "
	       "touch st2/etc/ld.so.conf && ldconfig -r st2 2>>err")) {
		sh("cat err >&2");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpath_inherited),
		cmocka_unit_test(test_runpath_not_inherited),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_wrong_class_first),
		cmocka_unit_test(test_hwcaps_and_defaults),
		cmocka_unit_test(test_nodeflib),
		cmocka_unit_test(test_cache_present_absent),
		cmocka_unit_test(test_cache_not_needed),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_shell_form),
		cmocka_unit_test(test_wrappers),
		cmocka_unit_test(test_bin_sh),
		cmocka_unit_test(test_runtime_rules),
		cmocka_unit_test(test_user_lists),
		cmocka_unit_test(test_keep_from_escaped),
		cmocka_unit_test(test_named_paths),
		cmocka_unit_test(test_program_rules),
		cmocka_unit_test(test_uncertain),
		cmocka_unit_test(test_cert_stores),
		cmocka_unit_test(test_uncertain_imports),
		cmocka_unit_test(test_data_dirs_home),
		cmocka_unit_test(test_data_dirs_home_reads),
		cmocka_unit_test(test_data_dirs_volume_datadir),
		cmocka_unit_test(test_dbserver_datadir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
