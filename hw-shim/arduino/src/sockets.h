// The station's TCP sockets: what a WiFi drop does to them, and waiting on them.
#ifndef ARDUINO_SOCKETS_H
#define ARDUINO_SOCKETS_H

#include <stddef.h>

namespace robofleet_arduino {

/* One connection, shared by the copies of a WiFiClient. */
struct Socket {
	int fd = -1;
	/* The link dropped under it: it neither reads nor writes again, and
	 * its file descriptor is parked open, so the peer hears nothing. */
	bool aborted = false;
	/* A TLS session runs over it (WiFiClientSecure): a certificate fault
	 * ends it. */
	bool secure = false;
	/* Bytes the TLS layer has decrypted and not handed out yet: the
	 * descriptor no longer shows them, so a wait must not sleep on them. */
	size_t buffered = 0;
	Socket();
	~Socket();
	Socket(const Socket &) = delete;
	Socket &operator=(const Socket &) = delete;
	/* Close now (FIN) if the link carries it, else park the descriptor. */
	void close_quietly_if_down();
};

/* The link went down: every open socket goes silent at once, as lwIP's do
 * when the station loses its network; nothing is sent to the peers. */
void sockets_abort_all();
/* The link is up again: the parked descriptors are closed (a peer that
 * still held the connection now learns it is gone). */
void sockets_close_parked();
/* Sleep up to @timeout_ms or until a live socket has data or a signal
 * came; true when something is there to read. */
bool sockets_wait_readable(int timeout_ms);
/* Close everything, parked or not (process end). */
void sockets_close_all();
/*
 * The broker ends the sessions in force, as it does when the device's
 * credentials change for the worse (a security fault): every open socket,
 * or with @tls_only the TLS ones, is closed now, so the sketch finds its
 * connection gone and meets the refusal when it connects again.
 */
void sockets_end_sessions(bool tls_only);

} // namespace robofleet_arduino

#endif /* ARDUINO_SOCKETS_H */
