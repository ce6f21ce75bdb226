/*
 * libFuzzer target: payload_encode_json() on arbitrary readings and buffer
 * sizes, plus the timestamp and decimal encoders it is built from.
 *
 * Input: a fixed header of numbers (see struct layout below), then the
 * device id (up to the first NUL).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		v = v << 8;
		if (in->left) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

/* Mostly the errors sensors really report, sometimes anything at all. */
static int pick_error(unsigned int sel, uint32_t raw)
{
	static const int errs[] = { 0, 0, -ETIMEDOUT, -EBADMSG, -ERANGE, -EIO, -ENODEV };

	if (sel < sizeof(errs) / sizeof(errs[0]))
		return errs[sel];
	return (int)raw;
}

static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++) {
		size_t i = 0;
		while (i < n && s[i] && (s[i] | 0x20) == word[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Check the JSON string at @s against @want: valid escapes only, no raw
 * control characters, and it decodes back to exactly @want. Returns the
 * position after the closing quote.
 */
static const char *check_string(const char *s, const char *want)
{
	if (*s++ != '"')
		abort();
	for (;;) {
		unsigned char c = (unsigned char)*s++;
		int code;

		if (c == '"')
			break;
		if (c < 0x20)
			abort();
		if (c == '\\') {
			switch (*s++) {
			case '"': code = '"'; break;
			case '\\': code = '\\'; break;
			case 'u': {
				int h[4];
				for (int i = 0; i < 4; i++)
					if ((h[i] = hex(s[i])) < 0)
						abort();
				code = h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3];
				s += 4;
				break;
			}
			default:
				abort();
			}
		} else {
			code = c;
		}
		if ((unsigned char)*want++ != code)
			abort();
	}
	if (*want != '\0')
		abort();
	return s;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned field(const char *s, int n)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			abort();
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v;
}

/* The timestamp is well formed and parses back to @ms, or out of range. */
static void check_iso8601(int64_t ms)
{
	const int64_t min_ms = -62167219200000LL, max_ms = 253402300799999LL;
	char ts[PAYLOAD_ISO8601_LEN];
	unsigned mon, day, h, mi, sec, milli;
	int64_t back;
	int rc = payload_format_iso8601(ms, ts);

	if (ms < min_ms || ms > max_ms) {
		if (rc != -ERANGE)
			abort();
		return;
	}
	if (rc != 0 || strlen(ts) != PAYLOAD_ISO8601_LEN - 1)
		abort();
	if (ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' || ts[13] != ':' ||
	    ts[16] != ':' || ts[19] != '.' || ts[23] != 'Z')
		abort();
	mon = field(ts + 5, 2);
	day = field(ts + 8, 2);
	h = field(ts + 11, 2);
	mi = field(ts + 14, 2);
	sec = field(ts + 17, 2);
	milli = field(ts + 20, 3);
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || sec > 59)
		abort();
	back = days_from_civil(field(ts, 4), mon, day) * 86400000 +
	       (int64_t)h * 3600000 + mi * 60000 + sec * 1000 + milli;
	if (back != ms)
		abort();
}

static void check_decimal(int32_t tenths)
{
	char buf[16];
	int n = payload_encode_decimal(tenths, buf, sizeof(buf));

	if (n <= 0 || (size_t)n != strlen(buf) || has_word(buf, "nan") || has_word(buf, "inf"))
		abort();
	if (strtoll(buf, NULL, 10) != tenths / 10 || buf[n - 2] != '.' ||
	    buf[n - 1] - '0' != (tenths < 0 ? -(tenths % 10) : tenths % 10))
		abort();
}

/* A failed sensor is named under "errors" and has no value under "sensors". */
static void check_errors(const char *tail, const struct reading *r)
{
	const char *errors = strstr(tail, ",\"errors\":{");
	const char *temp = strstr(tail, "\"temperature\":");
	const char *dist = strstr(tail, "\"distance\":");

	if (!r->climate_err && !r->distance_err) {
		if (errors)
			abort();
		return;
	}
	if (!errors || !temp || !dist)
		abort();
	if ((r->climate_err != 0) != (temp > errors))
		abort();
	if ((r->distance_err != 0) != (dist > errors))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct reading r;
	unsigned int flags;
	uint32_t cap_sel;
	size_t id_len, big, cap;
	char *id, *full, *buf;
	const char *tail;
	int n, rc;

	flags = (unsigned int)take(&in, 1);
	r.has_timestamp = flags & 1;
	r.boot = (uint32_t)take(&in, 4);
	r.seq = (uint32_t)take(&in, 4);
	r.timestamp_ms = (int64_t)take(&in, 8);
	r.climate_err = pick_error(flags >> 1 & 7, (uint32_t)take(&in, 4));
	r.temp_dc = (int16_t)take(&in, 2);
	r.humidity_dpct = (uint16_t)take(&in, 2);
	r.distance_err = pick_error(flags >> 4 & 7, (uint32_t)take(&in, 4));
	r.distance_mm = (uint32_t)take(&in, 4);
	cap_sel = (uint32_t)take(&in, 3);
	/* Mostly 0 (the member is left out), sometimes any count. */
	r.dropped = flags & 0x80 ? (uint32_t)take(&in, 4) : 0;

	id_len = in.left;
	id = malloc(id_len + 1);
	if (!id)
		return 0;
	memcpy(id, in.p, id_len);
	id[id_len] = '\0';
	r.device_id = id;
	id_len = strlen(id);

	check_iso8601(r.timestamp_ms);
	check_decimal(r.temp_dc);
	check_decimal((int32_t)r.boot);

	/* Enough room for anything: every escape is at most six bytes. */
	big = 6 * id_len + 512;
	full = malloc(big);
	if (!full)
		abort();
	n = payload_encode_json(&r, full, big);
	if (n < 0 || (size_t)n >= big || full[n] != '\0' || strlen(full) != (size_t)n)
		abort();
	if (strncmp(full, "{\"device_id\":", 13) != 0 || full[n - 1] != '}')
		abort();
	tail = check_string(full + 13, id);
	if (has_word(tail, "nan") || has_word(tail, "inf"))
		abort();
	check_errors(tail, &r);
	/* "dropped" only when something was, and then as the last member. */
	{
		const char *d = strstr(tail, ",\"dropped\":");
		char want[32];

		if ((r.dropped != 0) != (d != NULL))
			abort();
		snprintf(want, sizeof(want), ",\"dropped\":%lu}", (unsigned long)r.dropped);
		if (d && strcmp(d, want) != 0)
			abort();
	}

	/* The same reading into a buffer of fuzzer-chosen size, allocated exactly
	 * so that any write past it is caught. */
	cap = cap_sel % ((size_t)n + 16);
	buf = malloc(cap ? cap : 1);
	if (!buf)
		abort();
	memset(buf, 'X', cap ? cap : 1);
	rc = payload_encode_json(&r, buf, cap);
	if (cap > (size_t)n) {
		if (rc != n || strcmp(buf, full) != 0)
			abort();
	} else {
		if (rc != -ENOBUFS)
			abort();
		if (cap > 0 && buf[0] != '\0')
			abort();
		if (cap == 0 && buf[0] != 'X')
			abort();
	}
	free(buf);
	free(full);
	free(id);
	return 0;
}
