/* The virtual network: name table, where a connection leads, and the access point. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net_names.h"

#define NAME_MAX_LEN 253        /* a DNS name without its trailing dot */
#define LABEL_MAX_LEN 63
#define MQTT_PORT 1883
#define MQTTS_PORT 8883

static struct shim_net current = {
	.broker_host = "127.0.0.1",
	.broker_port = MQTT_PORT,
	.default_action = SHIM_DNS_BROKER,
};

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void shim_net_defaults(struct shim_net *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->broker_host, sizeof(n->broker_host), "127.0.0.1");
	n->broker_port = MQTT_PORT;
	n->default_action = SHIM_DNS_BROKER;
}

void shim_net_set(const struct shim_net *n)
{
	if (n)
		current = *n;
}

const struct shim_net *shim_net_get(void)
{
	return &current;
}

/* Length of @s without one trailing dot: "example.com." and "example.com" are one name. */
static size_t name_len(const char *s, size_t len)
{
	return len > 1 && s[len - 1] == '.' ? len - 1 : len;
}

static bool is_ipv6(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct in6_addr a;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/*
 * A host name (labels of letters, digits, '-' and '_' joined by dots; '_'
 * because real service names use it) or an IP address. @len excludes any
 * trailing dot.
 */
static bool host_ok(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	if (memchr(s, ':', len))
		return is_ipv6(s, len);
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
		if (++label > LABEL_MAX_LEN)
			return false;
	}
	return label > 0;
}

static bool same_name(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "HOST", "HOST:PORT", "[v6]" or "[v6]:PORT" into @e (port 0: none given). */
static int parse_target(const char *t, struct shim_dns_entry *e, char *err, size_t err_len)
{
	const char *host = t, *colon;
	size_t hlen;

	e->port = 0;
	if (*t == '[') {
		const char *close = strchr(t, ']');

		host = t + 1;
		if (!close || !is_ipv6(host, (size_t)(close - host)))
			return fail(err, err_len, "'%s': write an IPv6 address as [ADDRESS]:PORT",
				    t);
		hlen = (size_t)(close - host);
		if (close[1] && (close[1] != ':' || parse_port(close + 2, &e->port) < 0))
			return fail(err, err_len, "'%s': the port after [ADDRESS] must be :1-65535",
				    t);
	} else {
		colon = strchr(t, ':');
		if (colon && strchr(colon + 1, ':'))
			return fail(err, err_len, "'%s': an IPv6 address goes in brackets: "
				    "[ADDRESS]:PORT", t);
		hlen = colon ? (size_t)(colon - t) : strlen(t);
		if (colon && parse_port(colon + 1, &e->port) < 0)
			return fail(err, err_len, "'%s': the port must be 1-65535", t);
		if (!host_ok(host, name_len(host, hlen)))
			return fail(err, err_len, "'%s' is not broker, nxdomain, HOST or HOST:PORT",
				    t);
	}
	if (hlen >= sizeof(e->host))
		return fail(err, err_len, "'%s': the host is too long", t);
	memcpy(e->host, host, hlen);
	e->host[hlen] = '\0';
	e->action = SHIM_DNS_ADDRESS;
	return 0;
}

int shim_net_add_dns(struct shim_net *n, const char *spec, char *err, size_t err_len)
{
	struct shim_dns_entry e;
	const char *eq, *target;
	size_t len;
	int rc;

	if (!n || !spec || !*spec)
		return fail(err, err_len, "empty: want NAME=TARGET, e.g. broker.hivemq.com=broker");
	eq = strchr(spec, '=');
	if (!eq)
		return fail(err, err_len, "'%s' is not NAME=TARGET, e.g. broker.hivemq.com=broker",
			    spec);
	len = name_len(spec, (size_t)(eq - spec));
	if (eq == spec)
		return fail(err, err_len, "'%s' has no NAME before '='", spec);
	if (!host_ok(spec, len))
		return fail(err, err_len, "'%.*s' is not a host name or an IP address",
			    (int)(eq - spec), spec);
	for (size_t i = 0; i < n->n_entries; i++)
		if (same_name(n->entries[i].name, strlen(n->entries[i].name), spec, len))
			return fail(err, err_len, "'%.*s' is given twice", (int)len, spec);
	if (n->n_entries >= SHIM_DNS_ENTRIES_MAX)
		return fail(err, err_len, "more than %d names", SHIM_DNS_ENTRIES_MAX);

	memset(&e, 0, sizeof(e));
	memcpy(e.name, spec, len);
	target = eq + 1;
	/* Any case: host names have none, so a host "Broker" is the keyword. */
	if (strcasecmp(target, "broker") == 0) {
		e.action = SHIM_DNS_BROKER;
	} else if (strcasecmp(target, "nxdomain") == 0) {
		e.action = SHIM_DNS_NXDOMAIN;
	} else if (!*target) {
		return fail(err, err_len, "'%s' has no target: broker, nxdomain, HOST or HOST:PORT",
			    spec);
	} else if ((rc = parse_target(target, &e, err, err_len)) < 0) {
		return rc;
	}
	n->entries[n->n_entries++] = e;
	return 0;
}

/* ---- resolving ------------------------------------------------------------- */

static const struct shim_dns_entry *find_entry(const struct shim_net *n, const char *name,
					       size_t len)
{
	for (size_t i = 0; i < n->n_entries; i++)
		if (same_name(n->entries[i].name, strlen(n->entries[i].name), name, len))
			return &n->entries[i];
	return NULL;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* @host numeric, else through the machine's own resolver. */
static int lookup(const char *host, uint16_t port, struct sockaddr_storage *out,
		  socklen_t *out_len)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		hints.ai_flags = 0;
		rc = getaddrinfo(host, NULL, &hints, &res);
	}
	if (rc != 0 || !res)
		return -ENOENT;
	if (res->ai_addrlen > sizeof(*out)) {
		freeaddrinfo(res);
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*out_len = res->ai_addrlen;
	freeaddrinfo(res);
	set_port(out, port);
	return 0;
}

static int follow(const struct shim_net *n, enum shim_dns_action action, const char *host,
		  uint16_t entry_port, uint16_t port, struct sockaddr_storage *out,
		  socklen_t *out_len)
{
	switch (action) {
	case SHIM_DNS_BROKER:
		/* Only MQTT's own ports move: a sketch that also talks HTTP to
		 * the same name keeps its port. */
		if (port == MQTT_PORT || port == MQTTS_PORT)
			port = n->broker_port;
		return lookup(n->broker_host[0] ? n->broker_host : "127.0.0.1", port, out,
			      out_len);
	case SHIM_DNS_ADDRESS:
		return lookup(host, entry_port ? entry_port : port, out, out_len);
	case SHIM_DNS_NXDOMAIN:
	default:
		return -ENOENT;
	}
}

/* A loopback address written as @s, in @out with @port. */
static bool loopback_literal(const char *s, uint16_t port, struct sockaddr_storage *out,
			     socklen_t *out_len)
{
	struct in_addr a4;
	struct in6_addr a6;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &a4) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		if ((ntohl(a4.s_addr) >> 24) != 127)
			return false;
		sin->sin_family = AF_INET;
		sin->sin_addr = a4;
		sin->sin_port = htons(port);
		*out_len = sizeof(*sin);
		return true;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		if (!IN6_IS_ADDR_LOOPBACK(&a6) &&
		    !(IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127))
			return false;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a6;
		sin6->sin6_port = htons(port);
		*out_len = sizeof(*sin6);
		return true;
	}
	return false;
}

int shim_net_resolve(const char *name, uint16_t port, struct sockaddr_storage *out,
		     socklen_t *out_len)
{
	const struct shim_net *n = &current;
	const struct shim_dns_entry *e;
	size_t len;

	if (!name || !*name || !out || !out_len)
		return -EINVAL;
	len = name_len(name, strlen(name));
	if (len > NAME_MAX_LEN)
		return -ENOENT;
	e = find_entry(n, name, len);
	if (e)
		return follow(n, e->action, e->host, e->port, port, out, out_len);
	/* The broker's own address on an MQTT port is the broker: that is the
	 * address WiFi.hostByName() gave for a name that leads there, and a
	 * sketch connects to it by IP on the port it hard-codes. */
	if ((port == MQTT_PORT || port == MQTTS_PORT) && n->broker_port &&
	    strcmp(name, n->broker_host[0] ? n->broker_host : "127.0.0.1") == 0)
		return follow(n, SHIM_DNS_BROKER, NULL, 0, port, out, out_len);
	if (loopback_literal(name, port, out, out_len))
		return 0;
	/* Junk no resolver would answer does not reach the broker either. */
	if (!host_ok(name, len))
		return -ENOENT;
	return follow(n, n->default_action, NULL, 0, port, out, out_len);
}

int shim_net_ap_check(const char *ssid, const char *password)
{
	const struct shim_net *n = &current;

	if (!ssid || !*ssid)
		return -ENOENT;
	if (!n->ap_set)
		return 0;
	if (strcmp(ssid, n->ssid) != 0)
		return -ENOENT;
	return strcmp(password ? password : "", n->password) == 0 ? 0 : -EACCES;
}
