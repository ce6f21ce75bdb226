/*
 * hal_storage in a file: one per device, <state-dir>/<id>.flash, kept like
 * a flash log (as Zephyr's NVS keeps its sectors).
 *
 * Every write appends one record with a single pwrite(); an index in RAM
 * maps each key to its newest record (values stay on disk). A power cut -
 * the process killed at any instant - can only leave a torn record at the
 * end of the file: it fails its CRC, the next open cuts it off, and the key
 * keeps its previous value, never a mix. Damage anywhere else is not a cut
 * but a broken medium, and the store refuses to be read (-EIO).
 *
 * When the file has grown past twice its live size (and past a floor, so a
 * small store is never rewritten), the newest record of every key is copied
 * into <id>.flash.tmp, which is rename()d over the file: old or new again.
 *
 *   file:   "RFSTORE2" record record ...
 *   record: u32 magic "REC2" | u16 key length | u16 0 | u32 value length |
 *           u32 sequence | u32 CRC-32 of (key length, value length,
 *           sequence, key, value) | key | value         (little-endian)
 *
 * The sequence grows by one with every write; when a key has several
 * records the highest sequence wins, so compaction may reorder records.
 *
 * Older files are read too: "REC1" records (16-byte header without the
 * sequence, CRC of key and value; their order is their sequence), and the
 * first format, "RFSTORE1" (a whole-file image written by rename()), which is
 * converted into a log at open so that a device keeps its boot counter.
 *
 * An emulated flash can act under the store (struct posix_storage_hooks):
 * refuse writes before they reach the file (a failing or full medium), and
 * damage a record when the store opens, which is to say at the device's
 * next boot. The virtual robot's flash faults work that way; a real board
 * has no hooks.
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
#include "posix_hal.h"

#define STORE_MAGIC "RFSTORE2"
#define STORE_MAGIC_LEN 8
#define REC_MAGIC 0x32434552u      /* "REC2" little-endian */
#define REC1_MAGIC 0x31434552u     /* "REC1": no sequence */
#define REC1_HDR 16
#define V1_MAGIC "RFSTORE1"
#define STORE_VALUE_MAX 4096
#define STORE_KEYS_MAX 8500        /* two outbox rings of 4096 and a few settings */
#define COMPACT_FLOOR (64u << 10)  /* never compact a file smaller than this */
#define REC_MAX (sizeof(struct rec_hdr) + HAL_STORAGE_KEY_MAX + STORE_VALUE_MAX)

struct rec_hdr {
	uint32_t magic;
	uint16_t key_len;
	uint16_t zero;
	uint32_t len;
	uint32_t seq;
	uint32_t crc;
};

/* A record as read, whatever its format; @val points into the caller's buffer. */
struct rec {
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint32_t len;
	uint32_t seq;
	const uint8_t *val;
};

struct entry {
	char key[HAL_STORAGE_KEY_MAX + 1];
	uint32_t off;              /* of the newest record's header */
	uint32_t len;              /* its value bytes */
	uint32_t seq;
};

/* Dense entries plus a hash of them (entry number + 1, 0 = empty). */
static struct entry *entries;
static size_t n_entries, cap_entries;
static uint32_t *buckets;
static size_t n_buckets;           /* a power of two, at least 2 x n_entries */

static char path[4096];
static int fd = -1;
static uint64_t end_off;           /* where the next record goes */
static uint64_t live_bytes;        /* file bytes of the newest record of every key */
static uint32_t next_seq;
static uint64_t compact_after;     /* after a failed compaction: wait for this size */
/*
 * The newest bytes of the log, as written: file bytes [recent_start, end_off).
 * A reading is stored and read back for publishing moments later; serving
 * that read from RAM spares a device two system calls per reading. Bytes
 * only enter it after their pwrite() succeeded, and every record read from
 * it is checked (magic, CRC) as one read from the file is.
 */
#define RECENT_BYTES 2048u
static uint8_t recent[RECENT_BYTES];
static uint64_t recent_start;
static bool corrupt;               /* reads and writes say -EIO */
/* They outlive an open and a close: a host hands them over before the
 * store is opened at boot. */
static const struct posix_storage_hooks *hooks;

static uint32_t crc32_update(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint32_t record_crc(const struct rec_hdr *h, const char *key, const void *val)
{
	uint32_t crc = crc32_update(0, &h->key_len, sizeof(h->key_len));

	crc = crc32_update(crc, &h->len, sizeof(h->len));
	crc = crc32_update(crc, &h->seq, sizeof(h->seq));
	crc = crc32_update(crc, key, h->key_len);
	return crc32_update(crc, val, h->len);
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

/* ---- the index ------------------------------------------------------------ */

static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	while (*key)
		h = (h ^ (uint8_t)*key++) * 16777619u;
	return h;
}

static struct entry *find(const char *key)
{
	if (!n_buckets)
		return NULL;
	for (size_t i = key_hash(key) & (n_buckets - 1);; i = (i + 1) & (n_buckets - 1)) {
		if (!buckets[i])
			return NULL;
		if (strcmp(entries[buckets[i] - 1].key, key) == 0)
			return &entries[buckets[i] - 1];
	}
}

static int rehash(size_t want)
{
	uint32_t *b = calloc(want, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t e = 0; e < n_entries; e++) {
		size_t i = key_hash(entries[e].key) & (want - 1);
		while (b[i])
			i = (i + 1) & (want - 1);
		b[i] = (uint32_t)e + 1;
	}
	free(buckets);
	buckets = b;
	n_buckets = want;
	return 0;
}

/* A new key; -ENOSPC past STORE_KEYS_MAX. */
static struct entry *add(const char *key, int *rc)
{
	struct entry *e;
	size_t i;

	if (n_entries == STORE_KEYS_MAX) {
		*rc = -ENOSPC;
		return NULL;
	}
	if (n_entries == cap_entries) {
		size_t cap = cap_entries ? cap_entries * 2 : 32;
		struct entry *grown = realloc(entries, cap * sizeof(*grown));
		if (!grown) {
			*rc = -ENOMEM;
			return NULL;
		}
		entries = grown;
		cap_entries = cap;
	}
	if (2 * (n_entries + 1) > n_buckets &&
	    (*rc = rehash(n_buckets ? 2 * n_buckets : 64)) < 0)
		return NULL;
	e = &entries[n_entries];
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	for (i = key_hash(key) & (n_buckets - 1); buckets[i]; i = (i + 1) & (n_buckets - 1))
		;
	buckets[i] = (uint32_t)++n_entries;
	return e;
}

/* Point @key at a record, unless the index knows a newer one. */
static int index_set(const char *key, uint32_t off, uint32_t len, uint32_t seq)
{
	struct entry *e = find(key);
	size_t key_len = strlen(key);
	int rc = 0;

	if (e) {
		if ((int32_t)(seq - e->seq) <= 0)
			return 0; /* an older copy, left behind by a compaction */
		live_bytes -= record_size(key_len, e->len);
	} else if (!(e = add(key, &rc))) {
		return rc;
	}
	e->off = off;
	e->len = len;
	e->seq = seq;
	live_bytes += record_size(key_len, len);
	return 0;
}

/* ---- records --------------------------------------------------------------- */

/* Lay a REC2 record out in @out (REC_MAX bytes); returns its size. */
static size_t encode_record(uint8_t *out, const char *key, const void *val, size_t len,
			    uint32_t seq)
{
	struct rec_hdr h;
	size_t key_len = strlen(key);

	h.magic = REC_MAGIC;
	h.key_len = (uint16_t)key_len;
	h.zero = 0;
	h.len = (uint32_t)len;
	h.seq = seq;
	h.crc = record_crc(&h, key, val);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), key, key_len);
	if (len)
		memcpy(out + sizeof(h) + key_len, val, len);
	return record_size(key_len, len);
}

/* @n bytes of the file at @off: from the newest bytes when they hold them. */
static bool medium_read(int f, void *buf, size_t n, uint64_t off)
{
	if (f == fd && off >= recent_start && off + n <= end_off) {
		memcpy(buf, recent + (off - recent_start), n);
		return true;
	}
	return pread(f, buf, n, (off_t)off) == (ssize_t)n;
}

/* A record of @n bytes was appended at end_off (before end_off moves). */
static void recent_append(const uint8_t *rec, size_t n)
{
	uint64_t held = end_off - recent_start;

	if (n > RECENT_BYTES) {
		recent_start = end_off + n;        /* too big to hold: empty after it */
		return;
	}
	if (held + n > RECENT_BYTES) {
		/* Forget the oldest bytes, at least half, so the move is rare. */
		uint64_t drop = held + n - RECENT_BYTES;

		if (drop < held / 2)
			drop = held / 2;
		memmove(recent, recent + drop, held - drop);
		recent_start += drop;
		held -= drop;
	}
	memcpy(recent + held, rec, n);
}

/*
 * Check the record at @off of a file @file_size long. Returns its size on
 * disk, or 0 when no valid record starts there. @buf (REC_MAX bytes) holds
 * it afterwards and @r describes it; a REC1 record gets @implied_seq.
 */
static size_t read_record(int f, uint64_t off, uint64_t file_size, uint8_t *buf,
			  struct rec *r, uint32_t implied_seq)
{
	struct rec_hdr h;
	size_t hdr, size;

	if (off + REC1_HDR > file_size || !medium_read(f, &h, REC1_HDR, off))
		return 0;
	if (h.magic == REC_MAGIC)
		hdr = sizeof(h);
	else if (h.magic == REC1_MAGIC)
		hdr = REC1_HDR;
	else
		return 0;
	if (h.zero != 0 || h.key_len == 0 || h.key_len > HAL_STORAGE_KEY_MAX ||
	    h.len > STORE_VALUE_MAX)
		return 0;
	size = hdr + h.key_len + h.len;
	if (off + size > file_size || !medium_read(f, buf, size, off))
		return 0;
	memcpy(&h, buf, hdr);
	memcpy(r->key, buf + hdr, h.key_len);
	r->key[h.key_len] = '\0';
	r->len = h.len;
	r->val = buf + hdr + h.key_len;
	if (!key_valid(r->key))
		return 0;
	if (h.magic == REC_MAGIC) {
		if (record_crc(&h, r->key, r->val) != h.crc)
			return 0;
		r->seq = h.seq;
	} else {
		/* REC1: the header's fifth word is the CRC of key and value. */
		uint32_t crc;

		memcpy(&crc, buf + 12, sizeof(crc));
		if (crc32_update(crc32_update(0, r->key, h.key_len), r->val, h.len) != crc)
			return 0;
		r->seq = implied_seq;
	}
	return size;
}

/* Whether a valid record starts anywhere after @off: then it is not a torn tail. */
static bool valid_record_after(uint64_t off, uint64_t file_size, uint8_t *buf)
{
	struct rec r;

	for (uint64_t o = off + 1; o + REC1_HDR <= file_size; o++)
		if (read_record(fd, o, file_size, buf, &r, 0))
			return true;
	return false;
}

/*
 * The first format: "RFSTORE1", then per key: key[16] (NUL-padded), u32
 * length, u32 CRC-32 of the value, value. Rewritten as a log in the
 * temporary file and renamed into place, so a cut leaves one or the other.
 */
static int import_v1(uint64_t file_size)
{
	char tmp[sizeof(path) + 8];
	uint8_t *old = malloc(file_size ? file_size : 1);
	uint8_t *img = NULL;
	uint64_t in = STORE_MAGIC_LEN, out_len = STORE_MAGIC_LEN;
	uint32_t seq = 0;
	int out = -1, rc = -EIO;

	if (!old || pread(fd, old, file_size, 0) != (ssize_t)file_size)
		goto out;
	img = malloc(STORE_MAGIC_LEN + 16 * REC_MAX);
	if (!img)
		goto out;
	memcpy(img, STORE_MAGIC, STORE_MAGIC_LEN);
	while (in < file_size) {
		char key[HAL_STORAGE_KEY_MAX + 1];
		uint32_t len, crc;

		if (seq == 16 || in + sizeof(key) + 8 > file_size)
			goto out;
		memcpy(key, old + in, sizeof(key));
		memcpy(&len, old + in + sizeof(key), 4);
		memcpy(&crc, old + in + sizeof(key) + 4, 4);
		in += sizeof(key) + 8;
		if (key[HAL_STORAGE_KEY_MAX] != '\0' || !key_valid(key) || len > STORE_VALUE_MAX ||
		    in + len > file_size || crc32_update(0, old + in, len) != crc)
			goto out;
		out_len += encode_record(img + out_len, key, old + in, len, seq++);
		in += len;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		goto out;
	if (pwrite(out, img, out_len, 0) != (ssize_t)out_len || fsync(out) < 0 ||
	    rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	close(fd);
	fd = out;
	out = -1;
	rc = 0;
out:
	if (out >= 0)
		close(out);
	free(img);
	free(old);
	return rc;
}

/* Build the index; a torn last record is cut off, damage before it is -EIO. */
static int load(void)
{
	static uint8_t buf[REC_MAX];
	struct stat st;
	char magic[STORE_MAGIC_LEN];
	uint64_t off = STORE_MAGIC_LEN;
	int rc;

	if (fstat(fd, &st) < 0)
		return -EIO;
	if ((uint64_t)st.st_size < STORE_MAGIC_LEN) {
		/* New, or cut before the magic made it: start the log. */
		if (ftruncate(fd, 0) < 0 ||
		    pwrite(fd, STORE_MAGIC, STORE_MAGIC_LEN, 0) != STORE_MAGIC_LEN)
			return -EIO;
		end_off = recent_start = STORE_MAGIC_LEN;
		return 0;
	}
	if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) || (uint64_t)st.st_size > UINT32_MAX)
		return -EIO;
	if (memcmp(magic, V1_MAGIC, sizeof(magic)) == 0) {
		if ((rc = import_v1((uint64_t)st.st_size)) < 0 || fstat(fd, &st) < 0)
			return -EIO;
	} else if (memcmp(magic, STORE_MAGIC, sizeof(magic)) != 0) {
		return -EIO;
	}
	while (off < (uint64_t)st.st_size) {
		struct rec r;
		size_t n = read_record(fd, off, (uint64_t)st.st_size, buf, &r, next_seq);

		if (n == 0) {
			if (valid_record_after(off, (uint64_t)st.st_size, buf))
				return -EIO;
			/* The write a power cut tore: forget it. */
			if (ftruncate(fd, (off_t)off) < 0)
				return -EIO;
			break;
		}
		if ((rc = index_set(r.key, (uint32_t)off, r.len, r.seq)) < 0)
			return rc;
		if ((int32_t)(r.seq - next_seq) >= 0)
			next_seq = r.seq + 1;
		off += n;
	}
	end_off = recent_start = off;
	return 0;
}

/* splitmix64: picks the damage from the hook's seed, reproducibly. */
static uint64_t damage_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * The damage_at_open hook (the virtual robot's flash_corrupt), before the
 * index is built: one byte of one record gets some of its bits flipped, as a
 * failing cell would. The hook's @seed picks
 * the record among the valid records of the log except the last, then the
 * byte among its key and value bytes (which the CRC covers), then the bits.
 * The last record is spared: damage there cannot be told from a write a
 * power cut tore, which the store rightly forgets, and power faults
 * already make those. Damage before it makes the whole store unreadable
 * (load() refuses a medium that is broken in the middle). A store with
 * fewer than two records is left alone.
 */
static void damage_one_record(uint64_t seed)
{
	static uint8_t buf[REC_MAX];
	uint64_t rng = seed ^ 0xc0bb0fu;
	uint64_t off = STORE_MAGIC_LEN, pos;
	uint32_t n = 0, pick;
	char magic[STORE_MAGIC_LEN];
	struct stat st;
	struct rec r;
	size_t size, body;
	uint8_t byte;

	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size <= STORE_MAGIC_LEN ||
	    pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, STORE_MAGIC, sizeof(magic)) != 0)
		return;
	while ((size = read_record(fd, off, (uint64_t)st.st_size, buf, &r, 0)) != 0) {
		n++;
		off += size;
	}
	if (n < 2) {
		fprintf(stderr, "robofleet-device: storage %s: flash_corrupt: fewer than two "
			"records, nothing damaged\n", path);
		return;
	}
	pick = (uint32_t)(damage_random(&rng) % (n - 1));
	off = STORE_MAGIC_LEN;
	for (uint32_t i = 0; i < pick; i++)
		off += read_record(fd, off, (uint64_t)st.st_size, buf, &r, 0);
	size = read_record(fd, off, (uint64_t)st.st_size, buf, &r, 0);
	body = strlen(r.key) + r.len;
	pos = off + (size - body) + damage_random(&rng) % body;
	if (pread(fd, &byte, 1, (off_t)pos) != 1)
		return;
	byte ^= (uint8_t)(1u + damage_random(&rng) % 255u);
	if (pwrite(fd, &byte, 1, (off_t)pos) != 1)
		return;
	fprintf(stderr, "robofleet-device: storage %s: flash_corrupt: record %u of %u "
		"(key %s) damaged at byte %llu\n", path, (unsigned)pick + 1, (unsigned)n, r.key,
		(unsigned long long)pos);
}

void posix_storage_set_hooks(const struct posix_storage_hooks *h)
{
	hooks = h;
}

static void reset(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	free(entries);
	free(buckets);
	entries = NULL;
	buckets = NULL;
	n_entries = cap_entries = n_buckets = 0;
	end_off = live_bytes = recent_start = 0;
	next_seq = 0;
	compact_after = 0;
	corrupt = false;
}

int posix_storage_open(const char *dir, const char *device_id)
{
	char tmp[sizeof(path) + 8];
	uint64_t seed;
	int rc;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "robofleet-device: cannot create state directory %s: %s\n",
			dir, strerror(errno));
		return -errno;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.flash", dir, device_id) >= sizeof(path))
		return -ENAMETOOLONG;
	reset();
	/* A compaction the power cut interrupted: the old file is still whole. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "robofleet-device: cannot open storage %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (hooks && hooks->damage_at_open && hooks->damage_at_open(hooks->ctx, &seed))
		damage_one_record(seed);
	rc = load();
	corrupt = rc < 0;
	if (corrupt)
		fprintf(stderr, "robofleet-device: storage %s is unreadable (%s); "
			"remove it to start the device afresh\n", path, strerror(-rc));
	return 0;
}

void posix_storage_close(void)
{
	reset();
}

int hal_storage_read(const char *key, void *buf, size_t cap, size_t *len)
{
	static uint8_t rec[REC_MAX];
	const struct entry *e;
	struct rec r;

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
	if (!read_record(fd, e->off, end_off, rec, &r, e->seq) || strcmp(r.key, key) != 0 ||
	    r.len != e->len)
		return -EIO;
	memcpy(buf, r.val, r.len);
	return 0;
}

/* Copy the newest record of every key into a new file and swap it in. */
static int compact(void)
{
	char tmp[sizeof(path) + 8];
	uint8_t *img = malloc(live_bytes + STORE_MAGIC_LEN);
	uint32_t *offs = malloc(n_entries * sizeof(*offs) + 1);
	uint64_t off = STORE_MAGIC_LEN;
	int out = -1, rc = -EIO;

	if (!img || !offs) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(img, STORE_MAGIC, STORE_MAGIC_LEN);
	for (size_t i = 0; i < n_entries; i++) {
		static uint8_t buf[REC_MAX];
		struct rec r;
		size_t size = record_size(strlen(entries[i].key), entries[i].len);

		/* Written afresh as REC2, whatever format it was read in. */
		if (off + size > live_bytes + STORE_MAGIC_LEN ||
		    !read_record(fd, entries[i].off, end_off, buf, &r, entries[i].seq) ||
		    r.len != entries[i].len)
			goto out;
		encode_record(img + off, r.key, r.val, r.len, entries[i].seq);
		offs[i] = (uint32_t)off;
		off += size;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		goto out;
	/* On a real board a power cut also loses the page cache: the new
	 * file must be on the medium before its name replaces the old one. */
	if (pwrite(out, img, off, 0) != (ssize_t)off || fsync(out) < 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	close(fd);
	fd = out;
	out = -1;
	for (size_t i = 0; i < n_entries; i++)
		entries[i].off = offs[i];
	end_off = recent_start = off;
	rc = 0;
out:
	if (out >= 0)
		close(out);
	free(offs);
	free(img);
	return rc;
}

int hal_storage_write(const char *key, const void *buf, size_t len)
{
	static uint8_t rec[REC_MAX];
	size_t key_len, size;
	int rc;

	if (!key_valid(key) || (len && !buf))
		return -EINVAL;
	if (len > STORE_VALUE_MAX)
		return -ENOSPC;
	if (fd < 0 || corrupt)
		return -EIO;
	/* Refused writes leave the file as it was: the key keeps its value. */
	if (hooks && hooks->check_write && (rc = hooks->check_write(hooks->ctx)) < 0)
		return rc;
	if (!find(key) && n_entries == STORE_KEYS_MAX)
		return -ENOSPC;
	key_len = strlen(key);
	size = record_size(key_len, len);
	if (end_off + size > UINT32_MAX)
		return -ENOSPC;
	encode_record(rec, key, buf, len, next_seq);
	/* One write: a cut leaves all of it, or a torn tail the next open drops. */
	if (pwrite(fd, rec, size, (off_t)end_off) != (ssize_t)size) {
		/* Whatever part landed is a torn record; cut it so that the
		 * next append does not follow garbage. */
		if (ftruncate(fd, (off_t)end_off) < 0)
			corrupt = true;
		return -EIO;
	}
	recent_append(rec, size);
	if ((rc = index_set(key, (uint32_t)end_off, (uint32_t)len, next_seq)) < 0)
		return rc;
	next_seq++;
	end_off += size;
	if (end_off > COMPACT_FLOOR && end_off > 2 * (live_bytes + STORE_MAGIC_LEN) &&
	    end_off > compact_after && compact() < 0) {
		/* The old file is still whole and the index still points into
		 * it; try again once the log has grown by half. */
		compact_after = end_off + end_off / 2;
		fprintf(stderr, "robofleet-device: storage %s: compaction failed\n", path);
	}
	return 0;
}
