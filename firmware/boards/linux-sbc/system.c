/*
 * hal_system for Linux: configuration from robot.conf, SIGTERM/SIGINT as the
 * graceful-shutdown request, and the board's setup and teardown. Signals
 * only set a flag and write a byte to a self-pipe that the wait polls.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "hal_system.h"
/* Only for shim__storage_open/close: the host's file store is this board's
 * storage too, so both boards keep one implementation of the format. */
#include "shim_internal.h"

static struct robot_config config;
static bool configured;
static volatile sig_atomic_t shutdown_flag;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;

	shutdown_flag = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], &b, 1) < 0) {
		/* pipe full: a wake-up is already pending */
	}
	errno = saved;
}

static int setup_signals(void)
{
	struct sigaction sa;

	shutdown_flag = 0;
	if (wake_pipe[0] < 0) {
		if (pipe(wake_pipe) < 0)
			return -errno;
		for (int i = 0; i < 2; i++) {
			fcntl(wake_pipe[i], F_SETFL, fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
			fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

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
	if ((rc = setup_signals()) < 0) {
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
	for (int i = 0; i < 2; i++) {
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
	configured = false;
}

int sbc__wake_fd(void)
{
	return wake_pipe[0];
}

void sbc__drain_wake(void)
{
	char buf[64];

	while (wake_pipe[0] >= 0 && read(wake_pipe[0], buf, sizeof(buf)) > 0) {
	}
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
	return shutdown_flag != 0;
}

void hal_system_report(const struct robot_status *status)
{
	/* Nobody watches a Pi's robot but the broker and the journal. */
	(void)status;
}
