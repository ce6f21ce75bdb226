/* Scenario files: rooms given to devices, and the groups' topic layouts checked against the fleet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_internal.h"

static const char *const role_names[] = { "readings", "status", "command" };

/* Rooms of the fleet, sorted to find one given twice. */
struct room_ref {
	const char *room;
	size_t device;
};

static int cmp_room_ref(const void *a, const void *b)
{
	const struct room_ref *x = a, *y = b;
	int c = strcmp(x->room, y->room);

	return c ? c : (x->device > y->device) - (x->device < y->device);
}

static int give_rooms(struct scenario *sc, struct scenario_error *err)
{
	struct scenario_fleet *f = &sc->fleet;
	struct room_ref *refs;
	size_t n = 0;
	int rc = 0;

	for (size_t g = 0; g < f->n_groups; g++) {
		const struct scenario_group *gr = &f->groups[g];
		bool has_number;

		if (!gr->rooms_pattern)
			continue;
		if (scenario__pattern_check(gr->rooms_pattern, &has_number) < 0)
			return scenario__error(err, sc->file, gr->rooms_pos,
					       "group '%s': bad rooms pattern '%s': write {} for "
					       "the device number, or {:02} for it zero padded",
					       gr->name, gr->rooms_pattern);
		if (!has_number && gr->count > 1)
			return scenario__error(err, sc->file, gr->rooms_pos,
					       "group '%s': rooms pattern '%s' has no {}, so its "
					       "%u devices would share one room; a room names "
					       "exactly one device", gr->name, gr->rooms_pattern,
					       (unsigned)gr->count);
	}
	refs = calloc(f->n_devices ? f->n_devices : 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < f->n_devices; i++) {
		struct scenario_device *d = &f->devices[i];
		const struct scenario_group *gr = &f->groups[d->group];
		char room[SCENARIO_EXPAND_MAX + 1];

		if (gr->rooms_list) {
			d->room = gr->rooms_list[d->number - gr->first];
		} else if (gr->rooms_pattern) {
			scenario__pattern_expand(gr->rooms_pattern, d->number, room);
			if (!scenario_id_valid(room)) {
				rc = scenario__error(err, sc->file, gr->rooms_pos,
						     "group '%s': rooms pattern '%s' makes '%s', "
						     "which is not 1-%d characters of A-Z a-z 0-9 "
						     "_ -", gr->name, gr->rooms_pattern, room,
						     SCENARIO_ID_MAX);
				goto out;
			}
			d->room = scenario__strndup(&sc->arena, room, strlen(room));
			if (!d->room) {
				rc = -ENOMEM;
				goto out;
			}
		} else {
			continue;
		}
		/* A topic naming a room must not also name a device by its id. */
		if (scenario_device_find(sc, d->room) >= 0) {
			rc = scenario__error(err, sc->file, gr->rooms_pos,
					     "group '%s': room '%s' of %s is also a device id: "
					     "a topic naming it could be either device's",
					     gr->name, d->room, d->id);
			goto out;
		}
		refs[n].room = d->room;
		refs[n++].device = i;
	}
	qsort(refs, n, sizeof(*refs), cmp_room_ref);
	for (size_t i = 1; i < n; i++) {
		const struct scenario_device *a, *b;

		if (strcmp(refs[i - 1].room, refs[i].room) != 0)
			continue;
		a = &f->devices[refs[i - 1].device];
		b = &f->devices[refs[i].device];
		rc = scenario__error(err, sc->file, f->groups[b->group].rooms_pos,
				     "group '%s': room '%s' is given to both %s and %s: a room "
				     "names exactly one device, so that a message on its topic "
				     "is that device's", f->groups[b->group].name, a->room, a->id,
				     b->id);
		goto out;
	}
out:
	free(refs);
	return rc;
}

/* One template of the fleet, once: groups sharing a layout share its entries. */
struct tref {
	const struct topic_template *t;
	size_t group;                   /* the first group that has it */
	bool fixed;                     /* neither {id} nor {room}: its group's one device */
};

/* The format does not matter here: a command or status topic says whose it
 * is the same way whatever its payloads look like. */
static bool same_template(const struct topic_template *a, const struct topic_template *b)
{
	return a->role == b->role && strcmp(a->text, b->text) == 0;
}

/* Whether at some level one has {id} and the other {room}: the room table
 * then tells them apart, rooms being no device's id. */
static bool id_meets_room(const struct topic_template *a, const struct topic_template *b)
{
	for (unsigned i = 0; i < a->n_levels && i < b->n_levels; i++) {
		unsigned x = a->level[i].part, y = b->level[i].part;

		if ((x == TOPIC_PART_ID && y == TOPIC_PART_ROOM) ||
		    (x == TOPIC_PART_ROOM && y == TOPIC_PART_ID))
			return true;
	}
	return false;
}

static int check_group_templates(struct scenario *sc, const struct scenario_group *g,
				 const struct topic_template *t, struct scenario_error *err)
{
	if (!(t->uses & (TOPIC_USES_ID | TOPIC_USES_ROOM)) && g->count != 1)
		return scenario__error(err, sc->file, g->topics_pos,
				       "group '%s': %s topic '%s' names neither {id} nor "
				       "{room}, so the record could not tell its %u devices "
				       "apart", g->name, role_names[t->role], t->text,
				       (unsigned)g->count);
	if ((t->uses & TOPIC_USES_ROOM) && !g->rooms_pattern && !g->rooms_list)
		return scenario__error(err, sc->file, g->topics_pos,
				       "group '%s': %s topic '%s' has {room}, but the group "
				       "has no rooms: (e.g. rooms: \"room_{:02}\")", g->name,
				       role_names[t->role], t->text);
	return 0;
}

int scenario__topics_check(struct scenario *sc, struct scenario_error *err)
{
	struct scenario_fleet *f = &sc->fleet;
	struct tref *refs;
	size_t n = 0, cap = 0;
	int rc;

	if ((rc = give_rooms(sc, err)) < 0)
		return rc;
	for (size_t g = 0; g < f->n_groups; g++)
		cap += f->groups[g].topics ? f->groups[g].topics->n_readings + 2 : 0;
	refs = calloc(cap ? cap : 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t g = 0; g < f->n_groups && rc == 0; g++) {
		const struct scenario_group *gr = &f->groups[g];
		const struct topic_layout *l = gr->topics;
		const struct topic_template *all[TOPIC_READINGS_MAX + 2];
		size_t k = 0;

		if (!l)
			continue;
		for (size_t i = 0; i < l->n_readings; i++)
			all[k++] = &l->readings[i];
		all[k++] = &l->status;
		all[k++] = &l->command;
		for (size_t i = 0; i < k && rc == 0; i++) {
			bool fixed = !(all[i]->uses & (TOPIC_USES_ID | TOPIC_USES_ROOM));
			bool known = false;

			if ((rc = check_group_templates(sc, gr, all[i], err)) < 0)
				break;
			/* Kept once, unless it belongs to one group's one device. */
			for (size_t j = 0; j < n && !fixed; j++)
				if (!refs[j].fixed && same_template(refs[j].t, all[i]) &&
				    refs[j].group != g)
					known = true;
			if (!known) {
				refs[n].t = all[i];
				refs[n].group = g;
				refs[n++].fixed = fixed;
			}
		}
	}
	/* Distinct templates of the fleet, pairwise: groups with the default
	 * layout share its four entries, so this stays small. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t j = i + 1; j < n && rc == 0; j++) {
			const struct tref *a = &refs[i], *b = &refs[j];
			const struct scenario_group *ga = &f->groups[a->group];
			const struct scenario_group *gb = &f->groups[b->group];

			if (!topic_templates_overlap(a->t, b->t) || id_meets_room(a->t, b->t))
				continue;
			if (a->group == b->group && same_template(a->t, b->t))
				rc = scenario__error(err, sc->file, gb->topics_pos,
						     "group '%s': %s topic '%s' is given twice",
						     gb->name, role_names[b->t->role], b->t->text);
			else if (a->group == b->group)
				rc = scenario__error(err, sc->file, gb->topics_pos,
						     "group '%s': %s topic '%s' and its %s topic "
						     "'%s' could be the same topic, and the record "
						     "could not tell which it is: change one of them",
						     gb->name, role_names[b->t->role], b->t->text,
						     role_names[a->t->role], a->t->text);
			else
				rc = scenario__error(err, sc->file, gb->topics_pos,
						     "group '%s': %s topic '%s' and group '%s''s %s "
						     "topic '%s' could be the same topic, and the "
						     "record could not tell whose it is: change one "
						     "of them", gb->name, role_names[b->t->role],
						     b->t->text, ga->name, role_names[a->t->role],
						     a->t->text);
		}
	}
	free(refs);
	return rc;
}
