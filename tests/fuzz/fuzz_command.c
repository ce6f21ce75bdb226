/* libFuzzer target: command_parse() on arbitrary bytes from the network. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum robot_command cmd = command_parse(data, size);
	uint8_t padded[COMMAND_PAYLOAD_MAX];

	if (cmd != ROBOT_CMD_INVALID && cmd != ROBOT_CMD_START && cmd != ROBOT_CMD_STOP)
		abort();
	/* Oversized payloads are never read, let alone obeyed. */
	if (size > COMMAND_PAYLOAD_MAX && cmd != ROBOT_CMD_INVALID)
		abort();
	/* Surrounding whitespace never changes the meaning. */
	if (size + 2 <= COMMAND_PAYLOAD_MAX) {
		padded[0] = ' ';
		memcpy(padded + 1, data, size);
		padded[size + 1] = '\n';
		if (command_parse(padded, size + 2) != cmd)
			abort();
	}
	return 0;
}
