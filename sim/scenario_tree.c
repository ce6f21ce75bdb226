/* libyaml events to a small node tree with positions, bounded in depth and size. */
#include <errno.h>
#include <string.h>

#include <yaml.h>

#include "scenario_internal.h"

/*
 * Why not yaml_parser_load(): its documents follow aliases, and an alias
 * may point back into the node that holds it, so a walk over a document can
 * loop or blow up; nor does it bound nesting. Reading events ourselves lets
 * us refuse aliases, cap depth and node count as the input arrives, and keep
 * each node's position for messages.
 */

#define TREE_NODES_MAX 1000000u

struct loader {
	const char *file;
	const char *text;
	size_t len;
	struct scenario__arena **arena;
	struct scenario_error *err;
	struct ynode *stack[SCENARIO_NESTING_MAX];
	size_t depth;
	size_t nodes;
	unsigned documents;
	struct ynode *root;
};

static struct scenario_pos mark_pos(yaml_mark_t m)
{
	struct scenario_pos p = { (uint32_t)m.line + 1, (uint32_t)m.column + 1 };

	return p;
}

/* Reader errors carry a byte offset, not a mark. */
static struct scenario_pos offset_pos(const char *text, size_t len, size_t offset)
{
	struct scenario_pos p = { 1, 1 };

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return p;
}

static int syntax_error(struct loader *l, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unreadable input";

	if (p->error == YAML_MEMORY_ERROR) {
		scenario__error(l->err, l->file, (struct scenario_pos){ 0, 0 }, "out of memory");
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		struct scenario_pos pos = offset_pos(l->text, l->len, p->problem_offset);

		if (p->problem_value >= 0)
			return scenario__error(l->err, l->file, pos,
					       "not UTF-8 text: %s (#%X)", problem,
					       (unsigned)p->problem_value);
		return scenario__error(l->err, l->file, pos, "not UTF-8 text: %s", problem);
	}
	if (p->context)
		return scenario__error(l->err, l->file, mark_pos(p->problem_mark),
				       "YAML syntax error: %s (%s at %u:%u)", problem, p->context,
				       (unsigned)p->context_mark.line + 1,
				       (unsigned)p->context_mark.column + 1);
	return scenario__error(l->err, l->file, mark_pos(p->problem_mark),
			       "YAML syntax error: %s", problem);
}

static int add_node(struct loader *l, const yaml_event_t *ev, enum ynode_kind kind,
		    struct ynode **out)
{
	struct ynode *n;

	if (++l->nodes > TREE_NODES_MAX)
		return scenario__error(l->err, l->file, mark_pos(ev->start_mark),
				       "more than %u YAML nodes: split the scenario",
				       TREE_NODES_MAX);
	n = scenario__alloc(l->arena, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->kind = kind;
	n->pos = mark_pos(ev->start_mark);
	if (kind == YNODE_SCALAR) {
		size_t len = ev->data.scalar.length;

		n->text = scenario__strndup(l->arena, (const char *)ev->data.scalar.value, len);
		if (!n->text)
			return -ENOMEM;
		n->len = len;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->has_nul = memchr(n->text, '\0', len) != NULL;
	}
	if (l->depth == 0) {
		l->root = n;
	} else {
		struct ynode *parent = l->stack[l->depth - 1];

		if (parent->last)
			parent->last->next = n;
		else
			parent->first = n;
		parent->last = n;
		parent->n++;
	}
	*out = n;
	return 0;
}

static int on_event(struct loader *l, const yaml_event_t *ev, bool *done)
{
	struct ynode *n;
	int rc;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++l->documents > 1)
			return scenario__error(l->err, l->file, mark_pos(ev->start_mark),
					       "a second YAML document starts here: a scenario "
					       "file holds exactly one");
		return 0;
	case YAML_ALIAS_EVENT:
		return scenario__error(l->err, l->file, mark_pos(ev->start_mark),
				       "aliases (*%s) are not supported: write the value out",
				       (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return add_node(l, ev, YNODE_SCALAR, &n);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (l->depth >= SCENARIO_NESTING_MAX)
			return scenario__error(l->err, l->file, mark_pos(ev->start_mark),
					       "nested deeper than %d levels",
					       SCENARIO_NESTING_MAX);
		rc = add_node(l, ev, ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP,
			      &n);
		if (rc < 0)
			return rc;
		l->stack[l->depth++] = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (l->depth > 0) /* libyaml pairs them; be safe anyway */
			l->depth--;
		return 0;
	default:
		return 0;
	}
}

int scenario__tree_load(const char *file, const char *text, size_t len,
			struct scenario__arena **arena, struct ynode **root,
			struct scenario_error *err)
{
	struct loader l = { .file = file, .text = text, .len = len, .arena = arena, .err = err };
	yaml_parser_t parser;
	bool done = false;
	int rc = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&parser)) {
		scenario__error(err, file, (struct scenario_pos){ 0, 0 }, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			rc = syntax_error(&l, &parser);
			break;
		}
		rc = on_event(&l, &ev, &done);
		yaml_event_delete(&ev);
	}
	if (rc == -ENOMEM)
		scenario__error(err, file, (struct scenario_pos){ 0, 0 }, "out of memory");
	if (rc == 0)
		*root = l.root;
	yaml_parser_delete(&parser);
	return rc;
}
