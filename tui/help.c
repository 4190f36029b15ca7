#include "tui/help.h"

#include <stdio.h>
#include <string.h>

struct help_line {
	const char *keys, *what; /* keys NULL: a section heading */
};

static const struct help_line lines[] = {
	{NULL, "Everywhere"},
	{"Tab / Shift+Tab", "next / previous pane"},
	{"/", "search the file tree (regex on the path); Enter keeps it"},
	{"n / N", "next / previous search match (the rest stays shown)"},
	{"Ctrl+F", "filter the file tree (regex; ancestors of matches stay)"},
	{"Ctrl+B", "show or hide the attributes (mode, uid:gid, size)"},
	{"Ctrl+O", "sort the file tree by name or by size"},
	{"Esc", "close this help or the input line; clear filter and search"},
	{"?", "this help"},
	{"q / Ctrl+C", "quit"},
	{"mouse", "the wheel scrolls the pane under it; a click selects"},
	{NULL, "Layers pane"},
	{"Up Down / k j", "previous / next layer"},
	{"PgUp PgDn / u d", "a page up / down (Home, End: first, last)"},
	{"Ctrl+A", "aggregated view: everything up to the selected layer"},
	{"Ctrl+L", "per-layer view: the selected layer's changes"},
	{NULL, "File tree pane"},
	{"Up Down / k j", "previous / next entry"},
	{"PgUp PgDn / u d", "a page up / down (Home, End: first, last)"},
	{"Left / h", "collapse the directory, or go to the parent"},
	{"Right / l", "expand the directory"},
	{"Space", "collapse or expand the directory"},
	{"Ctrl+Space", "collapse or expand all directories"},
	{"Ctrl+A", "hide or show added entries"},
	{"Ctrl+R", "hide or show removed entries"},
	{"Ctrl+M", "hide or show modified entries"},
	{"Ctrl+U", "hide or show unmodified entries"},
	{"i", "the file type (libmagic) of the entry under the cursor"},
	{NULL, "Slimming"},
	{"s", "slim view: what slimming keeps, and why"},
	{"x", "keep or drop the entry under the cursor"},
	{"z", "undo the last keep or drop"},
	{"p", "packages (dpkg) by size, with the bytes kept"},
	{"w", "write the slimmed image (asks where)"},
	{"markers", "kept, partly kept, removable; K, D: your x"},
	{NULL, "Packages (p)"},
	{"Up Down / k j", "previous / next package (PgUp PgDn: a page)"},
	{"x / z", "keep or drop the package / undo"},
	{"p / Esc", "close"},
	{NULL, "Image details pane"},
	{"Up Down / k j", "scroll (PgUp PgDn / u d: a page)"},
	{NULL, "Colours: added green, modified yellow, removed red; a directory takes its children's."},
};

void help_draw(struct help *h, int sh, int sw)
{
	int n = (int)(sizeof lines / sizeof lines[0]);
	int w = sw - 4 < 78 ? sw - 4 : 78;
	int ht = sh - 2 < n + 3 ? sh - 2 : n + 3;
	if (w < 20 || ht < 5)
		return;
	int x = (sw - w) / 2, y = (sh - ht) / 2;
	for (int i = 0; i < ht; i++)
		crt_fill(y + i, x, w, 0);
	crt_title(y, x, w, "Keys (any other key closes)", 1);
	crt_hline(y + ht - 1, x, w, crt_attr(CRT_DIM));
	crt_vline(y + 1, x, ht - 2, crt_attr(CRT_DIM));
	crt_vline(y + 1, x + w - 1, ht - 2, crt_attr(CRT_DIM));
	int body = ht - 2;
	h->page = body;
	h->n_lines = n;
	if (h->top > n - body)
		h->top = n - body;
	if (h->top < 0)
		h->top = 0;
	for (int i = 0; i < body && h->top + i < n; i++) {
		const struct help_line *l = &lines[h->top + i];
		int ly = y + 1 + i;
		if (!l->keys) {
			crt_put(ly, x + 2, w - 4, l->what, crt_attr(CRT_TITLE));
		} else {
			crt_put(ly, x + 3, 18, l->keys, crt_attr(CRT_BOLD));
			crt_put(ly, x + 22, w - 24, l->what, 0);
		}
	}
	if (n > body) {
		char more[32];
		snprintf(more, sizeof more, " %d/%d ", h->top + body < n ? h->top + body : n, n);
		crt_put(y + ht - 1, x + w - 2 - crt_width(more), crt_width(more), more, crt_attr(CRT_DIM));
	}
}

int help_key(struct help *h, int key)
{
	int page = h->page > 1 ? h->page - 1 : 1;
	switch (key) {
	case CRT_K_UP: case 'k': h->top--; return 1;
	case CRT_K_DOWN: case 'j': h->top++; return 1;
	case CRT_K_PGUP: case 'u': h->top -= page; return 1;
	case CRT_K_PGDN: case 'd': h->top += page; return 1;
	case CRT_K_RESIZE: return 1;
	}
	h->open = 0;
	h->top = 0;
	return 1;
}
