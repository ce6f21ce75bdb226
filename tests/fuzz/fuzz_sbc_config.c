/*
 * libFuzzer target: the Linux SBC board's robot.conf parser, with the
 * ingest URL parser it shares with the virtual robot's --ingest. Beyond not
 * crashing: a refusal always says why, and what parses leaves every string
 * terminated and an ingest path that starts with '/'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "ingest_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strings(const struct robot_config *cfg)
{
	if (!memchr(cfg->ingest_host, '\0', sizeof(cfg->ingest_host)) ||
	    !memchr(cfg->ingest_path, '\0', sizeof(cfg->ingest_path)) ||
	    !memchr(cfg->broker_host, '\0', sizeof(cfg->broker_host)) ||
	    !memchr(cfg->device_id, '\0', sizeof(cfg->device_id)) ||
	    cfg->ingest_path[0] != '/' || cfg->ingest_port == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[70000];
	struct robot_config cfg;
	struct sbc_settings s;
	char err[600];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	robot_config_defaults(&cfg);
	sbc_settings_defaults(&s);
	err[0] = '\0';
	if (sbc_config_parse(text, &cfg, &s, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
	} else {
		check_strings(&cfg);
	}

	/* The whole input as one URL, as --ingest would take it. */
	robot_config_defaults(&cfg);
	err[0] = '\0';
	if (posix_parse_ingest_url(text, &cfg, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
	} else {
		check_strings(&cfg);
	}
	return 0;
}
