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

int reach_is_executable(struct reach_ctx *c, struct wh_node *n)
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
		if (n && reach_is_executable(c, n)) {
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

/* Programs that run their arguments as a command. Each names how many
 * plain arguments come before the command, which of its options take a
 * value as the next word ("--opt=value" and "-oL" need no entry), and
 * which take a command line run by a shell ("flock -c CMD"). */
struct wrapper {
	const char *name;
	int skip;             /* plain arguments before the command (timeout's DURATION, gosu's USER) */
	const char *valopts;  /* space-separated */
	const char *shellopts; /* space-separated: the value is a shell command line */
	int kind;
};

enum {
	W_PROGRAM = 0, /* a program: the command it runs is a program too (never a builtin) */
	W_EXEC,        /* the exec builtin: runs a program */
	W_BUILTIN,     /* command, builtin, time: the shell's own, may run a builtin */
	W_ENV,         /* env: NAME=value words, -S splits a string */
};

static const struct wrapper wrappers[] = {
	{"exec", 0, "-a", "", W_EXEC},
	{"command", 0, "", "", W_BUILTIN},
	{"builtin", 0, "", "", W_BUILTIN},
	{"time", 0, "-f -o --format --output", "", W_BUILTIN},
	{"env", 0, "-u -C -S --unset --chdir --split-string", "", W_ENV},
	{"nohup", 0, "", "", W_PROGRAM},
	{"nice", 0, "-n --adjustment", "", W_PROGRAM},
	{"timeout", 1, "-s -k --signal --kill-after", "", W_PROGRAM},
	{"setsid", 0, "", "", W_PROGRAM},
	{"stdbuf", 0, "-i -o -e --input --output --error", "", W_PROGRAM},
	{"ionice", 0, "-c -n -p -P -u --class --classdata --pid --pgid --uid", "", W_PROGRAM},
	{"chrt", 1, "-T -P -D --sched-runtime --sched-period --sched-deadline", "", W_PROGRAM},
	{"taskset", 1, "", "", W_PROGRAM},
	{"flock", 1, "-w -E --timeout --wait --conflict-exit-code", "-c --command", W_PROGRAM},
	{"xargs", 0,
	 "-a -d -E -I -L -n -P -s --arg-file --delimiter --max-args --max-procs --max-chars --max-lines "
	 "--process-slot-var",
	 "", W_PROGRAM},
	{"runuser", 0, "-u -g -G -s --user --group --supp-group --shell -w --whitelist-environment", "-c --command",
	 W_PROGRAM},
	{"su-exec", 1, "", "", W_PROGRAM},
	{"gosu", 1, "", "", W_PROGRAM},
	{"tini", 0, "-e -p -l", "", W_PROGRAM},
	{"tini-static", 0, "-e -p", "", W_PROGRAM},
	{"dumb-init", 0, "-r --rewrite", "", W_PROGRAM},
	{"catatonit", 0, "", "", W_PROGRAM},
	{"sudo", 0, "-u -g -C -D -h -p -R -T -U --user --group --chdir --host --prompt --chroot", "", W_PROGRAM},
	{"setpriv", 0, "--reuid --regid --groups --inh-caps --bounding-set --ambient-caps --securebits", "",
	 W_PROGRAM},
	{"s6-setuidgid", 1, "", "", W_PROGRAM},
	{"s6-envdir", 1, "", "", W_PROGRAM},
	{"chpst", 0, "-u -U -e -n -l -L -m -d -o -p -f -c", "", W_PROGRAM},
	{"unshare", 0, "", "", W_PROGRAM},
	{"numactl", 0, "", "", W_PROGRAM},
	{"prlimit", 0, "", "", W_PROGRAM},
	{"strace", 0, "-o -e -p -s -a -b -E -I -O -P -S -u -X", "", W_PROGRAM},
	{"ltrace", 0, "-o -e -p -s -a -n -u", "", W_PROGRAM},
	{"valgrind", 0, "", "", W_PROGRAM},
	{"with-contenv", 0, "", "", W_PROGRAM},
	{"entrypoint", 0, "", "", W_PROGRAM},
};

static const struct wrapper *find_wrapper(const char *b)
{
	for (size_t i = 0; i < ARRAY_LEN(wrappers); i++)
		if (!strcmp(b, wrappers[i].name))
			return &wrappers[i];
	return NULL;
}

static int in_list(const char *list, const char *opt)
{
	const char *p = list;
	size_t l = strlen(opt);
	while ((p = strstr(p, opt))) {
		if ((p == list || p[-1] == ' ') && (p[l] == ' ' || !p[l]))
			return 1;
		p += l;
	}
	return 0;
}

static int takes_value(const struct wrapper *w, const char *opt)
{
	return in_list(w->valopts, opt);
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

/* How a command line is followed. */
struct how {
	struct wh_node *from;  /* the script it is in, NULL for the image config */
	int rule;              /* what to call the reason of what it keeps */
	const char *what;      /* a root's detail, or NULL */
	int quiet;             /* report nothing unresolved (a guess, like Cmd after a binary Entrypoint) */
	int external;          /* run by a program (a wrapper, find -exec): its first word is a program */
	const struct shell_script *s; /* the shell text it came from (its functions), or NULL */
	const struct shell_cmd *sc;
};

static void follow_cmd(struct reach_ctx *c, char **argv, size_t n, const struct how *h);

/* ---- shell text ---- */

static const char *shell_lookup(void *ctx, const char *name)
{
	return reach_env_get(ctx, name);
}

/* Read shell text and follow its commands. script: the file it is (its
 * path is $0; NULL for "sh -c" text of the image config); args: "$@" when
 * known (NULL: not known); rule: what to call the reason of the text's own
 * commands (those of $(...) are "script"); external: its commands are
 * programs ("env -S" splits words, no shell runs them). */
static void parse_shell_as(struct reach_ctx *c, const char *text, size_t len, struct wh_node *script, char **args,
                           size_t nargs, int rule, int external)
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
		struct how h = {.from = script, .rule = sc->nested ? R_SCRIPT : rule, .external = external && !sc->nested,
		                .s = &s, .sc = sc};
		c->depth += (int)sc->nested;
		follow_cmd(c, sc->argv, sc->argc, &h);
		c->depth -= (int)sc->nested;
	}
	shell_script_free(&s);
}

static void parse_shell(struct reach_ctx *c, const char *text, size_t len, struct wh_node *script, char **args,
                        size_t nargs, int rule)
{
	parse_shell_as(c, text, len, script, args, nargs, rule, 0);
}

/* Parse a file's captured content as shell text. */
static void parse_file(struct reach_ctx *c, struct wh_node *d, char **args, size_t nargs)
{
	c->depth++;
	parse_shell(c, (const char *)d->e->extra->content, d->e->extra->content_len, d, args, nargs, R_SCRIPT);
	c->depth--;
}

static void parse_string(struct reach_ctx *c, const char *text, struct wh_node *from, int rule, int external)
{
	c->depth++;
	parse_shell_as(c, text, strlen(text), from, NULL, 0, rule, external);
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

/* Follow argv[0..n) as a command run by a program (or a shell builtin). */
static void follow_run(struct reach_ctx *c, char **argv, size_t n, const struct how *h, int external)
{
	struct how sub = {.from = h->from, .rule = h->rule, .what = h->what, .quiet = h->quiet, .external = external};
	c->depth++;
	follow_cmd(c, argv, n, &sub);
	c->depth--;
}

/* A wrapper's own options and arguments; follow the command it runs.
 * external: that command is a program (not for the shell's command,
 * builtin and time, which may run a builtin or a function). */
static void follow_wrapped(struct reach_ctx *c, const struct wrapper *w, char **argv, size_t n, size_t i,
                           const struct how *h, int external)
{
	size_t j = i + 1, skipped = 0;
	for (; j < n; j++) {
		const char *a = argv[j];
		if (!strcmp(a, "--")) {
			j++;
			break;
		}
		if (a[0] == '-' && a[1]) {
			if (w->kind == W_ENV && (!strcmp(a, "-S") || !strcmp(a, "--split-string")) && j + 1 < n) {
				/* env -S "cmd args": env splits the string into words */
				parse_string(c, argv[j + 1], h->from, h->rule, 1);
				return;
			}
			if (in_list(w->shellopts, a) && j + 1 < n) {
				/* flock -c CMD, runuser -c CMD: a shell runs it */
				parse_string(c, argv[j + 1], h->from, h->rule, 0);
				return;
			}
			if (takes_value(w, a))
				j++;
			continue;
		}
		if (w->kind == W_ENV && shell_is_assignment(a))
			continue;
		if ((int)skipped < w->skip) {
			skipped++;
			continue;
		}
		break;
	}
	if (j < n)
		follow_run(c, argv + j, n - j, h, external);
}

/* find ... -exec CMD ARGS ; (or {} +), -execdir, -ok, -okdir: find runs
 * each CMD as a program. */
static void follow_find_exec(struct reach_ctx *c, char **argv, size_t n, size_t i, const struct how *h)
{
	for (size_t k = i + 1; k < n; k++) {
		const char *a = argv[k];
		if (strcmp(a, "-exec") && strcmp(a, "-execdir") && strcmp(a, "-ok") && strcmp(a, "-okdir"))
			continue;
		size_t e = k + 1;
		while (e < n && strcmp(argv[e], ";") && !(!strcmp(argv[e], "+") && !strcmp(argv[e - 1], "{}")))
			e++;
		if (e > k + 1)
			follow_run(c, argv + k + 1, e - k - 1, h, 1);
		k = e;
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

/* The program a command runs, after the shell's own handling (builtins,
 * functions, ". FILE", eval): keep it, then follow what it runs in turn.
 * shell_wrapper: cmd is the shell's exec/command/builtin/time, no program. */
static void follow_program(struct reach_ctx *c, char **argv, size_t n, size_t i, const struct how *h,
                           const struct wrapper *w, int shell_wrapper)
{
	const char *cmd = argv[i];
	const char *b = reach_base_name(cmd);
	struct wh_node *from = h->from;
	int root = from == NULL;
	struct wh_node *prog = NULL;
	if (!shell_wrapper) {
		struct pathres pr;
		prog = reach_find_command(c, cmd, &pr, from);
		if (prog)
			reach_keep_res(c, &pr, h->rule, from, h->what, 0);
		else if (!h->quiet)
			reach_unres(c, from, "command \"%s\"%s", cmd, strchr(cmd, '/') ? "" : " (not found on PATH)");
		pathres_free(&pr);
		if (!prog && !w)
			return;
	}
	if (w) {
		follow_wrapped(c, w, argv, n, i, h, !shell_wrapper || w->kind != W_BUILTIN);
		return;
	}
	if (is_shell_name(b) || !strcmp(b, "busybox")) {
		follow_shell(c, b, argv, n, i, from, prog, h->quiet);
		return;
	}
	keep_arg_paths(c, argv + i + 1, n - i - 1, prog, root);
	if (!strcmp(b, "find"))
		follow_find_exec(c, argv, n, i, h);
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

/* What the shell itself does with a command: 1 when it is done with it (a
 * keyword, a builtin, a function, ". FILE", eval), 0 when a program runs. */
static int shell_handles(struct reach_ctx *c, char **argv, size_t n, size_t i, const struct how *h,
                         int shell_wrapper)
{
	const char *cmd = argv[i];
	if (!strcmp(cmd, "for") || !strcmp(cmd, "case") || !strcmp(cmd, "select") || !strcmp(cmd, "function"))
		return 1;
	if (h->s && shell_is_function(h->s, h->sc, cmd))
		return 1;
	if (is_builtin(cmd) && !shell_wrapper && strcmp(cmd, ".") && strcmp(cmd, "source") && strcmp(cmd, "eval") &&
	    strcmp(cmd, "trap"))
		return 1;
	if (strchr(cmd, SHELL_UNKNOWN) || reach_has_glob(cmd))
		return 0;
	if (!strcmp(cmd, ".") || !strcmp(cmd, "source")) {
		if (i + 1 < n)
			follow_source(c, argv[i + 1], h->from, h->quiet);
		return 1;
	}
	if (!strcmp(cmd, "eval") || !strcmp(cmd, "trap")) {
		if (i + 1 < n && !strchr(argv[i + 1], SHELL_UNKNOWN))
			parse_string(c, argv[i + 1], h->from, h->rule, 0);
		return 1;
	}
	return 0;
}

/* Follow one command line (argv already expanded): keep the program it
 * runs, follow wrappers, "sh -c", scripts. */
static void follow_cmd(struct reach_ctx *c, char **argv, size_t n, const struct how *h)
{
	if (c->depth > MAX_DEPTH)
		return;
	/* a program's argv has no assignments or keywords: env, nice ... run argv[0] */
	size_t i = h->external ? 0 : command_word(argv, n);
	if (i >= n)
		return;
	const char *cmd = argv[i];
	const char *b = reach_base_name(cmd);
	const struct wrapper *w = find_wrapper(b);
	int shell_wrapper = !h->external && w && (w->kind == W_EXEC || w->kind == W_BUILTIN) &&
	                    (strcmp(b, "time") || !strchr(cmd, '/'));
	if (!h->external && shell_handles(c, argv, n, i, h, shell_wrapper))
		return;
	if (strchr(cmd, SHELL_UNKNOWN) || reach_has_glob(cmd)) {
		if (!h->quiet)
			unknown_command(c, cmd, h->from);
		return;
	}
	follow_program(c, argv, n, i, h, w, shell_wrapper);
}

void reach_follow_argv(struct reach_ctx *c, char **argv, size_t n, struct wh_node *from, int rule,
                       const char *what, int quiet)
{
	struct how h = {.from = from, .rule = rule, .what = what, .quiet = quiet};
	follow_cmd(c, argv, n, &h);
}

/* A "#!" file: keep its interpreter (through /usr/bin/env), and follow the
 * commands of a shell script. args: its arguments when known. */
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
