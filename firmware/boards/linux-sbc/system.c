/*
 * hal_system for Linux: configuration from robot.conf, SIGTERM/SIGINT as the
 * graceful-shutdown request (the host shim's shutdown_signal.c), and the
 * board's setup and teardown.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal_system.h"
/* For shim__storage_* and shim__shutdown_*: the host's file store and its
 * signal handling serve this board too, one implementation each. */
#include "shim_internal.h"

static struct robot_config config;
static bool configured;

int sbc_board_setup(const char *config_path, char *err, size_t errlen)
{
	struct sbc_settings s;
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
	sbc__mqtt_setup(&s);
	if ((rc = shim__storage_open(s.state_dir, config.device_id)) < 0) {
		snprintf(err, errlen, "storage in %s: %s", s.state_dir, strerror(-rc));
		return rc;
	}
	if ((rc = shim__shutdown_signals_setup()) < 0) {
		snprintf(err, errlen, "signal pipe: %s", strerror(-rc));
		return rc;
	}
	configured = true;
	return 0;
}

void sbc_board_teardown(void)
{
	sbc__mqtt_teardown();
	shim__storage_close();
	shim__shutdown_signals_close();
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
	return shim__shutdown_requested();
}

void hal_system_report(const struct robot_status *status)
{
	/* Nobody watches a Pi's robot but the broker and the journal. */
	(void)status;
}
