/*
 * A sharded run (`robofleet run --shard I/N`): shard I plays the devices
 * whose index d in the scenario's sorted device list has d % N == I, with
 * the ids, seeds and fault picks a run of the whole fleet gives them (the
 * engine picks targets over the whole fleet, then narrows them to these).
 * Its recorder subscribes to its own devices' topics only. Every shard
 * starts its timeline at one common moment: --start-at, or the moment the
 * shards agree on through the broker (each publishes a retained "ready"
 * with its wall clock once its fleet is up; when all N are there, every
 * shard starts at the latest of them plus a margin). shard.json in the run
 * directory says which shard this was and whether it finished, for
 * `robofleet merge`. docs/scale-out.md is the user's side of this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_internal.h"
#include "topic_layout.h"

/* Shards start this long after the last one said ready: time for every
 * shard to see that message and for none to start late. */
#define SHARD_START_MARGIN_MS 3000
/* A ready message this much older than our own start is an earlier run's. */
#define SHARD_STALE_MS (10 * 60 * 1000)
#define SHARD_TOPIC_MAX 200

bool run__owns(const struct run *r, size_t dev)
{
	return !r->owned || r->owned[dev];
}

size_t run__owned_count(const struct run *r)
{
	return r->owned ? r->n_owned : r->sc.fleet.n_devices;
}

/* Every step a shard cannot play: the broker is not ours to stop. */
static const struct scenario_step *broker_step(const struct scenario_step *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct scenario_step *hit = NULL;

		if (st[i].kind == SCENARIO_STEP_BROKER)
			return &st[i];
		if (st[i].kind == SCENARIO_STEP_REPEAT)
			hit = broker_step(st[i].repeat.steps, st[i].repeat.n_steps);
		if (hit)
			return hit;
	}
	return NULL;
}

int run__shard_check(const struct run *r, char *err, size_t errlen)
{
	const struct run_options *o = r->opt;
	const struct scenario_step *b;

	if (!o->shard_count)
		return 0;
	if (!o->broker && r->sc.fleet.broker != SCENARIO_BROKER_EXTERNAL) {
		snprintf(err, errlen, "--shard needs --broker HOST:PORT: every shard must use the "
			 "same broker, and an embedded one is each shard's own");
		return -EINVAL;
	}
	if ((b = broker_step(r->sc.steps, r->sc.n_steps))) {
		snprintf(err, errlen, "%s:%u:%u: a broker step cannot be sharded: the broker is "
			 "shared by every shard and not robofleet's to stop (run it unsharded, or "
			 "drop the step)", r->sc.file, b->pos.line, b->pos.col);
		return -EINVAL;
	}
	if ((size_t)o->shard_count > r->sc.fleet.n_devices) {
		snprintf(err, errlen, "--shard %u/%u: more shards than the scenario's %zu devices",
			 o->shard_index, o->shard_count, r->sc.fleet.n_devices);
		return -EINVAL;
	}
	return 0;
}

int run__shard_setup(struct run *r)
{
	const struct run_options *o = r->opt;
	size_t n = r->sc.fleet.n_devices;

	if (!o->shard_count)
		return 0;
	if (!(r->owned = calloc(n ? n : 1, sizeof(*r->owned))))
		return -ENOMEM;
	r->n_owned = 0;
	for (size_t d = 0; d < n; d++) {
		r->owned[d] = d % o->shard_count == o->shard_index;
		r->n_owned += r->owned[d];
	}
	r->engine.owned = r->owned;
	return 0;
}

/* ---- the recorder's subscriptions: its own devices' topics ---------------- */

static int add_filter(char ***list, size_t *n, size_t *cap, const char *f)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], f))
			return 0; /* devices of one room share its topics */
	if (*n + 2 > *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **l = realloc(*list, c * sizeof(*l));

		if (!l)
			return -ENOMEM;
		*list = l;
		*cap = c;
	}
	if (!((*list)[*n] = strdup(f)))
		return -ENOMEM;
	(*list)[++*n] = NULL;
	return 0;
}

int run__shard_filters(struct run *r)
{
	const struct scenario_fleet *fl = &r->sc.fleet;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!r->owned)
		return 0;
	for (size_t d = 0; d < fl->n_devices && rc == 0; d++) {
		const struct scenario_device *dev = &fl->devices[d];
		const struct topic_layout *l = fl->groups[dev->group].topics;
		char f[TOPIC_TEMPLATE_MAX * 2];

		if (!r->owned[d])
			continue;
		for (size_t t = 0; t < l->n_readings && rc == 0; t++) {
			topic_template_device_filter(&l->readings[t], dev->id, dev->room, f, sizeof(f));
			rc = add_filter(&r->shard_filters, &n, &cap, f);
		}
		topic_template_device_filter(&l->status, dev->id, dev->room, f, sizeof(f));
		if (rc == 0)
			rc = add_filter(&r->shard_filters, &n, &cap, f);
		topic_template_device_filter(&l->command, dev->id, dev->room, f, sizeof(f));
		if (rc == 0)
			rc = add_filter(&r->shard_filters, &n, &cap, f);
	}
	return rc;
}

/* ---- shard.json and the scenario's copy ------------------------------------ */

int run__shard_write_state(struct run *r, bool finished, int exit_status)
{
	const struct run_options *o = r->opt;
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	FILE *f;

	if (!o->shard_count || !r->dir[0])
		return 0;
	snprintf(path, sizeof(path), "%s/shard.json", r->dir);
	snprintf(tmp, sizeof(tmp), "%s/.shard.json.part", r->dir);
	if (!(f = fopen(tmp, "w")))
		return -errno;
	fprintf(f, "{\"run_id\": \"%s\", \"scenario\": \"%s\", \"index\": %u, \"count\": %u, "
		"\"devices\": %zu, \"started_ms\": %lld, \"finished\": %s, \"exit_status\": %d}\n",
		r->shard_run_id, r->sc.name, o->shard_index, o->shard_count, run__owned_count(r),
		(long long)r->shard_started_wall_ms, finished ? "true" : "false",
		finished ? exit_status : -1);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	return rename(tmp, path) == 0 ? 0 : -errno;
}

int run__shard_copy_scenario(struct run *r)
{
	char path[PATH_MAX + 32], buf[65536];
	int in, out, rc = 0;
	ssize_t k;

	if (!r->opt->shard_count)
		return 0;
	snprintf(path, sizeof(path), "%s/scenario.yaml", r->dir);
	if ((in = open(r->opt->scenario_path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((k = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)k) != k) {
			rc = -EIO;
			break;
		}
	if (k < 0)
		rc = -errno;
	close(in);
	if (close(out) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

/* ---- one start for every shard ---------------------------------------------- */

struct ready_board {
	pthread_mutex_t lock;
	unsigned count;
	int64_t *ready_ms;      /* per shard index, 0: not seen */
	int64_t not_before_ms;  /* older ready messages are an earlier run's */
};

static void on_ready(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct ready_board *b = obj;
	unsigned idx = 0, cnt = 0;
	long long ms = 0;
	char text[160];

	(void)m;
	if (!msg->payloadlen || msg->payloadlen >= (int)sizeof(text))
		return;
	memcpy(text, msg->payload, (size_t)msg->payloadlen);
	text[msg->payloadlen] = '\0';
	if (sscanf(text, "{\"index\": %u, \"count\": %u, \"ready_ms\": %lld}", &idx, &cnt, &ms) != 3 ||
	    cnt != b->count || idx >= cnt || ms < b->not_before_ms)
		return;
	pthread_mutex_lock(&b->lock);
	b->ready_ms[idx] = ms;
	pthread_mutex_unlock(&b->lock);
}

/* The common start (wall ms) once every shard said ready; 0 while not. */
static int64_t agreed_start(struct ready_board *b)
{
	int64_t latest = 0;

	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < b->count; i++) {
		if (!b->ready_ms[i]) {
			latest = 0;
			break;
		}
		if (b->ready_ms[i] > latest)
			latest = b->ready_ms[i];
	}
	pthread_mutex_unlock(&b->lock);
	return latest ? latest + SHARD_START_MARGIN_MS : 0;
}

static void ready_topic(const struct run *r, unsigned idx, char *out, size_t len)
{
	snprintf(out, len, "robofleet/shards/%s/%u", r->shard_run_id, idx);
}

/* Through the broker, with a client of our own: the commander's ACL
 * (secure modes) has no business with these topics. */
static int agree_on_start(struct run *r, int64_t *start_wall_ms)
{
	const struct run_options *o = r->opt;
	struct ready_board b = { .count = o->shard_count };
	struct mosquitto *m = NULL;
	char topic[SHARD_TOPIC_MAX], filter[SHARD_TOPIC_MAX], payload[160], id[96];
	int64_t deadline = run__mono_ms() + (int64_t)o->shard_wait_s * 1000;
	int rc = -EIO;

	pthread_mutex_init(&b.lock, NULL);
	b.not_before_ms = r->shard_process_start_wall_ms - SHARD_STALE_MS;
	if (!(b.ready_ms = calloc(b.count, sizeof(*b.ready_ms)))) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(id, sizeof(id), "robofleet-shard-%.60s-%u", r->shard_run_id, o->shard_index);
	if (!(m = mosquitto_new(id, true, &b)) ||
	    mqtt_auth_apply(m, run_security_commander(&r->security)) < 0)
		goto out;
	mosquitto_message_callback_set(m, on_ready);
	if (mosquitto_connect(m, r->broker.host, r->broker.port, 30) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS)
		goto out;
	snprintf(filter, sizeof(filter), "robofleet/shards/%s/+", r->shard_run_id);
	ready_topic(r, o->shard_index, topic, sizeof(topic));
	snprintf(payload, sizeof(payload), "{\"index\": %u, \"count\": %u, \"ready_ms\": %lld}",
		 o->shard_index, o->shard_count, (long long)run__wall_ms());
	if (mosquitto_subscribe(m, NULL, filter, 1) != MOSQ_ERR_SUCCESS ||
	    mosquitto_publish(m, NULL, topic, (int)strlen(payload), payload, 1, true) !=
		    MOSQ_ERR_SUCCESS)
		goto out;
	run__say(r, "robofleet: shard %u/%u ready; waiting for the others on %s\n",
		 o->shard_index, o->shard_count, filter);
	for (;;) {
		if ((*start_wall_ms = agreed_start(&b)) != 0) {
			rc = 0;
			break;
		}
		if (run__mono_ms() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		if ((rc = run__sleep_until(r, run__mono_ms() + 100)) < 0)
			break;
	}
out:
	if (m) {
		mosquitto_disconnect(m);
		mosquitto_loop_stop(m, false);
		mosquitto_destroy(m);
	}
	free(b.ready_ms);
	pthread_mutex_destroy(&b.lock);
	return rc;
}

int run__shard_wait_start(struct run *r)
{
	const struct run_options *o = r->opt;
	int64_t start = 0;
	int rc;

	if (!o->shard_count)
		return 0;
	if (o->start_at_ms) {
		start = o->start_at_ms;
	} else if ((rc = agree_on_start(r, &start)) < 0) {
		if (rc == -ETIMEDOUT)
			fprintf(stderr, "robofleet: shard %u/%u: not every shard was ready within "
				"%u s (see robofleet/shards/%s/ on the broker)\n", o->shard_index,
				o->shard_count, o->shard_wait_s, r->shard_run_id);
		return rc;
	}
	r->shard_started_wall_ms = start;
	if (start < run__wall_ms())
		fprintf(stderr, "robofleet: shard %u/%u: the common start was %lld ms ago; "
			"starting now\n", o->shard_index, o->shard_count,
			(long long)(run__wall_ms() - start));
	else
		run__say(r, "robofleet: shard %u/%u starts its timeline in %lld ms\n",
			 o->shard_index, o->shard_count, (long long)(start - run__wall_ms()));
	run__shard_write_state(r, false, 0);
	return run__sleep_until(r, run__mono_ms() + (start - run__wall_ms()));
}

/* The end client's progress, from libmosquitto's callbacks. */
struct clear_state {
	bool connected, acked;
};

static void on_clear_connect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	((struct clear_state *)obj)->connected = rc == 0;
}

static void on_clear_publish(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	(void)mid;
	((struct clear_state *)obj)->acked = true;
}

void run__shard_clear_ready(struct run *r)
{
	const struct run_options *o = r->opt;
	struct clear_state st = { false, false };
	struct mosquitto *m;
	char topic[SHARD_TOPIC_MAX], id[96];

	if (!o->shard_count || o->start_at_ms || !r->broker.port)
		return;
	/* A retained message outlives the run: take ours back, so the next run
	 * with this id does not count us ready before we are. Each step is
	 * awaited (CONNACK, then PUBACK), at most 2 s in all. */
	snprintf(id, sizeof(id), "robofleet-shard-%.60s-%u-end", r->shard_run_id, o->shard_index);
	if (!(m = mosquitto_new(id, true, &st)))
		return;
	mosquitto_connect_callback_set(m, on_clear_connect);
	mosquitto_publish_callback_set(m, on_clear_publish);
	ready_topic(r, o->shard_index, topic, sizeof(topic));
	if (mqtt_auth_apply(m, run_security_commander(&r->security)) == 0 &&
	    mosquitto_connect(m, r->broker.host, r->broker.port, 10) == MOSQ_ERR_SUCCESS) {
		for (int i = 0; i < 40 && !st.connected; i++)
			if (mosquitto_loop(m, 50, 1) != MOSQ_ERR_SUCCESS)
				break;
		if (st.connected &&
		    mosquitto_publish(m, NULL, topic, 0, NULL, 1, true) == MOSQ_ERR_SUCCESS)
			for (int i = 0; i < 40 && !st.acked; i++)
				if (mosquitto_loop(m, 50, 1) != MOSQ_ERR_SUCCESS)
					break;
		mosquitto_disconnect(m);
		mosquitto_loop(m, 50, 1);
	}
	if (!st.acked)
		fprintf(stderr, "robofleet: shard %u/%u: could not take back its ready message "
			"on %s (a later run with this id may start early)\n", o->shard_index,
			o->shard_count, topic);
	mosquitto_destroy(m);
}

void run__shard_free(struct run *r)
{
	if (r->shard_filters)
		for (size_t i = 0; r->shard_filters[i]; i++)
			free(r->shard_filters[i]);
	free(r->shard_filters);
	r->shard_filters = NULL;
	free(r->owned);
	r->owned = NULL;
}
