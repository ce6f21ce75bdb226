/* `robofleet run`: what the engine's steps do to the fleet, and what its probes read back (engine.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_apply.h"
#include "posix_hal.h"
#include "record.h"
#include "recorder.h"
#include "run_internal.h"

static int64_t op_now(void *ctx)
{
	(void)ctx;
	return run__mono_ms();
}

void run__on_device_exit(void *ctx, struct fleet_device *d, bool crash)
{
	struct run *r = ctx;

	/* The slot still holds the process's last report: what it took. */
	run__book_device(r, d->slot);
	if (!crash)
		return;
	r->crashes++;
	fprintf(stderr, "robofleet: device %s crashed (status 0x%x); its log: %s/devices/%s.log\n",
		d->id, (unsigned)d->last_status, r->dir, d->id);
}

int run__sleep_until(void *ctx, int64_t t)
{
	struct run *r = ctx;

	for (;;) {
		int64_t now = run__mono_ms();
		struct pollfd p[2] = {
			{ .fd = posix_signal_wake_fd(), .events = POLLIN },
			{ .fd = control_fd(&r->control), .events = POLLIN },
		};

		fleet_reap(&r->fleet, run__on_device_exit, r);
		run__control_tick(r);
		run__impersonate_tick(r);
		run__ingest_tick(r);
		run__alerts_tick(r);
		if (posix_signal_received())
			return -ECANCELED;
		if (now >= t)
			return 0;
		/* Wake at least every 100 ms to notice crashed devices and due
		 * dashboard restores; a dashboard request wakes us at once. */
		poll(p, p[1].fd >= 0 ? 2 : 1, (int)(t - now < 100 ? t - now : 100));
	}
}

int run__set_env(void *ctx, size_t dev, const struct scenario_env *env)
{
	struct run *r = ctx;
	struct world_env w = {
		.temperature_c = env->value[SCENARIO_METRIC_TEMPERATURE],
		.humidity_pct = env->value[SCENARIO_METRIC_HUMIDITY],
		.distance_cm = env->value[SCENARIO_METRIC_DISTANCE],
		/* The device models one noise level for all its metrics. */
		.noise = env->noise[SCENARIO_METRIC_TEMPERATURE],
	};

	world_write_env(world_get_slot(&r->world, (uint32_t)dev), &w);
	run__report_note_env(r, dev, env);
	return 0;
}

int run__command(void *ctx, size_t dev, const void *payload, size_t len)
{
	struct run *r = ctx;
	const struct scenario_device *d = &r->sc.fleet.devices[dev];
	const struct scenario_group *g = &r->sc.fleet.groups[d->group];
	char topic[TOPIC_TEMPLATE_MAX + 2 * TOPIC_NAME_MAX];
	int rc;

	/* The group's command topic: robofleet's sensors/<id>/command unless
	 * its topics: say otherwise. The parser made sure it expands. */
	if (!g->topics ||
	    topic_template_expand(&g->topics->command, d->id, d->room, -1, topic, sizeof(topic)) < 0)
		snprintf(topic, sizeof(topic), "sensors/%s/command", d->id);
	rc = mosquitto_publish(r->cloud, NULL, topic, (int)len, payload, 1, false);
	/* After a broker step the cloud client may still be reconnecting (its
	 * own thread does that). libmosquitto keeps a QoS 1 message it could
	 * not send yet and sends it once connected, as a cloud app's would:
	 * NO_CONN means "queued", and publishing again would send it twice. */
	return rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN ? 0 : -EIO;
}

void run__note_fault(struct run *r, const char *device_id, const char *kind,
		       const char *action, const char *detail)
{
	r->faults_total++;
	if (r->recorder && recorder_note_fault(r->recorder, device_id, kind, action,
					       r->fault_source ? r->fault_source : "scenario", detail) < 0)
		fprintf(stderr, "robofleet: out of memory recording a fault\n");
}

int run__broker(void *ctx, enum scenario_broker_action a)
{
	struct run *r = ctx;
	int rc = -EINVAL;

	switch (a) {
	case SCENARIO_BROKER_STOP:
		rc = broker_stop(&r->broker, STOP_TIMEOUT_MS);
		break;
	case SCENARIO_BROKER_START:
		rc = broker_start(&r->broker, STOP_TIMEOUT_MS);
		break;
	case SCENARIO_BROKER_RESTART:
		rc = broker_restart(&r->broker, STOP_TIMEOUT_MS);
		break;
	case SCENARIO_BROKER_KILL:
		rc = broker_kill(&r->broker);
		break;
	}
	if (rc == 0) {
		atomic_store(&r->world.hdr->broker_state, r->broker.state == BROKER_UP ? 1u : 0u);
		run__note_fault(r, NULL, "broker", scenario_broker_action_name(a), NULL);
	}
	return rc;
}

int run__fault(void *ctx, size_t dev, const struct scenario_fault *f)
{
	struct run *r = ctx;
	struct world_faults *wf = &r->faults[dev];
	uint64_t seed = fault_seed(r->sc.seed, dev, r->faults_injected[dev]++);
	char detail[200], text[240];

	fault_apply(wf, f, seed, run__mono_ms());
	world_write_faults(world_get_slot(&r->world, (uint32_t)dev), wf);
	fault_describe(f, detail, sizeof(detail));
	snprintf(text, sizeof(text), "%s%sseed=%llu", detail, detail[0] ? " " : "",
		 (unsigned long long)seed);
	run__note_fault(r, r->sc.fleet.devices[dev].id, scenario_fault_kind_name(f->kind), "inject",
		   text);
	return 0;
}

int run__clear(void *ctx, size_t dev, const struct scenario_clear *c)
{
	struct run *r = ctx;
	struct world_faults *wf = &r->faults[dev];
	bool changed = false;

	/* One row per fault that really ends, so the table pairs up. */
	for (int k = 0; k < SCENARIO_FAULT_COUNT; k++) {
		if ((c->kind_set && (int)c->kind != k) ||
		    !fault_active(wf, (enum scenario_fault_kind)k))
			continue;
		fault_clear(wf, true, (enum scenario_fault_kind)k);
		run__note_fault(r, r->sc.fleet.devices[dev].id,
			   scenario_fault_kind_name((enum scenario_fault_kind)k), "clear", NULL);
		changed = true;
	}
	if (changed)
		world_write_faults(world_get_slot(&r->world, (uint32_t)dev), wf);
	return 0;
}

/* A cut is SIGKILL: no `offline`, no flush; storage stays as the process left it. */
int run__power(void *ctx, size_t dev, enum scenario_power_action a)
{
	struct run *r = ctx;
	struct world_slot *slot = world_get_slot(&r->world, (uint32_t)dev);
	const char *id = r->sc.fleet.devices[dev].id;
	int rc;

	if (a == SCENARIO_POWER_OFF) {
		struct world_report rep;

		/* The next process counts from zero: keep what this one did,
		 * once (a device cut twice without booting in between, or
		 * restored and never reporting, still shows this report). */
		if (world_read_report(slot, &rep) == 0 && rep.boot != r->published_boot[dev]) {
			r->published_before[dev] += rep.counters.published;
			r->refused_before[dev] += rep.counters.publish_errors;
			r->published_boot[dev] = rep.boot;
		}
		atomic_store(&slot->power, (uint32_t)WORLD_POWER_OFF);
		rc = fleet_kill(&r->fleet, dev);
		if (rc == -ESRCH)
			rc = 0; /* it had already stopped: it is off either way */
		/* Its boot ends here; a restore may start the next one before
		 * this process is reaped, so note what it took now. */
		run__book_device(r, dev);
		if (rc == 0)
			run__note_fault(r, id, "power", "cut", NULL);
		return rc;
	}
	rc = fleet_start(&r->fleet, dev);
	if (rc == -EALREADY)
		rc = 0;
	if (rc == 0) {
		atomic_store(&slot->power, (uint32_t)WORLD_POWER_ON);
		run__note_fault(r, id, "power", "restore", NULL);
	}
	return rc;
}

/* Everything received so far is in the database before a probe reads it. */
void run__settle(struct run *r)
{
	recorder_flush(r->recorder, 2000);
}

/*
 * A sketch or another program (a group's sketch: or device:) has no
 * contract for what it says on a status topic, if it says anything; its
 * board knows whether its MQTT session is up. Online: powered, running,
 * and its last report says online.
 */
static int status_from_board(struct run *r, size_t dev, enum scenario_status *out, int64_t *at_ms)
{
	struct world_slot *slot = world_get_slot(&r->world, (uint32_t)dev);
	struct world_report rep;
	bool online;

	if (world_read_report(slot, &rep) < 0 || rep.updated_ms == 0)
		return -ENOENT; /* a program that keeps no world slot */
	online = atomic_load(&slot->power) == WORLD_POWER_ON && r->fleet.devices[dev].pid > 0 &&
		 rep.state == WORLD_ROBOT_ONLINE;
	*out = online ? SCENARIO_STATUS_ONLINE : SCENARIO_STATUS_OFFLINE;
	*at_ms = rep.updated_ms - r->wall_offset_ms;
	return 0;
}

static int op_status(void *ctx, size_t dev, enum scenario_status *out, int64_t *at_ms);

size_t run__count_http_online(struct run *r)
{
	size_t online = 0;

	for (size_t i = 0; i < r->sc.fleet.n_devices; i++) {
		const struct scenario_group *g = &r->sc.fleet.groups[r->sc.fleet.devices[i].group];
		enum scenario_status said;
		int64_t at;

		if (g->transport == SCENARIO_TRANSPORT_HTTP && run__owns(r, i) &&
		    status_from_board(r, i, &said, &at) == 0 && said == SCENARIO_STATUS_ONLINE)
			online++;
	}
	return online;
}

size_t run__count_online(struct run *r)
{
	size_t online = 0, foreign = 0;
	uint64_t said_online = 0;

	run__settle(r);
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++)
		foreign += run__status_by_board(r, i);
	/* Only robofleet's own robots: one count of what the record holds. */
	if (foreign == 0)
		return record_count_online(r->db, &said_online) == 0 ? (size_t)said_online : 0;
	/* Foreign firmware may publish under ids of its own: device by device,
	 * each by its own kind of evidence. */
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++) {
		enum scenario_status said;
		int64_t at;

		if (op_status(r, i, &said, &at) == 0 && said == SCENARIO_STATUS_ONLINE)
			online++;
	}
	return online;
}

static int op_status(void *ctx, size_t dev, enum scenario_status *out, int64_t *at_ms)
{
	struct run *r = ctx;
	struct record_status st;
	int rc;

	/* A program that keeps no world slot (a plain MQTT client) is judged
	 * by what it says on its status topic, like the robot. */
	if (run__status_by_board(r, dev) && (rc = status_from_board(r, dev, out, at_ms)) != -ENOENT)
		return rc;
	run__settle(r);
	if ((rc = record_device_status(r->db, r->sc.fleet.devices[dev].id, &st)) < 0)
		return rc;
	*out = st.online ? SCENARIO_STATUS_ONLINE : SCENARIO_STATUS_OFFLINE;
	/* The record keeps wall time; the engine counts in monotonic. */
	*at_ms = st.said ? st.said_ms - r->wall_offset_ms : INT64_MIN / 2;
	return 0;
}

static int op_messages(void *ctx, size_t dev, int64_t since, uint64_t *count)
{
	struct run *r = ctx;

	run__settle(r);
	if (run__foreign(r, dev))
		return record_count_device_data(r->db, r->sc.fleet.devices[dev].id,
						since + r->wall_offset_ms, count);
	return record_count_device_readings(r->db, r->sc.fleet.devices[dev].id,
					    since + r->wall_offset_ms, count);
}

/* The record's name for a scenario's metric, or -1. */
static int metric_in_record(enum scenario_metric m)
{
	switch (m) {
	case SCENARIO_METRIC_TEMPERATURE: return RECORD_METRIC_TEMPERATURE;
	case SCENARIO_METRIC_HUMIDITY: return RECORD_METRIC_HUMIDITY;
	case SCENARIO_METRIC_DISTANCE: return RECORD_METRIC_DISTANCE;
	default: return -1;
	}
}

static long op_values(void *ctx, size_t dev, enum scenario_metric m, bool latest, int64_t since,
		      bool (*each)(void *arg, double v), void *arg)
{
	struct run *r = ctx;
	int rm = metric_in_record(m);

	run__settle(r);
	if (rm < 0)
		return -EIO;
	if (run__foreign(r, dev))
		return record_data_values(r->db, r->sc.fleet.devices[dev].id, (enum record_metric)rm,
					  latest, since + r->wall_offset_ms, each, arg);
	return record_metric_values(r->db, r->sc.fleet.devices[dev].id, (enum record_metric)rm,
				    latest, since + r->wall_offset_ms, each, arg);
}

static int op_error(void *ctx, size_t dev, enum scenario_metric m, char *name, size_t len)
{
	struct run *r = ctx;
	int rm = metric_in_record(m);

	run__settle(r);
	if (rm < 0)
		return -EIO;
	return record_metric_error(r->db, r->sc.fleet.devices[dev].id, (enum record_metric)rm,
				   name, len);
}

static int op_counter(void *ctx, size_t dev, enum scenario_counter c, uint64_t *out)
{
	struct run *r = ctx;
	struct world_report rep;
	const struct world_counters *k = &rep.counters;
	uint32_t v;

	if (world_read_report(world_get_slot(&r->world, (uint32_t)dev), &rep) < 0 || rep.updated_ms == 0)
		return -ENODATA;
	switch (c) {
	case SCENARIO_COUNTER_READINGS_OK: v = k->readings_ok; break;
	case SCENARIO_COUNTER_READINGS_FAILED: v = k->readings_failed; break;
	case SCENARIO_COUNTER_SPIKES_REJECTED: v = k->spikes_rejected; break;
	case SCENARIO_COUNTER_PUBLISHED: v = k->published; break;
	case SCENARIO_COUNTER_ACKNOWLEDGED: v = k->acknowledged; break;
	case SCENARIO_COUNTER_BUFFERED: v = k->buffered; break;
	case SCENARIO_COUNTER_DROPPED: v = k->dropped; break;
	case SCENARIO_COUNTER_REDELIVERED: v = k->redelivered; break;
	case SCENARIO_COUNTER_PUBLISH_ERRORS: v = k->publish_errors; break;
	case SCENARIO_COUNTER_COMMANDS: v = k->commands; break;
	case SCENARIO_COUNTER_COMMANDS_INVALID: v = k->commands_invalid; break;
	case SCENARIO_COUNTER_RECONNECTS: v = k->reconnects; break;
	case SCENARIO_COUNTER_LINK_FAILURES: v = k->link_failures; break;
	case SCENARIO_COUNTER_UNPERSISTED: v = k->unpersisted; break;
	case SCENARIO_COUNTER_HTTP_REFUSED: v = rep.http_refused; break;
	default: return -EINVAL;
	}
	*out = v;
	return 0;
}

static int op_loss(void *ctx, size_t dev, uint64_t *lost, uint64_t *dup)
{
	struct run *r = ctx;
	struct accounting_result a;
	int rc;

	/* One snapshot serves a whole fleet-wide check. */
	if (run__mono_ms() - r->books_synced_ms > 200)
		run__book_all(r, 5000, RUN_CHECK_DRAIN_MAX_MS, false);
	if (run__foreign(r, dev)) {
		struct run_message_books m;

		if ((rc = run__message_books(r, dev, &m)) < 0)
			return rc;
		if (m.attempted == 0)
			return -ENODATA;
		*lost = m.lost;
		*dup = 0;
		return 0;
	}
	if ((rc = run__account_device(r, dev, &a)) < 0)
		return rc;
	if (a.taken == 0)
		return -ENODATA;
	*lost = a.lost;
	record_device_duplicates(r->db, r->sc.fleet.devices[dev].id, dup);
	return 0;
}

static void op_on_step(void *ctx, const struct scenario_step *s, int depth)
{
	struct run *r = ctx;

	run__say(r, "%*s%s:%u: %s\n", 2 + 2 * depth, "", r->sc.file, s->pos.line,
	    scenario_step_kind_name(s->kind));
	if (r->world.hdr) {
		const char *base = strrchr(r->sc.file, '/');
		r->status.steps_started++;
		snprintf(r->status.step, sizeof(r->status.step), "%.40s:%u %s", base ? base + 1 : r->sc.file,
			 s->pos.line, scenario_step_kind_name(s->kind));
		world_write_run(r->world.hdr, &r->status);
	}
}

const struct engine_ops run__ops = {
	.now_ms = op_now,
	.sleep_until = run__sleep_until,
	.set_env = run__set_env,
	.command = run__command,
	.broker = run__broker,
	.fault = run__fault,
	.clear = run__clear,
	.power = run__power,
	.status = op_status,
	.messages = op_messages,
	.values = op_values,
	.counter = op_counter,
	.loss = op_loss,
	.error = op_error,
	.alert = run__alert_state,
	.on_step = op_on_step,
};
