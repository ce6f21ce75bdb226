/*
 * The recorder's per-batch rollups (sim/recorder_rollup.c): the devices,
 * boots and hourly rows a batch leaves must be exactly those the upserts
 * one message at a time left before, for duplicates and conflicts inside
 * a batch, a batch written again after a rollback, a recorder reopened on
 * an existing record, and sums whose order of addition shows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "recorder_db.h"
#include "recorder_rollup.h"

/* What the recorder ran for every message before rollups: the reference. */
static const char ref_hourly_sql[] =
	"INSERT INTO hourly (device_id, hour_ms, n, t_n, t_sum, t_min, t_max,"
	" h_n, h_sum, h_min, h_max, d_n, d_sum, d_min, d_max) VALUES (?1, ?2, 1,"
	" ?3 IS NOT NULL, coalesce(?3, 0), ?3, ?3,"
	" ?4 IS NOT NULL, coalesce(?4, 0), ?4, ?4,"
	" ?5 IS NOT NULL, coalesce(?5, 0), ?5, ?5)"
	" ON CONFLICT (device_id, hour_ms) DO UPDATE SET n = n + 1,"
	" t_n = t_n + excluded.t_n, t_sum = t_sum + excluded.t_sum,"
	" t_min = coalesce(min(t_min, excluded.t_min), t_min, excluded.t_min),"
	" t_max = coalesce(max(t_max, excluded.t_max), t_max, excluded.t_max),"
	" h_n = h_n + excluded.h_n, h_sum = h_sum + excluded.h_sum,"
	" h_min = coalesce(min(h_min, excluded.h_min), h_min, excluded.h_min),"
	" h_max = coalesce(max(h_max, excluded.h_max), h_max, excluded.h_max),"
	" d_n = d_n + excluded.d_n, d_sum = d_sum + excluded.d_sum,"
	" d_min = coalesce(min(d_min, excluded.d_min), d_min, excluded.d_min),"
	" d_max = coalesce(max(d_max, excluded.d_max), d_max, excluded.d_max)";
static const char ref_boot_sql[] =
	"INSERT INTO boots (device_id, boot, readings, duplicates, conflicts, min_seq, max_seq,"
	" first_ms, last_ms, dropped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?7, ?8)"
	" ON CONFLICT (device_id, boot) DO UPDATE SET dropped = max(dropped, excluded.dropped),"
	" readings = readings + excluded.readings,"
	" duplicates = duplicates + excluded.duplicates,"
	" conflicts = conflicts + excluded.conflicts,"
	" min_seq = min(min_seq, excluded.min_seq), max_seq = max(max_seq, excluded.max_seq),"
	" first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms)";
static const char ref_device_sql[] =
	"INSERT INTO devices (device_id, first_ms, last_ms, readings, duplicates, conflicts,"
	" rejected) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6)"
	" ON CONFLICT (device_id) DO UPDATE SET"
	" first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms),"
	" readings = readings + excluded.readings, duplicates = duplicates + excluded.duplicates,"
	" conflicts = conflicts + excluded.conflicts, rejected = rejected + excluded.rejected";

#define HOUR 3600000LL

struct fixture {
	char dir[64], path[96], ref_path[96];
	struct recorder_db *db;
	sqlite3 *ref;
	sqlite3_stmt *hourly, *boot, *device;
	int64_t t0;
};

/* One reading: NULL values are left out of "sensors". */
struct reading {
	const char *id;
	int boot, seq;
	int64_t at;             /* recv_ms - t0 */
	const char *t, *h, *d;  /* JSON numbers, or NULL */
	int dropped;
};

static void ref_run(sqlite3_stmt *s)
{
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static void ref_device(struct fixture *f, const char *id, int64_t ms, int readings, int dup,
		       int conflict, int rejected)
{
	sqlite3_bind_text(f->device, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(f->device, 2, ms);
	sqlite3_bind_int(f->device, 3, readings);
	sqlite3_bind_int(f->device, 4, dup);
	sqlite3_bind_int(f->device, 5, conflict);
	sqlite3_bind_int(f->device, 6, rejected);
	ref_run(f->device);
}

static void bind_json_number(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_double(s, i, strtod(v, NULL));
}

static struct recorder_msg *make_msg(int64_t recv_ms, const char *topic, const char *payload)
{
	size_t tlen = strlen(topic), plen = strlen(payload);
	struct recorder_msg *m = calloc(1, sizeof(*m) + plen + 1 + tlen + 1);

	assert_non_null(m);
	m->kind = RECORDER_MSG_MQTT;
	m->recv_ms = recv_ms;
	m->size = m->len = plen;
	memcpy(m->payload, payload, plen + 1);
	m->topic = (char *)m->payload + plen + 1;
	memcpy(m->topic, topic, tlen + 1);
	return m;
}

/*
 * Store @r through the recorder (inside the open batch) and, when
 * @reference, apply what the recorder did per message before to the
 * reference database: the recorder's own counts say which it was.
 */
static void put(struct fixture *f, const struct reading *r, bool reference)
{
	char topic[64], payload[512], sensors[256] = "";
	struct recorder__counts c;
	struct recorder_msg *m;
	int64_t ms = f->t0 + r->at;
	size_t n = 0;

	if (r->t)
		n += (size_t)snprintf(sensors + n, sizeof(sensors) - n, "\"temperature\":%s", r->t);
	if (r->h)
		n += (size_t)snprintf(sensors + n, sizeof(sensors) - n, "%s\"humidity\":%s",
				      n ? "," : "", r->h);
	if (r->d)
		n += (size_t)snprintf(sensors + n, sizeof(sensors) - n, "%s\"distance\":%s",
				      n ? "," : "", r->d);
	snprintf(topic, sizeof(topic), "sensors/%s/data", r->id);
	snprintf(payload, sizeof(payload),
		 "{\"device_id\":\"%s\",\"boot\":%d,\"seq\":%d,\"dropped\":%d,\"sensors\":{%s}}",
		 r->id, r->boot, r->seq, r->dropped, sensors);
	m = make_msg(ms, topic, payload);
	memset(&c, 0, sizeof(c));
	assert_int_equal(recorder__db_store(f->db, m, &c), 0);
	free(m);
	assert_int_equal(c.readings + c.duplicates + c.conflicts, 1);
	if (!reference)
		return;
	if (c.readings) {
		sqlite3_bind_text(f->hourly, 1, r->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(f->hourly, 2, ms - ms % HOUR);
		bind_json_number(f->hourly, 3, r->t);
		bind_json_number(f->hourly, 4, r->h);
		bind_json_number(f->hourly, 5, r->d);
		ref_run(f->hourly);
	}
	if (c.conflicts)
		ref_device(f, r->id, ms, 0, 0, 0, 1);   /* the raw_messages row first */
	sqlite3_bind_text(f->boot, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(f->boot, 2, r->boot);
	sqlite3_bind_int(f->boot, 3, (int)c.readings);
	sqlite3_bind_int(f->boot, 4, (int)c.duplicates);
	sqlite3_bind_int(f->boot, 5, (int)c.conflicts);
	sqlite3_bind_int64(f->boot, 6, r->seq);
	sqlite3_bind_int64(f->boot, 7, ms);
	sqlite3_bind_int64(f->boot, 8, r->dropped);
	ref_run(f->boot);
	ref_device(f, r->id, ms, (int)c.readings, (int)c.duplicates, (int)c.conflicts, 0);
}

/* A message that is not a reading: a bad payload (rejected) or a per-metric value. */
static void put_other(struct fixture *f, int64_t at, const char *id, const char *leaf,
		      const char *payload, bool reference)
{
	char topic[64];
	struct recorder__counts c;
	struct recorder_msg *m;

	snprintf(topic, sizeof(topic), "sensors/%s/%s", id, leaf);
	m = make_msg(f->t0 + at, topic, payload);
	memset(&c, 0, sizeof(c));
	assert_int_equal(recorder__db_store(f->db, m, &c), 0);
	free(m);
	assert_int_equal(c.rejected + c.metrics, 1);
	if (reference)
		ref_device(f, id, f->t0 + at, 0, 0, 0, (int)c.rejected);
}

static int64_t q_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static double q_double(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	double v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Rows of @table in one database and not in the other, both ways: 0 when equal. */
static int64_t differing_rows(struct fixture *f, const char *table, const char *cols)
{
	char sql[1024];
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n = -1;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS ref", f->ref_path);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "SELECT (SELECT count(*) FROM (SELECT %s FROM main.%s EXCEPT SELECT %s FROM ref.%s))"
		 " + (SELECT count(*) FROM (SELECT %s FROM ref.%s EXCEPT SELECT %s FROM main.%s))",
		 cols, table, cols, table, cols, table, cols, table);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void assert_same_as_per_message(struct fixture *f)
{
	assert_int_equal(differing_rows(f, "hourly", "*"), 0);
	assert_int_equal(differing_rows(f, "boots", "*"), 0);
	assert_int_equal(differing_rows(f, "devices",
					"device_id, first_ms, last_ms, readings, duplicates, "
					"conflicts, rejected"), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct recorder_db *tmp;
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_recorder_rollup-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/record.db", f->dir);
	snprintf(f->ref_path, sizeof(f->ref_path), "%s/reference.db", f->dir);
	/* An hour boundary inside the test: readings at t0 + 3599 s and after. */
	f->t0 = 1796000000000LL - 1796000000000LL % HOUR + HOUR - 3000;
	assert_int_equal(recorder__db_open(f->path, NULL, NULL, NULL, &f->db, err, sizeof(err)), 0);
	/* The reference has the same schema, written to by the old statements. */
	assert_int_equal(recorder__db_open(f->ref_path, NULL, NULL, NULL, &tmp, err, sizeof(err)), 0);
	assert_int_equal(recorder__db_close(tmp, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_open(f->ref_path, &f->ref), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(f->ref, ref_hourly_sql, -1, &f->hourly, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(f->ref, ref_boot_sql, -1, &f->boot, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(f->ref, ref_device_sql, -1, &f->device, NULL), SQLITE_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	sqlite3_finalize(f->hourly);
	sqlite3_finalize(f->boot);
	sqlite3_finalize(f->device);
	sqlite3_close(f->ref);
	recorder__db_close(f->db, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/*
 * Sums in an order that shows: (0.1 + 0.2) + 0.3 is 0.6000000000000001,
 * 0.1 + (0.2 + 0.3) is 0.6. Missing values, an hour boundary, two boots,
 * the outbox's dropped count going up and down.
 */
static const struct reading batch1[] = {
	{ "a", 1, 1, 0, "0.1", "40.1", "100.3", 0 },
	{ "a", 1, 2, 10, "0.2", NULL, "99.7", 1 },
	{ "b", 1, 1, 20, NULL, NULL, NULL, 0 },
	{ "a", 1, 3, 30, "0.3", "40.7", NULL, 3 },
	{ "b", 1, 2, 40, "-0.0", "1e-3", "7", 0 },
	{ "a", 1, 2, 50, "0.2", NULL, "99.7", 2 },      /* a duplicate inside the batch */
	{ "a", 1, 5, 60, "0.7", "40.3", "100.1", 2 },
	{ "a", 1, 3, 70, "0.31", "40.7", NULL, 3 },     /* a conflict inside the batch */
	{ "a", 2, 1, 2990, "1.1", "39.9", "98.6", 0 },
	{ "a", 2, 2, 3000, "1.3", "39.5", "98.2", 0 },  /* the next hour */
	{ "b", 1, 3, 3010, "5", "5", "5", 0 },
};

static const struct reading batch2[] = {
	{ "a", 1, 4, 3020, "0.9", "41.1", "101.1", 2 }, /* late, into boot 1 */
	{ "a", 1, 1, 3030, "0.1", "40.1", "100.3", 0 }, /* a duplicate of batch 1 */
	{ "a", 2, 3, 3040, "1.7", NULL, "97.7", 0 },
	{ "a", 2, 4, 3050, "1.9", "38.1", "96.3", 4 },
	{ "b", 1, 2, 3060, "-0.5", "1e-3", "7", 0 },    /* a conflict with batch 1 */
	{ "c", 7, 1, 3070, "12.25", "33.3", "44.4", 0 },
};

static void test_batches_equal_per_message(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(recorder__db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(batch1) / sizeof(batch1[0]); i++)
		put(f, &batch1[i], true);
	put_other(f, 80, "a", "data", "{not json", true);
	put_other(f, 90, "b", "temperature", "21.7", true);
	assert_int_equal(recorder__db_commit(f->db), 0);
	assert_same_as_per_message(f);

	assert_int_equal(recorder__db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(batch2) / sizeof(batch2[0]); i++)
		put(f, &batch2[i], true);
	assert_int_equal(recorder__db_commit(f->db), 0);
	assert_same_as_per_message(f);
	/* The sum that shows the order: a's next hour held 1.3 after batch 1,
	 * and batch 2 adds 0.9, 1.7, 1.9. One by one that is 5.800000000000001;
	 * the batch's own sum added to the row would be 5.8. */
	{
		volatile double held = 1.3, a = 0.9, b = 1.7, c = 1.9;
		double one_by_one = ((held + a) + b) + c, batch_sum = held + ((a + b) + c);

		assert_true(one_by_one != batch_sum);
		assert_true(q_double(f->path, "SELECT t_sum FROM hourly WHERE device_id = 'a'"
					      " AND t_n = 4") == one_by_one);
	}
	assert_int_equal(q_int(f->path, "SELECT sum(n) FROM hourly"), 13);
	assert_int_equal(q_int(f->path, "SELECT count(*) FROM readings"), 13);
}

/* A batch rolled back and written again counts once, as one written once. */
static void test_rollback_then_retry(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(recorder__db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(batch1) / sizeof(batch1[0]); i++)
		put(f, &batch1[i], true);
	assert_int_equal(recorder__db_commit(f->db), 0);

	assert_int_equal(recorder__db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(batch2) / sizeof(batch2[0]); i++)
		put(f, &batch2[i], false);
	recorder__db_rollback(f->db);
	assert_int_equal(recorder__db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(batch2) / sizeof(batch2[0]); i++)
		put(f, &batch2[i], true);
	assert_int_equal(recorder__db_commit(f->db), 0);
	assert_same_as_per_message(f);
}

/* A recorder opened on a record another one wrote goes on from its rows. */
static void test_reopened_record(void **state)
{
	struct fixture *f = *state;
	char err[256];

	assert_int_equal(recorder__db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(batch1) / sizeof(batch1[0]); i++)
		put(f, &batch1[i], true);
	assert_int_equal(recorder__db_commit(f->db), 0);
	assert_int_equal(recorder__db_close(f->db, err, sizeof(err)), 0);
	assert_int_equal(recorder__db_open(f->path, NULL, NULL, NULL, &f->db, err, sizeof(err)), 0);
	assert_int_equal(recorder__db_begin(f->db), 0);
	for (size_t i = 0; i < sizeof(batch2) / sizeof(batch2[0]); i++)
		put(f, &batch2[i], true);
	assert_int_equal(recorder__db_commit(f->db), 0);
	assert_same_as_per_message(f);
}

/* ---- the rollup alone ----------------------------------------------------- */

static int loads;

static int load_empty(void *arg, struct recorder_hour_row *row)
{
	(void)arg;
	(void)row;
	loads++;
	return 0;
}

static int load_fails(void *arg, struct recorder_hour_row *row)
{
	(void)arg;
	(void)row;
	return -EIO;
}

static int n_devices, n_boots, n_hours;
static struct recorder_hour_row last_hour;
static struct recorder_boot_delta last_boot;

static int count_device(void *arg, const struct recorder_device_delta *d)
{
	(void)arg;
	(void)d;
	n_devices++;
	return 0;
}

static int count_boot(void *arg, const struct recorder_boot_delta *b)
{
	(void)arg;
	last_boot = *b;
	n_boots++;
	return 0;
}

static int count_hour(void *arg, const struct recorder_hour_row *h)
{
	(void)arg;
	last_hour = *h;
	n_hours++;
	return 0;
}

static const struct recorder_rollup_writer counter = { count_device, count_boot, count_hour };

/* One row per key and batch; a key's row is read once, then kept. */
static void test_rollup_once_per_key(void **state)
{
	struct recorder_rollup *ru = recorder__rollup_new();
	const bool has[3] = { true, false, true };
	const double v[3] = { 1.5, 0, -2 };

	(void)state;
	assert_non_null(ru);
	loads = 0;
	recorder__rollup_begin(ru);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(recorder__rollup_device(ru, "a", 100 + i, 1, 0, 0, 0), 0);
		assert_int_equal(recorder__rollup_boot(ru, "a", 1, 1, 0, 0, 10 - i, 100 + i, i % 3), 0);
		assert_int_equal(recorder__rollup_hour(ru, "a", 0, has, v, load_empty, NULL), 0);
	}
	assert_int_equal(recorder__rollup_hour(ru, "a", HOUR, has, v, load_fails, NULL), -EIO);
	n_devices = n_boots = n_hours = 0;
	assert_int_equal(recorder__rollup_write(ru, &counter, NULL), 0);
	assert_int_equal(n_devices, 1);
	assert_int_equal(n_boots, 1);
	assert_int_equal(n_hours, 1);
	assert_int_equal(loads, 1);
	assert_int_equal(last_boot.readings, 5);
	assert_int_equal(last_boot.min_seq, 6);
	assert_int_equal(last_boot.max_seq, 10);
	assert_int_equal(last_boot.first_ms, 100);
	assert_int_equal(last_boot.last_ms, 104);
	assert_int_equal(last_boot.dropped, 2);
	assert_int_equal(last_hour.n, 5);
	assert_int_equal(last_hour.m[0].n, 5);
	assert_int_equal(last_hour.m[1].n, 0);
	assert_false(last_hour.m[1].has_range);
	assert_true(last_hour.m[2].min == -2 && last_hour.m[2].max == -2);
	recorder__rollup_committed(ru);

	/* The next batch: no devices or boots left over, the hour kept. */
	recorder__rollup_begin(ru);
	assert_int_equal(recorder__rollup_hour(ru, "a", 0, has, v, load_empty, NULL), 0);
	n_devices = n_boots = n_hours = 0;
	assert_int_equal(recorder__rollup_write(ru, &counter, NULL), 0);
	assert_int_equal(n_devices + n_boots, 0);
	assert_int_equal(last_hour.n, 6);
	assert_int_equal(loads, 1);
	/* Rolled back: the kept row is still the committed one. */
	recorder__rollup_begin(ru);
	assert_int_equal(recorder__rollup_hour(ru, "a", 0, has, v, load_empty, NULL), 0);
	assert_int_equal(recorder__rollup_write(ru, &counter, NULL), 0);
	assert_int_equal(last_hour.n, 6);
	recorder__rollup_free(ru);
}

/* Hours before the previous one are forgotten once a newer hour commits. */
static void test_rollup_forgets_old_hours(void **state)
{
	struct recorder_rollup *ru = recorder__rollup_new();
	const bool has[3] = { true, true, true };
	const double v[3] = { 1, 2, 3 };
	char id[16];

	(void)state;
	assert_non_null(ru);
	loads = 0;
	recorder__rollup_begin(ru);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		assert_int_equal(recorder__rollup_hour(ru, id, 0, has, v, load_empty, NULL), 0);
	}
	recorder__rollup_committed(ru);
	assert_int_equal(recorder__rollup_hours_kept(ru), 300);
	recorder__rollup_begin(ru);
	assert_int_equal(recorder__rollup_hour(ru, "d0", HOUR, has, v, load_empty, NULL), 0);
	recorder__rollup_committed(ru);
	assert_int_equal(recorder__rollup_hours_kept(ru), 301);
	recorder__rollup_begin(ru);
	assert_int_equal(recorder__rollup_hour(ru, "d1", 2 * HOUR, has, v, load_empty, NULL), 0);
	recorder__rollup_committed(ru);
	assert_int_equal(recorder__rollup_hours_kept(ru), 2);
	/* Met again: read again, and the rest of the map still answers. */
	recorder__rollup_begin(ru);
	assert_int_equal(recorder__rollup_hour(ru, "d7", 0, has, v, load_empty, NULL), 0);
	assert_int_equal(recorder__rollup_hour(ru, "d1", 2 * HOUR, has, v, load_empty, NULL), 0);
	assert_int_equal(loads, 303);
	assert_int_equal(recorder__rollup_write(ru, &counter, NULL), 0);
	assert_int_equal(last_hour.n, 2);
	recorder__rollup_free(ru);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batches_equal_per_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_then_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopened_record, setup, teardown),
		cmocka_unit_test(test_rollup_once_per_key),
		cmocka_unit_test(test_rollup_forgets_old_hours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
