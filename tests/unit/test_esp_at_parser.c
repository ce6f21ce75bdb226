/* The ESP-AT line parser fed with recorded transcripts: garbage, split and
 * overlong lines, busy replies, timeouts, a module that reboots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp_at_fake.h"

static void test_esp_at_escape_quotes_commas_backslashes(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(esp_at_escape("a,b\"c\\d", 7, out, sizeof(out)), 10);
	assert_string_equal(out, "a\\,b\\\"c\\\\d");
	assert_int_equal(esp_at_escape("abcdef", 6, out, 6), -EMSGSIZE);
	assert_int_equal(esp_at_escape("", 0, out, 1), 0);
}

static void test_esp_at_sync_sequence(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "AT\r\n");
	fake_rx(&f, "AT\r\r\n\r\nOK\r\n");
	assert_string_equal(fake_take(&f), "ATE0\r\n");
	fake_rx(&f, "ATE0\r\r\n\r\nOK\r\n");
	assert_string_equal(fake_take(&f), "AT+CWMODE=1\r\n");
	fake_rx(&f, "\r\nOK\r\n");
	assert_string_equal(fake_take(&f), "AT+MQTTCLEAN=0\r\n");
	fake_rx(&f, "\r\nERROR\r\n");
	assert_true(f.at.synced);
	assert_string_equal(fake_take(&f), "");
	assert_int_equal(f.at.stats.garbage_lines, 0); /* echoes are not garbage */
}

static void test_esp_at_no_module_probes_again(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "AT\r\n");
	fake_advance(&f, ESP_AT_TIMEOUT_US);
	assert_string_equal(fake_take(&f), "");
	fake_advance(&f, ESP_AT_SYNC_RETRY_US);
	assert_string_equal(fake_take(&f), "AT\r\n");
}

static void test_esp_at_garbage_and_split_lines(void **state)
{
	struct fake f;
	static const char noise[] = "\x00\xff\xfe~~\x1b[0m\r\nrst cause:2, boot mode:(3,6)\r\n";

	(void)state;
	fake_init(&f);
	esp_at_poll(&f.at, f.now);
	fake_take(&f);
	fake_rx_n(&f, noise, sizeof(noise) - 1);
	assert_false(f.at.synced);
	assert_int_equal(f.at.cmd, ESP_CMD_AT); /* still waiting for its OK */
	fake_rx(&f, "O");
	assert_string_equal(fake_take(&f), "");
	fake_rx(&f, "K");
	fake_rx(&f, "\r");
	assert_string_equal(fake_take(&f), "ATE0\r\n");
	fake_rx(&f, "\nO");
	fake_rx(&f, "K\r\n");
	assert_string_equal(fake_take(&f), "AT+CWMODE=1\r\n");
	assert_true(f.at.stats.garbage_lines >= 2);
}

static void test_esp_at_overlong_line_is_skipped(void **state)
{
	struct fake f;
	char big[ESP_AT_LINE_MAX * 3];

	(void)state;
	fake_init(&f);
	esp_at_poll(&f.at, f.now);
	fake_take(&f);
	memset(big, 'O', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fake_rx(&f, big);
	fake_rx(&f, "K\r\n"); /* "OOO...OK" must not count as OK */
	assert_int_equal(f.at.cmd, ESP_CMD_AT);
	assert_int_equal(f.at.stats.overlong_lines, 1);
	fake_rx(&f, "OK\r\n");
	assert_string_equal(fake_take(&f), "ATE0\r\n");
}

static void test_esp_at_busy_resends_later(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	fake_sync(&f);
	assert_int_equal(esp_at_link_connect(&f.at), 0);
	esp_at_poll(&f.at, f.now);
	assert_string_equal(fake_take(&f), "AT+CWJAP=\"lab-ap\",\"pa\\,ss\\\"word\"\r\n");
	fake_rx(&f, "busy p...\r\n");
	assert_string_equal(fake_take(&f), "");
	fake_advance(&f, ESP_AT_BUSY_RETRY_US - 1);
	assert_string_equal(fake_take(&f), "");
	fake_advance(&f, 1);
	assert_string_equal(fake_take(&f), "AT+CWJAP=\"lab-ap\",\"pa\\,ss\\\"word\"\r\n");
	fake_rx(&f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	assert_int_equal(esp_at_link_state(&f.at), HAL_LINK_UP);
	assert_string_equal(fake_take(&f), "AT+CWJAP?\r\n");
	fake_rx(&f, "+CWJAP:\"lab-ap\",\"aa:bb:cc:dd:ee:ff\",6,-57,0,1,3,0,1\r\n\r\nOK\r\n");
	int rssi = 0;
	assert_int_equal(esp_at_link_rssi(&f.at, &rssi), 0);
	assert_int_equal(rssi, -57);
	assert_int_equal(f.at.stats.busy, 1);
}

static void test_esp_at_join_failure_is_link_down(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	fake_sync(&f);
	esp_at_link_connect(&f.at);
	assert_int_equal(esp_at_link_connect(&f.at), -EALREADY);
	esp_at_poll(&f.at, f.now);
	fake_take(&f);
	fake_rx(&f, "+CWJAP:3\r\n\r\nFAIL\r\n");
	assert_int_equal(esp_at_link_state(&f.at), HAL_LINK_DOWN);
	int rssi;
	assert_int_equal(esp_at_link_rssi(&f.at, &rssi), -ENOTCONN);
}

static void test_esp_at_timeout_resyncs(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	fake_sync(&f);
	esp_at_link_connect(&f.at);
	esp_at_poll(&f.at, f.now);
	fake_take(&f);
	fake_advance(&f, ESP_AT_JOIN_TIMEOUT_US);
	assert_int_equal(esp_at_link_state(&f.at), HAL_LINK_DOWN);
	assert_false(f.at.synced);
	assert_string_equal(fake_take(&f), "AT\r\n");
	assert_int_equal(f.at.stats.resyncs, 1);
}

static void test_esp_at_next_deadline(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f);
	assert_int_equal(esp_at_next_deadline(&f.at), 0); /* the first probe is due */
	fake_sync(&f);
	assert_true(esp_at_next_deadline(&f.at) == UINT64_MAX);
	esp_at_link_connect(&f.at);
	assert_int_equal(esp_at_next_deadline(&f.at), 0);
	esp_at_poll(&f.at, f.now);
	assert_true(esp_at_next_deadline(&f.at) == f.now + ESP_AT_JOIN_TIMEOUT_US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esp_at_escape_quotes_commas_backslashes),
		cmocka_unit_test(test_esp_at_sync_sequence),
		cmocka_unit_test(test_esp_at_no_module_probes_again),
		cmocka_unit_test(test_esp_at_garbage_and_split_lines),
		cmocka_unit_test(test_esp_at_overlong_line_is_skipped),
		cmocka_unit_test(test_esp_at_busy_resends_later),
		cmocka_unit_test(test_esp_at_join_failure_is_link_down),
		cmocka_unit_test(test_esp_at_timeout_resyncs),
		cmocka_unit_test(test_esp_at_next_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
