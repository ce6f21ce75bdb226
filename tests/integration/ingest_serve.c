/*
 * ingest_serve: the ingest endpoint alone, recording into a database, for
 * tests that post to it (curl, a real board's HTTP client).
 *
 *   ingest_serve --db FILE [--port N] [--port-file FILE] [--broker HOST:PORT]
 *                [--max-body BYTES] [--idle-timeout S] [--max-connections N]
 *
 * Serves on 127.0.0.1 (port 0: a free one), writes the port to --port-file
 * once listening, runs until SIGTERM or SIGINT, then answers what is in
 * flight, flushes the record and exits 0. No broker is needed; with
 * --broker the recorder also subscribes to sensors/# there.
 *
 * Standard input takes one control line at a time and answers each on
 * standard output with "ok" or "error: ...":
 *   fault none | fault status CODE | fault slow MS | fault refuse | fault reset
 *   command DEVICE start|stop
 *   flush
 *   stats          (answers "requests=N stored=N bad_request=N too_large=N faulted=N")
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "recorder.h"

struct serve {
	struct recorder *rec;
	struct ingest *in;
};

static void usage(void)
{
	fprintf(stderr, "usage: ingest_serve --db FILE [--port N] [--port-file FILE] "
		"[--broker HOST:PORT] [--max-body BYTES] [--idle-timeout S] [--max-connections N]\n");
}

static int write_port(const char *path, uint16_t port)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return -errno;
	fprintf(f, "%u\n", (unsigned)port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

static int control(struct serve *s, char *line, char *out, size_t outlen)
{
	char *words[4] = { 0 };
	int n = 0, rc = -EINVAL;

	for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w && n < 4;
	     w = strtok_r(NULL, " \t\r\n", &save))
		words[n++] = w;
	snprintf(out, outlen, "ok");
	if (n == 2 && strcmp(words[0], "fault") == 0 && strcmp(words[1], "none") == 0)
		rc = ingest_set_fault(s->in, INGEST_FAULT_NONE, 0, 0);
	else if (n == 3 && strcmp(words[0], "fault") == 0 && strcmp(words[1], "status") == 0)
		rc = ingest_set_fault(s->in, INGEST_FAULT_STATUS, atoi(words[2]), 0);
	else if (n == 3 && strcmp(words[0], "fault") == 0 && strcmp(words[1], "slow") == 0)
		rc = ingest_set_fault(s->in, INGEST_FAULT_SLOW, 0, (uint32_t)strtoul(words[2], NULL, 10));
	else if (n == 2 && strcmp(words[0], "fault") == 0 && strcmp(words[1], "refuse") == 0)
		rc = ingest_set_fault(s->in, INGEST_FAULT_REFUSE, 0, 0);
	else if (n == 2 && strcmp(words[0], "fault") == 0 && strcmp(words[1], "reset") == 0)
		rc = ingest_set_fault(s->in, INGEST_FAULT_RESET, 0, 0);
	else if (n == 3 && strcmp(words[0], "command") == 0)
		rc = ingest_command(s->in, words[1], words[2]);
	else if (n == 1 && strcmp(words[0], "flush") == 0)
		rc = recorder_flush(s->rec, 10000);
	else if (n == 1 && strcmp(words[0], "stats") == 0) {
		struct ingest_stats st;

		ingest_read_stats(s->in, &st);
		snprintf(out, outlen, "requests=%llu stored=%llu bad_request=%llu too_large=%llu "
			 "faulted=%llu", (unsigned long long)st.requests,
			 (unsigned long long)st.stored, (unsigned long long)st.bad_request,
			 (unsigned long long)st.too_large, (unsigned long long)st.faulted);
		rc = 0;
	}
	if (rc < 0)
		snprintf(out, outlen, "error: %s", rc == -EINVAL ? "not understood" : strerror(-rc));
	return rc;
}

/* Control lines from standard input; EOF just ends them (the server keeps running). */
static void *control_main(void *arg)
{
	struct serve *s = arg;
	char line[256], out[256];

	while (fgets(line, sizeof(line), stdin)) {
		control(s, line, out, sizeof(out));
		printf("%s\n", out);
		fflush(stdout);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "broker", required_argument, NULL, 'b' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "idle-timeout", required_argument, NULL, 't' },
		{ "max-connections", required_argument, NULL, 'c' },
		{ 0 },
	};
	struct recorder_opts ro = { .client_id = "ingest_serve" };
	struct ingest_opts io = { .bind_host = "127.0.0.1" };
	const char *port_file = NULL, *broker = NULL;
	struct serve s = { 0 };
	char err[256];
	pthread_t ctl;
	sigset_t sigs;
	int opt, rc, sig;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': ro.db_path = optarg; break;
		case 'p': io.port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'f': port_file = optarg; break;
		case 'b': broker = optarg; break;
		case 'm': io.max_body = strtoul(optarg, NULL, 10); break;
		case 't': io.idle_timeout_s = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'c': io.max_connections = (unsigned int)strtoul(optarg, NULL, 10); break;
		default: usage(); return 2;
		}
	}
	if (!ro.db_path || optind != argc) {
		usage();
		return 2;
	}
	/* Signals are taken by sigwait() below, not by whichever thread runs. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = recorder_open(&ro, &s.rec)) < 0) {
		fprintf(stderr, "ingest_serve: %s: %s\n", ro.db_path, strerror(-rc));
		return 1;
	}
	if (broker) {
		char host[256];
		const char *colon = strrchr(broker, ':');

		if (!colon || (size_t)(colon - broker) >= sizeof(host)) {
			fprintf(stderr, "ingest_serve: --broker wants HOST:PORT\n");
			recorder_close(s.rec);
			return 2;
		}
		memcpy(host, broker, (size_t)(colon - broker));
		host[colon - broker] = '\0';
		if ((rc = recorder_start(s.rec, host, atoi(colon + 1))) < 0) {
			fprintf(stderr, "ingest_serve: broker %s: %s\n", broker, strerror(-rc));
			recorder_close(s.rec);
			return 1;
		}
	}
	io.recorder = s.rec;
	if ((rc = ingest_start(&io, &s.in, err, sizeof(err))) < 0) {
		fprintf(stderr, "ingest_serve: %s\n", err[0] ? err : strerror(-rc));
		recorder_close(s.rec);
		return 1;
	}
	if (port_file && (rc = write_port(port_file, ingest_port(s.in))) < 0) {
		fprintf(stderr, "ingest_serve: %s: %s\n", port_file, strerror(-rc));
		ingest_stop(s.in);
		recorder_close(s.rec);
		return 1;
	}
	fprintf(stderr, "ingest_serve: listening on 127.0.0.1:%u\n", (unsigned)ingest_port(s.in));
	if (pthread_create(&ctl, NULL, control_main, &s) == 0)
		pthread_detach(ctl);
	do
		rc = sigwait(&sigs, &sig);
	while (rc == EINTR);
	ingest_stop(s.in);
	recorder_close(s.rec);
	return 0;
}
