/* Unit tests of target selection: ids, globs, ranges, groups, seeded shares, lists, misses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"

/*
 * 37 devices, sorted: hall_01..hall_05, robot_001..robot_020, then the
 * unpadded y1, y10, y11, y12, y2 .. y9.
 */
static const char fleet_file[] =
	"seed: 7\n"
	"fleet:\n"
	"  groups:\n"
	"    - {name: lab, count: 20, id: \"robot_{:03}\"}\n"
	"    - {name: hall, count: 5, id: \"hall_{:02}\"}\n"
	"    - {name: yard, count: 12, id: \"y{}\"}\n"
	"steps:\n"
	"  - set: {target: \"share:25%\", temperature: 30}\n"
	"  - set: {target: \"share:25%\", temperature: 31}\n"
	"  - set: {target: [robot_001, \"group:hall\", \"robot_00[1-2]\"], humidity: 50}\n"
	"  - set: {target: [\"share:10%:group:lab\", \"share:10%:group:lab\"], distance: 5}\n";

#define N_DEVICES 37

static int setup(void **state)
{
	static struct scenario sc;
	struct scenario_error err;

	if (scenario_parse_string("select.yaml", fleet_file, strlen(fleet_file), &sc, &err)) {
		print_error("%s\n", err.message);
		return -1;
	}
	*state = &sc;
	return 0;
}

static int teardown(void **state)
{
	scenario_free(*state);
	return 0;
}

/* The ids @sel marks, comma separated, in fleet (sorted) order. */
static const char *ids(const struct scenario *sc, const bool *sel)
{
	static char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sc->fleet.n_devices; i++)
		if (sel[i])
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "",
					      sc->fleet.devices[i].id);
	return buf;
}

/* Parse @text as a target and select with @seed; returns the count. */
static size_t pick(struct scenario *sc, const char *text, uint64_t seed, bool *sel)
{
	struct scenario_target t;
	struct scenario_error err;
	size_t count = 12345;

	if (scenario_target_parse(sc, text, &t, &err) != 0)
		fail_msg("'%s': %s", text, err.message);
	assert_int_equal(scenario_select(sc, &t, seed, sel, &count), 0);
	return count;
}

static void assert_pick(struct scenario *sc, const char *text, const char *want)
{
	bool sel[N_DEVICES];
	size_t count = pick(sc, text, 1, sel), n = 1;

	assert_string_equal(ids(sc, sel), want);
	for (const char *p = want; *p; p++)
		n += *p == ',';
	assert_int_equal(count, *want ? n : 0);
}

static void assert_miss(struct scenario *sc, const char *text, const char *message)
{
	struct scenario_target t;
	struct scenario_error err;

	assert_int_equal(scenario_target_parse(sc, text, &t, &err), -EINVAL);
	assert_string_equal(err.message, message);
	assert_int_equal(err.pos.line, 0);
}

static void test_scenario_select_fleet_order(void **state)
{
	struct scenario *sc = *state;

	assert_int_equal(sc->fleet.n_devices, N_DEVICES);
	assert_string_equal(sc->fleet.devices[0].id, "hall_01");
	assert_int_equal(sc->fleet.devices[0].group, 1);
	assert_string_equal(sc->fleet.devices[5].id, "robot_001");
	assert_int_equal(sc->fleet.devices[5].group, 0);
	assert_string_equal(sc->fleet.devices[25].id, "y1");
	assert_string_equal(sc->fleet.devices[26].id, "y10");
	assert_int_equal(sc->fleet.devices[26].number, 10);
	assert_int_equal(sc->fleet.devices[26].group, 2);
	assert_string_equal(sc->fleet.devices[36].id, "y9");
}

static void test_scenario_select_all_and_id(void **state)
{
	struct scenario *sc = *state;
	bool sel[N_DEVICES];

	assert_int_equal(pick(sc, "all", 1, sel), N_DEVICES);
	assert_pick(sc, "robot_007", "robot_007");
	assert_pick(sc, "y10", "y10");
	assert_int_equal(scenario_device_find(sc, "robot_007"), 11);
}

static void test_scenario_select_glob(void **state)
{
	struct scenario *sc = *state;

	assert_pick(sc, "robot_00[1-5]", "robot_001,robot_002,robot_003,robot_004,robot_005");
	assert_pick(sc, "*_0?", "hall_01,hall_02,hall_03,hall_04,hall_05");
	assert_pick(sc, "y?", "y1,y2,y3,y4,y5,y6,y7,y8,y9");
	assert_pick(sc, "*1[0-9]", "robot_010,robot_011,robot_012,robot_013,robot_014,"
		    "robot_015,robot_016,robot_017,robot_018,robot_019,y10,y11,y12");
	assert_pick(sc, "[!r]*_05", "hall_05");
}

static void test_scenario_select_range(void **state)
{
	struct scenario *sc = *state;

	assert_pick(sc, "robot_005..robot_008", "robot_005,robot_006,robot_007,robot_008");
	assert_pick(sc, "hall_04..hall_09", "hall_04,hall_05");
	assert_pick(sc, "robot_020..robot_020", "robot_020");
	/* Unpadded bounds of different widths: numbers, not strings. */
	assert_pick(sc, "y8..y11", "y10,y11,y8,y9");
	/* Bounds of the same width match ids of that width only. */
	assert_pick(sc, "y1..y9", "y1,y2,y3,y4,y5,y6,y7,y8,y9");
	assert_miss(sc, "robot_5..robot_8",
		    "target 'robot_5..robot_8' matches no device; the fleet has lab: "
		    "robot_001..robot_020, hall: hall_01..hall_05, yard: y1..y12");
}

static void test_scenario_select_group(void **state)
{
	struct scenario *sc = *state;
	bool sel[N_DEVICES];

	assert_pick(sc, "group:hall", "hall_01,hall_02,hall_03,hall_04,hall_05");
	assert_int_equal(pick(sc, "group:lab", 1, sel), 20);
	assert_int_equal(pick(sc, "group:yard", 1, sel), 12);
	for (size_t i = 0; i < N_DEVICES; i++)
		assert_int_equal(sel[i], sc->fleet.devices[i].group == 2);
}

static void test_scenario_select_share_counts(void **state)
{
	static const struct {
		const char *target;
		size_t count;
	} cases[] = {
		{ "share:25%", 9 },           /* 9.25 */
		{ "share:50%", 19 },          /* 18.5 rounds up */
		{ "share:1%", 1 },            /* 0.37, but never none */
		{ "share:100%", N_DEVICES },
		{ "share:2.5%", 1 },          /* 0.925 */
		{ "share:10%:group:hall", 1 }, /* 0.5 */
		{ "share:50%:group:hall", 3 }, /* 2.5 */
		{ "share:30%:group:lab", 6 },
		{ "share:50%:robot_00[1-4]", 2 },
		{ "share:50%:all", 19 },
	};
	struct scenario *sc = *state;
	bool sel[N_DEVICES];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (uint64_t seed = 0; seed < 20; seed++) {
			size_t n = pick(sc, cases[i].target, seed, sel);

			if (n != cases[i].count)
				fail_msg("%s, seed %llu: %zu devices, want %zu", cases[i].target,
					 (unsigned long long)seed, n, cases[i].count);
		}
	}
	/* A share of a group stays inside the group. */
	pick(sc, "share:50%:group:lab", 99, sel);
	for (size_t i = 0; i < N_DEVICES; i++)
		if (sel[i])
			assert_int_equal(sc->fleet.devices[i].group, 0);
}

static void test_scenario_select_share_deterministic(void **state)
{
	struct scenario *sc = *state;
	struct scenario_target t;
	struct scenario_error err;
	bool a[N_DEVICES], b[N_DEVICES];
	char first[1024];

	assert_int_equal(scenario_target_parse(sc, "share:25%", &t, &err), 0);
	assert_int_equal(scenario_select(sc, &t, 42, a, NULL), 0);
	snprintf(first, sizeof(first), "%s", ids(sc, a));
	/* Pinned: a scenario replays the same devices from one release to
	 * the next, so a change here breaks recorded runs. */
	assert_string_equal(first, "hall_04,hall_05,robot_014,robot_017,robot_018,y1,y12,"
			    "y2,y3");
	assert_int_equal(scenario_select(sc, &t, 42, b, NULL), 0);
	assert_memory_equal(a, b, sizeof(a));

	/* Another seed, another pick of the same size. */
	assert_int_equal(scenario_select(sc, &t, 43, b, NULL), 0);
	assert_string_not_equal(ids(sc, b), first);

	/* Another step, another pick, with the same seed. */
	t.step_index = 1;
	assert_int_equal(scenario_select(sc, &t, 42, b, NULL), 0);
	assert_string_not_equal(ids(sc, b), first);
}

static void test_scenario_select_share_spread(void **state)
{
	struct scenario *sc = *state;
	struct scenario_target t;
	struct scenario_error err;
	unsigned hits[N_DEVICES] = { 0 };
	bool sel[N_DEVICES];

	/* Over many seeds every device of the group is picked about as often:
	 * 1000 draws of 5 of 20 give each 250 expected, sd about 14. */
	assert_int_equal(scenario_target_parse(sc, "share:25%:group:lab", &t, &err), 0);
	for (uint64_t seed = 0; seed < 1000; seed++) {
		assert_int_equal(scenario_select(sc, &t, seed, sel, NULL), 0);
		for (size_t i = 0; i < N_DEVICES; i++)
			hits[i] += sel[i];
	}
	for (size_t i = 0; i < N_DEVICES; i++) {
		if (sc->fleet.devices[i].group != 0) {
			assert_int_equal(hits[i], 0);
			continue;
		}
		if (hits[i] < 180 || hits[i] > 320)
			fail_msg("%s picked %u times of 1000", sc->fleet.devices[i].id, hits[i]);
	}
}

static void test_scenario_select_steps(void **state)
{
	struct scenario *sc = *state;
	const struct scenario_target *t0 = &sc->steps[0].set.target;
	const struct scenario_target *t1 = &sc->steps[1].set.target;
	const struct scenario_target *list = &sc->steps[2].set.target;
	const struct scenario_target *twice = &sc->steps[3].set.target;
	bool a[N_DEVICES], b[N_DEVICES];
	char first[1024];
	size_t count;

	/* The same share text in two steps picks differently. */
	assert_int_equal(t0->step_index, 0);
	assert_int_equal(t1->step_index, 1);
	assert_int_equal(scenario_select(sc, t0, sc->seed, a, &count), 0);
	assert_int_equal(count, 9);
	snprintf(first, sizeof(first), "%s", ids(sc, a));
	assert_int_equal(scenario_select(sc, t1, sc->seed, b, &count), 0);
	assert_int_equal(count, 9);
	assert_string_not_equal(ids(sc, b), first);

	/* A list is the union of its items. */
	assert_int_equal(list->kind, SCENARIO_TARGET_LIST);
	assert_int_equal(list->list.n, 3);
	assert_int_equal(scenario_select(sc, list, sc->seed, a, &count), 0);
	assert_int_equal(count, 7);
	assert_string_equal(ids(sc, a), "hall_01,hall_02,hall_03,hall_04,hall_05,robot_001,"
			    "robot_002");

	/* The same share twice in one step is the same pick: union of one. */
	assert_int_equal(scenario_select(sc, twice, sc->seed, a, &count), 0);
	assert_int_equal(count, 2);
}

static void test_scenario_select_no_match(void **state)
{
	struct scenario *sc = *state;
	static const char fleet[] = "the fleet has lab: robot_001..robot_020, hall: "
				    "hall_01..hall_05, yard: y1..y12";
	char want[512];

	snprintf(want, sizeof(want), "target 'robot_099' matches no device; %s", fleet);
	assert_miss(sc, "robot_099", want);
	snprintf(want, sizeof(want), "target 'z*' matches no device; %s", fleet);
	assert_miss(sc, "z*", want);
	snprintf(want, sizeof(want), "target 'robot_021..robot_030' matches no device; %s", fleet);
	assert_miss(sc, "robot_021..robot_030", want);
	snprintf(want, sizeof(want), "target 'robot_0[3-9]?' matches no device; %s", fleet);
	assert_miss(sc, "robot_0[3-9]?", want);
	assert_miss(sc, "group:roof", "target 'group:roof' names no group: the groups are lab, "
		    "hall, yard");
	assert_miss(sc, "share:10%:nobody",
		    "target 'nobody' matches no device; the fleet has lab: robot_001..robot_020, "
		    "hall: hall_01..hall_05, yard: y1..y12");
	assert_miss(sc, "share:101%", "share 'share:101%': the share must be above 0% and at "
		    "most 100%");
	assert_miss(sc, "share:-5%", "share 'share:-5%': the share must be above 0% and at most "
		    "100%");
	assert_miss(sc, "share:%", "share 'share:%': write share:25% or share:25%:group:lab");
	assert_miss(sc, "share:5%:", "share 'share:5%:': write share:25% or share:25%:group:lab");
	assert_miss(sc, "robot 1", "target 'robot 1' is not a device id, glob, range, group:NAME, "
		    "share:N% or all");
	assert_miss(sc, "a..b..c", "range 'a..b..c': write two ids with the same prefix and a "
		    "number, e.g. robot_001..robot_020");
	assert_miss(sc, "", "empty target: write all, an id, a glob, a range, group:NAME or "
		    "share:N%");
}

static void test_scenario_select_bad_args(void **state)
{
	struct scenario *sc = *state;
	struct scenario_target t;
	bool sel[N_DEVICES];

	assert_int_equal(scenario_target_parse(sc, "all", &t, NULL), 0);
	assert_int_equal(scenario_select(NULL, &t, 1, sel, NULL), -EINVAL);
	assert_int_equal(scenario_select(sc, NULL, 1, sel, NULL), -EINVAL);
	assert_int_equal(scenario_select(sc, &t, 1, NULL, NULL), -EINVAL);
	assert_int_equal(scenario_target_parse(sc, NULL, &t, NULL), -EINVAL);
	assert_int_equal(scenario_target_parse(NULL, "all", &t, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_select_fleet_order),
		cmocka_unit_test(test_scenario_select_all_and_id),
		cmocka_unit_test(test_scenario_select_glob),
		cmocka_unit_test(test_scenario_select_range),
		cmocka_unit_test(test_scenario_select_group),
		cmocka_unit_test(test_scenario_select_share_counts),
		cmocka_unit_test(test_scenario_select_share_deterministic),
		cmocka_unit_test(test_scenario_select_share_spread),
		cmocka_unit_test(test_scenario_select_steps),
		cmocka_unit_test(test_scenario_select_no_match),
		cmocka_unit_test(test_scenario_select_bad_args),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
