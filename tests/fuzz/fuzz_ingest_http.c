/*
 * libFuzzer target: the whole ingest endpoint on arbitrary bytes. Each input
 * is written as is to a fresh connection to a running endpoint (the same
 * path as a device's: our accept thread hands the socket to libmicrohttpd
 * with MHD_add_connection, its parser, on_request(), the recorder and its
 * database), the write side is shut, and the answer is read to the end.
 * The input's first byte puts a server fault in force (none, a status, a
 * slow answer, a reset). Beyond not crashing or hanging: an answer is an
 * HTTP status line, and every 64 inputs a valid reading must still be
 * answered 200 (no input may wedge the server).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct recorder *rec;
static struct ingest *in;
static uint64_t inputs;

static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static char dir[] = "/tmp/fuzz-ingest-XXXXXX";
static char db[64];

/* libFuzzer ends with exit(): leave no database behind in /tmp. */
static void teardown(void)
{
	char wal[80];

	ingest_stop(in);
	recorder_close(rec);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", db);
	unlink(wal);
	unlink(db);
	rmdir(dir);
}

static void setup(void)
{
	char err[200];
	struct recorder_opts ro = { .client_id = "fuzz_ingest", .batch_ms = 1, .log = quiet };
	struct ingest_opts io = { .max_body = 4096, .idle_timeout_s = 1, .log = quiet };

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof(db), "%s/record.db", dir);
	ro.db_path = db;
	if (recorder_open(&ro, &rec) < 0)
		abort();
	io.recorder = rec;
	if (ingest_start(&io, &in, err, sizeof(err)) < 0) {
		fprintf(stderr, "ingest_start: %s\n", err);
		abort();
	}
	atexit(teardown);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send @len bytes on a new connection and read the answer (at most 5 s); returns its length. */
static size_t exchange(const void *req, size_t len, char *answer, size_t cap)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ingest_port(in)) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int64_t until = mono_ms() + 5000;
	size_t got = 0;

	assert(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return 0;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, (const char *)req + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = until - mono_ms();
		char sink[512];
		ssize_t n;

		/* The server closes within its idle timeout (1 s) whatever it was sent. */
		assert(left > 0);
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = got < cap - 1 ? recv(fd, answer + got, cap - 1 - got, 0) : recv(fd, sink, sizeof(sink), 0);
		if (n <= 0)
			break;
		if (got < cap - 1)
			got += (size_t)n;
	}
	answer[got] = '\0';
	close(fd);
	return got;
}

static void still_serving(void)
{
	static const char body[] = "{\"device_id\":\"fz\",\"boot\":1,\"seq\":1,\"sensors\":{\"temperature\":1}}";
	char req[256], answer[512];
	int n = snprintf(req, sizeof(req), "POST /api/sensors/data HTTP/1.1\r\nHost: x\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 sizeof(body) - 1, body);

	ingest_set_fault(in, INGEST_FAULT_NONE, 0, 0);
	exchange(req, (size_t)n, answer, sizeof(answer));
	if (strncmp(answer, "HTTP/1.1 200", 12) != 0) {
		fprintf(stderr, "a valid reading was answered: %.80s\n", answer);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char answer[512];
	size_t n;

	if (!in)
		setup();
	if (size == 0)
		return 0;
	switch (data[0] & 7) {
	case 1: ingest_set_fault(in, INGEST_FAULT_STATUS, 503, 0); break;
	case 2: ingest_set_fault(in, INGEST_FAULT_SLOW, 0, 5); break;
	case 3: ingest_set_fault(in, INGEST_FAULT_RESET, 0, 0); break;
	default: ingest_set_fault(in, INGEST_FAULT_NONE, 0, 0); break;
	}
	n = exchange(data + 1, size - 1, answer, sizeof(answer));
	if (n)
		assert(strncmp(answer, "HTTP/1.", 7) == 0);
	if (++inputs % 64 == 0)
		still_serving();
	return 0;
}
