/* libFuzzer target: the MQTT reader and parsers on arbitrary broker streams, and publish/subscribe encodings read back. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The whole input is the stream, so seeds are plain packets; chunk sizes and
 * the small buffer's size come from a hash of it.
 */
static uint64_t hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

static uint32_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545f4914f6cdd1dull) >> 32);
}

/* Well-formed UTF-8 without NUL, by RFC 3629's byte-range grammar. */
static bool utf8_grammar(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		uint8_t lo = 0x80, hi = 0xbf;
		size_t tail;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			tail = 1;
		else if (c >= 0xe0 && c <= 0xef)
			tail = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			tail = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i - 1 < tail)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= tail; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += tail + 1;
	}
	return true;
}

static char *cstring(const uint8_t *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Every parser on a copy of the packet that ends where it ends, so any overread is caught. */
static void check_packet(const struct mqtt_reader *r, const struct mqtt_packet *in)
{
	size_t hdr = in->total_len - in->body_len;
	uint8_t *copy = malloc(in->total_len);
	struct mqtt_packet p = *in;
	struct mqtt_publish m;
	uint16_t id;
	uint8_t code;
	bool sp;
	int rc;

	if (!copy)
		abort();
	if (in->total_len > r->cap || in->body_len > in->total_len || hdr < 2 || hdr > 5 ||
	    in->body != r->buf + hdr || in->type != r->buf[0] >> 4 || in->flags != (r->buf[0] & 0xf) ||
	    in->type == 0 || in->type == 15)
		abort();
	memcpy(copy, r->buf, in->total_len);
	p.body = copy + hdr;

	rc = mqtt_parse_connack(&p, &sp, &code);
	if (rc != 0 && rc != -EPROTO)
		abort();
	if (rc == 0 && (p.type != MQTT_CONNACK || p.body_len != 2 || (sp && code != 0)))
		abort();

	rc = mqtt_parse_ack(&p, &id);
	if (rc != 0 && rc != -EPROTO)
		abort();
	if (rc == 0) {
		uint8_t again[4];

		if (p.body_len != 2 || id == 0)
			abort();
		if (p.type == MQTT_PUBACK &&
		    (mqtt_encode_puback(again, sizeof(again), id) != 4 || again[0] != copy[0] ||
		     memcmp(again + 2, p.body, 2) != 0))
			abort();
	}

	rc = mqtt_parse_suback(&p, &id, &code);
	if (rc != 0 && rc != -EPROTO)
		abort();
	if (rc == 0 && (p.type != MQTT_SUBACK || id == 0 || (code > 2 && code != 0x80)))
		abort();

	rc = mqtt_parse_publish(&p, &m);
	if (rc != 0 && rc != -EPROTO)
		abort();
	if (rc == 0) {
		const uint8_t *topic = (const uint8_t *)m.topic;
		size_t head = 2 + m.topic_len + (m.qos ? 2 : 0);

		if (p.type != MQTT_PUBLISH || m.qos > 2 || (m.qos == 0) != (m.packet_id == 0) ||
		    m.topic_len == 0 || topic != p.body + 2 || head > p.body_len ||
		    m.payload != p.body + head || m.payload_len != p.body_len - head ||
		    !utf8_grammar(topic, m.topic_len) || (m.dup && m.qos == 0))
			abort();
		/* What a broker may send, the client can send back the same, wildcards aside. */
		if (!m.dup) {
			char *t = cstring(topic, m.topic_len);
			uint8_t *again = malloc(p.total_len + 5);
			int n;

			if (!again)
				abort();
			n = mqtt_encode_publish(again, p.total_len + 5, t, m.payload, m.payload_len, m.qos,
						m.retain, m.packet_id);
			if (strpbrk(t, "+#")) {
				if (n != -EINVAL)
					abort();
			} else {
				if (n <= 0 || again[0] != copy[0] ||
				    (size_t)n - p.body_len > 5 ||
				    memcmp(again + (size_t)n - p.body_len, p.body, p.body_len) != 0)
					abort();
			}
			free(again);
			free(t);
		}
	}
	free(copy);
}

struct outcome {
	uint64_t digest;
	unsigned int packets, skipped;
	int end;  /* 0, or -EPROTO */
	size_t used;
};

/* Feed the stream in chunks (@seed 0: all of what is left each time). */
static void run(const uint8_t *data, size_t size, size_t cap, uint64_t seed, struct outcome *o)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	struct mqtt_reader r;
	size_t pos = 0;

	if (!buf)
		abort();
	memset(o, 0, sizeof(*o));
	o->digest = 1;
	mqtt_reader_init(&r, buf, cap);
	while (pos < size) {
		size_t chunk = size - pos, used = SIZE_MAX;
		int rc;

		if (seed) {
			uint32_t v = next(&seed);

			/* Mostly small chunks, sometimes large ones. */
			chunk = 1 + (v & 0xff) % ((v >> 8 & 3) == 0 ? 64 : 6);
			if (chunk > size - pos)
				chunk = size - pos;
		}
		rc = mqtt_reader_feed(&r, data + pos, chunk, &used);
		if (used > chunk)
			abort();
		pos += used;
		if (rc == -EPROTO) {
			size_t again;

			o->end = rc;
			if (mqtt_reader_feed(&r, data, size, &again) != -EPROTO || again != 0)
				abort();
			break;
		}
		if (rc == 0) {
			if (used != chunk)
				abort();
		} else if (rc == 1) {
			struct mqtt_packet p;

			mqtt_reader_packet(&r, &p);
			check_packet(&r, &p);
			o->packets++;
			o->digest = (o->digest ^ hash(buf, p.total_len)) * 0x100000001b3ull;
		} else if (rc == 2) {
			o->skipped++;
			o->digest = (o->digest ^ pos) * 0x9e3779b97f4a7c15ull;
		} else {
			abort();
		}
	}
	o->used = pos;
	free(buf);
}

static void same(const struct outcome *a, const struct outcome *b)
{
	if (a->digest != b->digest || a->packets != b->packets || a->skipped != b->skipped ||
	    a->end != b->end || a->used != b->used)
		abort();
}

/* The packet @pkt (@n bytes) read back through a reader with exactly its room. */
static void read_back(const uint8_t *pkt, size_t n, uint64_t seed, struct mqtt_packet *p, uint8_t *buf)
{
	struct mqtt_reader r;
	size_t pos = 0;

	mqtt_reader_init(&r, buf, n);
	for (;;) {
		size_t chunk = 1 + next(&seed) % 9, used;
		int rc;

		if (chunk > n - pos)
			chunk = n - pos;
		rc = mqtt_reader_feed(&r, pkt + pos, chunk, &used);
		pos += used;
		if (rc == 1)
			break;
		if (rc != 0 || pos >= n)
			abort();
	}
	if (pos != n)
		abort();
	mqtt_reader_packet(&r, p);
	if (p->total_len != n)
		abort();
}

static void round_trip_publish(const uint8_t *data, size_t size, uint64_t seed)
{
	uint8_t qos = data[0] & 3;
	bool retain = data[0] & 4;
	uint16_t id = (uint16_t)(data[1] << 8 | data[2]);
	size_t k = data[3] % (size - 4 + 1), topic_len, payload_len;
	char *topic = cstring(data + 4, k);
	const uint8_t *payload = data + 4 + k;
	bool valid;
	uint8_t *pkt, *buf, *head;
	struct mqtt_packet p;
	struct mqtt_publish m;
	int n, h;

	topic_len = strlen(topic);
	payload_len = size - 4 - k;
	valid = topic_len > 0 && utf8_grammar((const uint8_t *)topic, topic_len) &&
		!strpbrk(topic, "+#") && qos <= 2 && (qos == 0 || id != 0);

	n = mqtt_encode_publish(NULL, 0, topic, payload, payload_len, qos, retain, id);
	if (n != (valid ? -EMSGSIZE : -EINVAL))
		abort();
	if (!valid) {
		free(topic);
		return;
	}
	n = (int)(1 + 1 + 2 + topic_len + (qos ? 2 : 0) + payload_len) + 3;
	pkt = malloc((size_t)n);
	if (!pkt)
		abort();
	n = mqtt_encode_publish(pkt, (size_t)n, topic, payload, payload_len, qos, retain, id);
	if (n <= 0)
		abort();
	/* Exactly its length fits, one byte less does not. */
	if (mqtt_encode_publish(pkt, (size_t)n - 1, topic, payload, payload_len, qos, retain, id) != -EMSGSIZE)
		abort();
	head = malloc(MQTT_FIXED_HEADER_MAX + 2 + topic_len + 2);
	if (!head)
		abort();
	h = mqtt_encode_publish_header(head, MQTT_FIXED_HEADER_MAX + 2 + topic_len + 2, topic, payload_len,
				       qos, retain, id);
	if (h <= 0 || (size_t)h + payload_len != (size_t)n || memcmp(head, pkt, (size_t)h) != 0)
		abort();
	free(head);

	buf = malloc((size_t)n);
	if (!buf)
		abort();
	read_back(pkt, (size_t)n, seed, &p, buf);
	if (mqtt_parse_publish(&p, &m) != 0)
		abort();
	if (m.topic_len != topic_len || memcmp(m.topic, topic, topic_len) != 0 ||
	    m.payload_len != payload_len || (payload_len && memcmp(m.payload, payload, payload_len) != 0) ||
	    m.qos != qos || m.retain != retain || m.dup || m.packet_id != (qos ? id : 0))
		abort();
	if (mqtt_parse_connack(&p, NULL, NULL) != -EPROTO || mqtt_parse_ack(&p, NULL) != -EPROTO ||
	    mqtt_parse_suback(&p, NULL, NULL) != -EPROTO)
		abort();
	free(buf);
	free(pkt);
	free(topic);
}

/* A SUBSCRIBE and an UNSUBSCRIBE for the same fuzzed filter, framed and laid out as 3.1.1 says. */
static void round_trip_subscribe(const uint8_t *data, size_t size, uint64_t seed)
{
	uint8_t qos = data[0] >> 4 & 3;
	uint16_t id = (uint16_t)(data[1] << 8 | data[2]);
	char *filter = cstring(data + 3, size - 3);
	size_t len = strlen(filter);
	uint8_t *pkt = malloc(len + 16), *buf = malloc(len + 16);
	struct mqtt_packet p;
	int n;

	if (!pkt || !buf)
		abort();
	n = mqtt_encode_subscribe(pkt, len + 16, id, filter, qos);
	if (n > 0) {
		if (len == 0 || id == 0 || qos > 2 || !utf8_grammar((const uint8_t *)filter, len))
			abort();
		if (mqtt_encode_subscribe(pkt, (size_t)n - 1, id, filter, qos) != -EMSGSIZE)
			abort();
		read_back(pkt, (size_t)n, seed, &p, buf);
		if (p.type != MQTT_SUBSCRIBE || p.flags != 2 || p.body_len != 2 + 2 + len + 1 ||
		    (p.body[0] << 8 | p.body[1]) != id || (size_t)(p.body[2] << 8 | p.body[3]) != len ||
		    memcmp(p.body + 4, filter, len) != 0 || p.body[4 + len] != qos)
			abort();
		n = mqtt_encode_unsubscribe(pkt, len + 16, id, filter);
		if (n <= 0)
			abort();
		read_back(pkt, (size_t)n, seed, &p, buf);
		if (p.type != MQTT_UNSUBSCRIBE || p.flags != 2 || p.body_len != 2 + 2 + len ||
		    memcmp(p.body + 4, filter, len) != 0)
			abort();
	} else if (n != -EINVAL) {
		abort();
	} else if (len > 0 && id != 0 && qos <= 2 && utf8_grammar((const uint8_t *)filter, len) &&
		   !strpbrk(filter, "+#")) {
		/* Refused, yet no wildcard to misplace: nothing else could be wrong. */
		abort();
	}
	free(buf);
	free(pkt);
	free(filter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = hash(data, size);
	struct outcome whole, chunked;
	size_t small = (size_t)(h >> 32) % 48;

	/* Room for every packet the input can hold, then a buffer that drops most. */
	run(data, size, size + 5, 0, &whole);
	run(data, size, size + 5, h, &chunked);
	same(&whole, &chunked);
	run(data, size, small, 0, &whole);
	run(data, size, small, h ^ 0x5bd1e995, &chunked);
	same(&whole, &chunked);

	if (size >= 4) {
		round_trip_publish(data, size, h);
		round_trip_subscribe(data, size, h);
	}
	return 0;
}
