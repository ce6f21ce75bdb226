/* robot.conf: "key = value" lines into struct robot_config and the board's settings. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "ingest_url.h"

#define CONFIG_FILE_MAX 65536
#define LINE_MAX_CHARS 1024

void sbc_settings_defaults(struct sbc_settings *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->sysfs_root, "/sys");
	strcpy(s->net_iface, "wlan0");
	strcpy(s->wireless_path, "/proc/net/wireless");
	strcpy(s->state_dir, "/var/lib/robofleet");
	strcpy(s->dht_iio_name, "dht11");
	strcpy(s->sonar_iio_name, "srf04");
	s->log_level = HAL_LOG_INFO;
}

static int fail(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "line %u: ", line);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int sbc_parse_duration_ms(const char *s, uint32_t *ms)
{
	static const struct { const char *suffix; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "", 1000 }, { "min", 60000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	char *end;
	double v;

	if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double r = v * units[i].ms + 0.5;

			if (r > 4294967295.0)
				return -EINVAL;
			*ms = (uint32_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static int parse_log_level(const char *v, enum hal_log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (enum hal_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The ingest URL's own message, longer than a fixed reason: it quotes the URL. */
static char ingest_why[SBC_PATH_MAX];

/* One setting. Returns 0, or -EINVAL with the reason in *@why. */
static int apply(const char *key, const char *v, struct robot_config *cfg,
		 struct sbc_settings *s, const char **why)
{
	unsigned long n;
	uint32_t ms;

#define STR(name, dst, what) \
	if (strcmp(key, name) == 0) \
		return copy_str(dst, sizeof(dst), v) < 0 ? (*why = what, -EINVAL) : 0
#define DUR(name, dst, what) \
	if (strcmp(key, name) == 0) \
		return sbc_parse_duration_ms(v, &ms) < 0 ? (*why = what, -EINVAL) : (dst = ms, 0)
#define UINT(name, dst, max, what) \
	if (strcmp(key, name) == 0) \
		return parse_uint(v, max, &n) < 0 ? (*why = what, -EINVAL) : (dst = (__typeof__(dst))n, 0)

	if (strcmp(key, "device_id") == 0) {
		if (!robot_config_id_valid(v)) {
			*why = "1 to 32 characters of [A-Za-z0-9_-]";
			return -EINVAL;
		}
		return copy_str(cfg->device_id, sizeof(cfg->device_id), v);
	}
	if (strcmp(key, "broker") == 0) {
		const char *host;
		size_t hlen;
		uint16_t port;

		if (robot_config_split_broker(v, &host, &hlen, &port) < 0 ||
		    hlen >= sizeof(cfg->broker_host)) {
			*why = "HOST[:PORT], [IPv6]:PORT; port 1-65535, host up to 63 characters";
			return -EINVAL;
		}
		memcpy(cfg->broker_host, host, hlen);
		cfg->broker_host[hlen] = '\0';
		cfg->broker_port = port;
		return 0;
	}
	if (strcmp(key, "transport") == 0) {
		if (strcmp(v, "mqtt") == 0)
			cfg->transport = ROBOT_TRANSPORT_MQTT;
		else if (strcmp(v, "http") == 0)
			cfg->transport = ROBOT_TRANSPORT_HTTP;
		else
			return *why = "mqtt or http", -EINVAL;
		return 0;
	}
	if (strcmp(key, "ingest") == 0)
		return posix_parse_ingest_url(v, cfg, ingest_why, sizeof(ingest_why)) < 0 ?
			(*why = ingest_why, -EINVAL) : 0;
	DUR("http_timeout", cfg->http_timeout_ms, "a duration, 100ms to 10min");
	DUR("command_poll", cfg->command_poll_ms, "a duration, 100ms to 24h");
	STR("username", cfg->username, "up to 63 characters");
	STR("password", cfg->password, "up to 63 characters");
	if (strcmp(key, "keepalive") == 0) {
		if (sbc_parse_duration_ms(v, &ms) < 0 || ms % 1000 || ms < 5000 || ms > 65535000u) {
			*why = "whole seconds, 5s to 65535s";
			return -EINVAL;
		}
		cfg->keepalive_s = (uint16_t)(ms / 1000);
		return 0;
	}
	DUR("publish_interval", cfg->publish_interval_ms, "a duration such as 10s or 500ms");
	DUR("sample_interval", cfg->sample_interval_ms, "a duration, 0 to follow publish_interval");
	UINT("median_window", cfg->median_window, ROBOT_MEDIAN_MAX, "a whole number 1 to 9");
	if (strcmp(key, "topic_style") == 0) {
		if (strcmp(v, "json") == 0)
			cfg->topic_style = TOPIC_STYLE_JSON;
		else if (strcmp(v, "per-metric") == 0)
			cfg->topic_style = TOPIC_STYLE_PER_METRIC;
		else if (strcmp(v, "both") == 0)
			cfg->topic_style = TOPIC_STYLE_BOTH;
		else
			return *why = "json, per-metric or both", -EINVAL;
		return 0;
	}
	UINT("link_attempts", cfg->link_attempts_max, 255, "a whole number 1 to 255");
	DUR("link_attempt_timeout", cfg->link_attempt_timeout_ms, "a duration such as 5s");
	DUR("backoff_base", cfg->backoff_base_ms, "a duration such as 500ms");
	DUR("backoff_cap", cfg->backoff_cap_ms, "a duration such as 60s");
	UINT("dht_gpio", cfg->dht_pin, 1023, "a BCM GPIO number");
	UINT("trig_gpio", cfg->trig_pin, 1023, "a BCM GPIO number");
	UINT("echo_gpio", cfg->echo_pin, 1023, "a BCM GPIO number");
	if (strcmp(key, "log_level") == 0)
		return parse_log_level(v, &s->log_level) < 0 ?
			(*why = "error, warn, info or debug", -EINVAL) : 0;
	STR("sysfs_root", s->sysfs_root, "a path shorter than 512 characters");
	STR("net_iface", s->net_iface, "an interface name shorter than 32 characters");
	STR("wireless_path", s->wireless_path, "a path shorter than 512 characters");
	STR("state_dir", s->state_dir, "a path shorter than 512 characters");
	STR("dht_iio_name", s->dht_iio_name, "a name shorter than 32 characters");
	STR("sonar_iio_name", s->sonar_iio_name, "a name shorter than 32 characters");
	STR("tls_ca_file", s->tls_ca_file, "a path shorter than 512 characters");
	STR("tls_cert_file", s->tls_cert_file, "a path shorter than 512 characters");
	STR("tls_key_file", s->tls_key_file, "a path shorter than 512 characters");
#undef STR
#undef DUR
#undef UINT
	*why = NULL;
	return -ENOENT;
}

static char *trim(char *b, char *e)
{
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return b;
}

int sbc_config_parse(const char *text, struct robot_config *cfg, struct sbc_settings *s,
		     char *err, size_t errlen)
{
	unsigned int lineno = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[LINE_MAX_CHARS + 1];
		char *eq, *key, *val;
		const char *why = NULL;
		int rc;

		lineno++;
		if (len > LINE_MAX_CHARS)
			return fail(err, errlen, lineno, "longer than %d characters", LINE_MAX_CHARS);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);

		key = trim(line, line + len);
		if (*key == '\0' || *key == '#')
			continue;
		if (!(eq = strchr(key, '=')))
			return fail(err, errlen, lineno, "expected key = value");
		val = trim(eq + 1, key + strlen(key));
		key = trim(key, eq);
		/* A value may be quoted to keep its spaces or an '=' at the edges. */
		size_t vlen = strlen(val);
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val[vlen - 1] = '\0';
			val++;
		}
		rc = apply(key, val, cfg, s, &why);
		if (rc == -ENOENT)
			return fail(err, errlen, lineno, "unknown key '%s'", key);
		if (rc < 0)
			return fail(err, errlen, lineno, "%s: %s", key, why ? why : "invalid value");
	}
	if ((s->tls_cert_file[0] != '\0') != (s->tls_key_file[0] != '\0'))
		return fail(err, errlen, lineno, "tls_cert_file and tls_key_file go together");
	if (s->tls_cert_file[0] && !s->tls_ca_file[0])
		return fail(err, errlen, lineno, "a client certificate needs tls_ca_file too");
	if (cfg->password[0] && !cfg->username[0])
		return fail(err, errlen, lineno, "password without username");
	return 0;
}

int sbc_config_load(const char *path, struct robot_config *cfg, struct sbc_settings *s,
		    char *err, size_t errlen)
{
	char *text = malloc(CONFIG_FILE_MAX + 1);
	size_t used = 0;
	ssize_t n;
	int fd, rc = 0;

	if (!text)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = read(fd, text + used, CONFIG_FILE_MAX - used)) > 0)
		used += (size_t)n;
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (used == CONFIG_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
	}
	close(fd);
	if (rc == 0) {
		char msg[400];

		text[used] = '\0';
		if (memchr(text, '\0', used)) {
			rc = -EINVAL;
			snprintf(err, errlen, "%s: not a text file", path);
		} else if ((rc = sbc_config_parse(text, cfg, s, msg, sizeof(msg))) < 0) {
			snprintf(err, errlen, "%s: %s", path, msg);
		}
	}
out:
	free(text);
	return rc;
}
