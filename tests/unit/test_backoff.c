/* Unit tests of reconnect backoff: growth, cap, full jitter, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"

static void test_backoff_starts_at_base(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 500, 60000);
	assert_int_equal(b.attempt, 0);
	assert_int_equal(backoff_ceiling_ms(&b), 500);
}

static void test_backoff_ceiling_doubles_to_cap(void **state)
{
	static const uint32_t want[] = { 500, 1000, 2000, 4000, 8000, 16000, 32000,
					 60000, 60000, 60000 };
	struct backoff b;

	(void)state;
	backoff_init(&b, 500, 60000);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(backoff_ceiling_ms(&b), want[i]);
		backoff_next_ms(&b, 0);
		assert_int_equal(b.attempt, i + 1);
	}
}

static void test_backoff_huge_attempts(void **state)
{
	struct backoff b;

	(void)state;
	/* base * 2^attempt overflows any integer long before this. */
	backoff_init(&b, 500, 60000);
	b.attempt = 31;
	assert_int_equal(backoff_ceiling_ms(&b), 60000);
	b.attempt = 32;
	assert_int_equal(backoff_ceiling_ms(&b), 60000);
	b.attempt = 64;
	assert_int_equal(backoff_ceiling_ms(&b), 60000);
	b.attempt = UINT32_MAX;
	assert_int_equal(backoff_ceiling_ms(&b), 60000);
	/* The counter saturates instead of wrapping back to base. */
	assert_in_range(backoff_next_ms(&b, UINT32_MAX), 0, 60000);
	assert_int_equal(b.attempt, UINT32_MAX);
	assert_int_equal(backoff_ceiling_ms(&b), 60000);

	/* The largest cap there is. */
	backoff_init(&b, 3, UINT32_MAX);
	b.attempt = 40;
	assert_int_equal(backoff_ceiling_ms(&b), UINT32_MAX);
	assert_int_equal(backoff_next_ms(&b, UINT32_MAX), UINT32_MAX);
	b.attempt = 31;
	assert_int_equal(backoff_ceiling_ms(&b), UINT32_MAX); /* 3 * 2^31 does not fit */
	b.attempt = 30;
	assert_int_equal(backoff_ceiling_ms(&b), 3u << 30);
}

static void test_backoff_jitter_extremes(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 500, 60000);
	assert_int_equal(backoff_next_ms(&b, 0), 0);
	/* Second attempt: ceiling 1000. */
	assert_int_equal(backoff_next_ms(&b, UINT32_MAX), 1000);
	/* Third: ceiling 2000, the middle of the random range is about half. */
	assert_in_range(backoff_next_ms(&b, 0x80000000u), 999, 1001);
	for (int i = 0; i < 10; i++)
		backoff_next_ms(&b, 0);
	assert_int_equal(backoff_next_ms(&b, UINT32_MAX), 60000);
	assert_int_equal(backoff_next_ms(&b, 0), 0);
}

static void test_backoff_jitter_within_ceiling(void **state)
{
	uint32_t x = 0x9e3779b9u;
	uint32_t top = 0;
	struct backoff b;

	(void)state;
	backoff_init(&b, 100, 5000);
	for (int i = 0; i < 5000; i++) {
		uint32_t ceiling = backoff_ceiling_ms(&b);
		uint32_t d;

		/* xorshift32, fixed seed */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d = backoff_next_ms(&b, x);
		assert_in_range(d, 0, ceiling);
		if (d > top)
			top = d;
		if (i % 50 == 49)
			backoff_reset(&b);
	}
	/* Spread over the range, not stuck at one end. */
	assert_true(top > 4000);
}

static void test_backoff_reset(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 250, 8000);
	for (int i = 0; i < 6; i++)
		backoff_next_ms(&b, 12345);
	assert_int_equal(backoff_ceiling_ms(&b), 8000);
	backoff_reset(&b);
	assert_int_equal(b.attempt, 0);
	assert_int_equal(backoff_ceiling_ms(&b), 250);
	assert_int_equal(backoff_next_ms(&b, UINT32_MAX), 250);
	assert_int_equal(backoff_ceiling_ms(&b), 500);
}

static void test_backoff_cap_below_base(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 5000, 1000);
	assert_int_equal(b.cap_ms, 5000);
	assert_int_equal(backoff_ceiling_ms(&b), 5000);
	backoff_next_ms(&b, 0);
	backoff_next_ms(&b, 0);
	assert_int_equal(backoff_ceiling_ms(&b), 5000);
	assert_int_equal(backoff_next_ms(&b, UINT32_MAX), 5000);
}

static void test_backoff_cap_not_power_of_two(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 300, 1000);
	assert_int_equal(backoff_ceiling_ms(&b), 300);
	backoff_next_ms(&b, 0);
	assert_int_equal(backoff_ceiling_ms(&b), 600);
	backoff_next_ms(&b, 0);
	assert_int_equal(backoff_ceiling_ms(&b), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_starts_at_base),
		cmocka_unit_test(test_backoff_ceiling_doubles_to_cap),
		cmocka_unit_test(test_backoff_huge_attempts),
		cmocka_unit_test(test_backoff_jitter_extremes),
		cmocka_unit_test(test_backoff_jitter_within_ceiling),
		cmocka_unit_test(test_backoff_reset),
		cmocka_unit_test(test_backoff_cap_below_base),
		cmocka_unit_test(test_backoff_cap_not_power_of_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
