/* auto: `whittle --auto`: the keep set from reachability, plan, write,
 * verify, summarize. The keep set is reach's (struct reach items, which
 * already honour --keep, --drop, --keep-from, --keep-exe, --keep-package
 * and --rule); the slim session copies it onto the tree's SLIM_KEEP marks
 * before the plan, so the plan never depends on what else touched the
 * marks, and the explorer's slim view plans the same way. */
#include "cli/cli.h"
#include "analyzer/reach.h"
#include "slimmer/probe_verify.h"
#include "slimmer/slim_image.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --- what goes ------------------------------------------------------------------- */

struct gone {
	struct wh_node *n;
	char *path;
	uint64_t size;
};

struct gones {
	struct gone *v;
	size_t n, cap;
};

static void collect_gone(struct wh_node *n, struct gones *g)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		if (!(c->mark & SLIM_OUT)) {
			if (g->n == g->cap) {
				g->cap = g->cap ? g->cap * 2 : 256;
				g->v = xrealloc(g->v, g->cap * sizeof *g->v);
			}
			char p[PATH_MAX];
			tree_path(c, p, sizeof p);
			g->v[g->n++] = (struct gone){.n = c, .path = xstrdup(p), .size = c->size};
		} else if (c->child) {
			collect_gone(c, g);
		}
	}
}

static int cmp_gone_path(const void *x, const void *y)
{
	return strcmp(((const struct gone *)x)->path, ((const struct gone *)y)->path);
}

static int cmp_gone_size(const void *x, const void *y)
{
	const struct gone *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return strcmp(a->path, b->path);
}

static double ratio_of(uint64_t after, uint64_t before)
{
	return before ? (double)after / (double)before : (after ? 1.0 : 0.0);
}

static void print_removed(FILE *out, const struct gones *g, const struct slim_plan *plan, const char *indent)
{
	char b[32];
	size_t shown = 0;
	for (size_t i = 0; i < g->n && shown < 5; i++) {
		if (g->v[i].n->type != WH_T_DIR)
			continue;
		if (!shown)
			fprintf(out, "%slargest removed directories:\n", indent);
		fmt_size(b, sizeof b, g->v[i].size);
		fprintf(out, "%s  %10s  ", indent, b);
		util_escape_fputs(g->v[i].path, out);
		fputs("/\n", out);
		shown++;
	}
	for (size_t i = 0; i < plan->n_removed_pkgs && i < 5; i++) {
		if (!i)
			fprintf(out, "%slargest removed packages (%zu removed):\n", indent, plan->n_removed_pkgs);
		fmt_size(b, sizeof b, plan->removed_pkgs[i].size);
		fprintf(out, "%s  %10s  ", indent, b);
		util_escape_line(out, "", plan->removed_pkgs[i].name);
	}
}

static void print_unresolved(FILE *out, const struct reach *r, const char *indent, size_t max)
{
	if (!r->n_unresolved)
		return;
	fprintf(out, "%sunresolved needs (%zu):\n", indent, r->n_unresolved);
	for (size_t i = 0; i < r->n_unresolved && i < max; i++) {
		fprintf(out, "%s  ", indent);
		util_escape_fputs(r->unresolved[i].path, out);
		util_escape_line(out, ": ", r->unresolved[i].needs);
	}
	if (r->n_unresolved > max)
		fprintf(out, "%s  ... %zu more (the report's reach.unresolved lists them all)\n", indent,
		        r->n_unresolved - max);
}

static void print_uncertain(FILE *out, const struct reach *r, const char *indent, size_t max)
{
	if (r->n_uncertain)
		fprintf(out, "%suncertain (%zu):\n", indent, r->n_uncertain);
	for (size_t i = 0; i < r->n_uncertain && i < max; i++) {
		fprintf(out, "%s  ", indent);
		util_escape_fputs(r->uncertain[i].path, out);
		util_escape_line(out, ": ", r->uncertain[i].why);
		fprintf(out, "%s    settled by keeping:", indent);
		for (size_t k = 0; k < r->uncertain[i].n_hint; k++) {
			fputs(" --keep ", out);
			util_escape_fputs(r->uncertain[i].hint[k], out);
		}
		fputc('\n', out);
	}
	if (r->n_uncertain > max)
		fprintf(out, "%s  ... %zu more (the report's reach.uncertain lists them all)\n", indent,
		        r->n_uncertain - max);
	for (size_t i = 0; i < r->n_settled; i++) {
		fprintf(out, "%ssettled (not uncertain): ", indent);
		util_escape_fputs(r->settled[i].path, out);
		util_escape_line(out, ", run by the passing ", r->settled[i].settled_by);
	}
}

/* The data directories, one line each, and the directories kept partly (a count). */
static void print_data_dirs(FILE *out, const struct reach *r, const char *indent)
{
	char b[32];
	if (r->n_data_dirs)
		fprintf(out, "%sdata directories (%zu; kept whole or dropped whole, never in part):\n", indent,
		        r->n_data_dirs);
	for (size_t i = 0; i < r->n_data_dirs; i++) {
		const struct reach_data_dir *d = &r->data_dirs[i];
		fmt_size(b, sizeof b, d->bytes);
		fprintf(out, "%s  %s ", indent, d->kept ? "kept whole" : "dropped whole");
		util_escape_fputs(d->path, out);
		fprintf(out, " (%s, %llu file%s): ", b, (unsigned long long)d->files, d->files == 1 ? "" : "s");
		util_escape_line(out, "", d->why);
	}
	if (r->n_partial_dirs) {
		uint64_t dropped = 0;
		for (size_t i = 0; i < r->n_partial_dirs; i++)
			dropped += r->partial_dirs[i].dropped_bytes;
		fmt_size(b, sizeof b, dropped);
		fprintf(out, "%sdirectories a program names, kept partly: %zu (%s of their members dropped; the report's "
		        "reach.partial_dirs lists them)\n", indent, r->n_partial_dirs, b);
	}
}

/* What the caps on file contents may cost (the report lists the files). */
static void print_truncated(FILE *out, const struct analysis *a, const char *indent)
{
	struct tree_truncated *tv;
	size_t tn = tree_truncated(&a->tree, &tv);
	if (tn) {
		fprintf(out, "%sread in part (%zu file%s larger than the analysis keeps; the report's image.truncated "
		        "lists them):\n", indent, tn, tn == 1 ? "" : "s");
		fprintf(out, "%s  what they name (a program's libraries, a script's commands, a package's files)\n"
		        "%s  is unknown: the slimmed image may lack it; keep it with --keep if it matters\n", indent, indent);
		for (size_t i = 0; i < tn && i < 5; i++) {
			fprintf(out, "%s  ", indent);
			util_escape_line(out, "", tv[i].path);
		}
		if (tn > 5)
			fprintf(out, "%s  ... %zu more\n", indent, tn - 5);
	}
	tree_truncated_free(tv, tn);
}

/* --- progress of the write on stderr (a terminal, not -q) ----------------------- */

struct write_progress {
	int phase;             /* -1: nothing shown yet */
	struct timespec start; /* of the phase */
	int shown;
};

static void write_progress_cb(void *ctx, enum slim_phase phase, size_t layer, size_t n_layers, uint64_t bytes,
                              uint64_t total)
{
	struct write_progress *wp = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((int)phase != wp->phase) {
		wp->phase = (int)phase;
		wp->start = now;
	}
	double dt = (double)(now.tv_sec - wp->start.tv_sec) + (double)(now.tv_nsec - wp->start.tv_nsec) / 1e9;
	char what[64], b[32], t[32], r[32];
	slim_phase_label(what, sizeof what, phase, layer, n_layers);
	fmt_size(b, sizeof b, bytes);
	fmt_size(t, sizeof t, total);
	/* the rate since the phase began (each phase counts its own bytes) */
	fmt_size(r, sizeof r, dt > 0.05 ? (uint64_t)((double)bytes / dt) : 0);
	fprintf(stderr, "\r\033[K%s  %s / %s  %s/s", what, b, t, r);
	wp->shown = 1;
}

int auto_check_roots(const struct analysis *a, const struct cli_opts *o)
{
	const struct slim_opts *so = &o->slim;
	/* what the image runs, read as reach reads it (a bad override is
	 * reach's to report: not a missing root) */
	struct str_list el = {0}, cl = {0};
	struct wh_error e = {0};
	int bad = reach_run_argv(a, &so->entrypoint, so->entrypoint_set, &so->cmd, so->cmd_set, &el, &cl, &e) < 0;
	int entry = el.n > 0, cmd = cl.n > 0;
	str_list_free(&el);
	str_list_free(&cl);
	if (bad)
		return WH_EXIT_OK;
	if (entry || cmd || so->keep.n || so->keep_exe.n || so->keep_package.n || so->keep_from.n ||
	    so->probe.n)
		return WH_EXIT_OK;
	fprintf(stderr, "whittle: --auto: nothing to slim from: the image has no Entrypoint or Cmd and no --entrypoint, "
	                "--cmd, --keep, --keep-exe, --keep-package, --keep-from or --probe was given, so everything would be "
	                "removed.\n  Name what the image runs, e.g. --entrypoint /usr/bin/myapp, or what to keep, e.g. "
	                "--keep /app\n");
	return WH_EXIT_INPUT;
}

int auto_check_program(const struct reach *r)
{
	for (size_t i = 0; i < r->n_unresolved; i++) {
		const struct reach_unresolved *u = &r->unresolved[i];
		if (strcmp(u->path, "/") || (strncmp(u->needs, "Entrypoint command ", 19) && strncmp(u->needs, "Cmd command ", 12)))
			continue;
		char *needs = util_escape_dup(u->needs);
		fprintf(stderr, "whittle: --auto: the image's program is not in the image: %s.\n  Give the program with "
		                "--entrypoint PATH (and --cmd ARGS), or what to keep with --keep PATH\n", needs);
		free(needs);
		return WH_EXIT_INPUT;
	}
	return WH_EXIT_OK;
}

int auto_run(struct analysis *a, const struct cli_opts *o, struct slim_session *s, json_t **slim_section)
{
	const struct reach *r = &s->r;
	*slim_section = NULL;
	FILE *out = o->report && !strcmp(o->report, "-") ? stderr : stdout;
	double min_red = -1;
	if (o->min_reduction) {
		char *end;
		min_red = strtod(o->min_reduction, &end);
		if (!*o->min_reduction || *end || !(min_red >= 0 && min_red <= 1)) {
			fprintf(stderr, "whittle: --min-reduction takes a ratio from 0 to 1, not \"%s\"\n", o->min_reduction);
			return WH_EXIT_INPUT;
		}
	}
	struct wh_error err = {0};
	if (slim_session_plan(s, &err) < 0) {
		util_escape_line(stderr, "whittle: ", err.msg);
		return WH_EXIT_INPUT;
	}
	const struct slim_plan *plan = &s->plan;
	struct gones g = {0};
	collect_gone(a->tree.root, &g);
	/* the figures the explorer and --report show too */
	struct slim_figures fg;
	slim_session_figures(s, &fg);
	uint64_t removed_entries = fg.input_entries > fg.entries ? fg.input_entries - fg.entries : 0;
	uint64_t removed_files = fg.input_files > fg.files ? fg.input_files - fg.files : 0;
	double ratio = ratio_of(plan->kept_bytes, plan->input_bytes);
	uint64_t layers_before = 0;
	for (size_t i = 0; i < a->img.n_layers; i++)
		layers_before += a->img.layers[i].blob.length;
	char b1[32], b2[32], b3[32], b4[32];
	int rc = WH_EXIT_OK;
	struct slim_result res = {0};
	if (o->dry_run) {
		if (g.n) /* g.v is NULL when nothing goes */
			qsort(g.v, g.n, sizeof *g.v, cmp_gone_path);
		if (!o->quiet)
			fprintf(out, "would remove (size, path):\n");
		for (size_t i = 0; i < g.n; i++) {
			fmt_size(b1, sizeof b1, g.v[i].size);
			fprintf(out, "%10s  ", b1);
			util_escape_fputs(g.v[i].path, out);
			fputs(g.v[i].n->type == WH_T_DIR ? "/\n" : "\n", out);
		}
		if (!o->quiet) {
			fmt_size(b1, sizeof b1, plan->input_bytes);
			fmt_size(b2, sizeof b2, plan->kept_bytes);
			fmt_size(b3, sizeof b3, plan->input_bytes - plan->kept_bytes);
			fprintf(out, "dry run: visible %s -> %s (ratio %.3f, %s removed), files %llu kept, %llu removed "
			             "(entries %llu kept, %llu removed); nothing written\n",
			        b1, b2, ratio, b3, (unsigned long long)fg.files, (unsigned long long)removed_files,
			        (unsigned long long)fg.entries, (unsigned long long)removed_entries);
			if (g.n) /* g.v is NULL when nothing goes */
				qsort(g.v, g.n, sizeof *g.v, cmp_gone_size);
			print_removed(out, &g, plan, "");
			print_unresolved(out, r, "", 20);
			print_uncertain(out, r, "", 20);
			print_data_dirs(out, r, "");
			print_truncated(out, a, "");
		}
	} else {
		char *def = o->slim.output ? NULL : slim_default_output(&a->img);
		struct slim_image_opts io = {.output = o->slim.output ? o->slim.output : def,
		                             .compression = o->slim.compression, .force = o->slim.force,
		                             .jobs = o->slim.jobs};
		if (def && !o->quiet)
			fprintf(stderr, "whittle: no -o given: writing %s\n", def);
		struct write_progress wp = {.phase = -1};
		if (!o->quiet && isatty(STDERR_FILENO)) {
			io.progress.cb = write_progress_cb;
			io.progress.ctx = &wp;
		}
		slim_session_proof(s, &io, stderr);
		int wr = slim_image_write(a, plan, &io, &res, &err);
		if (wp.shown)
			fputs("\r\033[K", stderr);
		free(def);
		if (wr < 0) {
			util_escape_line(stderr, "whittle: ", err.msg);
			rc = wr == WH_EINTR ? WH_EXIT_INTERRUPTED : wr == WH_EINPUT ? WH_EXIT_INPUT : WH_EXIT_OUTPUT;
			goto out;
		}
		if (!o->quiet) {
			fmt_size(b1, sizeof b1, plan->input_bytes);
			fmt_size(b2, sizeof b2, res.visible_bytes);
			fmt_size(b3, sizeof b3, layers_before);
			fmt_size(b4, sizeof b4, res.layer.size);
			util_escape_line(out, "wrote ", res.output);
			fprintf(out, "  visible bytes    %s -> %s  (ratio %.3f)\n", b1, b2, ratio);
			fprintf(out, "  layer bytes      %s -> %s  (%zu layer%s -> 1, %s)\n", b3, b4, a->img.n_layers,
			        a->img.n_layers == 1 ? "" : "s", slim_compression_name(res.compression));
			fprintf(out, "  files            %llu kept, %llu removed  (entries with directories and links: %llu kept, "
			             "%llu removed)\n",
			        (unsigned long long)fg.files, (unsigned long long)removed_files, (unsigned long long)fg.entries,
			        (unsigned long long)removed_entries);
			fprintf(out, "  config           %s\n", res.config_digest);
			probe_verify_print_summary(&s->probes, out, "  ");
			if (g.n) /* g.v is NULL when nothing goes */
				qsort(g.v, g.n, sizeof *g.v, cmp_gone_size);
			print_removed(out, &g, plan, "  ");
			print_unresolved(out, r, "  ", 20);
			print_uncertain(out, r, "  ", 20);
			print_data_dirs(out, r, "  ");
			print_truncated(out, a, "  ");
		}
		json_t *s = json_object();
		json_object_set_new(s, "output", json_string(res.output));
		json_object_set_new(s, "manifest_digest",
		                    res.manifest_digest[0] ? json_string(res.manifest_digest) : json_null());
		json_object_set_new(s, "config_digest", json_string(res.config_digest));
		json_object_set_new(s, "visible_bytes", json_integer((json_int_t)res.visible_bytes));
		json_object_set_new(s, "layer_size_bytes", json_integer((json_int_t)res.layer.size));
		json_object_set_new(s, "ratio", json_real(ratio));
		*slim_section = s;
	}
	if (min_red >= 0 && ratio > 1 - min_red) {
		fprintf(stderr, "whittle: --min-reduction %s: the output keeps %.3f of the visible bytes (more than %.3f)\n",
		        o->min_reduction, ratio, 1 - min_red);
		rc = WH_EXIT_RULE;
	}
	if (o->fail_on_unresolved && (r->n_unresolved || r->n_uncertain)) {
		fprintf(stderr, "whittle: --fail-on-unresolved: %zu unresolved need%s, %zu uncertain\n", r->n_unresolved,
		        r->n_unresolved == 1 ? "" : "s", r->n_uncertain);
		if (o->quiet) {
			print_unresolved(stderr, r, "  ", 20);
			print_uncertain(stderr, r, "  ", 20);
		}
		rc = WH_EXIT_RULE;
	}
out:
	for (size_t i = 0; i < g.n; i++)
		free(g.v[i].path);
	free(g.v);
	slim_result_free(&res);
	return rc;
}
