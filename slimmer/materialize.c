/* materialize: the merged tree written to a private directory (see .h). */
#include "slimmer/materialize.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "analyzer/layer_index.h"

struct mwant {
	const struct wh_entry *e;
	struct wh_node *n;
	char *path;       /* host-relative path in rootfs ("" = the root) */
	uint16_t layer;
	uint8_t done;
};

struct mat {
	const struct analysis *a;
	const struct mat_opts *o;
	struct materialized *m;
	int root_fd;
	struct mwant *w;  /* every node, walk order (parents first) */
	size_t n, cap;
	size_t *by_layer; /* indexes into w, sorted by (layer, e->path) */
	size_t nl, lo, hi;
	struct wh_error *err;
};

static int open_in_root(int root_fd, const char *path, int flags)
{
	if (!*path)
		path = ".";
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

/* the parent directory of path (O_PATH), and its last component */
static int open_parent(int root_fd, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		*base = path;
		return open_in_root(root_fd, "", O_PATH | O_DIRECTORY);
	}
	*base = slash + 1;
	char *dir = xstrndup(path, (size_t)(slash - path));
	int fd = open_in_root(root_fd, dir, O_PATH | O_DIRECTORY);
	free(dir);
	return fd;
}

static int sys_fail(struct mat *s, const char *what, const char *path)
{
	return wh_err(s->err, WH_EOUTPUT, "materializing /%s in %s: %s: %s", path, s->m->rootfs, what, strerror(errno));
}

/* --- the tree's nodes, parents first ------------------------------------------- */

static int collect(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	struct mat *s = ctx;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->w = xrealloc(s->w, s->cap * sizeof *s->w);
	}
	char p[4096];
	tree_path(n, p, sizeof p);
	s->w[s->n++] = (struct mwant){.e = n->e, .n = n, .path = xstrdup(p + 1), .layer = n->layer};
	return 0;
}

static int cmp_layer_path(const void *x, const void *y, void *ctx)
{
	const struct mat *s = ctx;
	const struct mwant *a = &s->w[*(const size_t *)x], *b = &s->w[*(const size_t *)y];
	if (a->layer != b->layer)
		return a->layer < b->layer ? -1 : 1;
	return strcmp(entry_tar_name(a->e), entry_tar_name(b->e));
}

/* --- writing -------------------------------------------------------------------- */

static uid_t owner_uid(const struct mat *s, const struct wh_entry *e)
{
	return (uid_t)((e ? e->uid : 0) + (uint64_t)s->o->uid_base);
}

static gid_t owner_gid(const struct mat *s, const struct wh_entry *e)
{
	return (gid_t)((e ? e->gid : 0) + (uint64_t)s->o->gid_base);
}

/* set the entry's xattrs on fd; a capability is rewritten as a v3 one
 * whose root is the namespace's root (uid base) so it works inside */
static void set_xattrs(struct mat *s, int fd, struct archive_entry *ae)
{
	if (!archive_entry_xattr_reset(ae))
		return;
	const char *name;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
		if (!name || !strncmp(name, "trusted.", 8)) {
			s->m->st.xattr_failed++;
			continue;
		}
		uint8_t v3[24];
		if (!strcmp(name, "security.capability") && s->o->uid_base >= 0 && size == 20) {
			const uint8_t *v = value;
			if (v[3] == 0x02) { /* VFS_CAP_REVISION_2, little-endian magic_etc */
				memcpy(v3, v, 20);
				v3[3] = 0x03;
				uint32_t root = (uint32_t)s->o->uid_base;
				for (int i = 0; i < 4; i++)
					v3[20 + i] = (uint8_t)(root >> (8 * i));
				value = v3;
				size = sizeof v3;
			}
		}
		if (fsetxattr(fd, name, value, size, 0) < 0)
			s->m->st.xattr_failed++;
	}
}

/* the hash of n zero bytes (a sparse entry's hole: pwrite leaves it a hole in the file) */
static void hash_hole(struct digest_ctx *h, uint64_t n)
{
	static const uint8_t zeros[4096];
	for (; n > 0; n -= n > sizeof zeros ? sizeof zeros : n)
		digest_update(h, zeros, n > sizeof zeros ? sizeof zeros : (size_t)n);
}

static int copy_data(struct mat *s, struct archive *a, int fd, const char *path, struct digest_ctx *h,
                     uint64_t *len)
{
	uint64_t total = 0;
	const void *b;
	size_t size;
	int64_t off;
	int r;
	while ((r = archive_read_data_block(a, &b, &size, &off)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			return wh_err(s->err, WH_EINPUT, "entry /%s: %s", path, archive_error_string(a));
		if ((uint64_t)off > total) {
			hash_hole(h, (uint64_t)off - total);
			total = (uint64_t)off;
		}
		digest_update(h, b, size);
		for (size_t done = 0; done < size;) {
			ssize_t k = pwrite(fd, (const uint8_t *)b + done, size - done, (off_t)(total + done));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return sys_fail(s, "write", path);
			done += (size_t)k;
		}
		total += size;
	}
	if (ftruncate(fd, (off_t)total) < 0)
		return sys_fail(s, "truncate", path);
	*len = total;
	return 0;
}

static int set_meta(struct mat *s, int fd, const struct wh_entry *e, const char *path)
{
	if (s->o->uid_base >= 0 && fchown(fd, owner_uid(s, e), owner_gid(s, e)) < 0)
		return sys_fail(s, "chown", path);
	if (fchmod(fd, e ? (mode_t)(e->mode & 07777) : 0755) < 0)
		return sys_fail(s, "chmod", path);
	if (e) {
		struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};
		futimens(fd, ts);
	}
	return 0;
}

static int write_file(struct mat *s, struct mwant *w, struct archive *a, struct archive_entry *ae)
{
	const char *base;
	int pfd = open_parent(s->root_fd, w->path, &base);
	if (pfd < 0)
		return sys_fail(s, "open the parent", w->path);
	/* a path listed twice in one layer: the listing whose content the model has wins */
	int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (w->done ? 0 : O_EXCL), 0600);
	close(pfd);
	if (fd < 0)
		return sys_fail(s, "create", w->path);
	struct digest_ctx h;
	digest_init(&h);
	uint64_t len = 0;
	int rc = copy_data(s, a, fd, w->path, &h, &len);
	uint8_t full[32];
	digest_final(&h, full, NULL);
	digest_free(&h);
	if (rc == 0) {
		w->done = 1;
		if (len == w->e->size && !memcmp(full, w->e->hash, sizeof w->e->hash)) {
			w->done = 2;
			set_xattrs(s, fd, ae);
			rc = set_meta(s, fd, w->e, w->path);
			s->m->st.files++;
			s->m->st.bytes += len;
		}
	}
	close(fd);
	return rc;
}

static int type_matches(uint8_t type, struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return type == WH_T_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFDIR: return type == WH_T_DIR;
	case AE_IFLNK: return type == WH_T_SYMLINK;
	case AE_IFREG: return type == WH_T_REG;
	default: return 0;
	}
}

static int visit(void *ctx, struct archive *a, struct archive_entry *ae, const char *norm)
{
	struct mat *s = ctx;
	if (s->o->stop && *s->o->stop)
		return wh_err(s->err, WH_EINTR, "interrupted");
	size_t lo = s->lo, hi = s->hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(entry_tar_name(s->w[s->by_layer[mid]].e), norm) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->hi && !strcmp(entry_tar_name(s->w[s->by_layer[lo]].e), norm); lo++) {
		struct mwant *w = &s->w[s->by_layer[lo]];
		if (!type_matches(w->e->type, ae) || w->done == 2)
			continue;
		if (w->e->type == WH_T_REG) {
			int rc = write_file(s, w, a, ae);
			if (rc < 0)
				return rc;
		} else if (w->e->type == WH_T_DIR) {
			int fd = open_in_root(s->root_fd, w->path, O_RDONLY | O_DIRECTORY);
			if (fd < 0)
				return sys_fail(s, "open", w->path);
			set_xattrs(s, fd, ae);
			close(fd);
		}
	}
	return 0;
}

/* --- passes --------------------------------------------------------------------- */

static int make_dirs_and_fifos(struct mat *s)
{
	for (size_t i = 1; i < s->n; i++) {
		struct mwant *w = &s->w[i];
		if (w->n->type != WH_T_DIR && w->n->type != WH_T_FIFO)
			continue;
		const char *base;
		int pfd = open_parent(s->root_fd, w->path, &base);
		if (pfd < 0)
			return sys_fail(s, "open the parent", w->path);
		int r = w->n->type == WH_T_DIR ? mkdirat(pfd, base, 0700) : mknodat(pfd, base, S_IFIFO | 0600, 0);
		if (r == 0 && w->n->type == WH_T_FIFO) {
			if (s->o->uid_base >= 0)
				fchownat(pfd, base, owner_uid(s, w->e), owner_gid(s, w->e), AT_SYMLINK_NOFOLLOW);
			fchmodat(pfd, base, w->e ? (mode_t)(w->e->mode & 07777) : 0644, 0);
			s->m->st.fifos++;
		}
		close(pfd);
		if (r < 0)
			return sys_fail(s, w->n->type == WH_T_DIR ? "mkdir" : "mkfifo", w->path);
		if (w->n->type == WH_T_DIR)
			s->m->st.dirs++;
	}
	return 0;
}

static int read_contents(struct mat *s)
{
	s->by_layer = xmalloc((s->n ? s->n : 1) * sizeof *s->by_layer);
	s->nl = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct mwant *w = &s->w[i];
		if (w->e && (w->e->type == WH_T_REG || (w->e->type == WH_T_DIR && (w->e->flags & WH_F_XATTR))))
			s->by_layer[s->nl++] = i;
	}
	qsort_r(s->by_layer, s->nl, sizeof *s->by_layer, cmp_layer_path, s);
	for (size_t i = 0; i < s->nl;) {
		size_t j = i;
		uint16_t layer = s->w[s->by_layer[i]].layer;
		while (j < s->nl && s->w[s->by_layer[j]].layer == layer)
			j++;
		s->lo = i;
		s->hi = j;
		const struct wh_layer *l = &s->a->img.layers[layer];
		int rc = layer_stream(l, visit, s, s->err);
		if (rc < 0) {
			if (rc != WH_EINTR)
				wh_err_prefix(s->err, "reading layer %u again: ", (unsigned)l->index);
			return rc;
		}
		for (size_t k = i; k < j; k++) {
			const struct mwant *w = &s->w[s->by_layer[k]];
			if (w->e->type == WH_T_REG && w->done != 2)
				return wh_err(s->err, WH_EINPUT, "layer %u (%s): entry /%s is not there (or differs) when "
				              "the layer is read again", (unsigned)l->index, l->blob.name, w->e->path);
		}
		i = j;
	}
	return 0;
}

static int make_links(struct mat *s, int symlinks)
{
	for (size_t i = 1; i < s->n; i++) {
		struct mwant *w = &s->w[i];
		if (!w->e || w->n->type != (symlinks ? WH_T_SYMLINK : WH_T_HARDLINK))
			continue;
		const char *base;
		int pfd = open_parent(s->root_fd, w->path, &base);
		if (pfd < 0)
			return sys_fail(s, "open the parent", w->path);
		int r;
		if (symlinks) {
			r = symlinkat(w->e->link ? w->e->link : "", pfd, base);
			if (r == 0 && s->o->uid_base >= 0)
				fchownat(pfd, base, owner_uid(s, w->e), owner_gid(s, w->e), AT_SYMLINK_NOFOLLOW);
			if (r == 0)
				s->m->st.symlinks++;
		} else {
			const struct wh_node *t = w->e->link ? tree_lookup(&s->a->tree, w->e->link) : NULL;
			const char *tbase;
			int tfd = t && t->type == WH_T_REG ? open_parent(s->root_fd, w->e->link, &tbase) : -1;
			if (tfd < 0) {
				s->m->st.skipped++;
				close(pfd);
				continue;
			}
			r = linkat(tfd, tbase, pfd, base, 0);
			close(tfd);
			if (r == 0)
				s->m->st.hardlinks++;
		}
		close(pfd);
		if (r < 0)
			return sys_fail(s, symlinks ? "symlink" : "link", w->path);
	}
	return 0;
}

/* directories' owners, modes and mtimes, children before parents */
static int finish_dirs(struct mat *s)
{
	for (size_t i = s->n; i-- > 0;) {
		struct mwant *w = &s->w[i];
		if (w->n->type != WH_T_DIR)
			continue;
		int fd = open_in_root(s->root_fd, w->path, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return sys_fail(s, "open", w->path);
		int rc = set_meta(s, fd, w->e, w->path);
		close(fd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int make_top(struct mat *s)
{
	const char *tmp = s->o->tmpdir ? s->o->tmpdir : getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	char *dir = xasprintf("%s/" MAT_PREFIX "%ld.XXXXXX", tmp, (long)getpid());
	if (!mkdtemp(dir)) {
		wh_err(s->err, WH_EOUTPUT, "%s: cannot create the sandbox directory: %s", tmp, strerror(errno));
		free(dir);
		return WH_EOUTPUT;
	}
	s->m->dir = dir;
	s->m->rootfs = xasprintf("%s/rootfs", dir);
	if (s->o->uid_base >= 0 && chown(dir, (uid_t)s->o->uid_base, (gid_t)s->o->gid_base) < 0)
		return wh_err(s->err, WH_EOUTPUT, "%s: chown: %s", dir, strerror(errno));
	if (mkdir(s->m->rootfs, 0700) < 0)
		return wh_err(s->err, WH_EOUTPUT, "%s: mkdir: %s", s->m->rootfs, strerror(errno));
	s->root_fd = open(s->m->rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->root_fd < 0)
		return wh_err(s->err, WH_EOUTPUT, "%s: %s", s->m->rootfs, strerror(errno));
	return 0;
}

int materialize(const struct analysis *a, const struct mat_opts *o, struct materialized *m, struct wh_error *err)
{
	memset(m, 0, sizeof *m);
	struct mat s = {.a = a, .o = o, .m = m, .root_fd = -1, .err = err};
	int rc = make_top(&s);
	if (rc == 0) {
		tree_walk(a->tree.root, collect, &s);
		rc = make_dirs_and_fifos(&s);
	}
	if (rc == 0)
		rc = read_contents(&s);
	if (rc == 0)
		rc = make_links(&s, 0);
	if (rc == 0)
		rc = make_links(&s, 1);
	if (rc == 0)
		rc = finish_dirs(&s);
	for (size_t i = 0; i < s.n; i++)
		if (s.w[i].n->type == WH_T_CHR || s.w[i].n->type == WH_T_BLK || s.w[i].n->type == WH_T_SOCK)
			m->st.skipped++;
	for (size_t i = 0; i < s.n; i++)
		free(s.w[i].path);
	free(s.w);
	free(s.by_layer);
	if (s.root_fd >= 0)
		close(s.root_fd);
	if (rc < 0)
		materialize_remove(m, NULL);
	return rc;
}

/* --- removal -------------------------------------------------------------------- */

static int rm_at(int dirfd, const char *name, dev_t dev, struct wh_error *err, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : wh_err(err, WH_EOUTPUT, "%s: %s", name, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev != dev || depth > 4096)
			return wh_err(err, WH_EOUTPUT, "%s: another file system (or too deep): not removed", name);
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
			fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return wh_err(err, WH_EOUTPUT, "%s: %s", name, strerror(errno));
		if ((st.st_mode & 0700) != 0700)
			fchmod(fd, 0700);
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return wh_err(err, WH_EOUTPUT, "%s: %s", name, strerror(errno));
		}
		int rc = 0;
		for (;;) {
			/* restart the listing after each batch: unlinking while reading is unspecified */
			struct dirent *de;
			char *names[64];
			size_t k = 0;
			rewinddir(d);
			while (k < 64 && (de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					names[k++] = xstrdup(de->d_name);
			for (size_t i = 0; i < k; i++) {
				if (rc == 0)
					rc = rm_at(fd, names[i], dev, err, depth + 1);
				free(names[i]);
			}
			if (k == 0 || rc < 0)
				break;
		}
		closedir(d);
		if (rc < 0)
			return rc;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
			return wh_err(err, WH_EOUTPUT, "%s: rmdir: %s", name, strerror(errno));
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return wh_err(err, WH_EOUTPUT, "%s: unlink: %s", name, strerror(errno));
	return 0;
}

int mat_rm_tree(int dirfd, const char *name, struct wh_error *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : wh_err(err, WH_EOUTPUT, "%s: %s", name, strerror(errno));
	return rm_at(dirfd, name, st.st_dev, err, 0);
}

int materialize_remove(struct materialized *m, struct wh_error *err)
{
	int rc = 0;
	if (m->dir)
		rc = mat_rm_tree(AT_FDCWD, m->dir, err);
	free(m->dir);
	free(m->rootfs);
	m->dir = m->rootfs = NULL;
	return rc;
}

void mat_remove_stale(const char *tmpdir)
{
	const char *tmp = tmpdir ? tmpdir : getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	DIR *d = opendir(tmp);
	if (!d)
		return;
	struct dirent *de;
	char *stale[32];
	size_t k = 0;
	while (k < 32 && (de = readdir(d))) {
		if (strncmp(de->d_name, MAT_PREFIX, strlen(MAT_PREFIX)))
			continue;
		long pid = strtol(de->d_name + strlen(MAT_PREFIX), NULL, 10);
		struct stat st;
		if (pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno == EPERM) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		/* ours: owned by us, or (as root) by a namespace base */
		if (st.st_uid != getuid() && getuid() != 0)
			continue;
		stale[k++] = xstrdup(de->d_name);
	}
	for (size_t i = 0; i < k; i++) {
		mat_rm_tree(dirfd(d), stale[i], NULL);
		free(stale[i]);
	}
	closedir(d);
}
