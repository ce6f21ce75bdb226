/* The ESP-AT driver's HTTP client (hal_http) against recorded module
 * transcripts: GET and POST through the '>' prompt with a command in the
 * answer, error statuses from AT+SYSLOG's error codes, a bare ERROR,
 * timeouts and the late answer after one, garbage, lines split anywhere,
 * the WiFi dropping and the module rebooting mid-request. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp_at_fake.h"

#define URL "http://10.0.0.2:8080"
#define COMMAND_PATH "/api/sensors/robot_001/command"
#define READING "{\"device_id\":\"robot_001\",\"boot\":1,\"seq\":4,\"sensors\":{}}"
#define STOP "{\"status\":\"stored\",\"command\":\"stop\",\"command_id\":7}"

static const struct hal_http_request get = {
	.method = "GET", .host = "10.0.0.2", .port = 8080, .path = COMMAND_PATH,
	.timeout_ms = 5000,
};
static const struct hal_http_request post = {
	.method = "POST", .host = "10.0.0.2", .port = 8080, .path = "/api/sensors/data",
	.content_type = "application/json", .body = READING, .body_len = sizeof(READING) - 1,
	.timeout_ms = 5000,
};

static const char post_cmd[] = "AT+HTTPCPOST=\"" URL "/api/sensors/data\",55,1,"
			       "\"Content-Type: application/json\"\r\n";
static const char get_cmd[] = "AT+HTTPCLIENT=2,0,\"" URL COMMAND_PATH "\",,,1\r\n";

/* Synced and joined: the transcript of a normal start. */
static void joined(struct fake *f)
{
	fake_init(f);
	fake_sync(f);
	esp_at_link_connect(&f->at);
	esp_at_poll(&f->at, f->now);
	fake_rx(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	fake_rx(f, "+CWJAP:\"lab-ap\",\"aa:bb:cc:dd:ee:ff\",6,-60,0,1,3,0,1\r\n\r\nOK\r\n");
	fake_take(f);
	assert_int_equal(esp_at_link_state(&f->at), HAL_LINK_UP);
}

/* Start @req on a joined module; the first request turns error codes on. */
static void start(struct fake *f, const struct hal_http_request *req, bool first)
{
	assert_int_equal(esp_at_http_request(&f->at, req, f->now), 0);
	assert_true(esp_at_http_busy(&f->at));
	assert_int_equal(esp_at_next_deadline(&f->at), 0); /* send it now */
	esp_at_poll(&f->at, f->now);
	if (first) {
		assert_string_equal(fake_take(f), "AT+SYSLOG=1\r\n");
		fake_rx(f, "\r\nOK\r\n");
	}
}

/* Bring a started POST through the prompt. */
static void post_through_prompt(struct fake *f)
{
	assert_string_equal(fake_take(f), post_cmd);
	fake_rx(f, "\r\nOK\r\n\r\n>");
	assert_string_equal(fake_take(f), READING);
}

static void test_esp_at_http_get_with_command(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &get, true);
	assert_string_equal(fake_take(&f), get_cmd);
	fake_rx(&f, "+HTTPCLIENT:51," STOP "\r\n\r\nOK\r\n");
	assert_int_equal(f.responses, 0); /* only from the service call */
	assert_int_equal(esp_at_next_deadline(&f.at), 0);
	assert_int_equal(esp_at_http_service(&f.at), 0);
	assert_int_equal(f.responses, 1);
	assert_int_equal(f.status, 200);
	assert_string_equal(f.body, STOP);
	assert_false(esp_at_http_busy(&f.at));
	assert_int_equal(esp_at_http_service(&f.at), 0);
	assert_int_equal(f.responses, 1);
}

static void test_esp_at_http_post_with_command(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &post, true);
	post_through_prompt(&f);
	/* the body comes in two chunks, one holding a line break and an OK */
	fake_rx(&f, "+HTTPCPOST:11,{\"status\":\"\r\n+HTTPCPOST:13,\r\nOK\r\n\"stop\"}\r\nSEND OK\r\n");
	esp_at_http_service(&f.at);
	assert_int_equal(f.status, 200);
	assert_string_equal(f.body, "{\"status\":\"\r\nOK\r\n\"stop\"}");
	/* the next one needs no AT+SYSLOG */
	start(&f, &post, false);
	post_through_prompt(&f);
	fake_rx(&f, "+HTTPCPOST:51," STOP "\r\nSEND OK\r\n");
	esp_at_http_service(&f.at);
	assert_int_equal(f.responses, 2);
	assert_string_equal(f.body, STOP);
}

static void test_esp_at_http_error_status(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &post, true);
	post_through_prompt(&f);
	fake_rx(&f, "+HTTPCPOST:20,{\"error\":\"overload\"}\r\nERR CODE:0x010a71f7\r\nSEND FAIL\r\n");
	assert_int_equal(esp_at_http_service(&f.at), 0); /* a status is no errno */
	assert_int_equal(f.status, 503);
	assert_string_equal(f.body, "{\"error\":\"overload\"}");

	start(&f, &get, false);
	fake_take(&f);
	fake_rx(&f, "ERR CODE:0x010a7194\r\n\r\nERROR\r\n");
	esp_at_http_service(&f.at);
	assert_int_equal(f.status, 404);

	/* 0x7000: no connection */
	start(&f, &get, false);
	fake_take(&f);
	fake_rx(&f, "ERR CODE:0x010a7000\r\nERROR\r\n");
	assert_int_equal(esp_at_http_service(&f.at), -ECONNREFUSED);
	assert_int_equal(f.status, -ECONNREFUSED);

	/* ERROR without a code (AT+SYSLOG unknown to the firmware): retried */
	start(&f, &get, false);
	fake_take(&f);
	fake_rx(&f, "ERR CODE:0x01020000\r\nERROR\r\n"); /* not an HTTP code */
	esp_at_http_service(&f.at);
	assert_int_equal(f.status, -ECONNRESET);
	assert_int_equal(f.at.http.stats.failed, 4);
}

static void test_esp_at_http_refused_before_prompt(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &post, true);
	assert_string_equal(fake_take(&f), post_cmd);
	fake_rx(&f, "\r\nERROR\r\n");
	assert_int_equal(esp_at_http_service(&f.at), -ECONNRESET);
	assert_string_equal(fake_take(&f), ""); /* no body without the prompt */
}

static void test_esp_at_http_timeout_then_late_answer(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &get, true);
	fake_take(&f);
	assert_int_equal(esp_at_next_deadline(&f.at), f.now + 5000000u);
	fake_advance(&f, 4999999);
	assert_int_equal(esp_at_http_service(&f.at), 0);
	assert_int_equal(f.responses, 0);
	fake_advance(&f, 1);
	assert_int_equal(esp_at_http_service(&f.at), -ETIMEDOUT);
	assert_int_equal(f.status, -ETIMEDOUT);
	assert_false(esp_at_http_busy(&f.at));
	/* the module still works on it: the next request waits */
	assert_int_equal(esp_at_http_request(&f.at, &get, f.now), 0);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "");
	fake_rx(&f, "+HTTPCLIENT:5,stale\r\n\r\nOK\r\n");
	assert_int_equal(f.at.http.stats.late_answers, 1);
	assert_string_equal(fake_take(&f), get_cmd);
	fake_rx(&f, "+HTTPCLIENT:16,{\"command\":null}\r\nOK\r\n");
	esp_at_http_service(&f.at);
	assert_int_equal(f.status, 200);
	assert_string_equal(f.body, "{\"command\":null}");
	assert_int_equal(f.at.stats.resyncs, 0);
}

/* A POST whose '>' comes late: its body must still go out whole, so the
 * timeout waits for the prompt, and no request may take the buffer. */
static void test_esp_at_http_late_prompt_keeps_the_body(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &post, true);
	assert_string_equal(fake_take(&f), post_cmd);
	fake_rx(&f, "busy p...\r\n");
	fake_advance(&f, 6000000);
	assert_int_equal(esp_at_http_service(&f.at), 0);
	assert_int_equal(f.responses, 0);
	assert_true(esp_at_next_deadline(&f.at) > f.now); /* no busy wait */
	fake_take(&f); /* the resent command */
	fake_rx(&f, "\r\nOK\r\n\r\n>");
	assert_string_equal(fake_take(&f), READING);
	assert_int_equal(esp_at_http_service(&f.at), -ETIMEDOUT);
	fake_rx(&f, "+HTTPCPOST:19,{\"status\":\"stored\"}\r\nSEND OK\r\n");
	assert_int_equal(f.at.http.stats.late_answers, 1);

	/* aborted before its prompt: the next request waits for the body */
	start(&f, &post, false);
	assert_string_equal(fake_take(&f), post_cmd);
	esp_at_http_abort(&f.at);
	assert_false(esp_at_http_busy(&f.at));
	assert_int_equal(esp_at_http_request(&f.at, &get, f.now), -EBUSY);
	fake_rx(&f, "\r\nOK\r\n\r\n>");
	assert_string_equal(fake_take(&f), READING);
	assert_int_equal(esp_at_http_request(&f.at, &get, f.now), 0);
	assert_int_equal(f.responses, 1);
}

static void test_esp_at_http_hung_module_resyncs(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &post, true);
	post_through_prompt(&f);
	fake_advance(&f, 5000000);
	assert_int_equal(esp_at_http_service(&f.at), -ETIMEDOUT);
	fake_advance(&f, ESP_AT_HTTP_GRACE_US);
	assert_int_equal(f.at.stats.resyncs, 1);
	assert_string_equal(fake_take(&f), "AT\r\n");
	assert_int_equal(f.responses, 1); /* nothing more to tell */
}

static void test_esp_at_http_garbage_and_split_lines(void **state)
{
	static const char answer[] =
		"\xff\xfe noise\r\n+HTTPCLIENT:x,\r\n+HTTPCPOST\r\nERR CODE:0xZZ\r\n"
		"ERR CODE:0x010a71f4\r\nERROR\r\n";
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &get, true);
	fake_take(&f);
	for (size_t i = 0; i < sizeof(answer) - 1; i++) /* a byte at a time */
		fake_rx_n(&f, answer + i, 1);
	esp_at_http_service(&f.at);
	assert_int_equal(f.status, 500);
	assert_int_equal(f.at.stats.garbage_lines, 3);

	start(&f, &post, false);
	assert_string_equal(fake_take(&f), post_cmd);
	fake_rx(&f, "\r\nO");
	fake_rx(&f, "K\r\n\r\n");
	fake_rx(&f, ">");
	assert_string_equal(fake_take(&f), READING);
	fake_rx(&f, "+HTTPC");
	fake_rx(&f, "POST:5");
	fake_rx(&f, "1,{\"status\":\"stored\",");
	fake_rx(&f, "\"command\":\"stop\",\"command_id\":7}\r");
	assert_int_equal(f.responses, 1);
	fake_rx(&f, "\nSEND ");
	fake_rx(&f, "OK\r\n");
	esp_at_http_service(&f.at);
	assert_int_equal(f.responses, 2);
	assert_int_equal(f.status, 200);
	assert_string_equal(f.body, STOP);
}

static void test_esp_at_http_body_truncated(void **state)
{
	static char big[700];
	char line[32];
	struct fake f;

	(void)state;
	memset(big, 'a', sizeof(big));
	joined(&f);
	start(&f, &get, true);
	fake_take(&f);
	snprintf(line, sizeof(line), "+HTTPCLIENT:%zu,", sizeof(big));
	fake_rx(&f, line);
	fake_rx_n(&f, big, sizeof(big));
	fake_rx(&f, "\r\nOK\r\n");
	esp_at_http_service(&f.at);
	assert_int_equal(f.status, 200);
	assert_int_equal(f.body_len, HAL_HTTP_BODY_MAX);
	assert_int_equal(f.at.http.stats.body_truncated, sizeof(big) - HAL_HTTP_BODY_MAX);
}

static void test_esp_at_http_module_reset_and_wifi_drop(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &get, true);
	fake_take(&f);
	fake_rx(&f, "\r\nready\r\n");
	assert_int_equal(esp_at_http_service(&f.at), -ECONNRESET);
	assert_int_equal(esp_at_link_state(&f.at), HAL_LINK_DOWN);
	assert_int_equal(esp_at_http_request(&f.at, &get, f.now), -ENETUNREACH);

	/* back up: error codes are turned on again */
	fake_take(&f);
	fake_rx(&f, "\r\nOK\r\n"); /* AT, ATE0, AT+CWMODE, AT+MQTTCLEAN */
	fake_rx(&f, "\r\nOK\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	fake_rx(&f, "\r\nERROR\r\n");
	esp_at_link_connect(&f.at);
	esp_at_poll(&f.at, f.now);
	fake_rx(&f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	fake_take(&f);
	start(&f, &get, true);
	assert_string_equal(fake_take(&f), get_cmd);
	fake_rx(&f, "WIFI DISCONNECT\r\n");
	fake_rx(&f, "\r\nERROR\r\n");
	assert_int_equal(esp_at_http_service(&f.at), -ENETDOWN);
}

static void test_esp_at_http_abort_drops_the_answer(void **state)
{
	struct fake f;

	(void)state;
	joined(&f);
	start(&f, &get, true);
	fake_take(&f);
	esp_at_http_abort(&f.at);
	assert_false(esp_at_http_busy(&f.at));
	fake_rx(&f, "+HTTPCLIENT:16,{\"command\":null}\r\nOK\r\n");
	assert_int_equal(esp_at_http_service(&f.at), 0);
	assert_int_equal(f.responses, 0);
}

static void test_esp_at_http_bad_requests(void **state)
{
	struct fake f;
	struct hal_http_request r;
	static char big[ESP_AT_HTTP_TX_MAX + 1];
	static char long_path[ESP_AT_URL_MAX];

	(void)state;
	fake_init(&f);
	fake_sync(&f);
	assert_int_equal(esp_at_http_request(&f.at, &get, f.now), -ENETUNREACH);
	assert_int_equal(esp_at_http_request(&f.at, NULL, f.now), -EINVAL);
	r = get;
	r.method = "PUT";
	assert_int_equal(esp_at_http_request(&f.at, &r, f.now), -EINVAL);
	r = get;
	r.path = "api";
	assert_int_equal(esp_at_http_request(&f.at, &r, f.now), -EINVAL);
	r = post;
	r.content_type = "application/json\r\nX-Evil: 1";
	assert_int_equal(esp_at_http_request(&f.at, &r, f.now), -EINVAL);
	r = post;
	r.body_len = 0;
	assert_int_equal(esp_at_http_request(&f.at, &r, f.now), -EINVAL);
	r = post;
	r.body = big;
	r.body_len = sizeof(big);
	assert_int_equal(esp_at_http_request(&f.at, &r, f.now), -EMSGSIZE);

	joined(&f);
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	r = get;
	r.path = long_path;
	assert_int_equal(esp_at_http_request(&f.at, &r, f.now), -EINVAL);
	assert_int_equal(esp_at_http_request(&f.at, &get, f.now), 0);
	assert_int_equal(esp_at_http_request(&f.at, &post, f.now), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esp_at_http_get_with_command),
		cmocka_unit_test(test_esp_at_http_post_with_command),
		cmocka_unit_test(test_esp_at_http_error_status),
		cmocka_unit_test(test_esp_at_http_refused_before_prompt),
		cmocka_unit_test(test_esp_at_http_timeout_then_late_answer),
		cmocka_unit_test(test_esp_at_http_late_prompt_keeps_the_body),
		cmocka_unit_test(test_esp_at_http_hung_module_resyncs),
		cmocka_unit_test(test_esp_at_http_garbage_and_split_lines),
		cmocka_unit_test(test_esp_at_http_body_truncated),
		cmocka_unit_test(test_esp_at_http_module_reset_and_wifi_drop),
		cmocka_unit_test(test_esp_at_http_abort_drops_the_answer),
		cmocka_unit_test(test_esp_at_http_bad_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
