/* robofleet-robot: the robofleet firmware on a Linux single-board computer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "robot.h"

#ifndef ROBOFLEET_VERSION
#define ROBOFLEET_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fputs("usage: robofleet-robot [-c FILE]\n"
	      "\n"
	      "The robofleet sensor robot on a Linux SBC (Raspberry Pi): DHT22 and HC-SR04\n"
	      "through the kernel's IIO drivers, readings to an MQTT broker or, with\n"
	      "transport = http, POSTed to an ingest endpoint.\n"
	      "\n"
	      "  -c, --config FILE   settings (" SBC_DEFAULT_CONFIG ")\n"
	      "  -h, --help          print this and exit\n"
	      "      --version       print the version and exit\n"
	      "\n"
	      "SIGTERM or SIGINT stops it gracefully (status offline, then exit 0).\n", out);
}

int main(int argc, char **argv)
{
	const char *config_path = SBC_DEFAULT_CONFIG;
	char err[600];
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0) {
			printf("robofleet-robot %s\n", ROBOFLEET_VERSION);
			return 0;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "robofleet-robot: %s needs a file name\n", a);
				return 2;
			}
			config_path = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			config_path = a + 9;
		} else {
			fprintf(stderr, "robofleet-robot: unexpected argument '%s' (try --help)\n", a);
			return 2;
		}
	}
	if (!*config_path) {
		fprintf(stderr, "robofleet-robot: empty config file name\n");
		return 2;
	}

	err[0] = '\0';
	if ((rc = sbc_board_setup(config_path, err, sizeof(err))) < 0) {
		fprintf(stderr, "<3>robofleet-robot: %s\n", err);
		sbc_board_teardown();
		return rc == -EINVAL ? 2 : 1;
	}
	rc = robot_main();
	sbc_board_teardown();
	if (rc < 0) {
		fprintf(stderr, "<3>robofleet-robot: firmware stopped at boot: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
