/* An HTTP/1.1 response parser that never trusts its input: see http_response.h. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "http_response.h"

void http_response_init(struct http_response *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->stage = HTTP_RS_STATUS;
	r->head = method && strcmp(method, "HEAD") == 0;
}

static int fail(struct http_response *r, const char *why)
{
	r->stage = HTTP_RS_ERROR;
	r->error = why;
	return -EBADMSG;
}

/* "HTTP/1.x SSS reason" */
static int status_line(struct http_response *r, const char *s)
{
	if (strncmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
		return fail(r, "status line: not HTTP/1.0 or HTTP/1.1");
	for (int i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return fail(r, "status line: the status is not three digits");
	if (s[12] != ' ' && s[12] != '\0')
		return fail(r, "status line: junk after the status");
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (r->status < 100 || r->status > 599)
		return fail(r, "status line: status outside 100-599");
	/* HTTP/1.1 keeps the connection unless told otherwise; 1.0 closes. */
	r->keep_alive = s[7] == '1';
	r->stage = HTTP_RS_HEADERS;
	return 0;
}

static bool has_token(const char *v, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = v; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, token, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

static int header_line(struct http_response *r, char *s)
{
	char *colon = strchr(s, ':'), *v;
	char *end;

	if (!colon || colon == s)
		return fail(r, "header: no name or no colon");
	*colon = '\0';
	for (char *p = s; *p; p++)
		if (*p == ' ' || *p == '\t')
			return fail(r, "header: whitespace in the name");
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (strcasecmp(s, "Content-Length") == 0) {
		uint64_t n = 0;

		if (*v == '\0')
			return fail(r, "Content-Length: empty");
		for (const char *p = v; *p; p++) {
			if (*p < '0' || *p > '9')
				return fail(r, "Content-Length: not a number");
			n = n * 10u + (uint64_t)(*p - '0');
			if (n > HTTP_BODY_READ_MAX)
				return fail(r, "Content-Length: larger than the client reads");
		}
		if (r->has_length && n != r->remaining)
			return fail(r, "Content-Length: two different values");
		r->has_length = true;
		r->remaining = n;
	} else if (strcasecmp(s, "Transfer-Encoding") == 0) {
		if (!has_token(v, "chunked"))
			return fail(r, "Transfer-Encoding: only chunked is understood");
		r->chunked = true;
	} else if (strcasecmp(s, "Connection") == 0) {
		if (has_token(v, "close"))
			r->keep_alive = false;
		else if (has_token(v, "keep-alive"))
			r->keep_alive = true;
	}
	return 0;
}

/* The blank line: where the body starts and how it ends. */
static int headers_done(struct http_response *r)
{
	if (r->status >= 100 && r->status < 200) {
		if (r->status == 101)
			return fail(r, "status 101: protocol switch not asked for");
		/* An interim answer (100 Continue): the real one follows. */
		bool head = r->head;
		http_response_init(r, NULL);
		r->head = head;
		return 0;
	}
	if (r->head || r->status == 204 || r->status == 304) {
		r->stage = HTTP_RS_DONE;
		return 1;
	}
	if (r->chunked) {
		/* RFC 9112: chunked wins over a length, and the connection ends after. */
		if (r->has_length)
			r->keep_alive = false;
		r->stage = HTTP_RS_CHUNK_SIZE;
		return 0;
	}
	if (r->has_length) {
		r->stage = r->remaining ? HTTP_RS_BODY_LENGTH : HTTP_RS_DONE;
		return r->remaining ? 0 : 1;
	}
	r->keep_alive = false;
	r->stage = HTTP_RS_BODY_TO_CLOSE;
	return 0;
}

static int chunk_size_line(struct http_response *r, const char *s)
{
	uint64_t n = 0;
	const char *p = s;

	for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return fail(r, "chunk size: not hexadecimal");
		n = n * 16u + (uint64_t)d;
		if (n > HTTP_BODY_READ_MAX)
			return fail(r, "chunk size: larger than the client reads");
	}
	if (p == s)
		return fail(r, "chunk size: missing");
	if (n == 0) {
		r->stage = HTTP_RS_TRAILERS;
		return 0;
	}
	r->remaining = n;
	r->stage = HTTP_RS_CHUNK_DATA;
	return 0;
}

/* One complete line (CRLF or LF stripped) in r->line. */
static int take_line(struct http_response *r)
{
	char *s = r->line;

	switch (r->stage) {
	case HTTP_RS_STATUS:
		return status_line(r, s);
	case HTTP_RS_HEADERS:
		if (*s == '\0')
			return headers_done(r);
		if (++r->headers > HTTP_HEADERS_MAX)
			return fail(r, "headers: too many");
		return header_line(r, s);
	case HTTP_RS_CHUNK_SIZE:
		return chunk_size_line(r, s);
	case HTTP_RS_CHUNK_END:
		if (*s != '\0')
			return fail(r, "chunk: no CRLF after its data");
		r->stage = HTTP_RS_CHUNK_SIZE;
		return 0;
	case HTTP_RS_TRAILERS:
		if (*s == '\0') {
			r->stage = HTTP_RS_DONE;
			return 1;
		}
		if (++r->headers > HTTP_HEADERS_MAX)
			return fail(r, "trailers: too many");
		return 0;
	default:
		return fail(r, "internal: a line where none belongs");
	}
}

static bool in_head(const struct http_response *r)
{
	return r->stage == HTTP_RS_STATUS || r->stage == HTTP_RS_HEADERS ||
	       r->stage == HTTP_RS_TRAILERS;
}

/* Line bytes until a LF; NUL and lone CR are refused. */
static int line_byte(struct http_response *r, char c)
{
	if (in_head(r) && ++r->header_bytes > HTTP_HEADER_BYTES_MAX)
		return fail(r, "headers: larger than 16 KiB");
	if (c == '\n') {
		if (r->line_len && r->line[r->line_len - 1] == '\r')
			r->line_len--;
		r->line[r->line_len] = '\0';
		r->line_len = 0;
		for (const char *p = r->line; *p; p++)
			if (*p == '\r')
				return fail(r, "a bare CR inside a line");
		return take_line(r);
	}
	if (c == '\0')
		return fail(r, "a NUL byte in the head");
	if (r->line_len + 1 >= sizeof(r->line))
		return fail(r, "a line longer than 1 KiB");
	r->line[r->line_len++] = c;
	return 0;
}

/* Body bytes: kept up to HAL_HTTP_BODY_MAX, counted past it. */
static int body_bytes(struct http_response *r, const char *p, size_t n)
{
	size_t keep = sizeof(r->body) - r->body_len;

	if (r->body_read + n > HTTP_BODY_READ_MAX)
		return fail(r, "body: larger than the client reads");
	r->body_read += n;
	if (keep > n)
		keep = n;
	memcpy(r->body + r->body_len, p, keep);
	r->body_len += keep;
	return 0;
}

int http_response_feed(struct http_response *r, const void *data, size_t len, size_t *used)
{
	const char *p = data;
	size_t i = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		switch (r->stage) {
		case HTTP_RS_DONE:
			rc = 1;
			continue;
		case HTTP_RS_ERROR:
			rc = -EBADMSG;
			continue;
		case HTTP_RS_BODY_LENGTH:
		case HTTP_RS_CHUNK_DATA: {
			size_t n = len - i;

			if (n > r->remaining)
				n = (size_t)r->remaining;
			rc = body_bytes(r, p + i, n);
			i += n;
			r->remaining -= n;
			if (rc == 0 && r->remaining == 0) {
				if (r->stage == HTTP_RS_CHUNK_DATA) {
					r->stage = HTTP_RS_CHUNK_END;
				} else {
					r->stage = HTTP_RS_DONE;
					rc = 1;
				}
			}
			break;
		}
		case HTTP_RS_BODY_TO_CLOSE:
			rc = body_bytes(r, p + i, len - i);
			i = len;
			break;
		default:
			rc = line_byte(r, p[i++]);
			break;
		}
	}
	if (rc == 0 && r->stage == HTTP_RS_DONE)
		rc = 1;
	if (used)
		*used = i;
	return rc < 0 ? -EBADMSG : rc;
}

int http_response_eof(struct http_response *r)
{
	if (r->stage == HTTP_RS_ERROR)
		return -EBADMSG;
	if (r->stage == HTTP_RS_DONE)
		return 1;
	if (r->stage == HTTP_RS_BODY_TO_CLOSE) {
		r->stage = HTTP_RS_DONE;
		return 1;
	}
	return -ECONNRESET;
}
