// The TLS sessions of every WiFiClientSecure, as a whole: what the process end needs.
#ifndef ARDUINO_SECURE_CLIENTS_H
#define ARDUINO_SECURE_CLIENTS_H

namespace robofleet_arduino {

/* Free every open TLS session without a word to its peer (process end,
 * before OpenSSL's own clean-up runs). */
void secure_clients_release_all();

} // namespace robofleet_arduino

#endif /* ARDUINO_SECURE_CLIENTS_H */
