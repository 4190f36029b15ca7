/* fuzz_ldso_conf: ldso_conf_parse over an in-memory image.
 *
 * The input is up to five files separated by "\n--\n":
 *   /etc/ld.so.conf, /etc/ld.so.conf.d/a.conf, /etc/ld.so.conf.d/b.conf,
 *   /etc/other.conf, /etc/ld.so.conf.d/sub/c.conf
 * /etc, /etc/ld.so.conf.d and /etc/ld.so.conf.d/sub are directories, so
 * include patterns (globs, relative paths, loops) resolve against them.
 * Then every directory goes through ldso_expand_tokens. */
#include <stdlib.h>
#include <string.h>

#include "analyzer/ldso.h"
#include "fuzz.h"

#define NF 5
static const char *paths[NF] = {"/etc/ld.so.conf", "/etc/ld.so.conf.d/a.conf", "/etc/ld.so.conf.d/b.conf",
                                "/etc/other.conf", "/etc/ld.so.conf.d/sub/c.conf"};

struct memfs {
	const uint8_t *part[NF];
	size_t len[NF];
	size_t n;
};

static int mem_read(void *ctx, const char *path, const uint8_t **data, size_t *len)
{
	struct memfs *m = ctx;
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(path, paths[i])) {
			*data = m->part[i];
			*len = m->len[i];
			return 0;
		}
	return -1;
}

static int mem_list(void *ctx, const char *dir, char ***names, size_t *n)
{
	(void)ctx;
	static const char *etc[] = {"ld.so.conf", "ld.so.conf.d", "other.conf"};
	static const char *d[] = {"a.conf", "b.conf", "sub", "README"};
	static const char *sub[] = {"c.conf"};
	const char **v;
	size_t k;
	if (!strcmp(dir, "/etc"))
		v = etc, k = 3;
	else if (!strcmp(dir, "/etc/ld.so.conf.d"))
		v = d, k = 4;
	else if (!strcmp(dir, "/etc/ld.so.conf.d/sub"))
		v = sub, k = 1;
	else if (!strcmp(dir, "/"))
		v = (const char *[]){"etc"}, k = 1;
	else
		return -1;
	*names = malloc(k * sizeof **names);
	for (size_t i = 0; i < k; i++)
		(*names)[i] = strdup(v[i]);
	*n = k;
	return 0;
}

int fuzz_ldso_conf(const uint8_t *data, size_t size)
{
	struct memfs m;
	/* private copies of exactly each part's bytes, so ASan sees any over-read */
	const uint8_t *part[NF];
	m.n = fuzz_split(data, size, "\n--\n", part, m.len, NF);
	for (size_t i = 0; i < m.n; i++) {
		uint8_t *c = malloc(m.len[i] ? m.len[i] : 1);
		memcpy(c, part[i], m.len[i]);
		m.part[i] = c;
	}
	struct ldso_fs fs = {.ctx = &m, .read_file = mem_read, .list_dir = mem_list};
	struct ldso_dirs dirs;
	struct wh_error err = {0};
	int rc = ldso_conf_parse(&fs, "/etc/ld.so.conf", &dirs, &err);
	fuzz_report("ldso_conf_parse", rc, err.msg);
	if (rc == 0) {
		for (size_t i = 0; i < dirs.n && i < 64; i++) {
			char **out;
			size_t no;
			struct wh_error e2 = {0};
			if (ldso_expand_tokens(dirs.dirs[i], "/usr/bin", 62, 2, &out, &no, &e2) == 0)
				ldso_strv_free(out, no);
		}
		ldso_dirs_free(&dirs);
	} else if (!err.msg[0]) {
		abort();
	}
	for (size_t i = 0; i < m.n; i++)
		free((void *)m.part[i]);
	return 0;
}

WH_FUZZ_MAIN(fuzz_ldso_conf)
