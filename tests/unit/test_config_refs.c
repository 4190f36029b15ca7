/* config_refs: each recogniser on a configuration text written here, with
 * the paths its syntax names worked out by hand from the servers' manuals
 * (httpd's core/mod_so/mod_mime/mod_alias directives, mariadb's option
 * files), rendered as "KIND PATH" lines in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/config_refs.h"

static void collect(void *ctx, const char *path, enum config_ref_kind kind, const char *directive)
{
	(void)directive;
	static const char *const k[] = {"file", "glob", "dir", "parent", "data"};
	char *out = ctx;
	size_t l = strlen(out);
	snprintf(out + l, 4096 - l, "%s %s\n", k[kind], path);
}

static void check(const char *path, const char *text, const char *want, long n)
{
	char got[4096] = "";
	assert_int_equal(config_refs_scan(path, text, strlen(text), collect, got), n);
	assert_string_equal(got, want);
}

static void test_syntax(void **state)
{
	(void)state;
	assert_string_equal(config_refs_syntax("/etc/apache2/apache2.conf"), "apache");
	assert_string_equal(config_refs_syntax("/etc/apache2/mods-enabled/cgid.load"), "apache");
	assert_string_equal(config_refs_syntax("/etc/httpd/conf/httpd.conf"), "apache");
	assert_string_equal(config_refs_syntax("/etc/mysql/my.cnf"), "mysql");
	assert_string_equal(config_refs_syntax("/etc/mysql/mariadb.conf.d/50-server.cnf"), "mysql");
	assert_null(config_refs_syntax("/etc/passwd"));
	assert_null(config_refs_syntax("/usr/share/doc/apache2/README"));
	char got[16] = "";
	assert_int_equal(config_refs_scan("/etc/hosts", "x", 1, collect, got), -1);
}

static void test_apache(void **state)
{
	(void)state;
	check("/etc/apache2/apache2.conf",
	      "# Include /not/this.conf\n"
	      "Mutex file:${APACHE_LOCK_DIR} default\n"
	      "PidFile ${APACHE_PID_FILE}\n"
	      "IncludeOptional mods-enabled/*.load\n"
	      "  include   \"ports.conf\"\n"
	      "ErrorLog /var/log/apache2/error.log\n"
	      "CustomLog \"|/usr/bin/rotatelogs x\" common\n"
	      "<Directory /var/www/>\n"
	      "\tDocumentRoot /var/www/html\n"
	      "</Directory>\n"
	      "ScriptAlias /cgi-bin/ /usr/lib/cgi-bin/\n"
	      "TypesConfig /etc/mime.types\r\n"
	      "ServerRoot \"/srv/httpd\"\n"
	      "LoadModule cgid_module modules/mod_cgid.so\n",
	      "glob /etc/apache2/mods-enabled/*.load\n"
	      "glob /etc/apache2/ports.conf\n"
	      "parent /var/log/apache2/error.log\n"
	      "dir /var/www/html\n"
	      "dir /usr/lib/cgi-bin\n"
	      "file /etc/mime.types\n"
	      "file /srv/httpd/modules/mod_cgid.so\n",
	      7);
	check("/etc/apache2/mods-enabled/cgid.load", "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so",
	      "file /usr/lib/apache2/modules/mod_cgid.so\n", 1);
}

static void test_mysql(void **state)
{
	(void)state;
	check("/etc/mysql/my.cnf",
	      "# !include /not/this.cnf\n"
	      "[client-server]\n"
	      "socket = /run/mysqld/mysqld.sock\n"
	      "!include /etc/mysql/mariadb.cnf\n"
	      "!includedir /etc/mysql/conf.d/\n"
	      "[mysqld]\n"
	      "plugin-dir=/usr/lib/mysql/plugin\n"
	      "  character_sets_dir = \"/usr/share/mysql/charsets\"\n"
	      "datadir = /var/lib/mysql\n"
	      "pid-file = /run/mysqld/mysqld.pid\n",
	      "parent /run/mysqld/mysqld.sock\n"
	      "file /etc/mysql/mariadb.cnf\n"
	      "dir /etc/mysql/conf.d\n"
	      "dir /usr/lib/mysql/plugin\n"
	      "dir /usr/share/mysql/charsets\n"
	      "data /var/lib/mysql\n"
	      "parent /run/mysqld/mysqld.pid\n",
	      7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_apache),
		cmocka_unit_test(test_mysql),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
