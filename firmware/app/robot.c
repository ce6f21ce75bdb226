/*
 * The robot application. Everything is driven by deadlines: robot_step()
 * does what is due and says when it wants to run again, and the board sleeps
 * in between (poll() on the host, WFI on an MCU). Nothing here blocks, so
 * MQTT keepalives are never starved by sensor timing or retry loops.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "hal_http.h"
#include "hal_link.h"
#include "hal_mqtt.h"
#include "hal_random.h"
#include "hal_sensor.h"
#include "hal_storage.h"
#include "hal_system.h"
#include "hal_time.h"
#include "log.h"
#include "payload.h"
#include "robot.h"
#include "robot_internal.h"

#define MS ROBOT_MS
#define BOOT_KEY "boot"
#define BOOT_WRITE_TRIES 3        /* a flash write that failed may work again */
#define DHT22_POWER_UP_MS 1000    /* datasheet: no request in the first second */
#define SHUTDOWN_FLUSH_MS 1000    /* how long `offline` may take to be acked */
#define STATUS_ONLINE "online"
#define STATUS_OFFLINE "offline"

const char *robot_state_name(enum robot_state s)
{
	switch (s) {
	case ROBOT_BOOT: return "boot";
	case ROBOT_LINK_CONNECTING: return "link_connecting";
	case ROBOT_MQTT_CONNECTING: return "mqtt_connecting";
	case ROBOT_ONLINE: return "online";
	case ROBOT_BACKOFF: return "backoff";
	case ROBOT_SHUTTING_DOWN: return "shutting_down";
	case ROBOT_DONE: return "done";
	}
	return "?";
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void robot__set_state(struct robot *r, enum robot_state s)
{
	if (r->state != s)
		LOG_DEBUG("state %s -> %s", robot_state_name(r->state), robot_state_name(s));
	r->state = s;
}

static uint32_t sample_interval_ms(const struct robot *r)
{
	return r->cfg.sample_interval_ms ? r->cfg.sample_interval_ms : r->cfg.publish_interval_ms;
}

static uint32_t climate_interval_ms(const struct robot *r)
{
	uint32_t ms = sample_interval_ms(r);
	return ms < ROBOT_DHT22_MIN_PERIOD_MS ? ROBOT_DHT22_MIN_PERIOD_MS : ms;
}

/* ---- boot counter ---------------------------------------------------- */

static uint32_t load_u32_le(const uint8_t b[4])
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void store_u32_le(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static int count_boot(struct robot *r)
{
	uint8_t raw[4];
	size_t len = 0;
	int rc = hal_storage_read(BOOT_KEY, raw, sizeof(raw), &len);

	if (rc == 0 && len == sizeof(raw))
		r->boot = load_u32_le(raw) + 1;
	else if (rc == -ENOENT)
		r->boot = 1;
	else {
		/* A boot number must never repeat: (id, boot, seq) names a reading. */
		LOG_ERROR("boot counter unreadable (%d); refusing to reuse boot numbers", rc);
		return rc < 0 ? rc : -EIO;
	}
	store_u32_le(raw, r->boot);
	rc = hal_storage_write(BOOT_KEY, raw, sizeof(raw));
	for (int i = 1; i < BOOT_WRITE_TRIES && rc == -EIO; i++)
		rc = hal_storage_write(BOOT_KEY, raw, sizeof(raw));
	/* A number that is not saved would be handed out again after the next
	 * power cut, to a second set of readings: better not to run. This
	 * boot has taken no reading, so the next one may use its number. */
	if (rc < 0)
		LOG_ERROR("boot counter not saved (%d); refusing to run with a boot number "
			  "that could repeat", rc);
	return rc;
}

/* ---- MQTT callbacks -------------------------------------------------- */

void robot__enter_backoff(struct robot *r, uint64_t now_us, const char *why)
{
	uint32_t delay_ms = backoff_next_ms(&r->backoff, hal_random_u32());

	LOG_WARN("%s; retrying in %lu ms", why, (unsigned long)delay_ms);
	r->state_deadline_us = now_us + delay_ms * MS;
	robot__set_state(r, ROBOT_BACKOFF);
}

static void publish_status(struct robot *r, const char *status, uint16_t *msg_id)
{
	int rc = hal_mqtt_publish(r->topic_status, status, strlen(status), 1, true, msg_id);

	if (rc < 0)
		LOG_WARN("status %s not published (%d)", status, rc);
}

static void on_connect(void *ctx, int rc)
{
	struct robot *r = ctx;
	uint64_t now = hal_time_now_us();

	if (r->state != ROBOT_MQTT_CONNECTING)
		return;
	if (rc != 0) {
		hal_mqtt_disconnect();
		robot__enter_backoff(r, now, "broker refused the connection");
		return;
	}
	if (r->ever_online)
		r->counters.reconnects++;
	backoff_reset(&r->backoff);
	/* A new session: whatever the old one left unacknowledged goes again. */
	outbox_rewind(&r->outbox);
	publish_status(r, STATUS_ONLINE, NULL);
	if (hal_mqtt_subscribe(r->topic_command, 1) < 0)
		LOG_WARN("subscribe %s failed", r->topic_command);
	r->ever_online = true;
	robot__set_state(r, ROBOT_ONLINE);
	LOG_INFO("online as %s (boot %lu)", r->cfg.device_id, (unsigned long)r->boot);
}

static void on_disconnect(void *ctx, bool expected)
{
	struct robot *r = ctx;

	if (expected || r->state == ROBOT_SHUTTING_DOWN || r->state == ROBOT_DONE)
		return;
	if (r->state == ROBOT_ONLINE || r->state == ROBOT_MQTT_CONNECTING)
		robot__enter_backoff(r, hal_time_now_us(), "broker connection lost");
}

void robot__obey(struct robot *r, enum robot_command cmd)
{
	uint64_t now = hal_time_now_us();

	switch (cmd) {
	case ROBOT_CMD_START:
		r->counters.commands++;
		if (!r->running) {
			r->running = true;
			r->next_sample_us = now;
			r->next_climate_us = now > r->next_climate_us ? now : r->next_climate_us;
			r->next_publish_us = now + r->cfg.publish_interval_ms * MS;
			LOG_INFO("command start: sensing resumed");
		}
		break;
	case ROBOT_CMD_STOP:
		r->counters.commands++;
		if (r->running) {
			r->running = false;
			LOG_INFO("command stop: sensing halted");
		}
		break;
	case ROBOT_CMD_INVALID:
		r->counters.commands_invalid++;
		LOG_WARN("ignored an invalid command (%lu so far)",
			 (unsigned long)r->counters.commands_invalid);
		break;
	}
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len)
{
	struct robot *r = ctx;

	if (strcmp(topic, r->topic_command) != 0)
		return;
	robot__obey(r, command_parse(payload, len));
}

static void on_publish(void *ctx, uint16_t msg_id)
{
	struct robot *r = ctx;

	if (r->state == ROBOT_SHUTTING_DOWN && msg_id == r->offline_msg_id) {
		r->offline_acked = true;
		return;
	}
	r->counters.acknowledged += outbox_acked(&r->outbox, msg_id);
}

static const struct hal_mqtt_callbacks callbacks = {
	.on_connect = on_connect,
	.on_disconnect = on_disconnect,
	.on_message = on_message,
	.on_publish = on_publish,
};

/* ---- sensing and publishing ------------------------------------------ */

static void sample_distance(struct robot *r)
{
	uint32_t mm;
	int rc = hal_sensor_read_distance(&mm);

	r->distance_err = rc;
	if (rc == 0) {
		median_push(&r->distance_mm, (int32_t)mm);
		r->counters.readings_ok++;
	} else {
		/* Stale values must not outlive a failure in the median. */
		median_reset(&r->distance_mm);
		r->counters.readings_failed++;
		LOG_DEBUG("distance read failed (%d)", rc);
	}
}

static void sample_climate(struct robot *r)
{
	struct climate_sample s;
	int rc = hal_sensor_read_climate(&s);

	r->climate_err = rc;
	if (rc == 0) {
		int32_t t_ref = 0, h_ref = 0;
		bool has_t = median_get(&r->temp_dc, &t_ref) == 0;
		bool has_h = median_get(&r->humidity_dpct, &h_ref) == 0;
		enum spike_verdict vt = spike_gate_judge(&r->temp_gate, has_t, t_ref, s.temp_dc);
		enum spike_verdict vh = spike_gate_judge(&r->humidity_gate, has_h, h_ref,
							 s.humidity_dpct);

		/* A frame with a checksum can still carry nonsense: a value that
		 * jumps too far is held back until the jump proves real. Each
		 * metric is judged alone, so a humidity step does not hold a
		 * temperature ramp back (its reference would go stale). */
		if (vt == SPIKE_REJECT || vh == SPIKE_REJECT) {
			r->counters.spikes_rejected++;
			LOG_DEBUG("climate sample %d/%u: a value held back as a spike", s.temp_dc,
				  (unsigned)s.humidity_dpct);
		}
		if (vt == SPIKE_STEP)
			median_reset(&r->temp_dc);
		if (vh == SPIKE_STEP)
			median_reset(&r->humidity_dpct);
		if (vt != SPIKE_REJECT)
			median_push(&r->temp_dc, s.temp_dc);
		if (vh != SPIKE_REJECT)
			median_push(&r->humidity_dpct, s.humidity_dpct);
		r->counters.readings_ok++;
	} else {
		median_reset(&r->temp_dc);
		median_reset(&r->humidity_dpct);
		r->counters.readings_failed++;
		LOG_DEBUG("climate read failed (%d)", rc);
	}
}

/* The reading due now, from the filtered values and the latest errors. */
static void take_reading(struct robot *r, struct outbox_reading *rd)
{
	int32_t v = 0;

	memset(rd, 0, sizeof(*rd));
	rd->boot = r->boot;
	rd->seq = r->seq;
	rd->has_timestamp = hal_time_wall_ms(&rd->timestamp_ms) == 0;
	rd->climate_err = (int16_t)r->climate_err;
	if (rd->climate_err == 0 && median_get(&r->temp_dc, &v) == 0) {
		rd->temp_dc = (int16_t)v;
		median_get(&r->humidity_dpct, &v);
		rd->humidity_dpct = (uint16_t)v;
	} else if (rd->climate_err == 0) {
		rd->climate_err = -ENODATA;
	}
	rd->distance_err = (int16_t)r->distance_err;
	if (rd->distance_err == 0 && median_get(&r->distance_mm, &v) == 0)
		rd->distance_mm = (uint32_t)v;
	else if (rd->distance_err == 0)
		rd->distance_err = -ENODATA;
}

static void publish_metric(struct robot *r, const char *metric, int32_t tenths)
{
	char topic[ROBOT_TOPIC_MAX];
	char value[16];
	int n = payload_encode_decimal(tenths, value, sizeof(value));

	snprintf(topic, sizeof(topic), "sensors/%s/%s", r->cfg.device_id, metric);
	/* QoS 0 like the classic per-metric layout; the JSON topic is the record. */
	if (n < 0 || hal_mqtt_publish(topic, value, (size_t)n, 0, false, NULL) < 0)
		r->counters.publish_errors++;
}

/* The JSON message of @o, as it goes out on the data topic. */
int robot__encode_reading(const struct robot *r, const struct outbox_reading *o, char *json,
			  size_t cap)
{
	struct reading rd;

	memset(&rd, 0, sizeof(rd));
	rd.device_id = r->cfg.device_id;
	rd.boot = o->boot;
	rd.seq = o->seq;
	rd.has_timestamp = o->has_timestamp;
	rd.timestamp_ms = o->timestamp_ms;
	rd.climate_err = o->climate_err;
	rd.temp_dc = o->temp_dc;
	rd.humidity_dpct = o->humidity_dpct;
	rd.distance_err = o->distance_err;
	rd.distance_mm = o->distance_mm;
	rd.dropped = r->outbox.dropped;
	return payload_encode_json(&rd, json, cap);
}

/*
 * Storage refused the reading (flash full or failing): it cannot wait in
 * the outbox, so it goes out now, once, at QoS 1 if there is a session,
 * and is not kept: a lost PUBACK or a later reconnect cannot bring it
 * back. Offline it is gone. Either way it is counted, so the cloud side can
 * tell a reading the flash refused from one lost on the way.
 */
static void send_unpersisted(struct robot *r, const struct outbox_reading *rd, int why)
{
	char json[ROBOT_PAYLOAD_MAX];
	int n;

	r->counters.unpersisted++;
	if (r->state != ROBOT_ONLINE) {
		LOG_ERROR("reading %lu not stored (%d) while offline: lost", (unsigned long)rd->seq,
			  why);
		return;
	}
	n = robot__encode_reading(r, rd, json, sizeof(json));
	if (n < 0 || (r->cfg.transport == ROBOT_TRANSPORT_HTTP ?
		      robot_http_send_live(r, json, (size_t)n, hal_time_now_us()) :
		      hal_mqtt_publish(r->topic_data, json, (size_t)n, 1, false, NULL)) < 0) {
		r->counters.publish_errors++;
		LOG_ERROR("reading %lu not stored (%d) and not published: lost",
			  (unsigned long)rd->seq, why);
		return;
	}
	r->counters.published++;
	LOG_WARN("reading %lu not stored (%d); sent live, not kept", (unsigned long)rd->seq, why);
}

/*
 * A reading is due: number it and keep it in the outbox, whatever the
 * connection does; if storage refuses it, send it live. The per-metric
 * numbers are live values, sent only while online and never kept.
 */
static void record_reading(struct robot *r)
{
	struct outbox_reading rd;
	int rc;

	r->seq++;
	take_reading(r, &rd);
	if (r->cfg.topic_style != TOPIC_STYLE_PER_METRIC &&
	    (rc = outbox_push(&r->outbox, &rd)) < 0)
		send_unpersisted(r, &rd, rc);
	if (r->cfg.topic_style != TOPIC_STYLE_JSON && r->state == ROBOT_ONLINE) {
		/* Plain numbers only for good values: a failed sensor stays silent. */
		if (rd.climate_err == 0) {
			publish_metric(r, "temperature", rd.temp_dc);
			publish_metric(r, "humidity", rd.humidity_dpct);
		}
		if (rd.distance_err == 0)
			publish_metric(r, "distance", (int32_t)rd.distance_mm);
	}
}

/*
 * Send what the outbox holds, oldest first, as far as the window allows.
 * Returns true when more could go at once (the caller comes straight back),
 * false when it waits for PUBACKs or has nothing left.
 */
static bool drain_outbox(struct robot *r)
{
	for (unsigned int i = 0; i < OUTBOX_WINDOW; i++) {
		struct outbox_reading o;
		char json[ROBOT_PAYLOAD_MAX];
		uint32_t index;
		uint16_t msg_id = 0;
		bool again;
		int n, rc = outbox_peek(&r->outbox, &o, &index);

		if (rc == -EAGAIN)
			return false;
		if (rc < 0) {
			LOG_ERROR("outbox record unreadable (%d); counted as dropped", rc);
			continue;
		}
		n = robot__encode_reading(r, &o, json, sizeof(json));
		if (n < 0 || hal_mqtt_publish(r->topic_data, json, (size_t)n, 1, false, &msg_id) < 0) {
			/* Still in the outbox: the next step (or session) tries again. */
			r->counters.publish_errors++;
			return false;
		}
		outbox_sent(&r->outbox, index, msg_id, &again);
		if (again)
			r->counters.redelivered++;
		else
			r->counters.published++;
	}
	return true;
}

/*
 * The next slot of a periodic timer that fell due at @slot and ran at @now.
 * Keep the cadence: schedule from the slot, not from "now", so that timers
 * started together stay together and the robot wakes once per reading
 * rather than once per timer (each drifting by its own lateness). A timer
 * that ran more than @late_us after its slot starts a new cadence from now,
 * so two runs are never closer than interval - late_us.
 */
static uint64_t next_slot(uint64_t slot, uint64_t now, uint64_t interval_us, uint64_t late_us)
{
	uint64_t next = slot + interval_us;

	return next + late_us < now + interval_us ? now + interval_us : next;
}

/* Run the sampling and publishing timers; returns the next timer deadline. */
static uint64_t run_timers(struct robot *r, uint64_t now)
{
	uint64_t sample_us = sample_interval_ms(r) * MS;
	uint64_t publish_us = r->cfg.publish_interval_ms * MS;

	if (!r->running)
		return UINT64_MAX;
	/* Climate, distance, then the reading: when all three fall due
	 * together, the reading carries the samples just taken. */
	if (now >= r->next_climate_us) {
		uint64_t climate_us = climate_interval_ms(r) * MS;

		sample_climate(r);
		r->next_climate_us = next_slot(r->next_climate_us, now, climate_us,
					       ROBOT_DHT22_LATE_SLACK_MS * MS);
		/* A read that ran late starts a new cadence; when the period is
		 * a multiple of the readings', put it back on their slots (at
		 * most one reading interval later) so it does not wake the
		 * robot on its own from then on. */
		if (climate_us % publish_us == 0 && r->next_climate_us > r->next_publish_us)
			r->next_climate_us += (publish_us - (r->next_climate_us - r->next_publish_us) %
						 publish_us) % publish_us;
	}
	if (now >= r->next_sample_us) {
		sample_distance(r);
		r->next_sample_us = next_slot(r->next_sample_us, now, sample_us, sample_us);
	}
	if (now >= r->next_publish_us) {
		record_reading(r);
		r->next_publish_us = next_slot(r->next_publish_us, now, publish_us, publish_us);
	}
	return min_u64(min_u64(r->next_climate_us, r->next_sample_us), r->next_publish_us);
}

/* ---- connection state machine ---------------------------------------- */

static void start_link_attempt(struct robot *r, uint64_t now)
{
	int rc = hal_link_connect();

	r->link_attempts++;
	if (rc < 0 && rc != -EALREADY)
		LOG_WARN("link attempt %u refused (%d)", r->link_attempts, rc);
	r->state_deadline_us = now + r->cfg.link_attempt_timeout_ms * MS;
	robot__set_state(r, ROBOT_LINK_CONNECTING);
}

static void start_mqtt(struct robot *r, uint64_t now)
{
	static const char offline[] = STATUS_OFFLINE;
	const struct hal_mqtt_will will = {
		.topic = r->topic_status,
		.payload = offline,
		.payload_len = sizeof(offline) - 1,
		.qos = 1,
		.retain = true,
	};
	const struct hal_mqtt_connect_opts opts = {
		.client_id = r->cfg.device_id,
		.host = r->cfg.broker_host,
		.port = r->cfg.broker_port,
		.keepalive_s = r->cfg.keepalive_s,
		.clean_session = true,
		.username = r->cfg.username[0] ? r->cfg.username : NULL,
		.password = r->cfg.password[0] ? r->cfg.password : NULL,
		.will = &will,
	};
	int rc = hal_mqtt_connect(&opts);

	if (rc < 0) {
		LOG_WARN("MQTT connect to %s:%u failed (%d)", r->cfg.broker_host,
			 (unsigned int)r->cfg.broker_port, rc);
		robot__enter_backoff(r, now, "broker unreachable");
		return;
	}
	/* A broker that accepts TCP but never answers must not wedge us. */
	r->state_deadline_us = now + (uint64_t)r->cfg.keepalive_s * 1000 * MS;
	robot__set_state(r, ROBOT_MQTT_CONNECTING);
}

static bool over_http(const struct robot *r)
{
	return r->cfg.transport == ROBOT_TRANSPORT_HTTP;
}

static void start_transport(struct robot *r, uint64_t now)
{
	if (over_http(r))
		robot_http_go_online(r, now);
	else
		start_mqtt(r, now);
}

static void step_connection(struct robot *r, uint64_t now)
{
	switch (r->state) {
	case ROBOT_BOOT:
		r->link_attempts = 0;
		start_link_attempt(r, now);
		break;
	case ROBOT_LINK_CONNECTING: {
		enum hal_link_state ls = hal_link_get_state();
		if (ls == HAL_LINK_UP) {
			r->link_attempts = 0;
			start_transport(r, now);
		} else if (ls == HAL_LINK_DOWN || now >= r->state_deadline_us) {
			r->counters.link_failures++;
			if (r->link_attempts < r->cfg.link_attempts_max) {
				start_link_attempt(r, now);
			} else {
				r->link_attempts = 0;
				robot__enter_backoff(r, now, "link did not come up");
			}
		}
		break;
	}
	case ROBOT_MQTT_CONNECTING:
		if (hal_link_get_state() != HAL_LINK_UP || now >= r->state_deadline_us) {
			hal_mqtt_disconnect();
			robot__enter_backoff(r, now, "no CONNACK from the broker");
		}
		break;
	case ROBOT_ONLINE:
		if (hal_link_get_state() != HAL_LINK_UP) {
			if (over_http(r))
				robot_http_abort(r);
			else
				hal_mqtt_disconnect();
			robot__enter_backoff(r, now, "link lost");
		}
		break;
	case ROBOT_BACKOFF:
		if (now >= r->state_deadline_us) {
			if (hal_link_get_state() == HAL_LINK_UP)
				start_transport(r, now);
			else
				start_link_attempt(r, now);
		}
		break;
	case ROBOT_SHUTTING_DOWN:
		if (r->offline_acked || now >= r->state_deadline_us) {
			hal_mqtt_disconnect();
			robot__set_state(r, ROBOT_DONE);
		}
		break;
	case ROBOT_DONE:
		break;
	}
}

static void begin_shutdown(struct robot *r, uint64_t now)
{
	LOG_INFO("shutting down");
	if (over_http(r)) {
		/* No status to say goodbye with; a reading in flight stays in
		 * the outbox and goes again after the next boot. */
		robot_http_abort(r);
		robot__set_state(r, ROBOT_DONE);
		return;
	}
	if (r->state != ROBOT_ONLINE) {
		robot__set_state(r, ROBOT_DONE);
		return;
	}
	/* Say goodbye ourselves: a clean DISCONNECT suppresses the will. */
	r->offline_acked = false;
	publish_status(r, STATUS_OFFLINE, &r->offline_msg_id);
	r->state_deadline_us = now + SHUTDOWN_FLUSH_MS * MS;
	robot__set_state(r, ROBOT_SHUTTING_DOWN);
}

uint64_t robot_step(struct robot *r, uint64_t now)
{
	uint64_t next;

	if (hal_system_shutdown_requested() && r->state != ROBOT_SHUTTING_DOWN &&
	    r->state != ROBOT_DONE)
		begin_shutdown(r, now);
	step_connection(r, now);
	if (r->state == ROBOT_DONE)
		return now;
	next = r->state == ROBOT_SHUTTING_DOWN ? UINT64_MAX : run_timers(r, now);
	if (r->state == ROBOT_ONLINE && over_http(r))
		next = min_u64(next, robot_http_step(r, now));
	else if (r->state == ROBOT_ONLINE && drain_outbox(r))
		next = now; /* more to send: after servicing the socket, at once */
	if (r->state != ROBOT_ONLINE)
		next = min_u64(next, r->state_deadline_us);
	return next;
}

int robot_boot(struct robot *r, const struct robot_config *cfg)
{
	const char *why = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	if (robot_config_validate(&r->cfg, &why) < 0) {
		LOG_ERROR("configuration invalid: %s", why);
		return -EINVAL;
	}
	snprintf(r->topic_data, sizeof(r->topic_data), "sensors/%s/data", cfg->device_id);
	snprintf(r->topic_status, sizeof(r->topic_status), "sensors/%s/status", cfg->device_id);
	snprintf(r->topic_command, sizeof(r->topic_command), "sensors/%s/command", cfg->device_id);
	median_init(&r->temp_dc, cfg->median_window);
	median_init(&r->humidity_dpct, cfg->median_window);
	median_init(&r->distance_mm, cfg->median_window);
	spike_gate_init(&r->temp_gate, ROBOT_TEMP_STEP_DC);
	spike_gate_init(&r->humidity_gate, ROBOT_HUMIDITY_STEP_DPCT);
	backoff_init(&r->backoff, cfg->backoff_base_ms, cfg->backoff_cap_ms);
	r->climate_err = -ENODATA;
	r->distance_err = -ENODATA;
	r->running = true;

	if ((rc = count_boot(r)) < 0)
		return rc;
	/* A new or re-laid-out outbox writes at open: give a failed write
	 * the same second chances as the boot counter's. */
	rc = outbox_open(&r->outbox, cfg->outbox_capacity);
	for (int i = 1; i < BOOT_WRITE_TRIES && rc == -EIO; i++)
		rc = outbox_open(&r->outbox, cfg->outbox_capacity);
	if (rc < 0) {
		LOG_ERROR("outbox unreadable (%d)", rc);
		return rc;
	}
	if (outbox_count(&r->outbox) > 0)
		LOG_INFO("%lu readings from before this boot wait in the outbox",
			 (unsigned long)outbox_count(&r->outbox));
	if ((rc = hal_sensor_init(&r->cfg)) < 0) {
		LOG_ERROR("sensors unusable (%d)", rc);
		return rc;
	}
	if (over_http(r)) {
		if ((rc = robot_http_boot(r)) < 0)
			return rc;
	} else if ((rc = hal_mqtt_init(&callbacks, r)) < 0) {
		LOG_ERROR("MQTT client unavailable (%d)", rc);
		return rc;
	}
	uint64_t now = hal_time_now_us();
	r->next_sample_us = now;
	r->next_climate_us = now + DHT22_POWER_UP_MS * MS;
	/* Readings start with the first climate conversion, online or not,
	 * so the first one carries values rather than "no data yet" (the
	 * timers run climate first), and on the distance sampler's cadence. */
	r->next_publish_us = r->next_climate_us;
	robot__set_state(r, ROBOT_BOOT);
	LOG_INFO("boot %lu of %s (transport %s)", (unsigned long)r->boot, cfg->device_id,
		 robot_transport_name(cfg->transport));
	return 0;
}

void robot_get_status(const struct robot *r, struct robot_status *st)
{
	int32_t v = 0;

	memset(st, 0, sizeof(*st));
	st->state = r->state;
	st->running = r->running;
	st->boot = r->boot;
	st->seq = r->seq;
	st->climate_err = r->climate_err;
	st->distance_err = r->distance_err;
	if (median_get(&r->temp_dc, &v) == 0)
		st->temp_dc = (int16_t)v;
	if (median_get(&r->humidity_dpct, &v) == 0)
		st->humidity_dpct = (uint16_t)v;
	if (median_get(&r->distance_mm, &v) == 0)
		st->distance_mm = (uint32_t)v;
	st->counters = r->counters;
	st->counters.buffered = outbox_count(&r->outbox);
	st->counters.dropped = r->outbox.dropped;
	(void)outbox_oldest(&r->outbox, &st->oldest_boot, &st->oldest_seq);
}

static void report(const struct robot *r)
{
	struct robot_status st;

	robot_get_status(r, &st);
	hal_system_report(&st);
}

int robot_run(struct robot *r, const struct robot_config *cfg)
{
	int rc = robot_boot(r, cfg);

	if (rc < 0)
		return rc;
	while (r->state != ROBOT_DONE) {
		uint64_t next;

		if (over_http(r))
			hal_http_service();
		else
			hal_mqtt_service();
		next = robot_step(r, hal_time_now_us());
		report(r);
		if (r->state != ROBOT_DONE)
			hal_time_wait_until(next);
	}
	return 0;
}

int robot_main(void)
{
	static struct robot robot;
	struct robot_config cfg;
	int rc;

	robot_config_defaults(&cfg);
	if ((rc = hal_system_load_config(&cfg)) < 0) {
		LOG_ERROR("no usable configuration (%d)", rc);
		return rc;
	}
	return robot_run(&robot, &cfg);
}
