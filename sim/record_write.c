/* The record's one write beside the recorder's: the run's per-device accounts at its end. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "record.h"
#include "record_internal.h"

/* Kept in step with docs/recording.md ("Accounting to the end"). */
static const char table_sql[] =
	/* Rebuilt whole at every run's end: an older record's narrower table
	 * gives way to this one. */
	"DROP TABLE IF EXISTS device_accounts;\n"
	"CREATE TABLE device_accounts (  -- written by robofleet run at the end\n"
	"  device_id  TEXT PRIMARY KEY,\n"
	"  taken      INTEGER NOT NULL,  -- readings the device numbered, every boot (robot)\n"
	"  recorded   INTEGER NOT NULL,  -- of its readings (data messages), in the record\n"
	"  buffered   INTEGER NOT NULL,  -- still in its outbox when the fleet stopped\n"
	"  dropped    INTEGER NOT NULL,  -- missing, explained by its full outbox's drops\n"
	"  lost       INTEGER NOT NULL,  -- missing and unexplained (sent and not recorded)\n"
	"  firmware   TEXT    NOT NULL,  -- robot, sketch or device\n"
	"  attempted  INTEGER NOT NULL,  -- readings it tried to publish (robot: taken)\n"
	"  sent       INTEGER NOT NULL,  -- publishes that left it\n"
	"  not_sent   INTEGER NOT NULL,  -- refused by its client (robot: buffered + dropped)\n"
	"  reconnects INTEGER NOT NULL   -- MQTT sessions after the first, its last boot\n"
	") WITHOUT ROWID;\n";

int record__write(const char *path, const char *ddl, int (*fill)(sqlite3 *db, const void *arg),
		  const void *arg, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, ddl, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = fill(db, arg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		if (db)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		rc = (rc & 0xff) == SQLITE_FULL ? -ENOSPC : (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
	}
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : rc;
}

struct accounts {
	const struct record_account *rows;
	size_t n;
};

static int insert_accounts(sqlite3 *db, const void *arg)
{
	const struct accounts *in = arg;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO device_accounts VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
				    " ?7, ?8, ?9, ?10, ?11)", -1, &st, NULL);

	for (size_t i = 0; rc == SQLITE_OK && i < in->n; i++) {
		const struct record_account *a = &in->rows[i];

		sqlite3_bind_text(st, 1, a->device_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)a->taken);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)a->recorded);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)a->buffered);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)a->dropped);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)a->lost);
		sqlite3_bind_text(st, 7, a->firmware ? a->firmware : "robot", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)a->attempted);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)a->sent);
		sqlite3_bind_int64(st, 10, (sqlite3_int64)a->not_sent);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)a->reconnects);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int record_write_accounts(const char *path, const struct record_account *rows, size_t n,
			  char *err, size_t errlen)
{
	struct accounts in = { rows, n };

	return record__write(path, table_sql, insert_accounts, &in, err, errlen);
}
