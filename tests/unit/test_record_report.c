/* The report's side of the record (record_report.c) and the fold of a whole run (report_data.c), on a made-up record. */
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
#include "report_data.h"
#include "report_html.h"

/*
 * Two groups: lab (a, b) and yard (c). t0 is a whole second.
 *   a: online at 0.1 s, readings at 1.1 s and 2.1 s (the second received twice), offline at 5 s
 *   b: online at 0.2 s, a reading at 1.5 s; a wifi_drop on b from 2 s to 4 s
 *   c: online at 3 s, a reading at 3.5 s; the broker stopped 6 s to 7 s; a command to a at 2.5 s
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
		  const char *payload)
{
	size_t tlen = strlen(topic), plen = strlen(payload);
	struct recorder_msg *m = calloc(1, sizeof(*m) + plen + 1 + tlen + 1);
	struct recorder__counts counts;

	assert_non_null(m);
	memset(&counts, 0, sizeof(counts));
	m->kind = kind;
	m->recv_ms = f->t0 + at;
	m->size = m->len = plen;
	memcpy(m->payload, payload, plen + 1);
	m->topic = (char *)m->payload + plen + 1;
	memcpy(m->topic, topic, tlen + 1);
	assert_int_equal(recorder__db_store(f->writer, m, &counts), 0);
	free(m);
}

/* A reading received at @at, taken at @ts_at. */
static void reading(struct fixture *f, int64_t at, int64_t ts_at, const char *id, int seq, double t)
{
	char topic[64], payload[300], when[40];

	iso_time(f->t0 + ts_at, when, sizeof(when));
	snprintf(topic, sizeof(topic), "sensors/%s/data", id);
	snprintf(payload, sizeof(payload), "{\"device_id\":\"%s\",\"boot\":1,\"seq\":%d,"
		 "\"timestamp\":\"%s\",\"sensors\":{\"temperature\":%.1f,\"humidity\":40}}", id, seq,
		 when, t);
	store(f, RECORDER_MSG_MQTT, at, topic, payload);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_record_report-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/record.db", f->dir);
	f->t0 = ((int64_t)time(NULL) - 3600) * 1000;
	assert_int_equal(recorder__db_open(f->path, NULL, NULL, NULL, &f->writer, err, sizeof(err)), 0);
	assert_int_equal(recorder__db_begin(f->writer), 0);
	store(f, RECORDER_MSG_MQTT, 100, "sensors/a/status", "online");
	store(f, RECORDER_MSG_MQTT, 200, "sensors/b/status", "online");
	reading(f, 1100, 1080, "a", 1, 20.0);
	reading(f, 1500, 1480, "b", 1, 22.0);
	store(f, RECORDER_MSG_FAULT, 2000, "b", "wifi_drop\ninject\nscenario\nseed=1");
	reading(f, 2100, 2080, "a", 2, 21.0);
	reading(f, 2150, 2080, "a", 2, 21.0);
	store(f, RECORDER_MSG_MQTT, 2500, "sensors/a/command", "stop");
	store(f, RECORDER_MSG_MQTT, 3000, "sensors/c/status", "online");
	reading(f, 3500, 3480, "c", 1, 10.0);
	store(f, RECORDER_MSG_FAULT, 4000, "b", "wifi_drop\nclear\nscenario\n");
	store(f, RECORDER_MSG_MQTT, 5000, "sensors/a/status", "offline");
	store(f, RECORDER_MSG_FAULT, 6000, "", "broker\nstop\nscenario\n");
	store(f, RECORDER_MSG_FAULT, 7000, "", "broker\nstart\nscenario\n");
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

static void write_info(struct fixture *f)
{
	static const struct record_run_group groups[] = { { "lab", "robot" },
							  { "yard<1>", "sketch: /x/y.ino" } };
	static const char *const ids[] = { "a", "b", "c" };
	static const uint32_t dg[] = { 0, 0, 1 };
	struct record_run_expectation ex[] = {
		{ .name = "all online", .file = "/s/t.yaml", .line = 7, .passed = true, .message = "",
		  .time_s = 1.5, .at_ms = f->t0 + 3000 },
		{ .name = "nothing <lost>", .file = "/s/t.yaml", .line = 9, .passed = false,
		  .message = "a: lost 1", .at_ms = f->t0 + 7500 },
	};
	struct record_run_env env[] = {
		{ .ms = f->t0, .group = 0, .v = { 22, 40, 100 } },
		{ .ms = f->t0 + 2000, .group = 0, .v = { 30, 55, 100 } },
		{ .ms = f->t0, .group = 1, .v = { 10, 80, NAN } },
	};
	struct record_run_info in = {
		.scenario = "t", .started_ms = f->t0, .ended_ms = f->t0 + 8000, .passed = false,
		.groups = groups, .n_groups = 2, .device_ids = ids, .device_group = dg, .n_devices = 3,
		.expectations = ex, .n_expectations = 2, .env = env, .n_env = 3,
	};
	struct record_account acc[] = {
		{ .device_id = "a", .taken = 3, .recorded = 2, .lost = 1 },
		{ .device_id = "b", .taken = 1, .recorded = 1 },
		{ .device_id = "c", .taken = 1, .recorded = 1 },
	};
	char err[256];

	assert_int_equal(record_write_run_info(f->path, &in, err, sizeof(err)), 0);
	assert_int_equal(record_write_accounts(f->path, acc, 3, err, sizeof(err)), 0);
}

static void count_exp(void *arg, const struct record_run_expectation *e)
{
	int *n = arg;

	if (*n == 1) {
		assert_string_equal(e->name, "nothing <lost>");
		assert_false(e->passed);
		assert_int_equal(e->line, 9);
		assert_string_equal(e->message, "a: lost 1");
	}
	(*n)++;
}

static void count_env(void *arg, const struct record_run_env *e)
{
	int *n = arg;

	if (e->group == 1)
		assert_true(isnan(e->v[2]));
	(*n)++;
}

static void count_reading(void *arg, const struct record_reading *r)
{
	int *n = arg;

	assert_true(r->has_ts);
	assert_int_equal(r->recv_ms - r->ts_ms, 20);
	(*n)++;
}

static void count_command(void *arg, int64_t ms, const char *id)
{
	int *n = arg;

	(void)ms;
	assert_string_equal(id, "a");
	(*n)++;
}

static void check_account(void *arg, const struct record_device_account *a)
{
	int *n = arg;

	if (!strcmp(a->device_id, "a")) {
		assert_int_equal(a->taken, 3);
		assert_int_equal(a->lost, 1);
		assert_int_equal(a->redelivered, 1);
	}
	(*n)++;
}

static void test_record_run_tables_round_trip(void **state)
{
	struct fixture *f = *state;
	struct record_run_summary rs;
	uint64_t last;
	int n;

	assert_int_equal(record_run_summary(f->rec, &rs), -ENODATA);
	write_info(f);
	assert_int_equal(record_run_summary(f->rec, &rs), 0);
	assert_string_equal(rs.scenario, "t");
	assert_int_equal(rs.ended_ms - rs.started_ms, 8000);
	assert_int_equal(rs.passed, 0);
	n = 0;
	assert_int_equal(record_run_expectations(f->rec, count_exp, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(record_run_env(f->rec, count_env, &n), 0);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(record_walk_readings(f->rec, count_reading, &n), 0);
	assert_int_equal(n, 4); /* the same reading again is stored once */
	n = 0;
	assert_int_equal(record_walk_commands(f->rec, count_command, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(record_device_accounts(f->rec, check_account, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(record_last_reading_id(f->rec, &last), 0);
	assert_int_equal(last, 4);
}

/* The fold's JSON, as text, for the checks below. */
static char *fold(struct fixture *f)
{
	struct report_data *d = NULL;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(report_data_build(f->rec, &d, err, sizeof(err)), 0);
	assert_int_equal(report_data_write_json(d, m), 0);
	report_data_free(d);
	fclose(m);
	return buf;
}

static void test_report_data_folds_the_run(void **state)
{
	struct fixture *f = *state;
	char *j;

	write_info(f);
	j = fold(f);
	assert_non_null(strstr(j, "\"passed\":0,"));
	/* Nine one-second bins from t0: online a,b from bin 0, c at 3, a off at 5. */
	assert_non_null(strstr(j, "\"bin_ms\":1000,\"bins\":9,\"devices\":3"));
	assert_non_null(strstr(j, "\"online\":[2,2,2,3,3,2,2,2,2]"));
	assert_non_null(strstr(j, "\"faulted\":[0,0,1,1,0,0,0,0,0]"));
	assert_non_null(strstr(j, "\"readings\":[0,2,1,1,0,0,0,0,0]"));
	assert_non_null(strstr(j, "\"broker\":[1,1,1,1,1,1,0,0,1]"));
	/* lab's temperature: bin 1 has a (20) and b (22). */
	assert_non_null(strstr(j, "\"temperature\":{\"min\":[null,20,21,null"));
	assert_non_null(strstr(j, "\"mean\":[null,21,21,null"));
	/* Spans: the wifi drop on one device, the command, the broker down. */
	assert_non_null(strstr(j, "{\"kind\":\"fault\",\"label\":\"wifi_drop\",\"t0\":2000,\"t1\":4000,\"devices\":1}"));
	assert_non_null(strstr(j, "{\"kind\":\"broker\",\"label\":\"broker down\",\"t0\":6000,\"t1\":7000"));
	assert_non_null(strstr(j, "\"kind\":\"command\",\"label\":\"command x1\""));
	/* Names that are markup stay data: escaped for <script>. */
	assert_non_null(strstr(j, "\"yard\\u003c1\\u003e\""));
	assert_null(strstr(j, "<lost>"));
	/* Accounts: id, group, taken, recorded, lost, redelivered, dropped, buffered. */
	assert_non_null(strstr(j, "[\"a\",0,3,2,1,1,0,0]"));
	/* Latency: every reading took 20 ms, bucket [20, 50). */
	assert_non_null(strstr(j, "\"counts\":[0,0,0,0,0,4,"));
	/* Strips: a online 0.1 s to 5 s of 9 one-second columns (0.9 of the first). */
	assert_non_null(strstr(j, "\"cells\":\"899990000"));
	free(j);
}

static void test_report_data_without_run_tables(void **state)
{
	struct fixture *f = *state;
	char *j = fold(f);

	/* One group of every device seen; no expectations. */
	assert_non_null(strstr(j, "\"groups\":[{\"name\":\"fleet\""));
	assert_non_null(strstr(j, "\"expectations\":[]"));
	assert_non_null(strstr(j, "\"passed\":-1,"));
	free(j);
}

static void test_report_html_written_and_refused(void **state)
{
	struct fixture *f = *state;
	char err[512], path[128], *buf = NULL;
	size_t cap = 0;
	FILE *in;
	bool body = false, title = false;

	write_info(f);
	setenv("ROBOFLEET_JS_DIR", "/nonexistent", 1);
	assert_int_equal(report_html_write(f->dir, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read /nonexistent/dygraphs/"));
	assert_non_null(strstr(err, "libjs-dygraphs"));
	snprintf(path, sizeof(path), "%s/report.html", f->dir);
	assert_int_not_equal(access(path, F_OK), 0); /* no half page */
	unsetenv("ROBOFLEET_JS_DIR");
	if (access(REPORT_JS_DIR_DEFAULT "/dygraphs/dygraph.min.js", R_OK) == 0 &&
	    access(REPORT_JS_DIR_DEFAULT "/d3/d3.min.js", R_OK) == 0) {
		assert_int_equal(report_html_write(f->dir, NULL, err, sizeof(err)), 0);
		assert_non_null(in = fopen(path, "r"));
		while (getline(&buf, &cap, in) > 0) {
			body |= strstr(buf, "nothing &lt;lost&gt;") != NULL;
			title |= strstr(buf, "<title>robofleet run: t</title>") != NULL;
		}
		free(buf);
		fclose(in);
		assert_true(body);
		assert_true(title);
	}
	assert_int_equal(report_html_write("/nonexistent", NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent: not a directory"));
	assert_int_equal(report_html_write("/tmp", NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "not a run directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_run_tables_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_data_folds_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_data_without_run_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_html_written_and_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
