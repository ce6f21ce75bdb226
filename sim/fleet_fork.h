#ifndef SIM_FLEET_FORK_H
#define SIM_FLEET_FORK_H

#include <spawn.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * robofleet's end of robofleet-device's fork server (hw-shim/fork_server.c):
 * one server per fleet, started on first use; devices it starts are
 * robofleet's children like spawned ones. When the server cannot be
 * started or stops answering, the fleet goes back to posix_spawn() for
 * good (fleet_fork_usable() says false).
 */
struct fleet_fork {
	int fd;                 /* -1: not started */
	pid_t pid;
	bool failed;            /* do not try again */
};

/*
 * The attributes every process of the fleet is spawned with: process group
 * @pgid (0: it founds one), no signal blocked, SIGTERM, SIGINT and SIGPIPE
 * at their defaults. Destroy with posix_spawnattr_destroy().
 */
void fleet_spawnattr_init(posix_spawnattr_t *attr, pid_t pgid);

void fleet_fork_init(struct fleet_fork *s);
bool fleet_fork_usable(const struct fleet_fork *s);

/*
 * Start device @argv (NULL-terminated; argv[0] the server's own program)
 * with stderr appended to @log ("" leaves it alone). The server is started
 * from @path on first use, in process group *@pgid (0: it founds one, and
 * *@pgid is set), with environment @env. Returns 0 with *@pid set, or a
 * negative errno, after which the fleet spawns instead.
 */
int fleet_fork_start(struct fleet_fork *s, const char *path, char *const env[], pid_t *pgid,
		     const char *log, const char *const argv[], pid_t *pid);

/* Close the server's socket: it exits. Its exit is reaped with the fleet's. */
void fleet_fork_close(struct fleet_fork *s);

#endif /* SIM_FLEET_FORK_H */
