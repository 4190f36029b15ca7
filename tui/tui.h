/* tui: the explorer (ncursesw). Owns the terminal; reads the analysis model. */
#ifndef WH_TUI_H
#define WH_TUI_H

#include "analyzer/analysis.h"
#include "slimmer/slim_session.h"

/* Load the image (a reference, as analysis_run takes it) with a progress
 * screen, then run the explorer until the user quits. o: what slimming
 * keeps and how `w` writes (the command line's, as --auto has them).
 * Returns an exit code (DESIGN.md). */
int tui_main(const char *image, int no_color, const struct analysis_opts *ao, const struct slim_opts *o);

#endif
