/* The scenario model's plumbing: its arena, error messages, names, checks. */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robot_config.h"
#include "scenario_internal.h"

/*
 * A scenario is many small pieces (strings, steps, targets) that all live
 * and die together, so they come from a list of blocks freed at once: no
 * piece can leak, whichever error path the parser takes.
 */
struct scenario__arena {
	struct scenario__arena *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK (64u * 1024u)
#define ARENA_ALIGN (alignof(max_align_t))

static struct scenario__arena *block_new(size_t size)
{
	struct scenario__arena *b;

	if (size > SIZE_MAX - sizeof(*b))
		return NULL;
	b = calloc(1, sizeof(*b) + size);
	if (b)
		b->size = size;
	return b;
}

void *scenario__alloc(struct scenario__arena **arena, size_t n)
{
	struct scenario__arena *head = *arena, *b;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (head && head->size - head->used >= n) {
		p = head->data + head->used;
		head->used += n;
		return p;
	}
	/* Big pieces get a block of their own behind the head, so the
	 * head's free space stays in use for the small ones. */
	if (n >= ARENA_BLOCK / 4 && head) {
		b = block_new(n);
		if (!b)
			return NULL;
		b->used = n;
		b->next = head->next;
		head->next = b;
		return b->data;
	}
	b = block_new(n > ARENA_BLOCK ? n : ARENA_BLOCK);
	if (!b)
		return NULL;
	b->used = n;
	b->next = head;
	*arena = b;
	return b->data;
}

char *scenario__strndup(struct scenario__arena **arena, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = scenario__alloc(arena, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void scenario__arena_free(struct scenario__arena **arena)
{
	struct scenario__arena *b = *arena;

	while (b) {
		struct scenario__arena *next = b->next;

		free(b);
		b = next;
	}
	*arena = NULL;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	scenario__arena_free(&sc->arena);
	memset(sc, 0, sizeof(*sc));
}

int scenario__error(struct scenario_error *err, const char *file, struct scenario_pos pos,
		    const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!err)
		return -EINVAL;
	err->pos = pos;
	if (file && pos.line)
		n = snprintf(err->message, sizeof(err->message), "%s:%u:%u: ", file,
			     (unsigned)pos.line, (unsigned)pos.col);
	else if (file)
		n = snprintf(err->message, sizeof(err->message), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(err->message))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
	va_end(ap);
	/* Messages quote the file; a quoted escape sequence must not reach
	 * the terminal that shows them. */
	for (char *p = err->message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

/* One rule for device ids everywhere: the firmware's, since they become its
 * MQTT client id and topic level. */
bool scenario_id_valid(const char *id)
{
	return robot_config_id_valid(id);
}

static int cmp_device(const void *key, const void *elem)
{
	return strcmp(key, ((const struct scenario_device *)elem)->id);
}

long scenario_device_find(const struct scenario *sc, const char *id)
{
	const struct scenario_device *d;

	if (!sc || !id || !sc->fleet.devices)
		return -ENOENT;
	d = bsearch(id, sc->fleet.devices, sc->fleet.n_devices, sizeof(*d), cmp_device);
	return d ? (long)(d - sc->fleet.devices) : -ENOENT;
}

bool scenario_cmp_holds(const struct scenario_cmp *c, double v)
{
	if (c->has_lo && (c->lo_open ? !(v > c->lo) : !(v >= c->lo)))
		return false;
	if (c->has_hi && (c->hi_open ? !(v < c->hi) : !(v <= c->hi)))
		return false;
	return true;
}

int scenario_cmp_format(const struct scenario_cmp *c, char *buf, size_t len)
{
	if (c->has_lo && c->has_hi && c->lo == c->hi && !c->lo_open && !c->hi_open)
		return snprintf(buf, len, "== %g", c->lo);
	if (c->has_lo && c->has_hi)
		return snprintf(buf, len, "%s %g and %s %g", c->lo_open ? ">" : ">=", c->lo,
				c->hi_open ? "<" : "<=", c->hi);
	if (c->has_lo)
		return snprintf(buf, len, "%s %g", c->lo_open ? ">" : ">=", c->lo);
	if (c->has_hi)
		return snprintf(buf, len, "%s %g", c->hi_open ? "<" : "<=", c->hi);
	return snprintf(buf, len, "any");
}

const char *const scenario__step_names[SCENARIO_STEP_KIND_COUNT] = {
	"wait", "set", "command", "broker", "expect", "repeat", "fault", "clear", "power",
};
const char *const scenario__metric_names[SCENARIO_METRIC_COUNT] = {
	"temperature", "humidity", "distance",
};
const char *const scenario__counter_names[SCENARIO_COUNTER_COUNT] = {
	"readings_ok", "readings_failed", "spikes_rejected", "published", "acknowledged",
	"buffered", "dropped", "redelivered", "publish_errors", "commands", "commands_invalid", "reconnects", "link_failures",
	"unpersisted", "http_refused",
};
const char *const scenario__power_names[] = { "cut", "restore", "cycle", "brownout" };
const char *const scenario__broker_names[] = { "stop", "start", "restart", "kill" };
const char *const scenario__security_names[SCENARIO_SECURITY_COUNT] = {
	[SCENARIO_SECURITY_NONE] = "none",
	[SCENARIO_SECURITY_TLS] = "tls",
	[SCENARIO_SECURITY_MUTUAL] = "mutual",
	[SCENARIO_SECURITY_PASSWORD] = "password",
};

const char *scenario_step_kind_name(enum scenario_step_kind k)
{
	return (unsigned)k < SCENARIO_STEP_KIND_COUNT ? scenario__step_names[k] : "?";
}

const char *scenario_metric_name(enum scenario_metric m)
{
	return (unsigned)m < SCENARIO_METRIC_COUNT ? scenario__metric_names[m] : "?";
}

const char *scenario_counter_name(enum scenario_counter c)
{
	return (unsigned)c < SCENARIO_COUNTER_COUNT ? scenario__counter_names[c] : "?";
}

/* The catalog's names and layers, under the scenario model's names. */
const char *scenario_fault_kind_name(enum scenario_fault_kind k)
{
	return fault_catalog_name((int)k);
}

/* The layer is the row's: a kind never lands in one by its place in the list. */
enum scenario_fault_layer scenario_fault_layer(enum scenario_fault_kind k)
{
	const struct fault_kind_def *d = fault_catalog_get((int)k);

	/* Out of range, like a name of "?": no layer is right, this one is harmless. */
	return d ? (enum scenario_fault_layer)d->layer : SCENARIO_LAYER_LINK;
}

const char *scenario_power_action_name(enum scenario_power_action a)
{
	return (unsigned)a <= SCENARIO_POWER_BROWNOUT ? scenario__power_names[a] : "?";
}

const char *scenario_fault_needs(enum scenario_fault_kind k, enum scenario_security m)
{
	switch (k) {
	case SCENARIO_FAULT_CERT_EXPIRED:
	case SCENARIO_FAULT_CERT_FOREIGN_CA:
		return m == SCENARIO_SECURITY_MUTUAL ? NULL : "security: mutual (device certificates)";
	case SCENARIO_FAULT_WRONG_PASSWORD:
		return m == SCENARIO_SECURITY_TLS || m == SCENARIO_SECURITY_PASSWORD ? NULL :
		       "security: tls or password (device passwords)";
	case SCENARIO_FAULT_IMPERSONATE:
		return m != SCENARIO_SECURITY_NONE ? NULL :
		       "a fleet security: other than none (device identities)";
	default:
		return NULL;
	}
}

const char *scenario_security_name(enum scenario_security m)
{
	return (unsigned)m < SCENARIO_SECURITY_COUNT ? scenario__security_names[m] : "?";
}

const char *const scenario__transport_names[SCENARIO_TRANSPORT_COUNT] = { "mqtt", "http" };

const char *scenario_transport_name(enum scenario_transport t)
{
	return (unsigned)t < SCENARIO_TRANSPORT_COUNT ? scenario__transport_names[t] : "?";
}

bool scenario_has_http(const struct scenario *sc)
{
	for (size_t g = 0; g < sc->fleet.n_groups; g++)
		if (sc->fleet.groups[g].transport == SCENARIO_TRANSPORT_HTTP)
			return true;
	return false;
}

const char *scenario_broker_action_name(enum scenario_broker_action a)
{
	return (unsigned)a <= SCENARIO_BROKER_KILL ? scenario__broker_names[a] : "?";
}

/* Levenshtein distance, good enough for keys of a few letters; longer
 * words are never worth suggesting, so they count as far apart. */
unsigned scenario__distance(const char *a, const char *b)
{
	enum { W = 32 };
	unsigned row[W + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > W || lb > W)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}
