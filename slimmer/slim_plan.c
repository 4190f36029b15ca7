#include "slim_plan.h"
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

static void add_node(struct ctx *c, struct wh_node *n, uint8_t why, int depth);

/* Resolve `path` from directory `dir` inside the image (never the host).
 * Symlinks met on the way are followed (the last component only when
 * follow_last); with add, each link followed joins the plan. Returns the
 * node, or NULL when the path dangles or loops. */
static struct wh_node *resolve(struct ctx *c, struct wh_node *dir, const char *path, int follow_last, int add,
                               int depth)
{
	if (depth > MAX_LINK_DEPTH)
		return NULL;
	struct wh_node *cur = path[0] == '/' ? c->t->root : dir;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);
		const char *rest = p + len;
		while (*rest == '/')
			rest++;
		int last = *rest == 0;
		if (len == 1 && p[0] == '.') {
			/* stay */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (cur->parent)
				cur = cur->parent;
		} else {
			if (cur->type != WH_T_DIR)
				return NULL;
			char name[NAME_MAX + 1];
			if (len > NAME_MAX)
				return NULL;
			memcpy(name, p, len);
			name[len] = 0;
			struct wh_node *nx = tree_child(c->t, cur, name);
			if (!nx)
				return NULL;
			if (nx->type == WH_T_SYMLINK && (!last || follow_last)) {
				if (add)
					add_node(c, nx, SLIM_WHY_SYMLINK, depth + 1);
				nx = resolve(c, nx->parent, nx->e && nx->e->link ? nx->e->link : "", 1, add, depth + 1);
				if (!nx)
					return NULL;
			}
			cur = nx;
		}
		p = rest;
	}
	return cur;
}

static void add_node(struct ctx *c, struct wh_node *n, uint8_t why, int depth)
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
	add_node(c, n->parent, SLIM_WHY_PARENT, depth);
	if (n->type == WH_T_SYMLINK && n->e && n->e->link) {
		/* the links it resolves through, and the directory it names */
		struct wh_node *to = resolve(c, n->parent, n->e->link, 1, 1, depth + 1);
		if (to && to->type == WH_T_DIR)
			add_node(c, to, SLIM_WHY_SYMLINK, depth + 1);
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
		add_node(c, n, SLIM_WHY_KEPT, 0);
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

void slim_keep_from_reach(struct analysis *a, const struct reach *r, int keep_dpkg_db)
{
	tree_walk(a->tree.root, clear_keep, NULL);
	for (size_t i = 0; i < r->n_items; i++)
		r->items[i].node->mark |= SLIM_KEEP;
	static const char *const db[] = {"var/lib/dpkg/status", "var/lib/dpkg/status.d", "var/lib/dpkg/info"};
	for (size_t i = 0; i < sizeof db / sizeof *db; i++) {
		struct wh_node *n = tree_lookup(&a->tree, keep_dpkg_db ? "var/lib/dpkg" : db[i]);
		if (n && (n->type == WH_T_REG || n->type == WH_T_DIR))
			tree_walk(n, mark_all, NULL);
	}
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

static const char *const dpkg_kinds[] = {
	"list", "md5sums", "conffiles", "postinst", "postrm", "preinst", "prerm", "shlibs", "symbols",
	"triggers", "templates", "config", "clilibs", "hook",
};

/* "STEM.KIND" with a control-file KIND */
static int info_file_of(const char *name, const char *stem)
{
	size_t sl = strlen(stem);
	if (strncmp(name, stem, sl) != 0 || name[sl] != '.')
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(dpkg_kinds); i++)
		if (!strcmp(name + sl + 1, dpkg_kinds[i]))
			return 1;
	return 0;
}

struct removed_pkg {
	char *stem;   /* name or name:arch */
	uint64_t size;
};

static int field_is(const char *para, size_t len, const char *field, const char *val, size_t vlen)
{
	size_t fl = strlen(field);
	const char *p = para, *end = para + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > fl + 1 && !strncmp(p, field, fl) && p[fl] == ':') {
			const char *v = p + fl + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = le;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			return (size_t)(ve - v) == vlen && !memcmp(v, val, vlen);
		}
		p = le + 1;
	}
	return 0;
}

static int para_removed(const char *para, size_t len, const struct removed_pkg *rm, size_t n_rm)
{
	for (size_t i = 0; i < n_rm; i++) {
		const char *colon = strchr(rm[i].stem, ':');
		size_t nl = colon ? (size_t)(colon - rm[i].stem) : strlen(rm[i].stem);
		if (!field_is(para, len, "Package", rm[i].stem, nl))
			continue;
		if (colon && !field_is(para, len, "Architecture", colon + 1, strlen(colon + 1)))
			continue;
		return 1;
	}
	return 0;
}

static int cmp_pkg(const void *x, const void *y)
{
	const struct slim_pkg *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void dpkg_reduce(struct ctx *c, struct slim_plan *p)
{
	struct wh_node *status = tree_lookup(c->t, "var/lib/dpkg/status");
	struct wh_node *info = tree_lookup(c->t, "var/lib/dpkg/info");
	if (!status || !(status->mark & SLIM_OUT) || status->type != WH_T_REG || !status->e || !status->e->extra ||
	    !status->e->extra->content || !info || info->type != WH_T_DIR)
		return;
	struct removed_pkg *rm = NULL;
	size_t n_rm = 0;
	for (struct wh_node *f = info->child; f; f = f->next) {
		size_t nl = strlen(f->name);
		if (nl <= 5 || strcmp(f->name + nl - 5, ".list") != 0 || f->type != WH_T_REG)
			continue;
		if (!f->e || !f->e->extra || !f->e->extra->content)
			continue; /* not captured: nothing known, keep it */
		const char *s = (const char *)f->e->extra->content;
		const char *end = s + f->e->extra->content_len;
		int has_files = 0, kept = 0;
		uint64_t size = 0;
		while (s < end) {
			const char *le = memchr(s, '\n', (size_t)(end - s));
			if (!le)
				le = end;
			char path[PATH_MAX];
			size_t len = (size_t)(le - s);
			if (len > 0 && len < sizeof path) {
				memcpy(path, s, len);
				path[len] = 0;
				struct wh_node *n = resolve(c, c->t->root, path, 0, 0, 0);
				if (n && n->parent && n->type != WH_T_DIR) {
					has_files = 1;
					if (n->type == WH_T_REG)
						size += n->size;
					if (n->mark & SLIM_OUT)
						kept = 1;
				}
			}
			s = le + 1;
		}
		if (has_files && !kept) {
			rm = xrealloc(rm, (n_rm + 1) * sizeof *rm);
			rm[n_rm].stem = xstrndup(f->name, nl - 5);
			rm[n_rm].size = size;
			n_rm++;
		}
	}
	if (n_rm == 0) {
		free(rm);
		return;
	}
	/* drop the removed packages' control files */
	for (struct wh_node *f = info->child; f; f = f->next)
		for (size_t i = 0; i < n_rm; i++)
			if (info_file_of(f->name, rm[i].stem)) {
				f->mark &= (uint8_t)~SLIM_OUT;
				break;
			}
	size_t o = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].node->mark & SLIM_OUT)
			p->v[o++] = p->v[i];
	p->n = o;
	/* the status file without their paragraphs */
	const char *s = (const char *)status->e->extra->content;
	size_t len = status->e->extra->content_len;
	struct buf out = {0};
	size_t i = 0;
	while (i < len) {
		/* a paragraph runs to the first empty line; keep its separator with it */
		size_t j = i;
		while (j < len) {
			const char *nl = memchr(s + j, '\n', len - j);
			if (!nl) {
				j = len;
				break;
			}
			j = (size_t)(nl - s) + 1;
			if (j < len && s[j] == '\n')
				break;
		}
		size_t k = j;
		while (k < len && s[k] == '\n')
			k++;
		if (!para_removed(s + i, j - i, rm, n_rm))
			buf_append(&out, s + i, k - i);
		i = k;
	}
	struct slim_entry key = {.path = "var/lib/dpkg/status"};
	struct slim_entry *se = bsearch(&key, p->v, p->n, sizeof *p->v, cmp_path);
	if (se) {
		uint8_t *copy = arena_alloc(&p->arena, out.len + 1);
		if (out.len)
			memcpy(copy, out.data, out.len);
		se->content = copy;
		se->content_len = out.len;
		se->size = out.len;
	}
	buf_free(&out);
	p->removed_pkgs = xcalloc(n_rm, sizeof *p->removed_pkgs);
	for (size_t r = 0; r < n_rm; r++) {
		p->removed_pkgs[r].name = arena_strdup(&p->arena, rm[r].stem);
		p->removed_pkgs[r].size = rm[r].size;
		free(rm[r].stem);
	}
	p->n_removed_pkgs = n_rm;
	qsort(p->removed_pkgs, n_rm, sizeof *p->removed_pkgs, cmp_pkg);
	free(rm);
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
		dpkg_reduce(&c, p);
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
