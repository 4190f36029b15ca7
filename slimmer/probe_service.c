/* probe_service: --probe-entrypoint, its --probe-wait, --probe-exec and
 * --probe-http (see probe.h).
 *
 * The service runs in a forked helper process (sandbox_run, traced), so that
 * whittle itself stays free to wait for it, to start the execs (each in a
 * helper of its own: sandbox_run with .join, traced) and to make the HTTP
 * GETs (a forked child that joins only the sandbox's user and network
 * namespaces). A helper sends its result back through a pipe when its run is
 * over; the service's run is over when whittle sends its helper SIGTERM (the
 * sandbox then gets SIGTERM, the grace period, SIGKILL). */
#include "slimmer/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HTTP_HEAD_MAX (64 * 1024)

/* --- a helper's result through a pipe ------------------------------------------ */

static void put32(struct buf *b, uint32_t v)
{
	buf_append(b, &v, sizeof v);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	put32(b, (uint32_t)n);
	if (n)
		buf_append(b, p, n);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* in the helper: run sc, send rc, the error, the result and the trace's paths */
static void helper(struct sbx_config *sc, int fd)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct trace *t = trace_new();
	sc->trace = t;
	struct sbx_result r;
	struct wh_error e = {0};
	int rc = sandbox_run(sc, &r, &e);
	struct buf b = {0};
	put32(&b, (uint32_t)rc);
	put_bytes(&b, e.msg, strlen(e.msg));
	put32(&b, (uint32_t)r.exit_status);
	put32(&b, (uint32_t)r.timed_out);
	put32(&b, (uint32_t)(r.duration_s * 1000));
	put32(&b, (uint32_t)(r.out_truncated | r.err_truncated << 1));
	put_bytes(&b, r.out.data, r.out.len);
	put_bytes(&b, r.err.data, r.err.len);
	size_t n = 0;
	const struct trace_path *tp = rc == 0 ? trace_paths(t, &n) : NULL;
	put32(&b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put32(&b, tp[i].flags);
		put_bytes(&b, tp[i].path, strlen(tp[i].path));
	}
	write_all(fd, b.data, b.len);
	_exit(0);
}

static pid_t spawn(struct sbx_config *sc, int *rfd, int close_in_child)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (close_in_child >= 0)
			close(close_in_child);
		helper(sc, p[1]);
	}
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	*rfd = pid < 0 ? -1 : p[0];
	return pid;
}

static void read_all(int fd, struct buf *b, pid_t helper_pid)
{
	uint8_t chunk[65536];
	int sent = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR) {
			if (sandbox_interrupted && !sent++) /* whittle is interrupted: so is the helper */
				kill(helper_pid, SIGTERM);
			continue;
		}
		if (n <= 0)
			break;
		buf_append(b, chunk, (size_t)n);
	}
	close(fd);
}

struct cursor {
	const uint8_t *p, *end;
	int bad;
};

static uint32_t get32(struct cursor *c)
{
	uint32_t v = 0;
	if (c->end - c->p < 4) {
		c->bad = 1;
		return 0;
	}
	memcpy(&v, c->p, 4);
	c->p += 4;
	return v;
}

static const uint8_t *get_bytes(struct cursor *c, size_t *n)
{
	*n = get32(c);
	if ((size_t)(c->end - c->p) < *n) {
		c->bad = 1;
		*n = 0;
	}
	const uint8_t *s = c->p;
	c->p += *n;
	return s;
}

/* wait for the helper, read its result into pr */
static int collect_helper(const struct analysis *orig, pid_t pid, int fd, int kind, struct probe_result *pr,
                          struct wh_error *err)
{
	struct buf b = {0};
	read_all(fd, &b, pid);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	struct cursor c = {b.data, b.data + b.len, 0};
	int rc = (int)get32(&c);
	size_t n;
	const uint8_t *s = get_bytes(&c, &n);
	if (!c.bad && rc < 0)
		rc = wh_err(err, rc, "%.*s", (int)n, (const char *)s);
	pr->run.exit_status = (int)get32(&c);
	pr->run.timed_out = (int)get32(&c);
	pr->run.duration_s = get32(&c) / 1000.0;
	uint32_t tr = get32(&c);
	pr->run.out_truncated = tr & 1;
	pr->run.err_truncated = (tr >> 1) & 1;
	s = get_bytes(&c, &n);
	buf_append(&pr->run.out, s, n);
	s = get_bytes(&c, &n);
	buf_append(&pr->run.err, s, n);
	uint32_t np = get32(&c);
	struct trace_path *tp = xcalloc(np && !c.bad ? np : 1, sizeof *tp);
	size_t k = 0;
	for (; k < np && !c.bad; k++) {
		tp[k].flags = get32(&c);
		s = get_bytes(&c, &n);
		tp[k].path = xstrndup((const char *)s, n);
	}
	if (c.bad && rc == 0)
		rc = wh_err(err, WH_EOUTPUT, "the probe's helper process ended without its result (status %d)", st);
	if (rc == 0)
		probe_collect(orig, tp, k, kind, pr);
	for (size_t i = 0; i < k; i++)
		free(tp[i].path);
	free(tp);
	buf_free(&b);
	return rc;
}

/* --- the service's command ------------------------------------------------------ */

static int service_argv(const struct analysis *a, const struct probe_opts *o, struct probe_cmd *out,
                        struct wh_error *err)
{
	struct str_list entry = {0}, cmd = {0};
	int rc = reach_run_argv(a, o->entrypoint, o->entrypoint_set, o->cmd, o->cmd_set, &entry, &cmd, err);
	size_t n = entry.n + cmd.n;
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < entry.n; i++)
		v[i] = entry.v[i];
	for (size_t i = 0; i < cmd.n; i++)
		v[entry.n + i] = cmd.v[i];
	free(entry.v); /* the words moved to v */
	free(cmd.v);
	if (rc == 0 && !n)
		rc = wh_err(err, WH_EINPUT, "--probe-entrypoint: the image has no Entrypoint or Cmd (give --entrypoint)");
	if (rc < 0) {
		probe_argv_free(v);
		return rc;
	}
	struct buf t = {0};
	buf_append(&t, "entrypoint:", 11);
	for (size_t i = 0; i < n; i++) {
		buf_append(&t, " ", 1);
		buf_append(&t, v[i], strlen(v[i]));
	}
	buf_append(&t, "", 1);
	out->text = (char *)t.data;
	out->argv = v;
	return 0;
}

/* --- HTTP and the port wait, from the sandbox's network namespace --------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_port(int port, double timeout_s)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct timeval tv = {.tv_sec = (time_t)timeout_s, .tv_usec = (long)((timeout_s - (double)(time_t)timeout_s) * 1e6)};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* in the forked child: the GET; writes the status (int32) and the body to fd */
static void http_child(pid_t init, int port, const char *path, double timeout_s, int fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm((unsigned)timeout_s + 1);
	int32_t status = 0;
	struct buf b = {0};
	int s = sandbox_join(init, 1, 0, 0) < 0 ? -1 : connect_port(port, timeout_s);
	if (s >= 0) {
		char *req = xasprintf("GET %s HTTP/1.0\r\nHost: localhost:%d\r\nUser-Agent: whittle-probe\r\n\r\n", path,
		                      port);
		write_all(s, (const uint8_t *)req, strlen(req));
		free(req);
		uint8_t chunk[65536];
		ssize_t n;
		while (b.len < SBX_CAP + HTTP_HEAD_MAX && (n = read(s, chunk, sizeof chunk)) > 0)
			buf_append(&b, chunk, (size_t)n);
		close(s);
	}
	const char *d = b.len ? (const char *)b.data : "";
	const uint8_t *body = NULL;
	for (size_t i = 0; i + 3 < b.len && !body; i++)
		if (!memcmp(d + i, "\r\n\r\n", 4))
			body = b.data + i + 4;
	if (b.len > 12 && !strncmp(d, "HTTP/", 5) && memchr(d, ' ', 12))
		status = (int32_t)strtol(strchr(d, ' ') + 1, NULL, 10);
	write_all(fd, (const uint8_t *)&status, sizeof status);
	if (body) {
		size_t len = b.len - (size_t)(body - b.data);
		write_all(fd, body, len > SBX_CAP ? SBX_CAP : len);
	}
	_exit(0);
}

static void http_probe(pid_t init, const struct probe_cmd *h, double timeout_s, struct probe_result *pr)
{
	double t0 = now_s();
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		http_child(init, atoi(h->argv[0]), h->argv[1], timeout_s, p[1]);
	}
	close(p[1]);
	struct buf b = {0};
	if (pid > 0) {
		read_all(p[0], &b, pid);
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	} else {
		close(p[0]);
	}
	int32_t status = 0;
	if (b.len >= sizeof status) {
		memcpy(&status, b.data, sizeof status);
		buf_append(&pr->run.out, b.data + sizeof status, b.len - sizeof status);
	}
	pr->run.out_truncated = pr->run.out.len >= SBX_CAP;
	pr->run.exit_status = status;
	pr->run.duration_s = now_s() - t0;
	buf_free(&b);
}

/* until PORT accepts on the sandbox's loopback, or the timeout; 0 when it did */
static int wait_port(pid_t init, int port, double timeout_s)
{
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sandbox_join(init, 1, 0, 0) < 0)
			_exit(2);
		double end = now_s() + timeout_s;
		while (now_s() < end) {
			int s = connect_port(port, 1);
			if (s >= 0) {
				close(s);
				_exit(0);
			}
			struct timespec ts = {0, 100 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		_exit(1);
	}
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		if (sandbox_interrupted)
			kill(pid, SIGKILL);
	return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void sleep_s(double s)
{
	double end = now_s() + s;
	while (!sandbox_interrupted && now_s() < end) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* --- the session ------------------------------------------------------------------ */

static void set_cmd(struct probe_result *pr, int kind, char *text, char **argv)
{
	pr->kind = kind;
	pr->own.text = text;
	pr->own.argv = argv;
	pr->cmd = &pr->own;
}

static char **argv_dup(char **v)
{
	size_t n = 0;
	while (v[n])
		n++;
	char **d = xcalloc(n + 1, sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

int probe_service_run(const struct analysis *orig, const struct probe_opts *o, int kind, const struct sbx_config *sc,
                      struct probe_result *v, size_t *n_done, struct wh_error *err)
{
	*n_done = 0;
	struct probe_cmd svc;
	int rc = service_argv(orig, o, &svc, err);
	if (rc < 0)
		return rc;
	set_cmd(&v[0], PROBE_SERVICE, svc.text, svc.argv);
	for (size_t i = 0; i < o->n_exec; i++)
		set_cmd(&v[1 + i], PROBE_EXEC, xasprintf("exec: %s", o->execs[i].text), argv_dup(o->execs[i].argv));
	for (size_t i = 0; i < o->n_http; i++)
		set_cmd(&v[1 + o->n_exec + i], PROBE_HTTP, xasprintf("http: %s", o->https[i].text),
		        argv_dup(o->https[i].argv));
	*n_done = 1 + o->n_exec + o->n_http;

	struct sbx_config ssc = *sc;
	ssc.argv = v[0].own.argv;
	ssc.timeout_s = sc->timeout_s * (double)(2 + o->n_exec + o->n_http); /* a safety net: whittle stops it */
	int ps[2];
	if (pipe2(ps, O_CLOEXEC) < 0)
		return wh_err(err, WH_EOUTPUT, "pipe: %s", strerror(errno));
	ssc.started_fd = ps[1];
	int rfd;
	pid_t helper_pid = spawn(&ssc, &rfd, ps[0]);
	close(ps[1]);
	if (helper_pid < 0) {
		close(ps[0]);
		return wh_err(err, WH_EOUTPUT, "starting the service's sandbox: %s", strerror(errno));
	}
	pid_t init = 0;
	ssize_t got;
	while ((got = read(ps[0], &init, sizeof init)) < 0 && errno == EINTR && !sandbox_interrupted)
		;
	close(ps[0]);
	if (got != (ssize_t)sizeof init)
		init = 0; /* the service ended (or failed) before its sandbox ran */
	if (init > 0 && !sandbox_interrupted) {
		if (o->wait_port || (!o->wait_s && o->n_http))
			wait_port(init, o->wait_port ? o->wait_port : atoi(o->https[0].argv[0]), sc->timeout_s);
		else
			sleep_s(o->wait_s ? o->wait_s : 1);
	}
	for (size_t i = 0; i < o->n_exec && rc == 0 && init > 0 && !sandbox_interrupted; i++) {
		struct sbx_config esc = *sc;
		esc.join = init;
		esc.argv = v[1 + i].own.argv;
		int efd;
		pid_t ep = spawn(&esc, &efd, -1);
		rc = ep < 0 ? wh_err(err, WH_EOUTPUT, "fork: %s", strerror(errno))
		            : collect_helper(orig, ep, efd, kind, &v[1 + i], err);
		if (rc < 0)
			wh_err_prefix(err, "probe `%s`: ", v[1 + i].own.text);
	}
	for (size_t i = 0; i < o->n_http && init > 0 && !sandbox_interrupted; i++)
		http_probe(init, &o->https[i], sc->timeout_s, &v[1 + o->n_exec + i]);
	for (size_t i = 1; !init && i < *n_done; i++) { /* not run: recorded as a failure, never as a pass */
		v[i].run.exit_status = v[i].kind == PROBE_HTTP ? 0 : 125;
		static const char msg[] = "whittle: not run: the service was not running\n";
		buf_append(&v[i].run.err, msg, sizeof msg - 1);
	}
	kill(helper_pid, SIGTERM);
	struct wh_error e2 = {0};
	int rc2 = collect_helper(orig, helper_pid, rfd, kind, &v[0], rc < 0 ? &e2 : err);
	if (rc2 < 0 && rc == 0)
		rc = rc2;
	if (rc == 0 && !init && !sandbox_interrupted)
		rc = wh_err(err, WH_EINPUT, "probe `%s`: the service's sandbox did not start (status %d: %.*s)",
		            v[0].own.text, v[0].run.exit_status, (int)(v[0].run.err.len > 400 ? 400 : v[0].run.err.len),
		            v[0].run.err.data ? (const char *)v[0].run.err.data : "");
	return rc;
}
