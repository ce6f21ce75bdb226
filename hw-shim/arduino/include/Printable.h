// Printable: an object that knows how to print itself (IPAddress is one).
#ifndef ARDUINO_PRINTABLE_H
#define ARDUINO_PRINTABLE_H

#include <stddef.h>

class Print;

class Printable {
public:
	virtual ~Printable() = default;
	virtual size_t printTo(Print &p) const = 0;
};

#endif /* ARDUINO_PRINTABLE_H */
