/* A function's reason for failing, into its caller's buffer. libc only. */
#ifndef SIM_ERROR_TEXT_H
#define SIM_ERROR_TEXT_H

#include <stddef.h>

/*
 * Format the reason into @err (@errlen bytes; NULL or 0: nowhere) and
 * return @rc, so a failure is one statement: return error_text(...).
 */
int error_text(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* SIM_ERROR_TEXT_H */
