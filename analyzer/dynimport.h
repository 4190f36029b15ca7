/* dynimport: an interpreter's script that imports a module by a name it
 * computes at run time (python importlib.import_module(x), __import__(x);
 * perl require $x, eval "require $x"; ruby require x, load x; node
 * require(x), import(x)), found line by line in its text. A literal name
 * ("json", 'x', `y`) is no computed one. Comments (python, perl, ruby "#"
 * lines, node "//" lines) are skipped. */
#ifndef WH_DYNIMPORT_H
#define WH_DYNIMPORT_H

#include <stddef.h>

enum dynimport_lang { DI_NONE, DI_PYTHON, DI_PERL, DI_RUBY, DI_NODE };

/* The language of a script: its "#!" interpreter (may be NULL; "/usr/bin/env
 * python3" counts) first, else its name's extension. */
enum dynimport_lang dynimport_lang(const char *path, const char *shebang);

/* "python", "perl", "ruby", "node". */
const char *dynimport_lang_name(enum dynimport_lang l);

/* The first line (1-based) of text that imports by a computed name, or 0;
 * *what: the construct ("importlib.import_module", "require"). */
size_t dynimport_scan(enum dynimport_lang l, const char *text, size_t len, const char **what);

#endif
