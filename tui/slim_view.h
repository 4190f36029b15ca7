/* slim_view: the explorer's slimming state. The slim session (the same
 * pipeline as --auto's: the package database, reachability over the final
 * tree with the command line's options and the user's keeps and drops as
 * extra --keep, --drop and --keep-package, the keep set and the plan the
 * writer uses), the projected figures, and
 * an undo stack of the user's keeps and drops. Draws nothing: the file
 * tree and the packages pane ask it about nodes. */
#ifndef WH_SLIM_VIEW_H
#define WH_SLIM_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/dpkg.h"
#include "analyzer/reach.h"
#include "slimmer/slim_image.h"
#include "slimmer/slim_plan.h"
#include "slimmer/slim_session.h"

enum sv_state {
	SV_NONE,       /* not in the final tree */
	SV_KEPT,       /* in the output */
	SV_PARTIAL,    /* a directory in the output with removable bytes beneath */
	SV_GONE,       /* removable */
	SV_USER_KEEP,  /* the user kept it (x) */
	SV_USER_DROP,  /* the user dropped it (x) */
	SV_PROBE,      /* in the output because a probe touched it (r) */
};

/* A user's keep or drop of a path or a package. */
struct sv_override {
	int pkg;       /* name is a package */
	char *name;    /* absolute image path, or package name */
	int keep;      /* 1 keep, 0 drop */
};

struct sv_undo {
	int pkg;
	char *name;
	int prev;      /* the override before: -1 none, 0 drop, 1 keep */
};

struct sv_pkg {
	const struct dpkg_pkg *p;
	uint64_t size, kept;
};

struct sv_dirsum {
	const struct wh_node *n;
	uint64_t kept;
};

struct slim_view {
	struct analysis *a;
	const struct slim_opts *o; /* the command line's */
	struct slim_opts opts;     /* what the session reads: o's, with the root edited (e) */
	int root_edited;           /* opts.entrypoint and opts.cmd are the view's own lists */
	int ready;                 /* computed at least once */
	struct slim_session s;     /* s.db, s.r, s.plan (have_db, have_reach, have_plan) */
	struct sv_override *ov;
	size_t n_ov;
	struct sv_undo *undo;
	size_t n_undo;
	struct sv_dirsum *dirs;    /* kept bytes of directories, sorted by node */
	size_t n_dirs;
	struct sv_pkg *pkgs;       /* size descending, then name */
	size_t n_pkgs;
	struct slim_figures fig;   /* the output's bytes, files, entries (as --auto and --report say) */
	char err[512];             /* the last computation's error, "" when fine */
	char *pending;             /* a drop that would break a need, waiting for y/n (not applied) */
	struct probe_cmd *probes;  /* r: the probes typed, in order (opts.probe.cmds; tui/slim_probe.h) */
	size_t n_probes;
	int probes_pending;        /* the command line's probes have not run yet */
	int unsaved;               /* keeps or drops changed since the last write or save */
};

void slim_view_init(struct slim_view *sv, struct analysis *a, const struct slim_opts *o);
void slim_view_free(struct slim_view *sv);

/* (Re)compute reach with the overrides, the keep set and the plan.
 * Returns 0, or -1 with sv->err set (then the previous state is gone). */
int slim_view_compute(struct slim_view *sv);

/* The user's keeps and drops as the session's extra --keep, --drop and
 * --keep-package (free with slim_view_extra_free). */
void slim_view_extra(struct slim_view *sv, struct slim_extra *extra);
void slim_view_extra_free(struct slim_extra *extra);

/* The final tree's node at the path of a node of another tree, or NULL. */
struct wh_node *slim_view_node(const struct slim_view *sv, const struct wh_node *other);
/* A final-tree node's state; *kept gets the kept regular-file bytes
 * (a file: its size or 0; a directory: the sum beneath). */
enum sv_state slim_view_state(const struct slim_view *sv, const struct wh_node *n, uint64_t *kept);
/* One line on why n is kept (the rule and the first hops of the chain)
 * or removable (its size and package). */
void slim_view_why(const struct slim_view *sv, const struct wh_node *n, char *out, size_t len);

/* The user's override of a path or a package: -1 none, 0 drop, 1 keep. */
int slim_view_override(const struct slim_view *sv, int pkg, const char *name);
/* x on n (a node of the final tree): keep what is removable, drop what
 * is kept (a directory an uncertain entry's hint names is kept whole, as
 * the hint asks); then recompute. msg gets what happened (a drop names the
 * needs that now resolve to other files). A drop that would leave a need
 * of a kept file unmet is not applied: msg names what would break and
 * asks, sv->pending holds the path, and the answer goes to
 * slim_view_confirm. Returns 0, 1 (asks), or -1 (sv->err). */
int slim_view_toggle_node(struct slim_view *sv, const struct wh_node *n, char *msg, size_t len);
/* The answer to a pending drop: yes applies it, no leaves the view as it
 * was. Returns 0 or -1 (sv->err). */
int slim_view_confirm(struct slim_view *sv, int yes, char *msg, size_t len);
int slim_view_toggle_pkg(struct slim_view *sv, const struct sv_pkg *p, char *msg, size_t len);
/* z: undo the last x. Returns 0 (msg says what), 1 when there is nothing to undo, -1 (sv->err). */
int slim_view_undo(struct slim_view *sv, char *msg, size_t len);

/* The program slimming starts from: the Entrypoint and Cmd words (the
 * command line's or the user's, else the image config's), one line. */
void slim_view_root(const struct slim_view *sv, char *out, size_t len);
/* e: slim from line instead: a JSON array or words, the Entrypoint (the
 * Cmd then empty); "" goes back to the command line's and the image's.
 * Recomputes. Returns 0, or -1 (msg says why; the root before stays). */
int slim_view_set_root(struct slim_view *sv, const char *line, char *msg, size_t len);
/* K: the user's keeps and drops as a --keep-from file (+PATH, -PATH
 * lines; a package as its files). Returns 0 or -1 (msg says what). */
int slim_view_save(struct slim_view *sv, const char *file, char *msg, size_t len);

/* i: n (a final-tree node) in full, as text (free it): its path, what
 * slimming does with it, the rule, the package, filetype (the caller's
 * libmagic line), the size, and the chain as `whittle --why` prints it. */
char *slim_view_detail(const struct slim_view *sv, const struct wh_node *n, const char *filetype);

/* The uncertain list (reach.uncertain): how many, entry i as one line
 * (the program, the paths whose keeping settles it, why), and all of it as
 * text for a popup (free it). */
size_t slim_view_n_uncertain(const struct slim_view *sv);
void slim_view_uncertain_line(const struct slim_view *sv, size_t i, char *out, size_t len);
char *slim_view_uncertain_text(const struct slim_view *sv);

/* The projected figures as one line: bytes now -> after, ratio, files. */
void slim_view_summary(const struct slim_view *sv, char *out, size_t len);

#endif
