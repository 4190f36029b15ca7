/* cli: the command line: options, modes, and the text and JSON views. */
#ifndef WH_CLI_H
#define WH_CLI_H

#include <stdio.h>
#include "analyzer/analysis.h"
#include "slimmer/slim_session.h"

enum cli_mode { MODE_TUI, MODE_REPORT, MODE_CI, MODE_AUTO, MODE_WHY };

/* a CI rule threshold; set = given on the command line (wins over files) */
struct ci_opt {
	char *value;
};

struct cli_opts {
	int mode_tui, mode_ci, mode_auto, dry_run;
	const char *report;      /* FILE or "-" */
	const char *why;
	const char *image;
	const char *platform;
	int tls_verify;
	int jobs;
	int quiet, no_color;
	/* rules */
	struct ci_opt lowest_efficiency, highest_wasted_bytes, highest_user_wasted_percent;
	const char *ci_config;
	/* reachability, the keep set and the writing: what the slim session
	 * (--auto, --why, --report, the explorer) reads */
	struct slim_opts slim;
	int report_files;
	/* --auto's checks */
	int fail_on_unresolved;
	const char *min_reduction;
};

/* report.c */
json_t *report_build(const struct analysis *a, const struct cli_opts *o);
/* The "reach" section (files: with every kept node, --report-files);
 * kept_files, kept_bytes and removable_bytes from fg (the written image's
 * figures, slim_session_figures) when not NULL. */
struct reach;
json_t *report_reach(const struct reach *r, const struct slim_figures *fg, int files);
int report_write(json_t *doc, const char *dest, struct wh_error *err);

/* ci.c: dive's rules on the analysis; prints dive-style text to out;
 * returns 0 pass, 1 a rule failed, or a negative error (bad rule value or file). */
int ci_run(const struct analysis *a, const struct cli_opts *o, FILE *out, struct wh_error *err);

/* auto.c: --auto: the session's keep set and plan (s has reach computed),
 * write, verify, summary; returns an exit code; *slim_section gets the
 * report's "slim" object (or NULL). */
int auto_run(struct analysis *a, const struct cli_opts *o, struct slim_session *s, json_t **slim_section);
/* Before --auto's reachability: is there a root (Entrypoint, Cmd, --entrypoint,
 * --cmd, --keep*, --keep-from)? Without one, says how to name one and
 * returns WH_EXIT_INPUT (else WH_EXIT_OK). */
int auto_check_roots(const struct analysis *a, const struct cli_opts *o);
/* After it: the Entrypoint (or Cmd) program is in the image, or
 * WH_EXIT_INPUT with why. */
int auto_check_program(const struct reach *r);

#endif
