/* Decode what devices publish: the JSON reading, plain per-metric numbers, ISO-8601 times. */
#ifndef SIM_RECORDER_JSON_H
#define SIM_RECORDER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest device id accepted, in bytes of UTF-8 (without the NUL). */
#define RECORDER_ID_MAX 64

/* Deepest nesting of objects and arrays in a payload, the outer object included. */
#define RECORDER_JSON_DEPTH_MAX 16

/*
 * One reading as the wire contract (docs/recording.md) defines it. A sensor
 * whose has_* flag is false was omitted (or null) in the payload.
 */
struct recorder_reading {
	char device_id[RECORDER_ID_MAX + 1];
	int64_t boot;
	int64_t seq;
	bool has_timestamp;
	int64_t timestamp_ms;       /* UTC, ms since the Unix epoch */
	bool has_temperature;
	bool has_humidity;
	bool has_distance;
	double temperature;         /* degrees Celsius */
	double humidity;            /* %RH */
	double distance;            /* cm */
	int64_t dropped;            /* outbox overflow count the device reported; 0 if absent */
	const char *errors;         /* the "errors" object's text inside the payload, or NULL */
	size_t errors_len;
};

/*
 * Parse a data payload of @len bytes (no NUL needed). It must be one JSON
 * object holding at least device_id, boot and seq; unknown members are
 * skipped. Returns 0, or -EBADMSG with *@reason set to a short static
 * explanation of the first problem found. Never reads outside @payload.
 */
int recorder_parse_reading(const void *payload, size_t len, struct recorder_reading *out,
			   const char **reason);

/*
 * The same for a firmware of another layout (a topics: readings template in
 * format json): device_id, boot and seq may be missing (device_id empty).
 * *@has_key says whether boot and seq were both there, so that the reading
 * can be stored with its sequence number.
 */
int recorder_parse_reading_any(const void *payload, size_t len, struct recorder_reading *out,
			       bool *has_key, const char **reason);

/*
 * Parse a per-metric payload: one JSON number, optionally surrounded by
 * white space. Returns 0 or -EBADMSG (also for values that are not finite).
 */
int recorder_parse_number(const void *payload, size_t len, double *out);

/*
 * Parse an RFC 3339 time ("2026-11-24T10:30:45.123Z", any fraction length,
 * "Z" or a "+hh:mm" offset) into UTC ms. Returns 0 or -EBADMSG.
 */
int recorder_parse_iso8601(const char *s, size_t len, int64_t *out_ms);

#endif /* SIM_RECORDER_JSON_H */
