/* HAL: random numbers for jitter and ids. Seeded, hence replayable, in the shim. */
#ifndef HAL_RANDOM_H
#define HAL_RANDOM_H

#include <stdint.h>

/* 32 uniformly distributed bits. Cannot fail. */
uint32_t hal_random_u32(void);

#endif /* HAL_RANDOM_H */
