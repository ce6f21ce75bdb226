/*
 * robofleet ca: a credentials directory for a real deployment: a CA (new,
 * or one the user has), the broker's certificate, robofleet's clients, one
 * certificate, key and password per device, and mosquitto's password file.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ca_cmd.h"
#include "credentials.h"
#include "pki.h"
#include "scenario.h"

#define CA_NAMES_MAX 64
#define CA_DAYS_MAX 36500
/* The fleet's rule for "robot_{:03}": at least 3 digits, more when needed. */
#define CA_ID_DIGITS 3

static void ca_usage(FILE *out)
{
	fputs("usage: robofleet ca --out DIR (--ids ID[,ID...] | --count N [--prefix P])\n"
	      "                    [--broker-name NAME]... [--broker-ip ADDR]... [--days N]\n"
	      "                    [--ca-cert FILE --ca-key FILE] [--fault-material]\n"
	      "\n"
	      "Write a credentials directory for a fleet: a CA (ca.crt, ca.key), the\n"
	      "broker's certificate (broker.crt, .key), robofleet's two clients\n"
	      "(clients/robofleet-recorder and robofleet-commander: .crt .key .password),\n"
	      "one certificate, key and password per device (devices/ID.crt .key\n"
	      ".password, CN = the device id) and mosquitto.passwd for every client.\n"
	      "Keys are ECDSA P-256, certificates SHA-256; keys, passwords and the\n"
	      "directories are readable by their owner only.\n"
	      "\n"
	      "  --out DIR            the directory: new, or empty; or, with --ca-cert,\n"
	      "                       one this command wrote before: the devices are\n"
	      "                       added, mosquitto.passwd keeps the others, and the\n"
	      "                       broker's and clients' files stay as they are\n"
	      "                       (--broker-name/--broker-ip: a new broker certificate)\n"
	      "  --ids ID[,ID...]     the device ids (A-Z a-z 0-9 _ -, up to 32 characters)\n"
	      "  --count N            N devices named PREFIX001, PREFIX002, ... (at least\n"
	      "                       3 digits, as a scenario's \"robot_{:03}\")\n"
	      "  --prefix P           the prefix for --count (default robot_)\n"
	      "  --broker-name NAME   a DNS name of the broker (repeat; default localhost)\n"
	      "  --broker-ip ADDR     an IP address of the broker (repeat; default 127.0.0.1)\n"
	      "  --days N             validity of what is issued, 1-36500 (default 365)\n"
	      "  --ca-cert FILE --ca-key FILE\n"
	      "                       issue with this CA instead of making a new one\n"
	      "                       (its certificate is copied in as ca.crt)\n"
	      "  --fault-material     also write faults/: an expired certificate and one\n"
	      "                       from a CA nobody trusts, for the security faults\n"
	      "Exit status: 0 written, 1 failed, 2 bad usage or input.\n", out);
}

struct ca_ids {
	char **ids;
	size_t n, cap;
};

static int ids_add(struct ca_ids *l, const char *id, size_t len)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->ids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->ids = v;
		l->cap = cap;
	}
	copy = strndup(id, len);
	if (!copy)
		return -ENOMEM;
	l->ids[l->n++] = copy;
	return 0;
}

static void ids_free(struct ca_ids *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->ids[i]);
	free(l->ids);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A whole number in [@lo, @hi], or -1. */
static long parse_number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	return v;
}

static bool broker_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_' || *s == '*'))
			return false;
	return true;
}

static bool ip_ok(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/*
 * Whether --out may be written: a new directory (its parent existing), an
 * empty one, or, when a CA is given, a credentials directory made before.
 * Returns 0, or 2 after saying why not.
 */
static int check_out_dir(const char *dir, bool have_ca)
{
	struct stat st;
	struct dirent *e;
	bool empty = true;
	char path[PATH_MAX];
	DIR *d;

	if (stat(dir, &st) < 0) {
		char *slash;

		if (errno != ENOENT) {
			fprintf(stderr, "robofleet ca: %s: %s\n", dir, strerror(errno));
			return 2;
		}
		/* A new directory: its parent must be there. */
		snprintf(path, sizeof(path), "%s", dir);
		slash = strrchr(path, '/');
		if (slash && slash != path) {
			*slash = '\0';
			if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
				fprintf(stderr, "robofleet ca: --out %s: %s is not a directory\n",
					dir, path);
				return 2;
			}
		}
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "robofleet ca: --out %s: exists and is not a directory\n", dir);
		return 2;
	}
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "robofleet ca: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	if (empty)
		return 0;
	if (credentials_path(dir, NULL, "ca", "crt", path, sizeof(path)) == 0 &&
	    stat(path, &st) == 0 && have_ca)
		return 0;
	if (stat(path, &st) == 0)
		fprintf(stderr, "robofleet ca: --out %s: already holds credentials: to add devices "
			"with its CA, give --ca-cert %s/ca.crt --ca-key %s/ca.key; to start over, "
			"choose a new directory\n", dir, dir, dir);
	else
		fprintf(stderr, "robofleet ca: --out %s: exists and is not empty: choose a new or "
			"empty directory\n", dir);
	return 2;
}

/* Lines in the password file just written: every user it now holds. */
static long count_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* When @path was last written (0 if it is not there), to tell what was kept. */
static struct timespec written_at(const char *dir, const char *sub, const char *name,
				  const char *ext)
{
	struct timespec none = { 0, 0 };
	char path[PATH_MAX];
	struct stat st;

	if (credentials_path(dir, sub, name, ext, path, sizeof(path)) < 0 || stat(path, &st) < 0)
		return none;
	return st.st_mtim;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return (a.tv_sec || a.tv_nsec) && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Modification times of the broker's and the clients' files before the run. */
struct ca_before {
	struct timespec broker, clients[2];
};

static const char *const ca_clients[2] = { CREDENTIALS_RECORDER, CREDENTIALS_COMMANDER };

static void print_done(const struct credentials_plan *p, const struct ca_before *before)
{
	const char *const *ids = p->device_ids;
	const char *dir = p->dir;
	char path[PATH_MAX];
	struct stat a, b;
	long users;
	int kept = 0;

	printf("robofleet ca: wrote %s/\n", dir);
	credentials_path(dir, NULL, "ca", "crt", path, sizeof(path));
	if (p->ca_cert && stat(p->ca_cert, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		printf("  CA         %s (the directory's own, kept)\n", path);
	else if (p->ca_cert)
		printf("  CA         %s (a copy of %s; its key stays in %s)\n", path, p->ca_cert,
		       p->ca_key);
	else
		printf("  CA         %s/ca.crt, %s/ca.key (new)\n", dir, dir);
	if (same_time(before->broker, written_at(dir, NULL, "broker", "crt"))) {
		printf("  broker     %s/broker.crt, %s/broker.key (kept: they check out "
		       "against the CA)\n", dir, dir);
		goto clients;
	}
	printf("  broker     %s/broker.crt, %s/broker.key (", dir, dir);
	for (size_t i = 0; i < p->n_broker_names; i++)
		printf("%s%s", i ? ", " : "", p->broker_names[i]);
	if (!p->n_broker_names)
		printf("localhost");
	for (size_t i = 0; i < p->n_broker_ips; i++)
		printf(", %s", p->broker_ips[i]);
	if (!p->n_broker_ips)
		printf(", 127.0.0.1");
	printf(")\n");
clients:
	for (int c = 0; c < 2; c++)
		kept += same_time(before->clients[c], written_at(dir, "clients", ca_clients[c],
								  "password"));
	printf("  clients    2 in %s/clients/ (%s, %s): .crt .key .password%s\n", dir,
	       CREDENTIALS_RECORDER, CREDENTIALS_COMMANDER,
	       kept == 2 ? " (kept)" : kept == 1 ? " (one kept)" : "");
	if (p->n_devices == 1)
		printf("  devices    1 in %s/devices/ (%s): .crt .key .password\n", dir, ids[0]);
	else
		printf("  devices    %zu in %s/devices/ (%s .. %s): .crt .key .password\n",
		       p->n_devices, dir, ids[0], ids[p->n_devices - 1]);
	if (p->fault_material)
		printf("  faults     %s/faults/: expired.crt .key (expired yesterday), "
		       "foreign-ca.crt, foreign.crt .key (a CA nobody trusts)\n", dir);
	credentials_path(dir, NULL, "mosquitto", "passwd", path, sizeof(path));
	users = count_lines(path);
	printf("  passwords  %s (%ld users)\n", path, users);
	printf("  ECDSA P-256 keys, certificates valid for %d days\n", p->days);
}

int ca_cmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "ids", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "broker-name", required_argument, NULL, 'N' },
		{ "broker-ip", required_argument, NULL, 'I' },
		{ "days", required_argument, NULL, 'd' },
		{ "ca-cert", required_argument, NULL, 'c' },
		{ "ca-key", required_argument, NULL, 'k' },
		{ "fault-material", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *names[CA_NAMES_MAX], *ips[CA_NAMES_MAX], *prefix = NULL;
	struct credentials_plan plan = { .days = 365 };
	struct ca_ids ids = { 0 };
	struct ca_before before;
	char **sorted = NULL, err[1024];
	bool have_ids = false;
	long count = 0;
	int c, status = 2;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': plan.dir = optarg; break;
		case 'i':
			have_ids = true;
			for (const char *s = optarg;; ) {
				const char *comma = strchr(s, ',');
				size_t len = comma ? (size_t)(comma - s) : strlen(s);

				if (ids_add(&ids, s, len) < 0) {
					fprintf(stderr, "robofleet ca: out of memory\n");
					status = 1;
					goto out;
				}
				if (!comma)
					break;
				s = comma + 1;
			}
			break;
		case 'n':
			count = parse_number(optarg, 1, SCENARIO_FLEET_MAX);
			if (count < 0) {
				fprintf(stderr, "robofleet ca: --count: '%s' is not a number of devices "
					"(1-%u)\n", optarg, SCENARIO_FLEET_MAX);
				goto out;
			}
			break;
		case 'p': prefix = optarg; break;
		case 'N':
			if (plan.n_broker_names == CA_NAMES_MAX) {
				fprintf(stderr, "robofleet ca: more than %d --broker-name\n",
					CA_NAMES_MAX);
				goto out;
			}
			if (!broker_name_ok(optarg)) {
				fprintf(stderr, "robofleet ca: --broker-name: '%s' is not a DNS name "
					"(A-Z a-z 0-9 . - _ *)\n", optarg);
				goto out;
			}
			names[plan.n_broker_names++] = optarg;
			break;
		case 'I':
			if (plan.n_broker_ips == CA_NAMES_MAX) {
				fprintf(stderr, "robofleet ca: more than %d --broker-ip\n", CA_NAMES_MAX);
				goto out;
			}
			if (!ip_ok(optarg)) {
				fprintf(stderr, "robofleet ca: --broker-ip: '%s' is not an IPv4 or IPv6 "
					"address\n", optarg);
				goto out;
			}
			ips[plan.n_broker_ips++] = optarg;
			break;
		case 'd':
			plan.days = (int)parse_number(optarg, 1, CA_DAYS_MAX);
			if (plan.days < 0) {
				fprintf(stderr, "robofleet ca: --days: '%s' is not a number of days "
					"(1-%d)\n", optarg, CA_DAYS_MAX);
				goto out;
			}
			break;
		case 'c': plan.ca_cert = optarg; break;
		case 'k': plan.ca_key = optarg; break;
		case 'f': plan.fault_material = true; break;
		case 'h': ca_usage(stdout); status = 0; goto out;
		case ':':
			fprintf(stderr, "robofleet ca: %s needs a value (see --help)\n", argv[optind - 1]);
			goto out;
		default:
			fprintf(stderr, "robofleet ca: unknown option %s (see --help)\n",
				argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "robofleet ca: unexpected argument '%s' (see --help)\n", argv[optind]);
		goto out;
	}
	if (!plan.dir || !plan.dir[0]) {
		fprintf(stderr, "robofleet ca: give the directory to write with --out DIR "
			"(see --help)\n");
		goto out;
	}
	if (have_ids == (count > 0)) {
		fprintf(stderr, "robofleet ca: give the devices with either --ids ID[,ID...] or "
			"--count N (see --help)\n");
		goto out;
	}
	if (prefix && !count) {
		fprintf(stderr, "robofleet ca: --prefix goes with --count\n");
		goto out;
	}
	if (!plan.ca_cert != !plan.ca_key) {
		fprintf(stderr, "robofleet ca: an existing CA needs both --ca-cert and --ca-key\n");
		goto out;
	}
	for (long i = 1; i <= count; i++) {
		char id[SCENARIO_ID_MAX + 16];
		int n = snprintf(id, sizeof(id), "%s%0*ld", prefix ? prefix : "robot_",
				 CA_ID_DIGITS, i);

		if (n < 0 || (size_t)n >= sizeof(id) || !scenario_id_valid(id)) {
			fprintf(stderr, "robofleet ca: --prefix '%s' makes '%.*s', which is not a "
				"device id: use 1-%d characters of A-Z a-z 0-9 _ -\n",
				prefix ? prefix : "robot_", (int)sizeof(id) - 1, id, SCENARIO_ID_MAX);
			goto out;
		}
		if (ids_add(&ids, id, (size_t)n) < 0) {
			fprintf(stderr, "robofleet ca: out of memory\n");
			status = 1;
			goto out;
		}
	}
	for (size_t i = 0; i < ids.n; i++)
		if (!scenario_id_valid(ids.ids[i])) {
			fprintf(stderr, "robofleet ca: --ids: '%s' is not a device id: use 1-%d "
				"characters of A-Z a-z 0-9 _ -\n", ids.ids[i], SCENARIO_ID_MAX);
			goto out;
		} else if (!strcmp(ids.ids[i], CREDENTIALS_RECORDER) ||
			   !strcmp(ids.ids[i], CREDENTIALS_COMMANDER)) {
			fprintf(stderr, "robofleet ca: --ids: '%s' is the name of one of robofleet's "
				"own clients\n", ids.ids[i]);
			goto out;
		}
	sorted = malloc(ids.n * sizeof(*sorted));
	if (!sorted) {
		fprintf(stderr, "robofleet ca: out of memory\n");
		status = 1;
		goto out;
	}
	memcpy(sorted, ids.ids, ids.n * sizeof(*sorted));
	qsort(sorted, ids.n, sizeof(*sorted), cmp_str);
	for (size_t i = 1; i < ids.n; i++)
		if (!strcmp(sorted[i - 1], sorted[i])) {
			fprintf(stderr, "robofleet ca: --ids: '%s' appears twice\n", sorted[i]);
			goto out;
		}
	if (check_out_dir(plan.dir, plan.ca_cert != NULL) != 0)
		goto out;
	/* A CA that does not load is bad input: say so before anything is written. */
	if (plan.ca_cert) {
		struct pki_ca *ca;

		if (pki_ca_load(plan.ca_cert, plan.ca_key, &ca, err, sizeof(err)) < 0) {
			fprintf(stderr, "robofleet ca: %s\n", err);
			goto out;
		}
		pki_ca_free(ca);
	}
	before.broker = written_at(plan.dir, NULL, "broker", "crt");
	for (int i = 0; i < 2; i++)
		before.clients[i] = written_at(plan.dir, "clients", ca_clients[i], "password");
	plan.device_ids = (const char *const *)ids.ids;
	plan.n_devices = ids.n;
	plan.broker_names = names;
	plan.broker_ips = ips;
	if (credentials_create(&plan, err, sizeof(err)) < 0) {
		fprintf(stderr, "robofleet ca: %s\n", err);
		status = 1;
		goto out;
	}
	print_done(&plan, &before);
	status = 0;
out:
	free(sorted);
	ids_free(&ids);
	return status;
}
