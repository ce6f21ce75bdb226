/* Building an Arduino sketch into a device binary against the Arduino layer, with a content-addressed cache. */
#ifndef SIM_SKETCH_BUILD_H
#define SIM_SKETCH_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A sketch's files as the Arduino IDE finds them. All paths are absolute. */
struct sketch_files {
	char *folder;   /* -I for the compiler; a one-file sketch's own directory */
	char *name;     /* the binary's name: the folder's, or the one-file sketch's stem */
	char **ino;     /* the main .ino first, then the others by name */
	size_t n_ino;
	char **sources; /* .cpp and .c, by relative name; src/ recursively */
	size_t n_sources;
	char **headers; /* .h, which only count for the cache key */
	size_t n_headers;
};

/*
 * SKETCH (@path) is a folder holding <folder>.ino, a .ino in a folder named
 * after it (the whole folder), or any other .ino (a sketch of that one
 * file). Returns 0, -ENOENT (nothing there, or a folder without its main
 * .ino), -EINVAL (not a sketch) or another negative errno, with a message
 * in @err. sketch_free_files() frees what it found, also after a failure.
 */
int sketch_find_files(const char *path, struct sketch_files *out, char *err, size_t err_len);
void sketch_free_files(struct sketch_files *files);

struct sketch_build_options {
	bool force;         /* build even when the cache has the binary */
	bool verbose;       /* print each compiler command before running it */
	const char *output; /* if set, the binary is copied there as well */
	FILE *messages;     /* compiler output and commands; NULL: stderr */
};

/*
 * Builds the sketch at @path (see sketch_find_files) with the compiler and
 * libraries that the Arduino layer's sketch-sdk.conf names, or finds it
 * already built in the cache, and writes the binary's absolute path to
 * @binary. @o may be NULL for the defaults. Returns 0 or a negative errno
 * with a message in @err: -ENOENT when the sketch or the layer's
 * configuration is missing, -EINVAL when the sketch is not a sketch or does
 * not compile (the compiler's own messages went to o->messages first).
 */
int sketch_build(const char *path, const struct sketch_build_options *o, char *binary,
		 size_t binary_len, char *err, size_t err_len);

/* The cache directory sketch_build uses (not created). Returns 0 or -ENOENT. */
int sketch_build_locate_cache(char *dir, size_t len);

#endif /* SIM_SKETCH_BUILD_H */
