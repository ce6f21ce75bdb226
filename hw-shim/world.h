/*
 * The world: one memory-mapped file per run, shared by the orchestrator, the
 * device processes and the dashboard. A header, then one fixed-size slot per
 * device. Each field has exactly one writer:
 *
 *   orchestrator -> device: environment, power, (faults: reserved)
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

#include "robot.h"

#define WORLD_MAGIC 0x31544c46424f5252ull /* "RROBFLT1" little-endian */
#define WORLD_VERSION 1
#define WORLD_SLOTS_MAX 200000u
#define WORLD_ID_MAX 32

/* What the environment around one robot is, as the scenario sets it. */
struct world_env {
	double temperature_c;
	double humidity_pct;
	double distance_cm;
	double noise;
};

/* What a robot last said about itself (see struct robot_status). */
struct world_report {
	uint32_t state;          /* enum robot_state */
	uint32_t running;
	uint32_t boot;
	uint32_t seq;
	int32_t climate_err;
	int32_t distance_err;
	int32_t temp_dc;
	uint32_t humidity_dpct;
	uint32_t distance_mm;
	struct robot_counters counters;
	int64_t updated_ms;      /* wall clock of this report */
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
	_Atomic uint32_t fault_seq;         /* reserved for fault injection */
	uint8_t faults[128];                /* reserved for fault injection */
	/* device-written */
	_Atomic int32_t pid;
	_Atomic uint32_t report_seq;
	struct world_report report;
	uint8_t reserved[128];
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
	uint8_t reserved[128];
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

#endif /* WORLD_H */
