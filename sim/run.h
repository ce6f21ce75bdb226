/* `robofleet run`: one scenario, start to verdict. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>

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
};

/*
 * Run the scenario. Returns the process exit status: 0 every expectation
 * held, 1 one failed or the run broke, 2 the scenario or options are bad,
 * 130 interrupted.
 */
int run_scenario(const struct run_options *o);

#endif /* SIM_RUN_H */
