/* The live status line of `robofleet run`: one updating line on a terminal, a line now and then without one. */
#ifndef SIM_PROGRESS_H
#define SIM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* On a terminal the line is redrawn this often; without one (CI logs) a line at most this often. */
#define PROGRESS_TTY_MS 1000
#define PROGRESS_LOG_MS 10000

struct progress_state {
	int64_t elapsed_ms;
	const char *step;               /* "smoke.yaml:31 wait", or "" */
	uint32_t steps_started, steps_total;
	size_t online, total;
	double readings_per_s;
	uint64_t lost;
	uint32_t passed, failed;        /* expectations decided so far */
};

/*
 * The status line into @buf (always terminated), cut to @width columns
 * when @width is not 0, the step's text shortened first. Returns its length.
 */
size_t progress_format_line(char *buf, size_t len, const struct progress_state *s, size_t width);

struct progress {
	FILE *out;
	bool enabled, tty;
	bool shown;                     /* a line is on the terminal, not ended */
	int64_t last_ms;                /* when the last line was shown */
};

void progress_init(struct progress *p, FILE *out, bool enabled, bool tty);

/* Whether a line is due at @now_ms. */
bool progress_due(const struct progress *p, int64_t now_ms);

/* Show @line: over the last one on a terminal, as a line of its own otherwise. */
void progress_show(struct progress *p, const char *line, int64_t now_ms);

/* Take the line off the terminal before other output (safe to call always). */
void progress_clear(struct progress *p);

#endif /* SIM_PROGRESS_H */
