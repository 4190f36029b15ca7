/* whittle: explore a container image and whittle it down. */
#include "cli/cli.h"
#include "slimmer/probe.h"
#include "slimmer/why.h"
#include "tui/tui.h"
#include "analyzer/reach.h"
#include "analyzer/fetch.h"
#include "analyzer/tmpfiles.h"
#include "analyzer/transport.h"
#include "slimmer/slim_session.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: whittle [MODE] [OPTIONS] IMAGE\n"
	"\n"
	"IMAGE: docker-archive:PATH[:NAME:TAG|@N]  oci:DIR[:TAG]  oci-archive:PATH[:TAG]\n"
	"       docker-daemon:NAME:TAG|sha256:ID (the engine on $DOCKER_HOST)\n"
	"       docker://HOST/REPO[:TAG|@DIGEST] (a registry)\n"
	"       or a bare path (sniffed); a bare NAME:TAG that is no path: the engine\n"
	"\n"
	"modes (none = the explorer, which needs a terminal)\n"
	"  --report FILE|-        write the JSON report (whittle.report/v1)\n"
	"  --ci                   dive's waste rules; exit 1 when one fails\n"
	"  --auto                 slim without a UI (with --dry-run: list only)\n"
	"  --why PATH             why PATH is kept, or why it is removable\n"
	"image\n"
	"  --platform OS/ARCH[/VARIANT]   when several manifests remain\n"
	"  --tls-verify=true|false        registries\n"
	"  --timeout SECONDS              registries, the engine: overall deadline (default none)\n"
	"  -j, --jobs N                   threads reading layers (default: cores)\n"
	"rules (dive's; camelCase spellings accepted)\n"
	"  --lowest-efficiency R  --highest-wasted-bytes SIZE|disabled\n"
	"  --highest-user-wasted-percent R|disabled  --ci-config FILE (default ./.dive-ci)\n"
	"reachability\n"
	"  --entrypoint ARGS  --cmd ARGS  --keep PATH|GLOB  --drop PATH|GLOB\n"
	"  --keep-exe NAME  --keep-package NAME  --rule NAME=on|off\n"
	"  --keep-from FILE (+PATH/-PATH lines; \\xHH and \\\\ decoded)  --report-files\n"
	"slimming\n"
	"  -o, --output DEST  --compression gzip|zstd|none  --force  --keep-dpkg-db\n"
	"  --drop-pycache (python's __pycache__/*.pyc of kept sources: compiled at import)\n"
	"  --min-reduction R  --fail-on-unresolved\n"
	"probe (run the image's commands in a sandbox; keep what they touch)\n"
	"  --probe CMD (words or a JSON array)  --probe-timeout SECONDS (60)\n"
	"  --probe-entrypoint (the image's Entrypoint+Cmd as a service)  --probe-wait PORT|SECONDSs\n"
	"  --probe-exec CMD (in the service's sandbox)  --probe-http PORT[/PATH] (a GET by whittle)\n"
	"  --no-verify-probes (with --auto: no proof that the output behaves as the original)\n"
	"general\n"
	"  -q, --quiet  --no-color (or NO_COLOR)  --version  -h, --help\n"
	"\n"
	"exit: 0 fine, 1 a rule failed, 2 bad usage or input, 3 output failed,\n"
	"      128+N killed by signal N: 130 interrupted (ctrl+c), 129 SIGHUP, 143 SIGTERM\n";

enum {
	O_REPORT = 1000, O_CI, O_AUTO, O_DRY, O_WHY, O_PLATFORM, O_TLS, O_LE, O_HWB, O_HUWP, O_CICONF,
	O_ENTRY, O_CMD, O_KEEP, O_DROP, O_KEEPEXE, O_KEEPPKG, O_KEEPFROM, O_RULE, O_REPFILES, O_COMP,
	O_FORCE, O_KEEPDPKG, O_DROPPYC, O_MINRED, O_FAILUNRES, O_NOCOLOR, O_VERSION, O_TIMEOUT,
};

static const struct option longopts[] = {
	{"report", required_argument, 0, O_REPORT},
	{"ci", no_argument, 0, O_CI},
	{"auto", no_argument, 0, O_AUTO},
	{"dry-run", no_argument, 0, O_DRY},
	{"why", required_argument, 0, O_WHY},
	{"platform", required_argument, 0, O_PLATFORM},
	{"tls-verify", required_argument, 0, O_TLS},
	{"timeout", required_argument, 0, O_TIMEOUT},
	{"jobs", required_argument, 0, 'j'},
	{"lowest-efficiency", required_argument, 0, O_LE},
	{"lowestEfficiency", required_argument, 0, O_LE},
	{"highest-wasted-bytes", required_argument, 0, O_HWB},
	{"highestWastedBytes", required_argument, 0, O_HWB},
	{"highest-user-wasted-percent", required_argument, 0, O_HUWP},
	{"highestUserWastedPercent", required_argument, 0, O_HUWP},
	{"ci-config", required_argument, 0, O_CICONF},
	{"entrypoint", required_argument, 0, O_ENTRY},
	{"cmd", required_argument, 0, O_CMD},
	{"keep", required_argument, 0, O_KEEP},
	{"drop", required_argument, 0, O_DROP},
	{"keep-exe", required_argument, 0, O_KEEPEXE},
	{"keep-package", required_argument, 0, O_KEEPPKG},
	{"keep-from", required_argument, 0, O_KEEPFROM},
	{"rule", required_argument, 0, O_RULE},
	{"report-files", no_argument, 0, O_REPFILES},
	{"output", required_argument, 0, 'o'},
	{"compression", required_argument, 0, O_COMP},
	{"force", no_argument, 0, O_FORCE},
	{"keep-dpkg-db", no_argument, 0, O_KEEPDPKG},
	{"drop-pycache", no_argument, 0, O_DROPPYC},
	{"min-reduction", required_argument, 0, O_MINRED},
	{"fail-on-unresolved", no_argument, 0, O_FAILUNRES},
	{"quiet", no_argument, 0, 'q'},
	{"no-color", no_argument, 0, O_NOCOLOR},
	{"version", no_argument, 0, O_VERSION},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0},
};

/* Every return from main frees the option lists (a leak report would turn
 * exit 2 into 1 in the sanitizer build). */
static int opts_done(struct cli_opts *o, int rc)
{
	slim_opts_free(&o->slim);
	return rc;
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "whittle: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'whittle --help'.\n");
	return WH_EXIT_INPUT;
}

/* Are dive's rules asked for without --ci (a rule flag, --ci-config, or
 * ./.dive-ci, the file ci_run reads)? Then --auto evaluates them. */
static int ci_wanted(const struct cli_opts *o)
{
	return o->lowest_efficiency.value || o->highest_wasted_bytes.value || o->highest_user_wasted_percent.value ||
	       o->ci_config || access(".dive-ci", F_OK) == 0;
}

/* --- progress on stderr ------------------------------------------------------- */

struct progress_state {
	struct timespec start;
	int shown;
};

static void progress_cb(void *ctx, size_t done, size_t n, uint64_t bytes, uint64_t total)
{
	struct progress_state *ps = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double dt = (double)(now.tv_sec - ps->start.tv_sec) + (double)(now.tv_nsec - ps->start.tv_nsec) / 1e9;
	char b[32], t[32], r[32];
	fmt_size(b, sizeof b, bytes);
	fmt_size(t, sizeof t, total);
	fmt_size(r, sizeof r, dt > 0.05 ? (uint64_t)((double)bytes / dt) : 0);
	size_t cur = done < n ? done + 1 : n;
	fprintf(stderr, "\r\033[Kloading layer %zu/%zu  %s / %s  %s/s", cur, n, b, t, r);
	ps->shown = 1;
}

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE: leave at once, with no
 * temporary left behind (a spooled image, a half-written output) */
static void on_signal(int sig)
{
	tmpfiles_cleanup_signal();
	if (sig == SIGINT)
		_exit(WH_EXIT_INTERRUPTED);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The command line into o. Returns -1 to go on, else the exit code
 * (--help, --version, bad usage); o's lists are freed by the caller. */
static int parse_args(int argc, char **argv, struct cli_opts *o, int *modes)
{
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case O_REPORT: o->report = optarg; break;
		case O_CI: o->mode_ci = 1; (*modes)++; break;
		case O_AUTO: o->mode_auto = 1; (*modes)++; break;
		case O_DRY: o->dry_run = 1; break;
		case O_WHY: o->why = optarg; (*modes)++; break;
		case O_PLATFORM: o->platform = optarg; break;
		case O_TIMEOUT: {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || !(v > 0 && v <= 1e7))
				return bad_usage("--timeout takes a number of seconds, not \"%s\"", optarg);
			fetch_set_timeout(v);
			break;
		}
		case O_TLS:
			if (!strcmp(optarg, "true"))
				o->tls_verify = 1;
			else if (!strcmp(optarg, "false"))
				o->tls_verify = 0;
			else
				return bad_usage("--tls-verify takes true or false, not \"%s\"", optarg);
			break;
		case 'j': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1024)
				return bad_usage("--jobs takes a number from 1 to 1024, not \"%s\"", optarg);
			o->jobs = (int)v;
			break;
		}
		case O_LE: o->lowest_efficiency.value = optarg; break;
		case O_HWB: o->highest_wasted_bytes.value = optarg; break;
		case O_HUWP: o->highest_user_wasted_percent.value = optarg; break;
		case O_CICONF: o->ci_config = optarg; break;
		case O_ENTRY: str_list_add(&o->slim.entrypoint, optarg); o->slim.entrypoint_set = 1; break;
		case O_CMD: str_list_add(&o->slim.cmd, optarg); o->slim.cmd_set = 1; break;
		case O_KEEP: str_list_add(&o->slim.keep, optarg); break;
		case O_DROP: str_list_add(&o->slim.drop, optarg); break;
		case O_KEEPEXE: str_list_add(&o->slim.keep_exe, optarg); break;
		case O_KEEPPKG: str_list_add(&o->slim.keep_package, optarg); break;
		case O_KEEPFROM: str_list_add(&o->slim.keep_from, optarg); break;
		case O_RULE: str_list_add(&o->slim.rules, optarg); break;
		case O_REPFILES: o->report_files = 1; break;
		case 'o': o->slim.output = optarg; break;
		case O_COMP:
			if (strcmp(optarg, "gzip") && strcmp(optarg, "zstd") && strcmp(optarg, "none"))
				return bad_usage("--compression takes gzip, zstd or none, not \"%s\"", optarg);
			o->slim.compression = optarg;
			break;
		case O_FORCE: o->slim.force = 1; break;
		case O_KEEPDPKG: o->slim.keep_dpkg_db = 1; break;
		case O_DROPPYC: o->slim.drop_pycache = 1; break;
		case O_MINRED: o->min_reduction = optarg; break;
		case O_FAILUNRES: o->fail_on_unresolved = 1; break;
		case 'q': o->quiet = 1; break;
		case O_NOCOLOR: o->no_color = 1; break;
		case O_VERSION: printf("whittle %s\n", WH_VERSION); return 0;
		case 'h': fputs(usage_text, stdout); return 0;
		case ':': return bad_usage("option %s needs a value", argv[optind - 1]);
		default: return bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (*modes > 1)
		return bad_usage("%s", "choose one mode: --ci, --auto or --why (--report may accompany --ci or --auto)");
	if (o->dry_run && !o->mode_auto)
		return bad_usage("%s", "--dry-run goes with --auto");
	if (optind != argc - 1)
		return bad_usage("%s", optind >= argc ? "no image given" : "one image at a time");
	o->image = argv[optind];
	return -1;
}

/* Everything but the explorer: analyse, then --why, --ci, --auto and
 * --report over one slimming session. Returns the exit code. */
static int run_modes(struct cli_opts *o, const struct analysis_opts *ao, struct progress_state *ps)
{
	struct analysis a;
	struct wh_error err = {0};
	int rc = analysis_run(o->image, ao, &a, &err);
	if (ps->shown)
		fputs("\r\033[K", stderr);
	if (rc < 0) {
		char hint[1200];
		transport_hint(o->image, hint, sizeof hint);
		util_escape_line(stderr, "whittle: ", err.msg);
		if (hint[0])
			util_escape_line(stderr, "whittle: ", hint);
		return WH_EXIT_INPUT;
	}
	int exit_code = WH_EXIT_OK;
	/* reachability: for --report, --why and --auto (not for --ci alone) */
	struct slim_session sess;
	int probe_failed = 0;
	slim_session_init(&sess, &a, &o->slim);
	if (o->mode_auto)
		exit_code = auto_check_roots(&a, o);
	if ((o->report || o->why || o->mode_auto) && exit_code == WH_EXIT_OK) {
		int rc = slim_session_reach(&sess, NULL, &err);
		if (!sess.have_db && !o->quiet)
			util_escape_line(stderr, "whittle: warning: package database: ", sess.db_err.msg);
		if (rc < 0) {
			util_escape_line(stderr, "whittle: ", err.msg);
			exit_code = WH_EXIT_INPUT;
		} else if ((rc = slim_session_probe(&sess, o->quiet ? NULL : stderr, &err)) < 0) {
			util_escape_line(stderr, "whittle: ", err.msg);
			exit_code = rc == WH_EINTR ? WH_EXIT_INTERRUPTED : rc == WH_EOUTPUT ? WH_EXIT_OUTPUT : WH_EXIT_INPUT;
			probe_failed = 1; /* nothing is written or explained after a failed probe */
		}
	}
	int have_reach = sess.have_reach && !probe_failed;
	if (o->mode_auto && have_reach && exit_code == WH_EXIT_OK)
		exit_code = auto_check_program(&sess.r);
	if (o->why && have_reach) {
		if (why_print(&sess.r, &a, o->why, stdout, &err) < 0) {
			util_escape_line(stderr, "whittle: ", err.msg);
			exit_code = WH_EXIT_INPUT;
		}
	}
	/* --ci, or --auto with rules given: dive's rules on the input (with
	 * --auto the text goes to stderr, beside the slimming summary) */
	if (o->mode_ci || (o->mode_auto && ci_wanted(o))) {
		int r = ci_run(&a, o, o->mode_auto || (o->report && !strcmp(o->report, "-")) ? stderr : stdout, &err);
		if (r < 0) {
			util_escape_line(stderr, "whittle: ", err.msg);
			exit_code = WH_EXIT_INPUT;
		} else if (r > 0) {
			exit_code = WH_EXIT_RULE;
		}
	}
	json_t *slim_json = NULL;
	if (o->mode_auto && have_reach && exit_code != WH_EXIT_INPUT) {
		int r = auto_run(&a, o, &sess, &slim_json);
		if (r != WH_EXIT_OK && !(r == WH_EXIT_RULE && exit_code != WH_EXIT_OK))
			exit_code = r;
	}
	if (o->report && exit_code != WH_EXIT_INPUT && exit_code != WH_EXIT_INTERRUPTED) {
		json_t *doc = report_build(&a, o);
		/* the figures of the image --auto writes: the plan (--auto made it) */
		struct slim_figures fg;
		int have_fg = have_reach && (sess.have_plan || slim_session_plan(&sess, &err) == 0);
		if (have_fg)
			slim_session_figures(&sess, &fg);
		if (have_reach)
			json_object_set_new(doc, "reach", report_reach(&sess.r, have_fg ? &fg : NULL, o->report_files));
		if (slim_json)
			json_object_set(doc, "slim", slim_json);
		if (sess.probes.n)
			json_object_set_new(doc, "probe", probe_report_json(&sess.probes));
		if (report_write(doc, o->report, &err) < 0) {
			util_escape_line(stderr, "whittle: ", err.msg);
			exit_code = WH_EXIT_OUTPUT;
		}
		json_decref(doc);
	}
	json_decref(slim_json);
	slim_session_free(&sess);
	analysis_free(&a);
	return exit_code;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	memset(&o, 0, sizeof o);
	o.tls_verify = 1;
	if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
		o.no_color = 1;
	struct wh_error perr = {0};
	if (probe_opts_take(&argc, argv, &o.slim.probe, &perr) < 0)
		return opts_done(&o, bad_usage("%s", perr.msg));
	int modes = 0;
	int rc = parse_args(argc, argv, &o, &modes);
	if (rc >= 0)
		return opts_done(&o, rc);
	o.slim.jobs = o.jobs;
	{
		/* a typo in a transport is refused before anything is read or written */
		struct wh_error terr = {0};
		if ((o.slim.output && transport_check_output(o.slim.output, "-o", &terr) < 0) ||
		    transport_check_image(o.image, &terr) < 0) {
			util_escape_line(stderr, "whittle: ", terr.msg);
			return opts_done(&o, WH_EXIT_INPUT);
		}
	}
	int tui = !o.report && modes == 0;
	if (tui && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "whittle: the explorer needs a terminal; without one, use --report FILE, --ci or --auto\n");
		return opts_done(&o, WH_EXIT_INPUT);
	}

	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		signal(sigs[i], on_signal);
	struct progress_state ps = {0};
	clock_gettime(CLOCK_MONOTONIC, &ps.start);
	struct analysis_opts ao = {.platform = o.platform, .jobs = o.jobs, .tls_no_verify = !o.tls_verify};
	if (!o.quiet && isatty(STDERR_FILENO) && !tui) {
		ao.progress.cb = progress_cb;
		ao.progress.ctx = &ps;
	}
	rc = tui ? tui_main(o.image, o.no_color, &ao, &o.slim) : run_modes(&o, &ao, &ps);
	return opts_done(&o, rc);
}
