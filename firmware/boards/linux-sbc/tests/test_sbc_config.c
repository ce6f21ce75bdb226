/* robot.conf parsing for the linux-sbc board, and the board's setup from a file. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "board.h"
#include "hal_storage.h"
#include "hal_system.h"

static struct robot_config cfg;
static struct sbc_settings s;
static char err[400];

static int parse(const char *text)
{
	robot_config_defaults(&cfg);
	sbc_settings_defaults(&s);
	err[0] = '\0';
	return sbc_config_parse(text, &cfg, &s, err, sizeof(err));
}

static void test_sbc_config_empty_keeps_defaults(void **state)
{
	struct robot_config def;

	(void)state;
	robot_config_defaults(&def);
	assert_int_equal(parse("# nothing\n\n   \n\t# indented comment\n"), 0);
	assert_memory_equal(&cfg, &def, sizeof(def));
	assert_string_equal(s.sysfs_root, "/sys");
	assert_string_equal(s.net_iface, "wlan0");
	assert_string_equal(s.state_dir, "/var/lib/robofleet");
	assert_string_equal(s.dht_iio_name, "dht11");
	assert_string_equal(s.sonar_iio_name, "srf04");
	assert_string_equal(s.wireless_path, "/proc/net/wireless");
	assert_int_equal(s.log_level, HAL_LOG_INFO);
}

static void test_sbc_config_shipped_example_parses(void **state)
{
	(void)state;
	robot_config_defaults(&cfg);
	sbc_settings_defaults(&s);
	assert_int_equal(sbc_config_load(SBC_EXAMPLE_CONF, &cfg, &s, err, sizeof(err)), 0);
	assert_string_equal(cfg.device_id, "robot_001");
	assert_string_equal(cfg.broker_host, "192.168.1.10");
	assert_int_equal(cfg.broker_port, 1883);
	assert_int_equal(cfg.publish_interval_ms, 10000);
	assert_int_equal(cfg.dht_pin, 4);
	assert_int_equal(cfg.trig_pin, 5);
	assert_int_equal(cfg.echo_pin, 6);
	assert_string_equal(s.net_iface, "wlan0");
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
}

static void test_sbc_config_every_key(void **state)
{
	(void)state;
	assert_int_equal(parse(
		"device_id = pi-kitchen\n"
		"broker = [::1]:8883\n"
		"username = robot\n"
		"password = \" s3cr=t \"\n"
		"keepalive = 30s\n"
		"publish_interval = 500ms\n"
		"sample_interval = 2min\n"
		"median_window = 5\n"
		"topic_style = both\n"
		"link_attempts = 7\n"
		"link_attempt_timeout = 1.5\n"
		"backoff_base = 250ms\n"
		"backoff_cap = 1h\n"
		"dht_gpio = 17\n"
		"trig_gpio = 23\n"
		"echo_gpio = 24\n"
		"log_level = debug\n"
		"sysfs_root = /tmp/fixture\n"
		"net_iface = eth0\n"
		"wireless_path = /tmp/wireless\n"
		"state_dir = /tmp/state\n"
		"dht_iio_name = dht22\n"
		"sonar_iio_name = hcsr04\n"
		"tls_ca_file = /etc/robofleet/ca.pem\n"
		"tls_cert_file = /etc/robofleet/cert.pem\n"
		"tls_key_file = /etc/robofleet/key.pem\r\n"
		"transport = http\n"
		"ingest = http://[fd00::7]:8081/ingest/v2\n"
		"http_timeout = 1500ms\n"
		"command_poll = 30s\n"), 0);
	assert_string_equal(cfg.device_id, "pi-kitchen");
	assert_string_equal(cfg.broker_host, "::1");
	assert_int_equal(cfg.broker_port, 8883);
	assert_string_equal(cfg.username, "robot");
	assert_string_equal(cfg.password, " s3cr=t ");
	assert_int_equal(cfg.keepalive_s, 30);
	assert_int_equal(cfg.publish_interval_ms, 500);
	assert_int_equal(cfg.sample_interval_ms, 120000);
	assert_int_equal(cfg.median_window, 5);
	assert_int_equal(cfg.topic_style, TOPIC_STYLE_BOTH);
	assert_int_equal(cfg.link_attempts_max, 7);
	assert_int_equal(cfg.link_attempt_timeout_ms, 1500);
	assert_int_equal(cfg.backoff_base_ms, 250);
	assert_int_equal(cfg.backoff_cap_ms, 3600000);
	assert_int_equal(cfg.dht_pin, 17);
	assert_int_equal(cfg.trig_pin, 23);
	assert_int_equal(cfg.echo_pin, 24);
	assert_int_equal(s.log_level, HAL_LOG_DEBUG);
	assert_string_equal(s.sysfs_root, "/tmp/fixture");
	assert_string_equal(s.net_iface, "eth0");
	assert_string_equal(s.wireless_path, "/tmp/wireless");
	assert_string_equal(s.state_dir, "/tmp/state");
	assert_string_equal(s.dht_iio_name, "dht22");
	assert_string_equal(s.sonar_iio_name, "hcsr04");
	assert_string_equal(s.tls_ca_file, "/etc/robofleet/ca.pem");
	assert_string_equal(s.tls_cert_file, "/etc/robofleet/cert.pem");
	assert_string_equal(s.tls_key_file, "/etc/robofleet/key.pem");
	assert_int_equal(cfg.transport, ROBOT_TRANSPORT_HTTP);
	assert_string_equal(cfg.ingest_host, "fd00::7");
	assert_int_equal(cfg.ingest_port, 8081);
	assert_string_equal(cfg.ingest_path, "/ingest/v2");
	assert_int_equal(cfg.http_timeout_ms, 1500);
	assert_int_equal(cfg.command_poll_ms, 30000);
}

static void test_sbc_config_ingest_defaults(void **state)
{
	struct robot_config def;

	(void)state;
	robot_config_defaults(&def);
	assert_int_equal(parse("transport = mqtt\n"), 0);
	assert_int_equal(cfg.transport, ROBOT_TRANSPORT_MQTT);
	/* Host only: HTTP's port and the tutorial's path. */
	assert_int_equal(parse("ingest = http://ingest.example.org\n"), 0);
	assert_string_equal(cfg.ingest_host, "ingest.example.org");
	assert_int_equal(cfg.ingest_port, 80);
	assert_string_equal(cfg.ingest_path, "/api/sensors/data");
	assert_int_equal(parse("ingest = http://10.0.0.2:8080/\n"), 0);
	assert_int_equal(cfg.ingest_port, 8080);
	assert_string_equal(cfg.ingest_path, "/api/sensors/data");
	/* Set only where the key is given. */
	assert_int_equal(parse("transport = http\n"), 0);
	assert_string_equal(cfg.ingest_host, def.ingest_host);
	assert_int_equal(cfg.ingest_port, def.ingest_port);
	assert_string_equal(cfg.ingest_path, def.ingest_path);
}

static void test_sbc_config_broker_default_port(void **state)
{
	(void)state;
	assert_int_equal(parse("broker = mqtt.example.org\n"), 0);
	assert_string_equal(cfg.broker_host, "mqtt.example.org");
	assert_int_equal(cfg.broker_port, 1883);
}

static void test_sbc_config_errors_name_the_line(void **state)
{
	static const struct { const char *text; const char *msg; } bad[] = {
		{ "device_id = a\nfoo = 1\n", "line 2: unknown key 'foo'" },
		{ "\n\njust words\n", "line 3: expected key = value" },
		{ "device_id = robot 1\n", "line 1: device_id: 1 to 32 characters of [A-Za-z0-9_-]" },
		{ "broker = host:99999\n", "line 1: broker: " },
		{ "publish_interval = 10x\n", "line 1: publish_interval: " },
		{ "publish_interval = -1s\n", "line 1: publish_interval: " },
		{ "keepalive = 4s\n", "line 1: keepalive: whole seconds, 5s to 65535s" },
		{ "keepalive = 5.5s\n", "line 1: keepalive: " },
		{ "median_window = 10\n", "line 1: median_window: a whole number 1 to 9" },
		{ "topic_style = xml\n", "line 1: topic_style: json, per-metric or both" },
		{ "log_level = loud\n", "line 1: log_level: " },
		{ "tls_ca_file = /ca\ntls_cert_file = /c\n", "tls_cert_file and tls_key_file go together" },
		{ "tls_cert_file = /c\ntls_key_file = /k\n", "a client certificate needs tls_ca_file too" },
		{ "password = x\n", "password without username" },
		{ "transport = coap\n", "line 1: transport: mqtt or http" },
		{ "ingest = https://h/x\n", "line 1: ingest: 'https://h/x': https is not supported" },
		{ "ingest = 10.0.0.2:8080\n", "line 1: ingest: '10.0.0.2:8080': must start with http://" },
		{ "ingest = http://h:0/\n", "line 1: ingest: 'http://h:0/': the authority is not HOST[:PORT]" },
		{ "ingest = http://u@h/\n", "line 1: ingest: 'http://u@h/': user information" },
		{ "ingest = \"http://h/a b\"\n", "line 1: ingest: 'http://h/a b': the path has a space" },
		{ "http_timeout = soon\n", "line 1: http_timeout: a duration" },
		{ "command_poll = -1\n", "line 1: command_poll: a duration" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].text), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].msg);
	}
}

static void test_sbc_config_duration_units(void **state)
{
	uint32_t ms = 0;

	(void)state;
	assert_int_equal(sbc_parse_duration_ms("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(sbc_parse_duration_ms("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(sbc_parse_duration_ms("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(sbc_parse_duration_ms("3m", &ms), 0);
	assert_int_equal(ms, 180000);
	assert_int_equal(sbc_parse_duration_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(sbc_parse_duration_ms("", &ms), -EINVAL);
	assert_int_equal(sbc_parse_duration_ms("s", &ms), -EINVAL);
	assert_int_equal(sbc_parse_duration_ms("5 s", &ms), -EINVAL);
	assert_int_equal(sbc_parse_duration_ms("50d", &ms), -EINVAL);
	assert_int_equal(sbc_parse_duration_ms("2000h", &ms), -EINVAL);
}

static void test_sbc_config_missing_file(void **state)
{
	(void)state;
	robot_config_defaults(&cfg);
	sbc_settings_defaults(&s);
	assert_int_equal(sbc_config_load("/nonexistent/robot.conf", &cfg, &s, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/robot.conf"));
}

static void test_sbc_config_board_setup_from_file(void **state)
{
	char dir[] = "/tmp/robofleet-sbc-conf-XXXXXX", path[300], cmd[320];
	struct robot_config got;
	uint8_t buf[8];
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "device_id = pi_7\nbroker = 10.0.0.2:1884\nstate_dir = %s/state\n"
		"log_level = error\n", dir);
	fclose(f);
	assert_int_equal(sbc_board_setup(path, err, sizeof(err)), 0);
	assert_int_equal(hal_system_load_config(&got), 0);
	assert_string_equal(got.device_id, "pi_7");
	assert_int_equal(got.broker_port, 1884);
	assert_false(hal_system_shutdown_requested());
	/* Storage is the shared file store, under the configured directory. */
	assert_int_equal(hal_storage_write("boot", "\1\0\0\0", 4), 0);
	assert_int_equal(hal_storage_read("boot", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4);
	sbc_board_teardown();
	snprintf(path, sizeof(path), "%s/state/pi_7.flash", dir);
	assert_int_equal(access(path, R_OK), 0);

	/* A configuration the firmware would refuse is refused here, first. */
	snprintf(path, sizeof(path), "%s/robot.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "dht_gpio = 5\ntrig_gpio = 5\nstate_dir = %s/state\n", dir);
	fclose(f);
	assert_int_equal(sbc_board_setup(path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pins"));
	sbc_board_teardown();
	/* ... the HTTP settings too, when HTTP is the transport. */
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "transport = http\nhttp_timeout = 10ms\nstate_dir = %s/state\n", dir);
	fclose(f);
	assert_int_equal(sbc_board_setup(path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "http_timeout"));
	sbc_board_teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbc_config_empty_keeps_defaults),
		cmocka_unit_test(test_sbc_config_shipped_example_parses),
		cmocka_unit_test(test_sbc_config_every_key),
		cmocka_unit_test(test_sbc_config_broker_default_port),
		cmocka_unit_test(test_sbc_config_ingest_defaults),
		cmocka_unit_test(test_sbc_config_errors_name_the_line),
		cmocka_unit_test(test_sbc_config_duration_units),
		cmocka_unit_test(test_sbc_config_missing_file),
		cmocka_unit_test(test_sbc_config_board_setup_from_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
