/*
 * HC-SR04 driver after the ElecFreaks HC-SR04 datasheet.
 *
 *  trig  __/‾‾ >= 10us ‾‾\_____________________________________
 *  burst                   |||||||| (8 x 40 kHz)
 *  echo  _____________________________/‾‾‾‾ 58 us per cm ‾‾‾‾\__
 *
 * Sound travels 343 m/s at 20 degC = 0.343 mm/us; the echo covers the way
 * twice, so distance_mm = echo_us * 343 / 2000 (about 58.3 us per cm).
 * Modules that hear nothing hold echo high for about 38 ms; that, or no echo
 * at all, is a timeout. The wait is polled with interrupts enabled: 23 ms is
 * far too long to mask them, and one microsecond of jitter is 0.17 mm.
 */
#include <errno.h>

#include "hal_gpio.h"
#include "hal_time.h"
#include "hcsr04.h"

#define TRIGGER_US 12             /* datasheet: at least 10 us */
#define ECHO_START_TIMEOUT_US 5000 /* burst + module latency is ~0.5 ms */
#define ECHO_MAX_US 30000          /* beyond 400 cm (23.3 ms) with margin */

static int wait_level(unsigned int pin, int level, uint32_t timeout_us, uint32_t *waited_us)
{
	uint64_t start = hal_time_now_us();

	for (;;) {
		int v = hal_gpio_read(pin);
		uint64_t waited = hal_time_now_us() - start;

		if (v < 0)
			return v;
		if (v == level) {
			*waited_us = (uint32_t)waited;
			return 0;
		}
		if (waited > timeout_us)
			return -ETIMEDOUT;
	}
}

int hcsr04_capture(const struct hcsr04_config *cfg, uint32_t *echo_us)
{
	uint32_t ignored;
	int rc, level;

	if ((rc = hal_gpio_set_mode(cfg->echo_pin, HAL_GPIO_INPUT)) < 0)
		return rc;
	if ((rc = hal_gpio_set_mode(cfg->trig_pin, HAL_GPIO_OUTPUT)) < 0)
		return rc;
	level = hal_gpio_read(cfg->echo_pin);
	if (level < 0)
		return level;
	if (level == 1)
		return -EIO; /* a previous ping is still ringing, or the line is stuck */

	hal_gpio_write(cfg->trig_pin, 0);
	hal_time_delay_us(2);
	hal_gpio_write(cfg->trig_pin, 1);
	hal_time_delay_us(TRIGGER_US);
	hal_gpio_write(cfg->trig_pin, 0);

	rc = wait_level(cfg->echo_pin, 1, ECHO_START_TIMEOUT_US, &ignored);
	if (rc < 0)
		return rc;
	return wait_level(cfg->echo_pin, 0, ECHO_MAX_US, echo_us);
}

int hcsr04_decode(uint32_t echo_us, uint32_t *distance_mm)
{
	uint32_t mm = (uint32_t)(((uint64_t)echo_us * 343 + 1000) / 2000);

	if (mm < HCSR04_MIN_MM || mm > HCSR04_MAX_MM)
		return -ERANGE;
	*distance_mm = mm;
	return 0;
}

int hcsr04_read(const struct hcsr04_config *cfg, uint32_t *distance_mm)
{
	uint32_t echo_us;
	int rc = hcsr04_capture(cfg, &echo_us);

	if (rc < 0)
		return rc;
	return hcsr04_decode(echo_us, distance_mm);
}
