/*
 * hal_time for Linux: CLOCK_MONOTONIC and the wall clock. No driver on this
 * board bit-bangs (the kernel reads the sensors), so short delays may simply
 * sleep. The wait, poll() on the MQTT socket and the signal self-pipe, is
 * the POSIX HAL's (firmware/boards/posix/wait.c), with no hooks.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>

#include "hal_time.h"

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
