/*
 * What the ESP-AT driver's files share and nobody else uses: building a
 * command line and sending it as the command in flight. esp_at.c runs the
 * module and MQTT, esp_at_http.c the HTTP client commands.
 */
#ifndef STM32F4_ESP_AT_INTERNAL_H
#define STM32F4_ESP_AT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_at.h"

/* How a command ended, as far as the line parser can tell. */
enum esp_at_result {
	RES_OK,        /* OK, SEND OK, ALREADY SUBSCRIBE */
	RES_ERROR,     /* ERROR, FAIL, SEND FAIL */
	RES_PUB_OK,
	RES_PUB_FAIL,
};

/* A command line under construction in a fixed buffer. */
struct esp_at_builder {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;   /* something did not fit: the command is not sent */
};

bool esp_at_starts(const char *s, const char *prefix);
void esp_at_b_raw(struct esp_at_builder *b, const char *s);
/* A quoted AT string argument, escaped (esp_at_escape). */
void esp_at_b_quoted(struct esp_at_builder *b, const char *s, size_t n);
void esp_at_b_uint(struct esp_at_builder *b, unsigned long v);

/* Send the command built in at->cmd_buf (without CR LF) as @cmd, answered
 * within @timeout_us. One that does not fit ends at once in RES_ERROR. */
void esp_at_issue(struct esp_at *at, enum esp_at_cmd cmd, struct esp_at_builder *b,
		  uint64_t timeout_us, uint64_t now_us);

#endif /* STM32F4_ESP_AT_INTERNAL_H */
