/* Where each panel goes for a terminal size. Pure, so tests check 80x24. */
#ifndef TUI_LAYOUT_H
#define TUI_LAYOUT_H

#include <stdbool.h>

struct tui_rect {
	int y, x, h, w;
};

struct tui_layout {
	bool too_small;         /* below 40x12: only a message fits */
	struct tui_rect header; /* 3 lines */
	struct tui_rect table;  /* column titles, then rows */
	struct tui_rect detail;
	struct tui_rect events;
	struct tui_rect footer; /* key hints, messages, the filter prompt */
};

#define TUI_MIN_ROWS 12
#define TUI_MIN_COLS 40

void tui_layout_compute(int rows, int cols, struct tui_layout *l);
/* Rows of devices the table shows (its height less the title line). */
int tui_layout_table_rows(const struct tui_layout *l);

#endif /* TUI_LAYOUT_H */
