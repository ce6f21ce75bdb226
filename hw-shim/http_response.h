/*
 * An HTTP/1.1 response parser, fed the bytes as they arrive: the status
 * line, the headers (only Content-Length, Transfer-Encoding and Connection
 * matter), and a body sized by Content-Length, by chunks, or by the end of
 * the connection. Everything is bounded: a line, the header block, the
 * number of headers, the body kept (the rest is counted and discarded) and
 * the body read at all.
 */
#ifndef HTTP_RESPONSE_H
#define HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal_http.h"

#define HTTP_LINE_MAX 1024            /* status line, header line, chunk size line */
#define HTTP_HEADERS_MAX 64
#define HTTP_HEADER_BYTES_MAX 16384
#define HTTP_BODY_READ_MAX (16u << 20) /* past this the answer is not one */

enum http_response_stage {
	HTTP_RS_STATUS,
	HTTP_RS_HEADERS,
	HTTP_RS_BODY_LENGTH,
	HTTP_RS_CHUNK_SIZE,
	HTTP_RS_CHUNK_DATA,
	HTTP_RS_CHUNK_END,     /* the CRLF after a chunk's data */
	HTTP_RS_TRAILERS,
	HTTP_RS_BODY_TO_CLOSE,
	HTTP_RS_DONE,
	HTTP_RS_ERROR,
};

struct http_response {
	enum http_response_stage stage;
	int status;
	bool head;                 /* the request was HEAD: no body */
	bool keep_alive;           /* the connection may carry the next request */
	bool chunked;
	bool has_length;
	uint64_t remaining;        /* of the body or the chunk */
	uint64_t body_read;
	char body[HAL_HTTP_BODY_MAX];
	size_t body_len;
	char line[HTTP_LINE_MAX];
	size_t line_len;
	unsigned int headers;
	size_t header_bytes;
	const char *error;         /* why, when stage is HTTP_RS_ERROR */
};

/* Ready for the answer to a request with @method. */
void http_response_init(struct http_response *r, const char *method);

/*
 * Take up to @len bytes. *@used says how many were consumed (bytes after a
 * complete response are not). Returns 1 when the response is complete, 0
 * when more is needed, -EBADMSG when the bytes are not an HTTP/1.x answer
 * (r->error says why).
 */
int http_response_feed(struct http_response *r, const void *data, size_t len, size_t *used);

/*
 * The connection ended. Returns 1 when that completes the response (a
 * body that runs to the close), -ECONNRESET when the response was cut
 * short, -EBADMSG when it had already failed.
 */
int http_response_eof(struct http_response *r);

#endif /* HTTP_RESPONSE_H */
