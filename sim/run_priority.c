/* `robofleet run`: the broker and the recorder outrank the simulated devices. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "run_internal.h"

/*
 * On real hardware the cloud does not share a CPU with the robots. Here it
 * does, and the kernel shares the CPU by weight among what is runnable:
 * with thousands of robots runnable at nice 0, mosquitto and the recorder
 * (two tasks among them) got a few per cent of a core and the whole fleet
 * collapsed (docs/performance.md, "Beyond the machine"). So the devices run
 * at the lowest priority, and the run (its recorder, engine, ingest) and
 * the broker it starts at RUN_PRIORITY_BOOST above the caller's when
 * allowed (root, or CAP_SYS_NICE).
 */
#define DEVICE_NICE 19
#define RUN_PRIORITY_BOOST 10
/* Below this a fleet does not load the machine enough to need the boost. */
#define PRIORITY_HINT_DEVICES 1000

int run__set_priorities(const struct run *r)
{
	const char *off = getenv("ROBOFLEET_NICE");
	int now, want;

	if (off && strcmp(off, "0") == 0)
		return 0;
	errno = 0;
	now = getpriority(PRIO_PROCESS, 0);
	if (now == -1 && errno)
		return DEVICE_NICE;
	want = now - RUN_PRIORITY_BOOST < -20 ? -20 : now - RUN_PRIORITY_BOOST;
	/* Before any thread or child: both inherit it. */
	if (setpriority(PRIO_PROCESS, 0, want) < 0 &&
	    r->sc.fleet.n_devices >= PRIORITY_HINT_DEVICES)
		fprintf(stderr, "robofleet: cannot raise the priority of the broker and the recorder "
			"(%s; root or CAP_SYS_NICE can): the devices run at nice %d, but a fleet "
			"beyond the machine may still starve them\n", strerror(errno), DEVICE_NICE);
	return DEVICE_NICE;
}
