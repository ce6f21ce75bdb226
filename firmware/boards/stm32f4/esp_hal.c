/* hal_link and hal_mqtt: the ESP-AT driver core over USART1. */
#include "board.h"
#include "esp_at.h"
#include "hal_link.h"
#include "hal_mqtt.h"
#include "hal_time.h"

#ifndef STM32_ESP_BAUD
#define STM32_ESP_BAUD 115200u /* ESP-AT's default */
#endif

static struct esp_at esp;

static void esp_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	stm32_uart_write(STM32_UART_ESP, buf, len);
}

void stm32_esp_init(void)
{
	static const struct esp_at_ops ops = { esp_write, NULL };

	esp_at_init(&esp, &ops, stm32_config.ssid, stm32_config.wifi_pass);
	stm32_uart_init(STM32_UART_ESP, STM32_ESP_BAUD);
}

uint64_t stm32_esp_deadline(void)
{
	return esp_at_next_deadline(&esp);
}

static void pump(void)
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

	pump();
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

int hal_mqtt_init(const struct hal_mqtt_callbacks *cb, void *ctx)
{
	return esp_at_mqtt_init(&esp, cb, ctx);
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
	pump();
	return 0;
}

unsigned int hal_mqtt_pending(void)
{
	return esp_at_mqtt_pending(&esp);
}
