// Serial: bytes a sketch prints, cut into lines for the device log.
#include "HardwareSerial.h"

#include <string>

#include "runtime.h"

using namespace robofleet_arduino;

HardwareSerial Serial(0);

/* A sketch that never prints a newline still reaches the log. */
static const size_t LINE_MAX = 512;
static std::string pending;

static void emit()
{
	while (!pending.empty() && pending.back() == '\r')
		pending.pop_back();
	runtime_serial_line(pending.c_str());
	pending.clear();
}

void HardwareSerial::begin(unsigned long baud, uint32_t config, int8_t rx_pin, int8_t tx_pin,
			   bool invert, unsigned long timeout_ms)
{
	(void)baud;
	(void)config;
	(void)rx_pin;
	(void)tx_pin;
	(void)invert;
	(void)timeout_ms;
}

size_t HardwareSerial::write(uint8_t b)
{
	if (b == '\n') {
		emit();
		return 1;
	}
	pending += (char)b;
	if (pending.size() >= LINE_MAX)
		emit();
	return 1;
}

size_t HardwareSerial::write(const uint8_t *buf, size_t size)
{
	for (size_t i = 0; i < size; i++)
		write(buf[i]);
	return size;
}

void HardwareSerial::flush()
{
	/* On the chip this waits for the UART to drain; a line still open
	 * stays open, so what follows continues it. */
}

namespace robofleet_arduino {
/* What is left at the end (a prompt without a newline) is not lost. */
void serial_flush_pending()
{
	if (!pending.empty())
		emit();
}
} // namespace robofleet_arduino
