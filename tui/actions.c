/* Dashboard actions: the marked set or the selection, turned into control requests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"

size_t tui_action_targets(struct tui_model *m, size_t *out)
{
	size_t n = 0;
	struct tui_device *sel;

	for (size_t i = 0; i < m->n_dev; i++)
		if (m->dev[i].marked)
			out[n++] = i;
	if (n == 0 && (sel = tui_selected(m)))
		out[n++] = (size_t)(sel - m->dev);
	return n;
}

int tui_action(struct tui_model *m, enum control_verb verb, const char *arg, const char *run_dir,
	       char *msg, size_t msglen)
{
	size_t *targets, n;
	struct control_request *req;
	int rc;

	if (verb == CONTROL_BROKER) {
		struct control_request r = { .verb = CONTROL_BROKER };
		snprintf(r.arg, sizeof(r.arg), "%s", arg);
		rc = control_send(run_dir, &r, 1);
		snprintf(msg, msglen, rc == 0 ? "sent: broker %s" : "broker %s: %s", arg,
			 rc == -ENXIO ? "the run has ended; nothing to act on" : strerror(-rc));
		return rc < 0 ? rc : 1;
	}
	targets = malloc((m->n_dev ? m->n_dev : 1) * sizeof(*targets));
	req = calloc(m->n_dev ? m->n_dev : 1, sizeof(*req));
	if (!targets || !req) {
		free(targets);
		free(req);
		return -ENOMEM;
	}
	n = tui_action_targets(m, targets);
	for (size_t i = 0; i < n; i++) {
		const struct tui_device *d = &m->dev[targets[i]];

		req[i].verb = verb;
		snprintf(req[i].device, sizeof(req[i].device), "%s", d->id);
		snprintf(req[i].arg, sizeof(req[i].arg), "%s", arg);
		if (verb == CONTROL_FAULT && !strcmp(arg, "wifi_drop") && d->link_mode == WORLD_LINK_DOWN)
			req[i].verb = CONTROL_CLEAR;
	}
	rc = n ? control_send(run_dir, req, n) : 0;
	if (n == 0)
		snprintf(msg, msglen, "no device selected");
	else if (rc == -ENXIO)
		snprintf(msg, msglen, "the run has ended: actions are off");
	else if (rc < 0)
		snprintf(msg, msglen, "could not send: %s", strerror(-rc));
	else if (n == 1)
		snprintf(msg, msglen, "sent: %s %s %s", req[0].verb == CONTROL_CLEAR ? "clear" :
			 verb == CONTROL_FAULT ? "fault" : verb == CONTROL_POWER ? "power" :
			 verb == CONTROL_COMMAND ? "command" : "clear", req[0].device, req[0].arg);
	else
		snprintf(msg, msglen, "sent to %zu devices: %s", n, arg[0] ? arg : "clear");
	free(targets);
	free(req);
	return rc < 0 ? rc : (int)n;
}
