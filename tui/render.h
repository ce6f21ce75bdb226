/* Drawing the model with ncurses: one window per panel, each redrawn only
 * when its part of the model changed, then one doupdate(). */
#ifndef TUI_RENDER_H
#define TUI_RENDER_H

#include <stdbool.h>

#include "layout.h"
#include "model.h"

enum tui_panel {
	TUI_PANEL_HEADER = 1 << 0,
	TUI_PANEL_TABLE = 1 << 1,
	TUI_PANEL_DETAIL = 1 << 2,
	TUI_PANEL_EVENTS = 1 << 3,
	TUI_PANEL_FOOTER = 1 << 4,
	TUI_PANEL_ALL = 0x1f,
};

/* What the footer and the overlays show, owned by the input side. */
struct tui_ui {
	int mode;               /* enum tui_mode (input.h) */
	char filter_edit[64];   /* the filter being typed */
	char message[160];      /* last action's result */
	bool utf8;
	bool colour;
	bool embedded;          /* inside `robofleet run --tui` */
	int menu_sel;
};

struct tui_screen;

/* Start curses on the terminal. Returns NULL when it is not one. */
struct tui_screen *tui_screen_open(struct tui_ui *ui);
/* Restore the terminal. Safe with NULL and twice. */
void tui_screen_close(struct tui_screen *s);
/* Re-read the terminal size and rebuild the windows (after KEY_RESIZE). */
void tui_screen_resize(struct tui_screen *s);
const struct tui_layout *tui_screen_layout(const struct tui_screen *s);
/* Draw the @dirty panels (enum tui_panel bits) and update the terminal. */
void tui_screen_draw(struct tui_screen *s, const struct tui_model *m, const struct tui_ui *ui,
		     unsigned dirty);

#endif /* TUI_RENDER_H */
