// WiFi: the ESP32 station API over the shim's WiFi link model and the scenario's access point.
#ifndef ARDUINO_WIFI_H
#define ARDUINO_WIFI_H

#include "Arduino.h"
#include "IPAddress.h"
#include "WiFiClient.h"

/* The ESP32 core's status codes, with their values. */
typedef enum {
	WL_NO_SHIELD = 255,
	WL_IDLE_STATUS = 0,
	WL_NO_SSID_AVAIL = 1,
	WL_SCAN_COMPLETED = 2,
	WL_CONNECTED = 3,
	WL_CONNECT_FAILED = 4,
	WL_CONNECTION_LOST = 5,
	WL_DISCONNECTED = 6,
} wl_status_t;

typedef enum {
	WIFI_OFF = 0,
	WIFI_STA = 1,
	WIFI_AP = 2,
	WIFI_AP_STA = 3,
} wifi_mode_t;

class WiFiClass {
public:
	bool mode(wifi_mode_t m);
	wifi_mode_t getMode() const { return mode_; }
	wl_status_t begin(const char *ssid, const char *passphrase = nullptr, int32_t channel = 0,
			  const uint8_t *bssid = nullptr, bool connect = true);
	wl_status_t begin();
	wl_status_t status();
	bool isConnected() { return status() == WL_CONNECTED; }
	bool disconnect(bool wifioff = false, bool eraseap = false);
	bool reconnect();
	bool setAutoReconnect(bool on) { auto_reconnect_ = on; return true; }
	bool getAutoReconnect() const { return auto_reconnect_; }
	uint8_t waitForConnectResult(unsigned long timeout_ms = 60000);

	IPAddress localIP();
	IPAddress gatewayIP();
	IPAddress subnetMask();
	IPAddress dnsIP(uint8_t n = 0);
	String macAddress();
	uint8_t *macAddress(uint8_t *mac);
	int8_t RSSI();
	String SSID() const;
	bool setHostname(const char *name);
	const char *getHostname();
	/* Through the scenario's DNS: 1 with the address, 0 when the name does not resolve. */
	int hostByName(const char *host, IPAddress &result);
	bool config(IPAddress, IPAddress, IPAddress, IPAddress = IPAddress(), IPAddress = IPAddress())
	{
		return true;
	}
	void persistent(bool) {}
	bool setSleep(bool) { return true; }

	/* The runtime's background step (the ESP32's WiFi task). */
	void service();

private:
	wifi_mode_t mode_ = WIFI_OFF;
	bool begun_ = false;
	bool auto_reconnect_ = true;
	bool was_up_ = false;
	bool attempting_ = false;
	wl_status_t down_status_ = WL_IDLE_STATUS;
	/* A refused association (wrong SSID or password) ends at this time. */
	unsigned long long refuse_at_us_ = 0;
	wl_status_t refuse_status_ = WL_IDLE_STATUS;
	unsigned long long retry_at_us_ = 0;
	char ssid_[33] = "";
	char pass_[65] = "";
	char hostname_[64] = "";
	void start_attempt();
};

extern WiFiClass WiFi;

#endif /* ARDUINO_WIFI_H */
