/* auto: `whittle --auto`: mark the keep set, plan, write, verify, summarize.
 * For now the keep set is the whole final tree minus --drop, plus --keep
 * (fnmatch with FNM_PATHNAME on absolute paths; a pattern that names a
 * directory covers everything beneath it); reachability replaces this. */
#include "cli.h"
#include "slimmer/slim_image.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int matches(const struct str_list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *pat = l->v[i];
		char buf[PATH_MAX + 2];
		if (pat[0] != '/' && pat[0] != '*') {
			snprintf(buf, sizeof buf, "/%s", pat);
			pat = buf;
		}
		size_t pl = strlen(pat);
		if (pl > 1 && pat[pl - 1] == '/') { /* "dir/" names the directory */
			if (pat != buf) {
				snprintf(buf, sizeof buf, "%s", l->v[i]);
				pat = buf;
			}
			buf[strlen(buf) - 1] = 0;
		}
		if (fnmatch(pat, path, FNM_PATHNAME) == 0)
			return 1;
	}
	return 0;
}

struct marker {
	const struct cli_opts *o;
	char path[PATH_MAX];
};

static void mark_rec(struct marker *m, struct wh_node *n, size_t len, int dropped, int kept)
{
	for (struct wh_node *c = n->child; c; c = c->next) {
		size_t nl = strlen(c->name);
		if (len + 1 + nl + 1 > sizeof m->path)
			continue;
		m->path[len] = '/';
		memcpy(m->path + len + 1, c->name, nl + 1);
		int d = dropped || matches(&m->o->drop, m->path);
		int k = kept || matches(&m->o->keep, m->path);
		c->mark = (uint8_t)((c->mark & ~SLIM_KEEP) | ((!d || k) ? SLIM_KEEP : 0));
		if (c->child)
			mark_rec(m, c, len + 1 + nl, d, k);
		m->path[len] = 0;
	}
}

static void mark_keep_set(struct analysis *a, const struct cli_opts *o)
{
	struct marker m = {.o = o};
	m.path[0] = 0;
	a->tree.root->mark &= (uint8_t)~SLIM_KEEP;
	mark_rec(&m, a->tree.root, 0, 0, 0);
}

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

int auto_run(struct analysis *a, const struct cli_opts *o, json_t **slim_section)
{
	*slim_section = NULL;
	FILE *out = o->report && !strcmp(o->report, "-") ? stderr : stdout;
	double min_red = -1;
	if (o->min_reduction) {
		char *end;
		min_red = strtod(o->min_reduction, &end);
		if (*end || min_red < 0 || min_red > 1) {
			fprintf(stderr, "whittle: --min-reduction takes a ratio from 0 to 1, not \"%s\"\n", o->min_reduction);
			return WH_EXIT_INPUT;
		}
	}
	struct wh_error err = {0};
	mark_keep_set(a, o);
	struct slim_plan plan;
	struct slim_plan_opts po = {.keep_dpkg_db = o->keep_dpkg_db};
	if (slim_plan_build(a, &po, &plan, &err) < 0) {
		fprintf(stderr, "whittle: %s\n", err.msg);
		return WH_EXIT_INPUT;
	}
	struct gones g = {0};
	collect_gone(a->tree.root, &g);
	uint64_t removed_entries = plan.input_entries > plan.kept_entries ? plan.input_entries - plan.kept_entries : 0;
	double ratio = ratio_of(plan.kept_bytes, plan.input_bytes);
	uint64_t layers_before = 0;
	for (size_t i = 0; i < a->img.n_layers; i++)
		layers_before += a->img.layers[i].blob.length;
	char b1[32], b2[32], b3[32], b4[32];
	int rc = WH_EXIT_OK;
	struct slim_result res = {0};
	if (o->dry_run) {
		qsort(g.v, g.n, sizeof *g.v, cmp_gone_path);
		if (!o->quiet)
			fprintf(out, "would remove (size, path):\n");
		for (size_t i = 0; i < g.n; i++) {
			fmt_size(b1, sizeof b1, g.v[i].size);
			fprintf(out, "%10s  %s%s\n", b1, g.v[i].path, g.v[i].n->type == WH_T_DIR ? "/" : "");
		}
		fmt_size(b1, sizeof b1, plan.input_bytes);
		fmt_size(b2, sizeof b2, plan.kept_bytes);
		if (!o->quiet)
			fprintf(out, "dry run: visible %s -> %s (ratio %.3f), %llu entries kept, %llu removed; nothing written\n",
			        b1, b2, ratio, (unsigned long long)plan.kept_entries, (unsigned long long)removed_entries);
	} else {
		char *def = o->output ? NULL : slim_default_output(&a->img);
		struct slim_image_opts io = {.output = o->output ? o->output : def, .compression = o->compression,
		                             .force = o->force, .jobs = o->jobs};
		int r = slim_image_write(a, &plan, &io, &res, &err);
		free(def);
		if (r < 0) {
			fprintf(stderr, "whittle: %s\n", err.msg);
			rc = r == WH_EINTR ? WH_EXIT_INTERRUPTED : r == WH_EINPUT ? WH_EXIT_INPUT : WH_EXIT_OUTPUT;
			goto out;
		}
		if (!o->quiet) {
			fmt_size(b1, sizeof b1, plan.input_bytes);
			fmt_size(b2, sizeof b2, plan.kept_bytes);
			fmt_size(b3, sizeof b3, layers_before);
			fmt_size(b4, sizeof b4, res.layer.size);
			fprintf(out, "wrote %s\n", res.output);
			fprintf(out, "  visible bytes    %s -> %s  (ratio %.3f)\n", b1, b2, ratio);
			fprintf(out, "  layer bytes      %s -> %s  (%s)\n", b3, b4, slim_compression_name(res.compression));
			fprintf(out, "  entries          %llu kept, %llu removed\n", (unsigned long long)plan.kept_entries,
			        (unsigned long long)removed_entries);
			fprintf(out, "  config           %s\n", res.config_digest);
			qsort(g.v, g.n, sizeof *g.v, cmp_gone_size);
			size_t shown = 0;
			for (size_t i = 0; i < g.n && shown < 5; i++) {
				if (g.v[i].n->type != WH_T_DIR)
					continue;
				if (!shown)
					fprintf(out, "  largest removed directories:\n");
				fmt_size(b1, sizeof b1, g.v[i].size);
				fprintf(out, "    %10s  %s/\n", b1, g.v[i].path);
				shown++;
			}
			for (size_t i = 0; i < plan.n_removed_pkgs && i < 5; i++) {
				if (!i)
					fprintf(out, "  largest removed packages:\n");
				fmt_size(b1, sizeof b1, plan.removed_pkgs[i].size);
				fprintf(out, "    %10s  %s\n", b1, plan.removed_pkgs[i].name);
			}
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
out:
	for (size_t i = 0; i < g.n; i++)
		free(g.v[i].path);
	free(g.v);
	slim_result_free(&res);
	slim_plan_free(&plan);
	return rc;
}
