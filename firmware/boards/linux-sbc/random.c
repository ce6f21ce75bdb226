/* hal_random for Linux: the kernel's CSPRNG (jitter must differ per robot). */
#define _GNU_SOURCE
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hal_random.h"

uint32_t hal_random_u32(void)
{
	uint32_t v;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	/* Early boot before the pool is ready: still differ between robots
	 * and restarts, which is all backoff jitter needs. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 16) ^ (uint32_t)ts.tv_sec;
	v ^= v << 13;
	v ^= v >> 17;
	v ^= v << 5;
	return v;
}
