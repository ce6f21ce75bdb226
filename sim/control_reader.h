/*
 * The run's side of the dashboard's request FIFO (<run dir>/control): create
 * it, wait on it, read the requests in it. The line format and the sending
 * side are the dashboard's (tui/control.h).
 */
#ifndef SIM_CONTROL_READER_H
#define SIM_CONTROL_READER_H

#include <stddef.h>

#include "control.h"

struct control {
	int rfd, wfd;                   /* wfd keeps the FIFO open: no EOF between writers */
	char path[4200];
	char buf[4 * CONTROL_LINE_MAX];
	size_t used;
};

/* Create <run_dir>/control and open it. Returns 0 or a negative errno. */
int control_open(struct control *c, const char *run_dir);
/* The descriptor to poll for POLLIN, -1 when closed. */
int control_fd(const struct control *c);
/* Read what is waiting and call @apply for each well-formed line, in
 * order; malformed lines are skipped. Returns the number applied. */
int control_drain(struct control *c, void (*apply)(void *ctx, const struct control_request *r),
		  void *ctx);
/* Close and remove the FIFO. Safe to call twice. */
void control_close(struct control *c);

#endif /* SIM_CONTROL_READER_H */
