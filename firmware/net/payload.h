/* Encode readings for the wire: the JSON contract and per-metric numbers. */
#ifndef NET_PAYLOAD_H
#define NET_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One published reading. A metric whose *_err is non-zero is omitted. */
struct reading {
	const char *device_id;
	uint32_t boot;
	uint32_t seq;
	bool has_timestamp;
	int64_t timestamp_ms;    /* UTC, ms since the Unix epoch */
	int climate_err;         /* 0 or a negative errno from the DHT22 */
	int16_t temp_dc;
	uint16_t humidity_dpct;
	int distance_err;        /* 0 or a negative errno from the HC-SR04 */
	uint32_t distance_mm;
	uint32_t dropped;        /* readings the outbox dropped (lifetime); 0: omitted */
};

/* "2026-11-24T10:30:45.123Z" plus NUL. */
#define PAYLOAD_ISO8601_LEN 25

/*
 * Format @epoch_ms as ISO-8601 UTC with milliseconds. Years 0000..9999 only.
 * Returns 0, or -ERANGE outside that span.
 */
int payload_format_iso8601(int64_t epoch_ms, char out[PAYLOAD_ISO8601_LEN]);

/* Short stable name of a sensor error for the "errors" member. */
const char *payload_error_name(int err);

/*
 * Write the JSON document for @r into @buf. Returns the length (without the
 * NUL that is also written), or -ENOBUFS if @cap is too small.
 */
int payload_encode_json(const struct reading *r, char *buf, size_t cap);

/*
 * Write a fixed-point value with one decimal ("24.5", "-0.3") for the
 * per-metric topics. Returns the length or -ENOBUFS.
 */
int payload_encode_decimal(int32_t value_tenths, char *buf, size_t cap);

#endif /* NET_PAYLOAD_H */
