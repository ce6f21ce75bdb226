/* The run's reader of the dashboard's request FIFO. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control_reader.h"

int control_open(struct control *c, const char *run_dir)
{
	memset(c, 0, sizeof(*c));
	c->rfd = c->wfd = -1;
	snprintf(c->path, sizeof(c->path), "%s/%s", run_dir, CONTROL_FILE);
	if (mkfifo(c->path, 0600) < 0 && errno != EEXIST)
		return -errno;
	c->rfd = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (c->rfd < 0)
		return -errno;
	/* Our own writer: without it, the read end reports EOF (POLLHUP)
	 * forever once the first dashboard closes its end. */
	c->wfd = open(c->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (c->wfd < 0) {
		int e = -errno;
		control_close(c);
		return e;
	}
	return 0;
}

int control_fd(const struct control *c)
{
	return c->rfd;
}

int control_drain(struct control *c, void (*apply)(void *ctx, const struct control_request *r),
		  void *ctx)
{
	int applied = 0;

	if (c->rfd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(c->rfd, c->buf + c->used, sizeof(c->buf) - 1 - c->used);
		char *start, *nl;

		if (n <= 0)
			break;
		c->used += (size_t)n;
		c->buf[c->used] = '\0';
		start = c->buf;
		while ((nl = strchr(start, '\n'))) {
			struct control_request r;

			*nl = '\0';
			if (control_parse(start, &r) == 0) {
				apply(ctx, &r);
				applied++;
			}
			start = nl + 1;
		}
		c->used -= (size_t)(start - c->buf);
		memmove(c->buf, start, c->used);
		/* A line longer than the buffer is garbage: drop it. */
		if (c->used == sizeof(c->buf) - 1)
			c->used = 0;
	}
	return applied;
}

void control_close(struct control *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0)
		close(c->wfd);
	if (c->rfd >= 0 || c->wfd >= 0)
		unlink(c->path);
	c->rfd = c->wfd = -1;
}
