/* hal_http over ESP-AT's HTTP client commands (see esp_at_http.h). */
#include <errno.h>
#include <string.h>

#include "esp_at.h"
#include "esp_at_internal.h"

/* The low bits of an ERR CODE that carry an HTTP client error. */
#define ERR_HTTP_MASK 0xf000u
#define ERR_HTTP_BASE 0x7000u  /* 0x7000: no connection; 0x7000 + status */

static void complete(struct esp_at *at, int status)
{
	struct esp_at_http *h = &at->http;

	h->state = ESP_HTTP_DONE;
	h->status = status;
	if (status == -ETIMEDOUT)
		h->stats.timeouts++;
	if (status < 0 || status >= 400)
		h->stats.failed++;
}

/* The command in flight belongs to the active request. */
static bool own_command(const struct esp_at *at)
{
	return at->http.state == ESP_HTTP_ACTIVE &&
	       (at->cmd == ESP_CMD_HTTPCLIENT || at->cmd == ESP_CMD_HTTPCPOST);
}

/*
 * AT+HTTPCPOST announced a length and the module has not asked for the
 * bytes yet: they must still go out, exactly those, when it does (or it
 * would take the next command for body bytes), so the request keeps its
 * buffer until then, past its timeout if need be. The command's own
 * deadline bounds the wait.
 */
static bool body_owed(const struct esp_at *at)
{
	return at->cmd == ESP_CMD_HTTPCPOST && !at->pub_sent;
}

void esp_at_http_poll(struct esp_at *at, uint64_t now_us)
{
	struct esp_at_http *h = &at->http;

	if (h->state == ESP_HTTP_ACTIVE && body_owed(at))
		return; /* the timeout is reported once the body is out */
	if ((h->state == ESP_HTTP_QUEUED || h->state == ESP_HTTP_ACTIVE) && now_us >= h->deadline_us)
		complete(at, -ETIMEDOUT); /* an active command drains later */
	else if (h->state == ESP_HTTP_QUEUED && at->link != HAL_LINK_UP)
		complete(at, -ENETDOWN);
}

bool esp_at_http_wants_module(const struct esp_at *at)
{
	return at->http.state == ESP_HTTP_QUEUED && at->link == HAL_LINK_UP;
}

void esp_at_http_issue(struct esp_at *at, uint64_t now_us)
{
	struct esp_at_http *h = &at->http;
	struct esp_at_builder b = { at->cmd_buf, sizeof(at->cmd_buf), 0, false };
	uint64_t left = h->deadline_us > now_us ? h->deadline_us - now_us : 0;

	if (!h->syslog_set) {
		/* Error codes on: the only way an error status reaches us.
		 * A module that does not know the command answers ERROR,
		 * which changes nothing but the mapping of failures. */
		h->syslog_set = true;
		esp_at_b_raw(&b, "AT+SYSLOG=1");
		esp_at_issue(at, ESP_CMD_SYSLOG, &b, ESP_AT_TIMEOUT_US, now_us);
		return;
	}
	h->state = ESP_HTTP_ACTIVE;
	h->err_code = 0;
	h->link_lost = false;
	h->rx_len = 0;
	h->stats.requests++;
	if (h->post) {
		/* With a length and the '>' prompt: a JSON body is longer than
		 * what fits AT+HTTPCLIENT's command line, and needs no escaping. */
		esp_at_b_raw(&b, "AT+HTTPCPOST=");
		esp_at_b_quoted(&b, h->url, strlen(h->url));
		esp_at_b_raw(&b, ",");
		esp_at_b_uint(&b, h->tx_len);
		esp_at_b_raw(&b, ",1,\"Content-Type: ");
		esp_at_b_raw(&b, h->content_type); /* checked: nothing to escape */
		esp_at_b_raw(&b, "\"");
		esp_at_issue(at, ESP_CMD_HTTPCPOST, &b, left + ESP_AT_HTTP_GRACE_US, now_us);
	} else {
		/* opt 2 GET, content-type 0 (unused), no host/path, over TCP */
		esp_at_b_raw(&b, "AT+HTTPCLIENT=2,0,");
		esp_at_b_quoted(&b, h->url, strlen(h->url));
		esp_at_b_raw(&b, ",,,1");
		esp_at_issue(at, ESP_CMD_HTTPCLIENT, &b, left + ESP_AT_HTTP_GRACE_US, now_us);
	}
}

void esp_at_http_finish(struct esp_at *at, bool ok)
{
	struct esp_at_http *h = &at->http;

	if (h->state != ESP_HTTP_ACTIVE) {
		h->stats.late_answers++; /* timed out or aborted: already answered */
		return;
	}
	if (ok)
		complete(at, 200); /* ESP-AT names no status on success */
	else if (h->link_lost)
		complete(at, -ENETDOWN);
	else if (h->err_code)
		complete(at, h->err_code);
	else
		complete(at, -ECONNRESET);
}

void esp_at_http_on_prompt(struct esp_at *at)
{
	at->ops.write(at->ops.ctx, at->http.tx, at->http.tx_len);
}

/* "0x010a7194": module 01, result 0a, HTTP error 0x7194 (status 404). */
void esp_at_http_err_code(struct esp_at *at, const char *hex)
{
	unsigned long v = 0;
	unsigned int low;
	int digits = 0;

	if (!own_command(at))
		return;
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	for (; *hex && digits < 8; hex++, digits++) {
		char c = *hex;
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return; /* not a code: leave the mapping to the bare ERROR */
		v = v * 16 + d;
	}
	if (!digits || *hex)
		return;
	low = (unsigned int)(v & 0xffffu);
	if ((low & ERR_HTTP_MASK) != ERR_HTTP_BASE)
		return;
	low &= 0x0fffu;
	if (low == 0)
		at->http.err_code = -ECONNREFUSED;
	else if (low >= 100 && low <= 599)
		at->http.err_code = (int)low;
}

void esp_at_http_body_byte(struct esp_at *at, char c)
{
	struct esp_at_http *h = &at->http;

	if (!own_command(at))
		return; /* a late answer's body: read and dropped */
	if (h->rx_len < sizeof(h->rx))
		h->rx[h->rx_len++] = (uint8_t)c;
	else
		h->stats.body_truncated++;
}

void esp_at_http_module_lost(struct esp_at *at)
{
	struct esp_at_http *h = &at->http;

	h->syslog_set = false; /* a rebooted module forgot it */
	if (h->state == ESP_HTTP_ACTIVE)
		complete(at, -ECONNRESET);
	else if (h->state == ESP_HTTP_QUEUED)
		complete(at, -ENETDOWN);
}

void esp_at_http_link_lost(struct esp_at *at)
{
	if (at->http.state == ESP_HTTP_ACTIVE)
		at->http.link_lost = true; /* the module's ERROR follows */
	else if (at->http.state == ESP_HTTP_QUEUED)
		complete(at, -ENETDOWN);
}

uint64_t esp_at_http_deadline(const struct esp_at *at)
{
	const struct esp_at_http *h = &at->http;

	if (h->state == ESP_HTTP_DONE)
		return 0;
	if (h->state == ESP_HTTP_QUEUED &&
	    (at->link != HAL_LINK_UP || (at->synced && at->cmd == ESP_CMD_NONE)))
		return 0; /* to fail it, or to send it */
	if (h->state == ESP_HTTP_ACTIVE && body_owed(at))
		return UINT64_MAX; /* the prompt or the command's deadline */
	if (h->state == ESP_HTTP_QUEUED || h->state == ESP_HTTP_ACTIVE)
		return h->deadline_us;
	return UINT64_MAX;
}

/* ---- hal_http ------------------------------------------------------------ */

int esp_at_http_init(struct esp_at *at, const struct hal_http_callbacks *cb, void *ctx)
{
	if (!cb || !cb->on_response)
		return -EINVAL;
	at->http.cb = cb;
	at->http.cb_ctx = ctx;
	return 0;
}

/* "http://" host ":" port path into @out; IPv6 literals in brackets. */
static bool build_url(const struct hal_http_request *req, char *out, size_t cap)
{
	struct esp_at_builder b = { out, cap, 0, false };
	bool v6 = strchr(req->host, ':') != NULL;

	out[0] = '\0';
	esp_at_b_raw(&b, v6 ? "http://[" : "http://");
	esp_at_b_raw(&b, req->host);
	esp_at_b_raw(&b, v6 ? "]:" : ":");
	esp_at_b_uint(&b, req->port);
	esp_at_b_raw(&b, req->path);
	return !b.overflow;
}

/* Nothing the header argument would need to escape, nor line breaks. */
static bool plain_header_value(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || *s == ',' || *s == '\r' || *s == '\n')
			return false;
	return true;
}

int esp_at_http_request(struct esp_at *at, const struct hal_http_request *req, uint64_t now_us)
{
	struct esp_at_http *h = &at->http;
	bool post;

	if (!req || !req->method || !req->host || !req->host[0] || !req->path ||
	    req->path[0] != '/' || !req->port || !h->cb)
		return -EINVAL;
	post = strcmp(req->method, "POST") == 0;
	if (!post && strcmp(req->method, "GET") != 0)
		return -EINVAL; /* the two a robot needs */
	if (post != (req->content_type != NULL) || (req->body_len && !req->body) ||
	    (!post && req->body_len) || (post && !req->body_len))
		return -EINVAL; /* a GET carries no body, a POST one */
	if (post && (strlen(req->content_type) > ESP_AT_CONTENT_TYPE_MAX ||
		     !plain_header_value(req->content_type)))
		return -EINVAL;
	if (req->body_len > sizeof(h->tx))
		return -EMSGSIZE;
	if (h->state != ESP_HTTP_IDLE || body_owed(at))
		return -EBUSY; /* an aborted POST's body still goes out first */
	if (at->link != HAL_LINK_UP)
		return -ENETUNREACH;
	if (!build_url(req, h->url, sizeof(h->url)))
		return -EINVAL;
	h->post = post;
	h->content_type[0] = '\0';
	if (post)
		memcpy(h->content_type, req->content_type, strlen(req->content_type) + 1);
	if (req->body_len)
		memcpy(h->tx, req->body, req->body_len);
	h->tx_len = (uint16_t)req->body_len;
	h->deadline_us = now_us + (uint64_t)req->timeout_ms * 1000u;
	h->state = ESP_HTTP_QUEUED;
	return 0;
}

bool esp_at_http_busy(const struct esp_at *at)
{
	return at->http.state != ESP_HTTP_IDLE;
}

void esp_at_http_abort(struct esp_at *at)
{
	/* An active command stays in flight: its answer is read and dropped. */
	at->http.state = ESP_HTTP_IDLE;
}

int esp_at_http_service(struct esp_at *at)
{
	struct esp_at_http *h = &at->http;
	int status;

	if (h->state != ESP_HTTP_DONE)
		return 0;
	h->state = ESP_HTTP_IDLE; /* on_response may start the next one */
	status = h->status;
	h->cb->on_response(h->cb_ctx, status, h->rx, status < 0 ? 0 : h->rx_len);
	return status < 0 ? status : 0;
}
