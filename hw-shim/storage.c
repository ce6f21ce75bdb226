/*
 * hal_storage for the host: one file per device, <state-dir>/<id>.flash,
 * kept like a flash log (as Zephyr's NVS keeps a sector). Every write
 * appends one record - key, length, CRC-32, bytes - with a single pwrite();
 * an index in RAM says where each key's newest record is. A power cut (the
 * process killed at any instant) can only leave a torn record at the end,
 * which fails its CRC and is dropped at the next open: the key keeps its
 * previous value, never a mix. When dead records make up more than half
 * the file, the live ones are copied to a new file that is rename()d into
 * place, which a power cut also leaves whole (old file or new).
 *
 *   file:   "RFSTORE2" record record record ...
 *   record: u32 magic "REC1" | u16 key length | u16 0 | u32 value length |
 *           u32 CRC-32 of (key, value) | key | value
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal_storage.h"
#include "shim_internal.h"

#define STORE_MAGIC "RFSTORE2"
#define STORE_MAGIC_LEN 8
#define REC_MAGIC 0x31434552u    /* "REC1" little-endian */
#define STORE_VALUE_MAX 4096
#define STORE_KEYS_MAX 8192      /* the outbox ring and a few settings */
#define COMPACT_FLOOR (64u << 10) /* never compact a file smaller than this */

struct rec_hdr {
	uint32_t magic;
	uint16_t key_len;
	uint16_t zero;
	uint32_t len;
	uint32_t crc;
};

struct entry {
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint32_t off;            /* of the record header */
	uint32_t len;            /* value bytes */
};

static struct entry *entries;
static size_t n_entries, cap_entries;
static char path[4096];
static int fd = -1;
static uint64_t end_off;         /* where the next record goes */
static uint64_t live_bytes;      /* bytes of the newest record of every key */
static bool corrupt;             /* reads and writes say -EIO */

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint32_t record_crc(const char *key, size_t key_len, const void *val, size_t len)
{
	return crc32_update(crc32_update(0, (const uint8_t *)key, key_len), val, len);
}

static size_t record_size(size_t key_len, size_t len)
{
	return sizeof(struct rec_hdr) + key_len + len;
}

static bool key_valid(const char *key)
{
	size_t n = key ? strlen(key) : 0;

	if (n == 0 || n > HAL_STORAGE_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static struct entry *find(const char *key)
{
	for (size_t i = 0; i < n_entries; i++)
		if (strcmp(entries[i].key, key) == 0)
			return &entries[i];
	return NULL;
}

/* Point @key at the record at @off; returns -ENOSPC past STORE_KEYS_MAX. */
static int index_set(const char *key, uint32_t off, uint32_t len)
{
	struct entry *e = find(key);

	if (e) {
		live_bytes -= record_size(strlen(e->key), e->len);
	} else {
		if (n_entries == STORE_KEYS_MAX)
			return -ENOSPC;
		if (n_entries == cap_entries) {
			size_t cap = cap_entries ? cap_entries * 2 : 16;
			struct entry *grown = realloc(entries, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			entries = grown;
			cap_entries = cap;
		}
		e = &entries[n_entries++];
		snprintf(e->key, sizeof(e->key), "%s", key);
	}
	e->off = off;
	e->len = len;
	live_bytes += record_size(strlen(key), len);
	return 0;
}

/*
 * Read and check the record at @off. Returns its total size, 0 when there
 * is no valid record there. @key receives its key, @val (capacity
 * STORE_VALUE_MAX, may be NULL) its value.
 */
static size_t read_record(int f, uint64_t off, uint64_t file_size, char key[HAL_STORAGE_KEY_MAX + 1],
			  uint8_t *val, uint32_t *len)
{
	static uint8_t scratch[STORE_VALUE_MAX];
	struct rec_hdr h;
	uint8_t *v = val ? val : scratch;

	if (off + sizeof(h) > file_size || pread(f, &h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h))
		return 0;
	if (h.magic != REC_MAGIC || h.zero != 0 || h.key_len == 0 ||
	    h.key_len > HAL_STORAGE_KEY_MAX || h.len > STORE_VALUE_MAX ||
	    off + record_size(h.key_len, h.len) > file_size)
		return 0;
	if (pread(f, key, h.key_len, (off_t)(off + sizeof(h))) != (ssize_t)h.key_len ||
	    pread(f, v, h.len, (off_t)(off + sizeof(h) + h.key_len)) != (ssize_t)h.len)
		return 0;
	key[h.key_len] = '\0';
	if (!key_valid(key) || record_crc(key, h.key_len, v, h.len) != h.crc)
		return 0;
	*len = h.len;
	return record_size(h.key_len, h.len);
}

/* Whether any valid record starts after @off: then the damage is not a torn tail. */
static bool valid_record_after(uint64_t off, uint64_t file_size)
{
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint32_t len;

	for (uint64_t o = off + 1; o + sizeof(struct rec_hdr) <= file_size; o++)
		if (read_record(fd, o, file_size, key, NULL, &len))
			return true;
	return false;
}

/* Build the index; a torn last record is cut off, damage before it is -EIO. */
static int load(void)
{
	struct stat st;
	char magic[STORE_MAGIC_LEN];
	uint64_t off = STORE_MAGIC_LEN;

	if (fstat(fd, &st) < 0)
		return -EIO;
	if (st.st_size == 0) {
		/* New, or cut before the magic made it: start the log. */
		if (pwrite(fd, STORE_MAGIC, STORE_MAGIC_LEN, 0) != STORE_MAGIC_LEN)
			return -EIO;
		end_off = STORE_MAGIC_LEN;
		return 0;
	}
	if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, STORE_MAGIC, sizeof(magic)) != 0)
		return -EIO;
	while (off < (uint64_t)st.st_size) {
		char key[HAL_STORAGE_KEY_MAX + 1];
		uint32_t len;
		size_t n = read_record(fd, off, (uint64_t)st.st_size, key, NULL, &len);
		int rc;

		if (n == 0) {
			if (valid_record_after(off, (uint64_t)st.st_size))
				return -EIO;
			/* A write the power cut tore: forget it. */
			if (ftruncate(fd, (off_t)off) < 0)
				return -EIO;
			break;
		}
		if ((rc = index_set(key, (uint32_t)off, len)) < 0)
			return rc;
		off += n;
	}
	end_off = off;
	return 0;
}

static void reset(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	free(entries);
	entries = NULL;
	n_entries = cap_entries = 0;
	end_off = live_bytes = 0;
	corrupt = false;
}

int shim__storage_open(const char *dir, const char *device_id)
{
	int rc;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "robofleet-device: cannot create state directory %s: %s\n",
			dir, strerror(errno));
		return -errno;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.flash", dir, device_id) >= sizeof(path))
		return -ENAMETOOLONG;
	reset();
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "robofleet-device: cannot open storage %s: %s\n", path, strerror(errno));
		return -errno;
	}
	rc = load();
	corrupt = rc < 0;
	if (corrupt)
		fprintf(stderr, "robofleet-device: storage %s is unreadable (%s); "
			"remove it to start the device afresh\n", path, strerror(-rc));
	return 0;
}

void shim__storage_close(void)
{
	reset();
}

int hal_storage_read(const char *key, void *buf, size_t cap, size_t *len)
{
	char k[HAL_STORAGE_KEY_MAX + 1];
	uint8_t val[STORE_VALUE_MAX];
	const struct entry *e;
	uint32_t n;

	if (!key_valid(key) || !len)
		return -EINVAL;
	if (fd < 0 || corrupt)
		return -EIO;
	e = find(key);
	if (!e)
		return -ENOENT;
	*len = e->len;
	if (cap < e->len)
		return -EOVERFLOW;
	/* Checked again on the way out: the medium may have changed under us. */
	if (!read_record(fd, e->off, end_off, k, val, &n) || strcmp(k, key) != 0)
		return -EIO;
	memcpy(buf, val, n);
	return 0;
}

/* Copy the live records to a new file and swap it in. */
static int compact(void)
{
	char tmp[sizeof(path) + 8];
	uint8_t val[STORE_VALUE_MAX];
	uint64_t off = STORE_MAGIC_LEN;
	int out;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return -EIO;
	if (pwrite(out, STORE_MAGIC, STORE_MAGIC_LEN, 0) != STORE_MAGIC_LEN)
		goto fail;
	for (size_t i = 0; i < n_entries; i++) {
		char k[HAL_STORAGE_KEY_MAX + 1];
		uint32_t n;
		size_t size = read_record(fd, entries[i].off, end_off, k, val, &n);
		uint8_t rec[sizeof(struct rec_hdr) + HAL_STORAGE_KEY_MAX + STORE_VALUE_MAX];

		if (!size)
			goto fail;
		/* The record is copied as it was: header, key, value. */
		if (pread(fd, rec, size, (off_t)entries[i].off) != (ssize_t)size ||
		    pwrite(out, rec, size, (off_t)off) != (ssize_t)size)
			goto fail;
		entries[i].off = (uint32_t)off;
		off += size;
	}
	if (rename(tmp, path) != 0)
		goto fail;
	close(fd);
	fd = out;
	end_off = off;
	return 0;
fail:
	close(out);
	unlink(tmp);
	/* The index may point into the new file for some keys: rebuild it. */
	return -EIO;
}

int hal_storage_write(const char *key, const void *buf, size_t len)
{
	uint8_t rec[sizeof(struct rec_hdr) + HAL_STORAGE_KEY_MAX + STORE_VALUE_MAX];
	struct rec_hdr h;
	size_t key_len, size;
	int rc;

	if (!key_valid(key) || (len && !buf))
		return -EINVAL;
	if (len > STORE_VALUE_MAX)
		return -ENOSPC;
	if (fd < 0 || corrupt)
		return -EIO;
	if (!find(key) && n_entries == STORE_KEYS_MAX)
		return -ENOSPC;
	key_len = strlen(key);
	size = record_size(key_len, len);
	h.magic = REC_MAGIC;
	h.key_len = (uint16_t)key_len;
	h.zero = 0;
	h.len = (uint32_t)len;
	h.crc = record_crc(key, key_len, buf, len);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), key, key_len);
	if (len)
		memcpy(rec + sizeof(h) + key_len, buf, len);
	/* One write: a cut leaves all of it or a torn tail the next open drops. */
	if (end_off + size > UINT32_MAX || pwrite(fd, rec, size, (off_t)end_off) != (ssize_t)size) {
		/* Whatever part landed is a torn record; cut it so the next
		 * append does not follow garbage. */
		if (ftruncate(fd, (off_t)end_off) < 0)
			corrupt = true;
		return -EIO;
	}
	if ((rc = index_set(key, (uint32_t)end_off, (uint32_t)len)) < 0)
		return rc;
	end_off += size;
	if (end_off > COMPACT_FLOOR && end_off > 2 * (live_bytes + STORE_MAGIC_LEN) &&
	    compact() < 0) {
		/* The old file is intact; reload its index to be sure of it. */
		reset();
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || load() < 0)
			corrupt = true;
	}
	return 0;
}
