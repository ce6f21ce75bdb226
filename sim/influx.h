/* The live InfluxDB feed of `robofleet run --influx`: a thread that follows the record and writes its readings. */
#ifndef SIM_INFLUX_H
#define SIM_INFLUX_H

#include <stddef.h>
#include <stdint.h>

#include "influx_url.h"

struct influx_feed;

struct influx_feed_opts {
	const char *url;                /* checked with influx_url_parse() */
	struct influx_target target;
	const char *db_path;            /* the record, opened read-only */
	uint32_t interval_ms;           /* a batch at least this often (1000) */
	size_t max_points;              /* points in memory at most (5000) */
	unsigned attempts;              /* per batch, backoff between (3) */
	uint32_t request_timeout_ms;    /* one POST at most (5000) */
};

struct influx_feed_stats {
	uint64_t written, dropped, failed_batches;
};

/*
 * Check InfluxDB is there (a warning on stderr if not: the run goes on and
 * the points count as not written) and start the thread. Returns 0,
 * -EINVAL (bad URL or target), -ENOMEM or another negative errno.
 */
int influx_feed_start(const struct influx_feed_opts *o, struct influx_feed **out);

/*
 * Once the recorder has stopped: write what the record holds beyond the
 * feed, for at most @flush_ms more (what is left is counted as dropped),
 * join the thread and free the feed. @out gets the counts. NULL is a no-op.
 */
void influx_feed_stop(struct influx_feed *f, uint32_t flush_ms, struct influx_feed_stats *out);

#endif /* SIM_INFLUX_H */
