/*
 * Reading a run's record without knowing SQL: the tutorial's two questions
 * (the last hours of one robot, the hourly mean per robot), any SQL, and
 * exports as CSV or InfluxDB line protocol for Grafana and friends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "influx_line.h"
#include "query.h"
#include "record.h"
#include "scenario.h"

/* RUN is a run directory or a database file. */
static int open_record(const char *run, struct record **rec)
{
	char path[PATH_MAX], err[300];
	struct stat st;

	if (stat(run, &st) < 0) {
		fprintf(stderr, "robofleet: %s: %s\n", run, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/record.db", run);
	else
		snprintf(path, sizeof(path), "%s", run);
	if (record_open(path, 5000, rec, err, sizeof(err)) < 0) {
		fprintf(stderr, "robofleet: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

/* Tab-separated rows with a header line: easy to read, sort and cut. */
static int print_row(void *arg, size_t n, const char *const *cells)
{
	(void)arg;
	for (size_t c = 0; c < n; c++)
		printf("%s%s", c ? "\t" : "", cells[c] ? cells[c] : "");
	putchar('\n');
	return 0;
}

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
	struct record *rec = NULL;
	int c, rc, status = 1;

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
	if (open_record(argv[optind], &rec) < 0)
		goto out;
	/* The user's own SQL goes through as given, on a read-only handle. */
	if (sql)
		rc = record_sql_rows(rec, sql, print_row, NULL);
	else if (hourly)
		rc = record_hourly_means(rec, device, print_row, NULL);
	else
		rc = record_device_readings(rec, device, last_ms, print_row, NULL);
	if (rc < 0) {
		fprintf(stderr, "robofleet query: %s\n", record_error(rec));
		status = rc == -EINVAL ? 2 : 1;
		goto out;
	}
	status = 0;
out:
	record_close(rec);
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

/* Where an export goes, and as what. */
struct export_to {
	FILE *f;
	bool csv;
};

static void export_row(void *arg, const struct record_export_row *r)
{
	const struct export_to *to = arg;
	FILE *f = to->f;

	if (to->csv) {
		csv_field(f, r->recv_time);
		fputc(',', f);
		csv_field(f, r->device_id);
		fprintf(f, ",%lld,%lld,", (long long)r->boot, (long long)r->seq);
		csv_field(f, r->ts_time);
		for (int m = 0; m < RECORD_METRIC_COUNT; m++) {
			fputc(',', f);
			csv_field(f, r->value_text[m]);
		}
		fputc(',', f);
		csv_field(f, r->errors);
		fputc('\n', f);
		return;
	}
	influx_line_write(f, r, false);
}

int export_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL, *output = NULL;
	struct record *rec = NULL;
	FILE *f = stdout;
	int c, status = 1;

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
	if (open_record(argv[optind], &rec) < 0)
		goto out;
	/* Not a record: say so before an output file is made. */
	if (record_check_schema(rec) < 0) {
		fprintf(stderr, "robofleet export: %s\n", record_error(rec));
		goto out;
	}
	if (output && !(f = fopen(output, "w"))) {
		fprintf(stderr, "robofleet export: %s: %s\n", output, strerror(errno));
		f = stdout;
		goto out;
	}
	if (!strcmp(format, "csv"))
		fputs("recv_time,device_id,boot,seq,device_time,temperature,humidity,distance,errors\n", f);
	if (record_export_readings(rec, export_row, &(struct export_to){ f, !strcmp(format, "csv") }) < 0) {
		fprintf(stderr, "robofleet export: %s\n", record_error(rec));
		goto out;
	}
	status = 0;
out:
	if (f != stdout && fclose(f) != 0)
		status = 1;
	record_close(rec);
	return status;
}
