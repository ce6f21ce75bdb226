// WiFiClientSecure: TLS 1.2 with OpenSSL over WiFiClient's own socket paths, so the link model governs every byte.
#include "WiFiClientSecure.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>

#include <algorithm>
#include <string>
#include <vector>

#include "provision.h"
#include "runtime.h"
#include "secure_clients.h"
#include "sockets.h"
#include "tls_session.h"

extern "C" {
#include "hal_log.h"
#include "hal_time.h"
#include "posix_hal.h"
#include "shim_internal.h"
}

namespace robofleet_arduino {

/*
 * The encrypted bytes go through a plain WiFiClient that shares the
 * secure client's socket: WiFiClient::write() asks the link model about
 * each packet (a weak signal's retransmissions, a drop) and bounds a
 * stalled send; WiFiClient::read() never waits and finds nothing once a
 * drop took the socket. OpenSSL never touches the descriptor itself.
 */
class SocketTransport : public TlsTransport {
public:
	WiFiClient tcp;

	long send(const uint8_t *buf, size_t len) override
	{
		size_t n = tcp.write(buf, len);
		return n > 0 ? (long)n : -1;
	}
	long recv(uint8_t *buf, size_t len) override
	{
		int n = tcp.read(buf, len);
		if (n > 0)
			return n;
		/* WiFiClient::read() says -1 both for "nothing yet" and for a
		 * closed connection; a closed one has no descriptor left. */
		return tcp.fd() >= 0 ? 0 : -1;
	}
};

/* One TLS connection, shared by the copies of a WiFiClientSecure. */
struct SecureState {
	/* Declared first: the session's BIO points at it until the end. */
	SocketTransport transport;
	TlsSession session;
	/* The socket, to tell the waits what TLS holds decrypted. */
	std::shared_ptr<Socket> sock;
	std::string peer;   /* "host:port", for the log */
	bool reported = false;

	SecureState();
	~SecureState();
	SecureState(const SecureState &) = delete;
	SecureState &operator=(const SecureState &) = delete;
};

/* Never destroyed, like the socket list: a sketch's global client is
 * destroyed at exit in an order no one controls. */
static std::vector<SecureState *> &secure_live = *new std::vector<SecureState *>;

SecureState::SecureState()
{
	secure_live.push_back(this);
}

SecureState::~SecureState()
{
	secure_live.erase(std::remove(secure_live.begin(), secure_live.end(), this),
			  secure_live.end());
}

void secure_clients_release_all()
{
	/* OpenSSL frees its own state at exit, before the sketch's global
	 * clients are destroyed: their sessions must be gone by then. */
	for (SecureState *s : secure_live)
		s->session.release();
}

/* The failure, once, into the device log: OpenSSL's own lines, as the
 * built-in robot logs them through libmosquitto, after what the layer knows
 * of it when that is more (which PEM did not load, a timeout). */
static void log_failure(SecureState &st)
{
	const std::string &lines = st.session.error_lines();
	const std::string &error = st.session.error();
	char line[600];
	size_t at = 0;

	if (st.reported || !st.session.error_code())
		return;
	st.reported = true;
	if (lines.empty() || error.compare(0, 6, "error:") != 0) {
		snprintf(line, sizeof(line), "tls: %s: %s", st.peer.c_str(), error.c_str());
		hal_log_write(HAL_LOG_WARN, line);
	}
	while (at < lines.size()) {
		size_t end = lines.find('\n', at);
		if (end == std::string::npos)
			end = lines.size();
		snprintf(line, sizeof(line), "tls: %s: %s", st.peer.c_str(),
			 lines.substr(at, end - at).c_str());
		hal_log_write(HAL_LOG_WARN, line);
		at = end + 1;
	}
}

} // namespace robofleet_arduino

using namespace robofleet_arduino;

/* The ESP32 core's connect timeout for a secure client. */
static const uint64_t DEFAULT_CONNECT_TIMEOUT_MS = 30000;

WiFiClientSecure::WiFiClientSecure() = default;
WiFiClientSecure::~WiFiClientSecure() = default;

void WiFiClientSecure::setCACert(const char *rootCA)
{
	ca_ = rootCA ? rootCA : "";
	insecure_ = false;
}

void WiFiClientSecure::setCertificate(const char *client_ca)
{
	cert_ = client_ca ? client_ca : "";
}

void WiFiClientSecure::setPrivateKey(const char *private_key)
{
	key_ = private_key ? private_key : "";
}

void WiFiClientSecure::setInsecure()
{
	ca_ = cert_ = key_ = "";
	insecure_ = true;
}

void WiFiClientSecure::setHandshakeTimeout(unsigned long handshake_timeout_s)
{
	handshake_timeout_s_ = handshake_timeout_s;
}

int WiFiClientSecure::lastError(char *buf, const size_t size)
{
	if (buf && size)
		snprintf(buf, size, "%s", last_error_ ? last_error_text_.c_str() : "");
	return last_error_;
}

int WiFiClientSecure::connect(IPAddress ip, uint16_t port)
{
	return connect(ip.toString().c_str(), port);
}

int WiFiClientSecure::connect(IPAddress ip, uint16_t port, int32_t timeout_ms)
{
	return connect(ip.toString().c_str(), port, timeout_ms);
}

int WiFiClientSecure::connect(const char *host, uint16_t port)
{
	return connect_tls(host, port, 0, false);
}

int WiFiClientSecure::connect(const char *host, uint16_t port, int32_t timeout_ms)
{
	return connect_tls(host, port, timeout_ms, timeout_ms > 0);
}

int WiFiClientSecure::connect(IPAddress ip, uint16_t port, const char *rootCABuff,
			      const char *cli_cert, const char *cli_key)
{
	return connect(ip.toString().c_str(), port, rootCABuff, cli_cert, cli_key);
}

int WiFiClientSecure::connect(const char *host, uint16_t port, const char *rootCABuff,
			      const char *cli_cert, const char *cli_key)
{
	setCACert(rootCABuff);
	setCertificate(cli_cert);
	setPrivateKey(cli_key);
	return connect(host, port);
}

/* A security fault presents other material than the sketch's (the shim
 * decides which files, as for the built-in robot): read it as PEM. */
static bool fault_material(std::string &cert, std::string &key, std::string &err)
{
	struct posix_mqtt_tls files = { nullptr, nullptr, nullptr };
	const char *password = nullptr;
	std::string why;

	shim__credentials_present(&files, &password);
	if (!files.cert_file || !files.key_file)
		return true;
	if (!read_pem_file(files.cert_file, cert, why)) {
		err = std::string("the fault's certificate ") + files.cert_file + ": " + why;
		return false;
	}
	if (!read_pem_file(files.key_file, key, why)) {
		err = std::string("the fault's key ") + files.key_file + ": " + why;
		return false;
	}
	return true;
}

int WiFiClientSecure::connect_tls(const char *host, uint16_t port, int32_t timeout_ms,
				  bool timeout_given)
{
	std::string fault_cert, fault_key, why;

	stop();
	last_error_ = 0;
	last_error_text_ = "";
	if (!host)
		return 0;
	int tcp = timeout_given ? WiFiClient::connect(host, port, timeout_ms)
				: WiFiClient::connect(host, port);
	if (!tcp) {
		last_error_ = -1;
		last_error_text_ = "the TCP connection failed";
		return 0;
	}

	auto st = std::make_shared<SecureState>();
	st->transport.tcp = static_cast<const WiFiClient &>(*this);
	st->peer = std::string(host) + ":" + std::to_string(port);
	if (!fault_material(fault_cert, fault_key, why))
		st->session.abort_with(why.c_str());

	TlsConfig cfg;
	cfg.ca_pem = ca_.c_str();
	cfg.cert_pem = fault_cert.empty() ? cert_.c_str() : fault_cert.c_str();
	cfg.key_pem = fault_key.empty() ? key_.c_str() : fault_key.c_str();
	/* As on the ESP32, an insecure client presents no certificate. */
	if (insecure_)
		cfg.cert_pem = cfg.key_pem = nullptr;
	cfg.insecure = insecure_;
	cfg.host = host;

	bool ok = !st->session.error_code() && st->session.begin(cfg, &st->transport);
	st->sock = sock_;
	if (ok && st->sock)
		st->sock->secure = true;
	/* The handshake within the handshake timeout the sketch set, else
	 * within the connect timeout (the one it gave connect(), else the
	 * ESP32 core's 30 s): a broker that accepts TCP and never answers
	 * cannot hold loop() for ever. Each wait serves the simulation, as
	 * delay() does, so faults, the WiFi task and SIGTERM go on meanwhile. */
	uint64_t limit_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (handshake_timeout_s_)
		limit_ms = (uint64_t)handshake_timeout_s_ * 1000u;
	else if (timeout_given)
		limit_ms = (uint64_t)timeout_ms;
	uint64_t deadline = hal_time_now_us() + limit_ms * 1000u;
	while (ok) {
		TlsSession::Step step = st->session.handshake();
		if (step == TlsSession::DONE)
			break;
		if (step == TlsSession::FAILED) {
			ok = false;
			break;
		}
		uint64_t now = hal_time_now_us();
		if (now >= deadline) {
			std::string late = "the handshake took longer than " +
					   std::to_string(limit_ms) + " ms";
			st->session.abort_with(late.c_str());
			ok = false;
			break;
		}
		uint64_t left_ms = (deadline - now + 999) / 1000;
		struct pollfd p[2] = { { st->transport.tcp.fd(), POLLIN, 0 },
				       { posix_signal_wake_fd(), POLLIN, 0 } };
		poll(p, 2, (int)std::min<uint64_t>(left_ms, 100));
		runtime_service();
	}
	if (!ok) {
		log_failure(*st);
		last_error_ = st->session.error_code() ? st->session.error_code() : -1;
		last_error_text_ = st->session.error().c_str();
		/* A failed handshake is abandoned, not closed politely. */
		st->transport.tcp.stop();
		WiFiClient::stop();
		return 0;
	}
	state_ = st;
	return 1;
}

/* After each use of the session: what the waits must know (decrypted bytes
 * the descriptor no longer shows), and a failure into the log and into
 * lastError(). */
void WiFiClientSecure::settle()
{
	SecureState &st = *state_;

	if (st.sock)
		st.sock->buffered = st.session.buffered();
	if (st.session.error_code()) {
		log_failure(st);
		last_error_ = st.session.error_code();
		last_error_text_ = st.session.error().c_str();
	}
}

size_t WiFiClientSecure::write(uint8_t b)
{
	return write(&b, 1);
}

size_t WiFiClientSecure::write(const uint8_t *buf, size_t size)
{
	if (!state_ || !buf)
		return 0;
	long n = state_->session.write(buf, size);
	settle();
	return n < 0 ? 0 : (size_t)n;
}

int WiFiClientSecure::available()
{
	if (!state_)
		return 0;
	size_t n = state_->session.available();
	settle();
	return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

int WiFiClientSecure::read(uint8_t *buf, size_t size)
{
	if (!state_ || !buf || size == 0)
		return -1;
	int n = state_->session.read(buf, size);
	settle();
	return n > 0 ? n : -1;
}

int WiFiClientSecure::read()
{
	uint8_t b;

	return read(&b, 1) == 1 ? b : -1;
}

int WiFiClientSecure::peek()
{
	uint8_t b;

	if (!state_)
		return -1;
	int n = state_->session.peek(&b, 1);
	settle();
	return n > 0 ? b : -1;
}

uint8_t WiFiClientSecure::connected()
{
	if (!state_)
		return 0;
	if (state_->session.buffered())
		return 1;
	if (!state_->session.open())
		return 0;
	/* A close or an alert shows only when the session reads it. */
	state_->session.available();
	settle();
	return state_->session.open() || state_->session.buffered() ? 1 : 0;
}

void WiFiClientSecure::stop()
{
	if (state_) {
		/* close_notify, if the session is healthy and the link carries
		 * it (over a dead link WiFiClient's write sends nothing). */
		if (state_->session.open() && state_->transport.tcp.fd() >= 0)
			state_->session.close_notify();
		state_->transport.tcp.stop();
		if (state_->sock)
			state_->sock->buffered = 0;
		state_.reset();
	}
	WiFiClient::stop();
}
