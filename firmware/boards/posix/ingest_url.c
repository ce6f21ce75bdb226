/* http://HOST[:PORT][/PATH]: where an HTTP robot POSTs its readings. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ingest_url.h"

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int posix_parse_ingest_url(const char *url, struct robot_config *cfg, char *err, size_t err_len)
{
	static const char scheme[] = "http://";
	const char *authority, *slash, *h;
	char hostport[ROBOT_HOST_MAX + 16];
	size_t alen, hlen;
	uint16_t p;

	if (strncmp(url, "https://", 8) == 0)
		return fail(err, err_len, "'%s': https is not supported (the device speaks plain "
			    "HTTP; put a TLS proxy in front of the endpoint)", url);
	if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		return fail(err, err_len, "'%s': must start with http://", url);
	authority = url + sizeof(scheme) - 1;
	slash = strchr(authority, '/');
	alen = slash ? (size_t)(slash - authority) : strlen(authority);
	if (alen == 0)
		return fail(err, err_len, "'%s': no host after http://", url);
	if (memchr(authority, '@', alen))
		return fail(err, err_len, "'%s': user information (user@host) is not supported",
			    url);
	if (alen >= sizeof(hostport))
		return fail(err, err_len, "'%s': the host is longer than %d characters", url,
			    ROBOT_HOST_MAX);
	memcpy(hostport, authority, alen);
	hostport[alen] = '\0';
	/* The broker's HOST[:PORT] rules, with HTTP's own default port. */
	if (robot_config_split_broker(hostport, &h, &hlen, &p) < 0)
		return fail(err, err_len, "'%s': '%s' is not HOST[:PORT] (port 1-65535, IPv6 "
			    "in brackets)", url, hostport);
	if (hlen > ROBOT_HOST_MAX)
		return fail(err, err_len, "'%s': the host is longer than %d characters", url,
			    ROBOT_HOST_MAX);
	if (!strchr(hostport[0] == '[' ? strchr(hostport, ']') : hostport, ':'))
		p = 80;
	if (slash) {
		if (strlen(slash) > ROBOT_PATH_MAX)
			return fail(err, err_len, "'%s': the path is longer than %d bytes", url,
				    ROBOT_PATH_MAX);
		for (const char *q = slash; *q; q++)
			if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f || *q == '#')
				return fail(err, err_len, "'%s': the path has a space, a control "
					    "character, a fragment or a non-ASCII byte", url);
	}
	memcpy(cfg->ingest_host, h, hlen);
	cfg->ingest_host[hlen] = '\0';
	cfg->ingest_port = p;
	snprintf(cfg->ingest_path, sizeof(cfg->ingest_path), "%s",
		 slash && slash[1] ? slash : "/api/sensors/data");
	return 0;
}
