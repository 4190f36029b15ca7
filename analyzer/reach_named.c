/* reach_named: absolute paths named by strings inside kept programs.
 *
 * The layer index leaves each ELF file's absolute path strings of its
 * read-only segments in elf_info.paths (elf_strings.c). Those naming a
 * file or directory of the image are kept, led to by the program (rule
 * "named"): /bin/sh that a program execs by name, its configuration file,
 * its helper directory. A path inside a directory that a run-time rule
 * owns is left to that rule, also when the rule is off (libc names the
 * gconv and locale directories, perl every @INC directory). A directory
 * is kept whole only under /etc/NAME (configuration); elsewhere it is kept
 * as a directory, with the members that something else names. */
#include "analyzer/reach_int.h"

#include <elf.h>
#include <fnmatch.h>
#include <stdio.h>

#include "analyzer/config_refs.h"
#include "analyzer/elf.h"

#define NAMED_TOTAL_MAX 200000 /* path strings followed in one analysis */

/* Directories (and files) a run-time rule owns, as FNM_PATHNAME globs
 * matched against a path's leading components. */
static const char *const rule_owned[] = {
	/* gconv */
	"/usr/lib/gconv", "/usr/lib/*/gconv", "/usr/lib64/gconv", "/usr/local/lib/gconv", "/lib/*/gconv",
	/* locale */
	"/usr/lib/locale", "/usr/share/locale", "/usr/share/i18n", "/usr/lib/*/locale", "/etc/locale.alias",
	"/etc/default/locale", "/etc/locale.conf",
	/* perl */
	"/etc/perl", "/usr/share/perl", "/usr/share/perl5", "/usr/lib/*/perl", "/usr/lib/*/perl5",
	"/usr/lib/*/perl-base", "/usr/local/lib/*/perl", "/usr/local/share/perl", "/usr/lib/perl5",
	"/usr/local/lib/perl5",
	/* python */
	"/usr/lib/python*", "/usr/local/lib/python*", "/usr/lib64/python*",
	/* ruby */
	"/usr/lib/ruby", "/usr/local/lib/ruby", "/usr/lib/*/ruby", "/var/lib/gems", "/usr/share/rubygems-integration",
	/* node */
	"/usr/lib/node_modules", "/usr/local/lib/node_modules", "/usr/share/nodejs", "/usr/lib/nodejs",
	/* tzdata */
	"/usr/share/zoneinfo", "/etc/localtime", "/etc/timezone",
	/* certs, openssl-modules */
	"/etc/ssl", "/usr/lib/ssl", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates", "/etc/pki",
	"/etc/ca-certificates", "/usr/lib/*/ossl-modules", "/usr/lib/*/engines-*",
	/* nss */
	"/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/services", "/etc/protocols",
	"/etc/networks", "/etc/host.conf", "/etc/gai.conf", "/etc/resolv.conf", "/etc/shadow", "/etc/gshadow",
	"/etc/netgroup",
	/* ld-cache (the loader's own files) */
	"/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	/* not files of the image */
	"/proc", "/sys", "/dev",
};

/* Is path, or a leading part of it, a directory a run-time rule owns? */
int reach_named_rule_owned(const char *path)
{
	for (size_t i = 0; i < ARRAY_LEN(rule_owned); i++) {
		const char *pat = rule_owned[i];
		size_t k = 0; /* components of the pattern */
		for (const char *q = pat; *q; q++)
			k += *q == '/';
		const char *end = path;
		size_t seen = 0;
		while (*end && seen <= k) {
			end++;
			end += strcspn(end, "/");
			seen++;
			if (seen == k)
				break;
		}
		if (seen != k)
			continue;
		char pre[PATHMAX];
		size_t len = (size_t)(end - path);
		if (len >= sizeof pre)
			continue;
		memcpy(pre, path, len);
		pre[len] = 0;
		if (fnmatch(pat, pre, FNM_PATHNAME) == 0)
			return 1;
	}
	return 0;
}

/* Configuration: /etc/NAME and below. */
static int is_config_dir(const char *path)
{
	return strncmp(path, "/etc/", 5) == 0 && path[5] != 0;
}

void reach_follow_named(struct reach_ctx *c, struct wh_node *n, const struct elf_info *e)
{
	if (e->paths_truncated)
		reach_unres(c, n, "more than %d path strings inside: the rest were not followed", ELF_PATHS_MAX);
	for (size_t i = 0; i < e->n_paths; i++) {
		const char *s = e->paths[i];
		if (reach_named_rule_owned(s))
			continue;
		if (c->named_total >= NAMED_TOTAL_MAX) {
			if (!c->named_capped)
				reach_unres(c, n, "path strings past %d in the image's programs were not followed",
				            NAMED_TOTAL_MAX);
			c->named_capped = 1;
			return;
		}
		c->named_total++;
		struct pathres pr;
		struct wh_error err = {0};
		if (pathres_resolve(c->t, c->t->root, s, PATHRES_FOLLOW, &pr, &err) < 0 || !pr.node) {
			pathres_free(&pr);
			continue;
		}
		char p[PATHMAX];
		const char *real = reach_node_path(pr.node, p);
		if (pr.node != n && !reach_named_rule_owned(real) && pr.node->parent) {
			int flags = pr.node->type == WH_T_DIR && is_config_dir(real) ? F_SUBTREE : 0;
			reach_keep_res(c, &pr, R_NAMED, n, NULL, flags);
		}
		pathres_free(&pr);
	}
}

/* ---- configuration that names files ---- */

struct conf_ctx {
	struct reach_ctx *c;
	struct wh_node *n;
	int depth;
};

static void follow_config_file(struct reach_ctx *c, struct wh_node *n, int depth);

/* A file an include names: kept, and read in its turn (a directory: its
 * files). Only what the main configuration includes is read: a module's
 * .load file in mods-available is not loaded unless included. */
static void conf_include(struct conf_ctx *cc, struct wh_node *n)
{
	if (!n)
		return;
	if (n->type == WH_T_DIR) {
		for (struct wh_node *ch = n->child; ch; ch = ch->next) {
			struct pathres pr;
			struct wh_error err = {0};
			if (pathres_resolve(cc->c->t, n, ch->name, PATHRES_FOLLOW, &pr, &err) == 0 && pr.node &&
			    pr.node->type == WH_T_REG)
				follow_config_file(cc->c, pr.node, cc->depth + 1);
			pathres_free(&pr);
		}
		return;
	}
	follow_config_file(cc->c, n, cc->depth + 1);
}

static void conf_ref(void *ctx, const char *path, enum config_ref_kind kind, const char *directive)
{
	struct conf_ctx *cc = ctx;
	int include = !strncmp(directive, "Include", 7) || !strncmp(directive, "!include", 8);
	char d[PATHMAX];
	snprintf(d, sizeof d, "%s", path);
	char *sl = strrchr(d, '/');
	if (kind == CONFIG_REF_DATA) {
		/* a server's data directory: kept whole (the configuration names
		 * it, its program reads it) or, when it is no directory, nothing */
		char p[PATHMAX], named[PATHMAX + 64];
		snprintf(named, sizeof named, "%s names it (%s)", reach_node_path(cc->n, p), directive);
		snprintf(d, sizeof d, "%s of %s", directive, p);
		reach_data_add(cc->c, path, d, cc->n, named);
	} else if (kind == CONFIG_REF_PARENT) {
		if (sl && sl != d) {
			*sl = 0;
			reach_keep_path(cc->c, d, R_CONFIG, cc->n, NULL, 0);
		}
	} else if (kind == CONFIG_REF_GLOB && reach_has_glob(path)) {
		/* a pattern in the last component: match the directory's entries */
		struct wh_node *dir = NULL;
		if (sl && sl != d) {
			*sl = 0;
			if (!reach_has_glob(d))
				dir = pathres_node(cc->c->t, cc->c->t->root, d, PATHRES_FOLLOW);
		}
		if (!dir || dir->type != WH_T_DIR) {
			reach_keep_pattern(cc->c, path, R_CONFIG, cc->n, NULL);
			return;
		}
		for (struct wh_node *ch = dir->child; ch; ch = ch->next) {
			if (fnmatch(sl + 1, ch->name, FNM_PERIOD))
				continue;
			char cp[PATHMAX];
			snprintf(cp, sizeof cp, "%s/%s", d, ch->name);
			struct wh_node *t = reach_keep_path(cc->c, cp, R_CONFIG, cc->n, NULL, 1);
			if (include)
				conf_include(cc, t);
		}
	} else {
		struct wh_node *t = reach_keep_path(cc->c, path, R_CONFIG, cc->n, NULL, kind != CONFIG_REF_FILE);
		if (include)
			conf_include(cc, t);
	}
}

static void follow_config_file(struct reach_ctx *c, struct wh_node *n, int depth)
{
	long idx = reach_item_find(c, n);
	if (idx < 0 || depth > MAX_DEPTH || !n->e || !n->e->extra || !n->e->extra->content ||
	    (c->r->items[idx].flags & F_CONFIG_DONE))
		return;
	char p[PATHMAX];
	const char *path = reach_node_path(n, p);
	if (!config_refs_syntax(path))
		return;
	c->r->items[idx].flags |= F_CONFIG_DONE;
	struct conf_ctx cc = {c, n, depth};
	config_refs_scan(path, (const char *)n->e->extra->content, n->e->extra->content_len, conf_ref, &cc);
}

void reach_follow_config(struct reach_ctx *c, struct wh_node *n)
{
	char p[PATHMAX];
	if (config_refs_is_main(reach_node_path(n, p)))
		follow_config_file(c, n, 0);
}

/* ---- honest doubt ---- */

/* The loader's own directories are no plugin directories. */
static int loader_dir(const char *p)
{
	static const char *const dirs[] = {"/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32",
	                                   "/usr/libx32", "/usr/local/lib", "/lib/*-linux-*", "/usr/lib/*-linux-*"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		if (fnmatch(dirs[i], p, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

/* A directory holding ELF shared objects that are not kept. */
static int holds_unkept_libs(const struct wh_node *d)
{
	for (const struct wh_node *ch = d->child; ch; ch = ch->next) {
		const struct elf_info *e = reach_node_elf(ch);
		if (e && e->type == ET_DYN && !(ch->mark & WH_MARK_KEEP))
			return 1;
	}
	return 0;
}

static int cmp_uncertain(const void *a, const void *b)
{
	const struct reach_uncertain *x = a, *y = b;
	int d = strcmp(x->path, y->path);
	return d ? d : strcmp(x->hint[0], y->hint[0]);
}

/* A kept program that imports dlopen and names a directory holding
 * libraries that are not kept may load them by names built at run time:
 * an entry, its hint the directory. Those libraries are no longer listed
 * as unneeded. */
void reach_uncertain_free(struct reach_uncertain *u)
{
	free(u->path);
	free(u->why);
	for (size_t k = 0; k < u->n_hint; k++)
		free(u->hint[k]);
	free(u->hint);
}

/* An entry whose program a passing probe ran (reach_opts.probe_ran) is
 * settled by that probe: it moves to r->settled. Its hint still keeps
 * the libraries it names out of unneeded_libraries (the probe exercised
 * some of what the program loads, not necessarily all). */
static void settle_by_probes(struct reach_ctx *c)
{
	struct reach *r = c->r;
	const struct str_list *ran = &c->o->probe_ran;
	size_t out = 0;
	for (size_t i = 0; i < r->n_uncertain; i++) {
		struct reach_uncertain *u = &r->uncertain[i];
		size_t k = 0;
		while (k < ran->n && strcmp(ran->v[k], u->path))
			k++;
		if (k == ran->n) {
			u->settled_by = NULL; /* (the entries are built field by field) */
			r->uncertain[out++] = *u;
			continue;
		}
		r->settled = xrealloc(r->settled, (r->n_settled + 1) * sizeof *r->settled);
		u->settled_by = c->o->probe_ran_why ? c->o->probe_ran_why[k] : "probe";
		r->settled[r->n_settled++] = *u;
	}
	r->n_uncertain = out;
}

void reach_uncertain(struct reach_ctx *c)
{
	struct reach *r = c->r;
	size_t cap = 0;
	for (size_t i = 0; i < r->n_items; i++) {
		struct wh_node *n = r->items[i].node;
		const struct elf_info *e = reach_node_elf(n);
		if (!e || !(e->imports & ELF_IMP_DLOPEN))
			continue;
		for (size_t k = 0; k < e->n_paths; k++) {
			if (reach_named_rule_owned(e->paths[k]))
				continue;
			struct wh_node *d = pathres_node(c->t, c->t->root, e->paths[k], PATHRES_FOLLOW);
			if (!d || d->type != WH_T_DIR || !holds_unkept_libs(d))
				continue;
			char p[PATHMAX], dp[PATHMAX], why[PATHMAX + 160];
			reach_node_path(d, dp);
			if (loader_dir(dp))
				continue;
			snprintf(why, sizeof why, "imports dlopen and names %s, whose libraries are not kept: it may load "
			         "them by names built at run time", dp);
			if (r->n_uncertain == cap) {
				cap = cap ? cap * 2 : 8;
				r->uncertain = xrealloc(r->uncertain, cap * sizeof *r->uncertain);
			}
			struct reach_uncertain *u = &r->uncertain[r->n_uncertain++];
			u->path = xstrdup(reach_node_path(n, p));
			u->why = xstrdup(why);
			u->hint = xcalloc(1, sizeof *u->hint);
			u->hint[0] = xstrdup(dp);
			u->n_hint = 1;
		}
	}
	reach_uncertain_imports(c, &cap);
	if (r->n_uncertain > 1)
		qsort(r->uncertain, r->n_uncertain, sizeof *r->uncertain, cmp_uncertain);
	size_t uniq = 0;
	for (size_t i = 0; i < r->n_uncertain; i++) {
		if (uniq && !cmp_uncertain(&r->uncertain[uniq - 1], &r->uncertain[i])) {
			reach_uncertain_free(&r->uncertain[i]);
			continue;
		}
		r->uncertain[uniq++] = r->uncertain[i];
	}
	r->n_uncertain = uniq;
	/* unneeded_libraries: not those an uncertain program may load */
	size_t out = 0;
	for (size_t i = 0; i < r->n_unneeded; i++) {
		int hinted = 0;
		for (size_t u = 0; u < r->n_uncertain && !hinted; u++)
			for (size_t k = 0; k < r->uncertain[u].n_hint && !hinted; k++) {
				size_t l = strlen(r->uncertain[u].hint[k]);
				hinted = !strncmp(r->unneeded[i].path, r->uncertain[u].hint[k], l) &&
				         r->unneeded[i].path[l] == '/';
			}
		if (hinted)
			free(r->unneeded[i].path);
		else
			r->unneeded[out++] = r->unneeded[i];
	}
	r->n_unneeded = out;
	settle_by_probes(c);
}
