/*
 * The world: one memory-mapped file per run, shared by the orchestrator, the
 * device processes and the dashboard. A header, then one fixed-size slot per
 * device. Each field has exactly one writer:
 *
 *   orchestrator -> device: environment, power, faults
 *   device -> everyone:     pid, state, counters, last values
 *
 * Multi-field groups (environment, report) are published under a seqlock, so
 * a reader never sees half of an update; readers retry a bounded number of
 * times and never block a writer.
 */
#ifndef WORLD_H
#define WORLD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORLD_MAGIC 0x31544c46424f5252ull /* "RROBFLT1" little-endian */
/* 3: counters.unpersisted and the report's oldest buffered reading. */
#define WORLD_VERSION 3
#define WORLD_SLOTS_MAX 200000u
#define WORLD_ID_MAX 32

/* What the environment around one robot is, as the scenario sets it. */
struct world_env {
	double temperature_c;
	double humidity_pct;
	double distance_cm;
	double noise;
};

/*
 * The robot's states and counters as the world carries them: the firmware's
 * (enum robot_state, struct robot_counters in firmware/include/robot.h),
 * copied field by field by the device (hw-shim/world_link.c), so that a
 * reader of the world needs no firmware. Same values, names and order.
 */
enum world_robot_state {
	WORLD_ROBOT_BOOT = 0,
	WORLD_ROBOT_LINK_CONNECTING = 1,
	WORLD_ROBOT_MQTT_CONNECTING = 2,
	WORLD_ROBOT_ONLINE = 3,
	WORLD_ROBOT_BACKOFF = 4,
	WORLD_ROBOT_SHUTTING_DOWN = 5,
	WORLD_ROBOT_DONE = 6,
};

struct world_counters {
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
};

/* The file's layout is fixed by WORLD_VERSION: the counters may not grow. */
_Static_assert(sizeof(struct world_counters) == 14 * sizeof(uint32_t),
	       "world_counters is part of the world file's layout");

/* What a robot last said about itself (see struct robot_status). */
struct world_report {
	uint32_t state;          /* enum world_robot_state */
	uint32_t running;
	uint32_t boot;
	uint32_t seq;
	int32_t climate_err;
	int32_t distance_err;
	int32_t temp_dc;
	uint32_t humidity_dpct;
	uint32_t distance_mm;
	struct world_counters counters;
	uint32_t oldest_boot;    /* oldest reading in the outbox, when counters.buffered > 0 */
	uint32_t oldest_seq;
	int64_t updated_ms;      /* wall clock of this report */
	/* Carved out of the slot's reserved bytes (see struct world_slot), so
	 * the layout and WORLD_VERSION stay: an older device leaves it zero. */
	uint32_t http_refused;   /* readings the ingest endpoint answered 4xx, dropped */
	uint32_t report_pad;
};

/*
 * Faults the orchestrator has injected into one robot's hardware, as the
 * device should apply them. Several may be active at once (a link fault, a
 * DHT22 fault, a sonar fault and flash faults); zero everywhere means
 * healthy. Times are
 * CLOCK_MONOTONIC milliseconds, which every process on the host shares.
 * Random choices (which read fails, which packet is lost) come from
 * @seed, so a fault replays exactly.
 */
enum world_link_mode {
	WORLD_LINK_OK = 0,
	WORLD_LINK_DOWN = 1,        /* association lost; no packet in or out */
	WORLD_LINK_FLAP = 2,        /* down for flap_down_ms of every flap_period_ms */
};

enum world_dht_mode {
	WORLD_DHT_OK = 0,
	WORLD_DHT_NO_RESPONSE = 1,  /* never answers the start signal */
	WORLD_DHT_STUCK = 2,        /* repeats the frame it sent when the fault began */
	WORLD_DHT_TRUNCATED = 3,    /* goes quiet after 20 bits */
};

enum world_sonar_mode {
	WORLD_SONAR_OK = 0,
	WORLD_SONAR_NO_ECHO = 1,    /* echo held ~38 ms: nothing heard */
	WORLD_SONAR_STUCK_HIGH = 2, /* echo line stuck high */
	WORLD_SONAR_SILENT = 3,     /* echo never rises: module absent */
	WORLD_SONAR_STUCK = 4,      /* repeats the distance it saw when the fault began */
	WORLD_SONAR_BEYOND_RANGE = 5, /* target past the 4 m range: an echo from 4.3 m */
};

/* What the device presents to the broker instead of its own credentials. */
enum world_credential_mode {
	WORLD_CREDENTIALS_OWN = 0,
	WORLD_CREDENTIALS_EXPIRED = 1,      /* a certificate past its notAfter */
	WORLD_CREDENTIALS_FOREIGN_CA = 2,   /* a certificate from a CA the broker does not trust */
	WORLD_CREDENTIALS_WRONG_PASSWORD = 3,
};

/* How the run's ingest endpoint treats this robot's requests. */
enum world_ingest_mode {
	WORLD_INGEST_OK = 0,
	WORLD_INGEST_ERROR = 1,     /* answers ingest_status, stores nothing */
	WORLD_INGEST_SLOW = 2,      /* stores, answers after ingest_delay_ms */
	WORLD_INGEST_REFUSE = 3,    /* the endpoint stops accepting connections */
	WORLD_INGEST_RESET = 4,     /* reads the request, then resets the connection */
};

struct world_faults {
	uint64_t seed;              /* for this fault set's random choices */
	/* link */
	uint32_t link_mode;         /* enum world_link_mode */
	uint32_t flap_period_ms;
	uint32_t flap_down_ms;
	uint32_t assoc_fail_gen;    /* bumped each time assoc_fail_count is set */
	uint32_t assoc_fail_count;  /* the next N association attempts fail */
	uint32_t weak_loss_ppm;     /* weak signal: packet loss, parts per million */
	uint32_t weak_latency_ms;   /* weak signal: added one-way latency */
	int32_t weak_rssi_dbm;      /* weak signal: reported RSSI (0: default) */
	int64_t link_since_ms;      /* when the link fault began (flap phase) */
	/* DHT22 */
	uint32_t dht_mode;          /* enum world_dht_mode */
	uint32_t dht_checksum_ppm;  /* probability a frame has a bad checksum */
	uint32_t dht_stretch_ppm;   /* probability a frame has a stretched pulse */
	uint32_t dht_spike_ppm;     /* probability a frame carries a spike */
	int32_t dht_spike_dc;       /* spike size, tenths of degC and of %RH */
	int32_t dht_drift_dc_per_h; /* temperature drift, tenths of degC per hour */
	int64_t dht_since_ms;       /* when the drift began */
	/* HC-SR04 */
	uint32_t sonar_mode;        /* enum world_sonar_mode */
	uint32_t sonar_noise_mm;    /* extra uniform noise, +- this many mm */
	/* emulated flash (the storage file) */
	uint32_t flash_fail_ppm;    /* probability a write fails with -EIO */
	uint8_t flash_full;         /* 1: every write fails with -ENOSPC */
	uint8_t flash_corrupt;      /* 1: damage one record at each open of the store (boot) */
	/* security (carved out of what was padding: same layout) */
	uint8_t credential_mode;    /* enum world_credential_mode, from the next session on */
	uint8_t impersonating;      /* 1: the run publishes as the next robot with this one's credentials */
	/* the ingest endpoint, as this robot meets it (read by the run's endpoint) */
	uint8_t ingest_mode;        /* enum world_ingest_mode */
	uint16_t ingest_status;     /* WORLD_INGEST_ERROR: the status answered */
	uint32_t ingest_delay_ms;   /* WORLD_INGEST_SLOW: how long an answer takes */
};

enum world_power {
	WORLD_POWER_ON = 0,
	WORLD_POWER_OFF = 1,
};

struct world_slot {
	char device_id[WORLD_ID_MAX + 1];   /* set before the device starts */
	char pad0[7];
	/* orchestrator-written */
	_Atomic uint32_t env_seq;
	uint32_t pad1;
	struct world_env env;
	_Atomic uint32_t power;             /* enum world_power */
	_Atomic uint32_t fault_seq;         /* seqlock of faults; 0: never written */
	uint32_t pad2;
	union {
		struct world_faults faults;
		uint8_t faults_space[128];  /* room to grow without a new version */
	};
	/* device-written */
	_Atomic int32_t pid;
	_Atomic uint32_t report_seq;
	struct world_report report;
	uint8_t reserved[120];   /* 128 before world_report.http_refused */
};

/* A new fault field must fit the slot's fault area, or the layout (and
 * WORLD_VERSION) changes. */
_Static_assert(sizeof(struct world_faults) <= sizeof(((struct world_slot *)0)->faults_space),
	       "world_faults must fit the slot's faults_space");

enum world_run_phase {
	WORLD_RUN_UNKNOWN = 0,      /* never written */
	WORLD_RUN_STARTING = 1,     /* broker, recorder, fleet coming up */
	WORLD_RUN_RUNNING = 2,      /* walking the timeline */
	WORLD_RUN_FINISHED = 3,     /* timeline done, fleet stopping */
	WORLD_RUN_INTERRUPTED = 4,  /* SIGINT/SIGTERM or a broken run */
};

/* Where the run is: current step and verdict so far. */
struct world_run {
	int32_t pid;                /* the orchestrator's process */
	uint32_t phase;             /* enum world_run_phase */
	uint32_t steps_total;
	uint32_t steps_started;
	uint32_t passed;            /* expectations decided so far */
	uint32_t failed;
	int64_t started_ms;         /* wall clock when the timeline began */
	int64_t ended_ms;           /* wall clock when it ended; 0 while running */
	char step[64];              /* the current step, e.g. "demo.yaml:31 wait" */
};

struct world_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint32_t slot_size;
	uint32_t slot_count;
	char run_name[64];
	int64_t created_ms;
	/* orchestrator-written run state, for the dashboard */
	_Atomic int32_t broker_port;
	_Atomic uint32_t broker_state;      /* 0 down, 1 up */
	union {
		/* The run's progress, for the dashboard (orchestrator-written,
		 * under run_seq). Carved out of space that was reserved, so the
		 * layout and WORLD_VERSION stay as they were: an older
		 * orchestrator leaves it zero, which reads as "unknown". */
		struct {
			_Atomic uint32_t run_seq;
			uint32_t run_pad;
			struct world_run run;
		};
		uint8_t reserved[128];
	};
};

struct world {
	struct world_header *hdr;
	struct world_slot *slots;
	size_t map_len;
};

/*
 * Create (truncating) @path for @slots devices, all slots zeroed.
 * Returns 0, -EINVAL for a slot count of 0 or above WORLD_SLOTS_MAX, or the
 * negative errno of the failing system call.
 */
int world_create(const char *path, uint32_t slots, const char *run_name, struct world *w);

/*
 * Map an existing world. Returns 0, -EPROTO when the file is not a world of
 * this version or its size does not match its header, or a negative errno.
 */
int world_open(const char *path, struct world *w);

void world_close(struct world *w);

/* Slot @i or NULL when out of range. */
struct world_slot *world_get_slot(const struct world *w, uint32_t i);

void world_write_env(struct world_slot *s, const struct world_env *env);
/* Returns 0, or -EAGAIN if a writer kept it busy for too long. */
int world_read_env(const struct world_slot *s, struct world_env *env);

void world_write_report(struct world_slot *s, const struct world_report *rep);
int world_read_report(const struct world_slot *s, struct world_report *rep);

void world_write_faults(struct world_slot *s, const struct world_faults *f);
/* Returns 0, -ENODATA when never written, or -EAGAIN like world_read_env. */
int world_read_faults(const struct world_slot *s, struct world_faults *f);

/* The run's progress in the header (seqlocked like the slots' groups).
 * world_read_run returns 0, or -EAGAIN like world_read_env. */
void world_write_run(struct world_header *h, const struct world_run *run);
int world_read_run(const struct world_header *h, struct world_run *run);

_Static_assert(sizeof(struct world_run) + 8 <= 128, "world_run must fit the header's reserved space");

#endif /* WORLD_H */
