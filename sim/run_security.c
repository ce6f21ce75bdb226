/*
 * A run's security mode, made ready before anything starts: the
 * credentials directory (created in the run directory, or the user's from
 * `robofleet ca`, checked file by file), the ACL, the embedded broker's
 * access lines, the identities of robofleet's recorder and command
 * publisher, and the options every device gets. docs/security.md tells
 * the user the same.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_acl.h"
#include "credentials.h"
#include "pki.h"
#include "run_security.h"
#include "secret_file.h"

static const char *const client_names[2] = { CREDENTIALS_RECORDER, CREDENTIALS_COMMANDER };

static bool uses_tls(enum scenario_security m)
{
	return m == SCENARIO_SECURITY_TLS || m == SCENARIO_SECURITY_MUTUAL;
}

static bool uses_passwords(enum scenario_security m)
{
	return m == SCENARIO_SECURITY_TLS || m == SCENARIO_SECURITY_PASSWORD;
}

/* Whether any step of @sc gives a fault that presents other certificates. */
static bool steps_use(const struct scenario_step *st, size_t n, enum scenario_fault_kind a,
		      enum scenario_fault_kind b)
{
	for (size_t i = 0; i < n; i++) {
		if (st[i].kind == SCENARIO_STEP_FAULT && (st[i].fault.kind == a || st[i].fault.kind == b))
			return true;
		if (st[i].kind == SCENARIO_STEP_REPEAT &&
		    steps_use(st[i].repeat.steps, st[i].repeat.n_steps, a, b))
			return true;
	}
	return false;
}

static int path(char *out, const char *dir, const char *sub, const char *name, const char *ext,
		char *err, size_t errlen)
{
	if (credentials_path(dir, sub, name, ext, out, RUN_SECURITY_PATH_MAX) == 0)
		return 0;
	snprintf(err, errlen, "%.200s: path too long", dir);
	return -ENAMETOOLONG;
}

/*
 * The names the broker answers to: localhost and 127.0.0.1, and every name
 * the scenario's network: leads to the broker (a sketch checks the broker's
 * certificate against the name it connected to, as an ESP32 does).
 */
static int broker_names(const struct scenario *sc, const char ***names, size_t *n_names,
			const char ***ips, size_t *n_ips)
{
	const struct scenario_network *net = &sc->fleet.network;
	size_t cap = net->n_dns + 1;

	*names = calloc(cap, sizeof(**names));
	*ips = calloc(cap, sizeof(**ips));
	if (!*names || !*ips)
		return -ENOMEM;
	(*names)[0] = "localhost";
	(*ips)[0] = "127.0.0.1";
	*n_names = *n_ips = 1;
	for (size_t i = 0; i < net->n_dns; i++) {
		const char *eq = strrchr(net->dns[i], '=');
		char name[256];
		unsigned char addr[16];

		if (!eq || strcmp(eq + 1, "broker") != 0 || (size_t)(eq - net->dns[i]) >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - net->dns[i]), net->dns[i]);
		if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
			(*ips)[(*n_ips)++] = strndup(net->dns[i], (size_t)(eq - net->dns[i]));
		else
			(*names)[(*n_names)++] = strndup(net->dns[i], (size_t)(eq - net->dns[i]));
		if (!(*names)[*n_names - 1] || !(*ips)[*n_ips - 1])
			return -ENOMEM;
	}
	return 0;
}

static void free_names(const char **list, size_t n)
{
	for (size_t i = 1; list && i < n; i++)
		free((char *)list[i]);
	free(list);
}

static int create_own(struct run_security *s, const struct scenario *sc, const char *run_dir,
		      char *err, size_t errlen)
{
	const char **ids = malloc((sc->fleet.n_devices ? sc->fleet.n_devices : 1) * sizeof(*ids));
	const char **names = NULL, **ips = NULL;
	size_t n_names = 0, n_ips = 0;
	struct credentials_plan plan = { 0 };
	int rc;

	if (!ids || (rc = broker_names(sc, &names, &n_names, &ips, &n_ips)) < 0) {
		free(ids);
		free_names(names, n_names);
		free_names(ips, n_ips);
		return -ENOMEM;
	}
	for (size_t i = 0; i < sc->fleet.n_devices; i++)
		ids[i] = sc->fleet.devices[i].id;
	snprintf(s->dir, sizeof(s->dir), "%s/pki", run_dir);
	plan.dir = s->dir;
	plan.device_ids = ids;
	plan.n_devices = sc->fleet.n_devices;
	plan.fault_material = true;
	plan.broker_names = names;
	plan.n_broker_names = n_names;
	plan.broker_ips = ips;
	plan.n_broker_ips = n_ips;
	rc = credentials_create(&plan, err, errlen);
	free(ids);
	free_names(names, n_names);
	free_names(ips, n_ips);
	s->own_dir = true;
	return rc;
}

/* The user's directory: every file this run will present must be sound now. */
static int check_given(struct run_security *s, const struct scenario *sc, char *err, size_t errlen)
{
	char cert[RUN_SECURITY_PATH_MAX], key[RUN_SECURITY_PATH_MAX], pw[128];
	int rc;

	if (uses_tls(s->mode) && (rc = pki_check_files(s->ca, NULL, NULL, NULL, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < sc->fleet.n_devices; i++) {
		const char *id = sc->fleet.devices[i].id;

		if (s->mode == SCENARIO_SECURITY_MUTUAL) {
			if ((rc = path(cert, s->dir, "devices", id, "crt", err, errlen)) < 0 ||
			    (rc = path(key, s->dir, "devices", id, "key", err, errlen)) < 0 ||
			    (rc = pki_check_files(s->ca, cert, key, NULL, err, errlen)) < 0)
				return rc;
		} else {
			if ((rc = path(cert, s->dir, "devices", id, "password", err, errlen)) < 0 ||
			    (rc = secret_file_read(cert, pw, sizeof(pw), err, errlen)) < 0)
				return rc;
		}
	}
	if (s->mode == SCENARIO_SECURITY_MUTUAL &&
	    steps_use(sc->steps, sc->n_steps, SCENARIO_FAULT_CERT_EXPIRED,
		      SCENARIO_FAULT_CERT_FOREIGN_CA)) {
		static const char *const stems[] = { "expired", "foreign" };

		for (size_t i = 0; i < 2; i++) {
			if ((rc = path(cert, s->faults, NULL, stems[i], "crt", err, errlen)) < 0 ||
			    (rc = path(key, s->faults, NULL, stems[i], "key", err, errlen)) < 0 ||
			    (rc = pki_check_files(NULL, cert, key, NULL, err, errlen)) < 0) {
				size_t n = strlen(err);

				snprintf(err + n, errlen - n, " (the certificate faults need it: "
					 "robofleet ca --fault-material makes it)");
				return rc;
			}
		}
	}
	return 0;
}

/* robofleet's recorder and command publisher: certificate or password. */
static int set_up_clients(struct run_security *s, char *err, size_t errlen)
{
	struct mqtt_auth *auth[2] = { &s->recorder, &s->commander };
	int rc;

	for (size_t i = 0; i < 2; i++) {
		char pw_path[RUN_SECURITY_PATH_MAX];

		memset(auth[i], 0, sizeof(*auth[i]));
		if (uses_tls(s->mode))
			auth[i]->ca_file = s->ca;
		if (s->mode == SCENARIO_SECURITY_MUTUAL) {
			if ((rc = path(s->client_cert[i], s->dir, "clients", client_names[i], "crt",
				       err, errlen)) < 0 ||
			    (rc = path(s->client_key[i], s->dir, "clients", client_names[i], "key",
				       err, errlen)) < 0)
				return rc;
			if (!s->own_dir && (rc = pki_check_files(s->ca, s->client_cert[i],
								 s->client_key[i], NULL, err,
								 errlen)) < 0)
				return rc;
			auth[i]->cert_file = s->client_cert[i];
			auth[i]->key_file = s->client_key[i];
		} else {
			if ((rc = path(pw_path, s->dir, "clients", client_names[i], "password", err,
				       errlen)) < 0 ||
			    (rc = secret_file_read(pw_path, s->client_password[i],
						   sizeof(s->client_password[i]), err, errlen)) < 0)
				return rc;
			auth[i]->username = client_names[i];
			auth[i]->password = s->client_password[i];
		}
	}
	return 0;
}

static int set_up_device_args(struct run_security *s, char *err, size_t errlen)
{
	size_t k = 0;
	int rc;

	if (uses_tls(s->mode)) {
		snprintf(s->device_paths[0], RUN_SECURITY_PATH_MAX, "%s", s->ca);
		s->device_args[k++] = "--ca";
		s->device_args[k++] = s->device_paths[0];
	}
	if (s->mode == SCENARIO_SECURITY_MUTUAL) {
		if ((rc = path(s->device_paths[1], s->dir, "devices", "{id}", "crt", err, errlen)) < 0 ||
		    (rc = path(s->device_paths[2], s->dir, "devices", "{id}", "key", err, errlen)) < 0)
			return rc;
		s->device_args[k++] = "--cert";
		s->device_args[k++] = s->device_paths[1];
		s->device_args[k++] = "--key";
		s->device_args[k++] = s->device_paths[2];
		if (access(s->faults, R_OK) == 0) {
			s->device_args[k++] = "--fault-credentials";
			s->device_args[k++] = s->faults;
		}
	}
	if (uses_passwords(s->mode)) {
		if ((rc = path(s->device_paths[3], s->dir, "devices", "{id}", "password", err,
			       errlen)) < 0)
			return rc;
		s->device_args[k++] = "--password-file";
		s->device_args[k++] = s->device_paths[3];
	}
	s->device_args[k] = NULL;
	return 0;
}

int run_security_prepare(struct run_security *s, const struct scenario *sc, const char *run_dir,
			 const char *pki_dir, char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->mode = sc->fleet.security;
	if (s->mode == SCENARIO_SECURITY_NONE) {
		if (!pki_dir)
			return 0;
		snprintf(err, errlen, "--pki %s: this scenario has security: none (set fleet: "
			 "security: tls, mutual or password to use credentials)", pki_dir);
		return -EINVAL;
	}
	if (pki_dir) {
		if (strlen(pki_dir) + 64 >= sizeof(s->dir)) {
			snprintf(err, errlen, "--pki %s: path too long", pki_dir);
			return -EINVAL;
		}
		snprintf(s->dir, sizeof(s->dir), "%s", pki_dir);
	} else if ((rc = create_own(s, sc, run_dir, err, errlen)) < 0) {
		return rc;
	}
	if ((rc = path(s->ca, s->dir, NULL, "ca", "crt", err, errlen)) < 0 ||
	    (rc = path(s->broker_cert, s->dir, NULL, "broker", "crt", err, errlen)) < 0 ||
	    (rc = path(s->broker_key, s->dir, NULL, "broker", "key", err, errlen)) < 0 ||
	    (rc = path(s->passwd, s->dir, NULL, "mosquitto", "passwd", err, errlen)) < 0)
		return rc;
	if (snprintf(s->faults, sizeof(s->faults), "%s/faults", s->dir) >= (int)sizeof(s->faults) ||
	    snprintf(s->acl, sizeof(s->acl), "%s/acl", run_dir) >= (int)sizeof(s->acl))
		return -ENAMETOOLONG;
	if (!s->own_dir && (rc = check_given(s, sc, err, errlen)) < 0)
		return -EINVAL;
	if ((rc = set_up_clients(s, err, errlen)) < 0)
		return s->own_dir ? rc : -EINVAL;
	if ((rc = broker_acl_write(s->acl, sc, err, errlen)) < 0)
		return rc;
	s->access.acl_file = s->acl;
	if (uses_tls(s->mode)) {
		s->access.cafile = s->ca;
		s->access.certfile = s->broker_cert;
		s->access.keyfile = s->broker_key;
	}
	s->access.require_certificate = s->mode == SCENARIO_SECURITY_MUTUAL;
	if (uses_passwords(s->mode))
		s->access.password_file = s->passwd;
	return set_up_device_args(s, err, errlen);
}

const struct broker_access *run_security_access(const struct run_security *s)
{
	return s->mode == SCENARIO_SECURITY_NONE ? NULL : &s->access;
}

const struct mqtt_auth *run_security_recorder(const struct run_security *s)
{
	return s->mode == SCENARIO_SECURITY_NONE ? NULL : &s->recorder;
}

const struct mqtt_auth *run_security_commander(const struct run_security *s)
{
	return s->mode == SCENARIO_SECURITY_NONE ? NULL : &s->commander;
}

int run_security_device_auth(const struct run_security *s, const char *id, struct mqtt_auth *a,
			     char *cert, char *key, char *password, size_t plen)
{
	char why[256];
	int rc;

	memset(a, 0, sizeof(*a));
	if (s->mode == SCENARIO_SECURITY_NONE)
		return -EINVAL;
	if (uses_tls(s->mode))
		a->ca_file = s->ca;
	if (s->mode == SCENARIO_SECURITY_MUTUAL) {
		if ((rc = path(cert, s->dir, "devices", id, "crt", why, sizeof(why))) < 0 ||
		    (rc = path(key, s->dir, "devices", id, "key", why, sizeof(why))) < 0)
			return rc;
		a->cert_file = cert;
		a->key_file = key;
		return 0;
	}
	if ((rc = path(cert, s->dir, "devices", id, "password", why, sizeof(why))) < 0 ||
	    (rc = secret_file_read(cert, password, plen, why, sizeof(why))) < 0)
		return rc;
	a->username = id;
	a->password = password;
	return 0;
}
