/* config_refs: paths named by configuration files, one recogniser a syntax. */
#include "analyzer/config_refs.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "analyzer/util.h"

#define CONF_PATH 1024

struct conf_state {
	char root[CONF_PATH]; /* relative paths are under this */
	config_ref_fn fn;
	void *ctx;
	long n;
};

/* The next whitespace-separated word of *p (quotes "..." and '...' kept
 * together, without them) into out; 0 at the end of the line. */
static int next_word(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	size_t n = 0;
	char q = 0;
	if (*s == '"' || *s == '\'')
		q = *s++;
	while (*s && (q ? *s != q : (*s != ' ' && *s != '\t'))) {
		if (n + 1 < cap)
			out[n++] = *s;
		s++;
	}
	if (q && *s == q)
		s++;
	out[n] = 0;
	*p = s;
	return 1;
}

static void report(struct conf_state *st, const char *v, enum config_ref_kind kind, const char *directive)
{
	if (!*v || strchr(v, '$'))
		return;
	char abs[CONF_PATH * 2];
	if (v[0] == '/')
		snprintf(abs, sizeof abs, "%s", v);
	else
		snprintf(abs, sizeof abs, "%s/%s", st->root, v);
	size_t l = strlen(abs);
	while (l > 1 && abs[l - 1] == '/')
		abs[--l] = 0;
	st->fn(st->ctx, abs, kind, directive);
	st->n++;
}

/* apache httpd: Include, IncludeOptional, LoadModule, LoadFile, ServerRoot,
 * and the directories served: DocumentRoot, Alias, ScriptAlias. */
static void apache_line(struct conf_state *st, const char *line)
{
	char d[64], a[CONF_PATH], b[CONF_PATH];
	const char *p = line;
	if (!next_word(&p, d, sizeof d) || d[0] == '#')
		return;
	if (!strcasecmp(d, "ServerRoot")) {
		if (next_word(&p, a, sizeof a) && a[0] == '/' && !strchr(a, '$'))
			snprintf(st->root, sizeof st->root, "%s", a);
	} else if (!strcasecmp(d, "Include") || !strcasecmp(d, "IncludeOptional")) {
		if (next_word(&p, a, sizeof a))
			report(st, a, CONFIG_REF_GLOB, d);
	} else if (!strcasecmp(d, "LoadModule")) {
		if (next_word(&p, a, sizeof a) && next_word(&p, b, sizeof b))
			report(st, b, CONFIG_REF_FILE, d);
	} else if (!strcasecmp(d, "TypesConfig") || !strcasecmp(d, "MIMEMagicFile")) {
		if (next_word(&p, a, sizeof a))
			report(st, a, CONFIG_REF_FILE, d);
	} else if (!strcasecmp(d, "PidFile") || !strcasecmp(d, "ErrorLog") || !strcasecmp(d, "CustomLog") ||
	           !strcasecmp(d, "TransferLog") || !strcasecmp(d, "ScriptSock")) {
		if (next_word(&p, a, sizeof a) && a[0] != '|' && strncmp(a, "syslog", 6))
			report(st, a, CONFIG_REF_PARENT, d);
	} else if (!strcasecmp(d, "LoadFile")) {
		while (next_word(&p, a, sizeof a))
			report(st, a, CONFIG_REF_FILE, d);
	} else if (!strcasecmp(d, "DocumentRoot")) {
		if (next_word(&p, a, sizeof a))
			report(st, a, CONFIG_REF_DIR, d);
	} else if (!strcasecmp(d, "Alias") || !strcasecmp(d, "ScriptAlias")) {
		if (next_word(&p, a, sizeof a) && next_word(&p, b, sizeof b))
			report(st, b, CONFIG_REF_DIR, d);
	}
}

/* mysql/mariadb option files: !include, !includedir, and the directory
 * options the server loads files from by name. */
static void mysql_line(struct conf_state *st, const char *line)
{
	char a[CONF_PATH];
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncmp(p, "!includedir", 11) && (p[11] == ' ' || p[11] == '\t')) {
		p += 11;
		if (next_word(&p, a, sizeof a))
			report(st, a, CONFIG_REF_DIR, "!includedir");
		return;
	}
	if (!strncmp(p, "!include", 8) && (p[8] == ' ' || p[8] == '\t')) {
		p += 8;
		if (next_word(&p, a, sizeof a))
			report(st, a, CONFIG_REF_FILE, "!include");
		return;
	}
	static const char *const dir_keys[] = {"plugin_dir", "lc_messages_dir", "character_sets_dir"};
	char key[64];
	size_t k = 0;
	while (*p && *p != '=' && *p != ' ' && *p != '\t' && k + 1 < sizeof key) {
		key[k++] = *p == '-' ? '_' : *p;
		p++;
	}
	key[k] = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return;
	p++;
	for (size_t i = 0; i < ARRAY_LEN(dir_keys); i++)
		if (!strcmp(key, dir_keys[i]) && next_word(&p, a, sizeof a))
			report(st, a, CONFIG_REF_DIR, dir_keys[i]);
	if (!strcmp(key, "datadir") && next_word(&p, a, sizeof a)) {
		report(st, a, CONFIG_REF_DATA, "datadir");
		return;
	}
	static const char *const made_keys[] = {"socket", "pid_file", "log_error", "general_log_file",
	                                        "slow_query_log_file"};
	for (size_t i = 0; i < ARRAY_LEN(made_keys); i++)
		if (!strcmp(key, made_keys[i]) && next_word(&p, a, sizeof a) && a[0] == '/')
			report(st, a, CONFIG_REF_PARENT, made_keys[i]);
}

static const struct recogniser {
	const char *name;
	const char *const *globs; /* FNM_PATHNAME-less: '*' spans directories */
	const char *root;         /* relative paths: under this (NULL: the file's directory) */
	void (*line)(struct conf_state *st, const char *line);
} recognisers[] = {
	{"apache", (const char *const[]){"/etc/apache2/*", "/etc/httpd/*", NULL}, NULL, apache_line},
	{"mysql", (const char *const[]){"/etc/mysql/*.cnf", "/etc/my.cnf", "/etc/my.cnf.d/*.cnf", NULL}, NULL,
	 mysql_line},
};

static const struct recogniser *find(const char *path)
{
	for (size_t i = 0; i < ARRAY_LEN(recognisers); i++)
		for (const char *const *g = recognisers[i].globs; *g; g++)
			if (fnmatch(*g, path, 0) == 0)
				return &recognisers[i];
	return NULL;
}

const char *config_refs_syntax(const char *path)
{
	const struct recogniser *r = find(path);
	return r ? r->name : NULL;
}

int config_refs_is_main(const char *path)
{
	/* apache: enabled is what the main file includes (mods-available
	 * holds every module); mysql reads every option file it finds */
	static const char *const mains[] = {"/etc/apache2/apache2.conf", "/etc/httpd/conf/httpd.conf",
	                                    "/etc/httpd/httpd.conf"};
	for (size_t i = 0; i < ARRAY_LEN(mains); i++)
		if (!strcmp(path, mains[i]))
			return 1;
	const struct recogniser *r = find(path);
	return r && r->line == mysql_line;
}

long config_refs_scan(const char *path, const char *text, size_t len, config_ref_fn fn, void *ctx)
{
	const struct recogniser *r = find(path);
	if (!r)
		return -1;
	struct conf_state st = {.fn = fn, .ctx = ctx};
	/* apache's ServerRoot default: /etc/NAME; others: the file's directory */
	const char *slash = path[0] == '/' ? strchr(path + 5, '/') : NULL;
	if (r->line == apache_line && slash && !strncmp(path, "/etc/", 5))
		snprintf(st.root, sizeof st.root, "%.*s", (int)(slash - path), path);
	else
		snprintf(st.root, sizeof st.root, "%.*s", (int)(strrchr(path, '/') ? strrchr(path, '/') - path : 0),
		         path);
	char line[CONF_PATH * 2];
	size_t i = 0;
	while (i < len) {
		size_t n = 0;
		while (i < len && text[i] != '\n') {
			if (n + 1 < sizeof line)
				line[n++] = text[i] == '\r' ? ' ' : text[i];
			i++;
		}
		i++;
		line[n] = 0;
		r->line(&st, line);
	}
	return st.n;
}
