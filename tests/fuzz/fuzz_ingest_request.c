/*
 * libFuzzer target: the ingest endpoint's request decisions on arbitrary
 * bytes: the route of a method and path, the Content-Type and
 * Content-Length checks, a POST body, and the answers built from what
 * they found. Beyond not crashing: a body judged a reading names a device
 * usable in a topic, and every answer is one terminated JSON object.
 *
 * Input: METHOD \0 PATH \0 CONTENT-TYPE \0 CONTENT-LENGTH \0 BODY (missing
 * parts are empty).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated part of the input, copied (the input has no NUL at its end). */
static char *part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
	const uint8_t *stop = nul ? nul : end;
	char *s = malloc((size_t)(stop - *p) + 1);

	memcpy(s, *p, (size_t)(stop - *p));
	s[stop - *p] = '\0';
	*p = nul ? nul + 1 : end;
	return s;
}

static void check_json(const char *buf, size_t n, size_t size)
{
	assert(n < size && buf[n] == '\0' && strlen(buf) == n);
	assert(n == 0 || buf[0] == '{');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *method = part(&p, end), *path = part(&p, end), *type = part(&p, end);
	char *length = part(&p, end);
	struct ingest_route route;
	struct ingest_body body;
	char buf[256];
	size_t n;

	ingest_route(method, path, &route);
	if (route.kind == INGEST_ROUTE_COMMAND)
		assert(ingest_device_id_ok(route.device_id, strlen(route.device_id)));
	if (route.kind == INGEST_ROUTE_BAD_METHOD)
		assert(route.allow);
	(void)ingest_content_type_ok(type[0] ? type : NULL);
	if (!ingest_length_too_large(length, 65536))
		assert(!length[0] || strtoull(length, NULL, 10) <= 65536);

	ingest_check_body(p, (size_t)(end - p), &body);
	if (body.ok) {
		assert(ingest_device_id_ok(body.device_id, strlen(body.device_id)));
		assert(strncmp(body.topic, "sensors/", 8) == 0);
		n = ingest_answer_stored(buf, sizeof(buf), (size & 1) ? "stop" : NULL, size);
		check_json(buf, n, sizeof(buf));
	} else {
		assert(body.reason && body.reason[0]);
		n = ingest_answer_error(buf, sizeof(buf), 400, body.reason);
		check_json(buf, n, sizeof(buf));
	}
	/* An answer cut to a small buffer stays terminated. */
	n = ingest_answer_error(buf, 1 + size % sizeof(buf), 400, path);
	assert(buf[n] == '\0');
	n = ingest_answer_command(buf, sizeof(buf), route.kind == INGEST_ROUTE_COMMAND ? "start" : NULL, 1);
	check_json(buf, n, sizeof(buf));
	free(method);
	free(path);
	free(type);
	free(length);
	return 0;
}
