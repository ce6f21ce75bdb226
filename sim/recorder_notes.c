/* The new readings of the recorder's open batch, handed on once the batch committed. */
#include <stdlib.h>
#include <string.h>

#include "recorder_notes.h"

struct recorder__note {
	struct recorder_reading_note n;
	char device_id[RECORDER_ID_MAX + 1];    /* n.device_id points here when handed on */
};

void recorder__notes_clear(struct recorder_notes *ns)
{
	ns->n = 0;
}

void recorder__notes_add(void *arg, const struct recorder_msg *m, const struct recorder_reading *r)
{
	struct recorder_notes *ns = arg;
	struct recorder__note *x;

	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 256;
		struct recorder__note *grown = realloc(ns->items, cap * sizeof(*grown));

		if (!grown) {
			ns->missed++;
			return;
		}
		ns->items = grown;
		ns->cap = cap;
	}
	x = &ns->items[ns->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->device_id, r->device_id, sizeof(x->device_id));
	x->n.boot = r->boot;
	x->n.seq = r->seq;
	x->n.has_timestamp = r->has_timestamp;
	x->n.timestamp_ms = r->timestamp_ms;
	x->n.recv_ms = m->recv_ms;
	x->n.has_temperature = r->has_temperature;
	x->n.has_humidity = r->has_humidity;
	x->n.has_distance = r->has_distance;
	x->n.temperature = r->temperature;
	x->n.humidity = r->humidity;
	x->n.distance = r->distance;
}

void recorder__notes_deliver(struct recorder_notes *ns,
			     void (*fn)(void *ctx, const struct recorder_reading_note *n), void *ctx)
{
	for (size_t i = 0; i < ns->n; i++) {
		ns->items[i].n.device_id = ns->items[i].device_id;
		fn(ctx, &ns->items[i].n);
	}
	ns->n = 0;
}

void recorder__notes_free(struct recorder_notes *ns)
{
	free(ns->items);
	memset(ns, 0, sizeof(*ns));
}
