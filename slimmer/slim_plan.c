#include "slimmer/slim_plan.h"
#include "analyzer/dpkg.h"
#include "analyzer/pathres.h"
#include "analyzer/reach.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINK_DEPTH 40

struct pick {
	struct wh_node *node;
	uint8_t why;
};

struct ctx {
	struct analysis *a;
	struct wh_tree *t;
	struct pick *v;
	size_t n, cap;
};

/* Put n in the plan with its parents; a symlink with the links its target
 * resolves through (pathres: inside the image, never the host) and the
 * directory it names. Each node once (SLIM_OUT), so the recursion ends. */
static void add_node(struct ctx *c, struct wh_node *n, uint8_t why)
{
	if (!n->parent || (n->mark & SLIM_OUT))
		return;
	n->mark |= SLIM_OUT;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n].node = n;
	c->v[c->n].why = why;
	c->n++;
	add_node(c, n->parent, SLIM_WHY_PARENT);
	if (n->type == WH_T_SYMLINK && n->e && n->e->link) {
		struct pathres r;
		struct wh_error e = {0};
		pathres_resolve(c->t, n->parent, n->e->link, PATHRES_FOLLOW, &r, &e); /* a loop: the links so far */
		for (size_t i = 0; i < r.n_links; i++)
			add_node(c, r.links[i], SLIM_WHY_SYMLINK);
		if (r.node && r.node->type == WH_T_DIR)
			add_node(c, r.node, SLIM_WHY_SYMLINK);
		pathres_free(&r);
	}
}

static int clear_out(void *ctx, struct wh_node *n, int depth)
{
	(void)ctx;
	(void)depth;
	n->mark &= (uint8_t)~SLIM_OUT;
	return 0;
}

struct collect {
	struct ctx *c;
};

static int collect_kept(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	struct ctx *c = ctx;
	if (n->parent && (n->mark & SLIM_KEEP))
		add_node(c, n, SLIM_WHY_KEPT);
	return 0;
}

static int mark_all(void *ctx, struct wh_node *n, int depth)
{
	(void)ctx;
	(void)depth;
	n->mark |= SLIM_KEEP;
	return 0;
}

void slim_mark_all(struct wh_tree *t)
{
	tree_walk(t->root, mark_all, NULL);
}

static int clear_keep(void *ctx, struct wh_node *n, int depth)
{
	(void)ctx;
	(void)depth;
	n->mark &= (uint8_t)~SLIM_KEEP;
	return 0;
}

/* Of var/lib/dpkg/info, what dpkg-query and the scanners (trivy, grype,
 * syft) read: the file lists, md5sums, conffiles and the format. The rest
 * (maintainer scripts, debconf templates and config, symbols, shlibs,
 * triggers) is read only by dpkg, debconf and dpkg-shlibdeps when packages
 * are installed or removed: kept only when the output keeps dpkg. */
static int dpkg_info_for_queries(const char *name)
{
	static const char *const ext[] = {".list", ".md5sums", ".conffiles"};
	size_t nl = strlen(name);
	if (!strcmp(name, "format"))
		return 1;
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		size_t el = strlen(ext[i]);
		if (nl > el && !strcmp(name + nl - el, ext[i]))
			return 1;
	}
	return 0;
}

static void keep_dpkg_db(struct analysis *a, int whole)
{
	static const char *const db[] = {"var/lib/dpkg/status", "var/lib/dpkg/status.d", "var/lib/dpkg/diversions"};
	struct wh_node *n = tree_lookup(&a->tree, "var/lib/dpkg");
	if (whole) {
		if (n && n->type == WH_T_DIR)
			tree_walk(n, mark_all, NULL);
		return;
	}
	for (size_t i = 0; i < sizeof db / sizeof *db; i++) {
		n = tree_lookup(&a->tree, db[i]);
		if (n && (n->type == WH_T_REG || n->type == WH_T_DIR))
			tree_walk(n, mark_all, NULL);
	}
	struct wh_node *info = tree_lookup(&a->tree, "var/lib/dpkg/info");
	if (!info || info->type != WH_T_DIR)
		return;
	struct wh_node *dpkg = tree_lookup(&a->tree, "usr/bin/dpkg");
	int all = dpkg && (dpkg->mark & SLIM_KEEP);
	info->mark |= SLIM_KEEP;
	for (struct wh_node *ch = info->child; ch; ch = ch->next)
		if (all || dpkg_info_for_queries(ch->name))
			tree_walk(ch, mark_all, NULL);
}

/* NAME.TAG.pyc in a __pycache__ directory whose parent holds NAME.py
 * (PEP 3147: TAG as cpython-311, optionally .opt-1 or .opt-2): the
 * kept NAME.py, when the cache is not kept. */
static int pycache_of_kept_source(struct wh_tree *t, const struct wh_node *n)
{
	size_t nl = strlen(n->name);
	if (n->type != WH_T_REG || !n->parent || strcmp(n->parent->name, "__pycache__") || !n->parent->parent ||
	    nl < 5 || strcmp(n->name + nl - 4, ".pyc"))
		return 0;
	const char *dot = strchr(n->name, '.');
	if (!dot || dot == n->name + nl - 4)
		return 0;
	char src[256];
	if ((size_t)(dot - n->name) + 4 > sizeof src)
		return 0;
	snprintf(src, sizeof src, "%.*s.py", (int)(dot - n->name), n->name);
	const struct wh_node *s = tree_child(t, n->parent->parent, src);
	return s && s->type != WH_T_DIR && (s->mark & SLIM_KEEP); /* Debian's sitecustomize.py is a symlink */
}

static int drop_pycache(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	if ((n->mark & SLIM_KEEP) && pycache_of_kept_source(ctx, n))
		n->mark &= (uint8_t)~SLIM_KEEP;
	return 0;
}

void slim_keep_from_reach(struct analysis *a, const struct reach *r, unsigned flags)
{
	tree_walk(a->tree.root, clear_keep, NULL);
	for (size_t i = 0; i < r->n_items; i++)
		r->items[i].node->mark |= SLIM_KEEP;
	if (flags & SLIM_DROP_PYCACHE)
		tree_walk(a->tree.root, drop_pycache, &a->tree);
	keep_dpkg_db(a, (flags & SLIM_KEEP_DPKG_DB) != 0);
}

struct file_count {
	uint64_t files, kept;
};

static int count_files(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	struct file_count *fc = ctx;
	if (!n->parent || n->type == WH_T_DIR)
		return 0;
	fc->files++;
	if (n->mark & SLIM_OUT)
		fc->kept++;
	return 0;
}

void slim_count_files(const struct wh_tree *t, uint64_t *files, uint64_t *kept)
{
	struct file_count fc = {0, 0};
	tree_walk(t->root, count_files, &fc);
	*files = fc.files;
	*kept = fc.kept;
}

/* The entry a hard link of layer `li` names, followed to the end of a
 * chain: the last entry of that path before the link in the same layer
 * (tar semantics; each hop goes to an earlier entry, so a chain of any
 * length ends, as umoci follows it), else the final tree's. A regular
 * file carries the data; a symlink makes the link another symlink (umoci
 * accepts both). NULL when it dangles. */
static const struct wh_entry *hardlink_data(struct ctx *c, size_t li, const struct wh_entry *hl, uint16_t *layer,
                                            int depth)
{
	const struct wh_layer *l = &c->a->img.layers[li];
	if (depth > MAX_LINK_DEPTH || !hl->link)
		return NULL;
	size_t from = hl >= l->entries && hl < l->entries + l->n_entries ? (size_t)(hl - l->entries) : 0;
	for (size_t i = from; i-- > 0;) {
		const struct wh_entry *e = &l->entries[i];
		if (strcmp(entry_tar_name(e), hl->link) != 0)
			continue;
		if (e->type == WH_T_REG || e->type == WH_T_SYMLINK) {
			*layer = (uint16_t)li;
			return e;
		}
		if (e->type != WH_T_HARDLINK || !e->link)
			return NULL;
		hl = e; /* the chain goes on, further back */
		i = (size_t)(e - l->entries);
	}
	/* not in its layer (a writer that links across layers): the final tree's file */
	struct wh_node *t = tree_lookup(c->t, hl->link);
	if (t && t->e && (t->type == WH_T_REG || t->type == WH_T_SYMLINK)) {
		*layer = t->layer;
		return t->e;
	}
	if (t && t->e && t->type == WH_T_HARDLINK && t->e != hl)
		return hardlink_data(c, t->layer, t->e, layer, depth + 1);
	return NULL;
}

static int cmp_path(const void *x, const void *y)
{
	const struct slim_entry *a = x, *b = y;
	return strcmp(a->path, b->path);
}

static int cmp_data_path(const void *x, const void *y)
{
	const struct slim_entry *a = *(const struct slim_entry *const *)x, *b = *(const struct slim_entry *const *)y;
	if (a->data != b->data)
		return (uintptr_t)a->data < (uintptr_t)b->data ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* --- dpkg ------------------------------------------------------------------------ */

/* A package stays installed when a path of its own is in the output
 * (dpkg_own_path: a file, or a symlink no other package lists); a package
 * that had own paths and keeps none is removed: its paragraph (status or
 * status.d/NAME), its file list and control files, and the diversions it
 * made go. Packages without own paths (only directories or shared links)
 * and those whose files are not on disk (config-files) stay as they are. */
struct dpkg_cut {
	const struct dpkg_db *db;
	uint8_t *removed; /* by index in db->pkgs */
};

static int pkg_stays(void *ctx, const struct dpkg_pkg *p)
{
	const struct dpkg_cut *d = ctx;
	return !d->removed[p - d->db->pkgs];
}

static int cmp_pkg(const void *x, const void *y)
{
	const struct slim_pkg *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The entry of path gets content instead of its source's bytes. */
static void replace_content(struct slim_plan *p, const char *path, char *content, size_t len)
{
	struct slim_entry key = {.path = path};
	struct slim_entry *se = bsearch(&key, p->v, p->n, sizeof *p->v, cmp_path);
	if (se && content && se->type == WH_T_REG) {
		uint8_t *copy = arena_alloc(&p->arena, len + 1);
		memcpy(copy, content, len + 1);
		se->content = copy;
		se->content_len = len;
		se->size = len;
	}
	free(content);
}

/* "NAME:ARCH" when its list is NAME:ARCH.list (Multi-Arch: same), else NAME */
static const char *pkg_label(struct slim_plan *p, const struct dpkg_pkg *k)
{
	const char *base = k->list ? strrchr(k->list, '/') : NULL;
	size_t bl = base ? strlen(base + 1) : 0;
	if (base && strchr(base, ':') && bl > 5 && !strcmp(base + 1 + bl - 5, ".list"))
		return arena_strndup(&p->arena, base + 1, bl - 5);
	return arena_strdup(&p->arena, k->name);
}

static void dpkg_reduce(struct ctx *c, struct slim_plan *p, const struct dpkg_db *given)
{
	struct dpkg_db own;
	const struct dpkg_db *db = given;
	if (!db) {
		struct wh_error e = {0};
		if (dpkg_load(c->a, &own, &e) < 0)
			return; /* unreadable: the database stays as it is (the caller warned when it loaded it) */
		db = &own;
	}
	struct dpkg_cut d = {db, xcalloc(db->n_pkgs ? db->n_pkgs : 1, 1)};
	size_t n_rm = 0;
	for (size_t i = 0; i < db->n_pkgs; i++) {
		size_t mine, kept;
		dpkg_own_paths(db, &db->pkgs[i], SLIM_OUT, &mine, &kept);
		if (db->pkgs[i].present && mine && !kept) {
			d.removed[i] = 1;
			n_rm++;
		}
	}
	if (n_rm) {
		/* their status.d paragraphs and lists, info files */
		for (size_t i = 0; i < p->n; i++) {
			const char *path = p->v[i].path;
			if (strncmp(path, "var/lib/dpkg/", 13) || (strncmp(path + 13, "info/", 5) && strncmp(path + 13, "status.d/", 9)))
				continue;
			const struct dpkg_pkg *k = dpkg_db_file_package(db, path);
			if (k && d.removed[k - db->pkgs])
				((struct wh_node *)p->v[i].node)->mark &= (uint8_t)~SLIM_OUT;
		}
		size_t o = 0;
		for (size_t i = 0; i < p->n; i++)
			if (p->v[i].node->mark & SLIM_OUT)
				p->v[o++] = p->v[i];
		p->n = o;
		size_t len;
		char *st = dpkg_status_filtered(db, pkg_stays, &d, &len);
		replace_content(p, "var/lib/dpkg/status", st, len);
		char *dv = dpkg_diversions_filtered(db, pkg_stays, &d, &len);
		replace_content(p, "var/lib/dpkg/diversions", dv, len);
		p->removed_pkgs = xcalloc(n_rm, sizeof *p->removed_pkgs);
		for (size_t i = 0; i < db->n_pkgs; i++)
			if (d.removed[i])
				p->removed_pkgs[p->n_removed_pkgs++] =
					(struct slim_pkg){pkg_label(p, &db->pkgs[i]), db->pkgs[i].size_bytes};
		qsort(p->removed_pkgs, n_rm, sizeof *p->removed_pkgs, cmp_pkg);
	}
	free(d.removed);
	if (db == &own)
		dpkg_free(&own);
}

/* --- the plan ---------------------------------------------------------------------- */

int slim_plan_build(struct analysis *a, const struct slim_plan_opts *o, struct slim_plan *p, struct wh_error *err)
{
	memset(p, 0, sizeof *p);
	arena_init(&p->arena);
	struct ctx c = {.a = a, .t = &a->tree};
	if (!c.t->root)
		return wh_err(err, WH_EINPUT, "%s: no merged tree to slim", a->img.reference);
	tree_walk(c.t->root, clear_out, NULL);
	tree_walk(c.t->root, collect_kept, &c);

	p->v = xcalloc(c.n ? c.n : 1, sizeof *p->v);
	p->n = c.n;
	int rc = 0;
	for (size_t i = 0; i < c.n; i++) {
		struct wh_node *n = c.v[i].node;
		struct slim_entry *se = &p->v[i];
		char path[PATH_MAX + 2];
		tree_path(n, path, sizeof path);
		se->path = arena_strdup(&p->arena, path + 1);
		se->node = n;
		se->e = n->e;
		se->why = c.v[i].why;
		se->type = n->type;
		se->layer = n->layer;
		if (n->type == WH_T_REG) {
			se->data = n->e;
			se->size = n->e ? n->e->size : 0;
		} else if (n->type == WH_T_HARDLINK) {
			uint16_t layer = 0;
			const struct wh_entry *d = n->e ? hardlink_data(&c, n->layer, n->e, &layer, 0) : NULL;
			if (d && d->type == WH_T_SYMLINK) { /* a hard link to a symlink is that symlink again */
				se->type = WH_T_SYMLINK;
				se->link = d->link ? d->link : "";
				continue;
			}
			if (!d) {
				rc = wh_err(err, WH_EINPUT, "%s: hard link /%s names \"%s\", which is not a regular file or "
				            "symlink in layer %u or the final tree", a->img.reference, se->path,
				            n->e && n->e->link ? n->e->link : "", (unsigned)n->layer);
				goto out;
			}
			se->data = d;
			se->layer = layer;
			se->size = d->size;
		} else if (n->type == WH_T_SYMLINK) {
			se->link = n->e && n->e->link ? n->e->link : "";
		}
	}
	/* hard-link sets: group by the entry carrying the data */
	struct slim_entry **files = xcalloc(p->n ? p->n : 1, sizeof *files);
	size_t nf = 0;
	for (size_t i = 0; i < p->n; i++)
		if ((p->v[i].type == WH_T_REG || p->v[i].type == WH_T_HARDLINK) && p->v[i].data)
			files[nf++] = &p->v[i];
	qsort(files, nf, sizeof *files, cmp_data_path);
	for (size_t i = 0; i < nf;) {
		size_t j = i + 1;
		while (j < nf && files[j]->data == files[i]->data)
			j++;
		struct slim_entry *carrier = files[i];
		carrier->type = WH_T_REG;
		carrier->link = NULL;
		carrier->e = carrier->data; /* the inode's metadata */
		carrier->size = carrier->data->size;
		for (size_t k = i + 1; k < j; k++) {
			files[k]->type = WH_T_HARDLINK;
			files[k]->link = carrier->path;
			files[k]->size = 0;
		}
		i = j;
	}
	free(files);
	qsort(p->v, p->n, sizeof *p->v, cmp_path);
	if (!o || !o->keep_dpkg_db)
		dpkg_reduce(&c, p, o ? o->db : NULL);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].type == WH_T_REG)
			p->kept_bytes += p->v[i].size;
	p->kept_entries = p->n;
	p->input_bytes = c.t->root->size;
	p->input_entries = c.t->n_nodes;
out:
	free(c.v);
	if (rc < 0)
		slim_plan_free(p);
	return rc;
}

void slim_plan_free(struct slim_plan *p)
{
	free(p->v);
	free(p->removed_pkgs);
	arena_free(&p->arena);
	memset(p, 0, sizeof *p);
}

const struct slim_entry *slim_plan_find(const struct slim_plan *p, const char *path)
{
	while (*path == '/')
		path++;
	struct slim_entry key = {.path = path};
	return bsearch(&key, p->v, p->n, sizeof *p->v, cmp_path);
}
