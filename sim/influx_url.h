/* Where the live InfluxDB feed writes: its URL checked up front and the write request built from it. */
#ifndef SIM_INFLUX_URL_H
#define SIM_INFLUX_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INFLUX_URL_MAX 512

/* An InfluxDB base URL, split: scheme://host[:port][/prefix]. */
struct influx_url {
	bool https;
	char host[256];         /* without the brackets of an IPv6 literal */
	uint16_t port;          /* the scheme's default when the URL gives none */
	char prefix[256];       /* path before /write, without its trailing '/'; "" for none */
};

/*
 * Parse @text as http[s]://HOST[:PORT][/PATH]. No user info, query or
 * fragment: a write URL is built from it. Returns 0 or -EINVAL with a
 * reason in @why.
 */
int influx_url_parse(const char *text, struct influx_url *out, char *why, size_t why_len);

/* Who receives the points: 1.x (db) or 2.x (org, bucket, token). */
struct influx_target {
	const char *db;         /* 1.x database; used when bucket is NULL */
	const char *org, *bucket, *token; /* 2.x: all three */
};

/*
 * The write endpoint for @t on @u, points in milliseconds: 1.x
 * /write?db=D&precision=ms, 2.x /api/v2/write?org=O&bucket=B&precision=ms,
 * names percent-encoded. @auth gets the Authorization header line for 2.x
 * ("" for 1.x). Returns 0, -EINVAL (target incomplete) or -ENAMETOOLONG.
 */
int influx_url_write_request(const struct influx_url *u, const struct influx_target *t,
			     char *url, size_t url_len, char *auth, size_t auth_len);

/* The /ping URL: is the server there at all. Returns 0 or -ENAMETOOLONG. */
int influx_url_ping(const struct influx_url *u, char *url, size_t url_len);

#endif /* SIM_INFLUX_URL_H */
