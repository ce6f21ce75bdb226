/*
 * linux-sbc's hal_http (libcurl) against a small HTTP server on a loopback
 * port in a thread of the test: answers, keep-alive, the kept body, and each
 * failure as the negative errno hal_http.h names.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "board.h"
#include "hal_http.h"
#include "hal_time.h"
#include "posix_internal.h"

#define WAIT_LIMIT_MS 5000

/* How the server answers every request of a test. */
enum answer {
	ANSWER_OK,          /* 200 with a short JSON body, keep-alive */
	ANSWER_BIG,         /* 200 with a 4000-byte body */
	ANSWER_503,
	ANSWER_SILENT,      /* reads the request, never answers */
	ANSWER_CUT,         /* half a response, then close */
	ANSWER_GARBAGE,     /* not HTTP */
};

struct server {
	int listen_fd;
	uint16_t port;
	enum answer answer;
	pthread_t thread;
	int accepts;                /* connections taken */
	int requests;               /* requests read */
	char last[4096];            /* the last request, head and body */
	size_t last_len;
	volatile int stop;
};

static struct server srv;
static char root[256];
static char operstate[400];

/* ---- the server ------------------------------------------------------- */

static int poll_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

/* One request from @fd into srv.last: 1, or 0 when the peer closed. */
static int read_request(int fd)
{
	size_t used = 0, need = 0;
	char *head_end = NULL;

	for (int rounds = 0; rounds < 200 && !srv.stop; rounds++) {
		ssize_t n;

		if (poll_in(fd, 50) <= 0)
			continue;
		n = read(fd, srv.last + used, sizeof(srv.last) - 1 - used);
		if (n <= 0)
			return 0;
		used += (size_t)n;
		srv.last[used] = '\0';
		if (!head_end && (head_end = strstr(srv.last, "\r\n\r\n"))) {
			const char *cl = strcasestr(srv.last, "Content-Length:");

			need = (size_t)(head_end + 4 - srv.last) +
			       (cl && cl < head_end ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (head_end && used >= need) {
			srv.last_len = used;
			return 1;
		}
	}
	return 0;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void answer(int fd)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "Content-Length: 20\r\n\r\n{\"status\":\"stored\"}\n";
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
	static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"sta";
	static const char garbage[] = "hello there, this is no HTTP\r\n\r\n";
	char head[128];
	char big[4000];

	switch (srv.answer) {
	case ANSWER_OK:
		write_all(fd, ok, sizeof(ok) - 1);
		break;
	case ANSWER_BIG:
		memset(big, 'x', sizeof(big));
		big[0] = 'A';
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
			 sizeof(big));
		write_all(fd, head, strlen(head));
		write_all(fd, big, sizeof(big));
		break;
	case ANSWER_503:
		write_all(fd, busy, sizeof(busy) - 1);
		break;
	case ANSWER_SILENT:
		break;
	case ANSWER_CUT:
		write_all(fd, cut, sizeof(cut) - 1);
		shutdown(fd, SHUT_RDWR);
		break;
	case ANSWER_GARBAGE:
		write_all(fd, garbage, sizeof(garbage) - 1);
		shutdown(fd, SHUT_RDWR);
		break;
	}
}

static void *serve(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		int fd;

		if (poll_in(srv.listen_fd, 50) <= 0)
			continue;
		if ((fd = accept(srv.listen_fd, NULL, NULL)) < 0)
			continue;
		srv.accepts++;
		/* Keep-alive: one connection carries request after request. */
		while (!srv.stop && read_request(fd)) {
			srv.requests++;
			answer(fd);
		}
		close(fd);
	}
	return NULL;
}

static uint16_t listen_loopback(int *fd_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*fd_out = fd;
	return ntohs(a.sin_port);
}

static void server_start(enum answer a)
{
	memset(&srv, 0, sizeof(srv));
	srv.answer = a;
	srv.port = listen_loopback(&srv.listen_fd);
	assert_int_equal(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void)
{
	srv.stop = 1;
	pthread_join(srv.thread, NULL);
	close(srv.listen_fd);
}

/* ---- the client side --------------------------------------------------- */

static int got_status;
static unsigned char got_body[HAL_HTTP_BODY_MAX + 16];
static size_t got_len;
static int responses;

static void on_response(void *ctx, int status, const void *b, size_t len)
{
	(void)ctx;
	got_status = status;
	assert_true(len <= HAL_HTTP_BODY_MAX);
	memcpy(got_body, b, len);
	got_len = len;
	responses++;
}

static const struct hal_http_callbacks cbs = { .on_response = on_response };

static void set_link(const char *state)
{
	FILE *f = fopen(operstate, "w");

	assert_non_null(f);
	fprintf(f, "%s\n", state);
	fclose(f);
}

/*
 * Wait as the board's poll() wait does, on posix__http_fd() and
 * posix__http_next_event_us(), servicing after each wait, until the
 * response arrives. Returns what the last service returned.
 */
static int run_until_response(void)
{
	uint64_t give_up = hal_time_now_us() + WAIT_LIMIT_MS * 1000u;
	int before = responses, rc = 0;

	while (responses == before && hal_time_now_us() < give_up) {
		bool want_write;
		struct pollfd p = { .fd = posix__http_fd(&want_write), .events = POLLIN };
		uint64_t due = posix__http_next_event_us(), now = hal_time_now_us();
		int ms = due <= now ? 0 : due - now > 100000u ? 100 : (int)((due - now + 999) / 1000);

		assert_true(p.fd >= 0);
		assert_false(want_write);
		poll(&p, 1, ms);
		rc = hal_http_service();
	}
	assert_int_equal(responses, before + 1);
	assert_false(hal_http_busy());
	return rc;
}

static struct hal_http_request post(const char *json)
{
	struct hal_http_request r = {
		.method = "POST", .host = "127.0.0.1", .port = srv.port,
		.path = "/api/sensors/data", .content_type = "application/json",
		.body = json, .body_len = strlen(json), .timeout_ms = 2000,
	};
	return r;
}

static int setup(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/sbc-http-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(operstate, sizeof(operstate), "%s/class/net/eth9/operstate", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/class/net/eth9'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	sbc__http_teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static int each_setup(void **state)
{
	struct sbc_settings s;

	(void)state;
	sbc_settings_defaults(&s);
	snprintf(s.sysfs_root, sizeof(s.sysfs_root), "%s", root);
	snprintf(s.net_iface, sizeof(s.net_iface), "eth9");
	sbc__link_setup(&s);
	set_link("up");
	assert_int_equal(sbc__http_setup(), 0);
	assert_int_equal(hal_http_init(&cbs, NULL), 0);
	responses = 0;
	return 0;
}

/* ---- tests ----------------------------------------------------------- */

static void test_init_needs_callback(void **state)
{
	struct hal_http_callbacks none = { 0 };

	(void)state;
	assert_int_equal(hal_http_init(NULL, NULL), -EINVAL);
	assert_int_equal(hal_http_init(&none, NULL), -EINVAL);
}

static void test_post_answered_on_one_connection(void **state)
{
	const char *json = "{\"device_id\":\"pi\",\"boot\":1,\"seq\":7}";
	struct hal_http_request r;

	(void)state;
	server_start(ANSWER_OK);
	r = post(json);
	assert_false(hal_http_busy());
	assert_int_equal(hal_http_request(&r), 0);
	assert_true(hal_http_busy());
	/* Nothing is reported outside the service call. */
	assert_int_equal(responses, 0);
	assert_int_equal(run_until_response(), 0);
	assert_int_equal(got_status, 200);
	assert_int_equal(got_len, 20);
	assert_memory_equal(got_body, "{\"status\":\"stored\"}\n", 20);
	assert_non_null(strstr(srv.last, "POST /api/sensors/data HTTP/1.1\r\n"));
	assert_non_null(strcasestr(srv.last, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(srv.last, json));
	assert_null(strcasestr(srv.last, "Expect:"));

	/* The next ones reuse the connection: keep-alive. */
	for (int i = 0; i < 3; i++) {
		r = post("{\"seq\":8}");
		assert_int_equal(hal_http_request(&r), 0);
		assert_int_equal(run_until_response(), 0);
		assert_int_equal(got_status, 200);
	}
	assert_int_equal(srv.requests, 4);
	assert_int_equal(srv.accepts, 1);
	server_stop();
}

static void test_get_and_status(void **state)
{
	struct hal_http_request r;

	(void)state;
	server_start(ANSWER_503);
	r = post("{}");
	r.method = "GET";
	r.content_type = NULL;
	r.body = NULL;
	r.body_len = 0;
	r.path = "/api/sensors/pi/command";
	assert_int_equal(hal_http_request(&r), 0);
	/* A status is an answer, not an error, whatever its number. */
	assert_int_equal(run_until_response(), 0);
	assert_int_equal(got_status, 503);
	assert_int_equal(got_len, 0);
	assert_non_null(strstr(srv.last, "GET /api/sensors/pi/command HTTP/1.1\r\n"));
	server_stop();
}

static void test_big_body_keeps_the_first_bytes(void **state)
{
	struct hal_http_request r;

	(void)state;
	server_start(ANSWER_BIG);
	r = post("{}");
	assert_int_equal(hal_http_request(&r), 0);
	assert_int_equal(run_until_response(), 0);
	assert_int_equal(got_status, 200);
	assert_int_equal(got_len, HAL_HTTP_BODY_MAX);
	assert_int_equal(got_body[0], 'A');
	assert_int_equal(got_body[HAL_HTTP_BODY_MAX - 1], 'x');
	server_stop();
}

static void test_refused(void **state)
{
	struct hal_http_request r;
	int fd;

	(void)state;
	/* A port that was just free and has no listener now. */
	memset(&srv, 0, sizeof(srv));
	srv.port = listen_loopback(&fd);
	close(fd);
	r = post("{}");
	assert_int_equal(hal_http_request(&r), 0);
	assert_int_equal(run_until_response(), -ECONNREFUSED);
	assert_int_equal(got_status, -ECONNREFUSED);
}

static void test_silent_server_times_out(void **state)
{
	struct hal_http_request r;
	uint64_t t0;

	(void)state;
	server_start(ANSWER_SILENT);
	r = post("{}");
	r.timeout_ms = 300;
	t0 = hal_time_now_us();
	assert_int_equal(hal_http_request(&r), 0);
	assert_int_equal(run_until_response(), -ETIMEDOUT);
	assert_int_equal(got_status, -ETIMEDOUT);
	assert_true(hal_time_now_us() - t0 >= 280000u);
	assert_true(hal_time_now_us() - t0 < 2000000u);
	server_stop();
}

static void test_cut_response_is_a_reset(void **state)
{
	struct hal_http_request r;

	(void)state;
	server_start(ANSWER_CUT);
	r = post("{}");
	assert_int_equal(hal_http_request(&r), 0);
	assert_int_equal(run_until_response(), -ECONNRESET);
	server_stop();
}

static void test_garbage_is_bad_message(void **state)
{
	struct hal_http_request r;

	(void)state;
	server_start(ANSWER_GARBAGE);
	r = post("{}");
	assert_int_equal(hal_http_request(&r), 0);
	assert_int_equal(run_until_response(), -EBADMSG);
	server_stop();
}

static void test_busy_abort_and_bad_requests(void **state)
{
	static char huge[70000];
	struct hal_http_request r;

	(void)state;
	server_start(ANSWER_SILENT);
	r = post("{}");
	assert_int_equal(hal_http_request(&r), 0);
	assert_int_equal(hal_http_request(&r), -EBUSY);
	hal_http_abort();
	assert_false(hal_http_busy());
	assert_int_equal(posix__http_fd(&(bool){ false }), -1);
	assert_true(posix__http_next_event_us() == UINT64_MAX);
	assert_int_equal(hal_http_service(), 0);
	assert_int_equal(responses, 0);

	r = post("{}");
	r.method = "PUT";
	assert_int_equal(hal_http_request(&r), -EINVAL);
	r = post("{}");
	r.path = "api";
	assert_int_equal(hal_http_request(&r), -EINVAL);
	r = post("{}");
	r.path = "/a b";
	assert_int_equal(hal_http_request(&r), -EINVAL);
	r = post("{}");
	r.content_type = "text/plain\r\nX-Evil: 1";
	assert_int_equal(hal_http_request(&r), -EINVAL);
	r = post("{}");
	r.port = 0;
	assert_int_equal(hal_http_request(&r), -EINVAL);
	memset(huge, 'a', sizeof(huge) - 1);
	r = post(huge);
	assert_int_equal(hal_http_request(&r), -EMSGSIZE);
	assert_false(hal_http_busy());
	server_stop();
}

static void test_link_down(void **state)
{
	struct hal_http_request r;

	(void)state;
	server_start(ANSWER_SILENT);
	set_link("down");
	r = post("{}");
	assert_int_equal(hal_http_request(&r), -ENETUNREACH);
	assert_false(hal_http_busy());

	/* Down under a request in flight: it ends at the next service. */
	set_link("up");
	assert_int_equal(hal_http_request(&r), 0);
	set_link("down");
	assert_int_equal(run_until_response(), -ENETDOWN);
	assert_int_equal(got_status, -ENETDOWN);
	server_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init_needs_callback, each_setup),
		cmocka_unit_test_setup(test_post_answered_on_one_connection, each_setup),
		cmocka_unit_test_setup(test_get_and_status, each_setup),
		cmocka_unit_test_setup(test_big_body_keeps_the_first_bytes, each_setup),
		cmocka_unit_test_setup(test_refused, each_setup),
		cmocka_unit_test_setup(test_silent_server_times_out, each_setup),
		cmocka_unit_test_setup(test_cut_response_is_a_reset, each_setup),
		cmocka_unit_test_setup(test_garbage_is_bad_message, each_setup),
		cmocka_unit_test_setup(test_busy_abort_and_bad_requests, each_setup),
		cmocka_unit_test_setup(test_link_down, each_setup),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
