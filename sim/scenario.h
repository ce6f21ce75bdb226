/* Scenario files for `robofleet run` and `check`: the model, the parser, target selection. */
#ifndef SCENARIO_H
#define SCENARIO_H

/*
 * THE SCENARIO FILE FORMAT
 * ========================
 *
 * One YAML document (YAML 1.1, read with libyaml) holding a mapping. Unknown
 * keys are errors, so a typo never silently does nothing. Anchors are
 * ignored; aliases (*name) are rejected, so every value is where it is read
 * and every position in a message points at it. Errors read
 * `file:line:col: message`, with 1-based line and column; the first error
 * stops the parse.
 *
 * Value types used below
 *   duration  a number with a unit: ms, s, m (or min), h, e.g. 500ms, 1.5s,
 *             2m, 1h; parts chain largest first: 1m30s, 1h15m. "0" needs no
 *             unit. Whole milliseconds (rounded), at most 49 days.
 *   rate      a number per time unit: 200/s, 30/m (or /min), 600/h; a bare
 *             number is per second.
 *   number    a decimal number: 22.5, -3, 1e3.
 *   count     a whole number >= 0.
 *   bool      true or false.
 *   target    which devices a step acts on; see "Targets" below.
 *   check     a numeric condition: either a bare number (must equal it) or a
 *             mapping of one or more of
 *               min: X  (>= X)     max: X  (<= X)     between: [LO, HI]
 *               gt: X   (> X)      ge: X   (>= X)
 *               lt: X   (< X)      le: X   (<= X)     eq: X   (== X)
 *             every key given must hold; a check that no value can meet
 *             (min above max, ...) is an error.
 *
 * Top level
 *   name: smoke        optional; 1-64 characters of A-Z a-z 0-9 _ . -
 *                      (it names the run directory). Default: the file name
 *                      without directory and .yaml/.yml, other characters
 *                      replaced by _.
 *   description: ...   optional free text for reports.
 *   seed: 42           optional whole number 0..18446744073709551615 (or
 *                      0x and up to 16 hex digits). Every random choice
 *                      (sensor noise, shares) follows from it, so a file
 *                      replays the same way. Default 1.
 *   duration: 5m       optional hard cap on the whole run (duration).
 *                      Default: none, the run lasts as long as its steps.
 *   fleet:             required, the devices (mapping, below).
 *   steps:             required, the timeline: a non-empty list of steps.
 *
 * fleet
 *   broker: embedded   "embedded" (default): robofleet starts a private
 *                      mosquitto on a free loopback port. "host:port",
 *                      "[v6addr]:port" or "host" (port 1883): use that broker.
 *   connect_rate: 200/s  how fast devices are started (rate, > 0; default
 *                      200/s), so a big fleet does not storm the broker.
 *   security: none     how devices reach the broker (docs/security.md):
 *                      none (default: plain MQTT, anonymous), tls (TLS,
 *                      each device its own user name and password),
 *                      mutual (TLS, each device its own certificate, CN =
 *                      its id), password (plain MQTT, a user name and
 *                      password each). In every mode but none the broker
 *                      refuses anonymous clients and a device may publish
 *                      only under its own topics.
 *   network:           optional mapping; the network a sketch sees (every
 *                      device gets it as robofleet-device options; the
 *                      built-in robot ignores it):
 *     wifi: {ssid: lab, password: secret}  the one access point: SSID 1-32
 *                      bytes, password 0-63 characters (absent or "": an
 *                      open network). Default: any SSID and password join.
 *     dns: {broker.hivemq.com: broker, api.example.com: "127.0.0.1:8080"}
 *                      where names lead, at most 32: broker (the run's
 *                      broker, its port for 1883 and 8883), nxdomain (the
 *                      name does not exist), HOST, HOST:PORT or
 *                      "[v6addr]:PORT". Names are host names or IP
 *                      addresses, case-insensitive, each once.
 *     dns_default: broker  broker (default) or nxdomain: where every other
 *                      name leads.
 *   groups:            required, a non-empty list of groups. At most 100000
 *                      devices in all, at least 1.
 *
 * fleet.groups[] (each a mapping)
 *   name: lab          required, unique; 1-32 of A-Z a-z 0-9 _ -.
 *   count: 20          required count of devices in the group.
 *   id: "robot_{:03}"  device id pattern. {} is the device number, {:0N}
 *                      the number zero padded to N digits (N = 1..10).
 *                      Default "<name>_{:03}". Every id must be 1-32
 *                      characters of A-Z a-z 0-9 _ - and unique in the fleet;
 *                      a pattern without {} fits only a group of one.
 *   first: 1           number of the group's first device (count; default
 *                      1), so that two groups can share a prefix:
 *                      robot_001..020 and robot_021..040.
 *   interval: 10s      publish interval (duration, 100ms..24h; default
 *                      10s, as robofleet-device).
 *   sample_interval: 1s  HC-SR04 sampling interval (duration, 60ms..24h;
 *                      default 0: follow interval).
 *   keepalive: 15s     MQTT keepalive, whole seconds 5s..65535s (default 15s).
 *   topic_style: json  json (sensors/<id>/data, default), per-metric
 *                      (sensors/<id>/temperature|humidity|distance) or both.
 *   transport: mqtt    mqtt (publish to the broker, default) or http (POST
 *                      each reading to the ingest endpoint the run serves,
 *                      or the one --ingest names; docs/device.md). http is
 *                      for the built-in robot and device: programs, with
 *                      topic_style json, in a fleet with security: none.
 *   environment:       optional mapping; what the sensors see at start:
 *     temperature: 22.5  degC, -40..80 (the DHT22 range); default 22
 *     humidity: 40       %RH, 0..100; default 45
 *     distance: 120      cm, 0..10000; default 100
 *     noise: 0.1         standard deviation of every metric's noise, in its
 *                        own unit, 0..100; default 0
 *     Each metric may instead be a mapping {value: 22.5, noise: 0.2}; its
 *     noise then overrides the group's noise for that metric.
 *   sketch: fw/blink   the group's firmware: an Arduino/ESP32 sketch, a .ino
 *                      file or a sketch folder (NAME holding NAME.ino), built
 *                      once per run. Relative to the scenario file's
 *                      directory; must exist.
 *   device: ./my-fw    or any program that takes robofleet-device's command
 *                      line: relative to the scenario file's directory, or
 *                      searched on PATH when it has no slash; must be an
 *                      executable file. Not both; neither: the built-in robot.
 *   topics:            where the firmware publishes and listens (sketch: and
 *                      device: groups only; the built-in robot publishes
 *                      robofleet's contract). Templates are MQTT topics whose
 *                      whole levels may be {id}, {room} or {metric}
 *                      (temperature|humidity|distance); docs/scenarios.md has
 *                      the rules. Keys, each optional:
 *     readings: "sensors/{id}/{metric}"  a template (plain numbers), a
 *                      mapping {topic: T, format: plain|json}, or a list of
 *                      1-4 of those. Plain needs {metric}; json is robofleet's
 *                      reading object (boot, seq and device_id optional).
 *                      Default: sensors/{id}/{metric} plain and
 *                      sensors/{id}/data json.
 *     status: "sensors/{id}/status"      online/offline payloads (default).
 *     command: {topic: "sensors/{id}/command", format: plain}  where
 *                      command steps publish, in that form: plain (start,
 *                      default) or json ({"action":"start"}).
 *                      A template naming neither {id} nor {room} fits only a
 *                      group of one device; {room} needs rooms:. Templates
 *                      of the fleet that could be the same topic are refused
 *                      unless they are the same template, or one level is
 *                      {id} in one and {room} in the other.
 *   rooms: "room_{:02}"  each device's room: a pattern like id: (numbered
 *                      the same way), or a list of exactly count names. A
 *                      room is 1-32 of A-Z a-z 0-9 _ -, names exactly one
 *                      device of the fleet, and is no device's id.
 *
 * steps[]: each step is a mapping with exactly one key, the step's kind.
 * Steps run in order; `expect` with `within` may hold the timeline up to
 * that long. Wherever a step takes `target:`, it is optional and defaults
 * to all.
 *
 *   - wait: 5s                 pause the timeline (duration).
 *
 *   - set: {target: T, temperature: 30, humidity: 50, distance: 20, noise: 0.5}
 *       Change the environment of the target devices; at least one of
 *       temperature, humidity, distance, noise (same ranges as above). A
 *       metric given as a number changes at once; given as {to: 35, over: 30s}
 *       it ramps linearly from its current value to `to` over `over` (a
 *       duration; 0 or absent: at once). A ramp runs in the background: the
 *       next step starts at once, add a `wait` to let it finish.
 *
 *   - command: {target: T, action: stop, format: json}
 *       Publish on each device's command topic (its group's topics:
 *       command, default sensors/<id>/command) as a cloud application
 *       would: action start or stop; format json ({"action":"stop"}) or
 *       plain (stop), default the group's command format (json for the
 *       built-in robot). Instead of action, payload: "text" publishes exactly
 *       that text (at most 256 bytes, may be empty; format does not apply),
 *       e.g. to check that devices count and ignore garbage.
 *
 *   - broker: restart          stop | start | restart | kill the embedded
 *                              broker (an error with an external broker is
 *                              the run's to report, not the parser's).
 *
 *   - expect: {target: T, within: 10s, name: "...", <predicates>}
 *       A test case of the verdict. Every predicate given must hold for
 *       every target device. within (duration): keep checking until all
 *       hold, fail after that long; absent or 0: check once, now. name:
 *       optional test case name (default: made from the step). At least one
 *       predicate:
 *         status: online|offline  as the broker last saw the device
 *                                 (retained status message). As
 *                                 {is: online, fresh: true}: and that
 *                                 message arrived after the expect began
 *                                 (a device that said so again).
 *         messages: check         data messages recorded from the device;
 *                                 counts (>= 0). As a mapping it may add
 *                                 window: DURATION to count only the last
 *                                 DURATION (default: since the run started).
 *         rate: check             data messages per second recorded from the
 *                                 device (rates, e.g. {min: 0.8/s}), averaged
 *                                 over window: DURATION (default: since the
 *                                 run started).
 *         value: {metric: temperature, latest: true, <check keys>}
 *                                 the metric (temperature, humidity or
 *                                 distance) of the device's latest recorded
 *                                 reading (latest: true, default), or of every
 *                                 reading recorded in window: DURATION
 *                                 (latest: false; default window: since the
 *                                 run started). A reading without the metric
 *                                 (sensor error) fails the check, unless
 *                                 errors: allowed (then only the numbers
 *                                 that were published are checked).
 *         error: {metric: temperature, is: checksum}
 *                                 the device's latest recorded reading has
 *                                 no number for the metric and its errors
 *                                 object names `is` for it: timeout,
 *                                 checksum, out_of_range, io, absent,
 *                                 no_data or error; absent `is`: any error;
 *                                 is: none: the metric has a number.
 *         counter: {name: commands_invalid, <check keys>}
 *                                 a device counter from the world: one of
 *                                 readings_ok, readings_failed, spikes_rejected,
 *                                 published, acknowledged, buffered, dropped,
 *                                 redelivered, publish_errors,
 *                                 commands, commands_invalid, reconnects,
 *                                 link_failures, unpersisted.
 *         lost: check             readings the device published that the
 *                                 record is missing (counts, per device).
 *         duplicated: check       readings received more than once (counts,
 *                                 per device); a redelivery is counted,
 *                                 never stored twice.
 *         fleet_lost: check       lost, summed over every target device.
 *         fleet_duplicated: check duplicated, summed likewise.
 *
 *   - repeat: {times: 3, steps: [...]}
 *       Run the nested steps (a non-empty list) `times` times (1..1000000).
 *       Repeats nest at most 8 deep.
 *
 *   Fault injection (docs/faults.md is the catalogue):
 *   - fault: {target: T, kind: wifi_drop, for: 60s}
 *       kind: wifi_drop, wifi_flap, wifi_assoc_fail, wifi_weak,
 *       dht_no_response, dht_checksum, dht_stuck, dht_spikes, dht_drift,
 *       dht_stretched, dht_truncated, sonar_no_echo, sonar_noise,
 *       sonar_stuck, sonar_beyond_range, sonar_stuck_high, sonar_silent,
 *       flash_write_fail, flash_full, flash_corrupt, cert_expired,
 *       cert_foreign_ca, wrong_password, impersonate; each with its own
 *       options, their defaults and ranges (the fault catalog,
 *       hw-shim/world/fault_catalog.c, is where they are written down).
 *       for: how long (duration; absent or 0: until a clear).
 *   - clear: {target: T, kind: wifi_drop}   end faults (kind optional: all);
 *                              "- clear:" alone ends every fault everywhere.
 *   - power: {target: T, action: cycle}     off | on | cycle.
 *
 * Targets
 *   all                 every device (even if one is named "all").
 *   robot_001           exactly that device id.
 *   "robot_00[1-5]"     a glob (fnmatch: * ? [...] [!...]); quote it in
 *                       flow mappings, where [ ] are YAML syntax.
 *   robot_001..robot_020  a range: the same prefix, then digits compared as
 *                       numbers. Bounds of the same width match ids of that
 *                       width (robot_001..robot_020, y1..y9); bounds of
 *                       different widths match ids without leading zeros
 *                       (y8..y11), and may not be zero padded.
 *   "group:lab"         every device of the group.
 *   "share:25%"         a seeded random share of the fleet: N * 25% devices
 *                       rounded to the nearest (halves up), at least 1; the
 *                       choice depends only on the seed, the step and the
 *                       device, so it replays exactly. Decimals: share:2.5%.
 *   "share:25%:group:lab"  a share of another target (any of the above but
 *                       share); the percentage is > 0 and <= 100.
 *   [a, "group:b"]      a YAML list of targets: their union.
 *   A target (each item of a list) that matches no device is an error.
 *
 * Limits: files up to 4 MiB, YAML nesting up to 64 levels, 100000 steps in
 * all (nested ones included), 100000 devices in up to 1000 groups, 100
 * items in a target list.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault_catalog.h"
#include "topic_layout.h"

#define SCENARIO_ID_MAX 32            /* as ROBOT_ID_MAX: [A-Za-z0-9_-] */
#define SCENARIO_NAME_MAX 64
#define SCENARIO_FLEET_MAX 100000u
#define SCENARIO_GROUPS_MAX 1000u
#define SCENARIO_STEPS_MAX 100000u
#define SCENARIO_NESTING_MAX 64       /* YAML collections inside each other */
#define SCENARIO_REPEAT_NESTING_MAX 8
#define SCENARIO_REPEAT_TIMES_MAX 1000000u
#define SCENARIO_PAYLOAD_MAX 256
#define SCENARIO_FILE_MAX (4u << 20)
#define SCENARIO_SEED_DEFAULT 1u

/* Where something was written: 1-based, 0 when there is no position. */
struct scenario_pos {
	uint32_t line;
	uint32_t col;
};

/* The first problem found; @message is the whole "file:line:col: text". */
struct scenario_error {
	struct scenario_pos pos;
	char message[512];
};

enum scenario_metric {
	SCENARIO_METRIC_TEMPERATURE, /* degC */
	SCENARIO_METRIC_HUMIDITY,    /* %RH */
	SCENARIO_METRIC_DISTANCE,    /* cm */
	SCENARIO_METRIC_COUNT,
};

/* Same order as enum topic_style in firmware/include/robot_config.h. */
enum scenario_topic_style {
	SCENARIO_TOPIC_JSON,
	SCENARIO_TOPIC_PER_METRIC,
	SCENARIO_TOPIC_BOTH,
};

/* What the sensors of a device see; noise is per metric, already resolved. */
struct scenario_env {
	double value[SCENARIO_METRIC_COUNT];
	double noise[SCENARIO_METRIC_COUNT];  /* standard deviation, metric's unit */
};

/* How a group's devices reach the cloud. */
enum scenario_transport {
	SCENARIO_TRANSPORT_MQTT,        /* publish to the broker (default) */
	SCENARIO_TRANSPORT_HTTP,        /* POST to the ingest endpoint */
	SCENARIO_TRANSPORT_COUNT,
};

struct scenario_group {
	struct scenario_pos pos;        /* the group's mapping */
	struct scenario_pos id_pos;     /* its id: value, else the mapping */
	const char *name;
	const char *id_pattern;         /* as written or the default */
	uint32_t count;
	uint32_t first;                 /* number of the first device */
	uint32_t interval_ms;
	uint32_t sample_interval_ms;    /* 0: follow interval_ms */
	uint32_t keepalive_s;
	enum scenario_topic_style topic_style;
	enum scenario_transport transport;
	struct scenario_pos transport_pos; /* its transport: value, else the group */
	struct scenario_env env;
	/* The group's firmware, as absolute paths (found where the file said);
	 * both NULL: the built-in robot. At most one is set. */
	const char *sketch;             /* a .ino file or a sketch folder */
	const char *device;             /* a program taking robofleet-device's options */
	struct scenario_pos firmware_pos; /* the sketch: or device: value */
	/* Where the firmware publishes and listens: as declared in topics:,
	 * or the default of its kind (robofleet's contract). Never NULL
	 * after a parse. */
	const struct topic_layout *topics;
	bool topics_set;                /* topics: given */
	struct scenario_pos topics_pos; /* its value, else the group */
	/* Command steps use the layout's command format unless they give
	 * format: (set for sketch: and device: groups and declared layouts;
	 * the built-in robot's steps keep the step's own, json by default). */
	bool command_format_set;
	/* rooms: a pattern (NULL: none) or a list of count names. */
	const char *rooms_pattern;
	const char *const *rooms_list;
	size_t n_rooms_list;
	struct scenario_pos rooms_pos;  /* line 0: no rooms: */
};

struct scenario_device {
	char id[SCENARIO_ID_MAX + 1];
	uint32_t group;                 /* index into fleet.groups */
	uint32_t number;                /* the number its id pattern used */
	const char *room;               /* its group's rooms:, NULL: none */
};

enum scenario_broker_mode {
	SCENARIO_BROKER_EMBEDDED,
	SCENARIO_BROKER_EXTERNAL,
};

enum scenario_dns_default {
	SCENARIO_DNS_BROKER,            /* a name without an entry leads to the broker */
	SCENARIO_DNS_NXDOMAIN,          /* ... does not exist */
};

/* What fleet.network: says; every field empty or false when not given. */
struct scenario_network {
	struct scenario_pos pos;        /* the mapping; line 0: no network: */
	bool wifi_set;                  /* false: any SSID and password join */
	const char *ssid;               /* wifi_set only */
	const char *password;           /* wifi_set only; "": an open network */
	const char **dns;               /* "NAME=TARGET", as robofleet-device --dns takes it */
	size_t n_dns;                   /* at most SHIM_DNS_ENTRIES_MAX */
	bool dns_default_set;
	enum scenario_dns_default dns_default;
};

/* How devices prove who they are, and how the link to the broker is protected. */
enum scenario_security {
	SCENARIO_SECURITY_NONE,         /* plain MQTT, anonymous */
	SCENARIO_SECURITY_TLS,          /* TLS; each device its own user name and password */
	SCENARIO_SECURITY_MUTUAL,       /* TLS; each device its own certificate (CN = id) */
	SCENARIO_SECURITY_PASSWORD,     /* plain MQTT; each device its own user name and password */
	SCENARIO_SECURITY_COUNT,
};

struct scenario_fleet {
	struct scenario_pos pos;
	enum scenario_broker_mode broker;
	enum scenario_security security;
	struct scenario_pos security_pos;
	const char *broker_host;        /* EXTERNAL only */
	uint16_t broker_port;           /* EXTERNAL only */
	double connect_rate_per_s;
	struct scenario_network network;
	struct scenario_group *groups;
	size_t n_groups;
	/* Every device, sorted by id (strcmp); a device's index here is the
	 * index scenario_select() uses. */
	struct scenario_device *devices;
	size_t n_devices;
};

enum scenario_target_kind {
	SCENARIO_TARGET_ALL,
	SCENARIO_TARGET_ID,
	SCENARIO_TARGET_GLOB,
	SCENARIO_TARGET_RANGE,
	SCENARIO_TARGET_GROUP,
	SCENARIO_TARGET_SHARE,
	SCENARIO_TARGET_LIST,
};

struct scenario_target {
	enum scenario_target_kind kind;
	struct scenario_pos pos;
	uint32_t step_index;            /* of the owning step: part of a share's seed */
	const char *text;               /* as written; a list reads "[a, b]" */
	union {
		size_t device;          /* ID: index into fleet.devices */
		const char *glob;       /* GLOB: the fnmatch pattern */
		struct {
			const char *prefix;
			uint64_t lo, hi;
			unsigned width; /* 0: any width without leading zeros */
		} range;
		size_t group;           /* GROUP: index into fleet.groups */
		struct {
			double percent; /* (0, 100] */
			const struct scenario_target *of; /* NULL: the whole fleet */
		} share;
		struct {
			const struct scenario_target *items;
			size_t n;
		} list;
	};
};

/* A numeric condition: lo <= v <= hi, each bound optional or open. */
struct scenario_cmp {
	struct scenario_pos pos;
	bool has_lo, has_hi;
	bool lo_open, hi_open;          /* > instead of >=, < instead of <= */
	double lo, hi;
};

enum scenario_status {
	SCENARIO_STATUS_ONLINE,
	SCENARIO_STATUS_OFFLINE,
};

/* Same names and order as struct robot_counters in firmware/include/robot.h. */
enum scenario_counter {
	SCENARIO_COUNTER_READINGS_OK,
	SCENARIO_COUNTER_READINGS_FAILED,
	SCENARIO_COUNTER_SPIKES_REJECTED,
	SCENARIO_COUNTER_PUBLISHED,
	SCENARIO_COUNTER_ACKNOWLEDGED,
	SCENARIO_COUNTER_BUFFERED,
	SCENARIO_COUNTER_DROPPED,
	SCENARIO_COUNTER_REDELIVERED,
	SCENARIO_COUNTER_PUBLISH_ERRORS,
	SCENARIO_COUNTER_COMMANDS,
	SCENARIO_COUNTER_COMMANDS_INVALID,
	SCENARIO_COUNTER_RECONNECTS,
	SCENARIO_COUNTER_LINK_FAILURES,
	SCENARIO_COUNTER_UNPERSISTED,
	SCENARIO_COUNTER_HTTP_REFUSED,
	SCENARIO_COUNTER_COUNT,
};

/* Which predicates an expect has (bits of scenario_expect.what). */
#define SCENARIO_EXPECT_STATUS     (1u << 0)
#define SCENARIO_EXPECT_MESSAGES   (1u << 1)
#define SCENARIO_EXPECT_RATE       (1u << 2)
#define SCENARIO_EXPECT_VALUE      (1u << 3)
#define SCENARIO_EXPECT_COUNTER    (1u << 4)
#define SCENARIO_EXPECT_LOST       (1u << 5)
#define SCENARIO_EXPECT_DUPLICATED (1u << 6)
#define SCENARIO_EXPECT_FLEET_LOST (1u << 7)
#define SCENARIO_EXPECT_FLEET_DUPLICATED (1u << 8)
#define SCENARIO_EXPECT_ERROR      (1u << 9)

struct scenario_expect {
	struct scenario_target target;
	const char *name;               /* NULL: not given */
	uint32_t within_ms;             /* 0: check once */
	unsigned what;                  /* SCENARIO_EXPECT_* */
	enum scenario_status status;
	bool status_fresh;              /* the status message arrived after the expect began */
	struct {
		struct scenario_cmp cmp;
		uint32_t window_ms;     /* 0: since the run started */
	} messages, rate;               /* rate: per second */
	struct {
		enum scenario_metric metric;
		bool latest;
		uint32_t window_ms;     /* latest == false only; 0: whole run */
		bool errors_allowed;    /* readings without the metric pass */
		struct scenario_cmp cmp;
	} value;
	struct {
		enum scenario_metric metric;
		const char *is;         /* an error name, "none", or NULL: any error */
	} error;
	struct {
		enum scenario_counter name;
		struct scenario_cmp cmp;
	} counter;
	struct scenario_cmp lost, duplicated;
	struct scenario_cmp fleet_lost, fleet_duplicated; /* summed over the target */
};

/* One metric of a set step. */
struct scenario_change {
	struct scenario_pos pos;
	double to;
	uint32_t over_ms;               /* 0: at once, else a linear ramp */
};

struct scenario_set {
	struct scenario_target target;
	unsigned metrics;               /* bit (1u << enum scenario_metric) */
	struct scenario_change change[SCENARIO_METRIC_COUNT];
	bool noise_set;
	double noise;
};

enum scenario_command_action {
	SCENARIO_COMMAND_START,
	SCENARIO_COMMAND_STOP,
	SCENARIO_COMMAND_PAYLOAD,       /* publish payload as is */
};

enum scenario_command_format {
	SCENARIO_FORMAT_JSON,
	SCENARIO_FORMAT_PLAIN,
};

struct scenario_command {
	struct scenario_target target;
	enum scenario_command_action action;
	enum scenario_command_format format;
	bool format_set;                /* format: given, so it wins over the group's layout */
	const char *payload;            /* PAYLOAD only, NUL-free */
	size_t payload_len;
};

enum scenario_broker_action {
	SCENARIO_BROKER_STOP,
	SCENARIO_BROKER_START,
	SCENARIO_BROKER_RESTART,
	SCENARIO_BROKER_KILL,
};

/*
 * The fault kinds are the fault catalog's (hw-shim/world/fault_catalog.h):
 * these are the scenario model's names for the ones code means by name. A
 * kind has its value by its place in the catalog, and SCENARIO_FAULT_COUNT
 * counts the catalog, so a kind added there needs nothing here.
 */
enum scenario_fault_kind {
	SCENARIO_FAULT_WIFI_DROP = FAULT_WIFI_DROP,
	SCENARIO_FAULT_WIFI_FLAP = FAULT_WIFI_FLAP,
	SCENARIO_FAULT_WIFI_ASSOC_FAIL = FAULT_WIFI_ASSOC_FAIL,
	SCENARIO_FAULT_WIFI_WEAK = FAULT_WIFI_WEAK,
	SCENARIO_FAULT_DHT_NO_RESPONSE = FAULT_DHT_NO_RESPONSE,
	SCENARIO_FAULT_DHT_CHECKSUM = FAULT_DHT_CHECKSUM,
	SCENARIO_FAULT_DHT_STUCK = FAULT_DHT_STUCK,
	SCENARIO_FAULT_DHT_SPIKES = FAULT_DHT_SPIKES,
	SCENARIO_FAULT_DHT_DRIFT = FAULT_DHT_DRIFT,
	SCENARIO_FAULT_DHT_STRETCHED = FAULT_DHT_STRETCHED,
	SCENARIO_FAULT_DHT_TRUNCATED = FAULT_DHT_TRUNCATED,
	SCENARIO_FAULT_SONAR_NO_ECHO = FAULT_SONAR_NO_ECHO,
	SCENARIO_FAULT_SONAR_NOISE = FAULT_SONAR_NOISE,
	SCENARIO_FAULT_SONAR_STUCK = FAULT_SONAR_STUCK,
	SCENARIO_FAULT_SONAR_BEYOND_RANGE = FAULT_SONAR_BEYOND_RANGE,
	SCENARIO_FAULT_SONAR_STUCK_HIGH = FAULT_SONAR_STUCK_HIGH,
	SCENARIO_FAULT_SONAR_SILENT = FAULT_SONAR_SILENT,
	SCENARIO_FAULT_FLASH_WRITE_FAIL = FAULT_FLASH_WRITE_FAIL,
	SCENARIO_FAULT_FLASH_FULL = FAULT_FLASH_FULL,
	SCENARIO_FAULT_FLASH_CORRUPT = FAULT_FLASH_CORRUPT,
	SCENARIO_FAULT_CERT_EXPIRED = FAULT_CERT_EXPIRED,
	SCENARIO_FAULT_CERT_FOREIGN_CA = FAULT_CERT_FOREIGN_CA,
	SCENARIO_FAULT_WRONG_PASSWORD = FAULT_WRONG_PASSWORD,
	SCENARIO_FAULT_IMPERSONATE = FAULT_IMPERSONATE,
	SCENARIO_FAULT_INGEST_ERROR = FAULT_INGEST_ERROR,
	SCENARIO_FAULT_INGEST_SLOW = FAULT_INGEST_SLOW,
	SCENARIO_FAULT_INGEST_REFUSE = FAULT_INGEST_REFUSE,
	SCENARIO_FAULT_INGEST_RESET = FAULT_INGEST_RESET,
	SCENARIO_FAULT_COUNT = FAULT_KIND_COUNT,
};

/* Which part of the robot a fault kind breaks: the catalog row says. */
enum scenario_fault_layer {
	SCENARIO_LAYER_LINK = FAULT_LAYER_LINK,
	SCENARIO_LAYER_DHT = FAULT_LAYER_DHT,
	SCENARIO_LAYER_SONAR = FAULT_LAYER_SONAR,
	SCENARIO_LAYER_STORAGE = FAULT_LAYER_STORAGE, /* the emulated flash */
	SCENARIO_LAYER_SECURITY = FAULT_LAYER_SECURITY, /* credentials, identity */
	SCENARIO_LAYER_SERVER = FAULT_LAYER_SERVER, /* the ingest endpoint (http transport) */
};

/*
 * A fault step. Its options are the catalog's struct fault_params, here
 * also by name (f.period_ms): the same members in a union, so the parser
 * and fault_apply() hand them to the catalog whole.
 */
struct scenario_fault {
	struct scenario_target target;
	enum scenario_fault_kind kind;
	union {
		struct fault_params params;
		struct {
			FAULT_PARAMS_MEMBERS
		};
	};
};

struct scenario_clear {
	struct scenario_target target;
	bool kind_set;                  /* false: every fault */
	enum scenario_fault_kind kind;
};

enum scenario_power_action {
	SCENARIO_POWER_OFF,             /* "cut": killed with no chance to clean up */
	SCENARIO_POWER_ON,              /* "restore" */
	SCENARIO_POWER_CYCLE,           /* off, then on after off_ms */
	SCENARIO_POWER_BROWNOUT,        /* off for off_ms, on for on_ms, again... */
};

struct scenario_power {
	struct scenario_target target;
	enum scenario_power_action action;
	uint32_t off_ms;                /* cycle, brownout: time without power */
	uint32_t on_ms;                 /* brownout: time powered between cuts */
	uint32_t for_ms;                /* off: restore after; brownout: end after; 0: never */
};

struct scenario_broker {
	enum scenario_broker_action action;
	uint32_t for_ms;                /* stop, kill: start again after; 0: stay down */
};

struct scenario_step;

struct scenario_repeat {
	uint32_t times;
	struct scenario_step *steps;
	size_t n_steps;
};

enum scenario_step_kind {
	SCENARIO_STEP_WAIT,
	SCENARIO_STEP_SET,
	SCENARIO_STEP_COMMAND,
	SCENARIO_STEP_BROKER,
	SCENARIO_STEP_EXPECT,
	SCENARIO_STEP_REPEAT,
	SCENARIO_STEP_FAULT,
	SCENARIO_STEP_CLEAR,
	SCENARIO_STEP_POWER,
	SCENARIO_STEP_KIND_COUNT,
};

struct scenario_step {
	enum scenario_step_kind kind;
	struct scenario_pos pos;        /* the step's key, e.g. "wait" */
	uint32_t index;                 /* 0-based, document order, nested included */
	union {
		uint32_t wait_ms;
		struct scenario_set set;
		struct scenario_command command;
		struct scenario_broker broker;
		struct scenario_expect expect;
		struct scenario_repeat repeat;
		struct scenario_fault fault;
		struct scenario_clear clear;
		struct scenario_power power;
	};
};

struct scenario__arena;

/* A parsed, checked scenario. Everything it points to belongs to it. */
struct scenario {
	const char *file;               /* the name errors use */
	const char *name;
	const char *description;        /* NULL: none */
	uint64_t seed;
	bool seed_set;                  /* false: SCENARIO_SEED_DEFAULT */
	uint32_t duration_ms;           /* 0: no cap */
	struct scenario_fleet fleet;
	struct scenario_step *steps;
	size_t n_steps;                 /* top level */
	size_t n_steps_total;           /* nested included: the step index range */
	struct scenario__arena *arena;
};

/*
 * Read, parse and check the scenario in @path. Returns 0, -EINVAL for a
 * malformed scenario, -EFBIG for a file over SCENARIO_FILE_MAX, -ENOMEM or
 * the negative errno of a failed read. On failure @err says why (with
 * position where there is one) and @out is left empty; scenario_free() on
 * it is harmless.
 */
int scenario_parse_file(const char *path, struct scenario *out, struct scenario_error *err);

/* Same for @len bytes of @text; @name is the file name for messages and the
 * default scenario name. @text need not be NUL-terminated. */
int scenario_parse_string(const char *name, const char *text, size_t len,
			  struct scenario *out, struct scenario_error *err);

/* Release everything @sc holds and empty it; NULL and empty are fine. */
void scenario_free(struct scenario *sc);

/*
 * The longest the timeline can take: waits, expectation windows and
 * repeats added up, capped by the scenario's duration. Background work
 * (ramps, fault durations, power cycles) adds nothing.
 */
uint64_t scenario_longest_ms(const struct scenario *sc);

/*
 * Set @selected[i] for each of the fleet's n_devices devices to whether @t
 * selects it, and *@count (may be NULL) to how many it does. @seed picks
 * shares, together with t->step_index and the device index; the engine
 * passes the scenario's seed (and may mix in a repeat iteration for a fresh
 * pick on every round). Returns 0, -EINVAL or -ENOMEM.
 */
int scenario_select(const struct scenario *sc, const struct scenario_target *t,
		    uint64_t seed, bool *selected, size_t *count);

/*
 * Parse @text as a target against @sc's fleet (for command lines and the
 * dashboard); its memory belongs to @sc. Returns 0, or -EINVAL with @err
 * saying why (no position), including when it matches no device.
 */
int scenario_target_parse(struct scenario *sc, const char *text, struct scenario_target *out,
			  struct scenario_error *err);

/* Index of device @id in sc->fleet.devices, or -ENOENT. */
long scenario_device_find(const struct scenario *sc, const char *id);

/* "500ms", "1.5s", "2m", "1min", "1h", "1m30s", "0". Returns 0 or -EINVAL. */
int scenario_parse_duration_ms(const char *s, uint32_t *ms);

/* "200/s", "30/m", "30/min", "600/h", "5". Returns 0 or -EINVAL. */
int scenario_parse_rate(const char *s, double *per_s);

/* True if @id is a usable device id: 1-32 of [A-Za-z0-9_-]. */
bool scenario_id_valid(const char *id);

/* True if @v meets @c. */
bool scenario_cmp_holds(const struct scenario_cmp *c, double v);

/* Write @c as text such as ">= 5", "== 0" or "> 29.5 and <= 30.5" into @buf.
 * Returns what snprintf returns. */
int scenario_cmp_format(const struct scenario_cmp *c, char *buf, size_t len);

/* Names as written in scenario files; "?" for a value out of range. */
const char *scenario_step_kind_name(enum scenario_step_kind k);
const char *scenario_metric_name(enum scenario_metric m);
const char *scenario_counter_name(enum scenario_counter c);
const char *scenario_fault_kind_name(enum scenario_fault_kind k);
enum scenario_fault_layer scenario_fault_layer(enum scenario_fault_kind k);
const char *scenario_power_action_name(enum scenario_power_action a);
const char *scenario_broker_action_name(enum scenario_broker_action a);
const char *scenario_security_name(enum scenario_security m);
const char *scenario_transport_name(enum scenario_transport t);
/* True if some group of the fleet posts over HTTP. */
bool scenario_has_http(const struct scenario *sc);
/*
 * What fault @k needs of the fleet's security mode that @m does not give
 * ("security: mutual (device certificates)"), or NULL when it can be given:
 * a security fault replaces credentials the devices must have.
 */
const char *scenario_fault_needs(enum scenario_fault_kind k, enum scenario_security m);

#endif /* SCENARIO_H */
