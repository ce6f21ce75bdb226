/* The device's HTTP response parser (hw-shim/http_response.c) and the ingest answer parser (firmware/net/http_answer.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_answer.h"
#include "http_response.h"

static int feed_all(struct http_response *r, const char *s)
{
	size_t used = 0;

	return http_response_feed(r, s, strlen(s), &used);
}

static void test_response_content_length(void **state)
{
	struct http_response r;
	const char *msg = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
			  "Content-Length: 19\r\n\r\n{\"status\":\"stored\"}";

	(void)state;
	http_response_init(&r, "POST");
	/* One byte at a time: the same answer. */
	for (size_t i = 0; i < strlen(msg); i++) {
		size_t used = 0;
		int rc = http_response_feed(&r, msg + i, 1, &used);

		assert_int_equal(rc, i + 1 == strlen(msg) ? 1 : 0);
	}
	assert_int_equal(r.status, 201);
	assert_true(r.keep_alive);
	assert_int_equal(r.body_len, 19);
	assert_memory_equal(r.body, "{\"status\":\"stored\"}", 19);
}

static void test_response_chunked_and_close(void **state)
{
	struct http_response r;

	(void)state;
	http_response_init(&r, "GET");
	assert_int_equal(feed_all(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
				      "Connection: close\r\n\r\n4;x=y\r\n{\"co\r\n"
				      "B\r\nmmand\":null\r\n0\r\nX-T: 1\r\n\r\n"), 1);
	assert_false(r.keep_alive);
	assert_int_equal(r.body_len, 15);
	assert_memory_equal(r.body, "{\"command\":null", 15);
}

static void test_response_body_to_close_and_truncation(void **state)
{
	struct http_response r;
	char big[2000];

	(void)state;
	http_response_init(&r, "GET");
	assert_int_equal(feed_all(&r, "HTTP/1.0 503 Busy\r\n\r\n"), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(feed_all(&r, big), 0);
	assert_int_equal(http_response_eof(&r), 1);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.body_len, HAL_HTTP_BODY_MAX);
	assert_int_equal(r.body_read, sizeof(big) - 1);
}

static void test_response_interim_and_no_body(void **state)
{
	struct http_response r;

	(void)state;
	http_response_init(&r, "POST");
	assert_int_equal(feed_all(&r, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), 1);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
}

static void test_response_garbage_and_cut_short(void **state)
{
	static const char *const bad[] = {
		"SSH-2.0-OpenSSH\r\n",
		"HTTP/1.1 2x0 OK\r\n",
		"HTTP/1.1 700 Odd\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
	};
	struct http_response r;
	char longline[3000];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_response_init(&r, "GET");
		assert_int_equal(feed_all(&r, bad[i]), -EBADMSG);
		assert_non_null(r.error);
	}
	http_response_init(&r, "GET");
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(feed_all(&r, longline), -EBADMSG);
	/* A body promised and not delivered is a broken connection. */
	http_response_init(&r, "GET");
	assert_int_equal(feed_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), 0);
	assert_int_equal(http_response_eof(&r), -ECONNRESET);
}

static void test_answer_forms(void **state)
{
	struct http_answer a;
	const char *s;

	(void)state;
	s = "{\"status\":\"stored\",\"command\":\"stop\",\"command_id\":7}";
	assert_int_equal(http_answer_parse(s, strlen(s), &a), 0);
	assert_true(a.has_command && a.has_command_id);
	assert_int_equal(a.command, ROBOT_CMD_STOP);
	assert_int_equal(a.command_id, 7);
	s = "{\"command\":null}";
	assert_int_equal(http_answer_parse(s, strlen(s), &a), 0);
	assert_false(a.has_command);
	s = " {\"status\":\"stored\",\"extra\":{\"a\":[1,2,{}]}} ";
	assert_int_equal(http_answer_parse(s, strlen(s), &a), 0);
	assert_false(a.has_command);
	s = "{\"command\":\"start\",\"command_id\":4294967295}";
	assert_int_equal(http_answer_parse(s, strlen(s), &a), 0);
	assert_int_equal(a.command, ROBOT_CMD_START);
	assert_int_equal(a.command_id, 4294967295u);
	s = "{\"command\":\"dance\",\"command_id\":3}";
	assert_int_equal(http_answer_parse(s, strlen(s), &a), 0);
	assert_int_equal(a.command, ROBOT_CMD_INVALID);
	assert_int_equal(http_answer_parse("", 0, &a), 0);
}

static void test_answer_refusals(void **state)
{
	static const char *const bad[] = {
		"stored", "{", "{\"command\":1}", "{\"command\":\"stop\",\"command\":\"start\"}",
		"{\"command_id\":-1}", "{\"command_id\":1.5}", "{\"command_id\":4294967296}",
		"{\"command_id\":07}", "{\"command_id\":1,\"command_id\":2}", "{} x",
		"[[[[[[[[[[[[1]]]]]]]]]]]]",
	};
	struct http_answer a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_answer_parse(bad[i], strlen(bad[i]), &a), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_content_length),
		cmocka_unit_test(test_response_chunked_and_close),
		cmocka_unit_test(test_response_body_to_close_and_truncation),
		cmocka_unit_test(test_response_interim_and_no_body),
		cmocka_unit_test(test_response_garbage_and_cut_short),
		cmocka_unit_test(test_answer_forms),
		cmocka_unit_test(test_answer_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
