/* Shards' records merged into one (sim/record_merge.c) and `robofleet merge` over shard run directories (sim/merge.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "merge.h"
#include "record.h"
#include "recorder_db.h"

/*
 * Four robots r1..r4 in one group; two shards of them by index in the
 * sorted list: shard 0 plays r1 and r3, shard 1 r2 and r4. Each device
 * records readings 1, L+2 and L+3 of boot 1, so the record misses L of
 * them, and its account says lost L: r1 1, r3 2 (shard 0: 3), r2 4, r4 0
 * (shard 1: 4). The scenario's three expectations are on lines 10, 11, 12.
 */
#define LINE_ONLINE 10
#define LINE_FEW_LOST 11
#define LINE_NONE_LOST 12

static const char scenario_fmt[] =
	"name: merge-test\n"
	"seed: 7\n"
	"fleet:\n"
	"  broker: 127.0.0.1:1883\n"
	"  groups:\n"
	"    - name: lab\n"
	"      count: 4\n"
	"      id: \"r{}\"\n"
	"steps:\n"
	"  - expect: {name: all online, status: online}\n"
	"  - expect: {name: few lost, fleet_lost: {max: %u}}\n"
	"  - expect: {name: none lost, lost: 0, fleet_lost: 0}\n";

struct shard_spec {
	unsigned index;
	const char *ids[2];
	unsigned lost[2];
	bool online_ok, none_lost_ok;
	bool run_tables;                /* the run reached its end: accounts and run_* tables */
	const char *firmware;           /* of group lab; NULL: robot */
};

static const struct shard_spec shard0 = {
	.index = 0, .ids = { "r1", "r3" }, .lost = { 1, 2 }, .online_ok = true, .run_tables = true,
};
static const struct shard_spec shard1 = {
	.index = 1, .ids = { "r2", "r4" }, .lost = { 4, 0 }, .online_ok = false, .run_tables = true,
};

struct fixture {
	char dir[64];
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

static void store(struct recorder_db *db, enum recorder_msg_kind kind, int64_t at,
		  const char *topic, const char *payload)
{
	size_t tlen = strlen(topic), plen = strlen(payload);
	struct recorder_msg *m = calloc(1, sizeof(*m) + plen + 1 + tlen + 1);
	struct recorder__counts counts;

	assert_non_null(m);
	memset(&counts, 0, sizeof(counts));
	m->kind = kind;
	m->recv_ms = at;
	m->size = m->len = plen;
	memcpy(m->payload, payload, plen + 1);
	m->topic = (char *)m->payload + plen + 1;
	memcpy(m->topic, topic, tlen + 1);
	assert_int_equal(recorder__db_store(db, m, &counts), 0);
	free(m);
}

/* A reading received at @at, taken at @ts. */
static void reading(struct recorder_db *db, int64_t at, int64_t ts, const char *id, unsigned seq)
{
	char topic[64], payload[300], when[40];

	iso_time(ts, when, sizeof(when));
	snprintf(topic, sizeof(topic), "sensors/%s/data", id);
	snprintf(payload, sizeof(payload), "{\"device_id\":\"%s\",\"boot\":1,\"seq\":%u,"
		 "\"timestamp\":\"%s\",\"sensors\":{\"temperature\":22.0,\"humidity\":45}}", id, seq,
		 when);
	store(db, RECORDER_MSG_MQTT, at, topic, payload);
}

/* A shard's record.db at @path, as its run leaves it. */
static void make_record(const struct fixture *f, const char *path, const struct shard_spec *s,
			unsigned few_lost_max)
{
	struct recorder_db *db = NULL;
	int64_t t = f->t0 + s->index * 7;
	char err[300], topic[64], why[2][200];

	assert_int_equal(recorder__db_open(path, NULL, NULL, NULL, &db, err, sizeof(err)), 0);
	assert_int_equal(recorder__db_begin(db), 0);
	for (int d = 0; d < 2; d++) {
		unsigned l = s->lost[d];

		snprintf(topic, sizeof(topic), "sensors/%s/status", s->ids[d]);
		store(db, RECORDER_MSG_MQTT, t + 100 + d, topic, "online");
		reading(db, t + 1000 + d, t + 980 + d, s->ids[d], 1);
		reading(db, t + 2000 + d, t + 1980 + d, s->ids[d], l + 2);
		reading(db, t + 3000 + d, t + 2980 + d, s->ids[d], l + 3);
	}
	/* The first device's first reading once more: received twice, stored once. */
	reading(db, t + 3500, t + 980, s->ids[0], 1);
	store(db, RECORDER_MSG_FAULT, t + 1500, s->ids[1], "wifi_drop\ninject\nscenario\nseed=1");
	store(db, RECORDER_MSG_ALERT, t + 1600, s->ids[0],
	      "too_hot\nraised\ntemperature\n31\n30\n0\n1600\n1600");
	snprintf(topic, sizeof(topic), "sensors/%s/command", s->ids[0]);
	store(db, RECORDER_MSG_MQTT, t + 2500, topic, "stop");
	assert_int_equal(recorder__db_commit(db), 0);
	assert_int_equal(recorder__db_close(db, err, sizeof(err)), 0);
	if (!s->run_tables)
		return;

	struct record_account acc[2];
	for (int d = 0; d < 2; d++)
		acc[d] = (struct record_account){ .device_id = s->ids[d], .taken = 3 + s->lost[d],
						  .recorded = 3, .lost = s->lost[d], .firmware = "robot",
						  .attempted = 3 + s->lost[d], .sent = 3 + s->lost[d] };
	assert_int_equal(record_write_accounts(path, acc, 2, err, sizeof(err)), 0);

	const struct record_run_group groups[] = { { "lab", s->firmware ? s->firmware : "robot" } };
	static const uint32_t dg[] = { 0, 0 };
	unsigned shard_lost = s->lost[0] + s->lost[1];

	snprintf(why[0], sizeof(why[0]), "1 of 2 devices fail; first: %s: status offline, want online",
		 s->ids[1]);
	snprintf(why[1], sizeof(why[1]), "2 of 2 devices fail; first: %s: %u readings lost, want == 0",
		 s->ids[0], s->lost[0]);
	struct record_run_expectation ex[] = {
		{ .name = "all online", .file = "/orig/merge-test.yaml", .line = LINE_ONLINE,
		  .passed = s->online_ok, .message = s->online_ok ? "" : why[0], .time_s = 0.5 + s->index,
		  .at_ms = t + 4000 },
		{ .name = "few lost", .file = "/orig/merge-test.yaml", .line = LINE_FEW_LOST,
		  .passed = shard_lost <= few_lost_max, .message = "", .time_s = 0, .at_ms = t + 4100 },
		{ .name = "none lost", .file = "/orig/merge-test.yaml", .line = LINE_NONE_LOST,
		  .passed = s->none_lost_ok, .message = s->none_lost_ok ? "" : why[1], .time_s = 0,
		  .at_ms = t + 4200 },
	};
	/* Each shard notes its own groups' environment, on its own clock. */
	struct record_run_env env[] = {
		{ .ms = t, .group = 0, .v = { 22, 45, 100 } },
		{ .ms = t + 2000, .group = 0, .v = { 25.0 + s->index, 45, 100 } },
	};
	struct record_run_info in = {
		.scenario = "merge-test", .started_ms = t, .ended_ms = t + 5000 + s->index * 100,
		.passed = s->online_ok && s->none_lost_ok, .groups = groups, .n_groups = 1,
		.device_ids = s->ids, .device_group = dg, .n_devices = 2, .expectations = ex,
		.n_expectations = 3, .env = env, .n_env = 2,
	};
	assert_int_equal(record_write_run_info(path, &in, err, sizeof(err)), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static void write_scenario(const char *path, unsigned few_lost_max)
{
	char text[sizeof(scenario_fmt) + 16];

	snprintf(text, sizeof(text), scenario_fmt, few_lost_max);
	write_text(path, text);
}

/* A shard's whole run directory: shard.json, scenario.yaml, record.db, summary.json. */
static void make_shard_dir(const struct fixture *f, const char *dir, const struct shard_spec *s,
			   unsigned count, const char *run_id, bool finished, unsigned few_lost_max)
{
	char path[256], text[2048];
	unsigned lost = s->lost[0] + s->lost[1];

	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/record.db", dir);
	make_record(f, path, s, few_lost_max);
	snprintf(path, sizeof(path), "%s/scenario.yaml", dir);
	write_scenario(path, few_lost_max);
	snprintf(path, sizeof(path), "%s/shard.json", dir);
	snprintf(text, sizeof(text), "{\"run_id\": \"%s\", \"scenario\": \"merge-test\", \"index\": %u, "
		 "\"count\": %u, \"devices\": 2, \"started_ms\": %lld, \"finished\": %s, "
		 "\"exit_status\": %d}\n", run_id, s->index, count, (long long)f->t0,
		 finished ? "true" : "false", finished ? 1 : -1);
	write_text(path, text);
	if (!finished)
		return;
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	snprintf(text, sizeof(text),
		 "{\n  \"scenario\": \"merge-test\",\n  \"run_dir\": \"%s\",\n  \"completed\": true,\n"
		 "  \"devices\": 2,\n  \"online_at_end\": 2,\n  \"crashes\": 0,\n"
		 "  \"readings\": {\"taken\": %u, \"published\": %u, \"recorded\": 6, "
		 "\"buffered_at_end\": 0, \"lost\": %u, \"duplicated\": 1, \"rejected\": 0, "
		 "\"dropped_by_outbox\": 0},\n"
		 "  \"record\": {\"complete\": true, \"unstored_messages\": 0, \"unstored_readings\": 0, "
		 "\"error\": null, \"lock_waits\": 0, \"lock_wait_max_ms\": 0},\n"
		 "  \"groups\": [\n    {\"name\": \"lab\", \"firmware\": \"robot\", \"devices\": 2, "
		 "\"attempted\": %u, \"sent\": %u, \"recorded\": 6, \"lost_in_network\": %u, "
		 "\"not_sent\": 0, \"complete\": true}\n  ],\n"
		 "  \"redelivered_stored_once\": 1,\n  \"faults\": 1,\n"
		 "  \"security\": {\"mode\": \"none\", \"impersonation_sent\": 0, "
		 "\"impersonation_acked\": 0, \"impersonation_recorded\": 0},\n"
		 "  \"latency_ms\": {\"p50\": 20, \"p99\": %u, \"max\": 40},\n"
		 "  \"expectations\": {\"passed\": 2, \"failed\": 1}\n}\n",
		 dir, 6 + lost, 6 + lost, lost, 6 + lost, 6 + lost, lost, 25 + s->index);
	write_text(path, text);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_record_merge-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->t0 = ((int64_t)time(NULL) - 3600) * 1000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- SQL on a record, for the checks ------------------------------------------ */

static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *sql_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int64_t rows(const char *path, const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", table);
	return sql_int(path, sql);
}

/* The merged expectations, copied out of the callback. */
struct exp_list {
	struct {
		char name[64], message[400];
		bool passed;
		unsigned line;
		double time_s;
		int64_t at_ms;
	} e[8];
	size_t n;
};

static void take_exp(void *arg, const struct record_run_expectation *e)
{
	struct exp_list *l = arg;

	assert_true(l->n < 8);
	snprintf(l->e[l->n].name, sizeof(l->e[l->n].name), "%s", e->name);
	snprintf(l->e[l->n].message, sizeof(l->e[l->n].message), "%s", e->message);
	l->e[l->n].passed = e->passed;
	l->e[l->n].line = e->line;
	l->e[l->n].time_s = e->time_s;
	l->e[l->n].at_ms = e->at_ms;
	l->n++;
}

struct two_shards {
	char s0[128], s1[128], out[128];
};

static void two_records(const struct fixture *f, struct two_shards *p, unsigned few_lost_max)
{
	snprintf(p->s0, sizeof(p->s0), "%s/s0.db", f->dir);
	snprintf(p->s1, sizeof(p->s1), "%s/s1.db", f->dir);
	snprintf(p->out, sizeof(p->out), "%s/merged.db", f->dir);
	make_record(f, p->s0, &shard0, few_lost_max);
	make_record(f, p->s1, &shard1, few_lost_max);
}

/* ---- shard.json ---------------------------------------------------------------- */

static void test_shard_json(void **state)
{
	const struct fixture *f = *state;
	static const struct { const char *text, *why; } bad[] = {
		{ "", "not JSON" },
		{ "[]", "not a JSON object" },
		{ "{\"run_id\": \"x\"", "not JSON" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true}", "no \"exit_status\"" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0, \"extra\": 1}",
		  "unknown key \"extra\"" },
		{ "{\"run_id\": \"x\", \"run_id\": \"y\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, "
		  "\"devices\": 1, \"started_ms\": 5, \"finished\": true, \"exit_status\": 0}",
		  "\"run_id\" given twice" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 2, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0}", "index 2 is not below count 2" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": -1, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0}", "\"index\": want" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 1.5, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0}", "\"devices\": want" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": \"yes\", \"exit_status\": 0}", "\"finished\": want" },
		{ "{\"run_id\": \"\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0}", "\"run_id\": want" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 0, \"count\": 0, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0}", "\"count\": want" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0} {}", "more after the value" },
		{ "{\"run_id\": \"x\\q\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 1, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0}", "bad escape" },
		{ "{\"run_id\": \"x\", \"scenario\": \"s\", \"index\": 0, \"count\": 2, \"devices\": 01, "
		  "\"started_ms\": 5, \"finished\": true, \"exit_status\": 0}", "not JSON" },
	};
	struct shard_info in;
	char path[128], err[400];

	snprintf(path, sizeof(path), "%s/shard.json", f->dir);
	write_text(path, "{\"run_id\": \"nightly-7\", \"scenario\": \"shard-400\", \"index\": 3, "
		   "\"count\": 4, \"devices\": 100, \"started_ms\": 1764000000000, \"finished\": false, "
		   "\"exit_status\": -1}\n");
	assert_int_equal(merge_read_shard_json(path, &in, err, sizeof(err)), 0);
	assert_string_equal(in.run_id, "nightly-7");
	assert_string_equal(in.scenario, "shard-400");
	assert_int_equal(in.index, 3);
	assert_int_equal(in.count, 4);
	assert_int_equal(in.devices, 100);
	assert_int_equal(in.started_ms, 1764000000000LL);
	assert_false(in.finished);
	assert_int_equal(in.exit_status, -1);
	/* Escapes, as JSON has them, and any order of keys. */
	write_text(path, " {\"finished\": true, \"exit_status\": 130, \"run_id\": \"a\\u00e9\\\"b\", "
		   "\"scenario\": \"s\", \"index\": 0, \"count\": 1, \"devices\": 0, \"started_ms\": 0} ");
	assert_int_equal(merge_read_shard_json(path, &in, err, sizeof(err)), 0);
	assert_string_equal(in.run_id, "a\xc3\xa9\"b");
	assert_int_equal(in.exit_status, 130);
	assert_true(in.finished);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i].text);
		err[0] = '\0';
		assert_int_equal(merge_read_shard_json(path, &in, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].why) || !strstr(err, path))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
	}
	snprintf(path, sizeof(path), "%s/none.json", f->dir);
	assert_int_equal(merge_read_shard_json(path, &in, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
}

/* ---- the record ------------------------------------------------------------------ */

static void test_merge_records(void **state)
{
	const struct fixture *f = *state;
	static const char *const tables[] = {
		"readings", "hourly", "boots", "devices", "status", "metric_messages", "commands",
		"raw_messages", "recorder_events", "faults", "alerts", "device_accounts",
	};
	struct two_shards p;
	struct record_merge *m = NULL;
	struct record_run_summary sum;
	struct exp_list l = { .n = 0 };
	struct record *rec = NULL;
	int64_t want[sizeof(tables) / sizeof(tables[0])];
	char err[600], *text;

	two_records(f, &p, 5);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		want[i] = rows(p.s0, tables[i]) + rows(p.s1, tables[i]);
	assert_int_equal(record_merge_open(p.out, p.s0, 0, &m, err, sizeof(err)), 0);
	assert_int_equal(record_merge_add(m, p.s1, 1, err, sizeof(err)), 0);
	assert_string_equal(record_merge_warnings(m), "");
	/* A merged record is never written over. */
	{
		struct record_merge *again = NULL;

		assert_int_equal(record_merge_open(p.out, p.s0, 0, &again, err, sizeof(err)), -EEXIST);
		assert_null(again);
	}
	assert_int_equal(record_merge_expectations(m, take_exp, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.e[0].name, "all online");
	assert_false(l.e[0].passed);
	assert_string_equal(l.e[0].message,
			    "shard 1: 1 of 2 devices fail; first: r4: status offline, want online");
	assert_true(l.e[0].time_s > 1.4 && l.e[0].time_s < 1.6); /* the longest */
	assert_int_equal(l.e[0].at_ms, f->t0 + 7 + 4000);         /* the latest */
	assert_string_equal(l.e[1].name, "few lost");
	assert_true(l.e[1].passed);                               /* 3 and 4: each at most 5 */
	assert_string_equal(l.e[2].name, "none lost");
	assert_false(l.e[2].passed);
	assert_string_equal(l.e[2].message,
			    "shard 0: 2 of 2 devices fail; first: r1: 1 readings lost, want == 0");
	assert_int_equal(record_merge_finish(m, NULL, false, err, sizeof(err)), 0);
	record_merge_close(m);

	/* Every row of both, ids renumbered after the first shard's. */
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (rows(p.out, tables[i]) != want[i])
			fail_msg("%s: %lld rows, want %lld", tables[i], (long long)rows(p.out, tables[i]),
				 (long long)want[i]);
	assert_int_equal(want[0], 12);
	assert_int_equal(sql_int(p.out, "SELECT min(id) FROM readings"), 1);
	assert_int_equal(sql_int(p.out, "SELECT max(id) FROM readings"), want[0]);
	assert_int_equal(sql_int(p.out, "SELECT min(id) FROM readings WHERE device_id IN ('r2', 'r4')"),
			 sql_int(p.out, "SELECT max(id) FROM readings WHERE device_id IN ('r1', 'r3')") + 1);
	assert_int_equal(sql_int(p.out, "SELECT max(id) FROM status"), rows(p.out, "status"));
	assert_int_equal(sql_int(p.out, "SELECT sum(lost) FROM accounting"), 7);
	assert_int_equal(sql_int(p.out, "SELECT sum(duplicates) FROM accounting"), 2);
	text = sql_text(p.out, "PRAGMA integrity_check");
	assert_string_equal(text, "ok");
	free(text);
	/* The schema came along whole: the rollup's index, the generated columns, the view. */
	assert_int_equal(sql_int(p.out, "SELECT count(*) FROM sqlite_master WHERE name IN "
			 "('readings_device_time', 'status_device_time', 'accounting')"), 3);
	assert_int_equal(sql_int(p.out, "SELECT count(*) FROM readings WHERE recv_time IS NULL"), 0);
	assert_int_equal(sql_int(p.out, "PRAGMA user_version"), RECORDER_SCHEMA_VERSION);

	/* The run's own tables: once, for the whole fleet. */
	assert_int_equal(rows(p.out, "run_devices"), 4);
	text = sql_text(p.out, "SELECT group_concat(device_id || ':' || idx, ' ') FROM "
			"(SELECT * FROM run_devices ORDER BY idx)");
	assert_string_equal(text, "r1:0 r2:1 r3:2 r4:3");
	free(text);
	assert_int_equal(rows(p.out, "run_groups"), 1);
	assert_int_equal(rows(p.out, "run_expectations"), 3);
	/* One group, so the lowest shard's environment alone. */
	assert_int_equal(rows(p.out, "run_env"), 2);
	assert_int_equal(sql_int(p.out, "SELECT max(temperature) FROM run_env"), 25);
	assert_int_equal(record_open(p.out, 1000, &rec, err, sizeof(err)), 0);
	assert_int_equal(record_run_summary(rec, &sum), 0);
	assert_string_equal(sum.scenario, "merge-test");
	assert_int_equal(sum.started_ms, f->t0);
	assert_int_equal(sum.ended_ms, f->t0 + 7 + 5100);
	assert_int_equal(sum.passed, 0);
	record_close(rec);
}

/* A shard killed before its end left the recorder's tables only; another made the rest. */
static void test_merge_without_run_tables(void **state)
{
	const struct fixture *f = *state;
	struct shard_spec killed = shard0;
	struct record_merge *m = NULL;
	struct exp_list l = { .n = 0 };
	char s0[128], s1[128], out[128], err[600], *text;

	killed.run_tables = false;
	snprintf(s0, sizeof(s0), "%s/k0.db", f->dir);
	snprintf(s1, sizeof(s1), "%s/k1.db", f->dir);
	snprintf(out, sizeof(out), "%s/k.db", f->dir);
	make_record(f, s0, &killed, 5);
	make_record(f, s1, &shard1, 5);
	assert_int_equal(rows(s0, "readings"), 6);
	assert_int_equal(sql_int(s0, "SELECT count(*) FROM sqlite_master WHERE name = 'device_accounts'"), 0);
	assert_int_equal(record_merge_open(out, s0, 0, &m, err, sizeof(err)), 0);
	assert_int_equal(record_merge_add(m, s1, 1, err, sizeof(err)), 0);
	assert_int_equal(record_merge_expectations(m, take_exp, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.e[0].message,
			    "shard 1: 1 of 2 devices fail; first: r4: status offline, want online");
	assert_int_equal(record_merge_finish(m, "merge-test", false, err, sizeof(err)), 0);
	record_merge_close(m);
	assert_int_equal(rows(out, "readings"), 12);
	assert_int_equal(rows(out, "device_accounts"), 2);
	text = sql_text(out, "SELECT group_concat(device_id, ' ') FROM run_devices");
	assert_string_equal(text, "r2 r4");
	free(text);
	text = sql_text(out, "PRAGMA integrity_check");
	assert_string_equal(text, "ok");
	free(text);
}

static void test_merge_refuses(void **state)
{
	const struct fixture *f = *state;
	struct two_shards p;
	struct record_merge *m = NULL;
	struct stat st;
	char junk[128], err[600];

	two_records(f, &p, 5);
	snprintf(junk, sizeof(junk), "%s/junk.db", f->dir);
	write_text(junk, "this is no database at all, and long enough to look like one's header...\n");
	assert_int_equal(record_merge_open(p.out, junk, 0, &m, err, sizeof(err)), -EBADMSG);
	assert_null(m);
	assert_non_null(strstr(err, junk));
	/* Nothing left behind where the merged record was to be. */
	assert_int_equal(stat(p.out, &st), -1);
	assert_int_equal(record_merge_open(p.out, p.s0, 0, &m, err, sizeof(err)), 0);
	/* A shard that is not a record, or the same shard twice: refused, nothing of it kept. */
	assert_true(record_merge_add(m, junk, 1, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, junk));
	assert_int_equal(record_merge_add(m, p.s0, 1, err, sizeof(err)), 0);
	assert_non_null(strstr(record_merge_warnings(m), "shard 1: 6 rows of readings were already "
							 "in the merged record"));
	assert_non_null(strstr(record_merge_warnings(m), "shard 1: 2 of its devices (run_devices) "
							 "are another shard's too"));
	assert_int_equal(record_merge_finish(m, NULL, false, err, sizeof(err)), 0);
	record_merge_close(m);
	assert_int_equal(rows(p.out, "readings"), 6);
	assert_int_equal(rows(p.out, "status"), 4);  /* no key: both copies, as the shards said */
}

/* Shards that say the scenario's groups differently: the lowest shard's kept, and said so. */
static void test_groups_differ(void **state)
{
	const struct fixture *f = *state;
	struct shard_spec other = shard1;
	struct record_merge *m = NULL;
	char s0[128], s1[128], out[128], err[600], *text;

	other.firmware = "sketch: /x/y.ino";
	snprintf(s0, sizeof(s0), "%s/g0.db", f->dir);
	snprintf(s1, sizeof(s1), "%s/g1.db", f->dir);
	snprintf(out, sizeof(out), "%s/g.db", f->dir);
	make_record(f, s0, &shard0, 5);
	make_record(f, s1, &other, 5);
	assert_int_equal(record_merge_open(out, s0, 0, &m, err, sizeof(err)), 0);
	assert_int_equal(record_merge_add(m, s1, 1, err, sizeof(err)), 0);
	assert_string_equal(record_merge_warnings(m), "shard 1: its groups (run_groups) differ from "
			    "shard 0's; shard 0's are kept\n");
	assert_int_equal(record_merge_finish(m, NULL, false, err, sizeof(err)), 0);
	record_merge_close(m);
	text = sql_text(out, "SELECT firmware FROM run_groups");
	assert_string_equal(text, "robot");
	free(text);
}

/* ---- fleet-wide sums: each shard holds alone, the fleet does not ------------------ */

static void test_fleet_lost(void **state)
{
	const struct fixture *f = *state;
	struct two_shards p;
	struct record_merge *m = NULL;
	struct exp_list l = { .n = 0 };
	struct record *rec = NULL;
	char scenario[128], err[600];
	uint64_t lost, dup;

	two_records(f, &p, 5);
	snprintf(scenario, sizeof(scenario), "%s/merge-test.yaml", f->dir);
	write_scenario(scenario, 5);
	assert_int_equal(record_merge_open(p.out, p.s0, 0, &m, err, sizeof(err)), 0);
	assert_int_equal(record_merge_add(m, p.s1, 1, err, sizeof(err)), 0);
	assert_int_equal(record_merge_device_loss(m, "r2", &lost, &dup), 0);
	assert_int_equal(lost, 4);
	assert_int_equal(dup, 1);
	assert_int_equal(record_merge_device_loss(m, "r4", &lost, &dup), 0);
	assert_int_equal(lost, 0);
	assert_int_equal(dup, 0);
	assert_int_equal(record_merge_device_loss(m, "r1", &lost, &dup), 0);
	assert_int_equal(lost, 1);
	assert_int_equal(dup, 1);
	assert_int_equal(record_merge_device_loss(m, "nobody", &lost, &dup), -ENODATA);
	/* Only "few lost" needs the fleet: "fleet_lost: 0" holds for the sum when it holds for each. */
	assert_int_equal(merge_fleet_expectations(m, scenario, NULL, err, sizeof(err)), 1);
	assert_int_equal(record_merge_expectations(m, take_exp, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.e[1].name, "few lost");
	assert_false(l.e[1].passed);
	assert_string_equal(l.e[1].message,
			    "the target lost 7 readings in all (every shard's devices), want <= 5");
	assert_string_equal(l.e[2].message,
			    "shard 0: 2 of 2 devices fail; first: r1: 1 readings lost, want == 0");
	assert_int_equal(record_merge_finish(m, NULL, false, err, sizeof(err)), 0);
	record_merge_close(m);
	assert_int_equal(record_open(p.out, 1000, &rec, err, sizeof(err)), 0);
	l.n = 0;
	assert_int_equal(record_run_expectations(rec, take_exp, &l), 0);
	record_close(rec);
	assert_int_equal(l.n, 3);
	assert_false(l.e[1].passed);
	assert_int_equal(l.e[1].line, LINE_FEW_LOST);

	/* A bound the sum meets: decided passed. */
	unlink(p.out);
	write_scenario(scenario, 7);
	assert_int_equal(record_merge_open(p.out, p.s0, 0, &m, err, sizeof(err)), 0);
	assert_int_equal(record_merge_add(m, p.s1, 1, err, sizeof(err)), 0);
	assert_int_equal(merge_fleet_expectations(m, scenario, NULL, err, sizeof(err)), 1);
	l.n = 0;
	assert_int_equal(record_merge_expectations(m, take_exp, &l), 0);
	assert_true(l.e[1].passed);
	assert_string_equal(l.e[1].message, "");
	/* A scenario that does not parse says where. */
	write_text(scenario, "name: x\nfleet: 3\n");
	assert_int_equal(merge_fleet_expectations(m, scenario, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, scenario));
	record_merge_close(m);
}

/* ---- robofleet merge over run directories ---------------------------------------- */

static int run_merge(const char *a, const char *b, const char *c, const char *out, const char *junit)
{
	char *argv[12];
	int argc = 0;

	argv[argc++] = (char *)"merge";
	if (a)
		argv[argc++] = (char *)a;
	argv[argc++] = (char *)"-o";
	argv[argc++] = (char *)out;
	if (b)
		argv[argc++] = (char *)b;
	if (c)
		argv[argc++] = (char *)c;
	if (junit) {
		argv[argc++] = (char *)"--junit";
		argv[argc++] = (char *)junit;
	}
	argv[argc++] = (char *)"--quiet";
	argv[argc] = NULL;
	return merge_main(argc, argv);
}

static bool file_has(const char *path, const char *what)
{
	char *text = read_text(path);
	bool yes = text && strstr(text, what);

	if (!yes)
		print_error("%s does not have '%s'\n", path, what);
	free(text);
	return yes;
}

static void test_merge_command(void **state)
{
	const struct fixture *f = *state;
	struct shard_spec good0 = shard0, good1 = shard1;
	char d0[128], d1[128], out[128], path[192], junit[128];
	static const char *const files[] = {
		"record.db", "summary.json", "report.txt", "junit.xml", "merge.json", "scenario.yaml",
		"report.html",
	};
	struct stat st;

	/* Every shard passes alone, and the fleet passes. */
	good1.online_ok = true;
	good0.none_lost_ok = good1.none_lost_ok = true;
	snprintf(d0, sizeof(d0), "%s/run-0", f->dir);
	snprintf(d1, sizeof(d1), "%s/run-1", f->dir);
	snprintf(out, sizeof(out), "%s/merged", f->dir);
	snprintf(junit, sizeof(junit), "%s/ci.xml", f->dir);
	make_shard_dir(f, d0, &good0, 2, "nightly", true, 7);
	make_shard_dir(f, d1, &good1, 2, "nightly", true, 7);
	/* Shard order on the command line does not matter. */
	assert_int_equal(run_merge(d1, d0, NULL, out, junit), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", out, files[i]);
		if (stat(path, &st) < 0)
			fail_msg("no %s", path);
	}
	snprintf(path, sizeof(path), "%s/summary.json", out);
	assert_true(file_has(path, "\"devices\": 4,"));
	assert_true(file_has(path, "\"taken\": 19, \"published\": 19, \"recorded\": 12, "
			     "\"buffered_at_end\": 0, \"lost\": 7, \"duplicated\": 2"));
	assert_true(file_has(path, "\"record\": {\"complete\": true"));
	assert_true(file_has(path, "\"latency_ms_shard_max\": {\"p50\": 20, \"p99\": 26, \"max\": 40}"));
	assert_true(file_has(path, "\"latency_ms\": {\"p50\": 20, \"p99\": 20, \"max\": 20}"));
	assert_true(file_has(path, "{\"name\": \"lab\", \"firmware\": \"robot\", \"devices\": 4, "
			     "\"attempted\": 19"));
	assert_true(file_has(path, "\"passed\": true"));
	assert_true(file_has(path, "\"expectations\": {\"passed\": 6, \"failed\": 0}"));
	assert_true(file_has(junit, "shard 1 of 2 finished"));
	snprintf(path, sizeof(path), "%s/report.txt", out);
	assert_true(file_has(path, "PASS few lost\n"));
	assert_true(file_has(path, "devices 4, online at end 4, crashes 0\n"));
	snprintf(path, sizeof(path), "%s/merge.json", out);
	assert_true(file_has(path, "\"missing\": []"));
	snprintf(path, sizeof(path), "%s/record.db", out);
	assert_int_equal(sql_int(path, "SELECT value FROM run_info WHERE key = 'passed'"), 1);

	/* OUT must be new or empty. */
	assert_int_equal(run_merge(d0, d1, NULL, out, NULL), 2);
}

static void test_merge_command_fails(void **state)
{
	const struct fixture *f = *state;
	char d0[128], d1[128], d2[128], other[128], out[128], path[192];

	snprintf(d0, sizeof(d0), "%s/run-0", f->dir);
	snprintf(d1, sizeof(d1), "%s/run-1", f->dir);
	snprintf(other, sizeof(other), "%s/other-0", f->dir);
	snprintf(out, sizeof(out), "%s/merged", f->dir);
	/* Of three shards: 0 finished, 1 was killed, 2 is not given. */
	make_shard_dir(f, d0, &shard0, 3, "nightly", true, 5);
	make_shard_dir(f, d1, &shard1, 3, "nightly", false, 5);
	assert_int_equal(run_merge(d0, d1, NULL, out, NULL), 1);
	snprintf(path, sizeof(path), "%s/junit.xml", out);
	assert_true(file_has(path, "shard 2 of 3 finished"));
	assert_true(file_has(path, "no run directory given"));
	assert_true(file_has(path, "did not finish (killed or crashed: shard.json says finished: false)"));
	snprintf(path, sizeof(path), "%s/summary.json", out);
	assert_true(file_has(path, "\"passed\": false"));
	assert_true(file_has(path, "\"record\": {\"complete\": false"));
	assert_true(file_has(path, "\"devices\": 2,"));
	/* What there was is merged all the same: both records. */
	snprintf(path, sizeof(path), "%s/record.db", out);
	assert_int_equal(rows(path, "readings"), 12);
	snprintf(path, sizeof(path), "%s/merge.json", out);
	assert_true(file_has(path, "\"missing\": [2]"));

	/* Bad input: exit status 2, nothing merged. */
	snprintf(out, sizeof(out), "%s/merged-2", f->dir);
	assert_int_equal(run_merge(d0, d0, NULL, out, NULL), 2);       /* shard 0 twice */
	assert_int_equal(run_merge(d0, f->dir, NULL, out, NULL), 2);   /* not a shard's directory */
	make_shard_dir(f, other, &shard1, 3, "another-run", true, 5);
	assert_int_equal(run_merge(d0, other, NULL, out, NULL), 2);    /* another run */
	snprintf(d2, sizeof(d2), "%s/s2", f->dir);
	assert_int_equal(run_merge(d0, d2, NULL, out, NULL), 2);       /* no such directory */
	assert_int_equal(run_merge(NULL, NULL, NULL, out, NULL), 2);   /* no directory at all */
	snprintf(path, sizeof(path), "%s/record.db", out);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shard_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_without_run_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fleet_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_command_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
