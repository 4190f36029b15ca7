/* fuzz_scripts: the readers of an image's script and configuration text,
 * dynimport_scan (python, perl, ruby, node) and config_refs_scan (apache,
 * mysql), and dynimport_lang of a "#!" line.
 *
 * The input's first byte picks the reader (its value mod 6: the four
 * languages, then apache2.conf, then my.cnf); the rest is the text. A
 * reader aborts the target on a broken contract: a line past the text's
 * last, a line without the construct that made it, a relative path or a
 * kind outside the enum reported by a recogniser, or a count that is not
 * the number of reports. */
#include <stdlib.h>
#include <string.h>

#include "analyzer/config_refs.h"
#include "analyzer/dynimport.h"
#include "fuzz.h"

struct refs {
	long n;
};

static void on_ref(void *ctx, const char *path, enum config_ref_kind kind, const char *directive)
{
	struct refs *r = ctx;
	if (!path || path[0] != '/' || !directive || kind < CONFIG_REF_FILE || kind > CONFIG_REF_DATA)
		abort();
	r->n++;
}

static size_t count_lines(const char *t, size_t len)
{
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += t[i] == '\n';
	return n;
}

int fuzz_scripts(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] % 6;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	if (which < 4) {
		static const enum dynimport_lang langs[] = {DI_PYTHON, DI_PERL, DI_RUBY, DI_NODE};
		const char *what = NULL;
		size_t line = dynimport_scan(langs[which], text, len, &what);
		if (line > count_lines(text, len) || (line && !what))
			abort();
		fuzz_report(dynimport_lang_name(langs[which]), (int)line, what);
		/* the first line as a "#!" interpreter: a NUL-terminated copy */
		size_t l1 = 0;
		while (l1 < len && text[l1] != '\n' && text[l1])
			l1++;
		char *sb = malloc(l1 + 1);
		if (!sb)
			abort();
		memcpy(sb, text, l1);
		sb[l1] = 0;
		enum dynimport_lang l = dynimport_lang("/app/x", sb);
		if (l != DI_NONE && !dynimport_lang_name(l))
			abort();
		free(sb);
		return 0;
	}
	const char *path = which == 4 ? "/etc/apache2/apache2.conf" : "/etc/mysql/my.cnf";
	struct refs r = {0};
	long n = config_refs_scan(path, text, len, on_ref, &r);
	if (n != r.n)
		abort();
	fuzz_report(path, (int)n, "paths");
	return 0;
}

WH_FUZZ_MAIN(fuzz_scripts)
