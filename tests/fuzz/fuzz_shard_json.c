/*
 * libFuzzer target: the JSON robofleet merge reads back from shard
 * directories (a shard's shard.json, strictly, and summary.json through the
 * generic reader). Beyond not crashing or leaking: a shard.json that parses
 * has index below count, and every tree the reader builds can be walked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"
#include "shard_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every node, as merge's getters would. */
static void walk(const struct json_value *v, unsigned depth)
{
	long long x;
	uint64_t u;

	if (depth > 64)
		abort(); /* the reader bounds nesting well below this */
	(void)json_in_int(v, -1000, 1000, &x);
	(void)json_in_u64(v, &u);
	(void)json_in_number(v);
	if (v->type == JSON_OBJECT && v->n)
		(void)json_in_get(v, v->keys[0]);
	for (size_t i = 0; i < v->n; i++)
		walk(&v->items[i], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shard_info info;
	struct json_value tree;
	char err[400];

	if (shard_json_parse("shard.json", (const char *)data, size, &info, err, sizeof(err)) == 0 &&
	    info.index >= info.count)
		abort();
	if (json_in_parse((const char *)data, size, &tree, err, sizeof(err)) == 0) {
		walk(&tree, 0);
		json_in_free(&tree);
	}
	return 0;
}
