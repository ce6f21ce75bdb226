/* Scenario faults into a robot's world fault set and back out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fault_apply.h"

static struct scenario_fault fault(enum scenario_fault_kind k)
{
	struct scenario_fault f;

	memset(&f, 0, sizeof(f));
	f.kind = k;
	f.probability = 1.0;
	return f;
}

static void test_fault_apply_sets_the_fields_of_each_kind(void **state)
{
	struct world_faults wf;
	struct scenario_fault f = fault(SCENARIO_FAULT_WIFI_FLAP);

	(void)state;
	memset(&wf, 0, sizeof(wf));
	f.period_ms = 10000;
	f.duty = 0.3;
	fault_apply(&wf, &f, 42, 5000);
	assert_int_equal(wf.link_mode, WORLD_LINK_FLAP);
	assert_int_equal(wf.flap_period_ms, 10000);
	assert_int_equal(wf.flap_down_ms, 3000);
	assert_int_equal(wf.link_since_ms, 5000);
	assert_int_equal(wf.seed, 42);

	f = fault(SCENARIO_FAULT_DHT_SPIKES);
	f.probability = 0.25;
	f.size = 15;
	fault_apply(&wf, &f, 43, 6000);
	assert_int_equal(wf.dht_spike_ppm, 250000);
	assert_int_equal(wf.dht_spike_dc, 150);

	f = fault(SCENARIO_FAULT_DHT_DRIFT);
	f.per_hour = -2.5;
	fault_apply(&wf, &f, 44, 7000);
	assert_int_equal(wf.dht_drift_dc_per_h, -25);
	assert_int_equal(wf.dht_since_ms, 7000);

	f = fault(SCENARIO_FAULT_WIFI_WEAK);
	f.loss = 0.1;
	f.latency_ms = 300;
	f.rssi_dbm = -88;
	fault_apply(&wf, &f, 45, 7000);
	assert_int_equal(wf.weak_loss_ppm, 100000);
	assert_int_equal(wf.weak_latency_ms, 300);
	assert_int_equal(wf.weak_rssi_dbm, -88);

	f = fault(SCENARIO_FAULT_SONAR_NOISE);
	f.amplitude_cm = 2.5;
	fault_apply(&wf, &f, 46, 7000);
	assert_int_equal(wf.sonar_noise_mm, 25);
	/* Everything set so far is active at once. */
	assert_true(fault_active(&wf, SCENARIO_FAULT_WIFI_FLAP));
	assert_true(fault_active(&wf, SCENARIO_FAULT_DHT_SPIKES));
	assert_true(fault_active(&wf, SCENARIO_FAULT_DHT_DRIFT));
	assert_true(fault_active(&wf, SCENARIO_FAULT_WIFI_WEAK));
	assert_true(fault_active(&wf, SCENARIO_FAULT_SONAR_NOISE));
	assert_false(fault_active(&wf, SCENARIO_FAULT_WIFI_DROP));
}

static void test_fault_apply_modes_replace_each_other(void **state)
{
	struct world_faults wf;
	struct scenario_fault f = fault(SCENARIO_FAULT_DHT_NO_RESPONSE);

	(void)state;
	memset(&wf, 0, sizeof(wf));
	fault_apply(&wf, &f, 1, 0);
	f = fault(SCENARIO_FAULT_DHT_STUCK);
	fault_apply(&wf, &f, 2, 0);
	assert_int_equal(wf.dht_mode, WORLD_DHT_STUCK);
	assert_false(fault_active(&wf, SCENARIO_FAULT_DHT_NO_RESPONSE));
	/* Clearing the replaced kind leaves the one in force alone. */
	fault_clear(&wf, true, SCENARIO_FAULT_DHT_NO_RESPONSE);
	assert_int_equal(wf.dht_mode, WORLD_DHT_STUCK);
	fault_clear(&wf, true, SCENARIO_FAULT_DHT_STUCK);
	assert_int_equal(wf.dht_mode, WORLD_DHT_OK);
}

static void test_fault_apply_clear_all_leaves_a_healthy_robot(void **state)
{
	struct world_faults wf, healthy;
	struct scenario_fault f;
	uint32_t gen;

	(void)state;
	memset(&wf, 0, sizeof(wf));
	for (int k = 0; k < SCENARIO_FAULT_COUNT; k++) {
		f = fault((enum scenario_fault_kind)k);
		f.period_ms = 1000;
		f.duty = 0.5;
		f.attempts = 3;
		f.loss = 0.5;
		f.size = 10;
		f.per_hour = 1;
		f.amplitude_cm = 1;
		fault_apply(&wf, &f, 9, 100);
	}
	gen = wf.assoc_fail_gen;
	assert_int_equal(wf.assoc_fail_count, 3);
	fault_clear(&wf, false, 0);
	for (int k = 0; k < SCENARIO_FAULT_COUNT; k++)
		assert_false(fault_active(&wf, (enum scenario_fault_kind)k));
	/* The association failures end with a new generation: the device
	 * must notice the change even though the count is zero. */
	assert_int_equal(wf.assoc_fail_gen, gen + 1);
	memset(&healthy, 0, sizeof(healthy));
	healthy.seed = wf.seed;
	healthy.assoc_fail_gen = wf.assoc_fail_gen;
	healthy.link_since_ms = wf.link_since_ms;
	assert_memory_equal(&wf, &healthy, sizeof(wf));
}

/* The flash kinds: their fields, that they combine, and that each clears alone. */
static void test_fault_apply_flash_kinds(void **state)
{
	struct world_faults wf, healthy;
	struct scenario_fault f = fault(SCENARIO_FAULT_FLASH_WRITE_FAIL);
	char buf[128];

	(void)state;
	memset(&wf, 0, sizeof(wf));
	memset(&healthy, 0, sizeof(healthy));
	/* A healthy robot has none of them, whatever its sonar does. */
	for (int k = SCENARIO_FAULT_FLASH_WRITE_FAIL; k <= SCENARIO_FAULT_FLASH_CORRUPT; k++)
		assert_false(fault_active(&wf, (enum scenario_fault_kind)k));

	f.probability = 0.25;
	f.for_ms = 30000;
	fault_apply(&wf, &f, 7, 100);
	assert_int_equal(wf.flash_fail_ppm, 250000);
	assert_int_equal(wf.seed, 7);
	assert_string_equal(fault_describe(&f, buf, sizeof(buf)), "probability=0.250 for=30000ms");
	f = fault(SCENARIO_FAULT_FLASH_FULL);
	fault_apply(&wf, &f, 8, 200);
	assert_int_equal(wf.flash_full, 1);
	assert_string_equal(fault_describe(&f, buf, sizeof(buf)), "");
	f = fault(SCENARIO_FAULT_FLASH_CORRUPT);
	f.for_ms = 5000;
	fault_apply(&wf, &f, 9, 300);
	assert_int_equal(wf.flash_corrupt, 1);
	assert_string_equal(fault_describe(&f, buf, sizeof(buf)), "for=5000ms");
	assert_true(fault_active(&wf, SCENARIO_FAULT_FLASH_WRITE_FAIL));
	assert_true(fault_active(&wf, SCENARIO_FAULT_FLASH_FULL));
	assert_true(fault_active(&wf, SCENARIO_FAULT_FLASH_CORRUPT));
	/* Nothing else broke: the sensor and link kinds stay inactive. */
	for (int k = 0; k < SCENARIO_FAULT_FLASH_WRITE_FAIL; k++)
		assert_false(fault_active(&wf, (enum scenario_fault_kind)k));

	fault_clear(&wf, true, SCENARIO_FAULT_FLASH_FULL);
	assert_int_equal(wf.flash_full, 0);
	assert_int_equal(wf.flash_fail_ppm, 250000);
	assert_int_equal(wf.flash_corrupt, 1);
	fault_clear(&wf, true, SCENARIO_FAULT_FLASH_WRITE_FAIL);
	assert_int_equal(wf.flash_fail_ppm, 0);
	fault_clear(&wf, true, SCENARIO_FAULT_FLASH_CORRUPT);
	healthy.seed = wf.seed;
	assert_memory_equal(&wf, &healthy, sizeof(wf));

	/* Clearing sonar kinds leaves the flash alone, and the other way round. */
	f = fault(SCENARIO_FAULT_FLASH_FULL);
	fault_apply(&wf, &f, 10, 0);
	f = fault(SCENARIO_FAULT_SONAR_SILENT);
	fault_apply(&wf, &f, 11, 0);
	fault_clear(&wf, true, SCENARIO_FAULT_SONAR_SILENT);
	assert_int_equal(wf.flash_full, 1);
	fault_clear(&wf, true, SCENARIO_FAULT_FLASH_FULL);
	fault_apply(&wf, &f, 12, 0);
	assert_int_equal(wf.sonar_mode, WORLD_SONAR_SILENT);
}

/* Every kind has its layer, said kind by kind. */
static void test_fault_apply_layers(void **state)
{
	static const struct {
		enum scenario_fault_kind kind;
		enum scenario_fault_layer layer;
	} want[] = {
		{ SCENARIO_FAULT_WIFI_DROP, SCENARIO_LAYER_LINK },
		{ SCENARIO_FAULT_WIFI_FLAP, SCENARIO_LAYER_LINK },
		{ SCENARIO_FAULT_WIFI_ASSOC_FAIL, SCENARIO_LAYER_LINK },
		{ SCENARIO_FAULT_WIFI_WEAK, SCENARIO_LAYER_LINK },
		{ SCENARIO_FAULT_DHT_NO_RESPONSE, SCENARIO_LAYER_DHT },
		{ SCENARIO_FAULT_DHT_CHECKSUM, SCENARIO_LAYER_DHT },
		{ SCENARIO_FAULT_DHT_STUCK, SCENARIO_LAYER_DHT },
		{ SCENARIO_FAULT_DHT_SPIKES, SCENARIO_LAYER_DHT },
		{ SCENARIO_FAULT_DHT_DRIFT, SCENARIO_LAYER_DHT },
		{ SCENARIO_FAULT_DHT_STRETCHED, SCENARIO_LAYER_DHT },
		{ SCENARIO_FAULT_DHT_TRUNCATED, SCENARIO_LAYER_DHT },
		{ SCENARIO_FAULT_SONAR_NO_ECHO, SCENARIO_LAYER_SONAR },
		{ SCENARIO_FAULT_SONAR_NOISE, SCENARIO_LAYER_SONAR },
		{ SCENARIO_FAULT_SONAR_STUCK, SCENARIO_LAYER_SONAR },
		{ SCENARIO_FAULT_SONAR_BEYOND_RANGE, SCENARIO_LAYER_SONAR },
		{ SCENARIO_FAULT_SONAR_STUCK_HIGH, SCENARIO_LAYER_SONAR },
		{ SCENARIO_FAULT_SONAR_SILENT, SCENARIO_LAYER_SONAR },
		{ SCENARIO_FAULT_FLASH_WRITE_FAIL, SCENARIO_LAYER_STORAGE },
		{ SCENARIO_FAULT_FLASH_FULL, SCENARIO_LAYER_STORAGE },
		{ SCENARIO_FAULT_FLASH_CORRUPT, SCENARIO_LAYER_STORAGE },
		{ SCENARIO_FAULT_CERT_EXPIRED, SCENARIO_LAYER_SECURITY },
		{ SCENARIO_FAULT_CERT_FOREIGN_CA, SCENARIO_LAYER_SECURITY },
		{ SCENARIO_FAULT_WRONG_PASSWORD, SCENARIO_LAYER_SECURITY },
		{ SCENARIO_FAULT_IMPERSONATE, SCENARIO_LAYER_SECURITY },
		{ SCENARIO_FAULT_INGEST_ERROR, SCENARIO_LAYER_SERVER },
		{ SCENARIO_FAULT_INGEST_SLOW, SCENARIO_LAYER_SERVER },
		{ SCENARIO_FAULT_INGEST_REFUSE, SCENARIO_LAYER_SERVER },
		{ SCENARIO_FAULT_INGEST_RESET, SCENARIO_LAYER_SERVER },
	};

	(void)state;
	/* A kind added to the enum must be added here too. */
	assert_int_equal(sizeof(want) / sizeof(want[0]), SCENARIO_FAULT_COUNT);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(scenario_fault_layer(want[i].kind), want[i].layer);
	assert_string_equal(scenario_fault_kind_name(SCENARIO_FAULT_FLASH_WRITE_FAIL),
			    "flash_write_fail");
	assert_string_equal(scenario_fault_kind_name(SCENARIO_FAULT_FLASH_FULL), "flash_full");
	assert_string_equal(scenario_fault_kind_name(SCENARIO_FAULT_FLASH_CORRUPT), "flash_corrupt");
}

static void test_fault_apply_describe_and_seed(void **state)
{
	char buf[128];
	struct scenario_fault f = fault(SCENARIO_FAULT_WIFI_FLAP);

	(void)state;
	f.period_ms = 10000;
	f.duty = 0.3;
	f.for_ms = 60000;
	assert_string_equal(fault_describe(&f, buf, sizeof(buf)),
			    "period=10000ms duty=0.30 for=60000ms");
	f = fault(SCENARIO_FAULT_WIFI_DROP);
	assert_string_equal(fault_describe(&f, buf, sizeof(buf)), "");
	/* Seeds: a pure function of (run seed, device, nth), all different. */
	assert_true(fault_seed(1, 0, 0) == fault_seed(1, 0, 0));
	assert_true(fault_seed(1, 0, 0) != fault_seed(2, 0, 0));
	assert_true(fault_seed(1, 0, 0) != fault_seed(1, 1, 0));
	assert_true(fault_seed(1, 0, 0) != fault_seed(1, 0, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_apply_sets_the_fields_of_each_kind),
		cmocka_unit_test(test_fault_apply_modes_replace_each_other),
		cmocka_unit_test(test_fault_apply_clear_all_leaves_a_healthy_robot),
		cmocka_unit_test(test_fault_apply_flash_kinds),
		cmocka_unit_test(test_fault_apply_layers),
		cmocka_unit_test(test_fault_apply_describe_and_seed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
