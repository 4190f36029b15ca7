/* layers_panel: the Layers pane: index, size and command of each layer,
 * a marker on the layers the file tree compares, the selected layer. */
#ifndef WH_LAYERS_PANEL_H
#define WH_LAYERS_PANEL_H

#include <stddef.h>

#include "analyzer/source.h"
#include "tui/crt.h"

struct layers_panel {
	size_t sel, top;
	int page;
};

/* The command that made a layer, as a reader wants it: "#(nop)" and
 * "/bin/sh -c" dropped (a RUN shown as "RUN ..."), whitespace folded. */
void layers_command(const char *created_by, char *out, size_t len);

void layers_panel_draw(struct layers_panel *p, const struct wh_image *img, int aggregated, struct crt_rect r,
                       int focused);
/* Returns 1 when the key was the pane's (the selection may have moved). */
int layers_panel_key(struct layers_panel *p, const struct wh_image *img, int key);
void layers_panel_click(struct layers_panel *p, const struct wh_image *img, struct crt_rect r, int y);
void layers_panel_scroll(struct layers_panel *p, const struct wh_image *img, int delta);

#endif
