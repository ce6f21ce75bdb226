/* Format a log line on the stack and hand it to the board. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void robot_log(enum hal_log_level level, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	if (level > hal_log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hal_log_write(level, line);
}
