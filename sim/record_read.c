/* The record's read side: every question its readers ask, as SQL over the recorder's schema. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_internal.h"

enum rq_id {
	RQ_STATUS,
	RQ_READINGS_SINCE,
	RQ_LATEST,                              /* + metric */
	RQ_SINCE = RQ_LATEST + RECORD_METRIC_COUNT,     /* + metric */
	RQ_ERROR = RQ_SINCE + RECORD_METRIC_COUNT,      /* + metric */
	RQ_DUPLICATES = RQ_ERROR + RECORD_METRIC_COUNT,
	RQ_BOOTS,
	RQ_BOOT_READINGS,
	RQ_TOTALS,
	RQ_READINGS,
	RQ_TIMED_READINGS,
	RQ_REJECTED,
	RQ_ONLINE,
	RQ_MESSAGES,
	RQ_LATENCY,
	RQ_LAST_SEEN,
	RQ_FAULTS_AFTER,
	RQ_ALERTS_AFTER,
	RQ_STATUS_AFTER,
	RQ_RECENT,
	RQ_DEVICE_READINGS,
	RQ_HOURLY,
	RQ_EXPORT,
	RQ_EXPORT_AFTER,
	RQ_COUNT
};

/*
 * Kept in step with the schema in sim/recorder_db.c and docs/recording.md.
 * Split literals are parenthesised: clang takes them for missing commas.
 */
static const char *const rq_sql[RQ_COUNT] = {
	/* "When": the device's own latest message saying so, not a retained
	 * copy the broker replays when the recorder subscribes again. */
	[RQ_STATUS] =
		("SELECT d.status, (SELECT max(s.recv_ms) FROM status s WHERE s.device_id ="
		" d.device_id AND s.retained = 0 AND s.status = d.status) FROM devices d"
		" WHERE d.device_id = ?1"),
	[RQ_READINGS_SINCE] = "SELECT count(*) FROM readings WHERE device_id = ?1 AND recv_ms >= ?2",
	[RQ_LATEST + RECORD_METRIC_TEMPERATURE] =
		("SELECT temperature FROM readings WHERE device_id = ?1"
		" ORDER BY recv_ms DESC, id DESC LIMIT 1"),
	[RQ_LATEST + RECORD_METRIC_HUMIDITY] =
		("SELECT humidity FROM readings WHERE device_id = ?1"
		" ORDER BY recv_ms DESC, id DESC LIMIT 1"),
	[RQ_LATEST + RECORD_METRIC_DISTANCE] =
		("SELECT distance FROM readings WHERE device_id = ?1"
		" ORDER BY recv_ms DESC, id DESC LIMIT 1"),
	[RQ_SINCE + RECORD_METRIC_TEMPERATURE] =
		"SELECT temperature FROM readings WHERE device_id = ?1 AND recv_ms >= ?2",
	[RQ_SINCE + RECORD_METRIC_HUMIDITY] =
		"SELECT humidity FROM readings WHERE device_id = ?1 AND recv_ms >= ?2",
	[RQ_SINCE + RECORD_METRIC_DISTANCE] =
		"SELECT distance FROM readings WHERE device_id = ?1 AND recv_ms >= ?2",
	[RQ_ERROR + RECORD_METRIC_TEMPERATURE] =
		("SELECT temperature IS NULL, json_extract(errors, '$.temperature') FROM readings"
		" WHERE device_id = ?1 ORDER BY recv_ms DESC, id DESC LIMIT 1"),
	[RQ_ERROR + RECORD_METRIC_HUMIDITY] =
		("SELECT humidity IS NULL, json_extract(errors, '$.humidity') FROM readings"
		" WHERE device_id = ?1 ORDER BY recv_ms DESC, id DESC LIMIT 1"),
	[RQ_ERROR + RECORD_METRIC_DISTANCE] =
		("SELECT distance IS NULL, json_extract(errors, '$.distance') FROM readings"
		" WHERE device_id = ?1 ORDER BY recv_ms DESC, id DESC LIMIT 1"),
	[RQ_DUPLICATES] = "SELECT duplicates FROM accounting WHERE device_id = ?1",
	[RQ_BOOTS] = "SELECT boot, max_seq FROM boots WHERE device_id = ?1",
	[RQ_BOOT_READINGS] =
		("SELECT count(*) FROM readings WHERE device_id = ?1"
		" AND boot = ?2 AND seq BETWEEN ?3 AND ?4"),
	[RQ_TOTALS] = "SELECT coalesce(sum(lost), 0), coalesce(sum(duplicates), 0) FROM accounting",
	[RQ_READINGS] = "SELECT count(*) FROM readings",
	[RQ_TIMED_READINGS] = "SELECT count(*) FROM readings WHERE ts_ms IS NOT NULL",
	[RQ_REJECTED] = "SELECT count(*) FROM raw_messages",
	[RQ_ONLINE] = "SELECT count(*) FROM devices WHERE status = 'online'",
	/* max(id) is a b-tree lookup where count(*) would scan: rows are never deleted. */
	[RQ_MESSAGES] =
		("SELECT (SELECT coalesce(max(id), 0) FROM readings) +"
		" (SELECT coalesce(max(id), 0) FROM status) +"
		" (SELECT coalesce(max(id), 0) FROM metric_messages) +"
		" (SELECT coalesce(max(id), 0) FROM commands) +"
		" (SELECT coalesce(max(id), 0) FROM raw_messages)"),
	[RQ_LATENCY] =
		("SELECT recv_ms - ts_ms AS l FROM readings WHERE ts_ms IS NOT NULL"
		" ORDER BY l LIMIT 1 OFFSET ?1"),
	[RQ_LAST_SEEN] = "SELECT device_id, last_ms FROM devices",
	[RQ_FAULTS_AFTER] =
		("SELECT id, ms, device_id, kind, action, source, detail FROM faults"
		" WHERE id > ?1 ORDER BY id LIMIT ?2"),
	[RQ_ALERTS_AFTER] =
		("SELECT id, ms, device_id, rule, state, metric, value, threshold, crossed_ms,"
		" latency_ms FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2"),
	[RQ_STATUS_AFTER] =
		("SELECT id, recv_ms, device_id, status FROM status"
		" WHERE id > ?1 AND retained = 0 ORDER BY id LIMIT ?2"),
	[RQ_RECENT] =
		("SELECT temperature, humidity, distance FROM readings"
		" WHERE device_id = ?1 ORDER BY recv_ms DESC LIMIT ?2"),
	/* docs/recording.md's tutorial queries, relative to now. */
	[RQ_DEVICE_READINGS] =
		("SELECT recv_time, boot, seq, ts_time, temperature, humidity, distance, errors"
		" FROM readings WHERE device_id = ?1"
		" AND recv_ms >= (CAST(strftime('%s', 'now') AS INTEGER) * 1000 - ?2) ORDER BY recv_ms"),
	[RQ_HOURLY] =
		("SELECT device_id, strftime('%Y-%m-%dT%H:00Z', hour_ms / 1000, 'unixepoch') AS hour,"
		" n AS readings, round(t_sum / t_n, 2) AS temperature, round(h_sum / h_n, 2) AS humidity,"
		" round(d_sum / d_n, 2) AS distance FROM hourly"
		" WHERE ?1 IS NULL OR device_id = ?1 ORDER BY device_id, hour_ms"),
	[RQ_EXPORT] =
		("SELECT recv_ms, device_id, boot, seq, ts_ms, temperature, humidity, distance, errors,"
		" recv_time, ts_time FROM readings ORDER BY recv_ms, id"),
	/* The live InfluxDB feed follows the table by id: ids grow in commit
	 * order, so a row it has passed is never committed later. */
	[RQ_EXPORT_AFTER] =
		("SELECT recv_ms, device_id, boot, seq, ts_ms, temperature, humidity, distance, errors,"
		" recv_time, ts_time, id FROM readings WHERE id > ?1 ORDER BY id LIMIT ?2"),
};

struct record {
	sqlite3 *db;
	sqlite3_stmt *st[RQ_COUNT];
	char error[256];
};

static void record__note_error(struct record *rec)
{
	snprintf(rec->error, sizeof(rec->error), "%s", sqlite3_errmsg(rec->db));
}

/* The statement for @id, compiled at its first use; NULL (and the reason noted) if it cannot be. */
static sqlite3_stmt *record__stmt(struct record *rec, enum rq_id id)
{
	if (!rec->st[id] && sqlite3_prepare_v3(rec->db, rq_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					       &rec->st[id], NULL) != SQLITE_OK) {
		record__note_error(rec);
		rec->st[id] = NULL;
	}
	return rec->st[id];
}

/*
 * Ready for the next use. A statement left mid-result would hold its read
 * transaction open, pinning an old snapshot and the WAL with it.
 */
static void record__done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Whether a step ended a result well; notes the failure if not. */
static bool record__ended(struct record *rec, int rc)
{
	if (rc == SQLITE_DONE)
		return true;
	record__note_error(rec);
	return false;
}

/* The end of a walk over @st's rows, @rc its last step: 0 or -EIO, and @st ready again. */
static int record__finish(struct record *rec, sqlite3_stmt *st, int rc)
{
	int ret = record__ended(rec, rc) ? 0 : -EIO;

	record__done(st);
	return ret;
}

/* @id's statement bound to the rows after @after_id, at most @limit; NULL if it cannot be compiled. */
static sqlite3_stmt *record__after(struct record *rec, enum rq_id id, int64_t after_id,
				   unsigned limit)
{
	sqlite3_stmt *st = record__stmt(rec, id);

	if (st) {
		sqlite3_bind_int64(st, 1, after_id);
		sqlite3_bind_int64(st, 2, limit);
	}
	return st;
}

/* The first column of the first row of the bound @st: -ENODATA for no row or NULL. */
static int record__scalar(struct record *rec, sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st), ret = -ENODATA;

	*out = 0;
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*out = sqlite3_column_int64(st, 0);
			ret = 0;
		}
	} else if (!record__ended(rec, rc)) {
		ret = -EIO;
	}
	record__done(st);
	return ret;
}

/* A count over the whole record, 0 when it cannot be read. */
static int record__count(struct record *rec, enum rq_id id, uint64_t *count)
{
	sqlite3_stmt *st = record__stmt(rec, id);
	int64_t n = 0;
	int rc = st ? record__scalar(rec, st, &n) : -EIO;

	*count = rc == 0 ? (uint64_t)n : 0;
	return rc;
}

static double record__real(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

int record_open(const char *path, int busy_ms, struct record **out, char *err, size_t errlen)
{
	struct record *rec = calloc(1, sizeof(*rec));
	int rc, ret;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!rec)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &rec->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", rec->db ? sqlite3_errmsg(rec->db) : "cannot open");
		ret = !rec->db ? -ENOMEM : (rc & 0xff) == SQLITE_CANTOPEN ? -ENOENT : -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(rec->db, busy_ms);
	*out = rec;
	return 0;
fail:
	record_close(rec);
	return ret;
}

void record_close(struct record *rec)
{
	if (!rec)
		return;
	for (int i = 0; i < RQ_COUNT; i++)
		sqlite3_finalize(rec->st[i]);
	sqlite3_close(rec->db);
	free(rec);
}

const char *record_error(const struct record *rec)
{
	return rec->error;
}

sqlite3 *record__sqlite(struct record *rec)
{
	return rec->db;
}

void record__fail(struct record *rec)
{
	record__note_error(rec);
}

int record_check_schema(struct record *rec)
{
	/* The dashboard's first question compiles only once readings exists. */
	return record__stmt(rec, RQ_RECENT) ? 0 : -ENODATA;
}

int record_device_status(struct record *rec, const char *id, struct record_status *out)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_STATUS);
	const unsigned char *status;
	int rc, ret = -ENODATA;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (status = sqlite3_column_text(st, 0))) {
		out->online = strcmp((const char *)status, "online") == 0;
		out->said = sqlite3_column_type(st, 1) != SQLITE_NULL;
		out->said_ms = out->said ? sqlite3_column_int64(st, 1) : 0;
		ret = 0;
	} else if (rc != SQLITE_ROW && !record__ended(rec, rc)) {
		ret = -EIO;
	}
	record__done(st);
	return ret;
}

int record_count_device_readings(struct record *rec, const char *id, int64_t since_ms,
				 uint64_t *count)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_READINGS_SINCE);
	int64_t n = 0;
	int rc = -EIO;

	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, since_ms);
		rc = record__scalar(rec, st, &n);
	}
	*count = rc == 0 ? (uint64_t)n : 0;
	return rc;
}

long record_metric_values(struct record *rec, const char *id, enum record_metric m, bool latest,
			  int64_t since_ms, bool (*each)(void *arg, double v), void *arg)
{
	sqlite3_stmt *st;
	long seen = 0;
	int rc;

	if ((int)m < 0 || m >= RECORD_METRIC_COUNT ||
	    !(st = record__stmt(rec, (latest ? RQ_LATEST : RQ_SINCE) + m)))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (!latest)
		sqlite3_bind_int64(st, 2, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		seen++;
		if (!each(arg, record__real(st, 0)))
			break;
	}
	if (rc != SQLITE_ROW)
		record__ended(rec, rc);
	record__done(st);
	return seen;
}

int record_metric_error(struct record *rec, const char *id, enum record_metric m, char *name,
			size_t len)
{
	sqlite3_stmt *st;
	int rc, ret = -ENODATA;

	if ((int)m < 0 || m >= RECORD_METRIC_COUNT || !(st = record__stmt(rec, RQ_ERROR + m)))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 1);

		/* A reading with neither a number nor a named error is a
		 * contract violation; call it "error" so it fails `is: none`. */
		if (t)
			snprintf(name, len, "%s", (const char *)t);
		else
			snprintf(name, len, "%s", sqlite3_column_int(st, 0) ? "error" : "");
		ret = 0;
	} else if (!record__ended(rec, rc)) {
		ret = -EIO;
	}
	record__done(st);
	return ret;
}

int record_device_duplicates(struct record *rec, const char *id, uint64_t *out)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_DUPLICATES);
	int64_t n = 0;
	int rc = -EIO;

	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = record__scalar(rec, st, &n);
	}
	*out = rc == 0 ? (uint64_t)n : 0;
	return rc;
}

int record_device_boots(struct record *rec, const char *id,
			void (*each)(void *arg, uint32_t boot, uint32_t max_seq), void *arg)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_BOOTS);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		each(arg, (uint32_t)sqlite3_column_int64(st, 0), (uint32_t)sqlite3_column_int64(st, 1));
	return record__finish(rec, st, rc);
}

int64_t record_count_boot_readings(struct record *rec, const char *id, uint32_t boot,
				   uint32_t from, uint32_t to)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_BOOT_READINGS);
	int64_t n = 0;
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, boot);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	rc = record__scalar(rec, st, &n);
	return rc == 0 ? n : -EIO;
}

int record_accounting_totals(struct record *rec, struct record_totals *out)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_TOTALS);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->lost = (uint64_t)sqlite3_column_int64(st, 0);
		out->duplicates = (uint64_t)sqlite3_column_int64(st, 1);
	}
	rc = rc == SQLITE_ROW ? 0 : record__ended(rec, rc) ? -ENODATA : -EIO;
	record__done(st);
	return rc;
}

int record_count_readings(struct record *rec, uint64_t *count)
{
	return record__count(rec, RQ_READINGS, count);
}

int record_count_timed_readings(struct record *rec, uint64_t *count)
{
	return record__count(rec, RQ_TIMED_READINGS, count);
}

int record_count_rejected(struct record *rec, uint64_t *count)
{
	return record__count(rec, RQ_REJECTED, count);
}

int record_count_online(struct record *rec, uint64_t *count)
{
	return record__count(rec, RQ_ONLINE, count);
}

int record_count_messages(struct record *rec, uint64_t *count)
{
	return record__count(rec, RQ_MESSAGES, count);
}

double record_latency_at(struct record *rec, uint64_t timed, double q)
{
	sqlite3_stmt *st;
	double v = NAN;
	int rc;

	if (timed == 0 || !(st = record__stmt(rec, RQ_LATENCY)))
		return v;
	sqlite3_bind_int64(st, 1, (int64_t)((double)(timed - 1) * q));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	else
		record__ended(rec, rc);
	record__done(st);
	return v;
}

int record_devices_last_seen(struct record *rec,
			     void (*each)(void *arg, const char *id, int64_t last_ms), void *arg)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_LAST_SEEN);
	int rc;

	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (id)
			each(arg, id, sqlite3_column_int64(st, 1));
	}
	return record__finish(rec, st, rc);
}

int record_faults_after(struct record *rec, int64_t after_id, unsigned limit,
			void (*each)(void *arg, const struct record_fault *f), void *arg)
{
	sqlite3_stmt *st = record__after(rec, RQ_FAULTS_AFTER, after_id, limit);
	struct record_fault f;
	int rc;

	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		f.id = sqlite3_column_int64(st, 0);
		f.ms = sqlite3_column_int64(st, 1);
		f.device_id = (const char *)sqlite3_column_text(st, 2);
		f.kind = (const char *)sqlite3_column_text(st, 3);
		f.action = (const char *)sqlite3_column_text(st, 4);
		f.source = (const char *)sqlite3_column_text(st, 5);
		f.detail = (const char *)sqlite3_column_text(st, 6);
		each(arg, &f);
	}
	return record__finish(rec, st, rc);
}

int record_alerts_after(struct record *rec, int64_t after_id, unsigned limit,
			void (*each)(void *arg, const struct record_alert *a), void *arg)
{
	sqlite3_stmt *st = record__after(rec, RQ_ALERTS_AFTER, after_id, limit);
	struct record_alert a;
	int rc;

	if (!st)
		return -EIO; /* also a record from before alerts were recorded */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		a.id = sqlite3_column_int64(st, 0);
		a.ms = sqlite3_column_int64(st, 1);
		a.device_id = (const char *)sqlite3_column_text(st, 2);
		a.rule = (const char *)sqlite3_column_text(st, 3);
		a.state = (const char *)sqlite3_column_text(st, 4);
		a.metric = (const char *)sqlite3_column_text(st, 5);
		a.value = sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6);
		a.threshold = sqlite3_column_double(st, 7);
		a.crossed_ms = sqlite3_column_int64(st, 8);
		a.latency_ms = sqlite3_column_int64(st, 9);
		each(arg, &a);
	}
	return record__finish(rec, st, rc);
}

int record_status_after(struct record *rec, int64_t after_id, unsigned limit,
			void (*each)(void *arg, const struct record_status_change *c), void *arg)
{
	sqlite3_stmt *st = record__after(rec, RQ_STATUS_AFTER, after_id, limit);
	struct record_status_change c;
	int rc;

	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *status = sqlite3_column_text(st, 3);

		c.id = sqlite3_column_int64(st, 0);
		c.ms = sqlite3_column_int64(st, 1);
		c.device_id = (const char *)sqlite3_column_text(st, 2);
		c.online = status && strcmp((const char *)status, "online") == 0;
		each(arg, &c);
	}
	return record__finish(rec, st, rc);
}

long record_recent_values(struct record *rec, const char *id, size_t max,
			  struct record_values *out)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_RECENT);
	long n = 0;
	int rc = SQLITE_DONE;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	/* Newest first from the index. */
	while ((size_t)n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int m = 0; m < RECORD_METRIC_COUNT; m++)
			out[n].v[m] = record__real(st, m);
		n++;
	}
	if ((size_t)n < max && !record__ended(rec, rc))
		n = n ? n : -EIO;
	record__done(st);
	return n;
}

/*
 * Hand @st's column names, then every row, to @fn as text. The cells array
 * is sized by the statement: a user's SQL may have any number of columns.
 */
static int record__rows(struct record *rec, sqlite3_stmt *st, record_row_fn fn, void *arg)
{
	size_t n = (size_t)sqlite3_column_count(st);
	const char **cells = calloc(n ? n : 1, sizeof(*cells));
	int rc, ret;

	if (!cells)
		return -ENOMEM;
	for (size_t c = 0; c < n; c++)
		cells[c] = sqlite3_column_name(st, (int)c);
	if ((ret = fn(arg, n, cells)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t c = 0; c < n; c++)
			cells[c] = (const char *)sqlite3_column_text(st, (int)c);
		if ((ret = fn(arg, n, cells)) != 0)
			goto out;
	}
	ret = record__ended(rec, rc) ? 0 : -EIO;
out:
	free(cells);
	return ret;
}

int record_device_readings(struct record *rec, const char *id, uint32_t last_ms,
			   record_row_fn fn, void *arg)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_DEVICE_READINGS);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last_ms);
	rc = record__rows(rec, st, fn, arg);
	record__done(st);
	return rc;
}

int record_hourly_means(struct record *rec, const char *id, record_row_fn fn, void *arg)
{
	sqlite3_stmt *st = record__stmt(rec, RQ_HOURLY);
	int rc;

	if (!st)
		return -EIO;
	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = record__rows(rec, st, fn, arg);
	record__done(st);
	return rc;
}

int record_sql_rows(struct record *rec, const char *sql, record_row_fn fn, void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* Not kept: the user's statement is asked once. */
	if (sqlite3_prepare_v2(rec->db, sql, -1, &st, NULL) != SQLITE_OK) {
		record__note_error(rec);
		sqlite3_finalize(st);
		return -EINVAL;
	}
	/* Whitespace or a comment alone compiles to no statement at all:
	 * an empty table, and a failure, as a step on nothing is. */
	if (!st) {
		rc = fn(arg, 0, NULL);
		snprintf(rec->error, sizeof(rec->error), "no SQL statement in '%.200s'", sql);
		return rc ? rc : -EIO;
	}
	rc = record__rows(rec, st, fn, arg);
	sqlite3_finalize(st);
	return rc;
}

static int export_rows(struct record *rec, sqlite3_stmt *st,
		       void (*each)(void *arg, const struct record_export_row *row), void *arg)
{
	struct record_export_row r;
	int rc;

	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		/* Numbers before text: a column's text is kept once converted. */
		r.recv_ms = sqlite3_column_int64(st, 0);
		r.boot = sqlite3_column_int64(st, 2);
		r.seq = sqlite3_column_int64(st, 3);
		r.has_ts = sqlite3_column_type(st, 4) != SQLITE_NULL;
		r.ts_ms = r.has_ts ? sqlite3_column_int64(st, 4) : 0;
		for (int m = 0; m < RECORD_METRIC_COUNT; m++) {
			r.has[m] = sqlite3_column_type(st, 5 + m) != SQLITE_NULL;
			r.value[m] = r.has[m] ? sqlite3_column_double(st, 5 + m) : 0;
		}
		for (int m = 0; m < RECORD_METRIC_COUNT; m++)
			r.value_text[m] = (const char *)sqlite3_column_text(st, 5 + m);
		r.device_id = (const char *)sqlite3_column_text(st, 1);
		r.errors = (const char *)sqlite3_column_text(st, 8);
		r.recv_time = (const char *)sqlite3_column_text(st, 9);
		r.ts_time = (const char *)sqlite3_column_text(st, 10);
		r.id = sqlite3_column_count(st) > 11 ? sqlite3_column_int64(st, 11) : 0;
		each(arg, &r);
	}
	return record__finish(rec, st, rc);
}

int record_export_readings(struct record *rec,
			   void (*each)(void *arg, const struct record_export_row *row), void *arg)
{
	return export_rows(rec, record__stmt(rec, RQ_EXPORT), each, arg);
}

int record_export_readings_after(struct record *rec, int64_t after_id, size_t max_rows,
				 void (*each)(void *arg, const struct record_export_row *row), void *arg)
{
	unsigned limit = max_rows > UINT_MAX ? UINT_MAX : (unsigned)max_rows;

	return export_rows(rec, record__after(rec, RQ_EXPORT_AFTER, after_id, limit), each, arg);
}
