/* reach_data: a server's data directories, kept whole or dropped whole.
 *
 * A data directory is the User's home (when it is not a system
 * directory), a Volume the image config declares, the datadir a mysql
 * configuration names, the directory Env PGDATA names. It is kept whole
 * when the entrypoint may read it, else dropped whole; never in part.
 * The entrypoint may read it when, once the closure is done:
 *  - it is inside what something keeps whole (--keep, the WorkingDir);
 *  - something inside it is kept (the entrypoint lives there, a program
 *    names a file in it): then all of it stays, with that as the reason;
 *  - the Env names it or a path inside it;
 *  - a kept program's strings, or a kept script's or configuration's text,
 *    name it or a path inside it (for the User's home also a script that
 *    uses $HOME, ~/, expanduser, Dir.home or os.homedir);
 *  - the User's home holds what a kept program reads through HOME
 *    (python's user site-packages, ~/.gem, ~/.gitconfig: home_reads);
 *  - a configuration names it as its data directory (mysql datadir), or
 *    it is the one built into a database server (the dbserver rule).
 * Keeping one whole may keep what names another: decided in rounds with
 * the closure. What is left is dropped whole: its directory stays, empty,
 * with its owner and mode (a volume mounted there takes them).
 *
 * Also here: the directories the path strings of a program name that are
 * kept as directories with some of their members (reach.partial_dirs). */
#include "analyzer/reach_int.h"

#include <fnmatch.h>
#include <stdio.h>

#include "analyzer/dynimport.h"
#include "analyzer/elf.h"

int reach_is_system_dir(const char *p)
{
	static const char *const sys[] = {"/", "/usr", "/etc", "/var", "/bin", "/sbin", "/lib", "/lib64", "/lib32",
	                                  "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/usr/local", "/opt",
	                                  "/home", "/root", "/proc", "/sys", "/dev", "/run", "/tmp", "/var/lib"};
	for (size_t i = 0; i < ARRAY_LEN(sys); i++)
		if (!strcmp(p, sys[i]))
			return 1;
	return 0;
}

/* Directories that hold more than one program's data: never one data directory. */
static int shared_dir(const char *p)
{
	static const char *const more[] = {"/var/tmp", "/var/run", "/var/cache", "/var/log", "/var/spool",
	                                   "/usr/lib64", "/usr/local/bin", "/usr/local/lib", "/usr/local/share",
	                                   "/srv", "/mnt", "/media", "/etc/ssl"};
	if (reach_is_system_dir(p))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(more); i++)
		if (!strcmp(p, more[i]))
			return 1;
	return 0;
}

void reach_data_add(struct reach_ctx *c, const char *path, const char *kind, struct wh_node *from,
                    const char *named)
{
	if (!path || path[0] != '/')
		return;
	struct wh_node *n = reach_node_at(c, path);
	char p[PATHMAX];
	if (!n || n->type != WH_T_DIR || shared_dir(reach_node_path(n, p)) || shared_dir(path))
		return;
	for (size_t i = 0; i < c->n_dd; i++)
		if (c->dd[i].node == n) {
			if (named && !c->dd[i].named && !c->dd[i].state) {
				c->dd[i].named = xstrdup(named);
				c->dd[i].from = from;
			}
			return;
		}
	if (c->n_dd == c->cap_dd) {
		c->cap_dd = c->cap_dd ? c->cap_dd * 2 : 8;
		c->dd = xrealloc(c->dd, c->cap_dd * sizeof *c->dd);
	}
	c->dd[c->n_dd++] = (struct reach_dd){.node = n, .kind = xstrdup(kind), .from = from,
	                                     .named = named ? xstrdup(named) : NULL};
}

void reach_data_roots(struct reach_ctx *c, const char *home)
{
	if (home)
		reach_data_add(c, home, "User's home", NULL, NULL);
	json_t *vols = image_config_get(&c->a->img, "Volumes");
	if (json_is_object(vols)) {
		const char *k;
		json_t *v;
		json_object_foreach(vols, k, v)
			reach_data_add(c, k, "Volume", NULL, NULL);
	}
	/* a database's data directory the Env names (postgres: PGDATA) */
	for (size_t i = 0; i < c->env.n; i++) {
		const char *kv = c->env.v[i], *eq = strchr(kv, '=');
		size_t kl = eq ? (size_t)(eq - kv) : 0;
		if (!eq || eq[1] != '/' || kl > 60)
			continue;
		int data = (kl == 6 && !strncmp(kv, "PGDATA", 6)) || (kl >= 7 && !strncmp(eq - 7, "DATADIR", 7)) ||
		           (kl >= 8 && !strncmp(eq - 8, "DATA_DIR", 8));
		char name[64], kind[96], named[128];
		snprintf(name, sizeof name, "%.*s", (int)kl, kv);
		if (!data || reach_env_get(c, name) != eq + 1) /* the last assignment only */
			continue;
		snprintf(kind, sizeof kind, "Env %s", name);
		snprintf(named, sizeof named, "Env %s names it", name);
		reach_data_add(c, eq + 1, kind, NULL, named);
	}
}

/* Is path p the directory d or inside it? */
static int path_within(const char *p, const char *d)
{
	size_t l = strlen(d);
	return !strncmp(p, d, l) && (p[l] == 0 || p[l] == '/');
}

static int node_inside(const struct wh_node *n, const struct wh_node *d)
{
	for (const struct wh_node *x = n->parent; x; x = x->parent)
		if (x == d)
			return 1;
	return 0;
}

static int is_dropped_dd(struct reach_ctx *c, const struct wh_node *n)
{
	for (size_t i = 0; i < c->n_dd; i++)
		if (c->dd[i].node == n && c->dd[i].state == 2)
			return 1;
	return 0;
}

static int path_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
	       ch == '_' || ch == '-' || ch == '+' || ch == '@';
}

/* Where text (len bytes) names d or a path inside it: the path, or 0. */
static int text_names(const char *text, size_t len, const char *d, char *out, size_t cap)
{
	size_t l = strlen(d);
	for (const char *s = text; s && (size_t)(s - text) + l <= len; s++) {
		s = memmem(s, len - (size_t)(s - text), d, l);
		if (!s)
			return 0;
		char after = (size_t)(s - text) + l < len ? s[l] : 0;
		char before = s > text ? s[-1] : 0;
		if (path_char(before) || before == '/' || path_char(after))
			continue;
		size_t n = l;
		while ((size_t)(s - text) + n < len && (path_char(s[n]) || s[n] == '/'))
			n++;
		snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
		return 1;
	}
	return 0;
}

/* A script that uses the home without naming it. */
static int uses_home(const char *text)
{
	return strstr(text, "$HOME") || strstr(text, "${HOME") || strstr(text, "~/") || strstr(text, "'HOME'") ||
	       strstr(text, "\"HOME\"") || strstr(text, "expanduser") || strstr(text, "Dir.home") ||
	       strstr(text, "os.homedir");
}

struct evidence {
	char why[PATHMAX * 2 + 128];
	struct wh_node *from;
};

static const char *item_rule_text(const struct reach_item *it, char *buf, size_t cap)
{
	char p[PATHMAX];
	if (it->from)
		snprintf(buf, cap, "%s from %s", reach_rule_name(it->rule), reach_node_path(it->from, p));
	else if (it->what)
		snprintf(buf, cap, "%s: %s", reach_rule_name(it->rule), it->what);
	else
		snprintf(buf, cap, "%s", reach_rule_name(it->rule));
	return buf;
}

/* Kept whole already: the directory or one above it is kept with its subtree. */
static int ev_subtree(struct reach_ctx *c, const struct reach_dd *d, struct evidence *ev)
{
	char p[PATHMAX], r[PATHMAX + 64];
	for (const struct wh_node *x = d->node; x; x = x->parent) {
		long k = reach_item_find(c, x);
		if (k < 0 || !(c->r->items[k].flags & F_SUBTREE))
			continue;
		const struct reach_item *it = &c->r->items[k];
		snprintf(ev->why, sizeof ev->why, "%s%s is kept whole (%s)", x == d->node ? "" : "inside ",
		         reach_node_path(x, p), item_rule_text(it, r, sizeof r));
		ev->from = it->from;
		return 1;
	}
	return 0;
}

static int ev_inside(struct reach_ctx *c, const struct reach_dd *d, struct evidence *ev)
{
	char p[PATHMAX], r[PATHMAX + 64];
	for (size_t i = 0; i < c->r->n_items; i++) {
		const struct reach_item *it = &c->r->items[i];
		if (it->rule == R_PARENT || !node_inside(it->node, d->node) || is_dropped_dd(c, it->node))
			continue;
		snprintf(ev->why, sizeof ev->why, "%s is kept (%s)", reach_node_path(it->node, p),
		         item_rule_text(it, r, sizeof r));
		ev->from = it->node;
		return 1;
	}
	return 0;
}

static int ev_env(struct reach_ctx *c, const char *dp, struct evidence *ev)
{
	for (size_t i = c->env.n; i-- > 0;) {
		const char *kv = c->env.v[i], *eq = strchr(kv, '=');
		if (!eq)
			continue;
		char *v = xstrdup(eq + 1), *save = NULL;
		int hit = 0;
		for (char *tok = strtok_r(v, ": ", &save); tok && !hit; tok = strtok_r(NULL, ": ", &save))
			if (path_within(tok, dp)) {
				snprintf(ev->why, sizeof ev->why, "Env %.*s names %s", (int)(eq - kv), kv, tok);
				hit = 1;
			}
		free(v);
		if (hit) {
			ev->from = NULL;
			return 1;
		}
	}
	return 0;
}

/* A kept program's strings or a kept text file name it. */
static int ev_named(struct reach_ctx *c, const struct reach_dd *d, const char *dp, struct evidence *ev)
{
	char p[PATHMAX], hit[PATHMAX];
	int home = !strcmp(d->kind, "User's home");
	for (size_t i = 0; i < c->r->n_items; i++) {
		struct wh_node *n = c->r->items[i].node;
		if (n->type != WH_T_REG || !n->e || !n->e->extra || node_inside(n, d->node))
			continue;
		const struct elf_info *e = n->e->extra->elf;
		for (size_t k = 0; e && k < e->n_paths; k++)
			if (path_within(e->paths[k], dp)) {
				snprintf(ev->why, sizeof ev->why, "named inside %s (%s)", reach_node_path(n, p), e->paths[k]);
				ev->from = n;
				return 1;
			}
		const char *txt = (const char *)n->e->extra->content;
		/* /etc/passwd names every home, ld.so.cache every library: the C
		 * library's own files name paths it does not read */
		if (!txt || reach_named_rule_owned(reach_node_path(n, p)))
			continue;
		if (text_names(txt, n->e->extra->content_len, dp, hit, sizeof hit)) {
			snprintf(ev->why, sizeof ev->why, "%s names %s", reach_node_path(n, p), hit);
			ev->from = n;
			return 1;
		}
		if (home && (n->e->extra->shebang || dynimport_lang(p, NULL)) && uses_home(txt)) {
			snprintf(ev->why, sizeof ev->why, "%s uses $HOME (%s)", reach_node_path(n, p), dp);
			ev->from = n;
			return 1;
		}
	}
	return 0;
}

/* What kept programs read from their HOME without naming it: the
 * interpreters' per-user libraries, git's configuration. Found when the
 * rule that knows the program fired and the path exists in the home. */
static const struct {
	int rule;
	const char *glob; /* under the home, FNM_PATHNAME */
	const char *what;
} home_reads[] = {
	{R_PYTHON, ".local/lib/python3*", "python's user site-packages"},
	{R_PERL, "perl5", "perl's local::lib"},
	{R_RUBY, ".gem", "ruby's user gems"},
	{R_NODE, ".node_modules", "node's per-user modules"},
	{R_NODE, ".node_libraries", "node's per-user modules"},
	{R_VCS, ".gitconfig", "git's per-user configuration"},
	{R_VCS, ".config/git", "git's per-user configuration"},
};

static int ev_home_reads(struct reach_ctx *c, const struct reach_dd *d, const char *dp, struct evidence *ev)
{
	if (strcmp(d->kind, "User's home"))
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(home_reads); i++) {
		if (!c->rule_fired[home_reads[i].rule])
			continue;
		/* the glob's directory, then its last component among the entries */
		char parent[PATHMAX];
		const char *g = home_reads[i].glob, *slash = strrchr(g, '/');
		snprintf(parent, sizeof parent, "%s/%.*s", dp, slash ? (int)(slash - g) : 0, g);
		size_t pl = strlen(parent);
		if (!slash && pl)
			parent[pl - 1] = 0; /* "DP/" -> "DP" */
		struct wh_node *pd = reach_node_at(c, parent);
		for (struct wh_node *ch = pd && pd->type == WH_T_DIR ? pd->child : NULL; ch; ch = ch->next) {
			if (fnmatch(slash ? slash + 1 : g, ch->name, 0))
				continue;
			snprintf(ev->why, sizeof ev->why, "%s rule: the program reads %s/%s (%s) through HOME",
			         reach_rule_name(home_reads[i].rule), parent, ch->name, home_reads[i].what);
			ev->from = NULL;
			return 1;
		}
	}
	return 0;
}

static int find_evidence(struct reach_ctx *c, const struct reach_dd *d, struct evidence *ev)
{
	char dp[PATHMAX];
	reach_node_path(d->node, dp);
	if (d->named) { /* a configuration's datadir, Env PGDATA: the program reads it */
		snprintf(ev->why, sizeof ev->why, "%s", d->named);
		ev->from = d->from;
		return 1;
	}
	return ev_subtree(c, d, ev) || ev_inside(c, d, ev) || ev_env(c, dp, ev) || ev_named(c, d, dp, ev) ||
	       ev_home_reads(c, d, dp, ev);
}

int reach_data_decide(struct reach_ctx *c)
{
	int progress = 0;
	for (size_t i = 0; i < c->n_dd; i++) {
		struct reach_dd *d = &c->dd[i];
		struct evidence ev = {0};
		if (d->state || !find_evidence(c, d, &ev))
			continue;
		const char *pat = reach_dropped_by(c, d->node);
		char why[sizeof ev.why + 256];
		if (pat) {
			snprintf(why, sizeof why, "%s; the entrypoint may read it (%s), but --drop %s removes it", d->kind,
			         ev.why, pat);
			d->why = xstrdup(why);
			d->state = 2;
			continue;
		}
		snprintf(why, sizeof why, "%s; the entrypoint may read it: %s", d->kind, ev.why);
		d->why = xstrdup(why);
		d->state = 1;
		long k = reach_item_find(c, d->node);
		if (k >= 0 && (c->r->items[k].flags & F_SUBTREE))
			continue; /* kept whole by what the evidence names */
		/* an item already there (a parent on the way, a directory a
		 * program names) takes the subtree and, unless a root's, this reason */
		reach_keep(c, d->node, R_DATADIR, ev.from && ev.from != d->node ? ev.from : NULL, d->why, F_SUBTREE);
		progress = 1;
	}
	return progress;
}

void reach_data_drop(struct reach_ctx *c)
{
	for (size_t i = 0; i < c->n_dd; i++) {
		struct reach_dd *d = &c->dd[i];
		if (d->state == 1)
			continue;
		const char *pat = reach_dropped_by(c, d->node);
		if (!d->why) {
			char why[512];
			if (pat)
				snprintf(why, sizeof why, "%s; --drop %s removes it", d->kind, pat);
			else
				snprintf(why, sizeof why, "%s; nothing the entrypoint runs names it or a path inside it "
				         "(its directory stays, empty)", d->kind);
			d->why = xstrdup(why);
		}
		d->state = 2;
		if (!pat) /* the mount point and the home exist, with their owner and mode */
			reach_keep(c, d->node, R_DATADIR, NULL, d->why, 0);
	}
}

static int cmp_dd(const void *a, const void *b)
{
	return strcmp(((const struct reach_data_dir *)a)->path, ((const struct reach_data_dir *)b)->path);
}

static int cmp_pd(const void *a, const void *b)
{
	return strcmp(((const struct reach_partial_dir *)a)->path, ((const struct reach_partial_dir *)b)->path);
}

static void partial_dirs(struct reach_ctx *c)
{
	struct reach *r = c->r;
	size_t cap = 0;
	char p[PATHMAX];
	for (size_t i = 0; i < r->n_items; i++) {
		const struct reach_item *it = &r->items[i];
		if (it->rule != R_NAMED || it->node->type != WH_T_DIR || (it->flags & F_SUBTREE))
			continue;
		/* "/usr" (mariadbd's basedir) is kept partly by everything */
		if (shared_dir(reach_node_path(it->node, p)))
			continue;
		struct reach_partial_dir pd = {0};
		for (const struct wh_node *ch = it->node->child; ch; ch = ch->next) {
			if (ch->mark & WH_MARK_KEEP) {
				pd.kept++;
				continue;
			}
			pd.dropped++;
			pd.dropped_bytes += reach_subtree_bytes(ch, NULL);
		}
		if (!pd.dropped)
			continue;
		pd.path = xstrdup(reach_node_path(it->node, p));
		pd.named_by = xstrdup(reach_node_path(it->from, p));
		if (r->n_partial_dirs == cap) {
			cap = cap ? cap * 2 : 8;
			r->partial_dirs = xrealloc(r->partial_dirs, cap * sizeof *r->partial_dirs);
		}
		r->partial_dirs[r->n_partial_dirs++] = pd;
	}
	if (r->n_partial_dirs > 1)
		qsort(r->partial_dirs, r->n_partial_dirs, sizeof *r->partial_dirs, cmp_pd);
}

void reach_data_results(struct reach_ctx *c)
{
	struct reach *r = c->r;
	char p[PATHMAX];
	r->data_dirs = c->n_dd ? xcalloc(c->n_dd, sizeof *r->data_dirs) : NULL;
	for (size_t i = 0; i < c->n_dd; i++) {
		const struct reach_dd *d = &c->dd[i];
		struct reach_data_dir *o = &r->data_dirs[r->n_data_dirs++];
		*o = (struct reach_data_dir){.path = xstrdup(reach_node_path(d->node, p)), .kind = xstrdup(d->kind),
		                             .kept = d->state == 1, .why = xstrdup(d->why ? d->why : d->kind)};
		o->bytes = reach_subtree_bytes(d->node, &o->files);
	}
	if (r->n_data_dirs > 1)
		qsort(r->data_dirs, r->n_data_dirs, sizeof *r->data_dirs, cmp_dd);
	partial_dirs(c);
}
