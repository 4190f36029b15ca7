#include "tui/image_details.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lines {
	struct crt_rect r;
	int first, n, top;
	int y;
};

/* Count the next line of the pane's content and format it into buf;
 * 0 when it is out of view (nothing to draw). */
static int next_line(struct lines *L, char *buf, size_t len, const char *fmt, va_list ap)
{
	int i = L->n++;
	if (i < L->top || L->y >= L->r.y + L->r.h)
		return 0;
	vsnprintf(buf, len, fmt, ap);
	return 1;
}

/* Emit the next line of the pane's content (drawn when in view). */
static void line(struct lines *L, int attr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(struct lines *L, int attr, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int shown = next_line(L, buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (shown)
		crt_put(L->y++, L->r.x, L->r.w, buf, attr);
}

/* The same, with a label in the first 13 columns. */
static void labelled(struct lines *L, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void labelled(struct lines *L, const char *label, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int shown = next_line(L, buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!shown)
		return;
	int lw = 13;
	crt_put(L->y, L->r.x, L->r.w, label, crt_attr(CRT_DIM) | crt_attr(CRT_BOLD));
	crt_put(L->y, L->r.x + lw, L->r.w - lw, buf, 0);
	L->y++;
}

void image_details_draw(struct image_details *d, const struct analysis *a, struct crt_rect r, int focused)
{
	crt_title(r.y, r.x, r.w, "Image details", focused);
	struct crt_rect body = {r.y + 1, r.x, r.h - 1, r.w};
	if (body.h < 1)
		return;
	d->page = body.h;
	if (d->top > d->n_lines - body.h)
		d->top = d->n_lines - body.h;
	if (d->top < 0)
		d->top = 0;
	struct lines L = {.r = body, .top = d->top, .y = body.y};
	const struct wh_image *img = &a->img;
	const struct waste *w = &a->waste;
	char s1[24], s2[24];
	labelled(&L, "Image", "%s", img->reference ? img->reference : "?");
	labelled(&L, "Format", "%s, %s/%s%s%s", img->format ? img->format : "?", img->os ? img->os : "?",
	         img->architecture ? img->architecture : "?", img->variant ? "/" : "", img->variant ? img->variant : "");
	fmt_size(s1, sizeof s1, w->size_bytes);
	labelled(&L, "Total size", "%s in %zu layers", s1, img->n_layers);
	fmt_size(s1, sizeof s1, w->visible_bytes);
	labelled(&L, "Visible", "%s, %llu files", s1, (unsigned long long)w->file_count);
	fmt_size(s1, sizeof s1, w->reclaimable_bytes);
	labelled(&L, "Reclaimable", "%s", s1);
	labelled(&L, "Efficiency", "%.2f %%", w->efficiency * 100.0);
	fmt_size(s1, sizeof s1, w->wasted_bytes);
	labelled(&L, "Wasted", "%s (user wasted %.2f %%)", s1, w->user_wasted_percent * 100.0);
	uint64_t ineff = 0;
	for (size_t i = 0; i < w->n_files; i++)
		ineff += w->files[i].size;
	fmt_size(s1, sizeof s1, ineff);
	line(&L, crt_attr(CRT_BOLD), "Inefficient files: %zu, %s", w->n_files, s1);
	if (w->n_files)
		line(&L, crt_attr(CRT_DIM), "%6s %11s  %s", "Count", "Total size", "Path");
	for (size_t i = 0; i < w->n_files; i++) {
		fmt_size(s1, sizeof s1, w->files[i].size);
		line(&L, 0, "%6u %11s  %s", w->files[i].count, s1, w->files[i].path);
	}
	uint64_t dw = 0;
	for (size_t i = 0; i < w->n_dups; i++)
		dw += w->dups[i].wasted;
	fmt_size(s1, sizeof s1, dw);
	line(&L, crt_attr(CRT_BOLD), "Duplicates: %zu groups, %s wasted", w->n_dups, s1);
	if (w->n_dups)
		line(&L, crt_attr(CRT_DIM), "%6s %11s  %s", "Copies", "Size", "Paths");
	for (size_t i = 0; i < w->n_dups; i++) {
		const struct waste_dup *dup = &w->dups[i];
		char paths[2048];
		size_t o = 0;
		paths[0] = 0;
		for (size_t k = 0; k < dup->n_paths && o + 1 < sizeof paths; k++)
			o += (size_t)snprintf(paths + o, sizeof paths - o, "%s%s", k ? " " : "", dup->paths[k]);
		if (o >= sizeof paths)
			o = sizeof paths - 1;
		fmt_size(s2, sizeof s2, dup->size);
		line(&L, 0, "%6zu %11s  %s", dup->n_paths, s2, paths);
	}
	line(&L, crt_attr(CRT_DIM), "user wasted %%: dive's figure, the wasted bytes over the bytes of the layers");
	line(&L, crt_attr(CRT_DIM), "above the first; it can exceed 100 %%");
	line(&L, crt_attr(CRT_BOLD), "Runs (what slimming starts from)");
	/* what the image runs: what slimming starts from */
	static const char *const run[] = {"Entrypoint", "Cmd"};
	for (size_t i = 0; i < 2; i++) {
		json_t *v = image_config_get(img, run[i]);
		char *j = v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		labelled(&L, run[i], "%s", j ? j : "(none)");
		free(j);
	}
	const char *user = image_config_str(img, "User"), *wd = image_config_str(img, "WorkingDir");
	labelled(&L, "User", "%s", user && *user ? user : "(none: root)");
	labelled(&L, "WorkingDir", "%s", wd && *wd ? wd : "(none: /)");
	d->n_lines = L.n;
	if (L.n > body.h && body.w > 10) {
		/* a hint that there is more */
		char more[48];
		snprintf(more, sizeof more, " %d/%d ", d->top + body.h < L.n ? d->top + body.h : L.n, L.n);
		int mw = crt_width(more);
		crt_put(r.y, r.x + r.w - mw - 1, mw, more, crt_attr(CRT_DIM));
	}
}

int image_details_key(struct image_details *d, int key)
{
	if (!crt_scroll_key(key, &d->top, d->page))
		return 0;
	d->top = crt_clamp_top(d->top, d->n_lines, d->page);
	return 1;
}

void image_details_scroll(struct image_details *d, int delta)
{
	image_details_key(d, delta < 0 ? CRT_K_UP : CRT_K_DOWN);
}
