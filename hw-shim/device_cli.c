/* robofleet-device option parsing: strict, with errors that name the option. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_cli.h"
#include "ingest_url.h"
#include "secret_file.h"

enum {
	OPT_ID = 256, OPT_BROKER, OPT_INTERVAL, OPT_SAMPLE_INTERVAL, OPT_TEMPERATURE,
	OPT_HUMIDITY, OPT_DISTANCE, OPT_NOISE, OPT_SEED, OPT_KEEPALIVE, OPT_TOPIC_STYLE,
	OPT_STATE_DIR, OPT_USERNAME, OPT_DHT_FAULT, OPT_SONAR_FAULT, OPT_LOG_LEVEL,
	OPT_MEDIAN, OPT_LINK_DELAY, OPT_BACKOFF_BASE, OPT_BACKOFF_CAP, OPT_VERSION,
	OPT_WORLD, OPT_SLOT, OPT_LOG_LIMIT, OPT_OUTBOX, OPT_WIFI_SSID, OPT_WIFI_PASSWORD,
	OPT_DNS, OPT_DNS_DEFAULT, OPT_ROOM, OPT_READING_TOPIC, OPT_CA, OPT_CERT, OPT_KEY,
	OPT_PASSWORD_FILE, OPT_FAULT_CREDENTIALS, OPT_TRANSPORT, OPT_INGEST,
};

static const struct option long_options[] = {
	{ "id", required_argument, NULL, OPT_ID },
	{ "broker", required_argument, NULL, OPT_BROKER },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "sample-interval", required_argument, NULL, OPT_SAMPLE_INTERVAL },
	{ "temperature", required_argument, NULL, OPT_TEMPERATURE },
	{ "humidity", required_argument, NULL, OPT_HUMIDITY },
	{ "distance", required_argument, NULL, OPT_DISTANCE },
	{ "noise", required_argument, NULL, OPT_NOISE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "topic-style", required_argument, NULL, OPT_TOPIC_STYLE },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "username", required_argument, NULL, OPT_USERNAME },
	{ "dht-fault", required_argument, NULL, OPT_DHT_FAULT },
	{ "sonar-fault", required_argument, NULL, OPT_SONAR_FAULT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "median", required_argument, NULL, OPT_MEDIAN },
	{ "outbox", required_argument, NULL, OPT_OUTBOX },
	{ "link-delay", required_argument, NULL, OPT_LINK_DELAY },
	{ "backoff-base", required_argument, NULL, OPT_BACKOFF_BASE },
	{ "backoff-cap", required_argument, NULL, OPT_BACKOFF_CAP },
	{ "log-limit", required_argument, NULL, OPT_LOG_LIMIT },
	{ "world", required_argument, NULL, OPT_WORLD },
	{ "slot", required_argument, NULL, OPT_SLOT },
	{ "wifi-ssid", required_argument, NULL, OPT_WIFI_SSID },
	{ "wifi-password", required_argument, NULL, OPT_WIFI_PASSWORD },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "dns-default", required_argument, NULL, OPT_DNS_DEFAULT },
	{ "room", required_argument, NULL, OPT_ROOM },
	{ "reading-topic", required_argument, NULL, OPT_READING_TOPIC },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "fault-credentials", required_argument, NULL, OPT_FAULT_CREDENTIALS },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "ingest", required_argument, NULL, OPT_INGEST },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void device_print_usage(FILE *out)
{
	fputs("usage: robofleet-device [options]\n"
	      "\n"
	      "One virtual robot: the robofleet firmware on a simulated board.\n"
	      "\n"
	      "  --id ID                 device id, [A-Za-z0-9_-]{1,32} (robot_001)\n"
	      "  --broker HOST[:PORT]    MQTT broker (127.0.0.1:1883)\n"
	      "  --transport T           mqtt | http: how readings leave (mqtt)\n"
	      "  --ingest URL            HTTP: http://HOST[:PORT][/PATH] readings are POSTed to\n"
	      "                          (http://127.0.0.1:8080/api/sensors/data)\n"
	      "  --interval DUR          publish interval (10s)\n"
	      "  --sample-interval DUR   HC-SR04 sampling; DHT22 at most every 2 s (= interval)\n"
	      "  --median N              median filter window, 1..9 readings (3)\n"
	      "  --outbox N              readings kept for delivery while offline, 1..4096 (600)\n"
	      "  --temperature C         ambient temperature, -40..80 (22.0)\n"
	      "  --humidity PCT          relative humidity, 0..100 (45.0)\n"
	      "  --distance CM           distance to the obstacle (100.0)\n"
	      "  --noise SD              sensor noise, standard deviation (0)\n"
	      "  --seed N                random seed (derived from the id)\n"
	      "  --keepalive DUR         MQTT keepalive (15s)\n"
	      "  --topic-style STYLE     json | per-metric | both (json)\n"
	      "  --username NAME         MQTT user; the password comes from $ROBOFLEET_PASSWORD\n"
	      "                          or --password-file\n"
	      "  --password-file FILE    the MQTT password, the file's first line (mode 0600);\n"
	      "                          without --username the user is the device id\n"
	      "  --ca FILE               TLS: the CA that signed the broker's certificate\n"
	      "  --cert FILE             TLS: this device's certificate (with --key and --ca)\n"
	      "  --key FILE              TLS: its private key\n"
	      "  --fault-credentials DIR what the security faults present instead of the\n"
	      "                          device's own: DIR/expired.crt .key, DIR/foreign.crt .key\n"
	      "  --state-dir DIR         where the emulated flash lives ($TMPDIR/robofleet-state)\n"
	      "  --link-delay DUR        WiFi association time (50ms)\n"
	      "  --backoff-base DUR      first reconnect delay ceiling (500ms)\n"
	      "  --backoff-cap DUR       largest reconnect delay (15s)\n"
	      "  --dht-fault F           none | no-response | checksum | stretched | truncated\n"
	      "  --sonar-fault F         none | no-echo | stuck-high | silent\n"
	      "  --log-level L           error | warn | info | debug (info)\n"
	      "  --log-limit SIZE        stop logging after SIZE bytes: 64k, 1M (unlimited)\n"
	      "  --world FILE            run's world file: environment in, state out\n"
	      "  --slot N                this device's slot in the world (0)\n"
	      "  --wifi-ssid S           the access point's SSID, 1-32 bytes (any SSID joins)\n"
	      "  --wifi-password P       its password, 0-63 characters (\"\": open); with --wifi-ssid\n"
	      "  --dns NAME=TARGET       where a name leads: broker | nxdomain | HOST[:PORT];\n"
	      "                          repeatable, up to 32 names\n"
	      "  --dns-default D         names without --dns: broker | nxdomain (broker)\n"
	      "  --room NAME             this device's room, for a firmware's {room} topics\n"
	      "  --reading-topic T       a topic template its readings go to, such as\n"
	      "                          sensors/{room}/{metric}; repeatable, up to 4\n"
	      "  -h, --help              this text\n"
	      "      --version           print the version\n"
	      "\n"
	      "Durations: 250ms, 1s, 1.5s, 2m, 1h (a bare number is seconds).\n"
	      "In the paths of --ca, --cert, --key and --password-file, {id} is the device id.\n"
	      "The --wifi and --dns options are the network a sketch's program sees; this\n"
	      "built-in robot joins any access point and connects to --broker directly.\n"
	      "SIGTERM or SIGINT: publish `offline`, disconnect, exit 0.\n",
	      out);
}

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int device_parse_duration_ms(const char *s, uint32_t *ms)
{
	char *end;
	double v, scale;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		scale = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		scale = 60000;
	else if (strcmp(end, "h") == 0)
		scale = 3600000;
	else
		return -EINVAL;
	v *= scale;
	if (v > 4294967295.0)
		return -EINVAL;
	*ms = (uint32_t)llround(v);
	return 0;
}

int device_parse_broker(const char *s, char *host, size_t host_len, uint16_t *port)
{
	const char *h;
	size_t hlen;
	uint16_t p;

	if (robot_config_split_broker(s, &h, &hlen, &p) < 0 || hlen >= host_len)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = p;
	return 0;
}

static int parse_number(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int pick(const char *s, const char *const names[], int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static uint64_t seed_from_id(const char *id)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 1099511628211ull;
	return h;
}

static void default_state_dir(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/robofleet-state", tmp && *tmp ? tmp : "/tmp");
}

/* Replace each {id} in @path (DEVICE_PATH_MAX bytes) with @id. */
static int expand_id(char *path, const char *id)
{
	char out[DEVICE_PATH_MAX];
	size_t n = 0;

	for (const char *p = path; *p; ) {
		const char *piece = p;
		size_t len = 1;

		if (strncmp(p, "{id}", 4) == 0) {
			piece = id;
			len = strlen(id);
			p += 4;
		} else {
			p++;
		}
		if (n + len >= sizeof(out))
			return -ENAMETOOLONG;
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
	memcpy(path, out, n + 1);
	return 0;
}

/* The TLS files and the password file, once the id is known. */
static int credentials_finish(struct device_options *o, char *err, size_t err_len)
{
	char *const paths[] = { o->tls_ca, o->tls_cert, o->tls_key, o->password_file };
	static const char *const names[] = { "--ca", "--cert", "--key", "--password-file" };
	char why[256];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		FILE *f;

		if (!paths[i][0])
			continue;
		if (expand_id(paths[i], o->cfg.device_id) < 0)
			return fail(err, err_len, "%s: the path is too long with the id in it",
				    names[i]);
		/* Unreadable now is unreadable at every connect: say so once, here. */
		if (!(f = fopen(paths[i], "r")))
			return fail(err, err_len, "%s: %s: %s", names[i], paths[i], strerror(errno));
		fclose(f);
	}
	if ((o->tls_cert[0] != '\0') != (o->tls_key[0] != '\0'))
		return fail(err, err_len, "--cert and --key go together");
	if (o->tls_cert[0] && !o->tls_ca[0])
		return fail(err, err_len, "--cert needs --ca (the CA that signed the broker's "
			    "certificate)");
	if (o->password_file[0]) {
		if (secret_file_read(o->password_file, o->cfg.password, sizeof(o->cfg.password),
				     why, sizeof(why)) < 0)
			return fail(err, err_len, "--password-file: %s", why);
		if (!o->cfg.username[0])
			snprintf(o->cfg.username, sizeof(o->cfg.username), "%s", o->cfg.device_id);
	}
	return 0;
}

int device_options_parse(int argc, char **argv, struct device_options *o,
			 char *err, size_t err_len)
{
	static const char *const styles[] = { "json", "per-metric", "both" };
	static const char *const dht_faults[] = { "none", "no-response", "checksum",
						  "stretched", "truncated" };
	static const char *const sonar_faults[] = { "none", "no-echo", "stuck-high", "silent" };
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	bool seed_set = false, ssid_set = false, wifi_password_set = false;
	const char *password = getenv("ROBOFLEET_PASSWORD");
	int c, idx = 0;

	memset(o, 0, sizeof(*o));
	robot_config_defaults(&o->cfg);
	o->cfg.publish_interval_ms = 10000;
	o->env.temperature_c = 22.0;
	o->env.humidity_pct = 45.0;
	o->env.distance_cm = 100.0;
	o->log_level = HAL_LOG_INFO;
	o->link_delay_ms = 50;
	default_state_dir(o->state_dir, sizeof(o->state_dir));
	shim_net_defaults(&o->net);

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_options, &idx)) != -1) {
		const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		uint32_t ms = 0;
		double v = 0;
		int i;

		switch (c) {
		case OPT_ID:
			if (!robot_config_id_valid(optarg))
				return fail(err, err_len, "--id: '%s' must be 1-32 characters of "
					    "[A-Za-z0-9_-] (it becomes an MQTT topic level)", optarg);
			snprintf(o->cfg.device_id, sizeof(o->cfg.device_id), "%s", optarg);
			break;
		case OPT_BROKER:
			if (device_parse_broker(optarg, o->cfg.broker_host,
						sizeof(o->cfg.broker_host), &o->cfg.broker_port) < 0)
				return fail(err, err_len, "--broker: '%s' is not HOST[:PORT] "
					    "with a port of 1-65535", optarg);
			break;
		case OPT_INTERVAL:
		case OPT_SAMPLE_INTERVAL:
		case OPT_KEEPALIVE:
		case OPT_LINK_DELAY:
		case OPT_BACKOFF_BASE:
		case OPT_BACKOFF_CAP:
			if (device_parse_duration_ms(optarg, &ms) < 0)
				/* Not @name: with "--opt value" that is the value. */
				return fail(err, err_len, "--%s: '%s' is not a duration "
					    "(e.g. 500ms, 1s, 2m)", long_options[idx].name, optarg);
			if (c == OPT_INTERVAL)
				o->cfg.publish_interval_ms = ms;
			else if (c == OPT_SAMPLE_INTERVAL)
				o->cfg.sample_interval_ms = ms;
			else if (c == OPT_KEEPALIVE) {
				if (ms < 5000 || ms > 65535000u || ms % 1000)
					return fail(err, err_len, "--keepalive: whole seconds, "
						    "5s..65535s");
				o->cfg.keepalive_s = (uint16_t)(ms / 1000);
			} else if (c == OPT_LINK_DELAY)
				o->link_delay_ms = ms;
			else if (c == OPT_BACKOFF_BASE)
				o->cfg.backoff_base_ms = ms;
			else
				o->cfg.backoff_cap_ms = ms;
			break;
		case OPT_TEMPERATURE:
			if (parse_number(optarg, -40, 80, &v) < 0)
				return fail(err, err_len, "--temperature: '%s' is not a number "
					    "in -40..80 (DHT22 range, degC)", optarg);
			o->env.temperature_c = v;
			break;
		case OPT_HUMIDITY:
			if (parse_number(optarg, 0, 100, &v) < 0)
				return fail(err, err_len, "--humidity: '%s' is not a number "
					    "in 0..100 (%%RH)", optarg);
			o->env.humidity_pct = v;
			break;
		case OPT_DISTANCE:
			if (parse_number(optarg, 0, 10000, &v) < 0)
				return fail(err, err_len, "--distance: '%s' is not a number "
					    "in 0..10000 (cm)", optarg);
			o->env.distance_cm = v;
			break;
		case OPT_NOISE:
			if (parse_number(optarg, 0, 100, &v) < 0)
				return fail(err, err_len, "--noise: '%s' is not a number in 0..100",
					    optarg);
			o->env.noise = v;
			break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			unsigned long long s = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return fail(err, err_len, "--seed: '%s' is not an unsigned integer",
					    optarg);
			o->seed = s;
			seed_set = true;
			break;
		}
		case OPT_MEDIAN:
			if (parse_number(optarg, 1, ROBOT_MEDIAN_MAX, &v) < 0 || v != floor(v))
				return fail(err, err_len, "--median: '%s' is not a whole number "
					    "in 1..9", optarg);
			o->cfg.median_window = (uint8_t)v;
			break;
		case OPT_OUTBOX:
			if (parse_number(optarg, 1, 4096, &v) < 0 || v != floor(v))
				return fail(err, err_len, "--outbox: '%s' is not a whole number "
					    "in 1..4096", optarg);
			o->cfg.outbox_capacity = (uint16_t)v;
			break;
		case OPT_TRANSPORT:
			if (strcmp(optarg, "mqtt") == 0)
				o->cfg.transport = ROBOT_TRANSPORT_MQTT;
			else if (strcmp(optarg, "http") == 0)
				o->cfg.transport = ROBOT_TRANSPORT_HTTP;
			else
				return fail(err, err_len, "--transport: '%s' is not one of mqtt, http",
					    optarg);
			break;
		case OPT_INGEST: {
			char why[256];

			if (posix_parse_ingest_url(optarg, &o->cfg, why, sizeof(why)) < 0)
				return fail(err, err_len, "--ingest: %s", why);
			break;
		}
		case OPT_TOPIC_STYLE:
			if ((i = pick(optarg, styles, 3)) < 0)
				return fail(err, err_len, "--topic-style: '%s' is not one of "
					    "json, per-metric, both", optarg);
			o->cfg.topic_style = (enum topic_style)i;
			break;
		case OPT_DHT_FAULT:
			if ((i = pick(optarg, dht_faults, 5)) < 0)
				return fail(err, err_len, "--dht-fault: '%s' is not one of none, "
					    "no-response, checksum, stretched, truncated", optarg);
			o->dht_fault = (enum shim_dht_fault)i;
			break;
		case OPT_SONAR_FAULT:
			if ((i = pick(optarg, sonar_faults, 4)) < 0)
				return fail(err, err_len, "--sonar-fault: '%s' is not one of none, "
					    "no-echo, stuck-high, silent", optarg);
			o->sonar_fault = (enum shim_sonar_fault)i;
			break;
		case OPT_LOG_LEVEL:
			if ((i = pick(optarg, levels, 4)) < 0)
				return fail(err, err_len, "--log-level: '%s' is not one of error, "
					    "warn, info, debug", optarg);
			o->log_level = (enum hal_log_level)i;
			break;
		case OPT_STATE_DIR:
			if (!*optarg || strlen(optarg) >= sizeof(o->state_dir) - 64)
				return fail(err, err_len, "--state-dir: empty or too long");
			snprintf(o->state_dir, sizeof(o->state_dir), "%s", optarg);
			break;
		case OPT_LOG_LIMIT: {
			char *end;
			errno = 0;
			double n = strtod(optarg, &end);
			double unit = !strcmp(end, "") ? 1 : !strcmp(end, "k") ? 1024 :
				      !strcmp(end, "M") ? 1048576 : 0;
			if (errno || end == optarg || unit == 0 || !(n >= 1) || n * unit > 1e15)
				return fail(err, err_len, "--log-limit: '%s' is not a size "
					    "(e.g. 65536, 64k, 1M)", optarg);
			o->log_limit_bytes = (uint64_t)(n * unit);
			break;
		}
		case OPT_WORLD:
			if (!*optarg || strlen(optarg) >= sizeof(o->world_path))
				return fail(err, err_len, "--world: empty or too long");
			snprintf(o->world_path, sizeof(o->world_path), "%s", optarg);
			break;
		case OPT_SLOT:
			if (parse_number(optarg, 0, 199999, &v) < 0 || v != floor(v))
				return fail(err, err_len, "--slot: '%s' is not a whole number "
					    "in 0..199999", optarg);
			o->world_slot = (uint32_t)v;
			break;
		case OPT_WIFI_SSID:
			if (!*optarg || strlen(optarg) > SHIM_NET_SSID_MAX)
				return fail(err, err_len, "--wifi-ssid: '%s' is not 1-%d bytes",
					    optarg, SHIM_NET_SSID_MAX);
			snprintf(o->net.ssid, sizeof(o->net.ssid), "%s", optarg);
			ssid_set = true;
			break;
		case OPT_WIFI_PASSWORD:
			if (strlen(optarg) > SHIM_NET_PASSWORD_MAX)
				return fail(err, err_len, "--wifi-password: longer than %d characters",
					    SHIM_NET_PASSWORD_MAX);
			snprintf(o->net.password, sizeof(o->net.password), "%s", optarg);
			wifi_password_set = true;
			break;
		case OPT_DNS: {
			char why[200];

			if (shim_net_add_dns(&o->net, optarg, why, sizeof(why)) < 0)
				return fail(err, err_len, "--dns: %s", why);
			break;
		}
		case OPT_DNS_DEFAULT:
			if (strcmp(optarg, "broker") == 0)
				o->net.default_action = SHIM_DNS_BROKER;
			else if (strcmp(optarg, "nxdomain") == 0)
				o->net.default_action = SHIM_DNS_NXDOMAIN;
			else
				return fail(err, err_len, "--dns-default: '%s' is not one of broker, "
					    "nxdomain", optarg);
			break;
		case OPT_ROOM:
			if (!*optarg || strlen(optarg) >= sizeof(o->room) || strchr(optarg, '/') ||
			    strpbrk(optarg, "+#"))
				return fail(err, err_len, "--room: '%s' is not 1-%zu characters "
					    "without / + #", optarg, sizeof(o->room) - 1);
			snprintf(o->room, sizeof(o->room), "%s", optarg);
			break;
		case OPT_READING_TOPIC:
			if (o->n_reading_topics >= DEVICE_READING_TOPICS_MAX)
				return fail(err, err_len, "--reading-topic: more than %d",
					    DEVICE_READING_TOPICS_MAX);
			if (!*optarg || strlen(optarg) >= sizeof(o->reading_topics[0]) ||
			    strpbrk(optarg, "+#"))
				return fail(err, err_len, "--reading-topic: '%s' is not a topic "
					    "template of 1-%zu bytes without + #", optarg,
					    sizeof(o->reading_topics[0]) - 1);
			snprintf(o->reading_topics[o->n_reading_topics++],
				 sizeof(o->reading_topics[0]), "%s", optarg);
			break;
		case OPT_CA:
		case OPT_CERT:
		case OPT_KEY:
		case OPT_PASSWORD_FILE:
		case OPT_FAULT_CREDENTIALS: {
			char *dst = c == OPT_CA ? o->tls_ca : c == OPT_CERT ? o->tls_cert :
				    c == OPT_KEY ? o->tls_key : c == OPT_PASSWORD_FILE ?
				    o->password_file : o->fault_credentials_dir;

			if (!*optarg || strlen(optarg) >= DEVICE_PATH_MAX)
				return fail(err, err_len, "%s: a path of 1-%d bytes", name,
					    DEVICE_PATH_MAX - 1);
			snprintf(dst, DEVICE_PATH_MAX, "%s", optarg);
			break;
		}
		case OPT_USERNAME:
			if (strlen(optarg) > ROBOT_SECRET_MAX)
				return fail(err, err_len, "--username: longer than %d characters",
					    ROBOT_SECRET_MAX);
			snprintf(o->cfg.username, sizeof(o->cfg.username), "%s", optarg);
			break;
		case 'h':
			o->help = true;
			return 0;
		case OPT_VERSION:
			o->version = true;
			return 0;
		case ':':
			return fail(err, err_len, "%s: needs a value", name);
		default:
			return fail(err, err_len, "%s: unknown option (see --help)", name);
		}
	}
	if (optind < argc)
		return fail(err, err_len, "'%s': unexpected argument (see --help)", argv[optind]);
	if (password) {
		if (strlen(password) > ROBOT_SECRET_MAX)
			return fail(err, err_len, "$ROBOFLEET_PASSWORD: longer than %d characters",
				    ROBOT_SECRET_MAX);
		snprintf(o->cfg.password, sizeof(o->cfg.password), "%s", password);
	}
	if ((c = credentials_finish(o, err, err_len)) < 0)
		return c;
	if (!seed_set)
		o->seed = seed_from_id(o->cfg.device_id);
	/* One without the other would leave the access point half described. */
	if (ssid_set != wifi_password_set)
		return fail(err, err_len, "%s needs %s too (an open network: --wifi-password '')",
			    ssid_set ? "--wifi-ssid" : "--wifi-password",
			    ssid_set ? "--wifi-password" : "--wifi-ssid");
	o->net.ap_set = ssid_set;
	snprintf(o->net.broker_host, sizeof(o->net.broker_host), "%s", o->cfg.broker_host);
	o->net.broker_port = o->cfg.broker_port;
	{
		const char *why = NULL;
		if (robot_config_validate(&o->cfg, &why) < 0)
			return fail(err, err_len, "invalid settings: %s", why);
	}
	return 0;
}

void device_options_settings(struct device_options *o, struct shim_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->config = &o->cfg;
	s->state_dir = o->state_dir;
	s->seed = o->seed;
	s->log_level = o->log_level;
	s->link_delay_ms = o->link_delay_ms;
	s->env = &o->env;   /* the world refreshes it in place */
	s->log_limit_bytes = o->log_limit_bytes;
	s->world_path = o->world_path[0] ? o->world_path : NULL;
	s->world_slot = o->world_slot;
	s->tls_ca = o->tls_ca;
	s->tls_cert = o->tls_cert;
	s->tls_key = o->tls_key;
	s->fault_credentials_dir = o->fault_credentials_dir[0] ? o->fault_credentials_dir : NULL;
}
