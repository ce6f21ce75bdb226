/*
 * The outbox against an in-memory hal_storage: a "reboot" throws away every
 * bit of RAM state and opens the outbox again from what storage holds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hal_storage.h"
#include "outbox.h"

/* ---- fake flash ------------------------------------------------------------ */

#define KEYS 5000
static struct { char key[HAL_STORAGE_KEY_MAX + 1]; uint8_t val[64]; size_t len; } flash[KEYS];
static size_t n_keys;
static unsigned int writes;
static int fail_writes;      /* this many next writes fail with -EIO */
static int power_left = -1;  /* writes until the power fails (-1: never) */

static int find(const char *key)
{
	for (size_t i = 0; i < n_keys; i++)
		if (strcmp(flash[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* The fake stands in for the board: the firmware links against it. */
int hal_storage_read(const char *key, void *buf, size_t cap, size_t *len)
{
	int i = find(key);

	if (i < 0)
		return -ENOENT;
	*len = flash[i].len;
	if (cap < flash[i].len)
		return -EOVERFLOW;
	memcpy(buf, flash[i].val, flash[i].len);
	return 0;
}

int hal_storage_write(const char *key, const void *buf, size_t len)
{
	int i = find(key);

	if (fail_writes > 0) {
		fail_writes--;
		return -EIO;
	}
	if (power_left == 0)
		return -EIO;
	if (power_left > 0)
		power_left--;
	assert_true(len <= sizeof(flash[0].val));
	if (i < 0) {
		assert_true(n_keys < KEYS);
		i = (int)n_keys++;
		snprintf(flash[i].key, sizeof(flash[i].key), "%s", key);
	}
	memcpy(flash[i].val, buf, len);
	flash[i].len = len;
	writes++;
	return 0;
}

static int wipe(void **state)
{
	(void)state;
	memset(flash, 0, sizeof(flash));
	n_keys = 0;
	writes = 0;
	fail_writes = 0;
	power_left = -1;
	return 0;
}

static struct outbox_reading reading(uint32_t boot, uint32_t seq)
{
	struct outbox_reading r;

	memset(&r, 0, sizeof(r));
	r.boot = boot;
	r.seq = seq;
	r.has_timestamp = true;
	r.timestamp_ms = 1795540000000ll + seq * 1000ll;
	r.temp_dc = (int16_t)(200 + seq);
	r.humidity_dpct = 450;
	r.distance_mm = 1200;
	r.distance_err = seq % 5 == 0 ? -ETIMEDOUT : 0;
	return r;
}

/* Send everything the window allows; returns how many went, their seqs in @seqs. */
static unsigned int send_all(struct outbox *o, uint16_t *next_mid, uint32_t *seqs,
			     uint16_t *mids, bool *again)
{
	unsigned int n = 0;
	struct outbox_reading r;
	uint32_t index;

	while (outbox_peek(o, &r, &index) == 0) {
		mids[n] = (*next_mid)++;
		seqs[n] = r.seq;
		outbox_sent(o, index, mids[n], &again[n]);
		n++;
	}
	return n;
}

static void test_outbox_delivers_in_order_and_removes_on_puback(void **state)
{
	struct outbox o;
	uint32_t seqs[OUTBOX_WINDOW];
	uint16_t mids[OUTBOX_WINDOW], mid = 1;
	bool again[OUTBOX_WINDOW];
	unsigned int n;

	(void)state;
	assert_int_equal(outbox_open(&o, 100), 0);
	for (uint32_t s = 1; s <= 20; s++)
		assert_int_equal(outbox_push(&o, &(struct outbox_reading){ .boot = 1, .seq = s }), 0);
	assert_int_equal(outbox_count(&o), 20);
	/* The window holds the first 16; nothing more until a PUBACK. */
	n = send_all(&o, &mid, seqs, mids, again);
	assert_int_equal(n, OUTBOX_WINDOW);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(seqs[i], i + 1);
		assert_false(again[i]);
	}
	/* PUBACKs out of order: nothing leaves until the oldest is in. */
	assert_int_equal(outbox_acked(&o, mids[2]), 0);
	assert_int_equal(outbox_acked(&o, mids[1]), 0);
	assert_int_equal(outbox_count(&o), 20);
	assert_int_equal(outbox_acked(&o, mids[0]), 3);
	assert_int_equal(outbox_count(&o), 17);
	/* A stranger's id and a repeated PUBACK change nothing. */
	assert_int_equal(outbox_acked(&o, 999), 0);
	assert_int_equal(outbox_acked(&o, mids[0]), 0);
	/* Room in the window: the next ones go, still in order. */
	n = send_all(&o, &mid, seqs, mids, again);
	assert_int_equal(n, 3);
	assert_int_equal(seqs[0], 17);
	assert_int_equal(seqs[2], 19);
}

static void test_outbox_resends_everything_unacknowledged_after_a_reconnect(void **state)
{
	struct outbox o;
	uint32_t seqs[OUTBOX_WINDOW];
	uint16_t mids[OUTBOX_WINDOW], mid = 1;
	bool again[OUTBOX_WINDOW];
	unsigned int n;

	(void)state;
	assert_int_equal(outbox_open(&o, 100), 0);
	for (uint32_t s = 1; s <= 5; s++)
		assert_int_equal(outbox_push(&o, &(struct outbox_reading){ .boot = 1, .seq = s }), 0);
	n = send_all(&o, &mid, seqs, mids, again);
	assert_int_equal(n, 5);
	assert_int_equal(outbox_acked(&o, mids[0]), 1);
	assert_int_equal(outbox_acked(&o, mids[3]), 0); /* acked, but behind 2 and 3 */
	/* The session breaks: 2..5 go again, marked as sent before. */
	outbox_rewind(&o);
	n = send_all(&o, &mid, seqs, mids, again);
	assert_int_equal(n, 4);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(seqs[i], i + 2);
		assert_true(again[i]);
	}
	/* A reading taken after the break is new. */
	assert_int_equal(outbox_push(&o, &(struct outbox_reading){ .boot = 1, .seq = 6 }), 0);
	n = send_all(&o, &mid, seqs, mids, again);
	assert_int_equal(n, 1);
	assert_false(again[0]);
	/* Old-session ids are forgotten: only the new ones count. */
	for (unsigned int i = 0; i < 5; i++)
		outbox_acked(&o, (uint16_t)(i + 1));
	assert_int_equal(outbox_count(&o), 5);
	for (uint16_t m = 6; m <= 10; m++)
		outbox_acked(&o, m);
	assert_int_equal(outbox_count(&o), 0);
}

static void test_outbox_survives_a_reboot(void **state)
{
	struct outbox o;
	struct outbox_reading r, want = reading(3, 41);
	uint32_t index, seqs[OUTBOX_WINDOW];
	uint16_t mids[OUTBOX_WINDOW], mid = 1;
	bool again[OUTBOX_WINDOW];

	(void)state;
	assert_int_equal(outbox_open(&o, 50), 0);
	for (uint32_t s = 40; s <= 45; s++) {
		r = reading(3, s);
		assert_int_equal(outbox_push(&o, &r), 0);
	}
	assert_int_equal(send_all(&o, &mid, seqs, mids, again), 6);
	assert_int_equal(outbox_acked(&o, mids[0]), 1); /* seq 40 delivered */
	/* Power cut: RAM gone. */
	memset(&o, 0xa5, sizeof(o));
	assert_int_equal(outbox_open(&o, 50), 0);
	assert_int_equal(outbox_count(&o), 5);
	assert_int_equal(outbox_peek(&o, &r, &index), 0);
	/* Every field as it was taken: boot, seq, time, values, errors. */
	assert_int_equal(r.boot, want.boot);
	assert_int_equal(r.seq, want.seq);
	assert_true(r.has_timestamp);
	assert_true(r.timestamp_ms == want.timestamp_ms);
	assert_int_equal(r.temp_dc, want.temp_dc);
	assert_int_equal(r.humidity_dpct, want.humidity_dpct);
	assert_int_equal(r.distance_mm, want.distance_mm);
	assert_int_equal(r.climate_err, 0);
	r = reading(3, 45);
	assert_int_equal(r.distance_err, -ETIMEDOUT);
	/* Sent before the cut (maybe): they count as redeliveries now. */
	outbox_sent(&o, index, 7, &again[0]);
	assert_true(again[0]);
}

static void test_outbox_wraps_around_the_ring(void **state)
{
	struct outbox o;
	struct outbox_reading r;
	uint32_t index;
	uint16_t mid = 1;
	bool again;
	uint32_t next_seq = 1, expect_seq = 1;

	(void)state;
	assert_int_equal(outbox_open(&o, 8), 0);
	/* Past the 4096 storage slots twice, a few readings at a time. */
	for (int round = 0; round < 3000; round++) {
		for (int k = 0; k < 3; k++) {
			r = reading(1, next_seq++);
			assert_int_equal(outbox_push(&o, &r), 0);
		}
		while (outbox_peek(&o, &r, &index) == 0) {
			assert_int_equal(r.seq, expect_seq);
			expect_seq++;
			outbox_sent(&o, index, mid, &again);
			assert_int_equal(outbox_acked(&o, mid), 1);
			mid = (uint16_t)(mid % 65535 + 1);
		}
		if (round == 1500) {
			/* A reboot mid-lap finds the ring where it was. */
			assert_int_equal(outbox_open(&o, 8), 0);
			assert_int_equal(outbox_count(&o), 0);
		}
	}
	assert_int_equal(expect_seq, next_seq);
	assert_int_equal(o.dropped, 0);
	/* The storage holds one key per slot, never more. */
	assert_true(n_keys <= OUTBOX_SLOTS + 1);
}

static void test_outbox_overflow_drops_the_oldest_and_counts(void **state)
{
	struct outbox o;
	struct outbox_reading r;
	uint32_t index;

	(void)state;
	assert_int_equal(outbox_open(&o, 10), 0);
	for (uint32_t s = 1; s <= 25; s++) {
		r = reading(2, s);
		assert_int_equal(outbox_push(&o, &r), 0);
	}
	assert_int_equal(outbox_count(&o), 10);
	assert_int_equal(o.dropped, 15);
	assert_int_equal(outbox_peek(&o, &r, &index), 0);
	assert_int_equal(r.seq, 16); /* the newest ten are kept */
	/* The count survives a reboot, and a smaller capacity drops more. */
	assert_int_equal(outbox_open(&o, 4), 0);
	assert_int_equal(outbox_count(&o), 4);
	assert_int_equal(o.dropped, 21);
	assert_int_equal(outbox_peek(&o, &r, &index), 0);
	assert_int_equal(r.seq, 22);
}

/* Every reading from @first to @last, in order, nothing else. */
static void expect_seqs(struct outbox *o, uint32_t first, uint32_t last)
{
	uint32_t seqs[OUTBOX_WINDOW];
	uint16_t mids[OUTBOX_WINDOW], mid = 100;
	bool again[OUTBOX_WINDOW];
	uint32_t want = first;
	unsigned int n;

	assert_int_equal(outbox_count(o), last - first + 1);
	while ((n = send_all(o, &mid, seqs, mids, again)) > 0) {
		for (unsigned int i = 0; i < n; i++)
			assert_int_equal(seqs[i], want++);
		for (unsigned int i = 0; i < n; i++)
			outbox_acked(o, mids[i]);
	}
	assert_int_equal(want, last + 1);
	assert_int_equal(outbox_count(o), 0);
}

static void push_seqs(struct outbox *o, uint32_t first, uint32_t last)
{
	for (uint32_t s = first; s <= last; s++) {
		struct outbox_reading r = reading(1, s);
		assert_int_equal(outbox_push(o, &r), 0);
	}
}

/* The oldest reading held is known at every step, with no storage read. */
static void expect_oldest(const struct outbox *o, uint32_t boot, uint32_t seq)
{
	uint32_t b = 0, s = 0;

	assert_int_equal(outbox_oldest(o, &b, &s), 0);
	assert_int_equal(b, boot);
	assert_int_equal(s, seq);
}

static void test_outbox_knows_its_oldest_reading(void **state)
{
	struct outbox o;
	struct outbox_reading r;
	uint32_t seqs[OUTBOX_WINDOW], b, s;
	uint16_t mids[OUTBOX_WINDOW], mid = 1;
	bool again[OUTBOX_WINDOW];
	unsigned int n;

	(void)state;
	assert_int_equal(outbox_open(&o, 10), 0);
	assert_int_equal(outbox_oldest(&o, &b, &s), -ENOENT);
	for (uint32_t q = 1; q <= 6; q++) {
		r = reading(3, q);
		assert_int_equal(outbox_push(&o, &r), 0);
	}
	expect_oldest(&o, 3, 1);
	/* Acknowledged from the front: the oldest follows. */
	n = send_all(&o, &mid, seqs, mids, again);
	assert_int_equal(n, 6);
	assert_int_equal(outbox_acked(&o, mids[0]), 1);
	assert_int_equal(outbox_acked(&o, mids[1]), 1);
	expect_oldest(&o, 3, 3);
	/* A reboot finds it again from storage, in another boot's numbers. */
	assert_int_equal(outbox_open(&o, 10), 0);
	expect_oldest(&o, 3, 3);
	for (uint32_t q = 1; q <= 10; q++) {
		r = reading(4, q);
		assert_int_equal(outbox_push(&o, &r), 0);
	}
	/* Overflow dropped boot 3's four readings, then boot 4's first. */
	assert_int_equal(o.dropped, 4);
	expect_oldest(&o, 4, 1);
	r = reading(4, 11);
	assert_int_equal(outbox_push(&o, &r), 0);
	assert_int_equal(o.dropped, 5);
	expect_oldest(&o, 4, 2);
	/* Everything acknowledged: empty again. */
	while ((n = send_all(&o, &mid, seqs, mids, again)) > 0)
		for (unsigned int i = 0; i < n; i++)
			outbox_acked(&o, mids[i]);
	assert_int_equal(outbox_count(&o), 0);
	assert_int_equal(outbox_oldest(&o, &b, &s), -ENOENT);
}

/* A meta write that fails after an acknowledgement must not cost the box at the next boot. */
static void test_outbox_failed_meta_write_then_reboot_keeps_readings(void **state)
{
	struct outbox o;
	uint32_t seqs[OUTBOX_WINDOW];
	uint16_t mids[OUTBOX_WINDOW], mid = 1;
	bool again[OUTBOX_WINDOW];

	(void)state;
	assert_int_equal(outbox_open(&o, 4), 0);
	push_seqs(&o, 1, 4);
	assert_int_equal(send_all(&o, &mid, seqs, mids, again), 4);
	fail_writes = 1;                    /* the meta write of this PUBACK */
	assert_int_equal(outbox_acked(&o, mids[0]), 1);
	/* The next push would reuse the slot storage still calls the tail:
	 * the meta is written first. */
	push_seqs(&o, 5, 5);
	assert_int_equal(outbox_count(&o), 4);
	assert_int_equal(outbox_open(&o, 4), 0);
	expect_seqs(&o, 2, 5);
}

/* Full, and the flash refuses the meta write: the box keeps what it has, the new reading is refused. */
static void test_outbox_overflow_when_storage_fails_keeps_the_box(void **state)
{
	struct outbox o;
	struct outbox_reading r = reading(1, 5);

	(void)state;
	assert_int_equal(outbox_open(&o, 4), 0);
	push_seqs(&o, 1, 4);
	fail_writes = 1;
	assert_int_equal(outbox_push(&o, &r), -EIO);
	assert_int_equal(o.dropped, 0);
	assert_int_equal(outbox_count(&o), 4);
	assert_int_equal(outbox_open(&o, 4), 0);
	assert_int_equal(o.dropped, 0);
	expect_seqs(&o, 1, 4);
}

/* Make the record of @index unreadable, as a damaged flash would. */
static void damage_slot(uint32_t index, uint16_t capacity)
{
	char key[HAL_STORAGE_KEY_MAX + 1];
	int i;

	snprintf(key, sizeof(key), "ob_%u", (unsigned)(index % capacity));
	i = find(key);
	assert_true(i >= 0);
	flash[i].len = 5;
}

/* An unreadable record is counted once, though a reconnect sends the box again. */
static void test_outbox_unreadable_record_counted_once(void **state)
{
	struct outbox o;
	uint32_t seqs[OUTBOX_WINDOW];
	uint16_t mids[OUTBOX_WINDOW], mid = 1;
	bool again[OUTBOX_WINDOW];

	(void)state;
	assert_int_equal(outbox_open(&o, 10), 0);
	push_seqs(&o, 1, 4);
	damage_slot(1, 10);                 /* seq 2 */
	/* A peek stops at the unreadable record once, then goes past it. */
	assert_int_equal(send_all(&o, &mid, seqs, mids, again), 1);
	assert_int_equal(send_all(&o, &mid, seqs, mids, again), 2);
	assert_int_equal(o.dropped, 1);
	for (int i = 0; i < 3; i++) {
		outbox_rewind(&o);
		assert_int_equal(send_all(&o, &mid, seqs, mids, again), 1);
		assert_int_equal(send_all(&o, &mid, seqs, mids, again), 2);
	}
	assert_int_equal(o.dropped, 1);
}

/* An overflow drop in front of an unreadable record: the oldest reported is a real reading. */
static void test_outbox_oldest_after_a_drop_before_an_unreadable_record(void **state)
{
	struct outbox o;
	struct outbox_reading r;
	uint32_t seqs[OUTBOX_WINDOW], boot = 0, seq = 0;
	uint16_t mids[OUTBOX_WINDOW], mid = 1;
	bool again[OUTBOX_WINDOW];

	(void)state;
	assert_int_equal(outbox_open(&o, 4), 0);
	push_seqs(&o, 1, 4);
	damage_slot(1, 4);                  /* seq 2 */
	assert_int_equal(send_all(&o, &mid, seqs, mids, again), 1);
	assert_int_equal(send_all(&o, &mid, seqs, mids, again), 2);
	r = reading(1, 5);
	assert_int_equal(outbox_push(&o, &r), 0);
	/* seq 1 dropped by the overflow, the unreadable seq 2 let go with it. */
	assert_int_equal(outbox_oldest(&o, &boot, &seq), 0);
	assert_int_equal(boot, 1);
	assert_int_equal(seq, 3);
	assert_int_equal(outbox_count(&o), 3);
}

static void test_outbox_uses_capacity_slots_only(void **state)
{
	struct outbox o;

	(void)state;
	assert_int_equal(outbox_open(&o, 8), 0);
	for (uint32_t s = 1; s <= 1000; s += 5) {
		push_seqs(&o, s, s + 4);
		expect_seqs(&o, s, s + 4);
	}
	/* Eight slots and the meta key: the store does not grow with time. */
	assert_int_equal(n_keys, 8 + 1);
}

static void test_outbox_capacity_change_keeps_what_fits(void **state)
{
	struct outbox o;

	(void)state;
	assert_int_equal(outbox_open(&o, 10), 0);
	push_seqs(&o, 1, 7);
	/* Reboot with room for more: all seven stay, and more fit. */
	assert_int_equal(outbox_open(&o, 20), 0);
	assert_int_equal(outbox_count(&o), 7);
	push_seqs(&o, 8, 20);
	assert_int_equal(o.dropped, 0);
	/* Reboot with less room: the newest five stay, fifteen are counted. */
	assert_int_equal(outbox_open(&o, 5), 0);
	assert_int_equal(o.dropped, 15);
	assert_int_equal(outbox_open(&o, 5), 0);
	assert_int_equal(o.dropped, 15);
	expect_seqs(&o, 16, 20);
	/* And it carries on under the new layout. */
	push_seqs(&o, 21, 30);
	assert_int_equal(o.dropped, 20);
	assert_int_equal(outbox_open(&o, 5), 0);
	expect_seqs(&o, 26, 30);
}

static void test_outbox_power_cut_during_a_capacity_change(void **state)
{
	struct outbox o;

	(void)state;
	assert_int_equal(outbox_open(&o, 10), 0);
	push_seqs(&o, 1, 8);
	for (int cut = 0; cut <= 4; cut++) {
		/* The copy into the new layout (4 slots, then the meta) stops
		 * part-way ... */
		power_left = cut;
		assert_int_equal(outbox_open(&o, 4), -EIO);
		power_left = -1;
		/* ... and the old layout still holds everything. */
		assert_int_equal(outbox_open(&o, 10), 0);
		assert_int_equal(outbox_count(&o), 8);
	}
	power_left = -1;
	assert_int_equal(outbox_open(&o, 4), 0);
	assert_int_equal(o.dropped, 4);
	expect_seqs(&o, 5, 8);
}

static void test_outbox_reads_the_first_layout(void **state)
{
	struct outbox o;
	/* "OBX1", tail 2, dropped 9: every ring was 4096 slots of "ob_<n>". */
	static const uint8_t v1[12] = { 'O', 'B', 'X', '1', 2, 0, 0, 0, 9, 0, 0, 0 };

	(void)state;
	assert_int_equal(outbox_open(&o, OUTBOX_SLOTS), 0);
	push_seqs(&o, 1, 6);
	assert_int_equal(hal_storage_write("ob_meta", v1, sizeof(v1)), 0);
	assert_int_equal(outbox_open(&o, 600), 0);
	assert_int_equal(o.dropped, 9);
	expect_seqs(&o, 3, 6);
}

static void test_outbox_storage_errors_are_reported_not_hidden(void **state)
{
	struct outbox o;
	struct outbox_reading r = reading(1, 1);

	(void)state;
	assert_int_equal(outbox_open(&o, 0), -EINVAL);
	assert_int_equal(outbox_open(&o, OUTBOX_SLOTS + 1), -EINVAL);
	assert_int_equal(outbox_open(&o, 10), 0);
	writes = 0; /* the new outbox's layout */
	fail_writes = 1;
	assert_int_equal(outbox_push(&o, &r), -EIO);
	assert_int_equal(outbox_count(&o), 0);
	assert_int_equal(outbox_push(&o, &r), 0);
	assert_int_equal(outbox_count(&o), 1);
	/* One write per reading while nothing is acknowledged. */
	assert_int_equal(writes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_outbox_delivers_in_order_and_removes_on_puback, wipe),
		cmocka_unit_test_setup(test_outbox_resends_everything_unacknowledged_after_a_reconnect, wipe),
		cmocka_unit_test_setup(test_outbox_survives_a_reboot, wipe),
		cmocka_unit_test_setup(test_outbox_wraps_around_the_ring, wipe),
		cmocka_unit_test_setup(test_outbox_overflow_drops_the_oldest_and_counts, wipe),
		cmocka_unit_test_setup(test_outbox_storage_errors_are_reported_not_hidden, wipe),
		cmocka_unit_test_setup(test_outbox_uses_capacity_slots_only, wipe),
		cmocka_unit_test_setup(test_outbox_capacity_change_keeps_what_fits, wipe),
		cmocka_unit_test_setup(test_outbox_power_cut_during_a_capacity_change, wipe),
		cmocka_unit_test_setup(test_outbox_reads_the_first_layout, wipe),
		cmocka_unit_test_setup(test_outbox_knows_its_oldest_reading, wipe),
		cmocka_unit_test_setup(test_outbox_failed_meta_write_then_reboot_keeps_readings, wipe),
		cmocka_unit_test_setup(test_outbox_overflow_when_storage_fails_keeps_the_box, wipe),
		cmocka_unit_test_setup(test_outbox_unreadable_record_counted_once, wipe),
		cmocka_unit_test_setup(test_outbox_oldest_after_a_drop_before_an_unreadable_record, wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
