/* Command line of robofleet-device: parsed into firmware config and shim settings. */
#ifndef DEVICE_CLI_H
#define DEVICE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net_names.h"
#include "robot_config.h"
#include "shim.h"

#define DEVICE_READING_TOPICS_MAX 4
#define DEVICE_PATH_MAX 1024

struct device_options {
	struct robot_config cfg;
	struct shim_env env;
	char state_dir[1024];
	uint64_t seed;
	enum hal_log_level log_level;
	uint32_t link_delay_ms;
	enum shim_dht_fault dht_fault;
	enum shim_sonar_fault sonar_fault;
	uint64_t log_limit_bytes;   /* 0: unlimited */
	char world_path[1024];      /* empty: standalone */
	uint32_t world_slot;
	/* What a sketch's WiFi and connections meet (--wifi-*, --dns*, and
	 * --broker as the broker names lead to). The built-in robot connects
	 * to --broker itself and associates with any access point. */
	struct shim_net net;
	/* The scenario group's layout, for a firmware of another kind to count
	 * its own publishes (the built-in robot ignores both): --room, this
	 * device's room ("": none), and --reading-topic, the group's readings
	 * templates as written, {id} {room} {metric} unexpanded
	 * (sim/topic_layout.h reads them). */
	char room[64];
	char reading_topics[DEVICE_READING_TOPICS_MAX][128];
	size_t n_reading_topics;
	/* TLS files and the password file, {id} expanded ("": none) */
	char tls_ca[DEVICE_PATH_MAX], tls_cert[DEVICE_PATH_MAX], tls_key[DEVICE_PATH_MAX];
	char password_file[DEVICE_PATH_MAX];
	char fault_credentials_dir[DEVICE_PATH_MAX];
	bool help;
	bool version;
};

/*
 * Parse @argv. Returns 0, or -EINVAL with a message naming the option and
 * the problem in @err.
 */
int device_options_parse(int argc, char **argv, struct device_options *o,
			 char *err, size_t err_len);

/* "250ms", "1s", "1.5s", "2m", "1h"; a bare number is seconds. Returns 0 or
 * -EINVAL; the result must fit in 32 bits of milliseconds. */
int device_parse_duration_ms(const char *s, uint32_t *ms);

/* "host:port", "[v6::addr]:port" or "host" (port 1883). Returns 0 or -EINVAL. */
int device_parse_broker(const char *s, char *host, size_t host_len, uint16_t *port);

void device_print_usage(FILE *out);

/* The shim's settings for the device @o describes (pointers into @o). Every
 * program on this shim (robofleet-device, a sketch device) starts the same way. */
void device_options_settings(struct device_options *o, struct shim_settings *s);

#endif /* DEVICE_CLI_H */
