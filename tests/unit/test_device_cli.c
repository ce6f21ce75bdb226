/* Unit tests of robofleet-device's command line: durations, broker, options. */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device_cli.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int setup(void **state)
{
	(void)state;
	/* The password comes from the environment; keep it out of these tests. */
	unsetenv("ROBOFLEET_PASSWORD");
	return 0;
}

static void assert_duration(const char *s, uint32_t want)
{
	uint32_t ms = 0xdeadbeef;

	assert_int_equal(device_parse_duration_ms(s, &ms), 0);
	assert_int_equal(ms, want);
}

static void assert_bad_duration(const char *s)
{
	uint32_t ms = 0xdeadbeef;

	assert_int_equal(device_parse_duration_ms(s, &ms), -EINVAL);
	assert_int_equal(ms, 0xdeadbeef);
}

static void test_device_cli_durations(void **state)
{
	(void)state;
	assert_duration("250ms", 250);
	assert_duration("1s", 1000);
	assert_duration("1.5s", 1500);
	assert_duration("2m", 120000);
	assert_duration("2min", 120000);
	assert_duration("1h", 3600000);
	assert_duration("5", 5000);
	assert_duration("0", 0);
	assert_duration("0.5ms", 1); /* rounded to the nearest millisecond */
	assert_duration("4294967295ms", UINT32_MAX);
}

static void test_device_cli_bad_durations(void **state)
{
	(void)state;
	assert_bad_duration("5x");
	assert_bad_duration("-1s");
	assert_bad_duration("");
	assert_bad_duration("1e20s");
	assert_bad_duration("4294967296ms");
	assert_bad_duration("50d");
	assert_bad_duration("s");
	assert_bad_duration("ms");
	assert_bad_duration("1s ");
	assert_bad_duration("1 s");
	assert_bad_duration("nan");
	assert_bad_duration("infs");
	assert_int_equal(device_parse_duration_ms(NULL, &(uint32_t){ 0 }), -EINVAL);
}

static void test_device_cli_broker(void **state)
{
	char host[64];
	uint16_t port = 0;

	(void)state;
	assert_int_equal(device_parse_broker("host", host, sizeof(host), &port), 0);
	assert_string_equal(host, "host");
	assert_int_equal(port, 1883);
	assert_int_equal(device_parse_broker("host:1884", host, sizeof(host), &port), 0);
	assert_string_equal(host, "host");
	assert_int_equal(port, 1884);
	assert_int_equal(device_parse_broker("[::1]:1883", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 1883);
	port = 0;
	assert_int_equal(device_parse_broker("[fe80::1]", host, sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 1883);
	assert_int_equal(device_parse_broker("127.0.0.1:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 65535);
	assert_int_equal(device_parse_broker("h:1", host, sizeof(host), &port), 0);
	assert_int_equal(port, 1);
}

static void test_device_cli_bad_broker(void **state)
{
	static const char *const bad[] = {
		"h:0", "h:70000", "h:65536", "::1", "", "h:", ":1883", "h:18x3", "h:-1",
		"[::1", "[::1]x", "[::1]:", "[]:1883", "a:b:1883",
	};
	char host[64] = "untouched";
	uint16_t port = 4242;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(device_parse_broker(bad[i], host, sizeof(host), &port), -EINVAL);
		assert_string_equal(host, "untouched");
		assert_int_equal(port, 4242);
	}
	assert_int_equal(device_parse_broker(NULL, host, sizeof(host), &port), -EINVAL);
}

static void test_device_cli_broker_host_too_long(void **state)
{
	char host[8];
	uint16_t port;

	(void)state;
	assert_int_equal(device_parse_broker("1234567", host, sizeof(host), &port), 0);
	assert_string_equal(host, "1234567");
	assert_int_equal(device_parse_broker("12345678:1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(device_parse_broker("[12345678]:1", host, sizeof(host), &port), -EINVAL);
}

static void test_device_cli_issue_example(void **state)
{
	char *argv[] = { "robofleet-device", "--id", "robot_001", "--broker", "127.0.0.1:1883",
			 "--interval", "1s", "--temperature", "22.5", "--humidity", "40",
			 "--distance", "120", "--seed", "7" };
	struct device_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(o.cfg.device_id, "robot_001");
	assert_string_equal(o.cfg.broker_host, "127.0.0.1");
	assert_int_equal(o.cfg.broker_port, 1883);
	assert_int_equal(o.cfg.publish_interval_ms, 1000);
	assert_true(o.env.temperature_c == 22.5);
	assert_true(o.env.humidity_pct == 40.0);
	assert_true(o.env.distance_cm == 120.0);
	assert_true(o.env.noise == 0.0);
	assert_int_equal(o.seed, 7);
	assert_false(o.help);
	assert_false(o.version);
	assert_int_equal(o.dht_fault, SHIM_DHT_OK);
	assert_int_equal(o.sonar_fault, SHIM_SONAR_OK);
	/* What was not given keeps its default. */
	assert_int_equal(o.cfg.keepalive_s, 15);
	assert_int_equal(o.cfg.topic_style, TOPIC_STYLE_JSON);
	assert_int_equal(robot_config_validate(&o.cfg, NULL), 0);
}

static void test_device_cli_defaults(void **state)
{
	char *argv[] = { "robofleet-device" };
	char *argv_other[] = { "robofleet-device", "--id", "robot_002" };
	struct device_options o, other;
	char err[256];

	(void)state;
	assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cfg.device_id, "robot_001");
	assert_string_equal(o.cfg.broker_host, "127.0.0.1");
	assert_int_equal(o.cfg.broker_port, 1883);
	assert_int_equal(o.cfg.publish_interval_ms, 10000);
	assert_true(o.env.temperature_c == 22.0);
	assert_true(o.env.humidity_pct == 45.0);
	assert_true(o.env.distance_cm == 100.0);
	assert_int_equal(o.log_level, HAL_LOG_INFO);
	assert_int_equal(o.link_delay_ms, 50);
	/* Without --seed the seed follows the id: reproducible, distinct. */
	assert_int_equal(device_options_parse(ARGC(argv_other), argv_other, &other, err,
					      sizeof(err)), 0);
	assert_int_not_equal(o.seed, other.seed);
}

static void test_device_cli_all_options(void **state)
{
	char *argv[] = { "robofleet-device", "--id=bot-7", "--broker", "[::1]:1999",
			 "--sample-interval", "250ms", "--keepalive", "30s", "--topic-style",
			 "both", "--noise", "0.5", "--median", "5", "--link-delay", "0",
			 "--backoff-base", "1s", "--backoff-cap", "2m", "--dht-fault",
			 "checksum", "--sonar-fault", "stuck-high", "--log-level", "debug",
			 "--state-dir", "/tmp/rf-state", "--username", "alice", "--seed", "0x10" };
	struct device_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cfg.device_id, "bot-7");
	assert_string_equal(o.cfg.broker_host, "::1");
	assert_int_equal(o.cfg.broker_port, 1999);
	assert_int_equal(o.cfg.sample_interval_ms, 250);
	assert_int_equal(o.cfg.keepalive_s, 30);
	assert_int_equal(o.cfg.topic_style, TOPIC_STYLE_BOTH);
	assert_true(o.env.noise == 0.5);
	assert_int_equal(o.cfg.median_window, 5);
	assert_int_equal(o.link_delay_ms, 0);
	assert_int_equal(o.cfg.backoff_base_ms, 1000);
	assert_int_equal(o.cfg.backoff_cap_ms, 120000);
	assert_int_equal(o.dht_fault, SHIM_DHT_CHECKSUM);
	assert_int_equal(o.sonar_fault, SHIM_SONAR_STUCK_HIGH);
	assert_int_equal(o.log_level, HAL_LOG_DEBUG);
	assert_string_equal(o.state_dir, "/tmp/rf-state");
	assert_string_equal(o.cfg.username, "alice");
	assert_int_equal(o.seed, 16);
}

static void test_device_cli_help_and_version(void **state)
{
	char *help[] = { "robofleet-device", "-h" };
	char *version[] = { "robofleet-device", "--version" };
	struct device_options o;
	char err[256];

	(void)state;
	assert_int_equal(device_options_parse(ARGC(help), help, &o, err, sizeof(err)), 0);
	assert_true(o.help);
	assert_int_equal(device_options_parse(ARGC(version), version, &o, err, sizeof(err)), 0);
	assert_true(o.version);
	assert_false(o.help);
}

/* Parsing @argv fails, and the message contains @needle. */
static void assert_rejected(int argc, char **argv, const char *needle)
{
	struct device_options o;
	char err[256] = "";

	assert_int_equal(device_options_parse(argc, argv, &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_device_cli_rejects_values(void **state)
{
	char *temp[] = { "robofleet-device", "--temperature", "200" };
	char *temp_nan[] = { "robofleet-device", "--temperature", "nan" };
	char *hum[] = { "robofleet-device", "--humidity", "-1" };
	char *dist[] = { "robofleet-device", "--distance", "12cm" };
	char *style[] = { "robofleet-device", "--topic-style", "xml" };
	char *id[] = { "robofleet-device", "--id", "robot/1" };
	char *id_long[] = { "robofleet-device", "--id", "abcdefghijabcdefghijabcdefghijabc" };
	char *broker[] = { "robofleet-device", "--broker", "h:70000" };
	char *seed[] = { "robofleet-device", "--seed", "-7" };
	char *median[] = { "robofleet-device", "--median", "2.5" };
	char *keepalive[] = { "robofleet-device", "--keepalive", "1500ms" };
	char *dht[] = { "robofleet-device", "--dht-fault", "melted" };
	char *sonar[] = { "robofleet-device", "--sonar-fault", "deaf" };
	char *level[] = { "robofleet-device", "--log-level", "loud" };

	(void)state;
	assert_rejected(ARGC(temp), temp, "--temperature");
	assert_rejected(ARGC(temp), temp, "200");
	assert_rejected(ARGC(temp_nan), temp_nan, "--temperature");
	assert_rejected(ARGC(hum), hum, "--humidity");
	assert_rejected(ARGC(dist), dist, "--distance");
	assert_rejected(ARGC(style), style, "--topic-style");
	assert_rejected(ARGC(style), style, "xml");
	assert_rejected(ARGC(id), id, "--id");
	assert_rejected(ARGC(id_long), id_long, "--id");
	assert_rejected(ARGC(broker), broker, "--broker");
	assert_rejected(ARGC(seed), seed, "--seed");
	assert_rejected(ARGC(median), median, "--median");
	assert_rejected(ARGC(keepalive), keepalive, "--keepalive");
	assert_rejected(ARGC(dht), dht, "--dht-fault");
	assert_rejected(ARGC(sonar), sonar, "--sonar-fault");
	assert_rejected(ARGC(level), level, "--log-level");
}

/* --transport and --ingest: the URL parser the Linux SBC board's `ingest` key shares. */
static void test_device_cli_http_transport(void **state)
{
	char *http[] = { "robofleet-device", "--transport", "http", "--ingest",
			 "http://[::1]:9090/v1/data" };
	char *host_only[] = { "robofleet-device", "--ingest", "http://ingest.lan" };
	char *coap[] = { "robofleet-device", "--transport", "coap" };
	char *tls[] = { "robofleet-device", "--ingest", "https://ingest.lan/" };
	struct device_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(device_options_parse(ARGC(http), http, &o, err, sizeof(err)), 0);
	assert_int_equal(o.cfg.transport, ROBOT_TRANSPORT_HTTP);
	assert_string_equal(o.cfg.ingest_host, "::1");
	assert_int_equal(o.cfg.ingest_port, 9090);
	assert_string_equal(o.cfg.ingest_path, "/v1/data");
	assert_int_equal(device_options_parse(ARGC(host_only), host_only, &o, err, sizeof(err)), 0);
	assert_int_equal(o.cfg.transport, ROBOT_TRANSPORT_MQTT);
	assert_int_equal(o.cfg.ingest_port, 80);
	assert_string_equal(o.cfg.ingest_path, "/api/sensors/data");
	assert_rejected(ARGC(coap), coap, "--transport: 'coap'");
	assert_rejected(ARGC(tls), tls, "--ingest: 'https://ingest.lan/': https is not supported");
}

static void test_device_cli_outbox(void **state)
{
	char *dflt[] = { "robofleet-device" };
	char *small[] = { "robofleet-device", "--outbox", "1" };
	char *big[] = { "robofleet-device", "--outbox=4096" };
	char *zero[] = { "robofleet-device", "--outbox", "0" };
	char *over[] = { "robofleet-device", "--outbox", "4097" };
	char *frac[] = { "robofleet-device", "--outbox", "10.5" };
	char *word[] = { "robofleet-device", "--outbox", "many" };
	struct device_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(device_options_parse(ARGC(dflt), dflt, &o, err, sizeof(err)), 0);
	assert_int_equal(o.cfg.outbox_capacity, 600);
	assert_int_equal(device_options_parse(ARGC(small), small, &o, err, sizeof(err)), 0);
	assert_int_equal(o.cfg.outbox_capacity, 1);
	assert_int_equal(robot_config_validate(&o.cfg, NULL), 0);
	assert_int_equal(device_options_parse(ARGC(big), big, &o, err, sizeof(err)), 0);
	assert_int_equal(o.cfg.outbox_capacity, 4096);
	assert_int_equal(robot_config_validate(&o.cfg, NULL), 0);
	assert_rejected(ARGC(zero), zero, "--outbox");
	assert_rejected(ARGC(over), over, "--outbox");
	assert_rejected(ARGC(over), over, "4097");
	assert_rejected(ARGC(frac), frac, "--outbox");
	assert_rejected(ARGC(word), word, "--outbox");
	/* --help names it. */
	{
		char buf[4096] = "";
		FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

		assert_non_null(f);
		device_print_usage(f);
		fclose(f);
		assert_non_null(strstr(buf, "--outbox N"));
	}
}

static void test_device_cli_rejects_durations(void **state)
{
	char *interval[] = { "robofleet-device", "--interval", "5x" };
	char *interval_eq[] = { "robofleet-device", "--interval=5x" };
	char *sample[] = { "robofleet-device", "--sample-interval", "-1s" };
	char *cap[] = { "robofleet-device", "--backoff-cap", "forever" };

	(void)state;
	assert_rejected(ARGC(interval), interval, "--interval");
	assert_rejected(ARGC(interval), interval, "'5x'");
	assert_rejected(ARGC(interval_eq), interval_eq, "--interval");
	assert_rejected(ARGC(sample), sample, "--sample-interval");
	assert_rejected(ARGC(cap), cap, "--backoff-cap");
}

static void test_device_cli_rejects_unknown_option(void **state)
{
	char *unknown[] = { "robofleet-device", "--colour", "blue" };
	char *unknown_short[] = { "robofleet-device", "-x" };
	char *stray[] = { "robofleet-device", "--id", "robot_001", "extra" };

	(void)state;
	assert_rejected(ARGC(unknown), unknown, "--colour");
	assert_rejected(ARGC(unknown), unknown, "unknown option");
	assert_rejected(ARGC(unknown_short), unknown_short, "unknown option");
	assert_rejected(ARGC(stray), stray, "'extra'");
}

static void test_device_cli_rejects_missing_value(void **state)
{
	char *id[] = { "robofleet-device", "--id" };
	char *temp[] = { "robofleet-device", "--id", "robot_001", "--temperature" };
	char *interval[] = { "robofleet-device", "--interval" };

	(void)state;
	assert_rejected(ARGC(id), id, "--id");
	assert_rejected(ARGC(id), id, "needs a value");
	assert_rejected(ARGC(temp), temp, "--temperature");
	assert_rejected(ARGC(temp), temp, "needs a value");
	assert_rejected(ARGC(interval), interval, "--interval");
}

static void test_device_cli_rejects_invalid_settings(void **state)
{
	char *backoff[] = { "robofleet-device", "--backoff-base", "10s", "--backoff-cap", "1s" };
	char *interval[] = { "robofleet-device", "--interval", "50ms" };

	(void)state;
	assert_rejected(ARGC(backoff), backoff, "backoff");
	assert_rejected(ARGC(interval), interval, "publish_interval");
}

static void test_device_cli_world_and_log_limit(void **state)
{
	char *ok[] = { "robofleet-device", "--world", "/run/w", "--slot", "7", "--log-limit", "64k" };
	char *bad_slot[] = { "robofleet-device", "--slot", "-1" };
	char *bad_limit[] = { "robofleet-device", "--log-limit", "5x" };
	char *zero_limit[] = { "robofleet-device", "--log-limit", "0" };
	struct device_options o;
	char err[256];

	(void)state;
	assert_int_equal(device_options_parse(ARGC(ok), ok, &o, err, sizeof(err)), 0);
	assert_string_equal(o.world_path, "/run/w");
	assert_int_equal(o.world_slot, 7);
	assert_int_equal(o.log_limit_bytes, 65536);
	assert_rejected(ARGC(bad_slot), bad_slot, "--slot");
	assert_rejected(ARGC(bad_limit), bad_limit, "--log-limit");
	assert_rejected(ARGC(zero_limit), zero_limit, "--log-limit");
}

static void test_device_cli_password_from_environment(void **state)
{
	char *argv[] = { "robofleet-device", "--username", "alice" };
	struct device_options o;
	char err[256];

	(void)state;
	setenv("ROBOFLEET_PASSWORD", "s3cret", 1);
	assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cfg.password, "s3cret");
	unsetenv("ROBOFLEET_PASSWORD");
	assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cfg.password, "");
}

/* A file in a fresh directory with @mode, for the credential options. */
static void put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* --ca --cert --key --password-file: {id} expanded, files checked at once. */
static void test_device_cli_credentials(void **state)
{
	char dir[] = "/tmp/test_device_cli_XXXXXX";
	char ca[64], cert[64], key[64], pw[64], cert_t[64], key_t[64], pw_t[64], want[64];
	struct device_options o;
	char err[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(cert, sizeof(cert), "%s/robot_007.crt", dir);
	snprintf(key, sizeof(key), "%s/robot_007.key", dir);
	snprintf(pw, sizeof(pw), "%s/robot_007.password", dir);
	snprintf(cert_t, sizeof(cert_t), "%s/{id}.crt", dir);
	snprintf(key_t, sizeof(key_t), "%s/{id}.key", dir);
	snprintf(pw_t, sizeof(pw_t), "%s/{id}.password", dir);
	put_file(ca, "ca\n", 0644);
	put_file(cert, "cert\n", 0644);
	put_file(key, "key\n", 0600);
	put_file(pw, "hunter2hunter2\n", 0600);
	{
		char *argv[] = { "robofleet-device", "--ca", ca, "--cert", cert_t, "--key", key_t,
				 "--id", "robot_007" };

		assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
		assert_string_equal(o.tls_cert, cert);
		assert_string_equal(o.tls_key, key);
		assert_string_equal(o.tls_ca, ca);
		assert_string_equal(o.cfg.username, ""); /* the certificate says who */
	}
	{
		char *argv[] = { "robofleet-device", "--id", "robot_007", "--password-file", pw_t };

		assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
		assert_string_equal(o.cfg.password, "hunter2hunter2");
		assert_string_equal(o.cfg.username, "robot_007");
	}
	{
		char *argv[] = { "robofleet-device", "--id", "robot_008", "--cert", cert_t, "--key",
				 key_t, "--ca", ca };

		assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)),
				 -EINVAL);
		snprintf(want, sizeof(want), "--cert: %s/robot_008.crt: ", dir);
		assert_memory_equal(err, want, strlen(want));
	}
	{
		char *argv[] = { "robofleet-device", "--id", "robot_007", "--cert", cert };

		assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, "--cert and --key go together");
	}
	{
		char *argv[] = { "robofleet-device", "--id", "robot_007", "--cert", cert, "--key", key };

		assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "--cert needs --ca"));
	}
	{
		char *argv[] = { "robofleet-device", "--id", "robot_007", "--password-file", pw };

		assert_int_equal(chmod(pw, 0644), 0);
		assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)),
				 -EINVAL);
		assert_memory_equal(err, "--password-file: ", 17);
	}
	unlink(ca);
	unlink(cert);
	unlink(key);
	unlink(pw);
	rmdir(dir);
}

static void test_device_cli_network_defaults(void **state)
{
	char *none[] = { "robofleet-device" };
	char *v6[] = { "robofleet-device", "--broker", "[::1]:1884" };
	struct device_options o;
	char err[256];

	(void)state;
	assert_int_equal(device_options_parse(ARGC(none), none, &o, err, sizeof(err)), 0);
	assert_string_equal(o.net.broker_host, "127.0.0.1");
	assert_int_equal(o.net.broker_port, 1883);
	assert_false(o.net.ap_set);
	assert_int_equal(o.net.default_action, SHIM_DNS_BROKER);
	assert_int_equal(o.net.n_entries, 0);
	/* Names lead to the broker the device was given. */
	assert_int_equal(device_options_parse(ARGC(v6), v6, &o, err, sizeof(err)), 0);
	assert_string_equal(o.net.broker_host, "::1");
	assert_int_equal(o.net.broker_port, 1884);
}

static void test_device_cli_network(void **state)
{
	char *argv[] = { "robofleet-device", "--wifi-ssid", "lab wifi", "--wifi-password", "",
			 "--dns", "broker.hivemq.com=broker", "--dns", "gone.example.com=nxdomain",
			 "--dns", "api.example.com=127.0.0.1:8080", "--dns-default", "nxdomain",
			 "--broker", "localhost:40000" };
	char *secret[] = { "robofleet-device", "--wifi-password", "correct horse",
			   "--wifi-ssid", "lab" };
	struct device_options o;
	char err[256];

	(void)state;
	assert_int_equal(device_options_parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_true(o.net.ap_set);
	assert_string_equal(o.net.ssid, "lab wifi");
	assert_string_equal(o.net.password, "");
	assert_int_equal(o.net.default_action, SHIM_DNS_NXDOMAIN);
	assert_int_equal(o.net.n_entries, 3);
	assert_string_equal(o.net.entries[0].name, "broker.hivemq.com");
	assert_int_equal(o.net.entries[0].action, SHIM_DNS_BROKER);
	assert_int_equal(o.net.entries[1].action, SHIM_DNS_NXDOMAIN);
	assert_int_equal(o.net.entries[2].action, SHIM_DNS_ADDRESS);
	assert_string_equal(o.net.entries[2].host, "127.0.0.1");
	assert_int_equal(o.net.entries[2].port, 8080);
	assert_string_equal(o.net.broker_host, "localhost");
	assert_int_equal(o.net.broker_port, 40000);

	assert_int_equal(device_options_parse(ARGC(secret), secret, &o, err, sizeof(err)), 0);
	assert_true(o.net.ap_set);
	assert_string_equal(o.net.ssid, "lab");
	assert_string_equal(o.net.password, "correct horse");
	assert_int_equal(o.net.default_action, SHIM_DNS_BROKER);
}

static void test_device_cli_network_rejects(void **state)
{
	char *ssid_only[] = { "robofleet-device", "--wifi-ssid", "lab" };
	char *password_only[] = { "robofleet-device", "--wifi-password", "secret12" };
	char *empty_ssid[] = { "robofleet-device", "--wifi-ssid", "", "--wifi-password", "x" };
	char *long_ssid[] = { "robofleet-device", "--wifi-ssid",
			      "123456789012345678901234567890123", "--wifi-password", "x" };
	char *long_password[] = { "robofleet-device", "--wifi-ssid", "lab", "--wifi-password",
				  "1234567890123456789012345678901234567890123456789012345678901234" };
	char *bad_dns[] = { "robofleet-device", "--dns", "broker.hivemq.com" };
	char *bad_target[] = { "robofleet-device", "--dns", "a.example=host:99999" };
	char *twice[] = { "robofleet-device", "--dns", "a.example=broker", "--dns",
			  "A.example.=nxdomain" };
	char *bad_default[] = { "robofleet-device", "--dns-default", "refuse" };
	char *no_value[] = { "robofleet-device", "--dns" };
	char *many[2 + 2 * (SHIM_DNS_ENTRIES_MAX + 1)];
	char names[SHIM_DNS_ENTRIES_MAX + 1][32];
	int n = 0;

	(void)state;
	assert_rejected(ARGC(ssid_only), ssid_only, "--wifi-ssid needs --wifi-password");
	assert_rejected(ARGC(password_only), password_only, "--wifi-password needs --wifi-ssid");
	assert_rejected(ARGC(empty_ssid), empty_ssid, "--wifi-ssid");
	assert_rejected(ARGC(long_ssid), long_ssid, "1-32 bytes");
	assert_rejected(ARGC(long_password), long_password, "--wifi-password: longer than 63");
	assert_rejected(ARGC(bad_dns), bad_dns, "--dns: 'broker.hivemq.com' is not NAME=TARGET");
	assert_rejected(ARGC(bad_target), bad_target, "--dns: 'host:99999'");
	assert_rejected(ARGC(twice), twice, "given twice");
	assert_rejected(ARGC(bad_default), bad_default,
			"--dns-default: 'refuse' is not one of broker, nxdomain");
	assert_rejected(ARGC(no_value), no_value, "--dns: needs a value");

	many[n++] = "robofleet-device";
	for (int i = 0; i <= SHIM_DNS_ENTRIES_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "h%d.example=broker", i);
		many[n++] = "--dns";
		many[n++] = names[i];
	}
	assert_rejected(n, many, "--dns: more than 32 names");
	{
		struct device_options o;
		char err[256];

		/* Exactly the limit is fine. */
		assert_int_equal(device_options_parse(n - 2, many, &o, err, sizeof(err)), 0);
		assert_int_equal(o.net.n_entries, SHIM_DNS_ENTRIES_MAX);
	}
}

static void test_device_cli_layout(void **state)
{
	char *ok[] = { "robofleet-device", "--room", "kitchen", "--reading-topic",
		       "sensors/{room}/{metric}", "--reading-topic", "sensors/{id}/data" };
	char *five[] = { "robofleet-device", "--reading-topic", "a/{metric}", "--reading-topic",
			 "b/{metric}", "--reading-topic", "c/{metric}", "--reading-topic",
			 "d/{metric}", "--reading-topic", "e/{metric}" };
	char *bad_room[] = { "robofleet-device", "--room", "a/b" };
	char *wild[] = { "robofleet-device", "--reading-topic", "sensors/+/{metric}" };
	struct device_options o;
	char err[256];

	(void)state;
	assert_int_equal(device_options_parse(ARGC(ok), ok, &o, err, sizeof(err)), 0);
	assert_string_equal(o.room, "kitchen");
	assert_int_equal(o.n_reading_topics, 2);
	assert_string_equal(o.reading_topics[0], "sensors/{room}/{metric}");
	assert_string_equal(o.reading_topics[1], "sensors/{id}/data");
	assert_int_equal(device_options_parse(1, ok, &o, err, sizeof(err)), 0);
	assert_string_equal(o.room, "");
	assert_int_equal(o.n_reading_topics, 0);
	assert_rejected(ARGC(five), five, "--reading-topic: more than 4");
	assert_rejected(ARGC(bad_room), bad_room, "--room: 'a/b'");
	assert_rejected(ARGC(wild), wild, "without + #");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_cli_durations),
		cmocka_unit_test(test_device_cli_credentials),
		cmocka_unit_test(test_device_cli_bad_durations),
		cmocka_unit_test(test_device_cli_broker),
		cmocka_unit_test(test_device_cli_bad_broker),
		cmocka_unit_test(test_device_cli_broker_host_too_long),
		cmocka_unit_test(test_device_cli_issue_example),
		cmocka_unit_test(test_device_cli_defaults),
		cmocka_unit_test(test_device_cli_all_options),
		cmocka_unit_test(test_device_cli_help_and_version),
		cmocka_unit_test(test_device_cli_rejects_values),
		cmocka_unit_test(test_device_cli_rejects_durations),
		cmocka_unit_test(test_device_cli_rejects_unknown_option),
		cmocka_unit_test(test_device_cli_rejects_missing_value),
		cmocka_unit_test(test_device_cli_rejects_invalid_settings),
		cmocka_unit_test(test_device_cli_password_from_environment),
		cmocka_unit_test(test_device_cli_world_and_log_limit),
		cmocka_unit_test(test_device_cli_http_transport),
		cmocka_unit_test(test_device_cli_outbox),
		cmocka_unit_test(test_device_cli_network_defaults),
		cmocka_unit_test(test_device_cli_network),
		cmocka_unit_test(test_device_cli_network_rejects),
		cmocka_unit_test(test_device_cli_layout),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
