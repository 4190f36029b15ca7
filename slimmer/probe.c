/* probe: sandboxed, traced runs of the image's commands (see .h). */
#include "slimmer/probe.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "analyzer/pathres.h"
#include "slimmer/materialize.h"
#include "slimmer/probe_verify.h"

/* --- options -------------------------------------------------------------------- */

void probe_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

static int split_words(const char *s, char ***out, struct wh_error *err)
{
	size_t n = 0, cap = 8;
	char **v = xmalloc(cap * sizeof *v);
	struct buf w = {0};
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		w.len = 0;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			char q = *p;
			if (q == '\'' || q == '"') {
				const char *end = strchr(p + 1, q);
				if (!end) {
					v[n] = NULL;
					probe_argv_free(v);
					buf_free(&w);
					return wh_err(err, WH_EINPUT, "--probe %s: unterminated %c quote", s, q);
				}
				for (p++; p < end; p++) {
					if (q == '"' && *p == '\\' && p + 1 < end && strchr("\\\"$`", p[1]))
						p++;
					buf_append(&w, p, 1);
				}
				p++;
			} else if (q == '\\' && p[1]) {
				buf_append(&w, p + 1, 1);
				p += 2;
			} else {
				buf_append(&w, p++, 1);
			}
		}
		if (n + 2 > cap)
			v = xrealloc(v, (cap *= 2) * sizeof *v);
		v[n++] = xstrndup(w.len ? (const char *)w.data : "", w.len);
	}
	buf_free(&w);
	v[n] = NULL;
	if (!n) {
		free(v);
		return wh_err(err, WH_EINPUT, "--probe: an empty command");
	}
	*out = v;
	return 0;
}

int probe_parse_cmd(const char *text, char ***argv, struct wh_error *err)
{
	const char *t = text;
	while (*t == ' ')
		t++;
	if (*t != '[')
		return split_words(text, argv, err);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j || !json_is_array(j) || !json_array_size(j)) {
		json_decref(j);
		return wh_err(err, WH_EINPUT, "--probe %s: not a JSON array of strings (%s)", text, j ? "empty" : je.text);
	}
	size_t n = json_array_size(j);
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(j, i));
		if (!s) {
			probe_argv_free(v);
			json_decref(j);
			return wh_err(err, WH_EINPUT, "--probe %s: item %zu is not a string", text, i);
		}
		v[i] = xstrdup(s);
	}
	json_decref(j);
	*argv = v;
	return 0;
}

static int is_opt(const char *a, const char *name)
{
	size_t l = strlen(name);
	return !strncmp(a, name, l) && (a[l] == 0 || a[l] == '=');
}

static void add_cmd(struct probe_cmd **v, size_t *n, const char *text, char **argv)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = (struct probe_cmd){.text = xstrdup(text), .argv = argv};
}

/* --probe-http PORT[/PATH] */
static int take_http(struct probe_opts *o, const char *val, struct wh_error *err)
{
	char *end;
	long port = strtol(val, &end, 10);
	if (end == val || port <= 0 || port > 65535 || (*end && *end != '/'))
		return wh_err(err, WH_EINPUT, "--probe-http takes PORT[/PATH] (a TCP port 1-65535), not \"%s\"", val);
	char **argv = xcalloc(3, sizeof *argv);
	argv[0] = xstrndup(val, (size_t)(end - val));
	argv[1] = xstrdup(*end ? end : "/");
	add_cmd(&o->https, &o->n_http, val, argv);
	return 0;
}

/* --probe-wait PORT (an integer) or SECONDSs ("2s", "0.5s") */
static int take_wait(struct probe_opts *o, const char *val, struct wh_error *err)
{
	char *end;
	double v = strtod(val, &end);
	if (end != val && !strcmp(end, "s") && v >= 0 && v <= 86400) {
		o->wait_s = v;
		o->wait_port = 0;
		return 0;
	}
	long port = strtol(val, &end, 10);
	if (end == val || *end || port <= 0 || port > 65535)
		return wh_err(err, WH_EINPUT, "--probe-wait takes a TCP port (1-65535) or seconds (\"5s\"), not \"%s\"",
		              val);
	o->wait_port = (int)port;
	return 0;
}

int probe_opts_take(int *argc, char **argv, struct probe_opts *o, struct wh_error *err)
{
	if (!o->timeout_s)
		o->timeout_s = 60;
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) { /* the rest is not ours */
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--no-verify-probes") || !strcmp(a, "--probe-entrypoint")) {
			*(a[2] == 'n' ? &o->no_verify : &o->service) = 1;
			continue;
		}
		static const char *const valued[] = {"--probe", "--probe-timeout", "--probe-exec", "--probe-http",
		                                     "--probe-wait"};
		size_t which = ARRAY_LEN(valued);
		for (size_t k = 0; k < ARRAY_LEN(valued) && which == ARRAY_LEN(valued); k++)
			if (is_opt(a, valued[k]))
				which = k;
		if (which == ARRAY_LEN(valued)) {
			argv[out++] = argv[i];
			continue;
		}
		const char *eq = strchr(a, '=');
		const char *val = eq ? eq + 1 : (i + 1 < *argc ? argv[++i] : NULL);
		if (!val)
			return wh_err(err, WH_EINPUT, "option %s needs a value", a);
		int rc = 0;
		if (which == 1) {
			char *end;
			double v = strtod(val, &end);
			if (*end || !(v > 0) || v > 86400)
				return wh_err(err, WH_EINPUT, "--probe-timeout takes seconds (0 < N <= 86400), not \"%s\"", val);
			o->timeout_s = v;
		} else if (which == 3) {
			rc = take_http(o, val, err);
		} else if (which == 4) {
			rc = take_wait(o, val, err);
		} else {
			char **cv;
			rc = probe_parse_cmd(val, &cv, err);
			if (rc == 0)
				add_cmd(which ? &o->execs : &o->cmds, which ? &o->n_exec : &o->n, val, cv);
		}
		if (rc < 0)
			return rc;
	}
	argv[out] = NULL;
	*argc = out;
	if ((o->n_exec || o->n_http || o->wait_port || o->wait_s) && !o->service)
		return wh_err(err, WH_EINPUT, "--probe-exec, --probe-http and --probe-wait need --probe-entrypoint");
	return 0;
}

static void cmds_free(struct probe_cmd **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free((*v)[i].text);
		probe_argv_free((*v)[i].argv);
	}
	free(*v);
	*v = NULL;
	*n = 0;
}

size_t probe_count(const struct probe_opts *o)
{
	return o->n + (o->service ? 1 + o->n_exec + o->n_http : 0);
}

void probe_opts_free(struct probe_opts *o)
{
	cmds_free(&o->cmds, &o->n);
	cmds_free(&o->execs, &o->n_exec);
	cmds_free(&o->https, &o->n_http);
}

const char *probe_host_arch(void)
{
	static struct utsname u;
	if (uname(&u) < 0)
		return "unknown";
	static const char *const map[][2] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"i686", "386"}, {"i386", "386"}, {"armv7l", "arm"},
		{"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
	};
	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (!strcmp(u.machine, map[i][0]))
			return map[i][1];
	return u.machine;
}

/* --- the image's run settings --------------------------------------------------- */

static const uint8_t *image_file(const struct analysis *a, const char *path, size_t *len)
{
	struct pathres pr;
	const uint8_t *c = NULL;
	if (pathres_resolve(&a->tree, NULL, path, PATHRES_FOLLOW, &pr, NULL) == 0 && pr.node && pr.node->e &&
	    pr.node->e->extra && pr.node->e->extra->content) {
		c = pr.node->e->extra->content;
		*len = pr.node->e->extra->content_len;
	}
	pathres_free(&pr);
	return c;
}

/* name or number in /etc/passwd (field 2: uid, 3: gid) or /etc/group (2: gid) */
static int id_of(const struct analysis *a, const char *file, const char *name, int field, long *id, long *gid)
{
	char *end;
	long v = strtol(name, &end, 10);
	if (*name && !*end && v >= 0 && v < 65536) {
		*id = v;
		return 0;
	}
	size_t len = 0;
	const uint8_t *c = image_file(a, file, &len);
	if (!c)
		return -1;
	char *text = xstrndup((const char *)c, len);
	int rc = -1;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && rc < 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = {0};
		char *p = line;
		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = 0;
		}
		if (f[0] && f[field] && !strcmp(f[0], name)) {
			*id = strtol(f[field], NULL, 10);
			if (gid && f[3])
				*gid = strtol(f[3], NULL, 10);
			rc = 0;
		}
	}
	free(text);
	return rc;
}

static int image_user(const struct analysis *a, uint32_t *uid, uint32_t *gid, struct wh_error *err)
{
	const char *u = image_config_str(&a->img, "User");
	*uid = *gid = 0;
	if (!u || !*u)
		return 0;
	char *user = xstrdup(u), *group = strchr(user, ':');
	if (group)
		*group++ = 0;
	long id = 0, g = -1;
	int rc = 0;
	if (id_of(a, "/etc/passwd", user, 2, &id, &g) < 0)
		rc = wh_err(err, WH_EINPUT, "the image's User \"%s\": no such user in its /etc/passwd", u);
	else if (group && id_of(a, "/etc/group", group, 2, &g, NULL) < 0)
		rc = wh_err(err, WH_EINPUT, "the image's User \"%s\": no such group in its /etc/group", u);
	free(user);
	if (rc == 0) {
		*uid = (uint32_t)id;
		*gid = (uint32_t)(g >= 0 ? g : 0);
	}
	return rc;
}

static char **image_env(const struct analysis *a)
{
	json_t *e = image_config_get(&a->img, "Env");
	size_t n = json_is_array(e) ? json_array_size(e) : 0, k = 0;
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		if (json_string_value(json_array_get(e, i)))
			v[k++] = xstrdup(json_string_value(json_array_get(e, i)));
	return v;
}

/* --- running -------------------------------------------------------------------- */

static volatile sig_atomic_t probe_sig;

static void on_signal(int sig)
{
	probe_sig = sig;
	sandbox_interrupted = 1;
}

/* the sandbox's own mounts (/tmp and /run hold the image's entries: theirs count) */
static int sandboxed_path(const char *p)
{
	static const char *const own[] = {"/proc", "/dev", "/sys"};
	for (size_t i = 0; i < ARRAY_LEN(own); i++) {
		size_t l = strlen(own[i]);
		if (!strncmp(p, own[i], l) && (p[l] == 0 || p[l] == '/'))
			return 1;
	}
	return 0;
}

static void push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

/* ORIGINAL: touched = the paths that exist in orig's image, missing =
 * those that failed with ENOENT and do not. SLIM: missing = the paths that
 * failed with ENOENT and exist in orig's image (what the slimmed image lacks). */
void probe_collect(const struct analysis *orig, const struct trace_path *tp, size_t n, int kind,
                   struct probe_result *pr)
{
	for (size_t i = 0; i < n; i++) {
		if (sandboxed_path(tp[i].path) || !strcmp(tp[i].path, "/"))
			continue;
		struct pathres r;
		int exists = pathres_resolve(&orig->tree, NULL, tp[i].path, 0, &r, NULL) == 0 && r.node;
		pathres_free(&r);
		int enoent = (tp[i].flags & TRACE_ENOENT) != 0;
		if (kind == PROBE_PASS_SLIM) {
			if (exists && enoent)
				push(&pr->missing, &pr->n_missing, tp[i].path);
		} else if (exists) {
			push(&pr->touched, &pr->n_touched, tp[i].path);
		} else if (enoent) {
			push(&pr->missing, &pr->n_missing, tp[i].path);
		}
	}
}

static int run_one(const struct analysis *orig, const struct probe_cmd *cmd, int kind, struct sbx_config *sc,
                   struct probe_result *pr, struct wh_error *err)
{
	struct trace *t = trace_new();
	sc->argv = cmd->argv;
	sc->trace = t;
	int rc = sandbox_run(sc, &pr->run, err);
	if (rc == 0) {
		size_t n;
		const struct trace_path *tp = trace_paths(t, &n);
		probe_collect(orig, tp, n, kind, pr);
	}
	trace_free(t);
	return rc;
}

int probe_run_pass(const struct analysis *orig, const struct analysis *img, const struct probe_opts *o, int kind,
                   struct probe_result *v, size_t *n_done, struct wh_error *err)
{
	*n_done = 0;
	const char *arch = orig->img.architecture ? orig->img.architecture : "unknown";
	if (strcmp(arch, probe_host_arch()))
		return wh_err(err, WH_EINPUT, "the image is for %s, this machine is %s: a probe cannot run it (no "
		              "emulation)", arch, probe_host_arch());
	/* the original's run settings, for the slimmed image too (its config copies them) */
	struct sbx_config sc = {.timeout_s = o->timeout_s > 0 ? o->timeout_s : 60, .grace_s = 2,
	                        .image = orig->img.reference};
	int rc = image_user(orig, &sc.uid, &sc.gid, err);
	if (rc < 0)
		return rc;
	sc.id_base = getuid() == 0 ? sandbox_id_base() : -1;
	char **env = image_env(orig);
	sc.env = env;
	sc.workdir = image_config_str(&orig->img, "WorkingDir");
	mat_remove_stale(o->tmpdir);
	probe_sig = 0;
	sandbox_interrupted = 0;
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	/* one copy of the filesystem for all the probes, in order (what one writes, the next sees) */
	struct materialized m = {0};
	struct mat_opts mo = {.tmpdir = o->tmpdir, .uid_base = sc.id_base, .gid_base = sc.id_base,
	                      .stop = &sandbox_interrupted};
	rc = probe_sig ? 0 : materialize(img, &mo, &m, err);
	sc.rootfs = m.rootfs;
	for (size_t i = 0; i < o->n && rc == 0 && !probe_sig; i++) {
		struct probe_result *pr = &v[(*n_done)++];
		pr->cmd = &o->cmds[i];
		rc = run_one(orig, &o->cmds[i], kind, &sc, pr, err);
		if (rc < 0)
			wh_err_prefix(err, "probe `%s`: ", o->cmds[i].text);
	}
	if (o->service && rc == 0 && !probe_sig) {
		size_t k = 0;
		rc = probe_service_run(orig, o, kind, &sc, v + *n_done, &k, err);
		*n_done += k;
	}
	struct wh_error e2 = {0};
	if (m.dir && materialize_remove(&m, &e2) < 0 && rc == 0)
		rc = wh_err(err, WH_EOUTPUT, "removing the probes' directory: %s", e2.msg);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	probe_argv_free(env);
	if (probe_sig) {
		int sig = probe_sig;
		probe_sig = 0;
		sandbox_interrupted = 0;
		err->code = 0;
		return wh_err(err, WH_EINTR, "interrupted (signal %d) while probing", sig);
	}
	return rc;
}

int probe_run_all(const struct analysis *a, const struct probe_opts *o, struct probe_results *res,
                  struct wh_error *err)
{
	memset(res, 0, sizeof *res);
	if (!probe_count(o))
		return 0;
	res->v = xcalloc(probe_count(o), sizeof *res->v);
	return probe_run_pass(a, a, o, PROBE_PASS_ORIGINAL, res->v, &res->n, err);
}

void probe_result_free(struct probe_result *p)
{
	sbx_result_free(&p->run);
	free(p->own.text);
	probe_argv_free(p->own.argv);
	for (size_t k = 0; k < p->n_touched; k++)
		free(p->touched[k]);
	for (size_t k = 0; k < p->n_missing; k++)
		free(p->missing[k]);
	for (size_t k = 0; k < p->n_added; k++)
		free(p->added[k]);
	free(p->touched);
	free(p->missing);
	free(p->why);
	free(p->added);
	probe_verify_free(p->verify);
	memset(p, 0, sizeof *p);
}

void probe_results_free(struct probe_results *res)
{
	for (size_t i = 0; i < res->n; i++)
		probe_result_free(&res->v[i]);
	free(res->v);
	str_list_free(&res->keep);
	free(res->keep_why);
	str_list_free(&res->ran);
	free(res->ran_why);
	memset(res, 0, sizeof *res);
}

/* --- the keep set --------------------------------------------------------------- */

static struct wh_node *image_node(const struct analysis *a, const char *path)
{
	struct pathres r;
	struct wh_node *n = NULL;
	if (pathres_resolve(&a->tree, NULL, path, 0, &r, NULL) == 0)
		n = r.node;
	pathres_free(&r);
	return n;
}

/* Did result i pass? A command or an exec: exit 0 in time; an HTTP GET:
 * an answer under 400; the service: every exec and GET of its pass
 * passed (it is stopped at the end, so its own status says nothing), and
 * there was at least one. */
static int probe_passed(const struct probe_results *res, size_t i)
{
	const struct probe_result *p = &res->v[i];
	switch (p->kind) {
	case PROBE_HTTP:
		return p->run.exit_status >= 200 && p->run.exit_status < 400;
	case PROBE_SERVICE: {
		size_t j = i + 1;
		for (; j < res->n && (res->v[j].kind == PROBE_EXEC || res->v[j].kind == PROBE_HTTP); j++)
			if (!probe_passed(res, j))
				return 0;
		return j > i + 1;
	}
	default:
		return !p->run.timed_out && p->run.exit_status == 0;
	}
}

/* res->ran: every path the passing probes touched, with the probe's reason */
static void collect_ran(struct probe_results *res)
{
	str_list_free(&res->ran);
	free(res->ran_why);
	res->ran_why = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < res->n; i++)
		if (probe_passed(res, i))
			cap += res->v[i].n_touched;
	res->ran_why = xmalloc((cap ? cap : 1) * sizeof *res->ran_why);
	for (size_t i = 0; i < res->n; i++) {
		if (!probe_passed(res, i))
			continue;
		for (size_t k = 0; k < res->v[i].n_touched; k++) {
			res->ran_why[res->ran.n] = res->v[i].why;
			str_list_add(&res->ran, res->v[i].touched[k]);
		}
	}
}

int probe_apply(struct analysis *a, const struct reach_opts *ro, struct reach *r, struct probe_results *res,
                struct wh_error *err)
{
	/* what the static analysis kept (bit 0 of mark) before the probes' keeps */
	struct reach_opts o2 = *ro;
	size_t cap = 0;
	for (size_t i = 0; i < res->n; i++)
		cap += res->v[i].n_touched;
	o2.keep_probe.v = xmalloc((cap ? cap : 1) * sizeof *o2.keep_probe.v);
	o2.keep_probe.n = 0;
	const char **why = xmalloc((cap ? cap : 1) * sizeof *why);
	uint8_t **was = xcalloc(res->n ? res->n : 1, sizeof *was);
	for (size_t i = 0; i < res->n; i++) {
		struct probe_result *p = &res->v[i];
		if (!p->why)
			p->why = xasprintf("probe: %s", p->cmd->text);
		was[i] = xcalloc(p->n_touched ? p->n_touched : 1, 1);
		for (size_t k = 0; k < p->n_touched; k++) {
			/* each path as itself: a directory without its members (reach_opts.keep_probe) */
			struct wh_node *n = image_node(a, p->touched[k]);
			was[i][k] = n && (n->mark & WH_MARK_KEEP);
			why[o2.keep_probe.n] = p->why;
			o2.keep_probe.v[o2.keep_probe.n++] = xstrdup(p->touched[k]);
		}
	}
	o2.keep_probe_why = why;
	collect_ran(res);
	o2.probe_ran = res->ran;
	o2.probe_ran_why = (const char *const *)res->ran_why;
	reach_free(r);
	memset(r, 0, sizeof *r);
	int rc = reach_compute(a, &o2, r, err);
	for (size_t i = 0; i < res->n && rc == 0; i++) {
		struct probe_result *p = &res->v[i];
		for (size_t k = 0; k < p->n_touched; k++) {
			struct wh_node *n = image_node(a, p->touched[k]);
			if (!was[i][k] && n && (n->mark & WH_MARK_KEEP))
				push(&p->added, &p->n_added, p->touched[k]);
		}
	}
	for (size_t i = 0; i < res->n; i++)
		free(was[i]);
	free(was);
	str_list_free(&res->keep);
	free(res->keep_why);
	res->keep = o2.keep_probe;
	res->keep_why = why;
	return rc;
}

json_t *probe_report_json(const struct probe_results *res)
{
	json_t *list = json_array();
	for (size_t i = 0; i < res->n; i++) {
		const struct probe_result *p = &res->v[i];
		json_t *added = json_array();
		for (size_t k = 0; k < p->n_added; k++)
			json_array_append_new(added, json_string(p->added[k]));
		static const char *const kinds[] = {"command", "service", "exec", "http"};
		int http = p->kind == PROBE_HTTP;
		json_t *o = json_pack("{s:s, s:s, s:i, s:f, s:I, s:o, s:b, s:b}", "command", p->cmd->text, "kind",
		                      kinds[p->kind], "exit_status", http ? !p->run.exit_status : p->run.exit_status,
		                      "duration_s", p->run.duration_s, "touched",
		                      (json_int_t)p->n_touched, "added_by_probe", added, "timed_out", p->run.timed_out,
		                      "output_truncated", p->run.out_truncated || p->run.err_truncated);
		/* as text (invalid UTF-8 replaced by jansson's refusal: then left out) */
		json_t *so = json_stringn((const char *)(p->run.out.data ? p->run.out.data : (uint8_t *)""), p->run.out.len);
		json_t *se = http ? NULL : json_stringn((const char *)(p->run.err.data ? p->run.err.data : (uint8_t *)""), p->run.err.len);
		if (http)
			json_object_set_new(o, "http_status", json_integer(p->run.exit_status));
		if (so)
			json_object_set_new(o, http ? "body" : "stdout", so);
		if (se)
			json_object_set_new(o, "stderr", se);
		if (p->verify)
			json_object_set_new(o, "verify", probe_verify_json(p->verify));
		json_array_append_new(list, o);
	}
	return list;
}

void probe_print_summary(const struct probe_results *res, FILE *out)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct probe_result *p = &res->v[i];
		if (p->kind == PROBE_HTTP) {
			fprintf(out, "probe `%s`: HTTP status %d (0: no answer), %zu bytes of body in %.1f s\n", p->cmd->text,
			        p->run.exit_status, p->run.out.len, p->run.duration_s);
			continue;
		}
		fprintf(out, "probe `%s`: %s %d in %.1f s, %zu paths of the image touched", p->cmd->text,
		        p->run.timed_out ? "timed out, status" : "exit", p->run.exit_status, p->run.duration_s,
		        p->n_touched);
		if (p->n_added) {
			fprintf(out, "; kept %zu that the analysis missed:\n", p->n_added);
			for (size_t k = 0; k < p->n_added; k++)
				fprintf(out, "  %s\n", p->added[k]);
		} else {
			fputs("\n", out);
		}
	}
}

