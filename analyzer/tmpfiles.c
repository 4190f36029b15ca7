/* tmpfiles: registered, locked temporary directories and the sweep of
 * stale ones (see tmpfiles.h). */
#include "analyzer/tmpfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TMPFILES_MAX 16

static struct {
	volatile sig_atomic_t used;
	int fd; /* holds the flock */
	char path[PATH_MAX];
} slots[TMPFILES_MAX];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Remove NAME under DIRFD, recursively, never following a symlink; only
 * system calls, so that a signal handler may use it. */
static void rm_at(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return;
	if (depth > 32)
		return;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	char b[4096] __attribute__((aligned(8)));
	for (;;) {
		long n = syscall(SYS_getdents64, fd, b, sizeof b);
		if (n <= 0)
			break;
		int removed = 0;
		for (long off = 0; off < n;) {
			struct dirent64_raw *d = (struct dirent64_raw *)(void *)(b + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
				continue;
			rm_at(fd, d->d_name, depth + 1);
			removed = 1;
		}
		if (removed)
			lseek(fd, 0, SEEK_SET); /* entries were removed under the cursor: read again */
	}
	close(fd);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

const char *tmpfiles_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* PREFIX then exactly six of mkdtemp's characters */
static int name_matches(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strncmp(name, prefix, pl) != 0 || strlen(name) != pl + 6)
		return 0;
	for (const char *p = name + pl; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

int tmpfiles_sweep(const char *dir, const char *prefix)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	int n_removed = 0;
	char b[4096] __attribute__((aligned(8)));
	/* collect the candidates first: removing while listing moves the cursor */
	char (*names)[NAME_MAX + 1] = NULL;
	size_t n = 0;
	long got;
	while ((got = syscall(SYS_getdents64, dfd, b, sizeof b)) > 0) {
		for (long off = 0; off < got;) {
			struct dirent64_raw *d = (struct dirent64_raw *)(void *)(b + off);
			off += d->d_reclen;
			if (!name_matches(d->d_name, prefix))
				continue;
			names = xrealloc(names, (n + 1) * sizeof *names);
			snprintf(names[n++], sizeof names[0], "%s", d->d_name);
		}
	}
	uid_t me = geteuid();
	for (size_t i = 0; i < n; i++) {
		struct stat st, st2;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != me)
			continue;
		int fd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* the same directory that was checked, and nobody's (its run is gone) */
		if (fstat(fd, &st2) == 0 && st2.st_dev == st.st_dev && st2.st_ino == st.st_ino && st2.st_uid == me &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0) {
			rm_at(dfd, names[i], 0);
			n_removed++;
		}
		close(fd);
	}
	free(names);
	close(dfd);
	return n_removed;
}

int tmpfiles_mkdtemp(const char *dir, const char *prefix, int code, char **out, struct wh_error *err)
{
	*out = NULL;
	/* once a run: the spools killed runs left in $TMPDIR (whatever this
	 * run makes), then DIR */
	static atomic_int swept_tmpdir;
	if (!atomic_exchange(&swept_tmpdir, 1))
		tmpfiles_sweep(tmpfiles_tmpdir(), TMPFILES_SPOOL_PREFIX);
	tmpfiles_sweep(dir, prefix);
	for (int attempt = 0; attempt < 16; attempt++) {
		char *tpl = xasprintf("%s/%sXXXXXX", dir, prefix);
		if (strlen(tpl) >= PATH_MAX || !mkdtemp(tpl)) {
			int rc = wh_err(err, code, "%s: cannot create a temporary directory there: %s", dir,
			                strlen(tpl) >= PATH_MAX ? "path too long" : strerror(errno));
			free(tpl);
			return rc;
		}
		int fd = open(tpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		/* another run's sweep may take it between mkdtemp and the lock:
		 * then the lock is refused, or the directory is already gone */
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0 || st.st_nlink == 0) {
			if (fd >= 0)
				close(fd);
			free(tpl);
			continue;
		}
		pthread_mutex_lock(&slots_lock);
		int slot = -1;
		for (int i = 0; i < TMPFILES_MAX && slot < 0; i++)
			if (!slots[i].used)
				slot = i;
		if (slot >= 0) {
			snprintf(slots[slot].path, PATH_MAX, "%s", tpl);
			slots[slot].fd = fd;
			slots[slot].used = 1;
		}
		pthread_mutex_unlock(&slots_lock);
		if (slot < 0) {
			rmdir(tpl);
			close(fd);
			free(tpl);
			return wh_err(err, code, "more than %d temporary directories at once", TMPFILES_MAX);
		}
		*out = tpl;
		return 0;
	}
	return wh_err(err, code, "%s: cannot create a temporary directory there (raced 16 times)", dir);
}

void tmpfiles_remove(const char *path)
{
	if (!path)
		return;
	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < TMPFILES_MAX; i++)
		if (slots[i].used && !strcmp(slots[i].path, path)) {
			int e = errno;
			rm_at(AT_FDCWD, path, 0);
			errno = e;
			slots[i].used = 0;
			close(slots[i].fd);
			break;
		}
	pthread_mutex_unlock(&slots_lock);
}

void tmpfiles_cleanup_signal(void)
{
	int e = errno;
	for (int i = 0; i < TMPFILES_MAX; i++)
		if (slots[i].used) {
			slots[i].used = 0;
			rm_at(AT_FDCWD, slots[i].path, 0);
		}
	errno = e;
}
