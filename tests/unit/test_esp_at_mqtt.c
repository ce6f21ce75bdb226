/* The ESP-AT driver's MQTT session against recorded module transcripts:
 * connect with a will, over TLS (the scheme), refused connects and which
 * step refused them, publish through the '>' prompt, messages split
 * anywhere, publish failures, the session lost and the module rebooting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp_at_fake.h"

static const struct hal_mqtt_will will = {
	"sensors/robot_001/status", "offline", 7, 1, true,
};
static const struct hal_mqtt_connect_opts opts = {
	.client_id = "robot_001", .host = "10.0.0.2", .port = 1883, .keepalive_s = 15,
	.clean_session = true, .will = &will,
};

/* Synced, joined, connected: the transcript of a normal start. */
static void online(struct fake *f)
{
	fake_init(f);
	fake_sync(f);
	esp_at_link_connect(&f->at);
	esp_at_poll(&f->at, f->now);
	fake_take(f);
	fake_rx(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	fake_take(f);
	fake_rx(f, "+CWJAP:\"lab-ap\",\"aa:bb:cc:dd:ee:ff\",6,-60,0,1,3,0,1\r\n\r\nOK\r\n");
	assert_int_equal(esp_at_mqtt_connect(&f->at, &opts), 0);
	esp_at_poll(&f->at, f->now);
	assert_string_equal(fake_take(f), "AT+MQTTCLEAN=0\r\n");
	fake_rx(f, "\r\nERROR\r\n");
	assert_string_equal(fake_take(f),
			    "AT+MQTTUSERCFG=0,1,\"robot_001\",\"\",\"\",0,0,\"\"\r\n");
	fake_rx(f, "\r\nOK\r\n");
	assert_string_equal(fake_take(f),
			    "AT+MQTTCONNCFG=0,15,0,\"sensors/robot_001/status\",\"offline\",1,1\r\n");
	fake_rx(f, "\r\nOK\r\n");
	assert_string_equal(fake_take(f), "AT+MQTTCONN=0,\"10.0.0.2\",1883,0\r\n");
	fake_rx(f, "+MQTTCONNECTED:0,1,\"10.0.0.2\",\"1883\",\"\",0\r\n");
	assert_int_equal(f->connects, 0); /* the OK completes the command */
	fake_rx(f, "\r\nOK\r\n");
	assert_int_equal(f->connects, 1);
	assert_int_equal(f->connect_rc, 0);
}

static void test_esp_at_mqtt_connect_transcript(void **state)
{
	struct fake f;

	(void)state;
	online(&f);
	assert_int_equal(esp_at_mqtt_connect(&f.at, &opts), -EALREADY);
}

static void test_esp_at_mqtt_connect_needs_link(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	fake_sync(&f);
	assert_int_equal(esp_at_mqtt_connect(&f.at, &opts), -ENETUNREACH);
	assert_int_equal(esp_at_mqtt_publish(&f.at, "t", "x", 1, 1, false, NULL), -ENOTCONN);
	assert_int_equal(esp_at_mqtt_disconnect(&f.at), -ENOTCONN);
}

static void test_esp_at_mqtt_conn_error_is_a_disconnect(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	fake_sync(&f);
	esp_at_link_connect(&f.at);
	esp_at_poll(&f.at, f.now);
	fake_rx(&f, "\r\nOK\r\n");
	fake_rx(&f, "\r\nOK\r\n"); /* CWJAP? */
	esp_at_mqtt_connect(&f.at, &opts);
	esp_at_poll(&f.at, f.now);
	fake_rx(&f, "\r\nOK\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	fake_take(&f);
	fake_rx(&f, "+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n");
	assert_int_equal(f.connects, 0);
	assert_int_equal(f.disconnects, 1);
	assert_string_equal(fake_take(&f), "");
	/* the next attempt starts by cleaning up what the module kept */
	assert_int_equal(esp_at_mqtt_connect(&f.at, &opts), 0);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "AT+MQTTCLEAN=0\r\n");
}

/* Synced and joined, a connect started with @scheme, CLEAN answered:
 * AT+MQTTUSERCFG is what the driver has just written. */
static const char *start_connect(struct fake *f, unsigned int scheme)
{
	fake_init(f);
	fake_sync(f);
	assert_int_equal(esp_at_mqtt_set_scheme(&f->at, scheme), 0);
	esp_at_link_connect(&f->at);
	esp_at_poll(&f->at, f->now);
	fake_rx(f, "\r\nOK\r\n");
	fake_rx(f, "\r\nOK\r\n"); /* CWJAP? */
	fake_take(f);
	assert_int_equal(esp_at_mqtt_connect(&f->at, &opts), 0);
	esp_at_poll(&f->at, f->now);
	assert_string_equal(fake_take(f), "AT+MQTTCLEAN=0\r\n");
	fake_rx(f, "\r\nERROR\r\n");
	return fake_take(f);
}

static void test_esp_at_mqtt_scheme(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	assert_int_equal(f.at.scheme, ESP_AT_SCHEME_TCP);
	assert_int_equal(esp_at_mqtt_set_scheme(&f.at, 0), -EINVAL);
	assert_int_equal(esp_at_mqtt_set_scheme(&f.at, 6), -EINVAL); /* WebSocket */
	assert_int_equal(f.at.scheme, ESP_AT_SCHEME_TCP);
	assert_string_equal(start_connect(&f, ESP_AT_SCHEME_TLS_MUTUAL),
			    "AT+MQTTUSERCFG=0,5,\"robot_001\",\"\",\"\",0,0,\"\"\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	fake_take(&f);
	fake_rx(&f, "\r\nOK\r\n");
	assert_string_equal(fake_take(&f), "AT+MQTTCONN=0,\"10.0.0.2\",1883,0\r\n");
	fake_rx(&f, "+MQTTCONNECTED:0,5,\"10.0.0.2\",\"1883\",\"\",0\r\n\r\nOK\r\n");
	assert_int_equal(f.connects, 1);
	assert_int_equal(f.at.conn_fail, ESP_CMD_NONE);
	assert_int_equal(f.at.stats.conn_failed, 0);
}

/* A TLS scheme whose certificates the module does not hold. */
static void test_esp_at_mqtt_usercfg_refused(void **state)
{
	struct fake f;

	(void)state;
	assert_string_equal(start_connect(&f, 3),
			    "AT+MQTTUSERCFG=0,3,\"robot_001\",\"\",\"\",0,0,\"\"\r\n");
	fake_rx(&f, "\r\nERROR\r\n");
	assert_int_equal(f.disconnects, 1);
	assert_int_equal(f.connects, 0);
	assert_int_equal(f.at.conn_fail, ESP_CMD_USERCFG);
	assert_int_equal(f.at.stats.conn_failed, 1);
	assert_string_equal(fake_take(&f), "AT+MQTTCLEAN=0\r\n");
	/* the next connect starts with no failure to explain */
	fake_rx(&f, "\r\nOK\r\n");
	assert_int_equal(esp_at_mqtt_connect(&f.at, &opts), 0);
	assert_int_equal(f.at.conn_fail, ESP_CMD_NONE);
}

/* A handshake the broker (or the module) refused: +MQTTDISCONNECTED, then
 * AT+MQTTCONN's ERROR; in either order it is one failure, one disconnect. */
static void test_esp_at_mqtt_tls_handshake_refused(void **state)
{
	static const char *const replies[] = {
		"+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n",
		"\r\nERROR\r\n+MQTTDISCONNECTED:0\r\n",
	};

	(void)state;
	for (unsigned int i = 0; i < 2; i++) {
		struct fake f;

		start_connect(&f, ESP_AT_SCHEME_TLS_MUTUAL);
		fake_rx(&f, "\r\nOK\r\n");
		fake_take(&f);
		fake_rx(&f, "\r\nOK\r\n");
		assert_string_equal(fake_take(&f), "AT+MQTTCONN=0,\"10.0.0.2\",1883,0\r\n");
		fake_rx(&f, replies[i]);
		assert_int_equal(f.connects, 0);
		assert_int_equal(f.disconnects, 1);
		assert_int_equal(f.at.conn_fail, ESP_CMD_CONN);
		assert_int_equal(f.at.stats.conn_failed, 1);
		assert_int_equal(f.at.mqtt, ESP_MQTT_IDLE);
	}
}

static void test_esp_at_mqtt_publish_through_prompt(void **state)
{
	struct fake f;
	uint16_t id1 = 0, id2 = 0;
	static const char json[] = "{\"device_id\":\"robot_001\",\"seq\":1}";

	(void)state;
	online(&f);
	fake_take(&f);
	assert_int_equal(esp_at_mqtt_publish(&f.at, "sensors/robot_001/status", "online", 6,
					     1, true, &id1), 0);
	assert_int_equal(esp_at_mqtt_publish(&f.at, "sensors/robot_001/data", json,
					     sizeof(json) - 1, 1, false, &id2), 0);
	assert_int_not_equal(id1, id2);
	assert_int_equal(esp_at_mqtt_pending(&f.at), 2);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "AT+MQTTPUBRAW=0,\"sensors/robot_001/status\",6,1,1\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	assert_string_equal(fake_take(&f), "");
	fake_rx(&f, "\r\n>");
	assert_string_equal(fake_take(&f), "online");
	fake_rx(&f, "\r\n+MQTTPUB:O");
	assert_int_equal(f.n_acked, 0);
	fake_rx(&f, "K\r\n");
	assert_int_equal(f.n_acked, 1);
	assert_int_equal(f.acked[0], id1);
	assert_string_equal(fake_take(&f), "AT+MQTTPUBRAW=0,\"sensors/robot_001/data\",33,1,0\r\n");
	fake_rx(&f, "\r\nOK\r\n\r\n>");
	assert_string_equal(fake_take(&f), json);
	fake_rx(&f, "\r\n+MQTTPUB:OK\r\n");
	assert_int_equal(f.n_acked, 2);
	assert_int_equal(f.acked[1], id2);
	assert_int_equal(esp_at_mqtt_pending(&f.at), 0);
}

static void test_esp_at_mqtt_qos0_is_not_acked(void **state)
{
	struct fake f;
	uint16_t id = 99;

	(void)state;
	online(&f);
	assert_int_equal(esp_at_mqtt_publish(&f.at, "sensors/x/temperature", "21.5", 4, 0,
					     false, &id), 0);
	assert_int_equal(id, 0);
	esp_at_poll(&f.at, f.now);
	fake_rx(&f, "\r\nOK\r\n>\r\n+MQTTPUB:OK\r\n");
	assert_int_equal(f.n_acked, 0);
	assert_int_equal(esp_at_mqtt_pending(&f.at), 0);
}

static void test_esp_at_mqtt_publish_fail_retries_then_drops_session(void **state)
{
	struct fake f;

	(void)state;
	online(&f);
	esp_at_mqtt_publish(&f.at, "t", "x", 1, 1, false, NULL);
	esp_at_poll(&f.at, f.now);
	for (int i = 0; i < ESP_AT_PUB_TRIES; i++) {
		assert_string_equal(fake_take(&f), "AT+MQTTPUBRAW=0,\"t\",1,1,0\r\n");
		fake_rx(&f, "\r\nOK\r\n>");
		assert_string_equal(fake_take(&f), "x");
		fake_rx(&f, "\r\n+MQTTPUB:FAIL\r\n");
	}
	assert_int_equal(f.n_acked, 0);
	assert_int_equal(f.disconnects, 1);
	assert_int_equal(f.at.stats.pub_failed, ESP_AT_PUB_TRIES);
	assert_string_equal(fake_take(&f), "AT+MQTTCLEAN=0\r\n");
}

static void test_esp_at_mqtt_queue_full(void **state)
{
	struct fake f;
	char big[ESP_AT_PAYLOAD_MAX + 1] = { 0 };

	(void)state;
	online(&f);
	for (int i = 0; i < ESP_AT_PUB_SLOTS; i++)
		assert_int_equal(esp_at_mqtt_publish(&f.at, "t", "x", 1, 1, false, NULL), 0);
	assert_int_equal(esp_at_mqtt_publish(&f.at, "t", "x", 1, 1, false, NULL), -ENOBUFS);
	assert_int_equal(esp_at_mqtt_publish(&f.at, "t", big, sizeof(big), 1, false, NULL),
			 -EMSGSIZE);
}

static void test_esp_at_mqtt_subscribe_and_receive(void **state)
{
	struct fake f;

	(void)state;
	online(&f);
	fake_take(&f);
	assert_int_equal(esp_at_mqtt_subscribe(&f.at, "sensors/robot_001/command", 1), 0);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "AT+MQTTSUB=0,\"sensors/robot_001/command\",1\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	/* a message split in the header, in the data, and data with CR LF inside */
	fake_rx(&f, "+MQTTSUBRECV:0,\"sensors/robot_0");
	fake_rx(&f, "01/command\",4,");
	assert_int_equal(f.messages, 0);
	fake_rx(&f, "st");
	fake_rx(&f, "op\r\n");
	assert_int_equal(f.messages, 1);
	assert_string_equal(f.msg_topic, "sensors/robot_001/command");
	assert_string_equal(f.msg, "stop");
	fake_rx(&f, "+MQTTSUBRECV:0,\"sensors/robot_001/command\",20,{\"action\":\r\n\"start\"}\r\n");
	assert_int_equal(f.messages, 2);
	assert_int_equal(f.msg_len, 20);
	assert_memory_equal(f.msg, "{\"action\":\r\n\"start\"}", 20);
	/* an empty message, then one too long to keep */
	fake_rx(&f, "+MQTTSUBRECV:0,\"sensors/robot_001/command\",0,\r\n");
	assert_int_equal(f.messages, 3);
	assert_int_equal(f.msg_len, 0);
	char line[400];
	int n = snprintf(line, sizeof(line), "+MQTTSUBRECV:0,\"t\",%d,", ESP_AT_RX_PAYLOAD_MAX + 10);
	fake_rx_n(&f, line, (size_t)n);
	memset(line, 'a', ESP_AT_RX_PAYLOAD_MAX + 10);
	fake_rx_n(&f, line, ESP_AT_RX_PAYLOAD_MAX + 10);
	fake_rx(&f, "\r\nOK\r\n");
	assert_int_equal(f.messages, 3);
	assert_int_equal(f.at.stats.rx_truncated, 10);
	/* a mangled header is just a garbage line */
	fake_rx(&f, "+MQTTSUBRECV:0,topic-without-quotes,3,abc\r\n");
	assert_int_equal(f.messages, 3);
}

static void test_esp_at_mqtt_disconnected_mid_publish(void **state)
{
	struct fake f;

	(void)state;
	online(&f);
	esp_at_mqtt_publish(&f.at, "t", "abc", 3, 1, false, NULL);
	esp_at_mqtt_publish(&f.at, "t", "def", 3, 1, false, NULL);
	esp_at_poll(&f.at, f.now);
	fake_take(&f);
	fake_rx(&f, "\r\nOK\r\n+MQTTDISCONNECTED:0\r\n");
	assert_int_equal(f.disconnects, 1);
	/* the module still prompts for the bytes of the command it accepted */
	fake_rx(&f, ">");
	assert_string_equal(fake_take(&f), "abc");
	fake_rx(&f, "\r\n+MQTTPUB:FAIL\r\n");
	assert_int_equal(f.n_acked, 0);
	assert_int_equal(esp_at_mqtt_pending(&f.at), 0);
	assert_string_equal(fake_take(&f), "");
	/* and a new session works */
	assert_int_equal(esp_at_mqtt_connect(&f.at, &opts), 0);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "AT+MQTTCLEAN=0\r\n");
}

static void test_esp_at_mqtt_module_reset(void **state)
{
	struct fake f;

	(void)state;
	online(&f);
	esp_at_mqtt_publish(&f.at, "t", "abc", 3, 1, false, NULL);
	esp_at_poll(&f.at, f.now);
	fake_take(&f);
	fake_rx(&f, "\r\n\xe0\x80" "ets Jan  8 2013,rst cause:2\r\n\r\nready\r\n");
	assert_int_equal(f.disconnects, 1);
	assert_int_equal(esp_at_link_state(&f.at), HAL_LINK_DOWN);
	assert_int_equal(esp_at_mqtt_pending(&f.at), 0);
	assert_int_equal(f.at.stats.module_resets, 1);
	assert_string_equal(fake_take(&f), "AT\r\n");
	fake_rx(&f, "OK\r\n"); /* an OK meant for the old PUBRAW would be harmless too */
	assert_string_equal(fake_take(&f), "ATE0\r\n");
}

static void test_esp_at_mqtt_wifi_drop(void **state)
{
	struct fake f;

	(void)state;
	online(&f);
	fake_rx(&f, "WIFI DISCONNECT\r\n+MQTTDISCONNECTED:0\r\n");
	assert_int_equal(f.disconnects, 1); /* once, not twice */
	assert_int_equal(esp_at_link_state(&f.at), HAL_LINK_DOWN);
}

static void test_esp_at_mqtt_disconnect_is_expected(void **state)
{
	struct fake f;

	(void)state;
	online(&f);
	fake_take(&f);
	esp_at_mqtt_publish(&f.at, "t", "abc", 3, 1, false, NULL);
	assert_int_equal(esp_at_mqtt_disconnect(&f.at), 0);
	assert_int_equal(esp_at_mqtt_pending(&f.at), 0);
	esp_at_poll(&f.at, f.now);
	assert_int_equal(f.expected_disconnects, 1);
	assert_int_equal(f.disconnects, 0);
	assert_string_equal(fake_take(&f), "AT+MQTTCLEAN=0\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	assert_string_equal(fake_take(&f), "");
}

static void test_esp_at_mqtt_bad_options(void **state)
{
	struct fake f;
	struct hal_mqtt_connect_opts o = opts;
	char longhost[100];

	(void)state;
	fake_init(&f);
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	o.host = longhost;
	assert_int_equal(esp_at_mqtt_connect(&f.at, &o), -EINVAL);
	assert_int_equal(esp_at_mqtt_connect(&f.at, NULL), -EINVAL);
	assert_int_equal(esp_at_mqtt_init(&f.at, NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esp_at_mqtt_connect_transcript),
		cmocka_unit_test(test_esp_at_mqtt_connect_needs_link),
		cmocka_unit_test(test_esp_at_mqtt_conn_error_is_a_disconnect),
		cmocka_unit_test(test_esp_at_mqtt_scheme),
		cmocka_unit_test(test_esp_at_mqtt_usercfg_refused),
		cmocka_unit_test(test_esp_at_mqtt_tls_handshake_refused),
		cmocka_unit_test(test_esp_at_mqtt_publish_through_prompt),
		cmocka_unit_test(test_esp_at_mqtt_qos0_is_not_acked),
		cmocka_unit_test(test_esp_at_mqtt_publish_fail_retries_then_drops_session),
		cmocka_unit_test(test_esp_at_mqtt_queue_full),
		cmocka_unit_test(test_esp_at_mqtt_subscribe_and_receive),
		cmocka_unit_test(test_esp_at_mqtt_disconnected_mid_publish),
		cmocka_unit_test(test_esp_at_mqtt_module_reset),
		cmocka_unit_test(test_esp_at_mqtt_wifi_drop),
		cmocka_unit_test(test_esp_at_mqtt_disconnect_is_expected),
		cmocka_unit_test(test_esp_at_mqtt_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
