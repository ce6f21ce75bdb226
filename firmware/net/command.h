/* Parse what arrives on sensors/<id>/command. */
#ifndef NET_COMMAND_H
#define NET_COMMAND_H

#include <stddef.h>

enum robot_command {
	ROBOT_CMD_INVALID = 0, /* unknown, malformed or oversized: count, ignore */
	ROBOT_CMD_START,
	ROBOT_CMD_STOP,
};

/* Longest payload considered at all; anything longer is invalid unread. */
#define COMMAND_PAYLOAD_MAX 256

/*
 * Accepts `start` / `stop` (surrounding ASCII whitespace allowed) or a JSON
 * object whose top-level "action" member is "start" or "stop". Pure and
 * total: any byte sequence of any length yields a value.
 */
enum robot_command command_parse(const void *payload, size_t len);

#endif /* NET_COMMAND_H */
