/*
 * The ingest endpoint's decisions about a request, apart from the HTTP
 * server: which route a method and path name, whether a content type and
 * a length are acceptable, whether a body is a reading, and the JSON of
 * the answers. No I/O, no libmicrohttpd: unit-tested and fuzzed alone.
 */
#ifndef SIM_INGEST_REQUEST_H
#define SIM_INGEST_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recorder_json.h"

/* Where readings are posted; commands are asked for under its base (without "/data"). */
#define INGEST_DATA_PATH "/api/sensors/data"
#define INGEST_BASE_PATH "/api/sensors/"

enum ingest_route_kind {
	INGEST_ROUTE_DATA,              /* POST /api/sensors/data */
	INGEST_ROUTE_COMMAND,           /* GET /api/sensors/<id>/command */
	INGEST_ROUTE_NOT_FOUND,         /* 404 */
	INGEST_ROUTE_BAD_METHOD,        /* 405; allow says which method the path takes */
};

struct ingest_route {
	enum ingest_route_kind kind;
	const char *allow;                      /* INGEST_ROUTE_BAD_METHOD: "POST" or "GET" */
	char device_id[RECORDER_ID_MAX + 1];    /* INGEST_ROUTE_COMMAND */
};

/* Route @method @path (the path as the server decoded it, without the query). */
void ingest_route(const char *method, const char *path, struct ingest_route *out);

/*
 * Whether a reading may come with this Content-Type header: none at all,
 * application/json or any application/<x>+json, parameters (charset)
 * allowed, case ignored.
 */
bool ingest_content_type_ok(const char *content_type);

/*
 * Whether a Content-Length header announces more than @max bytes (an
 * unreadable one counts as too large: the server cannot plan for it).
 * NULL (no header, or a chunked body) is not too large.
 */
bool ingest_length_too_large(const char *content_length, size_t max);

/* Whether @id can name a device in a topic: 1 to RECORDER_ID_MAX bytes, no '/', '+', '#'. */
bool ingest_device_id_ok(const char *id, size_t len);

/* What a POST body is. */
struct ingest_body {
	bool ok;                                /* a reading: record it under topic */
	const char *reason;                     /* !ok: the first problem, a static string */
	char device_id[RECORDER_ID_MAX + 1];    /* empty when the body names none usable */
	/* sensors/<device_id>/data, or when no device is known the request
	 * line "POST /api/sensors/data": the raw row's topic */
	char topic[RECORDER_ID_MAX + 32];
};

/*
 * Judge a POST body of @len bytes by the recorder's own parser
 * (recorder_parse_reading_any): one JSON object with a usable device_id
 * and at least one sensor value; boot and seq optional. Never reads
 * outside @body.
 */
void ingest_check_body(const void *body, size_t len, struct ingest_body *out);

/*
 * The answers' JSON into @buf of @size bytes, NUL-terminated; each returns
 * its length (cut to fit). @command NULL: none queued.
 */
size_t ingest_answer_stored(char *buf, size_t size, const char *command, uint64_t command_id);
size_t ingest_answer_command(char *buf, size_t size, const char *command, uint64_t command_id);
/* {"status":"error","code":N,"error":"<reason>"} */
size_t ingest_answer_error(char *buf, size_t size, int code, const char *reason);

#endif /* SIM_INGEST_REQUEST_H */
