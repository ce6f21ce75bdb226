/* The dashboard's loop: refresh the model at 5 Hz, read keys, draw what changed. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>

#include "input.h"
#include "render.h"
#include "source.h"
#include "tui.h"

#define DB_PERIOD_MS 1000

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_signals(struct sigaction *old)
{
	struct sigaction sa;
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() returns at once and the loop sees the flag. */
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
}

static void restore_signals(const struct sigaction *old)
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };

	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
}

/* The world file appears a moment after `robofleet run` starts. */
static int attach(struct tui_source *src, const char *dir, struct tui_model *m)
{
	int rc = -ENOENT;

	for (int tries = 0; tries < 50; tries++) {
		if ((rc = tui_source_open(src, dir, m)) != -ENOENT)
			break;
		usleep(100000);
	}
	return rc;
}

int tui_top(const struct tui_opts *o)
{
	struct tui_source src;
	struct tui_model m;
	struct tui_ui ui;
	struct tui_screen *scr;
	struct sigaction old[3];
	int period = o->refresh_ms > 0 ? o->refresh_ms : 200, rc, status = 0;
	int64_t next_tick, next_db = 0;
	bool was_alive = false, quit = false;
	unsigned dirty = TUI_PANEL_ALL;
	char ended[200] = "";

	if ((rc = attach(&src, o->run_dir, &m)) < 0) {
		fprintf(stderr, "robofleet top: %s/world: %s\n", o->run_dir,
			rc == -EPROTO ? "not a world file of this version" : strerror(-rc));
		return 1;
	}
	memset(&ui, 0, sizeof(ui));
	ui.embedded = o->embedded;
	setlocale(LC_ALL, "");
	ui.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if (!o->embedded)
		set_signals(old);
	scr = tui_screen_open(&ui);
	if (!scr) {
		fprintf(stderr, "robofleet top: not a terminal\n");
		if (!o->embedded)
			restore_signals(old);
		tui_source_close(&src);
		tui_model_free(&m);
		return 1;
	}
	next_tick = mono_ms();
	while (!quit) {
		int64_t now = mono_ms();
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int ch;

		if (got_signal || (o->stop && atomic_load(o->stop)))
			break;
		if (now >= next_tick) {
			bool db = now >= next_db;
			char path[4200];

			tui_source_refresh(&src, &m, db);
			if (db) {
				next_db = now + DB_PERIOD_MS;
				snprintf(path, sizeof(path), "%s/control", o->run_dir);
				m.hdr.control_ok = access(path, W_OK) == 0;
				dirty |= TUI_PANEL_DETAIL | TUI_PANEL_EVENTS;
			}
			tui_view_update(&m);
			tui_select_move(&m, 0, (size_t)tui_layout_table_rows(tui_screen_layout(scr)));
			dirty |= TUI_PANEL_HEADER | TUI_PANEL_TABLE;
			/* A run we saw alive is gone: say so after restoring the terminal. */
			if (m.hdr.run_alive)
				was_alive = true;
			else if (was_alive && !o->embedded) {
				snprintf(ended, sizeof(ended), "robofleet top: the run ended (%s); see %s/summary.json",
					 m.hdr.run.phase == WORLD_RUN_FINISHED ? "finished" :
					 m.hdr.run.phase == WORLD_RUN_INTERRUPTED ? "interrupted" : "exited or crashed",
					 o->run_dir);
				status = 3;
				break;
			}
			next_tick += period;
			if (next_tick <= now)
				next_tick = now + period;
		}
		while ((ch = getch()) != ERR) {
			int r;

			if (ch == KEY_RESIZE) {
				tui_screen_resize(scr);
				dirty = TUI_PANEL_ALL;
				continue;
			}
			r = tui_input_key(ch, &m, &ui, o->run_dir,
					  tui_layout_table_rows(tui_screen_layout(scr)), &dirty);
			if (r & TUI_QUIT) {
				quit = true;
				break;
			}
			if (r & TUI_RESORT)
				tui_view_update(&m);
		}
		if (quit)
			break;
		if (dirty) {
			/* The selection may have moved to another device: its history now. */
			struct tui_device *sel = tui_selected(&m);
			if (sel && strcmp(sel->id, m.detail.id)) {
				tui_source_refresh(&src, &m, false);
				dirty |= TUI_PANEL_DETAIL;
			}
			tui_screen_draw(scr, &m, &ui, dirty);
			dirty = 0;
		}
		now = mono_ms();
		poll(&p, 1, next_tick > now ? (int)(next_tick - now) : 0);
	}
	tui_screen_close(scr);
	if (!o->embedded)
		restore_signals(old);
	if (ended[0])
		fprintf(stderr, "%s\n", ended);
	if (quit && o->on_quit)
		o->on_quit(o->ctx);
	tui_source_close(&src);
	tui_model_free(&m);
	if (got_signal && !o->embedded)
		status = 128 + got_signal;
	return status;
}

int tui_top_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "refresh", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tui_opts o;
	int c;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.refresh_ms = atoi(optarg);
			if (o.refresh_ms < 100 || o.refresh_ms > 1000) {
				fprintf(stderr, "robofleet top: --refresh: 100..1000 ms\n");
				return 2;
			}
			break;
		case 'h':
			puts("usage: robofleet top RUN_DIR [--refresh MS]\n"
			     "Watch a run (runs/<utc>-<name>) live; keys: ? in the dashboard.");
			return 0;
		default:
			fprintf(stderr, "robofleet top: bad option %s (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "robofleet top: give one run directory (see --help)\n");
		return 2;
	}
	o.run_dir = argv[optind];
	return tui_top(&o);
}
