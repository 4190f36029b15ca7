/* placeholder until the explorer lands (issue 6) */
#include "tui/tui.h"
#include <stdio.h>
int tui_main(const struct cli_opts *o, const struct analysis_opts *ao)
{
	(void)o;
	(void)ao;
	fprintf(stderr, "whittle: the explorer is not built yet; use --report, --ci\n");
	return WH_EXIT_INPUT;
}
