/* The scenario engine against a fake fleet and a fake clock. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>

#include <cmocka.h>

#include "engine.h"
#include "scenario.h"

#define DEVS_MAX 16

/*
 * A fake fleet: each running device "records" one message per second while
 * the broker is up; stop/start commands switch it; temperature is whatever
 * the engine last set.
 */
struct fake {
	int64_t now;
	bool broker_up;
	bool running[DEVS_MAX];
	double msgs[DEVS_MAX];          /* fractional, grows 1/s while running */
	struct scenario_env env[DEVS_MAX];
	int commands[DEVS_MAX];
	int broker_actions;
	int set_calls;
	double temp_at_10s;             /* sampled by the clock for the ramp test */
	char log[4096];                 /* "t:dev:effect;" for faults, power, broker */
	size_t log_len;
	uint64_t lost[DEVS_MAX];
};

static void note(struct fake *f, long dev, const char *what)
{
	f->log_len += (size_t)snprintf(f->log + f->log_len, sizeof(f->log) - f->log_len,
				       "%lld:%ld:%s;", (long long)f->now, dev, what);
}

static void advance(struct fake *f, int64_t to)
{
	for (; f->now < to; f->now += 50) {
		for (int d = 0; d < DEVS_MAX; d++)
			if (f->running[d] && f->broker_up)
				f->msgs[d] += 0.05;
		if (f->now == 10000)
			f->temp_at_10s = f->env[0].value[SCENARIO_METRIC_TEMPERATURE];
	}
}

static int64_t f_now(void *ctx) { return ((struct fake *)ctx)->now; }
static int f_sleep(void *ctx, int64_t t) { advance(ctx, t); return 0; }
static int f_set_env(void *ctx, size_t d, const struct scenario_env *env)
{
	struct fake *f = ctx;
	f->env[d] = *env;
	f->set_calls++;
	return 0;
}
static int f_command(void *ctx, size_t d, const void *p, size_t len)
{
	struct fake *f = ctx;
	f->commands[d]++;
	static const char stop[] = "{\"action\":\"stop\"}", start[] = "{\"action\":\"start\"}";

	if (len == sizeof(stop) - 1 && memcmp(p, stop, len) == 0)
		f->running[d] = false;
	else if (len == sizeof(start) - 1 && memcmp(p, start, len) == 0)
		f->running[d] = true;
	return 0;
}
static int f_broker(void *ctx, enum scenario_broker_action a)
{
	struct fake *f = ctx;
	f->broker_actions++;
	f->broker_up = a == SCENARIO_BROKER_START || a == SCENARIO_BROKER_RESTART;
	note(f, -1, scenario_broker_action_name(a));
	return 0;
}
static int f_status(void *ctx, size_t d, enum scenario_status *st, int64_t *at)
{
	struct fake *f = ctx;
	*at = f->now;
	*st = f->broker_up && f->running[d] ? SCENARIO_STATUS_ONLINE : SCENARIO_STATUS_OFFLINE;
	return 0;
}
static int f_messages(void *ctx, size_t d, int64_t since, uint64_t *n)
{
	struct fake *f = ctx;
	(void)since;
	*n = (uint64_t)floor(f->msgs[d] + 1e-9);
	return 0;
}
static long f_values(void *ctx, size_t d, enum scenario_metric m, bool latest, int64_t since,
		     bool (*each)(void *, double), void *arg)
{
	struct fake *f = ctx;
	(void)latest; (void)since;
	each(arg, f->env[d].value[m]);
	return 1;
}
static int f_counter(void *ctx, size_t d, enum scenario_counter c, uint64_t *out)
{
	struct fake *f = ctx;
	*out = c == SCENARIO_COUNTER_COMMANDS ? (uint64_t)f->commands[d] : 0;
	return 0;
}
static int f_loss(void *ctx, size_t d, uint64_t *lost, uint64_t *dup)
{
	struct fake *f = ctx;
	*lost = f->lost[d];
	*dup = 0;
	return 0;
}
/* r01's climate sensor fails with a checksum error; the others are fine. */
static int f_error(void *ctx, size_t d, enum scenario_metric m, char *name, size_t len)
{
	(void)ctx;
	snprintf(name, len, "%s", d == 0 && m != SCENARIO_METRIC_DISTANCE ? "checksum" : "");
	return 0;
}
static int f_fault(void *ctx, size_t d, const struct scenario_fault *fl)
{
	note(ctx, (long)d, scenario_fault_kind_name(fl->kind));
	return 0;
}
static int f_clear(void *ctx, size_t d, const struct scenario_clear *c)
{
	char what[64];
	snprintf(what, sizeof(what), "clear %s", c->kind_set ? scenario_fault_kind_name(c->kind) : "all");
	note(ctx, (long)d, what);
	return 0;
}
static int f_power(void *ctx, size_t d, enum scenario_power_action a)
{
	/* The engine times cycles and brown-outs itself: only on and off arrive. */
	assert_true(a == SCENARIO_POWER_OFF || a == SCENARIO_POWER_ON);
	note(ctx, (long)d, a == SCENARIO_POWER_OFF ? "off" : "on");
	return 0;
}

/* r01's alert is raised from 4 s on, r02's was raised and cleared, the rest never. */
static int f_alert(void *ctx, size_t d, size_t rule, enum scenario_alert_state *out)
{
	struct fake *f = ctx;

	assert_int_equal(rule, 0);
	*out = d == 0 && f->now >= 4000 ? SCENARIO_ALERT_RAISED :
	       d == 1 ? SCENARIO_ALERT_CLEARED : SCENARIO_ALERT_NONE;
	return 0;
}

static const struct engine_ops fake_ops = {
	.now_ms = f_now, .sleep_until = f_sleep, .set_env = f_set_env, .command = f_command,
	.broker = f_broker, .status = f_status, .messages = f_messages, .values = f_values,
	.counter = f_counter, .loss = f_loss, .alert = f_alert,
};

static const struct engine_ops fault_ops = {
	.now_ms = f_now, .sleep_until = f_sleep, .set_env = f_set_env, .command = f_command,
	.broker = f_broker, .status = f_status, .messages = f_messages, .values = f_values,
	.counter = f_counter, .loss = f_loss, .fault = f_fault, .clear = f_clear, .power = f_power,
	.error = f_error,
};

static struct scenario sc;
static struct fake fk;
static struct engine eng;
static const struct engine_ops *ops = &fake_ops;

static int run(const char *yaml)
{
	struct scenario_error err;
	int rc;

	memset(&fk, 0, sizeof(fk));
	fk.broker_up = true;
	for (int d = 0; d < DEVS_MAX; d++)
		fk.running[d] = true;
	rc = scenario_parse_string("t.yaml", yaml, strlen(yaml), &sc, &err);
	if (rc < 0)
		fail_msg("parse: %s", err.message);
	assert_int_equal(engine_init(&eng, &sc, ops, &fk), 0);
	return engine_run(&eng);
}

static int cleanup(void **state)
{
	(void)state;
	engine_free(&eng);
	scenario_free(&sc);
	ops = &fake_ops;
	return 0;
}

#define FLEET4 "fleet:\n  groups:\n    - {name: g, count: 4, id: \"r{:02}\", interval: 1s}\n"

static void test_engine_expect_within_waits_for_the_condition(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - expect: {target: all, messages: {min: 5}, within: 10s}\n"), 0);
	assert_int_equal(eng.n_results, 1);
	assert_true(eng.results[0].passed);
	/* One message a second: it holds after 5 s, checked every 250 ms. */
	assert_true(eng.results[0].time_s >= 5.0 && eng.results[0].time_s <= 5.3);
	assert_int_equal(engine_failures(&eng), 0);
}

static void test_engine_false_expectation_fails_after_within(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - expect: {target: r02, messages: {min: 100}, within: 3s, name: too many}\n"
			     "  - expect: {target: all, status: online}\n"), 0);
	assert_int_equal(eng.n_results, 2);
	assert_false(eng.results[0].passed);
	assert_string_equal(eng.results[0].name, "too many");
	assert_non_null(strstr(eng.results[0].message, "1 of 1 devices fail"));
	assert_non_null(strstr(eng.results[0].message, "r02: 3 messages, want >= 100"));
	assert_float_equal(eng.results[0].time_s, 3.0, 0.001);
	assert_true(eng.results[1].passed);
	assert_int_equal(engine_failures(&eng), 1);
}

static void test_engine_stop_command_reaches_only_the_target(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - command: {target: \"r0[12]\", action: stop}\n"
			     "  - expect: {target: \"r0[12]\", status: offline}\n"
			     "  - expect: {target: r03..r04, status: online}\n"
			     "  - command: {target: r01, action: start}\n"
			     "  - expect: {target: r01, status: online, counter: {name: commands, eq: 2}}\n"), 0);
	assert_int_equal(fk.commands[0], 2);
	assert_int_equal(fk.commands[1], 1);
	assert_int_equal(fk.commands[2], 0);
	for (size_t i = 0; i < eng.n_results; i++)
		if (!eng.results[i].passed)
			fail_msg("%s: %s", eng.results[i].name, eng.results[i].message);
}

static void test_engine_ramp_moves_linearly_in_the_background(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - set: {target: r01, temperature: 20}\n"
			     "  - set: {target: r01, temperature: {to: 40, over: 20s}}\n"
			     "  - wait: 25s\n"
			     "  - expect: {target: r01, value: {metric: temperature, between: [39.99, 40.01]}}\n"), 0);
	/* Halfway through the ramp, halfway between the two values. */
	assert_float_equal(fk.temp_at_10s, 30.0, 0.3);
	assert_float_equal(fk.env[0].value[SCENARIO_METRIC_TEMPERATURE], 40.0, 1e-9);
	/* The others kept the group's temperature. */
	assert_float_equal(fk.env[1].value[SCENARIO_METRIC_TEMPERATURE], 0.0, 1e-9);
	assert_true(fk.set_calls > 20);
	assert_int_equal(engine_failures(&eng), 0);
}

static void test_engine_set_at_once_ends_a_running_ramp(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - set: {target: r01, temperature: {to: 30, over: 20s}}\n"
			     "  - wait: 5s\n"
			     "  - set: {target: r01, temperature: 10}\n"
			     "  - wait: 5s\n"), 0);
	assert_float_equal(fk.env[0].value[SCENARIO_METRIC_TEMPERATURE], 10.0, 1e-9);
	assert_int_equal(eng.n_ramps, 0);
}

static void test_engine_repeat_runs_nested_steps(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - repeat:\n"
			     "      times: 3\n"
			     "      steps:\n"
			     "        - command: {target: all, action: stop}\n"
			     "        - wait: 1s\n"
			     "        - command: {target: all, action: start}\n"), 0);
	for (int d = 0; d < 4; d++)
		assert_int_equal(fk.commands[d], 6);
	assert_int_equal(fk.now, 3000);
}

static void test_engine_broker_steps_are_effects(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - broker: stop\n"
			     "  - expect: {target: all, status: offline}\n"
			     "  - broker: start\n"
			     "  - expect: {target: all, status: online}\n"), 0);
	assert_int_equal(fk.broker_actions, 2);
	assert_int_equal(engine_failures(&eng), 0);
}

static void test_engine_duration_cap_cuts_the_run(void **state)
{
	(void)state;
	assert_int_equal(run("duration: 2s\n" FLEET4 "steps:\n  - wait: 10s\n"), -ETIME);
	assert_int_equal(fk.now, 2000);
	assert_non_null(strstr(eng.error, "duration"));
}

static void test_engine_fault_without_support_is_a_clear_error(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "steps:\n  - fault: {target: r01, kind: wifi_drop, for: 1s}\n"),
			 -ENOTSUP);
	assert_non_null(strstr(eng.error, "t.yaml:5:5: fault"));
}

static void test_engine_fault_for_is_cleared_on_time(void **state)
{
	(void)state;
	ops = &fault_ops;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - fault: {target: r01, kind: wifi_drop, for: 2s}\n"
			     "  - wait: 1s\n"
			     /* set again: the first end no longer applies */
			     "  - fault: {target: r01, kind: wifi_drop, for: 2s}\n"
			     "  - fault: {target: r02, kind: dht_stuck, for: 1500ms}\n"
			     "  - wait: 5s\n"), 0);
	assert_string_equal(fk.log, "0:0:wifi_drop;1000:0:wifi_drop;1000:1:dht_stuck;"
			    "2500:1:clear dht_stuck;3000:0:clear wifi_drop;");
}

static void test_engine_clear_cancels_the_timed_end(void **state)
{
	(void)state;
	ops = &fault_ops;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - fault: {target: r01, kind: sonar_noise, amplitude: 3, for: 2s}\n"
			     "  - power: {target: r02, action: cut}\n"
			     "  - clear: {target: r01, kind: sonar_noise}\n"
			     "  - wait: 1s\n"
			     /* clearing everything restores power too */
			     "  - clear:\n"
			     "  - wait: 5s\n"), 0);
	assert_string_equal(fk.log, "0:0:sonar_noise;0:1:off;0:0:clear sonar_noise;"
			    "1000:0:clear all;1000:1:clear all;1000:1:on;1000:2:clear all;"
			    "1000:3:clear all;");
}

static void test_engine_power_cycle_and_brownout_are_timed(void **state)
{
	(void)state;
	ops = &fault_ops;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - power: {target: r01, action: cycle, off: 2s}\n"
			     "  - power: {target: r02, action: brownout, off: 500ms, on: 1s, for: 4s}\n"
			     "  - power: {target: r03, action: off, for: 3s}\n"
			     "  - wait: 10s\n"), 0);
	assert_string_equal(fk.log, "0:0:off;0:1:off;0:2:off;"
			    "500:1:on;1500:1:off;2000:0:on;2000:1:on;3000:2:on;3000:1:off;"
			    "3500:1:on;");
}

static void test_engine_broker_down_for_comes_back(void **state)
{
	(void)state;
	ops = &fault_ops;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - broker: {action: stop, for: 3s}\n"
			     "  - expect: {status: offline}\n"
			     "  - expect: {status: online, within: 10s}\n"), 0);
	assert_string_equal(fk.log, "0:-1:stop;3000:-1:start;");
	assert_int_equal(engine_failures(&eng), 0);
}

/* The same seed picks the same devices at the same times; another seed does not. */
static void test_engine_same_seed_same_fault_timeline(void **state)
{
	static const char body[] =
		"fleet:\n  groups:\n    - {name: g, count: 16, id: \"r{:02}\"}\n"
		"steps:\n"
		"  - repeat:\n"
		"      times: 3\n"
		"      steps:\n"
		"        - fault: {target: \"share:25%\", kind: wifi_drop, for: 2s}\n"
		"        - power: {target: \"share:10%\", action: cycle, off: 1s}\n"
		"        - wait: 3s\n";
	char yaml[1024], first[4096], second[4096];

	(void)state;
	ops = &fault_ops;
	snprintf(yaml, sizeof(yaml), "seed: 7\n%s", body);
	assert_int_equal(run(yaml), 0);
	snprintf(first, sizeof(first), "%s", fk.log);
	cleanup(NULL);
	ops = &fault_ops;
	assert_int_equal(run(yaml), 0);
	assert_string_equal(fk.log, first);
	snprintf(second, sizeof(second), "%s", fk.log);
	cleanup(NULL);
	ops = &fault_ops;
	snprintf(yaml, sizeof(yaml), "seed: 8\n%s", body);
	assert_int_equal(run(yaml), 0);
	assert_string_not_equal(fk.log, first);
	/* 4 devices a round drop WiFi, each cleared once. */
	assert_int_equal(strlen(second) > 0, 1);
}

static void test_engine_fleet_loss_sums_the_target(void **state)
{
	(void)state;
	ops = &fault_ops;
	memset(&fk, 0, sizeof(fk));
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - expect: {fleet_lost: 0, fleet_duplicated: 0, name: clean}\n"), 0);
	assert_true(eng.results[0].passed);
	cleanup(NULL);
	ops = &fault_ops;
	/* run() resets the fake, so lose readings from inside the timeline:
	 * the fake's loss counters are read live. */
	fk.lost[1] = 2;
	fk.lost[3] = 3;
	{
		struct scenario_error err;
		static const char y[] = FLEET4 "steps:\n"
			"  - expect: {target: all, fleet_lost: {max: 4}}\n"
			"  - expect: {target: r02, fleet_lost: 2, lost: 2}\n";
		assert_int_equal(scenario_parse_string("t.yaml", y, strlen(y), &sc, &err), 0);
		assert_int_equal(engine_init(&eng, &sc, ops, &fk), 0);
		assert_int_equal(engine_run(&eng), 0);
	}
	assert_false(eng.results[0].passed);
	assert_non_null(strstr(eng.results[0].message, "the target lost 5 readings in all, want <= 4"));
	assert_true(eng.results[1].passed);
}

static void test_engine_error_predicate_names_the_fault(void **state)
{
	(void)state;
	ops = &fault_ops;
	assert_int_equal(run(FLEET4 "steps:\n"
			     "  - expect: {target: r01, error: {metric: temperature, is: checksum}}\n"
			     "  - expect: {target: r01, error: {metric: humidity}}\n"
			     "  - expect: {target: r01, error: {metric: distance, is: none}}\n"
			     "  - expect: {target: r02, error: {metric: temperature, is: none}}\n"
			     "  - expect: {target: r01, error: {metric: temperature, is: timeout}}\n"
			     "  - expect: {target: r02, error: {metric: temperature}}\n"), 0);
	assert_int_equal(eng.n_results, 6);
	for (int i = 0; i < 4; i++)
		assert_true(eng.results[i].passed);
	assert_false(eng.results[4].passed);
	assert_non_null(strstr(eng.results[4].message, "r01: temperature error checksum, want timeout"));
	assert_false(eng.results[5].passed);
	assert_non_null(strstr(eng.results[5].message, "r02: temperature has a number, want error (any)"));
}

static void test_engine_alert_predicate_waits_for_the_state(void **state)
{
	(void)state;
	assert_int_equal(run(FLEET4 "alerts:\n"
			     "  - {name: hot, metric: temperature, above: 30, for: 2s}\n"
			     "steps:\n"
			     "  - expect: {target: r01, alert: {name: hot, state: raised}, within: 10s}\n"
			     "  - expect: {target: r02, alert: {name: hot, state: cleared}}\n"
			     "  - expect: {target: [r03, r04], alert: {name: hot, state: none}}\n"
			     "  - expect: {target: r03, alert: {name: hot, state: raised}, within: 1s}\n"), 0);
	assert_int_equal(eng.n_results, 4);
	assert_true(eng.results[0].passed);
	assert_true(eng.results[0].time_s >= 4.0 && eng.results[0].time_s <= 4.3);
	assert_non_null(strstr(eng.results[0].name, "expect r01 alert (t.yaml:"));
	assert_true(eng.results[1].passed);
	assert_true(eng.results[2].passed);
	assert_false(eng.results[3].passed);
	assert_non_null(strstr(eng.results[3].message, "r03: alert hot is none, want raised"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_engine_expect_within_waits_for_the_condition, cleanup),
		cmocka_unit_test_teardown(test_engine_false_expectation_fails_after_within, cleanup),
		cmocka_unit_test_teardown(test_engine_stop_command_reaches_only_the_target, cleanup),
		cmocka_unit_test_teardown(test_engine_ramp_moves_linearly_in_the_background, cleanup),
		cmocka_unit_test_teardown(test_engine_set_at_once_ends_a_running_ramp, cleanup),
		cmocka_unit_test_teardown(test_engine_repeat_runs_nested_steps, cleanup),
		cmocka_unit_test_teardown(test_engine_broker_steps_are_effects, cleanup),
		cmocka_unit_test_teardown(test_engine_duration_cap_cuts_the_run, cleanup),
		cmocka_unit_test_teardown(test_engine_fault_without_support_is_a_clear_error, cleanup),
		cmocka_unit_test_teardown(test_engine_fault_for_is_cleared_on_time, cleanup),
		cmocka_unit_test_teardown(test_engine_clear_cancels_the_timed_end, cleanup),
		cmocka_unit_test_teardown(test_engine_power_cycle_and_brownout_are_timed, cleanup),
		cmocka_unit_test_teardown(test_engine_broker_down_for_comes_back, cleanup),
		cmocka_unit_test_teardown(test_engine_same_seed_same_fault_timeline, cleanup),
		cmocka_unit_test_teardown(test_engine_fleet_loss_sums_the_target, cleanup),
		cmocka_unit_test_teardown(test_engine_error_predicate_names_the_fault, cleanup),
		cmocka_unit_test_teardown(test_engine_alert_predicate_waits_for_the_state, cleanup),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
