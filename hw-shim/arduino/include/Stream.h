// Stream: a Print that can also be read from, with the Arduino read timeout.
#ifndef ARDUINO_STREAM_H
#define ARDUINO_STREAM_H

#include "Print.h"

class Stream : public Print {
public:
	virtual int available() = 0;
	virtual int read() = 0;
	virtual int peek() = 0;

	void setTimeout(unsigned long timeout_ms) { timeout_ms_ = timeout_ms; }
	unsigned long getTimeout() const { return timeout_ms_; }
	size_t readBytes(char *buf, size_t length);
	size_t readBytes(uint8_t *buf, size_t length) { return readBytes(reinterpret_cast<char *>(buf), length); }
	String readString();
	String readStringUntil(char terminator);

protected:
	unsigned long timeout_ms_ = 1000;
	int timed_read();
};

#endif /* ARDUINO_STREAM_H */
