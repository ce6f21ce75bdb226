// The runtime's background step, sleeps and the report to the world slot.
#include "runtime.h"

#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "WiFi.h"
#include "sockets.h"

extern "C" {
#include "device_cli.h"
#include "hal_log.h"
#include "topic_layout.h"
#include "hal_system.h"
#include "hal_time.h"
#include "posix_hal.h"
}

namespace robofleet_arduino {

/* How long a delay() sleeps between two looks at the world: a fault the
 * scenario sets mid-delay (a WiFi drop) reaches the sockets this soon. */
static const uint64_t SERVICE_SLICE_US = 200000;
/* The pause between two loop() calls that did not wait themselves: short
 * while the sketch is busy, growing to LOOP_PAUSE_MAX_MS while loop() only
 * polls the clock (a thousand idle copies must not keep the host awake;
 * a sketch scheduling by millis() is at most that late). */
static const int LOOP_PAUSE_MIN_MS = 10;
static const int LOOP_PAUSE_MAX_MS = 80;
static int loop_pause_ms = LOOP_PAUSE_MIN_MS;
static bool busy;
/* A sketch that publishes on a millis() schedule is idle in between: once
 * its period is seen (two busy loop() calls apart), the device sleeps
 * until shortly before the next one is due, at most a second, instead of
 * waking every 80 ms to watch millis() move. Data on a socket still wakes
 * it at once, and delay() keeps its own 200 ms look at the world. */
static const uint64_t PERIOD_MIN_US = 100000;
static const uint64_t PERIOD_MARGIN_US = 30000;
static const uint64_t PERIOD_SLEEP_MAX_US = 1000000;
static uint64_t last_busy_us, busy_period_us;
static const uint64_t REPORT_EVERY_US = 250000;

static Identity identity;
static struct robot_status status;
static bool mqtt_connected;
static bool slept;
static bool servicing;
static bool unwinding;
static unsigned int calls_since_sleep;
/* Polling calls allowed between two 1 ms pauses. */
static const unsigned int SPIN_CALLS = 64;
static uint64_t reported_at_us;
static bool dirty = true;

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static uint32_t boot_nonce()
{
	struct timespec ts;
	uint32_t n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = (uint32_t)getpid() * 2654435761u ^ (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec;
	return n ? n : 1;
}

void runtime_start(const Identity &id)
{
	identity = id;
	memset(&status, 0, sizeof(status));
	status.state = ROBOT_BOOT;
	status.running = true;
	/* A sketch keeps no boot counter of robofleet's; the run tells one
	 * process's report from the next by this number, so each image (a
	 * power cycle, an ESP.restart()) gets its own. */
	status.boot = boot_nonce();
	status.climate_err = -ENODATA;
	status.distance_err = -ENODATA;
	runtime_report(true);
}

const Identity &runtime_identity()
{
	return identity;
}

void runtime_mac(uint8_t mac[6])
{
	uint64_t h = fnv1a(identity.device_id ? identity.device_id : "");

	/* Locally administered (bit 1) and unicast (bit 0 clear). */
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

uint32_t runtime_ip_be()
{
	uint8_t mac[6];

	runtime_mac(mac);
	/* 10.<mac4>.<mac5>.<2..253>: unique enough on one virtual LAN. */
	return (10u << 24) | ((uint32_t)mac[3] << 16) | ((uint32_t)mac[4] << 8) |
	       (uint32_t)(2 + mac[5] % 252);
}

struct robot_counters &runtime_counters()
{
	dirty = true;
	return status.counters;
}

void runtime_set_mqtt_connected(bool connected)
{
	if (connected != mqtt_connected)
		dirty = true;
	mqtt_connected = connected;
}

void runtime_set_climate(int err, float temperature_c, float humidity_pct)
{
	status.climate_err = err;
	if (err == 0) {
		status.temp_dc = (int16_t)lroundf(temperature_c * 10.0f);
		status.humidity_dpct = (uint16_t)lroundf(humidity_pct * 10.0f);
	}
	dirty = true;
}

static enum robot_state current_state()
{
	if (mqtt_connected && WiFi.status() == WL_CONNECTED)
		return ROBOT_ONLINE;
	if (WiFi.status() == WL_CONNECTED)
		return ROBOT_MQTT_CONNECTING;
	if (WiFi.getMode() == WIFI_OFF)
		return ROBOT_BOOT;
	return ROBOT_LINK_CONNECTING;
}

void runtime_report(bool now)
{
	uint64_t t = hal_time_now_us();
	enum robot_state st = status.state == ROBOT_DONE ? ROBOT_DONE : current_state();

	if (st != status.state)
		dirty = true;
	status.state = st;
	if (!now && (!dirty || t - reported_at_us < REPORT_EVERY_US))
		return;
	hal_system_report(&status);
	reported_at_us = t;
	dirty = false;
}

/* The group's readings templates (--reading-topic), compiled once. */
static struct topic_template reading_templates[DEVICE_READING_TOPICS_MAX];
static size_t n_reading_templates;

void runtime_set_reading_topics(const char (*texts)[128], size_t n)
{
	char why[160];

	n_reading_templates = 0;
	for (size_t i = 0; i < n && i < DEVICE_READING_TOPICS_MAX; i++) {
		/* A template with {metric} is plain, one without is JSON: the
		 * scenario checked it is one or the other. */
		enum topic_format f = strstr(texts[i], "{metric}") ? TOPIC_FORMAT_PLAIN
								   : TOPIC_FORMAT_JSON;
		if (topic_template_parse(texts[i], TOPIC_ROLE_READINGS, f,
					 &reading_templates[n_reading_templates], why,
					 sizeof(why)) == 0)
			n_reading_templates++;
		else
			fprintf(stderr, "robofleet: --reading-topic %s: %s\n", texts[i], why);
	}
}

bool runtime_is_reading_topic(const char *topic)
{
	static const char *const leaves[] = { "temperature", "humidity", "distance", "data" };
	const char *leaf;

	if (!topic)
		return false;
	/* By shape, whatever id the sketch puts in: one with a hard-coded id
	 * still attempted and sent what it did. */
	if (n_reading_templates) {
		for (size_t i = 0; i < n_reading_templates; i++)
			if (topic_template_match(&reading_templates[i], topic, NULL))
				return true;
		return false;
	}
	leaf = strrchr(topic, '/');
	leaf = leaf ? leaf + 1 : topic;
	for (const char *l : leaves)
		if (strcmp(leaf, l) == 0)
			return true;
	return false;
}

void runtime_count_publish(const char *topic, bool sent)
{
	if (!runtime_is_reading_topic(topic))
		return;
	busy = true;
	if (sent)
		status.counters.published++;
	else
		status.counters.publish_errors++;
	dirty = true;
}

void runtime_finish()
{
	status.state = ROBOT_DONE;
	mqtt_connected = false;
	runtime_report(true);
}

/* The background step calls into the API itself (WiFi.status()): those
 * calls must not start another step. */
void runtime_service()
{
	if (servicing)
		return;
	/* A zero-length wait is the shim's own look at the world: faults and
	 * environment come in, the clock leaves bit-banging time. */
	hal_time_wait_until(0);
	/* Once: a destructor that calls into the layer while the sketch's
	 * stack unwinds must not throw a second time (that would abort). */
	if (hal_system_shutdown_requested() && !unwinding) {
		unwinding = true;
		throw Shutdown();
	}
	servicing = true;
	WiFi.service();
	runtime_report(false);
	servicing = false;
}

void runtime_note_slept()
{
	slept = true;
	calls_since_sleep = 0;
}

void runtime_spin_guard()
{
	if (servicing || ++calls_since_sleep < SPIN_CALLS)
		return;
	sockets_wait_readable(1);
	runtime_note_slept();
	runtime_service();
}

void runtime_sleep_until(uint64_t deadline_us)
{
	runtime_note_slept();
	for (;;) {
		runtime_service();
		uint64_t now = hal_time_now_us();
		if (now >= deadline_us)
			return;
		uint64_t until = deadline_us - now > SERVICE_SLICE_US ? now + SERVICE_SLICE_US
								       : deadline_us;
		hal_time_wait_until(until);
	}
}

void runtime_note_busy()
{
	busy = true;
}

/* How long to pause after an idle loop(): until shortly before the next
 * busy moment the sketch's period predicts, else the doubling pause. */
static int idle_pause_ms(uint64_t now)
{
	if (busy_period_us && last_busy_us) {
		uint64_t due = last_busy_us + busy_period_us;

		if (now + PERIOD_MARGIN_US < due) {
			uint64_t us = due - PERIOD_MARGIN_US - now;
			if (us > PERIOD_SLEEP_MAX_US)
				us = PERIOD_SLEEP_MAX_US;
			if (us / 1000 > (uint64_t)loop_pause_ms)
				return (int)(us / 1000);
		}
	}
	return loop_pause_ms;
}

void runtime_loop_boundary()
{
	uint64_t now = hal_time_now_us();
	int pause;

	if (busy) {
		if (last_busy_us && now - last_busy_us >= PERIOD_MIN_US)
			busy_period_us = now - last_busy_us;
		last_busy_us = now;
		loop_pause_ms = LOOP_PAUSE_MIN_MS;
	} else if (loop_pause_ms < LOOP_PAUSE_MAX_MS) {
		loop_pause_ms *= 2;
		if (loop_pause_ms > LOOP_PAUSE_MAX_MS)
			loop_pause_ms = LOOP_PAUSE_MAX_MS;
	}
	pause = busy ? LOOP_PAUSE_MIN_MS : idle_pause_ms(now);
	busy = false;
	if (!slept) {
		/* Wake early for what the sketch's next loop() would act on. */
		if (sockets_wait_readable(pause))
			busy = true;
	}
	slept = false;
	calls_since_sleep = 0;
	runtime_service();
}

void runtime_serial_line(const char *line)
{
	char buf[600];

	snprintf(buf, sizeof(buf), "serial: %s", line);
	hal_log_write(HAL_LOG_INFO, buf);
}

} // namespace robofleet_arduino
