/* reach_roots: where the closure starts. The image config (Entrypoint
 * and Cmd, or the --entrypoint/--cmd overrides; User; WorkingDir; Env
 * LD_PRELOAD), /etc/ld.so.preload, the always-kept paths, and the user's
 * lists (--keep, --keep-from, --keep-exe, --keep-package). The User's home
 * and the Volumes are data directories (reach_data.c). */
#include "analyzer/reach_int.h"

#include <elf.h>
#include <jansson.h>
#include <stdio.h>

#include "analyzer/elf.h"

static void json_strv(json_t *arr, struct strv *out)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			sv_push(out, xstrdup(json_string_value(v)));
}

static void json_words(json_t *arr, struct str_list *out)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			str_list_add(out, json_string_value(v));
}

/* --entrypoint/--cmd values: one argv word each, or one JSON array. */
static int override_argv(const struct str_list *l, struct str_list *out, const char *flag, struct wh_error *err)
{
	if (l->n == 1 && l->v[0][0] == '[') {
		json_error_t je;
		json_t *j = json_loads(l->v[0], 0, &je);
		if (!json_is_array(j)) {
			json_decref(j);
			return wh_err(err, WH_EINPUT, "%s: \"%s\" is not a JSON array of strings: %s", flag, l->v[0], je.text);
		}
		json_words(j, out);
		json_decref(j);
		return 0;
	}
	if (l->n == 1 && !l->v[0][0])
		return 0;
	for (size_t i = 0; i < l->n; i++)
		str_list_add(out, l->v[i]);
	return 0;
}

int reach_run_argv(const struct analysis *a, const struct str_list *entrypoint, int entrypoint_set,
                   const struct str_list *cmd_override, int cmd_set, struct str_list *entry, struct str_list *cmd,
                   struct wh_error *err)
{
	int rc = 0;
	if (entrypoint_set)
		rc = override_argv(entrypoint, entry, "--entrypoint", err);
	else
		json_words(image_config_get(&a->img, "Entrypoint"), entry);
	if (rc == 0 && cmd_set)
		rc = override_argv(cmd_override, cmd, "--cmd", err);
	else if (!entrypoint_set) /* docker: --entrypoint clears the image's Cmd */
		json_words(image_config_get(&a->img, "Cmd"), cmd);
	return rc;
}

static void root_argv(struct reach_ctx *c, const struct str_list *entry, const struct str_list *cmd)
{
	struct strv argv = {0};
	for (size_t i = 0; i < entry->n; i++)
		sv_push(&argv, xstrdup(entry->v[i]));
	for (size_t i = 0; i < cmd->n; i++)
		sv_push(&argv, xstrdup(cmd->v[i]));
	if (argv.n) {
		int rule = entry->n ? R_ENTRYPOINT : R_CMD;
		const char *what = entry->n ? "Entrypoint" : "Cmd";
		struct pathres pr;
		struct wh_node *prog = reach_find_command(c, argv.v[0], &pr, NULL);
		pathres_free(&pr);
		if (!prog)
			reach_unres(c, NULL, "%s command \"%s\"%s", what, argv.v[0],
			           strchr(argv.v[0], '/') ? "" : " (not found on PATH)");
		reach_follow_argv(c, argv.v, argv.n, NULL, rule, what, 1);
		/* Cmd after an Entrypoint: often run by it ("exec \"$@\"", tini --) */
		if (entry->n && cmd->n)
			reach_follow_argv(c, cmd->v, cmd->n, NULL, R_CMD, "Cmd", 1);
	}
	sv_free(&argv);
}

/* The User's /etc/passwd entry; *home: its home directory, or NULL. */
static void root_user(struct reach_ctx *c, char **home)
{
	*home = NULL;
	/* the runtime reads /etc/passwd and /etc/group to turn a named User
	 * (or group) into ids; root and numeric ids need neither (what the
	 * programs themselves look up is the nss rule's) */
	const char *u = image_config_str(&c->a->img, "User");
	if (!u || !*u)
		return;
	char *user = xstrdup(u);
	char *colon = strchr(user, ':');
	if (colon)
		*colon = 0;
	int numeric = user[0] && strspn(user, "0123456789") == strlen(user);
	int gnumeric = !colon || strspn(colon + 1, "0123456789") == strlen(colon + 1);
	if (!numeric || !gnumeric) {
		reach_keep_path(c, "/etc/passwd", R_USER, NULL, "User", 0);
		reach_keep_path(c, "/etc/group", R_USER, NULL, "User", 0);
	}
	if (!strcmp(user, "root") || (numeric && atol(user) == 0)) {
		free(user);
		return;
	}
	struct wh_node *pw = reach_node_at(c, "/etc/passwd");
	const char *txt = pw && pw->e && pw->e->extra && pw->e->extra->content ? (const char *)pw->e->extra->content : NULL;
	int found = 0;
	while (txt && *txt) {
		size_t ll = strcspn(txt, "\n");
		char *line = xstrndup(txt, ll);
		txt += ll + (txt[ll] ? 1 : 0);
		char *f[7] = {0};
		char *p = line;
		for (int k = 0; k < 7 && p; k++) {
			f[k] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = 0;
		}
		if (f[5] && ((numeric && f[2] && !strcmp(f[2], user)) || !strcmp(f[0], user))) {
			found = 1;
			*home = xstrdup(f[5]); /* a data directory (reach_data.c) */
			free(line);
			break;
		}
		free(line);
	}
	if (!found && !numeric)
		reach_unres(c, NULL, "user \"%s\" (User) in /etc/passwd", user);
	free(user);
}

static void root_preload(struct reach_ctx *c)
{
	struct pathres pr;
	struct wh_node *pl = reach_resolve(c, NULL, "/etc/ld.so.preload", &pr, NULL);
	struct strv names = {0};
	if (pl && pl->type == WH_T_REG) {
		reach_keep_res(c, &pr, R_PRELOAD, NULL, "/etc/ld.so.preload", 0);
		const char *txt = pl->e && pl->e->extra ? (const char *)pl->e->extra->content : NULL;
		if (txt) {
			char *d = xstrdup(txt), *save = NULL;
			for (char *h = strchr(d, '#'); h; h = strchr(h, '#')) /* comments to the end of line */
				while (*h && *h != '\n')
					*h++ = ' ';
			for (char *tok = strtok_r(d, " \t\n:", &save); tok; tok = strtok_r(NULL, " \t\n:", &save))
				sv_push(&names, xstrdup(tok));
			free(d);
		}
	}
	pathres_free(&pr);
	size_t from_file = names.n;
	const char *env = reach_env_get(c, "LD_PRELOAD");
	if (env) {
		char *d = xstrdup(env), *save = NULL;
		for (char *tok = strtok_r(d, " :", &save); tok; tok = strtok_r(NULL, " :", &save))
			sv_push(&names, xstrdup(tok));
		free(d);
	}
	for (size_t i = 0; i < names.n; i++) {
		const char *what = i < from_file ? "/etc/ld.so.preload" : "Env LD_PRELOAD";
		struct wh_node *n = NULL;
		if (strchr(names.v[i], '/')) {
			n = reach_keep_path(c, names.v[i], R_PRELOAD, i < from_file ? pl : NULL, what, 0);
		} else {
			/* searched like a DT_NEEDED of the executable; assume the image's usual machine */
			const struct elf_info *le = NULL;
			for (size_t k = 0; k < c->r->n_items && !le; k++)
				le = reach_node_elf(c->r->items[k].node);
			uint16_t m = le ? le->machine : EM_X86_64;
			uint8_t cl = le ? le->elf_class : ELFCLASS64;
			n = reach_keep_dlopen_lib(c, names.v[i], m, cl, R_PRELOAD, i < from_file ? pl : NULL);
		}
		if (!n)
			reach_unres(c, i < from_file ? pl : NULL, "%s (%s)", names.v[i], what);
	}
	sv_free(&names);
}

static void roots_always(struct reach_ctx *c)
{
	if (c->workdir_node && c->workdir_node != c->t->root)
		reach_keep(c, c->workdir_node, R_ALWAYS, NULL, "WorkingDir", reach_is_system_dir(c->workdir) ? 0 : F_SUBTREE);
	static const char *const nodes[] = {"/tmp", "/var/tmp", "/run", "/var/run", "/etc/os-release",
	                                    "/etc/debian_version", "/etc/alpine-release", "/etc/redhat-release",
	                                    "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/localtime",
	                                    "/etc/timezone", "/etc/mtab", "/proc", "/sys"};
	for (size_t i = 0; i < ARRAY_LEN(nodes); i++)
		reach_keep_path(c, nodes[i], R_ALWAYS, NULL, NULL, 0);
	reach_keep_path(c, "/dev", R_ALWAYS, NULL, NULL, 1);
}

/* A --keep-from line's pattern, decoded from util_escape's text: \\ and
 * \xHH become the byte; any other backslash stays for fnmatch (so a
 * hand-written "\*" still means a literal star). */
static char *keep_from_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	static const char hex[] = "0123456789abcdef0123456789ABCDEF";
	while (*s) {
		const char *h1, *h2;
		if (s[0] == '\\' && s[1] == '\\') {
			*o++ = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3] && (h1 = strchr(hex, s[2])) && (h2 = strchr(hex, s[3]))) {
			*o++ = (char)(((h1 - hex) % 16) << 4 | ((h2 - hex) % 16));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return out;
}

static int read_keep_from(struct reach_ctx *c, const char *file, struct strv *keeps, struct wh_error *err)
{
	struct buf b = {0};
	struct wh_error e = {0};
	if (read_host_file(file, &b, 16u << 20, &e) < 0)
		return wh_err(err, WH_EINPUT, "--keep-from %s: %s", file, e.msg);
	buf_append(&b, "", 1);
	char *s = (char *)b.data, *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		size_t l = strlen(line);
		while (l && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (!*line || *line == '#')
			continue;
		if (*line == '-')
			sv_push(&c->drop, keep_from_decode(line + 1 + strspn(line + 1, " \t")));
		else
			sv_push(keeps, keep_from_decode(line + (*line == '+' ? 1 + strspn(line + 1, " \t") : 0)));
	}
	buf_free(&b);
	return 0;
}

void reach_image_facts(struct reach_ctx *c)
{
	struct analysis *a = c->a;
	json_strv(image_config_get(&a->img, "Env"), &c->env);
	const char *path = reach_env_get(c, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char *pd = xstrdup(path), *save = NULL;
	for (char *tok = strtok_r(pd, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		sv_push(&c->path, xstrdup(tok));
	free(pd);
	const char *wd = image_config_str(&a->img, "WorkingDir");
	snprintf(c->workdir, sizeof c->workdir, "%s%s", wd && wd[0] == '/' ? "" : "/", wd ? wd : "");
	struct pathres pr;
	struct wh_error e = {0};
	pathres_resolve(c->t, NULL, c->workdir, PATHRES_FOLLOW, &pr, &e);
	c->workdir_node = pr.node && pr.node->type == WH_T_DIR ? pr.node : c->t->root;
	pathres_free(&pr);
}

/* --keep-exe NAME: the program wherever the PATH has it (/usr/bin/sh and,
 * through the merged-/usr link, /bin/sh: a program may name either), or
 * the path NAME. */
static void keep_exe(struct reach_ctx *c, const char *name)
{
	struct pathres pr;
	int found = 0;
	if (strchr(name, '/')) {
		found = reach_find_command(c, name, &pr, NULL) != NULL;
		if (found)
			reach_keep_res(c, &pr, R_KEEP_EXE, NULL, "--keep-exe", 0);
		pathres_free(&pr);
	}
	for (size_t i = 0; !strchr(name, '/') && i < c->path.n; i++) {
		char p[PATHMAX];
		snprintf(p, sizeof p, "%s/%s", c->path.v[i][0] ? c->path.v[i] : ".", name);
		if (reach_find_command(c, p, &pr, NULL) && reach_is_executable(c, pr.node)) {
			reach_keep_res(c, &pr, R_KEEP_EXE, NULL, "--keep-exe", 0);
			found = 1;
		}
		pathres_free(&pr);
	}
	if (!found)
		reach_unres(c, NULL, "--keep-exe %s: not found on PATH", name);
}

/* --keep-package NAME: the package's own paths (the last component is
 * not followed). */
static void keep_package(struct reach_ctx *c, const char *name)
{
	const struct reach_pkg_hooks *pkg = &c->pkg;
	const char *const *paths = NULL;
	long np = pkg->files_of ? pkg->files_of(pkg->ctx, name, &paths) : -1;
	if (np < 0) {
		reach_unres(c, NULL, "--keep-package %s: %s", name,
		            pkg->files_of ? "no such package" : "no package database reader");
		return;
	}
	for (long k = 0; k < np; k++) {
		struct pathres pr;
		struct wh_error e = {0};
		if (pathres_resolve(c->t, NULL, paths[k], 0, &pr, &e) == 0 && pr.node)
			reach_keep_res(c, &pr, R_KEEP_PACKAGE, NULL, "--keep-package", 0);
		pathres_free(&pr);
	}
}

/* A path a probe touched: the node itself (a symlink as a symlink: its
 * target follows as for any kept link) with the links on the way; a
 * directory without its members, which are kept only when something
 * else keeps them (the probe listed it, entered it or looked at it). */
static void keep_probed(struct reach_ctx *c, const char *path, const char *why)
{
	struct pathres pr;
	struct wh_error e = {0};
	if (pathres_resolve(c->t, NULL, path, 0, &pr, &e) == 0 && pr.node)
		reach_keep_res(c, &pr, R_PROBE, NULL, why, 0);
	pathres_free(&pr);
}

/* The user's lists: what --keep and --keep-from name, --keep-exe, --keep-package. */
static void roots_user_lists(struct reach_ctx *c, struct strv *keeps, struct strv *from_keeps)
{
	const struct reach_opts *o = c->o;
	for (size_t i = 0; i < keeps->n; i++)
		if (!reach_keep_pattern(c, keeps->v[i], R_KEEP, NULL, "--keep"))
			reach_unres(c, NULL, "--keep %s: nothing in the image matches", keeps->v[i]);
	for (size_t i = 0; i < o->keep_probe.n; i++)
		keep_probed(c, o->keep_probe.v[i], o->keep_probe_why[i]);
	for (size_t i = 0; i < from_keeps->n; i++)
		if (!reach_keep_pattern(c, from_keeps->v[i], R_KEEP_FROM, NULL, "--keep-from"))
			reach_unres(c, NULL, "--keep-from line +%s: nothing in the image matches", from_keeps->v[i]);
	for (size_t i = 0; i < o->keep_exe.n; i++)
		keep_exe(c, o->keep_exe.v[i]);
	for (size_t i = 0; i < o->keep_package.n; i++)
		keep_package(c, o->keep_package.v[i]);
}

int reach_roots(struct reach_ctx *c, struct wh_error *err)
{
	const struct reach_opts *o = c->o;
	struct analysis *a = c->a;
	int rc = 0;
	for (size_t i = 0; i < o->drop.n; i++)
		sv_push(&c->drop, xstrdup(o->drop.v[i]));
	struct strv keeps = {0}, from_keeps = {0};
	for (size_t i = 0; i < o->keep.n; i++)
		sv_push(&keeps, xstrdup(o->keep.v[i]));
	for (size_t i = 0; i < o->keep_from.n && rc == 0; i++)
		rc = read_keep_from(c, o->keep_from.v[i], &from_keeps, err);
	struct str_list entry = {0}, cmd = {0};
	if (rc == 0)
		rc = reach_run_argv(a, &o->entrypoint, o->entrypoint_set, &o->cmd, o->cmd_set, &entry, &cmd, err);
	if (rc == 0) {
		reach_setup_loader(c);
		reach_keep(c, c->t->root, R_ALWAYS, NULL, "the root directory", 0);
		root_argv(c, &entry, &cmd);
		char *home;
		root_user(c, &home);
		root_preload(c);
		roots_always(c);
		reach_data_roots(c, home);
		free(home);
		roots_user_lists(c, &keeps, &from_keeps);
	}
	sv_free(&keeps);
	sv_free(&from_keeps);
	str_list_free(&entry);
	str_list_free(&cmd);
	return rc;
}
