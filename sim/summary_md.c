/* --summary-md: a run's verdict, expectations and key numbers as GitHub-flavoured Markdown. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "summary_md.h"

void summary_md_cell(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			fputc(' ', f);
		else if (*p < 0x20)
			continue;
		else if (strchr("|\\`*_[]<>#~", *p))
			fprintf(f, "\\%c", *p); /* literal, and | no column break */
		else
			fputc(*p, f);
	}
}

int summary_md_write(FILE *f, const struct summary_md *s)
{
	size_t failed = 0;

	for (size_t i = 0; i < s->n_cases; i++)
		failed += !s->cases[i].passed;
	fprintf(f, "### robofleet: ");
	summary_md_cell(f, s->scenario);
	fprintf(f, " %s\n\n", s->passed ? "PASSED" : "FAILED");
	fprintf(f, "%zu expectations: %zu passed, %zu failed.\n\n", s->n_cases, s->n_cases - failed,
		failed);
	fputs("| result | expectation | why | where |\n|---|---|---|---|\n", f);
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct summary_md_case *c = &s->cases[i];
		const char *base = c->file ? strrchr(c->file, '/') : NULL;

		fprintf(f, "| %s | ", c->passed ? "pass" : "**FAIL**");
		summary_md_cell(f, c->name);
		fputs(" | ", f);
		summary_md_cell(f, c->passed ? "" : c->message);
		fputs(" | ", f);
		if (c->file && c->line) {
			summary_md_cell(f, base ? base + 1 : c->file);
			fprintf(f, ":%u", c->line);
		}
		fputs(" |\n", f);
	}
	fputs("\n| | |\n|---|---:|\n", f);
	fprintf(f, "| devices | %zu |\n| online at end | %zu |\n| crashes | %zu |\n", s->devices,
		s->online, s->crashes);
	fprintf(f, "| readings attempted | %llu |\n| recorded | %llu |\n| lost | %llu |\n",
		(unsigned long long)s->taken, (unsigned long long)s->recorded,
		(unsigned long long)s->lost);
	fprintf(f, "| redelivered (stored once) | %llu |\n| rejected | %llu |\n| faults applied | %llu |\n",
		(unsigned long long)s->redelivered, (unsigned long long)s->rejected,
		(unsigned long long)s->faults);
	if (!isnan(s->p50_ms))
		fprintf(f, "| latency p50 / p99 / max | %.0f / %.0f / %.0f ms |\n", s->p50_ms, s->p99_ms,
			s->max_ms);
	if (s->influx)
		fprintf(f, "| InfluxDB points written / not written | %llu / %llu |\n",
			(unsigned long long)s->influx_written, (unsigned long long)s->influx_dropped);
	if (s->n_alerts)
		fputs("\n| alert | raised | cleared | longest crossing to alert |\n|---|---:|---:|---:|\n",
		      f);
	for (size_t i = 0; i < s->n_alerts; i++) {
		const struct summary_md_alert *a = &s->alerts[i];

		fputs("| ", f);
		summary_md_cell(f, a->name);
		fprintf(f, " | %llu | %llu | ", (unsigned long long)a->raised,
			(unsigned long long)a->cleared);
		if (a->latency_max_ms >= 0)
			fprintf(f, "%lld ms |\n", (long long)a->latency_max_ms);
		else
			fputs("- |\n", f);
	}
	if (s->run_dir) {
		fputs("\nRun directory: `", f);
		for (const char *p = s->run_dir; *p; p++)
			fputc(*p == '`' ? '\'' : *p, f);
		fputs("` (report.html, record.db, summary.json)\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

int summary_md_write_file(const char *path, const struct summary_md *s)
{
	FILE *f = fopen(path, "a");
	int rc;

	if (!f)
		return -errno;
	rc = summary_md_write(f, s);
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}
