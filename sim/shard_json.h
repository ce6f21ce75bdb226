/* shard.json: what a sharded run's directory says of it, for robofleet merge. libc only (fuzzed). */
#ifndef SIM_SHARD_JSON_H
#define SIM_SHARD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a shard's run directory says of it in shard.json (`robofleet run --shard I/N`). */
struct shard_info {
	char run_id[128];
	char scenario[128];
	unsigned index, count;          /* index < count */
	uint64_t devices;               /* the shard's own */
	int64_t started_ms;             /* wall clock, UTC ms */
	bool finished;                  /* false: killed or crashed before its end */
	int exit_status;                /* 0 passed, 1 failed, 130 interrupted; -1 unfinished */
};

/*
 * Parse @len bytes of @text strictly: one JSON object with exactly the keys
 * run_id, scenario (strings), index, count, devices, started_ms,
 * exit_status (whole numbers) and finished (a boolean), each once, index
 * below count. Returns 0, or -EINVAL (malformed) or -ENOMEM with the
 * reason, naming @path, in @err.
 */
int shard_json_parse(const char *path, const char *text, size_t len, struct shard_info *out,
		     char *err, size_t errlen);

#endif /* SIM_SHARD_JSON_H */
