/*
 * Certificates, keys, password hashes and secret files (sim/pki.c,
 * credentials.c, secret_file.c) and `robofleet ca` (ca_cmd.c), on files in
 * a temporary directory. Chains are checked with OpenSSL's own verifier,
 * password hashes against mosquitto's own mosquitto_passwd when installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_cmd.h"
#include "credentials.h"
#include "pki.h"
#include "secret_file.h"

#ifndef TEST_MOSQUITTO_PASSWD
#define TEST_MOSQUITTO_PASSWD ""
#endif

static char tmp[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_pki.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* @name inside the temporary directory (one of 8 rotating buffers: copy to keep it). */
static const char *at(const char *name)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmp, name);
	return b;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void write_text(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void assert_cn(X509 *x, const char *cn)
{
	char buf[128];

	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
					      sizeof(buf)) > 0);
	assert_string_equal(buf, cn);
}

static void assert_cn_of(const char *path, const char *cn)
{
	X509 *x = load_cert(path);

	assert_cn(x, cn);
	X509_free(x);
}

/* Whether @x chains to the CA certificate @ca with OpenSSL's verifier (dates too). */
static int verify_with(X509 *ca, X509 *x)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

static struct pki_ca *make_ca(const char *crt, const char *key)
{
	struct pki_ca *ca = NULL;
	char err[512] = "";

	assert_int_equal(pki_ca_create("test CA", 30, at(crt), at(key), &ca, err, sizeof(err)), 0);
	assert_non_null(ca);
	return ca;
}

static void issue(struct pki_ca *ca, const char *cn, int64_t from, int64_t to, const char *crt,
		  const char *key)
{
	struct pki_subject s = { .cn = cn, .not_before_s = from, .not_after_s = to };
	char err[512] = "";

	assert_int_equal(pki_issue(ca, &s, at(crt), at(key), err, sizeof(err)), 0);
}

/* -------------------------------------------------------------------------- */

static void test_pki_ca_create_and_load(void **state)
{
	struct pki_ca *ca = NULL, *again = NULL;
	char err[512] = "";
	X509 *x;

	(void)state;
	ca = make_ca("ca.crt", "ca.key");
	assert_int_equal(mode_of(at("ca.key")), 0600);
	assert_int_equal(mode_of(at("ca.crt")), 0644);
	x = load_cert(at("ca.crt"));
	assert_cn(x, "test CA");
	assert_int_equal(X509_check_ca(x), 1);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	X509_free(x);
	{
		char *key = read_text(at("ca.key"), NULL), *again;
		BIO *in = BIO_new_mem_buf(key, -1), *out = BIO_new(BIO_s_mem());
		EVP_PKEY *pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
		long n;

		/* PKCS#8, unencrypted, exactly as OpenSSL's own encoder writes it. */
		assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));
		assert_non_null(pkey);
		assert_int_equal(PEM_write_bio_PKCS8PrivateKey(out, pkey, NULL, NULL, 0, NULL, NULL), 1);
		n = BIO_get_mem_data(out, &again);
		assert_int_equal(n, (long)strlen(key));
		assert_memory_equal(again, key, (size_t)n);
		EVP_PKEY_free(pkey);
		BIO_free(in);
		BIO_free(out);
		free(key);
	}
	assert_int_equal(pki_ca_load(at("ca.crt"), at("ca.key"), &again, err, sizeof(err)), 0);
	pki_ca_free(again);
	pki_ca_free(ca);

	/* Another CA's key with this certificate. */
	ca = make_ca("other.crt", "other.key");
	pki_ca_free(ca);
	assert_int_equal(pki_ca_load(at("ca.crt"), at("other.key"), &again, err, sizeof(err)),
			 -EINVAL);
	assert_null(again);
	assert_non_null(strstr(err, "other.key: does not match the certificate"));
	assert_non_null(strstr(err, "ca.crt"));
}

static void test_pki_ca_refuses_a_leaf(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key"), *leaf = NULL;
	char err[512] = "";

	(void)state;
	issue(ca, "robot_001", -3600, 86400, "d.crt", "d.key");
	pki_ca_free(ca);
	assert_int_equal(pki_ca_load(at("d.crt"), at("d.key"), &leaf, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "d.crt: not a CA certificate"));
}

static void test_pki_issue_chains_to_the_ca(void **state)
{
	static const char *const names[] = { "localhost", "broker.example" };
	static const char *const ips[] = { "127.0.0.1", "::1" };
	struct pki_subject s = {
		.cn = "robot_001",
		.dns_names = names, .n_dns_names = 2,
		.ip_addresses = ips, .n_ip_addresses = 2,
		.server = true,
		.not_before_s = -3600, .not_after_s = 86400,
	};
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	GENERAL_NAMES *san;
	EXTENDED_KEY_USAGE *eku;
	BASIC_CONSTRAINTS *bc;
	const ASN1_INTEGER *serial;
	char err[512] = "";
	bool expired = true;
	X509 *cax, *x;
	int dns = 0, ip = 0;

	(void)state;
	assert_int_equal(pki_issue(ca, &s, at("d.crt"), at("d.key"), err, sizeof(err)), 0);
	pki_ca_free(ca);
	assert_int_equal(mode_of(at("d.key")), 0600);
	{
		char *key = read_text(at("d.key"), NULL), *again;
		BIO *in = BIO_new_mem_buf(key, -1), *out = BIO_new(BIO_s_mem());
		EVP_PKEY *pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
		long n;

		assert_non_null(pkey);
		assert_int_equal(PEM_write_bio_PKCS8PrivateKey(out, pkey, NULL, NULL, 0, NULL, NULL), 1);
		n = BIO_get_mem_data(out, &again);
		assert_int_equal(n, (long)strlen(key));
		assert_memory_equal(again, key, (size_t)n);
		EVP_PKEY_free(pkey);
		BIO_free(in);
		BIO_free(out);
		free(key);
	}
	assert_int_equal(mode_of(at("d.crt")), 0644);

	cax = load_cert(at("ca.crt"));
	x = load_cert(at("d.crt"));
	assert_int_equal(X509_verify(x, X509_get0_pubkey(cax)), 1);
	assert_int_equal(verify_with(cax, x), 1);
	assert_cn(x, "robot_001");
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_int_equal(X509_check_ca(x), 0);

	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	for (int i = 0; i < sk_GENERAL_NAME_num(san); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, i);

		if (gn->type == GEN_DNS)
			dns++;
		if (gn->type == GEN_IPADD)
			ip++;
	}
	GENERAL_NAMES_free(san);
	assert_int_equal(dns, 2);
	assert_int_equal(ip, 2);
	assert_int_equal(X509_check_host(x, "broker.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);

	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
					       X509_get0_subject_key_id(cax)), 0);

	/* 128 random bits: 16 or 17 bytes of DER content (a leading zero when the top bit is set). */
	serial = X509_get0_serialNumber(x);
	assert_true(ASN1_STRING_length(serial) >= 12 && ASN1_STRING_length(serial) <= 17);

	assert_int_equal(pki_check_files(at("ca.crt"), at("d.crt"), at("d.key"), &expired, err,
					 sizeof(err)), 0);
	assert_false(expired);
	X509_free(x);
	X509_free(cax);
}

static void test_pki_issue_client_has_client_auth(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	EXTENDED_KEY_USAGE *eku;
	X509 *x;

	(void)state;
	issue(ca, "robofleet-recorder", -3600, 86400, "c.crt", "c.key");
	pki_ca_free(ca);
	x = load_cert(at("c.crt"));
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_client_auth);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	/* No names asked for: no subjectAltName at all (an empty one is invalid). */
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
}

static void test_pki_issue_refuses_bad_input(void **state)
{
	static const char *const bad_ip[] = { "300.1.1.1" };
	static const char *const bad_name[] = { "a b" };
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	struct pki_subject s = { .cn = "x", .not_before_s = -3600, .not_after_s = 3600 };
	char err[512] = "";

	(void)state;
	s.ip_addresses = bad_ip;
	s.n_ip_addresses = 1;
	assert_int_equal(pki_issue(ca, &s, at("x.crt"), at("x.key"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'300.1.1.1' is not an IP address"));
	s.n_ip_addresses = 0;
	s.dns_names = bad_name;
	s.n_dns_names = 1;
	assert_int_equal(pki_issue(ca, &s, at("x.crt"), at("x.key"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not a DNS name"));
	s.n_dns_names = 0;
	s.not_after_s = -7200;
	assert_int_equal(pki_issue(ca, &s, at("x.crt"), at("x.key"), err, sizeof(err)), -EINVAL);
	pki_ca_free(ca);
}

static void test_pki_issue_narrows_an_existing_key_file(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");

	(void)state;
	write_text(at("d.key"), "old\n", 4, 0644);
	issue(ca, "robot_001", -3600, 86400, "d.crt", "d.key");
	pki_ca_free(ca);
	assert_int_equal(mode_of(at("d.key")), 0600);
}

static void test_pki_check_reports_expired(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	char err[512] = "";
	bool expired = false;
	X509 *cax, *x;

	(void)state;
	issue(ca, "robot_001", -2 * 86400, -86400, "old.crt", "old.key");
	pki_ca_free(ca);
	/* Not an error here: a run may want it. */
	assert_int_equal(pki_check_files(at("ca.crt"), at("old.crt"), at("old.key"), &expired, err,
					 sizeof(err)), 0);
	assert_true(expired);
	assert_int_equal(pki_check_files(at("ca.crt"), at("old.crt"), NULL, NULL, err, sizeof(err)),
			 0);
	/* OpenSSL itself refuses it, for the date. */
	cax = load_cert(at("ca.crt"));
	x = load_cert(at("old.crt"));
	assert_int_equal(verify_with(cax, x), 0);
	X509_free(x);
	X509_free(cax);
}

static void test_pki_check_key_mismatch(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	char err[512] = "";

	(void)state;
	issue(ca, "robot_001", -3600, 86400, "a.crt", "a.key");
	issue(ca, "robot_002", -3600, 86400, "b.crt", "b.key");
	pki_ca_free(ca);
	assert_int_equal(pki_check_files(at("ca.crt"), at("a.crt"), at("b.key"), NULL, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/b.key: does not match the certificate "));
	assert_non_null(strstr(err, "/a.crt"));
}

static void test_pki_check_foreign_ca(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key"), *other = make_ca("o.crt", "o.key");
	char err[512] = "";

	(void)state;
	issue(other, "robot_001", -3600, 86400, "x.crt", "x.key");
	pki_ca_free(other);
	pki_ca_free(ca);
	assert_int_equal(pki_check_files(at("ca.crt"), at("x.crt"), at("x.key"), NULL, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/x.crt: not issued by the CA in "));
	assert_non_null(strstr(err, "/ca.crt"));
	/* A CA file that is a bundle: any of its certificates may be the issuer. */
	{
		char *a = read_text(at("o.crt"), NULL), *b = read_text(at("ca.crt"), NULL);
		char both[8192];

		snprintf(both, sizeof(both), "%s%s", b, a);
		write_text(at("bundle.crt"), both, strlen(both), 0644);
		free(a);
		free(b);
	}
	assert_int_equal(pki_check_files(at("bundle.crt"), at("x.crt"), at("x.key"), NULL, err,
					 sizeof(err)), 0);
	/* A leaf is no CA to check against. */
	assert_int_equal(pki_check_files(at("x.crt"), NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/x.crt: not a CA certificate"));
}

static void test_pki_check_damaged_files(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	char err[512] = "", *text;
	size_t len;

	(void)state;
	issue(ca, "robot_001", -3600, 86400, "d.crt", "d.key");
	pki_ca_free(ca);

	text = read_text(at("d.crt"), &len);
	write_text(at("half.crt"), text, len / 2, 0644);
	free(text);
	assert_int_equal(pki_check_files(NULL, at("half.crt"), NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/half.crt: not a PEM certificate (truncated or damaged)"));

	text = read_text(at("d.key"), &len);
	write_text(at("half.key"), text, len - 40, 0600);
	/* A flipped character inside the base64: decodes, but not to a key. */
	text[40] = text[40] == 'A' ? 'B' : 'A';
	text[41] = text[41] == 'A' ? 'B' : 'A';
	write_text(at("flip.key"), text, len, 0600);
	free(text);
	assert_int_equal(pki_check_files(NULL, NULL, at("half.key"), NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/half.key: not a PEM private key (truncated or damaged)"));
	assert_int_equal(pki_check_files(NULL, at("d.crt"), at("flip.key"), NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/flip.key: "));

	write_text(at("empty.crt"), "", 0, 0644);
	assert_int_equal(pki_check_files(NULL, at("empty.crt"), NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/empty.crt: empty file"));

	assert_int_equal(pki_check_files(at("missing.crt"), NULL, NULL, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/missing.crt: "));
	assert_non_null(strstr(err, "No such file"));

	write_text(at("text.crt"), "hello\n", 6, 0644);
	assert_int_equal(pki_check_files(NULL, at("text.crt"), NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/text.crt: not a PEM certificate (no -----BEGIN line)"));

	/* Swapped: the key where the certificate goes and back. */
	assert_int_equal(pki_check_files(NULL, at("d.key"), NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/d.key: holds a PEM 'PRIVATE KEY' block"));
	assert_int_equal(pki_check_files(NULL, NULL, at("d.crt"), NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/d.crt: holds a certificate where a private key"));
}

/* The other ways keys come: traditional "EC PRIVATE KEY" after "EC PARAMETERS", encrypted. */
static void test_pki_check_other_key_forms(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	char err[512] = "", *text, *pem;
	OSSL_ENCODER_CTX *enc;
	EVP_PKEY *pkey;
	BIO *in, *out;
	long n;

	(void)state;
	issue(ca, "robot_001", -3600, 86400, "d.crt", "d.key");
	pki_ca_free(ca);
	text = read_text(at("d.key"), NULL);
	in = BIO_new_mem_buf(text, -1);
	pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	assert_non_null(pkey);

	out = BIO_new(BIO_s_mem());
	assert_true(BIO_puts(out, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
			     "-----END EC PARAMETERS-----\n") > 0);
	enc = OSSL_ENCODER_CTX_new_for_pkey(pkey, OSSL_KEYMGMT_SELECT_ALL, "PEM", "type-specific",
					    NULL);
	assert_non_null(enc);
	assert_int_equal(OSSL_ENCODER_to_bio(enc, out), 1);
	OSSL_ENCODER_CTX_free(enc);
	n = BIO_get_mem_data(out, &pem);
	assert_non_null(memmem(pem, (size_t)n, "-----BEGIN EC PRIVATE KEY-----", 30));
	write_text(at("trad.key"), pem, (size_t)n, 0600);
	BIO_free(out);
	assert_int_equal(pki_check_files(at("ca.crt"), at("d.crt"), at("trad.key"), NULL, err,
					 sizeof(err)), 0);

	out = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(out, pkey, EVP_aes_256_cbc(), NULL, 0, NULL,
						       "passphrase"), 1);
	n = BIO_get_mem_data(out, &pem);
	write_text(at("enc.key"), pem, (size_t)n, 0600);
	BIO_free(out);
	assert_int_equal(pki_check_files(NULL, at("d.crt"), at("enc.key"), NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/enc.key: the private key is encrypted"));

	EVP_PKEY_free(pkey);
	BIO_free(in);
	free(text);
}

static void test_pki_check_pem_in_memory(void **state)
{
	struct pki_ca *ca = make_ca("ca.crt", "ca.key");
	char err[512] = "", *crt, *key, *other;
	size_t clen, klen, olen;

	(void)state;
	issue(ca, "robot_001", -3600, 86400, "d.crt", "d.key");
	issue(ca, "robot_002", -3600, 86400, "e.crt", "e.key");
	pki_ca_free(ca);
	crt = read_text(at("d.crt"), &clen);
	key = read_text(at("d.key"), &klen);
	other = read_text(at("e.key"), &olen);
	assert_int_equal(pki_check_pem("mem", crt, clen, key, klen, err, sizeof(err)), 0);
	assert_int_equal(pki_check_pem("mem", crt, clen, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(pki_check_pem("mem", crt, clen, other, olen, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mem: the private key does not match the certificate");
	assert_int_equal(pki_check_pem("mem", crt, clen - 30, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mem: not a PEM certificate (truncated or damaged)");
	assert_int_equal(pki_check_pem("mem", "", 0, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(pki_check_pem("mem", "\0\0\0-----BEGIN", 13, NULL, 0, err, sizeof(err)),
			 -EINVAL);
	free(crt);
	free(key);
	free(other);
}

/* -------------------------------------------------------------------------- */

static void test_pki_password_hash_round_trip(void **state)
{
	char hash[200], pw[25];
	const char *salt, *h;

	(void)state;
	assert_int_equal(pki_random_password(pw, sizeof(pw)), 0);
	assert_int_equal(strlen(pw), 24);
	assert_int_equal(strspn(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
			 24);
	assert_int_equal(pki_password_hash(pw, hash, sizeof(hash)), 0);
	assert_memory_equal(hash, "$7$101$", 7);
	salt = hash + 7;
	h = strchr(salt, '$');
	assert_non_null(h);
	assert_int_equal(h - salt, 16);     /* 12 bytes of salt */
	assert_int_equal(strlen(h + 1), 88); /* 64 bytes of hash, padded */
	assert_true(pki_password_matches(pw, hash));
	assert_false(pki_password_matches("wrong", hash));
	assert_false(pki_password_matches("", hash));
	/* Too small a buffer. */
	assert_int_equal(pki_password_hash(pw, hash, 50), -ERANGE);
	/* Not hashes. */
	assert_false(pki_password_matches("x", "x"));
	assert_false(pki_password_matches("x", "$7$"));
	assert_false(pki_password_matches("x", "$7$0$AAAA$AAAA"));
	assert_false(pki_password_matches("x", "$7$101$!!!!$AAAA"));
	assert_false(pki_password_matches("x", "$5$AAAA$AAAA"));
}

static void test_pki_random_passwords_differ(void **state)
{
	char a[33], b[33], one[1];

	(void)state;
	assert_int_equal(pki_random_password(a, sizeof(a)), 0);
	assert_int_equal(pki_random_password(b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(pki_random_password(one, 1), 0);
	assert_string_equal(one, "");
	assert_int_equal(pki_random_password(one, 0), -EINVAL);
}

/* A password file line for @user from mosquitto_passwd itself; false if it is not installed. */
static bool mosquitto_line(const char *user, const char *pw, const char *hash_type, char *out,
			   size_t outlen)
{
	const char *file = at("mq.passwd");
	char *text, *nl;
	pid_t pid;
	int status;

	if (!TEST_MOSQUITTO_PASSWD[0] || access(TEST_MOSQUITTO_PASSWD, X_OK) != 0)
		return false;
	unlink(file);
	write_text(file, "", 0, 0600);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (hash_type)
			execl(TEST_MOSQUITTO_PASSWD, "mosquitto_passwd", "-H", hash_type, "-b", file,
			      user, pw, (char *)NULL);
		else
			execl(TEST_MOSQUITTO_PASSWD, "mosquitto_passwd", "-b", file, user, pw,
			      (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	text = read_text(file, NULL);
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	snprintf(out, outlen, "%s", text);
	free(text);
	return true;
}

static void test_pki_password_matches_mosquitto_passwd(void **state)
{
	char line[300];
	const char *hash;

	(void)state;
	if (!mosquitto_line("robot_001", "s3cret-Pass", NULL, line, sizeof(line))) {
		skip();
		return;
	}
	/* mosquitto 2.0's default: "$7$101$<12-byte salt>$<64-byte hash>". */
	assert_memory_equal(line, "robot_001:$7$101$", 17);
	hash = strchr(line, ':') + 1;
	assert_true(pki_password_matches("s3cret-Pass", hash));
	assert_false(pki_password_matches("s3cret-pass", hash));

	/* The older "$6$" (SHA-512 over password and salt). */
	assert_true(mosquitto_line("robot_002", "other", "sha512", line, sizeof(line)));
	assert_memory_equal(line, "robot_002:$6$", 13);
	hash = strchr(line, ':') + 1;
	assert_true(pki_password_matches("other", hash));
	assert_false(pki_password_matches("othe", hash));
}

/* -------------------------------------------------------------------------- */

static void test_secret_file_read(void **state)
{
	char out[16], err[512] = "";

	(void)state;
	write_text(at("pw"), "hunter2\nsecond line\n", 20, 0600);
	assert_int_equal(secret_file_read(at("pw"), out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "hunter2");

	write_text(at("crlf"), "hunter2\r\n", 9, 0400);
	assert_int_equal(secret_file_read(at("crlf"), out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "hunter2");

	write_text(at("nonl"), "exactly15chars!", 15, 0600);
	assert_int_equal(secret_file_read(at("nonl"), out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "exactly15chars!");

	write_text(at("open"), "hunter2\n", 8, 0644);
	assert_int_equal(secret_file_read(at("open"), out, sizeof(out), err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "/open: permissions 0644 are too open"));
	write_text(at("group"), "hunter2\n", 8, 0640);
	assert_int_equal(secret_file_read(at("group"), out, sizeof(out), err, sizeof(err)), -EPERM);

	write_text(at("empty"), "", 0, 0600);
	assert_int_equal(secret_file_read(at("empty"), out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/empty: empty"));
	write_text(at("blank"), "\nsecret\n", 8, 0600);
	assert_int_equal(secret_file_read(at("blank"), out, sizeof(out), err, sizeof(err)), -EINVAL);

	write_text(at("long"), "sixteen-chars-xx\n", 17, 0600);
	assert_int_equal(secret_file_read(at("long"), out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/long: the secret is longer than 15 characters"));

	assert_int_equal(secret_file_read(at("none"), out, sizeof(out), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/none: "));
	assert_int_equal(secret_file_read(tmp, out, sizeof(out), err, sizeof(err)), -EINVAL);
}

/* -------------------------------------------------------------------------- */

static void assert_pair(const char *dir, const char *sub, const char *name, const char *cn)
{
	char crt[600], key[600];

	assert_int_equal(credentials_path(dir, sub, name, "crt", crt, sizeof(crt)), 0);
	assert_int_equal(credentials_path(dir, sub, name, "key", key, sizeof(key)), 0);
	assert_int_equal(mode_of(crt), 0644);
	assert_int_equal(mode_of(key), 0600);
	if (cn)
		assert_cn_of(crt, cn);
}

/* @name's password file holds the password its mosquitto.passwd line hashes. */
static void assert_password(const char *dir, const char *sub, const char *name, const char *passwd)
{
	char path[600], pw[64], err[512], want[128];
	const char *line;

	assert_int_equal(credentials_path(dir, sub, name, "password", path, sizeof(path)), 0);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(secret_file_read(path, pw, sizeof(pw), err, sizeof(err)), 0);
	assert_int_equal(strlen(pw), 24);
	snprintf(want, sizeof(want), "\n%s:", name);
	line = strstr(passwd, want) ? strstr(passwd, want) + 1 : NULL;
	if (!line && !strncmp(passwd, want + 1, strlen(want + 1)))
		line = passwd;
	assert_non_null(line);
	{
		char hash[200];
		const char *h = line + strlen(name) + 1;
		size_t n = strcspn(h, "\n");

		assert_true(n < sizeof(hash));
		memcpy(hash, h, n);
		hash[n] = '\0';
		assert_true(pki_password_matches(pw, hash));
	}
}

static void test_credentials_create_with_fault_material(void **state)
{
	static const char *const ids[] = { "robot_001", "robot_002", "robot_003" };
	char err[512] = "", *passwd, dir[512];
	struct credentials_plan plan = {
		.dir = dir,
		.device_ids = ids,
		.n_devices = 3,
		.fault_material = true,
	};
	bool expired;
	int lines = 0;
	X509 *x;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", at("pki"));
	assert_int_equal(credentials_create(&plan, err, sizeof(err)), 0);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(at("pki/devices")), 0700);
	assert_int_equal(mode_of(at("pki/clients")), 0700);
	assert_int_equal(mode_of(at("pki/faults")), 0700);
	assert_pair(dir, NULL, "ca", "robofleet CA");
	assert_pair(dir, NULL, "broker", "localhost");
	assert_pair(dir, "clients", CREDENTIALS_RECORDER, CREDENTIALS_RECORDER);
	assert_pair(dir, "clients", CREDENTIALS_COMMANDER, CREDENTIALS_COMMANDER);
	for (int i = 0; i < 3; i++)
		assert_pair(dir, "devices", ids[i], ids[i]);
	assert_pair(dir, "faults", "expired", NULL);
	assert_pair(dir, "faults", "foreign", NULL);
	assert_int_equal(mode_of(at("pki/faults/foreign-ca.crt")), 0644);
	assert_int_equal(access(at("pki/faults/foreign-ca.key"), F_OK), -1);

	x = load_cert(at("pki/broker.crt"));
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	X509_free(x);

	assert_int_equal(mode_of(at("pki/mosquitto.passwd")), 0600);
	passwd = read_text(at("pki/mosquitto.passwd"), NULL);
	for (const char *p = passwd; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 5);
	assert_password(dir, "clients", CREDENTIALS_RECORDER, passwd);
	assert_password(dir, "clients", CREDENTIALS_COMMANDER, passwd);
	for (int i = 0; i < 3; i++)
		assert_password(dir, "devices", ids[i], passwd);
	free(passwd);

	/* Every device chains to the CA; the fault material does what it says. */
	assert_int_equal(pki_check_files(at("pki/ca.crt"), at("pki/devices/robot_002.crt"),
					 at("pki/devices/robot_002.key"), &expired, err, sizeof(err)),
			 0);
	assert_false(expired);
	assert_int_equal(pki_check_files(at("pki/ca.crt"), at("pki/faults/expired.crt"),
					 at("pki/faults/expired.key"), &expired, err, sizeof(err)), 0);
	assert_true(expired);
	assert_int_equal(pki_check_files(at("pki/ca.crt"), at("pki/faults/foreign.crt"),
					 at("pki/faults/foreign.key"), NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not issued by the CA in"));
	assert_int_equal(pki_check_files(at("pki/faults/foreign-ca.crt"), at("pki/faults/foreign.crt"),
					 NULL, NULL, err, sizeof(err)), 0);
}

static void test_credentials_add_devices_with_the_ca(void **state)
{
	static const char *const first[] = { "a", "b" };
	static const char *const more[] = { "b", "c" };
	char err[512] = "", *passwd;
	char crt[600], key[600];
	char dir[512];
	struct credentials_plan plan = { .dir = dir, .device_ids = first, .n_devices = 2 };

	(void)state;
	snprintf(dir, sizeof(dir), "%s", at("pki"));
	char *broker_before, *recorder_before, *text;

	assert_int_equal(credentials_create(&plan, err, sizeof(err)), 0);
	broker_before = read_text(at("pki/broker.crt"), NULL);
	recorder_before = read_text(at("pki/clients/robofleet-recorder.password"), NULL);
	snprintf(crt, sizeof(crt), "%s", at("pki/ca.crt"));
	snprintf(key, sizeof(key), "%s", at("pki/ca.key"));
	plan.device_ids = more;
	plan.ca_cert = crt;
	plan.ca_key = key;
	assert_int_equal(credentials_create(&plan, err, sizeof(err)), 0);
	/* What the broker and the recorder run with stays as it was. */
	assert_true(credentials_pair_valid(dir, NULL, "broker", crt));
	text = read_text(at("pki/broker.crt"), NULL);
	assert_string_equal(text, broker_before);
	free(text);
	text = read_text(at("pki/clients/robofleet-recorder.password"), NULL);
	assert_string_equal(text, recorder_before);
	free(text);
	passwd = read_text(at("pki/mosquitto.passwd"), NULL);
	assert_password(dir, "clients", CREDENTIALS_RECORDER, passwd);
	assert_password(dir, "clients", CREDENTIALS_COMMANDER, passwd);
	/* a kept, b replaced (once), c added, the two clients once each. */
	assert_non_null(strstr(passwd, "\na:"));
	assert_non_null(strstr(passwd, "\nc:"));
	assert_null(strstr(strstr(passwd, "\nb:") + 1, "\nb:"));
	assert_null(strstr(strstr(passwd, "robofleet-recorder:") + 1, "robofleet-recorder:"));
	assert_password(dir, "devices", "b", passwd);
	assert_password(dir, "devices", "a", passwd);
	free(passwd);
	assert_int_equal(pki_check_files(at("pki/ca.crt"), at("pki/devices/a.crt"), NULL, NULL, err,
					 sizeof(err)), 0);
	assert_int_equal(pki_check_files(at("pki/ca.crt"), at("pki/devices/c.crt"), NULL, NULL, err,
					 sizeof(err)), 0);

	/* Broker names given again: a new broker certificate, for them. */
	{
		static const char *const names[] = { "mqtt.example" };
		X509 *x;

		plan.broker_names = names;
		plan.n_broker_names = 1;
		assert_int_equal(credentials_create(&plan, err, sizeof(err)), 0);
		x = load_cert(at("pki/broker.crt"));
		assert_int_equal(X509_check_host(x, "mqtt.example", 0, 0, NULL), 1);
		X509_free(x);
	}
	/* A recorder whose password no longer matches its line is made again. */
	write_text(at("pki/clients/robofleet-recorder.password"), "changed\n", 8, 0600);
	assert_int_equal(credentials_create(&plan, err, sizeof(err)), 0);
	passwd = read_text(at("pki/mosquitto.passwd"), NULL);
	assert_password(dir, "clients", CREDENTIALS_RECORDER, passwd);
	free(passwd);
	free(broker_before);
	free(recorder_before);
}

static void test_credentials_refuses_bad_ids(void **state)
{
	static const char *const dup[] = { "a", "b", "a" };
	static const char *const slash[] = { "../x" };
	static const char *const client[] = { CREDENTIALS_COMMANDER };
	char err[512] = "", dir[512];
	struct credentials_plan plan = { .dir = dir, .device_ids = dup, .n_devices = 3 };

	(void)state;
	snprintf(dir, sizeof(dir), "%s", at("pki"));
	assert_int_equal(credentials_create(&plan, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'a' appears twice"));
	plan.device_ids = slash;
	plan.n_devices = 1;
	assert_int_equal(credentials_create(&plan, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'../x' is not a device id"));
	plan.device_ids = client;
	assert_int_equal(credentials_create(&plan, err, sizeof(err)), -EINVAL);
	/* Nothing was written. */
	assert_int_equal(access(at("pki"), F_OK), -1);
}

static void test_credentials_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(credentials_path("d", "devices", "robot_001", "crt", out, sizeof(out)), 0);
	assert_string_equal(out, "d/devices/robot_001.crt");
	assert_int_equal(credentials_path("d", NULL, "ca", "crt", out, sizeof(out)), 0);
	assert_string_equal(out, "d/ca.crt");
	assert_int_equal(credentials_path("d", NULL, "faults", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "d/faults");
	assert_int_equal(credentials_path("d", "devices", "robot_001", "crt", out, 10),
			 -ENAMETOOLONG);
}

/* -------------------------------------------------------------------------- */

static int ca_cmd(const char *first, ...)
{
	char *argv[32];
	int argc = 0, rc, saved_out, saved_err, devnull;
	va_list ap;

	argv[argc++] = "ca";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	/* Its messages are for people: keep the test's output readable. */
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 1);
	dup2(devnull, 2);
	rc = ca_cmd_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	close(devnull);
	return rc;
}

static void test_ca_cmd(void **state)
{
	char dir[512];

	(void)state;
	snprintf(dir, sizeof(dir), "%s", at("creds"));
	assert_int_equal(ca_cmd("--out", dir, "--bogus", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--ids", "a,b", "--count", "2", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--ids", "a,,b", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--ids", "a/b", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--ids", "a,a", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--count", "0", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--count", "2", "--broker-ip", "1.2.3", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--count", "2", "--days", "0", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--count", "2", "--ca-cert", "x", NULL), 2);
	assert_int_equal(ca_cmd("--out", dir, "--count", "2", "--prefix", "a/", NULL), 2);
	assert_int_equal(ca_cmd("--out", at("no/such/dir"), "--count", "2", NULL), 2);
	assert_int_equal(access(dir, F_OK), -1);

	assert_int_equal(ca_cmd("--out", dir, "--count", "3", "--broker-name", "mqtt.example",
				"--broker-ip", "10.0.0.5", "--days", "30", "--fault-material", NULL), 0);
	assert_int_equal(access(at("creds/devices/robot_001.crt"), F_OK), 0);
	assert_int_equal(access(at("creds/devices/robot_003.password"), F_OK), 0);
	assert_int_equal(access(at("creds/devices/robot_004.crt"), F_OK), -1);
	assert_int_equal(access(at("creds/faults/expired.crt"), F_OK), 0);
	{
		X509 *x = load_cert(at("creds/broker.crt"));

		assert_int_equal(X509_check_host(x, "mqtt.example", 0, 0, NULL), 1);
		assert_int_equal(X509_check_ip_asc(x, "10.0.0.5", 0), 1);
		X509_free(x);
	}
	/* Not again into the same directory without its CA ... */
	assert_int_equal(ca_cmd("--out", dir, "--ids", "extra", NULL), 2);
	/* ... but with it, devices are added. */
	assert_int_equal(ca_cmd("--out", dir, "--ids", "extra", "--ca-cert", at("creds/ca.crt"),
				"--ca-key", at("creds/ca.key"), NULL), 0);
	assert_int_equal(access(at("creds/devices/extra.key"), F_OK), 0);
	/* A CA whose key is not its own is bad input. */
	assert_int_equal(ca_cmd("--out", dir, "--ids", "x", "--ca-cert", at("creds/ca.crt"),
				"--ca-key", at("creds/devices/extra.key"), NULL), 2);

	/* The fleet's width rule: at least 3 digits. */
	assert_int_equal(ca_cmd("--out", at("wide"), "--count", "2", "--prefix", "r-", NULL), 0);
	assert_int_equal(access(at("wide/devices/r-002.crt"), F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pki_ca_create_and_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_ca_refuses_a_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_issue_chains_to_the_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_issue_client_has_client_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_issue_refuses_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_issue_narrows_an_existing_key_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pki_check_reports_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_check_key_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_check_foreign_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_check_damaged_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_check_other_key_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_check_pem_in_memory, setup, teardown),
		cmocka_unit_test(test_pki_password_hash_round_trip),
		cmocka_unit_test(test_pki_random_passwords_differ),
		cmocka_unit_test_setup_teardown(test_pki_password_matches_mosquitto_passwd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_create_with_fault_material, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_credentials_add_devices_with_the_ca, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_credentials_refuses_bad_ids, setup, teardown),
		cmocka_unit_test(test_credentials_path),
		cmocka_unit_test_setup_teardown(test_ca_cmd, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
