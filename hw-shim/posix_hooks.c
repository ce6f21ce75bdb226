/*
 * Where the virtual hardware reaches into the shared POSIX HAL
 * (firmware/boards/posix/): the link model under the MQTT session and the
 * credentials it presents, the
 * emulated flash's faults under the file store, and the virtual clock, the
 * world and the link's edges in the wait. A real board registers none of
 * these, so everything virtual stays on this side.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "hal_link.h"
#include "posix_hal.h"
#include "shim.h"
#include "shim_internal.h"
#include "world.h"

#define PPM 1000000u

/* A weak signal holds every publish back for the link to decide on. */
static bool weak_signal;

/* The flash faults in force. They outlive an open and a close: the world
 * hands them over before the store is opened at boot. */
static struct {
	uint32_t fail_ppm;         /* a write fails with -EIO with this probability */
	bool full;                 /* every write fails with -ENOSPC */
	bool corrupt;              /* damage one record at the next open */
	uint64_t seed;
	uint64_t rng;              /* the write failures' stream */
} flash;

/* ---- MQTT: the link model sits under the session, as a radio would -------- */

static bool mqtt_link_carries(void *ctx)
{
	(void)ctx;
	return hal_link_get_state() == HAL_LINK_UP;
}

static bool mqtt_holds_publishes(void *ctx)
{
	(void)ctx;
	return weak_signal;
}

static int mqtt_transmit(void *ctx, uint32_t *delay_ms)
{
	(void)ctx;
	return shim__link_transmit(delay_ms);
}

static void mqtt_credentials(void *ctx, struct posix_mqtt_tls *tls, const char **password)
{
	(void)ctx;
	shim__credentials_present(tls, password);
}

static const struct posix_mqtt_hooks mqtt_hooks = {
	.link_carries = mqtt_link_carries,
	.holds_publishes = mqtt_holds_publishes,
	.transmit = mqtt_transmit,
	.credentials = mqtt_credentials,
};

void shim__mqtt_set_faults(const struct world_faults *f)
{
	weak_signal = f->weak_loss_ppm || f->weak_latency_ms;
}

/* ---- storage: the emulated flash's faults --------------------------------- */

static int flash_check_write(void *ctx)
{
	(void)ctx;
	if (flash.full)
		return -ENOSPC;
	if (flash.fail_ppm && shim_random_next(&flash.rng) % PPM < flash.fail_ppm)
		return -EIO;
	return 0;
}

static bool flash_damage_at_open(void *ctx, uint64_t *seed)
{
	(void)ctx;
	if (!flash.corrupt)
		return false;
	*seed = flash.seed;
	return true;
}

static const struct posix_storage_hooks storage_hooks = {
	.check_write = flash_check_write,
	.damage_at_open = flash_damage_at_open,
};

void shim__storage_set_faults(const struct world_faults *f)
{
	static const struct world_faults healthy;

	if (!f)
		f = &healthy;
	flash.fail_ppm = f->flash_fail_ppm < PPM ? f->flash_fail_ppm : PPM;
	flash.full = f->flash_full != 0;
	flash.corrupt = f->flash_corrupt != 0;
	flash.seed = f->seed;
	flash.rng = f->seed ^ 0xf1a5f1a5u;
}

/* ---- the wait -------------------------------------------------------------- */

static bool wait_enter(void *ctx)
{
	(void)ctx;
	/* Bit-banging is over: the clock may follow the wall again. */
	shim__clock_end_transaction();
	/* A new fault set may have taken the link away: let the firmware look
	 * before it sleeps on a socket that no longer carries anything. */
	return shim__world_sync();
}

static uint64_t wait_next_event_us(void *ctx)
{
	(void)ctx;
	/* The link's edges: an association completing or failing, a flap. */
	return shim__link_next_event_us();
}

static const struct posix_wait_hooks wait_hooks = {
	.on_enter = wait_enter,
	.next_event_us = wait_next_event_us,
};

void shim__posix_hooks_install(void)
{
	posix_mqtt_set_hooks(&mqtt_hooks);
	posix_storage_set_hooks(&storage_hooks);
	posix_wait_set_hooks(&wait_hooks);
}

void shim__posix_hooks_remove(void)
{
	posix_mqtt_set_hooks(NULL);
	posix_storage_set_hooks(NULL);
	posix_wait_set_hooks(NULL);
}
