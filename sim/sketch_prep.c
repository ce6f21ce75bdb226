/* The .ino preprocessor: a small C++ tokenizer, prototype generation and #line bookkeeping. */
#include "sketch_prep.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { TK_IDENT, TK_NUMBER, TK_STRING, TK_PUNCT, TK_PP };
enum pp_kind { PP_OTHER, PP_IF, PP_ELIF, PP_ELSE, PP_ENDIF };

/* The only multi-character punctuators that change what a declaration is. */
#define P_SCOPE 256 /* :: */
#define P_ARROW 257 /* -> */

struct tok {
	size_t start, end; /* bytes of the file's text */
	unsigned line;
	int punct;         /* TK_PUNCT: the character, or P_* */
	unsigned char kind, pp;
	bool spaced;       /* blank or a comment between it and the previous token */
	bool raw;          /* raw string literal: copied as it is, splices and all */
};

struct file {
	const char *path;
	const char *text;
	size_t len;
	struct tok *toks;
	size_t ntoks, captoks;
};

/*
 * A branch of a conditional group (#if, #elif or #else). Nodes form a tree:
 * two functions under the same branch of the same group share the node, so
 * the conditions their prototypes need are the path to the root.
 */
struct node {
	int parent; /* the enclosing branch, -1 at top level */
	int prev;   /* the group's previous branch, -1 for the #if itself */
	int depth;
	size_t file, tok;
};

/*
 * A function definition: tokens [s, e) of its file, e being its body's '{';
 * its prototype is [p, e).
 */
struct func {
	size_t file, s, p, e;
	int node;
};

struct item {
	size_t a, b; /* first and last token; a bracketed group spans a..b */
	bool group;
};

struct prep {
	struct file *files;
	size_t nfiles;
	struct node *nodes;
	size_t nnodes, capnodes;
	struct func *funcs; /* the ones that get a prototype, in order */
	size_t nfuncs, capfuncs;
	bool have_first;
	struct func first; /* the first definition, prototype or not */
	struct item *items;
	size_t capitems;
	char *err;
	size_t err_len;
};

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return -ENOMEM;
		ncap *= 2;
	}
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int fail(char *err, size_t err_len, const char *path, unsigned line, const char *why)
{
	if (err && err_len)
		snprintf(err, err_len, "%s:%u: %s", path, line, why);
	return -EINVAL;
}

/* ---- the tokenizer ---------------------------------------------------- */

struct lexer {
	const char *s;
	size_t n, p;
	unsigned line;
	int skip; /* nesting inside an `#if 0` group: lexed for its end, never analysed */
	struct file *f;
	char *err;
	size_t err_len;
};

/* A backslash-newline (GCC also allows blanks between them) is removed before anything else. */
static size_t splice_at(const char *s, size_t n, size_t p)
{
	size_t q;

	if (p >= n || s[p] != '\\')
		return 0;
	q = p + 1;
	while (q < n && (s[q] == ' ' || s[q] == '\t'))
		q++;
	if (q + 1 < n && s[q] == '\r' && s[q + 1] == '\n')
		return q + 2 - p;
	if (q < n && s[q] == '\n')
		return q + 1 - p;
	return 0;
}

static void skip_splices(struct lexer *L)
{
	size_t k;

	while ((k = splice_at(L->s, L->n, L->p))) {
		L->p += k;
		L->line++;
	}
}

static int cur(const struct lexer *L)
{
	return L->p < L->n ? (unsigned char)L->s[L->p] : -1;
}

static int peek(const struct lexer *L)
{
	size_t q = L->p + 1, k;

	while ((k = splice_at(L->s, L->n, q)))
		q += k;
	return q < L->n ? (unsigned char)L->s[q] : -1;
}

static void adv(struct lexer *L)
{
	if (L->p >= L->n)
		return;
	if (L->s[L->p] == '\n')
		L->line++;
	L->p++;
	skip_splices(L);
}

static bool is_ident_start(int c)
{
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(int c)
{
	return is_ident_start(c) || is_digit(c);
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int lex_fail(struct lexer *L, unsigned line, const char *why)
{
	return fail(L->err, L->err_len, L->f->path, line, why);
}

static void lex_line_comment(struct lexer *L)
{
	while (cur(L) != -1 && cur(L) != '\n')
		adv(L);
}

static int lex_block_comment(struct lexer *L)
{
	unsigned line = L->line;

	adv(L);
	adv(L);
	for (;;) {
		int c = cur(L);

		if (c == -1)
			return lex_fail(L, line, "unterminated /* comment");
		if (c == '*' && peek(L) == '/') {
			adv(L);
			adv(L);
			return 0;
		}
		adv(L);
	}
}

/* Inside `#if 0` and in directives a stray quote is text (`#error don't`), not an error. */
static int lex_quoted(struct lexer *L, int q, bool lenient)
{
	unsigned line = L->line;

	adv(L);
	for (;;) {
		int c = cur(L);

		if (c == -1 || c == '\n') {
			if (lenient)
				return 0;
			return lex_fail(L, line, q == '"' ? "unterminated string literal" :
							    "unterminated character literal");
		}
		adv(L);
		if (c == q)
			return 0;
		if (c == '\\' && cur(L) != -1 && cur(L) != '\n')
			adv(L);
	}
}

/* R"delim( ... )delim": no escapes and no splices inside, so it is read byte by byte. */
static int lex_raw(struct lexer *L, bool lenient)
{
	const char *s = L->s;
	size_t n = L->n, d0 = L->p + 1, q = d0, dlen;
	unsigned line = L->line;

	while (q < n && q - d0 <= 16 && s[q] != '(' && s[q] != '\0' && !strchr(" )\\\t\v\f\r\n", s[q]))
		q++;
	if (q >= n || s[q] != '(' || q - d0 > 16) {
		if (lenient)
			return lex_quoted(L, '"', true);
		return lex_fail(L, line, "invalid raw string delimiter");
	}
	dlen = q - d0;
	for (size_t r = q + 1; r < n; r++) {
		if (s[r] == ')' && r + 1 + dlen < n && memcmp(s + r + 1, s + d0, dlen) == 0 &&
		    s[r + 1 + dlen] == '"') {
			for (size_t k = L->p; k < r; k++)
				if (s[k] == '\n')
					L->line++;
			L->p = r + 2 + dlen;
			skip_splices(L);
			return 0;
		}
	}
	if (lenient)
		return lex_quoted(L, '"', true);
	return lex_fail(L, line, "unterminated raw string literal");
}

/* Token text without splices; at most @size - 1 bytes, the length it would have otherwise. */
static size_t tok_text(const struct file *f, const struct tok *t, char *buf, size_t size)
{
	size_t len = 0, k;

	for (size_t p = t->start; p < t->end;) {
		if (!t->raw && (k = splice_at(f->text, t->end, p))) {
			p += k;
			continue;
		}
		if (len + 1 < size)
			buf[len] = f->text[p];
		len++;
		p++;
	}
	if (size)
		buf[len < size ? len : size - 1] = '\0';
	return len;
}

static bool tok_is(const struct file *f, const struct tok *t, const char *word)
{
	char buf[32];
	size_t len;

	if (t->kind != TK_IDENT)
		return false;
	len = tok_text(f, t, buf, sizeof(buf));
	return len < sizeof(buf) && !strcmp(buf, word);
}

static bool tok_in(const struct file *f, const struct tok *t, const char *const *words)
{
	for (; *words; words++)
		if (tok_is(f, t, *words))
			return true;
	return false;
}

static int lex_directive(struct lexer *L, struct tok *t, bool *if0)
{
	char name[16];
	size_t k = 0;
	int c, rc;

	*if0 = false;
	adv(L);
	while (cur(L) == ' ' || cur(L) == '\t')
		adv(L);
	while ((c = cur(L)) != -1 && is_ident_char(c)) {
		if (k + 1 < sizeof(name))
			name[k++] = (char)c;
		adv(L);
	}
	name[k] = '\0';
	t->pp = PP_OTHER;
	if (!strcmp(name, "if") || !strcmp(name, "ifdef") || !strcmp(name, "ifndef")) {
		t->pp = PP_IF;
		if (!strcmp(name, "if")) {
			while (cur(L) == ' ' || cur(L) == '\t')
				adv(L);
			if (cur(L) == '0') {
				adv(L);
				while (is_blank(cur(L)))
					adv(L);
				c = cur(L);
				*if0 = c == -1 || c == '\n' || c == '/';
			}
		}
	} else if (!strcmp(name, "elif") || !strcmp(name, "elifdef") || !strcmp(name, "elifndef")) {
		t->pp = PP_ELIF;
	} else if (!strcmp(name, "else")) {
		t->pp = PP_ELSE;
	} else if (!strcmp(name, "endif")) {
		t->pp = PP_ENDIF;
	}
	for (;;) {
		c = cur(L);
		if (c == -1 || c == '\n')
			return 0;
		if (c == '/' && peek(L) == '*') {
			if ((rc = lex_block_comment(L)))
				return rc;
		} else if (c == '/' && peek(L) == '/') {
			lex_line_comment(L);
		} else if (c == '"' || c == '\'') {
			lex_quoted(L, c, true);
		} else {
			adv(L);
		}
	}
}

static int tok_push(struct file *f, const struct tok *t)
{
	if (grow((void **)&f->toks, &f->captoks, f->ntoks + 1, sizeof(*t)))
		return -ENOMEM;
	f->toks[f->ntoks++] = *t;
	return 0;
}

/* Whether a directive is kept for the analysis, keeping track of `#if 0` groups. */
static bool directive_kept(struct lexer *L, int pp, bool if0)
{
	switch (pp) {
	case PP_IF:
		if (L->skip) {
			L->skip++;
			return false;
		}
		if (if0)
			L->skip = 1;
		return true;
	case PP_ELIF:
	case PP_ELSE:
		if (L->skip > 1)
			return false;
		L->skip = 0;
		return true;
	case PP_ENDIF:
		if (L->skip > 1) {
			L->skip--;
			return false;
		}
		L->skip = 0;
		return true;
	default:
		return !L->skip;
	}
}

static bool is_string_prefix(const char *p, bool *raw)
{
	static const char *const plain[] = { "L", "u", "U", "u8", NULL };
	static const char *const rawp[] = { "R", "LR", "uR", "UR", "u8R", NULL };

	for (size_t i = 0; rawp[i]; i++)
		if (!strcmp(p, rawp[i])) {
			*raw = true;
			return true;
		}
	for (size_t i = 0; plain[i]; i++)
		if (!strcmp(p, plain[i])) {
			*raw = false;
			return true;
		}
	return false;
}

static int lex_file(struct file *f, char *err, size_t err_len)
{
	struct lexer L = { .s = f->text, .n = f->len, .line = 1, .f = f, .err = err, .err_len = err_len };
	bool line_start = true, spaced = true;
	int c, rc = 0;

	skip_splices(&L);
	while ((c = cur(&L)) != -1) {
		struct tok t;

		if (c == '\n') {
			line_start = spaced = true;
			adv(&L);
			continue;
		}
		if (is_blank(c)) {
			spaced = true;
			adv(&L);
			continue;
		}
		if (c == '/' && peek(&L) == '/') {
			lex_line_comment(&L);
			spaced = true;
			continue;
		}
		if (c == '/' && peek(&L) == '*') {
			if ((rc = lex_block_comment(&L)))
				return rc;
			spaced = true;
			continue;
		}
		memset(&t, 0, sizeof(t));
		t.start = L.p;
		t.line = L.line;
		t.spaced = spaced;
		if (c == '#' && line_start) {
			bool if0;

			t.kind = TK_PP;
			if ((rc = lex_directive(&L, &t, &if0)))
				return rc;
			t.end = L.p;
			if (directive_kept(&L, t.pp, if0) && (rc = tok_push(f, &t)))
				return rc;
			line_start = false;
			spaced = true;
			continue;
		}
		line_start = spaced = false;
		if (is_ident_start(c)) {
			char prefix[8];
			bool raw = false;

			while ((c = cur(&L)) != -1 && is_ident_char(c))
				adv(&L);
			t.end = L.p;
			t.kind = TK_IDENT;
			if ((c == '"' || c == '\'') && tok_text(f, &t, prefix, sizeof(prefix)) < sizeof(prefix) &&
			    is_string_prefix(prefix, &raw) && (c == '"' || !raw)) {
				t.kind = TK_STRING;
				t.raw = raw;
				rc = raw ? lex_raw(&L, L.skip > 0) : lex_quoted(&L, c, L.skip > 0);
			}
		} else if (is_digit(c) || (c == '.' && is_digit(peek(&L)))) {
			int prev = c;

			t.kind = TK_NUMBER;
			adv(&L);
			for (;;) {
				c = cur(&L);
				if (is_ident_char(c) || c == '.') {
					prev = c;
					adv(&L);
				} else if ((c == '+' || c == '-') && (prev == 'e' || prev == 'E' || prev == 'p' ||
								   prev == 'P')) {
					prev = c;
					adv(&L);
				} else if (c == '\'' && is_ident_char(peek(&L))) {
					/* a digit separator, 1'000'000 */
					prev = c;
					adv(&L);
				} else {
					break;
				}
			}
		} else if (c == '"' || c == '\'') {
			t.kind = TK_STRING;
			rc = lex_quoted(&L, c, L.skip > 0);
		} else {
			t.kind = TK_PUNCT;
			t.punct = c;
			adv(&L);
			if (c == ':' && cur(&L) == ':') {
				t.punct = P_SCOPE;
				adv(&L);
			} else if (c == '-' && cur(&L) == '>') {
				t.punct = P_ARROW;
				adv(&L);
			}
		}
		if (rc)
			return rc;
		t.end = L.p;
		if (!L.skip && (rc = tok_push(f, &t)))
			return rc;
	}
	return 0;
}

/* ---- finding function definitions ------------------------------------- */

static bool is_punct(const struct tok *t, int p)
{
	return t->kind == TK_PUNCT && t->punct == p;
}

static bool is_open(const struct tok *t)
{
	return is_punct(t, '(') || is_punct(t, '[') || is_punct(t, '{');
}

static bool is_close(const struct tok *t)
{
	return is_punct(t, ')') || is_punct(t, ']') || is_punct(t, '}');
}

/* Words that can stand before a '(' without naming a function. */
static const char *const not_names[] = {
	"if", "while", "for", "switch", "return", "sizeof", "alignof", "alignas", "decltype",
	"static_assert", "__attribute__", "__declspec", "noexcept", "throw", "catch", "typeof",
	"__typeof__", "asm", "__asm__", "__asm", "new", "delete", "void", "char", "short", "int",
	"long", "float", "double", "bool", "signed", "unsigned", "auto", "const", "volatile", "case",
	"do", "else", "goto", "typeid", "_Pragma", "__pragma", "operator", "template", NULL,
};

static const char *const qualifiers[] = { "const", "volatile", "override", "final", "noexcept", NULL };
static const char *const spec_calls[] = { "noexcept", "throw", NULL };
/* Words with parentheses that can be part of a declaration's specifiers. */
static const char *const spec_words[] = { "__attribute__", "__declspec", "alignas", "_Alignas",
					   "decltype", "sizeof", "alignof", "typeof", "__typeof__", NULL };

/*
 * Whether tokens [s, e) before a '{' at file scope declare a function
 * (*shaped: the place for the prototypes may be no later than this), and
 * whether it is one that gets a prototype (docs/sketch-build.md).
 */
static int classify(struct prep *P, const struct file *f, size_t s, size_t e, bool *shaped, bool *proto,
		    size_t *pstart)
{
	const struct tok *v = f->toks;
	bool has_pp = false, has_eq = false, has_colon = false, has_op = false, has_other = false;
	size_t m = 0, end, g, first = 0;
	long j, d;

	*shaped = *proto = false;
	*pstart = s;
	for (size_t i = s; i < e; i++) {
		const struct tok *t = &v[i];

		if (t->kind == TK_PP) {
			has_pp = true;
			continue;
		}
		if (grow((void **)&P->items, &P->capitems, m + 1, sizeof(*P->items)))
			return -ENOMEM;
		if (is_punct(t, '(') || is_punct(t, '[')) {
			size_t k;

			d = 0;
			for (k = i; k < e; k++) {
				if (is_open(&v[k]))
					d++;
				else if (is_close(&v[k]) && --d == 0)
					break;
			}
			if (k >= e)
				return 0;
			P->items[m++] = (struct item){ i, k, true };
			i = k;
			continue;
		}
		if (is_punct(t, '='))
			has_eq = true;
		else if (is_punct(t, ':'))
			has_colon = true;
		else if (is_punct(t, '{') || is_punct(t, '}'))
			has_other = true;
		else if (tok_is(f, t, "operator"))
			has_op = true;
		else if (tok_is(f, t, "template") || tok_is(f, t, "typedef"))
			has_other = true;
		P->items[m++] = (struct item){ i, i, false };
	}
	if (has_eq && !has_op)
		return 0; /* an initializer: `auto f = [](int x) {` */

	/* Back over what may follow the parameter list: -> type, const, noexcept(...). */
	end = m;
	for (size_t k = 0; k < m; k++)
		if (!P->items[k].group && is_punct(&v[P->items[k].a], P_ARROW)) {
			end = k;
			break;
		}
	j = (long)end - 1;
	while (j >= 0) {
		const struct item *it = &P->items[j];

		if (!it->group && (tok_in(f, &v[it->a], qualifiers) || is_punct(&v[it->a], '&'))) {
			j--;
			continue;
		}
		if (it->group && is_punct(&v[it->a], '(') && j >= 1 && !P->items[j - 1].group &&
		    tok_in(f, &v[P->items[j - 1].a], spec_calls)) {
			j -= 2;
			continue;
		}
		break;
	}
	if (j < 0 || !P->items[j].group || !is_punct(&v[P->items[j].a], '('))
		return 0;
	*shaped = true;
	g = (size_t)j;
	if (has_pp || has_op || has_colon || has_other)
		return 0;
	/* A macro call in front (`MAKE(x) void f() {`, a line without its ';')
	 * is not repeated: the prototype starts after it. Template arguments
	 * (`std::function<String(int)> f() {`) are not macro calls. */
	d = 0;
	for (size_t k = 0; k + 1 < g; k++) {
		const struct item *it = &P->items[k];

		if (!it->group && is_punct(&v[it->a], '<'))
			d++;
		else if (!it->group && is_punct(&v[it->a], '>') && d > 0)
			d--;
		else if (d == 0 && k > 0 && it->group && is_punct(&v[it->a], '(') && !P->items[k - 1].group &&
			 v[P->items[k - 1].a].kind == TK_IDENT &&
			 !tok_in(f, &v[P->items[k - 1].a], spec_words) &&
			 !tok_in(f, &v[P->items[k - 1].a], not_names))
			first = k + 1;
	}
	if (g < first + 2)
		return 0; /* no return type: a macro such as ISR(TIMER1_vect) */
	if (P->items[g - 1].group || v[P->items[g - 1].a].kind != TK_IDENT ||
	    tok_in(f, &v[P->items[g - 1].a], spec_words) ||
	    tok_in(f, &v[P->items[g - 1].a], not_names))
		return 0;
	if (!P->items[g - 2].group &&
	    (is_punct(&v[P->items[g - 2].a], P_SCOPE) || is_punct(&v[P->items[g - 2].a], '~')))
		return 0; /* a member defined outside its class */
	d = 0;
	for (size_t i = P->items[g].a; i <= P->items[g].b; i++) {
		if (is_open(&v[i]))
			d++;
		else if (is_close(&v[i]))
			d--;
		else if (d == 1 && is_punct(&v[i], '='))
			return 0; /* default arguments: a second declaration could not repeat them */
	}
	*proto = true;
	*pstart = P->items[first].a;
	return 0;
}

static int new_node(struct prep *P, int parent, int prev, size_t file, size_t tok)
{
	if (P->nnodes >= INT32_MAX ||
	    grow((void **)&P->nodes, &P->capnodes, P->nnodes + 1, sizeof(*P->nodes)))
		return -ENOMEM;
	P->nodes[P->nnodes] = (struct node){ parent, prev, parent < 0 ? 1 : P->nodes[parent].depth + 1,
					      file, tok };
	return (int)P->nnodes++;
}

static int see_definition(struct prep *P, size_t fi, long s, size_t e, int node)
{
	struct func fn;
	bool shaped, proto;
	size_t p;
	int rc;

	if (s < 0 || (size_t)s >= e)
		return 0;
	if ((rc = classify(P, &P->files[fi], (size_t)s, e, &shaped, &proto, &p)))
		return rc;
	fn = (struct func){ fi, (size_t)s, p, e, node };
	if (shaped && !P->have_first) {
		P->first = fn;
		P->have_first = true;
	}
	if (!proto)
		return 0;
	if (grow((void **)&P->funcs, &P->capfuncs, P->nfuncs + 1, sizeof(*P->funcs)))
		return -ENOMEM;
	P->funcs[P->nfuncs++] = fn;
	return 0;
}

struct scan {
	long depth, paren, decl; /* decl: first token of the declaration being read, or -1 */
	unsigned open_line;      /* where the outermost open brace is */
};

/*
 * The text of each branch of a conditional is followed as if it were the
 * only one: braces are counted from where the group began, and after #endif
 * the first branch's count goes on (`#ifdef A void f() { #else void f(int
 * x) { #endif ... }` is balanced).
 */
struct group {
	struct scan at_if, first_end;
	bool ended_first;
	int node;
};

static int scan_file(struct prep *P, size_t fi)
{
	struct file *f = &P->files[fi];
	struct scan st = { 0, 0, -1, 0 };
	struct group *groups = NULL;
	size_t ngroups = 0, capgroups = 0;
	int node = -1, rc = 0;

	for (size_t i = 0; i < f->ntoks && !rc; i++) {
		const struct tok *t = &f->toks[i];
		struct group *gr;
		int nn;

		if (t->kind == TK_PP) {
			switch (t->pp) {
			case PP_IF:
				if (grow((void **)&groups, &capgroups, ngroups + 1, sizeof(*groups)) ||
				    (nn = new_node(P, node, -1, fi, i)) < 0) {
					rc = -ENOMEM;
					break;
				}
				groups[ngroups++] = (struct group){ st, st, false, nn };
				node = nn;
				break;
			case PP_ELIF:
			case PP_ELSE:
				if (!ngroups)
					break;
				gr = &groups[ngroups - 1];
				if (!gr->ended_first) {
					gr->first_end = st;
					gr->ended_first = true;
				}
				st = gr->at_if;
				if ((nn = new_node(P, P->nodes[gr->node].parent, gr->node, fi, i)) < 0) {
					rc = -ENOMEM;
					break;
				}
				gr->node = node = nn;
				break;
			case PP_ENDIF:
				if (!ngroups)
					break;
				gr = &groups[--ngroups];
				if (gr->ended_first)
					st = gr->first_end;
				node = P->nodes[gr->node].parent;
				break;
			}
			continue;
		}
		if (st.decl < 0 && st.depth == 0)
			st.decl = (long)i;
		if (t->kind != TK_PUNCT)
			continue;
		switch (t->punct) {
		case '(':
		case '[':
			st.paren++;
			break;
		case ')':
		case ']':
			if (st.paren)
				st.paren--;
			break;
		case '{':
			if (st.depth == 0) {
				if (st.paren == 0)
					rc = see_definition(P, fi, st.decl, i, node);
				st.open_line = t->line;
			}
			st.depth++;
			break;
		case '}':
			if (st.depth == 0) {
				rc = fail(P->err, P->err_len, f->path, t->line, "'}' without a matching '{'");
				break;
			}
			if (--st.depth == 0 && st.paren == 0)
				st.decl = -1;
			break;
		case ';':
			if (st.depth == 0 && st.paren == 0)
				st.decl = -1;
			break;
		}
	}
	if (!rc && st.depth > 0)
		rc = fail(P->err, P->err_len, f->path, st.open_line, "'{' is never closed");
	free(groups);
	return rc;
}

/* ---- writing the translation unit ------------------------------------- */

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n >= SIZE_MAX - b->len || grow((void **)&b->s, &b->cap, b->len + n + 1, 1)) {
		b->oom = true;
		return;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* The path as a C string literal, so that any file name survives #line. */
static void put_line(struct buf *b, unsigned line, const char *path)
{
	char num[32];

	snprintf(num, sizeof(num), "#line %u \"", line);
	puts_(b, num);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		char esc[8];

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(b, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\%03o", *p);
			puts_(b, esc);
		} else {
			put(b, (const char *)p, 1);
		}
	}
	puts_(b, "\"\n");
}

/* Whether text ends in a backslash that would splice the next line we write onto it. */
static bool ends_in_splice(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return n && s[n - 1] == '\\';
}

static void put_directive(struct buf *b, const struct prep *P, int node)
{
	const struct file *f = &P->files[P->nodes[node].file];
	const struct tok *t = &f->toks[P->nodes[node].tok];

	put(b, f->text + t->start, t->end - t->start);
	puts_(b, ends_in_splice(f->text + t->start, t->end - t->start) ? "\n\n" : "\n");
}

static void put_prototype(struct buf *b, const struct prep *P, const struct func *fn)
{
	const struct file *f = &P->files[fn->file];

	for (size_t i = fn->p; i < fn->e; i++) {
		const struct tok *t = &f->toks[i];

		if (i > fn->p && t->spaced)
			puts_(b, " ");
		if (t->raw || t->kind == TK_STRING) {
			put(b, f->text + t->start, t->end - t->start);
		} else {
			char small[64];
			size_t len = tok_text(f, t, small, sizeof(small));

			if (len < sizeof(small)) {
				put(b, small, len);
			} else {
				/* long names: copy byte by byte, leaving splices out */
				for (size_t p = t->start, k; p < t->end;) {
					if ((k = splice_at(f->text, t->end, p))) {
						p += k;
						continue;
					}
					put(b, f->text + p, 1);
					p++;
				}
			}
		}
	}
	puts_(b, ";\n");
}

static int lca(const struct prep *P, int a, int b)
{
	while (a != b) {
		int da = a < 0 ? 0 : P->nodes[a].depth, db = b < 0 ? 0 : P->nodes[b].depth;

		if (da >= db)
			a = P->nodes[a].parent;
		else
			b = P->nodes[b].parent;
	}
	return a;
}

/*
 * Each prototype is wrapped in the conditional branches its function is in
 * (below @top, which the insertion point is already inside), and numbered
 * as its function's first line, so that a bad prototype is reported there.
 */
static int put_prototypes(struct buf *b, const struct prep *P, int top)
{
	int *chain = NULL, *branches = NULL;
	size_t capchain = 0, capbranches = 0;

	for (size_t i = 0; i < P->nfuncs; i++) {
		const struct func *fn = &P->funcs[i];
		const struct file *f = &P->files[fn->file];
		size_t nchain = 0;

		for (int n = fn->node; n != top; n = P->nodes[n].parent) {
			if (grow((void **)&chain, &capchain, nchain + 1, sizeof(*chain)))
				goto oom;
			chain[nchain++] = n;
		}
		for (size_t k = nchain; k-- > 0;) {
			size_t nbr = 0;

			for (int n = chain[k]; n >= 0; n = P->nodes[n].prev) {
				if (grow((void **)&branches, &capbranches, nbr + 1, sizeof(*branches)))
					goto oom;
				branches[nbr++] = n;
			}
			while (nbr-- > 0)
				put_directive(b, P, branches[nbr]);
		}
		put_line(b, f->toks[fn->p].line, f->path);
		put_prototype(b, P, fn);
		for (size_t k = 0; k < nchain; k++)
			puts_(b, "#endif\n");
	}
	free(chain);
	free(branches);
	return 0;
oom:
	free(chain);
	free(branches);
	return -ENOMEM;
}

static int write_unit(const struct prep *P, struct buf *b)
{
	size_t ins_file = SIZE_MAX, ins_off = 0;
	unsigned ins_line = 0;
	int top = -1, rc;

	if (P->nfuncs) {
		const struct file *f;
		size_t tok = P->first.s;

		top = P->first.node;
		for (size_t i = 0; i < P->nfuncs; i++)
			top = lca(P, top, P->funcs[i].node);
		ins_file = P->first.file;
		if (P->first.node != top) {
			/* The first definition is in a branch not every prototype is in:
			 * go before the whole group. */
			int n = P->first.node;

			while (P->nodes[n].parent != top)
				n = P->nodes[n].parent;
			while (P->nodes[n].prev >= 0)
				n = P->nodes[n].prev;
			ins_file = P->nodes[n].file;
			tok = P->nodes[n].tok;
		}
		f = &P->files[ins_file];
		ins_off = f->toks[tok].start;
		ins_line = f->toks[tok].line;
	}

	puts_(b, "#include <Arduino.h>\n");
	for (size_t fi = 0; fi < P->nfiles; fi++) {
		const struct file *f = &P->files[fi];

		put_line(b, 1, f->path);
		if (fi == ins_file) {
			size_t ls = ins_off, cut = ins_off;
			bool blank = true;

			while (ls > 0 && f->text[ls - 1] != '\n')
				ls--;
			for (size_t k = ls; k < ins_off; k++)
				if (!is_blank((unsigned char)f->text[k]))
					blank = false;
			/* Whole lines in front of it when it starts its line; otherwise
			 * the line is broken in two, and the #line after the prototypes
			 * numbers its second half. */
			if (blank && !(ls > 0 && ends_in_splice(f->text, ls)))
				cut = ls;
			put(b, f->text, cut);
			if (cut != ls)
				puts_(b, "\n");
			if ((rc = put_prototypes(b, P, top)))
				return rc;
			put_line(b, ins_line, f->path);
			put(b, f->text + cut, f->len - cut);
		} else {
			put(b, f->text, f->len);
		}
		if (f->len && f->text[f->len - 1] != '\n')
			puts_(b, "\n");
		if (ends_in_splice(f->text, f->len))
			puts_(b, "\n");
	}
	return b->oom ? -ENOMEM : 0;
}

static int cmp_paths(const void *a, const void *b)
{
	const struct sketch_source *x = *(const struct sketch_source *const *)a;
	const struct sketch_source *y = *(const struct sketch_source *const *)b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x < y ? -1 : x > y);
}

int sketch_prep_ino(const struct sketch_source *ino, size_t n, char **out, size_t *out_len,
		    char *err, size_t err_len)
{
	const struct sketch_source **order = NULL;
	struct prep P;
	struct buf b = { 0 };
	int rc = 0;

	if (err && err_len)
		err[0] = '\0';
	if (!out || !out_len || (n && !ino)) {
		if (err && err_len)
			snprintf(err, err_len, "sketch_prep_ino: no output given");
		return -EINVAL;
	}
	*out = NULL;
	*out_len = 0;
	if (n == 0) {
		if (err && err_len)
			snprintf(err, err_len, "a sketch needs at least one .ino file");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!ino[i].path || (!ino[i].text && ino[i].len)) {
			if (err && err_len)
				snprintf(err, err_len, "sketch file %zu has no path or no text", i);
			return -EINVAL;
		}

	memset(&P, 0, sizeof(P));
	P.err = err;
	P.err_len = err_len;
	order = calloc(n, sizeof(*order));
	P.files = calloc(n, sizeof(*P.files));
	if (!order || !P.files) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &ino[i];
	qsort(order + 1, n - 1, sizeof(*order), cmp_paths);
	P.nfiles = n;
	for (size_t i = 0; i < n; i++) {
		struct file *f = &P.files[i];

		f->path = order[i]->path;
		f->text = order[i]->text ? order[i]->text : "";
		f->len = order[i]->len;
		/* A byte order mark is only skipped at the very start of what the compiler reads. */
		if (f->len >= 3 && !memcmp(f->text, "\xEF\xBB\xBF", 3)) {
			f->text += 3;
			f->len -= 3;
		}
		if ((rc = lex_file(f, err, err_len)) || (rc = scan_file(&P, i)))
			goto out;
	}
	if ((rc = write_unit(&P, &b)))
		goto out;
	if (!b.s)
		put(&b, "", 0);
	if (b.oom) {
		rc = -ENOMEM;
		goto out;
	}
	*out = b.s;
	*out_len = b.len;
	b.s = NULL;
out:
	if (rc == -ENOMEM && err && err_len)
		snprintf(err, err_len, "out of memory preparing the sketch");
	free(b.s);
	for (size_t i = 0; P.files && i < P.nfiles; i++)
		free(P.files[i].toks);
	free(P.files);
	free(P.nodes);
	free(P.funcs);
	free(P.items);
	free(order);
	return rc;
}
