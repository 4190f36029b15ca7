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
	/* rest: what is left to walk; grows when a link's target is spliced in */
	size_t cap = strlen(path) + 1;
	char *rest = xmalloc(cap);
	memcpy(rest, path, cap);
	size_t pos = 0;
	const struct wh_node *cur = path[0] == '/' || !base ? t->root : base;
	int hops = 0;
	int rc = 0;
	for (;;) {
		while (rest[pos] == '/')
			pos++;
		if (!rest[pos])
			break;
		size_t end = pos;
		while (rest[end] && rest[end] != '/')
			end++;
		size_t len = end - pos;
		size_t next = end;
		while (rest[next] == '/')
			next++;
		int last = rest[next] == 0;
		if (len == 1 && rest[pos] == '.') {
			pos = end;
			continue;
		}
		if (cur->type != WH_T_DIR) {
			out->not_dir = 1;
			cur = NULL;
			break;
		}
		if (len == 2 && rest[pos] == '.' && rest[pos + 1] == '.') {
			if (cur->parent)
				cur = cur->parent;
			pos = end;
			continue;
		}
		char save = rest[end];
		rest[end] = 0;
		struct wh_node *c = tree_child(t, cur, rest + pos);
		rest[end] = save;
		if (!c) {
			cur = NULL;
			break;
		}
		if (c->type == WH_T_SYMLINK && (!last || (flags & PATHRES_FOLLOW) || rest[end] == '/')) {
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
			size_t tl = strlen(target), rl = strlen(rest + end);
			char *nr = xmalloc(tl + rl + 2);
			memcpy(nr, target, tl);
			nr[tl] = '/';
			memcpy(nr + tl + 1, rest + end, rl + 1);
			free(rest);
			rest = nr;
			pos = 0;
			if (target[0] == '/')
				cur = t->root;
			/* relative: from the link's directory, which is cur */
			continue;
		}
		cur = c;
		pos = end;
	}
	free(rest);
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
