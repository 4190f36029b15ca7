#include "tui/slim_view.h"
#include "tui/slim_probe.h"
#include "tui/crt.h"
#include "slimmer/why.h"

#include <errno.h>
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
	sv->opts = *o;
	/* the probes: the command line's (run when the view is first
	 * computed), then those typed at r, in a list of the view's own */
	slim_probe_init(sv);
	slim_session_init(&sv->s, a, &sv->opts);
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
	free(sv->pending);
	slim_probe_free(sv);
	if (sv->root_edited) {
		str_list_free(&sv->opts.entrypoint);
		str_list_free(&sv->opts.cmd);
	}
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
	slim_session_figures(&sv->s, &sv->fig);
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

void slim_view_extra(struct slim_view *sv, struct slim_extra *extra)
{
	memset(extra, 0, sizeof *extra);
	for (size_t i = 0; i < sv->n_ov; i++) {
		const struct sv_override *v = &sv->ov[i];
		if (!v->pkg) {
			add_path(v->keep ? &extra->keep : &extra->drop, v->name, !v->keep);
		} else if (v->keep) {
			str_list_add(&extra->keep_package, v->name);
		} else if (sv->s.have_db) {
			const char *const *paths = NULL;
			long np = dpkg_reach_files_of(&sv->s.db, v->name, &paths);
			for (long k = 0; k < np; k++)
				add_path(&extra->drop, paths[k], 1);
		}
	}
}

void slim_view_extra_free(struct slim_extra *extra)
{
	str_list_free(&extra->keep);
	str_list_free(&extra->drop);
	str_list_free(&extra->keep_package);
}

int slim_view_compute(struct slim_view *sv)
{
	sv->err[0] = 0;
	drop_figures(sv);
	struct slim_extra extra;
	slim_view_extra(sv, &extra);
	struct wh_error err = {0};
	/* (an x on a package needs the database: the first computation, which
	 * comes before any x, loads it) */
	int rc = slim_session_reach(&sv->s, &extra, &err);
	slim_view_extra_free(&extra);
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
	if (sv->s.probes.n && n->type != WH_T_DIR && sv->s.have_reach) {
		const struct reach_item *it = reach_find(&sv->s.r, n);
		if (it && it->rule == R_PROBE)
			return SV_PROBE;
	}
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
		/* a probe's keep: its reason is "probe: CMD" */
		int probe = x.n_steps && !strcmp(x.steps[0].rule, reach_rule_name(R_PROBE));
		ADD("%s", probe ? "kept by probe" : "kept");
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
			if (!hop && probe && what)
				ADD(" (%s)", what);
			else
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

/* --- what a drop breaks ----------------------------------------------------------------- */

/* The needs left unmet and the files kept, to compare two computations. */
struct sv_snap {
	char **unres;                /* "PATH\tNEEDS", sorted */
	size_t n_unres;
	const struct wh_node **kept; /* kept nodes that are not directories, sorted */
	size_t n_kept;
	uint64_t bytes;              /* the projection */
};

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_ptr(const void *x, const void *y)
{
	uintptr_t a = (uintptr_t) * (const void *const *)x, b = (uintptr_t) * (const void *const *)y;
	return a < b ? -1 : a > b;
}

static void snap_take(const struct slim_view *sv, struct sv_snap *s)
{
	const struct reach *r = &sv->s.r;
	memset(s, 0, sizeof *s);
	s->unres = xcalloc(r->n_unresolved + 1, sizeof *s->unres);
	for (size_t i = 0; i < r->n_unresolved; i++) {
		size_t n = strlen(r->unresolved[i].path) + strlen(r->unresolved[i].needs) + 2;
		s->unres[i] = xmalloc(n);
		snprintf(s->unres[i], n, "%s\t%s", r->unresolved[i].path, r->unresolved[i].needs);
	}
	s->n_unres = r->n_unresolved;
	qsort(s->unres, s->n_unres, sizeof *s->unres, cmp_str);
	s->kept = xcalloc(r->n_items + 1, sizeof *s->kept);
	for (size_t i = 0; i < r->n_items; i++)
		if (r->items[i].node->type != WH_T_DIR)
			s->kept[s->n_kept++] = r->items[i].node;
	qsort(s->kept, s->n_kept, sizeof *s->kept, cmp_ptr);
	s->bytes = sv->s.have_plan ? sv->s.plan.kept_bytes : 0;
}

static void snap_free(struct sv_snap *s)
{
	for (size_t i = 0; i < s->n_unres; i++)
		free(s->unres[i]);
	free(s->unres);
	free(s->kept);
}

/* What the current computation changed from the snapshot: the needs now
 * unmet (and how many distinct files need them, the first one named) and
 * the files now kept that were not (a need met by another file). */
struct sv_diff {
	size_t n_broken, n_needers, n_new;
	int needer_is_prog;
	char needer[PATH_MAX], first_new[PATH_MAX];
};

static void snap_diff(const struct slim_view *sv, const struct sv_snap *before, struct sv_diff *d)
{
	memset(d, 0, sizeof *d);
	const struct reach *r = &sv->s.r;
	const char *last = NULL;
	for (size_t i = 0; i < r->n_unresolved; i++) {
		const struct reach_unresolved *u = &r->unresolved[i];
		char key[2 * PATH_MAX];
		snprintf(key, sizeof key, "%s\t%s", u->path, u->needs);
		const char *k = key;
		if (bsearch(&k, before->unres, before->n_unres, sizeof *before->unres, cmp_str))
			continue;
		d->n_broken++;
		if (last && !strcmp(last, u->path))
			continue;
		last = u->path;
		/* the needer named: the program slimming starts from when it is
		 * one ("/": the image config or the command line), else the first */
		int prog = !strcmp(u->path, "/");
		if (!prog) {
			const struct reach_item *it = reach_find(r, tree_lookup(&sv->a->tree, u->path));
			prog = it && !it->from && (it->rule == R_ENTRYPOINT || it->rule == R_CMD);
		}
		/* a probe's need (reach: "PATH (dropped by ...), needed by probe: CMD") */
		const char *probe = !strcmp(u->path, "/") ? strstr(u->needs, ", needed by probe: ") : NULL;
		if (!d->n_needers++ || (prog && !d->needer_is_prog)) {
			snprintf(d->needer, sizeof d->needer, "%s",
			         probe ? probe + 12 : strcmp(u->path, "/") ? u->path : "the image's Entrypoint or Cmd");
			d->needer_is_prog = prog;
		}
	}
	for (size_t i = 0; i < r->n_items; i++) {
		const struct wh_node *n = r->items[i].node;
		if (n->type == WH_T_DIR || bsearch(&n, before->kept, before->n_kept, sizeof *before->kept, cmp_ptr))
			continue;
		if (!d->n_new++)
			tree_path(n, d->first_new, sizeof d->first_new);
	}
}

/* " and N more" */
static const char *more(size_t n, char *buf, size_t len)
{
	if (n <= 1)
		return "";
	snprintf(buf, len, " and %zu more", n - 1);
	return buf;
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
	snprintf(out, len, "the slimmed image would hold %s", b);
}

static int toggle(struct slim_view *sv, int pkg, const char *name, int keep, const char *what, char *msg,
                  size_t len)
{
	int prev = set_ov(sv, pkg, name, keep);
	push_undo(sv, pkg, name, prev);
	sv->unsaved = 1;
	if (slim_view_compute(sv) < 0)
		return -1;
	char pr[128];
	projected(sv, pr, sizeof pr);
	snprintf(msg, len, "%s %s%s: %s (z undoes)", keep ? "kept" : "dropped", what, name, pr);
	return 0;
}

/* A drop of p applied (the override before: prev): its undo, and what
 * it did in msg: the projection before and after, the needs it left
 * unmet, and the files now kept in its place. */
static int dropped(struct slim_view *sv, const char *p, int prev, const struct sv_snap *before,
                   const struct sv_diff *d, char *msg, size_t len)
{
	push_undo(sv, 0, p, prev);
	sv->unsaved = 1;
	char a[32], b[32], m[32];
	fmt_size(a, sizeof a, before->bytes);
	fmt_size(b, sizeof b, sv->s.plan.kept_bytes);
	int o = snprintf(msg, len, "dropped %s: the slimmed image would hold %s (was %s)", p, b, a);
	if (d->n_broken && o > 0 && (size_t)o < len)
		o += snprintf(msg + o, len - (size_t)o, "; %zu need%s unmet", d->n_broken, d->n_broken == 1 ? "" : "s");
	if (d->n_new && o > 0 && (size_t)o < len)
		o += snprintf(msg + o, len - (size_t)o, "; now kept in its place: %s%s", d->first_new,
		              more(d->n_new, m, sizeof m));
	if (o > 0 && (size_t)o < len)
		snprintf(msg + o, len - (size_t)o, " (z undoes)");
	return 0;
}

/* Does an entry of the uncertain list name path in its hint? */
static int uncertain_hint(const struct slim_view *sv, const char *path)
{
	for (size_t i = 0; i < slim_view_n_uncertain(sv); i++)
		for (size_t k = 0; k < sv->s.r.uncertain[i].n_hint; k++)
			if (!strcmp(sv->s.r.uncertain[i].hint[k], path))
				return 1;
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
	/* a directory an uncertain entry's hint names (often kept partly, by
	 * name): x keeps it whole, which settles the entry */
	int keep = !(n->mark & SLIM_OUT) || (n->type == WH_T_DIR && uncertain_hint(sv, p));
	if (keep) {
		int rc = toggle(sv, 0, p, keep, "", msg, len);
		if (rc == 0 && !(n->mark & SLIM_OUT)) {
			char why[600];
			slim_view_why(sv, n, why, sizeof why);
			snprintf(msg, len, "%s stays %s", p, why);
		}
		return rc;
	}
	/* a drop: computed once to see what it breaks; if something, the view
	 * goes back to what it was and asks */
	struct sv_snap before;
	snap_take(sv, &before);
	int prev = set_ov(sv, 0, p, 0);
	int rc = slim_view_compute(sv);
	struct sv_diff d;
	if (rc == 0)
		snap_diff(sv, &before, &d);
	if (rc == 0 && d.n_broken) {
		set_ov(sv, 0, p, prev);
		snap_free(&before);
		if (slim_view_compute(sv) < 0)
			return -1;
		free(sv->pending);
		sv->pending = xstrdup(p);
		char m[32];
		/* the name (the details line shows the path), so the question fits */
		const char *name = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		snprintf(msg, len, "dropping %s breaks %zu need%s: needed by %s%s. Drop it anyway? y/n", name, d.n_broken,
		         d.n_broken == 1 ? "" : "s", d.needer, more(d.n_needers, m, sizeof m));
		return 1;
	}
	if (rc == 0)
		rc = dropped(sv, p, prev, &before, &d, msg, len);
	snap_free(&before);
	return rc;
}

int slim_view_confirm(struct slim_view *sv, int yes, char *msg, size_t len)
{
	char *p = sv->pending;
	sv->pending = NULL;
	if (!p)
		return 0;
	int rc = 0;
	if (!yes) {
		snprintf(msg, len, "not dropped: %s stays", p);
	} else {
		struct sv_snap before;
		snap_take(sv, &before);
		int prev = set_ov(sv, 0, p, 0);
		rc = slim_view_compute(sv);
		struct sv_diff d;
		if (rc == 0) {
			snap_diff(sv, &before, &d);
			rc = dropped(sv, p, prev, &before, &d, msg, len);
		}
		snap_free(&before);
	}
	free(p);
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
	sv->unsaved = 1;
	int rc = slim_view_compute(sv);
	if (rc == 0) {
		char pr[128];
		projected(sv, pr, sizeof pr);
		snprintf(msg, len, "undone: %s%s %s: %s", u.pkg ? "package " : "", u.name,
		         u.prev < 0 ? "back to what slimming decides" : u.prev ? "kept" : "dropped", pr);
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
	int o = snprintf(out, len, "Slim %s%s%s  ratio %.3f  [%llu%s%llu B]  %llu of %llu files kept", a, arrow(), b,
	                 ratio, (unsigned long long)p->input_bytes, arrow(), (unsigned long long)p->kept_bytes,
	                 (unsigned long long)sv->fig.files, (unsigned long long)sv->fig.input_files);
	if (sv->n_ov && o > 0 && (size_t)o < len)
		snprintf(out + o, len - (size_t)o, ", %zu yours", sv->n_ov);
}

/* --- the root ------------------------------------------------------------------------- */

/* The words of an --entrypoint / --cmd list (one JSON array, or words; a
 * single "" is none), or of the config's array when not set. */
static void words_of(const struct str_list *l, int set, json_t *cfg, struct str_list *out)
{
	json_t *j = NULL;
	if (set && l->n == 1 && l->v[0][0] == '[')
		cfg = j = json_loads(l->v[0], 0, NULL);
	else if (set) {
		for (size_t i = 0; i < l->n; i++)
			if (l->n > 1 || l->v[i][0])
				str_list_add(out, l->v[i]);
		return;
	}
	size_t i;
	json_t *v;
	if (json_is_array(cfg))
		json_array_foreach(cfg, i, v) if (json_is_string(v)) str_list_add(out, json_string_value(v));
	json_decref(j);
}

void slim_view_root(const struct slim_view *sv, char *out, size_t len)
{
	struct str_list w = {0};
	words_of(&sv->opts.entrypoint, sv->opts.entrypoint_set, image_config_get(&sv->a->img, "Entrypoint"), &w);
	words_of(&sv->opts.cmd, sv->opts.cmd_set, image_config_get(&sv->a->img, "Cmd"), &w);
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < w.n && o < len; i++) {
		int q = !w.v[i][0] || strpbrk(w.v[i], " \t'\"") != NULL;
		o += (size_t)snprintf(out + o, len - o, "%s%s%s%s", i ? " " : "", q ? "'" : "", w.v[i], q ? "'" : "");
	}
	str_list_free(&w);
}

int slim_view_set_root(struct slim_view *sv, const char *line, char *msg, size_t len)
{
	struct slim_opts before = sv->opts;
	int edited = sv->root_edited;
	if (!line[strspn(line, " \t")]) {
		sv->opts.entrypoint = sv->o->entrypoint;
		sv->opts.entrypoint_set = sv->o->entrypoint_set;
		sv->opts.cmd = sv->o->cmd;
		sv->opts.cmd_set = sv->o->cmd_set;
		sv->root_edited = 0;
	} else {
		struct str_list e = {0}, c = {0};
		if (line[strspn(line, " \t")] == '[') {
			str_list_add(&e, line + strspn(line, " \t"));
		} else {
			char *copy = xstrdup(line), *save = NULL;
			for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
				str_list_add(&e, w);
			free(copy);
		}
		str_list_add(&c, "");
		sv->opts.entrypoint = e;
		sv->opts.cmd = c;
		sv->opts.entrypoint_set = sv->opts.cmd_set = 1;
		sv->root_edited = 1;
	}
	if (slim_view_compute(sv) < 0) {
		snprintf(msg, len, "not changed: %s", sv->err);
		if (sv->root_edited) {
			str_list_free(&sv->opts.entrypoint);
			str_list_free(&sv->opts.cmd);
		}
		sv->opts = before;
		sv->root_edited = edited;
		slim_view_compute(sv);
		return -1;
	}
	if (edited) {
		str_list_free(&before.entrypoint);
		str_list_free(&before.cmd);
	}
	char root[512], b[32];
	slim_view_root(sv, root, sizeof root);
	fmt_size(b, sizeof b, sv->s.plan.kept_bytes);
	snprintf(msg, len, "slimming from %s: the slimmed image would hold %s", root[0] ? root : "nothing", b);
	return 0;
}

/* --- saving the keeps and drops ------------------------------------------------------- */

/* One --keep-from line for path: glob characters escaped as add_path does,
 * then the line through util_escape (a newline, ESC or invalid UTF-8 in a
 * name becomes \xHH; --keep-from decodes it). A path --keep-from cannot
 * hold (blanks at an end, which it trims) is counted in *skipped. */
static void save_line(FILE *f, int keep, const char *path, size_t *n, size_t *skipped)
{
	size_t l = strlen(path);
	if (!l || path[0] == ' ' || path[l - 1] == ' ') {
		(*skipped)++;
		return;
	}
	struct str_list one = {0};
	add_path(&one, path, !keep);
	fputc(keep ? '+' : '-', f);
	util_escape_line(f, "", one.v[0]);
	str_list_free(&one);
	(*n)++;
}

int slim_view_save(struct slim_view *sv, const char *file, char *msg, size_t len)
{
	FILE *f = fopen(file, "w");
	if (!f) {
		snprintf(msg, len, "not saved: %s: %s", file, strerror(errno));
		return -1;
	}
	char root[512];
	slim_view_root(sv, root, sizeof root);
	fprintf(f, "# whittle --keep-from file: your keeps (+) and drops (-) in the explorer\n");
	fprintf(f, "# (the explorer slimmed from: %s)\n", root[0] ? root : "nothing");
	size_t n = 0, skipped = 0;
	for (size_t i = 0; i < sv->n_ov; i++) {
		const struct sv_override *v = &sv->ov[i];
		if (!v->pkg) {
			save_line(f, v->keep, v->name, &n, &skipped);
			continue;
		}
		const char *const *paths = NULL;
		long np = sv->s.have_db ? dpkg_reach_files_of(&sv->s.db, v->name, &paths) : -1;
		fprintf(f, "# package %s\n", v->name);
		for (long k = 0; k < np; k++)
			save_line(f, v->keep, paths[k], &n, &skipped);
	}
	if (fclose(f) != 0) {
		snprintf(msg, len, "not saved: %s: %s", file, strerror(errno));
		return -1;
	}
	sv->unsaved = 0;
	int o = snprintf(msg, len, "saved %zu line%s to %s: whittle --keep-from %s loads them", n, n == 1 ? "" : "s", file,
	                 file);
	if (skipped && o > 0 && (size_t)o < len)
		snprintf(msg + o, len - (size_t)o, " (%zu path%s with a blank at an end left out)", skipped,
		         skipped == 1 ? "" : "s");
	return 0;
}

/* --- the detail view (i) ------------------------------------------------------------------ */

char *slim_view_detail(const struct slim_view *sv, const struct wh_node *n, const char *filetype)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (!f)
		return xstrdup("out of memory");
	char p[PATH_MAX], why[1200], b[32];
	tree_path(n, p, sizeof p);
	fprintf(f, "%s\n\n", p);
	slim_view_why(sv, n, why, sizeof why);
	fprintf(f, "Slimming  %s\n", why);
	const struct reach_item *it = sv->s.have_reach ? reach_find(&sv->s.r, n) : NULL;
	size_t rl = it ? strlen(reach_rule_name(it->rule)) : 0;
	if (it && it->what && !strncmp(it->what, reach_rule_name(it->rule), rl) && it->what[rl] == ':')
		fprintf(f, "Rule      %s\n", it->what); /* "probe: CMD" */
	else if (it)
		fprintf(f, "Rule      %s%s%s\n", reach_rule_name(it->rule), it->what ? ": " : "", it->what ? it->what : "");
	else
		fprintf(f, "Rule      none: no rule keeps it\n");
	const char *pkg = sv->s.have_db ? dpkg_owner(&sv->s.db, n) : NULL;
	int db = sv->s.have_db && sv->s.db.found;
	fprintf(f, "Package   %s\n", pkg ? pkg : db ? "(none: no package lists it)" : "(no package database)");
	fprintf(f, "Type      %s\n", filetype);
	fmt_size(b, sizeof b, n->size);
	fprintf(f, "Size      %s (%llu B)\n", b, (unsigned long long)n->size);
	if (sv->s.have_reach) {
		fprintf(f, "\nwhittle --why %s:\n", p);
		struct wh_error e = {0};
		if (why_print(&sv->s.r, sv->a, p, f, &e) < 0)
			fprintf(f, "%s\n", e.msg);
	}
	fprintf(f, "\n(any key but the arrows, j k, PgUp PgDn closes)");
	fclose(f);
	return buf;
}

/* --- the uncertain list ------------------------------------------------------------------ */

size_t slim_view_n_uncertain(const struct slim_view *sv)
{
	return sv->s.have_reach ? sv->s.r.n_uncertain : 0;
}

static void hints(const struct reach_uncertain *u, char *out, size_t len)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t k = 0; k < u->n_hint && o < len; k++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", k ? ", " : "", u->hint[k]);
}

void slim_view_uncertain_line(const struct slim_view *sv, size_t i, char *out, size_t len)
{
	out[0] = 0;
	if (i >= slim_view_n_uncertain(sv))
		return;
	const struct reach_uncertain *u = &sv->s.r.uncertain[i];
	char h[1024];
	hints(u, h, sizeof h);
	snprintf(out, len, "uncertain: %s (keeping %s settles it): %s", u->path, h, u->why);
}

/* After the uncertain entries: the data directories (kept whole or dropped
 * whole, and why) and the directories a program names that are kept only
 * partly, as the report's reach.data_dirs and reach.partial_dirs. */
static void uncertain_dirs_text(const struct slim_view *sv, FILE *f)
{
	if (!sv->s.have_reach)
		return;
	const struct reach *r = &sv->s.r;
	char b[32];
	if (r->n_data_dirs)
		fprintf(f, "%zu data director%s: kept whole or dropped whole, never in part\n\n", r->n_data_dirs,
		        r->n_data_dirs == 1 ? "y" : "ies");
	for (size_t i = 0; i < r->n_data_dirs; i++) {
		const struct reach_data_dir *d = &r->data_dirs[i];
		fmt_size(b, sizeof b, d->bytes);
		fprintf(f, "%s %s (%s, %s, %llu file%s)\n  why      %s\n\n", d->kept ? "kept whole" : "dropped whole",
		        d->path, d->kind ? d->kind : "data directory", b, (unsigned long long)d->files,
		        d->files == 1 ? "" : "s", d->why ? d->why : "");
	}
	if (r->n_partial_dirs)
		fprintf(f, "%zu director%s a program names, kept partly (the members something else keeps)\n\n",
		        r->n_partial_dirs, r->n_partial_dirs == 1 ? "y" : "ies");
	for (size_t i = 0; i < r->n_partial_dirs; i++) {
		const struct reach_partial_dir *d = &r->partial_dirs[i];
		fmt_size(b, sizeof b, d->dropped_bytes);
		fprintf(f, "kept partly %s\n  named by %s\n  members  %llu kept, %llu dropped (%s)\n\n", d->path,
		        d->named_by ? d->named_by : "?", (unsigned long long)d->kept, (unsigned long long)d->dropped, b);
	}
}

char *slim_view_uncertain_text(const struct slim_view *sv)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (!f)
		return xstrdup("out of memory");
	size_t n = slim_view_n_uncertain(sv);
	fprintf(f, "%zu uncertain: kept programs that may load code or data by names the analysis cannot see\n\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct reach_uncertain *u = &sv->s.r.uncertain[i];
		char h[1024];
		hints(u, h, sizeof h);
		fprintf(f, "%s\n  why      %s\n  settled  by keeping %s (x on it keeps it whole)\n\n", u->path, u->why, h);
	}
	if (!n)
		fprintf(f, "(none: every kept program's loads are seen)\n\n");
	uncertain_dirs_text(sv, f);
	fprintf(f, "(any key but the arrows, j k, PgUp PgDn closes)");
	fclose(f);
	return buf;
}
