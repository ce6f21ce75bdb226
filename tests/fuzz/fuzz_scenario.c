/* libFuzzer target: scenario_parse_string() and target selection on arbitrary bytes. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct scenario_target *step_target(const struct scenario_step *st)
{
	switch (st->kind) {
	case SCENARIO_STEP_SET:
		return &st->set.target;
	case SCENARIO_STEP_COMMAND:
		return &st->command.target;
	case SCENARIO_STEP_EXPECT:
		return &st->expect.target;
	case SCENARIO_STEP_FAULT:
		return &st->fault.target;
	case SCENARIO_STEP_CLEAR:
		return &st->clear.target;
	case SCENARIO_STEP_POWER:
		return &st->power.target;
	default:
		return NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario sc;
	struct scenario_error err;
	bool *sel;
	int rc = scenario_parse_string("fuzz.yaml", (const char *)data, size, &sc, &err);

	if (rc < 0) {
		/* Every failure explains itself, and names the file. */
		if (strncmp(err.message, "fuzz.yaml:", 10) != 0)
			abort();
		scenario_free(&sc);
		return 0;
	}
	if (sc.fleet.n_devices == 0 || sc.fleet.n_devices > SCENARIO_FLEET_MAX || !sc.n_steps)
		abort();
	/* Selection is where the parsed targets get used: every target the
	 * parser accepted selects at least one device. Bounded so that a big
	 * fleet does not slow every input down. */
	sel = malloc(sc.fleet.n_devices * sizeof(*sel));
	if (sel && sc.fleet.n_devices <= 2000) {
		for (size_t i = 0; i < sc.n_steps && i < 32; i++) {
			const struct scenario_target *t = step_target(&sc.steps[i]);
			size_t count = 0;

			if (t && (scenario_select(&sc, t, sc.seed, sel, &count) < 0 || count == 0))
				abort();
		}
	}
	/* Alert rules: every target selects someone, hysteresis lies on the
	 * safe side, an expect names a rule that exists. */
	for (size_t i = 0; sel && sc.fleet.n_devices <= 2000 && i < sc.n_alerts; i++) {
		const struct scenario_alert *a = &sc.alerts[i];
		size_t count = 0;

		if (scenario_select(&sc, &a->target, sc.seed, sel, &count) < 0 || count == 0)
			abort();
		if ((a->kind == SCENARIO_ALERT_ABOVE && a->clear > a->threshold) ||
		    (a->kind == SCENARIO_ALERT_BELOW && a->clear < a->threshold) ||
		    (a->kind == SCENARIO_ALERT_MISSING && a->missing_ms == 0) ||
		    (a->kind == SCENARIO_ALERT_RISES && !(a->threshold > 0)))
			abort();
	}
	for (size_t i = 0; i < sc.n_steps; i++)
		if (sc.steps[i].kind == SCENARIO_STEP_EXPECT &&
		    (sc.steps[i].expect.what & SCENARIO_EXPECT_ALERT) &&
		    sc.steps[i].expect.alert.rule >= sc.n_alerts)
			abort();
	free(sel);
	scenario_free(&sc);
	return 0;
}
