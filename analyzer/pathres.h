/* pathres: resolve an image path inside the merged tree, as the kernel
 * would inside a chroot of the image: every component may be a symlink,
 * relative targets are taken from the link's directory, absolute ones from
 * the image root, ".." at the root stays at the root, and more than
 * PATHRES_MAX_HOPS links in one resolution is an error (ELOOP) naming the
 * path and the link where it stopped. Nothing on the host is looked at. */
#ifndef WH_PATHRES_H
#define WH_PATHRES_H

#include "analyzer/tree.h"

#define PATHRES_MAX_HOPS 40 /* Linux's MAXSYMLINKS */

struct pathres {
	struct wh_node *node;    /* the final node, or NULL when the path does not exist */
	struct wh_node **links;  /* symlink nodes traversed, in the order they were followed */
	size_t n_links, cap_links;
	int not_dir;             /* NULL because a non-directory was used as a directory */
};

enum {
	PATHRES_FOLLOW = 1,      /* follow a symlink in the last component too */
};

/* Resolve path. An absolute path starts at the root; a relative one at the
 * directory node base (NULL: the root). Returns 0 (out->node NULL when the
 * path does not exist: a component is missing, or a non-directory is used
 * as a directory) or WH_EINPUT on a symlink loop. out is reset first and
 * must be freed with pathres_free (also after an error). */
int pathres_resolve(const struct wh_tree *t, const struct wh_node *base, const char *path, int flags,
                    struct pathres *out, struct wh_error *err);
void pathres_free(struct pathres *r);

/* The node only: pathres_resolve without the links, for callers that need
 * no error either. NULL when the path does not exist, a non-directory is
 * used as a directory, or the links loop. */
struct wh_node *pathres_node(const struct wh_tree *t, const struct wh_node *base, const char *path, int flags);

/* The node holding a regular file's data: n itself, or the target of a
 * hard link (looked up without following symlinks, as tar does). NULL if a
 * hard link dangles. */
struct wh_node *pathres_data_node(const struct wh_tree *t, struct wh_node *n);

/* A path's components one by one, with symlink targets spliced in as they
 * are followed: the walk pathres_resolve and the layer merge (tree.c,
 * which creates directories as it goes) share. What a component means
 * (.., a symlink, a missing name) is the caller's. */
struct path_walk {
	char *rest;  /* what is left to walk (owned) */
	size_t pos;  /* where the next component is looked for */
	size_t end;  /* after path_walk_next: the end of the component in rest */
};

/* Walk the first len bytes of path. */
void path_walk_init(struct path_walk *w, const char *path, size_t len);
/* The next component other than "." (in rest, not NUL-terminated), its
 * length in *len; NULL at the end. *last (may be NULL): no component
 * follows it. */
char *path_walk_next(struct path_walk *w, size_t *len, int *last);
/* Go on with target, then what follows the current component (a symlink
 * met as that component). */
void path_walk_splice(struct path_walk *w, const char *target);
void path_walk_free(struct path_walk *w);

#endif
