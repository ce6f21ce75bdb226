/*
 * The ingest endpoint: the HTTP side of the cloud that `robofleet run`
 * plays. Devices on the http transport POST their readings to
 * /api/sensors/data (the tutorial's JSON plus boot and seq); each body is
 * recorded through the recorder, into the same database with the same
 * exactly-once accounting as a reading that came over MQTT, and answered
 * once it is stored. A body that is not a reading is answered 400 naming
 * the problem and kept raw. Commands for HTTP devices (start/stop) ride
 * on the answers and on GET /api/sensors/<id>/command. docs/recording.md
 * describes the API.
 *
 * libmicrohttpd serves it from threads of its own; every function here
 * may be called from any thread.
 */
#ifndef SIM_INGEST_H
#define SIM_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ingest;
struct recorder;

/* Server faults, set and cleared by scenario steps and the dashboard. */
enum ingest_fault {
	INGEST_FAULT_NONE,
	INGEST_FAULT_STATUS,            /* answer every request with `status` (e.g. 503), store nothing */
	INGEST_FAULT_SLOW,              /* store, then answer after `delay_ms` */
	INGEST_FAULT_REFUSE,            /* stop accepting connections (the port is closed) */
	INGEST_FAULT_RESET,             /* read the request, then reset the connection */
};

struct ingest_opts {
	const char *bind_host;          /* default "127.0.0.1" */
	uint16_t port;                  /* 0: a free port (ingest_port() tells which) */
	struct recorder *recorder;      /* required; borrowed, must outlive the endpoint */
	size_t max_body;                /* bytes; a longer body gets 413. Default 65536 */
	unsigned int idle_timeout_s;    /* a connection silent this long is closed. Default 10 */
	unsigned int max_connections;   /* beyond it new connections wait in the backlog. Default 4096 */
	void (*log)(void *ctx, const char *msg); /* NULL: stderr */
	void *log_ctx;
	/* The fault a device meets: called from the endpoint's threads for each
	 * request that names a device (the body's device_id, the command URL's
	 * id), before anything is stored. Fills *fault (INGEST_FAULT_NONE: served
	 * normally), *status and *delay_ms as ingest_set_fault() takes them.
	 * A fault set with ingest_set_fault() comes first. NULL: none. */
	void (*device_fault)(void *ctx, const char *device_id, enum ingest_fault *fault,
			     int *status, uint32_t *delay_ms);
	void *device_fault_ctx;
};

struct ingest_stats {
	uint64_t requests;              /* requests answered or reset */
	uint64_t stored;                /* readings answered 2xx after they were stored */
	uint64_t bad_request;           /* 400: kept raw */
	uint64_t too_large;             /* 413 */
	uint64_t faulted;               /* answered by a fault (status, reset) */
	uint64_t commands_delivered;    /* commands handed to devices in answers */
};

/*
 * Start serving. Returns 0, or a negative errno with @err saying why
 * (a port in use, a bad bind address).
 */
int ingest_start(const struct ingest_opts *opts, struct ingest **out, char *err, size_t errlen);

/* The port it listens on. */
uint16_t ingest_port(const struct ingest *in);

/* Stop serving and free it; requests in flight are answered 503. NULL is fine. */
void ingest_stop(struct ingest *in);

/*
 * Queue @command ("start" or "stop") for @device_id: it rides on the
 * device's next answer. A newer command replaces one not yet delivered.
 * Returns 0, -EINVAL, or -ENOMEM.
 */
int ingest_command(struct ingest *in, const char *device_id, const char *command);

/*
 * Put a fault in force (INGEST_FAULT_NONE clears it). @status is for
 * INGEST_FAULT_STATUS (100-599), @delay_ms for INGEST_FAULT_SLOW. Returns 0
 * or -EINVAL.
 */
int ingest_set_fault(struct ingest *in, enum ingest_fault fault, int status, uint32_t delay_ms);

void ingest_read_stats(struct ingest *in, struct ingest_stats *out);

#endif /* SIM_INGEST_H */
