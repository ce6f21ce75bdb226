/*
 * hal_time_wait_until for a robot that runs as a Linux process: poll() on
 * the signal self-pipe, the MQTT socket and the HTTP request's socket, until the firmware's deadline
 * or the host's own next event (struct posix_wait_hooks), whichever is
 * first. Deadlines are on hal_time_now_us()'s clock, which may run ahead of
 * CLOCK_MONOTONIC (the virtual robot's clock does after bit-banging); the
 * sleep itself is measured on CLOCK_MONOTONIC, so the waits make up for it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "hal_time.h"
#include "posix_hal.h"
#include "posix_internal.h"

/* libmosquitto sends its keepalive PINGREQ only when serviced. */
#define MQTT_SERVICE_TICK_MS 1000
#define WAIT_MAX_MS 3600000

static const struct posix_wait_hooks *hooks;

void posix_wait_set_hooks(const struct posix_wait_hooks *h)
{
	hooks = h;
}

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t host_next_event_us(void)
{
	if (!hooks || !hooks->next_event_us)
		return UINT64_MAX;
	return hooks->next_event_us(hooks->ctx);
}

int hal_time_wait_until(uint64_t deadline_us)
{
	if (hooks && hooks->on_enter && hooks->on_enter(hooks->ctx))
		return 1;
	for (;;) {
		struct pollfd fds[3];
		nfds_t n = 0;
		bool want_write = false, http_write = false;
		int mqtt_fd = posix__mqtt_fd(&want_write);
		int http_fd = posix__http_fd(&http_write);
		uint64_t now = hal_time_now_us();
		uint64_t until = deadline_us;
		uint64_t host_at = host_next_event_us();
		uint64_t mqtt_at = posix__mqtt_next_event_us();
		uint64_t http_at = posix__http_next_event_us();
		uint64_t real = monotonic_us();
		bool service_tick;
		int timeout_ms, rc;

		/* The host's own deadlines and a held-back publish. */
		if (host_at < until)
			until = host_at;
		if (mqtt_at < until)
			until = mqtt_at;
		/* A request's timeout, or its bytes held back by the radio. */
		if (http_at < until)
			until = http_at;
		if (now >= until)
			return 0;
		/* Sleep on the wall clock: hal_time_now_us() may be ahead of it. */
		if (until <= real)
			timeout_ms = 0;
		else if (until - real > (uint64_t)WAIT_MAX_MS * 1000u)
			timeout_ms = WAIT_MAX_MS;
		else
			timeout_ms = (int)((until - real + 999) / 1000);
		/* With a session open, come back at least every second so a long
		 * interval (or a stopped robot) never starves the keepalive. */
		service_tick = mqtt_fd >= 0 && timeout_ms > MQTT_SERVICE_TICK_MS;
		if (service_tick)
			timeout_ms = MQTT_SERVICE_TICK_MS;

		/* poll() leaves revents alone when a signal interrupts it. */
		fds[0].revents = fds[1].revents = fds[2].revents = 0;
		fds[n].fd = posix_signal_wake_fd();
		fds[n].events = POLLIN;
		n++;
		if (mqtt_fd >= 0) {
			fds[n].fd = mqtt_fd;
			fds[n].events = (short)(POLLIN | (want_write ? POLLOUT : 0));
			n++;
		}
		if (http_fd >= 0) {
			fds[n].fd = http_fd;
			fds[n].events = (short)(POLLIN | (http_write ? POLLOUT : 0));
			n++;
		}
		rc = poll(fds, n, timeout_ms);
		if (rc < 0 && errno != EINTR)
			return -errno;
		/* Readable, writable, or a signal (EINTR): an event. */
		if (rc != 0) {
			if (fds[0].revents)
				posix_signal_drain();
			return 1;
		}
		/* An edge of the host's or a held-back publish fell due (the
		 * virtual link came up or went down, a packet got through). The
		 * next pass would take it in as it reads the link and then no
		 * longer see a deadline, sleeping on to the firmware's own: let
		 * the firmware look now instead. */
		if (service_tick || until < deadline_us)
			return 1;
	}
}
