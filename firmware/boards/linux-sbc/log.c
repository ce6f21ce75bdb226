/*
 * hal_log for Linux: one line per record on stderr with a sd-daemon(3)
 * priority prefix ("<3>" error ... "<7>" debug). journald turns the prefix
 * into the record's priority and adds time and unit itself, so
 * `journalctl -u robofleet-robot -p warning` works.
 */
#include <stdio.h>

#include "board.h"
#include "hal_log.h"

static enum hal_log_level max_level = HAL_LOG_INFO;

void sbc__log_setup(enum hal_log_level level)
{
	max_level = level;
}

enum hal_log_level hal_log_get_level(void)
{
	return max_level;
}

void hal_log_write(enum hal_log_level level, const char *line)
{
	/* syslog priorities: LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7 */
	static const char prio[] = { '3', '4', '6', '7' };

	if (level > max_level)
		return;
	fprintf(stderr, "<%c>%s\n", prio[level <= HAL_LOG_DEBUG ? level : HAL_LOG_DEBUG], line);
}
