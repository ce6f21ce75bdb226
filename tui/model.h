/*
 * The dashboard's model: what the screen shows, as plain data. Built from
 * the world file and the run database by source.c, drawn by render.c, and
 * tested without a terminal. Everything here is pure.
 */
#ifndef TUI_MODEL_H
#define TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "world.h"

/* A device as the dashboard classifies it; the header counts these. */
enum tui_state {
	TUI_ONLINE,
	TUI_OFFLINE,
	TUI_BOOTING,
	TUI_FAULTED,     /* online, with a fault injected or a sensor failing */
	TUI_OFF,         /* power cut */
	TUI_STATE_COUNT,
};

enum tui_column {
	TUI_COL_ID,
	TUI_COL_STATE,
	TUI_COL_LINK,
	TUI_COL_MQTT,
	TUI_COL_TEMP,
	TUI_COL_HUM,
	TUI_COL_DIST,
	TUI_COL_AGE,
	TUI_COL_PUB,
	TUI_COL_ACK,
	TUI_COL_BUF,
	TUI_COL_FAULTS,
	TUI_COL_COUNT,
};

struct tui_device {
	char id[WORLD_ID_MAX + 1];
	enum tui_state state;
	uint32_t robot_state;       /* enum world_robot_state, from the report */
	uint32_t link_mode;         /* enum world_link_mode injected */
	bool weak;                  /* wifi_weak injected */
	bool alive;                 /* its process exists */
	bool temp_ok, dist_ok;      /* the values below mean something */
	int32_t temp_dc;
	uint32_t humidity_dpct;
	uint32_t distance_mm;
	int64_t last_ms;            /* wall ms of its last recorded message; 0: none */
	uint32_t published, acknowledged, buffered;
	uint32_t reconnects;        /* MQTT sessions after the first (a client id taken over shows here) */
	uint32_t fault_mask;        /* bit per fault kind (fault_catalog.h) */
	bool marked;
};

#define TUI_RATE_HISTORY 180        /* seconds of msgs/s kept for the sparkline */
#define TUI_HISTORY 120             /* readings kept for the detail sparklines */
#define TUI_LOG_LINES 16
#define TUI_EVENTS 256

struct tui_header {
	char run_name[64];
	struct world_run run;
	bool broker_up;
	bool run_alive;             /* the orchestrator still exists */
	bool control_ok;            /* requests can be sent */
	int64_t now_ms;             /* wall clock of this model */
	uint32_t counts[TUI_STATE_COUNT];
	double msgs_per_s;
	double rate[TUI_RATE_HISTORY];  /* oldest first */
	size_t n_rate;
	uint64_t lost, duplicated;
};

struct tui_event {
	int64_t ms;
	char text[112];
	int kind;                   /* enum tui_event_kind */
};

enum tui_event_kind { TUI_EV_FAULT, TUI_EV_STATUS, TUI_EV_CRASH, TUI_EV_EXPECT, TUI_EV_INFO,
		      TUI_EV_ALERT };

struct tui_detail {
	char id[WORLD_ID_MAX + 1];  /* whose history this is */
	double temp[TUI_HISTORY], hum[TUI_HISTORY], dist[TUI_HISTORY]; /* oldest first, NAN: none */
	size_t n;
	char log[TUI_LOG_LINES][200];
	size_t n_log;
};

struct tui_model {
	struct tui_header hdr;
	struct tui_device *dev;
	size_t n_dev;
	/* the table: indices into dev[], filtered and sorted */
	size_t *view;
	size_t n_view;
	enum tui_column sort_col;
	bool sort_desc;
	char filter[64];
	size_t sel;                 /* row in view */
	size_t top;                 /* first row shown */
	struct tui_detail detail;
	struct tui_event events[TUI_EVENTS]; /* ring */
	size_t ev_next, ev_count;
};

/* Allocate for @n devices (zeroed). Returns 0 or -ENOMEM. */
int tui_model_init(struct tui_model *m, size_t n);
void tui_model_free(struct tui_model *m);

/* Classify one device from what its slot says. */
enum tui_state tui_state_of(uint32_t power, bool reported, const struct world_report *rep,
			    uint32_t fault_mask, bool alive);

/* Recount hdr.counts from dev[]. */
void tui_count_states(struct tui_model *m);

/* Whether @d passes @filter: a substring of its id, its state name, or the
 * name of one of its faults (case-insensitive); "" passes everything. */
bool tui_filter_match(const struct tui_device *d, const char *filter);

/* Order of two devices by @col (ties by id). */
int tui_compare(const struct tui_device *a, const struct tui_device *b, enum tui_column col);

/* Rebuild view[] from filter and sort, keeping the selected device
 * selected when it is still shown. */
void tui_view_update(struct tui_model *m);

/* Move the selection by @delta rows (clamped) and scroll so it shows in a
 * table of @rows rows. */
void tui_select_move(struct tui_model *m, long delta, size_t rows);

/* The selected device, or NULL when the view is empty. */
struct tui_device *tui_selected(struct tui_model *m);

void tui_event_add(struct tui_model *m, int64_t ms, int kind, const char *text);
/* The @i-th newest event (0: newest), or NULL. */
const struct tui_event *tui_event_get(const struct tui_model *m, size_t i);

#endif /* TUI_MODEL_H */
