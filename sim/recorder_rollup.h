/* Inside the recorder: a batch's changes to the devices, boots and hourly rows, added up in memory. */
#ifndef SIM_RECORDER_ROLLUP_H
#define SIM_RECORDER_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recorder_json.h"

/*
 * The writer thread's alone. Storing a message used to run an upsert of
 * the device's row, its boot's row and its hour's row for every reading;
 * now the batch adds its deltas up here, per key, and the rows are
 * written once per key when the batch commits. What reaches the database
 * is what the upserts one by one would have left:
 *
 * - devices and boots: counts add up, first/last and min/max seq are
 *   minima and maxima, dropped the maximum: independent of order, so one
 *   delta per key and batch gives the same row.
 * - hourly: the sums are floating point, and (a + b) + c is not always
 *   a + (b + c). So the hourly rows are not deltas: the current row of
 *   each (device, hour) is kept here (read from the database the first
 *   time the key is met), each reading is added to it in arrival order
 *   as the SQL did, and the row is written whole. Only the recorder
 *   writes hourly, so the kept row stays the database's.
 *
 * A batch that is rolled back (recorder__rollup_begin() again, for its
 * retry) leaves the kept hourly rows as they were committed.
 *
 * Keys stay known from batch to batch with whether a committed batch wrote
 * their row, so that the row is then written with an UPDATE rather than an
 * upsert (which tries the INSERT first). A devices row created by a status
 * message alone is not known this way; its key gets the upsert.
 */

/* One metric of an hourly row: how many values, their sum, their extremes. */
struct recorder_hour_metric {
	int64_t n;
	double sum;
	bool has_range;          /* min and max hold a value (the SQL's NULL otherwise) */
	double min, max;
};

/* The hourly row of (device_id, hour_ms). */
struct recorder_hour_row {
	const char *device_id;
	int64_t hour_ms;
	int64_t n;
	struct recorder_hour_metric m[3];   /* temperature, humidity, distance */
	bool stored;                        /* the database has the row (an UPDATE will do) */
};

/* A batch's delta to a devices row. */
struct recorder_device_delta {
	const char *device_id;
	int64_t first_ms, last_ms;
	int64_t readings, duplicates, conflicts, rejected;
	bool stored;             /* the database has the row (an UPDATE will do) */
};

/* A batch's delta to a boots row. */
struct recorder_boot_delta {
	const char *device_id;
	int64_t boot;
	int64_t readings, duplicates, conflicts;
	int64_t min_seq, max_seq, first_ms, last_ms, dropped;
	bool stored;             /* the database has the row (an UPDATE will do) */
};

struct recorder_rollup;

/* Returns NULL without memory. */
struct recorder_rollup *recorder__rollup_new(void);
void recorder__rollup_free(struct recorder_rollup *ru);

/* A batch (or its retry) starts: forget every delta not committed. */
void recorder__rollup_begin(struct recorder_rollup *ru);

/* Returns 0 or -ENOMEM (the batch is then written again). */
int recorder__rollup_device(struct recorder_rollup *ru, const char *device_id, int64_t ms,
			    int readings, int duplicates, int conflicts, int rejected);
int recorder__rollup_boot(struct recorder_rollup *ru, const char *device_id, int64_t boot,
			  int reading, int duplicate, int conflict, int64_t seq, int64_t ms,
			  int64_t dropped);

/*
 * Reads the committed hourly row of (@device_id, @hour_ms) into @row (its
 * n stays 0 and stored false when there is none). Returns 0 or a negative
 * errno.
 */
typedef int (*recorder__rollup_load_fn)(void *arg, struct recorder_hour_row *row);

/*
 * Add a new reading's values (a NULL-like has_* false adds 0 to the sum
 * and nothing else, as the SQL did) to its hour. @load is called the first
 * time the key is met. Returns 0, -ENOMEM, or what @load returned.
 */
int recorder__rollup_hour(struct recorder_rollup *ru, const char *device_id, int64_t hour_ms,
			  const bool has[3], const double v[3], recorder__rollup_load_fn load,
			  void *load_arg);

/* Callbacks that write the batch's rows; each returns 0 or a negative errno. */
struct recorder_rollup_writer {
	int (*device)(void *arg, const struct recorder_device_delta *d);
	int (*boot)(void *arg, const struct recorder_boot_delta *b);
	int (*hour)(void *arg, const struct recorder_hour_row *h);
};

/* Hand every row the batch changed to @w, in the order first met, each
 * with whether the record holds it. Stops at the first error and returns it. */
int recorder__rollup_write(struct recorder_rollup *ru, const struct recorder_rollup_writer *w,
			   void *arg);

/* The batch committed: its hourly rows are now the database's. Hours more
 * than one before the newest one seen are forgotten (read again if met). */
void recorder__rollup_committed(struct recorder_rollup *ru);

/* Hourly rows kept (for the tests). */
size_t recorder__rollup_hours_kept(const struct recorder_rollup *ru);

#endif /* SIM_RECORDER_ROLLUP_H */
