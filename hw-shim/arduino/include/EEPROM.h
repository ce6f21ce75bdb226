// EEPROM: the ESP32 core's EEPROM emulation (a RAM copy, written to flash by commit()).
#ifndef EEPROM_H
#define EEPROM_H

#include <vector>

#include "Arduino.h"

class EEPROMClass {
public:
	/* Up to 4096 bytes; the stored image is read back, blank bytes are 0xff. */
	bool begin(size_t size);
	uint8_t read(int address);
	void write(int address, uint8_t value);
	/* Writes the image to flash; false when the flash refuses it. */
	bool commit();
	bool end();
	uint8_t *getDataPtr() { return data_.empty() ? nullptr : data_.data(); }
	size_t length() const { return data_.size(); }
	uint8_t &operator[](int address);

	template <typename T> T &get(int address, T &t)
	{
		if (address >= 0 && (size_t)address + sizeof(T) <= data_.size())
			memcpy((void *)&t, data_.data() + address, sizeof(T));
		return t;
	}
	template <typename T> const T &put(int address, const T &t)
	{
		if (address >= 0 && (size_t)address + sizeof(T) <= data_.size()) {
			memcpy(data_.data() + address, (const void *)&t, sizeof(T));
			dirty_ = true;
		}
		return t;
	}

private:
	std::vector<uint8_t> data_;
	bool dirty_ = false;
	uint8_t scratch_ = 0;
};

extern EEPROMClass EEPROM;

#endif /* EEPROM_H */
