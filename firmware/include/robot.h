/* The robot application: an event-driven state machine over the HAL. */
#ifndef ROBOT_H
#define ROBOT_H

#include <stdbool.h>
#include <stdint.h>

#include "median.h"
#include "outbox.h"
#include "spike_gate.h"
#include "backoff.h"
#include "robot_config.h"

enum robot_state {
	ROBOT_BOOT,
	ROBOT_LINK_CONNECTING,
	ROBOT_MQTT_CONNECTING,
	ROBOT_ONLINE,
	ROBOT_BACKOFF,
	ROBOT_SHUTTING_DOWN,
	ROBOT_DONE,
};

struct robot_counters {
	uint32_t readings_ok;      /* sensor conversions that succeeded */
	uint32_t readings_failed;  /* sensor conversions that failed */
	uint32_t spikes_rejected;  /* DHT22 frames refused by the spike gate */
	uint32_t published;        /* readings handed to MQTT for the first time */
	uint32_t acknowledged;     /* readings the broker PUBACKed */
	uint32_t buffered;         /* readings in the outbox, not yet acknowledged */
	uint32_t dropped;          /* readings the full outbox had to drop (lifetime) */
	uint32_t unpersisted;      /* readings storage refused: sent live if online, never kept */
	uint32_t redelivered;      /* publishes of a reading sent before a reconnect */
	uint32_t publish_errors;
	uint32_t commands;         /* valid commands obeyed */
	uint32_t commands_invalid; /* unknown or malformed, ignored */
	uint32_t reconnects;       /* MQTT sessions after the first */
	uint32_t link_failures;    /* association attempts that failed */
	uint32_t http_refused;     /* HTTP: readings the endpoint answered 4xx, dropped */
};

/* What the robot tells its board about itself after every step. */
struct robot_status {
	enum robot_state state;
	bool running;              /* start/stop */
	uint32_t boot;
	uint32_t seq;              /* number of the latest reading taken */
	/* The oldest reading still in the outbox (valid when counters.buffered
	 * > 0): every reading taken since, in order, is buffered too, so a
	 * reading older than this and not recorded by the cloud is gone. */
	uint32_t oldest_boot;
	uint32_t oldest_seq;
	int climate_err;           /* 0 or the latest DHT22 error */
	int distance_err;          /* 0 or the latest HC-SR04 error */
	int16_t temp_dc;           /* filtered values, valid when *_err == 0 */
	uint16_t humidity_dpct;
	uint32_t distance_mm;
	struct robot_counters counters;
};

/* Publish at most this many bytes of JSON per reading. */
#define ROBOT_PAYLOAD_MAX 320
#define ROBOT_TOPIC_MAX (ROBOT_ID_MAX + 24)
/* Largest believable change between two DHT22 samples (>= 2 s apart). */
#define ROBOT_TEMP_STEP_DC 50      /* 5.0 degC */
#define ROBOT_HUMIDITY_STEP_DPCT 100 /* 10.0 %RH */

struct robot {
	struct robot_config cfg;
	enum robot_state state;
	uint32_t boot;
	uint32_t seq;
	bool running;            /* start/stop from the cloud */
	bool ever_online;
	uint8_t link_attempts;
	uint64_t state_deadline_us;
	uint64_t next_publish_us;
	uint64_t next_sample_us;
	uint64_t next_climate_us;
	struct backoff backoff;
	struct outbox outbox;    /* readings until their PUBACK */
	uint16_t offline_msg_id;
	bool offline_acked;

	/* recent good readings, and the latest error of each sensor */
	struct median temp_dc;
	struct median humidity_dpct;
	struct median distance_mm;
	struct spike_gate temp_gate;
	struct spike_gate humidity_gate;
	int climate_err;
	int distance_err;

	char topic_data[ROBOT_TOPIC_MAX];
	char topic_status[ROBOT_TOPIC_MAX];
	char topic_command[ROBOT_TOPIC_MAX];
	struct robot_counters counters;

	/* HTTP transport (app/robot_http.c) */
	char http_command_path[ROBOT_PATH_MAX + ROBOT_ID_MAX + 16];
	uint16_t http_msg_id;        /* the last synthetic id handed to the outbox */
	bool http_posting;           /* the request in flight carries a reading */
	bool http_live;              /* ... one storage refused, not in the outbox */
	bool http_command_applied;   /* http_last_command_id is valid */
	uint32_t http_last_command_id;
	uint64_t http_last_exchange_us; /* when the last request started */
};

/*
 * Boot: validate the configuration, count the boot in storage, set up sensors
 * and MQTT. Returns 0 or a negative errno (the robot cannot run).
 */
int robot_boot(struct robot *r, const struct robot_config *cfg);

/*
 * Do everything due at @now_us and return when to be called next. Never
 * blocks. Call hal_mqtt_service() (HTTP transport: hal_http_service())
 * before it after every wait.
 */
uint64_t robot_step(struct robot *r, uint64_t now_us);

/*
 * Boot and run until a graceful shutdown completes. Returns 0, or the
 * negative errno that stopped the boot.
 */
int robot_run(struct robot *r, const struct robot_config *cfg);

/*
 * The board's entry point: load the configuration through hal_system and
 * run. Returns like robot_run().
 */
int robot_main(void);

/* Snapshot of @r for hal_system_report(). */
void robot_get_status(const struct robot *r, struct robot_status *st);

const char *robot_state_name(enum robot_state s);

#endif /* ROBOT_H */
