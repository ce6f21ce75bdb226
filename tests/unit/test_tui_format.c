/* The dashboard's text: cells, ages, fault lists, sparklines, the 80x24 layout, control lines. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "control.h"
#include "format.h"
#include "layout.h"
#include "scenario.h"

static void test_tui_format_cells(void **state)
{
	struct tui_device d;
	char b[64];

	(void)state;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "lab_001");
	d.state = TUI_OFFLINE;
	d.temp_ok = d.dist_ok = true;
	d.temp_dc = -35;
	d.humidity_dpct = 452;
	d.distance_mm = 1502;
	d.published = 12;
	d.link_mode = WORLD_LINK_DOWN;
	d.last_ms = 1000;
	tui_format_cell(&d, TUI_COL_ID, 0, b, sizeof(b));
	assert_string_equal(b, "lab_001");
	tui_format_cell(&d, TUI_COL_STATE, 0, b, sizeof(b));
	assert_string_equal(b, "offline");
	tui_format_cell(&d, TUI_COL_TEMP, 0, b, sizeof(b));
	assert_string_equal(b, "-3.5");
	tui_format_cell(&d, TUI_COL_HUM, 0, b, sizeof(b));
	assert_string_equal(b, "45.2");
	tui_format_cell(&d, TUI_COL_DIST, 0, b, sizeof(b));
	assert_string_equal(b, "150.2");
	tui_format_cell(&d, TUI_COL_LINK, 0, b, sizeof(b));
	assert_string_equal(b, "down");
	tui_format_cell(&d, TUI_COL_AGE, 13500, b, sizeof(b));
	assert_string_equal(b, "12s");
	tui_format_cell(&d, TUI_COL_PUB, 0, b, sizeof(b));
	assert_string_equal(b, "12");
	d.temp_ok = false;
	tui_format_cell(&d, TUI_COL_TEMP, 0, b, sizeof(b));
	assert_string_equal(b, "-");
	d.last_ms = 0;
	tui_format_cell(&d, TUI_COL_AGE, 13500, b, sizeof(b));
	assert_string_equal(b, "-");
	d.temp_ok = true;
	d.temp_dc = 7;
	tui_format_cell(&d, TUI_COL_TEMP, 0, b, sizeof(b));
	assert_string_equal(b, "0.7");
}

static void test_tui_format_age_and_elapsed(void **state)
{
	char b[32];

	(void)state;
	tui_format_age(99999, b, sizeof(b));
	assert_string_equal(b, "99s");
	tui_format_age(100000, b, sizeof(b));
	assert_string_equal(b, "1m");
	tui_format_age(7200000, b, sizeof(b));
	assert_string_equal(b, "2h");
	tui_format_elapsed(3723000, b, sizeof(b));
	assert_string_equal(b, "01:02:03");
	tui_format_elapsed(-5, b, sizeof(b));
	assert_string_equal(b, "00:00:00");
}

static void test_tui_format_faults(void **state)
{
	char b[128];

	(void)state;
	tui_format_faults(0, b, sizeof(b));
	assert_string_equal(b, "");
	tui_format_faults((1u << SCENARIO_FAULT_WIFI_DROP) | (1u << SCENARIO_FAULT_DHT_SPIKES), b, sizeof(b));
	assert_string_equal(b, "wifi_drop,dht_spikes");
	/* Cut short, never overrun. */
	tui_format_faults(0xffff, b, 12);
	assert_true(strlen(b) < 12);
}

static void test_tui_format_sparkline(void **state)
{
	const double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	const double flat[] = { 5, 5, 5 };
	const double gaps[] = { 1, NAN, 3 };
	char b[128];

	(void)state;
	assert_int_equal(tui_sparkline(v, 8, 8, false, b, sizeof(b)), 8);
	assert_string_equal(b, "_.:-=+*#");
	/* Only the newest @width values. */
	assert_int_equal(tui_sparkline(v, 8, 2, false, b, sizeof(b)), 2);
	assert_string_equal(b, "_#");
	assert_int_equal(tui_sparkline(flat, 3, 10, false, b, sizeof(b)), 3);
	assert_string_equal(b, "---");
	assert_int_equal(tui_sparkline(gaps, 3, 10, false, b, sizeof(b)), 3);
	assert_string_equal(b, "_ #");
	assert_int_equal(tui_sparkline(v, 8, 8, true, b, sizeof(b)), 8);
	assert_string_equal(b, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
	/* A short buffer takes whole cells only. */
	assert_int_equal(tui_sparkline(v, 8, 8, true, b, 8), 2);
	assert_int_equal(strlen(b), 6);
	assert_int_equal(tui_sparkline(v, 0, 8, true, b, sizeof(b)), 0);
	assert_string_equal(b, "");
}

static void test_tui_format_layout_80x24(void **state)
{
	struct tui_layout l;

	(void)state;
	tui_layout_compute(24, 80, &l);
	assert_false(l.too_small);
	assert_int_equal(l.header.y, 0);
	assert_int_equal(l.header.h, 3);
	assert_int_equal(l.table.y, 3);
	assert_int_equal(tui_layout_table_rows(&l), 8);
	/* The panels tile the screen, top to bottom, with no gap or overlap. */
	assert_int_equal(l.table.y + l.table.h, l.detail.y);
	assert_int_equal(l.detail.y + l.detail.h, l.events.y);
	assert_int_equal(l.events.y + l.events.h, l.footer.y);
	assert_int_equal(l.footer.y, 23);
	assert_int_equal(l.table.w, 80);
	/* At 80 every column fits with ids up to 10 characters; longer ids
	 * push the fault list into the detail pane. */
	assert_int_equal(tui_columns_fit(78, 10), TUI_COL_COUNT);
	assert_int_equal(tui_columns_fit(78, 14), TUI_COL_COUNT - 1);
	tui_layout_compute(40, 120, &l);
	assert_int_equal(tui_layout_table_rows(&l), 17);
	assert_int_equal(l.footer.y, 39);
	tui_layout_compute(10, 80, &l);
	assert_true(l.too_small);
	/* A narrow terminal drops columns from the right. */
	assert_true(tui_columns_fit(40, 14) < TUI_COL_COUNT);
	assert_true(tui_columns_fit(40, 14) >= 3);
}

static void test_tui_format_control_lines(void **state)
{
	struct control_request r, p;
	char b[CONTROL_LINE_MAX + 1];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.verb = CONTROL_FAULT;
	snprintf(r.device, sizeof(r.device), "lab_001");
	snprintf(r.arg, sizeof(r.arg), "wifi_drop");
	assert_int_equal(control_format(&r, b, sizeof(b)), (int)strlen("fault lab_001 wifi_drop\n"));
	assert_string_equal(b, "fault lab_001 wifi_drop\n");
	assert_int_equal(control_parse(b, &p), 0);
	assert_int_equal(p.verb, CONTROL_FAULT);
	assert_string_equal(p.device, "lab_001");
	assert_string_equal(p.arg, "wifi_drop");
	assert_int_equal(control_parse("clear lab_001", &p), 0);
	assert_int_equal(p.verb, CONTROL_CLEAR);
	assert_string_equal(p.arg, "");
	assert_int_equal(control_parse("broker restart\n", &p), 0);
	assert_int_equal(p.verb, CONTROL_BROKER);
	assert_string_equal(p.arg, "restart");
	assert_int_equal(control_parse("power lab_001 cycle", &p), 0);
	assert_int_equal(control_parse("power lab_001 explode", &p), -EINVAL);
	assert_int_equal(control_parse("command lab_001 stop", &p), 0);
	assert_int_equal(control_parse("broker lab_001 restart", &p), -EINVAL);
	assert_int_equal(control_parse("fault lab_001", &p), -EINVAL);
	assert_int_equal(control_parse("reboot everything now please", &p), -EINVAL);
	assert_int_equal(control_parse("", &p), -EINVAL);
	r.verb = CONTROL_POWER;
	snprintf(r.arg, sizeof(r.arg), "sideways");
	assert_int_equal(control_format(&r, b, sizeof(b)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tui_format_cells),
		cmocka_unit_test(test_tui_format_age_and_elapsed),
		cmocka_unit_test(test_tui_format_faults),
		cmocka_unit_test(test_tui_format_sparkline),
		cmocka_unit_test(test_tui_format_layout_80x24),
		cmocka_unit_test(test_tui_format_control_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
