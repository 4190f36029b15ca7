/* slim_plan: the kept tree. From the final tree of an analysis and a keep
 * set (nodes marked SLIM_KEEP), the list of entries the slimmed image's one
 * layer holds, sorted by path: every parent directory of a kept path with
 * its original metadata, symlinks kept as links together with the links
 * they resolve through, hard-link sets fixed (the smallest kept path carries
 * the data, the others link to it; a link whose data carrier was dropped
 * becomes a regular file), and the dpkg database reduced to the packages
 * that still have a path of their own (analyzer/dpkg.c's filter: status,
 * status.d, info/, diversions). Symlinks are resolved by analyzer/pathres. */
#ifndef WH_SLIM_PLAN_H
#define WH_SLIM_PLAN_H

#include <stdint.h>
#include <stddef.h>

#include "analyzer/analysis.h"

/* Bits of struct wh_node.mark (analyzer/tree.h's enum wh_mark). */
enum {
	SLIM_KEEP = WH_MARK_KEEP, /* input: the keep set (set by reachability or the CLI) */
	SLIM_OUT = WH_MARK_OUT,   /* output of slim_plan_build: the node is in the slimmed image */
};

enum slim_why {
	SLIM_WHY_KEPT = 0,   /* marked SLIM_KEEP */
	SLIM_WHY_PARENT,     /* a parent directory of a kept path */
	SLIM_WHY_SYMLINK,    /* a link a kept symlink resolves through */
};

struct slim_entry {
	const char *path;          /* normalized image path, no leading "/", never "" */
	const struct wh_node *node;
	const struct wh_entry *e;  /* metadata (mode, owner, mtime, xattr flag); NULL: a directory no layer lists */
	uint8_t type;              /* enum wh_ftype as written: REG, DIR, SYMLINK, HARDLINK, CHR, BLK, FIFO, SOCK */
	uint8_t why;               /* enum slim_why */
	const char *link;          /* SYMLINK: target as written; HARDLINK: path of the entry carrying the data */
	/* REG: where the content is: the regular-file entry `data` of layer `layer`
	 * (for a former hard link: the entry its link named) */
	const struct wh_entry *data;
	uint16_t layer;
	uint64_t size;             /* REG: bytes */
	/* content written instead of the source's (the rewritten dpkg status), or NULL */
	const uint8_t *content;
	size_t content_len;
};

struct slim_pkg {
	const char *name;          /* "name" or "name:arch" as in info/ */
	uint64_t size;             /* bytes of its files in the input */
};

struct slim_plan {
	struct slim_entry *v;      /* sorted by path (byte order) */
	size_t n;
	uint64_t kept_bytes;       /* regular-file bytes of the output */
	uint64_t kept_entries;     /* = n */
	uint64_t input_bytes;      /* visible bytes of the input */
	uint64_t input_entries;    /* entries of the input's final tree */
	struct slim_pkg *removed_pkgs; /* packages none of whose own paths is kept, sorted by size desc, then name */
	size_t n_removed_pkgs;
	struct arena arena;
};

struct dpkg_db;

struct slim_plan_opts {
	int keep_dpkg_db;          /* keep /var/lib/dpkg whole */
	const struct dpkg_db *db;  /* the package database of a->tree, or NULL: loaded here */
};

/* Build the plan. Reads SLIM_KEEP marks of a->tree and sets SLIM_OUT on
 * every node that goes into the output (clearing it on the others). */
int slim_plan_build(struct analysis *a, const struct slim_plan_opts *o, struct slim_plan *p, struct wh_error *err);
void slim_plan_free(struct slim_plan *p);

/* Find an entry by path (no leading "/"); NULL if not in the plan. */
const struct slim_entry *slim_plan_find(const struct slim_plan *p, const char *path);

/* Mark every node of the tree SLIM_KEEP (the keep set "everything"). */
void slim_mark_all(struct wh_tree *t);

struct reach;
/* slim_keep_from_reach flags */
enum {
	SLIM_KEEP_DPKG_DB = 1, /* --keep-dpkg-db: all of var/lib/dpkg */
	SLIM_DROP_PYCACHE = 2, /* --drop-pycache: not the bytecode caches of kept python sources */
};

/* The keep set of --auto and the explorer's slim view: reach's kept nodes,
 * plus the package database so scanners see what is left (status,
 * status.d/, diversions, and of info/ the .list, .md5sums, .conffiles
 * and format, or all of info/ when dpkg itself is kept; the plan then
 * drops what belongs to packages with no own path left), or all of
 * var/lib/dpkg with SLIM_KEEP_DPKG_DB. With SLIM_DROP_PYCACHE,
 * __pycache__/NAME.TAG.pyc is not kept when NAME.py is (python compiles
 * the source at import instead). Clears every other SLIM_KEEP mark. */
void slim_keep_from_reach(struct analysis *a, const struct reach *r, unsigned flags);

/* Files (non-directories) of the tree, and how many the plan puts out (SLIM_OUT). */
void slim_count_files(const struct wh_tree *t, uint64_t *files, uint64_t *kept);

#endif
