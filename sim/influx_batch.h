/* The live InfluxDB feed's bounded batch: points waiting for one write, and the counts of what was written and what was not. */
#ifndef SIM_INFLUX_BATCH_H
#define SIM_INFLUX_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

/*
 * At most max_points points wait in memory: the feed reads no further
 * until the batch is written or given up, so memory stays bounded however
 * slow InfluxDB is. Every point the feed takes ends in exactly one of
 * written or dropped.
 */
struct influx_batch {
	size_t max_points;
	size_t points;          /* waiting now */
	char *body;             /* their line protocol, NUL-terminated */
	size_t len;
	FILE *f;                /* open_memstream() over body */
	uint64_t written;       /* accepted by InfluxDB */
	uint64_t dropped;       /* given up: failed batches, past the bound, past the deadline */
	uint64_t failed_batches;
};

/* Returns 0, -EINVAL (max_points 0) or -ENOMEM. */
int influx_batch_init(struct influx_batch *b, size_t max_points);
void influx_batch_free(struct influx_batch *b);

/* Add @r's points; -ENOBUFS (nothing added) when they do not fit. A reading
 * with more points than the bound is counted as dropped and returns 0. */
int influx_batch_add(struct influx_batch *b, const struct record_export_row *r);

/* Count @r's points as dropped without taking them (the bound or the
 * final deadline passed). */
void influx_batch_drop(struct influx_batch *b, const struct record_export_row *r);

/* The body to send; NULL and 0 points when empty. Returns -ENOMEM if the
 * stream failed. */
int influx_batch_body(struct influx_batch *b, const char **body, size_t *len);

/* The batch's fate: @ok its points were written, else they are dropped
 * and the batch counted failed. Either way the batch is empty after. */
int influx_batch_done(struct influx_batch *b, bool ok);

#endif /* SIM_INFLUX_BATCH_H */
