/*
 * DHT22 / AM2302 driver after the Aosong AM2302 datasheet.
 *
 *  host      ‾‾‾‾‾\____ >= 1 ms ____/‾‾ release (pull-up)
 *  sensor                            20-40us \__ 80us __/‾‾ 80us ‾‾\
 *  bit 0     \__ 50us __/‾ 26-28us ‾\
 *  bit 1     \__ 50us __/‾‾‾‾ 70us ‾‾‾‾\      x40, MSB first
 *
 * Frame: humidity (16 bits, 0.1 %RH), temperature (16 bits, 0.1 degC,
 * sign-magnitude: bit 15 set means negative), checksum = low byte of the
 * sum of the first four bytes.
 *
 * Capture only records pulse widths with interrupts masked; decoding is a
 * separate pure function so tests can feed it made-up timings.
 */
#include <errno.h>
#include <stdbool.h>

#include "dht22.h"
#include "hal_gpio.h"
#include "hal_time.h"

#define START_LOW_US 1100       /* datasheet: at least 1 ms */
#define RESPONSE_WAIT_US 250    /* release to sensor pulling low: 20-200 us */
#define RESPONSE_PHASE_MAX_US 140 /* each 80 us response half */
#define BIT_LOW_MAX_US 120      /* 50 us nominal */
#define BIT_HIGH_MAX_US 120     /* 70 us nominal for a one */

/* Pulse plausibility for decode: outside these the line was disturbed. */
#define RESPONSE_MIN_US 40
#define HIGH_MIN_US 8
#define HIGH_MAX_US 100
/* 26-28 us is a zero, 70 us a one: split halfway. */
#define ONE_THRESHOLD_US 48

#define HUMIDITY_MAX_DPCT 1000
#define TEMP_MIN_DC (-400)
#define TEMP_MAX_DC 800

/*
 * Wait until @pin reads @level, at most @timeout_us. Returns the time
 * waited in microseconds or -ETIMEDOUT.
 */
static int32_t wait_level(unsigned int pin, int level, uint32_t timeout_us)
{
	uint64_t start = hal_time_now_us();

	for (;;) {
		uint64_t waited;
		int v = hal_gpio_read(pin);

		waited = hal_time_now_us() - start;
		if (v < 0)
			return v;
		if (v == level)
			return (int32_t)waited;
		if (waited > timeout_us)
			return -ETIMEDOUT;
	}
}

static int capture_frame(unsigned int pin, struct dht22_capture *cap)
{
	int32_t t;

	if ((t = wait_level(pin, 0, RESPONSE_WAIT_US)) < 0)
		return (int)t;
	if ((t = wait_level(pin, 1, RESPONSE_PHASE_MAX_US)) < 0)
		return (int)t;
	cap->response_low_us = (uint16_t)t;
	if ((t = wait_level(pin, 0, RESPONSE_PHASE_MAX_US)) < 0)
		return (int)t;
	cap->response_high_us = (uint16_t)t;
	for (unsigned int i = 0; i < DHT22_FRAME_BITS; i++) {
		if ((t = wait_level(pin, 1, BIT_LOW_MAX_US)) < 0)
			return (int)t;
		if ((t = wait_level(pin, 0, BIT_HIGH_MAX_US)) < 0)
			return (int)t;
		cap->high_us[i] = (uint16_t)t;
		cap->bits = (uint8_t)(i + 1);
	}
	return 0;
}

int dht22_capture(const struct dht22_config *cfg, struct dht22_capture *cap)
{
	uint32_t irq;
	int rc;

	cap->bits = 0;
	cap->response_low_us = 0;
	cap->response_high_us = 0;
	if ((rc = hal_gpio_set_mode(cfg->pin, HAL_GPIO_OUTPUT)) < 0)
		return rc;
	if ((rc = hal_gpio_write(cfg->pin, 0)) < 0)
		goto out;
	hal_time_delay_us(START_LOW_US);

	/* Timing from here on is tens of microseconds: nothing may interrupt. */
	irq = hal_irq_save();
	rc = hal_gpio_set_mode(cfg->pin, HAL_GPIO_INPUT_PULLUP);
	if (rc == 0)
		rc = capture_frame(cfg->pin, cap);
	hal_irq_restore(irq);
out:
	/* Always leave the line released, whatever happened. */
	hal_gpio_set_mode(cfg->pin, HAL_GPIO_INPUT_PULLUP);
	return rc;
}

int dht22_decode(const struct dht22_capture *cap, struct climate_sample *out)
{
	uint8_t bytes[DHT22_FRAME_BITS / 8] = { 0 };
	uint16_t raw_humidity, raw_temp;
	int32_t temp_dc;

	if (cap->bits < DHT22_FRAME_BITS)
		return -ETIMEDOUT;
	if (cap->response_low_us < RESPONSE_MIN_US || cap->response_high_us < RESPONSE_MIN_US)
		return -EIO;
	for (unsigned int i = 0; i < DHT22_FRAME_BITS; i++) {
		uint16_t w = cap->high_us[i];
		if (w < HIGH_MIN_US || w > HIGH_MAX_US)
			return -EIO;
		bytes[i / 8] = (uint8_t)(bytes[i / 8] << 1 | (w > ONE_THRESHOLD_US));
	}
	if ((uint8_t)(bytes[0] + bytes[1] + bytes[2] + bytes[3]) != bytes[4])
		return -EBADMSG;

	raw_humidity = (uint16_t)(bytes[0] << 8 | bytes[1]);
	raw_temp = (uint16_t)(bytes[2] << 8 | bytes[3]);
	temp_dc = raw_temp & 0x7fff;
	if (raw_temp & 0x8000)
		temp_dc = -temp_dc;
	if (raw_humidity > HUMIDITY_MAX_DPCT || temp_dc < TEMP_MIN_DC || temp_dc > TEMP_MAX_DC)
		return -EIO;
	out->humidity_dpct = raw_humidity;
	out->temp_dc = (int16_t)temp_dc;
	return 0;
}

int dht22_read(const struct dht22_config *cfg, struct climate_sample *out)
{
	struct dht22_capture cap;
	int rc = dht22_capture(cfg, &cap);

	if (rc < 0)
		return rc;
	return dht22_decode(&cap, out);
}
