/* slim_session: the slimming pipeline, once: the package database, then
 * reachability, then the keep set and the plan, from one options struct.
 * `--auto`, `--why`, `--report` (cli/) and the explorer's slim view (tui/)
 * all run it, so they agree on what is kept.
 *
 *   struct slim_session s;
 *   slim_session_init(&s, &analysis, &opts);
 *   slim_session_reach(&s, NULL, &err);   // dpkg (first time) + reach
 *   slim_session_plan(&s, &err);          // keep set + plan (--auto, the slim view)
 *   ... s.r, s.plan, s.db ...
 *   slim_session_free(&s);
 */
#ifndef WH_SLIM_SESSION_H
#define WH_SLIM_SESSION_H

#include "analyzer/dpkg.h"
#include "analyzer/reach.h"
#include "slimmer/probe.h"
#include "slimmer/slim_image.h"
#include "slimmer/slim_plan.h"

/* What to keep and how to write it: the command line's reachability and
 * slimming options (DESIGN.md), read by every front end. The lists are
 * struct reach_opts' (analyzer/reach.h). */
struct slim_opts {
	/* reachability */
	struct str_list entrypoint, cmd;   /* --entrypoint, --cmd overrides */
	int entrypoint_set, cmd_set;
	struct str_list keep, drop;        /* --keep, --drop PATH|GLOB */
	struct str_list keep_exe;          /* --keep-exe NAME */
	struct str_list keep_package;      /* --keep-package NAME */
	struct str_list keep_from;         /* --keep-from FILE */
	struct str_list rules;             /* --rule NAME=on|off */
	struct probe_opts probe;           /* --probe, --probe-timeout */
	/* the keep set */
	int keep_dpkg_db;                  /* --keep-dpkg-db: all of var/lib/dpkg */
	/* writing (struct slim_image_opts) */
	const char *output;                /* -o DEST, or NULL: slim_default_output */
	const char *compression;           /* gzip, zstd, none, or NULL: the default */
	int force;
	int jobs;                          /* threads; 0: cores */
};

/* Free the lists (when they were filled with str_list_add). */
void slim_opts_free(struct slim_opts *o);

/* Keeps and drops added to the options' for one computation (the
 * explorer's x): appended to keep, drop and keep_package. */
struct slim_extra {
	struct str_list keep, drop, keep_package;
};

struct slim_session {
	struct analysis *a;
	const struct slim_opts *o;
	struct dpkg_db db;
	int have_db;               /* the image has a dpkg database */
	int db_tried;
	struct wh_error db_err;    /* why there is none (a warning, not an error) */
	struct reach r;
	int have_reach;
	struct slim_plan plan;
	int have_plan;
	struct probe_results probes;   /* after slim_session_probe */
	double t_reach, t_plan;    /* seconds the last computation of each took */
	FILE *proof_out;           /* where the proof prints a difference (slim_session_proof) */
};

/* o must outlive the session. Loads nothing yet. */
void slim_session_init(struct slim_session *s, struct analysis *a, const struct slim_opts *o);
void slim_session_free(struct slim_session *s);

/* Load the package database (the first time), then compute reachability
 * over a->tree with the options plus extra (NULL: none). Drops the results
 * of the last computation first (the reach and the plan). An image
 * without a database gets an empty one (db.found 0); an unreadable one is
 * not an error: have_db stays 0 and db_err says why (the caller may warn).
 * Returns 0, or WH_EINPUT for a bad option (reach_compute's). */
int slim_session_reach(struct slim_session *s, const struct slim_extra *extra, struct wh_error *err);

/* After slim_session_reach, with o->probe.n > 0: run the probes in the
 * sandbox and compute reachability again with what they touched kept
 * (s->probes; later slim_session_reach calls keep it too). out (or NULL)
 * gets the probes' summary. Returns 0, WH_EINPUT (another architecture,
 * no sandbox, a bad User), WH_EOUTPUT (the probe's copy could not be
 * written) or WH_EINTR. */
int slim_session_probe(struct slim_session *s, FILE *out, struct wh_error *err);
/* The same after slim_session_reach(s, extra): the explorer's probes with
 * its keeps and drops. Every probe of o->probe runs again (as repeated
 * --probe: one copy of the filesystem, in order). On an error the reach
 * stays as it was, and s->probes too when probes had run before (else it
 * holds the partial results, as slim_session_probe leaves them); the
 * reach is gone (have_reach 0) only when a recomputation itself failed. */
int slim_session_probe_with(struct slim_session *s, const struct slim_extra *extra, FILE *out,
                            struct wh_error *err);

/* After slim_session_reach: the keep set (reach's kept nodes and the
 * package database, slim_keep_from_reach) and the plan, marking the tree
 * (SLIM_KEEP, SLIM_OUT). Returns 0 or a negative error. */
int slim_session_plan(struct slim_session *s, struct wh_error *err);

/* The proof (probe_verify.h): when probes ran (slim_session_probe) and
 * --no-verify-probes was not given, set io's before_commit hook so that
 * slim_image_write runs the probes again on the staged output and commits
 * nothing when one behaves differently (WH_EOUTPUT; out, or NULL, gets the
 * details; s->probes.v[i].verify the verdicts). Else io is left as it is. */
void slim_session_proof(struct slim_session *s, struct slim_image_opts *io, FILE *out);

/* The figures every front end shows (the explorer, --auto, --report):
 * those of the image --auto writes, after the plan and the dpkg reduction. */
struct slim_figures {
	uint64_t bytes;         /* visible bytes: its regular files' bytes */
	uint64_t files;         /* its regular files (hard links included) */
	uint64_t entries;       /* its layer's tar entries (directories, links... all) */
	uint64_t input_bytes, input_files, input_entries; /* the same of the input's final tree */
};

/* After slim_session_plan (else all 0). */
void slim_session_figures(const struct slim_session *s, struct slim_figures *f);

#endif
