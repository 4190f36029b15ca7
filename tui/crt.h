/* crt: the terminal. The only module that talks to curses: screen setup
 * and teardown (on every exit path, crash signals included), colours,
 * glyphs (UTF-8 or ASCII), text output that never overruns a width, keys
 * and the mouse. Panels draw through it. */
#ifndef WH_CRT_H
#define WH_CRT_H

#include <stddef.h>

struct crt_rect {
	int y, x, h, w;
};

enum crt_role {
	CRT_PLAIN,
	CRT_ADDED,
	CRT_MODIFIED,
	CRT_REMOVED,
	CRT_TITLE,       /* pane title, unfocused */
	CRT_TITLE_FOCUS, /* pane title, focused */
	CRT_CURSOR,      /* the selected row of the focused pane */
	CRT_CURSOR_DIM,  /* the selected row of an unfocused pane */
	CRT_DIM,         /* labels, separators */
	CRT_MATCH,       /* search matches */
	CRT_BAR,         /* the key bar */
	CRT_KEY,         /* a key name in the key bar */
	CRT_ERROR,
	CRT_BOLD,
	CRT_GONE,        /* slim view: removable (dim red) */
	CRT_OVERRIDE,    /* slim view: the user's keep or drop */
	CRT_N_ROLES
};

/* Glyphs for tree lines and frames: UTF-8 box drawing, or ASCII. */
struct crt_glyphs {
	const char *branch, *last, *vert, *blank; /* "├── " "└── " "│   " "    " */
	const char *fold_branch, *fold_last;      /* collapsed directory */
	const char *hline, *vline;                /* "─" "│" */
	const char *mark;                         /* a compared layer */
	const char *symlink, *hardlink;           /* " → " " ⇒ " */
	const char *ellipsis;
	const char *up, *down;                    /* sort direction */
	const char *arrow;                        /* " → " in the slim figures */
	const char *from;                         /* " ← " in a why chain */
	/* slim view markers: kept, partly kept (a directory), removable,
	 * kept by the user (x), dropped by the user (x), kept by a probe (r) */
	const char *kept, *partial, *gone, *user_keep, *user_drop, *probe_keep;
};

extern const struct crt_glyphs *crt_g;
extern int crt_utf8;     /* the locale's codeset is UTF-8 */
extern int crt_colors;   /* colours in use (not NO_COLOR, terminal has them) */

/* Set up the screen (the locale must be set before). Installs the signal
 * handlers that restore the terminal. Returns 0, or -1 when the terminal
 * cannot be used. */
int crt_init(int no_color);
/* Restore the terminal; safe to call twice. */
void crt_done(void);
/* After loading: raw keys (ctrl+c, ctrl+o... reach the program), mouse on. */
void crt_interactive(void);

int crt_attr(enum crt_role r);
void crt_size(int *h, int *w);
void crt_erase(void);
void crt_refresh(void);

/* Write s at (y, x), at most w columns; returns the columns written.
 * Invalid or (outside UTF-8) non-ASCII bytes show as '?', controls as '?'. */
int crt_put(int y, int x, int w, const char *s, int attr);
/* Same with at most n bytes of s. */
int crt_putn(int y, int x, int w, const char *s, size_t n, int attr);
/* printf, then crt_put. */
int crt_printf(int y, int x, int w, int attr, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Fill w columns with spaces. */
void crt_fill(int y, int x, int w, int attr);
/* Change the attribute of w cells, keeping their text. */
void crt_chattr(int y, int x, int w, int attr);
/* Columns s takes (as crt_put would draw it). */
int crt_width(const char *s);
/* A horizontal rule of w columns. */
void crt_hline(int y, int x, int w, int attr);
void crt_vline(int y, int x, int h, int attr);

/* Keys. CRT_KEY_MOUSE: call crt_mouse. Ctrl+space is 0. */
enum { CRT_KEY_NONE = -1 };
int crt_getkey(void);
/* Is another key already waiting? (to skip work the next key replaces) */
int crt_key_pending(void);

enum crt_mouse_kind { CRT_MOUSE_NONE, CRT_MOUSE_CLICK, CRT_MOUSE_WHEEL_UP, CRT_MOUSE_WHEEL_DOWN };
/* After a KEY_MOUSE key: what happened, where. */
enum crt_mouse_kind crt_mouse(int *y, int *x);
int crt_is_mouse_key(int key);
int crt_is_resize_key(int key);

/* Curses key codes the panels use, without including curses there. */
enum crt_keys_enum {
	CRT_K_UP = 1000, CRT_K_DOWN, CRT_K_LEFT, CRT_K_RIGHT, CRT_K_PGUP, CRT_K_PGDN, CRT_K_HOME, CRT_K_END,
	CRT_K_BACKSPACE, CRT_K_ENTER, CRT_K_RESIZE, CRT_K_MOUSE, CRT_K_BTAB, CRT_K_OTHER,
};
#define CRT_CTRL(c) ((c) & 0x1f)
#define CRT_ESC 27

/* A pane's title line: "─ Title ──────" (reverse when focused). */
void crt_title(int y, int x, int w, const char *title, int focused);

int crt_in(const struct crt_rect *r, int y, int x);

/* A popup: h rows of w columns at (y, x) cleared, the title on top, a
 * frame around. */
void crt_frame(int y, int x, int h, int w, const char *title);
/* The first line shown of n, page at a time: top kept in 0..n-page. */
int crt_clamp_top(int top, int n, int page);
/* When n lines do not fit in page: " LAST/N " at the right of row y (a frame's bottom). */
void crt_frame_more(int y, int x, int w, int top, int page, int n);
/* A scroll key (arrows, j k, PgUp PgDn, u d, Home End) moves *top (clamp
 * it after); returns 0 for any other key. */
int crt_scroll_key(int key, int *top, int page);

#endif
