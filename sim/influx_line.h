/* The tutorial's InfluxDB schema as line protocol: one encoder for `robofleet export --format influx` and the live feed. */
#ifndef SIM_INFLUX_LINE_H
#define SIM_INFLUX_LINE_H

#include <stdbool.h>
#include <stdio.h>

#include "record.h"

/* Points one reading makes: one per metric it has (a failed sensor has none). */
size_t influx_line_points(const struct record_export_row *r);

/*
 * Write @r's points to @f: measurement per metric, tag device, field value
 * (plus boot and seq), at the device's time when it sent one. @ms: the
 * timestamp in milliseconds (the feed's precision=ms), else nanoseconds
 * (the default of `influx -import`). Returns the points written.
 */
size_t influx_line_write(FILE *f, const struct record_export_row *r, bool ms);

#endif /* SIM_INFLUX_LINE_H */
