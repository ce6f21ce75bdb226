/* `robofleet run`: what the report needs from the run (environment set, when expectations were decided), the live status line, and report.html, --summary-md at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"
#include "record.h"
#include "report_html.h"
#include "run_internal.h"
#include "summary_md.h"

/* Enough for an hour of ramps in a few groups; beyond it the page shows the steps it has. */
#define ENV_LOG_MAX 200000

struct run_report {
	struct progress progress;
	int64_t started_wall_ms, started_mono_ms;
	uint64_t last_id;
	int64_t last_id_ms;
	double rate;
	uint64_t lost;
	int64_t *result_ms;             /* per engine result: when it was decided */
	size_t n_result_ms, cap_result_ms;
	struct record_run_env *env;
	size_t n_env, cap_env;
	double (*group_env)[RECORD_METRIC_COUNT];
	bool *group_env_set;
};

int run__report_init(struct run *r)
{
	struct run_report *p = calloc(1, sizeof(*p));
	size_t g = r->sc.fleet.n_groups ? r->sc.fleet.n_groups : 1;

	if (!p)
		return -ENOMEM;
	p->group_env = calloc(g, sizeof(*p->group_env));
	p->group_env_set = calloc(g, sizeof(*p->group_env_set));
	if (!p->group_env || !p->group_env_set) {
		free(p->group_env);
		free(p->group_env_set);
		free(p);
		return -ENOMEM;
	}
	p->started_wall_ms = run__wall_ms();
	p->started_mono_ms = run__mono_ms();
	/* --quiet keeps its quiet; the dashboard owns a --tui terminal. */
	progress_init(&p->progress, stdout, !r->opt->quiet && !r->opt->tui, isatty(STDOUT_FILENO));
	r->report = p;
	return 0;
}

void run__report_free(struct run *r)
{
	struct run_report *p = r->report;

	if (!p)
		return;
	progress_clear(&p->progress);
	free(p->result_ms);
	free(p->env);
	free(p->group_env);
	free(p->group_env_set);
	free(p);
	r->report = NULL;
}

void run__report_note_env(struct run *r, size_t dev, const struct scenario_env *env)
{
	struct run_report *p = r->report;
	uint32_t g;

	if (!p || dev >= r->sc.fleet.n_devices)
		return;
	g = r->sc.fleet.devices[dev].group;
	/* A group's devices share a step's values: one row per change, not per device. */
	if (p->group_env_set[g] &&
	    !memcmp(p->group_env[g], env->value, sizeof(p->group_env[g])))
		return;
	memcpy(p->group_env[g], env->value, sizeof(p->group_env[g]));
	p->group_env_set[g] = true;
	if (p->n_env >= ENV_LOG_MAX)
		return;
	if (p->n_env == p->cap_env) {
		size_t cap = p->cap_env ? p->cap_env * 2 : 64;
		void *q = realloc(p->env, cap * sizeof(*p->env));
		if (!q)
			return;
		p->env = q;
		p->cap_env = cap;
	}
	p->env[p->n_env].ms = run__wall_ms();
	p->env[p->n_env].group = g;
	for (int m = 0; m < RECORD_METRIC_COUNT; m++)
		p->env[p->n_env].v[m] = env->value[m];
	p->n_env++;
}

void run__report_before_say(const struct run *r)
{
	if (r->report)
		progress_clear(&r->report->progress);
}

static size_t terminal_width(void)
{
	struct winsize ws;

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col - 1 : 0;
}

void run__report_tick(struct run *r)
{
	struct run_report *p = r->report;
	struct progress_state st;
	struct record_totals totals;
	uint64_t online = 0, id = 0;
	int64_t now;
	char line[512];

	if (!p)
		return;
	now = run__mono_ms();
	while (p->n_result_ms < r->engine.n_results) {
		if (p->n_result_ms == p->cap_result_ms) {
			size_t cap = p->cap_result_ms ? p->cap_result_ms * 2 : 32;
			void *q = realloc(p->result_ms, cap * sizeof(*p->result_ms));
			if (!q)
				break;
			p->result_ms = q;
			p->cap_result_ms = cap;
		}
		p->result_ms[p->n_result_ms++] = run__wall_ms();
	}
	if (!r->db || !progress_due(&p->progress, now))
		return;
	if (record_last_reading_id(r->db, &id) == 0) {
		if (p->last_id_ms && now > p->last_id_ms)
			p->rate = (double)(id - p->last_id) * 1000.0 / (double)(now - p->last_id_ms);
		p->last_id = id;
		p->last_id_ms = now;
	}
	if (record_accounting_totals(r->db, &totals) == 0)
		p->lost = totals.lost;
	record_count_online(r->db, &online);
	/* HTTP robots say nothing on a status topic: their boards tell. */
	online += run__count_http_online(r);
	memset(&st, 0, sizeof(st));
	st.elapsed_ms = now - p->started_mono_ms;
	st.step = r->status.step;
	st.steps_started = r->status.steps_started;
	st.steps_total = r->status.steps_total;
	st.online = (size_t)online;
	st.total = run__owned_count(r);
	st.readings_per_s = p->rate;
	st.lost = p->lost;
	st.passed = r->status.passed;
	st.failed = r->status.failed;
	progress_format_line(line, sizeof(line), &st, p->progress.tty ? terminal_width() : 0);
	progress_show(&p->progress, line, now);
}

static const char *firmware_text(const struct scenario_group *g, char *buf, size_t len)
{
	if (g->sketch)
		snprintf(buf, len, "sketch: %s", g->sketch);
	else if (g->device)
		snprintf(buf, len, "device: %s", g->device);
	else
		snprintf(buf, len, "robot");
	return buf;
}

/* The run's own tables into the record, for `robofleet report` later. */
static int save_run_info(struct run *r, bool passed, char *err, size_t errlen)
{
	struct run_report *p = r->report;
	const struct scenario_fleet *fl = &r->sc.fleet;
	struct record_run_info in;
	struct record_run_group *groups = calloc(fl->n_groups + 1, sizeof(*groups));
	char (*fw)[PATH_MAX + 16] = calloc(fl->n_groups + 1, sizeof(*fw));
	const char **ids = calloc(fl->n_devices + 1, sizeof(*ids));
	uint32_t *dg = calloc(fl->n_devices + 1, sizeof(*dg));
	struct record_run_expectation *ex = calloc(r->engine.n_results + 1, sizeof(*ex));
	size_t n_ids = 0;
	char path[PATH_MAX + 16];
	int rc = -ENOMEM;

	if (!groups || !fw || !ids || !dg || !ex) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < fl->n_groups; i++) {
		groups[i].name = fl->groups[i].name;
		groups[i].firmware = firmware_text(&fl->groups[i], fw[i], sizeof(fw[i]));
	}
	/* A shard's record holds its own devices; merge joins the lists. */
	for (size_t i = 0; i < fl->n_devices; i++) {
		if (!run__owns(r, i))
			continue;
		ids[n_ids] = fl->devices[i].id;
		dg[n_ids++] = fl->devices[i].group;
	}
	for (size_t i = 0; i < r->engine.n_results; i++) {
		const struct engine_result *e = &r->engine.results[i];

		ex[i].name = e->name;
		ex[i].file = r->sc.file;
		ex[i].line = e->pos.line;
		ex[i].passed = e->passed;
		ex[i].message = e->message;
		ex[i].time_s = e->time_s;
		ex[i].at_ms = i < p->n_result_ms ? p->result_ms[i] : 0;
	}
	memset(&in, 0, sizeof(in));
	in.scenario = r->sc.name;
	in.started_ms = p->started_wall_ms;
	in.ended_ms = run__wall_ms();
	in.passed = passed;
	in.groups = groups;
	in.n_groups = fl->n_groups;
	in.device_ids = ids;
	in.device_group = dg;
	in.n_devices = n_ids;
	in.expectations = ex;
	in.n_expectations = r->engine.n_results;
	in.env = p->env;
	in.n_env = p->n_env;
	snprintf(path, sizeof(path), "%s/record.db", r->dir);
	rc = record_write_run_info(path, &in, err, errlen);
out:
	free(groups);
	free(fw);
	free(ids);
	free(dg);
	free(ex);
	return rc;
}

void run__report_finish(struct run *r, struct summary_md *md)
{
	struct summary_md_case *cases;
	char err[PATH_MAX + 256];
	int rc;

	if (!r->report)
		return;
	run__report_tick(r); /* the last decisions' times */
	progress_clear(&r->report->progress);
	if (r->recorder && save_run_info(r, md->passed, err, sizeof(err)) < 0)
		fprintf(stderr, "robofleet: the report's tables were not saved: %s\n", err);
	if (r->recorder && (rc = report_html_write(r->dir, NULL, err, sizeof(err))) < 0)
		fprintf(stderr, "robofleet: no report.html: %s\n", err);
	if (!r->opt->summary_md_path)
		return;
	cases = calloc(r->engine.n_results + 1, sizeof(*cases));
	if (!cases) {
		fprintf(stderr, "robofleet: %s: out of memory\n", r->opt->summary_md_path);
		return;
	}
	for (size_t i = 0; i < r->engine.n_results; i++) {
		const struct engine_result *e = &r->engine.results[i];

		cases[i].name = e->name;
		cases[i].file = r->sc.file;
		cases[i].line = e->pos.line;
		cases[i].passed = e->passed;
		cases[i].message = e->message;
	}
	md->cases = cases;
	md->n_cases = r->engine.n_results;
	md->scenario = r->sc.name;
	md->run_dir = r->dir;
	if ((rc = summary_md_write_file(r->opt->summary_md_path, md)) < 0)
		fprintf(stderr, "robofleet: cannot write %s: %s\n", r->opt->summary_md_path,
			strerror(-rc));
	md->cases = NULL;
	free(cases);
}
