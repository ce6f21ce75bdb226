/* JUnit XML reports: one test case per scenario expectation. */
#ifndef SIM_JUNIT_H
#define SIM_JUNIT_H

#include <stdbool.h>
#include <stddef.h>

struct junit_case {
	const char *name;       /* e.g. "expect all status online (smoke.yaml:12:5)" */
	const char *classname;  /* e.g. the scenario name */
	double time_s;
	bool failed;
	const char *message;    /* short reason, for failures */
	const char *detail;     /* longer text, for failures; may be NULL */
};

/*
 * Write @n cases as one <testsuite> named @suite into @path (replaced
 * atomically). Text is escaped for XML; bytes that XML 1.0 cannot carry are
 * replaced with U+FFFD. Returns 0 or a negative errno.
 */
int junit_write(const char *path, const char *suite, const struct junit_case *cases,
		size_t n, double total_time_s);

#endif /* SIM_JUNIT_H */
