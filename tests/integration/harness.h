/* Integration harness: a private mosquitto, device processes, an observing client. */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct broker {
	pid_t pid;
	int port;
	char dir[256];
	char conf[300];
};

/* Start mosquitto on a free loopback port; returns 0 once it accepts MQTT. */
int broker_start(struct broker *b);
/* The same; with @allow_anonymous false every CONNECT is refused. */
int broker_start_opts(struct broker *b, bool allow_anonymous);
/* Start it again on the same port (after broker_stop). */
int broker_restart(struct broker *b);
void broker_stop(struct broker *b);

struct message {
	char topic[128];
	char *payload;  /* NUL-terminated copy */
	size_t len;
	bool retained;
	double at;      /* monotonic seconds when received */
};

struct observer;

/* Connect a client that records every message on @pattern. */
struct observer *observer_start(int port, const char *pattern);
void observer_stop(struct observer *o);

/*
 * Wait until a message on @topic arrives after position *@cursor of the
 * observer's log, at most @timeout_s. Returns a pointer into the log (valid
 * until observer_stop) and advances *@cursor past it, or NULL on timeout.
 */
const struct message *observer_wait(struct observer *o, const char *topic,
				    size_t *cursor, double timeout_s);
/* Number of messages logged so far. */
size_t observer_count(struct observer *o);
/* Count messages on @topic logged at positions >= @from. */
size_t observer_count_topic(struct observer *o, const char *topic, size_t from);

/* Publish once with a throwaway client. Returns 0 when the broker has it. */
int mqtt_publish_once(int port, const char *topic, const void *payload, size_t len);

/*
 * A client that connects with @keepalive_s and a will (@will_payload on
 * @will_topic, QoS 1, not retained), then never sends another byte: a
 * yardstick for when this broker notices a silent client. NULL on failure.
 */
struct silent_client;
struct silent_client *silent_client_start(int port, const char *id, int keepalive_s,
					  const char *will_topic, const char *will_payload);
/* Close it (a FIN, no DISCONNECT) and free it. */
void silent_client_stop(struct silent_client *c);

/* Start robofleet-device with the given extra argv (NULL-terminated). */
pid_t device_start(int port, const char *id, const char *state_dir, const char *const extra[]);
/* The same for any program taking robofleet-device's command line (a
 * sketch device); its stderr goes to @log_path when that is not NULL. */
pid_t device_start_program(const char *program, int port, const char *id, const char *state_dir,
			   const char *log_path, const char *const extra[]);
/* Send @sig and wait for exit; returns the exit status or -1. */
int process_stop(pid_t pid, int sig, double timeout_s);
bool process_alive(pid_t pid);

double now_s(void);

/* Extract a number member "name": from flat JSON text; returns false if absent. */
bool json_number(const char *json, const char *name, double *out);
/* Extract a string member "name":"..." into out (no escapes expected). */
bool json_string(const char *json, const char *name, char *out, size_t len);

#endif /* HARNESS_H */
