/* The live status line of `robofleet run`: formatting and when to show it. */
#include <stdio.h>
#include <string.h>

#include "progress.h"

size_t progress_format_line(char *buf, size_t len, const struct progress_state *s, size_t width)
{
	long long sec = s->elapsed_ms / 1000;
	char head[160], tail[200], step[72];
	size_t n, room;

	if (len == 0)
		return 0;
	snprintf(head, sizeof(head), "[%02lld:%02lld:%02lld] step %u/%u ", sec / 3600, sec / 60 % 60,
		 sec % 60, s->steps_started, s->steps_total);
	snprintf(tail, sizeof(tail), " | online %zu/%zu | %.0f readings/s | lost %llu | "
		 "expectations %u passed, %u failed", s->online, s->total, s->readings_per_s,
		 (unsigned long long)s->lost, s->passed, s->failed);
	snprintf(step, sizeof(step), "%s", s->step && s->step[0] ? s->step : "-");
	/* Narrow terminal: the step's text gives way first, then the end of the line. */
	if (width && strlen(head) + strlen(step) + strlen(tail) > width) {
		room = width > strlen(head) + strlen(tail) + 4 ? width - strlen(head) - strlen(tail) : 4;
		if (room < strlen(step)) {
			step[room - 1] = '\0';
			step[room - 2] = '~';
		}
	}
	n = (size_t)snprintf(buf, len, "%s%s%s", head, step, tail);
	if (n >= len)
		n = len - 1;
	if (width && n > width) {
		buf[width] = '\0';
		n = width;
	}
	return n;
}

void progress_init(struct progress *p, FILE *out, bool enabled, bool tty)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->enabled = enabled;
	p->tty = tty;
	p->last_ms = INT64_MIN / 2;
}

bool progress_due(const struct progress *p, int64_t now_ms)
{
	return p->enabled && now_ms - p->last_ms >= (p->tty ? PROGRESS_TTY_MS : PROGRESS_LOG_MS);
}

void progress_show(struct progress *p, const char *line, int64_t now_ms)
{
	if (!p->enabled)
		return;
	if (p->tty) {
		fprintf(p->out, "\r\033[K%s", line);
		p->shown = true;
	} else {
		fprintf(p->out, "progress: %s\n", line);
	}
	fflush(p->out);
	p->last_ms = now_ms;
}

void progress_clear(struct progress *p)
{
	if (!p || !p->enabled || !p->tty || !p->shown)
		return;
	fputs("\r\033[K", p->out);
	fflush(p->out);
	p->shown = false;
}
