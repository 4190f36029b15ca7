#include "analyzer/waste.h"

#include <stdlib.h>
#include <string.h>

/* Order paths so that a path's descendants follow it directly:
 * compare byte-wise with '/' lower than any other byte. */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
		if (ca == '/')
			ca = 1;
		if (cb == '/')
			cb = 1;
		if (ca != cb || !ca)
			return (int)ca - (int)cb;
	}
}

struct rec {
	const char *path;
	uint64_t size;
	uint32_t order; /* entry index, to keep the last duplicate in a layer */
	uint8_t wh;     /* a whiteout: its own node in dive's layer tree (".wh.NAME") */
};

static int rec_cmp(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;
	int c = path_cmp(a->path, b->path);
	if (c)
		return c;
	if (a->wh != b->wh)
		return a->wh < b->wh ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static uint64_t dive_size(const struct wh_entry *e)
{
	/* regular files count their size; a directory whiteout counts what it
	 * removes (stored on the entry by tree_build); all else 0 */
	return (e->type == WH_T_REG || e->type == WH_T_WHITEOUT) ? e->size : 0;
}

struct agg {
	const char *path;
	uint64_t cum, min;
	uint32_t count;
};

static int agg_path_cmp(const void *x, const void *y)
{
	return path_cmp(((const struct rec *)x)->path, ((const struct rec *)y)->path);
}

static int file_cmp(const void *x, const void *y)
{
	const struct waste_file *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* --- duplicates -------------------------------------------------------------- */

struct fref {
	const struct wh_entry *e;
	const struct wh_node *n;
};

static int fref_cmp(const void *x, const void *y)
{
	const struct fref *a = x, *b = y;
	if (a->e->size != b->e->size)
		return a->e->size < b->e->size ? -1 : 1;
	int c = memcmp(a->e->hash, b->e->hash, sizeof a->e->hash);
	if (c)
		return c;
	return (a->n > b->n) - (a->n < b->n);
}

struct collect {
	struct fref *v;
	size_t n, cap;
	uint64_t visible, count;
};

static int collect_fn(void *ctx, struct wh_node *n, int depth)
{
	struct collect *c = ctx;
	if (depth == 0)
		return 0;
	c->count++;
	if (n->type == WH_T_REG && n->e) {
		c->visible += n->e->size;
		if (n->e->size > 0) {
			if (c->n == c->cap) {
				c->cap = c->cap ? c->cap * 2 : 1024;
				c->v = xrealloc(c->v, c->cap * sizeof *c->v);
			}
			c->v[c->n].e = n->e;
			c->v[c->n].n = n;
			c->n++;
		}
	}
	return 0;
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int dup_cmp(const void *x, const void *y)
{
	const struct waste_dup *a = x, *b = y;
	if (a->wasted != b->wasted)
		return a->wasted > b->wasted ? -1 : 1;
	return strcmp(a->paths[0], b->paths[0]);
}

int waste_compute(const struct wh_image *img, const struct wh_tree *final, struct waste *w, struct wh_error *err)
{
	(void)err;
	memset(w, 0, sizeof *w);
	/* dive's per-path records: the leaves of each layer's own tree */
	size_t total = 0;
	for (size_t i = 0; i < img->n_layers; i++) {
		total += img->layers[i].n_entries;
		w->size_bytes += img->layers[i].size_bytes;
	}
	struct rec *all = xmalloc((total ? total : 1) * sizeof *all);
	size_t nall = 0;
	struct rec *tmp = xmalloc((total ? total : 1) * sizeof *tmp);
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct wh_layer *l = &img->layers[i];
		size_t n = 0;
		for (size_t k = 0; k < l->n_entries; k++) {
			const struct wh_entry *e = &l->entries[k];
			/* an opaque marker is no node of dive's layer tree, but the
			 * directory that holds it is one (without a payload: size 0) */
			if (!e->path[0])
				continue;
			tmp[n].path = e->path;
			tmp[n].size = e->type == WH_T_OPAQUE ? 0 : dive_size(e);
			tmp[n].order = (uint32_t)k;
			tmp[n].wh = e->type == WH_T_WHITEOUT;
			n++;
		}
		qsort(tmp, n, sizeof *tmp, rec_cmp);
		for (size_t k = 0; k < n; k++) {
			/* the same path twice in a layer: the last one stands; but a
			 * whiteout and an entry of the same path are two nodes */
			if (k + 1 < n && tmp[k].wh == tmp[k + 1].wh && !strcmp(tmp[k].path, tmp[k + 1].path))
				continue;
			/* a leaf has nothing beneath it in this layer; a whiteout never has */
			int leaf = 1;
			if (!tmp[k].wh) {
				size_t pl = strlen(tmp[k].path);
				for (size_t j = k + 1; j < n; j++) {
					if (!strcmp(tmp[j].path, tmp[k].path))
						continue;
					leaf = !(strncmp(tmp[j].path, tmp[k].path, pl) == 0 && tmp[j].path[pl] == '/');
					break;
				}
			}
			if (leaf)
				all[nall++] = tmp[k];
		}
	}
	free(tmp);
	qsort(all, nall, sizeof *all, agg_path_cmp);
	uint64_t sum_min = 0, sum_cum = 0;
	size_t capf = 0;
	for (size_t k = 0; k < nall;) {
		size_t j = k;
		uint64_t cum = 0, mn = UINT64_MAX;
		while (j < nall && !strcmp(all[j].path, all[k].path)) {
			cum += all[j].size;
			if (all[j].size < mn)
				mn = all[j].size;
			j++;
		}
		uint32_t count = (uint32_t)(j - k);
		sum_cum += cum;
		sum_min += mn;
		if (count >= 2) {
			if (w->n_files == capf) {
				capf = capf ? capf * 2 : 64;
				w->files = xrealloc(w->files, capf * sizeof *w->files);
			}
			w->files[w->n_files].path = xasprintf("/%s", all[k].path);
			w->files[w->n_files].count = count;
			w->files[w->n_files].size = cum;
			w->n_files++;
			w->wasted_bytes += cum;
		}
		k = j;
	}
	free(all);
	w->efficiency = sum_cum ? (double)sum_min / (double)sum_cum : 1.0;
	if (w->n_files)
		qsort(w->files, w->n_files, sizeof *w->files, file_cmp);
	uint64_t upper = 0;
	for (size_t i = 1; i < img->n_layers; i++)
		upper += img->layers[i].size_bytes;
	w->user_wasted_percent = upper ? (double)w->wasted_bytes / (double)upper : 0.0;

	/* the final filesystem: visible bytes, entries, duplicate contents */
	struct collect c = {0};
	tree_walk(final->root, collect_fn, &c);
	w->visible_bytes = c.visible;
	w->file_count = c.count;
	w->reclaimable_bytes = w->size_bytes > c.visible ? w->size_bytes - c.visible : 0;
	if (c.n)
		qsort(c.v, c.n, sizeof *c.v, fref_cmp);
	size_t capd = 0;
	for (size_t k = 0; k < c.n;) {
		size_t j = k + 1;
		while (j < c.n && c.v[j].e->size == c.v[k].e->size &&
		       !memcmp(c.v[j].e->hash, c.v[k].e->hash, sizeof c.v[k].e->hash))
			j++;
		if (j - k >= 2) {
			if (w->n_dups == capd) {
				capd = capd ? capd * 2 : 64;
				w->dups = xrealloc(w->dups, capd * sizeof *w->dups);
			}
			struct waste_dup *d = &w->dups[w->n_dups++];
			d->size = c.v[k].e->size;
			d->n_paths = j - k;
			d->wasted = d->size * (d->n_paths - 1);
			d->paths = xmalloc(d->n_paths * sizeof *d->paths);
			for (size_t q = k; q < j; q++) {
				char p[4096];
				tree_path(c.v[q].n, p, sizeof p);
				d->paths[q - k] = xstrdup(p);
			}
			qsort(d->paths, d->n_paths, sizeof *d->paths, str_cmp);
		}
		k = j;
	}
	free(c.v);
	if (w->n_dups)
		qsort(w->dups, w->n_dups, sizeof *w->dups, dup_cmp);
	return 0;
}

void waste_free(struct waste *w)
{
	for (size_t i = 0; i < w->n_files; i++)
		free(w->files[i].path);
	free(w->files);
	for (size_t i = 0; i < w->n_dups; i++) {
		for (size_t k = 0; k < w->dups[i].n_paths; k++)
			free(w->dups[i].paths[k]);
		free(w->dups[i].paths);
	}
	free(w->dups);
	memset(w, 0, sizeof *w);
}
