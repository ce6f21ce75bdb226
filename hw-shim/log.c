/* hal_log for the host: one line per record on stderr, prefixed for grep. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hal_log.h"
#include "shim_internal.h"

static enum hal_log_level max_level = HAL_LOG_INFO;
static char device[40] = "?";
static uint64_t limit_bytes;   /* 0: no limit */
static uint64_t written_bytes;
static bool capped;

void shim__log_setup(const char *device_id, int level, uint64_t limit)
{
	snprintf(device, sizeof(device), "%s", device_id);
	max_level = (enum hal_log_level)level;
	limit_bytes = limit;
	written_bytes = 0;
	capped = false;
}

enum hal_log_level hal_log_get_level(void)
{
	return max_level;
}

void hal_log_write(enum hal_log_level level, const char *line)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	if (level > max_level || capped)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	int n = fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000L, device,
			names[level <= HAL_LOG_DEBUG ? level : HAL_LOG_DEBUG], line);
	if (n > 0)
		written_bytes += (uint64_t)n;
	/* A thousand devices in a fault loop must not fill the disk. */
	if (limit_bytes && written_bytes >= limit_bytes) {
		fprintf(stderr, "%s.%03ldZ %s warn: log limit of %llu bytes reached; "
			"further lines dropped\n", stamp, ts.tv_nsec / 1000000L, device,
			(unsigned long long)limit_bytes);
		capped = true;
	}
}
