/*
 * libFuzzer target: the checks of certificates and keys a user hands to a
 * secure run (pki_check_pem), over OpenSSL's PEM and DER parsers.
 * Input: certificate text, a NUL byte, key text (no NUL: the first half is
 * the certificate, the second the key). Beyond not crashing or leaking:
 * every refusal says why, and a pair that passes also passes in parts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(int rc, const char *err, size_t errlen)
{
	/* A refusal names the input and says something; the message is a string. */
	if (rc < 0 && (!memchr(err, '\0', errlen) || strncmp(err, "fuzz: ", 6) != 0))
		abort();
	if (rc > 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	const uint8_t *cert = data, *key;
	size_t clen, klen;
	char err[512];
	int both, rc;

	if (nul) {
		clen = (size_t)(nul - data);
		key = nul + 1;
		klen = size - clen - 1;
	} else {
		clen = size / 2;
		key = data + clen;
		klen = size - clen;
	}
	err[0] = '\0';
	both = pki_check_pem("fuzz", cert, clen, key, klen, err, sizeof(err));
	check_message(both, err, sizeof(err));
	/* The key alone, so that its parser runs whatever the certificate was. */
	err[0] = '\0';
	rc = pki_check_pem("fuzz", NULL, 0, key, klen, err, sizeof(err));
	check_message(rc, err, sizeof(err));
	if (both == 0 && rc != 0)
		abort();
	/* The whole input as one certificate file (text, a chain, anything). */
	err[0] = '\0';
	rc = pki_check_pem("fuzz", data, size, NULL, 0, err, sizeof(err));
	check_message(rc, err, sizeof(err));
	return 0;
}
