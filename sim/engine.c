/* The scenario timeline: steps, ramps, expectations and their verdicts. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct engine_ramp {
	size_t dev;
	enum scenario_metric metric;
	double from, to;
	int64_t start_ms, end_ms;
};

/* A timed effect: the end of a fault, a power change, the broker's return. */
enum engine_timer_kind {
	TIMER_CLEAR,            /* clear fault kind @fault on @dev */
	TIMER_POWER_ON,         /* end of a cut with `for`, or of a cycle */
	TIMER_BROWNOUT,         /* next edge of a brown-out loop on @dev */
	TIMER_BROKER_START,     /* end of a broker stop/kill with `for` */
};

struct engine_timer {
	int64_t due_ms;
	enum engine_timer_kind kind;
	size_t dev;
	enum scenario_fault_kind fault;
	uint32_t on_ms, off_ms;  /* brown-out phases */
	int64_t end_ms;          /* brown-out: last edge (0: until cleared) */
};

int engine_init(struct engine *e, const struct scenario *sc, const struct engine_ops *ops,
		void *ctx)
{
	size_t n = sc->fleet.n_devices;

	memset(e, 0, sizeof(*e));
	e->sc = sc;
	e->ops = ops;
	e->ctx = ctx;
	e->env = calloc(n ? n : 1, sizeof(*e->env));
	e->selected = calloc(n ? n : 1, sizeof(*e->selected));
	e->powered = calloc(n ? n : 1, sizeof(*e->powered));
	if (!e->env || !e->selected || !e->powered) {
		engine_free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		e->env[i] = sc->fleet.groups[sc->fleet.devices[i].group].env;
		e->powered[i] = true;
	}
	return 0;
}

void engine_free(struct engine *e)
{
	free(e->env);
	free(e->selected);
	free(e->ramps);
	free(e->timers);
	free(e->powered);
	free(e->results);
	memset(e, 0, sizeof(*e));
}

size_t engine_failures(const struct engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_results; i++)
		n += !e->results[i].passed;
	return n;
}

static int fail_run(struct engine *e, int rc, const struct scenario_step *s, const char *what)
{
	snprintf(e->error, sizeof(e->error), "%s:%u:%u: %s: %s", e->sc->file, s->pos.line,
		 s->pos.col, what, strerror(-rc));
	return rc;
}

static int select_target(struct engine *e, const struct scenario_target *t, size_t *count)
{
	/* A repeat picks a fresh share each round, reproducibly. */
	uint64_t seed = e->sc->seed ^ ((uint64_t)e->repeat_round * 0x9e3779b97f4a7c15ull);

	int rc = scenario_select(e->sc, t, seed, e->selected, count);

	if (rc < 0 || !e->owned)
		return rc;
	for (size_t d = 0; d < e->sc->fleet.n_devices; d++) {
		if (e->selected[d] && !e->owned[d]) {
			e->selected[d] = false;
			if (count)
				(*count)--;
		}
	}
	return rc;
}

/* ---- time and ramps ------------------------------------------------------ */

static void apply_ramps(struct engine *e, int64_t now)
{
	size_t keep = 0;

	for (size_t i = 0; i < e->n_ramps; i++) {
		struct engine_ramp *r = &e->ramps[i];
		double frac = r->end_ms > r->start_ms ?
			(double)(now - r->start_ms) / (double)(r->end_ms - r->start_ms) : 1.0;

		if (frac > 1.0)
			frac = 1.0;
		if (frac < 0.0)
			frac = 0.0;
		e->env[r->dev].value[r->metric] = r->from + (r->to - r->from) * frac;
		e->ops->set_env(e->ctx, r->dev, &e->env[r->dev]);
		if (frac < 1.0)
			e->ramps[keep++] = *r;
	}
	e->n_ramps = keep;
}

static int check_cap(struct engine *e, int64_t now)
{
	if (e->sc->duration_ms && now - e->started_ms >= (int64_t)e->sc->duration_ms) {
		snprintf(e->error, sizeof(e->error), "%s: the scenario's duration (%u ms) ran out",
			 e->sc->file, e->sc->duration_ms);
		return -ETIME;
	}
	return 0;
}

static int fire_timers(struct engine *e, int64_t now, int64_t *next);

/* Let time pass until @until, moving ramps and timers along on the way. */
static int pass_time(struct engine *e, int64_t until)
{
	for (;;) {
		int64_t now = e->ops->now_ms(e->ctx);
		int64_t next = until;
		int rc;

		if (e->n_ramps)
			apply_ramps(e, now);
		if (e->n_timers && (rc = fire_timers(e, now, &next)) < 0)
			return rc;
		if ((rc = check_cap(e, now)) < 0)
			return rc;
		if (now >= until)
			return 0;
		if (e->n_ramps && now + ENGINE_RAMP_TICK_MS < next)
			next = now + ENGINE_RAMP_TICK_MS;
		if (e->sc->duration_ms && e->started_ms + (int64_t)e->sc->duration_ms < next)
			next = e->started_ms + (int64_t)e->sc->duration_ms;
		if ((rc = e->ops->sleep_until(e->ctx, next)) < 0)
			return rc;
	}
}

/* ---- effects --------------------------------------------------------------- */

static int add_ramp(struct engine *e, const struct engine_ramp *r)
{
	for (size_t i = 0; i < e->n_ramps; i++) {
		/* A new ramp of the same metric replaces the old one. */
		if (e->ramps[i].dev == r->dev && e->ramps[i].metric == r->metric) {
			e->ramps[i] = *r;
			return 0;
		}
	}
	if (e->n_ramps == e->cap_ramps) {
		size_t cap = e->cap_ramps ? e->cap_ramps * 2 : 64;
		struct engine_ramp *grown = realloc(e->ramps, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		e->ramps = grown;
		e->cap_ramps = cap;
	}
	e->ramps[e->n_ramps++] = *r;
	return 0;
}

/* A value set at once ends any ramp still moving that metric. */
static void remove_ramp(struct engine *e, size_t dev, enum scenario_metric m)
{
	for (size_t i = 0; i < e->n_ramps; i++) {
		if (e->ramps[i].dev == dev && e->ramps[i].metric == m) {
			e->ramps[i] = e->ramps[--e->n_ramps];
			return;
		}
	}
}

static int do_set(struct engine *e, const struct scenario_step *s)
{
	const struct scenario_set *set = &s->set;
	int64_t now = e->ops->now_ms(e->ctx);
	int rc;

	if ((rc = select_target(e, &set->target, NULL)) < 0)
		return fail_run(e, rc, s, "set");
	for (size_t d = 0; d < e->sc->fleet.n_devices; d++) {
		if (!e->selected[d])
			continue;
		for (int m = 0; m < SCENARIO_METRIC_COUNT; m++) {
			const struct scenario_change *c = &set->change[m];
			if (!(set->metrics & (1u << m)))
				continue;
			if (c->over_ms == 0) {
				e->env[d].value[m] = c->to;
				remove_ramp(e, d, (enum scenario_metric)m);
				continue;
			}
			struct engine_ramp r = { d, (enum scenario_metric)m, e->env[d].value[m],
						 c->to, now, now + c->over_ms };
			if ((rc = add_ramp(e, &r)) < 0)
				return fail_run(e, rc, s, "set");
		}
		if (set->noise_set)
			for (int m = 0; m < SCENARIO_METRIC_COUNT; m++)
				e->env[d].noise[m] = set->noise;
		if ((rc = e->ops->set_env(e->ctx, d, &e->env[d])) < 0)
			return fail_run(e, rc, s, "set");
	}
	return 0;
}

/*
 * The form a device's command takes: the step's format: if it gave one,
 * else its group's layout's (a sketch's plain word), else the step's
 * default.
 */
static enum scenario_command_format command_format(const struct engine *e,
						   const struct scenario_command *c, size_t d)
{
	const struct scenario_group *g = &e->sc->fleet.groups[e->sc->fleet.devices[d].group];

	if (c->format_set || !g->command_format_set || !g->topics)
		return c->format;
	return g->topics->command.format == TOPIC_FORMAT_JSON ? SCENARIO_FORMAT_JSON
							       : SCENARIO_FORMAT_PLAIN;
}

static int do_command(struct engine *e, const struct scenario_step *s)
{
	static const char *const words[2][2] = {
		[SCENARIO_FORMAT_JSON] = { "{\"action\":\"start\"}", "{\"action\":\"stop\"}" },
		[SCENARIO_FORMAT_PLAIN] = { "start", "stop" },
	};
	const struct scenario_command *c = &s->command;
	int rc;

	if ((rc = select_target(e, &c->target, NULL)) < 0)
		return fail_run(e, rc, s, "command");
	for (size_t d = 0; d < e->sc->fleet.n_devices; d++) {
		const char *payload = c->payload;
		size_t len = c->payload_len;

		if (!e->selected[d])
			continue;
		if (c->action != SCENARIO_COMMAND_PAYLOAD) {
			payload = words[command_format(e, c, d)][c->action == SCENARIO_COMMAND_STOP];
			len = strlen(payload);
		}
		if ((rc = e->ops->command(e->ctx, d, payload, len)) < 0)
			return fail_run(e, rc, s, "command");
	}
	return 0;
}

/* ---- faults, power and timers ------------------------------------------- */

static int add_timer(struct engine *e, const struct engine_timer *t)
{
	if (e->n_timers == e->cap_timers) {
		size_t cap = e->cap_timers ? e->cap_timers * 2 : 64;
		struct engine_timer *grown = realloc(e->timers, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		e->timers = grown;
		e->cap_timers = cap;
	}
	e->timers[e->n_timers++] = *t;
	return 0;
}

/* Drop @dev's pending clears of @kind (every kind when !kind_set). */
static void cancel_clears(struct engine *e, size_t dev, bool kind_set, enum scenario_fault_kind kind)
{
	size_t keep = 0;

	for (size_t i = 0; i < e->n_timers; i++) {
		const struct engine_timer *t = &e->timers[i];
		bool match = t->kind == TIMER_CLEAR && t->dev == dev && (!kind_set || t->fault == kind);
		if (!match)
			e->timers[keep++] = *t;
	}
	e->n_timers = keep;
}

/* Drop @dev's pending power changes: a new power step supersedes them. */
static void cancel_power(struct engine *e, size_t dev)
{
	size_t keep = 0;

	for (size_t i = 0; i < e->n_timers; i++) {
		const struct engine_timer *t = &e->timers[i];
		bool match = (t->kind == TIMER_POWER_ON || t->kind == TIMER_BROWNOUT) && t->dev == dev;
		if (!match)
			e->timers[keep++] = *t;
	}
	e->n_timers = keep;
}

static int switch_power(struct engine *e, size_t dev, bool on)
{
	int rc;

	if (e->powered[dev] == on)
		return 0;
	rc = e->ops->power(e->ctx, dev, on ? SCENARIO_POWER_ON : SCENARIO_POWER_OFF);
	if (rc == 0)
		e->powered[dev] = on;
	return rc;
}

static int fire(struct engine *e, const struct engine_timer *t, int64_t now)
{
	struct scenario_clear c;
	struct engine_timer again;

	switch (t->kind) {
	case TIMER_CLEAR:
		memset(&c, 0, sizeof(c));
		c.kind_set = true;
		c.kind = t->fault;
		return e->ops->clear(e->ctx, t->dev, &c);
	case TIMER_POWER_ON:
		return switch_power(e, t->dev, true);
	case TIMER_BROWNOUT:
		/* Off and on in turn; a loop with an end stops powered. */
		again = *t;
		if (!e->powered[t->dev]) {
			again.due_ms = now + t->on_ms;
			if (t->end_ms && again.due_ms >= t->end_ms)
				return switch_power(e, t->dev, true);
			int rc = switch_power(e, t->dev, true);
			return rc < 0 ? rc : add_timer(e, &again);
		}
		again.due_ms = now + t->off_ms;
		int rc = switch_power(e, t->dev, false);
		return rc < 0 ? rc : add_timer(e, &again);
	case TIMER_BROKER_START:
		return e->ops->broker(e->ctx, SCENARIO_BROKER_START);
	}
	return -EINVAL;
}

/*
 * Run every timer due at @now, in due order (ties in the order they were
 * set), and lower *@next to the earliest one still pending.
 */
static int fire_timers(struct engine *e, int64_t now, int64_t *next)
{
	for (;;) {
		size_t first = SIZE_MAX;
		struct engine_timer t;
		int rc;

		for (size_t i = 0; i < e->n_timers; i++)
			if (first == SIZE_MAX || e->timers[i].due_ms < e->timers[first].due_ms)
				first = i;
		if (first == SIZE_MAX)
			return 0;
		if (e->timers[first].due_ms > now) {
			if (e->timers[first].due_ms < *next)
				*next = e->timers[first].due_ms;
			return 0;
		}
		t = e->timers[first];
		memmove(&e->timers[first], &e->timers[first + 1],
			(e->n_timers - first - 1) * sizeof(t));
		e->n_timers--;
		if ((rc = fire(e, &t, now)) < 0) {
			snprintf(e->error, sizeof(e->error), "%s: timed %s on %s: %s", e->sc->file,
				 t.kind == TIMER_CLEAR ? "clear" : t.kind == TIMER_BROKER_START ?
				 "broker start" : "power change",
				 t.kind == TIMER_BROKER_START ? "the broker" : e->sc->fleet.devices[t.dev].id,
				 strerror(-rc));
			return rc;
		}
	}
}

static int do_fault(struct engine *e, size_t d, const struct scenario_fault *f, int64_t now)
{
	int rc;

	/* A fault set again starts over: its earlier end no longer applies. */
	cancel_clears(e, d, true, f->kind);
	if ((rc = e->ops->fault(e->ctx, d, f)) < 0 || !f->for_ms)
		return rc;
	return add_timer(e, &(struct engine_timer){ .due_ms = now + f->for_ms, .kind = TIMER_CLEAR,
						    .dev = d, .fault = f->kind });
}

static int do_clear(struct engine *e, size_t d, const struct scenario_clear *c)
{
	int rc;

	cancel_clears(e, d, c->kind_set, c->kind);
	if ((rc = e->ops->clear(e->ctx, d, c)) < 0 || c->kind_set)
		return rc;
	/* Clearing everything also ends power faults: the robot runs again. */
	cancel_power(e, d);
	return switch_power(e, d, true);
}

static int do_power(struct engine *e, size_t d, const struct scenario_power *p, int64_t now)
{
	int rc;

	cancel_power(e, d);
	switch (p->action) {
	case SCENARIO_POWER_OFF:
		if ((rc = switch_power(e, d, false)) < 0 || !p->for_ms)
			return rc;
		return add_timer(e, &(struct engine_timer){ .due_ms = now + p->for_ms,
							    .kind = TIMER_POWER_ON, .dev = d });
	case SCENARIO_POWER_ON:
		return switch_power(e, d, true);
	case SCENARIO_POWER_CYCLE:
		/* A cycle of a robot that is off still ends with it on. */
		if ((rc = switch_power(e, d, false)) < 0)
			return rc;
		return add_timer(e, &(struct engine_timer){ .due_ms = now + p->off_ms,
							    .kind = TIMER_POWER_ON, .dev = d });
	case SCENARIO_POWER_BROWNOUT:
		if ((rc = switch_power(e, d, false)) < 0)
			return rc;
		return add_timer(e, &(struct engine_timer){
			.due_ms = now + p->off_ms, .kind = TIMER_BROWNOUT, .dev = d,
			.on_ms = p->on_ms, .off_ms = p->off_ms,
			.end_ms = p->for_ms ? now + p->for_ms : 0 });
	}
	return -EINVAL;
}

/* Faults, clear and power share one shape: per selected device, one call. */
static int do_per_device(struct engine *e, const struct scenario_step *s,
			 const struct scenario_target *t, const char *what)
{
	int64_t now = e->ops->now_ms(e->ctx);
	int rc;

	if ((s->kind == SCENARIO_STEP_FAULT && (!e->ops->fault || !e->ops->clear)) ||
	    (s->kind == SCENARIO_STEP_CLEAR && !e->ops->clear) ||
	    (s->kind == SCENARIO_STEP_POWER && !e->ops->power)) {
		snprintf(e->error, sizeof(e->error), "%s:%u:%u: %s: not available in this build",
			 e->sc->file, s->pos.line, s->pos.col, what);
		return -ENOTSUP;
	}
	if ((rc = select_target(e, t, NULL)) < 0)
		return fail_run(e, rc, s, what);
	for (size_t d = 0; d < e->sc->fleet.n_devices; d++) {
		if (!e->selected[d])
			continue;
		if (s->kind == SCENARIO_STEP_FAULT)
			rc = do_fault(e, d, &s->fault, now);
		else if (s->kind == SCENARIO_STEP_CLEAR)
			rc = do_clear(e, d, &s->clear);
		else
			rc = do_power(e, d, &s->power, now);
		if (rc < 0)
			return fail_run(e, rc, s, what);
	}
	return 0;
}

static int do_broker(struct engine *e, const struct scenario_step *s)
{
	const struct scenario_broker *b = &s->broker;
	int64_t now = e->ops->now_ms(e->ctx);
	size_t keep = 0;
	int rc;

	/* Any broker step supersedes a pending automatic start. */
	for (size_t i = 0; i < e->n_timers; i++)
		if (e->timers[i].kind != TIMER_BROKER_START)
			e->timers[keep++] = e->timers[i];
	e->n_timers = keep;
	if ((rc = e->ops->broker(e->ctx, b->action)) < 0)
		return fail_run(e, rc, s, "broker");
	if (b->for_ms && (rc = add_timer(e, &(struct engine_timer){
				  .due_ms = now + b->for_ms, .kind = TIMER_BROKER_START })) < 0)
		return fail_run(e, rc, s, "broker");
	return 0;
}

/* ---- expectations ---------------------------------------------------------- */

struct value_check {
	const struct scenario_cmp *cmp;
	bool errors_allowed;
	bool ok;
	double bad;
};

static bool check_value(void *arg, double v)
{
	struct value_check *vc = arg;

	if (isnan(v) && vc->errors_allowed)
		return true;
	if (isnan(v) || !scenario_cmp_holds(vc->cmp, v)) {
		vc->ok = false;
		vc->bad = v;
		return false;
	}
	return true;
}

/*
 * Check every predicate of @x on device @d. On failure write why into @why
 * and return false.
 */
static bool device_holds(struct engine *e, const struct scenario_expect *x, size_t d,
			 int64_t now, char *why, size_t len)
{
	const char *id = e->sc->fleet.devices[d].id;
	char want[96];
	uint64_t n = 0, lost = 0, dup = 0;

	if (x->what & SCENARIO_EXPECT_STATUS) {
		enum scenario_status st;
		int64_t at = 0;
		if (e->ops->status(e->ctx, d, &st, &at) < 0) {
			snprintf(why, len, "%s: no status seen yet", id);
			return false;
		}
		if (x->status_fresh && at < e->expect_started_ms) {
			snprintf(why, len, "%s: no status message since the check began", id);
			return false;
		}
		if (st != x->status) {
			snprintf(why, len, "%s: status %s, want %s", id,
				 st == SCENARIO_STATUS_ONLINE ? "online" : "offline",
				 x->status == SCENARIO_STATUS_ONLINE ? "online" : "offline");
			return false;
		}
	}
	if (x->what & SCENARIO_EXPECT_MESSAGES) {
		int64_t since = x->messages.window_ms ? now - x->messages.window_ms : e->started_ms;
		if (e->ops->messages(e->ctx, d, since, &n) < 0)
			n = 0;
		if (!scenario_cmp_holds(&x->messages.cmp, (double)n)) {
			scenario_cmp_format(&x->messages.cmp, want, sizeof(want));
			snprintf(why, len, "%s: %llu messages, want %s", id, (unsigned long long)n, want);
			return false;
		}
	}
	if (x->what & SCENARIO_EXPECT_RATE) {
		int64_t since = x->rate.window_ms ? now - x->rate.window_ms : e->started_ms;
		double secs = (double)(now - since) / 1000.0;
		double rate;
		if (e->ops->messages(e->ctx, d, since, &n) < 0)
			n = 0;
		rate = secs > 0 ? (double)n / secs : 0;
		if (!scenario_cmp_holds(&x->rate.cmp, rate)) {
			scenario_cmp_format(&x->rate.cmp, want, sizeof(want));
			snprintf(why, len, "%s: %.3f messages/s, want %s", id, rate, want);
			return false;
		}
	}
	if (x->what & SCENARIO_EXPECT_VALUE) {
		struct value_check vc = { &x->value.cmp, x->value.errors_allowed, true, 0 };
		int64_t since = x->value.window_ms ? now - x->value.window_ms : e->started_ms;
		long seen = e->ops->values(e->ctx, d, x->value.metric, x->value.latest, since,
					   check_value, &vc);
		const char *metric = scenario_metric_name(x->value.metric);
		scenario_cmp_format(&x->value.cmp, want, sizeof(want));
		if (seen <= 0) {
			snprintf(why, len, "%s: no %s reading recorded", id, metric);
			return false;
		}
		if (!vc.ok) {
			if (isnan(vc.bad))
				snprintf(why, len, "%s: a reading without %s (sensor error), want %s",
					 id, metric, want);
			else
				snprintf(why, len, "%s: %s %g, want %s", id, metric, vc.bad, want);
			return false;
		}
	}
	if (x->what & SCENARIO_EXPECT_COUNTER) {
		uint64_t c = 0;
		if (e->ops->counter(e->ctx, d, x->counter.name, &c) < 0) {
			snprintf(why, len, "%s: counter %s not reported yet", id,
				 scenario_counter_name(x->counter.name));
			return false;
		}
		if (!scenario_cmp_holds(&x->counter.cmp, (double)c)) {
			scenario_cmp_format(&x->counter.cmp, want, sizeof(want));
			snprintf(why, len, "%s: %s = %llu, want %s", id,
				 scenario_counter_name(x->counter.name), (unsigned long long)c, want);
			return false;
		}
	}
	if (x->what & SCENARIO_EXPECT_ERROR) {
		const char *metric = scenario_metric_name(x->error.metric);
		char name[32];

		if (!e->ops->error || e->ops->error(e->ctx, d, x->error.metric, name, sizeof(name)) < 0) {
			snprintf(why, len, "%s: no reading recorded", id);
			return false;
		}
		if (x->error.is && strcmp(x->error.is, "none") == 0) {
			if (name[0]) {
				snprintf(why, len, "%s: %s error %s, want a number", id, metric, name);
				return false;
			}
		} else if (!name[0]) {
			snprintf(why, len, "%s: %s has a number, want error %s", id, metric,
				 x->error.is ? x->error.is : "(any)");
			return false;
		} else if (x->error.is && strcmp(x->error.is, name) != 0) {
			snprintf(why, len, "%s: %s error %s, want %s", id, metric, name, x->error.is);
			return false;
		}
	}
	if (x->what & SCENARIO_EXPECT_ALERT) {
		const char *rule = e->sc->alerts[x->alert.rule].name;
		enum scenario_alert_state st = SCENARIO_ALERT_NONE;

		if (e->ops->alert && e->ops->alert(e->ctx, d, x->alert.rule, &st) < 0) {
			snprintf(why, len, "%s: alert %s cannot be read", id, rule);
			return false;
		}
		if (st != x->alert.state) {
			snprintf(why, len, "%s: alert %s is %s, want %s", id, rule,
				 scenario_alert_state_name(st),
				 scenario_alert_state_name(x->alert.state));
			return false;
		}
	}
	if (x->what & (SCENARIO_EXPECT_LOST | SCENARIO_EXPECT_DUPLICATED)) {
		if (e->ops->loss(e->ctx, d, &lost, &dup) < 0) {
			snprintf(why, len, "%s: nothing recorded to account for", id);
			return false;
		}
		if ((x->what & SCENARIO_EXPECT_LOST) && !scenario_cmp_holds(&x->lost, (double)lost)) {
			scenario_cmp_format(&x->lost, want, sizeof(want));
			snprintf(why, len, "%s: %llu readings lost, want %s", id,
				 (unsigned long long)lost, want);
			return false;
		}
		if ((x->what & SCENARIO_EXPECT_DUPLICATED) &&
		    !scenario_cmp_holds(&x->duplicated, (double)dup)) {
			scenario_cmp_format(&x->duplicated, want, sizeof(want));
			snprintf(why, len, "%s: %llu readings duplicated, want %s", id,
				 (unsigned long long)dup, want);
			return false;
		}
	}
	return true;
}

/* The fleet-wide predicates: loss summed over every selected device. */
static bool fleet_holds(struct engine *e, const struct scenario_expect *x, char *why, size_t len)
{
	uint64_t lost = 0, dup = 0;
	char want[96];

	for (size_t d = 0; d < e->sc->fleet.n_devices; d++) {
		uint64_t l = 0, u = 0;

		/* A device with nothing recorded yet has nothing to account for. */
		if (e->selected[d] && e->ops->loss(e->ctx, d, &l, &u) == 0) {
			lost += l;
			dup += u;
		}
	}
	if ((x->what & SCENARIO_EXPECT_FLEET_LOST) && !scenario_cmp_holds(&x->fleet_lost, (double)lost)) {
		scenario_cmp_format(&x->fleet_lost, want, sizeof(want));
		snprintf(why, len, "the target lost %llu readings in all, want %s",
			 (unsigned long long)lost, want);
		return false;
	}
	if ((x->what & SCENARIO_EXPECT_FLEET_DUPLICATED) &&
	    !scenario_cmp_holds(&x->fleet_duplicated, (double)dup)) {
		scenario_cmp_format(&x->fleet_duplicated, want, sizeof(want));
		snprintf(why, len, "the target duplicated %llu readings in all, want %s",
			 (unsigned long long)dup, want);
		return false;
	}
	return true;
}

/* Returns how many selected devices fail (the fleet predicates count as
 * one); the first reason in @why. */
static size_t count_failing(struct engine *e, const struct scenario_expect *x, int64_t now,
			    char *why, size_t len)
{
	size_t failing = 0;
	char reason[300];

	why[0] = '\0';
	if (x->what & (SCENARIO_EXPECT_FLEET_LOST | SCENARIO_EXPECT_FLEET_DUPLICATED) &&
	    !fleet_holds(e, x, reason, sizeof(reason))) {
		failing++;
		snprintf(why, len, "%s", reason);
	}
	for (size_t d = 0; d < e->sc->fleet.n_devices; d++) {
		if (!e->selected[d] || device_holds(e, x, d, now, reason, sizeof(reason)))
			continue;
		if (failing++ == 0)
			snprintf(why, len, "%s", reason);
	}
	return failing;
}

static void default_name(const struct engine *e, const struct scenario_step *s, char *buf,
			 size_t len)
{
	const struct scenario_expect *x = &s->expect;
	char what[120] = "";
	size_t off = 0;
	static const struct { unsigned bit; const char *name; } parts[] = {
		{ SCENARIO_EXPECT_STATUS, "status" }, { SCENARIO_EXPECT_MESSAGES, "messages" },
		{ SCENARIO_EXPECT_RATE, "rate" }, { SCENARIO_EXPECT_VALUE, "value" },
		{ SCENARIO_EXPECT_COUNTER, "counter" }, { SCENARIO_EXPECT_LOST, "lost" },
		{ SCENARIO_EXPECT_DUPLICATED, "duplicated" },
		{ SCENARIO_EXPECT_FLEET_LOST, "fleet_lost" },
		{ SCENARIO_EXPECT_FLEET_DUPLICATED, "fleet_duplicated" },
		{ SCENARIO_EXPECT_ERROR, "error" }, { SCENARIO_EXPECT_ALERT, "alert" },
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if ((x->what & parts[i].bit) && off < sizeof(what))
			off += (size_t)snprintf(what + off, sizeof(what) - off, "%s%s",
						off ? "+" : "", parts[i].name);
	snprintf(buf, len, "expect %s %s (%s:%u)", x->target.text ? x->target.text : "all", what,
		 e->sc->file, s->pos.line);
}

static int add_result(struct engine *e, const struct engine_result *r)
{
	if (e->n_results == e->cap_results) {
		size_t cap = e->cap_results ? e->cap_results * 2 : 32;
		struct engine_result *grown = realloc(e->results, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		e->results = grown;
		e->cap_results = cap;
	}
	e->results[e->n_results++] = *r;
	return 0;
}

static int do_expect(struct engine *e, const struct scenario_step *s)
{
	const struct scenario_expect *x = &s->expect;
	int64_t start = e->ops->now_ms(e->ctx);
	int64_t deadline = start + x->within_ms;

	e->expect_started_ms = start;
	struct engine_result res;
	size_t selected = 0, failing;
	int rc;

	memset(&res, 0, sizeof(res));
	res.pos = s->pos;
	if (x->name)
		snprintf(res.name, sizeof(res.name), "%s", x->name);
	else
		default_name(e, s, res.name, sizeof(res.name));
	if ((rc = select_target(e, &x->target, &selected)) < 0)
		return fail_run(e, rc, s, "expect");
	for (;;) {
		int64_t now = e->ops->now_ms(e->ctx);
		char why[300];

		failing = count_failing(e, x, now, why, sizeof(why));
		if (failing == 0) {
			res.passed = true;
			break;
		}
		if (now >= deadline) {
			snprintf(res.message, sizeof(res.message), "%zu of %zu devices fail; first: %.240s",
				 failing, selected, why);
			break;
		}
		int64_t next = now + ENGINE_EXPECT_TICK_MS;
		if ((rc = pass_time(e, next < deadline ? next : deadline)) < 0)
			return rc;
	}
	res.time_s = (double)(e->ops->now_ms(e->ctx) - start) / 1000.0;
	return add_result(e, &res);
}

/* ---- the timeline ------------------------------------------------------------ */

static int run_steps(struct engine *e, const struct scenario_step *steps, size_t n, int depth)
{
	for (size_t i = 0; i < n; i++) {
		const struct scenario_step *s = &steps[i];
		int rc = check_cap(e, e->ops->now_ms(e->ctx));

		if (rc < 0)
			return rc;
		if (e->ops->on_step)
			e->ops->on_step(e->ctx, s, depth);
		switch (s->kind) {
		case SCENARIO_STEP_WAIT:
			rc = pass_time(e, e->ops->now_ms(e->ctx) + s->wait_ms);
			break;
		case SCENARIO_STEP_SET:
			rc = do_set(e, s);
			break;
		case SCENARIO_STEP_COMMAND:
			rc = do_command(e, s);
			break;
		case SCENARIO_STEP_BROKER:
			rc = do_broker(e, s);
			break;
		case SCENARIO_STEP_EXPECT:
			rc = do_expect(e, s);
			break;
		case SCENARIO_STEP_REPEAT: {
			uint32_t outer = e->repeat_round;
			for (uint32_t r = 0; r < s->repeat.times && rc == 0; r++) {
				e->repeat_round = outer * 1000003u + r + 1;
				rc = run_steps(e, s->repeat.steps, s->repeat.n_steps, depth + 1);
			}
			e->repeat_round = outer;
			break;
		}
		case SCENARIO_STEP_FAULT:
			rc = do_per_device(e, s, &s->fault.target, "fault");
			break;
		case SCENARIO_STEP_CLEAR:
			rc = do_per_device(e, s, &s->clear.target, "clear");
			break;
		case SCENARIO_STEP_POWER:
			rc = do_per_device(e, s, &s->power.target, "power");
			break;
		default:
			rc = -EINVAL;
			break;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int engine_run(struct engine *e)
{
	e->started_ms = e->ops->now_ms(e->ctx);
	return run_steps(e, e->sc->steps, e->sc->n_steps, 0);
}
