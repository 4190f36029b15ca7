/* reach_cmd: commands and scripts. A command line (the image config's,
 * or one a shell script runs) keeps the program it runs, the files its
 * arguments name, and what wrappers ("env", "exec", "gosu" ...), "sh -c"
 * strings, sourced files and "#!" scripts run in turn. Shell text is read
 * by analyzer/shell.c; this file decides what its commands run. */
#include "analyzer/reach_int.h"

#include <stdio.h>

#include "analyzer/shell.h"

static int is_shell_name(const char *b)
{
	static const char *const sh[] = {"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "posh", "yash"};
	for (size_t i = 0; i < ARRAY_LEN(sh); i++)
		if (!strcmp(b, sh[i]))
			return 1;
	return 0;
}

static int is_executable_file(struct reach_ctx *c, struct wh_node *n)
{
	struct wh_node *d = pathres_data_node(c->t, n);
	return d && d->type == WH_T_REG && d->e && (d->e->mode & 0111);
}

/* A command name as execvp and the shells find it: a name with '/' is a
 * path (relative to WorkingDir), else the first executable file on PATH. */
struct wh_node *reach_find_command(struct reach_ctx *c, const char *name, struct pathres *pr,
                                    const struct wh_node *who)
{
	memset(pr, 0, sizeof *pr);
	if (!name[0])
		return NULL;
	if (strchr(name, '/')) {
		struct wh_node *n = reach_resolve(c, NULL, name, pr, who);
		return n && n->type != WH_T_DIR ? n : NULL;
	}
	for (size_t i = 0; i < c->path.n; i++) {
		char p[PATHMAX];
		snprintf(p, sizeof p, "%s/%s", c->path.v[i][0] ? c->path.v[i] : ".", name);
		struct pathres t;
		struct wh_node *n = reach_resolve(c, NULL, p, &t, who);
		if (n && is_executable_file(c, n)) {
			*pr = t;
			return n;
		}
		pathres_free(&t);
	}
	return NULL;
}

static const char *const shell_builtins[] = {
	":", ".", "source", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command", "compgen",
	"complete", "continue", "declare", "dirs", "disown", "echo", "enable", "eval", "exec", "exit", "export",
	"false", "fc", "fg", "getopts", "hash", "help", "history", "jobs", "kill", "let", "local", "logout",
	"mapfile", "popd", "printf", "pushd", "pwd", "read", "readarray", "readonly", "return", "set", "shift",
	"shopt", "suspend", "test", "[", "[[", "]]", "times", "trap", "true", "type", "typeset", "ulimit",
	"umask", "unalias", "unset", "wait", "fi", "done", "esac", "}", "then", "else", "do", "in", "]",
};

static int is_builtin(const char *w)
{
	for (size_t i = 0; i < ARRAY_LEN(shell_builtins); i++)
		if (!strcmp(w, shell_builtins[i]))
			return 1;
	return 0;
}

/* Programs that run their arguments as a command: how many plain
 * arguments come before it, and which options take a value. */
struct wrapper {
	const char *name;
	int skip;
	const char *valopts; /* space-separated */
};
static const struct wrapper wrappers[] = {
	{"exec", 0, "-a"}, {"command", 0, ""}, {"builtin", 0, ""}, {"time", 0, "-f -o"},
	{"env", 0, "-u -C -S --unset --chdir"}, {"nohup", 0, ""}, {"nice", 0, "-n --adjustment"},
	{"timeout", 1, "-s -k --signal --kill-after"}, {"gosu", 1, ""}, {"su-exec", 1, ""},
	{"tini", 0, "-e -p -l"}, {"tini-static", 0, "-e -p"}, {"dumb-init", 0, "-r --rewrite"},
	{"catatonit", 0, ""}, {"setsid", 0, ""}, {"stdbuf", 0, "-i -o -e"}, {"xargs", 0, "-a -d -E -I -L -n -P -s"},
	{"sudo", 0, "-u -g -C -D -h -p -R -T -U"}, {"setpriv", 0, "--reuid --regid --groups --inh-caps --bounding-set"},
	{"ionice", 0, "-c -n -p"}, {"taskset", 1, ""}, {"chrt", 1, ""}, {"s6-setuidgid", 1, ""},
	{"chpst", 0, "-u -U -e -n -l -L"}, {"runuser", 0, "-u -g -G"}, {"unshare", 0, ""}, {"flock", 1, "-w -E"},
	{"numactl", 0, ""}, {"prlimit", 0, ""}, {"strace", 0, "-o -e -p -s"}, {"valgrind", 0, ""},
	{"with-contenv", 0, ""}, {"s6-envdir", 1, ""}, {"entrypoint", 0, ""},
};

static const struct wrapper *find_wrapper(const char *b)
{
	for (size_t i = 0; i < ARRAY_LEN(wrappers); i++)
		if (!strcmp(b, wrappers[i].name))
			return &wrappers[i];
	return NULL;
}

static int takes_value(const struct wrapper *w, const char *opt)
{
	const char *p = w->valopts;
	size_t l = strlen(opt);
	while ((p = strstr(p, opt))) {
		if ((p == w->valopts || p[-1] == ' ') && (p[l] == ' ' || !p[l]))
			return 1;
		p += l;
	}
	return 0;
}

/* Keep the words that name existing files (absolute, or relative to
 * WorkingDir for a root): configuration files, scripts given to
 * interpreters, "-c/etc/x.conf", "--config=/etc/x". */
static void keep_arg_paths(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int root)
{
	for (size_t i = 0; i < n; i++) {
		const char *w = argv[i];
		if (strchr(w, SHELL_UNKNOWN) || !w[0])
			continue;
		const char *eq = w[0] == '-' ? strchr(w, '=') : NULL;
		const char *p = eq ? eq + 1 : w;
		if (w[0] == '-' && !eq) {
			/* "-c/etc/x" */
			const char *sl = strchr(w, '/');
			if (!sl || sl == w)
				continue;
			p = sl;
		}
		if (p[0] != '/' && !(root && p[0] != '-'))
			continue;
		if (reach_has_glob(p))
			continue;
		struct pathres pr;
		struct wh_error e = {0};
		if (pathres_resolve(c->t, c->workdir_node, p, PATHRES_FOLLOW, &pr, &e) == 0 && pr.node &&
		    pr.node != c->t->root && (pr.node->type != WH_T_DIR || root))
			reach_keep_res(c, &pr, R_ARG, from, NULL, root && pr.node->type == WH_T_DIR ? F_SUBTREE : 0);
		pathres_free(&pr);
	}
}

/* ---- shell text ---- */

static const char *shell_lookup(void *ctx, const char *name)
{
	return reach_env_get(ctx, name);
}

static void follow_cmd(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int rule, const char *what,
                       int quiet, const struct shell_script *s, const struct shell_cmd *sc);

/* Read shell text and follow its commands. script: the file it is (its
 * path is $0; NULL for "sh -c" text of the image config); args: "$@" when
 * known (NULL: not known); rule: what to call the reason of the text's own
 * commands (those of $(...) are "script"). */
static void parse_shell(struct reach_ctx *c, const char *text, size_t len, struct wh_node *script, char **args,
                        size_t nargs, int rule)
{
	if (c->depth > MAX_DEPTH || !text)
		return;
	char p[PATHMAX];
	struct shell_opts o = {.lookup = shell_lookup, .ctx = c, .arg0 = script ? reach_node_path(script, p) : NULL,
	                       .args = args, .nargs = nargs, .args_known = args != NULL,
	                       .max_nesting = (unsigned)(MAX_DEPTH - c->depth)};
	struct shell_script s;
	shell_parse(text, len, &o, &s);
	for (size_t i = 0; i < s.ncmds; i++) {
		const struct shell_cmd *sc = &s.cmds[i];
		c->depth += (int)sc->nested;
		follow_cmd(c, sc->argv, sc->argc, script, sc->nested ? R_SCRIPT : rule, NULL, 0, &s, sc);
		c->depth -= (int)sc->nested;
	}
	shell_script_free(&s);
}

/* Parse a file's captured content as shell text. */
static void parse_file(struct reach_ctx *c, struct wh_node *d, char **args, size_t nargs)
{
	c->depth++;
	parse_shell(c, (const char *)d->e->extra->content, d->e->extra->content_len, d, args, nargs, R_SCRIPT);
	c->depth--;
}

static void parse_string(struct reach_ctx *c, const char *text, struct wh_node *from, int rule)
{
	c->depth++;
	parse_shell(c, text, strlen(text), from, NULL, 0, rule);
	c->depth--;
}

static int has_content(const struct wh_node *d)
{
	return d && d->e && d->e->extra && d->e->extra->content;
}

/* ---- one command ---- */

/* ". FILE" and "source FILE": keep it and follow its commands. */
static void follow_source(struct reach_ctx *c, const char *name, struct wh_node *from, int quiet)
{
	if (strchr(name, SHELL_UNKNOWN))
		return;
	struct pathres pr;
	struct wh_node *sn = reach_find_command(c, name, &pr, from);
	if (!sn && !strchr(name, '/')) {
		pathres_free(&pr);
		sn = reach_resolve(c, NULL, name, &pr, from);
	}
	if (sn && sn->type != WH_T_DIR) {
		reach_keep_res(c, &pr, R_SCRIPT, from, NULL, 0);
		struct wh_node *d = pathres_data_node(c->t, sn);
		if (has_content(d))
			parse_file(c, d, NULL, 0);
	} else if (!quiet) {
		reach_unres(c, from, "sourced file \"%s\"", name);
	}
	pathres_free(&pr);
}

/* A wrapper's own options and arguments; follow the command it runs. */
static void follow_wrapped(struct reach_ctx *c, const struct wrapper *w, const char *b, char **argv, size_t n,
                           size_t i, struct wh_node *from, int rule, const char *what, int quiet)
{
	size_t j = i + 1, skipped = 0;
	for (; j < n; j++) {
		const char *a = argv[j];
		if (!strcmp(a, "--")) {
			j++;
			break;
		}
		if (a[0] == '-' && a[1]) {
			if (!strcmp(b, "env") && !strcmp(a, "-S") && j + 1 < n) {
				/* env -S "cmd args": split */
				parse_string(c, argv[j + 1], from, rule);
				return;
			}
			if (takes_value(w, a))
				j++;
			continue;
		}
		if (!strcmp(b, "env") && shell_is_assignment(a))
			continue;
		if ((int)skipped < w->skip) {
			skipped++;
			continue;
		}
		break;
	}
	if (j < n) {
		c->depth++;
		follow_cmd(c, argv + j, n - j, from, rule, what, quiet, NULL, NULL);
		c->depth--;
	}
}

/* sh -c STRING [ARG0 ARGS...], sh SCRIPT ARGS (and busybox sh ...). */
static void follow_shell(struct reach_ctx *c, const char *b, char **argv, size_t n, size_t i, struct wh_node *from,
                         struct wh_node *prog, int quiet)
{
	int root = from == NULL;
	size_t j = i + 1;
	if (!strcmp(b, "busybox") && j < n && is_shell_name(argv[j]))
		j++;
	for (; j < n; j++) {
		if (!strcmp(argv[j], "-c") && j + 1 < n) {
			c->depth++;
			parse_shell(c, argv[j + 1], strlen(argv[j + 1]), from ? from : prog, argv + j + 2,
			            n - j - 2 > 0 ? n - j - 2 : 0, root ? R_SHELL : R_SCRIPT);
			c->depth--;
			return;
		}
		if (argv[j][0] != '-' && argv[j][0] != '+')
			break;
		if (!strcmp(argv[j], "-o") || !strcmp(argv[j], "+o"))
			j++;
	}
	if (j >= n || strchr(argv[j], SHELL_UNKNOWN))
		return;
	struct pathres pr;
	struct wh_node *sn = reach_resolve(c, NULL, argv[j], &pr, from);
	if (sn && sn->type != WH_T_DIR) {
		reach_keep_res(c, &pr, R_ARG, from ? from : prog, NULL, 0);
		struct wh_node *d = pathres_data_node(c->t, sn);
		if (has_content(d)) {
			parse_file(c, d, argv + j + 1, n - j - 1);
			reach_set_item_flag(c, d, F_SCRIPT_DONE);
		}
	} else if (!quiet) {
		reach_unres(c, from ? from : prog, "script \"%s\"", argv[j]);
	}
	pathres_free(&pr);
}

/* The index of the command word: after assignments and the keywords that
 * prefix a command; n when there is none. */
static size_t command_word(char **argv, size_t n)
{
	static const char *const prefix[] = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "(",
	                                      "fi", "done", "esac", "}"};
	size_t i = 0;
	while (i < n && shell_is_assignment(argv[i]))
		i++;
	for (int again = 1; again && i < n;) {
		again = 0;
		for (size_t k = 0; k < ARRAY_LEN(prefix); k++)
			if (!strcmp(argv[i], prefix[k])) {
				i++;
				again = 1;
				break;
			}
	}
	return i;
}

/* A command word whose value is not known. */
static void unknown_command(struct reach_ctx *c, const char *cmd, struct wh_node *from)
{
	char *w = xstrdup(cmd);
	for (char *p = w; *p; p++)
		if (*p == SHELL_UNKNOWN)
			*p = '$';
	reach_unres(c, from, "command \"%s\" (an expansion whose value is not known)", w);
	free(w);
}

/* The program a command runs, after the shell's own handling
 * (builtins, functions, ". FILE", eval) and wrappers. */
static void follow_program(struct reach_ctx *c, char **argv, size_t n, size_t i, struct wh_node *from, int rule,
                           const char *what, int quiet, const struct wrapper *w, int builtin_wrapper)
{
	const char *cmd = argv[i];
	const char *b = reach_base_name(cmd);
	int root = from == NULL;
	struct wh_node *prog = NULL;
	if (!builtin_wrapper) {
		struct pathres pr;
		prog = reach_find_command(c, cmd, &pr, from);
		if (prog)
			reach_keep_res(c, &pr, rule, from, what, 0);
		else if (!quiet)
			reach_unres(c, from, "command \"%s\"%s", cmd, strchr(cmd, '/') ? "" : " (not found on PATH)");
		pathres_free(&pr);
		if (!prog && !w)
			return;
	}
	if (w) {
		follow_wrapped(c, w, b, argv, n, i, from, rule, what, quiet);
		return;
	}
	if (is_shell_name(b) || !strcmp(b, "busybox")) {
		follow_shell(c, b, argv, n, i, from, prog, quiet);
		return;
	}
	keep_arg_paths(c, argv + i + 1, n - i - 1, prog, root);
	/* a script run with these arguments: its "$@" is known */
	struct wh_node *d = pathres_data_node(c->t, prog);
	long it = d ? reach_item_find(c, d) : -1;
	if (d && it >= 0 && !(c->r->items[it].flags & F_SCRIPT_DONE) && d->e && d->e->extra && d->e->extra->shebang) {
		c->r->items[it].flags |= F_SCRIPT_DONE;
		c->depth++;
		reach_follow_script(c, d, argv + i + 1, n - i - 1);
		c->depth--;
	}
}

/* Follow one command line (argv already expanded): keep the program it
 * runs, follow wrappers, "sh -c", scripts. from: the script or NULL for
 * the image config; rule: what to call the reason; quiet: report nothing
 * unresolved (a guess, like Cmd after a binary Entrypoint); s, sc: the
 * shell text it came from (its function names), or NULL. */
static void follow_cmd(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int rule, const char *what,
                       int quiet, const struct shell_script *s, const struct shell_cmd *sc)
{
	if (c->depth > MAX_DEPTH)
		return;
	size_t i = command_word(argv, n);
	if (i >= n)
		return;
	const char *cmd = argv[i];
	if (!strcmp(cmd, "for") || !strcmp(cmd, "case") || !strcmp(cmd, "select") || !strcmp(cmd, "function"))
		return;
	if (s && shell_is_function(s, sc, cmd))
		return;
	const char *b = reach_base_name(cmd);
	const struct wrapper *w = find_wrapper(b);
	int builtin_wrapper = w && (!strcmp(b, "exec") || !strcmp(b, "command") || !strcmp(b, "builtin") ||
	                            (!strcmp(b, "time") && !strchr(cmd, '/')));
	if (is_builtin(cmd) && !builtin_wrapper && strcmp(cmd, ".") && strcmp(cmd, "source") && strcmp(cmd, "eval") &&
	    strcmp(cmd, "trap"))
		return;
	if (strchr(cmd, SHELL_UNKNOWN) || reach_has_glob(cmd)) {
		if (!quiet)
			unknown_command(c, cmd, from);
		return;
	}
	if (!strcmp(cmd, ".") || !strcmp(cmd, "source")) {
		if (i + 1 < n)
			follow_source(c, argv[i + 1], from, quiet);
		return;
	}
	if (!strcmp(cmd, "eval") || !strcmp(cmd, "trap")) {
		if (i + 1 < n && !strchr(argv[i + 1], SHELL_UNKNOWN))
			parse_string(c, argv[i + 1], from, rule);
		return;
	}
	follow_program(c, argv, n, i, from, rule, what, quiet, w, builtin_wrapper);
}

void reach_follow_argv(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int rule,
                       const char *what, int quiet)
{
	follow_cmd(c, argv, n, from, rule, what, quiet, NULL, NULL);
}

void reach_follow_script(struct reach_ctx *c, struct wh_node *n, char **args, size_t nargs)
{
	const char *sb = n->e->extra->shebang;
	while (*sb == ' ' || *sb == '\t')
		sb++;
	size_t il = strcspn(sb, " \t\r");
	char *interp = xstrndup(sb, il);
	const char *rest = sb + il;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	char *arg = xstrdup(rest);
	for (size_t l = strlen(arg); l && (arg[l - 1] == ' ' || arg[l - 1] == '\t' || arg[l - 1] == '\r');)
		arg[--l] = 0;
	struct pathres pr;
	struct wh_node *in = reach_resolve(c, NULL, interp, &pr, n);
	const char *eff = reach_base_name(interp);
	char *effbuf = NULL;
	if (!in) {
		reach_unres(c, n, "%s (#! interpreter)", interp);
	} else {
		reach_keep_res(c, &pr, R_SHEBANG, n, NULL, 0);
		if (!strcmp(eff, "env") && arg[0]) {
			/* #!/usr/bin/env [-S] [VAR=x] NAME ... */
			char *save = NULL;
			for (char *tok = strtok_r(arg, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
				if (tok[0] == '-' || shell_is_assignment(tok)) {
					if (!strcmp(tok, "-u") || !strcmp(tok, "-C"))
						strtok_r(NULL, " \t", &save);
					continue;
				}
				struct pathres p2;
				struct wh_node *cn = reach_find_command(c, tok, &p2, n);
				if (cn)
					reach_keep_res(c, &p2, R_SHEBANG, n, NULL, 0);
				else
					reach_unres(c, n, "%s (#!%s: not found on PATH)", tok, interp);
				pathres_free(&p2);
				effbuf = xstrdup(reach_base_name(tok));
				eff = effbuf;
				break;
			}
		}
	}
	pathres_free(&pr);
	if (is_shell_name(eff) && n->e->extra->content)
		parse_shell(c, (const char *)n->e->extra->content, n->e->extra->content_len, n, args, nargs, R_SCRIPT);
	free(effbuf);
	free(interp);
	free(arg);
}
