/* why: `whittle --why PATH` as text. */
#include "cli/why.h"

int why_print(const struct reach *r, const struct analysis *a, const char *path, FILE *out, struct wh_error *err)
{
	struct reach_explanation x;
	if (reach_explain(r, a, path, &x, err) < 0)
		return WH_EINPUT;
	if (!x.kept) {
		char sz[32];
		fmt_size(sz, sizeof sz, x.size);
		fprintf(out, "%s: removable (%s%s%s)\n", x.path, sz, x.package ? ", package " : "",
		        x.package ? x.package : "");
		if (x.dropped_by)
			fprintf(out, "  dropped by --drop %s\n", x.dropped_by);
		else
			fprintf(out, "  nothing the entrypoint, the kept programs or the rules reach needs it\n");
	} else {
		fprintf(out, "%s: kept\n", x.path);
		for (size_t i = 0; i < x.n_steps; i++) {
			const struct reach_step *s = &x.steps[i];
			fprintf(out, "  %-40s %-15s", s->path, s->rule);
			if (s->from)
				fprintf(out, " <- %s\n", s->from);
			else
				fprintf(out, " (root%s%s)\n", s->what ? ": " : "", s->what ? s->what : "");
		}
	}
	reach_explanation_free(&x);
	return 0;
}
