/* dynimport: each interpreter's import constructs, with a literal name
 * (no finding) and with a name computed at run time (the line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "analyzer/dynimport.h"

static void expect(enum dynimport_lang l, const char *text, size_t line, const char *what)
{
	const char *w = NULL;
	size_t got = dynimport_scan(l, text, strlen(text), &w);
	if (got != line)
		fprintf(stderr, "%s: [%s]: line %zu, want %zu\n", dynimport_lang_name(l), text, got, line);
	assert_int_equal(got, line);
	if (what)
		assert_string_equal(w, what);
}

static void test_lang(void **state)
{
	(void)state;
	assert_int_equal(dynimport_lang("/app/x", "/usr/bin/python3.11"), DI_PYTHON);
	assert_int_equal(dynimport_lang("/app/x", "/usr/bin/env python3"), DI_PYTHON);
	assert_int_equal(dynimport_lang("/app/x", "/usr/bin/env -S node --harmony"), DI_NODE);
	assert_int_equal(dynimport_lang("/app/x", "/usr/bin/perl -w"), DI_PERL);
	assert_int_equal(dynimport_lang("/app/x", "/usr/bin/ruby3.1"), DI_RUBY);
	assert_int_equal(dynimport_lang("/app/x.py", "/bin/sh"), DI_NONE); /* the "#!" line decides */
	assert_int_equal(dynimport_lang("/app/x", "/usr/bin/perlx"), DI_NONE);
	assert_int_equal(dynimport_lang("/app/app.py", NULL), DI_PYTHON);
	assert_int_equal(dynimport_lang("/app/lib/A.pm", NULL), DI_PERL);
	assert_int_equal(dynimport_lang("/app/app.rb", NULL), DI_RUBY);
	assert_int_equal(dynimport_lang("/app/app.mjs", NULL), DI_NODE);
	assert_int_equal(dynimport_lang("/app/app.txt", NULL), DI_NONE);
}

static void test_python(void **state)
{
	(void)state;
	expect(DI_PYTHON, "import json\nimport importlib\nm = importlib.import_module('json')\n", 0, NULL);
	expect(DI_PYTHON, "from importlib import import_module\nx = import_module(\"a.b\", package=None)\n", 0, NULL);
	expect(DI_PYTHON, "os = __import__('os')\n", 0, NULL);
	expect(DI_PYTHON, "# importlib.import_module(name)\n", 0, NULL);
	expect(DI_PYTHON, "def __import__(name):\n    pass\n", 0, NULL);
	expect(DI_PYTHON, "import importlib\nname = 'x'\nm = importlib.import_module(name)\n", 3, "import_module");
	expect(DI_PYTHON, "m = importlib.import_module('plugins.' + name)\n", 1, "import_module");
	expect(DI_PYTHON, "m = importlib.import_module(f\"plugins.{name}\")\n", 1, "import_module");
	expect(DI_PYTHON, "m = importlib.import_module('plugins.%s' % name)\n", 1, "import_module");
	expect(DI_PYTHON, "\n\nmod = __import__(sys.argv[1])\n", 3, "__import__");
}

static void test_perl(void **state)
{
	(void)state;
	expect(DI_PERL, "use strict;\nrequire POSIX;\nrequire 5.006;\nrequire 'lib/x.pl';\n", 0, NULL);
	expect(DI_PERL, "# require $x\nmy $required = 1;\n", 0, NULL);
	expect(DI_PERL, "my $m = shift;\nrequire $m;\n", 2, "require");
	expect(DI_PERL, "eval \"require $class\" or die;\n", 1, "require");
	expect(DI_PERL, "eval \"use $class; 1\" or die;\n", 1, "eval use");
	expect(DI_PERL, "require \"$dir/plugin.pl\";\n", 1, "require");
	expect(DI_PERL, "require 'Plugin/' . $name . '.pm';\n", 1, "require");
}

static void test_ruby(void **state)
{
	(void)state;
	expect(DI_RUBY, "require 'json'\nrequire \"socket\"\nrequire_relative 'lib/x'\nload 'x.rb'\n", 0, NULL);
	expect(DI_RUBY, "load = 1\ndef load(x)\nend\nobj.load(name)\n# require name\n", 0, NULL);
	expect(DI_RUBY, "autoload :Foo, 'foo'\nrequire(:sym)\n", 0, NULL);
	expect(DI_RUBY, "name = ARGV[0]\nrequire name\n", 2, "require");
	expect(DI_RUBY, "require \"plugins/#{name}\"\n", 1, "require");
	expect(DI_RUBY, "require File.join(dir, 'x')\n", 1, "require");
	expect(DI_RUBY, "require_relative(path)\n", 1, "require_relative");
}

static void test_node(void **state)
{
	(void)state;
	expect(DI_NODE, "const fs = require('fs');\nconst x = require(\"./x\");\nconst y = require(`y`);\n", 0, NULL);
	expect(DI_NODE, "import fs from 'fs';\nconst m = await import('./m.js');\nrequire.resolve(name);\n", 0, NULL);
	expect(DI_NODE, "// require(name)\nmyrequire(name);\nobj.require(name);\n", 0, NULL);
	expect(DI_NODE, "const name = process.argv[2];\nconst p = require(name);\n", 2, "require");
	expect(DI_NODE, "const p = require('./plugins/' + name);\n", 1, "require");
	expect(DI_NODE, "const p = require(`./plugins/${name}`);\n", 1, "require");
	expect(DI_NODE, "const m = await import(spec);\n", 1, "import");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_perl),
		cmocka_unit_test(test_ruby),
		cmocka_unit_test(test_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
