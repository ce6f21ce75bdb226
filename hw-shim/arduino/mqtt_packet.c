/* MQTT 3.1.1 packet codec under the Arduino layer's PubSubClient: bounded by the caller's buffers, hostile input never read past its length. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mqtt_packet.h"

/* PUBREL, SUBSCRIBE and UNSUBSCRIBE carry 0010 in their flag nibble; 3.1.1 fixes it. */
#define FLAGS_0010 0x2u

/*
 * RFC 3629 UTF-8, and no U+0000: 3.1.1 has a receiver close the connection
 * for either, so the encoders refuse to send what a broker would drop us for.
 */
static bool utf8_ok(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint32_t cp, min;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* A string field: its length fits in 16 bits and its text is one MQTT may carry. */
static bool string_ok(const char *s, size_t *len)
{
	*len = strlen(s);
	return *len <= MQTT_STRING_MAX && utf8_ok((const uint8_t *)s, *len);
}

/* Brokers match on topic names; a wildcard in one is a protocol error to them. */
static bool topic_name_ok(const char *topic, size_t *len)
{
	if (!topic || !string_ok(topic, len) || *len == 0)
		return false;
	return strpbrk(topic, "+#") == NULL;
}

/* '+' fills a whole level; '#' fills a whole last level. */
static bool topic_filter_ok(const char *filter, size_t *len)
{
	if (!filter || !string_ok(filter, len) || *len == 0)
		return false;
	for (size_t i = 0; i < *len; i++) {
		bool level_start = i == 0 || filter[i - 1] == '/';
		bool level_end = i + 1 == *len || filter[i + 1] == '/';

		if (filter[i] == '+' && !(level_start && level_end))
			return false;
		if (filter[i] == '#' && !(level_start && i + 1 == *len))
			return false;
	}
	return true;
}

int mqtt_encode_remaining_length(uint8_t out[4], size_t value)
{
	int n = 0;

	if (value > MQTT_REMAINING_MAX)
		return -EINVAL;
	do {
		uint8_t b = value & 0x7f;

		value >>= 7;
		if (value)
			b |= 0x80;
		out[n++] = b;
	} while (value);
	return n;
}

struct writer {
	uint8_t *p;
};

static void put_u8(struct writer *w, uint8_t v)
{
	*w->p++ = v;
}

static void put_u16(struct writer *w, uint16_t v)
{
	put_u8(w, (uint8_t)(v >> 8));
	put_u8(w, (uint8_t)v);
}

static void put_bytes(struct writer *w, const void *src, size_t len)
{
	if (len)
		memcpy(w->p, src, len);
	w->p += len;
}

static void put_string(struct writer *w, const void *s, size_t len)
{
	put_u16(w, (uint16_t)len);
	put_bytes(w, s, len);
}

/*
 * Check that a packet of @remaining bytes after its fixed header (of which
 * @emit are written now) fits, and write the fixed header. Returns the
 * number of bytes that will be written, or a negative errno.
 */
static int begin_packet(struct writer *w, uint8_t *buf, size_t cap, uint8_t byte0,
			size_t remaining, size_t emit)
{
	uint8_t rl[4];
	int n = mqtt_encode_remaining_length(rl, remaining);
	size_t total;

	if (n < 0)
		return n;
	total = 1 + (size_t)n + emit;
	if (total > cap)
		return -EMSGSIZE;
	w->p = buf;
	put_u8(w, byte0);
	put_bytes(w, rl, (size_t)n);
	return (int)total;
}

int mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect_opts *o)
{
	static const uint8_t proto[] = { 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04 };
	const char *id;
	size_t id_len, wt_len = 0, user_len = 0, pw_len = 0, remaining;
	uint8_t flags = 0;
	struct writer w;
	int total;

	if (!o)
		return -EINVAL;
	id = o->client_id ? o->client_id : "";
	if (!string_ok(id, &id_len))
		return -EINVAL;
	remaining = sizeof(proto) + 1 + 2 + 2 + id_len;
	if (o->will_topic) {
		if (!topic_name_ok(o->will_topic, &wt_len) || o->will_qos > 2 ||
		    o->will_len > MQTT_STRING_MAX || (o->will_len && !o->will_payload))
			return -EINVAL;
		flags |= 0x04 | (uint8_t)(o->will_qos << 3);
		if (o->will_retain)
			flags |= 0x20;
		remaining += 2 + wt_len + 2 + o->will_len;
	}
	if (o->user) {
		if (!string_ok(o->user, &user_len))
			return -EINVAL;
		flags |= 0x80;
		remaining += 2 + user_len;
	}
	if (o->password) {
		/* 3.1.1 ties the password flag to the user name flag. */
		if (!o->user)
			return -EINVAL;
		/* Binary data, not text: only its length is limited. */
		pw_len = strlen(o->password);
		if (pw_len > MQTT_STRING_MAX)
			return -EINVAL;
		flags |= 0x40;
		remaining += 2 + pw_len;
	}
	if (o->clean_session)
		flags |= 0x02;

	total = begin_packet(&w, buf, cap, MQTT_CONNECT << 4, remaining, remaining);
	if (total < 0)
		return total;
	put_bytes(&w, proto, sizeof(proto));
	put_u8(&w, flags);
	put_u16(&w, o->keepalive_s);
	put_string(&w, id, id_len);
	if (o->will_topic) {
		put_string(&w, o->will_topic, wt_len);
		put_string(&w, o->will_payload, o->will_len);
	}
	if (o->user)
		put_string(&w, o->user, user_len);
	if (o->password)
		put_string(&w, o->password, pw_len);
	return total;
}

/*
 * The header part of a PUBLISH, shared by the whole-packet and the streamed
 * encoder. @extra is what is written after the header part (the payload, or
 * nothing when the caller streams it).
 */
static int publish_begin(struct writer *w, uint8_t *buf, size_t cap, const char *topic,
			 size_t payload_len, size_t extra, uint8_t qos, bool retain,
			 uint16_t packet_id)
{
	size_t topic_len, head, remaining;
	int total;

	if (!topic_name_ok(topic, &topic_len) || qos > 2 || (qos > 0 && packet_id == 0))
		return -EINVAL;
	head = 2 + topic_len + (qos > 0 ? 2 : 0);
	/* Checked before adding so that a huge @payload_len cannot wrap. */
	if (payload_len > MQTT_REMAINING_MAX - head)
		return -EINVAL;
	remaining = head + payload_len;
	total = begin_packet(w, buf, cap, (uint8_t)(MQTT_PUBLISH << 4 | qos << 1 | (retain ? 1 : 0)),
			     remaining, head + extra);
	if (total < 0)
		return total;
	put_string(w, topic, topic_len);
	if (qos > 0)
		put_u16(w, packet_id);
	return total;
}

int mqtt_encode_publish(uint8_t *buf, size_t cap, const char *topic, const uint8_t *payload,
			size_t len, uint8_t qos, bool retain, uint16_t packet_id)
{
	struct writer w;
	int total;

	if (len && !payload)
		return -EINVAL;
	total = publish_begin(&w, buf, cap, topic, len, len, qos, retain, packet_id);
	if (total < 0)
		return total;
	put_bytes(&w, payload, len);
	return total;
}

int mqtt_encode_publish_header(uint8_t *buf, size_t cap, const char *topic, size_t payload_len,
			       uint8_t qos, bool retain, uint16_t packet_id)
{
	struct writer w;

	return publish_begin(&w, buf, cap, topic, payload_len, 0, qos, retain, packet_id);
}

int mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *topic_filter,
			  uint8_t qos)
{
	size_t len, remaining;
	struct writer w;
	int total;

	if (packet_id == 0 || qos > 2 || !topic_filter_ok(topic_filter, &len))
		return -EINVAL;
	remaining = 2 + 2 + len + 1;
	total = begin_packet(&w, buf, cap, MQTT_SUBSCRIBE << 4 | FLAGS_0010, remaining, remaining);
	if (total < 0)
		return total;
	put_u16(&w, packet_id);
	put_string(&w, topic_filter, len);
	put_u8(&w, qos);
	return total;
}

int mqtt_encode_unsubscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *topic_filter)
{
	size_t len, remaining;
	struct writer w;
	int total;

	if (packet_id == 0 || !topic_filter_ok(topic_filter, &len))
		return -EINVAL;
	remaining = 2 + 2 + len;
	total = begin_packet(&w, buf, cap, MQTT_UNSUBSCRIBE << 4 | FLAGS_0010, remaining, remaining);
	if (total < 0)
		return total;
	put_u16(&w, packet_id);
	put_string(&w, topic_filter, len);
	return total;
}

int mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t packet_id)
{
	struct writer w;
	int total;

	if (packet_id == 0)
		return -EINVAL;
	total = begin_packet(&w, buf, cap, MQTT_PUBACK << 4, 2, 2);
	if (total < 0)
		return total;
	put_u16(&w, packet_id);
	return total;
}

int mqtt_encode_empty(uint8_t *buf, size_t cap, enum mqtt_packet_type type)
{
	struct writer w;

	if (type != MQTT_PINGREQ && type != MQTT_PINGRESP && type != MQTT_DISCONNECT)
		return -EINVAL;
	return begin_packet(&w, buf, cap, (uint8_t)(type << 4), 0, 0);
}

/* ---- reading a stream ------------------------------------------------------ */

void mqtt_reader_init(struct mqtt_reader *r, uint8_t *buf, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->cap = cap;
}

static void reader_restart(struct mqtt_reader *r)
{
	r->hdr_len = 0;
	r->hdr_done = false;
	r->ready = false;
	r->skipping = false;
	r->remaining = 0;
	r->have = 0;
	r->total = 0;
}

/*
 * One fixed header byte. Returns 0 while the header goes on, 1 when it is
 * complete, -EPROTO when it cannot be MQTT.
 */
static int header_byte(struct mqtt_reader *r, uint8_t c)
{
	if (r->hdr_len == 0) {
		uint8_t type = c >> 4;

		if (type == 0 || type == 15)
			return -EPROTO;
		r->hdr[r->hdr_len++] = c;
		return 0;
	}
	r->remaining |= (size_t)(c & 0x7f) << (7 * (r->hdr_len - 1));
	r->hdr[r->hdr_len++] = c;
	if (c & 0x80) {
		/* A fifth length byte would follow: no MQTT length needs one. */
		if (r->hdr_len == MQTT_FIXED_HEADER_MAX)
			return -EPROTO;
		return 0;
	}
	return 1;
}

int mqtt_reader_feed(struct mqtt_reader *r, const uint8_t *data, size_t len, size_t *consumed)
{
	size_t used = 0;
	int rc = 0;

	if (r->broken) {
		rc = -EPROTO;
		goto out;
	}
	if (r->ready)
		reader_restart(r);

	while (!r->hdr_done) {
		if (used == len)
			goto out;
		rc = header_byte(r, data[used++]);
		if (rc < 0) {
			r->broken = true;
			goto out;
		}
		if (rc == 1) {
			r->hdr_done = true;
			r->total = r->hdr_len + r->remaining;
			if (r->total > r->cap) {
				r->skipping = true;
			} else {
				memcpy(r->buf, r->hdr, r->hdr_len);
				r->have = r->hdr_len;
			}
		}
	}
	rc = 0;

	if (r->skipping) {
		/* Counted from the end of the header: only the body is dropped here. */
		size_t left = r->remaining - r->have;
		size_t n = len - used < left ? len - used : left;

		used += n;
		r->have += n;
		if (r->have == r->remaining) {
			/* Nothing to describe: the next feed starts a new packet. */
			reader_restart(r);
			rc = 2;
		}
		goto out;
	}

	{
		size_t left = r->total - r->have;
		size_t n = len - used < left ? len - used : left;

		if (n)
			memcpy(r->buf + r->have, data + used, n);
		used += n;
		r->have += n;
		if (r->have == r->total) {
			r->ready = true;
			rc = 1;
		}
	}
out:
	if (consumed)
		*consumed = used;
	return rc;
}

void mqtt_reader_packet(const struct mqtt_reader *r, struct mqtt_packet *out)
{
	if (!r->ready) {
		memset(out, 0, sizeof(*out));
		return;
	}
	out->type = r->buf[0] >> 4;
	out->flags = r->buf[0] & 0x0f;
	out->body = r->buf + r->hdr_len;
	out->body_len = r->remaining;
	out->total_len = r->total;
}

/* ---- parsing what a broker sends -------------------------------------------- */

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int mqtt_parse_connack(const struct mqtt_packet *p, bool *session_present, uint8_t *return_code)
{
	const uint8_t *b = p->body;

	if (p->type != MQTT_CONNACK || p->flags != 0 || p->body_len != 2)
		return -EPROTO;
	if (b[0] & 0xfe)
		return -EPROTO;
	/* A refused connection has no session to be present. */
	if ((b[0] & 1) && b[1] != 0)
		return -EPROTO;
	if (session_present)
		*session_present = b[0] & 1;
	if (return_code)
		*return_code = b[1];
	return 0;
}

int mqtt_parse_publish(const struct mqtt_packet *p, struct mqtt_publish *out)
{
	const uint8_t *b = p->body;
	uint8_t qos = (p->flags >> 1) & 3;
	bool dup = p->flags & 0x8;
	size_t topic_len, pos;
	uint16_t id = 0;

	if (p->type != MQTT_PUBLISH || qos == 3 || (dup && qos == 0))
		return -EPROTO;
	if (p->body_len < 2)
		return -EPROTO;
	topic_len = get_u16(b);
	if (topic_len == 0 || topic_len > p->body_len - 2)
		return -EPROTO;
	if (!utf8_ok(b + 2, topic_len))
		return -EPROTO;
	pos = 2 + topic_len;
	if (qos > 0) {
		if (p->body_len - pos < 2)
			return -EPROTO;
		id = get_u16(b + pos);
		if (id == 0)
			return -EPROTO;
		pos += 2;
	}
	if (out) {
		out->topic = (const char *)(b + 2);
		out->topic_len = topic_len;
		out->payload = b + pos;
		out->payload_len = p->body_len - pos;
		out->qos = qos;
		out->retain = p->flags & 1;
		out->dup = dup;
		out->packet_id = id;
	}
	return 0;
}

int mqtt_parse_ack(const struct mqtt_packet *p, uint16_t *packet_id)
{
	uint16_t id;

	switch (p->type) {
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		if (p->flags != 0)
			return -EPROTO;
		break;
	case MQTT_PUBREL:
		if (p->flags != FLAGS_0010)
			return -EPROTO;
		break;
	default:
		return -EPROTO;
	}
	if (p->body_len != 2)
		return -EPROTO;
	id = get_u16(p->body);
	if (id == 0)
		return -EPROTO;
	if (packet_id)
		*packet_id = id;
	return 0;
}

int mqtt_parse_suback(const struct mqtt_packet *p, uint16_t *packet_id, uint8_t *granted)
{
	uint16_t id;
	uint8_t g;

	if (p->type != MQTT_SUBACK || p->flags != 0 || p->body_len != 3)
		return -EPROTO;
	id = get_u16(p->body);
	g = p->body[2];
	if (id == 0 || (g > 2 && g != MQTT_SUBACK_FAILURE))
		return -EPROTO;
	if (packet_id)
		*packet_id = id;
	if (granted)
		*granted = g;
	return 0;
}
