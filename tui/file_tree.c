#include "tui/file_tree.h"
#include "tui/filetype.h"
#include "tui/slim_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* wh_node.mark bits: the tree is this pane's own (built here), so the
 * mark byte is free for the view. */
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

static int collapsed(const struct file_tree *ft, const struct wh_node *n)
{
	return ft->fold_all ^ !!(n->mark & M_FOLD);
}

static int own_kind(const struct file_tree *ft, const struct wh_node *n)
{
	if (ft->aggregated)
		return n->changed >= 1 ? n->change : WH_C_NONE;
	return tree_change_at(n, ft->layer);
}

/* --- kinds, visibility ------------------------------------------------------ */

static int compute_kinds(const struct file_tree *ft, struct wh_node *n)
{
	int own = own_kind(ft, n);
	int k = own;
	int any = 0;
	for (struct wh_node *c = n->child; c; c = c->next)
		if (compute_kinds(ft, c) != WH_C_NONE)
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

static int compute_vis(struct file_tree *ft, struct wh_node *n, struct pathbuf *p)
{
	int any = 0;
	for (struct wh_node *c = n->child; c; c = c->next) {
		size_t old = path_push(p, c->name);
		if (compute_vis(ft, c, p))
			any = 1;
		path_pop(p, old);
	}
	int vis;
	int k = node_kind(n);
	if (!n->parent) {
		vis = 1;
	} else {
		int match = !ft->has_filter || regexec(&ft->filter, p->s, 0, NULL, 0) == 0;
		if (n->child)
			vis = any || (!ft->hide[k] && (ft->has_filter ? match : own_kind(ft, n) != WH_C_NONE));
		else
			vis = !ft->hide[k] && match;
	}
	n->mark = (uint8_t)(vis ? n->mark | M_VIS : n->mark & ~M_VIS);
	return vis;
}

static void compute_matches(struct file_tree *ft, struct wh_node *n, struct pathbuf *p)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		size_t old = path_push(p, c->name);
		int m = ft->has_search && regexec(&ft->search, p->s, 0, NULL, 0) == 0;
		c->mark = (uint8_t)(m ? c->mark | M_MATCH : c->mark & ~M_MATCH);
		compute_matches(ft, c, p);
		path_pop(p, old);
	}
}

/* --- rows ----------------------------------------------------------------------- */

static void rows_push(struct ft_row **v, size_t *n, size_t *cap, struct wh_node *node, uint32_t depth)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[*n].n = node;
	(*v)[*n].depth = depth;
	(*n)++;
}

static void append_rows(const struct file_tree *ft, struct wh_node *dir, uint32_t depth, struct ft_row **v, size_t *n,
                        size_t *cap)
{
	for (struct wh_node *c = dir->child; c; c = c->next) {
		if (!(c->mark & M_VIS))
			continue;
		rows_push(v, n, cap, c, depth);
		if (c->child && !collapsed(ft, c))
			append_rows(ft, c, depth + 1, v, n, cap);
	}
}

static long find_row(const struct file_tree *ft, const struct wh_node *n)
{
	for (size_t i = 0; i < ft->nrows; i++)
		if (ft->rows[i].n == n)
			return (long)i;
	return -1;
}

/* Put the cursor on n, or on its nearest shown ancestor. */
static void cursor_to(struct file_tree *ft, const struct wh_node *n)
{
	for (; n && n->parent; n = n->parent) {
		long i = find_row(ft, n);
		if (i >= 0) {
			ft->cur = (size_t)i;
			return;
		}
	}
	if (ft->cur >= ft->nrows)
		ft->cur = ft->nrows ? ft->nrows - 1 : 0;
}

static struct wh_node *cursor_node(const struct file_tree *ft)
{
	return ft->cur < ft->nrows ? ft->rows[ft->cur].n : NULL;
}

static void rebuild_rows(struct file_tree *ft)
{
	struct wh_node *keep = cursor_node(ft);
	ft->nrows = 0;
	if (ft->built)
		append_rows(ft, ft->t.root, 0, &ft->rows, &ft->nrows, &ft->cap);
	if (keep)
		cursor_to(ft, keep);
	else
		ft->cur = 0;
	if (ft->cur >= ft->nrows)
		ft->cur = ft->nrows ? ft->nrows - 1 : 0;
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

static void refresh_visibility(struct file_tree *ft)
{
	if (!ft->built)
		return;
	struct pathbuf *p = xmalloc(sizeof *p);
	p->len = 0;
	p->s[0] = 0;
	compute_vis(ft, ft->t.root, p);
	free(p);
	rebuild_rows(ft);
}

static void row_collapse(struct file_tree *ft, size_t i)
{
	struct wh_node *n = ft->rows[i].n;
	if (!n->child || collapsed(ft, n))
		return;
	n->mark ^= M_FOLD;
	size_t j = i + 1;
	while (j < ft->nrows && ft->rows[j].depth > ft->rows[i].depth)
		j++;
	memmove(ft->rows + i + 1, ft->rows + j, (ft->nrows - j) * sizeof *ft->rows);
	ft->nrows -= j - (i + 1);
	if (ft->cur > i && ft->cur < j)
		ft->cur = i;
	else if (ft->cur >= j)
		ft->cur -= j - (i + 1);
}

static void row_expand(struct file_tree *ft, size_t i)
{
	struct wh_node *n = ft->rows[i].n;
	if (!n->child || !collapsed(ft, n))
		return;
	n->mark ^= M_FOLD;
	struct ft_row *sub = NULL;
	size_t ns = 0, cs = 0;
	append_rows(ft, n, ft->rows[i].depth + 1, &sub, &ns, &cs);
	if (ft->nrows + ns > ft->cap) {
		while (ft->nrows + ns > ft->cap)
			ft->cap = ft->cap ? ft->cap * 2 : 1024;
		ft->rows = xrealloc(ft->rows, ft->cap * sizeof *ft->rows);
	}
	memmove(ft->rows + i + 1 + ns, ft->rows + i + 1, (ft->nrows - i - 1) * sizeof *ft->rows);
	if (ns)
		memcpy(ft->rows + i + 1, sub, ns * sizeof *sub);
	ft->nrows += ns;
	if (ft->cur > i)
		ft->cur += ns;
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

static void apply_sort(struct file_tree *ft)
{
	if (ft->sort_size)
		tree_sort(&ft->t, by_size);
	else
		tree_sort_by_name(&ft->t);
}

/* --- building ---------------------------------------------------------------------- */

void file_tree_init(struct file_tree *ft)
{
	memset(ft, 0, sizeof *ft);
	ft->attrs = 1;
}

void file_tree_free(struct file_tree *ft)
{
	if (ft->built)
		tree_free(&ft->t);
	if (ft->has_filter)
		regfree(&ft->filter);
	if (ft->has_search)
		regfree(&ft->search);
	free(ft->rows);
	memset(ft, 0, sizeof *ft);
}

int file_tree_is(const struct file_tree *ft, size_t layer, int aggregated)
{
	return ft->built && ft->layer == layer && ft->aggregated == aggregated;
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

int file_tree_show(struct file_tree *ft, struct wh_image *img, size_t layer, int aggregated, struct wh_error *err)
{
	if (file_tree_is(ft, layer, aggregated))
		return 0;
	/* what to carry over: folds and the cursor, by path */
	struct fold_list fl = {0};
	char cur_path[PATH_BUF] = "";
	size_t old_top_off = ft->cur >= ft->top ? ft->cur - ft->top : 0;
	if (ft->built) {
		collect_folds(ft->t.root, &fl);
		if (cursor_node(ft))
			tree_path(cursor_node(ft), cur_path, sizeof cur_path);
		tree_free(&ft->t);
		ft->built = 0;
	}
	ft->nrows = 0;
	ft->type_node = NULL;
	int rc = tree_build(&ft->t, img, layer, !aggregated, err);
	if (rc < 0) {
		for (size_t i = 0; i < fl.n; i++)
			free(fl.paths[i]);
		free(fl.paths);
		return rc;
	}
	ft->built = 1;
	ft->layer = layer;
	ft->aggregated = aggregated;
	if (!aggregated)
		removed_sizes(ft->t.root, 0);
	apply_sort(ft);
	compute_kinds(ft, ft->t.root);
	for (size_t i = 0; i < fl.n; i++) {
		struct wh_node *n = tree_lookup(&ft->t, fl.paths[i]);
		if (n)
			n->mark |= M_FOLD;
		free(fl.paths[i]);
	}
	free(fl.paths);
	if (ft->has_search) {
		struct pathbuf *p = xmalloc(sizeof *p);
		p->len = 0;
		p->s[0] = 0;
		compute_matches(ft, ft->t.root, p);
		free(p);
	}
	ft->cur = 0;
	refresh_visibility(ft);
	if (cur_path[0]) {
		/* the same path, or its nearest ancestor that exists here */
		struct wh_node *n = NULL;
		char *slash;
		while (!(n = tree_lookup(&ft->t, cur_path)) && (slash = strrchr(cur_path, '/')) && slash != cur_path)
			*slash = 0;
		if (n)
			cursor_to(ft, n);
		ft->top = ft->cur >= old_top_off ? ft->cur - old_top_off : 0;
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
static void reveal(struct file_tree *ft, struct wh_node *n)
{
	int changed = 0;
	for (struct wh_node *a = n->parent; a && a->parent; a = a->parent) {
		if (collapsed(ft, a)) {
			a->mark ^= M_FOLD;
			changed = 1;
		}
	}
	if (changed)
		rebuild_rows(ft);
	long i = find_row(ft, n);
	if (i >= 0)
		ft->cur = (size_t)i;
}

/* dir: 1 next, -1 previous, 0 at the cursor or next */
static void search_go(struct file_tree *ft, int dir)
{
	ft->msg[0] = 0;
	if (!ft->has_search || !ft->built) {
		ft->match_no = ft->n_matches = 0;
		return;
	}
	struct search_walk w = {.cursor = cursor_node(ft)};
	search_rec(&w, ft->t.root);
	ft->n_matches = w.count;
	struct wh_node *to = NULL;
	size_t no = 0;
	if (dir == 0 && w.at) {
		to = w.at;
		no = w.at_no;
	} else if (dir >= 0) {
		to = w.after ? w.after : w.first;
		no = w.after ? w.after_no : 1;
		if (!w.after && w.first)
			snprintf(ft->msg, sizeof ft->msg, "search wrapped to the top");
	} else {
		to = w.before ? w.before : w.last;
		no = w.before ? w.before_no : w.count;
		if (!w.before && w.last)
			snprintf(ft->msg, sizeof ft->msg, "search wrapped to the bottom");
	}
	if (!to) {
		ft->match_no = 0;
		snprintf(ft->msg, sizeof ft->msg, "no match for /%s/", ft->search_src);
		return;
	}
	ft->match_no = no;
	reveal(ft, to);
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

int file_tree_set_search(struct file_tree *ft, const char *re)
{
	if (ft->has_search)
		regfree(&ft->search);
	ft->has_search = 0;
	ft->match_no = ft->n_matches = 0;
	ft->msg[0] = 0;
	snprintf(ft->search_src, sizeof ft->search_src, "%s", re);
	if (*re && compile(&ft->search, re, ft->msg, sizeof ft->msg) == 0)
		ft->has_search = 1;
	if (ft->built) {
		struct pathbuf *p = xmalloc(sizeof *p);
		p->len = 0;
		p->s[0] = 0;
		compute_matches(ft, ft->t.root, p);
		free(p);
	}
	if (ft->has_search)
		search_go(ft, 0);
	return ft->has_search || !*re ? 0 : -1;
}

void file_tree_search_next(struct file_tree *ft, int dir)
{
	if (!ft->has_search) {
		snprintf(ft->msg, sizeof ft->msg, "no search: press / first");
		return;
	}
	search_go(ft, dir);
}

int file_tree_set_filter(struct file_tree *ft, const char *re)
{
	if (ft->has_filter)
		regfree(&ft->filter);
	ft->has_filter = 0;
	ft->msg[0] = 0;
	snprintf(ft->filter_src, sizeof ft->filter_src, "%s", re);
	int rc = 0;
	if (*re) {
		if (compile(&ft->filter, re, ft->msg, sizeof ft->msg) == 0)
			ft->has_filter = 1;
		else
			rc = -1;
	}
	refresh_visibility(ft);
	return rc;
}

void file_tree_toggle_sort(struct file_tree *ft)
{
	ft->sort_size = !ft->sort_size;
	if (ft->built) {
		apply_sort(ft);
		rebuild_rows(ft);
	}
}

void file_tree_toggle_attrs(struct file_tree *ft)
{
	ft->attrs = !ft->attrs;
}

/* --- keys ---------------------------------------------------------------------------- */

static void move(struct file_tree *ft, long delta)
{
	if (!ft->nrows)
		return;
	long c = (long)ft->cur + delta;
	if (c < 0)
		c = 0;
	if (c >= (long)ft->nrows)
		c = (long)ft->nrows - 1;
	ft->cur = (size_t)c;
}

void file_tree_scroll(struct file_tree *ft, int delta)
{
	move(ft, delta);
}

static void toggle_all(struct file_tree *ft)
{
	/* collapse everything unless everything is collapsed already */
	int any_open = 0;
	for (size_t i = 0; i < ft->nrows && !any_open; i++)
		if (ft->rows[i].n->child && !collapsed(ft, ft->rows[i].n))
			any_open = 1;
	ft->fold_all = any_open;
	if (ft->built)
		clear_folds(ft->t.root);
	rebuild_rows(ft);
}

int file_tree_key(struct file_tree *ft, const struct wh_image *img, int key)
{
	(void)img;
	int page = ft->page > 1 ? ft->page - 1 : 1;
	struct wh_node *n = cursor_node(ft);
	ft->msg[0] = 0;
	switch (key) {
	case CRT_K_UP: case 'k': move(ft, -1); return 1;
	case CRT_K_DOWN: case 'j': move(ft, 1); return 1;
	case CRT_K_PGUP: case 'u': move(ft, -page); return 1;
	case CRT_K_PGDN: case 'd': move(ft, page); return 1;
	case CRT_K_HOME: move(ft, -(long)ft->nrows); return 1;
	case CRT_K_END: move(ft, (long)ft->nrows); return 1;
	case CRT_K_LEFT: case 'h':
		if (n && n->child && !collapsed(ft, n)) {
			row_collapse(ft, ft->cur);
		} else if (n && n->parent && n->parent->parent) {
			long i = find_row(ft, n->parent);
			if (i >= 0)
				ft->cur = (size_t)i;
		}
		return 1;
	case CRT_K_RIGHT: case 'l':
		if (n && n->child && collapsed(ft, n))
			row_expand(ft, ft->cur);
		return 1;
	case ' ':
		if (n && n->child) {
			if (collapsed(ft, n))
				row_expand(ft, ft->cur);
			else
				row_collapse(ft, ft->cur);
		}
		return 1;
	case 0: /* ctrl+space */
		toggle_all(ft);
		return 1;
	case CRT_CTRL('a'): ft->hide[WH_C_ADDED] ^= 1; refresh_visibility(ft); return 1;
	case CRT_CTRL('r'): ft->hide[WH_C_REMOVED] ^= 1; refresh_visibility(ft); return 1;
	case CRT_CTRL('m'): ft->hide[WH_C_MODIFIED] ^= 1; refresh_visibility(ft); return 1;
	case CRT_CTRL('u'): ft->hide[WH_C_NONE] ^= 1; refresh_visibility(ft); return 1;
	case 'i':
		ft->show_type = !ft->show_type;
		ft->type_node = NULL;
		return 1;
	case 'n': file_tree_search_next(ft, 1); return 1;
	case 'N': file_tree_search_next(ft, -1); return 1;
	}
	return 0;
}

struct wh_node *file_tree_cursor(const struct file_tree *ft)
{
	return cursor_node(ft);
}

void file_tree_click(struct file_tree *ft, struct crt_rect r, int y)
{
	/* rows start two lines below the pane's top (title, column header) */
	long i = (long)ft->top + (y - r.y - 2);
	if (i >= 0 && i < (long)ft->nrows)
		ft->cur = (size_t)i;
}

/* --- drawing ---------------------------------------------------------------------------- */

static void mode_string(const struct wh_node *n, char out[11])
{
	const struct wh_entry *e = n->e;
	char t = '-';
	switch (n->type) {
	case WH_T_DIR: t = 'd'; break;
	case WH_T_SYMLINK: t = 'l'; break;
	case WH_T_CHR: t = 'c'; break;
	case WH_T_BLK: t = 'b'; break;
	case WH_T_FIFO: t = 'p'; break;
	case WH_T_SOCK: t = 's'; break;
	default: break;
	}
	out[0] = t;
	if (!e) {
		memcpy(out + 1, "?????????", 10);
		return;
	}
	static const char rwx[] = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (e->mode & (0400u >> i)) ? rwx[i] : '-';
	if (e->mode & 04000)
		out[3] = (e->mode & 0100) ? 's' : 'S';
	if (e->mode & 02000)
		out[6] = (e->mode & 010) ? 's' : 'S';
	if (e->mode & 01000)
		out[9] = (e->mode & 01) ? 't' : 'T';
	out[10] = 0;
}

static int kind_attr(int k)
{
	switch (k) {
	case WH_C_ADDED: return crt_attr(CRT_ADDED);
	case WH_C_MODIFIED: return crt_attr(CRT_MODIFIED);
	case WH_C_REMOVED: return crt_attr(CRT_REMOVED);
	default: return crt_attr(CRT_PLAIN);
	}
}

static const char kind_marker[] = " +~-";

static int has_next_visible(const struct wh_node *n)
{
	for (const struct wh_node *s = n->next; s; s = s->next)
		if (s->mark & M_VIS)
			return 1;
	return 0;
}

#define ATTR_W 33 /* "drwxr-xr-x 65534:65534  123.4 kB  " */

static void draw_row(struct file_tree *ft, const struct ft_row *row, int y, int x, int w, int selected, int focused)
{
	const struct wh_node *n = row->n;
	int base = selected ? crt_attr(focused ? CRT_CURSOR : CRT_CURSOR_DIM) : 0;
	if (selected)
		crt_fill(y, x, w, base);
	int col = 0;
	int k = node_kind(n);
	/* the slim view: a marker and a colour for what slimming does to it */
	enum sv_state st = SV_NONE;
	uint64_t kept = 0;
	int sattr = 0;
	if (ft->slim) {
		st = slim_view_state(ft->slim, slim_view_node(ft->slim, n), &kept);
		const char *m = " ";
		int ma = 0;
		switch (st) {
		case SV_KEPT: m = crt_g->kept; ma = crt_attr(CRT_ADDED); break;
		case SV_PARTIAL: m = crt_g->partial; ma = crt_attr(CRT_MODIFIED); break;
		case SV_GONE: m = crt_g->gone; ma = sattr = crt_attr(CRT_GONE); break;
		case SV_USER_KEEP: m = crt_g->user_keep; ma = sattr = crt_attr(CRT_OVERRIDE); break;
		case SV_USER_DROP: m = crt_g->user_drop; ma = sattr = crt_attr(CRT_OVERRIDE); break;
		default: break;
		}
		col += crt_put(y, x + col, w - col, m, ma | base);
		col += crt_put(y, x + col, w - col, " ", base);
	} else if (!crt_colors) {
		char m[3] = {kind_marker[k], ' ', 0};
		col += crt_put(y, x + col, w - col, m, base);
	}
	int attrs = ft->attrs ? (w - col >= ATTR_W + 30 ? 2 : w - col >= ATTR_W ? 1 : 0) : 0;
	if (attrs && ft->slim) {
		char mode[11], size[48], a[24], b[24];
		mode_string(n, mode);
		fmt_size(b, sizeof b, n->size);
		if (n->type == WH_T_DIR) {
			fmt_size(a, sizeof a, kept);
			snprintf(size, sizeof size, "%s/%s", a, b);
		} else if (n->type == WH_T_REG) {
			snprintf(size, sizeof size, "%s", b);
		} else {
			snprintf(size, sizeof size, "-");
		}
		if (attrs == 2)
			col += crt_printf(y, x + col, w - col, base, "%-10s %21s  ", mode, size);
		else
			col += crt_printf(y, x + col, w - col, base, "%19s  ", size);
	} else if (attrs) {
		char mode[11], owner[24] = "", size[24];
		mode_string(n, mode);
		if (n->e)
			snprintf(owner, sizeof owner, "%u:%u", n->e->uid, n->e->gid);
		fmt_size(size, sizeof size, n->size);
		if (n->type != WH_T_REG && n->type != WH_T_DIR)
			snprintf(size, sizeof size, "-");
		if (attrs == 2)
			col += crt_printf(y, x + col, w - col, base, "%-10s %11s %9s  ", mode, owner, size);
		else
			col += crt_printf(y, x + col, w - col, base, "%-10s %9s  ", mode, size);
	}
	/* tree lines: one segment per ancestor, then the node's own connector */
	const struct wh_node *chain[512];
	uint32_t d = row->depth < 512 ? row->depth : 511;
	const struct wh_node *a = n->parent;
	for (uint32_t i = d; i > 0 && a; i--, a = a->parent)
		chain[i - 1] = a;
	int la = crt_attr(CRT_DIM) | base;
	for (uint32_t i = 0; i < d && col < w; i++)
		col += crt_put(y, x + col, w - col, has_next_visible(chain[i]) ? crt_g->vert : crt_g->blank, la);
	int last = !has_next_visible(n);
	int folded = n->child && collapsed(ft, n);
	const char *conn = folded ? (last ? crt_g->fold_last : crt_g->fold_branch) : (last ? crt_g->last : crt_g->branch);
	col += crt_put(y, x + col, w - col, conn, la);
	int na = (ft->slim ? sattr : kind_attr(k)) | base;
	if ((n->mark & M_MATCH) && ft->has_search)
		na |= crt_attr(CRT_MATCH);
	col += crt_put(y, x + col, w - col, n->name, na);
	if (n->e && n->e->link && (n->type == WH_T_SYMLINK || n->type == WH_T_HARDLINK) && col < w) {
		col += crt_put(y, x + col, w - col, n->type == WH_T_SYMLINK ? crt_g->symlink : crt_g->hardlink, la);
		if (n->type == WH_T_HARDLINK)
			col += crt_put(y, x + col, w - col, "/", base);
		crt_put(y, x + col, w - col, n->e->link, base);
	}
}

static void draw_details(struct file_tree *ft, const struct wh_image *img, int y, int x, int w)
{
	const struct wh_node *n = cursor_node(ft);
	if (!n) {
		if (ft->msg[0]) {
			crt_put(y, x, w, ft->msg, crt_attr(CRT_ERROR));
			return;
		}
		crt_put(y, x, w, ft->nrows ? "" : "(nothing to show: check the filter and the hidden kinds)", crt_attr(CRT_DIM));
		return;
	}
	char path[PATH_BUF];
	tree_path(n, path, sizeof path);
	int col = crt_put(y, x, w, path, crt_attr(CRT_BOLD));
	char info[600];
	if (ft->msg[0]) {
		col += crt_put(y, x + col, w - col, "  ", 0);
		crt_put(y, x + col, w - col, ft->msg, crt_attr(CRT_ERROR));
		return;
	}
	if (ft->slim && !ft->show_type) {
		char why[1200];
		slim_view_why(ft->slim, slim_view_node(ft->slim, n), why, sizeof why);
		snprintf(info, sizeof info, "  %s", why);
	} else if (ft->show_type) {
		if (ft->type_node != n) {
			filetype_describe(img, n, ft->type_text, sizeof ft->type_text);
			ft->type_node = n;
		}
		snprintf(info, sizeof info, "  %s", ft->type_text);
	} else {
		char size[24];
		fmt_size(size, sizeof size, n->size);
		const char *what = filetype_kind_name(n);
		if (n->type == WH_T_DIR)
			snprintf(info, sizeof info, "  %s, %u entries, %s, layer %u  (i: file type)", what, n->nfiles, size,
			         n->layer);
		else
			snprintf(info, sizeof info, "  %s, %s, layer %u%s%s  (i: file type)", what, size, n->layer,
			         n->e && n->e->tar_name ? ", tar name " : "", n->e && n->e->tar_name ? n->e->tar_name : "");
	}
	crt_put(y, x + col, w - col, info, crt_attr(CRT_DIM));
}

void file_tree_draw(struct file_tree *ft, const struct wh_image *img, struct crt_rect r, int focused)
{
	char title[160];
	if (ft->slim)
		snprintf(title, sizeof title, "Files: slim view of the final image (layers 0-%zu)", ft->layer);
	else if (ft->built && ft->aggregated)
		snprintf(title, sizeof title, "Files: layers 0-%zu aggregated", ft->layer);
	else
		snprintf(title, sizeof title, "Files: layer %zu changes", ft->layer);
	crt_title(r.y, r.x, r.w, title, focused);
	if (r.h < 4)
		return;
	/* column header, with the sort, hidden kinds, filter and search */
	int hy = r.y + 1;
	int dim = crt_attr(CRT_DIM);
	char head[200];
	int off = crt_colors && !ft->slim ? 0 : 2;
	if (ft->slim && ft->attrs && r.w - off >= ATTR_W + 30)
		snprintf(head, sizeof head, "%*sPermission %21s  Name", off, "", "Kept/Size");
	else if (ft->slim && ft->attrs && r.w - off >= ATTR_W)
		snprintf(head, sizeof head, "%*s%19s  Name", off, "", "Kept/Size");
	else if (ft->attrs && r.w - off >= ATTR_W + 30)
		snprintf(head, sizeof head, "%*sPermission     UID:GID      Size  Name", off, "");
	else if (ft->attrs && r.w - off >= ATTR_W)
		snprintf(head, sizeof head, "%*sPermission      Size  Name", off, "");
	else
		snprintf(head, sizeof head, "%*sName", off, "");
	int col = crt_put(hy, r.x, r.w, head, dim | crt_attr(CRT_BOLD));
	char st[600];
	int o = snprintf(st, sizeof st, "sort: %s%s", ft->sort_size ? "size" : "name",
	                 ft->sort_size ? crt_g->down : crt_g->up);
	static const char *kn[] = {"unmodified", "added", "modified", "removed"};
	int first = 1;
	for (int k = 0; k < 4; k++) {
		if (ft->hide[k]) {
			o += snprintf(st + o, sizeof st - (size_t)o, "%s%s", first ? "  hidden: " : ",", kn[k]);
			first = 0;
		}
	}
	if (ft->has_filter)
		o += snprintf(st + o, sizeof st - (size_t)o, "  filter: %s", ft->filter_src);
	if (ft->has_search)
		o += snprintf(st + o, sizeof st - (size_t)o, "  search: %s (%zu/%zu)", ft->search_src, ft->match_no,
		              ft->n_matches);
	int sw = crt_width(st);
	int avail = r.w - col - 2;
	if (avail > 0) {
		if (sw > avail)
			sw = avail;
		crt_put(hy, r.x + r.w - sw, sw, st, dim);
	}
	int body_y = r.y + 2;
	int body_h = r.h - 3 - (ft->slim ? 1 : 0); /* the details line (and the slim figures) at the bottom */
	if (body_h < 1)
		body_h = 1;
	ft->page = body_h;
	if (!ft->built) {
		crt_put(body_y, r.x + 1, r.w - 1, "building the tree...", dim);
		return;
	}
	if (ft->cur < ft->top)
		ft->top = ft->cur;
	if (ft->cur >= ft->top + (size_t)body_h)
		ft->top = ft->cur - (size_t)body_h + 1;
	if (ft->top + (size_t)body_h > ft->nrows)
		ft->top = ft->nrows > (size_t)body_h ? ft->nrows - (size_t)body_h : 0;
	for (int i = 0; i < body_h; i++) {
		size_t ri = ft->top + (size_t)i;
		if (ri >= ft->nrows)
			break;
		draw_row(ft, &ft->rows[ri], body_y + i, r.x, r.w, ri == ft->cur, focused);
	}
	if (ft->slim) {
		char sum[400];
		slim_view_summary(ft->slim, sum, sizeof sum);
		crt_fill(r.y + r.h - 2, r.x, r.w, crt_attr(CRT_DIM) | crt_attr(CRT_BOLD));
		crt_put(r.y + r.h - 2, r.x, r.w, sum, crt_attr(CRT_TITLE));
	}
	draw_details(ft, img, r.y + r.h - 1, r.x, r.w);
}
