/* packages_panel: the overlay `p` opens over the slim view: the image's
 * packages (dpkg) by size, with the bytes slimming keeps of each; x keeps
 * or drops a whole package, z undoes. */
#ifndef WH_PACKAGES_PANEL_H
#define WH_PACKAGES_PANEL_H

#include <stddef.h>

#include "tui/crt.h"
#include "tui/slim_view.h"

struct packages_panel {
	int open;
	size_t sel, top;
	int page;
	char msg[512];   /* what the last x or z did */
};

void packages_panel_draw(struct packages_panel *p, const struct slim_view *sv, int screen_h, int screen_w);
/* Keys while open: moves, x (keep or drop the package), z (undo), p or
 * Esc (close). Returns 1 when a recomputation failed (sv->err says why). */
int packages_panel_key(struct packages_panel *p, struct slim_view *sv, int key);

#endif
