/* transport: the transport prefixes of IMAGE and of a destination (-o, the
 * explorer's w), checked before anything is read or written, so that a
 * typo ("oic:/x", "oci-achive:/tmp/x") is refused with the known transports
 * and the nearest one, instead of becoming a file name or an engine lookup. */
#ifndef WH_TRANSPORT_H
#define WH_TRANSPORT_H

#include <stddef.h>

#include "analyzer/util.h"

/* A destination: oci:, oci-archive:, docker-archive: or a path without a
 * "PREFIX:" (an existing file's name may hold one). what names it in the
 * message ("-o", "the destination"). Returns 0 or WH_EINPUT. */
int transport_check_output(const char *ref, const char *what, struct wh_error *err);

/* IMAGE: a known transport, an existing path, or (DESIGN) a bare NAME[:TAG]
 * the engine resolves; any other "PREFIX:" is refused. Returns 0 or WH_EINPUT. */
int transport_check_image(const char *ref, struct wh_error *err);

/* After IMAGE failed to open: a hint for the user (docker-archive: given
 * an OCI archive, or the other way round; a prefix within two edits of a
 * transport), written to out ("" when none). */
void transport_hint(const char *ref, char *out, size_t len);

#endif
