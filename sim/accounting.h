/* Accounting to the end: every reading a device took is recorded, buffered, dropped or lost. */
#ifndef SIM_ACCOUNTING_H
#define SIM_ACCOUNTING_H

#include <stddef.h>
#include <stdint.h>

/*
 * The model. A device numbers its readings 1, 2, 3 ... in every boot, and
 * each one goes into its outbox before it is published; the outbox gives
 * a reading up only on the broker's acknowledgement or, when full, by
 * dropping the oldest (counted). So at any moment the outbox holds an
 * unbroken run of the newest readings, from its oldest one on, and
 *
 *     taken = recorded + buffered + dropped + lost
 *
 * where a reading older than the outbox's oldest that the record does not
 * hold is either one of the counted drops or lost: wherever it lies in the
 * sequence, the tail included. A reading the outbox refused because the
 * flash failed is sent once if it can be; if it never arrives it is lost,
 * which is the truth: newer than the oldest buffered one, it is found
 * because the outbox holds fewer readings than the record lacks.
 */

/* One boot of a device: it took readings 1..last_seq. */
struct accounting_boot {
	uint32_t boot;
	uint32_t last_seq;
};

/* What the device says about itself and what its past processes said. */
struct accounting_device {
	struct accounting_boot *boots;  /* ascending by boot, one entry per boot */
	size_t n_boots, cap_boots;
	uint32_t buffered;              /* readings in the outbox */
	uint32_t oldest_boot;           /* the outbox's oldest, when buffered > 0 */
	uint32_t oldest_seq;
	uint32_t dropped;               /* outbox overflow drops, lifetime */
};

struct accounting_result {
	uint64_t taken;
	uint64_t recorded;              /* taken readings the record holds */
	uint64_t buffered;              /* taken readings still in the outbox */
	uint64_t dropped;               /* missing readings explained by overflow drops */
	uint64_t lost;                  /* missing and unexplained */
};

/*
 * Note that the device was in @boot and had taken readings up to @last_seq;
 * the highest word for a boot wins. Returns 0 or -ENOMEM.
 */
int accounting_note_boot(struct accounting_device *d, uint32_t boot, uint32_t last_seq);

/*
 * How many distinct readings of @boot with seq in [@from, @to] the record
 * holds, or a negative errno.
 */
typedef int64_t (*accounting_recorded_fn)(void *ctx, uint32_t boot, uint32_t from, uint32_t to);

/*
 * Add up @d against the record. Every boot with a reading in the record
 * should have been noted first (its highest recorded seq as last_seq at
 * least), so that nothing the record holds is outside the taken range.
 * Returns 0 or the callback's error.
 */
int accounting_settle(const struct accounting_device *d, accounting_recorded_fn recorded,
		      void *ctx, struct accounting_result *out);

void accounting_device_free(struct accounting_device *d);

#endif /* SIM_ACCOUNTING_H */
