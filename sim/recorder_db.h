/* Inside the recorder: the queued message and the SQLite layer that stores it. */
#ifndef SIM_RECORDER_DB_H
#define SIM_RECORDER_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bumped whenever a table changes; a newer database is refused. */
#define RECORDER_SCHEMA_VERSION 2

enum recorder_msg_kind {
	RECORDER_MSG_MQTT,      /* a message from the broker */
	RECORDER_MSG_EVENT,     /* the recorder's own event: topic is its name, payload its detail */
	RECORDER_MSG_FAULT,     /* a fault injected or cleared: topic is the device id ("" for
				 * the broker), payload "kind\naction\nsource\ndetail" */
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
	uint64_t db_errors;     /* statements that failed; their message is not stored */
};

struct recorder_db;

/*
 * Open or create the database at @path: WAL, synchronous=NORMAL, the schema
 * (docs/recording.md) and every statement prepared. Returns 0 or a negative
 * errno with a message in @err. On success @err may hold a warning.
 */
int recorder__db_open(const char *path, struct recorder_db **out, char *err, size_t errlen);

int recorder__db_begin(struct recorder_db *db);
int recorder__db_commit(struct recorder_db *db);
void recorder__db_rollback(struct recorder_db *db);

/* Store one message inside the open transaction; failures are counted. */
void recorder__db_store(struct recorder_db *db, const struct recorder_msg *m,
			struct recorder__counts *counts);

/* The last SQLite error message, for the log. */
const char *recorder__db_error(struct recorder_db *db);

void recorder__db_close(struct recorder_db *db);

#endif /* SIM_RECORDER_DB_H */
