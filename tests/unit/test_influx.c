/* Unit tests for the live InfluxDB feed's parts: URL checking, 1.x and 2.x requests, the bounded batch and its counts. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "influx_batch.h"
#include "influx_line.h"
#include "influx_url.h"

static void test_url_accepts(void **state)
{
	struct influx_url u;
	char why[128];

	(void)state;
	assert_int_equal(influx_url_parse("http://127.0.0.1:8086", &u, why, sizeof(why)), 0);
	assert_false(u.https);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8086);
	assert_string_equal(u.prefix, "");
	assert_int_equal(influx_url_parse("https://influx.example/", &u, why, sizeof(why)), 0);
	assert_true(u.https);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.prefix, "");
	assert_int_equal(influx_url_parse("http://localhost", &u, why, sizeof(why)), 0);
	assert_int_equal(u.port, 80);
	assert_int_equal(influx_url_parse("http://[::1]:9999/influx//", &u, why, sizeof(why)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9999);
	assert_string_equal(u.prefix, "/influx");
}

static void test_url_refuses(void **state)
{
	static const char *const bad[] = {
		"", "127.0.0.1:8086", "ftp://h", "http://", "http://:8086", "http://h:0",
		"http://h:65536", "http://h:123456", "http://h:", "http://h:80x", "http://u:p@h",
		"http://h/write?db=x", "http://h/#frag", "http://h/a b", "http://[::1", "http://[]:80",
		"http://h%20:80", "HTTP//h",
	};
	struct influx_url u;
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(influx_url_parse(bad[i], &u, why, sizeof(why)), -EINVAL);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(influx_url_parse(NULL, &u, why, sizeof(why)), -EINVAL);
}

static void test_request_1x(void **state)
{
	struct influx_url u;
	char url[600], auth[200], why[128];

	(void)state;
	assert_int_equal(influx_url_parse("http://127.0.0.1:8086/base", &u, why, sizeof(why)), 0);
	assert_int_equal(influx_url_write_request(&u, &(struct influx_target){ .db = "robofleet" },
						  url, sizeof(url), auth, sizeof(auth)), 0);
	assert_string_equal(url, "http://127.0.0.1:8086/base/write?db=robofleet&precision=ms");
	assert_string_equal(auth, "");
	/* Names are percent-encoded: a name cannot add a query parameter. */
	assert_int_equal(influx_url_write_request(&u, &(struct influx_target){ .db = "a b&c=d" },
						  url, sizeof(url), auth, sizeof(auth)), 0);
	assert_string_equal(url, "http://127.0.0.1:8086/base/write?db=a%20b%26c%3Dd&precision=ms");
	assert_int_equal(influx_url_write_request(&u, &(struct influx_target){ .db = "" },
						  url, sizeof(url), auth, sizeof(auth)), -EINVAL);
	assert_int_equal(influx_url_ping(&u, url, sizeof(url)), 0);
	assert_string_equal(url, "http://127.0.0.1:8086/base/ping");
	assert_int_equal(influx_url_write_request(&u, &(struct influx_target){ .db = "robofleet" },
						  url, 20, auth, sizeof(auth)), -ENAMETOOLONG);
}

static void test_request_2x(void **state)
{
	struct influx_url u;
	char url[600], auth[200], why[128];
	struct influx_target t = { .db = "ignored", .org = "my org", .bucket = "fleet", .token = "s3cr3t==" };

	(void)state;
	assert_int_equal(influx_url_parse("https://[::1]:8443", &u, why, sizeof(why)), 0);
	assert_int_equal(influx_url_write_request(&u, &t, url, sizeof(url), auth, sizeof(auth)), 0);
	assert_string_equal(url, "https://[::1]:8443/api/v2/write?org=my%20org&bucket=fleet&precision=ms");
	assert_string_equal(auth, "Authorization: Token s3cr3t==");
	/* All three or none. */
	t.token = NULL;
	assert_int_equal(influx_url_write_request(&u, &t, url, sizeof(url), auth, sizeof(auth)), -EINVAL);
	t.token = "x\r\nX-Evil: 1";
	assert_int_equal(influx_url_write_request(&u, &t, url, sizeof(url), auth, sizeof(auth)), -EINVAL);
	t.token = "t";
	t.bucket = "";
	assert_int_equal(influx_url_write_request(&u, &t, url, sizeof(url), auth, sizeof(auth)), -EINVAL);
}

static struct record_export_row reading(const char *id, int metrics, int64_t ms)
{
	struct record_export_row r = { .recv_ms = ms + 5, .has_ts = true, .ts_ms = ms, .boot = 1,
				       .seq = 7, .device_id = id };

	for (int m = 0; m < metrics && m < RECORD_METRIC_COUNT; m++) {
		r.has[m] = true;
		r.value[m] = 20.5 + m;
	}
	return r;
}

static void test_line_encoding(void **state)
{
	struct record_export_row r = reading("robot 1,a=b", 3, 1700000000123);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	r.has[1] = false; /* a failed sensor: no point */
	assert_int_equal(influx_line_points(&r), 2);
	assert_int_equal(influx_line_write(f, &r, true), 2);
	assert_int_equal(influx_line_write(f, &r, false), 2);
	fclose(f);
	assert_string_equal(buf,
		"temperature,device=robot\\ 1\\,a\\=b value=20.5,boot=1i,seq=7i 1700000000123\n"
		"distance,device=robot\\ 1\\,a\\=b value=22.5,boot=1i,seq=7i 1700000000123\n"
		"temperature,device=robot\\ 1\\,a\\=b value=20.5,boot=1i,seq=7i 1700000000123000000\n"
		"distance,device=robot\\ 1\\,a\\=b value=22.5,boot=1i,seq=7i 1700000000123000000\n");
	free(buf);
}

static void test_batch_bound_and_counts(void **state)
{
	struct influx_batch b;
	struct record_export_row r = reading("robot_001", 3, 1000);
	const char *body;
	size_t len;

	(void)state;
	assert_int_equal(influx_batch_init(&b, 0), -EINVAL);
	influx_batch_free(&b);
	assert_int_equal(influx_batch_init(&b, 7), 0);
	assert_int_equal(influx_batch_body(&b, &body, &len), 0);
	assert_null(body);
	assert_int_equal(influx_batch_add(&b, &r), 0);
	assert_int_equal(influx_batch_add(&b, &r), 0);
	assert_int_equal(b.points, 6);
	/* The bound: the third reading does not fit and is not taken. */
	assert_int_equal(influx_batch_add(&b, &r), -ENOBUFS);
	assert_int_equal(b.points, 6);
	r = reading("robot_001", 1, 2000);
	assert_int_equal(influx_batch_add(&b, &r), 0);
	assert_int_equal(b.points, 7);
	assert_int_equal(influx_batch_body(&b, &body, &len), 0);
	assert_non_null(body);
	assert_int_equal(len, strlen(body));
	assert_int_equal(influx_batch_done(&b, true), 0);
	assert_int_equal(b.written, 7);
	assert_int_equal(b.points, 0);
	assert_int_equal(influx_batch_body(&b, &body, &len), 0);
	assert_null(body);

	/* A failed batch: its points are dropped, the batch counted. */
	r = reading("robot_002", 3, 3000);
	assert_int_equal(influx_batch_add(&b, &r), 0);
	assert_int_equal(influx_batch_done(&b, false), 0);
	assert_int_equal(b.dropped, 3);
	assert_int_equal(b.failed_batches, 1);
	/* An empty batch that "fails" is no failed batch. */
	assert_int_equal(influx_batch_done(&b, false), 0);
	assert_int_equal(b.failed_batches, 1);
	/* Past the deadline: counted without being taken. */
	influx_batch_drop(&b, &r);
	assert_int_equal(b.dropped, 6);
	assert_int_equal(b.written, 7);
	influx_batch_free(&b);

	/* A reading larger than the whole bound cannot ever be sent. */
	assert_int_equal(influx_batch_init(&b, 2), 0);
	assert_int_equal(influx_batch_add(&b, &r), 0);
	assert_int_equal(b.points, 0);
	assert_int_equal(b.dropped, 3);
	influx_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_accepts),
		cmocka_unit_test(test_url_refuses),
		cmocka_unit_test(test_request_1x),
		cmocka_unit_test(test_request_2x),
		cmocka_unit_test(test_line_encoding),
		cmocka_unit_test(test_batch_bound_and_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
