/* A secret kept in a file: one line, read whole (secret_file.h). libc only. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_text.h"
#include "secret_file.h"


/* Wipe what a failed read left behind: it may be part of a password. */
static void wipe(char *p, size_t n)
{
	volatile char *v = p;

	while (n--)
		*v++ = 0;
}

int secret_file_read(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	char *nl = NULL;
	int fd, rc = 0;

	if (!out || outlen < 2)
		return error_text(err, errlen, -EINVAL, "%s: no room for a secret", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_text(err, errlen, -errno, "%s: cannot read: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = error_text(err, errlen, -errno, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = error_text(err, errlen, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	/*
	 * Checked on the open file, so a chmod between a check and the open
	 * cannot slip past it. Like ssh with private keys: any access for group
	 * or others is too much for a file that holds a password.
	 */
	if (st.st_mode & 077) {
		rc = error_text(err, errlen, -EPERM, "%s: permissions %04o are too open: it holds a "
			     "secret, so only its owner may read it (chmod 600 %s)", path,
			     (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	/* Read until the first newline, or until the line cannot fit. */
	while (len < outlen && !nl) {
		ssize_t n = read(fd, out + len, outlen - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_text(err, errlen, -errno, "%s: cannot read: %s", path,
				     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		nl = memchr(out + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (nl)
		len = (size_t)(nl - out);
	if (len >= outlen) {
		rc = error_text(err, errlen, -EINVAL, "%s: the secret is longer than %zu characters",
			     path, outlen - 1);
		goto out;
	}
	/* A file edited on Windows ends its line with CR LF. */
	if (len > 0 && out[len - 1] == '\r')
		len--;
	if (len == 0) {
		rc = error_text(err, errlen, -EINVAL, "%s: empty: the first line holds no secret", path);
		goto out;
	}
	if (memchr(out, '\0', len)) {
		rc = error_text(err, errlen, -EINVAL, "%s: the secret contains a NUL byte", path);
		goto out;
	}
	/* The rest of the buffer may hold the next lines: clear it. */
	wipe(out + len, outlen - len);
out:
	if (rc < 0)
		wipe(out, outlen);
	close(fd);
	return rc;
}
