/* Keys: moving, sorting, filtering, marking, and the fleet actions. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "actions.h"
#include "fault_catalog.h"
#include "input.h"

/* The menu: the catalog's kinds by menu group, the catalog's order inside
 * a group; built once, since the catalog never changes. */
static int menu_kinds[FAULT_KIND_COUNT];
static int menu_count = -1;

static void menu_build(void)
{
	if (menu_count >= 0)
		return;
	menu_count = 0;
	for (int g = FAULT_MENU_NONE + 1; g <= FAULT_MENU_LAST; g++)
		for (int k = 0; k < FAULT_KIND_COUNT; k++)
			if ((int)fault_catalog[k].menu == g)
				menu_kinds[menu_count++] = k;
}

int tui_menu_count(void)
{
	menu_build();
	return menu_count;
}

int tui_menu_kind(int i)
{
	menu_build();
	return i >= 0 && i < menu_count ? menu_kinds[i] : -1;
}

/* f and q close the menu, j and k move in it: no item may answer to them. */
static int menu_key_taken(int ch)
{
	return ch == 'f' || ch == 'j' || ch == 'k' || ch == 'q';
}

/* Lower case first, then upper case: the catalog has outgrown one alphabet. */
int tui_menu_letter(int i)
{
	int ch = 'a' - 1;

	for (int n = 0; n <= i; n++)
		do
			ch = ch == 'z' ? 'A' : ch + 1;
		while (menu_key_taken(ch));
	return ch;
}

#define KEY_ESC 27
#define ALL_PANELS (TUI_PANEL_HEADER | TUI_PANEL_TABLE | TUI_PANEL_DETAIL | TUI_PANEL_EVENTS | TUI_PANEL_FOOTER)

static int act(struct tui_model *m, struct tui_ui *ui, enum control_verb v, const char *arg,
	       const char *dir, unsigned *dirty)
{
	tui_action(m, v, arg, dir, ui->message, sizeof(ui->message));
	*dirty |= TUI_PANEL_FOOTER;
	return TUI_HANDLED;
}

static int filter_key(int ch, struct tui_model *m, struct tui_ui *ui, unsigned *dirty)
{
	size_t len = strlen(ui->filter_edit);

	*dirty |= TUI_PANEL_FOOTER | TUI_PANEL_TABLE | TUI_PANEL_DETAIL;
	if (ch == KEY_ESC) {
		ui->filter_edit[0] = '\0';
		m->filter[0] = '\0';
		ui->mode = TUI_MODE_NORMAL;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		ui->mode = TUI_MODE_NORMAL;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len)
			ui->filter_edit[len - 1] = '\0';
	} else if (ch >= 32 && ch < 127 && len + 1 < sizeof(ui->filter_edit)) {
		ui->filter_edit[len] = (char)ch;
		ui->filter_edit[len + 1] = '\0';
	} else {
		return TUI_HANDLED;
	}
	/* The table narrows as one types. */
	snprintf(m->filter, sizeof(m->filter), "%s", ui->filter_edit);
	m->sel = m->top = 0;
	return TUI_HANDLED | TUI_RESORT;
}

static int menu_key(int ch, struct tui_model *m, struct tui_ui *ui, const char *dir, unsigned *dirty)
{
	int pick = -1;

	*dirty |= ALL_PANELS;
	if (ch == KEY_ESC || ch == 'q' || ch == 'f') {
		ui->mode = TUI_MODE_NORMAL;
		return TUI_HANDLED;
	}
	if (ch == KEY_UP || ch == 'k')
		ui->menu_sel = ui->menu_sel > 0 ? ui->menu_sel - 1 : 0;
	else if (ch == KEY_DOWN || ch == 'j')
		ui->menu_sel = ui->menu_sel + 1 < tui_menu_count() ? ui->menu_sel + 1 : ui->menu_sel;
	else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
		pick = ui->menu_sel;
	else
		for (int i = 0; i < tui_menu_count(); i++)
			if (tui_menu_letter(i) == ch)
				pick = i;
	if (pick >= 0) {
		ui->mode = TUI_MODE_NORMAL;
		return act(m, ui, CONTROL_FAULT, fault_catalog_name(tui_menu_kind(pick)), dir, dirty);
	}
	return TUI_HANDLED;
}

int tui_input_key(int ch, struct tui_model *m, struct tui_ui *ui, const char *dir, int rows,
		  unsigned *dirty)
{
	struct tui_device *d;

	if (ui->mode == TUI_MODE_FILTER)
		return filter_key(ch, m, ui, dirty);
	if (ui->mode == TUI_MODE_FAULT_MENU)
		return menu_key(ch, m, ui, dir, dirty);
	if (ui->mode == TUI_MODE_HELP) {
		ui->mode = TUI_MODE_NORMAL;
		*dirty |= ALL_PANELS;
		return ch == 'q' ? TUI_QUIT : TUI_HANDLED;
	}
	/* A new key replaces the last action's message with the key hints. */
	if (ui->message[0]) {
		ui->message[0] = '\0';
		*dirty |= TUI_PANEL_FOOTER;
	}
	switch (ch) {
	case 'q': case 'Q': return TUI_QUIT;
	case KEY_UP: case 'k': tui_select_move(m, -1, (size_t)rows); break;
	case KEY_DOWN: case 'j': tui_select_move(m, 1, (size_t)rows); break;
	case KEY_PPAGE: tui_select_move(m, -rows, (size_t)rows); break;
	case KEY_NPAGE: tui_select_move(m, rows, (size_t)rows); break;
	case KEY_HOME: case 'g': tui_select_move(m, -(long)m->n_view, (size_t)rows); break;
	case KEY_END: case 'G': tui_select_move(m, (long)m->n_view, (size_t)rows); break;
	case '<': case KEY_LEFT:
		m->sort_col = (enum tui_column)((m->sort_col + TUI_COL_COUNT - 1) % TUI_COL_COUNT);
		*dirty |= TUI_PANEL_TABLE;
		return TUI_HANDLED | TUI_RESORT;
	case '>': case KEY_RIGHT:
		m->sort_col = (enum tui_column)((m->sort_col + 1) % TUI_COL_COUNT);
		*dirty |= TUI_PANEL_TABLE;
		return TUI_HANDLED | TUI_RESORT;
	case 'r':
		m->sort_desc = !m->sort_desc;
		*dirty |= TUI_PANEL_TABLE;
		return TUI_HANDLED | TUI_RESORT;
	case '/':
		ui->mode = TUI_MODE_FILTER;
		snprintf(ui->filter_edit, sizeof(ui->filter_edit), "%s", m->filter);
		*dirty |= TUI_PANEL_FOOTER;
		return TUI_HANDLED;
	case ' ':
		if ((d = tui_selected(m)))
			d->marked = !d->marked;
		tui_select_move(m, 1, (size_t)rows);
		*dirty |= TUI_PANEL_FOOTER;
		break;
	case 'u':
		for (size_t i = 0; i < m->n_dev; i++)
			m->dev[i].marked = false;
		*dirty |= TUI_PANEL_FOOTER;
		break;
	case '?':
		ui->mode = TUI_MODE_HELP;
		*dirty |= ALL_PANELS;
		return TUI_HANDLED;
	case 'f':
		ui->mode = TUI_MODE_FAULT_MENU;
		*dirty |= ALL_PANELS;
		return TUI_HANDLED;
	case 'w': return act(m, ui, CONTROL_FAULT, "wifi_drop", dir, dirty);
	case 'p': return act(m, ui, CONTROL_POWER, "cycle", dir, dirty);
	case 'b': return act(m, ui, CONTROL_BROKER, "restart", dir, dirty);
	case 's': return act(m, ui, CONTROL_COMMAND, "stop", dir, dirty);
	case 'S': return act(m, ui, CONTROL_COMMAND, "start", dir, dirty);
	case 'c': return act(m, ui, CONTROL_CLEAR, "", dir, dirty);
	default: return 0;
	}
	*dirty |= TUI_PANEL_TABLE | TUI_PANEL_DETAIL;
	return TUI_HANDLED;
}
