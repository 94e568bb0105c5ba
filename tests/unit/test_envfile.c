/*
 * test_envfile.c: env_file's format (envfile.c): what each line gives, the
 * line and reason of each mistake, a mistake leaving the list as it was;
 * and envfile_read on a missing file (optional or not) and on a FIFO,
 * which it refuses without waiting on it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corrald.h"

/* text parses into exactly the NULL-terminated want. */
static void
parses_to(const char *text, const char *const *want)
{
	struct strv out;
	char why[256];
	unsigned line;
	size_t i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	strv_init(&out);
	if (envfile_parse(text, strlen(text), &out, &line, why,
	    sizeof(why)) != 0)
		fail_msg("'%s': line %u: %s", text, line, why);
	if (out.n != n) {
		for (i = 0; i < out.n; i++)
			print_message("  %s\n", out.v[i]);
		fail_msg("'%s': %zu variables, want %zu", text, out.n, n);
	}
	for (i = 0; i < n; i++)
		assert_string_equal(out.v[i], want[i]);
	strv_free(&out);
}

#define PARSES(text, ...) do {						\
	static const char *const w_[] = { __VA_ARGS__, NULL };		\
	parses_to((text), w_);						\
} while (0)

/* text is refused at line with why; a list given is left as it was. */
static void
refused(const char *text, size_t len, unsigned want_line,
    const char *want_why)
{
	struct strv out;
	char why[256];
	unsigned line;

	strv_init(&out);
	strv_push(&out, "KEPT=1");
	assert_int_equal(envfile_parse(text, len, &out, &line, why,
	    sizeof(why)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(line, want_line);
	assert_string_equal(why, want_why);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0], "KEPT=1");
	assert_null(out.v[1]);
	strv_free(&out);
}

#define REFUSED(text, line, why) refused((text), strlen(text), (line), (why))

static void
test_values(void **state)
{
	PARSES("", NULL);
	PARSES("\n\n  \n# a comment\n; another\n   # indented\n", NULL);
	PARSES("A=1\nB=two words\n", "A=1", "B=two words");
	PARSES("export A=1\nexport\tB = 2\n", "A=1", "B=2");
	/* "export" alone is a key like any other. */
	PARSES("export=1\nexports=2\n", "export=1", "exports=2");
	PARSES("A = spaced  \t\n", "A=spaced");
	PARSES("A=\nB=''\nC=\"\"\n", "A=", "B=", "C=");
	PARSES("A='$HOME \\n \"x\"'\n", "A=$HOME \\n \"x\"");
	PARSES("A=\"q \\\" b \\\\ d \\$ t \\` o \\n\"\n",
	    "A=q \" b \\ d $ t ` o \\n");
	PARSES("A='padded '  \n", "A=padded ");
	PARSES("A=a\\ b\\\\c\\#\n", "A=a b\\c#");
	PARSES("A=x # not a comment ; nor this\n",
	    "A=x # not a comment ; nor this");
	PARSES("A=x=y\n", "A=x=y");
	PARSES("A=1\r\nB=2\r\n", "A=1", "B=2");
	PARSES("\xEF\xBB\xBF" "A=1\n", "A=1");
	PARSES("A=no final newline", "A=no final newline");
	PARSES("_a1=x\n", "_a1=x");
	/* A later line wins, in its place. */
	PARSES("A=1\nB=2\nA=3\n", "A=3", "B=2");
}

static void
test_across_files(void **state)
{
	struct strv out;
	char why[64];
	unsigned line;

	strv_init(&out);
	assert_int_equal(envfile_parse("A=1\nB=1\n", 8, &out, &line, why,
	    sizeof(why)), 0);
	assert_int_equal(envfile_parse("B=2\nC=2\n", 8, &out, &line, why,
	    sizeof(why)), 0);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.v[0], "A=1");
	assert_string_equal(out.v[1], "B=2");
	assert_string_equal(out.v[2], "C=2");
	strv_free(&out);
}

static void
test_mistakes(void **state)
{
	REFUSED("A=1\nnot a line\n", 2, "expected KEY=VALUE (KEY: letters, "
	    "digits, '_', not starting with a digit), found 'not a line'");
	REFUSED("1A=x\n", 1, "expected KEY=VALUE (KEY: letters, digits, '_', "
	    "not starting with a digit), found '1A=x'");
	REFUSED("A-B=x\n", 1, "expected KEY=VALUE (KEY: letters, digits, '_', "
	    "not starting with a digit), found 'A-B=x'");
	REFUSED("=x\n", 1, "expected KEY=VALUE (KEY: letters, digits, '_', "
	    "not starting with a digit), found '=x'");
	REFUSED("export\n", 1, "expected KEY=VALUE (KEY: letters, digits, "
	    "'_', not starting with a digit), found 'export'");
	REFUSED("\n\nCORRAL_AGENT=x\n", 3, "'CORRAL_AGENT': CORRAL_ names are "
	    "reserved (corrald sets them)");
	REFUSED("A='open\nB=1'\n", 1, "unterminated single quote (a value "
	    "ends on its line)");
	REFUSED("A=\"open\n", 1, "unterminated double quote (a value ends on "
	    "its line)");
	REFUSED("A=\"a\"b\n", 1, "text after the closing quote: 'b'");
	REFUSED("A=one \\\n two\n", 1, "a backslash at the end of the line "
	    "(continuation lines are not read)");
	refused("A=1\nB=x\0y\n", 10, 2, "line contains a NUL byte");
}

static void
test_read(void **state)
{
	char dir[] = "/tmp/corral-test-env-XXXXXX", path[64], why[256];
	struct strv out;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp");
	strv_init(&out);
	snprintf(path, sizeof(path), "%s/none.env", dir);
	assert_int_equal(envfile_read(path, true, true, &out, why, sizeof(why)), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(envfile_read(path, false, true, &out, why, sizeof(why)),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_true(strstr(why, "none.env: cannot open: No such file or "
	    "directory") != NULL);

	snprintf(path, sizeof(path), "%s/bad.env", dir);
	f = fopen(path, "w");
	fputs("A=1\n\nB\n", f);
	fclose(f);
	assert_int_equal(envfile_read(path, true, true, &out, why, sizeof(why)), -1);
	assert_true(strstr(why, "bad.env:3: expected KEY=VALUE") != NULL);
	assert_int_equal(out.n, 0);
	unlink(path);

	/*
	 * At a spawn the reason is the run's exit detail, served on /status
	 * and /events: it names the line, never quotes it (a secret).
	 */
	snprintf(path, sizeof(path), "%s/secret.env", dir);
	f = fopen(path, "w");
	fputs("A=1\nDB_PASSWORD: hunter2\nB=\"x\"hunter3\n", f);
	fclose(f);
	assert_int_equal(envfile_read(path, false, false, &out, why,
	    sizeof(why)), -1);
	assert_true(strstr(why, "secret.env:2: expected KEY=VALUE (KEY: "
	    "letters, digits, '_', not starting with a digit)") != NULL);
	assert_null(strstr(why, "hunter2"));
	assert_null(strstr(why, "found"));
	f = fopen(path, "w");
	fputs("B=\"x\"hunter3\n", f);
	fclose(f);
	assert_int_equal(envfile_read(path, false, false, &out, why,
	    sizeof(why)), -1);
	assert_true(strstr(why, "secret.env:1: text after the closing quote")
	    != NULL);
	assert_null(strstr(why, "hunter3"));
	/* --check quotes it, for the operator. */
	assert_int_equal(envfile_read(path, false, true, &out, why,
	    sizeof(why)), -1);
	assert_true(strstr(why, "'hunter3'") != NULL);
	assert_int_equal(out.n, 0);
	unlink(path);

	/* A FIFO would block corrald's loop: refused at once. */
	snprintf(path, sizeof(path), "%s/fifo.env", dir);
	if (mkfifo(path, 0600) == -1)
		fail_msg("mkfifo");
	assert_int_equal(envfile_read(path, false, true, &out, why, sizeof(why)),
	    -1);
	assert_true(strstr(why, "fifo.env: not a regular file") != NULL);
	unlink(path);
	rmdir(dir);
	strv_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_across_files),
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
