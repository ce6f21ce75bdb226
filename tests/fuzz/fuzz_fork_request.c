/* libFuzzer target: fork_request_parse() on arbitrary request bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fork_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[FORK_REQUEST_MAX];
	char *argv[FORK_ARGS_MAX];
	const char *log;
	size_t used = 0;
	int argc;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	argc = fork_request_parse(buf, size, &log, argv, FORK_ARGS_MAX);
	if (argc == -EINVAL)
		return 0;
	/* Accepted: every string lies inside the request, end to end. */
	if (argc < 1 || argc >= FORK_ARGS_MAX || argv[argc] != NULL || log != buf ||
	    argv[0][0] == '\0')
		abort();
	used = strlen(log) + 1;
	for (int k = 0; k < argc; k++) {
		if (argv[k] != buf + used)
			abort();
		used += strlen(argv[k]) + 1;
	}
	if (used != size)
		abort();
	return 0;
}
