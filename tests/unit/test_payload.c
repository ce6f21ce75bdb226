/* Unit tests of the wire encoding: the JSON contract, timestamps, decimals. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "payload.h"

/* 2026-11-24T10:30:45.123Z, the contract's example. */
#define EXAMPLE_MS 1795516245123LL

static struct reading example_reading(void)
{
	struct reading r = {
		.device_id = "robot_001",
		.boot = 3,
		.seq = 1234,
		.has_timestamp = true,
		.timestamp_ms = EXAMPLE_MS,
		.climate_err = 0,
		.temp_dc = 245,
		.humidity_dpct = 652,
		.distance_err = 0,
		.distance_mm = 450,
	};
	return r;
}

static void assert_no_nan(const char *json)
{
	assert_null(strstr(json, "nan"));
	assert_null(strstr(json, "NaN"));
	assert_null(strstr(json, "inf"));
	assert_null(strstr(json, "null"));
}

static void test_payload_json_all_sensors(void **state)
{
	static const char want[] =
		"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":1234,"
		"\"timestamp\":\"2026-11-24T10:30:45.123Z\","
		"\"sensors\":{\"temperature\":24.5,\"humidity\":65.2,\"distance\":45.0}}";
	struct reading r = example_reading();
	char buf[512];
	int n;

	(void)state;
	n = payload_encode_json(&r, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
}

static void test_payload_json_without_timestamp(void **state)
{
	struct reading r = example_reading();
	char buf[512];

	(void)state;
	r.has_timestamp = false;
	r.boot = UINT32_MAX;
	r.seq = 0;
	r.distance_mm = 1200;
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"{\"device_id\":\"robot_001\",\"boot\":4294967295,\"seq\":0,"
		"\"sensors\":{\"temperature\":24.5,\"humidity\":65.2,\"distance\":120.0}}");
}

static void test_payload_json_negative_temperature(void **state)
{
	struct reading r = example_reading();
	char buf[512];

	(void)state;
	r.has_timestamp = false;
	r.temp_dc = -3;
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"temperature\":-0.3,"));
	r.temp_dc = -400;
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"temperature\":-40.0,"));
}

static void test_payload_json_climate_error(void **state)
{
	struct reading r = example_reading();
	char buf[512];
	int n;

	(void)state;
	r.has_timestamp = false;
	r.climate_err = -ETIMEDOUT;
	r.temp_dc = INT16_MIN; /* garbage that must not leak out */
	n = payload_encode_json(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf,
		"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":1234,"
		"\"sensors\":{\"distance\":45.0},"
		"\"errors\":{\"temperature\":\"timeout\",\"humidity\":\"timeout\"}}");
	assert_no_nan(buf);
}

static void test_payload_json_distance_error(void **state)
{
	struct reading r = example_reading();
	char buf[512];

	(void)state;
	r.has_timestamp = false;
	r.distance_err = -ERANGE;
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":1234,"
		"\"sensors\":{\"temperature\":24.5,\"humidity\":65.2},"
		"\"errors\":{\"distance\":\"out_of_range\"}}");
}

static void test_payload_json_all_errors(void **state)
{
	struct reading r = example_reading();
	char buf[512];

	(void)state;
	r.has_timestamp = false;
	r.climate_err = -EBADMSG;
	r.distance_err = -ETIMEDOUT;
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":1234,\"sensors\":{},"
		"\"errors\":{\"temperature\":\"checksum\",\"humidity\":\"checksum\","
		"\"distance\":\"timeout\"}}");
	assert_no_nan(buf);
}

static void test_payload_json_every_error_name(void **state)
{
	/* Every error a sensor can report is encodable, on either sensor. */
	static const int errs[] = { -ETIMEDOUT, -EBADMSG, -ERANGE, -EIO, -ENODEV, -EINVAL, 1 };
	struct reading r = example_reading();
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		char want[64];

		r.climate_err = errs[i];
		r.distance_err = errs[i];
		assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
		snprintf(want, sizeof(want), "\"humidity\":\"%s\"", payload_error_name(errs[i]));
		assert_non_null(strstr(buf, want));
		snprintf(want, sizeof(want), "\"distance\":\"%s\"}}", payload_error_name(errs[i]));
		assert_non_null(strstr(buf, want));
		assert_no_nan(buf);
	}
}

static void test_payload_error_names(void **state)
{
	(void)state;
	assert_string_equal(payload_error_name(-ETIMEDOUT), "timeout");
	assert_string_equal(payload_error_name(-EBADMSG), "checksum");
	assert_string_equal(payload_error_name(-ERANGE), "out_of_range");
	assert_string_equal(payload_error_name(-EIO), "io");
	assert_string_equal(payload_error_name(-ENODEV), "absent");
	assert_string_equal(payload_error_name(-EPERM), "error");
	assert_string_equal(payload_error_name(INT_MIN), "error");
}

static void test_payload_json_never_nan(void **state)
{
	struct reading r = example_reading();
	char buf[512];

	(void)state;
	/* Extremes of every numeric field stay plain numbers. */
	r.temp_dc = INT16_MIN;
	r.humidity_dpct = UINT16_MAX;
	r.distance_mm = UINT32_MAX;
	r.timestamp_ms = INT64_MAX; /* out of range: the timestamp is omitted */
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_no_nan(buf);
	assert_null(strstr(buf, "timestamp"));
	assert_non_null(strstr(buf, "\"temperature\":-3276.8,\"humidity\":6553.5,"));
	/* Distance is clamped rather than wrapped. */
	assert_non_null(strstr(buf, "\"distance\":10000000.0}"));
}

static void test_payload_json_escapes_device_id(void **state)
{
	struct reading r = example_reading();
	char buf[512];

	(void)state;
	r.has_timestamp = false;
	r.device_id = "a\"b\\c\n\x01\x1f/\x7f";
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf,
		"{\"device_id\":\"a\\\"b\\\\c\\u000a\\u0001\\u001f/\x7f\",\"boot\":3,"));
	for (const char *p = buf; *p; p++)
		assert_true((unsigned char)*p >= 0x20);
}

static void test_payload_json_small_buffer(void **state)
{
	struct reading r = example_reading();
	char full[512], buf[512];
	int n;

	(void)state;
	n = payload_encode_json(&r, full, sizeof(full));
	assert_true(n > 0);

	/* Exactly enough: the text plus its NUL. */
	assert_int_equal(payload_encode_json(&r, buf, (size_t)n + 1), n);
	assert_string_equal(buf, full);

	/* Every shorter buffer fails and is left an empty string. */
	for (size_t cap = 1; cap <= (size_t)n; cap++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(payload_encode_json(&r, buf, cap), -ENOBUFS);
		assert_int_equal(buf[0], '\0');
		/* Nothing written past the capacity. */
		assert_int_equal(buf[cap], 'X');
	}
	assert_int_equal(payload_encode_json(&r, buf, 0), -ENOBUFS);
}

static void test_payload_json_dropped(void **state)
{
	struct reading r = example_reading();
	char buf[512];
	int n;

	(void)state;
	/* Nothing dropped: no member at all. */
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "dropped"));

	/* The lifetime count comes last, after "sensors". */
	r.dropped = 7;
	n = payload_encode_json(&r, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf,
		"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":1234,"
		"\"timestamp\":\"2026-11-24T10:30:45.123Z\","
		"\"sensors\":{\"temperature\":24.5,\"humidity\":65.2,\"distance\":45.0},"
		"\"dropped\":7}");

	/* ... and after "errors". */
	r.climate_err = -EBADMSG;
	r.distance_err = -ETIMEDOUT;
	r.dropped = UINT32_MAX;
	assert_true(payload_encode_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"distance\":\"timeout\"},\"dropped\":4294967295}"));
}

/* The longest message the firmware can build still fits its 320-byte buffer. */
static void test_payload_json_longest_fits(void **state)
{
	struct reading r = example_reading();
	char buf[512];
	int n;

	(void)state;
	r.device_id = "abcdefghijabcdefghijabcdefghij_-"; /* 32, the longest id */
	r.boot = UINT32_MAX;
	r.seq = UINT32_MAX;
	r.climate_err = -EINVAL;       /* "error" */
	r.distance_err = -ERANGE;      /* "out_of_range", the longest name */
	r.dropped = UINT32_MAX;
	n = payload_encode_json(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true(n < 320);
	r.climate_err = 0;
	r.temp_dc = -400;
	r.humidity_dpct = 1000;
	r.distance_err = 0;
	r.distance_mm = 4000000;
	n = payload_encode_json(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true(n < 320);
}

static void test_payload_iso8601_epoch(void **state)
{
	char ts[PAYLOAD_ISO8601_LEN];

	(void)state;
	assert_int_equal(payload_format_iso8601(0, ts), 0);
	assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
	assert_int_equal(strlen(ts), PAYLOAD_ISO8601_LEN - 1);
}

static void test_payload_iso8601_dates(void **state)
{
	char ts[PAYLOAD_ISO8601_LEN];

	(void)state;
	assert_int_equal(payload_format_iso8601(EXAMPLE_MS, ts), 0);
	assert_string_equal(ts, "2026-11-24T10:30:45.123Z");
	/* A leap day, and the day after it. */
	assert_int_equal(payload_format_iso8601(1709208000000LL, ts), 0);
	assert_string_equal(ts, "2024-02-29T12:00:00.000Z");
	assert_int_equal(payload_format_iso8601(1709208000000LL + 43200000, ts), 0);
	assert_string_equal(ts, "2024-03-01T00:00:00.000Z");
	/* 2000 is a leap year (divisible by 400). */
	assert_int_equal(payload_format_iso8601(951868800000LL - 1, ts), 0);
	assert_string_equal(ts, "2000-02-29T23:59:59.999Z");
}

static void test_payload_iso8601_milliseconds(void **state)
{
	char ts[PAYLOAD_ISO8601_LEN];

	(void)state;
	assert_int_equal(payload_format_iso8601(1, ts), 0);
	assert_string_equal(ts, "1970-01-01T00:00:00.001Z");
	assert_int_equal(payload_format_iso8601(999, ts), 0);
	assert_string_equal(ts, "1970-01-01T00:00:00.999Z");
	assert_int_equal(payload_format_iso8601(86399999, ts), 0);
	assert_string_equal(ts, "1970-01-01T23:59:59.999Z");
	assert_int_equal(payload_format_iso8601(86400000, ts), 0);
	assert_string_equal(ts, "1970-01-02T00:00:00.000Z");
}

static void test_payload_iso8601_before_1970(void **state)
{
	char ts[PAYLOAD_ISO8601_LEN];

	(void)state;
	assert_int_equal(payload_format_iso8601(-1, ts), 0);
	assert_string_equal(ts, "1969-12-31T23:59:59.999Z");
	assert_int_equal(payload_format_iso8601(-86400000, ts), 0);
	assert_string_equal(ts, "1969-12-31T00:00:00.000Z");
	assert_int_equal(payload_format_iso8601(-2208988800000LL, ts), 0);
	assert_string_equal(ts, "1900-01-01T00:00:00.000Z");
}

static void test_payload_iso8601_range(void **state)
{
	char ts[PAYLOAD_ISO8601_LEN];

	(void)state;
	assert_int_equal(payload_format_iso8601(-62167219200000LL, ts), 0);
	assert_string_equal(ts, "0000-01-01T00:00:00.000Z");
	assert_int_equal(payload_format_iso8601(253402300799999LL, ts), 0);
	assert_string_equal(ts, "9999-12-31T23:59:59.999Z");
	assert_int_equal(payload_format_iso8601(-62167219200000LL - 1, ts), -ERANGE);
	assert_int_equal(payload_format_iso8601(253402300799999LL + 1, ts), -ERANGE);
	assert_int_equal(payload_format_iso8601(INT64_MIN, ts), -ERANGE);
	assert_int_equal(payload_format_iso8601(INT64_MAX, ts), -ERANGE);
}

static void test_payload_decimal(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(payload_encode_decimal(245, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "24.5");
	assert_int_equal(payload_encode_decimal(0, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "0.0");
	assert_int_equal(payload_encode_decimal(-3, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "-0.3");
	assert_int_equal(payload_encode_decimal(-125, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "-12.5");
	assert_int_equal(payload_encode_decimal(-10, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "-1.0");
	assert_true(payload_encode_decimal(INT32_MIN, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "-214748364.8");
	assert_true(payload_encode_decimal(INT32_MAX, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "214748364.7");
}

static void test_payload_decimal_small_buffer(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(payload_encode_decimal(-125, buf, 6), 5);
	assert_int_equal(payload_encode_decimal(-125, buf, 5), -ENOBUFS);
	assert_int_equal(payload_encode_decimal(-125, buf, 0), -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_json_all_sensors),
		cmocka_unit_test(test_payload_json_without_timestamp),
		cmocka_unit_test(test_payload_json_negative_temperature),
		cmocka_unit_test(test_payload_json_climate_error),
		cmocka_unit_test(test_payload_json_distance_error),
		cmocka_unit_test(test_payload_json_all_errors),
		cmocka_unit_test(test_payload_json_every_error_name),
		cmocka_unit_test(test_payload_error_names),
		cmocka_unit_test(test_payload_json_never_nan),
		cmocka_unit_test(test_payload_json_escapes_device_id),
		cmocka_unit_test(test_payload_json_small_buffer),
		cmocka_unit_test(test_payload_json_dropped),
		cmocka_unit_test(test_payload_json_longest_fits),
		cmocka_unit_test(test_payload_iso8601_epoch),
		cmocka_unit_test(test_payload_iso8601_dates),
		cmocka_unit_test(test_payload_iso8601_milliseconds),
		cmocka_unit_test(test_payload_iso8601_before_1970),
		cmocka_unit_test(test_payload_iso8601_range),
		cmocka_unit_test(test_payload_decimal),
		cmocka_unit_test(test_payload_decimal_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
