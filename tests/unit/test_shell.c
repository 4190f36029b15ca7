/* shell: script text -> the commands' argv lists. Each case is a text and
 * the commands a POSIX shell runs for it, written here by hand from the
 * shell's grammar (sh(1p): quoting, expansions, redirections, here-
 * documents, case, functions), never from the reader's own output.
 *
 * Rendering of the expected lists: commands separated by " ; ", words by
 * ",", an expansion whose value is not known as "?", a command read from
 * inside $(...) or `...` prefixed with ">" per level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/shell.h"
#include "analyzer/util.h"

/* The "environment" the cases see: HOME is unset on purpose. */
static const char *env_lookup(void *ctx, const char *name)
{
	(void)ctx;
	static const char *const env[][2] = {{"X", "xx"}, {"DIR", "/env"}, {"EMPTY", ""}};
	for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
		if (!strcmp(env[i][0], name))
			return env[i][1];
	return NULL;
}

static char *render(const struct shell_script *s)
{
	struct buf b = {0};
	for (size_t i = 0; i < s->ncmds; i++) {
		const struct shell_cmd *c = &s->cmds[i];
		if (i)
			buf_append(&b, " ; ", 3);
		for (unsigned k = 0; k < c->nested; k++)
			buf_append(&b, ">", 1);
		for (size_t w = 0; w < c->argc; w++) {
			if (w)
				buf_append(&b, ",", 1);
			for (const char *p = c->argv[w]; *p; p++)
				buf_append(&b, *p == SHELL_UNKNOWN ? "?" : p, 1);
		}
	}
	buf_append(&b, "", 1);
	return (char *)b.data;
}

static char *parse_render(const char *text, const struct shell_opts *o)
{
	struct shell_script s;
	shell_parse(text, strlen(text), o, &s);
	char *r = render(&s);
	shell_script_free(&s);
	return r;
}

struct tcase {
	const char *text;
	const char *want;
};

static const struct tcase cases[] = {
	{"a b c", "a,b,c"},
	{"", ""},
	{"   \n\n  # only a comment\n", ""},
	/* operators end commands; assignments stay words */
	{"FOO=1 a && b | c; d & e || f", "FOO=1,a ; b ; c ; d ; e ; f"},
	{"(a; b)", "a ; b"},
	/* quoting */
	{"echo 'a b' \"c $X d\" \\\"e", "echo,a b,c xx d,\"e"},
	{"echo \"a;b\" 'c|d' x\\ y", "echo,a;b,c|d,x y"},
	/* an empty value counts as not known (a guess would be worse) */
	{"printf '%s\\n' \"$EMPTY\"", "printf,%s\\n,?"},
	{"a \\\n  b", "a,b"},
	/* expansions */
	{"$HOME/x", "?/x"},
	{"${DIR}/bin/run $DIR", "/env/bin/run,/env"},
	{"${A:-/bin/def} ${B=x} ${C-y}", "/bin/def,x,y"},
	{"${X#y} ${X:+z} ${X%/*}", "?,?,?"},
	{"${A:-$HOME}", "?"},
	{"echo $? $$ $! $#", "echo,?,?,?,?"},
	{"echo $ 5$", "echo,$,5$"},
	/* script variables; the environment wins */
	{"D=/opt/x\n$D/run", "D=/opt/x ; /opt/x/run"},
	{"export P='/p q'\n\"$P/r\"", "export,P=/p q ; /p q/r"},
	{"DIR=/mine\n$DIR/run", "DIR=/mine ; /env/run"},
	{"V=$(date)\n$V", ">date ; V=? ; ?"},
	/* substitutions: their commands are read as nested, first */
	{"a $(b c) d", ">b,c ; a,?,d"},
	{"x=`date`; echo y", ">date ; x=? ; echo,y"},
	{"a \"$(b \"$(c)\")\"", ">>c ; >b,? ; a,?"},
	{"echo $((1 + 2))", "echo,?"},
	/* redirections: the target is no word; fds are no words */
	{"a >/dev/null 2>&1 <in b", "a,b"},
	{"a 2> err c >> log", "a,c"},
	{"a >&2 b 3<&- c", "a,b,c"},
	{"grep x <<< \"$X\" y", "grep,x,y"},
	/* here-documents: their lines are no commands */
	{"cat <<EOF >/dev/null\nnever run\nEOF\nnext", "cat ; next"},
	{"cat <<-'END'\n\tnot this\n\tEND\nafter", "cat ; after"},
	{"a <<A; b <<B\n1\nA\n2\nB\nc", "a ; b ; c"},
	/* comments */
	{"a # b c\nd", "a ; d"},
	{"a#b c", "a#b,c"},
	/* case: patterns are no commands; keywords stay words */
	{"case \"$1\" in\n  start|run) tool --x ;;\n  *) : ;;\nesac\nafter", "tool,--x ; : ; after"},
	{"case $1 in a) one;; b) two;; esac", "one ; two"},
	/* control keywords stay in the argv (the caller skips them) */
	{"if [ -n \"$X\" ]; then other 2>&1 | missing; fi",
	 "if,[,-n,xx,] ; then,other ; missing ; fi"},
	{"for f in a b; do run $f; done", "for,f,in,a,b ; do,run,? ; done"},
	/* function definitions are not commands; the call is */
	{"log() { echo \"$@\" >&2; }\nlog start", "{,echo,? ; } ; log,start"},
};

static void test_table(void **state)
{
	(void)state;
	struct shell_opts o = {.lookup = env_lookup, .max_nesting = 16};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = parse_render(cases[i].text, &o);
		if (strcmp(got, cases[i].want)) {
			fprintf(stderr, "case %zu: text [%s]\n  got  [%s]\n  want [%s]\n", i, cases[i].text, got,
			        cases[i].want);
			bad++;
		}
		free(got);
	}
	assert_int_equal(bad, 0);
}

/* "$@", "$1".."$9" and "$0": known only when the caller says so. */
static void test_args(void **state)
{
	(void)state;
	char *args[] = {"p", "q r"};
	struct shell_opts o = {.lookup = env_lookup, .max_nesting = 16, .arg0 = "/entry.sh", .args = args,
	                       .nargs = 2, .args_known = 1};
	char *got = parse_render("exec \"$@\"; $1 $2 $3; echo $0", &o);
	assert_string_equal(got, "exec,p,q r ; p,q r,? ; echo,/entry.sh");
	free(got);
	o.args_known = 0;
	o.arg0 = NULL;
	got = parse_render("exec \"$@\"; $1; echo $0", &o);
	assert_string_equal(got, "exec,? ; ? ; echo,?");
	free(got);
	/* the commands of a substitution do not see the text's "$@" */
	o.args_known = 1;
	got = parse_render("a $(b \"$1\")", &o);
	assert_string_equal(got, ">b,? ; a,?");
	free(got);
}

/* A substitution deeper than max_nesting is not read. */
static void test_nesting_limit(void **state)
{
	(void)state;
	struct shell_opts o = {.max_nesting = 1};
	char *got = parse_render("a $(b $(c))", &o);
	assert_string_equal(got, ">b,? ; a,?");
	free(got);
	o.max_nesting = 0;
	got = parse_render("a $(b)", &o);
	assert_string_equal(got, "a,?");
	free(got);
}

static void test_functions(void **state)
{
	(void)state;
	struct shell_opts o = {.max_nesting = 16};
	const char *text = "f() { g; }\nfunction h { i; }\nf x\nx=$(k() { :; }; k)";
	struct shell_script s;
	shell_parse(text, strlen(text), &o, &s);
	/* the substitution's own commands come first, in a scope of their own */
	assert_true(s.ncmds >= 2);
	const struct shell_cmd *first = &s.cmds[0], *last = &s.cmds[s.ncmds - 1];
	assert_int_equal(first->nested, 1);
	assert_true(shell_is_function(&s, first, "k"));
	assert_false(shell_is_function(&s, first, "f"));
	assert_int_equal(last->nested, 0);
	assert_true(shell_is_function(&s, last, "f"));
	assert_true(shell_is_function(&s, last, "h"));
	assert_false(shell_is_function(&s, last, "g"));
	assert_false(shell_is_function(&s, last, "k"));
	shell_script_free(&s);
}

static void test_assignment(void **state)
{
	(void)state;
	assert_true(shell_is_assignment("A=1"));
	assert_true(shell_is_assignment("_a9="));
	assert_false(shell_is_assignment("9A=1"));
	assert_false(shell_is_assignment("A-B=1"));
	assert_false(shell_is_assignment("ABC"));
	assert_false(shell_is_assignment("=x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_assignment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
