/* probe: the image's own commands run in a sandbox (sandbox.h) on a copy
 * of its filesystem (materialize.h), traced (trace.h); what they touched
 * and what exists in the image is added to the static keep set (it never
 * removes anything from it).
 *
 * Options: --probe CMD (repeatable: shell words split as sh would split
 * plain words and quotes, no expansion; or a JSON array of strings),
 * --probe-timeout SECONDS (default 60). The command runs as the image's
 * User, with its Env and WorkingDir; stdout and stderr are captured (1 MiB
 * each). A probe cannot run an image of another architecture (exit 2).
 * --no-verify-probes: no proof after writing (probe_verify.h). */
#ifndef WH_PROBE_H
#define WH_PROBE_H

#include <jansson.h>

#include "analyzer/analysis.h"
#include "analyzer/reach.h"
#include "slimmer/sandbox.h"

struct probe_cmd {
	char *text;     /* as given */
	char **argv;    /* NULL-terminated */
};

struct probe_opts {
	struct probe_cmd *cmds;
	size_t n;
	double timeout_s;  /* 60 */
	const char *tmpdir; /* NULL: $TMPDIR */
	int no_verify;      /* --no-verify-probes */
	/* the service (probe_service.c): --probe-entrypoint runs the image's
	 * Entrypoint + Cmd (after --entrypoint/--cmd) as a service; once it
	 * counts as started (--probe-wait PORT: a TCP port of the sandbox's
	 * loopback accepts, polled; --probe-wait Ns: N seconds; default: the
	 * first --probe-http port, else 1 s) each --probe-exec CMD runs in its
	 * namespaces and each --probe-http PORT[/PATH] is a GET made by
	 * whittle from its network namespace; then SIGTERM, a grace period,
	 * SIGKILL to every process of the sandbox. */
	int service;
	int wait_port;      /* > 0: --probe-wait PORT */
	double wait_s;      /* --probe-wait Ns */
	struct probe_cmd *execs; /* --probe-exec */
	size_t n_exec;
	struct probe_cmd *https; /* --probe-http: text "PORT/PATH", argv {PORT, /PATH} */
	size_t n_http;
	/* set by the session for the service's command (not owned) */
	const struct str_list *entrypoint, *cmd;
	int entrypoint_set, cmd_set;
};

struct probe_verify; /* probe_verify.h: the proof's verdict on one probe */

enum { PROBE_ONESHOT, PROBE_SERVICE, PROBE_EXEC, PROBE_HTTP };

struct probe_result {
	const struct probe_cmd *cmd; /* o's, or &own */
	struct probe_cmd own;        /* the service's, an exec's, an http probe's ("entrypoint: ...") */
	int kind;                    /* PROBE_*; an HTTP probe's run.exit_status is its HTTP status (0: no
	                              * answer), run.out its body */
	struct sbx_result run;
	char **touched;      /* absolute image paths that exist in the image, sorted */
	size_t n_touched;
	char **missing;      /* paths that failed with ENOENT and are not in the image, sorted */
	size_t n_missing;
	char **added;        /* kept only because of this probe (probe_apply), sorted */
	char *why;           /* "probe: CMD": the reason of its keeps (reach items point to it) */
	size_t n_added;
	struct probe_verify *verify; /* after the proof, or NULL */
};

struct probe_results {
	struct probe_result *v;
	size_t n;
	/* after probe_apply: the keeps it added (reach_opts.keep_probe and
	 * keep_probe_why), so that a later computation keeps them too */
	struct str_list keep;
	const char **keep_why;
	/* and the paths the probes that passed touched (reach_opts.probe_ran
	 * and probe_ran_why): the uncertain entries they settle */
	struct str_list ran;
	const char **ran_why;
};

/* How many results a pass gives: the one-shot probes, the service, its execs and HTTP GETs. */
size_t probe_count(const struct probe_opts *o);

/* (probe*.c only) the paths of a trace into pr, as probe_run_pass says. */
void probe_collect(const struct analysis *orig, const struct trace_path *tp, size_t n, int kind,
                   struct probe_result *pr);

/* (probe*.c only) the service, its execs and HTTP probes on the materialized
 * root of sc (the run settings filled): v gets probe_count(o) - o->n results. */
int probe_service_run(const struct analysis *orig, const struct probe_opts *o, int kind, const struct sbx_config *sc,
                      struct probe_result *v, size_t *n_done, struct wh_error *err);

/* Take --probe, --probe-timeout, --probe-entrypoint, --probe-wait, --probe-exec, --probe-http and --no-verify-probes (either "--opt VALUE" or "--opt=VALUE")
 * out of argv, shifting the rest down; *argc is updated. 0, or WH_EINPUT
 * (bad JSON, bad number, no value). */
int probe_opts_take(int *argc, char **argv, struct probe_opts *o, struct wh_error *err);
void probe_opts_free(struct probe_opts *o);

/* Split CMD into argv (JSON array, or words). Caller frees with probe_argv_free. */
int probe_parse_cmd(const char *text, char ***argv, struct wh_error *err);
void probe_argv_free(char **argv);

/* "amd64", "arm64", ... for this machine (Go's names, as image configs use). */
const char *probe_host_arch(void);

/* Run every probe of o on a's image. 0, WH_EINPUT (another architecture,
 * an unknown User, the sandbox refused), WH_EINTR (SIGINT or SIGTERM:
 * everything is removed and killed first). */
int probe_run_all(const struct analysis *a, const struct probe_opts *o, struct probe_results *res,
                  struct wh_error *err);
void probe_results_free(struct probe_results *res);
void probe_result_free(struct probe_result *p);

enum { PROBE_PASS_ORIGINAL, PROBE_PASS_SLIM };

/* One pass: img's filesystem materialized once, every probe of o run on it
 * in order with orig's run settings (User, Env, WorkingDir; its
 * architecture checked), traced; v[i] (o->n of them, zeroed) gets cmd and
 * run, and the paths classified against orig's tree: ORIGINAL (img is
 * orig) as probe_run_all; SLIM: only missing, the paths that failed with
 * ENOENT and exist in orig. *n_done counts the results filled. Errors as
 * probe_run_all's. */
int probe_run_pass(const struct analysis *orig, const struct analysis *img, const struct probe_opts *o, int kind,
                   struct probe_result *v, size_t *n_done, struct wh_error *err);

/* The keep set with the probes: every touched path is kept as itself
 * (reach_opts.keep_probe: rule "probe", reason "probe: CMD", with the
 * static analysis's closure: ELF needs, symlinks on the way, interpreters;
 * a directory the probe listed, entered or looked at is kept without its
 * members, which are kept only when touched or kept otherwise; --drop
 * still wins), reach is computed again into *r (freed first), and each
 * probe's `added` lists what the static analysis alone did not keep
 * (directories too). */
int probe_apply(struct analysis *a, const struct reach_opts *ro, struct reach *r, struct probe_results *res,
                struct wh_error *err);

/* The report's "probe" list (schema whittle.report/v1). */
json_t *probe_report_json(const struct probe_results *res);

/* The summary lines for a terminal ("probe `cat /x`: exit 0 in 0.4 s,
 * 12 paths touched, kept 3 files the analysis missed: ..."). */
void probe_print_summary(const struct probe_results *res, FILE *out);

#endif
