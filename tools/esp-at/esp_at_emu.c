/*
 * robofleet-esp-at: an ESP-AT WiFi module on the host. It speaks the AT
 * subset of Espressif's ESP-AT firmware (basic, WiFi station and MQTT
 * commands, v2.2 syntax) on a TCP socket, which a serial port emulator
 * (QEMU's -serial tcp:, socat, a test) connects to, and carries the MQTT
 * commands to a real broker with libmosquitto.
 *
 * MQTT over TLS: AT+MQTTUSERCFG's scheme picks TCP (1) or TLS without
 * verification (2), verifying the broker (3), with a client certificate
 * (4), or both (5), as ESP-AT does, from the certificates "flashed" into
 * the module's mqtt_ca, mqtt_cert and mqtt_key partitions (--ca, --cert,
 * --key). A scheme that needs a partition the module does not hold is an
 * ERROR; a connection that fails, TLS handshake included, is
 * +MQTTDISCONNECTED:0 then ERROR.
 *
 * HTTP: AT+HTTPCLIENT, AT+HTTPCGET, AT+HTTPCPOST, AT+HTTPCPUT, AT+HTTPCHEAD
 * and AT+SYSLOG (error codes), each request done on the host with libcurl
 * to the URL given (at_http.c).
 *
 * Faults on demand, for tests: SIGUSR1 drops the broker connection without
 * DISCONNECT (the broker then publishes the will) and reports
 * +MQTTDISCONNECTED:0; SIGUSR2 reboots the module (`ready`, state lost).
 */
#include <errno.h>
#include <getopt.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "at_http.h"
#include "emu.h"
#include "http_client.h"

#define RAW_MAX 8192
#define VERSION "robofleet-esp-at 0.1.0 (ESP-AT 2.2.0.0 subset)"
#define SCHEME_TLS_MAX 5          /* 6-10 are WebSocket: not emulated */
/* libmosquitto turns TLS on only with a trust store; the schemes that do
 * not verify the broker never consult it. */
#define UNUSED_TRUST_STORE "/etc/ssl/certs"

enum pending { P_NONE, P_CONNACK, P_PUBACK, P_SUBACK };

static volatile sig_atomic_t drop_requested, reset_requested, stop_requested;

static struct {
	const char *broker_host;  /* override what AT+MQTTCONN names */
	int broker_port;
	/* The certificate partitions, as flashed in manufacturing (NULL: empty). */
	const char *part_ca, *part_cert, *part_key;
	bool verbose;
	int client;               /* the serial side, -1 when nobody is attached */
	bool echo;
	bool joined;
	char ssid[ARG_BYTES];

	char line[LINE_MAX_BYTES];
	size_t line_len;
	bool raw;                 /* reading AT+MQTTPUBRAW data, or an HTTP command's */
	bool raw_http;            /* ... for at_http_data() */
	size_t raw_want, raw_got;
	char raw_buf[RAW_MAX];
	char raw_topic[ARG_BYTES];
	int raw_qos;
	bool raw_retain;

	struct mosquitto *mosq;
	bool connected;
	int scheme;               /* AT+MQTTUSERCFG's; 0: not configured */
	char client_id[ARG_BYTES], user[ARG_BYTES], pass[ARG_BYTES];
	int keepalive;
	bool clean;
	char lwt_topic[ARG_BYTES], lwt_msg[ARG_BYTES];
	int lwt_qos;
	bool lwt_retain;
	char conn_host[ARG_BYTES];
	int conn_port;

	enum pending pending;
	int pending_mid;
	char subs[16][ARG_BYTES];
	int n_subs;
} m = { .client = -1, .echo = true };

void emu_log(const char *fmt, ...)
{
	va_list ap;

	if (!m.verbose)
		return;
	va_start(ap, fmt);
	fputs("esp-at: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void emu_out(const void *buf, size_t len)
{
	const char *p = buf;

	while (m.client >= 0 && len) {
		ssize_t n = send(m.client, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

void emu_outs(const char *s)
{
	emu_out(s, strlen(s));
}

void emu_outf(const char *fmt, ...)
{
	char buf[LINE_MAX_BYTES];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		emu_out(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ---- MQTT side ------------------------------------------------------------ */

static void mqtt_close(bool clean)
{
	if (!m.mosq)
		return;
	if (clean && m.connected)
		mosquitto_disconnect(m.mosq);
	mosquitto_destroy(m.mosq);
	m.mosq = NULL;
	m.connected = false;
	m.n_subs = 0;
	m.pending = P_NONE;
}

static void on_connect(struct mosquitto *mq, void *ud, int rc)
{
	(void)mq;
	(void)ud;
	if (m.pending != P_CONNACK)
		return;
	m.pending = P_NONE;
	if (rc == 0) {
		m.connected = true;
		emu_log("connected to %s:%d as %s (scheme %d)", m.conn_host, m.conn_port, m.client_id,
		      m.scheme);
		emu_outf("+MQTTCONNECTED:0,%d,\"%s\",\"%d\",\"\",0\r\n\r\nOK\r\n", m.scheme, m.conn_host,
		     m.conn_port);
	} else {
		emu_log("broker refused: %s", mosquitto_connack_string(rc));
		emu_outs("+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n");
	}
}

static void on_disconnect(struct mosquitto *mq, void *ud, int rc)
{
	(void)mq;
	(void)ud;
	emu_log("broker connection closed (%d)", rc);
	if (m.pending == P_CONNACK) {
		/* A connect that failed (a TLS handshake refused by either side):
		 * ESP-AT reports the session's end, then AT+MQTTCONN's ERROR. */
		m.pending = P_NONE;
		m.connected = false;
		emu_outs("+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n");
		return;
	}
	if (m.pending == P_PUBACK)
		emu_outs("\r\n+MQTTPUB:FAIL\r\n");
	else if (m.pending == P_SUBACK)
		emu_outs("\r\nERROR\r\n");
	m.pending = P_NONE;
	if (m.connected || rc != 0)
		emu_outs("+MQTTDISCONNECTED:0\r\n");
	m.connected = false;
}

static void on_publish(struct mosquitto *mq, void *ud, int mid)
{
	(void)mq;
	(void)ud;
	if (m.pending == P_PUBACK && mid == m.pending_mid) {
		m.pending = P_NONE;
		emu_outs("\r\n+MQTTPUB:OK\r\n");
	}
}

static void on_subscribe(struct mosquitto *mq, void *ud, int mid, int n, const int *granted)
{
	(void)mq;
	(void)ud;
	(void)n;
	(void)granted;
	if (m.pending == P_SUBACK && mid == m.pending_mid) {
		m.pending = P_NONE;
		emu_outs("\r\nOK\r\n");
	}
}

static void on_message(struct mosquitto *mq, void *ud, const struct mosquitto_message *msg)
{
	(void)mq;
	(void)ud;
	emu_outf("+MQTTSUBRECV:0,\"%s\",%d,", msg->topic, msg->payloadlen);
	emu_out(msg->payload, (size_t)msg->payloadlen);
	emu_outs("\r\n");
}

/* libmosquitto's own account of a failure (OpenSSL's alerts), for -v. */
static void on_log(struct mosquitto *mq, void *ud, int level, const char *text)
{
	(void)mq;
	(void)ud;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		emu_log("libmosquitto: %s", text);
}

/* TLS as the scheme says, with the module's partitions. */
static int tls_setup(void)
{
	bool verify = m.scheme == 3 || m.scheme == 5;
	bool client_cert = m.scheme == 4 || m.scheme == 5;
	int rc;

	rc = mosquitto_tls_set(m.mosq, verify ? m.part_ca : NULL, verify ? NULL : UNUSED_TRUST_STORE,
			       client_cert ? m.part_cert : NULL, client_cert ? m.part_key : NULL,
			       NULL);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_tls_opts_set(m.mosq, verify ? 1 : 0, NULL, NULL);
	if (rc == MOSQ_ERR_SUCCESS && !verify)
		rc = mosquitto_tls_insecure_set(m.mosq, true);
	return rc;
}

static void mqtt_connect(void)
{
	const char *host = m.broker_host ? m.broker_host : m.conn_host;
	int port = m.broker_host ? m.broker_port : m.conn_port;
	int rc;

	mqtt_close(false);
	m.mosq = mosquitto_new(m.client_id[0] ? m.client_id : NULL, m.clean || !m.client_id[0], NULL);
	if (!m.mosq) {
		emu_outs("\r\nERROR\r\n");
		return;
	}
	mosquitto_connect_callback_set(m.mosq, on_connect);
	mosquitto_disconnect_callback_set(m.mosq, on_disconnect);
	mosquitto_publish_callback_set(m.mosq, on_publish);
	mosquitto_subscribe_callback_set(m.mosq, on_subscribe);
	mosquitto_message_callback_set(m.mosq, on_message);
	mosquitto_log_callback_set(m.mosq, on_log);
	if (m.scheme > 1 && (rc = tls_setup()) != MOSQ_ERR_SUCCESS) {
		emu_log("TLS set-up: %s", mosquitto_strerror(rc));
		mqtt_close(false);
		emu_outs("\r\nERROR\r\n");
		return;
	}
	if (m.user[0])
		mosquitto_username_pw_set(m.mosq, m.user, m.pass[0] ? m.pass : NULL);
	if (m.lwt_topic[0])
		mosquitto_will_set(m.mosq, m.lwt_topic, (int)strlen(m.lwt_msg), m.lwt_msg, m.lwt_qos,
				   m.lwt_retain);
	rc = mosquitto_connect(m.mosq, host, port, m.keepalive > 0 ? m.keepalive : 120);
	if (rc != MOSQ_ERR_SUCCESS) {
		emu_log("connect %s:%d: %s", host, port, mosquitto_strerror(rc));
		mqtt_close(false);
		emu_outs("+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n");
		return;
	}
	m.pending = P_CONNACK;
}

static void publish(const char *topic, const void *data, size_t len, int qos, bool retain,
		    bool raw)
{
	int mid = 0;
	int rc;

	if (!m.connected) {
		emu_outs(raw ? "\r\n+MQTTPUB:FAIL\r\n" : "\r\nERROR\r\n");
		return;
	}
	rc = mosquitto_publish(m.mosq, &mid, topic, (int)len, data, qos, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		emu_outs(raw ? "\r\n+MQTTPUB:FAIL\r\n" : "\r\nERROR\r\n");
		return;
	}
	if (qos == 0) {
		emu_outs(raw ? "\r\n+MQTTPUB:OK\r\n" : "\r\nOK\r\n");
		return;
	}
	/* like ESP-AT: the result waits for the broker's acknowledgement */
	m.pending = P_PUBACK;
	m.pending_mid = mid;
	(void)raw; /* both forms answer +MQTTPUB:OK here; AT+MQTTPUB's OK came first */
}

/* ---- AT side --------------------------------------------------------------- */

/* Split `a,"b\"c",3` into arguments; quoted ones lose quotes and escapes. */
static int split_args(const char *s, char args[ARGS_MAX][ARG_BYTES])
{
	int n = 0;

	while (*s && n < ARGS_MAX) {
		size_t o = 0;

		if (*s == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && s[1])
					s++;
				if (o < ARG_BYTES - 1)
					args[n][o++] = *s;
				s++;
			}
			if (*s != '"')
				return -1;
			s++;
		} else {
			while (*s && *s != ',') {
				if (o < ARG_BYTES - 1)
					args[n][o++] = *s;
				s++;
			}
		}
		args[n++][o] = '\0';
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return n;
}

static void cmd_ok(void)
{
	emu_outs("\r\nOK\r\n");
}

static void cmd_error(void)
{
	emu_outs("\r\nERROR\r\n");
}

static void module_reset(void)
{
	mqtt_close(false); /* power gone: no DISCONNECT, the will fires */
	m.joined = false;
	m.scheme = 0;
	m.echo = true;
	m.raw = false;
	m.line_len = 0;
	at_http_reset();
	emu_outs("\r\nets Jan  8 2013,rst cause:2, boot mode:(3,7)\r\n\r\nready\r\n");
}

/*
 * Whether the module can take this AT+MQTTUSERCFG: a scheme it emulates,
 * certificate and CA ID 0 (the only ones ESP-AT has), and the partitions
 * the scheme reads.
 */
static bool usercfg_scheme_ok(int scheme, const char *cert_key_id, const char *ca_id)
{
	bool verify = scheme == 3 || scheme == 5;
	bool client_cert = scheme == 4 || scheme == 5;

	if (scheme < 1 || scheme > SCHEME_TLS_MAX) {
		emu_log("scheme %d: not emulated (1 TCP, 2-5 TLS)", scheme);
		return false;
	}
	if (strcmp(cert_key_id, "0") || strcmp(ca_id, "0")) {
		emu_log("certificate and CA ID must be 0");
		return false;
	}
	if (verify && !m.part_ca) {
		emu_log("scheme %d verifies the broker: no mqtt_ca in this module (--ca)", scheme);
		return false;
	}
	if (client_cert && (!m.part_cert || !m.part_key)) {
		emu_log("scheme %d presents a client certificate: no mqtt_cert/mqtt_key in this "
		      "module (--cert, --key)", scheme);
		return false;
	}
	return true;
}

static void handle(const char *l)
{
	char a[ARGS_MAX][ARG_BYTES];
	const char *eq = strchr(l, '=');
	int n = eq ? split_args(eq + 1, a) : 0;
	size_t want = 0;

	if (m.echo) {
		emu_outs(l);
		emu_outs("\r\r\n");
	}
	emu_log("<- %s", l);
	if (m.pending != P_NONE) {
		emu_outs("busy p...\r\n"); /* the module is still on the last command */
		return;
	}
	if (n < 0) {
		cmd_error();
	} else if (!strcmp(l, "AT")) {
		cmd_ok();
	} else if (!strcmp(l, "ATE0") || !strcmp(l, "ATE1")) {
		m.echo = l[3] == '1';
		cmd_ok();
	} else if (!strcmp(l, "AT+RST")) {
		cmd_ok();
		module_reset();
	} else if (!strcmp(l, "AT+GMR")) {
		emu_outs("AT version:2.2.0.0(robofleet-esp-at)\r\nSDK version:host\r\ncompile time:" __DATE__
		     "\r\nBin version:2.2.0(emulated)\r\n");
		cmd_ok();
	} else if (!strncmp(l, "AT+CWMODE=", 10)) {
		cmd_ok();
	} else if (!strcmp(l, "AT+CWJAP?")) {
		if (m.joined)
			emu_outf("+CWJAP:\"%s\",\"02:00:00:00:00:01\",6,-55,0,1,3,0,1\r\n", m.ssid);
		else
			emu_outs("No AP\r\n");
		cmd_ok();
	} else if (!strncmp(l, "AT+CWJAP=", 9) && n >= 1) {
		snprintf(m.ssid, sizeof(m.ssid), "%s", a[0]);
		m.joined = true;
		emu_outs("WIFI CONNECTED\r\nWIFI GOT IP\r\n");
		cmd_ok();
	} else if (!strcmp(l, "AT+CWQAP")) {
		mqtt_close(false);
		m.joined = false;
		cmd_ok();
		emu_outs("WIFI DISCONNECT\r\n");
	} else if (!strncmp(l, "AT+MQTTUSERCFG=", 15) && n == 8) {
		if (!usercfg_scheme_ok(atoi(a[1]), a[5], a[6])) {
			cmd_error();
			return;
		}
		m.scheme = atoi(a[1]);
		snprintf(m.client_id, sizeof(m.client_id), "%s", a[2]);
		snprintf(m.user, sizeof(m.user), "%s", a[3]);
		snprintf(m.pass, sizeof(m.pass), "%s", a[4]);
		cmd_ok();
	} else if (!strncmp(l, "AT+MQTTCONNCFG=", 15) && n == 7) {
		m.keepalive = atoi(a[1]);
		m.clean = atoi(a[2]) == 0;
		snprintf(m.lwt_topic, sizeof(m.lwt_topic), "%s", a[3]);
		snprintf(m.lwt_msg, sizeof(m.lwt_msg), "%s", a[4]);
		m.lwt_qos = atoi(a[5]);
		m.lwt_retain = atoi(a[6]) != 0;
		cmd_ok();
	} else if (!strncmp(l, "AT+MQTTCONN=", 12) && n >= 3) {
		if (!m.joined || m.connected || !m.scheme) {
			cmd_error();
			return;
		}
		snprintf(m.conn_host, sizeof(m.conn_host), "%s", a[1]);
		m.conn_port = atoi(a[2]);
		mqtt_connect();
	} else if (!strcmp(l, "AT+MQTTCONN?")) {
		emu_outf("+MQTTCONN:0,%d,%d,\"%s\",\"%d\",\"\",0\r\n", m.connected ? 4 : m.scheme ? 1 : 0,
		     m.scheme, m.conn_host, m.conn_port);
		cmd_ok();
	} else if (!strncmp(l, "AT+MQTTPUB=", 11) && n == 5) {
		int qos = atoi(a[3]);

		if (!m.connected) {
			cmd_error();
			return;
		}
		if (qos == 0) {
			publish(a[1], a[2], strlen(a[2]), 0, atoi(a[4]) != 0, false);
		} else {
			int mid;

			if (mosquitto_publish(m.mosq, &mid, a[1], (int)strlen(a[2]), a[2], qos,
					      atoi(a[4]) != 0) != MOSQ_ERR_SUCCESS) {
				cmd_error();
				return;
			}
			m.pending = P_PUBACK;
			m.pending_mid = mid;
			emu_outs("\r\nOK\r\n");
		}
	} else if (!strncmp(l, "AT+MQTTPUBRAW=", 14) && n == 5) {
		long len = atol(a[2]);

		if (!m.connected || len < 0 || len > RAW_MAX) {
			cmd_error();
			return;
		}
		snprintf(m.raw_topic, sizeof(m.raw_topic), "%s", a[1]);
		m.raw_want = (size_t)len;
		m.raw_got = 0;
		m.raw_qos = atoi(a[3]);
		m.raw_retain = atoi(a[4]) != 0;
		m.raw = true;
		m.raw_http = false;
		emu_outs("\r\nOK\r\n\r\n>");
		if (len == 0) {
			m.raw = false;
			publish(m.raw_topic, "", 0, m.raw_qos, m.raw_retain, true);
		}
	} else if (!strncmp(l, "AT+MQTTSUB=", 11) && n == 3) {
		int mid;

		if (!m.connected) {
			cmd_error();
			return;
		}
		for (int i = 0; i < m.n_subs; i++)
			if (!strcmp(m.subs[i], a[1])) {
				emu_outs("\r\nALREADY SUBSCRIBE\r\n");
				return;
			}
		if (mosquitto_subscribe(m.mosq, &mid, a[1], atoi(a[2])) != MOSQ_ERR_SUCCESS) {
			cmd_error();
			return;
		}
		if (m.n_subs < 16)
			snprintf(m.subs[m.n_subs++], ARG_BYTES, "%s", a[1]);
		m.pending = P_SUBACK;
		m.pending_mid = mid;
	} else if (!strncmp(l, "AT+MQTTUNSUB=", 13) && n == 2) {
		if (!m.connected) {
			cmd_error();
			return;
		}
		mosquitto_unsubscribe(m.mosq, NULL, a[1]);
		cmd_ok();
	} else if (!strncmp(l, "AT+MQTTCLEAN=", 13)) {
		m.scheme = 0; /* everything released: AT+MQTTUSERCFG again */
		if (!m.mosq) {
			cmd_error();
			return;
		}
		mqtt_close(true);
		cmd_ok();
	} else if (!strncmp(l, "AT+HTTPC", 8) && !m.joined) {
		emu_log("%.16s: no WiFi", l);
		cmd_error();
	} else if (at_http_handle(l, a, n, &want)) {
		if (want) {
			m.raw = true;
			m.raw_http = true;
			m.raw_want = want;
			m.raw_got = 0;
		}
	} else {
		cmd_error();
	}
}

static void serial_input(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (m.raw) {
			m.raw_buf[m.raw_got++] = c;
			if (m.raw_got == m.raw_want && m.raw_http) {
				m.raw = false;
				at_http_data(m.raw_buf, m.raw_want);
			} else if (m.raw_got == m.raw_want) {
				m.raw = false;
				publish(m.raw_topic, m.raw_buf, m.raw_want, m.raw_qos, m.raw_retain, true);
			}
			continue;
		}
		if (c == '\n') {
			if (m.line_len && m.line[m.line_len - 1] == '\r')
				m.line_len--;
			m.line[m.line_len] = '\0';
			if (m.line_len)
				handle(m.line);
			m.line_len = 0;
		} else if (m.line_len < sizeof(m.line) - 1) {
			m.line[m.line_len++] = c;
		}
	}
}

/* ---- main loop ---------------------------------------------------------- */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		drop_requested = 1;
	else if (sig == SIGUSR2)
		reset_requested = 1;
	else
		stop_requested = 1;
}

static void usage(FILE *f)
{
	fputs("usage: robofleet-esp-at [--listen [ADDR:]PORT] [--broker HOST:PORT] [--port-file FILE]\n"
	      "                        [--ca FILE] [--cert FILE --key FILE] [-v]\n"
	      "\n"
	      "An ESP-AT WiFi module on the host: the AT subset of Espressif's ESP-AT\n"
	      "(AT, ATE0/1, AT+RST, AT+GMR, AT+CWMODE, AT+CWJAP, AT+CWQAP, AT+MQTTUSERCFG,\n"
	      "AT+MQTTCONNCFG, AT+MQTTCONN, AT+MQTTPUB, AT+MQTTPUBRAW, AT+MQTTSUB,\n"
	      "AT+MQTTUNSUB, AT+MQTTCLEAN; AT+SYSLOG, AT+HTTPCLIENT, AT+HTTPCGET,\n"
	      "AT+HTTPCPOST, AT+HTTPCPUT, AT+HTTPCHEAD) on a TCP socket, bridged to an\n"
	      "MQTT broker (HTTP requests go from the host to the URL given),\n"
	      "over TCP or TLS as AT+MQTTUSERCFG's scheme says (1 TCP; TLS: 2 unverified,\n"
	      "3 verifying the broker, 4 with a client certificate, 5 both).\n"
	      "\n"
	      "  --listen [ADDR:]PORT  serial side (default 127.0.0.1:0, a free port)\n"
	      "  --broker HOST:PORT    connect here whatever AT+MQTTCONN names\n"
	      "  --port-file FILE      write the listening port to FILE once ready\n"
	      "  --ca FILE             the module's mqtt_ca partition: the CA (PEM) that\n"
	      "                        schemes 3 and 5 verify the broker with\n"
	      "  --cert FILE, --key FILE\n"
	      "                        its mqtt_cert and mqtt_key partitions: the client\n"
	      "                        certificate and key (PEM) of schemes 4 and 5\n"
	      "  -v, --verbose         log the AT traffic to stderr\n"
	      "\n"
	      "SIGUSR1 drops the broker connection without DISCONNECT (the will fires);\n"
	      "SIGUSR2 reboots the module. SIGTERM/SIGINT exit.\n", f);
}

static int listen_on(const char *spec, int *port_out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(spec, ':');
	char addr[64] = "127.0.0.1";
	socklen_t sl = sizeof(sa);
	int fd, one = 1;

	if (colon) {
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - spec), spec);
		spec = colon + 1;
	}
	sa.sin_port = htons((uint16_t)atoi(spec));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port_out = ntohs(sa.sin_port);
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "broker", required_argument, NULL, 'b' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_spec = "127.0.0.1:0", *port_file = NULL;
	static char broker_host[256];
	struct sigaction sa;
	int lfd, port, c;

	while ((c = getopt_long(argc, argv, "l:b:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'b': {
			const char *colon = strrchr(optarg, ':');

			if (!colon || colon == optarg) {
				fprintf(stderr, "robofleet-esp-at: --broker wants HOST:PORT\n");
				return 2;
			}
			snprintf(broker_host, sizeof(broker_host), "%.*s", (int)(colon - optarg), optarg);
			m.broker_host = broker_host;
			m.broker_port = atoi(colon + 1);
			break;
		}
		case 'p':
			port_file = optarg;
			break;
		case 'A':
		case 'C':
		case 'K':
			/* A partition that cannot be read is a test set-up error,
			 * not something to find out at the first connect. */
			if (access(optarg, R_OK) != 0) {
				fprintf(stderr, "robofleet-esp-at: --%s %s: %s\n",
					c == 'A' ? "ca" : c == 'C' ? "cert" : "key", optarg,
					strerror(errno));
				return 2;
			}
			*(c == 'A' ? &m.part_ca : c == 'C' ? &m.part_cert : &m.part_key) = optarg;
			break;
		case 'v':
			m.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!m.part_cert != !m.part_key) {
		fprintf(stderr, "robofleet-esp-at: --cert and --key go together\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	mosquitto_lib_init();
	if (http_client_init() < 0) {
		fprintf(stderr, "robofleet-esp-at: libcurl did not initialise\n");
		return 1;
	}
	lfd = listen_on(listen_spec, &port);
	if (lfd < 0) {
		fprintf(stderr, "robofleet-esp-at: cannot listen on %s: %s\n", listen_spec, strerror(errno));
		return 1;
	}
	fprintf(stderr, "robofleet-esp-at: listening on port %d\n", port);
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
			fprintf(stderr, "robofleet-esp-at: cannot write %s\n", port_file);
			return 1;
		}
	}
	while (!stop_requested) {
		struct pollfd pf[2];
		int nf = 0, sock = m.mosq ? mosquitto_socket(m.mosq) : -1;

		if (drop_requested) {
			drop_requested = 0;
			if (sock >= 0) {
				emu_log("dropping the broker connection (SIGUSR1)");
				shutdown(sock, SHUT_RDWR); /* no DISCONNECT: the broker sends the will */
			}
		}
		if (reset_requested) {
			reset_requested = 0;
			emu_log("module reset (SIGUSR2)");
			module_reset();
		}
		pf[nf].fd = m.client >= 0 ? m.client : lfd;
		pf[nf++].events = POLLIN;
		if (sock >= 0) {
			pf[nf].fd = sock;
			pf[nf++].events = (short)(POLLIN | (mosquitto_want_write(m.mosq) ? POLLOUT : 0));
		}
		if (poll(pf, (nfds_t)nf, 100) < 0 && errno != EINTR)
			break;
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (m.client < 0) {
				m.client = accept(lfd, NULL, NULL);
				if (m.client >= 0) {
					emu_log("serial attached");
					m.echo = true;
					emu_outs("\r\nready\r\n");
				}
			} else {
				char buf[1024];
				ssize_t n = recv(m.client, buf, sizeof(buf), 0);

				if (n > 0) {
					serial_input(buf, (size_t)n);
				} else if (n == 0 || errno != EINTR) {
					emu_log("serial detached: the module loses power");
					close(m.client);
					m.client = -1;
					mqtt_close(false);
					m.joined = false;
					m.scheme = 0;
					m.raw = false;
					m.line_len = 0;
					at_http_reset();
				}
			}
		}
		if (m.mosq) {
			int rc = MOSQ_ERR_SUCCESS;

			if (nf > 1 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
				rc = mosquitto_loop_read(m.mosq, 1);
			if (m.mosq && rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m.mosq))
				rc = mosquitto_loop_write(m.mosq, 1);
			if (m.mosq && rc == MOSQ_ERR_SUCCESS)
				rc = mosquitto_loop_misc(m.mosq);
			if (m.mosq && rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
				/* the connection is gone; mosquitto has called on_disconnect */
				if (m.connected || m.pending != P_NONE)
					on_disconnect(m.mosq, NULL, rc);
				mqtt_close(false);
			}
		}
	}
	mqtt_close(true);
	mosquitto_lib_cleanup();
	http_client_cleanup();
	return 0;
}
