/* Inside the recorder: the new readings of the open batch, kept for recorder_opts.on_reading. */
#ifndef SIM_RECORDER_NOTES_H
#define SIM_RECORDER_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"
#include "recorder_db.h"
#include "recorder_json.h"

/*
 * The writer thread's alone. A batch's new readings are noted as they are
 * stored inside its transaction and handed on only once it committed: a
 * batch that is rolled back and written again notes them again, one that
 * is given up hands on nothing.
 */
struct recorder_notes {
	struct recorder__note *items;
	size_t n, cap;
	uint64_t missed;        /* readings not noted for want of memory */
};

/* Forget what the batch noted (a new batch, or one written again). */
void recorder__notes_clear(struct recorder_notes *ns);

/* A recorder__db_reading_fn: note reading @r of message @m; @arg is the notes. */
void recorder__notes_add(void *arg, const struct recorder_msg *m, const struct recorder_reading *r);

/* Hand every noted reading to @fn in order, then forget them. */
void recorder__notes_deliver(struct recorder_notes *ns,
			     void (*fn)(void *ctx, const struct recorder_reading_note *n), void *ctx);

void recorder__notes_free(struct recorder_notes *ns);

#endif /* SIM_RECORDER_NOTES_H */
