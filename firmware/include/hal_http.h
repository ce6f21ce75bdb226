/*
 * HAL: an HTTP/1.1 client, one request at a time.
 *
 * The same discipline as hal_mqtt.h: calls never block, the outcome of a
 * request arrives through on_response, and only from inside
 * hal_http_service(), so the application never sees a callback re-enter it.
 * One request at a time is what an ESP-AT module or a small MCU stack can
 * do, and all a robot posting one reading a second needs.
 */
#ifndef HAL_HTTP_H
#define HAL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A board keeps at least this many bytes of a response body. */
#define HAL_HTTP_BODY_MAX 512u

struct hal_http_request {
	const char *method;        /* "GET" or "POST" */
	const char *host;          /* name or address, as in hal_mqtt_connect_opts */
	uint16_t port;
	const char *path;          /* starts with '/', query included */
	const char *content_type;  /* NULL: no body */
	const void *body;
	size_t body_len;
	uint32_t timeout_ms;       /* for the whole exchange, connect included */
};

struct hal_http_callbacks {
	/*
	 * The request ended. @status is the response's status code (100-599)
	 * when one arrived, else a negative errno: -ETIMEDOUT (timeout_ms
	 * passed), -ECONNREFUSED, -ECONNRESET (the connection broke before a
	 * whole response), -ENETDOWN (the link went down), -EHOSTUNREACH
	 * (the name did not resolve), -EBADMSG (the answer was not HTTP).
	 * @body is the response body, at most HAL_HTTP_BODY_MAX bytes of it
	 * (the rest is read and discarded), not NUL-terminated.
	 */
	void (*on_response)(void *ctx, int status, const void *body, size_t len);
};

/* Set up once at boot. Returns 0, -EINVAL for a missing callback, or -ENOMEM. */
int hal_http_init(const struct hal_http_callbacks *cb, void *ctx);

/*
 * Start @req; the strings and the body are copied. Returns 0, -EBUSY while
 * a request is in flight, -ENETUNREACH when the link is down, -EINVAL for
 * a bad request, -EMSGSIZE for a body the board cannot carry, or -EIO.
 */
int hal_http_request(const struct hal_http_request *req);

/* True from a successful hal_http_request() until its on_response ran. */
bool hal_http_busy(void);

/* Drop the request in flight, if any, without calling on_response. */
void hal_http_abort(void);

/*
 * Move bytes and run the callback. Call after every wait. Returns 0, or a
 * negative errno when a request ended in error (on_response has then run).
 */
int hal_http_service(void);

#endif /* HAL_HTTP_H */
