/*
 * The run's side of the HTTP transport: serving the ingest endpoint (or
 * pointing HTTP devices at --ingest), routing the commands the run and any
 * cloud app publish to the devices that cannot subscribe, and playing the
 * server faults of the catalog (layer server) as each device meets them.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "ingest.h"
#include "ingest_request.h"
#include "run_internal.h"


static void ingest_log(void *ctx, const char *msg)
{
	const struct run *r = ctx;

	run__say(r, "robofleet: ingest: %s\n", msg);
}

/* From the endpoint's threads: the world slot is seqlocked, the scenario read-only. */
static void device_fault(void *ctx, const char *device_id, enum ingest_fault *fault, int *status,
			 uint32_t *delay_ms)
{
	struct run *r = ctx;
	long dev = scenario_device_find(&r->sc, device_id);
	struct world_slot *slot = dev < 0 ? NULL : world_get_slot(&r->world, (uint32_t)dev);
	struct world_faults wf;

	*fault = INGEST_FAULT_NONE;
	if (!slot || world_read_faults(slot, &wf) < 0)
		return;
	switch (wf.ingest_mode) {
	case WORLD_INGEST_ERROR:
		*fault = INGEST_FAULT_STATUS;
		*status = wf.ingest_status;
		break;
	case WORLD_INGEST_SLOW:
		*fault = INGEST_FAULT_SLOW;
		*delay_ms = wf.ingest_delay_ms;
		break;
	case WORLD_INGEST_RESET:
		*fault = INGEST_FAULT_RESET;
		break;
	default: /* refuse acts on the whole endpoint: run__ingest_tick() */
		break;
	}
}

/* A server fault step makes sense only against the run's own endpoint. */
static int check_external(const struct run *r, const struct scenario_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct scenario_step *st = &steps[i];
		int rc;

		if (st->kind == SCENARIO_STEP_REPEAT &&
		    (rc = check_external(r, st->repeat.steps, st->repeat.n_steps)) < 0)
			return rc;
		if (st->kind == SCENARIO_STEP_FAULT &&
		    scenario_fault_layer(st->fault.kind) == SCENARIO_LAYER_SERVER) {
			fprintf(stderr, "robofleet: %s:%u: fault %s acts on the run's own ingest "
				"endpoint; with --ingest the devices post to %s\n",
				r->opt->scenario_path, st->pos.line,
				scenario_fault_kind_name(st->fault.kind), r->opt->ingest_url);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The recorder saw a command on a device's command topic (a command step,
 * the dashboard, or any cloud app publishing one): a device that posts over
 * HTTP cannot subscribe, so the endpoint hands it over in its next answer.
 * From the recorder's network thread.
 */
void run__route_command(void *ctx, const char *device_id, const void *payload, size_t len)
{
	struct run *r = ctx;
	long dev = scenario_device_find(&r->sc, device_id);
	enum robot_command cmd;

	if (dev < 0 ||
	    r->sc.fleet.groups[r->sc.fleet.devices[dev].group].transport != SCENARIO_TRANSPORT_HTTP)
		return;
	cmd = command_parse(payload, len);
	if (cmd == ROBOT_CMD_INVALID)
		return;
	pthread_mutex_lock(&r->ingest_lock);
	if (r->ingest && ingest_command(r->ingest, device_id,
					cmd == ROBOT_CMD_START ? "start" : "stop") < 0)
		fprintf(stderr, "robofleet: ingest: command for %s not queued\n", device_id);
	pthread_mutex_unlock(&r->ingest_lock);
}

int run__start_ingest(struct run *r)
{
	struct ingest *in;
	struct ingest_opts o;
	char err[256];
	int rc;

	if (!scenario_has_http(&r->sc))
		return 0;
	if (r->opt->ingest_url) {
		if ((rc = check_external(r, r->sc.steps, r->sc.n_steps)) < 0)
			return rc;
		snprintf(r->ingest_url, sizeof(r->ingest_url), "%s", r->opt->ingest_url);
		run__say(r, "robofleet: HTTP devices post to %s\n", r->ingest_url);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.recorder = r->recorder;
	o.log = ingest_log;
	o.log_ctx = r;
	o.device_fault = device_fault;
	o.device_fault_ctx = r;
	if ((rc = ingest_start(&o, &in, err, sizeof(err))) < 0) {
		fprintf(stderr, "robofleet: ingest endpoint: %s\n", err);
		return rc;
	}
	pthread_mutex_lock(&r->ingest_lock);
	r->ingest = in;
	pthread_mutex_unlock(&r->ingest_lock);
	snprintf(r->ingest_url, sizeof(r->ingest_url), "http://127.0.0.1:%u" INGEST_DATA_PATH,
		 (unsigned)ingest_port(r->ingest));
	run__say(r, "robofleet: ingest endpoint on %s (try: curl -d @reading.json -H "
		 "'Content-Type: application/json' %s)\n", r->ingest_url, r->ingest_url);
	return 0;
}

/*
 * A closed port refuses everyone: the endpoint stops accepting while any
 * device holds ingest_refuse, and listens again when none does.
 */
void run__ingest_tick(struct run *r)
{
	bool refuse = false;

	if (!r->ingest || !r->faults)
		return;
	for (size_t i = 0; i < r->sc.fleet.n_devices && !refuse; i++)
		refuse = r->faults[i].ingest_mode == WORLD_INGEST_REFUSE;
	if (refuse != r->ingest_refusing) {
		ingest_set_fault(r->ingest, refuse ? INGEST_FAULT_REFUSE : INGEST_FAULT_NONE, 0, 0);
		r->ingest_refusing = refuse;
	}
}

void run__stop_ingest(struct run *r)
{
	struct ingest_stats st;
	struct ingest *in = r->ingest;

	if (!in)
		return;
	pthread_mutex_lock(&r->ingest_lock);
	r->ingest = NULL; /* no command is routed to it from here on */
	pthread_mutex_unlock(&r->ingest_lock);
	ingest_read_stats(in, &st);
	ingest_stop(in);
	run__say(r, "robofleet: ingest: %llu requests, %llu readings stored, %llu bad (400), "
		 "%llu too large (413), %llu answered by a fault\n",
		 (unsigned long long)st.requests, (unsigned long long)st.stored,
		 (unsigned long long)st.bad_request, (unsigned long long)st.too_large,
		 (unsigned long long)st.faulted);
}
