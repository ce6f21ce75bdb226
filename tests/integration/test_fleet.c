/* sim/fleet.c with real device processes and a real broker: start, crash, stop, no orphans. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"
#include "fleet.h"
#include "robot.h"
#include "world.h"

#define DEVICES 6

static char dir[64];

struct exits {
	int crashes;
	int clean;
};

static void count_exit(void *ctx, struct fleet_device *d, bool crash)
{
	struct exits *e = ctx;

	(void)d;
	if (crash)
		e->crashes++;
	else
		e->clean++;
}

/* Wait until every device reports ROBOT_ONLINE in the world, at most 10 s. */
static bool all_online(struct world *w, struct fleet *f, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		size_t online = 0;
		for (size_t i = 0; i < f->count; i++) {
			struct world_report r;
			if (world_read_report(world_get_slot(w, (uint32_t)i), &r) == 0 &&
			    r.state == ROBOT_ONLINE)
				online++;
		}
		if (online == f->count)
			return true;
		/* The world has no change notification; 20 ms ticks, bounded. */
		usleep(20000);
	}
	return false;
}

static void test_fleet_start_crash_and_stop_leave_nothing(void **state)
{
	struct broker b;
	struct fleet f;
	struct world w;
	struct exits e = { 0, 0 };
	char world_path[128];
	static const char *const args[] = { "--interval", "500ms", "--log-level", "warn", NULL };

	(void)state;
	assert_int_equal(broker_configure_embedded(&b, dir, 0), 0);
	assert_int_equal(broker_start(&b, 10000), 0);
	snprintf(world_path, sizeof(world_path), "%s/world", dir);
	assert_int_equal(world_create(world_path, DEVICES, "fleet-test", &w), 0);

	assert_int_equal(fleet_init(&f, DEVICES), 0);
	snprintf(f.device_path, sizeof(f.device_path), "%s", ROBOFLEET_DEVICE_PATH);
	snprintf(f.broker, sizeof(f.broker), "127.0.0.1:%d", b.port);
	snprintf(f.world_path, sizeof(f.world_path), "%s", world_path);
	snprintf(f.state_dir, sizeof(f.state_dir), "%s/state", dir);
	snprintf(f.log_dir, sizeof(f.log_dir), "%s", dir);
	for (size_t i = 0; i < DEVICES; i++) {
		struct fleet_device *d = &f.devices[i];
		snprintf(d->id, sizeof(d->id), "fleet_%03zu", i + 1);
		d->slot = (uint32_t)i;
		memcpy(world_get_slot(&w, (uint32_t)i)->device_id, d->id, sizeof(d->id));
		for (int k = 0; args[k]; k++)
			d->args[k] = args[k];
	}
	for (size_t i = 0; i < DEVICES; i++)
		assert_int_equal(fleet_start(&f, i), 0);
	assert_int_equal(fleet_start(&f, 0), -EALREADY);
	assert_int_equal(fleet_running(&f), DEVICES);
	assert_true(all_online(&w, &f, 10000));
	/* One process group, not robofleet's. */
	for (size_t i = 0; i < DEVICES; i++)
		assert_int_equal(getpgid(f.devices[i].pid), f.pgid);
	assert_int_not_equal(f.pgid, getpgrp());

	/* A device that dies on its own is a crash; one we stop is not. */
	kill(f.devices[2].pid, SIGKILL);
	assert_int_equal(fleet_stop(&f, 4), 0);
	for (int waited = 0; e.crashes + e.clean < 2 && waited < 5000; waited += 10) {
		if (fleet_reap(&f, count_exit, &e) == 0)
			usleep(10000);
	}
	assert_int_equal(e.crashes, 1);
	assert_int_equal(e.clean, 1);
	assert_int_equal(f.devices[2].crashes, 1);

	/* Power-cycle style restart of the crashed one. */
	assert_int_equal(fleet_start(&f, 2), 0);
	assert_int_equal(f.devices[2].starts, 2);

	assert_int_equal(fleet_stop_all(&f, 10000), 0);
	assert_int_equal(fleet_running(&f), 0);
	assert_int_equal(kill(-f.pgid, 0), -1);
	assert_int_equal(errno, ESRCH);

	fleet_free(&f);
	world_close(&w);
	assert_int_equal(broker_stop(&b, 5000), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/robofleet-fleet-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fleet_start_crash_and_stop_leave_nothing, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("fleet", tests, NULL, NULL);
}
