/*
 * hal_mqtt over libmosquitto, single-threaded: no loop thread; the
 * firmware's wait (poll() in wait.c) watches the socket and
 * hal_mqtt_service() moves the bytes, so callbacks run only there, as
 * hal_mqtt.h requires.
 *
 * A simulated radio may sit under the session (struct posix_mqtt_hooks),
 * as the virtual robot's link model does:
 *
 *   link down  nothing is read or written: no DISCONNECT, no FIN. The
 *              broker learns of it only when the keepalive runs out and
 *              publishes the will. A session given up over a dead link is
 *              set aside with its socket open and closed only once a new
 *              session starts (or at exit).
 *   held       every publish waits in a queue here for as long as the
 *              radio says its packet takes, in order (TCP does not
 *              overtake). The firmware gets its message id at once; it is
 *              ours, mapped to libmosquitto's mid when the packet really
 *              leaves, and back again on the PUBACK.
 *
 * Without hooks the link always carries and nothing is held: a real
 * board's session. TLS (server CA, optionally a client certificate and key)
 * comes from posix_mqtt_set_tls(); the HAL's connect options carry only
 * what every board has.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hal_link.h"
#include "hal_mqtt.h"
#include "hal_time.h"
#include "log.h"
#include "posix_hal.h"
#include "posix_internal.h"

#define FLUSH_TIMEOUT_MS 200
#define PENDING_MAX 1024   /* QoS>0 publishes awaiting PUBACK */
#define TLS_PATH_MAX 512

/* A QoS>0 publish the firmware was given @id for, until its PUBACK. */
struct pending {
	uint16_t id;
	uint16_t mid;       /* libmosquitto's, once sent */
	bool sent;
};

/* A publish held back by the radio. */
struct outgoing {
	struct outgoing *next;
	uint64_t due_us;
	uint16_t id;
	int qos;
	bool retain;
	bool lost;          /* never arrives: the link drops instead */
	char *topic;
	size_t len;
	unsigned char payload[];
};

static const struct hal_mqtt_callbacks *cbs;
static void *cb_ctx;
static struct mosquitto *mosq;
static struct mosquitto *abandoned; /* given up over a dead link, socket untouched */
static bool lib_ready;
static bool connected;      /* CONNACK accepted and not lost since */
static bool closed_by_us;   /* report on_disconnect(expected) once */
static bool dropped;        /* posix_mqtt_drop(): report on_disconnect(lost) once */
static bool session_tls;    /* this session runs over TLS */
static bool session_answered; /* ... and the broker sent a CONNACK, yes or no */
static bool in_service;     /* inside libmosquitto's loop: callbacks may run */
static bool drop_pending;   /* hal_mqtt_disconnect() from a callback */
static bool drop_silent;    /* ... with the link down */
static struct pending pend[PENDING_MAX];
static unsigned int n_pend;
static uint16_t last_id;
static struct outgoing *out_head, *out_tail;
static const struct posix_mqtt_hooks *hooks;
static char tls_ca[TLS_PATH_MAX], tls_cert[TLS_PATH_MAX], tls_key[TLS_PATH_MAX];

static struct pending *pend_by_id(uint16_t id)
{
	for (unsigned int i = 0; i < n_pend; i++)
		if (pend[i].id == id)
			return &pend[i];
	return NULL;
}

static struct pending *pend_by_mid(int mid)
{
	for (unsigned int i = 0; i < n_pend; i++)
		if (pend[i].sent && pend[i].mid == mid)
			return &pend[i];
	return NULL;
}

static void pend_remove(struct pending *p)
{
	*p = pend[--n_pend];
}

/* The next id the firmware has not got outstanding (never 0). */
static uint16_t new_id(void)
{
	do {
		last_id = (uint16_t)(last_id + 1);
	} while (last_id == 0 || pend_by_id(last_id));
	return last_id;
}

static void free_queue(void)
{
	while (out_head) {
		struct outgoing *e = out_head;
		out_head = e->next;
		free(e);
	}
	out_tail = NULL;
}

static void forget_inflight(void)
{
	n_pend = 0;
	free_queue();
}

static void cb_connect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	(void)obj;
	connected = rc == 0;
	session_answered = true;
	if (rc != 0)
		LOG_WARN("broker refused the connection: %s (CONNACK %d)",
			 mosquitto_connack_string(rc), rc);
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

/* libmosquitto's own account of a failure (a TLS alert from the broker,
 * a certificate that did not verify): the one place that says why. */
static void cb_log(struct mosquitto *m, void *obj, int level, const char *text)
{
	(void)m;
	(void)obj;
	if (level == MOSQ_LOG_ERR)
		LOG_WARN("mqtt: %s", text);
}

static void cb_publish(struct mosquitto *m, void *obj, int mid)
{
	struct pending *p;
	uint16_t id;

	(void)m;
	(void)obj;
	/* libmosquitto also reports QoS 0 publishes once written; only real
	 * PUBACKs are acknowledgements. */
	if (!(p = pend_by_mid(mid)))
		return;
	id = p->id;
	pend_remove(p);
	cbs->on_publish(cb_ctx, id);
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

int posix_mqtt_set_tls(const struct posix_mqtt_tls *tls)
{
	const char *ca = tls && tls->ca_file ? tls->ca_file : "";
	const char *cert = tls && tls->cert_file ? tls->cert_file : "";
	const char *key = tls && tls->key_file ? tls->key_file : "";

	if (strlen(ca) >= sizeof(tls_ca) || strlen(cert) >= sizeof(tls_cert) ||
	    strlen(key) >= sizeof(tls_key))
		return -ENAMETOOLONG;
	snprintf(tls_ca, sizeof(tls_ca), "%s", ca);
	snprintf(tls_cert, sizeof(tls_cert), "%s", cert);
	snprintf(tls_key, sizeof(tls_key), "%s", key);
	return 0;
}

void posix_mqtt_set_hooks(const struct posix_mqtt_hooks *h)
{
	hooks = h;
}

/* Whether the radio under the session carries bytes; without one, always. */
static bool link_up(void)
{
	return !hooks || !hooks->link_carries || hooks->link_carries(hooks->ctx);
}

static bool publishes_held(void)
{
	return hooks && hooks->holds_publishes && hooks->holds_publishes(hooks->ctx);
}

/* One held packet through the radio: 0 and its delay, or <0 when lost. */
static int transmit(uint32_t *delay_ms)
{
	*delay_ms = 0;
	if (!hooks || !hooks->transmit)
		return 0;
	return hooks->transmit(hooks->ctx, delay_ms);
}

/* Close the socket without a DISCONNECT: the broker sees the connection end. */
static void drop_session(void)
{
	if (mosq) {
		mosquitto_destroy(mosq);
		mosq = NULL;
	}
	connected = false;
	forget_inflight();
}

/* Closing now would send a FIN over a link that carries nothing. */
static void destroy_abandoned(void)
{
	if (abandoned) {
		mosquitto_destroy(abandoned);
		abandoned = NULL;
	}
}

/* Give the session up over a dead link: not a byte more, not even a FIN. */
static void abandon_session(void)
{
	/* Only one can exist: a new session needs the link, and its start
	 * closes the old one. */
	destroy_abandoned();
	abandoned = mosq;
	mosq = NULL;
	connected = false;
	forget_inflight();
}

/* TLS and the password as this session presents them (the hook may
 * replace the configured ones). */
static int setup_credentials(const char *password_configured, const char **password)
{
	struct posix_mqtt_tls tls = { tls_ca, tls_cert, tls_key };
	int rc;

	*password = password_configured;
	if (hooks && hooks->credentials)
		hooks->credentials(hooks->ctx, &tls, password);
	session_tls = tls.ca_file && tls.ca_file[0];
	if (!session_tls)
		return MOSQ_ERR_SUCCESS;
	rc = mosquitto_tls_set(mosq, tls.ca_file, NULL,
			       tls.cert_file && tls.cert_file[0] ? tls.cert_file : NULL,
			       tls.key_file && tls.key_file[0] ? tls.key_file : NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		LOG_ERROR("TLS setup failed: %s (CA %s, cert %s, key %s)", mosquitto_strerror(rc),
			  tls.ca_file, tls.cert_file && tls.cert_file[0] ? tls.cert_file : "-",
			  tls.key_file && tls.key_file[0] ? tls.key_file : "-");
	return rc;
}

/*
 * A TLS session that ended before any CONNACK. OpenSSL's own words come
 * through cb_log when the broker's alert arrived, but a broker refusing a
 * client certificate often resets the connection first, and the alert is
 * lost with it: then this line is all there is. @err: errno after the call.
 */
static bool log_tls_failure(int rc, int err)
{
	if (!session_tls || session_answered)
		return false;
	if (rc != MOSQ_ERR_TLS && rc != MOSQ_ERR_ERRNO && rc != MOSQ_ERR_CONN_LOST &&
	    rc != MOSQ_ERR_NO_CONN)
		return false; /* set-up errors have their own line */
	/* Nothing reached TLS: the broker is not there, the robot says so. */
	if (rc == MOSQ_ERR_ERRNO && (err == ECONNREFUSED || err == EHOSTUNREACH ||
				     err == ENETUNREACH || err == ETIMEDOUT))
		return false;
	LOG_WARN("TLS session failed before a CONNACK (%s): a certificate refused by either "
		 "side? check the CA, certificate, key and their dates",
		 rc == MOSQ_ERR_ERRNO && err ? strerror(err) : mosquitto_strerror(rc));
	return true;
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

int hal_mqtt_connect(const struct hal_mqtt_connect_opts *o)
{
	const char *password;
	int rc;

	if (!o || !o->client_id || !o->host || o->port == 0 || !cbs)
		return -EINVAL;
	if (mosq)
		return -EALREADY;
	if (hal_link_get_state() != HAL_LINK_UP)
		return -ENETUNREACH;
	/* The link is back: the session lost with it may close for real now.
	 * (The broker either timed it out already or is told by this FIN.) */
	destroy_abandoned();
	mosq = mosquitto_new(o->client_id, o->clean_session, NULL);
	if (!mosq)
		return -ENOMEM;
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(mosq, cb_connect);
	mosquitto_disconnect_callback_set(mosq, cb_disconnect);
	mosquitto_message_callback_set(mosq, cb_message);
	mosquitto_publish_callback_set(mosq, cb_publish);
	mosquitto_log_callback_set(mosq, cb_log);
	session_answered = false;
	rc = setup_credentials(o->password, &password);
	if (rc == MOSQ_ERR_SUCCESS && o->will)
		rc = mosquitto_will_set(mosq, o->will->topic, (int)o->will->payload_len,
					o->will->payload, o->will->qos, o->will->retain);
	if (rc == MOSQ_ERR_SUCCESS && o->username)
		rc = mosquitto_username_pw_set(mosq, o->username, password);
	if (rc == MOSQ_ERR_SUCCESS) {
		errno = 0;
		/* Resolves the name here (blocking getaddrinfo), then connects
		 * without waiting; a TLS handshake runs in service(). */
		rc = mosquitto_connect_async(mosq, o->host, o->port, o->keepalive_s);
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		int saved_errno = errno, err = from_mosq(rc);

		log_tls_failure(rc, saved_errno);
		drop_session();
		return err == -ENOTCONN ? -EIO : err;
	}
	closed_by_us = false;
	dropped = false;
	return 0;
}

void posix_mqtt_drop(void)
{
	if (!mosq || in_service)
		return;
	drop_session();
	dropped = true;
}

/* Hold a publish back for as long as the link says this packet takes. */
static int enqueue(uint16_t id, const char *topic, const void *payload, size_t len,
		   int qos, bool retain)
{
	size_t tlen = strlen(topic) + 1;
	struct outgoing *e = malloc(sizeof(*e) + len + tlen);
	uint32_t delay_ms = 0;

	if (!e)
		return -ENOBUFS;
	e->next = NULL;
	e->id = id;
	e->qos = qos;
	e->retain = retain;
	e->lost = transmit(&delay_ms) < 0;
	e->len = len;
	if (len)
		memcpy(e->payload, payload, len);
	e->topic = (char *)e->payload + len;
	memcpy(e->topic, topic, tlen);
	e->due_us = hal_time_now_us() + (uint64_t)delay_ms * 1000u;
	if (out_tail && e->due_us < out_tail->due_us)
		e->due_us = out_tail->due_us;
	if (out_tail)
		out_tail->next = e;
	else
		out_head = e;
	out_tail = e;
	return 0;
}

/* Send what the radio has let through by now. */
static void flush_due(void)
{
	uint64_t now = hal_time_now_us();

	while (out_head && out_head->due_us <= now && mosq && connected && link_up()) {
		struct outgoing *e = out_head;
		struct pending *p = pend_by_id(e->id);
		int mid = 0, rc = MOSQ_ERR_NO_CONN;

		out_head = e->next;
		if (!out_head)
			out_tail = NULL;
		if (!e->lost)
			rc = mosquitto_publish(mosq, &mid, e->topic, (int)e->len, e->payload,
					       e->qos, e->retain);
		if (p && rc == MOSQ_ERR_SUCCESS) {
			p->mid = (uint16_t)mid;
			p->sent = true;
		} else if (p && e->lost) {
			/* Never acknowledged; the firmware resends it on the
			 * next session. Keep it counted as pending until then. */
		} else if (p) {
			pend_remove(p);
		}
		free(e);
	}
}

int hal_mqtt_publish(const char *topic, const void *payload, size_t len,
		     int qos, bool retain, uint16_t *msg_id)
{
	uint16_t id;
	int mid = 0, rc;
	bool queued;

	if (!topic || (len && !payload) || qos < 0 || qos > 2)
		return -EINVAL;
	if (!mosq || !connected)
		return -ENOTCONN;
	/* libmosquitto writes to the socket at once: over a dead link that
	 * would be a packet the radio cannot send. */
	if (!link_up())
		return -ENOTCONN;
	if (len > 268435455u)
		return -EMSGSIZE;
	if (qos > 0 && n_pend >= PENDING_MAX)
		return -ENOBUFS;
	id = new_id();
	/* Once anything waits in the queue, everything after it does too. */
	queued = publishes_held() || out_head;
	if (queued) {
		if ((rc = enqueue(id, topic, payload, len, qos, retain)) < 0)
			return rc;
	} else {
		rc = mosquitto_publish(mosq, &mid, topic, (int)len, payload, qos, retain);
		if (rc != MOSQ_ERR_SUCCESS)
			return from_mosq(rc);
	}
	if (qos > 0) {
		pend[n_pend].id = id;
		pend[n_pend].mid = (uint16_t)mid;
		pend[n_pend].sent = !queued;
		n_pend++;
	}
	if (msg_id)
		*msg_id = id;
	return 0;
}

int hal_mqtt_subscribe(const char *topic, int qos)
{
	if (!topic || qos < 0 || qos > 2)
		return -EINVAL;
	if (!mosq || !connected || !link_up())
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
	bool up;

	if (!mosq || drop_pending)
		return -ENOTCONN;
	/* Over a dead link nothing reaches the broker: it must see silence
	 * and publish the will, exactly as with real radios. */
	up = link_up();
	if (up && connected)
		mosquitto_disconnect(mosq);
	if (in_service) {
		/* Called from a callback: libmosquitto is still using the
		 * client, so let go of it once its loop has returned. */
		drop_pending = true;
		drop_silent = !up;
		connected = false;
		return 0;
	}
	if (up) {
		flush_bounded();
		drop_session();
	} else {
		abandon_session();
	}
	closed_by_us = true;
	return 0;
}

int hal_mqtt_service(void)
{
	int rc, err;

	if (closed_by_us) {
		closed_by_us = false;
		cbs->on_disconnect(cb_ctx, true);
	}
	if (dropped) {
		dropped = false;
		cbs->on_disconnect(cb_ctx, false);
		return -ECONNRESET;
	}
	if (!mosq)
		return 0;
	/* No link, no bytes: the session waits for the firmware to notice. */
	if (!link_up())
		return 0;
	in_service = true;
	errno = 0;
	rc = mosquitto_loop_read(mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && !drop_pending && mosquitto_want_write(mosq))
		rc = mosquitto_loop_write(mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && !drop_pending)
		rc = mosquitto_loop_misc(mosq);
	err = errno;
	in_service = false;
	if (drop_pending) {
		drop_pending = false;
		if (drop_silent || !link_up()) {
			abandon_session();
		} else {
			flush_bounded();
			drop_session();
		}
		drop_silent = false;
		cbs->on_disconnect(cb_ctx, true);
		return 0;
	}
	if (rc == MOSQ_ERR_SUCCESS) {
		flush_due();
		return 0;
	}
	/* The session broke (EOF, reset, keepalive timeout, refused, TLS). */
	if (!log_tls_failure(rc, err) && rc == MOSQ_ERR_TLS)
		LOG_WARN("TLS session failed (the line before says why: check the CA, the "
			 "certificate and key, and the broker's certificate)");
	drop_session();
	cbs->on_disconnect(cb_ctx, false);
	return -ECONNRESET;
}

unsigned int hal_mqtt_pending(void)
{
	return n_pend;
}

/* Whether @fd's TCP connect has completed (it has a peer). */
static bool tcp_established(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	return fd >= 0 && getpeername(fd, (struct sockaddr *)&peer, &len) == 0;
}

int posix__mqtt_fd(bool *want_write)
{
	int fd;

	/* A socket over a dead link is not ours to watch: whatever the broker
	 * does to it cannot reach this side. */
	if (!mosq || !link_up()) {
		*want_write = false;
		return -1;
	}
	fd = mosquitto_socket(mosq);
	*want_write = mosquitto_want_write(mosq);
	/*
	 * A TLS session before the broker's answer: libmosquitto asks for
	 * "writable" all through the handshake (the CONNECT waits queued
	 * behind it), and a connected socket always is, so poll() would return
	 * at once, pass after pass: a device spinning a core until its
	 * handshake ends, a thousand of them starving the broker that should
	 * end it. Once TCP is up the handshake moves on what the broker sends
	 * (POLLIN); its own writes go out from the service call that reads,
	 * and the wait's one-second service tick covers a full send buffer.
	 */
	if (*want_write && session_tls && !session_answered && tcp_established(fd))
		*want_write = false;
	return fd;
}

uint64_t posix__mqtt_next_event_us(void)
{
	if (!out_head || !mosq || !connected || !link_up())
		return UINT64_MAX;
	return out_head->due_us;
}

void posix_mqtt_teardown(void)
{
	drop_session();
	destroy_abandoned();
	if (lib_ready) {
		mosquitto_lib_cleanup();
		lib_ready = false;
	}
}
