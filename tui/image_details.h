/* image_details: the Image details pane: total, visible and reclaimable
 * bytes, efficiency, wasted bytes, the inefficient files (count, size)
 * and the duplicates. Scrolls when focused. */
#ifndef WH_IMAGE_DETAILS_H
#define WH_IMAGE_DETAILS_H

#include "analyzer/analysis.h"
#include "tui/crt.h"

struct image_details {
	int top;
	int page, n_lines;
};

void image_details_draw(struct image_details *d, const struct analysis *a, struct crt_rect r, int focused);
int image_details_key(struct image_details *d, int key);
void image_details_scroll(struct image_details *d, int delta);

#endif
