/* The dashboard's reader: world slots into the model, the record into rates and events. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault_catalog.h"
#include "source.h"

int64_t tui_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct tui_model *sort_model;

static int cmp_id(const void *a, const void *b)
{
	return strcmp(sort_model->dev[*(const size_t *)a].id, sort_model->dev[*(const size_t *)b].id);
}

static void open_db(struct tui_source *s)
{
	char path[4200], err[200];

	if (s->rec)
		return;
	snprintf(path, sizeof(path), "%s/record.db", s->dir);
	if (access(path, R_OK) < 0)
		return;
	/* A short wait: a locked record is read on the next refresh. */
	if (record_open(path, 50, &s->rec, err, sizeof(err)) < 0)
		return;
	if (record_check_schema(s->rec) < 0) {
		/* Schema not there yet: try again on the next refresh. */
		record_close(s->rec);
		s->rec = NULL;
	}
}

int tui_source_open(struct tui_source *s, const char *dir, struct tui_model *m)
{
	char path[4200];
	int rc;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/world", dir);
	if ((rc = world_open(path, &s->world)) < 0)
		return rc;
	if ((rc = tui_model_init(m, s->world.hdr->slot_count)) < 0)
		goto fail;
	s->by_id = calloc(m->n_dev ? m->n_dev : 1, sizeof(*s->by_id));
	s->was_alive = calloc(m->n_dev ? m->n_dev : 1, sizeof(*s->was_alive));
	if (!s->by_id || !s->was_alive) {
		rc = -ENOMEM;
		goto fail;
	}
	snprintf(m->hdr.run_name, sizeof(m->hdr.run_name), "%.63s", s->world.hdr->run_name);
	for (size_t i = 0; i < m->n_dev; i++) {
		snprintf(m->dev[i].id, sizeof(m->dev[i].id), "%s", world_get_slot(&s->world, (uint32_t)i)->device_id);
		s->by_id[i] = i;
	}
	sort_model = m;
	qsort(s->by_id, m->n_dev, sizeof(*s->by_id), cmp_id);
	sort_model = NULL;
	open_db(s);
	return 0;
fail:
	tui_source_close(s);
	tui_model_free(m);
	return rc;
}

void tui_source_close(struct tui_source *s)
{
	record_close(s->rec);
	s->rec = NULL;
	if (s->world.hdr)
		world_close(&s->world);
	free(s->by_id);
	free(s->was_alive);
	s->by_id = NULL;
	s->was_alive = NULL;
}

static bool pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static long find_dev(const struct tui_source *s, const struct tui_model *m, const char *id)
{
	size_t lo = 0, hi = m->n_dev;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->dev[s->by_id[mid]].id, id);
		if (c == 0)
			return (long)s->by_id[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void read_slots(struct tui_source *s, struct tui_model *m, bool check_pids)
{
	for (size_t i = 0; i < m->n_dev; i++) {
		struct world_slot *slot = world_get_slot(&s->world, (uint32_t)i);
		struct tui_device *d = &m->dev[i];
		struct world_report rep;
		struct world_faults wf;
		bool reported = world_read_report(slot, &rep) == 0 && rep.updated_ms != 0;
		uint32_t power = atomic_load(&slot->power);

		memset(&wf, 0, sizeof(wf));
		(void)world_read_faults(slot, &wf);
		d->fault_mask = 0;
		for (int k = 0; k < FAULT_KIND_COUNT; k++)
			if (fault_catalog_active(&wf, k))
				d->fault_mask |= 1u << k;
		d->link_mode = wf.link_mode;
		d->weak = wf.weak_loss_ppm || wf.weak_latency_ms || wf.weak_rssi_dbm;
		/* kill(0) for every device costs a syscall each: once a second. */
		if (check_pids)
			d->alive = pid_alive(atomic_load(&slot->pid));
		if (reported) {
			d->robot_state = rep.state;
			d->temp_ok = rep.counters.readings_ok && rep.climate_err == 0;
			d->dist_ok = rep.counters.readings_ok && rep.distance_err == 0;
			d->temp_dc = rep.temp_dc;
			d->humidity_dpct = rep.humidity_dpct;
			d->distance_mm = rep.distance_mm;
			d->published = rep.counters.published;
			d->acknowledged = rep.counters.acknowledged;
			d->buffered = rep.counters.buffered;
			d->reconnects = rep.counters.reconnects;
		}
		d->state = tui_state_of(power, reported, &rep, d->fault_mask, d->alive);
		if (check_pids) {
			if (s->started && s->was_alive[i] && !d->alive && power == WORLD_POWER_ON) {
				char text[96];
				snprintf(text, sizeof(text), "%s: process ended without a power cut", d->id);
				tui_event_add(m, m->hdr.now_ms, TUI_EV_CRASH, text);
			}
			s->was_alive[i] = d->alive;
		}
	}
}

static void read_rate(struct tui_source *s, struct tui_model *m)
{
	uint64_t stored;
	int64_t n, now = m->hdr.now_ms;

	record_count_messages(s->rec, &stored);
	n = (int64_t)stored;

	if (s->msgs_ms && now > s->msgs_ms) {
		m->hdr.msgs_per_s = (double)(n - s->msgs) * 1000.0 / (double)(now - s->msgs_ms);
		if (m->hdr.n_rate == TUI_RATE_HISTORY) {
			memmove(m->hdr.rate, m->hdr.rate + 1, sizeof(m->hdr.rate) - sizeof(m->hdr.rate[0]));
			m->hdr.n_rate--;
		}
		m->hdr.rate[m->hdr.n_rate++] = m->hdr.msgs_per_s;
	}
	s->msgs = n;
	s->msgs_ms = now;
}

/* A record row and the dashboard it goes into. */
struct tui_source__rows {
	struct tui_source *s;
	struct tui_model *m;
	size_t online, offline, shown;
	int64_t last_ms;
};

static void tui_source__last_seen(void *arg, const char *id, int64_t last_ms)
{
	struct tui_source__rows *r = arg;
	long i = find_dev(r->s, r->m, id);

	if (i >= 0)
		r->m->dev[i].last_ms = last_ms;
}

static void read_devices(struct tui_source *s, struct tui_model *m)
{
	struct tui_source__rows r = { .s = s, .m = m };
	struct record_totals t;

	record_devices_last_seen(s->rec, tui_source__last_seen, &r);
	if (record_accounting_totals(s->rec, &t) == 0) {
		m->hdr.lost = t.lost;
		m->hdr.duplicated = t.duplicates;
	}
}

static void tui_source__fault_event(void *arg, const struct record_fault *f)
{
	struct tui_source__rows *r = arg;
	char text[160];

	r->s->fault_id = f->id;
	snprintf(text, sizeof(text), "%s %s %s (%s) %s", f->device_id ? f->device_id : "broker",
		 f->kind, f->action, f->source, f->detail ? f->detail : "");
	tui_event_add(r->m, f->ms, TUI_EV_FAULT, text);
}

static void tui_source__alert_event(void *arg, const struct record_alert *a)
{
	struct tui_source__rows *r = arg;
	char text[160], value[48] = "";

	r->s->alert_id = a->id;
	if (a->metric && !isnan(a->value))
		snprintf(value, sizeof(value), " %s %g (threshold %g)", a->metric, a->value,
			 a->threshold);
	snprintf(text, sizeof(text), "%s alert %s %s%s, %lld ms after the crossing", a->device_id,
		 a->rule, a->state, value, (long long)a->latency_ms);
	tui_event_add(r->m, a->ms, TUI_EV_ALERT, text);
}

static void tui_source__status_event(void *arg, const struct record_status_change *c)
{
	struct tui_source__rows *r = arg;
	char text[160];

	r->s->status_id = c->id;
	r->last_ms = c->ms;
	c->online ? r->online++ : r->offline++;
	/* A fleet coming up is one line, not a thousand. */
	if (r->shown++ < 8) {
		snprintf(text, sizeof(text), "%s %s", c->device_id, c->online ? "online" : "offline");
		tui_event_add(r->m, r->last_ms, TUI_EV_STATUS, text);
	}
}

static void read_events(struct tui_source *s, struct tui_model *m)
{
	struct tui_source__rows r = { .s = s, .m = m };
	char text[160];

	record_faults_after(s->rec, s->fault_id, 500, tui_source__fault_event, &r);
	record_alerts_after(s->rec, s->alert_id, 500, tui_source__alert_event, &r);
	record_status_after(s->rec, s->status_id, 20000, tui_source__status_event, &r);
	if (r.shown > 8) {
		snprintf(text, sizeof(text), "... and %zu more: %zu online, %zu offline in all",
			 r.shown - 8, r.online, r.offline);
		tui_event_add(m, r.last_ms, TUI_EV_STATUS, text);
	}
}

static void read_expectations(struct tui_source *s, struct tui_model *m)
{
	const struct world_run *r = &m->hdr.run;
	char text[160];

	if (r->passed > s->passed || r->failed > s->failed) {
		snprintf(text, sizeof(text), "expectation %s (%u passed, %u failed so far)",
			 r->failed > s->failed ? "FAILED" : "passed", r->passed, r->failed);
		tui_event_add(m, m->hdr.now_ms, TUI_EV_EXPECT, text);
	}
	s->passed = r->passed;
	s->failed = r->failed;
}

static void read_log_tail(struct tui_source *s, struct tui_model *m)
{
	struct tui_detail *d = &m->detail;
	char path[4200], buf[4096];
	ssize_t n;
	int fd;

	d->n_log = 0;
	snprintf(path, sizeof(path), "%s/devices/%s.log", s->dir, d->id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* Newest last; a partial first line (cut by the window) is skipped. */
	char *lines[64];
	size_t nl = 0;
	char *p = buf;
	if (from > 0 && (p = strchr(buf, '\n')))
		p++;
	for (char *save = NULL, *t = p ? strtok_r(p, "\n", &save) : NULL; t; t = strtok_r(NULL, "\n", &save)) {
		if (nl == 64) {
			memmove(lines, lines + 1, sizeof(lines) - sizeof(lines[0]));
			nl--;
		}
		lines[nl++] = t;
	}
	size_t first = nl > TUI_LOG_LINES ? nl - TUI_LOG_LINES : 0;
	for (size_t i = first; i < nl; i++)
		snprintf(d->log[d->n_log++], sizeof(d->log[0]), "%s", lines[i]);
}

static void read_detail(struct tui_source *s, struct tui_model *m)
{
	struct tui_device *sel = tui_selected(m);
	struct tui_detail *d = &m->detail;
	struct record_values recent[TUI_HISTORY];
	long got;
	size_t n = 0;

	if (!sel) {
		d->id[0] = '\0';
		d->n = d->n_log = 0;
		return;
	}
	snprintf(d->id, sizeof(d->id), "%s", sel->id);
	if (s->rec && (got = record_recent_values(s->rec, sel->id, TUI_HISTORY, recent)) > 0)
		n = (size_t)got;
	/* Newest first from the record; kept oldest first. */
	for (size_t i = 0; i < n; i++) {
		d->temp[n - 1 - i] = recent[i].v[RECORD_METRIC_TEMPERATURE];
		d->hum[n - 1 - i] = recent[i].v[RECORD_METRIC_HUMIDITY];
		d->dist[n - 1 - i] = recent[i].v[RECORD_METRIC_DISTANCE];
	}
	d->n = n;
	read_log_tail(s, m);
}

void tui_source_refresh(struct tui_source *s, struct tui_model *m, bool db)
{
	struct world_header *h = s->world.hdr;
	struct tui_device *sel = tui_selected(m);

	m->hdr.now_ms = tui_wall_ms();
	if (world_read_run(h, &m->hdr.run) < 0)
		memset(&m->hdr.run, 0, sizeof(m->hdr.run));
	m->hdr.broker_up = atomic_load(&h->broker_state) == 1;
	if (db || !s->started)
		m->hdr.run_alive = m->hdr.run.pid > 0 && pid_alive(m->hdr.run.pid);
	read_slots(s, m, db || !s->started);
	tui_count_states(m);
	read_expectations(s, m);
	if (db || !s->started) {
		open_db(s);
		if (s->rec) {
			read_rate(s, m);
			read_devices(s, m);
			read_events(s, m);
		}
	}
	/* The detail follows the selection at once, and the record each second. */
	if (db || !s->started || (sel && strcmp(sel->id, m->detail.id)))
		read_detail(s, m);
	s->started = true;
}
