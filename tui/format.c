/* Text for the dashboard: state names, table cells, ages, sparklines. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_catalog.h"
#include "format.h"

static const char *const state_names[TUI_STATE_COUNT] = {
	[TUI_ONLINE] = "online",
	[TUI_OFFLINE] = "offline",
	[TUI_BOOTING] = "booting",
	[TUI_FAULTED] = "faulted",
	[TUI_OFF] = "off",
};

static const struct {
	const char *title;
	int width;              /* 0: flexible */
} columns[TUI_COL_COUNT] = {
	[TUI_COL_ID] = { "ID", 0 },
	[TUI_COL_STATE] = { "STATE", 7 },
	[TUI_COL_LINK] = { "LINK", 4 },
	[TUI_COL_MQTT] = { "MQTT", 6 },
	[TUI_COL_TEMP] = { "TEMP", 5 },
	[TUI_COL_HUM] = { "HUM", 4 },
	[TUI_COL_DIST] = { "DIST", 5 },
	[TUI_COL_AGE] = { "AGE", 4 },
	[TUI_COL_PUB] = { "PUB", 5 },
	[TUI_COL_ACK] = { "ACK", 5 },
	[TUI_COL_BUF] = { "BUF", 4 },
	[TUI_COL_FAULTS] = { "FAULTS", 0 },
};

const char *tui_state_name(enum tui_state s)
{
	return (unsigned)s < TUI_STATE_COUNT ? state_names[s] : "?";
}

const char *tui_column_title(enum tui_column c)
{
	return (unsigned)c < TUI_COL_COUNT ? columns[c].title : "?";
}

int tui_column_width(enum tui_column c, int id_width)
{
	if (c == TUI_COL_ID)
		return id_width;
	if (c == TUI_COL_FAULTS)
		return 6;       /* at least its title */
	return (unsigned)c < TUI_COL_COUNT ? columns[c].width : 0;
}

int tui_columns_fit(int cols, int id_width)
{
	int used = 0, n = 0;

	for (int c = 0; c < TUI_COL_COUNT; c++) {
		int w = tui_column_width((enum tui_column)c, id_width) + (c ? 1 : 0);

		if (used + w > cols)
			break;
		used += w;
		n++;
	}
	return n;
}

void tui_format_age(int64_t age_ms, char *buf, size_t len)
{
	int64_t s = age_ms / 1000;

	if (age_ms < 0)
		snprintf(buf, len, "-");
	else if (s < 100)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 6000)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
}

void tui_format_faults(uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int k = 0; k < FAULT_KIND_COUNT && off < len; k++) {
		if (!(mask & (1u << k)))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
				 fault_catalog_name(k));
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void tui_format_elapsed(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
		 (long long)(s % 60));
}

static const char *mqtt_name(uint32_t robot_state)
{
	switch (robot_state) {
	case WORLD_ROBOT_BOOT: return "boot";
	case WORLD_ROBOT_LINK_CONNECTING: return "nolink";
	case WORLD_ROBOT_MQTT_CONNECTING: return "conn";
	case WORLD_ROBOT_ONLINE: return "up";
	case WORLD_ROBOT_BACKOFF: return "retry";
	case WORLD_ROBOT_SHUTTING_DOWN: return "close";
	case WORLD_ROBOT_DONE: return "done";
	}
	return "?";
}

void tui_format_cell(const struct tui_device *d, enum tui_column c, int64_t now_ms, char *buf,
		     size_t len)
{
	buf[0] = '\0';
	switch (c) {
	case TUI_COL_ID: snprintf(buf, len, "%s", d->id); break;
	case TUI_COL_STATE: snprintf(buf, len, "%s", tui_state_name(d->state)); break;
	case TUI_COL_LINK:
		snprintf(buf, len, "%s", d->link_mode == WORLD_LINK_DOWN ? "down" :
			 d->link_mode == WORLD_LINK_FLAP ? "flap" : d->weak ? "weak" : "ok");
		break;
	case TUI_COL_MQTT:
		snprintf(buf, len, "%s", d->state == TUI_OFF || !d->alive ? "-" : mqtt_name(d->robot_state));
		break;
	/* Fixed point to text: tenths of degC and %RH, mm to cm. */
	case TUI_COL_TEMP:
		if (d->temp_ok)
			snprintf(buf, len, "%s%d.%d", d->temp_dc < 0 ? "-" : "", abs(d->temp_dc) / 10,
				 abs(d->temp_dc) % 10);
		else
			snprintf(buf, len, "-");
		break;
	case TUI_COL_HUM:
		if (d->temp_ok)
			snprintf(buf, len, "%u.%u", d->humidity_dpct / 10, d->humidity_dpct % 10);
		else
			snprintf(buf, len, "-");
		break;
	case TUI_COL_DIST:
		if (d->dist_ok)
			snprintf(buf, len, "%u.%u", d->distance_mm / 10, d->distance_mm % 10);
		else
			snprintf(buf, len, "-");
		break;
	case TUI_COL_AGE: tui_format_age(d->last_ms ? now_ms - d->last_ms : -1, buf, len); break;
	case TUI_COL_PUB: snprintf(buf, len, "%u", d->published); break;
	case TUI_COL_ACK: snprintf(buf, len, "%u", d->acknowledged); break;
	case TUI_COL_BUF: snprintf(buf, len, "%u", d->buffered); break;
	case TUI_COL_FAULTS: tui_format_faults(d->fault_mask, buf, len); break;
	case TUI_COL_COUNT: break;
	}
}

size_t tui_sparkline(const double *v, size_t n, size_t width, bool utf8, char *out, size_t len)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "_.:-=+*#";
	size_t first = n > width ? n - width : 0, cells = 0, off = 0;
	double lo = INFINITY, hi = -INFINITY;

	if (len)
		out[0] = '\0';
	for (size_t i = first; i < n; i++) {
		if (isnan(v[i]))
			continue;
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (size_t i = first; i < n; i++) {
		const char *cell;
		char one[2] = { ' ', '\0' };
		size_t cl;

		if (isnan(v[i])) {
			cell = " ";
		} else {
			/* A flat line sits in the middle rather than on the floor. */
			int level = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5) : 3;
			level = level < 0 ? 0 : level > 7 ? 7 : level;
			if (utf8) {
				cell = blocks[level];
			} else {
				one[0] = ascii[level];
				cell = one;
			}
		}
		cl = strlen(cell);
		if (off + cl + 1 > len)
			break;
		memcpy(out + off, cell, cl);
		off += cl;
		out[off] = '\0';
		cells++;
	}
	return cells;
}
