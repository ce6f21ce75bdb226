/* A small strict JSON reader (json_in.h): nesting bounded, every string unescaped to UTF-8. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"

/* Deeper than any file robofleet writes: a bound for hostile input. */
#define JSON_DEPTH_MAX 32

struct jparse {
	const char *start, *p, *end;
	unsigned depth;
	const char *why;
};

void json_in_free(struct json_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		json_in_free(&v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->text);
	memset(v, 0, sizeof(*v));
}

static int jfail(struct jparse *j, const char *why)
{
	if (!j->why)
		j->why = why;
	return -EINVAL;
}

static void skip_space(struct jparse *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* At the opening quote. An escape never writes more bytes than it takes. */
static int parse_string(struct jparse *j, char **out)
{
	const char *q = ++j->p;
	char *buf, *w;

	while (q < j->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= j->end)
		return jfail(j, "a string without its closing quote");
	if (!(buf = malloc((size_t)(q - j->p) + 1)))
		return -ENOMEM;
	w = buf;
	while (j->p < q) {
		unsigned char c = (unsigned char)*j->p++;
		unsigned cp, lo;

		if (c < 0x20)
			goto bad_control;
		if (c != '\\') {
			*w++ = (char)c;
			continue;
		}
		switch (c = (unsigned char)*j->p++) {
		case '"': case '\\': case '/': *w++ = (char)c; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u':
			if (q - j->p < 4 || hex4(j->p, &cp) < 0)
				goto bad_escape;
			j->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad_escape;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (q - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
				    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad_escape;
				j->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			/* A NUL would end the text early. */
			if (cp == 0)
				goto bad_escape;
			w = put_utf8(w, cp);
			break;
		default:
			goto bad_escape;
		}
	}
	*w = '\0';
	j->p = q + 1;
	*out = buf;
	return 0;
bad_control:
	free(buf);
	return jfail(j, "a control character in a string");
bad_escape:
	free(buf);
	return jfail(j, "a bad escape in a string");
}

static bool digit_at(const struct jparse *j, const char *p)
{
	return p < j->end && *p >= '0' && *p <= '9';
}

static int parse_number(struct jparse *j, struct json_value *out)
{
	const char *s = j->p, *p = j->p;

	if (p < j->end && *p == '-')
		p++;
	if (!digit_at(j, p))
		return jfail(j, "not a value");
	if (*p == '0')
		p++;
	else
		while (digit_at(j, p))
			p++;
	if (p < j->end && *p == '.') {
		if (!digit_at(j, ++p))
			return jfail(j, "a number without digits after its point");
		while (digit_at(j, p))
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (!digit_at(j, p))
			return jfail(j, "a number without digits in its exponent");
		while (digit_at(j, p))
			p++;
	}
	out->type = JSON_NUMBER;
	if (!(out->text = strndup(s, (size_t)(p - s))))
		return -ENOMEM;
	j->p = p;
	return 0;
}

static int parse_value(struct jparse *j, struct json_value *out);

/* Members of an object (@keys) or an array, up to @close. */
static int parse_members(struct jparse *j, struct json_value *out, bool keys, char close)
{
	size_t cap = 0;
	int rc;

	if (++j->depth > JSON_DEPTH_MAX)
		return jfail(j, "nested too deeply");
	j->p++;
	skip_space(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		if (out->n == cap) {
			size_t c = cap ? cap * 2 : 8;
			struct json_value *items = realloc(out->items, c * sizeof(*items));

			if (!items)
				return -ENOMEM;
			out->items = items;
			if (keys) {
				char **k = realloc(out->keys, c * sizeof(*k));

				if (!k)
					return -ENOMEM;
				out->keys = k;
			}
			cap = c;
		}
		if (keys) {
			skip_space(j);
			if (j->p >= j->end || *j->p != '"')
				return jfail(j, "an object key that is not a string");
			if ((rc = parse_string(j, &key)) < 0)
				return rc;
			skip_space(j);
			if (j->p >= j->end || *j->p != ':') {
				free(key);
				return jfail(j, "no ':' after an object key");
			}
			j->p++;
		}
		memset(&out->items[out->n], 0, sizeof(out->items[0]));
		if (keys)
			out->keys[out->n] = key;
		out->n++;
		if ((rc = parse_value(j, &out->items[out->n - 1])) < 0)
			return rc;
		skip_space(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		return jfail(j, keys ? "no ',' or '}' after an object member" :
			     "no ',' or ']' after an array item");
	}
}

static int parse_value(struct jparse *j, struct json_value *out)
{
	static const struct { const char *word; enum json_type type; bool b; } words[] = {
		{ "true", JSON_BOOL, true }, { "false", JSON_BOOL, false }, { "null", JSON_NULL, false },
	};

	skip_space(j);
	if (j->p >= j->end)
		return jfail(j, "a value missing");
	switch (*j->p) {
	case '{':
		out->type = JSON_OBJECT;
		return parse_members(j, out, true, '}');
	case '[':
		out->type = JSON_ARRAY;
		return parse_members(j, out, false, ']');
	case '"':
		out->type = JSON_STRING;
		return parse_string(j, &out->text);
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t len = strlen(words[i].word);

		if ((size_t)(j->end - j->p) >= len && !memcmp(j->p, words[i].word, len)) {
			j->p += len;
			out->type = words[i].type;
			out->boolean = words[i].b;
			return 0;
		}
	}
	return parse_number(j, out);
}

/* Parse @len bytes as one JSON value; on failure @err says why and where. */
int json_in_parse(const char *text, size_t len, struct json_value *out, char *err, size_t errlen)
{
	struct jparse j = { .start = text, .p = text, .end = text + len };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_value(&j, out);
	if (rc == 0) {
		skip_space(&j);
		if (j.p != j.end)
			rc = jfail(&j, "more after the value");
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "not JSON: %s at byte %zu", j.why ? j.why : "malformed",
				 (size_t)(j.p - j.start));
		json_in_free(out);
	}
	return rc;
}

const struct json_value *json_in_get(const struct json_value *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

/* A whole number within [@lo, @hi], as written (no fraction, no exponent). */
bool json_in_int(const struct json_value *v, long long lo, long long hi, long long *out)
{
	char *end;
	long long x;

	if (!v || v->type != JSON_NUMBER || strpbrk(v->text, ".eE"))
		return false;
	errno = 0;
	x = strtoll(v->text, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

bool json_in_u64(const struct json_value *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (!v || v->type != JSON_NUMBER || strpbrk(v->text, "-.eE"))
		return false;
	errno = 0;
	x = strtoull(v->text, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

/* A number, NAN when absent or null. */
double json_in_number(const struct json_value *v)
{
	return v && v->type == JSON_NUMBER ? strtod(v->text, NULL) : NAN;
}

