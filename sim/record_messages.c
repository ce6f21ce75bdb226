/* The record read as data messages, for firmware without robofleet's payload contract (a sketch's plain numbers). */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>

#include "record.h"
#include "record_internal.h"

static const char *const metric_names[RECORD_METRIC_COUNT] = { "temperature", "humidity",
							       "distance" };

static sqlite3_stmt *prepare(struct record *rec, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(record__sqlite(rec), sql, -1, &st, NULL) != SQLITE_OK) {
		record__fail(rec);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int record_count_device_data(struct record *rec, const char *id, int64_t since_ms, uint64_t *count)
{
	/* A JSON reading and a per-metric message are each one message the
	 * firmware sent; a JSON message without boot and seq is stored as a
	 * row per metric, of which only its first (part 0) counts. */
	static const char sql[] =
		"SELECT (SELECT count(*) FROM readings WHERE device_id = ?1 AND recv_ms >= ?2) +"
		" (SELECT count(*) FROM metric_messages WHERE device_id = ?1 AND recv_ms >= ?2"
		" AND part = 0)";
	sqlite3_stmt *st = prepare(rec, sql);
	int rc = -EIO;

	*count = 0;
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_ms);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		record__fail(rec);
	}
	sqlite3_finalize(st);
	return rc;
}

long record_data_values(struct record *rec, const char *id, enum record_metric m, bool latest,
			int64_t since_ms, bool (*each)(void *arg, double v), void *arg)
{
	char sql[512];
	sqlite3_stmt *st;
	long seen = 0;
	int rc;

	if ((int)m < 0 || m >= RECORD_METRIC_COUNT)
		return -EIO;
	/* The metric's name is one of three constants: safe to splice. */
	snprintf(sql, sizeof(sql),
		 "SELECT v FROM (SELECT recv_ms, %s AS v FROM readings WHERE device_id = ?1"
		 " AND recv_ms >= ?2 AND %s IS NOT NULL UNION ALL SELECT recv_ms, value FROM"
		 " metric_messages WHERE device_id = ?1 AND recv_ms >= ?2 AND metric = '%s')"
		 " ORDER BY recv_ms %s",
		 metric_names[m], metric_names[m], metric_names[m], latest ? "DESC LIMIT 1" : "");
	if (!(st = prepare(rec, sql)))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, latest ? INT64_MIN : since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		seen++;
		if (!each(arg, sqlite3_column_double(st, 0)))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		record__fail(rec);
	sqlite3_finalize(st);
	return seen;
}
