/* report.html: the template filled with the run's data, its summary.json and the chart libraries, inlined. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "report_data.h"
#include "report_html.h"

/* sim/report_template.html, embedded at build time (cmake/embed_file.cmake). */
extern const char report_template[];
extern const unsigned long report_template_len;

void report_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/*
 * @path's bytes into @f with every "</script" written "<\/script": inside a
 * <script> element that cannot end it, and in JavaScript strings and JSON
 * it means the same. (Only that sequence: "</" alone also ends a regular
 * expression literal such as /</g, which a blanket escape would break.)
 */
static int copy_script(FILE *f, const char *path, char *err, size_t errlen, const char *package)
{
	static const char tag[] = "</script";
	FILE *in = fopen(path, "r");
	char held[sizeof(tag)];
	size_t n = 0;
	int c;

	if (!in) {
		snprintf(err, errlen, "cannot read %s: %s%s%s%s", path, strerror(errno),
			 package ? " (Debian package " : "", package ? package : "", package ? ")" : "");
		return -ENOENT;
	}
	/* @held: the start of a possible "</script", not yet written. */
	while ((c = getc(in)) != EOF) {
		held[n++] = (char)c;
		if ((char)tolower(c) == tag[n - 1] || (n == 1 && c == '<')) {
			if (n == sizeof(tag) - 1) {
				fputs("<\\/", f);
				fwrite(held + 2, 1, n - 2, f);
				n = 0;
			}
			continue;
		}
		fwrite(held, 1, n - 1, f);
		n = 0;
		if (c == '<')
			held[n++] = (char)c;
		else
			fputc(c, f);
	}
	fwrite(held, 1, n, f);
	fclose(in);
	return 0;
}

static void write_expectations(FILE *f, const struct report_data *d)
{
	size_t n = report_data_expectations(d);

	if (n == 0)
		fputs("<tr><td colspan=\"5\" class=\"muted\">none recorded</td></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		const char *name, *file, *message;
		const char *base;
		unsigned line;
		bool passed;
		double at_s;

		report_data_expectation(d, i, &name, &file, &line, &passed, &at_s, &message);
		base = strrchr(file, '/');
		fprintf(f, "<tr%s><td class=\"%s\">%s</td><td>", passed ? "" : " class=\"bad\"",
			passed ? "ok" : "no", passed ? "PASS" : "FAIL");
		report_html_escape(f, name);
		if (at_s >= 0)
			fprintf(f, "</td><td class=\"n\">%.1f s", at_s);
		else
			fputs("</td><td class=\"n\">-", f);
		fputs("</td><td>", f);
		report_html_escape(f, passed ? "held" : message);
		fputs("</td><td>", f);
		report_html_escape(f, base ? base + 1 : file);
		fprintf(f, ":%u</td></tr>\n", line);
	}
}

/* The template's part named @name. */
static int fill(FILE *f, const char *name, const char *run_dir, const struct report_data *d,
		char *err, size_t errlen)
{
	const char *js = getenv("ROBOFLEET_JS_DIR");
	char path[PATH_MAX];
	int p;

	if (!js || !*js)
		js = REPORT_JS_DIR_DEFAULT;
	if (!strcmp(name, "TITLE")) {
		fputs("robofleet run: ", f);
		report_html_escape(f, report_data_name(d)[0] ? report_data_name(d) : run_dir);
	} else if (!strcmp(name, "VERDICT")) {
		p = report_data_passed(d);
		fprintf(f, "<span class=\"verdict %s\" id=\"verdict\">%s</span>",
			p > 0 ? "pass" : p == 0 ? "fail" : "unknown",
			p > 0 ? "PASS" : p == 0 ? "FAIL" : "no verdict recorded");
	} else if (!strcmp(name, "EXPECTATIONS")) {
		write_expectations(f, d);
	} else if (!strcmp(name, "DYGRAPHS_CSS")) {
		snprintf(path, sizeof(path), "%s/dygraphs/dygraph.min.css", js);
		return copy_script(f, path, err, errlen, "libjs-dygraphs");
	} else if (!strcmp(name, "DYGRAPHS_JS")) {
		snprintf(path, sizeof(path), "%s/dygraphs/dygraph.min.js", js);
		return copy_script(f, path, err, errlen, "libjs-dygraphs");
	} else if (!strcmp(name, "D3_JS")) {
		snprintf(path, sizeof(path), "%s/d3/d3.min.js", js);
		return copy_script(f, path, err, errlen, "libjs-d3");
	} else if (!strcmp(name, "SUMMARY")) {
		snprintf(path, sizeof(path), "%s/summary.json", run_dir);
		if (access(path, R_OK) != 0)
			fputs("null", f); /* a run that broke off: the page says so */
		else
			return copy_script(f, path, err, errlen, NULL);
	} else if (!strcmp(name, "DATA")) {
		return report_data_write_json(d, f);
	} else if (!strcmp(name, "GENERATED")) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(f, "built %s from ", stamp);
		report_html_escape(f, run_dir);
		fputs("/record.db", f);
	}
	return 0;
}

/* The template with each @@NAME@@ filled. */
static int write_page(FILE *f, const char *run_dir, const struct report_data *d, char *err,
		      size_t errlen)
{
	const char *p = report_template, *end = report_template + report_template_len;
	int rc = 0;

	while (p < end && rc == 0) {
		const char *m = strstr(p, "@@"), *e;
		char name[32];

		if (!m) {
			fwrite(p, 1, (size_t)(end - p), f);
			break;
		}
		e = strstr(m + 2, "@@");
		if (!e || e - m - 2 >= (long)sizeof(name)) {
			fwrite(p, 1, (size_t)(m + 2 - p), f);
			p = m + 2;
			continue;
		}
		fwrite(p, 1, (size_t)(m - p), f);
		memcpy(name, m + 2, (size_t)(e - m - 2));
		name[e - m - 2] = '\0';
		rc = fill(f, name, run_dir, d, err, errlen);
		p = e + 2;
	}
	return rc;
}

int report_html_write(const char *run_dir, const char *out, char *err, size_t errlen)
{
	char db[PATH_MAX], path[PATH_MAX], part[PATH_MAX + 8], rerr[256];
	struct record *rec = NULL;
	struct report_data *d = NULL;
	struct stat st;
	FILE *f = NULL;
	int rc;

	err[0] = '\0';
	if (stat(run_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", run_dir);
		return -ENOENT;
	}
	snprintf(db, sizeof(db), "%s/record.db", run_dir);
	if (access(db, R_OK) != 0) {
		snprintf(err, errlen, "%s: not a run directory (no record.db: %s)", run_dir,
			 strerror(errno));
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s", out ? out : "");
	if (!out)
		snprintf(path, sizeof(path), "%s/report.html", run_dir);
	snprintf(part, sizeof(part), "%s.part", path);
	if ((rc = record_open(db, 2000, &rec, rerr, sizeof(rerr))) < 0) {
		snprintf(err, errlen, "%s: %s", db, rerr);
		rc = -EIO;
		goto out;
	}
	if ((rc = record_check_schema(rec)) < 0) {
		snprintf(err, errlen, "%s: not a robofleet record (%s)", db, record_error(rec));
		rc = -EIO;
		goto out;
	}
	if ((rc = report_data_build(rec, &d, rerr, sizeof(rerr))) < 0) {
		snprintf(err, errlen, "%s: %s", db, rerr);
		goto out;
	}
	if (!(f = fopen(part, "w"))) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %s: %s", part, strerror(errno));
		goto out;
	}
	rc = write_page(f, run_dir, d, err, errlen);
	if (fclose(f) != 0 && rc == 0) {
		rc = -EIO;
		snprintf(err, errlen, "cannot write %s: %s", part, strerror(errno));
	}
	f = NULL;
	if (rc == 0 && rename(part, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s: %s", part, strerror(errno));
	}
	if (rc < 0)
		unlink(part);
out:
	report_data_free(d);
	record_close(rec);
	return rc;
}

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	char err[PATH_MAX + 256];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h':
			puts("usage: robofleet report RUN_DIR [--output FILE]\n"
			     "(re)build RUN_DIR/report.html from its record.db and summary.json");
			return 0;
		case ':':
			fprintf(stderr, "robofleet report: %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "robofleet report: unknown option %s (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "robofleet report: give exactly one run directory (see --help)\n");
		return 2;
	}
	if (report_html_write(argv[optind], out, err, sizeof(err)) < 0) {
		fprintf(stderr, "robofleet report: %s\n", err);
		return 1;
	}
	if (out)
		printf("%s\n", out);
	else
		printf("%s/report.html\n", argv[optind]);
	return 0;
}
