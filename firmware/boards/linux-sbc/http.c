/*
 * hal_http on this board: not here yet. The robot refuses transport http
 * at boot when hal_http_init() fails, and an MQTT robot never calls the rest.
 */
#include <errno.h>
#include <stdbool.h>

#include "hal_http.h"

int hal_http_init(const struct hal_http_callbacks *cb, void *ctx)
{
	(void)cb;
	(void)ctx;
	return -ENOTSUP;
}

int hal_http_request(const struct hal_http_request *req)
{
	(void)req;
	return -ENOTSUP;
}

bool hal_http_busy(void)
{
	return false;
}

void hal_http_abort(void)
{
}

int hal_http_service(void)
{
	return 0;
}

#include <stdint.h>

#include "posix_internal.h"

int posix__http_fd(bool *want_write)
{
	*want_write = false;
	return -1;
}

uint64_t posix__http_next_event_us(void)
{
	return UINT64_MAX;
}
