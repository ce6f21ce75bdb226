/*
 * Faults as the orchestrator keeps them: a scenario's (or the dashboard's)
 * fault turned into the fields of one robot's struct world_faults, and a
 * clear turned back. What each kind does is its row of the fault catalog
 * (fault_catalog.h); these are the scenario model's handles on it. Pure
 * functions over the struct, so they are unit tested without a world file;
 * the caller publishes the result with world_write_faults().
 */
#ifndef SIM_FAULT_APPLY_H
#define SIM_FAULT_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault_catalog.h"
#include "scenario.h"
#include "world.h"

/*
 * Add @f to @wf. Kinds that share a mode (wifi_drop and wifi_flap; the DHT22
 * modes no_response, stuck, truncated; the sonar modes) replace each other;
 * the others combine (the flash kinds too: flash_full refuses every write
 * whatever flash_write_fail says). @seed drives the fault's random choices in the
 * device; @now_ms is CLOCK_MONOTONIC ms (drift and flap phase start there).
 */
void fault_apply(struct world_faults *wf, const struct scenario_fault *f, uint64_t seed,
		 int64_t now_ms);

/* Remove fault @kind from @wf (every fault when !@kind_set). Clearing a
 * kind that is not active changes nothing. */
void fault_clear(struct world_faults *wf, bool kind_set, enum scenario_fault_kind kind);

/* Whether @kind is active in @wf. */
bool fault_active(const struct world_faults *wf, enum scenario_fault_kind kind);

/* The parameters of @f for people and the faults table, e.g.
 * "period=10000ms duty=0.30 for=60000ms". Returns @buf. */
const char *fault_describe(const struct scenario_fault *f, char *buf, size_t len);

/* The fault kind @name as the dashboard injects it: what a bare
 * `- fault: {kind: K}` gives, with the catalog's preset values for the
 * options a scenario must spell out (a flap's period, a drift, a noise).
 * Returns 0 or -EINVAL for a name that is no kind. */
int fault_preset(struct scenario_fault *f, const char *name);

/* A fault's seed: depends only on the run's seed, the device and how many
 * faults that device has had, so a replay injects the same randomness. */
uint64_t fault_seed(uint64_t run_seed, size_t dev, uint32_t nth);

#endif /* SIM_FAULT_APPLY_H */
