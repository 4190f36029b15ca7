#include "slimmer/slim_session.h"

#include "slimmer/probe_verify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void slim_opts_free(struct slim_opts *o)
{
	struct str_list *lists[] = {&o->entrypoint, &o->cmd,          &o->keep,      &o->drop,
	                            &o->keep_exe,   &o->keep_package, &o->keep_from, &o->rules};
	for (size_t i = 0; i < ARRAY_LEN(lists); i++)
		str_list_free(lists[i]);
	probe_opts_free(&o->probe);
}

void slim_session_init(struct slim_session *s, struct analysis *a, const struct slim_opts *o)
{
	memset(s, 0, sizeof *s);
	s->a = a;
	s->o = o;
}

static void drop_results(struct slim_session *s)
{
	if (s->have_plan)
		slim_plan_free(&s->plan);
	s->have_plan = 0;
	if (s->have_reach)
		reach_free(&s->r);
	s->have_reach = 0;
}

void slim_session_free(struct slim_session *s)
{
	drop_results(s);
	probe_results_free(&s->probes);
	if (s->have_db)
		dpkg_free(&s->db);
	memset(s, 0, sizeof *s);
}

/* a's strings then b's (b may be NULL), borrowed: free only out->v */
static struct str_list joined(const struct str_list *a, const struct str_list *b)
{
	size_t n = a->n + (b ? b->n : 0);
	struct str_list out = {.v = n ? xmalloc(n * sizeof *out.v) : NULL, .n = 0};
	for (size_t i = 0; i < a->n; i++)
		out.v[out.n++] = a->v[i];
	for (size_t i = 0; b && i < b->n; i++)
		out.v[out.n++] = b->v[i];
	return out;
}

/* The reach options of the session's: its options, extra appended to
 * keep, drop and keep_package (borrowed strings: reach_opts_release frees
 * only the joined arrays), the probes' keeps, the package hooks. */
static void reach_opts_of(const struct slim_session *s, const struct slim_extra *extra, struct reach_opts *ro)
{
	const struct slim_opts *o = s->o;
	*ro = (struct reach_opts){
		.entrypoint = o->entrypoint,
		.cmd = o->cmd,
		.entrypoint_set = o->entrypoint_set,
		.cmd_set = o->cmd_set,
		.keep = joined(&o->keep, extra ? &extra->keep : NULL),
		.drop = joined(&o->drop, extra ? &extra->drop : NULL),
		.keep_exe = o->keep_exe,
		.keep_package = joined(&o->keep_package, extra ? &extra->keep_package : NULL),
		.keep_from = o->keep_from,
		.rules = o->rules,
		.keep_probe = s->probes.keep,
		.keep_probe_why = (const char *const *)s->probes.keep_why,
		.probe_ran = s->probes.ran,
		.probe_ran_why = (const char *const *)s->probes.ran_why,
	};
	if (s->have_db)
		ro->pkg = (struct reach_pkg_hooks){.ctx = (void *)&s->db, .files_of = dpkg_reach_files_of,
		                                   .owner_of = dpkg_reach_owner_of};
}

static void reach_opts_release(struct reach_opts *ro)
{
	free(ro->keep.v);
	free(ro->drop.v);
	free(ro->keep_package.v);
}

int slim_session_reach(struct slim_session *s, const struct slim_extra *extra, struct wh_error *err)
{
	if (!s->db_tried) {
		s->db_tried = 1;
		if (dpkg_load(s->a, &s->db, &s->db_err) == 0)
			s->have_db = 1;
	}
	drop_results(s);
	double t0 = now();
	struct reach_opts ro;
	reach_opts_of(s, extra, &ro);
	int rc = reach_compute(s->a, &ro, &s->r, err);
	reach_opts_release(&ro);
	if (rc < 0) {
		reach_free(&s->r);
		return rc;
	}
	s->have_reach = 1;
	s->t_reach = now() - t0;
	return 0;
}

/* the probe options with the session's --entrypoint/--cmd (the service's command) */
static struct probe_opts probe_opts_of(const struct slim_session *s)
{
	struct probe_opts po = s->o->probe;
	po.entrypoint = &s->o->entrypoint;
	po.cmd = &s->o->cmd;
	po.entrypoint_set = s->o->entrypoint_set;
	po.cmd_set = s->o->cmd_set;
	return po;
}

int slim_session_probe_with(struct slim_session *s, const struct slim_extra *extra, FILE *out,
                            struct wh_error *err)
{
	if (!probe_count(&s->o->probe))
		return 0;
	if (!s->have_reach)
		return wh_err(err, WH_EINPUT, "probe: no reachability computed before the probes");
	struct probe_results res;
	struct probe_opts po = probe_opts_of(s);
	int rc = probe_run_all(s->a, &po, &res, err);
	if (rc < 0) {
		/* s->probes and s->r as they were; the first time, the partial
		 * results (the report lists the probes that ran) */
		if (!s->probes.n)
			s->probes = res;
		else
			probe_results_free(&res);
		return rc;
	}
	/* the static analysis without the probes before: their keeps go from
	 * the reach now, so that each probe's `added` is what it alone adds */
	struct probe_results old = s->probes;
	s->probes = res;
	if (old.keep.n && (rc = slim_session_reach(s, extra, err)) < 0)
		goto fail;
	struct reach_opts ro;
	reach_opts_of(s, extra, &ro);
	rc = probe_apply(s->a, &ro, &s->r, &s->probes, err);
	reach_opts_release(&ro);
	if (rc < 0)
		goto fail;
	s->have_reach = 1;
	probe_results_free(&old);
	if (out)
		probe_print_summary(&s->probes, out);
	return 0;
fail:
	/* (reach_compute refused an option it took before: not expected) */
	probe_results_free(&s->probes);
	s->probes = old;
	s->have_reach = 0;
	return rc;
}

int slim_session_probe(struct slim_session *s, FILE *out, struct wh_error *err)
{
	return slim_session_probe_with(s, NULL, out, err);
}

int slim_session_plan(struct slim_session *s, struct wh_error *err)
{
	if (!s->have_reach)
		return wh_err(err, WH_EINPUT, "slimming: no reachability computed before the plan");
	if (s->have_plan)
		slim_plan_free(&s->plan);
	s->have_plan = 0;
	double t0 = now();
	slim_keep_from_reach(s->a, &s->r,
	                     (s->o->keep_dpkg_db ? SLIM_KEEP_DPKG_DB : 0) | (s->o->drop_pycache ? SLIM_DROP_PYCACHE : 0));
	struct slim_plan_opts po = {.keep_dpkg_db = s->o->keep_dpkg_db, .db = s->have_db ? &s->db : NULL};
	int rc = slim_plan_build(s->a, &po, &s->plan, err);
	if (rc < 0)
		return rc;
	s->have_plan = 1;
	s->t_plan = now() - t0;
	return 0;
}

static int proof_hook(void *ctx, const char *staged_ref, struct wh_error *err)
{
	struct slim_session *s = ctx;
	struct probe_opts po = probe_opts_of(s);
	return probe_verify_run(s->a, staged_ref, &po, s->o->jobs, &s->probes, s->proof_out, err);
}

void slim_session_proof(struct slim_session *s, struct slim_image_opts *io, FILE *out)
{
	if (!s->probes.n || s->o->probe.no_verify)
		return;
	s->proof_out = out;
	io->before_commit = proof_hook;
	io->before_commit_ctx = s;
}

static int count_regular(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	uint64_t *c = ctx;
	if (n->parent && (n->type == WH_T_REG || n->type == WH_T_HARDLINK))
		(*c)++;
	return 0;
}

void slim_session_figures(const struct slim_session *s, struct slim_figures *f)
{
	memset(f, 0, sizeof *f);
	if (!s->have_plan)
		return;
	const struct slim_plan *p = &s->plan;
	f->bytes = p->kept_bytes;
	f->entries = p->n;
	f->input_bytes = p->input_bytes;
	f->input_entries = p->input_entries;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].type == WH_T_REG || p->v[i].type == WH_T_HARDLINK)
			f->files++;
	tree_walk(s->a->tree.root, count_regular, &f->input_files);
}
