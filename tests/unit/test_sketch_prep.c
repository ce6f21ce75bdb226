/* The .ino preprocessor: joining, prototypes, what the tokenizer must not be fooled by, and #line numbering. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sketch_prep.h"

/* The tutorial whose ESP32 sketch only compiles with generated prototypes. */
#ifndef TUTORIAL_PATH
#define TUTORIAL_PATH "/work/shared/reference/000_864c6e127afc3490.txt"
#endif

static char *prep_n(const struct sketch_source *src, size_t n)
{
	char *out = NULL, err[256];
	size_t len = 0;
	int rc = sketch_prep_ino(src, n, &out, &len, err, sizeof(err));

	if (rc)
		fail_msg("sketch_prep_ino: %d: %s", rc, err);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static char *prep1(const char *text)
{
	struct sketch_source s = { "a.ino", text, strlen(text) };

	return prep_n(&s, 1);
}

static int prep_err(const char *text, char *err, size_t err_len)
{
	struct sketch_source s = { "a.ino", text, strlen(text) };
	char *out = (char *)"untouched";
	size_t len = 1;
	int rc = sketch_prep_ino(&s, 1, &out, &len, err, err_len);

	assert_null(out);
	return rc;
}

/* Where a whole line equal to @line starts, or NULL. */
static const char *find_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; p && *p;) {
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static bool has_line(const char *out, const char *line)
{
	return find_line(out, line) != NULL;
}

static void assert_before(const char *out, const char *first, const char *second)
{
	const char *a = find_line(out, first), *b = find_line(out, second);

	if (!a || !b || a >= b)
		fail_msg("expected line \"%s\" before \"%s\" in:\n%s", first, second, out);
}

static size_t count_lines_starting(const char *out, const char *prefix)
{
	size_t n = 0, k = strlen(prefix);

	for (const char *p = out; p && *p;) {
		if (!strncmp(p, prefix, k))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

static char *dup_line(const char *p)
{
	size_t n = strcspn(p, "\n");
	char *s = malloc(n + 1);

	assert_non_null(s);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/*
 * What the compiler would say: every line of every source file is found in
 * the output at the file and line that the #line directives give it.
 */
static void assert_numbering(const char *out, const struct sketch_source *src, size_t n)
{
	for (size_t f = 0; f < n; f++) {
		const char *p = src[f].text;
		unsigned line = 1;

		while (p < src[f].text + src[f].len) {
			char *want = dup_line(p);
			bool found = false;
			const char *file = NULL;
			size_t file_len = 0;
			unsigned at = 0;

			for (const char *o = out; *o && !found;) {
				char *got = dup_line(o);

				if (!strncmp(got, "#line ", 6)) {
					char *q = strchr(got, '"');

					at = (unsigned)strtoul(got + 6, NULL, 10);
					file = q ? o + (q - got) + 1 : NULL;
					file_len = q ? strcspn(file, "\"") : 0;
				} else {
					if (file && file_len == strlen(src[f].path) &&
					    !strncmp(file, src[f].path, file_len) && at == line && !strcmp(got, want))
						found = true;
					at++;
				}
				free(got);
				o += strcspn(o, "\n");
				if (*o)
					o++;
			}
			if (!found)
				fail_msg("%s:%u \"%s\" is not at its own line in:\n%s", src[f].path, line, want, out);
			free(want);
			p += strcspn(p, "\n");
			if (*p)
				p++;
			line++;
		}
	}
}

static void assert_numbering1(const char *out, const char *text)
{
	struct sketch_source s = { "a.ino", text, strlen(text) };

	assert_numbering(out, &s, 1);
}

static void test_sketch_prep_adds_arduino_h_and_line_1(void **state)
{
	char *out;

	(void)state;
	out = prep1("int x;\n");
	assert_string_equal(out, "#include <Arduino.h>\n#line 1 \"a.ino\"\nint x;\n");
	free(out);
}

static void test_sketch_prep_joins_main_first_then_alphabetical(void **state)
{
	struct sketch_source s[] = {
		{ "/s/main/main.ino", "int m;\n", 7 },
		{ "/s/main/zeta.ino", "int z;\n", 7 },
		{ "/s/main/alpha.ino", "int a;", 6 }, /* no final newline */
	};
	char *out;

	(void)state;
	out = prep_n(s, 3);
	assert_string_equal(out, "#include <Arduino.h>\n"
				 "#line 1 \"/s/main/main.ino\"\nint m;\n"
				 "#line 1 \"/s/main/alpha.ino\"\nint a;\n"
				 "#line 1 \"/s/main/zeta.ino\"\nint z;\n");
	free(out);
}

static void test_sketch_prep_prototypes_before_first_definition(void **state)
{
	static const char text[] = "#include <Wire.h>\n"
				   "int counter = 0;\n"
				   "\n"
				   "void setup() {\n"
				   "  helper(3);\n"
				   "}\n"
				   "\n"
				   "int helper(int n) {\n"
				   "  return n * 2;\n"
				   "}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_string_equal(out, "#include <Arduino.h>\n"
				 "#line 1 \"a.ino\"\n"
				 "#include <Wire.h>\n"
				 "int counter = 0;\n"
				 "\n"
				 "#line 4 \"a.ino\"\n"
				 "void setup();\n"
				 "#line 8 \"a.ino\"\n"
				 "int helper(int n);\n"
				 "#line 4 \"a.ino\"\n"
				 "void setup() {\n"
				 "  helper(3);\n"
				 "}\n"
				 "\n"
				 "int helper(int n) {\n"
				 "  return n * 2;\n"
				 "}\n");
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_setup_and_loop_get_prototypes(void **state)
{
	char *out;

	(void)state;
	out = prep1("void loop() {}\nvoid setup() {}\n");
	assert_before(out, "void loop();", "void setup();");
	assert_before(out, "void setup();", "void loop() {}");
	free(out);
}

static void test_sketch_prep_line_numbers_match_every_file(void **state)
{
	static const char m[] = "// main\n"
				"#define LED 13\n"
				"\n"
				"void setup() {\n"
				"  pinMode(LED, OUTPUT);\n"
				"}\n"
				"void loop() { blink(); }\n";
	static const char b[] = "/* the blinker */\n"
				"static int state;\n"
				"\n"
				"\n"
				"void blink()\n"
				"{\n"
				"  state = !state;\n"
				"}\n";
	static const char c[] = "int cdef(int a,\n"
				"         int b) {\n"
				"  return a + b;\n"
				"}\n";
	struct sketch_source s[] = { { "m/m.ino", m, sizeof(m) - 1 },
				     { "m/c.ino", c, sizeof(c) - 1 },
				     { "m/b.ino", b, sizeof(b) - 1 } };
	char *out;

	(void)state;
	out = prep_n(s, 3);
	assert_numbering(out, s, 3);
	assert_true(has_line(out, "void blink();"));
	assert_true(has_line(out, "int cdef(int a, int b);"));
	/* Each prototype is numbered as its function, in its own file. */
	assert_before(out, "#line 5 \"m/b.ino\"", "void blink();");
	assert_before(out, "void blink();", "#line 1 \"m/b.ino\"");
	assert_non_null(strstr(out, "#line 5 \"m/b.ino\"\nvoid blink();\n"));
	assert_non_null(strstr(out, "#line 1 \"m/c.ino\"\nint cdef(int a, int b);\n"));
	/* And then the first definition gets its own number back. */
	assert_non_null(strstr(out, ");\n#line 4 \"m/m.ino\"\nvoid setup() {\n"));
	free(out);
}

static void test_sketch_prep_ignores_comments(void **state)
{
	static const char text[] = "// void commented() {\n"
				   "/* void blocked() {\n"
				   "   } } } */\n"
				   "int /* void inline_c() { */ real(void) { // }\n"
				   "  return 1; /* } */\n"
				   "}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_false(strstr(out, "commented();"));
	assert_false(strstr(out, "blocked();"));
	assert_false(strstr(out, "inline_c();"));
	assert_true(has_line(out, "int real(void);"));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_ignores_strings_and_chars(void **state)
{
	static const char text[] = "const char *s = \"} void str() {\";\n"
				   "const char *e = \"\\\"{\\\\\";\n"
				   "char open = '{', quote = '\\'', close = '}';\n"
				   "const wchar_t *w = L\"{\";\n"
				   "void after() {\n"
				   "  Serial.print(\"}\");\n"
				   "}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_false(strstr(out, "str();"));
	assert_true(has_line(out, "void after();"));
	assert_before(out, "const wchar_t *w = L\"{\";", "void after();");
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_ignores_raw_strings(void **state)
{
	static const char text[] = "const char *page = R\"html(<p>\n"
				   "void fake() { )\" }\n"
				   ")html\";\n"
				   "const char *u = u8R\"({)\";\n"
				   "void serve() {\n"
				   "}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_false(strstr(out, "fake();"));
	assert_true(has_line(out, "void serve();"));
	assert_non_null(strstr(out, "#line 5 \"a.ino\"\nvoid serve() {"));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_ignores_preprocessor_lines(void **state)
{
	static const char text[] = "#define MAKE(name) void name() { \\\n"
				   "    work(); \\\n"
				   "  }\n"
				   "#define OPEN {\n"
				   "#pragma once // void pragma() {\n"
				   "#error \"don't\" { \n"
				   "MAKE(generated)\n"
				   "void real() {}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_false(strstr(out, "name();"));
	assert_false(strstr(out, "generated();"));
	/* The macro call has no ';': the prototype leaves it out. */
	assert_true(has_line(out, "void real();"));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_nested_braces(void **state)
{
	static const char text[] = "void outer() {\n"
				   "  if (a) {\n"
				   "    while (b) { { } }\n"
				   "  }\n"
				   "  struct Local { void method() { } };\n"
				   "  auto l = [](int x) { return x; };\n"
				   "}\n"
				   "void next() {}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_true(has_line(out, "void outer();"));
	assert_true(has_line(out, "void next();"));
	assert_false(strstr(out, "method();"));
	assert_int_equal(count_lines_starting(out, "#line"), 4); /* file, 2 prototypes, back */
	free(out);
}

static void test_sketch_prep_parameters_across_lines(void **state)
{
	static const char text[] = "static\n"
				   "unsigned long\n"
				   "scaled(unsigned long v,   // the value\n"
				   "       /* factor */ int k,\n"
				   "       const char *unit)\n"
				   "{\n"
				   "  return v * k;\n"
				   "}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_true(has_line(out, "static unsigned long scaled(unsigned long v, int k, const char *unit);"));
	assert_non_null(strstr(out, "#line 1 \"a.ino\"\nstatic unsigned long scaled("));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_qualifiers_after_parameters(void **state)
{
	char *out;

	(void)state;
	out = prep1("int pure() const { return 1; }\n"
		    "void safe() noexcept {}\n"
		    "void cond() noexcept(true) {}\n"
		    "auto trailing(int x) -> long { return x; }\n"
		    "void old() throw() {}\n");
	assert_true(has_line(out, "int pure() const;"));
	assert_true(has_line(out, "void safe() noexcept;"));
	assert_true(has_line(out, "void cond() noexcept(true);"));
	assert_true(has_line(out, "auto trailing(int x) -> long;"));
	assert_true(has_line(out, "void old() throw();"));
	free(out);
}

static void test_sketch_prep_return_types(void **state)
{
	char *out;

	(void)state;
	out = prep1("std::vector<int> list() { return {}; }\n"
		    "const std::map<String, int> &table() { static std::map<String, int> t; return t; }\n"
		    "char *name(int i) { return 0; }\n"
		    "int& counter() { static int c; return c; }\n"
		    "unsigned long now_ms() { return millis(); }\n"
		    "static inline int sq(int x) { return x * x; }\n"
		    "inline uint8_t pin() { return 13; }\n"
		    "void IRAM_ATTR onTimer() {}\n"
		    "extern \"C\" void c_linkage(void) {}\n"
		    "struct Point origin() { return Point(); }\n"
		    "const char * const *names() { return 0; }\n"
		    "std::function<String(int)> handler() { return nullptr; }\n"
		    "std::function<void(int)> plain_handler() { return nullptr; }\n"
		    "__attribute__((weak)) void hook() {}\n");
	assert_true(has_line(out, "std::vector<int> list();"));
	assert_true(has_line(out, "const std::map<String, int> &table();"));
	assert_true(has_line(out, "char *name(int i);"));
	assert_true(has_line(out, "int& counter();"));
	assert_true(has_line(out, "unsigned long now_ms();"));
	assert_true(has_line(out, "static inline int sq(int x);"));
	assert_true(has_line(out, "inline uint8_t pin();"));
	assert_true(has_line(out, "void IRAM_ATTR onTimer();"));
	assert_true(has_line(out, "extern \"C\" void c_linkage(void);"));
	assert_true(has_line(out, "struct Point origin();"));
	assert_true(has_line(out, "const char * const *names();"));
	assert_true(has_line(out, "std::function<String(int)> handler();"));
	assert_true(has_line(out, "std::function<void(int)> plain_handler();"));
	assert_true(has_line(out, "__attribute__((weak)) void hook();"));
	free(out);
}

static void test_sketch_prep_skips_namespaces_classes_structs(void **state)
{
	static const char text[] = "namespace util {\n"
				   "int inner() { return 1; }\n"
				   "}\n"
				   "class Motor {\n"
				   "public:\n"
				   "  void run() { speed = 1; }\n"
				   "  int speed;\n"
				   "};\n"
				   "struct Pt { int get() const { return 0; } };\n"
				   "union U { int a; float b; };\n"
				   "enum class Mode : uint8_t { A, B };\n"
				   "void top() {}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_false(strstr(out, "inner();"));
	assert_false(strstr(out, "run();"));
	assert_false(strstr(out, "get() const;"));
	assert_true(has_line(out, "void top();"));
	assert_before(out, "void top();", "void top() {}");
	assert_before(out, "enum class Mode : uint8_t { A, B };", "void top();");
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_skips_templates(void **state)
{
	char *out;

	(void)state;
	out = prep1("template <typename T>\n"
		    "T twice(T v) { return v + v; }\n"
		    "template <> int twice<int>(int v) { return 2 * v; }\n"
		    "void user() { twice(1); }\n");
	assert_false(strstr(out, "twice(T v);"));
	assert_false(strstr(out, "twice<int>(int v);"));
	assert_true(has_line(out, "void user();"));
	/* The first definition, even one without a prototype, is where they go. */
	assert_non_null(strstr(out, "void user();\n#line 1 \"a.ino\"\ntemplate <typename T>\n"));
	free(out);
}

static void test_sketch_prep_skips_default_arguments(void **state)
{
	char *out;

	(void)state;
	out = prep1("void blink(int times = 3, int ms = 100) {}\n"
		    "void blink_once(int ms) { blink(1, ms); }\n"
		    "bool same(int a, int b) { return a == b; }\n");
	assert_false(strstr(out, "blink(int times = 3, int ms = 100);"));
	assert_true(has_line(out, "void blink_once(int ms);"));
	assert_true(has_line(out, "bool same(int a, int b);"));
	free(out);
}

static void test_sketch_prep_skips_operators(void **state)
{
	char *out;

	(void)state;
	out = prep1("bool operator==(const Pt &a, const Pt &b) { return a.x == b.x; }\n"
		    "Pt operator+(Pt a, Pt b) { return a; }\n"
		    "Print &operator<<(Print &p, int v) { p.print(v); return p; }\n"
		    "void plain() {}\n");
	assert_false(strstr(out, "operator==(const Pt &a, const Pt &b);"));
	assert_false(strstr(out, "operator+(Pt a, Pt b);"));
	assert_false(strstr(out, "operator<<(Print &p, int v);"));
	assert_true(has_line(out, "void plain();"));
	free(out);
}

static void test_sketch_prep_skips_macro_invocations(void **state)
{
	static const char text[] = "volatile int ticks;\n"
				   "ISR(TIMER1_vect) {\n"
				   "  tick();\n"
				   "}\n"
				   "BLYNK_WRITE(V1) { tick(); }\n"
				   "void tick() { ticks++; }\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_false(strstr(out, "ISR(TIMER1_vect);"));
	assert_false(strstr(out, "BLYNK_WRITE(V1);"));
	/* ISR calls tick() before its definition: the prototypes go before ISR. */
	assert_before(out, "void tick();", "ISR(TIMER1_vect) {");
	assert_before(out, "volatile int ticks;", "void tick();");
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_skips_lambdas_and_initializers(void **state)
{
	char *out;

	(void)state;
	out = prep1("auto cb = [](int x) { return x; };\n"
		    "std::function<void(int)> handler = [](int v) { (void)v; };\n"
		    "int table[] = { 1, 2, 3 };\n"
		    "Servo arm{9};\n"
		    "int value(f(1)) ;\n"
		    "void fn() {}\n");
	assert_false(strstr(out, "(int x);"));
	assert_false(strstr(out, "(int v);"));
	assert_int_equal(count_lines_starting(out, "void fn();"), 1);
	/* Nothing before fn is a function: the prototypes go just before it. */
	assert_non_null(strstr(out, "int value(f(1)) ;\n#line 6 \"a.ino\"\nvoid fn();\n#line 6 \"a.ino\"\nvoid fn() {}\n"));
	free(out);
}

static void test_sketch_prep_skips_extern_c_blocks(void **state)
{
	char *out;

	(void)state;
	out = prep1("extern \"C\" {\n"
		    "void c_side(void) {}\n"
		    "}\n"
		    "void cpp_side() {}\n");
	assert_false(strstr(out, "c_side(void);"));
	assert_true(has_line(out, "void cpp_side();"));
	free(out);
}

static void test_sketch_prep_skips_members_defined_outside(void **state)
{
	char *out;

	(void)state;
	out = prep1("void Motor::run() {}\n"
		    "Motor::Motor() : speed(0) {}\n"
		    "Motor::~Motor() {}\n"
		    "void free_fn() {}\n");
	assert_false(strstr(out, "run();"));
	assert_false(strstr(out, "Motor();"));
	assert_true(has_line(out, "void free_fn();"));
	assert_before(out, "void free_fn();", "void Motor::run() {}");
	free(out);
}

static void test_sketch_prep_digit_separators(void **state)
{
	static const char text[] = "const long big = 1'000'000;\n"
				   "const int mask = 0b1111'0000;\n"
				   "void use() { (void)'}'; }\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_true(has_line(out, "void use();"));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_line_splices(void **state)
{
	static const char text[] = "int x = 1 + \\\n"
				   "  2;\n"
				   "void spl\\\n"
				   "iced(int a) {\n"
				   "}\n"
				   "// a comment \\\n"
				   "void hidden() {}\n"
				   "void shown() {}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_true(has_line(out, "void spliced(int a);"));
	assert_false(strstr(out, "hidden();"));
	assert_true(has_line(out, "void shown();"));
	assert_non_null(strstr(out, "#line 3 \"a.ino\"\nvoid spliced(int a);\n"));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_conditional_branches(void **state)
{
	static const char text[] = "#ifdef ESP32\n"
				   "void report(int code) {\n"
				   "#else\n"
				   "void report(long code) {\n"
				   "#endif\n"
				   "  (void)code;\n"
				   "}\n"
				   "#if DEBUG > 1\n"
				   "void trace() {}\n"
				   "#elif DEBUG\n"
				   "void trace(int) {}\n"
				   "#endif\n"
				   "void setup() { report(1); }\n";
	char *out;

	(void)state;
	out = prep1(text);
	/* The branches' braces balance as the compiler sees them. Each prototype
	 * is under its own condition, before the first group. */
	assert_non_null(strstr(out, "#line 1 \"a.ino\"\n"
				    "#ifdef ESP32\n#line 2 \"a.ino\"\nvoid report(int code);\n#endif\n"
				    "#ifdef ESP32\n#else\n#line 4 \"a.ino\"\nvoid report(long code);\n#endif\n"
				    "#if DEBUG > 1\n#line 9 \"a.ino\"\nvoid trace();\n#endif\n"
				    "#if DEBUG > 1\n#elif DEBUG\n#line 11 \"a.ino\"\nvoid trace(int);\n#endif\n"
				    "#line 13 \"a.ino\"\nvoid setup();\n"
				    "#line 1 \"a.ino\"\n#ifdef ESP32\n"));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_whole_sketch_in_one_condition(void **state)
{
	static const char text[] = "#ifdef ESP32\n"
				   "#include <WiFi.h>\n"
				   "void a(WiFiClient &c) {}\n"
				   "void b() {}\n"
				   "#endif\n";
	char *out;

	(void)state;
	out = prep1(text);
	/* Every function is under the same #ifdef: they stay inside it, after the include. */
	assert_before(out, "#include <WiFi.h>", "void a(WiFiClient &c);");
	assert_int_equal(count_lines_starting(out, "#ifdef ESP32"), 1);
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_if0_is_not_code(void **state)
{
	static const char text[] = "#if 0\n"
				   "void unfinished() {\n"
				   "  it's not done\n"
				   "#endif\n"
				   "void done() {}\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_false(strstr(out, "unfinished();"));
	assert_true(has_line(out, "void done();"));
	assert_numbering1(out, text);
	free(out);
}

static void test_sketch_prep_definition_in_the_middle_of_a_line(void **state)
{
	static const char text[] = "struct S { int a; }; int f(S s) { return s.a; }\nint g() { return 0; }\n";
	char *out;

	(void)state;
	out = prep1(text);
	/* The line is broken before f: the prototypes then see S. */
	assert_string_equal(out, "#include <Arduino.h>\n#line 1 \"a.ino\"\n"
				 "struct S { int a; }; \n"
				 "#line 1 \"a.ino\"\nint f(S s);\n"
				 "#line 2 \"a.ino\"\nint g();\n"
				 "#line 1 \"a.ino\"\n"
				 "int f(S s) { return s.a; }\nint g() { return 0; }\n");
	free(out);
}

static void test_sketch_prep_no_functions_no_prototypes(void **state)
{
	char *out;

	(void)state;
	out = prep1("int a = 1;\nISR(TIMER0_vect) {}\n");
	assert_int_equal(count_lines_starting(out, "#line"), 1);
	free(out);
}

static void test_sketch_prep_crlf_and_byte_order_mark(void **state)
{
	static const char text[] = "\xEF\xBB\xBFint x;\r\nvoid f(int a,\r\n int b) {\r\n}\r\n";
	char *out;

	(void)state;
	out = prep1(text);
	assert_non_null(strstr(out, "#line 1 \"a.ino\"\nint x;\r\n"));
	assert_true(has_line(out, "void f(int a, int b);"));
	assert_non_null(strstr(out, "#line 2 \"a.ino\"\nvoid f(int a,\r\n"));
	free(out);
}

static void test_sketch_prep_file_ending_in_backslash(void **state)
{
	static const char a[] = "void a() {}\n// end \\\n", b[] = "void b() {}\n";
	struct sketch_source s[] = { { "a.ino", a, sizeof(a) - 1 }, { "b.ino", b, sizeof(b) - 1 } };
	char *out;

	(void)state;
	out = prep_n(s, 2);
	/* The #line of the next file is not spliced onto the comment. */
	assert_non_null(strstr(out, "// end \\\n\n#line 1 \"b.ino\"\n"));
	free(out);
}

static void test_sketch_prep_paths_are_quoted(void **state)
{
	struct sketch_source s = { "dir \"x\"\\y.ino", "void f() {}\n", 12 };
	char *out;

	(void)state;
	out = prep_n(&s, 1);
	assert_true(has_line(out, "#line 1 \"dir \\\"x\\\"\\\\y.ino\""));
	free(out);
}

static void test_sketch_prep_unclosed_brace_is_an_error(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(prep_err("int x;\n\nvoid loop() {\n  if (x) {\n  }\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a.ino:3: '{' is never closed");
}

static void test_sketch_prep_extra_closing_brace_is_an_error(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(prep_err("void loop() {\n}\n}\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a.ino:3: '}' without a matching '{'");
}

static void test_sketch_prep_unterminated_comment_is_an_error(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(prep_err("int x;\n/* forgot\n\nvoid loop() {}\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a.ino:2: unterminated /* comment");
}

static void test_sketch_prep_unterminated_string_is_an_error(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(prep_err("void loop() {\n  Serial.print(\"oops);\n}\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a.ino:2: unterminated string literal");
	assert_int_equal(prep_err("char c = 'x;\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a.ino:1: unterminated character literal");
	assert_int_equal(prep_err("\n\nconst char *p = R\"x(never ends)\";\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a.ino:3: unterminated raw string literal");
}

static void test_sketch_prep_error_names_the_right_file(void **state)
{
	struct sketch_source s[] = { { "main.ino", "void a() {}\n", 12 }, { "other.ino", "void b() {\n", 11 } };
	char *out = NULL, err[256];
	size_t len;

	(void)state;
	assert_int_equal(sketch_prep_ino(s, 2, &out, &len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "other.ino:1: '{' is never closed");
	assert_null(out);
}

static void test_sketch_prep_bad_arguments(void **state)
{
	char *out = NULL, err[128];
	size_t len;

	(void)state;
	assert_int_equal(sketch_prep_ino(NULL, 0, &out, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at least one .ino"));
	assert_int_equal(sketch_prep_ino(NULL, 0, &out, &len, NULL, 0), -EINVAL);
}

/* The ```cpp block after "Arduino Implementation with WiFi", or NULL. */
static char *tutorial_sketch(void)
{
	FILE *f = fopen(TUTORIAL_PATH, "rb");
	char line[4096], *text = NULL;
	size_t len = 0;
	int stage = 0;

	if (!f)
		return NULL;
	while (stage < 3 && fgets(line, sizeof(line), f)) {
		if (stage == 0 && strstr(line, "Arduino Implementation with WiFi"))
			stage = 1;
		else if (stage == 1 && !strncmp(line, "```cpp", 6))
			stage = 2;
		else if (stage == 2 && !strncmp(line, "```", 3))
			stage = 3;
		else if (stage == 2) {
			size_t n = strlen(line);
			char *t = realloc(text, len + n + 1);

			assert_non_null(t);
			text = t;
			memcpy(text + len, line, n + 1);
			len += n;
		}
	}
	fclose(f);
	if (stage != 3) {
		free(text);
		return NULL;
	}
	return text;
}

static void test_sketch_prep_tutorial_sketch(void **state)
{
	struct sketch_source s;
	char *text = tutorial_sketch(), *out;
	const char *proto, *use;

	(void)state;
	if (!text)
		skip();
	s = (struct sketch_source){ "/sketches/Robot/Robot.ino", text, strlen(text) };
	out = prep_n(&s, 1);
	proto = find_line(out, "void onMessageReceived(char* topic, byte* payload, unsigned int length);");
	use = strstr(out, "client.setCallback(onMessageReceived);");
	assert_non_null(proto);
	assert_non_null(use);
	assert_true(proto < use);
	assert_before(out, "void onMessageReceived(char* topic, byte* payload, unsigned int length);",
		      "void setupWiFi() {");
	assert_before(out, "PubSubClient client(espClient);", "void setupWiFi();");
	assert_true(has_line(out, "void setup();"));
	assert_true(has_line(out, "void loop();"));
	assert_true(has_line(out, "void publishSensorData();"));
	assert_numbering(out, &s, 1);
	free(out);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sketch_prep_adds_arduino_h_and_line_1),
		cmocka_unit_test(test_sketch_prep_joins_main_first_then_alphabetical),
		cmocka_unit_test(test_sketch_prep_prototypes_before_first_definition),
		cmocka_unit_test(test_sketch_prep_setup_and_loop_get_prototypes),
		cmocka_unit_test(test_sketch_prep_line_numbers_match_every_file),
		cmocka_unit_test(test_sketch_prep_ignores_comments),
		cmocka_unit_test(test_sketch_prep_ignores_strings_and_chars),
		cmocka_unit_test(test_sketch_prep_ignores_raw_strings),
		cmocka_unit_test(test_sketch_prep_ignores_preprocessor_lines),
		cmocka_unit_test(test_sketch_prep_nested_braces),
		cmocka_unit_test(test_sketch_prep_parameters_across_lines),
		cmocka_unit_test(test_sketch_prep_qualifiers_after_parameters),
		cmocka_unit_test(test_sketch_prep_return_types),
		cmocka_unit_test(test_sketch_prep_skips_namespaces_classes_structs),
		cmocka_unit_test(test_sketch_prep_skips_templates),
		cmocka_unit_test(test_sketch_prep_skips_default_arguments),
		cmocka_unit_test(test_sketch_prep_skips_operators),
		cmocka_unit_test(test_sketch_prep_skips_macro_invocations),
		cmocka_unit_test(test_sketch_prep_skips_lambdas_and_initializers),
		cmocka_unit_test(test_sketch_prep_skips_extern_c_blocks),
		cmocka_unit_test(test_sketch_prep_skips_members_defined_outside),
		cmocka_unit_test(test_sketch_prep_digit_separators),
		cmocka_unit_test(test_sketch_prep_line_splices),
		cmocka_unit_test(test_sketch_prep_conditional_branches),
		cmocka_unit_test(test_sketch_prep_whole_sketch_in_one_condition),
		cmocka_unit_test(test_sketch_prep_if0_is_not_code),
		cmocka_unit_test(test_sketch_prep_definition_in_the_middle_of_a_line),
		cmocka_unit_test(test_sketch_prep_no_functions_no_prototypes),
		cmocka_unit_test(test_sketch_prep_crlf_and_byte_order_mark),
		cmocka_unit_test(test_sketch_prep_file_ending_in_backslash),
		cmocka_unit_test(test_sketch_prep_paths_are_quoted),
		cmocka_unit_test(test_sketch_prep_unclosed_brace_is_an_error),
		cmocka_unit_test(test_sketch_prep_extra_closing_brace_is_an_error),
		cmocka_unit_test(test_sketch_prep_unterminated_comment_is_an_error),
		cmocka_unit_test(test_sketch_prep_unterminated_string_is_an_error),
		cmocka_unit_test(test_sketch_prep_error_names_the_right_file),
		cmocka_unit_test(test_sketch_prep_bad_arguments),
		cmocka_unit_test(test_sketch_prep_tutorial_sketch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
