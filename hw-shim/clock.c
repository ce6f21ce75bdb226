/*
 * hal_time for the host: a virtual microsecond clock.
 *
 * Bit-banging drivers poll pins in tight loops and measure pulses of tens of
 * microseconds. Real time on a busy host jumps by milliseconds whenever the
 * scheduler looks away, which would corrupt every waveform. So while a
 * sensor transaction runs (any gpio call or short delay), the clock is
 * virtual: it moves only by what the driver spends (SHIM_POLL_COST_US per
 * poll, the full length of each delay). When the firmware next waits, the
 * transaction ends and the clock follows CLOCK_MONOTONIC again. It never
 * runs behind the wall: the waits make up for any time it ran ahead.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "hal_time.h"
#include "shim.h"
#include "shim_internal.h"

#define MQTT_SERVICE_TICK_MS 1000

static uint64_t virtual_us;
static bool in_transaction;

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t shim_clock_now_us(void)
{
	if (!in_transaction) {
		uint64_t real = monotonic_us();
		if (real > virtual_us)
			virtual_us = real;
	}
	return virtual_us;
}

void shim__clock_advance(uint32_t us)
{
	if (!in_transaction) {
		shim_clock_now_us();
		in_transaction = true;
	}
	virtual_us += us;
}

void shim__clock_end_transaction(void)
{
	in_transaction = false;
}

uint64_t hal_time_now_us(void)
{
	return shim_clock_now_us();
}

void hal_time_delay_us(uint32_t us)
{
	shim__clock_advance(us);
}

int hal_time_wall_ms(int64_t *epoch_ms)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -EAGAIN;
	*epoch_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return 0;
}

int hal_time_wait_until(uint64_t deadline_us)
{
	shim__clock_end_transaction();
	/* A new fault set may have taken the link away: let the firmware look
	 * before it sleeps on a socket that no longer carries anything. */
	if (shim__world_sync())
		return 1;
	for (;;) {
		struct pollfd fds[2];
		nfds_t n = 0;
		bool want_write = false;
		int mqtt_fd = shim__mqtt_fd(&want_write);
		uint64_t now = shim_clock_now_us();
		uint64_t until = deadline_us;
		uint64_t link_at = shim__link_next_event_us();
		uint64_t mqtt_at = shim__mqtt_next_event_us();
		uint64_t real = monotonic_us();
		int timeout_ms, rc;

		/* The shim's own deadlines: a link edge, a held-back publish. */
		if (link_at < until)
			until = link_at;
		if (mqtt_at < until)
			until = mqtt_at;
		if (now >= until)
			return 0;
		/* Sleep on the wall clock: virtual time may be ahead of it. */
		if (until <= real)
			timeout_ms = 0;
		else if (until - real > 3600000000ull)
			timeout_ms = 3600000;
		else
			timeout_ms = (int)((until - real + 999) / 1000);
		/* libmosquitto sends its keepalive PINGREQ only when serviced: with
		 * a session open, come back at least every second so a long
		 * interval (or a stopped robot) never starves it. */
		bool service_tick = mqtt_fd >= 0 && timeout_ms > MQTT_SERVICE_TICK_MS;
		if (service_tick)
			timeout_ms = MQTT_SERVICE_TICK_MS;

		/* poll() leaves revents alone when a signal interrupts it. */
		fds[0].revents = fds[1].revents = 0;
		fds[n].fd = shim__shutdown_wake_fd();
		fds[n].events = POLLIN;
		n++;
		if (mqtt_fd >= 0) {
			fds[n].fd = mqtt_fd;
			fds[n].events = (short)(POLLIN | (want_write ? POLLOUT : 0));
			n++;
		}
		rc = poll(fds, n, timeout_ms);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc != 0) {
			if (fds[0].revents)
				shim__shutdown_drain_wake();
			return 1;
		}
		/* A shim edge fell due: the link came up or went down, a held-back
		 * publish is ready. The next pass would take it in as it reads
		 * the link and then no longer see a deadline, sleeping on to the
		 * firmware's own (the first second of every boot went that way):
		 * let the firmware look now instead. */
		if (service_tick || until < deadline_us)
			return 1;
	}
}
