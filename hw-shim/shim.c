/* Bring the whole virtual board up and down for one device process. */
#include <errno.h>
#include <stdio.h>

#include "posix_hal.h"
#include "robot_config.h"
#include "shim.h"
#include "shim_internal.h"

int shim_init(const struct shim_settings *s)
{
	int rc;

	shim__posix_hooks_install();
	shim__log_setup(s->config->device_id, (int)s->log_level, s->log_limit_bytes);
	shim_random_seed(s->seed);
	shim_gpio_reset();
	shim__link_setup(s->link_delay_ms);
	shim__credentials_setup(s->tls_ca, s->tls_cert, s->tls_key, s->fault_credentials_dir);
	if ((rc = shim__system_setup(s->config)) < 0) {
		fprintf(stderr, "robofleet-device: signal set-up failed\n");
		return rc;
	}
	/* The world first: a flash fault waiting in the slot (a corrupt
	 * record at boot) must be known before the store is opened. */
	if (s->world_path &&
	    (rc = shim__world_attach(s->world_path, s->world_slot, s->config->device_id,
				     s->env)) < 0)
		return rc;
	/* A store that cannot be opened ends the boot: leave no pid behind. */
	if ((rc = posix_storage_open(s->state_dir, s->config->device_id)) < 0)
		shim__world_detach();
	return rc;
}

void shim_fini(void)
{
	shim__world_detach();
	posix_mqtt_teardown();
	posix_storage_close();
	shim__system_teardown();
	shim__posix_hooks_remove();
}
