/*
 * hal_http over ESP-AT's HTTP client commands (ESP-AT v2.2 or later):
 *
 *  MCU                                      ESP-AT module
 *  AT+SYSLOG=1                       ->     OK   (once per module start: error codes)
 *  AT+HTTPCLIENT=2,0,"http://h:p/path",,,1  (GET)
 *                                    <-     +HTTPCLIENT:<n>,<n bytes of body>
 *                                    <-     OK
 *  AT+HTTPCPOST="http://h:p/path",<len>,1,"Content-Type: application/json"
 *                                    <-     OK / >
 *  <len bytes of body>               ->
 *                                    <-     +HTTPCPOST:<n>,<n bytes of body>
 *                                    <-     SEND OK
 *  an error status or no connection  <-     ERR CODE:0x010a71f7   (AT+SYSLOG=1 only)
 *                                    <-     ERROR / SEND FAIL
 *
 * The module reports no status on success (the request got a 1xx-3xx
 * answer): it is passed on as 200. On failure the ERR CODE line's low
 * bits 0x7xxx carry the status (0x7190 + n is 400 + n) or 0x7000, "no
 * connection" (-ECONNREFUSED). A failure without that line (a firmware
 * without AT+SYSLOG, or an AT-internal HTTP error) is -ECONNRESET: the
 * exchange broke and the reading is retried, never dropped on a guess.
 *
 * One request at a time. A request whose timeout passes is answered
 * -ETIMEDOUT at once; the module is still busy with it, so the next one
 * waits (queued) until the module's late answer has been read and
 * dropped.
 */
#ifndef STM32F4_ESP_AT_HTTP_H
#define STM32F4_ESP_AT_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "hal_http.h"

struct esp_at;

/* "http://" host ":" port path: ESP-AT takes 256 bytes per command line. */
#define ESP_AT_URL_MAX 200
#define ESP_AT_HTTP_TX_MAX 320        /* one reading's JSON (ROBOT_PAYLOAD_MAX) */
#define ESP_AT_CONTENT_TYPE_MAX 47
/* After a request's own timeout, how long the module may still take to
 * answer it (its HTTP client gives up after 5 s of silence) before it
 * counts as hung and is resynchronised. */
#define ESP_AT_HTTP_GRACE_US 15000000ull

enum esp_at_http_state {
	ESP_HTTP_IDLE,
	ESP_HTTP_QUEUED,   /* accepted, waiting for the module */
	ESP_HTTP_ACTIVE,   /* its command is in flight */
	ESP_HTTP_DONE,     /* ended; on_response runs at the next service */
};

struct esp_at_http_stats {
	uint32_t requests;
	uint32_t timeouts;
	uint32_t failed;          /* ended with a negative errno or a status >= 400 */
	uint32_t body_truncated;  /* body bytes beyond HAL_HTTP_BODY_MAX, dropped */
	uint32_t late_answers;    /* module answers to requests already ended */
};

struct esp_at_http {
	const struct hal_http_callbacks *cb;
	void *cb_ctx;
	enum esp_at_http_state state;
	bool post;
	char url[ESP_AT_URL_MAX + 1];
	char content_type[ESP_AT_CONTENT_TYPE_MAX + 1];
	uint8_t tx[ESP_AT_HTTP_TX_MAX];
	uint16_t tx_len;
	uint64_t deadline_us;
	bool syslog_set;          /* AT+SYSLOG=1 sent since the module's last start */
	bool link_lost;           /* WIFI DISCONNECT while the request was active */
	int err_code;             /* from ERR CODE: a status, a negative errno, or 0 */
	int status;               /* the outcome, once DONE */
	uint8_t rx[HAL_HTTP_BODY_MAX];
	uint16_t rx_len;
	struct esp_at_http_stats stats;
};

/* The driver core's hooks (esp_at.c). */
void esp_at_http_poll(struct esp_at *at, uint64_t now_us);
bool esp_at_http_wants_module(const struct esp_at *at);
void esp_at_http_issue(struct esp_at *at, uint64_t now_us);
void esp_at_http_finish(struct esp_at *at, bool ok);
void esp_at_http_on_prompt(struct esp_at *at);
void esp_at_http_err_code(struct esp_at *at, const char *hex);
void esp_at_http_body_byte(struct esp_at *at, char c);
void esp_at_http_module_lost(struct esp_at *at);
void esp_at_http_link_lost(struct esp_at *at);
uint64_t esp_at_http_deadline(const struct esp_at *at);

/* hal_http over the module: the same contracts as hal_http.h. */
int esp_at_http_init(struct esp_at *at, const struct hal_http_callbacks *cb, void *ctx);
int esp_at_http_request(struct esp_at *at, const struct hal_http_request *req, uint64_t now_us);
bool esp_at_http_busy(const struct esp_at *at);
void esp_at_http_abort(struct esp_at *at);
/* Run on_response for a request that ended. Returns 0, or the negative
 * errno it ended with. */
int esp_at_http_service(struct esp_at *at);

#endif /* STM32F4_ESP_AT_HTTP_H */
