#include "tui/crt.h"
#include "analyzer/tmpfiles.h"

#include <curses.h>
#include <langinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const struct crt_glyphs glyphs_utf8 = {
	.branch = "├── ", .last = "└── ", .vert = "│   ", .blank = "    ",
	.fold_branch = "├─⊕ ", .fold_last = "└─⊕ ",
	.hline = "─", .vline = "│", .mark = "●",
	.symlink = " → ", .hardlink = " ⇒ ", .ellipsis = "…",
	.up = "▲", .down = "▼", .arrow = " → ", .from = " ← ",
	.kept = "✓", .partial = "◐", .gone = "✗", .user_keep = "K", .user_drop = "D", .probe_keep = "P",
};

static const struct crt_glyphs glyphs_ascii = {
	.branch = "|-- ", .last = "`-- ", .vert = "|   ", .blank = "    ",
	.fold_branch = "|-+ ", .fold_last = "`-+ ",
	.hline = "-", .vline = "|", .mark = "*",
	.symlink = " -> ", .hardlink = " => ", .ellipsis = "~",
	.up = "^", .down = "v", .arrow = " -> ", .from = " <- ",
	.kept = "+", .partial = "~", .gone = "-", .user_keep = "K", .user_drop = "D", .probe_keep = "P",
};

const struct crt_glyphs *crt_g = &glyphs_ascii;
int crt_utf8;
int crt_colors;

static int active;
static int attrs[CRT_N_ROLES];

/* --- restoring the terminal on every exit path ------------------------------ */

static void on_fatal(int sig)
{
	/* not async-signal-safe, but the process is going down anyway and a
	 * terminal left in raw mode is worse */
	if (active) {
		active = 0;
		endwin();
	}
	tmpfiles_cleanup_signal(); /* a spooled image, a half-written output */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_interrupt(int sig)
{
	(void)sig;
	if (active) {
		active = 0;
		endwin();
	}
	tmpfiles_cleanup_signal();
	_exit(130);
}

static void install_handlers(void)
{
	static const int fatal[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGHUP, SIGQUIT};
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		signal(fatal[i], on_fatal);
	/* while loading, ctrl+c is a signal (cbreak); afterwards raw mode makes it a key */
	signal(SIGINT, on_interrupt);
}

static void atexit_restore(void)
{
	crt_done();
}

int crt_init(int no_color)
{
	const char *cs = nl_langinfo(CODESET);
	crt_utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	crt_g = crt_utf8 ? &glyphs_utf8 : &glyphs_ascii;
	if (!newterm(NULL, stdout, stdin))
		return -1;
	active = 1;
	install_handlers();
	atexit(atexit_restore);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	/* Home and End as rxvt, screen, tmux and the console send them, whatever TERM says */
	define_key("\033[1~", KEY_HOME);
	define_key("\033[4~", KEY_END);
	define_key("\033[7~", KEY_HOME);
	define_key("\033[8~", KEY_END);
	define_key("\033[H", KEY_HOME);
	define_key("\033[F", KEY_END);
	define_key("\033OH", KEY_HOME);
	define_key("\033OF", KEY_END);
	curs_set(0);
	crt_colors = !no_color && has_colors();
	for (int i = 0; i < CRT_N_ROLES; i++)
		attrs[i] = A_NORMAL;
	if (crt_colors) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_RED, -1);
		init_pair(4, COLOR_CYAN, -1);
		init_pair(5, COLOR_BLACK, COLOR_CYAN);
		init_pair(6, COLOR_BLUE, -1);
		init_pair(7, COLOR_BLACK, COLOR_WHITE);
		init_pair(8, COLOR_MAGENTA, -1);
		attrs[CRT_ADDED] = COLOR_PAIR(1);
		attrs[CRT_MODIFIED] = COLOR_PAIR(2);
		attrs[CRT_REMOVED] = COLOR_PAIR(3);
		attrs[CRT_TITLE] = COLOR_PAIR(4) | A_BOLD;
		attrs[CRT_TITLE_FOCUS] = COLOR_PAIR(5) | A_BOLD;
		attrs[CRT_DIM] = COLOR_PAIR(6);
		attrs[CRT_BAR] = COLOR_PAIR(7);
		attrs[CRT_KEY] = COLOR_PAIR(7) | A_BOLD;
		attrs[CRT_ERROR] = COLOR_PAIR(3) | A_BOLD;
		attrs[CRT_GONE] = COLOR_PAIR(3) | A_DIM;
		attrs[CRT_OVERRIDE] = COLOR_PAIR(8) | A_BOLD;
	} else {
		attrs[CRT_TITLE] = A_BOLD;
		attrs[CRT_TITLE_FOCUS] = A_REVERSE | A_BOLD;
		attrs[CRT_BAR] = A_NORMAL;
		attrs[CRT_KEY] = A_BOLD;
		attrs[CRT_ERROR] = A_BOLD;
		attrs[CRT_GONE] = A_DIM;
		attrs[CRT_OVERRIDE] = A_BOLD | A_UNDERLINE;
	}
	attrs[CRT_BOLD] = A_BOLD;
	attrs[CRT_CURSOR] = A_REVERSE;
	attrs[CRT_CURSOR_DIM] = A_UNDERLINE;
	attrs[CRT_MATCH] = A_BOLD | A_UNDERLINE;
	return 0;
}

void crt_done(void)
{
	if (!active)
		return;
	active = 0;
	mousemask(0, NULL);
	curs_set(1);
	endwin();
	fflush(stdout);
}

void crt_interactive(void)
{
	raw();
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
}

int crt_attr(enum crt_role r)
{
	return attrs[r];
}

void crt_size(int *h, int *w)
{
	getmaxyx(stdscr, *h, *w);
}

void crt_erase(void)
{
	erase();
}

void crt_refresh(void)
{
	refresh();
}

/* --- text --------------------------------------------------------------------- */

/* Decode one character of s (n bytes left): its length, its wide char
 * (or '?' for what cannot be shown) and its width. */
static size_t next_char(const char *s, size_t n, wchar_t *wc, int *wd)
{
	unsigned char c = (unsigned char)*s;
	if (c < 0x80 || !crt_utf8) {
		*wc = (c < 0x20 || c == 0x7f || c >= 0x80) ? L'?' : (wchar_t)c;
		*wd = 1;
		return 1;
	}
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t l = mbrtowc(wc, s, n, &st);
	if (l == (size_t)-1 || l == (size_t)-2 || l == 0) {
		*wc = L'?';
		*wd = 1;
		return 1;
	}
	int w = wcwidth(*wc);
	if (w < 0) {
		*wc = L'?';
		w = 1;
	}
	*wd = w;
	return l;
}

int crt_putn(int y, int x, int w, const char *s, size_t n, int attr)
{
	int col = 0;
	size_t i = 0;
	attr_t old = getattrs(stdscr);
	attrset(attr);
	while (i < n && s[i] && col < w) {
		wchar_t wc;
		int wd;
		size_t l = next_char(s + i, n - i, &wc, &wd);
		if (col + wd > w)
			break;
		if (wd > 0) {
			wchar_t buf[2] = {wc, 0};
			mvaddnwstr(y, x + col, buf, 1);
		}
		col += wd;
		i += l;
	}
	attrset(old);
	return col;
}

int crt_put(int y, int x, int w, const char *s, int attr)
{
	return crt_putn(y, x, w, s, strlen(s), attr);
}

int crt_printf(int y, int x, int w, int attr, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return crt_put(y, x, w, buf, attr);
}

int crt_width(const char *s)
{
	int col = 0;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		wchar_t wc;
		int wd;
		i += next_char(s + i, n - i, &wc, &wd);
		col += wd;
	}
	return col;
}

void crt_fill(int y, int x, int w, int attr)
{
	if (w <= 0)
		return;
	attr_t old = getattrs(stdscr);
	attrset(attr);
	mvhline(y, x, ' ', w);
	attrset(old);
}

void crt_chattr(int y, int x, int w, int attr)
{
	if (w > 0)
		mvchgat(y, x, w, (attr_t)attr & ~A_COLOR, (short)PAIR_NUMBER(attr), NULL);
}

void crt_hline(int y, int x, int w, int attr)
{
	for (int i = 0; i < w; i++)
		crt_put(y, x + i, 1, crt_g->hline, attr);
}

void crt_vline(int y, int x, int h, int attr)
{
	for (int i = 0; i < h; i++)
		crt_put(y + i, x, 1, crt_g->vline, attr);
}

int crt_in(const struct crt_rect *r, int y, int x)
{
	return y >= r->y && y < r->y + r->h && x >= r->x && x < r->x + r->w;
}

/* --- input -------------------------------------------------------------------- */

static int translate(int k)
{
	switch (k) {
	case KEY_UP: return CRT_K_UP;
	case KEY_DOWN: return CRT_K_DOWN;
	case KEY_LEFT: return CRT_K_LEFT;
	case KEY_RIGHT: return CRT_K_RIGHT;
	case KEY_PPAGE: return CRT_K_PGUP;
	case KEY_NPAGE: return CRT_K_PGDN;
	case KEY_HOME: return CRT_K_HOME;
	case KEY_END: return CRT_K_END;
	case KEY_BACKSPACE: case 127: case 8: return CRT_K_BACKSPACE;
	case KEY_ENTER: return '\r';
	case KEY_RESIZE: return CRT_K_RESIZE;
	case KEY_MOUSE: return CRT_K_MOUSE;
	case KEY_BTAB: return CRT_K_BTAB;
	default:
		return k >= KEY_MIN ? CRT_K_OTHER : k;
	}
}

int crt_getkey(void)
{
	timeout(-1);
	int k = getch();
	if (k == ERR)
		return CRT_KEY_NONE;
	return translate(k);
}

int crt_key_pending(void)
{
	timeout(0);
	int k = getch();
	timeout(-1);
	if (k == ERR)
		return 0;
	ungetch(k);
	return 1;
}

int crt_is_mouse_key(int key)
{
	return key == CRT_K_MOUSE;
}

int crt_is_resize_key(int key)
{
	return key == CRT_K_RESIZE;
}

enum crt_mouse_kind crt_mouse(int *y, int *x)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return CRT_MOUSE_NONE;
	*y = ev.y;
	*x = ev.x;
	if (ev.bstate & BUTTON4_PRESSED)
		return CRT_MOUSE_WHEEL_UP;
	if (ev.bstate & BUTTON5_PRESSED)
		return CRT_MOUSE_WHEEL_DOWN;
	if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED))
		return CRT_MOUSE_CLICK;
	return CRT_MOUSE_NONE;
}

void crt_title(int y, int x, int w, const char *title, int focused)
{
	int a = crt_attr(focused ? CRT_TITLE_FOCUS : CRT_TITLE);
	crt_hline(y, x, w, crt_attr(CRT_DIM));
	if (w < 4)
		return;
	crt_put(y, x + 1, 1, " ", a);
	int n = crt_put(y, x + 2, w - 4, title, a);
	crt_put(y, x + 2 + n, 1, " ", a);
}

void crt_frame(int y, int x, int h, int w, const char *title)
{
	for (int i = 0; i < h; i++)
		crt_fill(y + i, x, w, 0);
	crt_title(y, x, w, title, 1);
	crt_hline(y + h - 1, x, w, crt_attr(CRT_DIM));
	crt_vline(y + 1, x, h - 2, crt_attr(CRT_DIM));
	crt_vline(y + 1, x + w - 1, h - 2, crt_attr(CRT_DIM));
}

int crt_clamp_top(int top, int n, int page)
{
	if (top > n - page)
		top = n - page;
	return top < 0 ? 0 : top;
}

void crt_frame_more(int y, int x, int w, int top, int page, int n)
{
	if (n <= page)
		return;
	char more[32];
	snprintf(more, sizeof more, " %d/%d ", top + page < n ? top + page : n, n);
	crt_put(y, x + w - 2 - crt_width(more), crt_width(more), more, crt_attr(CRT_DIM));
}

int crt_scroll_key(int key, int *top, int page)
{
	int step = page > 1 ? page - 1 : 1;
	switch (key) {
	case CRT_K_UP: case 'k': *top -= 1; return 1;
	case CRT_K_DOWN: case 'j': *top += 1; return 1;
	case CRT_K_PGUP: case 'u': *top -= step; return 1;
	case CRT_K_PGDN: case 'd': *top += step; return 1;
	case CRT_K_HOME: *top = 0; return 1;
	case CRT_K_END: *top = 1 << 29; return 1;
	}
	return 0;
}
