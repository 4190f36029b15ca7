/* filetype: what a file in the image is, for the details line. libmagic
 * on the file's first bytes: the content kept by the index pass when
 * there is one, else read again from the file's layer (the layer is
 * streamed, with its digests checked, up to the file). */
#ifndef WH_FILETYPE_H
#define WH_FILETYPE_H

#include <stddef.h>

#include "analyzer/source.h"
#include "analyzer/tree.h"

/* "regular file", "directory", "symbolic link", ... */
const char *filetype_kind_name(const struct wh_node *n);
/* libmagic's description of n (or of its entry type), into out. */
void filetype_describe(const struct wh_image *img, const struct wh_node *n, char *out, size_t len);
/* Release libmagic. */
void filetype_done(void);

#endif
