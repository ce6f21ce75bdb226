/*
 * HAL: a small persistent key/blob store that survives power cuts, like a
 * flash sector: the boot counter now, the outbox later.
 */
#ifndef HAL_STORAGE_H
#define HAL_STORAGE_H

#include <stddef.h>

/* Keys are at most this many characters, [a-z0-9_]. */
#define HAL_STORAGE_KEY_MAX 15

/*
 * Read @key into @buf (capacity @cap); *@len receives the stored length.
 * Returns 0, -ENOENT if never written, -EOVERFLOW if @cap is too small
 * (*@len still says how much is needed), -EINVAL for a bad key, or -EIO
 * when the medium is unreadable or the record fails its checksum.
 */
int hal_storage_read(const char *key, void *buf, size_t cap, size_t *len);

/*
 * Replace @key with @len bytes, atomically: after a power cut the old or the
 * new value is there, never a mix. Returns 0, -EINVAL, -ENOSPC or -EIO.
 */
int hal_storage_write(const char *key, const void *buf, size_t len);

#endif /* HAL_STORAGE_H */
