/* The emulated module's HTTP client over libcurl (see http_client.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

/* Bodies beyond this are cut: a module has a few kB of heap for them. */
#define BODY_CAP (64 * 1024)

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct http_answer *a = ud;
	size_t len = size * n, keep = len;
	char *grown;

	if (a->len + keep > BODY_CAP)
		keep = BODY_CAP - a->len;
	if (keep == 0)
		return len;
	grown = realloc(a->body, a->len + keep + 1);
	if (!grown)
		return 0; /* libcurl ends the transfer: CURLE_WRITE_ERROR */
	a->body = grown;
	memcpy(a->body + a->len, data, keep);
	a->len += keep;
	a->body[a->len] = '\0';
	return len;
}

int http_client_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_client_cleanup(void)
{
	curl_global_cleanup();
}

static enum http_failure classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return HTTP_NO_CONNECTION;
	default:
		return HTTP_BROKEN;
	}
}

int http_client_do(const struct http_call *call, struct http_answer *out)
{
	struct curl_slist *hdrs = NULL, *more;
	CURL *c = curl_easy_init();
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return -1;
	/* libcurl would add "Expect: 100-continue" to a large POST; a module does not. */
	hdrs = curl_slist_append(NULL, "Expect:");
	for (int i = 0; hdrs && i < call->n_headers; i++) {
		more = curl_slist_append(hdrs, call->headers[i]);
		if (!more) {
			curl_slist_free_all(hdrs);
			hdrs = NULL;
		}
		hdrs = more;
	}
	if (!hdrs) {
		curl_easy_cleanup(c);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, call->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, call->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* ESP-AT does not redirect */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ESP32 HTTP Client/1.0");
	if (!strcmp(call->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(call->method, "POST") || !strcmp(call->method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body ? call->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
		if (!strcmp(call->method, "PUT"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (strcmp(call->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call->method);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		out->failure = HTTP_ANSWERED;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	} else {
		out->failure = classify(rc);
		snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return 0;
}

void http_answer_free(struct http_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}
