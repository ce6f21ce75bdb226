/* HAL: monotonic time, short busy delays, wall clock and the event wait. */
#ifndef HAL_TIME_H
#define HAL_TIME_H

#include <stdint.h>

/*
 * Monotonic microseconds since an arbitrary origin. Never goes backwards.
 * Cannot fail.
 */
uint64_t hal_time_now_us(void);

/*
 * Busy-wait for a short time (bit-banging). Only for waits below a few
 * milliseconds; the application never calls it, only drivers do.
 * Cannot fail; returns after at least @us microseconds.
 */
void hal_time_delay_us(uint32_t us);

/*
 * Wall clock, UTC milliseconds since the Unix epoch.
 * Returns 0, or -EAGAIN while the board has no idea of the date (no RTC,
 * no SNTP yet); the caller then omits the timestamp.
 */
int hal_time_wall_ms(int64_t *epoch_ms);

/*
 * Sleep until @deadline_us (hal_time_now_us() scale) or until a network or
 * system event may need attention, whichever comes first. The host shim
 * blocks in poll(); an MCU sleeps in WFI.
 * Returns 1 if woken by an event, 0 when the deadline passed, or a negative
 * errno (-EINTR is never returned; signals are events).
 */
int hal_time_wait_until(uint64_t deadline_us);

#endif /* HAL_TIME_H */
