/* Accounting to the end: taken = recorded + buffered + dropped + lost, per device. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accounting.h"

int accounting_note_boot(struct accounting_device *d, uint32_t boot, uint32_t last_seq)
{
	size_t i = d->n_boots;

	if (boot == 0)
		return 0; /* a device that never reported */
	/* Boots arrive in order, so the search starts at the end. */
	while (i > 0 && d->boots[i - 1].boot > boot)
		i--;
	if (i > 0 && d->boots[i - 1].boot == boot) {
		if (d->boots[i - 1].last_seq < last_seq)
			d->boots[i - 1].last_seq = last_seq;
		return 0;
	}
	if (d->n_boots == d->cap_boots) {
		size_t cap = d->cap_boots ? d->cap_boots * 2 : 4;
		struct accounting_boot *b = realloc(d->boots, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		d->boots = b;
		d->cap_boots = cap;
	}
	memmove(&d->boots[i + 1], &d->boots[i], (d->n_boots - i) * sizeof(*d->boots));
	d->boots[i] = (struct accounting_boot){ boot, last_seq };
	d->n_boots++;
	return 0;
}

/* Readings of @b older than the outbox's oldest: the range [1, *to]. */
static uint32_t below_oldest(const struct accounting_device *d, const struct accounting_boot *b)
{
	if (d->buffered == 0 || b->boot < d->oldest_boot)
		return b->last_seq;
	if (b->boot > d->oldest_boot)
		return 0;
	return d->oldest_seq - 1 < b->last_seq ? d->oldest_seq - 1 : b->last_seq;
}

int accounting_settle(const struct accounting_device *d, accounting_recorded_fn recorded,
		      void *ctx, struct accounting_result *out)
{
	uint64_t below = 0, recorded_below = 0, recorded_above = 0, unrecorded_above, missing;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < d->n_boots; i++) {
		const struct accounting_boot *b = &d->boots[i];
		uint32_t to = below_oldest(d, b);
		int64_t n;

		out->taken += b->last_seq;
		below += to;
		if (to > 0) {
			if ((n = recorded(ctx, b->boot, 1, to)) < 0)
				return (int)n;
			recorded_below += (uint64_t)n;
		}
		/* Buffered readings the record already holds: sent, stored,
		 * the acknowledgement not yet back when the device reported. */
		if (to < b->last_seq) {
			if ((n = recorded(ctx, b->boot, to + 1, b->last_seq)) < 0)
				return (int)n;
			recorded_above += (uint64_t)n;
		}
	}
	out->recorded = recorded_below + recorded_above;
	/* From the oldest on, what the record lacks is in the outbox, except
	 * readings the flash refused (sent once, never kept): the outbox
	 * cannot hold more than it says, and the rest of those are lost.
	 * (A lower bound: refused readings hidden behind buffered ones that
	 * were stored before their acknowledgement came back go uncounted.) */
	unrecorded_above = out->taken - below - recorded_above;
	out->buffered = unrecorded_above < d->buffered ? unrecorded_above : d->buffered;
	missing = below - recorded_below;
	out->dropped = missing < d->dropped ? missing : d->dropped;
	out->lost = missing - out->dropped + (unrecorded_above - out->buffered);
	return 0;
}

void accounting_device_free(struct accounting_device *d)
{
	free(d->boots);
	memset(d, 0, sizeof(*d));
}
