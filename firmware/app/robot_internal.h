/*
 * What robot.c shares with its transports: the HTTP transport
 * (robot_http.c) lives in a file of its own but moves the same state
 * machine, obeys commands the same way and sends the same JSON.
 */
#ifndef APP_ROBOT_INTERNAL_H
#define APP_ROBOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command.h"
#include "robot.h"

#define ROBOT_MS 1000ull

void robot__set_state(struct robot *r, enum robot_state s);
/* Wait a backoff delay before the next connection attempt; log @why. */
void robot__enter_backoff(struct robot *r, uint64_t now_us, const char *why);
/* Apply a start or stop (or count an invalid command). */
void robot__obey(struct robot *r, enum robot_command cmd);
/* The JSON of @o as it goes out; returns its length or a negative errno. */
int robot__encode_reading(const struct robot *r, const struct outbox_reading *o, char *json,
			  size_t cap);

/* ---- robot_http.c ---------------------------------------------------- */

/* Set up hal_http and the command path. Returns 0 or hal_http_init's error. */
int robot_http_boot(struct robot *r);
/* The link is up: the robot is online until an exchange fails. */
void robot_http_go_online(struct robot *r, uint64_t now_us);
/* Online: start the next request if none is in flight; returns when to come back. */
uint64_t robot_http_step(struct robot *r, uint64_t now_us);
/*
 * POST @json once, outside the outbox (storage refused the reading): only
 * while online with no request in flight. Returns 0, or -EBUSY / the
 * request's error; the reading is then lost, and the caller counts it.
 */
int robot_http_send_live(struct robot *r, const char *json, size_t len, uint64_t now_us);
/* The link went down or the robot stops: drop the request in flight. */
void robot_http_abort(struct robot *r);

#endif /* APP_ROBOT_INTERNAL_H */
