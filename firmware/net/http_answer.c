/*
 * The ingest endpoint's answer, from the network and so hostile by default:
 * bounded in length and depth by the shared JSON scanner; the command word
 * itself goes through command_parse(), so both transports accept the same.
 */
#include <errno.h>
#include <string.h>

#include "http_answer.h"
#include "json_scan.h"

#define KEY_MAX 16
#define WORD_MAX 16

/* A whole number in 0..UINT32_MAX; a fraction, exponent or sign is refused. */
static bool parse_id(struct json_cursor *c, uint32_t *out)
{
	uint64_t v = 0;
	const uint8_t *start;

	json_skip_space(c);
	start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		v = v * 10u + (uint64_t)(*c->p - '0');
		if (v > UINT32_MAX)
			return false;
		c->p++;
	}
	if (c->p == start || (c->p - start > 1 && *start == '0'))
		return false;
	if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_command(struct json_cursor *c, struct http_answer *a)
{
	char word[WORD_MAX];
	bool fits = false;

	json_skip_space(c);
	if ((size_t)(c->end - c->p) >= 4 && memcmp(c->p, "null", 4) == 0) {
		c->p += 4;
		return true;
	}
	if (!json_string(c, word, sizeof(word), &fits))
		return false;
	a->has_command = true;
	a->command = fits ? command_parse(word, strlen(word)) : ROBOT_CMD_INVALID;
	return true;
}

static bool parse_members(struct json_cursor *c, struct http_answer *a)
{
	bool seen_command = false;

	if (json_accept(c, '}'))
		return true;
	do {
		char key[KEY_MAX];
		bool fits = false;

		if (!json_string(c, key, sizeof(key), &fits) || !json_accept(c, ':'))
			return false;
		if (fits && strcmp(key, "command") == 0) {
			if (seen_command || !parse_command(c, a))
				return false;
			seen_command = true;
		} else if (fits && strcmp(key, "command_id") == 0) {
			json_skip_space(c);
			if (a->has_command_id)
				return false;
			if ((size_t)(c->end - c->p) >= 4 && memcmp(c->p, "null", 4) == 0) {
				c->p += 4;
				continue;
			}
			if (!parse_id(c, &a->command_id))
				return false;
			a->has_command_id = true;
		} else if (!json_value(c, 1)) {
			return false;
		}
	} while (json_accept(c, ','));
	return json_accept(c, '}');
}

int http_answer_parse(const void *body, size_t len, struct http_answer *a)
{
	struct json_cursor c = { body, (const uint8_t *)body + len };

	memset(a, 0, sizeof(*a));
	if (len == 0)
		return 0;
	if (!body || len > HTTP_ANSWER_MAX)
		return -EBADMSG;
	if (!json_accept(&c, '{') || !parse_members(&c, a)) {
		memset(a, 0, sizeof(*a));
		return -EBADMSG;
	}
	json_skip_space(&c);
	if (c.p != c.end) {
		memset(a, 0, sizeof(*a));
		return -EBADMSG;
	}
	return 0;
}
