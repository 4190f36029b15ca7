/* tui: the explorer. Loads the image with a progress screen, lays out the
 * panes, routes keys and the mouse to them, and owns the input line of
 * the filter and the search. Curses itself is crt's. */
#include "tui/tui.h"

#include <locale.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/transport.h"
#include "tui/crt.h"
#include "tui/file_tree.h"
#include "tui/filetype.h"
#include "tui/help.h"
#include "tui/image_details.h"
#include "tui/keys.h"
#include "tui/layer_details.h"
#include "tui/layers_panel.h"
#include "tui/packages_panel.h"
#include "tui/slim_probe.h"
#include "tui/slim_view.h"
#include "tui/text_popup.h"

/* the input line, or a y/n question (IN_CONFIRM: replace the destination;
 * IN_ASK_DROP: a drop that breaks a need; IN_ASK_QUIT: quit with unwritten
 * keeps and drops); the questions' text is in status */
enum input { IN_NONE, IN_FILTER, IN_SEARCH, IN_WRITE, IN_CONFIRM, IN_ASK_DROP, IN_ASK_QUIT, IN_ROOT, IN_SAVE, IN_PROBE };

struct tui {
	const struct slim_opts *o;
	struct analysis a;
	int aggregated;
	enum tui_pane focus;
	struct layers_panel lp;
	struct image_details id;
	struct file_tree ft;
	struct help help;
	struct slim_view sv;
	int slim;            /* s: the slim view is on */
	struct packages_panel pk;
	struct text_popup detail; /* i in the slim view */
	int exit_code;       /* set to leave the loop with it (an interrupted write) */
	char dest[1024];     /* w: the destination being confirmed */
	enum input input;
	char line[256];      /* the input line */
	char saved[256];     /* the filter or search before editing (esc restores) */
	char status[1024];   /* a one-off message for the key bar */
	struct crt_rect r[N_PANES]; /* each pane's place on the screen */
	struct crt_rect r_details;
	int too_small;
};

/* --- loading --------------------------------------------------------------- */

struct loading {
	const char *image;
	struct timespec start;
};

static double since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void draw_loading(const struct loading *ld, const char *what, size_t done, size_t n, uint64_t bytes,
                         uint64_t total)
{
	int h, w;
	crt_size(&h, &w);
	crt_erase();
	int y = h / 2 - 3;
	if (y < 0)
		y = 0;
	int x = 2, cw = w - 4;
	crt_printf(y, x, cw, crt_attr(CRT_TITLE), "whittle: loading %s", ld->image);
	crt_put(y + 2, x, cw, what, 0);
	if (n) {
		char b[32], t[32], r[32];
		double dt = since(&ld->start);
		fmt_size(b, sizeof b, bytes);
		fmt_size(t, sizeof t, total);
		fmt_size(r, sizeof r, dt > 0.05 ? (uint64_t)((double)bytes / dt) : 0);
		size_t cur = done < n ? done + 1 : n;
		crt_printf(y + 3, x, cw, 0, "layer %zu of %zu   %s of %s   %s/s", cur, n, b, t, r);
		int bw = cw > 60 ? 60 : cw;
		int fillw = total ? (int)((double)bw * (double)bytes / (double)total) : 0;
		if (fillw > bw)
			fillw = bw;
		crt_fill(y + 5, x, bw, crt_attr(CRT_CURSOR_DIM));
		crt_fill(y + 5, x, fillw, crt_attr(CRT_CURSOR));
	}
	crt_put(y + 7, x, cw, "Ctrl+C stops", crt_attr(CRT_DIM));
	crt_refresh();
}

static void on_progress(void *ctx, size_t done, size_t n, uint64_t bytes, uint64_t total)
{
	const struct loading *ld = ctx;
	draw_loading(ld, done >= n ? "merging the layers, measuring waste..." : "reading layers", done, n, bytes,
	             total);
}

/* --- layout and drawing ------------------------------------------------------ */

static void layout(struct tui *t)
{
	int h, w;
	crt_size(&h, &w);
	t->too_small = w < 40 || h < 12;
	int avail = h - 1;
	int lw = w * 2 / 5;
	if (lw < 30)
		lw = 30;
	if (lw > 70)
		lw = 70;
	int nl = (int)t->a.img.n_layers;
	int lh = nl + 2;
	if (lh > avail / 2)
		lh = avail / 2;
	if (lh < 4)
		lh = 4;
	int dh = 7;
	int ih = avail - lh - dh;
	if (ih < 3) {
		ih = 3;
		dh = avail - lh - ih;
		if (dh < 3)
			dh = 3, lh = avail - dh - ih;
	}
	t->r[PANE_LAYERS] = (struct crt_rect){0, 0, lh, lw};
	t->r_details = (struct crt_rect){lh, 0, dh, lw};
	t->r[PANE_IMAGE] = (struct crt_rect){lh + dh, 0, avail - lh - dh, lw};
	t->r[PANE_TREE] = (struct crt_rect){0, lw + 1, avail, w - lw - 1};
}

/* --- the panes ----------------------------------------------------------------- */

/* What the explorer asks of a focusable pane (its place is t->r[pane]). */
struct pane_ops {
	void (*draw)(struct tui *t, struct crt_rect r, int focused);
	void (*key)(struct tui *t, int k);
	void (*click)(struct tui *t, struct crt_rect r, int y); /* a click on screen row y */
	void (*scroll)(struct tui *t, int delta);               /* a wheel step */
};

static void layers_draw(struct tui *t, struct crt_rect r, int focused)
{
	layers_panel_draw(&t->lp, &t->a.img, t->aggregated, r, focused);
	layer_details_draw(&t->a.img, t->lp.sel, t->r_details);
}

static void layers_key(struct tui *t, int k)
{
	layers_panel_key(&t->lp, &t->a.img, k);
}

static void layers_click(struct tui *t, struct crt_rect r, int y)
{
	layers_panel_click(&t->lp, &t->a.img, r, y);
}

static void layers_scroll(struct tui *t, int delta)
{
	layers_panel_scroll(&t->lp, &t->a.img, delta);
}

static void tree_draw(struct tui *t, struct crt_rect r, int focused)
{
	crt_vline(0, r.x - 1, r.h, crt_attr(CRT_DIM));
	file_tree_draw(&t->ft, &t->a.img, r, focused);
}

static void tree_key(struct tui *t, int k)
{
	file_tree_key(&t->ft, &t->a.img, k);
}

static void tree_click(struct tui *t, struct crt_rect r, int y)
{
	file_tree_click(&t->ft, r, y);
}

static void tree_scroll(struct tui *t, int delta)
{
	file_tree_scroll(&t->ft, delta);
}

static void image_draw(struct tui *t, struct crt_rect r, int focused)
{
	image_details_draw(&t->id, &t->a, r, focused);
}

static void image_key(struct tui *t, int k)
{
	image_details_key(&t->id, k);
}

static void image_click(struct tui *t, struct crt_rect r, int y)
{
	(void)t, (void)r, (void)y;
}

static void image_scroll(struct tui *t, int delta)
{
	image_details_scroll(&t->id, delta);
}

static const struct pane_ops panes[N_PANES] = {
	[PANE_LAYERS] = {layers_draw, layers_key, layers_click, layers_scroll},
	[PANE_TREE] = {tree_draw, tree_key, tree_click, tree_scroll},
	[PANE_IMAGE] = {image_draw, image_key, image_click, image_scroll},
};

/* --- drawing ------------------------------------------------------------------ */

/* The key bar's keys for the focused pane and the view, from the key
 * table, in bar order; when they do not all fit, the later ones go first,
 * but "? help" and "q quit" always stay. */
static int bar_shown(const struct tui *t, const struct tui_key *e)
{
	if (!e->bar_pos || (e->pane != PANE_ANY && e->pane != t->focus))
		return 0;
	return !((e->mode == KM_SLIM && !t->slim) || (e->mode == KM_NOT_SLIM && t->slim));
}

static int bar_width(const struct tui_key *e)
{
	return crt_width(e->bar_keys) + 1 + crt_width(e->bar) + 2;
}

static void draw_keys(const struct tui *t, int y, int w)
{
	int must = 0;
	for (size_t i = 0; i < tui_n_keys; i++)
		if (bar_shown(t, &tui_keys[i]) && (tui_keys[i].action == KA_HELP || tui_keys[i].action == KA_QUIT))
			must += bar_width(&tui_keys[i]);
	int col = 0, room = 1;
	for (int pos = 1; pos < 256 && col < w; pos++) {
		for (size_t i = 0; i < tui_n_keys; i++) {
			const struct tui_key *e = &tui_keys[i];
			if (e->bar_pos != pos || !bar_shown(t, e))
				continue;
			int kept = e->action == KA_HELP || e->action == KA_QUIT;
			if (!kept && (!room || col + bar_width(e) + must > w)) {
				room = 0;
				continue;
			}
			if (kept)
				must -= bar_width(e);
			col += crt_put(y, col, w - col, e->bar_keys, crt_attr(CRT_KEY));
			col += crt_put(y, col, w - col, " ", crt_attr(CRT_BAR));
			col += crt_put(y, col, w - col, e->bar, crt_attr(CRT_BAR));
			col += crt_put(y, col, w - col, "  ", crt_attr(CRT_BAR));
		}
	}
}

static void draw_bar(struct tui *t, int y, int w)
{
	crt_fill(y, 0, w, crt_attr(CRT_BAR));
	if (t->input == IN_CONFIRM) {
		int col = crt_put(y, 0, w, t->dest, crt_attr(CRT_KEY));
		crt_put(y, col, w - col, " exists: replace it? y/N", crt_attr(CRT_KEY));
		return;
	}
	if (t->input == IN_ASK_DROP || t->input == IN_ASK_QUIT) {
		/* the question's end stays visible on a narrow terminal */
		const char *ask = t->input == IN_ASK_DROP ? " Drop it anyway? y/n" : " Quit anyway? y/N";
		int aw = crt_width(ask);
		size_t sl = strlen(t->status), al = strlen(ask);
		char q[sizeof t->status];
		snprintf(q, sizeof q, "%.*s", (int)(sl >= al && !strcmp(t->status + sl - al, ask) ? sl - al : sl), t->status);
		crt_put(y, 0, w > aw ? w - aw : 0, q, crt_attr(CRT_KEY));
		int col = crt_width(q) < w - aw ? crt_width(q) : w - aw;
		crt_put(y, col > 0 ? col : 0, w, ask, crt_attr(CRT_KEY));
		return;
	}
	if (t->input != IN_NONE) {
		const char *label = t->input == IN_FILTER  ? "Filter (regex): "
		                    : t->input == IN_WRITE ? "Write the slimmed image to: "
		                    : t->input == IN_ROOT  ? "Slim from (entrypoint and cmd: words or a JSON array): "
		                    : t->input == IN_SAVE  ? "Save your keeps and drops (--keep-from file) to: "
		                    : t->input == IN_PROBE ? "Probe (a command run in the image's sandbox: words or a JSON array): "
		                                           : "Search (regex): ";
		int col = crt_put(y, 0, w, label, crt_attr(CRT_KEY));
		col += crt_put(y, col, w - col, t->line, crt_attr(CRT_BAR));
		crt_put(y, col, w - col, "_", crt_attr(CRT_KEY));
		const char *hint = t->input == IN_WRITE  ? "  Enter write  Esc cancel"
		                   : t->input == IN_ROOT ? "  Enter recompute  Esc cancel"
		                   : t->input == IN_SAVE ? "  Enter save  Esc cancel"
		                   : t->input == IN_PROBE ? "  Enter run  Esc cancel"
		                                         : "  Enter keep  Esc cancel";
		int hw = crt_width(hint);
		if (col + 2 + hw < w)
			crt_put(y, w - hw, hw, hint, crt_attr(CRT_BAR));
		return;
	}
	if (t->status[0]) {
		crt_put(y, 0, w, t->status, crt_attr(CRT_BAR));
		return;
	}
	draw_keys(t, y, w);
}

static void draw(struct tui *t)
{
	int h, w;
	crt_size(&h, &w);
	crt_erase();
	layout(t);
	if (t->too_small) {
		crt_put(0, 0, w, "whittle needs at least 40x12", crt_attr(CRT_ERROR));
		crt_printf(1, 0, w, 0, "this terminal is %dx%d", w, h);
		crt_refresh();
		return;
	}
	for (int p = 0; p < N_PANES; p++)
		panes[p].draw(t, t->r[p], (int)t->focus == p);
	draw_bar(t, h - 1, w);
	if (t->pk.open)
		packages_panel_draw(&t->pk, &t->sv, h, w);
	if (t->detail.open)
		text_popup_draw(&t->detail, h, w);
	if (t->help.open)
		help_draw(&t->help, h, w);
	crt_refresh();
}

/* Build the file tree the layer selection asks for (unless more keys wait:
 * the next one may change the selection again). */
/* The slim view shows the final image: the last layer, aggregated. */
static size_t tree_layer(const struct tui *t)
{
	return t->slim ? t->a.img.n_layers - 1 : t->lp.sel;
}

static int tree_aggregated(const struct tui *t)
{
	return t->slim ? 1 : t->aggregated;
}

static int tree_current(const struct tui *t)
{
	return tree_model_is(&t->ft.m, tree_layer(t), tree_aggregated(t));
}

static void sync_tree(struct tui *t, int force)
{
	if (tree_current(t))
		return;
	if (!force && crt_key_pending())
		return;
	struct wh_error err = {0};
	if (file_tree_show(&t->ft, &t->a.img, tree_layer(t), tree_aggregated(t), &err) < 0)
		snprintf(t->status, sizeof t->status, "%s", err.msg);
}

/* --- slimming ---------------------------------------------------------------- */

/* Reachability and the plan, computed the first time they are needed. */
static int slim_ready(struct tui *t)
{
	if (t->sv.ready)
		return 0;
	if (!t->a.img.n_layers) {
		snprintf(t->status, sizeof t->status, "this image has no layers: nothing to slim");
		return -1;
	}
	snprintf(t->status, sizeof t->status, "computing reachability%s", crt_g->ellipsis);
	draw(t);
	if (slim_view_compute(&t->sv) < 0) {
		snprintf(t->status, sizeof t->status, "reachability: %s", t->sv.err);
		return -1;
	}
	if (slim_probe_pending(&t->sv)) {
		snprintf(t->status, sizeof t->status, "running the command line's probes in the sandbox%s",
		         crt_g->ellipsis);
		draw(t);
		char *text = NULL;
		int rc = slim_probe_run_given(&t->sv, &text, t->status, sizeof t->status);
		if (text)
			text_popup_open(&t->detail, "Probes: the command line's (any other key closes)", text);
		free(text);
		if (rc == WH_EINTR)
			t->exit_code = WH_EXIT_INTERRUPTED;
		return t->sv.ready ? 0 : -1;
	}
	char b[32], in[32];
	fmt_size(b, sizeof b, t->sv.fig.bytes);
	fmt_size(in, sizeof in, t->sv.fig.input_bytes);
	snprintf(t->status, sizeof t->status, "slimmed, the image would keep %llu of %llu files, %s of %s (worked out in %.0f ms)",
	         (unsigned long long)t->sv.fig.files, (unsigned long long)t->sv.fig.input_files, b, in,
	         (t->sv.s.t_reach + t->sv.s.t_plan) * 1e3);
	return 0;
}

static void slim_toggle(struct tui *t)
{
	if (t->slim) {
		t->slim = 0;
		t->ft.slim = NULL;
		return;
	}
	if (slim_ready(t) < 0)
		return;
	t->slim = 1;
	t->ft.slim = &t->sv;
	t->focus = PANE_TREE;
}

/* Where a destination reference writes (as the writer parses it): the
 * file of oci-archive:/docker-archive:/a bare path, NULL for oci: (a
 * layout is added to, nothing is replaced). */
static int dest_file_exists(const char *ref)
{
	const char *rest = ref;
	if (!strncmp(ref, "oci:", 4))
		return 0;
	if (!strncmp(ref, "oci-archive:", 12))
		rest = ref + 12;
	else if (!strncmp(ref, "docker-archive:", 15))
		rest = ref + 15;
	struct stat st;
	if (stat(rest, &st) == 0)
		return !S_ISDIR(st.st_mode);
	char path[1024];
	snprintf(path, sizeof path, "%.*s", (int)strcspn(rest, ":"), rest);
	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The write's progress on the key bar: only that line is drawn again (the
 * write runs on this thread; the writer calls this at most ~10 times a
 * second). */
struct write_ui {
	struct tui *t;
	const char *dest;
	int phase;
	struct timespec start; /* of the phase */
};

static void write_progress(void *ctx, enum slim_phase phase, size_t layer, size_t n_layers, uint64_t bytes,
                           uint64_t total)
{
	struct write_ui *wu = ctx;
	if ((int)phase != wu->phase) {
		wu->phase = (int)phase;
		clock_gettime(CLOCK_MONOTONIC, &wu->start);
	}
	double dt = since(&wu->start);
	char what[64], b[32], tt[32], r[32];
	slim_phase_label(what, sizeof what, phase, layer, n_layers);
	fmt_size(b, sizeof b, bytes);
	fmt_size(tt, sizeof tt, total);
	fmt_size(r, sizeof r, dt > 0.05 ? (uint64_t)((double)bytes / dt) : 0);
	snprintf(wu->t->status, sizeof wu->t->status, "%s  %s / %s  %s/s  (writing %s)", what, b, tt, r,
	         wu->dest);
	int h, w;
	crt_size(&h, &w);
	if (wu->t->too_small || h < 1)
		return;
	draw_bar(wu->t, h - 1, w);
	crt_refresh();
}

/* The proof failed: its details (which probe, the first differing lines,
 * the paths the slimmed run could not find) in the popup. */
static void proof_failed(struct tui *t, const char *details, const char *msg)
{
	char *text = xasprintf("%s\n%s%s\n\n(any key but the arrows, j k, PgUp PgDn closes)", msg,
	                       details && details[0] ? "\n" : "", details ? details : "");
	text_popup_open(&t->detail, "The proof failed: nothing was written (any other key closes)", text);
	free(text);
}

static void slim_write(struct tui *t, const char *dest, int force)
{
	size_t np = t->sv.s.probes.n;
	int proof = np && !t->sv.opts.probe.no_verify;
	snprintf(t->status, sizeof t->status, "writing %s%s (reading the layers again, then verifying%s)", dest,
	         crt_g->ellipsis, proof ? "; then the proof: the probes run again on the output" : "");
	draw(t);
	struct write_ui wu = {.t = t, .dest = dest, .phase = -1};
	struct slim_image_opts io = {.output = dest, .compression = t->o->compression, .force = force,
	                             .jobs = t->o->jobs, .progress = {.cb = write_progress, .ctx = &wu}};
	char *details = NULL;
	size_t dlen = 0;
	FILE *df = proof ? open_memstream(&details, &dlen) : NULL;
	slim_probe_proof(&t->sv, &io, df);
	struct slim_result res;
	struct wh_error err = {0};
	int rc = slim_image_write(&t->a, &t->sv.s.plan, &io, &res, &err);
	if (df)
		fclose(df);
	char pl[1024];
	slim_probe_proof_line(&t->sv, rc, err.msg, pl, sizeof pl);
	if (rc == WH_EINTR) {
		t->exit_code = WH_EXIT_INTERRUPTED;
	} else if (rc < 0 && !strncmp(pl, "proof failed", 12)) {
		snprintf(t->status, sizeof t->status, "%s", pl);
		proof_failed(t, details, err.msg);
	} else if (rc < 0) {
		snprintf(t->status, sizeof t->status, "not written: %s", err.msg);
	} else {
		t->sv.unsaved = 0;
		const struct slim_plan *p = &t->sv.s.plan;
		char a[32], b[32];
		fmt_size(a, sizeof a, p->input_bytes);
		fmt_size(b, sizeof b, res.visible_bytes);
		snprintf(t->status, sizeof t->status, "%s%swrote %s: visible %s%s%s (%llu B, ratio %.3f), %llu entries", pl,
		         pl[0] ? "; " : "", res.output, a, crt_g->arrow, b, (unsigned long long)res.visible_bytes,
		         p->input_bytes ? (double)res.visible_bytes / (double)p->input_bytes : 0.0,
		         (unsigned long long)res.entries);
		slim_result_free(&res);
	}
	free(details);
}

static void write_start(struct tui *t)
{
	if (slim_ready(t) < 0)
		return;
	char *def = t->o->output ? xstrdup(t->o->output) : slim_default_output(&t->a.img);
	snprintf(t->saved, sizeof t->saved, "%s", "");
	snprintf(t->line, sizeof t->line, "%s", def);
	free(def);
	t->status[0] = 0;
	t->input = IN_WRITE;
}

static void write_enter(struct tui *t)
{
	t->input = IN_NONE;
	if (!t->line[0]) {
		snprintf(t->status, sizeof t->status, "not written: no destination");
		return;
	}
	snprintf(t->dest, sizeof t->dest, "%s", t->line);
	struct wh_error err = {0};
	if (transport_check_output(t->dest, "the destination", &err) < 0) {
		snprintf(t->status, sizeof t->status, "not written: %s", err.msg);
		return;
	}
	if (dest_file_exists(t->dest) && !t->o->force) {
		t->input = IN_CONFIRM;
		return;
	}
	slim_write(t, t->dest, t->o->force);
}

/* r: the probe typed runs (the probes before it again), then its output
 * in the popup */
static void probe_enter(struct tui *t)
{
	char line[sizeof t->line];
	snprintf(line, sizeof line, "%s", t->line);
	snprintf(t->status, sizeof t->status, "running probe `%s` in the sandbox%s (each probe at most %.0f s)", line,
	         crt_g->ellipsis, t->sv.opts.probe.timeout_s > 0 ? t->sv.opts.probe.timeout_s : 60.0);
	draw(t);
	char *text = NULL;
	int rc = slim_probe_run(&t->sv, line, &text, t->status, sizeof t->status);
	if (rc == WH_EINTR)
		t->exit_code = WH_EXIT_INTERRUPTED;
	if (text)
		text_popup_open(&t->detail, "Probe: its exit status, what it kept, its output (any other key closes)", text);
	free(text);
}

/* --- input line ------------------------------------------------------------ */

static void input_apply(struct tui *t)
{
	if (t->input == IN_FILTER)
		tree_model_set_filter(&t->ft.m, t->line);
	else if (t->input == IN_SEARCH)
		tree_model_set_search(&t->ft.m, t->line);
}

static void input_start(struct tui *t, enum input in)
{
	t->input = in;
	t->focus = PANE_TREE;
	const char *cur = in == IN_FILTER ? t->ft.m.filter_src : t->ft.m.search_src;
	snprintf(t->saved, sizeof t->saved, "%s", cur);
	snprintf(t->line, sizeof t->line, "%s", in == IN_FILTER ? cur : "");
}

/* Returns 1 to quit. */
static int input_key(struct tui *t, int key)
{
	size_t n = strlen(t->line);
	if (key == CRT_CTRL('c'))
		return 1;
	if (t->input == IN_ASK_QUIT) {
		t->input = IN_NONE;
		if (key == 'y' || key == 'Y')
			return 1;
		snprintf(t->status, sizeof t->status, "not quit: w writes the slimmed image, K saves your keeps and drops");
		return 0;
	}
	if (t->input == IN_ASK_DROP) {
		t->input = IN_NONE;
		if (slim_view_confirm(&t->sv, key == 'y' || key == 'Y', t->status, sizeof t->status) < 0)
			snprintf(t->status, sizeof t->status, "slimming: %s", t->sv.err);
		return 0;
	}
	if (t->input == IN_CONFIRM) {
		t->input = IN_NONE;
		if (key == 'y' || key == 'Y')
			slim_write(t, t->dest, 1);
		else
			snprintf(t->status, sizeof t->status, "not written: %s exists", t->dest);
		return 0;
	}
	if (t->input == IN_WRITE && (key == '\r' || key == '\n')) {
		write_enter(t);
		return 0;
	}
	if (t->input == IN_WRITE && key == CRT_ESC) {
		t->input = IN_NONE;
		snprintf(t->status, sizeof t->status, "not written");
		return 0;
	}
	if (t->input == IN_PROBE && (key == '\r' || key == '\n' || key == CRT_ESC)) {
		t->input = IN_NONE;
		if (key == CRT_ESC)
			snprintf(t->status, sizeof t->status, "no probe run");
		else
			probe_enter(t);
		return 0;
	}
	if ((t->input == IN_ROOT || t->input == IN_SAVE) && (key == '\r' || key == '\n' || key == CRT_ESC)) {
		enum input in = t->input;
		t->input = IN_NONE;
		if (key == CRT_ESC)
			snprintf(t->status, sizeof t->status, in == IN_ROOT ? "not changed" : "not saved");
		else if (in == IN_ROOT)
			slim_view_set_root(&t->sv, t->line, t->status, sizeof t->status);
		else if (!t->line[0])
			snprintf(t->status, sizeof t->status, "not saved: no file name");
		else
			slim_view_save(&t->sv, t->line, t->status, sizeof t->status);
		return 0;
	}
	if (key == CRT_ESC) {
		snprintf(t->line, sizeof t->line, "%s", t->saved);
		input_apply(t);
		t->input = IN_NONE;
		return 0;
	}
	if (key == '\r' || key == '\n') {
		input_apply(t);
		t->input = IN_NONE;
		return 0;
	}
	if (key == CRT_K_BACKSPACE) {
		if (n) {
			/* drop a whole UTF-8 character */
			do
				n--;
			while (n && ((unsigned char)t->line[n] & 0xc0) == 0x80);
			t->line[n] = 0;
		}
	} else if (key == CRT_CTRL('u')) {
		t->line[0] = 0;
	} else if (key >= 0x20 && key < 0x100 && key != 0x7f && n + 1 < sizeof t->line) {
		t->line[n] = (char)key;
		t->line[n + 1] = 0;
	} else {
		return 0;
	}
	/* live: skip the work while the user is still typing */
	if (!crt_key_pending())
		input_apply(t);
	return 0;
}

/* --- keys and mouse -------------------------------------------------------- */

static void mouse(struct tui *t)
{
	int y, x;
	enum crt_mouse_kind k = crt_mouse(&y, &x);
	if (k == CRT_MOUSE_NONE)
		return;
	int delta = k == CRT_MOUSE_WHEEL_UP ? -3 : 3;
	for (int p = 0; p < N_PANES; p++) {
		if (!crt_in(&t->r[p], y, x))
			continue;
		if (k == CRT_MOUSE_CLICK) {
			t->focus = (enum tui_pane)p;
			panes[p].click(t, t->r[p], y);
		} else {
			panes[p].scroll(t, delta);
		}
		return;
	}
}

/* --- the actions of the key table (keys.c); each returns 1 to quit ----------- */

/* q asks first when keeps or drops would be lost; Ctrl+C quits at once */
static int act_quit(struct tui *t, int k)
{
	if (k == CRT_CTRL('c') || !t->sv.unsaved || !t->sv.n_ov)
		return 1;
	t->help.open = 0;
	t->pk.open = 0;
	snprintf(t->status, sizeof t->status, "%zu keep/drop choice%s of yours %s not written or saved. Quit anyway? y/N",
	         t->sv.n_ov, t->sv.n_ov == 1 ? "" : "s", t->sv.n_ov == 1 ? "is" : "are");
	t->input = IN_ASK_QUIT;
	return 0;
}

/* Tab, Shift+Tab: the layers and the file tree, in turn (as dive); from
 * the image details back to the layers */
static int act_pane_cycle(struct tui *t, int k)
{
	(void)k;
	t->focus = t->focus == PANE_LAYERS ? PANE_TREE : PANE_LAYERS;
	return 0;
}

/* I: the image details (Tab leaves them) */
static int act_details(struct tui *t, int k)
{
	(void)k;
	t->focus = PANE_IMAGE;
	return 0;
}

static int act_help(struct tui *t, int k)
{
	(void)k;
	t->help.open = 1;
	t->help.top = 0;
	return 0;
}

static int act_search(struct tui *t, int k)
{
	(void)k;
	input_start(t, IN_SEARCH);
	return 0;
}

static int act_search_next(struct tui *t, int k)
{
	tree_model_search_next(&t->ft.m, k == 'n' ? 1 : -1);
	return 0;
}

static int act_filter(struct tui *t, int k)
{
	(void)k;
	input_start(t, IN_FILTER);
	return 0;
}

static int act_attrs(struct tui *t, int k)
{
	(void)k;
	file_tree_toggle_attrs(&t->ft);
	return 0;
}

static int act_sort(struct tui *t, int k)
{
	(void)k;
	tree_model_toggle_sort(&t->ft.m);
	return 0;
}

static int act_clear(struct tui *t, int k)
{
	(void)k;
	tree_model_set_filter(&t->ft.m, "");
	tree_model_set_search(&t->ft.m, "");
	return 0;
}

static int act_mouse(struct tui *t, int k)
{
	(void)k;
	mouse(t);
	return 0;
}

static int act_slim(struct tui *t, int k)
{
	(void)k;
	slim_toggle(t);
	return 0;
}

static int act_write(struct tui *t, int k)
{
	(void)k;
	write_start(t);
	return 0;
}

static int act_packages(struct tui *t, int k)
{
	(void)k;
	if (slim_ready(t) == 0) {
		t->pk.open = 1;
		t->pk.msg[0] = 0;
	}
	return 0;
}

static int act_undo(struct tui *t, int k)
{
	(void)k;
	if (!t->sv.ready)
		snprintf(t->status, sizeof t->status, "nothing to undo");
	else if (slim_view_undo(&t->sv, t->status, sizeof t->status) < 0)
		snprintf(t->status, sizeof t->status, "reachability: %s", t->sv.err);
	return 0;
}

static int act_keep_drop(struct tui *t, int k)
{
	(void)k;
	if (!t->slim || t->focus != PANE_TREE) {
		snprintf(t->status, sizeof t->status, "x keeps or drops the file under the cursor in the slim view: %s",
		         t->slim ? "Tab to the file tree" : "press s");
		return 0;
	}
	struct wh_node *cur = tree_model_cursor(&t->ft.m);
	int rc = slim_view_toggle_node(&t->sv, cur ? slim_view_node(&t->sv, cur) : NULL, t->status, sizeof t->status);
	if (rc < 0)
		snprintf(t->status, sizeof t->status, "slimming: %s", t->sv.err);
	else if (rc == 1)
		t->input = IN_ASK_DROP;
	return 0;
}

/* e, K: an input line prefilled with the root / a file name */
static int act_root_save(struct tui *t, int k)
{
	if (slim_ready(t) < 0)
		return 0;
	if (k == 'e')
		slim_view_root(&t->sv, t->line, sizeof t->line);
	else
		snprintf(t->line, sizeof t->line, "whittle-keep.txt");
	t->saved[0] = 0;
	t->status[0] = 0;
	t->input = k == 'e' ? IN_ROOT : IN_SAVE;
	return 0;
}

/* r: the probe prompt */
static int act_probe(struct tui *t, int k)
{
	(void)k;
	if (slim_ready(t) < 0)
		return 0;
	t->line[0] = 0;
	t->saved[0] = 0;
	t->status[0] = 0;
	t->input = IN_PROBE;
	return 0;
}

/* R: forget the last probe */
static int act_forget_probe(struct tui *t, int k)
{
	(void)k;
	if (slim_ready(t) < 0)
		return 0;
	if (t->sv.n_probes) {
		snprintf(t->status, sizeof t->status, "forgetting the last probe; the others run again%s",
		         crt_g->ellipsis);
		draw(t);
	}
	slim_probe_forget(&t->sv, t->status, sizeof t->status);
	return 0;
}

/* U: the uncertain list in full */
static int act_uncertain(struct tui *t, int k)
{
	(void)k;
	if (slim_ready(t) < 0)
		return 0;
	char *text = slim_view_uncertain_text(&t->sv);
	text_popup_open(&t->detail, "Uncertain: what the analysis cannot see (any other key closes)", text);
	free(text);
	return 0;
}

/* i: the file type; in the slim view, the entry in full */
static int act_info(struct tui *t, int k)
{
	struct wh_node *cur = tree_model_cursor(&t->ft.m);
	struct wh_node *n = t->slim && cur ? slim_view_node(&t->sv, cur) : NULL;
	if (!n) {
		file_tree_key(&t->ft, &t->a.img, k);
		return 0;
	}
	char type[512];
	filetype_describe(&t->a.img, n, type, sizeof type);
	char *text = slim_view_detail(&t->sv, n, type);
	text_popup_open(&t->detail, "Slimming: the entry in full (any other key closes)", text);
	free(text);
	return 0;
}

static int act_aggregated(struct tui *t, int k)
{
	t->aggregated = k == CRT_CTRL('a');
	return 0;
}

static int act_pane_key(struct tui *t, int k)
{
	panes[t->focus].key(t, k);
	return 0;
}

static int act_overlay_key(struct tui *t, int k)
{
	if (packages_panel_key(&t->pk, &t->sv, k))
		snprintf(t->status, sizeof t->status, "reachability: %s", t->sv.err);
	return 0;
}

static int (*const actions[KA_COUNT])(struct tui *t, int k) = {
	[KA_QUIT] = act_quit,
	[KA_PANE_CYCLE] = act_pane_cycle,
	[KA_HELP] = act_help,
	[KA_SEARCH] = act_search,
	[KA_SEARCH_NEXT] = act_search_next,
	[KA_FILTER] = act_filter,
	[KA_ATTRS] = act_attrs,
	[KA_SORT] = act_sort,
	[KA_CLEAR] = act_clear,
	[KA_MOUSE] = act_mouse,
	[KA_SLIM] = act_slim,
	[KA_WRITE] = act_write,
	[KA_PACKAGES] = act_packages,
	[KA_UNDO] = act_undo,
	[KA_KEEP_DROP] = act_keep_drop,
	[KA_AGGREGATED] = act_aggregated,
	[KA_PER_LAYER] = act_aggregated,
	[KA_PANE_KEY] = act_pane_key,
	[KA_OVERLAY_KEY] = act_overlay_key,
	[KA_ROOT] = act_root_save,
	[KA_SAVE] = act_root_save,
	[KA_INFO] = act_info,
	[KA_DETAILS] = act_details,
	[KA_PROBE] = act_probe,
	[KA_UNCERTAIN] = act_uncertain,
	[KA_FORGET_PROBE] = act_forget_probe,
};

/* A key, through the key table. Returns 1 to quit. */
static int key(struct tui *t, int k)
{
	if (k == CRT_K_RESIZE)
		return 0;
	if (t->input != IN_NONE)
		return input_key(t, k);
	int overlay = t->help.open || t->detail.open ? 1 : t->pk.open ? 2 : 0;
	const struct tui_key *e = keys_find(k, t->focus, overlay);
	if (overlay == 1 && !e && !t->help.open) {
		text_popup_key(&t->detail, k);
		return 0;
	}
	if (overlay == 1 && !e) {
		help_key(&t->help, k);
		return 0;
	}
	t->status[0] = 0;
	if (overlay == 2 && !e)
		t->pk.msg[0] = 0; /* the overlay's note was about the key before */
	if (!e || !actions[e->action])
		return 0;
	return actions[e->action](t, k);
}

int tui_main(const char *image, int no_color, const struct analysis_opts *ao, const struct slim_opts *o)
{
	setlocale(LC_ALL, "");
	if (crt_init(no_color) < 0) {
		fprintf(stderr, "whittle: cannot use this terminal (TERM=%s); use --report FILE, --ci or --auto\n",
		        getenv("TERM") ? getenv("TERM") : "");
		return WH_EXIT_INPUT;
	}
	struct tui *t = xcalloc(1, sizeof *t);
	t->o = o;
	struct loading ld = {.image = image};
	clock_gettime(CLOCK_MONOTONIC, &ld.start);
	draw_loading(&ld, "opening the image...", 0, 0, 0, 0);
	struct analysis_opts opts = *ao;
	opts.progress.cb = on_progress;
	opts.progress.ctx = &ld;
	struct wh_error err = {0};
	if (analysis_run(image, &opts, &t->a, &err) < 0) {
		crt_done();
		util_escape_line(stderr, "whittle: ", err.msg);
		char hint[1200];
		transport_hint(image, hint, sizeof hint);
		if (hint[0])
			util_escape_line(stderr, "whittle: ", hint);
		free(t);
		return WH_EXIT_INPUT;
	}
	crt_interactive();
	file_tree_init(&t->ft);
	slim_view_init(&t->sv, &t->a, o);
	t->focus = PANE_LAYERS;
	t->exit_code = -1;
	for (;;) {
		if (!tree_current(t) && !crt_key_pending()) {
			char keep[sizeof t->status];
			snprintf(keep, sizeof keep, "%s", t->status);
			snprintf(t->status, sizeof t->status, "building the file tree of layer %zu...", tree_layer(t));
			draw(t);
			snprintf(t->status, sizeof t->status, "%s", keep);
			sync_tree(t, 1);
		}
		draw(t);
		int k = crt_getkey();
		if (k == CRT_KEY_NONE)
			continue;
		if (key(t, k) || t->exit_code >= 0)
			break;
	}
	crt_done();
	int rc = t->exit_code >= 0 ? t->exit_code : WH_EXIT_OK;
	file_tree_free(&t->ft);
	text_popup_close(&t->detail);
	slim_view_free(&t->sv);
	filetype_done();
	analysis_free(&t->a);
	free(t);
	return rc;
}
