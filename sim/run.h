/* `robofleet run`: one scenario, start to verdict. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>

struct run_options {
	const char *scenario_path;
	const char *junit_path;     /* NULL: no JUnit file */
	const char *broker;         /* NULL: as the scenario says */
	const char *runs_dir;       /* parent of the run directory, default "runs" */
	const char *device_path;    /* NULL: found next to robofleet */
	bool quiet;
	bool tui;                   /* show `robofleet top` while running (needs a terminal) */
	bool allow_low_disk;        /* start even if the record is not expected to fit */
	const char *summary_md_path; /* NULL: no Markdown summary (--summary-md) */
	const char *influx_url;     /* NULL: no live InfluxDB feed (--influx) */
	const char *influx_db;      /* 1.x database; NULL: "robofleet" */
	const char *influx_token, *influx_org, *influx_bucket; /* 2.x */
	const char *pki_dir;        /* --pki: credentials from `robofleet ca`; NULL: made per run */
	const char *ingest_url;     /* --ingest: HTTP devices post there; NULL: the run serves its own */
	/* --shard I/N: play shard I (0-based) of N (0: the whole fleet) */
	unsigned shard_index, shard_count;
	const char *run_id;         /* --run-id: names the shards' meeting place; NULL: the scenario's name */
	int64_t start_at_ms;        /* --start-at: the timeline's start, wall ms; 0: agreed through the broker */
	unsigned shard_wait_s;      /* how long a shard waits for the others (600) */
};

/*
 * Run the scenario. Returns the process exit status: 0 every expectation
 * held, 1 one failed or the run broke, 2 the scenario or options are bad,
 * 130 interrupted.
 */
int run_scenario(const struct run_options *o);

#endif /* SIM_RUN_H */
