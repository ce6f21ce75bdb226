/* Alert rules (a scenario's alerts:) judged on readings: per rule and device, pure logic. */
#ifndef SIM_ALERTS_H
#define SIM_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

/*
 * Which clock decides what (docs/scenarios.md, "Alerts and time"):
 *
 *   - above/below, rises_faster_than (the rate between a device's
 *     consecutive readings) and their hold (for:) are judged by DEVICE time, the
 *     reading's own timestamp: a device whose WiFi flaps delivers readings
 *     late from its outbox, and they still say when the greenhouse got
 *     hot. A condition that held for `for` of device time raises the alert
 *     when the reading that shows it arrives, however late.
 *   - missing_for is judged by ARRIVAL time: a silent device is one the
 *     cloud hears nothing from, whatever its clock says.
 *
 * Readings are judged in device time order per rule and device: one older
 * than the newest already judged cannot change the past and is skipped. A
 * reading without the rule's metric (a sensor error) neither raises, holds
 * nor clears anything. Clearing needs one reading past the clear threshold
 * (no hold). A reading without a timestamp is judged at its arrival time.
 */

/* One recorded reading, as the evaluator sees it. Times are UTC ms. */
struct alert_reading {
	int64_t device_ms;      /* the reading's timestamp */
	int64_t arrival_ms;     /* when the recorder received it */
	bool has[SCENARIO_METRIC_COUNT];
	double value[SCENARIO_METRIC_COUNT];
};

/* An alert raised or cleared for one device. */
struct alert_event {
	size_t rule;            /* index into sc->alerts */
	size_t dev;             /* index into sc->fleet.devices */
	bool raised;            /* false: cleared */
	double value;           /* the reading that decided it; NAN for missing_for raises;
				 * rises_faster_than: the rate, metric units per second */
	double threshold;       /* raised: the rule's threshold; cleared: its clear threshold
				 * (rises_faster_than: per second; missing_for: seconds) */
	/* Raised: the device time of the first reading past the threshold (for
	 * missing_for: when the silence reached missing_for, arrival clock).
	 * Cleared: the device time of the reading that cleared it. */
	int64_t crossed_ms;
	int64_t at_ms;          /* when it was decided: that reading's arrival, or the tick */
	int64_t latency_ms;     /* at_ms - crossed_ms */
};

struct alert_slot;

struct alerts {
	const struct scenario *sc;
	struct alert_slot *slots;       /* n_alerts x n_devices, rule by rule */
	void (*emit)(void *ctx, const struct alert_event *ev);
	void *ctx;
};

/*
 * Prepare the rules of @sc (borrowed) for its fleet, only for devices
 * @owned says (NULL: all). @now_ms (UTC) starts every missing_for clock.
 * @emit is called for every raise and clear from alerts_reading() and
 * alerts_tick(). Not thread-safe: callers serialise. Returns 0, -ENOMEM or
 * -EINVAL (a target that does not compile against the fleet).
 */
int alerts_init(struct alerts *a, const struct scenario *sc, const bool *owned, int64_t now_ms,
		void (*emit)(void *ctx, const struct alert_event *ev), void *ctx);
void alerts_free(struct alerts *a);

/* Judge one recorded reading of device @dev against every rule that targets it. */
void alerts_reading(struct alerts *a, size_t dev, const struct alert_reading *rd);

/* Let time pass to @now_ms (UTC): raises missing_for alerts. */
void alerts_tick(struct alerts *a, int64_t now_ms);

/* The state of @rule for @dev, as an expect judges it. */
enum scenario_alert_state alerts_state(const struct alerts *a, size_t rule, size_t dev);

/* How many times @rule was raised and cleared, over every device. */
void alerts_counts(const struct alerts *a, size_t rule, uint64_t *raised, uint64_t *cleared);

#endif /* SIM_ALERTS_H */
