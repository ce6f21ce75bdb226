/* The record's read API (sim/record.h) against a record the real recorder schema stored. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "record.h"
#include "recorder_db.h"

/*
 * The made-up record: the hour before the current one, so that "the last
 * N hours" questions see it and all of it falls in one hourly row.
 *   a: retained online, online, readings 1/1 1/2 1/2 (again) 1/4 2/1, offline
 *   b: online, one reading without distance (error named)
 *   c: a per-metric temperature only; d: a retained online only
 *   sensors/x/bogus, outside the contract; a command to a; two faults
 */
struct fixture {
	char dir[64], path[96];
	struct recorder_db *writer;
	struct record *rec;
	int64_t t0;
};

static void iso_time(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char day[32];

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
}

static void store(struct fixture *f, enum recorder_msg_kind kind, int64_t at, const char *topic,
		  const char *payload, bool retained)
{
	size_t tlen = strlen(topic), plen = strlen(payload);
	struct recorder_msg *m = calloc(1, sizeof(*m) + plen + 1 + tlen + 1);
	struct recorder__counts counts;

	assert_non_null(m);
	memset(&counts, 0, sizeof(counts));
	m->kind = kind;
	m->recv_ms = f->t0 + at;
	m->retained = retained;
	m->size = m->len = plen;
	memcpy(m->payload, payload, plen + 1);
	m->topic = (char *)m->payload + plen + 1;
	memcpy(m->topic, topic, tlen + 1);
	assert_int_equal(recorder__db_store(f->writer, m, &counts), 0);
	free(m);
}

/* A reading of @id; @ts_at < 0: without a device time. @sensors and @errors are JSON members. */
static void store_reading(struct fixture *f, int64_t at, const char *id, int boot, int seq,
			  int64_t ts_at, const char *sensors, const char *errors)
{
	char topic[64], payload[512], ts[64] = "";

	if (ts_at >= 0) {
		char when[40];

		iso_time(f->t0 + ts_at, when, sizeof(when));
		snprintf(ts, sizeof(ts), ",\"timestamp\":\"%s\"", when);
	}
	snprintf(topic, sizeof(topic), "sensors/%s/data", id);
	snprintf(payload, sizeof(payload),
		 "{\"device_id\":\"%s\",\"boot\":%d,\"seq\":%d%s,\"sensors\":{%s}%s%s%s}", id, boot,
		 seq, ts, sensors, errors ? ",\"errors\":{" : "", errors ? errors : "",
		 errors ? "}" : "");
	store(f, RECORDER_MSG_MQTT, at, topic, payload, false);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	int64_t now = (int64_t)time(NULL) * 1000;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_record_read-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/record.db", f->dir);
	f->t0 = now - now % 3600000 - 3600000;
	assert_int_equal(recorder__db_open(f->path, NULL, NULL, NULL, &f->writer, err, sizeof(err)), 0);
	assert_int_equal(recorder__db_begin(f->writer), 0);
	store(f, RECORDER_MSG_MQTT, 0, "sensors/a/status", "online", true);
	store(f, RECORDER_MSG_MQTT, 5, "sensors/d/status", "online", true);
	store(f, RECORDER_MSG_MQTT, 10, "sensors/a/status", "online", false);
	store(f, RECORDER_MSG_MQTT, 20, "sensors/b/status", "online", false);
	store(f, RECORDER_MSG_MQTT, 30, "sensors/c/temperature", "19.5", false);
	store_reading(f, 100, "a", 1, 1, 90, "\"temperature\":20.5,\"humidity\":40,\"distance\":100", NULL);
	store_reading(f, 150, "b", 1, 1, 140, "\"temperature\":30,\"humidity\":50",
		      "\"distance\":\"out_of_range\"");
	store_reading(f, 200, "a", 1, 2, 180, "\"temperature\":21,\"distance\":101",
		      "\"humidity\":\"timeout\"");
	store_reading(f, 250, "a", 1, 2, 180, "\"temperature\":21,\"distance\":101",
		      "\"humidity\":\"timeout\"");
	store(f, RECORDER_MSG_FAULT, 260, "a", "wifi_drop\ninject\nscenario\nperiod=10s", false);
	store(f, RECORDER_MSG_FAULT, 270, "", "broker\nstop\ndashboard\n", false);
	store(f, RECORDER_MSG_ALERT, 271, "a", "too_hot\nraised\ntemperature\n31.5\n30\n200\n65\n265",
	      false);
	store(f, RECORDER_MSG_ALERT, 272, "b", "silent\nraised\n\n\n30\n230\n40\n270", false);
	store(f, RECORDER_MSG_MQTT, 280, "sensors/a/command", "stop", false);
	store(f, RECORDER_MSG_MQTT, 290, "sensors/x/bogus", "?", false);
	store_reading(f, 300, "a", 1, 4, -1, "\"temperature\":22.5,\"humidity\":41,\"distance\":102", NULL);
	store_reading(f, 400, "a", 2, 1, 350, "\"temperature\":23,\"humidity\":42", NULL);
	store(f, RECORDER_MSG_MQTT, 500, "sensors/a/status", "offline", false);
	assert_int_equal(recorder__db_commit(f->writer), 0);
	assert_int_equal(record_open(f->path, 1000, &f->rec, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	record_close(f->rec);
	recorder__db_close(f->writer, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_record_open_missing_and_empty(void **state)
{
	struct fixture *f = *state;
	struct record *rec = NULL;
	struct recorder_db *w = NULL;
	char path[128], err[256];
	FILE *empty;

	snprintf(path, sizeof(path), "%s/none.db", f->dir);
	assert_int_equal(record_open(path, 10, &rec, err, sizeof(err)), -ENOENT);
	assert_null(rec);
	assert_true(err[0] != '\0');
	/* A record the recorder has not created its tables in yet. */
	snprintf(path, sizeof(path), "%s/empty.db", f->dir);
	assert_non_null(empty = fopen(path, "w"));
	fclose(empty);
	assert_int_equal(record_open(path, 10, &rec, err, sizeof(err)), 0);
	assert_int_equal(record_check_schema(rec), -ENODATA);
	assert_true(record_error(rec)[0] != '\0');
	assert_int_equal(recorder__db_open(path, NULL, NULL, NULL, &w, err, sizeof(err)), 0);
	assert_int_equal(record_check_schema(rec), 0);
	record_close(rec);
	assert_int_equal(recorder__db_close(w, err, sizeof(err)), 0);
	record_close(NULL);
}

static void test_record_device_status(void **state)
{
	struct fixture *f = *state;
	struct record_status st;

	assert_int_equal(record_device_status(f->rec, "a", &st), 0);
	assert_false(st.online);
	assert_true(st.said);
	assert_int_equal(st.said_ms, f->t0 + 500);
	assert_int_equal(record_device_status(f->rec, "b", &st), 0);
	assert_true(st.online);
	assert_int_equal(st.said_ms, f->t0 + 20);
	/* Only the broker's retained copy: a status, but nothing the device said. */
	assert_int_equal(record_device_status(f->rec, "d", &st), 0);
	assert_true(st.online);
	assert_false(st.said);
	assert_int_equal(record_device_status(f->rec, "c", &st), -ENODATA);
	assert_int_equal(record_device_status(f->rec, "nobody", &st), -ENODATA);
}

static void test_record_count_device_readings(void **state)
{
	struct fixture *f = *state;
	uint64_t n = 99;

	assert_int_equal(record_count_device_readings(f->rec, "a", f->t0, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(record_count_device_readings(f->rec, "a", f->t0 + 200, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(record_count_device_readings(f->rec, "c", f->t0, &n), 0);
	assert_int_equal(n, 0);
}

struct seen {
	size_t n, nan, stop_after;
	double sum;
};

static bool collect(void *arg, double v)
{
	struct seen *s = arg;

	s->n++;
	if (isnan(v))
		s->nan++;
	else
		s->sum += v;
	return s->n != s->stop_after;
}

static void test_record_metric_values(void **state)
{
	struct fixture *f = *state;
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(record_metric_values(f->rec, "a", RECORD_METRIC_TEMPERATURE, true, 0,
					      collect, &s), 1);
	assert_true(s.sum == 23.0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(record_metric_values(f->rec, "a", RECORD_METRIC_DISTANCE, true, 0,
					      collect, &s), 1);
	assert_int_equal(s.nan, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(record_metric_values(f->rec, "a", RECORD_METRIC_HUMIDITY, false,
					      f->t0 + 150, collect, &s), 3);
	assert_int_equal(s.nan, 1);
	assert_true(s.sum == 83.0);
	/* The callback ends the walk. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(record_metric_values(f->rec, "a", RECORD_METRIC_TEMPERATURE, false, f->t0,
					      collect, &s), 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(record_metric_values(f->rec, "c", RECORD_METRIC_TEMPERATURE, true, 0,
					      collect, &s), 0);
	assert_int_equal(record_metric_values(f->rec, "a", RECORD_METRIC_COUNT, true, 0, collect,
					      &s), -EIO);
}

static void test_record_metric_error(void **state)
{
	struct fixture *f = *state;
	char name[32];

	assert_int_equal(record_metric_error(f->rec, "a", RECORD_METRIC_TEMPERATURE, name,
					     sizeof(name)), 0);
	assert_string_equal(name, "");
	/* Neither a number nor a named error. */
	assert_int_equal(record_metric_error(f->rec, "a", RECORD_METRIC_DISTANCE, name,
					     sizeof(name)), 0);
	assert_string_equal(name, "error");
	assert_int_equal(record_metric_error(f->rec, "b", RECORD_METRIC_DISTANCE, name,
					     sizeof(name)), 0);
	assert_string_equal(name, "out_of_range");
	assert_int_equal(record_metric_error(f->rec, "c", RECORD_METRIC_HUMIDITY, name,
					     sizeof(name)), -ENODATA);
}

struct boots_seen {
	size_t n;
	uint32_t boot[4], max_seq[4];
};

static void collect_boot(void *arg, uint32_t boot, uint32_t max_seq)
{
	struct boots_seen *b = arg;

	if (b->n < 4) {
		b->boot[b->n] = boot;
		b->max_seq[b->n] = max_seq;
	}
	b->n++;
}

static void test_record_accounting(void **state)
{
	struct fixture *f = *state;
	struct boots_seen b;
	uint64_t dup = 99;

	memset(&b, 0, sizeof(b));
	assert_int_equal(record_device_boots(f->rec, "a", collect_boot, &b), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.boot[0], 1);
	assert_int_equal(b.max_seq[0], 4);
	assert_int_equal(b.boot[1], 2);
	assert_int_equal(b.max_seq[1], 1);
	memset(&b, 0, sizeof(b));
	assert_int_equal(record_device_boots(f->rec, "c", collect_boot, &b), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(record_count_boot_readings(f->rec, "a", 1, 1, 4), 3);
	assert_int_equal(record_count_boot_readings(f->rec, "a", 1, 3, 3), 0);
	assert_int_equal(record_count_boot_readings(f->rec, "a", 2, 1, 1), 1);
	assert_int_equal(record_count_boot_readings(f->rec, "b", 1, 1, 100), 1);
	assert_int_equal(record_device_duplicates(f->rec, "a", &dup), 0);
	assert_int_equal(dup, 1);
	assert_int_equal(record_device_duplicates(f->rec, "b", &dup), 0);
	assert_int_equal(dup, 0);
	dup = 99;
	assert_int_equal(record_device_duplicates(f->rec, "c", &dup), -ENODATA);
	assert_int_equal(dup, 0);
}

static void test_record_summary_figures(void **state)
{
	struct fixture *f = *state;
	struct record_totals t;
	uint64_t n;

	assert_int_equal(record_count_readings(f->rec, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(record_count_timed_readings(f->rec, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(record_count_rejected(f->rec, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(record_count_online(f->rec, &n), 0);
	assert_int_equal(n, 2); /* b, and d by its retained copy */
	/* 5 readings, 5 status messages, a metric, a command, a rejected message. */
	assert_int_equal(record_count_messages(f->rec, &n), 0);
	assert_int_equal(n, 13);
	assert_int_equal(record_accounting_totals(f->rec, &t), 0);
	assert_int_equal(t.lost, 1); /* a's boot 1 seq 3 */
	assert_int_equal(t.duplicates, 1);
	/* Latencies 10, 10, 20, 50 ms. */
	assert_true(record_latency_at(f->rec, 4, 0.50) == 10.0);
	assert_true(record_latency_at(f->rec, 4, 0.99) == 20.0);
	assert_true(record_latency_at(f->rec, 4, 1.0) == 50.0);
	assert_true(isnan(record_latency_at(f->rec, 0, 0.5)));
}

struct last_seen {
	size_t n;
	int64_t a_ms, b_ms;
};

static void collect_last_seen(void *arg, const char *id, int64_t last_ms)
{
	struct last_seen *l = arg;

	l->n++;
	if (!strcmp(id, "a"))
		l->a_ms = last_ms;
	if (!strcmp(id, "b"))
		l->b_ms = last_ms;
}

static void test_record_devices_last_seen(void **state)
{
	struct fixture *f = *state;
	struct last_seen l;

	memset(&l, 0, sizeof(l));
	assert_int_equal(record_devices_last_seen(f->rec, collect_last_seen, &l), 0);
	assert_int_equal(l.n, 4); /* a, b, c, d: x's topic names no device */
	assert_int_equal(l.a_ms, f->t0 + 500);
	assert_int_equal(l.b_ms, f->t0 + 150);
}

struct events {
	size_t n;
	int64_t last_id;
	char text[4][96];
};

static void collect_fault(void *arg, const struct record_fault *x)
{
	struct events *e = arg;

	if (e->n < 4)
		snprintf(e->text[e->n], sizeof(e->text[0]), "%s %s %s %s %s",
			 x->device_id ? x->device_id : "(null)", x->kind, x->action, x->source,
			 x->detail ? x->detail : "(null)");
	e->n++;
	e->last_id = x->id;
}

static void collect_status(void *arg, const struct record_status_change *c)
{
	struct events *e = arg;

	if (e->n < 4)
		snprintf(e->text[e->n], sizeof(e->text[0]), "%s %s", c->device_id,
			 c->online ? "online" : "offline");
	e->n++;
	e->last_id = c->id;
}

static void collect_alert(void *arg, const struct record_alert *a)
{
	struct events *e = arg;

	if (e->n < 4)
		snprintf(e->text[e->n], sizeof(e->text[0]), "%s %s %s %s %g %g %lld %lld %lld",
			 a->device_id, a->rule, a->state, a->metric ? a->metric : "(null)", a->value,
			 a->threshold, (long long)a->ms, (long long)a->crossed_ms,
			 (long long)a->latency_ms);
	e->n++;
	e->last_id = a->id;
}

static void test_record_events(void **state)
{
	struct fixture *f = *state;
	struct events e;
	int64_t first;

	memset(&e, 0, sizeof(e));
	assert_int_equal(record_faults_after(f->rec, 0, 500, collect_fault, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.text[0], "a wifi_drop inject scenario period=10s");
	assert_string_equal(e.text[1], "(null) broker stop dashboard (null)");
	first = e.last_id - 1;
	memset(&e, 0, sizeof(e));
	assert_int_equal(record_faults_after(f->rec, first, 500, collect_fault, &e), 0);
	assert_int_equal(e.n, 1);
	memset(&e, 0, sizeof(e));
	assert_int_equal(record_faults_after(f->rec, 0, 1, collect_fault, &e), 0);
	assert_int_equal(e.n, 1);

	/* Alerts as the run noted them: the decision's own time, no value for silence. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(record_alerts_after(f->rec, 0, 500, collect_alert, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.text[0], "a too_hot raised temperature 31.5 30 265 200 65");
	assert_string_equal(e.text[1], "b silent raised (null) nan 30 270 230 40");
	first = e.last_id - 1;
	memset(&e, 0, sizeof(e));
	assert_int_equal(record_alerts_after(f->rec, first, 500, collect_alert, &e), 0);
	assert_int_equal(e.n, 1);

	/* The retained copies are left out. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(record_status_after(f->rec, 0, 100, collect_status, &e), 0);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.text[0], "a online");
	assert_string_equal(e.text[1], "b online");
	assert_string_equal(e.text[2], "a offline");
	first = e.last_id;
	memset(&e, 0, sizeof(e));
	assert_int_equal(record_status_after(f->rec, first, 100, collect_status, &e), 0);
	assert_int_equal(e.n, 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(record_status_after(f->rec, 0, 2, collect_status, &e), 0);
	assert_int_equal(e.n, 2);
}

static void test_record_recent_values(void **state)
{
	struct fixture *f = *state;
	struct record_values v[8];

	assert_int_equal(record_recent_values(f->rec, "a", 8, v), 4);
	/* Newest first. */
	assert_true(v[0].v[RECORD_METRIC_TEMPERATURE] == 23.0);
	assert_true(isnan(v[0].v[RECORD_METRIC_DISTANCE]));
	assert_true(v[1].v[RECORD_METRIC_DISTANCE] == 102.0);
	assert_true(isnan(v[2].v[RECORD_METRIC_HUMIDITY]));
	assert_true(v[3].v[RECORD_METRIC_TEMPERATURE] == 20.5);
	assert_int_equal(record_recent_values(f->rec, "a", 2, v), 2);
	assert_true(v[1].v[RECORD_METRIC_TEMPERATURE] == 22.5);
	assert_int_equal(record_recent_values(f->rec, "c", 8, v), 0);
}

/* A table as text: "col|col\n" a row, NULL as "-". */
struct table {
	char text[2048];
	size_t calls, stop_at;
};

static int collect_row(void *arg, size_t n, const char *const *cells)
{
	struct table *t = arg;
	size_t len = strlen(t->text);

	for (size_t c = 0; c < n; c++)
		len += (size_t)snprintf(t->text + len, sizeof(t->text) - len, "%s%s", c ? "|" : "",
					cells[c] ? cells[c] : "-");
	snprintf(t->text + len, sizeof(t->text) - len, "\n");
	return ++t->calls == t->stop_at ? 7 : 0;
}

static void test_record_device_readings(void **state)
{
	struct fixture *f = *state;
	struct table t;
	char first[128], when[40];

	memset(&t, 0, sizeof(t));
	assert_int_equal(record_device_readings(f->rec, "b", 3 * 3600000u, collect_row, &t), 0);
	iso_time(f->t0 + 150, when, sizeof(when));
	snprintf(first, sizeof(first),
		 "recv_time|boot|seq|ts_time|temperature|humidity|distance|errors\n"
		 "%s|1|1|", when);
	assert_memory_equal(t.text, first, strlen(first));
	assert_non_null(strstr(t.text, "|30.0|50.0|-|{\"distance\":\"out_of_range\"}\n"));
	assert_int_equal(t.calls, 2);
	/* Older than the last millisecond: the names, no row. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_device_readings(f->rec, "a", 1, collect_row, &t), 0);
	assert_int_equal(t.calls, 1);
	/* The callback stops it. */
	memset(&t, 0, sizeof(t));
	t.stop_at = 2;
	assert_int_equal(record_device_readings(f->rec, "a", 3 * 3600000u, collect_row, &t), 7);
}

static void test_record_hourly_means(void **state)
{
	struct fixture *f = *state;
	struct table t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(record_hourly_means(f->rec, NULL, collect_row, &t), 0);
	assert_int_equal(t.calls, 3);
	assert_non_null(strstr(t.text, "device_id|hour|readings|temperature|humidity|distance\n"));
	assert_non_null(strstr(t.text, "|4|21.75|41.0|101.0\n"));
	assert_non_null(strstr(t.text, "|1|30.0|50.0|-\n"));
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_hourly_means(f->rec, "b", collect_row, &t), 0);
	assert_int_equal(t.calls, 2);
	assert_int_equal(strncmp(strchr(t.text, '\n') + 1, "b|", 2), 0);
}

static void test_record_sql_rows(void **state)
{
	struct fixture *f = *state;
	struct table t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(record_sql_rows(f->rec, "SELECT count(*) AS n, NULL AS z FROM readings",
					 collect_row, &t), 0);
	assert_string_equal(t.text, "n|z\n5|-\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_sql_rows(f->rec, "SELECT nonsense", collect_row, &t), -EINVAL);
	assert_non_null(strstr(record_error(f->rec), "nonsense"));
	assert_int_equal(t.calls, 0);
	/* Read-only: it compiles, and fails when run. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_sql_rows(f->rec, "DELETE FROM readings", collect_row, &t), -EIO);
	assert_true(record_error(f->rec)[0] != '\0');
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_sql_rows(f->rec, "  ", collect_row, &t), -EIO);
	assert_string_equal(t.text, "\n");
}

struct exported {
	size_t n;
	struct record_export_row first, no_ts, no_dist;
	char first_value[16], first_time[40], no_dist_errors[64];
	bool no_ts_time_null, no_dist_text_null;
};

static void collect_export(void *arg, const struct record_export_row *r)
{
	struct exported *e = arg;

	if (e->n == 0) {
		e->first = *r;
		snprintf(e->first_value, sizeof(e->first_value), "%s", r->value_text[0]);
		snprintf(e->first_time, sizeof(e->first_time), "%s", r->recv_time);
	}
	if (!r->has_ts) {
		e->no_ts = *r;
		e->no_ts_time_null = r->ts_time == NULL;
	}
	if (!r->has[RECORD_METRIC_DISTANCE] && !strcmp(r->device_id, "b")) {
		e->no_dist = *r;
		e->no_dist_text_null = r->value_text[RECORD_METRIC_DISTANCE] == NULL;
		snprintf(e->no_dist_errors, sizeof(e->no_dist_errors), "%s", r->errors);
	}
	e->n++;
}

static void test_record_export_readings(void **state)
{
	struct fixture *f = *state;
	struct exported e;
	char when[40];

	memset(&e, 0, sizeof(e));
	assert_int_equal(record_export_readings(f->rec, collect_export, &e), 0);
	assert_int_equal(e.n, 5);
	assert_int_equal(e.first.recv_ms, f->t0 + 100);
	assert_int_equal(e.first.boot, 1);
	assert_int_equal(e.first.seq, 1);
	assert_true(e.first.has_ts);
	assert_int_equal(e.first.ts_ms, f->t0 + 90);
	assert_true(e.first.value[RECORD_METRIC_TEMPERATURE] == 20.5);
	assert_string_equal(e.first_value, "20.5");
	iso_time(f->t0 + 100, when, sizeof(when));
	assert_string_equal(e.first_time, when);
	assert_int_equal(e.no_ts.seq, 4);
	assert_true(e.no_ts_time_null);
	assert_int_equal(e.no_dist.recv_ms, f->t0 + 150);
	assert_true(e.no_dist_text_null);
	assert_string_equal(e.no_dist_errors, "{\"distance\":\"out_of_range\"}");
}

struct followed {
	size_t n;
	int64_t last_id;
	bool ascending;
};

static void collect_follow(void *arg, const struct record_export_row *r)
{
	struct followed *fl = arg;

	if (r->id <= fl->last_id)
		fl->ascending = false;
	fl->last_id = r->id;
	fl->n++;
}

/* The live InfluxDB feed's way through the table: by id, a page at a time. */
static void test_record_export_readings_after(void **state)
{
	struct fixture *f = *state;
	struct followed fl = { .ascending = true };
	size_t before;

	for (int page = 0; page < 10; page++) {
		before = fl.n;
		assert_int_equal(record_export_readings_after(f->rec, fl.last_id, 2, collect_follow, &fl), 0);
		assert_true(fl.n - before <= 2);
		if (fl.n == before)
			break;
	}
	assert_int_equal(fl.n, 5);
	assert_true(fl.ascending);
	before = fl.n;
	assert_int_equal(record_export_readings_after(f->rec, fl.last_id, 100, collect_follow, &fl), 0);
	assert_int_equal(fl.n, before);
}

static void test_record_write_accounts(void **state)
{
	struct fixture *f = *state;
	const struct record_account rows[] = {
		{ "a", 6, 4, 1, 0, 1, NULL, 6, 5, 1, 0 },
		{ "b", 1, 1, 0, 0, 0, NULL, 1, 1, 0, 0 },
		{ "s", 0, 7, 0, 0, 1, "sketch", 10, 8, 2, 41 },
	};
	struct table t;
	char err[256], path[128];

	assert_int_equal(record_write_accounts(f->path, rows, 3, err, sizeof(err)), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_sql_rows(f->rec, "SELECT * FROM device_accounts ORDER BY device_id",
					 collect_row, &t), 0);
	assert_string_equal(t.text, "device_id|taken|recorded|buffered|dropped|lost|firmware|"
				    "attempted|sent|not_sent|reconnects\n"
				    "a|6|4|1|0|1|robot|6|5|1|0\nb|1|1|0|0|0|robot|1|1|0|0\n"
				    "s|0|7|0|0|1|sketch|10|8|2|41\n");
	/* Written again, the table is replaced. */
	assert_int_equal(record_write_accounts(f->path, rows + 1, 1, err, sizeof(err)), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_sql_rows(f->rec, "SELECT device_id FROM device_accounts",
					 collect_row, &t), 0);
	assert_string_equal(t.text, "device_id\nb\n");
	snprintf(path, sizeof(path), "%s/none.db", f->dir);
	assert_true(record_write_accounts(path, rows, 2, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "none.db"));
}

/*
 * Kept statements hold no snapshot between calls: new readings show, and
 * the writer's checkpoint at close is not kept waiting by this reader.
 */
static void test_record_sees_new_data(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	uint64_t n;
	char err[256];

	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(record_metric_values(f->rec, "a", RECORD_METRIC_TEMPERATURE, false, f->t0,
					      collect, &s), 1);
	assert_int_equal(record_count_readings(f->rec, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(recorder__db_begin(f->writer), 0);
	store_reading(f, 600, "b", 1, 2, 590, "\"temperature\":31", NULL);
	assert_int_equal(recorder__db_commit(f->writer), 0);
	assert_int_equal(record_count_readings(f->rec, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(record_count_device_readings(f->rec, "b", f->t0, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(recorder__db_close(f->writer, err, sizeof(err)), 0);
	f->writer = NULL;
}

int main(void)
{
	/* One record for all: each test reads it, the last two add to it. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_open_missing_and_empty),
		cmocka_unit_test(test_record_device_status),
		cmocka_unit_test(test_record_count_device_readings),
		cmocka_unit_test(test_record_metric_values),
		cmocka_unit_test(test_record_metric_error),
		cmocka_unit_test(test_record_accounting),
		cmocka_unit_test(test_record_summary_figures),
		cmocka_unit_test(test_record_devices_last_seen),
		cmocka_unit_test(test_record_events),
		cmocka_unit_test(test_record_recent_values),
		cmocka_unit_test(test_record_device_readings),
		cmocka_unit_test(test_record_hourly_means),
		cmocka_unit_test(test_record_sql_rows),
		cmocka_unit_test(test_record_export_readings),
		cmocka_unit_test(test_record_export_readings_after),
		cmocka_unit_test(test_record_write_accounts),
		cmocka_unit_test(test_record_sees_new_data),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
