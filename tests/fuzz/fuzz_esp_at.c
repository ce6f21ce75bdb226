/*
 * libFuzzer target: the ESP-AT driver's line parser (firmware/boards/stm32f4)
 * on arbitrary bytes a module could send, while an MQTT session and an HTTP
 * request are both under way. The first byte splits the input into reads,
 * the second advances the clock between them, so split lines, body
 * lengths that lie and timeouts in the middle of an answer are all
 * reached. Checks what must hold whatever the module says: at most one
 * HTTP outcome per request, a body within HAL_HTTP_BODY_MAX, a status
 * that is a status or a negative errno.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp_at.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int responses;

static void on_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
}

static void on_connect(void *ctx, int rc)
{
	(void)ctx;
	(void)rc;
}

static void on_disconnect(void *ctx, bool expected)
{
	(void)ctx;
	(void)expected;
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len)
{
	(void)ctx;
	if (!topic || strlen(topic) > ESP_AT_TOPIC_MAX || len > ESP_AT_RX_PAYLOAD_MAX ||
	    (len && !payload))
		abort();
}

static void on_publish(void *ctx, uint16_t id)
{
	(void)ctx;
	(void)id;
}

static void on_response(void *ctx, int status, const void *body, size_t len)
{
	(void)ctx;
	responses++;
	if (len > HAL_HTTP_BODY_MAX || (len && !body) || (status < 0 && len) ||
	    (status >= 0 && (status < 100 || status > 599)))
		abort();
}

static const struct hal_mqtt_callbacks mqtt_cb = { on_connect, on_disconnect, on_message,
						   on_publish };
static const struct hal_http_callbacks http_cb = { on_response };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct esp_at at;
	static const struct esp_at_ops ops = { on_write, NULL };
	static const char body[] = "{\"device_id\":\"r\",\"boot\":1,\"seq\":1}";
	const struct hal_http_request req = {
		.method = "POST", .host = "10.0.0.2", .port = 8080, .path = "/api/sensors/data",
		.content_type = "application/json", .body = body, .body_len = sizeof(body) - 1,
		.timeout_ms = 5000,
	};
	const struct hal_mqtt_connect_opts opts = { .client_id = "r", .host = "10.0.0.2",
						    .port = 1883, .keepalive_s = 15 };
	uint64_t now = 1000;
	size_t chunk, step_us;
	int requests = 0;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	step_us = (size_t)data[1] * 50000u;
	data += 2;
	size -= 2;
	responses = 0;
	esp_at_init(&at, &ops, "ap", "pw");
	esp_at_mqtt_init(&at, &mqtt_cb, NULL);
	esp_at_http_init(&at, &http_cb, NULL);
	/* a synced, joined module, as the transcripts reach it */
	at.synced = true;
	at.link = HAL_LINK_UP;
	esp_at_mqtt_connect(&at, &opts);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (!esp_at_http_busy(&at) && esp_at_http_request(&at, &req, now) == 0)
			requests++;
		esp_at_input(&at, data + off, n, now);
		now += step_us;
		esp_at_poll(&at, now);
		esp_at_http_service(&at);
	}
	if (responses > requests)
		abort();
	return 0;
}
