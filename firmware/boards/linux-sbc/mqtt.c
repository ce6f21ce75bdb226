/*
 * hal_mqtt for Linux over libmosquitto, single-threaded: no loop thread;
 * hal_time_wait_until() polls the socket and hal_mqtt_service() moves the
 * bytes, so callbacks run only there, as hal_mqtt.h requires.
 *
 * TLS (server CA, optionally a client certificate and key, as AWS IoT
 * wants) comes from robot.conf through sbc__mqtt_setup(); the HAL's
 * connect options carry only what every board has.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal_link.h"
#include "hal_mqtt.h"
#include "log.h"

#define FLUSH_TIMEOUT_MS 200
#define PENDING_MAX 256    /* QoS>0 publishes awaiting PUBACK */

static const struct hal_mqtt_callbacks *cbs;
static void *cb_ctx;
static struct mosquitto *mosq;
static bool lib_ready;
static bool connected;      /* CONNACK accepted and not lost since */
static bool closed_by_us;   /* report on_disconnect(expected) once */
static bool in_service;     /* inside libmosquitto's loop: callbacks may run */
static bool drop_pending;   /* hal_mqtt_disconnect() from a callback */
static uint16_t pending[PENDING_MAX];
static unsigned int n_pending;
static char tls_ca[SBC_PATH_MAX], tls_cert[SBC_PATH_MAX], tls_key[SBC_PATH_MAX];

void sbc__mqtt_setup(const struct sbc_settings *s)
{
	snprintf(tls_ca, sizeof(tls_ca), "%s", s->tls_ca_file);
	snprintf(tls_cert, sizeof(tls_cert), "%s", s->tls_cert_file);
	snprintf(tls_key, sizeof(tls_key), "%s", s->tls_key_file);
}

static bool take_pending(uint16_t mid)
{
	for (unsigned int i = 0; i < n_pending; i++) {
		if (pending[i] == mid) {
			pending[i] = pending[--n_pending];
			return true;
		}
	}
	return false;
}

static void cb_connect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	(void)obj;
	connected = rc == 0;
	cbs->on_connect(cb_ctx, rc);
}

static void cb_disconnect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	(void)obj;
	(void)rc;
	connected = false;
}

static void cb_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	(void)m;
	(void)obj;
	if (msg->payloadlen < 0)
		return;
	cbs->on_message(cb_ctx, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static void cb_publish(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	(void)obj;
	/* libmosquitto also reports QoS 0 publishes once written; only real
	 * PUBACKs are acknowledgements. */
	if (take_pending((uint16_t)mid))
		cbs->on_publish(cb_ctx, (uint16_t)mid);
}

int hal_mqtt_init(const struct hal_mqtt_callbacks *cb, void *ctx)
{
	if (!cb || !cb->on_connect || !cb->on_disconnect || !cb->on_message || !cb->on_publish)
		return -EINVAL;
	if (!lib_ready) {
		if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
			return -ENOMEM;
		lib_ready = true;
	}
	cbs = cb;
	cb_ctx = ctx;
	return 0;
}

static void drop_session(void)
{
	if (mosq) {
		mosquitto_destroy(mosq);
		mosq = NULL;
	}
	connected = false;
	n_pending = 0;
}

static int from_mosq(int rc)
{
	switch (rc) {
	case MOSQ_ERR_SUCCESS: return 0;
	case MOSQ_ERR_INVAL: return -EINVAL;
	case MOSQ_ERR_NOMEM: return -ENOBUFS;
	case MOSQ_ERR_NO_CONN: return -ENOTCONN;
	case MOSQ_ERR_PAYLOAD_SIZE: return -EMSGSIZE;
	case MOSQ_ERR_ERRNO: return errno ? -errno : -EIO;
	default: return -EIO;
	}
}

static int setup_tls(void)
{
	int rc;

	if (!tls_ca[0])
		return MOSQ_ERR_SUCCESS;
	rc = mosquitto_tls_set(mosq, tls_ca, NULL, tls_cert[0] ? tls_cert : NULL,
			       tls_key[0] ? tls_key : NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		LOG_ERROR("TLS setup failed: %s (CA %s, cert %s, key %s)", mosquitto_strerror(rc),
			  tls_ca, tls_cert[0] ? tls_cert : "-", tls_key[0] ? tls_key : "-");
	return rc;
}

int hal_mqtt_connect(const struct hal_mqtt_connect_opts *o)
{
	int rc;

	if (!o || !o->client_id || !o->host || o->port == 0 || !cbs)
		return -EINVAL;
	if (mosq)
		return -EALREADY;
	if (hal_link_get_state() != HAL_LINK_UP)
		return -ENETUNREACH;
	mosq = mosquitto_new(o->client_id, o->clean_session, NULL);
	if (!mosq)
		return -ENOMEM;
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(mosq, cb_connect);
	mosquitto_disconnect_callback_set(mosq, cb_disconnect);
	mosquitto_message_callback_set(mosq, cb_message);
	mosquitto_publish_callback_set(mosq, cb_publish);
	rc = setup_tls();
	if (rc == MOSQ_ERR_SUCCESS && o->will)
		rc = mosquitto_will_set(mosq, o->will->topic, (int)o->will->payload_len,
					o->will->payload, o->will->qos, o->will->retain);
	if (rc == MOSQ_ERR_SUCCESS && o->username)
		rc = mosquitto_username_pw_set(mosq, o->username, o->password);
	if (rc == MOSQ_ERR_SUCCESS) {
		errno = 0;
		/* Resolves the name here (blocking getaddrinfo), then connects
		 * without waiting; the TLS handshake runs in service(). */
		rc = mosquitto_connect_async(mosq, o->host, o->port, o->keepalive_s);
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		int err = from_mosq(rc);

		drop_session();
		return err == -ENOTCONN ? -EIO : err;
	}
	closed_by_us = false;
	return 0;
}

int hal_mqtt_publish(const char *topic, const void *payload, size_t len,
		     int qos, bool retain, uint16_t *msg_id)
{
	int mid = 0, rc;

	if (!topic || (len && !payload) || qos < 0 || qos > 2)
		return -EINVAL;
	if (!mosq || !connected)
		return -ENOTCONN;
	if (len > 268435455u)
		return -EMSGSIZE;
	if (qos > 0 && n_pending >= PENDING_MAX)
		return -ENOBUFS;
	rc = mosquitto_publish(mosq, &mid, topic, (int)len, payload, qos, retain);
	if (rc != MOSQ_ERR_SUCCESS)
		return from_mosq(rc);
	if (qos > 0)
		pending[n_pending++] = (uint16_t)mid;
	if (msg_id)
		*msg_id = (uint16_t)mid;
	return 0;
}

int hal_mqtt_subscribe(const char *topic, int qos)
{
	if (!topic || qos < 0 || qos > 2)
		return -EINVAL;
	if (!mosq || !connected)
		return -ENOTCONN;
	return from_mosq(mosquitto_subscribe(mosq, NULL, topic, qos));
}

/* Push out what is queued (the DISCONNECT) for a short, bounded time. */
static void flush_bounded(void)
{
	int waited_ms = 0;

	while (mosq && mosquitto_want_write(mosq) && waited_ms < FLUSH_TIMEOUT_MS) {
		struct pollfd p = { .fd = mosquitto_socket(mosq), .events = POLLOUT };

		if (p.fd < 0 || poll(&p, 1, 10) < 0)
			break;
		waited_ms += 10;
		if (mosquitto_loop_write(mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
	}
}

int hal_mqtt_disconnect(void)
{
	if (!mosq || drop_pending)
		return -ENOTCONN;
	if (connected)
		mosquitto_disconnect(mosq);
	connected = false;
	if (in_service) {
		/* Called from a callback: libmosquitto is still using the
		 * client, so let go of it once its loop has returned. */
		drop_pending = true;
		return 0;
	}
	flush_bounded();
	drop_session();
	closed_by_us = true;
	return 0;
}

int hal_mqtt_service(void)
{
	int rc;

	if (closed_by_us) {
		closed_by_us = false;
		cbs->on_disconnect(cb_ctx, true);
	}
	if (!mosq)
		return 0;
	in_service = true;
	rc = mosquitto_loop_read(mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && !drop_pending && mosquitto_want_write(mosq))
		rc = mosquitto_loop_write(mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && !drop_pending)
		rc = mosquitto_loop_misc(mosq);
	in_service = false;
	if (drop_pending) {
		drop_pending = false;
		flush_bounded();
		drop_session();
		cbs->on_disconnect(cb_ctx, true);
		return 0;
	}
	if (rc == MOSQ_ERR_SUCCESS)
		return 0;
	/* The session broke (EOF, reset, keepalive timeout, refused, TLS). */
	if (rc == MOSQ_ERR_TLS)
		LOG_WARN("TLS session failed (check tls_ca_file and the broker's certificate)");
	drop_session();
	cbs->on_disconnect(cb_ctx, false);
	return -ECONNRESET;
}

unsigned int hal_mqtt_pending(void)
{
	return n_pending;
}

int sbc__mqtt_fd(bool *want_write)
{
	if (!mosq) {
		*want_write = false;
		return -1;
	}
	*want_write = mosquitto_want_write(mosq);
	return mosquitto_socket(mosq);
}

void sbc__mqtt_teardown(void)
{
	drop_session();
	if (lib_ready) {
		mosquitto_lib_cleanup();
		lib_ready = false;
	}
}
