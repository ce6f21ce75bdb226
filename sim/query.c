/*
 * Reading a run's record without knowing SQL: the tutorial's two questions
 * (the last hours of one robot, the hourly mean per robot), any SQL, and
 * exports as CSV or InfluxDB line protocol for Grafana and friends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "query.h"
#include "scenario.h"

/* RUN is a run directory or a database file. */
static int open_record(const char *run, sqlite3 **db)
{
	char path[PATH_MAX];
	struct stat st;

	if (stat(run, &st) < 0) {
		fprintf(stderr, "robofleet: %s: %s\n", run, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/record.db", run);
	else
		snprintf(path, sizeof(path), "%s", run);
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "robofleet: %s: %s\n", path, sqlite3_errmsg(*db));
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, 5000);
	return 0;
}

/* Tab-separated rows with a header line: easy to read, sort and cut. */
static int print_rows(sqlite3_stmt *st)
{
	int cols = sqlite3_column_count(st), rc;

	for (int c = 0; c < cols; c++)
		printf("%s%s", c ? "\t" : "", sqlite3_column_name(st, c));
	putchar('\n');
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int c = 0; c < cols; c++) {
			const unsigned char *v = sqlite3_column_text(st, c);
			printf("%s%s", c ? "\t" : "", v ? (const char *)v : "");
		}
		putchar('\n');
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char last_sql[] =
	"SELECT recv_time, boot, seq, ts_time, temperature, humidity, distance, errors "
	"FROM readings WHERE device_id = ?1 "
	"AND recv_ms >= (CAST(strftime('%s', 'now') AS INTEGER) * 1000 - ?2) ORDER BY recv_ms";

static const char hourly_sql[] =
	"SELECT device_id, strftime('%Y-%m-%dT%H:00Z', hour_ms / 1000, 'unixepoch') AS hour, "
	"n AS readings, round(t_sum / t_n, 2) AS temperature, round(h_sum / h_n, 2) AS humidity, "
	"round(d_sum / d_n, 2) AS distance FROM hourly "
	"WHERE ?1 IS NULL OR device_id = ?1 ORDER BY device_id, hour_ms";

static void query_usage(FILE *out)
{
	fputs("usage: robofleet query RUN --device ID [--last DURATION]   readings of one robot (24h)\n"
	      "       robofleet query RUN --hourly [--device ID]          hourly means per robot\n"
	      "       robofleet query RUN --sql \"SELECT ...\"              any read-only SQL\n"
	      "RUN is a run directory or its record.db. Output: tab-separated, one header line.\n",
	      out);
}

int query_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "last", required_argument, NULL, 'l' },
		{ "hourly", no_argument, NULL, 'H' },
		{ "sql", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = NULL, *sql = NULL;
	uint32_t last_ms = 24u * 3600u * 1000u;
	bool hourly = false;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int c, status = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'H': hourly = true; break;
		case 's': sql = optarg; break;
		case 'l':
			if (scenario_parse_duration_ms(optarg, &last_ms) < 0) {
				fprintf(stderr, "robofleet query: --last: '%s' is not a duration "
					"(e.g. 30m, 24h)\n", optarg);
				return 2;
			}
			break;
		case 'h': query_usage(stdout); return 0;
		default:
			fprintf(stderr, "robofleet query: bad option %s\n", argv[optind - 1]);
			query_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (!device && !hourly && !sql) || (sql && (device || hourly))) {
		query_usage(stderr);
		return 2;
	}
	if (device && !scenario_id_valid(device)) {
		fprintf(stderr, "robofleet query: --device: '%s' is not a device id\n", device);
		return 2;
	}
	if (open_record(argv[optind], &db) < 0)
		goto out;
	if (sqlite3_prepare_v2(db, sql ? sql : hourly ? hourly_sql : last_sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "robofleet query: %s\n", sqlite3_errmsg(db));
		status = sql ? 2 : 1;
		goto out;
	}
	if (!sql) {
		if (device)
			sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		if (!hourly)
			sqlite3_bind_int64(st, 2, last_ms);
	}
	if (print_rows(st) < 0) {
		fprintf(stderr, "robofleet query: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	status = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return status;
}

/* ---- export ---------------------------------------------------------------- */

static void csv_field(FILE *f, const char *v)
{
	if (!v)
		return;
	if (!strpbrk(v, ",\"\r\n")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

/* Line protocol tag values escape commas, spaces and equals signs. */
static void influx_tag(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == ',' || *v == ' ' || *v == '=')
			fputc('\\', f);
		fputc(*v, f);
	}
}

static const char export_sql[] =
	"SELECT recv_ms, device_id, boot, seq, ts_ms, temperature, humidity, distance, errors, "
	"recv_time, ts_time FROM readings ORDER BY recv_ms, id";

int export_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const metrics[] = { "temperature", "humidity", "distance" };
	const char *format = NULL, *output = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	FILE *f = stdout;
	int c, rc, status = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'o': output = optarg; break;
		case 'h':
			puts("usage: robofleet export RUN --format csv|influx [--output FILE]");
			return 0;
		default:
			fprintf(stderr, "robofleet export: bad option %s\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1 || !format || (strcmp(format, "csv") && strcmp(format, "influx"))) {
		fprintf(stderr, "usage: robofleet export RUN --format csv|influx [--output FILE]\n");
		return 2;
	}
	if (open_record(argv[optind], &db) < 0)
		goto out;
	if (sqlite3_prepare_v2(db, export_sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "robofleet export: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	if (output && !(f = fopen(output, "w"))) {
		fprintf(stderr, "robofleet export: %s: %s\n", output, strerror(errno));
		f = stdout;
		goto out;
	}
	if (!strcmp(format, "csv"))
		fputs("recv_time,device_id,boot,seq,device_time,temperature,humidity,distance,errors\n", f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1);

		if (!strcmp(format, "csv")) {
			int order[] = { 9, 1, 2, 3, 10, 5, 6, 7, 8 };
			for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
				if (k)
					fputc(',', f);
				csv_field(f, (const char *)sqlite3_column_text(st, order[k]));
			}
			fputc('\n', f);
			continue;
		}
		/* Device time when it sent one: that is when the robot measured. */
		long long ms = sqlite3_column_type(st, 4) != SQLITE_NULL ? sqlite3_column_int64(st, 4)
								       : sqlite3_column_int64(st, 0);
		for (int m = 0; m < 3; m++) {
			if (sqlite3_column_type(st, 5 + m) == SQLITE_NULL)
				continue; /* a failed sensor has no point, not a zero */
			fprintf(f, "%s,device=", metrics[m]);
			influx_tag(f, id ? id : "");
			fprintf(f, " value=%.10g,boot=%lldi,seq=%lldi %lld000000\n",
				sqlite3_column_double(st, 5 + m), sqlite3_column_int64(st, 2),
				sqlite3_column_int64(st, 3), ms);
		}
	}
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "robofleet export: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	status = 0;
out:
	if (f != stdout && fclose(f) != 0)
		status = 1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return status;
}
