/* The fleet: one device process per robot (robofleet-device or another program taking its options), in one process group. */
#ifndef SIM_FLEET_H
#define SIM_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fleet_fork.h"

#define FLEET_ARGS_MAX 40
/* Room for options every device gets (the scenario's network: two per DNS
 * name, up to 32 of them, and a few more). One list for the whole fleet, so
 * a big fleet does not pay for it per device. */
#define FLEET_COMMON_ARGS_MAX 80

struct fleet_device {
	char id[33];
	uint32_t slot;              /* index in the world file */
	pid_t pid;                  /* 0 while not running */
	bool stopping;              /* we asked it to stop: an exit is no crash */
	unsigned int starts;
	unsigned int crashes;
	int last_status;            /* waitpid status of the last exit */
	const char *args[FLEET_ARGS_MAX]; /* extra device options, borrowed */
	const char *program;        /* NULL: the fleet's device_path; borrowed */
};

struct fleet {
	struct fleet_device *devices;
	size_t count;
	pid_t pgid;                 /* 0 until the first device starts */
	char device_path[1024];     /* robofleet-device, for devices without a program */
	char broker[300];           /* host:port */
	char world_path[1024];      /* empty: no world */
	char state_dir[1024];
	char log_dir[1024];         /* one <id>.log per device */
	/* Options after each device's own, NULL-terminated, at most
	 * FLEET_COMMON_ARGS_MAX; NULL: none. Borrowed. */
	const char *const *common_args;
	/* Start devices without a program through robofleet-device's fork
	 * server (fleet_fork.h) rather than executing it for each. */
	bool use_fork_server;
	struct fleet_fork fork;
	/* Added to each device's nice value (0..19): the simulated devices
	 * yield the CPU to the broker and the recorder, which on real
	 * hardware would not share it with them. 0: as this process. */
	int nice;
};

/* Allocate @count devices. Returns 0 or -ENOMEM. */
int fleet_init(struct fleet *f, size_t count);
void fleet_free(struct fleet *f);

/*
 * Start device @i. It joins the fleet's process group and is told to follow
 * this process if it dies. Returns 0, -EALREADY, or a negative errno.
 */
int fleet_start(struct fleet *f, size_t i);

/*
 * Reap exited devices without blocking. Each exit not asked for is a crash.
 * Returns the number of devices that exited; @on_exit (may be NULL) is told
 * about each one.
 */
int fleet_reap(struct fleet *f, void (*on_exit)(void *ctx, struct fleet_device *d, bool crash),
	       void *ctx);

/* SIGTERM device @i (graceful: it publishes `offline`). */
int fleet_stop(struct fleet *f, size_t i);

/* SIGKILL device @i: a power cut. */
int fleet_kill(struct fleet *f, size_t i);

/*
 * Stop every device: SIGTERM to the group, wait up to @timeout_ms for all of
 * them, SIGKILL whatever is left. Returns how many had to be killed.
 */
int fleet_stop_all(struct fleet *f, int timeout_ms);

/* Number of devices currently running. */
size_t fleet_running(const struct fleet *f);

#endif /* SIM_FLEET_H */
