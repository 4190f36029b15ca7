/* replay: feed every file under a regressions directory to its fuzz target,
 * with the same entry functions the libFuzzer programs call, so the normal
 * (gcc, ASan+UBSan) build checks that no input ever found again breaks.
 *
 *   replay DIR             DIR/NAME/<file> goes to target NAME
 *   replay NAME FILE...    the given files to target NAME
 *
 * Exit 0 when every input returned; a regression crashes or the sanitizers
 * report (UBSan set to halt by meson test's environment). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} targets[] = {
	{"elf", fuzz_elf},         {"ldso_cache", fuzz_ldso_cache}, {"ldso_conf", fuzz_ldso_conf},
	{"dpkg", fuzz_dpkg},       {"layer", fuzz_layer},           {"tarscan", fuzz_tarscan},
	{"oci", fuzz_oci},         {"scripts", fuzz_scripts},
};

static int (*lookup(const char *name))(const uint8_t *, size_t)
{
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
		if (!strcmp(targets[i].name, name))
			return targets[i].fn;
	return NULL;
}

static int run_file(const char *target, int (*fn)(const uint8_t *, size_t), const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	printf("%s: %s (%zu bytes)\n", target, path, n);
	fflush(stdout);
	fn(buf, n);
	free(buf);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	if (argc >= 3) {
		int (*fn)(const uint8_t *, size_t) = lookup(argv[1]);
		if (!fn) {
			fprintf(stderr, "replay: unknown target %s\n", argv[1]);
			return 2;
		}
		for (int i = 2; i < argc; i++)
			if (run_file(argv[1], fn, argv[i]) < 0)
				return 1;
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: replay DIR | replay TARGET FILE...\n");
		return 2;
	}
	size_t total = 0;
	for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%s", argv[1], targets[t].name);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		char **names = NULL;
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof *names);
			names[n++] = strdup(de->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof *names, cmp);
		for (size_t i = 0; i < n; i++) {
			char p[8192];
			snprintf(p, sizeof p, "%s/%s", dir, names[i]);
			struct stat st;
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
				if (run_file(targets[t].name, targets[t].fn, p) < 0)
					return 1;
				total++;
			}
			free(names[i]);
		}
		free(names);
	}
	/* every directory under DIR must be a target's */
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	struct dirent *de;
	int bad = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !lookup(de->d_name)) {
			fprintf(stderr, "replay: %s/%s names no target\n", argv[1], de->d_name);
			bad = 1;
		}
	closedir(d);
	printf("replayed %zu inputs\n", total);
	return bad;
}
