/*
 * libFuzzer target: the --influx URL parser and the requests built from it.
 * Input: a URL, optionally a newline and a database/bucket name. Beyond not
 * crashing: a URL that parses gives write and ping URLs that parse again
 * to the same host and port.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "influx_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[INFLUX_URL_MAX + 64], name[128] = "robofleet", why[256];
	char url[INFLUX_URL_MAX + 600], auth[600];
	const uint8_t *nl;
	struct influx_url u, again;
	size_t ulen;

	if (size >= sizeof(text))
		return 0;
	nl = memchr(data, '\n', size);
	ulen = nl ? (size_t)(nl - data) : size;
	memcpy(text, data, ulen);
	text[ulen] = '\0';
	if (nl) {
		size_t nlen = size - ulen - 1;

		if (nlen >= sizeof(name))
			nlen = sizeof(name) - 1;
		memcpy(name, nl + 1, nlen);
		name[nlen] = '\0';
	}
	if (influx_url_parse(text, &u, why, sizeof(why)) < 0) {
		if (!why[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	if (influx_url_ping(&u, url, sizeof(url)) == 0) {
		url[strlen(url) - strlen("/ping")] = '\0';
		/* The rebuilt URL names the port even where the input left it
		 * out, so it may be longer than the parser takes: compare
		 * only what it can read back. */
		if (strlen(url) < INFLUX_URL_MAX &&
		    (influx_url_parse(url, &again, why, sizeof(why)) < 0 || again.port != u.port ||
		     strcmp(again.host, u.host) || again.https != u.https))
			abort();
	}
	influx_url_write_request(&u, &(struct influx_target){ .db = name }, url, sizeof(url), auth,
				 sizeof(auth));
	if (influx_url_write_request(&u, &(struct influx_target){ .org = name, .bucket = name,
				     .token = name }, url, sizeof(url), auth, sizeof(auth)) == 0 &&
	    strpbrk(auth, "\r\n"))
		abort(); /* no header smuggled in */
	return 0;
}
