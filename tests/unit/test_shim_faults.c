/*
 * The world's fault set, applied by the device side of the shim: the real
 * drivers read the faulty waveforms, the link model follows flap and
 * association faults, and every random choice replays from the seed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dht22.h"
#include "hal_link.h"
#include "hal_storage.h"
#include "hal_time.h"
#include "hcsr04.h"
#include "posix_hal.h"
#include "shim.h"
#include "shim_internal.h"
#include "world.h"

#define DHT_PIN 4
#define TRIG_PIN 5
#define ECHO_PIN 6
#define DEVICE_ID "robot_faults"

static const struct dht22_config dht_cfg = { .pin = DHT_PIN };
static const struct hcsr04_config sonar_cfg = { .trig_pin = TRIG_PIN, .echo_pin = ECHO_PIN };

/* The models keep a pointer to the environment: it must outlive each case. */
static struct shim_env env;
static char dir[64];
static char world_path[128];
static struct world world;
static struct world_slot *slot;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_shim_faults.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(world_path, sizeof(world_path), "%s/world", dir);
	if (world_create(world_path, 2, "faults", &world) < 0)
		return -1;
	slot = world_get_slot(&world, 0);
	snprintf(slot->device_id, sizeof(slot->device_id), "%s", DEVICE_ID);

	/* The shared POSIX HAL (wait, storage) with the virtual hardware under it. */
	shim__posix_hooks_install();
	shim_gpio_reset();
	env.temperature_c = 22.5;
	env.humidity_pct = 40.0;
	env.distance_cm = 120.0;
	env.noise = 0;
	if (shim_dht22_attach(DHT_PIN, &env, 1) < 0 ||
	    shim_hcsr04_attach(TRIG_PIN, ECHO_PIN, &env, 2) < 0)
		return -1;
	shim_dht22_set_fault(SHIM_DHT_OK);
	shim_hcsr04_set_fault(SHIM_SONAR_OK);
	shim__link_setup(0);
	if (shim__world_attach(world_path, 0, DEVICE_ID, &env) < 0)
		return -1;
	/* From here the clock is virtual: it moves only when a case says so. */
	hal_time_delay_us(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	shim__world_detach();
	shim__clock_end_transaction();
	world_close(&world);
	unlink(world_path);
	rmdir(dir);
	return 0;
}

/* Write @f into the slot as the orchestrator does, and let the device see it. */
static void inject(const struct world_faults *f)
{
	world_write_faults(slot, f);
	assert_true(shim__world_sync());
	/* Nothing new: the next sync is a no-op. */
	assert_false(shim__world_sync());
}

static void clear_faults(void)
{
	const struct world_faults none = { 0 };

	inject(&none);
}

static int64_t now_ms(void)
{
	return (int64_t)(hal_time_now_us() / 1000u);
}

static void advance_to_ms(int64_t ms)
{
	uint64_t at = (uint64_t)ms * 1000u;

	while (hal_time_now_us() < at) {
		uint64_t step = at - hal_time_now_us();
		hal_time_delay_us(step > 1000000000u ? 1000000000u : (uint32_t)step);
	}
	assert_true(hal_time_now_us() == at);
}

static void assert_good_climate(int16_t temp_dc, uint16_t hum_dpct)
{
	struct climate_sample s = { 0, 0 };

	assert_int_equal(dht22_read(&dht_cfg, &s), 0);
	assert_int_equal(s.temp_dc, temp_dc);
	assert_int_equal(s.humidity_dpct, hum_dpct);
}

static void assert_distance(uint32_t want_mm)
{
	uint32_t mm = 0;

	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), 0);
	assert_int_equal(mm, want_mm);
}

static void link_up_now(void)
{
	hal_link_connect();
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
}

/* ---- DHT22 ------------------------------------------------------------ */

static void test_shim_faults_sync_without_faults_is_quiet(void **state)
{
	(void)state;
	/* Never written: nothing to apply, readings are good. */
	assert_false(shim__world_sync());
	assert_good_climate(225, 400);
	assert_distance(1200);
}

static void test_shim_faults_dht_no_response(void **state)
{
	const struct world_faults f = { .seed = 1, .dht_mode = WORLD_DHT_NO_RESPONSE };
	struct climate_sample s = { 7, 7 };

	(void)state;
	inject(&f);
	assert_int_equal(dht22_read(&dht_cfg, &s), -ETIMEDOUT);
	assert_int_equal(s.temp_dc, 7);
	clear_faults();
	assert_good_climate(225, 400);
}

static void test_shim_faults_dht_truncated(void **state)
{
	const struct world_faults f = { .seed = 1, .dht_mode = WORLD_DHT_TRUNCATED };
	struct dht22_capture cap;
	struct climate_sample s;

	(void)state;
	inject(&f);
	assert_int_equal(dht22_read(&dht_cfg, &s), -ETIMEDOUT);
	assert_int_equal(dht22_capture(&dht_cfg, &cap), -ETIMEDOUT);
	assert_in_range(cap.bits, 19, 20);
	clear_faults();
	assert_good_climate(225, 400);
}

static void test_shim_faults_dht_stuck_repeats_last_frame(void **state)
{
	const struct world_faults f = { .seed = 1, .dht_mode = WORLD_DHT_STUCK };

	(void)state;
	assert_good_climate(225, 400);
	inject(&f);
	env.temperature_c = 30.0;
	env.humidity_pct = 55.5;
	for (int i = 0; i < 3; i++)
		assert_good_climate(225, 400);
	clear_faults();
	assert_good_climate(300, 555);
}

static void test_shim_faults_dht_stuck_before_first_read(void **state)
{
	const struct world_faults f = { .seed = 1, .dht_mode = WORLD_DHT_STUCK };

	(void)state;
	/* A sensor that never spoke freezes the room as it was at the fault. */
	env.temperature_c = 18.0;
	inject(&f);
	env.temperature_c = 31.0;
	assert_good_climate(180, 400);
	clear_faults();
	assert_good_climate(310, 400);
}

static void test_shim_faults_dht_checksum(void **state)
{
	const struct world_faults f = { .seed = 9, .dht_checksum_ppm = 1000000 };
	struct climate_sample s = { 7, 7 };

	(void)state;
	inject(&f);
	for (int i = 0; i < 8; i++)
		assert_int_equal(dht22_read(&dht_cfg, &s), -EBADMSG);
	assert_int_equal(s.temp_dc, 7);
	clear_faults();
	assert_good_climate(225, 400);
}

static void test_shim_faults_dht_stretched(void **state)
{
	const struct world_faults f = { .seed = 9, .dht_stretch_ppm = 1000000 };
	struct climate_sample s = { 7, 7 };

	(void)state;
	inject(&f);
	for (int i = 0; i < 8; i++)
		assert_int_equal(dht22_read(&dht_cfg, &s), -EIO);
	clear_faults();
	assert_good_climate(225, 400);
}

static void test_shim_faults_dht_spikes_have_valid_checksums(void **state)
{
	const struct world_faults f = { .seed = 5, .dht_spike_ppm = 1000000, .dht_spike_dc = 50 };
	int up = 0, down = 0;

	(void)state;
	inject(&f);
	for (int i = 0; i < 32; i++) {
		struct climate_sample s = { 0, 0 };

		assert_int_equal(dht22_read(&dht_cfg, &s), 0);
		if (s.temp_dc == 275) {
			assert_int_equal(s.humidity_dpct, 450);
			up++;
		} else {
			assert_int_equal(s.temp_dc, 175);
			assert_int_equal(s.humidity_dpct, 350);
			down++;
		}
	}
	assert_true(up > 0 && down > 0);
	clear_faults();
	assert_good_climate(225, 400);
}

static void test_shim_faults_dht_big_spike_fails_range_check(void **state)
{
	const struct world_faults f = { .seed = 5, .dht_spike_ppm = 1000000, .dht_spike_dc = 900 };
	struct climate_sample s;

	(void)state;
	/* 22.5 +- 90 degC is outside -40..80: the driver refuses the frame. */
	inject(&f);
	for (int i = 0; i < 8; i++)
		assert_int_equal(dht22_read(&dht_cfg, &s), -EIO);
	clear_faults();
	assert_good_climate(225, 400);
}

static void test_shim_faults_dht_drift(void **state)
{
	struct world_faults f = { .seed = 1, .dht_drift_dc_per_h = 20 };
	int64_t t0 = now_ms();

	(void)state;
	f.dht_since_ms = t0;
	inject(&f);
	assert_good_climate(225, 400);
	advance_to_ms(t0 + 1800000);
	assert_good_climate(235, 400);
	advance_to_ms(t0 + 3 * 3600000);
	assert_good_climate(285, 400);
	clear_faults();
	assert_good_climate(225, 400);
}

static void test_shim_faults_dht_cli_fault_still_works(void **state)
{
	const struct world_faults f = { .seed = 1, .dht_spike_ppm = 0 };
	struct climate_sample s;

	(void)state;
	inject(&f);
	shim_dht22_set_fault(SHIM_DHT_CHECKSUM);
	assert_int_equal(dht22_read(&dht_cfg, &s), -EBADMSG);
	shim_dht22_set_fault(SHIM_DHT_OK);
	assert_good_climate(225, 400);
}

/* Which of 64 reads fail their checksum, under @seed. */
static uint64_t checksum_pattern(uint64_t seed)
{
	const struct world_faults f = { .seed = seed, .dht_checksum_ppm = 300000 };
	uint64_t bad = 0;

	inject(&f);
	for (int i = 0; i < 64; i++) {
		struct climate_sample s;
		int rc = dht22_read(&dht_cfg, &s);

		assert_true(rc == 0 || rc == -EBADMSG);
		if (rc == -EBADMSG)
			bad |= 1ull << i;
	}
	return bad;
}

static void test_shim_faults_dht_checksum_replays_from_seed(void **state)
{
	uint64_t a, b, c;
	int n = 0;

	(void)state;
	a = checksum_pattern(42);
	b = checksum_pattern(42);
	c = checksum_pattern(43);
	assert_true(a == b);
	assert_true(a != c);
	for (int i = 0; i < 64; i++)
		n += (int)((a >> i) & 1);
	/* 30 % of 64 is about 19. */
	assert_in_range(n, 8, 32);
}

/* ---- HC-SR04 ---------------------------------------------------------- */

/* A 38 ms "heard nothing" echo outlasts the driver's wait: let it end
 * before the next ping, as the firmware's sample interval does. */
static void let_echo_ring_out(void)
{
	hal_time_delay_us(60000);
}

static void expect_sonar_error(uint32_t mode, int want)
{
	const struct world_faults f = { .seed = 3, .sonar_mode = mode };
	uint32_t mm = 4242;

	inject(&f);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hcsr04_read(&sonar_cfg, &mm), want);
		let_echo_ring_out();
	}
	assert_int_equal(mm, 4242);
	clear_faults();
	assert_distance(1200);
}

static void test_shim_faults_sonar_no_echo(void **state)
{
	(void)state;
	expect_sonar_error(WORLD_SONAR_NO_ECHO, -ETIMEDOUT);
}

static void test_shim_faults_sonar_stuck_high(void **state)
{
	(void)state;
	expect_sonar_error(WORLD_SONAR_STUCK_HIGH, -EIO);
}

static void test_shim_faults_sonar_silent(void **state)
{
	(void)state;
	expect_sonar_error(WORLD_SONAR_SILENT, -ETIMEDOUT);
}

static void test_shim_faults_sonar_beyond_range(void **state)
{
	(void)state;
	expect_sonar_error(WORLD_SONAR_BEYOND_RANGE, -ERANGE);
}

static void test_shim_faults_sonar_stuck(void **state)
{
	const struct world_faults f = { .seed = 3, .sonar_mode = WORLD_SONAR_STUCK };

	(void)state;
	assert_distance(1200);
	inject(&f);
	env.distance_cm = 50.0;
	for (int i = 0; i < 3; i++)
		assert_distance(1200);
	clear_faults();
	assert_distance(500);
}

static void test_shim_faults_sonar_noise(void **state)
{
	const struct world_faults f = { .seed = 3, .sonar_noise_mm = 30 };
	uint32_t lo = UINT32_MAX, hi = 0;

	(void)state;
	inject(&f);
	for (int i = 0; i < 64; i++) {
		uint32_t mm = 0;

		assert_int_equal(hcsr04_read(&sonar_cfg, &mm), 0);
		/* +- 30 mm, plus the driver's rounding to a microsecond. */
		assert_in_range(mm, 1200 - 31, 1200 + 31);
		lo = mm < lo ? mm : lo;
		hi = mm > hi ? mm : hi;
	}
	assert_true(hi - lo >= 20);
	clear_faults();
	assert_distance(1200);
}

/* ---- link ------------------------------------------------------------- */

static void test_shim_faults_link_down(void **state)
{
	const struct world_faults f = { .seed = 1, .link_mode = WORLD_LINK_DOWN };
	int rssi;

	(void)state;
	shim__link_setup(50);
	hal_link_connect();
	hal_time_delay_us(50000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);

	inject(&f);
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	assert_int_equal(hal_link_get_rssi(&rssi), -ENOTCONN);
	/* Attempts start, take the association time, and fail. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hal_link_connect(), 0);
		assert_int_equal(hal_link_get_state(), HAL_LINK_CONNECTING);
		assert_true(shim__link_next_event_us() == hal_time_now_us() + 50000);
		hal_time_delay_us(50000);
		assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	}
	clear_faults();
	/* Cleared: still down until the firmware associates again. */
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	assert_int_equal(hal_link_connect(), 0);
	hal_time_delay_us(50000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
	assert_int_equal(hal_link_get_rssi(&rssi), 0);
	assert_int_equal(rssi, -55);
}

static void test_shim_faults_link_flap_follows_period_and_duty(void **state)
{
	struct world_faults f = { .seed = 1, .link_mode = WORLD_LINK_FLAP,
				  .flap_period_ms = 1000, .flap_down_ms = 300 };
	int64_t t0;
	int up = 0;

	(void)state;
	link_up_now();
	t0 = now_ms() + 1;
	f.link_since_ms = t0;
	advance_to_ms(t0);
	inject(&f);
	/* The first down phase starts when the fault began. */
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	assert_true(shim__link_next_event_us() == (uint64_t)(t0 + 300) * 1000u);
	advance_to_ms(t0 + 299);
	assert_int_equal(hal_link_connect(), 0);
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	/* Up phase: association works, and the wait knows the next edge. */
	advance_to_ms(t0 + 300);
	link_up_now();
	assert_true(shim__link_next_event_us() == (uint64_t)(t0 + 1000) * 1000u);
	advance_to_ms(t0 + 999);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
	advance_to_ms(t0 + 1000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);

	/* Ten periods, sampled every 10 ms, reassociating whenever down:
	 * the link is up exactly 70 % of the time. */
	for (int64_t ms = t0 + 2000; ms < t0 + 12000; ms += 10) {
		advance_to_ms(ms);
		if (hal_link_get_state() == HAL_LINK_DOWN)
			hal_link_connect();
		up += hal_link_get_state() == HAL_LINK_UP;
	}
	assert_int_equal(up, 700);

	clear_faults();
	assert_true(shim__link_next_event_us() == UINT64_MAX);
	advance_to_ms(t0 + 12100);
	if (hal_link_get_state() != HAL_LINK_UP)
		link_up_now();
	advance_to_ms(t0 + 20000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
}

static void test_shim_faults_assoc_fail_exactly_n(void **state)
{
	struct world_faults f = { .seed = 1, .assoc_fail_gen = 1, .assoc_fail_count = 3 };

	(void)state;
	shim__link_setup(20);
	inject(&f);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hal_link_connect(), 0);
		hal_time_delay_us(20000);
		assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	}
	assert_int_equal(hal_link_connect(), 0);
	hal_time_delay_us(20000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);

	/* Another fault set with the same generation does not hand out the
	 * count again. */
	hal_link_disconnect();
	f.dht_checksum_ppm = 1;
	inject(&f);
	assert_int_equal(hal_link_connect(), 0);
	hal_time_delay_us(20000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);

	/* A new generation does. */
	hal_link_disconnect();
	f.assoc_fail_gen = 2;
	f.assoc_fail_count = 1;
	inject(&f);
	assert_int_equal(hal_link_connect(), 0);
	hal_time_delay_us(20000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	assert_int_equal(hal_link_connect(), 0);
	hal_time_delay_us(20000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
}

static void test_shim_faults_weak_signal_rssi_and_latency(void **state)
{
	struct world_faults f = { .seed = 1, .weak_latency_ms = 150 };
	uint32_t delay = 0;
	int rssi = 0;

	(void)state;
	link_up_now();
	assert_int_equal(shim__link_transmit(&delay), 0);
	assert_int_equal(delay, 0);
	inject(&f);
	assert_int_equal(hal_link_get_rssi(&rssi), 0);
	assert_int_equal(rssi, -85);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(shim__link_transmit(&delay), 0);
		assert_int_equal(delay, 150);
	}
	f.weak_rssi_dbm = -91;
	inject(&f);
	assert_int_equal(hal_link_get_rssi(&rssi), 0);
	assert_int_equal(rssi, -91);
	clear_faults();
	assert_int_equal(hal_link_get_rssi(&rssi), 0);
	assert_int_equal(rssi, -55);
	assert_int_equal(shim__link_transmit(&delay), 0);
	assert_int_equal(delay, 0);
}

static void test_shim_faults_weak_signal_deauth_after_seven_losses(void **state)
{
	const struct world_faults f = { .seed = 1, .weak_loss_ppm = 1000000 };
	uint32_t delay = 0;

	(void)state;
	link_up_now();
	inject(&f);
	/* 200 + 400 + 800 + 1600 + 3200 + 3200 + 3200 ms of retransmissions. */
	assert_int_equal(shim__link_transmit(&delay), -ENETDOWN);
	assert_int_equal(delay, 12600);
	assert_true(shim__link_next_event_us() == hal_time_now_us() + 12600000u);
	hal_time_delay_us(12599000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
	hal_time_delay_us(1000);
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	/* Association itself still works on a weak signal. */
	link_up_now();
	clear_faults();
	assert_int_equal(shim__link_transmit(&delay), 0);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
}

/* Delays (and drops) of 64 packets on a lossy link, under @seed. */
static void loss_pattern(uint64_t seed, uint32_t out[64])
{
	const struct world_faults f = { .seed = seed, .weak_loss_ppm = 400000,
					.weak_latency_ms = 10 };

	hal_link_disconnect();
	link_up_now();
	inject(&f);
	for (int i = 0; i < 64; i++) {
		uint32_t delay = 0;
		int rc = shim__link_transmit(&delay);

		assert_true(rc == 0 || rc == -ENETDOWN);
		assert_true(delay >= 10);
		out[i] = delay | (rc < 0 ? 0x80000000u : 0);
	}
}

static void test_shim_faults_weak_signal_losses_replay_from_seed(void **state)
{
	uint32_t a[64], b[64], c[64];
	int lost = 0;

	(void)state;
	loss_pattern(42, a);
	loss_pattern(42, b);
	loss_pattern(43, c);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	for (int i = 0; i < 64; i++)
		lost += (a[i] & 0x7fffffffu) > 10;
	/* 40 % of packets lose at least their first try. */
	assert_in_range(lost, 12, 40);
}

static void test_shim_faults_detach_restores_health(void **state)
{
	const struct world_faults f = { .seed = 1, .dht_mode = WORLD_DHT_NO_RESPONSE,
					.sonar_mode = WORLD_SONAR_NO_ECHO };
	struct climate_sample s;
	uint32_t mm;

	(void)state;
	inject(&f);
	assert_int_equal(dht22_read(&dht_cfg, &s), -ETIMEDOUT);
	assert_int_equal(hcsr04_read(&sonar_cfg, &mm), -ETIMEDOUT);
	let_echo_ring_out();
	shim__world_detach();
	assert_good_climate(225, 400);
	assert_distance(1200);
	/* A device that attaches to a slot with faults in it takes them at once. */
	assert_int_equal(shim__world_attach(world_path, 0, DEVICE_ID, &env), 0);
	assert_int_equal(dht22_read(&dht_cfg, &s), -ETIMEDOUT);
}

/*
 * The firmware sleeps in hal_time_wait_until() until its own next deadline;
 * an association that completes sooner must wake it then, not at that
 * deadline (every boot used to wait out the DHT22's first second).
 */
static void test_shim_faults_link_up_wakes_the_wait(void **state)
{
	struct timespec t0, t1;
	long waited_ms;

	(void)state;
	shim__link_setup(30);
	shim__clock_end_transaction();
	assert_int_equal(hal_link_connect(), 0);
	assert_int_equal(hal_link_get_state(), HAL_LINK_CONNECTING);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	hal_time_wait_until(hal_time_now_us() + 5000000u);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
	/* 30 ms of association; a loaded machine may add to it, never 5 s. */
	assert_in_range(waited_ms, 25, 2500);
}

/*
 * The flash faults travel the same way: from the slot, through the sync, to
 * the storage model. Write failures act at once; a corrupt record waits for
 * the store's next open, which a device does at boot (after attaching).
 */
static void test_shim_faults_flash_faults_reach_the_storage(void **state)
{
	const struct world_faults full = { .seed = 1, .flash_full = 1 };
	const struct world_faults failing = { .seed = 2, .flash_fail_ppm = 1000000 };
	const struct world_faults corrupt = { .seed = 3, .flash_corrupt = 1 };
	char flash[160];
	uint32_t v = 0;
	size_t len;

	(void)state;
	snprintf(flash, sizeof(flash), "%s/%s.flash", dir, DEVICE_ID);
	assert_int_equal(posix_storage_open(dir, DEVICE_ID), 0);
	assert_int_equal(hal_storage_write("boot", &(uint32_t){ 4 }, 4), 0);
	assert_int_equal(hal_storage_write("ob_meta", &(uint32_t){ 0 }, 4), 0);
	inject(&full);
	assert_int_equal(hal_storage_write("boot", &(uint32_t){ 5 }, 4), -ENOSPC);
	assert_int_equal(hal_storage_read("boot", &v, sizeof(v), &len), 0);
	assert_int_equal(v, 4);
	inject(&failing);
	assert_int_equal(hal_storage_write("boot", &(uint32_t){ 5 }, 4), -EIO);
	clear_faults();
	assert_int_equal(hal_storage_write("boot", &(uint32_t){ 5 }, 4), 0);

	/* Injected while the device runs: nothing happens to the open store. */
	inject(&corrupt);
	assert_int_equal(hal_storage_read("boot", &v, sizeof(v), &len), 0);
	assert_int_equal(v, 5);
	/* The next boot: attach (the fault is still in the slot), then open. */
	posix_storage_close();
	shim__world_detach();
	assert_int_equal(shim__world_attach(world_path, 0, DEVICE_ID, &env), 0);
	assert_int_equal(posix_storage_open(dir, DEVICE_ID), 0);
	assert_int_equal(hal_storage_read("boot", &v, sizeof(v), &len), -EIO);
	/* Leaving the slot takes the faults away with it. */
	shim__world_detach();
	posix_storage_close();
	assert_int_equal(posix_storage_open(dir, DEVICE_ID), 0);
	posix_storage_close();
	assert_int_equal(unlink(flash), 0);
	assert_int_equal(posix_storage_open(dir, DEVICE_ID), 0);
	assert_int_equal(hal_storage_write("boot", &(uint32_t){ 1 }, 4), 0);
	posix_storage_close();
	assert_int_equal(unlink(flash), 0);
	assert_int_equal(shim__world_attach(world_path, 0, DEVICE_ID, &env), 0);
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_shim_faults_sync_without_faults_is_quiet),
		CASE(test_shim_faults_link_up_wakes_the_wait),
		CASE(test_shim_faults_dht_no_response),
		CASE(test_shim_faults_dht_truncated),
		CASE(test_shim_faults_dht_stuck_repeats_last_frame),
		CASE(test_shim_faults_dht_stuck_before_first_read),
		CASE(test_shim_faults_dht_checksum),
		CASE(test_shim_faults_dht_stretched),
		CASE(test_shim_faults_dht_spikes_have_valid_checksums),
		CASE(test_shim_faults_dht_big_spike_fails_range_check),
		CASE(test_shim_faults_dht_drift),
		CASE(test_shim_faults_dht_cli_fault_still_works),
		CASE(test_shim_faults_dht_checksum_replays_from_seed),
		CASE(test_shim_faults_sonar_no_echo),
		CASE(test_shim_faults_sonar_stuck_high),
		CASE(test_shim_faults_sonar_silent),
		CASE(test_shim_faults_sonar_beyond_range),
		CASE(test_shim_faults_sonar_stuck),
		CASE(test_shim_faults_sonar_noise),
		CASE(test_shim_faults_link_down),
		CASE(test_shim_faults_link_flap_follows_period_and_duty),
		CASE(test_shim_faults_assoc_fail_exactly_n),
		CASE(test_shim_faults_weak_signal_rssi_and_latency),
		CASE(test_shim_faults_weak_signal_deauth_after_seven_losses),
		CASE(test_shim_faults_weak_signal_losses_replay_from_seed),
		CASE(test_shim_faults_detach_restores_health),
		CASE(test_shim_faults_flash_faults_reach_the_storage),
	};

	return cmocka_run_group_tests_name("shim_faults", tests, NULL, NULL);
}
