/* ESP-AT driver core: parse the module's lines, run one command at a time. */
#include <errno.h>
#include <string.h>

#include "esp_at.h"
#include "esp_at_internal.h"

static const char subrecv[] = "+MQTTSUBRECV:";
static const char httpclient[] = "+HTTPCLIENT:";
static const char httpcpost[] = "+HTTPCPOST:";

bool esp_at_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

int esp_at_escape(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		bool esc = s[i] == '"' || s[i] == ',' || s[i] == '\\';

		if (o + (esc ? 2u : 1u) >= cap)
			return -EMSGSIZE;
		if (esc)
			out[o++] = '\\';
		out[o++] = s[i];
	}
	if (cap == 0)
		return -EMSGSIZE;
	out[o] = '\0';
	return (int)o;
}

void esp_at_b_raw(struct esp_at_builder *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n >= b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void esp_at_b_quoted(struct esp_at_builder *b, const char *s, size_t n)
{
	int w;

	esp_at_b_raw(b, "\"");
	if (b->overflow)
		return;
	w = esp_at_escape(s, n, b->buf + b->len, b->cap - b->len);
	if (w < 0) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)w;
	esp_at_b_raw(b, "\"");
}

void esp_at_b_uint(struct esp_at_builder *b, unsigned long v)
{
	char tmp[12];
	int i = (int)sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	esp_at_b_raw(b, tmp + i);
}

/* ---- sessions ending ----------------------------------------------------- */

/* Forget queued work; a PUBRAW in flight keeps its slot until it completes,
 * because the module may still ask for its bytes. */
static void flush_queues(struct esp_at *at)
{
	at->n_pub = at->cmd == ESP_CMD_PUBRAW && at->n_pub ? 1 : 0;
	at->n_sub = 0;
}

static void session_lost(struct esp_at *at)
{
	if (at->mqtt == ESP_MQTT_IDLE)
		return;
	at->mqtt = ESP_MQTT_IDLE;
	flush_queues(at);
	if (at->cb && at->cb->on_disconnect)
		at->cb->on_disconnect(at->cb_ctx, false);
}

/* The module rebooted or stopped answering: start over with `AT`. */
static void resync(struct esp_at *at, uint64_t now_us)
{
	at->cmd = ESP_CMD_NONE;
	at->await_prompt = false;
	at->pub_sent = false;
	at->cmd_resend = false;
	at->in_payload = false;
	at->payload_http = false;
	at->synced = false;
	at->sync_step = 0;
	at->retry_at_us = now_us;
	at->want_join = false;
	at->want_rssi = false;
	at->want_clean = false;
	at->has_rssi = false;
	at->link = HAL_LINK_DOWN;
	at->stats.resyncs++;
	esp_at_http_module_lost(at);
	session_lost(at);
	at->n_pub = 0;
}

/* ---- commands -------------------------------------------------------------- */

static void send_cmd(struct esp_at *at)
{
	at->ops.write(at->ops.ctx, at->cmd_buf, at->cmd_len);
}

static void finish(struct esp_at *at, enum esp_at_result res, uint64_t now_us);

/* Send the command built in cmd_buf (without CR LF) as @cmd. */
void esp_at_issue(struct esp_at *at, enum esp_at_cmd cmd, struct esp_at_builder *b,
		  uint64_t timeout_us, uint64_t now_us)
{
	at->cmd = cmd;
	at->busy_count = 0;
	at->cmd_resend = false;
	at->await_prompt = false;
	at->pub_sent = false;
	at->cmd_deadline_us = now_us + timeout_us;
	esp_at_b_raw(b, "\r\n");
	if (b->overflow) {
		/* Too long for the module: it would refuse it anyway. */
		at->cmd_len = 0;
		finish(at, RES_ERROR, now_us);
		return;
	}
	at->cmd_len = (uint16_t)b->len;
	send_cmd(at);
}

static void issue_simple(struct esp_at *at, enum esp_at_cmd cmd, const char *text,
			 uint64_t now_us)
{
	struct esp_at_builder b = { at->cmd_buf, sizeof(at->cmd_buf), 0, false };

	esp_at_b_raw(&b, text);
	esp_at_issue(at, cmd, &b, ESP_AT_TIMEOUT_US, now_us);
}

static void issue_join(struct esp_at *at, uint64_t now_us)
{
	struct esp_at_builder b = { at->cmd_buf, sizeof(at->cmd_buf), 0, false };

	esp_at_b_raw(&b, "AT+CWJAP=");
	esp_at_b_quoted(&b, at->ssid, strlen(at->ssid));
	esp_at_b_raw(&b, ",");
	esp_at_b_quoted(&b, at->wifi_pass, strlen(at->wifi_pass));
	esp_at_issue(at, ESP_CMD_JOIN, &b, ESP_AT_JOIN_TIMEOUT_US, now_us);
}

static void issue_conn_step(struct esp_at *at, uint64_t now_us)
{
	struct esp_at_builder b = { at->cmd_buf, sizeof(at->cmd_buf), 0, false };

	switch (at->conn_step) {
	case 0:
		issue_simple(at, ESP_CMD_CLEAN, "AT+MQTTCLEAN=0", now_us);
		return;
	case 1:
		/* certificate and CA ID 0 (the only ones ESP-AT has), no path */
		esp_at_b_raw(&b, "AT+MQTTUSERCFG=0,");
		esp_at_b_uint(&b, at->scheme);
		esp_at_b_raw(&b, ",");
		esp_at_b_quoted(&b, at->client_id, strlen(at->client_id));
		esp_at_b_raw(&b, ",");
		esp_at_b_quoted(&b, at->user, strlen(at->user));
		esp_at_b_raw(&b, ",");
		esp_at_b_quoted(&b, at->pass, strlen(at->pass));
		esp_at_b_raw(&b, ",0,0,\"\"");
		esp_at_issue(at, ESP_CMD_USERCFG, &b, ESP_AT_TIMEOUT_US, now_us);
		return;
	case 2:
		esp_at_b_raw(&b, "AT+MQTTCONNCFG=0,");
		esp_at_b_uint(&b, at->keepalive_s);
		esp_at_b_raw(&b, at->clean_session ? ",0," : ",1,");
		esp_at_b_quoted(&b, at->will_topic, strlen(at->will_topic));
		esp_at_b_raw(&b, ",");
		esp_at_b_quoted(&b, at->will_msg, strlen(at->will_msg));
		esp_at_b_raw(&b, ",");
		esp_at_b_uint(&b, at->will_qos);
		esp_at_b_raw(&b, at->will_retain ? ",1" : ",0");
		esp_at_issue(at, ESP_CMD_CONNCFG, &b, ESP_AT_TIMEOUT_US, now_us);
		return;
	default:
		/* reconnect 0: the robot decides when to reconnect, not the module */
		esp_at_b_raw(&b, "AT+MQTTCONN=0,");
		esp_at_b_quoted(&b, at->host, strlen(at->host));
		esp_at_b_raw(&b, ",");
		esp_at_b_uint(&b, at->port);
		esp_at_b_raw(&b, ",0");
		esp_at_issue(at, ESP_CMD_CONN, &b, ESP_AT_CONN_TIMEOUT_US, now_us);
		return;
	}
}

static void issue_sub(struct esp_at *at, uint64_t now_us)
{
	struct esp_at_builder b = { at->cmd_buf, sizeof(at->cmd_buf), 0, false };

	esp_at_b_raw(&b, "AT+MQTTSUB=0,");
	esp_at_b_quoted(&b, at->sub_topic[0], strlen(at->sub_topic[0]));
	esp_at_b_raw(&b, ",");
	esp_at_b_uint(&b, at->sub_qos[0]);
	esp_at_issue(at, ESP_CMD_SUB, &b, ESP_AT_TIMEOUT_US, now_us);
}

static void issue_pub(struct esp_at *at, uint64_t now_us)
{
	struct esp_at_builder b = { at->cmd_buf, sizeof(at->cmd_buf), 0, false };
	const struct esp_at_pub *p = &at->pub[at->pub_head];

	esp_at_b_raw(&b, "AT+MQTTPUBRAW=0,");
	esp_at_b_quoted(&b, p->topic, strlen(p->topic));
	esp_at_b_raw(&b, ",");
	esp_at_b_uint(&b, p->len);
	esp_at_b_raw(&b, ",");
	esp_at_b_uint(&b, p->qos);
	esp_at_b_raw(&b, p->retain ? ",1" : ",0");
	esp_at_issue(at, ESP_CMD_PUBRAW, &b, ESP_AT_TIMEOUT_US, now_us);
}

static void pop_sub(struct esp_at *at)
{
	if (at->n_sub == 0)
		return;
	for (unsigned int i = 1; i < at->n_sub; i++) {
		memcpy(at->sub_topic[i - 1], at->sub_topic[i], sizeof(at->sub_topic[0]));
		at->sub_qos[i - 1] = at->sub_qos[i];
	}
	at->n_sub--;
}

static void pop_pub(struct esp_at *at)
{
	if (at->n_pub == 0)
		return;
	at->pub_head = (uint8_t)((at->pub_head + 1) % ESP_AT_PUB_SLOTS);
	at->n_pub--;
}

/* Which connect step the module refused, for whoever explains it. */
static void note_conn_fail(struct esp_at *at, enum esp_at_cmd step)
{
	at->conn_fail = step;
	at->stats.conn_failed++;
}

/* The session is gone; @step: the connect step the module refused, if any. */
static void conn_failed(struct esp_at *at, enum esp_at_cmd step)
{
	if (step != ESP_CMD_NONE)
		note_conn_fail(at, step);
	session_lost(at);
	at->want_clean = true;
}

static void finish_pub(struct esp_at *at, enum esp_at_result res)
{
	struct esp_at_pub *p = &at->pub[at->pub_head];

	if (at->n_pub == 0)
		return;
	if (at->mqtt != ESP_MQTT_CONNECTED) {
		pop_pub(at); /* the session it belonged to is gone */
		return;
	}
	if (res == RES_PUB_OK) {
		uint16_t id = p->msg_id;
		bool acked = p->qos > 0;

		pop_pub(at);
		if (acked && at->cb && at->cb->on_publish)
			at->cb->on_publish(at->cb_ctx, id);
		return;
	}
	at->stats.pub_failed++;
	if (++p->tries < ESP_AT_PUB_TRIES)
		return; /* the next poll sends it again */
	/* A module that cannot publish has no working session. */
	pop_pub(at);
	conn_failed(at, ESP_CMD_NONE);
}

static void finish(struct esp_at *at, enum esp_at_result res, uint64_t now_us)
{
	enum esp_at_cmd cmd = at->cmd;

	bool prompted = cmd == ESP_CMD_PUBRAW || cmd == ESP_CMD_HTTPCPOST;

	if (prompted && res == RES_OK && !at->pub_sent) {
		/* OK to the command line: now the module prompts with '>' */
		at->await_prompt = true;
		at->cmd_deadline_us = now_us + ESP_AT_TIMEOUT_US;
		return;
	}
	if (cmd == ESP_CMD_PUBRAW && res == RES_OK)
		return; /* the publish result is +MQTTPUB:OK / FAIL */
	at->cmd = ESP_CMD_NONE;
	at->await_prompt = false;
	at->cmd_resend = false;

	switch (cmd) {
	case ESP_CMD_NONE:
		break;
	case ESP_CMD_AT:
	case ESP_CMD_ECHO_OFF:
	case ESP_CMD_STATION:
		if (!at->synced)
			at->sync_step++;
		break;
	case ESP_CMD_CLEAN:
		if (!at->synced) {
			at->sync_step++;
			at->synced = true;
		} else if (at->mqtt == ESP_MQTT_CONNECTING && at->conn_step == 0) {
			at->conn_step = 1; /* ERROR here only means "no session" */
		}
		break;
	case ESP_CMD_JOIN:
		if (res == RES_OK) {
			at->link = HAL_LINK_UP;
			at->want_rssi = true;
		} else {
			at->link = HAL_LINK_DOWN;
		}
		break;
	case ESP_CMD_JOIN_QUERY:
		break;
	case ESP_CMD_USERCFG:
	case ESP_CMD_CONNCFG:
		if (at->mqtt != ESP_MQTT_CONNECTING)
			break;
		if (res == RES_OK)
			at->conn_step++;
		else
			conn_failed(at, cmd);
		break;
	case ESP_CMD_CONN:
		if (at->mqtt != ESP_MQTT_CONNECTING)
			break;
		if (res == RES_OK) {
			at->mqtt = ESP_MQTT_CONNECTED;
			if (at->cb && at->cb->on_connect)
				at->cb->on_connect(at->cb_ctx, 0);
		} else {
			conn_failed(at, cmd);
		}
		break;
	case ESP_CMD_SUB:
		pop_sub(at); /* OK, ALREADY SUBSCRIBE or ERROR: nothing to retry */
		break;
	case ESP_CMD_PUBRAW:
		finish_pub(at, res);
		break;
	case ESP_CMD_SYSLOG:
		break; /* ERROR: a firmware without it; failures map coarser */
	case ESP_CMD_HTTPCLIENT:
	case ESP_CMD_HTTPCPOST:
		esp_at_http_finish(at, res == RES_OK);
		break;
	}
}

static void on_prompt(struct esp_at *at, uint64_t now_us)
{
	const struct esp_at_pub *p = &at->pub[at->pub_head];

	at->await_prompt = false;
	at->pub_sent = true;
	if (at->cmd == ESP_CMD_HTTPCPOST) {
		/* the deadline set at the command covers the whole exchange */
		esp_at_http_on_prompt(at);
		return;
	}
	at->cmd_deadline_us = now_us + ESP_AT_PUB_TIMEOUT_US;
	at->ops.write(at->ops.ctx, p->payload, p->len);
}

static void on_busy(struct esp_at *at, uint64_t now_us)
{
	at->stats.busy++;
	/* The module dropped the command: send it again a little later. */
	if (at->cmd == ESP_CMD_NONE || at->pub_sent || at->await_prompt || at->cmd_len == 0)
		return;
	if (++at->busy_count > ESP_AT_BUSY_MAX) {
		resync(at, now_us);
		return;
	}
	at->cmd_resend = true;
	at->retry_at_us = now_us + ESP_AT_BUSY_RETRY_US;
	/* at least a plain command's time after the resend; an HTTP request
	 * keeps its longer one */
	if (at->cmd_deadline_us < at->retry_at_us + ESP_AT_TIMEOUT_US)
		at->cmd_deadline_us = at->retry_at_us + ESP_AT_TIMEOUT_US;
}

/* +CWJAP:"ssid","bssid",channel,rssi,... : the fourth field. */
static void parse_rssi(struct esp_at *at, const char *s)
{
	bool quoted = false;
	int commas = 0;
	int sign = 1, v = 0, digits = 0;

	for (; *s && commas < 3; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == ',' && !quoted)
			commas++;
	}
	if (commas < 3)
		return;
	if (*s == '-') {
		sign = -1;
		s++;
	}
	for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
		v = v * 10 + (*s - '0');
	if (digits) {
		at->rssi_dbm = sign * v;
		at->has_rssi = true;
	}
}

static void handle_line(struct esp_at *at, const char *l, uint64_t now_us)
{
	if (strcmp(l, "OK") == 0 || strcmp(l, "ALREADY SUBSCRIBE") == 0 ||
	    strcmp(l, "SEND OK") == 0)
		finish(at, RES_OK, now_us);
	else if (strcmp(l, "ERROR") == 0 || strcmp(l, "FAIL") == 0 ||
		 strcmp(l, "SEND FAIL") == 0)
		finish(at, RES_ERROR, now_us);
	else if (strcmp(l, "+MQTTPUB:OK") == 0)
		finish(at, RES_PUB_OK, now_us);
	else if (strcmp(l, "+MQTTPUB:FAIL") == 0)
		finish(at, RES_PUB_FAIL, now_us);
	else if (esp_at_starts(l, "busy "))
		on_busy(at, now_us);
	else if (strcmp(l, "ready") == 0) {
		at->stats.module_resets++;
		resync(at, now_us);
	} else if (esp_at_starts(l, "+MQTTCONNECTED:")) {
		/* The OK that follows completes AT+MQTTCONN. */
	} else if (esp_at_starts(l, "+MQTTDISCONNECTED:")) {
		/* Before AT+MQTTCONN's ERROR: how a failed connect (a TLS
		 * handshake refused) is reported. */
		if (at->mqtt == ESP_MQTT_CONNECTING && at->cmd == ESP_CMD_CONN)
			note_conn_fail(at, ESP_CMD_CONN);
		session_lost(at);
	} else if (strcmp(l, "WIFI DISCONNECT") == 0) {
		if (at->cmd != ESP_CMD_JOIN)
			at->link = HAL_LINK_DOWN;
		at->has_rssi = false;
		esp_at_http_link_lost(at);
		session_lost(at);
	} else if (strcmp(l, "WIFI CONNECTED") == 0 || strcmp(l, "WIFI GOT IP") == 0) {
		/* during AT+CWJAP the OK decides; otherwise the module rejoined */
		if (at->cmd != ESP_CMD_JOIN && at->synced && esp_at_starts(l, "WIFI GOT"))
			at->link = HAL_LINK_UP;
	} else if (esp_at_starts(l, "ERR CODE:")) {
		/* AT+SYSLOG=1: why the command that ends next failed */
		esp_at_http_err_code(at, l + 9);
	} else if (esp_at_starts(l, "+CWJAP:")) {
		if (at->cmd == ESP_CMD_JOIN_QUERY)
			parse_rssi(at, l + 7);
	} else if (!esp_at_starts(l, "AT")) {
		at->stats.garbage_lines++; /* echoes of our commands are not garbage */
	}
}

/* +MQTTSUBRECV:<id>,"<topic>",<len>, complete: start reading <len> bytes. */
static bool subrecv_header(struct esp_at *at)
{
	const char *s = at->line + sizeof(subrecv) - 1;
	const char *topic, *end;
	unsigned long len = 0;
	int digits = 0;

	while (*s >= '0' && *s <= '9')
		s++;
	if (*s++ != ',' || *s++ != '"')
		return false;
	topic = s;
	end = strchr(topic, '"');
	if (!end || end[1] != ',')
		return false;
	s = end + 2;
	for (; *s >= '0' && *s <= '9'; s++, digits++)
		len = len * 10 + (unsigned long)(*s - '0');
	if (!digits || digits > 5 || s[0] != ',' || s[1] != '\0')
		return false;
	if ((size_t)(end - topic) > ESP_AT_TOPIC_MAX)
		return false;
	memcpy(at->rx_topic, topic, (size_t)(end - topic));
	at->rx_topic[end - topic] = '\0';
	at->payload_want = (uint16_t)len;
	at->payload_got = 0;
	at->in_payload = true;
	return true;
}

/* +HTTPCLIENT:<len>, or +HTTPCPOST:<len>, complete: read <len> body bytes. */
static bool http_body_header(struct esp_at *at, size_t prefix_len)
{
	const char *s = at->line + prefix_len;
	unsigned long len = 0;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		len = len * 10 + (unsigned long)(*s - '0');
	if (!digits || digits > 5 || len > UINT16_MAX || s[0] != ',' || s[1] != '\0')
		return false;
	at->payload_want = (uint16_t)len;
	at->payload_got = 0;
	at->in_payload = true;
	at->payload_http = true;
	return true;
}

static void body_done(struct esp_at *at)
{
	at->in_payload = false;
	at->payload_http = false;
	at->line_len = 0;
}

static void deliver_message(struct esp_at *at)
{
	at->in_payload = false;
	at->line_len = 0;
	if (at->payload_want > ESP_AT_RX_PAYLOAD_MAX) {
		at->stats.rx_truncated += at->payload_want - ESP_AT_RX_PAYLOAD_MAX;
		return; /* a cut command is no command */
	}
	if (at->mqtt == ESP_MQTT_CONNECTED && at->cb && at->cb->on_message)
		at->cb->on_message(at->cb_ctx, at->rx_topic, at->rx_payload, at->payload_want);
}

static void input_byte(struct esp_at *at, char c, uint64_t now_us)
{
	if (at->in_payload && at->payload_http) {
		esp_at_http_body_byte(at, c);
		if (++at->payload_got >= at->payload_want)
			body_done(at);
		return;
	}
	if (at->in_payload) {
		if (at->payload_got < ESP_AT_RX_PAYLOAD_MAX)
			at->rx_payload[at->payload_got] = (uint8_t)c;
		if (++at->payload_got >= at->payload_want)
			deliver_message(at);
		return;
	}
	if (c == '\r' || c == '\n') {
		if (at->line_overlong)
			at->stats.overlong_lines++;
		else if (at->line_len)
			handle_line(at, at->line, now_us);
		at->line_len = 0;
		at->line[0] = '\0';
		at->line_overlong = false;
		return;
	}
	if (at->line_len == 0 && c == '>' && at->await_prompt) {
		on_prompt(at, now_us);
		return;
	}
	if (at->line_len >= ESP_AT_LINE_MAX) {
		at->line_overlong = true;
		return;
	}
	at->line[at->line_len++] = c;
	at->line[at->line_len] = '\0';
	if (c != ',' || at->line_overlong)
		return;
	if (esp_at_starts(at->line, subrecv) && subrecv_header(at) && at->payload_want == 0)
		deliver_message(at);
	else if (esp_at_starts(at->line, httpclient) &&
		 http_body_header(at, sizeof(httpclient) - 1) && at->payload_want == 0)
		body_done(at);
	else if (esp_at_starts(at->line, httpcpost) &&
		 http_body_header(at, sizeof(httpcpost) - 1) && at->payload_want == 0)
		body_done(at);
}

void esp_at_input(struct esp_at *at, const void *buf, size_t len, uint64_t now_us)
{
	const char *p = buf;

	for (size_t i = 0; i < len; i++)
		input_byte(at, p[i], now_us);
	esp_at_poll(at, now_us);
}

static void on_timeout(struct esp_at *at, uint64_t now_us)
{
	if (at->cmd == ESP_CMD_AT) {
		/* No module yet (still booting): probe again. */
		at->cmd = ESP_CMD_NONE;
		at->retry_at_us = now_us + ESP_AT_SYNC_RETRY_US;
		return;
	}
	resync(at, now_us);
}

void esp_at_poll(struct esp_at *at, uint64_t now_us)
{
	esp_at_http_poll(at, now_us);
	if (at->notify_closed) {
		at->notify_closed = false;
		if (at->cb && at->cb->on_disconnect)
			at->cb->on_disconnect(at->cb_ctx, true);
	}
	if (at->cmd != ESP_CMD_NONE) {
		if (at->cmd_resend && now_us >= at->retry_at_us) {
			at->cmd_resend = false;
			send_cmd(at);
		}
		if (now_us >= at->cmd_deadline_us)
			on_timeout(at, now_us);
		if (at->cmd != ESP_CMD_NONE)
			return;
	}
	if (!at->synced) {
		static const char *const sync_cmds[] = {
			"AT", "ATE0", "AT+CWMODE=1", "AT+MQTTCLEAN=0",
		};
		static const enum esp_at_cmd sync_ids[] = {
			ESP_CMD_AT, ESP_CMD_ECHO_OFF, ESP_CMD_STATION, ESP_CMD_CLEAN,
		};

		if (now_us < at->retry_at_us || at->sync_step >= 4)
			return;
		issue_simple(at, sync_ids[at->sync_step], sync_cmds[at->sync_step], now_us);
		return;
	}
	if (at->want_clean) {
		at->want_clean = false;
		issue_simple(at, ESP_CMD_CLEAN, "AT+MQTTCLEAN=0", now_us);
	} else if (at->want_join) {
		at->want_join = false;
		issue_join(at, now_us);
	} else if (at->want_rssi && at->link == HAL_LINK_UP) {
		at->want_rssi = false;
		issue_simple(at, ESP_CMD_JOIN_QUERY, "AT+CWJAP?", now_us);
	} else if (esp_at_http_wants_module(at)) {
		esp_at_http_issue(at, now_us);
	} else if (at->mqtt == ESP_MQTT_CONNECTING) {
		issue_conn_step(at, now_us);
	} else if (at->mqtt == ESP_MQTT_CONNECTED && at->n_sub) {
		issue_sub(at, now_us);
	} else if (at->mqtt == ESP_MQTT_CONNECTED && at->n_pub) {
		issue_pub(at, now_us);
	} else if (at->mqtt != ESP_MQTT_CONNECTED && at->n_pub) {
		at->n_pub = 0; /* left over from a session that ended mid-publish */
	}
}

static uint64_t core_deadline(const struct esp_at *at)
{
	if (at->notify_closed)
		return 0;
	if (at->cmd != ESP_CMD_NONE) {
		if (at->cmd_resend && at->retry_at_us < at->cmd_deadline_us)
			return at->retry_at_us;
		return at->cmd_deadline_us;
	}
	if (!at->synced)
		return at->retry_at_us;
	if (at->want_clean || at->want_join || at->want_rssi || at->mqtt == ESP_MQTT_CONNECTING ||
	    (at->mqtt == ESP_MQTT_CONNECTED && (at->n_sub || at->n_pub)))
		return 0;
	return UINT64_MAX;
}

uint64_t esp_at_next_deadline(const struct esp_at *at)
{
	uint64_t core = core_deadline(at), http = esp_at_http_deadline(at);

	return http < core ? http : core;
}

void esp_at_init(struct esp_at *at, const struct esp_at_ops *ops, const char *ssid,
		 const char *wifi_pass)
{
	memset(at, 0, sizeof(*at));
	at->ops = *ops;
	copy_str(at->ssid, sizeof(at->ssid), ssid);
	copy_str(at->wifi_pass, sizeof(at->wifi_pass), wifi_pass);
	at->link = HAL_LINK_DOWN;
	at->next_msg_id = 1;
	at->scheme = ESP_AT_SCHEME_TCP;
}

/* ---- hal_link --------------------------------------------------------------- */

int esp_at_link_connect(struct esp_at *at)
{
	if (at->link != HAL_LINK_DOWN)
		return -EALREADY;
	at->link = HAL_LINK_CONNECTING;
	at->want_join = true;
	return 0;
}

enum hal_link_state esp_at_link_state(const struct esp_at *at)
{
	return at->link;
}

int esp_at_link_rssi(const struct esp_at *at, int *rssi_dbm)
{
	if (at->link != HAL_LINK_UP)
		return -ENOTCONN;
	*rssi_dbm = at->has_rssi ? at->rssi_dbm : 0;
	return 0;
}

int esp_at_link_disconnect(struct esp_at *at)
{
	/* The module keeps its association; the robot only asks on shutdown. */
	at->want_join = false;
	at->link = HAL_LINK_DOWN;
	return 0;
}

/* ---- hal_mqtt ---------------------------------------------------------------- */

int esp_at_mqtt_init(struct esp_at *at, const struct hal_mqtt_callbacks *cb, void *ctx)
{
	if (!cb || !cb->on_connect || !cb->on_disconnect || !cb->on_message || !cb->on_publish)
		return -EINVAL;
	at->cb = cb;
	at->cb_ctx = ctx;
	return 0;
}

int esp_at_mqtt_set_scheme(struct esp_at *at, unsigned int scheme)
{
	if (scheme < ESP_AT_SCHEME_TCP || scheme > ESP_AT_SCHEME_MAX)
		return -EINVAL;
	at->scheme = (uint8_t)scheme;
	return 0;
}

static bool fits(const char *s, size_t cap)
{
	return !s || strlen(s) < cap;
}

int esp_at_mqtt_connect(struct esp_at *at, const struct hal_mqtt_connect_opts *o)
{
	if (!o || !o->client_id || !o->host || !o->port || !fits(o->client_id, sizeof(at->client_id)) ||
	    !fits(o->host, sizeof(at->host)) || !fits(o->username, sizeof(at->user)) ||
	    !fits(o->password, sizeof(at->pass)))
		return -EINVAL;
	if (o->will && (!o->will->topic || !fits(o->will->topic, sizeof(at->will_topic)) ||
			o->will->payload_len >= sizeof(at->will_msg) || o->will->qos < 0 ||
			o->will->qos > 2))
		return -EINVAL;
	if (at->mqtt != ESP_MQTT_IDLE)
		return -EALREADY;
	if (at->link != HAL_LINK_UP)
		return -ENETUNREACH;
	copy_str(at->client_id, sizeof(at->client_id), o->client_id);
	copy_str(at->host, sizeof(at->host), o->host);
	copy_str(at->user, sizeof(at->user), o->username);
	copy_str(at->pass, sizeof(at->pass), o->password);
	at->port = o->port;
	at->keepalive_s = o->keepalive_s;
	at->clean_session = o->clean_session;
	at->has_will = o->will != NULL;
	at->will_topic[0] = '\0';
	at->will_msg[0] = '\0';
	at->will_qos = 0;
	at->will_retain = false;
	if (o->will) {
		copy_str(at->will_topic, sizeof(at->will_topic), o->will->topic);
		memcpy(at->will_msg, o->will->payload, o->will->payload_len);
		at->will_msg[o->will->payload_len] = '\0';
		at->will_qos = (uint8_t)o->will->qos;
		at->will_retain = o->will->retain;
	}
	flush_queues(at);
	at->want_clean = false; /* step 0 of the connect cleans up anyway */
	at->conn_step = 0;
	at->conn_fail = ESP_CMD_NONE;
	at->mqtt = ESP_MQTT_CONNECTING;
	return 0;
}

int esp_at_mqtt_publish(struct esp_at *at, const char *topic, const void *payload,
			size_t len, int qos, bool retain, uint16_t *msg_id)
{
	struct esp_at_pub *p;

	if (!topic || (len && !payload) || qos < 0 || qos > 2)
		return -EINVAL;
	if (at->mqtt != ESP_MQTT_CONNECTED)
		return -ENOTCONN;
	if (len > ESP_AT_PAYLOAD_MAX || strlen(topic) > ESP_AT_TOPIC_MAX)
		return -EMSGSIZE;
	if (at->n_pub >= ESP_AT_PUB_SLOTS)
		return -ENOBUFS;
	p = &at->pub[(at->pub_head + at->n_pub) % ESP_AT_PUB_SLOTS];
	copy_str(p->topic, sizeof(p->topic), topic);
	if (len)
		memcpy(p->payload, payload, len);
	p->len = (uint16_t)len;
	p->qos = (uint8_t)qos;
	p->retain = retain;
	p->tries = 0;
	p->msg_id = 0;
	if (qos > 0) {
		p->msg_id = at->next_msg_id++;
		if (at->next_msg_id == 0)
			at->next_msg_id = 1;
	}
	if (msg_id)
		*msg_id = p->msg_id;
	at->n_pub++;
	return 0;
}

int esp_at_mqtt_subscribe(struct esp_at *at, const char *topic, int qos)
{
	if (!topic || !*topic || strlen(topic) > ESP_AT_TOPIC_MAX || qos < 0 || qos > 2)
		return -EINVAL;
	if (at->mqtt != ESP_MQTT_CONNECTED)
		return -ENOTCONN;
	if (at->n_sub >= ESP_AT_SUB_SLOTS)
		return -EIO;
	copy_str(at->sub_topic[at->n_sub], sizeof(at->sub_topic[0]), topic);
	at->sub_qos[at->n_sub] = (uint8_t)qos;
	at->n_sub++;
	return 0;
}

int esp_at_mqtt_disconnect(struct esp_at *at)
{
	if (at->mqtt == ESP_MQTT_IDLE)
		return -ENOTCONN;
	at->mqtt = ESP_MQTT_IDLE;
	flush_queues(at);
	at->want_clean = true;
	at->notify_closed = true;
	return 0;
}

unsigned int esp_at_mqtt_pending(const struct esp_at *at)
{
	return at->n_pub;
}
