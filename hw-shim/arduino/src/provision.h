// Provisioning: what a factory writes into a device's NVS before it ships, from robofleet-device's options.
#ifndef ARDUINO_PROVISION_H
#define ARDUINO_PROVISION_H

#include <stddef.h>

#include <string>

namespace robofleet_arduino {

/* The largest PEM file a device is given (a CA bundle of a few
 * certificates); anything larger is not a credential. */
static const size_t PEM_FILE_MAX = 8192;

/*
 * Read the PEM file @path whole into @out. false, with the reason in @err
 * ("cannot read it: No such file or directory", "9000 bytes, more than
 * 8192", "it is not PEM text"), when it is unreadable, larger than
 * PEM_FILE_MAX, empty, or holds NUL bytes (DER, which a sketch's
 * setCACert() cannot take).
 */
bool read_pem_file(const char *path, std::string &out, std::string &err);

/* What the factory writes: "" leaves a key out. */
struct Provisioning {
	std::string id, room;
	std::string mqtt_user, mqtt_pass;
	std::string ca_cert, client_cert, client_key;
};

/*
 * Write @p into NVS namespace "robofleet": keys id, room, mqtt_user,
 * mqtt_pass, ca_cert, client_cert, client_key. Only what differs is
 * written, as a flash is programmed once. A credential the device was not
 * given this time is removed, so a device moved to an open fleet does not
 * go on presenting an old one; room stays as it was. false when the
 * namespace cannot be opened or a write was refused (a flash fault).
 */
bool provision_write(const Provisioning &p);

} // namespace robofleet_arduino

#endif /* ARDUINO_PROVISION_H */
