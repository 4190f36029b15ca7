#include "tui/layers_panel.h"

#include <stdio.h>
#include <string.h>

void layers_command(const char *created_by, char *out, size_t len)
{
	const char *s = created_by ? created_by : "";
	char tmp[4096];
	while (*s == ' ')
		s++;
	if (!strncmp(s, "/bin/sh -c ", 11)) {
		s += 11;
		while (*s == ' ')
			s++;
		if (!strncmp(s, "#(nop)", 6)) {
			s += 6;
			snprintf(tmp, sizeof tmp, "%s", s);
		} else {
			snprintf(tmp, sizeof tmp, "RUN %s", s);
		}
	} else {
		snprintf(tmp, sizeof tmp, "%s", s);
	}
	/* fold whitespace runs (tabs, newlines) into one space */
	size_t o = 0;
	int sp = 1;
	for (const char *p = tmp; *p && o + 1 < len; p++) {
		int isspace_ = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
		if (isspace_) {
			if (!sp)
				out[o++] = ' ';
			sp = 1;
		} else {
			out[o++] = *p;
			sp = 0;
		}
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = 0;
	if (!o)
		snprintf(out, len, "(no command recorded)");
}

void layers_panel_draw(struct layers_panel *p, const struct wh_image *img, int aggregated, struct crt_rect r,
                       int focused)
{
	char title[80];
	snprintf(title, sizeof title, "Layers (%s)", aggregated ? "aggregated" : "per layer");
	crt_title(r.y, r.x, r.w, title, focused);
	int body = r.h - 2;
	if (body < 1)
		return;
	crt_put(r.y + 1, r.x, r.w, "  Idx      Size  Command", crt_attr(CRT_DIM) | crt_attr(CRT_BOLD));
	p->page = body;
	if (p->sel < p->top)
		p->top = p->sel;
	if (p->sel >= p->top + (size_t)body)
		p->top = p->sel - (size_t)body + 1;
	for (int i = 0; i < body; i++) {
		size_t li = p->top + (size_t)i;
		if (li >= img->n_layers)
			break;
		const struct wh_layer *l = &img->layers[li];
		int y = r.y + 2 + i;
		int sel = li == p->sel;
		int base = sel ? crt_attr(focused ? CRT_CURSOR : CRT_CURSOR_DIM) : 0;
		if (sel)
			crt_fill(y, r.x, r.w, base);
		int compared = aggregated ? li <= p->sel : li == p->sel;
		int col = crt_put(y, r.x, r.w, compared ? crt_g->mark : " ", base | crt_attr(CRT_ADDED));
		col += crt_put(y, r.x + col, r.w - col, " ", base);
		char size[24], cmd[1024];
		fmt_size(size, sizeof size, l->size_bytes);
		layers_command(l->command, cmd, sizeof cmd);
		col += crt_printf(y, r.x + col, r.w - col, base, "%3zu %9s  ", li, size);
		crt_put(y, r.x + col, r.w - col, cmd, base);
	}
}

static void move(struct layers_panel *p, const struct wh_image *img, long d)
{
	if (!img->n_layers)
		return;
	long s = (long)p->sel + d;
	if (s < 0)
		s = 0;
	if (s >= (long)img->n_layers)
		s = (long)img->n_layers - 1;
	p->sel = (size_t)s;
}

int layers_panel_key(struct layers_panel *p, const struct wh_image *img, int key)
{
	long page = p->page > 1 ? p->page - 1 : 1;
	switch (key) {
	case CRT_K_UP: case 'k': move(p, img, -1); return 1;
	case CRT_K_DOWN: case 'j': move(p, img, 1); return 1;
	case CRT_K_PGUP: case 'u': move(p, img, -page); return 1;
	case CRT_K_PGDN: case 'd': move(p, img, page); return 1;
	case CRT_K_HOME: move(p, img, -(long)img->n_layers); return 1;
	case CRT_K_END: move(p, img, (long)img->n_layers); return 1;
	}
	return 0;
}

void layers_panel_click(struct layers_panel *p, const struct wh_image *img, struct crt_rect r, int y)
{
	long i = (long)p->top + (y - r.y - 2);
	if (i >= 0 && i < (long)img->n_layers)
		p->sel = (size_t)i;
}

void layers_panel_scroll(struct layers_panel *p, const struct wh_image *img, int delta)
{
	move(p, img, delta);
}
