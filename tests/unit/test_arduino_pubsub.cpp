// The Arduino layer's PubSubClient over an in-memory Client: the bytes it writes and what it makes of scripted replies, against PubSubClient 2.8 and MQTT 3.1.1.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <deque>
#include <initializer_list>
#include <string>
#include <vector>

/* cmocka's header has no C++ linkage of its own. */
extern "C" {
#include <cmocka.h>
}

#include "Arduino.h"
#include "Client.h"
#include "PubSubClient.h"

/* A connection in memory: every byte written is kept, reads serve what the
 * test queued, and connect()/connected() answer what the test says. */
class FakeClient : public Client {
public:
	std::vector<uint8_t> written;
	std::deque<uint8_t> incoming;
	int connect_result = 1;
	bool is_connected = false;
	int connects = 0;
	int stops = 0;
	std::string host;
	IPAddress ip;
	uint16_t port = 0;

	int connect(IPAddress addr, uint16_t p) override
	{
		ip = addr;
		host.clear();
		return opened(p);
	}
	int connect(const char *h, uint16_t p) override
	{
		host = h ? h : "";
		return opened(p);
	}
	using Client::write;
	size_t write(uint8_t b) override
	{
		written.push_back(b);
		return 1;
	}
	size_t write(const uint8_t *buf, size_t size) override
	{
		written.insert(written.end(), buf, buf + size);
		return size;
	}
	int available() override { return (int)incoming.size(); }
	int read() override
	{
		if (incoming.empty())
			return -1;
		int c = incoming.front();
		incoming.pop_front();
		return c;
	}
	int read(uint8_t *buf, size_t size) override
	{
		size_t n = 0;
		while (n < size && !incoming.empty()) {
			buf[n++] = incoming.front();
			incoming.pop_front();
		}
		return n ? (int)n : -1;
	}
	int peek() override { return incoming.empty() ? -1 : incoming.front(); }
	void flush() override {}
	void stop() override
	{
		stops++;
		is_connected = false;
	}
	uint8_t connected() override { return is_connected; }
	operator bool() override { return is_connected; }

	void queue(const std::vector<uint8_t> &bytes) { incoming.insert(incoming.end(), bytes.begin(), bytes.end()); }

private:
	int opened(uint16_t p)
	{
		connects++;
		port = p;
		if (connect_result == 1)
			is_connected = true;
		return connect_result;
	}
};

/* Packets spelled out byte by byte. */
struct Bytes : std::vector<uint8_t> {
	Bytes &b(std::initializer_list<int> list)
	{
		for (int v : list)
			push_back((uint8_t)v);
		return *this;
	}
	Bytes &s(const char *text)
	{
		while (*text)
			push_back((uint8_t)*text++);
		return *this;
	}
	Bytes &n(size_t count, uint8_t v)
	{
		insert(end(), count, v);
		return *this;
	}
};

static std::string hex(const std::vector<uint8_t> &v)
{
	std::string out;
	char two[4];

	for (size_t i = 0; i < v.size() && i < 48; i++) {
		snprintf(two, sizeof(two), "%02x ", v[i]);
		out += two;
	}
	if (v.size() > 48)
		out += "...";
	return out;
}

static void expect_bytes(const std::vector<uint8_t> &got, const std::vector<uint8_t> &want)
{
	if (got != want)
		fail_msg("wrote %zu bytes [%s], expected %zu [%s]", got.size(), hex(got).c_str(),
			 want.size(), hex(want).c_str());
}

static const Bytes CONNACK_OK = Bytes().b({ 0x20, 0x02, 0x00, 0x00 });

struct Delivery {
	std::string topic;
	size_t topic_strlen;
	std::vector<uint8_t> payload;
	size_t written_when_called;
};

struct Fixture {
	FakeClient net;
	PubSubClient mqtt;
	std::vector<Delivery> delivered;

	Fixture() : mqtt(net)
	{
		mqtt.setServer("broker.local", 1883);
		mqtt.setCallback([this](char *topic, uint8_t *payload, unsigned int length) {
			delivered.push_back(Delivery{ topic, strlen(topic),
						      std::vector<uint8_t>(payload, payload + length),
						      net.written.size() });
		});
	}
};

static int fixture_setup(void **state)
{
	*state = new Fixture();
	return 0;
}

static int fixture_teardown(void **state)
{
	delete static_cast<Fixture *>(*state);
	return 0;
}

/* Connected with CONNACK 0, and nothing written yet as far as the test sees. */
static Fixture &connected_fixture(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("dev1"));
	f.net.written.clear();
	return f;
}

/* An incoming PUBLISH as a broker would send it. */
static Bytes publish_packet(const char *topic, const std::vector<uint8_t> &payload, int qos, uint16_t id)
{
	size_t rl = 2 + strlen(topic) + (qos ? 2 : 0) + payload.size();
	Bytes p;

	p.b({ 0x30 | (qos << 1) });
	do {
		uint8_t d = rl % 128;
		rl /= 128;
		p.push_back(rl ? d | 0x80 : d);
	} while (rl);
	p.b({ (int)(strlen(topic) >> 8), (int)(strlen(topic) & 0xff) }).s(topic);
	if (qos)
		p.b({ id >> 8, id & 0xff });
	p.insert(p.end(), payload.begin(), payload.end());
	return p;
}

static std::vector<uint8_t> text(const char *s)
{
	return std::vector<uint8_t>(s, s + strlen(s));
}

/* ---- connect ------------------------------------------------------------------ */

static void test_arduino_connect_bytes_for_id(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("dev1"));
	/* MQTT 3.1.1, clean session, the library's default keepalive of 15 s. */
	expect_bytes(f.net.written, Bytes()
					    .b({ 0x10, 0x10, 0x00, 0x04 })
					    .s("MQTT")
					    .b({ 0x04, 0x02, 0x00, 0x0f, 0x00, 0x04 })
					    .s("dev1"));
	assert_int_equal(f.net.connects, 1);
	assert_string_equal(f.net.host.c_str(), "broker.local");
	assert_int_equal(f.net.port, 1883);
	assert_int_equal(f.mqtt.state(), MQTT_CONNECTED);
	assert_true(f.mqtt.connected());
	/* Connected already: no second CONNECT. */
	assert_true(f.mqtt.connect("dev1"));
	assert_int_equal(f.net.connects, 1);
	assert_int_equal(f.net.written.size(), 18);
}

static void test_arduino_connect_bytes_with_will_credentials_and_session(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	f.mqtt.setServer(IPAddress(10, 0, 0, 5), 1884);
	f.mqtt.setKeepAlive(30);
	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("id", "user", "pass", "will/t", 1, true, "bye", false));
	/* Flags: user, password, will retain, will QoS 1, will; no clean session. */
	expect_bytes(f.net.written, Bytes()
					    .b({ 0x10, 0x27, 0x00, 0x04 })
					    .s("MQTT")
					    .b({ 0x04, 0xec, 0x00, 0x1e, 0x00, 0x02 })
					    .s("id")
					    .b({ 0x00, 0x06 })
					    .s("will/t")
					    .b({ 0x00, 0x03 })
					    .s("bye")
					    .b({ 0x00, 0x04 })
					    .s("user")
					    .b({ 0x00, 0x04 })
					    .s("pass"));
	assert_true(f.net.host.empty());
	assert_true(f.net.ip == IPAddress(10, 0, 0, 5));
	assert_int_equal(f.net.port, 1884);
	assert_int_equal(f.mqtt.state(), MQTT_CONNECTED);
}

static void test_arduino_connect_bytes_user_only_and_will_only(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	f.net.queue(CONNACK_OK);
	/* A password without a user is not sent, as the library does. */
	assert_true(f.mqtt.connect("c", "u", nullptr));
	expect_bytes(f.net.written, Bytes()
					    .b({ 0x10, 0x10, 0x00, 0x04 })
					    .s("MQTT")
					    .b({ 0x04, 0x82, 0x00, 0x0f, 0x00, 0x01 })
					    .s("c")
					    .b({ 0x00, 0x01 })
					    .s("u"));
	f.mqtt.disconnect();
	f.net.written.clear();
	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("w", "t", 0, false, "m"));
	expect_bytes(f.net.written, Bytes()
					    .b({ 0x10, 0x13, 0x00, 0x04 })
					    .s("MQTT")
					    .b({ 0x04, 0x06, 0x00, 0x0f, 0x00, 0x01 })
					    .s("w")
					    .b({ 0x00, 0x01 })
					    .s("t")
					    .b({ 0x00, 0x01 })
					    .s("m"));
}

static void test_arduino_connack_accepted(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	assert_int_equal(f.mqtt.state(), MQTT_DISCONNECTED);
	assert_false(f.mqtt.connected());
	/* Session present does not matter to the library. */
	f.net.queue(Bytes().b({ 0x20, 0x02, 0x01, 0x00 }));
	assert_true(f.mqtt.connect("dev1"));
	assert_int_equal(f.mqtt.state(), 0);
	assert_true(f.mqtt.connected());
	assert_int_equal(f.net.stops, 0);
}

static void test_arduino_connack_refused(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	f.net.queue(Bytes().b({ 0x20, 0x02, 0x00, 0x05 }));
	assert_false(f.mqtt.connect("dev1"));
	assert_int_equal(f.mqtt.state(), MQTT_CONNECT_UNAUTHORIZED);
	assert_int_equal(f.mqtt.state(), 5);
	assert_false(f.mqtt.connected());
	/* The library closes the connection it opened. */
	assert_int_equal(f.net.stops, 1);
	assert_false(f.net.is_connected);

	f.net.queue(Bytes().b({ 0x20, 0x02, 0x00, 0x04 }));
	assert_false(f.mqtt.connect("dev1"));
	assert_int_equal(f.mqtt.state(), MQTT_CONNECT_BAD_CREDENTIALS);
}

static void test_arduino_connect_client_fails(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	f.net.connect_result = 0;
	assert_false(f.mqtt.connect("dev1"));
	assert_int_equal(f.mqtt.state(), MQTT_CONNECT_FAILED);
	assert_int_equal(f.mqtt.state(), -2);
	assert_int_equal(f.net.connects, 1);
	assert_true(f.net.written.empty());
	assert_false(f.mqtt.connected());
}

static void test_arduino_connect_without_connack_times_out(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	/* The shortest socket timeout the API allows: one real second. */
	f.mqtt.setSocketTimeout(1);
	assert_false(f.mqtt.connect("dev1"));
	assert_int_equal(f.mqtt.state(), MQTT_CONNECTION_TIMEOUT);
	assert_int_equal(f.net.stops, 1);
	assert_false(f.mqtt.connected());
}

/* ---- publish ------------------------------------------------------------------ */

static void test_arduino_publish_bytes(void **state)
{
	Fixture &f = connected_fixture(state);
	const uint8_t bin[3] = { 0x00, 0xff, 0x10 };

	assert_true(f.mqtt.publish("a/b", "hi"));
	expect_bytes(f.net.written, Bytes().b({ 0x30, 0x07, 0x00, 0x03 }).s("a/b").s("hi"));
	f.net.written.clear();
	assert_true(f.mqtt.publish("a/b", "hi", true));
	expect_bytes(f.net.written, Bytes().b({ 0x31, 0x07, 0x00, 0x03 }).s("a/b").s("hi"));
	f.net.written.clear();
	assert_true(f.mqtt.publish("t", bin, sizeof(bin)));
	expect_bytes(f.net.written, Bytes().b({ 0x30, 0x06, 0x00, 0x01 }).s("t").b({ 0x00, 0xff, 0x10 }));
	f.net.written.clear();
	assert_true(f.mqtt.publish("t", ""));
	expect_bytes(f.net.written, Bytes().b({ 0x30, 0x03, 0x00, 0x01 }).s("t"));
}

static void test_arduino_publish_size_limit(void **state)
{
	Fixture &f = connected_fixture(state);
	std::vector<uint8_t> payload(600, 'p');

	assert_int_equal(f.mqtt.getBufferSize(), 256);
	/* 5 (the header as the library counts it) + 2 + 3 + 246 = 256: fits. */
	assert_true(f.mqtt.publish("t/x", payload.data(), 246));
	expect_bytes(f.net.written, Bytes().b({ 0x30, 0xfb, 0x01, 0x00, 0x03 }).s("t/x").n(246, 'p'));
	f.net.written.clear();
	assert_false(f.mqtt.publish("t/x", payload.data(), 247));
	assert_true(f.net.written.empty());
	/* The same count for a text payload. */
	std::string s246(246, 's'), s247(247, 's');
	assert_true(f.mqtt.publish("t/x", s246.c_str()));
	assert_false(f.mqtt.publish("t/x", s247.c_str(), true));
	f.net.written.clear();

	assert_true(f.mqtt.setBufferSize(512));
	assert_int_equal(f.mqtt.getBufferSize(), 512);
	assert_true(f.mqtt.connected());
	assert_true(f.mqtt.publish("t/x", payload.data(), 502));
	expect_bytes(f.net.written, Bytes().b({ 0x30, 0xfb, 0x03, 0x00, 0x03 }).s("t/x").n(502, 'p'));
	f.net.written.clear();
	assert_false(f.mqtt.publish("t/x", payload.data(), 503));
	assert_true(f.net.written.empty());
}

static void test_arduino_set_buffer_size_zero_refused(void **state)
{
	Fixture &f = connected_fixture(state);
	std::vector<uint8_t> payload(256, 'p');

	assert_false(f.mqtt.setBufferSize(0));
	assert_int_equal(f.mqtt.getBufferSize(), 256);
	assert_true(f.mqtt.publish("t/x", payload.data(), 246));
	assert_true(f.mqtt.setBufferSize(100));
	assert_int_equal(f.mqtt.getBufferSize(), 100);
	assert_true(f.mqtt.publish("t/x", payload.data(), 90));
	assert_false(f.mqtt.publish("t/x", payload.data(), 91));
	assert_false(f.mqtt.setBufferSize(0));
	assert_int_equal(f.mqtt.getBufferSize(), 100);
}

static void test_arduino_publish_when_not_connected(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	assert_false(f.mqtt.publish("a/b", "hi"));
	assert_false(f.mqtt.beginPublish("a/b", 2, false));
	assert_false(f.mqtt.subscribe("a/b"));
	assert_false(f.mqtt.unsubscribe("a/b"));
	assert_false(f.mqtt.loop());
	assert_true(f.net.written.empty());

	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("dev1"));
	f.mqtt.disconnect();
	f.net.written.clear();
	assert_false(f.mqtt.publish("a/b", "hi"));
	assert_true(f.net.written.empty());
}

static void test_arduino_begin_publish_streams(void **state)
{
	Fixture &f = connected_fixture(state);

	assert_true(f.mqtt.beginPublish("s/t", 5, false));
	assert_int_equal(f.mqtt.print("hel"), 3);
	assert_int_equal(f.mqtt.write((uint8_t)'l'), 1);
	assert_int_equal(f.mqtt.write(reinterpret_cast<const uint8_t *>("o"), 1), 1);
	assert_int_equal(f.mqtt.endPublish(), 1);
	expect_bytes(f.net.written, Bytes().b({ 0x30, 0x0a, 0x00, 0x03 }).s("s/t").s("hello"));
	f.net.written.clear();

	/* The payload never goes through the buffer: it may be larger. */
	assert_true(f.mqtt.beginPublish("s", 1000, true));
	expect_bytes(f.net.written, Bytes().b({ 0x31, 0xeb, 0x07, 0x00, 0x01 }).s("s"));
	std::vector<uint8_t> body(1000, 'b');
	assert_int_equal(f.mqtt.write(body.data(), body.size()), 1000);
	assert_int_equal(f.mqtt.endPublish(), 1);
	assert_int_equal(f.net.written.size(), 6 + 1000);
}

/* ---- subscribe ---------------------------------------------------------------- */

static void test_arduino_subscribe_qos2_refused(void **state)
{
	Fixture &f = connected_fixture(state);

	assert_false(f.mqtt.subscribe("a/b", 2));
	assert_true(f.net.written.empty());
	assert_true(f.mqtt.subscribe("a/b", 1));
}

static void test_arduino_subscribe_unsubscribe_bytes(void **state)
{
	Fixture &f = connected_fixture(state);

	/* The library sets its packet id to 1 at connect and counts up before
	 * each use: the first SUBSCRIBE carries 2. */
	assert_true(f.mqtt.subscribe("a/b"));
	expect_bytes(f.net.written, Bytes().b({ 0x82, 0x08, 0x00, 0x02, 0x00, 0x03 }).s("a/b").b({ 0x00 }));
	f.net.written.clear();
	assert_true(f.mqtt.subscribe("c", 1));
	expect_bytes(f.net.written, Bytes().b({ 0x82, 0x06, 0x00, 0x03, 0x00, 0x01 }).s("c").b({ 0x01 }));
	f.net.written.clear();
	assert_true(f.mqtt.unsubscribe("a/b"));
	expect_bytes(f.net.written, Bytes().b({ 0xa2, 0x07, 0x00, 0x04, 0x00, 0x03 }).s("a/b"));
	f.net.written.clear();

	/* A new connection starts the count again. */
	f.mqtt.disconnect();
	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("dev1"));
	f.net.written.clear();
	assert_true(f.mqtt.subscribe("x/#", 0));
	expect_bytes(f.net.written, Bytes().b({ 0x82, 0x08, 0x00, 0x02, 0x00, 0x03 }).s("x/#").b({ 0x00 }));
}

/* ---- loop ------------------------------------------------------------------------ */

static void test_arduino_loop_delivers_qos1_publish_then_acks(void **state)
{
	Fixture &f = connected_fixture(state);

	f.net.queue(publish_packet("a/b/c", text("hello"), 1, 0x1234));
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 1);
	const Delivery &d = f.delivered[0];
	assert_string_equal(d.topic.c_str(), "a/b/c");
	/* The topic the callback got ended with a NUL right after it. */
	assert_int_equal(d.topic_strlen, 5);
	assert_int_equal(d.payload.size(), 5);
	assert_memory_equal(d.payload.data(), "hello", 5);
	/* PUBACK only after the callback returned. */
	assert_int_equal(d.written_when_called, 0);
	expect_bytes(f.net.written, Bytes().b({ 0x40, 0x02, 0x12, 0x34 }));
	f.net.written.clear();

	/* QoS 0: delivered, nothing to acknowledge. */
	f.net.queue(publish_packet("q0", text("x"), 0, 0));
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 2);
	assert_string_equal(f.delivered[1].topic.c_str(), "q0");
	assert_int_equal(f.delivered[1].payload.size(), 1);
	assert_true(f.net.written.empty());

	/* Nothing waiting: loop() just returns. */
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 2);
}

static void test_arduino_loop_one_packet_per_call(void **state)
{
	Fixture &f = connected_fixture(state);

	f.net.queue(publish_packet("one", text("1"), 0, 0));
	f.net.queue(publish_packet("two", text("2"), 1, 7));
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 1);
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 2);
	assert_string_equal(f.delivered[1].topic.c_str(), "two");
	expect_bytes(f.net.written, Bytes().b({ 0x40, 0x02, 0x00, 0x07 }));
}

static void test_arduino_loop_drops_packet_larger_than_buffer(void **state)
{
	Fixture &f = connected_fixture(state);

	/* 1 + 2 + 2 + 1 + 250 = 256 bytes: exactly the buffer, delivered. */
	f.net.queue(publish_packet("t", std::vector<uint8_t>(250, 'a'), 0, 0));
	/* One byte more: dropped whole. */
	f.net.queue(publish_packet("u", std::vector<uint8_t>(251, 'b'), 0, 0));
	/* Larger than any single read: dropped whole too. */
	f.net.queue(publish_packet("big", std::vector<uint8_t>(600, 'c'), 1, 9));
	f.net.queue(publish_packet("next", text("ok"), 0, 0));

	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 1);
	assert_string_equal(f.delivered[0].topic.c_str(), "t");
	assert_int_equal(f.delivered[0].payload.size(), 250);
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 1);
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 1);
	/* A dropped QoS 1 packet is not acknowledged. */
	assert_true(f.net.written.empty());
	assert_true(f.mqtt.loop());
	assert_int_equal(f.delivered.size(), 2);
	assert_string_equal(f.delivered[1].topic.c_str(), "next");
	assert_memory_equal(f.delivered[1].payload.data(), "ok", 2);
	assert_true(f.mqtt.connected());
}

static void test_arduino_keepalive_ping(void **state)
{
	Fixture &f = *static_cast<Fixture *>(*state);

	/* delayMicroseconds() moves the device's clock on at once (the virtual
	 * clock of bit-banging), so keepalive seconds pass without sleeping. */
	f.mqtt.setKeepAlive(5);
	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("dev1"));
	f.net.written.clear();
	delayMicroseconds(4000000);
	assert_true(f.mqtt.loop());
	assert_true(f.net.written.empty());
	delayMicroseconds(2000000);
	assert_true(f.mqtt.loop());
	expect_bytes(f.net.written, Bytes().b({ 0xc0, 0x00 }));
	f.net.written.clear();

	/* The PINGRESP clears the outstanding ping: the next one goes out. */
	f.net.queue(Bytes().b({ 0xd0, 0x00 }));
	assert_true(f.mqtt.loop());
	assert_true(f.net.written.empty());
	delayMicroseconds(6000000);
	assert_true(f.mqtt.loop());
	expect_bytes(f.net.written, Bytes().b({ 0xc0, 0x00 }));

	/* No answer within another keepalive: the connection timed out. */
	delayMicroseconds(6000000);
	assert_false(f.mqtt.loop());
	assert_int_equal(f.mqtt.state(), MQTT_CONNECTION_TIMEOUT);
	assert_false(f.net.is_connected);
	assert_false(f.mqtt.connected());
}

/* ---- the end of a connection ------------------------------------------------------ */

static void test_arduino_disconnect_writes_disconnect(void **state)
{
	Fixture &f = connected_fixture(state);

	f.mqtt.disconnect();
	expect_bytes(f.net.written, Bytes().b({ 0xe0, 0x00 }));
	assert_int_equal(f.mqtt.state(), MQTT_DISCONNECTED);
	assert_int_equal(f.mqtt.state(), -1);
	assert_int_equal(f.net.stops, 1);
	assert_false(f.mqtt.connected());
	assert_int_equal(f.mqtt.state(), -1);
}

static void test_arduino_connection_lost(void **state)
{
	Fixture &f = connected_fixture(state);

	f.net.is_connected = false;
	assert_false(f.mqtt.connected());
	assert_int_equal(f.mqtt.state(), MQTT_CONNECTION_LOST);
	assert_int_equal(f.mqtt.state(), -3);
	assert_int_equal(f.net.stops, 1);
	assert_false(f.mqtt.loop());
	assert_false(f.mqtt.publish("a", "b"));
	assert_true(f.net.written.empty());
	assert_int_equal(f.mqtt.state(), -3);

	/* And it comes back with a new connect(). */
	f.net.queue(CONNACK_OK);
	assert_true(f.mqtt.connect("dev1"));
	assert_int_equal(f.mqtt.state(), MQTT_CONNECTED);
}

#define FIXTURE_TEST(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FIXTURE_TEST(test_arduino_connect_bytes_for_id),
		FIXTURE_TEST(test_arduino_connect_bytes_with_will_credentials_and_session),
		FIXTURE_TEST(test_arduino_connect_bytes_user_only_and_will_only),
		FIXTURE_TEST(test_arduino_connack_accepted),
		FIXTURE_TEST(test_arduino_connack_refused),
		FIXTURE_TEST(test_arduino_connect_client_fails),
		FIXTURE_TEST(test_arduino_connect_without_connack_times_out),
		FIXTURE_TEST(test_arduino_publish_bytes),
		FIXTURE_TEST(test_arduino_publish_size_limit),
		FIXTURE_TEST(test_arduino_set_buffer_size_zero_refused),
		FIXTURE_TEST(test_arduino_publish_when_not_connected),
		FIXTURE_TEST(test_arduino_begin_publish_streams),
		FIXTURE_TEST(test_arduino_subscribe_qos2_refused),
		FIXTURE_TEST(test_arduino_subscribe_unsubscribe_bytes),
		FIXTURE_TEST(test_arduino_loop_delivers_qos1_publish_then_acks),
		FIXTURE_TEST(test_arduino_loop_one_packet_per_call),
		FIXTURE_TEST(test_arduino_loop_drops_packet_larger_than_buffer),
		FIXTURE_TEST(test_arduino_keepalive_ping),
		FIXTURE_TEST(test_arduino_disconnect_writes_disconnect),
		FIXTURE_TEST(test_arduino_connection_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
