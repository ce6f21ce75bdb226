/* report.html: one self-contained page of a run, from its record, its summary.json and the Debian chart libraries. */
#ifndef SIM_REPORT_HTML_H
#define SIM_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

/* Where the chart libraries are: $ROBOFLEET_JS_DIR, else Debian's. */
#define REPORT_JS_DIR_DEFAULT "/usr/share/javascript"

/*
 * Write @out (NULL: @run_dir/report.html) from @run_dir/record.db and, when present,
 * @run_dir/summary.json (embedded as it is). Written beside and renamed
 * into place, so a failure leaves no half page. Returns 0, or a negative
 * errno with the reason, naming the file, in @err: -ENOENT when
 * @run_dir is not a run directory, -EIO when its record cannot be read.
 */
int report_html_write(const char *run_dir, const char *out, char *err, size_t errlen);

/* @s as HTML text or attribute value: & < > " ' escaped. */
void report_html_escape(FILE *f, const char *s);

/* `robofleet report RUN [--output FILE]`: returns the exit status. */
int report_main(int argc, char **argv);

#endif /* SIM_REPORT_HTML_H */
