/* dynimport: imports by computed names in interpreters' scripts. */
#include "analyzer/dynimport.h"

#include <string.h>

#include "analyzer/util.h"

static int word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static enum dynimport_lang lang_of_word(const char *w, size_t n)
{
	static const struct {
		const char *prefix;
		enum dynimport_lang lang;
	} names[] = {{"python", DI_PYTHON}, {"perl", DI_PERL}, {"ruby", DI_RUBY}, {"nodejs", DI_NODE}, {"node", DI_NODE}};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		size_t l = strlen(names[i].prefix);
		/* python3, python3.11, perl5.36, ruby3.1, node */
		if (n >= l && !strncmp(w, names[i].prefix, l) && (n == l || strchr("0123456789.", w[l])))
			return names[i].lang;
	}
	return DI_NONE;
}

enum dynimport_lang dynimport_lang(const char *path, const char *shebang)
{
	if (shebang) {
		const char *s = shebang;
		for (int word = 0; word < 4; word++) {
			s += strspn(s, " \t");
			size_t n = strcspn(s, " \t");
			if (!n)
				break;
			const char *base = s;
			for (const char *q = s; q < s + n; q++)
				if (*q == '/')
					base = q + 1;
			size_t bl = (size_t)(s + n - base);
			if (bl == 3 && !strncmp(base, "env", 3)) {
				s += n;
				continue;
			}
			if (*base == '-' && word > 0) { /* env -S */
				s += n;
				continue;
			}
			return lang_of_word(base, bl);
		}
		return DI_NONE;
	}
	static const struct {
		const char *ext;
		enum dynimport_lang lang;
	} exts[] = {{".py", DI_PYTHON}, {".pl", DI_PERL}, {".pm", DI_PERL}, {".rb", DI_RUBY},
	            {".js", DI_NODE},   {".mjs", DI_NODE}, {".cjs", DI_NODE}};
	size_t pl = strlen(path);
	for (size_t i = 0; i < ARRAY_LEN(exts); i++) {
		size_t el = strlen(exts[i].ext);
		if (pl > el && !strcmp(path + pl - el, exts[i].ext))
			return exts[i].lang;
	}
	return DI_NONE;
}

const char *dynimport_lang_name(enum dynimport_lang l)
{
	static const char *const n[] = {"", "python", "perl", "ruby", "node"};
	return l <= DI_NODE ? n[l] : "";
}

/* A quoted literal at p (p[0] the quote) up to e: does it interpolate?
 * *end: past the closing quote, or NULL when the line does not close it. */
static int literal_interpolates(enum dynimport_lang l, const char *p, const char *e, int fstring, const char **end)
{
	char q = *p;
	const char *s = p + 1;
	int interp = 0;
	while (s < e && *s != q) {
		if (*s == '\\' && s + 1 < e) {
			s += 2;
			continue;
		}
		if ((l == DI_PERL && q != '\'' && (*s == '$' || *s == '@')) ||
		    (l == DI_RUBY && q != '\'' && *s == '#' && s + 1 < e && s[1] == '{') ||
		    (l == DI_NODE && q == '`' && *s == '$' && s + 1 < e && s[1] == '{') || (fstring && *s == '{'))
			interp = 1;
		s++;
	}
	*end = s < e ? s + 1 : NULL;
	return interp;
}

/* The argument of an import construct, at p (after the construct's name):
 * is its name computed? */
static int computed_arg(enum dynimport_lang l, const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	int paren = p < e && *p == '(';
	if (paren)
		p++;
	else if (l == DI_PYTHON || l == DI_NODE)
		return 0; /* no call: importlib.import_module as a value, require.resolve */
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= e || *p == ')' || *p == ';')
		return 0; /* its argument on the next line: not judged */
	/* without parentheses (ruby, perl) an argument starts a word, a
	 * string, a variable or a symbol; "load = 1" is no call */
	if (!paren && !word_char(*p) && (!*p || !strchr("\"'`$@:", *p)))
		return 0;
	int fstring = 0;
	if (l == DI_PYTHON) {
		const char *q = p;
		while (q < e && q - p < 2 && strchr("rRbBuUfF", *q))
			q++;
		if (q < e && (*q == '"' || *q == '\'') && q > p) {
			fstring = memchr(p, 'f', (size_t)(q - p)) || memchr(p, 'F', (size_t)(q - p));
			p = q;
		}
	}
	if (*p == '"' || *p == '\'' || (*p == '`' && (l == DI_NODE || l == DI_RUBY))) {
		const char *end;
		if (literal_interpolates(l, p, e, fstring, &end))
			return 1;
		if (!end)
			return 0;
		while (end < e && (*end == ' ' || *end == '\t'))
			end++;
		/* "a" + x, "a" . $x, "a" % x: built */
		return end < e && (*end == '+' || (*end == '.' && l == DI_PERL) || *end == '%');
	}
	if (l == DI_PERL) /* require Foo::Bar; require 5.006: barewords and versions */
		return *p == '$' || *p == '@' || *p == '&';
	if (l == DI_RUBY && *p == ':') /* a symbol */
		return 0;
	return 1; /* a variable, a call, an expression */
}

struct construct {
	enum dynimport_lang lang;
	const char *name;
	int dot_ok; /* may follow a '.' (importlib.import_module) */
};

static const struct construct constructs[] = {
	{DI_PYTHON, "import_module", 1}, {DI_PYTHON, "__import__", 1},
	{DI_PERL, "require", 0},
	{DI_RUBY, "require", 0}, {DI_RUBY, "require_relative", 0}, {DI_RUBY, "load", 0},
	{DI_NODE, "require", 0}, {DI_NODE, "import", 0},
};

/* Is there a computed import in the line [s, e)? */
static const char *scan_line(enum dynimport_lang l, const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	if (s < e && *s == '#' && l != DI_NODE)
		return NULL;
	if (e - s >= 2 && s[0] == '/' && s[1] == '/' && l == DI_NODE)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(constructs); i++) {
		const struct construct *k = &constructs[i];
		if (k->lang != l)
			continue;
		size_t n = strlen(k->name);
		for (const char *p = s; p + n <= e; p++) {
			if (memcmp(p, k->name, n))
				continue;
			char before = p > s ? p[-1] : ' ';
			char after = p + n < e ? p[n] : ' ';
			if (word_char(before) || before == '$' || (before == '.' && !k->dot_ok) || word_char(after))
				continue;
			if (p - s >= 4 && !memcmp(p - 4, "def ", 4)) /* ruby, python: a method of that name */
				continue;
			if (computed_arg(l, p + n, e))
				return k->name;
		}
	}
	/* perl: eval "use $module" */
	if (l == DI_PERL) {
		const char *ev = memmem(s, (size_t)(e - s), "eval", 4);
		const char *u = ev ? memmem(ev, (size_t)(e - ev), "use ", 4) : NULL;
		if (u) {
			u += 4;
			while (u < e && *u == ' ')
				u++;
			if (u < e && *u == '$')
				return "eval use";
		}
	}
	return NULL;
}

size_t dynimport_scan(enum dynimport_lang l, const char *text, size_t len, const char **what)
{
	if (l == DI_NONE)
		return 0;
	size_t line = 1;
	const char *s = text, *end = text + len;
	while (s < end) {
		const char *e = memchr(s, '\n', (size_t)(end - s));
		if (!e)
			e = end;
		const char *w = scan_line(l, s, e);
		if (w) {
			if (what)
				*what = w;
			return line;
		}
		s = e + 1;
		line++;
	}
	return 0;
}
