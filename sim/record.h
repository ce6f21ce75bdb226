/* A run's record (record.db) for its readers: one call per question, the schema's names kept here. */
#ifndef SIM_RECORD_H
#define SIM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The recorder (sim/recorder_db.c) writes the record; everything else reads
 * it through this interface, so the table and column names live in two
 * places only. Times are UTC ms as the record keeps them. A call returns 0
 * or a negative errno unless it says otherwise: -ENODATA when the record
 * holds no answer, -EIO when it could not be read (record_error() says
 * why). Statements are prepared at their first use and kept, so a question
 * asked per device or per probe costs no new compilation, and a record
 * opened before the recorder created its tables answers once they exist.
 * A handle belongs to one thread at a time.
 */
struct record;

enum record_metric {
	RECORD_METRIC_TEMPERATURE,
	RECORD_METRIC_HUMIDITY,
	RECORD_METRIC_DISTANCE,
	RECORD_METRIC_COUNT,
};

/*
 * Open the record at @path read-only (the recorder is the only writer; WAL
 * lets us read while it writes), waiting up to @busy_ms for a lock. On
 * failure SQLite's message is in @err.
 */
int record_open(const char *path, int busy_ms, struct record **out, char *err, size_t errlen);

/* Safe with NULL. */
void record_close(struct record *rec);

/* The last failure's message, for the user. */
const char *record_error(const struct record *rec);

/* 0 once the recorder has created its tables, -ENODATA before. */
int record_check_schema(struct record *rec);

/* ---- a device: what the scenario's probes ask ----------------------------- */

struct record_status {
	bool online;            /* the last status seen: online, else offline */
	bool said;              /* the device itself said so, not only a retained copy */
	int64_t said_ms;        /* when it last said so, when @said */
};

/* The device's last status; -ENODATA when it never sent one. */
int record_device_status(struct record *rec, const char *id, struct record_status *out);

/* Readings of the device received at or after @since_ms; 0 on failure. */
int record_count_device_readings(struct record *rec, const char *id, int64_t since_ms,
				 uint64_t *count);

/*
 * Call @each with @m of the device's latest reading (@latest) or of every
 * reading received at or after @since_ms, NAN where the reading lacks it,
 * until @each returns false. Returns the number of readings seen (a read
 * error ends the walk), or -EIO.
 */
long record_metric_values(struct record *rec, const char *id, enum record_metric m, bool latest,
			  int64_t since_ms, bool (*each)(void *arg, double v), void *arg);

/*
 * The error the device's latest reading names for @m into @name: "" when
 * it has a number, "error" when it has neither a number nor a named error
 * (a contract violation). -ENODATA when the device has no reading.
 */
int record_metric_error(struct record *rec, const char *id, enum record_metric m, char *name,
			size_t len);

/* The same readings received again, for the device; -ENODATA when it has no reading. */
int record_device_duplicates(struct record *rec, const char *id, uint64_t *out);

/* ---- accounting (sim/accounting.h) ------------------------------------------ */

/* Call @each with every boot of the device the record holds and its highest seq. */
int record_device_boots(struct record *rec, const char *id,
			void (*each)(void *arg, uint32_t boot, uint32_t max_seq), void *arg);

/* Readings of (@id, @boot) with seq in [@from, @to] the record holds, or a negative errno. */
int64_t record_count_boot_readings(struct record *rec, const char *id, uint32_t boot,
				   uint32_t from, uint32_t to);

/* ---- the fleet: the run's summary and the dashboard's header ---------------- */

/* The record-only accounting (docs/recording.md, "Exactly-once accounting"), summed. */
struct record_totals {
	uint64_t lost;
	uint64_t duplicates;
};

/* Each of these leaves 0 in its output when it fails. */
int record_accounting_totals(struct record *rec, struct record_totals *out);
int record_count_readings(struct record *rec, uint64_t *count);
int record_count_timed_readings(struct record *rec, uint64_t *count); /* with a device time */
int record_count_rejected(struct record *rec, uint64_t *count);       /* in raw_messages */
int record_count_online(struct record *rec, uint64_t *count);         /* devices now online */

/*
 * Messages stored so far, from each table's highest id: a lookup where a
 * count would scan, exact because the recorder never deletes a row.
 */
int record_count_messages(struct record *rec, uint64_t *count);

/*
 * The @q quantile (0 to 1) of the latency from device time to receipt over
 * the @timed readings that have a device time (record_count_timed_readings()),
 * in ms; NAN when there is none or it could not be read.
 */
double record_latency_at(struct record *rec, uint64_t timed, double q);

/* ---- the dashboard's rows --------------------------------------------------- */

/* Call @each with every device the record has seen and its last message's time. */
int record_devices_last_seen(struct record *rec,
			     void (*each)(void *arg, const char *id, int64_t last_ms), void *arg);

struct record_fault {
	int64_t id, ms;
	const char *device_id;  /* NULL: the broker */
	const char *kind, *action, *source;
	const char *detail;     /* NULL when none */
};

/* Call @each with at most @limit rows of faults after row @after_id, in order. */
int record_faults_after(struct record *rec, int64_t after_id, unsigned limit,
			void (*each)(void *arg, const struct record_fault *f), void *arg);

struct record_alert {
	int64_t id, ms;
	const char *device_id, *rule;
	const char *state;      /* raised, cleared */
	const char *metric;     /* NULL: none (missing_for) */
	double value;           /* NAN: none */
	double threshold;
	int64_t crossed_ms, latency_ms;
};

/* Call @each with at most @limit rows of alerts after row @after_id, in
 * order. -EIO also for a record made before alerts were recorded. */
int record_alerts_after(struct record *rec, int64_t after_id, unsigned limit,
			void (*each)(void *arg, const struct record_alert *a), void *arg);

struct record_status_change {
	int64_t id, ms;
	const char *device_id;
	bool online;
};

/*
 * Call @each with at most @limit status messages after row @after_id, in
 * order, leaving out the broker's retained copies.
 */
int record_status_after(struct record *rec, int64_t after_id, unsigned limit,
			void (*each)(void *arg, const struct record_status_change *c), void *arg);

/* One reading's values, NAN where it lacks one. */
struct record_values {
	double v[RECORD_METRIC_COUNT];
};

/* The device's latest @max readings into @out, newest first: how many, or a negative errno. */
long record_recent_values(struct record *rec, const char *id, size_t max,
			  struct record_values *out);

/* ---- tables for people: `robofleet query` and `export` ---------------------- */

/*
 * One row of a table: @cells[0..@n) as text, NULL for an SQL NULL. The
 * first call of a query carries the column names, even when no row
 * follows. A non-zero return stops the query and is returned.
 */
typedef int (*record_row_fn)(void *arg, size_t n, const char *const *cells);

/* The device's readings received in the last @last_ms before now, oldest first. */
int record_device_readings(struct record *rec, const char *id, uint32_t last_ms,
			   record_row_fn fn, void *arg);

/* The hourly means per device (of @id alone unless NULL), from the rollup. */
int record_hourly_means(struct record *rec, const char *id, record_row_fn fn, void *arg);

/*
 * The user's own @sql (its first statement), read-only like the handle.
 * -EINVAL when it does not compile, -EIO when it fails while running.
 */
int record_sql_rows(struct record *rec, const char *sql, record_row_fn fn, void *arg);

/* One reading as an export writes it. */
struct record_export_row {
	int64_t recv_ms, boot, seq;
	bool has_ts;
	int64_t ts_ms;
	bool has[RECORD_METRIC_COUNT];
	double value[RECORD_METRIC_COUNT];
	const char *value_text[RECORD_METRIC_COUNT]; /* the number as SQLite writes it, or NULL */
	const char *device_id;
	const char *errors;                         /* JSON, or NULL */
	const char *recv_time, *ts_time;            /* ISO 8601; ts_time NULL without ts */
	int64_t id;                                 /* the row's id (record_export_readings_after only) */
};

/* Call @each with every reading in the order received. */
int record_export_readings(struct record *rec,
			   void (*each)(void *arg, const struct record_export_row *row), void *arg);

/* Up to @max_rows readings committed with an id above @after_id, in id
 * order: the live InfluxDB feed follows the table with it. */
int record_export_readings_after(struct record *rec, int64_t after_id, size_t max_rows,
				 void (*each)(void *arg, const struct record_export_row *row), void *arg);

/* ---- the report (sim/report_data.c): the run as a whole ---------------------- */

/*
 * What only the run knows, kept in the record at its end (tables run_info,
 * run_groups, run_devices, run_expectations, run_env) so that `robofleet
 * report RUN` rebuilds report.html from record.db alone. A record without
 * them (a run that broke off early) answers -ENODATA.
 */
struct record_run_group {
	const char *name;
	const char *firmware;           /* "robot", "sketch: PATH" or "device: PATH" */
};

struct record_run_expectation {
	const char *name, *file, *message; /* message: why it failed, "" when it held */
	unsigned line;
	bool passed;
	double time_s;                  /* how long it took to decide */
	int64_t at_ms;                  /* when it was decided, 0 when unknown */
};

/* The environment the scenario set for a group from @ms on. */
struct record_run_env {
	int64_t ms;
	uint32_t group;
	double v[RECORD_METRIC_COUNT];
};

struct record_run_info {
	const char *scenario;
	int64_t started_ms, ended_ms;
	bool passed;                    /* the run's verdict */
	const struct record_run_group *groups;
	size_t n_groups;
	const char *const *device_ids;  /* the scenario's devices, in its order */
	const uint32_t *device_group;   /* index into @groups, per device */
	size_t n_devices;
	const struct record_run_expectation *expectations;
	size_t n_expectations;
	const struct record_run_env *env;
	size_t n_env;
};

/* Replace the run's tables in the record at @path with @info, in one transaction. */
int record_write_run_info(const char *path, const struct record_run_info *info, char *err,
			  size_t errlen);

/* The scenario's name, when the run began and ended, and its verdict. */
struct record_run_summary {
	char scenario[128];
	int64_t started_ms, ended_ms;
	int passed;                     /* 1 passed, 0 failed, -1 not said */
};
int record_run_summary(struct record *rec, struct record_run_summary *out);
int record_run_groups(struct record *rec,
		      void (*each)(void *arg, uint32_t idx, const struct record_run_group *g),
		      void *arg);
int record_run_devices(struct record *rec,
		       void (*each)(void *arg, const char *id, uint32_t group), void *arg);
int record_run_expectations(struct record *rec,
			    void (*each)(void *arg, const struct record_run_expectation *e),
			    void *arg);
int record_run_env(struct record *rec, void (*each)(void *arg, const struct record_run_env *e),
		   void *arg);

/* One reading as the report counts it; v[] NAN where it lacks a value. */
struct record_reading {
	int64_t recv_ms;
	bool has_ts;
	int64_t ts_ms;
	const char *device_id;
	double v[RECORD_METRIC_COUNT];
};

/* Call @each with every reading in the order stored. */
int record_walk_readings(struct record *rec,
			 void (*each)(void *arg, const struct record_reading *r), void *arg);

/* Call @each with every command the cloud sent, in order. */
int record_walk_commands(struct record *rec,
			 void (*each)(void *arg, int64_t ms, const char *device_id), void *arg);

/*
 * Per device: the run's accounts (device_accounts) with what the record
 * holds (accounting); without the run's accounts, taken is recorded + lost.
 */
struct record_device_account {
	const char *device_id;
	uint64_t taken, recorded, buffered, dropped, lost, redelivered;
};
int record_device_accounts(struct record *rec,
			   void (*each)(void *arg, const struct record_device_account *a),
			   void *arg);

/* The newest reading's row id: readings stored so far, without a count's scan. */
int record_last_reading_id(struct record *rec, uint64_t *out);

/* ---- the write side: the run's accounts at the end -------------------------- */

struct record_account {
	const char *device_id;
	uint64_t taken, recorded, buffered, dropped, lost;
	const char *firmware;           /* "robot", "sketch", "device"; NULL: robot */
	uint64_t attempted, sent, not_sent, reconnects;
};

/*
 * Replace the device_accounts table of the record at @path with @rows, in
 * one transaction, on a connection of its own. Returns 0, or a negative
 * errno with the reason in @err (a full disk: the summary still has the
 * figures).
 */
int record_write_accounts(const char *path, const struct record_account *rows, size_t n,
			  char *err, size_t errlen);

/* ---- data messages of any firmware (record_messages.c) ------------------- */

/*
 * A firmware without robofleet's payload contract (a sketch) sends plain
 * numbers per metric, or JSON without boot and seq: each message is one
 * reading of it. The data messages (JSON readings and per-metric messages)
 * of the device received at or after @since_ms. Returns 0 or -EIO.
 */
int record_count_device_data(struct record *rec, const char *id, int64_t since_ms,
			     uint64_t *count);

/* As record_metric_values(), over both forms: JSON readings that carry
 * the metric and per-metric messages, in the order received. */
long record_data_values(struct record *rec, const char *id, enum record_metric m, bool latest,
			int64_t since_ms, bool (*each)(void *arg, double v), void *arg);

/* ---- merging shards' records (record_merge.c, `robofleet merge`) ----------- */

/*
 * The shards of one run (`robofleet run --shard I/N`) each record their own
 * devices; a merge makes one record of them: the first shard's database
 * copied whole with SQLite's online backup (schema, indexes, triggers),
 * then every other shard's rows added table by table, each shard in one
 * transaction, and at the end the run's own tables (run_info, run_groups,
 * run_devices, run_expectations, run_env) written once for the whole
 * fleet. docs/scale-out.md ("What merge combines") says what is combined
 * how. Shards are identified by their index, which prefixes the messages
 * of the expectations they failed ("shard 2: ...").
 */
struct record_merge;

/*
 * Start the merged record at @out_path (which must not exist) as a copy of
 * shard @shard's record at @shard_path. -EEXIST when @out_path exists,
 * -EBADMSG when @shard_path is not a robofleet record, else a negative
 * errno, with the reason in @err; nothing is left at @out_path then.
 */
int record_merge_open(const char *out_path, const char *shard_path, unsigned shard,
		      struct record_merge **out, char *err, size_t errlen);

/*
 * Add shard @shard's record at @shard_path (opened read-only): every table
 * but the run's own, in one transaction, so that a shard that fails leaves
 * nothing behind. Returns 0 or a negative errno with the reason in @err.
 */
int record_merge_add(struct record_merge *m, const char *shard_path, unsigned shard, char *err,
		     size_t errlen);

/* What the merge noticed and went on with (overlapping shards, groups that differ), one per line; "" when nothing. */
const char *record_merge_warnings(const struct record_merge *m);

/*
 * A device's readings lost and received again, summed over its boots,
 * from the merged record: lost from the run's accounts (device_accounts),
 * or the record's own when the run did not settle the device; received
 * again from the record. -ENODATA when the record knows nothing of it.
 */
int record_merge_device_loss(struct record_merge *m, const char *id, uint64_t *lost,
			     uint64_t *dup);

/* One shard's result of an expectation. */
struct record_merge_result {
	unsigned shard;
	bool passed;
	const char *message;            /* "" when it held */
};

/*
 * Call @each with every shard's result of the expectation at scenario line
 * @line, its @occurrence-th result there (0: the first; more than one only
 * inside a repeat), in shard order.
 */
int record_merge_results(struct record_merge *m, unsigned line, unsigned occurrence,
			 void (*each)(void *arg, const struct record_merge_result *r), void *arg);

/*
 * Decide that expectation for the whole fleet instead of by its shards
 * (a fleet-wide sum checked again over the merged record).
 */
int record_merge_decide(struct record_merge *m, unsigned line, unsigned occurrence, bool passed,
			const char *message);

/*
 * Call @each with every merged expectation in the scenario's order (file,
 * name and line as the lowest shard recorded them): passed where every
 * shard that has it passed it, unless decided; the message of the first
 * shard that failed it, prefixed "shard I: "; the longest time_s and the
 * latest at_ms.
 */
int record_merge_expectations(struct record_merge *m,
			      void (*each)(void *arg, const struct record_run_expectation *e),
			      void *arg);

/*
 * Write the run's own tables for the whole fleet (record_write_run_info():
 * run_info with @scenario, NULL: the first shard's, the earliest start,
 * the latest end and @passed; the groups of the lowest shard that has
 * them; every shard's devices in the scenario's order; the merged
 * expectations; per group the environment of the lowest shard that set
 * it), then check the whole database (PRAGMA integrity_check). -EIO with
 * the check's first complaint in @err when it is not ok.
 */
int record_merge_finish(struct record_merge *m, const char *scenario, bool passed, char *err,
			size_t errlen);

/* Close the merged record (folding its WAL into the file); safe with NULL. */
void record_merge_close(struct record_merge *m);

#endif /* SIM_RECORD_H */
