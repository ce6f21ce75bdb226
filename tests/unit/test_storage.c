/*
 * The host's flash-like storage: values survive a reopen, a torn last
 * record falls back to the previous value, compaction keeps every live key,
 * a process killed in the middle of writing leaves a readable store, and
 * the emulated flash's faults (full, failing writes, a corrupt record at
 * boot) do what docs/faults.md says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hal_storage.h"
#include "posix_hal.h"
#include "shim_internal.h"
#include "world.h"

static char dir[64];
static char file[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/robofleet-storage-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/dev.flash", dir);
	/* The store with the emulated flash's faults under it, as in the device. */
	shim__posix_hooks_install();
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	shim__storage_set_faults(NULL);
	posix_storage_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static uint32_t get(const char *key)
{
	uint32_t v = 0;
	size_t len = 0;

	assert_int_equal(hal_storage_read(key, &v, sizeof(v), &len), 0);
	assert_int_equal(len, sizeof(v));
	return v;
}

static void put(const char *key, uint32_t v)
{
	assert_int_equal(hal_storage_write(key, &v, sizeof(v)), 0);
}

static off_t file_size(void)
{
	struct stat st;

	assert_int_equal(stat(file, &st), 0);
	return st.st_size;
}

static void test_storage_values_survive_a_reopen(void **state)
{
	uint8_t big[4096];
	size_t len = 0;

	(void)state;
	assert_int_equal(hal_storage_read("boot", big, sizeof(big), &len), -ENOENT);
	put("boot", 1);
	put("boot", 2);
	put("other", 7);
	memset(big, 0x5a, sizeof(big));
	assert_int_equal(hal_storage_write("big", big, sizeof(big)), 0);
	assert_int_equal(hal_storage_write("big", big, sizeof(big) + 1), -ENOSPC);
	assert_int_equal(hal_storage_write("Bad-Key", big, 1), -EINVAL);
	posix_storage_close();
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(get("boot"), 2);
	assert_int_equal(get("other"), 7);
	memset(big, 0, sizeof(big));
	assert_int_equal(hal_storage_read("big", big, sizeof(big), &len), 0);
	assert_int_equal(len, 4096);
	assert_int_equal(big[4095], 0x5a);
	/* Too small a buffer says how much is needed. */
	assert_int_equal(hal_storage_read("big", big, 10, &len), -EOVERFLOW);
	assert_int_equal(len, 4096);
}

static void test_storage_torn_tail_keeps_the_old_value(void **state)
{
	off_t before;

	(void)state;
	put("boot", 41);
	before = file_size();
	put("boot", 42);
	posix_storage_close();
	/* The power failed halfway through the second write. */
	assert_int_equal(truncate(file, before + 9), 0);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(get("boot"), 41);
	/* The torn bytes are gone: the next write lands where they were. */
	assert_int_equal(file_size(), before);
	put("boot", 43);
	posix_storage_close();
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(get("boot"), 43);
}

static void test_storage_damage_in_the_middle_is_an_error(void **state)
{
	FILE *f;
	uint32_t v;
	size_t len;

	(void)state;
	put("a", 1);
	put("b", 2);
	posix_storage_close();
	/* Flip a byte inside the first record's value. */
	f = fopen(file, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 8 + 16 + 1, SEEK_SET), 0);
	assert_int_equal(fputc(0xff, f), 0xff);
	fclose(f);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(hal_storage_read("b", &v, sizeof(v), &len), -EIO);
	assert_int_equal(hal_storage_write("b", &v, sizeof(v)), -EIO);
}

static void test_storage_compaction_keeps_every_live_key(void **state)
{
	char key[16];

	(void)state;
	/* Rewrite 600 keys many times: far more than the file may keep. */
	for (uint32_t round = 0; round < 40; round++) {
		for (uint32_t k = 0; k < 600; k++) {
			snprintf(key, sizeof(key), "ob_%u", k);
			put(key, round * 1000 + k);
		}
	}
	/* 600 live records of 32 bytes; the log stays within a few times that. */
	assert_true(file_size() < 3 * 64 * 1024);
	posix_storage_close();
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	for (uint32_t k = 0; k < 600; k++) {
		snprintf(key, sizeof(key), "ob_%u", k);
		assert_int_equal(get(key), 39 * 1000 + k);
	}
}

/* A child writes increasing values until it is killed at a random moment.
 * Each child goes on from the "last" the store holds, as a rebooted device
 * would, so a value left by an earlier child is never ahead of it: a slow
 * child (a sanitizer build) killed after a few writes is still checked. */
static void test_storage_power_cut_leaves_a_readable_store(void **state)
{
	(void)state;
	uint32_t previous_last = 0;

	posix_storage_close();
	for (int cut = 0; cut < 10; cut++) {
		int pipefd[2], status;
		pid_t pid;
		uint32_t last = 0;
		struct timespec pause = { 0, (long)(1000000 + (cut * 1700000) % 9000000) };

		assert_int_equal(pipe(pipefd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char key[16];
			close(pipefd[0]);
			uint32_t from = 0;
			size_t len = 0;

			if (posix_storage_open(dir, "dev") < 0)
				_exit(3);
			if (hal_storage_read("last", &from, sizeof(from), &len) < 0)
				from = 0;
			for (uint32_t i = from + 1;; i++) {
				snprintf(key, sizeof(key), "k%u", i % 50);
				if (hal_storage_write(key, &i, sizeof(i)) < 0 ||
				    hal_storage_write("last", &i, sizeof(i)) < 0)
					_exit(4);
				if (i == from + 1 && write(pipefd[1], "x", 1) != 1)
					_exit(5);
			}
		}
		close(pipefd[1]);
		char c;
		assert_int_equal(read(pipefd[0], &c, 1), 1); /* it has started writing */
		close(pipefd[0]);
		nanosleep(&pause, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));

		assert_int_equal(posix_storage_open(dir, "dev"), 0);
		last = get("last");
		assert_true(last >= 1);
		assert_true(last > previous_last); /* the child wrote at least once */
		previous_last = last;
		/* Each key holds a value the child wrote, and none is ahead of "last". */
		for (uint32_t k = 0; k < 50 && k <= last; k++) {
			char key[16];
			uint32_t v = 0;
			size_t len;
			snprintf(key, sizeof(key), "k%u", k);
			if (hal_storage_read(key, &v, sizeof(v), &len) == -ENOENT)
				continue;
			assert_int_equal(v % 50, k);
			assert_true(v <= last + 1);
		}
		posix_storage_close();
	}
}

static void reopen(void)
{
	posix_storage_close();
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
}

static void expect_str(const char *key, const char *want)
{
	char buf[64];
	size_t len = 0;

	assert_int_equal(hal_storage_read(key, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
}

static void test_storage_torn_at_any_length_keeps_the_old_value(void **state)
{
	off_t before, after;

	(void)state;
	assert_int_equal(hal_storage_write("a", "first", 5), 0);
	assert_int_equal(hal_storage_write("b", "bee", 3), 0);
	before = file_size();
	assert_int_equal(hal_storage_write("a", "second", 6), 0);
	after = file_size();
	posix_storage_close();
	for (off_t cut = before + 1; cut < after; cut++) {
		assert_int_equal(truncate(file, cut), 0);
		assert_int_equal(posix_storage_open(dir, "dev"), 0);
		expect_str("a", "first");
		expect_str("b", "bee");
		assert_int_equal(file_size(), before);
		posix_storage_close();
	}
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
}

static void test_storage_not_a_store_is_an_error(void **state)
{
	char buf[8];
	size_t len;
	FILE *f;

	(void)state;
	posix_storage_close();
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("this is not a flash image at all", f);
	fclose(f);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(hal_storage_read("boot", buf, sizeof(buf), &len), -EIO);
	assert_int_equal(hal_storage_write("boot", "x", 1), -EIO);
}

static void test_storage_holds_two_outbox_rings(void **state)
{
	char key[16];

	(void)state;
	/* An outbox of 4096 re-laid out at boot uses both key sets. */
	for (int i = 0; i < 2 * 4096 + 16; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(hal_storage_write(key, "v", 1), 0);
	}
	reopen();
	expect_str("k0", "v");
	expect_str("k8207", "v");
}

/* A value that says who wrote it, so that a mix of two writes cannot pass. */
static size_t make_value(uint8_t *buf, uint32_t key, uint32_t n)
{
	size_t len = 8 + (n * 7u + key) % 300;

	memcpy(buf, &n, 4);
	memcpy(buf + 4, &key, 4);
	for (size_t i = 8; i < len; i++)
		buf[i] = (uint8_t)(n * 31u + key + i);
	return len;
}

static void test_storage_power_cut_during_compactions(void **state)
{
	uint8_t buf[512], want[512];
	char key[16];

	(void)state;
	posix_storage_close();
	for (int cut = 0; cut < 12; cut++) {
		struct timespec pause = { 0, (long)(cut * 3100000 % 25000000) };
		int pipefd[2], status;
		char c;
		pid_t pid;

		assert_int_equal(pipe(pipefd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pipefd[0]);
			if (posix_storage_open(dir, "dev") < 0)
				_exit(3);
			/* Values of up to 300 bytes over 40 keys: a compaction
			 * every few hundred writes. */
			for (uint32_t n = 1;; n++) {
				size_t len = make_value(buf, n % 40, n);

				snprintf(key, sizeof(key), "pc_%u", n % 40);
				if (hal_storage_write(key, buf, len) < 0)
					_exit(4);
				if (n == 200 && write(pipefd[1], "x", 1) != 1)
					_exit(5);
			}
		}
		close(pipefd[1]);
		assert_int_equal(read(pipefd[0], &c, 1), 1);
		close(pipefd[0]);
		nanosleep(&pause, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));

		assert_int_equal(posix_storage_open(dir, "dev"), 0);
		for (uint32_t k = 0; k < 40; k++) {
			size_t len = 0;
			uint32_t n;

			snprintf(key, sizeof(key), "pc_%u", k);
			assert_int_equal(hal_storage_read(key, buf, sizeof(buf), &len), 0);
			memcpy(&n, buf, 4);
			assert_int_equal(len, make_value(want, k, n));
			assert_memory_equal(buf, want, len);
		}
		posix_storage_close();
	}
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
}

static uint32_t crc32_of(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void test_storage_converts_the_first_format(void **state)
{
	/* "RFSTORE1", then key[16], u32 length, u32 CRC-32 of the value, value. */
	uint8_t img[8 + 2 * 24 + 8];
	uint32_t boot = 41, len = 4, crc = crc32_of(&boot, 4);
	char key[16] = "boot";
	FILE *f;

	(void)state;
	posix_storage_close();
	memcpy(img, "RFSTORE1", 8);
	memcpy(img + 8, key, 16);
	memcpy(img + 24, &len, 4);
	memcpy(img + 28, &crc, 4);
	memcpy(img + 32, &boot, 4);
	memset(key, 0, sizeof(key));
	memcpy(key, "zz", 2);
	memcpy(img + 36, key, 16);
	len = 0;
	crc = crc32_of(NULL, 0);
	memcpy(img + 52, &len, 4);
	memcpy(img + 56, &crc, 4);
	f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, 60, f), 60);
	fclose(f);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	/* The device keeps counting boots where it was. */
	assert_int_equal(get("boot"), 41);
	put("boot", 42);
	reopen();
	assert_int_equal(get("boot"), 42);
	assert_int_equal(hal_storage_read("zz", img, sizeof(img), &(size_t){ 0 }), 0);
}

static void test_storage_reads_records_without_a_sequence(void **state)
{
	/* "REC1" records: u32 magic, u16 key length, u16 0, u32 length,
	 * u32 CRC-32 of key then value (one running CRC), key, value. */
	uint8_t img[8 + 2 * (16 + 4 + 4)];
	uint8_t kv[8];
	size_t at = 8;
	FILE *f;

	(void)state;
	posix_storage_close();
	memcpy(img, "RFSTORE2", 8);
	for (uint32_t v = 1; v <= 2; v++) {
		uint32_t magic = 0x31434552u, vlen = 4, crc;
		uint16_t klen = 4, zero = 0;

		memcpy(kv, "boot", 4);
		memcpy(kv + 4, &v, 4);
		crc = crc32_of(kv, 8);
		memcpy(img + at, &magic, 4);
		memcpy(img + at + 4, &klen, 2);
		memcpy(img + at + 6, &zero, 2);
		memcpy(img + at + 8, &vlen, 4);
		memcpy(img + at + 12, &crc, 4);
		memcpy(img + at + 16, kv, 8);
		at += 24;
	}
	f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, at, f), at);
	fclose(f);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(get("boot"), 2);
	put("boot", 3);
	reopen();
	assert_int_equal(get("boot"), 3);
}

/* ---- the emulated flash's faults ------------------------------------------- */

/* The whole storage file, in a buffer of the caller's (at most @cap bytes). */
static size_t slurp(uint8_t *buf, size_t cap)
{
	FILE *f = fopen(file, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	assert_true(n < cap);
	fclose(f);
	return n;
}

static void spill(const uint8_t *buf, size_t n)
{
	FILE *f = fopen(file, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
}

static void test_storage_flash_full_refuses_writes_reads_go_on(void **state)
{
	const struct world_faults full = { .seed = 5, .flash_full = 1 };
	off_t size;

	(void)state;
	put("boot", 7);
	put("ob_0", 100);
	size = file_size();
	shim__storage_set_faults(&full);
	for (uint32_t i = 0; i < 20; i++) {
		assert_int_equal(hal_storage_write("ob_1", &i, sizeof(i)), -ENOSPC);
		assert_int_equal(hal_storage_write("boot", &i, sizeof(i)), -ENOSPC);
	}
	/* Reads work; nothing reached the medium, not even a torn record. */
	assert_int_equal(get("boot"), 7);
	assert_int_equal(get("ob_0"), 100);
	assert_int_equal(hal_storage_read("ob_1", &(uint32_t){ 0 }, 4, &(size_t){ 0 }), -ENOENT);
	assert_int_equal(file_size(), size);
	/* Bad arguments are still told apart from a full medium. */
	assert_int_equal(hal_storage_write("Bad", "x", 1), -EINVAL);
	/* The same after a reopen (a reboot with the medium still full). */
	reopen();
	assert_int_equal(get("boot"), 7);
	assert_int_equal(hal_storage_write("boot", "x", 1), -ENOSPC);
	/* Room again: writes land, and survive. */
	shim__storage_set_faults(NULL);
	put("ob_1", 101);
	reopen();
	assert_int_equal(get("ob_1"), 101);
	assert_int_equal(get("boot"), 7);
}

static void test_storage_flash_write_fail_every_write(void **state)
{
	const struct world_faults fail = { .seed = 5, .flash_fail_ppm = 1000000 };
	off_t size;

	(void)state;
	put("boot", 3);
	size = file_size();
	shim__storage_set_faults(&fail);
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(hal_storage_write("boot", &i, sizeof(i)), -EIO);
	/* A failed write leaves the old value, readable. */
	assert_int_equal(get("boot"), 3);
	assert_int_equal(file_size(), size);
	shim__storage_set_faults(NULL);
	put("boot", 4);
	reopen();
	assert_int_equal(get("boot"), 4);
}

/* Which of @n writes fail under @ppm with @seed, as a bit string. */
static void failure_pattern(uint64_t seed, uint32_t ppm, uint8_t *failed, int n)
{
	const struct world_faults f = { .seed = seed, .flash_fail_ppm = ppm };

	shim__storage_set_faults(&f);
	for (int i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i;
		int rc = hal_storage_write("k", &v, sizeof(v));

		assert_true(rc == 0 || rc == -EIO);
		failed[i] = rc == -EIO;
	}
	shim__storage_set_faults(NULL);
}

static void test_storage_flash_write_fail_replays_from_seed(void **state)
{
	enum { N = 400 };
	uint8_t a[N], b[N], c[N];
	uint32_t last_ok = 0;
	int fails = 0;

	(void)state;
	failure_pattern(11, 300000, a, N);
	for (int i = 0; i < N; i++) {
		fails += a[i];
		if (!a[i])
			last_ok = (uint32_t)i;
	}
	/* About the probability asked for (0.3 of 400: 120, sd 9). */
	assert_true(fails > 80 && fails < 160);
	/* Only the writes that succeeded count: the key holds the last of them. */
	assert_int_equal(get("k"), last_ok);
	/* The same seed fails the same writes; another seed others. */
	failure_pattern(11, 300000, b, N);
	assert_memory_equal(a, b, N);
	failure_pattern(12, 300000, c, N);
	assert_memory_not_equal(a, c, N);
	reopen();
	assert_int_equal(get("k"), last_ok);
}

/* A store of a few keys, as a device leaves it: boot counter, outbox meta, readings. */
static void fill_like_a_device(void)
{
	put("boot", 12);
	put("ob_meta", 0);
	for (uint32_t i = 0; i < 6; i++) {
		char key[16];

		snprintf(key, sizeof(key), "ob_%u", i);
		put(key, 1000 + i);
	}
	put("ob_meta", 2);
}

static void test_storage_flash_corrupt_damages_one_record_at_open(void **state)
{
	const struct world_faults corrupt = { .seed = 21, .flash_corrupt = 1 };
	static uint8_t before[4096], after[4096], again[4096];
	size_t n, n_after, diffs = 0, at = 0;
	/* The last record: the 7-byte key "ob_meta" and a 4-byte value. */
	size_t last_rec = 20 + 7 + 4;
	uint32_t v;
	size_t len;

	(void)state;
	fill_like_a_device();
	/* Set while the store is open, the fault waits for the next open. */
	shim__storage_set_faults(&corrupt);
	assert_int_equal(get("boot"), 12);
	put("ob_meta", 3);
	posix_storage_close();
	n = slurp(before, sizeof(before));

	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	n_after = slurp(after, sizeof(after));
	assert_int_equal(n_after, n);
	for (size_t i = 0; i < n; i++) {
		if (before[i] != after[i]) {
			diffs++;
			at = i;
		}
	}
	/* One byte, inside a record but never the last (which would pass for
	 * a torn write), and past the file's magic. */
	assert_int_equal(diffs, 1);
	assert_true(at >= 8 && at < n - last_rec);
	/* The store does not trust a medium broken in the middle: every read
	 * and write is -EIO, so the firmware cannot take a wrong boot number. */
	assert_int_equal(hal_storage_read("boot", &v, sizeof(v), &len), -EIO);
	assert_int_equal(hal_storage_read("ob_3", &v, sizeof(v), &len), -EIO);
	assert_int_equal(hal_storage_write("boot", &v, sizeof(v)), -EIO);
	posix_storage_close();

	/* The same file and seed: the same damage. */
	spill(before, n);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(slurp(again, sizeof(again)), n);
	assert_memory_equal(after, again, n);
	posix_storage_close();

	/* Cleared, the next open damages nothing more; what was damaged stays. */
	shim__storage_set_faults(NULL);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(slurp(again, sizeof(again)), n);
	assert_memory_equal(after, again, n);
	assert_int_equal(hal_storage_read("boot", &v, sizeof(v), &len), -EIO);
	/* A healthy file opens as ever. */
	posix_storage_close();
	spill(before, n);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(get("boot"), 12);
	assert_int_equal(get("ob_meta"), 3);
}

static void test_storage_flash_corrupt_seeds_pick_different_records(void **state)
{
	static uint8_t before[4096], after[4096];
	size_t n, first_at = 0;
	bool moved = false;

	(void)state;
	fill_like_a_device();
	posix_storage_close();
	n = slurp(before, sizeof(before));
	for (uint64_t seed = 1; seed <= 8; seed++) {
		const struct world_faults corrupt = { .seed = seed, .flash_corrupt = 1 };
		size_t at = 0;

		spill(before, n);
		shim__storage_set_faults(&corrupt);
		assert_int_equal(posix_storage_open(dir, "dev"), 0);
		assert_int_equal(hal_storage_read("boot", &(uint32_t){ 0 }, 4, &(size_t){ 0 }), -EIO);
		posix_storage_close();
		slurp(after, sizeof(after));
		for (size_t i = 0; i < n; i++)
			if (before[i] != after[i])
				at = i;
		assert_true(at >= 8);
		if (seed == 1)
			first_at = at;
		else if (at != first_at)
			moved = true;
	}
	assert_true(moved);
	shim__storage_set_faults(NULL);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
}

static void test_storage_flash_corrupt_spares_a_single_record(void **state)
{
	const struct world_faults corrupt = { .seed = 3, .flash_corrupt = 1 };
	static uint8_t before[256], after[256];
	size_t n;

	(void)state;
	/* A device that only ever saved its first boot number. */
	put("boot", 1);
	posix_storage_close();
	n = slurp(before, sizeof(before));
	shim__storage_set_faults(&corrupt);
	assert_int_equal(posix_storage_open(dir, "dev"), 0);
	assert_int_equal(slurp(after, sizeof(after)), n);
	assert_memory_equal(before, after, n);
	assert_int_equal(get("boot"), 1);
}

/*
 * Values read back right after they were written, of every size from a
 * byte to the largest, come out as written; so do all of them at the end,
 * with the newest of each key winning, and again after a reopen, when every
 * read goes to the file.
 */
static void test_storage_reads_back_what_it_just_wrote(void **state)
{
	static uint8_t want[8][4096], got[4096];
	static const size_t sizes[] = { 1, 32, 57, 700, 1100, 2047, 2048, 4096 };
	char key[16];
	size_t len;

	(void)state;
	for (int round = 0; round < 40; round++) {
		for (size_t k = 0; k < 8; k++) {
			size_t n = sizes[(k + (size_t)round) % 8];

			snprintf(key, sizeof(key), "k%zu", k);
			for (size_t i = 0; i < n; i++)
				want[k][i] = (uint8_t)(round * 31 + (int)k * 7 + (int)i);
			assert_int_equal(hal_storage_write(key, want[k], n), 0);
			assert_int_equal(hal_storage_read(key, got, sizeof(got), &len), 0);
			assert_int_equal(len, n);
			assert_memory_equal(got, want[k], n);
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < 8; k++) {
			size_t n = sizes[(k + 39) % 8];

			snprintf(key, sizeof(key), "k%zu", k);
			assert_int_equal(hal_storage_read(key, got, sizeof(got), &len), 0);
			assert_int_equal(len, n);
			assert_memory_equal(got, want[k], n);
		}
		posix_storage_close();
		assert_int_equal(posix_storage_open(dir, "dev"), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_storage_values_survive_a_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_reads_back_what_it_just_wrote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_torn_tail_keeps_the_old_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_damage_in_the_middle_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_compaction_keeps_every_live_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_power_cut_leaves_a_readable_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_torn_at_any_length_keeps_the_old_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_not_a_store_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_holds_two_outbox_rings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_power_cut_during_compactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_converts_the_first_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_reads_records_without_a_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_flash_full_refuses_writes_reads_go_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_flash_write_fail_every_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_flash_write_fail_replays_from_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_flash_corrupt_damages_one_record_at_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_flash_corrupt_seeds_pick_different_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_flash_corrupt_spares_a_single_record, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
