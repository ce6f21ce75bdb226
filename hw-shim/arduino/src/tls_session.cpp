// TlsSession: OpenSSL's TLS client over a TlsTransport, through a BIO of its own.
#include "tls_session.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace robofleet_arduino {

/* ---- the BIO: OpenSSL's reads and writes become transport calls ---------- */

static TlsTransport *transport_of(BIO *b)
{
	return static_cast<TlsTransport *>(BIO_get_data(b));
}

static int bio_write(BIO *b, const char *data, int len)
{
	TlsTransport *t = transport_of(b);

	BIO_clear_retry_flags(b);
	if (!t || len <= 0)
		return 0;
	long n = t->send(reinterpret_cast<const uint8_t *>(data), (size_t)len);
	/* A transport that cannot take bytes waits itself (bounded); coming
	 * back with nothing means the connection is gone. */
	return n > 0 ? (int)n : -1;
}

static int bio_read(BIO *b, char *data, int len)
{
	TlsTransport *t = transport_of(b);

	BIO_clear_retry_flags(b);
	if (!t || len <= 0)
		return 0;
	long n = t->recv(reinterpret_cast<uint8_t *>(data), (size_t)len);
	if (n > 0)
		return (int)n;
	if (n == 0) {
		/* Nothing yet: OpenSSL reports WANT_READ and the caller waits
		 * the layer's way (serving the simulation), never in here. */
		BIO_set_retry_read(b);
		return -1;
	}
	return 0; /* end of stream */
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Every write goes straight to the transport: nothing to flush, but
	 * OpenSSL takes a failed flush for a failed handshake. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* One method for every session, made at the first one; it lives as long as
 * the process (OpenSSL keeps no list of methods to free). */
static BIO_METHOD *transport_method()
{
	static BIO_METHOD *m;

	if (!m) {
		m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "robofleet transport");
		if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
			  !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create))) {
			BIO_meth_free(m);
			m = nullptr;
		}
	}
	return m;
}

/* ---- loading PEM text ------------------------------------------------------- */

/* An encrypted key would make OpenSSL ask on the terminal; a device has
 * nobody to ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static BIO *pem_bio(const char *pem)
{
	return BIO_new_mem_buf(pem, (int)strnlen(pem, INT_MAX));
}

/* Every certificate of @pem into @store; how many. */
static int add_ca_certs(X509_STORE *store, const char *pem)
{
	BIO *b = pem_bio(pem);
	X509 *x;
	int n = 0;

	if (!b)
		return 0;
	while ((x = PEM_read_bio_X509(b, nullptr, no_passphrase, nullptr))) {
		if (X509_STORE_add_cert(store, x))
			n++;
		X509_free(x);
	}
	BIO_free(b);
	/* The loop ends on "no start line" after the last one: not an error. */
	if (n)
		ERR_clear_error();
	return n;
}

/* The first certificate of @pem is the client's; any after it, its chain. */
static bool use_certificate(SSL_CTX *ctx, const char *pem)
{
	BIO *b = pem_bio(pem);
	X509 *x;
	bool ok;

	if (!b)
		return false;
	x = PEM_read_bio_X509(b, nullptr, no_passphrase, nullptr);
	ok = x && SSL_CTX_use_certificate(ctx, x) == 1;
	X509_free(x);
	while (ok && (x = PEM_read_bio_X509(b, nullptr, no_passphrase, nullptr))) {
		ok = SSL_CTX_add0_chain_cert(ctx, x) == 1;
		if (!ok)
			X509_free(x);
	}
	if (ok)
		ERR_clear_error();
	BIO_free(b);
	return ok;
}

static bool use_private_key(SSL_CTX *ctx, const char *pem)
{
	BIO *b = pem_bio(pem);
	EVP_PKEY *k;
	bool ok;

	if (!b)
		return false;
	k = PEM_read_bio_PrivateKey(b, nullptr, no_passphrase, nullptr);
	ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1;
	EVP_PKEY_free(k);
	BIO_free(b);
	return ok;
}

static bool is_ip_literal(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* ---- the session ------------------------------------------------------------- */

TlsSession::~TlsSession()
{
	release();
}

void TlsSession::release()
{
	SSL_free(ssl_); /* and its BIO */
	SSL_CTX_free(ctx_);
	ssl_ = nullptr;
	ctx_ = nullptr;
	over_ = true;
}

void TlsSession::abort_with(const char *why)
{
	over_ = true;
	if (!error_code_) {
		error_ = why;
		error_lines_.clear();
		error_code_ = -1;
	}
}

/* OpenSSL's error queue at a failure, emptied: the first reason (with what
 * verification said of the peer's certificate) and every line. */
void TlsSession::take_errors(const char *fallback)
{
	unsigned long code, first = 0;
	std::string detail;
	char text[256];
	int i = 0;

	/* What verification said of the peer's certificate: OpenSSL's reason
	 * alone ("certificate verify failed") does not say what is wrong. */
	long v = ssl_ ? SSL_get_verify_result(ssl_) : X509_V_OK;
	if (v != X509_V_OK)
		detail = std::string(" (") + X509_verify_cert_error_string(v) + ")";
	error_.clear();
	error_lines_.clear();
	while ((code = ERR_get_error()) != 0) {
		ERR_error_string_n(code, text, sizeof(text));
		std::string line = text;
		if (!first) {
			first = code;
			line += detail;
			error_ = line;
		}
		if (!error_lines_.empty())
			error_lines_ += '\n';
		error_lines_ += "OpenSSL Error[" + std::to_string(i++) + "]: " + line;
	}
	if (!first) {
		error_ = fallback ? fallback : "the connection failed";
		error_code_ = -1;
		return;
	}
	/* Packed codes fit in 31 bits (library, reason). */
	error_code_ = -(int)(first & 0x7fffffff);
	if (error_code_ == 0)
		error_code_ = -1;
}

bool TlsSession::begin(const TlsConfig &cfg, TlsTransport *t)
{
	BIO_METHOD *m = transport_method();
	BIO *bio;

	ERR_clear_error();
	if (!m || !(ctx_ = SSL_CTX_new(TLS_client_method()))) {
		take_errors("TLS cannot be set up");
		over_ = true;
		return false;
	}
	/*
	 * TLS 1.2, as the ESP32 core's mbedTLS speaks it. It also puts a
	 * refused client certificate where a device expects it: TLS 1.2 ends
	 * the handshake on it, inside connect(); under TLS 1.3 the client
	 * finishes first and learns of the refusal only at its next read.
	 */
	SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
	/* A broker that closes the TCP connection without close_notify (they
	 * all do on a refusal or a keepalive timeout) ends the stream, as a
	 * plain socket's close would; it is not an error to report. */
	SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!cfg.insecure) {
		if (empty(cfg.ca_pem)) {
			abort_with("no CA certificate to verify the server: call setCACert() "
			     "(or setInsecure())");
			return false;
		}
		if (add_ca_certs(SSL_CTX_get_cert_store(ctx_), cfg.ca_pem) == 0) {
			take_errors("no certificate in the CA PEM");
			error_ = "CA certificate: " + error_;
			over_ = true;
			return false;
		}
		SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
	} else {
		SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
	}
	/* A client certificate needs both halves, as on the ESP32. */
	if (!empty(cfg.cert_pem) && !empty(cfg.key_pem)) {
		if (!use_certificate(ctx_, cfg.cert_pem)) {
			take_errors("no certificate in the client certificate PEM");
			error_ = "client certificate: " + error_;
			over_ = true;
			return false;
		}
		if (!use_private_key(ctx_, cfg.key_pem) || SSL_CTX_check_private_key(ctx_) != 1) {
			take_errors("no key in the private key PEM");
			error_ = "private key: " + error_;
			over_ = true;
			return false;
		}
	}
	if (!(ssl_ = SSL_new(ctx_)) || !(bio = BIO_new(m))) {
		take_errors("TLS cannot be set up");
		over_ = true;
		return false;
	}
	BIO_set_data(bio, t);
	SSL_set_bio(ssl_, bio, bio);
	if (!empty(cfg.host)) {
		bool ip = is_ip_literal(cfg.host);
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl_);

		/* SNI is for names only (RFC 6066). */
		if (!ip)
			SSL_set_tlsext_host_name(ssl_, cfg.host);
		if (!cfg.insecure) {
			X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if ((ip ? X509_VERIFY_PARAM_set1_ip_asc(param, cfg.host)
				: X509_VERIFY_PARAM_set1_host(param, cfg.host, 0)) != 1) {
				take_errors("the server name cannot be checked");
				over_ = true;
				return false;
			}
		}
	}
	SSL_set_connect_state(ssl_);
	return true;
}

TlsSession::Step TlsSession::after(int rc, bool handshaking)
{
	int e = SSL_get_error(ssl_, rc);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return AGAIN;
	over_ = true;
	if (e == SSL_ERROR_ZERO_RETURN && !handshaking) {
		/* The peer's close_notify, or the end of the stream: over, and
		 * nothing went wrong. */
		ERR_clear_error();
		return FAILED;
	}
	if (!handshaking && ERR_peek_error() == 0) {
		/* The transport went away under an established session (a
		 * drop, a closed socket): as silent as a plain socket's. */
		return FAILED;
	}
	take_errors("the connection closed during the handshake");
	return FAILED;
}

TlsSession::Step TlsSession::handshake()
{
	if (!ssl_ || over_)
		return FAILED;
	if (established_)
		return DONE;
	ERR_clear_error();
	int rc = SSL_do_handshake(ssl_);
	if (rc == 1) {
		established_ = true;
		return DONE;
	}
	return after(rc, true);
}

int TlsSession::read(uint8_t *buf, size_t len)
{
	if (!open() || !established_)
		return -1;
	if (len == 0)
		return 0;
	ERR_clear_error();
	int n = SSL_read(ssl_, buf, (int)(len > INT_MAX ? INT_MAX : len));
	if (n > 0)
		return n;
	return after(n, false) == AGAIN ? 0 : -1;
}

int TlsSession::peek(uint8_t *buf, size_t len)
{
	if (!open() || !established_)
		return -1;
	if (len == 0)
		return 0;
	ERR_clear_error();
	int n = SSL_peek(ssl_, buf, (int)(len > INT_MAX ? INT_MAX : len));
	if (n > 0)
		return n;
	return after(n, false) == AGAIN ? 0 : -1;
}

size_t TlsSession::buffered() const
{
	return ssl_ ? (size_t)SSL_pending(ssl_) : 0;
}

size_t TlsSession::available()
{
	uint8_t b;

	if (!open() || !established_)
		return 0;
	size_t n = buffered();
	if (n)
		return n;
	/* Pull one record in, if the transport has one. */
	if (peek(&b, 1) <= 0)
		return 0;
	n = buffered();
	return n ? n : 1;
}

long TlsSession::write(const uint8_t *buf, size_t len)
{
	size_t done = 0;

	if (!open() || !established_)
		return -1;
	while (done < len) {
		size_t chunk = len - done > 16384 ? 16384 : len - done;
		ERR_clear_error();
		int n = SSL_write(ssl_, buf + done, (int)chunk);
		if (n <= 0) {
			/* The transport never asks to try again (it waits
			 * itself), so a failed write is a lost session. */
			if (after(n, false) == AGAIN)
				abort_with("the connection stalled");
			return -1;
		}
		done += (size_t)n;
	}
	return (long)done;
}

void TlsSession::close_notify()
{
	if (open() && established_) {
		ERR_clear_error();
		SSL_shutdown(ssl_);
		ERR_clear_error();
	}
	over_ = true;
}

} // namespace robofleet_arduino
