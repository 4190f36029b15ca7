/* trace: which paths a sandboxed process tree touches. ptrace with a
 * seccomp filter (SECCOMP_RET_TRACE, hand-written BPF) on the file system
 * calls: open/openat/openat2/creat, execve/execveat, stat/lstat/
 * newfstatat/statx, access/faccessat/faccessat2, readlink/readlinkat,
 * chdir, getdents/getdents64 (the directory an fd names), connect/bind of
 * unix sockets, mkdir/mkdirat and rename targets; and the id switches
 * (the set*id family, setgroups) whose refusal trace_id_refused names. Every fork, vfork,
 * clone and exec is followed (PTRACE_O_TRACEFORK|VFORK|CLONE|EXEC|
 * EXITKILL|SECCOMP|TRACESYSGOOD); relative paths and *at dirfds are
 * resolved against the tracee's cwd and descriptors read from
 * /proc/PID/cwd and /proc/PID/fd/N (inside a pivot_root-ed sandbox those
 * read as sandbox paths, which are image paths). Each call's result is
 * read at its syscall-exit stop: a path is recorded with whether it
 * failed with ENOENT.
 *
 * The tracer is whittle itself: it forks a child that calls
 * trace_child_prepare() (PTRACE_TRACEME, a stop, no_new_privs, the filter)
 * and then execs bubblewrap; bwrap is setuid-less on Debian, so it and
 * everything it starts stay tracees. Only calls made after the first
 * execve that is not bwrap's own (the sandboxed command's, PATH search
 * included) and by that task's descendants are recorded. x86_64 only;
 * calls of the i386 and x32 ABIs pass untraced. */
#ifndef WH_TRACE_H
#define WH_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyzer/util.h"

enum {
	TRACE_ENOENT = 1,  /* every call on the path failed with ENOENT */
	TRACE_LISTED = 2,  /* a directory whose entries were read */
	TRACE_EXEC = 4,    /* executed */
	TRACE_OK = 8,      /* at least one call on it did not fail with ENOENT */
};

struct trace_path {
	char *path;        /* absolute, as the sandbox saw it */
	unsigned flags;    /* TRACE_* */
};

struct trace;

struct trace *trace_new(void);
void trace_free(struct trace *t);

/* 1 when this machine's tracer can run (x86_64), else 0. */
int trace_supported(void);

/* In the forked child, before exec: PTRACE_TRACEME, SIGSTOP, no_new_privs,
 * the seccomp filter. Returns 0 or -1 (errno set). */
int trace_child_prepare(void);

/* In the tracer, after the child's first stop: set the options and let it run. */
int trace_attach(struct trace *t, pid_t child, struct wh_error *err);

/* A wait status of a traced task (waitpid(-1, __WALL)): handle it and
 * resume the task. Returns 1 when the task is gone (exited or killed), else 0. */
int trace_event(struct trace *t, pid_t pid, int status);

/* Every task still traced (for the timeout's SIGTERM); returns how many. */
size_t trace_tasks(const struct trace *t, pid_t *out, size_t max);

/* 1 once the sandboxed command's first execve was seen (bwrap's setup is behind). */
int trace_started(const struct trace *t);

/* Record from the first execve on (no bwrap's own exec before the command:
 * a command started in a running sandbox's namespaces, sandbox_join). */
void trace_direct(struct trace *t);

/* The first call of the sandboxed command that tried to switch ids
 * (setuid, setgid, setreuid, setregid, setresuid, setresgid, setgroups)
 * and failed with EPERM or EINVAL, as "setuid(1000) by /usr/sbin/gosu"
 * (*err: the errno), or NULL. */
const char *trace_id_refused(const struct trace *t, int *err);

/* The paths, sorted, each once. */
const struct trace_path *trace_paths(struct trace *t, size_t *n);

#endif
