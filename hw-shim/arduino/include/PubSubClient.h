// PubSubClient: the public API of the 2.8 MQTT client library, speaking MQTT 3.1.1 itself over a Client.
#ifndef PUBSUBCLIENT_H
#define PUBSUBCLIENT_H

#include <functional>

#include "Arduino.h"
#include "Client.h"
#include "IPAddress.h"
#include "Stream.h"

#define MQTT_VERSION_3_1 3
#define MQTT_VERSION_3_1_1 4
#ifndef MQTT_VERSION
#define MQTT_VERSION MQTT_VERSION_3_1_1
#endif
#ifndef MQTT_MAX_PACKET_SIZE
#define MQTT_MAX_PACKET_SIZE 256
#endif
#ifndef MQTT_KEEPALIVE
#define MQTT_KEEPALIVE 15
#endif
#ifndef MQTT_SOCKET_TIMEOUT
#define MQTT_SOCKET_TIMEOUT 15
#endif

/* state() */
#define MQTT_CONNECTION_TIMEOUT -4
#define MQTT_CONNECTION_LOST -3
#define MQTT_CONNECT_FAILED -2
#define MQTT_DISCONNECTED -1
#define MQTT_CONNECTED 0
#define MQTT_CONNECT_BAD_PROTOCOL 1
#define MQTT_CONNECT_BAD_CLIENT_ID 2
#define MQTT_CONNECT_UNAVAILABLE 3
#define MQTT_CONNECT_BAD_CREDENTIALS 4
#define MQTT_CONNECT_UNAUTHORIZED 5

#define MQTTQOS0 (0 << 1)
#define MQTTQOS1 (1 << 1)
#define MQTTQOS2 (2 << 1)

#define MQTT_CALLBACK_SIGNATURE std::function<void(char *, uint8_t *, unsigned int)> callback

struct mqtt_packet;

class PubSubClient : public Print {
public:
	PubSubClient();
	PubSubClient(Client &client);
	PubSubClient(IPAddress addr, uint16_t port, Client &client);
	PubSubClient(IPAddress addr, uint16_t port, Client &client, Stream &stream);
	PubSubClient(IPAddress addr, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client);
	PubSubClient(IPAddress addr, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client, Stream &stream);
	PubSubClient(uint8_t *ip, uint16_t port, Client &client);
	PubSubClient(uint8_t *ip, uint16_t port, Client &client, Stream &stream);
	PubSubClient(uint8_t *ip, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client);
	PubSubClient(uint8_t *ip, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client, Stream &stream);
	PubSubClient(const char *domain, uint16_t port, Client &client);
	PubSubClient(const char *domain, uint16_t port, Client &client, Stream &stream);
	PubSubClient(const char *domain, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client);
	PubSubClient(const char *domain, uint16_t port, MQTT_CALLBACK_SIGNATURE, Client &client, Stream &stream);
	~PubSubClient() override;
	PubSubClient(const PubSubClient &) = delete;
	PubSubClient &operator=(const PubSubClient &) = delete;

	PubSubClient &setServer(IPAddress ip, uint16_t port);
	PubSubClient &setServer(uint8_t *ip, uint16_t port);
	PubSubClient &setServer(const char *domain, uint16_t port);
	PubSubClient &setCallback(MQTT_CALLBACK_SIGNATURE);
	PubSubClient &setClient(Client &client);
	PubSubClient &setStream(Stream &stream);
	PubSubClient &setKeepAlive(uint16_t keepalive_s);
	PubSubClient &setSocketTimeout(uint16_t timeout_s);

	/* false (and the old buffer kept) for 0 or when memory runs out. */
	boolean setBufferSize(uint16_t size);
	uint16_t getBufferSize() { return buffer_size_; }

	boolean connect(const char *id);
	boolean connect(const char *id, const char *user, const char *pass);
	boolean connect(const char *id, const char *willTopic, uint8_t willQos, boolean willRetain,
			const char *willMessage);
	boolean connect(const char *id, const char *user, const char *pass, const char *willTopic,
			uint8_t willQos, boolean willRetain, const char *willMessage);
	boolean connect(const char *id, const char *user, const char *pass, const char *willTopic,
			uint8_t willQos, boolean willRetain, const char *willMessage,
			boolean cleanSession);
	void disconnect();

	boolean publish(const char *topic, const char *payload);
	boolean publish(const char *topic, const char *payload, boolean retained);
	boolean publish(const char *topic, const uint8_t *payload, unsigned int plength);
	boolean publish(const char *topic, const uint8_t *payload, unsigned int plength,
			boolean retained);
	boolean publish_P(const char *topic, const char *payload, boolean retained);
	boolean publish_P(const char *topic, const uint8_t *payload, unsigned int plength,
			  boolean retained);
	/* Start a publish whose payload follows through write(); endPublish() ends it. */
	boolean beginPublish(const char *topic, unsigned int plength, boolean retained);
	int endPublish();
	size_t write(uint8_t b) override;
	size_t write(const uint8_t *buf, size_t size) override;

	boolean subscribe(const char *topic);
	boolean subscribe(const char *topic, uint8_t qos);
	boolean unsubscribe(const char *topic);
	/* Keepalive and one incoming packet; false when not connected. */
	boolean loop();
	boolean connected();
	int state() { return state_; }

private:
	int read_packet(bool wait);
	bool write_all(const uint8_t *buf, size_t len);
	void handle_packet();
	uint16_t next_packet_id();
	void set_state(int state);
	void packet_of(struct mqtt_packet *p) const;

	Client *client_ = nullptr;
	Stream *stream_ = nullptr;
	std::function<void(char *, uint8_t *, unsigned int)> callback_;
	uint8_t *buffer_ = nullptr;
	uint16_t buffer_size_ = 0;
	uint16_t keepalive_s_ = MQTT_KEEPALIVE;
	uint16_t socket_timeout_s_ = MQTT_SOCKET_TIMEOUT;
	uint16_t next_id_ = 1;
	unsigned long last_out_ms_ = 0;
	unsigned long last_in_ms_ = 0;
	bool ping_outstanding_ = false;
	int state_ = MQTT_DISCONNECTED;
	IPAddress ip_;
	const char *domain_ = nullptr;
	uint16_t port_ = 0;
	bool ever_connected_ = false;
	char streamed_topic_[128] = ""; /* beginPublish()'s, counted at endPublish() */
	/* The packet read_packet() left in the buffer. */
	uint8_t pkt_type_ = 0;
	uint8_t pkt_flags_ = 0;
	size_t pkt_body_off_ = 0;
	size_t pkt_body_len_ = 0;
	/* Bytes read from the client past the packet being decoded. */
	uint8_t rx_[512];
	size_t rx_len_ = 0;
	size_t rx_off_ = 0;
};

#endif /* PUBSUBCLIENT_H */
