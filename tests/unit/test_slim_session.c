/* slim_session: the pipeline (package database, reach, keep set, plan)
 * on a one-layer image built here: three text files under /data and a
 * dpkg database whose one package, pkg, owns /data/c.txt. The image has
 * no Entrypoint or Cmd, so what is kept under /data is exactly what the
 * options and the extra lists name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slimmer/slim_session.h"

static const struct spec {
	uint8_t type;
	const char *path;
	const char *content;
} image_spec[] = {
	{WH_T_DIR, "data", NULL},
	{WH_T_REG, "data/a.txt", "a\n"},
	{WH_T_REG, "data/b.txt", "b\n"},
	{WH_T_REG, "data/c.txt", "c\n"},
	{WH_T_DIR, "var", NULL},
	{WH_T_DIR, "var/lib", NULL},
	{WH_T_DIR, "var/lib/dpkg", NULL},
	{WH_T_DIR, "var/lib/dpkg/info", NULL},
	{WH_T_REG, "var/lib/dpkg/status",
	 "Package: pkg\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n"
	 "Description: owns c.txt\n\n"},
	{WH_T_REG, "var/lib/dpkg/info/pkg.list", "/data\n/data/c.txt\n"},
};
#define N_SPEC (sizeof image_spec / sizeof image_spec[0])
#define N_DPKG 4 /* the last entries: the database */

struct fixture {
	struct analysis a;
	struct wh_layer layer;
	struct wh_entry ents[N_SPEC];
	struct wh_extra extras[N_SPEC];
	struct slim_opts o;
	struct slim_session s;
};

enum { NO_DPKG, DPKG, DPKG_UNREADABLE /* the status's content not captured */ };

static struct fixture *fix_new(int dpkg)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->a.img.reference = "test:slim-session";
	f->a.img.config = json_pack("{s:{}}", "config");
	f->a.img.layers = &f->layer;
	f->a.img.n_layers = 1;
	f->layer.entries = f->ents;
	f->layer.n_entries = dpkg != NO_DPKG ? N_SPEC : N_SPEC - N_DPKG;
	for (size_t i = 0; i < f->layer.n_entries; i++) {
		const struct spec *s = &image_spec[i];
		struct wh_entry *e = &f->ents[i];
		e->path = s->path;
		e->type = s->type;
		e->mode = s->type == WH_T_DIR ? 0755 : 0644;
		if (s->content)
			e->size = strlen(s->content);
		if (s->content && !(dpkg == DPKG_UNREADABLE && !strcmp(s->path, "var/lib/dpkg/status"))) {
			f->extras[i].content = (uint8_t *)s->content;
			f->extras[i].content_len = e->size;
			e->extra = &f->extras[i];
		}
	}
	struct wh_error err = {0};
	assert_int_equal(tree_build(&f->a.tree, &f->a.img, 0, 0, &err), 0);
	tree_sort_by_name(&f->a.tree);
	slim_session_init(&f->s, &f->a, &f->o);
	return f;
}

static void fix_free(struct fixture *f)
{
	slim_session_free(&f->s);
	slim_opts_free(&f->o);
	tree_free(&f->a.tree);
	json_decref(f->a.img.config);
	free(f);
}

static int kept(struct fixture *f, const char *path)
{
	struct wh_node *n = tree_lookup(&f->a.tree, path);
	if (!n)
		fail_msg("no node %s", path);
	return reach_find(&f->s.r, n) != NULL;
}

static int out(struct fixture *f, const char *path)
{
	struct wh_node *n = tree_lookup(&f->a.tree, path);
	if (!n)
		fail_msg("no node %s", path);
	return (n->mark & SLIM_OUT) != 0;
}

static void test_options_and_extra(void **state)
{
	(void)state;
	struct fixture *f = fix_new(DPKG);
	struct wh_error err = {0};
	/* no plan before reach */
	assert_int_equal(slim_session_plan(&f->s, &err), WH_EINPUT);
	assert_false(f->s.have_plan);

	str_list_add(&f->o.keep, "/data/a.txt");
	struct slim_extra extra = {0};
	str_list_add(&extra.keep, "/data/b.txt");
	str_list_add(&extra.keep_package, "pkg");
	assert_int_equal(slim_session_reach(&f->s, &extra, &err), 0);
	assert_true(f->s.have_db);
	assert_true(f->s.have_reach);
	/* a from the options, b from extra, c through the package extra names */
	assert_true(kept(f, "/data/a.txt"));
	assert_true(kept(f, "/data/b.txt"));
	assert_true(kept(f, "/data/c.txt"));
	/* the options' lists are not changed by the extra ones */
	assert_int_equal(f->o.keep.n, 1);
	assert_int_equal(f->o.keep_package.n, 0);

	assert_int_equal(slim_session_plan(&f->s, &err), 0);
	assert_true(f->s.have_plan);
	assert_true(out(f, "/data/a.txt") && out(f, "/data/b.txt") && out(f, "/data/c.txt"));
	/* the package database stays for scanners (pkg still has a file) */
	assert_true(out(f, "/var/lib/dpkg/status"));
	assert_non_null(slim_plan_find(&f->s.plan, "data/c.txt"));

	/* again without the extra: the last results are dropped, only a is kept */
	assert_int_equal(slim_session_reach(&f->s, NULL, &err), 0);
	assert_false(f->s.have_plan);
	assert_true(kept(f, "/data/a.txt"));
	assert_false(kept(f, "/data/b.txt"));
	assert_false(kept(f, "/data/c.txt"));
	assert_int_equal(slim_session_plan(&f->s, &err), 0);
	assert_true(out(f, "/data/a.txt"));
	assert_false(out(f, "/data/b.txt"));
	assert_false(out(f, "/data/c.txt"));
	assert_null(slim_plan_find(&f->s.plan, "data/c.txt"));

	str_list_free(&extra.keep);
	str_list_free(&extra.keep_package);
	fix_free(f);
}

static void test_database_missing_unreadable_and_bad_option(void **state)
{
	(void)state;
	/* an image without a database: an empty one */
	struct fixture *f = fix_new(NO_DPKG);
	struct wh_error err = {0};
	str_list_add(&f->o.keep, "/data/b.txt");
	assert_int_equal(slim_session_reach(&f->s, NULL, &err), 0);
	assert_true(f->s.have_db);
	assert_false(f->s.db.found);
	assert_true(kept(f, "/data/b.txt"));
	assert_false(kept(f, "/data/a.txt"));
	fix_free(f);

	/* an unreadable one is a warning naming the file, not an error */
	f = fix_new(DPKG_UNREADABLE);
	str_list_add(&f->o.keep, "/data/b.txt");
	str_list_add(&f->o.keep_package, "pkg");
	assert_int_equal(slim_session_reach(&f->s, NULL, &err), 0);
	assert_false(f->s.have_db);
	assert_non_null(strstr(f->s.db_err.msg, "var/lib/dpkg/status"));
	assert_true(kept(f, "/data/b.txt"));
	assert_false(kept(f, "/data/c.txt")); /* no database: no package to keep */
	assert_int_equal(slim_session_plan(&f->s, &err), 0);
	fix_free(f);

	f = fix_new(NO_DPKG);
	str_list_add(&f->o.rules, "no-such-rule=on");
	memset(&err, 0, sizeof err);
	assert_int_equal(slim_session_reach(&f->s, NULL, &err), WH_EINPUT);
	assert_false(f->s.have_reach);
	assert_non_null(strstr(err.msg, "no-such-rule"));
	assert_int_equal(slim_session_plan(&f->s, &err), WH_EINPUT);
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_and_extra),
		cmocka_unit_test(test_database_missing_unreadable_and_bad_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
