/* Keys to model changes and fleet actions. */
#ifndef TUI_INPUT_H
#define TUI_INPUT_H

#include "model.h"
#include "render.h"

enum tui_mode {
	TUI_MODE_NORMAL,
	TUI_MODE_FILTER,        /* typing after '/' */
	TUI_MODE_FAULT_MENU,    /* 'f' */
	TUI_MODE_HELP,          /* '?' */
};

/* Handler results, as flags. */
enum tui_result {
	TUI_HANDLED = 1 << 0,
	TUI_REDRAW = 1 << 1,    /* with the panels in the high bits */
	TUI_RESORT = 1 << 2,    /* filter or sort changed: rebuild the view */
	TUI_QUIT = 1 << 3,
};

/* The fault kinds the 'f' menu offers: how many, and the catalog kind of
 * item @i (-1 out of range). The catalog's rows say which and where. */
int tui_menu_count(void);
int tui_menu_kind(int i);
/* The letter that picks item @i: a, b, c ..., skipping the keys the menu
 * itself uses (f, j, k, q). */
int tui_menu_letter(int i);

struct tui_source;

/*
 * Handle key @ch (a curses key code). @rows: device rows the table shows.
 * Actions are sent to @run_dir's control FIFO. Returns enum tui_result
 * flags; *@dirty gets the panels to redraw.
 */
int tui_input_key(int ch, struct tui_model *m, struct tui_ui *ui, const char *run_dir, int rows,
		  unsigned *dirty);

#endif /* TUI_INPUT_H */
