/* reach_imports: honest doubt for interpreters' dynamic imports. A kept
 * python, perl, ruby or node script (its language from its "#!" line or
 * its name; its text as the layer index captured it) that imports a module
 * by a name computed at run time (dynimport.c) may need any module of its
 * interpreter's library: an uncertain entry, its hint the interpreter's
 * module directories that exist in the image (those the run-time rule of
 * that interpreter keeps whole) and, for a script of an application
 * directory (not a system one), that directory, where a relative import
 * looks. The entry is settled, and not listed, when every directory of
 * the hint is kept whole: so with the interpreter's rule on (the default)
 * and the script's directory kept (the WorkingDir), it is listed only
 * when the rule is off (--rule python=off) and no --keep covers it. */
#include "analyzer/reach_int.h"

#include <fnmatch.h>
#include <stdio.h>

#include "analyzer/dynimport.h"

/* The module directories of each interpreter, as its rule keeps them. */
static const char *const *lib_dirs(enum dynimport_lang l)
{
	static const char *const py[] = {"/usr/lib/python3.[0-9]*", "/usr/local/lib/python3.[0-9]*",
	                                 "/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages", NULL};
	static const char *const pl[] = {"/usr/share/perl5", "/usr/share/perl", "/usr/lib/*/perl5", "/usr/lib/*/perl",
	                                 "/usr/lib/*/perl-base", "/usr/local/share/perl", "/usr/local/lib/*/perl", NULL};
	static const char *const rb[] = {"/usr/lib/ruby", "/usr/local/lib/ruby", "/usr/lib/*/ruby", "/var/lib/gems", NULL};
	static const char *const js[] = {"/usr/lib/node_modules", "/usr/local/lib/node_modules", "/usr/share/nodejs",
	                                 "/usr/lib/nodejs", NULL};
	switch (l) {
	case DI_PYTHON: return py;
	case DI_PERL: return pl;
	case DI_RUBY: return rb;
	case DI_NODE: return js;
	default: return NULL;
	}
}

/* The directories matching an absolute glob (no symlink followed). */
static void glob_dirs(struct wh_node *dir, const char *pat, const char *prefix, struct strv *out)
{
	while (*pat == '/')
		pat++;
	if (!*pat) {
		sv_push(out, xstrdup(*prefix ? prefix : "/"));
		return;
	}
	const char *slash = strchr(pat, '/');
	size_t len = slash ? (size_t)(slash - pat) : strlen(pat);
	char comp[256], p[PATHMAX];
	if (len >= sizeof comp)
		return;
	memcpy(comp, pat, len);
	comp[len] = 0;
	for (struct wh_node *ch = dir->child; ch; ch = ch->next) {
		if (ch->type != WH_T_DIR || fnmatch(comp, ch->name, FNM_PERIOD))
			continue;
		snprintf(p, sizeof p, "%s/%s", prefix, ch->name);
		glob_dirs(ch, slash ? slash : "", p, out);
	}
}

/* Kept whole: the node or a directory above it is kept with its subtree. */
static int kept_whole(struct reach_ctx *c, const struct wh_node *n)
{
	for (const struct wh_node *x = n; x; x = x->parent) {
		long k = reach_item_find(c, x);
		if (k >= 0 && (c->r->items[k].flags & F_SUBTREE))
			return 1;
	}
	return 0;
}

static void push_entry(struct reach_ctx *c, const char *path, const char *why, struct strv *hint, size_t *cap)
{
	struct reach *r = c->r;
	if (r->n_uncertain == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		r->uncertain = xrealloc(r->uncertain, *cap * sizeof *r->uncertain);
	}
	struct reach_uncertain *u = &r->uncertain[r->n_uncertain++];
	u->path = xstrdup(path);
	u->why = xstrdup(why);
	u->hint = hint->v;
	u->n_hint = hint->n;
	memset(hint, 0, sizeof *hint);
}

/* One kept script: an entry when it imports by a computed name and its
 * hint is not all kept whole. */
static void script_entry(struct reach_ctx *c, struct wh_node *n, size_t *cap)
{
	const struct wh_extra *x = n->e->extra;
	char p[PATHMAX];
	reach_node_path(n, p);
	enum dynimport_lang l = dynimport_lang(p, x->shebang);
	const char *what = NULL;
	size_t line = l ? dynimport_scan(l, (const char *)x->content, x->content_len, &what) : 0;
	if (!line)
		return;
	struct strv hint = {0};
	for (const char *const *g = lib_dirs(l); *g; g++)
		glob_dirs(c->t->root, *g, "", &hint);
	char d[PATHMAX];
	reach_node_path(n->parent, d);
	if (!reach_is_system_dir(d) && strncmp(d, "/usr/", 5) && strcmp(d, "/"))
		sv_push(&hint, xstrdup(d));
	int settled = hint.n > 0;
	for (size_t i = 0; i < hint.n && settled; i++)
		settled = kept_whole(c, reach_node_at(c, hint.v[i]));
	if (settled || !hint.n) {
		sv_free(&hint);
		return;
	}
	char why[256];
	snprintf(why, sizeof why, "imports a module by a computed name at line %zu (%s): any module of %s's library "
	         "may be loaded; keep the directories of the hint, or run it under --probe", line, what,
	         dynimport_lang_name(l));
	push_entry(c, p, why, &hint, cap);
}

void reach_uncertain_imports(struct reach_ctx *c, size_t *cap)
{
	struct reach *r = c->r;
	size_t n_items = r->n_items;
	for (size_t i = 0; i < n_items; i++) {
		struct wh_node *n = r->items[i].node;
		if (n->type != WH_T_REG || !n->e || !n->e->extra || !n->e->extra->content || n->e->extra->elf)
			continue;
		/* the interpreters' own libraries are their rules' business */
		if (r->items[i].rule >= REACH_RT_FIRST)
			continue;
		script_entry(c, n, cap);
	}
}
