/* Shared between the POSIX HAL's own files: what the wait needs of the MQTT session and of HTTP. */
#ifndef POSIX_INTERNAL_H
#define POSIX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* The fd the MQTT session waits on (-1 if none), and whether it wants to write. */
int posix__mqtt_fd(bool *want_write);

/* When the MQTT session next has something due, such as a publish held
 * back by the radio (UINT64_MAX for never). */
uint64_t posix__mqtt_next_event_us(void);

/*
 * The same for the HTTP request in flight. The board's hal_http
 * implementation provides these (hw-shim: its own socket client under the
 * link model; linux-sbc: libcurl), so the one wait serves both.
 */
int posix__http_fd(bool *want_write);
uint64_t posix__http_next_event_us(void);

#endif /* POSIX_INTERNAL_H */
