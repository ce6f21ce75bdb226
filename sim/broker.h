/* The run's MQTT broker: a private mosquitto on loopback, or an existing one. */
#ifndef SIM_BROKER_H
#define SIM_BROKER_H

#include <stdbool.h>
#include <sys/types.h>

enum broker_state {
	BROKER_DOWN,
	BROKER_UP,
};

struct broker {
	char host[256];
	int port;
	bool external;          /* --broker host:port: never started or stopped */
	pid_t pid;
	enum broker_state state;
	char conf_path[1024];
	char log_path[1024];
	char data_dir[1024];
	char mosquitto[256];    /* executable, found on PATH or in /usr/sbin */
};

/*
 * Who may connect to the embedded broker and what they may do. Without it
 * (NULL) anyone may, anonymously, over plain TCP.
 */
struct broker_access {
	/* TLS only, with this certificate and key; the CA for client
	 * certificates. NULL certfile: plain TCP. */
	const char *cafile, *certfile, *keyfile;
	/* Every client presents a certificate from cafile, and its CN is its
	 * user name (the ACL's %u). */
	bool require_certificate;
	const char *password_file;  /* mosquitto's hashed file; NULL: none */
	const char *acl_file;       /* NULL: no ACL */
};

/*
 * Prepare an embedded broker in @run_dir: choose a free loopback port (or use
 * @port when non-zero) and write mosquitto.conf there, with @access (NULL:
 * open to all). Returns 0, -ENOENT when no mosquitto executable exists, or a
 * negative errno.
 */
int broker_configure_embedded(struct broker *b, const char *run_dir, int port);
int broker_configure_embedded_access(struct broker *b, const char *run_dir, int port,
				     const struct broker_access *access, unsigned long queue_max);

/*
 * QoS 1 messages the broker keeps for one subscriber beyond those in
 * flight (mosquitto's max_queued_messages); more are dropped. The run
 * passes what the fleet's outboxes hold (a recorder that falls behind must
 * not lose readings the robots let go of); never less than this.
 */
#define BROKER_QUEUE_MIN 100000ul

/*
 * True if the broker's log says it dropped messages for the client
 * @client_id because its queue was full.
 */
bool broker_log_says_dropped(const struct broker *b, const char *client_id);

/* Use an existing broker at @host:@port. Returns 0 or -EINVAL. */
int broker_configure_external(struct broker *b, const char *host, int port);

/*
 * Start the embedded broker and wait (at most @timeout_ms) until it accepts
 * TCP connections. Returns 0, -EALREADY when running, -EADDRINUSE when
 * something else already listens on the port, -ENOTSUP for an
 * external broker, -ETIMEDOUT, or -ECHILD if it exited (see its log).
 */
int broker_start(struct broker *b, int timeout_ms);

/* SIGTERM and wait (mosquitto saves its persistence file); SIGKILL after
 * @timeout_ms. Returns 0, -ENOTSUP for external brokers. */
int broker_stop(struct broker *b, int timeout_ms);

/* SIGKILL: the broker vanishes without saving anything. */
int broker_kill(struct broker *b);

/* Stop, then start on the same port. */
int broker_restart(struct broker *b, int timeout_ms);

/* True if a TCP connection to host:port succeeds right now. */
bool broker_accepts(const struct broker *b);

#endif /* SIM_BROKER_H */
