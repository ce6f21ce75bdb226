/* Panel placement: header, table, detail, events, footer, top to bottom. */
#include <string.h>

#include "layout.h"

void tui_layout_compute(int rows, int cols, struct tui_layout *l)
{
	int detail_h, events_h;

	memset(l, 0, sizeof(*l));
	if (rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS) {
		l->too_small = true;
		return;
	}
	/* The table gets what the fixed panels leave; at 80x24 that is 8 rows. */
	detail_h = rows >= 40 ? 10 : rows >= 24 ? 7 : 4;
	events_h = rows >= 40 ? 8 : rows >= 24 ? 4 : 2;
	l->header = (struct tui_rect){ 0, 0, 3, cols };
	l->footer = (struct tui_rect){ rows - 1, 0, 1, cols };
	l->events = (struct tui_rect){ rows - 1 - events_h, 0, events_h, cols };
	l->detail = (struct tui_rect){ l->events.y - detail_h, 0, detail_h, cols };
	l->table = (struct tui_rect){ 3, 0, l->detail.y - 3, cols };
}

int tui_layout_table_rows(const struct tui_layout *l)
{
	return l->table.h > 1 ? l->table.h - 1 : 0;
}
