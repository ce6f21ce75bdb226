/*
 * The recorder's SQLite side: the schema, its prepared statements, and how
 * one message becomes rows. Runs on the writer thread only.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder_db.h"
#include "recorder_json.h"
#include "recorder_rollup.h"
#include "topic_layout.h"

/*
 * Kept in step with docs/recording.md. The comments are inside the CREATE
 * statements on purpose: SQLite keeps that text, so `.schema` in the sqlite3
 * shell documents a run database found without this repository.
 */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS readings (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  recv_ms     INTEGER NOT NULL,  -- receive time, UTC ms since 1970 (recorder clock)\n"
	"  device_id   TEXT    NOT NULL,\n"
	"  boot        INTEGER NOT NULL,\n"
	"  seq         INTEGER NOT NULL,\n"
	"  ts_ms       INTEGER,           -- device timestamp, UTC ms; NULL when not sent\n"
	"  temperature REAL,              -- degrees C; NULL when omitted (failed sensor)\n"
	"  humidity    REAL,              -- %RH; NULL when omitted\n"
	"  distance    REAL,              -- cm; NULL when omitted\n"
	"  errors      TEXT,              -- the payload's \"errors\" object as JSON, or NULL\n"
	"  raw         TEXT    NOT NULL,  -- the payload as received\n"
	"  recv_time   TEXT GENERATED ALWAYS AS\n"
	"    (strftime('%Y-%m-%dT%H:%M:%fZ', recv_ms / 1000.0, 'unixepoch')) VIRTUAL,\n"
	"  ts_time     TEXT GENERATED ALWAYS AS\n"
	"    (strftime('%Y-%m-%dT%H:%M:%fZ', ts_ms / 1000.0, 'unixepoch')) VIRTUAL,\n"
	"  UNIQUE (device_id, boot, seq)  -- a reading is stored once\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS readings_device_time ON readings (device_id, recv_ms);\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS hourly (  -- rollup by receive hour, kept as readings arrive\n"
	"  device_id TEXT    NOT NULL,\n"
	"  hour_ms   INTEGER NOT NULL,        -- start of the hour, UTC ms\n"
	"  n         INTEGER NOT NULL,        -- readings in the hour\n"
	"  t_n INTEGER NOT NULL, t_sum REAL NOT NULL, t_min REAL, t_max REAL,\n"
	"  h_n INTEGER NOT NULL, h_sum REAL NOT NULL, h_min REAL, h_max REAL,\n"
	"  d_n INTEGER NOT NULL, d_sum REAL NOT NULL, d_min REAL, d_max REAL,\n"
	"  PRIMARY KEY (device_id, hour_ms)\n"
	") WITHOUT ROWID;\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS boots (  -- accounting per device and boot\n"
	"  device_id  TEXT    NOT NULL,\n"
	"  boot       INTEGER NOT NULL,\n"
	"  readings   INTEGER NOT NULL,  -- distinct seq stored\n"
	"  duplicates INTEGER NOT NULL,  -- the same reading received again\n"
	"  conflicts  INTEGER NOT NULL,  -- a stored seq again with a different payload\n"
	"  min_seq    INTEGER NOT NULL,\n"
	"  max_seq    INTEGER NOT NULL,\n"
	"  first_ms   INTEGER NOT NULL,\n"
	"  last_ms    INTEGER NOT NULL,\n"
	"  dropped    INTEGER NOT NULL DEFAULT 0,  -- highest outbox overflow count reported\n"
	"  PRIMARY KEY (device_id, boot)\n"
	") WITHOUT ROWID;\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS devices (  -- one row per device seen on any topic\n"
	"  device_id  TEXT PRIMARY KEY,\n"
	"  first_ms   INTEGER NOT NULL,\n"
	"  last_ms    INTEGER NOT NULL,\n"
	"  readings   INTEGER NOT NULL DEFAULT 0,\n"
	"  duplicates INTEGER NOT NULL DEFAULT 0,\n"
	"  conflicts  INTEGER NOT NULL DEFAULT 0,\n"
	"  rejected   INTEGER NOT NULL DEFAULT 0,  -- its messages kept in raw_messages\n"
	"  status     TEXT,                        -- last online/offline seen\n"
	"  status_ms  INTEGER\n"
	") WITHOUT ROWID;\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS status (\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  recv_ms   INTEGER NOT NULL,\n"
	"  device_id TEXT    NOT NULL,\n"
	"  status    TEXT    NOT NULL CHECK (status IN ('online', 'offline')),\n"
	"  retained  INTEGER NOT NULL  -- 1: the broker's stored copy, replayed on subscribe\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS status_device_time ON status (device_id, recv_ms);\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS metric_messages (  -- sensors/<id>/temperature|humidity|distance\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  recv_ms   INTEGER NOT NULL,\n"
	"  device_id TEXT    NOT NULL,\n"
	"  metric    TEXT    NOT NULL CHECK (metric IN ('temperature', 'humidity', 'distance')),\n"
	"  value     REAL    NOT NULL,\n"
	"  part      INTEGER NOT NULL DEFAULT 0  -- 0: a message's first value; 1, 2: more of one JSON message\n"
	");\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS commands (  -- sensors/<id>/command as the cloud sent it\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  recv_ms   INTEGER NOT NULL,\n"
	"  device_id TEXT    NOT NULL,\n"
	"  payload   BLOB,\n"
	"  retained  INTEGER NOT NULL\n"
	");\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS raw_messages (  -- everything that could not be stored as meant\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  recv_ms   INTEGER NOT NULL,\n"
	"  topic     TEXT    NOT NULL,\n"
	"  device_id TEXT,              -- from the topic, when it names one\n"
	"  reason    TEXT    NOT NULL,\n"
	"  size      INTEGER NOT NULL,  -- payload bytes received\n"
	"  payload   BLOB,              -- as received, cut at the recorder's size limit\n"
	"  retained  INTEGER NOT NULL\n"
	");\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS recorder_events (  -- open, connect, disconnect, close\n"
	"  id     INTEGER PRIMARY KEY,\n"
	"  ms     INTEGER NOT NULL,\n"
	"  event  TEXT    NOT NULL,\n"
	"  detail TEXT\n"
	");\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS faults (  -- every fault injected or cleared, and by whom\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  ms        INTEGER NOT NULL,  -- UTC ms when it was applied\n"
	"  device_id TEXT,              -- NULL: the broker\n"
	"  kind      TEXT    NOT NULL,  -- wifi_drop, dht_spikes, power, broker, ...\n"
	"  action    TEXT    NOT NULL,  -- inject, clear; power: cut, restore; broker: stop, ...\n"
	"  source    TEXT    NOT NULL,  -- scenario, dashboard\n"
	"  detail    TEXT               -- parameters, e.g. 'period=10s duty=0.3 seed=...'\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS faults_device_time ON faults (device_id, ms);\n"
	"\n"
	"CREATE TABLE IF NOT EXISTS alerts (  -- every alert raised or cleared (a scenario's alerts:)\n"
	"  id         INTEGER PRIMARY KEY,\n"
	"  ms         INTEGER NOT NULL,  -- UTC ms when it was raised or cleared (the run's clock)\n"
	"  device_id  TEXT    NOT NULL,\n"
	"  rule       TEXT    NOT NULL,  -- the rule's name\n"
	"  state      TEXT    NOT NULL,  -- raised, cleared\n"
	"  metric     TEXT,              -- NULL: missing_for without a metric\n"
	"  value      REAL,              -- the reading (rises_faster_than: its rate /s); NULL: silence\n"
	"  threshold  REAL    NOT NULL,  -- raised: the rule's; cleared: clear_*; missing_for: s; rises: /s\n"
	"  crossed_ms INTEGER NOT NULL,  -- device time of the first reading past the threshold\n"
	"  latency_ms INTEGER NOT NULL   -- ms - crossed_ms\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS alerts_device_time ON alerts (device_id, ms);\n"
	"\n"
	"CREATE VIEW IF NOT EXISTS accounting AS  -- per device: lost = gaps below each boot's max seq\n"
	"  SELECT device_id,\n"
	"         count(*)                                        AS boots,\n"
	"         sum(readings)                                   AS readings,\n"
	"         sum(max_seq - min(min_seq, 1) + 1 - readings)   AS lost,\n"
	"         sum(duplicates)                                 AS duplicates,\n"
	"         sum(conflicts)                                  AS conflicts,\n"
	"         max(dropped)      AS dropped  -- lost to outbox overflow, as the device reported\n"
	"  FROM boots GROUP BY device_id;\n";

/* What a version 1 database needs to become version 2 (before schema_sql). */
static const char migrate_v1_sql[] =
	"ALTER TABLE boots ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;\n"
	"DROP VIEW IF EXISTS accounting;\n";

/* What a version 2 database needs to become version 3: a JSON message
 * without boot and seq is several rows, and the books count messages. */
static const char migrate_v2_sql[] =
	"ALTER TABLE metric_messages ADD COLUMN part INTEGER NOT NULL DEFAULT 0;\n";

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_READING,
	ST_SAME_RAW,
	ST_HOURLY,
	ST_HOURLY_GET,
	ST_HOURLY_SET,
	ST_BOOT,
	ST_BOOT_ADD,
	ST_DEVICE,
	ST_DEVICE_ADD,
	ST_DEVICE_STATUS,
	ST_STATUS,
	ST_METRIC,
	ST_COMMAND,
	ST_RAW,
	ST_EVENT,
	ST_FAULT,
	ST_ALERT,
	ST_COUNT
};

/* Split literals are parenthesised: clang takes them for missing commas. */
static const char *const stmt_sql[ST_COUNT] = {
	/* IMMEDIATE: the write lock is taken at once, where a wait for another
	 * writer is the busy handler's to do. A deferred transaction that read
	 * before it wrote could be refused (SQLITE_BUSY_SNAPSHOT) without it. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_READING] =
		("INSERT INTO readings (recv_ms, device_id, boot, seq, ts_ms, temperature, humidity,"
		" distance, errors, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		" ON CONFLICT (device_id, boot, seq) DO NOTHING"),
	/* A redelivered reading is the same measurement; its bytes may differ
	 * in members that describe the delivery (such as "dropped"). */
	[ST_SAME_RAW] =
		("SELECT ts_ms IS ?4 AND temperature IS ?5 AND humidity IS ?6 AND distance IS ?7"
		" AND errors IS ?8 FROM readings WHERE device_id = ?1 AND boot = ?2 AND seq = ?3"),
	/* The whole row, as recorder_rollup.c added the batch's readings to
	 * what the database held (ST_HOURLY_GET): once per key and batch. */
	[ST_HOURLY] =
		("INSERT INTO hourly (device_id, hour_ms, n, t_n, t_sum, t_min, t_max,"
		" h_n, h_sum, h_min, h_max, d_n, d_sum, d_min, d_max)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
		" ON CONFLICT (device_id, hour_ms) DO UPDATE SET n = excluded.n,"
		" t_n = excluded.t_n, t_sum = excluded.t_sum, t_min = excluded.t_min, t_max = excluded.t_max,"
		" h_n = excluded.h_n, h_sum = excluded.h_sum, h_min = excluded.h_min, h_max = excluded.h_max,"
		" d_n = excluded.d_n, d_sum = excluded.d_sum, d_min = excluded.d_min, d_max = excluded.d_max"),
	/* The same for a row the record holds: no INSERT tried first. */
	[ST_HOURLY_SET] =
		("UPDATE hourly SET n = ?3, t_n = ?4, t_sum = ?5, t_min = ?6, t_max = ?7,"
		" h_n = ?8, h_sum = ?9, h_min = ?10, h_max = ?11,"
		" d_n = ?12, d_sum = ?13, d_min = ?14, d_max = ?15"
		" WHERE device_id = ?1 AND hour_ms = ?2"),
	[ST_HOURLY_GET] =
		("SELECT n, t_n, t_sum, t_min, t_max, h_n, h_sum, h_min, h_max, d_n, d_sum, d_min, d_max"
		" FROM hourly WHERE device_id = ?1 AND hour_ms = ?2"),
	/* A batch's deltas of one boot (recorder_rollup.c): once per key and batch. */
	[ST_BOOT] =
		("INSERT INTO boots (device_id, boot, readings, duplicates, conflicts, min_seq, max_seq,"
		" first_ms, last_ms, dropped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		" ON CONFLICT (device_id, boot) DO UPDATE SET dropped = max(dropped, excluded.dropped),"
		" readings = readings + excluded.readings,"
		" duplicates = duplicates + excluded.duplicates,"
		" conflicts = conflicts + excluded.conflicts,"
		" min_seq = min(min_seq, excluded.min_seq), max_seq = max(max_seq, excluded.max_seq),"
		" first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms)"),
	/* The same for a row the record holds: no INSERT tried first. */
	[ST_BOOT_ADD] =
		("UPDATE boots SET dropped = max(dropped, ?10), readings = readings + ?3,"
		" duplicates = duplicates + ?4, conflicts = conflicts + ?5,"
		" min_seq = min(min_seq, ?6), max_seq = max(max_seq, ?7),"
		" first_ms = min(first_ms, ?8), last_ms = max(last_ms, ?9)"
		" WHERE device_id = ?1 AND boot = ?2"),
	[ST_DEVICE] =
		("INSERT INTO devices (device_id, first_ms, last_ms, readings, duplicates, conflicts,"
		" rejected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT (device_id) DO UPDATE SET"
		" first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms),"
		" readings = readings + excluded.readings, duplicates = duplicates + excluded.duplicates,"
		" conflicts = conflicts + excluded.conflicts, rejected = rejected + excluded.rejected"),
	[ST_DEVICE_ADD] =
		("UPDATE devices SET first_ms = min(first_ms, ?2), last_ms = max(last_ms, ?3),"
		" readings = readings + ?4, duplicates = duplicates + ?5,"
		" conflicts = conflicts + ?6, rejected = rejected + ?7 WHERE device_id = ?1"),
	[ST_DEVICE_STATUS] =
		("INSERT INTO devices (device_id, first_ms, last_ms, status, status_ms)"
		" VALUES (?1, ?2, ?2, ?3, ?2)"
		" ON CONFLICT (device_id) DO UPDATE SET"
		" first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms),"
		" status = excluded.status, status_ms = excluded.status_ms"),
	[ST_STATUS] = "INSERT INTO status (recv_ms, device_id, status, retained) VALUES (?1, ?2, ?3, ?4)",
	[ST_METRIC] = ("INSERT INTO metric_messages (recv_ms, device_id, metric, value, part)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)"),
	[ST_COMMAND] = "INSERT INTO commands (recv_ms, device_id, payload, retained) VALUES (?1, ?2, ?3, ?4)",
	[ST_RAW] =
		("INSERT INTO raw_messages (recv_ms, topic, device_id, reason, size, payload, retained)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
	[ST_EVENT] = "INSERT INTO recorder_events (ms, event, detail) VALUES (?1, ?2, ?3)",
	[ST_FAULT] = "INSERT INTO faults (ms, device_id, kind, action, source, detail)"
		     " VALUES (?1, nullif(?2, ''), ?3, ?4, ?5, nullif(?6, ''))",
	[ST_ALERT] = ("INSERT INTO alerts (ms, device_id, rule, state, metric, value, threshold,"
		      " crossed_ms, latency_ms) VALUES (?1, ?2, ?3, ?4, nullif(?5, ''), ?6, ?7, ?8, ?9)"),
};

struct recorder_db {
	const struct topic_map *topics; /* the fleet's layouts; NULL: the contract */
	recorder__db_reading_fn on_reading; /* each new reading, NULL: none */
	void *on_reading_arg;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	struct recorder_rollup *rollup; /* the open batch's devices, boots and hourly rows */
	char error[256];        /* "statement: message" of the last failure */
	char cause[160];        /* its message alone */
};

/* Where a topic points under the contract's sensors/<id>/<leaf>. */
enum topic_kind {
	TOPIC_OTHER,
	TOPIC_DATA,
	TOPIC_STATUS,
	TOPIC_COMMAND,
	TOPIC_METRIC,
};

struct topic {
	enum topic_kind kind;
	char device_id[RECORDER_ID_MAX + 1];  /* empty if the topic names none */
	const char *leaf;               /* TOPIC_METRIC: the metric's name */
	bool loose;                     /* TOPIC_DATA of a layout: boot and seq optional */
	const char *why;                /* TOPIC_OTHER under a layout: the reason */
};

/* Under the fleet's layouts: the template that matches says what and whose. */
static void attribute_topic(const struct topic_map *m, const char *s, struct topic *t)
{
	struct topic_attribution a;
	int rc = topic_map_attribute(m, s, &a);

	t->kind = TOPIC_OTHER;
	t->device_id[0] = '\0';
	t->leaf = "";
	t->loose = false;
	t->why = "topic matches no template of the fleet's layouts";
	if (rc == -ENXIO) {
		t->why = "no device has the room this topic names";
		return;
	}
	if (rc < 0)
		return;
	memcpy(t->device_id, a.device_id, strlen(a.device_id) + 1);
	switch (a.role) {
	case TOPIC_ROLE_READINGS:
		if (a.format == TOPIC_FORMAT_JSON) {
			t->kind = TOPIC_DATA;
			/* Under a run's layouts the data topic may carry any
			 * firmware's JSON (a sketch's, without device_id, boot or
			 * seq); a reading with boot and seq still goes through the
			 * exactly-once accounting, whoever sent it. */
			t->loose = true;
		} else {
			t->kind = TOPIC_METRIC;
			t->leaf = topic_metric_names[a.metric];
		}
		break;
	case TOPIC_ROLE_STATUS:
		t->kind = TOPIC_STATUS;
		break;
	default:
		t->kind = TOPIC_COMMAND;
		break;
	}
}

static void parse_topic(const char *s, struct topic *t)
{
	static const char *const metrics[] = { "temperature", "humidity", "distance" };
	const char *id, *slash;
	size_t n;

	t->kind = TOPIC_OTHER;
	t->device_id[0] = '\0';
	t->leaf = "";
	t->loose = false;
	t->why = "topic outside the contract";
	if (strncmp(s, "sensors/", 8) != 0)
		return;
	id = s + 8;
	slash = strchr(id, '/');
	if (!slash || slash == id || (size_t)(slash - id) > RECORDER_ID_MAX || strchr(slash + 1, '/'))
		return;
	n = (size_t)(slash - id);
	t->leaf = slash + 1;
	if (strcmp(t->leaf, "data") == 0)
		t->kind = TOPIC_DATA;
	else if (strcmp(t->leaf, "status") == 0)
		t->kind = TOPIC_STATUS;
	else if (strcmp(t->leaf, "command") == 0)
		t->kind = TOPIC_COMMAND;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(t->leaf, metrics[i]) == 0)
			t->kind = TOPIC_METRIC;
	if (t->kind == TOPIC_OTHER)
		return;
	memcpy(t->device_id, id, n);
	t->device_id[n] = '\0';
}

/* SQLite result code to a negative errno, the project's error currency. */
static int db_errno(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_NOMEM:    return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:   return -EBUSY;
	case SQLITE_FULL:     return -ENOSPC;
	case SQLITE_READONLY: return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:     return -EACCES;
	case SQLITE_CANTOPEN: return sys ? -sys : -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:  return -EILSEQ;
	default:              return sys ? -sys : -EIO;
	}
}

static void note_error(struct recorder_db *d, const char *what)
{
	const char *msg = sqlite3_errmsg(d->db);

	snprintf(d->cause, sizeof(d->cause), "%s", msg);
	snprintf(d->error, sizeof(d->error), "%s: %s", what, msg);
}

/*
 * Run a prepared statement that returns no rows; resets it for the next use.
 * Its bindings are cleared before it returns, so text and blobs are bound
 * SQLITE_STATIC throughout: the message, the parsed reading and the topic
 * outlive the call, and SQLite need not copy each of them first.
 */
static int run(struct recorder_db *d, enum stmt_id id)
{
	sqlite3_stmt *s = d->st[id];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	note_error(d, stmt_sql[id]);
	return db_errno(d->db, rc);
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *text)
{
	if (text && *text)
		sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static int read_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

static bool journal_is_wal(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	bool wal = false;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(s, 0);
		wal = mode && strcmp((const char *)mode, "wal") == 0;
	}
	sqlite3_finalize(s);
	return wal;
}

int recorder__db_open(const char *path, const char *vfs, int (*busy)(void *arg, int calls),
		      void *busy_arg, struct recorder_db **out, char *err, size_t errlen)
{
	struct recorder_db *d = calloc(1, sizeof(*d));
	char ddl[sizeof(schema_sql) + sizeof(migrate_v1_sql) + sizeof(migrate_v2_sql) + 64];
	int version = 0;
	int rc, ret;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!d || !(d->rollup = recorder__rollup_new())) {
		free(d);
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, vfs);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, d->db ? sqlite3_errmsg(d->db) : "cannot open");
		ret = db_errno(d->db, rc);
		goto fail;
	}
	/* Another connection (a sqlite3 shell in BEGIN EXCLUSIVE, a checkpoint)
	 * may hold the lock we need; the caller's handler waits it out. */
	if (busy)
		sqlite3_busy_handler(d->db, busy, busy_arg);
	else
		sqlite3_busy_timeout(d->db, 5000);
	if (!journal_is_wal(d->db))
		snprintf(err, errlen, "%s: WAL not available, using the rollback journal", path);
	/* NORMAL in WAL mode: a power cut may lose the last commits, never
	 * corrupt the file, and commits skip an fsync each. A 16 MiB page
	 * cache (SQLite's default is 2 MiB): a batch inserts into the index
	 * pages of every device that sent, all over the file, and with the
	 * default most of them were read back from the file at every batch. */
	rc = sqlite3_exec(d->db, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384", NULL, NULL,
			  NULL);
	if (rc == SQLITE_OK)
		rc = read_version(d->db, &version);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(d->db));
		ret = db_errno(d->db, rc);
		goto fail;
	}
	if (version > RECORDER_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %d is newer than this recorder's %d",
			 path, version, RECORDER_SCHEMA_VERSION);
		ret = -EPROTO;
		goto fail;
	}
	snprintf(ddl, sizeof(ddl), "BEGIN;\n%s%s%sPRAGMA user_version=%d;\nCOMMIT;",
		 version == 1 ? migrate_v1_sql : "",
		 version == 1 || version == 2 ? migrate_v2_sql : "", schema_sql,
		 RECORDER_SCHEMA_VERSION);
	rc = sqlite3_exec(d->db, ddl, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: schema: %s", path, sqlite3_errmsg(d->db));
		ret = db_errno(d->db, rc);
		goto fail;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(d->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&d->st[i], NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", stmt_sql[i], sqlite3_errmsg(d->db));
			ret = db_errno(d->db, rc);
			goto fail;
		}
	}
	*out = d;
	return 0;
fail:
	recorder__db_close(d, NULL, 0);
	return ret;
}

int recorder__db_close(struct recorder_db *d, char *err, size_t errlen)
{
	int rc = SQLITE_OK, ret = 0, frames = 0, done = 0;

	if (errlen)
		err[0] = '\0';
	if (!d)
		return 0;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(d->st[i]);
	/* Fold the WAL into the file even when a reader still has the database
	 * open (then SQLite would not): a copy of record.db alone is complete.
	 * The wait for a reader is bounded here: whatever the checkpoint leaves
	 * in the WAL is committed all the same. */
	if (d->db) {
		sqlite3_busy_timeout(d->db, 5000);
		rc = sqlite3_wal_checkpoint_v2(d->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &frames, &done);
	}
	/* Busy but every frame copied: only emptying the WAL had to wait. */
	if (rc == SQLITE_BUSY && done >= frames)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "checkpoint at close: %s", sqlite3_errmsg(d->db));
		ret = db_errno(d->db, rc);
	}
	sqlite3_close(d->db);
	recorder__rollup_free(d->rollup);
	free(d);
	return ret;
}

int recorder__db_begin(struct recorder_db *d)
{
	recorder__rollup_begin(d->rollup);
	return run(d, ST_BEGIN);
}

static int write_device(void *arg, const struct recorder_device_delta *x)
{
	struct recorder_db *d = arg;
	enum stmt_id id = x->stored ? ST_DEVICE_ADD : ST_DEVICE;
	sqlite3_stmt *s = d->st[id];

	sqlite3_bind_text(s, 1, x->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, x->first_ms);
	sqlite3_bind_int64(s, 3, x->last_ms);
	sqlite3_bind_int64(s, 4, x->readings);
	sqlite3_bind_int64(s, 5, x->duplicates);
	sqlite3_bind_int64(s, 6, x->conflicts);
	sqlite3_bind_int64(s, 7, x->rejected);
	return run(d, id);
}

static int write_boot(void *arg, const struct recorder_boot_delta *x)
{
	struct recorder_db *d = arg;
	enum stmt_id id = x->stored ? ST_BOOT_ADD : ST_BOOT;
	sqlite3_stmt *s = d->st[id];

	sqlite3_bind_text(s, 1, x->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, x->boot);
	sqlite3_bind_int64(s, 3, x->readings);
	sqlite3_bind_int64(s, 4, x->duplicates);
	sqlite3_bind_int64(s, 5, x->conflicts);
	sqlite3_bind_int64(s, 6, x->min_seq);
	sqlite3_bind_int64(s, 7, x->max_seq);
	sqlite3_bind_int64(s, 8, x->first_ms);
	sqlite3_bind_int64(s, 9, x->last_ms);
	sqlite3_bind_int64(s, 10, x->dropped);
	return run(d, id);
}

static int write_hour(void *arg, const struct recorder_hour_row *h)
{
	struct recorder_db *d = arg;
	enum stmt_id id = h->stored ? ST_HOURLY_SET : ST_HOURLY;
	sqlite3_stmt *s = d->st[id];

	sqlite3_bind_text(s, 1, h->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, h->hour_ms);
	sqlite3_bind_int64(s, 3, h->n);
	for (int i = 0; i < 3; i++) {
		const struct recorder_hour_metric *m = &h->m[i];

		sqlite3_bind_int64(s, 4 + 4 * i, m->n);
		sqlite3_bind_double(s, 5 + 4 * i, m->sum);
		if (m->has_range) {
			sqlite3_bind_double(s, 6 + 4 * i, m->min);
			sqlite3_bind_double(s, 7 + 4 * i, m->max);
		}
	}
	return run(d, id);
}

/* The committed hourly row of a key the batch meets first (recorder_rollup.h). */
static int load_hour(void *arg, struct recorder_hour_row *h)
{
	struct recorder_db *d = arg;
	sqlite3_stmt *s = d->st[ST_HOURLY_GET];
	int rc;

	sqlite3_bind_text(s, 1, h->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, h->hour_ms);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		h->stored = true;
		h->n = sqlite3_column_int64(s, 0);
		for (int i = 0; i < 3; i++) {
			struct recorder_hour_metric *m = &h->m[i];

			m->n = sqlite3_column_int64(s, 1 + 4 * i);
			m->sum = sqlite3_column_double(s, 2 + 4 * i);
			m->has_range = sqlite3_column_type(s, 3 + 4 * i) != SQLITE_NULL;
			m->min = sqlite3_column_double(s, 3 + 4 * i);
			m->max = sqlite3_column_double(s, 4 + 4 * i);
		}
	} else if (rc != SQLITE_DONE) {
		note_error(d, stmt_sql[ST_HOURLY_GET]);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_errno(d->db, rc);
}

/* A rollup that found no memory: the batch is written again, as for SQLite's own. */
static int rollup_failed(struct recorder_db *d, int rc)
{
	if (rc == -ENOMEM) {
		snprintf(d->cause, sizeof(d->cause), "out of memory");
		snprintf(d->error, sizeof(d->error), "rollup: out of memory");
	}
	return rc;
}

/* The batch's devices, boots and hourly rows, once per key, then COMMIT. */
int recorder__db_commit(struct recorder_db *d)
{
	static const struct recorder_rollup_writer w = { write_device, write_boot, write_hour };
	int rc = recorder__rollup_write(d->rollup, &w, d);

	if (rc == 0)
		rc = run(d, ST_COMMIT);
	if (rc == 0)
		recorder__rollup_committed(d->rollup);
	return rc;
}

void recorder__db_rollback(struct recorder_db *d)
{
	recorder__rollup_begin(d->rollup);
	if (!sqlite3_get_autocommit(d->db))
		run(d, ST_ROLLBACK);
}

const char *recorder__db_error(struct recorder_db *d)
{
	return d->error;
}

const char *recorder__db_cause(struct recorder_db *d)
{
	return d->cause;
}

/* Add deltas to the device's row, creating it on first sight: at the commit. */
static int device_add(struct recorder_db *d, const char *id, int64_t ms, int readings,
		      int duplicates, int conflicts, int rejected)
{
	return rollup_failed(d, recorder__rollup_device(d->rollup, id, ms, readings, duplicates,
							conflicts, rejected));
}

static int store_raw(struct recorder_db *d, const struct recorder_msg *m, const struct topic *t,
		     const char *reason)
{
	sqlite3_stmt *s = d->st[ST_RAW];
	int rc;

	sqlite3_bind_int64(s, 1, m->recv_ms);
	sqlite3_bind_text(s, 2, m->topic, -1, SQLITE_STATIC);
	bind_text_or_null(s, 3, t->device_id);
	sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)m->size);
	sqlite3_bind_blob64(s, 6, m->payload, m->len, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, m->retained);
	rc = run(d, ST_RAW);
	if (rc == 0 && t->device_id[0])
		rc = device_add(d, t->device_id, m->recv_ms, 0, 0, 0, 1);
	return rc;
}

static void bind_value(sqlite3_stmt *s, int i, bool has, double v)
{
	if (has)
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/*
 * 1 if the stored reading with this key has the same payload, 0 if not, or
 * a negative errno when the read failed (the batch is then written again).
 */
static int same_reading(struct recorder_db *d, const struct recorder_reading *r)
{
	sqlite3_stmt *s = d->st[ST_SAME_RAW];
	int rc, same = 1;

	sqlite3_bind_text(s, 1, r->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->boot);
	sqlite3_bind_int64(s, 3, r->seq);
	if (r->has_timestamp)
		sqlite3_bind_int64(s, 4, r->timestamp_ms);
	else
		sqlite3_bind_null(s, 4);
	bind_value(s, 5, r->has_temperature, r->temperature);
	bind_value(s, 6, r->has_humidity, r->humidity);
	bind_value(s, 7, r->has_distance, r->distance);
	if (r->errors)
		sqlite3_bind_text(s, 8, r->errors, (int)r->errors_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 8);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		same = sqlite3_column_int(s, 0);
	else if (rc != SQLITE_DONE)
		note_error(d, stmt_sql[ST_SAME_RAW]);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_errno(d->db, rc);
	return same;
}

static int store_reading(struct recorder_db *d, const struct recorder_msg *m, const struct topic *t,
			 const struct recorder_reading *r, struct recorder__counts *c)
{
	sqlite3_stmt *s = d->st[ST_READING];
	bool inserted;
	int dup = 0, conflict = 0;
	int rc, same;

	sqlite3_bind_int64(s, 1, m->recv_ms);
	sqlite3_bind_text(s, 2, r->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->boot);
	sqlite3_bind_int64(s, 4, r->seq);
	if (r->has_timestamp)
		sqlite3_bind_int64(s, 5, r->timestamp_ms);
	else
		sqlite3_bind_null(s, 5);
	bind_value(s, 6, r->has_temperature, r->temperature);
	bind_value(s, 7, r->has_humidity, r->humidity);
	bind_value(s, 8, r->has_distance, r->distance);
	if (r->errors)
		sqlite3_bind_text(s, 9, r->errors, (int)r->errors_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 9);
	sqlite3_bind_text(s, 10, (const char *)m->payload, (int)m->len, SQLITE_STATIC);
	rc = run(d, ST_READING);
	if (rc < 0)
		return rc;
	inserted = sqlite3_changes(d->db) == 1;

	if (inserted) {
		const bool has[3] = { r->has_temperature, r->has_humidity, r->has_distance };
		const double v[3] = { r->temperature, r->humidity, r->distance };

		if ((rc = recorder__rollup_hour(d->rollup, r->device_id,
						m->recv_ms - m->recv_ms % 3600000, has, v, load_hour,
						d)) < 0)
			return rollup_failed(d, rc);
		c->readings++;
		if (d->on_reading)
			d->on_reading(d->on_reading_arg, m, r);
	} else if ((same = same_reading(d, r)) < 0) {
		return same;
	} else if (same) {
		dup = 1;
		c->duplicates++;
	} else {
		/* A firmware that reused a sequence number: keep the evidence. */
		conflict = 1;
		c->conflicts++;
		if ((rc = store_raw(d, m, t, "seq already stored with a different payload")) < 0)
			return rc;
		c->rejected++;
	}

	if ((rc = recorder__rollup_boot(d->rollup, r->device_id, r->boot, inserted, dup, conflict,
					r->seq, m->recv_ms, r->dropped)) < 0)
		return rollup_failed(d, rc);
	return device_add(d, r->device_id, m->recv_ms, inserted, dup, conflict, 0);
}

static int store_status(struct recorder_db *d, const struct recorder_msg *m,
			const struct topic *t, const char *status)
{
	sqlite3_stmt *s = d->st[ST_STATUS];
	int rc;

	sqlite3_bind_int64(s, 1, m->recv_ms);
	sqlite3_bind_text(s, 2, t->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, m->retained);
	if ((rc = run(d, ST_STATUS)) < 0)
		return rc;
	s = d->st[ST_DEVICE_STATUS];
	sqlite3_bind_text(s, 1, t->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, m->recv_ms);
	sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
	return run(d, ST_DEVICE_STATUS);
}

static int store_metric_named(struct recorder_db *d, const struct recorder_msg *m,
			      const struct topic *t, const char *metric, double value, int part)
{
	sqlite3_stmt *s = d->st[ST_METRIC];
	int rc;

	sqlite3_bind_int64(s, 1, m->recv_ms);
	sqlite3_bind_text(s, 2, t->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, metric, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 4, value);
	sqlite3_bind_int(s, 5, part);
	if ((rc = run(d, ST_METRIC)) < 0)
		return rc;
	return device_add(d, t->device_id, m->recv_ms, 0, 0, 0, 0);
}

static int store_metric(struct recorder_db *d, const struct recorder_msg *m,
			const struct topic *t, double value)
{
	return store_metric_named(d, m, t, t->leaf, value, 0);
}

/*
 * A JSON reading of another firmware without boot and seq: nothing to key
 * it by, so each metric it holds is stored as a per-metric message.
 * Returns 0, 1 when it holds no number, or a negative errno.
 */
static int store_unkeyed(struct recorder_db *d, const struct recorder_msg *m,
			 const struct topic *t, const struct recorder_reading *r,
			 struct recorder__counts *c)
{
	const bool has[3] = { r->has_temperature, r->has_humidity, r->has_distance };
	const double v[3] = { r->temperature, r->humidity, r->distance };
	int rc, n = 0;

	for (int i = 0; i < 3; i++) {
		if (!has[i])
			continue;
		if ((rc = store_metric_named(d, m, t, topic_metric_names[i], v[i], n)) < 0)
			return rc;
		c->metrics++;
		n++;
	}
	return n ? 0 : 1;
}

static int store_command(struct recorder_db *d, const struct recorder_msg *m,
			 const struct topic *t)
{
	sqlite3_stmt *s = d->st[ST_COMMAND];

	sqlite3_bind_int64(s, 1, m->recv_ms);
	sqlite3_bind_text(s, 2, t->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(s, 3, m->payload, m->len, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, m->retained);
	return run(d, ST_COMMAND);
}

static int store_event(struct recorder_db *d, const struct recorder_msg *m)
{
	sqlite3_stmt *s = d->st[ST_EVENT];

	sqlite3_bind_int64(s, 1, m->recv_ms);
	sqlite3_bind_text(s, 2, m->topic, -1, SQLITE_STATIC);
	if (m->len)
		sqlite3_bind_text(s, 3, (const char *)m->payload, (int)m->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	return run(d, ST_EVENT);
}

/* Split @m's payload into @n lines (the last takes the rest); missing ones are "". */
static void payload_lines(const struct recorder_msg *m, const char **f, size_t *flen, int n)
{
	const char *p = (const char *)m->payload, *end = p + m->len;

	for (int i = 0; i < n; i++) {
		f[i] = "";
		flen[i] = 0;
	}
	for (int i = 0; i < n && p <= end; i++) {
		const char *nl = i < n - 1 ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *stop = nl ? nl : end;

		f[i] = p;
		flen[i] = (size_t)(stop - p);
		p = stop + 1;
	}
}

/* Fields of a RECORDER_MSG_FAULT payload: kind, action, source, detail. */
static int store_fault(struct recorder_db *d, const struct recorder_msg *m)
{
	sqlite3_stmt *s = d->st[ST_FAULT];
	const char *f[4];
	size_t flen[4];

	payload_lines(m, f, flen, 4);
	sqlite3_bind_int64(s, 1, m->recv_ms);
	sqlite3_bind_text(s, 2, m->topic, -1, SQLITE_STATIC);
	for (int i = 0; i < 4; i++)
		sqlite3_bind_text(s, 3 + i, f[i], (int)flen[i], SQLITE_STATIC);
	return run(d, ST_FAULT);
}

/*
 * A RECORDER_MSG_ALERT: topic the device id, payload the lines rule, state,
 * metric, value, threshold, crossed_ms, latency_ms, ms (recorder.c writes
 * them; value "" when there is none).
 */
static int store_alert(struct recorder_db *d, const struct recorder_msg *m)
{
	sqlite3_stmt *s = d->st[ST_ALERT];
	const char *f[8];
	size_t flen[8];
	char num[5][32];

	payload_lines(m, f, flen, 8);
	for (int i = 0; i < 5; i++)
		snprintf(num[i], sizeof(num[i]), "%.*s", (int)flen[3 + i], f[3 + i]);
	sqlite3_bind_int64(s, 1, strtoll(num[4], NULL, 10));
	sqlite3_bind_text(s, 2, m->topic, -1, SQLITE_STATIC);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_text(s, 3 + i, f[i], (int)flen[i], SQLITE_STATIC);
	if (num[0][0])
		sqlite3_bind_double(s, 6, strtod(num[0], NULL));
	else
		sqlite3_bind_null(s, 6);
	sqlite3_bind_double(s, 7, strtod(num[1], NULL));
	sqlite3_bind_int64(s, 8, strtoll(num[2], NULL, 10));
	sqlite3_bind_int64(s, 9, strtoll(num[3], NULL, 10));
	return run(d, ST_ALERT);
}

static bool payload_is(const struct recorder_msg *m, const char *word)
{
	size_t n = strlen(word);

	return m->len == n && m->size == n && memcmp(m->payload, word, n) == 0;
}

/* Route a broker message by its topic; whatever does not fit goes to raw_messages. */
static int store_mqtt(struct recorder_db *d, const struct recorder_msg *m,
		      struct recorder__counts *c)
{
	struct recorder_reading r;
	const char *why = NULL;
	struct topic t;
	double value;
	int rc;

	/* Over HTTP the device named the topic by its body's device_id: the
	 * contract's sensors/<id>/data, whatever the fleet's layouts, and any
	 * firmware's JSON (the tutorial's has no boot and seq). */
	if (m->kind == RECORDER_MSG_HTTP) {
		parse_topic(m->topic, &t);
		t.loose = true;
	} else if (d->topics) {
		attribute_topic(d->topics, m->topic, &t);
	} else {
		parse_topic(m->topic, &t);
	}
	if (m->kind == RECORDER_MSG_HTTP && m->reason) {
		why = m->reason;
	} else if (m->len < m->size) {
		why = "payload larger than the recorder keeps";
	} else {
		bool keyed = true;

		switch (t.kind) {
		case TOPIC_DATA:
			if ((t.loose ? recorder_parse_reading_any(m->payload, m->len, &r, &keyed,
								  &why)
				     : recorder_parse_reading(m->payload, m->len, &r, &why)) < 0)
				break;
			if (r.device_id[0] && strcmp(r.device_id, t.device_id) != 0) {
				why = "device_id differs from the topic";
				break;
			}
			if (!keyed) {
				if ((rc = store_unkeyed(d, m, &t, &r, c)) <= 0)
					return rc;
				why = "JSON reading without a number";
				break;
			}
			memcpy(r.device_id, t.device_id, strlen(t.device_id) + 1);
			return store_reading(d, m, &t, &r, c);
		case TOPIC_STATUS:
			if (payload_is(m, "online") || payload_is(m, "offline")) {
				const char *st = payload_is(m, "online") ? "online" : "offline";

				if ((rc = store_status(d, m, &t, st)) == 0)
					c->statuses++;
				return rc;
			}
			why = m->len ? "status is neither online nor offline"
				     : "empty status (a retained status was cleared)";
			break;
		case TOPIC_METRIC:
			if (recorder_parse_number(m->payload, m->len, &value) == 0) {
				if ((rc = store_metric(d, m, &t, value)) == 0)
					c->metrics++;
				return rc;
			}
			why = "metric value is not a number";
			break;
		case TOPIC_COMMAND:
			if ((rc = store_command(d, m, &t)) == 0)
				c->commands++;
			return rc;
		default:
			why = t.why;
			break;
		}
	}
	if ((rc = store_raw(d, m, &t, why)) == 0)
		c->rejected++;
	return rc;
}

int recorder__db_store(struct recorder_db *d, const struct recorder_msg *m,
		       struct recorder__counts *c)
{
	return m->kind == RECORDER_MSG_EVENT ? store_event(d, m) :
	       m->kind == RECORDER_MSG_FAULT ? store_fault(d, m) :
	       m->kind == RECORDER_MSG_ALERT ? store_alert(d, m) : store_mqtt(d, m, c);
}

void recorder__db_set_topics(struct recorder_db *d, const struct topic_map *topics)
{
	d->topics = topics;
}

bool recorder__db_command_device(const struct topic_map *topics, const char *topic,
				 char id[RECORDER_ID_MAX + 1])
{
	struct topic t;

	if (topics)
		attribute_topic(topics, topic, &t);
	else
		parse_topic(topic, &t);
	if (t.kind != TOPIC_COMMAND || !t.device_id[0])
		return false;
	memcpy(id, t.device_id, strlen(t.device_id) + 1);
	return true;
}

void recorder__db_on_reading(struct recorder_db *d, recorder__db_reading_fn fn, void *arg)
{
	d->on_reading = fn;
	d->on_reading_arg = arg;
}

bool recorder__db_is_data_topic(const char *topic)
{
	struct topic t;

	parse_topic(topic, &t);
	return t.kind == TOPIC_DATA;
}
