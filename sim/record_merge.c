/* Shards' records into one (`robofleet merge`): a copy of the first, every other's rows added, the run's own tables made whole. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

/*
 * The run's own tables (record_report.c) describe a run as a whole: a
 * shard's say what it saw of it, so they are gathered here, in temporary
 * tables of the merge's connection, and written once at the end through
 * record_write_run_info(). Every other table is copied row by row, without
 * knowing what it holds.
 */
static const char *const run_tables[] = {
	"run_info", "run_groups", "run_devices", "run_expectations", "run_env",
};

static const char gather_sql[] =
	"CREATE TEMP TABLE merge_expectations (\n"
	"  shard INTEGER NOT NULL, idx INTEGER NOT NULL,\n"
	"  occ INTEGER NOT NULL,  -- results of the same line before this one (repeats)\n"
	"  name TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL, passed INTEGER NOT NULL,\n"
	"  time_s REAL NOT NULL, at_ms INTEGER NOT NULL, message TEXT NOT NULL);\n"
	"CREATE TEMP TABLE merge_devices (\n"
	"  device_id TEXT PRIMARY KEY, grp INTEGER NOT NULL, shard INTEGER NOT NULL);\n"
	"CREATE TEMP TABLE merge_groups (\n"
	"  idx INTEGER PRIMARY KEY, name TEXT NOT NULL, firmware TEXT NOT NULL, shard INTEGER NOT NULL);\n"
	"CREATE TEMP TABLE merge_env (\n"
	"  ms INTEGER NOT NULL, grp INTEGER NOT NULL, temperature REAL, humidity REAL, distance REAL);\n"
	"CREATE TEMP TABLE merge_decided (\n"
	"  line INTEGER NOT NULL, occ INTEGER NOT NULL, passed INTEGER NOT NULL, message TEXT NOT NULL,\n"
	"  PRIMARY KEY (line, occ));\n";

/*
 * One row per expectation: matched across shards by its line and its
 * place among that line's results, since every shard played the same
 * scenario file (merge checks) but may have read it under another path,
 * which the file column and a default name carry.
 */
static const char merged_sql[] =
	"SELECT e.line, e.occ,\n"
	"  (SELECT f.name FROM merge_expectations f WHERE f.line = e.line AND f.occ = e.occ\n"
	"   ORDER BY f.shard LIMIT 1),\n"
	"  (SELECT f.file FROM merge_expectations f WHERE f.line = e.line AND f.occ = e.occ\n"
	"   ORDER BY f.shard LIMIT 1),\n"
	"  coalesce(d.passed, min(e.passed)), max(e.time_s), max(e.at_ms),\n"
	"  CASE WHEN d.line IS NOT NULL THEN d.message ELSE coalesce(\n"
	"    (SELECT 'shard ' || f.shard || ': ' || f.message FROM merge_expectations f\n"
	"     WHERE f.line = e.line AND f.occ = e.occ AND NOT f.passed ORDER BY f.shard LIMIT 1), '')\n"
	"  END\n"
	"FROM merge_expectations e LEFT JOIN merge_decided d ON d.line = e.line AND d.occ = e.occ\n"
	"GROUP BY e.line, e.occ ORDER BY min(e.idx), e.line, e.occ";

enum merge_stmt {
	MS_ACCOUNT,
	MS_RECORDED,
	MS_RESULTS,
	MS_DECIDE,
	MS_COUNT
};

struct record_merge {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[MS_COUNT];
	bool no_accounts;               /* the merged record has no device_accounts table */
	char scenario[128];             /* run_info's, from the lowest shard that has it */
	int64_t started_ms, ended_ms;   /* the earliest start and latest end; 0: none seen */
	int version;                    /* the first shard's schema version */
	char *warnings;
	size_t warn_len;
	/* The last merged expectations, their strings in @text. */
	struct record_run_expectation *exp;
	size_t n_exp;
	char **text;
	size_t n_text;
};

__attribute__((format(printf, 3, 4)))
static void say(char *err, size_t errlen, const char *fmt, ...);
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void warn(struct record_merge *m, const char *fmt, ...);
static void warn(struct record_merge *m, const char *fmt, ...)
{
	va_list ap;
	char line[512];
	int n;
	char *w;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (!(w = realloc(m->warnings, m->warn_len + (size_t)n + 2)))
		return; /* a warning lost to a full memory is no reason to fail a merge */
	memcpy(w + m->warn_len, line, (size_t)n);
	m->warn_len += (size_t)n;
	w[m->warn_len++] = '\n';
	w[m->warn_len] = '\0';
	m->warnings = w;
}

const char *record_merge_warnings(const struct record_merge *m)
{
	return m && m->warnings ? m->warnings : "";
}

static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: return 0;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_NOTADB: case SQLITE_CORRUPT: return -EBADMSG;
	default: return -EIO;
	}
}

/*
 * @path as an SQLite URI, so that a shard is opened read-only through
 * ATTACH and no character of a path (?, #, %) is taken for URI syntax.
 */
static char *file_uri(const char *path, bool read_only)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(path);
	char *uri = malloc(3 * len + 32), *w = uri;

	if (!uri)
		return NULL;
	w += sprintf(w, "file:%s", path[0] == '/' ? "//" : "");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p)) {
			*w++ = (char)*p;
		} else {
			*w++ = '%';
			*w++ = hex[*p >> 4];
			*w++ = hex[*p & 15];
		}
	}
	strcpy(w, read_only ? "?mode=ro" : "");
	return uri;
}

/* Run @sql (one statement, no rows wanted) with @schema as its %w. */
static int exec_in(sqlite3 *db, const char *fmt, const char *schema)
{
	char *sql = sqlite3_mprintf(fmt, schema);
	int rc;

	if (!sql)
		return SQLITE_NOMEM;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	return rc;
}

/* The single integer @sql answers (0 when no row), with @schema as its %w and @text as ?1. */
static int query_int(sqlite3 *db, const char *fmt, const char *schema, const char *text,
		     int64_t *out)
{
	char *sql = sqlite3_mprintf(fmt, schema);
	sqlite3_stmt *st = NULL;
	int rc;

	*out = 0;
	if (!sql)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return rc;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int has_table(sqlite3 *db, const char *schema, const char *table, bool *out)
{
	int64_t n;
	int rc = query_int(db, "SELECT count(*) FROM \"%w\".sqlite_master WHERE type = 'table'"
			   " AND name = ?1", schema, table, &n);

	*out = n > 0;
	return rc;
}

static bool is_run_table(const char *name)
{
	for (size_t i = 0; i < sizeof(run_tables) / sizeof(run_tables[0]); i++)
		if (!strcmp(name, run_tables[i]))
			return true;
	return false;
}

/* A robofleet record: the recorder's schema version is set and its readings are there. */
static int check_record(sqlite3 *db, const char *schema, int *version, char *err, size_t errlen)
{
	int64_t v = 0;
	bool readings = false;
	int rc = exec_in(db, "SELECT count(*) FROM \"%w\".sqlite_master", schema);

	if (rc == SQLITE_OK)
		rc = query_int(db, "PRAGMA \"%w\".user_version", schema, NULL, &v);
	if (rc == SQLITE_OK)
		rc = has_table(db, schema, "readings", &readings);
	if (rc != SQLITE_OK) {
		say(err, errlen, "%s", sqlite3_errmsg(db));
		return sqlite_errno(rc);
	}
	if (v < 1 || !readings) {
		say(err, errlen, "not a robofleet record (no recorder schema)");
		return -EBADMSG;
	}
	*version = (int)v;
	return 0;
}

/* ---- the run's own tables, gathered per shard ------------------------------ */

static int gather_info(struct record_merge *m, const char *schema)
{
	char *sql = sqlite3_mprintf("SELECT key, value FROM \"%w\".run_info", schema);
	sqlite3_stmt *st = NULL;
	int rc;

	if (!sql)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		int64_t v = sqlite3_column_int64(st, 1);

		if (!key)
			continue;
		if (!strcmp(key, "scenario") && !m->scenario[0] && sqlite3_column_text(st, 1))
			snprintf(m->scenario, sizeof(m->scenario), "%s", sqlite3_column_text(st, 1));
		else if (!strcmp(key, "started_ms") && v > 0 && (!m->started_ms || v < m->started_ms))
			m->started_ms = v;
		else if (!strcmp(key, "ended_ms") && v > m->ended_ms)
			m->ended_ms = v;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Run @fmt with @schema as its %w and @shard as ?1; the rows it changed into @changes. */
static int exec_shard(sqlite3 *db, const char *fmt, const char *schema, unsigned shard,
		      int64_t *changes)
{
	char *sql = sqlite3_mprintf(fmt, schema);
	sqlite3_stmt *st = NULL;
	int rc;

	if (!sql)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, shard);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
	}
	if (changes)
		*changes = sqlite3_changes64(db);
	sqlite3_finalize(st);
	return rc;
}

static int gather_run_tables(struct record_merge *m, const char *schema, unsigned shard)
{
	bool have[5] = { false };
	int64_t n = 0, added = 0, differ = 0, first = 0;
	int rc = SQLITE_OK;

	for (int i = 0; i < 5 && rc == SQLITE_OK; i++)
		rc = has_table(m->db, schema, run_tables[i], &have[i]);
	if (rc == SQLITE_OK && have[0])
		rc = gather_info(m, schema);
	/* Each shard's results in its order; occ tells a repeat's rounds apart. */
	if (rc == SQLITE_OK && have[3])
		rc = exec_shard(m->db, "INSERT INTO temp.merge_expectations SELECT ?1, idx,"
				" row_number() OVER (PARTITION BY line ORDER BY idx) - 1, name, file, line,"
				" passed, time_s, at_ms, message FROM \"%w\".run_expectations", schema,
				shard, NULL);
	/* A shard lists its own devices; one listed twice means shards overlap. */
	if (rc == SQLITE_OK && have[2])
		rc = query_int(m->db, "SELECT count(*) FROM \"%w\".run_devices", schema, NULL, &n);
	if (rc == SQLITE_OK && have[2])
		rc = exec_shard(m->db, "INSERT OR IGNORE INTO temp.merge_devices SELECT device_id, grp, ?1"
				" FROM \"%w\".run_devices", schema, shard, &added);
	if (rc == SQLITE_OK && have[2] && added < n)
		warn(m, "shard %u: %lld of its devices (run_devices) are another shard's too: "
		     "do the shards overlap?", shard, (long long)(n - added));
	/* The scenario's groups: the same in every shard, or the shards are not one run's. */
	if (rc == SQLITE_OK && have[1])
		rc = query_int(m->db, "SELECT count(*) FROM temp.merge_groups", schema, NULL, &n);
	if (rc == SQLITE_OK && have[1] && n == 0) {
		rc = exec_shard(m->db, "INSERT INTO temp.merge_groups SELECT idx, name, firmware, ?1"
				" FROM \"%w\".run_groups", schema, shard, NULL);
	} else if (rc == SQLITE_OK && have[1]) {
		rc = query_int(m->db, "WITH s AS (SELECT idx, name, firmware FROM \"%w\".run_groups)"
			       " SELECT EXISTS (SELECT * FROM s EXCEPT SELECT idx, name, firmware FROM"
			       " temp.merge_groups) OR EXISTS (SELECT idx, name, firmware FROM"
			       " temp.merge_groups EXCEPT SELECT * FROM s)", schema, NULL, &differ);
		if (rc == SQLITE_OK)
			rc = query_int(m->db, "SELECT min(shard) FROM temp.merge_groups", schema, NULL,
				       &first);
		if (rc == SQLITE_OK && differ)
			warn(m, "shard %u: its groups (run_groups) differ from shard %lld's; shard "
			     "%lld's are kept", shard, (long long)first, (long long)first);
	}
	/*
	 * A shard notes the environment of the groups it has devices in, on its
	 * own clock, a ramp at its own ticks: the rows differ between shards by
	 * nature. Each group's come from the lowest shard that has any.
	 */
	if (rc == SQLITE_OK && have[4])
		rc = exec_shard(m->db, "INSERT INTO temp.merge_env SELECT ms, grp, temperature, humidity,"
				" distance FROM \"%w\".run_env WHERE grp NOT IN (SELECT grp FROM"
				" temp.merge_env) ORDER BY ms, rowid", schema, shard, NULL);
	return rc;
}

/* ---- every other table, row by row ------------------------------------------ */

struct name_sql {
	char *name, *sql;
};

static void free_names(struct name_sql *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].sql);
	}
	free(v);
}

/* The rows of @fmt (name, sql) into @out: read whole before the schema changes under them. */
static int list_names(sqlite3 *db, const char *fmt, const char *schema, const char *arg,
		      struct name_sql **out, size_t *n)
{
	char *sql = sqlite3_mprintf(fmt, schema);
	sqlite3_stmt *st = NULL;
	struct name_sql *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!sql)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc == SQLITE_OK && arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *text = (const char *)sqlite3_column_text(st, 1);
		struct name_sql *grown = realloc(v, (k + 1) * sizeof(*v));

		if (!grown) {
			rc = SQLITE_NOMEM;
			break;
		}
		v = grown;
		v[k].name = strdup(name ? name : "");
		v[k].sql = strdup(text ? text : "");
		k++;
		if (!v[k - 1].name || !v[k - 1].sql) {
			rc = SQLITE_NOMEM;
			break;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_OK) {
		free_names(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return SQLITE_OK;
}

/* A column of a table as PRAGMA table_xinfo has it (generated and hidden ones left out). */
struct column {
	char *name;
	bool integer_pk;                /* declared INTEGER, the table's only key column */
};

static void free_columns(struct column *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].name);
	free(c);
}

static int list_columns(sqlite3 *db, const char *schema, const char *table, struct column **out,
			size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct column *c = NULL;
	size_t k = 0, keys = 0;
	int rc = sqlite3_prepare_v2(db, "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?1, ?2)",
				    -1, &st, NULL);

	*out = NULL;
	*n = 0;
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		bool pk = sqlite3_column_int(st, 2) > 0;
		struct column *grown;

		rc = SQLITE_OK;
		keys += pk;
		if (sqlite3_column_int(st, 3) != 0)
			continue; /* generated: SQLite computes it, an INSERT may not name it */
		if (!(grown = realloc(c, (k + 1) * sizeof(*c)))) {
			rc = SQLITE_NOMEM;
			break;
		}
		c = grown;
		c[k].integer_pk = pk && type && !strcasecmp(type, "INTEGER");
		if (!(c[k++].name = strdup(name ? name : ""))) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_OK) {
		free_columns(c, k);
		return rc;
	}
	/* A composite key is no rowid alias. */
	for (size_t i = 0; keys > 1 && i < k; i++)
		c[i].integer_pk = false;
	*out = c;
	*n = k;
	return SQLITE_OK;
}

static bool has_rowid(sqlite3 *db, const char *table)
{
	char *sql = sqlite3_mprintf("SELECT rowid FROM main.\"%w\" LIMIT 0", table);
	sqlite3_stmt *st = NULL;
	bool yes;

	if (!sql)
		return false;
	yes = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return yes;
}

/* A table the merged record lacks (the first shard broke off before its run wrote it): the shard's, with its indexes. */
static int create_like(struct record_merge *m, const struct name_sql *t)
{
	struct name_sql *idx = NULL;
	size_t n = 0;
	int rc = sqlite3_exec(m->db, t->sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		rc = list_names(m->db, "SELECT name, sql FROM \"%w\".sqlite_master WHERE type = 'index'"
				" AND tbl_name = ?1 AND sql IS NOT NULL", "shard", t->name, &idx, &n);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++)
		rc = sqlite3_exec(m->db, idx[i].sql, NULL, NULL, NULL);
	free_names(idx, n);
	return rc;
}

/*
 * Copy shard.@table's rows into main's, by the columns both have. An
 * INTEGER PRIMARY KEY named id is left out, so rows get new ids after the
 * ones already there, in the shard's order. Rows a key already holds (a
 * table keyed by device, disjoint across shards unless they overlap) are
 * left as they are and counted in a warning.
 */
static int copy_table(struct record_merge *m, const struct name_sql *t, unsigned shard)
{
	struct column *mc = NULL, *sc = NULL;
	size_t n_mc = 0, n_sc = 0, cols = 0;
	sqlite3_str *list = sqlite3_str_new(m->db);
	char *names = NULL, *sql = NULL;
	bool exists, by_id = false;
	int64_t rows = 0, added = 0;
	int rc = has_table(m->db, "main", t->name, &exists);

	if (rc == SQLITE_OK && !exists)
		rc = create_like(m, t);
	if (rc == SQLITE_OK)
		rc = list_columns(m->db, "main", t->name, &mc, &n_mc);
	if (rc == SQLITE_OK)
		rc = list_columns(m->db, "shard", t->name, &sc, &n_sc);
	if (rc != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n_mc; i++) {
		bool in_shard = false;

		if (mc[i].integer_pk && !strcmp(mc[i].name, "id") && has_rowid(m->db, t->name)) {
			by_id = true;
			continue;
		}
		for (size_t j = 0; j < n_sc && !in_shard; j++)
			in_shard = !strcmp(mc[i].name, sc[j].name);
		if (in_shard)
			sqlite3_str_appendf(list, "%s\"%w\"", cols++ ? ", " : "", mc[i].name);
	}
	if (!cols) {
		warn(m, "shard %u: table %s has no column in common with the merged record's; "
		     "its rows are left out", shard, t->name);
		goto out;
	}
	if (!(names = sqlite3_str_finish(list))) {
		list = NULL;
		rc = SQLITE_NOMEM;
		goto out;
	}
	list = NULL;
	/* The shard's rows in the order its ids give them, where it has ids. */
	if (by_id) {
		by_id = false;
		for (size_t j = 0; j < n_sc; j++)
			by_id = by_id || !strcmp(sc[j].name, "id");
	}
	rc = query_int(m->db, "SELECT count(*) FROM shard.\"%w\"", t->name, NULL, &rows);
	if (rc != SQLITE_OK)
		goto out;
	sql = sqlite3_mprintf("INSERT OR IGNORE INTO main.\"%w\" (%s) SELECT %s FROM shard.\"%w\"%s",
			      t->name, names, names, t->name, by_id ? " ORDER BY id" : "");
	if (!sql) {
		rc = SQLITE_NOMEM;
		goto out;
	}
	rc = sqlite3_exec(m->db, sql, NULL, NULL, NULL);
	added = sqlite3_changes64(m->db);
	if (rc == SQLITE_OK && added < rows)
		warn(m, "shard %u: %lld rows of %s were already in the merged record (the same key "
		     "from another shard: do the shards overlap?) and were left out", shard,
		     (long long)(rows - added), t->name);
out:
	if (list)
		sqlite3_free(sqlite3_str_finish(list));
	sqlite3_free(names);
	sqlite3_free(sql);
	free_columns(mc, n_mc);
	free_columns(sc, n_sc);
	return rc;
}

/* Every table of the shard but SQLite's and the run's own. */
static int copy_tables(struct record_merge *m, unsigned shard)
{
	struct name_sql *tables = NULL, *triggers = NULL;
	size_t n_tables = 0, n_triggers = 0;
	int rc = list_names(m->db, "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger'"
			    " AND sql IS NOT NULL", "main", NULL, &triggers, &n_triggers);

	/*
	 * A trigger would act on rows copied as they are, such as a rollup
	 * counting a reading the shard's rollup already counted: off while
	 * copying, back as they were after, in the same transaction.
	 */
	for (size_t i = 0; rc == SQLITE_OK && i < n_triggers; i++) {
		char *sql = sqlite3_mprintf("DROP TRIGGER main.\"%w\"", triggers[i].name);

		rc = sql ? sqlite3_exec(m->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
		sqlite3_free(sql);
	}
	if (rc == SQLITE_OK)
		rc = list_names(m->db, "SELECT name, sql FROM \"%w\".sqlite_master WHERE type = 'table'"
				" AND name NOT LIKE 'sqlite!_%%' ESCAPE '!' AND sql IS NOT NULL"
				" ORDER BY rowid", "shard", NULL, &tables, &n_tables);
	for (size_t i = 0; rc == SQLITE_OK && i < n_tables; i++)
		if (!is_run_table(tables[i].name))
			rc = copy_table(m, &tables[i], shard);
	for (size_t i = 0; rc == SQLITE_OK && i < n_triggers; i++)
		rc = sqlite3_exec(m->db, triggers[i].sql, NULL, NULL, NULL);
	free_names(tables, n_tables);
	free_names(triggers, n_triggers);
	return rc;
}

/* ---- the API ------------------------------------------------------------------ */

static void drop_files(const char *path)
{
	char side[4096];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* The copy itself: SQLite's online backup, page by page, of a record opened read-only. */
static int backup(sqlite3 *dst, const char *shard_path, char *err, size_t errlen)
{
	sqlite3 *src = NULL;
	sqlite3_backup *b;
	int rc = sqlite3_open_v2(shard_path, &src, SQLITE_OPEN_READONLY, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(src, 10000);
		if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
			rc = sqlite3_errcode(dst);
			say(err, errlen, "%s", sqlite3_errmsg(dst));
		} else {
			rc = sqlite3_backup_step(b, -1);
			rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
			if (sqlite3_backup_finish(b) != SQLITE_OK && rc == SQLITE_OK)
				rc = sqlite3_errcode(dst);
			if (rc != SQLITE_OK)
				say(err, errlen, "%s", sqlite3_errstr(rc));
		}
	} else {
		say(err, errlen, "%s", src ? sqlite3_errmsg(src) : "cannot open");
	}
	sqlite3_close(src);
	return rc;
}

int record_merge_open(const char *out_path, const char *shard_path, unsigned shard,
		      struct record_merge **out, char *err, size_t errlen)
{
	struct record_merge *m = calloc(1, sizeof(*m));
	char *uri = NULL, why[512] = "";
	struct stat st;
	int rc, ret;

	*out = NULL;
	if (!m || !(m->path = strdup(out_path)) || !(uri = file_uri(out_path, false))) {
		say(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	/* Never into an existing file: the backup would replace what is there. */
	if (lstat(out_path, &st) == 0) {
		say(err, errlen, "%s: exists already", out_path);
		ret = -EEXIST;
		goto fail;
	}
	rc = sqlite3_open_v2(uri, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
			     NULL);
	if (rc != SQLITE_OK) {
		say(err, errlen, "%s: %s", out_path, m->db ? sqlite3_errmsg(m->db) : "cannot open");
		ret = sqlite_errno(rc);
		goto fail;
	}
	sqlite3_busy_timeout(m->db, 10000);
	if ((rc = backup(m->db, shard_path, why, sizeof(why))) != SQLITE_OK) {
		say(err, errlen, "%s: %s", shard_path, why);
		ret = sqlite_errno(rc);
		goto fail;
	}
	if ((ret = check_record(m->db, "main", &m->version, why, sizeof(why))) < 0) {
		say(err, errlen, "%s: %s", shard_path, why);
		goto fail;
	}
	/* As every record: readers never wait for the writer; the copy is whole
	 * in record.db once the merge closes it. */
	rc = sqlite3_exec(m->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL,
			  NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db, gather_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = gather_run_tables(m, "main", shard);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		say(err, errlen, "%s: %s", out_path, sqlite3_errmsg(m->db));
		ret = sqlite_errno(rc);
		goto fail;
	}
	free(uri);
	*out = m;
	return 0;
fail:
	free(uri);
	if (m) {
		/* Only what this call made is removed. */
		if (m->db) {
			sqlite3_close(m->db);
			drop_files(out_path);
		}
		m->db = NULL;
		record_merge_close(m);
	}
	return ret;
}

int record_merge_add(struct record_merge *m, const char *shard_path, unsigned shard, char *err,
		     size_t errlen)
{
	char *uri = file_uri(shard_path, true), why[512] = "";
	sqlite3_stmt *st = NULL;
	bool attached = false, begun = false;
	size_t warned = m->warn_len;
	int version = 0, rc, ret = 0;

	if (!uri) {
		say(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(m->db, "ATTACH ?1 AS shard", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(m->db);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		say(err, errlen, "%s: %s", shard_path, sqlite3_errmsg(m->db));
		ret = sqlite_errno(rc);
		goto out;
	}
	attached = true;
	if ((ret = check_record(m->db, "shard", &version, why, sizeof(why))) < 0) {
		say(err, errlen, "%s: %s", shard_path, why);
		goto out;
	}
	if (version != m->version)
		warn(m, "shard %u: its record has schema version %d, the merged record %d: only "
		     "the columns both have are merged", shard, version, m->version);
	rc = sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	begun = rc == SQLITE_OK;
	if (rc == SQLITE_OK)
		rc = copy_tables(m, shard);
	if (rc == SQLITE_OK)
		rc = gather_run_tables(m, "shard", shard);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		say(err, errlen, "%s: %s", shard_path, sqlite3_errmsg(m->db));
		ret = sqlite_errno(rc);
	}
out:
	if (ret < 0 && begun)
		sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
	/* Rolled back, the shard's rows are not there to warn about. */
	if (ret < 0 && m->warnings) {
		m->warn_len = warned;
		m->warnings[warned] = '\0';
	}
	if (attached)
		sqlite3_exec(m->db, "DETACH shard", NULL, NULL, NULL);
	/* The copy may have made device_accounts; look again when asked. */
	sqlite3_finalize(m->st[MS_ACCOUNT]);
	m->st[MS_ACCOUNT] = NULL;
	m->no_accounts = false;
	free(uri);
	return ret;
}

/* Prepared at first use and kept: a fleet's worth of devices asks the same question. */
static sqlite3_stmt *stmt(struct record_merge *m, enum merge_stmt id)
{
	static const char *const sql[MS_COUNT] = {
		[MS_ACCOUNT] = "SELECT lost FROM main.device_accounts WHERE device_id = ?1",
		[MS_RECORDED] = "SELECT lost, duplicates FROM main.accounting WHERE device_id = ?1",
		[MS_RESULTS] = "SELECT shard, passed, message FROM temp.merge_expectations"
			       " WHERE line = ?1 AND occ = ?2 ORDER BY shard",
		[MS_DECIDE] = "INSERT OR REPLACE INTO temp.merge_decided VALUES (?1, ?2, ?3, ?4)",
	};

	if (!m->st[id] && sqlite3_prepare_v2(m->db, sql[id], -1, &m->st[id], NULL) != SQLITE_OK)
		m->st[id] = NULL;
	return m->st[id];
}

int record_merge_device_loss(struct record_merge *m, const char *id, uint64_t *lost,
			     uint64_t *dup)
{
	sqlite3_stmt *acc = m->no_accounts ? NULL : stmt(m, MS_ACCOUNT);
	sqlite3_stmt *rec = stmt(m, MS_RECORDED);
	bool settled = false, recorded = false;
	int rc = SQLITE_DONE;

	*lost = *dup = 0;
	/* No device_accounts at all: no shard's run settled its devices. */
	m->no_accounts = !acc;
	if (acc) {
		sqlite3_bind_text(acc, 1, id, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(acc)) == SQLITE_ROW) {
			*lost = (uint64_t)sqlite3_column_int64(acc, 0);
			settled = true;
			rc = SQLITE_DONE;
		}
		sqlite3_reset(acc);
	}
	if (rc != SQLITE_DONE || !rec)
		return -EIO;
	sqlite3_bind_text(rec, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(rec)) == SQLITE_ROW) {
		if (!settled)
			*lost = (uint64_t)sqlite3_column_int64(rec, 0);
		*dup = (uint64_t)sqlite3_column_int64(rec, 1);
		recorded = true;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(rec);
	if (rc != SQLITE_DONE)
		return -EIO;
	return settled || recorded ? 0 : -ENODATA;
}

int record_merge_results(struct record_merge *m, unsigned line, unsigned occurrence,
			 void (*each)(void *arg, const struct record_merge_result *r), void *arg)
{
	sqlite3_stmt *st = stmt(m, MS_RESULTS);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, line);
	sqlite3_bind_int64(st, 2, occurrence);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(st, 2);
		struct record_merge_result r = {
			.shard = (unsigned)sqlite3_column_int64(st, 0),
			.passed = sqlite3_column_int(st, 1) != 0,
			.message = msg ? msg : "",
		};
		each(arg, &r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int record_merge_decide(struct record_merge *m, unsigned line, unsigned occurrence, bool passed,
			const char *message)
{
	sqlite3_stmt *st = stmt(m, MS_DECIDE);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, line);
	sqlite3_bind_int64(st, 2, occurrence);
	sqlite3_bind_int(st, 3, passed);
	sqlite3_bind_text(st, 4, message ? message : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

static void free_text(struct record_merge *m)
{
	for (size_t i = 0; i < m->n_text; i++)
		free(m->text[i]);
	free(m->text);
	free(m->exp);
	m->text = NULL;
	m->exp = NULL;
	m->n_text = m->n_exp = 0;
}

/* A copy of column @col of @st that lives as long as the merged expectations. */
static const char *keep(struct record_merge *m, sqlite3_stmt *st, int col, size_t *cap)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	char *copy;

	if (m->n_text == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **grown = realloc(m->text, c * sizeof(*grown));

		if (!grown)
			return NULL;
		m->text = grown;
		*cap = c;
	}
	if (!(copy = strdup(t ? t : "")))
		return NULL;
	m->text[m->n_text++] = copy;
	return copy;
}

/* The merged expectations into m->exp. */
static int load_merged(struct record_merge *m)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0, cap_text = 0;
	int rc = sqlite3_prepare_v2(m->db, merged_sql, -1, &st, NULL);

	free_text(m);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_run_expectation *e;

		rc = SQLITE_NOMEM;
		if (m->n_exp == cap) {
			size_t c = cap ? cap * 2 : 32;
			struct record_run_expectation *grown = realloc(m->exp, c * sizeof(*grown));

			if (!grown)
				break;
			m->exp = grown;
			cap = c;
		}
		e = &m->exp[m->n_exp];
		memset(e, 0, sizeof(*e));
		e->line = (unsigned)sqlite3_column_int64(st, 0);
		if (!(e->name = keep(m, st, 2, &cap_text)) || !(e->file = keep(m, st, 3, &cap_text)) ||
		    !(e->message = keep(m, st, 7, &cap_text)))
			break;
		e->passed = sqlite3_column_int(st, 4) != 0;
		e->time_s = sqlite3_column_double(st, 5);
		e->at_ms = sqlite3_column_int64(st, 6);
		m->n_exp++;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

int record_merge_expectations(struct record_merge *m,
			      void (*each)(void *arg, const struct record_run_expectation *e),
			      void *arg)
{
	int rc = load_merged(m);

	for (size_t i = 0; rc == 0 && i < m->n_exp; i++)
		each(arg, &m->exp[i]);
	return rc;
}

/* The run's own tables as gathered, for record_write_run_info(). */
struct run_parts {
	struct record_run_group *groups;
	size_t n_groups;
	const char **ids;
	uint32_t *device_group;
	size_t n_devices;
	struct record_run_env *env;
	size_t n_env;
	char **text;
	size_t n_text;
};

static void free_parts(struct run_parts *p)
{
	for (size_t i = 0; i < p->n_text; i++)
		free(p->text[i]);
	free(p->text);
	free(p->groups);
	free(p->ids);
	free(p->device_group);
	free(p->env);
}

static const char *keep_part(struct run_parts *p, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	char **grown = realloc(p->text, (p->n_text + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	p->text = grown;
	if (!(p->text[p->n_text] = strdup(t ? t : "")))
		return NULL;
	return p->text[p->n_text++];
}

static int load_parts(struct record_merge *m, struct run_parts *p)
{
	static const char *const sql[3] = {
		"SELECT name, firmware FROM temp.merge_groups ORDER BY idx",
		/* The scenario's order is its devices sorted by id (strcmp): BINARY. */
		"SELECT device_id, grp FROM temp.merge_devices ORDER BY device_id",
		"SELECT ms, grp, temperature, humidity, distance FROM temp.merge_env ORDER BY ms, rowid",
	};
	int64_t count[3];
	static const char *const count_sql[3] = {
		"SELECT count(*) FROM temp.merge_groups", "SELECT count(*) FROM temp.merge_devices",
		"SELECT count(*) FROM temp.merge_env",
	};
	int rc = SQLITE_OK;

	for (int i = 0; i < 3 && rc == SQLITE_OK; i++)
		rc = query_int(m->db, count_sql[i], "temp", NULL, &count[i]);
	if (rc != SQLITE_OK)
		return rc;
	p->groups = calloc((size_t)count[0] + 1, sizeof(*p->groups));
	p->ids = calloc((size_t)count[1] + 1, sizeof(*p->ids));
	p->device_group = calloc((size_t)count[1] + 1, sizeof(*p->device_group));
	p->env = calloc((size_t)count[2] + 1, sizeof(*p->env));
	if (!p->groups || !p->ids || !p->device_group || !p->env)
		return SQLITE_NOMEM;
	for (int i = 0; i < 3 && rc == SQLITE_OK; i++) {
		sqlite3_stmt *st = NULL;

		rc = sqlite3_prepare_v2(m->db, sql[i], -1, &st, NULL);
		while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			rc = SQLITE_NOMEM;
			if (i == 0 && p->n_groups < (size_t)count[0]) {
				struct record_run_group *g = &p->groups[p->n_groups];

				if (!(g->name = keep_part(p, st, 0)) || !(g->firmware = keep_part(p, st, 1)))
					break;
				p->n_groups++;
			} else if (i == 1 && p->n_devices < (size_t)count[1]) {
				if (!(p->ids[p->n_devices] = keep_part(p, st, 0)))
					break;
				p->device_group[p->n_devices++] = (uint32_t)sqlite3_column_int64(st, 1);
			} else if (i == 2 && p->n_env < (size_t)count[2]) {
				struct record_run_env *e = &p->env[p->n_env++];

				e->ms = sqlite3_column_int64(st, 0);
				e->group = (uint32_t)sqlite3_column_int64(st, 1);
				for (int k = 0; k < RECORD_METRIC_COUNT; k++)
					e->v[k] = sqlite3_column_type(st, 2 + k) == SQLITE_NULL ?
						  NAN : sqlite3_column_double(st, 2 + k);
			}
			rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	return rc;
}

static int integrity_check(struct record_merge *m, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(m->db, "PRAGMA main.integrity_check", -1, &st, NULL);
	int ret = 0;

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *said = (const char *)sqlite3_column_text(st, 0);

		if (!said || strcmp(said, "ok")) {
			say(err, errlen, "%s: integrity check: %s", m->path, said ? said : "no answer");
			ret = -EIO;
		}
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		say(err, errlen, "%s: integrity check: %s", m->path, sqlite3_errmsg(m->db));
		ret = -EIO;
	}
	sqlite3_finalize(st);
	return ret;
}

int record_merge_finish(struct record_merge *m, const char *scenario, bool passed, char *err,
			size_t errlen)
{
	struct run_parts p;
	struct record_run_info in;
	int rc;

	memset(&p, 0, sizeof(p));
	/* Statements kept open would hold a read lock against the writer below. */
	for (int i = 0; i < MS_COUNT; i++)
		sqlite3_reset(m->st[i]);
	if ((rc = load_merged(m)) < 0 || (rc = sqlite_errno(load_parts(m, &p))) < 0) {
		say(err, errlen, "%s: %s", m->path, sqlite3_errmsg(m->db));
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.scenario = scenario ? scenario : m->scenario;
	in.started_ms = m->started_ms;
	in.ended_ms = m->ended_ms;
	in.passed = passed;
	in.groups = p.groups;
	in.n_groups = p.n_groups;
	in.device_ids = p.ids;
	in.device_group = p.device_group;
	in.n_devices = p.n_devices;
	in.expectations = m->exp;
	in.n_expectations = m->n_exp;
	in.env = p.env;
	in.n_env = p.n_env;
	if ((rc = record_write_run_info(m->path, &in, err, errlen)) < 0)
		goto out;
	rc = integrity_check(m, err, errlen);
out:
	free_parts(&p);
	return rc;
}

void record_merge_close(struct record_merge *m)
{
	if (!m)
		return;
	for (int i = 0; i < MS_COUNT; i++)
		sqlite3_finalize(m->st[i]);
	/* The last connection to close folds the WAL into record.db. */
	sqlite3_close(m->db);
	free_text(m);
	free(m->warnings);
	free(m->path);
	free(m);
}
