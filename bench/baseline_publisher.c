/*
 * The benchmark's baseline: the least a robot process can be. It connects
 * with libmosquitto, announces `online` (retained, with an `offline` will),
 * and publishes the same JSON reading as robofleet-device once per interval
 * at QoS 1 - no sensors, no world slot, no outbox, no storage.
 *
 * It takes robofleet-device's command line, so `robofleet run --device
 * baseline_publisher` starts N of them exactly as it starts the fleet
 * (posix_spawn, same pacing, same broker, same recorder). It reads --id,
 * --broker HOST:PORT, --interval (ms or s), --keepalive (s) and ignores the
 * other options. SIGTERM disconnects cleanly; it exits when its parent
 * (ROBOFLEET_PARENT_PID) dies.
 */
#define _GNU_SOURCE
#include <mosquitto.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "1s", "500ms", "1000" (ms); 0 on garbage. */
static long parse_ms(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (v <= 0)
		return 0;
	if (!strcmp(end, "s"))
		return v * 1000;
	if (!strcmp(end, "ms") || !*end)
		return v;
	return 0;
}

/* "2026-11-24T10:30:45.123Z", as the firmware writes it. */
static void stamp(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);

	snprintf(out + n, len - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

static void on_connect(struct mosquitto *m, void *ctx, int rc)
{
	const char *status_topic = ctx;

	if (rc == 0)
		mosquitto_publish(m, NULL, status_topic, 6, "online", 1, true);
}

int main(int argc, char **argv)
{
	const char *id = NULL, *broker = "127.0.0.1:1883", *parent = getenv("ROBOFLEET_PARENT_PID");
	long interval_ms = 1000, keepalive_s = 60;
	char host[256], status_topic[128], data_topic[128], payload[320], ts[40];
	struct sigaction sa;
	struct mosquitto *m;
	unsigned long long seq = 0;
	int port = 1883;
	int64_t next;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--id"))
			id = argv[i + 1];
		else if (!strcmp(argv[i], "--broker"))
			broker = argv[i + 1];
		else if (!strcmp(argv[i], "--interval"))
			interval_ms = parse_ms(argv[i + 1]);
		else if (!strcmp(argv[i], "--keepalive"))
			keepalive_s = parse_ms(argv[i + 1]) / 1000;
	}
	if (!id || strlen(id) > 64 || interval_ms <= 0 || keepalive_s <= 0) {
		fprintf(stderr, "usage: baseline_publisher --id ID [--broker HOST:PORT] [--interval 1s] [--keepalive 60s]\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%s", broker);
	{
		char *colon = strrchr(host, ':');
		if (colon) {
			*colon = '\0';
			port = atoi(colon + 1);
		}
	}
	if (parent && *parent) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((long)getppid() != strtol(parent, NULL, 10))
			return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	snprintf(status_topic, sizeof(status_topic), "sensors/%s/status", id);
	snprintf(data_topic, sizeof(data_topic), "sensors/%s/data", id);
	mosquitto_lib_init();
	m = mosquitto_new(id, true, status_topic);
	if (!m)
		return 1;
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_will_set(m, status_topic, 7, "offline", 1, true);
	/* Retry until the broker answers, as a robot would. */
	while (!stop_flag && mosquitto_connect(m, host, port, (int)keepalive_s) != MOSQ_ERR_SUCCESS)
		sleep(1);
	next = mono_ms() + interval_ms;
	while (!stop_flag) {
		int64_t now = mono_ms();
		int wait = next > now ? (int)(next - now) : 0;

		if (mosquitto_loop(m, wait, 1) != MOSQ_ERR_SUCCESS && !stop_flag) {
			sleep(1);
			mosquitto_reconnect(m);
			continue;
		}
		if (mono_ms() < next)
			continue;
		next += interval_ms;
		stamp(ts, sizeof(ts));
		int n = snprintf(payload, sizeof(payload),
				 "{\"device_id\":\"%s\",\"boot\":1,\"seq\":%llu,\"timestamp\":\"%s\","
				 "\"sensors\":{\"temperature\":22.5,\"humidity\":40.0,\"distance\":120.0}}",
				 id, ++seq, ts);
		mosquitto_publish(m, NULL, data_topic, n, payload, 1, false);
	}
	mosquitto_disconnect(m);
	mosquitto_loop(m, 100, 1);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return 0;
}
