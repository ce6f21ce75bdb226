/*
 * Spike gate: refuses a sample that jumps further from the filtered value
 * than the physics allows, until enough samples in a row agree that the
 * jump is real. A median rejects a lone spike only while spikes are fewer
 * than half its window; the gate keeps even a burst of them out, at the
 * cost of following a true step change a few samples late.
 */
#ifndef APP_SPIKE_GATE_H
#define APP_SPIKE_GATE_H

#include <stdbool.h>
#include <stdint.h>

/* How many consecutive far samples make a real step change. */
#define SPIKE_GATE_CONFIRM 4

struct spike_gate {
	int32_t max_step;      /* largest believable change per sample, in the value's unit */
	int32_t candidate;     /* the level the far samples agree on */
	uint8_t agreeing;      /* far samples in a row near the candidate */
};

enum spike_verdict {
	SPIKE_ACCEPT,          /* near the reference: use it */
	SPIKE_REJECT,          /* far from it: a spike, leave the filter alone */
	SPIKE_STEP,            /* far, but confirmed: restart the filter at this level */
};

void spike_gate_init(struct spike_gate *g, int32_t max_step);

/*
 * Judge @sample against the filtered value @ref (@has_ref false: nothing to
 * compare with, so it is accepted).
 */
enum spike_verdict spike_gate_judge(struct spike_gate *g, bool has_ref, int32_t ref,
				    int32_t sample);

#endif /* APP_SPIKE_GATE_H */
