/*
 * The ingest endpoint (ingest.h) on libmicrohttpd.
 *
 *   accept thread (ours) --MHD_add_connection--> MHD's polling thread --> on_request()
 *        listening socket, the connection            reads the body, judges it (ingest_request.c),
 *        limit, the refuse fault, slow answers'      hands it to recorder_ingest(), suspends the
 *        timers, the request deadline                connection; the recorder's writer resumes it
 *                                                    once the batch committed, and it is answered
 *
 * The listening socket is ours, not MHD's, so that the refuse fault can
 * close it and open it again on the same port, and so that connections
 * beyond max_connections wait in the kernel's backlog instead of being
 * accepted and dropped. No server thread ever waits for a commit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "ingest_request.h"
#include "recorder.h"

/* While the port cannot be opened again after a refuse fault: retry this often. */
/* A too-large body up to this size is read and dropped before the 413. */
#define DISCARD_MAX (4u << 20)
#define RELISTEN_RETRY_MS 200
/* At stop, requests waiting for their commit are answered 503 within this. */
#define STOP_ANSWER_MS 2000
/* ... and the recorder's callbacks for them are awaited this long before the
 * endpoint's memory is left to them rather than freed under them. */
#define STOP_CALLBACK_MS 60000

/*
 * One connection, for the request deadline: a connection that has not
 * sent a whole request within idle_timeout_s of its accept (or of its
 * previous answer) is shut down, however steadily it trickles bytes. MHD's
 * own timeout only counts silence.
 */
struct conn_slot {
	struct conn_slot *next, *prev;
	int fd;                         /* MHD's; valid while the slot is linked (in->lock) */
	int64_t since_ms;               /* accepted, or last answered (monotonic) */
	bool busy;                      /* a whole request is in: being handled or answered */
	bool cut;                       /* shut down already */
};

/* One HTTP request, from its headers to its answer. */
struct req {
	struct ingest *in;
	struct MHD_Connection *conn;
	struct conn_slot *slot;         /* its connection's */
	struct req *next;               /* in->waiting: handed to the recorder, not answered */
	struct ingest_route route;
	char *body;
	size_t len, cap;
	bool too_large;                 /* a chunked body grew past max_body */
	bool body_ok;                   /* a reading (else kept raw and answered 400) */
	const char *reason;
	char device_id[RECORDER_ID_MAX + 1];
	int64_t answer_at_ms;           /* the slow fault: not before then (monotonic) */
	bool waiting;                   /* on in->waiting */
	bool suspended;
	bool ready;                     /* status is decided */
	int status;
	bool conn_gone;                 /* MHD is done with it */
	bool callback_due;              /* the recorder will call on_stored() */
};

/* A device's commands: the newest one not yet delivered, and the last id given. */
struct command_slot {
	struct command_slot *next;
	char device_id[RECORDER_ID_MAX + 1];
	const char *pending;            /* "start", "stop", or NULL */
	uint64_t pending_id;
	uint64_t last_id;
};

struct ingest {
	struct ingest_opts opts;
	char *bind_host;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint16_t port;
	struct MHD_Daemon *daemon;
	pthread_t thread;
	bool thread_running;
	int wake[2];                    /* wakes the accept thread */

	pthread_mutex_t lock;           /* everything below */
	pthread_cond_t changed;
	int listen_fd;                  /* -1 while refusing */
	bool stopping;
	enum ingest_fault fault;
	int fault_status;
	uint32_t fault_delay_ms;
	uint64_t fault_set;             /* ingest_set_fault() calls ... */
	uint64_t fault_applied;         /* ... the accept thread has acted on */
	unsigned int connections;
	struct conn_slot *slots;        /* every open connection */
	uint64_t cut;                   /* connections shut down by the request deadline */
	int64_t next_scan_ms;
	struct req *waiting;
	unsigned int callbacks_due;
	struct command_slot *commands;
	struct ingest_stats st;
};

static void log_default(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "ingest: %s\n", msg);
}

static void logf_(struct ingest *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct ingest *in, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	in->opts.log(in->opts.log_ctx, buf);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake_thread(struct ingest *in)
{
	char c = 1;

	if (write(in->wake[1], &c, 1) < 0 && errno != EAGAIN)
		logf_(in, "wake: %s", strerror(errno));
}

/* ---- the listening socket and the accept thread --------------------------- */

static int open_listener(struct ingest *in, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(in->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	/* Open again after a refuse fault even with connections in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&in->addr, in->addrlen) < 0 || listen(fd, 1024) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s port %u: %s", in->bind_host, (unsigned)in->port,
			 strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* Answer the slow fault's requests whose time has come; returns ms to the next one, or -1. */
static int due_answers(struct ingest *in, struct MHD_Connection **resume, size_t *n, size_t max)
{
	int64_t now = mono_ms(), next = -1;

	*n = 0;
	for (struct req *q = in->waiting; q; q = q->next) {
		if (!q->ready || !q->suspended)
			continue;
		if (q->answer_at_ms <= now || in->stopping) {
			if (*n < max) {
				q->suspended = false;
				resume[(*n)++] = q->conn;
			} else {
				next = 0;
			}
		} else if (next < 0 || q->answer_at_ms - now < next) {
			next = q->answer_at_ms - now;
		}
	}
	return next > INT32_MAX ? INT32_MAX : (int)next;
}

/* How often open connections are checked against the request deadline. */
#define DEADLINE_SCAN_MS 250

/*
 * Shut down the connections past the request deadline (in->lock held).
 * shutdown() and not close(): the descriptor stays MHD's, which sees the
 * end and closes it; MHD tells on_connection() before it closes, so a
 * linked slot's descriptor is still the connection's.
 */
static void cut_slow_requests(struct ingest *in, int64_t now)
{
	int64_t limit = (int64_t)in->opts.idle_timeout_s * 1000;

	for (struct conn_slot *s = in->slots; s; s = s->next) {
		if (s->busy || s->cut || now - s->since_ms < limit)
			continue;
		s->cut = true;
		shutdown(s->fd, SHUT_RDWR);
		if (in->cut++ % 1000 == 0)
			logf_(in, "closed a connection that sent no whole request within %u s "
			      "(%llu so far)", in->opts.idle_timeout_s, (unsigned long long)in->cut);
	}
}

static void *accept_main(void *arg)
{
	struct ingest *in = arg;
	char err[200];

	for (;;) {
		struct MHD_Connection *resume[64];
		struct pollfd p[2] = { { .fd = in->wake[0], .events = POLLIN } };
		size_t n;
		int timeout, nfds = 1;
		bool listening;

		pthread_mutex_lock(&in->lock);
		if (in->stopping) {
			pthread_mutex_unlock(&in->lock);
			break;
		}
		timeout = due_answers(in, resume, &n, sizeof(resume) / sizeof(resume[0]));
		if (in->fault == INGEST_FAULT_REFUSE && in->listen_fd >= 0) {
			close(in->listen_fd);
			in->listen_fd = -1;
		} else if (in->fault != INGEST_FAULT_REFUSE && in->listen_fd < 0) {
			in->listen_fd = open_listener(in, err, sizeof(err));
			if (in->listen_fd < 0) {
				logf_(in, "listening again: %s; retrying", err);
				timeout = timeout < 0 || timeout > RELISTEN_RETRY_MS ? RELISTEN_RETRY_MS
										     : timeout;
			}
		}
		if (in->fault_applied != in->fault_set) {
			in->fault_applied = in->fault_set;
			pthread_cond_broadcast(&in->changed);
		}
		listening = in->listen_fd >= 0 && in->connections < in->opts.max_connections;
		if (in->slots) {
			int64_t now = mono_ms();

			if (now >= in->next_scan_ms) {
				cut_slow_requests(in, now);
				in->next_scan_ms = now + DEADLINE_SCAN_MS;
			}
			if (timeout < 0 || timeout > DEADLINE_SCAN_MS)
				timeout = DEADLINE_SCAN_MS;
		}
		if (listening) {
			p[1].fd = in->listen_fd;
			p[1].events = POLLIN;
			nfds = 2;
		}
		pthread_mutex_unlock(&in->lock);
		for (size_t i = 0; i < n; i++)
			MHD_resume_connection(resume[i]);
		if (n)
			continue;
		if (poll(p, (nfds_t)nfds, timeout) < 0 && errno != EINTR)
			logf_(in, "poll: %s", strerror(errno));
		if (p[0].revents) {
			char buf[64];

			while (read(in->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if (nfds == 2 && p[1].revents) {
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);
			int fd = accept4(p[1].fd, (struct sockaddr *)&peer, &plen,
					 SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd < 0) {
				if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
					logf_(in, "accept: %s", strerror(errno));
				/* Out of descriptors: let connections close first. */
				if (errno == EMFILE || errno == ENFILE)
					poll(NULL, 0, 50);
				continue;
			}
			/* MHD closes the socket itself when it cannot take it. */
			if (MHD_add_connection(in->daemon, fd, (struct sockaddr *)&peer, plen) != MHD_YES)
				logf_(in, "a connection could not be taken: %s", strerror(errno));
		}
	}
	return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct ingest *in = cls;
	struct conn_slot *s = *socket_ctx;
	bool was_full, first = false;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		/* Without a slot the connection has only MHD's idle timeout. */
		if (ci && (s = calloc(1, sizeof(*s)))) {
			s->fd = ci->connect_fd;
			s->since_ms = mono_ms();
		}
		*socket_ctx = s;
	}
	pthread_mutex_lock(&in->lock);
	was_full = in->connections >= in->opts.max_connections;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		in->connections++;
		if (s) {
			first = !in->slots;
			s->next = in->slots;
			if (in->slots)
				in->slots->prev = s;
			in->slots = s;
		}
	} else {
		if (in->connections)
			in->connections--;
		if (s) {
			if (s->prev)
				s->prev->next = s->next;
			else
				in->slots = s->next;
			if (s->next)
				s->next->prev = s->prev;
		}
	}
	pthread_mutex_unlock(&in->lock);
	if (code != MHD_CONNECTION_NOTIFY_STARTED) {
		free(s);
		*socket_ctx = NULL;
	}
	/* A connection closed below the limit: accept the backlog again. The
	 * first open connection: the deadline needs checking from now on. */
	if ((was_full && code == MHD_CONNECTION_NOTIFY_CLOSED) || first)
		wake_thread(in);
}

/* ---- commands -------------------------------------------------------------------- */

static struct command_slot *command_slot(struct ingest *in, const char *device_id, bool create)
{
	struct command_slot *s;

	for (s = in->commands; s; s = s->next)
		if (strcmp(s->device_id, device_id) == 0)
			return s;
	if (!create || !(s = calloc(1, sizeof(*s))))
		return NULL;
	snprintf(s->device_id, sizeof(s->device_id), "%s", device_id);
	s->next = in->commands;
	in->commands = s;
	return s;
}

/* Take the device's queued command, if any (with in->lock held). */
static const char *take_command(struct ingest *in, const char *device_id, uint64_t *id)
{
	struct command_slot *s = command_slot(in, device_id, false);
	const char *cmd;

	if (!s || !s->pending)
		return NULL;
	cmd = s->pending;
	*id = s->pending_id;
	s->pending = NULL;
	in->st.commands_delivered++;
	return cmd;
}

int ingest_command(struct ingest *in, const char *device_id, const char *command)
{
	struct command_slot *s;
	const char *cmd;

	if (!in || !device_id || !command || !ingest_device_id_ok(device_id, strlen(device_id)))
		return -EINVAL;
	if (strcmp(command, "start") == 0)
		cmd = "start";
	else if (strcmp(command, "stop") == 0)
		cmd = "stop";
	else
		return -EINVAL;
	pthread_mutex_lock(&in->lock);
	s = command_slot(in, device_id, true);
	if (s) {
		s->pending = cmd;
		s->pending_id = ++s->last_id;
	}
	pthread_mutex_unlock(&in->lock);
	return s ? 0 : -ENOMEM;
}

/* ---- requests ---------------------------------------------------------------------- */

static void req_free(struct req *q)
{
	free(q->body);
	free(q);
}

static void unlink_waiting(struct ingest *in, struct req *q)
{
	for (struct req **p = &in->waiting; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	q->waiting = false;
	pthread_cond_broadcast(&in->changed);
}

static enum MHD_Result respond(struct ingest *in, struct MHD_Connection *c, int status,
			       const char *json, const char *allow)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(json), (void *)json,
								     MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(c, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	pthread_mutex_lock(&in->lock);
	in->st.requests++;
	pthread_mutex_unlock(&in->lock);
	return rc;
}

static enum MHD_Result respond_error(struct ingest *in, struct MHD_Connection *c, int status,
				     const char *reason, const char *allow)
{
	char json[512];

	ingest_answer_error(json, sizeof(json), status, reason);
	return respond(in, c, status, json, allow);
}

/* The connection's request is whole (or answered early): no deadline until it is answered. */
static void mark_busy(struct ingest *in, struct req *q)
{
	if (!q->slot)
		return;
	pthread_mutex_lock(&in->lock);
	q->slot->busy = true;
	pthread_mutex_unlock(&in->lock);
}

/* The recorder's writer: the body's batch committed (or was given up). */
static void on_stored(void *ctx, int err)
{
	struct req *q = ctx;
	struct ingest *in = q->in;
	bool resume = false, free_it;

	pthread_mutex_lock(&in->lock);
	q->callback_due = false;
	in->callbacks_due--;
	free_it = q->conn_gone;
	if (!free_it) {
		q->status = err ? MHD_HTTP_SERVICE_UNAVAILABLE
				: q->body_ok ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST;
		if (err)
			q->reason = "the record could not be written";
		q->ready = true;
		if (q->answer_at_ms > mono_ms() && !in->stopping) {
			wake_thread(in);        /* its timer answers it */
		} else if (q->suspended) {
			q->suspended = false;
			resume = true;
		}
	}
	pthread_cond_broadcast(&in->changed);
	pthread_mutex_unlock(&in->lock);
	if (free_it)
		req_free(q);
	else if (resume)
		MHD_resume_connection(q->conn);
}

/* Resumed: say what became of the body. */
static enum MHD_Result answer_ready(struct ingest *in, struct req *q, struct MHD_Connection *c)
{
	char json[512];
	const char *cmd = NULL;
	uint64_t id = 0;
	int status;

	pthread_mutex_lock(&in->lock);
	if (q->waiting)
		unlink_waiting(in, q);
	status = q->status;
	if (status == MHD_HTTP_OK) {
		cmd = take_command(in, q->device_id, &id);
		in->st.stored++;
	} else if (status == MHD_HTTP_BAD_REQUEST) {
		in->st.bad_request++;
	}
	pthread_mutex_unlock(&in->lock);
	if (status == MHD_HTTP_OK) {
		ingest_answer_stored(json, sizeof(json), cmd, id);
		return respond(in, c, status, json, NULL);
	}
	return respond_error(in, c, status, q->reason ? q->reason : "not stored", NULL);
}

/* Hand a complete POST body, checked into @b, to the recorder and wait
 * (suspended) for its commit. */
static enum MHD_Result take_reading(struct ingest *in, struct req *q, struct MHD_Connection *c,
				    const struct ingest_body *bp, uint32_t delay_ms)
{
	const struct ingest_body b = *bp;
	int rc;

	q->body_ok = b.ok;
	q->reason = b.reason;
	memcpy(q->device_id, b.device_id, sizeof(q->device_id));
	q->answer_at_ms = delay_ms ? mono_ms() + delay_ms : 0;
	pthread_mutex_lock(&in->lock);
	if (in->stopping) {
		pthread_mutex_unlock(&in->lock);
		return respond_error(in, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the endpoint is stopping",
				     NULL);
	}
	/* Suspended before the recorder can call back: its resume always
	 * finds the connection suspended. */
	MHD_suspend_connection(c);
	q->suspended = true;
	q->waiting = true;
	q->next = in->waiting;
	in->waiting = q;
	q->callback_due = true;
	in->callbacks_due++;
	pthread_mutex_unlock(&in->lock);
	rc = recorder_ingest(in->opts.recorder, b.topic, q->body ? q->body : "", q->len,
			     b.ok ? NULL : b.reason, on_stored, q);
	if (rc < 0) {
		pthread_mutex_lock(&in->lock);
		q->callback_due = false;
		in->callbacks_due--;
		q->status = rc == -EMSGSIZE ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_SERVICE_UNAVAILABLE;
		q->reason = rc == -EMSGSIZE ? "body longer than the recorder keeps" : "out of memory";
		if (rc == -EMSGSIZE)
			in->st.too_large++;
		q->ready = true;
		q->suspended = false;
		pthread_mutex_unlock(&in->lock);
		MHD_resume_connection(c);
	}
	return MHD_YES;
}

/* The reset fault: no answer, a TCP RST instead of a FIN. */
static enum MHD_Result reset_connection(struct ingest *in, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (ci)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	pthread_mutex_lock(&in->lock);
	in->st.requests++;
	in->st.faulted++;
	pthread_mutex_unlock(&in->lock);
	return MHD_NO;
}

/* Keep up to max_body bytes of a POST body; beyond it only note that it was too large. */
static void take_body(struct ingest *in, struct req *q, const char *data, size_t n)
{
	if (q->too_large || q->route.kind != INGEST_ROUTE_DATA)
		return;
	if (n > in->opts.max_body - q->len) {
		q->too_large = true;
		free(q->body);
		q->body = NULL;
		q->len = q->cap = 0;
		return;
	}
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 1024;
		char *p;

		while (cap < q->len + n)
			cap *= 2;
		if (cap > in->opts.max_body)
			cap = in->opts.max_body;
		if (!(p = realloc(q->body, cap))) {
			q->too_large = true;    /* answered 413: the device may retry smaller */
			return;
		}
		q->body = p;
		q->cap = cap;
	}
	memcpy(q->body + q->len, data, n);
	q->len += n;
}

/*
 * The fault a request meets: one set on the whole endpoint first, else the
 * one its device meets (opts.device_fault), when the request names one.
 */
static void pick_fault(struct ingest *in, const char *device_id, enum ingest_fault *fault,
		       int *status, uint32_t *delay_ms)
{
	pthread_mutex_lock(&in->lock);
	*fault = in->fault;
	*status = in->fault_status;
	*delay_ms = in->fault_delay_ms;
	pthread_mutex_unlock(&in->lock);
	if (*fault == INGEST_FAULT_NONE && device_id[0] && in->opts.device_fault)
		in->opts.device_fault(in->opts.device_fault_ctx, device_id, fault, status,
				      delay_ms);
	/* Refusing is the listening socket's business, not one request's. */
	if (*fault == INGEST_FAULT_REFUSE)
		*fault = INGEST_FAULT_NONE;
	if (*fault != INGEST_FAULT_SLOW)
		*delay_ms = 0;
	if (*fault == INGEST_FAULT_STATUS && (*status < 100 || *status > 599))
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
	if (*fault == INGEST_FAULT_STATUS) { /* a reset counts itself as it resets */
		pthread_mutex_lock(&in->lock);
		in->st.faulted++;
		pthread_mutex_unlock(&in->lock);
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct ingest *in = cls;
	struct req *q = *con_cls;
	struct ingest_body body;
	enum ingest_fault fault;
	int fault_status;
	uint32_t delay_ms;
	const char *cmd;
	char json[256];
	uint64_t id = 0;

	(void)version;
	if (!q) {
		const union MHD_ConnectionInfo *ci;
		const char *len, *type;

		if (!(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		q->in = in;
		q->conn = c;
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		q->slot = ci ? ci->socket_context : NULL;
		ingest_route(method, url, &q->route);
		*con_cls = q;
		if (q->route.kind != INGEST_ROUTE_DATA)
			return MHD_YES;
		/* Refused from its Content-Length: the body is never kept. Up to
		 * DISCARD_MAX it is read and dropped, then answered 413 (below):
		 * a server that answers and closes with the body unread makes
		 * the kernel reset the connection, and the client may see the
		 * reset instead of the answer. Beyond that, answered at once. */
		len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (ingest_length_too_large(len, in->opts.max_body) &&
		    !ingest_length_too_large(len, DISCARD_MAX)) {
			q->too_large = true;
			return MHD_YES;
		}
		if (ingest_length_too_large(len, in->opts.max_body)) {
			mark_busy(in, q);
			pthread_mutex_lock(&in->lock);
			in->st.too_large++;
			pthread_mutex_unlock(&in->lock);
			snprintf(json, sizeof(json), "body longer than %zu bytes", in->opts.max_body);
			return respond_error(in, c, MHD_HTTP_CONTENT_TOO_LARGE, json, NULL);
		}
		type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!ingest_content_type_ok(type)) {
			mark_busy(in, q);
			return respond_error(in, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					     "Content-Type must be application/json", NULL);
		}
		return MHD_YES;
	}
	if (*data_size) {
		take_body(in, q, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	if (q->ready)
		return answer_ready(in, q, c);

	mark_busy(in, q);
	memset(&body, 0, sizeof(body));
	if (q->route.kind == INGEST_ROUTE_DATA && !q->too_large)
		ingest_check_body(q->body ? q->body : "", q->len, &body);
	pick_fault(in, q->route.kind == INGEST_ROUTE_COMMAND ? q->route.device_id : body.device_id,
		   &fault, &fault_status, &delay_ms);
	if (fault == INGEST_FAULT_RESET)
		return reset_connection(in, c);
	if (fault == INGEST_FAULT_STATUS) {
		snprintf(json, sizeof(json), "server fault: answering %d", fault_status);
		return respond_error(in, c, fault_status, json, NULL);
	}
	switch (q->route.kind) {
	case INGEST_ROUTE_DATA:
		if (q->too_large) {
			pthread_mutex_lock(&in->lock);
			in->st.too_large++;
			pthread_mutex_unlock(&in->lock);
			snprintf(json, sizeof(json), "body longer than %zu bytes", in->opts.max_body);
			return respond_error(in, c, MHD_HTTP_CONTENT_TOO_LARGE, json, NULL);
		}
		return take_reading(in, q, c, &body, delay_ms);
	case INGEST_ROUTE_COMMAND:
		pthread_mutex_lock(&in->lock);
		cmd = take_command(in, q->route.device_id, &id);
		pthread_mutex_unlock(&in->lock);
		ingest_answer_command(json, sizeof(json), cmd, id);
		return respond(in, c, MHD_HTTP_OK, json, NULL);
	case INGEST_ROUTE_BAD_METHOD:
		snprintf(json, sizeof(json), "%s takes %s only", url, q->route.allow);
		return respond_error(in, c, MHD_HTTP_METHOD_NOT_ALLOWED, json, q->route.allow);
	default:
		return respond_error(in, c, MHD_HTTP_NOT_FOUND, "no such path: POST readings to "
				     INGEST_DATA_PATH, NULL);
	}
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ingest *in = cls;
	struct req *q = *con_cls;
	bool free_it;

	(void)c;
	(void)toe;
	if (!q)
		return;
	*con_cls = NULL;
	pthread_mutex_lock(&in->lock);
	if (q->waiting)
		unlink_waiting(in, q);
	/* Kept alive for another request: its deadline starts now. */
	if (q->slot) {
		q->slot->busy = false;
		q->slot->since_ms = mono_ms();
	}
	q->conn_gone = true;
	free_it = !q->callback_due;
	pthread_mutex_unlock(&in->lock);
	if (free_it)
		req_free(q);
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	struct ingest *in = cls;
	char buf[400];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	/* The reset fault's doing, once per request: not news. */
	if (strncmp(buf, "Application reported internal error", 35) == 0)
		return;
	in->opts.log(in->opts.log_ctx, buf);
}

/* ---- public API -------------------------------------------------------------------- */

static int parse_bind(struct ingest *in, char *err, size_t errlen)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&in->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&in->addr;

	memset(&in->addr, 0, sizeof(in->addr));
	if (inet_pton(AF_INET, in->bind_host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(in->port);
		in->addrlen = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, in->bind_host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(in->port);
		in->addrlen = sizeof(*a6);
		return 0;
	}
	snprintf(err, errlen, "bind address %s is not an IPv4 or IPv6 address", in->bind_host);
	return -EINVAL;
}

/* The port the kernel gave, for port 0; kept for listening again after a refuse fault. */
static void learn_port(struct ingest *in, int fd)
{
	struct sockaddr_storage a;
	socklen_t n = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &n) < 0)
		return;
	in->port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
						 : ((struct sockaddr_in *)&a)->sin_port);
	if (in->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&in->addr)->sin6_port = htons(in->port);
	else
		((struct sockaddr_in *)&in->addr)->sin_port = htons(in->port);
}

static void destroy(struct ingest *in)
{
	if (in->daemon)
		MHD_stop_daemon(in->daemon);
	if (in->listen_fd >= 0)
		close(in->listen_fd);
	if (in->wake[0] >= 0)
		close(in->wake[0]);
	if (in->wake[1] >= 0)
		close(in->wake[1]);
	while (in->commands) {
		struct command_slot *s = in->commands;

		in->commands = s->next;
		free(s);
	}
	pthread_cond_destroy(&in->changed);
	pthread_mutex_destroy(&in->lock);
	free(in->bind_host);
	free(in);
}

int ingest_start(const struct ingest_opts *opts, struct ingest **out, char *err, size_t errlen)
{
	struct ingest *in;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!opts || !opts->recorder) {
		snprintf(err, errlen, "no recorder to store into");
		return -EINVAL;
	}
	if (!(in = calloc(1, sizeof(*in))))
		return -ENOMEM;
	in->opts = *opts;
	in->listen_fd = in->wake[0] = in->wake[1] = -1;
	pthread_mutex_init(&in->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&in->changed, &ca);
	pthread_condattr_destroy(&ca);
	if (!in->opts.log)
		in->opts.log = log_default;
	if (!in->opts.max_body)
		in->opts.max_body = 65536;
	if (!in->opts.idle_timeout_s)
		in->opts.idle_timeout_s = 10;
	if (!in->opts.max_connections)
		in->opts.max_connections = 4096;
	in->port = opts->port;
	in->bind_host = strdup(opts->bind_host ? opts->bind_host : "127.0.0.1");
	if (!in->bind_host) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = parse_bind(in, err, errlen)) < 0)
		goto fail;
	if ((rc = open_listener(in, err, errlen)) < 0)
		goto fail;
	in->listen_fd = rc;
	learn_port(in, in->listen_fd);
	if (pipe2(in->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* MHD polls the connections we hand it; TURBO also keeps it from
	 * shutting a socket down before closing it, so that the reset fault's
	 * SO_LINGER 0 close is a RST and not a FIN. */
	in->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				      MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME |
				      MHD_USE_TURBO | MHD_USE_ERROR_LOG,
				      0, NULL, NULL, on_request, in,
				      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, in,
				      MHD_OPTION_CONNECTION_TIMEOUT, in->opts.idle_timeout_s,
				      MHD_OPTION_CONNECTION_LIMIT, in->opts.max_connections + 16,
				      MHD_OPTION_NOTIFY_COMPLETED, on_completed, in,
				      MHD_OPTION_NOTIFY_CONNECTION, on_connection, in,
				      MHD_OPTION_END);
	if (!in->daemon) {
		snprintf(err, errlen, "the HTTP server did not start");
		rc = -EIO;
		goto fail;
	}
	if ((rc = -pthread_create(&in->thread, NULL, accept_main, in)) < 0) {
		snprintf(err, errlen, "thread: %s", strerror(-rc));
		goto fail;
	}
	in->thread_running = true;
	*out = in;
	return 0;
fail:
	destroy(in);
	return rc;
}

uint16_t ingest_port(const struct ingest *in)
{
	return in->port;
}

/* Wait, at most @ms, until @pred holds (with in->lock held). */
static bool wait_until(struct ingest *in, bool (*pred)(const struct ingest *in), int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!pred(in))
		if (pthread_cond_timedwait(&in->changed, &in->lock, &until) == ETIMEDOUT)
			return pred(in);
	return true;
}

static bool none_waiting(const struct ingest *in)
{
	return !in->waiting;
}

static bool no_callbacks_due(const struct ingest *in)
{
	return in->callbacks_due == 0;
}

static bool fault_in_force(const struct ingest *in)
{
	return in->fault_applied == in->fault_set;
}

void ingest_stop(struct ingest *in)
{
	bool answered, called;

	if (!in)
		return;
	pthread_mutex_lock(&in->lock);
	in->stopping = true;
	/* Whatever waits for its commit is answered 503 now: the device keeps
	 * it. Resumed one at a time outside the lock, which MHD's thread may
	 * be waiting for. */
	for (;;) {
		struct MHD_Connection *c = NULL;

		for (struct req *q = in->waiting; q && !c; q = q->next) {
			if (!q->ready) {
				q->status = MHD_HTTP_SERVICE_UNAVAILABLE;
				q->reason = "the endpoint is stopping";
				q->ready = true;
			}
			if (q->suspended) {
				q->suspended = false;
				c = q->conn;
			}
		}
		pthread_mutex_unlock(&in->lock);
		if (!c)
			break;
		MHD_resume_connection(c);
		pthread_mutex_lock(&in->lock);
	}
	wake_thread(in);
	if (in->thread_running)
		pthread_join(in->thread, NULL);
	pthread_mutex_lock(&in->lock);
	answered = wait_until(in, none_waiting, STOP_ANSWER_MS);
	pthread_mutex_unlock(&in->lock);
	if (!answered)
		logf_(in, "stop: requests still unanswered after %d ms; closing them", STOP_ANSWER_MS);
	MHD_stop_daemon(in->daemon);
	in->daemon = NULL;
	pthread_mutex_lock(&in->lock);
	called = wait_until(in, no_callbacks_due, STOP_CALLBACK_MS);
	pthread_mutex_unlock(&in->lock);
	if (!called) {
		/* Freeing now would leave the recorder's writer a dangling pointer. */
		logf_(in, "stop: the recorder still holds %u bodies after %d ms; leaving the endpoint's "
		      "memory to them", in->callbacks_due, STOP_CALLBACK_MS);
		return;
	}
	destroy(in);
}

int ingest_set_fault(struct ingest *in, enum ingest_fault fault, int status, uint32_t delay_ms)
{
	if (!in || fault < INGEST_FAULT_NONE || fault > INGEST_FAULT_RESET ||
	    (fault == INGEST_FAULT_STATUS && (status < 100 || status > 599)))
		return -EINVAL;
	pthread_mutex_lock(&in->lock);
	in->fault = fault;
	in->fault_status = status;
	in->fault_delay_ms = delay_ms;
	in->fault_set++;
	/* The accept thread closes or opens the listening socket; once this
	 * returns, a connect sees the fault (or its end). */
	wake_thread(in);
	if (!wait_until(in, fault_in_force, 2000))
		logf_(in, "fault: the listening socket did not follow within 2 s");
	pthread_mutex_unlock(&in->lock);
	return 0;
}

void ingest_read_stats(struct ingest *in, struct ingest_stats *out)
{
	pthread_mutex_lock(&in->lock);
	*out = in->st;
	pthread_mutex_unlock(&in->lock);
}
