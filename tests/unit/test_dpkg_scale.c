/* dpkg at the scale of a full Debian system (issue 9: the owner lookup
 * failed on a host with ~980 packages and 134,000 listed paths). The test
 * generates a database of 975 packages and ~139,000 listed paths, checks
 * every package and listed path against what the generator built, and
 * checks the generator against dpkg-query (-W, -S) on the same database
 * written as an admindir. Nothing of the host's own database is read. */
#include "tests/unit/dpkg_fixture.h"

#include <sys/stat.h>

/* ---- a generated database at the scale of a full Debian system ---- */

/* 940 packages in status (Multi-Arch: same pairs, config-files leftovers),
 * 24 in status.d (distroless, one paragraph a file, NAME.md5sums), each
 * status package listing ~140 paths: shared directories, merged-/usr paths
 * (/bin/x behind bin -> usr/bin, /lib/... behind lib -> usr/lib, the links
 * /bin and /lib themselves), library symlinks, a path listed under both
 * names, paths not on disk, diversions by a package and local ones. The
 * generator records what each package must own; dpkg-query on the same
 * database written as an admindir checks the generator's reading of it. */
#define G_NPKG 940
#define G_NSD 24
#define G_DIRS 4
#define G_PER_DIR 34

struct gpkg {
	char name[24], arch[8], list[48];
	int present;
	size_t n_listed, n_files, n_nondir;
	size_t n_shared;   /* of the non-directories: the links /bin and /lib, which many list */
	uint64_t size;
	struct buf text;   /* its list (or md5sums) */
	char sample[96];   /* a regular file it owns, as listed, for dpkg -S */
};

struct gown {
	uint32_t pkg;
	const char *listed, *canon; /* canon: the tree path of the node it owns */
};

struct gen {
	struct fix *f;
	struct gpkg p[G_NPKG + G_NPKG / 50 + G_NSD + 2]; /* twins: fewer than 1 in 50 */
	size_t n, n_status;
	struct buf status, divs;
	struct gown *own;
	size_t n_own, cap_own, listed_total;
	size_t n_divs;
	size_t n_usr, n_bin, n_lib; /* owners of the usr directory and the bin and lib links */
};

/* Package k lists `listed`; canon is the node it names in the tree ("" for
 * none), type its type, add: create that node (the first lister). A
 * repeated name of an owned node (dup) counts as listed only. */
static void g_list(struct gen *g, size_t k, const char *listed, const char *canon, uint8_t type, uint64_t size,
                   int add_node, int dup)
{
	struct gpkg *p = &g->p[k];
	buf_append(&p->text, listed, strlen(listed));
	buf_append(&p->text, "\n", 1);
	if (strcmp(listed, "/.")) { /* dpkg's "/." is not counted */
		p->n_listed++;
		g->listed_total++;
	}
	if (!*canon || dup)
		return;
	if (add_node) {
		if (type == WH_T_DIR)
			dir(g->f, canon);
		else if (type == WH_T_REG)
			reg(g->f, canon, size);
	}
	p->n_files++;
	if (type != WH_T_DIR)
		p->n_nondir++;
	if (type == WH_T_REG)
		p->size += size;
	if (g->n_own == g->cap_own) {
		g->cap_own = g->cap_own ? g->cap_own * 2 : 1 << 17;
		g->own = realloc(g->own, g->cap_own * sizeof *g->own);
		assert_non_null(g->own);
	}
	g->own[g->n_own++] = (struct gown){(uint32_t)k, arena_strdup(&g->f->strings, listed),
	                                   arena_strdup(&g->f->strings, canon)};
}

static size_t g_paragraph(struct gen *g, const char *name, const char *arch, int ma, int config_files, size_t i)
{
	size_t k = g->n++;
	struct gpkg *p = &g->p[k];
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->arch, sizeof p->arch, "%s", arch);
	p->present = !config_files;
	snprintf(p->list, sizeof p->list, "%s%s%s.list", name, ma ? ":" : "", ma ? arch : "");
	char *para = xasprintf("Package: %s\nStatus: %s\nPriority: optional\nMaintainer: Whittle Tests <t@example.org>\n"
	                       "Architecture: %s\n%sVersion: 1.%zu-%zu\nDescription: generated package %zu\n"
	                       " with a continuation line\n\n",
	                       name, config_files ? "deinstall ok config-files" : "install ok installed", arch,
	                       ma ? "Multi-Arch: same\n" : "", i, k, i);
	buf_append(&g->status, para, strlen(para));
	free(para);
	return k;
}

/* Package k lists the shared /usr, /usr/share, /usr/share/doc and its own
 * doc directory and copyright (created by the first of a Multi-Arch pair). */
static void g_doc(struct gen *g, size_t k, const char *n, size_t i, int first)
{
	char l[160];
	g->n_usr++;
	g_list(g, k, "/usr", "usr", WH_T_DIR, 0, 0, 0);
	g_list(g, k, "/usr/share", "usr/share", WH_T_DIR, 0, 0, 0);
	g_list(g, k, "/usr/share/doc", "usr/share/doc", WH_T_DIR, 0, 0, 0);
	snprintf(l, sizeof l, "/usr/share/doc/%s", n);
	g_list(g, k, l, l + 1, WH_T_DIR, 0, first, 0);
	snprintf(l, sizeof l, "/usr/share/doc/%s/copyright", n);
	g_list(g, k, l, l + 1, WH_T_REG, 100 + i, first, 0);
}

static void g_status_package(struct gen *g, size_t i, size_t diverter)
{
	char n[24], l[160], c[160];
	int ma = i % 50 == 7;
	snprintf(n, sizeof n, ma ? "libm%03zu" : "p%03zu", i);
	int cf = i % 97 == 3;
	size_t k = g_paragraph(g, n, ma || i % 4 ? "amd64" : "all", ma, cf, i);
	struct gpkg *p = &g->p[k];
	g_list(g, k, "/.", "", 0, 0, 0, 0);
	if (cf) { /* dpkg left its conffile: nobody's now */
		snprintf(l, sizeof l, "/etc/%s.conf", n);
		reg(g->f, l + 1, 3);
		g_list(g, k, l, "", 0, 0, 0, 0);
		g->listed_total -= p->n_listed; /* its list is not read */
		p->n_listed = 0;
		return;
	}
	g_doc(g, k, n, i, 1);
	snprintf(l, sizeof l, "/usr/share/%s", n);
	g_list(g, k, l, l + 1, WH_T_DIR, 0, 1, 0);
	for (size_t d = 0; d < G_DIRS; d++) {
		snprintf(l, sizeof l, "/usr/share/%s/d%zu", n, d);
		g_list(g, k, l, l + 1, WH_T_DIR, 0, 1, 0);
		for (size_t j = 0; j < G_PER_DIR; j++) {
			snprintf(l, sizeof l, "/usr/share/%s/d%zu/f%zu", n, d, j);
			uint64_t size = (i * 7 + d * G_PER_DIR + j) % 4096 + 1;
			if (j == 0 && d == 0 && i % 90 == 4) {
				/* diverted by the diverter: this package's file is at .distrib */
				snprintf(c, sizeof c, "%s.distrib", l + 1);
				g_list(g, k, l, c, WH_T_REG, size, 1, 0);
				g_list(g, diverter, l, l + 1, WH_T_REG, 7, 1, 0);
				char *t = xasprintf("%s\n/%s\n%s\n", l, c, g->p[diverter].name);
				g->n_divs++;
				buf_append(&g->divs, t, strlen(t));
				free(t);
			} else if (j == 0 && d == 1 && i % 90 == 49) {
				/* diverted locally: the admin's file at the path is nobody's */
				snprintf(c, sizeof c, "%s.local", l + 1);
				g_list(g, k, l, c, WH_T_REG, size, 1, 0);
				reg(g->f, l + 1, 3);
				char *t = xasprintf("%s\n/%s\n:\n", l, c);
				g->n_divs++;
				buf_append(&g->divs, t, strlen(t));
				free(t);
			} else {
				g_list(g, k, l, l + 1, WH_T_REG, size, 1, 0);
				if (!p->sample[0])
					snprintf(p->sample, sizeof p->sample, "%s", l);
			}
		}
	}
	if (i % 7 == 5) {
		snprintf(l, sizeof l, "/usr/share/%s/gone", n);
		g_list(g, k, l, "", 0, 0, 0, 0);
	}
	if (i % 2 == 0 && !ma) { /* a program, listed under /bin */
		g->n_bin++;
		g_list(g, k, "/bin", "bin", WH_T_SYMLINK, 0, 0, 0);
		p->n_shared++;
		snprintf(l, sizeof l, "/bin/%s", n);
		snprintf(c, sizeof c, "usr/bin/%s", n);
		g_list(g, k, l, c, WH_T_REG, 5000 + i, 1, 0);
		if (i % 10 == 0) { /* and under its other name too */
			g_list(g, k, "/usr/bin", "usr/bin", WH_T_DIR, 0, 0, 0);
			snprintf(l, sizeof l, "/%s", c);
			g_list(g, k, l, c, WH_T_REG, 5000 + i, 0, 1);
		}
	}
	if (i % 3 == 0 || ma) { /* a library, listed under /lib */
		g->n_lib++;
		g_list(g, k, "/lib", "lib", WH_T_SYMLINK, 0, 0, 0);
		p->n_shared++;
		g_list(g, k, "/lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", WH_T_DIR, 0, 0, 0);
		snprintf(l, sizeof l, "/lib/x86_64-linux-gnu/lib%s.so.1.0", n);
		snprintf(c, sizeof c, "usr/lib/x86_64-linux-gnu/lib%s.so.1.0", n);
		g_list(g, k, l, c, WH_T_REG, 20000 + i, 1, 0);
		snprintf(l, sizeof l, "/lib/x86_64-linux-gnu/lib%s.so.1", n);
		snprintf(c, sizeof c, "usr/lib/x86_64-linux-gnu/lib%s.so.1", n);
		char t[64];
		snprintf(t, sizeof t, "lib%s.so.1.0", n);
		sym(g->f, c, t);
		g_list(g, k, l, c, WH_T_SYMLINK, 0, 0, 0);
	}
	if (ma && i % 100 == 7) { /* its i386 twin: shares the doc directory and copyright */
		size_t t = g_paragraph(g, n, "i386", 1, 0, i);
		g_list(g, t, "/.", "", 0, 0, 0, 0);
		g_doc(g, t, n, i, 0);
		g_list(g, t, "/usr/lib", "usr/lib", WH_T_DIR, 0, 0, 0);
		g_list(g, t, "/usr/lib/i386-linux-gnu", "usr/lib/i386-linux-gnu", WH_T_DIR, 0, 0, 0);
		snprintf(l, sizeof l, "/usr/lib/i386-linux-gnu/lib%s.so.1.0", n);
		g_list(g, t, l, l + 1, WH_T_REG, 15000 + i, 1, 0);
		snprintf(g->p[t].sample, sizeof g->p[t].sample, "%s", l);
	}
}

static void g_status_d_package(struct gen *g, size_t s)
{
	char file[24], l[160], c[160];
	snprintf(file, sizeof file, "sd%02zu", s);
	size_t k = g->n++;
	struct gpkg *p = &g->p[k];
	/* the file is named for the package, except now and then (distroless's "base" holds base-files) */
	snprintf(p->name, sizeof p->name, s % 8 == 0 ? "%s-files" : "%s", file);
	snprintf(p->arch, sizeof p->arch, "amd64");
	snprintf(p->list, sizeof p->list, "%s.md5sums", file);
	p->present = 1;
	char *para = xasprintf("Package: %s\n%sVersion: 2.%zu\nArchitecture: amd64\nMaintainer: t\n", p->name,
	                       s % 3 == 0 ? "Status: install ok installed\n" : "", s);
	snprintf(l, sizeof l, "var/lib/dpkg/status.d/%s", file);
	textz(g->f, l, para);
	free(para);
	for (size_t j = 0; j < 20; j++) {
		snprintf(c, sizeof c, "usr/share/%s/f%zu", file, j);
		snprintf(l, sizeof l, "0123456789abcdef0123456789abcdef  %s", c);
		g_list(g, k, l, c, WH_T_REG, 300 + s * 20 + j, 1, 0);
	}
	snprintf(c, sizeof c, "usr/bin/%s", file);
	snprintf(l, sizeof l, "0123456789abcdef0123456789abcdef  bin/%s", file);
	g_list(g, k, l, c, WH_T_REG, 900 + s, 1, 0);
	snprintf(l, sizeof l, "var/lib/dpkg/status.d/%s.md5sums", file);
	text(g->f, l, (const char *)p->text.data, p->text.len);
}

static void generate(struct gen *g)
{
	struct fix *f = g->f;
	sym(f, "bin", "usr/bin");
	sym(f, "sbin", "usr/sbin");
	sym(f, "lib", "usr/lib");
	sym(f, "lib64", "usr/lib64");
	static const char *const dirs[] = {"usr", "usr/bin", "usr/sbin", "usr/lib", "usr/lib/x86_64-linux-gnu",
	                                   "usr/lib/i386-linux-gnu", "usr/lib64", "usr/share", "usr/share/doc",
	                                   "etc", "var/lib/dpkg/info", "var/lib/dpkg/status.d"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		dir(f, dirs[i]);
	/* the diverter is the last package in status; its paragraph and list come last */
	size_t diverter = ARRAY_LEN(g->p) - 1;
	snprintf(g->p[diverter].name, sizeof g->p[diverter].name, "zdivert");
	for (size_t i = 0; i < G_NPKG; i++)
		g_status_package(g, i, diverter);
	/* move the diverter's list into its place in status order */
	struct gpkg dv = g->p[diverter];
	memset(&g->p[diverter], 0, sizeof g->p[diverter]);
	size_t k = g_paragraph(g, "zdivert", "all", 0, 0, G_NPKG);
	g->p[k].text = dv.text;
	g->p[k].n_listed = dv.n_listed;
	g->p[k].n_files = dv.n_files;
	g->p[k].n_nondir = dv.n_nondir;
	g->p[k].size = dv.size;
	for (size_t o = 0; o < g->n_own; o++)
		if (g->own[o].pkg == diverter)
			g->own[o].pkg = (uint32_t)k;
	g->n_status = g->n;
	for (size_t s = 0; s < G_NSD; s++)
		g_status_d_package(g, s);
	textz(f, "var/lib/dpkg/status", (const char *)g->status.data);
	textz(f, "var/lib/dpkg/diversions", (const char *)g->divs.data);
	for (size_t i = 0; i < g->n_status; i++) {
		char path[96];
		snprintf(path, sizeof path, "var/lib/dpkg/info/%s", g->p[i].list);
		text(f, path, (const char *)g->p[i].text.data, g->p[i].text.len);
	}
	/* a list dpkg left behind for a package that is gone */
	textz(f, "var/lib/dpkg/info/gone.list", "/.\n/usr\n/usr/share/doc\n");
}

/* dpkg-query over the generated status, lists and diversions written as an admindir */
static char *g_admindir(struct gen *g, char *tmpl)
{
	assert_non_null(mkdtemp(tmpl));
	char *info = xasprintf("%s/info", tmpl);
	assert_int_equal(mkdir(info, 0755), 0);
	struct { const char *name; const void *data; size_t len; } w[3] = {
		{"status", g->status.data, g->status.len},
		{"diversions", g->divs.data, g->divs.len},
		{"info/format", "1\n", 2}, /* lists of Multi-Arch: same packages are NAME:ARCH.list */
	};
	for (size_t i = 0; i < g->n_status + 3; i++) {
		char *path = i < 3 ? xasprintf("%s/%s", tmpl, w[i].name) : xasprintf("%s/%s", info, g->p[i - 3].list);
		FILE *fp = fopen(path, "wb");
		assert_non_null(fp);
		const void *d = i < 3 ? w[i].data : g->p[i - 3].text.data;
		size_t len = i < 3 ? w[i].len : g->p[i - 3].text.len;
		assert_int_equal(fwrite(d, 1, len, fp), len);
		assert_int_equal(fclose(fp), 0);
		free(path);
	}
	free(info);
	return tmpl;
}

static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct buf b = {0};
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, p)) > 0)
		buf_append(&b, tmp, n);
	pclose(p);
	buf_append(&b, "", 1);
	return (char *)b.data;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a, b:i386" (dpkg -S) or the owners of a node, as sorted names without architecture */
static void sorted_names(char *out, size_t cap, char **names, size_t n)
{
	qsort(names, n, sizeof *names, cmp_str);
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", names[i]);
}

static void g_peer(struct gen *g)
{
	const struct dpkg_db *db = &g->f->db;
	if (system("command -v dpkg-query >/dev/null 2>&1") != 0)
		TH_SKIP("no dpkg-query");
	char tmpl[] = "/tmp/whittle-test-dpkg-XXXXXX";
	g_admindir(g, tmpl);
	/* the packages dpkg-query sees in status: the generator's, in order */
	char *cmd = xasprintf("dpkg-query --admindir=%s -W -f '${Package}:${Architecture} ${db:Status-Status}\\n' "
	                      "2>/dev/null", tmpl);
	char *q = run(cmd);
	free(cmd);
	size_t n = 0;
	char *save;
	for (char *l = strtok_r(q, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
		char *sp = strchr(l, ' ');
		assert_non_null(sp);
		*sp = 0;
		const struct dpkg_pkg *p = dpkg_find(db, l);
		if (!p)
			fail_msg("dpkg-query names %s; dpkg_find does not", l);
		assert_string_equal(p->state, sp + 1);
	}
	free(q);
	assert_int_equal(n, g->n_status);

	/* owners: a file of every 25th package, a shared directory, the links, a shared file */
	struct buf c = {0};
	char *head = xasprintf("dpkg-query --admindir=%s -S /usr/share/doc /bin /lib /usr/share/doc/libm007/copyright",
	                       tmpl);
	buf_append(&c, head, strlen(head));
	free(head);
	size_t asked = 4;
	for (size_t i = 0; i < g->n_status; i += 25)
		if (g->p[i].sample[0]) {
			buf_append(&c, " ", 1);
			buf_append(&c, g->p[i].sample, strlen(g->p[i].sample));
			asked++;
		}
	buf_append(&c, " 2>/dev/null", 13);
	q = run((const char *)c.data);
	buf_free(&c);
	size_t compared = 0;
	static char theirs[65536], mine[65536];
	static char *names[2048];
	static const struct dpkg_pkg *own[2048];
	for (char *l = strtok_r(q, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(l, ": /");
		assert_non_null(sep);
		*sep = 0;
		const char *path = sep + 2;
		size_t nn = 0;
		char *s2;
		for (char *tok = strtok_r(l, ", ", &s2); tok && nn < 2048; tok = strtok_r(NULL, ", ", &s2)) {
			char *colon = strchr(tok, ':');
			if (colon)
				*colon = 0;
			names[nn++] = tok;
		}
		sorted_names(theirs, sizeof theirs, names, nn);
		const struct dpkg_pkg *o = dpkg_owner_path(db, path);
		if (!o)
			fail_msg("dpkg -S: %s is %s's; dpkg_owner_path finds nobody", path, theirs);
		size_t no = dpkg_owners(db, tree_lookup(&g->f->t, path), own, 2048);
		assert_ptr_equal(own[0], o);
		for (size_t k = 0; k < no; k++)
			names[k] = (char *)own[k]->name;
		sorted_names(mine, sizeof mine, names, no);
		if (strcmp(mine, theirs))
			fail_msg("%s: dpkg -S says %.200s, dpkg_owners %.200s", path, theirs, mine);
		compared++;
	}
	free(q);
	assert_int_equal(compared, asked);
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf '%s'", tmpl);
	assert_int_equal(system(rm), 0);
}

static void test_generated_scale(void **state)
{
	(void)state;
	struct gen *g = calloc(1, sizeof *g);
	assert_non_null(g);
	g->f = fix_new();
	generate(g);
	size_t n_entries = g->f->n;
	build_ok(g->f);
	const struct dpkg_db *db = &g->f->db;
	print_message("generated: %zu packages (%zu in status.d), %zu listed paths, %zu tree entries\n", g->n,
	              g->n - g->n_status, g->listed_total, n_entries);
	assert_true(g->n >= 900);
	assert_true(g->listed_total >= 130000);
	assert_int_equal(db->n_pkgs, g->n);
	assert_int_equal(db->n_diversions, g->n_divs);
	assert_true(g->n_divs >= 20);

	/* each package: found by name:arch, in order, with what it was given */
	for (size_t k = 0; k < g->n; k++) {
		const struct gpkg *gp = &g->p[k];
		char spec[40];
		snprintf(spec, sizeof spec, "%s:%s", gp->name, gp->arch);
		const struct dpkg_pkg *p = dpkg_find(db, spec);
		if (p != &db->pkgs[k])
			fail_msg("%s: dpkg_find gives %p, not package %zu", spec, (const void *)p, k);
		if (p->present != gp->present || p->n_listed != gp->n_listed || p->n_files != gp->n_files ||
		    p->n_nondir != gp->n_nondir || p->size_bytes != gp->size)
			fail_msg("%s: present %d listed %zu files %zu nondir %zu bytes %llu; want %d %zu %zu %zu %llu", spec,
			         p->present, p->n_listed, p->n_files, p->n_nondir, (unsigned long long)p->size_bytes,
			         gp->present, gp->n_listed, gp->n_files, gp->n_nondir, (unsigned long long)gp->size);
	}
	/* every listed path names its node, and the package is among the node's owners */
	static const struct dpkg_pkg *own[2048];
	for (size_t o = 0; o < g->n_own; o++) {
		const struct gown *w = &g->own[o];
		const char *listed = w->listed;
		if (!strncmp(listed, "0123456789abcdef", 16))
			listed += 34; /* an md5sums line */
		struct wh_node *n = tree_lookup(&g->f->t, w->canon);
		assert_non_null(n);
		size_t no = dpkg_owners(db, n, own, 2048);
		int found = 0;
		for (size_t k = 0; k < no && k < 2048; k++)
			found |= own[k] == &db->pkgs[w->pkg];
		if (!found)
			fail_msg("%s (listed by %s as %s) is not its", w->canon, g->p[w->pkg].name, listed);
		if (!strstr(w->canon, ".distrib") && !strstr(w->canon, ".local") && !dpkg_owner_path(db, listed))
			fail_msg("dpkg_owner_path(%s) finds nobody", listed);
	}
	/* shared nodes: exactly their listers, in status order */
	const struct { const char *path; size_t want; } shared[] = {
		{"usr", g->n_usr}, {"bin", g->n_bin}, {"lib", g->n_lib}, {"usr/share/doc", g->n_usr},
	};
	for (size_t i = 0; i < ARRAY_LEN(shared); i++) {
		size_t no = dpkg_owners(db, tree_lookup(&g->f->t, shared[i].path), own, 2048);
		assert_int_equal(no, shared[i].want);
		for (size_t k = 1; k < no; k++)
			assert_true(own[k - 1] < own[k]);
	}
	/* own paths: files and symlinks one package lists; not the links /bin and /lib, listed by many */
	assert_false(dpkg_own_path(db, tree_lookup(&g->f->t, "bin")));
	assert_false(dpkg_own_path(db, tree_lookup(&g->f->t, "lib")));
	assert_false(dpkg_own_path(db, tree_lookup(&g->f->t, "usr/share/doc")));
	assert_true(dpkg_own_path(db, tree_lookup(&g->f->t, "usr/lib/x86_64-linux-gnu/libp000.so.1")));
	assert_true(dpkg_own_path(db, tree_lookup(&g->f->t, "usr/share/doc/libm007/copyright"))); /* a shared file */
	for (size_t k = 0; k < g->n; k++) {
		size_t mine, marked;
		dpkg_own_paths(db, &db->pkgs[k], 0xff, &mine, &marked);
		/* its files and its library link: its non-directories but the links /bin and /lib */
		assert_int_equal(mine, g->p[k].n_nondir - g->p[k].n_shared);
		assert_int_equal(marked, 0);
	}
	/* diverted: the diverter owns the path, the package the .distrib; a local diversion's path is nobody's */
	assert_string_equal(dpkg_owner_path(db, "/usr/share/p004/d0/f0")->name, "zdivert");
	assert_string_equal(dpkg_owner_path(db, "/usr/share/p004/d0/f0.distrib")->name, "p004");
	assert_null(dpkg_owner_path(db, "/usr/share/p049/d1/f0"));
	assert_string_equal(dpkg_owner_path(db, "/usr/share/p049/d1/f0.local")->name, "p049");
	assert_null(dpkg_owner_path(db, "/etc/p003.conf")); /* config-files */
	assert_null(dpkg_find(db, "gone"));
	assert_ptr_equal(dpkg_db_file_package(db, "var/lib/dpkg/status.d/sd08.md5sums"), dpkg_find(db, "sd08-files"));

	/* every paragraph kept: the status file back, byte for byte */
	size_t sl;
	char *s = dpkg_status_filtered(db, keep_all, NULL, &sl);
	assert_int_equal(sl, g->status.len);
	assert_memory_equal(s, g->status.data, sl);
	free(s);

	g_peer(g);

	for (size_t k = 0; k < ARRAY_LEN(g->p); k++)
		buf_free(&g->p[k].text);
	buf_free(&g->status);
	buf_free(&g->divs);
	free(g->own);
	fix_free(g->f);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_scale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
