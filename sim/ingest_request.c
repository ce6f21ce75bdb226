/* The ingest endpoint's request decisions and answers (ingest_request.h). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest_request.h"
#include "json_out.h"

bool ingest_device_id_ok(const char *id, size_t len)
{
	if (len == 0 || len > RECORDER_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (id[i] == '/' || id[i] == '+' || id[i] == '#' || id[i] == '\0')
			return false;
	return true;
}

void ingest_route(const char *method, const char *path, struct ingest_route *out)
{
	size_t base = strlen(INGEST_BASE_PATH);
	const char *id, *slash;

	memset(out, 0, sizeof(*out));
	out->kind = INGEST_ROUTE_NOT_FOUND;
	if (strcmp(path, INGEST_DATA_PATH) == 0) {
		out->kind = strcmp(method, "POST") == 0 ? INGEST_ROUTE_DATA : INGEST_ROUTE_BAD_METHOD;
		out->allow = "POST";
		return;
	}
	if (strncmp(path, INGEST_BASE_PATH, base) != 0)
		return;
	id = path + base;
	slash = strchr(id, '/');
	if (!slash || strcmp(slash, "/command") != 0 || !ingest_device_id_ok(id, (size_t)(slash - id)))
		return;
	if (strcmp(method, "GET") != 0) {
		out->kind = INGEST_ROUTE_BAD_METHOD;
		out->allow = "GET";
		return;
	}
	out->kind = INGEST_ROUTE_COMMAND;
	memcpy(out->device_id, id, (size_t)(slash - id));
	out->device_id[slash - id] = '\0';
}

bool ingest_content_type_ok(const char *ct)
{
	const char *end, *slash;
	size_t n;

	if (!ct)
		return true;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	end = ct + strcspn(ct, "; \t");
	n = (size_t)(end - ct);
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	/* application/<anything>+json, e.g. application/vnd.robofleet+json */
	slash = memchr(ct, '/', n);
	return slash && (size_t)(slash - ct) == 11 && strncasecmp(ct, "application", 11) == 0 &&
	       n > 17 && strncasecmp(end - 5, "+json", 5) == 0;
}

bool ingest_length_too_large(const char *cl, size_t max)
{
	unsigned long long v;
	char *end;

	if (!cl)
		return false;
	while (*cl == ' ' || *cl == '\t')
		cl++;
	if (!isdigit((unsigned char)*cl))
		return true;
	errno = 0;
	v = strtoull(cl, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	return errno || *end || v > max;
}

void ingest_check_body(const void *body, size_t len, struct ingest_body *out)
{
	struct recorder_reading r;
	bool keyed = false;
	size_t n;

	memset(out, 0, sizeof(*out));
	snprintf(out->topic, sizeof(out->topic), "POST %s", INGEST_DATA_PATH);
	if (recorder_parse_reading_any(body, len, &r, &keyed, &out->reason) < 0)
		return;
	n = strlen(r.device_id);
	if (n == 0) {
		out->reason = "device_id missing";
		return;
	}
	if (!ingest_device_id_ok(r.device_id, n)) {
		out->reason = "device_id holds '/', '+' or '#'";
		return;
	}
	memcpy(out->device_id, r.device_id, n + 1);
	snprintf(out->topic, sizeof(out->topic), "sensors/%s/data", r.device_id);
	/* Without boot and seq only the values are kept (per-metric rows):
	 * a body without any has nothing to record. */
	if (!keyed && !r.has_temperature && !r.has_humidity && !r.has_distance) {
		out->reason = "JSON reading without a number";
		return;
	}
	out->ok = true;
}

/* Format into @buf through a stream, so that strings go through the one JSON escaper. */
static size_t answer(char *buf, size_t size, const char *head, const char *text, const char *tail)
{
	FILE *f = fmemopen(buf, size, "w");
	long n;

	if (!f) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	setvbuf(f, NULL, _IONBF, 0);
	fputs(head, f);
	if (text)
		json_out_string(f, text);
	fputs(tail, f);
	n = ftell(f);
	fclose(f);
	if (n < 0)
		n = 0;
	if ((size_t)n >= size)
		n = size ? (long)size - 1 : 0;
	if (size)
		buf[n] = '\0';
	return (size_t)n;
}

size_t ingest_answer_stored(char *buf, size_t size, const char *command, uint64_t command_id)
{
	char tail[48];

	if (!command)
		return answer(buf, size, "{\"status\":\"stored\"}", NULL, "");
	snprintf(tail, sizeof(tail), ",\"command_id\":%llu}", (unsigned long long)command_id);
	return answer(buf, size, "{\"status\":\"stored\",\"command\":", command, tail);
}

size_t ingest_answer_command(char *buf, size_t size, const char *command, uint64_t command_id)
{
	char tail[48];

	if (!command)
		return answer(buf, size, "{\"command\":null}", NULL, "");
	snprintf(tail, sizeof(tail), ",\"command_id\":%llu}", (unsigned long long)command_id);
	return answer(buf, size, "{\"command\":", command, tail);
}

size_t ingest_answer_error(char *buf, size_t size, int code, const char *reason)
{
	char head[48];

	snprintf(head, sizeof(head), "{\"status\":\"error\",\"code\":%d,\"error\":", code);
	return answer(buf, size, head, reason, "}");
}
