#include "tui/layer_details.h"
#include "tui/layers_panel.h"

#include <stdio.h>
#include <string.h>

void layer_details_draw(const struct wh_image *img, size_t layer, struct crt_rect r)
{
	crt_title(r.y, r.x, r.w, "Layer details", 0);
	if (layer >= img->n_layers)
		return;
	const struct wh_layer *l = &img->layers[layer];
	int y = r.y + 1, end = r.y + r.h;
	int lab = crt_attr(CRT_DIM) | crt_attr(CRT_BOLD);
	char size[24];
	fmt_size(size, sizeof size, l->size_bytes);
	const int lw = 9;
#define LINE(label, ...) do { if (y < end) { crt_put(y, r.x, r.w, label, lab); \
		crt_printf(y, r.x + lw, r.w - lw, 0, __VA_ARGS__); y++; } } while (0)
	LINE("Layer", "%zu (of %zu layers), %s", layer, img->n_layers, size);
	LINE("Digest", "%s", l->digest[0] ? l->digest : "-");
	LINE("DiffID", "%s", l->diff_id[0] ? l->diff_id : "-");
	if (y < end) {
		crt_put(y, r.x, r.w, "Changes", lab);
		int col = lw;
		col += crt_printf(y, r.x + col, r.w - col, crt_attr(CRT_ADDED), "%llu added",
		                  (unsigned long long)l->added);
		col += crt_put(y, r.x + col, r.w - col, ", ", 0);
		col += crt_printf(y, r.x + col, r.w - col, crt_attr(CRT_MODIFIED), "%llu modified",
		                  (unsigned long long)l->modified);
		col += crt_put(y, r.x + col, r.w - col, ", ", 0);
		crt_printf(y, r.x + col, r.w - col, crt_attr(CRT_REMOVED), "%llu removed", (unsigned long long)l->removed);
		y++;
	}
#undef LINE
	/* the command, wrapped over what is left */
	char cmd[4096];
	layers_command(l->command, cmd, sizeof cmd);
	if (y < end)
		crt_put(y, r.x, r.w, "Command", lab);
	const char *s = cmd;
	int w = r.w - lw;
	while (y < end && *s && w > 0) {
		size_t n = strlen(s);
		/* how many bytes fit in w columns (ASCII mostly; crt_putn stops at w anyway) */
		size_t take = n;
		if ((int)take > w) {
			take = (size_t)w;
			/* do not cut a UTF-8 character */
			while (take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
				take--;
			if (y + 1 == end) {
				crt_putn(y, r.x + lw, w - 1, s, take, 0);
				crt_put(y, r.x + lw + w - 1, 1, crt_g->ellipsis, crt_attr(CRT_DIM));
				break;
			}
		}
		crt_putn(y, r.x + lw, w, s, take, 0);
		s += take;
		y++;
	}
}
