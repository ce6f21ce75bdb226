/*
 * A fleet's credentials directory (the layout is in pki.h): what
 * `robofleet run` creates as <run>/pki/ for a secure run and `robofleet ca`
 * creates for a real deployment, and the paths of its files.
 */
#ifndef SIM_CREDENTIALS_H
#define SIM_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

/* robofleet's own clients, each with its certificate and password. */
#define CREDENTIALS_RECORDER "robofleet-recorder"
#define CREDENTIALS_COMMANDER "robofleet-commander"

struct credentials_plan {
	const char *dir;                    /* created 0700 if missing */
	const char *const *device_ids;
	size_t n_devices;
	const char *const *broker_names;    /* DNS names in the broker certificate */
	size_t n_broker_names;              /* 0: "localhost" */
	const char *const *broker_ips;      /* addresses in it */
	size_t n_broker_ips;                /* 0: "127.0.0.1" */
	int days;                           /* validity of everything issued (0: 365) */
	const char *ca_cert, *ca_key;       /* NULL: create a new CA in dir; else issue with it */
	/*
	 * Also write what the security faults present instead of a device's
	 * own credentials: faults/expired.crt .key (issued by the CA, expired
	 * since yesterday) and faults/foreign-ca.crt, faults/foreign.crt .key
	 * (a CA nobody trusts and a certificate it issued).
	 */
	bool fault_material;
};

/*
 * Create everything the plan names. Returns 0 or a negative errno (and @err).
 * With @ca_cert (adding devices to a directory made before), the broker's
 * certificate and robofleet's clients already there are kept when they
 * check out against that CA (credentials_pair_valid(), and for a client its
 * password and mosquitto.passwd line agree), unless broker names or
 * addresses are given; mosquitto.passwd keeps the users the plan does not
 * name.
 */
int credentials_create(const struct credentials_plan *plan, char *err, size_t errlen);

/*
 * Whether @dir/@sub/@name.crt and .key exist, match, were issued by the CA
 * in @ca_cert and are within their validity period.
 */
bool credentials_pair_valid(const char *dir, const char *sub, const char *name,
			    const char *ca_cert);

/*
 * The path of one file of the directory @dir into @out:
 *   credentials_path(dir, "devices", "robot_001", "crt") -> dir/devices/robot_001.crt
 *   credentials_path(dir, NULL, "ca", "crt")             -> dir/ca.crt
 * Returns 0 or -ENAMETOOLONG.
 */
int credentials_path(const char *dir, const char *sub, const char *name, const char *ext,
		     char *out, size_t outlen);

#endif /* SIM_CREDENTIALS_H */
