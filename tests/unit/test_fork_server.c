/*
 * robofleet-device's fork server (hw-shim/fork_server.c): the request
 * parser on good and bad requests, and the server itself over a socket,
 * starting "devices" (a stand-in main) that are this test's own children.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fork_server.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static void test_parse_splits_log_and_arguments(void **state)
{
	char buf[] = "/tmp/x.log\0robofleet-device\0--id\0robot_1";
	char *argv[8];
	const char *log;

	(void)state;
	assert_int_equal(fork_request_parse(buf, sizeof(buf), &log, argv, 8), 3);
	assert_string_equal(log, "/tmp/x.log");
	assert_string_equal(argv[0], "robofleet-device");
	assert_string_equal(argv[2], "robot_1");
	assert_null(argv[3]);
}

static void test_parse_refuses_bad_requests(void **state)
{
	char no_nul[] = { 'a', 0, 'b' };
	char no_args[] = "log";
	char empty_prog[] = "log\0";
	char many[] = "\0a\0b\0c\0d";
	char *argv[4];
	const char *log;

	(void)state;
	assert_int_equal(fork_request_parse(no_nul, sizeof(no_nul), &log, argv, 4), -EINVAL);
	assert_int_equal(fork_request_parse(no_args, sizeof(no_args), &log, argv, 4), -EINVAL);
	assert_int_equal(fork_request_parse(empty_prog, sizeof(empty_prog), &log, argv, 4), -EINVAL);
	/* Four arguments do not fit three pointers and the NULL. */
	assert_int_equal(fork_request_parse(many, sizeof(many), &log, argv, 4), -EINVAL);
	assert_int_equal(fork_request_parse(many, 0, &log, argv, 4), -EINVAL);
	assert_int_equal(fork_request_parse(NULL, 4, &log, argv, 4), -EINVAL);
}

/* The stand-in device: says what it got on stderr (its log), exits 7. */
static int fake_device(int argc, char **argv)
{
	fprintf(stderr, "argc=%d", argc);
	for (int k = 0; k < argc; k++)
		fprintf(stderr, " %s", argv[k]);
	fprintf(stderr, "\n");
	return 7;
}

/* A fork server in a child of ours on socket pair @sv; we keep sv[0]. */
static pid_t start_server(int sv[2])
{
	pid_t server;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	server = fork();
	assert_true(server >= 0);
	if (server == 0) {
		close(sv[0]);
		_exit(fork_server_run(sv[1], fake_device, NULL, 0));
	}
	close(sv[1]);
	return server;
}

static void send_request(int fd, const char *req, uint32_t len)
{
	assert_int_equal(write(fd, &len, sizeof(len)), (ssize_t)sizeof(len));
	assert_int_equal(write(fd, req, len), (ssize_t)len);
}

static void test_server_starts_devices_as_our_children(void **state)
{
	char log[] = "/tmp/robofleet-fork-test-XXXXXX";
	char req[256], text[256] = "";
	int sv[2], status, lfd, n;
	int32_t answer;
	pid_t server, dev;
	FILE *f;

	(void)state;
	lfd = mkstemp(log);
	assert_true(lfd >= 0);
	close(lfd);
	server = start_server(sv);
	n = snprintf(req, sizeof(req), "%s", log) + 1;
	memcpy(req + n, "dev\0--id\0robot_7", 17);
	if (SANITIZED) {
		/* Refused: the server ends (an end of file, or a reset for the
		 * request it left unread), robofleet spawns instead. The
		 * request may meet a closed socket. */
		signal(SIGPIPE, SIG_IGN);
		(void)!write(sv[0], req, (size_t)n + 17);
		assert_true(read(sv[0], &answer, sizeof(answer)) <= 0);
		assert_int_equal(waitpid(server, &status, 0), server);
		assert_int_equal(WEXITSTATUS(status), 3);
		close(sv[0]);
		unlink(log);
		return;
	}
	send_request(sv[0], req, (uint32_t)n + 17);
	assert_int_equal(read(sv[0], &answer, sizeof(answer)), (ssize_t)sizeof(answer));
	assert_true(answer > 0);
	dev = (pid_t)answer;
	/* CLONE_PARENT: the device is ours to wait for, not the server's. */
	assert_int_equal(waitpid(dev, &status, 0), dev);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	f = fopen(log, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "argc=3 dev --id robot_7\n");
	/* A malformed request is answered, not fatal; an oversized one ends it. */
	send_request(sv[0], "log", 4);
	assert_int_equal(read(sv[0], &answer, sizeof(answer)), (ssize_t)sizeof(answer));
	assert_int_equal(answer, -EINVAL);
	{
		uint32_t huge = FORK_REQUEST_MAX + 1;
		assert_int_equal(write(sv[0], &huge, sizeof(huge)), (ssize_t)sizeof(huge));
	}
	assert_int_equal(waitpid(server, &status, 0), server);
	assert_int_equal(WEXITSTATUS(status), 2);
	close(sv[0]);
	unlink(log);
}

static void test_server_ends_when_robofleet_closes(void **state)
{
	int sv[2], status;
	pid_t server;

	(void)state;
	server = start_server(sv);
	close(sv[0]);
	assert_int_equal(waitpid(server, &status, 0), server);
	assert_int_equal(WEXITSTATUS(status), SANITIZED ? 3 : 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_splits_log_and_arguments),
		cmocka_unit_test(test_parse_refuses_bad_requests),
		cmocka_unit_test(test_server_starts_devices_as_our_children),
		cmocka_unit_test(test_server_ends_when_robofleet_closes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
