/*
 * HAL: the sensor interface the application reads from.
 *
 * By default the firmware's own pin-level drivers implement it over gpio and
 * time (firmware/drivers/sensor_pins.c). A board whose OS already drives the
 * sensors (Linux IIO) supplies its own implementation instead; the build
 * links exactly one.
 */
#ifndef HAL_SENSOR_H
#define HAL_SENSOR_H

#include <stdint.h>

/* One DHT22 conversion: 0.1 degC and 0.1 %RH units. */
struct climate_sample {
	int16_t temp_dc;
	uint16_t humidity_dpct;
};

struct robot_config;

/*
 * Prepare the sensors described by @cfg (pins, sysfs paths).
 * Returns 0 or -EINVAL for a configuration the board cannot use.
 */
int hal_sensor_init(const struct robot_config *cfg);

/*
 * Read temperature and humidity. The caller guarantees at least 2 s between
 * calls (the DHT22 minimum).
 * Returns 0, or:
 *   -ETIMEDOUT  no response, or the frame stopped part-way
 *   -EBADMSG    checksum mismatch
 *   -EIO        implausible pulse timing or value outside the sensor range
 *   -ENODEV     the board can tell the sensor is not there (an OS driver
 *               that is not loaded); pin-level boards report -ETIMEDOUT
 */
int hal_sensor_read_climate(struct climate_sample *out);

/*
 * Read the distance to the nearest obstacle in millimetres.
 * Returns 0, or:
 *   -ETIMEDOUT  no echo (nothing in range, or sensor absent)
 *   -ERANGE     echo outside the sensor's 2..400 cm range
 *   -EIO        the echo line misbehaved (stuck high)
 *   -ENODEV     the board can tell the sensor is not there
 */
int hal_sensor_read_distance(uint32_t *distance_mm);

#endif /* HAL_SENSOR_H */
