/* fuzz_dpkg: the dpkg database loaded from contents the fuzzer writes.
 *
 * The input is up to six files separated by "\n--\n", captured as the index
 * pass would capture them, in a one-layer tree that also has a merged-/usr
 * layout (bin -> usr/bin), a few files and a dangling link:
 *   var/lib/dpkg/status, var/lib/dpkg/info/a.list,
 *   var/lib/dpkg/info/b:amd64.list, var/lib/dpkg/diversions,
 *   var/lib/dpkg/status.d/c, var/lib/dpkg/status.d/c.md5sums
 * Then every query the slimmer and reach make: owners of every node,
 * dpkg_find, files_of, the filtered status text. */
#include <stdlib.h>
#include <string.h>

#include "analyzer/dpkg.h"
#include "fuzz.h"

#define NF 6
static const char *files[NF] = {"var/lib/dpkg/status",    "var/lib/dpkg/info/a.list",
                                "var/lib/dpkg/info/b:amd64.list", "var/lib/dpkg/diversions",
                                "var/lib/dpkg/status.d/c", "var/lib/dpkg/status.d/c.md5sums"};

static const struct {
	uint8_t type;
	const char *path, *link;
	uint64_t size;
} fixed[] = {
	{WH_T_DIR, "usr", NULL, 0},          {WH_T_DIR, "usr/bin", NULL, 0},
	{WH_T_REG, "usr/bin/ls", NULL, 100}, {WH_T_REG, "usr/bin/a", NULL, 7},
	{WH_T_SYMLINK, "bin", "usr/bin", 0}, {WH_T_DIR, "etc", NULL, 0},
	{WH_T_REG, "etc/a.conf", NULL, 3},   {WH_T_SYMLINK, "etc/loop", "loop", 0},
	{WH_T_SYMLINK, "etc/up", "../../..", 0},
	{WH_T_DIR, "var", NULL, 0},          {WH_T_DIR, "var/lib", NULL, 0},
	{WH_T_DIR, "var/lib/dpkg", NULL, 0}, {WH_T_DIR, "var/lib/dpkg/info", NULL, 0},
	{WH_T_DIR, "var/lib/dpkg/status.d", NULL, 0},
};
#define NFIXED (sizeof fixed / sizeof fixed[0])

static int keep_odd(void *ctx, const struct dpkg_pkg *p)
{
	(void)ctx;
	return strlen(p->name) % 2;
}

int fuzz_dpkg(const uint8_t *data, size_t size)
{
	const uint8_t *part[NF];
	size_t len[NF];
	size_t nparts = fuzz_split(data, size, "\n--\n", part, len, NF);

	struct wh_entry ents[NFIXED + NF];
	struct wh_extra extras[NF];
	memset(ents, 0, sizeof ents);
	memset(extras, 0, sizeof extras);
	size_t n = 0;
	for (size_t i = 0; i < NFIXED; i++, n++) {
		ents[n].type = fixed[i].type;
		ents[n].path = fixed[i].path;
		ents[n].link = fixed[i].link;
		ents[n].size = fixed[i].size;
		ents[n].mode = fixed[i].type == WH_T_DIR ? 0755 : 0644;
	}
	for (size_t i = 0; i < nparts; i++, n++) {
		uint8_t *c = malloc(len[i] + 1); /* captured contents are NUL-terminated */
		memcpy(c, part[i], len[i]);
		c[len[i]] = 0;
		extras[i].content = c;
		extras[i].content_len = len[i];
		ents[n].type = WH_T_REG;
		ents[n].path = files[i];
		ents[n].size = len[i];
		ents[n].mode = 0644;
		ents[n].extra = &extras[i];
	}
	struct wh_image img;
	struct wh_layer layer;
	memset(&img, 0, sizeof img);
	memset(&layer, 0, sizeof layer);
	img.reference = "fuzz:dpkg";
	img.layers = &layer;
	img.n_layers = 1;
	layer.entries = ents;
	layer.n_entries = n;

	struct wh_tree t;
	struct wh_error err = {0};
	if (tree_build(&t, &img, 0, 0, &err) < 0)
		abort(); /* the fixed tree is valid */
	tree_sort_by_name(&t);
	struct dpkg_db db;
	int rc = dpkg_load_tree(&t, &db, &err);
	fuzz_report("dpkg_load_tree", rc, err.msg);
	if (rc == 0) {
		for (size_t i = 0; i < db.n_pkgs; i++) {
			const struct dpkg_pkg *p = &db.pkgs[i];
			if (dpkg_find(&db, p->name) == NULL)
				abort(); /* a loaded package is found by its name */
			size_t nf;
			(void)dpkg_package_files(&db, p, &nf);
			const char *const *paths;
			(void)dpkg_reach_files_of(&db, p->name, &paths);
		}
		const char *probe[] = {"/bin/ls", "usr/bin/ls", "/usr/bin/a", "/etc/a.conf", "/etc/loop/x",
		                       "/etc/up", "var/lib/dpkg/info/a.list", "var/lib/dpkg/status.d/c", "/"};
		for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
			(void)dpkg_owner_path(&db, probe[i]);
			(void)dpkg_db_file_package(&db, probe[i]);
			struct wh_node *nd = tree_lookup(&t, probe[i][0] == '/' ? probe[i] + 1 : probe[i]);
			if (nd) {
				const struct dpkg_pkg *ow[4];
				(void)dpkg_owners(&db, nd, ow, 4);
				(void)dpkg_owner(&db, nd);
			}
		}
		size_t fl;
		char *st = dpkg_status_filtered(&db, keep_odd, NULL, &fl);
		if (st && strlen(st) != fl && memchr(st, 0, fl) == NULL)
			abort();
		free(st);
		st = dpkg_diversions_filtered(&db, keep_odd, NULL, &fl);
		if (st && strlen(st) != fl && memchr(st, 0, fl) == NULL)
			abort();
		free(st);
		dpkg_free(&db);
	} else if (!err.msg[0]) {
		abort();
	}
	tree_free(&t);
	for (size_t i = 0; i < nparts; i++)
		free(extras[i].content);
	return 0;
}

WH_FUZZ_MAIN(fuzz_dpkg)
