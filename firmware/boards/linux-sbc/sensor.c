/*
 * hal_sensor for Linux: the kernel's IIO drivers do the bit-banging, which
 * user space cannot time reliably under a scheduler.
 *
 *   DHT22   dht11 driver (dtoverlay=dht11,gpiopin=N)
 *           in_temp_input              milli-degC    -> 0.1 degC:  / 100
 *           in_humidityrelative_input  milli-%RH     -> 0.1 %RH:   / 100
 *   HC-SR04 srf04 driver (compatible "devantech,srf04", our overlay)
 *           in_distance_raw * in_distance_scale = metres; the driver's
 *           raw unit is 1 mm (scale 0.001000)
 *
 * The dht11 driver caches a conversion for 2 s, so reading temperature and
 * then humidity costs one transaction. Devices are looked up by name on
 * first use and again whenever they vanish, so a sensor that appears after
 * boot (overlay applied late, module loaded by hand) is picked up.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal_sensor.h"
#include "log.h"

struct iio_sensor {
	const char *what;          /* for the log */
	char name[SBC_NAME_MAX];
	char dir[SBC_PATH_MAX + 64];
	bool found;
	bool reported_absent;      /* said so once; quiet until it comes back */
	int last_raw_errno;        /* log each distinct kernel error once */
};

static char sysfs_root[SBC_PATH_MAX];
static struct iio_sensor dht = { .what = "DHT22" };
static struct iio_sensor sonar = { .what = "HC-SR04" };
static int64_t sonar_scale_nano;   /* metres per raw unit, in 1e-9 */
static unsigned int dht_gpio, trig_gpio, echo_gpio;

void sbc__sensor_setup(const struct sbc_settings *s)
{
	snprintf(sysfs_root, sizeof(sysfs_root), "%s", s->sysfs_root);
	snprintf(dht.name, sizeof(dht.name), "%s", s->dht_iio_name);
	snprintf(sonar.name, sizeof(sonar.name), "%s", s->sonar_iio_name);
	dht.found = sonar.found = false;
	dht.reported_absent = sonar.reported_absent = false;
	dht.last_raw_errno = sonar.last_raw_errno = 0;
}

static int locate(struct iio_sensor *s)
{
	if (s->found)
		return 0;
	if (sbc_iio_find(sysfs_root, s->name, s->dir, sizeof(s->dir)) < 0) {
		if (!s->reported_absent) {
			LOG_WARN("%s: no IIO device named %s under %s/bus/iio/devices",
				 s->what, s->name, sysfs_root);
			s->reported_absent = true;
		}
		return -ENODEV;
	}
	LOG_INFO("%s: %s", s->what, s->dir);
	s->found = true;
	s->reported_absent = false;
	return 0;
}

/* Remember a failure: forget a vanished device, log a new kernel error once. */
static int failed(struct iio_sensor *s, const char *attr, int rc, int raw_errno)
{
	if (rc == -ENODEV)
		s->found = false;
	if (raw_errno && raw_errno != s->last_raw_errno)
		LOG_WARN("%s: reading %s: %s", s->what, attr, strerror(raw_errno));
	s->last_raw_errno = raw_errno;
	return rc;
}

static int32_t div_round(long v, long by)
{
	return (int32_t)(v >= 0 ? (v + by / 2) / by : -((-v + by / 2) / by));
}

int hal_sensor_init(const struct robot_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	dht_gpio = cfg->dht_pin;
	trig_gpio = cfg->trig_pin;
	echo_gpio = cfg->echo_pin;
	if (!sysfs_root[0] || !dht.name[0] || !sonar.name[0])
		return -EINVAL;
	if (locate(&dht) < 0)
		LOG_WARN("DHT22: expected from dtoverlay=dht11,gpiopin=%u", dht_gpio);
	if (locate(&sonar) < 0)
		LOG_WARN("HC-SR04: expected from the robofleet-hcsr04 overlay (trig %u, echo %u)",
			 trig_gpio, echo_gpio);
	return 0;
}

int hal_sensor_read_climate(struct climate_sample *out)
{
	long t_mc = 0, h_mpct = 0;
	int raw = 0, rc;
	int32_t t_dc, h_dpct;

	if ((rc = locate(&dht)) < 0)
		return rc;
	if ((rc = sbc_iio_read_int(dht.dir, "in_temp_input", &t_mc, &raw)) < 0)
		return failed(&dht, "in_temp_input", rc, raw);
	if ((rc = sbc_iio_read_int(dht.dir, "in_humidityrelative_input", &h_mpct, &raw)) < 0)
		return failed(&dht, "in_humidityrelative_input", rc, raw);
	dht.last_raw_errno = 0;
	t_dc = div_round(t_mc, 100);
	h_dpct = div_round(h_mpct, 100);
	/* The DHT22's range; beyond it the frame decoded into nonsense. */
	if (t_dc < -400 || t_dc > 800 || h_dpct < 0 || h_dpct > 1000)
		return -EIO;
	out->temp_dc = (int16_t)t_dc;
	out->humidity_dpct = (uint16_t)h_dpct;
	return 0;
}

int hal_sensor_read_distance(uint32_t *distance_mm)
{
	long raw_units = 0;
	int raw = 0, rc;
	int64_t mm;

	if ((rc = locate(&sonar)) < 0)
		return rc;
	if (sonar_scale_nano <= 0) {
		/* Without a scale attribute the raw unit is the driver's 1 mm. */
		if (sbc_iio_read_nano(sonar.dir, "in_distance_scale", &sonar_scale_nano, &raw) < 0 ||
		    sonar_scale_nano <= 0)
			sonar_scale_nano = 1000000;
	}
	if ((rc = sbc_iio_read_int(sonar.dir, "in_distance_raw", &raw_units, &raw)) < 0) {
		if (rc == -ENODEV)
			sonar_scale_nano = 0;
		return failed(&sonar, "in_distance_raw", rc, raw);
	}
	sonar.last_raw_errno = 0;
	if (raw_units < 0)
		return -EIO;
	/* metres = raw * scale_nano / 1e9, so mm = raw * scale_nano / 1e6 */
	mm = ((int64_t)raw_units * sonar_scale_nano + 500000) / 1000000;
	/* The HC-SR04 is specified for 2..400 cm; srf04 reports beyond that. */
	if (mm < 20 || mm > 4000)
		return -ERANGE;
	*distance_mm = (uint32_t)mm;
	return 0;
}
