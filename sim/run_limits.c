/* `robofleet run`: will the machine hold the fleet and the disk its record? Checked before anything starts. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk_check.h"
#include "run_internal.h"


/*
 * Room to spare above the fleet: robofleet, its broker and recorder, the
 * command client, a dashboard, a shell or two.
 */
#define LIMIT_HEADROOM 64
/*
 * What one device process costs the machine, for the memory check: its
 * PSS (about 0.65 MiB measured with bench/fleet.sh) plus the kernel's part
 * that PSS does not show (page tables, kernel stack, the socket at both
 * ends). Measured as the drop of MemAvailable per device: see
 * docs/performance.md.
 */
#define DEVICE_MEMORY_KIB 1024


static long read_long_file(const char *path, int field)
{
	FILE *f = fopen(path, "r");
	long v = -1, x;

	if (!f)
		return -1;
	for (int i = 0; i <= field && fscanf(f, "%ld", &x) == 1; i++)
		if (i == field)
			v = x;
	fclose(f);
	return v;
}

static long meminfo_kib(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Tasks (threads) alive on the machine: /proc/loadavg's "running/total". */
static long tasks_now(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	long running, total = -1;
	double a, b, c;

	if (f) {
		if (fscanf(f, "%lf %lf %lf %ld/%ld", &a, &b, &c, &running, &total) != 5)
			total = -1;
		fclose(f);
	}
	return total;
}

/* Processes owned by our real user id, as RLIMIT_NPROC counts them (near enough). */
static long user_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long n = 0;
	uid_t me = getuid();

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9') {
			struct stat st;
			char path[300];
			snprintf(path, sizeof(path), "/proc/%s", e->d_name);
			n += stat(path, &st) == 0 && st.st_uid == me;
		}
	closedir(d);
	return n;
}

/*
 * Check, before anything starts, that the machine can hold @n device
 * processes: one process id, one process of our user, one ephemeral port
 * and about DEVICE_MEMORY_KIB each, and (embedded broker) one descriptor
 * each in mosquitto, which inherits our RLIMIT_NOFILE (broker.c raises
 * the soft limit to the hard one). A hard limit that is too low is raised
 * when we may (root); anything else is an error that names the limit and
 * the command that raises it. Returns 0 or -1 after printing why.
 */
int run__check_fleet_limits(size_t n, bool embedded)
{
	long need = (long)n + LIMIT_HEADROOM, v, used;
	struct rlimit rl;

	v = read_long_file("/proc/sys/kernel/pid_max", 0);
	used = tasks_now();
	if (v > 0 && used >= 0 && need + used > v) {
		fprintf(stderr, "robofleet: %zu devices need %zu process ids, but kernel.pid_max is %ld and "
			"%ld are in use; raise it: sudo sysctl -w kernel.pid_max=4194304\n", n, n, v, used);
		return -1;
	}
	v = read_long_file("/proc/sys/kernel/threads-max", 0);
	if (v > 0 && used >= 0 && need + used > v) {
		fprintf(stderr, "robofleet: %zu devices need %zu tasks, but kernel.threads-max is %ld and "
			"%ld are in use; raise it: sudo sysctl -w kernel.threads-max=%ld\n",
			n, n, v, used, 2 * (need + used));
		return -1;
	}
	/* Root (CAP_SYS_RESOURCE) is not held to RLIMIT_NPROC. */
	if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		used = user_processes();
		if ((rlim_t)(need + used) > rl.rlim_cur) {
			fprintf(stderr, "robofleet: %zu devices need %zu processes, but RLIMIT_NPROC (ulimit -u) "
				"is %llu and %ld are running as this user; raise it: ulimit -u %ld (above the "
				"hard limit: 'nproc' in /etc/security/limits.conf)\n", n, n,
				(unsigned long long)rl.rlim_cur, used, need + used);
			return -1;
		}
	}
	{
		long lo = read_long_file("/proc/sys/net/ipv4/ip_local_port_range", 0);
		long hi = read_long_file("/proc/sys/net/ipv4/ip_local_port_range", 1);
		/* Every device holds a connection to the one broker address, so
		 * each needs an ephemeral port of its own. */
		if (lo > 0 && hi >= lo && need > hi - lo + 1) {
			fprintf(stderr, "robofleet: %zu devices need %zu ephemeral ports to the broker, but "
				"net.ipv4.ip_local_port_range is %ld-%ld (%ld ports); widen it: "
				"sudo sysctl -w net.ipv4.ip_local_port_range='1024 65535' (at most about 64,000 "
				"devices per broker address)\n", n, n, lo, hi, hi - lo + 1);
			return -1;
		}
	}
	if (embedded && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < (rlim_t)need) {
		struct rlimit want = { .rlim_cur = rl.rlim_cur, .rlim_max = (rlim_t)need };
		if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
			fprintf(stderr, "robofleet: the embedded broker needs %ld open files for %zu devices, "
				"but the hard RLIMIT_NOFILE is %llu; raise it: ulimit -Hn %ld (or 'nofile' in "
				"/etc/security/limits.conf), or use --broker\n", need, n,
				(unsigned long long)rl.rlim_max, need);
			return -1;
		}
	}
	v = meminfo_kib("MemAvailable");
	if (v > 0 && (long long)n * DEVICE_MEMORY_KIB > (long long)v) {
		fprintf(stderr, "robofleet: %zu devices need about %lld MiB (%d KiB each), but MemAvailable "
			"is %ld MiB; run fewer devices or free memory\n", n,
			(long long)n * DEVICE_MEMORY_KIB / 1024, DEVICE_MEMORY_KIB, v / 1024);
		return -1;
	}
	return 0;
}

/* Like a fleet the machine cannot hold: refuse a record the disk cannot. */
int run__check_disk(const struct run *r)
{
	const char *parent = r->opt->runs_dir ? r->opt->runs_dir : "runs";
	struct disk_estimate e;
	uint64_t free_bytes;
	int rc;

	disk_estimate_run(&r->sc, &e);
	if ((rc = disk_free_bytes(parent, &free_bytes)) < 0) {
		fprintf(stderr, "robofleet: cannot tell the free space for %s: %s\n", parent,
			strerror(-rc));
		return r->opt->allow_low_disk ? 0 : -EIO;
	}
	if (free_bytes >= e.bytes)
		return 0;
	fprintf(stderr, "robofleet: %s has %.1f MB free; this run needs about %.1f MB "
		"(%llu readings from %zu devices over at most %.0f s, and their devices' storage)\n",
		parent, (double)free_bytes / 1e6, (double)e.bytes / 1e6,
		(unsigned long long)e.readings, r->sc.fleet.n_devices, (double)e.longest_ms / 1000);
	if (r->opt->allow_low_disk) {
		fprintf(stderr, "robofleet: --allow-low-disk: starting anyway; a record that fills "
			"the disk fails the run\n");
		return 0;
	}
	fprintf(stderr, "robofleet: free space there, choose another --runs-dir, or give "
		"--allow-low-disk to run anyway\n");
	return -ENOSPC;
}
