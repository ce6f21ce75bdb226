// main() of a sketch device: robofleet-device's command line, the shim, then setup() and loop() as the ESP32 core runs them.
#include <stdio.h>
#include <string.h>

#include <string>

#include "Arduino.h"
#include "provision.h"
#include "runtime.h"
#include "secure_clients.h"
#include "sockets.h"

extern "C" {
#include "device_cli.h"
#include "hal_log.h"
#include "net_names.h"
#include "shim.h"
#include "shim_internal.h"
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
 * Provisioning, as a factory writes a device's identity and credentials
 * into NVS before it ships: namespace "robofleet", key "id" (the device
 * id), "room" when the scenario gives it one, and the MQTT credentials the
 * device was given (mqtt_user, mqtt_pass; the PEM text of ca_cert,
 * client_cert and client_key), so the same sketch reads who it is and what
 * it presents on the bench and on a real board. The PEM files are read
 * before anything starts: one that cannot be a credential ends the device
 * with status 2, naming the option and the file, as an unreadable --ca
 * does for robofleet-device.
 */
static bool read_credentials(const struct device_options &opt, Provisioning &p, const char *prog)
{
	const struct {
		const char *option, *path;
		std::string *text;
	} files[] = {
		{ "--ca", opt.tls_ca, &p.ca_cert },
		{ "--cert", opt.tls_cert, &p.client_cert },
		{ "--key", opt.tls_key, &p.client_key },
	};
	std::string why;

	for (const auto &f : files) {
		if (!f.path[0])
			continue;
		if (!read_pem_file(f.path, *f.text, why)) {
			fprintf(stderr, "%s: %s %s: %s\n", prog, f.option, f.path, why.c_str());
			return false;
		}
	}
	p.id = opt.cfg.device_id;
	p.room = opt.room;
	p.mqtt_user = opt.cfg.username;
	p.mqtt_pass = opt.cfg.password;
	return true;
}

/* A security fault ends the sessions in force: the sketch's own sockets,
 * which the shim's MQTT session drop does not know. */
static void end_sessions(bool tls_only)
{
	sockets_end_sessions(tls_only);
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

	Provisioning factory;
	if (!read_credentials(opt, factory, argv[0]))
		return 2;

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
	if (!provision_write(factory))
		hal_log_write(HAL_LOG_WARN, "provisioning: NVS namespace robofleet cannot be written "
					    "(a flash fault?); the sketch may not find everything there");
	shim__credentials_set_session_hook(end_sessions);
	runtime_set_reading_topics(opt.reading_topics, opt.n_reading_topics);
	rc = run_sketch();
	serial_flush_pending();
	runtime_finish();
	shim__credentials_set_session_hook(nullptr);
	secure_clients_release_all();
	sockets_close_all();
	shim_fini();
	return rc;
}
