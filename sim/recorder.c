/*
 * The recorder's moving parts: the libmosquitto subscriber with its own
 * network thread, the queue from that thread to the writer thread, and the
 * writer's batching, with its retries when SQLite fails.
 *
 *   broker --> network thread --(queue, never waits on disk)--> writer --> SQLite
 *              on_message(): copy + stamp            BEGIN .. 250 ms or 5000 rows .. COMMIT
 *                                                    failed: ROLLBACK, wait, write the batch again
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recorder.h"
#include "recorder_db.h"
#include "recorder_notes.h"
#include "topic_layout.h"

/* Errors the log reports in full before it starts sampling them. */
#define LOG_ERRORS_FIRST 10
#define LOG_ERRORS_EVERY 1000

/* A failed batch is written again after 50 ms, then after twice as long
 * each time, at most 2 s apart, until store_deadline_ms have passed. */
#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS 2000
/* Once a batch was given up, the following ones get this long (one
 * retry) until one commits: a fault that lasts must not hold every batch
 * for the full deadline, nor grow the queue behind it. */
#define FAILING_DEADLINE_MS 50
/* While batches keep being given up, the log sums them up this often. */
#define FAILING_LOG_MS 5000
/* The busy handler polls another connection's lock at most this far apart. */
#define LOCK_POLL_MAX_MS 100

struct recorder {
	struct recorder_opts opts;      /* the caller's, with defaults and owned strings */
	char *db_path;
	const char *db_name;            /* the file name in db_path, for the log */
	char *client_id;
	char *topic;
	char *sync_topic;               /* robofleet/recorder/<client_id>/sync */
	/* Everything subscribed at a connect: topic, the layouts' filters
	 * (strings of opts.topics), sync_topic last. */
	char **subs;
	int n_subs;
	char **own_filters;             /* opts.filters, copied (NULL-terminated); NULL: none */
	char *sqlite_vfs;
	char sync_nonce[17];            /* tells our markers from an earlier process's */
	struct recorder_db *db;         /* the writer thread's after open */
	struct mosquitto *mosq;         /* non-NULL between start and stop */
	bool lib_init;
	bool sync_init;
	bool writer_running;
	pthread_t writer;
	pthread_t net;
	int first_connect;              /* mosquitto_connect_async() result for the net thread */
	int first_errno;
	bool refused;                   /* the last CONNACK said no (net thread only) */
	int sub_mid;                    /* SUBSCRIBE to topic (and sync_topic), net thread only */
	int sync_mid;                   /* SUBSCRIBE to sync_topic alone, net thread only */
	pthread_mutex_t conn_lock;      /* a reconnect or a sync's publish never runs into the stop */

	/* The writer thread's alone (the busy handler runs on it too). */
	bool w_retrying;                /* a failed batch is being written again ... */
	int64_t w_give_up_ms;           /* ... until then (monotonic ms) */
	bool w_failing;                 /* a batch was given up and none committed since */
	int64_t w_failing_since_ms;
	uint64_t w_fail_msgs;           /* broker messages given up since w_failing_since_ms */
	uint64_t w_fail_readings;
	uint64_t w_log_msgs;            /* ... and since the log last said so */
	int64_t w_log_next_ms;
	char w_fail_cause[160];
	bool w_lock_waiting;            /* the busy handler is waiting for another connection */
	bool w_lock_logged;
	bool w_lock_gave_up;            /* the last wait ended without the lock */
	int w_lock_polls;
	int64_t w_lock_since_ms;
	struct recorder_notes w_notes;  /* the batch's new readings, for opts.on_reading */

	pthread_mutex_t lock;           /* everything below */
	pthread_cond_t work;            /* for the writer: queue, flush or quit */
	pthread_cond_t changed;         /* for waiters: stats, flush done, memory freed */
	pthread_cond_t net_wake;        /* for the net thread between connection attempts */
	bool net_stop;
	bool net_running;               /* between recorder_start() and recorder_stop() */
	struct timespec net_stop_by;    /* give up on a clean DISCONNECT after this */
	struct recorder_msg *head;
	struct recorder_msg *tail;
	size_t queued_bytes;            /* allocated by the network thread, not yet freed by the writer */
	bool memory_wait;               /* the network thread waits for queued_bytes to shrink */
	bool w_idle;                    /* the writer waits with no batch open */
	uint64_t w_open;                /* messages in the writer's open batch while it waits */
	bool w_kicked;                  /* the writer was signalled and has not taken the queue yet */
	uint64_t flush_want;
	uint64_t flush_done;
	bool quit;
	bool sync_ready;                /* the broker confirmed the subscription to sync_topic */
	uint64_t sync_sent;             /* markers published */
	uint64_t sync_seen;             /* the highest of ours that came back */
	struct recorder_stats st;
};

static void log_default(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "recorder: %s\n", msg);
}

static void logf_(struct recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct recorder *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->opts.log(r->opts.log_ctx, buf);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Milliseconds left until a CLOCK_MONOTONIC deadline, 0 once it passed. */
static int ms_left(const struct timespec *t)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* A CLOCK_MONOTONIC deadline @ms from now, for pthread_cond_timedwait(). */
static struct timespec deadline_in(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static bool passed(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* ---- the queue ---------------------------------------------------------- */

static size_t msg_bytes(const struct recorder_msg *m)
{
	return sizeof(*m) + m->len + 1 + strlen(m->topic) + 1 + (m->reason ? strlen(m->reason) + 1 : 0);
}

/* A device's message, from the broker or from recorder_ingest(): counted as received. */
static bool from_device(const struct recorder_msg *m)
{
	return m->kind == RECORDER_MSG_MQTT || m->kind == RECORDER_MSG_HTTP;
}

static struct recorder_msg *msg_new_extra(enum recorder_msg_kind kind, const char *topic,
					  const void *payload, size_t keep, size_t size,
					  size_t extra)
{
	size_t tlen = strlen(topic);
	struct recorder_msg *m = malloc(sizeof(*m) + keep + 1 + tlen + 1 + extra);

	if (!m)
		return NULL;
	m->next = NULL;
	m->kind = kind;
	m->recv_ms = wall_ms();
	m->retained = false;
	m->reason = NULL;
	m->on_stored = NULL;
	m->ctx = NULL;
	m->size = size;
	m->len = keep;
	if (keep)
		memcpy(m->payload, payload, keep);
	m->payload[keep] = '\0';
	m->topic = (char *)m->payload + keep + 1;
	memcpy(m->topic, topic, tlen + 1);
	return m;
}

static struct recorder_msg *msg_new(enum recorder_msg_kind kind, const char *topic,
				    const void *payload, size_t keep, size_t size)
{
	return msg_new_extra(kind, topic, payload, keep, size, 0);
}

/*
 * Hand a message to the writer. The queue grows past queue_soft_max
 * (counted) rather than drop; only past queue_max_bytes does the network
 * thread wait, which leaves further messages queued in the broker.
 */
static void enqueue(struct recorder *r, struct recorder_msg *m, bool may_wait)
{
	size_t bytes = msg_bytes(m);

	pthread_mutex_lock(&r->lock);
	if (may_wait && r->queued_bytes > 0 && r->queued_bytes + bytes > r->opts.queue_max_bytes) {
		r->st.backpressure_waits++;
		/* The writer's open batch counts too: it is to commit now. */
		r->memory_wait = true;
		pthread_cond_signal(&r->work);
		while (r->queued_bytes > 0 && r->queued_bytes + bytes > r->opts.queue_max_bytes &&
		       !r->quit)
			pthread_cond_wait(&r->changed, &r->lock);
		r->memory_wait = false;
	}
	if (r->tail)
		r->tail->next = m;
	else
		r->head = m;
	r->tail = m;
	r->queued_bytes += bytes;
	r->st.queued++;
	if (r->st.queued > r->st.queue_high_water)
		r->st.queue_high_water = r->st.queued;
	if (r->st.queued > r->opts.queue_soft_max)
		r->st.queue_overflows++;
	if (from_device(m))
		r->st.received++;
	if (m->kind == RECORDER_MSG_HTTP)
		r->st.ingested++;
	/* Wake the writer only when it has something to do about it: an idle
	 * writer starts a batch (its clock runs from the first message), a
	 * full one is committed. Within a batch's period the messages wait
	 * here, and the writer takes them all at once when the batch is due:
	 * one wake-up per batch, not one per message. */
	if (!r->w_kicked && (r->w_idle || r->st.queued + r->w_open >= (uint64_t)r->opts.batch_rows)) {
		r->w_kicked = true;
		pthread_cond_signal(&r->work);
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* The recorder's own events go into recorder_events, in order with the messages. */
static void note_event(struct recorder *r, const char *event, const char *detail)
{
	size_t n = detail ? strlen(detail) : 0;
	struct recorder_msg *m = msg_new(RECORDER_MSG_EVENT, event, detail, n, n);

	if (m)
		enqueue(r, m, false);
}

int recorder_note_fault(struct recorder *r, const char *device_id, const char *kind,
			const char *action, const char *source, const char *detail)
{
	char text[1024];
	int n = snprintf(text, sizeof(text), "%s\n%s\n%s\n%s", kind, action, source,
			 detail ? detail : "");
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	struct recorder_msg *m = msg_new(RECORDER_MSG_FAULT, device_id ? device_id : "", text,
					 len, len);

	if (!m)
		return -ENOMEM;
	enqueue(r, m, false);
	return 0;
}

/* ---- network thread --------------------------------------------------------- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags)
{
	struct recorder *r = obj;
	bool session = flags & 1;

	if (rc != 0) {
		/* Retried every second: say it once, not once a second. */
		if (!r->refused) {
			note_event(r, "connect refused", mosquitto_connack_string(rc));
			logf_(r, "broker refused the connection: %s", mosquitto_connack_string(rc));
		}
		r->refused = true;
		return;
	}
	r->refused = false;
	pthread_mutex_lock(&r->lock);
	r->st.connected = true;
	r->st.connects++;
	r->st.session_present = session;
	/* A session the broker kept still holds our subscription; subscribing
	 * again would only replay every retained status as if it were news. */
	if (session) {
		r->st.subscribed = true;
		r->st.subscriptions++;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	note_event(r, "connect", session ? "session present" : "new session");
	/* The sync topic has no retained messages: subscribing to it again in
	 * a kept session replays nothing, and covers a session that lacks it. */
	r->sub_mid = r->sync_mid = 0;
	if (!session) {
		rc = mosquitto_subscribe_multiple(mosq, &r->sub_mid, r->n_subs, r->subs, 1, 0, NULL);
		if (rc != MOSQ_ERR_SUCCESS)
			logf_(r, "subscribe %s: %s", r->topic, mosquitto_strerror(rc));
	} else {
		rc = mosquitto_subscribe(mosq, &r->sync_mid, r->sync_topic, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			logf_(r, "subscribe %s: %s", r->sync_topic, mosquitto_strerror(rc));
	}
}

static void sync_subscribed(struct recorder *r, int granted)
{
	if (granted > 2) {
		logf_(r, "broker refused the subscription to %s: recorder_sync() cannot work",
		      r->sync_topic);
		return;
	}
	pthread_mutex_lock(&r->lock);
	r->sync_ready = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted)
{
	struct recorder *r = obj;
	char detail[96];

	(void)mosq;
	if (mid == r->sync_mid) {
		if (count >= 1)
			sync_subscribed(r, granted[0]);
		return;
	}
	if (mid != r->sub_mid)
		return;
	if (count >= r->n_subs)
		sync_subscribed(r, granted[r->n_subs - 1]);
	for (int i = 0; i < r->n_subs - 1; i++) {
		if (i >= count || granted[i] > 2) {
			note_event(r, "subscribe refused", r->subs[i]);
			logf_(r, "broker refused the subscription to %s", r->subs[i]);
			return;
		}
		if (granted[i] < 1)
			logf_(r, "broker granted QoS 0 on %s: messages may be lost while "
			      "disconnected", r->subs[i]);
	}
	snprintf(detail, sizeof(detail), "%s%s qos %d", r->topic,
		 r->n_subs > 2 ? " and the layouts' topics" : "", granted[0]);
	pthread_mutex_lock(&r->lock);
	r->st.subscribed = true;
	r->st.subscriptions++;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	note_event(r, "subscribe", detail);
}

/* No session any more: waiters see it, and no sync can be answered. */
static void mark_disconnected(struct recorder *r)
{
	pthread_mutex_lock(&r->lock);
	r->st.connected = false;
	r->st.subscribed = false;
	r->sync_ready = false;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct recorder *r = obj;

	(void)mosq;
	mark_disconnected(r);
	note_event(r, "disconnect", rc == 0 ? "requested" : mosquitto_strerror(rc));
}

/*
 * A marker published by recorder_sync() came back: "<nonce> <number>".
 * Someone else's message on our topic, or an earlier process's marker
 * still queued in the session, has another nonce and is ignored.
 */
static void sync_marker(struct recorder *r, const struct mosquitto_message *msg)
{
	size_t n = strlen(r->sync_nonce);
	const char *p = msg->payload;
	char digits[24];
	char *end;
	unsigned long long token;

	if (msg->payloadlen <= (int)n + 1 || (size_t)msg->payloadlen - n - 1 >= sizeof(digits) ||
	    memcmp(p, r->sync_nonce, n) != 0 || p[n] != ' ')
		return;
	memcpy(digits, p + n + 1, (size_t)msg->payloadlen - n - 1);
	digits[msg->payloadlen - n - 1] = '\0';
	errno = 0;
	token = strtoull(digits, &end, 10);
	if (errno || *end || end == digits)
		return;
	pthread_mutex_lock(&r->lock);
	if (token > r->sync_seen && token <= r->sync_sent) {
		r->sync_seen = token;
		pthread_cond_broadcast(&r->changed);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Runs on the network thread: copy, stamp, queue; no parsing, no disk. */
static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct recorder *r = obj;
	size_t size = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	size_t keep = size < r->opts.max_payload ? size : r->opts.max_payload;
	struct recorder_msg *m;

	(void)mosq;
	/* Ours, not the fleet's: neither received nor stored. */
	if (strcmp(msg->topic, r->sync_topic) == 0) {
		sync_marker(r, msg);
		return;
	}
	if (r->opts.on_command) {
		char id[RECORDER_ID_MAX + 1];

		if (recorder__db_command_device(r->opts.topics, msg->topic, id))
			r->opts.on_command(r->opts.command_ctx, id, msg->payload, size);
	}
	m = msg_new(RECORDER_MSG_MQTT, msg->topic, msg->payload, keep, size);
	if (!m) {
		pthread_mutex_lock(&r->lock);
		r->st.dropped++;
		pthread_mutex_unlock(&r->lock);
		return;
	}
	m->retained = msg->retain;
	enqueue(r, m, true);
}

/*
 * The network loop. mosquitto_loop_start() is not used: its thread never
 * retries when the very first connection attempt fails, and a recorder
 * started a moment before its broker must keep trying.
 */
static bool net_done(struct recorder *r)
{
	bool done;

	pthread_mutex_lock(&r->lock);
	done = r->net_stop && (!r->st.connected || passed(&r->net_stop_by));
	pthread_mutex_unlock(&r->lock);
	return done;
}

static void *net_main(void *arg)
{
	struct recorder *r = arg;
	int rc = r->first_connect;
	int err = r->first_errno;       /* errno is per thread: carried over from the caller's */
	bool reported = false, stopping;

	for (;;) {
		if (rc == MOSQ_ERR_SUCCESS) {
			/* The timeout only bounds how late a stop is noticed:
			 * mosquitto_disconnect() wakes the loop at once. */
			do
				rc = mosquitto_loop(r->mosq, 1000, 1);
			while (rc == MOSQ_ERR_SUCCESS && !net_done(r));
			err = errno;
		}
		if (net_done(r))
			break;
		pthread_mutex_lock(&r->lock);
		if (r->st.connects)
			reported = true;
		pthread_mutex_unlock(&r->lock);
		if (!reported)
			logf_(r, "broker not reachable yet (%s); retrying every second",
			      rc == MOSQ_ERR_ERRNO ? strerror(err) : mosquitto_strerror(rc));
		reported = true;
		pthread_mutex_lock(&r->lock);
		if (!r->net_stop) {
			struct timespec retry = deadline_in(1000);
			pthread_cond_timedwait(&r->net_wake, &r->lock, &retry);
		}
		pthread_mutex_unlock(&r->lock);
		pthread_mutex_lock(&r->conn_lock);
		pthread_mutex_lock(&r->lock);
		stopping = r->net_stop;
		pthread_mutex_unlock(&r->lock);
		if (!stopping) {
			rc = mosquitto_reconnect_async(r->mosq);
			err = errno;
		}
		pthread_mutex_unlock(&r->conn_lock);
		if (stopping)
			break;
	}
	return NULL;
}

int recorder_note_alert(struct recorder *r, const struct recorder_alert *a)
{
	char text[512], value[32] = "";
	int n;
	size_t len;
	struct recorder_msg *m;

	if (!isnan(a->value))
		snprintf(value, sizeof(value), "%.17g", a->value);
	n = snprintf(text, sizeof(text), "%s\n%s\n%s\n%s\n%.17g\n%lld\n%lld\n%lld", a->rule,
		     a->state, a->metric ? a->metric : "", value, a->threshold,
		     (long long)a->crossed_ms, (long long)a->latency_ms, (long long)a->ms);
	len = n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	m = msg_new(RECORDER_MSG_ALERT, a->device_id, text, len, len);
	if (!m)
		return -ENOMEM;
	enqueue(r, m, false);
	return 0;
}

/* ---- writer thread ------------------------------------------------------------ */

/*
 * One transaction's worth of messages. They stay here, in order, until the
 * COMMIT succeeded or the batch was given up: a failed batch is rolled back
 * and written again from its first message, so what a failed attempt did
 * (new readings, duplicates, the hourly, boots and devices upserts) goes
 * with the rollback and is counted once, by the attempt that commits.
 */
struct batch {
	struct recorder_msg *head;
	struct recorder_msg *tail;
	uint64_t messages;      /* everything in it, the recorder's events included */
	uint64_t mqtt;          /* devices' messages among them (broker or recorder_ingest()) */
	size_t bytes;           /* what freeing them gives back to queue_max_bytes */
	bool txn;               /* BEGIN succeeded: the messages so far are written */
	int err;                /* the first failure of this attempt, 0: none yet */
	struct timespec deadline;  /* commit by: batch_ms after its first message */
	struct recorder__counts counts;
};

static int64_t failing_deadline(const struct recorder *r)
{
	return r->opts.store_deadline_ms < FAILING_DEADLINE_MS ? r->opts.store_deadline_ms
							       : FAILING_DEADLINE_MS;
}

/*
 * SQLite's busy handler: another connection holds the lock we need (a
 * sqlite3 shell in BEGIN EXCLUSIVE, another writer). Wait it out, polling
 * at growing intervals, for as long as a failed batch would be retried:
 * store_deadline_ms from the start of the wait, the short deadline while
 * batches are being given up, or the retried batch's own deadline.
 * Returning 0 makes the statement fail with SQLITE_BUSY.
 */
static int busy_wait(void *arg, int calls)
{
	struct recorder *r = arg;
	int64_t now = mono_ms(), until, waited, step;

	(void)calls;
	if (!r->w_lock_waiting) {
		r->w_lock_waiting = true;
		r->w_lock_logged = false;
		r->w_lock_gave_up = false;
		r->w_lock_polls = 0;
		r->w_lock_since_ms = now;
		pthread_mutex_lock(&r->lock);
		r->st.lock_waits++;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
	}
	waited = now - r->w_lock_since_ms;
	until = r->w_retrying ? r->w_give_up_ms
			      : r->w_lock_since_ms + (r->w_failing ? failing_deadline(r)
								   : r->opts.store_deadline_ms);
	pthread_mutex_lock(&r->lock);
	if (waited > r->st.lock_wait_max_ms)
		r->st.lock_wait_max_ms = waited;
	pthread_mutex_unlock(&r->lock);
	if (now >= until) {
		r->w_lock_gave_up = true;
		return 0;
	}
	if (!r->w_lock_logged && waited >= r->opts.lock_log_ms) {
		r->w_lock_logged = true;
		logf_(r, "%s locked by another process for %lld ms; waiting", r->db_name,
		      (long long)waited);
	}
	step = r->w_lock_polls < 7 ? (int64_t)1 << r->w_lock_polls : LOCK_POLL_MAX_MS;
	r->w_lock_polls++;
	sleep_ms(step < until - now ? step : until - now);
	return 1;
}

/* After each SQLite call of the writer: a wait for another connection is over. */
static void lock_wait_end(struct recorder *r)
{
	int64_t waited;

	if (!r->w_lock_waiting)
		return;
	r->w_lock_waiting = false;
	waited = mono_ms() - r->w_lock_since_ms;
	pthread_mutex_lock(&r->lock);
	if (waited > r->st.lock_wait_max_ms)
		r->st.lock_wait_max_ms = waited;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	if (!r->w_lock_logged)
		return;
	if (r->w_lock_gave_up)
		logf_(r, "%s still locked by another process after %lld ms; stopped waiting",
		      r->db_name, (long long)waited);
	else
		logf_(r, "%s lock released after %lld ms", r->db_name, (long long)waited);
}

static int w_begin(struct recorder *r)
{
	int rc = recorder__db_begin(r->db);

	lock_wait_end(r);
	return rc;
}

static int w_store(struct recorder *r, const struct recorder_msg *m, struct recorder__counts *c)
{
	int rc = recorder__db_store(r->db, m, c);

	lock_wait_end(r);
	return rc;
}

static int w_commit(struct recorder *r)
{
	int rc = recorder__db_commit(r->db);

	lock_wait_end(r);
	return rc;
}

static void w_rollback(struct recorder *r)
{
	recorder__db_rollback(r->db);
	lock_wait_end(r);
}

/* "1 message", "2 messages": the log counts things. */
static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Count a failed statement or commit; returns how many there were so far. */
static uint64_t count_db_error(struct recorder *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = ++r->st.db_errors;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* The log reports the first failures in full, then samples them. */
static bool log_sampled(uint64_t n)
{
	return n <= LOG_ERRORS_FIRST || n % LOG_ERRORS_EVERY == 0;
}

/* Take @m into the batch and write it into the batch's transaction. */
static void batch_add(struct recorder *r, struct batch *b, struct recorder_msg *m)
{
	m->next = NULL;
	if (b->tail) {
		b->tail->next = m;
	} else {
		b->head = m;
		b->deadline = deadline_in(r->opts.batch_ms);
		recorder__notes_clear(&r->w_notes);
	}
	b->tail = m;
	b->messages++;
	b->mqtt += from_device(m);
	b->bytes += msg_bytes(m);
	if (b->err)
		return;
	if (!b->txn) {
		b->err = w_begin(r);
		b->txn = b->err == 0;
	}
	if (!b->err)
		b->err = w_store(r, m, &b->counts);
}

/* Write the whole batch again, from scratch, in a transaction of its own. */
static int batch_write(struct recorder *r, struct batch *b)
{
	int rc;

	memset(&b->counts, 0, sizeof(b->counts));
	recorder__notes_clear(&r->w_notes);
	if ((rc = w_begin(r)) < 0)
		return rc;
	for (const struct recorder_msg *m = b->head; m && rc == 0; m = m->next)
		rc = w_store(r, m, &b->counts);
	if (rc == 0)
		rc = w_commit(r);
	return rc;
}

/*
 * The batch failed with @err, its transaction not rolled back yet. Roll
 * back and write it again, waiting 50 ms, then twice as long each time up
 * to 2 s, until it commits (returns 0) or its deadline has passed (returns
 * @err, the first cause, described in @cause). The deadline is
 * store_deadline_ms after the first failure, or after the start of the
 * lock wait that ended in it; while batches are being given up, it is
 * FAILING_DEADLINE_MS: one more try. *@since_ms is when the trouble began.
 */
static int batch_retry(struct recorder *r, struct batch *b, int err, char *cause, size_t causelen,
		       int64_t *since_ms)
{
	int64_t start = mono_ms(), now, delay = RETRY_FIRST_MS;
	int64_t span = r->w_failing ? failing_deadline(r) : r->opts.store_deadline_ms;
	uint64_t retries = 0, n = count_db_error(r);
	bool logged = log_sampled(n) && !r->w_failing;
	int rc = err;

	snprintf(cause, causelen, "%s", recorder__db_cause(r->db));
	if (err == -EBUSY && r->w_lock_gave_up)
		start = r->w_lock_since_ms;
	*since_ms = start;
	r->w_retrying = true;
	r->w_give_up_ms = start + span;
	/* A lock waited out to the deadline is given up at once: the give-up
	 * says so, and why. */
	logged = logged && r->w_give_up_ms > mono_ms();
	if (logged)
		logf_(r, "%s: writing %llu message%s failed (error %llu): %s; retrying for up to %lld ms",
		      r->db_name, (unsigned long long)b->messages, plural(b->messages),
		      (unsigned long long)n, recorder__db_error(r->db),
		      (long long)(r->w_give_up_ms - mono_ms()));
	for (;;) {
		r->w_lock_gave_up = false;
		w_rollback(r);
		now = mono_ms();
		if (now >= r->w_give_up_ms)
			break;
		sleep_ms(delay < r->w_give_up_ms - now ? delay : r->w_give_up_ms - now);
		delay = delay * 2 < RETRY_MAX_MS ? delay * 2 : RETRY_MAX_MS;
		retries++;
		pthread_mutex_lock(&r->lock);
		r->st.write_retries++;
		pthread_mutex_unlock(&r->lock);
		if ((rc = batch_write(r, b)) == 0)
			break;
		count_db_error(r);
	}
	r->w_retrying = false;
	r->w_lock_gave_up = false;
	if (rc == 0 && logged)
		logf_(r, "%s: the %llu message%s stored after %llu retr%s (%lld ms)", r->db_name,
		      (unsigned long long)b->messages, plural(b->messages),
		      (unsigned long long)retries, retries == 1 ? "y" : "ies",
		      (long long)(mono_ms() - start));
	return rc == 0 ? 0 : err;
}

/* The first commit after batches were given up: say how many, in the log and the record. */
static void store_recovered(struct recorder *r)
{
	char detail[320];
	int64_t ms = mono_ms() - r->w_failing_since_ms;

	r->w_failing = false;
	logf_(r, "%s: writing again after %lld ms; %llu message%s (%llu reading%s) received in "
	      "between were not stored: %s", r->db_name, (long long)ms,
	      (unsigned long long)r->w_fail_msgs, plural(r->w_fail_msgs),
	      (unsigned long long)r->w_fail_readings, plural(r->w_fail_readings), r->w_fail_cause);
	snprintf(detail, sizeof(detail), "%llu message%s (%llu reading%s) over %lld ms: %s",
		 (unsigned long long)r->w_fail_msgs, plural(r->w_fail_msgs),
		 (unsigned long long)r->w_fail_readings, plural(r->w_fail_readings), (long long)ms,
		 r->w_fail_cause);
	note_event(r, "unstored", detail);
}

static void batch_stored(struct recorder *r, const struct batch *b)
{
	struct recorder_stats *st = &r->st;

	pthread_mutex_lock(&r->lock);
	st->stored += b->mqtt;
	st->transactions++;
	st->readings += b->counts.readings;
	st->duplicates += b->counts.duplicates;
	st->conflicts += b->counts.conflicts;
	st->rejected += b->counts.rejected;
	st->statuses += b->counts.statuses;
	st->metrics += b->counts.metrics;
	st->commands += b->counts.commands;
	pthread_mutex_unlock(&r->lock);
	if (r->w_failing)
		store_recovered(r);
}

/* Given up: count the batch's broker messages as unstored, with the cause. */
static void batch_unstored(struct recorder *r, const struct batch *b, int err, const char *cause,
			   int64_t since_ms)
{
	uint64_t readings = 0;
	int64_t now = mono_ms();

	for (const struct recorder_msg *m = b->head; m; m = m->next)
		readings += from_device(m) && recorder__db_is_data_topic(m->topic);
	pthread_mutex_lock(&r->lock);
	r->st.unstored += b->mqtt;
	r->st.unstored_readings += readings;
	if (!r->st.store_errno) {
		r->st.store_errno = err;
		snprintf(r->st.store_error, sizeof(r->st.store_error), "%s", cause);
	}
	pthread_mutex_unlock(&r->lock);
	if (!r->w_failing) {
		r->w_failing = true;
		r->w_failing_since_ms = since_ms;
		r->w_fail_msgs = r->w_fail_readings = 0;
		r->w_log_msgs = 0;
		r->w_log_next_ms = now + FAILING_LOG_MS;
		snprintf(r->w_fail_cause, sizeof(r->w_fail_cause), "%s", cause);
		logf_(r, "%s: gave up on %llu message%s (%llu reading%s%s) after %lld ms: %s (%s); "
		      "counted as unstored", r->db_name, (unsigned long long)b->mqtt, plural(b->mqtt),
		      (unsigned long long)readings, plural(readings),
		      b->messages > b->mqtt ? ", and the recorder's own events with them" : "",
		      (long long)(now - since_ms), cause, strerror(-err));
	} else {
		r->w_log_msgs += b->mqtt;
		if (now >= r->w_log_next_ms && r->w_log_msgs) {
			logf_(r, "%s: still failing (%s): %llu more message%s not stored",
			      r->db_name, cause, (unsigned long long)r->w_log_msgs,
			      plural(r->w_log_msgs));
			r->w_log_msgs = 0;
			r->w_log_next_ms = now + FAILING_LOG_MS;
		}
	}
	r->w_fail_msgs += b->mqtt;
	r->w_fail_readings += readings;
}

/* Commit the batch, writing it again while that fails, then free its messages. */
static void batch_finish(struct recorder *r, struct batch *b)
{
	char cause[160] = "";
	int64_t since_ms = 0;
	int err = b->err;

	if (!err)
		err = w_commit(r);
	if (err)
		err = batch_retry(r, b, err, cause, sizeof(cause), &since_ms);
	if (err) {
		batch_unstored(r, b, err, cause, since_ms);
		recorder__notes_clear(&r->w_notes);
	} else {
		batch_stored(r, b);
		if (r->opts.on_reading)
			recorder__notes_deliver(&r->w_notes, r->opts.on_reading,
						r->opts.on_reading_ctx);
	}
	while (b->head) {
		struct recorder_msg *m = b->head;

		b->head = m->next;
		/* Only now may the sender hear it is stored (or that it is not). */
		if (m->on_stored)
			m->on_stored(m->ctx, err);
		free(m);
	}
	pthread_mutex_lock(&r->lock);
	r->queued_bytes -= b->bytes;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	memset(b, 0, sizeof(*b));
}

static void *writer_main(void *arg)
{
	struct recorder *r = arg;
	struct batch b;

	memset(&b, 0, sizeof(b));
	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct recorder_msg *list;
		uint64_t want;
		bool flushing, quit, short_of_memory;

		/* With a batch open, what arrives waits in the queue until the
		 * batch is due or full (enqueue() says when), so that the writer
		 * wakes once a batch period rather than once a message. */
		while (!r->quit && r->flush_want == r->flush_done &&
		       !(r->memory_wait && (b.messages || r->head))) {
			if (!b.messages) {
				if (r->head)
					break;
				r->w_idle = true;
				pthread_cond_wait(&r->work, &r->lock);
				r->w_idle = false;
				continue;
			}
			if (b.messages + r->st.queued >= (uint64_t)r->opts.batch_rows)
				break;
			r->w_open = b.messages;
			if (pthread_cond_timedwait(&r->work, &r->lock, &b.deadline) == ETIMEDOUT)
				break;
		}
		r->w_open = 0;
		r->w_kicked = false;
		list = r->head;
		r->head = r->tail = NULL;
		r->st.queued = 0;
		want = r->flush_want;
		flushing = want != r->flush_done;
		quit = r->quit;
		short_of_memory = r->memory_wait;
		pthread_mutex_unlock(&r->lock);

		/* After a failure the rest of what was taken joins the batch
		 * unwritten: the retries write it all, in order. */
		while (list) {
			struct recorder_msg *m = list;

			list = m->next;
			batch_add(r, &b, m);
			if (b.messages >= (uint64_t)r->opts.batch_rows || (b.err && !list))
				batch_finish(r, &b);
		}
		if (b.messages && (flushing || quit || short_of_memory || passed(&b.deadline)))
			batch_finish(r, &b);

		pthread_mutex_lock(&r->lock);
		if (flushing && !b.messages)
			r->flush_done = want;
		pthread_cond_broadcast(&r->changed);
		if (quit && !r->head && !b.messages)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- public API ----------------------------------------------------------------- */

static void destroy(struct recorder *r)
{
	char err[300];

	if (r->writer_running) {
		pthread_mutex_lock(&r->lock);
		r->quit = true;
		pthread_cond_signal(&r->work);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->writer, NULL);
	}
	/* The writer drained the queue before it quit; this is only for a
	 * failed open. */
	while (r->head) {
		struct recorder_msg *m = r->head;
		r->head = m->next;
		free(m);
	}
	if (r->db && recorder__db_close(r->db, err, sizeof(err)) < 0)
		logf_(r, "%s; %s-wal holds the rest of the record: keep it with %s", err, r->db_name,
		      r->db_name);
	if (r->lib_init)
		mosquitto_lib_cleanup();
	if (r->sync_init) {
		pthread_cond_destroy(&r->net_wake);
		pthread_cond_destroy(&r->changed);
		pthread_cond_destroy(&r->work);
		pthread_mutex_destroy(&r->lock);
		pthread_mutex_destroy(&r->conn_lock);
	}
	free(r->db_path);
	free(r->client_id);
	free(r->topic);
	if (r->own_filters)
		for (size_t i = 0; r->own_filters[i]; i++)
			free(r->own_filters[i]);
	free(r->own_filters);
	free(r->subs);
	free(r->sync_topic);
	free(r->sqlite_vfs);
	recorder__notes_free(&r->w_notes);
	free(r);
}

static int asprintf_(char **out, const char *fmt, const char *arg)
{
	int n = snprintf(NULL, 0, fmt, arg);

	*out = n < 0 ? NULL : malloc((size_t)n + 1);
	if (!*out)
		return -ENOMEM;
	snprintf(*out, (size_t)n + 1, fmt, arg);
	return 0;
}

/* 16 hex digits that differ between processes and between recorders of one. */
static void make_nonce(struct recorder *r)
{
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)getpid() << 40 ^ (uint64_t)(uintptr_t)r;
	/* splitmix64's finaliser: every input bit moves every output bit. */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	snprintf(r->sync_nonce, sizeof(r->sync_nonce), "%016llx", (unsigned long long)x);
}

int recorder_open(const struct recorder_opts *opts, struct recorder **out)
{
	struct recorder *r;
	pthread_condattr_t ca;
	char err[512];
	int rc;

	*out = NULL;
	if (!opts || !opts->db_path || !*opts->db_path || !opts->client_id || !*opts->client_id)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->opts = *opts;
	if (!r->opts.log)
		r->opts.log = log_default;
	if (r->opts.keepalive_s <= 0)
		r->opts.keepalive_s = 30;
	if (r->opts.batch_ms <= 0)
		r->opts.batch_ms = 250;
	if (r->opts.batch_rows <= 0)
		r->opts.batch_rows = 5000;
	if (r->opts.queue_soft_max == 0)
		r->opts.queue_soft_max = 65536;
	if (r->opts.queue_max_bytes == 0)
		r->opts.queue_max_bytes = (size_t)256 << 20;
	if (r->opts.max_payload == 0)
		r->opts.max_payload = 65536;
	/* SQLite takes lengths as int; nothing near this is a reading. */
	if (r->opts.max_payload > (size_t)1 << 28)
		r->opts.max_payload = (size_t)1 << 28;
	if (r->opts.store_deadline_ms <= 0)
		r->opts.store_deadline_ms = 30000;
	if (r->opts.lock_log_ms <= 0)
		r->opts.lock_log_ms = 1000;
	r->db_path = strdup(opts->db_path);
	r->client_id = strdup(opts->client_id);
	r->topic = strdup(opts->topic ? opts->topic : "sensors/#");
	r->sqlite_vfs = opts->sqlite_vfs ? strdup(opts->sqlite_vfs) : NULL;
	if (asprintf_(&r->sync_topic, "robofleet/recorder/%s/sync", opts->client_id) < 0 ||
	    !r->db_path || !r->client_id || !r->topic || (opts->sqlite_vfs && !r->sqlite_vfs)) {
		rc = -ENOMEM;
		goto fail;
	}
	if (opts->filters) {
		size_t n = 0;

		while (opts->filters[n])
			n++;
		r->own_filters = calloc(n + 1, sizeof(*r->own_filters));
		r->subs = calloc(n + 2, sizeof(*r->subs));
		if (!r->own_filters || !r->subs) {
			rc = -ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < n; i++)
			if (!(r->own_filters[i] = r->subs[i] = strdup(opts->filters[i]))) {
				rc = -ENOMEM;
				goto fail;
			}
		r->n_subs = (int)n + 1;
	} else if (opts->topics) {
		int n = topic_map_filters(opts->topics, r->topic, NULL, 0);
		const char **filters;

		if (n < 0 || !(filters = calloc((size_t)n + 1, sizeof(*filters)))) {
			rc = -ENOMEM;
			goto fail;
		}
		topic_map_filters(opts->topics, r->topic, filters, (size_t)n);
		r->subs = calloc((size_t)n + 2, sizeof(*r->subs));
		if (r->subs)
			for (int i = 0; i < n; i++)
				r->subs[1 + i] = (char *)filters[i];
		free(filters);
		r->n_subs = n + 2;
	} else {
		r->subs = calloc(2, sizeof(*r->subs));
		r->n_subs = 2;
	}
	if (!r->subs) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!opts->filters)
		r->subs[0] = r->topic;
	r->subs[r->n_subs - 1] = r->sync_topic;
	r->opts.db_path = r->db_path;
	r->opts.client_id = r->client_id;
	r->opts.topic = r->topic;
	r->opts.sqlite_vfs = r->sqlite_vfs;
	r->db_name = strrchr(r->db_path, '/') ? strrchr(r->db_path, '/') + 1 : r->db_path;
	make_nonce(r);

	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->conn_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->work, &ca);
	pthread_cond_init(&r->changed, &ca);
	pthread_cond_init(&r->net_wake, &ca);
	pthread_condattr_destroy(&ca);
	r->sync_init = true;

	rc = recorder__db_open(r->db_path, r->sqlite_vfs, busy_wait, r, &r->db, err, sizeof(err));
	lock_wait_end(r);
	if (err[0])
		logf_(r, "%s", err);
	if (rc < 0)
		goto fail;
	if (opts->topics)
		recorder__db_set_topics(r->db, opts->topics);
	if (opts->on_reading)
		recorder__db_on_reading(r->db, recorder__notes_add, &r->w_notes);
	mosquitto_lib_init();
	r->lib_init = true;
	rc = -pthread_create(&r->writer, NULL, writer_main, r);
	if (rc < 0)
		goto fail;
	r->writer_running = true;
	note_event(r, "open", r->client_id);
	*out = r;
	return 0;
fail:
	destroy(r);
	return rc;
}

static int mosq_errno(int rc)
{
	switch (rc) {
	case MOSQ_ERR_NOMEM:  return -ENOMEM;
	case MOSQ_ERR_INVAL:  return -EINVAL;
	case MOSQ_ERR_EAI:    return -EHOSTUNREACH;
	case MOSQ_ERR_ERRNO:  return errno ? -errno : -EIO;
	default:              return -EIO;
	}
}

int recorder_start(struct recorder *r, const char *host, int port)
{
	struct mosquitto *m;
	int rc;

	if (r->mosq)
		return -EALREADY;
	m = mosquitto_new(r->client_id, false, r);
	if (!m)
		return errno == EINVAL ? -EINVAL : -ENOMEM;
	/* Two threads use the handle: ours for the loop, the caller's to stop it. */
	mosquitto_threaded_set(m, true);
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_with_flags_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_disconnect_callback_set(m, on_disconnect);
	mosquitto_message_callback_set(m, on_message);
	if (r->opts.username &&
	    (rc = mosquitto_username_pw_set(m, r->opts.username, r->opts.password)) != MOSQ_ERR_SUCCESS) {
		rc = mosq_errno(rc);
		goto fail;
	}
	if ((rc = mqtt_auth_apply(m, r->opts.auth)) < 0)
		goto fail;
	/* A refused connection (broker not up yet) is retried by the thread;
	 * a bad host or argument is the caller's to hear about. */
	rc = mosquitto_connect_async(m, host, port, r->opts.keepalive_s);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO) {
		rc = mosq_errno(rc);
		goto fail;
	}
	r->first_connect = rc;
	r->first_errno = errno;
	r->mosq = m;
	pthread_mutex_lock(&r->lock);
	r->net_stop = false;
	r->net_running = true;
	pthread_mutex_unlock(&r->lock);
	rc = -pthread_create(&r->net, NULL, net_main, r);
	if (rc < 0) {
		r->mosq = NULL;
		goto fail;
	}
	return 0;
fail:
	mosquitto_destroy(m);
	return rc;
}

int recorder_stop(struct recorder *r)
{
	struct mosquitto *m;

	if (!r->mosq)
		return recorder_flush(r, 10000);
	/* DISCONNECT first: from here on the broker queues for our session
	 * instead of sending, so draining the queue below loses nothing. */
	pthread_mutex_lock(&r->lock);
	r->net_stop = true;
	r->net_running = false;
	r->net_stop_by = deadline_in(2000);
	pthread_cond_signal(&r->net_wake);
	pthread_cond_broadcast(&r->changed); /* a recorder_sync() waiting gives up */
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_lock(&r->conn_lock);
	mosquitto_disconnect(r->mosq);
	pthread_mutex_unlock(&r->conn_lock);
	pthread_join(r->net, NULL);
	pthread_mutex_lock(&r->conn_lock);
	m = r->mosq;
	r->mosq = NULL;         /* a recorder_sync() from now on finds no connection */
	pthread_mutex_unlock(&r->conn_lock);
	mosquitto_destroy(m);
	mark_disconnected(r);
	return recorder_flush(r, 10000);
}

void recorder_close(struct recorder *r)
{
	if (!r)
		return;
	if (recorder_stop(r) < 0)
		logf_(r, "close: writer still busy after 10 s; waiting for it");
	note_event(r, "close", NULL);
	destroy(r);
}

int recorder_flush(struct recorder *r, int timeout_ms)
{
	struct timespec until = deadline_in(timeout_ms);
	uint64_t mine;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	mine = ++r->flush_want;
	pthread_cond_signal(&r->work);
	while (r->flush_done < mine && rc == 0)
		if (pthread_cond_timedwait(&r->changed, &r->lock, &until) == ETIMEDOUT &&
		    r->flush_done < mine)
			rc = -ETIMEDOUT;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/*
 * Why a marker suffices: mosquitto delivers to one subscriber in the order
 * it accepted the messages, our own among them, so once our marker is back
 * every message the broker accepted before it has reached on_message(),
 * and so the queue; the flush then commits them (or counts them unstored).
 *
 * recorder_sync() and recorder_drain(): the marker must come back before
 * @stall_ms pass without a message received (a recorder that still takes
 * messages is behind, not stuck) and before @max_ms in all.
 */
static int sync_through(struct recorder *r, int stall_ms, int max_ms)
{
	struct timespec until = deadline_in(max_ms), stall;
	char payload[64];
	uint64_t token = 0, received;
	int rc = 0, n;

	pthread_mutex_lock(&r->lock);
	/* A subscription to the sync topic is asked for at every connect. While
	 * the network thread reconnects (a broker restart), wait for it: what
	 * the broker holds for our session comes after the reconnect. */
	stall = deadline_in(stall_ms < max_ms ? stall_ms : max_ms);
	while (r->net_running && !(r->st.connected && r->sync_ready) && rc == 0)
		if (pthread_cond_timedwait(&r->changed, &r->lock, &stall) == ETIMEDOUT &&
		    !(r->st.connected && r->sync_ready))
			rc = -ETIMEDOUT;
	if (rc == 0 && !r->st.connected)
		rc = -ENOTCONN;
	if (rc == 0)
		token = ++r->sync_sent;
	received = r->st.received;
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		return rc;

	n = snprintf(payload, sizeof(payload), "%s %llu", r->sync_nonce, (unsigned long long)token);
	pthread_mutex_lock(&r->conn_lock);
	rc = r->mosq ? mosquitto_publish(r->mosq, NULL, r->sync_topic, n, payload, 1, false)
		     : MOSQ_ERR_NO_CONN;
	pthread_mutex_unlock(&r->conn_lock);
	if (rc != MOSQ_ERR_SUCCESS)
		return rc == MOSQ_ERR_NO_CONN ? -ENOTCONN : mosq_errno(rc);

	pthread_mutex_lock(&r->lock);
	stall = deadline_in(stall_ms);
	/* A stop that disconnects meanwhile ends the wait: the marker cannot come. */
	while (r->sync_seen < token && r->net_running && rc == 0) {
		const struct timespec *wake = ms_left(&until) < ms_left(&stall) ? &until : &stall;

		if (pthread_cond_timedwait(&r->changed, &r->lock, wake) != ETIMEDOUT ||
		    r->sync_seen >= token)
			continue;
		if (passed(&until)) {
			rc = -ETIMEDOUT;
		} else if (r->st.received != received) {
			received = r->st.received; /* still moving: another stall_ms */
			stall = deadline_in(stall_ms);
		} else if (passed(&stall)) {
			rc = -ETIMEDOUT;
		}
	}
	if (rc == 0 && r->sync_seen < token)
		rc = -ENOTCONN;
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		return rc;
	return recorder_flush(r, ms_left(&until));
}

int recorder_sync(struct recorder *r, int timeout_ms)
{
	return sync_through(r, timeout_ms, timeout_ms);
}

int recorder_drain(struct recorder *r, int stall_ms, int max_ms)
{
	return sync_through(r, stall_ms, max_ms);
}

int recorder_ingest(struct recorder *r, const char *topic, const void *payload, size_t len,
		    const char *reject, void (*on_stored)(void *ctx, int err), void *ctx)
{
	size_t keep = len < r->opts.max_payload ? len : r->opts.max_payload;
	size_t rlen = reject ? strlen(reject) + 1 : 0;
	struct recorder_msg *m;

	/* The sender is still there to be told: better than a row cut short. */
	if (len > r->opts.max_payload && !reject)
		return -EMSGSIZE;
	m = msg_new_extra(RECORDER_MSG_HTTP, topic, payload, keep, len, rlen);
	if (!m) {
		pthread_mutex_lock(&r->lock);
		r->st.dropped++;
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	if (reject) {
		char *copy = m->topic + strlen(m->topic) + 1;

		memcpy(copy, reject, rlen);
		m->reason = copy;
	}
	m->on_stored = on_stored;
	m->ctx = ctx;
	/* The caller is a server thread: it answers later instead of waiting. */
	enqueue(r, m, false);
	return 0;
}

void recorder_read_stats(struct recorder *r, struct recorder_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}

int recorder_wait_stats(struct recorder *r, bool (*pred)(const struct recorder_stats *s, void *arg),
			void *arg, int timeout_ms)
{
	struct timespec until = deadline_in(timeout_ms);
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	while (!pred(&r->st, arg) && rc == 0)
		if (pthread_cond_timedwait(&r->changed, &r->lock, &until) == ETIMEDOUT &&
		    !pred(&r->st, arg))
			rc = -ETIMEDOUT;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static bool is_subscribed(const struct recorder_stats *s, void *arg)
{
	(void)arg;
	return s->subscribed;
}

int recorder_wait_subscribed(struct recorder *r, int timeout_ms)
{
	return recorder_wait_stats(r, is_subscribed, NULL, timeout_ms);
}

static bool has_received(const struct recorder_stats *s, void *arg)
{
	return s->received >= *(const uint64_t *)arg;
}

int recorder_wait_received(struct recorder *r, uint64_t count, int timeout_ms)
{
	return recorder_wait_stats(r, has_received, &count, timeout_ms);
}
