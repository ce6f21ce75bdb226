/*
 * The recorder's moving parts: the libmosquitto subscriber with its own
 * network thread, the queue from that thread to the writer thread, and the
 * writer's batching.
 *
 *   broker --> network thread --(queue, never waits on disk)--> writer --> SQLite
 *              on_message(): copy + stamp            BEGIN .. 250 ms or 5000 rows .. COMMIT
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recorder.h"
#include "recorder_db.h"

/* Errors the log reports in full before it starts sampling them. */
#define LOG_ERRORS_FIRST 10
#define LOG_ERRORS_EVERY 1000

struct recorder {
	struct recorder_opts opts;      /* the caller's, with defaults and owned strings */
	char *db_path;
	char *client_id;
	char *topic;
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
	pthread_mutex_t conn_lock;      /* a reconnect never runs into the stop's disconnect */

	pthread_mutex_t lock;           /* everything below */
	pthread_cond_t work;            /* for the writer: queue, flush or quit */
	pthread_cond_t changed;         /* for waiters: stats, flush done, memory freed */
	pthread_cond_t net_wake;        /* for the net thread between connection attempts */
	bool net_stop;
	struct timespec net_stop_by;    /* give up on a clean DISCONNECT after this */
	struct recorder_msg *head;
	struct recorder_msg *tail;
	size_t queued_bytes;            /* allocated by the network thread, not yet freed by the writer */
	uint64_t flush_want;
	uint64_t flush_done;
	bool quit;
	struct recorder_stats st;
	uint64_t errors_seen;
};

static void log_default(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "recorder: %s\n", msg);
}

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
	return sizeof(*m) + m->len + 1 + strlen(m->topic) + 1;
}

static struct recorder_msg *msg_new(enum recorder_msg_kind kind, const char *topic,
				    const void *payload, size_t keep, size_t size)
{
	size_t tlen = strlen(topic);
	struct recorder_msg *m = malloc(sizeof(*m) + keep + 1 + tlen + 1);

	if (!m)
		return NULL;
	m->next = NULL;
	m->kind = kind;
	m->recv_ms = wall_ms();
	m->retained = false;
	m->size = size;
	m->len = keep;
	if (keep)
		memcpy(m->payload, payload, keep);
	m->payload[keep] = '\0';
	m->topic = (char *)m->payload + keep + 1;
	memcpy(m->topic, topic, tlen + 1);
	return m;
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
		while (r->queued_bytes > 0 && r->queued_bytes + bytes > r->opts.queue_max_bytes &&
		       !r->quit)
			pthread_cond_wait(&r->changed, &r->lock);
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
	if (m->kind == RECORDER_MSG_MQTT)
		r->st.received++;
	pthread_cond_signal(&r->work);
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
	if (!session) {
		rc = mosquitto_subscribe(mosq, NULL, r->topic, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			logf_(r, "subscribe %s: %s", r->topic, mosquitto_strerror(rc));
	}
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted)
{
	struct recorder *r = obj;
	char detail[32];

	(void)mosq;
	(void)mid;
	if (count < 1 || granted[0] > 2) {
		note_event(r, "subscribe refused", r->topic);
		logf_(r, "broker refused the subscription to %s", r->topic);
		return;
	}
	if (granted[0] < 1)
		logf_(r, "broker granted QoS 0 on %s: messages may be lost while disconnected",
		      r->topic);
	snprintf(detail, sizeof(detail), "%s qos %d", r->topic, granted[0]);
	pthread_mutex_lock(&r->lock);
	r->st.subscribed = true;
	r->st.subscriptions++;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	note_event(r, "subscribe", detail);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct recorder *r = obj;

	(void)mosq;
	pthread_mutex_lock(&r->lock);
	r->st.connected = false;
	r->st.subscribed = false;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	note_event(r, "disconnect", rc == 0 ? "requested" : mosquitto_strerror(rc));
}

/* Runs on the network thread: copy, stamp, queue; no parsing, no disk. */
static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct recorder *r = obj;
	size_t size = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	size_t keep = size < r->opts.max_payload ? size : r->opts.max_payload;
	struct recorder_msg *m = msg_new(RECORDER_MSG_MQTT, msg->topic, msg->payload, keep, size);

	(void)mosq;
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

/* ---- writer thread ------------------------------------------------------------ */

struct batch {
	bool open;              /* a transaction is open (or, if !txn, messages await counting) */
	bool txn;               /* BEGIN succeeded */
	struct timespec deadline;
	uint64_t messages;      /* everything stored, the recorder's events included */
	uint64_t mqtt;          /* broker messages among them */
	struct recorder__counts counts;
};

static void log_db_error(struct recorder *r, const char *what)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = ++r->errors_seen;
	pthread_mutex_unlock(&r->lock);
	if (n <= LOG_ERRORS_FIRST || n % LOG_ERRORS_EVERY == 0)
		logf_(r, "%s (error %llu): %s", what, (unsigned long long)n,
		      recorder__db_error(r->db));
}

static void batch_begin(struct recorder *r, struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->open = true;
	b->deadline = deadline_in(r->opts.batch_ms);
	/* Without a transaction every statement commits alone: slow, not lost. */
	b->txn = recorder__db_begin(r->db) == 0;
	if (!b->txn)
		log_db_error(r, "BEGIN failed");
}

/* Commit and publish what the batch did; a failed commit is rolled back. */
static void batch_commit(struct recorder *r, struct batch *b)
{
	bool ok = true;
	struct recorder_stats *st = &r->st;

	if (b->txn && recorder__db_commit(r->db) < 0) {
		log_db_error(r, "COMMIT failed, batch lost");
		recorder__db_rollback(r->db);
		ok = false;
	}
	pthread_mutex_lock(&r->lock);
	st->db_errors += b->counts.db_errors + !ok;
	if (ok) {
		st->stored += b->mqtt;
		st->transactions += b->txn;
		st->readings += b->counts.readings;
		st->duplicates += b->counts.duplicates;
		st->conflicts += b->counts.conflicts;
		st->rejected += b->counts.rejected;
		st->statuses += b->counts.statuses;
		st->metrics += b->counts.metrics;
		st->commands += b->counts.commands;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	b->open = false;
}

static void *writer_main(void *arg)
{
	struct recorder *r = arg;
	struct batch b = { 0 };

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct recorder_msg *list;
		uint64_t want;
		bool flushing, quit;
		size_t freed = 0;

		while (!r->head && !r->quit && r->flush_want == r->flush_done) {
			if (!b.open)
				pthread_cond_wait(&r->work, &r->lock);
			else if (pthread_cond_timedwait(&r->work, &r->lock, &b.deadline) == ETIMEDOUT)
				break;
		}
		list = r->head;
		r->head = r->tail = NULL;
		r->st.queued = 0;
		want = r->flush_want;
		flushing = want != r->flush_done;
		quit = r->quit;
		pthread_mutex_unlock(&r->lock);

		while (list) {
			struct recorder_msg *m = list;

			list = m->next;
			if (!b.open)
				batch_begin(r, &b);
			recorder__db_store(r->db, m, &b.counts);
			b.messages++;
			b.mqtt += m->kind == RECORDER_MSG_MQTT;
			freed += msg_bytes(m);
			free(m);
			if (b.messages >= (uint64_t)r->opts.batch_rows)
				batch_commit(r, &b);
		}
		if (b.open && (flushing || quit || passed(&b.deadline)))
			batch_commit(r, &b);

		pthread_mutex_lock(&r->lock);
		r->queued_bytes -= freed;
		if (flushing && !b.open)
			r->flush_done = want;
		pthread_cond_broadcast(&r->changed);
		if (quit && !r->head && !b.open)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- public API ----------------------------------------------------------------- */

static void destroy(struct recorder *r)
{
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
	recorder__db_close(r->db);
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
	free(r);
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
	r->db_path = strdup(opts->db_path);
	r->client_id = strdup(opts->client_id);
	r->topic = strdup(opts->topic ? opts->topic : "sensors/#");
	if (!r->db_path || !r->client_id || !r->topic) {
		rc = -ENOMEM;
		goto fail;
	}

	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->conn_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->work, &ca);
	pthread_cond_init(&r->changed, &ca);
	pthread_cond_init(&r->net_wake, &ca);
	pthread_condattr_destroy(&ca);
	r->sync_init = true;

	rc = recorder__db_open(r->db_path, &r->db, err, sizeof(err));
	if (err[0])
		logf_(r, "%s", err);
	if (rc < 0)
		goto fail;
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
	if (!r->mosq)
		return recorder_flush(r, 10000);
	/* DISCONNECT first: from here on the broker queues for our session
	 * instead of sending, so draining the queue below loses nothing. */
	pthread_mutex_lock(&r->lock);
	r->net_stop = true;
	r->net_stop_by = deadline_in(2000);
	pthread_cond_signal(&r->net_wake);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_lock(&r->conn_lock);
	mosquitto_disconnect(r->mosq);
	pthread_mutex_unlock(&r->conn_lock);
	pthread_join(r->net, NULL);
	mosquitto_destroy(r->mosq);
	r->mosq = NULL;
	pthread_mutex_lock(&r->lock);
	r->st.connected = false;
	r->st.subscribed = false;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
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
