#include "tui/slim_view.h"
#include "tui/crt.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void slim_view_init(struct slim_view *sv, struct analysis *a, const struct slim_opts *o)
{
	memset(sv, 0, sizeof *sv);
	sv->a = a;
	sv->o = o;
	slim_session_init(&sv->s, a, o);
}

static void drop_figures(struct slim_view *sv)
{
	free(sv->dirs);
	sv->dirs = NULL;
	sv->n_dirs = 0;
	free(sv->pkgs);
	sv->pkgs = NULL;
	sv->n_pkgs = 0;
}

void slim_view_free(struct slim_view *sv)
{
	drop_figures(sv);
	slim_session_free(&sv->s);
	for (size_t i = 0; i < sv->n_ov; i++)
		free(sv->ov[i].name);
	free(sv->ov);
	for (size_t i = 0; i < sv->n_undo; i++)
		free(sv->undo[i].name);
	free(sv->undo);
	memset(sv, 0, sizeof *sv);
}

/* --- the user's keeps and drops ------------------------------------------------------ */

/* A literal path as reach's --keep / --drop pattern: glob characters
 * escaped (fnmatch honours backslashes). --keep takes a path without
 * glob characters literally, so only a path with some is escaped there. */
static void add_path(struct str_list *l, const char *path, int for_drop)
{
	if (!for_drop && !strpbrk(path, "*?[")) {
		str_list_add(l, path);
		return;
	}
	size_t n = strlen(path);
	char *e = xmalloc(2 * n + 1), *q = e;
	for (const char *p = path; *p; p++) {
		if (strchr("*?[\\", *p))
			*q++ = '\\';
		*q++ = *p;
	}
	*q = 0;
	str_list_add(l, e);
	free(e);
}

/* --- figures ------------------------------------------------------------------------ */

static int cmp_dir(const void *x, const void *y)
{
	const struct wh_node *a = ((const struct sv_dirsum *)x)->n, *b = ((const struct sv_dirsum *)y)->n;
	return a < b ? -1 : a > b;
}

static struct sv_dirsum *dir_find(const struct slim_view *sv, const struct wh_node *n)
{
	struct sv_dirsum key = {.n = n};
	return bsearch(&key, sv->dirs, sv->n_dirs, sizeof *sv->dirs, cmp_dir);
}

static int cmp_pkg(const void *x, const void *y)
{
	const struct sv_pkg *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	int c = strcmp(a->p->name, b->p->name);
	return c ? c : strcmp(a->p->arch, b->p->arch);
}

static void figures(struct slim_view *sv)
{
	const struct slim_plan *p = &sv->s.plan;
	size_t nd = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].type == WH_T_DIR)
			nd++;
	sv->dirs = xcalloc(nd + 1, sizeof *sv->dirs);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].type == WH_T_DIR && p->v[i].node)
			sv->dirs[sv->n_dirs++].n = p->v[i].node;
	sv->dirs[sv->n_dirs++].n = sv->a->tree.root;
	qsort(sv->dirs, sv->n_dirs, sizeof *sv->dirs, cmp_dir);
	for (size_t i = 0; i < p->n; i++) {
		const struct slim_entry *e = &p->v[i];
		if (e->type != WH_T_REG || !e->node)
			continue;
		for (const struct wh_node *d = e->node->parent; d; d = d->parent) {
			struct sv_dirsum *s = dir_find(sv, d);
			if (s)
				s->kept += e->size;
		}
	}
	slim_count_files(&sv->a->tree, &sv->files, &sv->files_kept);
	if (sv->s.have_db) {
		sv->pkgs = xcalloc(sv->s.db.n_pkgs + 1, sizeof *sv->pkgs);
		for (size_t i = 0; i < sv->s.db.n_pkgs; i++) {
			const struct dpkg_pkg *pk = &sv->s.db.pkgs[i];
			if (!pk->present)
				continue;
			struct sv_pkg *s = &sv->pkgs[sv->n_pkgs++];
			s->p = pk;
			s->size = pk->size_bytes;
			size_t nf;
			struct wh_node *const *f = dpkg_package_files(&sv->s.db, pk, &nf);
			for (size_t k = 0; k < nf; k++)
				if (f[k]->type == WH_T_REG && (f[k]->mark & SLIM_OUT))
					s->kept += f[k]->size;
		}
		qsort(sv->pkgs, sv->n_pkgs, sizeof *sv->pkgs, cmp_pkg);
	}
}

int slim_view_compute(struct slim_view *sv)
{
	sv->err[0] = 0;
	drop_figures(sv);
	struct slim_extra extra = {0};
	for (size_t i = 0; i < sv->n_ov; i++) {
		const struct sv_override *v = &sv->ov[i];
		if (!v->pkg) {
			add_path(v->keep ? &extra.keep : &extra.drop, v->name, !v->keep);
		} else if (v->keep) {
			str_list_add(&extra.keep_package, v->name);
		} else if (sv->s.have_db) {
			const char *const *paths = NULL;
			long np = dpkg_reach_files_of(&sv->s.db, v->name, &paths);
			for (long k = 0; k < np; k++)
				add_path(&extra.drop, paths[k], 1);
		}
	}
	struct wh_error err = {0};
	/* (an x on a package needs the database: the first computation, which
	 * comes before any x, loads it) */
	int rc = slim_session_reach(&sv->s, &extra, &err);
	str_list_free(&extra.keep);
	str_list_free(&extra.drop);
	str_list_free(&extra.keep_package);
	/* the keep set and plan --auto uses, so the UI writes what --auto would */
	if (rc == 0)
		rc = slim_session_plan(&sv->s, &err);
	if (rc < 0) {
		snprintf(sv->err, sizeof sv->err, "%s", err.msg);
		return -1;
	}
	figures(sv);
	sv->ready = 1;
	return 0;
}

/* --- nodes ----------------------------------------------------------------------------- */

struct wh_node *slim_view_node(const struct slim_view *sv, const struct wh_node *other)
{
	char p[PATH_MAX];
	tree_path(other, p, sizeof p);
	return tree_lookup(&sv->a->tree, p);
}

static int find_ov(const struct slim_view *sv, int pkg, const char *name)
{
	for (size_t i = 0; i < sv->n_ov; i++)
		if (sv->ov[i].pkg == pkg && !strcmp(sv->ov[i].name, name))
			return (int)i;
	return -1;
}

int slim_view_override(const struct slim_view *sv, int pkg, const char *name)
{
	int i = find_ov(sv, pkg, name);
	return i < 0 ? -1 : sv->ov[i].keep;
}

enum sv_state slim_view_state(const struct slim_view *sv, const struct wh_node *n, uint64_t *kept)
{
	*kept = 0;
	if (!n || !sv->s.have_plan)
		return SV_NONE;
	int out = !n->parent || (n->mark & SLIM_OUT);
	if (n->type == WH_T_DIR) {
		const struct sv_dirsum *s = out ? dir_find(sv, n) : NULL;
		*kept = s ? s->kept : 0;
	} else if (out && n->type == WH_T_REG) {
		*kept = n->size;
	}
	if (sv->n_ov) {
		char p[PATH_MAX];
		tree_path(n, p, sizeof p);
		int o = slim_view_override(sv, 0, p);
		if (o >= 0)
			return o ? SV_USER_KEEP : SV_USER_DROP;
	}
	if (!out)
		return SV_GONE;
	if (n->type == WH_T_DIR && *kept < n->size)
		return SV_PARTIAL;
	return SV_KEPT;
}

/* The user's drop (or the command line's --drop) that covers n, if any. */
static const char *dropped_by(const struct slim_view *sv, const struct wh_node *n, int *user)
{
	char p[PATH_MAX];
	for (const struct wh_node *x = n; x && x->parent; x = x->parent) {
		tree_path(x, p, sizeof p);
		for (size_t i = 0; i < sv->n_ov; i++)
			if (!sv->ov[i].pkg && !sv->ov[i].keep && !strcmp(sv->ov[i].name, p)) {
				*user = 1;
				return sv->ov[i].name;
			}
		for (size_t i = 0; i < sv->o->drop.n; i++)
			if (fnmatch(sv->o->drop.v[i], p, FNM_PATHNAME) == 0) {
				*user = 0;
				return sv->o->drop.v[i];
			}
	}
	return NULL;
}

static const char *arrow(void)
{
	return crt_g->arrow;
}

/* A reason's root detail, naming the user's own keep as such. */
static const char *root_what(const struct slim_view *sv, const struct reach_step *st)
{
	if (st->what && !strcmp(st->rule, reach_rule_name(R_KEEP)) && sv->n_ov) {
		char p[PATH_MAX];
		for (const struct wh_node *x = st->node; x && x->parent; x = x->parent) {
			tree_path(x, p, sizeof p);
			if (slim_view_override(sv, 0, p) == 1)
				return "yours, x";
		}
	}
	return st->what;
}

void slim_view_why(const struct slim_view *sv, const struct wh_node *n, char *out, size_t len)
{
	out[0] = 0;
	if (!n || !sv->s.have_plan)
		return;
	size_t o = 0;
#define ADD(...)                                                                  \
	do {                                                                          \
		if (o < len)                                                              \
			o += (size_t)snprintf(out + o, len - o, __VA_ARGS__);                 \
	} while (0)
	char p[PATH_MAX], sz[32];
	uint64_t kept;
	enum sv_state st = slim_view_state(sv, n, &kept);
	struct reach_explanation x;
	reach_explain_node(&sv->s.r, n, &x);
	if (n->parent && !(n->mark & SLIM_OUT)) {
		int user = 0;
		const char *by = dropped_by(sv, n, &user);
		fmt_size(sz, sizeof sz, n->size);
		const char *pkg = sv->s.have_db ? dpkg_owner(&sv->s.db, n) : NULL;
		ADD("removable (%s%s%s)", sz, pkg ? ", package " : "", pkg ? pkg : "");
		tree_path(n, p, sizeof p);
		if (by && user && !strcmp(by, p))
			ADD(": dropped by you (x)");
		else if (by && user)
			ADD(": dropped by you (x on %s)", by);
		else if (by)
			ADD(": dropped by --drop %s", by);
		else if (st == SV_USER_KEEP)
			ADD(": kept by you, but reach does not keep it");
		else
			ADD(": nothing the entrypoint or the rules reach needs it");
		reach_explanation_free(&x);
		return;
	}
	if (!x.kept) {
		tree_path(n, p, sizeof p);
		const struct slim_entry *e = n->parent ? slim_plan_find(&sv->s.plan, p + 1) : NULL;
		if (!n->parent)
			ADD("kept: the root directory");
		else if (e && e->why == SLIM_WHY_PARENT)
			ADD("kept (a parent directory of kept files)");
		else if (e && e->why == SLIM_WHY_SYMLINK)
			ADD("kept (a link that a kept symlink resolves through)");
		else
			ADD("kept (the package database, kept for scanners)");
	} else {
		ADD("kept");
		/* the chain's steps as one row: the node's rule, then up to two steps back */
		for (size_t hop = 0; hop < x.n_steps; hop++) {
			const struct reach_step *step = &x.steps[hop];
			if (hop == 3) {
				ADD("%s%s", crt_g->from, crt_g->ellipsis);
				break;
			}
			if (hop)
				ADD("%s%s", crt_g->from, step->path);
			const char *what = root_what(sv, step);
			ADD(" (%s%s%s)", step->rule, what ? ": " : "", what ? what : "");
		}
	}
	reach_explanation_free(&x);
	if (n->type == WH_T_DIR) {
		char k[32];
		fmt_size(k, sizeof k, kept);
		fmt_size(sz, sizeof sz, n->size);
		ADD(", %s of %s kept", k, sz);
	} else if (sv->s.have_db) {
		const char *pkg = dpkg_owner(&sv->s.db, n);
		if (pkg)
			ADD(", package %s", pkg);
	}
#undef ADD
}

/* --- overrides -------------------------------------------------------------------------- */

/* Set (keep 0/1) or clear (-1) an override; returns the one before. */
static int set_ov(struct slim_view *sv, int pkg, const char *name, int keep)
{
	int i = find_ov(sv, pkg, name);
	int prev = i < 0 ? -1 : sv->ov[i].keep;
	if (keep < 0) {
		if (i >= 0) {
			free(sv->ov[i].name);
			memmove(sv->ov + i, sv->ov + i + 1, (sv->n_ov - (size_t)i - 1) * sizeof *sv->ov);
			sv->n_ov--;
		}
	} else if (i >= 0) {
		sv->ov[i].keep = keep;
	} else {
		sv->ov = xrealloc(sv->ov, (sv->n_ov + 1) * sizeof *sv->ov);
		sv->ov[sv->n_ov++] = (struct sv_override){.pkg = pkg, .name = xstrdup(name), .keep = keep};
	}
	return prev;
}

static void push_undo(struct slim_view *sv, int pkg, const char *name, int prev)
{
	sv->undo = xrealloc(sv->undo, (sv->n_undo + 1) * sizeof *sv->undo);
	sv->undo[sv->n_undo++] = (struct sv_undo){.pkg = pkg, .name = xstrdup(name), .prev = prev};
}

static void projected(const struct slim_view *sv, char *out, size_t len)
{
	char b[32];
	fmt_size(b, sizeof b, sv->s.plan.kept_bytes);
	snprintf(out, len, "projected %s, reach %.0f ms, plan %.0f ms", b, sv->s.t_reach * 1e3, sv->s.t_plan * 1e3);
}

static int toggle(struct slim_view *sv, int pkg, const char *name, int keep, const char *what, char *msg,
                  size_t len)
{
	int prev = set_ov(sv, pkg, name, keep);
	push_undo(sv, pkg, name, prev);
	if (slim_view_compute(sv) < 0)
		return -1;
	char pr[128];
	projected(sv, pr, sizeof pr);
	snprintf(msg, len, "%s %s%s: %s (z undoes)", keep ? "kept" : "dropped", what, name, pr);
	return 0;
}

int slim_view_toggle_node(struct slim_view *sv, const struct wh_node *n, char *msg, size_t len)
{
	msg[0] = 0;
	if (!n) {
		snprintf(msg, len, "nothing under the cursor in the final image");
		return 0;
	}
	if (!n->parent) {
		snprintf(msg, len, "the root directory is always kept");
		return 0;
	}
	char p[PATH_MAX];
	tree_path(n, p, sizeof p);
	int keep = !(n->mark & SLIM_OUT);
	int rc = toggle(sv, 0, p, keep, "", msg, len);
	if (rc == 0 && keep && !(n->mark & SLIM_OUT)) {
		char why[600];
		slim_view_why(sv, n, why, sizeof why);
		snprintf(msg, len, "%s stays %s", p, why);
	}
	return rc;
}

int slim_view_toggle_pkg(struct slim_view *sv, const struct sv_pkg *pk, char *msg, size_t len)
{
	int cur = slim_view_override(sv, 1, pk->p->name);
	int keep = cur >= 0 ? !cur : pk->kept == 0;
	return toggle(sv, 1, pk->p->name, keep, "package ", msg, len);
}

int slim_view_undo(struct slim_view *sv, char *msg, size_t len)
{
	if (!sv->n_undo) {
		snprintf(msg, len, "nothing to undo");
		return 1;
	}
	struct sv_undo u = sv->undo[--sv->n_undo];
	set_ov(sv, u.pkg, u.name, u.prev);
	int rc = slim_view_compute(sv);
	if (rc == 0) {
		char pr[128];
		projected(sv, pr, sizeof pr);
		snprintf(msg, len, "undone: %s%s %s: %s", u.pkg ? "package " : "", u.name,
		         u.prev < 0 ? "as reach has it" : u.prev ? "kept" : "dropped", pr);
	}
	free(u.name);
	return rc;
}

void slim_view_summary(const struct slim_view *sv, char *out, size_t len)
{
	if (!sv->s.have_plan) {
		snprintf(out, len, "%s", sv->err[0] ? sv->err : "");
		return;
	}
	char a[32], b[32];
	const struct slim_plan *p = &sv->s.plan;
	fmt_size(a, sizeof a, p->input_bytes);
	fmt_size(b, sizeof b, p->kept_bytes);
	double ratio = p->input_bytes ? (double)p->kept_bytes / (double)p->input_bytes : 0;
	int o = snprintf(out, len, "Slim %s%s%s  ratio %.3f  [%llu%s%llu B]  %llu/%llu files", a, arrow(), b, ratio,
	                 (unsigned long long)p->input_bytes, arrow(), (unsigned long long)p->kept_bytes,
	                 (unsigned long long)sv->files_kept, (unsigned long long)sv->files);
	if (sv->n_ov && o > 0 && (size_t)o < len)
		snprintf(out + o, len - (size_t)o, ", %zu yours", sv->n_ov);
}
