/*
 * The recorder when SQLite fails under it (disk full, I/O errors, a lock
 * held by another process): every message received is either stored or
 * counted as unstored with the cause, never lost without a trace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "faulty_vfs.h"
#include "harness.h"
#include "recorder.h"

#define WAIT_MS 15000
#define VFS "faulty"

struct fixture {
	struct broker broker;
};

static struct fixture fx;

/* ---- what the recorder logs --------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t grew;
	char text[32768];
	size_t len;
} logs = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, "", 0 };

static void log_capture(void *ctx, const char *msg)
{
	size_t n = strlen(msg);

	(void)ctx;
	fprintf(stderr, "recorder: %s\n", msg);
	pthread_mutex_lock(&logs.lock);
	if (logs.len + n + 2 <= sizeof(logs.text)) {
		memcpy(logs.text + logs.len, msg, n);
		logs.len += n;
		logs.text[logs.len++] = '\n';
		logs.text[logs.len] = '\0';
	}
	pthread_cond_broadcast(&logs.grew);
	pthread_mutex_unlock(&logs.lock);
}

static void log_reset(void)
{
	pthread_mutex_lock(&logs.lock);
	logs.len = 0;
	logs.text[0] = '\0';
	pthread_mutex_unlock(&logs.lock);
}

/* Wait until the log holds @needle, at most @timeout_ms. */
static bool log_wait(const char *needle, int timeout_ms)
{
	struct timespec until;
	bool found;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&logs.lock);
	while (!(found = strstr(logs.text, needle) != NULL))
		if (pthread_cond_timedwait(&logs.grew, &logs.lock, &until) != 0 &&
		    !(found = strstr(logs.text, needle) != NULL))
			break;
	pthread_mutex_unlock(&logs.lock);
	return found;
}

/* ---- broker, publishing, the database ---------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	if (faulty_vfs_register(VFS) != 0) {
		fprintf(stderr, "cannot register the faulty VFS\n");
		return -1;
	}
	if (broker_start(&fx.broker) != 0) {
		fprintf(stderr, "cannot start mosquitto\n");
		return -1;
	}
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

/* Each test starts with no fault armed and an empty log. */
static int test_setup(void **state)
{
	(void)state;
	faulty_vfs_clear();
	log_reset();
	return 0;
}

static void on_puback(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	(void)mid;
	(*(int *)obj)++;
}

static char *reading(const char *id, int boot, int seq)
{
	char *p = NULL;

	if (asprintf(&p, "{\"device_id\":\"%s\",\"boot\":%d,\"seq\":%d,"
		     "\"timestamp\":\"2026-11-24T10:30:%02d.123Z\","
		     "\"sensors\":{\"temperature\":%d.5,\"humidity\":40.0,\"distance\":100.0}}",
		     id, boot, seq, seq % 60, 20 + seq % 7) < 0)
		return NULL;
	return p;
}

/*
 * Publish readings @first..@last of @id's boot 1 at QoS 1 (and reading
 * @first once more when @dup) and wait for every PUBACK.
 */
static void publish_readings(const char *id, int first, int last, bool dup)
{
	char topic[96];
	struct mosquitto *m;
	int acked = 0, sent = 0;
	double until = now_s() + 10;

	snprintf(topic, sizeof(topic), "sensors/%s/data", id);
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, &acked);
	assert_non_null(m);
	mosquitto_publish_callback_set(m, on_puback);
	assert_int_equal(mosquitto_connect(m, "127.0.0.1", fx.broker.port, 30), MOSQ_ERR_SUCCESS);
	for (int seq = first; seq <= last + (dup ? 1 : 0); seq++) {
		char *p = reading(id, 1, seq <= last ? seq : first);

		assert_non_null(p);
		assert_int_equal(mosquitto_publish(m, NULL, topic, (int)strlen(p), p, 1, false),
				 MOSQ_ERR_SUCCESS);
		sent++;
		free(p);
	}
	while (acked < sent && now_s() < until)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			break;
	assert_int_equal(acked, sent);
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
}

static void db_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s.db", fx.broker.dir, name);
}

static int64_t q_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s\n%s\n", sql, sqlite3_errmsg(db));
		fail();
	}
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/*
 * A recorder on @name.db (through the faulty VFS unless @o names none),
 * subscribed, its start-up events committed before any fault is armed.
 */
static struct recorder *start(const char *name, struct recorder_opts *o, char *path, size_t len)
{
	char client_id[64];
	struct recorder *r = NULL;

	db_path(path, len, name);
	snprintf(client_id, sizeof(client_id), "rf-faults-%s", name);
	o->db_path = path;
	o->client_id = client_id;
	o->log = log_capture;
	assert_int_equal(recorder_open(o, &r), 0);
	assert_int_equal(recorder_start(r, "127.0.0.1", fx.broker.port), 0);
	assert_int_equal(recorder_wait_subscribed(r, WAIT_MS), 0);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	return r;
}

static void assert_accounted(const struct recorder_stats *st)
{
	assert_int_equal(st->stored + st->unstored, st->received);
	assert_int_equal(st->queued, 0);
	assert_int_equal(st->dropped, 0);
}

/* ---- recorder_sync() ------------------------------------------------------------ */

static void test_sync_waits_for_the_broker_and_stores_no_marker(void **state)
{
	struct recorder_opts o = { .sqlite_vfs = NULL };
	struct recorder_stats st;
	char path[300], client_id[64];
	struct recorder *r = NULL;

	(void)state;
	db_path(path, sizeof(path), "sync");
	snprintf(client_id, sizeof(client_id), "rf-faults-sync");
	o.db_path = path;
	o.client_id = client_id;
	o.log = log_capture;
	assert_int_equal(recorder_open(&o, &r), 0);
	assert_int_equal(recorder_sync(r, 1000), -ENOTCONN);
	assert_int_equal(recorder_start(r, "127.0.0.1", fx.broker.port), 0);
	assert_int_equal(recorder_wait_subscribed(r, WAIT_MS), 0);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);

	/* No waiting for the count: the sync alone guarantees them. */
	publish_readings("robot_400", 1, 25, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 25);
	assert_int_equal(st.readings, 25);
	assert_accounted(&st);

	/* Stopped: nobody to publish with. Started again: a kept session. */
	assert_int_equal(recorder_stop(r), 0);
	assert_int_equal(recorder_sync(r, 1000), -ENOTCONN);
	assert_int_equal(recorder_start(r, "127.0.0.1", fx.broker.port), 0);
	assert_int_equal(recorder_wait_subscribed(r, WAIT_MS), 0);
	publish_readings("robot_400", 26, 30, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_true(st.session_present);
	assert_int_equal(st.received, 30);
	assert_int_equal(st.readings, 30);
	recorder_close(r);

	assert_int_equal(q_int(path, "SELECT count(*) FROM readings"), 30);
	assert_int_equal(q_int(path, "SELECT count(*) FROM raw_messages"), 0);
	assert_int_equal(q_int(path, "SELECT count(*) FROM recorder_events WHERE "
			       "event NOT IN ('open', 'connect', 'subscribe', 'disconnect', 'close')"), 0);
}

/* ---- a fault shorter than the deadline: everything is stored, once ------------ */

static void transient(enum faulty_vfs_fault fault, const char *name)
{
	enum { K = 40 };
	struct recorder_opts o = { .sqlite_vfs = VFS, .store_deadline_ms = 20000 };
	struct faulty_vfs_plan plan = { .fault = fault, .count = 3 };
	struct recorder_stats st;
	char path[300];
	struct recorder *r = start(name, &o, path, sizeof(path));

	faulty_vfs_inject(&plan);
	/* K readings and one duplicate in a batch that fails three times: a
	 * retry that did not start from scratch would count them again. */
	publish_readings("robot_500", 1, K, true);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	assert_int_equal(faulty_vfs_failures(), 3);
	faulty_vfs_clear();

	recorder_read_stats(r, &st);
	assert_int_equal(st.received, K + 1);
	assert_int_equal(st.readings, K);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.unstored, 0);
	assert_int_equal(st.unstored_readings, 0);
	assert_int_equal(st.store_errno, 0);
	assert_accounted(&st);
	if (fault == FAULTY_VFS_BUSY) {
		/* A lock is waited out by the busy handler, not retried. */
		assert_true(st.lock_waits >= 1);
	} else {
		assert_true(st.write_retries >= 3);
		assert_true(st.db_errors >= 3);
		assert_true(log_wait("retrying for up to", 0));
		assert_true(log_wait("stored after 3 retries", 0));
	}
	recorder_close(r);

	assert_int_equal(q_int(path, "SELECT count(*) FROM readings"), K);
	assert_int_equal(q_int(path, "SELECT sum(n) FROM hourly"), K);
	assert_int_equal(q_int(path, "SELECT readings FROM boots WHERE device_id = 'robot_500'"), K);
	assert_int_equal(q_int(path, "SELECT duplicates FROM boots WHERE device_id = 'robot_500'"), 1);
	assert_int_equal(q_int(path, "SELECT readings FROM devices WHERE device_id = 'robot_500'"), K);
	assert_int_equal(q_int(path, "SELECT duplicates FROM devices WHERE device_id = 'robot_500'"), 1);
	assert_int_equal(q_int(path, "SELECT lost FROM accounting WHERE device_id = 'robot_500'"), 0);
}

static void test_disk_full_for_a_while_loses_nothing(void **state)
{
	(void)state;
	transient(FAULTY_VFS_FULL, "enospc-transient");
}

static void test_io_error_for_a_while_loses_nothing(void **state)
{
	(void)state;
	transient(FAULTY_VFS_IOERR_WRITE, "eio-transient");
}

static void test_busy_for_a_while_loses_nothing(void **state)
{
	(void)state;
	transient(FAULTY_VFS_BUSY, "busy-transient");
}

/* ---- a fault past the deadline: given up, counted, and the cause kept ---------- */

static bool any_unstored(const struct recorder_stats *s, void *arg)
{
	(void)arg;
	return s->unstored > 0;
}

static void past_deadline(enum faulty_vfs_fault fault, const char *name, int err, const char *cause)
{
	/* batch_ms far away: a batch is what arrived between two syncs. */
	struct recorder_opts o = { .sqlite_vfs = VFS, .store_deadline_ms = 500, .batch_ms = 60000 };
	struct faulty_vfs_plan plan = { .fault = fault, .count = -1 };
	struct recorder_stats st;
	char path[300];
	struct recorder *r = start(name, &o, path, sizeof(path));
	uint64_t retries, waits;

	publish_readings("robot_510", 1, 10, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);

	faulty_vfs_inject(&plan);
	publish_readings("robot_510", 11, 30, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 30);
	assert_int_equal(st.readings, 10);
	assert_int_equal(st.unstored, 20);
	assert_int_equal(st.unstored_readings, 20);
	assert_int_equal(st.store_errno, err);
	assert_non_null(strstr(st.store_error, cause));
	assert_accounted(&st);
	assert_true(log_wait("gave up on", 0));
	assert_true(log_wait(cause, 0));

	/* Still failing: the next batch gets one short round, not the deadline. */
	retries = st.write_retries;
	waits = st.lock_waits;
	publish_readings("robot_510", 31, 35, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.unstored, 25);
	assert_int_equal(st.unstored_readings, 25);
	if (fault == FAULTY_VFS_BUSY) {
		/* The lock wait is the round: FAILING_DEADLINE_MS, no retry. */
		assert_true(st.lock_waits > waits);
		assert_int_equal(st.write_retries, retries);
	} else {
		assert_int_equal(st.write_retries, retries + 1);
	}
	assert_accounted(&st);

	/* Space (or the lock) is back: the next batch is stored. */
	faulty_vfs_clear();
	publish_readings("robot_510", 36, 42, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 42);
	assert_int_equal(st.readings, 17);
	assert_int_equal(st.unstored, 25);
	assert_int_equal(st.store_errno, err);
	assert_accounted(&st);
	assert_true(log_wait("writing again after", 0));
	assert_true(log_wait("25 messages (25 readings) received in between were not stored", 0));
	recorder_close(r);

	/* The record shows the hole and says why. */
	assert_int_equal(q_int(path, "SELECT count(*) FROM readings"), 17);
	assert_int_equal(q_int(path, "SELECT sum(n) FROM hourly"), 17);
	assert_int_equal(q_int(path, "SELECT lost FROM accounting WHERE device_id = 'robot_510'"), 25);
	assert_int_equal(q_int(path, "SELECT count(*) FROM recorder_events WHERE event = 'unstored' "
			       "AND detail LIKE '25 messages (25 readings) over % ms: %'"), 1);
}

static void test_disk_full_past_the_deadline_is_counted(void **state)
{
	(void)state;
	past_deadline(FAULTY_VFS_FULL, "enospc-lasting", -ENOSPC, "database or disk is full");
}

static void test_io_error_past_the_deadline_is_counted(void **state)
{
	(void)state;
	past_deadline(FAULTY_VFS_IOERR_WRITE, "eio-lasting", -EIO, "disk I/O error");
}

static void test_busy_past_the_deadline_is_counted(void **state)
{
	(void)state;
	past_deadline(FAULTY_VFS_BUSY, "busy-lasting", -EBUSY, "database is locked");
}

/* ---- another process holding the database --------------------------------------- */

static sqlite3 *hold_lock(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	/* In WAL mode this takes the write lock; readers carry on. */
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void release_lock(sqlite3 *db)
{
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A sqlite3 shell in BEGIN EXCLUSIVE for 2 s: waited out, logged, nothing lost. */
static void test_outside_lock_is_waited_out(void **state)
{
	struct recorder_opts o = { .lock_log_ms = 100 };
	struct recorder_stats st;
	char path[300];
	struct recorder *r;
	double t0, left;
	sqlite3 *other;

	(void)state;
	r = start("locked", &o, path, sizeof(path));
	t0 = now_s();
	other = hold_lock(path);
	publish_readings("robot_520", 1, 30, false);
	assert_true(log_wait("locked.db locked by another process for", WAIT_MS));
	/* The writer is stuck behind the lock: a sync cannot complete. */
	assert_int_equal(recorder_sync(r, 300), -ETIMEDOUT);
	publish_readings("robot_520", 31, 60, false);
	/* The fault's length, not a synchronisation. */
	left = 2.0 - (now_s() - t0);
	if (left > 0) {
		struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };

		nanosleep(&ts, NULL);
	}
	release_lock(other);

	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	assert_true(log_wait("locked.db lock released after", 0));
	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 60);
	assert_int_equal(st.readings, 60);
	assert_int_equal(st.unstored, 0);
	assert_int_equal(st.db_errors, 0);
	assert_int_equal(st.store_errno, 0);
	assert_true(st.lock_waits >= 1);
	assert_true(st.lock_wait_max_ms >= 1500);
	assert_accounted(&st);
	recorder_close(r);
	assert_int_equal(q_int(path, "SELECT count(*) FROM readings"), 60);
}

/* Held past the deadline: what could not wait is counted, the rest stored. */
static void test_outside_lock_past_the_deadline_is_counted(void **state)
{
	struct recorder_opts o = { .lock_log_ms = 100, .store_deadline_ms = 500 };
	struct recorder_stats st;
	char path[300];
	struct recorder *r;
	sqlite3 *other;

	(void)state;
	r = start("locked-long", &o, path, sizeof(path));
	other = hold_lock(path);
	publish_readings("robot_530", 1, 10, false);
	assert_int_equal(recorder_wait_stats(r, any_unstored, NULL, WAIT_MS), 0);
	release_lock(other);
	publish_readings("robot_530", 11, 15, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);

	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 15);
	assert_true(st.unstored >= 1);
	assert_int_equal(st.readings + st.unstored_readings, 15);
	assert_int_equal(st.store_errno, -EBUSY);
	assert_non_null(strstr(st.store_error, "database is locked"));
	assert_accounted(&st);
	assert_true(log_wait("gave up on", 0));
	recorder_close(r);
	assert_int_equal(q_int(path, "SELECT count(*) FROM readings"), (int64_t)st.readings);
}

/* ---- faults here and there --------------------------------------------------------- */

/* Write errors at random (seeded) across many small batches: all stored, once. */
static void test_intermittent_write_errors_lose_nothing(void **state)
{
	enum { N = 200 };
	struct recorder_opts o = { .sqlite_vfs = VFS, .batch_rows = 10 };
	struct faulty_vfs_plan plan = {
		.fault = FAULTY_VFS_IOERR_WRITE, .count = 12, .one_in = 10, .seed = 20261124,
	};
	struct recorder_stats st;
	char path[300];
	struct recorder *r;

	(void)state;
	r = start("intermittent", &o, path, sizeof(path));
	faulty_vfs_inject(&plan);
	for (int i = 0; i < N; i += 50) {
		publish_readings("robot_540", i + 1, i + 50, false);
		assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	}
	recorder_read_stats(r, &st);
	print_message("intermittent: %u write errors, %llu retries\n", faulty_vfs_failures(),
		      (unsigned long long)st.write_retries);
	assert_true(faulty_vfs_failures() > 0);
	faulty_vfs_clear();
	assert_int_equal(st.readings, N);
	assert_int_equal(st.unstored, 0);
	assert_true(st.write_retries >= 1);
	assert_accounted(&st);
	recorder_close(r);

	assert_int_equal(q_int(path, "SELECT count(*) FROM readings"), N);
	assert_int_equal(q_int(path, "SELECT sum(n) FROM hourly"), N);
	assert_int_equal(q_int(path, "SELECT readings FROM boots"), N);
	assert_int_equal(q_int(path, "SELECT lost + duplicates FROM accounting"), 0);
}

/*
 * fsync failing: in WAL mode with synchronous=NORMAL a commit does not
 * sync, only a checkpoint does; the one at close fails, the WAL keeps the
 * record, and the log says to keep it.
 */
static void test_fsync_error_at_close_keeps_the_wal(void **state)
{
	struct recorder_opts o = { .sqlite_vfs = VFS };
	struct faulty_vfs_plan plan = { .fault = FAULTY_VFS_IOERR_FSYNC, .count = -1 };
	struct recorder_stats st;
	char path[300];
	struct recorder *r;

	(void)state;
	r = start("fsync", &o, path, sizeof(path));
	faulty_vfs_inject(&plan);
	publish_readings("robot_550", 1, 20, false);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, 20);
	assert_int_equal(st.unstored, 0);
	recorder_close(r);
	assert_true(faulty_vfs_failures() > 0);
	faulty_vfs_clear();
	assert_true(log_wait("fsync.db-wal holds the rest of the record", 0));
	assert_int_equal(q_int(path, "SELECT count(*) FROM readings"), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sync_waits_for_the_broker_and_stores_no_marker, test_setup),
		cmocka_unit_test_setup(test_disk_full_for_a_while_loses_nothing, test_setup),
		cmocka_unit_test_setup(test_io_error_for_a_while_loses_nothing, test_setup),
		cmocka_unit_test_setup(test_busy_for_a_while_loses_nothing, test_setup),
		cmocka_unit_test_setup(test_disk_full_past_the_deadline_is_counted, test_setup),
		cmocka_unit_test_setup(test_io_error_past_the_deadline_is_counted, test_setup),
		cmocka_unit_test_setup(test_busy_past_the_deadline_is_counted, test_setup),
		cmocka_unit_test_setup(test_outside_lock_is_waited_out, test_setup),
		cmocka_unit_test_setup(test_outside_lock_past_the_deadline_is_counted, test_setup),
		cmocka_unit_test_setup(test_intermittent_write_errors_lose_nothing, test_setup),
		cmocka_unit_test_setup(test_fsync_error_at_close_keeps_the_wal, test_setup),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
