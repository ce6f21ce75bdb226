/* robofleet build against a fake Arduino layer: finding a sketch's files, compiling, errors and the cache. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sketch_build.h"

#ifndef TEST_CXX
#define TEST_CXX "c++"
#endif
#ifndef TEST_CC
#define TEST_CC "cc"
#endif
#ifndef TEST_AR
#define TEST_AR "ar"
#endif

extern char **environ;

static char root[256];         /* everything the tests write */
static char conf_path[512];
static char lib_path[512];
static char conf_text[2048];

static char *path_of(const char *rel)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", root, rel);
	return b;
}

static void mkdirs_for(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(tmp, 0777);
			*s = '/';
		}
}

static void write_text(const char *rel, const char *text)
{
	const char *p = path_of(rel);
	FILE *f;

	mkdirs_for(p);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Runs argv; its standard output goes to @out (may be NULL). Returns the exit status. */
static int run_argv(char *const *argv, char *out, size_t out_len)
{
	posix_spawn_file_actions_t fa;
	int fds[2], status;
	size_t n = 0;
	pid_t pid;
	ssize_t got;

	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	assert_int_equal(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	while ((got = read(fds[0], out ? out + n : (char[256]){ 0 }, out ? out_len - 1 - n : 256)) > 0)
		if (out)
			n += (size_t)got;
	close(fds[0]);
	if (out)
		out[n] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "wb");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * The fake layer: an Arduino.h with setup/loop and a library whose main()
 * calls them once, built with the same compilers the real one names.
 */
static int group_setup(void **state)
{
	char obj[512], src[512];

	(void)state;
	snprintf(root, sizeof(root), "%s/robofleet-sketch-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return -1;
	write_text("layer/include/Arduino.h", "#pragma once\n#include <stdio.h>\n"
					      "typedef unsigned char byte;\n"
					      "void setup(void);\nvoid loop(void);\n");
	write_text("layer/fake_main.cpp", "#include <Arduino.h>\n"
					  "int main() { setup(); loop(); return 0; }\n");
	snprintf(src, sizeof(src), "%s", path_of("layer/fake_main.cpp"));
	snprintf(obj, sizeof(obj), "%s", path_of("layer/fake_main.o"));
	snprintf(lib_path, sizeof(lib_path), "%s", path_of("layer/libfake.a"));
	{
		char inc[600];
		char *cc[] = { TEST_CXX, "-c", inc, src, "-o", obj, NULL };
		char *ar[] = { TEST_AR, "rcs", lib_path, obj, NULL };

		snprintf(inc, sizeof(inc), "-I%s", path_of("layer/include"));
		if (run_argv(cc, NULL, 0) || run_argv(ar, NULL, 0))
			return -1;
	}
	snprintf(conf_path, sizeof(conf_path), "%s", path_of("layer/sketch-sdk.conf"));
	snprintf(conf_text, sizeof(conf_text),
		 "# written by the test\n"
		 "cxx=%s\ncc=%s\n"
		 "cxxflags=-std=gnu++17 -O0 -Wall\n"
		 "cflags = -std=gnu11 -O0\n"
		 "includes=%s\n"
		 "libs=%s\n"
		 "ldflags=-lm\n"
		 "future=ignored\n",
		 TEST_CXX, TEST_CC, path_of("layer/include"), lib_path);
	write_conf(conf_text);
	setenv("ROBOFLEET_SKETCH_SDK", conf_path, 1);
	setenv("ROBOFLEET_CACHE_DIR", path_of("cache"), 1);
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A fresh cache and the test's own conf for each test. */
static int each_setup(void **state)
{
	(void)state;
	nftw(path_of("cache"), rm_one, 16, FTW_DEPTH | FTW_PHYS);
	write_conf(conf_text);
	setenv("ROBOFLEET_SKETCH_SDK", conf_path, 1);
	setenv("ROBOFLEET_CACHE_DIR", path_of("cache"), 1);
	return 0;
}

static FILE *messages(void)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	return f;
}

static char *slurp(FILE *f)
{
	static char buf[65536];
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	return buf;
}

static int build(const char *rel, const struct sketch_build_options *o, char *bin, size_t bin_len,
		 char *err, size_t err_len)
{
	return sketch_build(path_of(rel), o, bin, bin_len, err, err_len);
}

static void make_blink(void)
{
	write_text("Blink/Blink.ino", "#include \"util.h\"\n"
				      "extern \"C\" int c_twice(int);\n"
				      "void setup() {\n"
				      "  report(util_value());\n" /* both defined later */
				      "}\n"
				      "void loop() { printf(\"loop %d %d\\n\", c_twice(3), deep()); }\n"
				      "void report(int v) { printf(\"setup %d\\n\", v); }\n");
	write_text("Blink/more.ino", "int deep_helper() { return 5; }\n");
	write_text("Blink/util.h", "int util_value();\nint deep();\n");
	write_text("Blink/util.cpp", "#include \"util.h\"\nint util_value() { return 42; }\n");
	write_text("Blink/twice.c", "int c_twice(int x) { return 2 * x; }\n");
	write_text("Blink/src/deep/lib.cpp", "int deep_helper();\nint deep() { return deep_helper() + 1; }\n");
	write_text("Blink/src/deep/lib.h", "\n");
	write_text("Blink/src/ignored.ino", "this is not C++\n");
	write_text("Blink/.hidden.cpp", "this is not C++\n");
	write_text("Blink/notes.txt", "not a source\n");
}

static void test_sketch_build_folder_sketch_runs(void **state)
{
	char bin[1024], err[512], out[256];
	char *argv[] = { bin, NULL };

	(void)state;
	make_blink();
	if (build("Blink", NULL, bin, sizeof(bin), err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(bin[0] == '/');
	assert_non_null(strstr(bin, "/cache/"));
	assert_string_equal(strrchr(bin, '/'), "/Blink");
	assert_int_equal(access(bin, X_OK), 0);
	assert_int_equal(run_argv(argv, out, sizeof(out)), 0);
	assert_string_equal(out, "setup 42\nloop 6 6\n");
}

static void test_sketch_build_find_folder(void **state)
{
	struct sketch_files f;
	char err[512];

	(void)state;
	make_blink();
	assert_int_equal(sketch_find_files(path_of("Blink"), &f, err, sizeof(err)), 0);
	assert_string_equal(f.name, "Blink");
	assert_string_equal(f.folder, path_of("Blink"));
	assert_int_equal(f.n_ino, 2);
	assert_string_equal(f.ino[0], path_of("Blink/Blink.ino"));
	assert_string_equal(f.ino[1], path_of("Blink/more.ino"));
	assert_int_equal(f.n_sources, 3);
	assert_string_equal(f.sources[0], path_of("Blink/src/deep/lib.cpp"));
	assert_string_equal(f.sources[1], path_of("Blink/twice.c"));
	assert_string_equal(f.sources[2], path_of("Blink/util.cpp"));
	assert_int_equal(f.n_headers, 2);
	assert_string_equal(f.headers[0], path_of("Blink/src/deep/lib.h"));
	assert_string_equal(f.headers[1], path_of("Blink/util.h"));
	sketch_free_files(&f);

	/* A trailing slash and a relative path mean the same folder. */
	assert_int_equal(chdir(root), 0);
	assert_int_equal(sketch_find_files("Blink/", &f, err, sizeof(err)), 0);
	assert_string_equal(f.folder, path_of("Blink"));
	assert_int_equal(f.n_ino, 2);
	sketch_free_files(&f);
}

static void test_sketch_build_find_main_ino_means_its_folder(void **state)
{
	struct sketch_files f;
	char err[512];

	(void)state;
	make_blink();
	assert_int_equal(sketch_find_files(path_of("Blink/Blink.ino"), &f, err, sizeof(err)), 0);
	assert_string_equal(f.name, "Blink");
	assert_int_equal(f.n_ino, 2);
	assert_int_equal(f.n_sources, 3);
	sketch_free_files(&f);
}

static void test_sketch_build_find_lone_ino(void **state)
{
	struct sketch_files f;
	char err[512];

	(void)state;
	write_text("misc/tool.ino", "void setup() {}\nvoid loop() {}\n");
	write_text("misc/other.ino", "broken {\n");
	write_text("misc/helper.cpp", "broken {\n");
	assert_int_equal(sketch_find_files(path_of("misc/tool.ino"), &f, err, sizeof(err)), 0);
	assert_string_equal(f.name, "tool");
	assert_string_equal(f.folder, path_of("misc"));
	assert_int_equal(f.n_ino, 1);
	assert_string_equal(f.ino[0], path_of("misc/tool.ino"));
	assert_int_equal(f.n_sources, 0);
	assert_int_equal(f.n_headers, 0);
	sketch_free_files(&f);
}

static void test_sketch_build_find_errors(void **state)
{
	struct sketch_files f;
	char err[512], want[1024];

	(void)state;
	write_text("NoMain/other.ino", "void setup() {}\n");
	assert_int_equal(sketch_find_files(path_of("NoMain"), &f, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "it has no %s", path_of("NoMain/NoMain.ino"));
	assert_non_null(strstr(err, want));
	sketch_free_files(&f);

	assert_int_equal(sketch_find_files(path_of("nowhere.ino"), &f, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path_of("nowhere.ino")));
	assert_non_null(strstr(err, "No such file"));
	sketch_free_files(&f);

	write_text("misc/readme.txt", "hello\n");
	assert_int_equal(sketch_find_files(path_of("misc/readme.txt"), &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not a sketch"));
	sketch_free_files(&f);

	assert_int_equal(sketch_find_files("", &f, err, sizeof(err)), -EINVAL);
	sketch_free_files(&f);

	/* The whole build says the same. */
	assert_int_equal(build("NoMain", NULL, want, sizeof(want), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "NoMain.ino"));
	assert_string_equal(want, "");
}

static void test_sketch_build_cache_hit_does_not_compile(void **state)
{
	struct sketch_build_options o = { .verbose = true };
	char bin[1024], again[1024], err[512];
	struct stat st1, st2;

	(void)state;
	write_text("lone/hit.ino", "void setup() { puts(\"hit\"); }\nvoid loop() {}\n");
	o.messages = messages();
	if (build("lone/hit.ino", &o, bin, sizeof(bin), err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(strstr(slurp(o.messages), TEST_CXX)); /* verbose: the commands */
	assert_int_equal(stat(bin, &st1), 0);
	fclose(o.messages);

	o.messages = messages();
	assert_int_equal(build("lone/hit.ino", &o, again, sizeof(again), err, sizeof(err)), 0);
	assert_string_equal(again, bin);
	assert_string_equal(slurp(o.messages), ""); /* nothing was run */
	assert_int_equal(stat(again, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	fclose(o.messages);

	/* --force builds again, into the same place. */
	o.force = true;
	o.messages = messages();
	assert_int_equal(build("lone/hit.ino", &o, again, sizeof(again), err, sizeof(err)), 0);
	assert_string_equal(again, bin);
	assert_non_null(strstr(slurp(o.messages), TEST_CXX));
	assert_int_equal(stat(again, &st2), 0);
	assert_int_not_equal(st1.st_ino, st2.st_ino);
	fclose(o.messages);

	/* Nothing of the builds is left behind but the entry. */
	{
		char cmd_out[1024];
		char *ls[] = { "ls", "-A", path_of("cache"), NULL };

		assert_int_equal(run_argv(ls, cmd_out, sizeof(cmd_out)), 0);
		assert_int_equal(strcspn(cmd_out, "\n") + 1, strlen(cmd_out)); /* one line */
		assert_true(cmd_out[0] != '.');
	}
}

static void test_sketch_build_key_follows_content(void **state)
{
	char a[1024], b[1024], c[1024], d[1024], e[1024], err[512], conf2[2200];
	struct timespec times[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };

	(void)state;
	write_text("lone/key.ino", "void setup() {}\nvoid loop() {}\n");
	assert_int_equal(build("lone/key.ino", NULL, a, sizeof(a), err, sizeof(err)), 0);

	write_text("lone/key.ino", "void setup() {}\nvoid loop() { }\n");
	assert_int_equal(build("lone/key.ino", NULL, b, sizeof(b), err, sizeof(err)), 0);
	assert_string_not_equal(a, b);

	/* The layer rebuilt: its library has another mtime. */
	assert_int_equal(utimensat(AT_FDCWD, lib_path, times, 0), 0);
	assert_int_equal(build("lone/key.ino", NULL, c, sizeof(c), err, sizeof(err)), 0);
	assert_string_not_equal(b, c);

	/* Another conf. */
	snprintf(conf2, sizeof(conf2), "%sdefines=none\n", conf_text);
	write_conf(conf2);
	assert_int_equal(build("lone/key.ino", NULL, d, sizeof(d), err, sizeof(err)), 0);
	assert_string_not_equal(c, d);

	/* The same sketch elsewhere is the same content. */
	write_text("elsewhere/key.ino", "void setup() {}\nvoid loop() { }\n");
	assert_int_equal(build("elsewhere/key.ino", NULL, e, sizeof(e), err, sizeof(err)), 0);
	assert_string_equal(d, e);
}

static void test_sketch_build_compile_error_names_the_sketch_line(void **state)
{
	struct sketch_build_options o = { 0 };
	char bin[1024], err[512], want[1024];
	const char *msgs;

	(void)state;
	write_text("Broken/Broken.ino", "void setup() {\n  later();\n}\nvoid loop() {}\n");
	write_text("Broken/second.ino", "// fine so far\n"
					"void later() {\n"
					"  int x = not_declared_anywhere;\n"
					"}\n");
	o.messages = messages();
	assert_int_equal(build("Broken", &o, bin, sizeof(bin), err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "sketch %s does not compile (see the compiler's messages above)",
		 path_of("Broken"));
	assert_string_equal(err, want);
	msgs = slurp(o.messages);
	snprintf(want, sizeof(want), "%s:3:", path_of("Broken/second.ino"));
	if (!strstr(msgs, want))
		fail_msg("no %s in:\n%s", want, msgs);
	assert_non_null(strstr(msgs, "not_declared_anywhere"));
	/* later() was used before its definition: that alone is no error. */
	assert_null(strstr(msgs, "'later' was not declared"));
	assert_null(strstr(msgs, "\xe2\x80\x98later\xe2\x80\x99 was not declared"));
	fclose(o.messages);

	/* Nothing was cached, no build directory is left. */
	{
		char out[256];
		char *ls[] = { "ls", "-A", path_of("cache"), NULL };

		assert_int_equal(run_argv(ls, out, sizeof(out)), 0);
		assert_string_equal(out, "");
	}
}

static void test_sketch_build_unbalanced_sketch(void **state)
{
	char bin[1024], err[512], want[1024];

	(void)state;
	write_text("lone/open.ino", "void setup() {\n}\nvoid loop() {\n  if (1) {\n}\n");
	assert_int_equal(build("lone/open.ino", NULL, bin, sizeof(bin), err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: '{' is never closed", path_of("lone/open.ino"));
	assert_string_equal(err, want);
}

static void test_sketch_build_link_error(void **state)
{
	struct sketch_build_options o = { 0 };
	char bin[1024], err[512];

	(void)state;
	write_text("lone/nolink.ino", "void missing_everywhere();\n"
				      "void setup() { missing_everywhere(); }\nvoid loop() {}\n");
	o.messages = messages();
	assert_int_equal(build("lone/nolink.ino", &o, bin, sizeof(bin), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not link"));
	assert_non_null(strstr(slurp(o.messages), "missing_everywhere"));
	fclose(o.messages);
}

static void test_sketch_build_layer_not_built(void **state)
{
	char bin[1024], err[512], want[1024], conf[2200];
	const char *libs;

	(void)state;
	write_text("lone/layer.ino", "void setup() {}\nvoid loop() {}\n");
	setenv("ROBOFLEET_SKETCH_SDK", path_of("no/such/sketch-sdk.conf"), 1);
	assert_int_equal(build("lone/layer.ino", NULL, bin, sizeof(bin), err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "the Arduino layer is not built: %s", path_of("no/such/sketch-sdk.conf"));
	assert_non_null(strstr(err, want));
	setenv("ROBOFLEET_SKETCH_SDK", conf_path, 1);

	/* A key missing. */
	libs = strstr(conf_text, "libs=");
	snprintf(conf, sizeof(conf), "%.*s%s", (int)(libs - conf_text), conf_text, strchr(libs, '\n') + 1);
	write_conf(conf);
	assert_int_equal(build("lone/layer.ino", NULL, bin, sizeof(bin), err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "the Arduino layer is not built: %s (it has no 'libs' value)", conf_path);
	assert_string_equal(err, want);

	/* A library it names is not there. */
	snprintf(conf, sizeof(conf), "%s\nlibs=%s\n", conf_text, path_of("layer/libgone.a"));
	write_conf(conf);
	assert_int_equal(build("lone/layer.ino", NULL, bin, sizeof(bin), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "the Arduino layer is not built"));
	assert_non_null(strstr(err, "libgone.a"));

	/* A compiler that is not there. */
	snprintf(conf, sizeof(conf), "%s\ncxx=%s\n", conf_text, path_of("no/c++"));
	write_conf(conf);
	assert_int_equal(build("lone/layer.ino", NULL, bin, sizeof(bin), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot run"));
	assert_non_null(strstr(err, path_of("no/c++")));
}

static void test_sketch_build_output_copy(void **state)
{
	struct sketch_build_options o = { .output = NULL };
	char bin[1024], err[512], out[64];
	char *argv[] = { NULL, NULL };
	struct stat a, b;

	(void)state;
	write_text("lone/copy.ino", "void setup() { puts(\"copied\"); }\nvoid loop() {}\n");
	o.output = path_of("copy-of-binary");
	assert_int_equal(build("lone/copy.ino", &o, bin, sizeof(bin), err, sizeof(err)), 0);
	assert_int_equal(stat(bin, &a), 0);
	assert_int_equal(stat(o.output, &b), 0);
	assert_int_equal(a.st_size, b.st_size);
	assert_int_equal(access(o.output, X_OK), 0);
	argv[0] = (char *)o.output;
	assert_int_equal(run_argv(argv, out, sizeof(out)), 0);
	assert_string_equal(out, "copied\n");

	/* Into a folder that does not exist: an error naming it. */
	o.output = path_of("no/such/dir/bin");
	assert_int_equal(build("lone/copy.ino", &o, bin, sizeof(bin), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, o.output));
}

static void test_sketch_build_cache_location(void **state)
{
	char dir[512], *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	(void)state;
	setenv("ROBOFLEET_CACHE_DIR", "/x/cache", 1);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(sketch_build_locate_cache(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/x/cache");
	unsetenv("ROBOFLEET_CACHE_DIR");
	assert_int_equal(sketch_build_locate_cache(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/xdg/robofleet/sketches");
	setenv("XDG_CACHE_HOME", "", 1);
	assert_int_equal(sketch_build_locate_cache(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/home/u/.cache/robofleet/sketches");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(sketch_build_locate_cache(dir, sizeof(dir)), -ENOENT);
	assert_int_equal(sketch_build_locate_cache(dir, 4), -ENOENT);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(sketch_build_locate_cache(dir, 4), -ENAMETOOLONG);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	free(saved_home);
}

/* Builds of the same sketch at once: each gets a whole binary that runs. */
static void test_sketch_build_concurrent_builds(void **state)
{
	pid_t kids[3];

	(void)state;
	write_text("lone/race.ino", "void setup() { puts(\"raced\"); }\nvoid loop() {}\n");
	for (int i = 0; i < 3; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			struct sketch_build_options o = { .force = true };
			char bin[1024], err[512], out[64];
			char *argv[] = { bin, NULL };

			o.messages = fopen("/dev/null", "w");
			if (sketch_build(path_of("lone/race.ino"), &o, bin, sizeof(bin), err, sizeof(err)))
				_exit(1);
			_exit(run_argv(argv, out, sizeof(out)) || strcmp(out, "raced\n") ? 2 : 0);
		}
	}
	for (int i = 0; i < 3; i++) {
		int status;

		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sketch_build_folder_sketch_runs, each_setup),
		cmocka_unit_test_setup(test_sketch_build_find_folder, each_setup),
		cmocka_unit_test_setup(test_sketch_build_find_main_ino_means_its_folder, each_setup),
		cmocka_unit_test_setup(test_sketch_build_find_lone_ino, each_setup),
		cmocka_unit_test_setup(test_sketch_build_find_errors, each_setup),
		cmocka_unit_test_setup(test_sketch_build_cache_hit_does_not_compile, each_setup),
		cmocka_unit_test_setup(test_sketch_build_key_follows_content, each_setup),
		cmocka_unit_test_setup(test_sketch_build_compile_error_names_the_sketch_line, each_setup),
		cmocka_unit_test_setup(test_sketch_build_unbalanced_sketch, each_setup),
		cmocka_unit_test_setup(test_sketch_build_link_error, each_setup),
		cmocka_unit_test_setup(test_sketch_build_layer_not_built, each_setup),
		cmocka_unit_test_setup(test_sketch_build_output_copy, each_setup),
		cmocka_unit_test_setup(test_sketch_build_cache_location, each_setup),
		cmocka_unit_test_setup(test_sketch_build_concurrent_builds, each_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
