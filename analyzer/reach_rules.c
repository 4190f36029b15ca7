/* reach_rules: the run-time rules, what a kept program needs that no
 * file names: NSS modules, libgcc_s for pthread_cancel, gconv modules,
 * CA certificates, OpenSSL's modules, the interpreters' libraries,
 * locales, zone data, /bin/sh for system(3). Each is one entry of rt_rules {name, function};
 * --rule NAME=on|off switches it. */
#include "analyzer/reach_int.h"

#include <fnmatch.h>
#include <stdio.h>
#include <strings.h>

#include "analyzer/elf.h"

static int rule_on(struct reach_ctx *c, int rule)
{
	return c->rule_state[rule] != 0;
}

/* The first kept ELF object for which pred holds. */
static struct wh_node *first_kept_elf(struct reach_ctx *c, int (*pred)(const struct wh_node *, const struct elf_info *, void *),
                                      void *ctx)
{
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		const struct elf_info *e = reach_node_elf(n);
		if (e && pred(n, e, ctx))
			return n;
	}
	return NULL;
}

static int imports_pred(const struct wh_node *n, const struct elf_info *e, void *ctx)
{
	(void)n;
	return (e->imports & *(uint32_t *)ctx) != 0;
}

static int name_pred(const struct wh_node *n, const struct elf_info *e, void *ctx)
{
	(void)e;
	for (const char *const *p = ctx; *p; p++)
		if (fnmatch(*p, n->name, 0) == 0)
			return 1;
	return 0;
}

static void rule_nss(struct reach_ctx *c)
{
	uint32_t bits = ELF_IMP_NSS_USER | ELF_IMP_NSS_HOST;
	struct wh_node *who = first_kept_elf(c, imports_pred, &bits);
	if (!who)
		return;
	c->rule_fired[R_NSS] = 1;
	static const char *const files[] = {"/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts",
	                                    "/etc/services", "/etc/protocols", "/etc/networks", "/etc/host.conf",
	                                    "/etc/gai.conf", "/etc/resolv.conf", "/etc/shadow", "/etc/netgroup"};
	struct wh_node *conf = NULL;
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		struct wh_node *n = reach_keep_path(c, files[i], R_NSS, who, NULL, 0);
		if (i == 0)
			conf = n;
	}
	/* the services nsswitch.conf names (glibc's default: files, dns) */
	struct strv svc = {0};
	const uint8_t *txt = conf && conf->e && conf->e->extra ? conf->e->extra->content : NULL;
	if (txt) {
		const char *s = (const char *)txt;
		while (*s) {
			size_t ll = strcspn(s, "\n");
			char *line = xstrndup(s, ll);
			s += ll + (s[ll] ? 1 : 0);
			char *h = strchr(line, '#');
			if (h)
				*h = 0;
			char *col = strchr(line, ':');
			if (!col) {
				free(line);
				continue;
			}
			char *save = NULL;
			for (char *tok = strtok_r(col + 1, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
				if (tok[0] == '[') {
					while (tok && !strchr(tok, ']'))
						tok = strtok_r(NULL, " \t", &save);
					if (!tok)
						break;
					continue;
				}
				int dup = 0;
				for (size_t k = 0; k < svc.n; k++)
					dup |= !strcmp(svc.v[k], tok);
				if (!dup)
					sv_push(&svc, xstrdup(tok));
			}
			free(line);
		}
	} else {
		sv_push(&svc, xstrdup("files"));
		sv_push(&svc, xstrdup("dns"));
	}
	const struct elf_info *we = reach_node_elf(who);
	for (size_t k = 0; k < svc.n; k++) {
		char name[160];
		snprintf(name, sizeof name, "libnss_%s.so.2", svc.v[k]);
		/* a missing module is skipped by glibc (files and dns are built
		 * into glibc >= 2.34), so it is not reported */
		reach_keep_dlopen_lib(c, name, we->machine, we->elf_class, R_NSS, conf ? conf : who);
	}
	sv_free(&svc);
}

static void rule_libgcc_s(struct reach_ctx *c)
{
	uint32_t bits = ELF_IMP_PTHREAD_CANCEL;
	struct wh_node *who = first_kept_elf(c, imports_pred, &bits);
	if (!who)
		return;
	c->rule_fired[R_LIBGCC_S] = 1;
	const struct elf_info *we = reach_node_elf(who);
	if (!reach_keep_dlopen_lib(c, "libgcc_s.so.1", we->machine, we->elf_class, R_LIBGCC_S, who))
		reach_unres(c, who, "libgcc_s.so.1 (dlopen'd by glibc for pthread_cancel/pthread_exit)");
}

/* The directory holding a kept object (its resolved path's directory). */
static void dir_of_node(const struct wh_node *n, char *out)
{
	tree_path(n->parent ? n->parent : n, out, PATHMAX);
}

/* Libraries that use iconv only to convert between the locale's charset
 * and UTF-8 (IDNA, public suffixes: libidn2 and libpsl through
 * libunistring's locale_charset); what they convert is chosen by the
 * locale, not by the data. */
static const char *const locale_iconv_libs[] = {"libidn2.so*", "libidn.so*", "libpsl.so*", "libunistring.so*",
                                                NULL};

static int imports_iconv_freely(const struct wh_node *n, const struct elf_info *e, void *ctx)
{
	(void)ctx;
	return (e->imports & ELF_IMP_ICONV) && !name_pred(n, e, (void *)locale_iconv_libs);
}

/* Can the image's locale select a charset glibc loads as a gconv module?
 * Without LANG/LC_* (or with C, POSIX, or a UTF-8 locale) the charset is
 * ANSI_X3.4-1968 or UTF-8, both built into glibc; any other charset, a
 * locale without one ("de_DE" is ISO-8859-1), or --rule locale=on: yes. */
static int locale_may_need_gconv(struct reach_ctx *c)
{
	if (c->rule_state[R_LOCALE] > 0)
		return 1;
	for (size_t i = 0; i < c->env.n; i++) {
		const char *kv = c->env.v[i];
		if (strncmp(kv, "LANG=", 5) && strncmp(kv, "LC_", 3))
			continue;
		const char *v = strchr(kv, '=') + 1;
		if (!*v || !strcmp(v, "C") || !strcmp(v, "POSIX"))
			continue;
		const char *dot = strchr(v, '.');
		if (!dot)
			return 1;
		size_t cl = strcspn(dot + 1, "@");
		if (!((cl == 5 && !strncasecmp(dot + 1, "UTF-8", 5)) || (cl == 4 && !strncasecmp(dot + 1, "utf8", 4))))
			return 1;
	}
	return 0;
}

static void rule_gconv(struct reach_ctx *c)
{
	uint32_t bits = ELF_IMP_ICONV;
	/* a kept object that may convert any charset (the data names it)
	 * needs every module; one that only converts the locale's charset
	 * needs them only when the locale can select a non-built-in charset.
	 * Not fired otherwise, so a later kept importer still fires it. */
	struct wh_node *who = first_kept_elf(c, imports_iconv_freely, NULL);
	if (!who && locale_may_need_gconv(c))
		who = first_kept_elf(c, imports_pred, &bits);
	if (!who)
		return;
	c->rule_fired[R_GCONV] = 1;
	/* all modules of the gconv directories next to the C library and in
	 * the default library directories, with their configuration */
	const struct elf_info *we = reach_node_elf(who);
	size_t nd;
	const char *const *dd = ldso_default_dirs(we->machine, we->elf_class, c->layout, &nd);
	int found = 0;
	char p[PATHMAX];
	for (size_t i = 0; i < nd; i++) {
		snprintf(p, sizeof p, "%s/gconv", dd[i]);
		found += reach_keep_path(c, p, R_GCONV, who, NULL, 1) != NULL;
	}
	static const char *const more[] = {"/usr/lib64/gconv", "/usr/lib/gconv", "/usr/local/lib/gconv"};
	for (size_t i = 0; i < ARRAY_LEN(more); i++)
		found += reach_keep_path(c, more[i], R_GCONV, who, NULL, 1) != NULL;
	const char *gp = reach_env_get(c, "GCONV_PATH");
	if (gp) {
		char *d = xstrdup(gp), *save = NULL;
		for (char *tok = strtok_r(d, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
			found += reach_keep_path(c, tok, R_GCONV, who, NULL, 1) != NULL;
		free(d);
	}
	if (!found && !c->image_musl)
		reach_unres(c, who, "gconv modules directory (iconv_open imported)");
}

/* The CA stores, each for the TLS implementations that read it: the
 * system bundle and hashed directory (/etc/ssl/certs: OpenSSL, GnuTLS,
 * NSS, mbedTLS, wolfSSL, and what update-ca-certificates builds them from),
 * and a JVM's keystore (Debian's /etc/ssl/certs/java/cacerts, which a
 * JVM's lib/security/cacerts links to, Red Hat's /etc/pki/java, and the
 * hook update-ca-certificates runs to rebuild it). A store is
 * kept when a library or runtime that reads it is: not a JVM's keystore
 * for a python program that links libssl. */
static const char *const jvm_stores[] = {"/etc/ssl/certs/java", "/etc/pki/java", "/etc/pki/ca-trust/extracted/java",
                                         "/usr/share/ca-certificates-java",
                                         "/etc/ca-certificates/update.d/jks-keystore", NULL};

static const struct cert_store {
	const char *const *triggers; /* basename globs of ELF objects */
	const char *const *paths;    /* kept whole */
	const char *const *others;   /* other stores inside those paths: not kept */
} cert_stores[] = {
	{(const char *const[]){"libssl.so*", "libgnutls.so*", "libnss3.so*", "libmbedtls.so*", "libwolfssl.so*", NULL},
	 (const char *const[]){"/etc/ssl", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates", "/etc/pki",
	                       "/etc/ca-certificates", "/etc/ca-certificates.conf", "/usr/lib/ssl/certs",
	                       "/usr/lib/ssl/cert.pem", "/etc/gnutls", NULL},
	 jvm_stores},
	{(const char *const[]){"libjava.so", "libjvm.so", NULL}, jvm_stores, NULL},
};

static int is_other_store(const char *path, const char *const *others)
{
	for (const char *const *o = others; o && *o; o++)
		if (!strcmp(path, *o))
			return 1;
	return 0;
}

static int holds_other_store(const char *path, const char *const *others)
{
	size_t pl = strlen(path);
	for (const char *const *o = others; o && *o; o++)
		if (!strncmp(*o, path, pl) && (*o)[pl] == '/')
			return 1;
	return 0;
}

/* path kept whole, but for the paths of others inside it (compared with
 * its resolved path: Debian's /usr/lib/ssl/certs links to /etc/ssl/certs) */
static void keep_store(struct reach_ctx *c, const char *path, const char *const *others, struct wh_node *who)
{
	struct wh_node *d = reach_keep_path(c, path, R_CERTS, who, NULL, 0);
	if (!d)
		return;
	char real[PATHMAX], p[PATHMAX];
	reach_node_path(d, real);
	if (!holds_other_store(real, others)) {
		reach_keep_path(c, path, R_CERTS, who, NULL, 1);
		return;
	}
	if (d->type != WH_T_DIR)
		return;
	for (struct wh_node *ch = d->child; ch; ch = ch->next) {
		snprintf(p, sizeof p, "%s/%s", real, ch->name);
		if (!is_other_store(p, others))
			keep_store(c, p, others, who);
	}
}

static void rule_certs(struct reach_ctx *c)
{
	for (size_t i = 0; i < ARRAY_LEN(cert_stores); i++) {
		const struct cert_store *cs = &cert_stores[i];
		if (c->certs_done & (1u << i))
			continue;
		struct wh_node *who = first_kept_elf(c, name_pred, (void *)cs->triggers);
		if (!who)
			continue;
		c->certs_done |= 1u << i;
		c->rule_fired[R_CERTS] = 1;
		for (const char *const *p = cs->paths; *p; p++)
			keep_store(c, *p, cs->others, who);
		if (i)
			continue;
		const char *ev[] = {"SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
		                    "NODE_EXTRA_CA_CERTS"};
		for (size_t k = 0; k < ARRAY_LEN(ev); k++) {
			const char *v = reach_env_get(c, ev[k]);
			if (v && v[0] == '/')
				reach_keep_path(c, v, R_CERTS, who, NULL, 1);
		}
	}
}

static void rule_openssl_modules(struct reach_ctx *c)
{
	static const char *const libs[] = {"libcrypto.so*", NULL};
	struct wh_node *who = first_kept_elf(c, name_pred, (void *)libs);
	if (!who)
		return;
	c->rule_fired[R_OPENSSL_MODULES] = 1;
	/* every kept libcrypto: its directory's ossl-modules and engines-* */
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		if (!reach_node_elf(n) || fnmatch("libcrypto.so*", n->name, 0))
			continue;
		char d[PATHMAX], p[PATHMAX];
		dir_of_node(n, d);
		snprintf(p, sizeof p, "%s/ossl-modules", d);
		reach_keep_path(c, p, R_OPENSSL_MODULES, n, NULL, 1);
		snprintf(p, sizeof p, "%s/engines-*", d);
		reach_glob_keep(c, c->t->root, p, R_OPENSSL_MODULES, n, NULL);
		snprintf(p, sizeof p, "%s/openssl-*/engines", d);
		reach_glob_keep(c, c->t->root, p, R_OPENSSL_MODULES, n, NULL);
	}
	static const char *const cnf[] = {"/usr/lib/ssl/openssl.cnf", "/etc/ssl/openssl.cnf", "/etc/pki/tls/openssl.cnf",
	                                  "/usr/local/ssl/openssl.cnf", "/etc/crypto-policies"};
	for (size_t i = 0; i < ARRAY_LEN(cnf); i++)
		reach_keep_path(c, cnf[i], R_OPENSSL_MODULES, who, NULL, 1);
	const char *ev[] = {"OPENSSL_CONF", "OPENSSL_MODULES", "OPENSSL_ENGINES"};
	for (size_t i = 0; i < ARRAY_LEN(ev); i++) {
		const char *v = reach_env_get(c, ev[i]);
		if (v && v[0] == '/')
			reach_keep_path(c, v, R_OPENSSL_MODULES, who, NULL, 1);
	}
}

static void keep_env_dirs(struct reach_ctx *c, const char *var, int rule, struct wh_node *who)
{
	const char *v = reach_env_get(c, var);
	if (!v)
		return;
	char *d = xstrdup(v), *save = NULL;
	for (char *tok = strtok_r(d, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		if (tok[0] == '/')
			reach_keep_path(c, tok, rule, who, NULL, 1);
	free(d);
}

static void rule_python(struct reach_ctx *c)
{
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		const struct elf_info *e = reach_node_elf(n);
		if (!e)
			continue;
		const char *nm = n->name;
		const char *v = NULL;
		if (!strncmp(nm, "python3.", 8))
			v = nm + 6;
		else if (!strncmp(nm, "libpython3.", 11))
			v = nm + 9;
		if (!v)
			continue;
		size_t vl = 2;
		while (v[vl] >= '0' && v[vl] <= '9')
			vl++;
		if (vl == 2)
			continue;
		char ver[32];
		snprintf(ver, sizeof ver, "%.*s", (int)vl, v);
		int done = 0;
		for (size_t k = 0; k < c->python_done.n; k++)
			done |= !strcmp(c->python_done.v[k], ver);
		if (done)
			continue;
		sv_push(&c->python_done, xstrdup(ver));
		c->rule_fired[R_PYTHON] = 1;
		/* prefix: where the interpreter is (PREFIX/bin, PREFIX/lib) */
		char d[PATHMAX], prefix[PATHMAX];
		dir_of_node(n, d);
		char *sl = strrchr(d, '/');
		snprintf(prefix, sizeof prefix, "%.*s", sl ? (int)(sl - d) : 0, d);
		const char *prefixes[] = {prefix, "/usr", "/usr/local"};
		char p[PATHMAX];
		for (size_t k = 0; k < ARRAY_LEN(prefixes); k++) {
			snprintf(p, sizeof p, "%s/lib/python%s", prefixes[k], ver);
			reach_keep_path(c, p, R_PYTHON, n, NULL, 1);
			snprintf(p, sizeof p, "%s/lib64/python%s", prefixes[k], ver);
			reach_keep_path(c, p, R_PYTHON, n, NULL, 1);
			snprintf(p, sizeof p, "%s/lib/python3/dist-packages", prefixes[k]);
			reach_keep_path(c, p, R_PYTHON, n, NULL, 1);
		}
		snprintf(p, sizeof p, "/etc/python%s", ver);
		reach_keep_path(c, p, R_PYTHON, n, NULL, 1);
		reach_keep_path(c, "/etc/python3", R_PYTHON, n, NULL, 1);
		keep_env_dirs(c, "PYTHONPATH", R_PYTHON, n);
		keep_env_dirs(c, "PYTHONHOME", R_PYTHON, n);
		keep_env_dirs(c, "VIRTUAL_ENV", R_PYTHON, n);
	}
}

struct interp_rule {
	int rule;
	const char *const *triggers; /* basename globs of ELF objects */
	const char *const *dirs;     /* globs of directories kept whole */
	const char *env;             /* a ':' list of directories */
};

static const struct interp_rule interp_rules[] = {
	{R_PERL, (const char *const[]){"perl", "perl5*", "libperl.so*", NULL},
	 (const char *const[]){"/etc/perl", "/usr/lib/*/perl", "/usr/lib/*/perl5", "/usr/lib/*/perl-base",
	                       "/usr/share/perl", "/usr/share/perl5", "/usr/local/lib/*/perl", "/usr/local/share/perl",
	                       "/usr/local/lib/site_perl", "/usr/lib64/perl5", "/usr/local/lib64/perl5",
	                       "/usr/local/lib/perl5", "/usr/lib/perl5", "/usr/local/share/perl5", NULL},
	 "PERL5LIB"},
	{R_RUBY, (const char *const[]){"ruby", "ruby[0-9]*", "libruby*.so*", NULL},
	 (const char *const[]){"/usr/lib/ruby", "/usr/local/lib/ruby", "/usr/lib/*/ruby", "/var/lib/gems",
	                       "/usr/share/rubygems-integration", "/usr/local/bundle", "/usr/lib64/ruby", NULL},
	 "GEM_HOME"},
	{R_NODE, (const char *const[]){"node", "nodejs", "libnode.so*", NULL},
	 (const char *const[]){"/usr/lib/node_modules", "/usr/local/lib/node_modules", "/usr/share/nodejs",
	                       "/usr/lib/nodejs", "/usr/lib/*/nodejs", NULL},
	 "NODE_PATH"},
};

static void rule_interp(struct reach_ctx *c, int rule)
{
	const struct interp_rule *ir = NULL;
	for (size_t i = 0; i < ARRAY_LEN(interp_rules); i++)
		if (interp_rules[i].rule == rule)
			ir = &interp_rules[i];
	struct wh_node *who = first_kept_elf(c, name_pred, (void *)ir->triggers);
	if (!who)
		return;
	c->rule_fired[ir->rule] = 1;
	for (const char *const *d = ir->dirs; *d; d++)
		reach_keep_pattern(c, *d, ir->rule, who, NULL);
	keep_env_dirs(c, ir->env, ir->rule, who);
}

static int env_sets_locale(struct reach_ctx *c)
{
	for (size_t i = 0; i < c->env.n; i++) {
		const char *kv = c->env.v[i];
		if (strncmp(kv, "LANG=", 5) && strncmp(kv, "LC_", 3) && strncmp(kv, "LANGUAGE=", 9))
			continue;
		const char *v = strchr(kv, '=') + 1;
		if (*v && strcmp(v, "C") && strcmp(v, "POSIX"))
			return 1;
	}
	return 0;
}

static void rule_locale(struct reach_ctx *c)
{
	if (c->rule_state[R_LOCALE] < 0 && !env_sets_locale(c))
		return;
	c->rule_fired[R_LOCALE] = 1;
	static const char *const dirs[] = {"/usr/lib/locale", "/usr/share/locale/locale.alias", "/etc/locale.alias",
	                                   "/etc/default/locale", "/etc/locale.conf"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		reach_keep_path(c, dirs[i], R_LOCALE, NULL, "Env LANG/LC_*", 1);
	keep_env_dirs(c, "LOCPATH", R_LOCALE, NULL);
}

static void rule_tzdata(struct reach_ctx *c)
{
	const char *tz = reach_env_get(c, "TZ");
	if (c->rule_state[R_TZDATA] < 0 && !(tz && *tz))
		return;
	c->rule_fired[R_TZDATA] = 1;
	int whole = c->rule_state[R_TZDATA] > 0;
	if (tz && *tz && !whole) {
		const char *z = tz[0] == ':' ? tz + 1 : tz;
		char p[PATHMAX];
		if (z[0] == '/')
			snprintf(p, sizeof p, "%s", z);
		else
			snprintf(p, sizeof p, "/usr/share/zoneinfo/%s", z);
		struct wh_node *n = reach_keep_path(c, p, R_TZDATA, NULL, "Env TZ", 0);
		reach_keep_path(c, "/usr/share/zoneinfo/posixrules", R_TZDATA, NULL, "Env TZ", 0);
		if (!n)
			whole = 1; /* a POSIX TZ string or an unknown zone: keep them all */
	}
	if (whole)
		reach_keep_path(c, "/usr/share/zoneinfo", R_TZDATA, NULL, "tzdata", 1);
}

/* system(3) and popen(3) run "/bin/sh -c CMD": /bin/sh as written, with
 * the links on the way (merged /usr: the /bin link, /usr/bin/sh, dash). */
static void rule_sh(struct reach_ctx *c)
{
	uint32_t bits = ELF_IMP_SHELL;
	struct wh_node *who = first_kept_elf(c, imports_pred, &bits);
	if (!who)
		return;
	c->rule_fired[R_SH] = 1;
	if (!reach_keep_path(c, "/bin/sh", R_SH, who, NULL, 0))
		reach_unres(c, who, "/bin/sh (system(3) or popen(3) imported)");
}

static void rule_perl(struct reach_ctx *c)
{
	rule_interp(c, R_PERL);
}

static void rule_ruby(struct reach_ctx *c)
{
	rule_interp(c, R_RUBY);
}

static void rule_node(struct reach_ctx *c)
{
	rule_interp(c, R_NODE);
}

/* Programs that find their files by themselves, from directories built
 * into them: a version-control tool execs its helpers by computed names
 * from its helper directory and copies templates from its share
 * directory; a database server reads its share directory (error
 * messages, character sets, bootstrap SQL). Each directory is kept whole. */
static const char *const db_servers[] = {"mariadbd", "mysqld", NULL};

static const struct prog_dirs {
	int rule;
	const char *const *progs, *const *dirs;
} prog_dirs[] = {
	{R_VCS, (const char *const[]){"git", NULL},
	 (const char *const[]){"/usr/lib/git-core", "/usr/libexec/git-core", "/usr/local/libexec/git-core",
	                       "/usr/share/git-core/templates", "/usr/local/share/git-core/templates", NULL}},
	{R_DBSERVER, db_servers,
	 (const char *const[]){"/usr/share/mysql", "/usr/share/mariadb", "/usr/local/mysql/share", NULL}},
};

static void rule_prog_dirs(struct reach_ctx *c, int rule)
{
	for (size_t i = 0; i < ARRAY_LEN(prog_dirs); i++) {
		if (prog_dirs[i].rule != rule)
			continue;
		struct wh_node *who = first_kept_elf(c, name_pred, (void *)prog_dirs[i].progs);
		if (!who)
			continue;
		c->rule_fired[rule] = 1;
		for (const char *const *d = prog_dirs[i].dirs; *d; d++)
			reach_keep_path(c, *d, rule, who, NULL, 1);
	}
}

static void rule_vcs(struct reach_ctx *c)
{
	rule_prog_dirs(c, R_VCS);
}

/* A database server's share directory, and the data directory built into
 * it (a directory under /var/lib its strings name, mariadbd's
 * /var/lib/mysql): a data directory, kept whole (reach_data.c). */
static void rule_dbserver(struct reach_ctx *c)
{
	rule_prog_dirs(c, R_DBSERVER);
	if (!c->rule_fired[R_DBSERVER])
		return;
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		const struct elf_info *e = reach_node_elf(n);
		if (!e || !name_pred(n, e, (void *)db_servers))
			continue;
		char p[PATHMAX], kind[PATHMAX + 32], named[PATHMAX + 64];
		reach_node_path(n, p);
		snprintf(kind, sizeof kind, "datadir built into %s", p);
		snprintf(named, sizeof named, "%s names it (its built-in datadir)", p);
		for (size_t k = 0; k < e->n_paths; k++)
			if (!strncmp(e->paths[k], "/var/lib/", 9))
				reach_data_add(c, e->paths[k], kind, n, named);
	}
}

/* A JVM finds its home from its launcher's real path (HOME/bin/java):
 * HOME/lib (lib/modules, jvm.cfg, the libraries it dlopens: libjvm.so,
 * libjava.so, libnio.so...), HOME/conf and HOME/release, kept whole. */
static void rule_jvm(struct reach_ctx *c)
{
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		if (!reach_node_elf(n) || !n->parent || strcmp(n->parent->name, "bin") || !n->parent->parent)
			continue;
		char home[PATHMAX], p[PATHMAX + 32];
		reach_node_path(n->parent->parent, home);
		snprintf(p, sizeof p, "%s/lib/jvm.cfg", strcmp(home, "/") ? home : "");
		if (!reach_node_at(c, p))
			continue;
		c->rule_fired[R_JVM] = 1;
		static const char *const parts[] = {"lib", "conf", "release"};
		for (size_t k = 0; k < ARRAY_LEN(parts); k++) {
			snprintf(p, sizeof p, "%s/%s", home, parts[k]);
			reach_keep_path(c, p, R_JVM, n, NULL, 1);
		}
	}
}

/* The run-time rules, in the order they are applied (enum reach_rule's). */
static const struct rt_rule {
	int rule;
	const char *name;                   /* for --rule NAME=on|off and the report */
	void (*apply)(struct reach_ctx *c); /* sets rule_fired[rule] when it keeps something */
	int every_round;                    /* applied again after it fired (python: per version) */
} rt_rules[R_COUNT - REACH_RT_FIRST] = {
	{R_NSS, "nss", rule_nss, 0},
	{R_LIBGCC_S, "libgcc_s", rule_libgcc_s, 0},
	{R_GCONV, "gconv", rule_gconv, 0},
	{R_CERTS, "certs", rule_certs, 1},
	{R_OPENSSL_MODULES, "openssl-modules", rule_openssl_modules, 0},
	{R_PYTHON, "python", rule_python, 1},
	{R_PERL, "perl", rule_perl, 0},
	{R_RUBY, "ruby", rule_ruby, 0},
	{R_NODE, "node", rule_node, 0},
	{R_LOCALE, "locale", rule_locale, 0},
	{R_TZDATA, "tzdata", rule_tzdata, 0},
	{R_SH, "sh", rule_sh, 0},
	{R_VCS, "vcs", rule_vcs, 0},
	{R_DBSERVER, "dbserver", rule_dbserver, 0},
	{R_JVM, "jvm", rule_jvm, 1},
};

const char *reach_rt_rule_name(int rule)
{
	return rule >= REACH_RT_FIRST && rule < R_COUNT ? rt_rules[rule - REACH_RT_FIRST].name : "?";
}

int reach_apply_rules(struct reach_ctx *c)
{
	size_t before = c->qlen;
	for (size_t i = 0; i < ARRAY_LEN(rt_rules); i++) {
		const struct rt_rule *rr = &rt_rules[i];
		if (rule_on(c, rr->rule) && (rr->every_round || !c->rule_fired[rr->rule]))
			rr->apply(c);
	}
	return c->qlen > before;
}

int reach_set_rules(struct reach_ctx *c, const struct str_list *l, struct wh_error *err)
{
	for (int r = REACH_RT_FIRST; r < R_COUNT; r++)
		c->rule_state[r] = (r == R_LOCALE || r == R_TZDATA) ? -1 : 1;
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->v[i];
		const char *eq = strchr(s, '=');
		int val = -2;
		if (eq && (!strcmp(eq + 1, "on") || !strcmp(eq + 1, "true") || !strcmp(eq + 1, "1")))
			val = 1;
		else if (eq && (!strcmp(eq + 1, "off") || !strcmp(eq + 1, "false") || !strcmp(eq + 1, "0")))
			val = 0;
		int rule = -1;
		for (int r = REACH_RT_FIRST; eq && r < R_COUNT; r++)
			if (strlen(rt_rules[r - REACH_RT_FIRST].name) == (size_t)(eq - s) && !strncmp(rt_rules[r - REACH_RT_FIRST].name, s, (size_t)(eq - s)))
				rule = r;
		if (rule < 0 || val == -2) {
			char names[512] = "";
			for (int r = REACH_RT_FIRST; r < R_COUNT; r++)
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", r > REACH_RT_FIRST ? ", " : "",
				         rt_rules[r - REACH_RT_FIRST].name);
			return wh_err(err, WH_EINPUT, "--rule \"%s\": expected NAME=on|off with NAME one of %s", s, names);
		}
		c->rule_state[rule] = val;
	}
	return 0;
}
