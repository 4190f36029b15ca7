/* tui: the explorer (ncursesw). Owns the terminal; reads the analysis model. */
#ifndef WH_TUI_H
#define WH_TUI_H

#include "cli/cli.h"

/* Load the image with a progress screen, then run the explorer until the
 * user quits. Returns an exit code (DESIGN.md). */
int tui_main(const struct cli_opts *o, const struct analysis_opts *ao);

#endif
