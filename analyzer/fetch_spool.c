/* fetch_spool: the private directories fetched images are copied into
 * (made, locked and registered by tmpfiles; see fetch.h). */
#include "analyzer/fetch_internal.h"

#include "analyzer/tmpfiles.h"

int fetch_spool_new(char **out, struct wh_error *err)
{
	const char *tmp = tmpfiles_tmpdir();
	int rc = tmpfiles_mkdtemp(tmp, TMPFILES_SPOOL_PREFIX, WH_EINPUT, out, err);
	if (rc < 0)
		wh_err_prefix(err, "the spool (set TMPDIR to another directory): ");
	return rc;
}

void fetch_spool_remove(const char *dir)
{
	tmpfiles_remove(dir);
}
