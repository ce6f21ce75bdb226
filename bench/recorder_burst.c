/*
 * The recorder's burst ingest rate: fire MESSAGES QoS 1 readings from
 * DEVICES ids as fast as libmosquitto sends them at a recorder behind the
 * embedded broker's configuration, and time them into SQLite.
 *
 *   recorder_burst DIR [MESSAGES] [DEVICES]       (default 200000 1000)
 *
 * DIR is created and holds mosquitto.conf/log and record.db. The publisher
 * is a forked child, so this process's CPU time is the recorder's alone
 * (its network and writer threads; the main thread only waits). Prints one
 * line of key=value pairs:
 *
 *   messages, devices, publish_s (first publish to last PUBACK),
 *   ingest_s (first publish to the last message committed), ingest_per_s,
 *   recorder_cpu_s, recorder_per_cpu_s (messages per CPU second of the
 *   recorder: what it could take with a core to itself), stored, lost,
 *   duplicated (from the record, as robofleet run counts them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mosquitto.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "recorder.h"

#define BURST_TIMEOUT_MS 600000 /* the whole burst, bounded */

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct pub_state {
	long acked;
};

static void on_publish(struct mosquitto *m, void *ctx, int mid)
{
	struct pub_state *s = ctx;

	(void)m;
	(void)mid;
	s->acked++;
}

/* The child: publish everything, wait for every PUBACK, exit 0. */
static int publish_all(const char *host, int port, long messages, long devices)
{
	struct pub_state st = { 0 };
	struct mosquitto *m;
	char topic[96], payload[320], id[32];
	struct timespec now;
	struct tm tm;
	double until = mono_s() + BURST_TIMEOUT_MS / 1000.0;

	mosquitto_lib_init();
	m = mosquitto_new("robofleet-bench-burst", true, &st);
	if (!m)
		return 1;
	mosquitto_publish_callback_set(m, on_publish);
	/* Keep the pipe full: 1000 in flight at once. */
	mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 1000);
	mosquitto_max_inflight_messages_set(m, 1000);
	if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS)
		return 1;
	for (long i = 0; i < messages && mono_s() < until; i++) {
		long dev = i % devices, seq = i / devices + 1;
		int n;

		snprintf(id, sizeof(id), "burst_%05ld", dev);
		snprintf(topic, sizeof(topic), "sensors/%s/data", id);
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		n = snprintf(payload, sizeof(payload),
			     "{\"device_id\":\"%s\",\"boot\":1,\"seq\":%ld,\"timestamp\":"
			     "\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"sensors\":{\"temperature\":22.5,"
			     "\"humidity\":40.0,\"distance\":120.0}}",
			     id, seq, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, now.tv_nsec / 1000000);
		if (mosquitto_publish(m, NULL, topic, n, payload, 1, false) != MOSQ_ERR_SUCCESS)
			return 1;
		/* Service the socket as we go so the queue does not only grow. */
		if ((i & 63) == 0)
			mosquitto_loop(m, 0, 1);
	}
	while (st.acked < messages && mono_s() < until)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			break;
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return st.acked == messages ? 0 : 1;
}

static long long scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static bool all_stored(const struct recorder_stats *s, void *arg)
{
	return s->stored >= *(const uint64_t *)arg;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	long messages = argc > 2 ? atol(argv[2]) : 200000;
	long devices = argc > 3 ? atol(argv[3]) : 1000;
	struct broker b;
	struct recorder *rec = NULL;
	struct recorder_opts ro = { 0 };
	struct recorder_stats rs;
	char db_path[1100];
	double t0, t_pub, t_done, c0, c1;
	int status = 0, rc, exit_code = 1, go[2] = { -1, -1 };
	char token = 'g';
	uint64_t want;
	sqlite3 *db;
	pid_t child = 0;

	if (!dir || messages <= 0 || devices <= 0 || devices > 99999) {
		fprintf(stderr, "usage: recorder_burst DIR [MESSAGES] [DEVICES]\n");
		return 2;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/record.db", dir);
	if ((rc = broker_configure_embedded(&b, dir, 0)) < 0 || (rc = broker_start(&b, 10000)) < 0) {
		fprintf(stderr, "recorder_burst: mosquitto: %s\n", strerror(-rc));
		return 1;
	}
	/* Fork the publisher while this process has no threads yet; it
	 * waits for the go on a pipe. */
	if (pipe(go) < 0 || (child = fork()) < 0) {
		perror("recorder_burst");
		broker_stop(&b, 10000);
		return 1;
	}
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &token, 1) != 1)
			_exit(1);
		_exit(publish_all(b.host, b.port, messages, devices));
	}
	close(go[0]);
	ro.db_path = db_path;
	ro.client_id = "robofleet-bench-recorder";
	if ((rc = recorder_open(&ro, &rec)) < 0 || (rc = recorder_start(rec, b.host, b.port)) < 0 ||
	    (rc = recorder_wait_subscribed(rec, 10000)) < 0) {
		fprintf(stderr, "recorder_burst: recorder: %s\n", strerror(-rc));
		goto out;
	}
	recorder_read_stats(rec, &rs);
	want = rs.stored + (uint64_t)messages;
	c0 = cpu_s();
	t0 = mono_s();
	if (write(go[1], &token, 1) != 1)
		goto out;
	close(go[1]);
	go[1] = -1;
	waitpid(child, &status, 0);
	child = 0;
	t_pub = mono_s();
	if (recorder_wait_stats(rec, all_stored, &want, BURST_TIMEOUT_MS) < 0)
		fprintf(stderr, "recorder_burst: not everything arrived in time\n");
	recorder_flush(rec, 10000);
	t_done = mono_s();
	c1 = cpu_s();
	recorder_read_stats(rec, &rs);
	recorder_close(rec);
	rec = NULL;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	printf("messages=%ld devices=%ld publisher_exit=%d publish_s=%.2f ingest_s=%.2f ingest_per_s=%.0f "
	       "recorder_cpu_s=%.2f recorder_per_cpu_s=%.0f stored=%lld lost=%lld duplicated=%lld "
	       "queue_high_water=%llu\n",
	       messages, devices, WIFEXITED(status) ? WEXITSTATUS(status) : -1, t_pub - t0, t_done - t0,
	       (double)messages / (t_done - t0), c1 - c0, (double)messages / (c1 - c0),
	       scalar(db, "SELECT count(*) FROM readings"),
	       scalar(db, "SELECT coalesce(sum(lost), 0) FROM accounting"),
	       scalar(db, "SELECT coalesce(sum(duplicates), 0) FROM accounting"),
	       (unsigned long long)rs.queue_high_water);
	sqlite3_close(db);
	exit_code = 0;
out:
	if (go[1] >= 0)
		close(go[1]); /* the publisher reads EOF and leaves */
	if (child > 0)
		waitpid(child, NULL, 0);
	recorder_close(rec);
	broker_stop(&b, 10000);
	return exit_code;
}
