/* report.html's data: one pass over each of the record's tables, folded into per-bin aggregates. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "report_data.h"

const double report_latency_edges[REPORT_LATENCY_BUCKETS - 1] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000,
};

void report_bins_init(struct report_bins *b, int64_t t0_ms, int64_t t1_ms, size_t max)
{
	int64_t span = t1_ms > t0_ms ? t1_ms - t0_ms : 0;
	int64_t width = 1000;

	if (max == 0)
		max = 1;
	/* Whole seconds, wide enough that the run fits in @max bins. */
	while ((size_t)(span / width) + 1 > max)
		width += 1000;
	b->t0_ms = t0_ms;
	b->width_ms = width;
	b->n = (size_t)(span / width) + 1;
}

size_t report_bin_of(const struct report_bins *b, int64_t ms)
{
	if (ms <= b->t0_ms)
		return 0;
	int64_t i = (ms - b->t0_ms) / b->width_ms;
	return (size_t)i >= b->n ? b->n - 1 : (size_t)i;
}

char report_heat_level(double online_ms, double span_ms)
{
	double f = span_ms > 0 ? online_ms / span_ms : 0;

	if (!(f > 0))
		return '0';
	if (f >= 1)
		return '9';
	/* Any time online shows: only a row never online is 0. */
	return (char)('1' + (int)(f * 8.0));
}

size_t report_latency_bucket(double ms)
{
	size_t i = 0;

	while (i < REPORT_LATENCY_BUCKETS - 1 && ms >= report_latency_edges[i])
		i++;
	return i;
}

void report_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
			fprintf(f, "\\u%04x", *p);
		else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			/* U+2028/2029 end a line in older JavaScript. */
			fprintf(f, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
			p += 2;
		} else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* ---- the fold ----------------------------------------------------------------- */

struct dev {
	char *id;
	uint32_t group;         /* UINT32_MAX: not one of the scenario's */
	bool known;             /* one of the scenario's devices */
	bool online;
	int64_t on_since_ms;
	int faults;             /* active faults and power cuts */
};

struct agg {                    /* one metric of one group in one bin */
	uint32_t n;
	float sum, min, max;
};

struct span {
	int64_t t0_ms, t1_ms;
	char kind[16];          /* fault, broker, power, command */
	char label[64];
	uint32_t devices;
};

struct kind_state {
	char name[32];
	uint32_t active;        /* devices with it now */
	uint32_t peak;
	int64_t since_ms;
};

struct account {
	char *id;
	uint32_t group;
	uint64_t taken, recorded, buffered, dropped, lost, redelivered;
};

struct expectation {
	char *name, *file, *message;
	unsigned line;
	bool passed;
	double time_s;
	int64_t at_ms;
};

struct env_point {
	int64_t ms;
	uint32_t group;
	double v[RECORD_METRIC_COUNT];
};

struct group {
	char *name, *firmware;
	uint32_t devices;
	uint64_t readings;
};

struct report_data {
	char name[128];
	int64_t started_ms, ended_ms;
	int passed;             /* 1, 0, -1 not said */
	struct report_bins bins;

	struct group *groups;
	size_t n_groups;
	struct dev *devs;
	size_t n_devs, n_known, cap_devs;
	size_t *table;          /* open addressing: index + 1, 0 empty */
	size_t table_cap;

	int32_t *online_delta;  /* per bin: fleet, then per group */
	int32_t *faulted_delta;
	uint8_t *broker_up;     /* per bin: 1 up, 0 down for part of it */
	uint32_t *readings;     /* per bin */
	uint32_t *commands;     /* per bin */
	struct agg *agg;        /* [group][metric][bin] */
	uint64_t latency[REPORT_LATENCY_BUCKETS];
	uint64_t latency_n;

	struct span spans[REPORT_SPANS_MAX];
	size_t n_spans;
	uint64_t spans_dropped;
	struct kind_state kinds[32];
	size_t n_kinds;
	bool broker_down;
	int64_t broker_down_ms;

	size_t heat_rows, heat_cols, heat_per_row;
	int64_t heat_t0_ms, heat_col_ms;
	double *heat;           /* online ms per cell */

	struct account *accounts;
	size_t n_accounts, cap_accounts;
	struct expectation *exps;
	size_t n_exps, cap_exps;
	struct env_point *env;
	size_t n_env, cap_env;

	int err;                /* the first failure inside a callback */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int rehash(struct report_data *d, size_t cap)
{
	size_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_devs; i++) {
		size_t k = hash(d->devs[i].id) & (cap - 1);
		while (t[k])
			k = (k + 1) & (cap - 1);
		t[k] = i + 1;
	}
	free(d->table);
	d->table = t;
	d->table_cap = cap;
	return 0;
}

/* The device @id, added when new; NULL out of memory. */
static struct dev *dev_get(struct report_data *d, const char *id, bool add)
{
	size_t k;

	if (d->table_cap) {
		for (k = hash(id) & (d->table_cap - 1); d->table[k]; k = (k + 1) & (d->table_cap - 1))
			if (!strcmp(d->devs[d->table[k] - 1].id, id))
				return &d->devs[d->table[k] - 1];
	}
	if (!add)
		return NULL;
	if ((d->n_devs + 1) * 2 > d->table_cap && rehash(d, d->table_cap ? d->table_cap * 2 : 64) < 0)
		return NULL;
	if (grow((void **)&d->devs, &d->cap_devs, d->n_devs + 1, sizeof(*d->devs)) < 0)
		return NULL;
	struct dev *v = &d->devs[d->n_devs];
	memset(v, 0, sizeof(*v));
	v->group = UINT32_MAX;
	if (!(v->id = strdup(id)))
		return NULL;
	for (k = hash(id) & (d->table_cap - 1); d->table[k]; k = (k + 1) & (d->table_cap - 1))
		;
	d->table[k] = ++d->n_devs;
	return v;
}

static char *dup_or_fail(struct report_data *d, const char *s)
{
	char *c = strdup(s ? s : "");

	if (!c)
		d->err = -ENOMEM;
	return c;
}

static void on_group(void *arg, uint32_t idx, const struct record_run_group *g)
{
	struct report_data *d = arg;
	size_t cap = d->n_groups;

	(void)idx;
	if (d->err || grow((void **)&d->groups, &cap, d->n_groups + 1, sizeof(*d->groups)) < 0) {
		d->err = d->err ? d->err : -ENOMEM;
		return;
	}
	/* grow() doubles; keep the exact count in n_groups. */
	memset(&d->groups[d->n_groups], 0, sizeof(*d->groups));
	d->groups[d->n_groups].name = dup_or_fail(d, g->name);
	d->groups[d->n_groups].firmware = dup_or_fail(d, g->firmware);
	d->n_groups++;
}

static void on_device(void *arg, const char *id, uint32_t group)
{
	struct report_data *d = arg;
	struct dev *v;

	if (d->err)
		return;
	if (!(v = dev_get(d, id, true))) {
		d->err = -ENOMEM;
		return;
	}
	v->known = true;
	v->group = group < d->n_groups ? group : UINT32_MAX;
	if (v->group != UINT32_MAX)
		d->groups[v->group].devices++;
	d->n_known = d->n_devs;
}

/* A record without the run's tables: every device it saw, one group. */
static void on_seen(void *arg, const char *id, int64_t last_ms)
{
	struct report_data *d = arg;

	if (last_ms > d->ended_ms)
		d->ended_ms = last_ms;
	on_device(arg, id, 0);
}

static void on_expectation(void *arg, const struct record_run_expectation *e)
{
	struct report_data *d = arg;
	struct expectation *x;

	if (d->err || grow((void **)&d->exps, &d->cap_exps, d->n_exps + 1, sizeof(*d->exps)) < 0) {
		d->err = d->err ? d->err : -ENOMEM;
		return;
	}
	x = &d->exps[d->n_exps++];
	memset(x, 0, sizeof(*x));
	x->name = dup_or_fail(d, e->name);
	x->file = dup_or_fail(d, e->file);
	x->message = dup_or_fail(d, e->message);
	x->line = e->line;
	x->passed = e->passed;
	x->time_s = e->time_s;
	x->at_ms = e->at_ms;
}

static void on_env(void *arg, const struct record_run_env *e)
{
	struct report_data *d = arg;

	if (d->err || grow((void **)&d->env, &d->cap_env, d->n_env + 1, sizeof(*d->env)) < 0) {
		d->err = d->err ? d->err : -ENOMEM;
		return;
	}
	d->env[d->n_env].ms = e->ms;
	d->env[d->n_env].group = e->group;
	memcpy(d->env[d->n_env].v, e->v, sizeof(e->v));
	d->n_env++;
}

/* The first status message, for a record without the run's times. */
static void on_first_status(void *arg, const struct record_status_change *c)
{
	struct report_data *d = arg;

	if (!d->started_ms || c->ms < d->started_ms)
		d->started_ms = c->ms;
}

/* ---- per-bin series ------------------------------------------------------------ */

static int32_t *online_row(struct report_data *d, uint32_t group)
{
	/* Row 0 the fleet, row 1 + g group g. */
	return d->online_delta + (size_t)(group == UINT32_MAX ? 0 : group + 1) * d->bins.n;
}

/* Online time [@from, @to) of heat map row @row. */
static void heat_add(struct report_data *d, size_t row, int64_t from, int64_t to)
{
	if (!d->heat || row >= d->heat_rows || to <= from)
		return;
	for (size_t c = 0; c < d->heat_cols; c++) {
		int64_t a = d->heat_t0_ms + (int64_t)c * d->heat_col_ms, b = a + d->heat_col_ms;
		int64_t lo = from > a ? from : a, hi = to < b ? to : b;

		if (hi > lo)
			d->heat[row * d->heat_cols + c] += (double)(hi - lo);
	}
}

static void set_online(struct report_data *d, struct dev *v, bool online, int64_t ms)
{
	size_t b = report_bin_of(&d->bins, ms), idx = (size_t)(v - d->devs);
	int32_t step = online ? 1 : -1;

	if (v->online == online)
		return;
	v->online = online;
	if (v->known) {
		d->online_delta[b] += step;
		if (v->group != UINT32_MAX)
			online_row(d, v->group)[b] += step;
	}
	if (online)
		v->on_since_ms = ms;
	else if (v->known)
		heat_add(d, idx / d->heat_per_row, v->on_since_ms, ms);
}

static void on_status(void *arg, const struct record_status_change *c)
{
	struct report_data *d = arg;
	struct dev *v = dev_get(d, c->device_id, true);

	if (!v) {
		d->err = -ENOMEM;
		return;
	}
	set_online(d, v, c->online, c->ms);
}

static void span_add(struct report_data *d, const char *kind, const char *label, int64_t t0,
		     int64_t t1, uint32_t devices)
{
	struct span *s;

	if (d->n_spans >= REPORT_SPANS_MAX) {
		d->spans_dropped++;
		return;
	}
	s = &d->spans[d->n_spans++];
	s->t0_ms = t0;
	s->t1_ms = t1 > t0 ? t1 : t0;
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	snprintf(s->label, sizeof(s->label), "%s", label);
	s->devices = devices;
}

static struct kind_state *kind_get(struct report_data *d, const char *name)
{
	for (size_t i = 0; i < d->n_kinds; i++)
		if (!strcmp(d->kinds[i].name, name))
			return &d->kinds[i];
	if (d->n_kinds == sizeof(d->kinds) / sizeof(d->kinds[0]))
		return NULL;
	struct kind_state *k = &d->kinds[d->n_kinds++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	return k;
}

static void broker_mark(struct report_data *d, const char *action, int64_t ms)
{
	bool down = !strcmp(action, "stop") || !strcmp(action, "kill");

	if (down && !d->broker_down) {
		d->broker_down = true;
		d->broker_down_ms = ms;
		return;
	}
	if (!down && d->broker_down && !strcmp(action, "start")) {
		char label[64];

		snprintf(label, sizeof(label), "broker down");
		span_add(d, "broker", label, d->broker_down_ms, ms, 0);
		for (size_t b = report_bin_of(&d->bins, d->broker_down_ms);
		     b <= report_bin_of(&d->bins, ms); b++)
			d->broker_up[b] = 0;
		d->broker_down = false;
		return;
	}
	if (!strcmp(action, "restart")) {
		span_add(d, "broker", "broker restart", ms, ms + 1000, 0);
		d->broker_up[report_bin_of(&d->bins, ms)] = 0;
	}
}

static void on_fault(void *arg, const struct record_fault *f)
{
	struct report_data *d = arg;
	bool on = !strcmp(f->action, "inject") || !strcmp(f->action, "cut");
	bool off = !strcmp(f->action, "clear") || !strcmp(f->action, "restore");
	struct kind_state *k;
	struct dev *v;

	if (!f->device_id) {
		if (!strcmp(f->kind, "broker"))
			broker_mark(d, f->action, f->ms);
		return;
	}
	if (!(on || off) || !(k = kind_get(d, f->kind)))
		return; /* a dashboard command, noted as a fault: the commands table has it */
	if (!(v = dev_get(d, f->device_id, true))) {
		d->err = -ENOMEM;
		return;
	}
	if (on) {
		if (k->active++ == 0) {
			k->since_ms = f->ms;
			k->peak = 0;
		}
		if (k->active > k->peak)
			k->peak = k->active;
		if (v->faults++ == 0 && v->known)
			d->faulted_delta[report_bin_of(&d->bins, f->ms)]++;
		return;
	}
	if (k->active > 0 && --k->active == 0) {
		char label[64];

		snprintf(label, sizeof(label), "%s", k->name);
		span_add(d, !strcmp(k->name, "power") ? "power" : "fault", label, k->since_ms, f->ms,
			 k->peak);
	}
	if (v->faults > 0 && --v->faults == 0 && v->known)
		d->faulted_delta[report_bin_of(&d->bins, f->ms)]--;
}

static void on_command(void *arg, int64_t ms, const char *device_id)
{
	struct report_data *d = arg;

	(void)device_id;
	d->commands[report_bin_of(&d->bins, ms)]++;
}

static void on_reading(void *arg, const struct record_reading *r)
{
	struct report_data *d = arg;
	size_t b = report_bin_of(&d->bins, r->recv_ms);
	struct dev *v;

	d->readings[b]++;
	if (r->has_ts) {
		d->latency[report_latency_bucket((double)(r->recv_ms - r->ts_ms))]++;
		d->latency_n++;
	}
	v = dev_get(d, r->device_id, false);
	if (!v || v->group == UINT32_MAX)
		return;
	d->groups[v->group].readings++;
	for (int m = 0; m < RECORD_METRIC_COUNT; m++) {
		struct agg *a;
		float x = (float)r->v[m];

		if (isnan(r->v[m]))
			continue;
		a = &d->agg[((size_t)v->group * RECORD_METRIC_COUNT + (size_t)m) * d->bins.n + b];
		if (a->n == 0 || x < a->min)
			a->min = x;
		if (a->n == 0 || x > a->max)
			a->max = x;
		a->sum += x;
		a->n++;
	}
}

static void on_account(void *arg, const struct record_device_account *a)
{
	struct report_data *d = arg;
	struct account *x;
	struct dev *v;

	if (d->err || grow((void **)&d->accounts, &d->cap_accounts, d->n_accounts + 1,
			   sizeof(*d->accounts)) < 0) {
		d->err = d->err ? d->err : -ENOMEM;
		return;
	}
	v = dev_get(d, a->device_id, false);
	x = &d->accounts[d->n_accounts++];
	x->id = dup_or_fail(d, a->device_id);
	x->group = v ? v->group : UINT32_MAX;
	x->taken = a->taken;
	x->recorded = a->recorded;
	x->buffered = a->buffered;
	x->dropped = a->dropped;
	x->lost = a->lost;
	x->redelivered = a->redelivered;
}

/* Commands into marked spans: one per run of bins that had any. */
static void command_spans(struct report_data *d)
{
	for (size_t b = 0; b < d->bins.n; b++) {
		size_t e = b;
		uint32_t n = 0;
		char label[64];

		if (!d->commands[b])
			continue;
		while (e < d->bins.n && d->commands[e])
			n += d->commands[e++];
		snprintf(label, sizeof(label), "command x%u", n);
		span_add(d, "command", label, d->bins.t0_ms + (int64_t)b * d->bins.width_ms,
			 d->bins.t0_ms + (int64_t)e * d->bins.width_ms, n);
		b = e;
	}
}

/* What is still going at the end: online devices, active faults, a stopped broker. */
static void close_open(struct report_data *d)
{
	int64_t end = d->bins.t0_ms + (int64_t)d->bins.n * d->bins.width_ms;

	for (size_t i = 0; i < d->n_devs; i++)
		if (d->devs[i].online && d->devs[i].known)
			heat_add(d, i / d->heat_per_row, d->devs[i].on_since_ms, end);
	for (size_t i = 0; i < d->n_kinds; i++)
		if (d->kinds[i].active)
			span_add(d, !strcmp(d->kinds[i].name, "power") ? "power" : "fault",
				 d->kinds[i].name, d->kinds[i].since_ms, end, d->kinds[i].peak);
	if (d->broker_down)
		broker_mark(d, "start", end);
}

static int alloc_series(struct report_data *d)
{
	size_t n = d->bins.n, g = d->n_groups;

	d->online_delta = calloc((g + 1) * n, sizeof(*d->online_delta));
	d->faulted_delta = calloc(n, sizeof(*d->faulted_delta));
	d->broker_up = malloc(n);
	d->readings = calloc(n, sizeof(*d->readings));
	d->commands = calloc(n, sizeof(*d->commands));
	d->agg = calloc((g ? g : 1) * RECORD_METRIC_COUNT * n, sizeof(*d->agg));
	if (!d->online_delta || !d->faulted_delta || !d->broker_up || !d->readings || !d->commands ||
	    !d->agg)
		return -ENOMEM;
	memset(d->broker_up, 1, n);
	/* The heat map: one row per device up to REPORT_STRIP_ROWS_MAX, else rows of several. */
	d->heat_per_row = d->n_known > REPORT_STRIP_ROWS_MAX ?
			  (d->n_known + REPORT_STRIP_ROWS_MAX - 1) / REPORT_STRIP_ROWS_MAX : 1;
	d->heat_rows = d->n_known ? (d->n_known + d->heat_per_row - 1) / d->heat_per_row : 0;
	d->heat_t0_ms = d->bins.t0_ms;
	d->heat_col_ms = d->bins.width_ms;
	d->heat_cols = d->bins.n;
	while (d->heat_cols > REPORT_HEAT_COLS_MAX) {
		d->heat_col_ms += d->bins.width_ms;
		d->heat_cols = (size_t)((int64_t)d->bins.n * d->bins.width_ms / d->heat_col_ms) + 1;
	}
	if (d->heat_rows && !(d->heat = calloc(d->heat_rows * d->heat_cols, sizeof(*d->heat))))
		return -ENOMEM;
	return 0;
}

/* Status and faults come in pages of the dashboard's size, in id order. */
struct pager {
	struct report_data *d;
	void (*status)(void *arg, const struct record_status_change *c);
	void (*fault)(void *arg, const struct record_fault *f);
	int64_t last;
	unsigned seen;
};

static void page_status(void *arg, const struct record_status_change *c)
{
	struct pager *p = arg;

	p->last = c->id;
	p->seen++;
	p->status(p->d, c);
}

static void page_fault(void *arg, const struct record_fault *f)
{
	struct pager *p = arg;

	p->last = f->id;
	p->seen++;
	p->fault(p->d, f);
}

#define PAGE 4096

static int walk_status(struct record *rec, struct report_data *d,
		       void (*fn)(void *, const struct record_status_change *))
{
	struct pager p = { .d = d, .status = fn };
	int rc;

	do {
		p.seen = 0;
		rc = record_status_after(rec, p.last, PAGE, page_status, &p);
	} while (rc == 0 && p.seen == PAGE && !d->err);
	return rc;
}

static int walk_faults(struct record *rec, struct report_data *d)
{
	struct pager p = { .d = d, .fault = on_fault };
	int rc;

	do {
		p.seen = 0;
		rc = record_faults_after(rec, p.last, PAGE, page_fault, &p);
	} while (rc == 0 && p.seen == PAGE && !d->err);
	return rc;
}

int report_data_build(struct record *rec, struct report_data **out, char *err, size_t errlen)
{
	struct report_data *d = calloc(1, sizeof(*d));
	struct record_run_summary rs;
	const char *what = "";
	int rc;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->passed = -1;
	rc = record_run_summary(rec, &rs);
	if (rc == 0) {
		snprintf(d->name, sizeof(d->name), "%s", rs.scenario);
		d->started_ms = rs.started_ms;
		d->ended_ms = rs.ended_ms;
		d->passed = rs.passed;
		what = "the run's groups";
		if ((rc = record_run_groups(rec, on_group, d)) == 0 && !d->err) {
			what = "the run's devices";
			rc = record_run_devices(rec, on_device, d);
		}
		if (rc == 0 && !d->err) {
			what = "the run's expectations";
			rc = record_run_expectations(rec, on_expectation, d);
		}
		if (rc == 0 && !d->err) {
			what = "the run's environment";
			rc = record_run_env(rec, on_env, d);
		}
	} else if (rc == -ENODATA) {
		/* A run that broke off before its end: what the record alone says. */
		struct record_run_group g = { .name = "fleet", .firmware = "robot" };

		on_group(d, 0, &g);
		what = "the devices";
		rc = record_devices_last_seen(rec, on_seen, d);
	}
	if (rc == 0 && !d->err && !d->started_ms) {
		what = "the status messages";
		rc = walk_status(rec, d, on_first_status);
	}
	if (rc == 0 && !d->err) {
		report_bins_init(&d->bins, d->started_ms, d->ended_ms, REPORT_MAX_BINS);
		rc = alloc_series(d);
	}
	if (rc == 0 && !d->err) {
		what = "the status messages";
		rc = walk_status(rec, d, on_status);
	}
	if (rc == 0 && !d->err) {
		what = "the faults";
		rc = walk_faults(rec, d);
	}
	if (rc == 0 && !d->err) {
		what = "the commands";
		rc = record_walk_commands(rec, on_command, d);
	}
	if (rc == 0 && !d->err) {
		what = "the readings";
		rc = record_walk_readings(rec, on_reading, d);
	}
	if (rc == 0 && !d->err) {
		what = "the accounts";
		rc = record_device_accounts(rec, on_account, d);
	}
	if (rc == 0 && d->err)
		rc = d->err;
	if (rc < 0) {
		snprintf(err, errlen, "reading %s: %s", what,
			 rc == -ENOMEM ? "out of memory" : record_error(rec));
		report_data_free(d);
		return rc == -ENOMEM ? rc : -EIO;
	}
	command_spans(d);
	close_open(d);
	*out = d;
	return 0;
}

void report_data_free(struct report_data *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_groups; i++) {
		free(d->groups[i].name);
		free(d->groups[i].firmware);
	}
	for (size_t i = 0; i < d->n_devs; i++)
		free(d->devs[i].id);
	for (size_t i = 0; i < d->n_accounts; i++)
		free(d->accounts[i].id);
	for (size_t i = 0; i < d->n_exps; i++) {
		free(d->exps[i].name);
		free(d->exps[i].file);
		free(d->exps[i].message);
	}
	free(d->groups);
	free(d->devs);
	free(d->table);
	free(d->online_delta);
	free(d->faulted_delta);
	free(d->broker_up);
	free(d->readings);
	free(d->commands);
	free(d->agg);
	free(d->heat);
	free(d->accounts);
	free(d->exps);
	free(d->env);
	free(d);
}

const char *report_data_name(const struct report_data *d)
{
	return d->name;
}

int report_data_passed(const struct report_data *d)
{
	for (size_t i = 0; d->passed < 0 && i < d->n_exps; i++)
		if (!d->exps[i].passed)
			return 0;
	return d->passed;
}

size_t report_data_expectations(const struct report_data *d)
{
	return d->n_exps;
}

void report_data_expectation(const struct report_data *d, size_t i, const char **name,
			     const char **file, unsigned *line, bool *passed, double *at_s,
			     const char **message)
{
	const struct expectation *e = &d->exps[i];

	*name = e->name;
	*file = e->file;
	*line = e->line;
	*passed = e->passed;
	*at_s = e->at_ms ? (double)(e->at_ms - d->bins.t0_ms) / 1000.0 : -1;
	*message = e->message;
}

/* ---- the JSON ------------------------------------------------------------------- */

static void num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.2f", v);
}

/* A running sum of @delta as an array. */
static void cumulative(FILE *f, const int32_t *delta, size_t n)
{
	int64_t v = 0;

	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		v += delta[i];
		fprintf(f, "%s%lld", i ? "," : "", (long long)v);
	}
	fputc(']', f);
}

static void u32s(FILE *f, const uint32_t *a, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", a[i]);
	fputc(']', f);
}

static const char *const metric_names[RECORD_METRIC_COUNT] = { "temperature", "humidity",
							       "distance" };

static void write_group_values(const struct report_data *d, FILE *f, size_t g)
{
	fputs("{\"metrics\":{", f);
	for (int m = 0; m < RECORD_METRIC_COUNT; m++) {
		const struct agg *a = &d->agg[(g * RECORD_METRIC_COUNT + (size_t)m) * d->bins.n];
		static const char *const part[3] = { "min", "mean", "max" };

		fprintf(f, "%s\"%s\":{", m ? "," : "", metric_names[m]);
		for (int p = 0; p < 3; p++) {
			fprintf(f, "%s\"%s\":[", p ? "," : "", part[p]);
			for (size_t b = 0; b < d->bins.n; b++) {
				if (b)
					fputc(',', f);
				if (!a[b].n)
					fputs("null", f);
				else
					num(f, p == 0 ? a[b].min : p == 2 ? a[b].max : a[b].sum / a[b].n);
			}
			fputc(']', f);
		}
		fputc('}', f);
	}
	fputs("},\"env\":[", f);
	bool first = true;
	for (size_t i = 0; i < d->n_env; i++) {
		if (d->env[i].group != g)
			continue;
		fprintf(f, "%s[%lld", first ? "" : ",", (long long)(d->env[i].ms - d->bins.t0_ms));
		for (int m = 0; m < RECORD_METRIC_COUNT; m++) {
			fputc(',', f);
			num(f, d->env[i].v[m]);
		}
		fputc(']', f);
		first = false;
	}
	fputs("],\"online\":", f);
	cumulative(f, d->online_delta + (g + 1) * d->bins.n, d->bins.n);
	fputc('}', f);
}

int report_data_write_json(const struct report_data *d, FILE *f)
{
	fputs("{\"name\":", f);
	report_json_string(f, d->name);
	fprintf(f, ",\"passed\":%d,\"t0\":%lld,\"started\":%lld,\"ended\":%lld,\"bin_ms\":%lld,\"bins\":%zu,"
		"\"devices\":%zu,\n", report_data_passed(d), (long long)d->bins.t0_ms, (long long)d->started_ms,
		(long long)d->ended_ms, (long long)d->bins.width_ms, d->bins.n, d->n_known);
	fputs("\"groups\":[", f);
	for (size_t g = 0; g < d->n_groups; g++) {
		fprintf(f, "%s{\"name\":", g ? "," : "");
		report_json_string(f, d->groups[g].name);
		fputs(",\"firmware\":", f);
		report_json_string(f, d->groups[g].firmware);
		fprintf(f, ",\"devices\":%u,\"readings\":%llu,\"values\":", d->groups[g].devices,
			(unsigned long long)d->groups[g].readings);
		write_group_values(d, f, g);
		fputs("}\n", f);
	}
	fputs("],\n\"expectations\":[", f);
	for (size_t i = 0; i < d->n_exps; i++) {
		const struct expectation *e = &d->exps[i];

		fprintf(f, "%s{\"name\":", i ? "," : "");
		report_json_string(f, e->name);
		fputs(",\"file\":", f);
		report_json_string(f, e->file);
		fprintf(f, ",\"line\":%u,\"passed\":%s,\"time_s\":", e->line, e->passed ? "true" : "false");
		num(f, e->time_s);
		fprintf(f, ",\"at\":%lld,\"message\":", e->at_ms ? (long long)(e->at_ms - d->bins.t0_ms) : -1LL);
		report_json_string(f, e->message);
		fputs("}\n", f);
	}
	fputs("],\n\"timeline\":{\"online\":", f);
	cumulative(f, d->online_delta, d->bins.n);
	fputs(",\"faulted\":", f);
	cumulative(f, d->faulted_delta, d->bins.n);
	fputs(",\"readings\":", f);
	u32s(f, d->readings, d->bins.n);
	fputs(",\"broker\":[", f);
	for (size_t b = 0; b < d->bins.n; b++)
		fprintf(f, "%s%d", b ? "," : "", d->broker_up[b]);
	fputs("]},\n\"spans\":[", f);
	for (size_t i = 0; i < d->n_spans; i++) {
		const struct span *s = &d->spans[i];

		fprintf(f, "%s{\"kind\":\"%s\",\"label\":", i ? "," : "", s->kind);
		report_json_string(f, s->label);
		fprintf(f, ",\"t0\":%lld,\"t1\":%lld,\"devices\":%u}", (long long)(s->t0_ms - d->bins.t0_ms),
			(long long)(s->t1_ms - d->bins.t0_ms), s->devices);
	}
	fprintf(f, "],\"spans_dropped\":%llu,\n\"latency\":{\"n\":%llu,\"edges\":[",
		(unsigned long long)d->spans_dropped, (unsigned long long)d->latency_n);
	for (size_t i = 0; i < REPORT_LATENCY_BUCKETS - 1; i++)
		fprintf(f, "%s%g", i ? "," : "", report_latency_edges[i]);
	fputs("],\"counts\":[", f);
	for (size_t i = 0; i < REPORT_LATENCY_BUCKETS; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)d->latency[i]);
	fprintf(f, "]},\n\"heat\":{\"rows\":%zu,\"cols\":%zu,\"per_row\":%zu,\"col_ms\":%lld,\"labels\":[",
		d->heat_rows, d->heat_cols, d->heat_per_row, (long long)d->heat_col_ms);
	for (size_t r = 0; r < d->heat_rows; r++) {
		size_t last = (r + 1) * d->heat_per_row - 1;

		if (last >= d->n_known)
			last = d->n_known - 1;
		if (r)
			fputc(',', f);
		if (d->heat_per_row == 1) {
			report_json_string(f, d->devs[r].id);
		} else {
			char label[160];

			snprintf(label, sizeof(label), "%.70s..%.70s", d->devs[r * d->heat_per_row].id,
				 d->devs[last].id);
			report_json_string(f, label);
		}
	}
	fputs("],\"cells\":\"", f);
	for (size_t r = 0; r < d->heat_rows; r++) {
		size_t first = r * d->heat_per_row;
		size_t n = first + d->heat_per_row > d->n_known ? d->n_known - first : d->heat_per_row;

		for (size_t c = 0; c < d->heat_cols; c++)
			fputc(report_heat_level(d->heat[r * d->heat_cols + c],
						(double)n * (double)d->heat_col_ms), f);
	}
	fputs("\"},\n\"accounts\":[", f);
	for (size_t i = 0; i < d->n_accounts; i++) {
		const struct account *a = &d->accounts[i];

		fputs(i ? ",\n[" : "[", f);
		report_json_string(f, a->id);
		fprintf(f, ",%d,%llu,%llu,%llu,%llu,%llu,%llu]",
			a->group == UINT32_MAX ? -1 : (int)a->group, (unsigned long long)a->taken,
			(unsigned long long)a->recorded, (unsigned long long)a->lost,
			(unsigned long long)a->redelivered, (unsigned long long)a->dropped,
			(unsigned long long)a->buffered);
	}
	fputs("]}\n", f);
	return ferror(f) ? -EIO : 0;
}
