/* Inside `robofleet run`: the run's state and what its files share (run.c, run_*.c). */
#ifndef SIM_RUN_INTERNAL_H
#define SIM_RUN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "accounting.h"
#include "alerts.h"
#include "broker.h"
#include "control_reader.h"
#include "engine.h"
#include "fleet.h"
#include "influx.h"
#include "run.h"
#include "run_security.h"
#include "scenario.h"
#include "world.h"

struct mosquitto;
struct record;
struct recorder;
struct recorder_opts;
struct summary_md_alert;
struct run_report;
struct summary_md;

#define DEVICE_LOG_LIMIT "1M"
#define STOP_TIMEOUT_MS 10000
/* How long the recorder retries a failing write before it gives up on it
 * (docs/recording.md): long enough for a lock or a full disk to clear. */
#define RECORDER_STORE_DEADLINE_MS 30000
/* At the end of a run the recorder may be far behind what the broker took
 * (a fleet beyond the machine). It is waited for as long as messages keep
 * arriving, up to this long; a recorder that takes nothing for
 * RECORDER_STORE_DEADLINE_MS + STOP_TIMEOUT_MS is given up on sooner. */
#define RUN_DRAIN_MAX_MS (15 * 60 * 1000)
/* A loss check during the run waits for the record to catch up with the
 * moment of the check as long as it keeps moving, up to this long. */
#define RUN_CHECK_DRAIN_MAX_MS (2 * 60 * 1000)
#define DASHBOARD_CYCLE_OFF_MS 3000     /* 'p' in the dashboard: power back after this */

/* One alert rule over the whole run, for the summary. */
struct run_alert_tally {
	uint64_t raised, cleared;
	int64_t latency_max_ms;         /* of the raises; -1: none */
};

/* A dashboard power-cycle waiting for its restore. */
struct pending_restore {
	size_t dev;
	int64_t due_ms;
};

struct run {
	const struct run_options *opt;
	struct scenario sc;
	char dir[900];                  /* short enough to nest file names in */
	struct world world;
	struct broker broker;
	struct recorder *recorder;
	struct fleet fleet;
	struct mosquitto *cloud;        /* publishes commands like a cloud app */
	struct record *db;              /* read side of the record */
	struct engine engine;
	char (*args)[FLEET_ARGS_MAX][24]; /* per-device option values */
	const char **net_args;          /* the scenario's network: as every device's options */
	struct topic_map *topics;       /* the groups' layouts and rooms, for the recorder */
	char **programs;                /* per group: its built sketch or device: program; NULL:
					 * robofleet-device */
	struct world_faults *faults;    /* per device: what its world slot says */
	uint32_t *faults_injected;      /* per device: faults so far, for their seeds */
	uint64_t *published_before;     /* per device: published by processes a power cut ended */
	uint32_t *published_boot;       /* per device: the boot whose count is in published_before */
	uint64_t *refused_before;       /* per device: publishes refused by processes a power cut ended */
	uint64_t (*board_sent)[2];      /* per device: sent, refused as of the last run__book_all() */
	struct run_group_books *group_books; /* per group, tallied for the verdict */
	/* Per device: what it took, boot by boot, and what its outbox holds
	 * (accounting.h). Fed from the world at every process end and at
	 * every loss check; the record is compared against it. */
	struct accounting_device *books;
	int64_t books_synced_ms;        /* monotonic; books and record consistent as of then */
	int64_t drain_ms;               /* the recorder's catching up after the fleet stopped */
	char recorder_id[64];           /* its MQTT client id */
	bool broker_dropped;            /* our broker's queue for the recorder overflowed */
	int device_nice;                /* run__set_priorities(): for fleet.nice */
	uint64_t faults_total;          /* injections, power changes and broker actions */
	int64_t wall_offset_ms;         /* wall - monotonic, for the record's clock */
	uint64_t crashes;
	/* The dashboard: its request FIFO, where the run is (world header),
	 * and with --tui its thread. See sim/control_reader.h. */
	struct control control;
	const char *fault_source;       /* NULL: "scenario" */
	struct pending_restore *restores;
	size_t n_restores, cap_restores;
	struct world_run status;
	size_t results_seen;
	pthread_t tui_thread;
	bool tui_running;
	atomic_bool tui_stop;
	int saved_stderr;
	struct run_report *report;      /* run_report.c: the status line and report.html */
	struct influx_feed *influx;     /* --influx: the live feed (sim/influx.h) */
	struct influx_feed_stats influx_stats; /* its counts once stopped */
	struct run_security security;   /* fleet: security: (run_security.h) */
	struct run_rogue **rogues;      /* per device: its impersonator while the fault is on */
	struct ingest *ingest;          /* the HTTP ingest endpoint, when a group posts to it (run_ingest.c) */
	char ingest_url[300];           /* where HTTP devices post: ours, or --ingest */
	bool ingest_refusing;           /* ingest_refuse is on some device: the port is closed */
	pthread_mutex_t ingest_lock;    /* ingest as the recorder's thread routes commands to it */
	uint64_t impersonation_sent;    /* readings published as another robot */
	_Atomic uint64_t impersonation_acked; /* ... that the broker acknowledged */
	/* --shard (run_shard.c) */
	bool *owned;                    /* per device: this shard plays it; NULL: every device */
	size_t n_owned;
	char **shard_filters;           /* the recorder's subscriptions, NULL-terminated */
	char shard_run_id[96];
	int64_t shard_process_start_wall_ms;
	int64_t shard_started_wall_ms;  /* the common start of the timeline */
	/* run_alerts.c: the scenario's alert rules. The recorder's writer
	 * thread feeds them; alerts_lock guards alerts, alerts_on and the
	 * tallies (alerts_lock_init: there are rules). */
	pthread_mutex_t alerts_lock;
	bool alerts_lock_init;
	bool alerts_on;
	struct alerts alerts;
	struct run_alert_tally *alert_tally; /* per rule */
	uint64_t alerts_unpublished, alerts_unrecorded;
	int64_t alerts_ticked_ms;
};

/* run_impersonate.c: the impersonate fault, played with the robot's own
 * credentials. Its readings carry this boot, which no robot reaches. */
#define RUN_IMPERSONATION_BOOT 4000000000u
void run__impersonate_tick(struct run *r);
void run__impersonate_stop(struct run *r);
/* Readings published as another robot that the record holds (must be 0). */
uint64_t run__impersonation_recorded(struct run *r);

/* run_ingest.c: the HTTP transport's endpoint and server faults. */
int run__start_ingest(struct run *r);
void run__ingest_tick(struct run *r);
void run__stop_ingest(struct run *r);
void run__route_command(void *ctx, const char *device_id, const void *payload, size_t len);
/* run_alerts.c: alert rules on recorded readings (sim/alerts.h), their MQTT
 * topic, alerts table and summary. prepare before recorder_open(), start
 * once the command publisher is connected, free after recorder_close(). */
int run__alerts_prepare(struct run *r, struct recorder_opts *ro);
int run__alerts_start(struct run *r);
void run__alerts_tick(struct run *r);
int run__alert_state(void *ctx, size_t dev, size_t rule, enum scenario_alert_state *out);
void run__alerts_free(struct run *r);
void run__alerts_print(FILE *out, const struct run *r);
void run__alerts_json(FILE *f, const struct run *r);
struct summary_md_alert *run__alerts_md(const struct run *r); /* NULL: none; free() it */

/* run_shard.c: --shard I/N. */
bool run__owns(const struct run *r, size_t dev);
size_t run__owned_count(const struct run *r);
int run__shard_check(const struct run *r, char *err, size_t errlen);
int run__shard_setup(struct run *r);
int run__shard_filters(struct run *r);
int run__shard_copy_scenario(struct run *r);
int run__shard_write_state(struct run *r, bool finished, int exit_status);
int run__shard_wait_start(struct run *r);
void run__shard_clear_ready(struct run *r);
void run__shard_free(struct run *r);

/* run.c: clocks and the progress line. */
int64_t run__mono_ms(void);
int64_t run__wall_ms(void);
void run__say(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* run_effects.c: what the engine's steps and probes do (engine.h), also
 * for the dashboard's requests. */
extern const struct engine_ops run__ops;
int run__sleep_until(void *ctx, int64_t t);
void run__on_device_exit(void *ctx, struct fleet_device *d, bool crash);
void run__settle(struct run *r);
/* Devices online now: the record's status, or for a sketch or device:
 * group the device's own report of its session. */
size_t run__count_online(struct run *r);
void run__note_fault(struct run *r, const char *device_id, const char *kind, const char *action,
		     const char *detail);
int run__set_env(void *ctx, size_t dev, const struct scenario_env *env);
int run__command(void *ctx, size_t dev, const void *payload, size_t len);
int run__broker(void *ctx, enum scenario_broker_action a);
int run__fault(void *ctx, size_t dev, const struct scenario_fault *f);
int run__clear(void *ctx, size_t dev, const struct scenario_clear *c);
int run__power(void *ctx, size_t dev, enum scenario_power_action a);

/*
 * run_priority.c: raise this process's priority (and so the broker's and
 * the recorder's) above the caller's when allowed; returns the nice value
 * for the devices (0: ROBOFLEET_NICE=0 leaves every priority alone). Call
 * before any thread or child starts.
 */
int run__set_priorities(const struct run *r);

/* run_accounts.c: each device's books against the record (accounting.h). */
bool run__keeps_readings(const struct run *r, size_t dev);
void run__book_device(struct run *r, size_t dev);
/*
 * Every device's report, then the recorder synced: if it is behind (max_ms
 * above stall_ms), waited for while it catches up; @say tells so on stderr
 * (not while a dashboard may be on screen).
 */
void run__book_all(struct run *r, int stall_ms, int max_ms, bool say);
int run__account_device(struct run *r, size_t dev, struct accounting_result *out);

/* ---- run_messages.c: books of any firmware ------------------------------- */

/* A sketch: or device: group's device: no robofleet payload contract. */
bool run__foreign(const struct run *r, size_t dev);
/* The device's board, not a status topic, says whether it is online: other
 * firmware, and robots posting over HTTP (which have no session to lose). */
bool run__status_by_board(const struct run *r, size_t dev);
/* Robots of transport: http groups online now, by their boards' reports (cheap: no settle). */
size_t run__count_http_online(struct run *r);

/* One device of foreign firmware: its board's counts of data publishes
 * (sent, refused) against the data messages the record holds. */
struct run_message_books {
	uint64_t attempted;    /* sent + not_sent */
	uint64_t sent;
	uint64_t recorded;
	uint64_t lost;         /* sent and not in the record */
	uint64_t not_sent;     /* the firmware tried, the client refused (not connected, too large) */
};
int run__message_books(struct run *r, size_t dev, struct run_message_books *out);
/* Note the board's counts now (run__book_all() does it before it syncs the
 * recorder, so everything they count as sent had its chance to arrive). */
void run__snapshot_board(struct run *r, size_t dev);

/* Per group, in the group's own terms: for robofleet's robot attempted is
 * taken, lost is the accounting's and not sent is buffered + dropped. */
struct run_group_books {
	size_t devices;
	uint64_t attempted, sent, recorded, lost, not_sent;
	bool incomplete;       /* a device's books could not be read */
};
int run__tally_groups(struct run *r);
/* A robot's readings that left its outbox: taken - buffered - dropped. */
uint64_t run__robot_sent(const struct accounting_result *a);
void run__write_groups_json(FILE *f, const struct run *r);
void run__print_groups(FILE *out, const struct run *r);
void run__save_accounts(struct run *r);

/* run_dashboard.c: the dashboard's requests (control FIFO) and view (world header). */
void run__control_tick(struct run *r);
void run__set_phase(struct run *r, enum world_run_phase ph);
int run__start_tui(struct run *r);
void run__stop_tui(struct run *r);

/* run_influx.c: --influx, checked before anything starts, started once the
 * record exists and stopped after the recorder. */
int run__check_influx(const struct run_options *o);
int run__start_influx(struct run *r, const char *db_path);
void run__stop_influx(struct run *r);

/* run_limits.c: what the machine and its disk allow, checked before anything starts. */
int run__check_fleet_limits(size_t n, bool embedded);
int run__check_disk(const struct run *r);

/* run_verdict.c: the summary, summary.json, JUnit, the printed verdict and
 * report.txt, from the finished record. Returns 0 when everything passed. */
void run__reserve_verdict_file(const char *dir, const char *name);
int run__verdict(struct run *r, int engine_rc, size_t online_at_end);

/* run_report.c: what report.html needs from the run, the live status line,
 * and at the end report.html and --summary-md (sim/report_html.h). */
int run__report_init(struct run *r);
void run__report_free(struct run *r);
void run__report_note_env(struct run *r, size_t dev, const struct scenario_env *env);
void run__report_before_say(const struct run *r);
void run__report_tick(struct run *r);
void run__report_finish(struct run *r, struct summary_md *md);

#endif /* SIM_RUN_INTERNAL_H */
