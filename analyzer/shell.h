/* shell: a small reader of POSIX shell text, enough to find the words in
 * command position. Text in, commands (argv lists) out; no knowledge of
 * the image, of files or of what a command does.
 *
 * Understood: quotes ('', "", \), comments, ; & | && || ( ) and newlines
 * between commands, redirections (their target words are dropped, "2>"
 * and ">&2" are not words), here-documents (their lines skipped),
 * $VAR ${VAR} ${VAR:-default} ${VAR=default}, "$@" "$1".."$9" and "$0",
 * $(...) and `...` (their commands read too, as nested commands), function
 * definitions ("name()" and "function name"), case patterns (not
 * commands). An expansion whose value is not known becomes SHELL_UNKNOWN
 * in the word. Words of control keywords ("if", "then", "do" ...) stay in
 * the argv: what a command is, is the caller's to decide. */
#ifndef WH_SHELL_H
#define WH_SHELL_H

#include <stddef.h>

/* Stands in a word for an expansion whose value is not known. */
#define SHELL_UNKNOWN '\x01'

struct shell_opts {
	/* A variable's value from outside the text (the environment), or
	 * NULL when unset; it wins over assignments in the text. NULL: none. */
	const char *(*lookup)(void *ctx, const char *name);
	void *ctx;
	const char *arg0;       /* $0, or NULL when not known */
	char *const *args;      /* $1 ... and "$@" */
	size_t nargs;
	int args_known;         /* 0: $1.. and "$@" are not known */
	unsigned max_nesting;   /* $(...) deeper than this is not read (0: none is) */
};

struct shell_cmd {
	char **argv;      /* the words, expanded as far as known */
	size_t argc;      /* >= 1 */
	unsigned nested;  /* 0: a command of the text; n: inside n levels of $(...) or `...` */
	size_t scope;     /* index into shell_script.scopes: the functions it can call */
};

struct shell_scope {
	char **funcs;     /* function names defined in that text */
	size_t nfuncs;
};

/* The commands in the order a reader meets their end: the commands of a
 * substitution come when it is read, the text's own commands at the end
 * (once every function name is known). */
struct shell_script {
	struct shell_cmd *cmds;
	size_t ncmds;
	struct shell_scope *scopes;
	size_t nscopes;
};

/* Read text[0..len) into out (which the caller frees with
 * shell_script_free). Never fails: what it cannot read becomes words. */
void shell_parse(const char *text, size_t len, const struct shell_opts *o, struct shell_script *out);
void shell_script_free(struct shell_script *s);

/* Is name a function defined in the scope of cmd? */
int shell_is_function(const struct shell_script *s, const struct shell_cmd *cmd, const char *name);

/* Is w an assignment word ("NAME=value")? */
int shell_is_assignment(const char *w);

#endif
