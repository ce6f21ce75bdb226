/*
 * hal_system for Linux: configuration from robot.conf, SIGTERM/SIGINT as the
 * graceful-shutdown request (the POSIX HAL's signal.c), and the board's
 * setup and teardown, which hand the POSIX HAL its storage directory and
 * TLS settings and start libcurl for hal_http.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal_system.h"
#include "posix_hal.h"

static struct robot_config config;
static bool configured;

int sbc_board_setup(const char *config_path, char *err, size_t errlen)
{
	struct sbc_settings s;
	struct posix_mqtt_tls tls;
	const char *why = NULL;
	int rc;

	robot_config_defaults(&config);
	sbc_settings_defaults(&s);
	if ((rc = sbc_config_load(config_path, &config, &s, err, errlen)) < 0)
		return rc;
	if (robot_config_validate(&config, &why) < 0) {
		snprintf(err, errlen, "%s: %s", config_path, why);
		return -EINVAL;
	}
	sbc__log_setup(s.log_level);
	sbc__sensor_setup(&s);
	sbc__link_setup(&s);
	tls.ca_file = s.tls_ca_file;
	tls.cert_file = s.tls_cert_file;
	tls.key_file = s.tls_key_file;
	if ((rc = posix_mqtt_set_tls(&tls)) < 0) {
		snprintf(err, errlen, "TLS settings: %s", strerror(-rc));
		return rc;
	}
	if ((rc = sbc__http_setup()) < 0) {
		snprintf(err, errlen, "libcurl: %s", strerror(-rc));
		return rc;
	}
	if ((rc = posix_storage_open(s.state_dir, config.device_id)) < 0) {
		snprintf(err, errlen, "storage in %s: %s", s.state_dir, strerror(-rc));
		return rc;
	}
	if ((rc = posix_signal_setup()) < 0) {
		snprintf(err, errlen, "signal pipe: %s", strerror(-rc));
		return rc;
	}
	configured = true;
	return 0;
}

void sbc_board_teardown(void)
{
	posix_mqtt_teardown();
	sbc__http_teardown();
	posix_storage_close();
	posix_signal_close();
	configured = false;
}

int hal_system_load_config(struct robot_config *cfg)
{
	if (!configured)
		return -EINVAL;
	*cfg = config;
	return 0;
}

bool hal_system_shutdown_requested(void)
{
	return posix_signal_received();
}

void hal_system_report(const struct robot_status *status)
{
	/* Nobody watches a Pi's robot but the broker and the journal. */
	(void)status;
}
