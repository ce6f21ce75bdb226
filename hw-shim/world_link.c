/*
 * The device's side of the world file: take the environment the scenario
 * sets, hand back what hal_system_report() says. Without --world the device
 * keeps its command-line environment and reports to nobody.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hal_system.h"
#include "robot.h"
#include "shim.h"
#include "shim_internal.h"
#include "world.h"

static struct world world;
static struct world_slot *slot;
static struct shim_env *local_env;
static uint32_t faults_seq;         /* fault_seq of the set in force; 0: none */

/* Each fault goes to the layer where it happens on a real board. */
static void apply_faults(const struct world_faults *f)
{
	shim__link_set_faults(f);
	shim__mqtt_set_faults(f);
	shim__dht22_set_faults(f);
	shim__hcsr04_set_faults(f);
	shim__storage_set_faults(f);
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
	/* Back to healthy hardware: a fault set of zeros. */
	if (faults_seq != 0)
		apply_faults(&healthy);
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
	apply_faults(&f);
	return true;
}

void hal_system_report(const struct robot_status *st)
{
	struct world_report rep;
	struct timespec ts;

	if (!slot)
		return;
	memset(&rep, 0, sizeof(rep));
	rep.state = (uint32_t)st->state;
	rep.running = st->running;
	rep.boot = st->boot;
	rep.seq = st->seq;
	rep.climate_err = st->climate_err;
	rep.distance_err = st->distance_err;
	rep.temp_dc = st->temp_dc;
	rep.humidity_dpct = st->humidity_dpct;
	rep.distance_mm = st->distance_mm;
	rep.counters = st->counters;
	rep.oldest_boot = st->oldest_boot;
	rep.oldest_seq = st->oldest_seq;
	clock_gettime(CLOCK_REALTIME, &ts);
	rep.updated_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	world_write_report(slot, &rep);
}
