/* Unit tests of the scenario parser: the model it builds and every error it reports. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario.h"

/* A fleet of robot_001..robot_020; the steps that follow start on line 5. */
#define FLEET                                                  \
	"fleet:\n"                                             \
	"  groups:\n"                                          \
	"    - {name: lab, count: 20, id: \"robot_{:03}\"}\n" \
	"steps:\n"

static int parse(const char *text, struct scenario *sc, struct scenario_error *err)
{
	return scenario_parse_string("t.yaml", text, strlen(text), sc, err);
}

static void assert_error(const char *text, const char *message)
{
	struct scenario sc;
	struct scenario_error err;
	int rc = parse(text, &sc, &err);

	if (rc == 0) {
		scenario_free(&sc);
		fail_msg("parsed, but wanted: %s", message);
	}
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err.message, message);
	/* A failed parse leaves nothing behind. */
	assert_null(sc.arena);
	assert_null(sc.steps);
	assert_null(sc.fleet.devices);
	scenario_free(&sc);
}

static void assert_parses(const char *text, struct scenario *sc)
{
	struct scenario_error err;
	int rc = parse(text, sc, &err);

	if (rc != 0)
		fail_msg("rc %d: %s", rc, err.message);
}

static const char full_file[] =
	"name: full-test\n"                                                      /* 1 */
	"description: every step and option\n"                                   /* 2 */
	"seed: 0x2a\n"                                                           /* 3 */
	"duration: 1h30m\n"                                                      /* 4 */
	"fleet:\n"                                                               /* 5 */
	"  broker: \"[::1]:1884\"\n"                                             /* 6 */
	"  connect_rate: 30/m\n"                                                 /* 7 */
	"  groups:\n"                                                            /* 8 */
	"    - name: lab\n"                                                      /* 9 */
	"      count: 20\n"                                                      /* 10 */
	"      id: \"robot_{:03}\"\n"                                            /* 11 */
	"      interval: 1s\n"                                                   /* 12 */
	"      sample_interval: 250ms\n"                                         /* 13 */
	"      keepalive: 30s\n"                                                 /* 14 */
	"      topic_style: both\n"                                              /* 15 */
	"      environment:\n"                                                   /* 16 */
	"        temperature: 22.5\n"                                            /* 17 */
	"        humidity: {value: 40, noise: 0.5}\n"                            /* 18 */
	"        distance: 120\n"                                                /* 19 */
	"        noise: 0.1\n"                                                   /* 20 */
	"    - name: hall\n"                                                     /* 21 */
	"      count: 5\n"                                                       /* 22 */
	"      id: \"hall-{}\"\n"                                                /* 23 */
	"      first: 10\n"                                                      /* 24 */
	"      topic_style: per-metric\n"                                        /* 25 */
	"steps:\n"                                                               /* 26 */
	"  - wait: 5s\n"                                                         /* 27 */
	"  - set: {target: \"group:lab\", temperature: 30, noise: 0.2}\n"        /* 28 */
	"  - set: {target: \"robot_00[1-5]\", temperature: {to: 35, over: 30s}, "
	"humidity: {to: 50}}\n"                                                  /* 29 */
	"  - command: {target: \"share:25%\", action: stop}\n"                   /* 30 */
	"  - command: {target: hall-10, action: start, format: plain}\n"         /* 31 */
	"  - command: {target: all, payload: \"reboot now\"}\n"                  /* 32 */
	"  - broker: restart\n"                                                  /* 33 */
	"  - expect: {target: all, status: online, within: 10s, name: all up}\n" /* 34 */
	"  - expect: {target: robot_001, messages: {min: 5, window: 10s}, "
	"rate: {min: 0.8/s}}\n"                                                  /* 35 */
	"  - expect: {target: all, value: {metric: temperature, latest: true, "
	"between: [29.5, 30.5]}, within: 20s}\n"                                 /* 36 */
	"  - expect: {target: [hall-10, \"group:lab\"], value: {metric: distance, "
	"latest: false, window: 1m, gt: 10, lt: 200}}\n"                         /* 37 */
	"  - expect: {target: all, counter: {name: commands_invalid, eq: 0}}\n"  /* 38 */
	"  - expect: {target: all, lost: 0, duplicated: {max: 2}}\n"             /* 39 */
	"  - repeat: {times: 3, steps: [ {wait: 1s}, {command: {target: all, "
	"action: start}} ]}\n"                                                   /* 40 */
	"  - fault: {target: \"share:10%:group:lab\", kind: wifi_drop, for: 60s}\n" /* 41 */
	"  - clear: {target: all, kind: wifi_drop}\n"                            /* 42 */
	"  - clear:\n"                                                           /* 43 */
	"  - power: {target: robot_003, action: cycle}\n";                       /* 44 */

static void test_scenario_parse_full_file(void **state)
{
	struct scenario sc;
	const struct scenario_group *lab, *hall;
	const struct scenario_step *s;

	(void)state;
	assert_parses(full_file, &sc);
	assert_string_equal(sc.file, "t.yaml");
	assert_string_equal(sc.name, "full-test");
	assert_string_equal(sc.description, "every step and option");
	assert_true(sc.seed_set);
	assert_int_equal(sc.seed, 42);
	scenario_free(&sc);
	assert_parses("seed: 18446744073709551615\n" FLEET "  - wait: 1s\n", &sc);
	assert_true(sc.seed == UINT64_MAX);
	scenario_free(&sc);
	assert_parses("seed: 0xFFFFFFFFFFFFFFFE\n" FLEET "  - wait: 1s\n", &sc);
	assert_true(sc.seed == UINT64_MAX - 1);
	scenario_free(&sc);
	assert_parses(full_file, &sc);
	assert_int_equal(sc.duration_ms, 5400000);

	assert_int_equal(sc.fleet.broker, SCENARIO_BROKER_EXTERNAL);
	assert_string_equal(sc.fleet.broker_host, "::1");
	assert_int_equal(sc.fleet.broker_port, 1884);
	assert_true(sc.fleet.connect_rate_per_s == 0.5);
	assert_int_equal(sc.fleet.pos.line, 6);

	assert_int_equal(sc.fleet.n_groups, 2);
	lab = &sc.fleet.groups[0];
	assert_string_equal(lab->name, "lab");
	assert_int_equal(lab->pos.line, 9);
	assert_int_equal(lab->pos.col, 7);
	assert_int_equal(lab->id_pos.line, 11);
	assert_int_equal(lab->id_pos.col, 11);
	assert_int_equal(lab->count, 20);
	assert_string_equal(lab->id_pattern, "robot_{:03}");
	assert_int_equal(lab->first, 1);
	assert_int_equal(lab->interval_ms, 1000);
	assert_int_equal(lab->sample_interval_ms, 250);
	assert_int_equal(lab->keepalive_s, 30);
	assert_int_equal(lab->topic_style, SCENARIO_TOPIC_BOTH);
	assert_true(lab->env.value[SCENARIO_METRIC_TEMPERATURE] == 22.5);
	assert_true(lab->env.value[SCENARIO_METRIC_HUMIDITY] == 40.0);
	assert_true(lab->env.value[SCENARIO_METRIC_DISTANCE] == 120.0);
	/* The group's noise, except where a metric brings its own. */
	assert_true(lab->env.noise[SCENARIO_METRIC_TEMPERATURE] == 0.1);
	assert_true(lab->env.noise[SCENARIO_METRIC_HUMIDITY] == 0.5);
	assert_true(lab->env.noise[SCENARIO_METRIC_DISTANCE] == 0.1);

	hall = &sc.fleet.groups[1];
	assert_string_equal(hall->name, "hall");
	assert_int_equal(hall->count, 5);
	assert_int_equal(hall->first, 10);
	assert_int_equal(hall->interval_ms, 10000);
	assert_int_equal(hall->sample_interval_ms, 0);
	assert_int_equal(hall->keepalive_s, 15);
	assert_int_equal(hall->topic_style, SCENARIO_TOPIC_PER_METRIC);
	assert_true(hall->env.value[SCENARIO_METRIC_TEMPERATURE] == 22.0);
	assert_true(hall->env.noise[SCENARIO_METRIC_DISTANCE] == 0.0);

	/* Sorted by id: "hall-..." before "robot_...". */
	assert_int_equal(sc.fleet.n_devices, 25);
	assert_string_equal(sc.fleet.devices[0].id, "hall-10");
	assert_int_equal(sc.fleet.devices[0].group, 1);
	assert_int_equal(sc.fleet.devices[0].number, 10);
	assert_string_equal(sc.fleet.devices[4].id, "hall-14");
	assert_string_equal(sc.fleet.devices[5].id, "robot_001");
	assert_int_equal(sc.fleet.devices[5].group, 0);
	assert_int_equal(sc.fleet.devices[5].number, 1);
	assert_string_equal(sc.fleet.devices[24].id, "robot_020");

	assert_int_equal(sc.n_steps, 18);
	assert_int_equal(sc.n_steps_total, 20);

	s = &sc.steps[0];
	assert_int_equal(s->kind, SCENARIO_STEP_WAIT);
	assert_int_equal(s->pos.line, 27);
	assert_int_equal(s->pos.col, 5);
	assert_int_equal(s->index, 0);
	assert_int_equal(s->wait_ms, 5000);

	s = &sc.steps[1];
	assert_int_equal(s->kind, SCENARIO_STEP_SET);
	assert_int_equal(s->set.target.kind, SCENARIO_TARGET_GROUP);
	assert_int_equal(s->set.target.group, 0);
	assert_int_equal(s->set.target.pos.line, 28);
	assert_int_equal(s->set.target.pos.col, 19); /* the opening quote */
	assert_int_equal(s->set.target.step_index, 1);
	assert_string_equal(s->set.target.text, "group:lab");
	assert_int_equal(s->set.metrics, 1u << SCENARIO_METRIC_TEMPERATURE);
	assert_true(s->set.change[SCENARIO_METRIC_TEMPERATURE].to == 30.0);
	assert_int_equal(s->set.change[SCENARIO_METRIC_TEMPERATURE].over_ms, 0);
	assert_true(s->set.noise_set);
	assert_true(s->set.noise == 0.2);

	s = &sc.steps[2];
	assert_int_equal(s->set.target.kind, SCENARIO_TARGET_GLOB);
	assert_string_equal(s->set.target.glob, "robot_00[1-5]");
	assert_int_equal(s->set.metrics, (1u << SCENARIO_METRIC_TEMPERATURE) |
					 (1u << SCENARIO_METRIC_HUMIDITY));
	assert_true(s->set.change[SCENARIO_METRIC_TEMPERATURE].to == 35.0);
	assert_int_equal(s->set.change[SCENARIO_METRIC_TEMPERATURE].over_ms, 30000);
	assert_true(s->set.change[SCENARIO_METRIC_HUMIDITY].to == 50.0);
	assert_int_equal(s->set.change[SCENARIO_METRIC_HUMIDITY].over_ms, 0);
	assert_false(s->set.noise_set);

	s = &sc.steps[3];
	assert_int_equal(s->kind, SCENARIO_STEP_COMMAND);
	assert_int_equal(s->command.target.kind, SCENARIO_TARGET_SHARE);
	assert_true(s->command.target.share.percent == 25.0);
	assert_null(s->command.target.share.of);
	assert_int_equal(s->command.action, SCENARIO_COMMAND_STOP);
	assert_int_equal(s->command.format, SCENARIO_FORMAT_JSON);

	s = &sc.steps[4];
	assert_int_equal(s->command.target.kind, SCENARIO_TARGET_ID);
	assert_int_equal(s->command.target.device, 0); /* hall-10 */
	assert_int_equal(s->command.action, SCENARIO_COMMAND_START);
	assert_int_equal(s->command.format, SCENARIO_FORMAT_PLAIN);

	s = &sc.steps[5];
	assert_int_equal(s->command.target.kind, SCENARIO_TARGET_ALL);
	assert_int_equal(s->command.action, SCENARIO_COMMAND_PAYLOAD);
	assert_string_equal(s->command.payload, "reboot now");
	assert_int_equal(s->command.payload_len, 10);

	s = &sc.steps[6];
	assert_int_equal(s->kind, SCENARIO_STEP_BROKER);
	assert_int_equal(s->broker.action, SCENARIO_BROKER_RESTART);

	s = &sc.steps[7];
	assert_int_equal(s->kind, SCENARIO_STEP_EXPECT);
	assert_int_equal(s->expect.what, SCENARIO_EXPECT_STATUS);
	assert_int_equal(s->expect.status, SCENARIO_STATUS_ONLINE);
	assert_int_equal(s->expect.within_ms, 10000);
	assert_string_equal(s->expect.name, "all up");

	s = &sc.steps[8];
	assert_int_equal(s->expect.what, SCENARIO_EXPECT_MESSAGES | SCENARIO_EXPECT_RATE);
	assert_int_equal(s->expect.target.kind, SCENARIO_TARGET_ID);
	assert_int_equal(s->expect.target.device, 5);
	assert_null(s->expect.name);
	assert_int_equal(s->expect.within_ms, 0);
	assert_true(s->expect.messages.cmp.has_lo);
	assert_false(s->expect.messages.cmp.has_hi);
	assert_true(s->expect.messages.cmp.lo == 5.0);
	assert_int_equal(s->expect.messages.window_ms, 10000);
	assert_true(s->expect.rate.cmp.lo == 0.8);
	assert_false(s->expect.rate.cmp.lo_open);
	assert_int_equal(s->expect.rate.window_ms, 0);

	s = &sc.steps[9];
	assert_int_equal(s->expect.what, SCENARIO_EXPECT_VALUE);
	assert_int_equal(s->expect.value.metric, SCENARIO_METRIC_TEMPERATURE);
	assert_true(s->expect.value.latest);
	assert_true(s->expect.value.cmp.lo == 29.5);
	assert_true(s->expect.value.cmp.hi == 30.5);
	assert_int_equal(s->expect.within_ms, 20000);

	s = &sc.steps[10];
	assert_int_equal(s->expect.target.kind, SCENARIO_TARGET_LIST);
	assert_string_equal(s->expect.target.text, "[hall-10, group:lab]");
	assert_int_equal(s->expect.target.list.n, 2);
	assert_int_equal(s->expect.target.list.items[0].kind, SCENARIO_TARGET_ID);
	assert_int_equal(s->expect.target.list.items[1].kind, SCENARIO_TARGET_GROUP);
	assert_int_equal(s->expect.target.list.items[1].pos.line, 37);
	assert_int_equal(s->expect.target.list.items[1].pos.col, 32);
	assert_int_equal(s->expect.value.metric, SCENARIO_METRIC_DISTANCE);
	assert_false(s->expect.value.latest);
	assert_int_equal(s->expect.value.window_ms, 60000);
	assert_true(s->expect.value.cmp.lo_open && s->expect.value.cmp.lo == 10.0);
	assert_true(s->expect.value.cmp.hi_open && s->expect.value.cmp.hi == 200.0);

	s = &sc.steps[11];
	assert_int_equal(s->expect.what, SCENARIO_EXPECT_COUNTER);
	assert_int_equal(s->expect.counter.name, SCENARIO_COUNTER_COMMANDS_INVALID);
	assert_true(s->expect.counter.cmp.lo == 0 && s->expect.counter.cmp.hi == 0);

	s = &sc.steps[12];
	assert_int_equal(s->expect.what, SCENARIO_EXPECT_LOST | SCENARIO_EXPECT_DUPLICATED);
	assert_true(scenario_cmp_holds(&s->expect.lost, 0));
	assert_false(scenario_cmp_holds(&s->expect.lost, 1));
	assert_true(scenario_cmp_holds(&s->expect.duplicated, 2));
	assert_false(scenario_cmp_holds(&s->expect.duplicated, 3));

	s = &sc.steps[13];
	assert_int_equal(s->kind, SCENARIO_STEP_REPEAT);
	assert_int_equal(s->index, 13);
	assert_int_equal(s->repeat.times, 3);
	assert_int_equal(s->repeat.n_steps, 2);
	assert_int_equal(s->repeat.steps[0].kind, SCENARIO_STEP_WAIT);
	assert_int_equal(s->repeat.steps[0].index, 14);
	assert_int_equal(s->repeat.steps[1].kind, SCENARIO_STEP_COMMAND);
	assert_int_equal(s->repeat.steps[1].index, 15);
	assert_int_equal(s->repeat.steps[1].pos.line, 40);
	assert_int_equal(s->repeat.steps[1].command.target.step_index, 15);

	s = &sc.steps[14];
	assert_int_equal(s->kind, SCENARIO_STEP_FAULT);
	assert_int_equal(s->index, 16);
	assert_int_equal(s->fault.target.kind, SCENARIO_TARGET_SHARE);
	assert_true(s->fault.target.share.percent == 10.0);
	assert_non_null(s->fault.target.share.of);
	assert_int_equal(s->fault.target.share.of->kind, SCENARIO_TARGET_GROUP);
	assert_int_equal(s->fault.kind, SCENARIO_FAULT_WIFI_DROP);
	assert_int_equal(s->fault.for_ms, 60000);

	s = &sc.steps[15];
	assert_int_equal(s->kind, SCENARIO_STEP_CLEAR);
	assert_true(s->clear.kind_set);
	assert_int_equal(s->clear.kind, SCENARIO_FAULT_WIFI_DROP);
	s = &sc.steps[16];
	assert_int_equal(s->kind, SCENARIO_STEP_CLEAR);
	assert_false(s->clear.kind_set);
	assert_int_equal(s->clear.target.kind, SCENARIO_TARGET_ALL);
	assert_int_equal(s->clear.target.pos.line, 43);

	s = &sc.steps[17];
	assert_int_equal(s->kind, SCENARIO_STEP_POWER);
	assert_int_equal(s->index, 19);
	assert_int_equal(s->power.action, SCENARIO_POWER_CYCLE);
	assert_int_equal(s->power.target.device, 7); /* robot_003 */

	scenario_free(&sc);
	assert_null(sc.arena);
	scenario_free(&sc); /* twice is harmless */
}

static void test_scenario_parse_defaults(void **state)
{
	struct scenario sc;
	struct scenario_error err;
	const char *text = "fleet: {groups: [{name: bots, count: 3}]}\nsteps: [{wait: 1m}]\n";
	const struct scenario_group *g;

	(void)state;
	assert_int_equal(scenario_parse_string("dir/my smoke.test.yml", text, strlen(text),
					       &sc, &err), 0);
	/* The file's stem, made fit for a directory name. */
	assert_string_equal(sc.name, "my_smoke.test");
	assert_null(sc.description);
	assert_false(sc.seed_set);
	assert_int_equal(sc.seed, SCENARIO_SEED_DEFAULT);
	assert_int_equal(sc.duration_ms, 0);
	assert_int_equal(sc.fleet.broker, SCENARIO_BROKER_EMBEDDED);
	assert_null(sc.fleet.broker_host);
	assert_true(sc.fleet.connect_rate_per_s == 200.0);
	g = &sc.fleet.groups[0];
	assert_string_equal(g->id_pattern, "bots_{:03}");
	assert_int_equal(g->id_pos.line, 1);
	assert_int_equal(g->interval_ms, 10000);
	assert_int_equal(g->keepalive_s, 15);
	assert_int_equal(g->topic_style, SCENARIO_TOPIC_JSON);
	assert_true(g->env.value[SCENARIO_METRIC_TEMPERATURE] == 22.0);
	assert_true(g->env.value[SCENARIO_METRIC_HUMIDITY] == 45.0);
	assert_true(g->env.value[SCENARIO_METRIC_DISTANCE] == 100.0);
	for (int m = 0; m < SCENARIO_METRIC_COUNT; m++)
		assert_true(g->env.noise[m] == 0.0);
	assert_string_equal(sc.fleet.devices[0].id, "bots_001");
	assert_string_equal(sc.fleet.devices[2].id, "bots_003");
	assert_int_equal(sc.steps[0].wait_ms, 60000);
	scenario_free(&sc);

	/* A name from a stream without a usable stem. */
	assert_int_equal(scenario_parse_string(NULL, text, strlen(text), &sc, &err), 0);
	assert_string_equal(sc.name, "_scenario_");
	assert_string_equal(sc.file, "<scenario>");
	scenario_free(&sc);
	assert_int_equal(scenario_parse_string(".yaml", text, strlen(text), &sc, &err), 0);
	assert_string_equal(sc.name, ".yaml");
	scenario_free(&sc);
	assert_int_equal(scenario_parse_string("a/", text, strlen(text), &sc, &err), 0);
	assert_string_equal(sc.name, "scenario");
	scenario_free(&sc);
}

static void test_scenario_parse_ramps(void **state)
{
	struct scenario sc;
	const struct scenario_set *set;

	(void)state;
	assert_parses(FLEET
		      "  - set:\n"
		      "      target: all\n"
		      "      temperature: {to: -10.5, over: 1m30s}\n"
		      "      humidity: {to: 80, over: 0}\n"
		      "      distance: {to: 2.5, over: 250ms}\n"
		      "  - set: {distance: 400}\n",
		      &sc);
	set = &sc.steps[0].set;
	assert_int_equal(set->metrics, 7);
	assert_true(set->change[SCENARIO_METRIC_TEMPERATURE].to == -10.5);
	assert_int_equal(set->change[SCENARIO_METRIC_TEMPERATURE].over_ms, 90000);
	assert_int_equal(set->change[SCENARIO_METRIC_TEMPERATURE].pos.line, 7);
	assert_int_equal(set->change[SCENARIO_METRIC_TEMPERATURE].pos.col, 7);
	assert_true(set->change[SCENARIO_METRIC_HUMIDITY].to == 80.0);
	assert_int_equal(set->change[SCENARIO_METRIC_HUMIDITY].over_ms, 0);
	assert_true(set->change[SCENARIO_METRIC_DISTANCE].to == 2.5);
	assert_int_equal(set->change[SCENARIO_METRIC_DISTANCE].over_ms, 250);

	/* No target: the whole fleet, positioned at the step. */
	set = &sc.steps[1].set;
	assert_int_equal(set->target.kind, SCENARIO_TARGET_ALL);
	assert_int_equal(set->target.pos.line, 10);
	assert_int_equal(set->target.pos.col, 5);
	assert_int_equal(set->metrics, 1u << SCENARIO_METRIC_DISTANCE);
	assert_int_equal(set->change[SCENARIO_METRIC_DISTANCE].over_ms, 0);
	scenario_free(&sc);

	assert_error(FLEET "  - set: {temperature: {over: 10s}}\n",
		     "t.yaml:5:24: temperature: a ramp needs to:, e.g. "
		     "{to: 35, over: 30s}");
	assert_error(FLEET "  - set: {temperature: {to: 35, over: 3 s}}\n",
		     "t.yaml:5:39: over: bad duration '3 s': use 500ms, 1s, 2m, 1h");
	assert_error(FLEET "  - set: {humidity: {to: 101, over: 3s}}\n",
		     "t.yaml:5:26: humidity: 101 is out of range: use 0 to 100 %RH");
	assert_error(FLEET "  - set: {temperature: {to: 35, speed: 1}}\n",
		     "t.yaml:5:33: unknown key 'speed' in temperature: allowed keys are to, over");
	assert_error(FLEET "  - set: {target: all}\n",
		     "t.yaml:5:10: set needs at least one of temperature, humidity, distance, "
		     "noise");
}

static void test_scenario_parse_repeat_nesting(void **state)
{
	struct scenario sc;
	const struct scenario_step *outer, *inner;

	(void)state;
	assert_parses(FLEET
		      "  - wait: 1s\n"
		      "  - repeat:\n"
		      "      times: 2\n"
		      "      steps:\n"
		      "        - repeat:\n"
		      "            times: 5\n"
		      "            steps:\n"
		      "              - command: {action: stop}\n"
		      "              - wait: 100ms\n"
		      "        - expect: {status: offline}\n"
		      "  - wait: 2s\n",
		      &sc);
	assert_int_equal(sc.n_steps, 3);
	assert_int_equal(sc.n_steps_total, 7);
	outer = &sc.steps[1];
	assert_int_equal(outer->index, 1);
	assert_int_equal(outer->repeat.times, 2);
	assert_int_equal(outer->repeat.n_steps, 2);
	inner = &outer->repeat.steps[0];
	assert_int_equal(inner->kind, SCENARIO_STEP_REPEAT);
	assert_int_equal(inner->index, 2);
	assert_int_equal(inner->pos.line, 9);
	assert_int_equal(inner->pos.col, 11);
	assert_int_equal(inner->repeat.times, 5);
	assert_int_equal(inner->repeat.steps[0].index, 3);
	assert_int_equal(inner->repeat.steps[0].command.action, SCENARIO_COMMAND_STOP);
	assert_int_equal(inner->repeat.steps[1].index, 4);
	assert_int_equal(inner->repeat.steps[1].wait_ms, 100);
	assert_int_equal(outer->repeat.steps[1].index, 5);
	assert_int_equal(outer->repeat.steps[1].expect.status, SCENARIO_STATUS_OFFLINE);
	assert_int_equal(sc.steps[2].index, 6);
	scenario_free(&sc);
}

static void test_scenario_parse_repeat_errors(void **state)
{
	char text[2048];
	size_t o;

	(void)state;
	assert_error(FLEET "  - repeat: {times: 0, steps: [{wait: 1s}]}\n",
		     "t.yaml:5:21: times: 0 is out of range: use a whole number from 1 to 1000000");
	assert_error(FLEET "  - repeat: {times: -2, steps: [{wait: 1s}]}\n",
		     "t.yaml:5:21: times: -2 is negative: use a whole number from 1 to 1000000");
	assert_error(FLEET "  - repeat: {times: 2.5, steps: [{wait: 1s}]}\n",
		     "t.yaml:5:21: times: expected a whole number, got '2.5'");
	assert_error(FLEET "  - repeat: {steps: [{wait: 1s}]}\n",
		     "t.yaml:5:13: repeat needs times: and steps:, e.g. {times: 3, steps: "
		     "[{wait: 1s}]}");
	assert_error(FLEET "  - repeat: {times: 2, steps: []}\n",
		     "t.yaml:5:31: steps: the list is empty: add at least one step, e.g. "
		     "'- wait: 1m'");
	assert_error(FLEET "  - repeat: {times: 2, steps: {wait: 1s}}\n",
		     "t.yaml:5:31: steps: expected a list of steps, got a mapping");

	/* Eight repeats inside each other are fine, a ninth is not. */
	for (int depth = 8; depth <= 9; depth++) {
		struct scenario sc;
		struct scenario_error err;
		int rc;

		o = (size_t)snprintf(text, sizeof(text), FLEET "  - ");
		for (int i = 0; i < depth; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
					      "{repeat: {times: 2, steps: [");
		o += (size_t)snprintf(text + o, sizeof(text) - o, "{wait: 1s}");
		for (int i = 0; i < depth; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "]}}");
		snprintf(text + o, sizeof(text) - o, "\n");
		rc = parse(text, &sc, &err);
		if (depth == 8) {
			assert_int_equal(rc, 0);
			assert_int_equal(sc.n_steps_total, 9);
		} else {
			assert_int_equal(rc, -EINVAL);
			/* The ninth "repeat": 8 * 28 characters after "  - {". */
			assert_string_equal(err.message,
					    "t.yaml:5:230: repeat nested deeper than 8 levels");
		}
		scenario_free(&sc);
	}
}

static void test_scenario_parse_nesting_limit(void **state)
{
	char text[512];
	size_t o = 0;

	(void)state;
	/* 64 levels of flow lists load (and then fail as a scenario), 65 do not. */
	for (int i = 0; i < 64; i++)
		text[o++] = '[';
	text[o] = '\0';
	for (int i = 0; i < 64; i++)
		text[o++] = ']';
	text[o] = '\0';
	assert_error(text,
		     "t.yaml:1:1: a scenario is a mapping with fleet: and steps:, not a list");
	o = 0;
	for (int i = 0; i < 65; i++)
		text[o++] = '[';
	for (int i = 0; i < 65; i++)
		text[o++] = ']';
	text[o] = '\0';
	assert_error(text, "t.yaml:1:65: nested deeper than 64 levels");
}

static void test_scenario_parse_unknown_key(void **state)
{
	(void)state;
	assert_error("nmae: x\n",
		     "t.yaml:1:1: unknown key 'nmae' in the scenario (did you mean 'name'?): "
		     "allowed keys are name, description, seed, duration, fleet, steps");
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 2, intervall: 1s}\n",
		     "t.yaml:3:29: unknown key 'intervall' in group (did you mean 'interval'?): "
		     "allowed keys are name, count, id, first, interval, sample_interval, "
		     "keepalive, topic_style, environment, sketch, device, topics, rooms");
	assert_error("fleet:\n  colour: red\n",
		     "t.yaml:2:3: unknown key 'colour' in fleet: allowed keys are broker, "
		     "connect_rate, groups, network, security");
	assert_error(FLEET "  - expect: {status: online, colour: red}\n",
		     "t.yaml:5:30: unknown key 'colour' in expect: allowed keys are target, "
		     "within, name, status, messages, rate, value, counter, lost, duplicated, "
		     "fleet_lost, fleet_duplicated, error");
	assert_error(FLEET "  - expect: {messages: {min: 1, avg: 3}}\n",
		     "t.yaml:5:33: unknown key 'avg' in messages: allowed keys are min, max, "
		     "between, gt, ge, lt, le, eq, window");
	assert_error(FLEET "  - sleep: 5s\n",
		     "t.yaml:5:5: unknown step 'sleep': steps are wait, set, command, broker, "
		     "expect, repeat, fault, clear, power");
	assert_error(FLEET "  - wiat: 5s\n",
		     "t.yaml:5:5: unknown step 'wiat' (did you mean 'wait'?): steps are wait, "
		     "set, command, broker, expect, repeat, fault, clear, power");
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 2, environment: {temp: 3}}\n",
		     "t.yaml:3:43: unknown key 'temp' in environment: allowed keys are "
		     "temperature, humidity, distance, noise");
	assert_error("fleet: {groups: [{name: a, count: 1, count: 2}]}\n",
		     "t.yaml:1:38: group: key 'count' appears twice (first at 1:28)");
	assert_error("? [a]\n: 1\n",
		     "t.yaml:1:3: the scenario: keys are words such as name, not a list");
}

static void test_scenario_parse_wrong_type(void **state)
{
	(void)state;
	assert_error("fleet: [a]\nsteps: [{wait: 1s}]\n",
		     "t.yaml:1:8: fleet: expected a mapping, got a list");
	assert_error("fleet: {groups: {name: a}}\nsteps: [{wait: 1s}]\n",
		     "t.yaml:1:17: groups: expected a list of groups such as [{name: lab, "
		     "count: 20}], got a mapping");
	assert_error("fleet: {groups: []}\nsteps: [{wait: 1s}]\n",
		     "t.yaml:1:17: groups: expected a list of groups such as [{name: lab, "
		     "count: 20}], got an empty list");
	assert_error("fleet: {groups: [{name: a, count: many}]}\nsteps: [{wait: 1s}]\n",
		     "t.yaml:1:35: count: expected a whole number, got 'many'");
	assert_error("fleet: {groups: [{name: a, count: 1}]}\nsteps: {wait: 1s}\n",
		     "t.yaml:2:8: steps: expected a list of steps, got a mapping");
	assert_error(FLEET "  - wait\n",
		     "t.yaml:5:5: a step is a mapping with one key, its kind (wait, set, command, "
		     "broker, expect, repeat, fault, clear, power), e.g. '- wait: 5s'; got 'wait'");
	assert_error(FLEET "  - wait: 1s\n    set: {}\n",
		     "t.yaml:6:5: a step has exactly one key, its kind; this one also has 'set': "
		     "start a new step with '-' or put options inside wait: {...}");
	assert_error(FLEET "  - set: 30\n",
		     "t.yaml:5:10: set: expected a mapping, got '30'");
	assert_error(FLEET "  - set: {temperature: warm}\n",
		     "t.yaml:5:24: temperature: expected a number, got 'warm'");
	assert_error(FLEET "  - set: {temperature: [1, 2]}\n",
		     "t.yaml:5:24: temperature: expected a number, got a list");
	assert_error(FLEET "  - wait:\n",
		     "t.yaml:5:10: wait: expected a duration (use 500ms, 1s, 2m, 1h), got nothing");
	assert_error(FLEET "  - broker: [stop]\n",
		     "t.yaml:5:13: broker: expected stop, start, restart, kill or {action: stop, "
		     "for: 30s}, got a list");
	assert_error(FLEET "  - broker: {action: restart, for: 5s}\n",
		     "t.yaml:5:31: broker: for: is for stop and kill (start again after)");
	assert_error(FLEET "  - broker: {for: 5s}\n",
		     "t.yaml:5:13: broker needs action: stop, start, restart or kill");
	assert_error(FLEET "  - broker: reboot\n",
		     "t.yaml:5:13: broker: 'reboot' is not one of stop, start, restart, kill");
	assert_error(FLEET "  - expect: {value: {metric: temperature, latest: yes, eq: 1}}\n",
		     "t.yaml:5:51: latest: expected true or false, got 'yes'");
	assert_error(FLEET "  - command: {action: pause}\n",
		     "t.yaml:5:23: action: 'pause' is not one of start, stop");
	assert_error(FLEET "  - command: {action: strat}\n",
		     "t.yaml:5:23: action: 'strat' is not one of start, stop (did you mean "
		     "'start'?)");
	assert_error(FLEET "  - command: {target: all}\n",
		     "t.yaml:5:14: command needs action: start or stop (or payload: \"text\" to "
		     "publish as is)");
	assert_error(FLEET "  - command: {action: stop, payload: stop}\n",
		     "t.yaml:5:29: command: give action or payload, not both");
	assert_error("seed: -1\n", "t.yaml:1:7: seed: -1 is negative: use a whole number from 0 "
		     "to 18446744073709551615");
	assert_error("seed: 0x\n", "t.yaml:1:7: seed: expected a whole number, got '0x'");
	assert_error("seed: 0x10000000000000000\n",
		     "t.yaml:1:7: seed: expected a whole number from 0 to 18446744073709551615 "
		     "(or 0x and up to 16 hex digits), got '0x10000000000000000'");
	assert_error("seed: 18446744073709551616\n",
		     "t.yaml:1:7: seed: 18446744073709551616 is out of range: use a whole number "
		     "from 0 to 18446744073709551615");
	assert_error("name: \"a b\"\n", "t.yaml:1:7: name: 'a b' cannot name a run directory: "
		     "use 1-64 characters of A-Z a-z 0-9 _ . -");
	assert_error("fleet: {broker: \"host:99999\", groups: [{name: a, count: 1}]}\n",
		     "t.yaml:1:17: broker: 'host:99999' is not embedded, host:port, "
		     "[v6addr]:port or host");
	assert_error("fleet: {connect_rate: 0/s, groups: [{name: a, count: 1}]}\n",
		     "t.yaml:1:23: connect_rate: bad rate '0/s': use a rate above 0 such as "
		     "200/s, 30/m");
	assert_error("fleet: {groups: [{name: a, count: 1, keepalive: 2.5s}]}\n",
		     "t.yaml:1:49: keepalive: 2.5s: use whole seconds from 5s to 65535s");
	assert_error("fleet: {groups: [{name: a, count: 1, topic_style: xml}]}\n",
		     "t.yaml:1:51: topic_style: 'xml' is not one of json, per-metric, both");
	assert_error(FLEET "  - expect: {status: online, name: \"a\\0b\"}\n",
		     "t.yaml:5:36: name: text with a NUL character (\\0) in it");
}

static void test_scenario_parse_bad_duration(void **state)
{
	(void)state;
	assert_error(FLEET "  - wait: 5x\n",
		     "t.yaml:5:11: wait: bad duration '5x': use 500ms, 1s, 2m, 1h");
	assert_error(FLEET "  - wait: 5\n",
		     "t.yaml:5:11: wait: bad duration '5': use 500ms, 1s, 2m, 1h");
	assert_error(FLEET "  - wait: -1s\n",
		     "t.yaml:5:11: wait: bad duration '-1s': use 500ms, 1s, 2m, 1h");
	assert_error(FLEET "  - expect: {status: online, within: 30s1m}\n",
		     "t.yaml:5:38: within: bad duration '30s1m': use 500ms, 1s, 2m, 1h");
	assert_error("duration: 50d\n",
		     "t.yaml:1:11: duration: bad duration '50d': use 500ms, 1s, 2m, 1h");
	assert_error("fleet: {groups: [{name: a, count: 1, interval: 50ms}]}\n",
		     "t.yaml:1:48: interval: 50ms is out of range: use 100ms to 24h");
	assert_error("fleet: {groups: [{name: a, count: 1, sample_interval: 10ms}]}\n",
		     "t.yaml:1:55: sample_interval: 10ms is out of range: use 60ms to 24h (the "
		     "HC-SR04 needs 60ms between pings), or 0");
}

static void test_scenario_parse_durations(void **state)
{
	static const struct {
		const char *s;
		uint32_t ms;
	} good[] = {
		{ "0", 0 },         { "0s", 0 },          { "500ms", 500 },
		{ "1s", 1000 },     { "1.5s", 1500 },     { "2m", 120000 },
		{ "2min", 120000 }, { "1h", 3600000 },    { "1m30s", 90000 },
		{ "1h15m", 4500000 }, { "1h1m1s1ms", 3661001 }, { "0.4ms", 0 },
		{ "1193h2m47s295ms", UINT32_MAX },
	};
	static const char *const bad[] = {
		"", "5", "5x", "s", "ms", "-1s", "+1s", "1 s", "1s ", "30s1m", "1s1s", "1m1min",
		"1e3s", ".s", "nan", "inf", "1193h2m47s296ms", "1,5s", "0x10s", "1m30",
	};
	static const struct {
		const char *s;
		double per_s;
	} rates[] = {
		{ "200/s", 200 }, { "30/m", 0.5 }, { "30/min", 0.5 }, { "3600/h", 1 },
		{ "5", 5 },       { "0.8/s", 0.8 }, { "0", 0 },
	};
	static const char *const bad_rates[] = { "", "/s", "1/", "1/d", "-1/s", "1/s/s", "x" };
	uint32_t ms;
	double r;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		if (scenario_parse_duration_ms(good[i].s, &ms) != 0)
			fail_msg("'%s' did not parse", good[i].s);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		if (scenario_parse_duration_ms(bad[i], &ms) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_int_equal(ms, 12345);
	}
	assert_int_equal(scenario_parse_duration_ms(NULL, &ms), -EINVAL);
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		assert_int_equal(scenario_parse_rate(rates[i].s, &r), 0);
		assert_true(r > rates[i].per_s - 1e-12 && r < rates[i].per_s + 1e-12);
	}
	for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++)
		if (scenario_parse_rate(bad_rates[i], &r) != -EINVAL)
			fail_msg("rate '%s' parsed", bad_rates[i]);
}

static void test_scenario_parse_negative_counts(void **state)
{
	(void)state;
	assert_error("fleet: {groups: [{name: a, count: -3}]}\n",
		     "t.yaml:1:35: count: -3 is negative: use a whole number from 0 to 100000");
	assert_error(FLEET "  - expect: {messages: {min: -1}}\n",
		     "t.yaml:5:30: min: -1 is negative: use a whole number from 0 to 4294967295");
	assert_error(FLEET "  - expect: {lost: -1}\n",
		     "t.yaml:5:20: lost: -1 is negative: use a whole number from 0 to 4294967295");
	assert_error("fleet: {groups: [{name: a, count: 1, first: -1}]}\n",
		     "t.yaml:1:45: first: -1 is negative: use a whole number from 0 to 999999999");
}

static void test_scenario_parse_id_patterns(void **state)
{
	struct scenario sc;

	(void)state;
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 3, id: 'robot {}'}\nsteps: "
		     "[{wait: 1s}]\n",
		     "t.yaml:3:33: group 'lab': id pattern 'robot {}' makes 'robot 1', which is "
		     "not a device id: use 1-32 characters of A-Z a-z 0-9 _ -");
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 3, id: 'a{:03}/x'}\nsteps: "
		     "[{wait: 1s}]\n",
		     "t.yaml:3:33: group 'lab': id pattern 'a{:03}/x' makes 'a001/x', which is "
		     "not a device id: use 1-32 characters of A-Z a-z 0-9 _ -");
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 3, "
		     "id: 'a_very_long_device_name_{:010}'}\nsteps: [{wait: 1s}]\n",
		     "t.yaml:3:33: group 'lab': id pattern 'a_very_long_device_name_{:010}' "
		     "makes 'a_very_long_device_name_0000000001', which is not a device id: use "
		     "1-32 characters of A-Z a-z 0-9 _ -");
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 3, id: 'r{:3}'}\nsteps: "
		     "[{wait: 1s}]\n",
		     "t.yaml:3:33: group 'lab': bad id pattern 'r{:3}': write {} for the device "
		     "number, or {:03} for it zero padded to 3 digits");
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 3, id: robot}\nsteps: "
		     "[{wait: 1s}]\n",
		     "t.yaml:3:33: group 'lab': id pattern 'robot' has no {} for the device "
		     "number, so its 3 devices would share one id");
	/* Duplicates across groups blame the later group, naming the first. */
	assert_error("fleet:\n"
		     "  groups:\n"
		     "    - {name: lab, count: 20, id: 'robot_{:03}'}\n"
		     "    - name: hall\n"
		     "      count: 5\n"
		     "      id: 'robot_{:03}'\n"
		     "      first: 20\n"
		     "steps: [{wait: 1s}]\n",
		     "t.yaml:6:11: group 'hall': id pattern 'robot_{:03}' makes 'robot_020', "
		     "which group 'lab' (line 3) also has: change the pattern or first:");
	assert_error("fleet:\n  groups:\n    - {name: lab, count: 2}\n"
		     "    - {name: lab, count: 1}\n",
		     "t.yaml:4:14: name: a group named 'lab' already exists (line 3)");
	assert_error("fleet: {groups: [{name: 'a b', count: 2}]}\n",
		     "t.yaml:1:25: name: group name 'a b' is not 1-32 characters of A-Z a-z 0-9 "
		     "_ -");
	assert_error("fleet: {groups: [{name: a, count: 0}]}\nsteps: [{wait: 1s}]\n",
		     "t.yaml:1:8: the fleet has no devices: give a group a count of at least 1");

	/* A pattern without {} fits a group of one; first: moves the numbers. */
	assert_parses("fleet:\n  groups:\n    - {name: gw, count: 1, id: gateway}\n"
		      "    - {name: lab, count: 2, id: 'robot_{:03}', first: 21}\n"
		      "    - {name: x, count: 2, id: 'x{}y{:02}', first: 9}\n"
		      "steps: [{wait: 1s}]\n", &sc);
	assert_int_equal(sc.fleet.n_devices, 5);
	assert_string_equal(sc.fleet.devices[0].id, "gateway");
	assert_string_equal(sc.fleet.devices[1].id, "robot_021");
	assert_string_equal(sc.fleet.devices[2].id, "robot_022");
	assert_string_equal(sc.fleet.devices[3].id, "x10y10");
	assert_string_equal(sc.fleet.devices[4].id, "x9y09");
	assert_int_equal(scenario_device_find(&sc, "robot_022"), 2);
	assert_int_equal(scenario_device_find(&sc, "robot_023"), -ENOENT);
	scenario_free(&sc);
}

static void test_scenario_parse_targets(void **state)
{
	(void)state;
	assert_error(FLEET "  - set: {target: robot_099, temperature: 30}\n",
		     "t.yaml:5:19: target 'robot_099' matches no device; the fleet has lab: "
		     "robot_001..robot_020");
	assert_error(FLEET "  - set: {target: [robot_001, 'robot_1*'], temperature: 30}\n",
		     "t.yaml:5:31: target 'robot_1*' matches no device; the fleet has lab: "
		     "robot_001..robot_020");
	assert_error(FLEET "  - expect: {target: robot_019..robot_025, status: online}\n"
		     "  - expect: {target: robot_021..robot_025, status: online}\n",
		     "t.yaml:6:22: target 'robot_021..robot_025' matches no device; the fleet "
		     "has lab: robot_001..robot_020");
	assert_error(FLEET "  - power: {target: 'group:labs', action: off}\n",
		     "t.yaml:5:21: target 'group:labs' names no group: the groups are lab");
	assert_error(FLEET "  - power: {target: 'share:0%', action: off}\n",
		     "t.yaml:5:21: share 'share:0%': the share must be above 0% and at most 100%");
	assert_error(FLEET "  - power: {target: 'share:25', action: off}\n",
		     "t.yaml:5:21: share 'share:25': write share:25% or share:25%:group:lab");
	assert_error(FLEET "  - power: {target: 'share:5%:group:x', action: off}\n",
		     "t.yaml:5:21: target 'group:x' names no group: the groups are lab");
	assert_error(FLEET "  - power: {target: 'share:5%:share:5%', action: off}\n",
		     "t.yaml:5:21: share 'share:5%:share:5%': a share of a share is not "
		     "supported");
	assert_error(FLEET "  - power: {target: robot_005..robot_001, action: off}\n",
		     "t.yaml:5:21: range 'robot_005..robot_001': the first id is above the last");
	assert_error(FLEET "  - power: {target: robot_001..bot_005, action: off}\n",
		     "t.yaml:5:21: range 'robot_001..bot_005': write two ids with the same "
		     "prefix and a number, e.g. robot_001..robot_020");
	assert_error(FLEET "  - power: {target: robot_01..robot_005, action: off}\n",
		     "t.yaml:5:21: range 'robot_01..robot_005': zero padded ends need the same "
		     "width, e.g. robot_001..robot_020");
	assert_error(FLEET "  - power: {target: 'robot/1', action: off}\n",
		     "t.yaml:5:21: target 'robot/1' is not a device id, glob, range, group:NAME, "
		     "share:N% or all");
	assert_error(FLEET "  - power: {target: '', action: off}\n",
		     "t.yaml:5:21: empty target: write all, an id, a glob, a range, group:NAME "
		     "or share:N%");
	assert_error(FLEET "  - power: {target: [], action: off}\n",
		     "t.yaml:5:21: target: the list is empty: name at least one target");
	assert_error(FLEET "  - power: {target: [[all]], action: off}\n",
		     "t.yaml:5:22: target: expected all, an id, a glob, a range, group:NAME or "
		     "share:N%, got a list");
	assert_error(FLEET "  - power: {target: all}\n",
		     "t.yaml:5:12: power needs action: cut, restore, cycle or brownout");
	assert_error(FLEET "  - fault: {target: all, kind: wifi}\n",
		     "t.yaml:5:32: kind: 'wifi' is not one of wifi_drop, wifi_flap, "
		     "wifi_assoc_fail, wifi_weak, dht_no_response, dht_checksum, dht_stuck, "
		     "dht_spikes, dht_drift, dht_stretched, dht_truncated, sonar_no_echo, "
		     "sonar_noise, sonar_stuck, sonar_beyond_range, sonar_stuck_high, sonar_silent, "
		     "flash_write_fail, flash_full, flash_corrupt, cert_expired, cert_foreign_ca, "
		     "wrong_password, impersonate");
}

/* The emulated flash's faults: their options, defaults, limits and clears. */
#define SECURE_FLEET(mode)                                    \
	"fleet:\n"                                             \
	"  security: " mode "\n"                               \
	"  groups:\n"                                          \
	"    - {name: lab, count: 3, id: \"robot_{:03}\"}\n"   \
	"steps:\n"

/* fleet: security: the modes, and the faults each one allows. */
static void test_scenario_parse_security(void **state)
{
	struct scenario sc;

	(void)state;
	assert_parses(FLEET "  - wait: 1s\n", &sc);
	assert_int_equal(sc.fleet.security, SCENARIO_SECURITY_NONE);
	scenario_free(&sc);
	assert_parses(SECURE_FLEET("mutual")
		      "  - fault: {target: robot_001, kind: cert_expired}\n"
		      "  - fault: {target: robot_002, kind: cert_foreign_ca, for: 5s}\n"
		      "  - fault: {target: robot_003, kind: impersonate}\n", &sc);
	assert_int_equal(sc.fleet.security, SCENARIO_SECURITY_MUTUAL);
	assert_int_equal(sc.steps[0].fault.kind, SCENARIO_FAULT_CERT_EXPIRED);
	assert_int_equal(sc.steps[1].fault.for_ms, 5000);
	assert_int_equal(scenario_fault_layer(sc.steps[2].fault.kind), SCENARIO_LAYER_SECURITY);
	scenario_free(&sc);
	assert_parses(SECURE_FLEET("tls") "  - fault: {target: all, kind: wrong_password}\n", &sc);
	assert_int_equal(sc.fleet.security, SCENARIO_SECURITY_TLS);
	scenario_free(&sc);
	assert_parses(SECURE_FLEET("password") "  - fault: {target: all, kind: wrong_password}\n", &sc);
	assert_int_equal(sc.fleet.security, SCENARIO_SECURITY_PASSWORD);
	scenario_free(&sc);
	assert_error(SECURE_FLEET("mtls") "  - wait: 1s\n",
		     "t.yaml:2:13: security: 'mtls' is not one of none, tls, mutual, password (did "
		     "you mean 'tls'?)");
	assert_error(SECURE_FLEET("password") "  - fault: {target: all, kind: cert_expired}\n",
		     "t.yaml:6:32: fault cert_expired needs security: mutual (device certificates); "
		     "this fleet has security: password");
	assert_error(SECURE_FLEET("mutual") "  - fault: {target: all, kind: wrong_password}\n",
		     "t.yaml:6:32: fault wrong_password needs security: tls or password (device "
		     "passwords); this fleet has security: mutual");
	assert_error(FLEET "  - fault: {target: all, kind: impersonate}\n",
		     "t.yaml:5:32: fault impersonate needs a fleet security: other than none "
		     "(device identities); this fleet has security: none");
}

static void test_scenario_parse_flash_faults(void **state)
{
	struct scenario sc;
	struct scenario_error err;
	static const char text[] = FLEET
		"  - fault: {target: robot_001, kind: flash_write_fail}\n"
		"  - fault: {target: robot_002, kind: flash_write_fail, probability: 0.25, for: 30s}\n"
		"  - fault: {target: \"group:lab\", kind: flash_full, for: 1m}\n"
		"  - fault: {target: robot_003, kind: flash_corrupt}\n"
		"  - power: {target: robot_003, action: cycle}\n"
		"  - clear: {target: robot_002, kind: flash_write_fail}\n"
		"  - clear: {kind: flash_corrupt}\n";
	const struct scenario_step *s;

	(void)state;
	assert_int_equal(parse(text, &sc, &err), 0);
	s = sc.steps;
	assert_int_equal(s[0].fault.kind, SCENARIO_FAULT_FLASH_WRITE_FAIL);
	assert_true(s[0].fault.probability == 1.0); /* every write, unless told */
	assert_int_equal(s[0].fault.for_ms, 0);
	assert_int_equal(s[1].fault.kind, SCENARIO_FAULT_FLASH_WRITE_FAIL);
	assert_true(s[1].fault.probability == 0.25);
	assert_int_equal(s[1].fault.for_ms, 30000);
	assert_int_equal(s[2].fault.kind, SCENARIO_FAULT_FLASH_FULL);
	assert_int_equal(s[2].fault.target.kind, SCENARIO_TARGET_GROUP);
	assert_int_equal(s[2].fault.for_ms, 60000);
	assert_int_equal(s[3].fault.kind, SCENARIO_FAULT_FLASH_CORRUPT);
	assert_int_equal(s[4].power.action, SCENARIO_POWER_CYCLE);
	assert_true(s[5].clear.kind_set);
	assert_int_equal(s[5].clear.kind, SCENARIO_FAULT_FLASH_WRITE_FAIL);
	assert_true(s[6].clear.kind_set);
	assert_int_equal(s[6].clear.kind, SCENARIO_FAULT_FLASH_CORRUPT);
	assert_int_equal(s[6].clear.target.kind, SCENARIO_TARGET_ALL);
	scenario_free(&sc);

	assert_error(FLEET "  - fault: {kind: flash_write_fail, probability: 1.5}\n",
		     "t.yaml:5:50: probability: 1.5 is out of range: use 0 to 1");
	assert_error(FLEET "  - fault: {kind: flash_write_fail, probability: -0.1}\n",
		     "t.yaml:5:50: probability: -0.1 is out of range: use 0 to 1");
	assert_error(FLEET "  - fault: {kind: flash_write_fail, probability: often}\n",
		     "t.yaml:5:50: probability: expected a number, got 'often'");
	assert_error(FLEET "  - fault: {kind: flash_full, probability: 0.5}\n",
		     "t.yaml:5:31: fault flash_full takes no probability (its options: for)");
	assert_error(FLEET "  - fault: {kind: flash_corrupt, size: 2}\n",
		     "t.yaml:5:34: fault flash_corrupt takes no size (its options: for)");
	assert_error(FLEET "  - fault: {kind: flash_full, for: soon}\n",
		     "t.yaml:5:36: for: bad duration 'soon': use 500ms, 1s, 2m, 1h");
	assert_error(FLEET "  - fault: {kind: flash_ful}\n",
		     "t.yaml:5:19: kind: 'flash_ful' is not one of wifi_drop, wifi_flap, "
		     "wifi_assoc_fail, wifi_weak, dht_no_response, dht_checksum, dht_stuck, "
		     "dht_spikes, dht_drift, dht_stretched, dht_truncated, sonar_no_echo, "
		     "sonar_noise, sonar_stuck, sonar_beyond_range, sonar_stuck_high, sonar_silent, "
		     "flash_write_fail, flash_full, flash_corrupt, cert_expired, cert_foreign_ca, "
		     "wrong_password, impersonate (did you mean 'flash_full'?)");
	assert_error(FLEET "  - clear: {kind: flash_broken}\n",
		     "t.yaml:5:19: kind: 'flash_broken' is not one of wifi_drop, wifi_flap, "
		     "wifi_assoc_fail, wifi_weak, dht_no_response, dht_checksum, dht_stuck, "
		     "dht_spikes, dht_drift, dht_stretched, dht_truncated, sonar_no_echo, "
		     "sonar_noise, sonar_stuck, sonar_beyond_range, sonar_stuck_high, sonar_silent, "
		     "flash_write_fail, flash_full, flash_corrupt, cert_expired, cert_foreign_ca, "
		     "wrong_password, impersonate");
}

/* Every fault kind takes its own options, with defaults, and no others. */
static void test_scenario_parse_fault_options(void **state)
{
	struct scenario sc;
	struct scenario_error err;
	static const char text[] = FLEET
		"  - fault: {kind: wifi_flap, period: 10s, duty: 0.3, for: 1m}\n"
		"  - fault: {kind: wifi_assoc_fail, attempts: 4}\n"
		"  - fault: {kind: wifi_weak, loss: 0.25, latency: 300ms, rssi: -88}\n"
		"  - fault: {kind: dht_checksum, probability: 0.5}\n"
		"  - fault: {kind: dht_spikes}\n"
		"  - fault: {kind: dht_drift, per_hour: -2.5}\n"
		"  - fault: {kind: sonar_noise, amplitude: 5}\n"
		"  - power: {action: brownout, off: 200ms, on: 1s, for: 10s}\n"
		"  - power: {action: off, for: 5s}\n"
		"  - broker: {action: kill, for: 20s}\n";
	const struct scenario_step *s;

	(void)state;
	assert_int_equal(parse(text, &sc, &err), 0);
	s = sc.steps;
	assert_int_equal(s[0].fault.kind, SCENARIO_FAULT_WIFI_FLAP);
	assert_int_equal(s[0].fault.period_ms, 10000);
	assert_true(s[0].fault.duty == 0.3);
	assert_int_equal(s[0].fault.for_ms, 60000);
	assert_int_equal(s[1].fault.attempts, 4);
	assert_true(s[2].fault.loss == 0.25);
	assert_int_equal(s[2].fault.latency_ms, 300);
	assert_int_equal(s[2].fault.rssi_dbm, -88);
	assert_true(s[3].fault.probability == 0.5);
	assert_true(s[4].fault.probability == 0.2); /* the spikes default */
	assert_true(s[4].fault.size == 20);
	assert_true(s[5].fault.per_hour == -2.5);
	assert_true(s[6].fault.amplitude_cm == 5);
	assert_int_equal(s[7].power.action, SCENARIO_POWER_BROWNOUT);
	assert_int_equal(s[7].power.off_ms, 200);
	assert_int_equal(s[7].power.on_ms, 1000);
	assert_int_equal(s[7].power.for_ms, 10000);
	assert_int_equal(s[8].power.action, SCENARIO_POWER_OFF);
	assert_int_equal(s[8].power.for_ms, 5000);
	assert_int_equal(s[9].broker.action, SCENARIO_BROKER_KILL);
	assert_int_equal(s[9].broker.for_ms, 20000);
	scenario_free(&sc);

	assert_error(FLEET "  - fault: {kind: wifi_drop, period: 10s}\n",
		     "t.yaml:5:30: fault wifi_drop takes no period (its options: for)");
	assert_error(FLEET "  - fault: {kind: dht_checksum, loss: 0.1}\n",
		     "t.yaml:5:33: fault dht_checksum takes no loss (its options: for, "
		     "probability)");
	assert_error(FLEET "  - fault: {kind: wifi_flap}\n",
		     "t.yaml:5:12: fault wifi_flap needs period: a duration, e.g. {kind: "
		     "wifi_flap, period: 10s, duty: 0.3}");
	assert_error(FLEET "  - fault: {kind: dht_checksum, probability: 1.5}\n",
		     "t.yaml:5:46: probability: 1.5 is out of range: use 0 to 1");
	assert_error(FLEET "  - fault: {kind: dht_drift}\n",
		     "t.yaml:5:12: fault dht_drift needs per_hour: degC per hour, e.g. {kind: "
		     "dht_drift, per_hour: 2.5}");
	assert_error(FLEET "  - power: {action: cycle, for: 1s}\n",
		     "t.yaml:5:28: power: for: is for cut (restore after) and brownout (end after)");
	assert_error(FLEET "  - power: {action: restore, off: 1s}\n",
		     "t.yaml:5:30: power: off: (time without power) is for cycle and brownout");
}

static void test_scenario_parse_expect_errors(void **state)
{
	(void)state;
	assert_error(FLEET "  - expect: {target: all, within: 10s}\n",
		     "t.yaml:5:13: expect needs at least one of status, messages, rate, value, "
		     "counter, lost, duplicated, fleet_lost, fleet_duplicated, error");
	assert_error(FLEET "  - expect: {error: {metric: temperature, is: broken}}\n",
		     "t.yaml:5:47: is: 'broken' is not one of timeout, checksum, out_of_range, io, "
		     "absent, no_data, error, none");
	assert_error(FLEET "  - expect: {error: {is: timeout}}\n",
		     "t.yaml:5:21: error needs metric: temperature, humidity or distance");
	assert_error(FLEET "  - expect: {messages: {window: 10s}}\n",
		     "t.yaml:5:24: messages: give at least one of min, max, between, gt, ge, lt, "
		     "le, eq");
	assert_error(FLEET "  - expect: {messages: {min: 10, max: 5}}\n",
		     "t.yaml:5:24: messages: no value can be >= 10 and <= 5");
	assert_error(FLEET "  - expect: {lost: {gt: 3, lt: 3}}\n",
		     "t.yaml:5:20: lost: no value can be > 3 and < 3");
	assert_error(FLEET "  - expect: {rate: {min: fast}}\n",
		     "t.yaml:5:26: min: bad rate 'fast': use 0.5/s, 30/m, 600/h");
	assert_error(FLEET "  - expect: {value: {metric: temperature, between: [30]}}\n",
		     "t.yaml:5:52: between: expected [low, high], got a list");
	assert_error(FLEET "  - expect: {value: {metric: temperature, between: [31, 30]}}\n",
		     "t.yaml:5:52: between: low 31 is above high 30");
	assert_error(FLEET "  - expect: {value: {eq: 30}}\n",
		     "t.yaml:5:21: value needs metric: temperature, humidity or distance");
	assert_error(FLEET "  - expect: {value: {metric: temp, eq: 30}}\n",
		     "t.yaml:5:30: metric: 'temp' is not one of temperature, humidity, distance");
	assert_error(FLEET "  - expect: {value: {metric: humidity, window: 5s, eq: 30}}\n",
		     "t.yaml:5:40: window: only with latest: false (the latest reading has no "
		     "window)");
	assert_error(FLEET "  - expect: {value: {metric: humidity}}\n",
		     "t.yaml:5:21: value: give at least one of min, max, between, gt, ge, lt, "
		     "le, eq");
	assert_error(FLEET "  - expect: {value: 30}\n",
		     "t.yaml:5:21: value: expected a mapping, got '30'");
	assert_error(FLEET "  - expect: {counter: {name: resets, eq: 0}}\n",
		     "t.yaml:5:30: name: 'resets' is not one of readings_ok, readings_failed, "
		     "spikes_rejected, published, acknowledged, buffered, dropped, redelivered, publish_errors, commands, "
		     "commands_invalid, reconnects, link_failures, unpersisted, http_refused");
	assert_error(FLEET "  - expect: {counter: {eq: 0}}\n",
		     "t.yaml:5:23: counter needs name: one of readings_ok, readings_failed, "
		     "spikes_rejected, published, acknowledged, buffered, dropped, redelivered, publish_errors, commands, "
		     "commands_invalid, reconnects, link_failures, unpersisted, http_refused");
	assert_error(FLEET "  - expect: {lost: [1]}\n",
		     "t.yaml:5:20: lost: expected a number or a check such as {min: 1}, got a "
		     "list");
	assert_error(FLEET "  - expect: {status: up}\n",
		     "t.yaml:5:22: status: 'up' is not one of online, offline");
}

static void test_scenario_parse_checks(void **state)
{
	struct scenario sc;
	const struct scenario_expect *x;
	char buf[64];

	(void)state;
	assert_parses(FLEET
		      "  - expect: {messages: 7, lost: {max: 3, min: 1}, rate: 30/m}\n"
		      "  - expect: {value: {metric: humidity, gt: 10, ge: 10, le: 20, lt: 30}}\n"
		      "  - expect: {value: {metric: temperature, eq: -5.5}}\n",
		      &sc);
	x = &sc.steps[0].expect;
	assert_int_equal(x->messages.cmp.pos.line, 5);
	assert_int_equal(x->messages.cmp.pos.col, 24);
	assert_true(scenario_cmp_holds(&x->messages.cmp, 7));
	assert_false(scenario_cmp_holds(&x->messages.cmp, 8));
	scenario_cmp_format(&x->messages.cmp, buf, sizeof(buf));
	assert_string_equal(buf, "== 7");
	scenario_cmp_format(&x->lost, buf, sizeof(buf));
	assert_string_equal(buf, ">= 1 and <= 3");
	assert_true(x->rate.cmp.lo == 0.5 && x->rate.cmp.hi == 0.5);

	/* Keys intersect: the tighter bound wins, open beats closed. */
	x = &sc.steps[1].expect;
	scenario_cmp_format(&x->value.cmp, buf, sizeof(buf));
	assert_string_equal(buf, "> 10 and <= 20");
	assert_false(scenario_cmp_holds(&x->value.cmp, 10));
	assert_true(scenario_cmp_holds(&x->value.cmp, 10.1));
	assert_true(scenario_cmp_holds(&x->value.cmp, 20));
	assert_false(scenario_cmp_holds(&x->value.cmp, 20.1));

	x = &sc.steps[2].expect;
	assert_true(scenario_cmp_holds(&x->value.cmp, -5.5));
	scenario_cmp_format(&x->value.cmp, buf, sizeof(buf));
	assert_string_equal(buf, "== -5.5");
	scenario_free(&sc);
}

static void test_scenario_parse_document_errors(void **state)
{
	char big[80];

	(void)state;
	assert_error("", "t.yaml:1:1: the file is empty: a scenario needs fleet: (the devices) "
		     "and steps: (the timeline)");
	assert_error("# only a comment\n", "t.yaml:1:1: the file is empty: a scenario needs "
		     "fleet: (the devices) and steps: (the timeline)");
	assert_error("- a\n- b\n",
		     "t.yaml:1:1: a scenario is a mapping with fleet: and steps:, not a list");
	assert_error("hello\n",
		     "t.yaml:1:1: a scenario is a mapping with fleet: and steps:, not 'hello'");
	assert_error("steps: [{wait: 1s}]\n",
		     "t.yaml:1:1: missing fleet: a scenario needs fleet: (the devices) and "
		     "steps: (the timeline)");
	assert_error("\nfleet: {groups: [{name: a, count: 1}]}\n",
		     "t.yaml:2:1: missing steps: a scenario needs fleet: (the devices) and "
		     "steps: (the timeline)");
	assert_error("fleet: {groups: [{name: a, count: 1}]}\nsteps: []\n",
		     "t.yaml:2:8: steps: the list is empty: add at least one step, e.g. "
		     "'- wait: 1m'");
	assert_error("fleet:\n  groups:\n    - {name: a, count: 100000}\n"
		     "    - {name: b, count: 1}\n",
		     "t.yaml:4:24: count: the fleet would have 100001 devices; at most 100000");
	assert_error("fleet:\n  groups:\n    - {name: a, count: 100001}\n",
		     "t.yaml:3:24: count: 100001 is out of range: use a whole number from 0 to "
		     "100000");
	snprintf(big, sizeof(big), "fleet: {groups: [{name: a, count: 99999999999999999999}]}\n");
	assert_error(big, "t.yaml:1:35: count: 99999999999999999999 is out of range: use a "
		     "whole number from 0 to 100000");
}

static void test_scenario_parse_yaml_errors(void **state)
{
	(void)state;
	assert_error("fleet: [1\nsteps\n",
		     "t.yaml:3:1: YAML syntax error: did not find expected ',' or ']' (while "
		     "parsing a flow sequence at 1:8)");
	assert_error("fleet:\n  groups: x\n bad: 1\n",
		     "t.yaml:3:2: YAML syntax error: did not find expected key (while parsing a "
		     "block mapping at 1:1)");
	assert_error("a: \"unterminated\n",
		     "t.yaml:2:1: YAML syntax error: found unexpected end of stream (while "
		     "scanning a quoted scalar at 1:4)");
	assert_error("\tfleet: 1\n",
		     "t.yaml:1:1: YAML syntax error: found character that cannot start any token "
		     "(while scanning for the next token at 1:1)");
	assert_error("fleet: {}\n---\nsteps: []\n",
		     "t.yaml:2:1: a second YAML document starts here: a scenario file holds "
		     "exactly one");
	assert_error("a: &x 1\nb: *x\n",
		     "t.yaml:2:4: aliases (*x) are not supported: write the value out");
	assert_error("name: ok\nfleet: \xff\n",
		     "t.yaml:2:8: not UTF-8 text: invalid leading UTF-8 octet (#FF)");
	{
		/* A NUL byte inside the text is not YAML at all. */
		static const char nul[] = "name: a\0b\n";
		struct scenario sc;
		struct scenario_error err;

		assert_int_equal(scenario_parse_string("t.yaml", nul, sizeof(nul) - 1, &sc, &err),
				 -EINVAL);
		assert_string_equal(err.message, "t.yaml:1:8: not UTF-8 text: control characters "
				    "are not allowed (#0)");
		assert_int_equal(err.pos.line, 1);
		assert_int_equal(err.pos.col, 8);
	}
}

static void test_scenario_parse_file(void **state)
{
	char path[] = "/tmp/test_scenario_XXXXXX";
	struct scenario sc;
	struct scenario_error err;
	int fd;
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(FLEET "  - wait: 1s\n  - wait: 2x\n", f);
	fclose(f);
	assert_int_equal(scenario_parse_file(path, &sc, &err), -EINVAL);
	assert_true(strncmp(err.message, path, strlen(path)) == 0);
	assert_string_equal(err.message + strlen(path),
			    ":6:11: wait: bad duration '2x': use 500ms, 1s, 2m, 1h");
	assert_int_equal(err.pos.line, 6);
	assert_int_equal(err.pos.col, 11);
	scenario_free(&sc);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs(FLEET "  - wait: 1s\n", f);
	fclose(f);
	assert_int_equal(scenario_parse_file(path, &sc, &err), 0);
	assert_string_equal(sc.file, path);
	assert_string_equal(sc.name, path + 5); /* the stem: no .yaml to strip */
	assert_int_equal(sc.fleet.n_devices, 20);
	scenario_free(&sc);
	unlink(path);

	assert_int_equal(scenario_parse_file("/nonexistent/x.yaml", &sc, &err), -ENOENT);
	assert_string_equal(err.message, "/nonexistent/x.yaml: cannot open: No such file or "
			    "directory");
	assert_int_equal(err.pos.line, 0);
	assert_int_equal(scenario_parse_file("/", &sc, &err), -EISDIR);
	scenario_free(&sc);
}

static void test_scenario_parse_limits(void **state)
{
	struct scenario sc;
	struct scenario_error err;
	char *text;
	size_t len = SCENARIO_FILE_MAX + 1;

	(void)state;
	text = malloc(len);
	assert_non_null(text);
	memset(text, ' ', len);
	assert_int_equal(scenario_parse_string("t.yaml", text, len, &sc, &err), -EFBIG);
	assert_string_equal(err.message, "t.yaml: larger than 4194304 bytes: split the scenario");
	free(text);

	/* A fleet of the largest size parses, ids and all. */
	assert_parses("fleet: {groups: [{name: a, count: 60000}, {name: b, count: 40000}]}\n"
		      "steps: [{set: {target: 'b_4*', temperature: 1}}]\n", &sc);
	assert_int_equal(sc.fleet.n_devices, SCENARIO_FLEET_MAX);
	/* Sorted as strings: b_9999 comes after b_40000. */
	assert_string_equal(sc.fleet.devices[SCENARIO_FLEET_MAX - 1].id, "b_9999");
	scenario_free(&sc);

	assert_int_equal(scenario_parse_string("t.yaml", NULL, 3, &sc, &err), -EINVAL);
	assert_int_equal(scenario_parse_string("t.yaml", "x", 1, NULL, &err), -EINVAL);
	scenario_free(NULL);
}

/* ---- firmware per group and the fleet's network ---------------------------- */

static char fw_dir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fw_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* Parse @text as the file fw_dir/t.yaml (not written: only its directory matters). */
static int parse_in_dir(const char *text, struct scenario *sc, struct scenario_error *err)
{
	char name[128];

	snprintf(name, sizeof(name), "%s/t.yaml", fw_dir);
	return scenario_parse_string(name, text, strlen(text), sc, err);
}

/* The error for @text parsed in fw_dir, without the file name. */
static const char *error_in_dir(const char *text)
{
	static struct scenario_error err;
	struct scenario sc;
	size_t skip = strlen(fw_dir) + strlen("/t.yaml");

	if (parse_in_dir(text, &sc, &err) == 0) {
		scenario_free(&sc);
		fail_msg("parsed: %s", text);
	}
	assert_true(strlen(err.message) > skip);
	return err.message + skip;
}

static void test_scenario_parse_firmware(void **state)
{
	struct scenario sc;
	struct scenario_error err;
	char want[256], sub[128];
	const char *e;
	int rc;

	(void)state;
	snprintf(fw_dir, sizeof(fw_dir), "/tmp/test_scenario_fw_XXXXXX");
	assert_non_null(mkdtemp(fw_dir));
	snprintf(sub, sizeof(sub), "%s/blink", fw_dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/empty", fw_dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("blink/blink.ino", "void setup() {}\nvoid loop() {}\n", 0644);
	write_file("one.ino", "void setup() {}\nvoid loop() {}\n", 0644);
	write_file("notes.txt", "not a sketch\n", 0644);
	write_file("fw.sh", "#!/bin/sh\nexec true\n", 0755);
	write_file("plain.sh", "#!/bin/sh\n", 0644);

	rc = parse_in_dir("fleet:\n"
			  "  groups:\n"
			  "    - {name: a, count: 2, sketch: blink}\n"
			  "    - {name: b, count: 1, sketch: ./one.ino}\n"
			  "    - {name: c, count: 1, device: ./fw.sh}\n"
			  "    - {name: d, count: 1, device: sh}\n"
			  "    - {name: e, count: 1}\n"
			  "steps:\n  - wait: 1s\n", &sc, &err);
	if (rc != 0)
		fail_msg("%s", err.message);
	snprintf(want, sizeof(want), "%s/blink", fw_dir);
	assert_string_equal(sc.fleet.groups[0].sketch, want);
	assert_null(sc.fleet.groups[0].device);
	assert_int_equal(sc.fleet.groups[0].firmware_pos.line, 3);
	assert_int_equal(sc.fleet.groups[0].firmware_pos.col, 35);
	snprintf(want, sizeof(want), "%s/./one.ino", fw_dir);
	assert_string_equal(sc.fleet.groups[1].sketch, want);
	snprintf(want, sizeof(want), "%s/./fw.sh", fw_dir);
	assert_string_equal(sc.fleet.groups[2].device, want);
	assert_null(sc.fleet.groups[2].sketch);
	/* A bare name is found on PATH, as a shell would. */
	assert_true(sc.fleet.groups[3].device[0] == '/');
	assert_non_null(strstr(sc.fleet.groups[3].device, "/sh"));
	assert_null(sc.fleet.groups[4].sketch);
	assert_null(sc.fleet.groups[4].device);
	scenario_free(&sc);

	/* An absolute path is taken as it is. */
	snprintf(want, sizeof(want), "fleet: {groups: [{name: a, count: 1, device: %s/fw.sh}]}\n"
		 "steps: [{wait: 1s}]\n", fw_dir);
	assert_parses(want, &sc);
	assert_non_null(strstr(sc.fleet.groups[0].device, "/fw.sh"));
	scenario_free(&sc);

	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, sketch: blink, "
					 "device: ./fw.sh}]}\nsteps: [{wait: 1s}]\n"),
			    ":1:53: group 'a': sketch: and device: are two firmwares; give one "
			    "(neither: the built-in robot)");
	e = error_in_dir("fleet: {groups: [{name: a, count: 1, sketch: nope}]}\n"
			 "steps: [{wait: 1s}]\n");
	snprintf(want, sizeof(want), ":1:46: sketch: 'nope' does not exist (looked for %s/nope; "
		 "a relative path is relative to the scenario file's directory)", fw_dir);
	assert_string_equal(e, want);
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, sketch: notes.txt}]}"
					 "\nsteps: [{wait: 1s}]\n"),
			    ":1:46: sketch: 'notes.txt' is not a .ino file or a sketch folder");
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, sketch: empty}]}\n"
					 "steps: [{wait: 1s}]\n"),
			    ":1:46: sketch: folder 'empty' has no main .ino: a sketch folder "
			    "NAME holds NAME.ino");
	write_file("empty/other.ino", "void setup() {}\nvoid loop() {}\n", 0644);
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, sketch: empty/}]}\n"
					 "steps: [{wait: 1s}]\n"),
			    ":1:46: sketch: folder 'empty/' has no main .ino: a sketch folder "
			    "NAME holds NAME.ino");
	/* The main file, however the folder is written. */
	{
		char again[200];

		snprintf(again, sizeof(again), "fleet: {groups: [{name: a, count: 1, sketch: "
			 "blink/}, {name: b, count: 1, sketch: blink/../blink/.}]}\n"
			 "steps: [{wait: 1s}]\n");
		assert_int_equal(parse_in_dir(again, &sc, &err), 0);
		scenario_free(&sc);
	}
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, sketch: \"\"}]}\n"
					 "steps: [{wait: 1s}]\n"),
			    ":1:46: sketch: empty: name a .ino file or a sketch folder");
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, sketch: [a]}]}\n"
					 "steps: [{wait: 1s}]\n"),
			    ":1:46: sketch: expected the path of a .ino file or sketch folder, "
			    "got a list");
	e = error_in_dir("fleet: {groups: [{name: a, count: 1, device: ./plain.sh}]}\n"
			 "steps: [{wait: 1s}]\n");
	snprintf(want, sizeof(want), ":1:46: device: './plain.sh' is not executable (chmod +x "
		 "%s/./plain.sh)", fw_dir);
	assert_string_equal(e, want);
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, device: ./blink}]}\n"
					 "steps: [{wait: 1s}]\n"),
			    ":1:46: device: './blink' is not a file");
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, device: "
					 "no-such-program-here}]}\nsteps: [{wait: 1s}]\n"),
			    ":1:46: device: 'no-such-program-here' is not a program on PATH "
			    "(write ./no-such-program-here for one next to the scenario file)");
	e = error_in_dir("fleet: {groups: [{name: a, count: 1, device: ./none}]}\n"
			 "steps: [{wait: 1s}]\n");
	snprintf(want, sizeof(want), ":1:46: device: './none' does not exist (looked for "
		 "%s/./none; a relative path is relative to the scenario file's directory)",
		 fw_dir);
	assert_string_equal(e, want);
	assert_string_equal(error_in_dir("fleet: {groups: [{name: a, count: 1, devcie: sh}]}\n"
					 "steps: [{wait: 1s}]\n") + 7,
			    "unknown key 'devcie' in group (did you mean 'device'?): allowed keys "
			    "are name, count, id, first, interval, sample_interval, keepalive, "
			    "topic_style, environment, sketch, device, topics, rooms");

	/* Without a directory in the name, the working directory. */
	{
		char cwd[200];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(parse("fleet: {groups: [{name: a, count: 1, sketch: nope-x}]}\n"
				       "steps: [{wait: 1s}]\n", &sc, &err), -EINVAL);
		snprintf(want, sizeof(want), "(looked for %s/nope-x;", cwd);
		assert_non_null(strstr(err.message, want));
	}

	snprintf(want, sizeof(want), "rm -rf '%s'", fw_dir);
	assert_int_equal(system(want), 0);
}

/* A one-line fleet of device: sh groups (found on PATH) and a wait. */
#define FW_FLEET(groups) "fleet: {groups: [" groups "]}\nsteps: [{wait: 1s}]\n"

static void test_scenario_parse_topics(void **state)
{
	struct scenario sc;
	const struct scenario_group *g;
	const struct scenario_device *d;

	(void)state;
	/* The tutorial's layout by room, next to robots on the contract. */
	assert_parses("fleet:\n"
		      "  groups:\n"
		      "    - name: tut\n"
		      "      count: 3\n"
		      "      device: sh\n"
		      "      rooms: [kitchen, hall, attic]\n"
		      "      topics:\n"
		      "        readings: \"sensors/{room}/{metric}\"\n"
		      "        status: \"sensors/{room}/status\"\n"
		      "        command: {topic: \"sensors/{room}/command\", format: json}\n"
		      "    - {name: robot, count: 2}\n"
		      "    - name: one\n"
		      "      count: 1\n"
		      "      device: sh\n"
		      "      topics: {readings: [\"greenhouse/{metric}\", {topic: gh/all, format: json}],"
		      " status: gh/status, command: gh/cmd}\n"
		      "    - {name: num, count: 2, device: sh, rooms: \"r_{:02}\","
		      " topics: {readings: \"home/{room}/{id}/{metric}\"}}\n"
		      "steps:\n  - command: {target: all, action: stop}\n", &sc);
	g = &sc.fleet.groups[0];
	assert_true(g->topics_set);
	assert_true(g->command_format_set);
	assert_int_equal(g->topics->n_readings, 1);
	assert_string_equal(g->topics->readings[0].text, "sensors/{room}/{metric}");
	assert_string_equal(g->topics->status.text, "sensors/{room}/status");
	assert_int_equal(g->topics->command.format, TOPIC_FORMAT_JSON);
	/* The built-in robot: the contract, and the step's own format. */
	g = &sc.fleet.groups[1];
	assert_false(g->topics_set);
	assert_false(g->command_format_set);
	assert_int_equal(g->topics->n_readings, 2);
	assert_string_equal(g->topics->readings[1].text, "sensors/{id}/data");
	assert_int_equal(g->topics->command.format, TOPIC_FORMAT_JSON);
	g = &sc.fleet.groups[2];
	assert_int_equal(g->topics->n_readings, 2);
	assert_int_equal(g->topics->readings[1].format, TOPIC_FORMAT_JSON);
	assert_string_equal(g->topics->command.text, "gh/cmd");
	assert_int_equal(g->topics->command.format, TOPIC_FORMAT_PLAIN);
	/* Unsaid keys keep the contract. */
	g = &sc.fleet.groups[3];
	assert_string_equal(g->topics->status.text, "sensors/{id}/status");
	assert_false(sc.steps[0].command.format_set);
	d = &sc.fleet.devices[scenario_device_find(&sc, "tut_002")];
	assert_string_equal(d->room, "hall");
	d = &sc.fleet.devices[scenario_device_find(&sc, "num_002")];
	assert_string_equal(d->room, "r_02");
	assert_null(sc.fleet.devices[scenario_device_find(&sc, "robot_001")].room);
	scenario_free(&sc);

	/* A sketch: or device: group's default: the contract, commands plain. */
	assert_parses(FW_FLEET("{name: a, count: 2, device: sh}"), &sc);
	assert_false(sc.fleet.groups[0].topics_set);
	assert_true(sc.fleet.groups[0].command_format_set);
	assert_int_equal(sc.fleet.groups[0].topics->command.format, TOPIC_FORMAT_PLAIN);
	scenario_free(&sc);

	assert_error(FW_FLEET("{name: a, count: 2, topics: {status: \"x/{id}\"}}"),
		     "t.yaml:1:46: group 'a': topics: is for sketch: and device: groups; the "
		     "built-in robot publishes robofleet's contract (sensors/{id}/...)");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {readings: \"s/{id}/value\"}}"),
		     "t.yaml:1:69: readings: 's/{id}/value' has no {metric}: a plain reading is "
		     "one number, and its topic must say which metric it is (or use format: json)");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {status: \"s/x{id}\"}}"),
		     "t.yaml:1:67: status: level 2 'x{id}': a placeholder is a whole level, "
		     "e.g. sensors/{id}/{metric}");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {command: {topic: \"c/{idd}\", "
			      "format: xml}}}"),
		     "t.yaml:1:95: format: 'xml' is not one of plain, json");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {status: \"s/+/{id}\"}}"),
		     "t.yaml:1:67: status: level 2 '+': the wildcards + and # have no place in a "
		     "template");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {readings: []}}"),
		     "t.yaml:1:69: readings: 0 templates; give 1 to 4");
	/* Templates that cannot tell devices apart. */
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {status: s/status}}"),
		     "t.yaml:1:58: group 'a': status topic 's/status' names neither {id} nor "
		     "{room}, so the record could not tell its 2 devices apart");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {status: \"s/{room}\"}}"),
		     "t.yaml:1:58: group 'a': status topic 's/{room}' has {room}, but the group "
		     "has no rooms: (e.g. rooms: \"room_{:02}\")");
	/* Rooms. */
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, rooms: [x]}"),
		     "t.yaml:1:57: rooms: 1 names for the group's 2 devices: give one per "
		     "device, or a pattern such as \"room_{:02}\"");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, rooms: kitchen}"),
		     "t.yaml:1:57: group 'a': rooms pattern 'kitchen' has no {}, so its 2 "
		     "devices would share one room; a room names exactly one device");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, rooms: [k, \"a b\"]}"),
		     "t.yaml:1:61: rooms: 'a b' is not 1-32 characters of A-Z a-z 0-9 _ -");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, rooms: [k, h]}, "
			      "{name: b, count: 1, device: sh, rooms: [k]}"),
		     "t.yaml:1:105: group 'b': room 'k' is given to both a_001 and b_001: a room "
		     "names exactly one device, so that a message on its topic is that device's");
	assert_error(FW_FLEET("{name: a, count: 1, device: sh, rooms: [b_001]}, "
			      "{name: b, count: 1}"),
		     "t.yaml:1:57: group 'a': room 'b_001' of a_001 is also a device id: a topic "
		     "naming it could be either device's");
	/* Templates that could claim one topic. */
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {status: \"sensors/{id}/temperature\"}}"),
		     "t.yaml:1:58: group 'a': status topic 'sensors/{id}/temperature' and its readings "
		     "topic 'sensors/{id}/{metric}' could be the same topic, and the record could "
		     "not tell which it is: change one of them");
	assert_error(FW_FLEET("{name: a, count: 1, device: sh, topics: {readings: \"home/{metric}\"}}, "
			      "{name: b, count: 1, device: sh, topics: {readings: \"home/{metric}\"}}"),
		     "t.yaml:1:128: group 'b': readings topic 'home/{metric}' and group 'a''s "
		     "readings topic 'home/{metric}' could be the same topic, and the record "
		     "could not tell whose it is: change one of them");
	assert_error(FW_FLEET("{name: a, count: 2, device: sh, topics: {readings: [\"s/{id}/{metric}\", "
			      "\"s/{id}/{metric}\"]}}"),
		     "t.yaml:1:58: group 'a': readings topic 's/{id}/{metric}' is given twice");
	/* The same layout by {id} in two groups is one layout. */
	assert_parses(FW_FLEET("{name: a, count: 2, device: sh, topics: {readings: \"h/{id}/{metric}\"}}, "
			       "{name: b, count: 2, device: sh, topics: {readings: \"h/{id}/{metric}\"}}"),
		      &sc);
	scenario_free(&sc);
}

static void test_scenario_parse_network(void **state)
{
	struct scenario sc;
	const struct scenario_network *n;
	char text[4096];
	size_t o;

	(void)state;
	assert_parses("fleet:\n"
		      "  network:\n"
		      "    wifi: {ssid: YOUR_WIFI_SSID, password: YOUR_WIFI_PASSWORD}\n"
		      "    dns:\n"
		      "      broker.hivemq.com: broker\n"
		      "      gone.example.com: nxdomain\n"
		      "      api.example.com: 127.0.0.1:8080\n"
		      "      v6.example.com: \"[::1]:9000\"\n"
		      "      192.168.1.10: broker\n"
		      "    dns_default: nxdomain\n"
		      "  groups: [{name: a, count: 1}]\n"
		      "steps: [{wait: 1s}]\n", &sc);
	n = &sc.fleet.network;
	assert_int_equal(n->pos.line, 3);
	assert_true(n->wifi_set);
	assert_string_equal(n->ssid, "YOUR_WIFI_SSID");
	assert_string_equal(n->password, "YOUR_WIFI_PASSWORD");
	assert_int_equal(n->n_dns, 5);
	assert_string_equal(n->dns[0], "broker.hivemq.com=broker");
	assert_string_equal(n->dns[1], "gone.example.com=nxdomain");
	assert_string_equal(n->dns[2], "api.example.com=127.0.0.1:8080");
	assert_string_equal(n->dns[3], "v6.example.com=[::1]:9000");
	assert_string_equal(n->dns[4], "192.168.1.10=broker");
	assert_true(n->dns_default_set);
	assert_int_equal(n->dns_default, SCENARIO_DNS_NXDOMAIN);
	scenario_free(&sc);

	/* Absent: nothing set, and the device's defaults apply. */
	assert_parses(FLEET "  - wait: 1s\n", &sc);
	n = &sc.fleet.network;
	assert_int_equal(n->pos.line, 0);
	assert_false(n->wifi_set);
	assert_int_equal(n->n_dns, 0);
	assert_false(n->dns_default_set);
	scenario_free(&sc);

	/* An open network: no password. */
	assert_parses("fleet: {network: {wifi: {ssid: open-lab}, dns_default: broker}, "
		      "groups: [{name: a, count: 1}]}\nsteps: [{wait: 1s}]\n", &sc);
	assert_true(sc.fleet.network.wifi_set);
	assert_string_equal(sc.fleet.network.password, "");
	assert_int_equal(sc.fleet.network.dns_default, SCENARIO_DNS_BROKER);
	scenario_free(&sc);

#define NET(x) "fleet:\n  groups: [{name: a, count: 1}]\n  network: " x "\nsteps: [{wait: 1s}]\n"
	assert_error(NET("{colour: red}"),
		     "t.yaml:3:13: unknown key 'colour' in network: allowed keys are wifi, dns, "
		     "dns_default");
	assert_error(NET("{wifi: {password: x}}"),
		     "t.yaml:3:19: wifi needs ssid:, e.g. {ssid: lab, password: secret}");
	assert_error(NET("{wifi: {ssid: \"\"}}"),
		     "t.yaml:3:26: ssid: '' is not 1-32 bytes");
	assert_error(NET("{wifi: {ssid: 123456789012345678901234567890123}}"),
		     "t.yaml:3:26: ssid: '123456789012345678901234567890123' is not 1-32 bytes");
	assert_error(NET("{wifi: {ssid: a, password: "
			 "1234567890123456789012345678901234567890123456789012345678901234}}"),
		     "t.yaml:3:39: password: longer than 63 characters (\"\": an open network)");
	assert_error(NET("{wifi: {ssid: a, pasword: x}}"),
		     "t.yaml:3:29: unknown key 'pasword' in wifi (did you mean 'password'?): "
		     "allowed keys are ssid, password");
	assert_error(NET("{dns: [a, b]}"),
		     "t.yaml:3:18: dns: expected a mapping such as {broker.hivemq.com: broker}, "
		     "got a list");
	assert_error(NET("{dns: {\"bad name\": broker}}"),
		     "t.yaml:3:19: dns: 'bad name' is not a host name or an IP address");
	assert_error(NET("{dns: {\"a=b\": broker}}"),
		     "t.yaml:3:19: dns: 'a=b' is not a host name or an IP address");
	assert_error(NET("{dns: {a.example: \"host:0\"}}"),
		     "t.yaml:3:30: dns: 'host:0': the port must be 1-65535");
	assert_error(NET("{dns: {a.example: \"x y\"}}"),
		     "t.yaml:3:30: dns: 'x y' is not broker, nxdomain, HOST or HOST:PORT");
	assert_error(NET("{dns: {a.example: }}"),
		     "t.yaml:3:30: a.example: expected broker, nxdomain, HOST or HOST:PORT, got "
		     "nothing");
	assert_error("fleet:\n  groups: [{name: a, count: 1}]\n  network:\n    dns:\n"
		     "      a.example: [2001, db8]\nsteps: [{wait: 1s}]\n",
		     "t.yaml:5:18: dns: a.example: quote an IPv6 address: \"[::1]:1883\"");
	assert_error(NET("{dns: {a.example: broker, A.Example.: nxdomain}}"),
		     "t.yaml:3:38: dns: 'A.Example' is given twice");
	assert_error(NET("{dns_default: nxdomian}"),
		     "t.yaml:3:26: dns_default: 'nxdomian' is not one of broker, nxdomain "
		     "(did you mean 'nxdomain'?)");
	assert_error(NET("[]"),
		     "t.yaml:3:12: network: expected a mapping, got a list");
#undef NET

	/* 32 names fit, 33 do not. */
	o = (size_t)snprintf(text, sizeof(text), "fleet:\n  groups: [{name: a, count: 1}]\n"
			     "  network:\n    dns:\n");
	for (int i = 0; i < 32; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "      h%d.example: broker\n", i);
	snprintf(text + o, sizeof(text) - o, "steps: [{wait: 1s}]\n");
	assert_parses(text, &sc);
	assert_int_equal(sc.fleet.network.n_dns, 32);
	scenario_free(&sc);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "      one.more: broker\n");
	snprintf(text + o, sizeof(text) - o, "steps: [{wait: 1s}]\n");
	assert_error(text, "t.yaml:5:7: dns: 33 names; at most 32");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_parse_full_file),
		cmocka_unit_test(test_scenario_parse_defaults),
		cmocka_unit_test(test_scenario_parse_ramps),
		cmocka_unit_test(test_scenario_parse_repeat_nesting),
		cmocka_unit_test(test_scenario_parse_repeat_errors),
		cmocka_unit_test(test_scenario_parse_nesting_limit),
		cmocka_unit_test(test_scenario_parse_unknown_key),
		cmocka_unit_test(test_scenario_parse_wrong_type),
		cmocka_unit_test(test_scenario_parse_bad_duration),
		cmocka_unit_test(test_scenario_parse_durations),
		cmocka_unit_test(test_scenario_parse_negative_counts),
		cmocka_unit_test(test_scenario_parse_id_patterns),
		cmocka_unit_test(test_scenario_parse_targets),
		cmocka_unit_test(test_scenario_parse_expect_errors),
		cmocka_unit_test(test_scenario_parse_fault_options),
		cmocka_unit_test(test_scenario_parse_flash_faults),
		cmocka_unit_test(test_scenario_parse_security),
		cmocka_unit_test(test_scenario_parse_checks),
		cmocka_unit_test(test_scenario_parse_document_errors),
		cmocka_unit_test(test_scenario_parse_yaml_errors),
		cmocka_unit_test(test_scenario_parse_file),
		cmocka_unit_test(test_scenario_parse_limits),
		cmocka_unit_test(test_scenario_parse_firmware),
		cmocka_unit_test(test_scenario_parse_network),
		cmocka_unit_test(test_scenario_parse_topics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
