/* The embedded broker's access control list for a fleet (mosquitto acl_file). */
#ifndef SIM_BROKER_ACL_H
#define SIM_BROKER_ACL_H

#include <stddef.h>

struct scenario;

/*
 * Write the ACL for @sc's fleet to @path: each device (user name = its id)
 * may publish only its own topics (its group's readings and status
 * templates with its id and room put in, any metric) and read only its own
 * command topic; robofleet-recorder may read every topic (and publish its
 * sync markers under robofleet/recorder/); robofleet-commander
 * may publish on every group's command topics. Anything else is denied
 * (mosquitto: a client without a rule has no access). Returns 0 or a
 * negative errno, with the reason in @err.
 */
int broker_acl_write(const char *path, const struct scenario *sc, char *err, size_t errlen);

#endif /* SIM_BROKER_ACL_H */
