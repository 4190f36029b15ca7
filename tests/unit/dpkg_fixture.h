/* The dpkg unit tests' fixture: a one-layer image built by hand, its
 * tree, and the database dpkg_load_tree reads from it. Test code only,
 * shared by test_dpkg.c and test_dpkg_scale.c. */
#ifndef WH_TEST_DPKG_FIXTURE_H
#define WH_TEST_DPKG_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "analyzer/dpkg.h"

/* A pointer into a dead stack frame is an error here, not luck: the db
 * keeps the tree pointer it was loaded with, and this fixture once loaded
 * it from a copy of the tree on build()'s stack (issue 9: the scale test
 * crashed once the dpkg -S output overwrote that frame). */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1";
}
#endif

/* ---- a one-layer image built by hand ---- */

struct fix {
	struct wh_image img;
	struct wh_layer layer;
	struct wh_entry *ents;
	struct wh_extra *extras;
	size_t n, cap;
	struct wh_tree t;
	struct dpkg_db db;
	int built, loaded;
	struct arena strings;
};

static inline struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->img.reference = "test:dpkg";
	f->img.layers = &f->layer;
	f->img.n_layers = 1;
	arena_init(&f->strings);
	return f;
}

static inline void fix_free(struct fix *f)
{
	if (f->loaded)
		dpkg_free(&f->db);
	if (f->built)
		tree_free(&f->t);
	free(f->ents);
	free(f->extras);
	arena_free(&f->strings);
	free(f);
}

static inline struct wh_entry *add(struct fix *f, uint8_t type, const char *path)
{
	if (f->n == f->cap) {
		size_t old = f->cap;
		f->cap = f->cap ? f->cap * 2 : 64;
		f->ents = realloc(f->ents, f->cap * sizeof *f->ents);
		f->extras = realloc(f->extras, f->cap * sizeof *f->extras);
		assert_non_null(f->ents);
		assert_non_null(f->extras);
		/* an entry without captured content has a zeroed extra */
		memset(f->extras + old, 0, (f->cap - old) * sizeof *f->extras);
	}
	struct wh_entry *e = &f->ents[f->n++];
	memset(e, 0, sizeof *e);
	e->path = arena_strdup(&f->strings, path);
	e->type = type;
	e->mode = type == WH_T_DIR ? 0755 : 0644;
	return e;
}

/* a regular file of `size` bytes, no captured content */
static inline void reg(struct fix *f, const char *path, uint64_t size)
{
	add(f, WH_T_REG, path)->size = size;
}

static inline void dir(struct fix *f, const char *path)
{
	add(f, WH_T_DIR, path);
}

static inline void sym(struct fix *f, const char *path, const char *target)
{
	add(f, WH_T_SYMLINK, path)->link = arena_strdup(&f->strings, target);
}

/* a database file: its content captured, as the index pass does */
static inline void text(struct fix *f, const char *path, const char *content, size_t len)
{
	struct wh_entry *e = add(f, WH_T_REG, path);
	e->size = len; /* its extra, at the same index, is linked in build() */
	char *c = arena_alloc(&f->strings, len + 1);
	memcpy(c, content, len);
	c[len] = 0;
	f->extras[f->n - 1] = (struct wh_extra){.content = (uint8_t *)c, .content_len = len};
}

static inline void textz(struct fix *f, const char *path, const char *content)
{
	text(f, path, content, strlen(content));
}

static inline int build(struct fix *f, struct wh_error *err)
{
	/* entries and extras grew by realloc: point each entry at its extra now */
	for (size_t i = 0; i < f->n; i++)
		if (f->extras[i].content)
			f->ents[i].extra = &f->extras[i];
	f->layer.entries = f->ents;
	f->layer.n_entries = f->n;
	struct wh_error e2 = {0};
	assert_int_equal(tree_build(&f->t, &f->img, 0, 0, &e2), 0);
	tree_sort_by_name(&f->t);
	f->built = 1;
	/* the db keeps a pointer to the tree it was loaded from: f->t, which
	 * lives as long as the db (a copy on this frame's stack would dangle) */
	int rc = dpkg_load_tree(&f->t, &f->db, err);
	f->loaded = rc == 0;
	return rc;
}

static inline void build_ok(struct fix *f)
{
	struct wh_error err = {0};
	if (build(f, &err) != 0)
		fail_msg("dpkg_load: %s", err.msg);
}

static inline int keep_set(void *ctx, const struct dpkg_pkg *p)
{
	for (const char *const *k = ctx; *k; k++)
		if (!strcmp(*k, p->name))
			return 1;
	return 0;
}

static inline int keep_all(void *ctx, const struct dpkg_pkg *p)
{
	(void)ctx;
	(void)p;
	return 1;
}

#endif
