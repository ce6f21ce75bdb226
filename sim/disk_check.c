/* The run directory's size, estimated from the fleet, its intervals and the timeline. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "disk_check.h"

void disk_estimate_run(const struct scenario *sc, struct disk_estimate *out)
{
	memset(out, 0, sizeof(*out));
	out->longest_ms = scenario_longest_ms(sc);
	for (size_t g = 0; g < sc->fleet.n_groups; g++) {
		const struct scenario_group *gr = &sc->fleet.groups[g];
		uint64_t interval = gr->interval_ms ? gr->interval_ms : 1000;

		/* Per-metric robots keep no JSON readings, but their plain
		 * numbers are rows too: three per interval, a third the size. */
		out->readings += (uint64_t)gr->count * (out->longest_ms / interval + 1);
	}
	out->bytes = out->readings * DISK_BYTES_PER_READING +
		     (uint64_t)sc->fleet.n_devices * DISK_BYTES_PER_DEVICE + DISK_BYTES_FIXED;
}

int disk_free_bytes(const char *path, uint64_t *out)
{
	char p[PATH_MAX];
	struct statvfs st;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (;;) {
		if (statvfs(p, &st) == 0) {
			*out = (uint64_t)st.f_bavail * st.f_frsize;
			return 0;
		}
		if (errno != ENOENT)
			return -errno;
		/* Not made yet: the file system is its parent's. */
		char *slash = strrchr(p, '/');
		if (!slash || slash == p) {
			snprintf(p, sizeof(p), "%s", slash == p ? "/" : ".");
			if (statvfs(p, &st) < 0)
				return -errno;
			*out = (uint64_t)st.f_bavail * st.f_frsize;
			return 0;
		}
		*slash = '\0';
	}
}
