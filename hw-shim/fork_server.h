#ifndef HW_SHIM_FORK_SERVER_H
#define HW_SHIM_FORK_SERVER_H

#include <stddef.h>

/* The largest request and the most arguments one may carry. */
#define FORK_REQUEST_MAX 65536u
#define FORK_ARGS_MAX 256

/*
 * A request names the device's log file and its command line, each string
 * NUL-terminated, one after the other: "LOG\0ARGV0\0ARGV1\0...". LOG may
 * be empty (stderr stays where it is). Splits @buf (@len bytes, changed in
 * place) into @log and @argv (room for @max pointers, NULL-terminated).
 * Returns argc (at least 1), or -EINVAL for anything else.
 */
int fork_request_parse(char *buf, size_t len, const char **log, char **argv, int max);

/*
 * robofleet-device --fork-server FD: read requests from the socket @fd and
 * start one device per request with @device_main, answering each with the
 * new process's pid (int32, host order) or a negative errno. Returns when
 * the other end closes the socket (0) or breaks the protocol (2). @title
 * (@title_room bytes: the server's own argument strings) is where each
 * device writes its command line for ps to show.
 */
int fork_server_run(int fd, int (*device_main)(int argc, char **argv), char *title,
		    size_t title_room);

#endif /* HW_SHIM_FORK_SERVER_H */
