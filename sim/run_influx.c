/* `robofleet run --influx`: the options checked up front, the live feed started and stopped around the recorder. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "influx.h"
#include "influx_url.h"
#include "run_internal.h"

#define INFLUX_FLUSH_MS 10000   /* the feed's last writes at the end, at most */

static struct influx_target target_of(const struct run_options *o)
{
	return (struct influx_target){ .db = o->influx_db ? o->influx_db : "robofleet",
				       .org = o->influx_org, .bucket = o->influx_bucket,
				       .token = o->influx_token };
}

int run__check_influx(const struct run_options *o)
{
	struct influx_target t = target_of(o);
	struct influx_url u;
	char why[256], url[INFLUX_URL_MAX + 256], auth[512];

	if (!o->influx_url) {
		if (o->influx_db || o->influx_org || o->influx_bucket || o->influx_token) {
			fprintf(stderr, "robofleet: --influx-db, --influx-token, --influx-org and "
				"--influx-bucket need --influx URL\n");
			return -EINVAL;
		}
		return 0;
	}
	if (influx_url_parse(o->influx_url, &u, why, sizeof(why)) < 0) {
		fprintf(stderr, "robofleet: --influx '%s': %s (want http[s]://HOST[:PORT])\n",
			o->influx_url, why);
		return -EINVAL;
	}
	if ((o->influx_org || o->influx_bucket || o->influx_token) && o->influx_db) {
		fprintf(stderr, "robofleet: --influx-db is for InfluxDB 1.x; 2.x takes "
			"--influx-token, --influx-org and --influx-bucket\n");
		return -EINVAL;
	}
	if (influx_url_write_request(&u, &t, url, sizeof(url), auth, sizeof(auth)) < 0) {
		fprintf(stderr, "robofleet: --influx '%s': InfluxDB 2.x needs all of --influx-token, "
			"--influx-org and --influx-bucket (or none, for 1.x)\n", o->influx_url);
		return -EINVAL;
	}
	return 0;
}

int run__start_influx(struct run *r, const char *db_path)
{
	const struct run_options *o = r->opt;
	struct influx_feed_opts fo = {
		.url = o->influx_url, .target = target_of(o), .db_path = db_path,
		.interval_ms = 1000, .max_points = 5000, .attempts = 3, .request_timeout_ms = 5000,
	};
	int rc;

	if (!o->influx_url)
		return 0;
	if ((rc = influx_feed_start(&fo, &r->influx)) < 0) {
		fprintf(stderr, "robofleet: --influx %s: cannot start the feed: %s\n", o->influx_url,
			strerror(-rc));
		return rc;
	}
	run__say(r, "robofleet: writing readings live to InfluxDB at %s\n", o->influx_url);
	return 0;
}

void run__stop_influx(struct run *r)
{
	if (!r->influx)
		return;
	influx_feed_stop(r->influx, INFLUX_FLUSH_MS, &r->influx_stats);
	r->influx = NULL;
}
