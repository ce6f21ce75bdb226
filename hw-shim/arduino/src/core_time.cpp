// millis, micros, delay, yield: the virtual robot's clock, with the simulation running while the sketch waits.
#include "Arduino.h"

#include "runtime.h"

extern "C" {
#include "hal_time.h"
#include "shim.h"
#include "shim_internal.h"
}

using namespace robofleet_arduino;

static uint64_t boot_us;

namespace robofleet_arduino {
void core_time_start()
{
	boot_us = hal_time_now_us();
}
} // namespace robofleet_arduino

unsigned long millis(void)
{
	/* Milliseconds are for scheduling: leave bit-banging time, so that a
	 * loop polling millis() sees the wall clock move. */
	shim__clock_end_transaction();
	runtime_spin_guard();
	return (unsigned long)((hal_time_now_us() - boot_us) / 1000u);
}

unsigned long micros(void)
{
	/* A sketch that times a pulse with micros() between pin reads gets the
	 * virtual clock; each look costs what a poll of a pin costs, so a
	 * busy loop on micros() still moves forward. */
	shim__clock_advance(SHIM_POLL_COST_US);
	return (unsigned long)(hal_time_now_us() - boot_us);
}

void delay(uint32_t ms)
{
	runtime_sleep_until(hal_time_now_us() + (uint64_t)ms * 1000u);
}

void delayMicroseconds(uint32_t us)
{
	hal_time_delay_us(us);
}

void yield(void)
{
	runtime_service();
}
