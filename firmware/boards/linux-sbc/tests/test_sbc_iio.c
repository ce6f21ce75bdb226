/* The linux-sbc IIO reader, sensors and link against a fixture sysfs tree. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "board.h"
#include "hal_link.h"
#include "hal_sensor.h"

static char root[256];
static char dht_dir[400], sonar_dir[400];

static void put(const char *dir, const char *name, const char *fmt, ...)
{
	char path[600];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void mkdirs(const char *path)
{
	char tmp[600];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

/* A kernel-made EIO on read(): /proc/self/mem at offset 0 is never mapped. */
static void make_eio(const char *dir, const char *name)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	assert_int_equal(symlink("/proc/self/mem", path), 0);
}

static int setup(void **state)
{
	char net[400];
	struct sbc_settings s;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/robofleet-sbc-iio-XXXXXX");
	assert_non_null(mkdtemp(root));
	/* The sonar enumerates first, as it may on a real Pi. */
	snprintf(sonar_dir, sizeof(sonar_dir), "%s/bus/iio/devices/iio:device0", root);
	snprintf(dht_dir, sizeof(dht_dir), "%s/bus/iio/devices/iio:device1", root);
	mkdirs(sonar_dir);
	mkdirs(dht_dir);
	put(sonar_dir, "name", "srf04\n");
	put(sonar_dir, "in_distance_raw", "1234\n");
	put(sonar_dir, "in_distance_scale", "0.001000\n");
	put(dht_dir, "name", "dht11@4\n");
	put(dht_dir, "in_temp_input", "23400\n");
	put(dht_dir, "in_humidityrelative_input", "45600\n");
	snprintf(net, sizeof(net), "%s/class/net/wlan0", root);
	mkdirs(net);
	put(net, "operstate", "up\n");

	sbc_settings_defaults(&s);
	snprintf(s.sysfs_root, sizeof(s.sysfs_root), "%s", root);
	snprintf(s.wireless_path, sizeof(s.wireless_path), "%s/wireless", root);
	sbc__log_setup(HAL_LOG_ERROR);
	sbc__sensor_setup(&s);
	sbc__link_setup(&s);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_sbc_iio_find_by_name(void **state)
{
	char dir[600];

	(void)state;
	assert_int_equal(sbc_iio_find(root, "srf04", dir, sizeof(dir)), 0);
	assert_string_equal(dir, sonar_dir);
	/* The Pi's dht11 overlay names the device after its node: dht11@4. */
	assert_int_equal(sbc_iio_find(root, "dht11", dir, sizeof(dir)), 0);
	assert_string_equal(dir, dht_dir);
	assert_int_equal(sbc_iio_find(root, "dht1", dir, sizeof(dir)), -ENODEV);
	assert_int_equal(sbc_iio_find(root, "bmp280", dir, sizeof(dir)), -ENODEV);
	assert_int_equal(sbc_iio_find("/nonexistent", "dht11", dir, sizeof(dir)), -ENODEV);
	assert_int_equal(sbc_iio_find(root, "dht11", dir, 8), -ENAMETOOLONG);
}

static void test_sbc_iio_read_int_parses_attributes(void **state)
{
	long v = 0;
	int raw = -1;

	(void)state;
	assert_int_equal(sbc_iio_read_int(dht_dir, "in_temp_input", &v, &raw), 0);
	assert_int_equal(v, 23400);
	assert_int_equal(raw, 0);
	put(dht_dir, "in_temp_input", "-5300\n");
	assert_int_equal(sbc_iio_read_int(dht_dir, "in_temp_input", &v, &raw), 0);
	assert_int_equal(v, -5300);
	put(dht_dir, "in_temp_input", "12x\n");
	assert_int_equal(sbc_iio_read_int(dht_dir, "in_temp_input", &v, &raw), -EIO);
	put(dht_dir, "in_temp_input", "");
	assert_int_equal(sbc_iio_read_int(dht_dir, "in_temp_input", &v, &raw), -EIO);
}

static void test_sbc_iio_read_eio_is_io(void **state)
{
	long v = 0;
	int raw = 0;

	(void)state;
	make_eio(dht_dir, "in_temp_input");
	assert_int_equal(sbc_iio_read_int(dht_dir, "in_temp_input", &v, &raw), -EIO);
	assert_int_equal(raw, EIO);
}

static void test_sbc_iio_missing_attribute_is_absent(void **state)
{
	long v = 0;
	int raw = 0;

	(void)state;
	assert_int_equal(sbc_iio_read_int(dht_dir, "in_pressure_input", &v, &raw), -ENODEV);
	assert_int_equal(raw, ENOENT);
}

static void test_sbc_iio_map_errno(void **state)
{
	(void)state;
	assert_int_equal(sbc_iio_map_errno(ETIMEDOUT), -ETIMEDOUT);
	assert_int_equal(sbc_iio_map_errno(EIO), -EIO);
	assert_int_equal(sbc_iio_map_errno(EBADMSG), -EBADMSG);
	assert_int_equal(sbc_iio_map_errno(ENODEV), -ENODEV);
	assert_int_equal(sbc_iio_map_errno(ENOENT), -ENODEV);
	assert_int_equal(sbc_iio_map_errno(ENXIO), -ENODEV);
	assert_int_equal(sbc_iio_map_errno(EACCES), -EIO);
	assert_int_equal(sbc_iio_map_errno(EBUSY), -EIO);
}

static void test_sbc_iio_read_nano_fixed_point(void **state)
{
	int64_t n = 0;
	int raw = 0;

	(void)state;
	assert_int_equal(sbc_iio_read_nano(sonar_dir, "in_distance_scale", &n, &raw), 0);
	assert_int_equal(n, 1000000);
	put(sonar_dir, "in_distance_scale", "1\n");
	assert_int_equal(sbc_iio_read_nano(sonar_dir, "in_distance_scale", &n, &raw), 0);
	assert_int_equal(n, 1000000000);
	put(sonar_dir, "in_distance_scale", "-0.000000500\n");
	assert_int_equal(sbc_iio_read_nano(sonar_dir, "in_distance_scale", &n, &raw), 0);
	assert_int_equal(n, -500);
	put(sonar_dir, "in_distance_scale", "0.0x\n");
	assert_int_equal(sbc_iio_read_nano(sonar_dir, "in_distance_scale", &n, &raw), -EIO);
	put(sonar_dir, "in_distance_scale", "0.001000\n");
}

static void test_sbc_sensor_climate_in_tenths(void **state)
{
	struct climate_sample s = { 0 };
	struct robot_config cfg;

	(void)state;
	put(dht_dir, "in_temp_input", "23400\n");
	robot_config_defaults(&cfg);
	assert_int_equal(hal_sensor_init(&cfg), 0);
	assert_int_equal(hal_sensor_read_climate(&s), 0);
	assert_int_equal(s.temp_dc, 234);
	assert_int_equal(s.humidity_dpct, 456);
	/* Below zero rounds away from it, like the sensor's own 0.1 steps. */
	put(dht_dir, "in_temp_input", "-5300\n");
	assert_int_equal(hal_sensor_read_climate(&s), 0);
	assert_int_equal(s.temp_dc, -53);
}

static void test_sbc_sensor_climate_errors(void **state)
{
	struct climate_sample s = { 0 };

	(void)state;
	put(dht_dir, "in_temp_input", "90000\n");   /* beyond the DHT22's 80 degC */
	assert_int_equal(hal_sensor_read_climate(&s), -EIO);
	put(dht_dir, "in_temp_input", "20000\n");
	put(dht_dir, "in_humidityrelative_input", "100100\n");
	assert_int_equal(hal_sensor_read_climate(&s), -EIO);
	put(dht_dir, "in_humidityrelative_input", "50000\n");
	make_eio(dht_dir, "in_humidityrelative_input");
	assert_int_equal(hal_sensor_read_climate(&s), -EIO);
	put(dht_dir, "in_humidityrelative_input", "50000\n");
	assert_int_equal(hal_sensor_read_climate(&s), 0);
	assert_int_equal(s.humidity_dpct, 500);
}

static void test_sbc_sensor_device_vanishes_and_returns(void **state)
{
	struct climate_sample s = { 0 };
	char gone[600], renumbered[600];

	(void)state;
	assert_int_equal(hal_sensor_read_climate(&s), 0);
	snprintf(gone, sizeof(gone), "%s/bus/iio/gone", root);
	snprintf(renumbered, sizeof(renumbered), "%s/bus/iio/devices/iio:device7", root);
	assert_int_equal(rename(dht_dir, gone), 0);
	assert_int_equal(hal_sensor_read_climate(&s), -ENODEV);
	assert_int_equal(hal_sensor_read_climate(&s), -ENODEV);
	/* Back under another number (module reloaded): found again by name. */
	assert_int_equal(rename(gone, renumbered), 0);
	assert_int_equal(hal_sensor_read_climate(&s), 0);
	assert_int_equal(s.temp_dc, 200);
	assert_int_equal(rename(renumbered, dht_dir), 0);
	assert_int_equal(hal_sensor_read_climate(&s), -ENODEV);
	assert_int_equal(hal_sensor_read_climate(&s), 0);
}

static void test_sbc_sensor_distance_scaled_and_ranged(void **state)
{
	uint32_t mm = 0;

	(void)state;
	assert_int_equal(hal_sensor_read_distance(&mm), 0);
	assert_int_equal(mm, 1234);
	put(sonar_dir, "in_distance_raw", "4001\n");
	assert_int_equal(hal_sensor_read_distance(&mm), -ERANGE);
	put(sonar_dir, "in_distance_raw", "19\n");
	assert_int_equal(hal_sensor_read_distance(&mm), -ERANGE);
	make_eio(sonar_dir, "in_distance_raw");
	assert_int_equal(hal_sensor_read_distance(&mm), -EIO);
	put(sonar_dir, "in_distance_raw", "20\n");
	assert_int_equal(hal_sensor_read_distance(&mm), 0);
	assert_int_equal(mm, 20);
	put(sonar_dir, "in_distance_raw", "1234\n");
}

static void test_sbc_link_follows_operstate(void **state)
{
	char net[400];
	int rssi = 0;

	(void)state;
	snprintf(net, sizeof(net), "%s/class/net/wlan0", root);
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
	assert_int_equal(hal_link_connect(), -EALREADY);
	put(root, "wireless",
	    "Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n"
	    " face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n"
	    "  eth9: 0000   10.  -90.  -256        0      0      0      0      0        0\n"
	    " wlan0: 0000   54.  -56.  -256        0      0      0      0     12        0\n");
	assert_int_equal(hal_link_get_rssi(&rssi), 0);
	assert_int_equal(rssi, -56);
	put(net, "operstate", "dormant\n");
	assert_int_equal(hal_link_get_state(), HAL_LINK_CONNECTING);
	put(net, "operstate", "down\n");
	assert_int_equal(hal_link_get_state(), HAL_LINK_DOWN);
	assert_int_equal(hal_link_connect(), 0);
	assert_int_equal(hal_link_get_rssi(&rssi), -ENOTCONN);
	put(net, "operstate", "unknown\n");
	assert_int_equal(hal_link_get_state(), HAL_LINK_UP);
	put(net, "operstate", "up\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbc_iio_find_by_name),
		cmocka_unit_test(test_sbc_iio_read_int_parses_attributes),
		cmocka_unit_test(test_sbc_iio_read_eio_is_io),
		cmocka_unit_test(test_sbc_iio_missing_attribute_is_absent),
		cmocka_unit_test(test_sbc_iio_map_errno),
		cmocka_unit_test(test_sbc_iio_read_nano_fixed_point),
		cmocka_unit_test(test_sbc_sensor_climate_in_tenths),
		cmocka_unit_test(test_sbc_sensor_climate_errors),
		cmocka_unit_test(test_sbc_sensor_device_vanishes_and_returns),
		cmocka_unit_test(test_sbc_sensor_distance_scaled_and_ranged),
		cmocka_unit_test(test_sbc_link_follows_operstate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
