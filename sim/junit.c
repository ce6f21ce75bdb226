/* Write JUnit XML that CI systems and xmllint accept. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "junit.h"

/*
 * Escape for attribute and text content. Control characters other than tab,
 * newline and carriage return are not allowed in XML 1.0 at all, not even
 * as character references, so they become U+FFFD; so do invalid UTF-8 bytes.
 */
static void put_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		unsigned char c = *p;
		size_t len = 1;

		if (c < 0x80) {
			switch (c) {
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '&': fputs("&amp;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&apos;", f); break;
			case '\t': case '\n': case '\r': fputc(c, f); break;
			default:
				if (c < 0x20 || c == 0x7f)
					fputs("\xef\xbf\xbd", f);
				else
					fputc(c, f);
			}
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			len = 2;
		else if ((c & 0xf0) == 0xe0)
			len = 3;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			len = 4;
		else
			len = 0;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				len = 0;
		if (len == 0) {
			fputs("\xef\xbf\xbd", f);
			p++;
		} else {
			fwrite(p, 1, len, f);
			p += len;
		}
	}
}

int junit_write(const char *path, const char *suite, const struct junit_case *cases,
		size_t n, double total_time_s)
{
	char tmp[4096], stamp[32];
	size_t failures = 0;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++)
		failures += cases[i].failed;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
	fputs("  <testsuite name=\"", f);
	put_escaped(f, suite);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
		"time=\"%.3f\" timestamp=\"%s\">\n", n, failures, total_time_s, stamp);
	for (size_t i = 0; i < n; i++) {
		const struct junit_case *c = &cases[i];

		fputs("    <testcase name=\"", f);
		put_escaped(f, c->name);
		fputs("\" classname=\"", f);
		put_escaped(f, c->classname ? c->classname : suite);
		fprintf(f, "\" time=\"%.3f\"", c->time_s);
		if (!c->failed) {
			fputs("/>\n", f);
			continue;
		}
		fputs(">\n      <failure message=\"", f);
		put_escaped(f, c->message ? c->message : "failed");
		fputs("\" type=\"expectation\">", f);
		put_escaped(f, c->detail ? c->detail : c->message);
		fputs("</failure>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	if (ferror(f))
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
