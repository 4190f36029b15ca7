/* file_tree: the file tree pane's drawing and keys, over its model
 * (tree_model.c: rows, folds, filter, search, sort). */
#include "tui/file_tree.h"
#include "tui/filetype.h"
#include "tui/slim_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_BUF 8192

void file_tree_init(struct file_tree *ft)
{
	memset(ft, 0, sizeof *ft);
	tree_model_init(&ft->m);
	ft->attrs = 1;
}

void file_tree_free(struct file_tree *ft)
{
	tree_model_free(&ft->m);
	memset(ft, 0, sizeof *ft);
}

int file_tree_show(struct file_tree *ft, struct wh_image *img, size_t layer, int aggregated, struct wh_error *err)
{
	struct tree_model *m = &ft->m;
	if (tree_model_is(m, layer, aggregated))
		return 0;
	/* the cursor stays as far from the top of the pane as it was */
	int had_cursor = m->built && tree_model_cursor(m);
	size_t old_top_off = m->cur >= ft->top ? m->cur - ft->top : 0;
	ft->type_node = NULL;
	int rc = tree_model_show(m, img, layer, aggregated, err);
	if (rc == 0 && had_cursor)
		ft->top = m->cur >= old_top_off ? m->cur - old_top_off : 0;
	return rc;
}

void file_tree_toggle_attrs(struct file_tree *ft)
{
	ft->attrs = !ft->attrs;
}

/* --- keys ------------------------------------------------------------------------------- */

void file_tree_scroll(struct file_tree *ft, int delta)
{
	tree_model_move(&ft->m, delta);
}

int file_tree_key(struct file_tree *ft, const struct wh_image *img, int key)
{
	(void)img;
	struct tree_model *m = &ft->m;
	int page = ft->page > 1 ? ft->page - 1 : 1;
	m->msg[0] = 0;
	switch (key) {
	case CRT_K_UP: case 'k': tree_model_move(m, -1); return 1;
	case CRT_K_DOWN: case 'j': tree_model_move(m, 1); return 1;
	case CRT_K_PGUP: case 'u': tree_model_move(m, -page); return 1;
	case CRT_K_PGDN: case 'd': tree_model_move(m, page); return 1;
	case CRT_K_HOME: tree_model_move(m, -(long)m->nrows); return 1;
	case CRT_K_END: tree_model_move(m, (long)m->nrows); return 1;
	case CRT_K_LEFT: case 'h': tree_model_left(m); return 1;
	case CRT_K_RIGHT: case 'l': tree_model_right(m); return 1;
	case ' ': case '\r': case '\n': tree_model_fold(m); return 1;
	case 0: /* ctrl+space */ tree_model_toggle_fold_all(m); return 1;
	case CRT_CTRL('a'): tree_model_toggle_hide(m, WH_C_ADDED); return 1;
	case CRT_CTRL('r'): tree_model_toggle_hide(m, WH_C_REMOVED); return 1;
	case CRT_CTRL('t'): tree_model_toggle_hide(m, WH_C_MODIFIED); return 1;
	case CRT_CTRL('u'): tree_model_toggle_hide(m, WH_C_NONE); return 1;
	case 'i':
		ft->show_type = !ft->show_type;
		ft->type_node = NULL;
		return 1;
	case 'n': tree_model_search_next(m, 1); return 1;
	case 'N': tree_model_search_next(m, -1); return 1;
	}
	return 0;
}

void file_tree_click(struct file_tree *ft, struct crt_rect r, int y)
{
	/* rows start two lines below the pane's top (title, column header),
	 * and below the slim view's uncertain lines */
	long i = (long)ft->top + (y - r.y - 2 - ft->head);
	if (y - r.y - 2 < ft->head)
		return;
	if (i >= 0)
		tree_model_set_cursor(&ft->m, (size_t)i);
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

#define ATTR_W 33 /* "drwxr-xr-x 65534:65534  123.4 kB  " */
#define SHARE_W 18 /* " 42.0% [###     ] ": the share of the parent, as ncdu shows it */

/* The share column: sorted by size, the wide attributes, room beside them. */
static int share_shown(const struct file_tree *ft, int w)
{
	return ft->m.sort_size && !ft->slim && ft->attrs && w >= ATTR_W + SHARE_W + 20;
}

static void draw_row(struct file_tree *ft, const struct tm_row *row, int y, int x, int w, int selected, int focused)
{
	const struct wh_node *n = row->n;
	int base = selected ? crt_attr(focused ? CRT_CURSOR : CRT_CURSOR_DIM) : 0;
	if (selected)
		crt_fill(y, x, w, base);
	int col = 0;
	int k = tree_model_kind(n);
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
		case SV_PROBE: m = crt_g->probe_keep; ma = crt_attr(CRT_ADDED) | crt_attr(CRT_BOLD); break;
		default: break;
		}
		col += crt_put(y, x + col, w - col, m, ma | base);
		col += crt_put(y, x + col, w - col, " ", base);
	} else if (!crt_colors) {
		char m[3] = {kind_marker[k], ' ', 0};
		col += crt_put(y, x + col, w - col, m, base);
	}
	int attrs = ft->attrs ? (w - col >= ATTR_W + 30 ? 2 : w - col >= ATTR_W ? 1 : 0) : 0;
	int share = attrs == 2 && share_shown(ft, w - col);
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
		if (share) {
			uint64_t ps = n->parent ? n->parent->size : n->size;
			double pct = ps ? 100.0 * (double)n->size / (double)ps : 100.0;
			int fill = (int)(pct * 8 / 100 + 0.5);
			char bar[9];
			for (int i = 0; i < 8; i++)
				bar[i] = i < fill ? '#' : ' ';
			bar[8] = 0;
			col += crt_printf(y, x + col, w - col, base, "%5.1f%% [%s] ", pct, bar);
		}
	}
	/* tree lines: one segment per ancestor, then the node's own connector */
	const struct wh_node *chain[512];
	uint32_t d = row->depth < 512 ? row->depth : 511;
	const struct wh_node *a = n->parent;
	for (uint32_t i = d; i > 0 && a; i--, a = a->parent)
		chain[i - 1] = a;
	int la = crt_attr(CRT_DIM) | base;
	for (uint32_t i = 0; i < d && col < w; i++)
		col += crt_put(y, x + col, w - col, tree_model_has_next_visible(chain[i]) ? crt_g->vert : crt_g->blank, la);
	int last = !tree_model_has_next_visible(n);
	int folded = tree_model_collapsed(&ft->m, n);
	const char *conn = folded ? (last ? crt_g->fold_last : crt_g->fold_branch) : (last ? crt_g->last : crt_g->branch);
	col += crt_put(y, x + col, w - col, conn, la);
	int na = (ft->slim ? sattr : kind_attr(k)) | base;
	if (tree_model_matches(&ft->m, n))
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
	const struct wh_node *n = tree_model_cursor(&ft->m);
	if (!n) {
		if (ft->m.msg[0]) {
			crt_put(y, x, w, ft->m.msg, crt_attr(CRT_ERROR));
			return;
		}
		crt_put(y, x, w, ft->m.nrows ? "" : "(nothing to show: check the filter and the hidden kinds)", crt_attr(CRT_DIM));
		return;
	}
	char path[PATH_BUF];
	tree_path(n, path, sizeof path);
	/* a path wider than the pane: its end, the name whole (i shows it all) */
	const char *shown = path;
	int col = 0;
	if (crt_width(path) > w && w > 8) {
		while (*shown && crt_width(shown) > w - 1)
			do
				shown++;
			while (((unsigned char)*shown & 0xc0) == 0x80);
		col = crt_put(y, x, w, crt_g->ellipsis, crt_attr(CRT_BOLD));
	}
	col += crt_put(y, x + col, w - col, shown, crt_attr(CRT_BOLD));
	char info[600];
	if (ft->m.msg[0]) {
		col += crt_put(y, x + col, w - col, "  ", 0);
		crt_put(y, x + col, w - col, ft->m.msg, crt_attr(CRT_ERROR));
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

/* The slim view's uncertain list above the rows (up to UNCERTAIN_SHOWN
 * lines, then how many more; U shows them all), when the pane has room.
 * Returns the lines drawn. */
#define UNCERTAIN_SHOWN 3
static int draw_uncertain(const struct file_tree *ft, int y, int x, int w, int body_h)
{
	size_t n = slim_view_n_uncertain(ft->slim);
	int lines = n > UNCERTAIN_SHOWN ? UNCERTAIN_SHOWN + 1 : (int)n;
	if (!n || body_h - lines < 5)
		return 0;
	int attr = crt_attr(CRT_MODIFIED) | crt_attr(CRT_BOLD);
	char line[2048];
	for (int i = 0; i < lines; i++) {
		if (i == UNCERTAIN_SHOWN)
			snprintf(line, sizeof line, "... %zu more uncertain (U lists them all)", n - UNCERTAIN_SHOWN);
		else
			slim_view_uncertain_line(ft->slim, (size_t)i, line, sizeof line);
		crt_fill(y + i, x, w, 0);
		crt_put(y + i, x + 1, w - 1, line, attr);
	}
	return lines;
}

void file_tree_draw(struct file_tree *ft, const struct wh_image *img, struct crt_rect r, int focused)
{
	char title[600];
	if (ft->slim) {
		char root[400];
		slim_view_root(ft->slim, root, sizeof root);
		snprintf(title, sizeof title, "Files: slim view of the final image (layers 0-%zu), slimming from %s",
		         ft->m.layer, root[0] ? root : "nothing (e names a program)");
	}
	else if (ft->m.built && ft->m.aggregated)
		snprintf(title, sizeof title, "Files: layers 0-%zu aggregated", ft->m.layer);
	else
		snprintf(title, sizeof title, "Files: layer %zu changes", ft->m.layer);
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
	else if (ft->attrs && r.w - off >= ATTR_W + 30 && share_shown(ft, r.w - off))
		snprintf(head, sizeof head, "%*sPermission     UID:GID      Size  Share             Name", off, "");
	else if (ft->attrs && r.w - off >= ATTR_W + 30)
		snprintf(head, sizeof head, "%*sPermission     UID:GID      Size  Name", off, "");
	else if (ft->attrs && r.w - off >= ATTR_W)
		snprintf(head, sizeof head, "%*sPermission      Size  Name", off, "");
	else
		snprintf(head, sizeof head, "%*sName", off, "");
	int col = crt_put(hy, r.x, r.w, head, dim | crt_attr(CRT_BOLD));
	char st[600];
	int o = snprintf(st, sizeof st, "sort: %s%s", ft->m.sort_size ? "size" : "name",
	                 ft->m.sort_size ? crt_g->down : crt_g->up);
	static const char *kn[] = {"unmodified", "added", "modified", "removed"};
	int first = 1;
	for (int k = 0; k < 4; k++) {
		if (ft->m.hide[k]) {
			o += snprintf(st + o, sizeof st - (size_t)o, "%s%s", first ? "  hidden: " : ",", kn[k]);
			first = 0;
		}
	}
	if (ft->m.has_filter)
		o += snprintf(st + o, sizeof st - (size_t)o, "  filter: %s", ft->m.filter_src);
	if (ft->m.has_search)
		o += snprintf(st + o, sizeof st - (size_t)o, "  search: %s (%zu/%zu)", ft->m.search_src, ft->m.match_no,
		              ft->m.n_matches);
	int sw = crt_width(st);
	int avail = r.w - col - 2;
	if (avail > 0) {
		/* too long: its end (the filter and the search) rather than its start */
		const char *shown = st;
		while (*shown && crt_width(shown) > avail)
			do
				shown++;
			while (((unsigned char)*shown & 0xc0) == 0x80);
		sw = crt_width(shown);
		crt_put(hy, r.x + r.w - sw, sw, shown, dim);
	}
	int body_y = r.y + 2;
	int body_h = r.h - 3 - (ft->slim ? 1 : 0); /* the details line (and the slim figures) at the bottom */
	ft->head = ft->slim ? draw_uncertain(ft, body_y, r.x, r.w, body_h) : 0;
	body_y += ft->head;
	body_h -= ft->head;
	if (body_h < 1)
		body_h = 1;
	ft->page = body_h;
	if (!ft->m.built) {
		crt_put(body_y, r.x + 1, r.w - 1, "building the tree...", dim);
		return;
	}
	/* context lines above and below the cursor (after a jump, a search) */
	size_t so = body_h >= 12 ? 3 : body_h >= 6 ? 1 : 0;
	if (ft->m.cur < ft->top + so)
		ft->top = ft->m.cur > so ? ft->m.cur - so : 0;
	if (ft->m.cur + so >= ft->top + (size_t)body_h)
		ft->top = ft->m.cur + so - (size_t)body_h + 1;
	if (ft->top + (size_t)body_h > ft->m.nrows)
		ft->top = ft->m.nrows > (size_t)body_h ? ft->m.nrows - (size_t)body_h : 0;
	if (!ft->m.nrows) {
		char why[200];
		int o = snprintf(why, sizeof why, "nothing to show:");
		static const char *const kn[] = {"unmodified (Ctrl+U)", "added (Ctrl+A)", "modified (Ctrl+T)",
		                                 "removed (Ctrl+R)"};
		int any = 0;
		for (int k = 0; k < 4; k++)
			if (ft->m.hide[k] && o < (int)sizeof why)
				o += snprintf(why + o, sizeof why - (size_t)o, "%s %s", any++ ? "," : " every entry here is hidden:",
				              kn[k]);
		if (ft->m.has_filter && o < (int)sizeof why)
			o += snprintf(why + o, sizeof why - (size_t)o, "%s",
			              any ? "; or the filter matches none" : " the filter matches no entry");
		if (!any && !ft->m.has_filter && o < (int)sizeof why)
			snprintf(why + o, sizeof why - (size_t)o, " this layer changes no file");
		crt_put(body_y, r.x + 1, r.w - 1, why, dim);
	}
	for (int i = 0; i < body_h; i++) {
		size_t ri = ft->top + (size_t)i;
		if (ri >= ft->m.nrows)
			break;
		draw_row(ft, &ft->m.rows[ri], body_y + i, r.x, r.w, ri == ft->m.cur, focused);
	}
	if (ft->slim) {
		char sum[400];
		slim_view_summary(ft->slim, sum, sizeof sum);
		crt_fill(r.y + r.h - 2, r.x, r.w, crt_attr(CRT_DIM) | crt_attr(CRT_BOLD));
		crt_put(r.y + r.h - 2, r.x, r.w, sum, crt_attr(CRT_TITLE));
	}
	draw_details(ft, img, r.y + r.h - 1, r.x, r.w);
}
