/*
 * A bounded JSON scanner for what arrives from the network: it checks the
 * grammar, decodes the strings a caller asks for, and never reads past the
 * cursor's end or nests deeper than JSON_DEPTH_MAX.
 */
#include <string.h>

#include "json_scan.h"

bool json_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void json_skip_space(struct json_cursor *c)
{
	while (c->p < c->end && json_is_space(*c->p))
		c->p++;
}

bool json_accept(struct json_cursor *c, uint8_t ch)
{
	json_skip_space(c);
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

bool json_string(struct json_cursor *c, char *out, size_t cap, bool *fits)
{
	size_t n = 0;
	bool ok_text = out != NULL;

	json_skip_space(c);
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

static bool parse_literal(struct json_cursor *c)
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

static bool parse_number(struct json_cursor *c)
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

static bool parse_object(struct json_cursor *c, int depth);

static bool parse_array(struct json_cursor *c, int depth)
{
	if (json_accept(c, ']'))
		return true;
	do {
		if (!json_value(c, depth))
			return false;
	} while (json_accept(c, ','));
	return json_accept(c, ']');
}

static bool parse_object(struct json_cursor *c, int depth)
{
	if (json_accept(c, '}'))
		return true;
	do {
		if (!json_string(c, NULL, 0, NULL) || !json_accept(c, ':') || !json_value(c, depth))
			return false;
	} while (json_accept(c, ','));
	return json_accept(c, '}');
}

bool json_value(struct json_cursor *c, int depth)
{
	if (depth >= JSON_DEPTH_MAX)
		return false;
	json_skip_space(c);
	if (c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{':
		c->p++;
		return parse_object(c, depth + 1);
	case '[':
		c->p++;
		return parse_array(c, depth + 1);
	case '"':
		return json_string(c, NULL, 0, NULL);
	case 't': case 'f': case 'n':
		return parse_literal(c);
	default:
		return parse_number(c);
	}
}
