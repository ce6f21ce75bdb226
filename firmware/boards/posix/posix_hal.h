/*
 * The HAL code every robot that runs as a Linux process shares: the virtual
 * robot (hw-shim/) and the Linux SBC board (linux-sbc/). It provides
 * hal_mqtt (libmosquitto), hal_storage (a file), hal_time_wait_until (poll())
 * and the SIGTERM/SIGINT flag with its self-pipe. The board provides the
 * rest of the HAL; this code calls hal_time_now_us() and hal_link_get_state()
 * of whichever board links it.
 *
 * A host that simulates the hardware under this code (the virtual robot's
 * radio, flash and clock) steers it through the hook structs below. Every
 * hook is optional; a real board registers none and gets plain POSIX.
 */
#ifndef POSIX_HAL_H
#define POSIX_HAL_H

#include <stdbool.h>
#include <stdint.h>

/* ---- mqtt.c: hal_mqtt over libmosquitto -------------------------------- */

/* TLS for the MQTT session. Empty or NULL ca_file: plain TCP. */
struct posix_mqtt_tls {
	const char *ca_file;
	const char *cert_file;      /* client certificate, with key_file; may be NULL */
	const char *key_file;
};

/*
 * A radio under the session. While link_carries() says no, the session
 * neither reads nor writes: no DISCONNECT, no FIN, the wait does not poll
 * the socket, publish and subscribe fail with -ENOTCONN; a session the
 * firmware closes then is set aside with its socket open until a new one
 * starts. While holds_publishes() says yes, every publish waits in a queue
 * for as long as transmit() says its packet takes, in order.
 */
struct posix_mqtt_hooks {
	/* Whether the link carries bytes now. NULL: always. */
	bool (*link_carries)(void *ctx);
	/* Whether publishes must go through the queue now. NULL: never. */
	bool (*holds_publishes)(void *ctx);
	/*
	 * Send one queued packet: how long it takes, in *@delay_ms. Returns
	 * 0, or a negative errno when it never arrives (the link drops
	 * instead). NULL: at once.
	 */
	int (*transmit)(void *ctx, uint32_t *delay_ms);
	/*
	 * Called as each session starts, with the TLS files and the password
	 * it will present (NULL: none); may point either elsewhere, as a
	 * device whose credentials were replaced would present others.
	 * NULL: as configured.
	 */
	void (*credentials)(void *ctx, struct posix_mqtt_tls *tls, const char **password);
	void *ctx;
};

/* Copied; NULL or an empty CA turns TLS off. Returns 0 or -ENAMETOOLONG. */
int posix_mqtt_set_tls(const struct posix_mqtt_tls *tls);
/* Kept by pointer until replaced; NULL removes them. */
void posix_mqtt_set_hooks(const struct posix_mqtt_hooks *hooks);
/*
 * End the session now, as a broker closing the connection would: the
 * firmware learns it lost the session at its next service and connects
 * again (with whatever credentials the hook then gives). No-op without one.
 */
void posix_mqtt_drop(void);
/* Close the session without a word and release libmosquitto (at exit). */
void posix_mqtt_teardown(void);

/* ---- storage.c: hal_storage in a file ---------------------------------- */

/*
 * An emulated flash under the store. Both hooks act before the file is
 * touched, so a refused write leaves it exactly as it was.
 */
struct posix_storage_hooks {
	/*
	 * Asked before each valid write: 0 lets it through, a negative errno
	 * (-EIO, -ENOSPC) is what hal_storage_write() returns instead.
	 * NULL: every write goes through.
	 */
	int (*check_write)(void *ctx);
	/*
	 * Asked when the store opens, before it is read: true, with a seed in
	 * *@seed, damages one record the seed picks (never the last), as a
	 * failing cell would. NULL: never.
	 */
	bool (*damage_at_open)(void *ctx, uint64_t *seed);
	void *ctx;
};

/*
 * Open (creating the directory and file as needed) <@dir>/<@device_id>.flash.
 * A file that cannot be read is not an error here: every read and write
 * then fails with -EIO, so the firmware stops its boot. Returns 0, or a
 * negative errno when the file cannot be opened at all.
 */
int posix_storage_open(const char *dir, const char *device_id);
void posix_storage_close(void);
/* Kept by pointer until replaced; NULL removes them. */
void posix_storage_set_hooks(const struct posix_storage_hooks *hooks);

/* ---- wait.c: hal_time_wait_until --------------------------------------- */

struct posix_wait_hooks {
	/*
	 * Called as each wait starts; true ends it at once with 1 (something
	 * changed that the firmware must look at before it sleeps).
	 * NULL: nothing to do.
	 */
	bool (*on_enter)(void *ctx);
	/*
	 * When the host's own next event is due, on hal_time_now_us()'s clock
	 * (UINT64_MAX: none); the wait returns 1 then. NULL: none.
	 */
	uint64_t (*next_event_us)(void *ctx);
	void *ctx;
};

/* Kept by pointer until replaced; NULL removes them. */
void posix_wait_set_hooks(const struct posix_wait_hooks *hooks);

/* ---- signal.c: SIGTERM and SIGINT as a request to stop ------------------ */

/*
 * Install the handlers: SIGTERM or SIGINT sets a flag and writes a byte to a
 * self-pipe, so a poll() on posix_signal_wake_fd() returns at once and the
 * work happens outside the handler. SIGPIPE is ignored (a peer that went
 * away must not kill the process through a write). Clears the flag.
 * Returns 0 or a negative errno.
 */
int posix_signal_setup(void);
void posix_signal_close(void);
/* Act as if SIGTERM had arrived (the process asks itself to stop). */
void posix_signal_raise(void);
bool posix_signal_received(void);
/* The pipe's read end to poll for POLLIN (-1 before posix_signal_setup()). */
int posix_signal_wake_fd(void);
/* Empty the pipe, so the next poll() sleeps until the next signal. */
void posix_signal_drain(void);

#endif /* POSIX_HAL_H */
