/* robofleet-device: the robot firmware running on the host hardware shim. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_cli.h"
#include "fork_server.h"
#include "net_names.h"
#include "robot.h"
#include "shim.h"

#ifndef ROBOFLEET_VERSION
#define ROBOFLEET_VERSION "0.0.0"
#endif

static int device_main(int argc, char **argv)
{
	static struct device_options opt;
	struct shim_settings settings;
	char err[256];
	int rc;

	if (device_options_parse(argc, argv, &opt, err, sizeof(err)) < 0) {
		fprintf(stderr, "robofleet-device: %s\n", err);
		return 2;
	}
	if (opt.help) {
		device_print_usage(stdout);
		return 0;
	}
	if (opt.version) {
		printf("robofleet-device %s\n", ROBOFLEET_VERSION);
		return 0;
	}

	/* The built-in robot connects to --broker itself and joins any access
	 * point; the network is set all the same, so that every program built
	 * on this shim sees the one the command line describes. */
	shim_net_set(&opt.net);

	device_options_settings(&opt, &settings);
	if ((rc = shim_init(&settings)) < 0) {
		shim_fini();
		return 1;
	}
	if (shim_dht22_attach(opt.cfg.dht_pin, &opt.env, opt.seed) < 0 ||
	    shim_hcsr04_attach(opt.cfg.trig_pin, opt.cfg.echo_pin, &opt.env, opt.seed) < 0) {
		fprintf(stderr, "robofleet-device: sensor pins clash\n");
		shim_fini();
		return 1;
	}
	shim_dht22_set_fault(opt.dht_fault);
	shim_hcsr04_set_fault(opt.sonar_fault);

	rc = robot_main();
	shim_fini();
	if (rc < 0) {
		fprintf(stderr, "robofleet-device: firmware stopped at boot: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* robofleet's way to start many robots cheaply (fork_server.c). */
	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "--fork-server") == 0) {
		char *end;
		long fd = strtol(argv[2], &end, 10);
		/* The argument strings lie end to end: a fourth one is room. */
		char *last = argv[argc - 1];

		if (*end || fd < 0 || fd > 1023) {
			fprintf(stderr, "robofleet-device: --fork-server takes a descriptor, not '%s'\n",
				argv[2]);
			return 2;
		}
		return fork_server_run((int)fd, device_main, argv[0],
				       (size_t)(last + strlen(last) + 1 - argv[0]));
	}
	return device_main(argc, argv);
}
