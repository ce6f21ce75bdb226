/*
 * The ingest endpoint's URL, as the virtual robot's --ingest option and the
 * Linux SBC board's `ingest` key take it: one parser for both boards.
 */
#ifndef POSIX_INGEST_URL_H
#define POSIX_INGEST_URL_H

#include <stddef.h>

#include "robot_config.h"

/*
 * http://HOST[:PORT][/PATH] into @cfg's ingest host, port (80 when none)
 * and path (/api/sensors/data when none). Returns 0, or -EINVAL with the
 * URL and what is wrong with it in @err (https is refused by name).
 */
int posix_parse_ingest_url(const char *url, struct robot_config *cfg, char *err, size_t err_len);

#endif /* POSIX_INGEST_URL_H */
