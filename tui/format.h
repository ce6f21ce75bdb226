/* Text for the dashboard: state names, table cells, sparklines. Pure. */
#ifndef TUI_FORMAT_H
#define TUI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

const char *tui_state_name(enum tui_state s);
const char *tui_column_title(enum tui_column c);
/* Width of column @c; the id column is as wide as @id_width. */
int tui_column_width(enum tui_column c, int id_width);
/* Which columns fit in @cols characters (one space between them); the
 * faults column takes what is left. Returns how many from the left. */
int tui_columns_fit(int cols, int id_width);

/* Cell text of @d in column @c, at most @len - 1 chars, not padded. */
void tui_format_cell(const struct tui_device *d, enum tui_column c, int64_t now_ms, char *buf,
		     size_t len);
/* "12s", "4m", "2h", "-" for unknown. */
void tui_format_age(int64_t age_ms, char *buf, size_t len);
/* Short fault names joined by ',', e.g. "wifi_drop,dht_spikes", or "". */
void tui_format_faults(uint32_t mask, char *buf, size_t len);
/* "01:02:03". */
void tui_format_elapsed(int64_t ms, char *buf, size_t len);

/*
 * A sparkline of the last @width values of @v[0..n) into @out: eight
 * levels scaled between the minimum and maximum shown, NAN as a space.
 * @utf8 picks block characters (3 bytes each) or ASCII "_.:-=+*#".
 * Returns the number of cells written (<= width).
 */
size_t tui_sparkline(const double *v, size_t n, size_t width, bool utf8, char *out, size_t len);

#endif /* TUI_FORMAT_H */
