// WiFiClientSecure: the ESP32 core's TLS client (a WiFiClient that speaks TLS 1.2), over the virtual WiFi link.
#ifndef ARDUINO_WIFICLIENTSECURE_H
#define ARDUINO_WIFICLIENTSECURE_H

#include <memory>

#include "Arduino.h"
#include "IPAddress.h"
#include "WiFi.h"
#include "WiFiClient.h"

namespace robofleet_arduino {
struct SecureState;
}

/*
 * As on the ESP32 it derives from WiFiClient, so anything that takes a
 * Client (PubSubClient) takes it unchanged. Copies share one connection.
 */
class WiFiClientSecure : public WiFiClient {
public:
	WiFiClientSecure();
	~WiFiClientSecure() override;
	WiFiClientSecure(const WiFiClientSecure &) = default;
	WiFiClientSecure &operator=(const WiFiClientSecure &) = default;

	/* TCP, then the TLS handshake with what the setters gave. 1 on
	 * success, 0 on failure (lastError() says why). */
	int connect(IPAddress ip, uint16_t port) override;
	int connect(IPAddress ip, uint16_t port, int32_t timeout_ms);
	int connect(const char *host, uint16_t port) override;
	int connect(const char *host, uint16_t port, int32_t timeout_ms);
	int connect(IPAddress ip, uint16_t port, const char *rootCABuff, const char *cli_cert,
		    const char *cli_key);
	int connect(const char *host, uint16_t port, const char *rootCABuff, const char *cli_cert,
		    const char *cli_key);

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
	bool operator==(const WiFiClientSecure &o) const { return state_ == o.state_; }
	bool operator!=(const WiFiClientSecure &o) const { return state_ != o.state_; }

	/* The last failure: its text into @buf (if given), a negative code
	 * returned; 0 when the last connect succeeded. */
	int lastError(char *buf, const size_t size);

	/* PEM text, copied (NULL clears). A CA ends setInsecure(). */
	void setCACert(const char *rootCA);
	void setCertificate(const char *client_ca);
	void setPrivateKey(const char *private_key);
	/* Accept any server unverified, for tests only; as on the ESP32 it
	 * forgets the CA, the certificate and the key set before. */
	void setInsecure();
	/* Seconds the handshake may take; until set, the connect timeout. */
	void setHandshakeTimeout(unsigned long handshake_timeout_s);

private:
	int connect_tls(const char *host, uint16_t port, int32_t timeout_ms, bool timeout_given);
	/* After each use of the session: its failure, if any, for lastError(). */
	void settle();

	std::shared_ptr<robofleet_arduino::SecureState> state_;
	String ca_, cert_, key_;
	bool insecure_ = false;
	unsigned long handshake_timeout_s_ = 0; /* 0: the connect timeout */
	int last_error_ = 0;
	String last_error_text_;
};

#endif /* ARDUINO_WIFICLIENTSECURE_H */
