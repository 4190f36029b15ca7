/* layer_details: the Layer details pane: digest, diff_id, command, size
 * and the added/modified/removed counts of the selected layer. */
#ifndef WH_LAYER_DETAILS_H
#define WH_LAYER_DETAILS_H

#include "analyzer/source.h"
#include "tui/crt.h"

void layer_details_draw(const struct wh_image *img, size_t layer, struct crt_rect r);

#endif
