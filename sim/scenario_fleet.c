/* Fleet expansion: id patterns to the sorted list of devices, with their checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_internal.h"

/* Room for any id worth reporting: longer ones are cut and are invalid anyway. */
#define EXPAND_MAX SCENARIO_EXPAND_MAX

/*
 * Check the placeholders of @pat: "{}" or "{:0N}" with N = 1..10. Sets
 * *@has_number if there is at least one. Returns 0 or -EINVAL.
 */
int scenario__pattern_check(const char *pat, bool *has_number)
{
	*has_number = false;
	for (const char *p = pat; *p; p++) {
		if (*p == '}')
			return -EINVAL;
		if (*p != '{')
			continue;
		if (p[1] == '}') {
			p++;
		} else if (p[1] == ':' && p[2] == '0' && p[3] >= '1' && p[3] <= '9' &&
			   p[4] == '}') {
			p += 4;
		} else if (p[1] == ':' && p[2] == '0' && p[3] == '1' && p[4] == '0' &&
			   p[5] == '}') {
			p += 5;
		} else {
			return -EINVAL;
		}
		*has_number = true;
	}
	return 0;
}

/* Write @pat with @number in its placeholders to @out (cut at EXPAND_MAX). */
void scenario__pattern_expand(const char *pat, uint64_t number, char out[EXPAND_MAX + 1])
{
	size_t o = 0;

	for (const char *p = pat; *p && o < EXPAND_MAX; p++) {
		char digits[32];
		int width = 0, n;

		if (*p != '{') {
			out[o++] = *p;
			continue;
		}
		if (p[1] != '}') { /* {:0N} or {:010}, checked already */
			width = p[3] - '0';
			if (p[4] != '}')
				width = 10;
			p += width == 10 ? 4 : 3;
		}
		p++;
		n = snprintf(digits, sizeof(digits), "%0*llu", width, (unsigned long long)number);
		for (int i = 0; i < n && o < EXPAND_MAX; i++)
			out[o++] = digits[i];
	}
	out[o] = '\0';
}

static int cmp_devices(const void *a, const void *b)
{
	const struct scenario_device *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	/* Equal ids (an error) still sort the same way on every run. */
	if (c == 0)
		c = x->group < y->group ? -1 : x->group > y->group;
	return c;
}

int scenario__fleet_expand(struct scenario *sc, struct scenario_error *err)
{
	struct scenario_fleet *f = &sc->fleet;
	size_t total = 0, k = 0;

	for (size_t g = 0; g < f->n_groups; g++)
		total += f->groups[g].count;
	if (total == 0)
		return scenario__error(err, sc->file, f->pos,
				       "the fleet has no devices: give a group a count of at "
				       "least 1");
	f->devices = scenario__alloc(&sc->arena, total * sizeof(*f->devices));
	if (!f->devices)
		return -ENOMEM;

	for (size_t g = 0; g < f->n_groups; g++) {
		const struct scenario_group *gr = &f->groups[g];
		bool has_number;

		if (scenario__pattern_check(gr->id_pattern, &has_number) < 0)
			return scenario__error(err, sc->file, gr->id_pos,
					       "group '%s': bad id pattern '%s': write {} for "
					       "the device number, or {:03} for it zero padded "
					       "to 3 digits", gr->name, gr->id_pattern);
		if (!has_number && gr->count > 1)
			return scenario__error(err, sc->file, gr->id_pos,
					       "group '%s': id pattern '%s' has no {} for the "
					       "device number, so its %u devices would share "
					       "one id", gr->name, gr->id_pattern,
					       (unsigned)gr->count);
		for (uint32_t i = 0; i < gr->count; i++) {
			struct scenario_device *d = &f->devices[k++];
			uint64_t number = (uint64_t)gr->first + i;
			char id[EXPAND_MAX + 1];

			scenario__pattern_expand(gr->id_pattern, number, id);
			if (!scenario_id_valid(id))
				return scenario__error(err, sc->file, gr->id_pos,
						       "group '%s': id pattern '%s' makes '%s', "
						       "which is not a device id: use 1-%d "
						       "characters of A-Z a-z 0-9 _ -", gr->name,
						       gr->id_pattern, id, SCENARIO_ID_MAX);
			memcpy(d->id, id, strlen(id) + 1);
			d->group = (uint32_t)g;
			d->number = (uint32_t)number;
		}
	}
	f->n_devices = total;

	qsort(f->devices, total, sizeof(*f->devices), cmp_devices);
	for (size_t i = 1; i < total; i++) {
		const struct scenario_device *a = &f->devices[i - 1], *b = &f->devices[i];
		const struct scenario_group *ga, *gb;

		if (strcmp(a->id, b->id) != 0)
			continue;
		/* Blame the later group: the earlier one was fine on its own. */
		ga = &f->groups[a->group];
		gb = &f->groups[b->group];
		return scenario__error(err, sc->file, gb->id_pos,
				       "group '%s': id pattern '%s' makes '%s', which group "
				       "'%s' (line %u) also has: change the pattern or first:",
				       gb->name, gb->id_pattern, b->id, ga->name,
				       (unsigned)ga->pos.line);
	}
	return 0;
}
