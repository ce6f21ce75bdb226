/*
 * hal_link for the host: a WiFi association that takes a configurable time
 * and then stays up, unless the world's fault set says otherwise:
 *
 *   down      the access point is gone: an established link drops at once,
 *             and every association attempt fails after the usual delay;
 *   flap      the same, for flap_down_ms of every flap_period_ms, counted
 *             from link_since_ms (the first down phase starts there);
 *   assoc     the next N attempts fail, then association works again;
 *   weak      RSSI reads low and every packet may be lost and retransmitted
 *             (shim__link_transmit); seven losses in a row deauthenticate
 *             the station, as a real access point would.
 *
 * A link that went down stays down until the firmware associates again,
 * even when the fault has passed: that is how a station behaves.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>

#include "hal_link.h"
#include "shim.h"
#include "shim_internal.h"
#include "world.h"

#define RSSI_GOOD_DBM (-55)
#define RSSI_WEAK_DBM (-85)
#define RETRANSMIT_FIRST_MS 200   /* first retransmission timeout */
#define RETRANSMIT_MAX_MS 3200    /* it doubles up to here */
#define LOSSES_TO_DEAUTH 7        /* consecutive losses that end the association */
#define PPM 1000000u

static enum hal_link_state state = HAL_LINK_DOWN;
static uint64_t up_at_us = UINT64_MAX;
static uint64_t drop_at_us = UINT64_MAX;  /* a deauthentication on its way */
static uint32_t association_ms = 50;
static bool attempt_doomed;               /* this association will fail */
static enum shim_link_down_cause down_cause = SHIM_LINK_NEVER_UP;

/* The fault set as this layer sees it. */
static struct {
	uint32_t mode;            /* enum world_link_mode */
	uint32_t period_ms, down_ms;
	int64_t since_ms;
	uint32_t assoc_gen;       /* the generation already taken into account */
	uint32_t assoc_left;      /* failures still to hand out */
	uint32_t loss_ppm, latency_ms;
	int32_t rssi_dbm;
	uint64_t rng;
	uint32_t losses_in_row;
} fault;

void shim__link_setup(uint32_t delay_ms)
{
	association_ms = delay_ms;
	state = HAL_LINK_DOWN;
	down_cause = SHIM_LINK_NEVER_UP;
	up_at_us = UINT64_MAX;
	drop_at_us = UINT64_MAX;
	attempt_doomed = false;
}

void shim__link_set_faults(const struct world_faults *f)
{
	fault.mode = f->link_mode;
	fault.period_ms = f->flap_period_ms;
	fault.down_ms = f->flap_down_ms;
	fault.since_ms = f->link_since_ms;
	/* A count is consumed here, attempt by attempt; only a new generation
	 * (the orchestrator set a count again) hands out a fresh one. */
	if (f->assoc_fail_gen != fault.assoc_gen) {
		fault.assoc_gen = f->assoc_fail_gen;
		fault.assoc_left = f->assoc_fail_count;
	}
	fault.loss_ppm = f->weak_loss_ppm < PPM ? f->weak_loss_ppm : PPM;
	fault.latency_ms = f->weak_latency_ms;
	fault.rssi_dbm = f->weak_rssi_dbm;
	fault.rng = f->seed ^ 0x11c4f00du;
	fault.losses_in_row = 0;
	if (fault.loss_ppm == 0)
		drop_at_us = UINT64_MAX;
}

static bool weak(void)
{
	return fault.loss_ppm || fault.latency_ms;
}

static int64_t ms_of(uint64_t us)
{
	return (int64_t)(us / 1000u);
}

/* Milliseconds into the flap period at @now_us (the phase). */
static uint64_t flap_phase_ms(uint64_t now_us)
{
	int64_t d = ms_of(now_us) - fault.since_ms;
	int64_t p = (int64_t)fault.period_ms;

	return (uint64_t)(((d % p) + p) % p);
}

static bool flapping(void)
{
	return fault.mode == WORLD_LINK_FLAP && fault.period_ms > 0 && fault.down_ms > 0;
}

/* Is the access point out of reach at @now_us? */
static bool out_of_reach(uint64_t now_us)
{
	if (fault.mode == WORLD_LINK_DOWN)
		return true;
	if (!flapping())
		return false;
	if (ms_of(now_us) < fault.since_ms)
		return false;
	return flap_phase_ms(now_us) < fault.down_ms;
}

static void advance(void)
{
	uint64_t now = shim_clock_now_us();

	if (state == HAL_LINK_CONNECTING && now >= up_at_us) {
		state = attempt_doomed || out_of_reach(now) ? HAL_LINK_DOWN : HAL_LINK_UP;
		if (state == HAL_LINK_DOWN)
			down_cause = attempt_doomed ? SHIM_LINK_REJECTED : SHIM_LINK_NO_AP;
		up_at_us = UINT64_MAX;
		attempt_doomed = false;
		fault.losses_in_row = 0;
	}
	if (state == HAL_LINK_UP && (out_of_reach(now) || now >= drop_at_us)) {
		state = HAL_LINK_DOWN;
		down_cause = SHIM_LINK_DROPPED;
	}
	if (state != HAL_LINK_UP)
		drop_at_us = UINT64_MAX;
}

/* The next flap edge after @now_us, on the shim clock. */
static uint64_t next_flap_edge_us(uint64_t now_us)
{
	uint64_t phase, next_ms;

	if (ms_of(now_us) < fault.since_ms)
		return (uint64_t)fault.since_ms * 1000u;
	phase = flap_phase_ms(now_us);
	next_ms = (uint64_t)ms_of(now_us) - phase +
		  (phase < fault.down_ms ? fault.down_ms : fault.period_ms);
	return next_ms * 1000u;
}

uint64_t shim__link_next_event_us(void)
{
	uint64_t next = UINT64_MAX;

	advance();
	if (state == HAL_LINK_CONNECTING)
		next = up_at_us;
	if (state == HAL_LINK_UP && drop_at_us < next)
		next = drop_at_us;
	if (flapping()) {
		uint64_t edge = next_flap_edge_us(shim_clock_now_us());
		if (edge < next)
			next = edge;
	}
	return next;
}

int shim__link_transmit(uint32_t *delay_ms)
{
	uint32_t total = fault.latency_ms, rto = RETRANSMIT_FIRST_MS;

	advance();
	*delay_ms = 0;
	if (state != HAL_LINK_UP)
		return -ENETDOWN;
	if (!weak())
		return 0;
	/* Each attempt is lost with the fault's probability and retried after a
	 * doubling timeout, until one gets through or the access point gives
	 * up on us. */
	while (fault.loss_ppm && shim_random_next(&fault.rng) % PPM < fault.loss_ppm) {
		total += rto;
		rto = rto * 2 > RETRANSMIT_MAX_MS ? RETRANSMIT_MAX_MS : rto * 2;
		if (++fault.losses_in_row >= LOSSES_TO_DEAUTH) {
			uint64_t at = shim_clock_now_us() + (uint64_t)total * 1000u;
			if (at < drop_at_us)
				drop_at_us = at;
			*delay_ms = total;
			return -ENETDOWN;
		}
	}
	fault.losses_in_row = 0;
	*delay_ms = total;
	return 0;
}

int hal_link_connect(void)
{
	advance();
	if (state != HAL_LINK_DOWN)
		return -EALREADY;
	state = HAL_LINK_CONNECTING;
	up_at_us = shim_clock_now_us() + (uint64_t)association_ms * 1000u;
	attempt_doomed = false;
	if (fault.assoc_left > 0) {
		fault.assoc_left--;
		attempt_doomed = true;
	}
	return 0;
}

enum hal_link_state hal_link_get_state(void)
{
	advance();
	return state;
}

int hal_link_get_rssi(int *rssi_dbm)
{
	advance();
	if (state != HAL_LINK_UP)
		return -ENOTCONN;
	if (fault.rssi_dbm)
		*rssi_dbm = fault.rssi_dbm;
	else
		*rssi_dbm = weak() ? RSSI_WEAK_DBM : RSSI_GOOD_DBM;
	return 0;
}

enum shim_link_down_cause shim_link_down_cause(void)
{
	advance();
	return down_cause;
}

int hal_link_disconnect(void)
{
	if (state != HAL_LINK_DOWN)
		down_cause = SHIM_LINK_LEFT;
	state = HAL_LINK_DOWN;
	up_at_us = UINT64_MAX;
	drop_at_us = UINT64_MAX;
	attempt_doomed = false;
	return 0;
}
