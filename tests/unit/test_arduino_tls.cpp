// The Arduino layer's TLS client (TlsSession, under WiFiClientSecure) against an OpenSSL server in memory: the BIO glue, verification, refusals, and the PEM files provisioning reads.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

/* cmocka's header has no C++ linkage of its own. */
extern "C" {
#include <cmocka.h>
}

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* The layer's own headers, not a sketch's: by path. */
#include "../../hw-shim/arduino/src/provision.h"
#include "../../hw-shim/arduino/src/tls_session.h"

using robofleet_arduino::TlsConfig;
using robofleet_arduino::TlsSession;
using robofleet_arduino::TlsTransport;

/* ---- credentials made for the test ------------------------------------------- */

struct Cred {
	EVP_PKEY *key = nullptr;
	X509 *cert = nullptr;
	std::string cert_pem, key_pem;
};

static long next_serial = 1;

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);

	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static std::string pem_of(X509 *x, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;

	if (x)
		PEM_write_bio_X509(b, x);
	else
		PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
	long n = BIO_get_mem_data(b, &data);
	std::string s(data, (size_t)n);
	BIO_free(b);
	return s;
}

/*
 * A P-256 certificate for @cn, issued by @issuer (NULL: self-signed CA),
 * valid from @from_s to @to_s seconds from now; @san and @eku for a leaf.
 */
static Cred make(const char *cn, const Cred *issuer, const char *san, const char *eku,
		 long from_s = -3600, long to_s = 86400)
{
	Cred c;
	X509V3_CTX v3;

	c.key = EVP_EC_gen("P-256");
	assert_non_null(c.key);
	c.cert = X509_new();
	X509_set_version(c.cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c.cert), next_serial++);
	X509_gmtime_adj(X509_getm_notBefore(c.cert), from_s);
	X509_gmtime_adj(X509_getm_notAfter(c.cert), to_s);
	X509_set_pubkey(c.cert, c.key);
	X509_NAME *name = X509_get_subject_name(c.cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   reinterpret_cast<const unsigned char *>(cn), -1, -1, 0);
	X509_set_issuer_name(c.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer ? issuer->cert : c.cert, c.cert, nullptr, nullptr, 0);
	add_ext(c.cert, &v3, NID_subject_key_identifier, "hash");
	if (!issuer) {
		add_ext(c.cert, &v3, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
		add_ext(c.cert, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(c.cert, &v3, NID_authority_key_identifier, "keyid:always");
		add_ext(c.cert, &v3, NID_basic_constraints, "CA:FALSE");
		add_ext(c.cert, &v3, NID_key_usage, "critical,digitalSignature");
		add_ext(c.cert, &v3, NID_ext_key_usage, eku);
		if (san)
			add_ext(c.cert, &v3, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(c.cert, issuer ? issuer->key : c.key, EVP_sha256()) > 0);
	c.cert_pem = pem_of(c.cert, nullptr);
	c.key_pem = pem_of(nullptr, c.key);
	return c;
}

static void release(Cred &c)
{
	X509_free(c.cert);
	EVP_PKEY_free(c.key);
	c.cert = nullptr;
	c.key = nullptr;
}

/* One CA the broker trusts, one it does not; made once for every test. */
static Cred ca, foreign_ca, server, client, foreign_client, expired_client;

static int group_setup(void **state)
{
	(void)state;
	ca = make("test CA", nullptr, nullptr, nullptr);
	foreign_ca = make("foreign CA", nullptr, nullptr, nullptr);
	server = make("broker", &ca, "DNS:mqtt.example.com,DNS:localhost,IP:127.0.0.1", "serverAuth");
	client = make("dev01", &ca, nullptr, "clientAuth");
	foreign_client = make("dev01", &foreign_ca, nullptr, "clientAuth");
	expired_client = make("dev01", &ca, nullptr, "clientAuth", -31 * 86400L, -86400L);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (Cred *c : { &ca, &foreign_ca, &server, &client, &foreign_client, &expired_client })
		release(*c);
	return 0;
}

/* ---- a connection in memory ----------------------------------------------------- */

/* The client's side of the wire: what it sends queues for the server, what
 * the server sends queues for it, at most @chunk bytes per read. */
class MemoryTransport : public TlsTransport {
public:
	std::deque<uint8_t> to_server, to_client;
	size_t chunk = SIZE_MAX;
	bool closed = false;
	size_t sends = 0;

	long send(const uint8_t *buf, size_t len) override
	{
		if (closed)
			return -1;
		sends++;
		to_server.insert(to_server.end(), buf, buf + len);
		return (long)len;
	}
	long recv(uint8_t *buf, size_t len) override
	{
		if (to_client.empty())
			return closed ? -1 : 0;
		size_t n = std::min({ len, chunk, to_client.size() });
		for (size_t i = 0; i < n; i++) {
			buf[i] = to_client.front();
			to_client.pop_front();
		}
		return (long)n;
	}
};

/* A broker's TLS end: OpenSSL over memory BIOs, asking for a client
 * certificate of @trusted's CA. */
class Server {
public:
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *in, *out;

	explicit Server(const Cred &trusted, bool require_cert = true)
	{
		ctx = SSL_CTX_new(TLS_server_method());
		SSL_CTX_use_certificate(ctx, server.cert);
		SSL_CTX_use_PrivateKey(ctx, server.key);
		X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trusted.cert);
		SSL_CTX_set_verify(ctx,
				   require_cert ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
						: SSL_VERIFY_NONE,
				   nullptr);
		ssl = SSL_new(ctx);
		in = BIO_new(BIO_s_mem());
		out = BIO_new(BIO_s_mem());
		SSL_set_bio(ssl, in, out);
		SSL_set_accept_state(ssl);
	}
	~Server()
	{
		SSL_free(ssl);
		SSL_CTX_free(ctx);
	}
	/* Move the bytes both ways around one step of the server. */
	int step(MemoryTransport &t)
	{
		move_in(t);
		ERR_clear_error();
		int rc = SSL_do_handshake(ssl);
		move_out(t);
		return rc;
	}
	void move_in(MemoryTransport &t)
	{
		std::vector<uint8_t> b(t.to_server.begin(), t.to_server.end());
		t.to_server.clear();
		if (!b.empty())
			BIO_write(in, b.data(), (int)b.size());
	}
	void move_out(MemoryTransport &t)
	{
		char buf[4096];
		int n;
		while ((n = BIO_read(out, buf, sizeof(buf))) > 0)
			t.to_client.insert(t.to_client.end(), buf, buf + n);
	}
};

/* Both ends stepped in turn until the client is done or failed. */
static TlsSession::Step shake(TlsSession &c, Server &s, MemoryTransport &t)
{
	for (int i = 0; i < 10000; i++) {
		TlsSession::Step st = c.handshake();
		s.step(t);
		if (st != TlsSession::AGAIN)
			return st;
	}
	return TlsSession::AGAIN;
}

static TlsConfig config(const char *host, const Cred *own = &client)
{
	TlsConfig cfg;

	cfg.ca_pem = ca.cert_pem.c_str();
	cfg.cert_pem = own ? own->cert_pem.c_str() : nullptr;
	cfg.key_pem = own ? own->key_pem.c_str() : nullptr;
	cfg.host = host;
	return cfg;
}

static bool contains(const std::string &s, const char *part)
{
	return s.find(part) != std::string::npos;
}

/* ---- the tests ------------------------------------------------------------------- */

static void test_arduino_tls_mutual_handshake_and_data(void **state)
{
	MemoryTransport t;
	Server s(ca);
	TlsSession c;
	uint8_t buf[512];

	(void)state;
	assert_true(c.begin(config("mqtt.example.com"), &t));
	assert_int_equal(shake(c, s, t), TlsSession::DONE);
	assert_true(c.established());
	assert_true(c.open());
	assert_int_equal(c.error_code(), 0);
	/* TLS 1.2, the ESP32's, though the server speaks 1.3 too. */
	assert_int_equal(SSL_version(s.ssl), TLS1_2_VERSION);
	/* The server saw the client's certificate, and SNI. */
	X509 *peer = SSL_get1_peer_certificate(s.ssl);
	assert_non_null(peer);
	X509_free(peer);
	assert_string_equal(SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name), "mqtt.example.com");

	/* Client to server. */
	assert_int_equal(c.write(reinterpret_cast<const uint8_t *>("hello"), 5), 5);
	s.move_in(t);
	char got[16] = "";
	assert_int_equal(SSL_read(s.ssl, got, sizeof(got)), 5);
	assert_memory_equal(got, "hello", 5);

	/* Server to client: 20,000 bytes, two records, read in small pieces. */
	std::vector<uint8_t> big(20000);
	for (size_t i = 0; i < big.size(); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(SSL_write(s.ssl, big.data(), (int)big.size()), (int)big.size());
	s.move_out(t);
	std::vector<uint8_t> back;
	while (back.size() < big.size()) {
		size_t avail = c.available();
		assert_true(avail > 0);
		assert_true(c.buffered() > 0);
		int n = c.read(buf, sizeof(buf));
		assert_true(n > 0);
		back.insert(back.end(), buf, buf + n);
	}
	assert_true(back == big);
	assert_int_equal(c.available(), 0);
	assert_int_equal(c.read(buf, sizeof(buf)), 0); /* nothing now, still open */
	assert_true(c.open());
}

static void test_arduino_tls_one_byte_at_a_time(void **state)
{
	MemoryTransport t;
	Server s(ca);
	TlsSession c;
	uint8_t b = 0;

	(void)state;
	t.chunk = 1;
	assert_true(c.begin(config("mqtt.example.com"), &t));
	assert_int_equal(shake(c, s, t), TlsSession::DONE);
	assert_int_equal(SSL_write(s.ssl, "xy", 2), 2);
	s.move_out(t);
	assert_int_equal(c.peek(&b, 1), 1);
	assert_int_equal(b, 'x');
	assert_int_equal(c.read(&b, 1), 1);
	assert_int_equal(b, 'x');
	assert_int_equal(c.read(&b, 1), 1);
	assert_int_equal(b, 'y');
}

static void test_arduino_tls_verifies_the_host_name(void **state)
{
	MemoryTransport t;
	Server s(ca);
	TlsSession c;

	(void)state;
	assert_true(c.begin(config("broker.hivemq.com"), &t));
	assert_int_equal(shake(c, s, t), TlsSession::FAILED);
	assert_false(c.open());
	assert_true(c.error_code() < 0);
	assert_true(contains(c.error(), "certificate verify failed"));
	assert_true(contains(c.error(), "(hostname mismatch)"));
	assert_true(contains(c.error_lines(), "OpenSSL Error[0]: error:"));
	assert_true(contains(c.error_lines(), "certificate verify failed (hostname mismatch)"));
}

static void test_arduino_tls_verifies_an_ip_address(void **state)
{
	(void)state;
	{
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("127.0.0.1"), &t));
		assert_int_equal(shake(c, s, t), TlsSession::DONE);
		/* No SNI for an address. */
		assert_null(SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name));
	}
	{
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("10.0.0.9"), &t));
		assert_int_equal(shake(c, s, t), TlsSession::FAILED);
		assert_true(contains(c.error(), "(IP address mismatch)"));
	}
}

static void test_arduino_tls_unknown_server_ca_refused_unless_insecure(void **state)
{
	(void)state;
	{
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		TlsConfig cfg = config("mqtt.example.com");
		cfg.ca_pem = foreign_ca.cert_pem.c_str();
		assert_true(c.begin(cfg, &t));
		assert_int_equal(shake(c, s, t), TlsSession::FAILED);
		/* The server sends its CA along (OpenSSL builds the chain from
		 * its store): a root the client does not hold. */
		assert_true(contains(c.error(), "certificate verify failed"));
		assert_true(contains(c.error(), "(self-signed certificate in certificate chain)"));
	}
	{
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		TlsConfig cfg = config("somewhere.else");
		cfg.ca_pem = nullptr;
		cfg.insecure = true;
		assert_true(c.begin(cfg, &t));
		assert_int_equal(shake(c, s, t), TlsSession::DONE);
	}
}

static void test_arduino_tls_refused_client_certificates(void **state)
{
	(void)state;
	/* What a broker says of a certificate it does not trust, and of an
	 * expired one: its alert reaches the client inside the handshake. */
	{
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com", &foreign_client), &t));
		assert_int_equal(shake(c, s, t), TlsSession::FAILED);
		assert_true(contains(c.error(), "alert unknown ca"));
		assert_true(contains(c.error_lines(), "OpenSSL Error[0]: error:0A000418:"));
	}
	{
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com", &expired_client), &t));
		assert_int_equal(shake(c, s, t), TlsSession::FAILED);
		assert_true(contains(c.error(), "alert certificate expired"));
	}
	{
		/* None at all, to a broker that requires one. */
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com", nullptr), &t));
		assert_int_equal(shake(c, s, t), TlsSession::FAILED);
		assert_true(c.error_code() < 0);
	}
}

static void test_arduino_tls_bad_configuration(void **state)
{
	(void)state;
	{
		MemoryTransport t;
		TlsSession c;
		TlsConfig cfg = config("mqtt.example.com");
		cfg.ca_pem = "";
		assert_false(c.begin(cfg, &t));
		assert_true(contains(c.error(), "setCACert()"));
		assert_int_equal(c.error_code(), -1);
		assert_int_equal(c.handshake(), TlsSession::FAILED);
	}
	{
		MemoryTransport t;
		TlsSession c;
		TlsConfig cfg = config("mqtt.example.com");
		cfg.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
		assert_false(c.begin(cfg, &t));
		assert_true(contains(c.error(), "CA certificate: "));
	}
	{
		MemoryTransport t;
		TlsSession c;
		TlsConfig cfg = config("mqtt.example.com");
		cfg.key_pem = foreign_client.key_pem.c_str(); /* not this certificate's */
		assert_false(c.begin(cfg, &t));
		assert_true(contains(c.error(), "private key: "));
	}
	{
		MemoryTransport t;
		TlsSession c;
		TlsConfig cfg = config("mqtt.example.com");
		cfg.cert_pem = "garbage";
		assert_false(c.begin(cfg, &t));
		assert_true(contains(c.error(), "client certificate: "));
	}
	/* Nothing went on the wire for any of them. */
}

static void test_arduino_tls_ends_of_the_session(void **state)
{
	uint8_t buf[64];

	(void)state;
	{
		/* The peer's close_notify: over, and not an error. */
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com"), &t));
		assert_int_equal(shake(c, s, t), TlsSession::DONE);
		SSL_shutdown(s.ssl);
		s.move_out(t);
		assert_int_equal(c.read(buf, sizeof(buf)), -1);
		assert_false(c.open());
		assert_int_equal(c.error_code(), 0);
		assert_int_equal(c.write(buf, 1), -1);
	}
	{
		/* The transport closed under it (a broker's FIN, a drop): as
		 * silent as a plain socket. */
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com"), &t));
		assert_int_equal(shake(c, s, t), TlsSession::DONE);
		t.closed = true;
		assert_int_equal(c.available(), 0);
		assert_false(c.open());
		assert_int_equal(c.error_code(), 0);
	}
	{
		/* Closed during the handshake, before any alert. */
		MemoryTransport t;
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com"), &t));
		assert_int_equal(c.handshake(), TlsSession::AGAIN);
		t.closed = true;
		assert_int_equal(c.handshake(), TlsSession::FAILED);
		assert_true(contains(c.error(), "closed during the handshake"));
	}
	{
		/* Our own close_notify reaches the server. */
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com"), &t));
		assert_int_equal(shake(c, s, t), TlsSession::DONE);
		c.close_notify();
		assert_false(c.open());
		s.move_in(t);
		assert_int_equal(SSL_read(s.ssl, buf, sizeof(buf)), 0);
		assert_int_equal(SSL_get_error(s.ssl, 0), SSL_ERROR_ZERO_RETURN);
	}
	{
		/* A write that cannot go out ends the session. */
		MemoryTransport t;
		Server s(ca);
		TlsSession c;
		assert_true(c.begin(config("mqtt.example.com"), &t));
		assert_int_equal(shake(c, s, t), TlsSession::DONE);
		t.closed = true;
		assert_int_equal(c.write(buf, 10), -1);
		assert_false(c.open());
	}
}

/* ---- the PEM files provisioning reads ------------------------------------------ */

static void test_arduino_tls_read_pem_file(void **state)
{
	char dir[] = "/tmp/robofleet-ut-pem-XXXXXX";
	std::string path, text, err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	auto file = [&](const char *name, const std::string &content) {
		std::string p = std::string(dir) + "/" + name;
		FILE *f = fopen(p.c_str(), "wb");
		assert_non_null(f);
		fwrite(content.data(), 1, content.size(), f);
		fclose(f);
		return p;
	};

	path = file("ca.crt", ca.cert_pem);
	assert_true(robofleet_arduino::read_pem_file(path.c_str(), text, err));
	assert_string_equal(text.c_str(), ca.cert_pem.c_str());

	std::string at_limit(robofleet_arduino::PEM_FILE_MAX, 'x');
	path = file("limit.pem", at_limit);
	assert_true(robofleet_arduino::read_pem_file(path.c_str(), text, err));
	assert_int_equal(text.size(), robofleet_arduino::PEM_FILE_MAX);

	path = file("big.pem", at_limit + "y");
	assert_false(robofleet_arduino::read_pem_file(path.c_str(), text, err));
	assert_true(contains(err, "larger than 8192 bytes"));

	path = file("empty.pem", "");
	assert_false(robofleet_arduino::read_pem_file(path.c_str(), text, err));
	assert_true(contains(err, "empty"));

	path = file("cert.der", std::string("\x30\x82\x01\x00", 4));
	assert_false(robofleet_arduino::read_pem_file(path.c_str(), text, err));
	assert_true(contains(err, "not PEM text"));

	path = std::string(dir) + "/missing.pem";
	assert_false(robofleet_arduino::read_pem_file(path.c_str(), text, err));
	assert_true(contains(err, "No such file or directory"));

	std::string cmd = std::string("rm -rf '") + dir + "'";
	assert_int_equal(system(cmd.c_str()), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arduino_tls_mutual_handshake_and_data),
		cmocka_unit_test(test_arduino_tls_one_byte_at_a_time),
		cmocka_unit_test(test_arduino_tls_verifies_the_host_name),
		cmocka_unit_test(test_arduino_tls_verifies_an_ip_address),
		cmocka_unit_test(test_arduino_tls_unknown_server_ca_refused_unless_insecure),
		cmocka_unit_test(test_arduino_tls_refused_client_certificates),
		cmocka_unit_test(test_arduino_tls_bad_configuration),
		cmocka_unit_test(test_arduino_tls_ends_of_the_session),
		cmocka_unit_test(test_arduino_tls_read_pem_file),
	};

	return cmocka_run_group_tests_name("arduino_tls", tests, group_setup, group_teardown);
}
