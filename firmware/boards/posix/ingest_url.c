/* http://HOST[:PORT][/PATH]: where an HTTP robot POSTs its readings. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>

#include "ingest_url.h"

/* The firmware's parser (the STM32F4 console uses it too), with the URL
 * named in the message. */
int posix_parse_ingest_url(const char *url, struct robot_config *cfg, char *err, size_t err_len)
{
	const char *why;

	if (robot_config_parse_ingest(url, cfg, &why) == 0)
		return 0;
	snprintf(err, err_len, "'%s': %s", url, why);
	return -EINVAL;
}
