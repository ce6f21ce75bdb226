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
 *
 * The wait itself is the shared POSIX one (firmware/boards/posix/wait.c);
 * it reads this clock through hal_time_now_us(), and ends the transaction
 * through the shim's wait hook (posix_hooks.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>

#include "hal_time.h"
#include "shim.h"
#include "shim_internal.h"

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
