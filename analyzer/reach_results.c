/* reach_results: the figures of struct reach once the closure is done
 * (counts, roots, unresolved, what loads code, unneeded libraries,
 * packages), and reach_explain, the chain that keeps one path. */
#include "analyzer/reach_int.h"

#include <elf.h>
#include <fnmatch.h>
#include <stdio.h>

#include "analyzer/elf.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_unres(const void *a, const void *b)
{
	const struct reach_unresolved *x = a, *y = b;
	int r = strcmp(x->path, y->path);
	return r ? r : strcmp(x->needs, y->needs);
}

static int cmp_lib(const void *a, const void *b)
{
	const struct reach_lib *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct reach_package *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int is_so_name(const char *n)
{
	size_t l = strlen(n);
	return (l > 3 && !strcmp(n + l - 3, ".so")) || strstr(n, ".so.") != NULL;
}

struct walk_ctx {
	struct reach_ctx *c;
	struct strv root_link_pkgs; /* packages of kept roots that are symlinks */
	struct reach_package *pk;
	size_t npk, cappk;
	struct reach_lib *libs;
	size_t nlibs, caplibs;
};

static int walk_fn(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	struct walk_ctx *w = ctx;
	struct reach *r = w->c->r;
	char p[PATHMAX];
	if (n->type == WH_T_SYMLINK && (n->mark & WH_MARK_KEEP) && w->c->pkg.owner_of && n->e && n->e->link) {
		/* the link a root is named by (the entrypoint /usr/bin/x -> x.real; not /lib on the
		 * way to a root): its package is used */
		long k = reach_item_find(w->c, n);
		long f = k >= 0 && r->items[k].rule == R_LINK && r->items[k].from ? reach_item_find(w->c, r->items[k].from)
		                                                                  : -1;
		const struct reach_item *root = f >= 0 ? &r->items[f] : NULL;
		if (root && !root->from && root->rule != R_ALWAYS && root->rule != R_PARENT && root->rule < REACH_RT_FIRST &&
		    pathres_node(w->c->t, n->parent, n->e->link, PATHRES_FOLLOW) == root->node) {
			const char *pkg = w->c->pkg.owner_of(w->c->pkg.ctx, reach_node_path(n, p));
			if (pkg)
				sv_push(&w->root_link_pkgs, xstrdup(pkg));
		}
		return 0;
	}
	if (n->type != WH_T_REG)
		return 0;
	int kept = (n->mark & WH_MARK_KEEP) != 0;
	if (!kept)
		r->removable_bytes += n->size;
	const char *pkg = NULL;
	if (w->c->pkg.owner_of) {
		pkg = w->c->pkg.owner_of(w->c->pkg.ctx, reach_node_path(n, p));
		if (pkg) {
			size_t i = 0;
			while (i < w->npk && strcmp(w->pk[i].name, pkg))
				i++;
			if (i == w->npk) {
				if (w->npk == w->cappk) {
					w->cappk = w->cappk ? w->cappk * 2 : 64;
					w->pk = xrealloc(w->pk, w->cappk * sizeof *w->pk);
				}
				w->pk[w->npk++] = (struct reach_package){.name = xstrdup(pkg)};
			}
			w->pk[i].size += n->size;
			if (kept)
				w->pk[i].kept += n->size;
			w->pk[i].used |= kept;
		}
	}
	const struct elf_info *e = reach_node_elf(n);
	if (!kept && e && e->type == ET_DYN && is_so_name(n->name)) {
		if (w->nlibs == w->caplibs) {
			w->caplibs = w->caplibs ? w->caplibs * 2 : 64;
			w->libs = xrealloc(w->libs, w->caplibs * sizeof *w->libs);
		}
		w->libs[w->nlibs++] = (struct reach_lib){.path = xstrdup(reach_node_path(n, p)), .size = n->size, .package = pkg};
	}
	return 0;
}

static int explained(struct reach_ctx *c, const struct reach_item *it)
{
	static const struct {
		int rule;
		const char *glob;
	} ex[] = {
		{R_PYTHON, "python3*"}, {R_PYTHON, "libpython3*"}, {R_PERL, "perl*"}, {R_PERL, "libperl*"},
		{R_RUBY, "ruby*"}, {R_RUBY, "libruby*"}, {R_NODE, "node*"}, {R_NODE, "libnode*"},
		{R_OPENSSL_MODULES, "libcrypto.so*"}, {R_NSS, "libc.so*"}, {R_GCONV, "libc.so*"},
	};
	for (size_t i = 0; i < ARRAY_LEN(ex); i++)
		if (c->rule_fired[ex[i].rule] && !fnmatch(ex[i].glob, it->node->name, 0))
			return 1;
	/* inside what a run-time rule keeps (python's lib-dynload, ossl-modules) */
	for (const struct wh_node *x = it->node; x; x = x->parent) {
		long k = reach_item_find(c, x);
		if (k >= 0 && c->r->items[k].rule >= REACH_RT_FIRST)
			return 1;
	}
	return 0;
}

void reach_finish(struct reach_ctx *c)
{
	struct reach *r = c->r;
	char p[PATHMAX];
	for (size_t i = 0; i < r->n_items; i++) {
		struct reach_item *it = &r->items[i];
		struct wh_node *n = it->node;
		if (n->type != WH_T_DIR) {
			r->kept_files++;
			if (n->type == WH_T_REG)
				r->kept_bytes += n->size;
		}
		if (it->rule >= REACH_RT_FIRST && n->type != WH_T_DIR) {
			r->rules[it->rule - REACH_RT_FIRST].files++;
			if (n->type == WH_T_REG)
				r->rules[it->rule - REACH_RT_FIRST].bytes += n->size;
		}
		if (!it->from && it->rule != R_ALWAYS && it->rule != R_PARENT && it->rule < REACH_RT_FIRST)
			sv_push(&c->roots, xstrdup(reach_node_path(n, p)));
	}
	for (int k = REACH_RT_FIRST; k < R_COUNT; k++) {
		struct reach_rule_stat *s = &r->rules[k - REACH_RT_FIRST];
		s->name = reach_rule_name(k);
		s->enabled = c->rule_state[k] > 0 || (c->rule_state[k] < 0 && c->rule_fired[k]);
	}
	/* roots: sorted, unique */
	if (c->roots.n)
		qsort(c->roots.v, c->roots.n, sizeof *c->roots.v, cmp_str);
	r->roots = xcalloc(c->roots.n + 1, sizeof *r->roots);
	for (size_t i = 0; i < c->roots.n; i++) {
		if (r->n_roots && !strcmp(r->roots[r->n_roots - 1], c->roots.v[i]))
			continue;
		r->roots[r->n_roots++] = xstrdup(c->roots.v[i]);
	}
	/* unresolved: sorted, unique */
	struct reach_unresolved *u = xcalloc(c->unres_path.n + 1, sizeof *u);
	for (size_t i = 0; i < c->unres_path.n; i++)
		u[i] = (struct reach_unresolved){.path = c->unres_path.v[i], .needs = c->unres_needs.v[i]};
	if (c->unres_path.n)
		qsort(u, c->unres_path.n, sizeof *u, cmp_unres);
	r->unresolved = xcalloc(c->unres_path.n + 1, sizeof *r->unresolved);
	for (size_t i = 0; i < c->unres_path.n; i++) {
		if (r->n_unresolved && !cmp_unres(&r->unresolved[r->n_unresolved - 1], &u[i]))
			continue;
		r->unresolved[r->n_unresolved++] = (struct reach_unresolved){.path = xstrdup(u[i].path),
		                                                              .needs = xstrdup(u[i].needs)};
	}
	free(u);
	/* loads code at run time */
	struct strv lc = {0};
	for (size_t i = 0; i < r->n_items; i++) {
		const struct elf_info *e = reach_node_elf(r->items[i].node);
		if (e && (e->imports & ELF_IMP_DLOPEN) && !explained(c, &r->items[i]))
			sv_push(&lc, xstrdup(reach_node_path(r->items[i].node, p)));
	}
	if (lc.n)
		qsort(lc.v, lc.n, sizeof *lc.v, cmp_str);
	r->loads_code = lc.v;
	r->n_loads_code = lc.n;
	/* unneeded libraries, removable bytes, packages */
	struct walk_ctx w = {.c = c};
	tree_walk(c->t->root, walk_fn, &w);
	for (size_t i = 0; i < w.root_link_pkgs.n; i++)
		for (size_t k = 0; k < w.npk; k++)
			if (!strcmp(w.pk[k].name, w.root_link_pkgs.v[i]))
				w.pk[k].used = 1;
	sv_free(&w.root_link_pkgs);
	if (w.nlibs)
		qsort(w.libs, w.nlibs, sizeof *w.libs, cmp_lib);
	r->unneeded = w.libs;
	r->n_unneeded = w.nlibs;
	if (w.npk)
		qsort(w.pk, w.npk, sizeof *w.pk, cmp_pkg);
	r->packages = w.pk;
	r->n_packages = w.npk;
	reach_data_results(c);
	reach_uncertain(c);
}

uint64_t reach_subtree_bytes(const struct wh_node *n, uint64_t *files)
{
	if (n->type != WH_T_DIR) {
		if (files)
			(*files)++;
		return n->type == WH_T_REG ? n->size : 0;
	}
	uint64_t s = 0;
	for (const struct wh_node *ch = n->child; ch; ch = ch->next)
		s += reach_subtree_bytes(ch, files);
	return s;
}

void reach_explain_node(const struct reach *r, const struct wh_node *n, struct reach_explanation *x)
{
	char p[PATHMAX];
	memset(x, 0, sizeof *x);
	x->node = n;
	x->path = xstrdup(reach_node_path(n, p));
	const struct reach_item *it = reach_find(r, n);
	if (!it) {
		struct reach_ctx *c = r->ctx;
		x->size = reach_subtree_bytes(n, NULL);
		if (c && c->pkg.owner_of)
			x->package = c->pkg.owner_of(c->pkg.ctx, x->path);
		x->dropped_by = c ? reach_dropped_by(c, n) : NULL;
		return;
	}
	x->kept = 1;
	size_t cap = 0;
	for (int hops = 0; it && hops < 1000; hops++) {
		if (x->n_steps == cap) {
			cap = cap ? cap * 2 : 8;
			x->steps = xrealloc(x->steps, cap * sizeof *x->steps);
		}
		struct reach_step *s = &x->steps[x->n_steps++];
		*s = (struct reach_step){.node = it->node, .from_node = it->from, .rule = reach_rule_name(it->rule),
		                         .what = it->what};
		s->path = xstrdup(reach_node_path(it->node, p));
		s->from = it->from ? xstrdup(reach_node_path(it->from, p)) : NULL;
		if (!it->from)
			break;
		it = reach_find(r, it->from);
	}
}

int reach_explain(const struct reach *r, const struct analysis *a, const char *path, struct reach_explanation *x,
                  struct wh_error *err)
{
	memset(x, 0, sizeof *x);
	struct pathres pr;
	struct wh_error e = {0};
	int rc = pathres_resolve(&a->tree, NULL, path, 0, &pr, &e);
	struct wh_node *n = pr.node;
	pathres_free(&pr);
	if (rc < 0)
		return wh_err(err, WH_EINPUT, "%s", e.msg);
	if (!n)
		return wh_err(err, WH_EINPUT, "%s: no such path in the image", path);
	reach_explain_node(r, n, x);
	return 0;
}

void reach_explanation_free(struct reach_explanation *x)
{
	for (size_t i = 0; i < x->n_steps; i++) {
		free(x->steps[i].path);
		free(x->steps[i].from);
	}
	free(x->steps);
	free(x->path);
	memset(x, 0, sizeof *x);
}
