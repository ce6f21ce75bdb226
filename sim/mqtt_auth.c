/* One client's credentials onto a libmosquitto handle. */
#include <errno.h>
#include <mosquitto.h>
#include <stddef.h>

#include "mqtt_auth.h"

static const char *given(const char *s)
{
	return s && *s ? s : NULL;
}

int mqtt_auth_apply(struct mosquitto *m, const struct mqtt_auth *a)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (!a)
		return 0;
	if (given(a->ca_file))
		rc = mosquitto_tls_set(m, a->ca_file, NULL, given(a->cert_file), given(a->key_file),
				       NULL);
	if (rc == MOSQ_ERR_SUCCESS && given(a->username))
		rc = mosquitto_username_pw_set(m, a->username, given(a->password));
	switch (rc) {
	case MOSQ_ERR_SUCCESS: return 0;
	case MOSQ_ERR_NOMEM: return -ENOMEM;
	default: return -EINVAL;
	}
}
