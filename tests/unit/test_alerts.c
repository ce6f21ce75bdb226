/* Unit tests of the alert evaluator: hold, hysteresis, below, missing_for, late readings. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alerts.h"

/* Device 0 is gh_1, device 1 gh_2 (sorted ids); lab_1 is device 2. */
static const char rules[] =
	"fleet:\n"
	"  groups:\n"
	"    - {name: greenhouse, count: 2, id: \"gh_{}\"}\n"
	"    - {name: lab, count: 1, id: \"lab_{}\"}\n"
	"alerts:\n"
	"  - {name: too_hot, target: \"group:greenhouse\", metric: temperature, above: 30,\n"
	"     for: 10s, clear_below: 29}\n"
	"  - {name: too_dry, metric: humidity, below: 20, clear_above: 25}\n"
	"  - {name: silent, missing_for: 30s}\n"
	"  - {name: warming, target: lab_1, metric: temperature, rises_faster_than: 2/m,\n"
	"     for: 20s}\n"
	"steps:\n"
	"  - wait: 1s\n";

enum { HOT, DRY, SILENT, WARMING };
enum { GH1, GH2, LAB1 };

#define T0 1700000000000LL  /* UTC ms: the run's start */

struct fixture {
	struct scenario sc;
	struct alerts a;
	struct alert_event ev[16];
	size_t n;
};

static void record(void *ctx, const struct alert_event *ev)
{
	struct fixture *f = ctx;

	assert_true(f->n < sizeof(f->ev) / sizeof(f->ev[0]));
	f->ev[f->n++] = *ev;
}

static int setup(void **state)
{
	static struct fixture f;
	struct scenario_error err;

	memset(&f, 0, sizeof(f));
	if (scenario_parse_string("t.yaml", rules, strlen(rules), &f.sc, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(alerts_init(&f.a, &f.sc, NULL, T0, record, &f), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	alerts_free(&f->a);
	scenario_free(&f->sc);
	return 0;
}

/* A reading of temperature @t and humidity 50 taken at @dev_s and received at @arr_s (seconds after T0). */
static void temp(struct fixture *f, size_t dev, double dev_s, double arr_s, double t)
{
	struct alert_reading rd = {
		.device_ms = T0 + (int64_t)(dev_s * 1000),
		.arrival_ms = T0 + (int64_t)(arr_s * 1000),
		.has = { true, true, true },
		.value = { t, 50, 100 },
	};

	alerts_reading(&f->a, dev, &rd);
}

static void humid(struct fixture *f, size_t dev, double s, double h)
{
	struct alert_reading rd = {
		.device_ms = T0 + (int64_t)(s * 1000), .arrival_ms = T0 + (int64_t)(s * 1000),
		.has = { true, true, true }, .value = { 22, h, 100 },
	};

	alerts_reading(&f->a, dev, &rd);
}

static void test_hold_then_raise(void **state)
{
	struct fixture *f = *state;

	temp(f, GH1, 0, 0.1, 25);
	temp(f, GH1, 5, 5.1, 31);       /* past: pending since 5 s */
	temp(f, GH1, 10, 10.1, 31.5);
	assert_int_equal(f->n, 0);      /* held 5 s of 10 */
	assert_int_equal(alerts_state(&f->a, HOT, GH1), SCENARIO_ALERT_NONE);
	temp(f, GH1, 15, 15.2, 32);     /* held 10 s: raised */
	assert_int_equal(f->n, 1);
	assert_true(f->ev[0].raised);
	assert_int_equal(f->ev[0].rule, HOT);
	assert_int_equal(f->ev[0].dev, GH1);
	assert_true(f->ev[0].value == 32 && f->ev[0].threshold == 30);
	assert_int_equal(f->ev[0].crossed_ms, T0 + 5000);
	assert_int_equal(f->ev[0].at_ms, T0 + 15200);
	assert_int_equal(f->ev[0].latency_ms, 10200);
	assert_int_equal(alerts_state(&f->a, HOT, GH1), SCENARIO_ALERT_RAISED);
	/* Still hot: raised once, not again. */
	temp(f, GH1, 20, 20.1, 33);
	assert_int_equal(f->n, 1);
	/* The other greenhouse device and the lab (not targeted) are untouched. */
	assert_int_equal(alerts_state(&f->a, HOT, GH2), SCENARIO_ALERT_NONE);
	temp(f, LAB1, 0, 0, 40);
	temp(f, LAB1, 20, 20, 40);
	assert_int_equal(f->n, 1);
	assert_int_equal(alerts_state(&f->a, HOT, LAB1), SCENARIO_ALERT_NONE);
}

static void test_hysteresis(void **state)
{
	struct fixture *f = *state;

	temp(f, GH1, 0, 0, 31);
	temp(f, GH1, 10, 10, 31);
	assert_int_equal(f->n, 1);
	/* Below the threshold but not below clear_below: stays raised. */
	temp(f, GH1, 20, 20, 29.5);
	temp(f, GH1, 30, 30, 29);       /* 29 is not below 29 */
	assert_int_equal(f->n, 1);
	assert_int_equal(alerts_state(&f->a, HOT, GH1), SCENARIO_ALERT_RAISED);
	temp(f, GH1, 40, 40.5, 28.9);
	assert_int_equal(f->n, 2);
	assert_false(f->ev[1].raised);
	assert_true(f->ev[1].threshold == 29 && f->ev[1].value == 28.9);
	assert_int_equal(f->ev[1].crossed_ms, T0 + 40000);
	assert_int_equal(f->ev[1].latency_ms, 500);
	assert_int_equal(alerts_state(&f->a, HOT, GH1), SCENARIO_ALERT_CLEARED);
	/* Warm again: a new hold from the first reading past. */
	temp(f, GH1, 50, 50, 30.5);
	assert_int_equal(f->n, 2);
	temp(f, GH1, 60, 60, 30.5);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->ev[2].crossed_ms, T0 + 50000);
	uint64_t raised, cleared;
	alerts_counts(&f->a, HOT, &raised, &cleared);
	assert_int_equal(raised, 2);
	assert_int_equal(cleared, 1);
}

static void test_flapping_does_not_raise(void **state)
{
	struct fixture *f = *state;

	/* Over, under, over, under: never 10 s in a row past 30. */
	for (int i = 0; i < 20; i++)
		temp(f, GH2, i * 6, i * 6, i % 2 ? 29.9 : 31);
	assert_int_equal(f->n, 0);
	assert_int_equal(alerts_state(&f->a, HOT, GH2), SCENARIO_ALERT_NONE);
	/* Exactly at the threshold is not past it. */
	temp(f, GH2, 200, 200, 30);
	temp(f, GH2, 220, 220, 30);
	assert_int_equal(f->n, 0);
}

static void test_below_and_clear_above(void **state)
{
	struct fixture *f = *state;

	humid(f, LAB1, 0, 30);
	humid(f, LAB1, 1, 19);          /* no hold: raised at once */
	assert_int_equal(f->n, 1);
	assert_true(f->ev[0].raised && f->ev[0].threshold == 20);
	assert_int_equal(f->ev[0].latency_ms, 0);
	humid(f, LAB1, 2, 24);          /* above below: but not above clear_above */
	assert_int_equal(f->n, 1);
	humid(f, LAB1, 3, 26);
	assert_int_equal(f->n, 2);
	assert_false(f->ev[1].raised);
	assert_true(f->ev[1].threshold == 25);
	assert_int_equal(alerts_state(&f->a, DRY, LAB1), SCENARIO_ALERT_CLEARED);
}

static void test_late_readings_judged_by_device_time(void **state)
{
	struct fixture *f = *state;

	/* WiFi down from 0 s to 60 s: readings taken every 5 s from 0 s reach
	 * the cloud only at 60 s, from the outbox, in order. */
	temp(f, GH1, 0, 60.0, 31);
	temp(f, GH1, 5, 60.1, 31);
	assert_int_equal(f->n, 0);
	temp(f, GH1, 10, 60.2, 31);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->ev[0].crossed_ms, T0);      /* when it got hot, on the device */
	assert_int_equal(f->ev[0].at_ms, T0 + 60200);   /* when the cloud could know */
	assert_int_equal(f->ev[0].latency_ms, 60200);
	/* A reading older than what was judged changes nothing. */
	temp(f, GH1, 2, 61, 10);
	assert_int_equal(f->n, 1);
	assert_int_equal(alerts_state(&f->a, HOT, GH1), SCENARIO_ALERT_RAISED);
	/* A reading without the metric (sensor error) neither holds nor clears. */
	struct alert_reading err = { .device_ms = T0 + 70000, .arrival_ms = T0 + 70000,
				     .has = { false, true, true }, .value = { NAN, 50, 100 } };
	alerts_reading(&f->a, GH1, &err);
	assert_int_equal(f->n, 1);
}

static void test_missing_for_by_arrival(void **state)
{
	struct fixture *f = *state;

	alerts_tick(&f->a, T0 + 29999);
	assert_int_equal(f->n, 0);
	/* gh_1 speaks at 20 s (its own clock says 0: arrival time counts). */
	temp(f, GH1, 0, 20, 22);
	alerts_tick(&f->a, T0 + 30000); /* gh_2 and lab_1 never spoke */
	assert_int_equal(f->n, 2);
	assert_int_equal(f->ev[0].dev, GH2);
	assert_int_equal(f->ev[1].dev, LAB1);
	assert_true(f->ev[0].raised && f->ev[0].rule == SILENT);
	assert_int_equal(f->ev[0].crossed_ms, T0 + 30000);
	assert_true(isnan(f->ev[0].value));
	alerts_tick(&f->a, T0 + 49999);
	assert_int_equal(f->n, 2);
	alerts_tick(&f->a, T0 + 51000);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->ev[2].dev, GH1);
	assert_int_equal(f->ev[2].crossed_ms, T0 + 50000);
	assert_int_equal(f->ev[2].latency_ms, 1000);
	/* Raised once per silence; the next reading clears it. */
	alerts_tick(&f->a, T0 + 60000);
	assert_int_equal(f->n, 3);
	temp(f, GH2, 61, 61, 22);
	assert_int_equal(f->n, 4);
	assert_false(f->ev[3].raised);
	assert_int_equal(alerts_state(&f->a, SILENT, GH2), SCENARIO_ALERT_CLEARED);
	assert_int_equal(alerts_state(&f->a, SILENT, LAB1), SCENARIO_ALERT_RAISED);
}

static void test_rises_faster_than(void **state)
{
	struct fixture *f = *state;

	temp(f, LAB1, 0, 0, 20);        /* the first reading: no rate yet */
	temp(f, LAB1, 10, 10, 20.5);    /* 3 degC/min: pending since 10 s */
	temp(f, LAB1, 20, 20, 20.6);    /* 0.6/min: the rise stopped, not held */
	temp(f, LAB1, 30, 30, 21.2);    /* 3.6/min: pending again */
	temp(f, LAB1, 40, 40, 21.8);
	assert_int_equal(f->n, 0);
	/* Late from the outbox, judged by device time: 20 s of rising. */
	temp(f, LAB1, 50, 75, 22.4);
	assert_int_equal(f->n, 1);
	assert_true(f->ev[0].raised && f->ev[0].rule == WARMING);
	assert_true(fabs(f->ev[0].value - 0.06) < 1e-9);       /* per second */
	assert_true(fabs(f->ev[0].threshold - 2.0 / 60) < 1e-9);
	assert_int_equal(f->ev[0].crossed_ms, T0 + 30000);
	assert_int_equal(f->ev[0].latency_ms, 45000);
	temp(f, LAB1, 60, 76, 22.5);    /* 0.6/min: cleared */
	assert_int_equal(f->n, 2);
	assert_false(f->ev[1].raised);
	assert_int_equal(alerts_state(&f->a, WARMING, LAB1), SCENARIO_ALERT_CLEARED);
	/* A falling temperature never rises too fast. */
	for (int i = 7; i < 12; i++)
		temp(f, LAB1, i * 10, 80 + i, 22.5 - i);
	assert_int_equal(f->n, 2);
}

static void test_owned_only(void **state)
{
	struct fixture *f = *state;
	struct alerts shard;
	const bool owned[3] = { false, true, false };

	(void)f;
	assert_int_equal(alerts_init(&shard, &f->sc, owned, T0, NULL, NULL), 0);
	alerts_tick(&shard, T0 + 100000);
	assert_int_equal(alerts_state(&shard, SILENT, GH1), SCENARIO_ALERT_NONE);
	assert_int_equal(alerts_state(&shard, SILENT, GH2), SCENARIO_ALERT_RAISED);
	alerts_free(&shard);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hold_then_raise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hysteresis, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flapping_does_not_raise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_below_and_clear_above, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_readings_judged_by_device_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_for_by_arrival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rises_faster_than, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owned_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
