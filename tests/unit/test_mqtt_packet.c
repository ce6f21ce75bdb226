/* The MQTT 3.1.1 codec against byte sequences worked out by hand from the spec. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt_packet.h"

#define FILL 0xaa

/* An encoder at exactly its length succeeds; one byte short it must leave the buffer alone. */
#define CHECK_TIGHT(want, call_with_cap)                                                  \
	do {                                                                              \
		uint8_t t_[sizeof(want) + 8];                                             \
		memset(t_, FILL, sizeof(t_));                                             \
		{                                                                         \
			uint8_t *buf = t_;                                                \
			size_t cap = sizeof(want) - 1;                                    \
			assert_int_equal(call_with_cap, -EMSGSIZE);                       \
			for (size_t i_ = 0; i_ < sizeof(t_); i_++)                        \
				assert_int_equal(t_[i_], FILL);                           \
			cap = sizeof(want);                                               \
			assert_int_equal(call_with_cap, (int)sizeof(want));               \
			assert_memory_equal(t_, want, sizeof(want));                      \
			assert_int_equal(t_[sizeof(want)], FILL);                         \
		}                                                                         \
	} while (0)

static uint8_t big[70000];

/* ---- encoders ------------------------------------------------------------- */

static void test_mqtt_packet_connect_minimal(void **state)
{
	static const uint8_t want[] = {
		0x10, 18,                               /* CONNECT, remaining length */
		0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,   /* protocol name, level 4 */
		0x02,                                   /* clean session only */
		0x00, 0x3c,                             /* keepalive 60 s */
		0x00, 0x06, 'r', 'o', 'b', 'o', 't', '1',
	};
	struct mqtt_connect_opts o = { .client_id = "robot1", .clean_session = true, .keepalive_s = 60 };

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_connect(buf, cap, &o));
}

static void test_mqtt_packet_connect_will_and_credentials(void **state)
{
	static const uint8_t want[] = {
		0x10, 31,
		0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
		0xec,       /* user, password, will retain, will qos 1, will; no clean session */
		0x01, 0x2c, /* keepalive 300 s */
		0x00, 0x02, 'c', '1',
		0x00, 0x03, 'w', '/', 't',
		0x00, 0x03, 'o', 'f', 'f',
		0x00, 0x01, 'u',
		0x00, 0x02, 'p', 'w',
	};
	struct mqtt_connect_opts o = {
		.client_id = "c1", .user = "u", .password = "pw", .will_topic = "w/t",
		.will_payload = (const uint8_t *)"off", .will_len = 3, .will_qos = 1,
		.will_retain = true, .clean_session = false, .keepalive_s = 300,
	};

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_connect(buf, cap, &o));
}

static void test_mqtt_packet_connect_flag_bytes(void **state)
{
	struct mqtt_connect_opts o = { .client_id = "x" };
	uint8_t buf[64];

	(void)state;
	/* The connect flags are byte 9 of a packet with a one-byte length. */
	assert_true(mqtt_encode_connect(buf, sizeof(buf), &o) > 0);
	assert_int_equal(buf[9], 0x00);
	o.user = "u";
	o.clean_session = true;
	assert_true(mqtt_encode_connect(buf, sizeof(buf), &o) > 0);
	assert_int_equal(buf[9], 0x82);
	o.user = NULL;
	o.will_topic = "t";
	o.will_qos = 2;
	assert_true(mqtt_encode_connect(buf, sizeof(buf), &o) > 0);
	assert_int_equal(buf[9], 0x16);
	/* An empty will message is still a will. */
	assert_int_equal(buf[1], 10 + 3 + 3 + 2);
	/* Without a will, its qos and retain are not sent. */
	o.will_topic = NULL;
	o.will_retain = true;
	o.will_qos = 3;
	o.keepalive_s = 0xfffe;
	assert_true(mqtt_encode_connect(buf, sizeof(buf), &o) > 0);
	assert_int_equal(buf[9], 0x02);
	assert_int_equal(buf[10], 0xff);
	assert_int_equal(buf[11], 0xfe);
}

static void test_mqtt_packet_connect_empty_client_id(void **state)
{
	static const uint8_t want[] = {
		0x10, 12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x0a, 0x00, 0x00,
	};
	struct mqtt_connect_opts o = { .client_id = NULL, .clean_session = true, .keepalive_s = 10 };

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_connect(buf, cap, &o));
}

static void test_mqtt_packet_connect_invalid(void **state)
{
	struct mqtt_connect_opts o = { .client_id = "c" };
	uint8_t buf[64];

	(void)state;
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), NULL), -EINVAL);
	o.password = "p";
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	o.password = NULL;
	o.will_topic = "t";
	o.will_qos = 3;
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	o.will_qos = 0;
	o.will_len = 1;
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	o.will_len = 0;
	o.will_topic = "";
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	o.will_topic = "a/#";
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	o.will_topic = NULL;
	o.client_id = "\xc3\x28";
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);

	memset(big, 'a', 65536);
	big[65536] = '\0';
	o.client_id = (const char *)big;
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	o.client_id = "c";
	o.user = (const char *)big;
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	o.user = "u";
	o.password = (const char *)big;
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EINVAL);
	/* 65535 is still a string: too big for the buffer, not for MQTT. */
	big[65535] = '\0';
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &o), -EMSGSIZE);
}

static void test_mqtt_packet_connect_longest_string(void **state)
{
	static uint8_t out[70000];
	struct mqtt_connect_opts o = { .client_id = "c", .user = "u" };
	size_t remaining = 10 + 3 + 3 + 2 + 65535;

	(void)state;
	memset(big, 'p', 65535);
	big[65535] = '\0';
	o.password = (const char *)big;
	assert_int_equal(mqtt_encode_connect(out, sizeof(out), &o), (int)(1 + 3 + remaining));
	assert_int_equal(out[1], (remaining & 0x7f) | 0x80);
	assert_int_equal(out[2], ((remaining >> 7) & 0x7f) | 0x80);
	assert_int_equal(out[3], remaining >> 14);
	assert_int_equal(out[4 + 10 + 3 + 3], 0xff);
	assert_int_equal(out[4 + 10 + 3 + 3 + 1], 0xff);
	assert_int_equal(mqtt_encode_connect(out, 1 + 3 + remaining - 1, &o), -EMSGSIZE);
}

static void test_mqtt_packet_publish_qos0(void **state)
{
	static const uint8_t want[] = { 0x30, 7, 0x00, 0x03, 'a', '/', 'b', 'h', 'i' };

	(void)state;
	/* The packet id of a qos 0 publish is not sent, whatever it is. */
	CHECK_TIGHT(want, mqtt_encode_publish(buf, cap, "a/b", (const uint8_t *)"hi", 2, 0, false, 7));
}

static void test_mqtt_packet_publish_qos1_retain(void **state)
{
	static const uint8_t want[] = { 0x33, 9, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i' };

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_publish(buf, cap, "a/b", (const uint8_t *)"hi", 2, 1, true, 10));
}

static void test_mqtt_packet_publish_qos2_empty_payload(void **state)
{
	static const uint8_t want[] = { 0x34, 5, 0x00, 0x01, 't', 0xff, 0xff };

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_publish(buf, cap, "t", NULL, 0, 2, false, 0xffff));
}

static void test_mqtt_packet_publish_header(void **state)
{
	/* 2 + 3 topic + 2 id + 200 payload = 207: 0xcf 0x01. */
	static const uint8_t want[] = { 0x32, 0xcf, 0x01, 0x00, 0x03, 'a', '/', 'b', 0x12, 0x34 };
	uint8_t payload[200], whole[220];

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_publish_header(buf, cap, "a/b", 200, 1, false, 0x1234));
	/* Header then streamed payload is the same packet as the whole encoder's. */
	memset(payload, 0x5a, sizeof(payload));
	assert_int_equal(mqtt_encode_publish(whole, sizeof(whole), "a/b", payload, 200, 1, false, 0x1234),
			 (int)(sizeof(want) + 200));
	assert_memory_equal(whole, want, sizeof(want));
	assert_memory_equal(whole + sizeof(want), payload, 200);
}

static void test_mqtt_packet_publish_header_largest(void **state)
{
	static const uint8_t want[] = { 0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x03, 'a', '/', 'b' };

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_publish_header(buf, cap, "a/b", MQTT_REMAINING_MAX - 5, 0, false, 0));
	{
		uint8_t buf[16];

		assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), "a/b", MQTT_REMAINING_MAX - 4,
							    0, false, 0), -EINVAL);
		assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), "a/b", MQTT_REMAINING_MAX - 7,
							    1, false, 1), 12);
		assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), "a/b", MQTT_REMAINING_MAX - 6,
							    1, false, 1), -EINVAL);
		assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), "a/b", SIZE_MAX, 0, false, 0),
				 -EINVAL);
	}
}

static void test_mqtt_packet_publish_invalid(void **state)
{
	uint8_t buf[64];
	const uint8_t *p = (const uint8_t *)"x";

	(void)state;
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "", p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), NULL, p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "a", p, 1, 3, false, 1), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "a", p, 1, 1, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "a", p, 1, 2, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "a", NULL, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "a/+", p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "#", p, 1, 0, false, 0), -EINVAL);
	/* Ill-formed UTF-8: a bad continuation, an overlong '/', a surrogate, past U+10FFFF, cut short. */
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "\xc3\x28", p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "\xc0\xaf", p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "\xed\xa0\x80", p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "\xf4\x90\x80\x80", p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "a\xe2\x82", p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "\xff", p, 1, 0, false, 0), -EINVAL);
	/* Well-formed: two-, three- and four-byte sequences. */
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), "\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80",
					     p, 1, 0, false, 0), 2 + 2 + 11 + 1);
	/* Invalid beats too small. */
	assert_int_equal(mqtt_encode_publish(buf, 0, "", p, 1, 0, false, 0), -EINVAL);

	memset(big, 't', 65536);
	big[65536] = '\0';
	assert_int_equal(mqtt_encode_publish(buf, sizeof(buf), (const char *)big, p, 1, 0, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), (const char *)big, 1, 0, false, 0),
			 -EINVAL);
	assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), "a", 1, 1, false, 0), -EINVAL);
	assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), "a", 1, 3, false, 1), -EINVAL);
	assert_int_equal(mqtt_encode_publish_header(buf, sizeof(buf), "", 1, 0, false, 0), -EINVAL);
}

static void test_mqtt_packet_subscribe(void **state)
{
	static const uint8_t want[] = { 0x82, 8, 0x00, 0x01, 0x00, 0x03, 's', '/', '#', 0x01 };

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_subscribe(buf, cap, 1, "s/#", 1));
}

static void test_mqtt_packet_unsubscribe(void **state)
{
	static const uint8_t want[] = { 0xa2, 7, 0x01, 0x02, 0x00, 0x03, 's', '/', '#' };

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_unsubscribe(buf, cap, 0x0102, "s/#"));
}

static void test_mqtt_packet_topic_filters(void **state)
{
	static const char *const good[] = { "#", "+", "/", "+/+/#", "a/+/c", "/#", "a//b", "+/", "sport/#" };
	static const char *const bad[] = { "", "a/b#", "a+/b", "#/a", "a/#/", "++", "a/+b", "##" };
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(mqtt_encode_subscribe(buf, sizeof(buf), 1, good[i], 0) > 0);
		assert_true(mqtt_encode_unsubscribe(buf, sizeof(buf), 1, good[i]) > 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 1, bad[i], 0), -EINVAL);
		assert_int_equal(mqtt_encode_unsubscribe(buf, sizeof(buf), 1, bad[i]), -EINVAL);
	}
	assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 0, "a", 0), -EINVAL);
	assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 1, "a", 3), -EINVAL);
	assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 1, NULL, 0), -EINVAL);
	assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 1, "\xed\xbf\xbf", 0), -EINVAL);
	assert_int_equal(mqtt_encode_unsubscribe(buf, sizeof(buf), 0, "a"), -EINVAL);
	assert_int_equal(mqtt_encode_unsubscribe(buf, sizeof(buf), 1, NULL), -EINVAL);
}

static void test_mqtt_packet_puback(void **state)
{
	static const uint8_t want[] = { 0x40, 0x02, 0xbe, 0xef };
	uint8_t buf[4];

	(void)state;
	CHECK_TIGHT(want, mqtt_encode_puback(buf, cap, 0xbeef));
	assert_int_equal(mqtt_encode_puback(buf, sizeof(buf), 0), -EINVAL);
}

static void test_mqtt_packet_empty_packets(void **state)
{
	static const uint8_t pingreq[] = { 0xc0, 0x00 };
	static const uint8_t pingresp[] = { 0xd0, 0x00 };
	static const uint8_t disconnect[] = { 0xe0, 0x00 };
	uint8_t buf[2];

	(void)state;
	CHECK_TIGHT(pingreq, mqtt_encode_empty(buf, cap, MQTT_PINGREQ));
	CHECK_TIGHT(pingresp, mqtt_encode_empty(buf, cap, MQTT_PINGRESP));
	CHECK_TIGHT(disconnect, mqtt_encode_empty(buf, cap, MQTT_DISCONNECT));
	for (int t = 0; t <= 15; t++)
		if (t != MQTT_PINGREQ && t != MQTT_PINGRESP && t != MQTT_DISCONNECT)
			assert_int_equal(mqtt_encode_empty(buf, sizeof(buf), (enum mqtt_packet_type)t), -EINVAL);
}

static void test_mqtt_packet_remaining_length_boundaries(void **state)
{
	static const struct {
		size_t value;
		uint8_t bytes[4];
		int n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 127, { 0x7f }, 1 },
		{ 128, { 0x80, 0x01 }, 2 },
		{ 321, { 0xc1, 0x02 }, 2 },
		{ 16383, { 0xff, 0x7f }, 2 },
		{ 16384, { 0x80, 0x80, 0x01 }, 3 },
		{ 2097151, { 0xff, 0xff, 0x7f }, 3 },
		{ 2097152, { 0x80, 0x80, 0x80, 0x01 }, 4 },
		{ MQTT_REMAINING_MAX, { 0xff, 0xff, 0xff, 0x7f }, 4 },
	};
	uint8_t out[4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, FILL, sizeof(out));
		assert_int_equal(mqtt_encode_remaining_length(out, cases[i].value), cases[i].n);
		assert_memory_equal(out, cases[i].bytes, (size_t)cases[i].n);
	}
	memset(out, FILL, sizeof(out));
	assert_int_equal(mqtt_encode_remaining_length(out, MQTT_REMAINING_MAX + 1u), -EINVAL);
	assert_int_equal(mqtt_encode_remaining_length(out, SIZE_MAX), -EINVAL);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], FILL);
}

/* ---- the reader ----------------------------------------------------------- */

static const uint8_t connack[] = { 0x20, 0x02, 0x01, 0x00 };
static const uint8_t publish1[] = { 0x32, 0x0a, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 'x', 'y', 'z' };
static const uint8_t suback[] = { 0x90, 0x03, 0x00, 0x05, 0x01 };
static const uint8_t pingresp[] = { 0xd0, 0x00 };

struct seen {
	uint8_t bytes[8][64];
	size_t len[8];
	int n;
	int skipped;
};

/* Feed @len bytes in chunks of the sizes in @chunks (cycled); collect whole packets. */
static void feed_all(struct mqtt_reader *r, const uint8_t *data, size_t len, const size_t *chunks,
		     size_t n_chunks, struct seen *s)
{
	size_t pos = 0, k = 0;

	memset(s, 0, sizeof(*s));
	while (pos < len) {
		size_t want = chunks[k++ % n_chunks], off = 0;

		if (want > len - pos)
			want = len - pos;
		while (off < want) {
			size_t used = 99;
			int rc = mqtt_reader_feed(r, data + pos + off, want - off, &used);

			assert_true(used <= want - off);
			off += used;
			if (rc == 0) {
				assert_int_equal(off, want);
			} else if (rc == 1) {
				struct mqtt_packet p;

				mqtt_reader_packet(r, &p);
				assert_true(s->n < 8);
				assert_true(p.total_len <= sizeof(s->bytes[0]));
				assert_ptr_equal(p.body, r->buf + (p.total_len - p.body_len));
				memcpy(s->bytes[s->n], r->buf, p.total_len);
				s->len[s->n++] = p.total_len;
			} else {
				assert_int_equal(rc, 2);
				s->skipped++;
			}
		}
		pos += want;
	}
}

static void build_stream(uint8_t *out, size_t *len)
{
	*len = 0;
	memcpy(out + *len, connack, sizeof(connack)), *len += sizeof(connack);
	memcpy(out + *len, publish1, sizeof(publish1)), *len += sizeof(publish1);
	memcpy(out + *len, suback, sizeof(suback)), *len += sizeof(suback);
	memcpy(out + *len, pingresp, sizeof(pingresp)), *len += sizeof(pingresp);
}

static void check_stream(const struct seen *s)
{
	assert_int_equal(s->n, 4);
	assert_int_equal(s->skipped, 0);
	assert_int_equal(s->len[0], sizeof(connack));
	assert_memory_equal(s->bytes[0], connack, sizeof(connack));
	assert_int_equal(s->len[1], sizeof(publish1));
	assert_memory_equal(s->bytes[1], publish1, sizeof(publish1));
	assert_int_equal(s->len[2], sizeof(suback));
	assert_memory_equal(s->bytes[2], suback, sizeof(suback));
	assert_int_equal(s->len[3], sizeof(pingresp));
	assert_memory_equal(s->bytes[3], pingresp, sizeof(pingresp));
}

static void test_mqtt_packet_reader_byte_by_byte(void **state)
{
	static const size_t one[] = { 1 };
	uint8_t stream[64], buf[32];
	struct mqtt_reader r;
	struct seen s;
	size_t len;

	(void)state;
	build_stream(stream, &len);
	mqtt_reader_init(&r, buf, sizeof(buf));
	feed_all(&r, stream, len, one, 1, &s);
	check_stream(&s);
}

static void test_mqtt_packet_reader_chunks_across_packets(void **state)
{
	static const size_t sizes[][3] = { { 3, 3, 3 }, { 5, 2, 7 }, { 64, 64, 64 }, { 2, 11, 1 }, { 6, 1, 4 } };
	uint8_t stream[64], buf[32];
	struct mqtt_reader r;
	struct seen s;
	size_t len;

	(void)state;
	build_stream(stream, &len);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		mqtt_reader_init(&r, buf, sizeof(buf));
		feed_all(&r, stream, len, sizes[i], 3, &s);
		check_stream(&s);
	}
}

static void test_mqtt_packet_reader_stops_at_packet_end(void **state)
{
	uint8_t stream[64], buf[32];
	struct mqtt_reader r;
	struct mqtt_packet p;
	size_t len, used;

	(void)state;
	build_stream(stream, &len);
	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, stream, len, &used), 1);
	assert_int_equal(used, sizeof(connack));
	mqtt_reader_packet(&r, &p);
	assert_int_equal(p.type, MQTT_CONNACK);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.body_len, 2);
	assert_int_equal(p.total_len, 4);
	assert_ptr_equal(p.body, buf + 2);

	assert_int_equal(mqtt_reader_feed(&r, stream + 4, len - 4, &used), 1);
	assert_int_equal(used, sizeof(publish1));
	mqtt_reader_packet(&r, &p);
	assert_int_equal(p.type, MQTT_PUBLISH);
	assert_int_equal(p.flags, 0x2);
	assert_int_equal(p.body_len, 10);
	assert_int_equal(p.total_len, 12);

	/* An empty feed after a packet starts the next one: nothing to describe. */
	assert_int_equal(mqtt_reader_feed(&r, NULL, 0, &used), 0);
	assert_int_equal(used, 0);
	mqtt_reader_packet(&r, &p);
	assert_int_equal(p.type, 0);
	assert_null(p.body);
	assert_int_equal(p.body_len, 0);
	assert_int_equal(mqtt_parse_ack(&p, NULL), -EPROTO);
	assert_int_equal(mqtt_parse_publish(&p, NULL), -EPROTO);
	assert_int_equal(mqtt_parse_connack(&p, NULL, NULL), -EPROTO);
	assert_int_equal(mqtt_parse_suback(&p, NULL, NULL), -EPROTO);

	/* A consumed pointer is optional. */
	assert_int_equal(mqtt_reader_feed(&r, suback, sizeof(suback), NULL), 1);
}

static void test_mqtt_packet_reader_exact_fit(void **state)
{
	uint8_t buf[sizeof(publish1)];
	struct mqtt_reader r;
	size_t used;

	(void)state;
	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, publish1, sizeof(publish1), &used), 1);
	assert_int_equal(used, sizeof(publish1));
	mqtt_reader_init(&r, buf, sizeof(buf) - 1);
	assert_int_equal(mqtt_reader_feed(&r, publish1, sizeof(publish1), &used), 2);
	assert_int_equal(used, sizeof(publish1));
}

static void test_mqtt_packet_reader_oversize_skip(void **state)
{
	uint8_t stream[128], buf[8];
	struct mqtt_reader r;
	struct mqtt_packet p;
	size_t len, used, pos = 0;
	int rc;

	(void)state;
	/* A publish of 2 + 1 + 40 bytes after its header, then a PINGRESP. */
	len = (size_t)mqtt_encode_publish(stream, sizeof(stream), "t", big, 40, 0, false, 0);
	assert_int_equal(len, 45);
	memcpy(stream + len, pingresp, sizeof(pingresp));
	len += sizeof(pingresp);

	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, stream, len, &used), 2);
	assert_int_equal(used, 45);
	assert_int_equal(mqtt_reader_feed(&r, stream + used, len - used, &used), 1);
	assert_int_equal(used, 2);
	mqtt_reader_packet(&r, &p);
	assert_int_equal(p.type, MQTT_PINGRESP);
	assert_int_equal(p.total_len, 2);

	/* Byte by byte: 0 until the last byte of the skipped packet. */
	mqtt_reader_init(&r, buf, sizeof(buf));
	for (; pos < 44; pos++) {
		assert_int_equal(mqtt_reader_feed(&r, stream + pos, 1, &used), 0);
		assert_int_equal(used, 1);
	}
	assert_int_equal(mqtt_reader_feed(&r, stream + pos++, 1, &used), 2);
	assert_int_equal(mqtt_reader_feed(&r, stream + pos++, 1, &used), 0);
	rc = mqtt_reader_feed(&r, stream + pos++, 1, &used);
	assert_int_equal(rc, 1);
	mqtt_reader_packet(&r, &p);
	assert_int_equal(p.type, MQTT_PINGRESP);

	/* Even a two-byte packet is skipped by a smaller buffer, and a zero one skips everything. */
	mqtt_reader_init(&r, buf, 1);
	assert_int_equal(mqtt_reader_feed(&r, pingresp, 2, &used), 2);
	assert_int_equal(used, 2);
	mqtt_reader_init(&r, NULL, 0);
	assert_int_equal(mqtt_reader_feed(&r, connack, 4, &used), 2);
	assert_int_equal(used, 4);
}

static void test_mqtt_packet_reader_largest_length(void **state)
{
	static const uint8_t hdr[] = { 0x30, 0xff, 0xff, 0xff, 0x7f, 0x00 };
	uint8_t buf[16];
	struct mqtt_reader r;
	size_t used;

	(void)state;
	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, hdr, sizeof(hdr), &used), 0);
	assert_int_equal(used, sizeof(hdr));
	assert_true(r.skipping);
	assert_int_equal(r.total, 5 + (size_t)MQTT_REMAINING_MAX);
}

static void test_mqtt_packet_reader_not_mqtt(void **state)
{
	static const uint8_t type0[] = { 0x00, 0x00 };
	static const uint8_t type15[] = { 0xf0, 0x00 };
	static const uint8_t five[] = { 0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00 };
	uint8_t buf[16];
	struct mqtt_reader r;
	size_t used;

	(void)state;
	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, type0, sizeof(type0), &used), -EPROTO);
	assert_int_equal(used, 1);
	/* It stays broken: the stream cannot be resynchronised. */
	assert_int_equal(mqtt_reader_feed(&r, pingresp, sizeof(pingresp), &used), -EPROTO);
	assert_int_equal(used, 0);

	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, pingresp, sizeof(pingresp), &used), 1);
	assert_int_equal(mqtt_reader_feed(&r, type15, sizeof(type15), &used), -EPROTO);
	assert_int_equal(used, 1);

	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, five, 4, &used), 0);
	assert_int_equal(mqtt_reader_feed(&r, five + 4, sizeof(five) - 4, &used), -EPROTO);
	assert_int_equal(used, 1);

	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, pingresp, sizeof(pingresp), &used), 1);
	mqtt_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(mqtt_reader_feed(&r, pingresp, sizeof(pingresp), &used), 1);
}

/* ---- parsers -------------------------------------------------------------- */

static uint8_t pbuf[256];

/* Frame @bytes with the reader, as the client will. */
static struct mqtt_packet frame(const uint8_t *bytes, size_t len)
{
	struct mqtt_reader r;
	struct mqtt_packet p;
	size_t used;

	mqtt_reader_init(&r, pbuf, sizeof(pbuf));
	assert_int_equal(mqtt_reader_feed(&r, bytes, len, &used), 1);
	assert_int_equal(used, len);
	mqtt_reader_packet(&r, &p);
	return p;
}

#define FRAME(...) frame((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_mqtt_packet_parse_connack(void **state)
{
	struct mqtt_packet p;
	bool sp = false;
	uint8_t rc = 99;

	(void)state;
	p = FRAME(0x20, 0x02, 0x01, 0x00);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), 0);
	assert_true(sp);
	assert_int_equal(rc, 0);
	p = FRAME(0x20, 0x02, 0x00, 0x05);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), 0);
	assert_false(sp);
	assert_int_equal(rc, MQTT_CONNACK_NOT_AUTHORIZED);
	p = FRAME(0x20, 0x02, 0x00, 0x06);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), 0);
	assert_int_equal(rc, 6);
	assert_int_equal(mqtt_parse_connack(&p, NULL, NULL), 0);
}

static void test_mqtt_packet_parse_connack_malformed(void **state)
{
	struct mqtt_packet p;
	bool sp = false;
	uint8_t rc = 99;

	(void)state;
	p = FRAME(0x20, 0x03, 0x00, 0x00, 0x00);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), -EPROTO);
	p = FRAME(0x20, 0x01, 0x00);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), -EPROTO);
	p = FRAME(0x20, 0x00);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), -EPROTO);
	p = FRAME(0x21, 0x02, 0x00, 0x00);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), -EPROTO);
	p = FRAME(0x20, 0x02, 0x02, 0x00);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), -EPROTO);
	p = FRAME(0x20, 0x02, 0x01, 0x05);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), -EPROTO);
	p = FRAME(0x40, 0x02, 0x00, 0x00);
	assert_int_equal(mqtt_parse_connack(&p, &sp, &rc), -EPROTO);
	/* Nothing written on failure. */
	assert_false(sp);
	assert_int_equal(rc, 99);
}

static void test_mqtt_packet_parse_publish(void **state)
{
	struct mqtt_packet p;
	struct mqtt_publish m;

	(void)state;
	p = frame(publish1, sizeof(publish1));
	assert_int_equal(mqtt_parse_publish(&p, &m), 0);
	assert_int_equal(m.topic_len, 3);
	assert_memory_equal(m.topic, "a/b", 3);
	assert_ptr_equal(m.topic, p.body + 2);
	assert_int_equal(m.payload_len, 3);
	assert_memory_equal(m.payload, "xyz", 3);
	assert_int_equal(m.qos, 1);
	assert_int_equal(m.packet_id, 7);
	assert_false(m.retain);
	assert_false(m.dup);

	p = FRAME(0x31, 0x03, 0x00, 0x01, 't');
	assert_int_equal(mqtt_parse_publish(&p, &m), 0);
	assert_int_equal(m.qos, 0);
	assert_true(m.retain);
	assert_int_equal(m.packet_id, 0);
	assert_int_equal(m.payload_len, 0);

	p = FRAME(0x3c, 0x06, 0x00, 0x01, 't', 0x12, 0x34, 0xee);
	assert_int_equal(mqtt_parse_publish(&p, &m), 0);
	assert_int_equal(m.qos, 2);
	assert_true(m.dup);
	assert_int_equal(m.packet_id, 0x1234);
	assert_int_equal(m.payload_len, 1);
	assert_int_equal(m.payload[0], 0xee);

	/* Payload bytes are not text: NULs and anything else are fine there. */
	p = FRAME(0x30, 0x05, 0x00, 0x01, 't', 0x00, 0xff);
	assert_int_equal(mqtt_parse_publish(&p, NULL), 0);
}

static void test_mqtt_packet_parse_publish_malformed(void **state)
{
	struct mqtt_packet p;
	struct mqtt_publish m;

	(void)state;
	memset(&m, 0x5c, sizeof(m));
	p = FRAME(0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01);    /* qos 3 */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x38, 0x03, 0x00, 0x01, 't');                /* dup on qos 0 */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x03, 0x00, 0x02, 't');                /* topic past the body */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x03, 0xff, 0xff, 't');
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x01, 0x00);                           /* no room for a topic length */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x00);
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x03, 0x00, 0x00, 'x');                /* empty topic */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00);    /* packet id 0 on qos 1 */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x34, 0x05, 0x00, 0x01, 't', 0x00, 0x00);    /* and on qos 2 */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x32, 0x04, 0x00, 0x01, 't', 0x01);          /* qos 1, packet id cut short */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x32, 0x03, 0x00, 0x01, 't');                /* qos 1, no packet id */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x05, 0x00, 0x03, 'a', 0x00, 'b');     /* NUL in the topic */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x04, 0x00, 0x02, 0xc0, 0x80);         /* overlong NUL */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80);   /* surrogate */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x30, 0x04, 0x00, 0x02, 0xe2, 0x82);         /* sequence cut by the topic's end */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	p = FRAME(0x20, 0x02, 0x00, 0x00);                     /* not a publish */
	assert_int_equal(mqtt_parse_publish(&p, &m), -EPROTO);
	assert_int_equal(m.topic_len, (size_t)0x5c5c5c5c5c5c5c5cull);
}

static void test_mqtt_packet_parse_ack(void **state)
{
	static const uint8_t ok[][4] = {
		{ 0x40, 0x02, 0x12, 0x34 }, /* PUBACK */
		{ 0x50, 0x02, 0x12, 0x34 }, /* PUBREC */
		{ 0x62, 0x02, 0x12, 0x34 }, /* PUBREL */
		{ 0x70, 0x02, 0x12, 0x34 }, /* PUBCOMP */
		{ 0xb0, 0x02, 0x12, 0x34 }, /* UNSUBACK */
	};
	struct mqtt_packet p;
	uint16_t id;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		id = 0;
		p = frame(ok[i], 4);
		assert_int_equal(mqtt_parse_ack(&p, &id), 0);
		assert_int_equal(id, 0x1234);
	}
}

static void test_mqtt_packet_parse_ack_malformed(void **state)
{
	struct mqtt_packet p;
	uint16_t id = 77;

	(void)state;
	p = FRAME(0x40, 0x03, 0x12, 0x34, 0x00);
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	p = FRAME(0x40, 0x01, 0x12);
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	p = FRAME(0x40, 0x02, 0x00, 0x00);                    /* packet id 0 */
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	p = FRAME(0x42, 0x02, 0x12, 0x34);                    /* PUBACK flags are 0000 */
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	p = FRAME(0x60, 0x02, 0x12, 0x34);                    /* PUBREL flags are 0010 */
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	p = FRAME(0xb1, 0x02, 0x12, 0x34);
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	p = FRAME(0x90, 0x02, 0x12, 0x34);                    /* SUBACK is not one of these */
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	p = FRAME(0x30, 0x02, 0x12, 0x34);
	assert_int_equal(mqtt_parse_ack(&p, &id), -EPROTO);
	assert_int_equal(id, 77);
}

static void test_mqtt_packet_parse_suback(void **state)
{
	struct mqtt_packet p;
	uint16_t id = 0;
	uint8_t g = 99;

	(void)state;
	p = frame(suback, sizeof(suback));
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), 0);
	assert_int_equal(id, 5);
	assert_int_equal(g, 1);
	p = FRAME(0x90, 0x03, 0xab, 0xcd, 0x80);
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), 0);
	assert_int_equal(id, 0xabcd);
	assert_int_equal(g, MQTT_SUBACK_FAILURE);
	p = FRAME(0x90, 0x03, 0x00, 0x01, 0x02);
	assert_int_equal(mqtt_parse_suback(&p, NULL, &g), 0);
	assert_int_equal(g, 2);
}

static void test_mqtt_packet_parse_suback_malformed(void **state)
{
	struct mqtt_packet p;
	uint16_t id = 77;
	uint8_t g = 99;

	(void)state;
	p = FRAME(0x90, 0x03, 0x00, 0x01, 0x03);              /* qos 3 granted */
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), -EPROTO);
	p = FRAME(0x90, 0x03, 0x00, 0x01, 0x81);
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), -EPROTO);
	p = FRAME(0x90, 0x03, 0x00, 0x00, 0x00);              /* packet id 0 */
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), -EPROTO);
	p = FRAME(0x90, 0x04, 0x00, 0x01, 0x00, 0x01);        /* two codes for one topic */
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), -EPROTO);
	p = FRAME(0x90, 0x02, 0x00, 0x01);
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), -EPROTO);
	p = FRAME(0x92, 0x03, 0x00, 0x01, 0x00);              /* reserved flags */
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), -EPROTO);
	p = FRAME(0xb0, 0x03, 0x00, 0x01, 0x00);
	assert_int_equal(mqtt_parse_suback(&p, &id, &g), -EPROTO);
	assert_int_equal(id, 77);
	assert_int_equal(g, 99);
}

static void test_mqtt_packet_publish_round_trip(void **state)
{
	uint8_t out[128], buf[128];
	struct mqtt_reader r;
	struct mqtt_packet p;
	struct mqtt_publish m;
	size_t used;
	int n;

	(void)state;
	for (uint8_t qos = 0; qos <= 2; qos++) {
		n = mqtt_encode_publish(out, sizeof(out), "robots/r1/telemetry", (const uint8_t *)"{\"t\":1}",
					7, qos, qos == 1, 0x0203);
		assert_true(n > 0);
		mqtt_reader_init(&r, buf, sizeof(buf));
		assert_int_equal(mqtt_reader_feed(&r, out, (size_t)n, &used), 1);
		assert_int_equal(used, (size_t)n);
		mqtt_reader_packet(&r, &p);
		assert_int_equal(mqtt_parse_publish(&p, &m), 0);
		assert_int_equal(m.topic_len, strlen("robots/r1/telemetry"));
		assert_memory_equal(m.topic, "robots/r1/telemetry", m.topic_len);
		assert_int_equal(m.payload_len, 7);
		assert_memory_equal(m.payload, "{\"t\":1}", 7);
		assert_int_equal(m.qos, qos);
		assert_int_equal(m.retain, qos == 1);
		assert_int_equal(m.packet_id, qos ? 0x0203 : 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mqtt_packet_connect_minimal),
		cmocka_unit_test(test_mqtt_packet_connect_will_and_credentials),
		cmocka_unit_test(test_mqtt_packet_connect_flag_bytes),
		cmocka_unit_test(test_mqtt_packet_connect_empty_client_id),
		cmocka_unit_test(test_mqtt_packet_connect_invalid),
		cmocka_unit_test(test_mqtt_packet_connect_longest_string),
		cmocka_unit_test(test_mqtt_packet_publish_qos0),
		cmocka_unit_test(test_mqtt_packet_publish_qos1_retain),
		cmocka_unit_test(test_mqtt_packet_publish_qos2_empty_payload),
		cmocka_unit_test(test_mqtt_packet_publish_header),
		cmocka_unit_test(test_mqtt_packet_publish_header_largest),
		cmocka_unit_test(test_mqtt_packet_publish_invalid),
		cmocka_unit_test(test_mqtt_packet_subscribe),
		cmocka_unit_test(test_mqtt_packet_unsubscribe),
		cmocka_unit_test(test_mqtt_packet_topic_filters),
		cmocka_unit_test(test_mqtt_packet_puback),
		cmocka_unit_test(test_mqtt_packet_empty_packets),
		cmocka_unit_test(test_mqtt_packet_remaining_length_boundaries),
		cmocka_unit_test(test_mqtt_packet_reader_byte_by_byte),
		cmocka_unit_test(test_mqtt_packet_reader_chunks_across_packets),
		cmocka_unit_test(test_mqtt_packet_reader_stops_at_packet_end),
		cmocka_unit_test(test_mqtt_packet_reader_exact_fit),
		cmocka_unit_test(test_mqtt_packet_reader_oversize_skip),
		cmocka_unit_test(test_mqtt_packet_reader_largest_length),
		cmocka_unit_test(test_mqtt_packet_reader_not_mqtt),
		cmocka_unit_test(test_mqtt_packet_parse_connack),
		cmocka_unit_test(test_mqtt_packet_parse_connack_malformed),
		cmocka_unit_test(test_mqtt_packet_parse_publish),
		cmocka_unit_test(test_mqtt_packet_parse_publish_malformed),
		cmocka_unit_test(test_mqtt_packet_parse_ack),
		cmocka_unit_test(test_mqtt_packet_parse_ack_malformed),
		cmocka_unit_test(test_mqtt_packet_parse_suback),
		cmocka_unit_test(test_mqtt_packet_parse_suback_malformed),
		cmocka_unit_test(test_mqtt_packet_publish_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
