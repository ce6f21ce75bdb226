/* --summary-md: a run's verdict as Markdown, for a CI step summary ($GITHUB_STEP_SUMMARY). */
#ifndef SIM_SUMMARY_MD_H
#define SIM_SUMMARY_MD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct summary_md_case {
	const char *name, *file, *message;  /* message: why it failed */
	unsigned line;
	bool passed;
};

/* One alert rule over the run. */
struct summary_md_alert {
	const char *name;
	uint64_t raised, cleared;
	int64_t latency_max_ms;             /* -1: never raised */
};

struct summary_md {
	const char *scenario, *run_dir;
	bool passed;
	size_t devices, online, crashes;
	uint64_t taken, recorded, lost, redelivered, rejected, faults;
	double p50_ms, p99_ms, max_ms;      /* NAN: no timed reading */
	bool influx;                        /* --influx was given */
	uint64_t influx_written, influx_dropped;
	const struct summary_md_case *cases;
	size_t n_cases;
	const struct summary_md_alert *alerts;
	size_t n_alerts;
};

/* @s as Markdown table cell text: | and newlines cannot break the table, and markup is literal. */
void summary_md_cell(FILE *f, const char *s);

/* The whole summary into @f. */
int summary_md_write(FILE *f, const struct summary_md *s);

/* Into @path, appended (a step summary file collects several); 0 or -errno. */
int summary_md_write_file(const char *path, const struct summary_md *s);

#endif /* SIM_SUMMARY_MD_H */
