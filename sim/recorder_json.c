/*
 * A strict, bounded JSON reader for device payloads. Payloads are network
 * input: every read is checked against the end, nesting is limited, strings
 * must be valid UTF-8, and numbers are converted without the process locale
 * (a dashboard that calls setlocale() must not turn "24.5" into 24).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "recorder_json.h"

struct cursor {
	const unsigned char *p;
	const unsigned char *end;
	const char *why;        /* first failure: later ones are consequences */
};

static bool fail(struct cursor *c, const char *why)
{
	if (!c->why)
		c->why = why;
	return false;
}

static bool is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* Consume @ch after optional white space. */
static bool take(struct cursor *c, unsigned char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* True if the next significant byte is @ch (not consumed). */
static bool at(struct cursor *c, unsigned char ch)
{
	skip_ws(c);
	return c->p < c->end && *c->p == ch;
}

static bool take_word(struct cursor *c, const char *word)
{
	size_t n = strlen(word);

	skip_ws(c);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* ---- strings ------------------------------------------------------------ */

/*
 * Where a decoded string goes. Bytes beyond @cap are counted, not written,
 * so an over-long string is still validated to its end and then refused by
 * the caller with a precise reason.
 */
struct text {
	char *buf;              /* NULL: validate only */
	size_t cap;             /* bytes usable, the NUL not included */
	size_t len;             /* decoded length, may exceed cap */
	bool has_nul;           /* a \u0000 was decoded */
};

static void text_put(struct text *t, const unsigned char *s, size_t n)
{
	/* What fits: a string that fills the buffer is whole up to its end. */
	if (t->buf && t->len < t->cap)
		memcpy(t->buf + t->len, s, n < t->cap - t->len ? n : t->cap - t->len);
	t->len += n;
}

/* Length of the well-formed UTF-8 sequence at @p (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	uint32_t cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past Unicode. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static size_t utf8_put(uint32_t cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Four hex digits after "\u"; returns the value or -1. */
static long hex4(struct cursor *c)
{
	long v = 0;

	if (c->end - c->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char h = c->p[i];
		int d;

		if (h >= '0' && h <= '9')
			d = h - '0';
		else if (h >= 'a' && h <= 'f')
			d = h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			d = h - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	c->p += 4;
	return v;
}

static bool parse_escape(struct cursor *c, struct text *t)
{
	unsigned char out[4];
	long cp, lo;

	/* c->p is on the backslash. */
	if (c->end - c->p < 2)
		return fail(c, "unterminated string");
	switch (c->p[1]) {
	case '"':  out[0] = '"'; break;
	case '\\': out[0] = '\\'; break;
	case '/':  out[0] = '/'; break;
	case 'b':  out[0] = '\b'; break;
	case 'f':  out[0] = '\f'; break;
	case 'n':  out[0] = '\n'; break;
	case 'r':  out[0] = '\r'; break;
	case 't':  out[0] = '\t'; break;
	case 'u':
		c->p += 2;
		cp = hex4(c);
		if (cp < 0)
			return fail(c, "bad \\u escape");
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(c, "unpaired UTF-16 surrogate");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
				return fail(c, "unpaired UTF-16 surrogate");
			c->p += 2;
			lo = hex4(c);
			if (lo < 0xdc00 || lo > 0xdfff)
				return fail(c, "unpaired UTF-16 surrogate");
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (cp == 0)
			t->has_nul = true;
		text_put(t, out, utf8_put((uint32_t)cp, out));
		return true;
	default:
		return fail(c, "bad escape in string");
	}
	c->p += 2;
	text_put(t, out, 1);
	return true;
}

static bool parse_string(struct cursor *c, struct text *t)
{
	skip_ws(c);
	if (c->p >= c->end || *c->p != '"')
		return fail(c, "expected a string");
	c->p++;
	for (;;) {
		const unsigned char *run = c->p;
		size_t n;

		/* Plain ASCII, what ids, keys and times are made of, in one
		 * stretch: one text_put() for it, not one per byte. */
		while (c->p < c->end && *c->p >= 0x20 && *c->p < 0x80 && *c->p != '"' && *c->p != '\\')
			c->p++;
		if (c->p > run)
			text_put(t, run, (size_t)(c->p - run));
		if (c->p >= c->end)
			return fail(c, "unterminated string");
		if (*c->p == '"')
			break;
		if (*c->p < 0x20)
			return fail(c, "control character in string");
		if (*c->p == '\\') {
			if (!parse_escape(c, t))
				return false;
			continue;
		}
		n = utf8_len(c->p, c->end);
		if (n == 0)
			return fail(c, "invalid UTF-8 in string");
		text_put(t, c->p, n);
		c->p += n;
	}
	c->p++;
	if (t->buf)
		t->buf[t->len <= t->cap ? t->len : t->cap] = '\0';
	return true;
}

/* ---- numbers ------------------------------------------------------------ */

struct number {
	const unsigned char *s;
	size_t len;
	bool integer;           /* no fraction and no exponent */
};

/* RFC 8259 number grammar; the text is converted later, only if wanted. */
static bool scan_number(struct cursor *c, struct number *n)
{
	const unsigned char *p, *e = c->end;

	skip_ws(c);
	p = c->p;
	n->s = p;
	n->integer = true;
	if (p < e && *p == '-')
		p++;
	if (p >= e || !is_digit(*p))
		return fail(c, "bad number");
	if (*p == '0')
		p++;
	else
		while (p < e && is_digit(*p))
			p++;
	if (p < e && *p == '.') {
		n->integer = false;
		if (++p >= e || !is_digit(*p))
			return fail(c, "bad number");
		while (p < e && is_digit(*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		n->integer = false;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !is_digit(*p))
			return fail(c, "bad number");
		while (p < e && is_digit(*p))
			p++;
	}
	n->len = (size_t)(p - n->s);
	c->p = p;
	return true;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* strtod() in the "C" locale, for the inputs the fast path cannot take. */
static bool slow_double(const struct number *n, double *out)
{
	char buf[512];
	locale_t old = (locale_t)0;
	char *end;
	double v;

	if (n->len >= sizeof(buf))
		return false;
	memcpy(buf, n->s, n->len);
	buf[n->len] = '\0';
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale)
		old = uselocale(c_locale);
	v = strtod(buf, &end);
	if (c_locale)
		uselocale(old);
	if (end != buf + n->len || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/*
 * Exact conversion for the numbers devices really send: with at most 19
 * significant digits, a mantissa below 2^53 and |exponent| <= 22, both the
 * mantissa and the power of ten are exact doubles, so one multiplication or
 * division rounds correctly (Clinger's fast path).
 */
static bool number_to_double(const struct number *n, double *out)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
	};
	const unsigned char *p = n->s, *e = n->s + n->len;
	bool neg = false, exact = true;
	uint64_t m = 0;
	int digits = 0;
	long exp10 = 0, ev = 0;
	int esign = 1;
	double v;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (bool frac = false; p < e && (is_digit(*p) || *p == '.'); p++) {
		if (*p == '.') {
			frac = true;
			continue;
		}
		if (frac)
			exp10--;
		if (m == 0 && *p == '0')
			continue;
		if (digits == 19) {
			exact = false;
			continue;
		}
		m = m * 10 + (uint64_t)(*p - '0');
		digits++;
	}
	if (p < e) {
		p++;
		if (*p == '+' || *p == '-')
			esign = *p++ == '-' ? -1 : 1;
		for (; p < e; p++)
			if (ev < 100000)
				ev = ev * 10 + (*p - '0');
		exp10 += esign * ev;
	}
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
		return true;
	}
	if (!exact || m > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
		return slow_double(n, out);
	v = (double)m;
	v = exp10 < 0 ? v / pow10[-exp10] : v * pow10[exp10];
	*out = neg ? -v : v;
	return true;
}

/* A non-negative integer in int64_t range (boot and seq are counters). */
static bool number_to_count(const struct number *n, int64_t *out)
{
	int64_t v = 0;

	if (!n->integer || n->s[0] == '-')
		return false;
	for (size_t i = 0; i < n->len; i++) {
		int d = n->s[i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* ---- any value, skipped ---------------------------------------------------- */

static bool skip_value(struct cursor *c, int depth);

static bool skip_container(struct cursor *c, int depth, bool object)
{
	unsigned char close = object ? '}' : ']';

	if (depth > RECORDER_JSON_DEPTH_MAX)
		return fail(c, "nested too deep");
	c->p++;
	if (take(c, close))
		return true;
	for (;;) {
		if (object) {
			struct text key = { 0 };

			if (!parse_string(c, &key))
				return false;
			if (!take(c, ':'))
				return fail(c, "expected ':'");
		}
		if (!skip_value(c, depth))
			return false;
		if (take(c, ','))
			continue;
		if (take(c, close))
			return true;
		return fail(c, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool skip_value(struct cursor *c, int depth)
{
	struct text t = { 0 };
	struct number n;

	skip_ws(c);
	if (c->p >= c->end)
		return fail(c, "unexpected end of payload");
	switch (*c->p) {
	case '{':
		return skip_container(c, depth + 1, true);
	case '[':
		return skip_container(c, depth + 1, false);
	case '"':
		return parse_string(c, &t);
	case 't':
		return take_word(c, "true") || fail(c, "bad literal");
	case 'f':
		return take_word(c, "false") || fail(c, "bad literal");
	case 'n':
		return take_word(c, "null") || fail(c, "bad literal");
	default:
		return scan_number(c, &n);
	}
}

/* ---- objects ----------------------------------------------------------------- */

typedef bool (*member_fn)(struct cursor *c, const char *key, void *ctx);

/*
 * Walk an object's members. @fn gets each decoded key and must consume the
 * value; keys too long to be ours or holding a NUL are skipped here.
 */
static bool each_member(struct cursor *c, int depth, member_fn fn, void *ctx)
{
	if (!take(c, '{'))
		return fail(c, "expected an object");
	if (take(c, '}'))
		return true;
	for (;;) {
		char key[32];
		struct text t = { key, sizeof(key) - 1, 0, false };

		if (!at(c, '"'))
			return fail(c, "expected a member name");
		if (!parse_string(c, &t))
			return false;
		if (!take(c, ':'))
			return fail(c, "expected ':'");
		if (t.len > t.cap || t.has_nul) {
			if (!skip_value(c, depth))
				return false;
		} else if (!fn(c, key, ctx)) {
			return false;
		}
		if (take(c, ','))
			continue;
		if (take(c, '}'))
			return true;
		return fail(c, "expected ',' or '}'");
	}
}

/* Bit of @key in @names, or 0 when unknown. */
static unsigned int key_bit(const char *key, const char *const names[], size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(key, names[i]) == 0)
			return 1u << i;
	return 0;
}

struct parse_state {
	struct recorder_reading *r;
	unsigned int seen;
};

static const char *const sensor_names[] = { "temperature", "humidity", "distance" };

static bool on_sensor(struct cursor *c, const char *key, void *ctx)
{
	struct parse_state *st = ctx;
	unsigned int bit = key_bit(key, sensor_names, 3);
	struct number n;
	double v;

	if (!bit)
		return skip_value(c, 2);
	if (st->seen & bit)
		return fail(c, "duplicate sensor");
	st->seen |= bit;
	/* null is read as omitted: it says "no value" either way. */
	if (take_word(c, "null"))
		return true;
	skip_ws(c);
	if (c->p >= c->end || (*c->p != '-' && !is_digit(*c->p)))
		return fail(c, "sensor value is not a number");
	if (!scan_number(c, &n))
		return false;
	if (!number_to_double(&n, &v))
		return fail(c, "sensor value out of range");
	if (bit == 1) {
		st->r->has_temperature = true;
		st->r->temperature = v;
	} else if (bit == 2) {
		st->r->has_humidity = true;
		st->r->humidity = v;
	} else {
		st->r->has_distance = true;
		st->r->distance = v;
	}
	return true;
}

enum {
	SEEN_DEVICE_ID = 1 << 0,
	SEEN_BOOT = 1 << 1,
	SEEN_SEQ = 1 << 2,
	SEEN_TIMESTAMP = 1 << 3,
	SEEN_SENSORS = 1 << 4,
	SEEN_ERRORS = 1 << 5,
	SEEN_DROPPED = 1 << 6,
};

static const char *const top_names[] = {
	"device_id", "boot", "seq", "timestamp", "sensors", "errors", "dropped",
};

static bool take_count(struct cursor *c, int64_t *out, const char *why)
{
	struct number n;

	skip_ws(c);
	if (c->p >= c->end || (*c->p != '-' && !is_digit(*c->p)))
		return fail(c, why);
	if (!scan_number(c, &n))
		return false;
	if (!number_to_count(&n, out))
		return fail(c, why);
	return true;
}

static bool on_top(struct cursor *c, const char *key, void *ctx)
{
	struct parse_state *st = ctx;
	struct recorder_reading *r = st->r;
	unsigned int bit = key_bit(key, top_names, sizeof(top_names) / sizeof(top_names[0]));
	struct parse_state sensors = { r, 0 };
	const unsigned char *start;

	if (!bit)
		return skip_value(c, 1);
	if (st->seen & bit)
		return fail(c, "duplicate member");
	st->seen |= bit;
	switch (bit) {
	case SEEN_DEVICE_ID: {
		struct text t = { r->device_id, RECORDER_ID_MAX, 0, false };

		if (!at(c, '"'))
			return fail(c, "device_id is not a string");
		if (!parse_string(c, &t))
			return false;
		if (t.len == 0 || t.len > RECORDER_ID_MAX || t.has_nul)
			return fail(c, "device_id empty, too long or holding NUL");
		return true;
	}
	case SEEN_BOOT:
		return take_count(c, &r->boot, "boot is not a non-negative integer");
	case SEEN_SEQ:
		return take_count(c, &r->seq, "seq is not a non-negative integer");
	case SEEN_DROPPED:
		return take_count(c, &r->dropped, "dropped is not a non-negative integer");
	case SEEN_TIMESTAMP: {
		char ts[48];
		struct text t = { ts, sizeof(ts) - 1, 0, false };

		if (take_word(c, "null"))
			return true;
		if (!at(c, '"'))
			return fail(c, "timestamp is not a string");
		if (!parse_string(c, &t))
			return false;
		if (t.len > t.cap || recorder_parse_iso8601(ts, t.len, &r->timestamp_ms) < 0)
			return fail(c, "timestamp is not an RFC 3339 time");
		r->has_timestamp = true;
		return true;
	}
	case SEEN_SENSORS:
		if (take_word(c, "null"))
			return true;
		if (!at(c, '{'))
			return fail(c, "sensors is not an object");
		return each_member(c, 2, on_sensor, &sensors);
	default: /* SEEN_ERRORS */
		if (take_word(c, "null"))
			return true;
		if (!at(c, '{'))
			return fail(c, "errors is not an object");
		start = c->p;
		if (!skip_value(c, 1))
			return false;
		r->errors = (const char *)start;
		r->errors_len = (size_t)(c->p - start);
		return true;
	}
}

static int parse_reading(const void *payload, size_t len, struct recorder_reading *out,
			 const char **reason, bool need_key, bool *has_key);

int recorder_parse_reading(const void *payload, size_t len, struct recorder_reading *out,
			   const char **reason)
{
	return parse_reading(payload, len, out, reason, true, NULL);
}

int recorder_parse_reading_any(const void *payload, size_t len, struct recorder_reading *out,
			       bool *has_key, const char **reason)
{
	return parse_reading(payload, len, out, reason, false, has_key);
}

static int parse_reading(const void *payload, size_t len, struct recorder_reading *out,
			 const char **reason, bool need_key, bool *has_key)
{
	static const unsigned char none[1];
	const unsigned char *p = payload ? payload : none;
	struct cursor c = { p, p + (payload ? len : 0), NULL };
	struct parse_state st = { out, 0 };

	memset(out, 0, sizeof(*out));
	skip_ws(&c);
	if (c.p >= c.end)
		fail(&c, "empty payload");
	else if (*c.p != '{')
		fail(&c, "not a JSON object");
	else if (each_member(&c, 1, on_top, &st)) {
		skip_ws(&c);
		if (c.p != c.end)
			fail(&c, "data after the object");
		else if (need_key && !(st.seen & SEEN_DEVICE_ID))
			fail(&c, "missing device_id");
		else if (need_key && !(st.seen & SEEN_BOOT))
			fail(&c, "missing boot");
		else if (need_key && !(st.seen & SEEN_SEQ))
			fail(&c, "missing seq");
	}
	if (has_key)
		*has_key = (st.seen & SEEN_BOOT) && (st.seen & SEEN_SEQ);
	if (reason)
		*reason = c.why;
	if (c.why) {
		out->errors = NULL;
		out->errors_len = 0;
		return -EBADMSG;
	}
	return 0;
}

int recorder_parse_number(const void *payload, size_t len, double *out)
{
	static const unsigned char none[1];
	const unsigned char *p = payload ? payload : none;
	struct cursor c = { p, p + (payload ? len : 0), NULL };
	struct number n;

	skip_ws(&c);
	if (c.p >= c.end || (*c.p != '-' && !is_digit(*c.p)) || !scan_number(&c, &n))
		return -EBADMSG;
	skip_ws(&c);
	if (c.p != c.end || !number_to_double(&n, out))
		return -EBADMSG;
	return 0;
}

/* ---- time ----------------------------------------------------------------------- */

/* Days from 1970-01-01 to a proleptic Gregorian date (eras of 400 years). */
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

static bool digits_at(const char *s, size_t len, size_t pos, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (pos + n > len)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[pos + i]))
			return false;
		v = v * 10 + (unsigned)(s[pos + i] - '0');
	}
	*out = v;
	return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

int recorder_parse_iso8601(const char *s, size_t len, int64_t *out_ms)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	unsigned ms = 0, scale = 100;
	int64_t t;
	size_t i = 19;
	int sign = 0;

	if (!digits_at(s, len, 0, 4, &y) || len < 20 || s[4] != '-' ||
	    !digits_at(s, len, 5, 2, &mo) || s[7] != '-' || !digits_at(s, len, 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits_at(s, len, 11, 2, &h) || s[13] != ':' || !digits_at(s, len, 14, 2, &mi) ||
	    s[16] != ':' || !digits_at(s, len, 17, 2, &sec))
		return -EBADMSG;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -EBADMSG;
	if (s[i] == '.') {
		/* Any number of digits; below a millisecond they are dropped. */
		if (++i >= len || !is_digit((unsigned char)s[i]))
			return -EBADMSG;
		for (; i < len && is_digit((unsigned char)s[i]); i++) {
			ms += (unsigned)(s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i >= len)
		return -EBADMSG;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '-' ? -1 : 1;
		if (!digits_at(s, len, i + 1, 2, &oh) || i + 3 >= len || s[i + 3] != ':' ||
		    !digits_at(s, len, i + 4, 2, &om) || oh > 23 || om > 59)
			return -EBADMSG;
		i += 6;
	} else {
		return -EBADMSG;
	}
	if (i != len)
		return -EBADMSG;
	t = days_from_civil(y, mo, d) * 86400000 + (int64_t)h * 3600000 + (int64_t)mi * 60000 +
	    (int64_t)sec * 1000 + ms;
	/* 10:30+02:00 is 08:30Z. */
	t -= (int64_t)sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
	*out_ms = t;
	return 0;
}
