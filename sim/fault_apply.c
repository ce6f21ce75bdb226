/* Scenario faults to and from the world's per-robot fault set, through the fault catalog. */
#include <errno.h>
#include <string.h>

#include "fault_apply.h"

void fault_apply(struct world_faults *wf, const struct scenario_fault *f, uint64_t seed,
		 int64_t now_ms)
{
	fault_catalog_apply(wf, (int)f->kind, &f->params, seed, now_ms);
}

bool fault_active(const struct world_faults *wf, enum scenario_fault_kind kind)
{
	return fault_catalog_active(wf, (int)kind);
}

void fault_clear(struct world_faults *wf, bool kind_set, enum scenario_fault_kind kind)
{
	if (kind_set)
		fault_catalog_clear(wf, (int)kind);
	else
		fault_catalog_clear_all(wf);
}

const char *fault_describe(const struct scenario_fault *f, char *buf, size_t len)
{
	return fault_catalog_describe((int)f->kind, &f->params, buf, len);
}

int fault_preset(struct scenario_fault *f, const char *name)
{
	int kind = fault_catalog_find(name);

	memset(f, 0, sizeof(*f));
	if (kind < 0)
		return -EINVAL;
	f->kind = (enum scenario_fault_kind)kind;
	fault_catalog_defaults(kind, true, &f->params);
	return 0;
}

uint64_t fault_seed(uint64_t run_seed, size_t dev, uint32_t nth)
{
	/* splitmix64 finaliser over the three inputs */
	uint64_t z = run_seed + 0x9e3779b97f4a7c15ull * ((uint64_t)dev + 1) +
		     0xbf58476d1ce4e5b9ull * ((uint64_t)nth + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
