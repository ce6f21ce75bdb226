/*
 * Payload encoding without floating point or heap: values are fixed point
 * (0.1 units) and the JSON is written straight into the caller's buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "payload.h"

struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->len + n >= o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put(struct out *o, const char *s)
{
	put_raw(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[48];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		o->overflow = true;
		return;
	}
	put_raw(o, tmp, (size_t)n);
}

/* JSON string with the escapes RFC 8259 requires. */
static void put_string(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"')
			put(o, "\\\"");
		else if (c == '\\')
			put(o, "\\\\");
		else if (c < 0x20)
			putf(o, "\\u%04x", c);
		else
			put_raw(o, (const char *)&c, 1);
	}
	put(o, "\"");
}

static void put_tenths(struct out *o, int32_t tenths)
{
	char tmp[16];

	if (payload_encode_decimal(tenths, tmp, sizeof(tmp)) < 0)
		o->overflow = true;
	else
		put(o, tmp);
}

int payload_encode_decimal(int32_t value_tenths, char *buf, size_t cap)
{
	int64_t v = value_tenths;
	const char *sign = v < 0 ? "-" : "";
	int n;

	if (v < 0)
		v = -v;
	n = snprintf(buf, cap, "%s%ld.%ld", sign, (long)(v / 10), (long)(v % 10));
	if (n < 0 || (size_t)n >= cap)
		return -ENOBUFS;
	return n;
}

/*
 * Days since 1970-01-01 to a civil date (proleptic Gregorian), after the
 * well-known era-based algorithm: eras of 400 years are 146097 days long.
 */
static void civil_from_days(int64_t z, int *year, unsigned *month, unsigned *day)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(y + (*month <= 2));
}

int payload_format_iso8601(int64_t epoch_ms, char out[PAYLOAD_ISO8601_LEN])
{
	/* 0000-01-01 .. 9999-12-31T23:59:59.999 */
	const int64_t min_ms = -62167219200000LL;
	const int64_t max_ms = 253402300799999LL;
	int64_t days, ms_of_day;
	int year;
	unsigned month, day;

	if (epoch_ms < min_ms || epoch_ms > max_ms)
		return -ERANGE;
	days = epoch_ms / 86400000;
	ms_of_day = epoch_ms % 86400000;
	if (ms_of_day < 0) {
		ms_of_day += 86400000;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	/* The range check above bounds every field; the wider buffer only
	 * spares the compiler's truncation analysis. */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 year, month, day,
		 (unsigned)(ms_of_day / 3600000), (unsigned)(ms_of_day / 60000 % 60),
		 (unsigned)(ms_of_day / 1000 % 60), (unsigned)(ms_of_day % 1000));
	memcpy(out, tmp, PAYLOAD_ISO8601_LEN - 1);
	out[PAYLOAD_ISO8601_LEN - 1] = '\0';
	return 0;
}

const char *payload_error_name(int err)
{
	switch (err) {
	case -ETIMEDOUT: return "timeout";
	case -EBADMSG:   return "checksum";
	case -ERANGE:    return "out_of_range";
	case -EIO:       return "io";
	case -ENODEV:    return "absent";
	case -ENODATA:   return "no_data";
	default:         return "error";
	}
}

int payload_encode_json(const struct reading *r, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, cap == 0 };
	char ts[PAYLOAD_ISO8601_LEN];
	bool any = false;

	if (cap > 0)
		buf[0] = '\0';
	put(&o, "{\"device_id\":");
	put_string(&o, r->device_id);
	putf(&o, ",\"boot\":%lu,\"seq\":%lu", (unsigned long)r->boot, (unsigned long)r->seq);
	if (r->has_timestamp && payload_format_iso8601(r->timestamp_ms, ts) == 0) {
		put(&o, ",\"timestamp\":\"");
		put(&o, ts);
		put(&o, "\"");
	}
	put(&o, ",\"sensors\":{");
	if (r->climate_err == 0) {
		put(&o, "\"temperature\":");
		put_tenths(&o, r->temp_dc);
		put(&o, ",\"humidity\":");
		put_tenths(&o, r->humidity_dpct);
		any = true;
	}
	if (r->distance_err == 0) {
		put(&o, any ? ",\"distance\":" : "\"distance\":");
		/* mm -> cm with one decimal: the contract reports centimetres. */
		put_tenths(&o, (int32_t)(r->distance_mm > 100000000u ? 100000000u : r->distance_mm));
	}
	put(&o, "}");
	if (r->climate_err || r->distance_err) {
		bool first = true;
		put(&o, ",\"errors\":{");
		if (r->climate_err) {
			/* Two writes: both names at once can outgrow putf()'s buffer. */
			putf(&o, "\"temperature\":\"%s\"", payload_error_name(r->climate_err));
			putf(&o, ",\"humidity\":\"%s\"", payload_error_name(r->climate_err));
			first = false;
		}
		if (r->distance_err)
			putf(&o, "%s\"distance\":\"%s\"", first ? "" : ",",
			     payload_error_name(r->distance_err));
		put(&o, "}");
	}
	if (r->dropped)
		putf(&o, ",\"dropped\":%lu", (unsigned long)r->dropped);
	put(&o, "}");
	if (o.overflow) {
		if (cap > 0)
			buf[0] = '\0';
		return -ENOBUFS;
	}
	return (int)o.len;
}
