/* reach: the kept set of an image and the reason for each kept node.
 * This file holds the kept items (keep, resolve, the queue) and the API;
 * reach_int.h says where the rest is. */
#include "analyzer/reach_int.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>

#include "analyzer/elf.h"

static const char *const rule_names[REACH_RT_FIRST] = {
	[R_ENTRYPOINT] = "entrypoint", [R_CMD] = "cmd", [R_SHELL] = "shell", [R_ARG] = "argument",
	[R_KEEP] = "keep", [R_KEEP_FROM] = "keep-from", [R_KEEP_EXE] = "keep-exe",
	[R_KEEP_PACKAGE] = "keep-package", [R_PROBE] = "probe", [R_USER] = "user", [R_PRELOAD] = "preload",
	[R_ALWAYS] = "always", [R_PARENT] = "parent", [R_LINK] = "link", [R_SYMLINK] = "symlink",
	[R_HARDLINK] = "hardlink", [R_INTERP] = "interp", [R_NEEDED] = "needed", [R_SHEBANG] = "shebang",
	[R_SCRIPT] = "script", [R_SUBTREE] = "subtree", [R_COPYRIGHT] = "copyright",
	[R_LD_CACHE] = "ld-cache", [R_NAMED] = "named", [R_CONFIG] = "config", [R_DATADIR] = "data-dir",
};

const char *reach_rule_name(int rule)
{
	if (rule >= REACH_RT_FIRST)
		return reach_rt_rule_name(rule);
	return rule >= 0 ? rule_names[rule] : "?";
}

/* ---- small helpers ---- */

const char *reach_node_path(const struct wh_node *n, char *buf)
{
	if (!n)
		return "/";
	tree_path(n, buf, PATHMAX);
	return buf;
}

const char *reach_base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

const char *reach_env_get(struct reach_ctx *c, const char *name)
{
	size_t l = strlen(name);
	/* the last assignment wins, as in docker */
	for (size_t i = c->env.n; i-- > 0;)
		if (!strncmp(c->env.v[i], name, l) && c->env.v[i][l] == '=')
			return c->env.v[i] + l + 1;
	return NULL;
}

void reach_unres(struct reach_ctx *c, const struct wh_node *who, const char *fmt, ...)
{
	char p[PATHMAX];
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	sv_push(&c->unres_path, xstrdup(reach_node_path(who, p)));
	sv_push(&c->unres_needs, msg);
}

const struct elf_info *reach_node_elf(const struct wh_node *n)
{
	return n && n->type == WH_T_REG && n->e && n->e->extra ? n->e->extra->elf : NULL;
}

int reach_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* ---- items ---- */

struct wh_node *reach_node_at(struct reach_ctx *c, const char *path)
{
	struct pathres pr;
	struct wh_error e = {0};
	pathres_resolve(c->t, NULL, path, PATHRES_FOLLOW, &pr, &e);
	struct wh_node *n = pr.node;
	pathres_free(&pr);
	return n;
}

/* ---- items ---- */

static size_t hash_ptr(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v;
}

long reach_item_find(const struct reach_ctx *c, const struct wh_node *n)
{
	if (!c->nslots)
		return -1;
	size_t h = hash_ptr(n) & (c->nslots - 1);
	while (c->slots[h]) {
		if (c->r->items[c->slots[h] - 1].node == n)
			return (long)(c->slots[h] - 1);
		h = (h + 1) & (c->nslots - 1);
	}
	return -1;
}

static void slots_insert(struct reach_ctx *c, size_t idx)
{
	size_t h = hash_ptr(c->r->items[idx].node) & (c->nslots - 1);
	while (c->slots[h])
		h = (h + 1) & (c->nslots - 1);
	c->slots[h] = idx + 1;
}

static void queue_push(struct reach_ctx *c, size_t idx)
{
	if (c->qlen == c->qcap) {
		c->qcap = c->qcap ? c->qcap * 2 : 256;
		c->queue = xrealloc(c->queue, c->qcap * sizeof *c->queue);
	}
	c->queue[c->qlen++] = idx;
}

static int drop_match(struct reach_ctx *c, const char *path, const char **pat)
{
	for (size_t i = 0; i < c->drop.n; i++) {
		const char *d = c->drop.v[i];
		if (fnmatch(d, path, FNM_PATHNAME) == 0) {
			*pat = d;
			return 1;
		}
	}
	return 0;
}

/* Is n, or a directory above it, matched by --drop? */
const char *reach_dropped_by(struct reach_ctx *c, const struct wh_node *n)
{
	if (!c->drop.n)
		return NULL;
	char p[PATHMAX];
	const char *pat;
	for (const struct wh_node *x = n; x && x->parent; x = x->parent)
		if (drop_match(c, reach_node_path(x, p), &pat))
			return pat;
	return NULL;
}

/* Keep node n for rule, led to by from. Returns the item index or -1. */
long reach_keep(struct reach_ctx *c, struct wh_node *n, int rule, struct wh_node *from, const char *what,
                 int flags)
{
	if (!n)
		return -1;
	long idx = reach_item_find(c, n);
	if (idx >= 0) {
		struct reach_item *it = &c->r->items[idx];
		if ((flags & F_SUBTREE) && !(it->flags & F_SUBTREE)) {
			it->flags |= F_SUBTREE;
			if (it->rule == R_NAMED) { /* kept whole: by the rule that says so */
				it->rule = (uint8_t)rule;
				it->from = from;
				it->what = what;
			}
			queue_push(c, (size_t)idx);
		}
		if (it->rule == R_PARENT && rule != R_PARENT) {
			it->rule = (uint8_t)rule;
			it->from = from;
			it->what = what;
		}
		return idx;
	}
	const char *pat = reach_dropped_by(c, n);
	if (pat) {
		/* a need that was dropped is unresolved; a dropped entry of a
		 * directory kept whole is what the user asked for */
		if (!(from && from == n->parent && from->type == WH_T_DIR)) {
			char p[PATHMAX];
			if (rule == R_PROBE && !from && what) /* the probe that needed it, by its command */
				reach_unres(c, NULL, "%s (dropped by --drop %s), needed by %s", reach_node_path(n, p), pat, what);
			else
				reach_unres(c, from, "%s (dropped by --drop %s)", reach_node_path(n, p), pat);
		}
		return -1;
	}
	struct reach *r = c->r;
	if (r->n_items == c->items_cap) {
		c->items_cap = c->items_cap ? c->items_cap * 2 : 1024;
		r->items = xrealloc(r->items, c->items_cap * sizeof *r->items);
	}
	if ((r->n_items + 1) * 2 > c->nslots) {
		free(c->slots);
		c->nslots = c->nslots ? c->nslots * 2 : 2048;
		c->slots = xcalloc(c->nslots, sizeof *c->slots);
		for (size_t i = 0; i < r->n_items; i++)
			slots_insert(c, i);
	}
	idx = (long)r->n_items++;
	r->items[idx] = (struct reach_item){.node = n, .from = from, .rule = (uint8_t)rule,
	                                    .flags = (uint8_t)(flags & F_SUBTREE), .what = what};
	slots_insert(c, (size_t)idx);
	n->mark |= WH_MARK_KEEP;
	queue_push(c, (size_t)idx);
	/* every parent directory */
	struct wh_node *child = n;
	for (struct wh_node *p = n->parent; p; p = p->parent) {
		if (reach_item_find(c, p) >= 0)
			break;
		reach_keep(c, p, R_PARENT, child, NULL, 0);
		child = p;
	}
	return idx;
}

/* Keep what a resolution reached: the final node, then the links on the way. */
long reach_keep_res(struct reach_ctx *c, const struct pathres *pr, int rule, struct wh_node *from,
                     const char *what, int flags)
{
	long idx = reach_keep(c, pr->node, rule, from, what, flags);
	if (idx < 0)
		return idx;
	for (size_t i = 0; i < pr->n_links; i++)
		reach_keep(c, pr->links[i], R_LINK, pr->node, NULL, 0);
	return idx;
}

/* Resolve an image path (relative ones against base, NULL = WorkingDir),
 * following symlinks. Errors (loops) are reported as unresolved for who. */
struct wh_node *reach_resolve(struct reach_ctx *c, const struct wh_node *base, const char *path,
                               struct pathres *pr, const struct wh_node *who)
{
	struct wh_error e = {0};
	if (pathres_resolve(c->t, base ? base : c->workdir_node, path, PATHRES_FOLLOW, pr, &e) < 0) {
		reach_unres(c, who, "%s", e.msg);
		pr->node = NULL;
	}
	return pr->node;
}

/* Keep path (and its links) if it exists; SUBTREE for a directory when
 * tree is set. Returns the final node or NULL. */
struct wh_node *reach_keep_path(struct reach_ctx *c, const char *path, int rule, struct wh_node *from,
                                 const char *what, int tree)
{
	struct pathres pr;
	struct wh_node *n = reach_resolve(c, NULL, path, &pr, from);
	if (n)
		reach_keep_res(c, &pr, rule, from, what, tree && n->type == WH_T_DIR ? F_SUBTREE : 0);
	pathres_free(&pr);
	return n;
}

/* Match a glob against the tree without following symlinks; keep every match. */
size_t reach_glob_keep(struct reach_ctx *c, struct wh_node *dir, const char *pat, int rule,
                        struct wh_node *from, const char *what)
{
	while (*pat == '/')
		pat++;
	if (!*pat)
		return reach_keep(c, dir, rule, from, what, dir->type == WH_T_DIR ? F_SUBTREE : 0) >= 0;
	const char *slash = strchr(pat, '/');
	size_t len = slash ? (size_t)(slash - pat) : strlen(pat);
	char comp[256];
	if (len >= sizeof comp)
		return 0;
	memcpy(comp, pat, len);
	comp[len] = 0;
	size_t found = 0;
	if (!reach_has_glob(comp)) {
		struct wh_node *ch = tree_child(c->t, dir, comp);
		if (ch && (!slash || ch->type == WH_T_DIR))
			found += reach_glob_keep(c, ch, slash ? slash : "", rule, from, what);
		else if (ch && ch->type == WH_T_SYMLINK && slash) {
			/* a symlinked directory on the way: follow it */
			struct pathres pr;
			struct wh_node *tgt = reach_resolve(c, dir, comp, &pr, from);
			if (tgt && tgt->type == WH_T_DIR) {
				for (size_t i = 0; i < pr.n_links; i++)
					reach_keep(c, pr.links[i], R_LINK, tgt, NULL, 0);
				found += reach_glob_keep(c, tgt, slash, rule, from, what);
			}
			pathres_free(&pr);
		}
		return found;
	}
	for (struct wh_node *ch = dir->child; ch; ch = ch->next) {
		if (fnmatch(comp, ch->name, FNM_PERIOD) != 0)
			continue;
		if (slash && ch->type != WH_T_DIR)
			continue;
		found += reach_glob_keep(c, ch, slash ? slash : "", rule, from, what);
	}
	return found;
}

/* A path or a glob: keep every match (directories with their subtree). */
size_t reach_keep_pattern(struct reach_ctx *c, const char *pat, int rule, struct wh_node *from,
                           const char *what)
{
	if (reach_has_glob(pat))
		return reach_glob_keep(c, c->t->root, pat, rule, from, what);
	return reach_keep_path(c, pat, rule, from, what, 1) != NULL;
}

/* ---- the dynamic loader ---- */

void reach_set_item_flag(struct reach_ctx *c, const struct wh_node *n, int f)
{
	long i = reach_item_find(c, n);
	if (i >= 0)
		c->r->items[i].flags |= (uint8_t)f;
}

/* ---- processing the queue ---- */

/* Kept as part of a directory a run-time rule keeps (python's stdlib,
 * gconv modules): its ELF needs are followed (they are loaded), its "#!"
 * line is not (data and tools nobody runs, like openssl's CA.pl). */
static int in_rule_data(struct reach_ctx *c, const struct reach_item *it)
{
	(void)c;
	return it->rule >= REACH_RT_FIRST;
}

static void process_item(struct reach_ctx *c, size_t idx)
{
	struct reach_item it = c->r->items[idx];
	struct wh_node *n = it.node;
	char p[PATHMAX];
	switch (n->type) {
	case WH_T_SYMLINK: {
		struct pathres pr;
		struct wh_error e = {0};
		if (pathres_resolve(c->t, n->parent, n->e && n->e->link ? n->e->link : "", PATHRES_FOLLOW, &pr, &e) < 0)
			reach_unres(c, n, "%s", e.msg);
		else if (pr.node)
			reach_keep_res(c, &pr, R_SYMLINK, n, NULL, 0);
		pathres_free(&pr);
		return;
	}
	case WH_T_HARDLINK: {
		struct wh_node *d = pathres_data_node(c->t, n);
		if (d)
			reach_keep(c, d, R_HARDLINK, n, NULL, 0);
		return;
	}
	case WH_T_DIR:
		/* children carry the rule that kept the directory */
		if (it.flags & F_SUBTREE)
			for (struct wh_node *ch = n->child; ch; ch = ch->next)
				reach_keep(c, ch, it.rule == R_PARENT || it.rule == R_LINK || it.rule == R_SYMLINK ? R_SUBTREE : it.rule,
				     n, NULL, ch->type == WH_T_DIR ? F_SUBTREE : 0);
		return;
	case WH_T_REG:
		break;
	default:
		return;
	}
	if (!n->e || !n->e->extra)
		return;
	const struct elf_info *e = n->e->extra->elf;
	if (e && !(it.flags & F_ELF_DONE)) {
		c->r->items[idx].flags |= F_ELF_DONE;
		reach_load_closure(c, n, reach_node_path(n, p), NULL);
		reach_follow_named(c, n, e);
	}
	if (n->e->extra->shebang && !(c->r->items[idx].flags & F_SCRIPT_DONE) && (n->e->mode & 0111) &&
	    !in_rule_data(c, &it)) {
		c->r->items[idx].flags |= F_SCRIPT_DONE;
		reach_follow_script(c, n, NULL, 0);
	}
	if (n->e->extra->content && !(c->r->items[idx].flags & F_CONFIG_DONE))
		reach_follow_config(c, n);
}

static void drain(struct reach_ctx *c)
{
	while (c->qhead < c->qlen)
		process_item(c, c->queue[c->qhead++]);
}

/* ---- run-time rules ---- */

/* ---- the API ---- */

static int clear_mark(void *ctx, struct wh_node *n, int depth)
{
	(void)ctx;
	(void)depth;
	n->mark &= (uint8_t)~WH_MARK_KEEP;
	return 0;
}

/* Licences travel with the code: each kept file's package copyright. */
static void keep_copyrights(struct reach_ctx *c)
{
	if (!c->pkg.owner_of)
		return;
	struct reach *r = c->r;
	char p[PATHMAX];
	for (size_t i = 0; i < r->n_items; i++) {
		struct wh_node *n = r->items[i].node;
		if (n->type != WH_T_REG)
			continue;
		const char *pkg = c->pkg.owner_of(c->pkg.ctx, reach_node_path(n, p));
		if (!pkg)
			continue;
		char cp[PATHMAX];
		snprintf(cp, sizeof cp, "/usr/share/doc/%s/copyright", pkg);
		reach_keep_path(c, cp, R_COPYRIGHT, n, NULL, 0);
	}
	drain(c);
}

int reach_compute(struct analysis *a, const struct reach_opts *o, struct reach *r, struct wh_error *err)
{
	static const struct reach_opts none;
	if (!o)
		o = &none;
	memset(r, 0, sizeof *r);
	struct reach_ctx *c = xcalloc(1, sizeof *c);
	r->ctx = c;
	c->a = a;
	c->t = &a->tree;
	c->r = r;
	c->o = o;
	c->pkg = o->pkg;
	tree_walk(c->t->root, clear_mark, NULL);
	int rc = reach_set_rules(c, &o->rules, err);
	if (rc < 0)
		return rc;
	reach_image_facts(c);
	rc = reach_roots(c, err);
	if (rc < 0)
		return rc;
	/* the closure; then the data directories the entrypoint may read,
	 * kept whole, may name more (and what they keep, other ones) */
	do {
		do
			drain(c);
		while (reach_apply_rules(c));
	} while (reach_data_decide(c));
	reach_data_drop(c);
	drain(c);
	keep_copyrights(c);
	reach_finish(c);
	return 0;
}

const struct reach_item *reach_find(const struct reach *r, const struct wh_node *n)
{
	if (!r->ctx)
		return NULL;
	long i = reach_item_find(r->ctx, n);
	return i >= 0 ? &r->items[i] : NULL;
}

void reach_free(struct reach *r)
{
	struct reach_ctx *c = r->ctx;
	if (c) {
		free(c->slots);
		free(c->queue);
		sv_free(&c->env);
		sv_free(&c->path);
		if (c->have_cache)
			ldso_cache_free(&c->cache);
		ldso_dirs_free(&c->conf);
		sv_free(&c->drop);
		sv_free(&c->python_done);
		sv_free(&c->unres_path);
		sv_free(&c->unres_needs);
		sv_free(&c->roots);
		for (size_t i = 0; i < c->n_dd; i++) {
			free(c->dd[i].kind);
			free(c->dd[i].named);
			free(c->dd[i].why);
		}
		free(c->dd);
		free(c);
	}
	free(r->items);
	for (size_t i = 0; i < r->n_roots; i++)
		free(r->roots[i]);
	free(r->roots);
	for (size_t i = 0; i < r->n_unresolved; i++) {
		free(r->unresolved[i].path);
		free(r->unresolved[i].needs);
	}
	free(r->unresolved);
	for (size_t i = 0; i < r->n_uncertain; i++)
		reach_uncertain_free(&r->uncertain[i]);
	free(r->uncertain);
	for (size_t i = 0; i < r->n_settled; i++)
		reach_uncertain_free(&r->settled[i]);
	free(r->settled);
	for (size_t i = 0; i < r->n_data_dirs; i++) {
		free(r->data_dirs[i].path);
		free(r->data_dirs[i].kind);
		free(r->data_dirs[i].why);
	}
	free(r->data_dirs);
	for (size_t i = 0; i < r->n_partial_dirs; i++) {
		free(r->partial_dirs[i].path);
		free(r->partial_dirs[i].named_by);
	}
	free(r->partial_dirs);
	for (size_t i = 0; i < r->n_loads_code; i++)
		free(r->loads_code[i]);
	free(r->loads_code);
	for (size_t i = 0; i < r->n_unneeded; i++)
		free(r->unneeded[i].path);
	free(r->unneeded);
	for (size_t i = 0; i < r->n_packages; i++)
		free(r->packages[i].name);
	free(r->packages);
	memset(r, 0, sizeof *r);
}

