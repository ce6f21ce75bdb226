/*
 * `robofleet run`: parse the scenario, make the run directory, start the
 * broker, the recorder and the fleet, walk the timeline, and write the
 * verdict. Every process it starts is stopped on the way out, also after
 * SIGINT or SIGTERM; devices follow robofleet even if it is killed.
 *
 * The run's other jobs have files of their own: the engine's effects and
 * probes (run_effects.c), the devices' accounts (run_accounts.c), the
 * dashboard (run_dashboard.c), the machine's limits (run_limits.c) and the
 * verdict (run_verdict.c); run_internal.h is what they share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <mosquitto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net_names.h"
#include "posix_hal.h"
#include "record.h"
#include "recorder.h"
#include "robot_config.h"
#include "run_internal.h"
#include "sketch_build.h"
#include "tui.h"

/* The network's options must fit the fleet's shared list: wifi (4), two per
 * name, dns-default (2). */
_Static_assert(4 + 2 * SHIM_DNS_ENTRIES_MAX + 2 < FLEET_COMMON_ARGS_MAX,
	       "FLEET_COMMON_ARGS_MAX too small for the network options");

int64_t run__mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t run__wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void run__say(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->opt->quiet || r->opt->tui)
		return;
	run__report_before_say(r);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* ---- set-up --------------------------------------------------------------------- */

static int make_run_dir(struct run *r)
{
	const char *parent = r->opt->runs_dir ? r->opt->runs_dir : "runs";
	char stamp[32], sub[PATH_MAX + 16];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (strlen(parent) + strlen(r->sc.name) + 40 > sizeof(r->dir))
		return -ENAMETOOLONG;
	/* A shard's directory says which shard it holds (several may share a parent). */
	if (r->opt->shard_count)
		snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), "-shard%u",
			 r->opt->shard_index);
	for (int n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(r->dir, sizeof(r->dir), "%s/%s-%s", parent, stamp, r->sc.name);
		else
			snprintf(r->dir, sizeof(r->dir), "%s/%s-%s.%d", parent, stamp, r->sc.name, n);
		if (mkdir(r->dir, 0755) == 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	snprintf(sub, sizeof(sub), "%s/devices", r->dir);
	if (mkdir(sub, 0755) < 0)
		return -errno;
	snprintf(sub, sizeof(sub), "%s/state", r->dir);
	if (mkdir(sub, 0755) < 0)
		return -errno;
	return 0;
}

static int find_device(const struct run *r, char *out, size_t len)
{
	char self[PATH_MAX], dir[PATH_MAX];
	const char *env = getenv("ROBOFLEET_DEVICE");
	ssize_t n;

	if (r->opt->device_path)
		return snprintf(out, len, "%s", r->opt->device_path) < (int)len && access(out, X_OK) == 0 ? 0 : -ENOENT;
	if (env && *env)
		return snprintf(out, len, "%s", env) < (int)len && access(out, X_OK) == 0 ? 0 : -ENOENT;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	/* Installed side by side, or in the build tree (sim/ next to hw-shim/). */
	snprintf(out, len, "%.900s/robofleet-device", dir);
	if (access(out, X_OK) == 0)
		return 0;
	snprintf(out, len, "%.900s/../hw-shim/robofleet-device", dir);
	return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

/*
 * Each group's program: its device: as the scenario found it, or its
 * sketch built, once per sketch, before anything starts, so that a sketch
 * that does not compile costs no run directory, broker or device.
 */
static int set_up_programs(struct run *r)
{
	const struct scenario_fleet *fl = &r->sc.fleet;

	r->programs = calloc(fl->n_groups ? fl->n_groups : 1, sizeof(*r->programs));
	if (!r->programs)
		return -ENOMEM;
	for (size_t i = 0; i < fl->n_groups; i++) {
		const struct scenario_group *g = &fl->groups[i];
		char binary[PATH_MAX], err[512];
		int rc;

		if (g->device)
			r->programs[i] = strdup(g->device);
		if (g->device && !r->programs[i])
			return -ENOMEM;
		if (!g->sketch || g->count == 0)
			continue;
		for (size_t j = 0; j < i && !r->programs[i]; j++)
			if (fl->groups[j].sketch && r->programs[j] &&
			    strcmp(fl->groups[j].sketch, g->sketch) == 0)
				r->programs[i] = strdup(r->programs[j]);
		if (r->programs[i])
			continue;
		run__say(r, "robofleet: building %s for group %s\n", g->sketch, g->name);
		err[0] = '\0';
		rc = sketch_build(g->sketch, NULL, binary, sizeof(binary), err, sizeof(err));
		if (rc < 0) {
			if (err[0])
				fprintf(stderr, "%s\n", err);
			fprintf(stderr, "%s:%u:%u: group '%s': sketch %s did not build; nothing "
				"was started\n", r->sc.file, (unsigned)g->firmware_pos.line,
				(unsigned)g->firmware_pos.col, g->name, g->sketch);
			return rc;
		}
		r->programs[i] = strdup(binary);
		if (!r->programs[i])
			return -ENOMEM;
	}
	return 0;
}

/* fleet.network: as robofleet-device options, given only where the file says. */
static int set_up_net_args(struct run *r)
{
	static const char *const defaults[] = { "broker", "nxdomain" };
	const struct scenario_network *n = &r->sc.fleet.network;
	size_t k = 0;

	r->net_args = calloc(FLEET_COMMON_ARGS_MAX, sizeof(*r->net_args));
	if (!r->net_args)
		return -ENOMEM;
	if (n->wifi_set) {
		r->net_args[k++] = "--wifi-ssid";
		r->net_args[k++] = n->ssid;
		r->net_args[k++] = "--wifi-password";
		r->net_args[k++] = n->password;
	}
	for (size_t i = 0; i < n->n_dns && i < SHIM_DNS_ENTRIES_MAX; i++) {
		r->net_args[k++] = "--dns";
		r->net_args[k++] = n->dns[i];
	}
	if (n->dns_default_set) {
		r->net_args[k++] = "--dns-default";
		r->net_args[k++] = defaults[n->dns_default];
	}
	/* fleet.security: every device's credentials ({id} in the paths). */
	for (size_t i = 0; r->security.device_args[i] && k < FLEET_COMMON_ARGS_MAX - 1; i++)
		r->net_args[k++] = r->security.device_args[i];
	r->net_args[k] = NULL;
	return 0;
}

/*
 * The groups' topic layouts and the devices' rooms as the recorder matches
 * them. A template without {id} or {room} belongs to its group's one
 * device (the parser allows it only then).
 */
static int set_up_topics(struct run *r)
{
	const struct scenario_fleet *f = &r->sc.fleet;
	int rc;

	if ((rc = topic_map_create(&r->topics)) < 0)
		return rc;
	for (size_t g = 0; g < f->n_groups; g++) {
		const char *single = NULL;

		if (!f->groups[g].topics || !f->groups[g].count)
			continue;
		for (size_t i = 0; i < f->n_devices && f->groups[g].count == 1; i++)
			if (f->devices[i].group == g)
				single = f->devices[i].id;
		if ((rc = topic_map_add_layout(r->topics, f->groups[g].topics, single)) < 0)
			return rc;
	}
	for (size_t i = 0; i < f->n_devices; i++)
		if (f->devices[i].room &&
		    (rc = topic_map_add_room(r->topics, f->devices[i].room, f->devices[i].id)) < 0)
			return rc;
	return topic_map_finish(r->topics);
}

static bool needs_builtin(const struct scenario *sc)
{
	for (size_t i = 0; i < sc->fleet.n_groups; i++)
		if (sc->fleet.groups[i].count && !sc->fleet.groups[i].sketch &&
		    !sc->fleet.groups[i].device)
			return true;
	return false;
}

static int set_up_world(struct run *r)
{
	char path[PATH_MAX + 8];
	int rc;

	snprintf(path, sizeof(path), "%s/world", r->dir);
	if ((rc = world_create(path, (uint32_t)r->sc.fleet.n_devices, r->sc.name, &r->world)) < 0)
		return rc;
	r->faults = calloc(r->sc.fleet.n_devices, sizeof(*r->faults));
	r->faults_injected = calloc(r->sc.fleet.n_devices, sizeof(*r->faults_injected));
	r->published_before = calloc(r->sc.fleet.n_devices, sizeof(*r->published_before));
	r->published_boot = calloc(r->sc.fleet.n_devices, sizeof(*r->published_boot));
	r->refused_before = calloc(r->sc.fleet.n_devices, sizeof(*r->refused_before));
	r->board_sent = calloc(r->sc.fleet.n_devices, sizeof(*r->board_sent));
	if (!r->faults || !r->faults_injected || !r->published_before || !r->published_boot ||
	    !r->refused_before || !r->board_sent)
		return -ENOMEM;
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++) {
		struct world_slot *s = world_get_slot(&r->world, (uint32_t)i);
		const struct scenario_device *d = &r->sc.fleet.devices[i];

		snprintf(s->device_id, sizeof(s->device_id), "%s", d->id);
		run__set_env(r, i, &r->sc.fleet.groups[d->group].env);
	}
	return 0;
}

static void fmt_ms(char *buf, uint32_t ms)
{
	snprintf(buf, 24, "%ums", ms);
}

static int set_up_fleet(struct run *r)
{
	static const char *const styles[] = { "json", "per-metric", "both" };
	size_t n = r->sc.fleet.n_devices;
	int rc;

	if ((rc = fleet_init(&r->fleet, n)) < 0)
		return rc;
	r->args = calloc(n ? n : 1, sizeof(*r->args));
	r->books = calloc(n ? n : 1, sizeof(*r->books));
	if (!r->args || !r->books)
		return -ENOMEM;
	/* Only the built-in robot's groups need it. */
	if ((rc = find_device(r, r->fleet.device_path, sizeof(r->fleet.device_path))) < 0 &&
	    needs_builtin(&r->sc)) {
		fprintf(stderr, "robofleet: robofleet-device not found (give --device PATH)\n");
		return rc;
	}
	/* The built-in robot (not a --device program, which may not know
	 * --fork-server) is started by copying a loaded one: docs/performance.md.
	 * ROBOFLEET_FORK_SERVER=0 executes each robot instead. */
	r->fleet.use_fork_server = !r->opt->device_path &&
		!(getenv("ROBOFLEET_FORK_SERVER") && strcmp(getenv("ROBOFLEET_FORK_SERVER"), "0") == 0);
	r->fleet.nice = r->device_nice;
	if ((rc = set_up_net_args(r)) < 0)
		return rc;
	r->fleet.common_args = r->net_args;
	/* An IPv6 address needs its brackets back for robofleet-device. */
	snprintf(r->fleet.broker, sizeof(r->fleet.broker), strchr(r->broker.host, ':') ? "[%s]:%d" : "%s:%d",
		 r->broker.host, r->broker.port);
	snprintf(r->fleet.world_path, sizeof(r->fleet.world_path), "%s/world", r->dir);
	snprintf(r->fleet.state_dir, sizeof(r->fleet.state_dir), "%s/state", r->dir);
	snprintf(r->fleet.log_dir, sizeof(r->fleet.log_dir), "%s/devices", r->dir);
	for (size_t i = 0; i < n; i++) {
		const struct scenario_device *sd = &r->sc.fleet.devices[i];
		const struct scenario_group *g = &r->sc.fleet.groups[sd->group];
		struct fleet_device *d = &r->fleet.devices[i];
		char (*v)[24] = r->args[i];
		int k = 0;

		snprintf(d->id, sizeof(d->id), "%s", sd->id);
		d->slot = (uint32_t)i;
		d->program = r->programs ? r->programs[sd->group] : NULL;
		fmt_ms(v[0], g->interval_ms);
		d->args[k++] = "--interval";
		d->args[k++] = v[0];
		if (g->sample_interval_ms) {
			fmt_ms(v[1], g->sample_interval_ms);
			d->args[k++] = "--sample-interval";
			d->args[k++] = v[1];
		}
		snprintf(v[2], 24, "%us", g->keepalive_s);
		d->args[k++] = "--keepalive";
		d->args[k++] = v[2];
		d->args[k++] = "--topic-style";
		d->args[k++] = styles[g->topic_style];
		if (g->transport == SCENARIO_TRANSPORT_HTTP) {
			d->args[k++] = "--transport";
			d->args[k++] = "http";
			d->args[k++] = "--ingest";
			d->args[k++] = r->ingest_url;
		}
		/* Every device its own reproducible random stream. */
		snprintf(v[3], 24, "%llu", (unsigned long long)(r->sc.seed * 1000003ull + i));
		d->args[k++] = "--seed";
		d->args[k++] = v[3];
		d->args[k++] = "--log-limit";
		d->args[k++] = DEVICE_LOG_LIMIT;
		/* Another firmware counts its readings by its group's templates;
		 * the built-in robot knows its contract. */
		if (sd->room && (g->sketch || g->device)) {
			d->args[k++] = "--room";
			d->args[k++] = sd->room;
		}
		for (size_t t = 0; (g->sketch || g->device) && t < g->topics->n_readings; t++) {
			d->args[k++] = "--reading-topic";
			d->args[k++] = g->topics->readings[t].text;
		}
		d->args[k] = NULL;
	}
	return 0;
}

static int start_fleet(struct run *r)
{
	double rate = r->sc.fleet.connect_rate_per_s > 0 ? r->sc.fleet.connect_rate_per_s : 200;
	int64_t t0 = run__mono_ms();
	int rc;

	for (size_t i = 0, k = 0; i < r->fleet.count; i++) {
		/* Pace the starts: the k-th device started no earlier than k /
		 * rate seconds in (a shard starts only its own). */
		int64_t due = t0 + (int64_t)((double)k * 1000.0 / rate);

		if (!run__owns(r, i))
			continue;
		k++;
		if ((rc = run__sleep_until(r, due)) < 0)
			return rc;
		if ((rc = fleet_start(&r->fleet, i)) < 0) {
			fprintf(stderr, "robofleet: cannot start %s: %s\n", r->fleet.devices[i].id,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int connect_cloud(struct run *r)
{
	char id[64];

	snprintf(id, sizeof(id), "robofleet-cloud-%ld", (long)getpid());
	r->cloud = mosquitto_new(id, true, NULL);
	if (!r->cloud)
		return -ENOMEM;
	if (mqtt_auth_apply(r->cloud, run_security_commander(&r->security)) < 0)
		return -EINVAL;
	if (mosquitto_connect_async(r->cloud, r->broker.host, r->broker.port, 30) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(r->cloud) != MOSQ_ERR_SUCCESS)
		return -EIO;
	return 0;
}

/* ---- the whole run ------------------------------------------------------------ */

/*
 * The end of a run, in the order that makes the summary the record: note
 * who is online, stop the fleet (each robot says `offline` and keeps what
 * it could not send in its outbox), read every robot's last report, wait
 * until the recorder holds everything the broker took (a marker through
 * the broker, then its last commit, retries included), and only then
 * count.
 */
static void wind_down(struct run *r, size_t *online_at_end)
{
	const int stall_ms = RECORDER_STORE_DEADLINE_MS + STOP_TIMEOUT_MS;

	*online_at_end = 0;
	run__impersonate_stop(r);
	if (!r->recorder || !r->db)
		return;
	*online_at_end = run__count_online(r);
	if (r->fleet.devices) {
		fleet_stop_all(&r->fleet, STOP_TIMEOUT_MS);
		fleet_reap(&r->fleet, run__on_device_exit, r);
	}
	/* An interrupted run ends within the usual bound, drained or not. */
	run__book_all(r, stall_ms, posix_signal_received() ? stall_ms : RUN_DRAIN_MAX_MS, true);
	if (broker_log_says_dropped(&r->broker, r->recorder_id)) {
		r->broker_dropped = true;
		fprintf(stderr, "robofleet: the broker dropped readings queued for the recorder (its "
			"queue was full; see %s): they count as lost\n", r->broker.log_path);
	}
	run__stop_ingest(r); /* before the recorder: it answers once a reading is stored */
	if (recorder_stop(r->recorder) < 0)
		fprintf(stderr, "robofleet: the recorder is still writing after %d s; the summary "
			"may miss its last batch\n", STOP_TIMEOUT_MS / 1000);
	run__stop_influx(r); /* after the recorder: the feed sends what it committed */
}

static void tear_down(struct run *r)
{
	/* Reserved verdict files a run that broke off early never wrote. */
	if (r->dir[0]) {
		char part[PATH_MAX + 16];

		snprintf(part, sizeof(part), "%s/.summary.json.part", r->dir);
		unlink(part);
		snprintf(part, sizeof(part), "%s/.report.txt.part", r->dir);
		unlink(part);
	}
	run__stop_tui(r);
	run__stop_influx(r);
	run__impersonate_stop(r);
	run__shard_free(r);
	run__report_free(r);
	control_close(&r->control);
	free(r->restores);
	r->restores = NULL;
	if (r->fleet.devices) {
		fleet_stop_all(&r->fleet, STOP_TIMEOUT_MS);
		fleet_reap(&r->fleet, NULL, NULL);
	}
	run__stop_ingest(r);
	if (r->recorder) {
		recorder_close(r->recorder);
		r->recorder = NULL;
	}
	run__alerts_free(r);
	topic_map_free(r->topics);
	r->topics = NULL;
	if (r->cloud) {
		mosquitto_disconnect(r->cloud);
		mosquitto_loop_stop(r->cloud, false);
		mosquitto_destroy(r->cloud);
		r->cloud = NULL;
	}
	if (!r->broker.external)
		broker_stop(&r->broker, STOP_TIMEOUT_MS);
	record_close(r->db);
	r->db = NULL;
	if (r->books)
		for (size_t i = 0; i < r->sc.fleet.n_devices; i++)
			accounting_device_free(&r->books[i]);
	free(r->books);
	r->books = NULL;
	fleet_free(&r->fleet);
	free(r->args);
	r->args = NULL;
	free(r->net_args);
	r->net_args = NULL;
	if (r->programs)
		for (size_t i = 0; i < r->sc.fleet.n_groups; i++)
			free(r->programs[i]);
	free(r->programs);
	r->programs = NULL;
	free(r->faults);
	r->faults = NULL;
	free(r->faults_injected);
	r->faults_injected = NULL;
	free(r->published_before);
	r->published_before = NULL;
	free(r->published_boot);
	r->published_boot = NULL;
	free(r->refused_before);
	r->refused_before = NULL;
	free(r->board_sent);
	r->board_sent = NULL;
	free(r->group_books);
	r->group_books = NULL;
	engine_free(&r->engine);
	if (r->world.hdr)
		world_close(&r->world);
	scenario_free(&r->sc);
}

int run_scenario(const struct run_options *o)
{
	struct run r;
	struct scenario_error err;
	struct recorder_opts ro;
	char db_path[PATH_MAX + 16], client_id[64], errbuf[700];
	size_t online_at_end = 0;
	int rc, status = 1;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.ingest_lock, NULL);
	r.opt = o;
	r.control.rfd = r.control.wfd = -1;
	if (run__check_influx(o) < 0)
		return 2;
	if (scenario_parse_file(o->scenario_path, &r.sc, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 2;
	}
	if (o->broker) {
		const char *h;
		size_t hlen;
		uint16_t p;
		/* Bad options end the command before anything is created. */
		if (robot_config_split_broker(o->broker, &h, &hlen, &p) < 0) {
			fprintf(stderr, "robofleet: --broker '%s': want HOST[:PORT]\n", o->broker);
			scenario_free(&r.sc);
			return 2;
		}
	}
	if ((rc = run__shard_check(&r, errbuf, sizeof(errbuf))) < 0) {
		fprintf(stderr, "robofleet: %s\n", errbuf);
		scenario_free(&r.sc);
		return 2;
	}
	snprintf(r.shard_run_id, sizeof(r.shard_run_id), "%s", o->run_id ? o->run_id : r.sc.name);
	r.shard_process_start_wall_ms = run__wall_ms();
	/* Like a bad file: nothing is created when the machine cannot hold the fleet. */
	if (run__check_fleet_limits(r.sc.fleet.n_devices,
			       !o->broker && r.sc.fleet.broker != SCENARIO_BROKER_EXTERNAL) < 0) {
		scenario_free(&r.sc);
		return 2;
	}
	if (run__check_disk(&r) < 0) {
		scenario_free(&r.sc);
		return 2;
	}
	r.device_nice = run__set_priorities(&r);
	if ((rc = set_up_programs(&r)) < 0) {
		if (rc == -ENOMEM)
			fprintf(stderr, "robofleet: out of memory\n");
		tear_down(&r);
		return 2;
	}
	/* SIGINT and SIGTERM stop the run: they wake the engine's sleep through
	 * the self-pipe; SIGPIPE is ignored. */
	if ((rc = posix_signal_setup()) < 0 || (rc = make_run_dir(&r)) < 0) {
		fprintf(stderr, "robofleet: cannot create the run directory: %s\n", strerror(-rc));
		goto out;
	}
	if ((rc = run__shard_setup(&r)) < 0 || (rc = run__shard_copy_scenario(&r)) < 0 ||
	    (rc = run__shard_write_state(&r, false, 0)) < 0) {
		fprintf(stderr, "robofleet: shard set-up: %s\n", strerror(-rc));
		goto out;
	}
	if (o->shard_count)
		run__say(&r, "robofleet: %s, shard %u of %u: %zu of %zu devices, run directory %s\n",
			 r.sc.name, o->shard_index, o->shard_count, run__owned_count(&r),
			 r.sc.fleet.n_devices, r.dir);
	else
		run__say(&r, "robofleet: %s, %zu devices, run directory %s\n", r.sc.name,
			 r.sc.fleet.n_devices, r.dir);
	run__reserve_verdict_file(r.dir, "summary.json");
	run__reserve_verdict_file(r.dir, "report.txt");
	if ((rc = run__report_init(&r)) < 0) {
		fprintf(stderr, "robofleet: %s\n", strerror(-rc));
		goto out;
	}
	if ((rc = set_up_world(&r)) < 0) {
		fprintf(stderr, "robofleet: world file: %s\n", strerror(-rc));
		goto out;
	}
	r.status.pid = (int32_t)getpid();
	r.status.steps_total = (uint32_t)r.sc.n_steps_total;
	run__set_phase(&r, WORLD_RUN_STARTING);
	/* Without the channel the run still works; the dashboard is read-only. */
	if ((rc = control_open(&r.control, r.dir)) < 0)
		fprintf(stderr, "robofleet: no dashboard control channel: %s\n", strerror(-rc));
	if (o->tui && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "robofleet: --tui needs a terminal\n");
		status = 2;
		goto out;
	}
	if (o->tui && (rc = run__start_tui(&r)) < 0) {
		fprintf(stderr, "robofleet: cannot start the dashboard: %s\n", strerror(-rc));
		goto out;
	}

	mosquitto_lib_init();
	if ((o->broker || r.sc.fleet.broker == SCENARIO_BROKER_EXTERNAL) &&
	    r.sc.fleet.security != SCENARIO_SECURITY_NONE && !o->pki_dir) {
		fprintf(stderr, "robofleet: security: %s against a broker robofleet does not own "
			"needs --pki DIR, the credentials that broker trusts (robofleet ca makes "
			"them; docs/security.md)\n", scenario_security_name(r.sc.fleet.security));
		status = 2;
		goto out;
	}
	if ((rc = run_security_prepare(&r.security, &r.sc, r.dir, o->pki_dir, errbuf,
				       sizeof(errbuf))) < 0) {
		fprintf(stderr, "robofleet: %s\n", errbuf);
		if (rc == -EINVAL)
			status = 2;
		goto out;
	}
	if (o->broker || r.sc.fleet.broker == SCENARIO_BROKER_EXTERNAL) {
		char host[256];
		int port = r.sc.fleet.broker_port;
		snprintf(host, sizeof(host), "%s", r.sc.fleet.broker_host ? r.sc.fleet.broker_host : "");
		if (o->broker) {
			const char *h;
			size_t hlen;
			uint16_t p;
			if (robot_config_split_broker(o->broker, &h, &hlen, &p) < 0 ||
			    hlen >= sizeof(host)) {
				fprintf(stderr, "robofleet: --broker '%s': want HOST[:PORT]\n", o->broker);
				status = 2;
				goto out;
			}
			snprintf(host, sizeof(host), "%.*s", (int)hlen, h);
			port = p;
		}
		if ((rc = broker_configure_external(&r.broker, host, port)) < 0) {
			fprintf(stderr, "robofleet: --broker %s: want HOST:PORT\n", o->broker ? o->broker : host);
			status = 2;
			goto out;
		}
	} else {
		struct robot_config firmware;

		/* Room for every outbox's worth of readings in the recorder's
		 * queue: a recorder that falls behind finds them all there. */
		robot_config_defaults(&firmware);
		if ((rc = broker_configure_embedded_access(&r.broker, r.dir, 0,
							   run_security_access(&r.security),
							   (unsigned long)r.sc.fleet.n_devices *
							   firmware.outbox_capacity)) < 0 ||
		    (rc = broker_start(&r.broker, STOP_TIMEOUT_MS)) < 0) {
			fprintf(stderr, "robofleet: embedded mosquitto did not start: %s (see %s/mosquitto.log)\n",
				strerror(-rc), r.dir);
			goto out;
		}
		if (r.security.mode == SCENARIO_SECURITY_MUTUAL)
			run__say(&r, "robofleet: mosquitto on %s:%d, mutual TLS (watch: mosquitto_sub "
				 "-h %s -p %d --cafile %s --cert %s --key %s -v -t 'sensors/#')\n",
				 r.broker.host, r.broker.port, r.broker.host, r.broker.port,
				 r.security.ca, r.security.client_cert[0], r.security.client_key[0]);
		else if (r.security.mode != SCENARIO_SECURITY_NONE)
			run__say(&r, "robofleet: mosquitto on %s:%d, security: %s (the recorder's "
				 "user name and password: %s/clients/)\n", r.broker.host,
				 r.broker.port, scenario_security_name(r.security.mode),
				 r.security.dir);
		else
			run__say(&r, "robofleet: mosquitto on %s:%d (watch: mosquitto_sub -h %s -p %d -v -t 'sensors/#')\n",
			    r.broker.host, r.broker.port, r.broker.host, r.broker.port);
	}

	if (r.world.hdr) {
		atomic_store(&r.world.hdr->broker_port, (int32_t)r.broker.port);
		atomic_store(&r.world.hdr->broker_state, 1u);
	}
	snprintf(db_path, sizeof(db_path), "%s/record.db", r.dir);
	snprintf(client_id, sizeof(client_id), "robofleet-recorder-%ld", (long)getpid());
	snprintf(r.recorder_id, sizeof(r.recorder_id), "%s", client_id);
	memset(&ro, 0, sizeof(ro));
	ro.db_path = db_path;
	ro.client_id = client_id;
	ro.store_deadline_ms = RECORDER_STORE_DEADLINE_MS;
	if ((rc = set_up_topics(&r)) < 0) {
		fprintf(stderr, "robofleet: topic layouts: %s\n", strerror(-rc));
		goto out;
	}
	ro.topics = r.topics;
	if ((rc = run__shard_filters(&r)) < 0) {
		fprintf(stderr, "robofleet: %s\n", strerror(-rc));
		goto out;
	}
	ro.filters = (const char *const *)r.shard_filters;
	ro.auth = run_security_recorder(&r.security);
	if (scenario_has_http(&r.sc)) {
		ro.on_command = run__route_command;
		ro.command_ctx = &r;
	}
	if ((rc = run__alerts_prepare(&r, &ro)) < 0) {
		fprintf(stderr, "robofleet: alerts: %s\n", strerror(-rc));
		goto out;
	}
	if ((rc = recorder_open(&ro, &r.recorder)) < 0 ||
	    (rc = recorder_start(r.recorder, r.broker.host, r.broker.port)) < 0 ||
	    (rc = recorder_wait_subscribed(r.recorder, STOP_TIMEOUT_MS)) < 0) {
		fprintf(stderr, "robofleet: recorder: %s\n", strerror(-rc));
		goto out;
	}
	if (record_open(db_path, 2000, &r.db, errbuf, sizeof(errbuf)) < 0) {
		fprintf(stderr, "robofleet: cannot read %s\n", db_path);
		goto out;
	}
	if ((rc = run__start_influx(&r, db_path)) < 0)
		goto out;
	if ((rc = connect_cloud(&r)) < 0) {
		fprintf(stderr, "robofleet: command publisher: %s\n", strerror(-rc));
		goto out;
	}
	if ((rc = run__alerts_start(&r)) < 0) {
		fprintf(stderr, "robofleet: alerts: %s\n", strerror(-rc));
		goto out;
	}
	if ((rc = run__start_ingest(&r)) < 0) {
		status = rc == -EINVAL ? 2 : 1;
		goto out;
	}
	if ((rc = set_up_fleet(&r)) < 0)
		goto out;
	if ((rc = engine_init(&r.engine, &r.sc, &run__ops, &r)) < 0)
		goto out;
	r.engine.owned = r.owned;
	r.wall_offset_ms = run__wall_ms() - run__mono_ms();
	if ((rc = start_fleet(&r)) < 0)
		goto interrupted_or_out;
	run__say(&r, "robofleet: %zu devices started\n", run__owned_count(&r));
	if ((rc = run__shard_wait_start(&r)) < 0)
		goto interrupted_or_out;

	run__set_phase(&r, WORLD_RUN_RUNNING);
	rc = engine_run(&r.engine);
	run__control_tick(&r); /* the last expectations into the header */
interrupted_or_out:
	run__set_phase(&r, rc == 0 ? WORLD_RUN_FINISHED : WORLD_RUN_INTERRUPTED);
	run__stop_tui(&r);
	if (rc == -ECANCELED || posix_signal_received()) {
		fprintf(stderr, "robofleet: interrupted; stopping the fleet\n");
		status = 130;
	} else if (rc < 0) {
		fprintf(stderr, "robofleet: %s\n", r.engine.error[0] ? r.engine.error : strerror(-rc));
	}
	wind_down(&r, &online_at_end);
	if (run__verdict(&r, rc, online_at_end) != 0 && status != 130)
		status = 1;
	else if (status != 130)
		status = 0;
	run__shard_clear_ready(&r);
	run__shard_write_state(&r, true, status);
out:
	tear_down(&r);
	mosquitto_lib_cleanup();
	return status;
}
