/*
 * Exponential backoff with full jitter. Spreading every retry uniformly over
 * [0, ceiling] keeps a fleet that lost its broker at the same instant from
 * reconnecting in lock-step when it returns.
 */
#include "backoff.h"

void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms)
{
	b->base_ms = base_ms;
	b->cap_ms = cap_ms < base_ms ? base_ms : cap_ms;
	b->attempt = 0;
}

uint32_t backoff_ceiling_ms(const struct backoff *b)
{
	uint64_t ceiling = b->base_ms;

	/* Stop doubling once past the cap; also keeps the shift in range. */
	for (uint32_t i = 0; i < b->attempt && ceiling < b->cap_ms; i++)
		ceiling <<= 1;
	return ceiling > b->cap_ms ? b->cap_ms : (uint32_t)ceiling;
}

uint32_t backoff_next_ms(struct backoff *b, uint32_t random_bits)
{
	uint64_t span = (uint64_t)backoff_ceiling_ms(b) + 1;
	/* Multiply-shift maps 32 random bits onto [0, span) without modulo bias
	 * worth caring about at these sizes. */
	uint32_t delay = (uint32_t)(((uint64_t)random_bits * span) >> 32);

	if (b->attempt < UINT32_MAX)
		b->attempt++;
	return delay;
}

void backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}
