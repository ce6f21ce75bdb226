/* Files a scenario names (a group's sketch: or device:), found where the scenario file says. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_internal.h"

/*
 * Absolute, so that whoever uses the path later (a compiler in another
 * directory, a device's posix_spawn) finds the same file. Not through
 * realpath(): a program called through a symbolic link may care by which
 * name it was started.
 */
static int path_near(struct scenario__arena **arena, const char *file, const char *path,
		     const char **out)
{
	char cwd[PATH_MAX], buf[2 * PATH_MAX + 2];
	const char *slash = strrchr(file, '/');
	int n;

	if (path[0] == '/') {
		n = snprintf(buf, sizeof(buf), "%s", path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (file[0] == '/' && slash)
			n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - file), file, path);
		else if (slash)
			n = snprintf(buf, sizeof(buf), "%s/%.*s/%s", cwd, (int)(slash - file), file,
				     path);
		else
			n = snprintf(buf, sizeof(buf), "%s/%s", cwd, path);
	}
	if (n < 0 || (size_t)n >= sizeof(buf) || (size_t)n >= PATH_MAX)
		return -ENAMETOOLONG;
	*out = scenario__strndup(arena, buf, (size_t)n);
	return *out ? 0 : -ENOMEM;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

/* The Arduino rule: a sketch folder NAME holds its main file NAME.ino. */
static bool has_main_ino(const char *dir)
{
	char real[PATH_MAX], main_ino[2 * PATH_MAX + 8];
	const char *name;
	struct stat st;

	if (!realpath(dir, real))
		return false;
	name = strrchr(real, '/');
	name = name ? name + 1 : real;
	if (!*name)
		return false;
	snprintf(main_ino, sizeof(main_ino), "%s/%s.ino", real, name);
	return stat(main_ino, &st) == 0 && S_ISREG(st.st_mode);
}

int scenario__find_sketch(struct scenario__arena **arena, const char *file, const char *path,
			  const char **out, char *why, size_t why_len)
{
	struct stat st;
	int rc;

	if (!*path) {
		snprintf(why, why_len, "empty: name a .ino file or a sketch folder");
		return -EINVAL;
	}
	if ((rc = path_near(arena, file, path, out)) < 0) {
		snprintf(why, why_len, "'%s': %s", path, strerror(-rc));
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	if (stat(*out, &st) < 0) {
		snprintf(why, why_len, "'%s' does not exist (looked for %s; a relative path is "
			 "relative to the scenario file's directory)", path, *out);
		return -EINVAL;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!has_main_ino(*out)) {
			snprintf(why, why_len, "folder '%s' has no main .ino: a sketch folder "
				 "NAME holds NAME.ino", path);
			return -EINVAL;
		}
		return 0;
	}
	if (!S_ISREG(st.st_mode) || !ends_with(*out, ".ino")) {
		snprintf(why, why_len, "'%s' is not a .ino file or a sketch folder", path);
		return -EINVAL;
	}
	return 0;
}

static bool is_program(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* @name in the directories of $PATH, as a shell would find it. */
static int search_path(struct scenario__arena **arena, const char *name, const char **out)
{
	const char *p = getenv("PATH");

	if (!p || !*p)
		p = "/usr/local/bin:/usr/bin:/bin";
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char dir[PATH_MAX], buf[2 * PATH_MAX + 2];
		int n;

		/* An empty entry is the working directory. */
		if (len == 0) {
			if (!getcwd(dir, sizeof(dir)))
				dir[0] = '\0';
		} else if (len < sizeof(dir)) {
			memcpy(dir, p, len);
			dir[len] = '\0';
		} else {
			dir[0] = '\0';
		}
		n = snprintf(buf, sizeof(buf), "%s/%s", dir, name);
		if (dir[0] && n > 0 && (size_t)n < PATH_MAX && is_program(buf)) {
			*out = scenario__strndup(arena, buf, (size_t)n);
			return *out ? 0 : -ENOMEM;
		}
		if (!colon)
			return -ENOENT;
		p = colon + 1;
	}
}

int scenario__find_device(struct scenario__arena **arena, const char *file, const char *path,
			  const char **out, char *why, size_t why_len)
{
	struct stat st;
	int rc;

	if (!*path) {
		snprintf(why, why_len, "empty: name a program, e.g. ./my-firmware");
		return -EINVAL;
	}
	if (!strchr(path, '/')) {
		rc = search_path(arena, path, out);
		if (rc == -ENOENT)
			snprintf(why, why_len, "'%s' is not a program on PATH (write ./%s for one "
				 "next to the scenario file)", path, path);
		return rc == -ENOMEM ? rc : rc < 0 ? -EINVAL : 0;
	}
	if ((rc = path_near(arena, file, path, out)) < 0) {
		snprintf(why, why_len, "'%s': %s", path, strerror(-rc));
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	if (stat(*out, &st) < 0) {
		snprintf(why, why_len, "'%s' does not exist (looked for %s; a relative path is "
			 "relative to the scenario file's directory)", path, *out);
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "'%s' is not a file", path);
		return -EINVAL;
	}
	if (access(*out, X_OK) < 0) {
		snprintf(why, why_len, "'%s' is not executable (chmod +x %s)", path, *out);
		return -EINVAL;
	}
	return 0;
}
