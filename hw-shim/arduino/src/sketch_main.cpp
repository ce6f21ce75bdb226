// main() of a sketch device: robofleet-device's command line, the shim, then setup() and loop() as the ESP32 core runs them.
#include <stdio.h>
#include <string.h>

#include "Arduino.h"
#include "Preferences.h"
#include "runtime.h"
#include "sockets.h"

extern "C" {
#include "device_cli.h"
#include "hal_log.h"
#include "net_names.h"
#include "shim.h"
}

#ifndef ROBOFLEET_VERSION
#define ROBOFLEET_VERSION "0.0.0"
#endif

using namespace robofleet_arduino;

namespace robofleet_arduino {
void core_time_start();
void serial_flush_pending();
} // namespace robofleet_arduino

/* Where the HC-SR04 is wired on a sketch device: the most common ESP32
 * wiring (trigger on GPIO 5, echo on GPIO 18). The DHT22 is wired where
 * the sketch's DHT object says, when it calls begin(). */
static const unsigned SONAR_TRIG_PIN = 5;
static const unsigned SONAR_ECHO_PIN = 18;

/*
 * Provisioning, as a factory writes a device's identity into NVS before it
 * ships: namespace "robofleet", key "id" (the device id) and, when the
 * scenario gives it one, key "room", so the same
 * sketch reads who it is on the bench and on a real board. Written only
 * when it differs, as a flash would be programmed once.
 */
static void provision(const char *device_id, const char *room)
{
	Preferences factory;

	if (!factory.begin("robofleet", false))
		return;
	if (factory.getString("id") != device_id)
		factory.putString("id", device_id);
	if (room[0] && factory.getString("room") != room)
		factory.putString("room", room);
	factory.end();
}

static int run_sketch()
{
	try {
		setup();
		for (;;) {
			loop();
			runtime_loop_boundary();
		}
	} catch (const Shutdown &) {
		return 0;
	}
}

int main(int argc, char **argv)
{
	static struct device_options opt;
	struct shim_settings settings;
	char err[256];
	int rc;

	if (device_options_parse(argc, argv, &opt, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	if (opt.help) {
		device_print_usage(stdout);
		return 0;
	}
	if (opt.version) {
		printf("robofleet sketch device %s\n", ROBOFLEET_VERSION);
		return 0;
	}

	device_options_settings(&opt, &settings);
	if ((rc = shim_init(&settings)) < 0) {
		shim_fini();
		return 1;
	}
	shim_net_set(&opt.net);
	if (shim_hcsr04_attach(SONAR_TRIG_PIN, SONAR_ECHO_PIN, &opt.env, opt.seed) < 0) {
		fprintf(stderr, "%s: the HC-SR04 pins are taken\n", argv[0]);
		shim_fini();
		return 1;
	}
	shim_dht22_set_fault(opt.dht_fault);
	shim_hcsr04_set_fault(opt.sonar_fault);

	Identity id = { opt.cfg.device_id, opt.seed, &opt.env, argv };
	core_time_start();
	runtime_start(id);
	provision(opt.cfg.device_id, opt.room);
	runtime_set_reading_topics(opt.reading_topics, opt.n_reading_topics);
	rc = run_sketch();
	serial_flush_pending();
	runtime_finish();
	sockets_close_all();
	shim_fini();
	return rc;
}
