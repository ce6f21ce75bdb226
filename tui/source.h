/* Fills the dashboard model from a run directory: the world file every
 * tick, the run database (read-only) about once a second. */
#ifndef TUI_SOURCE_H
#define TUI_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "record.h"
#include "world.h"

struct tui_source {
	char dir[4096];
	struct world world;
	struct record *rec;         /* NULL until record.db can be read */
	size_t *by_id;              /* slot indices sorted by id, for the db's rows */
	bool *was_alive;
	bool started;               /* one refresh done: transitions are news */
	int64_t msgs, msgs_ms;      /* message count at the last rate sample */
	int64_t fault_id, status_id, alert_id;
	uint32_t passed, failed;
	int64_t detail_ms;
};

/* Open @dir's world (and its database if it exists) and size @m to it.
 * Returns 0, or a negative errno (-ENOENT: no world file yet). */
int tui_source_open(struct tui_source *s, const char *dir, struct tui_model *m);
void tui_source_close(struct tui_source *s);

/* Read the world into @m; with @db also the record (rates, ages, events,
 * the selected device's history and log). */
void tui_source_refresh(struct tui_source *s, struct tui_model *m, bool db);

/* Wall clock ms. */
int64_t tui_wall_ms(void);

#endif /* TUI_SOURCE_H */
