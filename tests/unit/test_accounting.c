/* Accounting to the end against a made-up record: every reading taken is recorded, buffered, dropped or lost. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "accounting.h"

/* The record: which (boot, seq) it holds, boots 1..4, seqs 1..200. */
static bool held[5][201];

static int64_t count_held(void *ctx, uint32_t boot, uint32_t from, uint32_t to)
{
	int64_t n = 0;

	(void)ctx;
	if (boot > 4)
		return -EINVAL;
	for (uint32_t s = from; s <= to && s <= 200; s++)
		n += held[boot][s];
	return n;
}

static void hold(uint32_t boot, uint32_t from, uint32_t to)
{
	for (uint32_t s = from; s <= to; s++)
		held[boot][s] = true;
}

static int reset(void **state)
{
	(void)state;
	memset(held, 0, sizeof(held));
	return 0;
}

static struct accounting_result settle(struct accounting_device *d)
{
	struct accounting_result r;

	assert_int_equal(accounting_settle(d, count_held, NULL, &r), 0);
	/* The identity the whole module is for. */
	assert_int_equal(r.taken, r.recorded + r.buffered + r.dropped + r.lost);
	return r;
}

static void test_accounting_everything_recorded(void **state)
{
	struct accounting_device d = { 0 };
	struct accounting_result r;

	(void)state;
	assert_int_equal(accounting_note_boot(&d, 1, 50), 0);
	hold(1, 1, 50);
	r = settle(&d);
	assert_int_equal(r.taken, 50);
	assert_int_equal(r.recorded, 50);
	assert_int_equal(r.lost, 0);
	accounting_device_free(&d);
}

/* The disk-full run: the broker acknowledged the last readings, the record never got them. */
static void test_accounting_tail_loss_is_counted(void **state)
{
	struct accounting_device d = { 0 };
	struct accounting_result r;

	(void)state;
	accounting_note_boot(&d, 1, 60);
	hold(1, 1, 40);
	r = settle(&d);
	assert_int_equal(r.recorded, 40);
	assert_int_equal(r.lost, 20);
	accounting_device_free(&d);
}

static void test_accounting_outbox_holds_the_tail(void **state)
{
	struct accounting_device d = { .buffered = 15, .oldest_boot = 1, .oldest_seq = 46 };
	struct accounting_result r;

	(void)state;
	accounting_note_boot(&d, 1, 60);
	hold(1, 1, 45);
	/* Two of the buffered were stored before their PUBACK came back. */
	hold(1, 46, 47);
	r = settle(&d);
	assert_int_equal(r.taken, 60);
	assert_int_equal(r.recorded, 47);
	assert_int_equal(r.buffered, 13);
	assert_int_equal(r.lost, 0);
	accounting_device_free(&d);
}

static void test_accounting_gaps_across_boots(void **state)
{
	struct accounting_device d = { .buffered = 5, .oldest_boot = 3, .oldest_seq = 8 };
	struct accounting_result r;

	(void)state;
	/* Boots noted out of order, one twice with a later word. */
	accounting_note_boot(&d, 2, 30);
	accounting_note_boot(&d, 1, 20);
	accounting_note_boot(&d, 3, 10);
	accounting_note_boot(&d, 3, 12);
	accounting_note_boot(&d, 2, 25);
	assert_int_equal(d.n_boots, 3);
	assert_int_equal(d.boots[0].boot, 1);
	assert_int_equal(d.boots[1].last_seq, 30);
	assert_int_equal(d.boots[2].last_seq, 12);
	hold(1, 1, 20);
	hold(2, 1, 9);
	hold(2, 11, 30);   /* boot 2 seq 10 is missing */
	hold(3, 1, 6);     /* boot 3 seq 7 is missing; 8..12 buffered */
	r = settle(&d);
	assert_int_equal(r.taken, 62);
	assert_int_equal(r.recorded, 55);
	assert_int_equal(r.buffered, 5);
	assert_int_equal(r.lost, 2);
	accounting_device_free(&d);
}

static void test_accounting_overflow_drops_explain_missing_readings(void **state)
{
	struct accounting_device d = { .buffered = 10, .oldest_boot = 1, .oldest_seq = 91, .dropped = 30 };
	struct accounting_result r;

	(void)state;
	accounting_note_boot(&d, 1, 100);
	/* 1..50 delivered before the outage, 51..80 dropped by the full
	 * outbox, 81..90 delivered, 91..100 still waiting. */
	hold(1, 1, 50);
	hold(1, 81, 90);
	r = settle(&d);
	assert_int_equal(r.dropped, 30);
	assert_int_equal(r.lost, 0);
	/* Drops never hide more than they are. */
	d.dropped = 25;
	r = settle(&d);
	assert_int_equal(r.dropped, 25);
	assert_int_equal(r.lost, 5);
	accounting_device_free(&d);
}

/* Readings the flash refused sit between kept ones; unsent, they are lost. */
static void test_accounting_refused_readings_are_not_buffered(void **state)
{
	struct accounting_device d = { .buffered = 8, .oldest_boot = 1, .oldest_seq = 31 };
	struct accounting_result r;

	(void)state;
	accounting_note_boot(&d, 1, 40);
	/* 1..30 delivered; 31..40 taken offline, 33 and 36 refused by the
	 * flash (never kept, never sent): the outbox holds eight. */
	hold(1, 1, 30);
	r = settle(&d);
	assert_int_equal(r.buffered, 8);
	assert_int_equal(r.lost, 2);
	accounting_device_free(&d);
}

static void test_accounting_device_that_never_reported(void **state)
{
	struct accounting_device d = { 0 };
	struct accounting_result r;

	(void)state;
	assert_int_equal(accounting_note_boot(&d, 0, 0), 0);
	assert_int_equal(d.n_boots, 0);
	r = settle(&d);
	assert_int_equal(r.taken, 0);
	assert_int_equal(r.lost, 0);
	accounting_device_free(&d);
}

static void test_accounting_record_errors_pass_through(void **state)
{
	struct accounting_device d = { 0 };
	struct accounting_result r;

	(void)state;
	accounting_note_boot(&d, 7, 3);
	assert_int_equal(accounting_settle(&d, count_held, NULL, &r), -EINVAL);
	accounting_device_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_accounting_everything_recorded, reset),
		cmocka_unit_test_setup(test_accounting_tail_loss_is_counted, reset),
		cmocka_unit_test_setup(test_accounting_outbox_holds_the_tail, reset),
		cmocka_unit_test_setup(test_accounting_gaps_across_boots, reset),
		cmocka_unit_test_setup(test_accounting_overflow_drops_explain_missing_readings, reset),
		cmocka_unit_test_setup(test_accounting_refused_readings_are_not_buffered, reset),
		cmocka_unit_test_setup(test_accounting_device_that_never_reported, reset),
		cmocka_unit_test_setup(test_accounting_record_errors_pass_through, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
