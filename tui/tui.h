/* `robofleet top`: the live dashboard of a run, standalone or inside `robofleet run --tui`. */
#ifndef TUI_H
#define TUI_H

#include <stdatomic.h>
#include <stdbool.h>

struct tui_opts {
	const char *run_dir;
	int refresh_ms;             /* 0: 200 (5 Hz) */
	/* Inside `robofleet run --tui`: the run sets *stop when it ends, and
	 * on_quit is called when the person presses q. */
	bool embedded;
	atomic_bool *stop;
	void (*on_quit)(void *ctx);
	void *ctx;
};

/*
 * Show the dashboard until q, SIGINT/SIGTERM/SIGHUP (standalone), the end
 * of the watched run, or *stop. The terminal is restored on every way out.
 * Returns 0, 1 when it could not start (message on stderr), or 3 when the
 * watched run ended while it was shown.
 */
int tui_top(const struct tui_opts *o);

/* The `robofleet top RUN_DIR [--refresh MS]` command. Returns an exit status. */
int tui_top_main(int argc, char **argv);

#endif /* TUI_H */
