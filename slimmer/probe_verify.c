/* probe_verify: the probes run again on the staged slimmed image (see .h). */
#include "slimmer/probe_verify.h"

#include <stdlib.h>
#include <string.h>

#define SHOW_MAX 160      /* characters of a differing line shown */
#define MISSING_SHOWN 20  /* missing paths printed */
#define MISSING_IN_MSG 5  /* missing paths in the error message */

static const char *const stream_name[] = {"exit_status", "stdout", "stderr"};

void probe_verify_free(struct probe_verify *v)
{
	if (!v)
		return;
	free(v->first_difference);
	for (size_t i = 0; i < v->n_missing; i++)
		free(v->missing[i]);
	free(v->missing);
	free(v);
}

static int same_buf(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

/* line k (from 0) of b: start and length without the newline; -1 past the end */
static long line_at(const struct buf *b, size_t k, size_t *len)
{
	size_t pos = 0;
	const char *d = (const char *)b->data;
	for (size_t i = 0; i < k; i++) {
		const char *nl = pos < b->len ? memchr(d + pos, '\n', b->len - pos) : NULL;
		if (!nl)
			return -1;
		pos = (size_t)(nl - d) + 1;
	}
	if (pos >= b->len && !(k == 0 && b->len == 0))
		return -1;
	const char *nl = b->len > pos ? memchr(d + pos, '\n', b->len - pos) : NULL;
	*len = nl ? (size_t)(nl - (d + pos)) : b->len - pos;
	return (long)pos;
}

/* a line as a quoted C-like string, at most SHOW_MAX characters shown */
static void quoted(struct buf *out, const struct buf *b, long pos, size_t len)
{
	if (pos < 0) {
		buf_append(out, "(no such line)", 14);
		return;
	}
	buf_append(out, "\"", 1);
	for (size_t i = 0; i < len && i < SHOW_MAX; i++) {
		const unsigned char *s = (const unsigned char *)b->data + pos;
		char e[8];
		if (s[i] == '"' || s[i] == '\\')
			snprintf(e, sizeof e, "\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			snprintf(e, sizeof e, "%c", s[i]);
		else
			snprintf(e, sizeof e, "\\x%02x", s[i]);
		buf_append(out, e, strlen(e));
	}
	buf_append(out, len > SHOW_MAX ? "\"..." : "\"", len > SHOW_MAX ? 4 : 1);
}

/* "stdout line 3: original \"x\", slimmed \"y\"" for the first differing line */
static char *first_line_diff(const char *what, const struct buf *orig, const struct buf *slim)
{
	size_t la = 0, lb = 0;
	for (size_t k = 0;; k++) {
		long pa = line_at(orig, k, &la), pb = line_at(slim, k, &lb);
		if (pa < 0 && pb < 0) /* the lines agree: only a final newline differs */
			return xasprintf("%s: original %zu bytes, slimmed %zu bytes (a final newline)", what, orig->len,
			                 slim->len);
		if (pa >= 0 && pb >= 0 && la == lb && (!la || !memcmp(orig->data + pa, slim->data + pb, la)))
			continue;
		struct buf t = {0};
		char *head = xasprintf("%s line %zu: original ", what, k + 1);
		buf_append(&t, head, strlen(head));
		free(head);
		quoted(&t, orig, pa, la);
		buf_append(&t, ", slimmed ", 10);
		quoted(&t, slim, pb, lb);
		buf_append(&t, "", 1);
		return (char *)t.data;
	}
}

/* the verdict on one probe: a = the original's first run, b = its second, s = the slimmed run */
static struct probe_verify *judge(const struct sbx_result *a, const struct sbx_result *b, struct probe_result *s)
{
	struct probe_verify *v = xcalloc(1, sizeof *v);
	v->exit_again = b->exit_status;
	v->exit_slim = s->run.exit_status;
	v->compared = PV_EXIT;
	if (s->run.exit_status != a->exit_status && s->run.exit_status != b->exit_status)
		v->first_difference = xasprintf("%s: original %d, slimmed %d", s->kind == PROBE_HTTP ? "HTTP status" :
		                                "exit status", a->exit_status, s->run.exit_status);
	const struct buf *ao[2] = {&a->out, &a->err}, *bo[2] = {&b->out, &b->err}, *so[2] = {&s->run.out, &s->run.err};
	for (int k = 0; k < 2; k++) {
		unsigned bit = k ? PV_STDERR : PV_STDOUT;
		if (!same_buf(ao[k], bo[k])) {
			v->not_compared |= bit;
			continue;
		}
		v->compared |= bit;
		if (!v->first_difference && !same_buf(ao[k], so[k]))
			v->first_difference = first_line_diff(s->kind == PROBE_HTTP && !k ? "body" : stream_name[k + 1],
			                                      ao[k], so[k]);
	}
	v->equal = v->first_difference == NULL;
	/* the slimmed run's ENOENTs that exist in the original (sorted by the tracer) */
	v->missing = s->missing;
	v->n_missing = s->n_missing;
	s->missing = NULL;
	s->n_missing = 0;
	return v;
}

/* every differing stream's first differing line, and the missing paths */
static void print_details(const struct probe_result *p, const struct probe_result *s, FILE *out)
{
	const struct probe_verify *v = p->verify;
	fprintf(out, "whittle: proof: probe `%s` behaves differently on the slimmed image\n", p->cmd->text);
	if (v->exit_slim != p->run.exit_status && v->exit_slim != v->exit_again)
		fprintf(out, "  %s: original %d, slimmed %d\n", p->kind == PROBE_HTTP ? "HTTP status" : "exit status",
		        p->run.exit_status, v->exit_slim);
	const struct buf *ao[2] = {&p->run.out, &p->run.err}, *so[2] = {&s->run.out, &s->run.err};
	for (int k = 0; k < 2; k++) {
		if (!(v->compared & (k ? PV_STDERR : PV_STDOUT)) || same_buf(ao[k], so[k]))
			continue;
		char *d = first_line_diff(p->kind == PROBE_HTTP && !k ? "body" : stream_name[k + 1], ao[k], so[k]);
		fprintf(out, "  %s\n", d);
		free(d);
	}
	if (v->n_missing)
		fprintf(out, "  paths the slimmed run tried and could not find (present in the original):\n");
	for (size_t i = 0; i < v->n_missing && i < MISSING_SHOWN; i++)
		fprintf(out, "    %s\n", v->missing[i]);
	if (v->n_missing > MISSING_SHOWN)
		fprintf(out, "    ... %zu more (the report's probe[].verify.missing_paths lists them all)\n",
		        v->n_missing - MISSING_SHOWN);
}

static int failure(const struct probe_results *res, struct wh_error *err)
{
	size_t bad = 0, first = 0;
	for (size_t i = 0; i < res->n; i++)
		if (!res->v[i].verify->equal && !bad++)
			first = i;
	const struct probe_result *p = &res->v[first];
	const struct probe_verify *v = p->verify;
	struct buf m = {0};
	for (size_t i = 0; i < v->n_missing && i < MISSING_IN_MSG; i++) {
		if (i)
			buf_append(&m, ", ", 2);
		buf_append(&m, v->missing[i], strlen(v->missing[i]));
	}
	if (v->n_missing > MISSING_IN_MSG) {
		char more[48];
		snprintf(more, sizeof more, " and %zu more", v->n_missing - MISSING_IN_MSG);
		buf_append(&m, more, strlen(more));
	}
	buf_append(&m, "", 1);
	char others[64] = "";
	if (bad > 1)
		snprintf(others, sizeof others, " (and %zu other probe%s)", bad - 1, bad > 2 ? "s" : "");
	int rc = wh_err(err, WH_EOUTPUT,
	                "the proof failed: probe `%s`%s behaves differently on the slimmed image (%s)%s%s; nothing "
	                "was written (--no-verify-probes skips the proof)",
	                p->cmd->text, others, v->first_difference, v->n_missing ? "; it could not find " : "",
	                v->n_missing ? (const char *)m.data : "");
	buf_free(&m);
	return rc;
}

static void free_pass(struct probe_result *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		probe_result_free(&v[i]);
	free(v);
}

int probe_verify_run(const struct analysis *orig, const char *staged_ref, const struct probe_opts *o, int jobs,
                     struct probe_results *res, FILE *out, struct wh_error *err)
{
	if (!res->n)
		return 0;
	struct probe_result *again = xcalloc(res->n, sizeof *again), *slim = xcalloc(res->n, sizeof *slim);
	size_t n_again = 0, n_slim = 0;
	struct analysis sa;
	int have_sa = 0;
	struct analysis_opts ao = {.jobs = jobs > 0 ? jobs : 1};
	int rc = probe_run_pass(orig, orig, o, PROBE_PASS_ORIGINAL, again, &n_again, err);
	if (rc < 0) {
		wh_err_prefix(err, "the proof: the original's second run: ");
	} else if ((rc = analysis_run(staged_ref, &ao, &sa, err)) < 0) {
		wh_err_prefix(err, "the proof: reading the staged output: ");
	} else {
		have_sa = 1;
		rc = probe_run_pass(orig, &sa, o, PROBE_PASS_SLIM, slim, &n_slim, err);
		if (rc < 0)
			wh_err_prefix(err, "the proof: the slimmed image: ");
	}
	if (rc < 0 && rc != WH_EINTR)
		err->code = rc = WH_EOUTPUT; /* the output could not be verified */
	int differs = 0;
	for (size_t i = 0; rc == 0 && i < res->n && i < n_again && i < n_slim; i++) {
		struct probe_result *p = &res->v[i];
		probe_verify_free(p->verify);
		p->verify = judge(&p->run, &again[i].run, &slim[i]);
		if (!p->verify->equal) {
			differs = 1;
			if (out)
				print_details(p, &slim[i], out);
		}
	}
	if (rc == 0 && differs)
		rc = failure(res, err);
	free_pass(again, n_again);
	free_pass(slim, n_slim);
	if (have_sa)
		analysis_free(&sa);
	return rc;
}

json_t *probe_verify_json(const struct probe_verify *v)
{
	json_t *c = json_array(), *nc = json_array(), *m = json_array();
	for (int k = 0; k < 3; k++) {
		if (v->compared & (1u << k))
			json_array_append_new(c, json_string(stream_name[k]));
		if (v->not_compared & (1u << k))
			json_array_append_new(nc, json_string(stream_name[k]));
	}
	for (size_t i = 0; i < v->n_missing; i++)
		json_array_append_new(m, json_string(v->missing[i]));
	json_t *fd = v->first_difference ? json_string(v->first_difference) : json_null();
	if (!fd) /* not UTF-8: quoted() escapes every byte above 0x7e, so this is only a guard */
		fd = json_string("(not representable)");
	return json_pack("{s:b, s:o, s:o, s:o, s:o}", "equal", v->equal, "compared", c, "not_compared", nc,
	                 "first_difference", fd, "missing_paths", m);
}

void probe_verify_print_summary(const struct probe_results *res, FILE *out, const char *indent)
{
	size_t n = 0;
	for (size_t i = 0; i < res->n; i++)
		n += res->v[i].verify != NULL;
	if (!n)
		return;
	fprintf(out, "%sproof            %zu probe%s behave%s the same on the output (exit status compared; stdout "
	             "and stderr where the original's two runs agree)\n",
	        indent, n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	for (size_t i = 0; i < res->n; i++) {
		const struct probe_verify *v = res->v[i].verify;
		if (!v || !v->not_compared)
			continue;
		fprintf(out, "%s  not compared: %s%s%s of `%s` (the original's two runs differ)\n", indent,
		        v->not_compared & PV_STDOUT ? "stdout" : "",
		        (v->not_compared & (PV_STDOUT | PV_STDERR)) == (PV_STDOUT | PV_STDERR) ? " and " : "",
		        v->not_compared & PV_STDERR ? "stderr" : "", res->v[i].cmd->text);
	}
}
