/*
 * hal_time for Linux: CLOCK_MONOTONIC, and a wait that is poll() on the MQTT
 * socket and the signal self-pipe. No driver on this board bit-bangs (the
 * kernel reads the sensors), so short delays may simply sleep.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "board.h"
#include "hal_time.h"
#include "shim_internal.h" /* shim__shutdown_wake_fd(): the shared signal pipe */

/* libmosquitto sends its keepalive PINGREQ only when serviced. */
#define MQTT_SERVICE_TICK_MS 1000

uint64_t hal_time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void hal_time_delay_us(uint32_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
	}
}

int hal_time_wall_ms(int64_t *epoch_ms)
{
	struct timespec ts;

	/* A Pi has no RTC: before NTP sets the clock it is stuck near the
	 * image's build date. Anything before 2024 is not a real date. */
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 1704067200)
		return -EAGAIN;
	*epoch_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return 0;
}

int hal_time_wait_until(uint64_t deadline_us)
{
	struct pollfd fds[2];
	bool want_write = false;
	int mqtt_fd = sbc__mqtt_fd(&want_write);
	uint64_t now = hal_time_now_us();
	nfds_t n = 0;
	int timeout_ms, rc;
	bool service_tick;

	if (now >= deadline_us)
		return 0;
	if (deadline_us - now > 3600000000ull)
		timeout_ms = 3600000;
	else
		timeout_ms = (int)((deadline_us - now + 999) / 1000);
	/* With a session open, come back at least every second so a long
	 * interval (or a stopped robot) never starves the keepalive. */
	service_tick = mqtt_fd >= 0 && timeout_ms > MQTT_SERVICE_TICK_MS;
	if (service_tick)
		timeout_ms = MQTT_SERVICE_TICK_MS;

	fds[n].fd = shim__shutdown_wake_fd();
	fds[n].events = POLLIN;
	fds[n++].revents = 0;
	if (mqtt_fd >= 0) {
		fds[n].fd = mqtt_fd;
		fds[n].events = (short)(POLLIN | (want_write ? POLLOUT : 0));
		fds[n++].revents = 0;
	}
	rc = poll(fds, n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 1 : -errno; /* a signal is an event */
	if (rc > 0) {
		if (fds[0].revents)
			shim__shutdown_drain_wake();
		return 1;
	}
	return service_tick ? 1 : 0;
}
