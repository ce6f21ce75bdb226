/* Unit tests of the recorder's payload reader: the contract, its edges, and hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "payload.h"
#include "recorder_json.h"

/* 2026-11-24T10:30:45.123Z, the contract's example. */
#define EXAMPLE_MS 1795516245123LL

static int parse(const char *json, struct recorder_reading *r, const char **why)
{
	return recorder_parse_reading(json, strlen(json), r, why);
}

static void assert_rejected(const char *json)
{
	struct recorder_reading r;
	const char *why = NULL;

	if (parse(json, &r, &why) != -EBADMSG || !why) {
		fprintf(stderr, "accepted: %s\n", json);
		fail();
	}
}

static void test_recorder_json_full_payload(void **state)
{
	static const char json[] =
		"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":1234,"
		"\"timestamp\":\"2026-11-24T10:30:45.123Z\","
		"\"sensors\":{\"temperature\":24.5,\"humidity\":65.2,\"distance\":45.0}}";
	struct recorder_reading r;
	const char *why = "unset";

	(void)state;
	assert_int_equal(parse(json, &r, &why), 0);
	assert_null(why);
	assert_string_equal(r.device_id, "robot_001");
	assert_int_equal(r.boot, 3);
	assert_int_equal(r.seq, 1234);
	assert_true(r.has_timestamp);
	assert_int_equal(r.timestamp_ms, EXAMPLE_MS);
	assert_true(r.has_temperature && r.has_humidity && r.has_distance);
	/* Exact: the fast path rounds once, like the compiler does for literals. */
	assert_true(r.temperature == 24.5);
	assert_true(r.humidity == 65.2);
	assert_true(r.distance == 45.0);
	assert_null(r.errors);
}

static void test_recorder_json_omitted_sensors(void **state)
{
	struct recorder_reading r;

	(void)state;
	assert_int_equal(parse("{\"device_id\":\"a\",\"boot\":0,\"seq\":0,"
			       "\"sensors\":{\"distance\":-0.5}}", &r, NULL), 0);
	assert_false(r.has_temperature);
	assert_false(r.has_humidity);
	assert_true(r.has_distance);
	assert_true(r.distance == -0.5);
	assert_false(r.has_timestamp);

	/* No sensors member at all, or an empty one, or null values. */
	assert_int_equal(parse("{\"device_id\":\"a\",\"boot\":1,\"seq\":2}", &r, NULL), 0);
	assert_false(r.has_temperature || r.has_humidity || r.has_distance);
	assert_int_equal(parse("{\"seq\":2,\"boot\":1,\"device_id\":\"a\",\"sensors\":{}}", &r, NULL), 0);
	assert_false(r.has_temperature || r.has_humidity || r.has_distance);
	assert_int_equal(parse("{\"device_id\":\"a\",\"boot\":1,\"seq\":2,\"sensors\":"
			       "{\"temperature\":null,\"humidity\":40}}", &r, NULL), 0);
	assert_false(r.has_temperature);
	assert_true(r.has_humidity && r.humidity == 40.0);
	assert_int_equal(parse("{\"device_id\":\"a\",\"boot\":1,\"seq\":2,\"sensors\":null,"
			       "\"timestamp\":null,\"errors\":null}", &r, NULL), 0);
	assert_false(r.has_timestamp);
	assert_null(r.errors);
}

static void test_recorder_json_errors_object(void **state)
{
	static const char json[] =
		"{\"device_id\":\"robot_002\",\"boot\":1,\"seq\":9,"
		"\"sensors\":{\"distance\":12.0},"
		"\"errors\": {\"temperature\":\"timeout\",\"humidity\":\"timeout\"} }";
	struct recorder_reading r;

	(void)state;
	assert_int_equal(parse(json, &r, NULL), 0);
	assert_non_null(r.errors);
	assert_int_equal(r.errors_len, strlen("{\"temperature\":\"timeout\",\"humidity\":\"timeout\"}"));
	assert_memory_equal(r.errors, "{\"temperature\":\"timeout\",\"humidity\":\"timeout\"}",
			    r.errors_len);
	assert_ptr_equal(r.errors, strstr(json, "{\"temperature\""));
	assert_false(r.has_temperature);
	assert_true(r.has_distance);

	assert_rejected("{\"device_id\":\"a\",\"boot\":1,\"seq\":2,\"errors\":[\"timeout\"]}");
	assert_rejected("{\"device_id\":\"a\",\"boot\":1,\"seq\":2,\"errors\":\"timeout\"}");
}

/* What the firmware encodes, the recorder reads back: the contract both ways. */
static void test_recorder_json_firmware_round_trip(void **state)
{
	struct reading rd = {
		.device_id = "robot_\"7\"\\",
		.boot = 4294967295u,
		.seq = 17,
		.has_timestamp = true,
		.timestamp_ms = EXAMPLE_MS,
		.climate_err = -ETIMEDOUT,
		.distance_err = 0,
		.distance_mm = 4005,
	};
	struct recorder_reading r;
	char json[512];
	int n;

	(void)state;
	n = payload_encode_json(&rd, json, sizeof(json));
	assert_true(n > 0);
	assert_int_equal(recorder_parse_reading(json, (size_t)n, &r, NULL), 0);
	assert_string_equal(r.device_id, rd.device_id);
	assert_int_equal(r.boot, 4294967295LL);
	assert_int_equal(r.seq, 17);
	assert_int_equal(r.timestamp_ms, EXAMPLE_MS);
	assert_false(r.has_temperature || r.has_humidity);
	assert_true(r.distance == 400.5);
	assert_non_null(r.errors);
	assert_memory_equal(r.errors, "{\"temperature\":\"timeout\"", 24);

	rd.climate_err = 0;
	rd.temp_dc = -400;
	rd.humidity_dpct = 1000;
	rd.has_timestamp = false;
	n = payload_encode_json(&rd, json, sizeof(json));
	assert_int_equal(recorder_parse_reading(json, (size_t)n, &r, NULL), 0);
	assert_true(r.temperature == -40.0);
	assert_true(r.humidity == 100.0);
	assert_false(r.has_timestamp);
	assert_null(r.errors);
}

static void test_recorder_json_escapes(void **state)
{
	struct recorder_reading r;

	(void)state;
	/* Escaped id and keys decode to the same reading. */
	assert_int_equal(parse("{\"device_\\u0069d\":\"robot_\\u0030\\u00301\",\"boot\":1,"
			       "\"s\\u0065q\":5}", &r, NULL), 0);
	assert_string_equal(r.device_id, "robot_001");
	assert_int_equal(r.seq, 5);
	/* Every escape, a surrogate pair and raw UTF-8 in an unknown member. */
	assert_int_equal(parse("{\"note\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t \\ud83d\\ude00 \xc3\xa9 \xe2\x82\xac\","
			       "\"device_id\":\"\xc3\xa9t\xc3\xa9\",\"boot\":1,\"seq\":1}", &r, NULL), 0);
	assert_string_equal(r.device_id, "\xc3\xa9t\xc3\xa9");
	assert_int_equal(parse("{\"device_id\":\"\\ud83e\\udd16\",\"boot\":1,\"seq\":1}", &r, NULL), 0);
	assert_string_equal(r.device_id, "\xf0\x9f\xa4\x96");

	assert_rejected("{\"device_id\":\"a\\u0000b\",\"boot\":1,\"seq\":1}");
	assert_rejected("{\"device_id\":\"\\ud83d\",\"boot\":1,\"seq\":1}");
	assert_rejected("{\"device_id\":\"\\ude00x\",\"boot\":1,\"seq\":1}");
	assert_rejected("{\"device_id\":\"\\ud83d\\u0041\",\"boot\":1,\"seq\":1}");
	assert_rejected("{\"device_id\":\"\\u12G4\",\"boot\":1,\"seq\":1}");
	assert_rejected("{\"device_id\":\"\\x41\",\"boot\":1,\"seq\":1}");
	assert_rejected("{\"device_id\":\"tab\there\",\"boot\":1,\"seq\":1}");
	assert_rejected("{\"device_id\":\"\xc0\xaf\",\"boot\":1,\"seq\":1}");       /* overlong */
	assert_rejected("{\"device_id\":\"\xed\xa0\x80\",\"boot\":1,\"seq\":1}");   /* surrogate */
	assert_rejected("{\"device_id\":\"\xf4\x90\x80\x80\",\"boot\":1,\"seq\":1}"); /* > U+10FFFF */
	assert_rejected("{\"device_id\":\"\xe2\x82\",\"boot\":1,\"seq\":1}");       /* cut short */
	assert_rejected("{\"device_id\":\"\xff\",\"boot\":1,\"seq\":1}");
}

static void test_recorder_json_garbage(void **state)
{
	static const char *const bad[] = {
		"", "   ", "null", "[]", "42", "\"robot\"", "{", "}", "{}",
		"{\"device_id\":\"a\"", "{\"device_id\":\"a\",\"boot\":1,\"seq\":1",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1} x",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,}",
		"{\"device_id\":\"a\",\"boot\":1,,\"seq\":1}",
		"{\"device_id\":\"a\" \"boot\":1,\"seq\":1}",
		"{\"device_id\" \"a\",\"boot\":1,\"seq\":1}",
		"{device_id:\"a\",\"boot\":1,\"seq\":1}",
		"{'device_id':'a','boot':1,'seq':1}",
		/* required members */
		"{\"boot\":1,\"seq\":1}", "{\"device_id\":\"a\",\"seq\":1}", "{\"device_id\":\"a\",\"boot\":1}",
		/* identity types and ranges */
		"{\"device_id\":7,\"boot\":1,\"seq\":1}", "{\"device_id\":\"\",\"boot\":1,\"seq\":1}",
		"{\"device_id\":\"a\",\"boot\":-1,\"seq\":1}", "{\"device_id\":\"a\",\"boot\":1,\"seq\":1.5}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1e3}", "{\"device_id\":\"a\",\"boot\":1,\"seq\":\"1\"}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":9223372036854775808}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":01}", "{\"device_id\":\"a\",\"boot\":1,\"seq\":-}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":null}", "{\"device_id\":\"a\",\"boot\":true,\"seq\":1}",
		/* duplicates are ambiguous: which one did the device mean? */
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"seq\":2}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"humidity\":1,\"humidity\":2}}",
		/* values */
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":\"24.5\"}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":true}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":NaN}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":Infinity}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":-Infinity}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":1e999}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":.5}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":5.}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":+5}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":1e}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":0x10}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":[24.5]}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":24.5}",
		/* timestamps */
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":1795516245123}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":\"yesterday\"}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":\"2026-13-01T00:00:00Z\"}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":\"2026-02-29T00:00:00Z\"}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":\"2026-11-24T24:00:00Z\"}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":\"2026-11-24T10:30:45\"}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":\"2026-11-24T10:30:45.Z\"}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"timestamp\":\"2026-11-24T10:30:45Zjunk\"}",
		/* literals and unknown members must still be JSON */
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"x\":tru}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"x\":nul}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"x\":[1,]}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"x\":{\"k\"}}",
		"{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"x\":\"unterminated}",
	};
	struct recorder_reading r;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rejected(bad[i]);
	/* A NUL byte inside the payload is not the end of it. */
	{
		static const char nul[] = "{\"device_id\":\"a\",\"boot\":1,\"seq\":1}\0x";
		assert_int_equal(recorder_parse_reading(nul, sizeof(nul) - 1, &r, &why), -EBADMSG);
		assert_int_equal(recorder_parse_reading(nul, sizeof(nul) - 3, &r, &why), 0);
	}
	assert_int_equal(recorder_parse_reading(NULL, 0, &r, &why), -EBADMSG);
	assert_string_equal(why, "empty payload");
	/* Every prefix of a good payload is refused, none read past its end. */
	{
		static const char good[] =
			"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":1234,"
			"\"timestamp\":\"2026-11-24T10:30:45.123Z\","
			"\"sensors\":{\"temperature\":24.5,\"humidity\":65.2,\"distance\":45.0},"
			"\"errors\":{\"x\":[1,{\"y\":null}]}}";
		for (size_t n = 0; n < sizeof(good) - 1; n++) {
			char *copy = malloc(n ? n : 1);
			assert_non_null(copy);
			memcpy(copy, good, n);
			assert_int_equal(recorder_parse_reading(copy, n, &r, &why), -EBADMSG);
			free(copy);
		}
		assert_int_equal(recorder_parse_reading(good, sizeof(good) - 1, &r, &why), 0);
	}
}

static void test_recorder_json_huge(void **state)
{
	size_t big = 4u << 20;
	char *json = malloc(big + 256);
	struct recorder_reading r;
	const char *why;
	size_t n;

	(void)state;
	assert_non_null(json);
	/* A 4 MiB string in an unknown member: read through, ignored. */
	n = (size_t)sprintf(json, "{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"blob\":\"");
	memset(json + n, 'x', big);
	n += big;
	n += (size_t)sprintf(json + n, "\"}");
	assert_int_equal(recorder_parse_reading(json, n, &r, &why), 0);

	/* A 4 MiB number in an unknown member: only its grammar is checked. */
	n = (size_t)sprintf(json, "{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"n\":1");
	memset(json + n, '7', big);
	n += big;
	n += (size_t)sprintf(json + n, "}");
	assert_int_equal(recorder_parse_reading(json, n, &r, &why), 0);

	/* The same as a sensor value cannot be a double. */
	n = (size_t)sprintf(json, "{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"sensors\":{\"distance\":1");
	memset(json + n, '7', 600);
	n += 600;
	n += (size_t)sprintf(json + n, "}}");
	assert_int_equal(recorder_parse_reading(json, n, &r, &why), -EBADMSG);

	/* An over-long id is refused, not cut. */
	n = (size_t)sprintf(json, "{\"device_id\":\"");
	memset(json + n, 'i', RECORDER_ID_MAX + 1);
	n += RECORDER_ID_MAX + 1;
	n += (size_t)sprintf(json + n, "\",\"boot\":1,\"seq\":1}");
	assert_int_equal(recorder_parse_reading(json, n, &r, &why), -EBADMSG);
	/* ... and the longest allowed one is kept whole. */
	n = (size_t)sprintf(json, "{\"device_id\":\"");
	memset(json + n, 'i', RECORDER_ID_MAX);
	n += RECORDER_ID_MAX;
	n += (size_t)sprintf(json + n, "\",\"boot\":1,\"seq\":1}");
	assert_int_equal(recorder_parse_reading(json, n, &r, &why), 0);
	assert_int_equal(strlen(r.device_id), RECORDER_ID_MAX);

	/* 4 MiB of '[': refused at the depth limit, not by running out of stack. */
	n = (size_t)sprintf(json, "{\"device_id\":\"a\",\"boot\":1,\"seq\":1,\"deep\":");
	memset(json + n, '[', big);
	n += big;
	assert_int_equal(recorder_parse_reading(json, n, &r, &why), -EBADMSG);
	assert_string_equal(why, "nested too deep");
	free(json);
}

static void test_recorder_json_nested(void **state)
{
	char json[512];
	struct recorder_reading r;
	const char *why;
	int n, depth;

	(void)state;
	/* Unknown members may nest up to the limit, in objects and arrays. */
	for (depth = 1; depth <= RECORDER_JSON_DEPTH_MAX + 2; depth++) {
		n = sprintf(json, "{\"device_id\":\"a\",\"boot\":1,\"x\":");
		for (int i = 0; i < depth; i++)
			n += sprintf(json + n, i % 2 ? "[" : "{\"k\":");
		n += sprintf(json + n, "true");
		for (int i = depth - 1; i >= 0; i--)
			n += sprintf(json + n, i % 2 ? "]" : "}");
		n += sprintf(json + n, ",\"seq\":3}");
		/* The outer object is one level. */
		if (depth + 1 <= RECORDER_JSON_DEPTH_MAX) {
			assert_int_equal(recorder_parse_reading(json, (size_t)n, &r, &why), 0);
			assert_int_equal(r.seq, 3);
		} else {
			assert_int_equal(recorder_parse_reading(json, (size_t)n, &r, &why), -EBADMSG);
			assert_string_equal(why, "nested too deep");
		}
	}
	/* Known members nested where they do not belong are just unknown data. */
	assert_int_equal(parse("{\"device_id\":\"a\",\"boot\":1,\"seq\":2,"
			       "\"extra\":{\"seq\":99,\"sensors\":{\"temperature\":\"hot\"}},"
			       "\"sensors\":{\"temperature\":21,\"pressure\":{\"hpa\":[1013]}}}", &r, NULL), 0);
	assert_int_equal(r.seq, 2);
	assert_true(r.temperature == 21.0);
}

static void test_recorder_json_numbers(void **state)
{
	static const struct { const char *text; double want; } cases[] = {
		{ "24.5", 24.5 }, { "-0.3", -0.3 }, { "0.1", 0.1 }, { "65.2", 65.2 },
		{ "1e2", 100.0 }, { "1E+2", 100.0 }, { "25e-1", 2.5 }, { "0", 0.0 },
		{ "-0", -0.0 }, { "400.0", 400.0 }, { "0.000001", 0.000001 },
		{ "9007199254740993", 9007199254740993.0 },
		{ "123456789012345678901234567890", 123456789012345678901234567890.0 },
		{ "1.7976931348623157e308", 1.7976931348623157e308 },
		{ "4.9e-324", 4.9e-324 }, { "1e-400", 0.0 },
		{ " 24.5\n", 24.5 }, { "\t-12.75 ", -12.75 },
	};
	static const char *const bad[] = {
		"", " ", "abc", "24.5x", "24,5", "1e999", "-1e999", "nan", "inf", "0x1A",
		"--1", "1..2", "\"24.5\"", "24.5 25", "null",
	};
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(recorder_parse_number(cases[i].text, strlen(cases[i].text), &v), 0);
		assert_memory_equal(&v, &cases[i].want, sizeof(v));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(recorder_parse_number(bad[i], strlen(bad[i]), &v), -EBADMSG);
	assert_int_equal(recorder_parse_number(NULL, 0, &v), -EBADMSG);
}

static void test_recorder_json_iso8601(void **state)
{
	static const struct { const char *text; int64_t want; } cases[] = {
		{ "2026-11-24T10:30:45.123Z", EXAMPLE_MS },
		{ "2026-11-24t10:30:45.123z", EXAMPLE_MS },
		{ "2026-11-24 10:30:45.123Z", EXAMPLE_MS },
		{ "2026-11-24T10:30:45.1239999Z", EXAMPLE_MS },
		{ "2026-11-24T12:30:45.123+02:00", EXAMPLE_MS },
		{ "2026-11-24T05:00:45.123-05:30", EXAMPLE_MS },
		{ "2026-11-24T10:30:45Z", EXAMPLE_MS - 123 },
		{ "2026-11-24T10:30:45.1Z", EXAMPLE_MS - 23 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1969-12-31T23:59:59.999Z", -1 },
		{ "2028-02-29T00:00:00Z", 1835395200000LL },
		{ "2000-02-29T00:00:00Z", 951782400000LL },
	};
	static const char *const bad[] = {
		"", "2026-11-24", "2026-11-24T10:30:45", "2026-11-24T10:30Z", "2026-00-10T00:00:00Z",
		"2026-04-31T00:00:00Z", "1900-02-29T00:00:00Z", "2026-11-24T10:60:00Z",
		"2026-11-24T10:30:61Z", "2026-11-24T10:30:45+2:00", "2026-11-24T10:30:45+02",
		"2026-11-24T10:30:45+24:00", "2026-11-24X10:30:45Z", "+2026-11-24T10:30:45Z",
		"2026-11-24T10:30:45.Z", "2026-11-24T10:30:45ZZ",
	};
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(recorder_parse_iso8601(cases[i].text, strlen(cases[i].text), &ms), 0);
		assert_int_equal(ms, cases[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(recorder_parse_iso8601(bad[i], strlen(bad[i]), &ms), -EBADMSG);
	/* Agrees with the firmware's encoder across the years it can write. */
	for (int64_t t = -62167219200000LL; t < 253402300799999LL; t += 987654321987LL) {
		char ts[PAYLOAD_ISO8601_LEN];
		assert_int_equal(payload_format_iso8601(t, ts), 0);
		assert_int_equal(recorder_parse_iso8601(ts, strlen(ts), &ms), 0);
		assert_int_equal(ms, t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorder_json_full_payload),
		cmocka_unit_test(test_recorder_json_omitted_sensors),
		cmocka_unit_test(test_recorder_json_errors_object),
		cmocka_unit_test(test_recorder_json_firmware_round_trip),
		cmocka_unit_test(test_recorder_json_escapes),
		cmocka_unit_test(test_recorder_json_garbage),
		cmocka_unit_test(test_recorder_json_huge),
		cmocka_unit_test(test_recorder_json_nested),
		cmocka_unit_test(test_recorder_json_numbers),
		cmocka_unit_test(test_recorder_json_iso8601),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
