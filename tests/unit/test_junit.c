/* JUnit XML: counts, escaping, and bytes XML cannot carry. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "junit.h"

static char path[64];

static char *slurp(const char *p)
{
	static char buf[8192];
	FILE *f = fopen(p, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/robofleet-junit-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_junit_counts_cases_and_failures(void **state)
{
	const struct junit_case cases[] = {
		{ "expect all online", "smoke", 1.5, false, NULL, NULL },
		{ "expect robot_001 messages", "smoke", 2.25, true, "3 of 5 messages", "robot_001: 3 < 5" },
		{ "expect lost 0", "smoke", 0.0, false, NULL, NULL },
	};
	char *xml;

	(void)state;
	assert_int_equal(junit_write(path, "smoke", cases, 3, 12.5), 0);
	xml = slurp(path);
	assert_non_null(strstr(xml, "<testsuite name=\"smoke\" tests=\"3\" failures=\"1\""));
	assert_non_null(strstr(xml, "time=\"12.500\""));
	assert_non_null(strstr(xml, "<testcase name=\"expect all online\" classname=\"smoke\" time=\"1.500\"/>"));
	assert_non_null(strstr(xml, "<failure message=\"3 of 5 messages\" type=\"expectation\">robot_001: 3 &lt; 5</failure>"));
}

static void test_junit_escapes_markup_and_invalid_bytes(void **state)
{
	const struct junit_case cases[] = {
		{ "a<b>&\"c'", NULL, 0, true, "bell\a and \xff byte, caf\xc3\xa9", NULL },
	};
	char *xml;

	(void)state;
	assert_int_equal(junit_write(path, "s&s", cases, 1, 0), 0);
	xml = slurp(path);
	assert_non_null(strstr(xml, "name=\"a&lt;b&gt;&amp;&quot;c&apos;\""));
	assert_non_null(strstr(xml, "classname=\"s&amp;s\""));
	assert_null(strchr(xml, '\a'));
	assert_null(strchr(xml, '\xff'));
	assert_non_null(strstr(xml, "bell\xef\xbf\xbd and \xef\xbf\xbd byte, caf\xc3\xa9"));
}

static void test_junit_bad_directory_is_an_error(void **state)
{
	const struct junit_case c = { "x", NULL, 0, false, NULL, NULL };

	(void)state;
	assert_true(junit_write("/nonexistent/dir/r.xml", "s", &c, 1, 0) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_junit_counts_cases_and_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junit_escapes_markup_and_invalid_bytes, setup, teardown),
		cmocka_unit_test(test_junit_bad_directory_is_an_error),
	};

	return cmocka_run_group_tests_name("junit", tests, NULL, NULL);
}
