/* Turning a sketch's .ino files into one C++ translation unit, the way the Arduino build does. */
#ifndef SIM_SKETCH_PREP_H
#define SIM_SKETCH_PREP_H

#include <stddef.h>

/* One .ino file: @path is what #line directives (and so compiler messages) name. */
struct sketch_source {
	const char *path;
	const char *text;
	size_t len;
};

/*
 * Joins @n .ino files into C++: `#include <Arduino.h>`, then @ino[0] (the
 * sketch's main file), then the others sorted by path, each after a
 * `#line 1 "<path>"`. Prototypes for the functions defined at file scope
 * go just before the first function definition, followed by a #line that
 * restores the numbering, so that a function may be used before it is
 * defined and the compiler still names the sketch's own files and lines.
 * docs/sketch-build.md says which functions get a prototype.
 *
 * On success *@out is a malloc'd, NUL-terminated text of *@out_len bytes
 * (the caller frees it). Returns 0, -ENOMEM, or -EINVAL with "path:line:
 * why" in @err (@err may be NULL) when a file has a brace that is never
 * closed, a '}' without its '{', or an unterminated comment, string or
 * character literal.
 */
int sketch_prep_ino(const struct sketch_source *ino, size_t n, char **out, size_t *out_len,
		    char *err, size_t err_len);

#endif /* SIM_SKETCH_PREP_H */
