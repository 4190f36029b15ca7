/* reach_int: the context the reach_* files share (internal to reach;
 * nothing outside analyzer/reach*.c includes it).
 *
 *  reach.c         the kept items, keep/resolve, the queue, the API
 *  reach_ldso.c    the dynamic loader's search (DT_NEEDED, dlopen)
 *  reach_cmd.c     commands and scripts: argv, wrappers, "#!", sourced files
 *  reach_rules.c   the run-time rules, a table {name, function}
 *  reach_named.c   paths named by strings inside kept programs
 *  reach_roots.c   the roots: Entrypoint/Cmd, User, preload, --keep lists
 *  reach_results.c the figures of struct reach, and reach_explain
 *  reach_data.c    data directories (kept whole or dropped whole), partial dirs
 *  reach_imports.c scripts that import modules by computed names (uncertain) */
#ifndef WH_REACH_INT_H
#define WH_REACH_INT_H

#include <stdlib.h>
#include <string.h>

#include "analyzer/ldso.h"
#include "analyzer/pathres.h"
#include "analyzer/reach.h"

#define MAX_DEPTH 16
#define PATHMAX 4096

/* reach_item.flags */
enum {
	F_SUBTREE = 1,     /* keep every child too */
	F_ELF_DONE = 2,    /* its DT_NEEDED closure was computed */
	F_SCRIPT_DONE = 4, /* its "#!" line and shell commands were followed */
	F_CONFIG_DONE = 8, /* the paths its configuration syntax names were followed */
};

struct strv {
	char **v;
	size_t n, cap;
};

static inline void sv_push(struct strv *s, char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = str;
}

static inline void sv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* A data directory while the closure runs (reach_data.c). */
struct reach_dd {
	struct wh_node *node; /* the directory */
	char *kind;           /* what makes it one ("User's home") */
	struct wh_node *from; /* what names it (a configuration), or NULL */
	char *named;          /* evidence given when it was found ("named by ... (datadir)"), or NULL */
	char *why;            /* the decision's reason (the kept items' what) */
	int state;            /* 0 undecided, 1 kept whole, 2 dropped whole */
};

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
	int cache_needed;       /* a library was found only through the cache: it is kept */
	struct ldso_dirs conf;  /* ld.so.conf dirs, used only without a cache */
	int layout;
	int image_musl;
	/* options */
	struct strv drop;       /* patterns */
	int rule_state[R_COUNT]; /* -1 auto, 0 off, 1 on */
	int rule_fired[R_COUNT];
	struct strv python_done;
	unsigned certs_done;    /* rule_certs: the stores kept (bits of cert_stores) */
	/* unresolved, collected then sorted and deduplicated */
	struct strv unres_path, unres_needs;
	struct strv roots;
	int depth;
	struct reach_dd *dd;    /* data directories */
	size_t n_dd, cap_dd;
	size_t named_total;     /* path strings followed so far (capped) */
	int named_capped;
};

/* ---- reach.c: helpers ---- */
const char *reach_node_path(const struct wh_node *n, char *buf); /* buf: PATHMAX; "/" for NULL */
const char *reach_base_name(const char *p);
const char *reach_env_get(struct reach_ctx *c, const char *name); /* the image config's Env */
void reach_unres(struct reach_ctx *c, const struct wh_node *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const struct elf_info *reach_node_elf(const struct wh_node *n);
int reach_has_glob(const char *s);
struct wh_node *reach_node_at(struct reach_ctx *c, const char *path); /* resolved, errors ignored */

/* ---- reach.c: the kept items ---- */
long reach_item_find(const struct reach_ctx *c, const struct wh_node *n);
void reach_set_item_flag(struct reach_ctx *c, const struct wh_node *n, int f);
const char *reach_dropped_by(struct reach_ctx *c, const struct wh_node *n);
/* Keep node n for rule, led to by from. Returns the item index or -1. */
long reach_keep(struct reach_ctx *c, struct wh_node *n, int rule, struct wh_node *from, const char *what,
                int flags);
/* Keep what a resolution reached: the final node, then the links on the way. */
long reach_keep_res(struct reach_ctx *c, const struct pathres *pr, int rule, struct wh_node *from,
                    const char *what, int flags);
/* Resolve an image path (relative ones against base, NULL = WorkingDir),
 * following symlinks. Errors (loops) are reported as unresolved for who. */
struct wh_node *reach_resolve(struct reach_ctx *c, const struct wh_node *base, const char *path,
                              struct pathres *pr, const struct wh_node *who);
/* Keep path (and its links) if it exists; SUBTREE for a directory when
 * tree is set. Returns the final node or NULL. */
struct wh_node *reach_keep_path(struct reach_ctx *c, const char *path, int rule, struct wh_node *from,
                                const char *what, int tree);
/* Match a glob against the tree without following symlinks; keep every match. */
size_t reach_glob_keep(struct reach_ctx *c, struct wh_node *dir, const char *pat, int rule, struct wh_node *from,
                       const char *what);
/* A path or a glob: keep every match (directories with their subtree). */
size_t reach_keep_pattern(struct reach_ctx *c, const char *pat, int rule, struct wh_node *from, const char *what);

/* ---- reach_ldso.c ---- */
/* Read the image's ld.so.cache (or ld.so.conf), its layout, musl or not. */
void reach_setup_loader(struct reach_ctx *c);
/* The DT_NEEDED closure of root (a data node found at root_path); main:
 * the executable of the process that dlopens root, or NULL. */
void reach_load_closure(struct reach_ctx *c, struct wh_node *root, const char *root_path, struct wh_node *main);
/* A library loaded with dlopen by the C library (NSS modules, libgcc_s). */
struct wh_node *reach_keep_dlopen_lib(struct reach_ctx *c, const char *name, uint16_t machine, uint8_t cls,
                                      int rule, struct wh_node *from);

/* ---- reach_cmd.c ---- */
/* A command name as execvp and the shells find it. */
struct wh_node *reach_find_command(struct reach_ctx *c, const char *name, struct pathres *pr,
                                   const struct wh_node *who);
/* Is n (through a hard link) an executable regular file? */
int reach_is_executable(struct reach_ctx *c, struct wh_node *n);
/* Follow one command line (argv already expanded); see reach_cmd.c. */
void reach_follow_argv(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int rule,
                       const char *what, int quiet);
/* A "#!" file: its interpreter and, for a shell script, its commands. */
void reach_follow_script(struct reach_ctx *c, struct wh_node *n, char **args, size_t nargs);

/* ---- reach_named.c ---- */
/* The absolute paths the strings inside a kept ELF file name (e->paths)
 * that exist in the image, except those a run-time rule owns. */
void reach_follow_named(struct reach_ctx *c, struct wh_node *n, const struct elf_info *e);
/* Is path, or a directory above it, one a run-time rule owns? */
int reach_named_rule_owned(const char *path);
/* A configuration file (config_refs.c): keep the paths it names. */
void reach_follow_config(struct reach_ctx *c, struct wh_node *n);
/* r->uncertain (after r->unneeded, which it filters). */
void reach_uncertain(struct reach_ctx *c);
void reach_uncertain_free(struct reach_uncertain *u);
/* Regular-file bytes of n and under it; *files (when not NULL) counts the
 * entries that are not directories (n itself too, when it is not one). */
uint64_t reach_subtree_bytes(const struct wh_node *n, uint64_t *files);
/* ---- reach_imports.c ---- */
/* Append to r->uncertain (capacity *cap) the kept scripts that import a
 * module by a computed name, unless their hint is kept whole. */
void reach_uncertain_imports(struct reach_ctx *c, size_t *cap);

/* ---- reach_rules.c ---- */
const char *reach_rt_rule_name(int rule);
int reach_set_rules(struct reach_ctx *c, const struct str_list *l, struct wh_error *err);
/* Apply the run-time rules that have not fired yet; returns whether any
 * queued something. */
int reach_apply_rules(struct reach_ctx *c);

/* ---- reach_roots.c ---- */
/* The image config's facts (Env, PATH, WorkingDir) into c. */
void reach_image_facts(struct reach_ctx *c);
/* Keep every root: Entrypoint/Cmd (or the overrides), User, preload, the
 * always-kept paths, --keep, --keep-from, --keep-exe, --keep-package.
 * Returns 0 or WH_EINPUT for a bad option (nothing kept then). */
int reach_roots(struct reach_ctx *c, struct wh_error *err);

/* ---- reach_data.c ---- */
/* Register a data directory (path in the image; ignored unless it is a
 * directory that is not a system directory). named: evidence that the
 * entrypoint reads it, given by from (a configuration), or NULL. */
void reach_data_add(struct reach_ctx *c, const char *path, const char *kind, struct wh_node *from,
                    const char *named);
/* The data directories of the image config: the User's home (home),
 * Volumes, Env PGDATA. */
void reach_data_roots(struct reach_ctx *c, const char *home);
/* Keep whole each undecided data directory the entrypoint may read;
 * returns whether any was kept (the closure then runs again). */
int reach_data_decide(struct reach_ctx *c);
/* The rest are dropped whole (the directory itself stays, empty). */
void reach_data_drop(struct reach_ctx *c);
/* r->data_dirs and r->partial_dirs (after the closure). */
void reach_data_results(struct reach_ctx *c);
int reach_is_system_dir(const char *p);

/* ---- reach_results.c ---- */
void reach_finish(struct reach_ctx *c);

#endif
