/* why: `whittle --why PATH` as text, from reach_explain's data: what --why
 * prints and the explorer's detail view shows (slimmer/, below both). */
#ifndef WH_SLIM_WHY_H
#define WH_SLIM_WHY_H

#include <stdio.h>

#include "analyzer/reach.h"

/* Print to out why path is kept (one line a step of the chain, to a root)
 * or removable (its size, package, and the --drop that removed it).
 * Returns 0, or WH_EINPUT when the image has no such path. */
int why_print(const struct reach *r, const struct analysis *a, const char *path, FILE *out, struct wh_error *err);

#endif
