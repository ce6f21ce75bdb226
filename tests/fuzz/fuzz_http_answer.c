/* libFuzzer target: http_answer_parse() on arbitrary bytes an ingest endpoint could send. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_answer a;
	int rc = http_answer_parse(data, size, &a);

	if (rc != 0 && rc != -74 /* -EBADMSG */)
		abort();
	/* A refused answer carries no command; a command is one of the three. */
	if (rc != 0 && (a.has_command || a.has_command_id))
		abort();
	if (a.command != ROBOT_CMD_INVALID && a.command != ROBOT_CMD_START &&
	    a.command != ROBOT_CMD_STOP)
		abort();
	return 0;
}
