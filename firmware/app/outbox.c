/* The outbox: readings in storage until the broker acknowledges them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal_storage.h"
#include "outbox.h"

#define META_KEY "ob_meta"
#define META_MAGIC 0x3258424fu  /* "OBX2" little-endian */
#define META_LEN 16
/* The first layout: 12 bytes, every ring 4096 slots of "ob_<n>". */
#define META_MAGIC_V1 0x3158424fu  /* "OBX1" */
#define META_LEN_V1 12
#define RECORD_LEN 32

/* ---- little-endian fields ------------------------------------------------ */

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	put_u16(p, (uint16_t)v);
	put_u16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)get_u16(p) | (uint32_t)get_u16(p + 2) << 16;
}

/*
 * Record: index u32 | boot u32 | seq u32 | timestamp_ms i64 | temp_dc i16 |
 * humidity_dpct u16 | distance_mm u32 | climate_err i8 | distance_err i8 |
 * flags u8 (bit 0: has timestamp) | 0
 */
static void encode(uint8_t b[RECORD_LEN], uint32_t index, const struct outbox_reading *r)
{
	memset(b, 0, RECORD_LEN);
	put_u32(b, index);
	put_u32(b + 4, r->boot);
	put_u32(b + 8, r->seq);
	put_u32(b + 12, (uint32_t)(uint64_t)r->timestamp_ms);
	put_u32(b + 16, (uint32_t)((uint64_t)r->timestamp_ms >> 32));
	put_u16(b + 20, (uint16_t)r->temp_dc);
	put_u16(b + 22, r->humidity_dpct);
	put_u32(b + 24, r->distance_mm);
	/* errno values are small: they fit a signed byte. */
	b[28] = (uint8_t)(int8_t)r->climate_err;
	b[29] = (uint8_t)(int8_t)r->distance_err;
	b[30] = r->has_timestamp ? 1u : 0u;
}

static uint32_t decode(const uint8_t b[RECORD_LEN], struct outbox_reading *r)
{
	r->boot = get_u32(b + 4);
	r->seq = get_u32(b + 8);
	r->timestamp_ms = (int64_t)((uint64_t)get_u32(b + 12) | (uint64_t)get_u32(b + 16) << 32);
	r->temp_dc = (int16_t)get_u16(b + 20);
	r->humidity_dpct = get_u16(b + 22);
	r->distance_mm = get_u32(b + 24);
	r->climate_err = (int8_t)b[28];
	r->distance_err = (int8_t)b[29];
	r->has_timestamp = b[30] & 1u;
	return get_u32(b);
}

static void slot_key(uint8_t keys, uint16_t capacity, uint32_t index,
		     char key[HAL_STORAGE_KEY_MAX + 1])
{
	snprintf(key, HAL_STORAGE_KEY_MAX + 1, "%s_%u", keys ? "oc" : "ob",
		 (unsigned)(index % capacity));
}

/* Read the record of @index; -ENOENT when its slot holds another lap's. */
static int read_slot(uint8_t keys, uint16_t capacity, uint32_t index, struct outbox_reading *r)
{
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint8_t b[RECORD_LEN];
	size_t len = 0;
	int rc;

	slot_key(keys, capacity, index, key);
	rc = hal_storage_read(key, b, sizeof(b), &len);
	if (rc < 0)
		return rc;
	if (len != RECORD_LEN)
		return -EIO;
	return decode(b, r) == index ? 0 : -ENOENT;
}

static int save_meta(const struct outbox *o)
{
	uint8_t b[META_LEN];

	put_u32(b, META_MAGIC);
	put_u32(b + 4, o->tail);
	put_u32(b + 8, o->dropped);
	put_u16(b + 12, o->capacity);
	b[14] = o->keys;
	b[15] = 0;
	return hal_storage_write(META_KEY, b, sizeof(b));
}

/* Save the meta; on success storage knows the current tail. */
static int persist_tail(struct outbox *o)
{
	int rc = save_meta(o);

	if (rc == 0)
		o->saved_tail = o->tail;
	return rc;
}

/*
 * Lay the ring out again for @capacity: copy the newest readings (those
 * that fit) into the other key set, then switch to it with the meta write.
 */
static int relayout(struct outbox *o, uint16_t capacity)
{
	uint8_t keys = (uint8_t)!o->keys;
	uint32_t keep = o->head - o->tail < capacity ? o->head - o->tail : capacity;
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint8_t b[RECORD_LEN];
	int rc;

	for (uint32_t i = o->head - keep; i != o->head; i++) {
		struct outbox_reading r;

		if ((rc = read_slot(o->keys, o->capacity, i, &r)) < 0)
			return rc == -ENOENT ? -EIO : rc;
		encode(b, i, &r);
		slot_key(keys, capacity, i, key);
		if ((rc = hal_storage_write(key, b, sizeof(b))) < 0)
			return rc;
	}
	o->dropped += o->head - o->tail - keep;
	o->tail = o->head - keep;
	o->capacity = capacity;
	o->keys = keys;
	return save_meta(o);
}

/* ---- the ring ---------------------------------------------------------------- */

static void learn_oldest(struct outbox *o);

int outbox_open(struct outbox *o, uint16_t capacity)
{
	uint8_t b[META_LEN];
	size_t len = 0;
	struct outbox_reading r;
	int rc;

	if (capacity == 0 || capacity > OUTBOX_SLOTS)
		return -EINVAL;
	memset(o, 0, sizeof(*o));
	o->capacity = capacity;
	rc = hal_storage_read(META_KEY, b, sizeof(b), &len);
	if (rc == 0 && len == META_LEN && get_u32(b) == META_MAGIC &&
	    get_u16(b + 12) >= 1 && get_u16(b + 12) <= OUTBOX_SLOTS && b[14] <= 1) {
		o->tail = get_u32(b + 4);
		o->dropped = get_u32(b + 8);
		o->capacity = get_u16(b + 12);
		o->keys = b[14];
	} else if (rc == 0 && len == META_LEN_V1 && get_u32(b) == META_MAGIC_V1) {
		o->tail = get_u32(b + 4);
		o->dropped = get_u32(b + 8);
		o->capacity = OUTBOX_SLOTS;
	} else if (rc == 0 || rc == -EOVERFLOW) {
		return -EIO;
	} else if (rc != -ENOENT) {
		return rc;
	} else if ((rc = save_meta(o)) < 0) {
		/* A new outbox: record its layout before the first slot, so a
		 * later boot with another capacity finds the readings. */
		return rc;
	}
	/* The newest reading is the last of an unbroken run of indices. */
	o->head = o->tail;
	while (o->head - o->tail < o->capacity &&
	       read_slot(o->keys, o->capacity, o->head, &r) == 0) {
		if (o->head == o->tail) {
			o->oldest_boot = r.boot;
			o->oldest_seq = r.seq;
		}
		o->head++;
	}
	if (o->capacity != capacity) {
		if ((rc = relayout(o, capacity)) < 0)
			return rc;
		learn_oldest(o);
	}
	o->saved_tail = o->tail;
	o->send = o->tail;
	/* Whatever is here may have gone out before the last power cut. */
	o->resend_below = o->head;
	return 0;
}

uint32_t outbox_count(const struct outbox *o)
{
	return o->head - o->tail;
}

int outbox_oldest(const struct outbox *o, uint32_t *boot, uint32_t *seq)
{
	if (o->head == o->tail)
		return -ENOENT;
	*boot = o->oldest_boot;
	*seq = o->oldest_seq;
	return 0;
}

/*
 * The tail moved: learn the reading now at it. It is usually in flight
 * (sent, so its numbers are known); otherwise, after an overflow drop or
 * an unreadable record, one storage read. A failed read leaves the old
 * numbers, which only makes the oldest look older than it is.
 */
static void learn_oldest(struct outbox *o)
{
	struct outbox_reading r;

	if (o->head == o->tail)
		return;
	for (unsigned int i = 0; i < o->n_inflight; i++) {
		/* seq 0: an unreadable record's place holder, numbers unknown. */
		if (o->inflight[i].index == o->tail && o->inflight[i].seq != 0) {
			o->oldest_boot = o->inflight[i].boot;
			o->oldest_seq = o->inflight[i].seq;
			return;
		}
	}
	if (read_slot(o->keys, o->capacity, o->tail, &r) == 0) {
		o->oldest_boot = r.boot;
		o->oldest_seq = r.seq;
	}
}

/* Move the tail over acknowledged readings at the front; persist it. */
static unsigned int advance(struct outbox *o)
{
	unsigned int n = 0;

	while (o->n_inflight > 0 && o->inflight[0].acked) {
		if (o->inflight[0].index == o->tail) {
			o->tail++;
			n++;
		}
		o->n_inflight--;
		memmove(&o->inflight[0], &o->inflight[1], o->n_inflight * sizeof(o->inflight[0]));
	}
	/* If the write fails the tail is still right in RAM; after a power cut
	 * the old one only means a few readings are sent twice. */
	if (n > 0) {
		learn_oldest(o);
		(void)persist_tail(o);
	}
	return n;
}

int outbox_push(struct outbox *o, const struct outbox_reading *r)
{
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint8_t b[RECORD_LEN];
	int rc;

	/*
	 * Never write over the slot of the tail storage knows (a meta write
	 * that failed after an acknowledgement): at the next boot that slot is
	 * where the outbox starts, and another lap's record there would make
	 * it look empty.
	 */
	if (o->head - o->saved_tail >= o->capacity && o->saved_tail != o->tail &&
	    (rc = persist_tail(o)) < 0)
		return rc;
	if (o->head - o->tail >= o->capacity) {
		/* Full: the oldest goes, counted, so that the newest can stay.
		 * Storage learns the new tail first; if it cannot, nothing
		 * changes and the new reading is the one refused. */
		uint32_t old_tail = o->tail;

		o->tail++;
		o->dropped++;
		if ((rc = persist_tail(o)) < 0) {
			o->tail--;
			o->dropped--;
			return rc;
		}
		if (o->n_inflight > 0 && o->inflight[0].index == old_tail) {
			o->n_inflight--;
			memmove(&o->inflight[0], &o->inflight[1],
				o->n_inflight * sizeof(o->inflight[0]));
		}
		if (o->send < o->tail)
			o->send = o->tail;
		/* An unreadable record may now be first: let it go too. */
		advance(o);
		learn_oldest(o);
	}
	encode(b, o->head, r);
	slot_key(o->keys, o->capacity, o->head, key);
	if ((rc = hal_storage_write(key, b, sizeof(b))) < 0)
		return rc;
	if (o->head == o->tail) {
		o->oldest_boot = r->boot;
		o->oldest_seq = r->seq;
	}
	o->head++;
	return 0;
}

int outbox_peek(struct outbox *o, struct outbox_reading *r, uint32_t *index)
{
	int rc;

	if (o->send == o->head || o->n_inflight == OUTBOX_WINDOW)
		return -EAGAIN;
	rc = read_slot(o->keys, o->capacity, o->send, r);
	if (rc < 0) {
		/* Unreadable: count it lost (once, though a reconnect brings the
		 * send position back over it) and let the ring move past it. */
		o->inflight[o->n_inflight++] = (struct outbox_inflight){ .index = o->send, .acked = true };
		if (o->send >= o->unreadable_counted_below) {
			o->dropped++;
			o->unreadable_counted_below = o->send + 1;
		}
		o->send++;
		advance(o);
		return rc;
	}
	*index = o->send;
	o->peeked_index = o->send;
	o->peeked_boot = r->boot;
	o->peeked_seq = r->seq;
	return 0;
}

void outbox_sent(struct outbox *o, uint32_t index, uint16_t msg_id, bool *again)
{
	*again = index < o->resend_below;
	if (o->n_inflight == OUTBOX_WINDOW)
		return;
	o->inflight[o->n_inflight++] = (struct outbox_inflight){
		.index = index,
		.boot = index == o->peeked_index ? o->peeked_boot : 0,
		.seq = index == o->peeked_index ? o->peeked_seq : 0,
		.msg_id = msg_id,
	};
	o->send = index + 1;
}

unsigned int outbox_acked(struct outbox *o, uint16_t msg_id)
{
	for (unsigned int i = 0; i < o->n_inflight; i++) {
		if (!o->inflight[i].acked && o->inflight[i].msg_id == msg_id && msg_id != 0) {
			o->inflight[i].acked = true;
			return advance(o);
		}
	}
	return 0;
}

void outbox_rewind(struct outbox *o)
{
	if (o->send > o->resend_below)
		o->resend_below = o->send;
	o->n_inflight = 0;
	o->send = o->tail;
}
