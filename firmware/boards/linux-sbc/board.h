/*
 * linux-sbc internals shared across the board's files (not a HAL header):
 * the board's own settings, which struct robot_config has no room for, and
 * the helpers the board's files and its tests call.
 */
#ifndef SBC_BOARD_H
#define SBC_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal_log.h"
#include "robot_config.h"

#define SBC_PATH_MAX 512
#define SBC_NAME_MAX 32
#define SBC_DEFAULT_CONFIG "/etc/robofleet/robot.conf"

/* What only a Linux board needs to know, from the same robot.conf. */
struct sbc_settings {
	char sysfs_root[SBC_PATH_MAX];     /* /sys; tests point it at a fixture */
	char net_iface[SBC_NAME_MAX];      /* the interface whose operstate is the link */
	char wireless_path[SBC_PATH_MAX];  /* /proc/net/wireless, for the RSSI */
	char state_dir[SBC_PATH_MAX];      /* where the storage file lives */
	char dht_iio_name[SBC_NAME_MAX];   /* IIO device name of the DHT22 (dht11 driver) */
	char sonar_iio_name[SBC_NAME_MAX]; /* IIO device name of the HC-SR04 (srf04 driver) */
	char tls_ca_file[SBC_PATH_MAX];    /* empty: plain TCP */
	char tls_cert_file[SBC_PATH_MAX];  /* client certificate, with tls_key_file */
	char tls_key_file[SBC_PATH_MAX];
	enum hal_log_level log_level;
};

/* ---- config.c: robot.conf --------------------------------------------- */

void sbc_settings_defaults(struct sbc_settings *s);

/*
 * Parse robot.conf text ("key = value" lines, '#' comments) over the
 * defaults already in @cfg and @s. Returns 0, or -EINVAL with "line N:
 * message" in @err.
 */
int sbc_config_parse(const char *text, struct robot_config *cfg, struct sbc_settings *s,
		     char *err, size_t errlen);

/* Read and parse the file @path. Returns 0, -EINVAL or -errno of the read. */
int sbc_config_load(const char *path, struct robot_config *cfg, struct sbc_settings *s,
		    char *err, size_t errlen);

/* "250ms", "2s", "1.5", "2min", "1h" -> milliseconds. Returns 0 or -EINVAL. */
int sbc_parse_duration_ms(const char *s, uint32_t *ms);

/* ---- iio.c: the kernel's Industrial I/O sysfs ---------------------------- */

/*
 * Find the IIO device called @name under @sysfs_root/bus/iio/devices and
 * write its directory to @dir. A device named "@name@<unit>" (dht11@4, as
 * the Raspberry Pi overlay names it) matches too. Returns 0, -ENODEV when
 * there is none, or -ENAMETOOLONG.
 */
int sbc_iio_find(const char *sysfs_root, const char *name, char *dir, size_t cap);

/*
 * Read the integer attribute @attr of the device in @dir. Each read asks
 * the driver for a conversion. Returns 0, or the sensor error the driver's
 * failure maps to (sbc_iio_map_errno); *@raw_errno receives the errno the
 * kernel gave (0 when the text was not a number), for the log.
 */
int sbc_iio_read_int(const char *dir, const char *attr, long *value, int *raw_errno);

/* Read a fixed-point attribute ("0.001000") in units of 1e-9. */
int sbc_iio_read_nano(const char *dir, const char *attr, int64_t *nano, int *raw_errno);

/* A read()'s errno as hal_sensor.h's error (negative). */
int sbc_iio_map_errno(int err);

/* ---- sensor.c, link.c, system.c, log.c ---------------------------------- */

void sbc__sensor_setup(const struct sbc_settings *s);
void sbc__link_setup(const struct sbc_settings *s);
void sbc__log_setup(enum hal_log_level level);

/* ---- http_curl.c: hal_http over libcurl --------------------------------- */

/* curl_global_init, once at boot before anything else runs. Returns 0 or -ENOMEM. */
int sbc__http_setup(void);
/* Drop the request in flight and release libcurl (at exit). */
void sbc__http_teardown(void);

/*
 * Load @config_path, check it, open storage, install the signal handlers.
 * Returns 0, or a negative errno with a message in @err.
 */
int sbc_board_setup(const char *config_path, char *err, size_t errlen);
void sbc_board_teardown(void);

#endif /* SBC_BOARD_H */
