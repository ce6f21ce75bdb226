/*
 * The emulated module's HTTP client: one request, done on the host with
 * libcurl, with ESP-AT's limits (no redirects, a network timeout).
 */
#ifndef ESP_AT_EMU_HTTP_CLIENT_H
#define ESP_AT_EMU_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEADERS_MAX 8

struct http_call {
	const char *method;              /* "GET", "POST", "HEAD", "PUT", "DELETE" */
	const char *url;
	const char *headers[HTTP_HEADERS_MAX]; /* "Key: value" */
	int n_headers;
	const void *body;
	size_t body_len;
	long timeout_ms;                 /* for the whole exchange */
};

enum http_failure {
	HTTP_ANSWERED,       /* a status arrived (any status) */
	HTTP_NO_CONNECTION,  /* refused, unreachable, or the name did not resolve */
	HTTP_BROKEN,         /* timed out, reset, or not HTTP */
};

struct http_answer {
	enum http_failure failure;
	long status;
	char *body;          /* malloc'd, free with http_answer_free() */
	size_t len;
	char error[128];     /* libcurl's account of a failure */
};

int http_client_init(void);
void http_client_cleanup(void);
/* Do @call; 0, or -1 when it could not even be set up (out of memory). */
int http_client_do(const struct http_call *call, struct http_answer *out);
void http_answer_free(struct http_answer *a);

#endif /* ESP_AT_EMU_HTTP_CLIENT_H */
