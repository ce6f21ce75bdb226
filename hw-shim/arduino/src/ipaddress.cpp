// IPAddress: parsing, printing and comparing IPv4 addresses.
#include <stdio.h>
#include <string.h>

#include "IPAddress.h"
#include "Print.h"

const IPAddress INADDR_NONE(0, 0, 0, 0);

IPAddress::IPAddress(uint32_t addr)
	: b_{ (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16), (uint8_t)(addr >> 24) }
{
}

IPAddress::operator uint32_t() const
{
	return (uint32_t)b_[0] | (uint32_t)b_[1] << 8 | (uint32_t)b_[2] << 16 | (uint32_t)b_[3] << 24;
}

bool IPAddress::operator==(const IPAddress &o) const
{
	return memcmp(b_, o.b_, 4) == 0;
}

bool IPAddress::operator==(const uint8_t *addr) const
{
	return memcmp(b_, addr, 4) == 0;
}

bool IPAddress::fromString(const char *text)
{
	unsigned v[4];
	char tail;

	if (!text)
		return false;
	/* The core's parser takes digits and dots only: no sign, no space,
	 * which sscanf's %u would skip or accept. */
	for (const char *c = text; *c; c++) {
		if ((*c < '0' || *c > '9') && *c != '.')
			return false;
	}
	if (sscanf(text, "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		if (v[i] > 255)
			return false;
	}
	for (int i = 0; i < 4; i++)
		b_[i] = (uint8_t)v[i];
	return true;
}

String IPAddress::toString() const
{
	char text[16];

	snprintf(text, sizeof(text), "%u.%u.%u.%u", b_[0], b_[1], b_[2], b_[3]);
	return String(text);
}

size_t IPAddress::printTo(Print &p) const
{
	return p.print(toString());
}
