/* shard.json, read strictly: what a shard's run directory says of it (shard_json.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"
#include "shard_json.h"

enum shard_key {
	K_RUN_ID, K_SCENARIO, K_INDEX, K_COUNT, K_DEVICES, K_STARTED_MS, K_FINISHED,
	K_EXIT_STATUS, K_COUNT_KEYS
};

static const char *const shard_keys[K_COUNT_KEYS] = {
	"run_id", "scenario", "index", "count", "devices", "started_ms", "finished", "exit_status",
};

static int shard_member(enum shard_key k, const struct json_value *v, struct shard_info *out)
{
	long long x;
	uint64_t u;

	switch (k) {
	case K_RUN_ID:
	case K_SCENARIO: {
		char *to = k == K_RUN_ID ? out->run_id : out->scenario;
		size_t cap = k == K_RUN_ID ? sizeof(out->run_id) : sizeof(out->scenario);

		if (v->type != JSON_STRING || !v->text[0] || strlen(v->text) >= cap)
			return -EINVAL;
		memcpy(to, v->text, strlen(v->text) + 1);
		return 0;
	}
	case K_INDEX:
	case K_COUNT:
		if (!json_in_int(v, k == K_COUNT ? 1 : 0, UINT_MAX, &x))
			return -EINVAL;
		*(k == K_INDEX ? &out->index : &out->count) = (unsigned)x;
		return 0;
	case K_DEVICES:
		if (!json_in_u64(v, &u))
			return -EINVAL;
		out->devices = u;
		return 0;
	case K_STARTED_MS:
		if (!json_in_int(v, 0, LLONG_MAX, &x))
			return -EINVAL;
		out->started_ms = x;
		return 0;
	case K_FINISHED:
		if (v->type != JSON_BOOL)
			return -EINVAL;
		out->finished = v->boolean;
		return 0;
	case K_EXIT_STATUS:
		if (!json_in_int(v, -1, 255, &x))
			return -EINVAL;
		out->exit_status = (int)x;
		return 0;
	default:
		return -EINVAL;
	}
}

int shard_json_parse(const char *path, const char *text, size_t len, struct shard_info *out,
		     char *err, size_t errlen)
{
	static const char *const want[K_COUNT_KEYS] = {
		"a non-empty string of up to 127 bytes", "a non-empty string of up to 127 bytes",
		"a whole number from 0", "a whole number from 1", "a whole number from 0",
		"a whole number of ms from 0", "true or false", "a whole number from -1 to 255",
	};
	struct json_value top;
	unsigned seen = 0;
	char why[200];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&top, 0, sizeof(top));
	if ((rc = json_in_parse(text, len, &top, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	rc = -EINVAL;
	if (top.type != JSON_OBJECT) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		goto out;
	}
	for (size_t i = 0; i < top.n; i++) {
		int k = 0;

		while (k < K_COUNT_KEYS && strcmp(top.keys[i], shard_keys[k]))
			k++;
		if (k == K_COUNT_KEYS) {
			snprintf(err, errlen, "%s: unknown key \"%.60s\"", path, top.keys[i]);
			goto out;
		}
		if (seen & (1u << k)) {
			snprintf(err, errlen, "%s: \"%s\" given twice", path, shard_keys[k]);
			goto out;
		}
		seen |= 1u << k;
		if (shard_member((enum shard_key)k, &top.items[i], out) < 0) {
			snprintf(err, errlen, "%s: \"%s\": want %s", path, shard_keys[k], want[k]);
			goto out;
		}
	}
	for (int k = 0; k < K_COUNT_KEYS; k++) {
		if (!(seen & (1u << k))) {
			snprintf(err, errlen, "%s: no \"%s\"", path, shard_keys[k]);
			goto out;
		}
	}
	if (out->index >= out->count) {
		snprintf(err, errlen, "%s: index %u is not below count %u", path, out->index, out->count);
		goto out;
	}
	rc = 0;
out:
	json_in_free(&top);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

