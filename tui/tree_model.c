#include "tui/tree_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* wh_node.mark bits: the tree is the model's own (built here), so the
 * mark byte is free for it. */
enum {
	M_KIND = 3,   /* display change (enum wh_change); a directory's from its children */
	M_FOLD = 4,   /* collapse toggled against fold_all */
	M_VIS = 8,    /* shown under the hide flags and the filter */
	M_MATCH = 16, /* matches the search */
};

#define PATH_BUF 8192

static int node_kind(const struct wh_node *n)
{
	return n->mark & M_KIND;
}

static int is_dir(const struct wh_node *n)
{
	return n->type == WH_T_DIR;
}

static int collapsed(const struct tree_model *m, const struct wh_node *n)
{
	return m->fold_all ^ !!(n->mark & M_FOLD);
}

static int own_kind(const struct tree_model *m, const struct wh_node *n)
{
	if (m->aggregated)
		return n->changed >= 1 ? n->change : WH_C_NONE;
	return tree_change_at(n, m->layer);
}

/* --- kinds, visibility ------------------------------------------------------ */

static int compute_kinds(const struct tree_model *m, struct wh_node *n)
{
	int own = own_kind(m, n);
	int k = own;
	int any = 0;
	for (struct wh_node *c = n->child; c; c = c->next)
		if (compute_kinds(m, c) != WH_C_NONE)
			any = 1;
	if (is_dir(n) && own != WH_C_ADDED && own != WH_C_REMOVED && (own == WH_C_MODIFIED || any))
		k = WH_C_MODIFIED;
	n->mark = (uint8_t)((n->mark & ~M_KIND) | k);
	return k;
}

struct pathbuf {
	char s[PATH_BUF];
	size_t len;
};

static size_t path_push(struct pathbuf *p, const char *name)
{
	size_t old = p->len;
	size_t nl = strlen(name);
	if (p->len + 1 + nl + 1 <= sizeof p->s) {
		p->s[p->len++] = '/';
		memcpy(p->s + p->len, name, nl);
		p->len += nl;
	}
	p->s[p->len] = 0;
	return old;
}

static void path_pop(struct pathbuf *p, size_t old)
{
	p->len = old;
	p->s[old] = 0;
}

static int compute_vis(struct tree_model *m, struct wh_node *n, struct pathbuf *p)
{
	int any = 0;
	for (struct wh_node *c = n->child; c; c = c->next) {
		size_t old = path_push(p, c->name);
		if (compute_vis(m, c, p))
			any = 1;
		path_pop(p, old);
	}
	int vis;
	int k = node_kind(n);
	if (!n->parent) {
		vis = 1;
	} else {
		int match = !m->has_filter || regexec(&m->filter, p->s, 0, NULL, 0) == 0;
		if (n->child)
			vis = any || (!m->hide[k] && (m->has_filter ? match : own_kind(m, n) != WH_C_NONE));
		else
			vis = !m->hide[k] && match;
	}
	n->mark = (uint8_t)(vis ? n->mark | M_VIS : n->mark & ~M_VIS);
	return vis;
}

static void compute_matches(struct tree_model *m, struct wh_node *n, struct pathbuf *p)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		size_t old = path_push(p, c->name);
		int hit = m->has_search && regexec(&m->search, p->s, 0, NULL, 0) == 0;
		c->mark = (uint8_t)(hit ? c->mark | M_MATCH : c->mark & ~M_MATCH);
		compute_matches(m, c, p);
		path_pop(p, old);
	}
}

/* The search's marks on every node (the search's regex on each path). */
static void refresh_matches(struct tree_model *m)
{
	struct pathbuf *p = xmalloc(sizeof *p);
	p->len = 0;
	p->s[0] = 0;
	compute_matches(m, m->t.root, p);
	free(p);
}

/* --- rows ----------------------------------------------------------------------- */

static void rows_push(struct tm_row **v, size_t *n, size_t *cap, struct wh_node *node, uint32_t depth)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[*n].n = node;
	(*v)[*n].depth = depth;
	(*n)++;
}

static void append_rows(const struct tree_model *m, struct wh_node *dir, uint32_t depth, struct tm_row **v, size_t *n,
                        size_t *cap)
{
	for (struct wh_node *c = dir->child; c; c = c->next) {
		if (!(c->mark & M_VIS))
			continue;
		rows_push(v, n, cap, c, depth);
		if (c->child && !collapsed(m, c))
			append_rows(m, c, depth + 1, v, n, cap);
	}
}

static long find_row(const struct tree_model *m, const struct wh_node *n)
{
	for (size_t i = 0; i < m->nrows; i++)
		if (m->rows[i].n == n)
			return (long)i;
	return -1;
}

/* Put the cursor on n, or on its nearest shown ancestor. */
static void cursor_to(struct tree_model *m, const struct wh_node *n)
{
	for (; n && n->parent; n = n->parent) {
		long i = find_row(m, n);
		if (i >= 0) {
			m->cur = (size_t)i;
			return;
		}
	}
	if (m->cur >= m->nrows)
		m->cur = m->nrows ? m->nrows - 1 : 0;
}

static struct wh_node *cursor_node(const struct tree_model *m)
{
	return m->cur < m->nrows ? m->rows[m->cur].n : NULL;
}

static void rebuild_rows(struct tree_model *m)
{
	struct wh_node *keep = cursor_node(m);
	m->nrows = 0;
	if (m->built)
		append_rows(m, m->t.root, 0, &m->rows, &m->nrows, &m->cap);
	if (keep)
		cursor_to(m, keep);
	else
		m->cur = 0;
	if (m->cur >= m->nrows)
		m->cur = m->nrows ? m->nrows - 1 : 0;
}

/* A directory the layer removes: its size is what it removes (the merge
 * counts removed entries as 0 beneath their parent). */
static uint64_t removed_sizes(struct wh_node *n, int in_removed)
{
	int removed = in_removed || n->change == WH_C_REMOVED;
	uint64_t s = 0;
	for (struct wh_node *c = n->child; c; c = c->next) {
		uint64_t cs = removed_sizes(c, removed);
		if (removed)
			s += cs;
	}
	if (removed && n->type == WH_T_DIR)
		n->size = s;
	return n->size;
}

static void refresh_visibility(struct tree_model *m)
{
	if (!m->built)
		return;
	struct pathbuf *p = xmalloc(sizeof *p);
	p->len = 0;
	p->s[0] = 0;
	compute_vis(m, m->t.root, p);
	free(p);
	rebuild_rows(m);
}

static void row_collapse(struct tree_model *m, size_t i)
{
	struct wh_node *n = m->rows[i].n;
	if (!n->child || collapsed(m, n))
		return;
	n->mark ^= M_FOLD;
	size_t j = i + 1;
	while (j < m->nrows && m->rows[j].depth > m->rows[i].depth)
		j++;
	memmove(m->rows + i + 1, m->rows + j, (m->nrows - j) * sizeof *m->rows);
	m->nrows -= j - (i + 1);
	if (m->cur > i && m->cur < j)
		m->cur = i;
	else if (m->cur >= j)
		m->cur -= j - (i + 1);
}

static void row_expand(struct tree_model *m, size_t i)
{
	struct wh_node *n = m->rows[i].n;
	if (!n->child || !collapsed(m, n))
		return;
	n->mark ^= M_FOLD;
	struct tm_row *sub = NULL;
	size_t ns = 0, cs = 0;
	append_rows(m, n, m->rows[i].depth + 1, &sub, &ns, &cs);
	if (m->nrows + ns > m->cap) {
		while (m->nrows + ns > m->cap)
			m->cap = m->cap ? m->cap * 2 : 1024;
		m->rows = xrealloc(m->rows, m->cap * sizeof *m->rows);
	}
	memmove(m->rows + i + 1 + ns, m->rows + i + 1, (m->nrows - i - 1) * sizeof *m->rows);
	if (ns)
		memcpy(m->rows + i + 1, sub, ns * sizeof *sub);
	m->nrows += ns;
	if (m->cur > i)
		m->cur += ns;
	free(sub);
}

static void clear_folds(struct wh_node *n)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		c->mark &= (uint8_t)~M_FOLD;
		if (c->child)
			clear_folds(c);
	}
}

/* --- sorting ---------------------------------------------------------------------- */

static int by_size(const struct wh_node *a, const struct wh_node *b)
{
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void apply_sort(struct tree_model *m)
{
	if (m->sort_size)
		tree_sort(&m->t, by_size);
	else
		tree_sort_by_name(&m->t);
}

/* --- building ---------------------------------------------------------------------- */

void tree_model_init(struct tree_model *m)
{
	memset(m, 0, sizeof *m);
}

void tree_model_free(struct tree_model *m)
{
	if (m->built)
		tree_free(&m->t);
	if (m->has_filter)
		regfree(&m->filter);
	if (m->has_search)
		regfree(&m->search);
	free(m->rows);
	memset(m, 0, sizeof *m);
}

int tree_model_is(const struct tree_model *m, size_t layer, int aggregated)
{
	return m->built && m->layer == layer && m->aggregated == aggregated;
}

struct fold_list {
	char **paths;
	size_t n;
};

static void collect_folds(struct wh_node *n, struct fold_list *fl)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		if (c->mark & M_FOLD) {
			char p[PATH_BUF];
			tree_path(c, p, sizeof p);
			fl->paths = xrealloc(fl->paths, (fl->n + 1) * sizeof *fl->paths);
			fl->paths[fl->n++] = xstrdup(p);
		}
		if (c->child)
			collect_folds(c, fl);
	}
}

int tree_model_show(struct tree_model *m, struct wh_image *img, size_t layer, int aggregated, struct wh_error *err)
{
	if (tree_model_is(m, layer, aggregated))
		return 0;
	/* what to carry over: folds and the cursor, by path */
	struct fold_list fl = {0};
	char cur_path[PATH_BUF] = "";
	if (m->built) {
		collect_folds(m->t.root, &fl);
		if (cursor_node(m))
			tree_path(cursor_node(m), cur_path, sizeof cur_path);
		tree_free(&m->t);
		m->built = 0;
	}
	m->nrows = 0;
	int rc = tree_build(&m->t, img, layer, !aggregated, err);
	if (rc < 0) {
		for (size_t i = 0; i < fl.n; i++)
			free(fl.paths[i]);
		free(fl.paths);
		return rc;
	}
	m->built = 1;
	m->layer = layer;
	m->aggregated = aggregated;
	if (!aggregated)
		removed_sizes(m->t.root, 0);
	apply_sort(m);
	compute_kinds(m, m->t.root);
	for (size_t i = 0; i < fl.n; i++) {
		struct wh_node *n = tree_lookup(&m->t, fl.paths[i]);
		if (n)
			n->mark |= M_FOLD;
		free(fl.paths[i]);
	}
	free(fl.paths);
	if (m->has_search) {
		refresh_matches(m);
	}
	m->cur = 0;
	refresh_visibility(m);
	if (cur_path[0]) {
		/* the same path, or its nearest ancestor that exists here */
		struct wh_node *n = NULL;
		char *slash;
		while (!(n = tree_lookup(&m->t, cur_path)) && (slash = strrchr(cur_path, '/')) && slash != cur_path)
			*slash = 0;
		if (n)
			cursor_to(m, n);
	}
	return 0;
}

/* --- search ------------------------------------------------------------------------- */

struct search_walk {
	const struct wh_node *cursor;
	int seen_cursor;
	struct wh_node *first, *last, *before, *after, *at;
	size_t count, at_no, before_no, after_no;
};

static void search_rec(struct search_walk *w, struct wh_node *n)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		if (!(c->mark & M_VIS))
			continue;
		if (c == w->cursor)
			w->seen_cursor = 1;
		if (c->mark & M_MATCH) {
			w->count++;
			if (!w->first)
				w->first = c;
			w->last = c;
			if (c == w->cursor) {
				w->at = c;
				w->at_no = w->count;
			} else if (!w->seen_cursor) {
				w->before = c;
				w->before_no = w->count;
			} else if (!w->after) {
				w->after = c;
				w->after_no = w->count;
			}
		}
		if (c->child)
			search_rec(w, c);
	}
}

/* Expand the collapsed ancestors of n and put the cursor on it. */
static void reveal(struct tree_model *m, struct wh_node *n)
{
	int changed = 0;
	for (struct wh_node *a = n->parent; a && a->parent; a = a->parent) {
		if (collapsed(m, a)) {
			a->mark ^= M_FOLD;
			changed = 1;
		}
	}
	if (changed)
		rebuild_rows(m);
	long i = find_row(m, n);
	if (i >= 0)
		m->cur = (size_t)i;
}

/* dir: 1 next, -1 previous, 0 at the cursor or next */
static void search_go(struct tree_model *m, int dir)
{
	m->msg[0] = 0;
	if (!m->has_search || !m->built) {
		m->match_no = m->n_matches = 0;
		return;
	}
	struct search_walk w = {.cursor = cursor_node(m)};
	search_rec(&w, m->t.root);
	m->n_matches = w.count;
	struct wh_node *to = NULL;
	size_t no = 0;
	if (dir == 0 && w.at) {
		to = w.at;
		no = w.at_no;
	} else if (dir >= 0) {
		to = w.after ? w.after : w.first;
		no = w.after ? w.after_no : 1;
		if (!w.after && w.first)
			snprintf(m->msg, sizeof m->msg, "search wrapped to the top");
	} else {
		to = w.before ? w.before : w.last;
		no = w.before ? w.before_no : w.count;
		if (!w.before && w.last)
			snprintf(m->msg, sizeof m->msg, "search wrapped to the bottom");
	}
	if (!to) {
		m->match_no = 0;
		snprintf(m->msg, sizeof m->msg, "no match for /%s/", m->search_src);
		return;
	}
	m->match_no = no;
	reveal(m, to);
}

static int compile(regex_t *re, const char *src, char *msg, size_t msglen)
{
	int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char e[160];
		regerror(rc, re, e, sizeof e);
		snprintf(msg, msglen, "bad regex: %s", e);
		return -1;
	}
	return 0;
}

int tree_model_set_search(struct tree_model *m, const char *re)
{
	if (m->has_search)
		regfree(&m->search);
	m->has_search = 0;
	m->match_no = m->n_matches = 0;
	m->msg[0] = 0;
	snprintf(m->search_src, sizeof m->search_src, "%s", re);
	if (*re && compile(&m->search, re, m->msg, sizeof m->msg) == 0)
		m->has_search = 1;
	if (m->built) {
		refresh_matches(m);
	}
	if (m->has_search)
		search_go(m, 0);
	return m->has_search || !*re ? 0 : -1;
}

void tree_model_search_next(struct tree_model *m, int dir)
{
	if (!m->has_search) {
		snprintf(m->msg, sizeof m->msg, "no search: press / first");
		return;
	}
	search_go(m, dir);
}

int tree_model_set_filter(struct tree_model *m, const char *re)
{
	if (m->has_filter)
		regfree(&m->filter);
	m->has_filter = 0;
	m->msg[0] = 0;
	snprintf(m->filter_src, sizeof m->filter_src, "%s", re);
	int rc = 0;
	if (*re) {
		if (compile(&m->filter, re, m->msg, sizeof m->msg) == 0)
			m->has_filter = 1;
		else
			rc = -1;
	}
	refresh_visibility(m);
	return rc;
}

void tree_model_toggle_sort(struct tree_model *m)
{
	m->sort_size = !m->sort_size;
	if (m->built) {
		apply_sort(m);
		rebuild_rows(m);
	}
}

/* --- the cursor and the folds ---------------------------------------------------------------------------- */

void tree_model_move(struct tree_model *m, long delta)
{
	if (!m->nrows)
		return;
	long c = (long)m->cur + delta;
	if (c < 0)
		c = 0;
	if (c >= (long)m->nrows)
		c = (long)m->nrows - 1;
	m->cur = (size_t)c;
}

void tree_model_toggle_fold_all(struct tree_model *m)
{
	/* collapse everything unless everything is collapsed already */
	int any_open = 0;
	for (size_t i = 0; i < m->nrows && !any_open; i++)
		if (m->rows[i].n->child && !collapsed(m, m->rows[i].n))
			any_open = 1;
	m->fold_all = any_open;
	if (m->built)
		clear_folds(m->t.root);
	rebuild_rows(m);
}

void tree_model_set_cursor(struct tree_model *m, size_t row)
{
	if (row < m->nrows)
		m->cur = row;
}

void tree_model_left(struct tree_model *m)
{
	struct wh_node *n = cursor_node(m);
	if (n && n->child && !collapsed(m, n)) {
		row_collapse(m, m->cur);
	} else if (n && n->parent && n->parent->parent) {
		long i = find_row(m, n->parent);
		if (i >= 0)
			m->cur = (size_t)i;
	}
}

void tree_model_right(struct tree_model *m)
{
	struct wh_node *n = cursor_node(m);
	if (n && n->child && collapsed(m, n))
		row_expand(m, m->cur);
}

void tree_model_fold(struct tree_model *m)
{
	struct wh_node *n = cursor_node(m);
	if (n && n->child) {
		if (collapsed(m, n))
			row_expand(m, m->cur);
		else
			row_collapse(m, m->cur);
	}
}

void tree_model_toggle_hide(struct tree_model *m, int kind)
{
	if (kind < 0 || kind > 3)
		return;
	m->hide[kind] ^= 1;
	refresh_visibility(m);
}

struct wh_node *tree_model_cursor(const struct tree_model *m)
{
	return cursor_node(m);
}

/* --- for drawing ---------------------------------------------------------------------- */

int tree_model_kind(const struct wh_node *n)
{
	return node_kind(n);
}

int tree_model_collapsed(const struct tree_model *m, const struct wh_node *n)
{
	return n->child && collapsed(m, n);
}

int tree_model_has_next_visible(const struct wh_node *n)
{
	for (const struct wh_node *s = n->next; s; s = s->next)
		if (s->mark & M_VIS)
			return 1;
	return 0;
}

int tree_model_matches(const struct tree_model *m, const struct wh_node *n)
{
	return m->has_search && (n->mark & M_MATCH);
}
