/*
 * SIGTERM and SIGINT as the graceful-shutdown request of a robot that runs
 * as a Linux process: the virtual robot and the linux-sbc board share it.
 * A signal only sets a flag and writes a byte to a self-pipe, so a wait
 * that polls the pipe's read end returns at once and the firmware finishes
 * its shutdown outside the handler.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "shim_internal.h"

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

int shim__shutdown_signals_setup(void)
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
	/* A broker that goes away must not kill us through a write. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

void shim__shutdown_signals_close(void)
{
	for (int i = 0; i < 2; i++) {
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
}

void shim__shutdown_request(void)
{
	on_signal(SIGTERM);
}

bool shim__shutdown_requested(void)
{
	return shutdown_flag != 0;
}

int shim__shutdown_wake_fd(void)
{
	return wake_pipe[0];
}

void shim__shutdown_drain_wake(void)
{
	char buf[64];

	while (wake_pipe[0] >= 0 && read(wake_pipe[0], buf, sizeof(buf)) > 0) {
	}
}
