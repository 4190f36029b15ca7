/* shell: the words of shell text in command position (see shell.h). */
#include "analyzer/shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/util.h"

struct words {
	char **v;
	size_t n, cap;
};

static void words_push(struct words *s, char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = str;
}

static void words_free(struct words *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* A command as read, before case patterns and function definitions are
 * told apart: its words and what ended it (";", "&&", ")", "\n" ...). */
struct rawcmd {
	struct words words;
	char term[4];
};

struct rawcmds {
	struct rawcmd *v;
	size_t n, cap;
};

/* The reader of one text (a substitution gets its own). */
struct sh {
	const struct shell_opts *o;
	struct shell_script *out;
	unsigned nested;
	const char *s;
	size_t len, pos;
	struct words vars;     /* "K=V" assigned in the text */
	struct buf word;
	int in_word;
	struct words words;    /* of the current command */
	struct rawcmds cmds;
	struct words heredocs; /* delimiters waiting for the end of the line */
	int redirect_next;     /* the next word is a redirection target */
};

static void parse(const char *text, size_t len, const struct shell_opts *o, struct shell_script *out,
                  unsigned nested);

int shell_is_assignment(const char *w)
{
	if (!(w[0] == '_' || (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z')))
		return 0;
	for (const char *p = w; *p; p++) {
		if (*p == '=')
			return 1;
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	}
	return 0;
}

static const char *lookup(const struct sh *h, const char *name)
{
	return h->o->lookup ? h->o->lookup(h->o->ctx, name) : NULL;
}

static void sh_putc(struct sh *h, char ch)
{
	buf_append(&h->word, &ch, 1);
	h->in_word = 1;
}

static void sh_puts(struct sh *h, const char *s)
{
	buf_append(&h->word, s, strlen(s));
	h->in_word = 1;
}

static void end_word(struct sh *h)
{
	if (!h->in_word)
		return;
	char *w = xstrndup((const char *)h->word.data ? (const char *)h->word.data : "", h->word.len);
	h->word.len = 0;
	h->in_word = 0;
	if (h->redirect_next) {
		h->redirect_next = 0;
		free(w);
		return;
	}
	words_push(&h->words, w);
}

static void end_cmd(struct sh *h, const char *term)
{
	end_word(h);
	struct rawcmds *cs = &h->cmds;
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 32;
		cs->v = xrealloc(cs->v, cs->cap * sizeof *cs->v);
	}
	struct rawcmd *rc = &cs->v[cs->n++];
	rc->words = h->words;
	snprintf(rc->term, sizeof rc->term, "%s", term);
	memset(&h->words, 0, sizeof h->words);
}

/* A variable: the outside value wins, else the text's own assignment. */
static const char *var(struct sh *h, const char *name)
{
	const char *v = lookup(h, name);
	if (v)
		return v;
	size_t l = strlen(name);
	for (size_t i = h->vars.n; i-- > 0;)
		if (!strncmp(h->vars.v[i], name, l) && h->vars.v[i][l] == '=')
			return h->vars.v[i] + l + 1;
	return NULL;
}

/* Assignments anywhere in the text ("X=1", "export X=1" at the start of a
 * line, a value without expansions) give values to later expansions. */
static void scan_assignments(struct sh *h)
{
	const char *text = h->s;
	size_t len = h->len;
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		size_t b = i;
		while (b < e && (text[b] == ' ' || text[b] == '\t'))
			b++;
		if (e - b > 7 && !strncmp(text + b, "export ", 7))
			b += 7;
		char *line = xstrndup(text + b, e - b);
		if (shell_is_assignment(line)) {
			char *eq = strchr(line, '=');
			char *v = eq + 1;
			size_t vl = strcspn(v, " \t;&|#");
			if (v[0] == '"' || v[0] == '\'') {
				char *q = strchr(v + 1, v[0]);
				if (q) {
					v++;
					vl = (size_t)(q - v);
				}
			}
			char *val = xstrndup(v, vl);
			if (!strpbrk(val, "$`")) {
				*eq = 0;
				if (!lookup(h, line))
					words_push(&h->vars, xasprintf("%s=%s", line, val));
			}
			free(val);
		}
		free(line);
		i = e + 1;
	}
}

/* Find the end of a $( ... ) or ` ... ` starting after the opener. */
static size_t match_close(const char *s, size_t len, size_t pos, char open, char close)
{
	int depth = 1;
	char q = 0;
	for (size_t i = pos; i < len; i++) {
		char ch = s[i];
		if (q) {
			if (ch == '\\' && q == '"' && i + 1 < len)
				i++;
			else if (ch == q)
				q = 0;
			continue;
		}
		if (ch == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if ((ch == '\'' || ch == '"') && open != '`') {
			q = ch;
			continue;
		}
		if (ch == close && (open == close || --depth == 0))
			return i;
		if (ch == open && open != close)
			depth++;
	}
	return len;
}

/* A command substitution text[from..to): its commands are read as nested. */
static void substitution(struct sh *h, size_t from, size_t to)
{
	if (h->nested + 1 > h->o->max_nesting)
		return;
	struct shell_opts o = *h->o;
	o.args = NULL;
	o.nargs = 0;
	o.args_known = 0;
	parse(h->s + from, to - from, &o, h->out, h->nested + 1);
}

static int is_name_char(char ch)
{
	return ch == '_' || (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* The name of a ${...} at s[i] ('{'): fills name, sets the default text of
 * ${X:-d} / ${X=d}; leaves name empty for a form whose value is not known. */
static void brace_name(struct sh *h, size_t i, char *name, size_t cap, size_t *nl, const char **deflt,
                       size_t *dlen)
{
	const char *s = h->s;
	size_t end = match_close(s, h->len, i + 1, '{', '}');
	size_t j = i + 1;
	while (j < end && *nl < cap - 1 && (is_name_char(s[j]) || s[j] == '@' || s[j] == '*' || s[j] == '#'))
		name[(*nl)++] = s[j++];
	if (j + 1 < end && (s[j] == ':' || s[j] == '-' || s[j] == '=')) {
		size_t k = j + (s[j] == ':' ? 1 : 0);
		if (s[k] == '-' || s[k] == '=') {
			*deflt = s + k + 1;
			*dlen = end - k - 1;
		} else {
			*nl = 0; /* ${X:+..} ${X:?..} ${X:off}: not known */
		}
	} else if (j != end) {
		*nl = 0; /* ${X#..} ${X%..} ${X/..}: not known */
	}
	h->pos = end < h->len ? end + 1 : end;
}

/* The value of a parameter named name (already read). */
static void expand_name(struct sh *h, const char *name, const char *deflt, size_t dlen)
{
	if (!strcmp(name, "@") || !strcmp(name, "*")) {
		if (!h->o->args_known) {
			sh_putc(h, SHELL_UNKNOWN);
			return;
		}
		/* "$@": one word per argument (also unquoted: close enough) */
		for (size_t k = 0; k < h->o->nargs; k++) {
			if (k)
				end_word(h);
			sh_puts(h, h->o->args[k]);
		}
		return;
	}
	if (name[0] >= '1' && name[0] <= '9' && !name[1]) {
		size_t k = (size_t)(name[0] - '1');
		if (h->o->args_known && k < h->o->nargs)
			sh_puts(h, h->o->args[k]);
		else
			sh_putc(h, SHELL_UNKNOWN);
		return;
	}
	if (!strcmp(name, "0") && h->o->arg0) {
		sh_puts(h, h->o->arg0);
		return;
	}
	const char *v = (name[0] >= '0' && name[0] <= '9') || strchr("#?$!-", name[0]) ? NULL : var(h, name);
	if (v && *v) {
		sh_puts(h, v);
	} else if (deflt) {
		char *d = xstrndup(deflt, dlen);
		if (!strchr(d, '$') && !strchr(d, '`') && !strchr(d, '"') && !strchr(d, '\''))
			sh_puts(h, d);
		else
			sh_putc(h, SHELL_UNKNOWN);
		free(d);
	} else {
		sh_putc(h, SHELL_UNKNOWN);
	}
}

/* Expand a "$..." at h->pos (which is at '$'). */
static void dollar(struct sh *h)
{
	const char *s = h->s;
	size_t i = h->pos + 1;
	if (i < h->len && s[i] == '(') {
		size_t end = match_close(s, h->len, i + 1, '(', ')');
		if (i + 1 < h->len && s[i + 1] != '(') /* not $(( arithmetic )) */
			substitution(h, i + 1, end);
		sh_putc(h, SHELL_UNKNOWN);
		h->pos = end < h->len ? end + 1 : end;
		return;
	}
	char name[128];
	size_t nl = 0;
	const char *deflt = NULL;
	size_t dlen = 0;
	if (i < h->len && s[i] == '{') {
		brace_name(h, i, name, sizeof name, &nl, &deflt, &dlen);
	} else if (i < h->len && ((s[i] && strchr("@*#?$!-", s[i])) || (s[i] >= '0' && s[i] <= '9'))) {
		name[nl++] = s[i];
		h->pos = i + 1;
	} else {
		while (i < h->len && nl < sizeof name - 1 && is_name_char(s[i]))
			name[nl++] = s[i++];
		h->pos = i;
		if (!nl) {
			sh_putc(h, '$');
			return;
		}
	}
	name[nl] = 0;
	if (!nl) {
		sh_putc(h, SHELL_UNKNOWN);
		return;
	}
	expand_name(h, name, deflt, dlen);
}

static void backquote(struct sh *h)
{
	size_t e = match_close(h->s, h->len, h->pos + 1, '`', '`');
	substitution(h, h->pos + 1, e);
	sh_putc(h, SHELL_UNKNOWN);
	h->pos = e + 1;
}

static void double_quoted(struct sh *h)
{
	const char *text = h->s;
	h->in_word = 1;
	h->pos++;
	while (h->pos < h->len && text[h->pos] != '"') {
		char q = text[h->pos];
		if (q == '\\' && h->pos + 1 < h->len && strchr("$`\"\\\n", text[h->pos + 1])) {
			if (text[h->pos + 1] != '\n')
				sh_putc(h, text[h->pos + 1]);
			h->pos += 2;
		} else if (q == '$') {
			dollar(h);
		} else if (q == '`') {
			backquote(h);
		} else {
			sh_putc(h, q);
			h->pos++;
		}
	}
	h->pos++;
}

/* The delimiter word after "<<" (quotes removed): its lines are skipped
 * at the end of the line. */
static void heredoc_word(struct sh *h)
{
	const char *text = h->s;
	while (h->pos < h->len && (text[h->pos] == ' ' || text[h->pos] == '\t'))
		h->pos++;
	size_t ds = h->pos;
	while (h->pos < h->len && !strchr(" \t\n;&|<>", text[h->pos]))
		h->pos++;
	char *d = xstrndup(text + ds, h->pos - ds);
	size_t o = 0;
	for (size_t k = 0; d[k]; k++)
		if (d[k] != '\'' && d[k] != '"' && d[k] != '\\')
			d[o++] = d[k];
	d[o] = 0;
	words_push(&h->heredocs, d);
	h->redirect_next = 0;
}

/* A redirection operator at h->pos ('<' or '>'). */
static void redirection(struct sh *h)
{
	const char *text = h->s;
	char ch = text[h->pos];
	/* "2>" : the digits were an fd */
	if (h->in_word) {
		int digits = h->word.len > 0;
		for (size_t k = 0; k < h->word.len; k++)
			if (h->word.data[k] < '0' || h->word.data[k] > '9')
				digits = 0;
		if (digits) {
			h->word.len = 0;
			h->in_word = 0;
		} else {
			end_word(h);
		}
	}
	size_t e = h->pos + 1;
	int heredoc = ch == '<' && e < h->len && text[e] == '<';
	while (e < h->len && strchr("<>&|-", text[e]))
		e++;
	if (heredoc && e < h->len && text[e - 1] == '<' && text[e] == '<')
		heredoc = 0; /* <<< here-string */
	if (ch == '<' && h->pos + 2 < h->len && text[h->pos + 1] == '<' && text[h->pos + 2] == '<')
		heredoc = 0;
	/* "<&3" ">&2" "3<&-": the digits (or "-") after belong to the operator */
	if (memchr(text + h->pos, '&', e - h->pos))
		while (e < h->len && ((text[e] >= '0' && text[e] <= '9') || text[e] == '-'))
			e++;
	else
		h->redirect_next = 1;
	h->pos = e;
	if (heredoc)
		heredoc_word(h);
}

/* A newline at h->pos: the end of a command, then the bodies of the
 * here-documents opened on that line. */
static void newline(struct sh *h)
{
	const char *text = h->s;
	end_cmd(h, "\n");
	h->pos++;
	for (size_t k = 0; k < h->heredocs.n; k++) {
		const char *d = h->heredocs.v[k];
		while (h->pos < h->len) {
			size_t e = h->pos;
			while (e < h->len && text[e] != '\n')
				e++;
			size_t b = h->pos;
			while (b < e && text[b] == '\t')
				b++;
			int end = e - b == strlen(d) && !strncmp(text + b, d, e - b);
			h->pos = e < h->len ? e + 1 : e;
			if (end)
				break;
		}
	}
	words_free(&h->heredocs);
}

/* Split the text into raw commands. */
static void tokenize(struct sh *h)
{
	const char *text = h->s;
	while (h->pos < h->len) {
		char ch = text[h->pos];
		if (ch == '\\' && h->pos + 1 < h->len) {
			if (text[h->pos + 1] != '\n')
				sh_putc(h, text[h->pos + 1]);
			h->pos += 2;
		} else if (ch == '\'') {
			size_t e = h->pos + 1;
			while (e < h->len && text[e] != '\'')
				e++;
			buf_append(&h->word, text + h->pos + 1, e - h->pos - 1);
			h->in_word = 1;
			h->pos = e + 1;
		} else if (ch == '"') {
			double_quoted(h);
		} else if (ch == '$') {
			dollar(h);
		} else if (ch == '`') {
			backquote(h);
		} else if (ch == '#' && !h->in_word) {
			while (h->pos < h->len && text[h->pos] != '\n')
				h->pos++;
		} else if (ch == ' ' || ch == '\t' || ch == '\r') {
			end_word(h);
			h->pos++;
		} else if (ch == '<' || ch == '>') {
			redirection(h);
		} else if (ch == '\n') {
			newline(h);
		} else if (strchr(";&|()", ch)) {
			char term[4] = {ch, 0, 0, 0};
			if (h->pos + 1 < h->len && (text[h->pos + 1] == ch || (ch == ';' && text[h->pos + 1] == '&'))) {
				term[1] = text[h->pos + 1];
				h->pos++;
			}
			h->pos++;
			end_cmd(h, term);
		} else {
			sh_putc(h, ch);
			h->pos++;
		}
	}
	end_cmd(h, "");
}

static void emit(struct sh *h, struct words *w, size_t scope)
{
	struct shell_script *out = h->out;
	out->cmds = xrealloc(out->cmds, (out->ncmds + 1) * sizeof *out->cmds);
	out->cmds[out->ncmds++] = (struct shell_cmd){.argv = w->v, .argc = w->n, .nested = h->nested, .scope = scope};
	memset(w, 0, sizeof *w);
}

/* Tell function definitions and case patterns from commands; emit the
 * commands. */
static void emit_commands(struct sh *h)
{
	struct rawcmds *cs = &h->cmds;
	struct words funcs = {0};
	for (size_t i = 0; i < cs->n; i++) {
		struct words *w = &cs->v[i].words;
		if (w->n == 1 && !strcmp(cs->v[i].term, "(") && i + 1 < cs->n && cs->v[i + 1].words.n == 0 &&
		    !strcmp(cs->v[i + 1].term, ")"))
			words_push(&funcs, xstrdup(w->v[0]));
		if (w->n >= 2 && !strcmp(w->v[0], "function"))
			words_push(&funcs, xstrdup(w->v[1]));
	}
	struct shell_script *out = h->out;
	size_t scope = out->nscopes++;
	out->scopes = xrealloc(out->scopes, out->nscopes * sizeof *out->scopes);
	out->scopes[scope] = (struct shell_scope){.funcs = funcs.v, .nfuncs = funcs.n};
	int case_pat = 0;
	for (size_t i = 0; i < cs->n; i++) {
		struct words *w = &cs->v[i].words;
		const char *term = cs->v[i].term;
		if (w->n && !strcmp(w->v[0], "case")) {
			/* case WORD in [PATTERN] ")" */
			case_pat = strcmp(term, ")") != 0;
			continue;
		}
		if (case_pat) {
			if ((w->n && !strcmp(w->v[0], "esac")) || !strcmp(term, ")"))
				case_pat = 0;
			continue;
		}
		if (!strcmp(term, ";;") || !strcmp(term, ";&")) {
			if (w->n)
				emit(h, w, scope);
			case_pat = 1;
			continue;
		}
		if (w->n == 1 && !strcmp(term, "(") && i + 1 < cs->n && !strcmp(cs->v[i + 1].term, ")"))
			continue; /* a function definition */
		if (w->n)
			emit(h, w, scope);
	}
}

static void parse(const char *text, size_t len, const struct shell_opts *o, struct shell_script *out,
                  unsigned nested)
{
	if (!text)
		return;
	struct sh h = {.o = o, .out = out, .nested = nested, .s = text, .len = len};
	scan_assignments(&h);
	tokenize(&h);
	emit_commands(&h);
	for (size_t i = 0; i < h.cmds.n; i++)
		words_free(&h.cmds.v[i].words);
	free(h.cmds.v);
	words_free(&h.vars);
	words_free(&h.words);
	words_free(&h.heredocs);
	buf_free(&h.word);
}

void shell_parse(const char *text, size_t len, const struct shell_opts *o, struct shell_script *out)
{
	memset(out, 0, sizeof *out);
	parse(text, len, o, out, 0);
}

void shell_script_free(struct shell_script *s)
{
	for (size_t i = 0; i < s->ncmds; i++) {
		for (size_t k = 0; k < s->cmds[i].argc; k++)
			free(s->cmds[i].argv[k]);
		free(s->cmds[i].argv);
	}
	free(s->cmds);
	for (size_t i = 0; i < s->nscopes; i++) {
		for (size_t k = 0; k < s->scopes[i].nfuncs; k++)
			free(s->scopes[i].funcs[k]);
		free(s->scopes[i].funcs);
	}
	free(s->scopes);
	memset(s, 0, sizeof *s);
}

int shell_is_function(const struct shell_script *s, const struct shell_cmd *cmd, const char *name)
{
	if (cmd->scope >= s->nscopes)
		return 0;
	const struct shell_scope *sc = &s->scopes[cmd->scope];
	for (size_t i = 0; i < sc->nfuncs; i++)
		if (!strcmp(sc->funcs[i], name))
			return 1;
	return 0;
}
