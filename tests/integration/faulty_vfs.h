/* Test-only SQLite VFS that fails writes, syncs or the write lock on demand. */
#ifndef FAULTY_VFS_H
#define FAULTY_VFS_H

#include <stdint.h>

/*
 * In the spirit of SQLite's own test VFS (src/test_vfs.c): a shim over the
 * default VFS that passes every call through, except that the fault armed
 * with faulty_vfs_inject() makes the matching calls fail the way a real
 * disk or another process would. One fault at a time, for every file
 * opened through the shim (database, WAL, journal). Any thread.
 */

enum faulty_vfs_fault {
	FAULTY_VFS_FULL,        /* xWrite: SQLITE_FULL, errno ENOSPC (disk full) */
	FAULTY_VFS_IOERR_WRITE, /* xWrite: SQLITE_IOERR_WRITE, errno EIO */
	FAULTY_VFS_IOERR_FSYNC, /* xSync: SQLITE_IOERR_FSYNC, errno EIO */
	/*
	 * Taking the write lock: SQLITE_BUSY, as when another connection holds
	 * it. In WAL mode that is the exclusive WAL_WRITE_LOCK (xShmLock),
	 * taken by BEGIN IMMEDIATE and held to the COMMIT; with a rollback
	 * journal, the RESERVED and EXCLUSIVE locks (xLock) of the commit.
	 */
	FAULTY_VFS_BUSY,
};

struct faulty_vfs_plan {
	enum faulty_vfs_fault fault;
	int skip;               /* matching calls that pass before the first failure */
	int count;              /* calls that fail; negative: until faulty_vfs_clear() */
	/* 0 or 1: every matching call fails; n > 1: each one fails with
	 * probability 1/n, drawn from @seed, so a failing run can be repeated. */
	unsigned one_in;
	uint32_t seed;
};

/*
 * Register the shim under @name over the current default VFS (not made
 * the default). Open a database with it by passing @name as
 * sqlite3_open_v2()'s zVfs. Registering a name twice is a no-op. Returns 0
 * or a negative errno.
 */
int faulty_vfs_register(const char *name);

/* Arm @plan, replacing any fault armed before; resets the failure count. */
void faulty_vfs_inject(const struct faulty_vfs_plan *plan);

/* Disarm: every call passes from now on. */
void faulty_vfs_clear(void);

/* Calls failed on purpose since the last faulty_vfs_inject(). */
unsigned faulty_vfs_failures(void);

#endif /* FAULTY_VFS_H */
