/*
 * hal_http for the virtual robot: a non-blocking HTTP/1.1 client over one
 * socket, kept alive between requests (one connection per device), under
 * the link model as the MQTT session is: no request starts while the link
 * is down (-ENETUNREACH), a request in flight ends with -ENETDOWN when it
 * drops, and each request waits the link's transmit delay before its
 * bytes leave (a lost one never leaves: the request then ends by its
 * timeout or the link's drop). Names go through the virtual network
 * (net_names.c), like the broker's.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hal_http.h"
#include "hal_link.h"
#include "hal_time.h"
#include "http_response.h"
#include "net_names.h"
#include "posix_internal.h"
#include "shim_internal.h"

#define REQUEST_HEAD_MAX 1024
#define HTTP_REQUEST_BODY_MAX 4096u

enum stage { IDLE, HELD, CONNECTING, SENDING, RECEIVING };

static const struct hal_http_callbacks *cbs;
static void *cb_ctx;
static int fd = -1;
static char conn_host[256];   /* what the open connection leads to */
static uint16_t conn_port;
static enum stage stage = IDLE;
static uint64_t due_us;       /* HELD: when the radio lets the bytes go */
static bool lost;             /* HELD: they never go */
static uint64_t deadline_us;  /* the whole exchange */
static char *out;             /* the request, head and body */
static size_t out_len, out_sent;
static char method[8];
static struct http_response resp;
static char host[256];
static uint16_t port;

int hal_http_init(const struct hal_http_callbacks *cb, void *ctx)
{
	if (!cb || !cb->on_response)
		return -EINVAL;
	cbs = cb;
	cb_ctx = ctx;
	return 0;
}

bool hal_http_busy(void)
{
	return stage != IDLE;
}

static void close_conn(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	conn_host[0] = '\0';
}

static void end_request(void)
{
	free(out);
	out = NULL;
	out_len = out_sent = 0;
	stage = IDLE;
}

void hal_http_abort(void)
{
	if (stage == IDLE)
		return;
	/* Half a request or an unread answer: the connection is no use. */
	if (stage != HELD)
		close_conn();
	end_request();
}

static bool valid_token(const char *s, bool path)
{
	if (!s || !*s || strlen(s) > 512)
		return false;
	if (path && s[0] != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int hal_http_request(const struct hal_http_request *req)
{
	char head[REQUEST_HEAD_MAX];
	int n;

	if (!cbs || !req || !valid_token(req->method, false) || strlen(req->method) >= sizeof(method) ||
	    !valid_token(req->host, false) || strlen(req->host) >= sizeof(host) || req->port == 0 ||
	    !valid_token(req->path, true) || (req->body_len && !req->body) ||
	    (req->content_type && !valid_token(req->content_type, false)))
		return -EINVAL;
	if (stage != IDLE)
		return -EBUSY;
	if (req->body_len > HTTP_REQUEST_BODY_MAX)
		return -EMSGSIZE;
	if (hal_link_get_state() != HAL_LINK_UP)
		return -ENETUNREACH;
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: robofleet-device\r\n"
		     "Connection: keep-alive\r\n",
		     req->method, req->path, req->host, (unsigned int)req->port);
	if (n > 0 && (size_t)n < sizeof(head) && req->content_type)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n", req->content_type,
			      req->body_len);
	else if (n > 0 && (size_t)n < sizeof(head) && req->body_len)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n",
			      req->body_len);
	if (n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (n <= 0 || (size_t)n >= sizeof(head))
		return -EINVAL;
	out = malloc((size_t)n + req->body_len);
	if (!out)
		return -EIO;
	memcpy(out, head, (size_t)n);
	if (req->body_len)
		memcpy(out + n, req->body, req->body_len);
	out_len = (size_t)n + req->body_len;
	out_sent = 0;
	snprintf(method, sizeof(method), "%s", req->method);
	snprintf(host, sizeof(host), "%s", req->host);
	port = req->port;
	http_response_init(&resp, method);
	deadline_us = hal_time_now_us() + (uint64_t)req->timeout_ms * 1000u;
	/* The radio decides when (and whether) the request gets through. */
	{
		uint32_t delay_ms = 0;

		lost = shim__link_transmit(&delay_ms) < 0;
		due_us = hal_time_now_us() + (uint64_t)delay_ms * 1000u;
	}
	stage = HELD;
	return 0;
}

/* A kept connection the server has closed meanwhile reads as EOF now. */
static bool kept_conn_alive(void)
{
	char c;
	ssize_t n;

	if (fd < 0 || strcmp(conn_host, host) != 0 || conn_port != port)
		return false;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static int open_conn(void)
{
	struct sockaddr_storage addr;
	socklen_t addr_len = 0;
	int rc = shim_net_resolve(host, port, &addr, &addr_len);

	if (rc < 0)
		return -EHOSTUNREACH;
	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -EIO;
	{
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	snprintf(conn_host, sizeof(conn_host), "%s", host);
	conn_port = port;
	if (connect(fd, (struct sockaddr *)&addr, addr_len) == 0) {
		stage = SENDING;
		return 0;
	}
	if (errno == EINPROGRESS) {
		stage = CONNECTING;
		return 0;
	}
	rc = -errno;
	close_conn();
	return rc;
}

/* End the request with @status (or a negative errno) and the body so far. */
static int finish(int status)
{
	if (status < 0 || !resp.keep_alive)
		close_conn();
	end_request();
	cbs->on_response(cb_ctx, status, resp.body, status < 0 ? 0 : resp.body_len);
	return status < 0 ? status : 0;
}

static int step_sending(void)
{
	while (out_sent < out_len) {
		ssize_t n = send(fd, out + out_sent, out_len - out_sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -(errno == EPIPE ? ECONNRESET : errno);
		out_sent += (size_t)n;
	}
	stage = RECEIVING;
	return 0;
}

static int step_receiving(void)
{
	char buf[4096];

	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int rc;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -(errno == EPIPE ? ECONNRESET : errno);
		if (n == 0) {
			rc = http_response_eof(&resp);
			resp.keep_alive = false;
			return rc == 1 ? finish(resp.status) : rc;
		}
		rc = http_response_feed(&resp, buf, (size_t)n, NULL);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return finish(resp.status);
	}
	return 0;
}

int hal_http_service(void)
{
	uint64_t now = hal_time_now_us();
	int rc = 0;

	if (stage == IDLE)
		return 0;
	if (hal_link_get_state() != HAL_LINK_UP)
		return finish(-ENETDOWN);
	if (now >= deadline_us)
		return finish(-ETIMEDOUT);
	if (stage == HELD) {
		if (lost || now < due_us)
			return 0;
		if (!kept_conn_alive()) {
			close_conn();
			rc = open_conn();
		} else {
			stage = SENDING;
		}
	}
	if (rc == 0 && stage == CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return 0;
		if (err)
			rc = -err;
		else {
			/* Connected once the socket is writable; a zero error
			 * before that means still connecting. */
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);

			if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
				return errno == ENOTCONN ? 0 : finish(-ECONNREFUSED);
			stage = SENDING;
		}
	}
	if (rc == 0 && stage == SENDING)
		rc = step_sending();
	if (rc == 0 && stage == RECEIVING)
		rc = step_receiving();
	if (rc < 0) {
		if (rc == -EPIPE)
			rc = -ECONNRESET;
		return finish(rc);
	}
	return 0;
}

int posix__http_fd(bool *want_write)
{
	*want_write = stage == CONNECTING || stage == SENDING;
	/* Over a dead link the socket is not watched: the link's edge wakes us. */
	if (stage == IDLE || stage == HELD || fd < 0 || hal_link_get_state() != HAL_LINK_UP)
		return -1;
	return fd;
}

uint64_t posix__http_next_event_us(void)
{
	if (stage == IDLE)
		return UINT64_MAX;
	if (stage == HELD && !lost && due_us < deadline_us)
		return due_us;
	return deadline_us;
}
