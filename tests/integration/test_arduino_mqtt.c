/*
 * Arduino sketches built by `robofleet build` and run as devices against a
 * real mosquitto: PubSubClient's connect, will, subscribe, buffer limit,
 * streamed publish and callback; a sketch blocked in delay() past its
 * keepalive dropped by the broker; a sketch device clean under valgrind.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char work[] = "/tmp/robofleet-arduino-XXXXXX";

static int build_sketch(const char *name)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "ROBOFLEET_CACHE_DIR='%s/cache' '%s' build '%s/tests/integration/sketches/%s' "
		 "-o '%s/%s' >'%s/build-%s.log' 2>&1",
		 work, ROBOFLEET_PATH, ROBOFLEET_SOURCE_DIR, name, work, name, work, name);
	return system(cmd);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(work))
		return -1;
	/* The sketches build once, through the command users run. */
	if (build_sketch("mqtt_client") != 0 || build_sketch("keepalive") != 0) {
		fprintf(stderr, "robofleet build failed; see %s/build-*.log\n", work);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static pid_t start_sketch(const char *name, int port, const char *id, char *log, size_t log_len)
{
	char program[600], state_dir[600];

	snprintf(program, sizeof(program), "%s/%s", work, name);
	snprintf(state_dir, sizeof(state_dir), "%s/state-%s", work, id);
	snprintf(log, log_len, "%s/%s.log", work, id);
	return device_start_program(program, port, id, state_dir, log, NULL);
}

static void test_arduino_client_publish_subscribe_buffer_and_will(void **state)
{
	struct broker b;
	struct observer *o;
	const struct message *m;
	char log[600];
	size_t cur = 0;
	pid_t pid;
	char *text;

	(void)state;
	assert_int_equal(broker_start(&b), 0);
	o = observer_start(b.port, "test/#");
	assert_non_null(o);
	pid = start_sketch("mqtt_client", b.port, "basic", log, sizeof(log));
	assert_true(pid > 0);

	/* Connected with credentials and a will, subscribed: it says hello. */
	assert_non_null(observer_wait(o, "test/basic/hello", &cur, 30));
	assert_int_equal(mqtt_publish_once(b.port, "test/go", "1", 1), 0);
	m = observer_wait(o, "test/basic/ready", &cur, 30);
	assert_non_null(m);
	/* The 300-byte publish fails with the 256-byte default buffer and goes
	 * through after setBufferSize(512): exactly one arrives, whole. */
	assert_int_equal(observer_count_topic(o, "test/basic/big", 0), 1);
	cur = 0;
	m = observer_wait(o, "test/basic/big", &cur, 1);
	assert_non_null(m);
	assert_int_equal(m->len, 300);
	cur = 0;
	m = observer_wait(o, "test/basic/streamed", &cur, 1);
	assert_non_null(m);
	assert_string_equal(m->payload, "hello");

	/* The QoS 1 subscription delivers to the callback, which publishes. */
	assert_int_equal(mqtt_publish_once(b.port, "test/basic/in", "ping", 4), 0);
	m = observer_wait(o, "test/basic/echo", &cur, 30);
	assert_non_null(m);
	assert_string_equal(m->payload, "echo:ping");

	/* A power cut: the broker publishes the will the sketch registered. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	m = observer_wait(o, "test/basic/will", &cur, 30);
	assert_non_null(m);
	assert_string_equal(m->payload, "gone");

	text = slurp(log);
	assert_non_null(text);
	assert_non_null(strstr(text, "serial: connected state 0"));
	assert_non_null(strstr(text, "serial: subscribe 1"));
	assert_non_null(strstr(text, "serial: big default 0"));
	assert_non_null(strstr(text, "serial: buffer 512 1"));
	assert_non_null(strstr(text, "serial: big 512 1"));
	assert_non_null(strstr(text, "serial: got [test/basic/in] ping"));
	free(text);
	observer_stop(o);
	broker_stop(&b);
}

static void test_arduino_keepalive_blocked_in_delay_is_dropped(void **state)
{
	struct broker b;
	struct observer *o;
	const struct message *m;
	char log[600];
	size_t cur = 0;
	double before_at;
	pid_t pid;

	(void)state;
	assert_int_equal(broker_start(&b), 0);
	o = observer_start(b.port, "test/#");
	assert_non_null(o);
	pid = start_sketch("keepalive", b.port, "ka", log, sizeof(log));
	assert_true(pid > 0);
	assert_non_null(observer_wait(o, "test/ka/hello", &cur, 30));
	assert_int_equal(mqtt_publish_once(b.port, "test/go", "1", 1), 0);
	m = observer_wait(o, "test/ka/before", &cur, 30);
	assert_non_null(m);
	before_at = m->at;

	/* Keepalive 5 s, no PINGREQ while in delay(12000): the broker gives up
	 * after 1.5 x 5 s and publishes the will. */
	m = observer_wait(o, "test/ka/will", &cur, 30);
	assert_non_null(m);
	assert_string_equal(m->payload, "dropped");
	assert_true(m->at - before_at >= 6.5);
	assert_true(m->at - before_at < 12.0);

	/* After the delay the sketch finds its session lost. */
	m = observer_wait(o, "test/ka/after", &cur, 30);
	assert_non_null(m);
	assert_string_equal(m->payload, "connected=0 state=-3");

	assert_true(process_stop(pid, SIGTERM, 30) == 0);
	observer_stop(o);
	broker_stop(&b);
}

static void test_arduino_sketch_device_clean_under_valgrind(void **state)
{
#if defined(ROBOFLEET_VALGRIND) && !defined(ROBOFLEET_SANITIZE)
	struct broker b;
	struct observer *o;
	char log[600];
	size_t cur = 0;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(broker_start(&b), 0);
	o = observer_start(b.port, "test/#");
	assert_non_null(o);
	setenv("ROBOFLEET_DEVICE_WRAPPER",
	       ROBOFLEET_VALGRIND " --quiet --leak-check=full "
	       "--show-leak-kinds=definite,indirect,possible "
	       "--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99", 1);
	pid = start_sketch("mqtt_client", b.port, "vg", log, sizeof(log));
	unsetenv("ROBOFLEET_DEVICE_WRAPPER");
	assert_true(pid > 0);
	assert_non_null(observer_wait(o, "test/basic/hello", &cur, 60));
	assert_int_equal(mqtt_publish_once(b.port, "test/go", "1", 1), 0);
	assert_non_null(observer_wait(o, "test/basic/ready", &cur, 60));
	/* Ten seconds of loop(), an echo in the middle, then SIGTERM. */
	double until = now_s() + 10.0;
	assert_int_equal(mqtt_publish_once(b.port, "test/basic/in", "vg", 2), 0);
	assert_non_null(observer_wait(o, "test/basic/echo", &cur, 30));
	while (now_s() < until)
		observer_wait(o, "test/none", &cur, until - now_s());
	status = process_stop(pid, SIGTERM, 60);
	if (status != 0) {
		char *text = slurp(log);
		fprintf(stderr, "%s\n", text ? text : "(no log)");
		free(text);
	}
	assert_int_equal(status, 0);
	observer_stop(o);
	broker_stop(&b);
#else
	(void)state;
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arduino_client_publish_subscribe_buffer_and_will),
		cmocka_unit_test(test_arduino_keepalive_blocked_in_delay_is_dropped),
		cmocka_unit_test(test_arduino_sketch_device_clean_under_valgrind),
	};

	return cmocka_run_group_tests_name("arduino_mqtt", tests, group_setup, group_teardown);
}
