/* Defaults and validation of struct robot_config. */
#include <errno.h>
#include <string.h>

#include "robot_config.h"

void robot_config_defaults(struct robot_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->device_id, "robot_001");
	strcpy(cfg->broker_host, "127.0.0.1");
	cfg->broker_port = 1883;
	cfg->keepalive_s = 15;
	cfg->transport = ROBOT_TRANSPORT_MQTT;
	strcpy(cfg->ingest_host, "127.0.0.1");
	cfg->ingest_port = 8080;
	strcpy(cfg->ingest_path, "/api/sensors/data");
	cfg->http_timeout_ms = 5000;
	cfg->command_poll_ms = 5000;
	cfg->publish_interval_ms = 10000; /* the classic sketch's cadence */
	cfg->sample_interval_ms = 0;      /* 0: follow publish_interval_ms */
	cfg->median_window = 3;
	cfg->topic_style = TOPIC_STYLE_JSON;
	cfg->outbox_capacity = 600;
	cfg->link_attempts_max = 20;
	cfg->link_attempt_timeout_ms = 5000;
	cfg->backoff_base_ms = 500;
	cfg->backoff_cap_ms = 15000;
	cfg->dht_pin = 4;
	cfg->trig_pin = 5;
	cfg->echo_pin = 6;
}

const char *robot_transport_name(enum robot_transport t)
{
	return t == ROBOT_TRANSPORT_HTTP ? "http" : "mqtt";
}

/* A path that goes into a request line as it is: '/', then no space or control byte. */
static bool path_valid(const char *p)
{
	if (p[0] != '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* The HTTP settings, checked only when HTTP is the transport. */
static const char *http_invalid(const struct robot_config *cfg)
{
	if (cfg->transport > ROBOT_TRANSPORT_HTTP)
		return "transport: mqtt or http";
	if (cfg->transport != ROBOT_TRANSPORT_HTTP)
		return NULL;
	if (cfg->topic_style != TOPIC_STYLE_JSON)
		return "topic_style: only json over http (a reading is one JSON body)";
	if (cfg->ingest_host[0] == '\0')
		return "ingest_host: empty";
	if (cfg->ingest_port == 0)
		return "ingest_port: must be 1-65535";
	if (!path_valid(cfg->ingest_path))
		return "ingest_path: starts with '/', no spaces or control characters";
	if (cfg->http_timeout_ms < 100 || cfg->http_timeout_ms > 600000u)
		return "http_timeout: 100 ms .. 10 min";
	if (cfg->command_poll_ms < 100 || cfg->command_poll_ms > 86400000u)
		return "command_poll: 100 ms .. 24 h";
	return NULL;
}

bool robot_config_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > ROBOT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

int robot_config_validate(const struct robot_config *cfg, const char **why)
{
	const char *bad = NULL;

	if (!robot_config_id_valid(cfg->device_id))
		bad = "device_id: 1-32 characters of [A-Za-z0-9_-]";
	else if (cfg->broker_host[0] == '\0')
		bad = "broker_host: empty";
	else if (cfg->broker_port == 0)
		bad = "broker_port: must be 1-65535";
	else if (cfg->keepalive_s < 5)
		bad = "keepalive: at least 5 s (below that, pings would crowd the link)";
	else if (cfg->publish_interval_ms < 100 || cfg->publish_interval_ms > 86400000u)
		bad = "publish_interval: 100 ms .. 24 h";
	else if (cfg->sample_interval_ms != 0 &&
		 (cfg->sample_interval_ms < 60 || cfg->sample_interval_ms > 86400000u))
		bad = "sample_interval: 60 ms .. 24 h (HC-SR04 needs 60 ms between pings)";
	else if (cfg->median_window < 1 || cfg->median_window > ROBOT_MEDIAN_MAX)
		bad = "median_window: 1..9";
	else if (cfg->topic_style > TOPIC_STYLE_BOTH)
		bad = "topic_style: json, per-metric or both";
	else if (cfg->outbox_capacity < 1 || cfg->outbox_capacity > 4096)
		bad = "outbox_capacity: 1..4096";
	else if (cfg->link_attempts_max == 0)
		bad = "link_attempts: at least 1";
	else if (cfg->link_attempt_timeout_ms < 10)
		bad = "link_attempt_timeout: at least 10 ms";
	else if (cfg->backoff_base_ms == 0 || cfg->backoff_cap_ms < cfg->backoff_base_ms)
		bad = "backoff: base > 0 and cap >= base";
	else if (cfg->dht_pin == cfg->trig_pin || cfg->dht_pin == cfg->echo_pin ||
		 cfg->trig_pin == cfg->echo_pin)
		bad = "pins: dht, trig and echo must differ";
	else
		bad = http_invalid(cfg);

	if (why)
		*why = bad;
	return bad ? -EINVAL : 0;
}

int robot_config_split_broker(const char *s, const char **host, size_t *host_len, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hlen;
	long p = 1883;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') { /* [ipv6]:port */
		const char *close = strchr(s, ']');

		if (!close)
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return -EINVAL;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return -EINVAL; /* a bare IPv6 address needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (colon) {
		const char *q = colon + 1;

		p = 0;
		if (*q == '\0' || strlen(q) > 5)
			return -EINVAL;
		for (; *q; q++) {
			if (*q < '0' || *q > '9')
				return -EINVAL;
			p = p * 10 + (*q - '0');
		}
		if (p < 1 || p > 65535)
			return -EINVAL;
	}
	if (hlen == 0 || hlen > 253)
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)h[i] <= ' ' || h[i] == '/')
			return -EINVAL;
	*host = h;
	*host_len = hlen;
	*port = (uint16_t)p;
	return 0;
}

_Static_assert(ROBOT_HOST_MAX == 63 && ROBOT_PATH_MAX == 95, "the limits the messages name");

int robot_config_parse_ingest(const char *url, struct robot_config *cfg, const char **why)
{
	static const char scheme[] = "http://";
	static const char default_path[] = "/api/sensors/data";
	const char *authority, *slash, *h, *path;
	char hostport[ROBOT_HOST_MAX + 16];
	size_t alen, hlen;
	uint16_t p;
	const char *bad = NULL;

	if (strncmp(url, "https://", 8) == 0)
		bad = "https is not supported (the device speaks plain HTTP; put a TLS proxy "
		      "in front of the endpoint)";
	else if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		bad = "must start with http://";
	if (bad)
		goto out;
	authority = url + sizeof(scheme) - 1;
	slash = strchr(authority, '/');
	alen = slash ? (size_t)(slash - authority) : strlen(authority);
	if (alen == 0)
		bad = "no host after http://";
	else if (memchr(authority, '@', alen))
		bad = "user information (user@host) is not supported";
	else if (alen >= sizeof(hostport))
		bad = "the host is longer than 63 characters";
	if (bad)
		goto out;
	memcpy(hostport, authority, alen);
	hostport[alen] = '\0';
	/* The broker's HOST[:PORT] rules, with HTTP's own default port. */
	if (robot_config_split_broker(hostport, &h, &hlen, &p) < 0) {
		bad = "the authority is not HOST[:PORT] (port 1-65535, IPv6 in brackets)";
		goto out;
	}
	if (hlen > ROBOT_HOST_MAX) {
		bad = "the host is longer than 63 characters";
		goto out;
	}
	if (!strchr(hostport[0] == '[' ? strchr(hostport, ']') : hostport, ':'))
		p = 80;
	path = slash && slash[1] ? slash : default_path;
	if (strlen(path) > ROBOT_PATH_MAX) {
		bad = "the path is longer than 95 bytes";
		goto out;
	}
	for (const char *q = path; *q; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f || *q == '#') {
			bad = "the path has a space, a control character, a fragment or a "
			      "non-ASCII byte";
			goto out;
		}
	memcpy(cfg->ingest_host, h, hlen);
	cfg->ingest_host[hlen] = '\0';
	cfg->ingest_port = p;
	memcpy(cfg->ingest_path, path, strlen(path) + 1);
out:
	if (why)
		*why = bad;
	return bad ? -EINVAL : 0;
}
