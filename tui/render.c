/* The dashboard's panels in ncurses: header, device table, detail, events, footer. */
#define _GNU_SOURCE
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_catalog.h"
#include "format.h"
#include "input.h"
#include "render.h"

enum { PAIR_ONLINE = 1, PAIR_OFFLINE, PAIR_BOOTING, PAIR_FAULTED, PAIR_OFF, PAIR_TITLE, PAIR_SEL };

struct tui_screen {
	struct tui_layout layout;
	WINDOW *header, *table, *detail, *events, *footer;
	bool colour;
};

static void free_windows(struct tui_screen *s)
{
	WINDOW **w[] = { &s->header, &s->table, &s->detail, &s->events, &s->footer };

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if (*w[i])
			delwin(*w[i]);
		*w[i] = NULL;
	}
}

static WINDOW *make(const struct tui_rect *r)
{
	return r->h > 0 && r->w > 0 ? newwin(r->h, r->w, r->y, r->x) : NULL;
}

static void build(struct tui_screen *s)
{
	free_windows(s);
	tui_layout_compute(LINES, COLS, &s->layout);
	if (s->layout.too_small)
		return;
	s->header = make(&s->layout.header);
	s->table = make(&s->layout.table);
	s->detail = make(&s->layout.detail);
	s->events = make(&s->layout.events);
	s->footer = make(&s->layout.footer);
}

struct tui_screen *tui_screen_open(struct tui_ui *ui)
{
	struct tui_screen *s = calloc(1, sizeof(*s));
	const char *nc = getenv("NO_COLOR");

	if (!s)
		return NULL;
	if (!initscr()) {
		free(s);
		return NULL;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	s->colour = has_colors() && !(nc && *nc);
	if (s->colour) {
		start_color();
		use_default_colors();
		init_pair(PAIR_ONLINE, COLOR_GREEN, -1);
		init_pair(PAIR_OFFLINE, COLOR_RED, -1);
		init_pair(PAIR_BOOTING, COLOR_YELLOW, -1);
		init_pair(PAIR_FAULTED, COLOR_MAGENTA, -1);
		init_pair(PAIR_OFF, COLOR_BLUE, -1);
		init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_SEL, COLOR_BLACK, COLOR_WHITE);
	}
	ui->colour = s->colour;
	/* The first frame paints the whole screen; later ones only changes. */
	wnoutrefresh(stdscr);
	build(s);
	return s;
}

void tui_screen_close(struct tui_screen *s)
{
	if (!s)
		return;
	free_windows(s);
	if (!isendwin())
		endwin();
	free(s);
}

void tui_screen_resize(struct tui_screen *s)
{
	/* KEY_RESIZE already resized stdscr; start from a clean slate. */
	clearok(curscr, TRUE);
	werase(stdscr);
	wnoutrefresh(stdscr);
	build(s);
}

const struct tui_layout *tui_screen_layout(const struct tui_screen *s)
{
	return &s->layout;
}

static attr_t state_attr(const struct tui_screen *s, enum tui_state st)
{
	static const short pairs[TUI_STATE_COUNT] = {
		[TUI_ONLINE] = PAIR_ONLINE, [TUI_OFFLINE] = PAIR_OFFLINE, [TUI_BOOTING] = PAIR_BOOTING,
		[TUI_FAULTED] = PAIR_FAULTED, [TUI_OFF] = PAIR_OFF,
	};

	if (s->colour)
		return COLOR_PAIR(pairs[st]) | (st == TUI_OFFLINE || st == TUI_FAULTED ? A_BOLD : 0);
	/* Monochrome: trouble is bold, no power is dim. */
	return st == TUI_OFFLINE || st == TUI_FAULTED ? A_BOLD : st == TUI_OFF ? A_DIM : A_NORMAL;
}

static attr_t title_attr(const struct tui_screen *s)
{
	return s->colour ? COLOR_PAIR(PAIR_TITLE) : A_REVERSE;
}

/* A line cut at the window's width, the rest of it cleared. */
static void put(WINDOW *w, int y, int x, attr_t a, const char *text)
{
	int maxx = getmaxx(w);

	if (x >= maxx)
		return;
	wattrset(w, a);
	mvwaddnstr(w, y, x, text, maxx - x);
	wattrset(w, A_NORMAL);
}

static void draw_header(struct tui_screen *s, const struct tui_model *m, const struct tui_ui *ui)
{
	WINDOW *w = s->header;
	const struct tui_header *h = &m->hdr;
	char line[512], el[32], spark[1024];
	int64_t start = h->run.started_ms;
	const char *phase = "unknown";
	int x;

	werase(w);
	switch (h->run.phase) {
	case WORLD_RUN_STARTING: phase = "starting"; break;
	case WORLD_RUN_RUNNING: phase = "running"; break;
	case WORLD_RUN_FINISHED: phase = "finished"; break;
	case WORLD_RUN_INTERRUPTED: phase = "interrupted"; break;
	}
	if (h->run.phase != WORLD_RUN_UNKNOWN && !h->run_alive && h->run.phase < WORLD_RUN_FINISHED)
		phase = "ended";
	tui_format_elapsed(start ? (h->run.ended_ms ? h->run.ended_ms : h->now_ms) - start : 0, el, sizeof(el));
	snprintf(line, sizeof(line), " %s  step %u/%u %s  %s  broker %s  %s%s", h->run_name,
		 h->run.steps_started, h->run.steps_total, h->run.step[0] ? h->run.step : "-", el,
		 h->broker_up ? "up" : "DOWN", phase, ui->embedded ? "" : h->control_ok ? "" : " (read-only)");
	wattrset(w, title_attr(s));
	mvwhline(w, 0, 0, ' ', getmaxx(w));
	put(w, 0, 0, title_attr(s), line);

	x = 0;
	snprintf(line, sizeof(line), " devices %zu ", m->n_dev);
	put(w, 1, x, A_BOLD, line);
	x += (int)strlen(line);
	for (int st = 0; st < TUI_STATE_COUNT; st++) {
		snprintf(line, sizeof(line), "%s %u ", tui_state_name((enum tui_state)st), h->counts[st]);
		put(w, 1, x, h->counts[st] && st != TUI_ONLINE && st != TUI_BOOTING ? state_attr(s, (enum tui_state)st) : A_NORMAL, line);
		x += (int)strlen(line);
	}
	snprintf(line, sizeof(line), " expectations %u passed %u failed", h->run.passed, h->run.failed);
	put(w, 1, x, h->run.failed ? state_attr(s, TUI_OFFLINE) : A_NORMAL, line);

	snprintf(line, sizeof(line), " msgs/s %7.1f  lost %llu  dup %llu  ", h->msgs_per_s,
		 (unsigned long long)h->lost, (unsigned long long)h->duplicated);
	put(w, 2, 0, A_NORMAL, line);
	x = (int)strlen(line);
	if (getmaxx(w) - x > 4) {
		tui_sparkline(h->rate, h->n_rate, (size_t)(getmaxx(w) - x - 1), ui->utf8, spark, sizeof(spark));
		put(w, 2, x, s->colour ? COLOR_PAIR(PAIR_ONLINE) : A_NORMAL, spark);
	}
	wnoutrefresh(w);
}

static int id_width(const struct tui_model *m)
{
	int wd = 2;

	/* The widest id, measured over what is shown now. */
	for (size_t i = 0; i < m->n_dev; i++) {
		int l = (int)strlen(m->dev[i].id);
		wd = l > wd ? l : wd;
	}
	return wd > 16 ? 16 : wd;
}

static void draw_table(struct tui_screen *s, const struct tui_model *m)
{
	WINDOW *w = s->table;
	int rows = tui_layout_table_rows(&s->layout), idw = id_width(m);
	int ncols = tui_columns_fit(getmaxx(w) - 2, idw);
	char cell[256], title[32];
	int x = 2;

	werase(w);
	wattrset(w, title_attr(s));
	mvwhline(w, 0, 0, ' ', getmaxx(w));
	for (int c = 0; c < ncols; c++) {
		int cw = c == TUI_COL_FAULTS ? getmaxx(w) - x : tui_column_width((enum tui_column)c, idw);
		snprintf(title, sizeof(title), "%s%s", tui_column_title((enum tui_column)c),
			 (int)m->sort_col == c ? (m->sort_desc ? "v" : "^") : "");
		put(w, 0, x, title_attr(s) | ((int)m->sort_col == c ? A_BOLD : 0), title);
		x += cw + 1;
	}
	for (int r = 0; r < rows; r++) {
		size_t vi = m->top + (size_t)r;
		const struct tui_device *d;
		bool sel = vi == m->sel;

		if (vi >= m->n_view)
			break;
		d = &m->dev[m->view[vi]];
		x = 2;
		if (sel) {
			wattrset(w, s->colour ? COLOR_PAIR(PAIR_SEL) : A_REVERSE);
			mvwhline(w, r + 1, 0, ' ', getmaxx(w));
		}
		put(w, r + 1, 0, sel ? (s->colour ? COLOR_PAIR(PAIR_SEL) : A_REVERSE) : A_BOLD, d->marked ? "*" : " ");
		for (int c = 0; c < ncols; c++) {
			int cw = c == TUI_COL_FAULTS ? getmaxx(w) - x : tui_column_width((enum tui_column)c, idw);
			attr_t a = sel ? (s->colour ? COLOR_PAIR(PAIR_SEL) : A_REVERSE) :
				   c == TUI_COL_STATE ? state_attr(s, d->state) : A_NORMAL;
			int len;

			tui_format_cell(d, (enum tui_column)c, m->hdr.now_ms, cell, sizeof(cell));
			len = (int)strlen(cell);
			/* Numbers right-aligned, words left. */
			bool right = c >= TUI_COL_TEMP && c <= TUI_COL_BUF;
			if (len > cw)
				cell[cw > 0 ? cw : 0] = '\0';
			put(w, r + 1, right && len < cw ? x + cw - len : x, a | (sel ? A_BOLD : 0), cell);
			x += cw + 1;
		}
	}
	if (!m->n_view)
		put(w, 1, 2, A_DIM, m->filter[0] ? "no device matches the filter" : "no devices");
	wnoutrefresh(w);
}

static void draw_detail(struct tui_screen *s, const struct tui_model *m, const struct tui_ui *ui)
{
	WINDOW *w = s->detail;
	const struct tui_detail *d = &m->detail;
	const struct tui_device *dev = m->n_view && m->sel < m->n_view ? &m->dev[m->view[m->sel]] : NULL;
	int width = getmaxx(w), h = getmaxy(w), left = width >= 100 ? width / 2 : width * 11 / 20;
	char line[512], spark[1024], faults[256];
	static const char *const names[3] = { "temp", "hum ", "dist" };
	const double *series[3] = { d->temp, d->hum, d->dist };

	werase(w);
	wattrset(w, title_attr(s));
	mvwhline(w, 0, 0, ' ', width);
	if (!dev) {
		put(w, 0, 0, title_attr(s), " detail");
		wnoutrefresh(w);
		return;
	}
	tui_format_faults(dev->fault_mask, faults, sizeof(faults));
	snprintf(line, sizeof(line), " %s  %s  pub %u ack %u buf %u reconnects %u  faults: %s",
		 dev->id, tui_state_name(dev->state), dev->published, dev->acknowledged,
		 dev->buffered, dev->reconnects, faults[0] ? faults : "none");
	put(w, 0, 0, title_attr(s), line);
	for (int k = 0; k < 3 && k + 1 < h; k++) {
		double last = NAN;
		for (size_t i = d->n; i-- > 0;)
			if (!isnan(series[k][i])) {
				last = series[k][i];
				break;
			}
		snprintf(line, sizeof(line), " %s %7.1f ", names[k], last);
		if (isnan(last))
			snprintf(line, sizeof(line), " %s       - ", names[k]);
		put(w, k + 1, 0, A_BOLD, line);
		if (left - 15 > 2) {
			tui_sparkline(series[k], d->n, (size_t)(left - 15), ui->utf8, spark, sizeof(spark));
			put(w, k + 1, 14, s->colour ? COLOR_PAIR(PAIR_ONLINE) : A_NORMAL, spark);
		}
	}
	if (h > 4) {
		snprintf(line, sizeof(line), " %u readings shown from the record", (unsigned)d->n);
		put(w, 4, 0, A_DIM, line);
	}
	/* The log tail on the right, newest at the bottom. */
	int lines = h - 1;
	size_t first = d->n_log > (size_t)lines ? d->n_log - (size_t)lines : 0;
	for (size_t i = first; i < d->n_log; i++)
		put(w, 1 + (int)(i - first), left, A_DIM, d->log[i]);
	wnoutrefresh(w);
}

static void draw_events(struct tui_screen *s, const struct tui_model *m)
{
	WINDOW *w = s->events;
	char line[256], when[16];

	werase(w);
	wattrset(w, title_attr(s));
	mvwhline(w, 0, 0, ' ', getmaxx(w));
	put(w, 0, 0, title_attr(s), " events (newest first)");
	for (int r = 1; r < getmaxy(w); r++) {
		const struct tui_event *e = tui_event_get(m, (size_t)(r - 1));
		attr_t a = A_NORMAL;

		if (!e)
			break;
		tui_format_elapsed(e->ms - m->hdr.run.started_ms, when, sizeof(when));
		snprintf(line, sizeof(line), " %s %s", m->hdr.run.started_ms ? when : "", e->text);
		if (e->kind == TUI_EV_CRASH || (e->kind == TUI_EV_EXPECT && strstr(e->text, "FAILED")))
			a = state_attr(s, TUI_OFFLINE);
		else if (e->kind == TUI_EV_FAULT)
			a = state_attr(s, TUI_FAULTED);
		put(w, r, 0, a, line);
	}
	wnoutrefresh(w);
}

static void draw_footer(struct tui_screen *s, const struct tui_model *m, const struct tui_ui *ui)
{
	WINDOW *w = s->footer;
	char line[512];

	werase(w);
	if (ui->mode == TUI_MODE_FILTER) {
		snprintf(line, sizeof(line), "filter: %s_   (Enter keep, Esc clear)", ui->filter_edit);
		put(w, 0, 0, A_BOLD, line);
	} else if (ui->message[0]) {
		put(w, 0, 0, A_BOLD, ui->message);
	} else {
		size_t marked = 0;
		for (size_t i = 0; i < m->n_dev; i++)
			marked += m->dev[i].marked;
		snprintf(line, sizeof(line), "%zu/%zu shown%s%s%s  %zu marked  w wifi f fault p power b broker s/S stop/start c clear / filter < > sort ? help q quit",
			 m->n_view, m->n_dev, m->filter[0] ? " [" : "", m->filter, m->filter[0] ? "]" : "", marked);
		put(w, 0, 0, A_NORMAL, line);
	}
	wnoutrefresh(w);
}

static void draw_box_text(const struct tui_screen *s, const char *const *lines, int n, int sel)
{
	int width = 0, h = n + 2, y, x;
	WINDOW *w;

	for (int i = 0; i < n; i++)
		width = (int)strlen(lines[i]) > width ? (int)strlen(lines[i]) : width;
	width += 4;
	if (width > COLS)
		width = COLS;
	if (h > LINES)
		h = LINES;
	y = (LINES - h) / 2;
	x = (COLS - width) / 2;
	w = newwin(h, width, y, x);
	if (!w)
		return;
	werase(w);
	box(w, 0, 0);
	for (int i = 0; i < n && i + 1 < h - 1; i++)
		put(w, i + 1, 2, i == sel ? (s->colour ? COLOR_PAIR(PAIR_SEL) : A_REVERSE) : A_NORMAL, lines[i]);
	wnoutrefresh(w);
	delwin(w);
}

static void draw_help(const struct tui_screen *s)
{
	static const char *const help[] = {
		"robofleet top: keys",
		"",
		"Up/Down j/k PgUp/PgDn Home/End  move the selection",
		"< >  sort by the previous/next column    r  reverse the order",
		"/    filter by id, state or fault name (Esc clears)",
		"space  mark or unmark; actions apply to the marked set, else the selection",
		"u    unmark all",
		"w    drop WiFi (again: bring it back)",
		"f    fault menu (sensor, link, flash, security, server)",
		"p    power-cycle (cut, restore 3 s later)",
		"b    restart the broker",
		"s S  send a stop / start command",
		"c    clear every fault",
		"?    this help          q  quit",
		"",
		"Actions are applied by the run and recorded in its faults table",
		"with source 'dashboard'. Press any key.",
	};
	draw_box_text(s, help, (int)(sizeof(help) / sizeof(help[0])), -1);
}

static void draw_menu(const struct tui_screen *s, int sel)
{
	const char *lines[40];
	char text[40][64];
	int n = 0;

	lines[n++] = "inject a fault (Enter, or its letter; Esc cancels)";
	for (int i = 0; i < tui_menu_count() && n < 40; i++, n++) {
		snprintf(text[n], sizeof(text[n]), "%c  %s", tui_menu_letter(i),
			 fault_catalog_name(tui_menu_kind(i)));
		lines[n] = text[n];
	}
	draw_box_text(s, lines, n, sel + 1);
}

void tui_screen_draw(struct tui_screen *s, const struct tui_model *m, const struct tui_ui *ui,
		     unsigned dirty)
{
	if (s->layout.too_small) {
		werase(stdscr);
		mvaddstr(0, 0, "terminal too small for robofleet top (40x12 at least); q quits");
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	/* An overlay covers the panels: repaint them all under it. */
	if (ui->mode == TUI_MODE_HELP || ui->mode == TUI_MODE_FAULT_MENU)
		dirty = TUI_PANEL_ALL;
	if (dirty & TUI_PANEL_HEADER)
		draw_header(s, m, ui);
	if (dirty & TUI_PANEL_TABLE)
		draw_table(s, m);
	if (dirty & TUI_PANEL_DETAIL)
		draw_detail(s, m, ui);
	if (dirty & TUI_PANEL_EVENTS)
		draw_events(s, m);
	if (dirty & TUI_PANEL_FOOTER)
		draw_footer(s, m, ui);
	if (ui->mode == TUI_MODE_HELP)
		draw_help(s);
	else if (ui->mode == TUI_MODE_FAULT_MENU)
		draw_menu(s, ui->menu_sel);
	doupdate();
}
