/* hal_log for the host: one line per record on stderr, prefixed for grep. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hal_log.h"
#include "shim_internal.h"

static enum hal_log_level max_level = HAL_LOG_INFO;
static char device[40] = "?";

void shim__log_setup(const char *device_id, int level)
{
	snprintf(device, sizeof(device), "%s", device_id);
	max_level = (enum hal_log_level)level;
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

	if (level > max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000L, device,
		names[level <= HAL_LOG_DEBUG ? level : HAL_LOG_DEBUG], line);
}
