/* sim/broker.c against a real mosquitto: start, kill, restart, stop, no leftovers. */
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

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/robofleet-broker-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool file_contains(const char *path, const char *needle)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void test_broker_lifecycle_on_loopback(void **state)
{
	struct broker b;
	char listener[64];
	pid_t first;

	(void)state;
	assert_int_equal(broker_configure_embedded(&b, dir, 0), 0);
	assert_true(b.port > 0);
	snprintf(listener, sizeof(listener), "listener %d 127.0.0.1\n", b.port);
	assert_true(file_contains(b.conf_path, listener));
	assert_true(file_contains(b.conf_path, "persistence true"));
	assert_false(broker_accepts(&b));

	assert_int_equal(broker_start(&b, 10000), 0);
	assert_true(broker_accepts(&b));
	assert_int_equal(b.state, BROKER_UP);
	assert_int_equal(broker_start(&b, 10000), -EALREADY);
	first = b.pid;

	assert_int_equal(broker_kill(&b), 0);
	assert_false(broker_accepts(&b));
	assert_int_equal(kill(first, 0), -1); /* reaped, not a zombie */
	assert_int_equal(b.state, BROKER_DOWN);

	assert_int_equal(broker_start(&b, 10000), 0);
	assert_true(broker_accepts(&b));
	assert_int_equal(broker_restart(&b, 5000), 0);
	assert_true(broker_accepts(&b));
	assert_int_equal(broker_stop(&b, 5000), 0);
	assert_false(broker_accepts(&b));
	assert_true(file_contains(b.log_path, "running"));
}

/* The recorder's queue holds what the fleet's outboxes hold, never less than the floor. */
static void test_broker_queue_follows_the_fleet(void **state)
{
	struct broker b;

	(void)state;
	assert_int_equal(broker_configure_embedded_access(&b, dir, 0, NULL, 6000000), 0);
	assert_true(file_contains(b.conf_path, "max_queued_messages 6000000\n"));
	assert_int_equal(broker_configure_embedded_access(&b, dir, 0, NULL, 600), 0);
	assert_true(file_contains(b.conf_path, "max_queued_messages 100000\n"));
}

/* mosquitto's notice of a full queue, told apart by client id. */
static void test_broker_log_tells_drops_per_client(void **state)
{
	struct broker b;
	FILE *f;

	(void)state;
	assert_int_equal(broker_configure_embedded(&b, dir, 0), 0);
	assert_false(broker_log_says_dropped(&b, "robofleet-recorder-12")); /* no log yet */
	f = fopen(b.log_path, "w");
	assert_non_null(f);
	fputs("2026-12-08T00:00:01: New client connected from 127.0.0.1:4242 as robofleet-recorder-12\n"
	      "2026-12-08T00:00:09: Outgoing messages are being dropped for client "
	      "robofleet-recorder-123.\n", f);
	fclose(f);
	assert_false(broker_log_says_dropped(&b, "robofleet-recorder-12"));
	assert_true(broker_log_says_dropped(&b, "robofleet-recorder-123"));
	b.external = true; /* not ours: its log is not ours to read */
	assert_false(broker_log_says_dropped(&b, "robofleet-recorder-123"));
}

static void test_broker_external_is_never_managed(void **state)
{
	struct broker b;

	(void)state;
	assert_int_equal(broker_configure_external(&b, "127.0.0.1", 1883), 0);
	assert_int_equal(broker_start(&b, 100), -ENOTSUP);
	assert_int_equal(broker_stop(&b, 100), -ENOTSUP);
	assert_int_equal(broker_kill(&b), -ENOTSUP);
	assert_int_equal(broker_configure_external(&b, "", 1883), -EINVAL);
	assert_int_equal(broker_configure_external(&b, "h", 0), -EINVAL);
	assert_int_equal(broker_configure_external(&b, "h", 65536), -EINVAL);
}

static void test_broker_port_in_use_is_reported(void **state)
{
	struct broker a, b;

	(void)state;
	assert_int_equal(broker_configure_embedded(&a, dir, 0), 0);
	assert_int_equal(broker_start(&a, 10000), 0);
	/* A second broker on a taken port must not pass for a running one. */
	assert_int_equal(broker_configure_embedded(&b, dir, a.port), 0);
	assert_int_equal(broker_start(&b, 3000), -EADDRINUSE);
	assert_int_equal(b.pid, 0);
	assert_int_equal(broker_stop(&a, 5000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_broker_lifecycle_on_loopback, setup, teardown),
		cmocka_unit_test(test_broker_external_is_never_managed),
		cmocka_unit_test_setup_teardown(test_broker_queue_follows_the_fleet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broker_log_tells_drops_per_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broker_port_in_use_is_reported, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("broker", tests, NULL, NULL);
}
