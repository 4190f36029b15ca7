/* tmpfiles: the one registry of the temporary directories whittle makes
 * (a fetch spool "whittle-spool.XXXXXX" in $TMPDIR, the staging directory
 * ".whittle-tmp.XXXXXX" beside an output).
 *
 * Each one is made by tmpfiles_mkdtemp, which holds an flock on it for as
 * long as this process lives (or until tmpfiles_remove), so that another
 * run can tell a live temporary from one a killed run left behind. Before
 * making one, the directory is swept (and, the first time in a run,
 * $TMPDIR for spools): an entry whose name is exactly the prefix and six
 * characters of [A-Za-z0-9] (mkdtemp's), that is a real directory (never a
 * symlink), owned by this user, and whose lock nobody holds is stale and
 * removed (unlinkat, no symlink followed). Nothing else is ever removed,
 * and only in $TMPDIR and the directory given (the output's).
 *
 * Signal handlers live in cli/ and tui/ only; they call
 * tmpfiles_cleanup_signal (async-signal-safe) before the process ends. */
#ifndef WH_TMPFILES_H
#define WH_TMPFILES_H

#include "analyzer/util.h"

#define TMPFILES_SPOOL_PREFIX "whittle-spool."
#define TMPFILES_STAGE_PREFIX ".whittle-tmp."

/* $TMPDIR, or /tmp when unset or empty. */
const char *tmpfiles_tmpdir(void);

/* Sweep DIR for stale PREFIX directories, then make DIR/PREFIXXXXXXX
 * (mode 0700), lock and register it. *out: its path (free it). 0, or
 * CODE (negative) with err naming DIR and why. */
int tmpfiles_mkdtemp(const char *dir, const char *prefix, int code, char **out, struct wh_error *err);

/* Remove stale PREFIX directories in DIR (see above); the number removed. */
int tmpfiles_sweep(const char *dir, const char *prefix);

/* Remove PATH (a registered temporary) and everything in it, unregister
 * it and drop its lock. An unregistered PATH is ignored. */
void tmpfiles_remove(const char *path);

/* Remove every registered temporary; async-signal-safe (only system
 * calls), for the handlers in cli/ and tui/ that then end the process. */
void tmpfiles_cleanup_signal(void);

#endif
