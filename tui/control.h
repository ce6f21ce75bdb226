/*
 * The dashboard's request channel into a running `robofleet run`: a FIFO,
 * <run dir>/control, that the run creates and reads in its engine's sleep
 * loop. One request is one text line, written with a single write() of at
 * most CONTROL_LINE_MAX bytes (below PIPE_BUF, so lines from several
 * dashboards never interleave):
 *
 *   fault   <device> <kind>          inject a fault kind with its defaults
 *   clear   <device> [<kind>]        clear one kind, or every fault
 *   power   <device> cut|restore|cycle
 *   command <device> stop|start      publish a command, as a cloud app would
 *   broker  stop|start|restart|kill
 *
 * The run applies each through the same functions as scenario steps and
 * records it in the faults table with source 'dashboard'; the answer is
 * what the world file and the record show next. Anyone can write to it:
 *   echo 'fault lab_003 wifi_drop' > runs/<dir>/control
 *
 * This is the line format and the dashboard's (writing) side; the run's
 * reading side is sim/control_reader.h.
 */
#ifndef TUI_CONTROL_H
#define TUI_CONTROL_H

#include <stddef.h>

#include "world.h"

#define CONTROL_LINE_MAX 128
#define CONTROL_FILE "control"

enum control_verb {
	CONTROL_FAULT,
	CONTROL_CLEAR,
	CONTROL_POWER,
	CONTROL_COMMAND,
	CONTROL_BROKER,
};

struct control_request {
	enum control_verb verb;
	char device[WORLD_ID_MAX + 1];  /* empty for broker */
	char arg[32];                   /* kind, power/command/broker action; may be empty for clear */
};

/* Format @r as one line (with its '\n') into @buf. Returns the length, or
 * -EINVAL when it would not fit or a field is missing. */
int control_format(const struct control_request *r, char *buf, size_t len);

/* Parse one line (with or without '\n'). Returns 0 or -EINVAL. The
 * argument is checked for its verb's words, not for fault kind names. */
int control_parse(const char *line, struct control_request *out);

/* Dashboard side: write @n requests into @run_dir's FIFO. Returns 0,
 * -ENXIO when no run is reading it (the run has ended), or a negative errno. */
int control_send(const char *run_dir, const struct control_request *r, size_t n);

#endif /* TUI_CONTROL_H */
