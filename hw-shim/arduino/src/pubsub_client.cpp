// PubSubClient: MQTT 3.1.1 over a Client, with the 2.8 library's buffer, keepalive and timeout behaviour.
#include "PubSubClient.h"

#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "sockets.h"

extern "C" {
#include "mqtt_packet.h"
#include "shim_internal.h"
}

using namespace robofleet_arduino;

/* The 2.8 library's size check reserves this much for the fixed header. */
static const size_t MAX_HEADER_SIZE = 5;

PubSubClient::PubSubClient()
{
	setBufferSize(MQTT_MAX_PACKET_SIZE);
}

PubSubClient::PubSubClient(Client &client) : PubSubClient()
{
	setClient(client);
}

PubSubClient::PubSubClient(IPAddress addr, uint16_t port, Client &client) : PubSubClient(client)
{
	setServer(addr, port);
}

PubSubClient::PubSubClient(IPAddress addr, uint16_t port, Client &client, Stream &stream)
	: PubSubClient(addr, port, client)
{
	setStream(stream);
}

PubSubClient::PubSubClient(IPAddress addr, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client)
	: PubSubClient(addr, port, client)
{
	setCallback(callback);
}

PubSubClient::PubSubClient(IPAddress addr, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client,
			   Stream &stream)
	: PubSubClient(addr, port, callback, client)
{
	setStream(stream);
}

PubSubClient::PubSubClient(uint8_t *ip, uint16_t port, Client &client)
	: PubSubClient(IPAddress(ip), port, client)
{
}

PubSubClient::PubSubClient(uint8_t *ip, uint16_t port, Client &client, Stream &stream)
	: PubSubClient(IPAddress(ip), port, client, stream)
{
}

PubSubClient::PubSubClient(uint8_t *ip, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client)
	: PubSubClient(IPAddress(ip), port, callback, client)
{
}

PubSubClient::PubSubClient(uint8_t *ip, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client,
			   Stream &stream)
	: PubSubClient(IPAddress(ip), port, callback, client, stream)
{
}

PubSubClient::PubSubClient(const char *domain, uint16_t port, Client &client) : PubSubClient(client)
{
	setServer(domain, port);
}

PubSubClient::PubSubClient(const char *domain, uint16_t port, Client &client, Stream &stream)
	: PubSubClient(domain, port, client)
{
	setStream(stream);
}

PubSubClient::PubSubClient(const char *domain, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client)
	: PubSubClient(domain, port, client)
{
	setCallback(callback);
}

PubSubClient::PubSubClient(const char *domain, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client,
			   Stream &stream)
	: PubSubClient(domain, port, callback, client)
{
	setStream(stream);
}

PubSubClient::~PubSubClient()
{
	free(buffer_);
}

PubSubClient &PubSubClient::setServer(IPAddress ip, uint16_t port)
{
	ip_ = ip;
	port_ = port;
	domain_ = nullptr;
	return *this;
}

PubSubClient &PubSubClient::setServer(uint8_t *ip, uint16_t port)
{
	return setServer(IPAddress(ip), port);
}

PubSubClient &PubSubClient::setServer(const char *domain, uint16_t port)
{
	/* Kept by pointer, as the library does: the sketch's string must live on. */
	domain_ = domain;
	port_ = port;
	return *this;
}

PubSubClient &PubSubClient::setCallback(MQTT_CALLBACK_SIGNATURE)
{
	callback_ = callback;
	return *this;
}

PubSubClient &PubSubClient::setClient(Client &client)
{
	client_ = &client;
	return *this;
}

PubSubClient &PubSubClient::setStream(Stream &stream)
{
	stream_ = &stream;
	return *this;
}

PubSubClient &PubSubClient::setKeepAlive(uint16_t keepalive_s)
{
	keepalive_s_ = keepalive_s;
	return *this;
}

PubSubClient &PubSubClient::setSocketTimeout(uint16_t timeout_s)
{
	socket_timeout_s_ = timeout_s;
	return *this;
}

boolean PubSubClient::setBufferSize(uint16_t size)
{
	if (size == 0)
		return false;
	uint8_t *b = static_cast<uint8_t *>(realloc(buffer_, size));
	if (!b)
		return false;
	buffer_ = b;
	buffer_size_ = size;
	return true;
}

void PubSubClient::set_state(int state)
{
	state_ = state;
	runtime_set_mqtt_connected(state == MQTT_CONNECTED);
}

uint16_t PubSubClient::next_packet_id()
{
	if (++next_id_ == 0)
		next_id_ = 1;
	return next_id_;
}

bool PubSubClient::write_all(const uint8_t *buf, size_t len)
{
	size_t n = client_->write(buf, len);

	last_out_ms_ = millis();
	return n == len;
}

void PubSubClient::packet_of(struct mqtt_packet *p) const
{
	p->type = pkt_type_;
	p->flags = pkt_flags_;
	p->body = buffer_ + pkt_body_off_;
	p->body_len = pkt_body_len_;
	p->total_len = 0;
}

/* While the library blocks on its socket, the simulation goes on. */
static void wait_for_bytes()
{
	sockets_wait_readable(10);
	runtime_note_slept();
	runtime_service();
}

/*
 * Read one packet into the buffer. Returns 1 with a packet there, 0 when
 * none is (nothing arrived and @wait is false, an oversize packet was
 * dropped, or the socket timeout passed between two bytes), or -1 when
 * the stream is broken (the connection is closed).
 */
int PubSubClient::read_packet(bool wait)
{
	struct mqtt_reader reader;
	unsigned long last_byte_ms = millis();
	bool started = false;

	mqtt_reader_init(&reader, buffer_, buffer_size_);
	for (;;) {
		if (rx_off_ == rx_len_) {
			rx_off_ = rx_len_ = 0;
			int n = client_->available() ? client_->read(rx_, sizeof(rx_)) : -1;
			if (n <= 0) {
				if (!started && !wait)
					return 0;
				if (!client_->connected())
					return -1;
				if (millis() - last_byte_ms >= socket_timeout_s_ * 1000UL)
					return 0;
				wait_for_bytes();
				continue;
			}
			rx_len_ = (size_t)n;
			last_byte_ms = millis();
		}
		size_t used = 0;
		int rc = mqtt_reader_feed(&reader, rx_ + rx_off_, rx_len_ - rx_off_, &used);
		rx_off_ += used;
		started = true;
		if (rc == 1) {
			struct mqtt_packet p;

			mqtt_reader_packet(&reader, &p);
			pkt_type_ = p.type;
			pkt_flags_ = p.flags;
			pkt_body_off_ = (size_t)(p.body - buffer_);
			pkt_body_len_ = p.body_len;
			return 1;
		}
		if (rc == 2)
			return 0;
		if (rc < 0) {
			client_->stop();
			return -1;
		}
	}
}

boolean PubSubClient::connect(const char *id)
{
	return connect(id, nullptr, nullptr, nullptr, 0, false, nullptr, true);
}

boolean PubSubClient::connect(const char *id, const char *user, const char *pass)
{
	return connect(id, user, pass, nullptr, 0, false, nullptr, true);
}

boolean PubSubClient::connect(const char *id, const char *willTopic, uint8_t willQos,
			      boolean willRetain, const char *willMessage)
{
	return connect(id, nullptr, nullptr, willTopic, willQos, willRetain, willMessage, true);
}

boolean PubSubClient::connect(const char *id, const char *user, const char *pass,
			      const char *willTopic, uint8_t willQos, boolean willRetain,
			      const char *willMessage)
{
	return connect(id, user, pass, willTopic, willQos, willRetain, willMessage, true);
}

boolean PubSubClient::connect(const char *id, const char *user, const char *pass,
			      const char *willTopic, uint8_t willQos, boolean willRetain,
			      const char *willMessage, boolean cleanSession)
{
	struct mqtt_connect_opts o;
	struct mqtt_packet p;
	bool session_present = false;
	uint8_t code = 0;
	int n;

	if (!client_)
		return false;
	if (connected())
		return true;
	int result = domain_ ? client_->connect(domain_, port_) : client_->connect(ip_, port_);
	if (result != 1) {
		set_state(MQTT_CONNECT_FAILED);
		return false;
	}
	rx_len_ = rx_off_ = 0;
	next_id_ = 1;
	memset(&o, 0, sizeof(o));
	o.client_id = id ? id : "";
	o.user = user;
	/* Under the wrong_password fault the device presents another password
	 * than the one its sketch gives, as the built-in robot does. */
	o.password = user ? shim__credentials_password(pass) : nullptr;
	o.will_topic = willTopic;
	o.will_payload = reinterpret_cast<const uint8_t *>(willMessage);
	o.will_len = willMessage ? strlen(willMessage) : 0;
	o.will_qos = willQos;
	o.will_retain = willRetain;
	o.clean_session = cleanSession;
	o.keepalive_s = keepalive_s_;
	n = mqtt_encode_connect(buffer_, buffer_size_, &o);
	if (n < 0 || !write_all(buffer_, (size_t)n)) {
		client_->stop();
		return false;
	}
	last_in_ms_ = last_out_ms_ = millis();
	while (!client_->available()) {
		if (millis() - last_in_ms_ >= socket_timeout_s_ * 1000UL) {
			client_->stop();
			set_state(MQTT_CONNECTION_TIMEOUT);
			return false;
		}
		wait_for_bytes();
	}
	if (read_packet(true) == 1) {
		packet_of(&p);
		if (p.type == MQTT_CONNACK && mqtt_parse_connack(&p, &session_present, &code) == 0) {
			last_in_ms_ = millis();
			if (code == 0) {
				ping_outstanding_ = false;
				if (ever_connected_)
					runtime_counters().reconnects++;
				ever_connected_ = true;
				set_state(MQTT_CONNECTED);
				return true;
			}
			set_state(code);
		}
	}
	client_->stop();
	return false;
}

boolean PubSubClient::connected()
{
	if (!client_)
		return false;
	if (!client_->connected()) {
		if (state_ == MQTT_CONNECTED) {
			set_state(MQTT_CONNECTION_LOST);
			client_->flush();
			client_->stop();
		}
		return false;
	}
	return state_ == MQTT_CONNECTED;
}

void PubSubClient::disconnect()
{
	int n = mqtt_encode_empty(buffer_, buffer_size_, MQTT_DISCONNECT);

	if (client_) {
		if (n > 0)
			client_->write(buffer_, (size_t)n);
		client_->flush();
		client_->stop();
	}
	set_state(MQTT_DISCONNECTED);
	last_in_ms_ = last_out_ms_ = millis();
}

boolean PubSubClient::publish(const char *topic, const char *payload)
{
	return publish(topic, reinterpret_cast<const uint8_t *>(payload),
		       payload ? (unsigned int)strlen(payload) : 0, false);
}

boolean PubSubClient::publish(const char *topic, const char *payload, boolean retained)
{
	return publish(topic, reinterpret_cast<const uint8_t *>(payload),
		       payload ? (unsigned int)strlen(payload) : 0, retained);
}

boolean PubSubClient::publish(const char *topic, const uint8_t *payload, unsigned int plength)
{
	return publish(topic, payload, plength, false);
}

boolean PubSubClient::publish(const char *topic, const uint8_t *payload, unsigned int plength,
			      boolean retained)
{
	int n;

	if (!topic)
		return false;
	if (!connected()) {
		runtime_count_publish(topic, false);
		return false;
	}
	/* The library refuses what its buffer cannot hold, header included. */
	if (buffer_size_ < MAX_HEADER_SIZE + 2 + strnlen(topic, buffer_size_) + plength) {
		runtime_count_publish(topic, false);
		return false;
	}
	n = mqtt_encode_publish(buffer_, buffer_size_, topic, payload, plength, 0, retained, 0);
	bool sent = n >= 0 && write_all(buffer_, (size_t)n);
	runtime_count_publish(topic, sent);
	return sent;
}

boolean PubSubClient::publish_P(const char *topic, const char *payload, boolean retained)
{
	return publish(topic, payload, retained);
}

boolean PubSubClient::publish_P(const char *topic, const uint8_t *payload, unsigned int plength,
				boolean retained)
{
	return publish(topic, payload, plength, retained);
}

boolean PubSubClient::beginPublish(const char *topic, unsigned int plength, boolean retained)
{
	int n;

	if (!topic)
		return false;
	if (!connected()) {
		runtime_count_publish(topic, false);
		return false;
	}
	n = mqtt_encode_publish_header(buffer_, buffer_size_, topic, plength, 0, retained, 0);
	if (n < 0 || !write_all(buffer_, (size_t)n)) {
		runtime_count_publish(topic, false);
		return false;
	}
	snprintf(streamed_topic_, sizeof(streamed_topic_), "%s", topic);
	return true;
}

int PubSubClient::endPublish()
{
	runtime_count_publish(streamed_topic_, true);
	streamed_topic_[0] = '\0';
	return 1;
}

size_t PubSubClient::write(uint8_t b)
{
	return write(&b, 1);
}

size_t PubSubClient::write(const uint8_t *buf, size_t size)
{
	if (!client_)
		return 0;
	last_out_ms_ = millis();
	return client_->write(buf, size);
}

boolean PubSubClient::subscribe(const char *topic)
{
	return subscribe(topic, 0);
}

boolean PubSubClient::subscribe(const char *topic, uint8_t qos)
{
	int n;

	if (!topic || qos > 1)
		return false;
	if (buffer_size_ < 9 + strnlen(topic, buffer_size_))
		return false;
	if (!connected())
		return false;
	n = mqtt_encode_subscribe(buffer_, buffer_size_, next_packet_id(), topic, qos);
	return n > 0 && write_all(buffer_, (size_t)n);
}

boolean PubSubClient::unsubscribe(const char *topic)
{
	int n;

	if (!topic)
		return false;
	if (buffer_size_ < 9 + strnlen(topic, buffer_size_))
		return false;
	if (!connected())
		return false;
	n = mqtt_encode_unsubscribe(buffer_, buffer_size_, next_packet_id(), topic);
	return n > 0 && write_all(buffer_, (size_t)n);
}

void PubSubClient::handle_packet()
{
	struct mqtt_packet p;
	struct mqtt_publish pub;
	uint8_t out[4];
	int n;

	packet_of(&p);
	runtime_note_busy();
	switch (p.type) {
	case MQTT_PUBLISH:
		if (mqtt_parse_publish(&p, &pub) < 0)
			return;
		runtime_counters().commands++;
		if (stream_ && pub.payload_len)
			stream_->write(pub.payload, pub.payload_len);
		if (callback_) {
			/* The callback wants a C string: slide the topic one byte
			 * back over its length field, as the library does. */
			char *topic = reinterpret_cast<char *>(buffer_) +
				      (pub.topic - reinterpret_cast<const char *>(buffer_)) - 1;
			memmove(topic, topic + 1, pub.topic_len);
			topic[pub.topic_len] = '\0';
			callback_(topic, const_cast<uint8_t *>(pub.payload),
				  (unsigned int)pub.payload_len);
		}
		if (pub.qos == 1 && (n = mqtt_encode_puback(out, sizeof(out), pub.packet_id)) > 0)
			write_all(out, (size_t)n);
		break;
	case MQTT_PINGREQ:
		if ((n = mqtt_encode_empty(out, sizeof(out), MQTT_PINGRESP)) > 0)
			write_all(out, (size_t)n);
		break;
	case MQTT_PINGRESP:
		ping_outstanding_ = false;
		break;
	default:
		break;
	}
}

boolean PubSubClient::loop()
{
	runtime_spin_guard();
	if (!connected())
		return false;
	unsigned long t = millis();
	unsigned long keepalive_ms = keepalive_s_ * 1000UL;
	if (keepalive_s_ && (t - last_in_ms_ > keepalive_ms || t - last_out_ms_ > keepalive_ms)) {
		if (ping_outstanding_) {
			set_state(MQTT_CONNECTION_TIMEOUT);
			client_->stop();
			return false;
		}
		uint8_t ping[2];
		int n = mqtt_encode_empty(ping, sizeof(ping), MQTT_PINGREQ);
		if (n > 0)
			client_->write(ping, (size_t)n);
		last_out_ms_ = last_in_ms_ = t;
		ping_outstanding_ = true;
	}
	if (rx_off_ < rx_len_ || client_->available()) {
		int rc = read_packet(true);
		if (rc == 1) {
			last_in_ms_ = millis();
			handle_packet();
		} else if (rc < 0) {
			return connected();
		}
	} else if (!connected()) {
		return false;
	}
	return true;
}
