/* The record's side of the report: the run's own tables (written at its end) and walks over the whole run. */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "record_internal.h"

/* Kept in step with docs/recording.md ("The run's own tables"). */
static const char run_tables_sql[] =
	"CREATE TABLE IF NOT EXISTS run_info (  -- written by robofleet run at the end\n"
	"  key TEXT PRIMARY KEY, value\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE IF NOT EXISTS run_groups (\n"
	"  idx INTEGER PRIMARY KEY, name TEXT NOT NULL,\n"
	"  firmware TEXT NOT NULL  -- robot, sketch: PATH, device: PATH\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS run_devices (\n"
	"  idx INTEGER PRIMARY KEY,  -- the scenario's order\n"
	"  device_id TEXT NOT NULL, grp INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS run_expectations (\n"
	"  idx INTEGER PRIMARY KEY, name TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL,\n"
	"  passed INTEGER NOT NULL, time_s REAL NOT NULL,\n"
	"  at_ms INTEGER NOT NULL,  -- when it was decided, UTC ms; 0 unknown\n"
	"  message TEXT NOT NULL    -- why it failed\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS run_env (  -- the environment the scenario set, per group\n"
	"  ms INTEGER NOT NULL, grp INTEGER NOT NULL,\n"
	"  temperature REAL, humidity REAL, distance REAL\n"
	");\n"
	"DELETE FROM run_info; DELETE FROM run_groups; DELETE FROM run_devices;\n"
	"DELETE FROM run_expectations; DELETE FROM run_env;\n";

static int bind_real(sqlite3_stmt *st, int col, double v)
{
	return isnan(v) ? sqlite3_bind_null(st, col) : sqlite3_bind_double(st, col, v);
}

/* Step @st once as an insert and make it ready again. */
static int insert(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int write_rows(sqlite3 *db, const struct record_run_info *in)
{
	sqlite3_stmt *st[5] = { NULL };
	static const char *const sql[5] = {
		"INSERT INTO run_info VALUES (?1, ?2)",
		"INSERT INTO run_groups VALUES (?1, ?2, ?3)",
		"INSERT INTO run_devices VALUES (?1, ?2, ?3)",
		"INSERT INTO run_expectations VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		"INSERT INTO run_env VALUES (?1, ?2, ?3, ?4, ?5)",
	};
	int rc = SQLITE_OK;

	for (int i = 0; i < 5 && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st[0], 1, "scenario", -1, SQLITE_STATIC);
		sqlite3_bind_text(st[0], 2, in->scenario ? in->scenario : "", -1, SQLITE_STATIC);
		rc = insert(db, st[0]);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st[0], 1, "started_ms", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[0], 2, in->started_ms);
		rc = insert(db, st[0]);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st[0], 1, "ended_ms", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[0], 2, in->ended_ms);
		rc = insert(db, st[0]);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st[0], 1, "passed", -1, SQLITE_STATIC);
		sqlite3_bind_int(st[0], 2, in->passed);
		rc = insert(db, st[0]);
	}
	for (size_t i = 0; rc == SQLITE_OK && i < in->n_groups; i++) {
		sqlite3_bind_int64(st[1], 1, (sqlite3_int64)i);
		sqlite3_bind_text(st[1], 2, in->groups[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st[1], 3, in->groups[i].firmware, -1, SQLITE_STATIC);
		rc = insert(db, st[1]);
	}
	for (size_t i = 0; rc == SQLITE_OK && i < in->n_devices; i++) {
		sqlite3_bind_int64(st[2], 1, (sqlite3_int64)i);
		sqlite3_bind_text(st[2], 2, in->device_ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[2], 3, in->device_group[i]);
		rc = insert(db, st[2]);
	}
	for (size_t i = 0; rc == SQLITE_OK && i < in->n_expectations; i++) {
		const struct record_run_expectation *e = &in->expectations[i];

		sqlite3_bind_int64(st[3], 1, (sqlite3_int64)i);
		sqlite3_bind_text(st[3], 2, e->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st[3], 3, e->file ? e->file : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[3], 4, e->line);
		sqlite3_bind_int(st[3], 5, e->passed);
		sqlite3_bind_double(st[3], 6, e->time_s);
		sqlite3_bind_int64(st[3], 7, e->at_ms);
		sqlite3_bind_text(st[3], 8, e->message ? e->message : "", -1, SQLITE_STATIC);
		rc = insert(db, st[3]);
	}
	for (size_t i = 0; rc == SQLITE_OK && i < in->n_env; i++) {
		const struct record_run_env *e = &in->env[i];

		sqlite3_bind_int64(st[4], 1, e->ms);
		sqlite3_bind_int64(st[4], 2, e->group);
		for (int m = 0; m < RECORD_METRIC_COUNT; m++)
			bind_real(st[4], 3 + m, e->v[m]);
		rc = insert(db, st[4]);
	}
	for (int i = 0; i < 5; i++)
		sqlite3_finalize(st[i]);
	return rc;
}

static int fill_run_info(sqlite3 *db, const void *arg)
{
	return write_rows(db, arg);
}

int record_write_run_info(const char *path, const struct record_run_info *info, char *err,
			  size_t errlen)
{
	return record__write(path, run_tables_sql, fill_run_info, info, err, errlen);
}

/*
 * These walks run once per report, so each statement is compiled per call
 * rather than kept: a missing table (an older record, a run that broke
 * off) is then -ENODATA at the prepare, not a handle left broken.
 */
static int walk_prepare(struct record *rec, const char *sql, sqlite3_stmt **st)
{
	sqlite3 *db = record__sqlite(rec);

	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	record__fail(rec);
	*st = NULL;
	return strstr(sqlite3_errmsg(db), "no such") ? -ENODATA : -EIO;
}

static int walk_end(struct record *rec, sqlite3_stmt *st, int rc)
{
	int ret = rc == SQLITE_DONE ? 0 : -EIO;

	if (ret < 0)
		record__fail(rec);
	sqlite3_finalize(st);
	return ret;
}

static const char *text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? t : "";
}

static double real(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

int record_run_summary(struct record *rec, struct record_run_summary *out)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT key, value FROM run_info", &st);
	bool any = false;

	memset(out, 0, sizeof(*out));
	out->passed = -1;
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = text(st, 0);

		any = true;
		if (!strcmp(k, "scenario"))
			snprintf(out->scenario, sizeof(out->scenario), "%s", text(st, 1));
		else if (!strcmp(k, "started_ms"))
			out->started_ms = sqlite3_column_int64(st, 1);
		else if (!strcmp(k, "ended_ms"))
			out->ended_ms = sqlite3_column_int64(st, 1);
		else if (!strcmp(k, "passed"))
			out->passed = sqlite3_column_int(st, 1) != 0;
	}
	rc = walk_end(rec, st, rc);
	return rc == 0 && !any ? -ENODATA : rc;
}

int record_run_groups(struct record *rec,
		      void (*each)(void *arg, uint32_t idx, const struct record_run_group *g),
		      void *arg)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT idx, name, firmware FROM run_groups ORDER BY idx", &st);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_run_group g = { .name = text(st, 1), .firmware = text(st, 2) };

		each(arg, (uint32_t)sqlite3_column_int64(st, 0), &g);
	}
	return walk_end(rec, st, rc);
}

int record_run_devices(struct record *rec,
		       void (*each)(void *arg, const char *id, uint32_t group), void *arg)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT device_id, grp FROM run_devices ORDER BY idx", &st);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		each(arg, text(st, 0), (uint32_t)sqlite3_column_int64(st, 1));
	return walk_end(rec, st, rc);
}

int record_run_expectations(struct record *rec,
			    void (*each)(void *arg, const struct record_run_expectation *e),
			    void *arg)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT name, file, line, passed, time_s, at_ms, message"
			      " FROM run_expectations ORDER BY idx", &st);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_run_expectation e = {
			.name = text(st, 0), .file = text(st, 1),
			.line = (unsigned)sqlite3_column_int64(st, 2),
			.passed = sqlite3_column_int(st, 3) != 0,
			.time_s = sqlite3_column_double(st, 4),
			.at_ms = sqlite3_column_int64(st, 5), .message = text(st, 6),
		};
		each(arg, &e);
	}
	return walk_end(rec, st, rc);
}

int record_run_env(struct record *rec, void (*each)(void *arg, const struct record_run_env *e),
		   void *arg)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT ms, grp, temperature, humidity, distance FROM run_env"
			      " ORDER BY ms, rowid", &st);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_run_env e = { .ms = sqlite3_column_int64(st, 0),
					    .group = (uint32_t)sqlite3_column_int64(st, 1) };

		for (int m = 0; m < RECORD_METRIC_COUNT; m++)
			e.v[m] = real(st, 2 + m);
		each(arg, &e);
	}
	return walk_end(rec, st, rc);
}

int record_walk_readings(struct record *rec,
			 void (*each)(void *arg, const struct record_reading *r), void *arg)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT recv_ms, ts_ms, device_id, temperature, humidity, distance"
			      " FROM readings ORDER BY id", &st);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_reading r = {
			.recv_ms = sqlite3_column_int64(st, 0),
			.has_ts = sqlite3_column_type(st, 1) != SQLITE_NULL,
			.ts_ms = sqlite3_column_int64(st, 1),
			.device_id = text(st, 2),
		};

		for (int m = 0; m < RECORD_METRIC_COUNT; m++)
			r.v[m] = real(st, 3 + m);
		each(arg, &r);
	}
	return walk_end(rec, st, rc);
}

int record_walk_commands(struct record *rec,
			 void (*each)(void *arg, int64_t ms, const char *device_id), void *arg)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT recv_ms, device_id FROM commands WHERE retained = 0"
			      " ORDER BY id", &st);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		each(arg, sqlite3_column_int64(st, 0), text(st, 1));
	return walk_end(rec, st, rc);
}

int record_device_accounts(struct record *rec,
			   void (*each)(void *arg, const struct record_device_account *a),
			   void *arg)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT a.device_id, a.taken, a.recorded, a.buffered, a.dropped,"
			      " a.lost, coalesce(c.duplicates, 0) FROM device_accounts a"
			      " LEFT JOIN accounting c USING (device_id) ORDER BY a.device_id", &st);

	/* A record the run did not settle: what the record alone says. */
	if (rc == -ENODATA)
		rc = walk_prepare(rec, "SELECT device_id, readings + lost, readings, 0, dropped, lost,"
				  " duplicates FROM accounting ORDER BY device_id", &st);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_device_account a = {
			.device_id = text(st, 0),
			.taken = (uint64_t)sqlite3_column_int64(st, 1),
			.recorded = (uint64_t)sqlite3_column_int64(st, 2),
			.buffered = (uint64_t)sqlite3_column_int64(st, 3),
			.dropped = (uint64_t)sqlite3_column_int64(st, 4),
			.lost = (uint64_t)sqlite3_column_int64(st, 5),
			.redelivered = (uint64_t)sqlite3_column_int64(st, 6),
		};
		each(arg, &a);
	}
	return walk_end(rec, st, rc);
}

int record_last_reading_id(struct record *rec, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc = walk_prepare(rec, "SELECT coalesce(max(id), 0) FROM readings", &st);

	*out = 0;
	if (rc < 0)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	return walk_end(rec, st, rc);
}
