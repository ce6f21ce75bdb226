/* The dashboard model: classification, state counts, filter, sort, selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "robot.h"
#include "scenario.h"

static void add(struct tui_model *m, size_t i, const char *id, enum tui_state st, int32_t temp_dc,
		uint32_t published)
{
	snprintf(m->dev[i].id, sizeof(m->dev[i].id), "%s", id);
	m->dev[i].state = st;
	m->dev[i].temp_ok = true;
	m->dev[i].temp_dc = temp_dc;
	m->dev[i].published = published;
	m->dev[i].alive = true;
}

static void fleet(struct tui_model *m)
{
	assert_int_equal(tui_model_init(m, 5), 0);
	add(m, 0, "lab_002", TUI_ONLINE, 215, 30);
	add(m, 1, "lab_001", TUI_OFFLINE, -40, 10);
	add(m, 2, "cellar_001", TUI_FAULTED, 120, 20);
	add(m, 3, "lab_003", TUI_OFF, 0, 0);
	add(m, 4, "greenhouse_001", TUI_ONLINE, 270, 40);
	m->dev[3].temp_ok = false;
	m->dev[2].fault_mask = 1u << SCENARIO_FAULT_DHT_SPIKES;
}

static const char *row(const struct tui_model *m, size_t r)
{
	return m->dev[m->view[r]].id;
}

static void test_tui_model_state_of(void **state)
{
	struct world_report rep;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(tui_state_of(WORLD_POWER_OFF, true, &rep, 0, true), TUI_OFF);
	assert_int_equal(tui_state_of(WORLD_POWER_ON, false, &rep, 0, false), TUI_BOOTING);
	rep.state = ROBOT_ONLINE;
	assert_int_equal(tui_state_of(WORLD_POWER_ON, true, &rep, 0, true), TUI_ONLINE);
	assert_int_equal(tui_state_of(WORLD_POWER_ON, true, &rep, 1, true), TUI_FAULTED);
	rep.climate_err = -5;
	assert_int_equal(tui_state_of(WORLD_POWER_ON, true, &rep, 0, true), TUI_FAULTED);
	rep.climate_err = 0;
	/* A dead process is not online, whatever its last report said. */
	assert_int_equal(tui_state_of(WORLD_POWER_ON, true, &rep, 0, false), TUI_OFFLINE);
	/* Connecting for the first time is booting; after a session, offline. */
	rep.state = ROBOT_LINK_CONNECTING;
	assert_int_equal(tui_state_of(WORLD_POWER_ON, true, &rep, 0, true), TUI_BOOTING);
	rep.counters.published = 3;
	assert_int_equal(tui_state_of(WORLD_POWER_ON, true, &rep, 0, true), TUI_OFFLINE);
	rep.state = ROBOT_BACKOFF;
	assert_int_equal(tui_state_of(WORLD_POWER_ON, true, &rep, 0, true), TUI_OFFLINE);
}

static void test_tui_model_counts(void **state)
{
	struct tui_model m;

	(void)state;
	fleet(&m);
	tui_count_states(&m);
	assert_int_equal(m.hdr.counts[TUI_ONLINE], 2);
	assert_int_equal(m.hdr.counts[TUI_OFFLINE], 1);
	assert_int_equal(m.hdr.counts[TUI_FAULTED], 1);
	assert_int_equal(m.hdr.counts[TUI_OFF], 1);
	assert_int_equal(m.hdr.counts[TUI_BOOTING], 0);
	tui_model_free(&m);
}

static void test_tui_model_sort_by_id_and_columns(void **state)
{
	struct tui_model m;

	(void)state;
	fleet(&m);
	tui_view_update(&m);
	assert_int_equal(m.n_view, 5);
	assert_string_equal(row(&m, 0), "cellar_001");
	assert_string_equal(row(&m, 4), "lab_003");
	m.sort_col = TUI_COL_TEMP;
	tui_view_update(&m);
	/* No value sorts first, then coldest to warmest. */
	assert_string_equal(row(&m, 0), "lab_003");
	assert_string_equal(row(&m, 1), "lab_001");
	assert_string_equal(row(&m, 4), "greenhouse_001");
	m.sort_desc = true;
	tui_view_update(&m);
	assert_string_equal(row(&m, 0), "greenhouse_001");
	m.sort_col = TUI_COL_PUB;
	m.sort_desc = false;
	tui_view_update(&m);
	assert_string_equal(row(&m, 0), "lab_003");
	assert_string_equal(row(&m, 4), "greenhouse_001");
	m.sort_col = TUI_COL_STATE;
	tui_view_update(&m);
	/* Equal states fall back to the id. */
	assert_string_equal(row(&m, 0), "greenhouse_001");
	assert_string_equal(row(&m, 1), "lab_002");
	tui_model_free(&m);
}

static void test_tui_model_filter(void **state)
{
	struct tui_model m;

	(void)state;
	fleet(&m);
	snprintf(m.filter, sizeof(m.filter), "LAB_");
	tui_view_update(&m);
	assert_int_equal(m.n_view, 3);
	snprintf(m.filter, sizeof(m.filter), "offline");
	tui_view_update(&m);
	assert_int_equal(m.n_view, 1);
	assert_string_equal(row(&m, 0), "lab_001");
	snprintf(m.filter, sizeof(m.filter), "spikes");
	tui_view_update(&m);
	assert_int_equal(m.n_view, 1);
	assert_string_equal(row(&m, 0), "cellar_001");
	snprintf(m.filter, sizeof(m.filter), "nothing-like-this");
	tui_view_update(&m);
	assert_int_equal(m.n_view, 0);
	assert_null(tui_selected(&m));
	m.filter[0] = '\0';
	tui_view_update(&m);
	assert_int_equal(m.n_view, 5);
	tui_model_free(&m);
}

static void test_tui_model_selection_follows_device(void **state)
{
	struct tui_model m;

	(void)state;
	fleet(&m);
	tui_view_update(&m);
	tui_select_move(&m, 2, 3);
	assert_string_equal(tui_selected(&m)->id, "lab_001");
	m.sort_col = TUI_COL_TEMP;
	m.sort_desc = true;
	tui_view_update(&m);
	/* Re-sorting keeps the same device selected. */
	assert_string_equal(tui_selected(&m)->id, "lab_001");
	tui_model_free(&m);
}

static void test_tui_model_scrolls_10000(void **state)
{
	struct tui_model m;

	(void)state;
	assert_int_equal(tui_model_init(&m, 10000), 0);
	for (size_t i = 0; i < m.n_dev; i++)
		snprintf(m.dev[i].id, sizeof(m.dev[i].id), "robot_%05zu", i);
	tui_view_update(&m);
	tui_select_move(&m, 25, 8);
	assert_int_equal(m.sel, 25);
	assert_int_equal(m.top, 18);       /* the selection is the last row shown */
	tui_select_move(&m, -3, 8);
	assert_int_equal(m.top, 18);       /* moving inside the page does not scroll */
	tui_select_move(&m, 1000000, 8);
	assert_int_equal(m.sel, 9999);
	assert_int_equal(m.top, 9992);
	tui_select_move(&m, -1000000, 8);
	assert_int_equal(m.sel, 0);
	assert_int_equal(m.top, 0);
	tui_model_free(&m);
}

static void test_tui_model_events_ring(void **state)
{
	struct tui_model m;
	char t[32];

	(void)state;
	assert_int_equal(tui_model_init(&m, 1), 0);
	assert_null(tui_event_get(&m, 0));
	for (int i = 0; i < TUI_EVENTS + 10; i++) {
		snprintf(t, sizeof(t), "e%d", i);
		tui_event_add(&m, i, TUI_EV_INFO, t);
	}
	assert_int_equal(m.ev_count, TUI_EVENTS);
	snprintf(t, sizeof(t), "e%d", TUI_EVENTS + 9);
	assert_string_equal(tui_event_get(&m, 0)->text, t);
	assert_string_equal(tui_event_get(&m, TUI_EVENTS - 1)->text, "e10");
	assert_null(tui_event_get(&m, TUI_EVENTS));
	tui_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tui_model_state_of),
		cmocka_unit_test(test_tui_model_counts),
		cmocka_unit_test(test_tui_model_sort_by_id_and_columns),
		cmocka_unit_test(test_tui_model_filter),
		cmocka_unit_test(test_tui_model_selection_follows_device),
		cmocka_unit_test(test_tui_model_scrolls_10000),
		cmocka_unit_test(test_tui_model_events_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
