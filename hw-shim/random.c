/* Seeded randomness: the same seed replays the same device exactly. */
#include <math.h>

#include "hal_random.h"
#include "shim.h"

static uint64_t firmware_state = 0x9e3779b97f4a7c15ull;

uint64_t shim_random_next(uint64_t *state)
{
	/* splitmix64: tiny, fast, and good enough for jitter and noise. */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double shim_random_gauss(uint64_t *state)
{
	/* Box-Muller; u1 is kept away from 0 so log() stays finite. */
	double u1 = ((double)(shim_random_next(state) >> 11) + 1.0) / 9007199254740993.0;
	double u2 = (double)(shim_random_next(state) >> 11) / 9007199254740992.0;

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void shim_random_seed(uint64_t seed)
{
	firmware_state = seed;
}

uint32_t hal_random_u32(void)
{
	return (uint32_t)(shim_random_next(&firmware_state) >> 32);
}
