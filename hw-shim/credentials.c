/*
 * What the virtual robot presents to the broker: its own CA, certificate,
 * key and password, or what a security fault puts in their place (an
 * expired certificate, one from a CA the broker does not trust, a wrong
 * password). The replacements live in the run's credentials directory
 * (faults/, written by `robofleet run`); the device only points at them.
 *
 * A real device notices new credentials at its next handshake. So that a
 * fault acts when it is given, not at some later reconnect, the session
 * in force is ended when the credentials change for the worse: the device
 * connects again at once and meets the broker's refusal.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "posix_hal.h"
#include "shim.h"
#include "shim_internal.h"
#include "world.h"

#define PATH_MAX_LEN 1024

static struct {
	char ca[PATH_MAX_LEN], cert[PATH_MAX_LEN], key[PATH_MAX_LEN];
	char fault_dir[PATH_MAX_LEN];   /* "": no fault material */
	char bad_cert[PATH_MAX_LEN + 16], bad_key[PATH_MAX_LEN + 16];
	uint8_t mode;                   /* enum world_credential_mode in force */
	/* A firmware that holds its own connections (the Arduino layer) ends
	 * them here; posix_mqtt_drop() only knows libmosquitto's session. */
	void (*end_sessions)(bool tls_only);
} cred;

/* Not the device's password, whatever that is. */
static const char wrong_password[] = "not-the-device-password";

static const char *mode_name(uint8_t mode)
{
	switch (mode) {
	case WORLD_CREDENTIALS_EXPIRED: return "an expired certificate";
	case WORLD_CREDENTIALS_FOREIGN_CA: return "a certificate from a foreign CA";
	case WORLD_CREDENTIALS_WRONG_PASSWORD: return "a wrong password";
	default: return "its own credentials";
	}
}

void shim__credentials_setup(const char *ca, const char *cert, const char *key,
			     const char *fault_dir)
{
	struct posix_mqtt_tls tls = { ca, cert, key };

	snprintf(cred.ca, sizeof(cred.ca), "%s", ca ? ca : "");
	snprintf(cred.cert, sizeof(cred.cert), "%s", cert ? cert : "");
	snprintf(cred.key, sizeof(cred.key), "%s", key ? key : "");
	snprintf(cred.fault_dir, sizeof(cred.fault_dir), "%s", fault_dir ? fault_dir : "");
	cred.mode = WORLD_CREDENTIALS_OWN;
	posix_mqtt_set_tls(&tls);
}

void shim__credentials_present(struct posix_mqtt_tls *tls, const char **password)
{
	const char *stem = NULL;

	switch (cred.mode) {
	case WORLD_CREDENTIALS_EXPIRED: stem = "expired"; break;
	case WORLD_CREDENTIALS_FOREIGN_CA: stem = "foreign"; break;
	case WORLD_CREDENTIALS_WRONG_PASSWORD: *password = wrong_password; return;
	default: return;
	}
	if (!cred.fault_dir[0]) {
		LOG_WARN("credentials: %s asked for, but no --fault-credentials directory; "
			 "presenting its own", mode_name(cred.mode));
		return;
	}
	snprintf(cred.bad_cert, sizeof(cred.bad_cert), "%s/%s.crt", cred.fault_dir, stem);
	snprintf(cred.bad_key, sizeof(cred.bad_key), "%s/%s.key", cred.fault_dir, stem);
	tls->cert_file = cred.bad_cert;
	tls->key_file = cred.bad_key;
}

const char *shim__credentials_password(const char *own)
{
	return cred.mode == WORLD_CREDENTIALS_WRONG_PASSWORD ? wrong_password : own;
}

void shim__credentials_set_session_hook(void (*end_sessions)(bool tls_only))
{
	cred.end_sessions = end_sessions;
}

void shim__credentials_set_faults(const struct world_faults *f)
{
	uint8_t mode = f ? f->credential_mode : WORLD_CREDENTIALS_OWN;

	if (mode == cred.mode)
		return;
	LOG_WARN("credentials: now presenting %s", mode_name(mode));
	cred.mode = mode;
	/* Back to its own: the next attempt of its backoff succeeds. */
	if (mode != WORLD_CREDENTIALS_OWN) {
		posix_mqtt_drop();
		/* A certificate matters only to TLS sessions; a password to
		 * every session that logged in with one. */
		if (cred.end_sessions)
			cred.end_sessions(mode != WORLD_CREDENTIALS_WRONG_PASSWORD);
	}
}
