/* trace: ptrace + seccomp tracing of the paths a process tree touches (see .h). */
#include "slimmer/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct task {
	pid_t pid;
	uint8_t rec;        /* in the sandboxed command: record its calls */
	uint8_t known;      /* its parent's fork event was seen (rec is right) */
	uint8_t held;       /* stopped at its first stop, waiting for the parent's event */
	uint8_t started;    /* its first stop is behind it */
	char *pending;      /* the path of the call in flight */
	unsigned pending_flags;
};

struct trace {
	struct task *tasks;
	size_t n_tasks, cap_tasks;
	int bwrap_exec_seen;
	int started;        /* the sandboxed command's execve was seen */
	/* paths: open-addressing hash of indexes into v */
	struct trace_path *v;
	size_t n, cap;
	size_t *slots;
	size_t nslots;
	int sorted;
	char *id_refused;   /* the first id switch refused (trace_id_refused) */
	int id_errno;
};

#define PENDING_ID 0x100u /* pending holds an id call ("setuid(1000)"), not a path */

#if defined(__x86_64__)
#define TRACE_ARCH AUDIT_ARCH_X86_64
#endif

int trace_supported(void)
{
#ifdef TRACE_ARCH
	return 1;
#else
	return 0;
#endif
}

struct trace *trace_new(void)
{
	struct trace *t = xcalloc(1, sizeof *t);
	t->nslots = 1024;
	t->slots = xmalloc(t->nslots * sizeof *t->slots);
	for (size_t i = 0; i < t->nslots; i++)
		t->slots[i] = SIZE_MAX;
	return t;
}

void trace_free(struct trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_tasks; i++)
		free(t->tasks[i].pending);
	free(t->tasks);
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	free(t->slots);
	free(t->id_refused);
	free(t);
}

/* --- the recorded paths ---------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static void slots_insert(struct trace *t, size_t idx)
{
	size_t h = (size_t)hash_str(t->v[idx].path) & (t->nslots - 1);
	while (t->slots[h] != SIZE_MAX)
		h = (h + 1) & (t->nslots - 1);
	t->slots[h] = idx;
}

static void record(struct trace *t, const char *path, unsigned flags)
{
	size_t h = (size_t)hash_str(path) & (t->nslots - 1);
	for (; t->slots[h] != SIZE_MAX; h = (h + 1) & (t->nslots - 1)) {
		struct trace_path *p = &t->v[t->slots[h]];
		if (!strcmp(p->path, path)) {
			p->flags |= flags & ~(unsigned)TRACE_ENOENT;
			if (!(flags & TRACE_ENOENT))
				p->flags &= ~(unsigned)TRACE_ENOENT;
			return;
		}
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n] = (struct trace_path){.path = xstrdup(path), .flags = flags};
	t->slots[h] = t->n++;
	t->sorted = 0;
	if (t->n * 2 > t->nslots) {
		free(t->slots);
		t->nslots *= 2;
		t->slots = xmalloc(t->nslots * sizeof *t->slots);
		for (size_t i = 0; i < t->nslots; i++)
			t->slots[i] = SIZE_MAX;
		for (size_t i = 0; i < t->n; i++)
			slots_insert(t, i);
	}
}

static int cmp_path(const void *x, const void *y)
{
	return strcmp(((const struct trace_path *)x)->path, ((const struct trace_path *)y)->path);
}

const struct trace_path *trace_paths(struct trace *t, size_t *n)
{
	if (!t->sorted) {
		if (t->n > 1) /* (t->v is NULL when nothing was traced: qsort must not see it) */
			qsort(t->v, t->n, sizeof *t->v, cmp_path);
		for (size_t i = 0; i < t->nslots; i++)
			t->slots[i] = SIZE_MAX;
		for (size_t i = 0; i < t->n; i++)
			slots_insert(t, i);
		t->sorted = 1;
	}
	*n = t->n;
	return t->v;
}

/* --- the child's side ---------------------------------------------------------- */

#ifdef TRACE_ARCH
#define NR_TRACED                                                                                            \
	X(open) X(openat) X(openat2) X(creat) X(execve) X(execveat) X(stat) X(lstat) X(newfstatat) X(statx)  \
	X(access) X(faccessat) X(faccessat2) X(readlink) X(readlinkat) X(chdir) X(getdents) X(getdents64)    \
	X(connect) X(bind) X(mkdir) X(mkdirat) X(rename) X(renameat) X(renameat2) X(setuid) X(setgid)       \
	X(setreuid) X(setregid) X(setresuid) X(setresgid) X(setgroups)

static const int traced_nrs[] = {
#define X(name) SYS_##name,
	NR_TRACED
#undef X
};
#endif

int trace_child_prepare(void)
{
#ifdef TRACE_ARCH
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		return -1;
	if (raise(SIGSTOP) != 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	enum { N = sizeof traced_nrs / sizeof traced_nrs[0] };
	struct sock_filter f[5 + N + 1];
	size_t k = 0;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TRACE_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < N; i++) /* a match jumps to the TRACE return after the list */
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)traced_nrs[i],
		                                      (uint8_t)(N - i), 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	struct sock_fprog prog = {.len = (unsigned short)k, .filter = f};
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* --- the tracer's side ---------------------------------------------------------- */

static struct task *task_find(struct trace *t, pid_t pid)
{
	for (size_t i = 0; i < t->n_tasks; i++)
		if (t->tasks[i].pid == pid)
			return &t->tasks[i];
	return NULL;
}

static struct task *task_add(struct trace *t, pid_t pid)
{
	struct task *k = task_find(t, pid);
	if (k)
		return k;
	if (t->n_tasks == t->cap_tasks) {
		t->cap_tasks = t->cap_tasks ? t->cap_tasks * 2 : 64;
		t->tasks = xrealloc(t->tasks, t->cap_tasks * sizeof *t->tasks);
	}
	k = &t->tasks[t->n_tasks++];
	memset(k, 0, sizeof *k);
	k->pid = pid;
	return k;
}

static void task_remove(struct trace *t, pid_t pid)
{
	struct task *k = task_find(t, pid);
	if (!k)
		return;
	free(k->pending);
	*k = t->tasks[--t->n_tasks];
}

size_t trace_tasks(const struct trace *t, pid_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_tasks && n < max; i++)
		out[n++] = t->tasks[i].pid;
	return n;
}

int trace_attach(struct trace *t, pid_t child, struct wh_error *err)
{
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
	            PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)opts) < 0)
		return wh_err(err, WH_EOUTPUT, "ptrace(SETOPTIONS) of the sandbox: %s", strerror(errno));
	struct task *k = task_add(t, child);
	k->known = k->started = 1;
	if (ptrace(PTRACE_CONT, child, NULL, NULL) < 0)
		return wh_err(err, WH_EOUTPUT, "ptrace(CONT) of the sandbox: %s", strerror(errno));
	return 0;
}

#ifdef TRACE_ARCH
/* a NUL-terminated string of the tracee, at most PATH_MAX */
static int read_str(pid_t pid, unsigned long addr, char *out, size_t max)
{
	size_t got = 0;
	while (got < max - 1) {
		size_t want = 4096 - ((addr + got) & 4095); /* never across a page */
		if (want > max - 1 - got)
			want = max - 1 - got;
		struct iovec l = {out + got, want}, r = {(void *)(addr + got), want};
		ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (n <= 0)
			return -1;
		void *z = memchr(out + got, 0, (size_t)n);
		if (z)
			return 0;
		got += (size_t)n;
	}
	out[max - 1] = 0;
	return 0;
}

static int proc_link(pid_t pid, const char *what, char *out, size_t max)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, what);
	ssize_t n = readlink(p, out, max - 1);
	if (n < 0)
		return -1;
	out[n] = 0;
	return out[0] == '/' ? 0 : -1; /* "pipe:[..]", "socket:[..]" */
}

/* the absolute path of (dirfd, path) as the tracee sees it, normalized */
static char *resolve(pid_t pid, long dirfd, const char *path)
{
	char base[PATH_MAX], full[2 * PATH_MAX + 2], norm[PATH_MAX];
	if (path[0] == '/') {
		snprintf(full, sizeof full, "%s", path);
	} else {
		char what[32];
		if ((int)dirfd == AT_FDCWD)
			snprintf(what, sizeof what, "cwd");
		else
			snprintf(what, sizeof what, "fd/%d", (int)dirfd);
		if (proc_link(pid, what, base, sizeof base) < 0)
			return NULL;
		snprintf(full, sizeof full, "%s/%s", base, path);
	}
	if (path_normalize(full, norm, sizeof norm, NULL) < 0)
		return NULL;
	return xasprintf("/%s", norm);
}

static char *path_arg(pid_t pid, long dirfd, unsigned long addr, int empty_ok)
{
	char p[PATH_MAX];
	if (!addr || read_str(pid, addr, p, sizeof p) < 0)
		return NULL;
	if (!p[0]) {
		if (!empty_ok || (int)dirfd == AT_FDCWD)
			return NULL;
		char b[PATH_MAX];
		char what[32];
		snprintf(what, sizeof what, "fd/%d", (int)dirfd);
		return proc_link(pid, what, b, sizeof b) == 0 ? xstrdup(b) : NULL;
	}
	return resolve(pid, dirfd, p);
}

static char *unix_path(pid_t pid, unsigned long addr, unsigned long len)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	if (!addr || len <= offsetof(struct sockaddr_un, sun_path))
		return NULL;
	if (len > sizeof sa)
		len = sizeof sa;
	struct iovec l = {&sa, len}, r = {(void *)addr, len};
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)len || sa.sun_family != AF_UNIX || !sa.sun_path[0])
		return NULL;
	sa.sun_path[sizeof sa.sun_path - 1] = 0;
	return resolve(pid, AT_FDCWD, sa.sun_path);
}

/* an id switch at its entry: "setresuid(-1, 1000, -1)" (PENDING_ID) */
static char *id_call(const struct user_regs_struct *r)
{
	int a0 = (int)r->rdi, a1 = (int)r->rsi, a2 = (int)r->rdx;
	switch ((long)r->orig_rax) {
	case SYS_setuid: return xasprintf("setuid(%d)", a0);
	case SYS_setgid: return xasprintf("setgid(%d)", a0);
	case SYS_setreuid: return xasprintf("setreuid(%d, %d)", a0, a1);
	case SYS_setregid: return xasprintf("setregid(%d, %d)", a0, a1);
	case SYS_setresuid: return xasprintf("setresuid(%d, %d, %d)", a0, a1, a2);
	case SYS_setresgid: return xasprintf("setresgid(%d, %d, %d)", a0, a1, a2);
	case SYS_setgroups: return xasprintf("setgroups(%d groups)", a0);
	}
	return NULL;
}

/* the path a call at its entry names, and what it does with it */
static char *decode(pid_t pid, const struct user_regs_struct *r, unsigned *flags)
{
	unsigned long a0 = r->rdi, a1 = r->rsi, a2 = r->rdx, a3 = r->r10;
	*flags = 0;
	char *id = id_call(r);
	if (id) {
		*flags = PENDING_ID;
		return id;
	}
	switch ((long)r->orig_rax) {
	case SYS_open: case SYS_creat: case SYS_stat: case SYS_lstat: case SYS_access:
	case SYS_readlink: case SYS_chdir: case SYS_mkdir:
		return path_arg(pid, AT_FDCWD, a0, 0);
	case SYS_execve:
		*flags = TRACE_EXEC;
		return path_arg(pid, AT_FDCWD, a0, 0);
	case SYS_execveat:
		*flags = TRACE_EXEC;
		return path_arg(pid, (long)a0, a1, 1);
	case SYS_openat: case SYS_openat2: case SYS_faccessat: case SYS_faccessat2: case SYS_readlinkat:
	case SYS_mkdirat:
		return path_arg(pid, (long)a0, a1, 0);
	case SYS_newfstatat: case SYS_statx:
		return path_arg(pid, (long)a0, a1, 0);
	case SYS_getdents: case SYS_getdents64: {
		char b[PATH_MAX], what[32];
		snprintf(what, sizeof what, "fd/%d", (int)a0);
		*flags = TRACE_LISTED;
		return proc_link(pid, what, b, sizeof b) == 0 ? xstrdup(b) : NULL;
	}
	case SYS_connect: case SYS_bind:
		return unix_path(pid, a1, a2);
	case SYS_rename:
		return path_arg(pid, AT_FDCWD, a1, 0);
	case SYS_renameat: case SYS_renameat2:
		return path_arg(pid, (long)a2, a3, 0);
	}
	return NULL;
}

static void finish(struct trace *t, struct task *k, long ret)
{
	if (!k->pending)
		return;
	unsigned flags = k->pending_flags;
	if (flags & PENDING_ID) {
		if ((ret == -EPERM || ret == -EINVAL) && !t->id_refused) {
			char exe[PATH_MAX];
			if (proc_link(k->pid, "exe", exe, sizeof exe) < 0)
				snprintf(exe, sizeof exe, "pid %d", (int)k->pid);
			t->id_refused = xasprintf("%s by %s", k->pending, exe);
			t->id_errno = (int)-ret;
		}
		free(k->pending);
		k->pending = NULL;
		return;
	}
	if (ret == -ENOENT)
		flags |= TRACE_ENOENT;
	else
		flags |= TRACE_OK;
	if (ret < 0 && (flags & TRACE_LISTED))
		flags &= ~(unsigned)TRACE_LISTED;
	record(t, k->pending, flags);
	free(k->pending);
	k->pending = NULL;
}

static int on_seccomp(struct trace *t, struct task *k)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, k->pid, NULL, &r) < 0)
		return ptrace(PTRACE_CONT, k->pid, NULL, NULL);
	long nr = (long)r.orig_rax;
	if (!k->rec && (nr == SYS_execve || nr == SYS_execveat)) {
		if (t->bwrap_exec_seen)
			k->rec = t->started = 1; /* the sandboxed command, from its PATH search on */
		else
			t->bwrap_exec_seen = 1;
	}
	if (!k->rec)
		return ptrace(PTRACE_CONT, k->pid, NULL, NULL);
	free(k->pending);
	k->pending = decode(k->pid, &r, &k->pending_flags);
	if (!k->pending)
		return ptrace(PTRACE_CONT, k->pid, NULL, NULL);
	return ptrace(PTRACE_SYSCALL, k->pid, NULL, NULL);
}
#endif

static void new_child(struct trace *t, struct task *parent)
{
	unsigned long msg = 0;
	if (ptrace(PTRACE_GETEVENTMSG, parent->pid, NULL, &msg) < 0)
		return;
	uint8_t rec = parent->rec;
	struct task *c = task_add(t, (pid_t)msg); /* may move parent */
	c->rec = rec;
	c->known = 1;
	if (c->held) {
		c->held = 0;
		c->started = 1;
		ptrace(PTRACE_CONT, c->pid, NULL, NULL);
	}
}

int trace_event(struct trace *t, pid_t pid, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		task_remove(t, pid);
		return 1;
	}
	if (!WIFSTOPPED(status))
		return 0;
	struct task *k = task_add(t, pid);
	int sig = WSTOPSIG(status), ev = status >> 16;
	if (!k->started) {
		/* a new task's first stop: it runs once its parent's event said what it is */
		if (!k->known) {
			k->held = 1;
			return 0;
		}
		k->started = 1;
		if (sig == SIGSTOP) {
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			return 0;
		}
	}
#ifdef TRACE_ARCH
	if (sig == (SIGTRAP | 0x80)) {
		struct user_regs_struct r;
		if (ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0)
			finish(t, k, (long)r.rax);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return 0;
	}
	if (sig == SIGTRAP && ev == PTRACE_EVENT_SECCOMP) {
		on_seccomp(t, k);
		return 0;
	}
	if (sig == SIGTRAP && ev == PTRACE_EVENT_EXEC) {
		finish(t, k, 0);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return 0;
	}
#endif
	if (sig == SIGTRAP && (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE)) {
		new_child(t, k);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return 0;
	}
	if (sig == SIGTRAP && ev) {
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return 0;
	}
	/* a signal for the tracee: deliver it (a group-stop is let go: no job control in the sandbox) */
	siginfo_t si;
	int deliver = ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == 0 ? sig : 0;
	ptrace(PTRACE_CONT, pid, NULL, (void *)(long)deliver);
	return 0;
}

int trace_started(const struct trace *t)
{
	return t->started;
}

void trace_direct(struct trace *t)
{
	t->bwrap_exec_seen = 1;
}

const char *trace_id_refused(const struct trace *t, int *err)
{
	*err = t->id_errno;
	return t->id_refused;
}
