/* What the STM32F4 board's files share: clocks, UARTs, the flash log, config. */
#ifndef STM32F4_BOARD_H
#define STM32F4_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "robot_config.h"

/* ---- clock.c ---- */
struct stm32_clock {
	uint32_t sysclk_hz;
	uint32_t pclk1_hz;
	uint32_t pclk2_hz;
	bool emulated;      /* no RCC model answered: running under QEMU */
	const char *source; /* "PLL/HSE", "PLL/HSI", "HSI", "emulator" */
};
extern struct stm32_clock stm32_clock;
void stm32_clock_init(void);

/* ---- time.c ---- */
void stm32_time_init(void);
/* Something happened that the main loop must look at (UART input). */
void stm32_time_signal_event(void);

/* ---- usart.c: USART1 to the ESP-AT module, USART2 the console ---- */
enum stm32_uart { STM32_UART_ESP, STM32_UART_CONSOLE };
void stm32_uart_init(enum stm32_uart u, uint32_t baud);
void stm32_uart_write(enum stm32_uart u, const void *buf, size_t len);
size_t stm32_uart_read(enum stm32_uart u, void *buf, size_t cap);
uint32_t stm32_uart_overruns(enum stm32_uart u);

/* ---- flash.c: two sectors for the storage log ---- */
#define STM32_FLASH_SECTORS 2
struct stm32_flash {
	uintptr_t base[STM32_FLASH_SECTORS];
	uint32_t size;     /* bytes per sector */
	bool emulated;     /* RAM with NOR semantics (QEMU has no flash controller) */
};
extern struct stm32_flash stm32_flash;
void stm32_flash_init(bool emulated);
int stm32_flash_erase(unsigned int sector);
/* Program @len bytes (a multiple of 4, 4-aligned) at @addr. 1 bits may only
 * become 0. Returns 0 or -EIO (the read-back differs). */
int stm32_flash_program(uintptr_t addr, const void *buf, size_t len);

/* ---- storage.c ---- */
int stm32_storage_init(void);
uint32_t stm32_storage_generation(void);

/* ---- config.c ---- */
/* The settings the board keeps: in flash at build time, in storage once saved. */
struct stm32_config {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	char device_id[ROBOT_ID_MAX + 1];
	char broker[ROBOT_HOST_MAX + 8];     /* host:port */
	char ssid[33];
	char wifi_pass[64 + 1];
	char mqtt_user[ROBOT_SECRET_MAX + 1];
	char mqtt_pass[ROBOT_SECRET_MAX + 1];
	uint32_t publish_interval_ms;
	uint16_t keepalive_s;
	uint16_t outbox_capacity;
	uint8_t dht_pin;
	uint8_t trig_pin;
	uint8_t echo_pin;
	uint8_t log_level;                   /* enum hal_log_level */
	uint8_t transport;                   /* enum robot_transport */
	char ingest[ROBOT_HOST_MAX + ROBOT_PATH_MAX + 16]; /* http://host:port/path */
};
#define STM32_CONFIG_MAGIC 0x47464352u   /* "RCFG" */
#define STM32_CONFIG_VERSION 2           /* 2: transport, ingest */
extern struct stm32_config stm32_config;  /* in force */
void stm32_config_load(void);
int stm32_config_to_robot(const struct stm32_config *c, struct robot_config *cfg);
/* Console command line; output through hal_log-free console writes. */
void stm32_console_poll(void);

/* ---- esp_hal.c ---- */
/* AT+MQTTUSERCFG's scheme, a build option: 1 MQTT over TCP, 5 TLS with the
 * module's CA and client certificate (esp_at.h lists them all). */
#ifndef STM32_MQTT_SCHEME
#define STM32_MQTT_SCHEME 1
#endif
void stm32_esp_init(void);
uint64_t stm32_esp_deadline(void);
/* The one ESP-AT driver, for the HAL files over it. */
struct esp_at *stm32_esp(void);
/* Feed the module's bytes to the driver and run what is due. */
void stm32_esp_pump(void);

/* ---- system.c ---- */
void stm32_console_puts(const char *s);
void stm32_request_shutdown(void);

#endif /* STM32F4_BOARD_H */
