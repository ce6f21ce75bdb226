/* Topic layouts: where a firmware publishes and listens, as templates with {id}, {room}, {metric}. */
#ifndef SIM_TOPIC_LAYOUT_H
#define SIM_TOPIC_LAYOUT_H

/*
 * A template is an MQTT topic whose levels may be placeholders:
 *   {id}      the device id
 *   {room}    the device's room (a per-device attribute, scenario rooms:)
 *   {metric}  temperature, humidity or distance
 * each a whole level ("sensors/{id}/{metric}", never "sensors/x{id}"),
 * each at most once. Literal levels hold no wildcard (+ #), no { }, and
 * the topic does not start with $ (the broker's own). libc only, so the
 * scenario parser, the recorder and a device can all use it.
 *
 * A topic_map is the whole fleet's layouts compiled for the recorder: it
 * matches a received topic against every template and says which device,
 * role and metric the message is, through the room table for {room}.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOPIC_TEMPLATE_MAX 128        /* bytes, the NUL included */
#define TOPIC_LEVELS_MAX 32
#define TOPIC_READINGS_MAX 4          /* readings templates in one layout */
#define TOPIC_NAME_MAX 32             /* an id or a room, bytes without the NUL */
#define TOPIC_METRIC_COUNT 3

enum topic_role {
	TOPIC_ROLE_READINGS,
	TOPIC_ROLE_STATUS,              /* payloads online / offline */
	TOPIC_ROLE_COMMAND,             /* what the cloud sends the device */
};

enum topic_format {
	TOPIC_FORMAT_PLAIN,             /* readings: one number; commands: start/stop */
	TOPIC_FORMAT_JSON,              /* readings: robofleet's JSON; commands: {"action":"start"} */
};

enum topic_part {
	TOPIC_PART_LITERAL,
	TOPIC_PART_ID,
	TOPIC_PART_ROOM,
	TOPIC_PART_METRIC,
};

/* Bits of topic_template.uses. */
#define TOPIC_USES_ID     (1u << TOPIC_PART_ID)
#define TOPIC_USES_ROOM   (1u << TOPIC_PART_ROOM)
#define TOPIC_USES_METRIC (1u << TOPIC_PART_METRIC)

struct topic_level {
	uint8_t part;                   /* enum topic_part */
	uint8_t off, len;               /* LITERAL: the level's bytes in text */
};

/* One template, compiled: matching needs no allocation and no parsing. */
struct topic_template {
	char text[TOPIC_TEMPLATE_MAX];  /* as written */
	enum topic_role role;
	enum topic_format format;
	unsigned uses;                  /* TOPIC_USES_* */
	uint8_t n_levels;
	struct topic_level level[TOPIC_LEVELS_MAX];
};

/* A group's layout: up to four readings templates, one status, one command. */
struct topic_layout {
	struct topic_template readings[TOPIC_READINGS_MAX];
	size_t n_readings;
	struct topic_template status;
	struct topic_template command;
};

/* What a topic says, once matched against one template. */
struct topic_captures {
	const char *id;                 /* inside the topic, not NUL-terminated */
	size_t id_len;                  /* 0: the template has no {id} */
	const char *room;
	size_t room_len;
	int metric;                     /* 0..2, -1: no {metric} */
};

/* "temperature", "humidity", "distance"; the scenario model's order. */
extern const char *const topic_metric_names[TOPIC_METRIC_COUNT];

/*
 * Compile @text as a template for @role in @format. Returns 0, or -EINVAL
 * with why (naming the level or placeholder at fault) in @why. Beyond the
 * topic rules above: plain readings need {metric} (the topic is what says
 * which metric a number is); JSON readings, status and command have none.
 */
int topic_template_parse(const char *text, enum topic_role role, enum topic_format format,
			 struct topic_template *out, char *why, size_t why_len);

/*
 * robofleet's contract: readings sensors/{id}/{metric} (plain) and
 * sensors/{id}/data (JSON), status sensors/{id}/status, command
 * sensors/{id}/command in @command_format.
 */
void topic_layout_default(struct topic_layout *l, enum topic_format command_format);

/*
 * Match @topic against @t. On a match fills @cap (may be NULL) and returns
 * true. {id} and {room} match a level of 1..TOPIC_NAME_MAX bytes without + #
 * or control characters, {metric}
 * only a metric name. No allocation.
 */
bool topic_template_match(const struct topic_template *t, const char *topic,
			  struct topic_captures *cap);

/*
 * Whether @topic is one a device with @id and @room (NULL: none) publishes
 * under @t; *@metric (may be NULL) gets the metric or -1. For a device
 * counting its own publishes.
 */
bool topic_template_match_own(const struct topic_template *t, const char *topic, const char *id,
			      const char *room, int *metric);

/*
 * Write @t with @id, @room and @metric (-1: none) put in, into @out.
 * Returns 0, -EINVAL when the template needs a value that is missing, or
 * -ENOSPC when @len is too small.
 */
int topic_template_expand(const struct topic_template *t, const char *id, const char *room,
			  int metric, char *out, size_t len);

/* The subscription filter for @t: every placeholder becomes +. */
void topic_template_filter(const struct topic_template *t, char *out, size_t len);
/*
 * One device's filter for @t: {id} and {room} become @id and @room (either
 * NULL: +), {metric} becomes +. What the device may publish or receive
 * under @t: its ACL line, its recorder's subscription.
 */
void topic_template_device_filter(const struct topic_template *t, const char *id,
				  const char *room, char *out, size_t len);

/*
 * Whether some topic could match both @a and @b: the same number of
 * levels, and at each level the same literal, or a placeholder that can
 * take the other's literal ({metric}: a metric name; {id}, {room}: any
 * level of 1..TOPIC_NAME_MAX bytes), or two placeholders that can be equal.
 */
bool topic_templates_overlap(const struct topic_template *a, const struct topic_template *b);

/* ---- the fleet's layouts, compiled for the recorder -------------------- */

struct topic_map;

/* What a received topic is. */
struct topic_attribution {
	enum topic_role role;
	enum topic_format format;
	int metric;                     /* -1: none (JSON readings, status, command) */
	char device_id[TOPIC_NAME_MAX + 1];
	const struct topic_template *tmpl; /* the template that matched */
};

int topic_map_create(struct topic_map **out);
void topic_map_free(struct topic_map *m);

/*
 * Add a group's layout. @single_device: the group's device id when it has
 * exactly one (a template naming neither {id} nor {room} then belongs to
 * it), else NULL, and such templates are refused (-EINVAL). Identical
 * templates are kept once. Returns 0, -EINVAL or -ENOMEM.
 */
int topic_map_add_layout(struct topic_map *m, const struct topic_layout *l,
			 const char *single_device);

/* Room @room is device @device_id's. Returns 0, -EINVAL or -ENOMEM. */
int topic_map_add_room(struct topic_map *m, const char *room, const char *device_id);

/*
 * Ready the map for matching (sort the room table). Returns 0, or -EEXIST
 * when a room was given to two devices. No adds after it.
 */
int topic_map_finish(struct topic_map *m);

/*
 * Attribute @topic: the first template that matches and resolves wins,
 * templates that resolve through a room or belong to one device before
 * those with {id}. Returns 0 with @out filled; -ENOENT when no template
 * matches; -ENXIO when templates match only through {room} and no device
 * has that room (out->device_id then holds the room). No allocation.
 */
int topic_map_attribute(const struct topic_map *m, const char *topic,
			struct topic_attribution *out);

/*
 * The subscription filters covering every template: placeholders made +,
 * filters that share topics merged (a/+/x and a/y/+ into a/+/+, so the
 * broker delivers a message once), those another covers dropped, @base
 * (NULL: none; e.g. "sensors/#") counted as one more. Writes up to @max
 * pointers to strings the map owns into @out (excluding @base) and
 * returns how many there are, or -ENOMEM.
 */
int topic_map_filters(struct topic_map *m, const char *base, const char **out, size_t max);

/* Whether filter @f (+ and # allowed) matches every topic filter @g does. */
bool topic_filter_covers(const char *f, const char *g);

#endif /* SIM_TOPIC_LAYOUT_H */
