/* Ring of recent readings and their median; windows are tiny, so insertion sort. */
#include <errno.h>

#include "median.h"

void median_init(struct median *m, uint8_t window)
{
	if (window < 1)
		window = 1;
	if (window > ROBOT_MEDIAN_MAX)
		window = ROBOT_MEDIAN_MAX;
	m->window = window;
	median_reset(m);
}

void median_reset(struct median *m)
{
	m->count = 0;
	m->next = 0;
}

void median_push(struct median *m, int32_t value)
{
	m->values[m->next] = value;
	m->next = (uint8_t)((m->next + 1) % m->window);
	if (m->count < m->window)
		m->count++;
}

int median_get(const struct median *m, int32_t *out)
{
	int32_t sorted[ROBOT_MEDIAN_MAX];

	if (m->count == 0)
		return -ENODATA;
	for (uint8_t i = 0; i < m->count; i++) {
		int32_t v = m->values[i];
		uint8_t j = i;
		while (j > 0 && sorted[j - 1] > v) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = v;
	}
	*out = sorted[(m->count - 1) / 2];
	return 0;
}
