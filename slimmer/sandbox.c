/* sandbox: bubblewrap around a materialized root, traced or not (see .h). */
#include "slimmer/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile int sandbox_interrupted;

/* where a root child binds the tree, in its own mount namespace (hidden there only) */
#define ROOT_MNT "/tmp"
#define SBX_SEED_MAX 256 /* entries of the image's /tmp or /run recreated in the sandbox's tmpfs */

static const char *const docker_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
	"CAP_AUDIT_WRITE",
};

static const int docker_cap_nrs[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
	CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
	CAP_AUDIT_WRITE,
};

static int64_t subid_base(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return -1;
	char line[256];
	int64_t base = -1;
	while (base < 0 && fgets(line, sizeof line, f)) {
		char name[128];
		long long start, count;
		if (sscanf(line, "%127[^:]:%lld:%lld", name, &start, &count) == 3 &&
		    (!strcmp(name, "root") || !strcmp(name, "0")) && count >= 65536 && start > 0)
			base = start;
	}
	fclose(f);
	return base;
}

int64_t sandbox_id_base(void)
{
	int64_t u = subid_base("/etc/subuid"), g = subid_base("/etc/subgid");
	return u > 0 && u == g ? u : SBX_DEFAULT_BASE;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct argv_b {
	char **v;
	size_t n, cap;
};

static void add(struct argv_b *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

/* A tmpfs on dir (/tmp, /run) holding what the image has there, as a
 * container sees it: the image directory's mode, each entry bound from the
 * materialized tree (writes go to that private copy), a symlink made anew.
 * Without them /run/lock (/var/lock's target) and the like would be gone. */
static void add_tmpfs(const struct sbx_config *c, const char *dir, struct argv_b *a)
{
	int root = open(c->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int fd = root < 0 ? -1 : openat(root, dir + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char num[32];
	if (fd >= 0 && fstat(fd, &st) == 0) {
		snprintf(num, sizeof num, "%04o", (unsigned)(st.st_mode & 07777));
		add(a, "--perms");
		add(a, num);
	}
	add(a, "--tmpfs");
	add(a, dir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	size_t n = 0;
	for (struct dirent *de; d && n < SBX_SEED_MAX && (de = readdir(d));) {
		struct stat es;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(dirfd(d), de->d_name, &es, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char *dest = xasprintf("%s/%s", dir, de->d_name), target[PATH_MAX];
		ssize_t l;
		if (S_ISLNK(es.st_mode) && (l = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1)) > 0) {
			target[l] = 0;
			add(a, "--symlink");
			add(a, target);
			add(a, dest);
			n++;
		} else if (S_ISDIR(es.st_mode) || S_ISREG(es.st_mode)) {
			char *src = xasprintf("%s%s", c->id_base >= 0 ? ROOT_MNT : c->rootfs, dest);
			add(a, "--bind");
			add(a, src);
			add(a, dest);
			free(src);
			n++;
		}
		free(dest);
	}
	if (d)
		closedir(d);
	if (root >= 0)
		close(root);
}

static void build_argv(const struct sbx_config *c, int info_fd, int block_fd, struct argv_b *a)
{
	char num[32];
	add(a, SBX_BWRAP);
	add(a, "--unshare-user");
	if (c->id_base >= 0) {
		add(a, "--userns-block-fd");
		snprintf(num, sizeof num, "%d", block_fd);
		add(a, num);
	} else {
		add(a, "--uid");
		snprintf(num, sizeof num, "%u", c->uid);
		add(a, num);
		add(a, "--gid");
		snprintf(num, sizeof num, "%u", c->gid);
		add(a, num);
	}
	add(a, "--info-fd");
	snprintf(num, sizeof num, "%d", info_fd);
	add(a, num);
	static const char *const fixed[] = {
		"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--hostname", "whittle-probe", "--die-with-parent", "--new-session",
	};
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
		add(a, fixed[i]);
	/* as root, bwrap runs with the namespace's outside ids, which may not search the
	 * directories above the tree ($TMPDIR's parents): the child binds the tree on
	 * ROOT_MNT in a mount namespace of its own first */
	add(a, "--bind");
	add(a, c->id_base >= 0 ? ROOT_MNT : c->rootfs);
	add(a, "/");
	static const char *const mounts[] = {"--proc", "/proc", "--dev", "/dev"};
	for (size_t i = 0; i < ARRAY_LEN(mounts); i++)
		add(a, mounts[i]);
	add_tmpfs(c, "/tmp", a);
	add_tmpfs(c, "/run", a);
	if (c->uid == 0)
		for (size_t i = 0; i < ARRAY_LEN(docker_caps); i++) {
			add(a, "--cap-add");
			add(a, docker_caps[i]);
		}
	add(a, "--clearenv");
	int have_path = 0;
	for (char *const *e = c->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e)
			continue;
		char *k = xstrndup(*e, (size_t)(eq - *e));
		have_path |= !strcmp(k, "PATH");
		add(a, "--setenv");
		add(a, k);
		add(a, eq + 1);
		free(k);
	}
	if (!have_path) { /* Docker's default */
		add(a, "--setenv");
		add(a, "PATH");
		add(a, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	}
	add(a, "--chdir");
	add(a, c->workdir && *c->workdir ? c->workdir : "/");
	add(a, "--");
	for (char *const *p = c->argv; *p; p++)
		add(a, *p);
}

static void argv_free(struct argv_b *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

static void take(int *fd, struct buf *b, int *trunc)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	size_t room = b->len < SBX_CAP ? SBX_CAP - b->len : 0;
	if ((size_t)n > room)
		*trunc = 1;
	buf_append(b, chunk, (size_t)n < room ? (size_t)n : room);
}

/* every process of the PID namespace `ns` (its inode), by /proc, but `except` */
static void signal_ns(unsigned long ns, int sig, pid_t except)
{
	if (!ns)
		return;
	DIR *d = opendir("/proc");
	if (!d)
		return;
	char want[64], p[64], got[64];
	snprintf(want, sizeof want, "pid:[%lu]", ns);
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(p, sizeof p, "/proc/%ld/ns/pid", pid);
		ssize_t n = readlink(p, got, sizeof got - 1);
		if (n <= 0)
			continue;
		got[n] = 0;
		if (!strcmp(got, want) && (pid_t)pid != except)
			kill((pid_t)pid, sig);
	}
	closedir(d);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

struct run {
	const struct sbx_config *c;
	struct sbx_result *r;
	pid_t pid;               /* bwrap */
	pid_t init;              /* the namespace's init (bwrap's child) */
	unsigned long pidns;
	int out, errfd, info, block;
	int sfd;
	struct buf infobuf;
	int done;
	struct wh_error *err;
	int map_failed;
};

static void on_info(struct run *u)
{
	char chunk[1024];
	ssize_t n = read(u->info, chunk, sizeof chunk);
	if (n > 0) {
		buf_append(&u->infobuf, chunk, (size_t)n);
		if (!memchr(chunk, '}', (size_t)n))
			return;
	} else if (n < 0 && errno == EINTR) {
		return;
	}
	close(u->info);
	u->info = -1;
	buf_append(&u->infobuf, "", 1);
	const char *s = (const char *)u->infobuf.data;
	const char *cp = s ? strstr(s, "\"child-pid\":") : NULL;
	const char *pn = s ? strstr(s, "\"pid-namespace\":") : NULL;
	if (cp)
		u->init = (pid_t)strtol(cp + 12, NULL, 10);
	if (pn)
		u->pidns = strtoul(pn + 16, NULL, 10);
	if (u->c->id_base >= 0 && u->block >= 0) {
		char p[64], map[64];
		snprintf(map, sizeof map, "0 %lld 65536\n", (long long)u->c->id_base);
		snprintf(p, sizeof p, "/proc/%d/uid_map", (int)u->init);
		int bad = !u->init || write_file(p, map) < 0;
		snprintf(p, sizeof p, "/proc/%d/gid_map", (int)u->init);
		bad = bad || write_file(p, map) < 0;
		if (bad) {
			u->map_failed = errno ? errno : EINVAL;
			kill(u->pid, SIGKILL);
		} else if (write(u->block, "x", 1) != 1) {
			u->map_failed = errno;
		}
		close(u->block);
		u->block = -1;
	}
	if (u->c->started_fd > 0 && u->init > 0 && !u->map_failed) {
		pid_t pid = u->init;
		if (write(u->c->started_fd, &pid, sizeof pid) != (ssize_t)sizeof pid)
			u->map_failed = errno ? errno : EPIPE;
	}
}

static void reap(struct run *u)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG | __WALL);
		if (p <= 0)
			break;
		if (u->c->trace)
			trace_event(u->c->trace, p, st);
		if (p == u->pid && (WIFEXITED(st) || WIFSIGNALED(st))) {
			u->done = 1;
			u->r->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
}

/* SIGTERM: the image's processes (not bwrap's monitor and init, whose death would
 * SIGKILL the rest at once); SIGKILL: everything */
static void kill_all(struct run *u, int sig)
{
	signal_ns(u->pidns, sig, sig == SIGKILL ? 0 : u->init);
	if (u->c->trace) {
		pid_t pids[4096];
		size_t n = trace_tasks(u->c->trace, pids, ARRAY_LEN(pids));
		for (size_t i = 0; i < n; i++)
			if (sig == SIGKILL || (pids[i] != u->pid && pids[i] != u->init))
				kill(pids[i], sig);
	}
	if (sig == SIGKILL) {
		if (u->init > 0)
			kill(u->init, SIGKILL);
		kill(u->pid, SIGKILL);
	}
}

int sandbox_join(pid_t pid, int net_only, uint32_t uid, uint32_t gid)
{
	static const struct {
		const char *name;
		int type;
	} ns[] = {{"user", CLONE_NEWUSER}, {"net", CLONE_NEWNET}, {"mnt", CLONE_NEWNS},
	          {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"pid", CLONE_NEWPID}};
	int fds[ARRAY_LEN(ns)];
	size_t n = net_only ? 2 : ARRAY_LEN(ns);
	for (size_t i = 0; i < n; i++) { /* all opened first: /proc/PID may go once we are inside */
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)pid, ns[i].name);
		if ((fds[i] = open(p, O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (setns(fds[i], ns[i].type) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	if (net_only)
		return 0;
	setgroups(0, NULL); /* refused where bwrap wrote "deny" (an ordinary user's sandbox) */
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -1;
	return 0;
}

/* a command in a running sandbox's namespaces: this task (traced) joins them, its
 * child (in the sandbox's PID namespace) runs the command; its status is ours */
static void join_child(const struct sbx_config *c)
{
	if ((c->trace ? trace_child_prepare() : prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0 ||
	    sandbox_join(c->join, 0, c->uid, c->gid) < 0) {
		dprintf(2, "whittle: cannot join the sandbox's namespaces: %s\n", strerror(errno));
		_exit(125);
	}
	if (c->uid == 0) /* Docker's default capabilities at most, as bwrap's --cap-add gives */
		for (int cap = 0; cap <= 63; cap++) {
			int keep = 0;
			for (size_t i = 0; i < ARRAY_LEN(docker_cap_nrs); i++)
				keep |= docker_cap_nrs[i] == cap;
			if (!keep && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
				break;
		}
	if (c->workdir && *c->workdir && chdir(c->workdir) < 0)
		dprintf(2, "whittle: the working directory %s: %s\n", c->workdir, strerror(errno));
	pid_t q = fork();
	if (q == 0) {
		setsid();
		extern char **environ;
		environ = (char **)c->env;
		if (!getenv("PATH"))
			setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
		execvp(c->argv[0], c->argv);
		dprintf(2, "whittle: %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (q > 0 && waitpid(q, &st, 0) < 0 && errno == EINTR)
		;
	_exit(q < 0 ? 125 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void child(const struct sbx_config *c, struct run *u, const char *bwrap, char **argv, const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(u->out, 1) < 0 || dup2(u->errfd, 2) < 0)
		_exit(125);
	if (c->join > 0)
		join_child(c);
	fcntl(u->info, F_SETFD, 0);
	if (u->block >= 0)
		fcntl(u->block, F_SETFD, 0);
	if (c->id_base >= 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(c->rootfs, ROOT_MNT, NULL, MS_BIND | MS_REC, NULL) < 0) {
			dprintf(2, "whittle: cannot bind the sandbox's root on %s: %s\n", ROOT_MNT, strerror(errno));
			_exit(125);
		}
		if (setgroups(0, NULL) < 0 || setgid((gid_t)(c->id_base + c->gid)) < 0 ||
		    setuid((uid_t)(c->id_base + c->uid)) < 0) {
			dprintf(2, "whittle: cannot switch to the sandbox's outside ids: %s\n", strerror(errno));
			_exit(125);
		}
	}
	if (c->trace ? trace_child_prepare() < 0 : prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		dprintf(2, "whittle: cannot prepare the sandbox's tracing: %s\n", strerror(errno));
		_exit(125);
	}
	execv(bwrap, argv);
	dprintf(2, "whittle: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void loop(struct run *u)
{
	const struct sbx_config *c = u->c;
	double start = now_s(), term_at = 0, kill_at = 0;
	for (;;) {
		double t = now_s();
		if (!u->done || u->out >= 0 || u->errfd >= 0) {
			if (!term_at && (t - start >= c->timeout_s || sandbox_interrupted)) {
				u->r->timed_out = !sandbox_interrupted;
				term_at = t;
				kill_all(u, SIGTERM);
			}
			if (term_at && !kill_at && t - term_at >= c->grace_s) {
				kill_at = t;
				kill_all(u, SIGKILL);
			}
		}
		if (u->done && u->out < 0 && u->errfd < 0)
			break;
		if (kill_at && t - kill_at > 10)
			break; /* something outside the namespace holds the pipes: stop reading them */
		struct pollfd p[4] = {
			{.fd = u->sfd, .events = POLLIN},
			{.fd = u->out, .events = POLLIN},
			{.fd = u->errfd, .events = POLLIN},
			{.fd = u->info, .events = POLLIN},
		};
		double next = term_at ? (kill_at ? kill_at + 10 : term_at + c->grace_s) : start + c->timeout_s;
		int ms = next > t ? (int)((next - t) * 1000) + 1 : 0;
		if (ms > 200)
			ms = 200; /* sandbox_interrupted is looked at this often */
		int n = poll(p, 4, ms);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(u->sfd, &si, sizeof si) == (ssize_t)sizeof si)
				;
			reap(u);
		}
		if (p[1].revents)
			take(&u->out, &u->r->out, &u->r->out_truncated);
		if (p[2].revents)
			take(&u->errfd, &u->r->err, &u->r->err_truncated);
		if (p[3].revents)
			on_info(u);
	}
	u->r->duration_s = now_s() - start;
}

/* after the run: nothing of the sandbox may be left, and no tracee unreaped */
static void finish(struct run *u)
{
	kill_all(u, SIGKILL);
	double start = now_s();
	while (now_s() - start < 10) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG | __WALL);
		if (p < 0 && errno == ECHILD)
			break;
		if (p > 0) {
			if (u->c->trace)
				trace_event(u->c->trace, p, st);
			if (p == u->pid && !u->done && (WIFEXITED(st) || WIFSIGNALED(st))) {
				u->done = 1;
				u->r->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			}
			continue;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* bwrap's full path: exec'd directly, so its execve is the first the tracer sees */
static char *bwrap_path(void)
{
	const char *path = getenv("PATH");
	char *dup = xstrdup(path ? path : "/usr/bin:/bin"), *found = NULL;
	for (char *save = NULL, *d = strtok_r(dup, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", d, SBX_BWRAP);
		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(dup);
	return found;
}

/* One id mapped (an ordinary user's sandbox): a command that tried to switch
 * to another id and was refused for that reason (EINVAL: the id does not
 * exist in the namespace; EPERM for an inside root, who has CAP_SETUID and
 * CAP_SETGID: setgroups, which bwrap denies there) cannot run as it would
 * in a container. */
static int check_ids(const struct sbx_config *c, struct wh_error *err)
{
	int e = 0;
	const char *what = trace_id_refused(c->trace, &e);
	if (!what || !(e == EINVAL || (e == EPERM && c->uid == 0)))
		return 0;
	return wh_err(err, WH_EINPUT,
	              "the image %s must switch to another id: %s was refused (%s). As an ordinary user (uid %u) "
	              "whittle maps only its own id, to the image's User (uid %u, gid %u): every file appears owned "
	              "by it and no other id exists in the sandbox. Run whittle as root: it maps the ids 0-65535 "
	              "inside to an unused outside range (root's /etc/subuid entry, else %lld); an ordinary user's "
	              "own /etc/subuid range is not used",
	              c->image ? c->image : "", what, strerror(e), (unsigned)getuid(), c->uid, c->gid,
	              (long long)SBX_DEFAULT_BASE);
}

int sandbox_run(const struct sbx_config *c, struct sbx_result *r, struct wh_error *err)
{
	memset(r, 0, sizeof *r);
	if (c->trace && !trace_supported())
		return wh_err(err, WH_EINPUT, "the probe's tracer supports x86_64 hosts only");
	int po[2], pe[2], pi[2], pb[2] = {-1, -1};
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(pi, O_CLOEXEC) < 0 ||
	    (c->id_base >= 0 && c->join <= 0 && pipe2(pb, O_CLOEXEC) < 0))
		return wh_err(err, WH_EOUTPUT, "pipe: %s", strerror(errno));
	char *bwrap = c->join > 0 ? xstrdup("") : bwrap_path();
	if (!bwrap)
		return wh_err(err, WH_EINPUT, "the probe needs bubblewrap (%s, Debian's package bubblewrap): not found "
		              "on PATH", SBX_BWRAP);
	struct argv_b a = {0};
	if (c->join > 0 && c->trace)
		trace_direct(c->trace);
	if (c->join <= 0)
		build_argv(c, pi[1], pb[0], &a);
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	struct run u = {.c = c, .r = r, .out = po[1], .errfd = pe[1], .info = pi[1], .block = pb[0], .err = err};
	u.sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	int rc = 0;
	u.pid = u.sfd < 0 ? -1 : fork();
	if (u.pid == 0)
		child(c, &u, bwrap, a.v, &old);
	close(po[1]);
	close(pe[1]);
	close(pi[1]);
	if (pb[0] >= 0)
		close(pb[0]);
	u.out = po[0];
	u.errfd = pe[0];
	u.info = pi[0];
	u.block = pb[1];
	fcntl(u.out, F_SETFL, O_NONBLOCK);
	fcntl(u.errfd, F_SETFL, O_NONBLOCK);
	if (u.pid < 0) {
		rc = wh_err(err, WH_EOUTPUT, "starting the sandbox: %s", strerror(errno));
		goto out;
	}
	if (c->trace) {
		int st;
		if (waitpid(u.pid, &st, __WALL) != u.pid || !WIFSTOPPED(st)) {
			rc = wh_err(err, WH_EOUTPUT, "the sandbox's tracer: the child did not stop");
			u.done = 1;
			goto out;
		}
		if ((rc = trace_attach(c->trace, u.pid, err)) < 0) {
			kill(u.pid, SIGKILL);
			goto out;
		}
	}
	loop(&u);
out:
	if (u.pid > 0)
		finish(&u);
	if (rc == 0 && u.map_failed)
		rc = wh_err(err, WH_EOUTPUT, "the sandbox's user namespace: writing its uid_map/gid_map: %s",
		            strerror(u.map_failed));
	if (rc == 0 && c->join <= 0 && ((!u.init && !r->timed_out && !sandbox_interrupted) ||
	                (c->trace && !trace_started(c->trace) && r->exit_status == 1 && !r->timed_out)))
		rc = wh_err(err, WH_EOUTPUT, "the sandbox did not start (bubblewrap: %.*s)",
		            (int)(r->err.len > 400 ? 400 : r->err.len), r->err.data ? (const char *)r->err.data : "");
	if (rc == 0 && c->trace && c->id_base < 0)
		rc = check_ids(c, err);
	int fds[] = {u.out, u.errfd, u.info, u.block};
	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (u.sfd >= 0)
		close(u.sfd);
	free(bwrap);
	sigprocmask(SIG_SETMASK, &old, NULL);
	buf_free(&u.infobuf);
	argv_free(&a);
	return rc;
}

void sbx_result_free(struct sbx_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}
