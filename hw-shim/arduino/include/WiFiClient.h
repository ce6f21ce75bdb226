// WiFiClient: a TCP connection over the virtual WiFi link (a drop is silent, as on the chip).
#ifndef ARDUINO_WIFICLIENT_H
#define ARDUINO_WIFICLIENT_H

#include <memory>

#include "Arduino.h"
#include "Client.h"

namespace robofleet_arduino {
struct Socket;
}

class WiFiClient : public Client {
public:
	WiFiClient();
	~WiFiClient() override;
	/* Copies share one connection, as the ESP32 core's do. */
	WiFiClient(const WiFiClient &) = default;
	WiFiClient &operator=(const WiFiClient &) = default;

	int connect(IPAddress ip, uint16_t port) override;
	int connect(IPAddress ip, uint16_t port, int32_t timeout_ms);
	int connect(const char *host, uint16_t port) override;
	int connect(const char *host, uint16_t port, int32_t timeout_ms);
	using Print::write;
	size_t write(uint8_t b) override;
	size_t write(const uint8_t *buf, size_t size) override;
	int available() override;
	int read() override;
	int read(uint8_t *buf, size_t size) override;
	int peek() override;
	void flush() override {}
	void stop() override;
	uint8_t connected() override;
	operator bool() override { return connected(); }
	bool operator==(const WiFiClient &o) const { return sock_ == o.sock_; }

	int setNoDelay(bool nodelay);
	bool getNoDelay();
	void setConnectionTimeout(uint32_t ms) { connect_timeout_ms_ = ms; }
	int fd() const;
	IPAddress remoteIP() const;
	uint16_t remotePort() const;
	IPAddress localIP() const;

private:
	/* The TLS client runs its session over this class's own socket paths,
	 * and marks the socket as carrying one. */
	friend class WiFiClientSecure;
	int connect_addr(const void *addr, unsigned len, int32_t timeout_ms);
	std::shared_ptr<robofleet_arduino::Socket> sock_;
	uint32_t connect_timeout_ms_ = 3000;
};

#endif /* ARDUINO_WIFICLIENT_H */
