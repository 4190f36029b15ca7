/* why: `whittle --why PATH` as text. Every name from the image is printed
 * through util_escape (a name cannot drive the terminal or forge a line). */
#include "slimmer/why.h"

#include <stdlib.h>

int why_print(const struct reach *r, const struct analysis *a, const char *path, FILE *out, struct wh_error *err)
{
	struct reach_explanation x;
	if (reach_explain(r, a, path, &x, err) < 0)
		return WH_EINPUT;
	if (!x.kept) {
		char sz[32];
		fmt_size(sz, sizeof sz, x.size);
		util_escape_fputs(x.path, out);
		fprintf(out, ": removable (%s%s", sz, x.package ? ", package " : "");
		util_escape_fputs(x.package ? x.package : "", out);
		fputs(")\n", out);
		if (x.dropped_by)
			util_escape_line(out, "  dropped by --drop ", x.dropped_by);
		else
			fprintf(out, "  nothing the entrypoint, the kept programs or the rules reach needs it\n");
	} else {
		util_escape_fputs(x.path, out);
		fputs(": kept\n", out);
		for (size_t i = 0; i < x.n_steps; i++) {
			const struct reach_step *s = &x.steps[i];
			char *ep = util_escape_dup(s->path);
			fprintf(out, "  %-40s %-15s", ep, s->rule);
			free(ep);
			if (s->from) {
				util_escape_line(out, " <- ", s->from);
			} else {
				fprintf(out, " (root%s", s->what ? ": " : "");
				util_escape_fputs(s->what ? s->what : "", out);
				fputs(")\n", out);
			}
		}
	}
	reach_explanation_free(&x);
	return 0;
}
