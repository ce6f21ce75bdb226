/* The report's pure parts: time bins, heat levels, escaping for HTML/JSON/Markdown, the Markdown summary, the status line. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "progress.h"
#include "report_data.h"
#include "report_html.h"
#include "summary_md.h"

/* What @fn wrote for @arg, as a string the caller frees. */
static char *capture(void (*fn)(FILE *, const char *), const char *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	fn(m, arg);
	fclose(m);
	return buf;
}

static void test_bins(void **state)
{
	struct report_bins b;

	(void)state;
	report_bins_init(&b, 1000, 1000, 100);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.width_ms, 1000);
	report_bins_init(&b, 0, 9999, 100);
	assert_int_equal(b.n, 10);
	assert_int_equal(report_bin_of(&b, -5), 0);
	assert_int_equal(report_bin_of(&b, 1999), 1);
	assert_int_equal(report_bin_of(&b, 50000), 9); /* clamped */
	/* A day in at most 1800 bins: whole seconds, wide enough. */
	report_bins_init(&b, 0, 86400000, REPORT_MAX_BINS);
	assert_true(b.n <= REPORT_MAX_BINS);
	assert_int_equal(b.width_ms % 1000, 0);
	assert_int_equal(b.width_ms, 49000);
	/* Time running backwards: one bin, not a huge one. */
	report_bins_init(&b, 5000, 1000, 10);
	assert_int_equal(b.n, 1);
}

static void test_heat_and_latency(void **state)
{
	(void)state;
	assert_int_equal(report_heat_level(0, 1000), '0');
	assert_int_equal(report_heat_level(1, 1000), '1');   /* any time online shows */
	assert_int_equal(report_heat_level(500, 1000), '5');
	assert_int_equal(report_heat_level(999, 1000), '8');
	assert_int_equal(report_heat_level(1000, 1000), '9');
	assert_int_equal(report_heat_level(5, 0), '0');
	assert_int_equal(report_latency_bucket(0), 0);
	assert_int_equal(report_latency_bucket(1), 1);
	assert_int_equal(report_latency_bucket(49.9), 5);
	assert_int_equal(report_latency_bucket(1e9), REPORT_LATENCY_BUCKETS - 1);
	assert_int_equal(report_latency_bucket(-3), 0); /* clocks apart: the first bucket */
}

static void test_json_string_safe_in_script(void **state)
{
	char *s;

	(void)state;
	s = capture(report_json_string, "robot_</script><b>\"x\"\\\n\xe2\x80\xa8&");
	assert_string_equal(s, "\"robot_\\u003c/script\\u003e\\u003cb\\u003e\\\"x\\\"\\\\\\u000a"
			    "\\u2028\\u0026\"");
	free(s);
	s = capture(report_json_string, "température");
	assert_string_equal(s, "\"température\"");
	free(s);
}

static void test_html_escape(void **state)
{
	char *s;

	(void)state;
	s = capture(report_html_escape, "<img src=x onerror='a()'> & \"q\"");
	assert_string_equal(s, "&lt;img src=x onerror=&#39;a()&#39;&gt; &amp; &quot;q&quot;");
	free(s);
	s = capture(report_html_escape, NULL);
	assert_string_equal(s, "");
	free(s);
}

static void test_markdown_cell(void **state)
{
	char *s;

	(void)state;
	s = capture(summary_md_cell, "a|b\nc *d* `e` <f>");
	assert_string_equal(s, "a\\|b c \\*d\\* \\`e\\` \\<f\\>");
	free(s);
}

static void test_markdown_summary(void **state)
{
	const struct summary_md_case cases[] = {
		{ .name = "all online", .file = "/x/smoke.yaml", .line = 16, .passed = true },
		{ .name = "no | loss", .file = "/x/smoke.yaml", .line = 47, .passed = false,
		  .message = "robot_001: lost 2\nrobot_002: lost 1" },
	};
	struct summary_md md = {
		.scenario = "smoke", .run_dir = "runs/x-smoke", .passed = false, .devices = 20,
		.online = 19, .taken = 100, .recorded = 97, .lost = 3, .redelivered = 5,
		.p50_ms = 1, .p99_ms = 7, .max_ms = 9, .cases = cases, .n_cases = 2,
		.influx = true, .influx_written = 291, .influx_dropped = 0,
	};
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, rows = 0;
	FILE *m = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(m);
	assert_int_equal(summary_md_write(m, &md), 0);
	fclose(m);
	assert_non_null(strstr(buf, "### robofleet: smoke FAILED\n"));
	assert_non_null(strstr(buf, "| pass | all online |  | smoke.yaml:16 |\n"));
	assert_non_null(strstr(buf, "| **FAIL** | no \\| loss | robot\\_001: lost 2 robot\\_002: lost 1 | smoke.yaml:47 |\n"));
	assert_non_null(strstr(buf, "| redelivered (stored once) | 5 |\n"));
	assert_non_null(strstr(buf, "| latency p50 / p99 / max | 1 / 7 / 9 ms |\n"));
	assert_non_null(strstr(buf, "| InfluxDB points written / not written | 291 / 0 |\n"));
	/* Every table row has its table's columns: 4 | 5 bars, 2 | 3 bars (escaped ones aside). */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t bars = 0;

		if (line[0] != '|')
			continue;
		for (char *p = line; *p; p++)
			bars += *p == '|' && (p == line || p[-1] != '\\');
		assert_true(bars == 5 || bars == 3);
		rows++;
	}
	assert_int_equal(rows, 4 + 13);
	free(buf);
}

static void test_progress_line(void **state)
{
	struct progress_state s = {
		.elapsed_ms = 3723000, .step = "chaos.yaml:31 wait", .steps_started = 4,
		.steps_total = 12, .online = 98, .total = 100, .readings_per_s = 97.6, .lost = 2,
		.passed = 3, .failed = 1,
	};
	char line[256];
	size_t n;

	(void)state;
	n = progress_format_line(line, sizeof(line), &s, 0);
	assert_string_equal(line, "[01:02:03] step 4/12 chaos.yaml:31 wait | online 98/100 | "
			    "98 readings/s | lost 2 | expectations 3 passed, 1 failed");
	assert_int_equal(n, strlen(line));
	/* A narrow terminal: the step gives way, the line never wraps. */
	n = progress_format_line(line, sizeof(line), &s, 100);
	assert_true(n <= 100);
	assert_non_null(strstr(line, "~"));
	assert_non_null(strstr(line, "online 98/100"));
	n = progress_format_line(line, sizeof(line), &s, 20);
	assert_int_equal(n, 20);
	s.step = NULL;
	progress_format_line(line, sizeof(line), &s, 0);
	assert_non_null(strstr(line, "step 4/12 - |"));
	/* A tiny buffer is cut, terminated. */
	n = progress_format_line(line, 8, &s, 0);
	assert_int_equal(n, 7);
	assert_int_equal(strlen(line), 7);
}

static void test_progress_pacing(void **state)
{
	struct progress p;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	(void)state;
	progress_init(&p, m, true, false);
	assert_true(progress_due(&p, 0));
	progress_show(&p, "one", 0);
	assert_false(progress_due(&p, PROGRESS_LOG_MS - 1));
	assert_true(progress_due(&p, PROGRESS_LOG_MS));
	progress_clear(&p); /* nothing to clear in a log */
	progress_init(&p, m, true, true);
	progress_show(&p, "two", 0);
	assert_true(progress_due(&p, PROGRESS_TTY_MS));
	progress_clear(&p);
	progress_init(&p, m, false, true); /* --quiet */
	assert_false(progress_due(&p, 100000));
	progress_show(&p, "never", 0);
	fclose(m);
	assert_string_equal(buf, "progress: one\n\r\033[Ktwo\r\033[K");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bins),
		cmocka_unit_test(test_heat_and_latency),
		cmocka_unit_test(test_json_string_safe_in_script),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_markdown_cell),
		cmocka_unit_test(test_markdown_summary),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_progress_pacing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
