/* probe_verify: the proof. After the slimmed image is staged, before the
 * image writer commits it (slim_image_opts.before_commit), the probes that
 * ran on the original (probe.h) run again: once more on a fresh copy of the
 * original, to see what of their output is deterministic, then on a copy
 * materialized from the staged output itself (its model built by the
 * analyzer), in the same sandbox with the original's run settings.
 *
 * Per probe: the exit status is always compared (the slimmed run's must be
 * one of the original's two); stdout and stderr are compared where the
 * original's two runs agreed, and listed as not compared where they did
 * not (a timestamp, a random number). missing_paths are the paths the
 * slimmed run tried and could not find that exist in the original (the
 * tracer's ENOENT results). A difference is WH_EOUTPUT: the writer commits
 * nothing. */
#ifndef WH_PROBE_VERIFY_H
#define WH_PROBE_VERIFY_H

#include <stdio.h>

#include <jansson.h>

#include "slimmer/probe.h"

enum { PV_EXIT = 1, PV_STDOUT = 2, PV_STDERR = 4 };

struct probe_verify {
	int equal;                  /* everything compared was equal */
	unsigned compared;          /* PV_* */
	unsigned not_compared;      /* PV_*: the original's two runs differed */
	char *first_difference;     /* "stdout line 2: original \"a\", slimmed \"b\"", or NULL */
	char **missing;             /* sorted */
	size_t n_missing;
	int exit_again, exit_slim;  /* the original's second run's status, the slimmed run's */
};

/* Run the proof for res (the original's first runs, from probe_run_all)
 * against the image staged at staged_ref (a transport reference), setting
 * res->v[i].verify. out (or NULL) gets the details of a difference.
 * Returns 0 when every probe behaved the same, WH_EOUTPUT when one did not
 * or the proof could not run (err says which probe, the first difference
 * and the missing paths), WH_EINTR when interrupted. */
int probe_verify_run(const struct analysis *orig, const char *staged_ref, const struct probe_opts *o, int jobs,
                     struct probe_results *res, FILE *out, struct wh_error *err);

void probe_verify_free(struct probe_verify *v);

/* The report's "verify" object: {equal, compared, not_compared,
 * first_difference, missing_paths} (compared and not_compared as lists of
 * "exit_status", "stdout", "stderr"). */
json_t *probe_verify_json(const struct probe_verify *v);

/* One line for a terminal after a proof that passed ("proof  2 probes
 * behave the same on the output ...; not compared: stdout of `date`"). */
void probe_verify_print_summary(const struct probe_results *res, FILE *out, const char *indent);

#endif
