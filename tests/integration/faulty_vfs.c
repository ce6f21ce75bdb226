/* Test-only SQLite VFS shim: passes every call to the default VFS, fails some on demand. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "faulty_vfs.h"

/* Our file: the real one follows it in the same allocation (szOsFile). */
struct faulty_file {
	sqlite3_file base;
	sqlite3_file *real;
};

static sqlite3_vfs faulty_vfs;
static sqlite3_vfs *root;
static sqlite3_io_methods faulty_io;

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static bool armed;
static struct faulty_vfs_plan plan;
static int skip_left;
static int count_left;
static uint32_t rng;
static unsigned failures;

/*
 * errno of the failure we made up, for xGetLastError(): SQLite asks for it
 * after the call has returned, by when errno itself may have moved on.
 * Per thread, as errno is; cleared by the next call that reaches the disk.
 */
static _Thread_local int injected_errno;

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Whether this call, of the kind @fault, is to fail. */
static bool faulty_fire(enum faulty_vfs_fault fault)
{
	bool fire = false;

	pthread_mutex_lock(&plan_lock);
	if (!armed || plan.fault != fault || count_left == 0)
		goto out;
	if (skip_left > 0) {
		skip_left--;
		goto out;
	}
	if (plan.one_in > 1 && xorshift32(&rng) % plan.one_in != 0)
		goto out;
	if (count_left > 0)
		count_left--;
	failures++;
	fire = true;
out:
	pthread_mutex_unlock(&plan_lock);
	return fire;
}

static int faulty_fail(int rc, int err)
{
	injected_errno = err;
	errno = err;
	return rc;
}

/* ---- the file's methods ----------------------------------------------------- */

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct faulty_file *)f)->real;
}

static int faulty_close(sqlite3_file *f)
{
	return real_of(f)->pMethods->xClose(real_of(f));
}

static int faulty_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 ofst)
{
	return real_of(f)->pMethods->xRead(real_of(f), buf, amt, ofst);
}

static int faulty_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 ofst)
{
	if (faulty_fire(FAULTY_VFS_FULL))
		return faulty_fail(SQLITE_FULL, ENOSPC);
	if (faulty_fire(FAULTY_VFS_IOERR_WRITE))
		return faulty_fail(SQLITE_IOERR_WRITE, EIO);
	injected_errno = 0;
	return real_of(f)->pMethods->xWrite(real_of(f), buf, amt, ofst);
}

static int faulty_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int faulty_sync(sqlite3_file *f, int flags)
{
	if (faulty_fire(FAULTY_VFS_IOERR_FSYNC))
		return faulty_fail(SQLITE_IOERR_FSYNC, EIO);
	injected_errno = 0;
	return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int faulty_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

/* Only the locks a writer takes: SHARED is every reader's. */
static int faulty_lock(sqlite3_file *f, int level)
{
	if (level >= SQLITE_LOCK_RESERVED && faulty_fire(FAULTY_VFS_BUSY))
		return faulty_fail(SQLITE_BUSY, EBUSY);
	return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int faulty_unlock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int faulty_check_reserved(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int faulty_file_control(sqlite3_file *f, int op, void *arg)
{
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int faulty_sector_size(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int faulty_device_characteristics(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int faulty_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}

/*
 * Lock 0 of the WAL index is WAL_WRITE_LOCK: whoever holds it exclusively
 * is the one writer. Read marks and the checkpointer's lock pass, since a
 * reader refused there spins inside SQLite rather than asking the busy
 * handler, which is not what another writer does to us.
 */
static int faulty_shm_lock(sqlite3_file *f, int ofst, int n, int flags)
{
	if (ofst == 0 && n == 1 && flags == (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE) &&
	    faulty_fire(FAULTY_VFS_BUSY))
		return faulty_fail(SQLITE_BUSY, EBUSY);
	return real_of(f)->pMethods->xShmLock(real_of(f), ofst, n, flags);
}

static void faulty_shm_barrier(sqlite3_file *f)
{
	real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int faulty_shm_unmap(sqlite3_file *f, int del)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}

static int faulty_fetch(sqlite3_file *f, sqlite3_int64 ofst, int amt, void **out)
{
	return real_of(f)->pMethods->xFetch(real_of(f), ofst, amt, out);
}

static int faulty_unfetch(sqlite3_file *f, sqlite3_int64 ofst, void *p)
{
	return real_of(f)->pMethods->xUnfetch(real_of(f), ofst, p);
}

static sqlite3_io_methods faulty_io = {
	.iVersion = 3,
	.xClose = faulty_close,
	.xRead = faulty_read,
	.xWrite = faulty_write,
	.xTruncate = faulty_truncate,
	.xSync = faulty_sync,
	.xFileSize = faulty_file_size,
	.xLock = faulty_lock,
	.xUnlock = faulty_unlock,
	.xCheckReservedLock = faulty_check_reserved,
	.xFileControl = faulty_file_control,
	.xSectorSize = faulty_sector_size,
	.xDeviceCharacteristics = faulty_device_characteristics,
	.xShmMap = faulty_shm_map,
	.xShmLock = faulty_shm_lock,
	.xShmBarrier = faulty_shm_barrier,
	.xShmUnmap = faulty_shm_unmap,
	.xFetch = faulty_fetch,
	.xUnfetch = faulty_unfetch,
};

/* ---- the VFS's methods: xOpen wraps, the rest is the root's ------------------- */

static int faulty_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		       int *out_flags)
{
	struct faulty_file *ff = (struct faulty_file *)file;
	int rc;

	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = root->xOpen(root, name, ff->real, flags, out_flags);
	/* SQLite calls xClose whenever pMethods is set, even after a failure. */
	ff->base.pMethods = ff->real->pMethods ? &faulty_io : NULL;
	return rc;
}

static int faulty_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return root->xDelete(root, name, sync_dir);
}

static int faulty_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return root->xAccess(root, name, flags, out);
}

static int faulty_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return root->xFullPathname(root, name, n, out);
}

static void *faulty_dl_open(sqlite3_vfs *vfs, const char *path)
{
	(void)vfs;
	return root->xDlOpen(root, path);
}

static void faulty_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	root->xDlError(root, n, msg);
}

static void (*faulty_dl_sym(sqlite3_vfs *vfs, void *lib, const char *sym))(void)
{
	(void)vfs;
	return root->xDlSym(root, lib, sym);
}

static void faulty_dl_close(sqlite3_vfs *vfs, void *lib)
{
	(void)vfs;
	root->xDlClose(root, lib);
}

static int faulty_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return root->xRandomness(root, n, out);
}

static int faulty_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return root->xSleep(root, us);
}

static int faulty_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return root->xCurrentTime(root, out);
}

static int faulty_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	if (injected_errno)
		return injected_errno;
	return root->xGetLastError(root, n, out);
}

static int faulty_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return root->xCurrentTimeInt64(root, out);
}

int faulty_vfs_register(const char *name)
{
	sqlite3_vfs *dflt;

	if (sqlite3_initialize() != SQLITE_OK)
		return -EIO;
	if (sqlite3_vfs_find(name))
		return 0;
	dflt = sqlite3_vfs_find(NULL);
	/* Version 2 methods are all forwarded; the system-call overrides of
	 * version 3 are not offered, so nothing bypasses the shim. */
	if (!dflt || dflt->iVersion < 2)
		return -ENOSYS;
	root = dflt;
	faulty_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct faulty_file) + root->szOsFile,
		.mxPathname = root->mxPathname,
		.zName = name,
		.xOpen = faulty_open,
		.xDelete = faulty_delete,
		.xAccess = faulty_access,
		.xFullPathname = faulty_full_pathname,
		.xDlOpen = faulty_dl_open,
		.xDlError = faulty_dl_error,
		.xDlSym = faulty_dl_sym,
		.xDlClose = faulty_dl_close,
		.xRandomness = faulty_randomness,
		.xSleep = faulty_sleep,
		.xCurrentTime = faulty_current_time,
		.xGetLastError = faulty_get_last_error,
		.xCurrentTimeInt64 = faulty_current_time_int64,
	};
	return sqlite3_vfs_register(&faulty_vfs, 0) == SQLITE_OK ? 0 : -EIO;
}

void faulty_vfs_inject(const struct faulty_vfs_plan *p)
{
	pthread_mutex_lock(&plan_lock);
	plan = *p;
	skip_left = p->skip;
	count_left = p->count;
	rng = p->seed ? p->seed : 1;
	failures = 0;
	armed = true;
	pthread_mutex_unlock(&plan_lock);
}

void faulty_vfs_clear(void)
{
	pthread_mutex_lock(&plan_lock);
	armed = false;
	pthread_mutex_unlock(&plan_lock);
}

unsigned faulty_vfs_failures(void)
{
	unsigned n;

	pthread_mutex_lock(&plan_lock);
	n = failures;
	pthread_mutex_unlock(&plan_lock);
	return n;
}
