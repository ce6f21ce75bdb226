/* Will the run's record fit? An estimate of the run directory's size, checked before anything starts. */
#ifndef SIM_DISK_CHECK_H
#define SIM_DISK_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

struct disk_estimate {
	uint64_t readings;      /* at most, over the longest the timeline can take */
	uint64_t bytes;         /* record, device storage and logs, WAL and broker */
	uint64_t longest_ms;
};

/*
 * Measured on recorded runs (docs/recording.md, "How big a record gets"):
 * a reading costs about 300 bytes in record.db with its indexes, rollup
 * and accounting rows; 400 leaves room for longer payloads. A device's
 * emulated flash grows to about twice its outbox before compaction (64
 * KiB at the default 600 slots) and its log stays small unless it fails
 * (16 KiB allowed). The WAL, the world file and the broker's persistence
 * are a fixed 8 MiB at most.
 */
#define DISK_BYTES_PER_READING 400u
#define DISK_BYTES_PER_DEVICE (80u * 1024u)
#define DISK_BYTES_FIXED (8u * 1024u * 1024u)

void disk_estimate_run(const struct scenario *sc, struct disk_estimate *out);

/*
 * Free bytes for an unprivileged writer on the file system that holds
 * @path, or that would hold it (the nearest existing parent). Returns 0
 * or a negative errno.
 */
int disk_free_bytes(const char *path, uint64_t *out);

#endif /* SIM_DISK_CHECK_H */
