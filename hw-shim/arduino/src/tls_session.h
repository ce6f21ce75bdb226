// A TLS client session over any byte transport: OpenSSL above, the layer's own socket paths below.
#ifndef ARDUINO_TLS_SESSION_H
#define ARDUINO_TLS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <string>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace robofleet_arduino {

/*
 * Where the encrypted bytes go. OpenSSL never sees a file descriptor: every
 * byte of the handshake and of the records passes through these two calls,
 * so whatever governs the connection underneath (the shim's link model: a
 * WiFi drop, a weak signal) governs TLS too.
 */
class TlsTransport {
public:
	virtual ~TlsTransport() = default;
	/* Bytes taken (> 0), 0 when nothing can be taken now (try again), or
	 * < 0 when the connection is gone. */
	virtual long send(const uint8_t *buf, size_t len) = 0;
	/* Bytes read (> 0), 0 when nothing has arrived yet (try again), or
	 * < 0 when the connection is closed or broken. */
	virtual long recv(uint8_t *buf, size_t len) = 0;
};

/* What the session presents and checks. PEM text; NULL or "" for none. */
struct TlsConfig {
	const char *ca_pem = nullptr;      /* the broker's chain must lead here */
	const char *cert_pem = nullptr;    /* the client's certificate, with key_pem */
	const char *key_pem = nullptr;
	bool insecure = false;             /* accept any broker (setInsecure()) */
	/* The name or address the client connected to: the broker's
	 * certificate must carry it. An IP literal is checked as an address,
	 * anything else as a DNS name, which also goes out as SNI. */
	const char *host = nullptr;
};

class TlsSession {
public:
	enum Step { DONE, AGAIN, FAILED };

	TlsSession() = default;
	~TlsSession();
	TlsSession(const TlsSession &) = delete;
	TlsSession &operator=(const TlsSession &) = delete;

	/* Set up the context and the connection over @t (kept by pointer,
	 * it must outlive the session). false: error() says why. */
	bool begin(const TlsConfig &cfg, TlsTransport *t);
	/* One step of the handshake, never waiting: AGAIN until the peer's
	 * next flight has arrived. */
	Step handshake();
	/* Decrypted bytes (> 0), 0 when none are there now, -1 when the
	 * session is over (closed by the peer, or failed: error()). */
	int read(uint8_t *buf, size_t len);
	/* Like read(), leaving the bytes where they are. */
	int peek(uint8_t *buf, size_t len);
	/* Every byte sent (@len), or -1 when the session is over. */
	long write(const uint8_t *buf, size_t len);
	/* Decrypted bytes waiting to be read, after pulling in whatever the
	 * transport has (without waiting); 0 also once the session is over. */
	size_t available();
	/* Only what is already decrypted (no transport call). */
	size_t buffered() const;
	/* Send close_notify if the session is healthy; the transport stays. */
	void close_notify();
	bool open() const { return ssl_ && !over_; }
	bool established() const { return established_; }

	/* Why it failed: OpenSSL's words ("error:0A000418:SSL
	 * routines::tlsv1 alert unknown ca"), with the verification result
	 * when the peer's certificate was refused; "" when nothing failed. */
	const std::string &error() const { return error_; }
	/* Negative and non-zero once something failed (OpenSSL's error code
	 * negated, or -1 for a failure without one), else 0. */
	int error_code() const { return error_code_; }
	/* Every line of OpenSSL's error queue at the failure, numbered as
	 * libmosquitto numbers them: "OpenSSL Error[0]: ...". */
	const std::string &error_lines() const { return error_lines_; }
	/* Record a failure of the layer's own (a timeout, a closed socket). */
	void abort_with(const char *why);
	/* Free OpenSSL's objects now, sending nothing: the session is over.
	 * (At exit, OpenSSL's own clean-up runs before global destructors.) */
	void release();

private:
	Step after(int rc, bool handshaking);
	void take_errors(const char *fallback);

	SSL_CTX *ctx_ = nullptr;
	SSL *ssl_ = nullptr;
	bool over_ = false;
	bool established_ = false;
	std::string error_;
	std::string error_lines_;
	int error_code_ = 0;
};

} // namespace robofleet_arduino

#endif /* ARDUINO_TLS_SESSION_H */
