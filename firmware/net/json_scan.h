/* A bounded JSON scanner shared by the parsers of what the cloud sends. */
#ifndef NET_JSON_SCAN_H
#define NET_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 8

/* What is left to read: [p, end). */
struct json_cursor {
	const uint8_t *p;
	const uint8_t *end;
};

bool json_is_space(uint8_t c);
void json_skip_space(struct json_cursor *c);
/* Skip space; consume @ch if it comes next. */
bool json_accept(struct json_cursor *c, uint8_t ch);
/*
 * Parse a JSON string at the cursor. The decoded text goes to @out when it
 * fits in @cap-1 bytes of ASCII; *@fits tells whether it did. @out may be
 * NULL to skip the string.
 */
bool json_string(struct json_cursor *c, char *out, size_t cap, bool *fits);
/* Skip one value of any kind, @depth levels deep already. */
bool json_value(struct json_cursor *c, int depth);

#endif /* NET_JSON_SCAN_H */
