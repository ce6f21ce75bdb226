// Serial: what a sketch prints goes, line by line, into the device log the dashboard shows.
#ifndef ARDUINO_HARDWARESERIAL_H
#define ARDUINO_HARDWARESERIAL_H

#include "Stream.h"

class HardwareSerial : public Stream {
public:
	explicit HardwareSerial(int uart) : uart_(uart) {}
	void begin(unsigned long baud, uint32_t config = 0, int8_t rx_pin = -1, int8_t tx_pin = -1,
		   bool invert = false, unsigned long timeout_ms = 20000UL);
	void end() {}
	void setDebugOutput(bool) {}
	int available() override { return 0; } /* nothing types into a virtual UART */
	int read() override { return -1; }
	int peek() override { return -1; }
	void flush() override;
	using Print::write;
	size_t write(uint8_t b) override;
	size_t write(const uint8_t *buf, size_t size) override;
	int availableForWrite() override { return 128; }
	operator bool() const { return true; }

private:
	int uart_;
};

extern HardwareSerial Serial;

#endif /* ARDUINO_HARDWARESERIAL_H */
