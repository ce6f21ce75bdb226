// EEPROM: a RAM image of up to 4096 bytes, one record of the emulated flash on commit().
#include "EEPROM.h"

#include <errno.h>

extern "C" {
#include "hal_storage.h"
}

EEPROMClass EEPROM;

static const size_t EEPROM_MAX = 4096;
static const char KEY[] = "eeprom";

bool EEPROMClass::begin(size_t size)
{
	size_t len = 0;

	if (size == 0 || size > EEPROM_MAX)
		return false;
	data_.assign(size, 0xff);
	std::vector<uint8_t> stored(EEPROM_MAX);
	int rc = hal_storage_read(KEY, stored.data(), stored.size(), &len);
	if (rc == 0)
		memcpy(data_.data(), stored.data(), len < size ? len : size);
	else if (rc != -ENOENT)
		return false;
	dirty_ = false;
	return true;
}

uint8_t EEPROMClass::read(int address)
{
	if (address < 0 || (size_t)address >= data_.size())
		return 0;
	return data_[(size_t)address];
}

void EEPROMClass::write(int address, uint8_t value)
{
	if (address < 0 || (size_t)address >= data_.size())
		return;
	data_[(size_t)address] = value;
	dirty_ = true;
}

uint8_t &EEPROMClass::operator[](int address)
{
	if (address < 0 || (size_t)address >= data_.size())
		return scratch_;
	/* A reference may be written through: the next commit() writes. */
	dirty_ = true;
	return data_[(size_t)address];
}

bool EEPROMClass::commit()
{
	if (data_.empty())
		return false;
	if (!dirty_)
		return true;
	if (hal_storage_write(KEY, data_.data(), data_.size()) < 0)
		return false;
	dirty_ = false;
	return true;
}

bool EEPROMClass::end()
{
	bool ok = commit();

	data_.clear();
	data_.shrink_to_fit();
	return ok;
}
