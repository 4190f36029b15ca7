/* ci: dive's three CI rules on the analysis, dive-style text.
 *
 * Rule values come from the command line (which wins), else from the
 * rules file (--ci-config FILE, else ./.dive-ci when present), else dive's
 * defaults. Values are parsed as dive parses them: ratios as floats in
 * 0..1, sizes as go-humanize's ParseBytes does ("20MB" and "20Mb" are
 * 20,000,000 bytes, "20MiB" 20,971,520); "", "disabled", "off" or "false"
 * disable a rule. Comparisons are dive's, strict. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

enum rule_id { R_EFF, R_WASTED, R_UWP, R_N };

static const struct {
	const char *key;     /* dive's name, camelCase, as in .dive-ci */
	const char *kebab;   /* dive's newer config spelling */
	const char *flag;    /* whittle's flag */
	const char *dflt;    /* dive's default */
} rule_def[R_N] = {
	[R_EFF] = {"lowestEfficiency", "lowest-efficiency", "--lowest-efficiency", "0.9"},
	[R_WASTED] = {"highestWastedBytes", "highest-wasted-bytes", "--highest-wasted-bytes", "disabled"},
	[R_UWP] = {"highestUserWastedPercent", "highest-user-wasted-percent", "--highest-user-wasted-percent", "0.1"},
};

enum status { ST_PASS, ST_FAIL, ST_SKIP };

struct rule {
	char *value;         /* as given */
	int disabled;
	double ratio;        /* R_EFF, R_UWP */
	uint64_t bytes;      /* R_WASTED */
	enum status st;
	char msg[512];
};

/* --- value parsing ------------------------------------------------------------ */

static int is_disabled(const char *v)
{
	while (isspace((unsigned char)*v))
		v++;
	size_t n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0)
		return 1;
	static const char *const words[] = {"disabled", "off", "false"};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strlen(words[i]) == n && !strncasecmp(v, words[i], n))
			return 1;
	return 0;
}

/* A float as Go's strconv.ParseFloat takes it: the whole string, no spaces. */
static int parse_float(const char *s, double *out)
{
	if (!*s || isspace((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno == ERANGE || v != v)
		return -1;
	*out = v;
	return 0;
}

/* go-humanize ParseBytes: digits, '.' and ',' (commas dropped), then an
 * optional unit, case-insensitive, spaces around it trimmed. */
static int parse_bytes(const char *s, uint64_t *out, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		double mult;
	} units[] = {
		{"", 1}, {"b", 1},
		{"k", 1e3}, {"kb", 1e3}, {"ki", 1024.0}, {"kib", 1024.0},
		{"m", 1e6}, {"mb", 1e6}, {"mi", 1048576.0}, {"mib", 1048576.0},
		{"g", 1e9}, {"gb", 1e9}, {"gi", 1073741824.0}, {"gib", 1073741824.0},
		{"t", 1e12}, {"tb", 1e12}, {"ti", 1099511627776.0}, {"tib", 1099511627776.0},
		{"p", 1e15}, {"pb", 1e15}, {"pi", 1125899906842624.0}, {"pib", 1125899906842624.0},
		{"e", 1e18}, {"eb", 1e18}, {"ei", 1152921504606846976.0}, {"eib", 1152921504606846976.0},
	};
	char num[64];
	size_t n = 0, i = 0;
	for (; s[i] && (isdigit((unsigned char)s[i]) || s[i] == '.' || s[i] == ','); i++) {
		if (s[i] == ',')
			continue;
		if (n + 1 >= sizeof num) {
			snprintf(why, whylen, "too many digits");
			return -1;
		}
		num[n++] = s[i];
	}
	num[n] = 0;
	double v;
	if (parse_float(num, &v) < 0) {
		snprintf(why, whylen, "no number at its start");
		return -1;
	}
	const char *u = s + i;
	while (isspace((unsigned char)*u))
		u++;
	size_t ul = strlen(u);
	while (ul && isspace((unsigned char)u[ul - 1]))
		ul--;
	for (size_t k = 0; k < ARRAY_LEN(units); k++) {
		if (strlen(units[k].name) == ul && !strncasecmp(u, units[k].name, ul)) {
			v *= units[k].mult;
			if (v >= 18446744073709551616.0) {
				snprintf(why, whylen, "too large");
				return -1;
			}
			*out = (uint64_t)v;
			return 0;
		}
	}
	snprintf(why, whylen, "unknown unit \"%.*s\"", (int)(ul > 32 ? 32 : ul), u);
	return -1;
}

/* Check and store a rule's value; an error names where it came from. */
static int rule_set(struct rule *r, enum rule_id id, const char *value, const char *origin, struct wh_error *err)
{
	free(r->value);
	r->value = xstrdup(value);
	r->disabled = is_disabled(value);
	if (r->disabled)
		return 0;
	if (id == R_WASTED) {
		char why[96];
		if (parse_bytes(value, &r->bytes, why, sizeof why) < 0)
			return wh_err(err, WH_EINPUT,
			              "%s: \"%s\" is not a size (%s); give bytes with an optional unit "
			              "(B, kB, MB, GB, KiB, MiB, GiB: \"20MB\", \"20MiB\") or \"disabled\"",
			              origin, value, why);
		return 0;
	}
	if (parse_float(value, &r->ratio) < 0)
		return wh_err(err, WH_EINPUT, "%s: \"%s\" is not a number; give a ratio from 0 to 1 (e.g. 0.9) or \"disabled\"",
		              origin, value);
	if (r->ratio < 0 || r->ratio > 1)
		return wh_err(err, WH_EINPUT, "%s: %s is outside the allowed range 0 to 1", origin, value);
	return 0;
}

/* --- the rules file ------------------------------------------------------------ */

static const char *node_str(yaml_document_t *doc, yaml_node_t *n, char *buf, size_t len)
{
	(void)doc;
	if (n->type != YAML_SCALAR_NODE)
		return NULL;
	const char *v = (const char *)n->data.scalar.value;
	/* a plain null is an empty value (viper reads it as "") */
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL")))
		v = "";
	snprintf(buf, len, "%s", v);
	return buf;
}

static int rule_by_key(const char *k)
{
	for (int i = 0; i < R_N; i++)
		if (!strcasecmp(k, rule_def[i].key) || !strcasecmp(k, rule_def[i].kebab))
			return i;
	return -1;
}

/* Read FILE's rules: map over the defaults. */
static int load_file(const char *path, struct rule *rules, struct wh_error *err)
{
	struct buf b = {0};
	if (read_host_file(path, &b, 1 << 20, err) < 0) {
		wh_err_prefix(err, "rules file: ");
		return WH_EINPUT;
	}
	yaml_parser_t p;
	yaml_document_t doc;
	int rc = 0;
	if (!yaml_parser_initialize(&p)) {
		buf_free(&b);
		return wh_err(err, WH_EINPUT, "%s: cannot start the YAML parser", path);
	}
	yaml_parser_set_input_string(&p, b.data ? b.data : (const unsigned char *)"", b.len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = wh_err(err, WH_EINPUT, "%s: line %zu: not valid YAML: %s", path, p.problem_mark.line + 1,
		            p.problem ? p.problem : "parse error");
		yaml_parser_delete(&p);
		buf_free(&b);
		return rc;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		/* an empty file: no rules, the defaults stand */
	} else if (root->type != YAML_MAPPING_NODE) {
		rc = wh_err(err, WH_EINPUT, "%s: line %zu: expected a mapping with a \"rules:\" key", path,
		            root->start_mark.line + 1);
	} else {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top && !rc; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
			yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
			char kb[256], vb[1024];
			const char *ks = node_str(&doc, k, kb, sizeof kb);
			if (!ks || strcmp(ks, "rules")) {
				fprintf(stderr, "whittle: %s: line %zu: unknown key \"%s\" ignored\n", path,
				        k->start_mark.line + 1, ks ? ks : "?");
				continue;
			}
			if (v->type == YAML_SCALAR_NODE && !*node_str(&doc, v, vb, sizeof vb))
				continue; /* "rules:" with nothing */
			if (v->type != YAML_MAPPING_NODE) {
				rc = wh_err(err, WH_EINPUT, "%s: line %zu: rules: expected a mapping of rule names to values",
				            path, v->start_mark.line + 1);
				break;
			}
			for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
				yaml_node_t *rk = yaml_document_get_node(&doc, q->key);
				yaml_node_t *rv = yaml_document_get_node(&doc, q->value);
				const char *rks = node_str(&doc, rk, kb, sizeof kb);
				int id = rks ? rule_by_key(rks) : -1;
				if (id < 0) {
					fprintf(stderr, "whittle: %s: line %zu: unknown rule \"rules.%s\" ignored\n", path,
					        rk->start_mark.line + 1, rks ? rks : "?");
					continue;
				}
				char origin[1200];
				snprintf(origin, sizeof origin, "%s: line %zu: rules.%s", path, rv->start_mark.line + 1, rks);
				const char *rvs = node_str(&doc, rv, vb, sizeof vb);
				if (!rvs) {
					rc = wh_err(err, WH_EINPUT, "%s: expected a single value", origin);
					break;
				}
				if ((rc = rule_set(&rules[id], (enum rule_id)id, rvs, origin, err)) < 0)
					break;
			}
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	buf_free(&b);
	return rc;
}

/* --- the text ------------------------------------------------------------------- */

/* go-humanize's Bytes(), as dive prints sizes: "13 kB", "6.4 kB", "131 B". */
static void human_bytes(char *out, size_t len, uint64_t s)
{
	static const char *const sizes[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	if (s < 10) {
		snprintf(out, len, "%llu B", (unsigned long long)s);
		return;
	}
	int e = 0;
	double div = 1;
	while (e < 6 && (double)s >= div * 1000.0) {
		div *= 1000.0;
		e++;
	}
	/* one decimal, rounded half up, as go-humanize rounds */
	double val = (double)(uint64_t)((double)s / div * 10 + 0.5) / 10;
	snprintf(out, len, val < 10 ? "%.1f %s" : "%.0f %s", val, sizes[e]);
}

/* The shortest text that reads back as the same double (Go's %v). */
static void short_float(char *out, size_t len, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, len, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

struct style {
	const char *bold, *green, *red, *faint, *reset;
};

static const char *status_name(enum status s)
{
	return s == ST_PASS ? "PASS" : s == ST_FAIL ? "FAIL" : "SKIP";
}

static void evaluate(struct rule *r, enum rule_id id, const struct waste *w)
{
	char a[64], b[64];
	if (r->disabled) {
		r->st = ST_SKIP;
		snprintf(r->msg, sizeof r->msg, "disabled");
		return;
	}
	r->st = ST_PASS;
	snprintf(r->msg, sizeof r->msg, "%s", r->value);
	switch (id) {
	case R_EFF:
		if (r->ratio > w->efficiency) {
			r->st = ST_FAIL;
			short_float(a, sizeof a, w->efficiency);
			short_float(b, sizeof b, r->ratio);
			snprintf(r->msg, sizeof r->msg, "image efficiency is too low (efficiency=%s < threshold=%s)", a, b);
		}
		break;
	case R_WASTED:
		if (w->wasted_bytes > r->bytes) {
			r->st = ST_FAIL;
			snprintf(r->msg, sizeof r->msg, "too many bytes wasted (wasted-bytes=%llu > threshold=%llu)",
			         (unsigned long long)w->wasted_bytes, (unsigned long long)r->bytes);
		}
		break;
	case R_UWP:
		if (w->user_wasted_percent > r->ratio) {
			r->st = ST_FAIL;
			short_float(a, sizeof a, w->user_wasted_percent);
			short_float(b, sizeof b, r->ratio);
			snprintf(r->msg, sizeof r->msg,
			         "too many bytes wasted, relative to the user bytes added (%%-user-wasted-bytes=%s > threshold=%s)",
			         a, b);
		}
		break;
	default:
		break;
	}
}

static void print_report(FILE *out, const struct waste *w, struct rule *rules, const struct style *c)
{
	char hb[32];
	fprintf(out, "%sAnalysis:%s\n", c->bold, c->reset);
	fprintf(out, "  %-18s %.2f %%\n", "efficiency:", w->efficiency * 100);
	if (w->wasted_bytes > 0) {
		human_bytes(hb, sizeof hb, w->wasted_bytes);
		fprintf(out, "  %-18s %llu bytes (%s)\n", "wastedBytes:", (unsigned long long)w->wasted_bytes, hb);
		fprintf(out, "  %-18s %.2f %%\n", "userWastedPercent:", w->user_wasted_percent * 100);
	} else {
		fprintf(out, "  %-18s 0 bytes\n", "wastedBytes:");
		fprintf(out, "  %-18s 0 %%\n", "userWastedPercent:");
	}
	fputc('\n', out);

	if (w->n_files == 0) {
		fprintf(out, "%sInefficient Files:%s (None)\n", c->bold, c->reset);
	} else {
		fprintf(out, "%sInefficient Files:%s\n", c->bold, c->reset);
		fprintf(out, "%s  %-5s  %-12s  %s%s\n", c->bold, "Count", "Wasted Space", "File Path", c->reset);
		for (size_t i = 0; i < w->n_files; i++) {
			char cnt[16];
			snprintf(cnt, sizeof cnt, "%u", w->files[i].count);
			human_bytes(hb, sizeof hb, w->files[i].size);
			fprintf(out, "  %-5s  %-12s  ", cnt, hb);
			util_escape_line(out, "", w->files[i].path);
		}
	}
	fputc('\n', out);

	/* dive sorts the rules by name */
	static const enum rule_id order[R_N] = {R_UWP, R_WASTED, R_EFF};
	int pass = 0, fail = 0, skip = 0;
	fprintf(out, "%sEvaluation:%s\n", c->bold, c->reset);
	for (int k = 0; k < R_N; k++) {
		const struct rule *r = &rules[order[k]];
		const char *col = r->st == ST_PASS ? c->green : r->st == ST_FAIL ? c->red : c->faint;
		fprintf(out, "  %s%s%s  %s%s (%s)%s\n", col, status_name(r->st), c->reset, r->st == ST_SKIP ? c->faint : "",
		        rule_def[order[k]].key, r->msg, r->st == ST_SKIP ? c->reset : "");
		pass += r->st == ST_PASS;
		fail += r->st == ST_FAIL;
		skip += r->st == ST_SKIP;
	}
	fputc('\n', out);
	fprintf(out, "%s%s%s %s[pass:%d fail:%d skip:%d]%s\n", fail ? c->red : c->green, fail ? "FAIL" : "PASS", c->reset,
	        c->faint, pass, fail, skip, c->reset);
}

int ci_run(const struct analysis *a, const struct cli_opts *o, FILE *out, struct wh_error *err)
{
	struct rule rules[R_N];
	memset(rules, 0, sizeof rules);
	int rc = 0;
	for (int i = 0; i < R_N && !rc; i++)
		rc = rule_set(&rules[i], (enum rule_id)i, rule_def[i].dflt, "default", err);

	const char *file = o->ci_config;
	if (!file && access(".dive-ci", F_OK) == 0)
		file = ".dive-ci";
	if (!rc && file)
		rc = load_file(file, rules, err);

	const struct ci_opt *flags[R_N] = {&o->lowest_efficiency, &o->highest_wasted_bytes,
	                                   &o->highest_user_wasted_percent};
	for (int i = 0; i < R_N && !rc; i++)
		if (flags[i]->value)
			rc = rule_set(&rules[i], (enum rule_id)i, flags[i]->value, rule_def[i].flag, err);

	if (!rc) {
		struct style c = {"", "", "", "", ""};
		if (!o->no_color && isatty(fileno(out)))
			c = (struct style){"\033[1m", "\033[32m", "\033[1;31m", "\033[2m", "\033[0m"};
		int failed = 0;
		for (int i = 0; i < R_N; i++) {
			evaluate(&rules[i], (enum rule_id)i, &a->waste);
			failed |= rules[i].st == ST_FAIL;
		}
		print_report(out, &a->waste, rules, &c);
		fflush(out);
		rc = failed ? 1 : 0;
	}
	for (int i = 0; i < R_N; i++) {
		free(rules[i].value);
	}
	return rc;
}
