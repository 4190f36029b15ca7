/* fuzz_util: scratch files for the targets that read from the host fs. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char tmpdir[256];

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char p[1024];
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			if (unlink(p) < 0)
				rm_tree(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static void cleanup(void)
{
	if (tmpdir[0])
		rm_tree(tmpdir);
}

const char *fuzz_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/whfuzz.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			abort();
		}
		atexit(cleanup);
	}
	return tmpdir;
}

int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		abort();
	}
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			perror(path);
			abort();
		}
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **part, size_t *len,
                  size_t max)
{
	size_t sl = strlen(sep), n = 0, start = 0;
	for (size_t i = 0; i + sl <= size && n + 1 < max;) {
		if (!memcmp(data + i, sep, sl)) {
			part[n] = data + start;
			len[n] = i - start;
			n++;
			i += sl;
			start = i;
		} else {
			i++;
		}
	}
	part[n] = data + start;
	len[n] = size - start;
	return n + 1;
}

void fuzz_report(const char *what, int rc, const char *msg)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("WH_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "  %s: %d%s%s\n", what, rc, rc ? " " : "", rc ? msg : "");
}
