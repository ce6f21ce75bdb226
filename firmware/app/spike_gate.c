/* Spike gate: far samples are spikes until SPIKE_GATE_CONFIRM of them agree. */
#include "spike_gate.h"

static int32_t distance(int32_t a, int32_t b)
{
	return a > b ? a - b : b - a;
}

void spike_gate_init(struct spike_gate *g, int32_t max_step)
{
	g->max_step = max_step;
	g->candidate = 0;
	g->agreeing = 0;
}

enum spike_verdict spike_gate_judge(struct spike_gate *g, bool has_ref, int32_t ref,
				    int32_t sample)
{
	if (!has_ref || distance(sample, ref) <= g->max_step) {
		g->agreeing = 0;
		return SPIKE_ACCEPT;
	}
	/* Spikes scatter; a real change repeats itself. */
	if (g->agreeing > 0 && distance(sample, g->candidate) <= g->max_step)
		g->agreeing++;
	else
		g->agreeing = 1;
	g->candidate = sample;
	if (g->agreeing >= SPIKE_GATE_CONFIRM) {
		g->agreeing = 0;
		return SPIKE_STEP;
	}
	return SPIKE_REJECT;
}
