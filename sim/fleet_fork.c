/* robofleet's end of the device fork server: see fleet_fork.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fleet_fork.h"

#define REQUEST_MAX 65536u
/* A server that takes longer than this to answer is stuck: spawn instead. */
#define ANSWER_TIMEOUT_MS 10000

void fleet_spawnattr_init(posix_spawnattr_t *attr, pid_t pgid)
{
	sigset_t none, defaults;

	posix_spawnattr_init(attr);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(attr, pgid);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(attr, &none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGPIPE);
	posix_spawnattr_setsigdefault(attr, &defaults);
}

void fleet_fork_init(struct fleet_fork *s)
{
	s->fd = -1;
	s->pid = 0;
	s->failed = false;
}

bool fleet_fork_usable(const struct fleet_fork *s)
{
	return !s->failed;
}

void fleet_fork_close(struct fleet_fork *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		/* It exits on the end of its requests: collect it. */
		if (s->pid > 0)
			waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	s->fd = -1;
}

static int fail(struct fleet_fork *s, int err)
{
	fleet_fork_close(s);
	s->failed = true;
	return err;
}

static int start_server(struct fleet_fork *s, const char *path, char *const env[], pid_t *pgid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	/* Room for each device's command line (fork_server.c's retitle()). */
	static char room[4096];
	char *const argv[] = { (char *)path, "--fork-server", "3", room, NULL };
	int sv[2], rc;

	memset(room, ' ', sizeof(room) - 1);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fleet_spawnattr_init(&attr, *pgid);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	rc = posix_spawn(&s->pid, path, &fa, &attr, argv, env);
	if (rc == EPERM && *pgid != 0) {
		/* Every member of the old group is gone: found a new one. */
		*pgid = 0;
		posix_spawnattr_setpgroup(&attr, 0);
		rc = posix_spawn(&s->pid, path, &fa, &attr, argv, env);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return -rc;
	}
	if (*pgid == 0)
		*pgid = s->pid;
	s->fd = sv[0];
	return 0;
}

static int send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t put = send(fd, b, n, MSG_NOSIGNAL);

		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return -EPIPE;
		b += put;
		n -= (size_t)put;
	}
	return 0;
}

static int recv_answer(int fd, int32_t *answer)
{
	uint8_t *b = (uint8_t *)answer;
	size_t n = sizeof(*answer);

	while (n > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;
		int rc = poll(&p, 1, ANSWER_TIMEOUT_MS);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return -ETIMEDOUT;
		got = recv(fd, b, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -EPIPE;
		b += got;
		n -= (size_t)got;
	}
	return 0;
}

int fleet_fork_start(struct fleet_fork *s, const char *path, char *const env[], pid_t *pgid,
		     const char *log, const char *const argv[], pid_t *pid)
{
	static char req[REQUEST_MAX];
	size_t len = 0;
	uint32_t len32;
	int32_t answer;
	int rc;

	if (s->failed)
		return -ENOTSUP;
	for (int k = -1; k < 0 || argv[k]; k++) {
		const char *str = k < 0 ? log : argv[k];
		size_t n = strlen(str) + 1;

		if (len + n > sizeof(req))
			return -E2BIG;          /* this device only: spawn it */
		memcpy(req + len, str, n);
		len += n;
	}
	if (s->fd < 0 && (rc = start_server(s, path, env, pgid)) < 0)
		return fail(s, rc);
	len32 = (uint32_t)len;
	if ((rc = send_all(s->fd, &len32, sizeof(len32))) < 0 ||
	    (rc = send_all(s->fd, req, len)) < 0 || (rc = recv_answer(s->fd, &answer)) < 0)
		return fail(s, rc);
	if (answer <= 0)
		return answer < 0 ? answer : -EPROTO;
	*pid = (pid_t)answer;
	return 0;
}
