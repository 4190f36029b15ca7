#include "tui/help.h"
#include "tui/keys.h"
#include "analyzer/util.h"

#include <stdio.h>
#include <string.h>

/* The popup's lines, from the key table: each section's heading, then its
 * rows that have a help line. keys NULL: a heading. */
struct help_line {
	const char *keys, *what;
};

static int help_lines(struct help_line *out, int max)
{
	int n = 0;
	for (int s = 0; s < KS_COUNT; s++) {
		if (n < max)
			out[n] = (struct help_line){NULL, tui_key_sections[s]};
		n++;
		for (size_t i = 0; i < tui_n_keys; i++) {
			const struct tui_key *e = &tui_keys[i];
			if (e->section != s || !e->help)
				continue;
			if (n < max)
				out[n] = (struct help_line){e->help_keys, e->help};
			n++;
		}
	}
	return n;
}

void help_draw(struct help *h, int sh, int sw)
{
	struct help_line lines[128];
	int n = help_lines(lines, (int)ARRAY_LEN(lines));
	if (n > (int)ARRAY_LEN(lines))
		n = (int)ARRAY_LEN(lines);
	/* as wide as the longest line needs, up to the terminal's width */
	int need = 0;
	for (int i = 0; i < n; i++) {
		int lw = lines[i].keys ? 22 + crt_width(lines[i].what) + 2 : 2 + crt_width(lines[i].what) + 2;
		if (lw > need)
			need = lw;
	}
	int w = sw - 2 < need ? sw - 2 : need;
	int ht = sh - 2 < n + 3 ? sh - 2 : n + 3;
	if (w < 20 || ht < 5)
		return;
	int x = (sw - w) / 2, y = (sh - ht) / 2;
	crt_frame(y, x, ht, w, "Keys (any other key closes)");
	int body = ht - 2;
	h->page = body;
	h->n_lines = n;
	h->top = crt_clamp_top(h->top, n, body);
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
	crt_frame_more(y + ht - 1, x, w, h->top, body, n);
}

int help_key(struct help *h, int key)
{
	if (key == CRT_K_RESIZE || crt_scroll_key(key, &h->top, h->page))
		return 1;
	h->open = 0;
	h->top = 0;
	return 1;
}
