/* Unit tests for topic templates: parsing, matching, expansion, overlap, the fleet map. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "topic_layout.h"

static void parse_ok(const char *text, enum topic_role role, enum topic_format fmt,
		     struct topic_template *t)
{
	char why[200] = "";

	if (topic_template_parse(text, role, fmt, t, why, sizeof(why)) != 0)
		fail_msg("'%s': %s", text, why);
}

static void parse_bad(const char *text, enum topic_role role, enum topic_format fmt,
		      const char *want)
{
	struct topic_template t;
	char why[200] = "";

	assert_int_equal(topic_template_parse(text, role, fmt, &t, why, sizeof(why)), -EINVAL);
	if (!strstr(why, want))
		fail_msg("'%s': got '%s', want '%s'", text, why, want);
}

static void test_parse_accepts_templates(void **state)
{
	struct topic_template t;

	(void)state;
	parse_ok("sensors/{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &t);
	assert_int_equal(t.n_levels, 3);
	assert_int_equal(t.uses, TOPIC_USES_ID | TOPIC_USES_METRIC);
	assert_int_equal(t.level[1].part, TOPIC_PART_ID);
	parse_ok("sensors/{room}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &t);
	assert_int_equal(t.uses, TOPIC_USES_ROOM | TOPIC_USES_METRIC);
	parse_ok("home/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &t);
	assert_int_equal(t.uses, TOPIC_USES_METRIC);
	parse_ok("sensors/{id}/data", TOPIC_ROLE_READINGS, TOPIC_FORMAT_JSON, &t);
	parse_ok("a//{id}/status", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &t);
	assert_int_equal(t.n_levels, 4);
	parse_ok("/{id}", TOPIC_ROLE_COMMAND, TOPIC_FORMAT_JSON, &t);
}

static void test_parse_refuses_bad_templates(void **state)
{
	char longer[200];

	(void)state;
	parse_bad("", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, "empty");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	parse_bad(longer, TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, "longer than 127");
	parse_bad("$SYS/{id}", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, "broker's own");
	parse_bad("sensors/+/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, "wildcards");
	parse_bad("sensors/#", TOPIC_ROLE_READINGS, TOPIC_FORMAT_JSON, "wildcards");
	parse_bad("sensors/x{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, "whole level");
	parse_bad("sensors/{name}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN,
		  "unknown placeholder '{name}'");
	parse_bad("sensors/{id}/{id}", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, "{id} twice");
	parse_bad("sensors/{id}/value", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, "no {metric}");
	parse_bad("sensors/{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_JSON,
		  "not JSON readings");
	parse_bad("sensors/{id}/{metric}", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, "not status");
	parse_bad("a/\x01/{id}", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, "control character");
	parse_bad("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/4/5/{id}",
		  TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, "more than 32 levels");
}

static void test_match_captures(void **state)
{
	struct topic_template t;
	struct topic_captures c;

	(void)state;
	parse_ok("sensors/{room}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &t);
	assert_true(topic_template_match(&t, "sensors/kitchen/humidity", &c));
	assert_int_equal(c.room_len, 7);
	assert_memory_equal(c.room, "kitchen", 7);
	assert_int_equal(c.metric, 1);
	assert_int_equal(c.id_len, 0);
	assert_false(topic_template_match(&t, "sensors/kitchen/pressure", &c));
	assert_false(topic_template_match(&t, "sensors//humidity", &c));
	assert_false(topic_template_match(&t, "sensors/kitchen/humidity/x", &c));
	assert_false(topic_template_match(&t, "sensors/kitchen", &c));
	assert_false(topic_template_match(&t, "sensors/kitchen/", &c));
	assert_false(topic_template_match(&t, "other/kitchen/humidity", &c));
	assert_false(topic_template_match(&t, "sensors/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/distance", &c));
	assert_true(topic_template_match(&t, "sensors/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/distance", NULL));

	parse_ok("a//{id}", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &t);
	assert_true(topic_template_match(&t, "a//x", &c));
	assert_false(topic_template_match(&t, "a/b/x", &c));
}

static void test_match_own(void **state)
{
	struct topic_template t;
	int metric;

	(void)state;
	parse_ok("sensors/{room}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &t);
	assert_true(topic_template_match_own(&t, "sensors/kitchen/distance", "d1", "kitchen",
					     &metric));
	assert_int_equal(metric, 2);
	assert_false(topic_template_match_own(&t, "sensors/garage/distance", "d1", "kitchen",
					      &metric));
	assert_int_equal(metric, -1);
	assert_false(topic_template_match_own(&t, "sensors/kitchen/distance", "d1", NULL, NULL));
	parse_ok("sensors/{id}/data", TOPIC_ROLE_READINGS, TOPIC_FORMAT_JSON, &t);
	assert_true(topic_template_match_own(&t, "sensors/d1/data", "d1", NULL, &metric));
	assert_int_equal(metric, -1);
	assert_false(topic_template_match_own(&t, "sensors/d2/data", "d1", NULL, NULL));
}

static void test_expand_and_filter(void **state)
{
	struct topic_template t;
	char out[64];

	(void)state;
	parse_ok("site/{room}/{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &t);
	assert_int_equal(topic_template_expand(&t, "d1", "hall", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "site/hall/d1/temperature");
	assert_int_equal(topic_template_expand(&t, "d1", NULL, 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(topic_template_expand(&t, "d1", "hall", -1, out, sizeof(out)), -EINVAL);
	assert_int_equal(topic_template_expand(&t, "d1", "hall", 0, out, 10), -ENOSPC);
	topic_template_filter(&t, out, sizeof(out));
	assert_string_equal(out, "site/+/+/+");
	parse_ok("sensors/{id}/command", TOPIC_ROLE_COMMAND, TOPIC_FORMAT_PLAIN, &t);
	assert_int_equal(topic_template_expand(&t, "robot_001", NULL, -1, out, sizeof(out)), 0);
	assert_string_equal(out, "sensors/robot_001/command");
	topic_template_filter(&t, out, sizeof(out));
	assert_string_equal(out, "sensors/+/command");
}

static void test_overlap(void **state)
{
	struct topic_template a, b;

	(void)state;
	parse_ok("sensors/{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &a);
	parse_ok("sensors/{id}/status", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &b);
	assert_false(topic_templates_overlap(&a, &b));
	parse_ok("sensors/{room}/temperature", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &b);
	assert_true(topic_templates_overlap(&a, &b));
	assert_true(topic_templates_overlap(&b, &a));
	parse_ok("sensors/{room}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &b);
	assert_true(topic_templates_overlap(&a, &b));
	parse_ok("sensors/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &b);
	assert_false(topic_templates_overlap(&a, &b));
	parse_ok("home/{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &b);
	assert_false(topic_templates_overlap(&a, &b));
}

static void test_filter_covers(void **state)
{
	(void)state;
	assert_true(topic_filter_covers("sensors/#", "sensors/+/+"));
	assert_true(topic_filter_covers("sensors/#", "sensors"));
	assert_true(topic_filter_covers("#", "a/b"));
	assert_true(topic_filter_covers("a/+/c", "a/b/c"));
	assert_true(topic_filter_covers("a/+/c", "a/+/c"));
	assert_false(topic_filter_covers("a/b/c", "a/+/c"));
	assert_false(topic_filter_covers("sensors/#", "home/+/+"));
	assert_false(topic_filter_covers("a/+", "a/+/c"));
	assert_false(topic_filter_covers("a/+/c", "a/#"));
}

/* A fleet as the run builds it: the contract for robots, a tutorial-style
 * layout by room, and a one-device group with a fixed topic. */
static struct topic_map *build_map(void)
{
	struct topic_layout contract, rooms, lone;
	struct topic_map *m;

	topic_layout_default(&contract, TOPIC_FORMAT_PLAIN);
	memset(&rooms, 0, sizeof(rooms));
	parse_ok("sensors/{room}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN,
		 &rooms.readings[0]);
	rooms.n_readings = 1;
	parse_ok("sensors/{room}/status", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &rooms.status);
	parse_ok("cmd/{room}", TOPIC_ROLE_COMMAND, TOPIC_FORMAT_JSON, &rooms.command);
	memset(&lone, 0, sizeof(lone));
	parse_ok("greenhouse/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &lone.readings[0]);
	lone.n_readings = 1;
	parse_ok("greenhouse/status", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &lone.status);
	parse_ok("greenhouse/command", TOPIC_ROLE_COMMAND, TOPIC_FORMAT_PLAIN, &lone.command);

	assert_int_equal(topic_map_create(&m), 0);
	assert_int_equal(topic_map_add_layout(m, &contract, NULL), 0);
	assert_int_equal(topic_map_add_layout(m, &contract, NULL), 0); /* kept once */
	assert_int_equal(topic_map_add_layout(m, &rooms, NULL), 0);
	assert_int_equal(topic_map_add_layout(m, &lone, NULL), -EINVAL);
	assert_int_equal(topic_map_add_layout(m, &lone, "gh_1"), 0);
	assert_int_equal(topic_map_add_room(m, "kitchen", "tut_02"), 0);
	assert_int_equal(topic_map_add_room(m, "hall", "tut_01"), 0);
	assert_int_equal(topic_map_add_room(m, "a/b", "tut_01"), -EINVAL);
	assert_int_equal(topic_map_finish(m), 0);
	return m;
}

static void test_map_attributes(void **state)
{
	struct topic_map *m = build_map();
	struct topic_attribution a;

	(void)state;
	/* A known room wins over {id}: both templates match this topic. */
	assert_int_equal(topic_map_attribute(m, "sensors/kitchen/temperature", &a), 0);
	assert_string_equal(a.device_id, "tut_02");
	assert_int_equal(a.role, TOPIC_ROLE_READINGS);
	assert_int_equal(a.format, TOPIC_FORMAT_PLAIN);
	assert_int_equal(a.metric, 0);
	/* Not a room: the contract's {id}. */
	assert_int_equal(topic_map_attribute(m, "sensors/robot_7/distance", &a), 0);
	assert_string_equal(a.device_id, "robot_7");
	assert_int_equal(a.metric, 2);
	assert_int_equal(topic_map_attribute(m, "sensors/robot_7/data", &a), 0);
	assert_int_equal(a.format, TOPIC_FORMAT_JSON);
	assert_int_equal(a.metric, -1);
	assert_int_equal(topic_map_attribute(m, "sensors/hall/status", &a), 0);
	assert_string_equal(a.device_id, "tut_01");
	assert_int_equal(a.role, TOPIC_ROLE_STATUS);
	assert_int_equal(topic_map_attribute(m, "cmd/hall", &a), 0);
	assert_int_equal(a.role, TOPIC_ROLE_COMMAND);
	assert_int_equal(a.format, TOPIC_FORMAT_JSON);
	assert_int_equal(topic_map_attribute(m, "greenhouse/humidity", &a), 0);
	assert_string_equal(a.device_id, "gh_1");
	assert_int_equal(a.metric, 1);
	/* A room nobody has, where only {room} templates match. */
	assert_int_equal(topic_map_attribute(m, "cmd/attic", &a), -ENXIO);
	assert_string_equal(a.device_id, "attic");
	assert_int_equal(topic_map_attribute(m, "elsewhere/x", &a), -ENOENT);
	assert_int_equal(topic_map_attribute(m, "sensors/x/pressure", &a), -ENOENT);
	topic_map_free(m);
}

static void test_map_filters(void **state)
{
	struct topic_map *m = build_map();
	const char *f[16];
	int n;

	(void)state;
	/* Under sensors/# only what lies outside it needs a filter. */
	n = topic_map_filters(m, "sensors/#", f, 16);
	assert_int_equal(n, 2);
	assert_string_equal(f[0], "cmd/+");
	assert_string_equal(f[1], "greenhouse/+"); /* greenhouse/status and /command in it */
	topic_map_free(m);
}

static void test_map_filters_merge_overlaps(void **state)
{
	struct topic_layout l;
	struct topic_map *m;
	const char *f[8];

	(void)state;
	memset(&l, 0, sizeof(l));
	parse_ok("a/{id}/x/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &l.readings[0]);
	parse_ok("a/y/{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN, &l.readings[1]);
	l.n_readings = 2;
	parse_ok("s/{id}", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN, &l.status);
	parse_ok("s/{id}/c", TOPIC_ROLE_COMMAND, TOPIC_FORMAT_PLAIN, &l.command);
	assert_int_equal(topic_map_create(&m), 0);
	assert_int_equal(topic_map_add_layout(m, &l, NULL), 0);
	assert_int_equal(topic_map_finish(m), 0);
	assert_int_equal(topic_map_filters(m, NULL, f, 8), 3);
	assert_string_equal(f[0], "a/+/+/+");
	assert_string_equal(f[1], "s/+");
	assert_string_equal(f[2], "s/+/c");
	topic_map_free(m);
}

static void test_map_refuses_a_room_twice(void **state)
{
	struct topic_map *m;

	(void)state;
	assert_int_equal(topic_map_create(&m), 0);
	assert_int_equal(topic_map_add_room(m, "kitchen", "a"), 0);
	assert_int_equal(topic_map_add_room(m, "kitchen", "b"), 0);
	assert_int_equal(topic_map_finish(m), -EEXIST);
	topic_map_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts_templates),
		cmocka_unit_test(test_parse_refuses_bad_templates),
		cmocka_unit_test(test_match_captures),
		cmocka_unit_test(test_match_own),
		cmocka_unit_test(test_expand_and_filter),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_filter_covers),
		cmocka_unit_test(test_map_attributes),
		cmocka_unit_test(test_map_filters),
		cmocka_unit_test(test_map_filters_merge_overlaps),
		cmocka_unit_test(test_map_refuses_a_room_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
