/*
 * Reading the kernel's IIO sysfs attributes, and what their failures mean.
 *
 * Every read of an attribute such as in_temp_input makes the driver run a
 * conversion, so read() is where the sensor's errors surface:
 *
 *   dht11  -ETIMEDOUT  too few edges: no answer, or the frame stopped
 *          -EIO        lost synchronisation, bad checksum, undecodable
 *   srf04  -ETIMEDOUT  echo never rose or never fell (within ~20/50 ms)
 *          -EIO        echo longer than the sensor's range allows
 *
 * An attribute that vanished (overlay unloaded, module removed) is -ENODEV,
 * which the payload names "absent".
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"

#define ATTR_MAX 64

int sbc_iio_map_errno(int err)
{
	switch (err) {
	case ETIMEDOUT:
		return -ETIMEDOUT;
	case EBADMSG:
		return -EBADMSG;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return -ENODEV;
	default:
		/* EIO itself, and whatever else a driver or the VFS says
		 * (EACCES, EBUSY...): the reading is unusable. The raw errno
		 * goes to the log. */
		return -EIO;
	}
}

static bool name_matches(const char *have, const char *want)
{
	size_t n = strlen(want);

	return strncmp(have, want, n) == 0 && (have[n] == '\0' || have[n] == '@');
}

int sbc_iio_find(const char *sysfs_root, const char *name, char *dir, size_t cap)
{
	char base[SBC_PATH_MAX + 32], path[SBC_PATH_MAX + 300];
	struct dirent *de;
	DIR *d;
	int rc = -ENODEV;

	snprintf(base, sizeof(base), "%s/bus/iio/devices", sysfs_root);
	if (!(d = opendir(base)))
		return -ENODEV;
	/* Lowest device number first would need sorting; names are unique
	 * enough that the first match is the one. */
	while ((de = readdir(d))) {
		char have[ATTR_MAX];
		ssize_t n;
		int fd;

		if (strncmp(de->d_name, "iio:device", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", base, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, have, sizeof(have) - 1);
		close(fd);
		if (n <= 0)
			continue;
		have[n] = '\0';
		have[strcspn(have, "\n")] = '\0';
		if (!name_matches(have, name))
			continue;
		if ((size_t)snprintf(dir, cap, "%s/%s", base, de->d_name) >= cap)
			rc = -ENAMETOOLONG;
		else
			rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

/* The attribute's text, NUL-terminated without its newline. */
static int read_attr(const char *dir, const char *attr, char *buf, size_t cap, int *raw_errno)
{
	char path[SBC_PATH_MAX + 64];
	ssize_t n;
	int fd, err;

	*raw_errno = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, attr) >= sizeof(path))
		return *raw_errno = ENAMETOOLONG, -ENODEV;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*raw_errno = errno;
		return sbc_iio_map_errno(errno);
	}
	do {
		n = read(fd, buf, cap - 1);
	} while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0) {
		*raw_errno = err;
		return sbc_iio_map_errno(err);
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int sbc_iio_read_int(const char *dir, const char *attr, long *value, int *raw_errno)
{
	char buf[ATTR_MAX], *end;
	long v;
	int rc = read_attr(dir, attr, buf, sizeof(buf), raw_errno);

	if (rc < 0)
		return rc;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (end == buf || *end || errno)
		return -EIO; /* not a number: nothing a driver would print */
	*value = v;
	return 0;
}

int sbc_iio_read_nano(const char *dir, const char *attr, int64_t *nano, int *raw_errno)
{
	char buf[ATTR_MAX];
	const char *p = buf;
	int64_t whole = 0, frac = 0, scale = 1000000000;
	bool neg = false, digits = false;
	int rc = read_attr(dir, attr, buf, sizeof(buf), raw_errno);

	if (rc < 0)
		return rc;
	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (whole > 1000000)
			return -EIO;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		}
	}
	if (!digits || *p)
		return -EIO;
	*nano = (whole * 1000000000 + frac) * (neg ? -1 : 1);
	return 0;
}
