/*
 * A batch's devices, boots and hourly rows, added up in memory so that
 * each is written once per batch rather than once per reading. Small hash
 * maps keyed by (device id, number): the boot, the hour, or 0. The keys
 * stay from batch to batch, with whether the record holds their row: then
 * an UPDATE does, where an upsert would first try an INSERT.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder_rollup.h"

#define HOUR_MS 3600000
/* Devices and boots kept beyond this are forgotten at a commit (and met
 * again as unknown: one upsert each), so that the maps stay bounded. */
#define KEYS_KEPT_MAX 65536

struct rkey {
	char id[RECORDER_ID_MAX + 1];
	int64_t k;
	uint32_t hash;
	bool dirty;             /* this batch changed it */
	bool stored;            /* a committed batch wrote its row */
};

/* Items of one size, each starting with its struct rkey, in the order added. */
struct rmap {
	unsigned char *items;
	size_t size;
	size_t n, cap;
	uint32_t *slots;        /* index + 1 of an item, 0: empty */
	size_t nslots;          /* a power of two, more than twice n */
	size_t *dirty;          /* items this batch changed, in the order met */
	size_t n_dirty, cap_dirty;
};

struct device_item {
	struct rkey key;
	struct recorder_device_delta d;      /* this batch's */
};

struct boot_item {
	struct rkey key;
	struct recorder_boot_delta b;        /* this batch's */
};

struct hour_item {
	struct rkey key;
	struct recorder_hour_row committed;  /* what the database holds */
	struct recorder_hour_row pending;    /* with this batch's readings */
};

struct recorder_rollup {
	struct rmap devices, boots, hours;
	int64_t newest_hour;
	int64_t swept_hour;     /* newest_hour at the last sweep of old hours */
};

/* FNV-1a: device ids are short, and the number tells boots and hours apart. */
static uint32_t key_hash(const char *id, int64_t k)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	for (int i = 0; i < 8; i++)
		h = (h ^ (uint32_t)((uint64_t)k >> (8 * i) & 0xff)) * 16777619u;
	return h;
}

static struct rkey *item_at(const struct rmap *m, size_t i)
{
	return (struct rkey *)(m->items + i * m->size);
}

static int rehash(struct rmap *m, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		size_t s = item_at(m, i)->hash & (nslots - 1);

		while (slots[s])
			s = (s + 1) & (nslots - 1);
		slots[s] = (uint32_t)(i + 1);
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	return 0;
}

static void *rmap_find(const struct rmap *m, const char *id, int64_t k, uint32_t hash)
{
	if (!m->nslots)
		return NULL;
	for (size_t s = hash & (m->nslots - 1); m->slots[s]; s = (s + 1) & (m->nslots - 1)) {
		struct rkey *key = item_at(m, m->slots[s] - 1);

		if (key->hash == hash && key->k == k && strcmp(key->id, id) == 0)
			return key;
	}
	return NULL;
}

/* A new item, zeroed but for its key; NULL without memory. The pointers
 * handed out before may move. */
static void *rmap_add(struct rmap *m, const char *id, int64_t k, uint32_t hash)
{
	struct rkey *key;
	size_t s;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		unsigned char *items = realloc(m->items, cap * m->size);

		if (!items)
			return NULL;
		m->items = items;
		m->cap = cap;
	}
	if ((m->n + 1) * 2 >= m->nslots && rehash(m, m->nslots ? m->nslots * 2 : 128) < 0)
		return NULL;
	key = item_at(m, m->n);
	memset(key, 0, m->size);
	memcpy(key->id, id, strnlen(id, RECORDER_ID_MAX));
	key->k = k;
	key->hash = hash;
	for (s = hash & (m->nslots - 1); m->slots[s]; s = (s + 1) & (m->nslots - 1))
		;
	m->slots[s] = (uint32_t)(++m->n);
	return key;
}

static void rmap_clear(struct rmap *m)
{
	m->n = 0;
	m->n_dirty = 0;
	if (m->slots)
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
}

static void rmap_free(struct rmap *m)
{
	free(m->items);
	free(m->slots);
	free(m->dirty);
	memset(m, 0, sizeof(*m));
}

/*
 * The item of (@id, @k), added when missing; *@first says whether this
 * batch meets it for the first time (its delta is then the caller's to
 * start). NULL without memory.
 */
static void *rmap_touch(struct rmap *m, const char *id, int64_t k, bool *first)
{
	uint32_t h = key_hash(id, k);
	struct rkey *key = rmap_find(m, id, k, h);

	if (!key && !(key = rmap_add(m, id, k, h)))
		return NULL;
	*first = !key->dirty;
	if (key->dirty)
		return key;
	if (m->n_dirty == m->cap_dirty) {
		size_t cap = m->cap_dirty ? m->cap_dirty * 2 : 64;
		size_t *grown = realloc(m->dirty, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		m->dirty = grown;
		m->cap_dirty = cap;
	}
	m->dirty[m->n_dirty++] = (size_t)(((unsigned char *)key - m->items) / m->size);
	key->dirty = true;
	return key;
}

/* The batch is over (committed when @stored): its items are clean again. */
static void rmap_settle(struct rmap *m, bool stored)
{
	for (size_t i = 0; i < m->n_dirty; i++) {
		struct rkey *key = item_at(m, m->dirty[i]);

		key->dirty = false;
		key->stored = key->stored || stored;
	}
	m->n_dirty = 0;
}

struct recorder_rollup *recorder__rollup_new(void)
{
	struct recorder_rollup *ru = calloc(1, sizeof(*ru));

	if (!ru)
		return NULL;
	ru->devices.size = sizeof(struct device_item);
	ru->boots.size = sizeof(struct boot_item);
	ru->hours.size = sizeof(struct hour_item);
	ru->newest_hour = ru->swept_hour = INT64_MIN;
	return ru;
}

void recorder__rollup_free(struct recorder_rollup *ru)
{
	if (!ru)
		return;
	rmap_free(&ru->devices);
	rmap_free(&ru->boots);
	rmap_free(&ru->hours);
	free(ru);
}

void recorder__rollup_begin(struct recorder_rollup *ru)
{
	rmap_settle(&ru->devices, false);
	rmap_settle(&ru->boots, false);
	rmap_settle(&ru->hours, false);
}

int recorder__rollup_device(struct recorder_rollup *ru, const char *device_id, int64_t ms,
			    int readings, int duplicates, int conflicts, int rejected)
{
	bool first;
	struct device_item *it = rmap_touch(&ru->devices, device_id, 0, &first);

	if (!it)
		return -ENOMEM;
	if (first) {
		memset(&it->d, 0, sizeof(it->d));
		it->d.first_ms = it->d.last_ms = ms;
	}
	if (ms < it->d.first_ms)
		it->d.first_ms = ms;
	if (ms > it->d.last_ms)
		it->d.last_ms = ms;
	it->d.readings += readings;
	it->d.duplicates += duplicates;
	it->d.conflicts += conflicts;
	it->d.rejected += rejected;
	return 0;
}

int recorder__rollup_boot(struct recorder_rollup *ru, const char *device_id, int64_t boot,
			  int reading, int duplicate, int conflict, int64_t seq, int64_t ms,
			  int64_t dropped)
{
	bool first;
	struct boot_item *it = rmap_touch(&ru->boots, device_id, boot, &first);

	if (!it)
		return -ENOMEM;
	if (first) {
		memset(&it->b, 0, sizeof(it->b));
		it->b.boot = boot;
		it->b.min_seq = it->b.max_seq = seq;
		it->b.first_ms = it->b.last_ms = ms;
		it->b.dropped = dropped;
	}
	it->b.readings += reading;
	it->b.duplicates += duplicate;
	it->b.conflicts += conflict;
	if (seq < it->b.min_seq)
		it->b.min_seq = seq;
	if (seq > it->b.max_seq)
		it->b.max_seq = seq;
	if (ms < it->b.first_ms)
		it->b.first_ms = ms;
	if (ms > it->b.last_ms)
		it->b.last_ms = ms;
	if (dropped > it->b.dropped)
		it->b.dropped = dropped;
	return 0;
}

/*
 * One reading into a row, as the upsert's SQL did it: n + 1; per metric
 * n + (value present), sum + coalesce(value, 0), and min()/max() that
 * keep the old extreme on a tie and ignore a missing value.
 */
static void hour_add(struct recorder_hour_row *row, const bool has[3], const double v[3])
{
	row->n++;
	for (int i = 0; i < 3; i++) {
		struct recorder_hour_metric *m = &row->m[i];

		m->n += has[i];
		m->sum = m->sum + (has[i] ? v[i] : 0.0);
		if (!has[i])
			continue;
		if (!m->has_range) {
			m->has_range = true;
			m->min = m->max = v[i];
		} else {
			if (v[i] < m->min)
				m->min = v[i];
			if (v[i] > m->max)
				m->max = v[i];
		}
	}
}

int recorder__rollup_hour(struct recorder_rollup *ru, const char *device_id, int64_t hour_ms,
			  const bool has[3], const double v[3], recorder__rollup_load_fn load,
			  void *load_arg)
{
	uint32_t h = key_hash(device_id, hour_ms);
	struct hour_item *it = rmap_find(&ru->hours, device_id, hour_ms, h);
	bool first;
	int rc;

	if (!it) {
		struct recorder_hour_row row = { .device_id = device_id, .hour_ms = hour_ms };

		if ((rc = load(load_arg, &row)) < 0)
			return rc;
		if (!(it = rmap_add(&ru->hours, device_id, hour_ms, h)))
			return -ENOMEM;
		it->committed = row;
		it->key.stored = row.stored;
	}
	if (!(it = rmap_touch(&ru->hours, device_id, hour_ms, &first)))
		return -ENOMEM;
	if (first)
		it->pending = it->committed;
	hour_add(&it->pending, has, v);
	if (hour_ms > ru->newest_hour)
		ru->newest_hour = hour_ms;
	return 0;
}

int recorder__rollup_write(struct recorder_rollup *ru, const struct recorder_rollup_writer *w,
			   void *arg)
{
	int rc;

	for (size_t i = 0; i < ru->devices.n_dirty; i++) {
		struct device_item *it = (struct device_item *)item_at(&ru->devices, ru->devices.dirty[i]);

		it->d.device_id = it->key.id;
		it->d.stored = it->key.stored;
		if ((rc = w->device(arg, &it->d)) < 0)
			return rc;
	}
	for (size_t i = 0; i < ru->boots.n_dirty; i++) {
		struct boot_item *it = (struct boot_item *)item_at(&ru->boots, ru->boots.dirty[i]);

		it->b.device_id = it->key.id;
		it->b.stored = it->key.stored;
		if ((rc = w->boot(arg, &it->b)) < 0)
			return rc;
	}
	for (size_t i = 0; i < ru->hours.n_dirty; i++) {
		struct hour_item *it = (struct hour_item *)item_at(&ru->hours, ru->hours.dirty[i]);

		it->pending.device_id = it->key.id;
		it->pending.hour_ms = it->key.k;
		it->pending.stored = it->key.stored;
		if ((rc = w->hour(arg, &it->pending)) < 0)
			return rc;
	}
	return 0;
}

/* Forget the hours before the previous one: readings are stamped by the
 * receive clock, so they do not come back (and would be read again if). */
static void sweep_hours(struct recorder_rollup *ru)
{
	struct rmap *m = &ru->hours;
	size_t kept = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct rkey *key = item_at(m, i);

		if (key->k < ru->newest_hour - HOUR_MS)
			continue;
		if (kept != i)
			memcpy(item_at(m, kept), key, m->size);
		kept++;
	}
	if (kept == m->n)
		return;
	m->n = kept;
	/* Fewer items than slots already: the rebuild cannot fail for want of
	 * a larger table, only for memory; then the old slots are unusable. */
	if (rehash(m, m->nslots) < 0) {
		m->n = 0;
		rmap_clear(m);
	}
}

void recorder__rollup_committed(struct recorder_rollup *ru)
{
	for (size_t i = 0; i < ru->hours.n_dirty; i++) {
		struct hour_item *it = (struct hour_item *)item_at(&ru->hours, ru->hours.dirty[i]);

		it->committed = it->pending;
		it->committed.stored = true;
	}
	rmap_settle(&ru->devices, true);
	rmap_settle(&ru->boots, true);
	rmap_settle(&ru->hours, true);
	if (ru->devices.n > KEYS_KEPT_MAX)
		rmap_clear(&ru->devices);
	if (ru->boots.n > KEYS_KEPT_MAX)
		rmap_clear(&ru->boots);
	if (ru->newest_hour > ru->swept_hour) {
		sweep_hours(ru);
		ru->swept_hour = ru->newest_hour;
	}
}

size_t recorder__rollup_hours_kept(const struct recorder_rollup *ru)
{
	return ru->hours.n;
}
