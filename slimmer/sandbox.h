/* sandbox: run one command in a materialized image root with bubblewrap,
 * optionally traced (trace.h).
 *
 * Always a user namespace. As root, whittle maps the inside ids 0-65535
 * to an outside range the host does not use (sandbox_id_base: root's
 * first /etc/subuid and /etc/subgid range of at least 65536 ids, else
 * SBX_DEFAULT_BASE) and the materialized tree is owned in that range: the
 * child drops to the outside ids BASE+User, bwrap (--unshare-user
 * --userns-block-fd --info-fd) creates the namespace, and whittle writes
 * its uid_map and gid_map ("0 BASE 65536") before letting it go on; no
 * inside id maps to host uid 0. As an ordinary user, bwrap maps the one id
 * it has to the image's User (--uid --gid): every file appears owned by it,
 * and a traced command whose switch to another id is refused for that
 * reason (trace_id_refused) makes sandbox_run fail (WH_EINPUT, saying so).
 * New mount, PID, IPC, UTS, network (loopback only) and, when possible,
 * cgroup namespaces; no_new_privs; Docker's default capabilities for an
 * inside root, none for another user; /proc (bwrap keeps /proc/sys
 * read-only), a minimal /dev, tmpfs /tmp and /run (with the image's
 * directory's mode and its entries, 256 at most, bound from the tree); the image's Env (only),
 * WorkingDir and User; --die-with-parent and --new-session. At the
 * timeout every process of the sandbox's PID namespace gets SIGTERM, then
 * after the grace period the namespace's init gets SIGKILL (which kills
 * the namespace). stdout and stderr are captured, each capped at
 * SBX_CAP bytes. */
#ifndef WH_SANDBOX_H
#define WH_SANDBOX_H

#include <stdint.h>
#include <sys/types.h>

#include "analyzer/util.h"
#include "slimmer/trace.h"

#define SBX_CAP (1024 * 1024)
#define SBX_DEFAULT_BASE 2000000000LL /* far above login ids and systemd's container range (to 1879048191) */
#define SBX_BWRAP "bwrap"

struct sbx_config {
	const char *rootfs;       /* the materialized root (materialize.h) */
	char *const *argv;        /* the command; argv[0] looked up on the image's PATH */
	char *const *env;         /* "K=V", NULL-terminated: the image's Env */
	const char *workdir;      /* NULL: "/" */
	uint32_t uid, gid;        /* the image's User, resolved */
	int64_t id_base;          /* >= 0: root mode (the tree is owned in BASE..BASE+65535); -1: one id mapped */
	double timeout_s;         /* then SIGTERM */
	double grace_s;           /* then SIGKILL */
	struct trace *trace;      /* NULL: run untraced */
	pid_t join;               /* > 0: no bwrap: run argv in the namespaces (user, mount, pid, net, ipc,
	                           * uts) of this running sandbox's process (sandbox_join), traced from its
	                           * first execve; the timeout kills only this command's processes */
	int started_fd;           /* > 0: the sandbox's init pid is written there (a pid_t) once it runs */
	const char *image;        /* the image's reference, for messages */
};

struct sbx_result {
	int exit_status;          /* the command's exit status, or 128+N when killed by signal N */
	int timed_out;
	double duration_s;
	struct buf out, err;      /* capped at SBX_CAP */
	int out_truncated, err_truncated;
};

/* The outside base of root's inside ids (see above). */
int64_t sandbox_id_base(void);

/* Run c. 0 (whatever the command's status), or negative when the sandbox
 * could not be set up (err says why: bwrap missing, namespaces refused). */
int sandbox_run(const struct sbx_config *c, struct sbx_result *r, struct wh_error *err);
void sbx_result_free(struct sbx_result *r);

/* In a forked child: join the namespaces of the sandbox process `pid`:
 * its user namespace first (as an ordinary user the one whittle's bwrap
 * made, as root an ancestor's), then, with net_only, only its network
 * namespace, else its mount (root and cwd: the sandbox's /), ipc, uts and
 * pid (for the children forked after) namespaces; then the ids uid/gid
 * inside (setgroups may be refused: ignored). 0 or -1 (errno set). */
int sandbox_join(pid_t pid, int net_only, uint32_t uid, uint32_t gid);

/* Set by a signal handler to stop the run early (the sandbox is killed). */
extern volatile int sandbox_interrupted;

#endif
