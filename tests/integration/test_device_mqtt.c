/*
 * robofleet-device against a real mosquitto on a free loopback port, watched
 * by an ordinary MQTT client: the acceptance checks of the device, end to end.
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
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "robot.h"
#include "world.h"

#define INTERVAL_S 0.5
#define KEEPALIVE_S 5

struct fixture {
	struct broker broker;
	char state_dir[300];
	pid_t devices[8];   /* started by the running test, killed after it */
	int n_devices;
};

static struct fixture fx;

static int group_setup(void **state)
{
	(void)state;
	if (broker_start(&fx.broker) != 0) {
		fprintf(stderr, "cannot start mosquitto\n");
		return -1;
	}
	snprintf(fx.state_dir, sizeof(fx.state_dir), "%s/state", fx.broker.dir);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[600];

	(void)state;
	broker_stop(&fx.broker);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.broker.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A failed assertion leaves the test early: never leave its devices behind. */
static int test_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < fx.n_devices; i++)
		if (process_alive(fx.devices[i]))
			process_stop(fx.devices[i], SIGKILL, 5);
	fx.n_devices = 0;
	return 0;
}

static void topic(char *out, size_t len, const char *id, const char *leaf)
{
	snprintf(out, len, "sensors/%s/%s", id, leaf);
}

static pid_t start(const char *id, const char *const extra[])
{
	const char *base[] = { "--interval", "500ms", "--keepalive", "5s",
			       "--temperature", "22.5", "--humidity", "40",
			       "--distance", "120", "--seed", "7", NULL };
	const char *argv[40];
	int n = 0;

	for (int i = 0; base[i]; i++)
		argv[n++] = base[i];
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t pid = device_start(fx.broker.port, id, fx.state_dir, argv);
	assert_true(pid > 0);
	if (fx.n_devices < 8)
		fx.devices[fx.n_devices++] = pid;
	return pid;
}

static void test_device_publishes_contract_payloads(void **state)
{
	const char *id = "it_contract";
	char data[96], status[96], got[64];
	struct observer *o;
	size_t cur = 0;
	double prev_seq = 0, boot = 0;
	pid_t pid;

	(void)state;
	topic(data, sizeof(data), id, "data");
	topic(status, sizeof(status), id, "status");
	o = observer_start(fx.broker.port, "sensors/it_contract/#");
	assert_non_null(o);
	pid = start(id, NULL);

	assert_non_null(observer_wait(o, status, &(size_t){ 0 }, 5));
	for (int i = 0; i < 4; i++) {
		const struct message *m = observer_wait(o, data, &cur, 5 * INTERVAL_S + 2);
		double seq, v;

		assert_non_null(m);
		assert_true(json_string(m->payload, "device_id", got, sizeof(got)));
		assert_string_equal(got, id);
		assert_true(json_number(m->payload, "boot", &boot));
		assert_true(boot >= 1);
		assert_true(json_number(m->payload, "seq", &seq));
		if (i > 0)
			assert_true(seq == prev_seq + 1);
		prev_seq = seq;
		assert_true(json_string(m->payload, "timestamp", got, sizeof(got)));
		/* 2026-11-24T10:30:45.123Z and close to the wall clock */
		assert_int_equal(strlen(got), 24);
		assert_int_equal(got[10], 'T');
		assert_int_equal(got[19], '.');
		assert_int_equal(got[23], 'Z');
		{
			struct tm tm = { 0 };
			assert_non_null(strptime(got, "%Y-%m-%dT%H:%M:%S", &tm));
			double skew = difftime(time(NULL), timegm(&tm));
			assert_true(skew > -2 && skew < 5);
		}
		assert_true(json_number(m->payload, "temperature", &v));
		assert_float_equal(v, 22.5, 0.05);
		assert_true(json_number(m->payload, "humidity", &v));
		assert_float_equal(v, 40.0, 0.05);
		assert_true(json_number(m->payload, "distance", &v));
		assert_float_equal(v, 120.0, 0.3); /* HC-SR04 resolution is ~3 mm */
		assert_null(strstr(m->payload, "errors"));
		assert_null(strstr(m->payload, "nan"));
	}
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
}

static void test_device_online_is_retained(void **state)
{
	const char *id = "it_retained";
	char status[96], data[96];
	struct observer *live, *late;
	const struct message *m;
	size_t cur = 0;
	pid_t pid;

	(void)state;
	topic(status, sizeof(status), id, "status");
	topic(data, sizeof(data), id, "data");
	live = observer_start(fx.broker.port, "sensors/it_retained/#");
	assert_non_null(live);
	pid = start(id, NULL);
	assert_non_null(observer_wait(live, data, &cur, 5));

	/* A client that arrives later still learns the device is online. */
	late = observer_start(fx.broker.port, "sensors/it_retained/status");
	assert_non_null(late);
	cur = 0;
	m = observer_wait(late, status, &cur, 5);
	assert_non_null(m);
	assert_string_equal(m->payload, "online");
	assert_true(m->retained);
	observer_stop(late);
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(live);
}

static void test_device_stop_halts_and_start_resumes(void **state)
{
	const char *id = "it_stopstart";
	char data[96], cmd[96];
	struct observer *o;
	const struct message *m;
	size_t cur = 0, mark;
	double last_seq = 0, seq = 0;
	pid_t pid;

	(void)state;
	topic(data, sizeof(data), id, "data");
	topic(cmd, sizeof(cmd), id, "command");
	o = observer_start(fx.broker.port, "sensors/it_stopstart/#");
	assert_non_null(o);
	pid = start(id, NULL);
	assert_non_null(observer_wait(o, data, &cur, 5));

	assert_int_equal(mqtt_publish_once(fx.broker.port, cmd, "stop", 4), 0);
	double stopped_at = now_s();
	/* Allowed: what was already due in the next two intervals. */
	while ((m = observer_wait(o, data, &cur, 0)) != NULL || now_s() < stopped_at + 2 * INTERVAL_S) {
		if (m) {
			assert_true(m->at < stopped_at + 2 * INTERVAL_S);
			assert_true(json_number(m->payload, "seq", &last_seq));
		} else {
			m = observer_wait(o, data, &cur, stopped_at + 2 * INTERVAL_S - now_s());
			if (m) {
				assert_true(m->at < stopped_at + 2 * INTERVAL_S + 0.05);
				assert_true(json_number(m->payload, "seq", &last_seq));
			}
		}
	}
	/* Then silence for four more intervals. */
	mark = observer_count(o);
	assert_null(observer_wait(o, data, &cur, 4 * INTERVAL_S));
	assert_int_equal(observer_count_topic(o, data, mark), 0);
	assert_true(process_alive(pid));

	/* The JSON form resumes it, and the sequence carries on. */
	const char *start_json = "{\"action\": \"start\"}";
	assert_int_equal(mqtt_publish_once(fx.broker.port, cmd, start_json, strlen(start_json)), 0);
	m = observer_wait(o, data, &cur, 2 * INTERVAL_S + 1);
	assert_non_null(m);
	assert_true(json_number(m->payload, "seq", &seq));
	if (last_seq > 0)
		assert_true(seq == last_seq + 1);
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
}

static void test_device_survives_garbage_commands(void **state)
{
	const char *id = "it_garbage";
	char data[96], cmd[96];
	struct observer *o;
	size_t cur = 0;
	uint64_t x = 0x243f6a8885a308d3ull;
	size_t big = 100 * 1024;
	uint8_t *noise = malloc(big);
	pid_t pid;

	(void)state;
	assert_non_null(noise);
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		noise[i] = (uint8_t)x;
	}
	topic(data, sizeof(data), id, "data");
	topic(cmd, sizeof(cmd), id, "command");
	o = observer_start(fx.broker.port, "sensors/it_garbage/#");
	assert_non_null(o);
	pid = start(id, NULL);
	assert_non_null(observer_wait(o, data, &cur, 5));

	assert_int_equal(mqtt_publish_once(fx.broker.port, cmd, noise, big), 0);
	assert_int_equal(mqtt_publish_once(fx.broker.port, cmd, "{\"action\":", 10), 0);
	assert_int_equal(mqtt_publish_once(fx.broker.port, cmd, "STOP", 4), 0);
	assert_int_equal(mqtt_publish_once(fx.broker.port, cmd, "", 0), 0);
	size_t after = observer_count(o);
	/* Still alive and still publishing: nothing was taken as "stop". */
	for (int i = 0; i < 3; i++)
		assert_non_null(observer_wait(o, data, &cur, 2 * INTERVAL_S + 1));
	assert_true(observer_count_topic(o, data, after) >= 3);
	assert_true(process_alive(pid));
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
	free(noise);
}

static void test_device_kill_gives_offline_by_will(void **state)
{
	const char *id = "it_will";
	char status[96], data[96];
	struct observer *o, *late;
	const struct message *m;
	size_t cur = 0;
	pid_t pid;
	double killed_at;

	(void)state;
	topic(status, sizeof(status), id, "status");
	topic(data, sizeof(data), id, "data");
	o = observer_start(fx.broker.port, "sensors/it_will/#");
	assert_non_null(o);
	pid = start(id, NULL);
	assert_non_null(observer_wait(o, data, &cur, 5));

	killed_at = now_s();
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	do {
		m = observer_wait(o, status, &cur, killed_at + 1.5 * KEEPALIVE_S - now_s());
	} while (m && strcmp(m->payload, "offline") != 0);
	assert_non_null(m);
	assert_true(m->at - killed_at <= 1.5 * KEEPALIVE_S);

	late = observer_start(fx.broker.port, "sensors/it_will/status");
	assert_non_null(late);
	cur = 0;
	m = observer_wait(late, status, &cur, 5);
	assert_non_null(m);
	assert_string_equal(m->payload, "offline");
	assert_true(m->retained);
	observer_stop(late);
	observer_stop(o);
}

static void test_device_sigterm_says_offline_and_exits_zero(void **state)
{
	const char *id = "it_sigterm";
	char status[96], data[96];
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	pid_t pid;

	(void)state;
	topic(status, sizeof(status), id, "status");
	topic(data, sizeof(data), id, "data");
	o = observer_start(fx.broker.port, "sensors/it_sigterm/#");
	assert_non_null(o);
	pid = start(id, NULL);
	assert_non_null(observer_wait(o, data, &cur, 5));
	int status_code = process_stop(pid, SIGTERM, 5);
	assert_true(WIFEXITED(status_code));
	assert_int_equal(WEXITSTATUS(status_code), 0);
	do {
		m = observer_wait(o, status, &cur, 2);
	} while (m && strcmp(m->payload, "offline") != 0);
	assert_non_null(m);
	observer_stop(o);
}

static void test_device_boot_counter_persists(void **state)
{
	const char *id = "it_boot";
	char data[96];
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double boot1, boot2, seq;
	pid_t pid;

	(void)state;
	topic(data, sizeof(data), id, "data");
	o = observer_start(fx.broker.port, "sensors/it_boot/data");
	assert_non_null(o);
	pid = start(id, NULL);
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot1));
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);

	pid = start(id, NULL);
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot2));
	assert_true(json_number(m->payload, "seq", &seq));
	assert_true(boot2 == boot1 + 1);
	assert_true(seq == 1);
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
}

static void test_device_per_metric_topics(void **state)
{
	const char *id = "it_metric";
	const char *extra[] = { "--topic-style", "per-metric", NULL };
	char t[96], h[96], d[96];
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	pid_t pid;

	(void)state;
	topic(t, sizeof(t), id, "temperature");
	topic(h, sizeof(h), id, "humidity");
	topic(d, sizeof(d), id, "distance");
	o = observer_start(fx.broker.port, "sensors/it_metric/#");
	assert_non_null(o);
	pid = start(id, extra);
	m = observer_wait(o, t, &cur, 5);
	assert_non_null(m);
	assert_string_equal(m->payload, "22.5");
	m = observer_wait(o, h, &cur, 5);
	assert_non_null(m);
	assert_string_equal(m->payload, "40.0");
	m = observer_wait(o, d, &cur, 5);
	assert_non_null(m);
	assert_string_equal(m->payload, "120.0");
	assert_int_equal(observer_count_topic(o, "sensors/it_metric/data", 0), 0);
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
}

static void test_device_names_sensor_errors_not_numbers(void **state)
{
	const char *id = "it_fault";
	const char *extra[] = { "--dht-fault", "checksum", NULL };
	char data[96];
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double v;
	pid_t pid;

	(void)state;
	topic(data, sizeof(data), id, "data");
	o = observer_start(fx.broker.port, "sensors/it_fault/data");
	assert_non_null(o);
	pid = start(id, extra);
	for (int i = 0; i < 3; i++) {
		m = observer_wait(o, data, &cur, 5);
		assert_non_null(m);
		assert_false(json_number(m->payload, "temperature", &v) &&
			     strstr(m->payload, "\"temperature\":\"") == NULL);
		assert_non_null(strstr(m->payload, "\"errors\":{\"temperature\":\"checksum\""));
		assert_true(json_number(m->payload, "distance", &v));
		assert_float_equal(v, 120.0, 0.3);
	}
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
}

static void test_device_reconnects_after_broker_restart(void **state)
{
	const char *id = "it_reconnect";
	const char *extra[] = { "--backoff-base", "100ms", "--backoff-cap", "1s", NULL };
	char data[96], status[96];
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double seq_before = 0, seq_after = 0;
	pid_t pid;

	(void)state;
	topic(data, sizeof(data), id, "data");
	topic(status, sizeof(status), id, "status");
	o = observer_start(fx.broker.port, "sensors/it_reconnect/#");
	assert_non_null(o);
	pid = start(id, extra);
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "seq", &seq_before));
	observer_stop(o);

	broker_stop(&fx.broker);
	assert_int_equal(broker_restart(&fx.broker), 0);
	o = observer_start(fx.broker.port, "sensors/it_reconnect/#");
	assert_non_null(o);
	cur = 0;
	/* Back within the backoff cap plus a publish interval or two. */
	do {
		m = observer_wait(o, status, &cur, 5);
	} while (m && strcmp(m->payload, "online") != 0);
	assert_non_null(m);
	cur = 0;
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "seq", &seq_after));
	assert_true(seq_after > seq_before);
	assert_true(process_alive(pid));
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
}

static void test_device_follows_world_environment(void **state)
{
	const char *id = "it_world";
	char data[96], world_path[400], slot_arg[8] = "0";
	const char *extra[] = { "--world", world_path, "--slot", slot_arg, NULL };
	struct world w;
	struct world_env env = { 22.5, 40.0, 120.0, 0.0 };
	struct world_report rep;
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double v = 0;
	pid_t pid;

	(void)state;
	snprintf(world_path, sizeof(world_path), "%s/world", fx.broker.dir);
	assert_int_equal(world_create(world_path, 1, "it", &w), 0);
	snprintf(world_get_slot(&w, 0)->device_id, WORLD_ID_MAX + 1, "%s", id);
	world_write_env(world_get_slot(&w, 0), &env);
	topic(data, sizeof(data), id, "data");
	o = observer_start(fx.broker.port, "sensors/it_world/data");
	assert_non_null(o);
	pid = start(id, extra);  /* the command line says 22.5 too; the world rules */

	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "temperature", &v));
	assert_float_equal(v, 22.5, 0.05);

	/* The scenario changes the room; the readings follow through the
	 * median filter within a few DHT22 periods. */
	env.temperature_c = 30.0;
	env.distance_cm = 55.5;
	world_write_env(world_get_slot(&w, 0), &env);
	double until = now_s() + 10;
	bool followed = false;
	while (!followed && (m = observer_wait(o, data, &cur, until - now_s())) != NULL) {
		double d = 0;
		followed = json_number(m->payload, "temperature", &v) && v > 29.95 && v < 30.05 &&
			   json_number(m->payload, "distance", &d) && d > 55.2 && d < 55.8;
	}
	assert_true(followed);

	/* And the device reports itself into its slot. */
	assert_int_equal(world_read_report(world_get_slot(&w, 0), &rep), 0);
	assert_int_equal(atomic_load(&world_get_slot(&w, 0)->pid), pid);
	assert_int_equal(rep.state, ROBOT_ONLINE);
	assert_true(rep.counters.published >= 3);
	assert_int_equal(rep.temp_dc, 300);
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	/* A device that left clears its pid. */
	assert_int_equal(atomic_load(&world_get_slot(&w, 0)->pid), 0);
	world_close(&w);
	observer_stop(o);
}

static void test_device_keepalive_holds_while_stopped(void **state)
{
	const char *id = "it_keepalive";
	char status[96], cmd[96], data[96];
	struct observer *o;
	const struct message *m;
	size_t cur = 0, scur = 0;
	pid_t pid;

	(void)state;
	topic(status, sizeof(status), id, "status");
	topic(cmd, sizeof(cmd), id, "command");
	topic(data, sizeof(data), id, "data");
	o = observer_start(fx.broker.port, "sensors/it_keepalive/#");
	assert_non_null(o);
	pid = start(id, NULL);
	assert_non_null(observer_wait(o, data, &cur, 5));
	assert_int_equal(mqtt_publish_once(fx.broker.port, cmd, "stop", 4), 0);
	/* A stopped robot has nothing to publish for a long time; its
	 * keepalive must still reach the broker, or the will would fire after
	 * 1.5 x keepalive and the robot would reconnect. */
	m = observer_wait(o, status, &scur, 5);
	assert_non_null(m);
	assert_string_equal(m->payload, "online");
	/* mosquitto checks keepalives lazily when idle; 4x leaves no doubt. */
	assert_null(observer_wait(o, status, &scur, 4 * KEEPALIVE_S));
	assert_true(process_alive(pid));
	assert_int_equal(process_stop(pid, SIGTERM, 5), 0);
	observer_stop(o);
}

static void test_device_survives_a_refusing_broker(void **state)
{
	struct broker strict;
	char dir[400];
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(broker_start_opts(&strict, false), 0);
	snprintf(dir, sizeof(dir), "%s/state", strict.dir);
	const char *extra[] = { "--backoff-base", "50ms", "--backoff-cap", "200ms", NULL };
	const char *argv[] = { "--interval", "500ms", extra[0], extra[1], extra[2], extra[3], NULL };
	pid = device_start(strict.port, "it_refused", dir, argv);
	assert_true(pid > 0);
	fx.devices[fx.n_devices++] = pid;
	/* Refused CONNACKs, over and over: 3 s of them at a 200 ms cap. Under
	 * the sanitizers a use-after-free here would kill the process. */
	struct observer *o = observer_start(fx.broker.port, "nothing/#");
	assert_non_null(o);
	assert_null(observer_wait(o, "nothing/x", &(size_t){ 0 }, 3));
	observer_stop(o);
	assert_true(process_alive(pid));
	status = process_stop(pid, SIGTERM, 5);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	broker_stop(&strict);
	/* It kept trying, with backoff: each refusal is one line in the log. */
	{
		char log[500], line[512];
		int refusals = 0;
		snprintf(log, sizeof(log), "%s/mosquitto.log", strict.dir);
		FILE *f = fopen(log, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			refusals += strstr(line, "not authorised") != NULL;
		fclose(f);
		assert_true(refusals >= 5);
	}
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", strict.dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- store and forward across broker outages and power cuts ------------- */

#define OB_MAX 200

/* A device with a world slot, so that its counters can be watched. */
struct ob_rig {
	struct world w;
	char world_path[400];
	char id[32];
	char data[96];
};

static void ob_rig_open(struct ob_rig *g, const char *id)
{
	snprintf(g->world_path, sizeof(g->world_path), "%s/world_%s", fx.broker.dir, id);
	assert_int_equal(world_create(g->world_path, 1, "it", &g->w), 0);
	snprintf(world_get_slot(&g->w, 0)->device_id, WORLD_ID_MAX + 1, "%s", id);
	snprintf(g->id, sizeof(g->id), "%s", id);
	topic(g->data, sizeof(g->data), id, "data");
}

static pid_t ob_rig_start(struct ob_rig *g)
{
	const char *extra[] = { "--world", g->world_path, "--slot", "0",
				"--backoff-base", "100ms", "--backoff-cap", "1s", NULL };

	return start(g->id, extra);
}

static void ob_report(struct ob_rig *g, struct world_report *rep)
{
	assert_int_equal(world_read_report(world_get_slot(&g->w, 0), rep), 0);
}

/*
 * Wait until the device's report satisfies @field >= @n. The report is
 * shared memory with no event to wait on, so this polls it.
 */
#define OB_WAIT(g, field, n, timeout_s)                                           \
	do {                                                                      \
		struct world_report rep_;                                         \
		double until_ = now_s() + (timeout_s);                            \
		for (;;) {                                                        \
			ob_report((g), &rep_);                                    \
			if (rep_.field >= (n))                                    \
				break;                                            \
			assert_true(now_s() < until_);                            \
			poll(NULL, 0, 20);                                        \
		}                                                                 \
	} while (0)

/*
 * Bring the broker back so that an observer is subscribed before the device
 * can deliver its backlog: the device's link is held down (through the
 * world) until the observer is listening.
 */
static struct observer *ob_broker_back(struct ob_rig *g, const char *pattern)
{
	const struct world_faults down = { .link_mode = WORLD_LINK_DOWN, .seed = 1 };
	const struct world_faults none = { 0 };
	struct world_report rep;
	struct observer *o;

	ob_report(g, &rep);
	world_write_faults(world_get_slot(&g->w, 0), &down);
	/* It has seen the link go once an association attempt fails. */
	OB_WAIT(g, counters.link_failures, rep.counters.link_failures + 1, 10);
	assert_int_equal(broker_restart(&fx.broker), 0);
	o = observer_start(fx.broker.port, pattern);
	assert_non_null(o);
	world_write_faults(world_get_slot(&g->w, 0), &none);
	return o;
}

/* What arrived of one boot: copies per seq, and for first copies their times. */
struct ob_log {
	int seen[OB_MAX];
	double ts[OB_MAX], at[OB_MAX];
	double last_first;  /* seq of the latest first copy */
};

static double payload_time(const char *payload);

/* Note @m, a reading of boot @boot; first copies must come in order of seq. */
static void ob_note(struct ob_log *l, const struct message *m, double boot)
{
	double b, seq;

	assert_true(json_number(m->payload, "boot", &b));
	assert_true(b == boot);
	assert_true(json_number(m->payload, "seq", &seq));
	assert_true(seq >= 1 && seq < OB_MAX);
	if (l->seen[(int)seq]++ == 0) {
		assert_true(seq > l->last_first);
		l->last_first = seq;
		l->ts[(int)seq] = payload_time(m->payload);
		l->at[(int)seq] = m->at;
	}
}

/* Note everything @o has logged on @topic since *@cur. */
static void ob_note_all(struct ob_log *l, struct observer *o, const char *topic, size_t *cur,
			double boot)
{
	const struct message *m;

	while ((m = observer_wait(o, topic, cur, 0)) != NULL)
		ob_note(l, m, boot);
}

/* Wall-clock seconds of a payload's "timestamp". */
static double payload_time(const char *payload)
{
	char ts[40];
	struct tm tm = { 0 };
	const char *rest;

	assert_true(json_string(payload, "timestamp", ts, sizeof(ts)));
	rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(rest);
	return (double)timegm(&tm) + atof(rest);
}

static void test_device_outbox_delivers_a_broker_outage_in_order(void **state)
{
	static struct ob_rig g;
	static struct ob_log l;
	struct observer *o;
	const struct message *m;
	struct world_report rep;
	size_t cur = 0;
	double boot, first, last;

	(void)state;
	memset(&l, 0, sizeof(l));
	ob_rig_open(&g, "it_outage");
	o = observer_start(fx.broker.port, "sensors/it_outage/data");
	assert_non_null(o);
	ob_rig_start(&g);
	m = observer_wait(o, g.data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot));
	assert_true(json_number(m->payload, "seq", &first));
	ob_note(&l, m, boot);

	/* The broker is gone for about five publish intervals. */
	broker_stop(&fx.broker);
	ob_note_all(&l, o, g.data, &cur, boot);
	observer_stop(o);
	OB_WAIT(&g, counters.buffered, 5u, 10);
	o = ob_broker_back(&g, "sensors/it_outage/data");
	ob_report(&g, &rep);
	last = rep.seq + 2; /* and a couple taken after it is back */

	/* Every reading from the first one on arrives; first copies in order of seq. */
	cur = 0;
	while (!l.seen[(int)last]) {
		m = observer_wait(o, g.data, &cur, 10);
		assert_non_null(m);
		ob_note(&l, m, boot);
		assert_null(strstr(m->payload, "dropped"));
	}
	for (int q = (int)first; q <= (int)last; q++)
		assert_true(l.seen[q] >= 1);
	/* They kept the times they were taken at, one interval apart... */
	for (int q = (int)first + 1; q <= (int)last; q++) {
		double gap = l.ts[q] - l.ts[q - 1];
		assert_true(gap > INTERVAL_S * 0.5 && gap < INTERVAL_S * 1.5);
	}
	/* ...although at least five of them arrived together. */
	{
		int burst = 0;
		for (int q = (int)first + 1; q <= (int)last; q++)
			burst += l.at[q] - l.at[q - 1] < INTERVAL_S * 0.25;
		assert_true(burst >= 4);
	}
	/* Every one of them acknowledged in the end, none dropped. */
	OB_WAIT(&g, counters.acknowledged, (uint32_t)last, 5);
	ob_report(&g, &rep);
	assert_int_equal(rep.counters.dropped, 0);
	assert_true(rep.counters.redelivered + rep.counters.published >= (uint32_t)last);
	observer_stop(o);
	world_close(&g.w);
}

static void test_device_outbox_survives_a_power_cut_while_offline(void **state)
{
	static struct ob_rig g;
	static struct ob_log l;
	struct observer *o;
	const struct message *m;
	struct world_report rep;
	size_t cur = 0;
	double boot, seq, b, first;
	pid_t pid;

	(void)state;
	memset(&l, 0, sizeof(l));
	ob_rig_open(&g, "it_powercut");
	o = observer_start(fx.broker.port, "sensors/it_powercut/data");
	assert_non_null(o);
	pid = ob_rig_start(&g);
	m = observer_wait(o, g.data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot));
	assert_true(json_number(m->payload, "seq", &first));
	ob_note(&l, m, boot);

	/* Broker down, a few readings taken, then the power goes. */
	broker_stop(&fx.broker);
	ob_note_all(&l, o, g.data, &cur, boot);
	observer_stop(o);
	OB_WAIT(&g, counters.buffered, 3u, 10);
	ob_report(&g, &rep);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);

	/* Power back (still no broker), then the broker. */
	ob_rig_start(&g);
	OB_WAIT(&g, boot, (uint32_t)boot + 1, 10);
	o = ob_broker_back(&g, "sensors/it_powercut/data");

	/* The old boot's readings first, in order and with their boot number... */
	cur = 0;
	for (;;) {
		m = observer_wait(o, g.data, &cur, 10);
		assert_non_null(m);
		assert_true(json_number(m->payload, "boot", &b));
		if (b == boot + 1)
			break;
		ob_note(&l, m, boot);
	}
	for (int q = (int)first; q <= (int)rep.seq; q++)
		assert_true(l.seen[q] >= 1);
	/* ...then the new boot's, from 1. */
	assert_true(json_number(m->payload, "seq", &seq));
	assert_true(seq == 1);
	m = observer_wait(o, g.data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &b));
	assert_true(json_number(m->payload, "seq", &seq));
	assert_true(b == boot + 1 && seq == 2);
	observer_stop(o);
	world_close(&g.w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_device_publishes_contract_payloads, test_teardown),
		cmocka_unit_test_teardown(test_device_online_is_retained, test_teardown),
		cmocka_unit_test_teardown(test_device_stop_halts_and_start_resumes, test_teardown),
		cmocka_unit_test_teardown(test_device_survives_garbage_commands, test_teardown),
		cmocka_unit_test_teardown(test_device_kill_gives_offline_by_will, test_teardown),
		cmocka_unit_test_teardown(test_device_sigterm_says_offline_and_exits_zero, test_teardown),
		cmocka_unit_test_teardown(test_device_boot_counter_persists, test_teardown),
		cmocka_unit_test_teardown(test_device_per_metric_topics, test_teardown),
		cmocka_unit_test_teardown(test_device_names_sensor_errors_not_numbers, test_teardown),
		cmocka_unit_test_teardown(test_device_reconnects_after_broker_restart, test_teardown),
		cmocka_unit_test_teardown(test_device_follows_world_environment, test_teardown),
		cmocka_unit_test_teardown(test_device_keepalive_holds_while_stopped, test_teardown),
		cmocka_unit_test_teardown(test_device_survives_a_refusing_broker, test_teardown),
		cmocka_unit_test_teardown(test_device_outbox_delivers_a_broker_outage_in_order,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_outbox_survives_a_power_cut_while_offline,
					  test_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("device_mqtt", tests, group_setup, group_teardown);
}
