/* HC-SR04 ultrasonic distance sensor, trigger/echo, pin level. */
#ifndef DRIVERS_HCSR04_H
#define DRIVERS_HCSR04_H

#include <stdint.h>

struct hcsr04_config {
	unsigned int trig_pin;
	unsigned int echo_pin;
};

#define HCSR04_MIN_MM 20u
#define HCSR04_MAX_MM 4000u

/*
 * Fire one ping and measure the echo pulse. Returns 0 with *@echo_us set,
 * -ETIMEDOUT when the echo never started or never ended in time, -EIO when
 * the echo line was already high, or -EINVAL for bad pins.
 */
int hcsr04_capture(const struct hcsr04_config *cfg, uint32_t *echo_us);

/*
 * Echo width to distance. Pure. Returns 0, or -ERANGE outside 2..400 cm.
 */
int hcsr04_decode(uint32_t echo_us, uint32_t *distance_mm);

/* hcsr04_capture() then hcsr04_decode(). */
int hcsr04_read(const struct hcsr04_config *cfg, uint32_t *distance_mm);

#endif /* DRIVERS_HCSR04_H */
