#include "tui/text_popup.h"
#include "analyzer/util.h"

#include <stdlib.h>
#include <string.h>

void text_popup_close(struct text_popup *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->lines[i]);
	free(p->lines);
	free(p->title);
	memset(p, 0, sizeof *p);
}

void text_popup_open(struct text_popup *p, const char *title, const char *text)
{
	text_popup_close(p);
	p->title = xstrdup(title);
	for (const char *s = text; *s;) {
		size_t l = strcspn(s, "\n");
		p->lines = xrealloc(p->lines, (size_t)(p->n + 1) * sizeof *p->lines);
		p->lines[p->n++] = xstrndup(s, l);
		s += l + (s[l] == '\n');
	}
	p->open = 1;
}

/* The bytes of s that fit in w columns (whole UTF-8 characters), at least one character. */
static size_t fit(const char *s, int w)
{
	size_t n = 0;
	int cols = 0;
	while (s[n]) {
		size_t c = 1;
		while (((unsigned char)s[n + c] & 0xc0) == 0x80)
			c++;
		if (cols + 1 > w && n)
			break;
		cols++;
		n += c;
	}
	return n;
}

void text_popup_draw(struct text_popup *p, int sh, int sw)
{
	int w = sw - 2, ht = sh - 2;
	if (w < 20 || ht < 5)
		return;
	int tw = w - 4; /* text columns */
	/* the wrapped rows: (line, offset) */
	int rows = 0;
	for (int i = 0; i < p->n; i++) {
		const char *s = p->lines[i];
		do {
			rows++;
			s += fit(s, tw);
		} while (*s);
	}
	if (ht > rows + 2)
		ht = rows + 2;
	if (ht < 5)
		ht = 5;
	int x = (sw - w) / 2, y = (sh - ht) / 2;
	crt_frame(y, x, ht, w, p->title);
	int body = ht - 2;
	p->page = body;
	p->n_rows = rows;
	p->top = crt_clamp_top(p->top, rows, body);
	int r = 0;
	for (int i = 0; i < p->n; i++) {
		const char *s = p->lines[i];
		int first = 1;
		do {
			size_t l = fit(s, tw);
			if (r >= p->top && r < p->top + body)
				crt_putn(y + 1 + r - p->top, x + 2, tw, s, l, first && i == 0 ? crt_attr(CRT_BOLD) : 0);
			r++;
			s += l;
			first = 0;
		} while (*s);
	}
	crt_frame_more(y + ht - 1, x, w, p->top, body, rows);
}

void text_popup_key(struct text_popup *p, int key)
{
	if (key != CRT_K_RESIZE && !crt_scroll_key(key, &p->top, p->page))
		text_popup_close(p);
}
