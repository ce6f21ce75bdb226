/* `robofleet run`: the summary, summary.json, JUnit, the printed verdict and report.txt, from the finished record. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "junit.h"
#include "record.h"
#include "recorder.h"
#include "run_internal.h"
#include "summary_md.h"

struct summary {
	size_t devices, online, crashes;
	uint64_t published, recorded, lost, duplicated, rejected, dropped, faults;
	uint64_t taken, buffered;       /* accounting to the end */
	uint64_t unstored, unstored_readings; /* received by the recorder, not in the record */
	uint64_t uncommitted;           /* received, neither stored nor given up on yet */
	char store_error[160];
	uint64_t lock_waits;
	int64_t lock_wait_max_ms;
	bool accounts_ok;               /* every device settled against the record */
	double p50_ms, p99_ms, max_ms;
	size_t passed, failed;
	/* the impersonate fault: readings published as another robot, and
	 * how many of them the record holds (the broker must have refused all) */
	uint64_t impersonation_sent, impersonation_acked, impersonation_recorded;
};

/* The record is complete unless the recorder gave up on something it received. */
static bool record_complete(const struct summary *s)
{
	return s->unstored == 0 && s->uncommitted == 0 && s->accounts_ok;
}

/*
 * Only after the fleet has stopped and the recorder has drained and
 * committed its last batch: the summary is then the record.
 */
static void summarise(struct run *r, struct summary *s, size_t online_at_end)
{
	struct recorder_stats rs;
	struct record_totals totals;
	uint64_t with_ts;

	memset(s, 0, sizeof(*s));
	s->impersonation_sent = r->impersonation_sent;
	s->impersonation_acked = atomic_load(&r->impersonation_acked);
	s->impersonation_recorded = run__impersonation_recorded(r);
	s->devices = run__owned_count(r);
	s->online = online_at_end;
	s->crashes = r->crashes;
	s->accounts_ok = true;
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++) {
		struct world_report rep;
		struct world_slot *slot = world_get_slot(&r->world, (uint32_t)i);
		struct accounting_result a;

		if (!run__owns(r, i))
			continue; /* another shard's */
		/* A robot left without power still shows its last process's
		 * report, which published_before already holds. */
		if (atomic_load(&slot->power) == WORLD_POWER_ON && world_read_report(slot, &rep) == 0 &&
		    rep.boot != r->published_boot[i])
			s->published += rep.counters.published;
		s->published += r->published_before[i];
		if (run__account_device(r, i, &a) < 0) {
			s->accounts_ok = false;
			continue;
		}
		s->taken += a.taken;
		s->buffered += a.buffered;
		s->lost += a.lost;
		s->dropped += r->books[i].dropped;
	}
	recorder_read_stats(r->recorder, &rs);
	s->unstored = rs.unstored;
	s->unstored_readings = rs.unstored_readings;
	/* Messages received but neither committed nor given up on: a copy
	 * that failed, or a batch still in its retries when the stop gave up
	 * waiting for it. The record cannot be called complete over them. */
	s->uncommitted = rs.dropped + (rs.received > rs.stored + rs.unstored ?
				       rs.received - rs.stored - rs.unstored : 0);
	s->lock_waits = rs.lock_waits;
	s->lock_wait_max_ms = rs.lock_wait_max_ms;
	snprintf(s->store_error, sizeof(s->store_error), "%s", rs.store_error);
	s->faults = r->faults_total;
	record_count_readings(r->db, &s->recorded);
	record_accounting_totals(r->db, &totals);
	s->duplicated = totals.duplicates;
	record_count_rejected(r->db, &s->rejected);
	record_count_timed_readings(r->db, &with_ts);
	s->p50_ms = record_latency_at(r->db, with_ts, 0.50);
	s->p99_ms = record_latency_at(r->db, with_ts, 0.99);
	s->max_ms = record_latency_at(r->db, with_ts, 1.0);
	for (size_t i = 0; i < r->engine.n_results; i++) {
		if (r->engine.results[i].passed)
			s->passed++;
		else
			s->failed++;
	}
	if (!record_complete(s))
		s->failed++; /* the case write_junit() adds */
	if (s->impersonation_recorded)
		s->failed++; /* likewise */
}

/* Why the record is not complete, for the verdict's failing case. */
static void describe_incomplete(const struct summary *s, char *buf, size_t len)
{
	if (s->unstored)
		snprintf(buf, len, "the recorder received %llu messages (%llu readings) it could not "
			 "store: %s; those readings are counted as lost",
			 (unsigned long long)s->unstored, (unsigned long long)s->unstored_readings,
			 s->store_error[0] ? s->store_error : "write failed");
	else if (s->uncommitted)
		snprintf(buf, len, "the recorder received %llu messages it had not committed when "
			 "the run ended (a copy that failed, or writes still being retried)",
			 (unsigned long long)s->uncommitted);
	else
		snprintf(buf, len, "the record could not be read back to account for every reading");
}


/*
 * The verdict's files are reserved when the run directory is made (as
 * ".NAME.part", so a run killed before its end leaves no empty verdict
 * behind), so a record that fills the disk cannot also take the room to
 * run__say so: they are written over their reserved blocks, cut to length and
 * renamed into place.
 */
#define VERDICT_FILE_RESERVE (64 * 1024)

void run__reserve_verdict_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/.%s.part", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || (rc = posix_fallocate(fd, 0, VERDICT_FILE_RESERVE)) != 0)
		fprintf(stderr, "robofleet: cannot reserve %s: %s\n", path,
			strerror(fd < 0 ? errno : rc));
	if (fd >= 0)
		close(fd);
}

struct verdict_file {
	FILE *f;
	char part[PATH_MAX + 16];
	char path[PATH_MAX + 16];
};

static int open_verdict_file(const char *dir, const char *name, struct verdict_file *v)
{
	snprintf(v->part, sizeof(v->part), "%s/.%s.part", dir, name);
	snprintf(v->path, sizeof(v->path), "%s/%s", dir, name);
	v->f = fopen(v->part, "r+");
	if (!v->f)
		v->f = fopen(v->part, "w");
	if (!v->f) {
		fprintf(stderr, "robofleet: cannot write %s: %s\n", v->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void close_verdict_file(struct verdict_file *v)
{
	long end = ftell(v->f);
	bool ok = fflush(v->f) == 0 && !ferror(v->f) && end >= 0 &&
		  ftruncate(fileno(v->f), end) == 0;

	if (fclose(v->f) != 0)
		ok = false;
	if (!ok || rename(v->part, v->path) < 0)
		fprintf(stderr, "robofleet: %s may be incomplete: %s\n", v->path, strerror(errno));
}

static void write_summary_json(const struct run *r, const struct summary *s, int engine_rc)
{
	struct verdict_file v;
	FILE *f;

	if (open_verdict_file(r->dir, "summary.json", &v) < 0)
		return;
	f = v.f;
	fprintf(f, "{\n  \"scenario\": \"%s\",\n  \"run_dir\": \"%s\",\n", r->sc.name, r->dir);
	fprintf(f, "  \"completed\": %s,\n", engine_rc == 0 ? "true" : "false");
	fprintf(f, "  \"devices\": %zu,\n  \"online_at_end\": %zu,\n  \"crashes\": %zu,\n",
		s->devices, s->online, s->crashes);
	fprintf(f, "  \"readings\": {\"taken\": %llu, \"published\": %llu, \"recorded\": %llu, "
		"\"buffered_at_end\": %llu, \"lost\": %llu, \"duplicated\": %llu, \"rejected\": %llu, "
		"\"dropped_by_outbox\": %llu},\n",
		(unsigned long long)s->taken, (unsigned long long)s->published,
		(unsigned long long)s->recorded, (unsigned long long)s->buffered,
		(unsigned long long)s->lost, (unsigned long long)s->duplicated,
		(unsigned long long)s->rejected, (unsigned long long)s->dropped);
	fprintf(f, "  \"record\": {\"complete\": %s, \"unstored_messages\": %llu, "
		"\"unstored_readings\": %llu, \"error\": ",
		record_complete(s) ? "true" : "false", (unsigned long long)s->unstored,
		(unsigned long long)s->unstored_readings);
	json_out_string(f, s->store_error[0] ? s->store_error : NULL);
	fprintf(f, ", \"lock_waits\": %llu, \"lock_wait_max_ms\": %lld, \"drain_ms\": %lld, "
		"\"broker_dropped\": %s},\n",
		(unsigned long long)s->lock_waits, (long long)s->lock_wait_max_ms,
		(long long)r->drain_ms, r->broker_dropped ? "true" : "false");
	run__write_groups_json(f, r);
	/* "duplicated" kept for existing readers: the same readings received
	 * again, each stored once. */
	fprintf(f, "  \"redelivered_stored_once\": %llu,\n", (unsigned long long)s->duplicated);
	fprintf(f, "  \"faults\": %llu,\n", (unsigned long long)s->faults);
	run__alerts_json(f, r);
	fprintf(f, "  \"security\": {\"mode\": \"%s\", \"impersonation_sent\": %llu, "
		"\"impersonation_acked\": %llu, \"impersonation_recorded\": %llu},\n",
		scenario_security_name(r->sc.fleet.security),
		(unsigned long long)s->impersonation_sent,
		(unsigned long long)s->impersonation_acked,
		(unsigned long long)s->impersonation_recorded);
	if (isnan(s->p50_ms))
		fprintf(f, "  \"latency_ms\": null,\n");
	else
		fprintf(f, "  \"latency_ms\": {\"p50\": %.0f, \"p99\": %.0f, \"max\": %.0f},\n",
			s->p50_ms, s->p99_ms, s->max_ms);
	if (r->opt->influx_url) {
		fprintf(f, "  \"influx\": {\"written\": %llu, \"dropped\": %llu, \"failed_batches\": %llu, "
			"\"url\": ", (unsigned long long)r->influx_stats.written,
			(unsigned long long)r->influx_stats.dropped,
			(unsigned long long)r->influx_stats.failed_batches);
		json_out_string(f, r->opt->influx_url);
		fprintf(f, "},\n");
	}
	fprintf(f, "  \"expectations\": {\"passed\": %zu, \"failed\": %zu}\n}\n", s->passed, s->failed);
	close_verdict_file(&v);
}

static int write_junit(const struct run *r, const struct summary *s, const char *path,
		       int engine_rc)
{
	size_t n = r->engine.n_results;
	struct junit_case *cases = calloc(n + 3, sizeof(*cases));
	char why[400], incomplete[400], breach[200];
	double total = 0;
	int rc;

	if (!cases)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct engine_result *e = &r->engine.results[i];
		cases[i].name = e->name;
		cases[i].classname = r->sc.name;
		cases[i].time_s = e->time_s;
		cases[i].failed = !e->passed;
		cases[i].message = e->message;
		total += e->time_s;
	}
	/* A run that broke off or lost devices fails CI even if every
	 * expectation it reached held. */
	if (engine_rc < 0 || r->crashes > 0) {
		snprintf(why, sizeof(why), "%s%s%llu device crash(es)",
			 engine_rc < 0 ? (r->engine.error[0] ? r->engine.error : strerror(-engine_rc)) : "",
			 engine_rc < 0 ? "; " : "", (unsigned long long)r->crashes);
		cases[n].name = "run completed without crashes";
		cases[n].classname = r->sc.name;
		cases[n].failed = true;
		cases[n].message = why;
		n++;
	}
	/* A verdict never passes over readings the record does not hold. */
	if (!record_complete(s)) {
		describe_incomplete(s, incomplete, sizeof(incomplete));
		cases[n].name = "record complete";
		cases[n].classname = r->sc.name;
		cases[n].failed = true;
		cases[n].message = incomplete;
		n++;
	}
	/* The broker let a robot speak for another: a security failure. */
	if (s->impersonation_recorded) {
		snprintf(breach, sizeof(breach), "%llu of %llu readings published with another "
			 "robot's credentials reached the record",
			 (unsigned long long)s->impersonation_recorded,
			 (unsigned long long)s->impersonation_sent);
		cases[n].name = "impersonation refused";
		cases[n].classname = r->sc.name;
		cases[n].failed = true;
		cases[n].message = breach;
		n++;
	}
	rc = junit_write(path, r->sc.name, cases, n, total);
	free(cases);
	return rc;
}

static void print_verdict(FILE *out, const struct run *r, const struct summary *s)
{
	for (size_t i = 0; i < r->engine.n_results; i++) {
		const struct engine_result *e = &r->engine.results[i];
		fprintf(out, "%s %s%s%s\n", e->passed ? "PASS" : "FAIL", e->name, e->passed ? "" : ": ",
		       e->passed ? "" : e->message);
	}
	if (!record_complete(s)) {
		char why[400];

		describe_incomplete(s, why, sizeof(why));
		fprintf(out, "FAIL record complete: %s\n", why);
	}
	if (s->impersonation_recorded)
		fprintf(out, "FAIL impersonation refused: %llu of %llu readings published with "
			"another robot's credentials reached the record\n",
			(unsigned long long)s->impersonation_recorded,
			(unsigned long long)s->impersonation_sent);
	fprintf(out, "\ndevices %zu, online at end %zu, crashes %zu\n", s->devices, s->online, s->crashes);
	fprintf(out, "readings taken %llu, published %llu, recorded %llu, still buffered %llu, lost %llu\n",
	       (unsigned long long)s->taken, (unsigned long long)s->published,
	       (unsigned long long)s->recorded, (unsigned long long)s->buffered,
	       (unsigned long long)s->lost);
	run__print_groups(out, r);
	fprintf(out, "redelivered (stored once) %llu, rejected %llu\n",
	       (unsigned long long)s->duplicated, (unsigned long long)s->rejected);
	if (r->drain_ms)
		fprintf(out, "the recorder was behind: it took %.1f s after the fleet stopped to "
			"record what the broker held\n", (double)r->drain_ms / 1000.0);
	if (r->broker_dropped)
		fprintf(out, "the broker dropped readings queued for the recorder (its queue was "
			"full): they count as lost\n");
	if (s->lock_waits)
		fprintf(out, "record.db was locked by another process %llu times, longest %lld ms\n",
			(unsigned long long)s->lock_waits, (long long)s->lock_wait_max_ms);
	if (s->impersonation_sent)
		fprintf(out, "impersonation: %llu readings published as another robot, %llu "
			"taken by the broker, %llu reached the record\n",
			(unsigned long long)s->impersonation_sent,
			(unsigned long long)s->impersonation_acked,
			(unsigned long long)s->impersonation_recorded);
	if (s->dropped || s->faults)
		fprintf(out, "faults applied %llu; readings dropped by full outboxes %llu\n",
			(unsigned long long)s->faults, (unsigned long long)s->dropped);
	run__alerts_print(out, r);
	if (!isnan(s->p50_ms))
		fprintf(out, "latency device->record p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		       s->p50_ms, s->p99_ms, s->max_ms);
	if (r->opt->influx_url)
		fprintf(out, "InfluxDB %s: points written %llu, not written %llu (failed batches %llu)\n",
			r->opt->influx_url, (unsigned long long)r->influx_stats.written,
			(unsigned long long)r->influx_stats.dropped,
			(unsigned long long)r->influx_stats.failed_batches);
	fprintf(out, "expectations %zu passed, %zu failed\n", s->passed, s->failed);
	fprintf(out, "run directory %s\n", r->dir);
}

/* report.html and --summary-md (run_report.c), from the same figures. */
static void report_outputs(struct run *r, const struct summary *s, bool passed)
{
	struct summary_md md = {
		.passed = passed, .devices = s->devices, .online = s->online, .crashes = s->crashes,
		.taken = s->taken, .recorded = s->recorded, .lost = s->lost,
		.redelivered = s->duplicated, .rejected = s->rejected, .faults = s->faults,
		.p50_ms = s->p50_ms, .p99_ms = s->p99_ms, .max_ms = s->max_ms,
		.influx = r->opt->influx_url != NULL, .influx_written = r->influx_stats.written,
		.influx_dropped = r->influx_stats.dropped,
		.alerts = run__alerts_md(r), .n_alerts = r->sc.n_alerts,
	};

	if (!md.alerts)
		md.n_alerts = 0;
	run__report_finish(r, &md);
	free((void *)md.alerts);
}

int run__verdict(struct run *r, int engine_rc, size_t online_at_end)
{
	const char *junit = r->opt->junit_path;
	struct verdict_file v;
	struct summary s;
	bool ok;

	summarise(r, &s, online_at_end);
	if (r->db && run__tally_groups(r) < 0)
		fprintf(stderr, "robofleet: out of memory tallying the groups\n");
	if (r->recorder)
		run__save_accounts(r);
	write_summary_json(r, &s, engine_rc);
	if (junit && write_junit(r, &s, junit, engine_rc) < 0)
		fprintf(stderr, "robofleet: cannot write %s\n", junit);
	if (!r->opt->quiet)
		print_verdict(stdout, r, &s);
	if (open_verdict_file(r->dir, "report.txt", &v) == 0) {
		print_verdict(v.f, r, &s);
		close_verdict_file(&v);
	}
	ok = engine_rc == 0 && s.failed == 0 && s.crashes == 0 && s.impersonation_recorded == 0;
	report_outputs(r, &s, ok);
	return ok ? 0 : 1;
}
