/* reach: the kept set of an image and the reason for each kept node.
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
#include "analyzer/reach.h"

#include <elf.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/elf.h"
#include "analyzer/ldso.h"
#include "analyzer/pathres.h"

#define MAX_DEPTH 16
#define PATHMAX 4096

enum {
	F_SUBTREE = 1,     /* keep every child too */
	F_ELF_DONE = 2,    /* its DT_NEEDED closure was computed */
	F_SCRIPT_DONE = 4, /* its "#!" line and shell commands were followed */
};

static const char *const rule_names[R_COUNT] = {
	[R_ENTRYPOINT] = "entrypoint", [R_CMD] = "cmd", [R_SHELL] = "shell", [R_ARG] = "argument",
	[R_KEEP] = "keep", [R_KEEP_FROM] = "keep-from", [R_KEEP_EXE] = "keep-exe",
	[R_KEEP_PACKAGE] = "keep-package", [R_USER] = "user", [R_PRELOAD] = "preload",
	[R_ALWAYS] = "always", [R_PARENT] = "parent", [R_LINK] = "link", [R_SYMLINK] = "symlink",
	[R_HARDLINK] = "hardlink", [R_INTERP] = "interp", [R_NEEDED] = "needed", [R_SHEBANG] = "shebang",
	[R_SCRIPT] = "script", [R_SUBTREE] = "subtree", [R_COPYRIGHT] = "copyright",
	[R_NSS] = "nss", [R_LIBGCC_S] = "libgcc_s", [R_GCONV] = "gconv", [R_CERTS] = "certs",
	[R_OPENSSL_MODULES] = "openssl-modules", [R_PYTHON] = "python", [R_PERL] = "perl",
	[R_RUBY] = "ruby", [R_NODE] = "node", [R_LOCALE] = "locale", [R_TZDATA] = "tzdata",
};

const char *reach_rule_name(int rule)
{
	return rule >= 0 && rule < R_COUNT ? rule_names[rule] : "?";
}

struct strv {
	char **v;
	size_t n, cap;
};

static void sv_push(struct strv *s, char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = str;
}

static void sv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

struct reach_ctx {
	struct analysis *a;
	struct wh_tree *t;
	struct reach *r;
	const struct reach_opts *o; /* only during reach_compute */
	struct reach_pkg_hooks pkg;
	/* node -> item index + 1 */
	size_t *slots;
	size_t nslots;
	size_t items_cap;
	size_t *queue;
	size_t qhead, qlen, qcap;
	/* image facts */
	struct strv env;        /* "K=V" */
	struct strv path;       /* PATH dirs */
	char workdir[PATHMAX];  /* absolute */
	struct wh_node *workdir_node;
	struct ldso_cache cache;
	int have_cache;
	struct ldso_dirs conf;  /* ld.so.conf dirs, used only without a cache */
	int layout;
	int image_musl;
	/* options */
	struct strv drop;       /* patterns */
	int rule_state[R_COUNT]; /* -1 auto, 0 off, 1 on */
	int rule_fired[R_COUNT];
	struct strv python_done;
	/* unresolved, collected then sorted and deduplicated */
	struct strv unres_path, unres_needs;
	struct strv roots;
	int depth;
};

/* ---- small helpers ---- */

static const char *node_path(const struct wh_node *n, char *buf)
{
	if (!n)
		return "/";
	tree_path(n, buf, PATHMAX);
	return buf;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static const char *env_get(struct reach_ctx *c, const char *name)
{
	size_t l = strlen(name);
	/* the last assignment wins, as in docker */
	for (size_t i = c->env.n; i-- > 0;)
		if (!strncmp(c->env.v[i], name, l) && c->env.v[i][l] == '=')
			return c->env.v[i] + l + 1;
	return NULL;
}

static void unresolved(struct reach_ctx *c, const struct wh_node *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void unresolved(struct reach_ctx *c, const struct wh_node *who, const char *fmt, ...)
{
	char p[PATHMAX];
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	sv_push(&c->unres_path, xstrdup(node_path(who, p)));
	sv_push(&c->unres_needs, msg);
}

static const struct elf_info *node_elf(const struct wh_node *n)
{
	return n && n->type == WH_T_REG && n->e && n->e->extra ? n->e->extra->elf : NULL;
}

static int has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* ---- items ---- */

static size_t hash_ptr(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v;
}

static long item_find(const struct reach_ctx *c, const struct wh_node *n)
{
	if (!c->nslots)
		return -1;
	size_t h = hash_ptr(n) & (c->nslots - 1);
	while (c->slots[h]) {
		if (c->r->items[c->slots[h] - 1].node == n)
			return (long)(c->slots[h] - 1);
		h = (h + 1) & (c->nslots - 1);
	}
	return -1;
}

static void slots_insert(struct reach_ctx *c, size_t idx)
{
	size_t h = hash_ptr(c->r->items[idx].node) & (c->nslots - 1);
	while (c->slots[h])
		h = (h + 1) & (c->nslots - 1);
	c->slots[h] = idx + 1;
}

static void queue_push(struct reach_ctx *c, size_t idx)
{
	if (c->qlen == c->qcap) {
		c->qcap = c->qcap ? c->qcap * 2 : 256;
		c->queue = xrealloc(c->queue, c->qcap * sizeof *c->queue);
	}
	c->queue[c->qlen++] = idx;
}

static int drop_match(struct reach_ctx *c, const char *path, const char **pat)
{
	for (size_t i = 0; i < c->drop.n; i++) {
		const char *d = c->drop.v[i];
		if (fnmatch(d, path, FNM_PATHNAME) == 0) {
			*pat = d;
			return 1;
		}
	}
	return 0;
}

/* Is n, or a directory above it, matched by --drop? */
static const char *dropped_by(struct reach_ctx *c, const struct wh_node *n)
{
	if (!c->drop.n)
		return NULL;
	char p[PATHMAX];
	const char *pat;
	for (const struct wh_node *x = n; x && x->parent; x = x->parent)
		if (drop_match(c, node_path(x, p), &pat))
			return pat;
	return NULL;
}

/* Keep node n for rule, led to by from. Returns the item index or -1. */
static long keep(struct reach_ctx *c, struct wh_node *n, int rule, struct wh_node *from, const char *what,
                 int flags)
{
	if (!n)
		return -1;
	long idx = item_find(c, n);
	if (idx >= 0) {
		struct reach_item *it = &c->r->items[idx];
		if ((flags & F_SUBTREE) && !(it->flags & F_SUBTREE)) {
			it->flags |= F_SUBTREE;
			queue_push(c, (size_t)idx);
		}
		if (it->rule == R_PARENT && rule != R_PARENT) {
			it->rule = (uint8_t)rule;
			it->from = from;
			it->what = what;
		}
		return idx;
	}
	const char *pat = dropped_by(c, n);
	if (pat) {
		/* a need that was dropped is unresolved; a dropped entry of a
		 * directory kept whole is what the user asked for */
		if (!(from && from == n->parent && from->type == WH_T_DIR)) {
			char p[PATHMAX];
			unresolved(c, from, "%s (dropped by --drop %s)", node_path(n, p), pat);
		}
		return -1;
	}
	struct reach *r = c->r;
	if (r->n_items == c->items_cap) {
		c->items_cap = c->items_cap ? c->items_cap * 2 : 1024;
		r->items = xrealloc(r->items, c->items_cap * sizeof *r->items);
	}
	if ((r->n_items + 1) * 2 > c->nslots) {
		free(c->slots);
		c->nslots = c->nslots ? c->nslots * 2 : 2048;
		c->slots = xcalloc(c->nslots, sizeof *c->slots);
		for (size_t i = 0; i < r->n_items; i++)
			slots_insert(c, i);
	}
	idx = (long)r->n_items++;
	r->items[idx] = (struct reach_item){.node = n, .from = from, .rule = (uint8_t)rule,
	                                    .flags = (uint8_t)(flags & F_SUBTREE), .what = what};
	slots_insert(c, (size_t)idx);
	n->mark |= 1;
	queue_push(c, (size_t)idx);
	/* every parent directory */
	struct wh_node *child = n;
	for (struct wh_node *p = n->parent; p; p = p->parent) {
		if (item_find(c, p) >= 0)
			break;
		keep(c, p, R_PARENT, child, NULL, 0);
		child = p;
	}
	return idx;
}

/* Keep what a resolution reached: the final node, then the links on the way. */
static long keep_res(struct reach_ctx *c, const struct pathres *pr, int rule, struct wh_node *from,
                     const char *what, int flags)
{
	long idx = keep(c, pr->node, rule, from, what, flags);
	if (idx < 0)
		return idx;
	for (size_t i = 0; i < pr->n_links; i++)
		keep(c, pr->links[i], R_LINK, pr->node, NULL, 0);
	return idx;
}

/* Resolve an image path (relative ones against base, NULL = WorkingDir),
 * following symlinks. Errors (loops) are reported as unresolved for who. */
static struct wh_node *resolve(struct reach_ctx *c, const struct wh_node *base, const char *path,
                               struct pathres *pr, const struct wh_node *who)
{
	struct wh_error e = {0};
	if (pathres_resolve(c->t, base ? base : c->workdir_node, path, PATHRES_FOLLOW, pr, &e) < 0) {
		unresolved(c, who, "%s", e.msg);
		pr->node = NULL;
	}
	return pr->node;
}

/* Keep path (and its links) if it exists; SUBTREE for a directory when
 * tree is set. Returns the final node or NULL. */
static struct wh_node *keep_path(struct reach_ctx *c, const char *path, int rule, struct wh_node *from,
                                 const char *what, int tree)
{
	struct pathres pr;
	struct wh_node *n = resolve(c, NULL, path, &pr, from);
	if (n)
		keep_res(c, &pr, rule, from, what, tree && n->type == WH_T_DIR ? F_SUBTREE : 0);
	pathres_free(&pr);
	return n;
}

/* Match a glob against the tree without following symlinks; keep every match. */
static size_t glob_keep(struct reach_ctx *c, struct wh_node *dir, const char *pat, int rule,
                        struct wh_node *from, const char *what)
{
	while (*pat == '/')
		pat++;
	if (!*pat)
		return keep(c, dir, rule, from, what, dir->type == WH_T_DIR ? F_SUBTREE : 0) >= 0;
	const char *slash = strchr(pat, '/');
	size_t len = slash ? (size_t)(slash - pat) : strlen(pat);
	char comp[256];
	if (len >= sizeof comp)
		return 0;
	memcpy(comp, pat, len);
	comp[len] = 0;
	size_t found = 0;
	if (!has_glob(comp)) {
		struct wh_node *ch = tree_child(c->t, dir, comp);
		if (ch && (!slash || ch->type == WH_T_DIR))
			found += glob_keep(c, ch, slash ? slash : "", rule, from, what);
		else if (ch && ch->type == WH_T_SYMLINK && slash) {
			/* a symlinked directory on the way: follow it */
			struct pathres pr;
			struct wh_node *tgt = resolve(c, dir, comp, &pr, from);
			if (tgt && tgt->type == WH_T_DIR) {
				for (size_t i = 0; i < pr.n_links; i++)
					keep(c, pr.links[i], R_LINK, tgt, NULL, 0);
				found += glob_keep(c, tgt, slash, rule, from, what);
			}
			pathres_free(&pr);
		}
		return found;
	}
	for (struct wh_node *ch = dir->child; ch; ch = ch->next) {
		if (fnmatch(comp, ch->name, FNM_PERIOD) != 0)
			continue;
		if (slash && ch->type != WH_T_DIR)
			continue;
		found += glob_keep(c, ch, slash ? slash : "", rule, from, what);
	}
	return found;
}

/* A path or a glob: keep every match (directories with their subtree). */
static size_t keep_pattern(struct reach_ctx *c, const char *pat, int rule, struct wh_node *from,
                           const char *what)
{
	if (has_glob(pat))
		return glob_keep(c, c->t->root, pat, rule, from, what);
	return keep_path(c, pat, rule, from, what, 1) != NULL;
}

/* ---- the dynamic loader ---- */

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
	struct wh_node *n = resolve(c, NULL, path, &pr, who);
	struct wh_node *d = pathres_data_node(c->t, n);
	int ok = 0;
	if (d && d->type == WH_T_REG) {
		const struct elf_info *e = node_elf(d);
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
			unresolved(c, who, "%s", e.msg);
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
		struct wh_node *dn = resolve(c, NULL, dir, &pr, who);
		pathres_free(&pr);
		if (!dn || dn->type != WH_T_DIR)
			continue;
		for (struct wh_node *ch = dn->child; ch; ch = ch->next) {
			const struct elf_info *e = node_elf(pathres_data_node(c->t, ch));
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

/* Every candidate the loader could take for name requested by s->v[req]
 * (req = -1: loaded with dlopen by the C library, as NSS modules are). */
static void search(struct reach_ctx *c, const struct lset *s, long req, const char *name, struct cands *cs)
{
	const struct lobj *R = req >= 0 ? &s->v[req] : NULL;
	const struct wh_node *who = R ? R->node : NULL;
	const char *llp = env_get(c, "LD_LIBRARY_PATH");
	const char *main_path = s->main_idx >= 0 ? s->v[s->main_idx].path : NULL;
	if (strchr(name, '/')) {
		char **cand = NULL;
		size_t nc = 0;
		char *origin = R ? dir_of(R->path) : NULL;
		struct wh_error e = {0};
		if (ldso_expand_tokens(name, origin, s->machine, s->elf_class, &cand, &nc, &e) < 0)
			unresolved(c, who, "%s", e.msg);
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
		struct wh_node *pn = resolve(c, NULL, pf, &pr, who);
		if (pn && pn->e && pn->e->extra && pn->e->extra->content) {
			keep_res(c, &pr, R_NEEDED, (struct wh_node *)who, NULL, 0);
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
	if (try_cache(c, s, name, nodeflib, who, cs))
		return;
	if (nodeflib)
		return;
	size_t nd;
	const char *const *dd = ldso_default_dirs(s->machine, s->elf_class, c->layout, &nd);
	for (size_t i = 0; i < nd; i++)
		if (try_dir(c, s, dd[i], name, who, cs))
			return;
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

static void set_item_flag(struct reach_ctx *c, const struct wh_node *n, int f)
{
	long i = item_find(c, n);
	if (i >= 0)
		c->r->items[i].flags |= (uint8_t)f;
}

/* The DT_NEEDED closure of one object, as the loader builds it (breadth
 * first, names already loaded not searched again). root is the kept file
 * (a data node), found at root_path. An executable (PT_INTERP) starts its
 * own link map; a shared object is taken as dlopen'd by a process whose
 * executable is main (NULL: unknown). rule is the reason given to what
 * the closure keeps. */
static void load_closure(struct reach_ctx *c, struct wh_node *root, const char *root_path, struct wh_node *main)
{
	const struct elf_info *re = node_elf(root);
	if (!re)
		return;
	struct lset s = {.main_idx = -1, .machine = re->machine, .elf_class = re->elf_class};
	char p[PATHMAX];
	const struct elf_info *me = re->interp ? re : node_elf(main);
	const char *interp = me ? me->interp : NULL;
	if (interp && strstr(base_name(interp), "ld-musl-")) {
		s.musl = 1;
		const char *a = base_name(interp) + strlen("ld-musl-");
		size_t l = strcspn(a, ".");
		snprintf(s.musl_arch, sizeof s.musl_arch, "%.*s", (int)(l < 60 ? l : 60), a);
	} else if (!interp && c->image_musl) {
		s.musl = 1;
		snprintf(s.musl_arch, sizeof s.musl_arch, "%s", musl_arch_of(re->machine));
	}
	if (re->interp) {
		lset_push(&s, (struct lobj){.node = root, .path = xstrdup(root_path), .elf = re, .loader = -1});
		s.main_idx = 0;
	} else if (main && node_elf(main)) {
		lset_push(&s, (struct lobj){.node = main, .path = xstrdup(node_path(main, p)), .elf = node_elf(main),
		                            .loader = -1, .skip_deps = 1});
		s.main_idx = 0;
		lset_push(&s, (struct lobj){.node = root, .path = xstrdup(root_path), .elf = re, .loader = 0});
	} else {
		lset_push(&s, (struct lobj){.node = root, .path = xstrdup(root_path), .elf = re, .loader = -1});
	}
	/* the dynamic loader is loaded first, under its path and SONAME */
	if (interp) {
		struct pathres pr;
		struct wh_node *in = resolve(c, NULL, interp, &pr, root);
		struct wh_node *d = pathres_data_node(c->t, in);
		if (!d || d->type != WH_T_REG) {
			if (re->interp)
				unresolved(c, root, "%s (PT_INTERP)", interp);
		} else {
			if (re->interp)
				keep_res(c, &pr, R_INTERP, root, NULL, 0);
			lset_push(&s, (struct lobj){.node = d, .path = xstrdup(interp), .reqname = interp, .elf = node_elf(d),
			                            .loader = -1, .skip_deps = 1});
			set_item_flag(c, d, F_ELF_DONE);
		}
		pathres_free(&pr);
	}
	for (size_t i = 0; i < s.n; i++) {
		if (s.v[i].skip_deps || !s.v[i].elf)
			continue;
		set_item_flag(c, s.v[i].node, F_ELF_DONE);
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
					if (keep_res(c, &cs.v[j].pr, R_NEEDED, s.v[i].node, NULL, 0) < 0)
						continue;
					any = 1;
					struct wh_node *d = pathres_data_node(c->t, cs.v[j].pr.node);
					if (d != cs.v[j].pr.node)
						keep(c, d, R_HARDLINK, cs.v[j].pr.node, NULL, 0);
					lset_push(&s, (struct lobj){.node = d, .path = xstrdup(cs.v[j].path), .reqname = name,
					                            .elf = node_elf(d), .loader = (long)i});
				}
			if (!any && !cs.n)
				unresolved(c, s.v[i].node, "%s (DT_NEEDED)", name);
			cands_free(&cs);
		}
	}
	lset_free(&s);
}

/* A library loaded with dlopen by the C library (NSS modules, libgcc_s):
 * the search is LD_LIBRARY_PATH, the cache, the default directories. */
static struct wh_node *keep_dlopen_lib(struct reach_ctx *c, const char *name, uint16_t machine, uint8_t cls,
                                       int rule, struct wh_node *from)
{
	struct lset s = {.main_idx = -1, .machine = machine, .elf_class = cls, .musl = c->image_musl};
	snprintf(s.musl_arch, sizeof s.musl_arch, "%s", musl_arch_of(machine));
	struct cands cs = {0};
	search(c, &s, -1, name, &cs);
	struct wh_node *first = NULL;
	for (size_t j = 0; j < cs.n; j++)
		if (keep_res(c, &cs.v[j].pr, rule, from, NULL, 0) >= 0 && !first)
			first = cs.v[j].pr.node;
	cands_free(&cs);
	return first;
}

/* ---- commands, scripts, shell ---- */

static int is_shell_name(const char *b)
{
	static const char *const sh[] = {"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "posh", "yash"};
	for (size_t i = 0; i < ARRAY_LEN(sh); i++)
		if (!strcmp(b, sh[i]))
			return 1;
	return 0;
}

static int is_executable_file(struct reach_ctx *c, struct wh_node *n)
{
	struct wh_node *d = pathres_data_node(c->t, n);
	return d && d->type == WH_T_REG && d->e && (d->e->mode & 0111);
}

/* A command name as execvp and the shells find it: a name with '/' is a
 * path (relative to WorkingDir), else the first executable file on PATH. */
static struct wh_node *find_command(struct reach_ctx *c, const char *name, struct pathres *pr,
                                    const struct wh_node *who)
{
	memset(pr, 0, sizeof *pr);
	if (!name[0])
		return NULL;
	if (strchr(name, '/')) {
		struct wh_node *n = resolve(c, NULL, name, pr, who);
		return n && n->type != WH_T_DIR ? n : NULL;
	}
	for (size_t i = 0; i < c->path.n; i++) {
		char p[PATHMAX];
		snprintf(p, sizeof p, "%s/%s", c->path.v[i][0] ? c->path.v[i] : ".", name);
		struct pathres t;
		struct wh_node *n = resolve(c, NULL, p, &t, who);
		if (n && is_executable_file(c, n)) {
			*pr = t;
			return n;
		}
		pathres_free(&t);
	}
	return NULL;
}

static const char *const shell_builtins[] = {
	":", ".", "source", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command", "compgen",
	"complete", "continue", "declare", "dirs", "disown", "echo", "enable", "eval", "exec", "exit", "export",
	"false", "fc", "fg", "getopts", "hash", "help", "history", "jobs", "kill", "let", "local", "logout",
	"mapfile", "popd", "printf", "pushd", "pwd", "read", "readarray", "readonly", "return", "set", "shift",
	"shopt", "suspend", "test", "[", "[[", "]]", "times", "trap", "true", "type", "typeset", "ulimit",
	"umask", "unalias", "unset", "wait", "fi", "done", "esac", "}", "then", "else", "do", "in", "]",
};

static int is_builtin(const char *w)
{
	for (size_t i = 0; i < ARRAY_LEN(shell_builtins); i++)
		if (!strcmp(w, shell_builtins[i]))
			return 1;
	return 0;
}

/* Programs that run their arguments as a command: how many plain
 * arguments come before it, and which options take a value. */
struct wrapper {
	const char *name;
	int skip;
	const char *valopts; /* space-separated */
};
static const struct wrapper wrappers[] = {
	{"exec", 0, "-a"}, {"command", 0, ""}, {"builtin", 0, ""}, {"time", 0, "-f -o"},
	{"env", 0, "-u -C -S --unset --chdir"}, {"nohup", 0, ""}, {"nice", 0, "-n --adjustment"},
	{"timeout", 1, "-s -k --signal --kill-after"}, {"gosu", 1, ""}, {"su-exec", 1, ""},
	{"tini", 0, "-e -p -l"}, {"tini-static", 0, "-e -p"}, {"dumb-init", 0, "-r --rewrite"},
	{"catatonit", 0, ""}, {"setsid", 0, ""}, {"stdbuf", 0, "-i -o -e"}, {"xargs", 0, "-a -d -E -I -L -n -P -s"},
	{"sudo", 0, "-u -g -C -D -h -p -R -T -U"}, {"setpriv", 0, "--reuid --regid --groups --inh-caps --bounding-set"},
	{"ionice", 0, "-c -n -p"}, {"taskset", 1, ""}, {"chrt", 1, ""}, {"s6-setuidgid", 1, ""},
	{"chpst", 0, "-u -U -e -n -l -L"}, {"runuser", 0, "-u -g -G"}, {"unshare", 0, ""}, {"flock", 1, "-w -E"},
	{"numactl", 0, ""}, {"prlimit", 0, ""}, {"strace", 0, "-o -e -p -s"}, {"valgrind", 0, ""},
	{"with-contenv", 0, ""}, {"s6-envdir", 1, ""}, {"entrypoint", 0, ""},
};

static const struct wrapper *find_wrapper(const char *b)
{
	for (size_t i = 0; i < ARRAY_LEN(wrappers); i++)
		if (!strcmp(b, wrappers[i].name))
			return &wrappers[i];
	return NULL;
}

static int takes_value(const struct wrapper *w, const char *opt)
{
	const char *p = w->valopts;
	size_t l = strlen(opt);
	while ((p = strstr(p, opt))) {
		if ((p == w->valopts || p[-1] == ' ') && (p[l] == ' ' || !p[l]))
			return 1;
		p += l;
	}
	return 0;
}

static int is_assignment(const char *w)
{
	if (!(w[0] == '_' || (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z')))
		return 0;
	for (const char *p = w; *p; p++) {
		if (*p == '=')
			return 1;
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	}
	return 0;
}

#define UNKNOWN_CH '\x01' /* marks an expansion whose value is not known */

static void parse_shell(struct reach_ctx *c, const char *text, size_t len, struct wh_node *script,
                        char **args, size_t nargs, int rule);
static void follow_script(struct reach_ctx *c, struct wh_node *n, char **args, size_t nargs);

/* Keep the words that name existing files (absolute, or relative to
 * WorkingDir for a root): configuration files, scripts given to
 * interpreters, "-c/etc/x.conf", "--config=/etc/x". */
static void keep_arg_paths(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int root)
{
	for (size_t i = 0; i < n; i++) {
		const char *w = argv[i];
		if (strchr(w, UNKNOWN_CH) || !w[0])
			continue;
		const char *eq = w[0] == '-' ? strchr(w, '=') : NULL;
		const char *p = eq ? eq + 1 : w;
		if (w[0] == '-' && !eq) {
			/* "-c/etc/x" */
			const char *sl = strchr(w, '/');
			if (!sl || sl == w)
				continue;
			p = sl;
		}
		if (p[0] != '/' && !(root && p[0] != '-'))
			continue;
		if (has_glob(p))
			continue;
		struct pathres pr;
		struct wh_error e = {0};
		if (pathres_resolve(c->t, c->workdir_node, p, PATHRES_FOLLOW, &pr, &e) == 0 && pr.node &&
		    pr.node != c->t->root && (pr.node->type != WH_T_DIR || root))
			keep_res(c, &pr, R_ARG, from, NULL, root && pr.node->type == WH_T_DIR ? F_SUBTREE : 0);
		pathres_free(&pr);
	}
}

/* Follow one command line (argv already expanded): keep the program it
 * runs, follow wrappers, "sh -c", scripts. from: the script or NULL for
 * the image config; rule: what to call the reason; quiet: report nothing
 * unresolved (a guess, like Cmd after a binary Entrypoint). */
static void follow_argv(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int rule, const char *what,
                        int quiet, struct strv *funcs)
{
	if (c->depth > MAX_DEPTH)
		return;
	size_t i = 0;
	while (i < n && is_assignment(argv[i]))
		i++;
	/* shell keywords that prefix a command */
	static const char *const prefix[] = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "(",
	                                      "fi", "done", "esac", "}"};
	for (int again = 1; again && i < n;) {
		again = 0;
		for (size_t k = 0; k < ARRAY_LEN(prefix); k++)
			if (!strcmp(argv[i], prefix[k])) {
				i++;
				again = 1;
				break;
			}
	}
	if (i >= n)
		return;
	const char *cmd = argv[i];
	if (!strcmp(cmd, "for") || !strcmp(cmd, "case") || !strcmp(cmd, "select") || !strcmp(cmd, "function"))
		return;
	if (funcs)
		for (size_t k = 0; k < funcs->n; k++)
			if (!strcmp(funcs->v[k], cmd))
				return;
	int root = from == NULL;
	const char *b = base_name(cmd);
	const struct wrapper *w = find_wrapper(b);
	int builtin_wrapper = w && (!strcmp(b, "exec") || !strcmp(b, "command") || !strcmp(b, "builtin") ||
	                            (!strcmp(b, "time") && !strchr(cmd, '/')));
	if (is_builtin(cmd) && !builtin_wrapper && strcmp(cmd, ".") && strcmp(cmd, "source") && strcmp(cmd, "eval") &&
	    strcmp(cmd, "trap"))
		return;
	if (strchr(cmd, UNKNOWN_CH) || has_glob(cmd)) {
		if (!quiet) {
			char *w = xstrdup(cmd);
			for (char *p = w; *p; p++)
				if (*p == UNKNOWN_CH)
					*p = '$';
			unresolved(c, from, "command \"%s\" (an expansion whose value is not known)", w);
			free(w);
		}
		return;
	}
	if (!strcmp(cmd, ".") || !strcmp(cmd, "source")) {
		if (i + 1 < n && !strchr(argv[i + 1], UNKNOWN_CH)) {
			struct pathres pr;
			struct wh_node *sn = find_command(c, argv[i + 1], &pr, from);
			if (!sn && !strchr(argv[i + 1], '/')) {
				pathres_free(&pr);
				sn = resolve(c, NULL, argv[i + 1], &pr, from);
			}
			if (sn && sn->type != WH_T_DIR) {
				keep_res(c, &pr, R_SCRIPT, from, NULL, 0);
				struct wh_node *d = pathres_data_node(c->t, sn);
				if (d && d->e && d->e->extra && d->e->extra->content) {
					c->depth++;
					parse_shell(c, (const char *)d->e->extra->content, d->e->extra->content_len, d, NULL, 0,
					            R_SCRIPT);
					c->depth--;
				}
			} else if (!quiet) {
				unresolved(c, from, "sourced file \"%s\"", argv[i + 1]);
			}
			pathres_free(&pr);
		}
		return;
	}
	if (!strcmp(cmd, "eval") || !strcmp(cmd, "trap")) {
		if (i + 1 < n && !strchr(argv[i + 1], UNKNOWN_CH)) {
			c->depth++;
			parse_shell(c, argv[i + 1], strlen(argv[i + 1]), from, NULL, 0, rule);
			c->depth--;
		}
		return;
	}
	struct wh_node *prog = NULL;
	if (!builtin_wrapper) {
		struct pathres pr;
		prog = find_command(c, cmd, &pr, from);
		if (prog) {
			keep_res(c, &pr, rule, from, what, 0);
		} else if (!quiet) {
			unresolved(c, from, "command \"%s\"%s", cmd, strchr(cmd, '/') ? "" : " (not found on PATH)");
		}
		pathres_free(&pr);
		if (!prog && !w)
			return;
	}
	if (w) {
		size_t j = i + 1, skipped = 0;
		for (; j < n; j++) {
			const char *a = argv[j];
			if (!strcmp(a, "--")) {
				j++;
				break;
			}
			if (a[0] == '-' && a[1]) {
				if (!strcmp(b, "env") && !strcmp(a, "-S") && j + 1 < n) {
					/* env -S "cmd args": split */
					c->depth++;
					parse_shell(c, argv[j + 1], strlen(argv[j + 1]), from, NULL, 0, rule);
					c->depth--;
					return;
				}
				if (takes_value(w, a))
					j++;
				continue;
			}
			if (!strcmp(b, "env") && is_assignment(a))
				continue;
			if ((int)skipped < w->skip) {
				skipped++;
				continue;
			}
			break;
		}
		if (j < n) {
			c->depth++;
			follow_argv(c, argv + j, n - j, from, rule, what, quiet, NULL);
			c->depth--;
		}
		return;
	}
	/* sh -c STRING [ARG0 ARGS...], sh SCRIPT ARGS */
	if (is_shell_name(b) || !strcmp(b, "busybox")) {
		size_t j = i + 1;
		if (!strcmp(b, "busybox") && j < n && is_shell_name(argv[j]))
			j++;
		for (; j < n; j++) {
			if (!strcmp(argv[j], "-c") && j + 1 < n) {
				c->depth++;
				parse_shell(c, argv[j + 1], strlen(argv[j + 1]), from ? from : prog, argv + j + 2,
				            n - j - 2 > 0 ? n - j - 2 : 0, root ? R_SHELL : R_SCRIPT);
				c->depth--;
				return;
			}
			if (argv[j][0] != '-' && argv[j][0] != '+')
				break;
			if (!strcmp(argv[j], "-o") || !strcmp(argv[j], "+o"))
				j++;
		}
		if (j < n && !strchr(argv[j], UNKNOWN_CH)) {
			struct pathres pr;
			struct wh_node *sn = resolve(c, NULL, argv[j], &pr, from);
			if (sn && sn->type != WH_T_DIR) {
				keep_res(c, &pr, R_ARG, from ? from : prog, NULL, 0);
				struct wh_node *d = pathres_data_node(c->t, sn);
				if (d && d->e && d->e->extra && d->e->extra->content) {
					c->depth++;
					parse_shell(c, (const char *)d->e->extra->content, d->e->extra->content_len, d,
					            argv + j + 1, n - j - 1, R_SCRIPT);
					c->depth--;
					set_item_flag(c, d, F_SCRIPT_DONE);
				}
			} else if (!quiet) {
				unresolved(c, from ? from : prog, "script \"%s\"", argv[j]);
			}
			pathres_free(&pr);
		}
		return;
	}
	keep_arg_paths(c, argv + i + 1, n - i - 1, prog, root);
	/* a script run with these arguments: its "$@" is known */
	struct wh_node *d = pathres_data_node(c->t, prog);
	long it = d ? item_find(c, d) : -1;
	if (d && it >= 0 && !(c->r->items[it].flags & F_SCRIPT_DONE) && d->e && d->e->extra && d->e->extra->shebang) {
		c->r->items[it].flags |= F_SCRIPT_DONE;
		c->depth++;
		follow_script(c, d, argv + i + 1, n - i - 1);
		c->depth--;
	}
}

/* -- a small shell tokenizer: enough to find words in command position -- */

struct sh {
	struct reach_ctx *c;
	const char *s;
	size_t len, pos;
	struct wh_node *script;
	char **args;
	size_t nargs;
	int args_known;
	struct strv vars;      /* "K=V" assigned in the script */
	struct buf word;
	int in_word;
	struct strv words;     /* of the current command */
	struct strv *cmds_w;   /* commands: words joined by '\0', list end '\0\0' */
	size_t ncmds;
	struct strv heredocs;  /* delimiters waiting for the end of the line */
	int redirect_next;     /* the next word is a redirection target */
};

static void sh_putc(struct sh *h, char ch)
{
	buf_append(&h->word, &ch, 1);
	h->in_word = 1;
}

static void sh_puts(struct sh *h, const char *s)
{
	buf_append(&h->word, s, strlen(s));
	h->in_word = 1;
}

static void sh_end_word(struct sh *h)
{
	if (!h->in_word)
		return;
	char *w = xstrndup((const char *)h->word.data ? (const char *)h->word.data : "", h->word.len);
	h->word.len = 0;
	h->in_word = 0;
	if (h->redirect_next) {
		h->redirect_next = 0;
		free(w);
		return;
	}
	sv_push(&h->words, w);
}

/* Commands are collected as (words, terminator) and followed at the end,
 * when every function name of the script is known. */
struct shcmd {
	struct strv words;
	char term[4];
};
struct shcmds {
	struct shcmd *v;
	size_t n, cap;
};

static void sh_end_cmd(struct sh *h, struct shcmds *cs, const char *term)
{
	sh_end_word(h);
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 32;
		cs->v = xrealloc(cs->v, cs->cap * sizeof *cs->v);
	}
	struct shcmd *sc = &cs->v[cs->n++];
	sc->words = h->words;
	snprintf(sc->term, sizeof sc->term, "%s", term);
	memset(&h->words, 0, sizeof h->words);
}

static const char *sh_var(struct sh *h, const char *name)
{
	size_t l = strlen(name);
	for (size_t i = h->vars.n; i-- > 0;)
		if (!strncmp(h->vars.v[i], name, l) && h->vars.v[i][l] == '=')
			return h->vars.v[i] + l + 1;
	return env_get(h->c, name);
}

/* Find the end of a $( ... ) or ` ... ` starting after the opener. */
static size_t sh_match(const char *s, size_t len, size_t pos, char open, char close)
{
	int depth = 1;
	char q = 0;
	for (size_t i = pos; i < len; i++) {
		char ch = s[i];
		if (q) {
			if (ch == '\\' && q == '"' && i + 1 < len)
				i++;
			else if (ch == q)
				q = 0;
			continue;
		}
		if (ch == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if ((ch == '\'' || ch == '"') && open != '`') {
			q = ch;
			continue;
		}
		if (ch == close && (open == close || --depth == 0))
			return i;
		if (ch == open && open != close)
			depth++;
	}
	return len;
}

/* Expand a "$..." at h->pos (which is at '$'). quoted: inside "..." */
static void sh_dollar(struct sh *h, int quoted, struct shcmds *cs)
{
	const char *s = h->s;
	size_t i = h->pos + 1;
	(void)cs;
	if (i < h->len && s[i] == '(') {
		size_t end = sh_match(s, h->len, i + 1, '(', ')');
		if (i + 1 < h->len && s[i + 1] != '(') {
			h->c->depth++;
			parse_shell(h->c, s + i + 1, end - i - 1, h->script, NULL, 0, R_SCRIPT);
			h->c->depth--;
		}
		sh_putc(h, UNKNOWN_CH);
		h->pos = end < h->len ? end + 1 : end;
		return;
	}
	char name[128];
	size_t nl = 0;
	const char *deflt = NULL;
	size_t dlen = 0;
	if (i < h->len && s[i] == '{') {
		size_t end = sh_match(s, h->len, i + 1, '{', '}');
		size_t j = i + 1;
		while (j < end && nl < sizeof name - 1 && (s[j] == '_' || s[j] == '@' || s[j] == '*' || s[j] == '#' ||
		                                           (s[j] >= '0' && s[j] <= '9') || (s[j] >= 'A' && s[j] <= 'Z') ||
		                                           (s[j] >= 'a' && s[j] <= 'z')))
			name[nl++] = s[j++];
		if (j + 1 < end && (s[j] == ':' || s[j] == '-' || s[j] == '=')) {
			size_t k = j + (s[j] == ':' ? 1 : 0);
			if (s[k] == '-' || s[k] == '=') {
				deflt = s + k + 1;
				dlen = end - k - 1;
			} else {
				nl = 0; /* ${X:+..} ${X:?..} ${X:off}: not known */
			}
		} else if (j != end) {
			nl = 0; /* ${X#..} ${X%..} ${X/..}: not known */
		}
		h->pos = end < h->len ? end + 1 : end;
	} else if (i < h->len && (s[i] == '@' || s[i] == '*' || s[i] == '#' || s[i] == '?' || s[i] == '$' ||
	                          s[i] == '!' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9'))) {
		name[nl++] = s[i];
		h->pos = i + 1;
	} else {
		while (i < h->len && nl < sizeof name - 1 &&
		       (s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			name[nl++] = s[i++];
		h->pos = i;
		if (!nl) {
			sh_putc(h, '$');
			return;
		}
	}
	name[nl] = 0;
	if (!nl) {
		sh_putc(h, UNKNOWN_CH);
		return;
	}
	if (!strcmp(name, "@") || !strcmp(name, "*")) {
		if (!h->args_known) {
			sh_putc(h, UNKNOWN_CH);
			return;
		}
		/* "$@": one word per argument (also unquoted: close enough) */
		for (size_t k = 0; k < h->nargs; k++) {
			if (k) {
				sh_end_word(h);
			}
			sh_puts(h, h->args[k]);
		}
		if (!h->nargs && !h->in_word && quoted)
			return;
		return;
	}
	if (name[0] >= '1' && name[0] <= '9' && !name[1]) {
		size_t k = (size_t)(name[0] - '1');
		if (h->args_known && k < h->nargs)
			sh_puts(h, h->args[k]);
		else
			sh_putc(h, UNKNOWN_CH);
		return;
	}
	if (!strcmp(name, "0") && h->script) {
		char p[PATHMAX];
		sh_puts(h, node_path(h->script, p));
		return;
	}
	const char *v = (name[0] >= '0' && name[0] <= '9') || strchr("#?$!-", name[0]) ? NULL : sh_var(h, name);
	if (v && *v)
		sh_puts(h, v);
	else if (deflt) {
		char *d = xstrndup(deflt, dlen);
		if (!strchr(d, '$') && !strchr(d, '`') && !strchr(d, '"') && !strchr(d, '\''))
			sh_puts(h, d);
		else
			sh_putc(h, UNKNOWN_CH);
		free(d);
	} else
		sh_putc(h, UNKNOWN_CH);
}

static void parse_shell(struct reach_ctx *c, const char *text, size_t len, struct wh_node *script,
                        char **args, size_t nargs, int rule)
{
	if (c->depth > MAX_DEPTH || !text)
		return;
	struct sh h = {.c = c, .s = text, .len = len, .script = script, .args = args, .nargs = nargs,
	               .args_known = args != NULL};
	struct shcmds cs = {0};
	struct strv funcs = {0};
	/* assignments anywhere in the script give values to later expansions */
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		size_t b = i;
		while (b < e && (text[b] == ' ' || text[b] == '\t'))
			b++;
		if (e - b > 7 && !strncmp(text + b, "export ", 7))
			b += 7;
		char *line = xstrndup(text + b, e - b);
		if (is_assignment(line)) {
			char *eq = strchr(line, '=');
			char *v = eq + 1;
			size_t vl = strcspn(v, " \t;&|#");
			if (v[0] == '"' || v[0] == '\'') {
				char *q = strchr(v + 1, v[0]);
				if (q) {
					v++;
					vl = (size_t)(q - v);
				}
			}
			char *val = xstrndup(v, vl);
			if (!strpbrk(val, "$`")) {
				*eq = 0;
				if (!env_get(c, line))
					sv_push(&h.vars, xasprintf("%s=%s", line, val));
			}
			free(val);
		}
		free(line);
		i = e + 1;
	}
	while (h.pos < h.len) {
		char ch = text[h.pos];
		if (ch == '\\' && h.pos + 1 < h.len) {
			if (text[h.pos + 1] != '\n')
				sh_putc(&h, text[h.pos + 1]);
			h.pos += 2;
			continue;
		}
		if (ch == '\'') {
			size_t e = h.pos + 1;
			while (e < h.len && text[e] != '\'')
				e++;
			buf_append(&h.word, text + h.pos + 1, e - h.pos - 1);
			h.in_word = 1;
			h.pos = e + 1;
			continue;
		}
		if (ch == '"') {
			h.in_word = 1;
			h.pos++;
			while (h.pos < h.len && text[h.pos] != '"') {
				char q = text[h.pos];
				if (q == '\\' && h.pos + 1 < h.len && strchr("$`\"\\\n", text[h.pos + 1])) {
					if (text[h.pos + 1] != '\n')
						sh_putc(&h, text[h.pos + 1]);
					h.pos += 2;
				} else if (q == '$') {
					sh_dollar(&h, 1, &cs);
				} else if (q == '`') {
					size_t e = sh_match(text, h.len, h.pos + 1, '`', '`');
					c->depth++;
					parse_shell(c, text + h.pos + 1, e - h.pos - 1, script, NULL, 0, R_SCRIPT);
					c->depth--;
					sh_putc(&h, UNKNOWN_CH);
					h.pos = e + 1;
				} else {
					sh_putc(&h, q);
					h.pos++;
				}
			}
			h.pos++;
			continue;
		}
		if (ch == '$') {
			sh_dollar(&h, 0, &cs);
			continue;
		}
		if (ch == '`') {
			size_t e = sh_match(text, h.len, h.pos + 1, '`', '`');
			c->depth++;
			parse_shell(c, text + h.pos + 1, e - h.pos - 1, script, NULL, 0, R_SCRIPT);
			c->depth--;
			sh_putc(&h, UNKNOWN_CH);
			h.pos = e + 1;
			continue;
		}
		if (ch == '#' && !h.in_word) {
			while (h.pos < h.len && text[h.pos] != '\n')
				h.pos++;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			sh_end_word(&h);
			h.pos++;
			continue;
		}
		if (ch == '<' || ch == '>') {
			/* "2>" : the digits were an fd */
			if (h.in_word) {
				int digits = h.word.len > 0;
				for (size_t k = 0; k < h.word.len; k++)
					if (h.word.data[k] < '0' || h.word.data[k] > '9')
						digits = 0;
				if (digits) {
					h.word.len = 0;
					h.in_word = 0;
				} else {
					sh_end_word(&h);
				}
			}
			size_t e = h.pos + 1;
			int heredoc = ch == '<' && e < h.len && text[e] == '<';
			while (e < h.len && strchr("<>&|-", text[e]))
				e++;
			if (heredoc && e < h.len && text[e - 1] == '<' && e < h.len && text[e] == '<')
				heredoc = 0; /* <<< here-string */
			if (ch == '<' && h.pos + 2 < h.len && text[h.pos + 1] == '<' && text[h.pos + 2] == '<')
				heredoc = 0;
			/* "<&3" ">&2": the digits after belong to the operator */
			if (text[e - 1] == '&')
				while (e < h.len && ((text[e] >= '0' && text[e] <= '9') || text[e] == '-'))
					e++;
			else
				h.redirect_next = 1;
			h.pos = e;
			if (heredoc) {
				while (h.pos < h.len && (text[h.pos] == ' ' || text[h.pos] == '\t'))
					h.pos++;
				size_t ds = h.pos;
				while (h.pos < h.len && !strchr(" \t\n;&|<>", text[h.pos]))
					h.pos++;
				char *d = xstrndup(text + ds, h.pos - ds);
				size_t o = 0;
				for (size_t k = 0; d[k]; k++)
					if (d[k] != '\'' && d[k] != '"' && d[k] != '\\')
						d[o++] = d[k];
				d[o] = 0;
				sv_push(&h.heredocs, d);
				h.redirect_next = 0;
			}
			continue;
		}
		if (ch == '\n') {
			sh_end_cmd(&h, &cs, "\n");
			h.pos++;
			/* here-documents start on the next line */
			for (size_t k = 0; k < h.heredocs.n; k++) {
				const char *d = h.heredocs.v[k];
				while (h.pos < h.len) {
					size_t e = h.pos;
					while (e < h.len && text[e] != '\n')
						e++;
					size_t b = h.pos;
					while (b < e && text[b] == '\t')
						b++;
					int end = e - b == strlen(d) && !strncmp(text + b, d, e - b);
					h.pos = e < h.len ? e + 1 : e;
					if (end)
						break;
				}
			}
			sv_free(&h.heredocs);
			continue;
		}
		if (strchr(";&|()", ch)) {
			char term[4] = {ch, 0, 0, 0};
			if (h.pos + 1 < h.len && (text[h.pos + 1] == ch || (ch == ';' && text[h.pos + 1] == '&'))) {
				term[1] = text[h.pos + 1];
				h.pos++;
			}
			h.pos++;
			sh_end_cmd(&h, &cs, term);
			continue;
		}
		sh_putc(&h, ch);
		h.pos++;
	}
	sh_end_cmd(&h, &cs, "");
	/* function definitions: "name()" and "function name" */
	for (size_t i = 0; i < cs.n; i++) {
		struct strv *w = &cs.v[i].words;
		if (w->n == 1 && !strcmp(cs.v[i].term, "(") && i + 1 < cs.n && cs.v[i + 1].words.n == 0 &&
		    !strcmp(cs.v[i + 1].term, ")"))
			sv_push(&funcs, xstrdup(w->v[0]));
		if (w->n >= 2 && !strcmp(w->v[0], "function"))
			sv_push(&funcs, xstrdup(w->v[1]));
	}
	int case_pat = 0, case_head = 0;
	for (size_t i = 0; i < cs.n; i++) {
		struct strv *w = &cs.v[i].words;
		const char *term = cs.v[i].term;
		if (case_head) {
			/* "case WORD in" may be followed by a pattern on the same line */
			case_head = 0;
		}
		if (w->n && !strcmp(w->v[0], "case")) {
			/* case WORD in [PATTERN] ")" */
			case_pat = 1;
			size_t k = 0;
			while (k < w->n && strcmp(w->v[k], "in"))
				k++;
			if (!strcmp(term, ")"))
				case_pat = 0;
			continue;
		}
		if (case_pat) {
			if (w->n && !strcmp(w->v[0], "esac")) {
				case_pat = 0;
				continue;
			}
			if (!strcmp(term, ")"))
				case_pat = 0;
			continue;
		}
		if (!strcmp(term, ";;") || !strcmp(term, ";&")) {
			follow_argv(c, w->v, w->n, script, rule, NULL, 0, &funcs);
			case_pat = 1;
			continue;
		}
		if (w->n == 1 && !strcmp(term, "(") && i + 1 < cs.n && !strcmp(cs.v[i + 1].term, ")"))
			continue; /* a function definition */
		if (w->n)
			follow_argv(c, w->v, w->n, script, rule, NULL, 0, &funcs);
	}
	for (size_t i = 0; i < cs.n; i++)
		sv_free(&cs.v[i].words);
	free(cs.v);
	sv_free(&funcs);
	sv_free(&h.vars);
	sv_free(&h.words);
	sv_free(&h.heredocs);
	buf_free(&h.word);
}

/* A "#!" file: keep its interpreter (through /usr/bin/env), and follow the
 * commands of a shell script. args: its arguments when known. */
static void follow_script(struct reach_ctx *c, struct wh_node *n, char **args, size_t nargs)
{
	const char *sb = n->e->extra->shebang;
	while (*sb == ' ' || *sb == '\t')
		sb++;
	size_t il = strcspn(sb, " \t\r");
	char *interp = xstrndup(sb, il);
	const char *rest = sb + il;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	char *arg = xstrdup(rest);
	for (size_t l = strlen(arg); l && (arg[l - 1] == ' ' || arg[l - 1] == '\t' || arg[l - 1] == '\r');)
		arg[--l] = 0;
	struct pathres pr;
	struct wh_node *in = resolve(c, NULL, interp, &pr, n);
	const char *eff = base_name(interp);
	char *effbuf = NULL;
	if (!in) {
		unresolved(c, n, "%s (#! interpreter)", interp);
	} else {
		keep_res(c, &pr, R_SHEBANG, n, NULL, 0);
		if (!strcmp(eff, "env") && arg[0]) {
			/* #!/usr/bin/env [-S] [VAR=x] NAME ... */
			char *save = NULL;
			for (char *tok = strtok_r(arg, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
				if (tok[0] == '-' || is_assignment(tok)) {
					if (!strcmp(tok, "-u") || !strcmp(tok, "-C"))
						strtok_r(NULL, " \t", &save);
					continue;
				}
				struct pathres p2;
				struct wh_node *cn = find_command(c, tok, &p2, n);
				if (cn)
					keep_res(c, &p2, R_SHEBANG, n, NULL, 0);
				else
					unresolved(c, n, "%s (#!%s: not found on PATH)", tok, interp);
				pathres_free(&p2);
				effbuf = xstrdup(base_name(tok));
				eff = effbuf;
				break;
			}
		}
	}
	pathres_free(&pr);
	if (is_shell_name(eff) && n->e->extra->content)
		parse_shell(c, (const char *)n->e->extra->content, n->e->extra->content_len, n, args, nargs, R_SCRIPT);
	free(effbuf);
	free(interp);
	free(arg);
}

/* ---- processing the queue ---- */

static int is_executable_elf(const struct elf_info *e)
{
	return e->interp || e->type == ET_EXEC || (e->flags_1 & DF_1_PIE);
}

/* Kept as part of a directory a run-time rule keeps (python's stdlib,
 * gconv modules): its ELF needs are followed (they are loaded), its "#!"
 * line is not (data and tools nobody runs, like openssl's CA.pl). */
static int in_rule_data(struct reach_ctx *c, const struct reach_item *it)
{
	(void)c;
	return it->rule >= REACH_RT_FIRST;
}

static void process_item(struct reach_ctx *c, size_t idx)
{
	struct reach_item it = c->r->items[idx];
	struct wh_node *n = it.node;
	char p[PATHMAX];
	switch (n->type) {
	case WH_T_SYMLINK: {
		struct pathres pr;
		struct wh_error e = {0};
		if (pathres_resolve(c->t, n->parent, n->e && n->e->link ? n->e->link : "", PATHRES_FOLLOW, &pr, &e) < 0)
			unresolved(c, n, "%s", e.msg);
		else if (pr.node)
			keep_res(c, &pr, R_SYMLINK, n, NULL, 0);
		pathres_free(&pr);
		return;
	}
	case WH_T_HARDLINK: {
		struct wh_node *d = pathres_data_node(c->t, n);
		if (d)
			keep(c, d, R_HARDLINK, n, NULL, 0);
		return;
	}
	case WH_T_DIR:
		/* children carry the rule that kept the directory */
		if (it.flags & F_SUBTREE)
			for (struct wh_node *ch = n->child; ch; ch = ch->next)
				keep(c, ch, it.rule == R_PARENT || it.rule == R_LINK || it.rule == R_SYMLINK ? R_SUBTREE : it.rule,
				     n, NULL, ch->type == WH_T_DIR ? F_SUBTREE : 0);
		return;
	case WH_T_REG:
		break;
	default:
		return;
	}
	if (!n->e || !n->e->extra)
		return;
	const struct elf_info *e = n->e->extra->elf;
	if (e && !(it.flags & F_ELF_DONE)) {
		c->r->items[idx].flags |= F_ELF_DONE;
		load_closure(c, n, node_path(n, p), NULL);
	}
	if (n->e->extra->shebang && !(c->r->items[idx].flags & F_SCRIPT_DONE) && (n->e->mode & 0111) &&
	    !in_rule_data(c, &it)) {
		c->r->items[idx].flags |= F_SCRIPT_DONE;
		follow_script(c, n, NULL, 0);
	}
	(void)is_executable_elf;
}

static void drain(struct reach_ctx *c)
{
	while (c->qhead < c->qlen)
		process_item(c, c->queue[c->qhead++]);
}

/* ---- run-time rules ---- */

static int rule_on(struct reach_ctx *c, int rule)
{
	return c->rule_state[rule] != 0;
}

/* The first kept ELF object for which pred holds. */
static struct wh_node *first_kept_elf(struct reach_ctx *c, int (*pred)(const struct wh_node *, const struct elf_info *, void *),
                                      void *ctx)
{
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		const struct elf_info *e = node_elf(n);
		if (e && pred(n, e, ctx))
			return n;
	}
	return NULL;
}

static int imports_pred(const struct wh_node *n, const struct elf_info *e, void *ctx)
{
	(void)n;
	return (e->imports & *(uint32_t *)ctx) != 0;
}

static int name_pred(const struct wh_node *n, const struct elf_info *e, void *ctx)
{
	(void)e;
	for (const char *const *p = ctx; *p; p++)
		if (fnmatch(*p, n->name, 0) == 0)
			return 1;
	return 0;
}

static struct wh_node *node_at(struct reach_ctx *c, const char *path)
{
	struct pathres pr;
	struct wh_error e = {0};
	pathres_resolve(c->t, NULL, path, PATHRES_FOLLOW, &pr, &e);
	struct wh_node *n = pr.node;
	pathres_free(&pr);
	return n;
}

static void rule_nss(struct reach_ctx *c)
{
	uint32_t bits = ELF_IMP_NSS_USER | ELF_IMP_NSS_HOST;
	struct wh_node *who = first_kept_elf(c, imports_pred, &bits);
	if (!who)
		return;
	c->rule_fired[R_NSS] = 1;
	static const char *const files[] = {"/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts",
	                                    "/etc/services", "/etc/protocols", "/etc/networks", "/etc/host.conf",
	                                    "/etc/gai.conf", "/etc/resolv.conf", "/etc/shadow", "/etc/netgroup"};
	struct wh_node *conf = NULL;
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		struct wh_node *n = keep_path(c, files[i], R_NSS, who, NULL, 0);
		if (i == 0)
			conf = n;
	}
	/* the services nsswitch.conf names (glibc's default: files, dns) */
	struct strv svc = {0};
	const uint8_t *txt = conf && conf->e && conf->e->extra ? conf->e->extra->content : NULL;
	if (txt) {
		const char *s = (const char *)txt;
		while (*s) {
			size_t ll = strcspn(s, "\n");
			char *line = xstrndup(s, ll);
			s += ll + (s[ll] ? 1 : 0);
			char *h = strchr(line, '#');
			if (h)
				*h = 0;
			char *col = strchr(line, ':');
			if (!col) {
				free(line);
				continue;
			}
			char *save = NULL;
			for (char *tok = strtok_r(col + 1, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
				if (tok[0] == '[') {
					while (tok && !strchr(tok, ']'))
						tok = strtok_r(NULL, " \t", &save);
					if (!tok)
						break;
					continue;
				}
				int dup = 0;
				for (size_t k = 0; k < svc.n; k++)
					dup |= !strcmp(svc.v[k], tok);
				if (!dup)
					sv_push(&svc, xstrdup(tok));
			}
			free(line);
		}
	} else {
		sv_push(&svc, xstrdup("files"));
		sv_push(&svc, xstrdup("dns"));
	}
	const struct elf_info *we = node_elf(who);
	for (size_t k = 0; k < svc.n; k++) {
		char name[160];
		snprintf(name, sizeof name, "libnss_%s.so.2", svc.v[k]);
		/* a missing module is skipped by glibc (files and dns are built
		 * into glibc >= 2.34), so it is not reported */
		keep_dlopen_lib(c, name, we->machine, we->elf_class, R_NSS, conf ? conf : who);
	}
	sv_free(&svc);
}

static void rule_libgcc_s(struct reach_ctx *c)
{
	uint32_t bits = ELF_IMP_PTHREAD_CANCEL;
	struct wh_node *who = first_kept_elf(c, imports_pred, &bits);
	if (!who)
		return;
	c->rule_fired[R_LIBGCC_S] = 1;
	const struct elf_info *we = node_elf(who);
	if (!keep_dlopen_lib(c, "libgcc_s.so.1", we->machine, we->elf_class, R_LIBGCC_S, who))
		unresolved(c, who, "libgcc_s.so.1 (dlopen'd by glibc for pthread_cancel/pthread_exit)");
}

/* The directory holding a kept object (its resolved path's directory). */
static void dir_of_node(const struct wh_node *n, char *out)
{
	tree_path(n->parent ? n->parent : n, out, PATHMAX);
}

/* Libraries that use iconv only to convert between the locale's charset
 * and UTF-8 (IDNA, public suffixes: libidn2 and libpsl through
 * libunistring's locale_charset); what they convert is chosen by the
 * locale, not by the data. */
static const char *const locale_iconv_libs[] = {"libidn2.so*", "libidn.so*", "libpsl.so*", "libunistring.so*",
                                                NULL};

static int imports_iconv_freely(const struct wh_node *n, const struct elf_info *e, void *ctx)
{
	(void)ctx;
	return (e->imports & ELF_IMP_ICONV) && !name_pred(n, e, (void *)locale_iconv_libs);
}

/* Can the image's locale select a charset glibc loads as a gconv module?
 * Without LANG/LC_* (or with C, POSIX, or a UTF-8 locale) the charset is
 * ANSI_X3.4-1968 or UTF-8, both built into glibc; any other charset, a
 * locale without one ("de_DE" is ISO-8859-1), or --rule locale=on: yes. */
static int locale_may_need_gconv(struct reach_ctx *c)
{
	if (c->rule_state[R_LOCALE] > 0)
		return 1;
	for (size_t i = 0; i < c->env.n; i++) {
		const char *kv = c->env.v[i];
		if (strncmp(kv, "LANG=", 5) && strncmp(kv, "LC_", 3))
			continue;
		const char *v = strchr(kv, '=') + 1;
		if (!*v || !strcmp(v, "C") || !strcmp(v, "POSIX"))
			continue;
		const char *dot = strchr(v, '.');
		if (!dot)
			return 1;
		size_t cl = strcspn(dot + 1, "@");
		if (!((cl == 5 && !strncasecmp(dot + 1, "UTF-8", 5)) || (cl == 4 && !strncasecmp(dot + 1, "utf8", 4))))
			return 1;
	}
	return 0;
}

static void rule_gconv(struct reach_ctx *c)
{
	uint32_t bits = ELF_IMP_ICONV;
	/* a kept object that may convert any charset (the data names it)
	 * needs every module; one that only converts the locale's charset
	 * needs them only when the locale can select a non-built-in charset.
	 * Not fired otherwise, so a later kept importer still fires it. */
	struct wh_node *who = first_kept_elf(c, imports_iconv_freely, NULL);
	if (!who && locale_may_need_gconv(c))
		who = first_kept_elf(c, imports_pred, &bits);
	if (!who)
		return;
	c->rule_fired[R_GCONV] = 1;
	/* all modules of the gconv directories next to the C library and in
	 * the default library directories, with their configuration */
	const struct elf_info *we = node_elf(who);
	size_t nd;
	const char *const *dd = ldso_default_dirs(we->machine, we->elf_class, c->layout, &nd);
	int found = 0;
	char p[PATHMAX];
	for (size_t i = 0; i < nd; i++) {
		snprintf(p, sizeof p, "%s/gconv", dd[i]);
		found += keep_path(c, p, R_GCONV, who, NULL, 1) != NULL;
	}
	static const char *const more[] = {"/usr/lib64/gconv", "/usr/lib/gconv", "/usr/local/lib/gconv"};
	for (size_t i = 0; i < ARRAY_LEN(more); i++)
		found += keep_path(c, more[i], R_GCONV, who, NULL, 1) != NULL;
	const char *gp = env_get(c, "GCONV_PATH");
	if (gp) {
		char *d = xstrdup(gp), *save = NULL;
		for (char *tok = strtok_r(d, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
			found += keep_path(c, tok, R_GCONV, who, NULL, 1) != NULL;
		free(d);
	}
	if (!found && !c->image_musl)
		unresolved(c, who, "gconv modules directory (iconv_open imported)");
}

static void rule_certs(struct reach_ctx *c)
{
	static const char *const libs[] = {"libssl.so*", "libgnutls.so*", "libnss3.so*", "libmbedtls.so*",
	                                   "libwolfssl.so*", NULL};
	struct wh_node *who = first_kept_elf(c, name_pred, (void *)libs);
	if (!who)
		return;
	c->rule_fired[R_CERTS] = 1;
	static const char *const dirs[] = {"/etc/ssl", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates",
	                                   "/etc/pki", "/etc/ca-certificates", "/etc/ca-certificates.conf",
	                                   "/usr/lib/ssl/certs", "/usr/lib/ssl/cert.pem", "/etc/gnutls",
	                                   "/usr/share/ca-certificates-java"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		keep_path(c, dirs[i], R_CERTS, who, NULL, 1);
	const char *ev[] = {"SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"};
	for (size_t i = 0; i < ARRAY_LEN(ev); i++) {
		const char *v = env_get(c, ev[i]);
		if (v && v[0] == '/')
			keep_path(c, v, R_CERTS, who, NULL, 1);
	}
}

static void rule_openssl_modules(struct reach_ctx *c)
{
	static const char *const libs[] = {"libcrypto.so*", NULL};
	struct wh_node *who = first_kept_elf(c, name_pred, (void *)libs);
	if (!who)
		return;
	c->rule_fired[R_OPENSSL_MODULES] = 1;
	/* every kept libcrypto: its directory's ossl-modules and engines-* */
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		if (!node_elf(n) || fnmatch("libcrypto.so*", n->name, 0))
			continue;
		char d[PATHMAX], p[PATHMAX];
		dir_of_node(n, d);
		snprintf(p, sizeof p, "%s/ossl-modules", d);
		keep_path(c, p, R_OPENSSL_MODULES, n, NULL, 1);
		snprintf(p, sizeof p, "%s/engines-*", d);
		glob_keep(c, c->t->root, p, R_OPENSSL_MODULES, n, NULL);
		snprintf(p, sizeof p, "%s/openssl-*/engines", d);
		glob_keep(c, c->t->root, p, R_OPENSSL_MODULES, n, NULL);
	}
	static const char *const cnf[] = {"/usr/lib/ssl/openssl.cnf", "/etc/ssl/openssl.cnf", "/etc/pki/tls/openssl.cnf",
	                                  "/usr/local/ssl/openssl.cnf", "/etc/crypto-policies"};
	for (size_t i = 0; i < ARRAY_LEN(cnf); i++)
		keep_path(c, cnf[i], R_OPENSSL_MODULES, who, NULL, 1);
	const char *ev[] = {"OPENSSL_CONF", "OPENSSL_MODULES", "OPENSSL_ENGINES"};
	for (size_t i = 0; i < ARRAY_LEN(ev); i++) {
		const char *v = env_get(c, ev[i]);
		if (v && v[0] == '/')
			keep_path(c, v, R_OPENSSL_MODULES, who, NULL, 1);
	}
}

static void keep_env_dirs(struct reach_ctx *c, const char *var, int rule, struct wh_node *who)
{
	const char *v = env_get(c, var);
	if (!v)
		return;
	char *d = xstrdup(v), *save = NULL;
	for (char *tok = strtok_r(d, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		if (tok[0] == '/')
			keep_path(c, tok, rule, who, NULL, 1);
	free(d);
}

static void rule_python(struct reach_ctx *c)
{
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		const struct elf_info *e = node_elf(n);
		if (!e)
			continue;
		const char *nm = n->name;
		const char *v = NULL;
		if (!strncmp(nm, "python3.", 8))
			v = nm + 6;
		else if (!strncmp(nm, "libpython3.", 11))
			v = nm + 9;
		if (!v)
			continue;
		size_t vl = 2;
		while (v[vl] >= '0' && v[vl] <= '9')
			vl++;
		if (vl == 2)
			continue;
		char ver[32];
		snprintf(ver, sizeof ver, "%.*s", (int)vl, v);
		int done = 0;
		for (size_t k = 0; k < c->python_done.n; k++)
			done |= !strcmp(c->python_done.v[k], ver);
		if (done)
			continue;
		sv_push(&c->python_done, xstrdup(ver));
		c->rule_fired[R_PYTHON] = 1;
		/* prefix: where the interpreter is (PREFIX/bin, PREFIX/lib) */
		char d[PATHMAX], prefix[PATHMAX];
		dir_of_node(n, d);
		char *sl = strrchr(d, '/');
		snprintf(prefix, sizeof prefix, "%.*s", sl ? (int)(sl - d) : 0, d);
		const char *prefixes[] = {prefix, "/usr", "/usr/local"};
		char p[PATHMAX];
		for (size_t k = 0; k < ARRAY_LEN(prefixes); k++) {
			snprintf(p, sizeof p, "%s/lib/python%s", prefixes[k], ver);
			keep_path(c, p, R_PYTHON, n, NULL, 1);
			snprintf(p, sizeof p, "%s/lib64/python%s", prefixes[k], ver);
			keep_path(c, p, R_PYTHON, n, NULL, 1);
			snprintf(p, sizeof p, "%s/lib/python3/dist-packages", prefixes[k]);
			keep_path(c, p, R_PYTHON, n, NULL, 1);
		}
		snprintf(p, sizeof p, "/etc/python%s", ver);
		keep_path(c, p, R_PYTHON, n, NULL, 1);
		keep_path(c, "/etc/python3", R_PYTHON, n, NULL, 1);
		keep_env_dirs(c, "PYTHONPATH", R_PYTHON, n);
		keep_env_dirs(c, "PYTHONHOME", R_PYTHON, n);
		keep_env_dirs(c, "VIRTUAL_ENV", R_PYTHON, n);
	}
}

struct interp_rule {
	int rule;
	const char *const *triggers; /* basename globs of ELF objects */
	const char *const *dirs;     /* globs of directories kept whole */
	const char *env;             /* a ':' list of directories */
};

static const struct interp_rule interp_rules[] = {
	{R_PERL, (const char *const[]){"perl", "perl5*", "libperl.so*", NULL},
	 (const char *const[]){"/etc/perl", "/usr/lib/*/perl", "/usr/lib/*/perl5", "/usr/lib/*/perl-base",
	                       "/usr/share/perl", "/usr/share/perl5", "/usr/local/lib/*/perl", "/usr/local/share/perl",
	                       "/usr/local/lib/site_perl", "/usr/lib64/perl5", "/usr/local/lib64/perl5",
	                       "/usr/local/lib/perl5", "/usr/lib/perl5", "/usr/local/share/perl5", NULL},
	 "PERL5LIB"},
	{R_RUBY, (const char *const[]){"ruby", "ruby[0-9]*", "libruby*.so*", NULL},
	 (const char *const[]){"/usr/lib/ruby", "/usr/local/lib/ruby", "/usr/lib/*/ruby", "/var/lib/gems",
	                       "/usr/share/rubygems-integration", "/usr/local/bundle", "/usr/lib64/ruby", NULL},
	 "GEM_HOME"},
	{R_NODE, (const char *const[]){"node", "nodejs", "libnode.so*", NULL},
	 (const char *const[]){"/usr/lib/node_modules", "/usr/local/lib/node_modules", "/usr/share/nodejs",
	                       "/usr/lib/nodejs", "/usr/lib/*/nodejs", NULL},
	 "NODE_PATH"},
};

static void rule_interp(struct reach_ctx *c, const struct interp_rule *ir)
{
	struct wh_node *who = first_kept_elf(c, name_pred, (void *)ir->triggers);
	if (!who)
		return;
	c->rule_fired[ir->rule] = 1;
	for (const char *const *d = ir->dirs; *d; d++)
		keep_pattern(c, *d, ir->rule, who, NULL);
	keep_env_dirs(c, ir->env, ir->rule, who);
}

static int env_sets_locale(struct reach_ctx *c)
{
	for (size_t i = 0; i < c->env.n; i++) {
		const char *kv = c->env.v[i];
		if (strncmp(kv, "LANG=", 5) && strncmp(kv, "LC_", 3) && strncmp(kv, "LANGUAGE=", 9))
			continue;
		const char *v = strchr(kv, '=') + 1;
		if (*v && strcmp(v, "C") && strcmp(v, "POSIX"))
			return 1;
	}
	return 0;
}

static void rule_locale(struct reach_ctx *c)
{
	if (c->rule_state[R_LOCALE] < 0 && !env_sets_locale(c))
		return;
	c->rule_fired[R_LOCALE] = 1;
	static const char *const dirs[] = {"/usr/lib/locale", "/usr/share/locale/locale.alias", "/etc/locale.alias",
	                                   "/etc/default/locale", "/etc/locale.conf"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		keep_path(c, dirs[i], R_LOCALE, NULL, "Env LANG/LC_*", 1);
	keep_env_dirs(c, "LOCPATH", R_LOCALE, NULL);
}

static void rule_tzdata(struct reach_ctx *c)
{
	const char *tz = env_get(c, "TZ");
	if (c->rule_state[R_TZDATA] < 0 && !(tz && *tz))
		return;
	c->rule_fired[R_TZDATA] = 1;
	int whole = c->rule_state[R_TZDATA] > 0;
	if (tz && *tz && !whole) {
		const char *z = tz[0] == ':' ? tz + 1 : tz;
		char p[PATHMAX];
		if (z[0] == '/')
			snprintf(p, sizeof p, "%s", z);
		else
			snprintf(p, sizeof p, "/usr/share/zoneinfo/%s", z);
		struct wh_node *n = keep_path(c, p, R_TZDATA, NULL, "Env TZ", 0);
		keep_path(c, "/usr/share/zoneinfo/posixrules", R_TZDATA, NULL, "Env TZ", 0);
		if (!n)
			whole = 1; /* a POSIX TZ string or an unknown zone: keep them all */
	}
	if (whole)
		keep_path(c, "/usr/share/zoneinfo", R_TZDATA, NULL, "tzdata", 1);
}

/* Apply the run-time rules that have not fired yet; returns whether any
 * queued something. */
static int apply_rules(struct reach_ctx *c)
{
	size_t before = c->qlen;
	if (rule_on(c, R_NSS) && !c->rule_fired[R_NSS])
		rule_nss(c);
	if (rule_on(c, R_LIBGCC_S) && !c->rule_fired[R_LIBGCC_S])
		rule_libgcc_s(c);
	if (rule_on(c, R_GCONV) && !c->rule_fired[R_GCONV])
		rule_gconv(c);
	if (rule_on(c, R_CERTS) && !c->rule_fired[R_CERTS])
		rule_certs(c);
	if (rule_on(c, R_OPENSSL_MODULES) && !c->rule_fired[R_OPENSSL_MODULES])
		rule_openssl_modules(c);
	if (rule_on(c, R_PYTHON))
		rule_python(c);
	for (size_t i = 0; i < ARRAY_LEN(interp_rules); i++)
		if (rule_on(c, interp_rules[i].rule) && !c->rule_fired[interp_rules[i].rule])
			rule_interp(c, &interp_rules[i]);
	if (rule_on(c, R_LOCALE) && !c->rule_fired[R_LOCALE])
		rule_locale(c);
	if (rule_on(c, R_TZDATA) && !c->rule_fired[R_TZDATA])
		rule_tzdata(c);
	return c->qlen > before;
}

/* ---- roots ---- */

static void json_strv(json_t *arr, struct strv *out)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			sv_push(out, xstrdup(json_string_value(v)));
}

/* --entrypoint/--cmd values: one argv word each, or one JSON array. */
static int override_argv(const struct reach_list *l, struct strv *out, const char *flag, struct wh_error *err)
{
	if (l->n == 1 && l->v[0][0] == '[') {
		json_error_t je;
		json_t *j = json_loads(l->v[0], 0, &je);
		if (!json_is_array(j)) {
			json_decref(j);
			return wh_err(err, WH_EINPUT, "%s: \"%s\" is not a JSON array of strings: %s", flag, l->v[0], je.text);
		}
		json_strv(j, out);
		json_decref(j);
		return 0;
	}
	if (l->n == 1 && !l->v[0][0])
		return 0;
	for (size_t i = 0; i < l->n; i++)
		sv_push(out, xstrdup(l->v[i]));
	return 0;
}

static void root_argv(struct reach_ctx *c, struct strv *entry, struct strv *cmd)
{
	struct strv argv = {0};
	for (size_t i = 0; i < entry->n; i++)
		sv_push(&argv, xstrdup(entry->v[i]));
	for (size_t i = 0; i < cmd->n; i++)
		sv_push(&argv, xstrdup(cmd->v[i]));
	if (argv.n) {
		int rule = entry->n ? R_ENTRYPOINT : R_CMD;
		const char *what = entry->n ? "Entrypoint" : "Cmd";
		struct pathres pr;
		struct wh_node *prog = find_command(c, argv.v[0], &pr, NULL);
		pathres_free(&pr);
		if (!prog)
			unresolved(c, NULL, "%s command \"%s\"%s", what, argv.v[0],
			           strchr(argv.v[0], '/') ? "" : " (not found on PATH)");
		follow_argv(c, argv.v, argv.n, NULL, rule, what, 1, NULL);
		/* Cmd after an Entrypoint: often run by it ("exec \"$@\"", tini --) */
		if (entry->n && cmd->n)
			follow_argv(c, cmd->v, cmd->n, NULL, R_CMD, "Cmd", 1, NULL);
	}
	sv_free(&argv);
}

static int is_system_dir(const char *p)
{
	static const char *const sys[] = {"/", "/usr", "/etc", "/var", "/bin", "/sbin", "/lib", "/lib64", "/lib32",
	                                  "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/usr/local", "/opt",
	                                  "/home", "/root", "/proc", "/sys", "/dev", "/run", "/tmp", "/var/lib"};
	for (size_t i = 0; i < ARRAY_LEN(sys); i++)
		if (!strcmp(p, sys[i]))
			return 1;
	return 0;
}

static void root_user(struct reach_ctx *c)
{
	/* the runtime reads /etc/passwd and /etc/group to turn a named User
	 * (or group) into ids; root and numeric ids need neither (what the
	 * programs themselves look up is the nss rule's) */
	const char *u = image_config_str(&c->a->img, "User");
	if (!u || !*u)
		return;
	char *user = xstrdup(u);
	char *colon = strchr(user, ':');
	if (colon)
		*colon = 0;
	int numeric = user[0] && strspn(user, "0123456789") == strlen(user);
	int gnumeric = !colon || strspn(colon + 1, "0123456789") == strlen(colon + 1);
	if (!numeric || !gnumeric) {
		keep_path(c, "/etc/passwd", R_USER, NULL, "User", 0);
		keep_path(c, "/etc/group", R_USER, NULL, "User", 0);
	}
	if (!strcmp(user, "root") || (numeric && atol(user) == 0)) {
		free(user);
		return;
	}
	struct wh_node *pw = node_at(c, "/etc/passwd");
	const char *txt = pw && pw->e && pw->e->extra && pw->e->extra->content ? (const char *)pw->e->extra->content : NULL;
	int found = 0;
	while (txt && *txt) {
		size_t ll = strcspn(txt, "\n");
		char *line = xstrndup(txt, ll);
		txt += ll + (txt[ll] ? 1 : 0);
		char *f[7] = {0};
		char *p = line;
		for (int k = 0; k < 7 && p; k++) {
			f[k] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = 0;
		}
		if (f[5] && ((numeric && f[2] && !strcmp(f[2], user)) || !strcmp(f[0], user))) {
			found = 1;
			if (f[5][0] == '/' && !is_system_dir(f[5]))
				keep_path(c, f[5], R_USER, NULL, "User's home", 1);
			free(line);
			break;
		}
		free(line);
	}
	if (!found && !numeric)
		unresolved(c, NULL, "user \"%s\" (User) in /etc/passwd", user);
	free(user);
}

static void root_preload(struct reach_ctx *c)
{
	struct pathres pr;
	struct wh_node *pl = resolve(c, NULL, "/etc/ld.so.preload", &pr, NULL);
	struct strv names = {0};
	if (pl && pl->type == WH_T_REG) {
		keep_res(c, &pr, R_PRELOAD, NULL, "/etc/ld.so.preload", 0);
		const char *txt = pl->e && pl->e->extra ? (const char *)pl->e->extra->content : NULL;
		if (txt) {
			char *d = xstrdup(txt), *save = NULL;
			for (char *h = strchr(d, '#'); h; h = strchr(h, '#')) /* comments to the end of line */
				while (*h && *h != '\n')
					*h++ = ' ';
			for (char *tok = strtok_r(d, " \t\n:", &save); tok; tok = strtok_r(NULL, " \t\n:", &save))
				sv_push(&names, xstrdup(tok));
			free(d);
		}
	}
	pathres_free(&pr);
	size_t from_file = names.n;
	const char *env = env_get(c, "LD_PRELOAD");
	if (env) {
		char *d = xstrdup(env), *save = NULL;
		for (char *tok = strtok_r(d, " :", &save); tok; tok = strtok_r(NULL, " :", &save))
			sv_push(&names, xstrdup(tok));
		free(d);
	}
	for (size_t i = 0; i < names.n; i++) {
		const char *what = i < from_file ? "/etc/ld.so.preload" : "Env LD_PRELOAD";
		struct wh_node *n = NULL;
		if (strchr(names.v[i], '/')) {
			n = keep_path(c, names.v[i], R_PRELOAD, i < from_file ? pl : NULL, what, 0);
		} else {
			/* searched like a DT_NEEDED of the executable; assume the image's usual machine */
			const struct elf_info *le = NULL;
			for (size_t k = 0; k < c->r->n_items && !le; k++)
				le = node_elf(c->r->items[k].node);
			uint16_t m = le ? le->machine : EM_X86_64;
			uint8_t cl = le ? le->elf_class : ELFCLASS64;
			n = keep_dlopen_lib(c, names.v[i], m, cl, R_PRELOAD, i < from_file ? pl : NULL);
		}
		if (!n)
			unresolved(c, i < from_file ? pl : NULL, "%s (%s)", names.v[i], what);
	}
	sv_free(&names);
}

static void roots_always(struct reach_ctx *c)
{
	if (c->workdir_node && c->workdir_node != c->t->root)
		keep(c, c->workdir_node, R_ALWAYS, NULL, "WorkingDir", is_system_dir(c->workdir) ? 0 : F_SUBTREE);
	json_t *vols = image_config_get(&c->a->img, "Volumes");
	if (json_is_object(vols)) {
		const char *k;
		json_t *v;
		json_object_foreach(vols, k, v)
			if (!is_system_dir(k))
				keep_path(c, k, R_ALWAYS, NULL, "Volume", 1);
	}
	static const char *const nodes[] = {"/tmp", "/var/tmp", "/run", "/var/run", "/etc/os-release",
	                                    "/etc/debian_version", "/etc/alpine-release", "/etc/redhat-release",
	                                    "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/localtime",
	                                    "/etc/timezone", "/etc/mtab", "/proc", "/sys"};
	for (size_t i = 0; i < ARRAY_LEN(nodes); i++)
		keep_path(c, nodes[i], R_ALWAYS, NULL, NULL, 0);
	keep_path(c, "/dev", R_ALWAYS, NULL, NULL, 1);
}

static int read_keep_from(struct reach_ctx *c, const char *file, struct strv *keeps, struct wh_error *err)
{
	struct buf b = {0};
	struct wh_error e = {0};
	if (read_host_file(file, &b, 16u << 20, &e) < 0)
		return wh_err(err, WH_EINPUT, "--keep-from %s: %s", file, e.msg);
	buf_append(&b, "", 1);
	char *s = (char *)b.data, *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		size_t l = strlen(line);
		while (l && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (!*line || *line == '#')
			continue;
		if (*line == '-')
			sv_push(&c->drop, xstrdup(line + 1 + strspn(line + 1, " \t")));
		else
			sv_push(keeps, xstrdup(line + (*line == '+' ? 1 + strspn(line + 1, " \t") : 0)));
	}
	buf_free(&b);
	return 0;
}

static int set_rules(struct reach_ctx *c, const struct reach_list *l, struct wh_error *err)
{
	for (int r = REACH_RT_FIRST; r < R_COUNT; r++)
		c->rule_state[r] = (r == R_LOCALE || r == R_TZDATA) ? -1 : 1;
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->v[i];
		const char *eq = strchr(s, '=');
		int val = -2;
		if (eq && (!strcmp(eq + 1, "on") || !strcmp(eq + 1, "true") || !strcmp(eq + 1, "1")))
			val = 1;
		else if (eq && (!strcmp(eq + 1, "off") || !strcmp(eq + 1, "false") || !strcmp(eq + 1, "0")))
			val = 0;
		int rule = -1;
		for (int r = REACH_RT_FIRST; eq && r < R_COUNT; r++)
			if (strlen(rule_names[r]) == (size_t)(eq - s) && !strncmp(rule_names[r], s, (size_t)(eq - s)))
				rule = r;
		if (rule < 0 || val == -2) {
			char names[512] = "";
			for (int r = REACH_RT_FIRST; r < R_COUNT; r++)
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", r > REACH_RT_FIRST ? ", " : "",
				         rule_names[r]);
			return wh_err(err, WH_EINPUT, "--rule \"%s\": expected NAME=on|off with NAME one of %s", s, names);
		}
		c->rule_state[rule] = val;
	}
	return 0;
}

/* ---- the image as ldso's callbacks see it ---- */

static int fs_read(void *ctx, const char *path, const uint8_t **data, size_t *len)
{
	struct reach_ctx *c = ctx;
	struct wh_node *n = pathres_data_node(c->t, node_at(c, path));
	if (!n || n->type != WH_T_REG || !n->e || !n->e->extra || !n->e->extra->content)
		return -1;
	*data = n->e->extra->content;
	*len = n->e->extra->content_len;
	return 0;
}

static int fs_list(void *ctx, const char *dir, char ***names, size_t *n)
{
	struct reach_ctx *c = ctx;
	struct wh_node *d = node_at(c, dir);
	if (!d || d->type != WH_T_DIR)
		return -1;
	struct strv v = {0};
	for (struct wh_node *ch = d->child; ch; ch = ch->next)
		sv_push(&v, xstrdup(ch->name));
	*names = v.v;
	*n = v.n;
	return 0;
}

static void setup_loader(struct reach_ctx *c)
{
	struct wh_node *cn = pathres_data_node(c->t, node_at(c, "/etc/ld.so.cache"));
	if (cn && cn->type == WH_T_REG && cn->e && cn->e->extra && cn->e->extra->content) {
		struct wh_error e = {0};
		if (ldso_cache_parse(cn->e->extra->content, cn->e->extra->content_len, &c->cache, &e) == 0)
			c->have_cache = 1;
		else
			unresolved(c, cn, "a readable ld.so.cache (%s); searched as ldconfig would build it", e.msg);
	}
	if (!c->have_cache) {
		struct ldso_fs fs = {.ctx = c, .read_file = fs_read, .list_dir = fs_list};
		struct wh_error e = {0};
		if (ldso_conf_parse(&fs, "/etc/ld.so.conf", &c->conf, &e) < 0)
			unresolved(c, node_at(c, "/etc/ld.so.conf"), "%s", e.msg);
	}
	/* Debian's multiarch layout, or /lib64 */
	c->layout = LDSO_LAYOUT_LIB64;
	static const uint16_t ms[] = {EM_X86_64, EM_AARCH64, EM_386, EM_ARM, EM_PPC64, EM_S390, EM_RISCV};
	static const uint8_t cls[] = {ELFCLASS64, ELFCLASS64, ELFCLASS32, ELFCLASS32, ELFCLASS64, ELFCLASS64, ELFCLASS64};
	for (size_t i = 0; i < ARRAY_LEN(ms); i++) {
		size_t nd;
		const char *const *dd = ldso_default_dirs(ms[i], cls[i], LDSO_LAYOUT_MULTIARCH, &nd);
		for (size_t k = 0; k < nd && k < 2; k++) {
			struct wh_node *n = node_at(c, dd[k]);
			if (n && n->type == WH_T_DIR)
				c->layout = LDSO_LAYOUT_MULTIARCH;
		}
	}
	struct wh_node *lib = node_at(c, "/lib");
	if (lib && lib->type == WH_T_DIR)
		for (struct wh_node *ch = lib->child; ch; ch = ch->next)
			if (!fnmatch("ld-musl-*.so.1", ch->name, 0))
				c->image_musl = 1;
}

/* ---- results ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_unres(const void *a, const void *b)
{
	const struct reach_unresolved *x = a, *y = b;
	int r = strcmp(x->path, y->path);
	return r ? r : strcmp(x->needs, y->needs);
}

static int cmp_lib(const void *a, const void *b)
{
	const struct reach_lib *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct reach_package *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int is_so_name(const char *n)
{
	size_t l = strlen(n);
	return (l > 3 && !strcmp(n + l - 3, ".so")) || strstr(n, ".so.") != NULL;
}

struct walk_ctx {
	struct reach_ctx *c;
	struct strv pkg_names;
	struct reach_package *pk;
	size_t npk, cappk;
	struct reach_lib *libs;
	size_t nlibs, caplibs;
};

static int walk_fn(void *ctx, struct wh_node *n, int depth)
{
	(void)depth;
	struct walk_ctx *w = ctx;
	struct reach *r = w->c->r;
	if (n->type != WH_T_REG)
		return 0;
	int kept = n->mark & 1;
	if (!kept)
		r->removable_bytes += n->size;
	char p[PATHMAX];
	const char *pkg = NULL;
	if (w->c->pkg.owner_of) {
		pkg = w->c->pkg.owner_of(w->c->pkg.ctx, node_path(n, p));
		if (pkg) {
			size_t i = 0;
			while (i < w->npk && strcmp(w->pk[i].name, pkg))
				i++;
			if (i == w->npk) {
				if (w->npk == w->cappk) {
					w->cappk = w->cappk ? w->cappk * 2 : 64;
					w->pk = xrealloc(w->pk, w->cappk * sizeof *w->pk);
				}
				w->pk[w->npk++] = (struct reach_package){.name = xstrdup(pkg)};
			}
			w->pk[i].size += n->size;
			if (kept)
				w->pk[i].kept += n->size;
		}
	}
	const struct elf_info *e = node_elf(n);
	if (!kept && e && e->type == ET_DYN && is_so_name(n->name)) {
		if (w->nlibs == w->caplibs) {
			w->caplibs = w->caplibs ? w->caplibs * 2 : 64;
			w->libs = xrealloc(w->libs, w->caplibs * sizeof *w->libs);
		}
		w->libs[w->nlibs++] = (struct reach_lib){.path = xstrdup(node_path(n, p)), .size = n->size, .package = pkg};
	}
	return 0;
}

static int explained(struct reach_ctx *c, const struct reach_item *it)
{
	static const struct {
		int rule;
		const char *glob;
	} ex[] = {
		{R_PYTHON, "python3*"}, {R_PYTHON, "libpython3*"}, {R_PERL, "perl*"}, {R_PERL, "libperl*"},
		{R_RUBY, "ruby*"}, {R_RUBY, "libruby*"}, {R_NODE, "node*"}, {R_NODE, "libnode*"},
		{R_OPENSSL_MODULES, "libcrypto.so*"}, {R_NSS, "libc.so*"}, {R_GCONV, "libc.so*"},
	};
	for (size_t i = 0; i < ARRAY_LEN(ex); i++)
		if (c->rule_fired[ex[i].rule] && !fnmatch(ex[i].glob, it->node->name, 0))
			return 1;
	/* inside what a run-time rule keeps (python's lib-dynload, ossl-modules) */
	for (const struct wh_node *x = it->node; x; x = x->parent) {
		long k = item_find(c, x);
		if (k >= 0 && c->r->items[k].rule >= REACH_RT_FIRST)
			return 1;
	}
	return 0;
}

static void finish(struct reach_ctx *c)
{
	struct reach *r = c->r;
	char p[PATHMAX];
	for (size_t i = 0; i < r->n_items; i++) {
		struct reach_item *it = &r->items[i];
		struct wh_node *n = it->node;
		if (n->type != WH_T_DIR) {
			r->kept_files++;
			if (n->type == WH_T_REG)
				r->kept_bytes += n->size;
		}
		if (it->rule >= REACH_RT_FIRST && n->type != WH_T_DIR) {
			r->rules[it->rule - REACH_RT_FIRST].files++;
			if (n->type == WH_T_REG)
				r->rules[it->rule - REACH_RT_FIRST].bytes += n->size;
		}
		if (!it->from && it->rule != R_ALWAYS && it->rule != R_PARENT && it->rule < REACH_RT_FIRST)
			sv_push(&c->roots, xstrdup(node_path(n, p)));
	}
	for (int k = REACH_RT_FIRST; k < R_COUNT; k++) {
		struct reach_rule_stat *s = &r->rules[k - REACH_RT_FIRST];
		s->name = rule_names[k];
		s->enabled = c->rule_state[k] > 0 || (c->rule_state[k] < 0 && c->rule_fired[k]);
	}
	/* roots: sorted, unique */
	if (c->roots.n)
		qsort(c->roots.v, c->roots.n, sizeof *c->roots.v, cmp_str);
	r->roots = xcalloc(c->roots.n + 1, sizeof *r->roots);
	for (size_t i = 0; i < c->roots.n; i++) {
		if (r->n_roots && !strcmp(r->roots[r->n_roots - 1], c->roots.v[i]))
			continue;
		r->roots[r->n_roots++] = xstrdup(c->roots.v[i]);
	}
	/* unresolved: sorted, unique */
	struct reach_unresolved *u = xcalloc(c->unres_path.n + 1, sizeof *u);
	for (size_t i = 0; i < c->unres_path.n; i++)
		u[i] = (struct reach_unresolved){.path = c->unres_path.v[i], .needs = c->unres_needs.v[i]};
	if (c->unres_path.n)
		qsort(u, c->unres_path.n, sizeof *u, cmp_unres);
	r->unresolved = xcalloc(c->unres_path.n + 1, sizeof *r->unresolved);
	for (size_t i = 0; i < c->unres_path.n; i++) {
		if (r->n_unresolved && !cmp_unres(&r->unresolved[r->n_unresolved - 1], &u[i]))
			continue;
		r->unresolved[r->n_unresolved++] = (struct reach_unresolved){.path = xstrdup(u[i].path),
		                                                              .needs = xstrdup(u[i].needs)};
	}
	free(u);
	/* loads code at run time */
	struct strv lc = {0};
	for (size_t i = 0; i < r->n_items; i++) {
		const struct elf_info *e = node_elf(r->items[i].node);
		if (e && (e->imports & ELF_IMP_DLOPEN) && !explained(c, &r->items[i]))
			sv_push(&lc, xstrdup(node_path(r->items[i].node, p)));
	}
	if (lc.n)
		qsort(lc.v, lc.n, sizeof *lc.v, cmp_str);
	r->loads_code = lc.v;
	r->n_loads_code = lc.n;
	/* unneeded libraries, removable bytes, packages */
	struct walk_ctx w = {.c = c};
	tree_walk(c->t->root, walk_fn, &w);
	if (w.nlibs)
		qsort(w.libs, w.nlibs, sizeof *w.libs, cmp_lib);
	r->unneeded = w.libs;
	r->n_unneeded = w.nlibs;
	if (w.npk)
		qsort(w.pk, w.npk, sizeof *w.pk, cmp_pkg);
	r->packages = w.pk;
	r->n_packages = w.npk;
}

/* ---- the API ---- */

static int clear_mark(void *ctx, struct wh_node *n, int depth)
{
	(void)ctx;
	(void)depth;
	n->mark &= (uint8_t)~1u;
	return 0;
}

int reach_compute(struct analysis *a, const struct reach_opts *o, struct reach *r, struct wh_error *err)
{
	static const struct reach_opts none;
	if (!o)
		o = &none;
	memset(r, 0, sizeof *r);
	struct reach_ctx *c = xcalloc(1, sizeof *c);
	r->ctx = c;
	c->a = a;
	c->t = &a->tree;
	c->r = r;
	c->o = o;
	c->pkg = o->pkg;
	tree_walk(c->t->root, clear_mark, NULL);
	int rc = set_rules(c, &o->rules, err);
	if (rc < 0)
		return rc;
	json_strv(image_config_get(&a->img, "Env"), &c->env);
	const char *path = env_get(c, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char *pd = xstrdup(path), *save = NULL;
	for (char *tok = strtok_r(pd, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		sv_push(&c->path, xstrdup(tok));
	free(pd);
	const char *wd = image_config_str(&a->img, "WorkingDir");
	snprintf(c->workdir, sizeof c->workdir, "%s%s", wd && wd[0] == '/' ? "" : "/", wd ? wd : "");
	{
		struct pathres pr;
		struct wh_error e = {0};
		pathres_resolve(c->t, NULL, c->workdir, PATHRES_FOLLOW, &pr, &e);
		c->workdir_node = pr.node && pr.node->type == WH_T_DIR ? pr.node : c->t->root;
		pathres_free(&pr);
	}
	for (size_t i = 0; i < o->drop.n; i++)
		sv_push(&c->drop, xstrdup(o->drop.v[i]));
	struct strv keeps = {0}, from_keeps = {0};
	for (size_t i = 0; i < o->keep.n; i++)
		sv_push(&keeps, xstrdup(o->keep.v[i]));
	for (size_t i = 0; i < o->keep_from.n && rc == 0; i++)
		rc = read_keep_from(c, o->keep_from.v[i], &from_keeps, err);
	struct strv entry = {0}, cmd = {0};
	if (rc == 0 && o->entrypoint_set)
		rc = override_argv(&o->entrypoint, &entry, "--entrypoint", err);
	else
		json_strv(image_config_get(&a->img, "Entrypoint"), &entry);
	if (rc == 0 && o->cmd_set)
		rc = override_argv(&o->cmd, &cmd, "--cmd", err);
	else if (!o->entrypoint_set) /* docker: --entrypoint clears the image's Cmd */
		json_strv(image_config_get(&a->img, "Cmd"), &cmd);
	if (rc < 0) {
		sv_free(&keeps);
		sv_free(&from_keeps);
		sv_free(&entry);
		sv_free(&cmd);
		return rc;
	}
	setup_loader(c);
	keep(c, c->t->root, R_ALWAYS, NULL, "the root directory", 0);
	root_argv(c, &entry, &cmd);
	root_user(c);
	root_preload(c);
	roots_always(c);
	for (size_t i = 0; i < keeps.n; i++)
		if (!keep_pattern(c, keeps.v[i], R_KEEP, NULL, "--keep"))
			unresolved(c, NULL, "--keep %s: nothing in the image matches", keeps.v[i]);
	for (size_t i = 0; i < from_keeps.n; i++)
		if (!keep_pattern(c, from_keeps.v[i], R_KEEP_FROM, NULL, "--keep-from"))
			unresolved(c, NULL, "--keep-from line +%s: nothing in the image matches", from_keeps.v[i]);
	for (size_t i = 0; i < o->keep_exe.n; i++) {
		struct pathres pr;
		struct wh_node *n = find_command(c, o->keep_exe.v[i], &pr, NULL);
		if (n)
			keep_res(c, &pr, R_KEEP_EXE, NULL, "--keep-exe", 0);
		else
			unresolved(c, NULL, "--keep-exe %s: not found on PATH", o->keep_exe.v[i]);
		pathres_free(&pr);
	}
	for (size_t i = 0; i < o->keep_package.n; i++) {
		const char *const *paths = NULL;
		long np = o->pkg.files_of ? o->pkg.files_of(o->pkg.ctx, o->keep_package.v[i], &paths) : -1;
		if (np < 0) {
			unresolved(c, NULL, "--keep-package %s: %s", o->keep_package.v[i],
			           o->pkg.files_of ? "no such package" : "no package database reader");
			continue;
		}
		for (long k = 0; k < np; k++) {
			struct pathres pr;
			struct wh_error e = {0};
			/* the package's own paths: the last component is not followed */
			if (pathres_resolve(c->t, NULL, paths[k], 0, &pr, &e) == 0 && pr.node)
				keep_res(c, &pr, R_KEEP_PACKAGE, NULL, "--keep-package", 0);
			pathres_free(&pr);
		}
	}
	sv_free(&keeps);
	sv_free(&from_keeps);
	sv_free(&entry);
	sv_free(&cmd);
	do
		drain(c);
	while (apply_rules(c));
	/* licences travel with the code */
	if (o->pkg.owner_of) {
		struct strv pk = {0};
		char p[PATHMAX];
		for (size_t i = 0; i < r->n_items; i++) {
			struct wh_node *n = r->items[i].node;
			if (n->type != WH_T_REG)
				continue;
			const char *pkg = o->pkg.owner_of(o->pkg.ctx, node_path(n, p));
			if (!pkg)
				continue;
			char cp[PATHMAX];
			snprintf(cp, sizeof cp, "/usr/share/doc/%s/copyright", pkg);
			keep_path(c, cp, R_COPYRIGHT, n, NULL, 0);
		}
		sv_free(&pk);
		drain(c);
	}
	finish(c);
	return 0;
}

const struct reach_item *reach_find(const struct reach *r, const struct wh_node *n)
{
	if (!r->ctx)
		return NULL;
	long i = item_find(r->ctx, n);
	return i >= 0 ? &r->items[i] : NULL;
}

void reach_free(struct reach *r)
{
	struct reach_ctx *c = r->ctx;
	if (c) {
		free(c->slots);
		free(c->queue);
		sv_free(&c->env);
		sv_free(&c->path);
		if (c->have_cache)
			ldso_cache_free(&c->cache);
		ldso_dirs_free(&c->conf);
		sv_free(&c->drop);
		sv_free(&c->python_done);
		sv_free(&c->unres_path);
		sv_free(&c->unres_needs);
		sv_free(&c->roots);
		free(c);
	}
	free(r->items);
	for (size_t i = 0; i < r->n_roots; i++)
		free(r->roots[i]);
	free(r->roots);
	for (size_t i = 0; i < r->n_unresolved; i++) {
		free(r->unresolved[i].path);
		free(r->unresolved[i].needs);
	}
	free(r->unresolved);
	for (size_t i = 0; i < r->n_loads_code; i++)
		free(r->loads_code[i]);
	free(r->loads_code);
	for (size_t i = 0; i < r->n_unneeded; i++)
		free(r->unneeded[i].path);
	free(r->unneeded);
	for (size_t i = 0; i < r->n_packages; i++)
		free(r->packages[i].name);
	free(r->packages);
	memset(r, 0, sizeof *r);
}

static uint64_t subtree_bytes(const struct wh_node *n)
{
	if (n->type == WH_T_REG)
		return n->size;
	uint64_t s = 0;
	for (const struct wh_node *ch = n->child; ch; ch = ch->next)
		s += subtree_bytes(ch);
	return s;
}

int reach_why(const struct reach *r, const struct analysis *a, const char *path, FILE *out, struct wh_error *err)
{
	struct pathres pr;
	struct wh_error e = {0};
	int rc = pathres_resolve(&a->tree, NULL, path, 0, &pr, &e);
	struct wh_node *n = pr.node;
	pathres_free(&pr);
	if (rc < 0)
		return wh_err(err, WH_EINPUT, "%s", e.msg);
	if (!n)
		return wh_err(err, WH_EINPUT, "%s: no such path in the image", path);
	char p[PATHMAX], q[PATHMAX];
	const struct reach_item *it = reach_find(r, n);
	if (!it) {
		char sz[32];
		fmt_size(sz, sizeof sz, subtree_bytes(n));
		const char *pkg = NULL;
		if (r->ctx && r->ctx->pkg.owner_of)
			pkg = r->ctx->pkg.owner_of(r->ctx->pkg.ctx, node_path(n, p));
		const char *drop = r->ctx ? dropped_by(r->ctx, n) : NULL;
		util_escape_fputs(node_path(n, p), out);
		fprintf(out, ": removable (%s%s", sz, pkg ? ", package " : "");
		util_escape_fputs(pkg ? pkg : "", out);
		fputs(")\n", out);
		if (drop)
			util_escape_line(out, "  dropped by --drop ", drop);
		else
			fprintf(out, "  nothing the entrypoint, the kept programs or the rules reach needs it\n");
		return 0;
	}
	util_escape_fputs(node_path(n, p), out);
	fputs(": kept\n", out);
	for (int hops = 0; it && hops < 1000; hops++) {
		char *ep = util_escape_dup(node_path(it->node, p));
		fprintf(out, "  %-40s %-15s", ep, rule_names[it->rule]);
		free(ep);
		if (it->from) {
			util_escape_line(out, " <- ", node_path(it->from, q));
		} else {
			fprintf(out, " (root%s", it->what ? ": " : "");
			util_escape_fputs(it->what ? it->what : "", out);
			fputs(")\n", out);
		}
		if (!it->from)
			break;
		it = reach_find(r, it->from);
	}
	return 0;
}
