// Print and Stream: number formatting as the Arduino core prints, and timed reads.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <string>

#include "Arduino.h"

size_t Print::write(const uint8_t *buf, size_t size)
{
	size_t n = 0;

	while (size--) {
		if (write(*buf++) == 0)
			break;
		n++;
	}
	return n;
}

size_t Print::print_number(unsigned long long v, int base)
{
	char buf[8 * sizeof(v) + 1];
	char *p = &buf[sizeof(buf) - 1];

	if (base < 2)
		base = 10;
	*p = '\0';
	do {
		int d = (int)(v % (unsigned)base);
		*--p = (char)(d < 10 ? '0' + d : 'A' + d - 10);
		v /= (unsigned)base;
	} while (v);
	return write(p);
}

size_t Print::print(long v, int base)
{
	if (base == 0)
		return write(static_cast<uint8_t>(v));
	if (base == 10 && v < 0)
		return write('-') + print_number(0ULL - (unsigned long long)v, 10);
	/* The ESP32's long is 32 bits: a negative value it can hold prints
	 * there as its 32-bit two's complement (int -1 in HEX is FFFFFFFF). */
	if (base != 10)
		return print_number(v < 0 && v >= INT32_MIN ? (uint32_t)v : (unsigned long)v, base);
	return print_number((unsigned long long)v, 10);
}

size_t Print::print(unsigned long v, int base)
{
	if (base == 0)
		return write(static_cast<uint8_t>(v));
	return print_number(v, base);
}

size_t Print::print(long long v, int base)
{
	if (base == 0)
		return write(static_cast<uint8_t>(v));
	if (base == 10 && v < 0)
		return write('-') + print_number(0ULL - (unsigned long long)v, 10);
	return print_number((unsigned long long)v, base);
}

size_t Print::print(unsigned long long v, int base)
{
	if (base == 0)
		return write(static_cast<uint8_t>(v));
	return print_number(v, base);
}

size_t Print::print(double v, int digits)
{
	/* The core's words for what a number cannot show. */
	if (isnan(v))
		return write("nan");
	if (isinf(v))
		return write("inf");
	if (v > 4294967040.0 || v < -4294967040.0)
		return write("ovf");
	if (digits < 0)
		digits = 2;
	/* String's conversion rounds as the core's printFloat does (an exact
	 * half up, print(2.5, 0) is 3), which printf's would not. */
	return print(String(v, (unsigned int)digits));
}

size_t Print::printf(const char *format, ...)
{
	char small[128];
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(small, sizeof(small), format, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	if ((size_t)n < sizeof(small))
		return write(reinterpret_cast<const uint8_t *>(small), (size_t)n);
	std::string big((size_t)n + 1, '\0');
	va_start(ap, format);
	vsnprintf(&big[0], big.size(), format, ap);
	va_end(ap);
	return write(reinterpret_cast<const uint8_t *>(big.data()), (size_t)n);
}

int Stream::timed_read()
{
	unsigned long start = millis();

	do {
		int c = read();
		if (c >= 0)
			return c;
		yield();
	} while (millis() - start < timeout_ms_);
	return -1;
}

size_t Stream::readBytes(char *buf, size_t length)
{
	size_t n = 0;

	while (n < length) {
		int c = timed_read();
		if (c < 0)
			break;
		buf[n++] = (char)c;
	}
	return n;
}

String Stream::readString()
{
	String s;
	int c;

	while ((c = timed_read()) >= 0)
		s += (char)c;
	return s;
}

String Stream::readStringUntil(char terminator)
{
	String s;
	int c;

	while ((c = timed_read()) >= 0 && c != terminator)
		s += (char)c;
	return s;
}
