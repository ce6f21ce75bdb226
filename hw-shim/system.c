/*
 * hal_system for the host: configuration from the command line, SIGTERM or
 * SIGINT as the graceful-shutdown request (the POSIX HAL's signal.c), and a
 * shutdown when the supervisor dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hal_system.h"
#include "posix_hal.h"
#include "robot_config.h"
#include "shim_internal.h"

static const struct robot_config *config;

/*
 * A supervisor (robofleet, a test) that names itself in ROBOFLEET_PARENT_PID
 * gets a device that shuts down when it dies, so that even a SIGKILLed
 * supervisor leaves no orphan robots behind.
 */
static void follow_parent(void)
{
	const char *want = getenv("ROBOFLEET_PARENT_PID");

	if (!want || !*want)
		return;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* The parent may have died before prctl() took effect. */
	if ((long)getppid() != strtol(want, NULL, 10))
		posix_signal_raise();
}

int shim__system_setup(const struct robot_config *cfg)
{
	int rc;

	config = cfg;
	if ((rc = posix_signal_setup()) < 0)
		return rc;
	follow_parent();
	return 0;
}

void shim__system_teardown(void)
{
	posix_signal_close();
}

int hal_system_load_config(struct robot_config *cfg)
{
	if (!config)
		return -EINVAL;
	*cfg = *config;
	return 0;
}

bool hal_system_shutdown_requested(void)
{
	return posix_signal_received();
}
