// Preferences: each NVS namespace is a record of the emulated flash (or several, switched atomically), replaced whole on every change.
#include "Preferences.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>

extern "C" {
#include "hal_log.h"
#include "hal_storage.h"
}

/*
 * A namespace of up to 4096 bytes is one storage record "nvs_<8 hex>" (a
 * hash of its name; the name is stored inside and checked). Replacing a
 * record is atomic in the store, so a power cut keeps the namespace as it
 * was before the put or as it is after it, like NVS. Layout, little endian:
 *   "RFNV1" | u8 name_len | name | u16 count | count x
 *   (u8 key_len | key | u8 type | u16 value_len | value)
 *
 * A larger one (certificates and keys run to kilobytes: up to 32 KiB, as
 * an NVS partition holds far more than one 4096-byte record) is the same
 * bytes cut into parts "nvp<8 hex><bank><n>", and "nvs_<8 hex>" holds a
 * head instead:
 *   "RFNV2" | u8 bank | u8 parts | u32 length | u32 crc32 of the bytes
 * The parts are written into the bank the head does not point at, then the
 * head is replaced: the switch is that one atomic write, so a power cut or
 * a refused write anywhere before it leaves the namespace as it was.
 */
static const size_t RECORD_MAX = 4096; /* the store's largest value */
static const size_t PARTS_MAX = 8;
static const size_t NAMESPACE_MAX = RECORD_MAX * PARTS_MAX;
static const char MAGIC[5] = { 'R', 'F', 'N', 'V', '1' };
static const char HEAD_MAGIC[5] = { 'R', 'F', 'N', 'V', '2' };
static const size_t HEAD_LEN = 15;
static const size_t NAME_MAX_LEN = 15; /* NVS: namespace and key names */

static uint32_t name_hash(const std::string &name)
{
	uint32_t h = 2166136261u;

	for (unsigned char c : name)
		h = (h ^ c) * 16777619u;
	return h;
}

static void record_key(const std::string &name, char out[HAL_STORAGE_KEY_MAX + 1])
{
	snprintf(out, HAL_STORAGE_KEY_MAX + 1, "nvs_%08x", name_hash(name));
}

static void part_key(const std::string &name, unsigned bank, size_t i,
		     char out[HAL_STORAGE_KEY_MAX + 1])
{
	snprintf(out, HAL_STORAGE_KEY_MAX + 1, "nvp%08x%c%x", name_hash(name), 'a' + bank,
		 (unsigned)i);
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(std::vector<uint8_t> &b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b.push_back((uint8_t)(v >> (8 * i)));
}

static bool key_ok(const char *key)
{
	return key && *key && strlen(key) <= NAME_MAX_LEN;
}

/* The bank a head points at, or -1 when the namespace is one record (or
 * none). */
static int current_bank(const std::string &name)
{
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint8_t head[HEAD_LEN];
	size_t len = 0;

	record_key(name, key);
	if (hal_storage_read(key, head, sizeof(head), &len) != 0 || len != HEAD_LEN ||
	    memcmp(head, HEAD_MAGIC, 5) != 0)
		return -1;
	return head[5] & 1;
}

/* The bytes of a namespace written in parts, checked against its head. */
static bool load_parts(const std::string &name, const uint8_t *head, std::vector<uint8_t> &out)
{
	unsigned bank = head[5] & 1;
	size_t parts = head[6];
	size_t total = get_u32(head + 7);
	char key[HAL_STORAGE_KEY_MAX + 1];

	if (parts < 2 || parts > PARTS_MAX || total <= (parts - 1) * RECORD_MAX ||
	    total > parts * RECORD_MAX)
		return false;
	out.assign(total, 0);
	for (size_t i = 0; i < parts; i++) {
		size_t want = i + 1 < parts ? RECORD_MAX : total - i * RECORD_MAX, len = 0;
		part_key(name, bank, i, key);
		if (hal_storage_read(key, out.data() + i * RECORD_MAX, want, &len) != 0 ||
		    len != want)
			return false;
	}
	return crc32(out.data(), total) == get_u32(head + 11);
}

bool Preferences::load()
{
	char key[HAL_STORAGE_KEY_MAX + 1];
	std::vector<uint8_t> buf(RECORD_MAX);
	size_t len = 0, off = 0;
	int rc;

	entries_.clear();
	record_key(name_, key);
	rc = hal_storage_read(key, buf.data(), buf.size(), &len);
	if (rc == -ENOENT)
		return true;
	if (rc < 0)
		return false;
	if (len == HEAD_LEN && memcmp(buf.data(), HEAD_MAGIC, 5) == 0) {
		std::vector<uint8_t> head(buf.begin(), buf.begin() + HEAD_LEN);
		if (!load_parts(name_, head.data(), buf))
			return false;
		len = buf.size();
	}
	auto need = [&](size_t n) { return off + n <= len; };
	if (!need(6) || memcmp(buf.data(), MAGIC, 5) != 0)
		return false;
	off = 5;
	size_t name_len = buf[off++];
	if (!need(name_len + 2) || name_.compare(0, std::string::npos,
						 reinterpret_cast<const char *>(&buf[off]), name_len) != 0)
		return false;
	off += name_len;
	size_t count = buf[off] | (size_t)buf[off + 1] << 8;
	off += 2;
	for (size_t i = 0; i < count; i++) {
		Entry e;
		if (!need(1))
			return false;
		size_t kl = buf[off++];
		if (!need(kl + 3))
			return false;
		e.key.assign(reinterpret_cast<const char *>(&buf[off]), kl);
		off += kl;
		e.type = buf[off++];
		size_t vl = buf[off] | (size_t)buf[off + 1] << 8;
		off += 2;
		if (!need(vl))
			return false;
		e.value.assign(buf.begin() + (long)off, buf.begin() + (long)(off + vl));
		off += vl;
		entries_.push_back(std::move(e));
	}
	return true;
}

bool Preferences::save()
{
	char key[HAL_STORAGE_KEY_MAX + 1];
	std::vector<uint8_t> buf(MAGIC, MAGIC + 5);

	buf.push_back((uint8_t)name_.size());
	buf.insert(buf.end(), name_.begin(), name_.end());
	buf.push_back((uint8_t)entries_.size());
	buf.push_back((uint8_t)(entries_.size() >> 8));
	for (const Entry &e : entries_) {
		if (e.value.size() > 0xffff)
			return false;
		buf.push_back((uint8_t)e.key.size());
		buf.insert(buf.end(), e.key.begin(), e.key.end());
		buf.push_back(e.type);
		buf.push_back((uint8_t)e.value.size());
		buf.push_back((uint8_t)(e.value.size() >> 8));
		buf.insert(buf.end(), e.value.begin(), e.value.end());
	}
	if (buf.size() > NAMESPACE_MAX)
		return false;
	record_key(name_, key);
	if (buf.size() <= RECORD_MAX)
		return hal_storage_write(key, buf.data(), buf.size()) == 0;

	/* Asked of the store each time, not remembered: another Preferences
	 * object may have switched banks since this one was opened. */
	unsigned bank = current_bank(name_) == 0 ? 1 : 0;
	size_t parts = (buf.size() + RECORD_MAX - 1) / RECORD_MAX;
	for (size_t i = 0; i < parts; i++) {
		char pkey[HAL_STORAGE_KEY_MAX + 1];
		size_t n = std::min(RECORD_MAX, buf.size() - i * RECORD_MAX);
		part_key(name_, bank, i, pkey);
		if (hal_storage_write(pkey, buf.data() + i * RECORD_MAX, n) != 0)
			return false;
	}
	std::vector<uint8_t> head(HEAD_MAGIC, HEAD_MAGIC + 5);
	head.push_back((uint8_t)bank);
	head.push_back((uint8_t)parts);
	put_u32(head, (uint32_t)buf.size());
	put_u32(head, crc32(buf.data(), buf.size()));
	return hal_storage_write(key, head.data(), head.size()) == 0;
}

bool Preferences::begin(const char *name, bool readOnly, const char *partition_label)
{
	(void)partition_label;
	if (started_ || !key_ok(name))
		return false;
	name_ = name;
	if (!load()) {
		char line[96];
		snprintf(line, sizeof(line), "Preferences: namespace '%s' cannot be read", name);
		hal_log_write(HAL_LOG_WARN, line);
		return false;
	}
	/* NVS cannot open a namespace read-only before anything created it. */
	if (readOnly && entries_.empty()) {
		char key[HAL_STORAGE_KEY_MAX + 1];
		size_t len = 0;
		uint8_t probe;
		record_key(name_, key);
		if (hal_storage_read(key, &probe, 0, &len) == -ENOENT)
			return false;
	}
	read_only_ = readOnly;
	started_ = true;
	return true;
}

void Preferences::end()
{
	started_ = false;
	entries_.clear();
}

bool Preferences::clear()
{
	if (!started_ || read_only_)
		return false;
	std::vector<Entry> old;
	old.swap(entries_);
	if (save())
		return true;
	entries_.swap(old);
	return false;
}

bool Preferences::remove(const char *key)
{
	if (!started_ || read_only_ || !key_ok(key))
		return false;
	for (size_t i = 0; i < entries_.size(); i++) {
		if (entries_[i].key == key) {
			Entry old = entries_[i];
			entries_.erase(entries_.begin() + (long)i);
			if (save())
				return true;
			entries_.insert(entries_.begin() + (long)i, old);
			return false;
		}
	}
	return false;
}

Preferences::Entry *Preferences::find(const char *key)
{
	if (!key)
		return nullptr;
	for (Entry &e : entries_)
		if (e.key == key)
			return &e;
	return nullptr;
}

size_t Preferences::put(const char *key, uint8_t type, const void *value, size_t len)
{
	if (!started_ || read_only_ || !key_ok(key))
		return 0;
	Entry *e = find(key);
	Entry old;
	bool existed = e != nullptr;
	const uint8_t *v = static_cast<const uint8_t *>(value);

	if (existed) {
		old = *e;
	} else {
		entries_.push_back(Entry{ key, type, {} });
		e = &entries_.back();
	}
	e->type = type;
	e->value.assign(v, v + len);
	if (save())
		return len;
	/* The flash refused it (full, failing): the namespace stays as it was. */
	if (existed)
		*find(key) = old;
	else
		entries_.pop_back();
	return 0;
}

bool Preferences::get(const char *key, uint8_t type, void *out, size_t len)
{
	const Entry *e = started_ ? find(key) : nullptr;

	if (!e || e->type != type || e->value.size() != len)
		return false;
	memcpy(out, e->value.data(), len);
	return true;
}

#define PREF_PAIR(Name, T, Type)                                     \
	size_t Preferences::put##Name(const char *key, T value)      \
	{                                                            \
		return put(key, Type, &value, sizeof(value));        \
	}                                                            \
	T Preferences::get##Name(const char *key, T defaultValue)    \
	{                                                            \
		T v;                                                 \
		return get(key, Type, &v, sizeof(v)) ? v : defaultValue; \
	}

PREF_PAIR(Char, int8_t, PT_I8)
PREF_PAIR(UChar, uint8_t, PT_U8)
PREF_PAIR(Short, int16_t, PT_I16)
PREF_PAIR(UShort, uint16_t, PT_U16)
PREF_PAIR(Int, int32_t, PT_I32)
PREF_PAIR(UInt, uint32_t, PT_U32)
PREF_PAIR(Long, int32_t, PT_I32)
PREF_PAIR(ULong, uint32_t, PT_U32)
PREF_PAIR(Long64, int64_t, PT_I64)
PREF_PAIR(ULong64, uint64_t, PT_U64)
/* The ESP32 stores floats, doubles as blobs of their size. */
PREF_PAIR(Float, float, PT_BLOB)
PREF_PAIR(Double, double, PT_BLOB)

size_t Preferences::putBool(const char *key, bool value)
{
	return putUChar(key, value ? 1 : 0);
}

bool Preferences::getBool(const char *key, bool defaultValue)
{
	return getUChar(key, defaultValue ? 1 : 0) != 0;
}

size_t Preferences::putString(const char *key, const char *value)
{
	if (!value)
		return 0;
	return put(key, PT_STR, value, strlen(value)) == strlen(value) ? strlen(value) : 0;
}

size_t Preferences::putString(const char *key, const String &value)
{
	return putString(key, value.c_str());
}

size_t Preferences::putBytes(const char *key, const void *value, size_t len)
{
	if (!value || len == 0)
		return 0;
	return put(key, PT_BLOB, value, len);
}

bool Preferences::isKey(const char *key)
{
	return started_ && find(key) != nullptr;
}

PreferenceType Preferences::getType(const char *key)
{
	const Entry *e = started_ ? find(key) : nullptr;

	return e ? (PreferenceType)e->type : PT_INVALID;
}

size_t Preferences::getString(const char *key, char *value, size_t maxLen)
{
	const Entry *e = started_ ? find(key) : nullptr;

	if (!e || e->type != PT_STR || !value || e->value.size() + 1 > maxLen)
		return 0;
	memcpy(value, e->value.data(), e->value.size());
	value[e->value.size()] = '\0';
	return e->value.size() + 1;
}

String Preferences::getString(const char *key, String defaultValue)
{
	const Entry *e = started_ ? find(key) : nullptr;

	if (!e || e->type != PT_STR)
		return defaultValue;
	return String(reinterpret_cast<const char *>(e->value.data()), e->value.size());
}

size_t Preferences::getBytesLength(const char *key)
{
	const Entry *e = started_ ? find(key) : nullptr;

	return e && e->type == PT_BLOB ? e->value.size() : 0;
}

size_t Preferences::getBytes(const char *key, void *buf, size_t maxLen)
{
	const Entry *e = started_ ? find(key) : nullptr;

	if (!e || e->type != PT_BLOB || !buf || e->value.size() > maxLen)
		return 0;
	memcpy(buf, e->value.data(), e->value.size());
	return e->value.size();
}

size_t Preferences::freeEntries()
{
	size_t used = 8 + name_.size();

	for (const Entry &e : entries_)
		used += 4 + e.key.size() + e.value.size();
	/* NVS counts 32-byte entries. */
	return used >= NAMESPACE_MAX ? 0 : (NAMESPACE_MAX - used) / 32;
}
