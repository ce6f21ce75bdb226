/* The live InfluxDB feed: a thread that follows record.db's readings by id and POSTs them in bounded batches. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "influx.h"
#include "influx_batch.h"
#include "record.h"

/*
 * Why a follower of the record rather than a queue the recorder fills: the
 * recorder's hot path stays exactly as it is (no lock, no copy, no branch),
 * the feed sees only what is committed (so InfluxDB holds what the record
 * holds), and the record itself is the buffer while a batch is on its way.
 * The feed reads its own read-only connection; WAL lets it read while the
 * recorder writes.
 */
struct influx_feed {
	struct influx_feed_opts o;
	char write_url[INFLUX_URL_MAX + 256];
	char auth[512];
	struct record *rec;
	struct influx_batch batch;
	int64_t last_id;
	CURL *curl;
	struct curl_slist *headers;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;              /* under lock */
	int64_t deadline_ms;    /* under lock: monotonic end of the final flush */
	bool full;              /* the last read stopped at the bound */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to @ms or until stop is asked; returns whether stop was asked. */
static bool wait_or_stop(struct influx_feed *f, uint32_t ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	while (!f->stop && pthread_cond_timedwait(&f->wake, &f->lock, &ts) == 0)
		;
	stop = f->stop;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

static bool stopping(struct influx_feed *f, int64_t *deadline)
{
	bool stop;

	pthread_mutex_lock(&f->lock);
	stop = f->stop;
	*deadline = f->deadline_ms;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One POST; true when InfluxDB accepted it (204, or 200 from proxies). */
static bool post(struct influx_feed *f, const char *body, size_t len)
{
	long code = 0;

	curl_easy_setopt(f->curl, CURLOPT_URL, f->write_url);
	curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(f->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (curl_easy_perform(f->curl) != CURLE_OK)
		return false;
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
	return code == 204 || code == 200;
}

/* The batch, tried o.attempts times with doubling backoff, never past the
 * final deadline; then written or counted as dropped. */
static void send_batch(struct influx_feed *f)
{
	const char *body = NULL;
	size_t len = 0;
	uint32_t backoff = 250;
	bool ok = false;
	int64_t deadline;

	if (influx_batch_body(&f->batch, &body, &len) < 0 || !body) {
		influx_batch_done(&f->batch, false); /* no body to send: counted, not lost */
		return;
	}
	for (unsigned a = 0; a < f->o.attempts && !ok; a++) {
		if (a > 0) {
			if (stopping(f, &deadline) && mono_ms() + backoff > deadline)
				break;
			wait_or_stop(f, backoff); /* a stop shortens the wait, not the batch */
			backoff *= 2;
		}
		ok = post(f, body, len);
	}
	influx_batch_done(&f->batch, ok);
}

static void take_row(void *arg, const struct record_export_row *r)
{
	struct influx_feed *f = arg;

	if (f->full)
		return;
	if (influx_batch_add(&f->batch, r) < 0) {
		f->full = true; /* read again from here after the send */
		return;
	}
	f->last_id = r->id;
}

static void drop_row(void *arg, const struct record_export_row *r)
{
	struct influx_feed *f = arg;

	influx_batch_drop(&f->batch, r);
	f->last_id = r->id;
}

/* Read what is committed beyond last_id and send it, batch by batch. Each
 * pass reads at most a batch; @final: until the record's end, and once the
 * deadline has passed, count the rest as dropped instead. */
static void pump(struct influx_feed *f, bool final)
{
	/* A reading carries up to three points; read no more rows than fit. */
	size_t rows = f->o.max_points / RECORD_METRIC_COUNT + 1;
	int64_t deadline, before;

	for (;;) {
		bool stop = stopping(f, &deadline);

		before = f->last_id;
		f->full = false;
		if (final && stop && mono_ms() >= deadline) {
			/* Bounded in count: each pass moves last_id on or ends. */
			if (record_export_readings_after(f->rec, f->last_id, rows, drop_row, f) < 0 ||
			    f->last_id == before)
				return;
			continue;
		}
		if (record_export_readings_after(f->rec, f->last_id, rows, take_row, f) < 0)
			return; /* the record is not there yet or busy: next tick */
		if (f->batch.points)
			send_batch(f);
		if (f->last_id == before || (!f->full && !final))
			return;
		if (!final && stop)
			return;
	}
}

static void *feed_thread(void *arg)
{
	struct influx_feed *f = arg;

	for (;;) {
		bool stop = wait_or_stop(f, f->o.interval_ms);

		pump(f, stop);
		if (stop)
			return NULL;
	}
}

static int ping(const struct influx_url *u, uint32_t timeout_ms, char *why, size_t why_len)
{
	char url[INFLUX_URL_MAX + 16];
	CURL *c;
	CURLcode rc;
	long code = 0;

	if (influx_url_ping(u, url, sizeof(url)) < 0 || !(c = curl_easy_init()))
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(why, why_len, "%s", curl_easy_strerror(rc));
		return -EHOSTUNREACH;
	}
	if (code != 204 && code != 200) {
		snprintf(why, why_len, "/ping answered HTTP %ld", code);
		return -EPROTO;
	}
	return 0;
}

static void feed_free(struct influx_feed *f)
{
	if (f->curl)
		curl_easy_cleanup(f->curl);
	curl_slist_free_all(f->headers);
	record_close(f->rec);
	influx_batch_free(&f->batch);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
	curl_global_cleanup();
}

int influx_feed_start(const struct influx_feed_opts *o, struct influx_feed **out)
{
	struct influx_feed *f;
	struct influx_url u;
	pthread_condattr_t ca;
	char why[256], err[256];
	int rc;

	*out = NULL;
	if (influx_url_parse(o->url, &u, why, sizeof(why)) < 0)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return -ENOMEM;
	if (!(f = calloc(1, sizeof(*f)))) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	f->o = *o;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = influx_url_write_request(&u, &o->target, f->write_url, sizeof(f->write_url),
					   f->auth, sizeof(f->auth))) < 0 ||
	    (rc = influx_batch_init(&f->batch, o->max_points)) < 0)
		goto fail;
	rc = -ENOMEM;
	if (!(f->curl = curl_easy_init()) ||
	    !(f->headers = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8")) ||
	    (f->auth[0] && !curl_slist_append(f->headers, f->auth)))
		goto fail;
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, (long)o->request_timeout_ms);
	curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->request_timeout_ms / 2 + 1));
	curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, discard);
	if (record_open(o->db_path, 1000, &f->rec, err, sizeof(err)) < 0) {
		rc = -EIO;
		goto fail;
	}
	if (ping(&u, o->request_timeout_ms, why, sizeof(why)) < 0)
		fprintf(stderr, "robofleet: warning: InfluxDB at %s does not answer (%s); the run goes on "
			"and counts the points it cannot write\n", o->url, why);
	if ((rc = -pthread_create(&f->thread, NULL, feed_thread, f)) < 0)
		goto fail;
	*out = f;
	return 0;
fail:
	feed_free(f);
	return rc;
}

void influx_feed_stop(struct influx_feed *f, uint32_t flush_ms, struct influx_feed_stats *out)
{
	if (out)
		*out = (struct influx_feed_stats){ 0 };
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	f->deadline_ms = mono_ms() + flush_ms;
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	if (out)
		*out = (struct influx_feed_stats){ f->batch.written, f->batch.dropped,
						   f->batch.failed_batches };
	feed_free(f);
}
