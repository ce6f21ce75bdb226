// Preferences: the ESP32 NVS key/value API on the device's emulated flash (it survives power cuts).
#ifndef PREFERENCES_H
#define PREFERENCES_H

#include <string>
#include <vector>

#include "Arduino.h"

typedef enum {
	PT_I8,
	PT_U8,
	PT_I16,
	PT_U16,
	PT_I32,
	PT_U32,
	PT_I64,
	PT_U64,
	PT_STR,
	PT_BLOB,
	PT_INVALID,
} PreferenceType;

class Preferences {
public:
	/* @name: 1 to 15 characters, as NVS allows. */
	bool begin(const char *name, bool readOnly = false, const char *partition_label = nullptr);
	void end();
	bool clear();
	bool remove(const char *key);

	size_t putChar(const char *key, int8_t value);
	size_t putUChar(const char *key, uint8_t value);
	size_t putShort(const char *key, int16_t value);
	size_t putUShort(const char *key, uint16_t value);
	size_t putInt(const char *key, int32_t value);
	size_t putUInt(const char *key, uint32_t value);
	size_t putLong(const char *key, int32_t value);
	size_t putULong(const char *key, uint32_t value);
	size_t putLong64(const char *key, int64_t value);
	size_t putULong64(const char *key, uint64_t value);
	size_t putFloat(const char *key, float value);
	size_t putDouble(const char *key, double value);
	size_t putBool(const char *key, bool value);
	size_t putString(const char *key, const char *value);
	size_t putString(const char *key, const String &value);
	size_t putBytes(const char *key, const void *value, size_t len);

	bool isKey(const char *key);
	PreferenceType getType(const char *key);
	int8_t getChar(const char *key, int8_t defaultValue = 0);
	uint8_t getUChar(const char *key, uint8_t defaultValue = 0);
	int16_t getShort(const char *key, int16_t defaultValue = 0);
	uint16_t getUShort(const char *key, uint16_t defaultValue = 0);
	int32_t getInt(const char *key, int32_t defaultValue = 0);
	uint32_t getUInt(const char *key, uint32_t defaultValue = 0);
	int32_t getLong(const char *key, int32_t defaultValue = 0);
	uint32_t getULong(const char *key, uint32_t defaultValue = 0);
	int64_t getLong64(const char *key, int64_t defaultValue = 0);
	uint64_t getULong64(const char *key, uint64_t defaultValue = 0);
	float getFloat(const char *key, float defaultValue = NAN);
	double getDouble(const char *key, double defaultValue = NAN);
	bool getBool(const char *key, bool defaultValue = false);
	size_t getString(const char *key, char *value, size_t maxLen);
	String getString(const char *key, String defaultValue = String());
	size_t getBytesLength(const char *key);
	size_t getBytes(const char *key, void *buf, size_t maxLen);
	size_t freeEntries();

private:
	struct Entry {
		std::string key;
		uint8_t type;
		std::vector<uint8_t> value;
	};
	bool started_ = false;
	bool read_only_ = false;
	std::string name_;
	std::vector<Entry> entries_;

	Entry *find(const char *key);
	size_t put(const char *key, uint8_t type, const void *value, size_t len);
	bool get(const char *key, uint8_t type, void *out, size_t len);
	bool load();
	bool save();
};

#endif /* PREFERENCES_H */
