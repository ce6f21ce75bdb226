/* The default hal_sensor implementation: the firmware's own pin drivers. */
#include <errno.h>

#include "dht22.h"
#include "hal_sensor.h"
#include "hcsr04.h"
#include "robot_config.h"

static struct dht22_config dht;
static struct hcsr04_config sonar;

int hal_sensor_init(const struct robot_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	dht.pin = cfg->dht_pin;
	sonar.trig_pin = cfg->trig_pin;
	sonar.echo_pin = cfg->echo_pin;
	return 0;
}

int hal_sensor_read_climate(struct climate_sample *out)
{
	return dht22_read(&dht, out);
}

int hal_sensor_read_distance(uint32_t *distance_mm)
{
	return hcsr04_read(&sonar, distance_mm);
}
