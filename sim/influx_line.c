/* Readings as InfluxDB line protocol in the tutorial's schema (measurement per metric, tag device, field value). */
#include "influx_line.h"

static const char *const metric_names[RECORD_METRIC_COUNT] = { "temperature", "humidity", "distance" };

/* Line protocol tag values escape commas, spaces and equals signs. */
static void put_tag(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == ',' || *v == ' ' || *v == '=')
			fputc('\\', f);
		fputc(*v, f);
	}
}

size_t influx_line_points(const struct record_export_row *r)
{
	size_t n = 0;

	for (int m = 0; m < RECORD_METRIC_COUNT; m++)
		n += r->has[m];
	return n;
}

size_t influx_line_write(FILE *f, const struct record_export_row *r, bool ms)
{
	/* Device time when it sent one: that is when the robot measured. */
	long long t = r->has_ts ? (long long)r->ts_ms : (long long)r->recv_ms;
	size_t n = 0;

	for (int m = 0; m < RECORD_METRIC_COUNT; m++) {
		if (!r->has[m])
			continue; /* a failed sensor has no point, not a zero */
		fprintf(f, "%s,device=", metric_names[m]);
		put_tag(f, r->device_id ? r->device_id : "");
		fprintf(f, " value=%.10g,boot=%lldi,seq=%lldi %lld%s\n", r->value[m],
			(long long)r->boot, (long long)r->seq, t, ms ? "" : "000000");
		n++;
	}
	return n;
}
