/* The run directory's size estimate and the timeline's longest length, from parsed scenarios. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "disk_check.h"
#include "scenario.h"

static void parse(const char *text, struct scenario *sc)
{
	struct scenario_error err;

	assert_int_equal(scenario_parse_string("t.yaml", text, strlen(text), sc, &err), 0);
}

static void test_disk_check_longest_adds_waits_windows_and_repeats(void **state)
{
	struct scenario sc;

	(void)state;
	parse("fleet: {groups: [{name: a, count: 2}]}\n"
	      "steps:\n"
	      "  - wait: 10s\n"
	      "  - set: {target: all, temperature: {to: 30, over: 5m}}\n"
	      "  - expect: {target: all, status: online, within: 20s}\n"
	      "  - repeat:\n"
	      "      times: 3\n"
	      "      steps:\n"
	      "        - wait: 2s\n"
	      "        - expect: {target: all, lost: 0, within: 1s}\n",
	      &sc);
	/* The five-minute ramp runs in the background: it adds nothing. */
	assert_int_equal(scenario_longest_ms(&sc), 10000 + 20000 + 3 * 3000);
	scenario_free(&sc);
}

static void test_disk_check_duration_caps_the_timeline(void **state)
{
	struct scenario sc;

	(void)state;
	parse("duration: 30s\nfleet: {groups: [{name: a, count: 2}]}\nsteps:\n  - wait: 1h\n", &sc);
	assert_int_equal(scenario_longest_ms(&sc), 30000);
	scenario_free(&sc);
}

static void test_disk_check_estimate_counts_every_group(void **state)
{
	struct scenario sc;
	struct disk_estimate e;

	(void)state;
	parse("fleet:\n"
	      "  groups:\n"
	      "    - {name: fast, count: 50, interval: 200ms}\n"
	      "    - {name: slow, count: 10, interval: 10s}\n"
	      "steps:\n  - wait: 60s\n",
	      &sc);
	disk_estimate_run(&sc, &e);
	assert_int_equal(e.longest_ms, 60000);
	assert_int_equal(e.readings, 50 * 301 + 10 * 7);
	assert_int_equal(e.bytes, e.readings * DISK_BYTES_PER_READING + 60 * DISK_BYTES_PER_DEVICE +
				  DISK_BYTES_FIXED);
	/* The acceptance case: fifty robots at 200 ms for a minute do not fit 3 MB. */
	assert_true(e.bytes > 3u * 1024 * 1024);
	scenario_free(&sc);
}

static void test_disk_check_free_bytes_of_a_path_not_made_yet(void **state)
{
	uint64_t here = 0, deeper = 0;

	(void)state;
	assert_int_equal(disk_free_bytes("/tmp", &here), 0);
	assert_int_equal(disk_free_bytes("/tmp/robofleet-no-such-dir/runs", &deeper), 0);
	assert_true(here > 0);
	assert_true(deeper > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_check_longest_adds_waits_windows_and_repeats),
		cmocka_unit_test(test_disk_check_duration_caps_the_timeline),
		cmocka_unit_test(test_disk_check_estimate_counts_every_group),
		cmocka_unit_test(test_disk_check_free_bytes_of_a_path_not_made_yet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
