#include "analyzer/tarscan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_octal(const char *f, size_t n, uint64_t *out)
{
	/* GNU base-256 for big sizes */
	if ((unsigned char)f[0] & 0x80) {
		uint64_t v = (unsigned char)f[0] & 0x7f;
		for (size_t i = 1; i < n; i++) {
			if (v >> 55)
				return -1;
			v = (v << 8) | (unsigned char)f[i];
		}
		*out = v;
		return 0;
	}
	uint64_t v = 0;
	size_t i = 0;
	while (i < n && f[i] == ' ')
		i++;
	int digits = 0;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	*out = v;
	return 0;
}

static int checksum_ok(const unsigned char *h)
{
	uint64_t want;
	if (parse_octal((const char *)h + 148, 8, &want) < 0)
		return 0;
	unsigned long sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

static int is_zero(const unsigned char *h)
{
	for (int i = 0; i < 512; i++)
		if (h[i])
			return 0;
	return 1;
}

/* pax extended header: records "LEN key=value\n" */
static void pax_parse(const char *p, size_t n, char **path, char **linkpath, uint64_t *size, int *has_size)
{
	size_t i = 0;
	while (i < n) {
		size_t len = 0, j = i;
		while (j < n && p[j] >= '0' && p[j] <= '9') {
			len = len * 10 + (size_t)(p[j] - '0');
			j++;
			if (len > n)
				return;
		}
		if (j >= n || p[j] != ' ' || len == 0 || i + len > n || len < (j - i) + 2)
			return;
		const char *kv = p + j + 1;
		size_t kvlen = i + len - (j + 1) - 1; /* without '\n' */
		const char *eq = memchr(kv, '=', kvlen);
		if (eq) {
			size_t klen = (size_t)(eq - kv);
			const char *v = eq + 1;
			size_t vlen = kvlen - klen - 1;
			if (klen == 4 && !memcmp(kv, "path", 4)) {
				free(*path);
				*path = xstrndup(v, vlen);
			} else if (klen == 8 && !memcmp(kv, "linkpath", 8)) {
				free(*linkpath);
				*linkpath = xstrndup(v, vlen);
			} else if (klen == 4 && !memcmp(kv, "size", 4)) {
				char tmp[32];
				if (vlen < sizeof tmp) {
					memcpy(tmp, v, vlen);
					tmp[vlen] = 0;
					*size = strtoull(tmp, NULL, 10);
					*has_size = 1;
				}
			}
		}
		i += len;
	}
}

int tarscan_open(const char *path, struct tar_index *ti, struct wh_error *err)
{
	memset(ti, 0, sizeof *ti);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wh_err(err, WH_EINPUT, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wh_err(err, WH_EINPUT, "%s: not a regular file", path);
	}
	uint64_t fsize = (uint64_t)st.st_size;
	ti->archive_size = fsize;
	size_t cap = 0;
	uint64_t off = 0;
	char *longname = NULL, *longlink = NULL, *paxpath = NULL, *paxlink = NULL;
	uint64_t paxsize = 0;
	int has_paxsize = 0;
	int rc = 0;
	unsigned char h[512];
	for (;;) {
		if (off + 512 > fsize) {
			if (off == fsize && ti->n > 0)
				break; /* no end marker: accept, as GNU tar does with a warning */
			rc = wh_err(err, WH_EINPUT, "%s: truncated archive (header at byte %llu%s%s)", path,
			            (unsigned long long)off, ti->n ? ", after member " : "",
			            ti->n ? ti->m[ti->n - 1].name : "");
			break;
		}
		if (pread_full(fd, h, 512, off) < 0) {
			rc = wh_err(err, WH_EINPUT, "%s: read error at byte %llu", path, (unsigned long long)off);
			break;
		}
		if (is_zero(h))
			break;
		if (!checksum_ok(h)) {
			rc = wh_err(err, WH_EINPUT, "%s: not a tar archive, or corrupt header at byte %llu%s%s",
			            path, (unsigned long long)off, ti->n ? " (after member " : "",
			            ti->n ? ti->m[ti->n - 1].name : "");
			if (ti->n)
				strncat(err->msg, ")", sizeof err->msg - strlen(err->msg) - 1);
			break;
		}
		uint64_t size;
		if (parse_octal((char *)h + 124, 12, &size) < 0) {
			rc = wh_err(err, WH_EINPUT, "%s: bad size field in header at byte %llu", path,
			            (unsigned long long)off);
			break;
		}
		char type = (char)h[156];
		uint64_t data = off + 512;
		if (type == 'x' || type == 'L' || type == 'K') {
			if (size > (1u << 20) || data + size > fsize) {
				rc = wh_err(err, WH_EINPUT, "%s: bad extended header at byte %llu", path,
				            (unsigned long long)off);
				break;
			}
			char *p = xmalloc(size + 1);
			if (pread_full(fd, p, size, data) < 0) {
				free(p);
				rc = wh_err(err, WH_EINPUT, "%s: read error at byte %llu", path, (unsigned long long)data);
				break;
			}
			p[size] = 0;
			if (type == 'x') {
				pax_parse(p, size, &paxpath, &paxlink, &paxsize, &has_paxsize);
				free(p);
			} else if (type == 'L') {
				free(longname);
				longname = p;
			} else {
				free(longlink);
				longlink = p;
			}
			off = data + ((size + 511) & ~(uint64_t)511);
			continue;
		}
		if (type == 'g') {
			off = data + ((size + 511) & ~(uint64_t)511);
			continue;
		}
		if (has_paxsize)
			size = paxsize;
		/* long names (pax, GNU) have no fixed limit: never cut them */
		char *name;
		if (paxpath)
			name = xstrdup(paxpath);
		else if (longname)
			name = xstrdup(longname);
		else if (!memcmp(h + 257, "ustar", 6) && h[345]) /* POSIX only: old GNU keeps times there */
			name = xasprintf("%.155s/%.100s", (char *)h + 345, (char *)h);
		else
			name = xasprintf("%.100s", (char *)h);
		char *linkbuf;
		if (paxlink)
			linkbuf = xstrdup(paxlink);
		else if (longlink)
			linkbuf = xstrdup(longlink);
		else
			linkbuf = xasprintf("%.100s", (char *)h + 157);
		free(longname);
		free(longlink);
		free(paxpath);
		free(paxlink);
		longname = longlink = paxpath = paxlink = NULL;
		has_paxsize = 0;
		int has_data = (type == '0' || type == 0 || type == '7');
		if (has_data && data + size > fsize) {
			rc = wh_err(err, WH_EINPUT, "%s: truncated archive: member %s needs %llu bytes, %llu left",
			            path, name, (unsigned long long)size,
			            (unsigned long long)(fsize > data ? fsize - data : 0));
			free(name);
			free(linkbuf);
			break;
		}
		char norm[PATH_MAX];
		struct wh_error e2 = {0};
		if (path_normalize(name, norm, sizeof norm, &e2) < 0) {
			rc = wh_err(err, WH_EINPUT, "%s: %s", path, e2.msg);
			free(name);
			free(linkbuf);
			break;
		}
		free(name);
		if (ti->n == cap) {
			cap = cap ? cap * 2 : 64;
			ti->m = xrealloc(ti->m, cap * sizeof *ti->m);
		}
		struct tar_member *m = &ti->m[ti->n++];
		m->name = xstrdup(norm);
		m->offset = data;
		m->size = has_data ? size : 0;
		m->type = type ? type : '0';
		if (type == '1' || type == '2')
			m->link = linkbuf;
		else {
			m->link = NULL;
			free(linkbuf);
		}
		off = data + (has_data ? ((size + 511) & ~(uint64_t)511) : 0);
	}
	free(longname);
	free(longlink);
	free(paxpath);
	free(paxlink);
	close(fd);
	if (rc < 0)
		tarscan_free(ti);
	return rc;
}

static const struct tar_member *find_exact(const struct tar_index *ti, const char *norm)
{
	/* last one wins, as extraction would */
	for (size_t i = ti->n; i-- > 0;)
		if (!strcmp(ti->m[i].name, norm))
			return &ti->m[i];
	return NULL;
}

const struct tar_member *tarscan_find(const struct tar_index *ti, const char *name)
{
	char norm[PATH_MAX];
	if (path_normalize(name, norm, sizeof norm, NULL) < 0)
		return NULL;
	for (int hops = 0; hops < 40; hops++) {
		const struct tar_member *m = find_exact(ti, norm);
		if (!m || (m->type != '1' && m->type != '2'))
			return m;
		char next[PATH_MAX];
		if (m->type == '2' && m->link[0] != '/') {
			/* relative symlink: against the member's directory */
			char tmp[PATH_MAX * 2];
			const char *slash = strrchr(m->name, '/');
			int dl = slash ? (int)(slash - m->name) : 0;
			snprintf(tmp, sizeof tmp, "%.*s/%s", dl, m->name, m->link);
			if (path_normalize(tmp, next, sizeof next, NULL) < 0)
				return NULL;
		} else if (path_normalize(m->link, next, sizeof next, NULL) < 0) {
			return NULL;
		}
		strcpy(norm, next);
	}
	return NULL;
}

void tarscan_free(struct tar_index *ti)
{
	for (size_t i = 0; i < ti->n; i++) {
		free(ti->m[i].name);
		free(ti->m[i].link);
	}
	free(ti->m);
	memset(ti, 0, sizeof *ti);
}
