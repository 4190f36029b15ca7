/* reach_ldso: the dynamic loader's search, as reach follows it.
 *
 * How the loaders search (checked against glibc 2.36 elf/dl-load.c
 * _dl_map_object and musl 1.2 ldso/dynlink.c load_library):
 *  glibc, for a DT_NEEDED name without '/' requested by object R:
 *   1. unless R has DT_RUNPATH: DT_RPATH of R, then of R's loader, and up
 *      to the executable (whose RPATH is tried last in any case);
 *   2. LD_LIBRARY_PATH ($ORIGIN there is the executable's directory);
 *   3. R's own DT_RUNPATH (never inherited);
 *   4. /etc/ld.so.cache (entries under the default directories skipped
 *      when R has DF_1_NODEFLIB);
 *   5. the default directories, unless R has DF_1_NODEFLIB.
 *   Every directory is tried with its glibc-hwcaps subdirectories first.
 *   A candidate of another class or machine is skipped and the search
 *   goes on. A name already loaded (as requested, or by its SONAME,
 *   including the dynamic loader itself) is not searched again.
 *  musl: reserved names (libc.so, libpthread.so, libm.so ...) are the
 *   loader itself; then LD_LIBRARY_PATH; then the RUNPATH (else RPATH) of
 *   the requester and of each object that loaded it; then the lines of
 *   /etc/ld-musl-ARCH.path, else /lib:/usr/local/lib:/usr/lib.
 * Where the CPU decides (glibc-hwcaps, $PLATFORM, $LIB) every candidate
 * that exists is kept. */
#include "analyzer/reach_int.h"

#include <elf.h>
#include <fnmatch.h>
#include <stdio.h>

#include "analyzer/elf.h"

struct lobj {
	struct wh_node *node;      /* the file (data node) */
	char *path;                /* the path it was found at ($ORIGIN is its directory) */
	const char *reqname;       /* the name it was requested as */
	const struct elf_info *elf;
	long loader;               /* index of the object that loaded it, -1 for the first */
	int skip_deps;             /* the executable of a dlopen root: only its RPATH matters */
};

struct lset {
	struct lobj *v;
	size_t n, cap;
	long main_idx;             /* the executable, or -1 */
	int musl;
	char musl_arch[64];
	uint16_t machine;
	uint8_t elf_class;
};

static void lset_push(struct lset *s, struct lobj o)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = o;
}

static void lset_free(struct lset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
}

/* A candidate found by a search. */
struct cand {
	struct pathres pr;
	char *path;
	int baseline;
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static void cands_free(struct cands *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		pathres_free(&cs->v[i].pr);
		free(cs->v[i].path);
	}
	free(cs->v);
	memset(cs, 0, sizeof *cs);
}

/* Would ld.so accept the file at path for an object of this class and machine? */
static int try_file(struct reach_ctx *c, const struct lset *s, const char *path, const struct wh_node *who,
                    struct cands *cs, int baseline)
{
	struct pathres pr;
	struct wh_node *n = reach_resolve(c, NULL, path, &pr, who);
	struct wh_node *d = pathres_data_node(c->t, n);
	int ok = 0;
	if (d && d->type == WH_T_REG) {
		const struct elf_info *e = reach_node_elf(d);
		if (e)
			ok = e->elf_class == s->elf_class && e->machine == s->machine && e->type == ET_DYN;
		else
			ok = (d->e->flags & WH_F_BIGELF) != 0; /* too big to parse: assume it fits */
	}
	if (!ok) {
		pathres_free(&pr);
		return 0;
	}
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].pr.node == pr.node && !strcmp(cs->v[i].path, path)) {
			cs->v[i].baseline |= baseline;
			pathres_free(&pr);
			return 1;
		}
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 4;
		cs->v = xrealloc(cs->v, cs->cap * sizeof *cs->v);
	}
	cs->v[cs->n++] = (struct cand){.pr = pr, .path = xstrdup(path), .baseline = baseline};
	return 1;
}

/* One directory of a search list: its glibc-hwcaps subdirectories (every
 * one that has the file is a candidate), then the directory itself, which
 * ends the search. */
static int try_dir(struct reach_ctx *c, const struct lset *s, const char *dir, const char *name,
                   const struct wh_node *who, struct cands *cs)
{
	char p[PATHMAX];
	const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
	if (!s->musl) {
		size_t nh;
		const char *const *hw = ldso_hwcaps_subdirs(s->machine, s->elf_class, &nh);
		for (size_t i = 0; i < nh; i++) {
			snprintf(p, sizeof p, "%s%sglibc-hwcaps/%s/%s", dir[0] ? dir : ".", sep, hw[i], name);
			try_file(c, s, p, who, cs, 0);
		}
	}
	snprintf(p, sizeof p, "%s%s%s", dir[0] ? dir : ".", dir[0] ? sep : "/", name);
	return try_file(c, s, p, who, cs, 1);
}

static char *dir_of(const char *path)
{
	const char *sl = strrchr(path, '/');
	if (!sl)
		return xstrdup(".");
	if (sl == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(sl - path));
}

/* Search a ':'-separated list (RPATH, RUNPATH, LD_LIBRARY_PATH) whose
 * $ORIGIN is origin_of's directory. Returns 1 when a baseline candidate
 * was found. */
static int try_list(struct reach_ctx *c, const struct lset *s, const char *list, const char *origin_path,
                    const char *name, const struct wh_node *who, struct cands *cs, const char *seps)
{
	if (!list)
		return 0;
	char *origin = origin_path ? dir_of(origin_path) : NULL;
	char *dup = xstrdup(list);
	int found = 0;
	char *save = NULL;
	/* strtok would skip empty elements; glibc takes them as the current directory */
	char *p = dup;
	(void)save;
	for (;;) {
		size_t len = strcspn(p, seps);
		char keepc = p[len];
		p[len] = 0;
		char **cand = NULL;
		size_t nc = 0;
		struct wh_error e = {0};
		if (ldso_expand_tokens(p, origin, s->machine, s->elf_class, &cand, &nc, &e) < 0)
			reach_unres(c, who, "%s", e.msg);
		for (size_t i = 0; i < nc && !found; i++)
			found = try_dir(c, s, cand[i], name, who, cs);
		ldso_strv_free(cand, nc);
		if (found || !keepc)
			break;
		p += len + 1;
	}
	free(dup);
	free(origin);
	return found;
}

static int under_default_dir(const char *path, const struct lset *s, int layout)
{
	size_t nd;
	const char *const *dd = ldso_default_dirs(s->machine, s->elf_class, layout, &nd);
	for (size_t i = 0; i < nd; i++) {
		size_t l = strlen(dd[i]);
		if (!strncmp(path, dd[i], l) && path[l] == '/')
			return 1;
	}
	return 0;
}

/* ld.so.cache, or what ldconfig would build when the image has none. */
static int try_cache(struct reach_ctx *c, const struct lset *s, const char *name, int nodeflib,
                     const struct wh_node *who, struct cands *cs)
{
	if (c->have_cache) {
		const char *all[64];
		size_t n = ldso_cache_lookup_all(&c->cache, name, s->machine, s->elf_class, all, ARRAY_LEN(all));
		if (n > ARRAY_LEN(all))
			n = ARRAY_LEN(all);
		const char *base = ldso_cache_lookup(&c->cache, name, s->machine, s->elf_class);
		for (size_t i = 0; i < n; i++) {
			if (base && !strcmp(all[i], base))
				continue;
			if (nodeflib && under_default_dir(all[i], s, c->layout))
				continue;
			try_file(c, s, all[i], who, cs, 0);
		}
		if (base && !(nodeflib && under_default_dir(base, s, c->layout)))
			return try_file(c, s, base, who, cs, 1);
		return 0;
	}
	/* ldconfig: the ld.so.conf directories, then the trusted ones */
	size_t nd;
	const char *const *dd = ldso_default_dirs(s->machine, s->elf_class, c->layout, &nd);
	for (size_t i = 0; i < c->conf.n + nd; i++) {
		const char *dir = i < c->conf.n ? c->conf.dirs[i] : dd[i - c->conf.n];
		if (nodeflib && under_default_dir(dir, s, c->layout))
			continue;
		if (try_dir(c, s, dir, name, who, cs))
			return 1;
		/* a file whose SONAME is the name, under another file name */
		struct pathres pr;
		struct wh_node *dn = reach_resolve(c, NULL, dir, &pr, who);
		pathres_free(&pr);
		if (!dn || dn->type != WH_T_DIR)
			continue;
		for (struct wh_node *ch = dn->child; ch; ch = ch->next) {
			const struct elf_info *e = reach_node_elf(pathres_data_node(c->t, ch));
			if (e && e->soname && !strcmp(e->soname, name)) {
				char p[PATHMAX];
				snprintf(p, sizeof p, "%s/%s", dir, ch->name);
				if (try_file(c, s, p, who, cs, 1))
					return 1;
			}
		}
	}
	return 0;
}

static int musl_reserved(const char *name)
{
	static const char *const rs[] = {"c", "pthread", "rt", "m", "dl", "util", "xnet"};
	if (strncmp(name, "lib", 3))
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(rs); i++) {
		size_t l = strlen(rs[i]);
		if (!strncmp(name + 3, rs[i], l) && !strncmp(name + 3 + l, ".so", 3))
			return 1;
	}
	return 0;
}

/* The default directories (after the cache): 1 when one had the name. */
static int try_default_dirs(struct reach_ctx *c, const struct lset *s, const char *name, const struct wh_node *who,
                            struct cands *cs)
{
	size_t nd;
	const char *const *dd = ldso_default_dirs(s->machine, s->elf_class, c->layout, &nd);
	for (size_t i = 0; i < nd; i++)
		if (try_dir(c, s, dd[i], name, who, cs))
			return 1;
	return 0;
}

/* The cache gave name's baseline candidate. Without the cache ld.so would
 * search the default directories instead (none with DF_1_NODEFLIB): when
 * they do not lead to the same file (a library in /usr/local/lib or in a
 * directory only ld.so.conf.d names), /etc/ld.so.cache is needed. */
static void keep_cache_if_needed(struct reach_ctx *c, const struct lset *s, const char *name, int nodeflib,
                                 const struct wh_node *who, const struct cands *cs)
{
	if (!c->have_cache || c->cache_needed)
		return;
	const char *base = ldso_cache_lookup(&c->cache, name, s->machine, s->elf_class);
	const struct cand *bc = NULL;
	for (size_t i = 0; i < cs->n && !bc; i++)
		if (base && cs->v[i].baseline && !strcmp(cs->v[i].path, base))
			bc = &cs->v[i];
	if (!bc)
		return;
	struct wh_node *lib = pathres_data_node(c->t, bc->pr.node);
	int same = 0;
	if (!nodeflib) {
		struct cands dflt = {0};
		try_default_dirs(c, s, name, who, &dflt);
		for (size_t i = 0; i < dflt.n; i++)
			if (dflt.v[i].baseline && pathres_data_node(c->t, dflt.v[i].pr.node) == lib)
				same = 1;
		cands_free(&dflt);
	}
	if (same)
		return;
	c->cache_needed = 1;
	reach_keep_path(c, "/etc/ld.so.cache", R_LD_CACHE, lib, NULL, 0);
}

/* Every candidate the loader could take for name requested by s->v[req]
 * (req = -1: loaded with dlopen by the C library, as NSS modules are). */
static void search(struct reach_ctx *c, const struct lset *s, long req, const char *name, struct cands *cs)
{
	const struct lobj *R = req >= 0 ? &s->v[req] : NULL;
	const struct wh_node *who = R ? R->node : NULL;
	const char *llp = reach_env_get(c, "LD_LIBRARY_PATH");
	const char *main_path = s->main_idx >= 0 ? s->v[s->main_idx].path : NULL;
	if (strchr(name, '/')) {
		char **cand = NULL;
		size_t nc = 0;
		char *origin = R ? dir_of(R->path) : NULL;
		struct wh_error e = {0};
		if (ldso_expand_tokens(name, origin, s->machine, s->elf_class, &cand, &nc, &e) < 0)
			reach_unres(c, who, "%s", e.msg);
		for (size_t i = 0; i < nc; i++)
			try_file(c, s, cand[i], who, cs, 1);
		ldso_strv_free(cand, nc);
		free(origin);
		return;
	}
	if (s->musl) {
		if (llp && try_list(c, s, llp, main_path, name, who, cs, ":"))
			return;
		for (long l = req; l >= 0; l = s->v[l].loader) {
			const struct elf_info *e = s->v[l].elf;
			const char *rp = e ? (e->runpath ? e->runpath : e->rpath) : NULL;
			if (rp && try_list(c, s, rp, s->v[l].path, name, who, cs, ":"))
				return;
		}
		char pf[128];
		snprintf(pf, sizeof pf, "/etc/ld-musl-%s.path", s->musl_arch);
		struct pathres pr;
		struct wh_node *pn = reach_resolve(c, NULL, pf, &pr, who);
		if (pn && pn->e && pn->e->extra && pn->e->extra->content) {
			reach_keep_res(c, &pr, R_NEEDED, (struct wh_node *)who, NULL, 0);
			try_list(c, s, (const char *)pn->e->extra->content, NULL, name, who, cs, ":\n");
		} else {
			try_list(c, s, "/lib:/usr/local/lib:/usr/lib", NULL, name, who, cs, ":");
		}
		pathres_free(&pr);
		return;
	}
	const struct elf_info *re = R ? R->elf : NULL;
	if (!re || !re->runpath) {
		int did_main = 0;
		for (long l = req; l >= 0; l = s->v[l].loader) {
			const struct elf_info *e = s->v[l].elf;
			if (l == s->main_idx)
				did_main = 1;
			if (e && e->rpath && try_list(c, s, e->rpath, s->v[l].path, name, who, cs, ":"))
				return;
		}
		if (!did_main && s->main_idx >= 0) {
			const struct elf_info *e = s->v[s->main_idx].elf;
			if (e && e->rpath && try_list(c, s, e->rpath, main_path, name, who, cs, ":"))
				return;
		}
	}
	if (llp && try_list(c, s, llp, main_path, name, who, cs, ":;"))
		return;
	if (re && re->runpath && try_list(c, s, re->runpath, R->path, name, who, cs, ":"))
		return;
	int nodeflib = re && (re->flags_1 & DF_1_NODEFLIB);
	if (try_cache(c, s, name, nodeflib, who, cs)) {
		keep_cache_if_needed(c, s, name, nodeflib, who, cs);
		return;
	}
	if (!nodeflib)
		try_default_dirs(c, s, name, who, cs);
}

static long lset_match(const struct lset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct lobj *o = &s->v[i];
		if ((o->reqname && !strcmp(o->reqname, name)) || (o->elf && o->elf->soname && !strcmp(o->elf->soname, name)) ||
		    (o->path && !strcmp(o->path, name)))
			return (long)i;
	}
	return -1;
}

/* musl's name for an architecture (ld-musl-ARCH.so.1, /etc/ld-musl-ARCH.path) */
static const char *musl_arch_of(uint16_t machine)
{
	switch (machine) {
	case EM_X86_64: return "x86_64";
	case EM_AARCH64: return "aarch64";
	case EM_386: return "i386";
	case EM_ARM: return "armhf";
	case EM_PPC64: return "powerpc64le";
	case EM_S390: return "s390x";
	case EM_RISCV: return "riscv64";
	default: return "x86_64";
	}
}

/* The DT_NEEDED closure of one object, as the loader builds it (breadth
 * first, names already loaded not searched again). root is the kept file
 * (a data node), found at root_path. An executable (PT_INTERP) starts its
 * own link map; a shared object is taken as dlopen'd by a process whose
 * executable is main (NULL: unknown). rule is the reason given to what
 * the closure keeps. */
void reach_load_closure(struct reach_ctx *c, struct wh_node *root, const char *root_path, struct wh_node *main)
{
	const struct elf_info *re = reach_node_elf(root);
	if (!re)
		return;
	struct lset s = {.main_idx = -1, .machine = re->machine, .elf_class = re->elf_class};
	char p[PATHMAX];
	const struct elf_info *me = re->interp ? re : reach_node_elf(main);
	const char *interp = me ? me->interp : NULL;
	if (interp && strstr(reach_base_name(interp), "ld-musl-")) {
		s.musl = 1;
		const char *a = reach_base_name(interp) + strlen("ld-musl-");
		size_t l = strcspn(a, ".");
		snprintf(s.musl_arch, sizeof s.musl_arch, "%.*s", (int)(l < 60 ? l : 60), a);
	} else if (!interp && c->image_musl) {
		s.musl = 1;
		snprintf(s.musl_arch, sizeof s.musl_arch, "%s", musl_arch_of(re->machine));
	}
	if (re->interp) {
		lset_push(&s, (struct lobj){.node = root, .path = xstrdup(root_path), .elf = re, .loader = -1});
		s.main_idx = 0;
	} else if (main && reach_node_elf(main)) {
		lset_push(&s, (struct lobj){.node = main, .path = xstrdup(reach_node_path(main, p)), .elf = reach_node_elf(main),
		                            .loader = -1, .skip_deps = 1});
		s.main_idx = 0;
		lset_push(&s, (struct lobj){.node = root, .path = xstrdup(root_path), .elf = re, .loader = 0});
	} else {
		lset_push(&s, (struct lobj){.node = root, .path = xstrdup(root_path), .elf = re, .loader = -1});
	}
	/* the dynamic loader is loaded first, under its path and SONAME */
	if (interp) {
		struct pathres pr;
		struct wh_node *in = reach_resolve(c, NULL, interp, &pr, root);
		struct wh_node *d = pathres_data_node(c->t, in);
		if (!d || d->type != WH_T_REG) {
			if (re->interp)
				reach_unres(c, root, "%s (PT_INTERP)", interp);
		} else {
			if (re->interp)
				reach_keep_res(c, &pr, R_INTERP, root, NULL, 0);
			lset_push(&s, (struct lobj){.node = d, .path = xstrdup(interp), .reqname = interp, .elf = reach_node_elf(d),
			                            .loader = -1, .skip_deps = 1});
			reach_set_item_flag(c, d, F_ELF_DONE);
		}
		pathres_free(&pr);
	}
	for (size_t i = 0; i < s.n; i++) {
		if (s.v[i].skip_deps || !s.v[i].elf)
			continue;
		reach_set_item_flag(c, s.v[i].node, F_ELF_DONE);
		for (size_t k = 0; k < s.v[i].elf->n_needed; k++) {
			const char *name = s.v[i].elf->needed[k];
			if (lset_match(&s, name) >= 0)
				continue;
			if (s.musl && musl_reserved(name))
				continue;
			struct cands cs = {0};
			search(c, &s, (long)i, name, &cs);
			int any = 0;
			/* the baseline candidate first: it is what later names match */
			for (int pass = 1; pass >= 0; pass--)
				for (size_t j = 0; j < cs.n; j++) {
					if (cs.v[j].baseline != pass)
						continue;
					if (reach_keep_res(c, &cs.v[j].pr, R_NEEDED, s.v[i].node, NULL, 0) < 0)
						continue;
					any = 1;
					struct wh_node *d = pathres_data_node(c->t, cs.v[j].pr.node);
					if (d != cs.v[j].pr.node)
						reach_keep(c, d, R_HARDLINK, cs.v[j].pr.node, NULL, 0);
					lset_push(&s, (struct lobj){.node = d, .path = xstrdup(cs.v[j].path), .reqname = name,
					                            .elf = reach_node_elf(d), .loader = (long)i});
				}
			if (!any && !cs.n)
				reach_unres(c, s.v[i].node, "%s (DT_NEEDED)", name);
			cands_free(&cs);
		}
	}
	lset_free(&s);
}

/* A library loaded with dlopen by the C library (NSS modules, libgcc_s):
 * the search is LD_LIBRARY_PATH, the cache, the default directories. */
struct wh_node *reach_keep_dlopen_lib(struct reach_ctx *c, const char *name, uint16_t machine, uint8_t cls,
                                       int rule, struct wh_node *from)
{
	struct lset s = {.main_idx = -1, .machine = machine, .elf_class = cls, .musl = c->image_musl};
	snprintf(s.musl_arch, sizeof s.musl_arch, "%s", musl_arch_of(machine));
	struct cands cs = {0};
	search(c, &s, -1, name, &cs);
	struct wh_node *first = NULL;
	for (size_t j = 0; j < cs.n; j++)
		if (reach_keep_res(c, &cs.v[j].pr, rule, from, NULL, 0) >= 0 && !first)
			first = cs.v[j].pr.node;
	cands_free(&cs);
	return first;
}

/* ---- commands, scripts, shell ---- */

/* ---- the image as ldso's callbacks see it ---- */

static int fs_read(void *ctx, const char *path, const uint8_t **data, size_t *len)
{
	struct reach_ctx *c = ctx;
	struct wh_node *n = pathres_data_node(c->t, reach_node_at(c, path));
	if (!n || n->type != WH_T_REG || !n->e || !n->e->extra || !n->e->extra->content)
		return -1;
	*data = n->e->extra->content;
	*len = n->e->extra->content_len;
	return 0;
}

static int fs_list(void *ctx, const char *dir, char ***names, size_t *n)
{
	struct reach_ctx *c = ctx;
	struct wh_node *d = reach_node_at(c, dir);
	if (!d || d->type != WH_T_DIR)
		return -1;
	struct strv v = {0};
	for (struct wh_node *ch = d->child; ch; ch = ch->next)
		sv_push(&v, xstrdup(ch->name));
	*names = v.v;
	*n = v.n;
	return 0;
}

void reach_setup_loader(struct reach_ctx *c)
{
	struct wh_node *cn = pathres_data_node(c->t, reach_node_at(c, "/etc/ld.so.cache"));
	if (cn && cn->type == WH_T_REG && cn->e && cn->e->extra && cn->e->extra->content) {
		struct wh_error e = {0};
		if (ldso_cache_parse(cn->e->extra->content, cn->e->extra->content_len, &c->cache, &e) == 0)
			c->have_cache = 1;
		else
			reach_unres(c, cn, "a readable ld.so.cache (%s); searched as ldconfig would build it", e.msg);
	}
	if (!c->have_cache) {
		struct ldso_fs fs = {.ctx = c, .read_file = fs_read, .list_dir = fs_list};
		struct wh_error e = {0};
		if (ldso_conf_parse(&fs, "/etc/ld.so.conf", &c->conf, &e) < 0)
			reach_unres(c, reach_node_at(c, "/etc/ld.so.conf"), "%s", e.msg);
	}
	/* Debian's multiarch layout, or /lib64 */
	c->layout = LDSO_LAYOUT_LIB64;
	static const uint16_t ms[] = {EM_X86_64, EM_AARCH64, EM_386, EM_ARM, EM_PPC64, EM_S390, EM_RISCV};
	static const uint8_t cls[] = {ELFCLASS64, ELFCLASS64, ELFCLASS32, ELFCLASS32, ELFCLASS64, ELFCLASS64, ELFCLASS64};
	for (size_t i = 0; i < ARRAY_LEN(ms); i++) {
		size_t nd;
		const char *const *dd = ldso_default_dirs(ms[i], cls[i], LDSO_LAYOUT_MULTIARCH, &nd);
		for (size_t k = 0; k < nd && k < 2; k++) {
			struct wh_node *n = reach_node_at(c, dd[k]);
			if (n && n->type == WH_T_DIR)
				c->layout = LDSO_LAYOUT_MULTIARCH;
		}
	}
	struct wh_node *lib = reach_node_at(c, "/lib");
	if (lib && lib->type == WH_T_DIR)
		for (struct wh_node *ch = lib->child; ch; ch = ch->next)
			if (!fnmatch("ld-musl-*.so.1", ch->name, 0))
				c->image_musl = 1;
}
