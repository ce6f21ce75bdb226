/* libFuzzer target: robofleet build's .ino preprocessor on arbitrary bytes split into one to three files. */

/*
 * Beyond not crashing or hanging: an error names one of the files, the
 * output is the same every time, and every file's text is in it, whole or
 * broken once where the prototypes went.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sketch_prep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = { "main/main.ino", "main/a \"q\"\\.ino", "main/b.ino" };
static const char *const headers[] = { "#line 1 \"main/main.ino\"\n", "#line 1 \"main/a \\\"q\\\"\\\\.ino\"\n",
				       "#line 1 \"main/b.ino\"\n" };

static void check_file(const char *out, size_t out_len, const struct sketch_source *s, size_t which)
{
	const char *text = s->text, *h, *at;
	size_t len = s->len, k = 0;

	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	/* The header text may also occur inside a file's own text (a sketch
	 * can hold a #line of its own): the file is there if some occurrence
	 * of its header is followed by it. */
	for (h = memmem(out, out_len, headers[which], strlen(headers[which])); h;
	     h = memmem(h + 1, (size_t)(out + out_len - (h + 1)), headers[which],
			strlen(headers[which]))) {
		at = h + strlen(headers[which]);
		for (k = 0; k < len && at + k < out + out_len && at[k] == text[k]; k++)
			;
		if (k == len || memmem(at + k, (size_t)(out + out_len - (at + k)), text + k, len - k))
			return;
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sketch_source s[3];
	size_t n = 0, want;
	const char *p, *end;
	char *out = NULL, *again = NULL, err[512];
	size_t len = 0, len2 = 0;
	int rc, rc2;

	if (size == 0)
		return 0;
	want = 1 + data[0] % 3;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	/* The first n - 1 NUL bytes separate files; the last file may hold NULs. */
	while (n < want) {
		const char *nul = n + 1 < want ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		const char *stop = nul ? nul : end;

		s[n] = (struct sketch_source){ paths[n], p, (size_t)(stop - p) };
		n++;
		if (!nul)
			break;
		p = nul + 1;
	}

	rc = sketch_prep_ino(s, n, &out, &len, err, sizeof(err));
	if (rc == 0) {
		static const char top[] = "#include <Arduino.h>\n";

		if (!out || out[len] != '\0' || len < sizeof(top) - 1 || memcmp(out, top, sizeof(top) - 1))
			abort();
		for (size_t i = 0; i < n; i++)
			check_file(out, len, &s[i], i);
	} else if (rc == -EINVAL) {
		bool named = false;

		if (out)
			abort();
		for (size_t i = 0; i < n; i++) {
			size_t pl = strlen(paths[i]);

			named = named || (!strncmp(err, paths[i], pl) && err[pl] == ':');
		}
		if (!named)
			abort();
	} else if (rc != -ENOMEM) {
		abort();
	}

	rc2 = sketch_prep_ino(s, n, &again, &len2, NULL, 0);
	if (rc2 != rc || len2 != len || (rc == 0 && memcmp(out, again, len) != 0))
		abort();
	free(out);
	free(again);
	return 0;
}
