/* A run's security mode: its credentials, the broker's access, robofleet's own identities, the devices' options. */
#ifndef SIM_RUN_SECURITY_H
#define SIM_RUN_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "mqtt_auth.h"
#include "scenario.h"

#define RUN_SECURITY_PATH_MAX 1100
#define RUN_SECURITY_ARGS_MAX 12

struct run_security {
	enum scenario_security mode;
	bool own_dir;                       /* created for this run (else --pki) */
	char dir[RUN_SECURITY_PATH_MAX];    /* the credentials directory */
	char ca[RUN_SECURITY_PATH_MAX];
	char broker_cert[RUN_SECURITY_PATH_MAX], broker_key[RUN_SECURITY_PATH_MAX];
	char passwd[RUN_SECURITY_PATH_MAX], acl[RUN_SECURITY_PATH_MAX];
	char faults[RUN_SECURITY_PATH_MAX];
	/* robofleet's own clients */
	char client_cert[2][RUN_SECURITY_PATH_MAX], client_key[2][RUN_SECURITY_PATH_MAX];
	char client_password[2][128];
	struct mqtt_auth recorder, commander;
	/* what the embedded broker is told */
	struct broker_access access;
	/* every device's options ({id} in the paths), NULL-terminated */
	const char *device_args[RUN_SECURITY_ARGS_MAX + 1];
	char device_paths[4][RUN_SECURITY_PATH_MAX];
};

/*
 * Make ready what @mode needs before the broker starts. @pki_dir NULL: a new
 * credentials directory in @run_dir/pki (CA, broker, clients, every device,
 * the security faults' material) and the ACL; else use that directory, as
 * `robofleet ca` made it, and check every file the mode needs (a damaged or
 * mismatched one is named). Returns 0 or a negative errno with the reason
 * in @err; -EINVAL means the user's input is at fault (exit 2).
 */
int run_security_prepare(struct run_security *s, const struct scenario *sc, const char *run_dir,
			 const char *pki_dir, char *err, size_t errlen);

/* The embedded broker's access (NULL for none), robofleet's clients' identities. */
const struct broker_access *run_security_access(const struct run_security *s);
const struct mqtt_auth *run_security_recorder(const struct run_security *s);
const struct mqtt_auth *run_security_commander(const struct run_security *s);

/*
 * The MQTT auth of device @id (for a client that claims to be it, as the
 * impersonation fault does): into @a, with its password in @password
 * (@plen bytes) and paths in @cert and @key (RUN_SECURITY_PATH_MAX each).
 */
int run_security_device_auth(const struct run_security *s, const char *id, struct mqtt_auth *a,
			     char *cert, char *key, char *password, size_t plen);

#endif /* SIM_RUN_SECURITY_H */
