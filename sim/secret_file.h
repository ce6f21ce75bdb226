/*
 * A secret kept in a file (a device's MQTT password): one line, read whole.
 * libc only, so robofleet-device links it as well as robofleet.
 */
#ifndef SIM_SECRET_FILE_H
#define SIM_SECRET_FILE_H

#include <stddef.h>

/*
 * Read the first line of @path (without its newline) into @out. A file
 * that others than its owner may read is refused (-EPERM, and the message
 * says so, as ssh does with keys); an empty one, or one longer than
 * @outlen - 1, is -EINVAL. Returns 0 or a negative errno, with a message
 * naming the file in @err.
 */
int secret_file_read(const char *path, char *out, size_t outlen, char *err, size_t errlen);

#endif /* SIM_SECRET_FILE_H */
