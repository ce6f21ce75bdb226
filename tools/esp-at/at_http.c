/* The emulated module's HTTP AT commands (see at_http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at_http.h"
#include "http_client.h"

/* ESP-AT's HTTP client defaults: a 5 s network timeout, 2 kB buffers (the
 * body reaches the MCU in chunks of at most that). */
#define NET_TIMEOUT_MS 5000
#define CHUNK 2048
#define DATA_MAX 8192       /* what the emulator's data buffer takes */

enum data_use { DATA_NONE, DATA_POST, DATA_PUT, DATA_HEADER };

static struct {
	bool syslog;                               /* AT+SYSLOG=1: error codes */
	char headers[HTTP_HEADERS_MAX][ARG_BYTES]; /* AT+HTTPCHEAD's, global */
	int n_headers;
	enum data_use data_use;                    /* what the prompted data is for */
	char url[ARG_BYTES];
	char cmd_headers[HTTP_HEADERS_MAX][ARG_BYTES];
	int n_cmd_headers;
} h;

static const char *const content_types[] = {
	"application/x-www-form-urlencoded", "application/json", "multipart/form-data", "text/xml",
};

static void ok(void)
{
	emu_outs("\r\nOK\r\n");
}

static void error(void)
{
	emu_outs("\r\nERROR\r\n");
}

void at_http_reset(void)
{
	memset(&h, 0, sizeof(h));
}

/* The command's own headers, then AT+HTTPCHEAD's (which win: libcurl
 * sends the last of two equal keys). */
static void add_headers(struct http_call *c, char (*hdr)[ARG_BYTES], int n)
{
	for (int i = 0; i < n && c->n_headers < HTTP_HEADERS_MAX; i++)
		c->headers[c->n_headers++] = hdr[i];
}

/* Do @c and answer as the module: body chunks, then the result line. */
static void run(struct http_call *c, const char *prefix, bool data_cmd)
{
	struct http_answer r;
	bool good;

	add_headers(c, h.headers, h.n_headers);
	if (http_client_do(c, &r) < 0) {
		emu_log("%s %s: out of memory", c->method, c->url);
		emu_outs(data_cmd ? "SEND FAIL\r\n" : "\r\nERROR\r\n");
		return;
	}
	good = r.failure == HTTP_ANSWERED && r.status < 400;
	if (r.failure == HTTP_ANSWERED)
		emu_log("%s %s: %ld, %zu body bytes", c->method, c->url, r.status, r.len);
	else
		emu_log("%s %s: %s", c->method, c->url, r.error);
	for (size_t off = 0; off < r.len; off += CHUNK) {
		size_t n = r.len - off < CHUNK ? r.len - off : CHUNK;

		emu_outf("%s:%zu,", prefix, n);
		emu_out(r.body + off, n);
		emu_outs("\r\n");
	}
	if (!good && h.syslog && r.failure == HTTP_ANSWERED)
		emu_outf("ERR CODE:0x010a7%03lx\r\n", (unsigned long)r.status);
	else if (!good && h.syslog && r.failure == HTTP_NO_CONNECTION)
		emu_outs("ERR CODE:0x010a7000\r\n");
	if (data_cmd)
		emu_outs(good ? "SEND OK\r\n" : "SEND FAIL\r\n");
	else
		emu_outs(good ? "\r\nOK\r\n" : "\r\nERROR\r\n");
	http_answer_free(&r);
}

/* AT+HTTPCLIENT=<opt>,<content-type>,<"url">,[<"host">],[<"path">],<transport_type>
 *               [,<"data">][,<"http_req_header">]... */
static void httpclient(char a[ARGS_MAX][ARG_BYTES], int n)
{
	static const char *const methods[] = { NULL, "HEAD", "GET", "POST", "PUT", "DELETE" };
	char url[2 * ARG_BYTES + 16], ctype[64];
	struct http_call c = { .timeout_ms = NET_TIMEOUT_MS };
	int opt = atoi(a[0]), type = atoi(a[1]), transport = atoi(a[5]), first_header = 6;

	if (n < 6 || opt < 1 || opt > 5 || type < 0 || type > 3 || transport < 1 || transport > 2) {
		error();
		return;
	}
	if (a[2][0])
		snprintf(url, sizeof(url), "%s", a[2]);
	else if (a[3][0])
		snprintf(url, sizeof(url), "%s://%s%s", transport == 2 ? "https" : "http", a[3],
			 a[4][0] ? a[4] : "/");
	else {
		error();
		return;
	}
	c.method = methods[opt];
	c.url = url;
	if (opt == 3 || opt == 4) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_types[type]);
		c.headers[c.n_headers++] = ctype;
	}
	if (opt == 3 && n > 6) {
		c.body = a[6];
		c.body_len = strlen(a[6]);
		first_header = 7;
	}
	for (int i = first_header; i < n && c.n_headers < HTTP_HEADERS_MAX; i++)
		c.headers[c.n_headers++] = a[i];
	run(&c, "+HTTPCLIENT", false);
}

/* AT+HTTPCGET=<"url">[,<tx size>][,<rx size>][,<timeout>] */
static void httpcget(char a[ARGS_MAX][ARG_BYTES], int n)
{
	struct http_call c = { .method = "GET", .url = a[0], .timeout_ms = NET_TIMEOUT_MS };

	if (n < 1 || !a[0][0]) {
		error();
		return;
	}
	if (n >= 4 && a[3][0])
		c.timeout_ms = atol(a[3]);
	run(&c, "+HTTPCGET", false);
}

/* AT+HTTPCPOST / AT+HTTPCPUT=<"url">,<length>[,<http_req_header_cnt>][,<"http_req_header">...] */
static void prompted_send(char a[ARGS_MAX][ARG_BYTES], int n, enum data_use use, size_t *want)
{
	long len = n >= 2 ? atol(a[1]) : 0;
	int cnt = n >= 3 ? atoi(a[2]) : 0;

	if (n < 2 || !a[0][0] || len <= 0 || len > DATA_MAX) {
		error();
		return;
	}
	if (n >= 3 && (cnt < 0 || cnt > HTTP_HEADERS_MAX || cnt != n - 3)) {
		emu_log("http_req_header_cnt %d but %d headers", cnt, n - 3);
		error();
		return;
	}
	snprintf(h.url, sizeof(h.url), "%s", a[0]);
	h.n_cmd_headers = cnt;
	for (int i = 0; i < cnt; i++)
		snprintf(h.cmd_headers[i], ARG_BYTES, "%s", a[3 + i]);
	h.data_use = use;
	*want = (size_t)len;
	emu_outs("\r\nOK\r\n\r\n>");
}

/* AT+HTTPCHEAD=<req_header_len>: 0 clears them all; else one header follows. */
static void httpchead(char a[ARGS_MAX][ARG_BYTES], int n, size_t *want)
{
	long len = n == 1 ? atol(a[0]) : -1;

	if (len < 0 || len >= ARG_BYTES || (len > 0 && h.n_headers >= HTTP_HEADERS_MAX)) {
		error();
		return;
	}
	if (len == 0) {
		h.n_headers = 0;
		ok();
		return;
	}
	h.data_use = DATA_HEADER;
	*want = (size_t)len;
	emu_outs("\r\nOK\r\n\r\n>");
}

void at_http_data(const char *buf, size_t len)
{
	enum data_use use = h.data_use;
	struct http_call c = { .url = h.url, .body = buf, .body_len = len,
			       .timeout_ms = NET_TIMEOUT_MS };
	bool has_type = false;

	h.data_use = DATA_NONE;
	if (use == DATA_HEADER) {
		snprintf(h.headers[h.n_headers++], ARG_BYTES, "%.*s", (int)len, buf);
		ok();
		return;
	}
	c.method = use == DATA_PUT ? "PUT" : "POST";
	for (int i = 0; i < h.n_cmd_headers; i++)
		has_type |= strncasecmp(h.cmd_headers[i], "content-type:", 13) == 0;
	add_headers(&c, h.cmd_headers, h.n_cmd_headers);
	if (!has_type && c.n_headers < HTTP_HEADERS_MAX)
		c.headers[c.n_headers++] = "Content-Type: application/x-www-form-urlencoded";
	run(&c, use == DATA_PUT ? "+HTTPCPUT" : "+HTTPCPOST", true);
}

bool at_http_handle(const char *l, char a[ARGS_MAX][ARG_BYTES], int n, size_t *want)
{
	*want = 0;
	if (!strcmp(l, "AT+SYSLOG?")) {
		emu_outf("+SYSLOG:%d\r\n", h.syslog ? 1 : 0);
		ok();
	} else if (!strncmp(l, "AT+SYSLOG=", 10)) {
		if (n != 1 || (strcmp(a[0], "0") && strcmp(a[0], "1"))) {
			error();
			return true;
		}
		h.syslog = a[0][0] == '1';
		ok();
	} else if (!strncmp(l, "AT+HTTPCLIENT=", 14)) {
		httpclient(a, n);
	} else if (!strncmp(l, "AT+HTTPCGET=", 12)) {
		httpcget(a, n);
	} else if (!strncmp(l, "AT+HTTPCPOST=", 13)) {
		prompted_send(a, n, DATA_POST, want);
	} else if (!strncmp(l, "AT+HTTPCPUT=", 12)) {
		prompted_send(a, n, DATA_PUT, want);
	} else if (!strcmp(l, "AT+HTTPCHEAD?")) {
		for (int i = 0; i < h.n_headers; i++)
			emu_outf("+HTTPCHEAD:%d,\"%s\"\r\n", i, h.headers[i]);
		ok();
	} else if (!strncmp(l, "AT+HTTPCHEAD=", 13)) {
		httpchead(a, n, want);
	} else {
		return false;
	}
	return true;
}
