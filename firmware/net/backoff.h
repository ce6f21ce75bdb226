/* Reconnect delays: exponential growth, full jitter, a cap. */
#ifndef NET_BACKOFF_H
#define NET_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t base_ms;
	uint32_t cap_ms;
	uint32_t attempt; /* failures since the last success */
};

void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms);

/* The upper bound of the next delay: min(cap, base * 2^attempt). */
uint32_t backoff_ceiling_ms(const struct backoff *b);

/*
 * The delay before the next attempt, drawn uniformly from [0, ceiling]
 * using @random_bits ("full jitter"), and count the failure.
 */
uint32_t backoff_next_ms(struct backoff *b, uint32_t random_bits);

/* A success: the next failure starts again from base. */
void backoff_reset(struct backoff *b);

#endif /* NET_BACKOFF_H */
