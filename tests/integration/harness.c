/*
 * Integration harness. Everything waits on events (a socket accepting, a
 * message arriving, a child exiting) with a deadline; nothing sleeps to
 * synchronise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Wait for a child to exit, at most @timeout_s: poll() on its pidfd. */
static int wait_child(pid_t pid, double timeout_s)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status;

	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, (int)(timeout_s * 1000));
		close(fd);
	}
	if (waitpid(pid, &status, WNOHANG) == pid)
		return status;
	return -1;
}

/* Ready means a TCP connect to the listener succeeds. */
static bool port_accepts(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static int broker_launch(struct broker *b)
{
	char *argv[] = { "mosquitto", "-c", b->conf, NULL };
	char log[300];
	posix_spawn_file_actions_t fa;
	double until;
	int rc;

	/* The log goes to stderr, opened here: as root, mosquitto drops to its
	 * own user and could not open a file in our private directory. */
	snprintf(log, sizeof(log), "%s/mosquitto.log", b->dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	rc = posix_spawnp(&b->pid, "mosquitto", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	until = now_s() + 10;
	while (now_s() < until) {
		if (port_accepts(b->port))
			return 0;
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			return -1;
		}
		poll(NULL, 0, 10);
	}
	return -1;
}

int broker_start(struct broker *b)
{
	return broker_start_opts(b, true);
}

int broker_start_opts(struct broker *b, bool allow_anonymous)
{
	FILE *f;

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "/tmp/robofleet-it-XXXXXX");
	if (!mkdtemp(b->dir))
		return -1;
	for (int attempt = 0; attempt < 5; attempt++) {
		b->port = free_port();
		snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
		f = fopen(b->conf, "w");
		if (!f)
			return -1;
		/* Room for test_recorder's backlog of queued messages. */
		fprintf(f, "listener %d 127.0.0.1\nallow_anonymous %s\npersistence false\n"
			"max_queued_messages 100000\nlog_dest stderr\nlog_type all\n", b->port,
			allow_anonymous ? "true" : "false");
		fclose(f);
		if (broker_launch(b) == 0)
			return 0;
	}
	return -1;
}

int broker_restart(struct broker *b)
{
	return broker_launch(b);
}

void broker_stop(struct broker *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		if (wait_child(b->pid, 5) < 0) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, NULL, 0);
		}
	}
	b->pid = 0;
}

/* ---- observer ---------------------------------------------------------- */

struct observer {
	struct mosquitto *mosq;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct message *log;
	size_t count, cap;
	bool subscribed;
	char pattern[128];
};

static void obs_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct observer *o = obj;

	if (rc == 0)
		mosquitto_subscribe(m, NULL, o->pattern, 1);
}

static void obs_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *q)
{
	struct observer *o = obj;

	(void)m; (void)mid; (void)n; (void)q;
	pthread_mutex_lock(&o->lock);
	o->subscribed = true;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

static void obs_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct observer *o = obj;
	struct message *e;

	(void)m;
	pthread_mutex_lock(&o->lock);
	if (o->count == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct message *grown = realloc(o->log, cap * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&o->lock);
			return;
		}
		o->log = grown;
		o->cap = cap;
	}
	e = &o->log[o->count];
	snprintf(e->topic, sizeof(e->topic), "%s", msg->topic);
	e->len = (size_t)msg->payloadlen;
	e->payload = malloc(e->len + 1);
	if (e->payload) {
		if (e->len)
			memcpy(e->payload, msg->payload, e->len);
		e->payload[e->len] = '\0';
	}
	e->retained = msg->retain;
	e->at = now_s();
	o->count++;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

static void deadline_ts(double timeout_s, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	double t = (double)ts->tv_sec + (double)ts->tv_nsec / 1e9 + timeout_s;
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
}

struct observer *observer_start(int port, const char *pattern)
{
	struct observer *o = calloc(1, sizeof(*o));
	pthread_condattr_t ca;
	struct timespec until;

	if (!o)
		return NULL;
	mosquitto_lib_init();
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cond, &ca);
	snprintf(o->pattern, sizeof(o->pattern), "%s", pattern);
	o->mosq = mosquitto_new(NULL, true, o);
	mosquitto_connect_callback_set(o->mosq, obs_on_connect);
	mosquitto_subscribe_callback_set(o->mosq, obs_on_subscribe);
	mosquitto_message_callback_set(o->mosq, obs_on_message);
	if (mosquitto_connect(o->mosq, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(o->mosq) != MOSQ_ERR_SUCCESS) {
		observer_stop(o);
		return NULL;
	}
	deadline_ts(5, &until);
	pthread_mutex_lock(&o->lock);
	while (!o->subscribed)
		if (pthread_cond_timedwait(&o->cond, &o->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&o->lock);
	if (!o->subscribed) {
		observer_stop(o);
		return NULL;
	}
	return o;
}

void observer_stop(struct observer *o)
{
	if (!o)
		return;
	if (o->mosq) {
		mosquitto_disconnect(o->mosq);
		mosquitto_loop_stop(o->mosq, false);
		mosquitto_destroy(o->mosq);
	}
	for (size_t i = 0; i < o->count; i++)
		free(o->log[i].payload);
	free(o->log);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	free(o);
	mosquitto_lib_cleanup();
}

const struct message *observer_wait(struct observer *o, const char *topic,
				    size_t *cursor, double timeout_s)
{
	struct timespec until;
	const struct message *found = NULL;

	deadline_ts(timeout_s, &until);
	pthread_mutex_lock(&o->lock);
	for (;;) {
		for (; *cursor < o->count; (*cursor)++) {
			if (strcmp(o->log[*cursor].topic, topic) == 0) {
				found = &o->log[(*cursor)++];
				goto out;
			}
		}
		if (pthread_cond_timedwait(&o->cond, &o->lock, &until) == ETIMEDOUT) {
			for (; *cursor < o->count; (*cursor)++)
				if (strcmp(o->log[*cursor].topic, topic) == 0) {
					found = &o->log[(*cursor)++];
					break;
				}
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&o->lock);
	return found;
}

size_t observer_count(struct observer *o)
{
	size_t n;

	pthread_mutex_lock(&o->lock);
	n = o->count;
	pthread_mutex_unlock(&o->lock);
	return n;
}

size_t observer_count_topic(struct observer *o, const char *topic, size_t from)
{
	size_t n = 0;

	pthread_mutex_lock(&o->lock);
	for (size_t i = from; i < o->count; i++)
		if (strcmp(o->log[i].topic, topic) == 0)
			n++;
	pthread_mutex_unlock(&o->lock);
	return n;
}

/* ---- one-shot publisher -------------------------------------------------- */

struct pub_state {
	int mid;
	bool done;
};

static void pub_on_publish(struct mosquitto *m, void *obj, int mid)
{
	struct pub_state *s = obj;

	(void)m;
	if (mid == s->mid)
		s->done = true;
}

int mqtt_publish_once(int port, const char *topic, const void *payload, size_t len)
{
	struct pub_state s = { 0, false };
	struct mosquitto *m;
	double until = now_s() + 5;
	int rc = -1;

	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, &s);
	if (!m)
		goto out;
	mosquitto_publish_callback_set(m, pub_on_publish);
	if (mosquitto_connect(m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS)
		goto out;
	if (mosquitto_publish(m, &s.mid, topic, (int)len, payload, 1, false) != MOSQ_ERR_SUCCESS)
		goto out;
	/* QoS 1: PUBACK means the broker has it and has routed it. */
	while (!s.done && now_s() < until)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			break;
	rc = s.done ? 0 : -1;
	mosquitto_disconnect(m);
out:
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return rc;
}

/* ---- a client that goes silent --------------------------------------------- */

struct silent_client {
	struct mosquitto *mosq;
	bool connected;
};

static void silent_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct silent_client *c = obj;

	(void)m;
	c->connected = rc == 0;
}

struct silent_client *silent_client_start(int port, const char *id, int keepalive_s,
					  const char *will_topic, const char *will_payload)
{
	struct silent_client *c = calloc(1, sizeof(*c));
	double until = now_s() + 5;

	if (!c)
		return NULL;
	mosquitto_lib_init();
	c->mosq = mosquitto_new(id, true, c);
	if (!c->mosq)
		goto fail;
	mosquitto_connect_callback_set(c->mosq, silent_on_connect);
	if (mosquitto_will_set(c->mosq, will_topic, (int)strlen(will_payload), will_payload,
			       1, false) != MOSQ_ERR_SUCCESS)
		goto fail;
	if (mosquitto_connect(c->mosq, "127.0.0.1", port, keepalive_s) != MOSQ_ERR_SUCCESS)
		goto fail;
	/* Serviced only until the CONNACK; never again after that. */
	while (!c->connected && now_s() < until)
		if (mosquitto_loop(c->mosq, 50, 1) != MOSQ_ERR_SUCCESS)
			break;
	if (c->connected)
		return c;
fail:
	silent_client_stop(c);
	return NULL;
}

void silent_client_stop(struct silent_client *c)
{
	if (!c)
		return;
	if (c->mosq)
		mosquitto_destroy(c->mosq);
	mosquitto_lib_cleanup();
	free(c);
}

/* ---- device processes ----------------------------------------------------- */

pid_t device_start(int port, const char *id, const char *state_dir, const char *const extra[])
{
	return device_start_program(ROBOFLEET_DEVICE_PATH, port, id, state_dir, NULL, extra);
}

pid_t device_start_program(const char *program, int port, const char *id, const char *state_dir,
			   const char *log_path, const char *const extra[])
{
	const char *wrapper = getenv("ROBOFLEET_DEVICE_WRAPPER");
	posix_spawn_file_actions_t fa;
	char *argv[64];
	char broker[64];
	char *wrap_copy = NULL;
	int n = 0;
	pid_t pid;

	if (wrapper && *wrapper) {
		wrap_copy = strdup(wrapper);
		for (char *tok = strtok(wrap_copy, " "); tok && n < 16; tok = strtok(NULL, " "))
			argv[n++] = tok;
	}
	snprintf(broker, sizeof(broker), "127.0.0.1:%d", port);
	/* If this test process dies, its devices follow (see hw-shim/system.c). */
	{
		char parent[24];
		snprintf(parent, sizeof(parent), "%ld", (long)getpid());
		setenv("ROBOFLEET_PARENT_PID", parent, 1);
	}
	argv[n++] = (char *)program;
	argv[n++] = "--id";
	argv[n++] = (char *)id;
	argv[n++] = "--broker";
	argv[n++] = broker;
	argv[n++] = "--state-dir";
	argv[n++] = (char *)state_dir;
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (log_path)
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log_path,
						 O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	free(wrap_copy);
	return pid;
}

int process_stop(pid_t pid, int sig, double timeout_s)
{
	int status;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	status = wait_child(pid, timeout_s);
	if (status < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return status;
}

bool process_alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* ---- JSON field extraction for flat test assertions ------------------------ */

static const char *member(const char *json, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(json, key);
	return p ? p + strlen(key) : NULL;
}

bool json_number(const char *json, const char *name, double *out)
{
	const char *p = member(json, name);
	char *end;

	if (!p)
		return false;
	*out = strtod(p, &end);
	return end != p;
}

bool json_string(const char *json, const char *name, char *out, size_t len)
{
	const char *p = member(json, name);
	const char *q;

	if (!p || *p != '"')
		return false;
	q = strchr(p + 1, '"');
	if (!q || (size_t)(q - p - 1) >= len)
		return false;
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	return true;
}
