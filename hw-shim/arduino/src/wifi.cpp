// WiFi: the ESP32 station over the shim's link model; status codes as the ESP32 core reports them.
#include "WiFi.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"
#include "sockets.h"

extern "C" {
#include "hal_link.h"
#include "hal_time.h"
#include "net_names.h"
#include "shim.h"
}

using namespace robofleet_arduino;

WiFiClass WiFi;

/* An attempt that found no access point, or was refused, is tried again
 * after this long while auto-reconnect is on (the ESP32 core retries on
 * every disconnect event; its scan takes about as long). */
static const uint64_t RETRY_US = 1000000;
/* How long a refused association (wrong SSID or password) takes to fail. */
static const uint64_t REFUSAL_US = 1000000;

static uint64_t now_us()
{
	return hal_time_now_us();
}

void WiFiClass::start_attempt()
{
	if (hal_link_connect() == 0) {
		attempting_ = true;
		retry_at_us_ = now_us() + RETRY_US;
	}
}

bool WiFiClass::mode(wifi_mode_t m)
{
	if (m == WIFI_OFF && mode_ != WIFI_OFF)
		disconnect(true);
	mode_ = m;
	return true;
}

wl_status_t WiFiClass::begin(const char *ssid, const char *passphrase, int32_t channel,
			     const uint8_t *bssid, bool connect)
{
	(void)channel;
	(void)bssid;
	if (!ssid || !*ssid || strlen(ssid) > 32 || (passphrase && strlen(passphrase) > 64))
		return WL_CONNECT_FAILED;
	snprintf(ssid_, sizeof(ssid_), "%s", ssid);
	snprintf(pass_, sizeof(pass_), "%s", passphrase ? passphrase : "");
	if (mode_ == WIFI_OFF || mode_ == WIFI_AP)
		mode_ = mode_ == WIFI_AP ? WIFI_AP_STA : WIFI_STA;
	if (!connect)
		return status();
	return begin();
}

wl_status_t WiFiClass::begin()
{
	int rc;

	if (!ssid_[0])
		return WL_CONNECT_FAILED;
	if (mode_ == WIFI_OFF)
		mode_ = WIFI_STA;
	if (hal_link_get_state() != HAL_LINK_DOWN) {
		hal_link_disconnect();
		sockets_abort_all();
	}
	begun_ = true;
	was_up_ = false;
	refuse_at_us_ = 0;
	rc = shim_net_ap_check(ssid_, pass_);
	if (rc < 0) {
		/* The station scans and tries, then gives up with the reason;
		 * the ESP32 core does not retry an authentication failure. */
		refuse_status_ = rc == -EACCES ? WL_CONNECT_FAILED : WL_NO_SSID_AVAIL;
		refuse_at_us_ = now_us() + REFUSAL_US;
		runtime_counters().link_failures++;
		return WL_DISCONNECTED;
	}
	start_attempt();
	return status();
}

wl_status_t WiFiClass::status()
{
	runtime_spin_guard();
	if (!begun_)
		return WL_IDLE_STATUS;
	if (refuse_at_us_)
		return now_us() < refuse_at_us_ ? WL_DISCONNECTED : refuse_status_;
	switch (hal_link_get_state()) {
	case HAL_LINK_UP:
		return WL_CONNECTED;
	case HAL_LINK_CONNECTING:
		return WL_DISCONNECTED;
	case HAL_LINK_DOWN:
		break;
	}
	switch (shim_link_down_cause()) {
	case SHIM_LINK_DROPPED:
		return WL_CONNECTION_LOST;
	case SHIM_LINK_NO_AP:
		return WL_NO_SSID_AVAIL;
	case SHIM_LINK_REJECTED:
		return WL_CONNECT_FAILED;
	case SHIM_LINK_NEVER_UP:
	case SHIM_LINK_LEFT:
		break;
	}
	return WL_DISCONNECTED;
}

void WiFiClass::service()
{
	enum hal_link_state st;

	if (!begun_ || refuse_at_us_)
		return;
	st = hal_link_get_state();
	if (was_up_ && st != HAL_LINK_UP) {
		/* The access point is gone: the sockets die with the network,
		 * without a word to their peers. */
		was_up_ = false;
		sockets_abort_all();
		/* The station takes a moment to give up on the old access point
		 * (its beacons are missed first); the status says so meanwhile. */
		retry_at_us_ = now_us() + RETRY_US;
	}
	if (!was_up_ && st == HAL_LINK_UP) {
		was_up_ = true;
		sockets_close_parked();
	}
	if (attempting_ && st != HAL_LINK_CONNECTING) {
		attempting_ = false;
		if (st == HAL_LINK_DOWN)
			runtime_counters().link_failures++;
	}
	if (st == HAL_LINK_DOWN && auto_reconnect_ && shim_link_down_cause() != SHIM_LINK_LEFT &&
	    now_us() >= retry_at_us_)
		start_attempt();
}

bool WiFiClass::disconnect(bool wifioff, bool eraseap)
{
	if (begun_) {
		hal_link_disconnect();
		sockets_abort_all();
	}
	begun_ = begun_ && !wifioff;
	refuse_at_us_ = 0;
	was_up_ = false;
	if (eraseap) {
		ssid_[0] = '\0';
		pass_[0] = '\0';
	}
	if (wifioff)
		mode_ = WIFI_OFF;
	return true;
}

bool WiFiClass::reconnect()
{
	if (!ssid_[0])
		return false;
	begin();
	return true;
}

uint8_t WiFiClass::waitForConnectResult(unsigned long timeout_ms)
{
	unsigned long start = millis();

	while (status() == WL_DISCONNECTED && millis() - start < timeout_ms)
		delay(100);
	return (uint8_t)status();
}

static IPAddress lan_address(uint8_t host)
{
	uint32_t be = runtime_ip_be();

	return IPAddress((uint8_t)(be >> 24), (uint8_t)(be >> 16), (uint8_t)(be >> 8),
			 host ? host : (uint8_t)be);
}

IPAddress WiFiClass::localIP()
{
	return status() == WL_CONNECTED ? lan_address(0) : IPAddress();
}

IPAddress WiFiClass::gatewayIP()
{
	return status() == WL_CONNECTED ? lan_address(1) : IPAddress();
}

IPAddress WiFiClass::subnetMask()
{
	return status() == WL_CONNECTED ? IPAddress(255, 255, 255, 0) : IPAddress();
}

IPAddress WiFiClass::dnsIP(uint8_t n)
{
	(void)n;
	return gatewayIP();
}

uint8_t *WiFiClass::macAddress(uint8_t *mac)
{
	runtime_mac(mac);
	return mac;
}

String WiFiClass::macAddress()
{
	uint8_t m[6];
	char text[18];

	runtime_mac(m);
	snprintf(text, sizeof(text), "%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return String(text);
}

int8_t WiFiClass::RSSI()
{
	int dbm = 0;

	if (hal_link_get_rssi(&dbm) < 0)
		return 0;
	return (int8_t)dbm;
}

String WiFiClass::SSID() const
{
	return hal_link_get_state() == HAL_LINK_UP ? String(ssid_) : String();
}

bool WiFiClass::setHostname(const char *name)
{
	if (!name || strlen(name) >= sizeof(hostname_))
		return false;
	snprintf(hostname_, sizeof(hostname_), "%s", name);
	return true;
}

const char *WiFiClass::getHostname()
{
	if (!hostname_[0]) {
		uint8_t m[6];

		runtime_mac(m);
		snprintf(hostname_, sizeof(hostname_), "esp32-%02X%02X%02X", m[3], m[4], m[5]);
	}
	return hostname_;
}

int WiFiClass::hostByName(const char *host, IPAddress &result)
{
	struct sockaddr_storage addr;
	socklen_t len = 0;

	if (!host || shim_net_resolve(host, 0, &addr, &len) < 0 || addr.ss_family != AF_INET)
		return 0;
	result = IPAddress((uint32_t)reinterpret_cast<struct sockaddr_in *>(&addr)->sin_addr.s_addr);
	return 1;
}
