/*
 * The recorder against a real mosquitto: what a fleet publishes ends up in
 * SQLite exactly once, garbage is kept raw, and nothing is lost while the
 * recorder or the broker is away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
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

#include "harness.h"
#include "recorder.h"
#include "topic_layout.h"

#define WAIT_MS 10000

/* Word for word as docs/recording.md gives them: keep the two in step. */
#define QUERY_LAST_24H \
	"SELECT recv_time, boot, seq, ts_time, temperature, humidity, distance, errors\n" \
	"FROM readings\n" \
	"WHERE device_id = 'robot_001'\n" \
	"  AND recv_ms >= (CAST(strftime('%s', 'now') AS INTEGER) - 86400) * 1000\n" \
	"ORDER BY recv_ms"
#define QUERY_HOURLY_MEAN \
	"SELECT device_id,\n" \
	"       strftime('%Y-%m-%dT%H:00Z', hour_ms / 1000, 'unixepoch') AS hour,\n" \
	"       n AS readings,\n" \
	"       round(t_sum / t_n, 2) AS temperature,\n" \
	"       round(h_sum / h_n, 2) AS humidity,\n" \
	"       round(d_sum / d_n, 2) AS distance\n" \
	"FROM hourly\n" \
	"ORDER BY device_id, hour_ms"

struct fixture {
	struct broker broker;
};

struct out {
	const char *topic;
	const char *payload;
	bool retain;
};

static struct fixture fx;

static int group_setup(void **state)
{
	(void)state;
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

static int publish_all(const struct out *msgs, size_t n);

/* Retained messages outlive a test: clear them so the next recorder starts clean. */
static int clear_retained(void **state)
{
	const struct out clear = { "sensors/robot_001/status", "", true };

	(void)state;
	return publish_all(&clear, 1);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a publishing client: QoS 1, waits for every PUBACK ------------------ */

static void on_puback(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	(void)mid;
	(*(size_t *)obj)++;
}

/* Returns 0 once the broker acknowledged all @n messages. */
static int publish_all(const struct out *msgs, size_t n)
{
	struct mosquitto *m;
	size_t acked = 0;
	double until = now_s() + 10;
	int rc = -1;

	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, &acked);
	if (!m)
		goto out;
	mosquitto_publish_callback_set(m, on_puback);
	if (mosquitto_connect(m, "127.0.0.1", fx.broker.port, 30) != MOSQ_ERR_SUCCESS)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (mosquitto_publish(m, NULL, msgs[i].topic, (int)strlen(msgs[i].payload),
				      msgs[i].payload, 1, msgs[i].retain) != MOSQ_ERR_SUCCESS)
			goto out;
	while (acked < n && now_s() < until)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			break;
	rc = acked == n ? 0 : -1;
	mosquitto_disconnect(m);
out:
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return rc;
}

static char *data_payload(const char *id, int boot, int seq, const char *sensors, const char *errors)
{
	char *p = NULL;

	if (asprintf(&p, "{\"device_id\":\"%s\",\"boot\":%d,\"seq\":%d,"
		     "\"timestamp\":\"2026-11-24T10:30:%02d.123Z\",\"sensors\":{%s}%s%s%s}",
		     id, boot, seq, seq % 60, sensors, errors ? ",\"errors\":" : "",
		     errors ? errors : "", "") < 0)
		return NULL;
	return p;
}

/* ---- reading the database back ------------------------------------------- */

static sqlite3 *db_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return db;
}

static sqlite3_stmt *q(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s\n%s\n", sql, sqlite3_errmsg(db));
		fail();
	}
	return s;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = q(db, sql);
	int64_t v;

	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static double q_double(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = q(db, sql);
	double v;

	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void q_text(sqlite3 *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *s = q(db, sql);
	const unsigned char *t;

	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	t = sqlite3_column_text(s, 0);
	snprintf(out, len, "%s", t ? (const char *)t : "(null)");
	sqlite3_finalize(s);
}

static void db_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s.db", fx.broker.dir, name);
}

static struct recorder *start_recorder(const char *path, const char *client_id,
				       struct recorder_opts *opts)
{
	struct recorder_opts o = { 0 };
	struct recorder *r = NULL;

	if (opts)
		o = *opts;
	o.db_path = path;
	o.client_id = client_id;
	assert_int_equal(recorder_open(&o, &r), 0);
	assert_int_equal(recorder_start(r, "127.0.0.1", fx.broker.port), 0);
	assert_int_equal(recorder_wait_subscribed(r, WAIT_MS), 0);
	return r;
}

static bool all_stored(const struct recorder_stats *s, void *arg)
{
	(void)arg;
	return s->queued == 0 && s->stored >= s->received;
}

/* @n readings of one device, seq 1..n of boot 1, ready for publish_all(). */
struct readings_out {
	char topic[64];
	struct out *msgs;
	char **payloads;
	int n;
};

static void readings_make(struct readings_out *b, const char *id, int n, const char *sensors)
{
	snprintf(b->topic, sizeof(b->topic), "sensors/%s/data", id);
	b->n = n;
	b->msgs = calloc((size_t)n, sizeof(*b->msgs));
	b->payloads = calloc((size_t)n, sizeof(*b->payloads));
	assert_non_null(b->msgs);
	assert_non_null(b->payloads);
	for (int i = 0; i < n; i++) {
		b->payloads[i] = data_payload(id, 1, i + 1, sensors, NULL);
		assert_non_null(b->payloads[i]);
		b->msgs[i] = (struct out){ b->topic, b->payloads[i], false };
	}
}

static void readings_free(struct readings_out *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->payloads[i]);
	free(b->payloads);
	free(b->msgs);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_recorder_records_contract(void **state)
{
	char path[300], text[256];
	char *p[8];
	struct recorder *r;
	struct recorder_stats st;
	sqlite3 *db;
	int64_t t0, t1;

	(void)state;
	db_path(path, sizeof(path), "contract");
	/* Retained before the recorder exists: it arrives flagged as retained. */
	{
		const struct out online = { "sensors/robot_001/status", "online", true };
		assert_int_equal(publish_all(&online, 1), 0);
	}
	r = start_recorder(path, "rf-test-contract", NULL);
	assert_int_equal(recorder_wait_received(r, 1, WAIT_MS), 0);

	p[0] = data_payload("robot_001", 1, 1, "\"temperature\":20.0,\"humidity\":40.0,\"distance\":100.0", NULL);
	p[1] = data_payload("robot_001", 1, 2, "\"temperature\":21.5,\"humidity\":41.0,\"distance\":101.5", NULL);
	p[2] = data_payload("robot_001", 1, 3, "\"temperature\":22.0,\"humidity\":42.5,\"distance\":99.0", NULL);
	p[3] = data_payload("robot_001", 1, 5, "\"temperature\":23.0,\"humidity\":43.0,\"distance\":98.5", NULL);
	p[4] = data_payload("robot_002", 7, 1, "\"distance\":50.0",
			    "{\"temperature\":\"timeout\",\"humidity\":\"timeout\"}");
	p[5] = strdup("{\"device_id\":\"robot_002\",\"boot\":7,\"seq\":2}");
	for (int i = 0; i < 6; i++)
		assert_non_null(p[i]);
	{
		const struct out msgs[] = {
			{ "sensors/robot_001/data", p[0], false },
			{ "sensors/robot_001/data", p[1], false },
			{ "sensors/robot_001/data", p[2], false },
			{ "sensors/robot_001/data", p[1], false },   /* duplicate of seq 2 */
			{ "sensors/robot_001/data", p[3], false },   /* seq 4 never sent */
			{ "sensors/robot_002/data", p[4], false },
			{ "sensors/robot_002/data", p[5], false },
			{ "sensors/robot_001/data", "{not json", false },
			{ "sensors/robot_002/status", "offline", false },
			{ "sensors/robot_001/temperature", "23.0", false },
			{ "sensors/robot_001/command", "stop", false },
		};
		t0 = wall_ms();
		assert_int_equal(publish_all(msgs, sizeof(msgs) / sizeof(msgs[0])), 0);
		assert_int_equal(recorder_wait_received(r, 12, WAIT_MS), 0);
		t1 = wall_ms();
	}
	/* The batch timer commits without being asked. */
	assert_int_equal(recorder_wait_stats(r, all_stored, NULL, WAIT_MS), 0);
	assert_int_equal(recorder_flush(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 12);
	assert_int_equal(st.readings, 6);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.conflicts, 0);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.statuses, 2);
	assert_int_equal(st.metrics, 1);
	assert_int_equal(st.commands, 1);
	assert_int_equal(st.db_errors, 0);
	assert_int_equal(st.dropped, 0);
	recorder_close(r);

	db = db_open(path);
	q_text(db, "PRAGMA journal_mode", text, sizeof(text));
	assert_string_equal(text, "wal");
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings"), 6);
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings WHERE recv_ms < "
			       "(SELECT min(recv_ms) FROM readings)"), 0);
	{
		char sql[200];
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM readings WHERE recv_ms BETWEEN %lld AND %lld",
			 (long long)t0, (long long)t1);
		assert_int_equal(q_int(db, sql), 6);
	}
	/* Exactly-once accounting. */
	assert_int_equal(q_int(db, "SELECT readings FROM devices WHERE device_id = 'robot_001'"), 4);
	assert_int_equal(q_int(db, "SELECT duplicates FROM devices WHERE device_id = 'robot_001'"), 1);
	assert_int_equal(q_int(db, "SELECT rejected FROM devices WHERE device_id = 'robot_001'"), 1);
	assert_int_equal(q_int(db, "SELECT lost FROM accounting WHERE device_id = 'robot_001'"), 1);
	assert_int_equal(q_int(db, "SELECT duplicates FROM accounting WHERE device_id = 'robot_001'"), 1);
	assert_int_equal(q_int(db, "SELECT lost FROM accounting WHERE device_id = 'robot_002'"), 0);
	assert_int_equal(q_int(db, "SELECT sum(lost) FROM accounting"), 1);
	assert_int_equal(q_int(db, "SELECT max_seq FROM boots WHERE device_id = 'robot_002' AND boot = 7"), 2);
	/* Values, omissions, errors and the device's own time. */
	assert_true(q_double(db, "SELECT temperature FROM readings WHERE device_id = 'robot_001' AND seq = 2") == 21.5);
	assert_int_equal(q_int(db, "SELECT ts_ms FROM readings WHERE device_id = 'robot_001' AND seq = 1"),
			 1795516201123LL);
	q_text(db, "SELECT ts_time FROM readings WHERE device_id = 'robot_001' AND seq = 1", text, sizeof(text));
	assert_string_equal(text, "2026-11-24T10:30:01.123Z");
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings WHERE device_id = 'robot_002' AND "
			       "temperature IS NULL AND humidity IS NULL"), 2);
	q_text(db, "SELECT json_extract(errors, '$.humidity') FROM readings WHERE device_id = 'robot_002' "
	       "AND seq = 1", text, sizeof(text));
	assert_string_equal(text, "timeout");
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings WHERE errors IS NULL"), 5);
	q_text(db, "SELECT raw FROM readings WHERE device_id = 'robot_001' AND seq = 5", text, sizeof(text));
	assert_string_equal(text, p[3]);
	/* Garbage is kept, with its topic and why. */
	assert_int_equal(q_int(db, "SELECT count(*) FROM raw_messages"), 1);
	q_text(db, "SELECT topic || ' ' || device_id || ' ' || CAST(payload AS TEXT) FROM raw_messages",
	       text, sizeof(text));
	assert_string_equal(text, "sensors/robot_001/data robot_001 {not json");
	q_text(db, "SELECT reason FROM raw_messages", text, sizeof(text));
	assert_string_equal(text, "expected a member name");
	/* Status: the retained replay is told apart from the live transition. */
	q_text(db, "SELECT group_concat(device_id || ':' || status || ':' || retained, ' ') FROM "
	       "(SELECT * FROM status ORDER BY id)", text, sizeof(text));
	assert_string_equal(text, "robot_001:online:1 robot_002:offline:0");
	q_text(db, "SELECT status FROM devices WHERE device_id = 'robot_002'", text, sizeof(text));
	assert_string_equal(text, "offline");
	assert_true(q_double(db, "SELECT value FROM metric_messages WHERE device_id = 'robot_001' "
			     "AND metric = 'temperature'") == 23.0);
	q_text(db, "SELECT CAST(payload AS TEXT) FROM commands WHERE device_id = 'robot_001'", text, sizeof(text));
	assert_string_equal(text, "stop");
	/* The rollup holds what was inserted, once. */
	assert_int_equal(q_int(db, "SELECT sum(n) FROM hourly WHERE device_id = 'robot_001'"), 4);
	assert_int_equal(q_int(db, "SELECT sum(t_n) FROM hourly WHERE device_id = 'robot_001'"), 4);
	assert_float_equal(q_double(db, "SELECT sum(t_sum) FROM hourly WHERE device_id = 'robot_001'"),
			   20.0 + 21.5 + 22.0 + 23.0, 1e-9);
	assert_float_equal(q_double(db, "SELECT sum(h_sum) FROM hourly WHERE device_id = 'robot_001'"),
			   40.0 + 41.0 + 42.5 + 43.0, 1e-9);
	assert_float_equal(q_double(db, "SELECT sum(d_sum) FROM hourly WHERE device_id = 'robot_001'"),
			   100.0 + 101.5 + 99.0 + 98.5, 1e-9);
	assert_true(q_double(db, "SELECT min(t_min) FROM hourly WHERE device_id = 'robot_001'") == 20.0);
	assert_true(q_double(db, "SELECT max(d_max) FROM hourly WHERE device_id = 'robot_001'") == 101.5);
	assert_int_equal(q_int(db, "SELECT sum(n) FROM hourly WHERE device_id = 'robot_002'"), 2);
	assert_int_equal(q_int(db, "SELECT sum(t_n) FROM hourly WHERE device_id = 'robot_002'"), 0);
	assert_int_equal(q_int(db, "SELECT count(*) FROM hourly WHERE device_id = 'robot_002' AND t_min IS NULL"),
			 q_int(db, "SELECT count(*) FROM hourly WHERE device_id = 'robot_002'"));
	assert_true(q_double(db, "SELECT sum(d_sum) FROM hourly WHERE device_id = 'robot_002'") == 50.0);
	assert_int_equal(q_int(db, "SELECT count(*) FROM hourly h WHERE n != (SELECT count(*) FROM readings r "
			       "WHERE r.device_id = h.device_id AND r.recv_ms / 3600000 * 3600000 = h.hour_ms)"), 0);
	/* The tutorial's two queries, as docs/recording.md prints them. */
	{
		sqlite3_stmt *s;
		int rows = 0;

		assert_int_equal(q_int(db, "SELECT count(*) FROM (" QUERY_LAST_24H ")"), 4);
		s = q(db, QUERY_HOURLY_MEAN);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *dev = (const char *)sqlite3_column_text(s, 0);
			const char *hour = (const char *)sqlite3_column_text(s, 1);

			rows++;
			assert_int_equal(strlen(hour), strlen("2026-11-24T10:00Z"));
			if (strcmp(dev, "robot_002") == 0) {
				assert_int_equal(sqlite3_column_type(s, 3), SQLITE_NULL);
				assert_true(sqlite3_column_double(s, 5) == 50.0);
			} else if (sqlite3_column_int(s, 2) == 4) {
				/* All four in one hour (unless the test straddled one). */
				assert_true(sqlite3_column_double(s, 3) == 21.63);
				assert_true(sqlite3_column_double(s, 5) == 99.75);
			}
		}
		sqlite3_finalize(s);
		assert_int_equal(rows, q_int(db, "SELECT count(*) FROM hourly"));
	}
	/* The recorder's own story. */
	q_text(db, "SELECT group_concat(event, ',') FROM (SELECT event FROM recorder_events ORDER BY id)",
	       text, sizeof(text));
	assert_string_equal(text, "open,connect,subscribe,disconnect,close");
	sqlite3_close(db);
	for (int i = 0; i < 6; i++)
		free(p[i]);
}

/*
 * A reading sent again by a device's outbox is the same measurement even
 * when a delivery detail ("dropped") changed: a duplicate, stored once.
 * Another measurement under a known number is a conflict. Faults noted by
 * the run land in the faults table in order.
 */
static void test_recorder_redelivery_dropped_and_faults(void **state)
{
	char path[300], text[256];
	struct recorder *r;
	struct recorder_stats st;
	sqlite3 *db;
	const char *first = "{\"device_id\":\"robot_009\",\"boot\":2,\"seq\":7,"
			    "\"timestamp\":\"2026-11-24T10:30:07.123Z\",\"sensors\":{\"temperature\":20.5},"
			    "\"dropped\":3}";
	const char *again = "{\"device_id\":\"robot_009\",\"boot\":2,\"seq\":7,"
			    "\"timestamp\":\"2026-11-24T10:30:07.123Z\",\"sensors\":{\"temperature\":20.5},"
			    "\"dropped\":4}";
	const char *other = "{\"device_id\":\"robot_009\",\"boot\":2,\"seq\":7,"
			    "\"timestamp\":\"2026-11-24T10:30:07.123Z\",\"sensors\":{\"temperature\":99.0}}";

	(void)state;
	db_path(path, sizeof(path), "redelivery");
	r = start_recorder(path, "rf-test-redelivery", NULL);
	assert_int_equal(recorder_note_fault(r, "robot_009", "wifi_drop", "inject", "scenario",
					     "for=60000ms seed=11"), 0);
	{
		const struct out msgs[] = {
			{ "sensors/robot_009/data", first, false },
			{ "sensors/robot_009/data", again, false },
			{ "sensors/robot_009/data", other, false },
		};
		assert_int_equal(publish_all(msgs, 3), 0);
		assert_int_equal(recorder_wait_received(r, 3, WAIT_MS), 0);
	}
	assert_int_equal(recorder_note_fault(r, NULL, "broker", "restart", "scenario", NULL), 0);
	assert_int_equal(recorder_flush(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.conflicts, 1);
	recorder_close(r);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings"), 1);
	assert_int_equal(q_int(db, "SELECT duplicates FROM accounting WHERE device_id = 'robot_009'"), 1);
	assert_int_equal(q_int(db, "SELECT conflicts FROM accounting WHERE device_id = 'robot_009'"), 1);
	/* The highest overflow count the device reported. */
	assert_int_equal(q_int(db, "SELECT dropped FROM accounting WHERE device_id = 'robot_009'"), 4);
	assert_int_equal(q_int(db, "SELECT count(*) FROM faults"), 2);
	q_text(db, "SELECT device_id || ' ' || kind || ' ' || action || ' ' || source || ' ' || detail "
	       "FROM faults ORDER BY id LIMIT 1", text, sizeof(text));
	assert_string_equal(text, "robot_009 wifi_drop inject scenario for=60000ms seed=11");
	assert_int_equal(q_int(db, "SELECT count(*) FROM faults WHERE device_id IS NULL AND kind = "
			       "'broker' AND action = 'restart' AND detail IS NULL"), 1);
	/* In order with the messages around them. */
	assert_int_equal(q_int(db, "SELECT (SELECT ms FROM faults WHERE kind = 'wifi_drop') <= "
			       "(SELECT min(recv_ms) FROM readings)"), 1);
	sqlite3_close(db);
}

/* What on_reading saw; the writer thread writes it before the flush it waits for. */
struct seen {
	struct recorder *r;
	int n;
	int64_t seq[4], ts_ms[4], recv_ms[4];
	double temperature[4];
	char id[4][40];
};

static void on_reading(void *ctx, const struct recorder_reading_note *n)
{
	struct seen *s = ctx;
	struct recorder_alert a = {
		.device_id = n->device_id, .rule = "seen", .state = "raised",
		.metric = "temperature", .value = n->has_temperature ? n->temperature : NAN,
		.threshold = 20,
		.ms = n->recv_ms, .crossed_ms = n->timestamp_ms,
		.latency_ms = n->recv_ms - n->timestamp_ms,
	};

	if (s->n < 4) {
		s->seq[s->n] = n->seq;
		s->ts_ms[s->n] = n->has_timestamp ? n->timestamp_ms : -1;
		s->recv_ms[s->n] = n->recv_ms;
		s->temperature[s->n] = n->has_temperature ? n->temperature : NAN;
		snprintf(s->id[s->n], sizeof(s->id[0]), "%s", n->device_id);
	}
	s->n++;
	/* The hook may write into the record itself (the run's alerts do). */
	assert_int_equal(recorder_note_alert(s->r, &a), 0);
}

static void test_recorder_hands_on_new_readings(void **state)
{
	char path[300], text[256];
	struct recorder_opts o = { .on_reading = on_reading };
	struct seen seen = { .n = 0 };
	sqlite3 *db;
	const char *first = "{\"device_id\":\"robot_010\",\"boot\":1,\"seq\":7,"
			    "\"timestamp\":\"2026-11-24T10:30:07.123Z\",\"sensors\":{\"temperature\":20.5}}";
	const char *second = "{\"device_id\":\"robot_010\",\"boot\":1,\"seq\":8,"
			     "\"sensors\":{\"humidity\":40}}";
	const char *other = "{\"device_id\":\"robot_010\",\"boot\":1,\"seq\":7,"
			    "\"timestamp\":\"2026-11-24T10:30:07.123Z\",\"sensors\":{\"temperature\":99.0}}";
	const struct out msgs[] = {
		{ "sensors/robot_010/data", first, false },
		{ "sensors/robot_010/data", first, false },     /* a redelivery: not new */
		{ "sensors/robot_010/data", other, false },     /* a conflict: not new */
		{ "sensors/robot_010/status", "online", false }, /* not a reading */
		{ "sensors/robot_010/data", second, false },
	};

	(void)state;
	db_path(path, sizeof(path), "on_reading");
	o.on_reading_ctx = &seen;
	seen.r = start_recorder(path, "rf-test-on-reading", &o);
	assert_int_equal(publish_all(msgs, 5), 0);
	assert_int_equal(recorder_wait_received(seen.r, 5, WAIT_MS), 0);
	assert_int_equal(recorder_flush(seen.r, WAIT_MS), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.id[0], "robot_010");
	assert_int_equal(seen.seq[0], 7);
	assert_int_equal(seen.ts_ms[0], 1795516207123LL);
	assert_true(seen.temperature[0] == 20.5);
	assert_true(seen.recv_ms[0] > 0); /* the recorder's clock */
	assert_int_equal(seen.seq[1], 8);
	assert_int_equal(seen.ts_ms[1], -1);
	assert_true(isnan(seen.temperature[1]));
	/* The alerts the hook noted are committed with the next batch. */
	assert_int_equal(recorder_flush(seen.r, WAIT_MS), 0);
	recorder_close(seen.r);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM alerts"), 2);
	q_text(db, "SELECT device_id || ' ' || rule || ' ' || state || ' ' || metric || ' ' || "
	       "value || ' ' || threshold || ' ' || crossed_ms FROM alerts ORDER BY id LIMIT 1",
	       text, sizeof(text));
	assert_string_equal(text, "robot_010 seen raised temperature 20.5 20.0 1795516207123");
	/* A reading without a temperature: the value is NULL, not a number. */
	assert_int_equal(q_int(db, "SELECT count(*) FROM alerts WHERE value IS NULL"), 1);
	sqlite3_close(db);
}

static void test_recorder_persistent_session_keeps_queued(void **state)
{
	char path[300];
	char *p[4];
	struct recorder *r;
	struct recorder_stats st;
	sqlite3 *db;

	(void)state;
	db_path(path, sizeof(path), "persist");
	for (int i = 0; i < 4; i++) {
		p[i] = data_payload("robot_009", 2, i + 1, "\"temperature\":19.5", NULL);
		assert_non_null(p[i]);
	}
	r = start_recorder(path, "rf-test-persist", NULL);
	{
		const struct out first = { "sensors/robot_009/data", p[0], false };
		assert_int_equal(publish_all(&first, 1), 0);
	}
	assert_int_equal(recorder_wait_received(r, 1, WAIT_MS), 0);
	recorder_close(r);

	/* The recorder is away; the broker acknowledges and queues for it. */
	{
		const struct out later[] = {
			{ "sensors/robot_009/data", p[1], false },
			{ "sensors/robot_009/data", p[2], false },
			{ "sensors/robot_009/data", p[3], false },
		};
		assert_int_equal(publish_all(later, 3), 0);
	}

	r = start_recorder(path, "rf-test-persist", NULL);
	recorder_read_stats(r, &st);
	assert_true(st.session_present);
	assert_int_equal(recorder_wait_received(r, 3, WAIT_MS), 0);
	assert_int_equal(recorder_flush(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, 3);
	assert_int_equal(st.duplicates, 0);
	recorder_close(r);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT readings FROM accounting WHERE device_id = 'robot_009'"), 4);
	assert_int_equal(q_int(db, "SELECT lost FROM accounting WHERE device_id = 'robot_009'"), 0);
	assert_int_equal(q_int(db, "SELECT duplicates FROM accounting WHERE device_id = 'robot_009'"), 0);
	assert_int_equal(q_int(db, "SELECT count(*) FROM recorder_events WHERE event = 'open'"), 2);
	assert_int_equal(q_int(db, "SELECT count(*) FROM recorder_events WHERE event = 'connect' "
			       "AND detail = 'session present'"), 1);
	sqlite3_close(db);
	for (int i = 0; i < 4; i++)
		free(p[i]);
}

/*
 * A recorder far behind its broker (a fleet beyond the machine): a sync
 * with a short timeout gives up, recorder_drain() waits as long as
 * messages keep coming and ends with every one of them recorded.
 */
static void test_recorder_drains_a_backlog(void **state)
{
	enum { N = 5000, CHUNK = 1000 };
	struct readings_out b;
	char path[300];
	struct recorder *r;
	struct recorder_stats st;
	sqlite3 *db;

	(void)state;
	db_path(path, sizeof(path), "drain");
	readings_make(&b, "robot_077", N, "\"temperature\":20.5");
	/* The session exists and the recorder is away: the broker queues. */
	r = start_recorder(path, "rf-test-drain", NULL);
	recorder_close(r);
	for (int i = 0; i < N; i += CHUNK)
		assert_int_equal(publish_all(b.msgs + i, CHUNK), 0);

	r = start_recorder(path, "rf-test-drain", NULL);
	/* 5,000 messages cannot be taken in 20 ms (the burst benchmark's
	 * best is some 30,000 a second). */
	assert_int_equal(recorder_sync(r, 20), -ETIMEDOUT);
	assert_int_equal(recorder_drain(r, 2000, 120000), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, N);
	assert_int_equal(st.duplicates, 0);
	recorder_close(r);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings WHERE device_id = 'robot_077'"), N);
	assert_int_equal(q_int(db, "SELECT lost FROM accounting WHERE device_id = 'robot_077'"), 0);
	sqlite3_close(db);
	readings_free(&b);
}

/* With the smallest queue and batches, everything still arrives, once. */
static void test_recorder_tiny_queue_loses_nothing(void **state)
{
	enum { N = 400 };
	struct recorder_opts o = { .queue_soft_max = 1, .queue_max_bytes = 1, .batch_rows = 7 };
	struct readings_out b;
	char path[300];
	struct recorder *r;
	struct recorder_stats st;
	sqlite3 *db;

	(void)state;
	db_path(path, sizeof(path), "tiny");
	readings_make(&b, "robot_100", N, "\"humidity\":50.5");
	r = start_recorder(path, "rf-test-tiny", &o);
	assert_int_equal(publish_all(b.msgs, N), 0);
	assert_int_equal(recorder_wait_received(r, N, WAIT_MS), 0);
	assert_int_equal(recorder_flush(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, N);
	assert_int_equal(st.dropped, 0);
	assert_true(st.transactions >= N / 7);
	print_message("tiny queue: high water %llu, overflows %llu, backpressure waits %llu\n",
		      (unsigned long long)st.queue_high_water, (unsigned long long)st.queue_overflows,
		      (unsigned long long)st.backpressure_waits);
	recorder_close(r);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings"), N);
	assert_int_equal(q_int(db, "SELECT lost FROM accounting"), 0);
	assert_float_equal(q_double(db, "SELECT sum(h_sum) FROM hourly"), 50.5 * N, 1e-6);
	sqlite3_close(db);
	readings_free(&b);
}

static bool all_kept(const struct recorder_stats *s, void *arg)
{
	(void)arg;
	return s->readings >= 1 && s->duplicates >= 1 && s->conflicts >= 1 && s->rejected >= 6;
}

/* Whatever does not fit the contract is kept raw, with the reason, and counted. */
static void test_recorder_keeps_what_it_cannot_store(void **state)
{
	struct recorder_opts o = { .max_payload = 200 };
	char path[300], text[256], big[400];
	struct recorder *r;
	struct recorder_stats st;
	sqlite3 *db;
	char *a = data_payload("robot_010", 1, 1, "\"temperature\":20.0", NULL);
	char *b = data_payload("robot_010", 1, 1, "\"temperature\":99.9", NULL);
	char *other = data_payload("robot_011", 1, 1, "", NULL);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(other);
	snprintf(big, sizeof(big), "{\"device_id\":\"robot_010\",\"boot\":1,\"seq\":2,\"pad\":\"%0280d\"}", 0);
	db_path(path, sizeof(path), "kept");
	r = start_recorder(path, "rf-test-kept", &o);
	{
		const struct out msgs[] = {
			{ "sensors/robot_010/data", a, false },
			{ "sensors/robot_010/data", a, false },
			{ "sensors/robot_010/data", b, false },
			{ "sensors/robot_010/status", "rebooting", false },
			{ "sensors/robot_010/humidity", "high", false },
			{ "sensors/robot_010/data", other, false },
			{ "sensors/robot_010/data", big, false },
			{ "sensors/robot_010/extra/deep", "x", false },
			{ "fleet/robot_010/data", "{}", false },
		};
		assert_int_equal(publish_all(msgs, sizeof(msgs) / sizeof(msgs[0])), 0);
	}
	/* Committed counters: the batch timer gets them there without a flush. */
	assert_int_equal(recorder_wait_stats(r, all_kept, NULL, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.conflicts, 1);
	assert_int_equal(st.rejected, 6);
	recorder_close(r);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings"), 1);
	assert_true(q_double(db, "SELECT temperature FROM readings") == 20.0);
	assert_int_equal(q_int(db, "SELECT conflicts FROM boots WHERE device_id = 'robot_010'"), 1);
	assert_int_equal(q_int(db, "SELECT conflicts FROM accounting WHERE device_id = 'robot_010'"), 1);
	assert_int_equal(q_int(db, "SELECT rejected FROM devices WHERE device_id = 'robot_010'"), 5);
	q_text(db, "SELECT group_concat(reason, '|') FROM (SELECT reason FROM raw_messages ORDER BY id)",
	       text, sizeof(text));
	assert_string_equal(text, "seq already stored with a different payload|"
			    "status is neither online nor offline|metric value is not a number|"
			    "device_id differs from the topic|payload larger than the recorder keeps|"
			    "topic outside the contract");
	assert_int_equal(q_int(db, "SELECT size FROM raw_messages WHERE reason LIKE 'payload larger%'"),
			 (int64_t)strlen(big));
	assert_int_equal(q_int(db, "SELECT length(payload) FROM raw_messages WHERE reason LIKE 'payload larger%'"),
			 200);
	assert_int_equal(q_int(db, "SELECT count(*) FROM raw_messages WHERE device_id IS NULL"), 1);
	/* Outside sensors/# nothing is recorded at all. */
	assert_int_equal(q_int(db, "SELECT count(*) FROM raw_messages WHERE topic LIKE 'fleet/%'"), 0);
	sqlite3_close(db);
	free(a);
	free(b);
	free(other);
}

static bool is_disconnected(const struct recorder_stats *s, void *arg)
{
	(void)arg;
	return !s->connected;
}

static bool subscribed_twice(const struct recorder_stats *s, void *arg)
{
	(void)arg;
	return s->subscribed && s->subscriptions >= 2;
}

/* The broker restarts without persistence: the recorder comes back and subscribes anew. */
static void test_recorder_resubscribes_after_broker_restart(void **state)
{
	char path[300];
	char *p;
	struct recorder *r;
	struct recorder_stats st;

	(void)state;
	db_path(path, sizeof(path), "restart");
	r = start_recorder(path, "rf-test-restart", NULL);
	broker_stop(&fx.broker);
	assert_int_equal(recorder_wait_stats(r, is_disconnected, NULL, WAIT_MS), 0);
	assert_int_equal(broker_restart(&fx.broker), 0);
	assert_int_equal(recorder_wait_stats(r, subscribed_twice, NULL, 15000), 0);
	recorder_read_stats(r, &st);
	assert_false(st.session_present);

	p = data_payload("robot_003", 1, 1, "\"temperature\":18.0", NULL);
	{
		const struct out one = { "sensors/robot_003/data", p, false };
		assert_int_equal(publish_all(&one, 1), 0);
	}
	/* Retained statuses from earlier tests may come first. */
	assert_int_equal(recorder_wait_received(r, st.received + 1, WAIT_MS), 0);
	assert_int_equal(recorder_flush(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, 1);
	assert_int_equal(st.connects, 2);
	recorder_close(r);
	free(p);
}

/* Started while the broker is down: it keeps trying and gets there. */
static void test_recorder_waits_for_late_broker(void **state)
{
	char path[300];
	struct recorder_opts o = { 0 };
	struct recorder *r = NULL;

	(void)state;
	db_path(path, sizeof(path), "late");
	o.db_path = path;
	o.client_id = "rf-test-late";
	broker_stop(&fx.broker);
	assert_int_equal(recorder_open(&o, &r), 0);
	assert_int_equal(recorder_start(r, "127.0.0.1", fx.broker.port), 0);
	assert_int_equal(recorder_start(r, "127.0.0.1", fx.broker.port), -EALREADY);
	assert_int_equal(broker_restart(&fx.broker), 0);
	assert_int_equal(recorder_wait_subscribed(r, 15000), 0);
	recorder_close(r);
}

static void parse_template(const char *text, enum topic_role role, enum topic_format fmt,
			   struct topic_template *t)
{
	char why[200];

	if (topic_template_parse(text, role, fmt, t, why, sizeof(why)) < 0)
		fail_msg("%s: %s", text, why);
}

/*
 * A fleet of robots on the contract and of tutorial-style sketches that
 * publish by room outside sensors/: each message is attributed to its
 * device through the room table, what fits no template is kept raw.
 */
static void test_recorder_attributes_by_layout(void **state)
{
	struct topic_layout contract, tut;
	struct topic_map *map;
	struct recorder_opts o = { 0 };
	struct recorder *r;
	struct recorder_stats st;
	char path[300], text[256];
	sqlite3 *db;

	(void)state;
	topic_layout_default(&contract, TOPIC_FORMAT_JSON);
	memset(&tut, 0, sizeof(tut));
	parse_template("home/{room}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN,
		       &tut.readings[0]);
	parse_template("home/{room}/all", TOPIC_ROLE_READINGS, TOPIC_FORMAT_JSON, &tut.readings[1]);
	tut.n_readings = 2;
	parse_template("home/{room}/status", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &tut.status);
	parse_template("cmd/{id}", TOPIC_ROLE_COMMAND, TOPIC_FORMAT_PLAIN, &tut.command);
	assert_int_equal(topic_map_create(&map), 0);
	assert_int_equal(topic_map_add_layout(map, &contract, NULL), 0);
	assert_int_equal(topic_map_add_layout(map, &tut, NULL), 0);
	assert_int_equal(topic_map_add_room(map, "kitchen", "tut_001"), 0);
	assert_int_equal(topic_map_add_room(map, "hall", "tut_002"), 0);
	assert_int_equal(topic_map_finish(map), 0);

	db_path(path, sizeof(path), "layout");
	o.topics = map;
	r = start_recorder(path, "rf-test-layout", &o);
	{
		const struct out msgs[] = {
			{ "home/kitchen/temperature", "21.5", false },
			{ "home/kitchen/humidity", "40", false },
			{ "home/hall/distance", "120.5", false },
			{ "home/hall/status", "online", false },
			{ "home/hall/all", "{\"sensors\":{\"temperature\":19.0,\"humidity\":50}}", false },
			{ "home/kitchen/all", "{\"device_id\":\"tut_001\",\"boot\":1,\"seq\":1,"
			  "\"sensors\":{\"temperature\":21.0}}", false },
			{ "cmd/tut_001", "stop", false },
			{ "home/attic/temperature", "5", false },
			{ "home/kitchen/pressure", "1013", false },
			{ "sensors/robot_001/temperature", "22.5", false },
			{ "sensors/robot_001/status", "offline", false },
		};
		assert_int_equal(publish_all(msgs, sizeof(msgs) / sizeof(msgs[0])), 0);
	}
	assert_int_equal(recorder_wait_received(r, 11, WAIT_MS), 0);
	assert_int_equal(recorder_flush(r, WAIT_MS), 0);
	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 11);
	assert_int_equal(st.metrics, 6);  /* 3 plain, 2 from the unkeyed JSON, robot's one */
	assert_int_equal(st.readings, 1);
	assert_int_equal(st.statuses, 2);
	assert_int_equal(st.commands, 1);
	assert_int_equal(st.rejected, 2);
	recorder_close(r);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM metric_messages WHERE device_id = 'tut_001'"
			       " AND ((metric = 'temperature' AND value = 21.5) OR"
			       " (metric = 'humidity' AND value = 40))"), 2);
	assert_int_equal(q_int(db, "SELECT count(*) FROM metric_messages WHERE device_id = 'tut_002'"),
			 3);
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings WHERE device_id = 'tut_001'"
			       " AND boot = 1 AND seq = 1 AND temperature = 21.0"), 1);
	q_text(db, "SELECT status FROM status WHERE device_id = 'tut_002'", text, sizeof(text));
	assert_string_equal(text, "online");
	assert_int_equal(q_int(db, "SELECT count(*) FROM commands WHERE device_id = 'tut_001'"), 1);
	assert_int_equal(q_int(db, "SELECT count(*) FROM metric_messages WHERE device_id = 'robot_001'"),
			 1);
	q_text(db, "SELECT reason FROM raw_messages WHERE topic = 'home/attic/temperature'", text,
	       sizeof(text));
	assert_string_equal(text, "no device has the room this topic names");
	q_text(db, "SELECT reason FROM raw_messages WHERE topic = 'home/kitchen/pressure'", text,
	       sizeof(text));
	assert_string_equal(text, "topic matches no template of the fleet's layouts");
	sqlite3_close(db);
	topic_map_free(map);
}

static void test_recorder_open_refuses_bad_options(void **state)
{
	char path[300];
	struct recorder_opts o = { 0 };
	struct recorder *r = (struct recorder *)&o;

	(void)state;
	assert_int_equal(recorder_open(&o, &r), -EINVAL);
	assert_null(r);
	o.db_path = "/nonexistent-dir/x.db";
	o.client_id = "rf-test-bad";
	assert_true(recorder_open(&o, &r) < 0);
	assert_null(r);
	/* A database from a newer recorder is not written into. */
	db_path(path, sizeof(path), "newer");
	{
		sqlite3 *db = NULL;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	o.db_path = path;
	assert_int_equal(recorder_open(&o, &r), -EPROTO);
	recorder_close(NULL);
}

/* ---- messages that did not come over MQTT, and the command hook -------------------- */

struct stored_calls {
	pthread_mutex_t lock;
	int calls;
	int errors;
};

static void count_stored(void *ctx, int err)
{
	struct stored_calls *c = ctx;

	pthread_mutex_lock(&c->lock);
	c->calls++;
	c->errors += err != 0;
	pthread_mutex_unlock(&c->lock);
}

static bool ingested_stored(const struct recorder_stats *s, void *arg)
{
	return s->queued == 0 && s->stored >= *(const uint64_t *)arg;
}

/* recorder_ingest() needs no broker: same key, same duplicate accounting, raw rows. */
static void test_recorder_ingest_without_broker(void **state)
{
	static const char tutorial[] =
		"{\"device_id\": \"esp32_001\", \"timestamp\": \"2025-12-07T10:30:45Z\", "
		"\"sensors\": {\"temperature\": 22.5, \"humidity\": 65.2, \"distance\": 150.3}}";
	struct stored_calls calls = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct recorder_opts o = { 0 };
	struct recorder_stats st;
	struct recorder *r = NULL;
	uint64_t want = 4;
	char path[300], *reading;
	sqlite3 *db;

	(void)state;
	db_path(path, sizeof(path), "ingest");
	o.db_path = path;
	o.client_id = "rf-test-ingest";
	o.max_payload = 4096;
	assert_int_equal(recorder_open(&o, &r), 0);
	{
		/* Too long to keep whole: refused, so the sender hears it (and nothing is counted). */
		static char big[4097];

		memset(big, ' ', sizeof(big));
		assert_int_equal(recorder_ingest(r, "sensors/h1/data", big, sizeof(big), NULL,
						 count_stored, &calls), -EMSGSIZE);
	}
	reading = data_payload("h1", 1, 1, "\"temperature\":20.5", NULL);
	assert_int_equal(recorder_ingest(r, "sensors/h1/data", reading, strlen(reading), NULL,
					 count_stored, &calls), 0);
	assert_int_equal(recorder_ingest(r, "sensors/h1/data", reading, strlen(reading), NULL,
					 count_stored, &calls), 0);
	assert_int_equal(recorder_ingest(r, "sensors/esp32_001/data", tutorial, strlen(tutorial),
					 NULL, count_stored, &calls), 0);
	assert_int_equal(recorder_ingest(r, "POST /api/sensors/data", "{\"x\":", 5,
					 "expected a value", count_stored, &calls), 0);
	assert_int_equal(recorder_wait_stats(r, ingested_stored, &want, WAIT_MS), 0);
	assert_int_equal(recorder_flush(r, WAIT_MS), 0);
	pthread_mutex_lock(&calls.lock);
	assert_int_equal(calls.calls, 4);
	assert_int_equal(calls.errors, 0);
	pthread_mutex_unlock(&calls.lock);
	recorder_read_stats(r, &st);
	assert_int_equal(st.received, 4);
	assert_int_equal(st.ingested, 4);
	assert_int_equal(st.readings, 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.metrics, 3);
	assert_int_equal(st.rejected, 1);
	recorder_close(r);
	free(reading);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT readings * 10 + duplicates FROM boots WHERE device_id = 'h1'"), 11);
	assert_int_equal(q_int(db, "SELECT count(*) FROM metric_messages WHERE device_id = 'esp32_001'"), 3);
	assert_int_equal(q_int(db, "SELECT count(*) FROM raw_messages WHERE topic = 'POST /api/sensors/data'"
			       " AND reason = 'expected a value' AND device_id IS NULL"), 1);
	sqlite3_close(db);
}

struct commands_seen {
	pthread_mutex_t lock;
	int calls;
	char device_id[80];
	char payload[80];
};

static void on_command(void *ctx, const char *device_id, const void *payload, size_t len)
{
	struct commands_seen *c = ctx;

	pthread_mutex_lock(&c->lock);
	c->calls++;
	snprintf(c->device_id, sizeof(c->device_id), "%s", device_id);
	snprintf(c->payload, sizeof(c->payload), "%.*s", (int)len, (const char *)payload);
	pthread_mutex_unlock(&c->lock);
}

/* Commands published for a device reach the hook; a reading over HTTP and
 * the same over MQTT are one reading. */
static void test_recorder_command_hook_and_mixed_transports(void **state)
{
	struct commands_seen seen = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct recorder_opts o = { .on_command = on_command, .command_ctx = &seen };
	struct recorder *r;
	char path[300], *reading = data_payload("m1", 1, 1, "\"temperature\":19", NULL);
	const struct out msgs[] = {
		{ "sensors/m1/command", "stop", false },
		{ "sensors/m1/data", reading, false },
		{ "other/m1/command", "start", false },
	};
	struct recorder_stats st;
	sqlite3 *db;

	(void)state;
	db_path(path, sizeof(path), "hook");
	r = start_recorder(path, "rf-test-hook", &o);
	assert_int_equal(recorder_ingest(r, "sensors/m1/data", reading, strlen(reading), NULL, NULL,
					 NULL), 0);
	assert_int_equal(publish_all(msgs, 3), 0);
	assert_int_equal(recorder_sync(r, WAIT_MS), 0);
	pthread_mutex_lock(&seen.lock);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.device_id, "m1");
	assert_string_equal(seen.payload, "stop");
	pthread_mutex_unlock(&seen.lock);
	recorder_read_stats(r, &st);
	assert_int_equal(st.readings, 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.commands, 1);
	recorder_close(r);
	free(reading);
	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM readings WHERE device_id = 'm1'"), 1);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_recorder_records_contract, clear_retained),
		cmocka_unit_test(test_recorder_persistent_session_keeps_queued),
		cmocka_unit_test(test_recorder_redelivery_dropped_and_faults),
		cmocka_unit_test(test_recorder_hands_on_new_readings),
		cmocka_unit_test(test_recorder_tiny_queue_loses_nothing),
		cmocka_unit_test(test_recorder_drains_a_backlog),
		cmocka_unit_test(test_recorder_keeps_what_it_cannot_store),
		cmocka_unit_test(test_recorder_open_refuses_bad_options),
		cmocka_unit_test(test_recorder_attributes_by_layout),
		cmocka_unit_test(test_recorder_resubscribes_after_broker_restart),
		cmocka_unit_test(test_recorder_waits_for_late_broker),
		cmocka_unit_test(test_recorder_ingest_without_broker),
		cmocka_unit_test(test_recorder_command_hook_and_mixed_transports),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
