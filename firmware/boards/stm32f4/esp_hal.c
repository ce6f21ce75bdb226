/* hal_link and hal_mqtt: the ESP-AT driver core over USART1 (hal_http: esp_hal_http.c). */
#include <errno.h>

#include "board.h"
#include "esp_at.h"
#include "hal_link.h"
#include "hal_mqtt.h"
#include "hal_time.h"
#include "log.h"

#ifndef STM32_ESP_BAUD
#define STM32_ESP_BAUD 115200u /* ESP-AT's default */
#endif

_Static_assert(STM32_MQTT_SCHEME >= ESP_AT_SCHEME_TCP && STM32_MQTT_SCHEME <= ESP_AT_SCHEME_MAX,
	       "STM32_MQTT_SCHEME: 1 TCP, 2-5 TLS (see esp_at.h)");

static struct esp_at esp;
static const struct hal_mqtt_callbacks *app_cb;
static struct hal_mqtt_callbacks cb; /* the application's, on_disconnect wrapped */

static void esp_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	stm32_uart_write(STM32_UART_ESP, buf, len);
}

void stm32_esp_init(void)
{
	static const struct esp_at_ops ops = { esp_write, NULL };

	esp_at_init(&esp, &ops, stm32_config.ssid, stm32_config.wifi_pass);
	esp_at_mqtt_set_scheme(&esp, STM32_MQTT_SCHEME);
	stm32_uart_init(STM32_UART_ESP, STM32_ESP_BAUD);
}

uint64_t stm32_esp_deadline(void)
{
	return esp_at_next_deadline(&esp);
}

struct esp_at *stm32_esp(void)
{
	return &esp;
}

void stm32_esp_pump(void)
{
	uint8_t buf[64];
	size_t n;

	while ((n = stm32_uart_read(STM32_UART_ESP, buf, sizeof(buf))) > 0)
		esp_at_input(&esp, buf, n, hal_time_now_us());
	esp_at_poll(&esp, hal_time_now_us());
}

int hal_link_connect(void)
{
	int rc = esp_at_link_connect(&esp);

	stm32_esp_pump();
	return rc;
}

enum hal_link_state hal_link_get_state(void)
{
	return esp_at_link_state(&esp);
}

int hal_link_get_rssi(int *rssi_dbm)
{
	return esp_at_link_rssi(&esp, rssi_dbm);
}

int hal_link_disconnect(void)
{
	return esp_at_link_disconnect(&esp);
}

/*
 * The module answers a refused connect with a bare ERROR (AT+SYSLOG's
 * error codes are off by default): the step it refused and the scheme are
 * all there is to say why, and the application only hears "lost".
 */
static void explain_refusal(void)
{
	unsigned int s = esp.scheme;

	if (esp.conn_fail == ESP_CMD_USERCFG)
		LOG_WARN("ESP-AT refused MQTT scheme %u%s", s,
			 s > ESP_AT_SCHEME_TCP ? ": no TLS in its firmware, or not the "
			 "certificates it needs (mqtt_ca, mqtt_cert, mqtt_key)" : "");
	else if (esp.conn_fail == ESP_CMD_CONNCFG)
		LOG_WARN("ESP-AT refused the connection settings (will, keepalive)");
	else if (esp.conn_fail == ESP_CMD_CONN && s > ESP_AT_SCHEME_TCP)
		LOG_WARN("ESP-AT could not connect to %s:%u over TLS (scheme %u): a certificate "
			 "refused by either side, or no broker there", esp.host,
			 (unsigned int)esp.port, s);
	else if (esp.conn_fail == ESP_CMD_CONN)
		LOG_WARN("ESP-AT could not connect to %s:%u", esp.host, (unsigned int)esp.port);
}

static void on_disconnect(void *ctx, bool expected)
{
	if (!expected)
		explain_refusal();
	app_cb->on_disconnect(ctx, expected);
}

int hal_mqtt_init(const struct hal_mqtt_callbacks *callbacks, void *ctx)
{
	if (!callbacks || !callbacks->on_disconnect)
		return -EINVAL;
	app_cb = callbacks;
	cb = *callbacks;
	cb.on_disconnect = on_disconnect;
	return esp_at_mqtt_init(&esp, &cb, ctx);
}

int hal_mqtt_connect(const struct hal_mqtt_connect_opts *opts)
{
	return esp_at_mqtt_connect(&esp, opts);
}

int hal_mqtt_publish(const char *topic, const void *payload, size_t len, int qos, bool retain,
		     uint16_t *msg_id)
{
	return esp_at_mqtt_publish(&esp, topic, payload, len, qos, retain, msg_id);
}

int hal_mqtt_subscribe(const char *topic, int qos)
{
	return esp_at_mqtt_subscribe(&esp, topic, qos);
}

int hal_mqtt_disconnect(void)
{
	return esp_at_mqtt_disconnect(&esp);
}

int hal_mqtt_service(void)
{
	stm32_esp_pump();
	return 0;
}

unsigned int hal_mqtt_pending(void)
{
	return esp_at_mqtt_pending(&esp);
}
