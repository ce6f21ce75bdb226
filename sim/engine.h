/*
 * The scenario engine: walks a parsed scenario's timeline and keeps the
 * verdict. All contact with the world goes through struct engine_ops, so the
 * engine runs the same against a real fleet and against a fake clock in
 * tests.
 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

struct engine_ops {
	/* Monotonic milliseconds. */
	int64_t (*now_ms)(void *ctx);
	/* Let time pass until @t_ms (or return early when asked to stop).
	 * Returns 0, or -ECANCELED to abandon the run (SIGINT). */
	int (*sleep_until)(void *ctx, int64_t t_ms);

	/* Effects. Each returns 0 or a negative errno. */
	int (*set_env)(void *ctx, size_t dev, const struct scenario_env *env);
	int (*command)(void *ctx, size_t dev, const void *payload, size_t len);
	int (*broker)(void *ctx, enum scenario_broker_action action);
	/* Faults and power: NULL where not supported. The engine times
	 * durations itself: a fault with `for` is followed by a clear of that
	 * kind, and power only ever receives SCENARIO_POWER_OFF or _ON (a
	 * cycle or a brown-out is a timed series of those). */
	int (*fault)(void *ctx, size_t dev, const struct scenario_fault *f);
	int (*clear)(void *ctx, size_t dev, const struct scenario_clear *c);
	int (*power)(void *ctx, size_t dev, enum scenario_power_action a);

	/* Probes for expectations: 0, or -ENODATA when nothing is known yet. */
	/* *@at_ms: when that status message arrived (monotonic ms). */
	int (*status)(void *ctx, size_t dev, enum scenario_status *out, int64_t *at_ms);
	int (*messages)(void *ctx, size_t dev, int64_t since_ms, uint64_t *count);
	/* Latest value (latest) or every value since @since_ms, each passed to
	 * @each until it returns false. A reading without the metric passes
	 * NAN. Returns the number of readings visited. */
	long (*values)(void *ctx, size_t dev, enum scenario_metric m, bool latest,
		       int64_t since_ms, bool (*each)(void *arg, double v), void *arg);
	int (*counter)(void *ctx, size_t dev, enum scenario_counter c, uint64_t *out);
	int (*loss)(void *ctx, size_t dev, uint64_t *lost, uint64_t *duplicated);
	/* The error the latest reading names for metric @m into @name ("" when
	 * it carries a number). 0, or -ENODATA when nothing is recorded. */
	int (*error)(void *ctx, size_t dev, enum scenario_metric m, char *name, size_t len);
	/* The state of alert rule @rule (index into sc->alerts) for the
	 * device. 0 or a negative errno; NULL: every alert is NONE. */
	int (*alert)(void *ctx, size_t dev, size_t rule, enum scenario_alert_state *out);

	/* Progress for people (may be NULL). */
	void (*on_step)(void *ctx, const struct scenario_step *s, int depth);
};

struct engine_result {
	char name[200];         /* test case name */
	char message[300];      /* why it failed; empty when it passed */
	double time_s;          /* how long the expectation took */
	bool passed;
	struct scenario_pos pos;
};

struct engine {
	const struct scenario *sc;
	const struct engine_ops *ops;
	void *ctx;
	int64_t started_ms;
	struct scenario_env *env;   /* per device: what was last set */
	struct engine_ramp *ramps;  /* running ramps */
	size_t n_ramps, cap_ramps;
	struct engine_timer *timers; /* pending timed effects (clears, power, broker) */
	size_t n_timers, cap_timers;
	bool *powered;              /* per device, as the engine last switched it */
	bool *selected;             /* scratch, one per device */
	/* The devices this engine plays (a shard's share), one per device;
	 * NULL: all. Targets are picked over the whole fleet, as in a run of
	 * the whole fleet, then narrowed to these. Borrowed. */
	const bool *owned;
	struct engine_result *results;
	size_t n_results, cap_results;
	uint32_t repeat_round;      /* mixed into share seeds in repeats */
	int64_t expect_started_ms;  /* of the expect being checked */
	char error[300];            /* why the run was abandoned */
};

/* Ramps move in steps this far apart: smooth enough for a DHT22 (2 s). */
#define ENGINE_RAMP_TICK_MS 250
/* How often a pending expectation is re-checked. */
#define ENGINE_EXPECT_TICK_MS 250

/* Prepare; initial environments come from the groups. Returns 0 or -ENOMEM. */
int engine_init(struct engine *e, const struct scenario *sc, const struct engine_ops *ops,
		void *ctx);
void engine_free(struct engine *e);

/*
 * Run the timeline. Returns 0 when every step ran (whatever the
 * expectations said), -ECANCELED when stopped, -ETIME when the scenario's
 * duration cap cut it short, or the negative errno of an effect that failed
 * (e->error says which).
 */
int engine_run(struct engine *e);

/* Number of failed expectations so far. */
size_t engine_failures(const struct engine *e);

#endif /* SIM_ENGINE_H */
