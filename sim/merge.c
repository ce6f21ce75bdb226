/*
 * `robofleet merge DIR... -o OUT`: the run directories of the shards of
 * one run (`robofleet run --shard I/N`) into one run directory: one record
 * (record_merge.c), one verdict with its JUnit, one summary.json and
 * report.txt, one report.html. A shard that is missing, did not finish or
 * left no record fails the merge, which still combines what there is, so
 * that the user sees the rest. docs/scale-out.md is the user's side.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_in.h"
#include "json_out.h"
#include "junit.h"
#include "merge.h"
#include "record.h"
#include "report_html.h"
#include "scenario.h"

#define SHARD_JSON_MAX (64 * 1024)
#define SUMMARY_JSON_MAX (4 * 1024 * 1024)

/* Read the file at @path whole, NUL-terminated, up to @max bytes. */
static int read_whole(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = -EFBIG;
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = -errno;
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- shard.json ------------------------------------------------------------------ */

int merge_read_shard_json(const char *path, struct shard_info *out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_whole(path, SHARD_JSON_MAX, &text, &len)) < 0) {
		snprintf(err, errlen, "%s: %s", path, rc == -EFBIG ? "larger than a shard.json can be" :
			 rc == -EINVAL ? "not a file" : strerror(-rc));
		return rc;
	}
	rc = shard_json_parse(path, text, len, out, err, errlen);
	free(text);
	return rc;
}

/* ---- summary.json of each shard, and their totals ------------------------------------ */

enum total {
	T_DEVICES, T_ONLINE, T_CRASHES, T_TAKEN, T_PUBLISHED, T_RECORDED, T_BUFFERED, T_LOST,
	T_DUPLICATED, T_REJECTED, T_DROPPED, T_REDELIVERED, T_FAULTS, T_UNSTORED_MESSAGES,
	T_UNSTORED_READINGS, T_LOCK_WAITS, T_IMP_SENT, T_IMP_ACKED, T_IMP_RECORDED, T_COUNT
};

/* Where each figure is in a run's summary.json (run_verdict.c); each is summed over the shards. */
static const struct { const char *obj, *key; } total_at[T_COUNT] = {
	[T_DEVICES] = { NULL, "devices" },
	[T_ONLINE] = { NULL, "online_at_end" },
	[T_CRASHES] = { NULL, "crashes" },
	[T_TAKEN] = { "readings", "taken" },
	[T_PUBLISHED] = { "readings", "published" },
	[T_RECORDED] = { "readings", "recorded" },
	[T_BUFFERED] = { "readings", "buffered_at_end" },
	[T_LOST] = { "readings", "lost" },
	[T_DUPLICATED] = { "readings", "duplicated" },
	[T_REJECTED] = { "readings", "rejected" },
	[T_DROPPED] = { "readings", "dropped_by_outbox" },
	[T_REDELIVERED] = { NULL, "redelivered_stored_once" },
	[T_FAULTS] = { NULL, "faults" },
	[T_UNSTORED_MESSAGES] = { "record", "unstored_messages" },
	[T_UNSTORED_READINGS] = { "record", "unstored_readings" },
	[T_LOCK_WAITS] = { "record", "lock_waits" },
	[T_IMP_SENT] = { "security", "impersonation_sent" },
	[T_IMP_ACKED] = { "security", "impersonation_acked" },
	[T_IMP_RECORDED] = { "security", "impersonation_recorded" },
};

/* A firmware group's figures (summary.json "groups"), summed by name. */
struct group_sum {
	char name[64], firmware[32];
	uint64_t devices, attempted, sent, recorded, lost, not_sent;
	bool complete;
};

struct groups {
	struct group_sum *g;
	size_t n;
};

static int add_group(struct groups *gs, const struct json_value *g)
{
	const struct json_value *name = json_in_get(g, "name"), *fw = json_in_get(g, "firmware");
	struct group_sum *s = NULL;
	uint64_t v;

	if (!name || name->type != JSON_STRING)
		return 0;
	for (size_t i = 0; i < gs->n && !s; i++)
		if (!strcmp(gs->g[i].name, name->text))
			s = &gs->g[i];
	if (!s) {
		struct group_sum *grown = realloc(gs->g, (gs->n + 1) * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		gs->g = grown;
		s = &gs->g[gs->n++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", name->text);
		snprintf(s->firmware, sizeof(s->firmware), "%s",
			 fw && fw->type == JSON_STRING ? fw->text : "robot");
		s->complete = true;
	}
	s->devices += json_in_u64(json_in_get(g, "devices"), &v) ? v : 0;
	s->attempted += json_in_u64(json_in_get(g, "attempted"), &v) ? v : 0;
	s->sent += json_in_u64(json_in_get(g, "sent"), &v) ? v : 0;
	s->recorded += json_in_u64(json_in_get(g, "recorded"), &v) ? v : 0;
	s->lost += json_in_u64(json_in_get(g, "lost_in_network"), &v) ? v : 0;
	s->not_sent += json_in_u64(json_in_get(g, "not_sent"), &v) ? v : 0;
	if (json_in_get(g, "complete") && json_in_get(g, "complete")->type == JSON_BOOL)
		s->complete = s->complete && json_in_get(g, "complete")->boolean;
	return 0;
}

/* What one shard's summary.json says. */
struct shard_summary {
	bool present;                   /* read */
	char why[PATH_MAX + 320];       /* why not */
	uint64_t v[T_COUNT];
	bool completed;                 /* its timeline played to the end */
	bool complete;                  /* its record holds every message its recorder received */
	char record_error[200];
	int64_t lock_wait_max_ms;
	double p50, p99, max;           /* NAN: none */
	char security[32];
};

static void read_summary(const char *dir, struct shard_summary *s, struct groups *gs)
{
	char path[PATH_MAX + 16], *text = NULL;
	const struct json_value *rec, *lat, *sec, *g;
	struct json_value top;
	char why[200] = "";
	long long x;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	s->p50 = s->p99 = s->max = NAN;
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	if ((rc = read_whole(path, SUMMARY_JSON_MAX, &text, &len)) < 0) {
		snprintf(s->why, sizeof(s->why), "%s: %s", path, strerror(-rc));
		return;
	}
	if (json_in_parse(text, len, &top, why, sizeof(why)) < 0 || top.type != JSON_OBJECT) {
		snprintf(s->why, sizeof(s->why), "%s: %s", path, why[0] ? why : "not a JSON object");
		json_in_free(&top);
		free(text);
		return;
	}
	for (int i = 0; i < T_COUNT; i++) {
		const struct json_value *at = total_at[i].obj ? json_in_get(&top, total_at[i].obj) : &top;

		if (!json_in_u64(json_in_get(at, total_at[i].key), &s->v[i]))
			s->v[i] = 0;
	}
	s->completed = json_in_get(&top, "completed") && json_in_get(&top, "completed")->type == JSON_BOOL &&
		       json_in_get(&top, "completed")->boolean;
	rec = json_in_get(&top, "record");
	s->complete = json_in_get(rec, "complete") && json_in_get(rec, "complete")->type == JSON_BOOL &&
		      json_in_get(rec, "complete")->boolean;
	if (json_in_get(rec, "error") && json_in_get(rec, "error")->type == JSON_STRING)
		snprintf(s->record_error, sizeof(s->record_error), "%s", json_in_get(rec, "error")->text);
	if (json_in_int(json_in_get(rec, "lock_wait_max_ms"), LLONG_MIN, LLONG_MAX, &x))
		s->lock_wait_max_ms = x;
	lat = json_in_get(&top, "latency_ms");
	s->p50 = json_in_number(json_in_get(lat, "p50"));
	s->p99 = json_in_number(json_in_get(lat, "p99"));
	s->max = json_in_number(json_in_get(lat, "max"));
	sec = json_in_get(&top, "security");
	snprintf(s->security, sizeof(s->security), "%s",
		 json_in_get(sec, "mode") && json_in_get(sec, "mode")->type == JSON_STRING ? json_in_get(sec, "mode")->text :
		 "none");
	g = json_in_get(&top, "groups");
	for (size_t i = 0; g && g->type == JSON_ARRAY && i < g->n; i++)
		add_group(gs, &g->items[i]);
	s->present = true;
	json_in_free(&top);
	free(text);
}

/* ---- fleet-wide expectations, checked again over the merged record ------------------- */

#define FLEET_BITS (SCENARIO_EXPECT_FLEET_LOST | SCENARIO_EXPECT_FLEET_DUPLICATED)

/*
 * Whether the shards' verdicts put together are the fleet's: a sum of
 * counts meets @c exactly when every part does only if @c admits 0 and no
 * other count (a bound of 0), or every count. Any other bound (at most 5,
 * at least 1) is a question about the sum, which no shard saw.
 */
static bool and_is_exact(const struct scenario_cmp *c)
{
	bool zero = scenario_cmp_holds(c, 0);

	return zero && (!scenario_cmp_holds(c, 1) || !c->has_hi);
}

static bool needs_fleet(const struct scenario_expect *x)
{
	return ((x->what & SCENARIO_EXPECT_FLEET_LOST) && !and_is_exact(&x->fleet_lost)) ||
	       ((x->what & SCENARIO_EXPECT_FLEET_DUPLICATED) && !and_is_exact(&x->fleet_duplicated));
}

static bool has_expect(const struct scenario_step *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (st[i].kind == SCENARIO_STEP_EXPECT ||
		    (st[i].kind == SCENARIO_STEP_REPEAT && has_expect(st[i].repeat.steps,
								      st[i].repeat.n_steps)))
			return true;
	return false;
}

static bool has_fleet_expect(const struct scenario_step *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((st[i].kind == SCENARIO_STEP_EXPECT && needs_fleet(&st[i].expect)) ||
		    (st[i].kind == SCENARIO_STEP_REPEAT && has_fleet_expect(st[i].repeat.steps,
									    st[i].repeat.n_steps)))
			return true;
	return false;
}

static uint32_t max_line(const struct scenario_step *st, size_t n)
{
	uint32_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t l = st[i].kind == SCENARIO_STEP_REPEAT ?
			     max_line(st[i].repeat.steps, st[i].repeat.n_steps) : st[i].pos.line;

		m = l > m ? l : m;
	}
	return m;
}

struct fleet_eval {
	struct record_merge *m;
	const struct scenario *sc;
	bool *selected;
	uint32_t *occ;                  /* per scenario line: its results met so far */
	size_t budget;                  /* the merged record's results not yet met */
	int decided;
	char *err;
	size_t errlen;
};

/* The first shard that failed the expectation for a reason of its devices, not of its share of the sum. */
struct device_failure {
	bool found;
	unsigned shard;
	char message[400];
};

static void note_device_failure(void *arg, const struct record_merge_result *r)
{
	struct device_failure *f = arg;
	size_t failing = 0, of = 0;
	int off = -1;

	if (r->passed || f->found)
		return;
	/* The engine puts a failed fleet predicate first and counts it as one
	 * failing device: "1 of K devices fail; first: the target lost ...". */
	if (sscanf(r->message, "%zu of %zu devices fail; first: %n", &failing, &of, &off) == 2 &&
	    off > 0 && failing == 1 && !strncmp(r->message + off, "the target ", 11))
		return;
	f->found = true;
	f->shard = r->shard;
	snprintf(f->message, sizeof(f->message), "%s", r->message);
}

static int decide(struct fleet_eval *fe, const struct scenario_step *s, uint32_t round,
		  uint32_t occ)
{
	const struct scenario_expect *x = &s->expect;
	/* As the engine picks the target (select_target() in engine.c). */
	uint64_t seed = fe->sc->seed ^ ((uint64_t)round * 0x9e3779b97f4a7c15ull);
	uint64_t lost = 0, dup = 0;
	struct device_failure df = { .found = false };
	char why[300] = "", want[96], message[800];
	int rc = scenario_select(fe->sc, &x->target, seed, fe->selected, NULL);

	if (rc < 0) {
		snprintf(fe->err, fe->errlen, "%s:%u: the target: %s", fe->sc->file, s->pos.line,
			 strerror(-rc));
		return rc;
	}
	for (size_t d = 0; d < fe->sc->fleet.n_devices; d++) {
		uint64_t l, u;

		if (!fe->selected[d])
			continue;
		rc = record_merge_device_loss(fe->m, fe->sc->fleet.devices[d].id, &l, &u);
		if (rc == -ENODATA)
			continue; /* nothing recorded of it: nothing to account for, as in a run */
		if (rc < 0) {
			snprintf(fe->err, fe->errlen, "the merged record: the accounts of %s: %s",
				 fe->sc->fleet.devices[d].id, strerror(-rc));
			return rc;
		}
		lost += l;
		dup += u;
	}
	if ((x->what & SCENARIO_EXPECT_FLEET_LOST) && !scenario_cmp_holds(&x->fleet_lost, (double)lost)) {
		scenario_cmp_format(&x->fleet_lost, want, sizeof(want));
		snprintf(why, sizeof(why), "the target lost %llu readings in all (every shard's "
			 "devices), want %s", (unsigned long long)lost, want);
	} else if ((x->what & SCENARIO_EXPECT_FLEET_DUPLICATED) &&
		   !scenario_cmp_holds(&x->fleet_duplicated, (double)dup)) {
		scenario_cmp_format(&x->fleet_duplicated, want, sizeof(want));
		snprintf(why, sizeof(why), "the target duplicated %llu readings in all (every shard's "
			 "devices), want %s", (unsigned long long)dup, want);
	}
	/* Its per-device predicates are each shard's to judge, as before. */
	if ((x->what & ~FLEET_BITS) &&
	    (rc = record_merge_results(fe->m, s->pos.line, occ, note_device_failure, &df)) < 0) {
		snprintf(fe->err, fe->errlen, "the merged record: the shards' results: %s",
			 strerror(-rc));
		return rc;
	}
	if (why[0] && df.found)
		snprintf(message, sizeof(message), "%s; shard %u: %s", why, df.shard, df.message);
	else if (df.found)
		snprintf(message, sizeof(message), "shard %u: %s", df.shard, df.message);
	else
		snprintf(message, sizeof(message), "%s", why);
	if ((rc = record_merge_decide(fe->m, s->pos.line, occ, !why[0] && !df.found, message)) < 0) {
		snprintf(fe->err, fe->errlen, "the merged record: %s", strerror(-rc));
		return rc;
	}
	fe->decided++;
	return 0;
}

/*
 * The timeline's expect steps in the order the engine met them, each with
 * its place among its line's results and its repeat round. A repeat with no
 * expect in it leaves no result and is skipped; one with some uses up the
 * merged record's results, which ends the walk.
 */
static int walk(struct fleet_eval *fe, const struct scenario_step *st, size_t n, uint32_t round)
{
	for (size_t i = 0; i < n && fe->budget; i++) {
		const struct scenario_step *s = &st[i];
		int rc = 0;

		if (s->kind == SCENARIO_STEP_EXPECT) {
			uint32_t occ = fe->occ[s->pos.line]++;

			fe->budget--;
			if (needs_fleet(&s->expect))
				rc = decide(fe, s, round, occ);
		} else if (s->kind == SCENARIO_STEP_REPEAT &&
			   has_expect(s->repeat.steps, s->repeat.n_steps)) {
			for (uint32_t r = 0; r < s->repeat.times && fe->budget && rc == 0; r++)
				rc = walk(fe, s->repeat.steps, s->repeat.n_steps, round * 1000003u + r + 1);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void count_expectation(void *arg, const struct record_run_expectation *e)
{
	(void)e;
	(*(size_t *)arg)++;
}

int merge_fleet_expectations(struct record_merge *m, const char *path, const char *name,
			     char *err, size_t errlen)
{
	struct scenario sc;
	struct scenario_error serr;
	struct fleet_eval fe = { .m = m, .sc = &sc, .err = err, .errlen = errlen };
	char *text = NULL;
	size_t len;
	int rc;

	memset(&sc, 0, sizeof(sc));
	err[0] = '\0';
	if ((rc = read_whole(path, SCENARIO_FILE_MAX, &text, &len)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if ((rc = scenario_parse_string(name ? name : path, text, len, &sc, &serr)) < 0) {
		snprintf(err, errlen, "%s", serr.message);
		goto out;
	}
	if (!has_fleet_expect(sc.steps, sc.n_steps))
		goto out;
	if ((rc = record_merge_expectations(m, count_expectation, &fe.budget)) < 0) {
		snprintf(err, errlen, "the merged record's expectations: %s", strerror(-rc));
		goto out;
	}
	fe.selected = calloc(sc.fleet.n_devices + 1, sizeof(*fe.selected));
	fe.occ = calloc((size_t)max_line(sc.steps, sc.n_steps) + 1, sizeof(*fe.occ));
	if (!fe.selected || !fe.occ) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = walk(&fe, sc.steps, sc.n_steps, 0);
out:
	free(fe.selected);
	free(fe.occ);
	scenario_free(&sc);
	free(text);
	return rc < 0 ? rc : fe.decided;
}

/* ---- the verdict's cases ------------------------------------------------------------- */

struct cases {
	struct junit_case *c;
	size_t n, cap;
};

__attribute__((format(printf, 6, 7)))
static int add_case(struct cases *cs, const char *classname, double time_s, bool failed,
		    const char *message, const char *name_fmt, ...);
static int add_case(struct cases *cs, const char *classname, double time_s, bool failed,
		    const char *message, const char *name_fmt, ...)
{
	struct junit_case *c;
	va_list ap;
	char *name = NULL, *msg = NULL;
	int n;

	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 32;
		struct junit_case *grown = realloc(cs->c, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		cs->c = grown;
		cs->cap = cap;
	}
	va_start(ap, name_fmt);
	n = vasprintf(&name, name_fmt, ap);
	va_end(ap);
	if (n < 0 || !(msg = strdup(message ? message : ""))) {
		if (n >= 0)
			free(name);
		return -ENOMEM;
	}
	c = &cs->c[cs->n++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->classname = classname;
	c->time_s = time_s;
	c->failed = failed;
	c->message = msg;
	return 0;
}

static void free_cases(struct cases *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free((char *)cs->c[i].name);
		free((char *)cs->c[i].message);
	}
	free(cs->c);
}

static size_t count_failed(const struct cases *cs)
{
	size_t n = 0;

	for (size_t i = 0; i < cs->n; i++)
		n += cs->c[i].failed;
	return n;
}

/* ---- the merge ----------------------------------------------------------------------- */

struct shard {
	const char *dir;
	struct shard_info info;
	char *scenario_text;            /* its scenario.yaml, NULL when it has none */
	size_t scenario_len;
	bool merged;                    /* its record is in the merged one */
	char problem[600];              /* why its case fails; "" when it passes */
	struct shard_summary sum;
};

struct merge {
	const char *out;
	const char *junit;
	bool quiet;
	struct shard *given;            /* as given on the command line */
	size_t n_given;
	struct shard **slot;            /* per index, NULL: not given */
	unsigned count;
	const char *run_id, *scenario;
	struct groups groups;
	struct cases cases;
	char **warnings;
	size_t n_warnings;
	size_t merged;                  /* shards whose record is in the merged one */
	bool complete;                  /* every shard's record whole and merged */
	bool record_ok;                 /* OUT/record.db exists and passed its check */
	bool passed;
};

__attribute__((format(printf, 2, 3)))
static void note_warning(struct merge *g, const char *fmt, ...);
static void note_warning(struct merge *g, const char *fmt, ...)
{
	char **grown = realloc(g->warnings, (g->n_warnings + 1) * sizeof(*grown));
	va_list ap;
	int n;

	if (!grown)
		return;
	g->warnings = grown;
	va_start(ap, fmt);
	n = vasprintf(&g->warnings[g->n_warnings], fmt, ap);
	va_end(ap);
	if (n >= 0) {
		fprintf(stderr, "robofleet merge: warning: %s\n", g->warnings[g->n_warnings]);
		g->n_warnings++;
	}
}

static void usage(FILE *f)
{
	fputs("usage: robofleet merge DIR... -o OUT [--junit FILE] [--quiet]\n"
	      "Combine the run directories of one sharded run (robofleet run --shard I/N, every\n"
	      "I of N) into OUT: one record.db, summary.json, report.txt, report.html and\n"
	      "junit.xml. Exit status: 0 when every shard finished, every expectation held and\n"
	      "every record is complete; 1 when not; 2 for bad usage or input.\n", f);
}

/* OUT is made here, or is an empty directory: a merge never mixes with older files. */
static int make_out(const char *out)
{
	DIR *d;
	struct dirent *e;
	bool empty = true;

	if (mkdir(out, 0755) == 0)
		return 0;
	if (errno != EEXIST) {
		fprintf(stderr, "robofleet merge: %s: %s\n", out, strerror(errno));
		return -1;
	}
	if (!(d = opendir(out))) {
		fprintf(stderr, "robofleet merge: %s exists and is not a directory\n", out);
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty) {
		fprintf(stderr, "robofleet merge: %s exists and is not empty: give a new directory\n", out);
		return -1;
	}
	return 0;
}

/* Every DIR's shard.json, one run's; exit status 2 on any doubt. */
static int read_inputs(struct merge *g)
{
	char path[PATH_MAX + 16], err[PATH_MAX + 300];
	struct shard *first_sc = NULL;

	for (size_t i = 0; i < g->n_given; i++) {
		struct shard *s = &g->given[i];
		struct stat st;
		int rc;

		if (stat(s->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "robofleet merge: %s: not a directory\n", s->dir);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/shard.json", s->dir);
		if ((rc = merge_read_shard_json(path, &s->info, err, sizeof(err))) < 0) {
			fprintf(stderr, "robofleet merge: %s%s\n", err, rc == -ENOENT ?
				" (not a shard's run directory: was it run with --shard I/N?)" : "");
			return -1;
		}
		if (i == 0) {
			g->run_id = s->info.run_id;
			g->scenario = s->info.scenario;
			g->count = s->info.count;
		} else if (strcmp(s->info.run_id, g->run_id) || strcmp(s->info.scenario, g->scenario) ||
			   s->info.count != g->count) {
			fprintf(stderr, "robofleet merge: %s is shard %u of %u of run '%s' (scenario %s), "
				"%s is of %u of run '%s' (scenario %s): not the same run\n", s->dir,
				s->info.index, s->info.count, s->info.run_id, s->info.scenario,
				g->given[0].dir, g->count, g->run_id, g->scenario);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/scenario.yaml", s->dir);
		rc = read_whole(path, SCENARIO_FILE_MAX, &s->scenario_text, &s->scenario_len);
		if (rc < 0 && rc != -ENOENT) {
			fprintf(stderr, "robofleet merge: %s: %s\n", path, strerror(-rc));
			return -1;
		}
		if (!s->scenario_text) {
			note_warning(g, "%s has no scenario.yaml: it cannot be checked to be the same "
				     "scenario as the others'", s->dir);
		} else if (!first_sc) {
			first_sc = s;
		} else if (s->scenario_len != first_sc->scenario_len ||
			   memcmp(s->scenario_text, first_sc->scenario_text, s->scenario_len)) {
			fprintf(stderr, "robofleet merge: %s/scenario.yaml differs from %s/scenario.yaml: "
				"the shards did not play the same scenario\n", s->dir, first_sc->dir);
			return -1;
		}
	}
	if (!(g->slot = calloc(g->count, sizeof(*g->slot)))) {
		fprintf(stderr, "robofleet merge: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < g->n_given; i++) {
		struct shard *s = &g->given[i];

		if (g->slot[s->info.index]) {
			fprintf(stderr, "robofleet merge: %s and %s are both shard %u of %u\n",
				g->slot[s->info.index]->dir, s->dir, s->info.index, g->count);
			return -1;
		}
		g->slot[s->info.index] = s;
	}
	return 0;
}

__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...);
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Each shard's record into the merged one, in index order, and what each shard's directory says. */
static struct record_merge *merge_records(struct merge *g)
{
	struct record_merge *m = NULL;
	char db[PATH_MAX + 16], path[PATH_MAX + 16], err[PATH_MAX + 600];

	snprintf(db, sizeof(db), "%s/record.db", g->out);
	for (unsigned i = 0; i < g->count; i++) {
		struct shard *s = g->slot[i];
		struct stat st;
		int rc;

		if (!s)
			continue;
		if (!s->info.finished)
			append(s->problem, sizeof(s->problem), "did not finish (killed or crashed: "
			       "shard.json says finished: false)");
		else if (s->info.exit_status == 130)
			append(s->problem, sizeof(s->problem), "was interrupted (exit status 130): its "
			       "timeline did not play to the end");
		else if (s->info.exit_status != 0 && s->info.exit_status != 1)
			append(s->problem, sizeof(s->problem), "ended with exit status %d",
			       s->info.exit_status);
		if (s->info.finished)
			read_summary(s->dir, &s->sum, &g->groups);
		/* Whatever it recorded is merged, finished or not: the rest of the
		 * fleet is worth seeing. */
		snprintf(path, sizeof(path), "%s/record.db", s->dir);
		if (stat(path, &st) < 0) {
			append(s->problem, sizeof(s->problem), "%sno record.db in its run directory",
			       s->problem[0] ? "; " : "");
			continue;
		}
		if (!m)
			rc = record_merge_open(db, path, i, &m, err, sizeof(err));
		else
			rc = record_merge_add(m, path, i, err, sizeof(err));
		if (rc < 0) {
			append(s->problem, sizeof(s->problem), "%sits record could not be merged: %s",
			       s->problem[0] ? "; " : "", err);
			continue;
		}
		s->merged = true;
		g->merged++;
	}
	return m;
}

struct first_file {
	char file[PATH_MAX];
};

static void note_file(void *arg, const struct record_run_expectation *e)
{
	struct first_file *f = arg;

	if (!f->file[0] && e->file && e->file[0])
		snprintf(f->file, sizeof(f->file), "%s", e->file);
}

/*
 * The fleet-wide expectations decided over the merged record: the copy
 * of the scenario in OUT first, else under the path the shards read it
 * from (a sketch: or device: path in it is relative to that).
 */
static void recheck_fleet(struct merge *g, struct record_merge *m, const char *scenario_path,
			  const char *text, char *why, size_t whylen)
{
	struct first_file orig = { "" };
	char err[PATH_MAX + 400], err2[PATH_MAX + 400];
	int rc = merge_fleet_expectations(m, scenario_path, NULL, err, sizeof(err)), again;

	if (rc == -EINVAL && record_merge_expectations(m, note_file, &orig) == 0 && orig.file[0]) {
		again = merge_fleet_expectations(m, scenario_path, orig.file, err2, sizeof(err2));
		/* It parses there; what went wrong then is the one to tell. */
		if (again != -EINVAL) {
			rc = again;
			memcpy(err, err2, sizeof(err));
		}
	}
	if (rc >= 0)
		return;
	/* Nothing fleet-wide in it: nothing was left undecided. */
	if (rc == -EINVAL && !strstr(text, "fleet_lost") && !strstr(text, "fleet_duplicated")) {
		note_warning(g, "the scenario does not parse here (%s); it has no fleet-wide "
			     "expectation to check again", err);
		return;
	}
	snprintf(why, whylen, "%s", err);
}

struct expectation_cases {
	struct merge *g;
	int rc;
};

static void expectation_case(void *arg, const struct record_run_expectation *e)
{
	struct expectation_cases *ec = arg;

	if (ec->rc == 0)
		ec->rc = add_case(&ec->g->cases, ec->g->scenario, e->time_s, !e->passed, e->message,
				  "%s", e->name);
}

/* The cases beyond the expectations: shards, their records, their runs. */
static int shard_cases(struct merge *g)
{
	char incomplete[2048] = "", broke[2048] = "";
	uint64_t imp_recorded = 0, imp_sent = 0;
	int rc = 0;

	for (unsigned i = 0; i < g->count && rc == 0; i++) {
		struct shard *s = g->slot[i];

		if (!s) {
			rc = add_case(&g->cases, g->scenario, 0, true, "no run directory given",
				      "shard %u of %u finished", i, g->count);
			fprintf(stderr, "robofleet merge: shard %u of %u: no run directory given\n", i,
				g->count);
			append(incomplete, sizeof(incomplete), "%sshard %u: not given",
			       incomplete[0] ? "; " : "", i);
			continue;
		}
		rc = add_case(&g->cases, g->scenario, 0, s->problem[0] != '\0', s->problem,
			      "shard %u of %u finished", i, g->count);
		if (s->problem[0])
			fprintf(stderr, "robofleet merge: shard %u of %u (%s): %s\n", i, g->count, s->dir,
				s->problem);
		/* The reasons are its own case's; this one says what the record lacks. */
		if (!s->merged)
			append(incomplete, sizeof(incomplete), "%sshard %u: its record is not in the "
			       "merged one", incomplete[0] ? "; " : "", i);
		else if (!s->info.finished)
			append(incomplete, sizeof(incomplete), "%sshard %u: did not finish, its record "
			       "ends where it stopped", incomplete[0] ? "; " : "", i);
		if (!s->info.finished)
			continue;
		if (!s->sum.present)
			append(incomplete, sizeof(incomplete), "%sshard %u: %s", incomplete[0] ? "; " : "",
			       i, s->sum.why);
		else if (!s->sum.complete)
			append(incomplete, sizeof(incomplete), "%sshard %u: its recorder received %llu "
			       "messages (%llu readings) it could not store%s%s", incomplete[0] ? "; " : "",
			       i, (unsigned long long)s->sum.v[T_UNSTORED_MESSAGES],
			       (unsigned long long)s->sum.v[T_UNSTORED_READINGS],
			       s->sum.record_error[0] ? ": " : "", s->sum.record_error);
		if (s->sum.present && (!s->sum.completed || s->sum.v[T_CRASHES]))
			append(broke, sizeof(broke), "%sshard %u: %s%s%llu device crash(es)",
			       broke[0] ? "; " : "", i, s->sum.completed ? "" : "the run broke off",
			       s->sum.completed ? "" : ", ", (unsigned long long)s->sum.v[T_CRASHES]);
		imp_recorded += s->sum.v[T_IMP_RECORDED];
		imp_sent += s->sum.v[T_IMP_SENT];
	}
	/* A verdict never passes over readings a shard's record does not hold. */
	g->complete = incomplete[0] == '\0';
	if (rc == 0)
		rc = add_case(&g->cases, g->scenario, 0, incomplete[0] != '\0', incomplete,
			      "record complete");
	if (rc == 0 && broke[0])
		rc = add_case(&g->cases, g->scenario, 0, true, broke, "run completed without crashes");
	if (rc == 0 && imp_recorded) {
		char why[200];

		snprintf(why, sizeof(why), "%llu of %llu readings published with another robot's "
			 "credentials reached the record", (unsigned long long)imp_recorded,
			 (unsigned long long)imp_sent);
		rc = add_case(&g->cases, g->scenario, 0, true, why, "impersonation refused");
	}
	return rc;
}

/* ---- what the merge writes ------------------------------------------------------------ */


struct out_file {
	FILE *f;
	char part[PATH_MAX + 32], path[PATH_MAX + 32];
};

/* Written beside and renamed into place: no half file under the real name. */
static int open_out_file(const char *dir, const char *name, struct out_file *o)
{
	snprintf(o->part, sizeof(o->part), "%s/.%s.part", dir, name);
	snprintf(o->path, sizeof(o->path), "%s/%s", dir, name);
	if (!(o->f = fopen(o->part, "w"))) {
		fprintf(stderr, "robofleet merge: cannot write %s: %s\n", o->path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int close_out_file(struct out_file *o)
{
	bool ok = fflush(o->f) == 0 && !ferror(o->f);

	if (fclose(o->f) != 0)
		ok = false;
	if (!ok || rename(o->part, o->path) < 0) {
		fprintf(stderr, "robofleet merge: cannot write %s: %s\n", o->path, strerror(errno));
		unlink(o->part);
		return -EIO;
	}
	return 0;
}

/* The totals over the shards that left a summary, and latency. */
struct totals {
	uint64_t v[T_COUNT];
	bool completed;
	int64_t lock_wait_max_ms;
	double shard_p50, shard_p99, shard_max;  /* the largest of the shards' own; NAN: none */
	double p50, p99, max;                    /* over the merged record; NAN: none */
	const char *security;
	size_t finished;
};

static double fmax_nan(double a, double b)
{
	return isnan(a) ? b : isnan(b) ? a : a > b ? a : b;
}

static void add_up(const struct merge *g, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	t->completed = true;
	t->shard_p50 = t->shard_p99 = t->shard_max = t->p50 = t->p99 = t->max = NAN;
	t->security = "none";
	for (unsigned i = 0; i < g->count; i++) {
		const struct shard *s = g->slot[i];

		/* A shard missing or cut short leaves the whole incomplete. */
		if (!s || !s->info.finished || !s->sum.present) {
			t->completed = false;
			continue;
		}
		t->finished++;
		for (int k = 0; k < T_COUNT; k++)
			t->v[k] += s->sum.v[k];
		t->completed = t->completed && s->sum.completed;
		if (s->sum.lock_wait_max_ms > t->lock_wait_max_ms)
			t->lock_wait_max_ms = s->sum.lock_wait_max_ms;
		t->shard_p50 = fmax_nan(t->shard_p50, s->sum.p50);
		t->shard_p99 = fmax_nan(t->shard_p99, s->sum.p99);
		t->shard_max = fmax_nan(t->shard_max, s->sum.max);
		t->security = s->sum.security;
	}
}

/* Each group's devices as the merged record lists them (run_groups, run_devices). */
struct fleet_groups {
	char (*name)[64];
	uint64_t *devices;
	size_t n;
};

static void note_group(void *arg, uint32_t idx, const struct record_run_group *gr)
{
	struct fleet_groups *fg = arg;

	if (idx >= SCENARIO_GROUPS_MAX)
		return;
	if (idx >= fg->n) {
		char (*name)[64] = realloc(fg->name, (idx + 1) * sizeof(*name));
		uint64_t *devices = name ? realloc(fg->devices, (idx + 1) * sizeof(*devices)) : NULL;

		if (name)
			fg->name = name;
		if (!devices)
			return;
		fg->devices = devices;
		for (size_t i = fg->n; i <= idx; i++) {
			fg->name[i][0] = '\0';
			fg->devices[i] = 0;
		}
		fg->n = idx + 1;
	}
	snprintf(fg->name[idx], sizeof(fg->name[idx]), "%s", gr->name);
}

static void count_device(void *arg, const char *id, uint32_t group)
{
	struct fleet_groups *fg = arg;

	(void)id;
	if (group < fg->n)
		fg->devices[group]++;
}

/*
 * What the merged record answers better than the shards' summaries. The
 * latency over every reading of the fleet: the record holds them all,
 * each with its device time and its receipt on the same shard's machine,
 * so the percentiles are the fleet's, not a bound from the shards' own.
 * And how many devices each group has: a shard may count its group's
 * devices whole where its readings are its own devices'.
 */
static void read_merged(struct merge *g, struct totals *t)
{
	char path[PATH_MAX + 16], err[300];
	struct fleet_groups fg = { NULL, NULL, 0 };
	struct record *rec = NULL;
	uint64_t timed = 0;

	if (!g->record_ok)
		return;
	snprintf(path, sizeof(path), "%s/record.db", g->out);
	if (record_open(path, 5000, &rec, err, sizeof(err)) < 0)
		return;
	if (record_count_timed_readings(rec, &timed) == 0 && timed) {
		t->p50 = record_latency_at(rec, timed, 0.50);
		t->p99 = record_latency_at(rec, timed, 0.99);
		t->max = record_latency_at(rec, timed, 1.0);
	}
	if (record_run_groups(rec, note_group, &fg) == 0 &&
	    record_run_devices(rec, count_device, &fg) == 0) {
		for (size_t i = 0; i < g->groups.n; i++)
			for (size_t k = 0; k < fg.n; k++)
				if (!strcmp(g->groups.g[i].name, fg.name[k]))
					g->groups.g[i].devices = fg.devices[k];
	}
	free(fg.name);
	free(fg.devices);
	record_close(rec);
}

static void json_latency(FILE *f, double p50, double p99, double max)
{
	if (isnan(p50) || isnan(p99) || isnan(max))
		fputs("null", f);
	else
		fprintf(f, "{\"p50\": %.0f, \"p99\": %.0f, \"max\": %.0f}", p50, p99, max);
}

static int write_summary(const struct merge *g, const struct totals *t)
{
	struct out_file o;
	FILE *f;
	bool from_record = !isnan(t->p50);

	if (open_out_file(g->out, "summary.json", &o) < 0)
		return -EIO;
	f = o.f;
	fputs("{\n  \"scenario\": ", f);
	json_out_string(f, g->scenario);
	fputs(",\n  \"run_dir\": ", f);
	json_out_string(f, g->out);
	fputs(",\n  \"run_id\": ", f);
	json_out_string(f, g->run_id);
	fprintf(f, ",\n  \"completed\": %s,\n", t->completed ? "true" : "false");
	fprintf(f, "  \"devices\": %llu,\n  \"online_at_end\": %llu,\n  \"crashes\": %llu,\n",
		(unsigned long long)t->v[T_DEVICES], (unsigned long long)t->v[T_ONLINE],
		(unsigned long long)t->v[T_CRASHES]);
	fprintf(f, "  \"readings\": {\"taken\": %llu, \"published\": %llu, \"recorded\": %llu, "
		"\"buffered_at_end\": %llu, \"lost\": %llu, \"duplicated\": %llu, \"rejected\": %llu, "
		"\"dropped_by_outbox\": %llu},\n",
		(unsigned long long)t->v[T_TAKEN], (unsigned long long)t->v[T_PUBLISHED],
		(unsigned long long)t->v[T_RECORDED], (unsigned long long)t->v[T_BUFFERED],
		(unsigned long long)t->v[T_LOST], (unsigned long long)t->v[T_DUPLICATED],
		(unsigned long long)t->v[T_REJECTED], (unsigned long long)t->v[T_DROPPED]);
	fprintf(f, "  \"record\": {\"complete\": %s, \"unstored_messages\": %llu, "
		"\"unstored_readings\": %llu, \"lock_waits\": %llu, \"lock_wait_max_ms\": %lld},\n",
		g->complete && g->record_ok ? "true" : "false",
		(unsigned long long)t->v[T_UNSTORED_MESSAGES],
		(unsigned long long)t->v[T_UNSTORED_READINGS], (unsigned long long)t->v[T_LOCK_WAITS],
		(long long)t->lock_wait_max_ms);
	fputs("  \"groups\": [", f);
	for (size_t i = 0; i < g->groups.n; i++) {
		const struct group_sum *s = &g->groups.g[i];

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_out_string(f, s->name);
		fputs(", \"firmware\": ", f);
		json_out_string(f, s->firmware);
		fprintf(f, ", \"devices\": %llu, \"attempted\": %llu, \"sent\": %llu, \"recorded\": %llu, "
			"\"lost_in_network\": %llu, \"not_sent\": %llu, \"complete\": %s}",
			(unsigned long long)s->devices, (unsigned long long)s->attempted,
			(unsigned long long)s->sent, (unsigned long long)s->recorded,
			(unsigned long long)s->lost, (unsigned long long)s->not_sent,
			s->complete ? "true" : "false");
	}
	fputs("\n  ],\n", f);
	fprintf(f, "  \"redelivered_stored_once\": %llu,\n  \"faults\": %llu,\n",
		(unsigned long long)t->v[T_REDELIVERED], (unsigned long long)t->v[T_FAULTS]);
	fputs("  \"security\": {\"mode\": ", f);
	json_out_string(f, t->security);
	fprintf(f, ", \"impersonation_sent\": %llu, \"impersonation_acked\": %llu, "
		"\"impersonation_recorded\": %llu},\n", (unsigned long long)t->v[T_IMP_SENT],
		(unsigned long long)t->v[T_IMP_ACKED], (unsigned long long)t->v[T_IMP_RECORDED]);
	fputs("  \"latency_ms\": ", f);
	if (from_record)
		json_latency(f, t->p50, t->p99, t->max);
	else
		json_latency(f, t->shard_p50, t->shard_p99, t->shard_max);
	fputs(",\n  \"latency_ms_shard_max\": ", f);
	json_latency(f, t->shard_p50, t->shard_p99, t->shard_max);
	fprintf(f, ",\n  \"latency_from\": \"%s\",\n", from_record ?
		"merged record: percentiles over every shard's readings" :
		"shards: p50, p99 and max are the largest of the shards' own (the merged record "
		"had no timed reading to read)");
	fputs("  \"shards\": [", f);
	for (unsigned i = 0; i < g->count; i++) {
		const struct shard *s = g->slot[i];

		fprintf(f, "%s\n    {\"index\": %u, \"dir\": ", i ? "," : "", i);
		json_out_string(f, s ? s->dir : NULL);
		if (s)
			fprintf(f, ", \"finished\": %s, \"exit_status\": %d, \"devices\": %llu, "
				"\"merged\": %s, \"problem\": ", s->info.finished ? "true" : "false",
				s->info.exit_status, (unsigned long long)s->info.devices,
				s->merged ? "true" : "false");
		else
			fputs(", \"finished\": false, \"exit_status\": null, \"devices\": null, "
			      "\"merged\": false, \"problem\": ", f);
		json_out_string(f, s ? (s->problem[0] ? s->problem : NULL) : "no run directory given");
		fputc('}', f);
	}
	fputs("\n  ],\n", f);
	fprintf(f, "  \"expectations\": {\"passed\": %zu, \"failed\": %zu},\n",
		g->cases.n - count_failed(&g->cases), count_failed(&g->cases));
	fprintf(f, "  \"passed\": %s\n}\n", g->passed ? "true" : "false");
	return close_out_file(&o);
}

static void print_verdict(FILE *out, const struct merge *g, const struct totals *t)
{
	for (size_t i = 0; i < g->cases.n; i++) {
		const struct junit_case *c = &g->cases.c[i];

		fprintf(out, "%s %s%s%s\n", c->failed ? "FAIL" : "PASS", c->name, c->failed ? ": " : "",
			c->failed ? c->message : "");
	}
	fprintf(out, "\nshards %zu of %u merged (run %s)\n", g->merged, g->count, g->run_id);
	fprintf(out, "devices %llu, online at end %llu, crashes %llu\n",
		(unsigned long long)t->v[T_DEVICES], (unsigned long long)t->v[T_ONLINE],
		(unsigned long long)t->v[T_CRASHES]);
	fprintf(out, "readings taken %llu, published %llu, recorded %llu, still buffered %llu, "
		"lost %llu\n", (unsigned long long)t->v[T_TAKEN], (unsigned long long)t->v[T_PUBLISHED],
		(unsigned long long)t->v[T_RECORDED], (unsigned long long)t->v[T_BUFFERED],
		(unsigned long long)t->v[T_LOST]);
	for (size_t i = 0; g->groups.n > 1 && i < g->groups.n; i++) {
		const struct group_sum *s = &g->groups.g[i];

		fprintf(out, "group %s (%s, %llu): attempted %llu, sent %llu, recorded %llu, lost in "
			"the network %llu, not sent by the firmware %llu%s\n", s->name, s->firmware,
			(unsigned long long)s->devices, (unsigned long long)s->attempted,
			(unsigned long long)s->sent, (unsigned long long)s->recorded,
			(unsigned long long)s->lost, (unsigned long long)s->not_sent,
			s->complete ? "" : " (incomplete)");
	}
	fprintf(out, "redelivered (stored once) %llu, rejected %llu\n",
		(unsigned long long)t->v[T_REDELIVERED], (unsigned long long)t->v[T_REJECTED]);
	if (t->v[T_DROPPED] || t->v[T_FAULTS])
		fprintf(out, "faults applied %llu; readings dropped by full outboxes %llu\n",
			(unsigned long long)t->v[T_FAULTS], (unsigned long long)t->v[T_DROPPED]);
	if (!isnan(t->p50))
		fprintf(out, "latency device->record p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", t->p50,
			t->p99, t->max);
	else if (!isnan(t->shard_p50))
		fprintf(out, "latency device->record, the largest of the shards': p50 %.0f ms, p99 "
			"%.0f ms, max %.0f ms\n", t->shard_p50, t->shard_p99, t->shard_max);
	fprintf(out, "expectations %zu passed, %zu failed\n", g->cases.n - count_failed(&g->cases),
		count_failed(&g->cases));
	fprintf(out, "run directory %s\n", g->out);
}

static int write_merge_json(const struct merge *g, int status)
{
	struct out_file o;
	FILE *f;
	bool any = false;

	if (open_out_file(g->out, "merge.json", &o) < 0)
		return -EIO;
	f = o.f;
	fputs("{\n  \"run_id\": ", f);
	json_out_string(f, g->run_id);
	fputs(",\n  \"scenario\": ", f);
	json_out_string(f, g->scenario);
	fprintf(f, ",\n  \"count\": %u,\n  \"output\": ", g->count);
	json_out_string(f, g->out);
	fputs(",\n  \"inputs\": [", f);
	for (size_t i = 0; i < g->n_given; i++) {
		const struct shard *s = &g->given[i];

		fprintf(f, "%s\n    {\"index\": %u, \"dir\": ", i ? "," : "", s->info.index);
		json_out_string(f, s->dir);
		fprintf(f, ", \"finished\": %s, \"exit_status\": %d, \"devices\": %llu, "
			"\"started_ms\": %lld, \"record_merged\": %s, \"problem\": ",
			s->info.finished ? "true" : "false", s->info.exit_status,
			(unsigned long long)s->info.devices, (long long)s->info.started_ms,
			s->merged ? "true" : "false");
		json_out_string(f, s->problem[0] ? s->problem : NULL);
		fputc('}', f);
	}
	fputs("\n  ],\n  \"missing\": [", f);
	for (unsigned i = 0; i < g->count; i++) {
		if (g->slot[i])
			continue;
		fprintf(f, "%s%u", any ? ", " : "", i);
		any = true;
	}
	fputs("],\n  \"warnings\": [", f);
	for (size_t i = 0; i < g->n_warnings; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_out_string(f, g->warnings[i]);
	}
	fprintf(f, "%s],\n  \"passed\": %s,\n  \"exit_status\": %d\n}\n", g->n_warnings ? "\n  " : "",
		g->passed ? "true" : "false", status);
	return close_out_file(&o);
}

/* The scenario the shards played, from the lowest that kept a copy. */
static const struct shard *scenario_source(const struct merge *g)
{
	for (unsigned i = 0; i < g->count; i++)
		if (g->slot[i] && g->slot[i]->scenario_text)
			return g->slot[i];
	return NULL;
}

static int copy_scenario(const struct merge *g, char *path, size_t len)
{
	const struct shard *src = scenario_source(g);
	struct out_file o;

	if (!src)
		return -ENOENT;
	if (open_out_file(g->out, "scenario.yaml", &o) < 0)
		return -EIO;
	fwrite(src->scenario_text, 1, src->scenario_len, o.f);
	snprintf(path, len, "%s", o.path);
	return close_out_file(&o);
}

/* Every warning of the record's merge, one per line. */
static void take_record_warnings(struct merge *g, const struct record_merge *m)
{
	const char *w = record_merge_warnings(m);

	while (*w) {
		const char *nl = strchr(w, '\n');
		size_t len = nl ? (size_t)(nl - w) : strlen(w);

		note_warning(g, "%.*s", (int)len, w);
		w += len + (nl ? 1 : 0);
	}
}

static int parse_args(struct merge *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "junit", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* 0: a full restart of getopt, whose permutation keeps state between calls. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:q", opts, NULL)) != -1) {
		switch (c) {
		case 'o': g->out = optarg; break;
		case 'j': g->junit = optarg; break;
		case 'q': g->quiet = true; break;
		case 'h': usage(stdout); return 1;
		case ':':
			fprintf(stderr, "robofleet merge: %s needs a value\n", argv[optind - 1]);
			usage(stderr);
			return -1;
		default:
			fprintf(stderr, "robofleet merge: bad option %s\n", argv[optind - 1]);
			usage(stderr);
			return -1;
		}
	}
	if (!g->out || optind >= argc) {
		fprintf(stderr, "robofleet merge: %s\n", !g->out ? "-o OUT is required" :
			"no shard run directory given");
		usage(stderr);
		return -1;
	}
	g->n_given = (size_t)(argc - optind);
	if (!(g->given = calloc(g->n_given, sizeof(*g->given)))) {
		fprintf(stderr, "robofleet merge: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < g->n_given; i++)
		g->given[i].dir = argv[optind + (int)i];
	return 0;
}

int merge_main(int argc, char **argv)
{
	struct merge g;
	struct record_merge *m = NULL;
	struct expectation_cases ec = { .g = &g, .rc = 0 };
	struct totals t;
	struct out_file o;
	char scenario_path[PATH_MAX + 32] = "", err[PATH_MAX + 600], junit[PATH_MAX + 16];
	char fleet_why[PATH_MAX + 400] = "";
	double total_s = 0;
	int rc, status = 2;

	memset(&g, 0, sizeof(g));
	if ((rc = parse_args(&g, argc, argv)) != 0) {
		status = rc > 0 ? 0 : 2;
		goto out;
	}
	if (read_inputs(&g) < 0 || make_out(g.out) < 0)
		goto out;
	status = 1;
	m = merge_records(&g);
	take_record_warnings(&g, m);
	rc = copy_scenario(&g, scenario_path, sizeof(scenario_path));
	if (m && rc == 0)
		recheck_fleet(&g, m, scenario_path, scenario_source(&g)->scenario_text, fleet_why,
			      sizeof(fleet_why));
	else if (m)
		snprintf(fleet_why, sizeof(fleet_why), rc == -ENOENT ? "no shard's run directory "
			 "holds scenario.yaml" : "the scenario's copy could not be written into OUT");
	/* The expectations first, in the scenario's order, as a run lists them. */
	if (m && (rc = record_merge_expectations(m, expectation_case, &ec)) < 0) {
		snprintf(err, sizeof(err), "%s", strerror(-rc));
		if (add_case(&g.cases, g.scenario, 0, true, err, "merged record intact") < 0)
			goto oom;
	}
	if (ec.rc < 0)
		goto oom;
	if (fleet_why[0] && add_case(&g.cases, g.scenario, 0, true, fleet_why,
				     "fleet-wide expectations checked over the merged record") < 0)
		goto oom;
	if (shard_cases(&g) < 0)
		goto oom;
	/* The cases so far decide; the record's own check may still fail it. */
	if (m) {
		g.passed = count_failed(&g.cases) == 0;
		if ((rc = record_merge_finish(m, g.scenario, g.passed, err, sizeof(err))) < 0) {
			fprintf(stderr, "robofleet merge: the merged record is not sound: %s\n", err);
			if (add_case(&g.cases, g.scenario, 0, true, err, "merged record intact") < 0)
				goto oom;
		} else {
			g.record_ok = true;
		}
	} else if (add_case(&g.cases, g.scenario, 0, true, "no shard left a record that could be "
			    "read", "merged record intact") < 0) {
		goto oom;
	}
	g.passed = count_failed(&g.cases) == 0;
	status = g.passed ? 0 : 1;
	add_up(&g, &t);
	/* The merge's connection stays open until the end: the last to close,
	 * it folds the WAL the readers below made into record.db. */
	read_merged(&g, &t);
	write_summary(&g, &t);
	for (size_t i = 0; i < g.cases.n; i++)
		total_s += g.cases.c[i].time_s;
	snprintf(junit, sizeof(junit), "%s/junit.xml", g.out);
	if (junit_write(junit, g.scenario, g.cases.c, g.cases.n, total_s) < 0)
		fprintf(stderr, "robofleet merge: cannot write %s\n", junit);
	if (g.junit && junit_write(g.junit, g.scenario, g.cases.c, g.cases.n, total_s) < 0)
		fprintf(stderr, "robofleet merge: cannot write %s\n", g.junit);
	if (open_out_file(g.out, "report.txt", &o) == 0) {
		print_verdict(o.f, &g, &t);
		close_out_file(&o);
	}
	write_merge_json(&g, status);
	/* The page as `robofleet report` builds it, from the merged record and summary. */
	if (g.record_ok && report_html_write(g.out, NULL, err, sizeof(err)) < 0)
		fprintf(stderr, "robofleet merge: no report.html: %s\n", err);
	if (!g.quiet)
		print_verdict(stdout, &g, &t);
	goto out;
oom:
	fprintf(stderr, "robofleet merge: out of memory\n");
	status = 2;
out:
	record_merge_close(m);
	for (size_t i = 0; i < g.n_given; i++)
		free(g.given[i].scenario_text);
	for (size_t i = 0; i < g.n_warnings; i++)
		free(g.warnings[i]);
	free(g.warnings);
	free(g.given);
	free(g.slot);
	free(g.groups.g);
	free_cases(&g.cases);
	return status;
}
