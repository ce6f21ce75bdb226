/* DHT22 / AM2302 temperature and humidity sensor, single-wire, pin level. */
#ifndef DRIVERS_DHT22_H
#define DRIVERS_DHT22_H

#include <stdint.h>

#include "hal_sensor.h"

#define DHT22_FRAME_BITS 40

struct dht22_config {
	unsigned int pin;
};

/* Raw edge timings of one transaction, as captured from the line. */
struct dht22_capture {
	uint16_t response_low_us;
	uint16_t response_high_us;
	uint8_t bits;                        /* high pulses captured, <= 40 */
	uint16_t high_us[DHT22_FRAME_BITS];  /* width of each bit's high pulse */
};

/*
 * Run one transaction on the wire and record its timings. Returns 0 with
 * @cap->bits == 40, -ETIMEDOUT when the sensor did not answer or went
 * quiet part-way (@cap->bits says where), or -EINVAL for a bad pin.
 */
int dht22_capture(const struct dht22_config *cfg, struct dht22_capture *cap);

/*
 * Turn captured timings into a reading. Pure: no I/O, no time.
 * Returns 0, -ETIMEDOUT for a short frame, -EIO for implausible pulses or
 * an out-of-range value, -EBADMSG for a checksum mismatch.
 */
int dht22_decode(const struct dht22_capture *cap, struct climate_sample *out);

/* dht22_capture() then dht22_decode(). */
int dht22_read(const struct dht22_config *cfg, struct climate_sample *out);

#endif /* DRIVERS_DHT22_H */
