/*
 * hal_system for the host: configuration from the command line, and SIGTERM
 * or SIGINT as the graceful-shutdown request. Signals only set a flag and
 * write a byte to a self-pipe that the firmware's wait polls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hal_system.h"
#include "robot_config.h"
#include "shim_internal.h"

static const struct robot_config *config;
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
		on_signal(SIGTERM);
}

int shim__system_setup(const struct robot_config *cfg)
{
	struct sigaction sa;

	config = cfg;
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
	follow_parent();
	return 0;
}

void shim__system_teardown(void)
{
	for (int i = 0; i < 2; i++) {
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
}

int shim__system_wake_fd(void)
{
	return wake_pipe[0];
}

void shim__system_drain_wake(void)
{
	char buf[64];

	while (wake_pipe[0] >= 0 && read(wake_pipe[0], buf, sizeof(buf)) > 0) {
	}
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
	return shutdown_flag != 0;
}
