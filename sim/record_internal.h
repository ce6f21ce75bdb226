/* Inside the record's API (record_*.c): the handle's connection and error, for files beside record_read.c. */
#ifndef SIM_RECORD_INTERNAL_H
#define SIM_RECORD_INTERNAL_H

#include <sqlite3.h>

struct record;

/* The read-only connection behind @rec. */
sqlite3 *record__sqlite(struct record *rec);

/* Note SQLite's last message as the handle's error (record_error()). */
void record__fail(struct record *rec);

/*
 * The record's writes at a run's end, each in one transaction on a
 * connection of its own: open @path, BEGIN IMMEDIATE (waiting up to 10 s
 * for the recorder), run @ddl, let @fill write (it returns an SQLite result
 * code), COMMIT; on any failure roll back and put the reason in @err.
 * Returns 0, -ENOSPC (disk full), -EBUSY or -EIO.
 */
int record__write(const char *path, const char *ddl, int (*fill)(sqlite3 *db, const void *arg),
		  const void *arg, char *err, size_t errlen);

#endif /* SIM_RECORD_INTERNAL_H */
