/* A bounded batch of line-protocol points for the live InfluxDB feed, and its written/dropped counts. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "influx_batch.h"
#include "influx_line.h"

static int open_stream(struct influx_batch *b)
{
	b->body = NULL;
	b->len = 0;
	b->f = open_memstream(&b->body, &b->len);
	return b->f ? 0 : -ENOMEM;
}

int influx_batch_init(struct influx_batch *b, size_t max_points)
{
	*b = (struct influx_batch){ .max_points = max_points };
	if (max_points == 0)
		return -EINVAL;
	return open_stream(b);
}

void influx_batch_free(struct influx_batch *b)
{
	if (b->f)
		fclose(b->f);
	free(b->body);
	b->f = NULL;
	b->body = NULL;
}

int influx_batch_add(struct influx_batch *b, const struct record_export_row *r)
{
	size_t n = influx_line_points(r);

	if (n > b->max_points) {
		b->dropped += n;
		return 0;
	}
	if (b->points + n > b->max_points)
		return -ENOBUFS;
	if (!b->f)
		return -ENOMEM;
	b->points += influx_line_write(b->f, r, true);
	return 0;
}

void influx_batch_drop(struct influx_batch *b, const struct record_export_row *r)
{
	b->dropped += influx_line_points(r);
}

int influx_batch_body(struct influx_batch *b, const char **body, size_t *len)
{
	if (!b->f || fflush(b->f) != 0 || ferror(b->f))
		return -ENOMEM;
	*body = b->points ? b->body : NULL;
	*len = b->points ? b->len : 0;
	return 0;
}

int influx_batch_done(struct influx_batch *b, bool ok)
{
	if (ok) {
		b->written += b->points;
	} else if (b->points) {
		b->dropped += b->points;
		b->failed_batches++;
	}
	b->points = 0;
	if (b->f)
		fclose(b->f);
	free(b->body);
	return open_stream(b);
}
