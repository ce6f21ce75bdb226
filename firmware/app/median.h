/* Median over the last few readings: rejects single spikes without lag of a mean. */
#ifndef APP_MEDIAN_H
#define APP_MEDIAN_H

#include <stdint.h>

#include "robot_config.h"

struct median {
	int32_t values[ROBOT_MEDIAN_MAX];
	uint8_t window; /* capacity in use, 1..ROBOT_MEDIAN_MAX */
	uint8_t count;  /* values held */
	uint8_t next;   /* ring position of the next write */
};

void median_init(struct median *m, uint8_t window);
void median_reset(struct median *m);
void median_push(struct median *m, int32_t value);

/* Median of the values held (lower middle for an even count). Returns 0 or
 * -ENODATA when empty. */
int median_get(const struct median *m, int32_t *out);

#endif /* APP_MEDIAN_H */
