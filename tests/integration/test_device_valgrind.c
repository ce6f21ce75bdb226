/*
 * robofleet-device under valgrind: 10 s of real publishing against a real
 * broker, then SIGTERM. Any leak or invalid access fails the exit status.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness.h"

#define RUN_S 10.0

static void test_device_valgrind_clean_after_run_and_sigterm(void **state)
{
	struct broker b;
	struct observer *o;
	char state_dir[400], cmd[600];
	const char *extra[] = { "--interval", "500ms", "--log-level", "warn", NULL };
	const struct message *m;
	size_t cur = 0;
	int published = 0, status;
	pid_t pid;

	(void)state;
	assert_int_equal(broker_start(&b), 0);
	snprintf(state_dir, sizeof(state_dir), "%s/state", b.dir);
	o = observer_start(b.port, "sensors/vg_robot/#");
	assert_non_null(o);

	setenv("ROBOFLEET_DEVICE_WRAPPER",
	       "valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible "
	       "--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99", 1);
	pid = device_start(b.port, "vg_robot", state_dir, extra);
	unsetenv("ROBOFLEET_DEVICE_WRAPPER");
	assert_true(pid > 0);

	/* valgrind slows start-up; after the first message, run RUN_S. */
	m = observer_wait(o, "sensors/vg_robot/data", &cur, 30);
	assert_non_null(m);
	double until = now_s() + RUN_S;
	while (now_s() < until)
		if (observer_wait(o, "sensors/vg_robot/data", &cur, until - now_s()))
			published++;
	assert_true(published >= (int)(RUN_S / 0.5) - 3);

	status = process_stop(pid, SIGTERM, 30);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	observer_stop(o);
	broker_stop(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b.dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_valgrind_clean_after_run_and_sigterm),
	};

	return cmocka_run_group_tests_name("device_valgrind", tests, NULL, NULL);
}
