/* The fault catalog: every kind of fault a robot can be given, one table row each. */
#ifndef FAULT_CATALOG_H
#define FAULT_CATALOG_H

/*
 * One row per kind says everything the rest of robofleet needs to know
 * about it: its name, the layer it breaks, the options a scenario may give
 * it (with their types, ranges and defaults), and the functions that put it
 * into a robot's struct world_faults, take it out again and tell whether it
 * is there. The scenario parser, `robofleet run` (scenario steps and the
 * dashboard's requests), the dashboard's fault menu and the device's own
 * command-line faults all read this table; none of them names a kind.
 *
 * Adding a kind is: a constant and a row here (fault_catalog.c), the
 * world_faults field(s) it sets (world.h), the model that acts on them
 * (hw-shim/), and its line in docs/faults.md (a unit test checks the docs
 * against this table).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "world.h"

/* The kinds, in the catalog's order (the order of every list of them). */
enum fault_kind {
	FAULT_WIFI_DROP,
	FAULT_WIFI_FLAP,
	FAULT_WIFI_ASSOC_FAIL,
	FAULT_WIFI_WEAK,
	FAULT_DHT_NO_RESPONSE,
	FAULT_DHT_CHECKSUM,
	FAULT_DHT_STUCK,
	FAULT_DHT_SPIKES,
	FAULT_DHT_DRIFT,
	FAULT_DHT_STRETCHED,
	FAULT_DHT_TRUNCATED,
	FAULT_SONAR_NO_ECHO,
	FAULT_SONAR_NOISE,
	FAULT_SONAR_STUCK,
	FAULT_SONAR_BEYOND_RANGE,
	FAULT_SONAR_STUCK_HIGH,
	FAULT_SONAR_SILENT,
	FAULT_FLASH_WRITE_FAIL,
	FAULT_FLASH_FULL,
	FAULT_FLASH_CORRUPT,
	FAULT_CERT_EXPIRED,
	FAULT_CERT_FOREIGN_CA,
	FAULT_WRONG_PASSWORD,
	FAULT_IMPERSONATE,
	FAULT_INGEST_ERROR,
	FAULT_INGEST_SLOW,
	FAULT_INGEST_REFUSE,
	FAULT_INGEST_RESET,
	FAULT_KIND_COUNT,
};

/* Which part of the robot a kind breaks. */
enum fault_layer {
	FAULT_LAYER_LINK,
	FAULT_LAYER_DHT,
	FAULT_LAYER_SONAR,
	FAULT_LAYER_STORAGE,        /* the emulated flash */
	FAULT_LAYER_SECURITY,       /* the credentials it presents, whom it claims to be */
	FAULT_LAYER_SERVER,         /* the ingest endpoint, as this robot meets it (http transport) */
	FAULT_LAYER_COUNT,
};

/*
 * A fault's option values, as a scenario step (or the dashboard) gives
 * them. The members are a macro so that the scenario model can carry the
 * same members by name (struct scenario_fault) and hand them over whole.
 */
#define FAULT_PARAMS_MEMBERS \
	uint32_t for_ms;        /* 0: until cleared */ \
	double probability;     /* 0..1 */ \
	uint32_t period_ms;     /* wifi_flap */ \
	double duty;            /* wifi_flap: share of each period the link is down */ \
	uint32_t attempts;      /* wifi_assoc_fail */ \
	double loss;            /* wifi_weak: packet loss probability 0..1 */ \
	uint32_t latency_ms;    /* wifi_weak */ \
	int32_t rssi_dbm;       /* wifi_weak */ \
	double size;            /* dht_spikes: degC and %RH */ \
	double per_hour;        /* dht_drift: degC per hour */ \
	double amplitude_cm;    /* sonar_noise */ \
	uint32_t status;        /* ingest_error: the HTTP status answered */ \
	uint32_t delay_ms;      /* ingest_slow: how long an answer takes */

struct fault_params {
	FAULT_PARAMS_MEMBERS
};

/* Every option any kind takes, in the order they are listed and checked. */
enum fault_option_id {
	FAULT_OPT_FOR,
	FAULT_OPT_PROBABILITY,
	FAULT_OPT_PERIOD,
	FAULT_OPT_DUTY,
	FAULT_OPT_ATTEMPTS,
	FAULT_OPT_LOSS,
	FAULT_OPT_LATENCY,
	FAULT_OPT_RSSI,
	FAULT_OPT_SIZE,
	FAULT_OPT_PER_HOUR,
	FAULT_OPT_AMPLITUDE,
	FAULT_OPT_STATUS,
	FAULT_OPT_DELAY,
	FAULT_OPT_COUNT,
};

/* How an option is written and kept. */
enum fault_option_type {
	FAULT_TYPE_DURATION,        /* "10s": uint32_t milliseconds */
	FAULT_TYPE_NUMBER,          /* "0.25": double */
	FAULT_TYPE_WHOLE,           /* "3": uint32_t */
	FAULT_TYPE_WHOLE_PART,      /* a number, kept as its whole part: int32_t */
};

struct fault_option {
	const char *name;           /* as written in a scenario */
	enum fault_option_type type;
	size_t offset;              /* of its value in struct fault_params */
	double min, max;            /* allowed values (durations in ms) */
	double def;                 /* its value when not given */
	const char *unit;           /* for messages, e.g. "degC per hour"; "" for none */
	const char *format;         /* printf format of its value in a fault's
				     * description; NULL: not described there */
};

extern const struct fault_option fault_options[FAULT_OPT_COUNT];

/* One option as one kind takes it. */
struct fault_kind_option {
	enum fault_option_id id;
	bool has_def;               /* def replaces the option's own default */
	double def;
	bool required;              /* a scenario must give it ... */
	const char *example;        /* ... as in this step, for the message */
	double preset;              /* required: the value the dashboard gives */
};

#define FAULT_KIND_OPTIONS_MAX 4

struct fault_kind_def;

/*
 * The functions of a row. @k is the row itself, so that one function can
 * serve several kinds through k->mode (kinds that share a mode field).
 * apply: put the kind into @wf with @p (now_ms is CLOCK_MONOTONIC ms, when
 * a phase or a drift starts). clear: take it out (only called when active).
 */
typedef void fault_apply_fn(struct world_faults *wf, const struct fault_kind_def *k,
			    const struct fault_params *p, int64_t now_ms);
typedef void fault_clear_fn(struct world_faults *wf, const struct fault_kind_def *k);
typedef bool fault_active_fn(const struct world_faults *wf, const struct fault_kind_def *k);

/* Where the dashboard's fault menu lists a kind: groups in this order,
 * the catalog's order inside a group. */
enum fault_menu_group {
	FAULT_MENU_NONE,            /* not in the menu (a key of its own) */
	FAULT_MENU_DHT,
	FAULT_MENU_SONAR,
	FAULT_MENU_LINK,
	FAULT_MENU_LINK_COUNTED,    /* link faults that count attempts, not time */
	FAULT_MENU_STORAGE,
	FAULT_MENU_SECURITY,
	FAULT_MENU_SERVER,
	FAULT_MENU_LAST = FAULT_MENU_SERVER,
};

struct fault_kind_def {
	const char *name;           /* as written in scenarios, the record, the dashboard */
	enum fault_layer layer;
	enum fault_menu_group menu;
	uint32_t mode;              /* the mode value, for kinds that set a shared mode field */
	struct fault_kind_option options[FAULT_KIND_OPTIONS_MAX];
	unsigned n_options;
	fault_apply_fn *apply;
	fault_clear_fn *clear;
	fault_active_fn *active;
};

extern const struct fault_kind_def fault_catalog[FAULT_KIND_COUNT];

/* The row of @kind, or NULL when out of range. */
const struct fault_kind_def *fault_catalog_get(int kind);

/* The kind named @name, or -ENOENT. */
int fault_catalog_find(const char *name);

/* @kind's name, or "?" when out of range. */
const char *fault_catalog_name(int kind);

/* How @kind takes option @id, or NULL when it takes no such option. */
const struct fault_kind_option *fault_catalog_option(int kind, enum fault_option_id id);

/* The value of option @id in @p, as a double. */
double fault_params_get(const struct fault_params *p, enum fault_option_id id);
/* Set option @id in @p from @v (a duration or whole number is rounded,
 * a whole part truncated, as the scenario parser does). */
void fault_params_set(struct fault_params *p, enum fault_option_id id, double v);

/*
 * The options of a bare fault of @kind: every option's default, with the
 * kind's own defaults over them. With @preset, also the values the
 * dashboard gives the options a scenario must spell out (a flap's period).
 */
void fault_catalog_defaults(int kind, bool preset, struct fault_params *p);

/*
 * Add fault @kind with @p to @wf, its random choices seeded by @seed.
 * Kinds that share a mode field (wifi_drop and wifi_flap; the DHT22 modes;
 * the sonar modes) replace each other; the others combine.
 */
void fault_catalog_apply(struct world_faults *wf, int kind, const struct fault_params *p,
			 uint64_t seed, int64_t now_ms);

/* Remove @kind from @wf; a kind that is not active changes nothing. */
void fault_catalog_clear(struct world_faults *wf, int kind);

/* Remove every kind from @wf. */
void fault_catalog_clear_all(struct world_faults *wf);

/* Whether @kind is active in @wf (false when out of range). */
bool fault_catalog_active(const struct world_faults *wf, int kind);

/* The options of a @kind fault for people and the record, e.g.
 * "period=10000ms duty=0.30 for=60000ms" ("" when it has none). Returns @buf. */
const char *fault_catalog_describe(int kind, const struct fault_params *p, char *buf,
				   size_t len);

#endif /* FAULT_CATALOG_H */
