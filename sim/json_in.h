/*
 * A small JSON reader for the files robofleet writes itself and reads back
 * (a shard's shard.json and summary.json for robofleet merge): the whole
 * text parsed into a tree, with strict whole-number getters. libc only
 * (fuzzed: tests/fuzz/fuzz_shard_json.c).
 */
#ifndef SIM_JSON_IN_H
#define SIM_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
	enum json_type type;
	bool boolean;
	char *text;             /* JSON_STRING: the text, unescaped; JSON_NUMBER: as written */
	size_t n;               /* JSON_ARRAY, JSON_OBJECT: members */
	char **keys;            /* JSON_OBJECT */
	struct json_value *items;     /* JSON_ARRAY, JSON_OBJECT */
};

/* Parse @len bytes as one JSON value into @out (free with json_in_free());
 * on failure (-EINVAL, -ENOMEM) @err says why and at which byte. */
int json_in_parse(const char *text, size_t len, struct json_value *out, char *err, size_t errlen);
void json_in_free(struct json_value *v);
/* The member @key of object @obj, or NULL. */
const struct json_value *json_in_get(const struct json_value *obj, const char *key);
/* A whole number within [@lo, @hi], as written (no fraction, no exponent). */
bool json_in_int(const struct json_value *v, long long lo, long long hi, long long *out);
bool json_in_u64(const struct json_value *v, uint64_t *out);
/* A number, NAN when absent or null. */
double json_in_number(const struct json_value *v);

#endif /* SIM_JSON_IN_H */
