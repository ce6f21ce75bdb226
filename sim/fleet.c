/*
 * Device processes. posix_spawn() puts every device in one process group so
 * the whole fleet can be signalled at once, and a terminal's Ctrl-C reaches
 * only robofleet, which then stops the fleet in order. Each device is told
 * (ROBOFLEET_PARENT_PID) to shut down if robofleet dies, so not even a
 * SIGKILL of robofleet leaves orphans.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"

extern char **environ;

int fleet_init(struct fleet *f, size_t count)
{
	memset(f, 0, sizeof(*f));
	f->devices = calloc(count ? count : 1, sizeof(*f->devices));
	if (!f->devices)
		return -ENOMEM;
	f->count = count;
	fleet_fork_init(&f->fork);
	return 0;
}

void fleet_free(struct fleet *f)
{
	fleet_fork_close(&f->fork);
	free(f->devices);
	memset(f, 0, sizeof(*f));
}

/* The environment for a child: ours plus ROBOFLEET_PARENT_PID. */
static char **child_environ(char *parent_var)
{
	size_t n = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0, j = 0; i < n; i++)
		if (strncmp(environ[i], "ROBOFLEET_PARENT_PID=", 21) != 0)
			env[j++] = environ[i];
	for (size_t j = 0; ; j++)
		if (!env[j]) {
			env[j] = parent_var;
			break;
		}
	return env;
}

int fleet_start(struct fleet *f, size_t i)
{
	struct fleet_device *d;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char slot[16], log[1200], parent[48];
	const char *argv[FLEET_ARGS_MAX + FLEET_COMMON_ARGS_MAX + 16];
	const char *path;
	char **env;
	int n = 0, rc;

	if (i >= f->count)
		return -EINVAL;
	d = &f->devices[i];
	if (d->pid > 0 && d->stopping) {
		/* Power back on right after a cut: the old process is dying
		 * (SIGKILL) or gone; collect it before a new one takes the slot. */
		int status;
		if (waitpid(d->pid, &status, 0) == d->pid) {
			d->last_status = status;
			d->pid = 0;
		}
	}
	if (d->pid > 0)
		return -EALREADY;
	snprintf(slot, sizeof(slot), "%u", d->slot);
	snprintf(parent, sizeof(parent), "ROBOFLEET_PARENT_PID=%ld", (long)getpid());
	path = d->program ? d->program : f->device_path;
	argv[n++] = path;
	argv[n++] = "--id";
	argv[n++] = d->id;
	argv[n++] = "--broker";
	argv[n++] = f->broker;
	if (f->world_path[0]) {
		argv[n++] = "--world";
		argv[n++] = f->world_path;
		argv[n++] = "--slot";
		argv[n++] = slot;
	}
	if (f->state_dir[0]) {
		argv[n++] = "--state-dir";
		argv[n++] = f->state_dir;
	}
	for (int k = 0; k < FLEET_ARGS_MAX && d->args[k]; k++)
		argv[n++] = d->args[k];
	for (int k = 0; f->common_args && k < FLEET_COMMON_ARGS_MAX && f->common_args[k]; k++)
		argv[n++] = f->common_args[k];
	argv[n] = NULL;

	env = child_environ(parent);
	if (!env)
		return -ENOMEM;
	if (f->log_dir[0])
		snprintf(log, sizeof(log), "%s/%s.log", f->log_dir, d->id);
	else
		log[0] = '\0';
	if (!d->program && f->use_fork_server && fleet_fork_usable(&f->fork) &&
	    fleet_fork_start(&f->fork, path, env, &f->pgid, log, argv, &d->pid) == 0) {
		free(env);
		goto started;
	}
	fleet_spawnattr_init(&attr, f->pgid);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (log[0])
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log,
						 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&d->pid, path, &fa, &attr, (char *const *)argv, env);
	if (rc == EPERM && f->pgid != 0) {
		/* Every member of the old group is gone: found a new one. */
		f->pgid = 0;
		posix_spawnattr_setpgroup(&attr, 0);
		rc = posix_spawn(&d->pid, path, &fa, &attr, (char *const *)argv, env);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	if (rc != 0) {
		d->pid = 0;
		return -rc;
	}
	if (f->pgid == 0)
		f->pgid = d->pid;
started:
	/* Lowering one's own child's priority needs no privilege; a failure
	 * leaves the device at ours, which only costs the fleet's fairness.
	 * The fork server itself keeps ours: at the devices' priority it
	 * would start them no faster than they run. */
	if (f->nice > 0)
		setpriority(PRIO_PROCESS, (id_t)d->pid, f->nice);
	d->stopping = false;
	d->starts++;
	return 0;
}

static struct fleet_device *find_pid(struct fleet *f, pid_t pid)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->devices[i].pid == pid)
			return &f->devices[i];
	return NULL;
}

int fleet_reap(struct fleet *f, void (*on_exit)(void *ctx, struct fleet_device *d, bool crash),
	       void *ctx)
{
	int exited = 0, status;
	pid_t pid;

	if (f->pgid == 0)
		return 0;
	/* Only our group: robofleet's other children (the broker) are not ours. */
	while ((pid = waitpid(-f->pgid, &status, WNOHANG)) > 0) {
		struct fleet_device *d = find_pid(f, pid);
		bool crash;

		if (pid == f->fork.pid) {
			/* The fork server died: devices are spawned from now on. */
			f->fork.pid = 0;
			fleet_fork_close(&f->fork);
			f->fork.failed = true;
			continue;
		}
		if (!d)
			continue;
		crash = !d->stopping && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		d->pid = 0;
		d->last_status = status;
		if (crash)
			d->crashes++;
		exited++;
		if (on_exit)
			on_exit(ctx, d, crash);
	}
	return exited;
}

int fleet_stop(struct fleet *f, size_t i)
{
	if (i >= f->count || f->devices[i].pid <= 0)
		return -ESRCH;
	f->devices[i].stopping = true;
	return kill(f->devices[i].pid, SIGTERM) == 0 ? 0 : -errno;
}

int fleet_kill(struct fleet *f, size_t i)
{
	if (i >= f->count || f->devices[i].pid <= 0)
		return -ESRCH;
	f->devices[i].stopping = true;
	return kill(f->devices[i].pid, SIGKILL) == 0 ? 0 : -errno;
}

size_t fleet_running(const struct fleet *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->count; i++)
		n += f->devices[i].pid > 0;
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fleet_stop_all(struct fleet *f, int timeout_ms)
{
	int64_t until = now_ms() + timeout_ms;
	int killed = 0;

	for (size_t i = 0; i < f->count; i++)
		if (f->devices[i].pid > 0)
			f->devices[i].stopping = true;
	if (f->pgid > 0)
		kill(-f->pgid, SIGTERM);
	/* Reap as they go; a blocking wait would not honour the deadline. */
	while (fleet_running(f) > 0 && now_ms() < until) {
		if (fleet_reap(f, NULL, NULL) == 0)
			poll(NULL, 0, 5);
	}
	for (size_t i = 0; i < f->count; i++) {
		struct fleet_device *d = &f->devices[i];
		if (d->pid > 0) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &d->last_status, 0);
			d->pid = 0;
			killed++;
		}
	}
	return killed;
}
