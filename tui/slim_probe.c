/* slim_probe: the slim view's probes and the proof (see .h). */
#include "tui/slim_probe.h"

#include <stdlib.h>
#include <string.h>

#include "slimmer/probe_verify.h"

#define OUTPUT_LINES 200 /* lines of each stream the text shows */

static void cmd_free(struct probe_cmd *c)
{
	free(c->text);
	probe_argv_free(c->argv);
}

void slim_probe_init(struct slim_view *sv)
{
	const struct probe_opts *po = &sv->o->probe;
	sv->opts.probe = *po;
	sv->probes = po->n ? xcalloc(po->n, sizeof *sv->probes) : NULL;
	for (size_t i = 0; i < po->n; i++) {
		size_t k = 0;
		while (po->cmds[i].argv[k])
			k++;
		char **argv = xcalloc(k + 1, sizeof *argv);
		for (size_t j = 0; j < k; j++)
			argv[j] = xstrdup(po->cmds[i].argv[j]);
		sv->probes[i] = (struct probe_cmd){.text = xstrdup(po->cmds[i].text), .argv = argv};
	}
	sv->n_probes = po->n;
	sv->opts.probe.cmds = sv->probes;
	sv->opts.probe.n = sv->n_probes;
	sv->probes_pending = probe_count(&sv->opts.probe) > 0;
}

int slim_probe_pending(const struct slim_view *sv)
{
	return sv->probes_pending;
}

void slim_probe_free(struct slim_view *sv)
{
	for (size_t i = 0; i < sv->n_probes; i++)
		cmd_free(&sv->probes[i]);
	free(sv->probes);
	sv->probes = NULL;
	sv->n_probes = 0;
	sv->opts.probe.cmds = NULL;
	sv->opts.probe.n = 0;
}

/* A stream as lines for the popup: controls but tab and newline as '?'
 * (a NUL would end the text), at most OUTPUT_LINES lines. */
static void put_stream(FILE *f, const char *name, const struct buf *b, int truncated)
{
	if (!b->len) {
		fprintf(f, "%s: (empty)\n", name);
		return;
	}
	fprintf(f, "%s (%zu bytes%s):\n", name, b->len, truncated ? ", cut at 1 MiB" : "");
	size_t lines = 0, i = 0;
	while (i < b->len && lines < OUTPUT_LINES) {
		fputs("  ", f);
		for (; i < b->len && b->data[i] != '\n'; i++) {
			unsigned char c = b->data[i];
			fputc(c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : c, f);
		}
		fputc('\n', f);
		i += i < b->len;
		lines++;
	}
	if (i < b->len) {
		size_t more = 0;
		for (size_t k = i; k < b->len; k++)
			more += b->data[k] == '\n';
		fprintf(f, "  ... %zu more line%s\n", more + (b->data[b->len - 1] != '\n'), more == 1 ? "" : "s");
	}
}

/* The text of the popup: what p did, what it kept, its output. */
static char *probe_text(const struct slim_view *sv, const struct probe_result *p, uint64_t before)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (!f)
		return xstrdup("out of memory");
	fprintf(f, "probe `%s`\n\n", p->cmd->text);
	if (p->run.timed_out)
		fprintf(f, "timed out after %.1f s: killed, status %d\n", p->run.duration_s, p->run.exit_status);
	else
		fprintf(f, "exit status %d in %.1f s\n", p->run.exit_status, p->run.duration_s);
	fprintf(f, "%zu path%s of the image touched\n", p->n_touched, p->n_touched == 1 ? "" : "s");
	if (p->n_added) {
		fprintf(f, "kept %zu file%s the analysis missed (P in the tree, reason \"%s\"):\n", p->n_added,
		        p->n_added == 1 ? "" : "s", p->why ? p->why : "");
		for (size_t k = 0; k < p->n_added; k++)
			fprintf(f, "  %s\n", p->added[k]);
	} else {
		fputs("kept nothing the analysis had not kept\n", f);
	}
	if (p->n_missing)
		fprintf(f, "%zu path%s it looked for that the image does not have\n", p->n_missing,
		        p->n_missing == 1 ? "" : "s");
	char a[32], b[32];
	fmt_size(a, sizeof a, before);
	fmt_size(b, sizeof b, sv->s.plan.kept_bytes);
	uint64_t now = sv->s.plan.kept_bytes;
	fprintf(f, "the slimmed image would hold %s (was %s: %llu B %s); w writes it and runs the proof\n\n", b, a,
	        (unsigned long long)(now >= before ? now - before : before - now), now >= before ? "more" : "less");
	put_stream(f, "stdout", &p->run.out, p->run.out_truncated);
	put_stream(f, "stderr", &p->run.err, p->run.err_truncated);
	fprintf(f, "\n(any key but the arrows, j k, PgUp PgDn closes)");
	fclose(f);
	return buf;
}

/* The view's list with one more command (a new array: the results of the
 * last run point into the old one until the new run replaces them). */
static struct probe_cmd *with_one_more(const struct slim_view *sv, const char *line, char **argv)
{
	struct probe_cmd *v = xcalloc(sv->n_probes + 1, sizeof *v);
	if (sv->n_probes)
		memcpy(v, sv->probes, sv->n_probes * sizeof *v);
	v[sv->n_probes] = (struct probe_cmd){.text = xstrdup(line), .argv = argv};
	return v;
}

/* Run sv's probes (slim_session_probe_with, the user's keeps and drops applied). */
static int run_probes(struct slim_view *sv, struct wh_error *err)
{
	struct slim_extra extra;
	slim_view_extra(sv, &extra);
	int rc = slim_session_probe_with(&sv->s, &extra, NULL, err);
	slim_view_extra_free(&extra);
	return rc;
}

/* The explorer goes on without probes (nothing for the proof to run). */
static void forget_all(struct slim_view *sv)
{
	probe_results_free(&sv->s.probes);
	slim_probe_free(sv);
	sv->opts.probe.service = 0;
	sv->opts.probe.n_exec = sv->opts.probe.n_http = 0;
}

int slim_probe_run_given(struct slim_view *sv, char **text, char *msg, size_t len)
{
	*text = NULL;
	sv->probes_pending = 0;
	struct wh_error err = {0};
	uint64_t before = sv->s.plan.kept_bytes;
	int rc = run_probes(sv, &err);
	if (rc < 0) {
		forget_all(sv);
		snprintf(msg, len, "the command line's probes did not run: %s", err.msg);
		slim_view_compute(sv);
		return rc;
	}
	if (slim_view_compute(sv) < 0) {
		snprintf(msg, len, "slimming: %s", sv->err);
		return -1;
	}
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (f) {
		fputs("the command line's probes ran; what each kept is marked P in the tree\n\n", f);
		probe_print_summary(&sv->s.probes, f);
		fprintf(f, "\n(r runs one more, w writes and runs the proof; any key but the arrows closes)");
		fclose(f);
		*text = buf;
	}
	char a[32], b[32];
	fmt_size(a, sizeof a, before);
	fmt_size(b, sizeof b, sv->s.plan.kept_bytes);
	size_t n = sv->s.probes.n;
	snprintf(msg, len, "the command line's %zu probe%s ran: the slimmed image would hold %s (was %s); w runs the "
	         "proof", n, n == 1 ? "" : "s", b, a);
	return 0;
}

int slim_probe_run(struct slim_view *sv, const char *line, char **text, char *msg, size_t len)
{
	*text = NULL;
	struct wh_error err = {0};
	char **argv;
	if (!line[strspn(line, " \t")]) {
		snprintf(msg, len, "no probe: the command is empty");
		return -1;
	}
	if (probe_parse_cmd(line, &argv, &err) < 0) {
		snprintf(msg, len, "no probe: %s", err.msg);
		return -1;
	}
	if (!sv->ready && slim_view_compute(sv) < 0) {
		probe_argv_free(argv);
		snprintf(msg, len, "no probe: %s", sv->err);
		return -1;
	}
	uint64_t before = sv->s.plan.kept_bytes;
	size_t had = sv->s.probes.n;
	struct probe_cmd *v = with_one_more(sv, line, argv);
	sv->opts.probe.cmds = v;
	sv->opts.probe.n = sv->n_probes + 1;
	int rc = run_probes(sv, &err);
	if (rc < 0) {
		if (!had)
			probe_results_free(&sv->s.probes); /* the partial results point into v */
		cmd_free(&v[sv->n_probes]);
		free(v);
		sv->opts.probe.cmds = sv->probes;
		sv->opts.probe.n = sv->n_probes;
		snprintf(msg, len, "no probe: %s", err.msg);
		slim_view_compute(sv); /* the view as it was (the plan was dropped) */
		return rc;
	}
	free(sv->probes);
	sv->probes = v;
	sv->n_probes++;
	if (slim_view_compute(sv) < 0) {
		snprintf(msg, len, "slimming: %s", sv->err);
		return -1;
	}
	/* (the one-shot probes' results come first, in order) */
	const struct probe_result *p = &sv->s.probes.v[sv->n_probes - 1];
	*text = probe_text(sv, p, before);
	char b[32];
	fmt_size(b, sizeof b, sv->s.plan.kept_bytes);
	snprintf(msg, len, "probe `%s`: %s %d, kept %zu file%s the analysis missed: the slimmed image would hold %s "
	         "(%zu probe%s; w runs the proof)", p->cmd->text, p->run.timed_out ? "timed out, status" : "exit",
	         p->run.exit_status, p->n_added, p->n_added == 1 ? "" : "s", b, sv->s.probes.n,
	         sv->s.probes.n == 1 ? "" : "s");
	return 0;
}

int slim_probe_forget(struct slim_view *sv, char *msg, size_t len)
{
	if (!sv->n_probes) {
		snprintf(msg, len, "no probe to forget");
		return -1;
	}
	if (!sv->ready && slim_view_compute(sv) < 0) {
		snprintf(msg, len, "slimming: %s", sv->err);
		return -1;
	}
	/* the results point into the commands: gone before the last one is */
	probe_results_free(&sv->s.probes);
	struct probe_cmd last = sv->probes[--sv->n_probes];
	sv->opts.probe.cmds = sv->probes;
	sv->opts.probe.n = sv->n_probes;
	int rc = 0;
	struct wh_error err = {0};
	if (probe_count(&sv->opts.probe) && (rc = run_probes(sv, &err)) < 0)
		forget_all(sv);
	if (rc < 0)
		snprintf(msg, len, "forgot probe `%s`; the others did not run again, so every probe is forgotten: %s",
		         last.text, err.msg);
	cmd_free(&last);
	if (slim_view_compute(sv) < 0) {
		snprintf(msg, len, "slimming: %s", sv->err);
		return -1;
	}
	if (rc < 0)
		return rc;
	char b[32];
	fmt_size(b, sizeof b, sv->s.plan.kept_bytes);
	size_t n = sv->s.probes.n;
	snprintf(msg, len, "forgot the last probe: the slimmed image would hold %s (%zu probe%s left)", b, n,
	         n == 1 ? "" : "s");
	return 0;
}

void slim_probe_proof(struct slim_view *sv, struct slim_image_opts *io, FILE *out)
{
	/* the verdicts of this write only */
	for (size_t i = 0; i < sv->s.probes.n; i++) {
		probe_verify_free(sv->s.probes.v[i].verify);
		sv->s.probes.v[i].verify = NULL;
	}
	slim_session_proof(&sv->s, io, out);
}

void slim_probe_proof_line(const struct slim_view *sv, int rc, const char *errmsg, char *out, size_t len)
{
	out[0] = 0;
	const struct probe_results *res = &sv->s.probes;
	if (!res->n)
		return;
	if (sv->opts.probe.no_verify) {
		snprintf(out, len, "proof skipped (--no-verify-probes)");
		return;
	}
	size_t judged = 0, equal = 0;
	for (size_t i = 0; i < res->n; i++) {
		judged += res->v[i].verify != NULL;
		equal += res->v[i].verify && res->v[i].verify->equal;
	}
	static const char prefix[] = "the proof failed: ";
	if (judged == res->n && equal == judged)
		snprintf(out, len, "proof: %zu probe%s behave%s the same on the output", equal, equal == 1 ? "" : "s",
		         equal == 1 ? "s" : "");
	else if (judged && rc < 0)
		snprintf(out, len, "proof failed: %s",
		         strncmp(errmsg, prefix, sizeof prefix - 1) ? errmsg : errmsg + sizeof prefix - 1);
}
