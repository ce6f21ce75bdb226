/*
 * The device's side of the world file: take the environment the scenario
 * sets, hand back what hal_system_report() says, and give the models their
 * one fault set: the world's over the command line's. Without --world the
 * device keeps its command-line environment and faults and reports to nobody.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault_catalog.h"
#include "hal_system.h"
#include "robot.h"
#include "shim.h"
#include "shim_internal.h"
#include "world.h"

static struct world world;
static struct world_slot *slot;
static struct shim_env *local_env;
static uint32_t faults_seq;         /* fault_seq of the set in force; 0: none */
static struct world_faults world_set;   /* the slot's set in force; zeros: none */
static struct world_faults own_set;     /* the command line's (shim_dht22_set_fault ...) */

/*
 * The one set the models see: the world's, with the command line's sensor
 * faults where the world leaves the field alone. A mode the world sets
 * wins (as a scenario's fault should); a probability is the larger one.
 */
static void merge(const struct world_faults *own, const struct world_faults *w,
		  struct world_faults *out)
{
	*out = *w;
	if (out->dht_mode == WORLD_DHT_OK)
		out->dht_mode = own->dht_mode;
	if (out->dht_checksum_ppm < own->dht_checksum_ppm)
		out->dht_checksum_ppm = own->dht_checksum_ppm;
	if (out->dht_stretch_ppm < own->dht_stretch_ppm)
		out->dht_stretch_ppm = own->dht_stretch_ppm;
	if (out->sonar_mode == WORLD_SONAR_OK)
		out->sonar_mode = own->sonar_mode;
}

/* Each fault goes to the layer where it happens on a real board. */
static void apply_faults(void)
{
	struct world_faults f;

	merge(&own_set, &world_set, &f);
	shim__link_set_faults(&f);
	shim__mqtt_set_faults(&f);
	shim__dht22_set_faults(&f);
	shim__hcsr04_set_faults(&f);
	shim__storage_set_faults(&f);
	shim__credentials_set_faults(&f);
}

/*
 * The command line's words for sensor faults are catalog kinds, put into
 * the device's own set with the catalog's defaults (probability 1), so they
 * reach the models by the same path as the world's. -1: none.
 */
static const int dht_kinds[] = {
	[SHIM_DHT_OK] = -1,
	[SHIM_DHT_NO_RESPONSE] = FAULT_DHT_NO_RESPONSE,
	[SHIM_DHT_CHECKSUM] = FAULT_DHT_CHECKSUM,
	[SHIM_DHT_STRETCHED] = FAULT_DHT_STRETCHED,
	[SHIM_DHT_TRUNCATED] = FAULT_DHT_TRUNCATED,
};

static const int sonar_kinds[] = {
	[SHIM_SONAR_OK] = -1,
	[SHIM_SONAR_NO_ECHO] = FAULT_SONAR_NO_ECHO,
	[SHIM_SONAR_STUCK_HIGH] = FAULT_SONAR_STUCK_HIGH,
	[SHIM_SONAR_SILENT] = FAULT_SONAR_SILENT,
};

#define KIND_OF(table, i) ((unsigned)(i) < sizeof(table) / sizeof((table)[0]) ? (table)[i] : -1)

/* Replace the @layer part of the device's own set with @kind (-1: none). */
static void own_set_layer(enum fault_layer layer, int kind)
{
	struct fault_params p;

	for (int k = 0; k < FAULT_KIND_COUNT; k++)
		if (fault_catalog[k].layer == layer)
			fault_catalog_clear(&own_set, k);
	if (kind >= 0) {
		fault_catalog_defaults(kind, true, &p);
		fault_catalog_apply(&own_set, kind, &p, own_set.seed, 0);
	}
	apply_faults();
}

void shim_dht22_set_fault(enum shim_dht_fault fault)
{
	own_set_layer(FAULT_LAYER_DHT, KIND_OF(dht_kinds, fault));
}

void shim_hcsr04_set_fault(enum shim_sonar_fault fault)
{
	own_set_layer(FAULT_LAYER_SONAR, KIND_OF(sonar_kinds, fault));
}

int shim__world_attach(const char *path, uint32_t index, const char *device_id,
		       struct shim_env *env)
{
	int rc = world_open(path, &world);

	if (rc < 0) {
		fprintf(stderr, "robofleet-device: world %s: %s\n", path,
			rc == -EPROTO ? "not a robofleet world file of this version" : strerror(-rc));
		return rc;
	}
	slot = world_get_slot(&world, index);
	if (!slot) {
		fprintf(stderr, "robofleet-device: world %s has %u slots; --slot %u is out of range\n",
			path, world.hdr->slot_count, index);
		world_close(&world);
		return -ERANGE;
	}
	if (slot->device_id[0] && strcmp(slot->device_id, device_id) != 0) {
		fprintf(stderr, "robofleet-device: world slot %u belongs to %s, not %s\n",
			index, slot->device_id, device_id);
		world_close(&world);
		slot = NULL;
		return -EINVAL;
	}
	local_env = env;
	faults_seq = 0;
	atomic_store(&slot->pid, (int32_t)getpid());
	shim__world_sync();
	return 0;
}

void shim__world_detach(void)
{
	static const struct world_faults healthy;

	if (slot)
		atomic_store(&slot->pid, 0);
	/* Back to healthy hardware: the world's set is gone (the command
	 * line's stays, as it was before the world came). */
	if (faults_seq != 0) {
		world_set = healthy;
		apply_faults();
	}
	faults_seq = 0;
	slot = NULL;
	local_env = NULL;
	if (world.hdr)
		world_close(&world);
}

bool shim__world_sync(void)
{
	struct world_env e;
	struct world_faults f;
	uint32_t seq;

	if (!slot)
		return false;
	/* A slot whose environment was never written leaves the command
	 * line's values in force. */
	if (local_env && atomic_load(&slot->env_seq) != 0 && world_read_env(slot, &e) == 0) {
		local_env->temperature_c = e.temperature_c;
		local_env->humidity_pct = e.humidity_pct;
		local_env->distance_cm = e.distance_cm;
		local_env->noise = e.noise;
	}
	/* Ten thousand devices run this at every wait: one atomic load is all
	 * it costs while the faults stay as they are. An odd sequence is a
	 * write in progress; the next wait will see it finished. */
	seq = atomic_load_explicit(&slot->fault_seq, memory_order_acquire);
	if (seq == faults_seq || (seq & 1))
		return false;
	if (world_read_faults(slot, &f) < 0)
		return false;
	faults_seq = seq;
	world_set = f;
	apply_faults();
	return true;
}

/* The world's own names for the firmware's states, one by one: the world
 * file must not change when the firmware's enum does. */
static uint32_t world_state_of(enum robot_state s)
{
	switch (s) {
	case ROBOT_BOOT: return WORLD_ROBOT_BOOT;
	case ROBOT_LINK_CONNECTING: return WORLD_ROBOT_LINK_CONNECTING;
	case ROBOT_MQTT_CONNECTING: return WORLD_ROBOT_MQTT_CONNECTING;
	case ROBOT_ONLINE: return WORLD_ROBOT_ONLINE;
	case ROBOT_BACKOFF: return WORLD_ROBOT_BACKOFF;
	case ROBOT_SHUTTING_DOWN: return WORLD_ROBOT_SHUTTING_DOWN;
	case ROBOT_DONE: return WORLD_ROBOT_DONE;
	}
	return WORLD_ROBOT_BOOT;
}

/* Field by field, so the world's counters keep their layout whatever the
 * firmware's struct becomes. */
static void copy_counters(const struct robot_counters *c, struct world_counters *w)
{
	w->readings_ok = c->readings_ok;
	w->readings_failed = c->readings_failed;
	w->spikes_rejected = c->spikes_rejected;
	w->published = c->published;
	w->acknowledged = c->acknowledged;
	w->buffered = c->buffered;
	w->dropped = c->dropped;
	w->unpersisted = c->unpersisted;
	w->redelivered = c->redelivered;
	w->publish_errors = c->publish_errors;
	w->commands = c->commands;
	w->commands_invalid = c->commands_invalid;
	w->reconnects = c->reconnects;
	w->link_failures = c->link_failures;
}

void hal_system_report(const struct robot_status *st)
{
	struct world_report rep;
	struct timespec ts;

	if (!slot)
		return;
	memset(&rep, 0, sizeof(rep));
	rep.state = world_state_of(st->state);
	rep.running = st->running;
	rep.boot = st->boot;
	rep.seq = st->seq;
	rep.climate_err = st->climate_err;
	rep.distance_err = st->distance_err;
	rep.temp_dc = st->temp_dc;
	rep.humidity_dpct = st->humidity_dpct;
	rep.distance_mm = st->distance_mm;
	copy_counters(&st->counters, &rep.counters);
	rep.oldest_boot = st->oldest_boot;
	rep.oldest_seq = st->oldest_seq;
	rep.http_refused = st->counters.http_refused;
	clock_gettime(CLOCK_REALTIME, &ts);
	rep.updated_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	world_write_report(slot, &rep);
}
