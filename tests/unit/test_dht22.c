/* Unit tests of the pure DHT22 frame decoder, fed with made-up pulse timings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dht22.h"

/* Nominal datasheet widths: 26-28 us high is a zero, 70 us a one. */
#define ZERO_HIGH_US 27
#define ONE_HIGH_US 70
#define RESPONSE_US 80

static uint8_t checksum(const uint8_t b[4])
{
	return (uint8_t)(b[0] + b[1] + b[2] + b[3]);
}

/* A full, well-timed capture of the five @bytes, MSB first. */
static void make_capture(struct dht22_capture *cap, const uint8_t bytes[5])
{
	memset(cap, 0, sizeof(*cap));
	cap->response_low_us = RESPONSE_US;
	cap->response_high_us = RESPONSE_US;
	for (unsigned int i = 0; i < DHT22_FRAME_BITS; i++) {
		int one = bytes[i / 8] & (0x80 >> (i % 8));
		cap->high_us[i] = one ? ONE_HIGH_US : ZERO_HIGH_US;
	}
	cap->bits = DHT22_FRAME_BITS;
}

/* A capture of humidity and raw temperature words with a correct checksum. */
static void make_reading(struct dht22_capture *cap, uint16_t hum, uint16_t raw_temp)
{
	uint8_t b[5] = { (uint8_t)(hum >> 8), (uint8_t)hum,
			 (uint8_t)(raw_temp >> 8), (uint8_t)raw_temp, 0 };

	b[4] = checksum(b);
	make_capture(cap, b);
}

static void test_dht22_decode_good_frame(void **state)
{
	/* The datasheet's example: 65.2 %RH, 35.1 degC. */
	const uint8_t b[5] = { 0x02, 0x8c, 0x01, 0x5f, 0xee };
	struct dht22_capture cap;
	struct climate_sample s = { 0, 0 };

	(void)state;
	make_capture(&cap, b);
	assert_int_equal(dht22_decode(&cap, &s), 0);
	assert_int_equal(s.humidity_dpct, 652);
	assert_int_equal(s.temp_dc, 351);
}

static void test_dht22_decode_room_climate(void **state)
{
	struct dht22_capture cap;
	struct climate_sample s = { 0, 0 };

	(void)state;
	make_reading(&cap, 400, 225);
	assert_int_equal(dht22_decode(&cap, &s), 0);
	assert_int_equal(s.humidity_dpct, 400);
	assert_int_equal(s.temp_dc, 225);
}

static void test_dht22_decode_negative_temperature(void **state)
{
	struct dht22_capture cap;
	struct climate_sample s = { 0, 0 };

	(void)state;
	/* Sign-magnitude: bit 15 set, magnitude 101 -> -10.1 degC. */
	make_reading(&cap, 0, 0x8000 | 101);
	assert_int_equal(dht22_decode(&cap, &s), 0);
	assert_int_equal(s.temp_dc, -101);
	assert_int_equal(s.humidity_dpct, 0);

	/* The range ends are valid readings. */
	make_reading(&cap, 1000, 0x8000 | 400);
	assert_int_equal(dht22_decode(&cap, &s), 0);
	assert_int_equal(s.temp_dc, -400);
	assert_int_equal(s.humidity_dpct, 1000);

	make_reading(&cap, 1, 800);
	assert_int_equal(dht22_decode(&cap, &s), 0);
	assert_int_equal(s.temp_dc, 800);
}

static void test_dht22_decode_checksum_error(void **state)
{
	const uint8_t b[5] = { 0x02, 0x8c, 0x01, 0x5f, 0xef };
	struct dht22_capture cap;
	struct climate_sample s = { 7, 7 };

	(void)state;
	make_capture(&cap, b);
	assert_int_equal(dht22_decode(&cap, &s), -EBADMSG);
	/* A failed decode leaves the output alone. */
	assert_int_equal(s.temp_dc, 7);
	assert_int_equal(s.humidity_dpct, 7);

	/* One flipped data bit, checksum left as is. */
	make_reading(&cap, 400, 225);
	cap.high_us[15] = cap.high_us[15] == ONE_HIGH_US ? ZERO_HIGH_US : ONE_HIGH_US;
	assert_int_equal(dht22_decode(&cap, &s), -EBADMSG);
}

static void test_dht22_decode_short_frame(void **state)
{
	struct dht22_capture cap;
	struct climate_sample s;

	(void)state;
	make_reading(&cap, 400, 225);
	cap.bits = 39;
	assert_int_equal(dht22_decode(&cap, &s), -ETIMEDOUT);
	cap.bits = 20;
	assert_int_equal(dht22_decode(&cap, &s), -ETIMEDOUT);
	cap.bits = 0;
	assert_int_equal(dht22_decode(&cap, &s), -ETIMEDOUT);
}

static void test_dht22_decode_implausible_pulse(void **state)
{
	struct dht22_capture cap;
	struct climate_sample s;

	(void)state;
	/* A high pulse longer than any valid bit. */
	make_reading(&cap, 400, 225);
	cap.high_us[7] = 110;
	assert_int_equal(dht22_decode(&cap, &s), -EIO);

	/* A glitch far shorter than a zero. */
	make_reading(&cap, 400, 225);
	cap.high_us[39] = 2;
	assert_int_equal(dht22_decode(&cap, &s), -EIO);

	/* A response too short to be the sensor's 80 us. */
	make_reading(&cap, 400, 225);
	cap.response_low_us = 10;
	assert_int_equal(dht22_decode(&cap, &s), -EIO);
	make_reading(&cap, 400, 225);
	cap.response_high_us = 10;
	assert_int_equal(dht22_decode(&cap, &s), -EIO);
}

static void test_dht22_decode_pulse_threshold(void **state)
{
	struct dht22_capture cap;
	struct climate_sample s;

	(void)state;
	/* Widths either side of the zero/one split still decode the same bits. */
	make_reading(&cap, 400, 225);
	for (unsigned int i = 0; i < DHT22_FRAME_BITS; i++)
		cap.high_us[i] = cap.high_us[i] == ONE_HIGH_US ? 60 : 35;
	assert_int_equal(dht22_decode(&cap, &s), 0);
	assert_int_equal(s.humidity_dpct, 400);
	assert_int_equal(s.temp_dc, 225);
}

static void test_dht22_decode_out_of_range(void **state)
{
	struct dht22_capture cap;
	struct climate_sample s = { 7, 7 };

	(void)state;
	make_reading(&cap, 1001, 225); /* 100.1 %RH */
	assert_int_equal(dht22_decode(&cap, &s), -EIO);
	make_reading(&cap, 400, 801); /* 80.1 degC */
	assert_int_equal(dht22_decode(&cap, &s), -EIO);
	make_reading(&cap, 400, 0x8000 | 401); /* -40.1 degC */
	assert_int_equal(dht22_decode(&cap, &s), -EIO);
	make_reading(&cap, 0xffff, 0xffff);
	assert_int_equal(dht22_decode(&cap, &s), -EIO);
	assert_int_equal(s.temp_dc, 7);
	assert_int_equal(s.humidity_dpct, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dht22_decode_good_frame),
		cmocka_unit_test(test_dht22_decode_room_climate),
		cmocka_unit_test(test_dht22_decode_negative_temperature),
		cmocka_unit_test(test_dht22_decode_checksum_error),
		cmocka_unit_test(test_dht22_decode_short_frame),
		cmocka_unit_test(test_dht22_decode_implausible_pulse),
		cmocka_unit_test(test_dht22_decode_pulse_threshold),
		cmocka_unit_test(test_dht22_decode_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
