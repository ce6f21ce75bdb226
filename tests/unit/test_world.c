/* The world file: creation, validation on open, slots and seqlocked groups. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "robot.h"
#include "world.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/robofleet-world-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_world_create_then_open_shares_slots(void **state)
{
	struct world a, b;
	struct world_env env = { 21.5, 40.0, 120.0, 0.1 }, got;

	(void)state;
	assert_int_equal(world_create(path, 3, "smoke", &a), 0);
	assert_int_equal(a.hdr->slot_count, 3);
	assert_string_equal(a.hdr->run_name, "smoke");
	strcpy(world_get_slot(&a, 2)->device_id, "robot_003");
	world_write_env(world_get_slot(&a, 2), &env);

	assert_int_equal(world_open(path, &b), 0);
	assert_string_equal(world_get_slot(&b, 2)->device_id, "robot_003");
	assert_int_equal(world_read_env(world_get_slot(&b, 2), &got), 0);
	assert_memory_equal(&got, &env, sizeof(env));
	/* Writes through one mapping are seen through the other. */
	env.temperature_c = -5.0;
	world_write_env(world_get_slot(&b, 2), &env);
	assert_int_equal(world_read_env(world_get_slot(&a, 2), &got), 0);
	assert_true(got.temperature_c == -5.0);
	assert_int_equal(atomic_load(&world_get_slot(&a, 2)->env_seq), 4);
	world_close(&b);
	world_close(&a);
}

static void test_world_slot_bounds(void **state)
{
	struct world w;

	(void)state;
	assert_int_equal(world_create(path, 2, "x", &w), 0);
	assert_non_null(world_get_slot(&w, 1));
	assert_null(world_get_slot(&w, 2));
	assert_null(world_get_slot(&w, UINT32_MAX));
	world_close(&w);
	assert_int_equal(world_create(path, 0, "x", &w), -EINVAL);
	assert_int_equal(world_create(path, WORLD_SLOTS_MAX + 1, "x", &w), -EINVAL);
}

static void test_world_report_roundtrip(void **state)
{
	struct world w;
	struct world_report rep, got;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	rep.state = ROBOT_ONLINE;
	rep.seq = 42;
	rep.temp_dc = -123;
	rep.counters.published = 42;
	rep.counters.commands_invalid = 3;
	assert_int_equal(world_create(path, 1, "x", &w), 0);
	world_write_report(world_get_slot(&w, 0), &rep);
	assert_int_equal(world_read_report(world_get_slot(&w, 0), &got), 0);
	assert_memory_equal(&got, &rep, sizeof(rep));
	world_close(&w);
}

/* The world's names for the firmware's states and counters mirror them. */
static void test_world_mirrors_the_firmware(void **state)
{
	(void)state;
	assert_int_equal(WORLD_ROBOT_BOOT, ROBOT_BOOT);
	assert_int_equal(WORLD_ROBOT_LINK_CONNECTING, ROBOT_LINK_CONNECTING);
	assert_int_equal(WORLD_ROBOT_MQTT_CONNECTING, ROBOT_MQTT_CONNECTING);
	assert_int_equal(WORLD_ROBOT_ONLINE, ROBOT_ONLINE);
	assert_int_equal(WORLD_ROBOT_BACKOFF, ROBOT_BACKOFF);
	assert_int_equal(WORLD_ROBOT_SHUTTING_DOWN, ROBOT_SHUTTING_DOWN);
	assert_int_equal(WORLD_ROBOT_DONE, ROBOT_DONE);
	/* A counter added to the firmware must be added to the world (and
	 * copied in hw-shim/world_link.c), with a new WORLD_VERSION. The one
	 * exception: http_refused, which came when the counters' layout was
	 * fixed, has its place at the end of the report instead. */
	assert_int_equal(sizeof(struct world_counters) + sizeof(uint32_t),
			 sizeof(struct robot_counters));
	assert_int_equal(offsetof(struct robot_counters, http_refused), sizeof(struct world_counters));
}

static void test_world_read_gives_up_on_a_stuck_writer(void **state)
{
	struct world w;
	struct world_env got;

	(void)state;
	assert_int_equal(world_create(path, 1, "x", &w), 0);
	/* An odd sequence means a write in progress (or a writer that died in
	 * the middle): readers must not spin forever. */
	atomic_store(&world_get_slot(&w, 0)->env_seq, 7);
	assert_int_equal(world_read_env(world_get_slot(&w, 0), &got), -EAGAIN);
	world_close(&w);
}

static void test_world_open_rejects_foreign_files(void **state)
{
	struct world w;
	int fd;

	(void)state;
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a world file at all, just some text.........", 48), 48);
	close(fd);
	assert_int_equal(world_open(path, &w), -EPROTO);

	/* A real world cut short is refused too. */
	assert_int_equal(world_create(path, 4, "x", &w), 0);
	world_close(&w);
	assert_int_equal(truncate(path, (off_t)(sizeof(struct world_header) + sizeof(struct world_slot))), 0);
	assert_int_equal(world_open(path, &w), -EPROTO);
	assert_int_equal(world_open("/nonexistent/world", &w), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_world_create_then_open_shares_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_world_slot_bounds, setup, teardown),
		cmocka_unit_test(test_world_mirrors_the_firmware),
		cmocka_unit_test_setup_teardown(test_world_report_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_world_read_gives_up_on_a_stuck_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_world_open_rejects_foreign_files, setup, teardown),
	};

	return cmocka_run_group_tests_name("world", tests, NULL, NULL);
}
