/*
 * The ingest endpoint's answers to an HTTP robot: to a reading,
 * {"status":"stored","command":"stop","command_id":7}; to a command poll,
 * {"command":"start","command_id":8} or {"command":null}.
 */
#ifndef NET_HTTP_ANSWER_H
#define NET_HTTP_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command.h"

/* Longest answer considered at all (a board keeps 512 bytes of a body). */
#define HTTP_ANSWER_MAX 1024

struct http_answer {
	bool has_command;          /* "command" was a string (not null or absent) */
	enum robot_command command; /* INVALID for a word other than start/stop */
	bool has_command_id;
	uint32_t command_id;       /* 0..UINT32_MAX */
};

/*
 * Parse @body (@len bytes, not NUL-terminated). Returns 0 and fills @a for a
 * JSON object (other members are skipped); -EBADMSG for anything else, a
 * repeated "command" or "command_id", a "command" that is neither a string
 * nor null, or a "command_id" that is not a whole number in 0..2^32-1.
 * An empty body is an answer without a command. Pure and total.
 */
int http_answer_parse(const void *body, size_t len, struct http_answer *a);

#endif /* NET_HTTP_ANSWER_H */
