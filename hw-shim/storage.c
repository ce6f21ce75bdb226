/*
 * hal_storage for the host: one file per device, like the flash sector of a
 * real board. The file is a list of records (key, length, CRC-32, bytes);
 * each write rebuilds it in a temporary file and rename()s it into place,
 * so a power cut (the process killed at any instant) leaves the old or the
 * new file, never a torn one.
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

#define STORE_MAGIC "RFSTORE1"
#define STORE_RECORDS_MAX 16
#define STORE_VALUE_MAX 4096

struct record {
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint32_t len;
	uint8_t *data;
};

static struct record records[STORE_RECORDS_MAX];
static char path[4096];
static bool opened;
static bool corrupt; /* reads say -EIO until a write replaces the file */

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

static void clear_records(void)
{
	for (int i = 0; i < STORE_RECORDS_MAX; i++) {
		free(records[i].data);
		memset(&records[i], 0, sizeof(records[i]));
	}
}

/* Load the file; a missing file is an empty store, a corrupt one an error. */
static int load(void)
{
	FILE *f = fopen(path, "rb");
	char magic[8];
	int rc = 0, n = 0;

	if (!f)
		return errno == ENOENT ? 0 : -EIO;
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    memcmp(magic, STORE_MAGIC, sizeof(magic)) != 0) {
		rc = -EIO;
		goto out;
	}
	for (;;) {
		struct record *r;
		uint32_t hdr[2];
		char key[HAL_STORAGE_KEY_MAX + 1];

		if (fread(key, 1, sizeof(key), f) != sizeof(key))
			break; /* clean end of file */
		if (n == STORE_RECORDS_MAX || fread(hdr, sizeof(uint32_t), 2, f) != 2 ||
		    hdr[0] > STORE_VALUE_MAX || key[HAL_STORAGE_KEY_MAX] != '\0' || !key_valid(key)) {
			rc = -EIO;
			goto out;
		}
		r = &records[n++];
		memcpy(r->key, key, sizeof(key));
		r->len = hdr[0];
		r->data = malloc(r->len ? r->len : 1);
		if (!r->data) {
			rc = -ENOMEM;
			goto out;
		}
		if (fread(r->data, 1, r->len, f) != r->len || crc32(r->data, r->len) != hdr[1]) {
			rc = -EIO;
			goto out;
		}
	}
out:
	fclose(f);
	if (rc < 0)
		clear_records();
	return rc;
}

static int save(void)
{
	char tmp[sizeof(path) + 8];
	FILE *f;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return -EIO;
	fwrite(STORE_MAGIC, 1, 8, f);
	for (int i = 0; i < STORE_RECORDS_MAX; i++) {
		const struct record *r = &records[i];
		uint32_t hdr[2];

		if (!r->key[0])
			continue;
		hdr[0] = r->len;
		hdr[1] = crc32(r->data, r->len);
		fwrite(r->key, 1, sizeof(r->key), f);
		fwrite(hdr, sizeof(uint32_t), 2, f);
		fwrite(r->data, 1, r->len, f);
	}
	if (ferror(f))
		rc = -EIO;
	if (fclose(f) != 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -EIO;
	if (rc < 0)
		unlink(tmp);
	return rc;
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
	clear_records();
	opened = true;
	rc = load();
	corrupt = rc < 0;
	if (corrupt)
		fprintf(stderr, "robofleet-device: storage %s is unreadable (%s); "
			"remove it to start the device afresh\n", path, strerror(-rc));
	return 0;
}

void shim__storage_close(void)
{
	clear_records();
	opened = false;
}

static struct record *find(const char *key)
{
	for (int i = 0; i < STORE_RECORDS_MAX; i++)
		if (records[i].key[0] && strcmp(records[i].key, key) == 0)
			return &records[i];
	return NULL;
}

int hal_storage_read(const char *key, void *buf, size_t cap, size_t *len)
{
	const struct record *r;

	if (!key_valid(key) || !len)
		return -EINVAL;
	if (!opened || corrupt)
		return -EIO;
	r = find(key);
	if (!r)
		return -ENOENT;
	*len = r->len;
	if (cap < r->len)
		return -EOVERFLOW;
	memcpy(buf, r->data, r->len);
	return 0;
}

int hal_storage_write(const char *key, const void *buf, size_t len)
{
	struct record *r;
	uint8_t *copy, *old_data;
	uint32_t old_len;
	int rc;

	if (!key_valid(key) || (len && !buf))
		return -EINVAL;
	if (len > STORE_VALUE_MAX)
		return -ENOSPC;
	if (!opened || corrupt)
		return -EIO;
	r = find(key);
	if (!r) {
		for (int i = 0; i < STORE_RECORDS_MAX && !r; i++)
			if (!records[i].key[0])
				r = &records[i];
		if (!r)
			return -ENOSPC;
		snprintf(r->key, sizeof(r->key), "%s", key);
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	old_data = r->data;
	old_len = r->len;
	r->data = copy;
	r->len = (uint32_t)len;
	rc = save();
	if (rc < 0) {
		/* Roll back: memory must keep matching what the file holds. */
		r->data = old_data;
		r->len = old_len;
		if (!old_data)
			r->key[0] = '\0';
		free(copy);
		return rc;
	}
	free(old_data);
	return 0;
}
