/* The live InfluxDB feed's URL: parsed and checked before a run starts, and the write and ping URLs built from it. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "influx_url.h"

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Host names as DNS spells them, or an IPv4 address: nothing a URL would
 * have to escape. */
static bool host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

int influx_url_parse(const char *text, struct influx_url *out, char *why, size_t why_len)
{
	const char *p, *host, *host_end, *port = NULL, *path;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!text || strlen(text) >= INFLUX_URL_MAX)
		return fail(why, why_len, "empty or longer than %d characters", INFLUX_URL_MAX - 1);
	if (!strncmp(text, "http://", 7)) {
		p = text + 7;
	} else if (!strncmp(text, "https://", 8)) {
		out->https = true;
		p = text + 8;
	} else {
		return fail(why, why_len, "want http:// or https://");
	}
	out->port = out->https ? 443 : 80;
	if (*p == '[') { /* IPv6 literal */
		host = ++p;
		while (*p && (isxdigit((unsigned char)*p) || *p == ':' || *p == '.'))
			p++;
		if (*p != ']' || p == host)
			return fail(why, why_len, "bad IPv6 address");
		host_end = p++;
	} else {
		host = p;
		while (*p && host_char_ok(*p))
			p++;
		host_end = p;
	}
	if (host_end == host)
		return fail(why, why_len, "no host");
	if (*p == '@')
		return fail(why, why_len, "user names in the URL are not supported (use --influx-token)");
	if (*p == ':') {
		unsigned long v = 0;

		port = ++p;
		while (isdigit((unsigned char)*p) && p - port < 6)
			v = v * 10 + (unsigned long)(*p++ - '0');
		if (p == port || isdigit((unsigned char)*p) || v == 0 || v > 65535)
			return fail(why, why_len, "bad port");
		out->port = (uint16_t)v;
	}
	if (*p && *p != '/')
		return fail(why, why_len, "unexpected '%c' after the host", *p);
	path = p;
	for (; *p; p++) {
		if (*p == '?' || *p == '#' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return fail(why, why_len, "no query, fragment or spaces in the URL");
	}
	n = (size_t)(host_end - host);
	if (n >= sizeof(out->host))
		return fail(why, why_len, "host name too long");
	memcpy(out->host, host, n);
	out->host[n] = '\0';
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n >= sizeof(out->prefix))
		return fail(why, why_len, "path too long");
	memcpy(out->prefix, path, n);
	out->prefix[n] = '\0';
	return 0;
}

/* scheme://host:port/prefix, the common start of every request. */
static int put_base(const struct influx_url *u, char *url, size_t len, size_t *used)
{
	bool v6 = strchr(u->host, ':') != NULL;
	int n = snprintf(url, len, "%s://%s%s%s:%u%s", u->https ? "https" : "http", v6 ? "[" : "",
			 u->host, v6 ? "]" : "", u->port, u->prefix);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	*used = (size_t)n;
	return 0;
}

/* Append @s percent-encoded (RFC 3986 unreserved characters pass). */
static int put_encoded(char *url, size_t len, size_t *used, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';

		if (*used + (plain ? 1 : 3) >= len)
			return -ENAMETOOLONG;
		if (plain) {
			url[(*used)++] = (char)c;
		} else {
			url[(*used)++] = '%';
			url[(*used)++] = hex[c >> 4];
			url[(*used)++] = hex[c & 15];
		}
	}
	url[*used] = '\0';
	return 0;
}

static int put_text(char *url, size_t len, size_t *used, const char *s)
{
	size_t n = strlen(s);

	if (*used + n >= len)
		return -ENAMETOOLONG;
	memcpy(url + *used, s, n + 1);
	*used += n;
	return 0;
}

int influx_url_write_request(const struct influx_url *u, const struct influx_target *t,
			     char *url, size_t url_len, char *auth, size_t auth_len)
{
	size_t used;
	int rc;

	if (auth_len)
		auth[0] = '\0';
	if (t->bucket || t->org || t->token) {
		if (!t->bucket || !t->org || !t->token || !*t->bucket || !*t->org)
			return -EINVAL;
		if ((rc = put_base(u, url, url_len, &used)) < 0 ||
		    (rc = put_text(url, url_len, &used, "/api/v2/write?org=")) < 0 ||
		    (rc = put_encoded(url, url_len, &used, t->org)) < 0 ||
		    (rc = put_text(url, url_len, &used, "&bucket=")) < 0 ||
		    (rc = put_encoded(url, url_len, &used, t->bucket)) < 0 ||
		    (rc = put_text(url, url_len, &used, "&precision=ms")) < 0)
			return rc;
		/* A token with a line break would smuggle a header in. */
		if (strpbrk(t->token, "\r\n"))
			return -EINVAL;
		rc = snprintf(auth, auth_len, "Authorization: Token %s", t->token);
		return rc < 0 || (size_t)rc >= auth_len ? -ENAMETOOLONG : 0;
	}
	if (!t->db || !*t->db)
		return -EINVAL;
	if ((rc = put_base(u, url, url_len, &used)) < 0 ||
	    (rc = put_text(url, url_len, &used, "/write?db=")) < 0 ||
	    (rc = put_encoded(url, url_len, &used, t->db)) < 0 ||
	    (rc = put_text(url, url_len, &used, "&precision=ms")) < 0)
		return rc;
	return 0;
}

int influx_url_ping(const struct influx_url *u, char *url, size_t url_len)
{
	size_t used;
	int rc;

	if ((rc = put_base(u, url, url_len, &used)) < 0)
		return rc;
	return put_text(url, url_len, &used, "/ping");
}
