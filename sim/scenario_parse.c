/* Scenario files: the YAML tree checked and turned into struct scenario, with positions. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_names.h"
#include "robot_config.h"
#include "scenario_internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DURATION_HINT "use 500ms, 1s, 2m, 1h"
#define DAY_MS 86400000u

struct ctx {
	struct scenario *sc;
	struct scenario_error *err;
	const char *file;
	uint32_t steps;          /* steps so far: the next step's index */
	unsigned repeat_depth;
	uint64_t work;           /* device ids target checks may still look at */
};

/* Far above what real files need (100 steps x 100000 devices is 1e7), low
 * enough that no file keeps the parser busy for more than seconds. */
#define CHECK_WORK_MAX 50000000u
#define TARGET_LIST_MAX 100

/* One key a mapping may have, and where it was found. */
struct field {
	const char *key;
	const struct ynode *k;
	const struct ynode *v;
};

#define F(name) { .key = (name) }

static int fail(struct ctx *c, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const struct ynode *n, const char *fmt, ...)
{
	char msg[sizeof(c->err->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return scenario__error(c->err, c->file, n ? n->pos : (struct scenario_pos){ 0, 0 },
			       "%s", msg);
}

static bool is_null(const struct ynode *n)
{
	return !n || (n->kind == YNODE_SCALAR && n->plain &&
		      (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
		       strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0));
}

/* What a node is, for "expected X, got Y": control characters and very
 * long text would only garble the message. */
static const char *describe(const struct ynode *n, char *buf, size_t len)
{
	size_t o = 0;

	if (is_null(n))
		return "nothing";
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	if (len < 8)
		return "text";
	buf[o++] = '\'';
	for (size_t i = 0; i < n->len && o + 5 < len; i++) {
		unsigned char ch = (unsigned char)n->text[i];

		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
		if (i == 39 && n->len > 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/* ---- scalars ----------------------------------------------------------- */

/* Text the model keeps. */
static int get_text(struct ctx *c, const struct ynode *n, const char *key, const char **out)
{
	char d[64];

	if (is_null(n) || n->kind != YNODE_SCALAR)
		return fail(c, n, "%s: expected text, got %s", key, describe(n, d, sizeof(d)));
	if (n->has_nul)
		return fail(c, n, "%s: text with a NUL character (\\0) in it", key);
	/* The tree goes when the parse ends; the model keeps its own copy. */
	*out = scenario__strndup(&c->sc->arena, n->text, n->len);
	return *out ? 0 : -ENOMEM;
}

static int get_scalar(struct ctx *c, const struct ynode *n, const char *key, const char *want,
		      const char **out)
{
	char d[64];

	*out = ""; /* set on every path: optimised builds cannot see fail() < 0 */
	if (is_null(n) || n->kind != YNODE_SCALAR || n->has_nul)
		return fail(c, n, "%s: expected %s, got %s", key, want, describe(n, d, sizeof(d)));
	*out = n->text;
	return 0;
}

/* A whole number in [min, max], as counts and limits are. */
static int get_uint(struct ctx *c, const struct ynode *n, const char *key, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;
	size_t i = 0;
	bool neg = false, overflow = false;
	char d[64];
	int rc = get_scalar(c, n, key, "a whole number", &s);

	if (rc < 0)
		return rc;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i++;
	}
	if (s[i] == '\0')
		return fail(c, n, "%s: expected a whole number, got %s", key,
			    describe(n, d, sizeof(d)));
	for (; s[i]; i++) {
		unsigned digit = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9')
			return fail(c, n, "%s: expected a whole number, got %s", key,
				    describe(n, d, sizeof(d)));
		if (v > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			v = v * 10 + digit;
	}
	if (neg && (v != 0 || overflow))
		return fail(c, n, "%s: %.40s is negative: use a whole number from %llu to %llu",
			    key, s, (unsigned long long)min, (unsigned long long)max);
	if (overflow || v < min || v > max)
		return fail(c, n, "%s: %.40s is out of range: use a whole number from %llu to "
			    "%llu", key, s, (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

static int get_u32(struct ctx *c, const struct ynode *n, const char *key, uint32_t min,
		   uint32_t max, uint32_t *out)
{
	uint64_t v;
	int rc = get_uint(c, n, key, min, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

/* Decimal, or hex written 0x...: never octal from a leading zero. */
static int get_seed(struct ctx *c, const struct ynode *n, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;
	int rc = get_scalar(c, n, "seed", "a whole number", &s);

	if (rc < 0)
		return rc;
	if (!(s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return get_uint(c, n, "seed", 0, UINT64_MAX, out);
	for (const char *p = s + 2; *p; p++) {
		unsigned digit;

		if (*p >= '0' && *p <= '9')
			digit = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			digit = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			digit = (unsigned)(*p - 'A' + 10);
		else
			digit = 16;
		if (digit == 16 || p - (s + 2) >= 16) {
			char d[64];

			return fail(c, n, "seed: expected a whole number from 0 to "
				    "18446744073709551615 (or 0x and up to 16 hex digits), got %s",
				    describe(n, d, sizeof(d)));
		}
		v = v << 4 | digit;
	}
	if (s[2] == '\0')
		return fail(c, n, "seed: expected a whole number, got '0x'");
	*out = v;
	return 0;
}

static int get_number(struct ctx *c, const struct ynode *n, const char *key, double lo,
		      double hi, const char *unit, double *out)
{
	const char *s;
	double v;
	int rc = get_scalar(c, n, key, "a number", &s);

	if (rc < 0)
		return rc;
	if (scenario__parse_number(s, &v) < 0)
		return fail(c, n, "%s: expected a number, got '%s'", key, s);
	if (v < lo || v > hi)
		return fail(c, n, "%s: %s is out of range: use %g to %g%s%s", key, s, lo, hi,
			    unit[0] ? " " : "", unit);
	*out = v;
	return 0;
}

static int get_duration(struct ctx *c, const struct ynode *n, const char *key, uint32_t *ms)
{
	const char *s;
	int rc = get_scalar(c, n, key, "a duration (" DURATION_HINT ")", &s);

	if (rc < 0)
		return rc;
	if (scenario_parse_duration_ms(s, ms) < 0)
		return fail(c, n, "%s: bad duration '%s': " DURATION_HINT, key, s);
	return 0;
}

static int get_bool(struct ctx *c, const struct ynode *n, const char *key, bool *out)
{
	const char *s;
	int rc = get_scalar(c, n, key, "true or false", &s);

	if (rc < 0)
		return rc;
	if (strcmp(s, "true") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0)
		*out = false;
	else
		return fail(c, n, "%s: expected true or false, got '%s'", key, s);
	return 0;
}

/* @names as "a, b, c" into @buf. */
static const char *join(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", names[i]);

		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

/* The closest of @names to @word if it is a plausible typo, else NULL. */
static const char *suggest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (size_t i = 0; i < n; i++) {
		unsigned d = scenario__distance(word, names[i]);

		if (d < best_d && 2 * d <= strlen(names[i])) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

static int get_enum(struct ctx *c, const struct ynode *n, const char *key,
		    const char *const *names, size_t count, unsigned *out)
{
	char list[512], want[530];
	const char *s, *hint;
	int rc;

	*out = 0;
	join(names, count, list, sizeof(list));
	snprintf(want, sizeof(want), "one of %s", list);
	rc = get_scalar(c, n, key, want, &s);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (unsigned)i;
			return 0;
		}
	}
	hint = suggest(s, names, count);
	if (hint)
		return fail(c, n, "%s: '%s' is not one of %s (did you mean '%s'?)", key, s, list,
			    hint);
	return fail(c, n, "%s: '%s' is not one of %s", key, s, list);
}

/* ---- mappings ---------------------------------------------------------- */

/*
 * Match the keys of mapping @map against @f (what: its name in messages).
 * Unknown and repeated keys are errors: a misspelt key must never be a
 * setting silently left at its default.
 */
static int get_fields(struct ctx *c, const struct ynode *map, const char *what,
		      struct field *f, size_t nf)
{
	const char *names[32];
	char list[400], d[64];

	for (size_t i = 0; i < nf && i < ARRAY_SIZE(names); i++)
		names[i] = f[i].key;
	if (!map || map->kind != YNODE_MAP)
		return fail(c, map, "%s: expected a mapping, got %s", what,
			    describe(map, d, sizeof(d)));
	for (const struct ynode *k = map->first; k; k = k->next->next) {
		const char *hint;
		size_t i;

		if (k->kind != YNODE_SCALAR || k->has_nul)
			return fail(c, k, "%s: keys are words such as %s, not %s", what, f[0].key,
				    describe(k, d, sizeof(d)));
		for (i = 0; i < nf; i++)
			if (strcmp(k->text, f[i].key) == 0)
				break;
		if (i == nf) {
			join(names, nf, list, sizeof(list));
			hint = suggest(k->text, names, nf);
			if (hint)
				return fail(c, k, "unknown key '%s' in %s (did you mean '%s'?): "
					    "allowed keys are %s", k->text, what, hint, list);
			return fail(c, k, "unknown key %s in %s: allowed keys are %s",
				    describe(k, d, sizeof(d)), what, list);
		}
		if (f[i].k)
			return fail(c, k, "%s: key '%s' appears twice (first at %u:%u)", what,
				    k->text, (unsigned)f[i].k->pos.line,
				    (unsigned)f[i].k->pos.col);
		f[i].k = k;
		f[i].v = k->next;
	}
	return 0;
}

/* ---- targets ----------------------------------------------------------- */

static int compile_one(struct ctx *c, const struct ynode *n, uint32_t step_index,
		       struct scenario_target *out)
{
	char why[sizeof(c->err->message)];
	const char *s;
	int rc = get_scalar(c, n, "target", "all, an id, a glob, a range, group:NAME or "
			    "share:N%", &s);

	if (rc < 0)
		return rc;
	why[0] = '\0';
	rc = scenario__target_compile(c->sc, s, n->pos, step_index, out, why, sizeof(why),
				      &c->work);
	if (rc == -EINVAL)
		return fail(c, n, "%s", why);
	return rc;
}

/* A target: absent (all), a string, or a list of strings (their union). */
static int get_target(struct ctx *c, const struct ynode *n, const struct scenario_step *st,
		      struct scenario_target *out)
{
	struct scenario_target *items;
	size_t i = 0, len = 2;
	char *text;
	int rc;

	if (!n) {
		rc = scenario__target_compile(c->sc, "all", st->pos, st->index, out, NULL, 0,
					      NULL);
		return rc;
	}
	if (n->kind != YNODE_SEQ)
		return compile_one(c, n, st->index, out);
	if (n->n == 0)
		return fail(c, n, "target: the list is empty: name at least one target");
	if (n->n > TARGET_LIST_MAX)
		return fail(c, n, "target: a list of %zu targets; at most %d (use a glob, "
			    "range or group)", n->n, TARGET_LIST_MAX);
	items = scenario__alloc(&c->sc->arena, n->n * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (const struct ynode *it = n->first; it; it = it->next, i++) {
		rc = compile_one(c, it, st->index, &items[i]);
		if (rc < 0)
			return rc;
		len += strlen(items[i].text) + 2;
	}
	text = scenario__alloc(&c->sc->arena, len + 1);
	if (!text)
		return -ENOMEM;
	len = 0;
	text[len++] = '[';
	for (i = 0; i < n->n; i++) {
		size_t l = strlen(items[i].text);

		if (i) {
			memcpy(text + len, ", ", 2);
			len += 2;
		}
		memcpy(text + len, items[i].text, l);
		len += l;
	}
	text[len++] = ']';
	text[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->kind = SCENARIO_TARGET_LIST;
	out->pos = n->pos;
	out->step_index = st->index;
	out->text = text;
	out->list.items = items;
	out->list.n = n->n;
	return 0;
}

/* ---- checks (expect predicates) ---------------------------------------- */

enum cmp_unit {
	CMP_COUNT,   /* whole numbers >= 0 */
	CMP_RATE,    /* 0.8/s */
	CMP_NUMBER,  /* any number */
};

static const char *const cmp_keys[] = { "min", "max", "between", "gt", "ge", "lt", "le", "eq" };
#define CMP_KEYS ARRAY_SIZE(cmp_keys)

static int cmp_value(struct ctx *c, const struct ynode *n, const char *key, enum cmp_unit u,
		     double *v)
{
	const char *s;
	uint64_t count;
	int rc;

	switch (u) {
	case CMP_COUNT:
		rc = get_uint(c, n, key, 0, UINT32_MAX, &count);
		if (rc == 0)
			*v = (double)count;
		return rc;
	case CMP_RATE:
		rc = get_scalar(c, n, key, "a rate such as 0.8/s", &s);
		if (rc < 0)
			return rc;
		if (scenario_parse_rate(s, v) < 0)
			return fail(c, n, "%s: bad rate '%s': use 0.5/s, 30/m, 600/h", key, s);
		return 0;
	default:
		return get_number(c, n, key, -1e300, 1e300, "", v);
	}
}

static void bound_lo(struct scenario_cmp *m, double v, bool open)
{
	if (!m->has_lo || v > m->lo || (v == m->lo && open)) {
		m->has_lo = true;
		m->lo = v;
		m->lo_open = open;
	}
}

static void bound_hi(struct scenario_cmp *m, double v, bool open)
{
	if (!m->has_hi || v < m->hi || (v == m->hi && open)) {
		m->has_hi = true;
		m->hi = v;
		m->hi_open = open;
	}
}

/* Match mapping @n against the check keys and @extra: @f receives the
 * CMP_KEYS check fields, @extra its own. */
static int cmp_fields(struct ctx *c, const struct ynode *n, const char *key,
		      struct field f[CMP_KEYS], struct field *extra, size_t n_extra)
{
	struct field all[CMP_KEYS + 4];
	int rc;

	memset(all, 0, sizeof(all));
	for (size_t i = 0; i < CMP_KEYS; i++)
		all[i].key = cmp_keys[i];
	for (size_t i = 0; i < n_extra && i < 4; i++)
		all[CMP_KEYS + i].key = extra[i].key;
	rc = get_fields(c, n, key, all, CMP_KEYS + n_extra);
	if (rc < 0)
		return rc;
	memcpy(f, all, CMP_KEYS * sizeof(*f));
	for (size_t i = 0; i < n_extra; i++)
		extra[i] = all[CMP_KEYS + i];
	return 0;
}

/* The bounds the check keys in @f set, intersected. */
static int cmp_eval(struct ctx *c, const struct ynode *n, const char *key, enum cmp_unit u,
		    const struct field f[CMP_KEYS], struct scenario_cmp *out)
{
	char list[200], text[120];
	bool any = false;
	double v;
	int rc;

	memset(out, 0, sizeof(*out));
	out->pos = n->pos;
	for (size_t i = 0; i < CMP_KEYS; i++) {
		const struct ynode *val = f[i].v;
		const char *k = cmp_keys[i];

		if (!f[i].k)
			continue;
		any = true;
		if (strcmp(k, "between") == 0) {
			double lo, hi;
			char d[64];

			if (val->kind != YNODE_SEQ || val->n != 2)
				return fail(c, val, "between: expected [low, high], got %s",
					    describe(val, d, sizeof(d)));
			rc = cmp_value(c, val->first, k, u, &lo);
			if (rc == 0)
				rc = cmp_value(c, val->first->next, k, u, &hi);
			if (rc < 0)
				return rc;
			if (lo > hi)
				return fail(c, val, "between: low %g is above high %g", lo, hi);
			bound_lo(out, lo, false);
			bound_hi(out, hi, false);
			continue;
		}
		rc = cmp_value(c, val, k, u, &v);
		if (rc < 0)
			return rc;
		if (strcmp(k, "min") == 0 || strcmp(k, "ge") == 0)
			bound_lo(out, v, false);
		else if (strcmp(k, "gt") == 0)
			bound_lo(out, v, true);
		else if (strcmp(k, "max") == 0 || strcmp(k, "le") == 0)
			bound_hi(out, v, false);
		else if (strcmp(k, "lt") == 0)
			bound_hi(out, v, true);
		else {
			bound_lo(out, v, false);
			bound_hi(out, v, false);
		}
	}
	if (!any)
		return fail(c, n, "%s: give at least one of %s", key,
			    join(cmp_keys, CMP_KEYS, list, sizeof(list)));
	if (out->has_lo && out->has_hi &&
	    (out->lo > out->hi || (out->lo == out->hi && (out->lo_open || out->hi_open)))) {
		scenario_cmp_format(out, text, sizeof(text));
		return fail(c, n, "%s: no value can be %s", key, text);
	}
	return 0;
}

/*
 * A check at @n: a bare value (== it) or a mapping of the check keys plus
 * @extra keys, which the caller reads from @extra afterwards.
 */
static int get_cmp(struct ctx *c, const struct ynode *n, const char *key, enum cmp_unit u,
		   struct field *extra, size_t n_extra, struct scenario_cmp *out)
{
	struct field f[CMP_KEYS];
	double v;
	int rc;

	if (n->kind == YNODE_SCALAR && !is_null(n)) {
		rc = cmp_value(c, n, key, u, &v);
		if (rc < 0)
			return rc;
		memset(out, 0, sizeof(*out));
		out->pos = n->pos;
		bound_lo(out, v, false);
		bound_hi(out, v, false);
		return 0;
	}
	if (n->kind != YNODE_MAP) {
		char d[64];

		return fail(c, n, "%s: expected a number or a check such as {min: 1}, got %s",
			    key, describe(n, d, sizeof(d)));
	}
	rc = cmp_fields(c, n, key, f, extra, n_extra);
	if (rc < 0)
		return rc;
	return cmp_eval(c, n, key, u, f, out);
}

/* ---- steps ------------------------------------------------------------- */

static int parse_steps(struct ctx *c, const struct ynode *seq, const char *key,
		       struct scenario_step **out, size_t *n_out);

static const double metric_lo[] = { -40, 0, 0 };
static const double metric_hi[] = { 80, 100, 10000 };
static const char *const metric_units[] = { "degC", "%RH", "cm" };

static int parse_set(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	struct scenario_set *s = &st->set;
	struct field f[] = { F("target"), F("temperature"), F("humidity"), F("distance"),
			     F("noise") };
	int rc = get_fields(c, v, "set", f, ARRAY_SIZE(f));

	if (rc == 0)
		rc = get_target(c, f[0].v, st, &s->target);
	if (rc < 0)
		return rc;
	for (unsigned m = 0; m < SCENARIO_METRIC_COUNT; m++) {
		const struct ynode *n = f[1 + m].v;
		struct scenario_change *ch = &s->change[m];
		const char *key = scenario__metric_names[m];

		if (!f[1 + m].k)
			continue;
		s->metrics |= 1u << m;
		ch->pos = f[1 + m].k->pos;
		if (n && n->kind == YNODE_MAP) {
			struct field r[] = { F("to"), F("over") };

			rc = get_fields(c, n, key, r, ARRAY_SIZE(r));
			if (rc < 0)
				return rc;
			if (!r[0].k)
				return fail(c, n, "%s: a ramp needs to:, e.g. "
					    "{to: 35, over: 30s}", key);
			rc = get_number(c, r[0].v, key, metric_lo[m], metric_hi[m],
					metric_units[m], &ch->to);
			if (rc == 0 && r[1].k)
				rc = get_duration(c, r[1].v, "over", &ch->over_ms);
		} else {
			rc = get_number(c, n, key, metric_lo[m], metric_hi[m], metric_units[m],
					&ch->to);
		}
		if (rc < 0)
			return rc;
	}
	if (f[4].k) {
		rc = get_number(c, f[4].v, "noise", 0, 100, "", &s->noise);
		if (rc < 0)
			return rc;
		s->noise_set = true;
	}
	if (!s->metrics && !s->noise_set)
		return fail(c, v, "set needs at least one of temperature, humidity, distance, "
			    "noise");
	return 0;
}

static int parse_command(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	static const char *const actions[] = { "start", "stop" };
	static const char *const formats[] = { "json", "plain" };
	struct scenario_command *cmd = &st->command;
	struct field f[] = { F("target"), F("action"), F("payload"), F("format") };
	unsigned e;
	int rc = get_fields(c, v, "command", f, ARRAY_SIZE(f));

	if (rc == 0)
		rc = get_target(c, f[0].v, st, &cmd->target);
	if (rc < 0)
		return rc;
	if (f[1].k && f[2].k)
		return fail(c, f[2].k, "command: give action or payload, not both");
	if (!f[1].k && !f[2].k)
		return fail(c, v, "command needs action: start or stop (or payload: \"text\" "
			    "to publish as is)");
	if (f[1].k) {
		rc = get_enum(c, f[1].v, "action", actions, ARRAY_SIZE(actions), &e);
		if (rc < 0)
			return rc;
		cmd->action = e == 0 ? SCENARIO_COMMAND_START : SCENARIO_COMMAND_STOP;
	} else {
		const struct ynode *p = f[2].v;
		char d[64];

		/* An empty payload is a legitimate thing to throw at a device. */
		if (!p || p->kind != YNODE_SCALAR || p->has_nul)
			return fail(c, p ? p : f[2].k, "payload: expected text, got %s",
				    describe(p, d, sizeof(d)));
		if (p->len > SCENARIO_PAYLOAD_MAX)
			return fail(c, p, "payload: %zu bytes; at most %d", p->len,
				    SCENARIO_PAYLOAD_MAX);
		if (f[3].k)
			return fail(c, f[3].k, "format: only with action; a payload is "
				    "published as written");
		cmd->action = SCENARIO_COMMAND_PAYLOAD;
		cmd->payload = p->plain && is_null(p) ? "" : p->text;
		cmd->payload_len = p->plain && is_null(p) ? 0 : p->len;
		cmd->payload = scenario__strndup(&c->sc->arena, cmd->payload, cmd->payload_len);
		if (!cmd->payload)
			return -ENOMEM;
	}
	if (f[3].k) {
		rc = get_enum(c, f[3].v, "format", formats, ARRAY_SIZE(formats), &e);
		if (rc < 0)
			return rc;
		cmd->format = e == 0 ? SCENARIO_FORMAT_JSON : SCENARIO_FORMAT_PLAIN;
		cmd->format_set = true;
	}
	return 0;
}

/* expect's alert: {name: too_hot, state: raised}: the rule must be declared. */
static int parse_expect_alert(struct ctx *c, const struct ynode *n, struct scenario_expect *x)
{
	struct field w[] = { F("name"), F("state") };
	const char *name;
	unsigned e;
	int rc = get_fields(c, n, "alert", w, ARRAY_SIZE(w));

	if (rc < 0)
		return rc;
	if (!w[0].k || !w[1].k)
		return fail(c, n, "alert needs name: (a rule of alerts:) and state: raised, "
			    "cleared or none");
	if ((rc = get_scalar(c, w[0].v, "name", "an alert name", &name)) < 0)
		return rc;
	for (x->alert.rule = 0; x->alert.rule < c->sc->n_alerts; x->alert.rule++)
		if (strcmp(c->sc->alerts[x->alert.rule].name, name) == 0)
			break;
	if (x->alert.rule == c->sc->n_alerts)
		return fail(c, w[0].v, "name: no alert '%s' in alerts:", name);
	if ((rc = get_enum(c, w[1].v, "state", scenario__alert_state_names, 3, &e)) < 0)
		return rc;
	x->alert.state = (enum scenario_alert_state)e;
	x->what |= SCENARIO_EXPECT_ALERT;
	return 0;
}

static int parse_expect(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	static const char *const statuses[] = { "online", "offline" };
	struct scenario_expect *x = &st->expect;
	struct field f[] = { F("target"), F("within"), F("name"), F("status"),
			     F("messages"), F("rate"), F("value"), F("counter"),
			     F("lost"), F("duplicated"), F("fleet_lost"), F("fleet_duplicated"),
			     F("error"), F("alert") };
	unsigned e;
	int rc = get_fields(c, v, "expect", f, ARRAY_SIZE(f));

	if (rc == 0)
		rc = get_target(c, f[0].v, st, &x->target);
	if (rc == 0 && f[1].k)
		rc = get_duration(c, f[1].v, "within", &x->within_ms);
	if (rc == 0 && f[2].k)
		rc = get_text(c, f[2].v, "name", &x->name);
	if (rc < 0)
		return rc;
	if (f[3].k) {
		const struct ynode *is = f[3].v;

		if (is && is->kind == YNODE_MAP) {
			struct field w[] = { F("is"), F("fresh") };

			if ((rc = get_fields(c, is, "status", w, ARRAY_SIZE(w))) < 0)
				return rc;
			if (!w[0].k)
				return fail(c, is, "status needs is: online or offline");
			if (w[1].k && (rc = get_bool(c, w[1].v, "fresh", &x->status_fresh)) < 0)
				return rc;
			is = w[0].v;
		}
		rc = get_enum(c, is, "status", statuses, ARRAY_SIZE(statuses), &e);
		if (rc < 0)
			return rc;
		x->status = e == 0 ? SCENARIO_STATUS_ONLINE : SCENARIO_STATUS_OFFLINE;
		x->what |= SCENARIO_EXPECT_STATUS;
	}
	for (int i = 0; i < 2; i++) { /* messages, rate: a check plus window: */
		const struct field *src = &f[4 + i];
		struct field w[] = { F("window") };

		if (!src->k)
			continue;
		rc = get_cmp(c, src->v, src->key, i ? CMP_RATE : CMP_COUNT, w,
			     1, i ? &x->rate.cmp : &x->messages.cmp);
		if (rc == 0 && w[0].k)
			rc = get_duration(c, w[0].v, "window",
					  i ? &x->rate.window_ms : &x->messages.window_ms);
		if (rc < 0)
			return rc;
		x->what |= i ? SCENARIO_EXPECT_RATE : SCENARIO_EXPECT_MESSAGES;
	}
	if (f[6].k) {
		struct field w[] = { F("metric"), F("latest"), F("window"), F("errors") };
		struct field cf[CMP_KEYS];
		const struct ynode *n = f[6].v;

		rc = cmp_fields(c, n, "value", cf, w, ARRAY_SIZE(w));
		if (rc < 0)
			return rc;
		if (!w[0].k)
			return fail(c, n, "value needs metric: temperature, humidity or distance");
		rc = get_enum(c, w[0].v, "metric", scenario__metric_names,
			      SCENARIO_METRIC_COUNT, &e);
		if (rc < 0)
			return rc;
		x->value.metric = (enum scenario_metric)e;
		x->value.latest = true;
		if (w[1].k && (rc = get_bool(c, w[1].v, "latest", &x->value.latest)) < 0)
			return rc;
		if (w[2].k && x->value.latest)
			return fail(c, w[2].k, "window: only with latest: false (the latest "
				    "reading has no window)");
		if (w[2].k && (rc = get_duration(c, w[2].v, "window", &x->value.window_ms)) < 0)
			return rc;
		if (w[3].k) {
			static const char *const policies[] = { "allowed", "fail" };
			if ((rc = get_enum(c, w[3].v, "errors", policies, 2, &e)) < 0)
				return rc;
			x->value.errors_allowed = e == 0;
		}
		rc = cmp_eval(c, n, "value", CMP_NUMBER, cf, &x->value.cmp);
		if (rc < 0)
			return rc;
		x->what |= SCENARIO_EXPECT_VALUE;
	}
	if (f[7].k) {
		struct field w[] = { F("name") };
		struct field cf[CMP_KEYS];
		const struct ynode *n = f[7].v;

		rc = cmp_fields(c, n, "counter", cf, w, ARRAY_SIZE(w));
		if (rc < 0)
			return rc;
		if (!w[0].k) {
			char list[512];

			join(scenario__counter_names, SCENARIO_COUNTER_COUNT, list, sizeof(list));
			return fail(c, n, "counter needs name: one of %s", list);
		}
		rc = get_enum(c, w[0].v, "name", scenario__counter_names,
			      SCENARIO_COUNTER_COUNT, &e);
		if (rc < 0)
			return rc;
		x->counter.name = (enum scenario_counter)e;
		rc = cmp_eval(c, n, "counter", CMP_COUNT, cf, &x->counter.cmp);
		if (rc < 0)
			return rc;
		x->what |= SCENARIO_EXPECT_COUNTER;
	}
	struct {
		struct scenario_cmp *cmp;
		unsigned bit;
	} const loss[] = {
		{ &x->lost, SCENARIO_EXPECT_LOST },
		{ &x->duplicated, SCENARIO_EXPECT_DUPLICATED },
		{ &x->fleet_lost, SCENARIO_EXPECT_FLEET_LOST },
		{ &x->fleet_duplicated, SCENARIO_EXPECT_FLEET_DUPLICATED },
	};
	for (size_t i = 0; i < ARRAY_SIZE(loss); i++) {
		const struct field *src = &f[8 + i];

		if (!src->k)
			continue;
		rc = get_cmp(c, src->v, src->key, CMP_COUNT, NULL, 0, loss[i].cmp);
		if (rc < 0)
			return rc;
		x->what |= loss[i].bit;
	}
	if (f[12].k) {
		static const char *const names[] = { "timeout", "checksum", "out_of_range", "io",
						     "absent", "no_data", "error", "none" };
		struct field w[] = { F("metric"), F("is") };

		if ((rc = get_fields(c, f[12].v, "error", w, ARRAY_SIZE(w))) < 0)
			return rc;
		if (!w[0].k)
			return fail(c, f[12].v, "error needs metric: temperature, humidity or distance");
		rc = get_enum(c, w[0].v, "metric", scenario__metric_names, SCENARIO_METRIC_COUNT, &e);
		if (rc < 0)
			return rc;
		x->error.metric = (enum scenario_metric)e;
		if (w[1].k) {
			if ((rc = get_enum(c, w[1].v, "is", names, ARRAY_SIZE(names), &e)) < 0)
				return rc;
			x->error.is = names[e];
		}
		x->what |= SCENARIO_EXPECT_ERROR;
	}
	if (f[13].k && (rc = parse_expect_alert(c, f[13].v, x)) < 0)
		return rc;
	if (!x->what)
		return fail(c, v, "expect needs at least one of status, messages, rate, value, "
			    "counter, lost, duplicated, fleet_lost, fleet_duplicated, error, alert");
	return 0;
}

static int parse_repeat(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	struct field f[] = { F("times"), F("steps") };
	int rc;

	if (c->repeat_depth >= SCENARIO_REPEAT_NESTING_MAX)
		return scenario__error(c->err, c->file, st->pos, "repeat nested deeper than %d "
				       "levels", SCENARIO_REPEAT_NESTING_MAX);
	rc = get_fields(c, v, "repeat", f, ARRAY_SIZE(f));
	if (rc < 0)
		return rc;
	if (!f[0].k || !f[1].k)
		return fail(c, v, "repeat needs times: and steps:, e.g. {times: 3, steps: "
			    "[{wait: 1s}]}");
	rc = get_u32(c, f[0].v, "times", 1, SCENARIO_REPEAT_TIMES_MAX, &st->repeat.times);
	if (rc < 0)
		return rc;
	c->repeat_depth++;
	rc = parse_steps(c, f[1].v, "steps", &st->repeat.steps,
			 &st->repeat.n_steps);
	c->repeat_depth--;
	return rc;
}

/* Every kind's name, in the catalog's order, for get_enum(). */
static void fault_kind_names(const char *names[FAULT_KIND_COUNT])
{
	for (int k = 0; k < FAULT_KIND_COUNT; k++)
		names[k] = fault_catalog[k].name;
}

/* "500ms", "10s": a duration bound as people write it. */
static const char *duration_text(double ms, char *buf, size_t len)
{
	uint32_t v = (uint32_t)ms;

	if (v % 1000 == 0)
		snprintf(buf, len, "%us", (unsigned)(v / 1000));
	else
		snprintf(buf, len, "%ums", (unsigned)v);
	return buf;
}

/* One option's value at @n, checked against the catalog's type and range. */
static int get_fault_option(struct ctx *c, const struct ynode *n, enum fault_option_id id,
			    struct fault_params *p)
{
	const struct fault_option *o = &fault_options[id];
	char bound[32];
	uint32_t u;
	double v;
	int rc;

	switch (o->type) {
	case FAULT_TYPE_DURATION:
		if ((rc = get_duration(c, n, o->name, &u)) < 0)
			return rc;
		if (u < o->min)
			return fail(c, n, "%s: at least %s", o->name,
				    duration_text(o->min, bound, sizeof(bound)));
		if (u > o->max)
			return fail(c, n, "%s: at most %s", o->name,
				    duration_text(o->max, bound, sizeof(bound)));
		v = u;
		break;
	case FAULT_TYPE_WHOLE:
		if ((rc = get_u32(c, n, o->name, (uint32_t)o->min, (uint32_t)o->max, &u)) < 0)
			return rc;
		v = u;
		break;
	case FAULT_TYPE_NUMBER:
	case FAULT_TYPE_WHOLE_PART:
	default:
		if ((rc = get_number(c, n, o->name, o->min, o->max, o->unit, &v)) < 0)
			return rc;
		break;
	}
	fault_params_set(p, id, v);
	return 0;
}

/*
 * A fault step. What each kind takes, its defaults and ranges are the fault
 * catalog's; an option given to a kind that has no use for it is an error,
 * so a misplaced parameter never silently does nothing.
 */
/* A security fault needs the credentials it replaces, a server fault an
 * HTTP device to meet it (scenario_fault_needs). */
static int check_security_fault(struct ctx *c, const struct ynode *at, enum scenario_fault_kind k)
{
	enum scenario_security m = c->sc->fleet.security;
	const char *needs = scenario_fault_needs(k, m);

	if (scenario_fault_layer(k) == SCENARIO_LAYER_SERVER && !scenario_has_http(c->sc))
		return fail(c, at, "fault %s acts on the ingest endpoint, which only devices of a "
			    "group with transport: http use; this fleet has none",
			    scenario_fault_kind_name(k));
	if (!needs)
		return 0;
	return fail(c, at, "fault %s needs %s; this fleet has security: %s",
		    scenario_fault_kind_name(k), needs, scenario_security_name(m));
}

static int parse_fault(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	/* target, kind, then every option in the catalog's order */
	struct field f[2 + FAULT_OPT_COUNT] = { F("target"), F("kind") };
	struct scenario_fault *fl = &st->fault;
	const char *names[FAULT_KIND_COUNT];
	char kinds[512];
	unsigned e;
	int rc;

	for (int id = 0; id < FAULT_OPT_COUNT; id++)
		f[2 + id].key = fault_options[id].name;
	rc = get_fields(c, v, "fault", f, ARRAY_SIZE(f));
	if (rc == 0)
		rc = get_target(c, f[0].v, st, &fl->target);
	if (rc < 0)
		return rc;
	fault_kind_names(names);
	join(names, FAULT_KIND_COUNT, kinds, sizeof(kinds));
	if (!f[1].k)
		return fail(c, v, "fault needs kind: one of %s", kinds);
	rc = get_enum(c, f[1].v, "kind", names, FAULT_KIND_COUNT, &e);
	if (rc < 0)
		return rc;
	fl->kind = (enum scenario_fault_kind)e;
	if ((rc = check_security_fault(c, f[1].v, fl->kind)) < 0)
		return rc;
	for (int id = 0; id < FAULT_OPT_COUNT; id++) {
		if (f[2 + id].k && !fault_catalog_option((int)e, (enum fault_option_id)id)) {
			char list[200] = "";
			size_t off = 0;

			for (int j = 0; j < FAULT_OPT_COUNT; j++)
				if (fault_catalog_option((int)e, (enum fault_option_id)j))
					off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
								off ? ", " : "", fault_options[j].name);
			return fail(c, f[2 + id].k, "fault %s takes no %s (its options: %s)",
				    names[e], f[2 + id].key, list);
		}
	}
	/* Defaults: a bare kind always means something useful. */
	fault_catalog_defaults((int)e, false, &fl->params);
	for (int id = 0; id < FAULT_OPT_COUNT; id++) {
		const struct fault_kind_option *ko = fault_catalog_option((int)e,
									 (enum fault_option_id)id);
		const struct fault_option *o = &fault_options[id];

		if (!ko)
			continue;
		if (!f[2 + id].k) {
			if (ko->required)
				return fail(c, v, "fault %s needs %s: %s, e.g. %s", names[e], o->name,
					    o->type == FAULT_TYPE_DURATION ? "a duration" : o->unit,
					    ko->example);
			continue;
		}
		if ((rc = get_fault_option(c, f[2 + id].v, (enum fault_option_id)id,
					   &fl->params)) < 0)
			return rc;
	}
	return 0;
}

static int parse_clear(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	struct field f[] = { F("target"), F("kind") };
	const char *names[FAULT_KIND_COUNT];
	unsigned e;
	int rc;

	/* "clear:" alone clears everything everywhere. */
	if (is_null(v))
		return get_target(c, NULL, st, &st->clear.target);
	rc = get_fields(c, v, "clear", f, ARRAY_SIZE(f));
	if (rc == 0)
		rc = get_target(c, f[0].v, st, &st->clear.target);
	if (rc == 0 && f[1].k) {
		fault_kind_names(names);
		rc = get_enum(c, f[1].v, "kind", names, FAULT_KIND_COUNT, &e);
		st->clear.kind_set = true;
		st->clear.kind = (enum scenario_fault_kind)e;
	}
	return rc;
}

static int parse_power(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	/* off and on are the everyday words for cut and restore. */
	static const char *const actions[] = { "cut", "restore", "cycle", "brownout", "off", "on" };
	struct field f[] = { F("target"), F("action"), F("off"), F("on"), F("for") };
	struct scenario_power *p = &st->power;
	unsigned e;
	int rc = get_fields(c, v, "power", f, ARRAY_SIZE(f));

	if (rc == 0)
		rc = get_target(c, f[0].v, st, &p->target);
	if (rc < 0)
		return rc;
	if (!f[1].k)
		return fail(c, v, "power needs action: cut, restore, cycle or brownout");
	rc = get_enum(c, f[1].v, "action", actions, ARRAY_SIZE(actions), &e);
	if (rc < 0)
		return rc;
	p->action = (enum scenario_power_action)(e >= 4 ? e - 4 : e);
	p->off_ms = p->action == SCENARIO_POWER_BROWNOUT ? 500 : 2000;
	p->on_ms = 3000;
	if (f[2].k && p->action != SCENARIO_POWER_CYCLE && p->action != SCENARIO_POWER_BROWNOUT)
		return fail(c, f[2].k, "power: off: (time without power) is for cycle and brownout");
	if (f[3].k && p->action != SCENARIO_POWER_BROWNOUT)
		return fail(c, f[3].k, "power: on: (time powered between cuts) is for brownout");
	if (f[4].k && p->action != SCENARIO_POWER_OFF && p->action != SCENARIO_POWER_BROWNOUT)
		return fail(c, f[4].k, "power: for: is for cut (restore after) and brownout "
			    "(end after)");
	if (f[2].k && (rc = get_duration(c, f[2].v, "off", &p->off_ms)) < 0)
		return rc;
	if (f[3].k && (rc = get_duration(c, f[3].v, "on", &p->on_ms)) < 0)
		return rc;
	if (f[4].k && (rc = get_duration(c, f[4].v, "for", &p->for_ms)) < 0)
		return rc;
	if ((p->action == SCENARIO_POWER_CYCLE || p->action == SCENARIO_POWER_BROWNOUT) &&
	    p->off_ms < 10)
		return fail(c, f[2].v ? f[2].v : v, "power: off: at least 10ms");
	if (p->action == SCENARIO_POWER_BROWNOUT && p->on_ms < 100)
		return fail(c, f[3].v ? f[3].v : v, "power: on: at least 100ms");
	return 0;
}

/* "broker: restart", or {action: stop, for: 20s} to bring it back by itself. */
static int parse_broker(struct ctx *c, const struct ynode *v, struct scenario_step *st)
{
	struct field f[] = { F("action"), F("for") };
	unsigned e;
	int rc;

	if (v && v->kind == YNODE_SCALAR) {
		rc = get_enum(c, v, "broker", scenario__broker_names, 4, &e);
		st->broker.action = (enum scenario_broker_action)e;
		return rc;
	}
	if (!v || v->kind != YNODE_MAP) {
		char d[64];
		return fail(c, v, "broker: expected stop, start, restart, kill or {action: stop, "
			    "for: 30s}, got %s", describe(v, d, sizeof(d)));
	}
	rc = get_fields(c, v, "broker", f, ARRAY_SIZE(f));
	if (rc < 0)
		return rc;
	if (!f[0].k)
		return fail(c, v, "broker needs action: stop, start, restart or kill");
	rc = get_enum(c, f[0].v, "action", scenario__broker_names, 4, &e);
	if (rc < 0)
		return rc;
	st->broker.action = (enum scenario_broker_action)e;
	if (f[1].k) {
		if (e != SCENARIO_BROKER_STOP && e != SCENARIO_BROKER_KILL)
			return fail(c, f[1].k, "broker: for: is for stop and kill (start again after)");
		rc = get_duration(c, f[1].v, "for", &st->broker.for_ms);
	}
	return rc;
}

static int parse_step(struct ctx *c, const struct ynode *item, struct scenario_step *st)
{
	char list[200], d[64];
	const struct ynode *k, *v;
	const char *hint;
	unsigned kind;

	join(scenario__step_names, SCENARIO_STEP_KIND_COUNT, list, sizeof(list));
	if (item->kind != YNODE_MAP || item->n == 0)
		return fail(c, item, "a step is a mapping with one key, its kind (%s), e.g. "
			    "'- wait: 5s'; got %s", list, describe(item, d, sizeof(d)));
	k = item->first;
	v = k->next;
	if (item->n > 2) {
		const struct ynode *k2 = v->next;

		return fail(c, k2, "a step has exactly one key, its kind; this one also has "
			    "%s: start a new step with '-' or put options inside %s: {...}",
			    describe(k2, d, sizeof(d)), k->kind == YNODE_SCALAR ? k->text : "it");
	}
	if (k->kind != YNODE_SCALAR || k->has_nul)
		return fail(c, k, "a step's key is its kind (%s), not %s", list,
			    describe(k, d, sizeof(d)));
	for (kind = 0; kind < SCENARIO_STEP_KIND_COUNT; kind++)
		if (strcmp(k->text, scenario__step_names[kind]) == 0)
			break;
	if (kind == SCENARIO_STEP_KIND_COUNT) {
		hint = suggest(k->text, scenario__step_names, SCENARIO_STEP_KIND_COUNT);
		if (hint)
			return fail(c, k, "unknown step '%s' (did you mean '%s'?): steps are %s",
				    k->text, hint, list);
		return fail(c, k, "unknown step %s: steps are %s", describe(k, d, sizeof(d)),
			    list);
	}
	if (c->steps >= SCENARIO_STEPS_MAX)
		return fail(c, k, "more than %u steps", SCENARIO_STEPS_MAX);
	st->kind = (enum scenario_step_kind)kind;
	st->pos = k->pos;
	st->index = c->steps++;

	switch (st->kind) {
	case SCENARIO_STEP_WAIT:
		return get_duration(c, v, "wait", &st->wait_ms);
	case SCENARIO_STEP_SET:
		return parse_set(c, v, st);
	case SCENARIO_STEP_COMMAND:
		return parse_command(c, v, st);
	case SCENARIO_STEP_BROKER:
		return parse_broker(c, v, st);
	case SCENARIO_STEP_EXPECT:
		return parse_expect(c, v, st);
	case SCENARIO_STEP_REPEAT:
		return parse_repeat(c, v, st);
	case SCENARIO_STEP_FAULT:
		return parse_fault(c, v, st);
	case SCENARIO_STEP_CLEAR:
		return parse_clear(c, v, st);
	case SCENARIO_STEP_POWER:
		return parse_power(c, v, st);
	default:
		return -EINVAL;
	}
}

static int parse_steps(struct ctx *c, const struct ynode *seq, const char *key,
		       struct scenario_step **out, size_t *n_out)
{
	struct scenario_step *steps;
	char d[64];
	size_t i = 0;
	int rc;

	if (!seq || seq->kind != YNODE_SEQ)
		return fail(c, seq, "%s: expected a list of steps, got %s", key,
			    describe(seq, d, sizeof(d)));
	if (seq->n == 0)
		return fail(c, seq, "%s: the list is empty: add at least one step, e.g. "
			    "'- wait: 1m'", key);
	steps = scenario__alloc(&c->sc->arena, seq->n * sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	for (const struct ynode *it = seq->first; it; it = it->next, i++) {
		rc = parse_step(c, it, &steps[i]);
		if (rc < 0)
			return rc;
	}
	*out = steps;
	*n_out = seq->n;
	return 0;
}

/* ---- fleet ------------------------------------------------------------- */

static int parse_env_metric(struct ctx *c, const struct field *fl, unsigned m,
			    struct scenario_env *env, bool *noise_set)
{
	const struct ynode *n = fl->v;
	const char *key = scenario__metric_names[m];
	int rc;

	if (n && n->kind == YNODE_MAP) {
		struct field f[] = { F("value"), F("noise") };

		rc = get_fields(c, n, key, f, ARRAY_SIZE(f));
		if (rc < 0)
			return rc;
		if (!f[0].k)
			return fail(c, n, "%s needs value:, e.g. {value: 22.5, noise: 0.2}", key);
		rc = get_number(c, f[0].v, key, metric_lo[m], metric_hi[m], metric_units[m],
				&env->value[m]);
		if (rc == 0 && f[1].k) {
			rc = get_number(c, f[1].v, "noise", 0, 100, "", &env->noise[m]);
			*noise_set = true;
		}
		return rc;
	}
	return get_number(c, n, key, metric_lo[m], metric_hi[m], metric_units[m],
			  &env->value[m]);
}

static int parse_environment(struct ctx *c, const struct ynode *n, struct scenario_env *env)
{
	struct field f[] = { F("temperature"), F("humidity"), F("distance"), F("noise") };
	bool own_noise[SCENARIO_METRIC_COUNT] = { false };
	double noise = 0;
	int rc = get_fields(c, n, "environment", f, ARRAY_SIZE(f));

	if (rc < 0)
		return rc;
	if (f[3].k && (rc = get_number(c, f[3].v, "noise", 0, 100, "", &noise)) < 0)
		return rc;
	for (unsigned m = 0; m < SCENARIO_METRIC_COUNT; m++) {
		if (f[m].k && (rc = parse_env_metric(c, &f[m], m, env, &own_noise[m])) < 0)
			return rc;
		if (!own_noise[m])
			env->noise[m] = noise;
	}
	return 0;
}

static bool word_char(char ch, bool dot)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || (dot && ch == '.');
}

/*
 * sketch: or device:, checked now: a path that is wrong should stop the
 * file like any other mistake, not every device of the run one by one.
 */
static int parse_firmware(struct ctx *c, const struct field *sketch, const struct field *device,
			  struct scenario_group *g)
{
	const struct field *f = sketch->k ? sketch : device;
	char why[sizeof(c->err->message)];
	const char *path;
	int rc;

	if (sketch->k && device->k)
		return fail(c, device->k, "group '%s': sketch: and device: are two firmwares; "
			    "give one (neither: the built-in robot)", g->name);
	if (!f->k)
		return 0;
	rc = get_scalar(c, f->v, f->key, sketch->k ? "the path of a .ino file or sketch folder"
			: "a program's path or name", &path);
	if (rc < 0)
		return rc;
	g->firmware_pos = f->v->pos;
	if (sketch->k)
		rc = scenario__find_sketch(&c->sc->arena, c->file, path, &g->sketch, why,
					   sizeof(why));
	else
		rc = scenario__find_device(&c->sc->arena, c->file, path, &g->device, why,
					   sizeof(why));
	if (rc == -EINVAL) {
		g->sketch = g->device = NULL;
		return fail(c, f->v, "%s: %s", f->key, why);
	}
	return rc;
}

/* ---- topics: and rooms: -------------------------------------------------- */

static const char *const topic_formats[] = { "plain", "json" };

/* One template: "text" or {topic: "text", format: plain|json}. */
static int parse_template(struct ctx *c, const struct ynode *n, const char *key,
			  enum topic_role role, struct topic_template *out)
{
	enum topic_format fmt = TOPIC_FORMAT_PLAIN;
	char why[300];
	const char *text;
	const struct ynode *at = n;
	unsigned e;
	int rc;

	if (n && n->kind == YNODE_MAP) {
		struct field f[] = { F("topic"), F("format") };

		if ((rc = get_fields(c, n, key, f, ARRAY_SIZE(f))) < 0)
			return rc;
		if (!f[0].k)
			return fail(c, n, "%s needs topic:, e.g. {topic: \"sensors/{id}/data\", "
				    "format: json}", key);
		if (f[1].k) {
			rc = get_enum(c, f[1].v, "format", topic_formats,
				      ARRAY_SIZE(topic_formats), &e);
			if (rc < 0)
				return rc;
			fmt = (enum topic_format)e;
		}
		n = f[0].v;
		at = n;
	}
	rc = get_scalar(c, n, key, "a topic such as \"sensors/{id}/{metric}\" or a mapping "
			"{topic: ..., format: ...}", &text);
	if (rc < 0)
		return rc;
	if (topic_template_parse(text, role, fmt, out, why, sizeof(why)) < 0)
		return fail(c, at, "%s: %s", key, why);
	return 0;
}

static int parse_topics(struct ctx *c, const struct ynode *n, struct scenario_group *g)
{
	struct field f[] = { F("readings"), F("status"), F("command") };
	struct topic_layout *l = scenario__alloc(&c->sc->arena, sizeof(*l));
	int rc;

	if (!l)
		return -ENOMEM;
	if ((rc = get_fields(c, n, "topics", f, ARRAY_SIZE(f))) < 0)
		return rc;
	if (!g->sketch && !g->device)
		return fail(c, n, "group '%s': topics: is for sketch: and device: groups; the "
			    "built-in robot publishes robofleet's contract (sensors/{id}/...)",
			    g->name);
	topic_layout_default(l, TOPIC_FORMAT_PLAIN);
	if (f[0].k && f[0].v && f[0].v->kind == YNODE_SEQ) {
		size_t i = 0;

		if (f[0].v->n == 0 || f[0].v->n > TOPIC_READINGS_MAX)
			return fail(c, f[0].v, "readings: %zu templates; give 1 to %d",
				    f[0].v->n, TOPIC_READINGS_MAX);
		for (const struct ynode *t = f[0].v->first; t; t = t->next, i++)
			if ((rc = parse_template(c, t, "readings", TOPIC_ROLE_READINGS,
						 &l->readings[i])) < 0)
				return rc;
		l->n_readings = i;
	} else if (f[0].k) {
		if ((rc = parse_template(c, f[0].v, "readings", TOPIC_ROLE_READINGS,
					 &l->readings[0])) < 0)
			return rc;
		l->n_readings = 1;
	}
	if (f[1].k && (rc = parse_template(c, f[1].v, "status", TOPIC_ROLE_STATUS,
					   &l->status)) < 0)
		return rc;
	if (f[2].k && (rc = parse_template(c, f[2].v, "command", TOPIC_ROLE_COMMAND,
					   &l->command)) < 0)
		return rc;
	g->topics = l;
	g->topics_set = true;
	g->topics_pos = n->pos;
	return 0;
}

static int parse_rooms(struct ctx *c, const struct ynode *n, struct scenario_group *g)
{
	const char **list;
	size_t i = 0;
	int rc;

	g->rooms_pos = n ? n->pos : g->pos;
	if (!n || n->kind != YNODE_SEQ)
		return get_text(c, n, "rooms", &g->rooms_pattern);
	if (n->n != g->count)
		return fail(c, n, "rooms: %zu names for the group's %u devices: give one per "
			    "device, or a pattern such as \"room_{:02}\"", n->n,
			    (unsigned)g->count);
	list = scenario__alloc(&c->sc->arena, (n->n + 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (const struct ynode *r = n->first; r; r = r->next, i++) {
		if ((rc = get_text(c, r, "rooms", &list[i])) < 0)
			return rc;
		if (!scenario_id_valid(list[i]))
			return fail(c, r, "rooms: '%s' is not 1-%d characters of A-Z a-z 0-9 _ -",
				    list[i], SCENARIO_ID_MAX);
	}
	g->rooms_list = list;
	g->n_rooms_list = i;
	return 0;
}

/* The default layout of the group's kind, when topics: does not say. */
static int default_topics(struct ctx *c, struct scenario_group *g)
{
	struct topic_layout *l;

	if (g->topics) {
		g->command_format_set = true;
		return 0;
	}
	l = scenario__alloc(&c->sc->arena, sizeof(*l));
	if (!l)
		return -ENOMEM;
	/* The robot takes either form; a sketch in the classic style reads
	 * its command as a plain word. */
	g->command_format_set = g->sketch || g->device;
	topic_layout_default(l, g->command_format_set ? TOPIC_FORMAT_PLAIN : TOPIC_FORMAT_JSON);
	g->topics = l;
	g->topics_pos = g->pos;
	return 0;
}

/* transport: (@n NULL: not given). The fleet's security is parsed before its groups. */
static int parse_transport(struct ctx *c, const struct ynode *n, struct scenario_group *g)
{
	unsigned e;
	int rc;

	g->transport = SCENARIO_TRANSPORT_MQTT;
	g->transport_pos = g->pos;
	if (!n)
		return 0;
	rc = get_enum(c, n, "transport", scenario__transport_names, SCENARIO_TRANSPORT_COUNT, &e);
	if (rc < 0)
		return rc;
	g->transport = (enum scenario_transport)e;
	g->transport_pos = n->pos;
	if (g->transport != SCENARIO_TRANSPORT_HTTP)
		return 0;
	if (g->sketch)
		return fail(c, n, "transport: http is for the built-in robot and device: programs; "
			    "a sketch's own code chooses how it talks (docs/arduino.md)");
	if (g->topic_style != SCENARIO_TOPIC_JSON)
		return fail(c, n, "transport: http posts JSON readings; topic_style %s needs mqtt",
			    g->topic_style == SCENARIO_TOPIC_BOTH ? "both" : "per-metric");
	if (c->sc->fleet.security != SCENARIO_SECURITY_NONE)
		return fail(c, n, "transport: http: the ingest endpoint speaks plain HTTP; a fleet "
			    "with security: %s keeps its devices on mqtt",
			    scenario_security_name(c->sc->fleet.security));
	return 0;
}

static int parse_group(struct ctx *c, const struct ynode *n, struct scenario_group *g,
		       size_t index, size_t *total)
{
	static const char *const styles[] = { "json", "per-metric", "both" };
	struct field f[] = { F("name"), F("count"), F("id"), F("first"), F("interval"),
			     F("sample_interval"), F("keepalive"), F("topic_style"),
			     F("environment"), F("sketch"), F("device"), F("topics"),
			     F("rooms"), F("transport") };
	const struct scenario_fleet *fl = &c->sc->fleet;
	char *pattern;
	unsigned e;
	uint32_t ms;
	int rc = get_fields(c, n, "group", f, ARRAY_SIZE(f));

	if (rc < 0)
		return rc;
	g->pos = n->pos;
	g->id_pos = n->pos;
	if (!f[0].k || !f[1].k)
		return fail(c, n, "a group needs name: and count:, e.g. {name: lab, count: 20}");
	rc = get_text(c, f[0].v, "name", &g->name);
	if (rc < 0)
		return rc;
	if (!scenario_id_valid(g->name))
		return fail(c, f[0].v, "name: group name '%s' is not 1-%d characters of "
			    "A-Z a-z 0-9 _ -", g->name, SCENARIO_ID_MAX);
	for (size_t i = 0; i < index; i++)
		if (strcmp(fl->groups[i].name, g->name) == 0)
			return fail(c, f[0].v, "name: a group named '%s' already exists "
				    "(line %u)", g->name, (unsigned)fl->groups[i].pos.line);
	rc = get_u32(c, f[1].v, "count", 0, SCENARIO_FLEET_MAX, &g->count);
	if (rc < 0)
		return rc;
	*total += g->count;
	if (*total > SCENARIO_FLEET_MAX)
		return fail(c, f[1].v, "count: the fleet would have %zu devices; at most %u",
			    *total, SCENARIO_FLEET_MAX);

	if (f[2].k) {
		rc = get_text(c, f[2].v, "id", &g->id_pattern);
		if (rc < 0)
			return rc;
		g->id_pos = f[2].v->pos;
	} else {
		size_t len = strlen(g->name) + sizeof("_{:03}");

		pattern = scenario__alloc(&c->sc->arena, len);
		if (!pattern)
			return -ENOMEM;
		snprintf(pattern, len, "%s_{:03}", g->name);
		g->id_pattern = pattern;
	}
	g->first = 1;
	if (f[3].k && (rc = get_u32(c, f[3].v, "first", 0, 999999999u, &g->first)) < 0)
		return rc;

	g->interval_ms = 10000;
	if (f[4].k) {
		rc = get_duration(c, f[4].v, "interval", &g->interval_ms);
		if (rc < 0)
			return rc;
		if (g->interval_ms < 100 || g->interval_ms > DAY_MS)
			return fail(c, f[4].v, "interval: %s is out of range: use 100ms to 24h",
				    f[4].v->text);
	}
	if (f[5].k) {
		rc = get_duration(c, f[5].v, "sample_interval", &g->sample_interval_ms);
		if (rc < 0)
			return rc;
		if (g->sample_interval_ms != 0 &&
		    (g->sample_interval_ms < 60 || g->sample_interval_ms > DAY_MS))
			return fail(c, f[5].v, "sample_interval: %s is out of range: use 60ms "
				    "to 24h (the HC-SR04 needs 60ms between pings), or 0",
				    f[5].v->text);
	}
	g->keepalive_s = 15;
	if (f[6].k) {
		rc = get_duration(c, f[6].v, "keepalive", &ms);
		if (rc < 0)
			return rc;
		if (ms % 1000 || ms < 5000 || ms > 65535000u)
			return fail(c, f[6].v, "keepalive: %s: use whole seconds from 5s to "
				    "65535s", f[6].v->text);
		g->keepalive_s = ms / 1000;
	}
	g->topic_style = SCENARIO_TOPIC_JSON;
	if (f[7].k) {
		rc = get_enum(c, f[7].v, "topic_style", styles, ARRAY_SIZE(styles), &e);
		if (rc < 0)
			return rc;
		g->topic_style = (enum scenario_topic_style)e;
	}
	/* robofleet-device's defaults, so a group and a lone device agree. */
	g->env.value[SCENARIO_METRIC_TEMPERATURE] = 22.0;
	g->env.value[SCENARIO_METRIC_HUMIDITY] = 45.0;
	g->env.value[SCENARIO_METRIC_DISTANCE] = 100.0;
	if (f[8].k && (rc = parse_environment(c, f[8].v, &g->env)) < 0)
		return rc;
	if ((rc = parse_firmware(c, &f[9], &f[10], g)) < 0)
		return rc;
	if (f[11].k && (rc = parse_topics(c, f[11].v, g)) < 0)
		return rc;
	if (f[12].k && (rc = parse_rooms(c, f[12].v, g)) < 0)
		return rc;
	if ((rc = parse_transport(c, f[13].v, g)) < 0)
		return rc;
	return default_topics(c, g);
}

static int parse_wifi(struct ctx *c, const struct ynode *n, struct scenario_network *net)
{
	struct field f[] = { F("ssid"), F("password") };
	size_t len;
	int rc = get_fields(c, n, "wifi", f, ARRAY_SIZE(f));

	if (rc < 0)
		return rc;
	if (!f[0].k)
		return fail(c, n, "wifi needs ssid:, e.g. {ssid: lab, password: secret}");
	if ((rc = get_text(c, f[0].v, "ssid", &net->ssid)) < 0)
		return rc;
	len = strlen(net->ssid);
	if (len == 0 || len > SHIM_NET_SSID_MAX)
		return fail(c, f[0].v, "ssid: '%s' is not 1-%d bytes", net->ssid,
			    SHIM_NET_SSID_MAX);
	net->password = "";
	if (f[1].k) {
		if ((rc = get_text(c, f[1].v, "password", &net->password)) < 0)
			return rc;
		if (strlen(net->password) > SHIM_NET_PASSWORD_MAX)
			return fail(c, f[1].v, "password: longer than %d characters (\"\": an "
				    "open network)", SHIM_NET_PASSWORD_MAX);
	}
	net->wifi_set = true;
	return 0;
}

/*
 * Each entry goes through the device's own parser (net_names.c) as the
 * "NAME=TARGET" the run will pass, so a file that checks here is a command
 * line every device accepts.
 */
static int parse_dns(struct ctx *c, const struct ynode *n, struct scenario_network *net)
{
	struct shim_net *all, *one;
	char d[64], why[200];
	size_t i = 0;
	int rc = 0;

	if (!n || n->kind != YNODE_MAP)
		return fail(c, n, "dns: expected a mapping such as {broker.hivemq.com: broker}, "
			    "got %s", describe(n, d, sizeof(d)));
	if (n->n / 2 > SHIM_DNS_ENTRIES_MAX)
		return fail(c, n, "dns: %zu names; at most %d", n->n / 2, SHIM_DNS_ENTRIES_MAX);
	net->dns = scenario__alloc(&c->sc->arena, (n->n / 2 + 1) * sizeof(*net->dns));
	all = malloc(2 * sizeof(*all));
	if (!net->dns || !all) {
		free(all);
		return -ENOMEM;
	}
	one = all + 1;
	shim_net_defaults(all);
	for (const struct ynode *k = n->first; k; k = k->next->next, i++) {
		const struct ynode *v = k->next;
		const char *name, *target;
		size_t len;
		char *spec;

		if ((rc = get_scalar(c, k, "dns", "a host name", &name)) < 0)
			break;
		if (v->kind == YNODE_SEQ) {
			rc = fail(c, v, "dns: %s: quote an IPv6 address: \"[::1]:1883\"", name);
			break;
		}
		rc = get_scalar(c, v, name, "broker, nxdomain, HOST or HOST:PORT", &target);
		if (rc < 0)
			break;
		len = strlen(name) + 1 + strlen(target);
		spec = scenario__alloc(&c->sc->arena, len + 1);
		if (!spec) {
			rc = -ENOMEM;
			break;
		}
		snprintf(spec, len + 1, "%s=%s", name, target);
		if (shim_net_add_dns(all, spec, why, sizeof(why)) < 0) {
			/* Point at the name when it is the name's fault (bad, or
			 * given twice), else at the target. */
			bool name_fault = strchr(name, '=') != NULL;

			if (name_fault) {
				snprintf(why, sizeof(why), "'%s' is not a host name or an IP "
					 "address", name);
			} else {
				char probe[300];

				shim_net_defaults(one);
				snprintf(probe, sizeof(probe), "%s=nxdomain", name);
				name_fault = shim_net_add_dns(one, probe, NULL, 0) < 0 ||
					     shim_net_add_dns(all, probe, NULL, 0) < 0;
			}
			rc = fail(c, name_fault ? k : v, "dns: %s", why);
			break;
		}
		net->dns[i] = spec;
		net->n_dns = i + 1;
	}
	free(all);
	return rc;
}

static int parse_network(struct ctx *c, const struct ynode *n, struct scenario_network *net)
{
	static const char *const defaults[] = { "broker", "nxdomain" };
	struct field f[] = { F("wifi"), F("dns"), F("dns_default") };
	unsigned e;
	int rc = get_fields(c, n, "network", f, ARRAY_SIZE(f));

	if (rc < 0)
		return rc;
	net->pos = n->pos;
	if (f[0].k && (rc = parse_wifi(c, f[0].v, net)) < 0)
		return rc;
	if (f[1].k && (rc = parse_dns(c, f[1].v, net)) < 0)
		return rc;
	if (f[2].k) {
		rc = get_enum(c, f[2].v, "dns_default", defaults, ARRAY_SIZE(defaults), &e);
		if (rc < 0)
			return rc;
		net->dns_default = (enum scenario_dns_default)e;
		net->dns_default_set = true;
	}
	return 0;
}

static int parse_fleet(struct ctx *c, const struct ynode *n)
{
	struct scenario_fleet *fl = &c->sc->fleet;
	struct field f[] = { F("broker"), F("connect_rate"), F("groups"), F("network"),
			     F("security") };
	const char *s;
	size_t i = 0, total = 0;
	char d[64];
	int rc = get_fields(c, n, "fleet", f, ARRAY_SIZE(f));

	if (rc < 0)
		return rc;
	fl->pos = n->pos;
	fl->broker = SCENARIO_BROKER_EMBEDDED;
	if (f[0].k) {
		const char *host;
		size_t host_len;

		rc = get_text(c, f[0].v, "broker", &s);
		if (rc < 0)
			return rc;
		if (strcmp(s, "embedded") != 0) {
			if (robot_config_split_broker(s, &host, &host_len, &fl->broker_port) < 0)
				return fail(c, f[0].v, "broker: '%s' is not embedded, host:port, "
					    "[v6addr]:port or host", s);
			fl->broker = SCENARIO_BROKER_EXTERNAL;
			fl->broker_host = scenario__strndup(&c->sc->arena, host, host_len);
			if (!fl->broker_host)
				return -ENOMEM;
		}
	}
	fl->connect_rate_per_s = 200;
	if (f[1].k) {
		rc = get_scalar(c, f[1].v, "connect_rate", "a rate such as 200/s", &s);
		if (rc < 0)
			return rc;
		if (scenario_parse_rate(s, &fl->connect_rate_per_s) < 0 ||
		    !(fl->connect_rate_per_s > 0))
			return fail(c, f[1].v, "connect_rate: bad rate '%s': use a rate above 0 "
				    "such as 200/s, 30/m", s);
	}
	if (f[3].k && (rc = parse_network(c, f[3].v, &fl->network)) < 0)
		return rc;
	fl->security = SCENARIO_SECURITY_NONE;
	fl->security_pos = n->pos;
	if (f[4].k) {
		unsigned e;

		rc = get_enum(c, f[4].v, "security", scenario__security_names,
			      SCENARIO_SECURITY_COUNT, &e);
		if (rc < 0)
			return rc;
		fl->security = (enum scenario_security)e;
		fl->security_pos = f[4].v->pos;
	}
	if (!f[2].k)
		return fail(c, n, "fleet needs groups:, a list such as [{name: lab, count: 20}]");
	n = f[2].v;
	if (n->kind != YNODE_SEQ || n->n == 0)
		return fail(c, n, "groups: expected a list of groups such as [{name: lab, "
			    "count: 20}], got %s",
			    n->kind == YNODE_SEQ ? "an empty list" : describe(n, d, sizeof(d)));
	if (n->n > SCENARIO_GROUPS_MAX)
		return fail(c, n, "groups: %zu groups; at most %u", n->n, SCENARIO_GROUPS_MAX);
	fl->groups = scenario__alloc(&c->sc->arena, n->n * sizeof(*fl->groups));
	if (!fl->groups)
		return -ENOMEM;
	for (const struct ynode *g = n->first; g; g = g->next, i++) {
		rc = parse_group(c, g, &fl->groups[i], i, &total);
		fl->n_groups = i + 1; /* later groups look back at the earlier ones */
		if (rc < 0)
			return rc;
	}
	if ((rc = scenario__fleet_expand(c->sc, c->err)) < 0)
		return rc;
	return scenario__topics_check(c->sc, c->err);
}

/* ---- the document ------------------------------------------------------ */

/* The default name: the file's stem, made safe for a directory name. */
static int default_name(struct ctx *c)
{
	const char *base = strrchr(c->file, '/');
	size_t len;
	char *name;

	base = base ? base + 1 : c->file;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
		len -= 5;
	else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
		len -= 4;
	if (len > SCENARIO_NAME_MAX)
		len = SCENARIO_NAME_MAX;
	if (len == 0) {
		base = "scenario";
		len = strlen(base);
	}
	name = scenario__strndup(&c->sc->arena, base, len);
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		if (!word_char(name[i], true))
			name[i] = '_';
	c->sc->name = name;
	return 0;
}

/* ---- alerts ------------------------------------------------------------ */

/* A rule's name is a level of its MQTT topic (alerts/<id>/<name>): no
 * wildcard, separator or anything a subscriber would have to escape. */
static bool alert_name_ok(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < len; i++)
		if (!word_char(name[i], false))
			return false;
	return len > 0 && len <= SCENARIO_NAME_MAX;
}

static int parse_alert(struct ctx *c, const struct ynode *n, size_t index,
		       struct scenario_alert *a)
{
	struct field f[] = { F("name"), F("target"), F("metric"), F("above"), F("below"),
			     F("missing_for"), F("rises_faster_than"), F("for"), F("clear_below"),
			     F("clear_above") };
	const struct field *above = &f[3], *below = &f[4], *missing = &f[5], *rises = &f[6];
	const struct field *hold = &f[7], *clear_below = &f[8], *clear_above = &f[9];
	const struct field *threshold = NULL, *extra = NULL;
	struct scenario_step where = { .index = 0 };
	unsigned e, kinds = 0;
	int rc = get_fields(c, n, "alert", f, ARRAY_SIZE(f));

	if (rc < 0)
		return rc;
	a->pos = n->pos;
	if (!f[0].k)
		return fail(c, n, "alert needs name: (such as too_hot)");
	if ((rc = get_text(c, f[0].v, "name", &a->name)) < 0)
		return rc;
	if (!alert_name_ok(a->name))
		return fail(c, f[0].v, "name: '%s' cannot be an MQTT topic level: use 1-%d "
			    "characters of A-Z a-z 0-9 _ -", a->name, SCENARIO_NAME_MAX);
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->sc->alerts[i].name, a->name) == 0)
			return fail(c, f[0].v, "name: alert '%s' is declared twice (first at %u:%u)",
				    a->name, (unsigned)c->sc->alerts[i].pos.line,
				    (unsigned)c->sc->alerts[i].pos.col);
	where.pos = n->pos;
	if ((rc = get_target(c, f[1].v, &where, &a->target)) < 0)
		return rc;
	for (const struct field *k = above; k <= rises; k++) {
		if (!k->k)
			continue;
		if (kinds++)
			extra = k;
		else
			threshold = k;
	}
	if (kinds != 1)
		return fail(c, extra ? extra->k : n, "alert %s: give exactly one of above, below, "
			    "missing_for or rises_faster_than", a->name);
	a->kind = threshold == above ? SCENARIO_ALERT_ABOVE :
		  threshold == below ? SCENARIO_ALERT_BELOW :
		  threshold == missing ? SCENARIO_ALERT_MISSING : SCENARIO_ALERT_RISES;
	if (f[2].k) {
		if ((rc = get_enum(c, f[2].v, "metric", scenario__metric_names,
				   SCENARIO_METRIC_COUNT, &e)) < 0)
			return rc;
		a->metric = (enum scenario_metric)e;
		a->metric_set = true;
	} else if (a->kind != SCENARIO_ALERT_MISSING) {
		return fail(c, n, "alert %s: %s needs metric: temperature, humidity or distance",
			    a->name, threshold->key);
	}
	if (a->kind == SCENARIO_ALERT_MISSING) {
		if ((rc = get_duration(c, threshold->v, "missing_for", &a->missing_ms)) < 0)
			return rc;
		if (a->missing_ms == 0)
			return fail(c, threshold->v, "missing_for: must be longer than 0");
		for (const struct field *k = hold; k <= clear_above; k++)
			if (k->k)
				return fail(c, k->k, "%s: only with above, below or rises_faster_than "
					    "(missing_for is raised once the device is silent that "
					    "long and cleared by its next reading)", k->key);
		return 0;
	}
	if (hold->k && (rc = get_duration(c, hold->v, "for", &a->for_ms)) < 0)
		return rc;
	if (a->kind == SCENARIO_ALERT_RISES) {
		const char *text;

		if ((rc = get_scalar(c, threshold->v, threshold->key, "a rate (2/m)", &text)) < 0)
			return rc;
		if (scenario_parse_rate(text, &a->threshold) < 0 || !(a->threshold > 0))
			return fail(c, threshold->v, "rises_faster_than: expected a rate above 0 in "
				    "%s per time unit such as 2/m or 0.5/s, got '%s'",
				    metric_units[a->metric], text);
		a->clear = a->threshold;
		for (const struct field *k = clear_below; k <= clear_above; k++)
			if (k->k)
				return fail(c, k->k, "%s: not with rises_faster_than (it clears once "
					    "the metric rises no faster than that)", k->key);
		return 0;
	}
	rc = get_number(c, threshold->v, threshold->key, metric_lo[a->metric],
			metric_hi[a->metric], metric_units[a->metric], &a->threshold);
	if (rc < 0)
		return rc;
	a->clear = a->threshold;
	/* Hysteresis lies on the safe side of the threshold: clearing above
	 * a too-hot line would clear an alert that should still be raised. */
	const struct field *wrong = a->kind == SCENARIO_ALERT_ABOVE ? clear_above : clear_below;
	const struct field *clear = a->kind == SCENARIO_ALERT_ABOVE ? clear_below : clear_above;

	if (wrong->k)
		return fail(c, wrong->k, "%s: goes with %s; an alert with %s clears with %s",
			    wrong->key, wrong == clear_above ? "below" : "above", threshold->key,
			    clear->key);
	if (clear->k) {
		rc = get_number(c, clear->v, clear->key, metric_lo[a->metric],
				metric_hi[a->metric], metric_units[a->metric], &a->clear);
		if (rc < 0)
			return rc;
		if (a->kind == SCENARIO_ALERT_ABOVE && a->clear > a->threshold)
			return fail(c, clear->v, "clear_below: %g is above the threshold (above: %g): "
				    "hysteresis must clear at or below it", a->clear, a->threshold);
		if (a->kind == SCENARIO_ALERT_BELOW && a->clear < a->threshold)
			return fail(c, clear->v, "clear_above: %g is below the threshold (below: %g): "
				    "hysteresis must clear at or above it", a->clear, a->threshold);
	}
	return 0;
}

static int parse_alerts(struct ctx *c, const struct ynode *n)
{
	char d[64];
	size_t i = 0;
	int rc;

	if (!n || n->kind != YNODE_SEQ)
		return fail(c, n, "alerts: expected a list of rules such as [{name: too_hot, "
			    "metric: temperature, above: 30}], got %s", describe(n, d, sizeof(d)));
	if (n->n > SCENARIO_ALERTS_MAX)
		return fail(c, n, "alerts: %zu rules; at most %u", n->n, SCENARIO_ALERTS_MAX);
	/* Each rule keeps state for every device of the fleet. */
	if ((uint64_t)n->n * c->sc->fleet.n_devices > SCENARIO_ALERT_PAIRS_MAX)
		return fail(c, n, "alerts: %zu rules x %zu devices is more than %u rule and device "
			    "pairs: use fewer rules or a smaller fleet", n->n,
			    c->sc->fleet.n_devices, SCENARIO_ALERT_PAIRS_MAX);
	c->sc->alerts = scenario__alloc(&c->sc->arena, (n->n ? n->n : 1) * sizeof(*c->sc->alerts));
	if (!c->sc->alerts)
		return -ENOMEM;
	memset(c->sc->alerts, 0, (n->n ? n->n : 1) * sizeof(*c->sc->alerts));
	for (const struct ynode *it = n->first; it; it = it->next, i++) {
		if ((rc = parse_alert(c, it, i, &c->sc->alerts[i])) < 0)
			return rc;
		c->sc->n_alerts = i + 1;
	}
	return 0;
}

static int parse_root(struct ctx *c, const struct ynode *root)
{
	struct scenario *sc = c->sc;
	struct field f[] = { F("name"), F("description"), F("seed"), F("duration"),
			     F("fleet"), F("alerts"), F("steps") };
	char d[64];
	int rc;

	if (is_null(root))
		return scenario__error(c->err, c->file, (struct scenario_pos){ 1, 1 },
				       "the file is empty: a scenario needs fleet: (the "
				       "devices) and steps: (the timeline)");
	if (root->kind != YNODE_MAP)
		return fail(c, root, "a scenario is a mapping with fleet: and steps:, not %s",
			    describe(root, d, sizeof(d)));
	rc = get_fields(c, root, "the scenario", f, ARRAY_SIZE(f));
	if (rc < 0)
		return rc;
	if (f[0].k) {
		size_t len;

		rc = get_text(c, f[0].v, "name", &sc->name);
		if (rc < 0)
			return rc;
		len = strlen(sc->name);
		for (size_t i = 0; i < len; i++)
			if (!word_char(sc->name[i], true))
				len = 0;
		if (len == 0 || len > SCENARIO_NAME_MAX)
			return fail(c, f[0].v, "name: '%s' cannot name a run directory: use 1-%d "
				    "characters of A-Z a-z 0-9 _ . -", sc->name,
				    SCENARIO_NAME_MAX);
	} else if ((rc = default_name(c)) < 0) {
		return rc;
	}
	if (f[1].k && (rc = get_text(c, f[1].v, "description", &sc->description)) < 0)
		return rc;
	sc->seed = SCENARIO_SEED_DEFAULT;
	if (f[2].k) {
		rc = get_seed(c, f[2].v, &sc->seed);
		if (rc < 0)
			return rc;
		sc->seed_set = true;
	}
	if (f[3].k && (rc = get_duration(c, f[3].v, "duration", &sc->duration_ms)) < 0)
		return rc;
	/* The fleet first: targets in the steps are checked against it. */
	if (!f[4].k)
		return fail(c, root, "missing fleet: a scenario needs fleet: (the devices) and "
			    "steps: (the timeline)");
	rc = parse_fleet(c, f[4].v);
	if (rc < 0)
		return rc;
	if (!f[6].k)
		return fail(c, root, "missing steps: a scenario needs fleet: (the devices) and "
			    "steps: (the timeline)");
	/* Alerts before the steps: an expect names a rule. */
	if (f[5].k && (rc = parse_alerts(c, f[5].v)) < 0)
		return rc;
	rc = parse_steps(c, f[6].v, "steps", &sc->steps, &sc->n_steps);
	sc->n_steps_total = c->steps;
	return rc;
}

int scenario_parse_string(const char *name, const char *text, size_t len,
			  struct scenario *out, struct scenario_error *err)
{
	struct scenario_error scratch;
	struct scenario__arena *tree_arena = NULL;
	struct ynode *root = NULL;
	struct ctx c;
	int rc;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if (!out || (!text && len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!name)
		name = "<scenario>";
	if (!text)
		text = "";
	out->file = scenario__strndup(&out->arena, name, strlen(name));
	if (!out->file) {
		rc = -ENOMEM;
		goto out;
	}
	c = (struct ctx){ .sc = out, .err = err, .file = out->file, .work = CHECK_WORK_MAX };
	if (len > SCENARIO_FILE_MAX) {
		scenario__error(err, name, (struct scenario_pos){ 0, 0 },
				"larger than %u bytes: split the scenario", SCENARIO_FILE_MAX);
		rc = -EFBIG;
		goto out;
	}
	rc = scenario__tree_load(out->file, text, len, &tree_arena, &root, err);
	if (rc == 0)
		rc = parse_root(&c, root);
out:
	scenario__arena_free(&tree_arena);
	if (rc == -ENOMEM)
		scenario__error(err, name, (struct scenario_pos){ 0, 0 }, "out of memory");
	if (rc < 0)
		scenario_free(out);
	return rc;
}

int scenario_parse_file(const char *path, struct scenario *out, struct scenario_error *err)
{
	struct scenario_error scratch;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f = NULL;
	int rc;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if (!path || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		scenario__error(err, path, (struct scenario_pos){ 0, 0 }, "cannot open: %s",
				strerror(errno));
		goto out;
	}
	/* Read in chunks rather than trusting a size: pipes have none. */
	for (;;) {
		size_t got;

		if (len == cap) {
			char *more;

			if (cap > SCENARIO_FILE_MAX) {
				scenario__error(err, path, (struct scenario_pos){ 0, 0 },
						"larger than %u bytes: split the scenario",
						SCENARIO_FILE_MAX);
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			more = realloc(buf, cap);
			if (!more) {
				scenario__error(err, path, (struct scenario_pos){ 0, 0 },
						"out of memory");
				rc = -ENOMEM;
				goto out;
			}
			buf = more;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				rc = errno ? -errno : -EIO;
				scenario__error(err, path, (struct scenario_pos){ 0, 0 },
						"cannot read: %s", strerror(-rc));
				goto out;
			}
			break;
		}
	}
	rc = scenario_parse_string(path, buf, len, out, err);
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}
