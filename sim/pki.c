/*
 * Certificates, keys and mosquitto password hashes with OpenSSL 3 (pki.h).
 *
 * Everything is ECDSA P-256 with SHA-256 signatures: small keys, fast to
 * make (a fleet of 10,000 devices gets 10,000 of them) and accepted by
 * mosquitto, libmosquitto and every TLS stack a real board may carry.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "error_text.h"
#include "pki.h"

/* No PEM file we deal with comes near this; a bigger one is not ours. */
#define PKI_FILE_MAX (1024 * 1024)
/* A certificate file may carry its chain; more than this is not a chain. */
#define PKI_PEM_BLOCKS_MAX 16

/* Validity offsets from now we accept: 1000 years either way. */
#define PKI_VALIDITY_MAX_S (1000LL * 366 * 86400)

/* mosquitto 2.0's "$7$" hash (mosquitto_passwd's defaults). */
#define PW_ITERATIONS 101
#define PW_SALT_LEN 12
#define PW_HASH_LEN 64
/* Iterations a "$7$" hash we check may ask for: bounded, it costs time. */
#define PW_ITERATIONS_MAX 10000000L

struct pki_ca {
	X509 *cert;
	EVP_PKEY *key;
	/* P-256 parameters set once and reused for every key issued. */
	EVP_PKEY_CTX *keygen;
};


/* The reason OpenSSL gave for its last failure, for messages that need one. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown OpenSSL error";
}

/* -------------------------------------------------------------------------- */
/* Files */

int pki_write_file(const char *path, const void *data, size_t len, unsigned mode,
		   char *err, size_t errlen)
{
	const char *p = data;
	int fd, rc = 0;

	/*
	 * O_TRUNC drops an old file's content at once and fchmod() narrows its
	 * mode before the new content goes in, so a key never sits in a file
	 * wider than @mode, even one that existed with 0644.
	 */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return error_text(err, errlen, -errno, "%s: cannot create: %s", path, strerror(errno));
	if (fchmod(fd, (mode_t)mode) < 0) {
		rc = error_text(err, errlen, -errno, "%s: cannot set mode %04o: %s", path, mode,
			     strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_text(err, errlen, -errno, "%s: cannot write: %s", path,
				     strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
out:
	if (close(fd) < 0 && rc == 0)
		rc = error_text(err, errlen, -errno, "%s: cannot write: %s", path, strerror(errno));
	return rc;
}

/* Read all of @path (up to PKI_FILE_MAX) into a new buffer, NUL-terminated. */
static int read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = 0;

	*out = NULL;
	*outlen = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_text(err, errlen, -errno, "%s: cannot read: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = error_text(err, errlen, -errno, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = error_text(err, errlen, -EISDIR, "%s: is a directory, not a PEM file", path);
		goto out;
	}
	if (st.st_size > PKI_FILE_MAX) {
		rc = error_text(err, errlen, -EFBIG, "%s: %lld bytes, too big for a PEM certificate "
			     "or key", path, (long long)st.st_size);
		goto out;
	}
	buf = malloc(PKI_FILE_MAX + 1);
	if (!buf) {
		rc = error_text(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, PKI_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_text(err, errlen, -errno, "%s: cannot read: %s", path,
				     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > PKI_FILE_MAX) {
			rc = error_text(err, errlen, -EFBIG, "%s: too big for a PEM certificate or key",
				     path);
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	if (buf) {
		/* It may have held a key. */
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	close(fd);
	return rc;
}

static void free_file(char *buf, size_t len)
{
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/* -------------------------------------------------------------------------- */
/* Parsing PEM */

enum pem_want { PEM_WANT_CERT, PEM_WANT_KEY };

/* A PEM block's name for a message: it comes from the file, so no control bytes. */
static const char *block_name(const char *pname, char *buf, size_t buflen)
{
	size_t i = 0;

	for (; pname[i] && i + 1 < buflen; i++)
		buf[i] = pname[i] >= 0x20 && pname[i] < 0x7f ? pname[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * The PEM blocks of @buf: the first must be what @want says (a key may
 * follow the EC parameters block) and decode in full (no bytes left over in
 * its DER); further blocks must be well-formed and, in a certificate file,
 * certificates too (its chain). Text around the blocks is allowed, as
 * OpenSSL allows it. @name is the file in messages.
 */
static int parse_pem(const char *name, enum pem_want want, const void *buf, size_t len,
		     X509 **cert_out, STACK_OF(X509) **chain_out, EVP_PKEY **key_out,
		     char *err, size_t errlen)
{
	const char *what = want == PEM_WANT_CERT ? "certificate" : "private key";
	STACK_OF(X509) *chain = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	int rc = 0, blocks = 0;

	if (len == 0)
		return error_text(err, errlen, -EINVAL, "%s: empty file (expected a PEM %s)", name,
			       what);
	if (len > PKI_FILE_MAX || len > INT_MAX)
		return error_text(err, errlen, -EFBIG, "%s: too big for a PEM %s", name, what);
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio) {
		rc = error_text(err, errlen, -ENOMEM, "%s: out of memory", name);
		goto out;
	}
	for (;;) {
		char *pname = NULL, *header = NULL, shown[41];
		unsigned char *data = NULL;
		const unsigned char *p;
		long dlen = 0;
		unsigned long e;

		ERR_clear_error();
		if (!PEM_read_bio(bio, &pname, &header, &data, &dlen)) {
			e = ERR_peek_last_error();
			ERR_clear_error();
			if (blocks > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
				break; /* the end, after at least one block */
			if (blocks == 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
				rc = error_text(err, errlen, -EINVAL, "%s: not a PEM %s (no "
					     "-----BEGIN line)", name, what);
			else
				rc = error_text(err, errlen, -EINVAL, "%s: not a PEM %s (truncated or "
					     "damaged)", name, what);
			goto out;
		}
		p = data;
		if (++blocks > PKI_PEM_BLOCKS_MAX) {
			rc = error_text(err, errlen, -EINVAL, "%s: more than %d PEM blocks", name,
				     PKI_PEM_BLOCKS_MAX);
		} else if (want == PEM_WANT_CERT && strcmp(pname, PEM_STRING_X509) != 0) {
			rc = error_text(err, errlen, -EINVAL, "%s: holds a PEM '%s' block where a "
				     "certificate was expected", name,
				     block_name(pname, shown, sizeof(shown)));
		} else if (want == PEM_WANT_CERT) {
			X509 *x = d2i_X509(NULL, &p, dlen);

			if (!x || p != data + dlen) {
				rc = error_text(err, errlen, -EINVAL, "%s: not a PEM certificate "
					     "(truncated or damaged)", name);
				X509_free(x);
			} else if (!cert) {
				cert = x;
			} else if ((!chain && !(chain = sk_X509_new_null())) ||
				   !sk_X509_push(chain, x)) {
				rc = error_text(err, errlen, -ENOMEM, "%s: out of memory", name);
				X509_free(x);
			}
		} else if (key || !strcmp(pname, PEM_STRING_ECPARAMETERS)) {
			/*
			 * After the key, anything well-formed (a combined file);
			 * before it, the curve `openssl ecparam -genkey` writes.
			 */
		} else if (!strcmp(pname, PEM_STRING_PKCS8) ||
			   (header && strstr(header, "ENCRYPTED"))) {
			rc = error_text(err, errlen, -EINVAL, "%s: the private key is encrypted: "
				     "give an unencrypted one (a device or broker cannot ask for "
				     "its passphrase)", name);
		} else if (!strcmp(pname, PEM_STRING_PKCS8INF) ||
			   !strcmp(pname, PEM_STRING_ECPRIVATEKEY) ||
			   !strcmp(pname, PEM_STRING_RSA)) {
			if (!strcmp(pname, PEM_STRING_PKCS8INF)) {
				PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, dlen);

				if (p8 && p == data + dlen)
					key = EVP_PKCS82PKEY(p8);
				PKCS8_PRIV_KEY_INFO_free(p8);
			} else {
				int type = !strcmp(pname, PEM_STRING_RSA) ? EVP_PKEY_RSA : EVP_PKEY_EC;

				key = d2i_PrivateKey(type, NULL, &p, dlen);
				if (key && p != data + dlen) {
					EVP_PKEY_free(key);
					key = NULL;
				}
			}
			if (!key)
				rc = error_text(err, errlen, -EINVAL, "%s: not a PEM private key "
					     "(truncated or damaged)", name);
		} else if (!strcmp(pname, PEM_STRING_X509)) {
			rc = error_text(err, errlen, -EINVAL, "%s: holds a certificate where a private "
				     "key was expected", name);
		} else {
			rc = error_text(err, errlen, -EINVAL, "%s: holds a PEM '%s' block where a "
				     "private key was expected", name,
				     block_name(pname, shown, sizeof(shown)));
		}
		OPENSSL_free(pname);
		OPENSSL_free(header);
		if (data) {
			OPENSSL_cleanse(data, (size_t)dlen);
			OPENSSL_free(data);
		}
		if (rc < 0)
			goto out;
	}
	if (want == PEM_WANT_KEY && !key) {
		rc = error_text(err, errlen, -EINVAL, "%s: holds EC parameters but no private key",
			     name);
		goto out;
	}
	if (cert_out) {
		*cert_out = cert;
		cert = NULL;
	}
	if (chain_out) {
		*chain_out = chain;
		chain = NULL;
	}
	if (key_out) {
		*key_out = key;
		key = NULL;
	}
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

static int load_pem_file(const char *path, enum pem_want want, X509 **cert,
			 STACK_OF(X509) **chain, EVP_PKEY **key, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int rc;

	rc = read_file(path, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	rc = parse_pem(path, want, buf, len, cert, chain, key, err, errlen);
	free_file(buf, len);
	return rc;
}

static bool key_matches(X509 *cert, EVP_PKEY *key)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	bool ok = pub && EVP_PKEY_eq(pub, key) == 1;

	ERR_clear_error();
	return ok;
}

static bool out_of_period(X509 *cert)
{
	bool out = X509_cmp_current_time(X509_get0_notBefore(cert)) > 0 ||
		   X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;

	ERR_clear_error();
	return out;
}

/* -------------------------------------------------------------------------- */
/* Keys and certificates */

static EVP_PKEY_CTX *keygen_new(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(ctx, "P-256") <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static EVP_PKEY *keygen_run(EVP_PKEY_CTX *ctx)
{
	EVP_PKEY *key = NULL;

	if (EVP_PKEY_generate(ctx, &key) <= 0)
		return NULL;
	return key;
}

/*
 * The subject public key of one of our P-256 keys, set straight into the
 * certificate. X509_set_pubkey() does the same through a round trip of
 * OpenSSL 3's encoders and decoders, which costs more than making the key
 * and signing the certificate together; a fleet of 10,000 pays it 10,000
 * times. (The self-signed CA still uses it: its authority key id needs the
 * decoded key, and there is only one.)
 */
static int set_pubkey_p256(X509 *x, EVP_PKEY *key)
{
	unsigned char point[65], *copy;
	size_t n = 0;

	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
					     &n) || n != sizeof(point))
		return -EIO;
	copy = OPENSSL_memdup(point, n);
	if (!copy)
		return -ENOMEM;
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
				    V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), copy,
				    (int)n)) {
		OPENSSL_free(copy);
		return -EIO;
	}
	return 0;
}

/*
 * One of our P-256 keys as PEM PKCS#8 ("PRIVATE KEY"), byte for byte what
 * PEM_write_bio_PKCS8PrivateKey() writes (the unit test compares them), for
 * the same reason: its encoder costs more than the key. The layout is
 * fixed for P-256: PrivateKeyInfo { 0, id-ecPublicKey prime256v1,
 * ECPrivateKey { 1, d (32 bytes), [1] public point (65 bytes) } }.
 */
static int write_key_p256(BIO *out, EVP_PKEY *key)
{
	static const unsigned char head[] = {
		0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
		0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
		0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
	};
	static const unsigned char mid[] = { 0xa1, 0x44, 0x03, 0x42, 0x00 };
	unsigned char der[sizeof(head) + 32 + sizeof(mid) + 65];
	unsigned char *d = der + sizeof(head), *pub = der + sizeof(head) + 32 + sizeof(mid);
	BIGNUM *priv = NULL;
	size_t n = 0;
	int rc = -EIO;

	memcpy(der, head, sizeof(head));
	memcpy(d + 32, mid, sizeof(mid));
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &priv) ||
	    BN_bn2binpad(priv, d, 32) != 32 ||
	    !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, 65, &n) ||
	    n != 65)
		goto out;
	if (PEM_write_bio(out, PEM_STRING_PKCS8INF, "", der, (long)sizeof(der)) > 0)
		rc = 0;
out:
	BN_clear_free(priv);
	OPENSSL_cleanse(der, sizeof(der));
	return rc;
}

/* A positive random 128-bit serial number (RFC 5280 allows up to 20 octets). */
static int set_random_serial(X509 *x)
{
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = BN_new();
	int rc = -EIO;

	if (!bn)
		return -ENOMEM;
	do {
		if (!BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
			goto out;
	} while (BN_is_zero(bn));
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	if (serial && X509_set_serialNumber(x, serial))
		rc = 0;
out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return rc;
}

/* Validity relative to now, in seconds; split in days so no long overflows. */
static int set_validity(X509 *x, int64_t not_before_s, int64_t not_after_s)
{
	if (!X509_time_adj_ex(X509_getm_notBefore(x), (int)(not_before_s / 86400),
			      (long)(not_before_s % 86400), NULL) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)(not_after_s / 86400),
			      (long)(not_after_s % 86400), NULL))
		return -EIO;
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok ? 0 : -EIO;
}

static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_' || *s == '*'))
			return false;
	return true;
}

/* subjectAltName from the subject's names and addresses (none: no extension). */
static int add_san(X509 *x, const struct pki_subject *s, char *err, size_t errlen)
{
	GENERAL_NAMES *names = NULL;
	int rc = 0;

	if (s->n_dns_names == 0 && s->n_ip_addresses == 0)
		return 0;
	names = sk_GENERAL_NAME_new_null();
	if (!names)
		return error_text(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n_dns_names; i++) {
		GENERAL_NAME *gn;
		ASN1_IA5STRING *ia5;

		if (!s->dns_names[i] || !dns_name_ok(s->dns_names[i])) {
			rc = error_text(err, errlen, -EINVAL, "'%s' is not a DNS name",
				     s->dns_names[i] ? s->dns_names[i] : "(null)");
			goto out;
		}
		gn = GENERAL_NAME_new();
		ia5 = ASN1_IA5STRING_new();
		if (!gn || !ia5 || !ASN1_STRING_set(ia5, s->dns_names[i], -1)) {
			GENERAL_NAME_free(gn);
			ASN1_IA5STRING_free(ia5);
			rc = error_text(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
		if (!sk_GENERAL_NAME_push(names, gn)) {
			GENERAL_NAME_free(gn);
			rc = error_text(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < s->n_ip_addresses; i++) {
		ASN1_OCTET_STRING *ip = s->ip_addresses[i] ? a2i_IPADDRESS(s->ip_addresses[i]) : NULL;
		GENERAL_NAME *gn;

		if (!ip) {
			rc = error_text(err, errlen, -EINVAL, "'%s' is not an IP address",
				     s->ip_addresses[i] ? s->ip_addresses[i] : "(null)");
			goto out;
		}
		gn = GENERAL_NAME_new();
		if (!gn) {
			ASN1_OCTET_STRING_free(ip);
			rc = error_text(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		if (!sk_GENERAL_NAME_push(names, gn)) {
			GENERAL_NAME_free(gn);
			rc = error_text(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT))
		rc = error_text(err, errlen, -EIO, "cannot add subjectAltName: %s", ssl_reason());
out:
	GENERAL_NAMES_free(names);
	return rc;
}

/*
 * A new certificate for @key (one of our P-256 keys) named @cn, issued by
 * @issuer (NULL: itself), with the CA's or a leaf's extensions, signed
 * with @sign_key (SHA-256).
 */
static int make_cert(const struct pki_subject *s, bool ca, EVP_PKEY *key, X509 *issuer,
		     EVP_PKEY *sign_key, X509 **out, char *err, size_t errlen)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	int rc = 0;

	*out = NULL;
	if (!x || !name) {
		rc = error_text(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (!s->cn || !s->cn[0] || strlen(s->cn) > 64) {
		rc = error_text(err, errlen, -EINVAL, "common name '%s' is empty or longer than 64 "
			     "characters", s->cn ? s->cn : "(null)");
		goto out;
	}
	/* Beyond that the day count overflows X509_time_adj_ex()'s int. */
	if (s->not_before_s < -PKI_VALIDITY_MAX_S || s->not_after_s > PKI_VALIDITY_MAX_S) {
		rc = error_text(err, errlen, -EINVAL, "%s: a validity beyond 1000 years", s->cn);
		goto out;
	}
	if (s->not_after_s <= s->not_before_s) {
		rc = error_text(err, errlen, -EINVAL, "%s: the validity ends before it begins", s->cn);
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) || set_random_serial(x) < 0 ||
	    set_validity(x, s->not_before_s, s->not_after_s) < 0 ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					(const unsigned char *)s->cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) ||
	    (issuer ? set_pubkey_p256(x, key) < 0 : !X509_set_pubkey(x, key))) {
		rc = error_text(err, errlen, -EIO, "%s: cannot build the certificate: %s", s->cn,
			     ssl_reason());
		goto out;
	}
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	/* The subject key id first: the self-signed CA's authority key id is it. */
	if (add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE,pathlen:0" :
		    "critical,CA:FALSE") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" :
		    "critical,digitalSignature") < 0 ||
	    (!ca && add_ext(x, &ctx, NID_ext_key_usage, s->server ? "serverAuth" :
			    "clientAuth") < 0) ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0) {
		rc = error_text(err, errlen, -EIO, "%s: cannot add the extensions: %s", s->cn,
			     ssl_reason());
		goto out;
	}
	rc = add_san(x, s, err, errlen);
	if (rc < 0)
		goto out;
	if (!X509_sign(x, sign_key, EVP_sha256())) {
		rc = error_text(err, errlen, -EIO, "%s: cannot sign the certificate: %s", s->cn,
			     ssl_reason());
		goto out;
	}
	*out = x;
	x = NULL;
out:
	ERR_clear_error();
	X509_NAME_free(name);
	X509_free(x);
	return rc;
}

/* @cert and @key as PEM (the key PKCS#8, unencrypted) into their files. */
static int write_pair(X509 *cert, EVP_PKEY *key, const char *cert_path, const char *key_path,
		      char *err, size_t errlen)
{
	BIO *cb = BIO_new(BIO_s_mem()), *kb = NULL;
	char *data;
	long len;
	int rc = 0;

	if (key_path)
		kb = BIO_new(BIO_s_mem());
	if (!cb || (key_path && !kb)) {
		rc = error_text(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (key_path) {
		if (write_key_p256(kb, key) < 0) {
			rc = error_text(err, errlen, -EIO, "%s: cannot encode the key: %s", key_path,
				     ssl_reason());
			goto out;
		}
		len = BIO_get_mem_data(kb, &data);
		rc = pki_write_file(key_path, data, (size_t)len, 0600, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (!PEM_write_bio_X509(cb, cert)) {
		rc = error_text(err, errlen, -EIO, "%s: cannot encode the certificate: %s", cert_path,
			     ssl_reason());
		goto out;
	}
	len = BIO_get_mem_data(cb, &data);
	rc = pki_write_file(cert_path, data, (size_t)len, 0644, err, errlen);
out:
	ERR_clear_error();
	BIO_free(cb);
	/* The memory BIO held the key in clear: BIO_free_all does not wipe it. */
	if (kb) {
		len = BIO_get_mem_data(kb, &data);
		if (len > 0)
			OPENSSL_cleanse(data, (size_t)len);
		BIO_free(kb);
	}
	return rc;
}

/* -------------------------------------------------------------------------- */
/* The CA */

int pki_ca_create(const char *cn, int days, const char *cert_path, const char *key_path,
		  struct pki_ca **out, char *err, size_t errlen)
{
	struct pki_subject s = {
		.cn = cn,
		.not_before_s = -3600,
		.not_after_s = (int64_t)days * 86400,
	};
	struct pki_ca *ca;
	int rc;

	*out = NULL;
	if (days <= 0)
		return error_text(err, errlen, -EINVAL, "%s: the CA needs a validity of at least one "
			       "day", cert_path);
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return error_text(err, errlen, -ENOMEM, "out of memory");
	ca->keygen = keygen_new();
	if (!ca->keygen || !(ca->key = keygen_run(ca->keygen))) {
		rc = error_text(err, errlen, -EIO, "cannot make a P-256 key: %s", ssl_reason());
		goto out;
	}
	rc = make_cert(&s, true, ca->key, NULL, ca->key, &ca->cert, err, errlen);
	if (rc < 0)
		goto out;
	rc = write_pair(ca->cert, ca->key, cert_path, key_path, err, errlen);
	if (rc < 0)
		goto out;
	*out = ca;
	ca = NULL;
out:
	ERR_clear_error();
	pki_ca_free(ca);
	return rc;
}

int pki_ca_load(const char *cert_path, const char *key_path, struct pki_ca **out,
		char *err, size_t errlen)
{
	struct pki_ca *ca;
	int rc;

	*out = NULL;
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return error_text(err, errlen, -ENOMEM, "out of memory");
	rc = load_pem_file(cert_path, PEM_WANT_CERT, &ca->cert, NULL, NULL, err, errlen);
	if (rc < 0)
		goto out;
	rc = load_pem_file(key_path, PEM_WANT_KEY, NULL, NULL, &ca->key, err, errlen);
	if (rc < 0)
		goto out;
	if (!key_matches(ca->cert, ca->key)) {
		rc = error_text(err, errlen, -EINVAL, "%s: does not match the certificate %s",
			     key_path, cert_path);
		goto out;
	}
	if (X509_check_ca(ca->cert) == 0) {
		rc = error_text(err, errlen, -EINVAL, "%s: not a CA certificate (its "
			     "basicConstraints say CA:FALSE or are missing)", cert_path);
		goto out;
	}
	ca->keygen = keygen_new();
	if (!ca->keygen) {
		rc = error_text(err, errlen, -EIO, "cannot make P-256 keys: %s", ssl_reason());
		goto out;
	}
	*out = ca;
	ca = NULL;
out:
	ERR_clear_error();
	pki_ca_free(ca);
	return rc;
}

void pki_ca_free(struct pki_ca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	EVP_PKEY_CTX_free(ca->keygen);
	free(ca);
}

int pki_issue(struct pki_ca *ca, const struct pki_subject *subject,
	      const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc;

	key = keygen_run(ca->keygen);
	if (!key) {
		rc = error_text(err, errlen, -EIO, "%s: cannot make a P-256 key: %s", key_path,
			     ssl_reason());
		goto out;
	}
	rc = make_cert(subject, false, key, ca->cert, ca->key, &cert, err, errlen);
	if (rc < 0) {
		/* make_cert() names the subject; say which file it was for. */
		char why[256];

		snprintf(why, sizeof(why), "%s", err && errlen ? err : "");
		error_text(err, errlen, rc, "%s: %s", cert_path, why);
		goto out;
	}
	rc = write_pair(cert, key, cert_path, key_path, err, errlen);
out:
	ERR_clear_error();
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* -------------------------------------------------------------------------- */
/* Checking what a user hands us */

/*
 * Whether @cert (with @chain) chains to @ca or another certificate of its
 * file (@ca_more: a bundle), whatever the dates.
 */
static int check_issued(X509 *ca, STACK_OF(X509) *ca_more, const char *ca_path, X509 *cert,
			STACK_OF(X509) *chain, const char *cert_path, char *err, size_t errlen)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = 0, verr;

	if (!store || !ctx || !X509_STORE_add_cert(store, ca)) {
		rc = error_text(err, errlen, -ENOMEM, "%s: out of memory", cert_path);
		goto out;
	}
	for (int i = 0; i < sk_X509_num(ca_more); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(ca_more, i))) {
			rc = error_text(err, errlen, -ENOMEM, "%s: out of memory", cert_path);
			goto out;
		}
	if (!X509_STORE_CTX_init(ctx, store, cert, chain)) {
		rc = error_text(err, errlen, -ENOMEM, "%s: out of memory", cert_path);
		goto out;
	}
	/*
	 * Dates are reported apart (a run may want an expired certificate);
	 * the CA file may hold an intermediate, which is then trusted as is.
	 */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
				    X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) == 1)
		goto out;
	verr = X509_STORE_CTX_get_error(ctx);
	switch (verr) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		rc = error_text(err, errlen, -EINVAL, "%s: not issued by the CA in %s", cert_path,
			     ca_path);
		break;
	default:
		rc = error_text(err, errlen, -EINVAL, "%s: does not verify against the CA in %s: %s",
			     cert_path, ca_path, X509_verify_cert_error_string(verr));
		break;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

int pki_check_files(const char *ca_path, const char *cert_path, const char *key_path,
		    bool *expired, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL, *ca_more = NULL;
	X509 *ca = NULL, *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc = 0;

	if (expired)
		*expired = false;
	if (ca_path) {
		rc = load_pem_file(ca_path, PEM_WANT_CERT, &ca, &ca_more, NULL, err, errlen);
		if (rc < 0)
			goto out;
		if (X509_check_ca(ca) == 0) {
			rc = error_text(err, errlen, -EINVAL, "%s: not a CA certificate (its "
				     "basicConstraints say CA:FALSE or are missing)", ca_path);
			goto out;
		}
	}
	if (cert_path) {
		rc = load_pem_file(cert_path, PEM_WANT_CERT, &cert, &chain, NULL, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (key_path) {
		rc = load_pem_file(key_path, PEM_WANT_KEY, NULL, NULL, &key, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (cert && key && !key_matches(cert, key)) {
		rc = error_text(err, errlen, -EINVAL, "%s: does not match the certificate %s",
			     key_path, cert_path);
		goto out;
	}
	if (ca && cert) {
		rc = check_issued(ca, ca_more, ca_path, cert, chain, cert_path, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (expired)
		*expired = (ca && out_of_period(ca)) || (cert && out_of_period(cert));
out:
	ERR_clear_error();
	X509_free(ca);
	sk_X509_pop_free(ca_more, X509_free);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

int pki_check_pem(const char *what, const void *cert_pem, size_t cert_len,
		  const void *key_pem, size_t key_len, char *err, size_t errlen)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc = 0;

	if (cert_pem) {
		rc = parse_pem(what, PEM_WANT_CERT, cert_pem, cert_len, &cert, NULL, NULL, err,
			       errlen);
		if (rc < 0)
			goto out;
	}
	if (key_pem) {
		rc = parse_pem(what, PEM_WANT_KEY, key_pem, key_len, NULL, NULL, &key, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (cert && key && !key_matches(cert, key))
		rc = error_text(err, errlen, -EINVAL, "%s: the private key does not match the "
			     "certificate", what);
out:
	ERR_clear_error();
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* -------------------------------------------------------------------------- */
/* Passwords */

int pki_random_password(char *out, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[64];
	size_t o = 0;

	if (len == 0 || len > INT_MAX)
		return -EINVAL;
	while (o < len - 1) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			ERR_clear_error();
			OPENSSL_cleanse(out, len);
			return -EIO;
		}
		/* 248 = 4 * 62: dropping the bytes above keeps every character equally likely. */
		for (size_t i = 0; i < sizeof(rnd) && o < len - 1; i++)
			if (rnd[i] < 248)
				out[o++] = alphabet[rnd[i] % 62];
	}
	out[o] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int pki_password_hash(const char *password, char *out, size_t outlen)
{
	unsigned char salt[PW_SALT_LEN], hash[PW_HASH_LEN];
	char salt64[4 * ((PW_SALT_LEN + 2) / 3) + 1], hash64[4 * ((PW_HASH_LEN + 2) / 3) + 1];
	size_t plen = strlen(password);
	int n, rc = 0;

	if (plen > INT_MAX)
		return -EINVAL;
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(password, (int)plen, salt, sizeof(salt), PW_ITERATIONS,
			      EVP_sha512(), sizeof(hash), hash) != 1) {
		rc = -EIO;
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
	n = snprintf(out, outlen, "$7$%d$%s$%s", PW_ITERATIONS, salt64, hash64);
	if (n < 0 || (size_t)n >= outlen)
		rc = -ERANGE;
out:
	ERR_clear_error();
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

/* Strict base64 (standard alphabet, padded) of @in[0..@n) into @out; -1 if not. */
static int b64_decode(const char *in, size_t n, unsigned char *out, size_t outmax)
{
	unsigned char tmp[3 * (128 / 4)];
	size_t pad = 0;
	int len;

	if (n == 0 || n % 4 != 0 || n > 128)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
	len = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
	if (len < 0 || (size_t)len < pad || (size_t)len - pad > outmax)
		return -1;
	len -= (int)pad;
	memcpy(out, tmp, (size_t)len);
	return len;
}

bool pki_password_matches(const char *password, const char *hash)
{
	unsigned char salt[64], want[64], got[EVP_MAX_MD_SIZE];
	const char *p, *salt64, *hash64;
	long iterations = 0;
	int salt_len, want_len;
	bool sha512_plain, ok = false;
	size_t plen;

	if (!password || !hash)
		return false;
	plen = strlen(password);
	if (plen > INT_MAX)
		return false;
	if (!strncmp(hash, "$6$", 3)) {
		sha512_plain = true;
		salt64 = hash + 3;
	} else if (!strncmp(hash, "$7$", 3)) {
		char *end;

		sha512_plain = false;
		if (hash[3] < '1' || hash[3] > '9')
			return false;
		errno = 0;
		iterations = strtol(hash + 3, &end, 10);
		if (errno || *end != '$' || iterations < 1 || iterations > PW_ITERATIONS_MAX)
			return false;
		salt64 = end + 1;
	} else {
		return false;
	}
	p = strchr(salt64, '$');
	if (!p)
		return false;
	hash64 = p + 1;
	salt_len = b64_decode(salt64, (size_t)(p - salt64), salt, sizeof(salt));
	want_len = b64_decode(hash64, strlen(hash64), want, sizeof(want));
	if (salt_len <= 0 || want_len != 64)
		return false;
	if (sha512_plain) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned int n = 0;

		/* mosquitto's "$6$": SHA-512 over the password, then the salt. */
		ok = md && EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1 &&
		     EVP_DigestUpdate(md, password, plen) == 1 &&
		     EVP_DigestUpdate(md, salt, (size_t)salt_len) == 1 &&
		     EVP_DigestFinal_ex(md, got, &n) == 1 && n == 64;
		EVP_MD_CTX_free(md);
	} else {
		ok = PKCS5_PBKDF2_HMAC(password, (int)plen, salt, salt_len, (int)iterations,
				       EVP_sha512(), 64, got) == 1;
	}
	ok = ok && CRYPTO_memcmp(got, want, 64) == 0;
	ERR_clear_error();
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}
