/* The real DHT22 and HC-SR04 drivers against the shim's pin-level sensor models. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dht22.h"
#include "hal_gpio.h"
#include "hal_time.h"
#include "hcsr04.h"
#include "shim.h"

#define DHT_PIN 4
#define TRIG_PIN 5
#define ECHO_PIN 6

static const struct dht22_config dht_cfg = { .pin = DHT_PIN };
static const struct hcsr04_config sonar_cfg = { .trig_pin = TRIG_PIN, .echo_pin = ECHO_PIN };

/* The models keep a pointer to the environment: it must outlive each case. */
static struct shim_env env;

static int setup(void **state)
{
	(void)state;
	shim_gpio_reset();
	env.temperature_c = 22.5;
	env.humidity_pct = 40.0;
	env.distance_cm = 120.0;
	env.noise = 0;
	if (shim_dht22_attach(DHT_PIN, &env, 1) < 0)
		return -1;
	if (shim_hcsr04_attach(TRIG_PIN, ECHO_PIN, &env, 2) < 0)
		return -1;
	return 0;
}

static void test_drivers_shim_dht22_read(void **state)
{
	struct climate_sample s = { 0, 0 };

	(void)state;
	assert_int_equal(dht22_read(&dht_cfg, &s), 0);
	assert_int_equal(s.temp_dc, 225);
	assert_int_equal(s.humidity_dpct, 400);
}

static void test_drivers_shim_dht22_capture_timings(void **state)
{
	struct dht22_capture cap;

	(void)state;
	assert_int_equal(dht22_capture(&dht_cfg, &cap), 0);
	assert_int_equal(cap.bits, DHT22_FRAME_BITS);
	/* The model's 80 us response halves, measured to a poll or two. */
	assert_in_range(cap.response_low_us, 78, 82);
	assert_in_range(cap.response_high_us, 78, 82);
	/* Every bit is a 27 us zero or a 70 us one. */
	for (unsigned int i = 0; i < DHT22_FRAME_BITS; i++) {
		uint16_t w = cap.high_us[i];
		if (!(w >= 25 && w <= 29) && !(w >= 68 && w <= 72))
			fail_msg("bit %u high for %u us", i, (unsigned)w);
	}
}

static void test_drivers_shim_dht22_negative_temperature(void **state)
{
	struct climate_sample s = { 0, 0 };

	(void)state;
	env.temperature_c = -12.3;
	env.humidity_pct = 87.6;
	assert_int_equal(dht22_read(&dht_cfg, &s), 0);
	assert_int_equal(s.temp_dc, -123);
	assert_int_equal(s.humidity_dpct, 876);

	env.temperature_c = -40.0;
	env.humidity_pct = 0.0;
	assert_int_equal(dht22_read(&dht_cfg, &s), 0);
	assert_int_equal(s.temp_dc, -400);
	assert_int_equal(s.humidity_dpct, 0);
}

static void test_drivers_shim_dht22_range_ends(void **state)
{
	struct climate_sample s = { 0, 0 };

	(void)state;
	env.temperature_c = 80.0;
	env.humidity_pct = 100.0;
	assert_int_equal(dht22_read(&dht_cfg, &s), 0);
	assert_int_equal(s.temp_dc, 800);
	assert_int_equal(s.humidity_dpct, 1000);
}

static void test_drivers_shim_dht22_repeated_reads(void **state)
{
	(void)state;
	/* No 2 s pause is modelled: back-to-back transactions all succeed. */
	for (int i = 0; i < 3; i++) {
		struct climate_sample s = { 0, 0 };

		env.temperature_c = 20.0 + i;
		assert_int_equal(dht22_read(&dht_cfg, &s), 0);
		assert_int_equal(s.temp_dc, 200 + 10 * i);
		assert_int_equal(s.humidity_dpct, 400);
	}
}

static void test_drivers_shim_dht22_virtual_time(void **state)
{
	struct climate_sample s;
	uint64_t before, spent;

	(void)state;
	/* A delay opens a bit-banging transaction: from here time is virtual. */
	hal_time_delay_us(0);
	before = hal_time_now_us();
	assert_int_equal(dht22_read(&dht_cfg, &s), 0);
	spent = hal_time_now_us() - before;
	/* 1.1 ms start + 30 us + 2 x 80 us response + 40 x (50 + 27..70) us. */
	assert_in_range(spent, 4300, 6500);
}

static void test_drivers_shim_dht22_no_response(void **state)
{
	struct climate_sample s = { 7, 7 };

	(void)state;
	shim_dht22_set_fault(SHIM_DHT_NO_RESPONSE);
	assert_int_equal(dht22_read(&dht_cfg, &s), -ETIMEDOUT);
	assert_int_equal(s.temp_dc, 7);
	assert_int_equal(s.humidity_dpct, 7);
}

static void test_drivers_shim_dht22_checksum(void **state)
{
	struct climate_sample s = { 7, 7 };

	(void)state;
	shim_dht22_set_fault(SHIM_DHT_CHECKSUM);
	assert_int_equal(dht22_read(&dht_cfg, &s), -EBADMSG);
	assert_int_equal(s.temp_dc, 7);
}

static void test_drivers_shim_dht22_stretched(void **state)
{
	struct climate_sample s = { 7, 7 };

	(void)state;
	shim_dht22_set_fault(SHIM_DHT_STRETCHED);
	assert_int_equal(dht22_read(&dht_cfg, &s), -EIO);
	assert_int_equal(s.temp_dc, 7);
}

static void test_drivers_shim_dht22_truncated(void **state)
{
	struct dht22_capture cap;
	struct climate_sample s = { 7, 7 };

	(void)state;
	shim_dht22_set_fault(SHIM_DHT_TRUNCATED);
	assert_int_equal(dht22_read(&dht_cfg, &s), -ETIMEDOUT);
	assert_int_equal(s.temp_dc, 7);
	/* The capture says where the frame stopped. */
	assert_int_equal(dht22_capture(&dht_cfg, &cap), -ETIMEDOUT);
	assert_in_range(cap.bits, 19, 20);
}

static void test_drivers_shim_dht22_recovers_after_fault(void **state)
{
	struct climate_sample s = { 0, 0 };

	(void)state;
	shim_dht22_set_fault(SHIM_DHT_TRUNCATED);
	assert_int_equal(dht22_read(&dht_cfg, &s), -ETIMEDOUT);
	shim_dht22_set_fault(SHIM_DHT_OK);
	assert_int_equal(dht22_read(&dht_cfg, &s), 0);
	assert_int_equal(s.temp_dc, 225);
}

/* The line is released: not driven by the host, pulled up once the sensor lets go. */
static void assert_dht_line_released(void)
{
	/* Writing only works on a pin the host drives. */
	assert_int_equal(hal_gpio_write(DHT_PIN, 0), -EINVAL);
	/* Past the sensor's 50 us end-of-frame low the pull-up wins. */
	hal_time_delay_us(200);
	assert_int_equal(hal_gpio_read(DHT_PIN), 1);
}

static void test_drivers_shim_dht22_releases_pin(void **state)
{
	static const enum shim_dht_fault faults[] = {
		SHIM_DHT_OK, SHIM_DHT_NO_RESPONSE, SHIM_DHT_CHECKSUM,
		SHIM_DHT_STRETCHED, SHIM_DHT_TRUNCATED,
	};
	struct climate_sample s;

	(void)state;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		shim_dht22_set_fault(faults[i]);
		dht22_read(&dht_cfg, &s);
		assert_dht_line_released();
	}
}

static void test_drivers_shim_dht22_bad_pin(void **state)
{
	const struct dht22_config bad = { .pin = SHIM_GPIO_PINS };
	struct climate_sample s;

	(void)state;
	assert_int_equal(dht22_read(&bad, &s), -EINVAL);
}

static void test_drivers_shim_hcsr04_read(void **state)
{
	uint32_t mm = 0;

	(void)state;
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), 0);
	assert_int_equal(mm, 1200);
}

static void test_drivers_shim_hcsr04_distances(void **state)
{
	static const struct { double cm; uint32_t mm; } cases[] = {
		{ 2.0, 20 }, { 45.0, 450 }, { 100.0, 1000 }, { 257.3, 2573 }, { 400.0, 4000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t mm = 0;

		env.distance_cm = cases[i].cm;
		assert_int_equal(hcsr04_read(&sonar_cfg, &mm), 0);
		assert_int_equal(mm, cases[i].mm);
	}
}

static void test_drivers_shim_hcsr04_echo_width(void **state)
{
	uint32_t echo_us = 0;

	(void)state;
	/* 1200 mm * 2000 / 343 = 6997 us. */
	assert_int_equal(hcsr04_capture(&sonar_cfg, &echo_us), 0);
	assert_int_equal(echo_us, 6997);
}

static void test_drivers_shim_hcsr04_beyond_range(void **state)
{
	uint32_t mm = 4242;

	(void)state;
	env.distance_cm = 420.0;
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), -ERANGE);
	assert_int_equal(mm, 4242);
	env.distance_cm = 1.0;
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), -ERANGE);
	assert_int_equal(mm, 4242);
}

static void test_drivers_shim_hcsr04_no_echo(void **state)
{
	uint32_t mm = 4242;

	(void)state;
	shim_hcsr04_set_fault(SHIM_SONAR_NO_ECHO);
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), -ETIMEDOUT);
	assert_int_equal(mm, 4242);
	/* Too far for the module to hear anything is the same timeout. */
	shim_gpio_reset();
	env.distance_cm = 600.0;
	assert_int_equal(shim_hcsr04_attach(TRIG_PIN, ECHO_PIN, &env, 2), 0);
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), -ETIMEDOUT);
}

static void test_drivers_shim_hcsr04_stuck_high(void **state)
{
	uint32_t mm = 4242;

	(void)state;
	shim_hcsr04_set_fault(SHIM_SONAR_STUCK_HIGH);
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), -EIO);
	assert_int_equal(mm, 4242);
}

static void test_drivers_shim_hcsr04_silent(void **state)
{
	uint32_t mm = 4242;

	(void)state;
	shim_hcsr04_set_fault(SHIM_SONAR_SILENT);
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), -ETIMEDOUT);
	assert_int_equal(mm, 4242);
}

static void test_drivers_shim_hcsr04_repeated_reads(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		uint32_t mm = 0;

		env.distance_cm = 50.0 + 10 * i;
		assert_int_equal(hcsr04_read(&sonar_cfg, &mm), 0);
		assert_int_equal(mm, 500 + 100 * (uint32_t)i);
	}
	/* Trigger low again after the ping. */
	assert_int_equal(hal_gpio_read(TRIG_PIN), 0);
}

static void test_drivers_shim_hcsr04_bad_pins(void **state)
{
	const struct hcsr04_config bad_echo = { .trig_pin = TRIG_PIN, .echo_pin = 99 };
	const struct hcsr04_config bad_trig = { .trig_pin = 99, .echo_pin = ECHO_PIN };
	uint32_t mm;

	(void)state;
	assert_int_equal(hcsr04_read(&bad_echo, &mm), -EINVAL);
	assert_int_equal(hcsr04_read(&bad_trig, &mm), -EINVAL);
}

static void test_drivers_shim_attach_rejects_taken_pins(void **state)
{
	(void)state;
	assert_int_equal(shim_dht22_attach(DHT_PIN, &env, 1), -EINVAL);
	assert_int_equal(shim_dht22_attach(SHIM_GPIO_PINS, &env, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_drivers_shim_dht22_read, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_capture_timings, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_negative_temperature, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_range_ends, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_repeated_reads, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_virtual_time, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_no_response, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_checksum, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_stretched, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_truncated, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_recovers_after_fault, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_releases_pin, setup),
		cmocka_unit_test_setup(test_drivers_shim_dht22_bad_pin, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_read, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_distances, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_echo_width, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_beyond_range, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_no_echo, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_stuck_high, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_silent, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_repeated_reads, setup),
		cmocka_unit_test_setup(test_drivers_shim_hcsr04_bad_pins, setup),
		cmocka_unit_test_setup(test_drivers_shim_attach_rejects_taken_pins, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
