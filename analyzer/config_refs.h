/* config_refs: the files a program's configuration names, one recogniser
 * per configuration syntax (a table: apache, mysql).
 *
 * Each recogniser reads lines of one syntax and reports the paths they
 * name: a file (LoadModule, !include), a glob (Include), a directory
 * whose members the program loads by names the configuration does not
 * give (!includedir, plugin_dir, DocumentRoot). Relative paths are made
 * absolute against the syntax's root (apache's ServerRoot). Values built
 * from variables ($VAR, ${VAR}) are skipped. */
#ifndef WH_CONFIG_REFS_H
#define WH_CONFIG_REFS_H

#include <stddef.h>

enum config_ref_kind {
	CONFIG_REF_FILE,
	CONFIG_REF_GLOB, /* fnmatch pattern; matches that are directories are meant whole */
	CONFIG_REF_DIR,  /* a directory, meant whole */
	CONFIG_REF_PARENT, /* a file the program creates (socket, pid, log): its directory must exist */
	CONFIG_REF_DATA,   /* a server's data directory (mysql datadir): kept whole or dropped whole */
};

typedef void (*config_ref_fn)(void *ctx, const char *path, enum config_ref_kind kind, const char *directive);

/* The recogniser for an absolute image path ("apache", "mysql"), or NULL. */
const char *config_refs_syntax(const char *path);

/* Is path a main configuration file (apache2.conf, httpd.conf, my.cnf)?
 * Others are read only when a main one includes them. */
int config_refs_is_main(const char *path);

/* Report each path the text (len bytes, the content of the configuration
 * file at path) names. Returns how many were reported, or -1 when no
 * recogniser is for path. */
long config_refs_scan(const char *path, const char *text, size_t len, config_ref_fn fn, void *ctx);

#endif
