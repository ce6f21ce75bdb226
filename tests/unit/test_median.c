/* Unit tests of the median filter over a ring of recent readings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "median.h"

static int32_t median_of(const struct median *m)
{
	int32_t v = INT32_MIN;

	assert_int_equal(median_get(m, &v), 0);
	return v;
}

static void test_median_empty(void **state)
{
	struct median m;
	int32_t v = 42;

	(void)state;
	median_init(&m, 3);
	assert_int_equal(median_get(&m, &v), -ENODATA);
	assert_int_equal(v, 42);
}

static void test_median_odd_count(void **state)
{
	struct median m;

	(void)state;
	median_init(&m, 5);
	median_push(&m, 7);
	assert_int_equal(median_of(&m), 7);
	median_push(&m, -3);
	median_push(&m, 1000);
	assert_int_equal(median_of(&m), 7);
	median_push(&m, 5);
	median_push(&m, 6);
	/* -3 5 6 7 1000 */
	assert_int_equal(median_of(&m), 6);
}

static void test_median_even_count(void **state)
{
	struct median m;

	(void)state;
	median_init(&m, 4);
	median_push(&m, 10);
	median_push(&m, 20);
	/* Lower middle. */
	assert_int_equal(median_of(&m), 10);
	median_push(&m, 40);
	median_push(&m, 30);
	/* 10 20 30 40 */
	assert_int_equal(median_of(&m), 20);
}

static void test_median_rejects_spike(void **state)
{
	struct median m;

	(void)state;
	median_init(&m, 3);
	median_push(&m, 225);
	median_push(&m, 9999);
	median_push(&m, 226);
	assert_int_equal(median_of(&m), 226);
	median_push(&m, INT32_MIN);
	assert_int_equal(median_of(&m), 226);
}

static void test_median_window_wrap(void **state)
{
	struct median m;

	(void)state;
	median_init(&m, 3);
	median_push(&m, 1);
	median_push(&m, 2);
	median_push(&m, 3);
	assert_int_equal(median_of(&m), 2);
	/* The oldest values leave the window. */
	median_push(&m, 100);
	median_push(&m, 101);
	assert_int_equal(m.count, 3);
	/* 3 100 101 */
	assert_int_equal(median_of(&m), 100);
	median_push(&m, 102);
	assert_int_equal(median_of(&m), 101);
	for (int32_t i = 0; i < 50; i++)
		median_push(&m, i);
	/* 47 48 49 */
	assert_int_equal(median_of(&m), 48);
}

static void test_median_window_of_one(void **state)
{
	struct median m;

	(void)state;
	median_init(&m, 1);
	median_push(&m, 5);
	median_push(&m, -8);
	assert_int_equal(median_of(&m), -8);
}

static void test_median_window_clamped(void **state)
{
	struct median m;

	(void)state;
	median_init(&m, 0);
	assert_int_equal(m.window, 1);
	median_init(&m, 200);
	assert_int_equal(m.window, ROBOT_MEDIAN_MAX);
	for (int32_t i = 0; i < 20; i++)
		median_push(&m, i);
	assert_int_equal(m.count, ROBOT_MEDIAN_MAX);
	/* 11..19 */
	assert_int_equal(median_of(&m), 15);
}

static void test_median_reset(void **state)
{
	struct median m;
	int32_t v;

	(void)state;
	median_init(&m, 3);
	median_push(&m, 1);
	median_push(&m, 2);
	median_reset(&m);
	assert_int_equal(median_get(&m, &v), -ENODATA);
	assert_int_equal(m.window, 3);
	/* Nothing from before the reset counts. */
	median_push(&m, 50);
	assert_int_equal(median_of(&m), 50);
	median_push(&m, 60);
	assert_int_equal(median_of(&m), 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median_empty),
		cmocka_unit_test(test_median_odd_count),
		cmocka_unit_test(test_median_even_count),
		cmocka_unit_test(test_median_rejects_spike),
		cmocka_unit_test(test_median_window_wrap),
		cmocka_unit_test(test_median_window_of_one),
		cmocka_unit_test(test_median_window_clamped),
		cmocka_unit_test(test_median_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
