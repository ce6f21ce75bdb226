/* Inside the recorder: the queued message and the SQLite layer that stores it. */
#ifndef SIM_RECORDER_DB_H
#define SIM_RECORDER_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recorder_json.h"

/* Bumped whenever a table changes; a newer database is refused. */
#define RECORDER_SCHEMA_VERSION 3

enum recorder_msg_kind {
	RECORDER_MSG_MQTT,      /* a message from the broker */
	RECORDER_MSG_EVENT,     /* the recorder's own event: topic is its name, payload its detail */
	RECORDER_MSG_FAULT,     /* a fault injected or cleared: topic is the device id ("" for
				 * the broker), payload "kind\naction\nsource\ndetail" */
	RECORDER_MSG_HTTP,      /* a device's message that came over HTTP (recorder_ingest()) */
	RECORDER_MSG_ALERT,     /* an alert raised or cleared: topic is the device id, payload
				 * "rule\nstate\nmetric\nvalue\nthreshold\ncrossed_ms\nlatency_ms\nms" */
};

/* One received message, in one allocation with its topic and payload. */
struct recorder_msg {
	struct recorder_msg *next;
	enum recorder_msg_kind kind;
	int64_t recv_ms;        /* UTC ms, taken when the message arrived */
	bool retained;
	size_t size;            /* payload bytes as received */
	size_t len;             /* bytes kept in payload[], at most the configured maximum */
	char *topic;            /* NUL-terminated, inside this allocation */
	/* RECORDER_MSG_HTTP: NULL, or why it is kept raw without parsing
	 * (inside this allocation); on_stored is called once its batch
	 * committed (0) or was given up (negative errno). */
	const char *reason;
	void (*on_stored)(void *ctx, int err);
	void *ctx;
	unsigned char payload[]; /* len bytes, then a NUL */
};

/* What storing messages did, added up by the caller. */
struct recorder__counts {
	uint64_t readings;      /* new (device, boot, seq) stored */
	uint64_t duplicates;    /* the same reading again (same time, values and errors) */
	uint64_t conflicts;     /* a stored (device, boot, seq) with a different payload */
	uint64_t rejected;      /* kept in raw_messages */
	uint64_t statuses;
	uint64_t metrics;
	uint64_t commands;
};

struct recorder_db;

/*
 * Open or create the database at @path through the SQLite VFS @vfs (NULL:
 * the default): WAL, synchronous=NORMAL, the schema (docs/recording.md) and
 * every statement prepared. @busy is SQLite's busy handler for a lock held
 * by another connection (see sqlite3_busy_handler()), called with
 * @busy_arg. Returns 0 or a negative errno with a message in @err. On
 * success @err may hold a warning.
 */
int recorder__db_open(const char *path, const char *vfs, int (*busy)(void *arg, int calls),
		      void *busy_arg, struct recorder_db **out, char *err, size_t errlen);

/* BEGIN IMMEDIATE: the write lock is taken here or not at all. */
int recorder__db_begin(struct recorder_db *db);
/* Write the batch's devices, boots and hourly rows (recorder_rollup.h),
 * once per key, then COMMIT. A failure is to be rolled back. */
int recorder__db_commit(struct recorder_db *db);
/* Roll back the open transaction, if any, and the batch's rollup: a batch
 * is then written anew. */
void recorder__db_rollback(struct recorder_db *db);

/*
 * Store one message inside the open transaction, adding to @counts.
 * Returns 0, or the negative errno of the statement that failed: then the
 * transaction is to be rolled back (SQLite may already have done so) and
 * @counts no longer describes what is in the database.
 */
int recorder__db_store(struct recorder_db *db, const struct recorder_msg *m,
		       struct recorder__counts *counts);

/* The last failure, "statement: SQLite message", for the log. */
const char *recorder__db_error(struct recorder_db *db);

/* The last failure's cause alone, e.g. "database or disk is full". */
const char *recorder__db_cause(struct recorder_db *db);

struct topic_map;

/*
 * Attribute messages by the fleet's layouts (topic_layout.h) from now on:
 * a topic is what the template it matches says, whose through {id} or the
 * room table; one matching none is kept raw. NULL: robofleet's contract.
 * @topics is borrowed and must outlive @db.
 */
void recorder__db_set_topics(struct recorder_db *db, const struct topic_map *topics);

struct recorder_reading;

/* Called inside the open transaction for each reading stored for the
 * first time (not a redelivery): it is committed only with the batch. */
typedef void (*recorder__db_reading_fn)(void *arg, const struct recorder_msg *m,
					const struct recorder_reading *r);
void recorder__db_on_reading(struct recorder_db *db, recorder__db_reading_fn fn, void *arg);

/* Whether @topic is sensors/<id>/data, where readings are published. */
bool recorder__db_is_data_topic(const char *topic);

/*
 * Whether @topic is where commands for a device are published, attributed
 * as the writer would (by @topics, or by the contract's
 * sensors/<id>/command when NULL); the device in @id. Any thread.
 */
bool recorder__db_command_device(const struct topic_map *topics, const char *topic,
				 char id[RECORDER_ID_MAX + 1]);

/*
 * Fold the WAL into the database file and close. Returns 0, or a negative
 * errno with a message in @err when that checkpoint failed: the WAL file
 * then holds committed data and belongs with the database. Safe with NULL.
 */
int recorder__db_close(struct recorder_db *db, char *err, size_t errlen);

#endif /* SIM_RECORDER_DB_H */
