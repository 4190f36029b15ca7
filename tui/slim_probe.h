/* slim_probe: the slim view's probes (r) and the proof after w. A probe
 * typed at the prompt joins the view's list (struct slim_view's probes,
 * the session's opts.probe.cmds); the whole list runs as repeated --probe
 * would (slimmer/probe.h: one sandboxed copy of the image, in order), what
 * the probes touch is kept (rule probe, reason "probe: CMD", shown as P in
 * the tree), and after w the proof (slimmer/probe_verify.h) runs them on
 * the staged output before anything is committed. */
#ifndef WH_SLIM_PROBE_H
#define WH_SLIM_PROBE_H

#include <stdio.h>

#include "tui/slim_view.h"

/* The view's list from the command line's --probe (copied; the service,
 * --probe-exec and --probe-http stay the command line's): sets
 * sv->opts.probe. slim_view_init calls it. */
void slim_probe_init(struct slim_view *sv);

/* The command line's probes have not run yet (the explorer runs them
 * when the view is first computed). */
int slim_probe_pending(const struct slim_view *sv);

/* Run the command line's probes (after slim_view_compute), then
 * recompute. *text gets their summary (free it), msg the key bar's line.
 * Returns 0, or a negative code (msg says why; the explorer then goes on
 * without them: the list is emptied, the proof will not run). */
int slim_probe_run_given(struct slim_view *sv, char **text, char *msg, size_t len);

/* r: run line (words or a JSON array, as --probe takes it) as one more
 * probe, then recompute the view. *text gets the new probe's exit status,
 * what it kept and its stdout and stderr (free it); msg the line for the
 * key bar. Returns 0, or a negative code (msg says why: no bubblewrap,
 * another architecture, a bad command; WH_EINTR: SIGINT or SIGTERM; the
 * probe is not added, *text is NULL and the view is as it was). */
int slim_probe_run(struct slim_view *sv, const char *line, char **text, char *msg, size_t len);

/* R: forget the last probe (typed or the command line's): the probes left
 * run again (their keeps are computed together) and the view is
 * recomputed; with none left, no probe keeps anything. msg: the line for
 * the key bar. Returns 0, or a negative code (msg says why; when the
 * others fail to run again, every probe is forgotten). */
int slim_probe_forget(struct slim_view *sv, char *msg, size_t len);

/* w: when probes ran, set io so that the proof runs before the commit
 * (slim_session_proof); the details of a difference go to out (or NULL). */
void slim_probe_proof(struct slim_view *sv, struct slim_image_opts *io, FILE *out);

/* After slim_image_write returned rc (err: its message): the proof's
 * verdict as one line ("proof: 2 probes behave the same on the output",
 * "proof failed: ..."); "" when no probe ran or it was skipped. */
void slim_probe_proof_line(const struct slim_view *sv, int rc, const char *errmsg, char *out, size_t len);

/* Free the view's probe list (slim_view_free calls it). */
void slim_probe_free(struct slim_view *sv);

#endif
