/* The ingest endpoint's request decisions and answers, apart from the HTTP server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest_request.h"

static void test_routes(void **state)
{
	struct ingest_route r;

	(void)state;
	ingest_route("POST", "/api/sensors/data", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_DATA);
	ingest_route("GET", "/api/sensors/data", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_BAD_METHOD);
	assert_string_equal(r.allow, "POST");
	ingest_route("GET", "/api/sensors/robot_007/command", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_COMMAND);
	assert_string_equal(r.device_id, "robot_007");
	ingest_route("POST", "/api/sensors/robot_007/command", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_BAD_METHOD);
	assert_string_equal(r.allow, "GET");
	/* Not routes: an empty id, an id with a slash or wildcard, other leaves and paths. */
	ingest_route("GET", "/api/sensors//command", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_NOT_FOUND);
	ingest_route("GET", "/api/sensors/a/b/command", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_NOT_FOUND);
	ingest_route("GET", "/api/sensors/a+/command", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_NOT_FOUND);
	ingest_route("GET", "/api/sensors/a/commands", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_NOT_FOUND);
	ingest_route("POST", "/api/sensors/data/", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_NOT_FOUND);
	ingest_route("GET", "/", &r);
	assert_int_equal(r.kind, INGEST_ROUTE_NOT_FOUND);
	ingest_route("GET", "/api/sensors/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/command",
		     &r);
	assert_int_equal(r.kind, INGEST_ROUTE_NOT_FOUND);  /* 65 bytes: longer than an id may be */
}

static void test_content_type(void **state)
{
	(void)state;
	assert_true(ingest_content_type_ok(NULL));
	assert_true(ingest_content_type_ok("application/json"));
	assert_true(ingest_content_type_ok("Application/JSON; charset=utf-8"));
	assert_true(ingest_content_type_ok(" application/vnd.robofleet+json"));
	assert_false(ingest_content_type_ok("application/x-www-form-urlencoded"));
	assert_false(ingest_content_type_ok("text/json"));
	assert_false(ingest_content_type_ok("application/jsonx"));
	assert_false(ingest_content_type_ok("application/+json"));
	assert_false(ingest_content_type_ok(""));
}

static void test_length(void **state)
{
	(void)state;
	assert_false(ingest_length_too_large(NULL, 100));
	assert_false(ingest_length_too_large("100", 100));
	assert_false(ingest_length_too_large(" 0 ", 100));
	assert_true(ingest_length_too_large("101", 100));
	assert_true(ingest_length_too_large("1048576", 65536));
	assert_true(ingest_length_too_large("99999999999999999999999", 65536));
	assert_true(ingest_length_too_large("-1", 100));
	assert_true(ingest_length_too_large("12abc", 100));
	assert_true(ingest_length_too_large("", 100));
}

static void check_bad(const char *body, const char *reason, const char *topic)
{
	struct ingest_body b;

	ingest_check_body(body, strlen(body), &b);
	assert_false(b.ok);
	assert_string_equal(b.reason, reason);
	assert_string_equal(b.topic, topic);
}

static void test_bodies(void **state)
{
	static const char tutorial[] =
		"{\"device_id\": \"esp32_001\", \"timestamp\": \"2025-12-07T10:30:45Z\", "
		"\"sensors\": {\"temperature\": 22.5, \"humidity\": 65.2, \"distance\": 150.3}}";
	static const char own[] =
		"{\"device_id\":\"robot_001\",\"boot\":3,\"seq\":17,\"timestamp\":\"2026-11-24T10:30:45.123Z\","
		"\"sensors\":{\"temperature\":null,\"humidity\":40,\"distance\":12.5},\"errors\":{\"dht\":1}}";
	struct ingest_body b;

	(void)state;
	ingest_check_body(tutorial, strlen(tutorial), &b);
	assert_true(b.ok);
	assert_string_equal(b.device_id, "esp32_001");
	assert_string_equal(b.topic, "sensors/esp32_001/data");
	ingest_check_body(own, strlen(own), &b);
	assert_true(b.ok);
	assert_string_equal(b.topic, "sensors/robot_001/data");
	/* With boot and seq a reading without values is still a reading (its errors say why). */
	ingest_check_body("{\"device_id\":\"r\",\"boot\":1,\"seq\":1}", 34, &b);
	assert_true(b.ok);

	check_bad("", "empty payload", "POST /api/sensors/data");
	check_bad("{\"device_id\":\"r\",", "expected a member name", "POST /api/sensors/data");
	check_bad("[1]", "not a JSON object", "POST /api/sensors/data");
	check_bad("{\"sensors\":{\"temperature\":1}}", "device_id missing", "POST /api/sensors/data");
	check_bad("{\"device_id\":\"a/b\",\"sensors\":{\"temperature\":1}}",
		  "device_id holds '/', '+' or '#'", "POST /api/sensors/data");
	/* A device is known: the raw row is its. */
	check_bad("{\"device_id\":\"r9\",\"sensors\":{}}", "JSON reading without a number",
		  "sensors/r9/data");
}

static void test_answers(void **state)
{
	char buf[128];
	char tiny[8];

	(void)state;
	ingest_answer_stored(buf, sizeof(buf), NULL, 0);
	assert_string_equal(buf, "{\"status\":\"stored\"}");
	ingest_answer_stored(buf, sizeof(buf), "stop", 7);
	assert_string_equal(buf, "{\"status\":\"stored\",\"command\":\"stop\",\"command_id\":7}");
	ingest_answer_command(buf, sizeof(buf), "start", 8);
	assert_string_equal(buf, "{\"command\":\"start\",\"command_id\":8}");
	ingest_answer_command(buf, sizeof(buf), NULL, 0);
	assert_string_equal(buf, "{\"command\":null}");
	ingest_answer_error(buf, sizeof(buf), 400, "bad \"x\"\n");
	assert_string_equal(buf, "{\"status\":\"error\",\"code\":400,\"error\":\"bad \\\"x\\\"\\u000a\"}");
	/* Cut to fit, always terminated. */
	assert_int_equal(ingest_answer_stored(tiny, sizeof(tiny), NULL, 0), sizeof(tiny) - 1);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
