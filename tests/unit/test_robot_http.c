/*
 * The robot's HTTP transport (firmware/app/robot_http.c) over fake HAL
 * pieces: a fake hal_http that records each request and answers only when
 * the test says so, an in-memory flash (so a "reboot" finds the outbox),
 * a link that is up, a clock the test moves.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hal_http.h"
#include "hal_link.h"
#include "hal_log.h"
#include "hal_mqtt.h"
#include "hal_random.h"
#include "hal_sensor.h"
#include "hal_storage.h"
#include "hal_system.h"
#include "hal_time.h"
#include "robot.h"

/* ---- fakes --------------------------------------------------------------- */

static uint64_t now_us = 1000000;
static int http_init_rc;

uint64_t hal_time_now_us(void) { return now_us; }
void hal_time_delay_us(uint32_t us) { now_us += us; }
int hal_time_wall_ms(int64_t *ms) { *ms = 1700000000000; return 0; }
int hal_time_wait_until(uint64_t d) { (void)d; return 0; }
int hal_link_connect(void) { return 0; }
enum hal_link_state hal_link_get_state(void) { return HAL_LINK_UP; }
uint32_t hal_random_u32(void) { return 0; }
void hal_log_write(enum hal_log_level l, const char *line) { (void)l; (void)line; }
enum hal_log_level hal_log_get_level(void) { return HAL_LOG_ERROR; }
int hal_sensor_init(const struct robot_config *c) { (void)c; return 0; }
int hal_sensor_read_climate(struct climate_sample *s) { s->temp_dc = 215; s->humidity_dpct = 450; return 0; }
/* When the distance sensor was read, for the timer test. */
static uint64_t distance_at[128];
static unsigned n_distance;
int hal_sensor_read_distance(uint32_t *mm)
{
	if (n_distance < 128)
		distance_at[n_distance++] = now_us;
	*mm = 1000;
	return 0;
}
int hal_system_load_config(struct robot_config *c) { (void)c; return -EINVAL; }
bool hal_system_shutdown_requested(void) { return false; }
void hal_system_report(const struct robot_status *s) { (void)s; }
int hal_mqtt_init(const struct hal_mqtt_callbacks *cb, void *ctx) { (void)cb; (void)ctx; return 0; }
int hal_mqtt_connect(const struct hal_mqtt_connect_opts *o) { (void)o; fail(); return -EIO; }
int hal_mqtt_publish(const char *t, const void *p, size_t l, int q, bool r, uint16_t *id)
{ (void)t; (void)p; (void)l; (void)q; (void)r; (void)id; fail(); return -EIO; }
int hal_mqtt_subscribe(const char *t, int q) { (void)t; (void)q; return 0; }
int hal_mqtt_disconnect(void) { return 0; }
int hal_mqtt_service(void) { return 0; }

/* The flash: a few hundred keys in RAM, kept across a "reboot". */
#define KEYS 700
static struct { char key[16]; uint8_t val[64]; size_t len; bool used; } flash[KEYS];

int hal_storage_read(const char *key, void *buf, size_t cap, size_t *len)
{
	for (int i = 0; i < KEYS; i++)
		if (flash[i].used && strcmp(flash[i].key, key) == 0) {
			if (flash[i].len > cap)
				return -ENOSPC;
			memcpy(buf, flash[i].val, flash[i].len);
			*len = flash[i].len;
			return 0;
		}
	return -ENOENT;
}

static bool storage_full;

int hal_storage_write(const char *key, const void *buf, size_t len)
{
	int free_slot = -1;

	if (storage_full)
		return -ENOSPC;
	assert_true(len <= sizeof(flash[0].val));
	for (int i = 0; i < KEYS; i++) {
		if (flash[i].used && strcmp(flash[i].key, key) == 0) {
			free_slot = i;
			break;
		}
		if (!flash[i].used && free_slot < 0)
			free_slot = i;
	}
	assert_true(free_slot >= 0);
	snprintf(flash[free_slot].key, sizeof(flash[free_slot].key), "%s", key);
	memcpy(flash[free_slot].val, buf, len);
	flash[free_slot].len = len;
	flash[free_slot].used = true;
	return 0;
}

/* hal_http: one request at a time, answered by answer(). */
static const struct hal_http_callbacks *http_cb;
static void *http_ctx;
static bool busy;
static char last_method[8], last_path[128], last_body[512];
static unsigned int requests;

int hal_http_init(const struct hal_http_callbacks *cb, void *ctx)
{
	http_cb = cb;
	http_ctx = ctx;
	return http_init_rc;
}

int hal_http_request(const struct hal_http_request *req)
{
	if (busy)
		return -EBUSY;
	busy = true;
	requests++;
	snprintf(last_method, sizeof(last_method), "%s", req->method);
	snprintf(last_path, sizeof(last_path), "%s", req->path);
	snprintf(last_body, sizeof(last_body), "%.*s", (int)req->body_len, (const char *)req->body);
	return 0;
}

bool hal_http_busy(void) { return busy; }
void hal_http_abort(void) { busy = false; }
int hal_http_service(void) { return 0; }

static void answer(int status, const char *body)
{
	assert_true(busy);
	busy = false;
	http_cb->on_response(http_ctx, status, body, body ? strlen(body) : 0);
}

/* ---- helpers ------------------------------------------------------------- */

static struct robot robot;

static void boot(void)
{
	struct robot_config cfg;

	robot_config_defaults(&cfg);
	cfg.transport = ROBOT_TRANSPORT_HTTP;
	cfg.publish_interval_ms = 1000;
	cfg.command_poll_ms = 5000;
	busy = false;
	requests = 0;
	assert_int_equal(robot_boot(&robot, &cfg), 0);
}

static int setup(void **state)
{
	(void)state;
	memset(flash, 0, sizeof(flash));
	storage_full = false;
	http_init_rc = 0;
	now_us = 1000000;
	boot();
	return 0;
}

/* Run the robot until @t_us, a millisecond at a time. */
static void run_until(uint64_t t_us)
{
	while (now_us < t_us) {
		robot_step(&robot, now_us);
		now_us += 1000;
	}
	robot_step(&robot, now_us);
}

/* The seq in the JSON body of the last POST. */
static unsigned long posted_seq(void)
{
	const char *p = strstr(last_body, "\"seq\":");

	assert_non_null(p);
	return strtoul(p + 6, NULL, 10);
}

/* ---- tests --------------------------------------------------------------- */

static void test_2xx_acks_readings_in_order(void **state)
{
	(void)state;
	run_until(now_us + 3500000); /* readings at ~2 s, 3 s, ... */
	assert_string_equal(last_method, "POST");
	assert_string_equal(last_path, "/api/sensors/data");
	assert_non_null(strstr(last_body, "\"device_id\":\"robot_001\""));
	assert_int_equal(posted_seq(), 1);
	answer(201, "{\"status\":\"stored\"}");
	robot_step(&robot, now_us);
	assert_int_equal(posted_seq(), 2);
	answer(200, "{\"status\":\"stored\"}");
	assert_int_equal(robot.counters.acknowledged, 2);
	assert_int_equal(robot.state, ROBOT_ONLINE);
}

static void test_5xx_and_timeout_keep_the_reading_and_back_off(void **state)
{
	(void)state;
	run_until(now_us + 2500000);
	assert_int_equal(posted_seq(), 1);
	answer(503, "busy");
	assert_int_equal(robot.state, ROBOT_BACKOFF);
	assert_int_equal(robot.counters.acknowledged, 0);
	assert_int_equal(robot.counters.publish_errors, 1);
	/* Back online after the delay: the same reading again. */
	run_until(robot.state_deadline_us + 1000);
	assert_true(busy);
	assert_int_equal(posted_seq(), 1);
	answer(-ETIMEDOUT, NULL);
	assert_int_equal(robot.state, ROBOT_BACKOFF);
	run_until(robot.state_deadline_us + 1000);
	assert_int_equal(posted_seq(), 1);
	answer(200, "{\"status\":\"stored\"}");
	assert_int_equal(robot.counters.acknowledged, 1);
	assert_true(robot.counters.redelivered >= 2);
	robot_step(&robot, now_us);
	assert_int_equal(posted_seq(), 2);
}

/* A reading the flash cannot keep goes out once, live, and is not kept. */
static void test_a_reading_storage_refuses_is_posted_live(void **state)
{
	(void)state;
	storage_full = true;
	run_until(now_us + 1500000); /* the first reading, at ~2 s */
	assert_true(busy);
	assert_string_equal(last_method, "POST");
	assert_int_equal(posted_seq(), 1);
	assert_int_equal(robot.counters.unpersisted, 1);
	assert_int_equal(robot.counters.published, 1);
	assert_int_equal(outbox_count(&robot.outbox), 0);
	answer(200, "{\"status\":\"stored\",\"command\":\"stop\",\"command_id\":1}");
	assert_false(robot.running); /* its answer's command is taken as any other */
	assert_int_equal(robot.state, ROBOT_ONLINE);
	assert_int_equal(outbox_count(&robot.outbox), 0);
	/* Stopped, with nothing to resend: the next request is a command poll. */
	run_until(now_us + 6000000);
	assert_string_equal(last_method, "GET");
}

static void test_4xx_drops_and_counts(void **state)
{
	(void)state;
	run_until(now_us + 2500000);
	assert_int_equal(posted_seq(), 1);
	answer(400, "{\"error\":\"bad json\"}");
	assert_int_equal(robot.counters.http_refused, 1);
	assert_int_equal(robot.state, ROBOT_ONLINE);
	run_until(now_us + 1000000);
	assert_int_equal(posted_seq(), 2);
	answer(200, "{}");
	assert_int_equal(robot.counters.acknowledged, 1);
	/* Both left the outbox: what it holds now came after. */
	{
		uint32_t b, oldest = 0;

		if (outbox_oldest(&robot.outbox, &b, &oldest) == 0)
			assert_true(oldest > 2);
	}
}

static void test_commands_apply_once_by_command_id(void **state)
{
	(void)state;
	run_until(now_us + 2500000);
	answer(200, "{\"status\":\"stored\",\"command\":\"stop\",\"command_id\":7}");
	assert_false(robot.running);
	assert_int_equal(robot.counters.commands, 1);
	/* The same id again (the endpoint repeats it): not applied twice. */
	robot.running = true;
	run_until(now_us + 1000000);
	answer(200, "{\"status\":\"stored\",\"command\":\"stop\",\"command_id\":7}");
	assert_true(robot.running);
	assert_int_equal(robot.counters.commands, 1);
	run_until(now_us + 1000000);
	answer(200, "{\"status\":\"stored\",\"command\":\"bogus\",\"command_id\":8}");
	assert_int_equal(robot.counters.commands_invalid, 1);
}

static void test_a_stopped_robot_polls_and_hears_start(void **state)
{
	uint32_t seq;

	(void)state;
	run_until(now_us + 2500000);
	answer(200, "{\"status\":\"stored\",\"command\":\"stop\",\"command_id\":1}");
	assert_false(robot.running);
	seq = robot.seq;
	/* Readings taken before the stop still go. */
	robot_step(&robot, now_us);
	for (int i = 0; i < 5 && busy && strcmp(last_method, "POST") == 0; i++) {
		answer(200, "{}");
		robot_step(&robot, now_us);
	}
	assert_false(busy);
	/* Nothing to post: a GET of the command URL after the poll interval. */
	run_until(now_us + 5500000);
	assert_true(busy);
	assert_string_equal(last_method, "GET");
	assert_string_equal(last_path, "/api/sensors/robot_001/command");
	answer(200, "{\"command\":null}");
	assert_false(robot.running);
	run_until(now_us + 5500000);
	assert_string_equal(last_method, "GET");
	answer(200, "{\"command\":\"start\",\"command_id\":2}");
	assert_true(robot.running);
	assert_int_equal(robot.seq, seq);
	run_until(now_us + 1500000);
	assert_true(robot.seq > seq);
	assert_string_equal(last_method, "POST");
}

static void test_a_reboot_resends_the_outbox(void **state)
{
	(void)state;
	run_until(now_us + 2500000);
	answer(503, NULL); /* reading 1 stays */
	run_until(now_us + 3000000);
	/* Power cut with readings in the outbox, then a new boot. */
	now_us += 1000000;
	boot();
	assert_true(outbox_count(&robot.outbox) >= 2);
	run_until(now_us + 100000);
	assert_true(busy);
	assert_int_equal(posted_seq(), 1);
	assert_non_null(strstr(last_body, "\"boot\":1"));
	answer(200, "{}");
	robot_step(&robot, now_us);
	assert_int_equal(posted_seq(), 2);
}

/*
 * The robot wakes once per reading: sensor timers share the readings'
 * slots, and keep sharing them after a wake-up that came late (a loaded
 * machine, a slow flash) - a climate read more than its slack late starts a
 * new cadence, which goes back onto the readings' slots.
 */
static void test_one_wake_per_reading_even_after_a_late_one(void **state)
{
	uint64_t wakes[128];
	unsigned n_wakes = 0, late = 0, in_window = 0, readings = 0;

	(void)state;
	n_distance = 0;
	for (int guard = 0; guard < 2000 && now_us < 40000000; guard++) {
		uint64_t next = robot_step(&robot, now_us);

		if (busy) {
			answer(201, "{\"status\":\"stored\"}");
			continue;
		}
		assert_true(next > now_us && next != UINT64_MAX);
		/* Two wake-ups in a row 70 ms late: one is a climate read's. */
		if (next >= 5000000 && late < 2) {
			next += 70000;
			late++;
		}
		now_us = next;
		if (n_wakes < 128)
			wakes[n_wakes++] = now_us;
	}
	for (unsigned i = 0; i < n_wakes; i++)
		in_window += wakes[i] >= 10000000 && wakes[i] < 40000000;
	for (unsigned i = 0; i < n_distance; i++)
		readings += distance_at[i] >= 10000000 && distance_at[i] < 40000000;
	assert_int_equal(readings, 30);
	assert_int_equal(in_window, readings);
}

static void test_a_board_without_http_refuses_to_boot(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.transport = ROBOT_TRANSPORT_HTTP;
	http_init_rc = -ENOTSUP;
	assert_int_equal(robot_boot(&robot, &cfg), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_2xx_acks_readings_in_order, setup),
		cmocka_unit_test_setup(test_5xx_and_timeout_keep_the_reading_and_back_off, setup),
		cmocka_unit_test_setup(test_4xx_drops_and_counts, setup),
		cmocka_unit_test_setup(test_a_reading_storage_refuses_is_posted_live, setup),
		cmocka_unit_test_setup(test_commands_apply_once_by_command_id, setup),
		cmocka_unit_test_setup(test_a_stopped_robot_polls_and_hears_start, setup),
		cmocka_unit_test_setup(test_a_reboot_resends_the_outbox, setup),
		cmocka_unit_test_setup(test_a_board_without_http_refuses_to_boot, setup),
		cmocka_unit_test_setup(test_one_wake_per_reading_even_after_a_late_one, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
