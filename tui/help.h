/* help: the overlay `?` opens, listing every key of every pane (from the
 * key table, tui/keys.h). */
#ifndef WH_HELP_H
#define WH_HELP_H

#include "tui/crt.h"

struct help {
	int open;
	int top;
	int page, n_lines;
};

void help_draw(struct help *h, int screen_h, int screen_w);
/* Keys while the overlay is open: arrows/jk/PgUp/PgDn scroll, anything
 * else closes it. Returns 1 if the key was used (scrolling or closing). */
int help_key(struct help *h, int key);

#endif
