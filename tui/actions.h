/* Fleet actions from the dashboard: requests on the run's control FIFO,
 * for the marked devices or else the selected one. */
#ifndef TUI_ACTIONS_H
#define TUI_ACTIONS_H

#include <stddef.h>

#include "control.h"
#include "model.h"

/*
 * Send @verb with @arg to every target device (or, for CONTROL_BROKER,
 * once). For "fault wifi_drop", a target whose link is already down gets
 * "clear wifi_drop" instead, so 'w' toggles. Writes a one-line result for
 * people into @msg. Returns the number of requests sent or a negative errno.
 */
int tui_action(struct tui_model *m, enum control_verb verb, const char *arg, const char *run_dir,
	       char *msg, size_t msglen);

/* The devices an action applies to: marked ones, else the selection.
 * Fills @out (capacity m->n_dev) and returns how many. */
size_t tui_action_targets(struct tui_model *m, size_t *out);

#endif /* TUI_ACTIONS_H */
