/* A scripted ESP-AT module for the driver's unit tests: records what the
 * driver wrote and what reached the MQTT and HTTP callbacks. */
#ifndef TESTS_ESP_AT_FAKE_H
#define TESTS_ESP_AT_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "esp_at.h"

struct fake {
	struct esp_at at;
	char tx[8192];
	size_t tx_len;
	size_t tx_seen;            /* fake_take() consumed up to here */
	uint64_t now;
	int connects, connect_rc;
	int disconnects, expected_disconnects;
	int messages;
	char msg_topic[80];
	char msg[200];
	size_t msg_len;
	uint16_t acked[32];
	int n_acked;
	int responses;
	int status;
	char body[HAL_HTTP_BODY_MAX + 1];
	size_t body_len;
};

static inline void fake_write(void *ctx, const void *buf, size_t len)
{
	struct fake *f = ctx;

	if (f->tx_len + len < sizeof(f->tx)) {
		memcpy(f->tx + f->tx_len, buf, len);
		f->tx_len += len;
		f->tx[f->tx_len] = '\0';
	}
}

static inline void fake_on_connect(void *ctx, int rc)
{
	struct fake *f = ctx;
	f->connects++;
	f->connect_rc = rc;
}

static inline void fake_on_disconnect(void *ctx, bool expected)
{
	struct fake *f = ctx;
	if (expected)
		f->expected_disconnects++;
	else
		f->disconnects++;
}

static inline void fake_on_message(void *ctx, const char *topic, const void *payload, size_t len)
{
	struct fake *f = ctx;
	f->messages++;
	snprintf(f->msg_topic, sizeof(f->msg_topic), "%s", topic);
	f->msg_len = len < sizeof(f->msg) ? len : sizeof(f->msg) - 1;
	memcpy(f->msg, payload, f->msg_len);
	f->msg[f->msg_len] = '\0';
}

static inline void fake_on_publish(void *ctx, uint16_t id)
{
	struct fake *f = ctx;
	if (f->n_acked < 32)
		f->acked[f->n_acked++] = id;
}

static inline void fake_on_response(void *ctx, int status, const void *body, size_t len)
{
	struct fake *f = ctx;
	f->responses++;
	f->status = status;
	f->body_len = len;
	memcpy(f->body, body, len);
	f->body[len] = '\0';
}

static const struct hal_mqtt_callbacks fake_cb = {
	fake_on_connect, fake_on_disconnect, fake_on_message, fake_on_publish,
};

static const struct hal_http_callbacks fake_http_cb = { fake_on_response };

static inline void fake_init(struct fake *f)
{
	struct esp_at_ops ops = { fake_write, f };

	memset(f, 0, sizeof(*f));
	f->now = 1000;
	esp_at_init(&f->at, &ops, "lab-ap", "pa,ss\"word");
	esp_at_mqtt_init(&f->at, &fake_cb, f);
	esp_at_http_init(&f->at, &fake_http_cb, f);
}

/* What the driver wrote since the last call. */
static inline const char *fake_take(struct fake *f)
{
	static char out[8192];
	size_t n = f->tx_len - f->tx_seen;

	memcpy(out, f->tx + f->tx_seen, n);
	out[n] = '\0';
	f->tx_seen = f->tx_len;
	return out;
}

static inline void fake_rx(struct fake *f, const char *s)
{
	esp_at_input(&f->at, s, strlen(s), f->now);
}

static inline void fake_rx_n(struct fake *f, const char *s, size_t n)
{
	esp_at_input(&f->at, s, n, f->now);
}

static inline void fake_advance(struct fake *f, uint64_t us)
{
	f->now += us;
	esp_at_poll(&f->at, f->now);
}

/* Bring the module through AT / ATE0 / CWMODE / MQTTCLEAN. */
static inline void fake_sync(struct fake *f)
{
	esp_at_poll(&f->at, f->now);
	fake_take(f);
	fake_rx(f, "AT\r\r\n\r\nOK\r\n");  /* echo still on */
	fake_rx(f, "ATE0\r\r\n\r\nOK\r\n");
	fake_rx(f, "\r\nOK\r\n");
	fake_rx(f, "\r\nERROR\r\n");        /* no session to clean */
	fake_take(f);
}

#endif /* TESTS_ESP_AT_FAKE_H */
