/* text_popup: a framed overlay of text lines (the slim view's detail view,
 * i): wrapped to the terminal's width, scrolled with the arrows, j k,
 * PgUp PgDn; any other key closes it. */
#ifndef WH_TEXT_POPUP_H
#define WH_TEXT_POPUP_H

#include "tui/crt.h"

struct text_popup {
	int open;
	char *title;
	char **lines;  /* the text's lines, unwrapped */
	int n;
	int top, page, n_rows;
};

/* Open with text (lines split at '\n'; copied). */
void text_popup_open(struct text_popup *p, const char *title, const char *text);
void text_popup_close(struct text_popup *p);
void text_popup_draw(struct text_popup *p, int screen_h, int screen_w);
/* Scroll keys scroll; any other key closes. */
void text_popup_key(struct text_popup *p, int key);

#endif
