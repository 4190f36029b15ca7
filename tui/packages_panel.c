#include "tui/packages_panel.h"

#include <stdio.h>
#include <string.h>

static const char *state_of(const struct slim_view *sv, const struct sv_pkg *k, int *attr)
{
	int ov = slim_view_override(sv, 1, k->p->name);
	if (ov >= 0) {
		*attr = crt_attr(CRT_OVERRIDE);
		return ov ? "kept by you" : "dropped by you";
	}
	if (!k->kept) {
		*attr = crt_attr(CRT_GONE);
		return k->size ? "removable" : "no bytes";
	}
	if (k->kept < k->size) {
		*attr = crt_attr(CRT_MODIFIED);
		return "partly kept";
	}
	*attr = crt_attr(CRT_ADDED);
	return "kept";
}

void packages_panel_draw(struct packages_panel *p, const struct slim_view *sv, int sh, int sw)
{
	int w = sw - 4 < 96 ? sw - 4 : 96;
	int ht = sh - 4; /* the slim figures, the details line and the key bar stay visible */
	if (w < 30 || ht < 7)
		return;
	int x = (sw - w) / 2, y = 1;
	for (int i = 0; i < ht; i++)
		crt_fill(y + i, x, w, 0);
	char title[120];
	uint64_t kept = 0, size = 0;
	for (size_t i = 0; i < sv->n_pkgs; i++) {
		kept += sv->pkgs[i].kept;
		size += sv->pkgs[i].size;
	}
	snprintf(title, sizeof title, "Packages: %zu (x keep/drop, z undo, p or Esc close)", sv->n_pkgs);
	crt_title(y, x, w, title, 1);
	crt_hline(y + ht - 1, x, w, crt_attr(CRT_DIM));
	crt_vline(y + 1, x, ht - 2, crt_attr(CRT_DIM));
	crt_vline(y + 1, x + w - 1, ht - 2, crt_attr(CRT_DIM));
	int iw = w - 4, ix = x + 2;
	char a[32], b[32];
	fmt_size(a, sizeof a, kept);
	fmt_size(b, sizeof b, size);
	crt_printf(y + 1, ix, iw, crt_attr(CRT_DIM) | crt_attr(CRT_BOLD), "%-36s %10s %10s  %s", "Package", "Size",
	           "Kept", "State");
	int body = ht - 4;
	p->page = body;
	if (!sv->s.have_db || !sv->n_pkgs) {
		crt_put(y + 2, ix, iw, "(no package database in this image: var/lib/dpkg/status, status.d)",
		        crt_attr(CRT_DIM));
	} else {
		if (p->sel >= sv->n_pkgs)
			p->sel = sv->n_pkgs - 1;
		if (p->sel < p->top)
			p->top = p->sel;
		if (p->sel >= p->top + (size_t)body)
			p->top = p->sel - (size_t)body + 1;
		for (int i = 0; i < body && p->top + (size_t)i < sv->n_pkgs; i++) {
			size_t k = p->top + (size_t)i;
			const struct sv_pkg *pk = &sv->pkgs[k];
			int ry = y + 2 + i;
			int base = k == p->sel ? crt_attr(CRT_CURSOR) : 0;
			if (base)
				crt_fill(ry, x + 1, w - 2, base);
			int sa;
			const char *st = state_of(sv, pk, &sa);
			fmt_size(a, sizeof a, pk->size);
			fmt_size(b, sizeof b, pk->kept);
			int col = crt_printf(ry, ix, iw, base, "%-36.36s %10s %10s  ", pk->p->name, a, b);
			crt_put(ry, ix + col, iw - col, st, base ? base : sa);
		}
	}
	/* the foot: totals, or what the last x / z did */
	const char *foot = p->msg;
	char tot[160];
	if (!foot[0]) {
		fmt_size(a, sizeof a, kept);
		fmt_size(b, sizeof b, size);
		snprintf(tot, sizeof tot, "packaged bytes kept: %s of %s", a, b);
		foot = tot;
	}
	crt_put(y + ht - 2, ix, iw, foot, crt_attr(CRT_DIM));
}

int packages_panel_key(struct packages_panel *p, struct slim_view *sv, int key)
{
	size_t n = sv->n_pkgs;
	size_t page = p->page > 1 ? (size_t)p->page - 1 : 1;
	p->msg[0] = 0;
	switch (key) {
	case CRT_K_UP: case 'k': if (p->sel) p->sel--; return 0;
	case CRT_K_DOWN: case 'j': if (p->sel + 1 < n) p->sel++; return 0;
	case CRT_K_PGUP: case 'u': p->sel = p->sel > page ? p->sel - page : 0; return 0;
	case CRT_K_PGDN: case 'd': p->sel = p->sel + page < n ? p->sel + page : (n ? n - 1 : 0); return 0;
	case CRT_K_HOME: p->sel = 0; return 0;
	case CRT_K_END: p->sel = n ? n - 1 : 0; return 0;
	case 'p': case CRT_ESC: p->open = 0; return 0;
	case 'x': {
		if (p->sel >= n)
			return 0;
		/* the list is re-sorted after the change: stay on the package */
		const char *name = sv->pkgs[p->sel].p->name;
		if (slim_view_toggle_pkg(sv, &sv->pkgs[p->sel], p->msg, sizeof p->msg) < 0)
			return 1;
		for (size_t i = 0; i < sv->n_pkgs; i++)
			if (!strcmp(sv->pkgs[i].p->name, name))
				p->sel = i;
		return 0;
	}
	case 'z':
		return slim_view_undo(sv, p->msg, sizeof p->msg) < 0;
	}
	return 0;
}
