/* MQTT 3.1.1 packets for the Arduino layer's PubSubClient: encode what a client sends, decode what a broker sends. Pure: no I/O, no allocation. */
#ifndef MQTT_PACKET_H
#define MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mqtt_packet_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK,
	MQTT_PUBLISH,
	MQTT_PUBACK,
	MQTT_PUBREC,
	MQTT_PUBREL,
	MQTT_PUBCOMP,
	MQTT_SUBSCRIBE,
	MQTT_SUBACK,
	MQTT_UNSUBSCRIBE,
	MQTT_UNSUBACK,
	MQTT_PINGREQ,
	MQTT_PINGRESP,
	MQTT_DISCONNECT,
};

/* The largest "remaining length" four 7-bit groups can say. */
#define MQTT_REMAINING_MAX 268435455u
/* A fixed header is one type byte and at most four length bytes. */
#define MQTT_FIXED_HEADER_MAX 5u
/* A string field's length is a 16-bit count of bytes. */
#define MQTT_STRING_MAX 65535u

/* CONNACK return codes 3.1.1 defines; a broker may send others. */
enum mqtt_connack_code {
	MQTT_CONNACK_ACCEPTED = 0,
	MQTT_CONNACK_BAD_PROTOCOL = 1,
	MQTT_CONNACK_ID_REJECTED = 2,
	MQTT_CONNACK_UNAVAILABLE = 3,
	MQTT_CONNACK_BAD_CREDENTIALS = 4,
	MQTT_CONNACK_NOT_AUTHORIZED = 5,
};

/* The granted-qos byte of a SUBACK that refused the subscription. */
#define MQTT_SUBACK_FAILURE 0x80u

struct mqtt_connect_opts {
	const char *client_id;       /* NULL is the same as "" */
	const char *user;            /* NULL: none */
	const char *password;        /* NULL: none; bytes up to the NUL */
	const char *will_topic;      /* NULL: no will (then the other will_ fields are ignored) */
	const uint8_t *will_payload; /* may be NULL when will_len is 0 */
	size_t will_len;
	uint8_t will_qos;
	bool will_retain;
	bool clean_session;
	uint16_t keepalive_s;
};

/*
 * Encoders. Every encoder writes one whole packet into @buf (capacity @cap)
 * and returns its length, -EMSGSIZE when it does not fit in @cap (then
 * nothing is written), or -EINVAL for what MQTT cannot carry: a string over
 * 65535 bytes or not well-formed UTF-8, qos > 2, a password without a user,
 * packet id 0 where one is needed, an empty topic or topic filter, a
 * wildcard in a topic name, a misplaced wildcard in a topic filter, or a
 * packet whose remaining length would exceed MQTT_REMAINING_MAX. -EINVAL is
 * checked before -EMSGSIZE, so a bad argument is reported whatever @cap is.
 */

/*
 * CONNECT, protocol "MQTT" level 4. Returns the packet length, -EMSGSIZE or
 * -EINVAL (also for a NULL @o, or a will payload over 65535 bytes or NULL
 * with a non-zero will_len).
 */
int mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect_opts *o);

/*
 * PUBLISH with the DUP flag clear. @payload may be NULL when @len is 0.
 * Returns the packet length, -EMSGSIZE or -EINVAL.
 */
int mqtt_encode_publish(uint8_t *buf, size_t cap, const char *topic, const uint8_t *payload,
			size_t len, uint8_t qos, bool retain, uint16_t packet_id /* ignored for qos 0 */);

/*
 * Only the fixed header, topic and (qos>0) packet id of a PUBLISH whose
 * payload of @payload_len bytes the caller streams after it (PubSubClient's
 * beginPublish/write/endPublish). Returns the length of that header part
 * (the remaining length written in it counts the payload too), -EMSGSIZE
 * when the header part does not fit in @cap, or -EINVAL.
 */
int mqtt_encode_publish_header(uint8_t *buf, size_t cap, const char *topic, size_t payload_len,
			       uint8_t qos, bool retain, uint16_t packet_id);

/* SUBSCRIBE to one topic filter. Returns the packet length, -EMSGSIZE or -EINVAL. */
int mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *topic_filter,
			  uint8_t qos);

/* UNSUBSCRIBE from one topic filter. Returns the packet length, -EMSGSIZE or -EINVAL. */
int mqtt_encode_unsubscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *topic_filter);

/* PUBACK (four bytes). Returns 4, -EMSGSIZE, or -EINVAL for packet id 0. */
int mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t packet_id);

/* PINGREQ, PINGRESP or DISCONNECT (two bytes). Returns 2, -EMSGSIZE, or -EINVAL for any other type. */
int mqtt_encode_empty(uint8_t *buf, size_t cap, enum mqtt_packet_type type);

/*
 * The variable-length "remaining length" field: writes 1-4 bytes into @out
 * and returns how many, or -EINVAL above MQTT_REMAINING_MAX (nothing written).
 */
int mqtt_encode_remaining_length(uint8_t out[4], size_t value);

/*
 * Reading a broker's byte stream, packet by packet, into a caller's buffer
 * (PubSubClient's buffer: whole packets, fixed header included, must fit in
 * it). The fields are the reader's own: set them with mqtt_reader_init().
 */
struct mqtt_reader {
	uint8_t *buf;
	size_t cap;
	uint8_t hdr[MQTT_FIXED_HEADER_MAX]; /* the fixed header, until it is known to fit */
	uint8_t hdr_len;
	bool hdr_done;
	bool ready;   /* a whole packet is in buf; the next feed starts over */
	bool skipping;
	bool broken;  /* the stream was not MQTT: every feed fails */
	size_t remaining;
	size_t have;  /* bytes of the current packet stored, or skipped */
	size_t total; /* fixed header + remaining, once the header is done */
};

struct mqtt_packet {
	uint8_t type;
	uint8_t flags;        /* low nibble of byte 0 */
	const uint8_t *body;  /* variable header + payload, inside the reader's buffer */
	size_t body_len;
	size_t total_len;     /* fixed header included */
};

/* Start reading a new stream into @buf (@cap bytes; any size, 0 included). */
void mqtt_reader_init(struct mqtt_reader *r, uint8_t *buf, size_t cap);

/*
 * Feed bytes. Consumes at most up to the end of the current packet
 * (*@consumed says how many; @consumed may be NULL). Returns:
 *   1 when a whole packet is in the buffer: mqtt_reader_packet() describes
 *     it until the next feed, which starts a new packet and overwrites it;
 *   0 when more bytes are needed (then all @len bytes were consumed);
 *   2 when a packet larger than the buffer was skipped whole (its bytes
 *     consumed and dropped, as PubSubClient drops an incoming packet that
 *     exceeds its buffer; the stream stays in sync);
 *   -EPROTO for a stream that is not MQTT (a remaining length of more than
 *     4 bytes, packet type 0 or 15): the caller closes the connection. The
 *     reader then refuses every feed with -EPROTO until mqtt_reader_init().
 */
int mqtt_reader_feed(struct mqtt_reader *r, const uint8_t *data, size_t len, size_t *consumed);

/*
 * The packet the last feed completed (it returned 1). When there is none,
 * @out says type 0 with an empty body, which every parse function refuses.
 */
void mqtt_reader_packet(const struct mqtt_reader *r, struct mqtt_packet *out);

/*
 * Decoding what a broker sends to a client. Each returns 0, or -EPROTO for a
 * malformed packet (another type than the function reads, wrong length for
 * its type, wrong reserved flags where 3.1.1 fixes them, a topic length past
 * the body, qos 3, packet id 0 on qos>0, ...), after which 3.1.1 has the
 * client close the connection. Outputs are written only on success; any
 * output pointer may be NULL.
 */

/*
 * CONNACK. Returns 0 or -EPROTO (reserved acknowledge flags set, or session
 * present with a non-zero return code). A return code above 5 is still 0
 * with the code given.
 */
int mqtt_parse_connack(const struct mqtt_packet *p, bool *session_present, uint8_t *return_code);

struct mqtt_publish {
	const char *topic;    /* NOT NUL-terminated */
	size_t topic_len;
	const uint8_t *payload;
	size_t payload_len;
	uint8_t qos;
	bool retain;
	bool dup;
	uint16_t packet_id;   /* 0 for qos 0 */
};

/*
 * PUBLISH. Returns 0 or -EPROTO (also for DUP on qos 0, and for an empty
 * topic, one holding a NUL byte or one that is not well-formed UTF-8, which
 * 3.1.1 has the receiver close the connection for). The topic and payload
 * point into the packet's body.
 */
int mqtt_parse_publish(const struct mqtt_packet *p, struct mqtt_publish *out);

/* PUBACK, UNSUBACK (and PUBREC/PUBREL/PUBCOMP): the packet id. Returns 0 or -EPROTO. */
int mqtt_parse_ack(const struct mqtt_packet *p, uint16_t *packet_id);

/*
 * SUBACK for one topic: its id and the granted qos (0-2), or 0x80 (failure).
 * Returns 0 or -EPROTO (also for a SUBACK carrying more than one code).
 */
int mqtt_parse_suback(const struct mqtt_packet *p, uint16_t *packet_id, uint8_t *granted);

#ifdef __cplusplus
}
#endif

#endif /* MQTT_PACKET_H */
