/* The run recorder: one MQTT subscriber on sensors/# writing every message into SQLite. */
#ifndef SIM_RECORDER_H
#define SIM_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt_auth.h"

/*
 * Threads: recorder_start() runs libmosquitto's network loop in a thread
 * of the recorder's own (mosquitto_loop() in a loop that also retries the
 * connection once a second). Its message callback only copies the
 * message into an in-memory queue; a writer thread owned by the recorder
 * drains the queue into SQLite in batched transactions. Open, start, stop
 * and close belong to one controlling thread; flush, sync, the stats and
 * the waits may be called from any thread.
 *
 * Durability: the subscription is QoS 1 on a persistent session
 * (clean_session=false, fixed client id), so while the recorder is stopped
 * or disconnected the broker queues its messages. A graceful stop loses
 * nothing; a crash of the process loses what was queued or not yet
 * committed (at most one batch period), because libmosquitto acknowledges
 * a message once the callback has returned.
 *
 * Storage failures: a batch keeps its messages until its COMMIT succeeded.
 * A failed statement or commit (disk full, I/O error, a lock held past the
 * busy handler's wait) rolls it back, and it is written again, whole and
 * in order, after 50 ms, then twice as long each time up to 2 s, until
 * store_deadline_ms have passed since the first failure. Then its broker
 * messages are counted in unstored (readings also in unstored_readings),
 * store_errno/store_error keep the first cause and the log says how many.
 * After such a give-up, a failing batch gets one more try after 50 ms (a
 * lock wait 50 ms) before it is given up too, until one commits. A
 * message that does not fit the contract is not a failure: it is stored
 * in raw_messages.
 */

struct recorder;

/* A reading the record now holds, as recorder_opts.on_reading sees it. */
struct recorder_reading_note {
	const char *device_id;          /* valid during the call */
	int64_t boot, seq;
	bool has_timestamp;
	int64_t timestamp_ms;           /* the device's clock, UTC ms */
	int64_t recv_ms;                /* when the recorder received it, UTC ms */
	bool has_temperature, has_humidity, has_distance;
	double temperature, humidity, distance;
};

struct recorder_opts {
	const char *db_path;            /* SQLite file, created when missing (required) */
	const char *client_id;          /* MQTT client id, names the persistent session (required) */
	const char *topic;              /* subscription, default "sensors/#" */
	/* The fleet's topic layouts (topic_layout.h, finished): every
	 * template's filter is subscribed besides topic, and messages are
	 * attributed by the templates (docs/recording.md). NULL: robofleet's
	 * contract alone. Borrowed: it must outlive the recorder. */
	struct topic_map *topics;
	/* Subscribe to exactly these filters (NULL-terminated) instead of
	 * topic and the layouts' filters: a shard's recorder takes only its
	 * own devices' topics. NULL: as above. Borrowed until recorder_open()
	 * returns (copied). */
	const char *const *filters;
	const char *username;           /* NULL: anonymous */
	const char *password;
	/* TLS and an identity of its own (mqtt_auth.h); NULL: none. Borrowed. */
	const struct mqtt_auth *auth;
	int keepalive_s;                /* default 30 */
	int batch_ms;                   /* commit at least this often, default 250 */
	int batch_rows;                 /* or after this many messages, default 5000 */
	size_t queue_soft_max;          /* messages queued before it counts as overflow, default 65536 */
	size_t queue_max_bytes;         /* memory bound: beyond it the network thread waits, default 256 MiB */
	size_t max_payload;             /* bytes kept of one payload, default 65536 */
	/* A write that fails (disk full, I/O error) is retried with backoff,
	 * the batch kept in order, for this long; then its messages are
	 * counted as received but not stored, with the reason. Default 30000. */
	int store_deadline_ms;
	/* A lock held by another process (BEGIN EXCLUSIVE in a sqlite3 shell)
	 * is waited out; a wait longer than this is logged. Default 1000. */
	int lock_log_ms;
	const char *sqlite_vfs;         /* NULL: SQLite's default; tests name a faulty one */
	/* Called on the network thread for every message on a device's
	 * command topic (sensors/<id>/command, or the layouts' command
	 * template), retained ones included, before it is recorded: a run
	 * bridges MQTT commands to devices that poll for them over HTTP
	 * (ingest_command()). It must not block. NULL: none. */
	void (*on_command)(void *ctx, const char *device_id, const void *payload, size_t len);
	void *command_ctx;
	/* Called from the writer thread with each new reading (a redelivery is
	 * not new) once its batch committed, in the order received; it must
	 * not call back into the recorder but recorder_note_*(). NULL: none. */
	void (*on_reading)(void *ctx, const struct recorder_reading_note *n);
	void *on_reading_ctx;
	/* Called from the recorder's threads; NULL logs to stderr. */
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

struct recorder_stats {
	/* network side */
	bool connected;
	bool subscribed;                /* connected, and the subscription is in place */
	bool session_present;           /* the broker kept our session at the last connect */
	uint64_t connects;
	uint64_t subscriptions;         /* times the subscription became ready */
	uint64_t received;              /* messages taken from the broker or recorder_ingest() */
	uint64_t ingested;              /* of them, handed over by recorder_ingest() */
	/* queue */
	uint64_t queued;                /* waiting for the writer now */
	uint64_t queue_high_water;
	uint64_t queue_overflows;       /* messages accepted beyond queue_soft_max */
	uint64_t backpressure_waits;    /* times the network thread waited for memory */
	uint64_t dropped;               /* messages lost because malloc() failed */
	/* writer */
	uint64_t stored;                /* received messages written and committed */
	uint64_t transactions;
	uint64_t readings;              /* new (device, boot, seq) */
	uint64_t duplicates;
	uint64_t conflicts;             /* a known (device, boot, seq) with another payload */
	uint64_t rejected;              /* rows written to raw_messages (conflicts included) */
	uint64_t statuses;
	uint64_t metrics;
	uint64_t commands;
	uint64_t db_errors;             /* failed statements or commits (each retried) */
	/* durability: nothing received disappears without being counted here */
	uint64_t write_retries;         /* batches written again after a failure */
	uint64_t lock_waits;            /* times another process held the database */
	int64_t lock_wait_max_ms;       /* the longest of those waits */
	uint64_t unstored;              /* received messages given up on */
	uint64_t unstored_readings;     /* of them, messages on sensors/<id>/data */
	int store_errno;                /* negative errno of the first give-up, 0: none */
	char store_error[160];          /* what it was, e.g. "database or disk is full" */
};

/*
 * Open (or create) the database and start the writer thread. Nothing is
 * subscribed yet. Returns 0 or a negative errno (-EINVAL for missing
 * options, -EPROTO for a database of a newer schema, SQLite failures
 * mapped to errno values).
 */
int recorder_open(const struct recorder_opts *opts, struct recorder **out);

/*
 * Connect to @host:@port and subscribe; returns at once. The network
 * thread reconnects by itself after a broker restart. A broker that is not
 * up yet is not an error: the thread keeps trying. Returns 0, -EALREADY,
 * or a negative errno.
 */
int recorder_start(struct recorder *r, const char *host, int port);

/*
 * Disconnect cleanly (the broker keeps the session and queues for it) and
 * commit everything received. recorder_start() may be called again.
 * Returns 0 or -ETIMEDOUT if the writer did not finish within 10 s.
 */
int recorder_stop(struct recorder *r);

/* Stop if running, commit, and free everything. Safe with NULL. */
void recorder_close(struct recorder *r);

/*
 * Wait until everything received before the call is committed (or given
 * up on and counted as unstored), at most @timeout_ms. Returns 0 or
 * -ETIMEDOUT.
 */
int recorder_flush(struct recorder *r, int timeout_ms);

/*
 * Write a fault into the run's faults table, in order with the messages
 * received around it: @device_id NULL for the broker, @kind such as
 * "wifi_drop", "power" or "broker", @action such as "inject", "clear",
 * "cut", "restore" or "restart", @source "scenario" or "dashboard",
 * @detail the parameters (may be NULL). Any thread. Returns 0 or -ENOMEM.
 */
int recorder_note_fault(struct recorder *r, const char *device_id, const char *kind,
			const char *action, const char *source, const char *detail);

/*
 * Record a device's message that did not come over MQTT (the ingest
 * endpoint's POST bodies) as if it had been published on @topic: the same
 * queue, parsing, (device_id, boot, seq) key and duplicate accounting.
 * @topic is sensors/<id>/data for a reading, whose body may be any
 * firmware's JSON: without boot and seq it is stored as per-metric rows,
 * as under a layout of format json. With @reject non-NULL the payload is
 * kept in raw_messages under @topic with that reason, unparsed.
 * @on_stored (may be NULL) is called on the writer thread once the
 * message's batch committed (0) or was given up (a negative errno): only
 * then is it safe to tell the sender it is stored. Needs no broker: works
 * between recorder_open() and recorder_close(). Any thread; never waits
 * for memory. Returns 0, -EMSGSIZE for a payload beyond max_payload (not
 * rejected: the sender can be told), or -ENOMEM; then @on_stored is not
 * called.
 */
int recorder_ingest(struct recorder *r, const char *topic, const void *payload, size_t len,
		    const char *reject, void (*on_stored)(void *ctx, int err), void *ctx);
/* An alert raised or cleared (sim/alerts.h), for the record's alerts table. */
struct recorder_alert {
	const char *device_id;
	const char *rule;
	const char *state;              /* "raised" or "cleared" */
	const char *metric;             /* NULL: none (missing_for) */
	double value;                   /* NAN: none */
	double threshold;
	int64_t ms;                     /* when it was raised or cleared, UTC ms */
	int64_t crossed_ms;             /* device time of the crossing, UTC ms */
	int64_t latency_ms;
};

/* Write @a into the alerts table, in order with the messages around it.
 * Any thread, on_reading included. Returns 0 or -ENOMEM. */
int recorder_note_alert(struct recorder *r, const struct recorder_alert *a);

void recorder_read_stats(struct recorder *r, struct recorder_stats *out);

/*
 * Wait until @pred holds for the current statistics, at most @timeout_ms.
 * @pred runs with the recorder's lock held: it must only read @s.
 * Returns 0 or -ETIMEDOUT.
 */
int recorder_wait_stats(struct recorder *r, bool (*pred)(const struct recorder_stats *s, void *arg),
			void *arg, int timeout_ms);

/*
 * Wait until every message the broker accepted before the call has been
 * received and committed (or counted as unstored): the recorder publishes
 * a marker to a topic of its own and waits for it to come back through
 * its subscription, then flushes. While the network thread reconnects (a
 * broker restart) it waits for the new session within @timeout_ms.
 * Returns 0, -ETIMEDOUT, or -ENOTCONN when not started, stopped meanwhile,
 * or not connected.
 *
 * The topic is robofleet/recorder/<client_id>/sync, subscribed at every
 * connect besides opts.topic; messages on it are never recorded nor
 * counted as received.
 */
int recorder_sync(struct recorder *r, int timeout_ms);

/*
 * recorder_sync() for a recorder that may be far behind (a fleet beyond
 * the machine): it waits as long as messages keep arriving, giving up
 * only after @stall_ms without one, or after @max_ms in all.
 */
int recorder_drain(struct recorder *r, int stall_ms, int max_ms);

/* Wait until the subscription is in place (for the first time or again). */
int recorder_wait_subscribed(struct recorder *r, int timeout_ms);

/* Wait until at least @count messages have been received in total. */
int recorder_wait_received(struct recorder *r, uint64_t count, int timeout_ms);

#endif /* SIM_RECORDER_H */
