/* Topic templates: parsed once, then matched, expanded and compared without allocation. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic_layout.h"

const char *const topic_metric_names[TOPIC_METRIC_COUNT] = { "temperature", "humidity",
							     "distance" };

static const char *const placeholder_names[] = {
	[TOPIC_PART_ID] = "{id}", [TOPIC_PART_ROOM] = "{room}", [TOPIC_PART_METRIC] = "{metric}",
};

static int why_fail(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The metric a level names, or -1. */
static int metric_of(const char *s, size_t len)
{
	for (int i = 0; i < TOPIC_METRIC_COUNT; i++)
		if (strlen(topic_metric_names[i]) == len && memcmp(s, topic_metric_names[i], len) == 0)
			return i;
	return -1;
}

/* Which placeholder a whole level is, or LITERAL. */
static enum topic_part part_of(const char *s, size_t len)
{
	for (int p = TOPIC_PART_ID; p <= TOPIC_PART_METRIC; p++)
		if (strlen(placeholder_names[p]) == len && memcmp(s, placeholder_names[p], len) == 0)
			return (enum topic_part)p;
	return TOPIC_PART_LITERAL;
}

static int check_level(const char *s, size_t len, unsigned n, char *why, size_t why_len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+' || c == '#')
			return why_fail(why, why_len, "level %u '%.*s': the wildcards + and # "
					"have no place in a template", n, (int)len, s);
		if (c == '{' || c == '}') {
			if (s[0] == '{' && s[len - 1] == '}')
				return why_fail(why, why_len, "level %u: unknown placeholder "
						"'%.*s': use {id}, {room} or {metric}", n,
						(int)len, s);
			return why_fail(why, why_len, "level %u '%.*s': a placeholder is a "
					"whole level, e.g. sensors/{id}/{metric}", n, (int)len, s);
		}
		if (c < 0x20 || c == 0x7f)
			return why_fail(why, why_len, "level %u: a control character in the "
					"topic", n);
	}
	return 0;
}

int topic_template_parse(const char *text, enum topic_role role, enum topic_format format,
			 struct topic_template *out, char *why, size_t why_len)
{
	static const char *const roles[] = { "readings", "status", "command" };
	size_t len = text ? strlen(text) : 0;
	const char *p;
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return why_fail(why, why_len, "an empty topic");
	if (len >= TOPIC_TEMPLATE_MAX)
		return why_fail(why, why_len, "'%.40s...' is longer than %d bytes", text,
				TOPIC_TEMPLATE_MAX - 1);
	if (text[0] == '$')
		return why_fail(why, why_len, "'%s': topics starting with $ are the broker's own",
				text);
	memcpy(out->text, text, len + 1);
	out->role = role;
	out->format = format;
	for (p = text;; n++) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		enum topic_part part = part_of(p, l);
		struct topic_level *lv;
		int rc;

		if (n >= TOPIC_LEVELS_MAX)
			return why_fail(why, why_len, "'%s' has more than %d levels", text,
					TOPIC_LEVELS_MAX);
		lv = &out->level[n];
		if (part == TOPIC_PART_LITERAL) {
			if ((rc = check_level(p, l, n + 1, why, why_len)) < 0)
				return rc;
		} else if (out->uses & (1u << part)) {
			return why_fail(why, why_len, "'%s' has %s twice", text,
					placeholder_names[part]);
		}
		out->uses |= 1u << part;
		lv->part = (uint8_t)part;
		lv->off = (uint8_t)(p - text);
		lv->len = (uint8_t)l;
		if (!slash)
			break;
		p = slash + 1;
	}
	out->n_levels = (uint8_t)(n + 1);
	out->uses &= ~(1u << TOPIC_PART_LITERAL);
	if (role == TOPIC_ROLE_READINGS && format == TOPIC_FORMAT_PLAIN &&
	    !(out->uses & TOPIC_USES_METRIC))
		return why_fail(why, why_len, "'%s' has no {metric}: a plain reading is one "
				"number, and its topic must say which metric it is (or use "
				"format: json)", text);
	if ((role != TOPIC_ROLE_READINGS || format == TOPIC_FORMAT_JSON) &&
	    (out->uses & TOPIC_USES_METRIC))
		return why_fail(why, why_len, "'%s': {metric} is for plain readings only, not "
				"%s%s", text, role == TOPIC_ROLE_READINGS ? "JSON " : "",
				roles[role]);
	return 0;
}

void topic_layout_default(struct topic_layout *l, enum topic_format command_format)
{
	/* These are known good: the results cannot fail. */
	memset(l, 0, sizeof(*l));
	topic_template_parse("sensors/{id}/{metric}", TOPIC_ROLE_READINGS, TOPIC_FORMAT_PLAIN,
			     &l->readings[0], NULL, 0);
	topic_template_parse("sensors/{id}/data", TOPIC_ROLE_READINGS, TOPIC_FORMAT_JSON,
			     &l->readings[1], NULL, 0);
	l->n_readings = 2;
	topic_template_parse("sensors/{id}/status", TOPIC_ROLE_STATUS, TOPIC_FORMAT_PLAIN,
			     &l->status, NULL, 0);
	topic_template_parse("sensors/{id}/command", TOPIC_ROLE_COMMAND, command_format,
			     &l->command, NULL, 0);
}

/* An id or a room: 1..TOPIC_NAME_MAX bytes of one level, no wildcard (a
 * received topic has none: a filter names no device), no control character. */
static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len > TOPIC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '+' || s[i] == '#' || (unsigned char)s[i] < 0x20 ||
		    s[i] == 0x7f)
			return false;
	return true;
}

bool topic_template_match(const struct topic_template *t, const char *topic,
			  struct topic_captures *cap)
{
	struct topic_captures c = { NULL, 0, NULL, 0, -1 };
	const char *p = topic;

	for (unsigned i = 0; i < t->n_levels; i++) {
		const struct topic_level *lv = &t->level[i];
		const char *end = p;
		size_t l;

		while (*end && *end != '/')
			end++;
		l = (size_t)(end - p);
		switch (lv->part) {
		case TOPIC_PART_LITERAL:
			if (l != lv->len || memcmp(p, t->text + lv->off, l) != 0)
				return false;
			break;
		case TOPIC_PART_METRIC:
			if ((c.metric = metric_of(p, l)) < 0)
				return false;
			break;
		default:
			if (!name_ok(p, l))
				return false;
			if (lv->part == TOPIC_PART_ID) {
				c.id = p;
				c.id_len = l;
			} else {
				c.room = p;
				c.room_len = l;
			}
			break;
		}
		if (i + 1 < t->n_levels) {
			if (*end != '/')
				return false;
			p = end + 1;
		} else if (*end) {
			return false;
		}
	}
	if (cap)
		*cap = c;
	return true;
}

static bool same_text(const char *s, size_t len, const char *z)
{
	return z && strlen(z) == len && memcmp(s, z, len) == 0;
}

bool topic_template_match_own(const struct topic_template *t, const char *topic, const char *id,
			      const char *room, int *metric)
{
	struct topic_captures c;

	if (metric)
		*metric = -1;
	if (!topic_template_match(t, topic, &c))
		return false;
	if ((t->uses & TOPIC_USES_ID) && !same_text(c.id, c.id_len, id))
		return false;
	if ((t->uses & TOPIC_USES_ROOM) && !same_text(c.room, c.room_len, room))
		return false;
	if (metric)
		*metric = c.metric;
	return true;
}

int topic_template_expand(const struct topic_template *t, const char *id, const char *room,
			  int metric, char *out, size_t len)
{
	size_t o = 0;

	if (len)
		out[0] = '\0';
	for (unsigned i = 0; i < t->n_levels; i++) {
		const struct topic_level *lv = &t->level[i];
		const char *s;
		size_t l;

		switch (lv->part) {
		case TOPIC_PART_LITERAL:
			s = t->text + lv->off;
			l = lv->len;
			break;
		case TOPIC_PART_ID:
			s = id;
			break;
		case TOPIC_PART_ROOM:
			s = room;
			break;
		default:
			s = metric >= 0 && metric < TOPIC_METRIC_COUNT ? topic_metric_names[metric]
								       : NULL;
			break;
		}
		if (!s)
			return -EINVAL;
		if (lv->part != TOPIC_PART_LITERAL)
			l = strlen(s);
		if (o + l + (i > 0) >= len)
			return -ENOSPC;
		if (i > 0)
			out[o++] = '/';
		memcpy(out + o, s, l);
		o += l;
		out[o] = '\0';
	}
	return 0;
}

void topic_template_device_filter(const struct topic_template *t, const char *id,
				  const char *room, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	for (unsigned i = 0; i < t->n_levels && o + 1 < len; i++) {
		const struct topic_level *lv = &t->level[i];
		const char *piece = "+";
		size_t plen = 1;

		if (i > 0)
			out[o++] = '/';
		if (lv->part == TOPIC_PART_LITERAL) {
			piece = t->text + lv->off;
			plen = lv->len;
		} else if (lv->part == TOPIC_PART_ID && id) {
			piece = id;
			plen = strlen(id);
		} else if (lv->part == TOPIC_PART_ROOM && room) {
			piece = room;
			plen = strlen(room);
		}
		for (size_t k = 0; k < plen && o + 1 < len; k++)
			out[o++] = piece[k];
	}
	out[o < len ? o : len - 1] = '\0';
}

void topic_template_filter(const struct topic_template *t, char *out, size_t len)
{
	topic_template_device_filter(t, NULL, NULL, out, len);
}

/* Whether placeholder @part can take the literal level @s. */
static bool takes(enum topic_part part, const char *s, size_t len)
{
	if (part == TOPIC_PART_METRIC)
		return metric_of(s, len) >= 0;
	return name_ok(s, len);
}

bool topic_templates_overlap(const struct topic_template *a, const struct topic_template *b)
{
	if (a->n_levels != b->n_levels)
		return false;
	for (unsigned i = 0; i < a->n_levels; i++) {
		const struct topic_level *x = &a->level[i], *y = &b->level[i];

		if (x->part == TOPIC_PART_LITERAL && y->part == TOPIC_PART_LITERAL) {
			if (x->len != y->len ||
			    memcmp(a->text + x->off, b->text + y->off, x->len) != 0)
				return false;
		} else if (x->part == TOPIC_PART_LITERAL) {
			if (!takes((enum topic_part)y->part, a->text + x->off, x->len))
				return false;
		} else if (y->part == TOPIC_PART_LITERAL) {
			if (!takes((enum topic_part)x->part, b->text + y->off, y->len))
				return false;
		}
		/* Two placeholders: a metric name is a valid id and room too. */
	}
	return true;
}

/* ---- filters ------------------------------------------------------------ */

/* Next level of a filter: its start and length; *@s moves past it. */
static bool next_level(const char **s, const char **lv, size_t *len)
{
	const char *p = *s, *end;

	if (!p)
		return false;
	end = strchr(p, '/');
	*lv = p;
	*len = end ? (size_t)(end - p) : strlen(p);
	*s = end ? end + 1 : NULL;
	return true;
}

bool topic_filter_covers(const char *f, const char *g)
{
	const char *fp = f, *gp = g, *fl, *gl;
	size_t fn, gn;

	for (;;) {
		bool fh = next_level(&fp, &fl, &fn);
		bool gh;

		if (fh && fn == 1 && fl[0] == '#')
			return true;        /* the rest, and the parent level too */
		gh = next_level(&gp, &gl, &gn);
		if (!fh || !gh)
			return fh == gh;
		if (gn == 1 && gl[0] == '#')
			return false;
		if (fn == 1 && fl[0] == '+')
			continue;
		if (gn == 1 && gl[0] == '+')
			return false;
		if (fn != gn || memcmp(fl, gl, fn) != 0)
			return false;
	}
}

/*
 * If filters @a and @b (no #) can match a common topic, write the filter
 * covering both into @out (levels equal stay, others become +) and return
 * true.
 */
static bool merge_filters(const char *a, const char *b, char *out, size_t len)
{
	const char *ap = a, *bp = b, *al, *bl;
	size_t an, bn, o = 0;
	bool first = true;

	for (;;) {
		bool ah = next_level(&ap, &al, &an), bh = next_level(&bp, &bl, &bn);
		const char *w;
		size_t wn;

		if (!ah || !bh) {
			if (ah != bh)
				return false;
			break;
		}
		if (an == bn && memcmp(al, bl, an) == 0) {
			w = al;
			wn = an;
		} else if ((an == 1 && al[0] == '+') || (bn == 1 && bl[0] == '+')) {
			w = "+";
			wn = 1;
		} else {
			return false;
		}
		if (o + wn + 2 > len)
			return false;
		if (!first)
			out[o++] = '/';
		memcpy(out + o, w, wn);
		o += wn;
		first = false;
	}
	out[o] = '\0';
	return true;
}

/* ---- the map ------------------------------------------------------------ */

struct map_entry {
	struct topic_template t;
	char device[TOPIC_NAME_MAX + 1]; /* a one-device group's template: its device */
};

struct room_entry {
	char room[TOPIC_NAME_MAX + 1];
	char device[TOPIC_NAME_MAX + 1];
};

struct topic_map {
	struct map_entry *e;
	size_t n, cap;
	struct room_entry *rooms;
	size_t n_rooms, cap_rooms;
	char (*filters)[TOPIC_TEMPLATE_MAX];
	size_t n_filters;
	const char **filter_ptrs;
	bool finished;
};

int topic_map_create(struct topic_map **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void topic_map_free(struct topic_map *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->rooms);
	free(m->filters);
	free(m->filter_ptrs);
	free(m);
}

static bool valid_name(const char *s)
{
	return s && name_ok(s, strlen(s));
}

static int add_template(struct topic_map *m, const struct topic_template *t, const char *single)
{
	bool fixed = !(t->uses & (TOPIC_USES_ID | TOPIC_USES_ROOM));
	struct map_entry *e;

	if (m->finished)
		return -EINVAL;
	if (fixed && !valid_name(single))
		return -EINVAL;
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].t.role == t->role && m->e[i].t.format == t->format &&
		    strcmp(m->e[i].t.text, t->text) == 0 &&
		    (!fixed || strcmp(m->e[i].device, single) == 0))
			return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct map_entry *n = realloc(m->e, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->e = n;
		m->cap = cap;
	}
	e = &m->e[m->n++];
	e->t = *t;
	snprintf(e->device, sizeof(e->device), "%s", fixed ? single : "");
	return 0;
}

int topic_map_add_layout(struct topic_map *m, const struct topic_layout *l,
			 const char *single_device)
{
	int rc = 0;

	for (size_t i = 0; i < l->n_readings && rc == 0; i++)
		rc = add_template(m, &l->readings[i], single_device);
	if (rc == 0)
		rc = add_template(m, &l->status, single_device);
	if (rc == 0)
		rc = add_template(m, &l->command, single_device);
	return rc;
}

int topic_map_add_room(struct topic_map *m, const char *room, const char *device_id)
{
	struct room_entry *r;

	if (m->finished || !valid_name(room) || !valid_name(device_id))
		return -EINVAL;
	if (m->n_rooms == m->cap_rooms) {
		size_t cap = m->cap_rooms ? m->cap_rooms * 2 : 64;
		struct room_entry *n = realloc(m->rooms, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->rooms = n;
		m->cap_rooms = cap;
	}
	r = &m->rooms[m->n_rooms++];
	snprintf(r->room, sizeof(r->room), "%s", room);
	snprintf(r->device, sizeof(r->device), "%s", device_id);
	return 0;
}

static int cmp_room(const void *a, const void *b)
{
	return strcmp(((const struct room_entry *)a)->room, ((const struct room_entry *)b)->room);
}

/* Templates that resolve through a room or to one device come first: their
 * level is a known name, where {id} would take any text. */
static int rank(const struct map_entry *e)
{
	return (e->t.uses & TOPIC_USES_ID) ? 1 : 0;
}

int topic_map_finish(struct topic_map *m)
{
	size_t k = 0;
	struct map_entry tmp;

	/* A stable partition: the file's order stays within each rank. */
	for (size_t i = 0; i < m->n; i++) {
		if (rank(&m->e[i]) != 0)
			continue;
		tmp = m->e[i];
		memmove(&m->e[k + 1], &m->e[k], (i - k) * sizeof(*m->e));
		m->e[k++] = tmp;
	}
	if (m->n_rooms)
		qsort(m->rooms, m->n_rooms, sizeof(*m->rooms), cmp_room);
	for (size_t i = 1; i < m->n_rooms; i++)
		if (strcmp(m->rooms[i - 1].room, m->rooms[i].room) == 0)
			return -EEXIST;
	m->finished = true;
	return 0;
}

static const struct room_entry *find_room(const struct topic_map *m, const char *s, size_t len)
{
	size_t lo = 0, hi = m->n_rooms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *r = m->rooms[mid].room;
		int c = strncmp(r, s, len);

		if (c == 0)
			c = r[len] ? 1 : 0;
		if (c == 0)
			return &m->rooms[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int topic_map_attribute(const struct topic_map *m, const char *topic,
			struct topic_attribution *out)
{
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	out->metric = -1;
	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->e[i];
		const char *dev = e->device;
		struct topic_captures c;
		size_t len = strlen(dev);

		if (!topic_template_match(&e->t, topic, &c))
			continue;
		if (c.id_len) {
			dev = c.id;
			len = c.id_len;
		} else if (c.room_len) {
			const struct room_entry *r = find_room(m, c.room, c.room_len);

			if (!r) {
				if (rc == -ENOENT) {
					memcpy(out->device_id, c.room, c.room_len);
					out->device_id[c.room_len] = '\0';
					out->tmpl = &e->t;
					rc = -ENXIO;
				}
				continue;
			}
			dev = r->device;
			len = strlen(dev);
		}
		out->role = e->t.role;
		out->format = e->t.format;
		out->metric = c.metric;
		out->tmpl = &e->t;
		memcpy(out->device_id, dev, len);
		out->device_id[len] = '\0';
		return 0;
	}
	return rc;
}

int topic_map_filters(struct topic_map *m, const char *base, const char **out, size_t max)
{
	char (*f)[TOPIC_TEMPLATE_MAX] = calloc(m->n ? m->n : 1, sizeof(*f));
	const char **ptrs = calloc(m->n ? m->n : 1, sizeof(*ptrs));
	size_t n = 0;
	bool changed = true;

	if (!f || !ptrs) {
		free(f);
		free(ptrs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n; i++)
		topic_template_filter(&m->e[i].t, f[n++], TOPIC_TEMPLATE_MAX);
	/* Merge until no two share a topic: overlapping subscriptions could
	 * have the broker deliver one message twice. */
	while (changed) {
		changed = false;
		for (size_t i = 0; i < n && !changed; i++) {
			for (size_t j = i + 1; j < n && !changed; j++) {
				char merged[TOPIC_TEMPLATE_MAX];

				if (!merge_filters(f[i], f[j], merged, sizeof(merged)))
					continue;
				memcpy(f[i], merged, sizeof(merged));
				memmove(&f[j], &f[j + 1], (n - j - 1) * sizeof(*f));
				n--;
				changed = true;
			}
		}
	}
	/* What the base subscription already takes needs no filter of its own. */
	if (base) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (!topic_filter_covers(base, f[i]))
				memmove(f[k++], f[i], sizeof(*f));
		n = k;
	}
	free(m->filters);
	free(m->filter_ptrs);
	m->filters = f;
	m->filter_ptrs = ptrs;
	m->n_filters = n;
	for (size_t i = 0; i < n; i++) {
		ptrs[i] = f[i];
		if (i < max)
			out[i] = f[i];
	}
	return (int)n;
}
