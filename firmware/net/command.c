/*
 * Command parsing. Input comes from the network and is hostile by default:
 * everything is bounded (length, nesting depth, string length) and the
 * parser never reads past @len.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "command.h"
#include "json_scan.h"

#define ACTION_VALUE_MAX 16

/*
 * Parse the top-level object and remember its "action"
 * member; a second "action" makes the command ambiguous, hence invalid.
 */
static bool parse_object(struct json_cursor *c, enum robot_command *action)
{
	if (json_accept(c, '}'))
		return true;
	do {
		char key[8];
		bool key_fits = false;

		if (!json_string(c, key, sizeof(key), &key_fits) || !json_accept(c, ':'))
			return false;
		if (key_fits && strcmp(key, "action") == 0) {
			char value[ACTION_VALUE_MAX];
			bool value_fits = false;
			struct json_cursor probe = *c;

			if (*action != ROBOT_CMD_INVALID)
				return false;
			json_skip_space(&probe);
			if (probe.p < probe.end && *probe.p == '"') {
				if (!json_string(c, value, sizeof(value), &value_fits))
					return false;
				if (value_fits && strcmp(value, "start") == 0)
					*action = ROBOT_CMD_START;
				else if (value_fits && strcmp(value, "stop") == 0)
					*action = ROBOT_CMD_STOP;
				else
					return false;
				continue;
			}
			return false; /* "action" must be a string */
		}
		if (!json_value(c, 1))
			return false;
	} while (json_accept(c, ','));
	return json_accept(c, '}');
}

static enum robot_command parse_json(struct json_cursor *c)
{
	enum robot_command action = ROBOT_CMD_INVALID;

	if (!json_accept(c, '{') || !parse_object(c, &action))
		return ROBOT_CMD_INVALID;
	json_skip_space(c);
	return c->p == c->end ? action : ROBOT_CMD_INVALID;
}

enum robot_command command_parse(const void *payload, size_t len)
{
	struct json_cursor c = { payload, (const uint8_t *)payload + len };

	if (!payload || len == 0 || len > COMMAND_PAYLOAD_MAX)
		return ROBOT_CMD_INVALID;
	json_skip_space(&c);
	while (c.end > c.p && json_is_space(c.end[-1]))
		c.end--;
	if (c.p < c.end && *c.p == '{')
		return parse_json(&c);
	if (c.end - c.p == 5 && memcmp(c.p, "start", 5) == 0)
		return ROBOT_CMD_START;
	if (c.end - c.p == 4 && memcmp(c.p, "stop", 4) == 0)
		return ROBOT_CMD_STOP;
	return ROBOT_CMD_INVALID;
}
