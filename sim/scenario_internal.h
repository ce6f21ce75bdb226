/* Internals shared by the sim/scenario*.c files; users include scenario.h only. */
#ifndef SCENARIO_INTERNAL_H
#define SCENARIO_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

/* ---- memory: one arena per scenario, freed at once ------------------- */

/* Zeroed, max_align_t aligned; NULL when out of memory. */
void *scenario__alloc(struct scenario__arena **arena, size_t n);
/* @n bytes of @s and a NUL. */
char *scenario__strndup(struct scenario__arena **arena, const char *s, size_t n);
void scenario__arena_free(struct scenario__arena **arena);

/* ---- errors ------------------------------------------------------------ */

/* Fill @err with "file:line:col: text" (or "file: text" without a position,
 * or just "text" without a file). Returns -EINVAL. */
int scenario__error(struct scenario_error *err, const char *file, struct scenario_pos pos,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- numbers ----------------------------------------------------------- */

/* A plain decimal number ("22.5", "-3", "1e3"), read the same whatever the
 * process locale: the dashboard sets one for ncurses. Returns 0 or -EINVAL. */
int scenario__parse_number(const char *s, double *v);

/* ---- the YAML tree (scenario_tree.c) ----------------------------------- */

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

/* One YAML node. A mapping's children alternate key, value. */
struct ynode {
	enum ynode_kind kind;
	struct scenario_pos pos;
	const char *text;       /* SCALAR: NUL-terminated copy */
	size_t len;
	bool plain;             /* SCALAR: unquoted, so ~ and "" mean null */
	bool has_nul;           /* SCALAR: a \0 escape inside */
	struct ynode *first;    /* SEQ, MAP: children */
	struct ynode *last;
	struct ynode *next;     /* sibling */
	size_t n;               /* number of children */
};

/* Load the one document of @text into a tree allocated from @arena; *@root
 * is NULL for an empty stream. Returns 0, -EINVAL with @err, or -ENOMEM. */
int scenario__tree_load(const char *file, const char *text, size_t len,
			struct scenario__arena **arena, struct ynode **root,
			struct scenario_error *err);

/* ---- fleet and targets ------------------------------------------------- */

/* Build sc->fleet.devices from the groups and check the ids. */
int scenario__fleet_expand(struct scenario *sc, struct scenario_error *err);

/* An id pattern's placeholders ({} or {:0N}); *@has_number: there is one.
 * Returns 0 or -EINVAL. */
int scenario__pattern_check(const char *pat, bool *has_number);
#define SCENARIO_EXPAND_MAX 96
/* @pat with @number put in, cut at SCENARIO_EXPAND_MAX bytes. */
void scenario__pattern_expand(const char *pat, uint64_t number, char out[SCENARIO_EXPAND_MAX + 1]);

/*
 * After the fleet is expanded: give every device its room, and check the
 * layouts against the fleet (rooms unique and no device's id, a template
 * without {id} or {room} only for a group of one, {room} only with rooms:,
 * no two templates that could claim one topic for different devices).
 * Returns 0, -ENOMEM, or -EINVAL with @err.
 */
int scenario__topics_check(struct scenario *sc, struct scenario_error *err);

/*
 * Compile one target string (not a list) into @out, allocating from sc's
 * arena, and check that it selects at least one device. *@work (NULL: no
 * limit) is a budget of device ids the check may look at. Returns 0,
 * -ENOMEM, or -EINVAL with the reason in @why.
 */
int scenario__target_compile(struct scenario *sc, const char *text, struct scenario_pos pos,
			     uint32_t step_index, struct scenario_target *out,
			     char *why, size_t why_len, uint64_t *work);

/* ---- files a scenario names (scenario_paths.c) ---------------------------- */

/*
 * A group's sketch: @path (a .ino file, or a folder NAME holding NAME.ino) or device:
 * @path (an executable file; without a slash, searched on PATH), relative
 * to the directory of the scenario file @file. *@out gets the absolute
 * path from @arena. Returns 0, -ENOMEM, or -EINVAL with the reason in
 * @why (which names the path as written, not the key).
 */
int scenario__find_sketch(struct scenario__arena **arena, const char *file, const char *path,
			  const char **out, char *why, size_t why_len);
int scenario__find_device(struct scenario__arena **arena, const char *file, const char *path,
			  const char **out, char *why, size_t why_len);

/* Names as scenario files write them, indexed by the enums. */
extern const char *const scenario__step_names[SCENARIO_STEP_KIND_COUNT];
extern const char *const scenario__metric_names[SCENARIO_METRIC_COUNT];
extern const char *const scenario__counter_names[SCENARIO_COUNTER_COUNT];
extern const char *const scenario__power_names[4];
extern const char *const scenario__broker_names[4];
extern const char *const scenario__security_names[SCENARIO_SECURITY_COUNT];
extern const char *const scenario__transport_names[SCENARIO_TRANSPORT_COUNT];

/* Edit distance of two short words, capped: suggestions for typos. */
unsigned scenario__distance(const char *a, const char *b);

#endif /* SCENARIO_INTERNAL_H */
