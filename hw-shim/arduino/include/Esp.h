// ESP: the ESP32 chip object (restart, factory MAC, chip facts).
#ifndef ARDUINO_ESP_H
#define ARDUINO_ESP_H

#include <stdint.h>

#include "WString.h"

class EspClass {
public:
	/* Reboots the chip: the sketch starts again from setup() with its flash kept. */
	[[noreturn]] void restart();
	/* The factory (eFuse) MAC, first byte in the lowest bits, as the ESP32 returns it. */
	uint64_t getEfuseMac();
	uint32_t getFreeHeap() { return 200000; }
	uint32_t getHeapSize() { return 327680; }
	const char *getChipModel() { return "ESP32-D0WDQ6 (virtual)"; }
	uint8_t getChipRevision() { return 3; }
	uint8_t getChipCores() { return 2; }
	uint32_t getCpuFreqMHz() { return 240; }
	const char *getSdkVersion() { return "robofleet"; }
	uint32_t getFlashChipSize() { return 4u * 1024u * 1024u; }
};

extern EspClass ESP;

#endif /* ARDUINO_ESP_H */
