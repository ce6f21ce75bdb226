/* error_text(): the one way the credentials code says why it failed. */
#include <stdarg.h>
#include <stdio.h>

#include "error_text.h"

int error_text(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
