// The Arduino layer's runtime: the background work the ESP32's own tasks would do while a sketch runs.
#ifndef ARDUINO_RUNTIME_H
#define ARDUINO_RUNTIME_H

#include <stdint.h>

extern "C" {
#include "robot.h"
#include "shim.h"
}

namespace robofleet_arduino {

/*
 * Thrown out of delay(), yield() and the other places the sketch hands over
 * control, once the device is asked to stop (SIGTERM, the supervisor gone):
 * the sketch's stack unwinds and main() ends the process cleanly.
 */
struct Shutdown {};

struct Identity {
	const char *device_id;
	uint64_t seed;
	const struct shim_env *env;
	char *const *argv;          /* for ESP.restart() */
};

void runtime_start(const Identity &id);
const Identity &runtime_identity();

/* The device's factory MAC: locally administered, unique per device id. */
void runtime_mac(uint8_t mac[6]);
/* The station's address on the virtual LAN (10.x.y.z from the MAC). */
uint32_t runtime_ip_be();

/*
 * One background step: the world's faults and environment, the WiFi task,
 * the report to the world slot. Throws Shutdown when the device must stop.
 */
void runtime_service();
/* Sleep until @deadline_us (hal_time_now_us() clock), serving the background. */
void runtime_sleep_until(uint64_t deadline_us);
/* Between two loop() calls: a short pause unless loop() already waited or a
 * socket has data, so a sketch polling millis() does not spin a core. */
void runtime_loop_boundary();
/* Something happened (a publish, a packet in): the next pause is short. */
void runtime_note_busy();
/* delay() and friends tell the loop boundary that loop() already slept. */
void runtime_note_slept();
/*
 * Called by the calls a sketch polls in a tight loop (millis(),
 * WiFi.status(), client.loop(), connected()): every so many calls without
 * a sleep, a millisecond's pause and a background step. On the chip such a
 * loop spins one core; a thousand of them here would spin the host, and a
 * spinning sketch would never hear SIGTERM.
 */
void runtime_spin_guard();

/*
 * Is a publish to @topic a reading (counted as sent or not sent in the
 * world slot), rather than a status or anything else? By the group's
 * readings templates when the run gave them, else by robofleet's layout:
 * the last level is temperature, humidity, distance or data.
 */
bool runtime_is_reading_topic(const char *topic);
/* The group's readings templates, as the run gave them (--reading-topic). */
void runtime_set_reading_topics(const char (*texts)[128], size_t n);
/* A data publish the firmware attempted: sent, or refused by the client. */
void runtime_count_publish(const char *topic, bool sent);

/* What the dashboard shows: the robot's state and counters in the world slot. */
struct robot_counters &runtime_counters();
void runtime_set_mqtt_connected(bool connected);
void runtime_set_climate(int err, float temperature_c, float humidity_pct);
void runtime_report(bool now);
void runtime_finish();

/* A line of the sketch's Serial output into the device log. */
void runtime_serial_line(const char *line);

} // namespace robofleet_arduino

#endif /* ARDUINO_RUNTIME_H */
