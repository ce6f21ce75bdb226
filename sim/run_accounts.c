/* `robofleet run`: every device's books (what it took, what its outbox holds) settled against the record. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "recorder.h"
#include "run_internal.h"

bool run__keeps_readings(const struct run *r, size_t dev)
{
	const struct scenario_group *g = &r->sc.fleet.groups[r->sc.fleet.devices[dev].group];

	/* Per-metric robots publish plain numbers, no numbered readings. */
	return g->topic_style != SCENARIO_TOPIC_PER_METRIC;
}

/* What the device's slot says it took and holds, into its book. */
void run__book_device(struct run *r, size_t dev)
{
	struct accounting_device *b;
	struct world_report rep;

	if (dev < r->sc.fleet.n_devices && run__foreign(r, dev)) {
		run__snapshot_board(r, dev);
		return;
	}
	if (!r->books || dev >= r->sc.fleet.n_devices || !run__keeps_readings(r, dev) ||
	    world_read_report(world_get_slot(&r->world, (uint32_t)dev), &rep) < 0 ||
	    rep.updated_ms == 0)
		return;
	b = &r->books[dev];
	if (accounting_note_boot(b, rep.boot, rep.seq) < 0 ||
	    (rep.counters.buffered && accounting_note_boot(b, rep.oldest_boot, rep.oldest_seq) < 0))
		fprintf(stderr, "robofleet: out of memory keeping %s's accounts\n",
			r->sc.fleet.devices[dev].id);
	b->buffered = rep.counters.buffered;
	b->oldest_boot = rep.oldest_boot;
	b->oldest_seq = rep.oldest_seq;
	/* A reading the ingest endpoint refused (4xx) left the outbox on
	 * purpose, like one an overflow dropped: explained, not lost. */
	if (rep.counters.dropped + rep.http_refused > b->dropped)
		b->dropped = rep.counters.dropped + rep.http_refused;
}

/*
 * Books and record consistent as of one moment: every device's report is
 * read first, then the recorder is synced, so a reading the broker took
 * before the reports were read is in the record, and one it takes later
 * is still in its device's outbox by those reports.
 */
void run__book_all(struct run *r, int stall_ms, int max_ms, bool say)
{
	/* Our own broker stopped by the scenario: nothing to sync through, and
	 * what it kept for the recorder comes only when it starts again. */
	bool broker_down = !r->broker.external && r->broker.state != BROKER_UP;
	bool draining = max_ms > stall_ms;
	int rc = -ENOTCONN;
	int64_t t0;

	for (size_t i = 0; i < r->sc.fleet.n_devices; i++)
		run__book_device(r, i);
	if (!broker_down)
		rc = recorder_sync(r->recorder, draining && stall_ms > 5000 ? 5000 : stall_ms);
	if (rc == -ETIMEDOUT && draining) {
		/* Behind, not stuck: the broker holds readings it acknowledged
		 * to the robots, which are not lost while the recorder still
		 * takes them. */
		if (say)
			fprintf(stderr, "robofleet: the recorder is behind the broker; waiting while "
				"it catches up (at most %d min)\n", max_ms / 60000);
		t0 = run__mono_ms();
		rc = recorder_drain(r->recorder, stall_ms, max_ms);
		if (say) {
			r->drain_ms = run__mono_ms() - t0;
			fprintf(stderr, "robofleet: %s after %.1f s\n", rc == 0 ?
				"the recorder caught up" : "the recorder stopped catching up",
				(double)r->drain_ms / 1000.0);
		}
	}
	if (rc < 0)
		recorder_flush(r->recorder, 2000);
	r->books_synced_ms = run__mono_ms();
}

/* One device of the record, as accounting_settle() asks about it. */
struct recorded_device {
	struct record *db;
	const char *id;
};

static int64_t recorded_between(void *ctx, uint32_t boot, uint32_t from, uint32_t to)
{
	const struct recorded_device *d = ctx;

	return record_count_boot_readings(d->db, d->id, boot, from, to);
}

static void note_recorded_boot(void *arg, uint32_t boot, uint32_t max_seq)
{
	accounting_note_boot(arg, boot, max_seq);
}

/* Settle one device's book against the record (after run__book_all()). */
int run__account_device(struct run *r, size_t dev, struct accounting_result *out)
{
	struct accounting_device *b = &r->books[dev];
	struct recorded_device d = { r->db, r->sc.fleet.devices[dev].id };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!run__keeps_readings(r, dev))
		return 0;
	/* A boot the record knows and no report showed (a process killed
	 * mid-report) still counts up to its highest recorded seq. */
	if ((rc = record_device_boots(r->db, d.id, note_recorded_boot, b)) < 0)
		return rc;
	return accounting_settle(b, recorded_between, &d, out);
}

/* Each device's account into the record, so a query sees what the summary says. */
void run__save_accounts(struct run *r)
{
	size_t n = r->sc.fleet.n_devices, k = 0;
	struct record_account *rows = calloc(n ? n : 1, sizeof(*rows));
	char db_path[PATH_MAX + 16], err[300];

	snprintf(db_path, sizeof(db_path), "%s/record.db", r->dir);
	if (!rows || !r->books)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct world_report rep;
		struct accounting_result a;

		if (!run__owns(r, i))
			continue; /* another shard's */
		struct run_message_books m;
		uint64_t reconnects = 0;

		if (world_read_report(world_get_slot(&r->world, (uint32_t)i), &rep) == 0)
			reconnects = rep.counters.reconnects;
		if (run__foreign(r, i)) {
			const struct scenario_group *g = &r->sc.fleet.groups[r->sc.fleet.devices[i].group];

			if (run__message_books(r, i, &m) < 0)
				continue;
			rows[k++] = (struct record_account){
				.device_id = r->sc.fleet.devices[i].id, .recorded = m.recorded,
				.lost = m.lost, .firmware = g->sketch ? "sketch" : "device",
				.attempted = m.attempted, .sent = m.sent, .not_sent = m.not_sent,
				.reconnects = reconnects,
			};
			continue;
		}
		if (!run__keeps_readings(r, i) || run__account_device(r, i, &a) < 0)
			continue;
		rows[k++] = (struct record_account){
			.device_id = r->sc.fleet.devices[i].id, .taken = a.taken,
			.recorded = a.recorded, .buffered = a.buffered, .dropped = a.dropped,
			.lost = a.lost, .firmware = "robot", .attempted = a.taken,
			.sent = run__robot_sent(&a),
			.not_sent = a.buffered + a.dropped, .reconnects = reconnects,
		};
	}
	if (record_write_accounts(db_path, rows, k, err, sizeof(err)) < 0)
		fprintf(stderr, "robofleet: per-device accounts not written to the record (%s); "
			"summary.json has the totals\n", err);
out:
	free(rows);
}
