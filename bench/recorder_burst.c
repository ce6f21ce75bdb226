/*
 * The recorder's burst ingest rate: fire MESSAGES QoS 1 readings from
 * DEVICES ids as fast as libmosquitto sends them at a recorder behind the
 * embedded broker's configuration, and time them into SQLite.
 *
 *   recorder_burst DIR [MESSAGES] [DEVICES] [--rate N] [--mosquitto-sub]
 *                                                 (default 200000 1000)
 *
 * DIR is created and holds mosquitto.conf/log and record.db. The publisher
 * is a forked child, so this process's CPU time is the recorder's alone
 * (its network and writer threads; the main thread only waits). --rate
 * paces the publisher at N messages a second (default: as fast as it can).
 * --mosquitto-sub receives the same messages with `mosquitto_sub -q 1 -t
 * 'sensors/+/data'` (output to /dev/null) instead of the recorder: the
 * yardstick for the recorder's cost per message. Prints one line of
 * key=value pairs:
 *
 *   receiver (recorder or mosquitto_sub), rate (0: unpaced), messages,
 *   devices, publish_s (first publish to last PUBACK), ingest_s (first
 *   publish to the last message committed, or received by mosquitto_sub),
 *   ingest_per_s, receiver_cpu_s, us_per_msg (receiver CPU per message);
 *   for the recorder also recorder_cpu_s, recorder_per_cpu_s (messages per
 *   CPU second of the recorder: what it could take with a core to itself),
 *   stored, lost, duplicated (from the record, as robofleet run counts
 *   them), queue_high_water and transactions.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* Let the waiting publisher go and wait for it: when it started and ended. */
static int fire(int go[2], pid_t *child, int *status, double *t0, double *t_pub)
{
	char token = 'g';

	*t0 = mono_s();
	if (write(go[1], &token, 1) != 1)
		return -1;
	close(go[1]);
	go[1] = -1;
	waitpid(*child, status, 0);
	*child = 0;
	*t_pub = mono_s();
	return 0;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * The run time of each of this process's threads but the calling one, in
 * ms (schedstat, ns precision), into @out by thread id order: the writer
 * (started by recorder_open()) before the network thread. Returns how many.
 */
static int thread_cpu_ms(double *out, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	long tids[16];
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < 16) {
		long tid = atol(e->d_name);

		if (tid > 0 && tid != (long)gettid())
			tids[n++] = tid;
	}
	closedir(d);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && tids[j] < tids[j - 1]; j--) {
			long t = tids[j];
			tids[j] = tids[j - 1];
			tids[j - 1] = t;
		}
	for (int i = 0; i < n && i < max; i++) {
		char path[64];
		unsigned long long ns = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", tids[i]);
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%llu", &ns) != 1)
				ns = 0;
			fclose(f);
		}
		out[i] = (double)ns / 1e6;
	}
	return n < max ? n : max;
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
static int publish_all(const char *host, int port, long messages, long devices, long rate)
{
	struct pub_state st = { 0 };
	struct mosquitto *m;
	char topic[96], payload[320], id[32];
	struct timespec now;
	struct tm tm;
	double start = mono_s(), until = start + BURST_TIMEOUT_MS / 1000.0;

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
		/* Paced: wait (servicing the socket) until the next one is due,
		 * so the receiver sees a steady stream as from a fleet. */
		while (rate > 0 && (double)(i + 1) / (double)rate > mono_s() - start &&
		       mono_s() < until)
			mosquitto_loop(m, 1, 1);
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

/* Run mosquitto_sub (stdout to /dev/null) as a child; returns its pid or -1. */
static pid_t spawn_sub(const struct broker *b, long messages, bool only_subscribe)
{
	char port[16], count[32];
	pid_t pid;

	snprintf(port, sizeof(port), "%d", b->port);
	snprintf(count, sizeof(count), "%ld", messages);
	pid = fork();
	if (pid != 0)
		return pid;
	int fd = open("/dev/null", O_WRONLY);

	if (fd >= 0)
		dup2(fd, STDOUT_FILENO);
	/* A persistent session (-c, a fixed id): what the broker takes before
	 * the measured one connects is queued for it, as for the recorder. */
	if (only_subscribe)
		execlp("mosquitto_sub", "mosquitto_sub", "-h", b->host, "-p", port, "-q", "1", "-c",
		       "-i", "robofleet-bench-sub", "-t", "sensors/+/data", "-E", (char *)NULL);
	else
		execlp("mosquitto_sub", "mosquitto_sub", "-h", b->host, "-p", port, "-q", "1", "-c",
		       "-i", "robofleet-bench-sub", "-t", "sensors/+/data", "-C", count, (char *)NULL);
	_exit(127);
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	long messages = 200000, devices = 1000, rate = 0;
	bool use_sub = false;
	struct broker b;
	struct recorder *rec = NULL;
	struct recorder_opts ro = { 0 };
	struct recorder_stats rs;
	struct rusage sub_ru;
	char db_path[1100];
	double t0, t_pub, t_done, c0, c1, thr0[2] = { 0, 0 }, thr1[2] = { 0, 0 };
	int nthr = 0, status = 0, sub_status = 0, rc, exit_code = 1, go[2] = { -1, -1 }, pos = 0;
	char token = 'g';
	uint64_t want;
	sqlite3 *db;
	pid_t child = 0, sub = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atol(argv[++i]);
		else if (strcmp(argv[i], "--mosquitto-sub") == 0)
			use_sub = true;
		else if (pos == 0 && ++pos)
			dir = argv[i];
		else if (pos == 1 && ++pos)
			messages = atol(argv[i]);
		else if (pos == 2 && ++pos)
			devices = atol(argv[i]);
		else
			dir = NULL;
	}
	if (!dir || messages <= 0 || devices <= 0 || devices > 99999 || rate < 0) {
		fprintf(stderr, "usage: recorder_burst DIR [MESSAGES] [DEVICES] [--rate N] "
				"[--mosquitto-sub]\n");
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
		_exit(publish_all(b.host, b.port, messages, devices, rate));
	}
	close(go[0]);
	if (use_sub) {
		/* The session and its subscription first (-E leaves at the SUBACK). */
		if ((sub = spawn_sub(&b, messages, true)) < 0 || waitpid(sub, &sub_status, 0) < 0 ||
		    !WIFEXITED(sub_status) || WEXITSTATUS(sub_status) != 0) {
			fprintf(stderr, "recorder_burst: mosquitto_sub could not subscribe\n");
			sub = 0;
			goto out;
		}
		if ((sub = spawn_sub(&b, messages, false)) < 0) {
			sub = 0;
			goto out;
		}
		if (fire(go, &child, &status, &t0, &t_pub) < 0)
			goto out;
		/* It leaves after -C messages; its rusage is its CPU alone. */
		if (wait4(sub, &sub_status, 0, &sub_ru) < 0)
			goto out;
		sub = 0;
		t_done = mono_s();
		c1 = (double)sub_ru.ru_utime.tv_sec + (double)sub_ru.ru_utime.tv_usec / 1e6 +
		     (double)sub_ru.ru_stime.tv_sec + (double)sub_ru.ru_stime.tv_usec / 1e6;
		printf("receiver=mosquitto_sub rate=%ld messages=%ld devices=%ld publisher_exit=%d "
		       "sub_exit=%d publish_s=%.2f ingest_s=%.2f ingest_per_s=%.0f receiver_cpu_s=%.3f "
		       "us_per_msg=%.2f\n",
		       rate, messages, devices, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		       WIFEXITED(sub_status) ? WEXITSTATUS(sub_status) : -1, t_pub - t0, t_done - t0,
		       (double)messages / (t_done - t0), c1, c1 / (double)messages * 1e6);
		exit_code = 0;
		goto out;
	}
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
	thread_cpu_ms(thr0, 2);
	if (fire(go, &child, &status, &t0, &t_pub) < 0)
		goto out;
	/* Polled, as robofleet run reads the recorder's counters: a thread
	 * blocked in recorder_wait_stats() would be woken by every message
	 * received, and its wake-ups are not the recorder's cost. */
	for (double until = mono_s() + BURST_TIMEOUT_MS / 1000.0;; ) {
		recorder_read_stats(rec, &rs);
		if (all_stored(&rs, &want))
			break;
		if (mono_s() > until) {
			fprintf(stderr, "recorder_burst: not everything arrived in time\n");
			break;
		}
		usleep(10000);
	}
	recorder_flush(rec, 10000);
	t_done = mono_s();
	c1 = cpu_s();
	nthr = thread_cpu_ms(thr1, 2);
	recorder_read_stats(rec, &rs);
	recorder_close(rec);
	rec = NULL;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	printf("receiver=recorder rate=%ld messages=%ld devices=%ld publisher_exit=%d publish_s=%.2f "
	       "ingest_s=%.2f ingest_per_s=%.0f receiver_cpu_s=%.3f us_per_msg=%.2f "
	       "recorder_cpu_s=%.2f recorder_per_cpu_s=%.0f stored=%lld lost=%lld duplicated=%lld "
	       "queue_high_water=%llu transactions=%llu writer_us_per_msg=%.2f net_us_per_msg=%.2f\n",
	       rate, messages, devices, WIFEXITED(status) ? WEXITSTATUS(status) : -1, t_pub - t0,
	       t_done - t0, (double)messages / (t_done - t0), c1 - c0,
	       (c1 - c0) / (double)messages * 1e6, c1 - c0, (double)messages / (c1 - c0),
	       scalar(db, "SELECT count(*) FROM readings"),
	       scalar(db, "SELECT coalesce(sum(lost), 0) FROM accounting"),
	       scalar(db, "SELECT coalesce(sum(duplicates), 0) FROM accounting"),
	       (unsigned long long)rs.queue_high_water, (unsigned long long)rs.transactions,
	       nthr == 2 ? (thr1[0] - thr0[0]) * 1e3 / (double)messages : -1.0,
	       nthr == 2 ? (thr1[1] - thr0[1]) * 1e3 / (double)messages : -1.0);
	sqlite3_close(db);
	exit_code = 0;
out:
	if (go[1] >= 0)
		close(go[1]); /* the publisher reads EOF and leaves */
	if (child > 0)
		waitpid(child, NULL, 0);
	if (sub > 0) {
		kill(sub, SIGTERM);
		waitpid(sub, NULL, 0);
	}
	recorder_close(rec);
	broker_stop(&b, 10000);
	return exit_code;
}
