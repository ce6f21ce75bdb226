/* The robot's settings: identity, broker, timing, pins. Filled by the board. */
#ifndef ROBOT_CONFIG_H
#define ROBOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROBOT_ID_MAX 32   /* characters, [A-Za-z0-9_-] */
#define ROBOT_HOST_MAX 63
#define ROBOT_SECRET_MAX 63
#define ROBOT_PATH_MAX 95  /* the ingest path, bytes */

/* How readings leave the robot and commands reach it. */
enum robot_transport {
	ROBOT_TRANSPORT_MQTT,   /* publish to the broker, commands by subscription */
	ROBOT_TRANSPORT_HTTP,   /* POST to an ingest endpoint, commands in its answers */
};

enum topic_style {
	TOPIC_STYLE_JSON,       /* sensors/<id>/data, the contract */
	TOPIC_STYLE_PER_METRIC, /* sensors/<id>/temperature|humidity|distance */
	TOPIC_STYLE_BOTH,
};

struct robot_config {
	char device_id[ROBOT_ID_MAX + 1];
	char broker_host[ROBOT_HOST_MAX + 1];
	uint16_t broker_port;
	char username[ROBOT_SECRET_MAX + 1]; /* empty: no authentication */
	char password[ROBOT_SECRET_MAX + 1];
	uint16_t keepalive_s;

	enum robot_transport transport;
	char ingest_host[ROBOT_HOST_MAX + 1];  /* HTTP: the ingest endpoint */
	uint16_t ingest_port;
	char ingest_path[ROBOT_PATH_MAX + 1];  /* readings are POSTed here */
	uint32_t http_timeout_ms;     /* one whole exchange, connect included */
	uint32_t command_poll_ms;     /* ask for a command after this long without an exchange */

	uint32_t publish_interval_ms;
	uint32_t sample_interval_ms;  /* HC-SR04; the DHT22 adds its 2 s floor */
	uint8_t median_window;        /* readings per median, 1..ROBOT_MEDIAN_MAX */
	enum topic_style topic_style;

	uint16_t outbox_capacity;     /* readings kept for delivery, 1..4096 */

	uint8_t link_attempts_max;    /* association attempts before backing off */
	uint32_t link_attempt_timeout_ms;
	uint32_t backoff_base_ms;
	uint32_t backoff_cap_ms;

	unsigned int dht_pin;
	unsigned int trig_pin;
	unsigned int echo_pin;
};

#define ROBOT_MEDIAN_MAX 9
#define ROBOT_DHT22_MIN_PERIOD_MS 2000u
/* How late a climate read may run and keep its cadence: a later one starts
 * a new cadence, so reads are never closer than the period minus this. */
#define ROBOT_DHT22_LATE_SLACK_MS 50u

/* Fill @cfg with the defaults documented in docs/device.md. */
void robot_config_defaults(struct robot_config *cfg);

/*
 * Check @cfg. Returns 0, or -EINVAL with *@why naming the offending field.
 */
int robot_config_validate(const struct robot_config *cfg, const char **why);

/* "mqtt" or "http". */
const char *robot_transport_name(enum robot_transport t);

/* True if @id is a usable device id (also a safe MQTT topic level). */
bool robot_config_id_valid(const char *id);

/*
 * Split "host:port", "[v6addr]:port" or "host" (port 1883) without copying:
 * *@host points into @s for *@host_len bytes. Returns 0, or -EINVAL for an
 * empty or over-long host, a bare IPv6 address, or a port outside 1-65535.
 */
int robot_config_split_broker(const char *s, const char **host, size_t *host_len,
			      uint16_t *port);

/*
 * Set ingest_host, ingest_port and ingest_path from "http://HOST[:PORT][/PATH]"
 * (port 80, path /api/sensors/data when left out). Returns 0, or -EINVAL
 * with *@why saying what is wrong; @cfg is then unchanged.
 */
int robot_config_parse_ingest(const char *url, struct robot_config *cfg, const char **why);

#endif /* ROBOT_CONFIG_H */
