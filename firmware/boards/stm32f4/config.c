/*
 * Configuration: a struct in flash, filled at build time from CMake cache
 * variables (STM32_DEVICE_ID, STM32_BROKER, STM32_WIFI_SSID ...), which a
 * copy saved from the serial console overrides. The console copy lives in
 * the storage log under "cfg", so it survives reflashing the same layout.
 *
 * Console (USART2, 115200 8N1), one command per line:
 *   show                 the settings in force (passwords masked)
 *   set KEY VALUE        change one (id, broker, ssid, wifi_pass, user,
 *                        pass, transport, ingest, interval_ms, keepalive_s,
 *                        outbox, dht_pin, trig_pin, echo_pin, log_level)
 *   save                 store them; they apply at the next boot
 *   factory              forget the saved copy (back to the flash struct)
 *   reboot               reset the MCU
 *   shutdown             publish offline, disconnect, halt
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "hal_storage.h"

#ifndef STM32_DEVICE_ID
#define STM32_DEVICE_ID "robot_stm32"
#endif
#ifndef STM32_BROKER
#define STM32_BROKER "192.168.1.10:1883"
#endif
#ifndef STM32_WIFI_SSID
#define STM32_WIFI_SSID "robofleet"
#endif
#ifndef STM32_WIFI_PASS
#define STM32_WIFI_PASS ""
#endif
#ifndef STM32_MQTT_USER
#define STM32_MQTT_USER ""
#endif
#ifndef STM32_MQTT_PASS
#define STM32_MQTT_PASS ""
#endif
/* How readings leave: the virtual robot's --transport and --ingest. */
#ifndef STM32_TRANSPORT_HTTP
#define STM32_TRANSPORT_HTTP 0
#endif
#ifndef STM32_INGEST
#define STM32_INGEST "http://192.168.1.10:8080/api/sensors/data"
#endif
#ifndef STM32_PUBLISH_INTERVAL_MS
#define STM32_PUBLISH_INTERVAL_MS 10000
#endif
#ifndef STM32_OUTBOX
#define STM32_OUTBOX 600
#endif
#ifndef STM32_LOG_LEVEL
#define STM32_LOG_LEVEL 2
#endif

#define CFG_KEY "cfg"

/* At a fixed place after the vector table (see stm32f4.ld). */
__attribute__((section(".config"), used))
const struct stm32_config stm32_config_flash = {
	.magic = STM32_CONFIG_MAGIC,
	.version = STM32_CONFIG_VERSION,
	.size = sizeof(struct stm32_config),
	.device_id = STM32_DEVICE_ID,
	.broker = STM32_BROKER,
	.ssid = STM32_WIFI_SSID,
	.wifi_pass = STM32_WIFI_PASS,
	.mqtt_user = STM32_MQTT_USER,
	.mqtt_pass = STM32_MQTT_PASS,
	.publish_interval_ms = STM32_PUBLISH_INTERVAL_MS,
	.keepalive_s = 15,
	.outbox_capacity = STM32_OUTBOX,
	.dht_pin = 21,  /* PB5, Arduino D4 on a Nucleo */
	.trig_pin = 20, /* PB4, D5 */
	.echo_pin = 26, /* PB10, D6 (5 V tolerant) */
	.log_level = STM32_LOG_LEVEL,
	.transport = STM32_TRANSPORT_HTTP ? ROBOT_TRANSPORT_HTTP : ROBOT_TRANSPORT_MQTT,
	.ingest = STM32_INGEST,
};

struct stm32_config stm32_config;
static const char *config_origin = "flash";

static bool usable(const struct stm32_config *c, size_t len)
{
	return len == sizeof(*c) && c->magic == STM32_CONFIG_MAGIC &&
	       c->version == STM32_CONFIG_VERSION && c->size == sizeof(*c) &&
	       memchr(c->device_id, 0, sizeof(c->device_id)) &&
	       memchr(c->broker, 0, sizeof(c->broker)) && memchr(c->ssid, 0, sizeof(c->ssid)) &&
	       memchr(c->wifi_pass, 0, sizeof(c->wifi_pass)) &&
	       memchr(c->mqtt_user, 0, sizeof(c->mqtt_user)) &&
	       memchr(c->mqtt_pass, 0, sizeof(c->mqtt_pass)) &&
	       memchr(c->ingest, 0, sizeof(c->ingest)) && c->transport <= ROBOT_TRANSPORT_HTTP;
}

void stm32_config_load(void)
{
	struct stm32_config saved;
	size_t len = 0;

	stm32_config = stm32_config_flash;
	if (hal_storage_read(CFG_KEY, &saved, sizeof(saved), &len) == 0 && usable(&saved, len)) {
		stm32_config = saved;
		config_origin = "console (saved)";
	}
}

int stm32_config_to_robot(const struct stm32_config *c, struct robot_config *cfg)
{
	const char *host;
	size_t host_len;
	uint16_t port;

	if (robot_config_split_broker(c->broker, &host, &host_len, &port) < 0 ||
	    host_len >= sizeof(cfg->broker_host))
		return -EINVAL;
	/* The URL is checked even over MQTT: a switch to http must not find
	 * it broken. */
	if (robot_config_parse_ingest(c->ingest, cfg, NULL) < 0)
		return -EINVAL;
	cfg->transport = (enum robot_transport)c->transport;
	snprintf(cfg->device_id, sizeof(cfg->device_id), "%s", c->device_id);
	memcpy(cfg->broker_host, host, host_len);
	cfg->broker_host[host_len] = '\0';
	cfg->broker_port = port;
	snprintf(cfg->username, sizeof(cfg->username), "%s", c->mqtt_user);
	snprintf(cfg->password, sizeof(cfg->password), "%s", c->mqtt_pass);
	cfg->publish_interval_ms = c->publish_interval_ms;
	cfg->keepalive_s = c->keepalive_s;
	cfg->outbox_capacity = c->outbox_capacity;
	cfg->dht_pin = c->dht_pin;
	cfg->trig_pin = c->trig_pin;
	cfg->echo_pin = c->echo_pin;
	return 0;
}

/* ---- console ----------------------------------------------------------- */

static char line[200]; /* "set ingest " and the longest URL */
static size_t line_len;
static struct stm32_config edit;
static bool editing;

static void out(const char *s)
{
	stm32_console_puts(s);
}

static void show(const struct stm32_config *c)
{
	char buf[200];

	snprintf(buf, sizeof(buf), "config (%s%s):\r\n", config_origin,
		 editing ? ", unsaved edits shown" : "");
	out(buf);
	snprintf(buf, sizeof(buf), "  id %s\r\n  broker %s\r\n  ssid %s\r\n", c->device_id,
		 c->broker, c->ssid);
	out(buf);
	snprintf(buf, sizeof(buf), "  wifi_pass %s\r\n  user %s\r\n  pass %s\r\n",
		 c->wifi_pass[0] ? "****" : "(none)", c->mqtt_user, c->mqtt_pass[0] ? "****" : "(none)");
	out(buf);
	snprintf(buf, sizeof(buf), "  transport %s\r\n  ingest %s\r\n",
		 robot_transport_name((enum robot_transport)c->transport), c->ingest);
	out(buf);
	snprintf(buf, sizeof(buf), "  interval_ms %lu\r\n  keepalive_s %u\r\n  outbox %u\r\n",
		 (unsigned long)c->publish_interval_ms, c->keepalive_s, c->outbox_capacity);
	out(buf);
	snprintf(buf, sizeof(buf), "  dht_pin %u\r\n  trig_pin %u\r\n  echo_pin %u\r\n  log_level %u\r\n",
		 c->dht_pin, c->trig_pin, c->echo_pin, c->log_level);
	out(buf);
	/* Not settable here: it must match the certificates flashed into the
	 * ESP module, which is a build (and manufacturing) decision. */
	snprintf(buf, sizeof(buf), "  mqtt_scheme %u (%s, build option)\r\n", STM32_MQTT_SCHEME,
		 STM32_MQTT_SCHEME > 1 ? "TLS" : "TCP");
	out(buf);
}

static int set_str(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int set_num(const char *v, unsigned long max, unsigned long *n)
{
	char *end;

	*n = strtoul(v, &end, 10);
	return (*v && !*end && *n <= max) ? 0 : -EINVAL;
}

static int set(struct stm32_config *c, const char *k, const char *v)
{
	unsigned long n;

	if (!strcmp(k, "id"))
		return robot_config_id_valid(v) ? set_str(c->device_id, sizeof(c->device_id), v) : -EINVAL;
	if (!strcmp(k, "broker")) {
		const char *h;
		size_t hl;
		uint16_t p;

		if (robot_config_split_broker(v, &h, &hl, &p) < 0)
			return -EINVAL;
		return set_str(c->broker, sizeof(c->broker), v);
	}
	if (!strcmp(k, "transport") && (!strcmp(v, "mqtt") || !strcmp(v, "http"))) {
		c->transport = v[0] == 'h' ? ROBOT_TRANSPORT_HTTP : ROBOT_TRANSPORT_MQTT;
		return 0;
	}
	if (!strcmp(k, "ingest")) {
		struct robot_config scratch;

		if (robot_config_parse_ingest(v, &scratch, NULL) < 0)
			return -EINVAL;
		return set_str(c->ingest, sizeof(c->ingest), v);
	}
	if (!strcmp(k, "ssid"))
		return set_str(c->ssid, sizeof(c->ssid), v);
	if (!strcmp(k, "wifi_pass"))
		return set_str(c->wifi_pass, sizeof(c->wifi_pass), v);
	if (!strcmp(k, "user"))
		return set_str(c->mqtt_user, sizeof(c->mqtt_user), v);
	if (!strcmp(k, "pass"))
		return set_str(c->mqtt_pass, sizeof(c->mqtt_pass), v);
	if (!strcmp(k, "interval_ms") && !set_num(v, 86400000ul, &n) && n >= 100) {
		c->publish_interval_ms = (uint32_t)n;
		return 0;
	}
	if (!strcmp(k, "keepalive_s") && !set_num(v, 3600, &n) && n >= 5) {
		c->keepalive_s = (uint16_t)n;
		return 0;
	}
	if (!strcmp(k, "outbox") && !set_num(v, 4096, &n) && n >= 1) {
		c->outbox_capacity = (uint16_t)n;
		return 0;
	}
	if (!strcmp(k, "dht_pin") && !set_num(v, 79, &n)) {
		c->dht_pin = (uint8_t)n;
		return 0;
	}
	if (!strcmp(k, "trig_pin") && !set_num(v, 79, &n)) {
		c->trig_pin = (uint8_t)n;
		return 0;
	}
	if (!strcmp(k, "echo_pin") && !set_num(v, 79, &n)) {
		c->echo_pin = (uint8_t)n;
		return 0;
	}
	if (!strcmp(k, "log_level") && !set_num(v, 3, &n)) {
		c->log_level = (uint8_t)n;
		return 0;
	}
	return -EINVAL;
}

static void command(char *l)
{
	char *k, *v;

	if (!editing)
		edit = stm32_config;
	if (!strcmp(l, "show")) {
		show(&edit);
	} else if (!strncmp(l, "set ", 4)) {
		k = l + 4;
		v = strchr(k, ' ');
		if (!v) {
			out("usage: set KEY VALUE\r\n");
			return;
		}
		*v++ = '\0';
		if (set(&edit, k, v) < 0) {
			out("invalid key or value\r\n");
			return;
		}
		editing = true;
		out("ok (save to keep, applies at the next boot)\r\n");
	} else if (!strcmp(l, "save")) {
		struct robot_config rc;
		const char *why = NULL;

		robot_config_defaults(&rc);
		if (stm32_config_to_robot(&edit, &rc) < 0 || robot_config_validate(&rc, &why) < 0) {
			out("not saved: ");
			out(why ? why : "broker");
			out("\r\n");
			return;
		}
		out(hal_storage_write(CFG_KEY, &edit, sizeof(edit)) == 0 ? "saved\r\n"
									   : "save failed\r\n");
		editing = false;
	} else if (!strcmp(l, "factory")) {
		struct stm32_config blank;

		memset(&blank, 0, sizeof(blank)); /* fails usable(): flash struct next boot */
		out(hal_storage_write(CFG_KEY, &blank, sizeof(blank)) == 0 ? "ok\r\n" : "failed\r\n");
	} else if (!strcmp(l, "reboot")) {
		extern void stm32_reboot(void);
		stm32_reboot();
	} else if (!strcmp(l, "shutdown")) {
		stm32_request_shutdown();
		out("shutting down\r\n");
	} else if (l[0]) {
		out("commands: show, set KEY VALUE, save, factory, reboot, shutdown\r\n");
	}
}

void stm32_console_poll(void)
{
	char c;

	while (stm32_uart_read(STM32_UART_CONSOLE, &c, 1) == 1) {
		if (c == '\r' || c == '\n') {
			line[line_len] = '\0';
			if (line_len)
				command(line);
			line_len = 0;
		} else if (line_len < sizeof(line) - 1) {
			line[line_len++] = c;
		}
	}
}
