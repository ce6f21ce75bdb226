/* Unit tests of the pure HC-SR04 echo-to-distance conversion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hcsr04.h"

static void test_hcsr04_decode_distance(void **state)
{
	uint32_t mm = 0;

	(void)state;
	/* 6997 us * 0.343 mm/us / 2 = 1199.99 mm. */
	assert_int_equal(hcsr04_decode(6997, &mm), 0);
	assert_int_equal(mm, 1200);
	/* 1 m: 2000 * 1000 / 343 = 5830.9 us. */
	assert_int_equal(hcsr04_decode(5831, &mm), 0);
	assert_int_equal(mm, 1000);
	assert_int_equal(hcsr04_decode(11662, &mm), 0);
	assert_int_equal(mm, 2000);
}

static void test_hcsr04_decode_rounds_to_nearest(void **state)
{
	uint32_t mm = 0;

	(void)state;
	/* 1000 us -> 171.5 mm, rounds half up. */
	assert_int_equal(hcsr04_decode(1000, &mm), 0);
	assert_int_equal(mm, 172);
	/* 999 us -> 171.33 mm. */
	assert_int_equal(hcsr04_decode(999, &mm), 0);
	assert_int_equal(mm, 171);
	/* 1003 us -> 172.01 mm. */
	assert_int_equal(hcsr04_decode(1003, &mm), 0);
	assert_int_equal(mm, 172);
}

static void test_hcsr04_decode_58us_per_cm(void **state)
{
	(void)state;
	/* The datasheet's rule of thumb: about 58 us per cm, within 1 %. */
	for (uint32_t cm = 2; cm <= 400; cm += 7) {
		uint32_t mm = 0;

		assert_int_equal(hcsr04_decode(cm * 58, &mm), 0);
		assert_in_range(mm, cm * 10 - cm / 10 - 1, cm * 10 + cm / 10 + 1);
	}
}

static void test_hcsr04_decode_lower_range(void **state)
{
	uint32_t mm = 4242;

	(void)state;
	/* 20 mm is the first valid distance: 117 us -> 20.07 mm. */
	assert_int_equal(hcsr04_decode(117, &mm), 0);
	assert_int_equal(mm, 20);
	mm = 4242;
	/* 110 us -> 18.9 mm rounds to 19 mm: below range. */
	assert_int_equal(hcsr04_decode(110, &mm), -ERANGE);
	assert_int_equal(mm, 4242);
	assert_int_equal(hcsr04_decode(0, &mm), -ERANGE);
	assert_int_equal(hcsr04_decode(1, &mm), -ERANGE);
	assert_int_equal(mm, 4242);
}

static void test_hcsr04_decode_upper_range(void **state)
{
	uint32_t mm = 4242;

	(void)state;
	/* 23323 us -> 3999.9 mm rounds to 4000: the last valid distance. */
	assert_int_equal(hcsr04_decode(23323, &mm), 0);
	assert_int_equal(mm, 4000);
	mm = 4242;
	/* 23330 us -> 4001.1 mm. */
	assert_int_equal(hcsr04_decode(23330, &mm), -ERANGE);
	assert_int_equal(hcsr04_decode(38000, &mm), -ERANGE);
	/* No overflow in the arithmetic for the widest possible echo. */
	assert_int_equal(hcsr04_decode(UINT32_MAX, &mm), -ERANGE);
	assert_int_equal(mm, 4242);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hcsr04_decode_distance),
		cmocka_unit_test(test_hcsr04_decode_rounds_to_nearest),
		cmocka_unit_test(test_hcsr04_decode_58us_per_cm),
		cmocka_unit_test(test_hcsr04_decode_lower_range),
		cmocka_unit_test(test_hcsr04_decode_upper_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
