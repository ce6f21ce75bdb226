/*
 * HAL: an MQTT 3.1.1 client session.
 *
 * Calls never block. The board delivers results through the callbacks, and
 * only from inside hal_mqtt_service(), so the application never sees a
 * callback re-enter it.
 */
#ifndef HAL_MQTT_H
#define HAL_MQTT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct hal_mqtt_will {
	const char *topic;
	const void *payload;
	size_t payload_len;
	int qos;
	bool retain;
};

struct hal_mqtt_connect_opts {
	const char *client_id;
	const char *host;
	uint16_t port;
	uint16_t keepalive_s;
	bool clean_session;
	const char *username; /* NULL for none */
	const char *password; /* NULL for none */
	const struct hal_mqtt_will *will; /* NULL for none */
};

struct hal_mqtt_callbacks {
	/* CONNACK arrived: @rc is 0 when accepted, else the CONNACK code. */
	void (*on_connect)(void *ctx, int rc);
	/* The session ended; @expected is true after hal_mqtt_disconnect(). */
	void (*on_disconnect)(void *ctx, bool expected);
	/* A message on a subscribed topic. @payload is not NUL-terminated. */
	void (*on_message)(void *ctx, const char *topic, const void *payload,
			   size_t payload_len);
	/* The broker acknowledged the QoS>0 publish @msg_id (PUBACK). */
	void (*on_publish)(void *ctx, uint16_t msg_id);
};

/*
 * Set up the client once at boot. Returns 0, -EINVAL for missing callbacks,
 * or -ENOMEM if the board cannot hold a session.
 */
int hal_mqtt_init(const struct hal_mqtt_callbacks *cb, void *ctx);

/*
 * Begin connecting; the outcome arrives through on_connect/on_disconnect.
 * Returns 0, -EINVAL for bad options, -EALREADY while a session is open or
 * opening, -ENETUNREACH when the link is down, or -EIO.
 */
int hal_mqtt_connect(const struct hal_mqtt_connect_opts *opts);

/*
 * Queue a publish. For qos > 0, *@msg_id receives the id that on_publish
 * will report. Returns 0, -ENOTCONN when no session is open, -EMSGSIZE for
 * a payload the board cannot carry, -ENOBUFS when the send queue is full,
 * or -EIO.
 */
int hal_mqtt_publish(const char *topic, const void *payload, size_t len,
		     int qos, bool retain, uint16_t *msg_id);

/* Subscribe. Returns 0, -ENOTCONN, -EINVAL or -EIO. */
int hal_mqtt_subscribe(const char *topic, int qos);

/*
 * Send DISCONNECT (so the broker does not publish the will) and close.
 * Returns 0, or -ENOTCONN when there is nothing to close.
 */
int hal_mqtt_disconnect(void);

/*
 * Move bytes both ways and run callbacks. Call after every wait.
 * Returns 0, or a negative errno when the session broke (on_disconnect has
 * then been called).
 */
int hal_mqtt_service(void);

/* Number of publishes handed to the board but not yet written out. */
unsigned int hal_mqtt_pending(void);

#endif /* HAL_MQTT_H */
