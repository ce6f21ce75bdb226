/*
 * SIGTERM and SIGINT as a request to stop, for a program that runs as a
 * Linux process: the virtual robot, the Linux SBC board, the orchestrator.
 * A signal only sets a flag and writes a byte to a self-pipe, so a wait
 * that polls the pipe's read end returns at once and the program finishes
 * its work outside the handler.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "posix_hal.h"

static volatile sig_atomic_t received;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;

	received = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], &b, 1) < 0) {
		/* pipe full: a wake-up is already pending */
	}
	errno = saved;
}

int posix_signal_setup(void)
{
	struct sigaction sa;

	received = 0;
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
	/* A peer that goes away must not kill us through a write. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

void posix_signal_close(void)
{
	for (int i = 0; i < 2; i++) {
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
}

void posix_signal_raise(void)
{
	on_signal(SIGTERM);
}

bool posix_signal_received(void)
{
	return received != 0;
}

int posix_signal_wake_fd(void)
{
	return wake_pipe[0];
}

void posix_signal_drain(void)
{
	char buf[64];

	while (wake_pipe[0] >= 0 && read(wake_pipe[0], buf, sizeof(buf)) > 0) {
	}
}
