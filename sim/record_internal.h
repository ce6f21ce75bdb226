/* Inside the record's API (record_*.c): the handle's connection and error, for files beside record_read.c. */
#ifndef SIM_RECORD_INTERNAL_H
#define SIM_RECORD_INTERNAL_H

#include <sqlite3.h>

struct record;

/* The read-only connection behind @rec. */
sqlite3 *record__sqlite(struct record *rec);

/* Note SQLite's last message as the handle's error (record_error()). */
void record__fail(struct record *rec);

#endif /* SIM_RECORD_INTERNAL_H */
