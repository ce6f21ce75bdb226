/*
 * The recorder's writer alone, without a broker: MESSAGES burst readings
 * from DEVICES ids handed over with recorder_ingest() (the ingest
 * endpoint's way in: the same queue, parser, key and rollups as a broker
 * message) and committed in batches of BATCH_ROWS. Batches are cut by
 * count, never by time, so that the work done is the same from run to
 * run and `valgrind --tool=callgrind` counts comparable instructions.
 *
 *   recorder_store DIR [MESSAGES] [DEVICES] [BATCH_ROWS]   (default 100000 1000 2500)
 *
 * Prints one line of key=value pairs: messages, devices, batch_rows,
 * cpu_s (the whole process: the caller's copies and the writer),
 * us_per_msg, stored, transactions.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "recorder.h"

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	long messages = argc > 2 ? atol(argv[2]) : 100000;
	long devices = argc > 3 ? atol(argv[3]) : 1000;
	int batch_rows = argc > 4 ? atoi(argv[4]) : 2500;
	struct recorder_opts ro = { 0 };
	struct recorder_stats rs;
	struct recorder *rec;
	char db_path[1100], topic[96], payload[320], id[32];
	double c0;
	int rc;

	if (!dir || messages <= 0 || devices <= 0 || devices > 99999 || batch_rows <= 0) {
		fprintf(stderr, "usage: recorder_store DIR [MESSAGES] [DEVICES] [BATCH_ROWS]\n");
		return 2;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/record.db", dir);
	remove(db_path);
	ro.db_path = db_path;
	ro.client_id = "robofleet-bench-store";
	ro.batch_rows = batch_rows;
	ro.batch_ms = 3600000;  /* by count only */
	if ((rc = recorder_open(&ro, &rec)) < 0) {
		fprintf(stderr, "recorder_store: %s\n", strerror(-rc));
		return 1;
	}
	c0 = cpu_s();
	for (long i = 0; i < messages; i++) {
		long dev = i % devices, seq = i / devices + 1;
		int n;

		snprintf(id, sizeof(id), "burst_%05ld", dev);
		snprintf(topic, sizeof(topic), "sensors/%s/data", id);
		/* The burst's payload, with a fixed time: the same bytes every run. */
		n = snprintf(payload, sizeof(payload),
			     "{\"device_id\":\"%s\",\"boot\":1,\"seq\":%ld,\"timestamp\":"
			     "\"2026-12-07T12:00:00.000Z\",\"sensors\":{\"temperature\":22.5,"
			     "\"humidity\":40.0,\"distance\":120.0}}",
			     id, seq);
		if ((rc = recorder_ingest(rec, topic, payload, (size_t)n, NULL, NULL, NULL)) < 0) {
			fprintf(stderr, "recorder_store: ingest: %s\n", strerror(-rc));
			break;
		}
	}
	if ((rc = recorder_flush(rec, 600000)) < 0)
		fprintf(stderr, "recorder_store: flush: %s\n", strerror(-rc));
	c0 = cpu_s() - c0;
	recorder_read_stats(rec, &rs);
	recorder_close(rec);
	printf("messages=%ld devices=%ld batch_rows=%d cpu_s=%.3f us_per_msg=%.2f stored=%llu "
	       "transactions=%llu\n",
	       messages, devices, batch_rows, c0, c0 / (double)messages * 1e6,
	       (unsigned long long)rs.stored, (unsigned long long)rs.transactions);
	return rs.stored == (uint64_t)messages ? 0 : 1;
}
