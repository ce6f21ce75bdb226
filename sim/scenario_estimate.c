/* How long a scenario's timeline can take at most, for up-front budgets. */
#include "scenario.h"

static uint64_t steps_ms(const struct scenario_step *steps, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++) {
		const struct scenario_step *s = &steps[i];

		switch (s->kind) {
		case SCENARIO_STEP_WAIT:
			total += s->wait_ms;
			break;
		case SCENARIO_STEP_EXPECT:
			/* An expectation holds the timeline until it passes or
			 * its window runs out: the window is the bound. */
			total += s->expect.within_ms;
			break;
		case SCENARIO_STEP_REPEAT:
			total += (uint64_t)s->repeat.times * steps_ms(s->repeat.steps, s->repeat.n_steps);
			break;
		default:
			/* Ramps, fault durations and power cycles run in the
			 * background while the timeline goes on. */
			break;
		}
	}
	return total;
}

uint64_t scenario_longest_ms(const struct scenario *sc)
{
	uint64_t t = steps_ms(sc->steps, sc->n_steps);

	return sc->duration_ms && sc->duration_ms < t ? sc->duration_ms : t;
}
