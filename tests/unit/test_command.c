/* Unit tests of command parsing: hostile input from the network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "command.h"

/* The parser on a C string, without its NUL. */
static enum robot_command parse(const char *s)
{
	return command_parse(s, strlen(s));
}

static void test_command_plain_words(void **state)
{
	(void)state;
	assert_int_equal(parse("start"), ROBOT_CMD_START);
	assert_int_equal(parse("stop"), ROBOT_CMD_STOP);
}

static void test_command_surrounding_whitespace(void **state)
{
	(void)state;
	assert_int_equal(parse("start\n"), ROBOT_CMD_START);
	assert_int_equal(parse("  stop  "), ROBOT_CMD_STOP);
	assert_int_equal(parse("\r\n\tstart\r\n"), ROBOT_CMD_START);
	assert_int_equal(parse(" {\"action\":\"stop\"}\n"), ROBOT_CMD_STOP);
	/* Whitespace inside the word is not allowed. */
	assert_int_equal(parse("st art"), ROBOT_CMD_INVALID);
	/* Only ASCII whitespace counts. */
	assert_int_equal(parse("\vstart"), ROBOT_CMD_INVALID);
}

static void test_command_json_action(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"action\":\"start\"}"), ROBOT_CMD_START);
	assert_int_equal(parse("{\"action\":\"stop\"}"), ROBOT_CMD_STOP);
	assert_int_equal(parse("{ \"action\" : \"stop\" }"), ROBOT_CMD_STOP);
	assert_int_equal(parse("{\n\t\"action\"\t:\n\"start\"\r\n}"), ROBOT_CMD_START);
}

static void test_command_json_other_members(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"id\":17,\"action\":\"stop\",\"reason\":\"maintenance\"}"),
			 ROBOT_CMD_STOP);
	assert_int_equal(parse("{\"meta\":{\"by\":[1,2.5,-3e4,true,false,null,{}]},"
			       "\"action\":\"start\",\"x\":[]}"),
			 ROBOT_CMD_START);
	/* Only the top-level "action" counts. */
	assert_int_equal(parse("{\"meta\":{\"action\":\"stop\"},\"action\":\"start\"}"),
			 ROBOT_CMD_START);
	assert_int_equal(parse("{\"meta\":{\"action\":\"stop\"}}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"actions\":\"stop\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"Action\":\"stop\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{}"), ROBOT_CMD_INVALID);
}

static void test_command_escaped_strings(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"action\":\"\\u0073tart\"}"), ROBOT_CMD_START);
	assert_int_equal(parse("{\"action\":\"st\\u006Fp\"}"), ROBOT_CMD_STOP);
	assert_int_equal(parse("{\"\\u0061ction\":\"stop\"}"), ROBOT_CMD_STOP);
	assert_int_equal(parse("{\"note\":\"a \\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t\","
			       "\"action\":\"start\"}"),
			 ROBOT_CMD_START);
	/* An escaped NUL or a non-ASCII code point is not "start". */
	assert_int_equal(parse("{\"action\":\"start\\u0000\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"st\\u00e1rt\"}"), ROBOT_CMD_INVALID);
	/* Bad escapes are malformed. */
	assert_int_equal(parse("{\"action\":\"\\x73tart\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"\\u00g3tart\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"start\\u00"), ROBOT_CMD_INVALID);
	/* Raw control characters are not JSON. */
	assert_int_equal(parse("{\"action\":\"st\nart\"}"), ROBOT_CMD_INVALID);
}

static void test_command_duplicate_action(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"action\":\"start\",\"action\":\"stop\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"stop\",\"action\":\"stop\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"stop\",\"\\u0061ction\":\"stop\"}"),
			 ROBOT_CMD_INVALID);
}

static void test_command_non_string_action(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"action\":1}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":true}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":null}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":[\"start\"]}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":{\"start\":1}}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("[\"start\"]"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("\"start\""), ROBOT_CMD_INVALID);
}

static void test_command_unknown_words(void **state)
{
	(void)state;
	assert_int_equal(parse("reboot"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("starts"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("sto"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("start stop"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"reboot\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"startstartstartstart\"}"), ROBOT_CMD_INVALID);
}

static void test_command_case_sensitive(void **state)
{
	(void)state;
	assert_int_equal(parse("STOP"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("Start"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"STOP\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"ACTION\":\"stop\"}"), ROBOT_CMD_INVALID);
}

static void test_command_trailing_garbage(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"action\":\"stop\"}x"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"stop\"}}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"stop\"} {\"action\":\"start\"}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{\"action\":\"stop\",}"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("stop!"), ROBOT_CMD_INVALID);
}

static void test_command_truncated_json(void **state)
{
	static const char full[] = "{\"meta\":[1,{\"a\":\"b\"}],\"action\":\"stop\"}";

	(void)state;
	assert_int_equal(command_parse(full, sizeof(full) - 1), ROBOT_CMD_STOP);
	/* Every proper prefix is malformed. */
	for (size_t n = 1; n < sizeof(full) - 1; n++)
		assert_int_equal(command_parse(full, n), ROBOT_CMD_INVALID);
	/* The parser reads no further than told, whatever follows in memory. */
	assert_int_equal(command_parse("stopped", 4), ROBOT_CMD_STOP);
}

static void test_command_deep_nesting(void **state)
{
	char buf[1000 + 64];
	size_t n;

	(void)state;
	/* 1000 '[' is far over the length limit... */
	memset(buf, '[', 1000);
	assert_int_equal(command_parse(buf, 1000), ROBOT_CMD_INVALID);

	/* ...so also nest, balanced, as deep as fits in a payload it reads. */
	n = (size_t)snprintf(buf, sizeof(buf), "{\"x\":");
	memset(buf + n, '[', 100);
	n += 100;
	memset(buf + n, ']', 100);
	n += 100;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",\"action\":\"stop\"}");
	assert_true(n <= COMMAND_PAYLOAD_MAX);
	assert_int_equal(command_parse(buf, n), ROBOT_CMD_INVALID);

	/* Unbalanced objects all the way to the limit. */
	n = (size_t)snprintf(buf, sizeof(buf), "{\"x\":");
	memset(buf + n, '{', COMMAND_PAYLOAD_MAX - n);
	assert_int_equal(command_parse(buf, COMMAND_PAYLOAD_MAX), ROBOT_CMD_INVALID);
	for (size_t i = 0; i < COMMAND_PAYLOAD_MAX; i++)
		buf[i] = i % 2 ? '[' : '{';
	assert_int_equal(command_parse(buf, COMMAND_PAYLOAD_MAX), ROBOT_CMD_INVALID);

	/* Modest nesting is fine. */
	assert_int_equal(parse("{\"x\":[[[{\"y\":[1]}]]],\"action\":\"stop\"}"), ROBOT_CMD_STOP);
}

static void test_command_nul_bytes(void **state)
{
	static const char start_nul[] = "start\0";
	static const char nul_stop[] = "\0stop";
	static const char json_nul[] = "{\"action\":\"st\0op\"}";
	static const char json_nul_after[] = "{\"action\":\"stop\"}\0";

	(void)state;
	assert_int_equal(command_parse(start_nul, sizeof(start_nul) - 1), ROBOT_CMD_INVALID);
	assert_int_equal(command_parse(nul_stop, sizeof(nul_stop) - 1), ROBOT_CMD_INVALID);
	assert_int_equal(command_parse(json_nul, sizeof(json_nul) - 1), ROBOT_CMD_INVALID);
	assert_int_equal(command_parse(json_nul_after, sizeof(json_nul_after) - 1),
			 ROBOT_CMD_INVALID);
}

/* xorshift32: a fixed sequence, so a failure replays exactly. */
static uint32_t next_random(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void test_command_oversized(void **state)
{
	const size_t big = 100 * 1024;
	uint8_t *buf = malloc(big);
	uint32_t seed = 0x2545f491u;
	char exact[COMMAND_PAYLOAD_MAX + 1];

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < big; i++)
		buf[i] = (uint8_t)next_random(&seed);
	assert_int_equal(command_parse(buf, big), ROBOT_CMD_INVALID);
	/* A valid command followed by lots of bytes is still oversized. */
	memcpy(buf, "stop", 4);
	memset(buf + 4, ' ', big - 4);
	assert_int_equal(command_parse(buf, big), ROBOT_CMD_INVALID);
	free(buf);

	/* 256 bytes is read, 257 is not. */
	memset(exact, ' ', sizeof(exact));
	memcpy(exact, "start", 5);
	assert_int_equal(command_parse(exact, COMMAND_PAYLOAD_MAX), ROBOT_CMD_START);
	assert_int_equal(command_parse(exact, COMMAND_PAYLOAD_MAX + 1), ROBOT_CMD_INVALID);
}

static void test_command_random_bytes(void **state)
{
	uint32_t seed = 12345;
	uint8_t buf[COMMAND_PAYLOAD_MAX];

	(void)state;
	/* Short random payloads: total, and never a command by accident. */
	for (int round = 0; round < 20000; round++) {
		size_t n = next_random(&seed) % sizeof(buf) + 1;

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)next_random(&seed);
		buf[0] = round % 2 ? '{' : buf[0];
		assert_int_equal(command_parse(buf, n), ROBOT_CMD_INVALID);
	}
}

static void test_command_empty(void **state)
{
	(void)state;
	assert_int_equal(command_parse(NULL, 0), ROBOT_CMD_INVALID);
	assert_int_equal(command_parse(NULL, 5), ROBOT_CMD_INVALID);
	assert_int_equal(command_parse("start", 0), ROBOT_CMD_INVALID);
	assert_int_equal(parse(""), ROBOT_CMD_INVALID);
	assert_int_equal(parse("   \n"), ROBOT_CMD_INVALID);
	assert_int_equal(parse("{"), ROBOT_CMD_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_plain_words),
		cmocka_unit_test(test_command_surrounding_whitespace),
		cmocka_unit_test(test_command_json_action),
		cmocka_unit_test(test_command_json_other_members),
		cmocka_unit_test(test_command_escaped_strings),
		cmocka_unit_test(test_command_duplicate_action),
		cmocka_unit_test(test_command_non_string_action),
		cmocka_unit_test(test_command_unknown_words),
		cmocka_unit_test(test_command_case_sensitive),
		cmocka_unit_test(test_command_trailing_garbage),
		cmocka_unit_test(test_command_truncated_json),
		cmocka_unit_test(test_command_deep_nesting),
		cmocka_unit_test(test_command_nul_bytes),
		cmocka_unit_test(test_command_oversized),
		cmocka_unit_test(test_command_random_bytes),
		cmocka_unit_test(test_command_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
