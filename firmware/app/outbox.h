/*
 * The outbox: every reading the robot takes waits here, in the storage HAL,
 * until the broker has acknowledged it (QoS 1 PUBACK). It survives link
 * outages, broker restarts and power cuts; after any of them the readings
 * go out again in order, with their original boot, seq and timestamp.
 *
 * Layout in storage: one key per ring slot, "ob_<n>" with
 * n = index % capacity, each record holding its absolute index; and
 * "ob_meta" holding the index of the oldest unacknowledged reading, the
 * lifetime count of readings dropped on overflow, and the capacity and key
 * set the ring was laid out with. The newest index is found at boot by
 * walking the ring from the oldest while the records' own indices follow
 * on, so a push costs one write and an acknowledgement one more, and the
 * store never holds more than capacity slots (plus, after a capacity
 * change, the previous layout's).
 *
 * A capacity change at boot copies the newest readings into the other key
 * set ("oc_<n>" <-> "ob_<n>") under the new capacity, then switches with
 * one meta write: a power cut during the copy leaves the old layout in
 * force and the copy starts again at the next boot.
 */
#ifndef APP_OUTBOX_H
#define APP_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

/* Largest capacity. */
#define OUTBOX_SLOTS 4096u
/* Publishes in flight (sent, not yet acknowledged) at most. */
#define OUTBOX_WINDOW 16u

/* One reading, as it will be encoded again when it is (re)sent. */
struct outbox_reading {
	uint32_t boot;
	uint32_t seq;
	int64_t timestamp_ms;
	bool has_timestamp;
	int16_t temp_dc;
	uint16_t humidity_dpct;
	uint32_t distance_mm;
	int16_t climate_err;        /* 0 or a negative errno */
	int16_t distance_err;
};

struct outbox_inflight {
	uint32_t index;
	uint32_t boot;              /* the reading's, so the oldest is known without a read */
	uint32_t seq;
	uint16_t msg_id;
	bool acked;
};

struct outbox {
	uint16_t capacity;
	uint8_t keys;               /* key set in use: 0 "ob_<n>", 1 "oc_<n>" */
	uint32_t tail;              /* oldest reading not acknowledged */
	uint32_t saved_tail;        /* the tail storage knows: its slot is never written over */
	uint32_t head;              /* where the next reading goes */
	uint32_t send;              /* next reading to publish, tail <= send <= head */
	uint32_t resend_below;      /* readings below this were published before */
	uint32_t dropped;           /* lifetime overflow drops, persisted */
	struct outbox_inflight inflight[OUTBOX_WINDOW]; /* oldest first */
	uint8_t n_inflight;
	/* The reading at tail, kept up to date as the tail moves (valid while
	 * head != tail), and the last one outbox_peek() handed out. */
	uint32_t oldest_boot;
	uint32_t oldest_seq;
	uint32_t peeked_index;
	uint32_t peeked_boot;
	uint32_t peeked_seq;
	uint32_t unreadable_counted_below; /* unreadable records below this were counted */
};

/*
 * Load the outbox from storage (or start an empty one) with room for
 * @capacity readings (1..OUTBOX_SLOTS). Returns 0, -EINVAL for a bad
 * capacity, or the storage error that made it unreadable (-EIO).
 */
int outbox_open(struct outbox *o, uint16_t capacity);

/*
 * Store @r. When full, the oldest reading is dropped first and counted.
 * Returns 0 or a negative storage errno (the reading is then not kept).
 */
int outbox_push(struct outbox *o, const struct outbox_reading *r);

/* Readings held, acknowledged or not. */
uint32_t outbox_count(const struct outbox *o);

/*
 * The oldest reading held: its boot and seq. Returns 0, or -ENOENT when
 * the outbox is empty. Costs no storage access.
 */
int outbox_oldest(const struct outbox *o, uint32_t *boot, uint32_t *seq);

/*
 * The next reading to publish, if the window allows one: fills @r and
 * *@index and returns 0; -EAGAIN when the window is full or nothing is
 * waiting; a storage errno when the record cannot be read (it is then
 * skipped and counted as dropped, so one bad record cannot wedge the box).
 */
int outbox_peek(struct outbox *o, struct outbox_reading *r, uint32_t *index);

/* The reading at @index went out as @msg_id. *@again: it had been sent before. */
void outbox_sent(struct outbox *o, uint32_t index, uint16_t msg_id, bool *again);

/*
 * PUBACK for @msg_id. Acknowledged readings leave the outbox in order.
 * Returns how many readings left (0 for an id that is not ours).
 */
unsigned int outbox_acked(struct outbox *o, uint16_t msg_id);

/* The session broke: whatever was in flight will be sent again. */
void outbox_rewind(struct outbox *o);

#endif /* APP_OUTBOX_H */
