/* robofleet: run fleets of virtual robots from scenario files. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ca_cmd.h"
#include "ingest_url.h"
#include "merge.h"
#include "query.h"
#include "report_html.h"
#include "run.h"
#include "scenario.h"
#include "sketch_build.h"
#include "tui.h"

#ifndef ROBOFLEET_VERSION
#define ROBOFLEET_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fputs("usage: robofleet run SCENARIO.yaml [--junit FILE] [--broker HOST:PORT]\n"
	      "                     [--runs-dir DIR] [--device PATH] [--quiet] [--tui]\n"
	      "                     [--allow-low-disk] [--summary-md FILE]\n"
	      "                     [--influx URL [--influx-db NAME |\n"
	      "                      --influx-token T --influx-org O --influx-bucket B]]\n"
	      "                     [--pki DIR] [--ingest URL]\n"
	      "                     [--shard I/N --broker HOST:PORT [--run-id ID]\n"
	      "                      [--start-at TIME] [--shard-wait SECONDS]]\n"
	      "       robofleet top RUN_DIR [--refresh MS]\n"
	      "       robofleet check SCENARIO.yaml...\n"
	      "       robofleet query RUN (--device ID [--last 24h] | --hourly | --sql SQL)\n"
	      "       robofleet export RUN --format csv|influx [--output FILE]\n"
	      "       robofleet report RUN [--output FILE]\n"
	      "       robofleet build SKETCH [-o FILE] [--force] [--verbose]\n"
	      "       robofleet ca --out DIR (--ids ID,... | --count N [--prefix P]) [options]\n"
	      "       robofleet merge SHARD_DIR... -o OUT [--junit FILE] [--quiet]\n"
	      "       robofleet --version\n"
	      "\n"
	      "run    start the fleet the scenario describes, play its steps, and exit 0\n"
	      "       only if every expectation held (1 otherwise, 2 for a bad file)\n"
	      "       (--tui: watch it in the dashboard while it runs; --allow-low-disk:\n"
	      "       start even when the record is not expected to fit the disk)\n"
	      "       (--summary-md: append a Markdown summary for a CI step summary)\n"
	      "       (--influx: write readings live to InfluxDB 1.x, database --influx-db\n"
	      "       (default robofleet), or 2.x with token, org and bucket)\n"
	      "       (--pki: for fleet security: tls, mutual or password, the credentials\n"
	      "       `robofleet ca` made, instead of a new set in the run directory)\n"
	      "       (--ingest: devices of transport: http groups post to this\n"
	      "       http://HOST[:PORT][/PATH] instead of the run's own endpoint)\n"
	      "       (--shard I/N: play shard I of N of the fleet against --broker; the\n"
	      "       shards start their timelines together, agreed through the broker\n"
	      "       under robofleet/shards/ID/ (--run-id, default the scenario's name;\n"
	      "       wait --shard-wait, 600 s) or at --start-at; see robofleet merge)\n"
	      "top    the live dashboard of a run: devices, events, faults by key\n"
	      "check  validate scenario files without running anything\n"
	      "query  read a run's record: one robot's readings, hourly means, any SQL\n"
	      "export write a run's readings as CSV or InfluxDB line protocol\n"
	      "report rebuild a run's report.html (charts of the whole run) from its record\n"
	      "build  compile an Arduino sketch (a .ino file or its folder) against the\n"
	      "       Arduino layer into a device binary and print its path; built once\n"
	      "       per content (--force: build again; -o: copy the binary to FILE)\n"
	      "ca     make a CA, a broker certificate, robofleet's own client credentials\n"
	      "       and one certificate, key and password per device (robofleet ca --help)\n"
	      "merge  combine the run directories of a sharded run (--shard I/N) into one:\n"
	      "       one record, JUnit, summary and report; exit 0 only if every shard\n"
	      "       finished and every expectation held\n", out);
}

static int cmd_check(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "robofleet check: give at least one scenario file\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct scenario sc;
		struct scenario_error err;

		if (scenario_parse_file(argv[i], &sc, &err) < 0) {
			fprintf(stderr, "%s\n", err.message);
			status = 2;
			continue;
		}
		printf("%s: ok: %s, %zu devices in %zu groups, %zu steps\n", argv[i], sc.name,
		       sc.fleet.n_devices, sc.fleet.n_groups, sc.n_steps_total);
		scenario_free(&sc);
	}
	return status;
}

/* "I/N": shard I (0-based) of N. */
static int parse_shard(const char *s, unsigned *index, unsigned *count)
{
	char *end;
	unsigned long i, n;

	errno = 0;
	i = strtoul(s, &end, 10);
	if (end == s || *end != '/' || errno)
		return -EINVAL;
	s = end + 1;
	n = strtoul(s, &end, 10);
	if (end == s || *end || errno || n < 1 || n > 10000 || i >= n)
		return -EINVAL;
	*index = (unsigned)i;
	*count = (unsigned)n;
	return 0;
}

/* It names MQTT topics and a client id: a plain word. */
static bool run_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* "2026-12-07T14:30:00Z" (optionally .mmm) or "@1796653800": wall ms. */
static int parse_start_at(const char *s, int64_t *ms)
{
	struct tm tm;
	const char *rest;
	long frac = 0;
	char *end;

	if (s[0] == '@') {
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (end == s + 1 || *end || errno || v <= 0)
			return -EINVAL;
		*ms = (int64_t)v * 1000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (!(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -EINVAL;
	if (*rest == '.') {
		const char *p = rest + 1;
		int digits = 0;

		for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
			frac = frac * 10 + (*p - '0');
		for (; digits < 3; digits++)
			frac *= 10;
		rest = p;
	}
	if (strcmp(rest, "Z") != 0)
		return -EINVAL;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "junit", required_argument, NULL, 'j' },
		{ "broker", required_argument, NULL, 'b' },
		{ "runs-dir", required_argument, NULL, 'r' },
		{ "device", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tui", no_argument, NULL, 't' },
		{ "allow-low-disk", no_argument, NULL, 'L' },
		{ "summary-md", required_argument, NULL, 'M' },
		{ "influx", required_argument, NULL, 'I' },
		{ "influx-db", required_argument, NULL, 'D' },
		{ "influx-token", required_argument, NULL, 'T' },
		{ "influx-org", required_argument, NULL, 'O' },
		{ "influx-bucket", required_argument, NULL, 'B' },
		{ "pki", required_argument, NULL, 'P' },
		{ "ingest", required_argument, NULL, 'H' },
		{ "shard", required_argument, NULL, 'S' },
		{ "run-id", required_argument, NULL, 'R' },
		{ "start-at", required_argument, NULL, 'A' },
		{ "shard-wait", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_options o;
	int c;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
		switch (c) {
		case 'j': o.junit_path = optarg; break;
		case 'b': o.broker = optarg; break;
		case 'r': o.runs_dir = optarg; break;
		case 'd': o.device_path = optarg; break;
		case 'q': o.quiet = true; break;
		case 't': o.tui = true; break;
		case 'L': o.allow_low_disk = true; break;
		case 'M': o.summary_md_path = optarg; break;
		case 'I': o.influx_url = optarg; break;
		case 'D': o.influx_db = optarg; break;
		case 'T': o.influx_token = optarg; break;
		case 'O': o.influx_org = optarg; break;
		case 'B': o.influx_bucket = optarg; break;
		case 'P': o.pki_dir = optarg; break;
		case 'H': {
			struct robot_config cfg;
			char why[160];

			/* The devices' own parser: what passes here, every device takes. */
			robot_config_defaults(&cfg);
			if (posix_parse_ingest_url(optarg, &cfg, why, sizeof(why)) < 0) {
				fprintf(stderr, "robofleet run: --ingest %s\n", why);
				return 2;
			}
			o.ingest_url = optarg;
			break;
		}
		case 'S':
			if (parse_shard(optarg, &o.shard_index, &o.shard_count) < 0) {
				fprintf(stderr, "robofleet run: --shard '%s': want I/N, 0 <= I < N <= "
					"10000 (shard 0 of 4: 0/4)\n", optarg);
				return 2;
			}
			break;
		case 'R':
			if (!run_id_ok(optarg)) {
				fprintf(stderr, "robofleet run: --run-id '%s': 1-64 characters of "
					"A-Z a-z 0-9 . _ -\n", optarg);
				return 2;
			}
			o.run_id = optarg;
			break;
		case 'A':
			if (parse_start_at(optarg, &o.start_at_ms) < 0) {
				fprintf(stderr, "robofleet run: --start-at '%s': want a UTC time such "
					"as 2026-12-07T14:30:00Z, or @SECONDS since 1970\n", optarg);
				return 2;
			}
			break;
		case 'W': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || (*end && strcmp(end, "s")) || v < 1 || v > 86400) {
				fprintf(stderr, "robofleet run: --shard-wait '%s': seconds, 1-86400\n",
					optarg);
				return 2;
			}
			o.shard_wait_s = (unsigned)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, "robofleet run: %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "robofleet run: unknown option %s (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "robofleet run: give exactly one scenario file (see --help)\n");
		return 2;
	}
	o.scenario_path = argv[optind];
	if (!o.shard_count && (o.run_id || o.start_at_ms || o.shard_wait_s)) {
		fprintf(stderr, "robofleet run: --run-id, --start-at and --shard-wait are for a "
			"sharded run (--shard I/N)\n");
		return 2;
	}
	if (!o.shard_wait_s)
		o.shard_wait_s = 600;
	return run_scenario(&o);
}

static int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sketch_build_options o;
	char bin[4096], err[1024];
	int c;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'f': o.force = true; break;
		case 'v': o.verbose = true; break;
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, "robofleet build: %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "robofleet build: unknown option %s (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "robofleet build: give exactly one sketch, a .ino file or its folder (see --help)\n");
		return 2;
	}
	if (sketch_build(argv[optind], &o, bin, sizeof(bin), err, sizeof(err)) < 0) {
		fprintf(stderr, "robofleet build: %s\n", err);
		return 1;
	}
	printf("%s\n", bin);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("robofleet %s\n", ROBOFLEET_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "top"))
		return tui_top_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "query"))
		return query_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return export_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "build"))
		return cmd_build(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ca"))
		return ca_cmd_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "merge"))
		return merge_main(argc - 1, argv + 1);
	fprintf(stderr, "robofleet: unknown command '%s' (see --help)\n", argv[1]);
	return 2;
}
