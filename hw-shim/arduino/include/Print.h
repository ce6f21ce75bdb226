// Print: formatted output of numbers and text onto any byte sink (Serial, a client).
#ifndef ARDUINO_PRINT_H
#define ARDUINO_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "Printable.h"
#include "WString.h"

class Print {
public:
	virtual ~Print() = default;
	virtual size_t write(uint8_t b) = 0;
	virtual size_t write(const uint8_t *buf, size_t size);
	size_t write(const char *s) { return s ? write(reinterpret_cast<const uint8_t *>(s), strlen(s)) : 0; }
	size_t write(const char *buf, size_t size) { return write(reinterpret_cast<const uint8_t *>(buf), size); }
	virtual int availableForWrite() { return 0; }
	virtual void flush() {}

	int getWriteError() const { return write_error_; }
	void clearWriteError() { write_error_ = 0; }

	size_t print(const __FlashStringHelper *s) { return write(reinterpret_cast<const char *>(s)); }
	size_t print(const String &s) { return write(s.c_str(), s.length()); }
	size_t print(const char *s) { return write(s); }
	size_t print(char c) { return write(static_cast<uint8_t>(c)); }
	size_t print(unsigned char v, int base = DEC) { return print(static_cast<unsigned long>(v), base); }
	size_t print(int v, int base = DEC) { return print(static_cast<long>(v), base); }
	size_t print(unsigned int v, int base = DEC) { return print(static_cast<unsigned long>(v), base); }
	size_t print(long v, int base = DEC);
	size_t print(unsigned long v, int base = DEC);
	size_t print(long long v, int base = DEC);
	size_t print(unsigned long long v, int base = DEC);
	size_t print(double v, int digits = 2);
	size_t print(const Printable &p) { return p.printTo(*this); }

	template <typename T> size_t println(const T &v) { size_t n = print(v); return n + println(); }
	template <typename T> size_t println(const T &v, int fmt) { size_t n = print(v, fmt); return n + println(); }
	size_t println(const char *s) { size_t n = print(s); return n + println(); }
	size_t println() { return write("\r\n"); }

	size_t printf(const char *format, ...) __attribute__((format(printf, 2, 3)));

protected:
	void setWriteError(int err = 1) { write_error_ = err; }

private:
	int write_error_ = 0;
	size_t print_number(unsigned long long v, int base);
};

#endif /* ARDUINO_PRINT_H */
