/*
 * libFuzzer target: the device's HTTP response parser on arbitrary bytes,
 * fed in pieces the input itself chooses, then the connection's end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_response r;
	size_t i = 1;
	int rc = 0;

	if (size == 0)
		return 0;
	http_response_init(&r, data[0] & 1 ? "HEAD" : "POST");
	/* The first byte also sets the piece size, as TCP would split it. */
	while (i < size && rc == 0) {
		size_t piece = (size_t)(data[0] >> 1) + 1, used = 0;

		if (piece > size - i)
			piece = size - i;
		rc = http_response_feed(&r, data + i, piece, &used);
		if (used > piece || (rc == 0 && used != piece))
			abort();
		i += used;
	}
	if (rc == 0)
		rc = http_response_eof(&r);
	if (rc == 1 && (r.status < 100 || r.status > 599))
		abort();
	if (r.body_len > sizeof(r.body) || r.line_len >= sizeof(r.line))
		abort();
	return 0;
}
