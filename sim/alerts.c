/* Alert rules judged on readings: pending, raised after the hold, cleared with hysteresis. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"

enum slot_state {
	SLOT_IDLE,              /* not past the threshold (or never judged) */
	SLOT_PENDING,           /* past it since since_ms, the hold not yet over */
	SLOT_RAISED,
};

/* One rule for one device; rules x devices of them, so kept small. */
struct alert_slot {
	bool watched;           /* the rule targets the device, and this run plays it */
	bool ever_raised;
	bool judged;            /* a reading was judged: newest_ms is meaningful */
	uint8_t state;          /* enum slot_state */
	uint32_t raised, cleared;
	int64_t since_ms;       /* PENDING, RAISED: device time of the first reading past */
	int64_t newest_ms;      /* device time of the newest reading judged */
	int64_t heard_ms;       /* missing_for: arrival of the last reading (or the start) */
	double newest_value;    /* rises_faster_than: the metric at newest_ms */
};

static struct alert_slot *slot(const struct alerts *a, size_t rule, size_t dev)
{
	return &a->slots[rule * a->sc->fleet.n_devices + dev];
}

int alerts_init(struct alerts *a, const struct scenario *sc, const bool *owned, int64_t now_ms,
		void (*emit)(void *ctx, const struct alert_event *ev), void *ctx)
{
	size_t n = sc->fleet.n_devices;
	bool *selected;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	a->sc = sc;
	a->emit = emit;
	a->ctx = ctx;
	if (!sc->n_alerts)
		return 0;
	selected = calloc(n ? n : 1, sizeof(*selected));
	a->slots = calloc(n ? sc->n_alerts * n : 1, sizeof(*a->slots));
	if (!selected || !a->slots) {
		free(selected);
		alerts_free(a);
		return -ENOMEM;
	}
	for (size_t r = 0; r < sc->n_alerts && rc == 0; r++) {
		rc = scenario_select(sc, &sc->alerts[r].target, sc->seed, selected, NULL);
		for (size_t d = 0; d < n && rc == 0; d++) {
			struct alert_slot *s = slot(a, r, d);

			s->watched = selected[d] && (!owned || owned[d]);
			s->heard_ms = now_ms;
		}
	}
	free(selected);
	if (rc < 0)
		alerts_free(a);
	return rc;
}

void alerts_free(struct alerts *a)
{
	free(a->slots);
	a->slots = NULL;
}

static void emit(struct alerts *a, size_t rule, size_t dev, bool raised, double value,
		 double threshold, int64_t crossed_ms, int64_t at_ms)
{
	struct alert_slot *s = slot(a, rule, dev);
	struct alert_event ev = {
		.rule = rule, .dev = dev, .raised = raised, .value = value,
		.threshold = threshold, .crossed_ms = crossed_ms, .at_ms = at_ms,
		.latency_ms = at_ms - crossed_ms,
	};

	if (raised) {
		s->state = SLOT_RAISED;
		s->ever_raised = true;
		s->raised++;
	} else {
		s->state = SLOT_IDLE;
		s->cleared++;
	}
	if (a->emit)
		a->emit(a->ctx, &ev);
}

/* above/below (the value) and rises_faster_than (its rate since the
 * previous reading): pending, held, raised, cleared, all by device time. */
static void judge_threshold(struct alerts *a, size_t rule, size_t dev,
			    const struct alert_reading *rd)
{
	const struct scenario_alert *al = &a->sc->alerts[rule];
	struct alert_slot *s = slot(a, rule, dev);
	double v = rd->value[al->metric];
	bool above = al->kind == SCENARIO_ALERT_ABOVE;
	bool rises = al->kind == SCENARIO_ALERT_RISES;
	bool past, clears;

	if (!rd->has[al->metric] || isnan(v))
		return;
	if (s->judged && rd->device_ms < s->newest_ms)
		return; /* older than what was judged: the past stays as it was */
	if (rises) {
		/* A rate needs two readings apart in time; v becomes it. */
		bool first = !s->judged || rd->device_ms == s->newest_ms;
		double prev = s->newest_value;
		int64_t prev_ms = s->newest_ms;

		s->newest_value = v;
		s->judged = true;
		s->newest_ms = rd->device_ms;
		if (first)
			return;
		v = (v - prev) * 1000.0 / (double)(rd->device_ms - prev_ms);
	}
	s->judged = true;
	s->newest_ms = rd->device_ms;
	past = above || rises ? v > al->threshold : v < al->threshold;
	clears = rises ? !past : above ? v < al->clear : v > al->clear;
	switch (s->state) {
	case SLOT_IDLE:
		if (!past)
			return;
		s->state = SLOT_PENDING;
		s->since_ms = rd->device_ms;
		/* a hold of 0 raises on this reading */
		__attribute__((fallthrough));
	case SLOT_PENDING:
		if (!past)
			s->state = SLOT_IDLE; /* it flapped back before the hold was over */
		else if (rd->device_ms - s->since_ms >= (int64_t)al->for_ms)
			emit(a, rule, dev, true, v, al->threshold, s->since_ms, rd->arrival_ms);
		return;
	case SLOT_RAISED:
		if (clears)
			emit(a, rule, dev, false, v, al->clear, rd->device_ms, rd->arrival_ms);
		return;
	}
}

void alerts_reading(struct alerts *a, size_t dev, const struct alert_reading *rd)
{
	if (!a->slots || dev >= a->sc->fleet.n_devices)
		return;
	for (size_t r = 0; r < a->sc->n_alerts; r++) {
		const struct scenario_alert *al = &a->sc->alerts[r];
		struct alert_slot *s = slot(a, r, dev);

		if (!s->watched)
			continue;
		if (al->kind != SCENARIO_ALERT_MISSING) {
			judge_threshold(a, r, dev, rd);
			continue;
		}
		if (al->metric_set && (!rd->has[al->metric] || isnan(rd->value[al->metric])))
			continue; /* only readings of that metric count as heard */
		if (rd->arrival_ms > s->heard_ms)
			s->heard_ms = rd->arrival_ms;
		if (s->state == SLOT_RAISED)
			emit(a, r, dev, false, al->metric_set ? rd->value[al->metric] : NAN, 0,
			     rd->device_ms, rd->arrival_ms);
	}
}

void alerts_tick(struct alerts *a, int64_t now_ms)
{
	if (!a->slots)
		return;
	for (size_t r = 0; r < a->sc->n_alerts; r++) {
		const struct scenario_alert *al = &a->sc->alerts[r];

		if (al->kind != SCENARIO_ALERT_MISSING)
			continue;
		for (size_t d = 0; d < a->sc->fleet.n_devices; d++) {
			struct alert_slot *s = slot(a, r, d);
			int64_t due = s->heard_ms + (int64_t)al->missing_ms;

			if (s->watched && s->state != SLOT_RAISED && now_ms >= due)
				emit(a, r, d, true, NAN, al->missing_ms / 1000.0, due, now_ms);
		}
	}
}

enum scenario_alert_state alerts_state(const struct alerts *a, size_t rule, size_t dev)
{
	const struct alert_slot *s;

	if (!a->slots || rule >= a->sc->n_alerts || dev >= a->sc->fleet.n_devices)
		return SCENARIO_ALERT_NONE;
	s = slot(a, rule, dev);
	if (s->state == SLOT_RAISED)
		return SCENARIO_ALERT_RAISED;
	return s->ever_raised ? SCENARIO_ALERT_CLEARED : SCENARIO_ALERT_NONE;
}

void alerts_counts(const struct alerts *a, size_t rule, uint64_t *raised, uint64_t *cleared)
{
	*raised = *cleared = 0;
	if (!a->slots || rule >= a->sc->n_alerts)
		return;
	for (size_t d = 0; d < a->sc->fleet.n_devices; d++) {
		*raised += slot(a, rule, d)->raised;
		*cleared += slot(a, rule, d)->cleared;
	}
}
