/*
 * Command parsing. Input comes from the network and is hostile by default:
 * everything is bounded (length, nesting depth, string length) and the
 * parser never reads past @len.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "command.h"

#define JSON_DEPTH_MAX 8
#define ACTION_VALUE_MAX 16

struct cursor {
	const uint8_t *p;
	const uint8_t *end;
};

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct cursor *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
}

static bool accept(struct cursor *c, uint8_t ch)
{
	skip_space(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse a JSON string at the cursor. The decoded text goes to @out when it
 * fits in @cap-1 bytes of ASCII; *@fits tells whether it did.
 */
static bool parse_string(struct cursor *c, char *out, size_t cap, bool *fits)
{
	size_t n = 0;
	bool ok_text = out != NULL;

	skip_space(c);
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		uint8_t ch = *c->p++;
		int code;

		if (ch == '"') {
			if (out)
				out[n < cap ? n : cap - 1] = '\0';
			if (fits)
				*fits = ok_text;
			return true;
		}
		if (ch < 0x20)
			return false; /* raw control characters are not JSON */
		if (ch == '\\') {
			if (c->p >= c->end)
				return false;
			ch = *c->p++;
			switch (ch) {
			case '"': case '\\': case '/': code = ch; break;
			case 'b': code = '\b'; break;
			case 'f': code = '\f'; break;
			case 'n': code = '\n'; break;
			case 'r': code = '\r'; break;
			case 't': code = '\t'; break;
			case 'u':
				if (c->end - c->p < 4)
					return false;
				code = 0;
				for (int i = 0; i < 4; i++) {
					int h = hex_value(c->p[i]);
					if (h < 0)
						return false;
					code = code * 16 + h;
				}
				c->p += 4;
				break;
			default:
				return false;
			}
		} else {
			code = ch;
		}
		if (code == 0 || code > 0x7f || n + 1 >= cap)
			ok_text = false;
		else if (ok_text)
			out[n++] = (char)code;
	}
	return false;
}

static bool parse_value(struct cursor *c, int depth);

static bool parse_literal(struct cursor *c)
{
	static const char *const words[] = { "true", "false", "null" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(c->end - c->p) >= n && memcmp(c->p, words[i], n) == 0) {
			c->p += n;
			return true;
		}
	}
	return false;
}

static bool parse_number(struct cursor *c)
{
	const uint8_t *start = c->p;
	bool digits = false;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	while (c->p < c->end) {
		uint8_t ch = *c->p;
		if (ch >= '0' && ch <= '9')
			digits = true;
		else if (ch != '.' && ch != 'e' && ch != 'E' && ch != '+' && ch != '-')
			break;
		c->p++;
	}
	return digits && c->p > start;
}

static bool parse_array(struct cursor *c, int depth)
{
	if (accept(c, ']'))
		return true;
	do {
		if (!parse_value(c, depth))
			return false;
	} while (accept(c, ','));
	return accept(c, ']');
}

/*
 * Parse an object. At the top level (@action != NULL) remember the "action"
 * member; a second "action" makes the command ambiguous, hence invalid.
 */
static bool parse_object(struct cursor *c, int depth, enum robot_command *action)
{
	if (accept(c, '}'))
		return true;
	do {
		char key[8];
		bool key_fits = false;

		if (!parse_string(c, key, sizeof(key), &key_fits) || !accept(c, ':'))
			return false;
		if (action && key_fits && strcmp(key, "action") == 0) {
			char value[ACTION_VALUE_MAX];
			bool value_fits = false;
			struct cursor probe = *c;

			if (*action != ROBOT_CMD_INVALID)
				return false;
			skip_space(&probe);
			if (probe.p < probe.end && *probe.p == '"') {
				if (!parse_string(c, value, sizeof(value), &value_fits))
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
		if (!parse_value(c, depth))
			return false;
	} while (accept(c, ','));
	return accept(c, '}');
}

static bool parse_value(struct cursor *c, int depth)
{
	if (depth >= JSON_DEPTH_MAX)
		return false;
	skip_space(c);
	if (c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{':
		c->p++;
		return parse_object(c, depth + 1, NULL);
	case '[':
		c->p++;
		return parse_array(c, depth + 1);
	case '"':
		return parse_string(c, NULL, 0, NULL);
	case 't': case 'f': case 'n':
		return parse_literal(c);
	default:
		return parse_number(c);
	}
}

static enum robot_command parse_json(struct cursor *c)
{
	enum robot_command action = ROBOT_CMD_INVALID;

	if (!accept(c, '{') || !parse_object(c, 1, &action))
		return ROBOT_CMD_INVALID;
	skip_space(c);
	return c->p == c->end ? action : ROBOT_CMD_INVALID;
}

enum robot_command command_parse(const void *payload, size_t len)
{
	struct cursor c = { payload, (const uint8_t *)payload + len };

	if (!payload || len == 0 || len > COMMAND_PAYLOAD_MAX)
		return ROBOT_CMD_INVALID;
	skip_space(&c);
	while (c.end > c.p && is_space(c.end[-1]))
		c.end--;
	if (c.p < c.end && *c.p == '{')
		return parse_json(&c);
	if (c.end - c.p == 5 && memcmp(c.p, "start", 5) == 0)
		return ROBOT_CMD_START;
	if (c.end - c.p == 4 && memcmp(c.p, "stop", 4) == 0)
		return ROBOT_CMD_STOP;
	return ROBOT_CMD_INVALID;
}
