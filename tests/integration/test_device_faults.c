/*
 * Faults written into a device's world slot, as robofleet run writes them,
 * seen from the outside: a real mosquitto, a real robofleet-device, and an
 * ordinary MQTT client watching what the broker publishes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "robot.h"
#include "world.h"

#define KEEPALIVE_S 5
#define INTERVAL_S 0.5

struct fixture {
	struct broker broker;
	char state_dir[300];
	char world_path[400];
	struct world world;
	pid_t device;
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
	/* ROBOFLEET_KEEP_IT_DIR=1 keeps the broker log for a post-mortem. */
	if (getenv("ROBOFLEET_KEEP_IT_DIR")) {
		fprintf(stderr, "kept %s\n", fx.broker.dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.broker.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A failed assertion leaves the test early: never leave the device behind. */
static int test_teardown(void **state)
{
	(void)state;
	if (fx.device > 0 && process_alive(fx.device))
		process_stop(fx.device, SIGKILL, 5);
	fx.device = 0;
	if (fx.world.hdr)
		world_close(&fx.world);
	unlink(fx.world_path);
	return 0;
}

static struct world_slot *slot0(void)
{
	return world_get_slot(&fx.world, 0);
}

/* A one-slot world for @id and the device on it. */
static void start_device(const char *id)
{
	const char *argv[] = { "--interval", "500ms", "--keepalive", "5s",
			       "--temperature", "22.5", "--humidity", "40",
			       "--distance", "120", "--seed", "7",
			       "--backoff-base", "100ms", "--backoff-cap", "1s",
			       "--world", fx.world_path, "--slot", "0", NULL };

	snprintf(fx.world_path, sizeof(fx.world_path), "%s/world-%s", fx.broker.dir, id);
	assert_int_equal(world_create(fx.world_path, 1, "it", &fx.world), 0);
	snprintf(slot0()->device_id, WORLD_ID_MAX + 1, "%s", id);
	fx.device = device_start(fx.broker.port, id, fx.state_dir, argv);
	assert_true(fx.device > 0);
}

static void inject(const struct world_faults *f)
{
	world_write_faults(slot0(), f);
}

static void clear_faults(void)
{
	const struct world_faults none = { 0 };

	world_write_faults(slot0(), &none);
}

/* The next message on @topic whose payload is @payload, or NULL by @deadline. */
static const struct message *wait_payload(struct observer *o, const char *topic, size_t *cur,
					  const char *payload, double deadline)
{
	const struct message *m;

	do {
		m = observer_wait(o, topic, cur, deadline - now_s());
	} while (m && strcmp(m->payload, payload) != 0);
	return m;
}

/* Wait until the device reports a state other than @state in its slot. */
static bool wait_state_left(enum robot_state state, double timeout_s)
{
	double until = now_s() + timeout_s;
	struct world_report rep;

	while (now_s() < until) {
		if (world_read_report(slot0(), &rep) == 0 && rep.state != (uint32_t)state)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_device_faults_link_down_is_silent_then_recovers(void **state)
{
	const char *id = "it_linkdown";
	const char *status = "sensors/it_linkdown/status";
	const char *data = "sensors/it_linkdown/data";
	struct world_faults f = { .seed = 1, .link_mode = WORLD_LINK_DOWN };
	const char *yard_topic = "sensors/it_linkdown/yardstick";
	struct silent_client *yardstick;
	struct observer *o;
	const struct message *m, *y;
	size_t cur = 0, scur = 0, ycur = 0;
	double down_at, took;

	(void)state;
	o = observer_start(fx.broker.port, "sensors/it_linkdown/#");
	assert_non_null(o);
	start_device(id);
	assert_non_null(wait_payload(o, status, &scur, "online", now_s() + 5));
	assert_non_null(observer_wait(o, data, &cur, 5));

	f.link_since_ms = monotonic_ms();
	down_at = now_s();
	inject(&f);
	/* The device gives its session up as soon as it sees the link gone;
	 * from then on the broker hears nothing from it. */
	assert_true(wait_state_left(ROBOT_ONLINE, 3));
	/*
	 * Only the keepalive tells the broker: the will, retained, after
	 * 1.5 x keepalive of silence. mosquitto sweeps its clients for
	 * keepalives every few seconds, so "when" is measured against a
	 * client that went silent just after the device did: the device must
	 * be declared gone no later than it.
	 */
	yardstick = silent_client_start(fx.broker.port, "it_linkdown_yardstick", KEEPALIVE_S,
					yard_topic, "gone");
	assert_non_null(yardstick);
	m = wait_payload(o, status, &scur, "offline", down_at + 1.5 * KEEPALIVE_S + 8);
	assert_non_null(m);
	took = m->at - down_at;
	y = observer_wait(o, yard_topic, &ycur, down_at + 1.5 * KEEPALIVE_S + 8 - now_s());
	assert_non_null(y);
	fprintf(stderr, "offline %.2f s after the link went down; a silent client's will %.2f s\n",
		took, y->at - down_at);
	/* A DISCONNECT would suppress the will and a FIN would fire it at
	 * once: taking at least the keepalive proves the drop was silent. */
	assert_true(took >= KEEPALIVE_S);
	assert_true(m->at <= y->at + 0.5);
	silent_client_stop(yardstick);
	/* Nothing got through once the device had seen the link go. */
	while ((m = observer_wait(o, data, &cur, 0)) != NULL)
		assert_true(m->at < down_at + 1.5);
	assert_true(process_alive(fx.device));
	{
		struct observer *late = observer_start(fx.broker.port, status);
		size_t lcur = 0;

		assert_non_null(late);
		m = observer_wait(late, status, &lcur, 5);
		assert_non_null(m);
		assert_string_equal(m->payload, "offline");
		assert_true(m->retained);
		observer_stop(late);
	}

	clear_faults();
	double cleared_at = now_s();
	/* Back within the 1 s backoff cap and an association. */
	assert_non_null(wait_payload(o, status, &scur, "online", cleared_at + 10));
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(m->at > cleared_at);

	/* A client that arrives now sees the robot online. */
	struct observer *late = observer_start(fx.broker.port, status);
	size_t lcur = 0;
	assert_non_null(late);
	m = observer_wait(late, status, &lcur, 5);
	assert_non_null(m);
	assert_string_equal(m->payload, "online");
	assert_true(m->retained);
	observer_stop(late);

	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

static void test_device_faults_dht_no_response_names_the_error(void **state)
{
	const char *id = "it_dhtfault";
	const char *data = "sensors/it_dhtfault/data";
	const struct world_faults f = { .seed = 1, .dht_mode = WORLD_DHT_NO_RESPONSE };
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double v, until;
	bool faulty = false, healed = false;

	(void)state;
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device(id);
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);

	inject(&f);
	/* The next DHT22 conversion (every 2 s) fails; from then on every
	 * reading names the fault and carries no climate numbers. */
	until = now_s() + 6;
	while (!faulty && (m = observer_wait(o, data, &cur, until - now_s())) != NULL)
		faulty = strstr(m->payload, "\"temperature\":\"timeout\"") != NULL;
	assert_true(faulty);
	for (int i = 0; i < 3; i++) {
		m = observer_wait(o, data, &cur, 2 * INTERVAL_S + 1);
		assert_non_null(m);
		assert_non_null(strstr(m->payload,
				       "\"errors\":{\"temperature\":\"timeout\",\"humidity\":\"timeout\""));
		assert_null(strstr(m->payload, "\"temperature\":2"));
		assert_null(strstr(m->payload, "\"humidity\":4"));
		/* The sonar is not affected. */
		assert_true(json_number(m->payload, "distance", &v));
		assert_float_equal(v, 120.0, 0.3);
	}

	clear_faults();
	until = now_s() + 8;
	while (!healed && (m = observer_wait(o, data, &cur, until - now_s())) != NULL)
		healed = json_number(m->payload, "temperature", &v) && v > 22.45 && v < 22.55 &&
			 json_number(m->payload, "humidity", &v) && v > 39.95 && v < 40.05 &&
			 strstr(m->payload, "errors") == NULL;
	assert_true(healed);

	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

/* Wall-clock seconds of a payload's "timestamp" (2026-11-24T10:30:45.123Z). */
static bool payload_time(const char *payload, double *out)
{
	char ts[32];
	struct tm tm;
	char *rest;

	memset(&tm, 0, sizeof(tm));
	if (!json_string(payload, "timestamp", ts, sizeof(ts)))
		return false;
	rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest || *rest != '.')
		return false;
	*out = (double)timegm(&tm) + strtod(rest, NULL);
	return true;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_device_faults_weak_signal_delays_but_delivers(void **state)
{
	const char *id = "it_weak";
	const char *data = "sensors/it_weak/data";
	const struct world_faults f = { .seed = 3, .weak_latency_ms = 400, .weak_loss_ppm = 100000 };
	struct world_report before, after;
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	int late = 0;

	(void)state;
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device(id);
	assert_non_null(observer_wait(o, data, &cur, 5));

	inject(&f);
	/* Let what was sent before the fault drain, then take a baseline. */
	assert_non_null(observer_wait(o, data, &cur, 3));
	assert_non_null(observer_wait(o, data, &cur, 3));
	assert_int_equal(world_read_report(slot0(), &before), 0);
	for (int i = 0; i < 6; i++) {
		double sent = 0;
		/* Publish times are measured against the wall clock of receipt. */
		double offset = wall_s() - now_s();

		m = observer_wait(o, data, &cur, 5);
		assert_non_null(m);
		assert_true(payload_time(m->payload, &sent));
		late += m->at + offset - sent >= 0.38;
	}
	/* Every reading waited the latency; lost packets only waited longer. */
	assert_int_equal(late, 6);
	/* PUBACKs still find their readings: the shim maps its ids back. */
	assert_int_equal(world_read_report(slot0(), &after), 0);
	assert_true(after.counters.acknowledged >= before.counters.acknowledged + 4);
	assert_int_equal(after.state, ROBOT_ONLINE);

	clear_faults();
	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

/* Wait until the device reports at least @n readings in its outbox. */
static bool wait_buffered(uint32_t n, double timeout_s)
{
	double deadline = now_s() + timeout_s;
	struct world_report rep;

	while (now_s() < deadline) {
		if (world_read_report(slot0(), &rep) == 0 && rep.counters.buffered >= n)
			return true;
		/* The report is shared memory with no event to wait on: poll it. */
		poll(NULL, 0, 20);
	}
	return false;
}

/*
 * Collect data messages until seq @last of boot @boot has arrived (or the
 * deadline passes); @seen[seq] counts each seq of that boot, @ts[seq] keeps
 * its device timestamp and @order the seqs in arrival order (first copies).
 */
static size_t collect(struct observer *o, const char *topic, size_t *cur, double boot,
		      double last, int *seen, double *ts, double *order, size_t max, double deadline)
{
	size_t n = 0;

	while (now_s() < deadline && (last >= (double)max || !seen[(int)last])) {
		const struct message *m = observer_wait(o, topic, cur, deadline - now_s());
		double b, q, t;

		if (!m)
			break;
		assert_true(json_number(m->payload, "boot", &b));
		assert_true(json_number(m->payload, "seq", &q));
		if (b != boot || q < 0 || q >= (double)max)
			continue;
		if (seen[(int)q]++ == 0 && n < max) {
			order[n++] = q;
			if (payload_time(m->payload, &t))
				ts[(int)q] = t;
		}
	}
	return n;
}

/* Readings taken while the link is down wait in the outbox and arrive in order, all of them. */
static void test_device_faults_outbox_delivers_an_outage_in_order(void **state)
{
	const struct world_faults down = { .link_mode = WORLD_LINK_DOWN, .seed = 3 };
	static int seen[400];
	static double ts[400], order[400];
	char data[96];
	struct observer *o;
	const struct message *m;
	struct world_report rep;
	size_t cur = 0, n;
	double boot, first, last;

	(void)state;
	memset(seen, 0, sizeof(seen));
	snprintf(data, sizeof(data), "sensors/it_outbox/data");
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device("it_outbox");
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot));
	assert_true(json_number(m->payload, "seq", &first));

	inject(&down);
	assert_true(wait_buffered(6, 10));
	clear_faults();
	assert_int_equal(world_read_report(slot0(), &rep), 0);
	last = rep.seq + 2; /* and a couple taken after the link is back */

	n = collect(o, data, &cur, boot, last, seen, ts, order, 400, now_s() + 20);
	assert_true(seen[(int)last]);
	/* Nothing missing from the first reading seen to the last. */
	for (int q = (int)first + 1; q <= (int)last; q++)
		assert_true(seen[q] >= 1);
	/* First copies arrive in order of seq. */
	for (size_t i = 1; i < n; i++)
		assert_true(order[i] > order[i - 1]);
	/* The outage readings kept the times they were taken: one interval apart. */
	for (int q = (int)first + 2; q <= (int)last; q++)
		assert_true(ts[q] - ts[q - 1] > INTERVAL_S * 0.5 && ts[q] - ts[q - 1] < INTERVAL_S * 2);
	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

/* A power cut while offline loses nothing: the next boot delivers the old boot's readings first. */
static void test_device_faults_outbox_survives_a_power_cut(void **state)
{
	const struct world_faults down = { .link_mode = WORLD_LINK_DOWN, .seed = 4 };
	const char *argv[] = { "--interval", "500ms", "--keepalive", "5s",
			       "--temperature", "22.5", "--humidity", "40",
			       "--distance", "120", "--seed", "7",
			       "--backoff-base", "100ms", "--backoff-cap", "1s",
			       "--world", NULL, "--slot", "0", NULL };
	static int seen[400], seen2[400];
	static double ts[400], order[400];
	char data[96];
	struct observer *o;
	const struct message *m;
	struct world_report rep;
	size_t cur = 0;
	double boot, first, q;

	(void)state;
	memset(seen, 0, sizeof(seen));
	memset(seen2, 0, sizeof(seen2));
	snprintf(data, sizeof(data), "sensors/it_cut/data");
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device("it_cut");
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot));
	assert_true(json_number(m->payload, "seq", &first));

	inject(&down);
	assert_true(wait_buffered(4, 10));
	assert_int_equal(world_read_report(slot0(), &rep), 0);
	/* Power cut: no goodbye, no flush. */
	assert_true(process_stop(fx.device, SIGKILL, 5) >= 0);
	clear_faults();
	argv[17] = fx.world_path;
	fx.device = device_start(fx.broker.port, "it_cut", fx.state_dir, argv);
	assert_true(fx.device > 0);

	/* Every reading the first boot took before the cut arrives... */
	collect(o, data, &cur, boot, rep.seq, seen, ts, order, 400, now_s() + 20);
	for (int s = (int)first + 1; s <= (int)rep.seq; s++)
		assert_true(seen[s] >= 1);
	/* ...and then the new boot's, numbered from 1. */
	m = NULL;
	for (double deadline = now_s() + 10; now_s() < deadline;) {
		double b;
		m = observer_wait(o, data, &cur, deadline - now_s());
		if (!m)
			break;
		assert_true(json_number(m->payload, "boot", &b));
		if (b == boot + 1)
			break;
	}
	assert_non_null(m);
	assert_true(json_number(m->payload, "seq", &q));
	assert_true(q == 1);
	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

/* ---- the emulated flash ------------------------------------------------------ */

/*
 * Start device @id again on the world start_device() made (a power
 * restore), with its stderr (the shim's messages and the firmware's log)
 * in @log when that is not NULL.
 */
static pid_t restart_device(const char *id, const char *log)
{
	const char *argv[] = { "--interval", "500ms", "--keepalive", "5s",
			       "--temperature", "22.5", "--humidity", "40",
			       "--distance", "120", "--seed", "7",
			       "--backoff-base", "100ms", "--backoff-cap", "1s",
			       "--world", fx.world_path, "--slot", "0", NULL };
	int saved = -1, fd = -1;
	pid_t pid;

	/* The child inherits stderr: point ours at the log while it starts. */
	if (log) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		fflush(stderr);
		saved = dup(STDERR_FILENO);
		assert_true(saved >= 0);
		assert_true(dup2(fd, STDERR_FILENO) >= 0);
	}
	pid = device_start(fx.broker.port, id, fx.state_dir, argv);
	if (log) {
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(fd);
	}
	assert_true(pid > 0);
	return pid;
}

/* Whether the file @path holds the text @needle. */
static bool file_has(const char *path, const char *needle)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Wait for @pid to exit by itself; its wait status, or -1 after @timeout_s. */
static int wait_exit(pid_t pid, double timeout_s)
{
	/* Signal 0 sends nothing: process_stop() then only waits. */
	return process_stop(pid, 0, timeout_s);
}

/* Wait until the device reports at least @n readings storage refused. */
static bool wait_unpersisted(uint32_t n, double timeout_s, struct world_report *rep)
{
	double deadline = now_s() + timeout_s;

	while (now_s() < deadline) {
		if (world_read_report(slot0(), rep) == 0 && rep->counters.unpersisted >= n)
			return true;
		poll(NULL, 0, 20);
	}
	return false;
}

/*
 * A full flash refuses every reading; the robot keeps running, sends each
 * one live (QoS 1, not kept) and counts it. Once the flash has room again
 * the outbox keeps readings as before: a link outage fills it.
 */
static void test_device_faults_flash_full_keeps_publishing(void **state)
{
	const struct world_faults full = { .seed = 1, .flash_full = 1 };
	const struct world_faults down = { .seed = 2, .link_mode = WORLD_LINK_DOWN };
	const char *data = "sensors/it_flashfull/data";
	static int seen[400];
	static double ts[400], order[400];
	struct world_report before, during, after;
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double boot;

	(void)state;
	memset(seen, 0, sizeof(seen));
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device("it_flashfull");
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot));

	inject(&full);
	assert_true(wait_unpersisted(1, 3, &before));
	assert_true(wait_unpersisted(before.counters.unpersisted + 6, 6, &during));
	/* Every reading taken under the fault reached the broker: none missing. */
	collect(o, data, &cur, boot, during.seq, seen, ts, order, 400, now_s() + 5);
	for (uint32_t q = before.seq; q <= during.seq; q++)
		assert_true(seen[q] >= 1);
	/* Sent live, never kept; counted as published, not as publish errors. */
	assert_int_equal(during.counters.buffered, 0);
	assert_true(during.counters.published - before.counters.published >=
		    during.counters.unpersisted - before.counters.unpersisted);
	assert_int_equal(during.counters.publish_errors, before.counters.publish_errors);
	assert_int_equal(during.state, ROBOT_ONLINE);
	assert_true(process_alive(fx.device));
	fprintf(stderr, "flash full: %u readings refused by storage and sent live\n",
		(unsigned)(during.counters.unpersisted - before.counters.unpersisted));

	clear_faults();
	/* The next wait (at most a reading away) takes the healthy flash. */
	poll(NULL, 0, 1500);
	assert_int_equal(world_read_report(slot0(), &after), 0);
	inject(&down);
	assert_true(wait_buffered(3, 10));
	assert_int_equal(world_read_report(slot0(), &during), 0);
	assert_int_equal(during.counters.unpersisted, after.counters.unpersisted);
	clear_faults();
	/* Back online, the outage's readings arrive from the outbox. */
	collect(o, data, &cur, boot, during.seq, seen, ts, order, 400, now_s() + 15);
	for (uint32_t q = after.seq + 1; q <= during.seq; q++)
		assert_true(seen[q] >= 1);

	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

/* Writes that fail half the time: each reading is kept or sent live; none goes missing. */
static void test_device_faults_flash_write_fail_loses_nothing_online(void **state)
{
	const struct world_faults failing = { .seed = 9, .flash_fail_ppm = 500000 };
	const char *data = "sensors/it_flashfail/data";
	static int seen[400];
	static double ts[400], order[400];
	struct world_report before, during;
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double boot;

	(void)state;
	memset(seen, 0, sizeof(seen));
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device("it_flashfail");
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot));
	assert_int_equal(world_read_report(slot0(), &before), 0);

	inject(&failing);
	/* Wait for both outcomes: readings the flash refused (sent live) and
	 * readings it kept (delivered from the outbox and acknowledged). */
	for (double deadline = now_s() + 20;;) {
		assert_true(now_s() < deadline);
		assert_int_equal(world_read_report(slot0(), &during), 0);
		if (during.counters.unpersisted >= before.counters.unpersisted + 3 &&
		    during.counters.acknowledged >= before.counters.acknowledged + 3)
			break;
		poll(NULL, 0, 50);
	}
	collect(o, data, &cur, boot, during.seq, seen, ts, order, 400, now_s() + 5);
	for (uint32_t q = before.seq + 1; q <= during.seq; q++)
		assert_true(seen[q] >= 1);
	assert_int_equal(during.state, ROBOT_ONLINE);
	clear_faults();
	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

/*
 * A boot number that cannot be saved could come again after the next power
 * cut: the device refuses to run, says why, and the next boot that can
 * save its number takes the one the refused boot could not keep.
 */
static void test_device_faults_flash_full_at_boot_refuses_to_start(void **state)
{
	const struct world_faults full = { .seed = 1, .flash_full = 1 };
	const char *data = "sensors/it_flashboot/data";
	char log[400];
	struct observer *o;
	const struct message *m;
	size_t cur = 0;
	double boot, b = 0, q = 0;
	int status;

	(void)state;
	snprintf(log, sizeof(log), "%s/it_flashboot.log", fx.broker.dir);
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device("it_flashboot");
	m = observer_wait(o, data, &cur, 5);
	assert_non_null(m);
	assert_true(json_number(m->payload, "boot", &boot));
	assert_true(process_stop(fx.device, SIGKILL, 5) >= 0);

	inject(&full);
	fx.device = restart_device("it_flashboot", log);
	status = wait_exit(fx.device, 10);
	fx.device = 0;
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true(file_has(log, "boot counter not saved (-28); refusing to run with a boot "
			     "number that could repeat"));
	assert_true(file_has(log, "firmware stopped at boot: No space left on device"));

	clear_faults();
	fx.device = restart_device("it_flashboot", NULL);
	/* Readings the cut left in the outbox come first, with their boot. */
	for (double deadline = now_s() + 10; now_s() < deadline;) {
		m = observer_wait(o, data, &cur, deadline - now_s());
		assert_non_null(m);
		assert_true(json_number(m->payload, "boot", &b));
		if (b != boot)
			break;
	}
	assert_true(b == boot + 1);
	assert_true(json_number(m->payload, "seq", &q));
	assert_true(q == 1);
	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

/*
 * A corrupt record found at boot: the store refuses a medium broken in the
 * middle, so the boot counter is unreadable and the device will not start
 * (it cannot know which boot numbers it has used). Clearing the fault
 * spares later boots but does not repair the damage.
 */
static void test_device_faults_flash_corrupt_at_boot_refuses_to_start(void **state)
{
	const struct world_faults corrupt = { .seed = 5, .flash_corrupt = 1 };
	const char *data = "sensors/it_flashbad/data";
	char log[400], log2[400], flash[400];
	struct observer *o;
	size_t cur = 0;
	int status;

	(void)state;
	snprintf(log, sizeof(log), "%s/it_flashbad.log", fx.broker.dir);
	snprintf(log2, sizeof(log2), "%s/it_flashbad-2.log", fx.broker.dir);
	snprintf(flash, sizeof(flash), "%s/it_flashbad.flash", fx.state_dir);
	o = observer_start(fx.broker.port, data);
	assert_non_null(o);
	start_device("it_flashbad");
	for (int i = 0; i < 3; i++)
		assert_non_null(observer_wait(o, data, &cur, 5));
	/* Injected while it runs, the fault does nothing yet. */
	inject(&corrupt);
	assert_non_null(observer_wait(o, data, &cur, 3));
	assert_true(process_alive(fx.device));
	/* Power cycle: the next boot finds the damage. */
	assert_true(process_stop(fx.device, SIGKILL, 5) >= 0);
	fx.device = restart_device("it_flashbad", log);
	status = wait_exit(fx.device, 10);
	fx.device = 0;
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true(file_has(log, "flash_corrupt: record "));
	assert_true(file_has(log, "is unreadable (Input/output error); remove it to start the "
			     "device afresh"));
	assert_true(file_has(log, "boot counter unreadable (-5); refusing to reuse boot numbers"));

	clear_faults();
	fx.device = restart_device("it_flashbad", log2);
	status = wait_exit(fx.device, 10);
	fx.device = 0;
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_false(file_has(log2, "flash_corrupt"));
	assert_true(file_has(log2, "boot counter unreadable (-5)"));
	/* The boots that refused published nothing: whatever is left to read
	 * is the first boot's, sent before the cut. */
	for (const struct message *m; (m = observer_wait(o, data, &cur, 0.5)) != NULL;) {
		double b = 0;

		assert_true(json_number(m->payload, "boot", &b));
		assert_true(b == 1);
	}

	/* As the message says: without the file it starts afresh, at boot 1. */
	assert_int_equal(unlink(flash), 0);
	fx.device = restart_device("it_flashbad", NULL);
	{
		const struct message *m = observer_wait(o, data, &cur, 5);
		double b = 0;

		assert_non_null(m);
		assert_true(json_number(m->payload, "boot", &b));
		assert_true(b == 1);
	}
	assert_int_equal(process_stop(fx.device, SIGTERM, 5), 0);
	fx.device = 0;
	observer_stop(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_device_faults_link_down_is_silent_then_recovers,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_dht_no_response_names_the_error,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_weak_signal_delays_but_delivers,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_outbox_delivers_an_outage_in_order,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_outbox_survives_a_power_cut,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_flash_full_keeps_publishing,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_flash_write_fail_loses_nothing_online,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_flash_full_at_boot_refuses_to_start,
					  test_teardown),
		cmocka_unit_test_teardown(test_device_faults_flash_corrupt_at_boot_refuses_to_start,
					  test_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("device_faults", tests, group_setup, group_teardown);
}
