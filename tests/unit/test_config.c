/* Unit tests of robot_config defaults and validation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "robot_config.h"

/* Validation must fail, and *why must name @field. */
static void assert_rejected(const struct robot_config *cfg, const char *field)
{
	const char *why = NULL;

	assert_int_equal(robot_config_validate(cfg, &why), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, field));
}

static void test_config_defaults_valid(void **state)
{
	struct robot_config cfg;
	const char *why = "not touched";

	(void)state;
	robot_config_defaults(&cfg);
	assert_int_equal(robot_config_validate(&cfg, &why), 0);
	assert_null(why);
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
	assert_string_equal(cfg.device_id, "robot_001");
	assert_string_equal(cfg.broker_host, "127.0.0.1");
	assert_int_equal(cfg.broker_port, 1883);
	assert_int_equal(cfg.publish_interval_ms, 10000);
	assert_int_equal(cfg.topic_style, TOPIC_STYLE_JSON);
}

static void test_config_rejects_device_id(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	strcpy(cfg.device_id, "robot/1");
	assert_rejected(&cfg, "device_id");
	cfg.device_id[0] = '\0';
	assert_rejected(&cfg, "device_id");
	assert_int_equal(robot_config_validate(&cfg, NULL), -EINVAL);
}

static void test_config_rejects_broker(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.broker_host[0] = '\0';
	assert_rejected(&cfg, "broker_host");
	robot_config_defaults(&cfg);
	cfg.broker_port = 0;
	assert_rejected(&cfg, "broker_port");
}

static void test_config_rejects_keepalive(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.keepalive_s = 0;
	assert_rejected(&cfg, "keepalive");
	cfg.keepalive_s = 1;
	assert_rejected(&cfg, "keepalive");
	cfg.keepalive_s = 60;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
}

static void test_config_rejects_intervals(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.publish_interval_ms = 99;
	assert_rejected(&cfg, "publish_interval");
	cfg.publish_interval_ms = 86400001u;
	assert_rejected(&cfg, "publish_interval");
	cfg.publish_interval_ms = 100;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
	cfg.publish_interval_ms = 86400000u;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);

	robot_config_defaults(&cfg);
	cfg.sample_interval_ms = 59;
	assert_rejected(&cfg, "sample_interval");
	cfg.sample_interval_ms = 86400001u;
	assert_rejected(&cfg, "sample_interval");
	cfg.sample_interval_ms = 60;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
}

static void test_config_rejects_median_window(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.median_window = 0;
	assert_rejected(&cfg, "median_window");
	cfg.median_window = ROBOT_MEDIAN_MAX + 1;
	assert_rejected(&cfg, "median_window");
	cfg.median_window = ROBOT_MEDIAN_MAX;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
}

static void test_config_rejects_outbox_capacity(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	assert_int_equal(cfg.outbox_capacity, 600);
	cfg.outbox_capacity = 0;
	assert_rejected(&cfg, "outbox_capacity");
	cfg.outbox_capacity = 4097;
	assert_rejected(&cfg, "outbox_capacity");
	cfg.outbox_capacity = 1;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
	cfg.outbox_capacity = 4096;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
}

static void test_config_rejects_topic_style(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.topic_style = (enum topic_style)(TOPIC_STYLE_BOTH + 1);
	assert_rejected(&cfg, "topic_style");
	cfg.topic_style = TOPIC_STYLE_BOTH;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
}

static void test_config_rejects_link(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.link_attempts_max = 0;
	assert_rejected(&cfg, "link_attempts");
	robot_config_defaults(&cfg);
	cfg.link_attempt_timeout_ms = 9;
	assert_rejected(&cfg, "link_attempt_timeout");
}

static void test_config_rejects_backoff(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.backoff_base_ms = 0;
	assert_rejected(&cfg, "backoff");
	robot_config_defaults(&cfg);
	cfg.backoff_cap_ms = cfg.backoff_base_ms - 1;
	assert_rejected(&cfg, "backoff");
	cfg.backoff_cap_ms = cfg.backoff_base_ms;
	assert_int_equal(robot_config_validate(&cfg, NULL), 0);
}

static void test_config_rejects_shared_pins(void **state)
{
	struct robot_config cfg;

	(void)state;
	robot_config_defaults(&cfg);
	cfg.trig_pin = cfg.dht_pin;
	assert_rejected(&cfg, "pins");
	robot_config_defaults(&cfg);
	cfg.echo_pin = cfg.dht_pin;
	assert_rejected(&cfg, "pins");
	robot_config_defaults(&cfg);
	cfg.echo_pin = cfg.trig_pin;
	assert_rejected(&cfg, "pins");
}

static void test_config_id_valid(void **state)
{
	char id[ROBOT_ID_MAX + 2];

	(void)state;
	assert_true(robot_config_id_valid("robot_001"));
	assert_true(robot_config_id_valid("A-z_0-9"));
	assert_true(robot_config_id_valid("x"));
	memset(id, 'a', ROBOT_ID_MAX);
	id[ROBOT_ID_MAX] = '\0';
	assert_true(robot_config_id_valid(id));
	id[ROBOT_ID_MAX] = 'a';
	id[ROBOT_ID_MAX + 1] = '\0';
	assert_false(robot_config_id_valid(id)); /* 33 characters */
}

static void test_config_id_rejects_topic_characters(void **state)
{
	(void)state;
	assert_false(robot_config_id_valid(""));
	assert_false(robot_config_id_valid("robot/1"));
	assert_false(robot_config_id_valid("robot+"));
	assert_false(robot_config_id_valid("#"));
	assert_false(robot_config_id_valid("robot 1"));
	assert_false(robot_config_id_valid("robot.1"));
	assert_false(robot_config_id_valid("r\xc3\xb6"));
	assert_false(robot_config_id_valid("robot\n"));
}

static void test_config_parse_ingest(void **state)
{
	struct robot_config c;
	const char *why = NULL;

	(void)state;
	robot_config_defaults(&c);
	assert_int_equal(robot_config_parse_ingest("http://10.0.2.2:8080/api/sensors/data", &c, &why), 0);
	assert_null(why);
	assert_string_equal(c.ingest_host, "10.0.2.2");
	assert_int_equal(c.ingest_port, 8080);
	assert_string_equal(c.ingest_path, "/api/sensors/data");
	assert_int_equal(robot_config_parse_ingest("http://ingest.lan", &c, &why), 0);
	assert_string_equal(c.ingest_host, "ingest.lan");
	assert_int_equal(c.ingest_port, 80);
	assert_string_equal(c.ingest_path, "/api/sensors/data");
	assert_int_equal(robot_config_parse_ingest("http://[::1]:81/in/data", &c, &why), 0);
	assert_string_equal(c.ingest_host, "::1");
	assert_string_equal(c.ingest_path, "/in/data");
	assert_int_equal(robot_config_parse_ingest("https://x/", &c, &why), -EINVAL);
	assert_non_null(strstr(why, "https"));
	assert_int_equal(robot_config_parse_ingest("ftp://x/", &c, &why), -EINVAL);
	assert_int_equal(robot_config_parse_ingest("http:///data", &c, &why), -EINVAL);
	assert_int_equal(robot_config_parse_ingest("http://u@x/", &c, &why), -EINVAL);
	assert_int_equal(robot_config_parse_ingest("http://x:0/", &c, &why), -EINVAL);
	assert_int_equal(robot_config_parse_ingest("http://x/a b", &c, &why), -EINVAL);
	assert_int_equal(robot_config_parse_ingest("http://x/a#f", &c, &why), -EINVAL);
	/* unchanged after a refusal */
	assert_string_equal(c.ingest_host, "::1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults_valid),
		cmocka_unit_test(test_config_rejects_device_id),
		cmocka_unit_test(test_config_rejects_broker),
		cmocka_unit_test(test_config_rejects_keepalive),
		cmocka_unit_test(test_config_rejects_intervals),
		cmocka_unit_test(test_config_rejects_median_window),
		cmocka_unit_test(test_config_rejects_topic_style),
		cmocka_unit_test(test_config_rejects_outbox_capacity),
		cmocka_unit_test(test_config_rejects_link),
		cmocka_unit_test(test_config_rejects_backoff),
		cmocka_unit_test(test_config_rejects_shared_pins),
		cmocka_unit_test(test_config_id_valid),
		cmocka_unit_test(test_config_id_rejects_topic_characters),
		cmocka_unit_test(test_config_parse_ingest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
