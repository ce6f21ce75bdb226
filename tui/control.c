/* The dashboard's request FIFO: the line format and sending requests. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control.h"

static const char *const verb_names[] = {
	[CONTROL_FAULT] = "fault",
	[CONTROL_CLEAR] = "clear",
	[CONTROL_POWER] = "power",
	[CONTROL_COMMAND] = "command",
	[CONTROL_BROKER] = "broker",
};

static bool word_in(const char *w, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(w, *set))
			return true;
	return false;
}

static bool arg_ok(enum control_verb v, const char *arg)
{
	static const char *const power[] = { "cut", "restore", "cycle", NULL };
	static const char *const command[] = { "stop", "start", NULL };
	static const char *const broker[] = { "stop", "start", "restart", "kill", NULL };

	switch (v) {
	case CONTROL_FAULT: return arg[0] != '\0';
	case CONTROL_CLEAR: return true;
	case CONTROL_POWER: return word_in(arg, power);
	case CONTROL_COMMAND: return word_in(arg, command);
	case CONTROL_BROKER: return word_in(arg, broker);
	}
	return false;
}

int control_format(const struct control_request *r, char *buf, size_t len)
{
	int n;

	if ((unsigned)r->verb > CONTROL_BROKER || !arg_ok(r->verb, r->arg) ||
	    (r->verb != CONTROL_BROKER && !r->device[0]) || strpbrk(r->device, " \t\n"))
		return -EINVAL;
	if (r->verb == CONTROL_BROKER)
		n = snprintf(buf, len, "broker %s\n", r->arg);
	else
		n = snprintf(buf, len, "%s %s%s%s\n", verb_names[r->verb], r->device,
			     r->arg[0] ? " " : "", r->arg);
	if (n < 0 || (size_t)n >= len || n > CONTROL_LINE_MAX)
		return -EINVAL;
	return n;
}

int control_parse(const char *line, struct control_request *out)
{
	char verb[16], a[WORLD_ID_MAX + 2], b[40], extra[2];
	int n;

	memset(out, 0, sizeof(*out));
	a[0] = b[0] = '\0';
	n = sscanf(line, "%15s %33s %39s %1s", verb, a, b, extra);
	if (n < 2 || n > 3)
		return -EINVAL;
	for (int v = 0; v <= CONTROL_BROKER; v++) {
		if (strcmp(verb, verb_names[v]))
			continue;
		out->verb = (enum control_verb)v;
		/* Lengths are checked first, so plain copies cannot overrun
		 * (and the compiler need not prove it through snprintf). */
		if (v == CONTROL_BROKER) {
			if (n != 2 || strlen(a) >= sizeof(out->arg))
				return -EINVAL;
			memcpy(out->arg, a, strlen(a) + 1);
		} else {
			if (strlen(a) > WORLD_ID_MAX || strlen(a) >= sizeof(out->device) ||
			    strlen(b) >= sizeof(out->arg))
				return -EINVAL;
			memcpy(out->device, a, strlen(a) + 1);
			memcpy(out->arg, b, strlen(b) + 1);
		}
		return arg_ok(out->verb, out->arg) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int control_send(const char *run_dir, const struct control_request *r, size_t n)
{
	char path[4200], line[CONTROL_LINE_MAX + 1];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", run_dir, CONTROL_FILE);
	/* Non-blocking: with no reader, open fails with ENXIO instead of
	 * hanging the dashboard on a finished run. */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENXIO : -errno;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int len = control_format(&r[i], line, sizeof(line));
		ssize_t w;

		if (len < 0) {
			rc = len;
			break;
		}
		/* A full pipe (the run is busy, e.g. restarting the broker)
		 * waits a little rather than losing a request. */
		for (int tries = 0; tries < 200; tries++) {
			w = write(fd, line, (size_t)len);
			if (w >= 0 || errno != EAGAIN)
				break;
			usleep(5000);
		}
		if (w < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}
