/* Targets: from text to a compiled target, and from a target to the devices it selects. */
#define _POSIX_C_SOURCE 200809L /* fnmatch */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_internal.h"

#define RANGE_DIGITS_MAX 19 /* fits uint64_t */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* splitmix64's finaliser: a cheap, well-mixed hash of one word. */
static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Offset of the trailing digits of @s (== len when there are none). */
static size_t digits_start(const char *s, size_t len)
{
	size_t i = len;

	while (i > 0 && is_digit(s[i - 1]))
		i--;
	return i;
}

static bool range_matches(const struct scenario_target *t, const char *id)
{
	size_t plen = strlen(t->range.prefix), dlen;
	const char *d;
	uint64_t v = 0;

	if (strncmp(id, t->range.prefix, plen) != 0)
		return false;
	d = id + plen;
	dlen = strlen(d);
	if (dlen == 0 || dlen > RANGE_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < dlen; i++) {
		if (!is_digit(d[i]))
			return false;
		v = v * 10 + (uint64_t)(d[i] - '0');
	}
	if (t->range.width ? dlen != t->range.width : (dlen > 1 && d[0] == '0'))
		return false;
	return v >= t->range.lo && v <= t->range.hi;
}

static bool matches(const struct scenario *sc, const struct scenario_target *t, size_t i)
{
	const struct scenario_device *d = &sc->fleet.devices[i];

	switch (t->kind) {
	case SCENARIO_TARGET_ALL:
		return true;
	case SCENARIO_TARGET_ID:
		return t->device == i;
	case SCENARIO_TARGET_GLOB:
		return fnmatch(t->glob, d->id, 0) == 0;
	case SCENARIO_TARGET_RANGE:
		return range_matches(t, d->id);
	case SCENARIO_TARGET_GROUP:
		return d->group == t->group;
	default:
		return false;
	}
}

struct pick {
	uint64_t key;
	size_t device;
};

static int cmp_picks(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->device < y->device ? -1 : x->device > y->device;
}

static int select_or(const struct scenario *sc, const struct scenario_target *t,
		     uint64_t seed, bool *sel);

/*
 * A share sorts its candidates by a hash of (seed, step, device) and takes
 * the first round(N * percent) of them: the pick depends only on those, not
 * on the order devices are looked at, and the count is exact.
 */
static int select_share(const struct scenario *sc, const struct scenario_target *t,
			uint64_t seed, bool *sel)
{
	size_t n = sc->fleet.n_devices, m = 0, k;
	bool *inner = NULL;
	struct pick *picks = NULL;
	uint64_t base = mix64(mix64(seed) ^ t->step_index);
	int rc = 0;

	if (t->share.of) {
		inner = calloc(n, sizeof(*inner));
		if (!inner) {
			rc = -ENOMEM;
			goto out;
		}
		rc = select_or(sc, t->share.of, seed, inner);
		if (rc < 0)
			goto out;
	}
	picks = malloc(n * sizeof(*picks));
	if (!picks) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (inner && !inner[i])
			continue;
		picks[m].key = mix64(base ^ (uint64_t)i);
		picks[m].device = i;
		m++;
	}
	k = (size_t)floor((double)m * t->share.percent / 100.0 + 0.5);
	if (k == 0 && m > 0)
		k = 1;
	if (k > m)
		k = m;
	qsort(picks, m, sizeof(*picks), cmp_picks);
	for (size_t i = 0; i < k; i++)
		sel[picks[i].device] = true;
out:
	free(picks);
	free(inner);
	return rc;
}

/* OR the devices @t selects into @sel. */
static int select_or(const struct scenario *sc, const struct scenario_target *t,
		     uint64_t seed, bool *sel)
{
	int rc;

	switch (t->kind) {
	case SCENARIO_TARGET_SHARE:
		return select_share(sc, t, seed, sel);
	case SCENARIO_TARGET_LIST:
		for (size_t j = 0; j < t->list.n; j++) {
			rc = select_or(sc, &t->list.items[j], seed, sel);
			if (rc < 0)
				return rc;
		}
		return 0;
	case SCENARIO_TARGET_ID:
		if (t->device < sc->fleet.n_devices)
			sel[t->device] = true;
		return 0;
	default:
		for (size_t i = 0; i < sc->fleet.n_devices; i++)
			if (!sel[i] && matches(sc, t, i))
				sel[i] = true;
		return 0;
	}
}

int scenario_select(const struct scenario *sc, const struct scenario_target *t,
		    uint64_t seed, bool *selected, size_t *count)
{
	size_t n = 0;
	int rc;

	if (!sc || !t || (!selected && sc->fleet.n_devices))
		return -EINVAL;
	if (sc->fleet.n_devices)
		memset(selected, 0, sc->fleet.n_devices * sizeof(*selected));
	rc = select_or(sc, t, seed, selected);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sc->fleet.n_devices; i++)
		n += selected[i];
	if (count)
		*count = n;
	return 0;
}

/* ---- compiling target text ------------------------------------------- */

/* "lab: robot_001..robot_020, hall: hall_01..hall_05": what the fleet is,
 * for a target that missed. Lists the first few groups only. */
static void describe_fleet(const struct scenario *sc, char *buf, size_t len)
{
	enum { SHOWN = 4 };
	size_t lo[SHOWN], hi[SHOWN], o = 0;
	bool seen[SHOWN] = { false };
	const struct scenario_fleet *f = &sc->fleet;

	for (size_t i = 0; i < f->n_devices; i++) {
		uint32_t g = f->devices[i].group;

		if (g >= SHOWN)
			continue;
		if (!seen[g] || f->devices[i].number < f->devices[lo[g]].number)
			lo[g] = i;
		if (!seen[g] || f->devices[i].number > f->devices[hi[g]].number)
			hi[g] = i;
		seen[g] = true;
	}
	buf[0] = '\0';
	for (size_t g = 0; g < f->n_groups && g < SHOWN; g++) {
		int n;

		if (!seen[g])
			continue;
		if (lo[g] == hi[g])
			n = snprintf(buf + o, len - o, "%s%s: %s", o ? ", " : "",
				     f->groups[g].name, f->devices[lo[g]].id);
		else
			n = snprintf(buf + o, len - o, "%s%s: %s..%s", o ? ", " : "",
				     f->groups[g].name, f->devices[lo[g]].id,
				     f->devices[hi[g]].id);
		if (n < 0 || (size_t)n >= len - o)
			return;
		o += (size_t)n;
	}
	if (f->n_groups > SHOWN)
		snprintf(buf + o, len - o, ", ...");
}

static void list_groups(const struct scenario *sc, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t g = 0; g < sc->fleet.n_groups; g++) {
		int n = snprintf(buf + o, len - o, "%s%s", g ? ", " : "",
				 sc->fleet.groups[g].name);

		if (n < 0 || (size_t)n >= len - o)
			return;
		o += (size_t)n;
	}
}

static int compile_range(struct scenario *sc, const char *text, const char *dots,
			 struct scenario_target *out, char *why, size_t why_len)
{
	const char *hi_s = dots + 2;
	size_t lo_len = (size_t)(dots - text), hi_len = strlen(hi_s);
	size_t lo_d = digits_start(text, lo_len), hi_d = digits_start(hi_s, hi_len);
	size_t lo_w = lo_len - lo_d, hi_w = hi_len - hi_d;
	uint64_t lo = 0, hi = 0;

	if (strstr(hi_s, "..") || lo_w == 0 || hi_w == 0 || lo_d != hi_d ||
	    strncmp(text, hi_s, lo_d) != 0) {
		snprintf(why, why_len, "range '%s': write two ids with the same prefix and "
			 "a number, e.g. robot_001..robot_020", text);
		return -EINVAL;
	}
	if (lo_w > RANGE_DIGITS_MAX || hi_w > RANGE_DIGITS_MAX) {
		snprintf(why, why_len, "range '%s': at most %d digits", text,
			 RANGE_DIGITS_MAX);
		return -EINVAL;
	}
	for (size_t i = lo_d; i < lo_len; i++)
		lo = lo * 10 + (uint64_t)(text[i] - '0');
	for (size_t i = hi_d; i < hi_len; i++)
		hi = hi * 10 + (uint64_t)(hi_s[i] - '0');
	if (lo > hi) {
		snprintf(why, why_len, "range '%s': the first id is above the last", text);
		return -EINVAL;
	}
	if (lo_w != hi_w && ((lo_w > 1 && text[lo_d] == '0') || (hi_w > 1 && hi_s[hi_d] == '0'))) {
		snprintf(why, why_len, "range '%s': zero padded ends need the same width, "
			 "e.g. robot_001..robot_020", text);
		return -EINVAL;
	}
	out->kind = SCENARIO_TARGET_RANGE;
	out->range.prefix = scenario__strndup(&sc->arena, text, lo_d);
	if (!out->range.prefix)
		return -ENOMEM;
	out->range.lo = lo;
	out->range.hi = hi;
	out->range.width = lo_w == hi_w ? (unsigned)lo_w : 0;
	return 0;
}

static int compile_share(struct scenario *sc, const char *text, struct scenario_target *out,
			 char *why, size_t why_len, uint64_t *work)
{
	const char *p = text + strlen("share:"), *pct = strchr(p, '%');
	char num[32];
	double v;
	struct scenario_target *of;
	int rc;

	if (!pct || pct == p || (size_t)(pct - p) >= sizeof(num) ||
	    (pct[1] != '\0' && (pct[1] != ':' || pct[2] == '\0'))) {
		snprintf(why, why_len, "share '%s': write share:25%% or share:25%%:group:lab",
			 text);
		return -EINVAL;
	}
	memcpy(num, p, (size_t)(pct - p));
	num[pct - p] = '\0';
	if (scenario__parse_number(num, &v) < 0) {
		snprintf(why, why_len, "share '%s': write share:25%% or share:25%%:group:lab",
			 text);
		return -EINVAL;
	}
	if (!(v > 0 && v <= 100)) {
		snprintf(why, why_len, "share '%s': the share must be above 0%% and at most "
			 "100%%", text);
		return -EINVAL;
	}
	out->kind = SCENARIO_TARGET_SHARE;
	out->share.percent = v;
	out->share.of = NULL;
	if (pct[1] == '\0')
		return 0;
	if (strncmp(pct + 2, "share:", 6) == 0) {
		snprintf(why, why_len, "share '%s': a share of a share is not supported", text);
		return -EINVAL;
	}
	of = scenario__alloc(&sc->arena, sizeof(*of));
	if (!of)
		return -ENOMEM;
	rc = scenario__target_compile(sc, pct + 2, out->pos, out->step_index, of, why, why_len,
				      work);
	if (rc < 0)
		return rc;
	out->share.of = of;
	return 0;
}

static int compile(struct scenario *sc, const char *text, struct scenario_target *out,
		   char *why, size_t why_len, uint64_t *work)
{
	const char *dots;
	long dev;

	if (strcmp(text, "all") == 0) {
		out->kind = SCENARIO_TARGET_ALL;
		return 0;
	}
	if (strncmp(text, "share:", 6) == 0)
		return compile_share(sc, text, out, why, why_len, work);
	if (strncmp(text, "group:", 6) == 0) {
		char groups[200];

		for (size_t g = 0; g < sc->fleet.n_groups; g++) {
			if (strcmp(sc->fleet.groups[g].name, text + 6) == 0) {
				out->kind = SCENARIO_TARGET_GROUP;
				out->group = g;
				return 0;
			}
		}
		list_groups(sc, groups, sizeof(groups));
		snprintf(why, why_len, "target '%s' names no group: the groups are %s", text,
			 groups);
		return -EINVAL;
	}
	if (strpbrk(text, "*?[")) {
		out->kind = SCENARIO_TARGET_GLOB;
		out->glob = out->text;
		return 0;
	}
	dots = strstr(text, "..");
	if (dots)
		return compile_range(sc, text, dots, out, why, why_len);
	if (!scenario_id_valid(text)) {
		snprintf(why, why_len, "target '%s' is not a device id, glob, range, "
			 "group:NAME, share:N%% or all", text);
		return -EINVAL;
	}
	dev = scenario_device_find(sc, text);
	out->kind = SCENARIO_TARGET_ID;
	out->device = dev < 0 ? SIZE_MAX : (size_t)dev;
	return 0;
}

/* Index of the first device whose id is >= @prefix: ids that start with
 * @prefix follow it in one block, because the fleet is sorted by strcmp. */
static size_t lower_bound(const struct scenario_fleet *f, const char *prefix)
{
	size_t lo = 0, hi = f->n_devices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(f->devices[mid].id, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Whether @t (not a share or list) selects any device. Stops at the first
 * match and looks only at ids with the target's literal prefix; *@work, if
 * given, is a budget of ids to look at, so that a file with thousands of
 * distinct globs over a big fleet cannot keep `robofleet check` busy for
 * hours. Returns 1, 0, or -EAGAIN when the budget ran out.
 */
static int any_match(const struct scenario *sc, const struct scenario_target *t,
		     uint64_t *work)
{
	const struct scenario_fleet *f = &sc->fleet;
	char prefix[SCENARIO_ID_MAX + 1];
	size_t plen;

	switch (t->kind) {
	case SCENARIO_TARGET_ALL:
		return f->n_devices > 0;
	case SCENARIO_TARGET_ID:
		return t->device != SIZE_MAX;
	case SCENARIO_TARGET_GROUP:
		return f->groups[t->group].count > 0;
	case SCENARIO_TARGET_GLOB:
		plen = strcspn(t->glob, "*?[\\");
		break;
	case SCENARIO_TARGET_RANGE:
		plen = strlen(t->range.prefix);
		break;
	default:
		return 1;
	}
	if (plen > SCENARIO_ID_MAX)
		return 0; /* longer than any id */
	memcpy(prefix, t->kind == SCENARIO_TARGET_GLOB ? t->glob : t->range.prefix, plen);
	prefix[plen] = '\0';
	for (size_t i = lower_bound(f, prefix);
	     i < f->n_devices && strncmp(f->devices[i].id, prefix, plen) == 0; i++) {
		if (work) {
			if (*work == 0)
				return -EAGAIN;
			(*work)--;
		}
		if (matches(sc, t, i))
			return 1;
	}
	return 0;
}

int scenario__target_compile(struct scenario *sc, const char *text, struct scenario_pos pos,
			     uint32_t step_index, struct scenario_target *out,
			     char *why, size_t why_len, uint64_t *work)
{
	char fleet[300];
	int rc;

	memset(out, 0, sizeof(*out));
	out->pos = pos;
	out->step_index = step_index;
	if (*text == '\0') {
		snprintf(why, why_len, "empty target: write all, an id, a glob, a range, "
			 "group:NAME or share:N%%");
		return -EINVAL;
	}
	out->text = scenario__strndup(&sc->arena, text, strlen(text));
	if (!out->text)
		return -ENOMEM;
	rc = compile(sc, text, out, why, why_len, work);
	if (rc < 0)
		return rc;

	/* A share always picks at least one of what it is a share of, and
	 * that was checked when compiling it. */
	rc = any_match(sc, out, work);
	if (rc == -EAGAIN) {
		snprintf(why, why_len, "target '%s': too many globs and ranges to check "
			 "against %zu devices; use fewer distinct ones", text,
			 sc->fleet.n_devices);
		return -EINVAL;
	}
	if (rc == 0) {
		describe_fleet(sc, fleet, sizeof(fleet));
		snprintf(why, why_len, "target '%s' matches no device; the fleet has %s", text,
			 fleet);
		return -EINVAL;
	}
	return 0;
}

int scenario_target_parse(struct scenario *sc, const char *text, struct scenario_target *out,
			  struct scenario_error *err)
{
	char why[sizeof(err->message)];
	int rc;

	if (!sc || !text || !out)
		return -EINVAL;
	why[0] = '\0';
	rc = scenario__target_compile(sc, text, (struct scenario_pos){ 0, 0 }, 0, out, why,
				      sizeof(why), NULL);
	if (rc == -ENOMEM)
		snprintf(why, sizeof(why), "out of memory");
	if (rc < 0 && err)
		scenario__error(err, NULL, (struct scenario_pos){ 0, 0 }, "%s", why);
	return rc;
}
