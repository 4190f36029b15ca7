/* reach: which files of the final image its programs can reach, and why.
 *
 * Static analysis of the model only: nothing from the image is executed.
 * Starting from the roots (Entrypoint and Cmd, the User's files,
 * ld.so.preload and LD_PRELOAD, the user's --keep lists and the always-kept
 * paths) the closure follows symlinks at every component, PT_INTERP,
 * DT_NEEDED as glibc's (or musl's) loader resolves it, "#!" interpreters,
 * commands named by shell scripts, and the run-time rules (nss, libgcc_s,
 * gconv, certs, openssl-modules, python, perl, ruby, node, locale, tzdata,
 * sh, vcs, dbserver, jvm), configuration files' includes and modules
 * (config_refs.c), and the absolute paths named by strings inside kept ELF files
 * (reach_named.c).
 * Every kept node of the final tree gets WH_MARK_KEEP (tree.h) set and a
 * reason: the rule that kept it and the node that led to it. */
#ifndef WH_REACH_H
#define WH_REACH_H

#include "analyzer/analysis.h"

/* Package database hook (filled by the dpkg module; all may be NULL). */
struct reach_pkg_hooks {
	void *ctx;
	/* Absolute image paths of package name's files; returns how many (the
	 * array stays owned by the callee), or -1 when there is no such
	 * package. */
	long (*files_of)(void *ctx, const char *name, const char *const **paths);
	/* The package owning an absolute image path, or NULL. */
	const char *(*owner_of)(void *ctx, const char *path);
};

struct reach_opts {
	struct str_list entrypoint, cmd; /* overrides (each value one argv word, or one JSON array) */
	int entrypoint_set, cmd_set;
	struct str_list keep, drop;      /* PATH or GLOB (fnmatch, FNM_PATHNAME) */
	struct str_list keep_exe;        /* NAME looked up on the image PATH (or a path) */
	struct str_list keep_package;    /* through pkg.files_of */
	struct str_list keep_from;       /* host files: "+PATH" "-PATH" lines, "#" comments */
	struct str_list rules;           /* "NAME=on|off" */
	struct str_list keep_probe;        /* paths a probe touched (slimmer/probe.h): each node itself (a
	                                    * directory without its members), with the links on the way */
	const char *const *keep_probe_why; /* parallel to keep_probe: "probe: CMD" (outlives the reach) */
	struct str_list probe_ran;         /* paths (programs, scripts) touched by probes that passed: an
	                                    * uncertain entry for one of them is settled by that probe */
	const char *const *probe_ran_why;  /* parallel to probe_ran: "probe: CMD" (outlives the reach) */
	struct reach_pkg_hooks pkg;
};

/* The rules a reason can name. The run-time ones (REACH_RT_FIRST..) are
 * switchable with --rule NAME=on|off. */
enum reach_rule {
	R_ENTRYPOINT, R_CMD, R_SHELL, R_ARG, R_KEEP, R_KEEP_FROM, R_KEEP_EXE, R_KEEP_PACKAGE, R_PROBE,
	R_USER, R_PRELOAD, R_ALWAYS, R_PARENT, R_LINK, R_SYMLINK, R_HARDLINK, R_INTERP,
	R_NEEDED, R_SHEBANG, R_SCRIPT, R_SUBTREE, R_COPYRIGHT, R_LD_CACHE, R_NAMED, R_CONFIG, R_DATADIR,
	R_NSS, R_LIBGCC_S, R_GCONV, R_CERTS, R_OPENSSL_MODULES, R_PYTHON, R_PERL, R_RUBY, R_NODE,
	R_LOCALE, R_TZDATA, R_SH, R_VCS, R_DBSERVER, R_JVM,
	R_COUNT
};
#define REACH_RT_FIRST R_NSS

/* The rule's name ("needed", "nss", ...). */
const char *reach_rule_name(int rule);

struct reach_item {
	struct wh_node *node;  /* the kept node */
	struct wh_node *from;  /* what led to it (NULL for a root) */
	uint8_t rule;          /* enum reach_rule */
	uint8_t flags;         /* internal */
	const char *what;      /* detail for roots ("Entrypoint", "--keep /x"), or NULL */
};

struct reach_rule_stat {
	const char *name;
	int enabled;           /* 1 on, 0 off; locale/tzdata: 1 only when triggered by Env or forced */
	uint64_t files, bytes; /* nodes it kept (not directories) and their regular-file bytes */
};

struct reach_unresolved {
	char *path;   /* the file (or "/" for the image config) that needs it */
	char *needs;  /* what could not be found, and how it was asked for */
};

/* Honest doubt: a kept program loads code or data by names the analysis
 * cannot see (dlopen of a computed name from a directory it names). */
struct reach_uncertain {
	char *path;   /* the program */
	char *why;
	char **hint;  /* the paths whose keeping (whole) settles it */
	size_t n_hint;
	const char *settled_by; /* in reach.settled: the passing probe that ran it ("probe: CMD") */
};

/* A server's data directory (the User's home, a declared Volume, a
 * database's datadir named by its configuration or PGDATA): kept whole
 * when the entrypoint may read it, else dropped whole (the directory
 * itself stays, empty, with its owner and mode), never in part. */
struct reach_data_dir {
	char *path;
	char *kind;            /* "User's home", "Volume", "datadir of /etc/mysql/my.cnf", "Env PGDATA" */
	int kept;              /* 1 kept whole, 0 dropped whole */
	uint64_t files, bytes; /* what it holds: entries that are not directories, regular-file bytes */
	char *why;             /* the evidence that the entrypoint may read it, or why it is dropped */
};

/* A directory a program names (rule "named") kept as a directory with the
 * members something else keeps, not whole. */
struct reach_partial_dir {
	char *path;
	char *named_by;          /* the program whose strings name it */
	uint64_t kept, dropped;  /* its members (direct entries) */
	uint64_t dropped_bytes;  /* regular-file bytes under the dropped members */
};

struct reach_lib {
	char *path;
	uint64_t size;
	const char *package; /* from pkg.owner_of, or NULL */
};

struct reach_package {
	char *name;
	uint64_t size, kept;
	int used;   /* a file of it is kept, or a kept root (the entrypoint) is its symlink */
};

struct reach_ctx; /* internal */

struct reach {
	struct reach_item *items; /* kept nodes, in the order they were kept */
	size_t n_items;
	char **roots;             /* absolute paths of the root nodes, sorted */
	size_t n_roots;
	uint64_t kept_files;      /* kept nodes that are not directories */
	uint64_t kept_bytes;      /* regular-file bytes kept */
	uint64_t removable_bytes; /* regular-file bytes not kept */
	struct reach_rule_stat rules[R_COUNT - REACH_RT_FIRST];
	struct reach_unresolved *unresolved; /* sorted by path, then needs */
	size_t n_unresolved;
	char **loads_code;        /* kept objects importing dlopen that no rule explains, sorted */
	size_t n_loads_code;
	struct reach_uncertain *uncertain; /* sorted by path; gone when the hints are kept */
	size_t n_uncertain;
	struct reach_uncertain *settled;   /* uncertain entries a passing probe ran (settled_by), sorted */
	size_t n_settled;
	struct reach_data_dir *data_dirs;     /* sorted by path */
	size_t n_data_dirs;
	struct reach_partial_dir *partial_dirs; /* sorted by path */
	size_t n_partial_dirs;
	struct reach_lib *unneeded; /* ELF ET_DYN *.so / *.so.* files not kept (none an uncertain
	                               entry's hint holds); size desc, path */
	size_t n_unneeded;
	struct reach_package *packages; /* only with pkg.owner_of; size desc, name */
	size_t n_packages;
	struct reach_ctx *ctx;
};

/* Compute the kept set over a->tree (sets and clears WH_MARK_KEEP of every
 * node's mark). Returns 0, or WH_EINPUT for a bad option (unknown rule, unreadable
 * --keep-from file, bad --entrypoint JSON); problems in the image are
 * reported in r->unresolved, not as errors. Free with reach_free. */
int reach_compute(struct analysis *a, const struct reach_opts *o, struct reach *r, struct wh_error *err);
void reach_free(struct reach *r);

/* The reason a node is kept, or NULL when it is removable. */
const struct reach_item *reach_find(const struct reach *r, const struct wh_node *n);

/* One step of an explanation: a kept node, the rule that kept it, and the
 * node that led to it. */
struct reach_step {
	char *path;                   /* the kept node */
	const char *rule;             /* reach_rule_name() */
	char *from;                   /* what led to it; NULL for a root */
	const char *what;             /* detail, set for roots ("Entrypoint", "--keep"), or NULL */
	const struct wh_node *node, *from_node;
};

/* Why a path is kept (the chain back to a root) or removable. */
struct reach_explanation {
	char *path;                   /* the node asked about */
	const struct wh_node *node;
	int kept;
	/* kept: steps[0] is the node itself, the last one a root */
	struct reach_step *steps;
	size_t n_steps;
	/* removable: */
	uint64_t size;                /* regular-file bytes (of the subtree, for a directory) */
	const char *package;          /* the owning package (pkg.owner_of), or NULL */
	const char *dropped_by;       /* the --drop pattern that removed it, or NULL */
};

/* `whittle --why PATH` as data: the chain from PATH back to a root, or
 * that PATH is removable. The path's last component is not followed if it
 * is a symlink. Returns 0, or WH_EINPUT when the image has no such path.
 * Strings point into r (keep it alive); free with reach_explanation_free. */
int reach_explain(const struct reach *r, const struct analysis *a, const char *path,
                  struct reach_explanation *out, struct wh_error *err);
/* The same for a node of r's tree. */
void reach_explain_node(const struct reach *r, const struct wh_node *n, struct reach_explanation *out);
void reach_explanation_free(struct reach_explanation *x);

/* What the image runs: its Entrypoint and Cmd after the --entrypoint and
 * --cmd overrides, as a runtime resolves them (a value "[..." is a JSON
 * array of words, "" an empty list; docker: --entrypoint clears the
 * image's Cmd). entry and cmd are filled with copies (str_list_free).
 * Returns 0, or WH_EINPUT for an override that is not a JSON array. */
int reach_run_argv(const struct analysis *a, const struct str_list *entrypoint, int entrypoint_set,
                   const struct str_list *cmd_override, int cmd_set, struct str_list *entry, struct str_list *cmd,
                   struct wh_error *err);

#endif
