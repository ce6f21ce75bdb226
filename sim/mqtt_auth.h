/* How one of robofleet's own MQTT clients proves who it is: TLS files, user name, password. */
#ifndef SIM_MQTT_AUTH_H
#define SIM_MQTT_AUTH_H

struct mosquitto;

/* Every member may be NULL or "": none. */
struct mqtt_auth {
	const char *ca_file;        /* TLS on: the CA the broker's certificate must chain to */
	const char *cert_file;      /* a client certificate, with key_file */
	const char *key_file;
	const char *username;
	const char *password;
};

/*
 * Set @a on @m before it connects (NULL: nothing). Returns 0 or a negative
 * errno (-EINVAL for a file libmosquitto refuses).
 */
int mqtt_auth_apply(struct mosquitto *m, const struct mqtt_auth *a);

#endif /* SIM_MQTT_AUTH_H */
