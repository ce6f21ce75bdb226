/* The fault catalog: every row complete and consistent, every kind in docs/faults.md and docs/scenarios.md. */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fault_catalog.h"

#ifndef FAULTS_DOC
#define FAULTS_DOC "docs/faults.md"
#endif
#ifndef SCENARIOS_DOC
#define SCENARIOS_DOC "docs/scenarios.md"
#endif

/* Each row: a unique name, a real layer, its functions, options it can list. */
static void test_fault_catalog_rows_are_complete(void **state)
{
	(void)state;
	for (int k = 0; k < FAULT_KIND_COUNT; k++) {
		const struct fault_kind_def *d = fault_catalog_get(k);

		assert_non_null(d);
		assert_non_null(d->name);
		assert_true(d->layer < FAULT_LAYER_COUNT);
		assert_non_null(d->apply);
		assert_non_null(d->clear);
		assert_non_null(d->active);
		assert_true(d->n_options <= FAULT_KIND_OPTIONS_MAX);
		assert_int_equal(fault_catalog_find(d->name), k);
		assert_string_equal(fault_catalog_name(k), d->name);
		for (unsigned i = 0; i < d->n_options; i++) {
			const struct fault_kind_option *o = &d->options[i];

			assert_true(o->id < FAULT_OPT_COUNT);
			/* A required option has an example for its message, and
			 * the dashboard's preset is a value the parser accepts. */
			if (o->required) {
				assert_non_null(o->example);
				assert_true(o->preset >= fault_options[o->id].min &&
					    o->preset <= fault_options[o->id].max);
			}
			if (o->has_def)
				assert_true(o->def >= fault_options[o->id].min &&
					    o->def <= fault_options[o->id].max);
		}
	}
	assert_null(fault_catalog_get(FAULT_KIND_COUNT));
	assert_null(fault_catalog_get(-1));
	assert_int_equal(fault_catalog_find("wifi"), -ENOENT);
	assert_string_equal(fault_catalog_name(FAULT_KIND_COUNT), "?");
}

/* Every kind, applied with its preset options to a healthy robot, is
 * active, breaks nothing else, and its clear leaves the robot healthy
 * (but for the bookkeeping a clear must leave: seed, generation, phase). */
static void test_fault_catalog_apply_active_clear(void **state)
{
	(void)state;
	for (int k = 0; k < FAULT_KIND_COUNT; k++) {
		struct world_faults wf, healthy;
		struct fault_params p;

		memset(&wf, 0, sizeof(wf));
		fault_catalog_defaults(k, true, &p);
		fault_catalog_apply(&wf, k, &p, 77, 1000);
		assert_true(fault_catalog_active(&wf, k));
		assert_int_equal(wf.seed, 77);
		for (int other = 0; other < FAULT_KIND_COUNT; other++)
			if (other != k)
				assert_false(fault_catalog_active(&wf, other));
		fault_catalog_clear(&wf, k);
		assert_false(fault_catalog_active(&wf, k));
		memset(&healthy, 0, sizeof(healthy));
		healthy.seed = wf.seed;
		healthy.assoc_fail_gen = wf.assoc_fail_gen;
		healthy.link_since_ms = wf.link_since_ms;
		assert_memory_equal(&wf, &healthy, sizeof(wf));
	}
}

/* The options' table: defaults inside their ranges, values round-trip. */
static void test_fault_catalog_options(void **state)
{
	struct fault_params p;
	char buf[160];

	(void)state;
	for (int id = 0; id < FAULT_OPT_COUNT; id++) {
		const struct fault_option *o = &fault_options[id];

		bool required = false;

		assert_non_null(o->name);
		assert_true(o->min <= o->max);
		/* An option some kind requires has no default to speak of. */
		for (int k = 0; k < FAULT_KIND_COUNT; k++) {
			const struct fault_kind_option *ko =
				fault_catalog_option(k, (enum fault_option_id)id);

			required = required || (ko && ko->required);
		}
		if (!required)
			assert_true(o->def >= o->min && o->def <= o->max);
	}
	memset(&p, 0, sizeof(p));
	fault_params_set(&p, FAULT_OPT_PERIOD, 10000);
	fault_params_set(&p, FAULT_OPT_RSSI, -88.7);
	fault_params_set(&p, FAULT_OPT_DUTY, 0.3);
	assert_int_equal(p.period_ms, 10000);
	assert_int_equal(p.rssi_dbm, -88);
	assert_true(p.duty == 0.3);
	assert_true(fault_params_get(&p, FAULT_OPT_RSSI) == -88);
	/* A bare spikes fault is 0.2, others' probability is 1. */
	fault_catalog_defaults(FAULT_DHT_SPIKES, false, &p);
	assert_true(p.probability == 0.2);
	fault_catalog_defaults(FAULT_DHT_CHECKSUM, false, &p);
	assert_true(p.probability == 1.0);
	assert_int_equal(p.period_ms, 0);
	fault_catalog_defaults(FAULT_WIFI_FLAP, true, &p);
	assert_int_equal(p.period_ms, 10000);
	p.for_ms = 60000;
	assert_string_equal(fault_catalog_describe(FAULT_WIFI_FLAP, &p, buf, sizeof(buf)),
			    "period=10000ms duty=0.50 for=60000ms");
	fault_catalog_defaults(FAULT_WIFI_WEAK, false, &p);
	assert_string_equal(fault_catalog_describe(FAULT_WIFI_WEAK, &p, buf, sizeof(buf)),
			    "loss=0.100 latency=200ms rssi=-85dBm");
	/* Cut short, never overrun. */
	assert_true(strlen(fault_catalog_describe(FAULT_WIFI_WEAK, &p, buf, 8)) < 8);
}

/* @path has a table row for every kind: "| `kind` |". */
static void expect_every_kind_in(const char *path)
{
	FILE *f = fopen(path, "r");
	char *doc;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	for (int k = 0; k < FAULT_KIND_COUNT; k++) {
		char row[64];

		snprintf(row, sizeof(row), "| `%s` |", fault_catalog_name(k));
		if (!strstr(doc, row))
			fail_msg("%s has no table row for fault kind %s (\"%s\")", path,
				 fault_catalog_name(k), row);
	}
	free(doc);
}

/* The catalogue (docs/faults.md) and the scenario reference's fault table. */
static void test_fault_catalog_every_kind_is_documented(void **state)
{
	(void)state;
	expect_every_kind_in(FAULTS_DOC);
	expect_every_kind_in(SCENARIOS_DOC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_catalog_rows_are_complete),
		cmocka_unit_test(test_fault_catalog_apply_active_clear),
		cmocka_unit_test(test_fault_catalog_options),
		cmocka_unit_test(test_fault_catalog_every_kind_is_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
