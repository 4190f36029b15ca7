#include "analyzer/tree.h"
#include "analyzer/pathres.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the (parent, name) hash ------------------------------------------------ */

static uint64_t hash_key(const struct wh_node *parent, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 29;
	return h;
}

static void slots_grow(struct wh_tree *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 1024;
	struct wh_node **s = xcalloc(n, sizeof *s);
	size_t used = 0;
	for (size_t i = 0; i < t->nslots; i++) {
		struct wh_node *x = t->slots[i];
		if (!x || x->change == WH_C_REMOVED + 1) /* dead */
			continue;
		uint64_t h = hash_key(x->parent, x->name, strlen(x->name)) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = x;
		used++;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	t->used = used;
}

#define DEAD (WH_C_REMOVED + 1) /* an unlinked node, left in the hash */

static struct wh_node *find_child_n(const struct wh_tree *t, const struct wh_node *dir, const char *name, size_t len)
{
	if (!t->nslots)
		return NULL;
	uint64_t h = hash_key(dir, name, len) & (t->nslots - 1);
	for (;;) {
		struct wh_node *x = t->slots[h];
		if (!x)
			return NULL;
		if (x->parent == dir && x->change != DEAD && !strncmp(x->name, name, len) && x->name[len] == 0)
			return x;
		h = (h + 1) & (t->nslots - 1);
	}
}

struct wh_node *tree_child(const struct wh_tree *t, const struct wh_node *dir, const char *name)
{
	return find_child_n(t, dir, name, strlen(name));
}

static struct wh_node *new_node(struct wh_tree *t, struct wh_node *parent, const char *name, size_t len,
                                const char *name_storage)
{
	if ((t->used + 1) * 2 > t->nslots)
		slots_grow(t);
	struct wh_node *n = arena_alloc(&t->arena, sizeof *n);
	memset(n, 0, sizeof *n);
	n->parent = parent;
	n->name = name_storage ? name_storage : arena_strndup(&t->arena, name, len);
	n->next = parent->child;
	parent->child = n;
	uint64_t h = hash_key(parent, n->name, len) & (t->nslots - 1);
	while (t->slots[h])
		h = (h + 1) & (t->nslots - 1);
	t->slots[h] = n;
	t->used++;
	t->n_nodes++;
	return n;
}

static void unlink_node(struct wh_tree *t, struct wh_node *n);

static void kill_subtree(struct wh_tree *t, struct wh_node *n)
{
	struct wh_node *c = n->child;
	while (c) {
		struct wh_node *next = c->next;
		kill_subtree(t, c);
		c = next;
	}
	n->child = NULL;
	n->change = DEAD;
	t->n_nodes--;
}

static void unlink_node(struct wh_tree *t, struct wh_node *n)
{
	struct wh_node **pp = &n->parent->child;
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp)
		*pp = n->next;
	kill_subtree(t, n);
}

/* --- applying a layer ----------------------------------------------------------- */

struct apply {
	struct wh_tree *t;
	struct wh_layer *l;
	size_t layer;
	uint64_t added, modified, removed;
	struct wh_node **removed_list;
	size_t n_removed, cap_removed;
};

/* Mark a subtree removed by this layer (it stays until the layer is done). */
static void mark_removed(struct apply *ap, struct wh_node *n)
{
	if (n->changed == ap->layer && n->change == WH_C_REMOVED)
		return;
	n->changed = (uint16_t)ap->layer;
	n->change = WH_C_REMOVED;
	if (ap->n_removed == ap->cap_removed) {
		ap->cap_removed = ap->cap_removed ? ap->cap_removed * 2 : 64;
		ap->removed_list = xrealloc(ap->removed_list, ap->cap_removed * sizeof *ap->removed_list);
	}
	ap->removed_list[ap->n_removed++] = n;
	for (struct wh_node *c = n->child; c; c = c->next)
		mark_removed(ap, c);
}

/* Walk to the directory that holds `path`, as a runtime unpacking the layer
 * does (umoci, through securejoin): a symlink met on the way is followed
 * inside the image (an absolute target from the root, a relative one from
 * the link's directory, ".." at the root stays there), so `b/passwd` under
 * `b -> /etc` lands in /etc. With create, directories no layer lists are
 * made where the walk finds none, and a non-directory in the way is
 * replaced by a directory; without, a missing or non-directory component
 * gives NULL. *followed is set when a symlink was followed. */
#define TREE_MAX_LINKS 255 /* securejoin's limit */
static int parent_dir(struct apply *ap, const char *path, int create, const char **base, struct wh_node **out,
                      int *followed, struct wh_error *err)
{
	struct wh_tree *t = ap->t;
	const char *last = strrchr(path, '/');
	*base = last ? last + 1 : path;
	*out = t->root;
	if (!last)
		return 0;
	struct path_walk w;
	path_walk_init(&w, path, (size_t)(last - path));
	struct wh_node *dir = t->root;
	int hops = 0, rc = 0;
	char *p;
	size_t len;
	while ((p = path_walk_next(&w, &len, NULL))) {
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (dir->parent)
				dir = dir->parent;
			continue;
		}
		struct wh_node *c = find_child_n(t, dir, p, len);
		int gone = c && c->change == WH_C_REMOVED && c->changed == ap->layer;
		if (c && c->type == WH_T_SYMLINK && !gone) {
			if (++hops > TREE_MAX_LINKS) {
				char lp[PATH_MAX];
				tree_path(c, lp, sizeof lp);
				rc = wh_err(err, WH_EINPUT, "entry \"%s\": more than %d symbolic links on the way (a loop?), "
				            "stopped at %s -> %s", path, TREE_MAX_LINKS, lp, c->e && c->e->link ? c->e->link : "");
				break;
			}
			const char *target = c->e && c->e->link ? c->e->link : "";
			path_walk_splice(&w, target);
			if (target[0] == '/')
				dir = t->root;
			*followed = 1;
			continue;
		}
		if (!create && (!c || gone || c->type != WH_T_DIR)) {
			dir = NULL;
			break;
		}
		if (!c) {
			c = new_node(t, dir, p, len, NULL);
			c->type = WH_T_DIR;
			c->changed = (uint16_t)ap->layer;
			c->change = WH_C_ADDED;
		} else if (gone) {
			/* removed by this layer's whiteout, then used again: the layer still has it.
			 * A directory stays as it was (its own entry, before or after, decides
			 * whether it changed); anything else became a directory. */
			if (c->type != WH_T_DIR) {
				c->type = WH_T_DIR;
				c->e = NULL;
				c->change = WH_C_MODIFIED;
			} else {
				c->change = WH_C_NONE;
			}
		} else if (c->type != WH_T_DIR) {
			for (struct wh_node *g = c->child; g; g = g->next)
				mark_removed(ap, g);
			c->type = WH_T_DIR;
			c->e = NULL;
			c->changed = (uint16_t)ap->layer;
			c->change = WH_C_MODIFIED;
		}
		dir = c;
	}
	path_walk_free(&w);
	*out = dir;
	return rc;
}

/* An entry written through a symlink: its path becomes where it landed
 * (every figure and view uses that), its tar name is kept (tar_name). */
static void entry_relocate(struct apply *ap, const struct wh_entry *ce, const struct wh_node *dir, const char *base)
{
	struct wh_entry *e = (struct wh_entry *)ce;
	char p[PATH_MAX + 2];
	size_t n = tree_path(dir, p, sizeof p);
	const char *rp = n > 1 ? p + 1 : "";
	char *np = *base ? xasprintf("%s%s%s", rp, *rp ? "/" : "", base) : xstrdup(rp);
	if (strcmp(np, e->path) != 0) {
		if (!e->tar_name)
			e->tar_name = e->path;
		e->path = arena_strdup(&ap->l->arena, np);
	}
	free(np);
}

static int same_entry(const struct wh_entry *a, const struct wh_entry *b)
{
	if (!a || !b)
		return 0;
	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid)
		return 0;
	if (a->type == WH_T_REG)
		return a->size == b->size && !memcmp(a->hash, b->hash, sizeof a->hash);
	if (a->type == WH_T_SYMLINK || a->type == WH_T_HARDLINK)
		return !strcmp(a->link ? a->link : "", b->link ? b->link : "");
	return 1;
}

static int apply_entry(struct apply *ap, const struct wh_entry *e, struct wh_error *err)
{
	struct wh_tree *t = ap->t;
	if (!e->path[0]) { /* the root directory's own metadata */
		t->root->e = e;
		t->root->layer = (uint16_t)ap->layer;
		return 0;
	}
	const char *base;
	struct wh_node *dir;
	int followed = 0;
	int rc = parent_dir(ap, e->path, 1, &base, &dir, &followed, err);
	if (rc < 0)
		return rc;
	if (followed) {
		entry_relocate(ap, e, dir, base);
		base = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
	}
	struct wh_node *n = find_child_n(t, dir, base, strlen(base));
	if (!n) {
		n = new_node(t, dir, base, strlen(base), base);
		n->changed = (uint16_t)ap->layer;
		n->change = WH_C_ADDED;
	} else {
		int was_removed_here = n->changed == ap->layer && n->change == WH_C_REMOVED;
		int added_here = n->changed == ap->layer && n->change == WH_C_ADDED;
		const struct wh_entry *old = n->e;
		if (e->type != WH_T_DIR) {
			for (struct wh_node *c = n->child; c; c = c->next)
				mark_removed(ap, c);
		}
		if (added_here) {
			/* listed twice in one layer: still added */
		} else if (was_removed_here) {
			/* hidden by this layer's whiteout or opaque marker, then listed
			 * again: modified, unless it came back exactly as it was (then
			 * its earlier change is lost: mark_removed overwrote it) */
			if (same_entry(old, e)) {
				n->changed = 0;
				n->change = WH_C_NONE;
			} else {
				n->change = WH_C_MODIFIED;
			}
		} else if (!same_entry(old, e) && !(old == NULL && e->type == WH_T_DIR && n->type == WH_T_DIR)) {
			n->changed = (uint16_t)ap->layer;
			n->change = WH_C_MODIFIED;
		}
		n->name = base; /* point at the newest storage */
	}
	n->e = e;
	n->layer = (uint16_t)ap->layer;
	n->type = e->type;
	n->in_layer = 1;
	return 0;
}

static uint64_t subtree_bytes(const struct wh_node *n)
{
	uint64_t s = 0;
	for (const struct wh_node *c = n->child; c; c = c->next) {
		if (c->type == WH_T_REG && c->e)
			s += c->e->size;
		if (c->child)
			s += subtree_bytes(c);
	}
	return s;
}

/* The node a whiteout or opaque marker names, its parents resolved as
 * entries' are (no directory is made); NULL when nothing is there. */
static int marker_target(struct apply *ap, const struct wh_entry *e, int whole, struct wh_node **out,
                         struct wh_error *err)
{
	*out = NULL;
	if (!e->path[0]) {
		*out = ap->t->root;
		return 0;
	}
	/* an opaque marker names a directory: resolve all of it ("DIR/.") */
	char *p = whole ? xasprintf("%s/.", e->path) : xstrdup(e->path);
	const char *base;
	struct wh_node *dir;
	int followed = 0;
	int rc = parent_dir(ap, p, 0, &base, &dir, &followed, err);
	if (rc == 0 && dir) {
		if (followed)
			entry_relocate(ap, e, dir, whole ? "" : base);
		*out = whole ? dir : find_child_n(ap->t, dir, base, strlen(base));
	}
	free(p);
	return rc;
}

static int apply_layer(struct apply *ap, struct wh_layer *l, struct wh_error *err)
{
	ap->l = l;
	int rc = 0;
	/* opaque markers hide every lower child, wherever they stand in the tar */
	for (size_t i = 0; i < l->n_entries && rc == 0; i++) {
		const struct wh_entry *e = &l->entries[i];
		if (e->type != WH_T_OPAQUE)
			continue;
		struct wh_node *d;
		rc = marker_target(ap, e, 1, &d, err);
		if (d && d->type == WH_T_DIR)
			for (struct wh_node *c = d->child; c; c = c->next)
				mark_removed(ap, c);
	}
	for (size_t i = 0; i < l->n_entries && rc == 0; i++) {
		const struct wh_entry *e = &l->entries[i];
		if (e->type != WH_T_WHITEOUT)
			continue;
		struct wh_node *n;
		rc = marker_target(ap, e, 0, &n, err);
		/* dive counts a directory whiteout as the bytes it removes */
		((struct wh_entry *)e)->size = (n && n->type == WH_T_DIR) ? subtree_bytes(n) : 0;
		if (n && !(n->changed == ap->layer && n->change == WH_C_ADDED))
			mark_removed(ap, n);
	}
	for (size_t i = 0; i < l->n_entries && rc == 0; i++) {
		const struct wh_entry *e = &l->entries[i];
		if (e->type == WH_T_WHITEOUT || e->type == WH_T_OPAQUE)
			continue;
		rc = apply_entry(ap, e, err);
	}
	if (rc < 0)
		wh_err_prefix(err, "layer %zu: ", ap->layer);
	return rc;
}

static void clear_in_layer(struct wh_node *n)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		c->in_layer = 0;
		if (c->child)
			clear_in_layer(c);
	}
}

static void count_changes(struct wh_node *n, size_t layer, uint64_t *added, uint64_t *modified)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		if (c->changed == layer && c->e) {
			if (c->change == WH_C_ADDED)
				(*added)++;
			else if (c->change == WH_C_MODIFIED)
				(*modified)++;
		}
		if (c->child)
			count_changes(c, layer, added, modified);
	}
}

static void sum_sizes(struct wh_node *n)
{
	uint64_t s = 0;
	uint32_t f = 0;
	for (struct wh_node *c = n->child; c; c = c->next) {
		if (c->type == WH_T_DIR)
			sum_sizes(c);
		else
			c->size = (c->type == WH_T_REG && c->e) ? c->e->size : 0;
		if (!(c->change == WH_C_REMOVED)) {
			s += c->size;
			f += 1 + c->nfiles;
		}
	}
	n->size = s;
	n->nfiles = f;
}

int tree_build(struct wh_tree *t, struct wh_image *img, size_t upto, int keep_removed, struct wh_error *err)
{
	memset(t, 0, sizeof *t);
	arena_init(&t->arena);
	if (img->n_layers == 0)
		return wh_err(err, WH_EINPUT, "%s: the image has no layers", img->reference);
	if (upto >= img->n_layers)
		upto = img->n_layers - 1;
	if (upto > 65534)
		return wh_err(err, WH_EINPUT, "%s: more than 65535 layers", img->reference);
	t->root = arena_alloc(&t->arena, sizeof *t->root);
	memset(t->root, 0, sizeof *t->root);
	t->root->name = "";
	t->root->type = WH_T_DIR;
	t->upto = upto;
	slots_grow(t);
	int stats = (upto == img->n_layers - 1) && !keep_removed;
	for (size_t i = 0; i <= upto; i++) {
		struct apply ap = {.t = t, .layer = i};
		if (i == upto)
			clear_in_layer(t->root);
		if (apply_layer(&ap, &img->layers[i], err) < 0) {
			free(ap.removed_list);
			return err ? err->code : WH_EINPUT;
		}
		/* what is still marked removed at the end of the layer is gone */
		for (size_t k = 0; k < ap.n_removed; k++) {
			struct wh_node *n = ap.removed_list[k];
			if (n->changed == i && n->change == WH_C_REMOVED)
				ap.removed++;
		}
		if (!(keep_removed && i == upto)) {
			for (size_t k = 0; k < ap.n_removed; k++) {
				struct wh_node *n = ap.removed_list[k];
				if (n->change != WH_C_REMOVED || n->changed != i)
					continue;
				/* unlink only the top of each removed subtree */
				if (n->parent->change == WH_C_REMOVED && n->parent->changed == i)
					continue;
				unlink_node(t, n);
			}
		}
		if (stats) {
			uint64_t a = 0, m = 0;
			count_changes(t->root, i, &a, &m);
			img->layers[i].added = a;
			img->layers[i].modified = m;
			img->layers[i].removed = ap.removed;
		}
		free(ap.removed_list);
	}
	sum_sizes(t->root);
	return 0;
}

void tree_free(struct wh_tree *t)
{
	arena_free(&t->arena);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

struct wh_node *tree_lookup(const struct wh_tree *t, const char *path)
{
	struct wh_node *n = t->root;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p && n) {
		const char *s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);
		if (len)
			n = find_child_n(t, n, p, len);
		if (!s)
			break;
		p = s + 1;
	}
	return n;
}

size_t tree_path(const struct wh_node *n, char *out, size_t len)
{
	if (!n->parent) {
		snprintf(out, len, "/");
		return 1;
	}
	const struct wh_node *chain[4096];
	size_t depth = 0;
	for (const struct wh_node *x = n; x->parent && depth < 4096; x = x->parent)
		chain[depth++] = x;
	size_t o = 0;
	for (size_t i = depth; i-- > 0;) {
		size_t nl = strlen(chain[i]->name);
		if (o + 1 + nl + 1 > len)
			break;
		out[o++] = '/';
		memcpy(out + o, chain[i]->name, nl);
		o += nl;
	}
	out[o] = 0;
	return o;
}

typedef int (*node_cmp_fn)(const struct wh_node *, const struct wh_node *);

static struct wh_node *merge_lists(struct wh_node *a, struct wh_node *b, node_cmp_fn cmp)
{
	struct wh_node head, *tail = &head;
	while (a && b) {
		if (cmp(a, b) <= 0) {
			tail->next = a;
			a = a->next;
		} else {
			tail->next = b;
			b = b->next;
		}
		tail = tail->next;
	}
	tail->next = a ? a : b;
	return head.next;
}

/* merge sort of a sibling list: stable, O(n log n), no allocation */
static struct wh_node *sort_list(struct wh_node *h, node_cmp_fn cmp)
{
	if (!h || !h->next)
		return h;
	struct wh_node *slow = h, *fast = h->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	struct wh_node *b = slow->next;
	slow->next = NULL;
	return merge_lists(sort_list(h, cmp), sort_list(b, cmp), cmp);
}

static void sort_rec(struct wh_node *n, node_cmp_fn cmp)
{
	n->child = sort_list(n->child, cmp);
	for (struct wh_node *c = n->child; c; c = c->next)
		if (c->child)
			sort_rec(c, cmp);
}

void tree_sort(struct wh_tree *t, int (*cmp)(const struct wh_node *a, const struct wh_node *b))
{
	sort_rec(t->root, cmp);
}

static int by_name(const struct wh_node *a, const struct wh_node *b)
{
	return strcmp(a->name, b->name);
}

void tree_sort_by_name(struct wh_tree *t)
{
	tree_sort(t, by_name);
}

static int walk_rec(struct wh_node *n, int depth, int (*fn)(void *, struct wh_node *, int), void *ctx)
{
	int r = fn(ctx, n, depth);
	if (r)
		return r;
	for (struct wh_node *c = n->child; c; c = c->next) {
		r = walk_rec(c, depth + 1, fn, ctx);
		if (r)
			return r;
	}
	return 0;
}

int tree_walk(struct wh_node *root, int (*fn)(void *ctx, struct wh_node *n, int depth), void *ctx)
{
	return walk_rec(root, 0, fn, ctx);
}

/* --- what the caps cut short ------------------------------------------------------ */

struct trunc_ctx {
	struct tree_truncated *v;
	size_t n, cap;
};

static int collect_truncated(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	struct trunc_ctx *c = ctx;
	if (!n->e || !(n->e->flags & WH_F_TRUNCATED) || n->change == WH_C_REMOVED)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	char p[PATH_MAX + 2];
	tree_path(n, p, sizeof p);
	c->v[c->n++] = (struct tree_truncated){.path = xstrdup(p), .size = n->e->size,
	                                       .captured = n->e->extra ? n->e->extra->captured : 0};
	return 0;
}

static int cmp_truncated(const void *a, const void *b)
{
	const struct tree_truncated *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->path, y->path);
}

size_t tree_truncated(const struct wh_tree *t, struct tree_truncated **out)
{
	struct trunc_ctx c = {0};
	if (t->root)
		tree_walk(t->root, collect_truncated, &c);
	if (c.n)
		qsort(c.v, c.n, sizeof *c.v, cmp_truncated);
	*out = c.v;
	return c.n;
}

void tree_truncated_free(struct tree_truncated *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
