/* placeholder until the CI gate lands (issue 3) */
#include "cli/cli.h"
int ci_run(const struct analysis *a, const struct cli_opts *o, FILE *out, struct wh_error *err)
{
	(void)a;
	(void)o;
	(void)out;
	return wh_err(err, WH_EINPUT, "--ci is not built yet");
}
