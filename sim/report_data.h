/* report.html's data: the record folded into per-time-bin aggregates, written as one JSON object. */
#ifndef SIM_REPORT_DATA_H
#define SIM_REPORT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct record;

/*
 * Time bins: a whole number of seconds wide, at most REPORT_MAX_BINS of
 * them over the run, so the report's size and the browser's work stay
 * bounded whatever the run's length or the fleet's size (docs/report.md).
 */
#define REPORT_MAX_BINS 1800
/* Devices beyond this are drawn as a heat map: rows of several devices each. */
#define REPORT_STRIP_ROWS_MAX 300
#define REPORT_HEAT_COLS_MAX 300
/* Marked spans (faults, broker, commands) kept for the timeline. */
#define REPORT_SPANS_MAX 400

struct report_bins {
	int64_t t0_ms;          /* start of bin 0 */
	int64_t width_ms;       /* a whole number of seconds */
	size_t n;
};

/* Bins covering [@t0_ms, @t1_ms] (at least one), no more than @max. */
void report_bins_init(struct report_bins *b, int64_t t0_ms, int64_t t1_ms, size_t max);

/* The bin of @ms, clamped to the first and last. */
size_t report_bin_of(const struct report_bins *b, int64_t ms);

/*
 * One heat map cell's level, 0 to 9, from the time its devices were online
 * (@online_ms) over the time they could have been (@span_ms), as the
 * character the report stores ('0' to '9').
 */
char report_heat_level(double online_ms, double span_ms);

/* The latency histogram's upper bucket edges in ms; the last bucket is open. */
#define REPORT_LATENCY_BUCKETS 16
extern const double report_latency_edges[REPORT_LATENCY_BUCKETS - 1];
size_t report_latency_bucket(double ms);

struct report_data;

/*
 * Read the whole record once and fold it. @err says what failed. Returns
 * 0, -ENOMEM, or -EIO when the record could not be read.
 */
int report_data_build(struct record *rec, struct report_data **out, char *err, size_t errlen);
void report_data_free(struct report_data *d);

/* The scenario's name, or "" when the record does not say. */
const char *report_data_name(const struct report_data *d);

/* The verdict: 1 passed, 0 failed, -1 the record does not say. */
int report_data_passed(const struct report_data *d);

/* The expectations, for the page's table: @at_s seconds into the run, -1 unknown. */
size_t report_data_expectations(const struct report_data *d);
void report_data_expectation(const struct report_data *d, size_t i, const char **name,
			     const char **file, unsigned *line, bool *passed, double *at_s,
			     const char **message);

/* The data as one JSON object, safe inside an HTML <script> element. */
int report_data_write_json(const struct report_data *d, FILE *f);

/* @s as a JSON string that is also safe inside <script> (no "</", no U+2028). */
void report_json_string(FILE *f, const char *s);

#endif /* SIM_REPORT_DATA_H */
