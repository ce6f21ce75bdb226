/*
 * Certificates, keys and passwords for a fleet, with the OpenSSL library:
 * a CA, the certificates it issues (ECDSA P-256), checks of files a user
 * hands us, and mosquitto's password-file hashes.
 *
 * A credentials directory (what `robofleet run` creates in the run
 * directory as pki/, and `robofleet ca` creates for a real deployment):
 *
 *   ca.crt                     the CA certificate devices and clients trust
 *   ca.key                     its key (0600)
 *   broker.crt broker.key      the broker's, for its host names and addresses
 *   clients/<name>.crt .key .password
 *                              robofleet's own clients (robofleet-recorder,
 *                              robofleet-commander)
 *   devices/<id>.crt .key .password
 *                              one per device, CN = the device id
 *   mosquitto.passwd           every client's password, hashed for mosquitto
 *
 * Directories are 0700, keys and plain passwords 0600, certificates 0644.
 * Every function returns 0 or a negative errno and, on failure, writes a
 * message naming the file and the reason into @err.
 */
#ifndef SIM_PKI_H
#define SIM_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pki_ca;

/* What a certificate is for and whom it names. */
struct pki_subject {
	const char *cn;                 /* common name: the device id, "robofleet-recorder" */
	const char *const *dns_names;   /* subjectAltName DNS entries (may be NULL) */
	size_t n_dns_names;
	const char *const *ip_addresses;/* subjectAltName IP entries, "127.0.0.1", "::1" */
	size_t n_ip_addresses;
	bool server;                    /* extendedKeyUsage serverAuth (else clientAuth) */
	int64_t not_before_s;           /* validity, seconds relative to now (-3600) */
	int64_t not_after_s;            /* (days * 86400); negative: already expired */
};

/*
 * Create a CA: a new P-256 key and a self-signed certificate with @cn,
 * valid from an hour ago for @days, written to @cert_path and @key_path
 * (0600). *@out holds it for issuing; free with pki_ca_free(). A NULL
 * @key_path keeps the key in memory only (a CA nobody is meant to use
 * again, such as the foreign CA of the security faults).
 */
int pki_ca_create(const char *cn, int days, const char *cert_path, const char *key_path,
		  struct pki_ca **out, char *err, size_t errlen);

/* Load a CA from its certificate and key (PEM); they must match. */
int pki_ca_load(const char *cert_path, const char *key_path, struct pki_ca **out,
		char *err, size_t errlen);

void pki_ca_free(struct pki_ca *ca);

/*
 * Issue a certificate for @subject with a new P-256 key, signed by @ca, and
 * write both (PEM; the key 0600, created with that mode, never wider).
 * Serial numbers are random (128 bits). Safe to call 10,000 times in a row.
 */
int pki_issue(struct pki_ca *ca, const struct pki_subject *subject,
	      const char *cert_path, const char *key_path, char *err, size_t errlen);

/*
 * Check files a user hands us before anything starts: each named file
 * exists, is a PEM certificate (or key) that parses in full, the key
 * matches the certificate, and the certificate was issued by the CA in
 * @ca_path. Any of the three may be NULL (not checked). A certificate out
 * of its validity period is not an error here (a run may want one) but is
 * reported through *@expired when that is non-NULL.
 */
int pki_check_files(const char *ca_path, const char *cert_path, const char *key_path,
		    bool *expired, char *err, size_t errlen);

/* The same checks on PEM text in memory, named @what in messages (fuzzed). */
int pki_check_pem(const char *what, const void *cert_pem, size_t cert_len,
		  const void *key_pem, size_t key_len, char *err, size_t errlen);

/* A random password of @len - 1 characters from [A-Za-z0-9] (CSPRNG). */
int pki_random_password(char *out, size_t len);

/*
 * mosquitto's password-file hash of @password: "$7$101$<salt>$<hash>"
 * (PBKDF2-HMAC-SHA512, 101 iterations, a random 12-byte salt, base64), the
 * format mosquitto 2.0's mosquitto_passwd writes.
 */
int pki_password_hash(const char *password, char *out, size_t outlen);

/* Whether @password matches a "$7$..." or "$6$..." @hash (tests, checks). */
bool pki_password_matches(const char *password, const char *hash);

/*
 * Write @len bytes to @path with exactly @mode: created with it, or
 * truncated and narrowed to it before a byte is written, never following a
 * symbolic link. The file every other function here writes goes through it.
 */
int pki_write_file(const char *path, const void *data, size_t len, unsigned mode,
		   char *err, size_t errlen);

#endif /* SIM_PKI_H */
