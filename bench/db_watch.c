/*
 * Watch a run's record for commit stalls from the outside: every PERIOD
 * ms, a read-only connection asks for the newest committed reading's id,
 * and each time it moves one line "<wall ms> <max id>" is printed. The
 * longest time between two such lines is the longest the recorder went
 * without committing a reading, measured to within PERIOD.
 *
 *   db_watch RECORD_DB SECONDS [PERIOD_MS]        (default period 50 ms)
 *
 * It waits (within SECONDS) for the file to appear and stops after
 * SECONDS or on SIGTERM/SIGINT. A WAL reader never blocks the writer.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t clock_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	long seconds = argc > 2 ? atol(argv[2]) : 0;
	long period_ms = argc > 3 ? atol(argv[3]) : 50;
	int64_t until, last = -1;
	struct sigaction sa = { .sa_handler = on_term };
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	if (argc < 3 || seconds <= 0 || period_ms <= 0) {
		fprintf(stderr, "usage: db_watch RECORD_DB SECONDS [PERIOD_MS]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	until = clock_ms(CLOCK_MONOTONIC) + seconds * 1000;
	while (!stop_flag && clock_ms(CLOCK_MONOTONIC) < until) {
		if (!st) {
			/* Until the recorder has created the file and its schema. */
			if (access(argv[1], R_OK) == 0 &&
			    sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
			    sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM readings", -1, &st,
					       NULL) == SQLITE_OK) {
				sqlite3_busy_timeout(db, 1000);
			} else {
				sqlite3_close(db);
				db = NULL;
				st = NULL;
			}
		}
		if (st) {
			if (sqlite3_step(st) == SQLITE_ROW) {
				int64_t id = sqlite3_column_int64(st, 0);
				if (id != last) {
					printf("%lld %lld\n", (long long)clock_ms(CLOCK_REALTIME), (long long)id);
					fflush(stdout);
					last = id;
				}
			}
			sqlite3_reset(st);
		}
		usleep((useconds_t)period_ms * 1000);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}
