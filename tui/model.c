/* The dashboard model: classification, counts, filter, sort, selection. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "model.h"

int tui_model_init(struct tui_model *m, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->dev = calloc(n ? n : 1, sizeof(*m->dev));
	m->view = calloc(n ? n : 1, sizeof(*m->view));
	if (!m->dev || !m->view) {
		tui_model_free(m);
		return -ENOMEM;
	}
	m->n_dev = n;
	return 0;
}

void tui_model_free(struct tui_model *m)
{
	free(m->dev);
	free(m->view);
	m->dev = NULL;
	m->view = NULL;
	m->n_dev = m->n_view = 0;
}

enum tui_state tui_state_of(uint32_t power, bool reported, const struct world_report *rep,
			    uint32_t fault_mask, bool alive)
{
	if (power == WORLD_POWER_OFF)
		return TUI_OFF;
	if (!reported || rep->state == WORLD_ROBOT_BOOT)
		return alive || !reported ? TUI_BOOTING : TUI_OFFLINE;
	if (!alive)
		return TUI_OFFLINE;
	if (rep->state == WORLD_ROBOT_ONLINE)
		return fault_mask || rep->climate_err || rep->distance_err ? TUI_FAULTED : TUI_ONLINE;
	/* Still on its way to the first session: booting, not lost. */
	if ((rep->state == WORLD_ROBOT_LINK_CONNECTING || rep->state == WORLD_ROBOT_MQTT_CONNECTING) &&
	    rep->counters.published == 0 && rep->counters.reconnects == 0 &&
	    rep->counters.link_failures == 0)
		return TUI_BOOTING;
	return TUI_OFFLINE;
}

void tui_count_states(struct tui_model *m)
{
	memset(m->hdr.counts, 0, sizeof(m->hdr.counts));
	for (size_t i = 0; i < m->n_dev; i++)
		m->hdr.counts[m->dev[i].state]++;
}

bool tui_filter_match(const struct tui_device *d, const char *filter)
{
	char faults[256];

	if (!filter[0] || strcasestr(d->id, filter) || !strcasecmp(tui_state_name(d->state), filter))
		return true;
	tui_format_faults(d->fault_mask, faults, sizeof(faults));
	return faults[0] && strcasestr(faults, filter);
}

#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)

int tui_compare(const struct tui_device *a, const struct tui_device *b, enum tui_column col)
{
	int c = 0;

	switch (col) {
	case TUI_COL_ID: break;
	case TUI_COL_STATE: c = CMP(a->state, b->state); break;
	case TUI_COL_LINK: c = CMP(a->link_mode * 2 + a->weak, b->link_mode * 2 + b->weak); break;
	case TUI_COL_MQTT: c = CMP(a->robot_state, b->robot_state); break;
	/* A missing value sorts below every real one. */
	case TUI_COL_TEMP: c = CMP(a->temp_ok ? a->temp_dc : INT32_MIN, b->temp_ok ? b->temp_dc : INT32_MIN); break;
	case TUI_COL_HUM: c = CMP(a->temp_ok ? (int64_t)a->humidity_dpct : -1, b->temp_ok ? (int64_t)b->humidity_dpct : -1); break;
	case TUI_COL_DIST: c = CMP(a->dist_ok ? (int64_t)a->distance_mm : -1, b->dist_ok ? (int64_t)b->distance_mm : -1); break;
	/* Age ascending = most recent first. */
	case TUI_COL_AGE: c = CMP(b->last_ms, a->last_ms); break;
	case TUI_COL_PUB: c = CMP(a->published, b->published); break;
	case TUI_COL_ACK: c = CMP(a->acknowledged, b->acknowledged); break;
	case TUI_COL_BUF: c = CMP(a->buffered, b->buffered); break;
	case TUI_COL_FAULTS: c = CMP(__builtin_popcount(a->fault_mask), __builtin_popcount(b->fault_mask));
		if (!c) c = CMP(a->fault_mask, b->fault_mask);
		break;
	case TUI_COL_COUNT: break;
	}
	return c ? c : strcmp(a->id, b->id);
}

/* qsort has no context argument in C11: the model being sorted. */
static const struct tui_model *sorting;

static int cmp_view(const void *pa, const void *pb)
{
	const struct tui_device *a = &sorting->dev[*(const size_t *)pa];
	const struct tui_device *b = &sorting->dev[*(const size_t *)pb];
	int c = tui_compare(a, b, sorting->sort_col);

	return sorting->sort_desc ? -c : c;
}

void tui_view_update(struct tui_model *m)
{
	size_t keep = m->n_view && m->sel < m->n_view ? m->view[m->sel] : SIZE_MAX;
	size_t offset = m->sel >= m->top ? m->sel - m->top : 0; /* its row on screen */

	m->n_view = 0;
	for (size_t i = 0; i < m->n_dev; i++)
		if (tui_filter_match(&m->dev[i], m->filter))
			m->view[m->n_view++] = i;
	sorting = m;
	qsort(m->view, m->n_view, sizeof(*m->view), cmp_view);
	sorting = NULL;
	for (size_t r = 0; keep != SIZE_MAX && r < m->n_view; r++) {
		if (m->view[r] == keep) {
			/* It stays on the same screen row when it can. */
			m->top = r >= offset ? r - offset : 0;
			m->sel = r;
			return;
		}
	}
	if (m->sel >= m->n_view)
		m->sel = m->n_view ? m->n_view - 1 : 0;
	if (m->top > m->sel)
		m->top = m->sel;
}

void tui_select_move(struct tui_model *m, long delta, size_t rows)
{
	long s = (long)m->sel + delta;

	if (!m->n_view) {
		m->sel = m->top = 0;
		return;
	}
	if (s < 0)
		s = 0;
	if (s >= (long)m->n_view)
		s = (long)m->n_view - 1;
	m->sel = (size_t)s;
	if (rows == 0)
		rows = 1;
	if (m->sel < m->top)
		m->top = m->sel;
	else if (m->sel >= m->top + rows)
		m->top = m->sel - rows + 1;
	/* No empty rows at the bottom while there is more above. */
	if (m->n_view >= rows && m->top > m->n_view - rows)
		m->top = m->n_view - rows;
}

struct tui_device *tui_selected(struct tui_model *m)
{
	return m->n_view && m->sel < m->n_view ? &m->dev[m->view[m->sel]] : NULL;
}

void tui_event_add(struct tui_model *m, int64_t ms, int kind, const char *text)
{
	struct tui_event *e = &m->events[m->ev_next];

	e->ms = ms;
	e->kind = kind;
	snprintf(e->text, sizeof(e->text), "%s", text);
	m->ev_next = (m->ev_next + 1) % TUI_EVENTS;
	if (m->ev_count < TUI_EVENTS)
		m->ev_count++;
}

const struct tui_event *tui_event_get(const struct tui_model *m, size_t i)
{
	if (i >= m->ev_count)
		return NULL;
	return &m->events[(m->ev_next + TUI_EVENTS - 1 - i) % TUI_EVENTS];
}
