/*
 * The impersonate fault: while it is on a robot, a client holding that
 * robot's credentials (its certificate, or its user name and password)
 * publishes well-formed readings as the next robot of the fleet, on that
 * robot's readings topic, once a second, as a cloned or compromised device
 * would. The broker's ACL must drop every one of them. They carry a boot
 * number no robot uses, so the verdict can tell whether any reached the
 * record (it must not: a run where one did fails).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdatomic.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"
#include "run_internal.h"
#include "topic_layout.h"

#define ROGUE_PERIOD_MS 1000

struct run_rogue {
	struct mosquitto *m;
	size_t victim;
	int64_t next_ms;
	uint32_t seq;
	struct mqtt_auth auth;
	char cert[RUN_SECURITY_PATH_MAX], key[RUN_SECURITY_PATH_MAX], password[128];
};

/* Where the victim's JSON readings go: its layout's, else robofleet's contract. */
static void victim_topic(const struct run *r, size_t victim, char *out, size_t len)
{
	const struct scenario_device *d = &r->sc.fleet.devices[victim];
	const struct topic_layout *l = r->sc.fleet.groups[d->group].topics;

	for (size_t i = 0; i < l->n_readings; i++)
		if (l->readings[i].format == TOPIC_FORMAT_JSON &&
		    topic_template_expand(&l->readings[i], d->id, d->room, -1, out, len) == 0)
			return;
	snprintf(out, len, "sensors/%s/data", d->id);
}

/* The broker took it (mosquitto acknowledges a QoS 1 publish its ACL
 * drops, as MQTT 3.1.1 has no way to say no): counted, from its thread. */
static void on_acked(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	(void)mid;
	atomic_fetch_add((_Atomic uint64_t *)obj, 1);
}

static void rogue_stop(struct run_rogue *g)
{
	if (!g)
		return;
	if (g->m) {
		mosquitto_disconnect(g->m);
		mosquitto_loop_stop(g->m, false);
		mosquitto_destroy(g->m);
	}
	free(g);
}

static struct run_rogue *rogue_start(struct run *r, size_t dev)
{
	const char *id = r->sc.fleet.devices[dev].id;
	struct run_rogue *g = calloc(1, sizeof(*g));
	char client_id[64];

	if (!g)
		return NULL;
	g->victim = (dev + 1) % r->sc.fleet.n_devices;
	snprintf(client_id, sizeof(client_id), "impersonator-%s", id);
	if (run_security_device_auth(&r->security, id, &g->auth, g->cert, g->key, g->password,
				     sizeof(g->password)) < 0 ||
	    !(g->m = mosquitto_new(client_id, true, &r->impersonation_acked)) ||
	    (mosquitto_publish_callback_set(g->m, on_acked), mqtt_auth_apply(g->m, &g->auth) < 0) ||
	    mosquitto_connect_async(g->m, r->broker.host, r->broker.port, 30) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(g->m) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "robofleet: impersonate %s: cannot connect with its credentials\n", id);
		rogue_stop(g);
		return NULL;
	}
	g->next_ms = run__mono_ms();
	return g;
}

static void rogue_publish(struct run *r, struct run_rogue *g)
{
	const char *victim = r->sc.fleet.devices[g->victim].id;
	char topic[TOPIC_TEMPLATE_MAX + 2 * TOPIC_NAME_MAX], payload[256], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(payload, sizeof(payload),
		     "{\"device_id\":\"%s\",\"boot\":%u,\"seq\":%u,\"timestamp\":\"%s\","
		     "\"sensors\":{\"temperature\":21.5,\"humidity\":40.0,\"distance\":100.0}}",
		     victim, RUN_IMPERSONATION_BOOT, ++g->seq, ts);
	victim_topic(r, g->victim, topic, sizeof(topic));
	if (mosquitto_publish(g->m, NULL, topic, n, payload, 1, false) == MOSQ_ERR_SUCCESS)
		r->impersonation_sent++;
}

void run__impersonate_tick(struct run *r)
{
	int64_t now;

	if (r->security.mode == SCENARIO_SECURITY_NONE || !r->faults || r->sc.fleet.n_devices < 2)
		return;
	if (!r->rogues && !(r->rogues = calloc(r->sc.fleet.n_devices, sizeof(*r->rogues))))
		return;
	now = run__mono_ms();
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++) {
		struct run_rogue *g = r->rogues[i];

		if (!r->faults[i].impersonating) {
			if (g) {
				rogue_stop(g);
				r->rogues[i] = NULL;
			}
			continue;
		}
		if (!g && !(g = r->rogues[i] = rogue_start(r, i)))
			continue;
		if (now >= g->next_ms) {
			rogue_publish(r, g);
			g->next_ms = now + ROGUE_PERIOD_MS;
		}
	}
}

void run__impersonate_stop(struct run *r)
{
	if (!r->rogues)
		return;
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++)
		rogue_stop(r->rogues[i]);
	free(r->rogues);
	r->rogues = NULL;
}

uint64_t run__impersonation_recorded(struct run *r)
{
	uint64_t total = 0;

	if (!r->db || !r->impersonation_sent)
		return 0;
	for (size_t i = 0; i < r->sc.fleet.n_devices; i++) {
		int64_t n = record_count_boot_readings(r->db, r->sc.fleet.devices[i].id,
						       RUN_IMPERSONATION_BOOT, 0, UINT32_MAX);
		if (n > 0)
			total += (uint64_t)n;
	}
	return total;
}
