/*
 * The host's flash-like storage: values survive a reopen, a torn last
 * record falls back to the previous value, compaction keeps every live key,
 * and a process killed in the middle of writing leaves a readable store.
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
#include "shim_internal.h"

static char dir[64];
static char file[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/robofleet-storage-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/dev.flash", dir);
	assert_int_equal(shim__storage_open(dir, "dev"), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	shim__storage_close();
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
	shim__storage_close();
	assert_int_equal(shim__storage_open(dir, "dev"), 0);
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
	shim__storage_close();
	/* The power failed halfway through the second write. */
	assert_int_equal(truncate(file, before + 9), 0);
	assert_int_equal(shim__storage_open(dir, "dev"), 0);
	assert_int_equal(get("boot"), 41);
	/* The torn bytes are gone: the next write lands where they were. */
	assert_int_equal(file_size(), before);
	put("boot", 43);
	shim__storage_close();
	assert_int_equal(shim__storage_open(dir, "dev"), 0);
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
	shim__storage_close();
	/* Flip a byte inside the first record's value. */
	f = fopen(file, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 8 + 16 + 1, SEEK_SET), 0);
	assert_int_equal(fputc(0xff, f), 0xff);
	fclose(f);
	assert_int_equal(shim__storage_open(dir, "dev"), 0);
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
	shim__storage_close();
	assert_int_equal(shim__storage_open(dir, "dev"), 0);
	for (uint32_t k = 0; k < 600; k++) {
		snprintf(key, sizeof(key), "ob_%u", k);
		assert_int_equal(get(key), 39 * 1000 + k);
	}
}

/* A child writes increasing values until it is killed at a random moment. */
static void test_storage_power_cut_leaves_a_readable_store(void **state)
{
	(void)state;
	shim__storage_close();
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
			if (shim__storage_open(dir, "dev") < 0)
				_exit(3);
			for (uint32_t i = 1;; i++) {
				snprintf(key, sizeof(key), "k%u", i % 50);
				if (hal_storage_write(key, &i, sizeof(i)) < 0 ||
				    hal_storage_write("last", &i, sizeof(i)) < 0)
					_exit(4);
				if (i == 1 && write(pipefd[1], "x", 1) != 1)
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

		assert_int_equal(shim__storage_open(dir, "dev"), 0);
		last = get("last");
		assert_true(last >= 1);
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
		shim__storage_close();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_storage_values_survive_a_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_torn_tail_keeps_the_old_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_damage_in_the_middle_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_compaction_keeps_every_live_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_power_cut_leaves_a_readable_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
