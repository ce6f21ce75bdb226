// IPAddress: an IPv4 address as sketches pass it around and print it.
#ifndef ARDUINO_IPADDRESS_H
#define ARDUINO_IPADDRESS_H

#include <stdint.h>

#include "Printable.h"
#include "WString.h"

class IPAddress : public Printable {
public:
	IPAddress() : b_{ 0, 0, 0, 0 } {}
	IPAddress(uint8_t a, uint8_t b, uint8_t c, uint8_t d) : b_{ a, b, c, d } {}
	/* As the ESP32 core does: the first octet in the lowest byte. */
	IPAddress(uint32_t addr);
	IPAddress(const uint8_t *addr) : b_{ addr[0], addr[1], addr[2], addr[3] } {}

	bool fromString(const char *text);
	bool fromString(const String &text) { return fromString(text.c_str()); }
	String toString() const;
	operator uint32_t() const;
	bool operator==(const IPAddress &o) const;
	bool operator!=(const IPAddress &o) const { return !(*this == o); }
	bool operator==(const uint8_t *addr) const;
	uint8_t operator[](int i) const { return b_[i & 3]; }
	uint8_t &operator[](int i) { return b_[i & 3]; }
	size_t printTo(Print &p) const override;

private:
	uint8_t b_[4];
};

extern const IPAddress INADDR_NONE;

#endif /* ARDUINO_IPADDRESS_H */
