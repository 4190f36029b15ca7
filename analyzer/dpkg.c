/* dpkg: the package database of an image (see dpkg.h).
 *
 * What dpkg does, and where it was checked:
 *   - status is deb822: paragraphs of "Field: value" lines, continuation
 *     lines start with a space or tab, paragraphs end at a blank line;
 *     Status is "WANT FLAG STATE" (dpkg's lib/dpkg/parse.c, dpkg-query(1)).
 *   - info/NAME.list for packages that are not Multi-Arch: same,
 *     info/NAME:ARCH.list for those that are (dpkg's pkg_infodb_get_file).
 *   - diversions: three lines per diversion, from, to, the diverting
 *     package or ":" for a local one (dpkg's src/divertdb.c); a file that
 *     a package other than the diverter ships as FROM is unpacked as TO.
 *   - merged /usr: dpkg (1.21, bookworm) keeps the paths as the package
 *     wrote them, so lists say /bin/ls while the file is usr/bin/ls behind
 *     the bin -> usr/bin link; `dpkg -S /usr/bin/ls` finds nothing there.
 */
#include "analyzer/dpkg.h"
#include "analyzer/pathres.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STATUS_PATH "var/lib/dpkg/status"
#define STATUS_D "var/lib/dpkg/status.d"
#define INFO_DIR "var/lib/dpkg/info"
#define DIVERSIONS_PATH "var/lib/dpkg/diversions"
#define NO_LINK UINT32_MAX

struct diversion {
	const char *from, *to; /* normalized, no leading "/" */
	const char *pkg;       /* NULL: local */
};

/* The captured content of a database file. */
static int file_content(const struct wh_tree *t, struct wh_node *n, const char *path, const char **text,
                        size_t *len, struct wh_error *err)
{
	if (n && n->type == WH_T_SYMLINK)
		n = pathres_node(t, NULL, path, PATHRES_FOLLOW);
	if (n && n->type == WH_T_HARDLINK && n->e && n->e->link)
		n = pathres_node(t, NULL, n->e->link, PATHRES_FOLLOW);
	if (!n || n->type != WH_T_REG || !n->e)
		return wh_err(err, WH_EINPUT, "/%s: not a regular file of the image", path);
	if (!n->e->extra || !n->e->extra->content)
		return wh_err(err, WH_EINPUT, "/%s: its content was not captured by the index pass (%llu bytes; too big?)",
		              path, (unsigned long long)n->size);
	*text = (const char *)n->e->extra->content;
	*len = n->e->extra->content_len;
	return 0;
}

/* ---- the owner map ------------------------------------------------------- */

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x;
}

static uint32_t *slot_of(const struct dpkg_db *db, const struct wh_node *n)
{
	if (!db->n_slots)
		return NULL;
	size_t mask = db->n_slots - 1;
	for (size_t i = ptr_hash(n) & mask;; i = (i + 1) & mask) {
		uint32_t l = db->slots[i];
		if (l == NO_LINK || db->links[l].node == n)
			return &db->slots[i];
	}
}

static void slots_grow(struct dpkg_db *db)
{
	size_t old_n = db->n_slots;
	uint32_t *old = db->slots;
	db->n_slots = old_n ? old_n * 2 : 1024;
	db->slots = xmalloc(db->n_slots * sizeof *db->slots);
	memset(db->slots, 0xff, db->n_slots * sizeof *db->slots);
	for (size_t i = 0; i < old_n; i++)
		if (old[i] != NO_LINK)
			*slot_of(db, db->links[old[i]].node) = old[i];
	free(old);
}

static void add_owner(struct dpkg_db *db, struct wh_node *n, uint32_t pi)
{
	if (db->n_links + 1 >= db->cap_links) {
		db->cap_links = db->cap_links ? db->cap_links * 2 : 4096;
		db->links = xrealloc(db->links, db->cap_links * sizeof *db->links);
	}
	if ((db->n_heads + 1) * 2 > db->n_slots)
		slots_grow(db);
	uint32_t *slot = slot_of(db, n);
	uint32_t *tail = slot;
	if (*slot == NO_LINK)
		db->n_heads++;
	while (*tail != NO_LINK) {
		if (db->links[*tail].pkg == pi)
			return; /* listed twice (e.g. "/bin/x" and "/usr/bin/x") */
		tail = &db->links[*tail].next;
	}
	uint32_t li = (uint32_t)db->n_links++;
	db->links[li] = (struct dpkg_owner_link){.node = n, .pkg = pi, .next = NO_LINK};
	*tail = li;

	struct dpkg_pkg *p = &db->pkgs[pi];
	if (p->n_files == p->files_cap) {
		p->files_cap = p->files_cap ? p->files_cap * 2 : 16;
		p->files = xrealloc(p->files, p->files_cap * sizeof *p->files);
	}
	p->files[p->n_files++] = n;
	if (n->type != WH_T_DIR)
		p->n_nondir++;
	if (n->type == WH_T_REG)
		p->size_bytes += n->size;
}

/* ---- status paragraphs ----------------------------------------------------- */

struct para {
	size_t off, line;
	const char *f[4]; /* Package, Architecture, Version, Status */
	size_t flen[4];
	size_t status_line;
};

static const char *const para_fields[4] = {"Package", "Architecture", "Version", "Status"};

static char *trimdup(struct arena *a, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return arena_strndup(a, s, n);
}

static int para_finish(struct dpkg_db *db, const char *file, const struct para *pa, int status_d, size_t *cap,
                       struct wh_error *err)
{
	char *name = pa->f[0] ? trimdup(&db->arena, pa->f[0], pa->flen[0]) : NULL;
	if (!name || !*name)
		return wh_err(err, WH_EINPUT, "/%s line %zu: paragraph without a Package field", file, pa->line);
	if (strchr(name, ' ') || strchr(name, ':') || strchr(name, '/'))
		return wh_err(err, WH_EINPUT, "/%s line %zu: bad package name \"%.100s\"", file, pa->line, name);
	const char *state = "installed";
	if (pa->f[3]) {
		char *st = trimdup(&db->arena, pa->f[3], pa->flen[3]);
		char *w[4] = {0};
		int nw = 0;
		for (char *q = st; *q && nw < 4;) {
			while (*q == ' ' || *q == '\t')
				q++;
			if (!*q)
				break;
			w[nw++] = q;
			while (*q && *q != ' ' && *q != '\t')
				q++;
			if (*q)
				*q++ = 0;
		}
		if (nw != 3)
			return wh_err(err, WH_EINPUT, "/%s line %zu: package %s: Status \"%.100s\" is not \"WANT FLAG STATE\"",
			              file, pa->status_line, name,
			              trimdup(&db->arena, pa->f[3], pa->flen[3]));
		state = w[2];
	} else if (!status_d) {
		return wh_err(err, WH_EINPUT, "/%s line %zu: package %s has no Status field", file, pa->line, name);
	}
	if (db->n_pkgs == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		db->pkgs = xrealloc(db->pkgs, *cap * sizeof *db->pkgs);
	}
	struct dpkg_pkg *p = &db->pkgs[db->n_pkgs++];
	memset(p, 0, sizeof *p);
	p->name = name;
	p->arch = pa->f[1] ? trimdup(&db->arena, pa->f[1], pa->flen[1]) : "";
	p->version = pa->f[2] ? trimdup(&db->arena, pa->f[2], pa->flen[2]) : "";
	p->state = state;
	p->installed = !strcmp(state, "installed");
	p->present = strcmp(state, "not-installed") != 0 && strcmp(state, "config-files") != 0;
	p->source = file;
	p->para_off = pa->off;
	return 0;
}

/* Parse the paragraphs of a status file; file is the image path (kept). */
static int parse_status(struct dpkg_db *db, const char *file, const char *text, size_t len, int status_d,
                        size_t *cap, size_t *prefix, struct wh_error *err)
{
	struct para pa;
	int in_para = 0;
	size_t first_new = db->n_pkgs;
	size_t line = 0;
	*prefix = len;
	for (size_t i = 0; i < len;) {
		const char *ls = text + i;
		const char *nl = memchr(ls, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - ls) : len - i;
		size_t next = nl ? i + ll + 1 : len;
		line++;
		if (memchr(ls, 0, ll))
			return wh_err(err, WH_EINPUT, "/%s line %zu: a NUL byte", file, line);
		size_t blank = 0;
		while (blank < ll && (ls[blank] == ' ' || ls[blank] == '\t' || ls[blank] == '\r'))
			blank++;
		if (blank == ll) {
			/* a separator */
			if (in_para) {
				int rc = para_finish(db, file, &pa, status_d, cap, err);
				if (rc < 0)
					return rc;
				in_para = 0;
			}
		} else if (ls[0] == ' ' || ls[0] == '\t') {
			if (!in_para)
				return wh_err(err, WH_EINPUT, "/%s line %zu: continuation line outside a paragraph: \"%.80s\"",
				              file, line, ls + blank);
		} else {
			const char *colon = memchr(ls, ':', ll);
			size_t nlen = colon ? (size_t)(colon - ls) : 0;
			if (!colon || nlen == 0 || memchr(ls, ' ', nlen) || memchr(ls, '\t', nlen))
				return wh_err(err, WH_EINPUT, "/%s line %zu: not a \"Field: value\" line: \"%.*s\"", file, line,
				              (int)(ll > 80 ? 80 : ll), ls);
			if (!in_para) {
				memset(&pa, 0, sizeof pa);
				pa.off = i;
				pa.line = line;
				in_para = 1;
				if (db->n_pkgs > first_new)
					db->pkgs[db->n_pkgs - 1].para_len = i - db->pkgs[db->n_pkgs - 1].para_off;
				else
					*prefix = i;
			}
			for (int k = 0; k < 4; k++)
				if (strlen(para_fields[k]) == nlen && !strncasecmp(ls, para_fields[k], nlen)) {
					if (pa.f[k])
						return wh_err(err, WH_EINPUT, "/%s line %zu: field %s given twice in one paragraph",
						              file, line, para_fields[k]);
					pa.f[k] = colon + 1;
					pa.flen[k] = ll - nlen - 1;
					if (k == 3)
						pa.status_line = line;
				}
		}
		i = next;
	}
	if (in_para) {
		int rc = para_finish(db, file, &pa, status_d, cap, err);
		if (rc < 0)
			return rc;
	}
	if (db->n_pkgs > first_new)
		db->pkgs[db->n_pkgs - 1].para_len = len - db->pkgs[db->n_pkgs - 1].para_off;
	return 0;
}

/* ---- lookups ------------------------------------------------------------------ */

static int cmp_by_name(const void *a, const void *b, void *ctx)
{
	const struct dpkg_db *db = ctx;
	const struct dpkg_pkg *x = &db->pkgs[*(const uint32_t *)a], *y = &db->pkgs[*(const uint32_t *)b];
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	c = strcmp(x->arch, y->arch);
	if (c)
		return c;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* First index in by_name whose name is >= name (n chars of it). */
static size_t lower_bound(const struct dpkg_db *db, const char *name, size_t n)
{
	size_t lo = 0, hi = db->n_pkgs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = db->pkgs[db->by_name[mid]].name;
		int c = strncmp(m, name, n);
		if (c == 0 && m[n])
			c = 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct dpkg_pkg *find_n(const struct dpkg_db *db, const char *spec, size_t len)
{
	const char *colon = memchr(spec, ':', len);
	size_t nlen = colon ? (size_t)(colon - spec) : len;
	const char *arch = colon ? colon + 1 : NULL;
	size_t alen = colon ? len - nlen - 1 : 0;
	const struct dpkg_pkg *any = NULL;
	for (size_t i = lower_bound(db, spec, nlen); i < db->n_pkgs; i++) {
		const struct dpkg_pkg *p = &db->pkgs[db->by_name[i]];
		if (strncmp(p->name, spec, nlen) || p->name[nlen])
			break;
		if (arch) {
			if (!strncmp(p->arch, arch, alen) && !p->arch[alen])
				return p;
			continue;
		}
		if (p->present)
			return p;
		if (!any)
			any = p;
	}
	return any;
}

const struct dpkg_pkg *dpkg_find(const struct dpkg_db *db, const char *name)
{
	if (!db->n_pkgs || !name)
		return NULL;
	return find_n(db, name, strlen(name));
}

/* ---- loading --------------------------------------------------------------------- */

static int cmp_div(const void *a, const void *b)
{
	return strcmp(((const struct diversion *)a)->from, ((const struct diversion *)b)->from);
}

static int parse_diversions(struct dpkg_db *db, const char *text, size_t len, struct diversion **out, size_t *n,
                            struct wh_error *err)
{
	const char *l[3];
	size_t ll[3];
	int k = 0;
	size_t line = 0, cap = 0;
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < len;) {
		const char *ls = text + i;
		const char *nl = memchr(ls, '\n', len - i);
		size_t len1 = nl ? (size_t)(nl - ls) : len - i;
		i = nl ? i + len1 + 1 : len;
		line++;
		l[k] = ls;
		ll[k] = len1;
		if (++k < 3)
			continue;
		k = 0;
		struct diversion d;
		char raw[4096], buf[4096];
		struct wh_error e2 = {0};
		for (int j = 0; j < 2; j++) {
			if (ll[j] == 0 || l[j][0] != '/' || ll[j] >= sizeof buf || memchr(l[j], 0, ll[j]))
				return wh_err(err, WH_EINPUT, "/%s line %zu: \"%.*s\" is not an absolute path", DIVERSIONS_PATH,
				              line - 2 + (size_t)j, (int)(ll[j] > 80 ? 80 : ll[j]), l[j]);
			memcpy(raw, l[j], ll[j]);
			raw[ll[j]] = 0;
			if (path_normalize(raw, buf, sizeof buf, &e2) < 0)
				return wh_err(err, WH_EINPUT, "/%s line %zu: %s", DIVERSIONS_PATH, line - 2 + (size_t)j, e2.msg);
			if (j == 0)
				d.from = arena_strdup(&db->arena, buf);
			else
				d.to = arena_strdup(&db->arena, buf);
		}
		if (ll[2] == 0)
			return wh_err(err, WH_EINPUT, "/%s line %zu: empty package name", DIVERSIONS_PATH, line);
		d.pkg = (ll[2] == 1 && l[2][0] == ':') ? NULL : arena_strndup(&db->arena, l[2], ll[2]);
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*n)++] = d;
	}
	if (k != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return wh_err(err, WH_EINPUT, "/%s: %zu lines, not a multiple of 3 (from, to, package)", DIVERSIONS_PATH,
		              line);
	}
	if (*n > 1) /* an empty file leaves *out NULL: qsort(NULL, 0) is undefined */
		qsort(*out, *n, sizeof **out, cmp_div);
	return 0;
}

static const struct diversion *find_div(const struct diversion *d, size_t n, const char *from)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(d[mid].from, from);
		if (!c)
			return &d[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Read a package's list (or md5sums) and own what it names. */
static int load_list(struct dpkg_db *db, uint32_t pi, const struct diversion *divs, size_t ndivs,
                     struct wh_error *err)
{
	struct dpkg_pkg *p = &db->pkgs[pi];
	const char *text;
	size_t len;
	int rc = file_content(db->tree, tree_lookup(db->tree, p->list), p->list, &text, &len, err);
	if (rc < 0)
		return rc;
	size_t ln = strlen(p->list);
	int md5 = ln > 8 && !strcmp(p->list + ln - 8, ".md5sums");
	char raw[4096], buf[4096];
	size_t line = 0;
	for (size_t i = 0; i < len;) {
		const char *ls = text + i;
		const char *nl = memchr(ls, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - ls) : len - i;
		i = nl ? i + ll + 1 : len;
		line++;
		if (ll && ls[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			continue;
		if (md5) {
			/* "HEX  path" (path relative to /) */
			size_t h = 0;
			while (h < ll && ls[h] != ' ' && ls[h] != '\t')
				h++;
			while (h < ll && (ls[h] == ' ' || ls[h] == '\t'))
				h++;
			if (h == 0 || h == ll)
				return wh_err(err, WH_EINPUT, "/%s line %zu: not \"MD5SUM  PATH\"", p->list, line);
			ls += h;
			ll -= h;
		} else if (ls[0] != '/') {
			return wh_err(err, WH_EINPUT, "/%s line %zu: \"%.*s\" is not an absolute path", p->list, line,
			              (int)(ll > 80 ? 80 : ll), ls);
		}
		if (ll >= sizeof buf || memchr(ls, 0, ll))
			return wh_err(err, WH_EINPUT, "/%s line %zu: bad path", p->list, line);
		memcpy(raw, ls, ll);
		raw[ll] = 0;
		struct wh_error e2 = {0};
		if (path_normalize(raw, buf, sizeof buf, &e2) < 0)
			return wh_err(err, WH_EINPUT, "/%s line %zu: %s", p->list, line, e2.msg);
		if (!buf[0])
			continue; /* "/." */
		p->n_listed++;
		const char *path = buf;
		const struct diversion *d = find_div(divs, ndivs, buf);
		if (d && (!d->pkg || strcmp(d->pkg, p->name)))
			path = d->to;
		struct wh_node *n = pathres_node(db->tree, NULL, path, 0);
		if (n && n != db->tree->root)
			add_owner(db, n, pi);
	}
	return 0;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a > b && !strcmp(s + a - b, suf);
}

int dpkg_load_tree(const struct wh_tree *t, struct dpkg_db *db, struct wh_error *err)
{
	memset(db, 0, sizeof *db);
	arena_init(&db->arena);
	db->tree = t;
	size_t cap = 0;
	struct diversion *divs = NULL;
	size_t ndivs = 0;
	int rc = 0;

	struct wh_node *st = tree_lookup(t, STATUS_PATH);
	if (st) {
		db->found = 1;
		rc = file_content(t, st, STATUS_PATH, &db->status_text, &db->status_len, err);
		if (rc == 0)
			rc = parse_status(db, STATUS_PATH, db->status_text, db->status_len, 0, &cap, &db->status_prefix, err);
		if (rc < 0)
			goto out;
	}
	struct wh_node *sd = tree_lookup(t, STATUS_D);
	if (sd && sd->type == WH_T_DIR) {
		db->found = 1;
		for (struct wh_node *c = sd->child; c; c = c->next) {
			if (has_suffix(c->name, ".md5sums") || c->type == WH_T_DIR)
				continue;
			char *path = arena_alloc(&db->arena, strlen(STATUS_D) + strlen(c->name) + 2);
			sprintf(path, "%s/%s", STATUS_D, c->name);
			const char *text;
			size_t len, prefix;
			rc = file_content(t, c, path, &text, &len, err);
			if (rc == 0)
				rc = parse_status(db, path, text, len, 1, &cap, &prefix, err);
			if (rc < 0)
				goto out;
		}
	}

	db->by_name = xmalloc((db->n_pkgs ? db->n_pkgs : 1) * sizeof *db->by_name);
	for (size_t i = 0; i < db->n_pkgs; i++)
		db->by_name[i] = (uint32_t)i;
	qsort_r(db->by_name, db->n_pkgs, sizeof *db->by_name, cmp_by_name, db);

	/* which list belongs to which package */
	struct wh_node *info = tree_lookup(t, INFO_DIR);
	if (info && info->type == WH_T_DIR && db->n_pkgs) {
		for (struct wh_node *c = info->child; c; c = c->next) {
			if (!has_suffix(c->name, ".list"))
				continue;
			struct dpkg_pkg *p = (struct dpkg_pkg *)find_n(db, c->name, strlen(c->name) - 5);
			if (!p || p->list || !p->present)
				continue; /* a list dpkg left behind */
			char *path = arena_alloc(&db->arena, strlen(INFO_DIR) + strlen(c->name) + 2);
			sprintf(path, "%s/%s", INFO_DIR, c->name);
			p->list = path;
		}
	}
	if (sd && sd->type == WH_T_DIR) {
		for (struct wh_node *c = sd->child; c; c = c->next) {
			if (!has_suffix(c->name, ".md5sums"))
				continue;
			size_t stem = strlen(c->name) - 8;
			struct dpkg_pkg *p = NULL;
			for (size_t i = 0; i < db->n_pkgs && !p; i++) {
				const char *s = db->pkgs[i].source;
				if (!strncmp(s, STATUS_D "/", sizeof STATUS_D) && strlen(s + sizeof STATUS_D) == stem &&
				    !strncmp(s + sizeof STATUS_D, c->name, stem))
					p = &db->pkgs[i];
			}
			if (!p)
				p = (struct dpkg_pkg *)find_n(db, c->name, stem);
			if (!p || p->list)
				continue;
			char *path = arena_alloc(&db->arena, strlen(STATUS_D) + strlen(c->name) + 2);
			sprintf(path, "%s/%s", STATUS_D, c->name);
			p->list = path;
		}
	}

	struct wh_node *dv = tree_lookup(t, DIVERSIONS_PATH);
	if (dv) {
		const char *text;
		size_t len;
		rc = file_content(t, dv, DIVERSIONS_PATH, &text, &len, err);
		if (rc == 0)
			rc = parse_diversions(db, text, len, &divs, &ndivs, err);
		db->div_text = text;
		db->div_len = len;
		if (rc < 0)
			goto out;
		db->n_diversions = ndivs;
	}

	for (size_t i = 0; i < db->n_pkgs; i++)
		if (db->pkgs[i].list && (rc = load_list(db, (uint32_t)i, divs, ndivs, err)) < 0)
			goto out;
out:
	free(divs);
	if (rc < 0)
		dpkg_free(db);
	return rc;
}

int dpkg_load(const struct analysis *a, struct dpkg_db *db, struct wh_error *err)
{
	return dpkg_load_tree(&a->tree, db, err);
}

void dpkg_free(struct dpkg_db *db)
{
	for (size_t i = 0; i < db->n_pkgs; i++)
		free(db->pkgs[i].files);
	free(db->pkgs);
	free(db->by_name);
	free(db->links);
	free(db->slots);
	arena_free(&db->arena);
	memset(db, 0, sizeof *db);
}

/* ---- queries ------------------------------------------------------------------------ */

size_t dpkg_owners(const struct dpkg_db *db, const struct wh_node *n, const struct dpkg_pkg **out, size_t max)
{
	if (!n)
		return 0;
	uint32_t *slot = slot_of(db, n);
	size_t k = 0;
	for (uint32_t l = slot ? *slot : NO_LINK; l != NO_LINK; l = db->links[l].next) {
		if (k < max)
			out[k] = &db->pkgs[db->links[l].pkg];
		k++;
	}
	return k;
}

const struct dpkg_pkg *dpkg_owner_pkg(const struct dpkg_db *db, const struct wh_node *n)
{
	const struct dpkg_pkg *p = NULL;
	return dpkg_owners(db, n, &p, 1) ? p : NULL;
}

const char *dpkg_owner(const struct dpkg_db *db, const struct wh_node *n)
{
	const struct dpkg_pkg *p = dpkg_owner_pkg(db, n);
	return p ? p->name : NULL;
}

const struct dpkg_pkg *dpkg_owner_path(const struct dpkg_db *db, const char *path)
{
	if (!db->tree || !db->tree->root)
		return NULL;
	return dpkg_owner_pkg(db, pathres_node(db->tree, NULL, path, 0));
}

struct wh_node *const *dpkg_package_files(const struct dpkg_db *db, const struct dpkg_pkg *p, size_t *n)
{
	(void)db;
	*n = p->n_files;
	return p->files;
}

const struct dpkg_pkg *dpkg_db_file_package(const struct dpkg_db *db, const char *path)
{
	while (*path == '/')
		path++;
	if (!strncmp(path, INFO_DIR "/", sizeof INFO_DIR)) {
		const char *base = path + sizeof INFO_DIR;
		const char *dot = strrchr(base, '.');
		if (!dot || dot == base || strchr(base, '/'))
			return NULL;
		return find_n(db, base, (size_t)(dot - base));
	}
	if (!strncmp(path, STATUS_D "/", sizeof STATUS_D)) {
		for (size_t i = 0; i < db->n_pkgs; i++)
			if (!strcmp(db->pkgs[i].source, path) || (db->pkgs[i].list && !strcmp(db->pkgs[i].list, path)))
				return &db->pkgs[i];
	}
	return NULL;
}

char *dpkg_status_filtered(const struct dpkg_db *db, int (*keep)(void *ctx, const struct dpkg_pkg *p), void *ctx,
                           size_t *len)
{
	if (!db->status_text) {
		*len = 0;
		return NULL;
	}
	char *out = xmalloc(db->status_len + 1);
	size_t o = db->status_prefix;
	memcpy(out, db->status_text, o);
	for (size_t i = 0; i < db->n_pkgs; i++) {
		const struct dpkg_pkg *p = &db->pkgs[i];
		if (strcmp(p->source, STATUS_PATH) || !keep(ctx, p))
			continue;
		memcpy(out + o, db->status_text + p->para_off, p->para_len);
		o += p->para_len;
	}
	out[o] = 0;
	*len = o;
	return out;
}

long dpkg_reach_files_of(void *ctx, const char *name, const char *const **paths)
{
	struct dpkg_db *db = ctx;
	struct dpkg_pkg *p = (struct dpkg_pkg *)dpkg_find(db, name);
	if (!p)
		return -1;
	if (!p->paths) {
		p->paths = arena_alloc(&db->arena, (p->n_nondir ? p->n_nondir : 1) * sizeof *p->paths);
		char buf[4096];
		for (size_t i = 0; i < p->n_files; i++)
			if (p->files[i]->type != WH_T_DIR) {
				tree_path(p->files[i], buf, sizeof buf);
				p->paths[p->n_paths++] = arena_strdup(&db->arena, buf);
			}
	}
	*paths = p->paths;
	return (long)p->n_paths;
}

const char *dpkg_reach_owner_of(void *ctx, const char *path)
{
	const struct dpkg_pkg *p = dpkg_owner_path(ctx, path);
	return p ? p->name : NULL;
}

char *dpkg_diversions_filtered(const struct dpkg_db *db, int (*keep)(void *ctx, const struct dpkg_pkg *p), void *ctx,
                               size_t *len)
{
	*len = 0;
	if (!db->div_text)
		return NULL;
	/* the text parsed at load: whole triples of lines */
	char *out = xmalloc(db->div_len + 1);
	size_t o = 0;
	const char *t = db->div_text, *end = t + db->div_len;
	while (t < end) {
		const char *q = t, *pkg = NULL;
		size_t pl = 0;
		for (int k = 0; k < 3 && q < end; k++) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			const char *le = nl ? nl : end;
			if (k == 2) {
				pkg = q;
				pl = (size_t)(le - q);
			}
			q = nl ? nl + 1 : end;
		}
		int kept = 1; /* local (":") and unknown diverters stay */
		if (pkg && !(pl == 1 && pkg[0] == ':')) {
			char *name = xstrndup(pkg, pl);
			const struct dpkg_pkg *p = dpkg_find(db, name);
			free(name);
			kept = !p || keep(ctx, p);
		}
		if (kept) {
			memcpy(out + o, t, (size_t)(q - t));
			o += (size_t)(q - t);
		}
		t = q;
	}
	out[o] = 0;
	*len = o;
	return out;
}

int dpkg_own_path(const struct dpkg_db *db, const struct wh_node *n)
{
	if (!n || n->type == WH_T_DIR)
		return 0;
	return n->type != WH_T_SYMLINK || dpkg_owners(db, n, NULL, 0) == 1;
}

void dpkg_own_paths(const struct dpkg_db *db, const struct dpkg_pkg *p, uint8_t bits, size_t *own, size_t *marked)
{
	*own = *marked = 0;
	for (size_t i = 0; i < p->n_files; i++)
		if (dpkg_own_path(db, p->files[i])) {
			(*own)++;
			if (p->files[i]->mark & bits)
				(*marked)++;
		}
}
