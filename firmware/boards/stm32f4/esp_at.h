/*
 * ESP-AT driver core: the AT line parser and the WiFi/MQTT state machine
 * for an ESP8266/ESP32 running Espressif's stock ESP-AT firmware (v2.2 or
 * later, MQTT AT commands). No hardware here: bytes come in through
 * esp_at_input(), go out through ops.write, time is passed in, so the same
 * code runs on the MCU and in host unit tests.
 *
 *  MCU                                   ESP-AT module
 *  AT+CWJAP="ssid","pwd"          ->
 *                                 <-     WIFI CONNECTED / WIFI GOT IP / OK
 *  AT+MQTTUSERCFG=0,<scheme>,"id","u","p",0,0,"" -> OK
 *  AT+MQTTCONNCFG=0,15,0,"will","offline",1,1    -> OK
 *  AT+MQTTCONN=0,"host",1883,0    ->     +MQTTCONNECTED:0,1,"host","1883","",0 / OK
 *  AT+MQTTPUBRAW=0,"t",42,1,0     ->     OK / >
 *  <42 raw bytes>                 ->     +MQTTPUB:OK
 *                                 <-     +MQTTSUBRECV:0,"t",5,start
 *                                 <-     +MQTTDISCONNECTED:0    (session lost)
 *                                 <-     busy p...   (command refused: again later)
 *                                 <-     ready       (the module rebooted)
 *
 * HTTP requests (hal_http) go through the same command slot with the HTTP
 * client commands: esp_at_http.h.
 *
 * One command is in flight at a time, each with a deadline; a deadline
 * that passes, a `ready` banner or a stream of garbage resynchronises with
 * a plain `AT`, and whoever had a session is told it is gone.
 */
#ifndef STM32F4_ESP_AT_H
#define STM32F4_ESP_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_at_http.h"
#include "hal_link.h"
#include "hal_mqtt.h"

#define ESP_AT_LINE_MAX 128     /* longest line we parse; longer ones are skipped */
#define ESP_AT_TOPIC_MAX 63
#define ESP_AT_PAYLOAD_MAX 320  /* one reading's JSON (ROBOT_PAYLOAD_MAX) */
#define ESP_AT_RX_PAYLOAD_MAX 128 /* a command message; the rest is dropped */
#define ESP_AT_PUB_SLOTS 6
#define ESP_AT_SUB_SLOTS 2
#define ESP_AT_CMD_MAX 300      /* ESP-AT takes at most 256 bytes per command */
#define ESP_AT_SECRET_MAX 64

/* Deadlines in microseconds, after the ESP-AT defaults. */
#define ESP_AT_TIMEOUT_US 2000000ull          /* plain commands */
#define ESP_AT_JOIN_TIMEOUT_US 20000000ull    /* AT+CWJAP */
#define ESP_AT_CONN_TIMEOUT_US 20000000ull    /* AT+MQTTCONN */
#define ESP_AT_PUB_TIMEOUT_US 10000000ull     /* data sent to +MQTTPUB:OK */
#define ESP_AT_SYNC_RETRY_US 500000ull        /* between `AT` probes */
#define ESP_AT_BUSY_RETRY_US 100000ull        /* after `busy p...` */
#define ESP_AT_BUSY_MAX 30                    /* busy replies before a resync */
#define ESP_AT_PUB_TRIES 3                    /* +MQTTPUB:FAIL before giving up */

/*
 * AT+MQTTUSERCFG's <scheme> (ESP-AT MQTT AT commands): 1 MQTT over TCP;
 * over TLS: 2 without verification, 3 verifying the broker's certificate
 * against the module's mqtt_ca, 4 presenting the module's client
 * certificate (mqtt_cert, mqtt_key), 5 both. The certificates live in the
 * module's flash, certificate and CA ID 0. The WebSocket schemes (6-10)
 * need a path and are not offered.
 */
#define ESP_AT_SCHEME_TCP 1
#define ESP_AT_SCHEME_TLS_MUTUAL 5
#define ESP_AT_SCHEME_MAX 5

struct esp_at_ops {
	/* Send @len bytes to the module. Must take them all (it may block). */
	void (*write)(void *ctx, const void *buf, size_t len);
	void *ctx;
};

enum esp_at_cmd {
	ESP_CMD_NONE,
	ESP_CMD_AT,
	ESP_CMD_ECHO_OFF,
	ESP_CMD_STATION,
	ESP_CMD_CLEAN,
	ESP_CMD_JOIN,
	ESP_CMD_JOIN_QUERY,
	ESP_CMD_USERCFG,
	ESP_CMD_CONNCFG,
	ESP_CMD_CONN,
	ESP_CMD_SUB,
	ESP_CMD_PUBRAW,
	ESP_CMD_SYSLOG,
	ESP_CMD_HTTPCLIENT,
	ESP_CMD_HTTPCPOST,
};

enum esp_at_mqtt_state {
	ESP_MQTT_IDLE,
	ESP_MQTT_CONNECTING,   /* USERCFG, CONNCFG, CONN under way */
	ESP_MQTT_CONNECTED,
};

struct esp_at_pub {
	char topic[ESP_AT_TOPIC_MAX + 1];
	uint8_t payload[ESP_AT_PAYLOAD_MAX];
	uint16_t len;
	uint16_t msg_id;
	uint8_t qos;
	bool retain;
	uint8_t tries;
};

struct esp_at_stats {
	uint32_t resyncs;        /* timeouts, resets and garbage that forced `AT` */
	uint32_t module_resets;  /* `ready` banners seen */
	uint32_t busy;           /* `busy p...` replies */
	uint32_t garbage_lines;  /* lines that matched nothing */
	uint32_t overlong_lines;
	uint32_t rx_truncated;   /* +MQTTSUBRECV payload bytes dropped */
	uint32_t pub_failed;
	uint32_t conn_failed;    /* connects the module refused or could not make */
};

struct esp_at {
	struct esp_at_ops ops;
	const struct hal_mqtt_callbacks *cb;
	void *cb_ctx;
	char ssid[33];
	char wifi_pass[ESP_AT_SECRET_MAX + 1];

	/* parser */
	char line[ESP_AT_LINE_MAX + 1];
	uint16_t line_len;
	bool line_overlong;
	bool in_payload;         /* reading +MQTTSUBRECV or HTTP body bytes */
	bool payload_http;       /* ... of +HTTPCLIENT / +HTTPCPOST */
	uint16_t payload_want;
	uint16_t payload_got;
	char rx_topic[ESP_AT_TOPIC_MAX + 1];
	uint8_t rx_payload[ESP_AT_RX_PAYLOAD_MAX];

	/* the command in flight */
	enum esp_at_cmd cmd;
	char cmd_buf[ESP_AT_CMD_MAX];
	uint16_t cmd_len;
	uint64_t cmd_deadline_us;
	uint64_t retry_at_us;     /* resend cmd_buf (busy) or next probe (sync) */
	bool cmd_resend;
	uint8_t busy_count;
	bool await_prompt;        /* PUBRAW, HTTPCPOST: OK seen, waiting for '>' */
	bool pub_sent;            /* PUBRAW, HTTPCPOST: data written, waiting for the result */

	/* module and link */
	bool synced;
	uint8_t sync_step;
	enum hal_link_state link;
	bool want_join;
	bool want_rssi;
	int rssi_dbm;
	bool has_rssi;

	/* MQTT session */
	enum esp_at_mqtt_state mqtt;
	uint8_t conn_step;        /* CLEAN, USERCFG, CONNCFG, CONN */
	uint8_t scheme;           /* ESP_AT_SCHEME_* */
	/* The connect step the module refused, until the next connect
	 * (ESP_CMD_NONE: none): read in on_disconnect() to say why. */
	enum esp_at_cmd conn_fail;
	bool want_clean;          /* hal_mqtt_disconnect(): AT+MQTTCLEAN */
	bool notify_closed;       /* on_disconnect(true) at the next poll */
	char client_id[ESP_AT_TOPIC_MAX + 1];
	char host[64];
	uint16_t port;
	uint16_t keepalive_s;
	bool clean_session;
	char user[ESP_AT_SECRET_MAX + 1];
	char pass[ESP_AT_SECRET_MAX + 1];
	char will_topic[ESP_AT_TOPIC_MAX + 1];
	char will_msg[32];
	uint8_t will_qos;
	bool will_retain;
	bool has_will;

	char sub_topic[ESP_AT_SUB_SLOTS][ESP_AT_TOPIC_MAX + 1];
	uint8_t sub_qos[ESP_AT_SUB_SLOTS];
	uint8_t n_sub;

	struct esp_at_pub pub[ESP_AT_PUB_SLOTS]; /* ring, oldest at pub_head */
	uint8_t pub_head;
	uint8_t n_pub;
	uint16_t next_msg_id;

	struct esp_at_http http;  /* esp_at_http.c */

	struct esp_at_stats stats;
};

/* Start from scratch: the module state is unknown until it answers `AT`. */
void esp_at_init(struct esp_at *at, const struct esp_at_ops *ops, const char *ssid,
		 const char *wifi_pass);

/* Bytes from the module's UART. Runs callbacks. */
void esp_at_input(struct esp_at *at, const void *buf, size_t len, uint64_t now_us);

/* Deadlines, retries, the next command. Runs callbacks. */
void esp_at_poll(struct esp_at *at, uint64_t now_us);

/* When esp_at_poll() wants to run again without input (UINT64_MAX: never). */
uint64_t esp_at_next_deadline(const struct esp_at *at);

/* hal_link over the module. */
int esp_at_link_connect(struct esp_at *at);
enum hal_link_state esp_at_link_state(const struct esp_at *at);
int esp_at_link_rssi(const struct esp_at *at, int *rssi_dbm);
int esp_at_link_disconnect(struct esp_at *at);

/* hal_mqtt over the module: the same contracts as hal_mqtt.h. */
int esp_at_mqtt_init(struct esp_at *at, const struct hal_mqtt_callbacks *cb, void *ctx);
/* The scheme of the next connects (default ESP_AT_SCHEME_TCP). -EINVAL
 * outside 1..ESP_AT_SCHEME_MAX. */
int esp_at_mqtt_set_scheme(struct esp_at *at, unsigned int scheme);
int esp_at_mqtt_connect(struct esp_at *at, const struct hal_mqtt_connect_opts *o);
int esp_at_mqtt_publish(struct esp_at *at, const char *topic, const void *payload,
			size_t len, int qos, bool retain, uint16_t *msg_id);
int esp_at_mqtt_subscribe(struct esp_at *at, const char *topic, int qos);
int esp_at_mqtt_disconnect(struct esp_at *at);
unsigned int esp_at_mqtt_pending(const struct esp_at *at);

/*
 * Escape @s for a quoted AT string argument (backslash before `"`, `,` and
 * `\`) into @out (capacity @cap). Returns the length or -EMSGSIZE.
 */
int esp_at_escape(const char *s, size_t n, char *out, size_t cap);

#endif /* STM32F4_ESP_AT_H */
