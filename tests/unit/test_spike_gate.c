/* Unit tests of the spike gate in front of the DHT22 median. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spike_gate.h"

static void test_spike_gate_accepts_near_and_unreferenced_samples(void **state)
{
	struct spike_gate g;

	(void)state;
	spike_gate_init(&g, 50);
	assert_int_equal(spike_gate_judge(&g, false, 0, 900), SPIKE_ACCEPT);
	assert_int_equal(spike_gate_judge(&g, true, 225, 275), SPIKE_ACCEPT);
	assert_int_equal(spike_gate_judge(&g, true, 225, 175), SPIKE_ACCEPT);
}

static void test_spike_gate_rejects_a_burst_of_spikes(void **state)
{
	struct spike_gate g;

	(void)state;
	spike_gate_init(&g, 50);
	/* Three equal spikes in a row are still spikes... */
	for (int i = 0; i < SPIKE_GATE_CONFIRM - 1; i++)
		assert_int_equal(spike_gate_judge(&g, true, 225, 525), SPIKE_REJECT);
	/* ...and a good sample in between starts the count again. */
	assert_int_equal(spike_gate_judge(&g, true, 225, 226), SPIKE_ACCEPT);
	assert_int_equal(spike_gate_judge(&g, true, 225, 525), SPIKE_REJECT);
	/* Spikes that disagree with each other never add up. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(spike_gate_judge(&g, true, 225, i % 2 ? 525 : -75), SPIKE_REJECT);
}

static void test_spike_gate_follows_a_confirmed_step(void **state)
{
	struct spike_gate g;

	(void)state;
	spike_gate_init(&g, 50);
	for (int i = 0; i < SPIKE_GATE_CONFIRM - 1; i++)
		assert_int_equal(spike_gate_judge(&g, true, 225, 300 + i), SPIKE_REJECT);
	assert_int_equal(spike_gate_judge(&g, true, 225, 303), SPIKE_STEP);
	/* Once the filter restarts at the new level, samples there are near. */
	assert_int_equal(spike_gate_judge(&g, true, 303, 301), SPIKE_ACCEPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spike_gate_accepts_near_and_unreferenced_samples),
		cmocka_unit_test(test_spike_gate_rejects_a_burst_of_spikes),
		cmocka_unit_test(test_spike_gate_follows_a_confirmed_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
