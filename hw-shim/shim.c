/* Bring the whole virtual board up and down for one device process. */
#include <errno.h>
#include <stdio.h>

#include "robot_config.h"
#include "shim.h"
#include "shim_internal.h"

int shim_init(const struct shim_settings *s)
{
	int rc;

	shim__log_setup(s->config->device_id, (int)s->log_level, s->log_limit_bytes);
	shim_random_seed(s->seed);
	shim_gpio_reset();
	shim__link_setup(s->link_delay_ms);
	if ((rc = shim__system_setup(s->config)) < 0) {
		fprintf(stderr, "robofleet-device: signal set-up failed\n");
		return rc;
	}
	if ((rc = shim__storage_open(s->state_dir, s->config->device_id)) < 0)
		return rc;
	if (s->world_path)
		return shim__world_attach(s->world_path, s->world_slot, s->config->device_id, s->env);
	return 0;
}

void shim_fini(void)
{
	shim__world_detach();
	shim__mqtt_teardown();
	shim__storage_close();
	shim__system_teardown();
}
