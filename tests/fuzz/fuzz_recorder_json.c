/*
 * libFuzzer target: the recorder's payload reader on arbitrary bytes. Beyond
 * not crashing, an accepted reading must be sane, and written back as JSON
 * it must read back to exactly the same reading.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "recorder_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_escaped(char **p, const char *s)
{
	*(*p)++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			*p += sprintf(*p, "\\%c", c);
		else if (c < 0x20)
			*p += sprintf(*p, "\\u%04x", c);
		else
			*(*p)++ = (char)c;
	}
	*(*p)++ = '"';
}

static void put_value(char **p, const char *name, bool has, double v, bool *first)
{
	if (!has)
		return;
	*p += sprintf(*p, "%s\"%s\":%.17g", *first ? "" : ",", name, v);
	*first = false;
}

static bool same_double(bool has_a, double a, bool has_b, double b)
{
	return has_a == has_b && (!has_a || memcmp(&a, &b, sizeof(a)) == 0);
}

static void check_reading(const uint8_t *data, size_t size, const struct recorder_reading *r)
{
	size_t id_len = strlen(r->device_id);
	char buf[1024], *p = buf;
	char ts[PAYLOAD_ISO8601_LEN];
	struct recorder_reading back;
	bool first = true, with_ts;

	if (id_len == 0 || id_len > RECORDER_ID_MAX || r->boot < 0 || r->seq < 0)
		abort();
	if ((r->has_temperature && !isfinite(r->temperature)) ||
	    (r->has_humidity && !isfinite(r->humidity)) ||
	    (r->has_distance && !isfinite(r->distance)))
		abort();
	if (r->errors) {
		const uint8_t *e = (const uint8_t *)r->errors;
		if (e < data || e + r->errors_len > data + size || r->errors_len < 2 ||
		    e[0] != '{' || e[r->errors_len - 1] != '}')
			abort();
	}

	/* Written back in the contract's shape, it reads back the same. */
	with_ts = r->has_timestamp && payload_format_iso8601(r->timestamp_ms, ts) == 0;
	p += sprintf(p, "{\"device_id\":");
	put_escaped(&p, r->device_id);
	p += sprintf(p, ",\"boot\":%lld,\"seq\":%lld", (long long)r->boot, (long long)r->seq);
	if (with_ts)
		p += sprintf(p, ",\"timestamp\":\"%s\"", ts);
	p += sprintf(p, ",\"sensors\":{");
	put_value(&p, "temperature", r->has_temperature, r->temperature, &first);
	put_value(&p, "humidity", r->has_humidity, r->humidity, &first);
	put_value(&p, "distance", r->has_distance, r->distance, &first);
	p += sprintf(p, "}}");
	if (recorder_parse_reading(buf, (size_t)(p - buf), &back, NULL) != 0)
		abort();
	if (strcmp(back.device_id, r->device_id) != 0 || back.boot != r->boot || back.seq != r->seq ||
	    (with_ts && back.timestamp_ms != r->timestamp_ms) ||
	    !same_double(r->has_temperature, r->temperature, back.has_temperature, back.temperature) ||
	    !same_double(r->has_humidity, r->humidity, back.has_humidity, back.humidity) ||
	    !same_double(r->has_distance, r->distance, back.has_distance, back.distance))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recorder_reading r, again;
	const char *why = NULL;
	int64_t ms;
	double v;
	int rc;

	rc = recorder_parse_reading(data, size, &r, &why);
	if (rc == 0) {
		if (why)
			abort();
		check_reading(data, size, &r);
	} else if (rc != -EBADMSG || !why) {
		abort();
	}
	/* The same bytes give the same answer. */
	if (recorder_parse_reading(data, size, &again, NULL) != rc ||
	    (rc == 0 && memcmp(&r, &again, sizeof(r)) != 0))
		abort();

	rc = recorder_parse_number(data, size, &v);
	if ((rc != 0 && rc != -EBADMSG) || (rc == 0 && !isfinite(v)))
		abort();

	rc = recorder_parse_iso8601((const char *)data, size, &ms);
	if (rc == 0) {
		/* Years 0000..9999, shifted by at most a day of offset. */
		if (ms < -62167219200000LL - 86400000 || ms > 253402300799999LL + 86400000)
			abort();
	} else if (rc != -EBADMSG) {
		abort();
	}
	return 0;
}
