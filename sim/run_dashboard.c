/* `robofleet run`: the dashboard's requests through the control FIFO, the run's progress in the world header, and --tui. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_apply.h"
#include "posix_hal.h"
#include "run_internal.h"
#include "tui.h"

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
		return run__power(r, dev, SCENARIO_POWER_ON);
	if ((rc = run__power(r, dev, SCENARIO_POWER_OFF)) < 0 || strcmp(a, "cycle"))
		return rc;
	if (r->n_restores == r->cap_restores) {
		size_t cap = r->cap_restores ? 2 * r->cap_restores : 16;
		struct pending_restore *p = realloc(r->restores, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->restores = p;
		r->cap_restores = cap;
	}
	r->restores[r->n_restores++] = (struct pending_restore){ dev, run__mono_ms() + DASHBOARD_CYCLE_OFF_MS };
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
		if (dashboard_fault(&f, q->arg) < 0)
			break;
		if (scenario_fault_needs(f.kind, r->sc.fleet.security)) {
			fprintf(stderr, "robofleet: dashboard: fault %s needs %s; this run has "
				"security: %s\n", q->arg, scenario_fault_needs(f.kind,
									r->sc.fleet.security),
				scenario_security_name(r->sc.fleet.security));
			rc = -ENOTSUP;
			break;
		}
		if (scenario_fault_layer(f.kind) == SCENARIO_LAYER_SERVER &&
		    (r->sc.fleet.groups[r->sc.fleet.devices[dev].group].transport !=
		     SCENARIO_TRANSPORT_HTTP || !r->ingest)) {
			fprintf(stderr, "robofleet: dashboard: fault %s acts on the run's own ingest "
				"endpoint; %s does not post to it\n", q->arg, q->device);
			rc = -ENOTSUP;
			break;
		}
		rc = run__fault(r, (size_t)dev, &f);
		break;
	case CONTROL_CLEAR:
		memset(&c, 0, sizeof(c));
		c.kind_set = q->arg[0] != '\0';
		if (!c.kind_set || dashboard_fault(&f, q->arg) == 0) {
			c.kind = f.kind;
			rc = run__clear(r, (size_t)dev, &c);
		}
		break;
	case CONTROL_POWER:
		rc = dashboard_power(r, (size_t)dev, q->arg);
		break;
	case CONTROL_COMMAND:
	{
		const char *payload = !strcmp(q->arg, "stop") ? "{\"action\":\"stop\"}" :
				      "{\"action\":\"start\"}";
		rc = run__command(r, (size_t)dev, payload, strlen(payload));
	}
		/* Not a fault, but a person's doing: the event log shows it. */
		if (rc == 0)
			run__note_fault(r, q->device, "command", q->arg, NULL);
		break;
	case CONTROL_BROKER:
		if (dashboard_broker(q->arg, &b) == 0)
			rc = run__broker(r, b);
		break;
	}
	r->fault_source = NULL;
	if (rc < 0)
		fprintf(stderr, "robofleet: dashboard request '%s %s %s' failed: %s\n",
			q->verb == CONTROL_BROKER ? "broker" : "device", q->device, q->arg, strerror(-rc));
}

/* From the sleep loop: requests, due restores, and the verdict so far. */
void run__control_tick(struct run *r)
{
	bool changed = false;

	control_drain(&r->control, control_apply, r);
	for (size_t i = 0; i < r->n_restores;) {
		if (run__mono_ms() < r->restores[i].due_ms) {
			i++;
			continue;
		}
		r->fault_source = "dashboard";
		run__power(r, r->restores[i].dev, SCENARIO_POWER_ON);
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
	run__report_tick(r);
}

void run__set_phase(struct run *r, enum world_run_phase ph)
{
	if (!r->world.hdr)
		return;
	r->status.phase = ph;
	if (ph == WORLD_RUN_RUNNING)
		r->status.started_ms = run__wall_ms();
	if (ph >= WORLD_RUN_FINISHED)
		r->status.ended_ms = run__wall_ms();
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
int run__start_tui(struct run *r)
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

void run__stop_tui(struct run *r)
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
