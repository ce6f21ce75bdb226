/*
 * The HTTP transport: readings leave the outbox one POST at a time
 * (hal_http carries one request at a time) and commands arrive in the
 * endpoint's answers, or, while the robot has nothing to post, in the
 * answer to a poll of its command URL.
 *
 * The outbox API is the MQTT one: each POST is "sent" under a synthetic
 * message id, and its 2xx is the acknowledgement. A 4xx is a refusal of
 * that reading for good: it leaves the outbox too, counted apart, so one
 * reading the endpoint cannot take never wedges the ones behind it. A
 * timeout, a broken connection or a 5xx keeps it, and the robot backs off
 * before it tries again, as it does after a lost broker.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal_http.h"
#include "hal_time.h"
#include "http_answer.h"
#include "log.h"
#include "robot_internal.h"

#define DATA_SUFFIX "/data"
#define JSON_TYPE "application/json"

static void on_response(void *ctx, int status, const void *body, size_t len);

static const struct hal_http_callbacks http_callbacks = {
	.on_response = on_response,
};

/* GET <ingest path minus a trailing /data>/<id>/command */
static void make_command_path(struct robot *r)
{
	size_t base = strlen(r->cfg.ingest_path);
	size_t suffix = sizeof(DATA_SUFFIX) - 1;

	if (base >= suffix && strcmp(r->cfg.ingest_path + base - suffix, DATA_SUFFIX) == 0)
		base -= suffix;
	if (base > 0 && r->cfg.ingest_path[base - 1] == '/')
		base--; /* "/x/" and "/x" lead to the same "/x/<id>/command" */
	snprintf(r->http_command_path, sizeof(r->http_command_path), "%.*s/%s/command",
		 (int)base, r->cfg.ingest_path, r->cfg.device_id);
}

int robot_http_boot(struct robot *r)
{
	int rc = hal_http_init(&http_callbacks, r);

	if (rc < 0) {
		LOG_ERROR("transport http unavailable on this board (%d): "
			  "no HTTP client; use transport mqtt", rc);
		return rc;
	}
	make_command_path(r);
	return 0;
}

void robot_http_go_online(struct robot *r, uint64_t now_us)
{
	if (r->ever_online)
		r->counters.reconnects++;
	r->ever_online = true;
	/* Whatever was in flight when the last exchange failed goes again. */
	outbox_rewind(&r->outbox);
	r->http_last_exchange_us = now_us;
	robot__set_state(r, ROBOT_ONLINE);
	LOG_INFO("online as %s over HTTP, %s:%u%s (boot %lu)", r->cfg.device_id,
		 r->cfg.ingest_host, (unsigned int)r->cfg.ingest_port, r->cfg.ingest_path,
		 (unsigned long)r->boot);
}

void robot_http_abort(struct robot *r)
{
	hal_http_abort();
	r->http_posting = false;
	r->http_live = false;
	outbox_rewind(&r->outbox);
}

/* A command_id is applied once; an answer repeats it until a newer one. */
static void take_command(struct robot *r, const void *body, size_t len)
{
	struct http_answer a;

	if (http_answer_parse(body, len, &a) < 0) {
		LOG_WARN("answer from the endpoint is not the documented JSON (%lu bytes); "
			 "no command taken from it", (unsigned long)len);
		return;
	}
	if (!a.has_command)
		return;
	if (!a.has_command_id) {
		r->counters.commands_invalid++;
		LOG_WARN("command without a command_id ignored");
		return;
	}
	if (r->http_command_applied && a.command_id == r->http_last_command_id)
		return;
	r->http_command_applied = true;
	r->http_last_command_id = a.command_id;
	LOG_DEBUG("command_id %lu", (unsigned long)a.command_id);
	robot__obey(r, a.command);
}

static bool is_2xx(int status)
{
	return status >= 200 && status <= 299;
}

static bool is_4xx(int status)
{
	return status >= 400 && status <= 499;
}

/* A reading storage refused, posted once: there is nothing to keep or resend. */
static void posted_live(struct robot *r, int status, const void *body, size_t len)
{
	if (is_2xx(status)) {
		backoff_reset(&r->backoff);
		take_command(r, body, len);
		return;
	}
	r->counters.publish_errors++;
	LOG_ERROR("a reading storage refused was answered %d: lost", status);
	if (!is_4xx(status) && r->state == ROBOT_ONLINE)
		robot__enter_backoff(r, hal_time_now_us(), "reading not stored by the endpoint");
}

/* The reading in flight: stored, refused for good, or to try again. */
static void posted(struct robot *r, int status, const void *body, size_t len)
{
	uint64_t now = hal_time_now_us();

	if (r->http_live) {
		r->http_live = false;
		posted_live(r, status, body, len);
		return;
	}
	if (is_2xx(status)) {
		r->counters.acknowledged += outbox_acked(&r->outbox, r->http_msg_id);
		backoff_reset(&r->backoff);
		take_command(r, body, len);
		return;
	}
	if (is_4xx(status)) {
		outbox_acked(&r->outbox, r->http_msg_id);
		r->counters.http_refused++;
		LOG_WARN("endpoint refused a reading with HTTP %d: dropped (%lu so far): %.*s",
			 status, (unsigned long)r->counters.http_refused,
			 (int)(len > 120 ? 120 : len), (const char *)body);
		take_command(r, body, len);
		return;
	}
	outbox_rewind(&r->outbox);
	r->counters.publish_errors++;
	if (status < 0)
		LOG_WARN("POST %s failed (%d)", r->cfg.ingest_path, status);
	else
		LOG_WARN("POST %s answered HTTP %d", r->cfg.ingest_path, status);
	if (r->state == ROBOT_ONLINE)
		robot__enter_backoff(r, now, "reading not stored by the endpoint");
}

static void polled(struct robot *r, int status, const void *body, size_t len)
{
	if (is_2xx(status)) {
		backoff_reset(&r->backoff);
		take_command(r, body, len);
		return;
	}
	if (is_4xx(status)) {
		/* The endpoint is there but has no commands for us: poll on. */
		LOG_WARN("GET %s answered HTTP %d", r->http_command_path, status);
		return;
	}
	LOG_WARN("GET %s failed (%d)", r->http_command_path, status);
	if (r->state == ROBOT_ONLINE)
		robot__enter_backoff(r, hal_time_now_us(), "command poll failed");
}

static void on_response(void *ctx, int status, const void *body, size_t len)
{
	struct robot *r = ctx;
	bool was_post = r->http_posting;

	r->http_posting = false;
	if (!body)
		len = 0;
	if (was_post)
		posted(r, status, body, len);
	else
		polled(r, status, body, len);
}

static int request(struct robot *r, const char *method, const char *path, const void *body,
		   size_t len, uint64_t now)
{
	const struct hal_http_request req = {
		.method = method,
		.host = r->cfg.ingest_host,
		.port = r->cfg.ingest_port,
		.path = path,
		.content_type = body ? JSON_TYPE : NULL,
		.body = body,
		.body_len = len,
		.timeout_ms = r->cfg.http_timeout_ms,
	};
	int rc = hal_http_request(&req);

	if (rc < 0)
		LOG_WARN("%s %s not started (%d)", method, path, rc);
	else
		r->http_last_exchange_us = now;
	return rc;
}

/* POST the oldest reading not yet sent. Returns 1 if one went, 0 if none waits. */
static int post_next(struct robot *r, uint64_t now)
{
	for (;;) {
		struct outbox_reading o;
		char json[ROBOT_PAYLOAD_MAX];
		uint32_t index;
		bool again;
		int n, rc = outbox_peek(&r->outbox, &o, &index);

		if (rc == -EAGAIN)
			return 0;
		if (rc < 0) {
			LOG_ERROR("outbox record unreadable (%d); counted as dropped", rc);
			continue;
		}
		n = robot__encode_reading(r, &o, json, sizeof(json));
		if (n < 0 || request(r, "POST", r->cfg.ingest_path, json, (size_t)n, now) < 0) {
			r->counters.publish_errors++;
			return -EIO;
		}
		if (++r->http_msg_id == 0)
			r->http_msg_id = 1; /* 0 is no id at all */
		r->http_posting = true;
		outbox_sent(&r->outbox, index, r->http_msg_id, &again);
		if (again)
			r->counters.redelivered++;
		else
			r->counters.published++;
		return 1;
	}
}

int robot_http_send_live(struct robot *r, const char *json, size_t len, uint64_t now_us)
{
	int rc;

	if (r->state != ROBOT_ONLINE || hal_http_busy())
		return -EBUSY;
	rc = request(r, "POST", r->cfg.ingest_path, json, len, now_us);
	if (rc < 0)
		return rc;
	r->http_posting = true;
	r->http_live = true;
	return 0;
}

uint64_t robot_http_step(struct robot *r, uint64_t now)
{
	uint64_t poll_at;
	int rc;

	if (hal_http_busy())
		return UINT64_MAX; /* the answer wakes the wait */
	rc = post_next(r, now);
	if (rc < 0) {
		robot__enter_backoff(r, now, "reading not sent");
		return r->state_deadline_us;
	}
	if (rc > 0)
		return UINT64_MAX;
	/* Nothing to post: a stopped robot must still hear `start`. */
	poll_at = r->http_last_exchange_us + r->cfg.command_poll_ms * ROBOT_MS;
	if (now < poll_at)
		return poll_at;
	if (request(r, "GET", r->http_command_path, NULL, 0, now) < 0) {
		robot__enter_backoff(r, now, "command poll not sent");
		return r->state_deadline_us;
	}
	return UINT64_MAX;
}
