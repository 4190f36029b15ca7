/* dpkg: the Debian package database of an image, read from the contents
 * the index pass captured (layer_index_wants_content) through the final
 * tree: which packages there are, which package owns each file, how many
 * bytes each package has, and the rewritten status text the slimmer writes.
 *
 * Sources, all image paths:
 *   var/lib/dpkg/status            paragraphs (Package, Architecture, Version, Status)
 *   var/lib/dpkg/status.d/NAME     distroless: one paragraph a file (no Status: installed)
 *   var/lib/dpkg/status.d/NAME.md5sums  distroless file lists ("md5  path")
 *   var/lib/dpkg/info/NAME.list, NAME:ARCH.list   file lists, one absolute path a line
 *   var/lib/dpkg/diversions        triples of lines: from, to, diverting package (":" = local)
 *
 * Ownership: each listed path is looked up in the final tree with the
 * symlinks of its directories followed (so "/bin/ls" in a list finds
 * usr/bin/ls behind a merged-/usr "bin -> usr/bin" link, and "/bin/ls" or
 * "/usr/bin/ls" both name that node), the last component not followed (a
 * listed symlink is owned as the link). A diverted path is redirected
 * as dpkg installed it: when package P lists FROM and FROM is diverted
 * to TO by another package (or locally), P owns the file at TO; the
 * diverting package itself owns FROM. Paths a list names that the final
 * tree does not have are counted in n_listed, not owned. A node may have
 * several owners (directories; files of Multi-Arch: same packages).
 *
 * An image without var/lib/dpkg/status and status.d has an empty database
 * (not an error). Malformed input is WH_EINPUT naming the file and line.
 * The db points into the tree and the layers' captured contents: free it
 * before the analysis it was loaded from. */
#ifndef WH_DPKG_H
#define WH_DPKG_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/analysis.h"
#include "analyzer/tree.h"
#include "analyzer/util.h"

struct dpkg_pkg {
	const char *name;       /* Package: */
	const char *arch;       /* Architecture:, "" when absent */
	const char *version;    /* Version:, "" when absent */
	const char *state;      /* third word of Status: ("installed", "config-files",
	                           "half-configured", ...); "installed" for a status.d
	                           paragraph without Status */
	int installed;          /* state is "installed" */
	int present;            /* its files are on disk: state is neither
	                           "not-installed" nor "config-files" */
	const char *source;     /* image path of the file its paragraph is in:
	                           "var/lib/dpkg/status" or "var/lib/dpkg/status.d/NAME" */
	const char *list;       /* image path of its file list (info/NAME.list or
	                           status.d/NAME.md5sums), NULL when it has none */
	size_t n_listed;        /* paths its list names ("/." not counted) */
	size_t n_files;         /* nodes of the final tree it owns, directories included */
	size_t n_nondir;        /* of those, the ones that are not directories */
	uint64_t size_bytes;    /* sum of the sizes of the regular files it owns */
	struct wh_node **files; /* the nodes it owns, in list order, each once */

	/* internal */
	size_t para_off, para_len; /* its paragraph in `source` */
	size_t files_cap;
	const char **paths;        /* dpkg_reach_files_of, built on first use */
	size_t n_paths;
};

struct dpkg_owner_link {
	const struct wh_node *node;
	uint32_t pkg;           /* index in db->pkgs */
	uint32_t next;          /* next link of the same node, or UINT32_MAX */
};

struct dpkg_db {
	const struct wh_tree *tree;
	int found;              /* the image has var/lib/dpkg/status or status.d */
	struct dpkg_pkg *pkgs;  /* in the order of the status file (then status.d, by name) */
	size_t n_pkgs;
	size_t n_diversions;

	/* internal */
	const char *status_text;    /* var/lib/dpkg/status as captured, NULL if absent */
	const char *div_text;       /* var/lib/dpkg/diversions as captured, NULL if absent */
	size_t div_len;
	size_t status_len;
	size_t status_prefix;       /* bytes before the first paragraph */
	uint32_t *by_name;          /* pkgs indices sorted by (name, arch) */
	struct dpkg_owner_link *links;
	size_t n_links, cap_links, n_heads;
	uint32_t *slots;            /* node -> first link, open addressing */
	size_t n_slots;
	struct arena arena;
};

/* Load the database of the analysed image (a->tree, the final tree). */
int dpkg_load(const struct analysis *a, struct dpkg_db *db, struct wh_error *err);
/* The same from any tree whose entries carry the captured contents. */
int dpkg_load_tree(const struct wh_tree *t, struct dpkg_db *db, struct wh_error *err);
void dpkg_free(struct dpkg_db *db);

/* A package by "NAME" or "NAME:ARCH"; for a bare NAME, the present package
 * of that name (the first by architecture when several are). NULL if none. */
const struct dpkg_pkg *dpkg_find(const struct dpkg_db *db, const char *name);

/* The owner of a node (for a node with several owners, the first package
 * in db->pkgs order that owns it), or NULL. */
const struct dpkg_pkg *dpkg_owner_pkg(const struct dpkg_db *db, const struct wh_node *n);
/* Its name, or NULL. */
const char *dpkg_owner(const struct dpkg_db *db, const struct wh_node *n);
/* All owners of a node: fills up to max, returns how many there are. */
size_t dpkg_owners(const struct dpkg_db *db, const struct wh_node *n, const struct dpkg_pkg **out, size_t max);
/* Owner of an image path ("/bin/ls", "usr/bin/ls"): directories' symlinks
 * followed, the last component not. NULL when no package owns it or the
 * path is not in the tree. */
const struct dpkg_pkg *dpkg_owner_path(const struct dpkg_db *db, const char *path);

/* The nodes a package owns (see struct dpkg_pkg.files). */
struct wh_node *const *dpkg_package_files(const struct dpkg_db *db, const struct dpkg_pkg *p, size_t *n);

/* The package a dpkg database file belongs to: var/lib/dpkg/info/NAME[:ARCH].EXT
 * or var/lib/dpkg/status.d/NAME[.md5sums]; NULL for other paths or unknown names.
 * (The slimmer drops the info files of packages it removes.) */
const struct dpkg_pkg *dpkg_db_file_package(const struct dpkg_db *db, const char *path);

/* var/lib/dpkg/status with only the paragraphs of the packages keep()
 * accepts (called once per paragraph of status with its package), every
 * kept byte as it was (the text before the first paragraph and each kept
 * paragraph with the blank lines after it). Returns a malloc'd buffer
 * (NUL-terminated, *len bytes without the NUL), or NULL when the image has
 * no var/lib/dpkg/status. */
char *dpkg_status_filtered(const struct dpkg_db *db, int (*keep)(void *ctx, const struct dpkg_pkg *p), void *ctx,
                           size_t *len);

/* var/lib/dpkg/diversions with only the diversions whose diverting
 * package keep() accepts; local diversions (":") and those of a package
 * the database does not have are kept. Each kept triple of lines as it
 * was. A malloc'd buffer as above, or NULL when there is no diversions file. */
char *dpkg_diversions_filtered(const struct dpkg_db *db, int (*keep)(void *ctx, const struct dpkg_pkg *p),
                               void *ctx, size_t *len);

/* Whether an owned node is its package's own (what keeps the package
 * installed after slimming): a non-directory that is not a symlink, or a
 * symlink only one package lists (the merged-/usr link /lib, listed by
 * many, is nobody's own). */
int dpkg_own_path(const struct dpkg_db *db, const struct wh_node *n);
/* Of the nodes package p owns: how many are its own, and how many of
 * those have any of `bits` set in their mark. */
void dpkg_own_paths(const struct dpkg_db *db, const struct dpkg_pkg *p, uint8_t bits, size_t *own, size_t *marked);

/* Adapters for reach's struct reach_pkg_hooks (analyzer/reach.h), ctx being
 * the struct dpkg_db *:
 *   .ctx = &db, .files_of = dpkg_reach_files_of, .owner_of = dpkg_reach_owner_of
 * files_of: the absolute paths ("/usr/bin/ls", as in the final tree, links
 * of directories resolved) of the non-directory nodes package name
 * ("NAME" or "NAME:ARCH") owns; returns their number, -1 for an unknown
 * package. The array lives as long as the db. owner_of: dpkg_owner_path. */
long dpkg_reach_files_of(void *ctx, const char *name, const char *const **paths);
const char *dpkg_reach_owner_of(void *ctx, const char *path);

#endif
