/*
 * `robofleet run`: parse the scenario, make the run directory, start the
 * broker, the recorder and the fleet, walk the timeline, and write the
 * verdict. Every process it starts is stopped on the way out, also after
 * SIGINT or SIGTERM; devices follow robofleet even if it is killed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounting.h"
#include "broker.h"
#include "control_reader.h"
#include "disk_check.h"
#include "engine.h"
#include "fault_apply.h"
#include "fleet.h"
#include "junit.h"
#include "posix_hal.h"
#include "record.h"
#include "recorder.h"
#include "robot_config.h"
#include "run.h"
#include "scenario.h"
#include "tui.h"
#include "world.h"

#define DEVICE_LOG_LIMIT "1M"
#define STOP_TIMEOUT_MS 10000
/* How long the recorder retries a failing write before it gives up on it
 * (docs/recording.md): long enough for a lock or a full disk to clear. */
#define RECORDER_STORE_DEADLINE_MS 30000
#define DASHBOARD_CYCLE_OFF_MS 3000     /* 'p' in the dashboard: power back after this */

/* A dashboard power-cycle waiting for its restore. */
struct pending_restore {
	size_t dev;
	int64_t due_ms;
};

struct run {
	const struct run_options *opt;
	struct scenario sc;
	char dir[900];                  /* short enough to nest file names in */
	struct world world;
	struct broker broker;
	struct recorder *recorder;
	struct fleet fleet;
	struct mosquitto *cloud;        /* publishes commands like a cloud app */
	struct record *db;              /* read side of the record */
	struct engine engine;
	char (*args)[FLEET_ARGS_MAX][24]; /* per-device option values */
	struct world_faults *faults;    /* per device: what its world slot says */
	uint32_t *faults_injected;      /* per device: faults so far, for their seeds */
	uint64_t *published_before;     /* per device: published by processes a power cut ended */
	uint32_t *published_boot;       /* per device: the boot whose count is in published_before */
	/* Per device: what it took, boot by boot, and what its outbox holds
	 * (accounting.h). Fed from the world at every process end and at
	 * every loss check; the record is compared against it. */
	struct accounting_device *books;
	int64_t books_synced_ms;        /* monotonic; books and record consistent as of then */
	uint64_t faults_total;          /* injections, power changes and broker actions */
	int64_t wall_offset_ms;         /* wall - monotonic, for the record's clock */
	uint64_t crashes;
	/* The dashboard: its request FIFO, where the run is (world header),
	 * and with --tui its thread. See sim/control_reader.h. */
	struct control control;
	const char *fault_source;       /* NULL: "scenario" */
	struct pending_restore *restores;
	size_t n_restores, cap_restores;
	struct world_run status;
	size_t results_seen;
	pthread_t tui_thread;
	bool tui_running;
	atomic_bool tui_stop;
	int saved_stderr;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->opt->quiet || r->opt->tui)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* ---- engine effects and probes --------------------------------------------- */

static int64_t op_now(void *ctx)
{
	(void)ctx;
	return mono_ms();
}

static void book_device(struct run *r, size_t dev);

static void on_device_exit(void *ctx, struct fleet_device *d, bool crash)
{
	struct run *r = ctx;

	/* The slot still holds the process's last report: what it took. */
	book_device(r, d->slot);
	if (!crash)
		return;
	r->crashes++;
	fprintf(stderr, "robofleet: device %s crashed (status 0x%x); its log: %s/devices/%s.log\n",
		d->id, (unsigned)d->last_status, r->dir, d->id);
}

static void control_tick(struct run *r);

static int op_sleep_until(void *ctx, int64_t t)
{
	struct run *r = ctx;

	for (;;) {
		int64_t now = mono_ms();
		struct pollfd p[2] = {
			{ .fd = posix_signal_wake_fd(), .events = POLLIN },
			{ .fd = control_fd(&r->control), .events = POLLIN },
		};

		fleet_reap(&r->fleet, on_device_exit, r);
		control_tick(r);
		if (posix_signal_received())
			return -ECANCELED;
		if (now >= t)
			return 0;
		/* Wake at least every 100 ms to notice crashed devices and due
		 * dashboard restores; a dashboard request wakes us at once. */
		poll(p, p[1].fd >= 0 ? 2 : 1, (int)(t - now < 100 ? t - now : 100));
	}
}

static int op_set_env(void *ctx, size_t dev, const struct scenario_env *env)
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
	return 0;
}

static int op_command(void *ctx, size_t dev, const void *payload, size_t len)
{
	struct run *r = ctx;
	char topic[96];
	int rc;

	snprintf(topic, sizeof(topic), "sensors/%s/command", r->sc.fleet.devices[dev].id);
	rc = mosquitto_publish(r->cloud, NULL, topic, (int)len, payload, 1, false);
	/* After a broker step the cloud client may still be reconnecting (its
	 * own thread does that). libmosquitto keeps a QoS 1 message it could
	 * not send yet and sends it once connected, as a cloud app's would:
	 * NO_CONN means "queued", and publishing again would send it twice. */
	return rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN ? 0 : -EIO;
}

static void note_fault(struct run *r, const char *device_id, const char *kind,
		       const char *action, const char *detail)
{
	r->faults_total++;
	if (r->recorder && recorder_note_fault(r->recorder, device_id, kind, action,
					       r->fault_source ? r->fault_source : "scenario", detail) < 0)
		fprintf(stderr, "robofleet: out of memory recording a fault\n");
}

static int op_broker(void *ctx, enum scenario_broker_action a)
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
		note_fault(r, NULL, "broker", scenario_broker_action_name(a), NULL);
	}
	return rc;
}

static int op_fault(void *ctx, size_t dev, const struct scenario_fault *f)
{
	struct run *r = ctx;
	struct world_faults *wf = &r->faults[dev];
	uint64_t seed = fault_seed(r->sc.seed, dev, r->faults_injected[dev]++);
	char detail[200], text[240];

	fault_apply(wf, f, seed, mono_ms());
	world_write_faults(world_get_slot(&r->world, (uint32_t)dev), wf);
	fault_describe(f, detail, sizeof(detail));
	snprintf(text, sizeof(text), "%s%sseed=%llu", detail, detail[0] ? " " : "",
		 (unsigned long long)seed);
	note_fault(r, r->sc.fleet.devices[dev].id, scenario_fault_kind_name(f->kind), "inject",
		   text);
	return 0;
}

static int op_clear(void *ctx, size_t dev, const struct scenario_clear *c)
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
		note_fault(r, r->sc.fleet.devices[dev].id,
			   scenario_fault_kind_name((enum scenario_fault_kind)k), "clear", NULL);
		changed = true;
	}
	if (changed)
		world_write_faults(world_get_slot(&r->world, (uint32_t)dev), wf);
	return 0;
}

/* A cut is SIGKILL: no `offline`, no flush; storage stays as the process left it. */
static int op_power(void *ctx, size_t dev, enum scenario_power_action a)
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
			r->published_boot[dev] = rep.boot;
		}
		atomic_store(&slot->power, (uint32_t)WORLD_POWER_OFF);
		rc = fleet_kill(&r->fleet, dev);
		if (rc == -ESRCH)
			rc = 0; /* it had already stopped: it is off either way */
		/* Its boot ends here; a restore may start the next one before
		 * this process is reaped, so note what it took now. */
		book_device(r, dev);
		if (rc == 0)
			note_fault(r, id, "power", "cut", NULL);
		return rc;
	}
	rc = fleet_start(&r->fleet, dev);
	if (rc == -EALREADY)
		rc = 0;
	if (rc == 0) {
		atomic_store(&slot->power, (uint32_t)WORLD_POWER_ON);
		note_fault(r, id, "power", "restore", NULL);
	}
	return rc;
}

/* Everything received so far is in the database before a probe reads it. */
static void settle(struct run *r)
{
	recorder_flush(r->recorder, 2000);
}

static int op_status(void *ctx, size_t dev, enum scenario_status *out, int64_t *at_ms)
{
	struct run *r = ctx;
	struct record_status st;
	int rc;

	settle(r);
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

	settle(r);
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

	settle(r);
	if (rm < 0)
		return -EIO;
	return record_metric_values(r->db, r->sc.fleet.devices[dev].id, (enum record_metric)rm,
				    latest, since + r->wall_offset_ms, each, arg);
}

static int op_error(void *ctx, size_t dev, enum scenario_metric m, char *name, size_t len)
{
	struct run *r = ctx;
	int rm = metric_in_record(m);

	settle(r);
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
	default: return -EINVAL;
	}
	*out = v;
	return 0;
}

/* ---- accounting to the end (accounting.h) ------------------------------------ */

static bool device_keeps_readings(const struct run *r, size_t dev)
{
	const struct scenario_group *g = &r->sc.fleet.groups[r->sc.fleet.devices[dev].group];

	/* Per-metric robots publish plain numbers, no numbered readings. */
	return g->topic_style != SCENARIO_TOPIC_PER_METRIC;
}

/* What the device's slot says it took and holds, into its book. */
static void book_device(struct run *r, size_t dev)
{
	struct accounting_device *b;
	struct world_report rep;

	if (!r->books || dev >= r->sc.fleet.n_devices || !device_keeps_readings(r, dev) ||
	    world_read_report(world_get_slot(&r->world, (uint32_t)dev), &rep) < 0 ||
	    rep.updated_ms == 0)
		return;
	b = &r->books[dev];
	if (accounting_note_boot(b, rep.boot, rep.seq) < 0 ||
	    (rep.counters.buffered && accounting_note_boot(b, rep.oldest_boot, rep.oldest_seq) < 0))
		fprintf(stderr, "robofleet: out of memory keeping %s's accounts\n",
			r->sc.fleet.devices[dev].id);
	b->buffered = rep.counters.buffered;
	b->oldest_boot = rep.oldest_boot;
	b->oldest_seq = rep.oldest_seq;
	if (rep.counters.dropped > b->dropped)
		b->dropped = rep.counters.dropped;
}

/*
 * Books and record consistent as of one moment: every device's report is
 * read first, then the recorder is synced, so a reading the broker took
 * before the reports were read is in the record, and one it takes later
 * is still in its device's outbox by those reports.
 */
static void book_all(struct run *r, int timeout_ms)
{
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++)
		book_device(r, i);
	if (recorder_sync(r->recorder, timeout_ms) < 0)
		recorder_flush(r->recorder, 2000); /* broker down: what we have */
	r->books_synced_ms = mono_ms();
}

/* One device of the record, as accounting_settle() asks about it. */
struct recorded_device {
	struct record *db;
	const char *id;
};

static int64_t recorded_between(void *ctx, uint32_t boot, uint32_t from, uint32_t to)
{
	const struct recorded_device *d = ctx;

	return record_count_boot_readings(d->db, d->id, boot, from, to);
}

static void note_recorded_boot(void *arg, uint32_t boot, uint32_t max_seq)
{
	accounting_note_boot(arg, boot, max_seq);
}

/* Settle one device's book against the record (after book_all()). */
static int account_device(struct run *r, size_t dev, struct accounting_result *out)
{
	struct accounting_device *b = &r->books[dev];
	struct recorded_device d = { r->db, r->sc.fleet.devices[dev].id };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!device_keeps_readings(r, dev))
		return 0;
	/* A boot the record knows and no report showed (a process killed
	 * mid-report) still counts up to its highest recorded seq. */
	if ((rc = record_device_boots(r->db, d.id, note_recorded_boot, b)) < 0)
		return rc;
	return accounting_settle(b, recorded_between, &d, out);
}

static int op_loss(void *ctx, size_t dev, uint64_t *lost, uint64_t *dup)
{
	struct run *r = ctx;
	struct accounting_result a;
	int rc;

	/* One snapshot serves a whole fleet-wide check. */
	if (mono_ms() - r->books_synced_ms > 200)
		book_all(r, 5000);
	if ((rc = account_device(r, dev, &a)) < 0)
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

	say(r, "%*s%s:%u: %s\n", 2 + 2 * depth, "", r->sc.file, s->pos.line,
	    scenario_step_kind_name(s->kind));
	if (r->world.hdr) {
		const char *base = strrchr(r->sc.file, '/');
		r->status.steps_started++;
		snprintf(r->status.step, sizeof(r->status.step), "%.40s:%u %s", base ? base + 1 : r->sc.file,
			 s->pos.line, scenario_step_kind_name(s->kind));
		world_write_run(r->world.hdr, &r->status);
	}
}

static const struct engine_ops run_ops = {
	.now_ms = op_now,
	.sleep_until = op_sleep_until,
	.set_env = op_set_env,
	.command = op_command,
	.broker = op_broker,
	.fault = op_fault,
	.clear = op_clear,
	.power = op_power,
	.status = op_status,
	.messages = op_messages,
	.values = op_values,
	.counter = op_counter,
	.loss = op_loss,
	.error = op_error,
	.on_step = op_on_step,
};

/* ---- the dashboard's requests and view (tui/control.h) ------------------------ */

/* A fault as a bare `- fault: {kind: K}` would give it, plus values for
 * the kinds a scenario must spell out: the catalog's presets. */
static int dashboard_fault(struct scenario_fault *f, const char *name)
{
	return fault_preset(f, name);
}

static int dashboard_broker(const char *a, enum scenario_broker_action *out)
{
	static const enum scenario_broker_action all[] = { SCENARIO_BROKER_STOP, SCENARIO_BROKER_START,
							    SCENARIO_BROKER_RESTART, SCENARIO_BROKER_KILL };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(a, scenario_broker_action_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

static int dashboard_power(struct run *r, size_t dev, const char *a)
{
	int rc;

	if (!strcmp(a, "restore"))
		return op_power(r, dev, SCENARIO_POWER_ON);
	if ((rc = op_power(r, dev, SCENARIO_POWER_OFF)) < 0 || strcmp(a, "cycle"))
		return rc;
	if (r->n_restores == r->cap_restores) {
		size_t cap = r->cap_restores ? 2 * r->cap_restores : 16;
		struct pending_restore *p = realloc(r->restores, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->restores = p;
		r->cap_restores = cap;
	}
	r->restores[r->n_restores++] = (struct pending_restore){ dev, mono_ms() + DASHBOARD_CYCLE_OFF_MS };
	return 0;
}

/* Apply one request with the same effects a scenario step uses. */
static void control_apply(void *ctx, const struct control_request *q)
{
	struct run *r = ctx;
	long dev = q->verb == CONTROL_BROKER ? 0 : scenario_device_find(&r->sc, q->device);
	struct scenario_fault f;
	struct scenario_clear c;
	enum scenario_broker_action b;
	int rc = -EINVAL;

	if (dev < 0) {
		fprintf(stderr, "robofleet: dashboard: no device %s\n", q->device);
		return;
	}
	r->fault_source = "dashboard";
	switch (q->verb) {
	case CONTROL_FAULT:
		if (dashboard_fault(&f, q->arg) == 0)
			rc = op_fault(r, (size_t)dev, &f);
		break;
	case CONTROL_CLEAR:
		memset(&c, 0, sizeof(c));
		c.kind_set = q->arg[0] != '\0';
		if (!c.kind_set || dashboard_fault(&f, q->arg) == 0) {
			c.kind = f.kind;
			rc = op_clear(r, (size_t)dev, &c);
		}
		break;
	case CONTROL_POWER:
		rc = dashboard_power(r, (size_t)dev, q->arg);
		break;
	case CONTROL_COMMAND:
	{
		const char *payload = !strcmp(q->arg, "stop") ? "{\"action\":\"stop\"}" :
				      "{\"action\":\"start\"}";
		rc = op_command(r, (size_t)dev, payload, strlen(payload));
	}
		/* Not a fault, but a person's doing: the event log shows it. */
		if (rc == 0)
			note_fault(r, q->device, "command", q->arg, NULL);
		break;
	case CONTROL_BROKER:
		if (dashboard_broker(q->arg, &b) == 0)
			rc = op_broker(r, b);
		break;
	}
	r->fault_source = NULL;
	if (rc < 0)
		fprintf(stderr, "robofleet: dashboard request '%s %s %s' failed: %s\n",
			q->verb == CONTROL_BROKER ? "broker" : "device", q->device, q->arg, strerror(-rc));
}

/* From the sleep loop: requests, due restores, and the verdict so far. */
static void control_tick(struct run *r)
{
	bool changed = false;

	control_drain(&r->control, control_apply, r);
	for (size_t i = 0; i < r->n_restores;) {
		if (mono_ms() < r->restores[i].due_ms) {
			i++;
			continue;
		}
		r->fault_source = "dashboard";
		op_power(r, r->restores[i].dev, SCENARIO_POWER_ON);
		r->fault_source = NULL;
		r->restores[i] = r->restores[--r->n_restores];
	}
	for (; r->results_seen < r->engine.n_results; r->results_seen++) {
		if (r->engine.results[r->results_seen].passed)
			r->status.passed++;
		else
			r->status.failed++;
		changed = true;
	}
	if (changed && r->world.hdr)
		world_write_run(r->world.hdr, &r->status);
}

static void set_phase(struct run *r, enum world_run_phase ph)
{
	if (!r->world.hdr)
		return;
	r->status.phase = ph;
	if (ph == WORLD_RUN_RUNNING)
		r->status.started_ms = wall_ms();
	if (ph >= WORLD_RUN_FINISHED)
		r->status.ended_ms = wall_ms();
	world_write_run(r->world.hdr, &r->status);
}

/* --tui: q in the dashboard ends the run as Ctrl-C would. */
static void tui_quit(void *ctx)
{
	(void)ctx;
	posix_signal_raise();
}

static void *tui_main(void *arg)
{
	struct run *r = arg;
	struct tui_opts o = { .run_dir = r->dir, .embedded = true, .stop = &r->tui_stop,
			      .on_quit = tui_quit, .ctx = r };

	tui_top(&o);
	return NULL;
}

/* The dashboard owns the terminal while it runs: our stderr goes to
 * <run>/robofleet.log until it stops, so nothing scribbles on the screen. */
static int start_tui(struct run *r)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/robofleet.log", r->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	fflush(stderr);
	r->saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	atomic_store(&r->tui_stop, false);
	if (pthread_create(&r->tui_thread, NULL, tui_main, r) != 0) {
		dup2(r->saved_stderr, STDERR_FILENO);
		close(r->saved_stderr);
		return -EAGAIN;
	}
	r->tui_running = true;
	return 0;
}

static void stop_tui(struct run *r)
{
	if (!r->tui_running)
		return;
	atomic_store(&r->tui_stop, true);
	pthread_join(r->tui_thread, NULL);
	r->tui_running = false;
	fflush(stderr);
	dup2(r->saved_stderr, STDERR_FILENO);
	close(r->saved_stderr);
	fprintf(stderr, "robofleet: messages during the run: %s/robofleet.log\n", r->dir);
}

/* ---- what the machine allows ------------------------------------------------------ */

/*
 * Room to spare above the fleet: robofleet, its broker and recorder, the
 * command client, a dashboard, a shell or two.
 */
#define LIMIT_HEADROOM 64
/*
 * What one device process costs the machine, for the memory check: its
 * PSS (about 0.65 MiB measured with bench/fleet.sh) plus the kernel's part
 * that PSS does not show (page tables, kernel stack, the socket at both
 * ends). Measured as the drop of MemAvailable per device: see
 * docs/performance.md.
 */
#define DEVICE_MEMORY_KIB 1024

static long read_long_file(const char *path, int field)
{
	FILE *f = fopen(path, "r");
	long v = -1, x;

	if (!f)
		return -1;
	for (int i = 0; i <= field && fscanf(f, "%ld", &x) == 1; i++)
		if (i == field)
			v = x;
	fclose(f);
	return v;
}

static long meminfo_kib(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Tasks (threads) alive on the machine: /proc/loadavg's "running/total". */
static long tasks_now(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	long running, total = -1;
	double a, b, c;

	if (f) {
		if (fscanf(f, "%lf %lf %lf %ld/%ld", &a, &b, &c, &running, &total) != 5)
			total = -1;
		fclose(f);
	}
	return total;
}

/* Processes owned by our real user id, as RLIMIT_NPROC counts them (near enough). */
static long user_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long n = 0;
	uid_t me = getuid();

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9') {
			struct stat st;
			char path[300];
			snprintf(path, sizeof(path), "/proc/%s", e->d_name);
			n += stat(path, &st) == 0 && st.st_uid == me;
		}
	closedir(d);
	return n;
}

/*
 * Check, before anything starts, that the machine can hold @n device
 * processes: one process id, one process of our user, one ephemeral port
 * and about DEVICE_MEMORY_KIB each, and (embedded broker) one descriptor
 * each in mosquitto, which inherits our RLIMIT_NOFILE (broker.c raises
 * the soft limit to the hard one). A hard limit that is too low is raised
 * when we may (root); anything else is an error that names the limit and
 * the command that raises it. Returns 0 or -1 after printing why.
 */
static int check_fleet_limits(size_t n, bool embedded)
{
	long need = (long)n + LIMIT_HEADROOM, v, used;
	struct rlimit rl;

	v = read_long_file("/proc/sys/kernel/pid_max", 0);
	used = tasks_now();
	if (v > 0 && used >= 0 && need + used > v) {
		fprintf(stderr, "robofleet: %zu devices need %zu process ids, but kernel.pid_max is %ld and "
			"%ld are in use; raise it: sudo sysctl -w kernel.pid_max=4194304\n", n, n, v, used);
		return -1;
	}
	v = read_long_file("/proc/sys/kernel/threads-max", 0);
	if (v > 0 && used >= 0 && need + used > v) {
		fprintf(stderr, "robofleet: %zu devices need %zu tasks, but kernel.threads-max is %ld and "
			"%ld are in use; raise it: sudo sysctl -w kernel.threads-max=%ld\n",
			n, n, v, used, 2 * (need + used));
		return -1;
	}
	/* Root (CAP_SYS_RESOURCE) is not held to RLIMIT_NPROC. */
	if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		used = user_processes();
		if ((rlim_t)(need + used) > rl.rlim_cur) {
			fprintf(stderr, "robofleet: %zu devices need %zu processes, but RLIMIT_NPROC (ulimit -u) "
				"is %llu and %ld are running as this user; raise it: ulimit -u %ld (above the "
				"hard limit: 'nproc' in /etc/security/limits.conf)\n", n, n,
				(unsigned long long)rl.rlim_cur, used, need + used);
			return -1;
		}
	}
	{
		long lo = read_long_file("/proc/sys/net/ipv4/ip_local_port_range", 0);
		long hi = read_long_file("/proc/sys/net/ipv4/ip_local_port_range", 1);
		/* Every device holds a connection to the one broker address, so
		 * each needs an ephemeral port of its own. */
		if (lo > 0 && hi >= lo && need > hi - lo + 1) {
			fprintf(stderr, "robofleet: %zu devices need %zu ephemeral ports to the broker, but "
				"net.ipv4.ip_local_port_range is %ld-%ld (%ld ports); widen it: "
				"sudo sysctl -w net.ipv4.ip_local_port_range='1024 65535' (at most about 64,000 "
				"devices per broker address)\n", n, n, lo, hi, hi - lo + 1);
			return -1;
		}
	}
	if (embedded && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < (rlim_t)need) {
		struct rlimit want = { .rlim_cur = rl.rlim_cur, .rlim_max = (rlim_t)need };
		if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
			fprintf(stderr, "robofleet: the embedded broker needs %ld open files for %zu devices, "
				"but the hard RLIMIT_NOFILE is %llu; raise it: ulimit -Hn %ld (or 'nofile' in "
				"/etc/security/limits.conf), or use --broker\n", need, n,
				(unsigned long long)rl.rlim_max, need);
			return -1;
		}
	}
	v = meminfo_kib("MemAvailable");
	if (v > 0 && (long long)n * DEVICE_MEMORY_KIB > (long long)v) {
		fprintf(stderr, "robofleet: %zu devices need about %lld MiB (%d KiB each), but MemAvailable "
			"is %ld MiB; run fewer devices or free memory\n", n,
			(long long)n * DEVICE_MEMORY_KIB / 1024, DEVICE_MEMORY_KIB, v / 1024);
		return -1;
	}
	return 0;
}

/* ---- set-up --------------------------------------------------------------------- */

static int make_run_dir(struct run *r)
{
	const char *parent = r->opt->runs_dir ? r->opt->runs_dir : "runs";
	char stamp[32], sub[PATH_MAX + 16];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (strlen(parent) + strlen(r->sc.name) + 40 > sizeof(r->dir))
		return -ENAMETOOLONG;
	for (int n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(r->dir, sizeof(r->dir), "%s/%s-%s", parent, stamp, r->sc.name);
		else
			snprintf(r->dir, sizeof(r->dir), "%s/%s-%s.%d", parent, stamp, r->sc.name, n);
		if (mkdir(r->dir, 0755) == 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	snprintf(sub, sizeof(sub), "%s/devices", r->dir);
	if (mkdir(sub, 0755) < 0)
		return -errno;
	snprintf(sub, sizeof(sub), "%s/state", r->dir);
	if (mkdir(sub, 0755) < 0)
		return -errno;
	return 0;
}

static int find_device(const struct run *r, char *out, size_t len)
{
	char self[PATH_MAX], dir[PATH_MAX];
	const char *env = getenv("ROBOFLEET_DEVICE");
	ssize_t n;

	if (r->opt->device_path)
		return snprintf(out, len, "%s", r->opt->device_path) < (int)len && access(out, X_OK) == 0 ? 0 : -ENOENT;
	if (env && *env)
		return snprintf(out, len, "%s", env) < (int)len && access(out, X_OK) == 0 ? 0 : -ENOENT;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	/* Installed side by side, or in the build tree (sim/ next to hw-shim/). */
	snprintf(out, len, "%.900s/robofleet-device", dir);
	if (access(out, X_OK) == 0)
		return 0;
	snprintf(out, len, "%.900s/../hw-shim/robofleet-device", dir);
	return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

static int set_up_world(struct run *r)
{
	char path[PATH_MAX + 8];
	int rc;

	snprintf(path, sizeof(path), "%s/world", r->dir);
	if ((rc = world_create(path, (uint32_t)r->sc.fleet.n_devices, r->sc.name, &r->world)) < 0)
		return rc;
	r->faults = calloc(r->sc.fleet.n_devices, sizeof(*r->faults));
	r->faults_injected = calloc(r->sc.fleet.n_devices, sizeof(*r->faults_injected));
	r->published_before = calloc(r->sc.fleet.n_devices, sizeof(*r->published_before));
	r->published_boot = calloc(r->sc.fleet.n_devices, sizeof(*r->published_boot));
	if (!r->faults || !r->faults_injected || !r->published_before || !r->published_boot)
		return -ENOMEM;
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++) {
		struct world_slot *s = world_get_slot(&r->world, (uint32_t)i);
		const struct scenario_device *d = &r->sc.fleet.devices[i];

		snprintf(s->device_id, sizeof(s->device_id), "%s", d->id);
		op_set_env(r, i, &r->sc.fleet.groups[d->group].env);
	}
	return 0;
}

static void fmt_ms(char *buf, uint32_t ms)
{
	snprintf(buf, 24, "%ums", ms);
}

static int set_up_fleet(struct run *r)
{
	static const char *const styles[] = { "json", "per-metric", "both" };
	size_t n = r->sc.fleet.n_devices;
	int rc;

	if ((rc = fleet_init(&r->fleet, n)) < 0)
		return rc;
	r->args = calloc(n ? n : 1, sizeof(*r->args));
	r->books = calloc(n ? n : 1, sizeof(*r->books));
	if (!r->args || !r->books)
		return -ENOMEM;
	if ((rc = find_device(r, r->fleet.device_path, sizeof(r->fleet.device_path))) < 0) {
		fprintf(stderr, "robofleet: robofleet-device not found (give --device PATH)\n");
		return rc;
	}
	/* An IPv6 address needs its brackets back for robofleet-device. */
	snprintf(r->fleet.broker, sizeof(r->fleet.broker), strchr(r->broker.host, ':') ? "[%s]:%d" : "%s:%d",
		 r->broker.host, r->broker.port);
	snprintf(r->fleet.world_path, sizeof(r->fleet.world_path), "%s/world", r->dir);
	snprintf(r->fleet.state_dir, sizeof(r->fleet.state_dir), "%s/state", r->dir);
	snprintf(r->fleet.log_dir, sizeof(r->fleet.log_dir), "%s/devices", r->dir);
	for (size_t i = 0; i < n; i++) {
		const struct scenario_device *sd = &r->sc.fleet.devices[i];
		const struct scenario_group *g = &r->sc.fleet.groups[sd->group];
		struct fleet_device *d = &r->fleet.devices[i];
		char (*v)[24] = r->args[i];
		int k = 0;

		snprintf(d->id, sizeof(d->id), "%s", sd->id);
		d->slot = (uint32_t)i;
		fmt_ms(v[0], g->interval_ms);
		d->args[k++] = "--interval";
		d->args[k++] = v[0];
		if (g->sample_interval_ms) {
			fmt_ms(v[1], g->sample_interval_ms);
			d->args[k++] = "--sample-interval";
			d->args[k++] = v[1];
		}
		snprintf(v[2], 24, "%us", g->keepalive_s);
		d->args[k++] = "--keepalive";
		d->args[k++] = v[2];
		d->args[k++] = "--topic-style";
		d->args[k++] = styles[g->topic_style];
		/* Every device its own reproducible random stream. */
		snprintf(v[3], 24, "%llu", (unsigned long long)(r->sc.seed * 1000003ull + i));
		d->args[k++] = "--seed";
		d->args[k++] = v[3];
		d->args[k++] = "--log-limit";
		d->args[k++] = DEVICE_LOG_LIMIT;
		d->args[k] = NULL;
	}
	return 0;
}

static int start_fleet(struct run *r)
{
	double rate = r->sc.fleet.connect_rate_per_s > 0 ? r->sc.fleet.connect_rate_per_s : 200;
	int64_t t0 = mono_ms();
	int rc;

	for (size_t i = 0; i < r->fleet.count; i++) {
		/* Pace the starts: device i no earlier than i / rate seconds in. */
		int64_t due = t0 + (int64_t)((double)i * 1000.0 / rate);
		if ((rc = op_sleep_until(r, due)) < 0)
			return rc;
		if ((rc = fleet_start(&r->fleet, i)) < 0) {
			fprintf(stderr, "robofleet: cannot start %s: %s\n", r->fleet.devices[i].id,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int connect_cloud(struct run *r)
{
	char id[64];

	snprintf(id, sizeof(id), "robofleet-cloud-%ld", (long)getpid());
	r->cloud = mosquitto_new(id, true, NULL);
	if (!r->cloud)
		return -ENOMEM;
	if (mosquitto_connect_async(r->cloud, r->broker.host, r->broker.port, 30) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(r->cloud) != MOSQ_ERR_SUCCESS)
		return -EIO;
	return 0;
}

/* ---- verdict ------------------------------------------------------------------ */

struct summary {
	size_t devices, online, crashes;
	uint64_t published, recorded, lost, duplicated, rejected, dropped, faults;
	uint64_t taken, buffered;       /* accounting to the end */
	uint64_t unstored, unstored_readings; /* received by the recorder, not in the record */
	char store_error[160];
	uint64_t lock_waits;
	int64_t lock_wait_max_ms;
	bool accounts_ok;               /* every device settled against the record */
	double p50_ms, p99_ms, max_ms;
	size_t passed, failed;
};

/* The record is complete unless the recorder gave up on something it received. */
static bool record_complete(const struct summary *s)
{
	return s->unstored == 0 && s->accounts_ok;
}

/*
 * Only after the fleet has stopped and the recorder has drained and
 * committed its last batch: the summary is then the record.
 */
static void summarise(struct run *r, struct summary *s, size_t online_at_end)
{
	struct recorder_stats rs;
	struct record_totals totals;
	uint64_t with_ts;

	memset(s, 0, sizeof(*s));
	s->devices = r->sc.fleet.n_devices;
	s->online = online_at_end;
	s->crashes = r->crashes;
	s->accounts_ok = true;
	for (size_t i = 0; i < s->devices; i++) {
		struct world_report rep;
		struct world_slot *slot = world_get_slot(&r->world, (uint32_t)i);
		struct accounting_result a;

		/* A robot left without power still shows its last process's
		 * report, which published_before already holds. */
		if (atomic_load(&slot->power) == WORLD_POWER_ON && world_read_report(slot, &rep) == 0 &&
		    rep.boot != r->published_boot[i])
			s->published += rep.counters.published;
		s->published += r->published_before[i];
		if (account_device(r, i, &a) < 0) {
			s->accounts_ok = false;
			continue;
		}
		s->taken += a.taken;
		s->buffered += a.buffered;
		s->lost += a.lost;
		s->dropped += r->books[i].dropped;
	}
	recorder_read_stats(r->recorder, &rs);
	s->unstored = rs.unstored;
	s->unstored_readings = rs.unstored_readings;
	s->lock_waits = rs.lock_waits;
	s->lock_wait_max_ms = rs.lock_wait_max_ms;
	snprintf(s->store_error, sizeof(s->store_error), "%s", rs.store_error);
	s->faults = r->faults_total;
	record_count_readings(r->db, &s->recorded);
	record_accounting_totals(r->db, &totals);
	s->duplicated = totals.duplicates;
	record_count_rejected(r->db, &s->rejected);
	record_count_timed_readings(r->db, &with_ts);
	s->p50_ms = record_latency_at(r->db, with_ts, 0.50);
	s->p99_ms = record_latency_at(r->db, with_ts, 0.99);
	s->max_ms = record_latency_at(r->db, with_ts, 1.0);
	for (size_t i = 0; i < r->engine.n_results; i++) {
		if (r->engine.results[i].passed)
			s->passed++;
		else
			s->failed++;
	}
	if (!record_complete(s))
		s->failed++; /* the case write_junit() adds */
}

/* Each device's account into the record, so a query sees what the summary says. */
static void save_accounts(struct run *r, const char *db_path)
{
	size_t n = r->sc.fleet.n_devices, k = 0;
	struct record_account *rows = calloc(n ? n : 1, sizeof(*rows));
	char err[300];

	if (!rows || !r->books)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct accounting_result a;

		if (!device_keeps_readings(r, i) || account_device(r, i, &a) < 0)
			continue;
		rows[k++] = (struct record_account){
			.device_id = r->sc.fleet.devices[i].id, .taken = a.taken,
			.recorded = a.recorded, .buffered = a.buffered, .dropped = a.dropped,
			.lost = a.lost,
		};
	}
	if (record_write_accounts(db_path, rows, k, err, sizeof(err)) < 0)
		fprintf(stderr, "robofleet: per-device accounts not written to the record (%s); "
			"summary.json has the totals\n", err);
out:
	free(rows);
}

/* Why the record is not complete, for the verdict's failing case. */
static void describe_incomplete(const struct summary *s, char *buf, size_t len)
{
	if (s->unstored)
		snprintf(buf, len, "the recorder received %llu messages (%llu readings) it could not "
			 "store: %s; those readings are counted as lost",
			 (unsigned long long)s->unstored, (unsigned long long)s->unstored_readings,
			 s->store_error[0] ? s->store_error : "write failed");
	else
		snprintf(buf, len, "the record could not be read back to account for every reading");
}

/* @text as a JSON string, or null. */
static void json_string(FILE *f, const char *text)
{
	if (!text) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/*
 * The verdict's files are reserved when the run directory is made (as
 * ".NAME.part", so a run killed before its end leaves no empty verdict
 * behind), so a record that fills the disk cannot also take the room to
 * say so: they are written over their reserved blocks, cut to length and
 * renamed into place.
 */
#define VERDICT_FILE_RESERVE (64 * 1024)

static void reserve_verdict_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/.%s.part", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || (rc = posix_fallocate(fd, 0, VERDICT_FILE_RESERVE)) != 0)
		fprintf(stderr, "robofleet: cannot reserve %s: %s\n", path,
			strerror(fd < 0 ? errno : rc));
	if (fd >= 0)
		close(fd);
}

struct verdict_file {
	FILE *f;
	char part[PATH_MAX + 16];
	char path[PATH_MAX + 16];
};

static int open_verdict_file(const char *dir, const char *name, struct verdict_file *v)
{
	snprintf(v->part, sizeof(v->part), "%s/.%s.part", dir, name);
	snprintf(v->path, sizeof(v->path), "%s/%s", dir, name);
	v->f = fopen(v->part, "r+");
	if (!v->f)
		v->f = fopen(v->part, "w");
	if (!v->f) {
		fprintf(stderr, "robofleet: cannot write %s: %s\n", v->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void close_verdict_file(struct verdict_file *v)
{
	long end = ftell(v->f);
	bool ok = fflush(v->f) == 0 && !ferror(v->f) && end >= 0 &&
		  ftruncate(fileno(v->f), end) == 0;

	if (fclose(v->f) != 0)
		ok = false;
	if (!ok || rename(v->part, v->path) < 0)
		fprintf(stderr, "robofleet: %s may be incomplete: %s\n", v->path, strerror(errno));
}

static void write_summary_json(const struct run *r, const struct summary *s, int engine_rc)
{
	struct verdict_file v;
	FILE *f;

	if (open_verdict_file(r->dir, "summary.json", &v) < 0)
		return;
	f = v.f;
	fprintf(f, "{\n  \"scenario\": \"%s\",\n  \"run_dir\": \"%s\",\n", r->sc.name, r->dir);
	fprintf(f, "  \"completed\": %s,\n", engine_rc == 0 ? "true" : "false");
	fprintf(f, "  \"devices\": %zu,\n  \"online_at_end\": %zu,\n  \"crashes\": %zu,\n",
		s->devices, s->online, s->crashes);
	fprintf(f, "  \"readings\": {\"taken\": %llu, \"published\": %llu, \"recorded\": %llu, "
		"\"buffered_at_end\": %llu, \"lost\": %llu, \"duplicated\": %llu, \"rejected\": %llu, "
		"\"dropped_by_outbox\": %llu},\n",
		(unsigned long long)s->taken, (unsigned long long)s->published,
		(unsigned long long)s->recorded, (unsigned long long)s->buffered,
		(unsigned long long)s->lost, (unsigned long long)s->duplicated,
		(unsigned long long)s->rejected, (unsigned long long)s->dropped);
	fprintf(f, "  \"record\": {\"complete\": %s, \"unstored_messages\": %llu, "
		"\"unstored_readings\": %llu, \"error\": ",
		record_complete(s) ? "true" : "false", (unsigned long long)s->unstored,
		(unsigned long long)s->unstored_readings);
	json_string(f, s->store_error[0] ? s->store_error : NULL);
	fprintf(f, ", \"lock_waits\": %llu, \"lock_wait_max_ms\": %lld},\n",
		(unsigned long long)s->lock_waits, (long long)s->lock_wait_max_ms);
	fprintf(f, "  \"faults\": %llu,\n", (unsigned long long)s->faults);
	if (isnan(s->p50_ms))
		fprintf(f, "  \"latency_ms\": null,\n");
	else
		fprintf(f, "  \"latency_ms\": {\"p50\": %.0f, \"p99\": %.0f, \"max\": %.0f},\n",
			s->p50_ms, s->p99_ms, s->max_ms);
	fprintf(f, "  \"expectations\": {\"passed\": %zu, \"failed\": %zu}\n}\n", s->passed, s->failed);
	close_verdict_file(&v);
}

static int write_junit(const struct run *r, const struct summary *s, const char *path,
		       int engine_rc)
{
	size_t n = r->engine.n_results;
	struct junit_case *cases = calloc(n + 2, sizeof(*cases));
	char why[400], incomplete[400];
	double total = 0;
	int rc;

	if (!cases)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct engine_result *e = &r->engine.results[i];
		cases[i].name = e->name;
		cases[i].classname = r->sc.name;
		cases[i].time_s = e->time_s;
		cases[i].failed = !e->passed;
		cases[i].message = e->message;
		total += e->time_s;
	}
	/* A run that broke off or lost devices fails CI even if every
	 * expectation it reached held. */
	if (engine_rc < 0 || r->crashes > 0) {
		snprintf(why, sizeof(why), "%s%s%llu device crash(es)",
			 engine_rc < 0 ? (r->engine.error[0] ? r->engine.error : strerror(-engine_rc)) : "",
			 engine_rc < 0 ? "; " : "", (unsigned long long)r->crashes);
		cases[n].name = "run completed without crashes";
		cases[n].classname = r->sc.name;
		cases[n].failed = true;
		cases[n].message = why;
		n++;
	}
	/* A verdict never passes over readings the record does not hold. */
	if (!record_complete(s)) {
		describe_incomplete(s, incomplete, sizeof(incomplete));
		cases[n].name = "record complete";
		cases[n].classname = r->sc.name;
		cases[n].failed = true;
		cases[n].message = incomplete;
		n++;
	}
	rc = junit_write(path, r->sc.name, cases, n, total);
	free(cases);
	return rc;
}

static void print_verdict(FILE *out, const struct run *r, const struct summary *s)
{
	for (size_t i = 0; i < r->engine.n_results; i++) {
		const struct engine_result *e = &r->engine.results[i];
		fprintf(out, "%s %s%s%s\n", e->passed ? "PASS" : "FAIL", e->name, e->passed ? "" : ": ",
		       e->passed ? "" : e->message);
	}
	if (!record_complete(s)) {
		char why[400];

		describe_incomplete(s, why, sizeof(why));
		fprintf(out, "FAIL record complete: %s\n", why);
	}
	fprintf(out, "\ndevices %zu, online at end %zu, crashes %zu\n", s->devices, s->online, s->crashes);
	fprintf(out, "readings taken %llu, published %llu, recorded %llu, still buffered %llu, lost %llu\n",
	       (unsigned long long)s->taken, (unsigned long long)s->published,
	       (unsigned long long)s->recorded, (unsigned long long)s->buffered,
	       (unsigned long long)s->lost);
	fprintf(out, "redelivered (stored once) %llu, rejected %llu\n",
	       (unsigned long long)s->duplicated, (unsigned long long)s->rejected);
	if (s->lock_waits)
		fprintf(out, "record.db was locked by another process %llu times, longest %lld ms\n",
			(unsigned long long)s->lock_waits, (long long)s->lock_wait_max_ms);
	if (s->dropped || s->faults)
		fprintf(out, "faults applied %llu; readings dropped by full outboxes %llu\n",
			(unsigned long long)s->faults, (unsigned long long)s->dropped);
	if (!isnan(s->p50_ms))
		fprintf(out, "latency device->record p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		       s->p50_ms, s->p99_ms, s->max_ms);
	fprintf(out, "expectations %zu passed, %zu failed\n", s->passed, s->failed);
	fprintf(out, "run directory %s\n", r->dir);
}

/* ---- the whole run ------------------------------------------------------------ */

/*
 * The end of a run, in the order that makes the summary the record: note
 * who is online, stop the fleet (each robot says `offline` and keeps what
 * it could not send in its outbox), read every robot's last report, wait
 * until the recorder holds everything the broker took (a marker through
 * the broker, then its last commit, retries included), and only then
 * count.
 */
static void wind_down(struct run *r, size_t *online_at_end)
{
	uint64_t online;

	*online_at_end = 0;
	if (!r->recorder || !r->db)
		return;
	settle(r);
	record_count_online(r->db, &online);
	*online_at_end = (size_t)online;
	if (r->fleet.devices) {
		fleet_stop_all(&r->fleet, STOP_TIMEOUT_MS);
		fleet_reap(&r->fleet, on_device_exit, r);
	}
	book_all(r, RECORDER_STORE_DEADLINE_MS + STOP_TIMEOUT_MS);
	if (recorder_stop(r->recorder) < 0)
		fprintf(stderr, "robofleet: the recorder is still writing after %d s; the summary "
			"may miss its last batch\n", STOP_TIMEOUT_MS / 1000);
}

/* Like a fleet the machine cannot hold: refuse a record the disk cannot. */
static int check_disk(const struct run *r)
{
	const char *parent = r->opt->runs_dir ? r->opt->runs_dir : "runs";
	struct disk_estimate e;
	uint64_t free_bytes;
	int rc;

	disk_estimate_run(&r->sc, &e);
	if ((rc = disk_free_bytes(parent, &free_bytes)) < 0) {
		fprintf(stderr, "robofleet: cannot tell the free space for %s: %s\n", parent,
			strerror(-rc));
		return r->opt->allow_low_disk ? 0 : -EIO;
	}
	if (free_bytes >= e.bytes)
		return 0;
	fprintf(stderr, "robofleet: %s has %.1f MB free; this run needs about %.1f MB "
		"(%llu readings from %zu devices over at most %.0f s, and their devices' storage)\n",
		parent, (double)free_bytes / 1e6, (double)e.bytes / 1e6,
		(unsigned long long)e.readings, r->sc.fleet.n_devices, (double)e.longest_ms / 1000);
	if (r->opt->allow_low_disk) {
		fprintf(stderr, "robofleet: --allow-low-disk: starting anyway; a record that fills "
			"the disk fails the run\n");
		return 0;
	}
	fprintf(stderr, "robofleet: free space there, choose another --runs-dir, or give "
		"--allow-low-disk to run anyway\n");
	return -ENOSPC;
}

static void tear_down(struct run *r)
{
	/* Reserved verdict files a run that broke off early never wrote. */
	if (r->dir[0]) {
		char part[PATH_MAX + 16];

		snprintf(part, sizeof(part), "%s/.summary.json.part", r->dir);
		unlink(part);
		snprintf(part, sizeof(part), "%s/.report.txt.part", r->dir);
		unlink(part);
	}
	stop_tui(r);
	control_close(&r->control);
	free(r->restores);
	r->restores = NULL;
	if (r->fleet.devices) {
		fleet_stop_all(&r->fleet, STOP_TIMEOUT_MS);
		fleet_reap(&r->fleet, NULL, NULL);
	}
	if (r->recorder) {
		recorder_close(r->recorder);
		r->recorder = NULL;
	}
	if (r->cloud) {
		mosquitto_disconnect(r->cloud);
		mosquitto_loop_stop(r->cloud, false);
		mosquitto_destroy(r->cloud);
		r->cloud = NULL;
	}
	if (!r->broker.external)
		broker_stop(&r->broker, STOP_TIMEOUT_MS);
	record_close(r->db);
	r->db = NULL;
	if (r->books)
		for (size_t i = 0; i < r->sc.fleet.n_devices; i++)
			accounting_device_free(&r->books[i]);
	free(r->books);
	r->books = NULL;
	fleet_free(&r->fleet);
	free(r->args);
	r->args = NULL;
	free(r->faults);
	r->faults = NULL;
	free(r->faults_injected);
	r->faults_injected = NULL;
	free(r->published_before);
	r->published_before = NULL;
	free(r->published_boot);
	r->published_boot = NULL;
	engine_free(&r->engine);
	if (r->world.hdr)
		world_close(&r->world);
	scenario_free(&r->sc);
}

int run_scenario(const struct run_options *o)
{
	struct run r;
	struct scenario_error err;
	struct recorder_opts ro;
	struct summary s;
	char db_path[PATH_MAX + 16], client_id[64], errbuf[200];
	size_t online_at_end = 0;
	int rc, status = 1;

	memset(&r, 0, sizeof(r));
	r.opt = o;
	r.control.rfd = r.control.wfd = -1;
	if (scenario_parse_file(o->scenario_path, &r.sc, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 2;
	}
	if (o->broker) {
		const char *h;
		size_t hlen;
		uint16_t p;
		/* Bad options end the command before anything is created. */
		if (robot_config_split_broker(o->broker, &h, &hlen, &p) < 0) {
			fprintf(stderr, "robofleet: --broker '%s': want HOST[:PORT]\n", o->broker);
			scenario_free(&r.sc);
			return 2;
		}
	}
	/* Like a bad file: nothing is created when the machine cannot hold the fleet. */
	if (check_fleet_limits(r.sc.fleet.n_devices,
			       !o->broker && r.sc.fleet.broker != SCENARIO_BROKER_EXTERNAL) < 0) {
		scenario_free(&r.sc);
		return 2;
	}
	if (check_disk(&r) < 0) {
		scenario_free(&r.sc);
		return 2;
	}
	/* SIGINT and SIGTERM stop the run: they wake the engine's sleep through
	 * the self-pipe; SIGPIPE is ignored. */
	if ((rc = posix_signal_setup()) < 0 || (rc = make_run_dir(&r)) < 0) {
		fprintf(stderr, "robofleet: cannot create the run directory: %s\n", strerror(-rc));
		goto out;
	}
	say(&r, "robofleet: %s, %zu devices, run directory %s\n", r.sc.name, r.sc.fleet.n_devices, r.dir);
	reserve_verdict_file(r.dir, "summary.json");
	reserve_verdict_file(r.dir, "report.txt");
	if ((rc = set_up_world(&r)) < 0) {
		fprintf(stderr, "robofleet: world file: %s\n", strerror(-rc));
		goto out;
	}
	r.status.pid = (int32_t)getpid();
	r.status.steps_total = (uint32_t)r.sc.n_steps_total;
	set_phase(&r, WORLD_RUN_STARTING);
	/* Without the channel the run still works; the dashboard is read-only. */
	if ((rc = control_open(&r.control, r.dir)) < 0)
		fprintf(stderr, "robofleet: no dashboard control channel: %s\n", strerror(-rc));
	if (o->tui && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "robofleet: --tui needs a terminal\n");
		status = 2;
		goto out;
	}
	if (o->tui && (rc = start_tui(&r)) < 0) {
		fprintf(stderr, "robofleet: cannot start the dashboard: %s\n", strerror(-rc));
		goto out;
	}

	mosquitto_lib_init();
	if (o->broker || r.sc.fleet.broker == SCENARIO_BROKER_EXTERNAL) {
		char host[256];
		int port = r.sc.fleet.broker_port;
		snprintf(host, sizeof(host), "%s", r.sc.fleet.broker_host ? r.sc.fleet.broker_host : "");
		if (o->broker) {
			const char *h;
			size_t hlen;
			uint16_t p;
			if (robot_config_split_broker(o->broker, &h, &hlen, &p) < 0 ||
			    hlen >= sizeof(host)) {
				fprintf(stderr, "robofleet: --broker '%s': want HOST[:PORT]\n", o->broker);
				status = 2;
				goto out;
			}
			snprintf(host, sizeof(host), "%.*s", (int)hlen, h);
			port = p;
		}
		if ((rc = broker_configure_external(&r.broker, host, port)) < 0) {
			fprintf(stderr, "robofleet: --broker %s: want HOST:PORT\n", o->broker ? o->broker : host);
			status = 2;
			goto out;
		}
	} else {
		if ((rc = broker_configure_embedded(&r.broker, r.dir, 0)) < 0 ||
		    (rc = broker_start(&r.broker, STOP_TIMEOUT_MS)) < 0) {
			fprintf(stderr, "robofleet: embedded mosquitto did not start: %s (see %s/mosquitto.log)\n",
				strerror(-rc), r.dir);
			goto out;
		}
		say(&r, "robofleet: mosquitto on %s:%d (watch: mosquitto_sub -h %s -p %d -v -t 'sensors/#')\n",
		    r.broker.host, r.broker.port, r.broker.host, r.broker.port);
	}

	if (r.world.hdr) {
		atomic_store(&r.world.hdr->broker_port, (int32_t)r.broker.port);
		atomic_store(&r.world.hdr->broker_state, 1u);
	}
	snprintf(db_path, sizeof(db_path), "%s/record.db", r.dir);
	snprintf(client_id, sizeof(client_id), "robofleet-recorder-%ld", (long)getpid());
	memset(&ro, 0, sizeof(ro));
	ro.db_path = db_path;
	ro.client_id = client_id;
	ro.store_deadline_ms = RECORDER_STORE_DEADLINE_MS;
	if ((rc = recorder_open(&ro, &r.recorder)) < 0 ||
	    (rc = recorder_start(r.recorder, r.broker.host, r.broker.port)) < 0 ||
	    (rc = recorder_wait_subscribed(r.recorder, STOP_TIMEOUT_MS)) < 0) {
		fprintf(stderr, "robofleet: recorder: %s\n", strerror(-rc));
		goto out;
	}
	if (record_open(db_path, 2000, &r.db, errbuf, sizeof(errbuf)) < 0) {
		fprintf(stderr, "robofleet: cannot read %s\n", db_path);
		goto out;
	}
	if ((rc = connect_cloud(&r)) < 0) {
		fprintf(stderr, "robofleet: command publisher: %s\n", strerror(-rc));
		goto out;
	}
	if ((rc = set_up_fleet(&r)) < 0)
		goto out;
	if ((rc = engine_init(&r.engine, &r.sc, &run_ops, &r)) < 0)
		goto out;
	r.wall_offset_ms = wall_ms() - mono_ms();
	if ((rc = start_fleet(&r)) < 0)
		goto interrupted_or_out;
	say(&r, "robofleet: %zu devices started\n", r.fleet.count);

	set_phase(&r, WORLD_RUN_RUNNING);
	rc = engine_run(&r.engine);
	control_tick(&r); /* the last expectations into the header */
interrupted_or_out:
	set_phase(&r, rc == 0 ? WORLD_RUN_FINISHED : WORLD_RUN_INTERRUPTED);
	stop_tui(&r);
	if (rc == -ECANCELED || posix_signal_received()) {
		fprintf(stderr, "robofleet: interrupted; stopping the fleet\n");
		status = 130;
	} else if (rc < 0) {
		fprintf(stderr, "robofleet: %s\n", r.engine.error[0] ? r.engine.error : strerror(-rc));
	}
	wind_down(&r, &online_at_end);
	summarise(&r, &s, online_at_end);
	if (r.recorder)
		save_accounts(&r, db_path);
	write_summary_json(&r, &s, rc);
	if (o->junit_path && write_junit(&r, &s, o->junit_path, rc) < 0)
		fprintf(stderr, "robofleet: cannot write %s\n", o->junit_path);
	if (!o->quiet)
		print_verdict(stdout, &r, &s);
	{
		struct verdict_file v;

		if (open_verdict_file(r.dir, "report.txt", &v) == 0) {
			print_verdict(v.f, &r, &s);
			close_verdict_file(&v);
		}
	}
	if (status != 130)
		status = (rc == 0 && s.failed == 0 && s.crashes == 0) ? 0 : 1;
out:
	tear_down(&r);
	mosquitto_lib_cleanup();
	return status;
}
