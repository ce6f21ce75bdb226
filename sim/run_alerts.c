/* `robofleet run`: the scenario's alert rules, fed by the recorder, and what a raised or cleared alert does. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "recorder.h"
#include "run_internal.h"
#include "summary_md.h"

/* missing_for is judged this often (arrival clock). */
#define ALERTS_TICK_MS 250

/* Under alerts_lock: publish, record and tally one raise or clear. */
static void on_alert(void *ctx, const struct alert_event *ev)
{
	struct run *r = ctx;
	const struct scenario_alert *al = &r->sc.alerts[ev->rule];
	const char *id = r->sc.fleet.devices[ev->dev].id;
	const char *state = ev->raised ? "raised" : "cleared";
	const char *metric = al->metric_set ? scenario_metric_name(al->metric) : NULL;
	struct run_alert_tally *t = &r->alert_tally[ev->rule];
	char topic[128], body[512], value[32] = "null", metric_json[40] = "null";
	struct recorder_alert row = {
		.device_id = id, .rule = al->name, .state = state, .metric = metric,
		.value = ev->value, .threshold = ev->threshold, .ms = ev->at_ms,
		.crossed_ms = ev->crossed_ms, .latency_ms = ev->latency_ms,
	};
	int n;

	if (ev->raised) {
		t->raised++;
		if (ev->latency_ms > t->latency_max_ms)
			t->latency_max_ms = ev->latency_ms;
	} else {
		t->cleared++;
	}
	if (!isnan(ev->value))
		snprintf(value, sizeof(value), "%.6g", ev->value);
	if (metric)
		snprintf(metric_json, sizeof(metric_json), "\"%s\"", metric);
	/* Rule names and ids are word characters (the parser checks): no escaping needed. */
	n = snprintf(body, sizeof(body), "{\"state\":\"%s\",\"rule\":\"%s\",\"device_id\":\"%s\","
		     "\"metric\":%s,\"value\":%s,\"threshold\":%.6g,\"crossed_ms\":%lld,"
		     "\"%s_ms\":%lld,\"latency_ms\":%lld}", state, al->name, id, metric_json, value,
		     ev->threshold, (long long)ev->crossed_ms, state, (long long)ev->at_ms,
		     (long long)ev->latency_ms);
	snprintf(topic, sizeof(topic), "alerts/%s/%s", id, al->name);
	/* Retained: a cloud application that subscribes later sees the state. */
	if (r->cloud && n > 0 &&
	    mosquitto_publish(r->cloud, NULL, topic, n, body, 1, true) != MOSQ_ERR_SUCCESS)
		r->alerts_unpublished++;
	if (r->recorder && recorder_note_alert(r->recorder, &row) < 0)
		r->alerts_unrecorded++;
}

/* The recorder's writer thread, once a reading's batch committed. */
static void on_reading(void *ctx, const struct recorder_reading_note *n)
{
	struct run *r = ctx;
	long dev = scenario_device_find(&r->sc, n->device_id);
	struct alert_reading rd = {
		.device_ms = n->has_timestamp ? n->timestamp_ms : n->recv_ms,
		.arrival_ms = n->recv_ms,
		.has = { n->has_temperature, n->has_humidity, n->has_distance },
		.value = { n->temperature, n->humidity, n->distance },
	};

	if (dev < 0)
		return; /* not one of the fleet's devices */
	pthread_mutex_lock(&r->alerts_lock);
	if (r->alerts_on)
		alerts_reading(&r->alerts, (size_t)dev, &rd);
	pthread_mutex_unlock(&r->alerts_lock);
}

int run__alerts_prepare(struct run *r, struct recorder_opts *ro)
{
	if (!r->sc.n_alerts)
		return 0;
	r->alert_tally = calloc(r->sc.n_alerts, sizeof(*r->alert_tally));
	if (!r->alert_tally)
		return -ENOMEM;
	for (size_t i = 0; i < r->sc.n_alerts; i++)
		r->alert_tally[i].latency_max_ms = -1;
	pthread_mutex_init(&r->alerts_lock, NULL);
	r->alerts_lock_init = true;
	ro->on_reading = on_reading;
	ro->on_reading_ctx = r;
	return 0;
}

int run__alerts_start(struct run *r)
{
	int rc;

	if (!r->alerts_lock_init)
		return 0;
	pthread_mutex_lock(&r->alerts_lock);
	rc = alerts_init(&r->alerts, &r->sc, r->owned, run__wall_ms(), on_alert, r);
	r->alerts_on = rc == 0;
	pthread_mutex_unlock(&r->alerts_lock);
	return rc;
}

void run__alerts_tick(struct run *r)
{
	int64_t now = run__wall_ms();

	if (!r->alerts_lock_init || now - r->alerts_ticked_ms < ALERTS_TICK_MS)
		return;
	r->alerts_ticked_ms = now;
	pthread_mutex_lock(&r->alerts_lock);
	if (r->alerts_on)
		alerts_tick(&r->alerts, now);
	pthread_mutex_unlock(&r->alerts_lock);
}

int run__alert_state(void *ctx, size_t dev, size_t rule, enum scenario_alert_state *out)
{
	struct run *r = ctx;

	*out = SCENARIO_ALERT_NONE;
	if (!r->alerts_lock_init)
		return 0;
	/* Readings the broker took are judged only once recorded: settle
	 * first, as the record's probes do. */
	run__settle(r);
	pthread_mutex_lock(&r->alerts_lock);
	*out = alerts_state(&r->alerts, rule, dev);
	pthread_mutex_unlock(&r->alerts_lock);
	return 0;
}

void run__alerts_free(struct run *r)
{
	if (!r->alerts_lock_init)
		return;
	/* After recorder_close(): no writer thread calls in any more. */
	alerts_free(&r->alerts);
	r->alerts_on = false;
	pthread_mutex_destroy(&r->alerts_lock);
	r->alerts_lock_init = false;
	free(r->alert_tally);
	r->alert_tally = NULL;
}

void run__alerts_print(FILE *out, const struct run *r)
{
	for (size_t i = 0; r->alert_tally && i < r->sc.n_alerts; i++) {
		const struct run_alert_tally *t = &r->alert_tally[i];

		fprintf(out, "alert %s: raised %llu, cleared %llu", r->sc.alerts[i].name,
			(unsigned long long)t->raised, (unsigned long long)t->cleared);
		if (t->latency_max_ms >= 0)
			fprintf(out, ", at most %lld ms after the crossing",
				(long long)t->latency_max_ms);
		fputc('\n', out);
	}
	if (r->alerts_unpublished || r->alerts_unrecorded)
		fprintf(out, "alerts not published %llu, not recorded %llu\n",
			(unsigned long long)r->alerts_unpublished,
			(unsigned long long)r->alerts_unrecorded);
}

void run__alerts_json(FILE *f, const struct run *r)
{
	fprintf(f, "  \"alerts\": [");
	for (size_t i = 0; r->alert_tally && i < r->sc.n_alerts; i++) {
		const struct run_alert_tally *t = &r->alert_tally[i];

		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		json_out_string(f, r->sc.alerts[i].name);
		fprintf(f, ", \"raised\": %llu, \"cleared\": %llu, \"latency_max_ms\": ",
			(unsigned long long)t->raised, (unsigned long long)t->cleared);
		if (t->latency_max_ms >= 0)
			fprintf(f, "%lld}", (long long)t->latency_max_ms);
		else
			fprintf(f, "null}");
	}
	fprintf(f, "],\n");
}

struct summary_md_alert *run__alerts_md(const struct run *r)
{
	struct summary_md_alert *a;

	if (!r->alert_tally || !(a = calloc(r->sc.n_alerts, sizeof(*a))))
		return NULL;
	for (size_t i = 0; i < r->sc.n_alerts; i++) {
		a[i].name = r->sc.alerts[i].name;
		a[i].raised = r->alert_tally[i].raised;
		a[i].cleared = r->alert_tally[i].cleared;
		a[i].latency_max_ms = r->alert_tally[i].latency_max_ms;
	}
	return a;
}
