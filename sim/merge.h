/* `robofleet merge`: the run directories of one sharded run into one record, JUnit, summary and report. */
#ifndef SIM_MERGE_H
#define SIM_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shard_json.h"

struct record_merge;


/*
 * Read @path strictly: one JSON object with exactly the keys run_id,
 * scenario (strings), index, count, devices, started_ms, exit_status
 * (whole numbers) and finished (a boolean), each once, index below count.
 * Returns 0, or -ENOENT, -EFBIG, -EINVAL (malformed) or another negative
 * errno with the reason, naming @path, in @err.
 */
int merge_read_shard_json(const char *path, struct shard_info *out, char *err,
			  size_t errlen);

/*
 * Check the fleet-wide expectations (fleet_lost:, fleet_duplicated:) of
 * the scenario file at @path again over the merged record and decide them
 * (record_merge_decide()), where the shards' verdicts put together are not
 * the fleet's: a bound other than 0 on a sum. @name (NULL: @path) is the
 * name the file is parsed under, which paths in it are relative to.
 * Returns how many were decided, or a negative errno with the reason in
 * @err (-EINVAL: the scenario does not parse).
 */
int merge_fleet_expectations(struct record_merge *m, const char *path, const char *name,
			     char *err, size_t errlen);

/* `robofleet merge DIR... -o OUT [--junit FILE] [--quiet]`; argv[0] is "merge". Returns the exit status: 0, 1 (failed), 2 (bad usage or input). */
int merge_main(int argc, char **argv);

#endif /* SIM_MERGE_H */
