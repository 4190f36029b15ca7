/* pathres: path resolution inside the image tree (see pathres.h). */
#include "analyzer/pathres.h"

#include <stdlib.h>
#include <string.h>

static void push_link(struct pathres *r, struct wh_node *n)
{
	if (r->n_links == r->cap_links) {
		r->cap_links = r->cap_links ? r->cap_links * 2 : 8;
		r->links = xrealloc(r->links, r->cap_links * sizeof *r->links);
	}
	r->links[r->n_links++] = n;
}

void path_walk_init(struct path_walk *w, const char *path, size_t len)
{
	w->rest = xstrndup(path, len);
	w->pos = w->end = 0;
}

char *path_walk_next(struct path_walk *w, size_t *len, int *last)
{
	for (;;) {
		char *r = w->rest;
		while (r[w->pos] == '/')
			w->pos++;
		if (!r[w->pos])
			return NULL;
		size_t start = w->pos, end = start;
		while (r[end] && r[end] != '/')
			end++;
		w->pos = w->end = end;
		if (end - start == 1 && r[start] == '.')
			continue;
		if (last) {
			size_t next = end;
			while (r[next] == '/')
				next++;
			*last = r[next] == 0;
		}
		*len = end - start;
		return r + start;
	}
}

void path_walk_splice(struct path_walk *w, const char *target)
{
	char *nr = xasprintf("%s/%s", target, w->rest + w->end);
	free(w->rest);
	w->rest = nr;
	w->pos = w->end = 0;
}

void path_walk_free(struct path_walk *w)
{
	free(w->rest);
	w->rest = NULL;
}

void pathres_free(struct pathres *r)
{
	free(r->links);
	memset(r, 0, sizeof *r);
}

int pathres_resolve(const struct wh_tree *t, const struct wh_node *base, const char *path, int flags,
                    struct pathres *out, struct wh_error *err)
{
	memset(out, 0, sizeof *out);
	if (!path)
		return 0;
	struct path_walk w;
	path_walk_init(&w, path, strlen(path));
	const struct wh_node *cur = path[0] == '/' || !base ? t->root : base;
	int hops = 0;
	int rc = 0;
	char *comp;
	size_t len;
	int last;
	while ((comp = path_walk_next(&w, &len, &last))) {
		if (cur->type != WH_T_DIR) {
			out->not_dir = 1;
			cur = NULL;
			break;
		}
		if (len == 2 && comp[0] == '.' && comp[1] == '.') {
			if (cur->parent)
				cur = cur->parent;
			continue;
		}
		char save = comp[len];
		comp[len] = 0;
		struct wh_node *c = tree_child(t, cur, comp);
		comp[len] = save;
		if (!c) {
			cur = NULL;
			break;
		}
		if (c->type == WH_T_SYMLINK && (!last || (flags & PATHRES_FOLLOW) || save == '/')) {
			if (++hops > PATHRES_MAX_HOPS) {
				char lp[4096], pp[4096];
				tree_path(c, lp, sizeof lp);
				tree_path(base ? base : t->root, pp, sizeof pp);
				rc = wh_err(err, WH_EINPUT,
				            "resolving %s%s%s in the image: more than %d symbolic links (a loop?), stopped at %s -> %s",
				            path[0] == '/' || !base ? "" : pp, path[0] == '/' || !base || !strcmp(pp, "/") ? "" : "/",
				            path, PATHRES_MAX_HOPS, lp, c->e && c->e->link ? c->e->link : "");
				cur = NULL;
				break;
			}
			push_link(out, c);
			const char *target = c->e && c->e->link ? c->e->link : "";
			path_walk_splice(&w, target);
			if (target[0] == '/')
				cur = t->root;
			/* relative: from the link's directory, which is cur */
			continue;
		}
		cur = c;
	}
	path_walk_free(&w);
	out->node = (struct wh_node *)cur;
	return rc;
}

struct wh_node *pathres_node(const struct wh_tree *t, const struct wh_node *base, const char *path, int flags)
{
	struct pathres r;
	struct wh_error err = {0};
	pathres_resolve(t, base, path, flags, &r, &err); /* a loop leaves r.node NULL */
	struct wh_node *n = r.node;
	pathres_free(&r);
	return n;
}

struct wh_node *pathres_data_node(const struct wh_tree *t, struct wh_node *n)
{
	if (!n || n->type != WH_T_HARDLINK)
		return n;
	if (!n->e || !n->e->link)
		return NULL;
	struct wh_node *d = tree_lookup(t, n->e->link);
	return d && d->type == WH_T_REG ? d : NULL;
}
