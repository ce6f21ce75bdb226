/*
 * hal_http for Linux: libcurl's multi interface, so no call ever blocks.
 *
 * One easy handle serves every request and the multi handle keeps its
 * connection, so readings a second apart ride one keep-alive connection.
 * libcurl tells us which sockets it wants watched (CURLMOPT_SOCKETFUNCTION)
 * and when it next needs a turn (CURLMOPT_TIMERFUNCTION); the sockets go
 * into an epoll set whose one fd is what posix__http_fd() hands the shared
 * poll() wait (firmware/boards/posix/wait.c), however many sockets libcurl
 * uses at a time (a resolver's, two address families while connecting).
 * The outcome is reported only from hal_http_service(), as hal_http.h asks.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "board.h"
#include "hal_http.h"
#include "hal_link.h"
#include "hal_time.h"
#include "log.h"
#include "posix_internal.h"

/* Far more than a reading's JSON; a bigger body is a caller's mistake. */
#define SBC_HTTP_REQUEST_BODY_MAX 65536u
#define SBC_HTTP_URL_MAX (sizeof("http://[]:65535") + ROBOT_HOST_MAX + 2048)
#define SBC_HTTP_EPOLL_BATCH 8

static bool curl_ready;             /* curl_global_init done */
static CURLM *multi;
static CURL *easy;
static int epoll_fd = -1;
static struct curl_slist *headers;
static const struct hal_http_callbacks *callbacks;
static void *callbacks_ctx;
static bool busy;
static uint64_t curl_due_us = UINT64_MAX; /* libcurl's timer, on hal_time_now_us() */
static unsigned char body[HAL_HTTP_BODY_MAX];
static size_t body_len;
static char curl_error[CURL_ERROR_SIZE];

int sbc__http_setup(void)
{
	if (curl_ready)
		return 0;
	/* Once, before anything else runs: it is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	curl_ready = true;
	return 0;
}

void sbc__http_teardown(void)
{
	hal_http_abort();
	if (easy)
		curl_easy_cleanup(easy);
	if (multi)
		curl_multi_cleanup(multi);
	curl_slist_free_all(headers);
	if (epoll_fd >= 0)
		close(epoll_fd);
	easy = NULL;
	multi = NULL;
	headers = NULL;
	epoll_fd = -1;
	callbacks = NULL;
	curl_due_us = UINT64_MAX;
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = false;
}

/* libcurl wants @s watched for @what (or no longer): mirror it in the epoll set. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct epoll_event ev = { .data.fd = s };

	(void)e;
	(void)userp;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		/* It may be closed already, which removed it by itself. */
		epoll_ctl(epoll_fd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s, &ev) == 0)
		return 0;
	if (errno == ENOENT && epoll_ctl(epoll_fd, EPOLL_CTL_ADD, s, &ev) == 0)
		return 0;
	LOG_ERROR("HTTP: watching socket %d: %s", s, strerror(errno));
	return -1;
}

/* libcurl's next turn: @timeout_ms from now, or none (-1). */
static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	(void)userp;
	curl_due_us = timeout_ms < 0 ? UINT64_MAX :
		hal_time_now_us() + (uint64_t)timeout_ms * 1000u;
	return 0;
}

/* Keep the first HAL_HTTP_BODY_MAX bytes; read and drop the rest. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	size_t n = size * nmemb;
	size_t keep = n < sizeof(body) - body_len ? n : sizeof(body) - body_len;

	(void)userp;
	memcpy(body + body_len, data, keep);
	body_len += keep;
	return n;
}

int hal_http_init(const struct hal_http_callbacks *cb, void *ctx)
{
	if (!cb || !cb->on_response)
		return -EINVAL;
	if (!multi) {
		if (sbc__http_setup() < 0)
			return -ENOMEM;
		multi = curl_multi_init();
		easy = curl_easy_init();
		epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		if (!multi || !easy || epoll_fd < 0) {
			sbc__http_teardown();
			return -ENOMEM;
		}
		curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
		/* One endpoint, one request at a time: one connection to keep. */
		curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1L);
	}
	callbacks = cb;
	callbacks_ctx = ctx;
	return 0;
}

/* "http://host:port/path", with an IPv6 address in brackets. */
static int build_url(const struct hal_http_request *req, char *url, size_t cap)
{
	bool v6 = strchr(req->host, ':') != NULL;
	int n = snprintf(url, cap, "http://%s%s%s:%u%s", v6 ? "[" : "", req->host,
			 v6 ? "]" : "", (unsigned int)req->port, req->path);

	return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

/* What the request sets anew each time; the rest stays from the last one. */
static int set_request(const struct hal_http_request *req)
{
	char url[SBC_HTTP_URL_MAX];
	char content_type[160];
	struct curl_slist *h = NULL, *next;
	bool post = strcmp(req->method, "POST") == 0;

	if (build_url(req, url, sizeof(url)) < 0)
		return -EINVAL;
	if (req->content_type) {
		if (snprintf(content_type, sizeof(content_type), "Content-Type: %s",
			     req->content_type) >= (int)sizeof(content_type))
			return -EINVAL;
		h = curl_slist_append(h, content_type);
		if (!h)
			return -EIO;
	}
	/* A reading is small: no 100-continue round trip before it. */
	if (!(next = curl_slist_append(h, "Expect:"))) {
		curl_slist_free_all(h);
		return -EIO;
	}
	h = next;
	curl_easy_reset(easy);
	curl_slist_free_all(headers);
	headers = h;
	curl_error[0] = '\0';
	if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK)
		return -EINVAL;
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	/* The robot talks to its ingest endpoint itself, whatever the environment says. */
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (post) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		/* Copied: the caller's buffer may go away once this returns. */
		if (curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS,
				     req->body_len ? req->body : "") != CURLE_OK)
			return -EIO;
	} else {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	}
	return 0;
}

static bool request_valid(const struct hal_http_request *req)
{
	return req && req->method && req->host && req->host[0] && req->port &&
	       req->path && req->path[0] == '/' && req->timeout_ms &&
	       (strcmp(req->method, "GET") == 0 || strcmp(req->method, "POST") == 0) &&
	       !(req->body_len && !req->body) &&
	       !(strcmp(req->method, "GET") == 0 && req->content_type) &&
	       strpbrk(req->host, " /\r\n") == NULL &&
	       strpbrk(req->path, " \r\n") == NULL &&
	       !(req->content_type && strpbrk(req->content_type, "\r\n"));
}

int hal_http_request(const struct hal_http_request *req)
{
	int rc;

	if (!multi)
		return -EIO;
	if (busy)
		return -EBUSY;
	if (!request_valid(req))
		return -EINVAL;
	if (req->body_len > SBC_HTTP_REQUEST_BODY_MAX)
		return -EMSGSIZE;
	if (hal_link_get_state() != HAL_LINK_UP)
		return -ENETUNREACH;
	if ((rc = set_request(req)) < 0)
		return rc;
	body_len = 0;
	if (curl_multi_add_handle(multi, easy) != CURLM_OK)
		return -EIO;
	busy = true;
	return 0;
}

bool hal_http_busy(void)
{
	return busy;
}

void hal_http_abort(void)
{
	if (!busy)
		return;
	/* Closes the connection if the exchange was under way. */
	curl_multi_remove_handle(multi, easy);
	busy = false;
	curl_due_us = UINT64_MAX;
}

/* The connect's failure, by what the kernel said. */
static int connect_errno(long os_errno)
{
	switch (os_errno) {
	case ENETUNREACH:
	case ENETDOWN:
		return -ENETDOWN;
	case EHOSTUNREACH:
		return -EHOSTUNREACH;
	case ETIMEDOUT:
		return -ETIMEDOUT;
	default:
		return -ECONNREFUSED;
	}
}

/* A finished transfer's outcome as hal_http.h's status or negative errno. */
static int outcome(CURLcode code)
{
	long status = 0, os_errno = 0;

	switch (code) {
	case CURLE_OK:
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		return status >= 100 && status <= 599 ? (int)status : -EBADMSG;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
		return connect_errno(os_errno);
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_TOO_MANY_REDIRECTS:
		return -EBADMSG;
	default:
		/* SEND_ERROR, RECV_ERROR, GOT_NOTHING, PARTIAL_FILE, ...: the
		 * connection ended before a whole response. */
		return -ECONNRESET;
	}
}

/* Hand libcurl every socket that is ready now, and its timer if due. */
static void drive(void)
{
	struct epoll_event ev[SBC_HTTP_EPOLL_BATCH];
	int running, n;

	n = epoll_wait(epoll_fd, ev, SBC_HTTP_EPOLL_BATCH, 0);
	for (int i = 0; i < n; i++) {
		int mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			   (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			   (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

		curl_multi_socket_action(multi, ev[i].data.fd, mask, &running);
	}
	if (curl_due_us <= hal_time_now_us()) {
		curl_due_us = UINT64_MAX;
		curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

/* Report the end of the request to the firmware; returns what service returns. */
static int finish(int status)
{
	busy = false;
	if (status < 0)
		LOG_DEBUG("HTTP: request failed: %s (%s)", strerror(-status),
			curl_error[0] ? curl_error : "no detail");
	callbacks->on_response(callbacks_ctx, status, body, body_len);
	return status < 0 ? status : 0;
}

int hal_http_service(void)
{
	CURLMsg *msg;
	int left;

	if (!busy)
		return 0;
	/* The link went down under the request: nothing more will cross it. */
	if (hal_link_get_state() != HAL_LINK_UP) {
		hal_http_abort();
		return finish(-ENETDOWN);
	}
	drive();
	while ((msg = curl_multi_info_read(multi, &left))) {
		if (msg->msg != CURLMSG_DONE || msg->easy_handle != easy)
			continue;
		CURLcode code = msg->data.result;

		/* Off the multi handle before the callback, which may start the next request. */
		curl_multi_remove_handle(multi, easy);
		return finish(outcome(code));
	}
	return 0;
}

int posix__http_fd(bool *want_write)
{
	/* The epoll fd turns readable for whatever each socket waits on. */
	*want_write = false;
	return busy ? epoll_fd : -1;
}

uint64_t posix__http_next_event_us(void)
{
	return busy ? curl_due_us : UINT64_MAX;
}
