/*
 * The simulator-side API of the host hardware shim: what the device program
 * and tests use to set up and drive the virtual hardware. The firmware never
 * includes this header; it only sees the HAL.
 */
#ifndef SHIM_H
#define SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include "hal_log.h"

/* The physical world around one robot, as its sensors would see it. */
struct shim_env {
	double temperature_c;
	double humidity_pct;
	double distance_cm;
	double noise;          /* standard deviation, in each metric's unit */
};

/*
 * The command line's sensor faults (--dht-fault, --sonar-fault). Each is a
 * kind of the fault catalog by a shorter name (no-response is
 * dht_no_response, with probability 1 where the kind has one), put into the
 * same kind of fault set the world carries; the models have no other input.
 */
enum shim_dht_fault {
	SHIM_DHT_OK,
	SHIM_DHT_NO_RESPONSE,  /* dht_no_response: the sensor never pulls the line low */
	SHIM_DHT_CHECKSUM,     /* dht_checksum: a data bit flipped, checksum left as is */
	SHIM_DHT_STRETCHED,    /* dht_stretched: a high pulse stretched past any valid bit */
	SHIM_DHT_TRUNCATED,    /* dht_truncated: the sensor goes quiet after 20 bits */
};

enum shim_sonar_fault {
	SHIM_SONAR_OK,
	SHIM_SONAR_NO_ECHO,    /* sonar_no_echo: echo held high ~38 ms, nothing heard */
	SHIM_SONAR_STUCK_HIGH, /* sonar_stuck_high: echo line stuck high */
	SHIM_SONAR_SILENT,     /* sonar_silent: echo never rises, module absent */
};

/* ---- virtual clock ---------------------------------------------------- */

/* Microseconds of virtual time one gpio poll costs a bit-banging loop. */
#define SHIM_POLL_COST_US 1
/* The longest single jump of the virtual clock to a scheduled pin edge;
 * well past any sensor timeout, so a driver's wait still times out. */
#define SHIM_EDGE_SKIP_MAX_US 100000u

/* Current virtual time (never behind CLOCK_MONOTONIC). */
uint64_t shim_clock_now_us(void);

/* ---- virtual pins and sensor models ----------------------------------- */

/* Reset every pin and model (tests call this between cases). */
void shim_gpio_reset(void);

/* Attach a DHT22 model to @pin and an HC-SR04 to @trig/@echo. Returns 0 or
 * -EINVAL for a pin out of range or already taken. */
int shim_dht22_attach(unsigned int pin, const struct shim_env *env, uint64_t seed);
int shim_hcsr04_attach(unsigned int trig_pin, unsigned int echo_pin,
		       const struct shim_env *env, uint64_t seed);

/*
 * Set the DHT22's (the HC-SR04's) part of the device's own fault set, the
 * one the command line gives: in force from then on, under whatever the
 * world's fault set says (a mode the world sets wins). Attaching a sensor
 * resets its part to OK.
 */
void shim_dht22_set_fault(enum shim_dht_fault fault);
void shim_hcsr04_set_fault(enum shim_sonar_fault fault);

/* Number of pins the virtual board has. */
#define SHIM_GPIO_PINS 40  /* an ESP32 has GPIO 0-39 */

/* ---- the WiFi link as a station sees it ------------------------------- */

/* Why the link last went down: the reason an ESP32 station would get in
 * its disconnect event (the Arduino layer's WiFi.status() reports it). */
enum shim_link_down_cause {
	SHIM_LINK_NEVER_UP,    /* no attempt has ended yet */
	SHIM_LINK_DROPPED,     /* it was up and the access point went away */
	SHIM_LINK_NO_AP,       /* an attempt found no access point in reach */
	SHIM_LINK_REJECTED,    /* the access point refused the association */
	SHIM_LINK_LEFT,        /* the station itself disconnected */
};

enum shim_link_down_cause shim_link_down_cause(void);

/* ---- device-wide settings --------------------------------------------- */

struct robot_config;

struct shim_settings {
	const struct robot_config *config;
	const char *state_dir;      /* storage file lives here */
	uint64_t seed;
	enum hal_log_level log_level;
	uint32_t link_delay_ms;     /* time an association takes */
	uint64_t log_limit_bytes;   /* stop logging after this much; 0: never */
	const char *world_path;     /* NULL: standalone, environment from @env */
	uint32_t world_slot;
	struct shim_env *env;       /* the models read it; the world refreshes it */
	/* TLS for the MQTT session (NULL or "": plain TCP; cert and key: none) */
	const char *tls_ca, *tls_cert, *tls_key;
	/* where the credentials the security faults present instead live
	 * (expired.crt .key, foreign.crt .key); NULL: such faults change nothing */
	const char *fault_credentials_dir;
};

/*
 * Set up the whole shim for one device: clock, signals, storage, random,
 * link. Returns 0 or a negative errno with a message on stderr.
 */
int shim_init(const struct shim_settings *settings);

/* Release everything shim_init() and the HAL calls acquired. */
void shim_fini(void);

/* Seed the firmware-visible random stream (hal_random_u32). */
void shim_random_seed(uint64_t seed);

/* A splitmix64 step: the shim's one source of reproducible randomness. */
uint64_t shim_random_next(uint64_t *state);

/* A normally distributed value (mean 0, standard deviation 1). */
double shim_random_gauss(uint64_t *state);

#endif /* SHIM_H */
