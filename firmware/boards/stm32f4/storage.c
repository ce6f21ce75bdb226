/*
 * hal_storage on two flash sectors: a log of key/blob records, newest wins.
 *
 * Sector:  [header 16 B: magic "RFS1", generation, ~generation, 0xFFFFFFFF]
 *          [record][record]...[0xFF erased to the end]
 * Record:  [mark 0xA5 | key_len | data_len (16)] [crc32] [key, padded to 4]
 *          [data, padded to 4]
 *
 * A write appends one record: the header word first, then key and data, the
 * CRC word last. A power cut before the CRC leaves a record that fails its
 * check and is skipped (its length is known), so the previous value is
 * still the newest valid one: old or new, never a mix. A torn header word
 * ends the usable log; the next write compacts.
 *
 * When the sector is full, the newest valid record of every key is copied
 * into the other (erased) sector with the new value, and only then is that
 * sector's header written with generation + 1: a power cut mid-compaction
 * leaves the old sector in force. At boot the valid header with the higher
 * generation wins.
 *
 * Wear: a write of the value already stored costs nothing; the sectors take
 * turns, so each is erased once per two compactions (see the board doc for
 * the arithmetic); records are word-programmed, never rewritten.
 */
#include <errno.h>
#include <string.h>

#include "board.h"
#include "hal_storage.h"

#define SECTOR_MAGIC 0x31534652u /* "RFS1" */
#define HDR_BYTES 16u
#define REC_MARK 0xA5u
#define DATA_MAX 1024u

struct rec {
	uintptr_t at;
	uint8_t key_len;
	uint16_t data_len;
	bool valid;
	uint32_t total;
};

static int active = -1;
static uint32_t generation;
static uintptr_t free_at;   /* next record goes here; end of sector = full */

static uint32_t rd32(uintptr_t a)
{
	return *(const volatile uint32_t *)a;
}

static uint32_t pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint32_t rec_crc(uint32_t hdr, const void *key, size_t key_len, const void *data,
			size_t data_len)
{
	uint32_t c = crc32_update(0, &hdr, 4);

	c = crc32_update(c, key, key_len);
	c = crc32_update(c, data, data_len);
	return c == 0xFFFFFFFFu ? 0 : c; /* all ones means "not yet written" */
}

static uintptr_t sector_end(int s)
{
	return stm32_flash.base[s] + stm32_flash.size;
}

/* Parse the record at @a. Returns false at the end of the log. */
static bool rec_at(int s, uintptr_t a, struct rec *r)
{
	uint32_t hdr, crc;

	if (a + 8 > sector_end(s))
		return false;
	hdr = rd32(a);
	if (hdr == 0xFFFFFFFFu || (hdr & 0xFFu) != REC_MARK)
		return false;
	r->at = a;
	r->key_len = (uint8_t)(hdr >> 8);
	r->data_len = (uint16_t)(hdr >> 16);
	if (r->key_len == 0 || r->key_len > HAL_STORAGE_KEY_MAX || r->data_len > DATA_MAX)
		return false;
	r->total = 8u + pad4(r->key_len) + pad4(r->data_len);
	if (a + r->total > sector_end(s))
		return false;
	crc = rd32(a + 4);
	r->valid = crc == rec_crc(hdr, (const void *)(a + 8), r->key_len,
				  (const void *)(a + 8 + pad4(r->key_len)), r->data_len);
	return true;
}

static bool rec_is(const struct rec *r, const char *key, size_t key_len)
{
	return r->valid && r->key_len == key_len &&
	       memcmp((const void *)(r->at + 8), key, key_len) == 0;
}

static const uint8_t *rec_data(const struct rec *r)
{
	return (const uint8_t *)(r->at + 8 + pad4(r->key_len));
}

static bool header_valid(int s, uint32_t *gen)
{
	uintptr_t b = stm32_flash.base[s];

	if (rd32(b) != SECTOR_MAGIC || rd32(b + 4) != ~rd32(b + 8))
		return false;
	*gen = rd32(b + 4);
	return true;
}

/* Walk the log; returns where it ends (the first free byte, or the sector
 * end when a torn header makes the rest unusable). */
static uintptr_t log_end(int s)
{
	uintptr_t a = stm32_flash.base[s] + HDR_BYTES;
	struct rec r;

	while (rec_at(s, a, &r))
		a += r.total;
	if (a + 4 <= sector_end(s) && rd32(a) != 0xFFFFFFFFu)
		return sector_end(s);
	return a;
}

/* The newest valid record of @key in the active sector. */
static bool find(const char *key, size_t key_len, struct rec *out)
{
	uintptr_t a = stm32_flash.base[active] + HDR_BYTES;
	struct rec r;
	bool found = false;

	while (rec_at(active, a, &r)) {
		if (rec_is(&r, key, key_len)) {
			*out = r;
			found = true;
		}
		a += r.total;
	}
	return found;
}

static bool sector_blank(int s)
{
	for (uintptr_t a = stm32_flash.base[s]; a < sector_end(s); a += 4)
		if (rd32(a) != 0xFFFFFFFFu)
			return false;
	return true;
}

static int put_record(uintptr_t at, const char *key, size_t key_len, const void *data,
		      size_t data_len)
{
	uint32_t hdr = REC_MARK | (uint32_t)key_len << 8 | (uint32_t)data_len << 16;
	uint32_t crc = rec_crc(hdr, key, key_len, data, data_len);
	uint8_t tail[4];
	size_t whole;
	int rc;

	if ((rc = stm32_flash_program(at, &hdr, 4)) < 0)
		return rc;
	/* the key, padded with 0xFF (keys are at most 15 bytes) */
	{
		uint8_t kbuf[16];

		memset(kbuf, 0xFF, sizeof(kbuf));
		memcpy(kbuf, key, key_len);
		if ((rc = stm32_flash_program(at + 8, kbuf, pad4((uint32_t)key_len))) < 0)
			return rc;
	}
	at += 8 + pad4((uint32_t)key_len);
	whole = data_len & ~(size_t)3u;
	if (whole && (rc = stm32_flash_program(at, data, whole)) < 0)
		return rc;
	if (data_len > whole) {
		memset(tail, 0xFF, sizeof(tail));
		memcpy(tail, (const uint8_t *)data + whole, data_len - whole);
		if ((rc = stm32_flash_program(at + whole, tail, 4)) < 0)
			return rc;
	}
	return stm32_flash_program(at - pad4((uint32_t)key_len) - 4, &crc, 4);
}

static int format(int s, uint32_t gen)
{
	uint32_t hdr[4] = { SECTOR_MAGIC, gen, ~gen, 0xFFFFFFFFu };
	int rc;

	if (!sector_blank(s) && (rc = stm32_flash_erase((unsigned int)s)) < 0)
		return rc;
	return stm32_flash_program(stm32_flash.base[s], hdr, sizeof(hdr));
}

/* Copy the live records into the other sector with @key's new value. */
static int compact(const char *key, size_t key_len, const void *data, size_t data_len)
{
	int to = 1 - active, rc;
	uintptr_t a = stm32_flash.base[active] + HDR_BYTES;
	uintptr_t dst = stm32_flash.base[to] + HDR_BYTES;
	uint32_t need = 8u + pad4((uint32_t)key_len) + pad4((uint32_t)data_len);
	uint32_t hdr[4] = { SECTOR_MAGIC, generation + 1, ~(generation + 1), 0xFFFFFFFFu };
	struct rec r;

	if (!sector_blank(to) && (rc = stm32_flash_erase((unsigned int)to)) < 0)
		return rc;
	while (rec_at(active, a, &r)) {
		struct rec newest;
		const char *k = (const char *)(r.at + 8);

		a += r.total;
		if (!r.valid || (r.key_len == key_len && memcmp(k, key, key_len) == 0))
			continue;
		if (!find(k, r.key_len, &newest) || newest.at != r.at)
			continue; /* a later record of this key wins */
		if (dst + r.total + need > sector_end(to))
			return -ENOSPC;
		if ((rc = put_record(dst, k, r.key_len, rec_data(&r), r.data_len)) < 0)
			return rc;
		dst += r.total;
	}
	if (dst + need > sector_end(to))
		return -ENOSPC;
	if ((rc = put_record(dst, key, key_len, data, data_len)) < 0)
		return rc;
	/* The commit point: until this header exists, the old sector rules. */
	if ((rc = stm32_flash_program(stm32_flash.base[to], hdr, sizeof(hdr))) < 0)
		return rc;
	active = to;
	generation++;
	free_at = dst + need;
	return 0;
}

int stm32_storage_init(void)
{
	uint32_t g0 = 0, g1 = 0;
	bool v0 = header_valid(0, &g0), v1 = header_valid(1, &g1);
	int rc;

	if (!v0 && !v1) {
		if ((rc = format(0, 1)) < 0)
			return rc;
		v0 = header_valid(0, &g0);
	}
	/* serial-number comparison: generations may wrap */
	if (v0 && (!v1 || (int32_t)(g0 - g1) > 0)) {
		active = 0;
		generation = g0;
	} else {
		active = 1;
		generation = g1;
	}
	free_at = log_end(active);
	return 0;
}

uint32_t stm32_storage_generation(void)
{
	return generation;
}

static bool key_ok(const char *key, size_t *len)
{
	size_t n;

	if (!key)
		return false;
	n = strlen(key);
	if (n == 0 || n > HAL_STORAGE_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
		      key[i] == '_'))
			return false;
	*len = n;
	return true;
}

int hal_storage_read(const char *key, void *buf, size_t cap, size_t *len)
{
	struct rec r;
	size_t key_len;

	if (!key_ok(key, &key_len) || !len || (cap && !buf))
		return -EINVAL;
	if (active < 0)
		return -EIO;
	if (!find(key, key_len, &r))
		return -ENOENT;
	*len = r.data_len;
	if (r.data_len > cap)
		return -EOVERFLOW;
	memcpy(buf, rec_data(&r), r.data_len);
	return 0;
}

int hal_storage_write(const char *key, const void *buf, size_t len)
{
	struct rec r;
	size_t key_len;
	uint32_t need;
	int rc;

	if (!key_ok(key, &key_len) || len > DATA_MAX || (len && !buf))
		return -EINVAL;
	if (active < 0)
		return -EIO;
	if (find(key, key_len, &r) && r.data_len == len && memcmp(rec_data(&r), buf, len) == 0)
		return 0; /* unchanged: spare the flash */
	need = 8u + pad4((uint32_t)key_len) + pad4((uint32_t)len);
	if (free_at + need > sector_end(active))
		return compact(key, key_len, buf, len);
	rc = put_record(free_at, key, key_len, buf, len);
	/* Even a failed record occupies its space: never program it twice. */
	free_at = rc < 0 ? sector_end(active) : free_at + need;
	return rc;
}
