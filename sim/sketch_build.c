/* robofleet build: a sketch's files, its generated C++, the compiler runs and the binary cache. */
#define _GNU_SOURCE
#include "sketch_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sketch_prep.h"

#ifndef ROBOFLEET_SKETCH_SDK_CONF
#define ROBOFLEET_SKETCH_SDK_CONF ""
#endif

extern char **environ;

/* src/ is followed this deep; deeper is more likely a symlink loop than a library. */
#define SRC_DEPTH_MAX 16

static int set_err(char *err, size_t err_len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_err(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- a NULL-terminated list of strings it owns ------------------------ */

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_take(struct strv *sv, char *s)
{
	if (!s)
		return -ENOMEM;
	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 16;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v) {
			free(s);
			return -ENOMEM;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

static int strv_add(struct strv *sv, const char *s)
{
	return strv_take(sv, strdup(s));
}

static int strv_addv(struct strv *sv, char *const *list)
{
	int rc = 0;

	for (; list && *list && !rc; list++)
		rc = strv_add(sv, *list);
	return rc;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- finding the sketch's files --------------------------------------- */

static int collect(struct strv *ino, struct strv *src, struct strv *hdr, const char *dir, bool in_src,
		   int depth, char *err, size_t err_len)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (depth > SRC_DEPTH_MAX)
		return set_err(err, err_len, -ELOOP, "%s: src/ goes deeper than %d folders", dir,
			       SRC_DEPTH_MAX);
	d = opendir(dir);
	if (!d)
		return set_err(err, err_len, -errno, "cannot read %s: %s", dir, strerror(errno));
	while (!rc && (errno = 0, de = readdir(d))) {
		struct stat st;
		char *p;

		if (de->d_name[0] == '.')
			continue; /* hidden files, editors' backups, . and .. */
		p = fmt("%s/%s", dir, de->d_name);
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		if (stat(p, &st) < 0) {
			free(p); /* a dangling symlink is not part of the sketch */
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (in_src || !strcmp(de->d_name, "src"))
				rc = collect(ino, src, hdr, p, true, depth + 1, err, err_len);
			free(p);
		} else if (!S_ISREG(st.st_mode)) {
			free(p);
		} else if (!in_src && ends_with(p, ".ino")) {
			rc = strv_take(ino, p);
		} else if (ends_with(p, ".cpp") || ends_with(p, ".c")) {
			rc = strv_take(src, p);
		} else if (ends_with(p, ".h")) {
			rc = strv_take(hdr, p);
		} else {
			free(p);
		}
	}
	if (!rc && errno)
		rc = set_err(err, err_len, -errno, "cannot read %s: %s", dir, strerror(errno));
	closedir(d);
	return rc;
}

void sketch_free_files(struct sketch_files *f)
{
	struct strv sv;

	if (!f)
		return;
	free(f->folder);
	free(f->name);
	sv = (struct strv){ f->ino, f->n_ino, f->n_ino };
	strv_free(&sv);
	sv = (struct strv){ f->sources, f->n_sources, f->n_sources };
	strv_free(&sv);
	sv = (struct strv){ f->headers, f->n_headers, f->n_headers };
	strv_free(&sv);
	memset(f, 0, sizeof(*f));
}

static int find_folder(struct sketch_files *out, const char *folder, char *err, size_t err_len)
{
	struct strv ino = { 0 }, src = { 0 }, hdr = { 0 };
	struct stat st;
	char *main_ino;
	int rc;

	out->folder = strdup(folder);
	out->name = strdup(base_name(folder));
	if (!out->folder || !out->name)
		return -ENOMEM;
	main_ino = fmt("%s/%s.ino", folder, out->name);
	if (!main_ino)
		return -ENOMEM;
	if (stat(main_ino, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = set_err(err, err_len, -ENOENT,
			     "%s is not a sketch folder: it has no %s (a sketch folder holds a .ino named after it)",
			     folder, main_ino);
		free(main_ino);
		return rc;
	}
	rc = collect(&ino, &src, &hdr, folder, false, 0, err, err_len);
	/* A folder named .x has its main file hidden too: it is still the main file. */
	if (!rc) {
		bool seen = false;

		for (size_t i = 0; i < ino.n; i++)
			seen = seen || !strcmp(ino.v[i], main_ino);
		if (!seen)
			rc = strv_add(&ino, main_ino);
	}
	if (!rc) {
		if (ino.n > 1)
			qsort(ino.v, ino.n, sizeof(*ino.v), cmp_str);
		if (src.n > 1)
			qsort(src.v, src.n, sizeof(*src.v), cmp_str);
		if (hdr.n > 1)
			qsort(hdr.v, hdr.n, sizeof(*hdr.v), cmp_str);
		/* The main file first, the others keep their order. */
		for (size_t i = 0; i < ino.n; i++)
			if (!strcmp(ino.v[i], main_ino)) {
				char *m = ino.v[i];

				memmove(ino.v + 1, ino.v, i * sizeof(*ino.v));
				ino.v[0] = m;
				break;
			}
	}
	free(main_ino);
	out->ino = ino.v;
	out->n_ino = ino.n;
	out->sources = src.v;
	out->n_sources = src.n;
	out->headers = hdr.v;
	out->n_headers = hdr.n;
	return rc;
}

int sketch_find_files(const char *path, struct sketch_files *out, char *err, size_t err_len)
{
	struct stat st;
	char *copy = NULL, *dir = NULL, *file = NULL, *slash;
	const char *base;
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && err_len)
		err[0] = '\0';
	if (!path || !*path)
		return set_err(err, err_len, -EINVAL, "no sketch given");
	if (stat(path, &st) < 0)
		return set_err(err, err_len, -errno, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		dir = realpath(path, NULL);
		if (!dir)
			return set_err(err, err_len, -errno, "%s: %s", path, strerror(errno));
		rc = find_folder(out, dir, err, err_len);
		free(dir);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || !ends_with(path, ".ino") || !strcmp(base_name(path), ".ino"))
		return set_err(err, err_len, -EINVAL,
			       "%s is not a sketch: give a .ino file or a folder holding <folder>.ino", path);

	/* The file's folder is resolved, the file's own name kept (it may be a symlink). */
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dir = realpath(slash == copy ? "/" : copy, NULL);
	} else {
		base = copy;
		dir = realpath(".", NULL);
	}
	if (!dir) {
		rc = set_err(err, err_len, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (strlen(base_name(dir)) + 4 == strlen(base) && !strncmp(base_name(dir), base, strlen(base) - 4)) {
		rc = find_folder(out, dir, err, err_len);
		goto out;
	}
	rc = -ENOMEM;
	file = fmt("%s/%s", strcmp(dir, "/") ? dir : "", base);
	out->folder = strdup(dir);
	out->name = strndup(base, strlen(base) - 4);
	out->ino = calloc(2, sizeof(*out->ino));
	if (!file || !out->folder || !out->name || !out->ino)
		goto out;
	out->ino[0] = file;
	out->n_ino = 1;
	file = NULL;
	rc = 0;
out:
	free(file);
	free(dir);
	free(copy);
	return rc;
}

/* ---- the Arduino layer's sketch-sdk.conf ------------------------------ */

struct sdk {
	const char *path;
	char *bytes;
	size_t len;
	char *cxx, *cc;
	char **cxxflags, **cflags, **includes, **libs, **ldflags;
};

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static void sdk_free(struct sdk *s)
{
	free(s->bytes);
	free(s->cxx);
	free(s->cc);
	free_list(s->cxxflags);
	free_list(s->cflags);
	free_list(s->includes);
	free_list(s->libs);
	free_list(s->ldflags);
	memset(s, 0, sizeof(*s));
}

/* Words separated by blanks: the values are flags and paths without spaces. */
static char **split_words(const char *s)
{
	struct strv sv = { 0 };

	while (*s) {
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t");
		if (n && strv_take(&sv, strndup(s, n)) < 0) {
			strv_free(&sv);
			return NULL;
		}
		s += n;
	}
	return sv.v ? sv.v : calloc(1, sizeof(char *));
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb;

			if (cap > SIZE_MAX / 4) {
				rc = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static const char *sdk_path(void)
{
	const char *env = getenv("ROBOFLEET_SKETCH_SDK");

	return env && *env ? env : ROBOFLEET_SKETCH_SDK_CONF;
}

static int sdk_load(struct sdk *s, char *err, size_t err_len)
{
	static const char *const keys[] = { "cxx", "cc", "cxxflags", "cflags", "includes", "libs", "ldflags" };
	char *values[7] = { 0 };
	char *line, *next;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->path = sdk_path();
	if (!*s->path)
		return set_err(err, err_len, -ENOENT,
			       "the Arduino layer is not built: no sketch-sdk.conf is known (set ROBOFLEET_SKETCH_SDK)");
	rc = read_file(s->path, &s->bytes, &s->len);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return set_err(err, err_len, -ENOENT, "the Arduino layer is not built: %s (%s)", s->path,
			       strerror(-rc));

	/* Parsed from a copy: the bytes themselves go into the cache key. */
	line = strndup(s->bytes, s->len);
	if (!line)
		return -ENOMEM;
	for (char *p = line; p; p = next) {
		char *eq, *key, *val, *end;

		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		end = p + strlen(p);
		while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || !(eq = strchr(p, '=')))
			continue;
		key = p;
		val = eq + 1;
		while (eq > key && (eq[-1] == ' ' || eq[-1] == '\t'))
			eq--;
		*eq = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		for (size_t k = 0; k < 7; k++)
			if (!strcmp(key, keys[k])) {
				free(values[k]);
				values[k] = strdup(val);
				if (!values[k])
					rc = -ENOMEM;
			}
	}
	free(line);
	for (size_t k = 0; k < 7 && !rc; k++)
		if (!values[k] || ((k == 0 || k == 1) && !*values[k]))
			rc = set_err(err, err_len, -ENOENT,
				     "the Arduino layer is not built: %s (it has no '%s' value)", s->path, keys[k]);
	if (!rc) {
		s->cxx = values[0];
		s->cc = values[1];
		values[0] = values[1] = NULL;
		s->cxxflags = split_words(values[2]);
		s->cflags = split_words(values[3]);
		s->includes = split_words(values[4]);
		s->libs = split_words(values[5]);
		s->ldflags = split_words(values[6]);
		if (!s->cxxflags || !s->cflags || !s->includes || !s->libs || !s->ldflags)
			rc = -ENOMEM;
	}
	for (size_t k = 0; k < 7; k++)
		free(values[k]);
	if (rc)
		sdk_free(s);
	return rc;
}

/* ---- the cache key ---------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static void fnv(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= FNV_PRIME;
	}
}

/* Lengths go in before bytes, so that no two different inputs read the same. */
static void fnv_field(uint64_t *h, const void *p, size_t n)
{
	uint64_t len = n;
	unsigned char le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(len >> (8 * i));
	fnv(h, le, sizeof(le));
	fnv(h, p, n);
}

static void fnv_u64(uint64_t *h, uint64_t v)
{
	unsigned char le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(v >> (8 * i));
	fnv(h, le, sizeof(le));
}

struct loaded {
	char *path;
	const char *rel; /* relative to the sketch folder */
	char *text;
	size_t len;
	bool ino, c;
};

static int cache_key(const struct loaded *files, size_t n, const struct sdk *s, uint64_t *key,
		     char *err, size_t err_len)
{
	uint64_t h = FNV_OFFSET;
	static const char tag[] = "robofleet sketch 1";

	fnv_field(&h, tag, sizeof(tag) - 1);
	for (size_t i = 0; i < n; i++) {
		fnv_field(&h, files[i].rel, strlen(files[i].rel));
		fnv_field(&h, files[i].text, files[i].len);
	}
	fnv_field(&h, s->bytes, s->len);
	for (size_t i = 0; s->libs[i]; i++) {
		struct stat st;

		if (stat(s->libs[i], &st) < 0)
			return set_err(err, err_len, -ENOENT, "the Arduino layer is not built: %s (%s: %s)",
				       s->path, s->libs[i], strerror(errno));
		fnv_field(&h, s->libs[i], strlen(s->libs[i]));
		fnv_u64(&h, (uint64_t)st.st_size);
		fnv_u64(&h, (uint64_t)st.st_mtim.tv_sec);
		fnv_u64(&h, (uint64_t)st.st_mtim.tv_nsec);
	}
	*key = h;
	return 0;
}

/* ---- the cache directory ---------------------------------------------- */

int sketch_build_locate_cache(char *dir, size_t len)
{
	const char *e;
	int n;

	if ((e = getenv("ROBOFLEET_CACHE_DIR")) && *e)
		n = snprintf(dir, len, "%s", e);
	else if ((e = getenv("XDG_CACHE_HOME")) && *e == '/') /* the XDG spec ignores relative ones */
		n = snprintf(dir, len, "%s/robofleet/sketches", e);
	else if ((e = getenv("HOME")) && *e)
		n = snprintf(dir, len, "%s/.cache/robofleet/sketches", e);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0777) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	if (!rc) {
		struct stat st;

		if (stat(path, &st) < 0)
			rc = -errno;
		else if (!S_ISDIR(st.st_mode))
			rc = -ENOTDIR;
	}
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- running the compiler --------------------------------------------- */

static void print_command(FILE *out, char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		const char *a = argv[i];

		fputs(i ? " " : "", out);
		if (*a && !a[strcspn(a, " \t\n'\"\\$`*?[]{}()<>|&;#~")]) {
			fputs(a, out);
			continue;
		}
		fputc('\'', out);
		for (; *a; a++)
			if (*a == '\'')
				fputs("'\\''", out);
			else
				fputc(*a, out);
		fputc('\'', out);
	}
	fputc('\n', out);
	fflush(out);
}

/*
 * Runs argv without a shell. What the compiler prints goes to @messages, so
 * that robofleet build's standard output stays the binary's path alone.
 * Returns the exit status, or a negative errno when it could not run.
 */
static int run(FILE *messages, bool verbose, char *const *argv, char *err, size_t err_len)
{
	posix_spawn_file_actions_t fa;
	int fds[2], status, rc;
	pid_t pid;
	char buf[4096];
	ssize_t got;

	if (verbose)
		print_command(messages, argv);
	fflush(messages);
	/* Said here, not as a child's exit status 127 that looks like a failed compile. */
	if (strchr(argv[0], '/') && access(argv[0], X_OK) < 0)
		return set_err(err, err_len, -errno, "cannot run %s: %s", argv[0], strerror(errno));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return set_err(err, err_len, -errno, "cannot run %s: %s", argv[0], strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	if (strchr(argv[0], '/'))
		rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	else
		rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return set_err(err, err_len, -rc, "cannot run %s: %s", argv[0], strerror(rc));
	}
	while ((got = read(fds[0], buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		fwrite(buf, 1, (size_t)got, messages);
	}
	fflush(messages);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return set_err(err, err_len, -errno, "waiting for %s: %s", argv[0], strerror(errno));
	if (WIFSIGNALED(status))
		return set_err(err, err_len, -EINTR, "%s was killed by signal %d", argv[0], WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* ---- building --------------------------------------------------------- */

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -errno;
	if (fwrite(text, 1, len, f) != len)
		rc = -EIO;
	if (fclose(f) != 0 && !rc)
		rc = -EIO;
	return rc;
}

/* Copied under a temporary name beside it and renamed, so nobody runs half a file. */
static int copy_binary(const char *from, const char *to, char *err, size_t err_len)
{
	char *tmp = fmt("%s.XXXXXX", to), buf[65536];
	int in = -1, out = -1, rc = 0, c;
	bool made = false;
	struct stat st;
	ssize_t got;

	if (!tmp)
		return -ENOMEM;
	in = open(from, O_RDONLY | O_CLOEXEC);
	out = in < 0 ? -1 : mkstemp(tmp);
	if (in < 0 || out < 0) {
		rc = -errno;
		goto out;
	}
	made = true;
	while ((got = read(in, buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		for (ssize_t off = 0; off < got;) {
			ssize_t w = write(out, buf + off, (size_t)(got - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				rc = -errno;
				goto out;
			}
			off += w;
		}
	}
	/* The linker made the cached one under the umask: the copy gets its mode
	 * (mkstemp's 0600 would not run for anyone else). */
	if (fstat(in, &st) < 0 || fchmod(out, st.st_mode & 0777) < 0) {
		rc = -errno;
		goto out;
	}
	c = close(out);
	out = -1;
	if (c < 0 || rename(tmp, to) < 0)
		rc = -errno;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc) {
		if (made)
			unlink(tmp);
		set_err(err, err_len, rc, "cannot write %s: %s", to, strerror(-rc));
	}
	free(tmp);
	return rc;
}

static int add_compile(struct strv *cmd, const struct sdk *s, const char *folder, bool cxx,
		       const char *src, const char *obj)
{
	int rc = strv_add(cmd, cxx ? s->cxx : s->cc);

	if (!rc)
		rc = strv_addv(cmd, cxx ? s->cxxflags : s->cflags);
	if (!rc)
		rc = strv_take(cmd, fmt("-I%s", folder));
	for (size_t i = 0; !rc && s->includes[i]; i++)
		rc = strv_take(cmd, fmt("-I%s", s->includes[i]));
	if (!rc)
		rc = strv_add(cmd, "-c");
	if (!rc)
		rc = strv_add(cmd, src);
	if (!rc)
		rc = strv_add(cmd, "-o");
	if (!rc)
		rc = strv_add(cmd, obj);
	return rc;
}

struct job {
	const char *sketch;       /* as the user named it */
	const struct sketch_files *files;
	const struct sdk *sdk;
	const struct loaded *loaded;
	size_t n_loaded;
	FILE *messages;
	bool verbose;
};

/* Compiles and links into @work/<name>. */
static int compile_and_link(const struct job *j, const char *work, char *err, size_t err_len)
{
	struct sketch_source *ino = NULL;
	struct strv objs = { 0 }, cmd = { 0 };
	char *unit = NULL, *unit_path = NULL, *exe = NULL;
	size_t unit_len, n_ino = 0;
	int rc = -ENOMEM;

	ino = calloc(j->files->n_ino, sizeof(*ino));
	if (!ino)
		goto out;
	for (size_t i = 0; i < j->n_loaded; i++)
		if (j->loaded[i].ino)
			ino[n_ino++] = (struct sketch_source){ j->loaded[i].path, j->loaded[i].text,
							       j->loaded[i].len };
	rc = sketch_prep_ino(ino, n_ino, &unit, &unit_len, err, err_len);
	if (rc)
		goto out;
	rc = -ENOMEM;
	unit_path = fmt("%s/%s.ino.cpp", work, j->files->name);
	exe = fmt("%s/%s", work, j->files->name);
	if (!unit_path || !exe)
		goto out;
	if ((rc = write_file(unit_path, unit, unit_len))) {
		set_err(err, err_len, rc, "cannot write %s: %s", unit_path, strerror(-rc));
		goto out;
	}

	/* The generated unit first: most mistakes are in the .ino files. */
	for (size_t i = 0; i <= j->files->n_sources; i++) {
		const char *src = i ? j->files->sources[i - 1] : unit_path;
		bool cxx = !i || ends_with(src, ".cpp");
		char *obj = fmt("%s/%zu-%s.o", work, i, base_name(src));
		int st;

		if (!obj || strv_take(&objs, obj) < 0 || add_compile(&cmd, j->sdk, j->files->folder, cxx, src, obj)) {
			rc = -ENOMEM;
			goto out;
		}
		st = run(j->messages, j->verbose, cmd.v, err, err_len);
		strv_free(&cmd);
		if (st < 0) {
			rc = st;
			goto out;
		}
		if (st > 0) {
			rc = set_err(err, err_len, -EINVAL,
				     "sketch %s does not compile (see the compiler's messages above)", j->sketch);
			goto out;
		}
	}

	rc = strv_add(&cmd, j->sdk->cxx);
	if (!rc)
		rc = strv_addv(&cmd, j->sdk->cxxflags);
	if (!rc)
		rc = strv_addv(&cmd, objs.v);
	/* The layer's libraries may call each other in any order. */
	if (!rc && j->sdk->libs[0]) {
		rc = strv_add(&cmd, "-Wl,--start-group");
		if (!rc)
			rc = strv_addv(&cmd, j->sdk->libs);
		if (!rc)
			rc = strv_add(&cmd, "-Wl,--end-group");
	}
	if (!rc)
		rc = strv_addv(&cmd, j->sdk->ldflags);
	if (!rc)
		rc = strv_add(&cmd, "-o");
	if (!rc)
		rc = strv_add(&cmd, exe);
	if (rc)
		goto out;
	rc = run(j->messages, j->verbose, cmd.v, err, err_len);
	if (rc > 0)
		rc = set_err(err, err_len, -EINVAL,
			     "sketch %s does not link (see the linker's messages above)", j->sketch);
out:
	if (rc == -ENOMEM)
		set_err(err, err_len, rc, "out of memory building %s", j->sketch);
	strv_free(&cmd);
	strv_free(&objs);
	free(ino);
	free(unit);
	free(unit_path);
	free(exe);
	return rc;
}

static void free_loaded(struct loaded *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++) {
		free(l[i].path);
		free(l[i].text);
	}
	free(l);
}

/* Every file of the sketch, read once: the same bytes are hashed and compiled. */
static int load_files(const struct sketch_files *f, struct loaded **out, size_t *n_out, char *err,
		      size_t err_len)
{
	size_t n = f->n_ino + f->n_sources + f->n_headers, k = 0, flen = strlen(f->folder);
	struct loaded *l = calloc(n ? n : 1, sizeof(*l));
	int rc = 0;

	if (!l)
		return -ENOMEM;
	for (size_t g = 0; g < 3 && !rc; g++) {
		char **list = g == 0 ? f->ino : g == 1 ? f->sources : f->headers;
		size_t cnt = g == 0 ? f->n_ino : g == 1 ? f->n_sources : f->n_headers;

		for (size_t i = 0; i < cnt && !rc; i++, k++) {
			l[k].path = strdup(list[i]);
			if (!l[k].path) {
				rc = -ENOMEM;
				break;
			}
			l[k].rel = !strncmp(list[i], f->folder, flen) && list[i][flen] == '/' ?
					   l[k].path + flen + 1 : base_name(l[k].path);
			l[k].ino = g == 0;
			rc = read_file(list[i], &l[k].text, &l[k].len);
			if (rc && rc != -ENOMEM)
				set_err(err, err_len, rc, "cannot read %s: %s", list[i], strerror(-rc));
		}
	}
	*out = l;
	*n_out = k;
	return rc;
}

int sketch_build(const char *path, const struct sketch_build_options *o, char *binary,
		 size_t binary_len, char *err, size_t err_len)
{
	static const struct sketch_build_options defaults;
	struct sketch_files files;
	struct sdk sdk = { 0 };
	struct loaded *loaded = NULL;
	size_t n_loaded = 0;
	char cache[PATH_MAX], *cache_abs = NULL, *entry = NULL, *bin = NULL, *work = NULL;
	char *built = NULL, *unit_from = NULL, *unit_to = NULL;
	uint64_t key = 0;
	struct stat st;
	int rc, n;

	if (!o)
		o = &defaults;
	if (binary && binary_len)
		binary[0] = '\0';
	rc = sketch_find_files(path, &files, err, err_len);
	if (!rc)
		rc = load_files(&files, &loaded, &n_loaded, err, err_len);
	if (!rc)
		rc = sdk_load(&sdk, err, err_len);
	if (!rc)
		rc = cache_key(loaded, n_loaded, &sdk, &key, err, err_len);
	if (rc)
		goto out;

	rc = sketch_build_locate_cache(cache, sizeof(cache));
	if (rc) {
		set_err(err, err_len, rc, "no cache directory: set ROBOFLEET_CACHE_DIR or HOME");
		goto out;
	}
	if ((rc = mkdir_p(cache)) || !(cache_abs = realpath(cache, NULL))) {
		rc = rc ? rc : -errno;
		set_err(err, err_len, rc, "cannot make the cache directory %s: %s", cache, strerror(-rc));
		goto out;
	}
	rc = -ENOMEM;
	entry = fmt("%s/%016" PRIx64, cache_abs, key);
	bin = entry ? fmt("%s/%s", entry, files.name) : NULL;
	if (!bin)
		goto out;

	if (o->force || stat(bin, &st) < 0 || !S_ISREG(st.st_mode) || access(bin, X_OK) < 0) {
		struct job j = { path, &files, &sdk, loaded, n_loaded, o->messages ? o->messages : stderr,
				 o->verbose };

		/* Built beside the entry and renamed into it: a concurrent build of
		 * the same sketch sees either no binary or a whole one. */
		work = fmt("%s/.build-%016" PRIx64 "-XXXXXX", cache_abs, key);
		if (!work)
			goto out;
		if (!mkdtemp(work)) {
			rc = -errno;
			set_err(err, err_len, rc, "cannot make a build directory in %s: %s", cache_abs,
				strerror(errno));
			free(work);
			work = NULL;
			goto out;
		}
		if ((rc = compile_and_link(&j, work, err, err_len)))
			goto out;
		rc = -ENOMEM;
		built = fmt("%s/%s", work, files.name);
		unit_from = fmt("%s/%s.ino.cpp", work, files.name);
		unit_to = fmt("%s/%s.ino.cpp", entry, files.name);
		if (!built || !unit_from || !unit_to)
			goto out;
		if (mkdir(entry, 0777) < 0 && errno != EEXIST) {
			rc = -errno;
			set_err(err, err_len, rc, "cannot make %s: %s", entry, strerror(errno));
			goto out;
		}
		/* The generated C++ is kept for whoever wonders what the compiler saw. */
		rename(unit_from, unit_to);
		if (rename(built, bin) < 0) {
			rc = -errno;
			set_err(err, err_len, rc, "cannot store %s: %s", bin, strerror(errno));
			goto out;
		}
	}
	if (o->output && (rc = copy_binary(bin, o->output, err, err_len)))
		goto out;
	n = snprintf(binary, binary_len, "%s", bin);
	if (n < 0 || (size_t)n >= binary_len) {
		rc = set_err(err, err_len, -ENAMETOOLONG, "the binary's path is too long: %s", bin);
		goto out;
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		set_err(err, err_len, rc, "out of memory building %s", path);
	if (work)
		rm_tree(work);
	free(work);
	free(built);
	free(unit_from);
	free(unit_to);
	free(bin);
	free(entry);
	free(cache_abs);
	free_loaded(loaded, n_loaded);
	sdk_free(&sdk);
	sketch_free_files(&files);
	return rc;
}
