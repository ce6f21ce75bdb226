/* `robofleet run`: the books of every group, and of firmware without robofleet's payload contract message by message. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "recorder.h"
#include "run_internal.h"

bool run__foreign(const struct run *r, size_t dev)
{
	const struct scenario_group *g = &r->sc.fleet.groups[r->sc.fleet.devices[dev].group];

	return g->sketch || g->device;
}

bool run__status_by_board(const struct run *r, size_t dev)
{
	const struct scenario_group *g = &r->sc.fleet.groups[r->sc.fleet.devices[dev].group];

	return run__foreign(r, dev) || g->transport == SCENARIO_TRANSPORT_HTTP;
}

/* Every count over this process and the ones a power cut ended. */
static void board_totals(struct run *r, size_t dev, uint64_t *sent, uint64_t *refused)
{
	struct world_slot *slot = world_get_slot(&r->world, (uint32_t)dev);
	struct world_report rep;

	*sent = r->published_before[dev];
	*refused = r->refused_before[dev];
	/* A device left without power still shows the report the totals
	 * above already hold. */
	if (world_read_report(slot, &rep) == 0 && rep.updated_ms != 0 &&
	    rep.boot != r->published_boot[dev]) {
		*sent += rep.counters.published;
		*refused += rep.counters.publish_errors;
	}
}

void run__snapshot_board(struct run *r, size_t dev)
{
	board_totals(r, dev, &r->board_sent[dev][0], &r->board_sent[dev][1]);
}

int run__message_books(struct run *r, size_t dev, struct run_message_books *out)
{
	const char *id = r->sc.fleet.devices[dev].id;
	uint64_t recorded = 0;

	memset(out, 0, sizeof(*out));
	/* The counts from before the recorder's last sync, never newer ones:
	 * a message sent since may still be on its way. */
	out->sent = r->board_sent[dev][0];
	out->not_sent = r->board_sent[dev][1];
	out->attempted = out->sent + out->not_sent;
	if (record_count_device_data(r->db, id, INT64_MIN, &recorded) < 0)
		return -EIO;
	out->recorded = recorded;
	/* What the firmware sent and the record lacks was lost between the
	 * two: in the network, at the broker, or in a socket a drop killed. */
	out->lost = out->sent > recorded ? out->sent - recorded : 0;
	return 0;
}

int run__tally_groups(struct run *r)
{
	const struct scenario_fleet *fl = &r->sc.fleet;

	free(r->group_books);
	r->group_books = calloc(fl->n_groups ? fl->n_groups : 1, sizeof(*r->group_books));
	if (!r->group_books)
		return -ENOMEM;
	for (size_t i = 0; i < fl->n_devices; i++) {
		struct run_group_books *g = &r->group_books[fl->devices[i].group];

		if (!run__owns(r, i))
			continue; /* another shard's */
		g->devices++;
		if (run__foreign(r, i)) {
			struct run_message_books m;

			if (run__message_books(r, i, &m) < 0) {
				g->incomplete = true;
				continue;
			}
			g->attempted += m.attempted;
			g->sent += m.sent;
			g->recorded += m.recorded;
			g->lost += m.lost;
			g->not_sent += m.not_sent;
		} else {
			struct accounting_result a;

			if (!run__keeps_readings(r, i) || run__account_device(r, i, &a) < 0) {
				g->incomplete = true;
				continue;
			}
			/* The robot takes every reading into its outbox: what it
			 * has not delivered is buffered or was dropped there. */
			g->attempted += a.taken;
			g->sent += run__robot_sent(&a);
			g->recorded += a.recorded;
			g->lost += a.lost;
			g->not_sent += a.buffered + a.dropped;
		}
	}
	return 0;
}

uint64_t run__robot_sent(const struct accounting_result *a)
{
	uint64_t kept = a->buffered + a->dropped;

	return a->taken > kept ? a->taken - kept : 0;
}

static const char *kind_of(const struct scenario_group *g)
{
	return g->sketch ? "sketch" : g->device ? "device" : "robot";
}

void run__write_groups_json(FILE *f, const struct run *r)
{
	const struct scenario_fleet *fl = &r->sc.fleet;

	fprintf(f, "  \"groups\": [");
	for (size_t i = 0; r->group_books && i < fl->n_groups; i++) {
		const struct run_group_books *g = &r->group_books[i];

		fprintf(f, "%s\n    {\"name\": \"%s\", \"firmware\": \"%s\", \"devices\": %zu, "
			"\"attempted\": %llu, \"sent\": %llu, \"recorded\": %llu, "
			"\"lost_in_network\": %llu, \"not_sent\": %llu, \"complete\": %s}",
			i ? "," : "", fl->groups[i].name, kind_of(&fl->groups[i]), g->devices,
			(unsigned long long)g->attempted, (unsigned long long)g->sent,
			(unsigned long long)g->recorded, (unsigned long long)g->lost,
			(unsigned long long)g->not_sent, g->incomplete ? "false" : "true");
	}
	fprintf(f, "\n  ],\n");
}

void run__print_groups(FILE *out, const struct run *r)
{
	const struct scenario_fleet *fl = &r->sc.fleet;

	/* One group of robots says nothing the fleet's lines do not. */
	if (!r->group_books || (fl->n_groups == 1 && !fl->groups[0].sketch && !fl->groups[0].device))
		return;
	for (size_t i = 0; i < fl->n_groups; i++) {
		const struct run_group_books *g = &r->group_books[i];

		fprintf(out, "group %s (%s, %zu): attempted %llu, sent %llu, recorded %llu, "
			"lost in the network %llu, not sent by the firmware %llu%s\n",
			fl->groups[i].name, kind_of(&fl->groups[i]), g->devices,
			(unsigned long long)g->attempted, (unsigned long long)g->sent,
			(unsigned long long)g->recorded, (unsigned long long)g->lost,
			(unsigned long long)g->not_sent, g->incomplete ? " (incomplete)" : "");
	}
}
