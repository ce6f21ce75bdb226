/*
 * Starting robots by copying a process instead of executing the binary.
 *
 * exec() of robofleet-device maps and relocates libmosquitto, libssl and
 * libcrypto anew for every robot: about 10 ms of CPU on a virtual machine
 * and some 400 KiB of relocated pages that each robot then holds alone. A
 * fork server (robofleet-device --fork-server FD) has done that once; every
 * robot it starts is a copy of it, sharing those pages until written.
 *
 * The copy is made with clone(CLONE_PARENT): its parent is the server's
 * parent, robofleet, which waits for it, signals it and sees it die exactly
 * as it does a process it spawned itself. The server does nothing between
 * requests but read its socket - no threads, no library initialised - so
 * that a copy starts from a clean process (glibc's fork() bookkeeping is
 * for processes with threads and fork handlers; this one has neither).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fork_server.h"

/* GCC says __SANITIZE_ADDRESS__; clang says it through __has_feature. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FORK_SERVER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FORK_SERVER_SANITIZED 1
#endif
#endif

int fork_request_parse(char *buf, size_t len, const char **log, char **argv, int max)
{
	size_t at;
	int argc = 0;

	if (!buf || len == 0 || len > FORK_REQUEST_MAX || buf[len - 1] != '\0' || max < 2)
		return -EINVAL;
	*log = buf;
	at = strlen(buf) + 1;
	while (at < len) {
		if (argc == max - 1)
			return -EINVAL;
		argv[argc++] = buf + at;
		at += strlen(buf + at) + 1;
	}
	if (argc == 0 || argv[0][0] == '\0')
		return -EINVAL;
	argv[argc] = NULL;
	return argc;
}

static int read_full(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t got = read(fd, b, n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		b += got;
		n -= (size_t)got;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t put = write(fd, b, n);

		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return -1;
		b += put;
		n -= (size_t)put;
	}
	return 0;
}

static void redirect(int target, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	if (fd != target) {
		dup2(fd, target);
		close(fd);
	}
}

/*
 * Show the device's command line in ps and /proc/PID/cmdline, as an
 * executed device would: written over the server's own arguments (robofleet
 * starts the server with room to spare), cut where the room ends.
 */
static void retitle(char *title, size_t room, char **argv)
{
	size_t at = 0;

	if (!title || room == 0)
		return;
	for (int k = 0; argv[k] && at + 1 < room; k++) {
		size_t n = strlen(argv[k]);

		if (n > room - 1 - at)
			n = room - 1 - at;
		memcpy(title + at, argv[k], n);
		at += n;
		title[at++] = '\0';
	}
	memset(title + at, 0, room - at);
}

/* In the copy: the descriptors and signals a freshly spawned device has. */
static void become_device(int server_fd, const char *log)
{
	struct sigaction dfl;
	sigset_t none;

	close(server_fd);
	redirect(STDIN_FILENO, "/dev/null", O_RDONLY);
	redirect(STDOUT_FILENO, "/dev/null", O_WRONLY);
	if (log[0])
		redirect(STDERR_FILENO, log, O_WRONLY | O_CREAT | O_APPEND);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int fork_server_run(int fd, int (*device_main)(int argc, char **argv), char *title,
		    size_t title_room)
{
	static char buf[FORK_REQUEST_MAX];
	char *argv[FORK_ARGS_MAX];
	const char *log;

#ifdef FORK_SERVER_SANITIZED
	/* A sanitizer's runtime keeps per-thread state that a raw clone()
	 * would copy with the wrong thread id: refuse, and robofleet
	 * executes each device instead. */
	(void)buf; (void)argv; (void)log; (void)device_main; (void)write_full;
	(void)become_device; (void)read_full; (void)retitle; (void)title; (void)title_room;
	close(fd);
	fprintf(stderr, "robofleet-device: --fork-server is not available in a sanitizer build\n");
	return 3;
#else
	/* Follow robofleet: a server it no longer reads from has no use. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		uint32_t len;
		int32_t answer;
		int argc;
		pid_t pid;

		if (read_full(fd, &len, sizeof(len)) < 0)
			return 0;
		if (len == 0 || len > FORK_REQUEST_MAX || read_full(fd, buf, len) < 0) {
			fprintf(stderr, "robofleet-device: fork server: a request of %u bytes "
				"(at most %u)\n", (unsigned)len, FORK_REQUEST_MAX);
			return 2;
		}
		argc = fork_request_parse(buf, len, &log, argv, FORK_ARGS_MAX);
		if (argc < 0) {
			answer = -EINVAL;
		} else {
			pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
			if (pid == 0) {
				become_device(fd, log);
				retitle(title, title_room, argv);
				exit(device_main(argc, argv));
			}
			answer = pid < 0 ? -errno : (int32_t)pid;
		}
		if (write_full(fd, &answer, sizeof(answer)) < 0)
			return 0;
	}
#endif
}
